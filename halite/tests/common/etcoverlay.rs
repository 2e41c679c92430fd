//! A sandbox for states that write the host's `/etc` (sysctl, users, groups): every
//! `salt-call` runs in a private mount namespace (and, when asked, a fresh network namespace)
//! where an overlay covers `/etc`, so writes land in the test's upper dir and the host's
//! `/etc` never changes. A minion config and a state tree live in the same temp dir.

use crate::compare::{assert_same_states, normalized};
use serde_json::Value as Json;
use std::path::Path;
use std::process::{Command, Stdio};

/// Are we root (namespaces and mounts need it)?
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// One sandbox: a temp dir with `etc/minion`, `srv/`, the overlay's `upper/`.
pub struct EtcSandbox {
    /// The temp dir.
    pub work: tempfile::TempDir,
    /// Also unshare the network namespace.
    pub netns: bool,
    /// Shell run inside the namespaces before the runs (after the overlay is mounted).
    pub before: String,
    /// Shell run inside the namespaces after the runs (e.g. to copy out private files).
    pub after: String,
}

impl EtcSandbox {
    /// A sandbox with these SLS files (`{work}` in them becomes the temp dir's path).
    pub fn new(prefix: &str, sls: &[(&str, &str)], netns: bool) -> EtcSandbox {
        let work = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .expect("tempdir");
        let w = work.path();
        for d in ["etc", "srv", "pillar", "upper", "ovl-work"] {
            std::fs::create_dir_all(w.join(d)).expect("dir");
        }
        for (name, text) in sls {
            std::fs::write(
                w.join(format!("srv/{name}.sls")),
                text.replace("{work}", &w.display().to_string()),
            )
            .expect("sls");
        }
        std::fs::write(
            w.join("etc/minion"),
            format!(
                "id: node1\nroot_dir: {w}\nfile_client: local\nfile_roots: {{base: [{w}/srv]}}\npillar_roots: {{base: [{w}/pillar]}}\nlog_level: quiet\nenable_fqdns_grains: false\n",
                w = w.display()
            ),
        )
        .expect("config");
        EtcSandbox {
            work,
            netns,
            before: String::new(),
            after: String::new(),
        }
    }

    /// The temp dir.
    pub fn path(&self) -> &Path {
        self.work.path()
    }

    /// Apply each `(sls, extra args)` in turn, all in one set of namespaces; each run's exit
    /// code and JSON output (timings removed, the temp dir written as `WORK`).
    pub fn runs(&self, bin: &Path, runs: &[(&str, &[&str])]) -> Vec<(i32, Json)> {
        let w = self.work.path();
        let mut script = String::from(
            "mount -n -t overlay overlay -o \"lowerdir=/etc,upperdir=$W/upper,workdir=$W/ovl-work\" /etc || exit 1; ",
        );
        if !self.before.is_empty() {
            script.push_str(&self.before);
            script.push_str("; ");
        }
        for (i, (sls, extra)) in runs.iter().enumerate() {
            script.push_str(&format!(
                "\"$BIN\" --local -c \"$W/etc\" --out=json state.apply {sls} {} > \"$W/out{i}.json\"; echo $? > \"$W/rc{i}\"; ",
                extra.join(" ")
            ));
        }
        script.push_str(if self.after.is_empty() {
            "true"
        } else {
            &self.after
        });
        let mut args = vec!["-m"];
        if self.netns {
            args.push("-n");
        }
        args.extend(["--propagation", "private", "sh", "-c", &script]);
        let status = Command::new("unshare")
            .args(&args)
            .env("W", w)
            .env("BIN", bin)
            .stdin(Stdio::null())
            .status()
            .expect("unshare");
        assert!(status.success(), "sandbox failed");
        (0..runs.len())
            .map(|i| {
                let rc: i32 = std::fs::read_to_string(w.join(format!("rc{i}")))
                    .expect("rc")
                    .trim()
                    .parse()
                    .expect("rc number");
                let text = std::fs::read_to_string(w.join(format!("out{i}.json")))
                    .expect("out")
                    .replace(&w.display().to_string(), "WORK");
                let v = normalized(&text);
                (rc, v)
            })
            .collect()
    }

    /// A file of the sandbox (relative to the temp dir), `""` when absent.
    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.work.path().join(name)).unwrap_or_default()
    }
}

/// Compare two series of runs: returns equal (maps without regard to order), state order
/// equal, exit codes equal.
pub fn assert_same_runs(runs: &[(&str, &[&str])], got: &[(i32, Json)], want: &[(i32, Json)]) {
    for (i, ((rc, g), (salt_rc, w))) in got.iter().zip(want).enumerate() {
        let step = format!("run {} {:?}", i + 1, runs[i]);
        assert_same_states(&step, g, w);
        assert_eq!(rc, salt_rc, "{step}: exit code differs");
    }
}
