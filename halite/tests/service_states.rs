//! `service.*` states on a real systemd, Halite beside real Salt 3008.5.
//!
//! Two private systemds (`../shared/recipes/systemd-ns.sh`: PID 1 of their own pid, mount,
//! uts, ipc and cgroup namespaces, their own `/etc/systemd/system`, `/run` and D-Bus system
//! bus), one for Salt and one for Halite, get the same unit files and the same set-up. Each
//! scenario's SLS is then applied inside each (test=True first, then for real, then again):
//! the state returns (minus timings), the exit codes and the units' `ActiveState` /
//! `UnitFileState` afterwards must be identical. Units are per scenario (`s<N>-...`).
//!
//! Where systemd cannot start on the machine, the test says so and skips; without real Salt
//! (`/opt/salt-venv`), Halite's runs are checked against systemd's own view only.

#[path = "common/compare.rs"]
mod compare;
#[path = "common/systemdns.rs"]
mod systemdns;

use compare::{assert_same_states, normalized, salt_call};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use systemdns::PrivateSystemd;

/// One scenario: unit files, systemctl set-up commands, an SLS, and the runs.
struct Scenario {
    name: &'static str,
    units: &'static [(&'static str, &'static str)],
    setup: &'static [&'static [&'static str]],
    sls: &'static str,
    runs: &'static [&'static [&'static str]],
    check: &'static [&'static str],
}

const SIMPLE: &str = "[Unit]\nDescription=demo\n[Service]\nExecStart=/bin/sleep infinity\nExecReload=/bin/true\n[Install]\nWantedBy=multi-user.target\n";
const STATIC: &str = "[Unit]\nDescription=static\n[Service]\nExecStart=/bin/sleep infinity\n";
const ONESHOT: &str = "[Unit]\nDescription=once\n[Service]\nType=oneshot\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n";
const FAILING: &str = "[Unit]\nDescription=failer\n[Service]\nType=oneshot\nExecStart=/bin/false\n[Install]\nWantedBy=multi-user.target\n";
const TEST_THEN_REAL: &[&[&str]] = &[&["test=True"], &[], &[]];

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "s1",
        units: &[("s1-demo.service", SIMPLE)],
        setup: &[],
        sls: "demo:\n  service.running:\n    - name: s1-demo\n    - enable: True\n",
        runs: TEST_THEN_REAL,
        check: &["s1-demo.service"],
    },
    Scenario {
        name: "s2",
        units: &[("s2-demo.service", SIMPLE)],
        setup: &[&["enable", "--now", "s2-demo.service"]],
        sls: "demo:\n  service.dead:\n    - name: s2-demo\n    - enable: False\n",
        runs: TEST_THEN_REAL,
        check: &["s2-demo.service"],
    },
    Scenario {
        name: "s3",
        units: &[("s3-a.service", SIMPLE), ("s3-static.service", STATIC)],
        setup: &[&["enable", "s3-a.service"]],
        sls: "en:\n  service.enabled:\n    - name: s3-static\ndis:\n  service.disabled:\n    - name: s3-a\nstatic_off:\n  service.disabled:\n    - name: s3-static\n",
        runs: TEST_THEN_REAL,
        check: &["s3-a.service", "s3-static.service"],
    },
    Scenario {
        name: "s4",
        units: &[("s4-demo.service", SIMPLE)],
        setup: &[],
        sls: "mask:\n  service.masked:\n    - name: s4-demo\nrtmask:\n  service.masked:\n    - name: s4-demo\n    - runtime: True\n",
        runs: TEST_THEN_REAL,
        check: &["s4-demo.service"],
    },
    Scenario {
        name: "s5",
        units: &[("s5-demo.service", SIMPLE)],
        setup: &[&["mask", "s5-demo.service"]],
        sls: "unmask:\n  service.unmasked:\n    - name: s5-demo\nrun:\n  service.running:\n    - name: s5-demo\n    - require:\n      - service: unmask\n",
        runs: TEST_THEN_REAL,
        check: &["s5-demo.service"],
    },
    Scenario {
        name: "s6",
        units: &[],
        setup: &[],
        sls: "a:\n  service.running:\n    - name: s6-nosuch\nb:\n  service.dead:\n    - name: s6-nosuch\nc:\n  service.enabled:\n    - name: s6-nosuch\nd:\n  service.disabled:\n    - name: s6-nosuch\n",
        runs: TEST_THEN_REAL,
        check: &[],
    },
    Scenario {
        name: "s7",
        units: &[("s7-demo.service", SIMPLE)],
        setup: &[&["start", "s7-demo.service"]],
        sls: "conf:\n  file.managed:\n    - name: {work}/s7.conf\n    - contents: one\nrestart:\n  service.running:\n    - name: s7-demo\n    - watch:\n      - file: conf\nreload:\n  service.running:\n    - name: s7-demo\n    - reload: True\n    - watch:\n      - file: conf\n",
        runs: &[&["test=True"], &[], &[], &["pillar={\"x\": 1}"]],
        check: &["s7-demo.service"],
    },
    Scenario {
        name: "s8",
        units: &[("s8-fail.service", FAILING), ("s8-once.service", ONESHOT)],
        setup: &[],
        sls: "fail:\n  service.running:\n    - name: s8-fail\nonce:\n  service.running:\n    - name: s8-once\n    - enable: True\nafter:\n  test.succeed_without_changes:\n    - name: unharmed\n",
        runs: TEST_THEN_REAL,
        check: &["s8-once.service"],
    },
    Scenario {
        name: "s9",
        units: &[],
        setup: &[],
        sls: "unit:\n  file.managed:\n    - name: /etc/systemd/system/s9-new.service\n    - contents: |\n        [Service]\n        ExecStart=/bin/sleep infinity\n        [Install]\n        WantedBy=multi-user.target\nsvc:\n  service.running:\n    - name: s9-new\n    - enable: True\n    - require:\n      - file: unit\n",
        runs: &[&[], &[]],
        check: &["s9-new.service"],
    },
    Scenario {
        name: "s10",
        units: &[("s10-demo.service", SIMPLE)],
        setup: &[&["start", "s10-demo.service"]],
        sls: "unit:\n  file.managed:\n    - name: /etc/systemd/system/s10-demo.service\n    - contents: |\n        [Unit]\n        Description=changed by the state run\n        [Service]\n        ExecStart=/bin/sleep 100000\nsvc:\n  service.running:\n    - name: s10-demo\n    - watch:\n      - file: unit\n",
        runs: &[&["test=True"], &[], &[]],
        check: &["s10-demo.service"],
    },
];

