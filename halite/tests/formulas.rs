//! Public Salt formulas (saltstack-formulas: sysctl, timezone, users, ntp) rendered with
//! `state.show_sls` and their own `pillar.example`, by real Salt 3008.5 and by Halite: the
//! outputs and exit codes must be identical.
//!
//! The formulas come from mirrors fetched outside the project (default `/work/.mirror`,
//! override with `HALITE_FORMULA_MIRROR`) and are extracted with `git archive` into a temp
//! dir at test time; nothing of them is committed. Real Salt comes from
//! `/opt/salt-venv` (`../shared/salt-reference/install.sh`). When either is missing the test
//! says so and passes without comparing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const FORMULAS: &[(&str, &str)] = &[
    ("sysctl", "sysctl"),
    ("timezone", "timezone"),
    ("users", "users"),
    ("ntp", "ntp"),
];

fn mirror_of(name: &str) -> Option<PathBuf> {
    let base = std::env::var("HALITE_FORMULA_MIRROR").unwrap_or_else(|_| "/work/.mirror".into());
    let repo = Path::new(&base).join(format!("saltstack-formulas+{name}-formula/repo"));
    repo.is_dir().then_some(repo)
}

fn salt_call() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var("SALT_VENV").unwrap_or_else(|_| "/opt/salt-venv".into()))
        .join("bin/salt-call");
    p.is_file().then_some(p)
}

fn extract(repo: &Path, dest: &Path) {
    let mut archive = Command::new("git")
        .arg(format!("--git-dir={}", repo.display()))
        .args(["archive", "HEAD"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("git archive");
    let tar_in = archive.stdout.take().expect("archive stdout");
    let status = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dest)
        .stdin(tar_in)
        .status()
        .expect("tar");
    let git_status = archive.wait().expect("git archive exit");
    assert!(
        status.success() && git_status.success(),
        "extracting {}",
        repo.display()
    );
}

fn run(bin: &Path, root: &Path, sls: &str) -> (i32, String) {
    let out = Command::new(bin)
        .arg("-c")
        .arg(root.join("etc/salt"))
        .args(["--local", "--out=json", "state.show_sls", sls])
        .current_dir(root.join("work"))
        .env("HOME", root)
        .stdin(Stdio::null())
        .output()
        .expect("run salt-call");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn formulas_render_exactly_as_salt_renders_them() {
    let Some(salt) = salt_call() else {
        eprintln!("SKIPPED: real Salt is not installed at /opt/salt-venv (run ../shared/salt-reference/install.sh)");
        return;
    };
    let halite = PathBuf::from(env!("CARGO_BIN_EXE_salt-call"));
    let mut compared = 0;
    for (name, sls) in FORMULAS {
        let Some(repo) = mirror_of(name) else {
            eprintln!("SKIPPED {name}: no mirror of saltstack-formulas/{name}-formula");
            continue;
        };
        let tmp = tempfile::Builder::new()
            .prefix("hform.")
            .tempdir()
            .expect("tempdir");
        let root = tmp.path();
        for d in ["etc/salt", "srv/salt", "srv/pillar", "work"] {
            std::fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        extract(&repo, &root.join("srv/salt"));
        std::fs::copy(
            root.join("srv/salt/pillar.example"),
            root.join("srv/pillar/example.sls"),
        )
        .expect("pillar.example");
        std::fs::write(
            root.join("srv/pillar/top.sls"),
            "base:\n  '*':\n    - example\n",
        )
        .expect("top");
        let cfg = format!(
            "id: node1\nroot_dir: {r}\nfile_client: local\nfile_roots: {{base: [{r}/srv/salt]}}\npillar_roots: {{base: [{r}/srv/pillar]}}\nlog_level: quiet\nenable_fqdns_grains: false\n",
            r = root.display()
        );
        std::fs::write(root.join("etc/salt/minion"), cfg).expect("config");
        let (salt_rc, salt_out) = run(&salt, root, sls);
        let (halite_rc, halite_out) = run(&halite, root, sls);
        assert_eq!(halite_rc, salt_rc, "{name}: exit code differs");
        if halite_out != salt_out {
            let diff: Vec<String> = salt_out
                .lines()
                .zip(halite_out.lines())
                .enumerate()
                .filter(|(_, (a, b))| a != b)
                .take(5)
                .map(|(i, (a, b))| format!("line {}: salt {a:?} halite {b:?}", i + 1))
                .collect();
            panic!(
                "{name}: state.show_sls differs from Salt's:\n{}",
                diff.join("\n")
            );
        }
        compared += 1;
        eprintln!(
            "{name}: identical to Salt ({} bytes, rc {salt_rc})",
            salt_out.len()
        );
    }
    eprintln!("{compared} formulas compared with real Salt");
}
