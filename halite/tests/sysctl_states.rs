//! `sysctl.present` on a real kernel, Halite beside real Salt 3008.5.
//!
//! Each run happens in a new network namespace (`unshare -n`: its `net.*` sysctls are its
//! own, fresh at kernel defaults) and a private mount namespace where an overlay covers the
//! host's `/etc` (writes land in the test's upper dir), so Salt's default config files can be
//! written, atomically or not, without touching the host. Both tools start from the same scratch
//! config; the returns (minus timings), exit codes and resulting config files must be
//! identical. Skips (and says so) without root; without real Salt only Halite runs.

use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn salt_call() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var("SALT_VENV").unwrap_or_else(|_| "/opt/salt-venv".into()))
        .join("bin/salt-call");
    p.is_file().then_some(p)
}

const SLS: &str = "forward:\n  sysctl.present:\n    - name: net.ipv4.ip_forward\n    - value: 1\nttl:\n  sysctl.present:\n    - name: net.ipv4.ip_default_ttl\n    - value: 99\n    - config: {work}/custom.conf\nrange:\n  sysctl.present:\n    - name: net.ipv4.ip_local_port_range\n    - value: 30000 40000\nunknown:\n  sysctl.present:\n    - name: net.ipv4.halite_no_such_key\n    - value: 1\nafter:\n  test.succeed_without_changes:\n    - name: unharmed\n";

struct Side {
    work: tempfile::TempDir,
}

impl Side {
    fn new() -> Side {
        let work = tempfile::Builder::new()
            .prefix("hsysctl.")
            .tempdir()
            .expect("tempdir");
        let w = work.path();
        for d in ["etc", "srv", "pillar", "upper", "ovl-work"] {
            std::fs::create_dir_all(w.join(d)).expect("dir");
        }
        std::fs::write(w.join("custom.conf"), "net.ipv4.ip_default_ttl = 64\n").expect("conf");
        std::fs::write(
            w.join("srv/sc.sls"),
            SLS.replace("{work}", &w.display().to_string()),
        )
        .expect("sls");
        std::fs::write(
            w.join("etc/minion"),
            format!(
                "id: node1\nroot_dir: {w}\nfile_client: local\nfile_roots: {{base: [{w}/srv]}}\npillar_roots: {{base: [{w}/pillar]}}\nlog_level: quiet\nenable_fqdns_grains: false\n",
                w = w.display()
            ),
        )
        .expect("config");
        Side { work }
    }

    /// Apply the SLS (with `extra` arguments) several times in one fresh network namespace.
    fn runs(&self, bin: &Path, runs: &[&[&str]]) -> Vec<(i32, Json)> {
        let w = self.work.path();
        let cfg = w.join("etc");
        let mut script = String::from(
            "mount -n -t overlay overlay -o \"lowerdir=/etc,upperdir=$W/upper,workdir=$W/ovl-work\" /etc || exit 1; ",
        );
        for (i, extra) in runs.iter().enumerate() {
            script.push_str(&format!(
                "\"$BIN\" --local -c \"$CFG\" --out=json state.apply sc {} > \"$W/out{i}.json\"; echo $? > \"$W/rc{i}\"; ",
                extra.join(" ")
            ));
        }
        let status = Command::new("unshare")
            .args(["-m", "-n", "--propagation", "private", "sh", "-c", &script])
            .env("W", w)
            .env("BIN", bin)
            .env("CFG", &cfg)
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
                let mut v: Json = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"));
                if let Some(states) = v.get_mut("local").and_then(Json::as_object_mut) {
                    for ret in states.values_mut() {
                        if let Some(r) = ret.as_object_mut() {
                            r.remove("start_time");
                            r.remove("duration");
                        }
                    }
                }
                (rc, v)
            })
            .collect()
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.work.path().join(name)).unwrap_or_default()
    }
}

#[test]
fn sysctl_present_matches_real_salt_in_a_network_namespace() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: not root (network and mount namespaces need it)");
        return;
    }
    let runs: &[&[&str]] = &[&["test=True"], &[], &[], &["test=True"]];
    let ours = Side::new();
    let halite = PathBuf::from(env!("CARGO_BIN_EXE_salt-call"));
    let got = ours.runs(&halite, runs);
    for (i, (_, v)) in got.iter().enumerate() {
        assert!(
            v.get("local").is_some_and(Json::is_object),
            "run {i}: Halite gave no state returns: {v}"
        );
    }
    let forward = &got[1].1["local"]["sysctl_|-forward_|-net.ipv4.ip_forward_|-present"];
    assert_eq!(forward["result"], Json::Bool(true), "{forward}");
    let persisted = ours.file("upper/sysctl.conf") + &ours.file("upper/sysctl.d/99-salt.conf");
    assert!(
        persisted.contains("net.ipv4.ip_forward = 1"),
        "persisted: {persisted}"
    );
    let Some(salt) = salt_call() else {
        eprintln!("real Salt is not installed at /opt/salt-venv: no comparison");
        return;
    };
    let theirs = Side::new();
    let want = theirs.runs(&salt, runs);
    for (i, ((rc, g), (salt_rc, w))) in got.iter().zip(&want).enumerate() {
        assert!(
            g == w,
            "run {} {:?}: Halite's return differs from Salt's\nHalite: {}\nSalt:   {}",
            i + 1,
            runs[i],
            serde_json::to_string_pretty(g).expect("json"),
            serde_json::to_string_pretty(w).expect("json")
        );
        assert_eq!(rc, salt_rc, "run {}: exit code differs", i + 1);
    }
    for f in [
        "upper/sysctl.conf",
        "upper/sysctl.d/99-salt.conf",
        "custom.conf",
    ] {
        assert_eq!(ours.file(f), theirs.file(f), "{f} differs");
    }
    eprintln!("{} runs compared with real Salt", runs.len());
}