/// One side: a private systemd, a config dir and a state tree in a directory visible inside.
/// Fields drop in order: the systemd (its teardown reads its state dir) before the dir.
struct Side {
    sd: PrivateSystemd,
    work: tempfile::TempDir,
}

impl Side {
    fn up() -> Result<Side, String> {
        let work = tempfile::Builder::new()
            .prefix("hsvc.")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let sd = PrivateSystemd::up(&work.path().join("sd"), work.path())?;
        for d in ["etc", "srv", "pillar"] {
            std::fs::create_dir_all(work.path().join(d)).map_err(|e| e.to_string())?;
        }
        std::fs::write(
            work.path().join("etc/minion"),
            format!(
                "id: node1\nroot_dir: {w}\nfile_client: local\nfile_roots: {{base: [{w}/srv]}}\npillar_roots: {{base: [{w}/pillar]}}\nlog_level: quiet\nenable_fqdns_grains: false\n",
                w = work.path().display()
            ),
        )
        .map_err(|e| e.to_string())?;
        Ok(Side { sd, work })
    }

    fn prepare(&self, sc: &Scenario) {
        for (unit, text) in sc.units {
            // Where a package puts its units (an administrator's copy in /etc would make
            // `mask` fail).
            std::fs::write(self.sd.vendor_unit_dir().join(unit), text).expect("unit file");
        }
        self.sd.systemctl(&["daemon-reload"]);
        for cmd in sc.setup {
            self.sd.systemctl(cmd);
        }
        let sls = sc
            .sls
            .replace("{work}", &self.work.path().display().to_string());
        std::fs::write(self.work.path().join(format!("srv/{}.sls", sc.name)), sls).expect("sls");
    }

    /// `bin` as the private systemd sees it: its `/tmp`, `/run` and `/var/tmp` are its own,
    /// so a binary under one of them (a checkout in /tmp) is linked into the shared work dir.
    fn visible(&self, bin: &Path) -> PathBuf {
        let hidden = ["/tmp/", "/run/", "/var/tmp/"]
            .iter()
            .any(|p| bin.starts_with(p));
        if !hidden {
            return bin.to_path_buf();
        }
        let name = bin.file_name().expect("binary name");
        let dest = self.work.path().join("bin").join(name);
        if !dest.exists() {
            std::fs::create_dir_all(self.work.path().join("bin")).expect("bin dir");
            if std::fs::hard_link(bin, &dest).is_err() {
                std::fs::copy(bin, &dest).expect("copy the binary");
            }
        }
        dest
    }

