//! Bad input end to end: the real `salt-call` binary on a temp root, as the conformance
//! runner lays it out. Each kind of error must print Salt's message (with file and line where
//! Salt gives them), exit with Salt's code, and change nothing on disk.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    fn new(files: &[(&str, &str)]) -> Root {
        let dir = tempfile::Builder::new()
            .prefix("halite-bad.")
            .tempdir()
            .expect("temp dir");
        let r = dir.path();
        for d in ["etc/salt", "srv/salt", "srv/pillar", "work", "home", "tmp"] {
            std::fs::create_dir_all(r.join(d)).expect("mkdir");
        }
        let cfg = format!(
            "id: node1\nroot_dir: {r}\nfile_client: local\nfile_roots: {{base: [{r}/srv/salt]}}\npillar_roots: {{base: [{r}/srv/pillar]}}\nlog_level: quiet\n",
            r = r.display()
        );
        std::fs::write(r.join("etc/salt/minion"), cfg).expect("config");
        for (name, text) in files {
            let text = text.replace("@ROOT@", &r.display().to_string());
            std::fs::write(r.join("srv/salt").join(name), text).expect("sls");
        }
        Root { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn work(&self, name: &str) -> PathBuf {
        self.path().join("work").join(name)
    }

    /// Run salt-call with `--out=json`; (exit code, stdout, stderr).
    fn call(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_salt-call"))
            .arg("-c")
            .arg(self.path().join("etc/salt"))
            .args(["--local", "--retcode-passthrough", "--out=json"])
            .args(args)
            .current_dir(self.path().join("work"))
            .env("HOME", self.path().join("home"))
            .output()
            .expect("run salt-call");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

const WRITER: &str =
    "written:\n  file.managed:\n    - name: @ROOT@/work/out.txt\n    - contents: data\n";

#[test]
fn broken_yaml_names_line_and_column_and_writes_nothing() {
    let sls = format!("{WRITER}\nbroken:\n  test.nop:\n    - text: [unclosed\n");
    let root = Root::new(&[("bad.sls", &sls)]);
    let (rc, out, _) = root.call(&["state.apply", "bad"]);
    assert_eq!(rc, 1, "{out}");
    assert!(
        out.contains("Rendering SLS 'base:bad' failed: while parsing a flow sequence"),
        "{out}"
    );
    assert!(out.contains("line 8, column 13"), "{out}");
    assert!(
        !root.work("out.txt").exists(),
        "a broken SLS must not run any state"
    );
}

#[test]
fn undefined_jinja_variable_names_the_line_and_writes_nothing() {
    let sls = format!("{WRITER}\nuses:\n  test.show_notification:\n    - text: {{{{ nope }}}}\n");
    let root = Root::new(&[("undef.sls", &sls)]);
    let (rc, out, _) = root.call(&["state.apply", "undef"]);
    assert_eq!(rc, 1, "{out}");
    assert!(
        out.contains("Jinja variable 'nope' is undefined; line 8"),
        "{out}"
    );
    assert!(out.contains("<======================"), "{out}");
    assert!(!root.work("out.txt").exists());
}

#[test]
fn unknown_state_function_fails_that_state_and_blocks_its_dependents() {
    let sls = "ghost:\n  test.no_such_function\n\nwritten:\n  file.managed:\n    - name: @ROOT@/work/out.txt\n    - contents: data\n    - require:\n      - test: ghost\n";
    let root = Root::new(&[("unknown.sls", sls)]);
    let (rc, out, _) = root.call(&["state.apply", "unknown"]);
    assert_eq!(rc, 2, "{out}");
    assert!(
        out.contains("State 'test.no_such_function' was not found in SLS 'unknown'\\nReason: 'test.no_such_function' is not available."),
        "{out}"
    );
    assert!(
        out.contains("One or more requisite failed: unknown.ghost"),
        "{out}"
    );
    assert!(!root.work("out.txt").exists());
}

#[test]
fn missing_sls_is_a_compile_error_and_nothing_runs() {
    let root = Root::new(&[("present.sls", WRITER)]);
    let (rc, out, _) = root.call(&["state.apply", "present,missing"]);
    assert_eq!(rc, 1, "{out}");
    assert!(
        out.contains("No matching sls found for 'missing' in env 'base'"),
        "{out}"
    );
    assert!(!root.work("out.txt").exists());
}

#[test]
fn unknown_execution_function_goes_to_stderr_with_255() {
    let root = Root::new(&[]);
    let (rc, out, err) = root.call(&["test.no_such_function"]);
    assert_eq!(rc, 255);
    assert_eq!(out, "");
    assert_eq!(err, "'test.no_such_function' is not available.\n");
}

#[test]
fn broken_config_is_reported_with_its_path() {
    let root = Root::new(&[]);
    std::fs::write(root.path().join("etc/salt/minion"), "id: [unclosed\n").expect("write");
    let (rc, _, err) = root.call(&["test.ping"]);
    assert_eq!(rc, 1);
    assert!(err.contains("etc/salt/minion"), "{err}");
    assert!(err.contains("line 2, column 1"), "{err}");
}