    fn apply(&self, bin: &Path, sls: &str, extra: &[&str]) -> (i32, Json) {
        let bin = &self.visible(bin);
        let cfg = self.work.path().join("etc");
        let mut args = vec![
            "--local",
            "-c",
            cfg.to_str().expect("utf-8"),
            "--out=json",
            "state.apply",
            sls,
        ];
        args.extend_from_slice(extra);
        let out = self.sd.exec(bin, &args);
        assert!(
            !out.stdout.is_empty(),
            "{} printed nothing: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        // Each side has its own work dir: compare with it written as `WORK`.
        let text = String::from_utf8_lossy(&out.stdout)
            .replace(&self.work.path().display().to_string(), "WORK");
        (out.status.code().unwrap_or(-1), normalized(&text))
    }
}

#[test]
fn service_states_match_real_salt_on_a_private_systemd() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: not root (a private systemd needs namespaces)");
        return;
    }
    let ours = match Side::up() {
        Ok(s) => s,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    let salt = salt_call();
    let theirs = match &salt {
        Some(_) => Some(Side::up().expect("a second private systemd")),
        None => {
            eprintln!(
                "real Salt is not installed at /opt/salt-venv: Halite runs without the comparison"
            );
            None
        }
    };
    let halite = PathBuf::from(env!("CARGO_BIN_EXE_salt-call"));
    let mut compared = 0;
    for sc in SCENARIOS {
        ours.prepare(sc);
        if let Some(t) = &theirs {
            t.prepare(sc);
        }
        for (i, extra) in sc.runs.iter().enumerate() {
            let step = format!("{} run {} {:?}", sc.name, i + 1, extra);
            let (rc, got) = ours.apply(&halite, sc.name, extra);
            assert!(
                got.get("local").is_some_and(Json::is_object),
                "{step}: Halite gave no state returns: {got}"
            );
            let (Some(salt), Some(t)) = (&salt, &theirs) else {
                continue;
            };
            let (salt_rc, want) = t.apply(salt, sc.name, extra);
            assert_same_states(&step, &got, &want);
            assert_eq!(rc, salt_rc, "{step}: exit code differs");
            for unit in sc.check {
                assert_eq!(
                    ours.sd.unit_state(unit),
                    t.sd.unit_state(unit),
                    "{step}: {unit} ends in another state"
                );
                // A unit file changed in the run was reloaded before the restart.
                let reload = |sd: &PrivateSystemd| {
                    sd.exec(
                        Path::new("systemctl"),
                        &["show", "-p", "NeedDaemonReload,Description", unit],
                    )
                    .stdout
                };
                assert_eq!(
                    reload(&ours.sd),
                    reload(&t.sd),
                    "{step}: {unit} reload state"
                );
            }
            compared += 1;
        }
        eprintln!("{}: ok", sc.name);
    }
    // Execution functions on the units the scenarios left behind.
    if let (Some(salt), Some(t)) = (&salt, &theirs) {
        let calls: &[&[&str]] = &[
            &["service.available", "s1-demo"],
            &["service.available", "s6-nosuch"],
            &["service.missing", "s6-nosuch"],
            &["service.status", "s1-demo"],
            &["service.status", "s2-demo"],
            &["service.status", "s1-*"],
            &["service.enabled", "s1-demo"],
            &["service.enabled", "s3-static"],
            &["service.disabled", "s2-demo"],
            &["service.masked", "s4-demo"],
            &["service.get_all"],
            &["service.stop", "s6-nosuch"],
            &["service.start", "s6-nosuch"],
            &["service.restart", "s1-demo"],
        ];
        for call in calls {
            let run = |side: &Side, bin: &Path| {
                let bin = &side.visible(bin);
                let cfg = side.work.path().join("etc");
                let mut args = vec!["--local", "-c", cfg.to_str().expect("utf-8"), "--out=json"];
                args.extend_from_slice(call);
                let out = side.sd.exec(bin, &args);
                (
                    out.status.code().unwrap_or(-1),
                    String::from_utf8_lossy(&out.stdout).into_owned(),
                    String::from_utf8_lossy(&out.stderr).into_owned(),
                )
            };
            let (rc, got, err) = run(&ours, &halite);
            let (salt_rc, want, salt_err) = run(t, salt);
            assert_eq!(
                got, want,
                "{call:?}: stdout differs (stderr: {err} / {salt_err})"
            );
            assert_eq!(rc, salt_rc, "{call:?}: exit code differs");
            compared += 1;
        }
    }
    eprintln!("{compared} runs compared with real Salt");
}
