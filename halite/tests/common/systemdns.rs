//! A private systemd as PID 1 of its own namespaces (`../shared/recipes/systemd-ns.sh`),
//! with its own `/etc/systemd/system`, `/run`, `/tmp` and D-Bus system bus; programs run
//! inside it with `exec`. Torn down on drop.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|p| p.join("../shared/recipes/systemd-ns.sh"))
        .find(|p| p.is_file())
        .expect("../shared/recipes/systemd-ns.sh")
}

/// One private systemd.
pub struct PrivateSystemd {
    /// The recipe's state directory.
    pub state: PathBuf,
    /// The recipe's environment (`SD_PID`, `SD_UNIT_DIR`, ...).
    pub env: BTreeMap<String, String>,
}

impl PrivateSystemd {
    /// Boot one; `rw` (a test's temp dir) stays writable and visible inside. `Err` says why
    /// systemd cannot start on this machine.
    pub fn up(state: &Path, rw: &Path) -> Result<PrivateSystemd, String> {
        let out = Command::new(script())
            .arg("up")
            .arg(state)
            .env("SD_RW_PATHS", rw)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("systemd-ns.sh: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "a private systemd cannot start here: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let env = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
            .collect();
        Ok(PrivateSystemd {
            state: state.to_path_buf(),
            env,
        })
    }

    /// `/lib/systemd/system` of the private systemd (where packages put units), from the host.
    pub fn vendor_unit_dir(&self) -> PathBuf {
        PathBuf::from(&self.env["SD_VENDOR_UNIT_DIR"])
    }

    /// A command that runs `program args` inside the namespaces.
    pub fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(script());
        c.arg("exec")
            .arg(&self.state)
            .arg("--")
            .arg(program)
            .args(args)
            .stdin(Stdio::null());
        c
    }

    /// Run `program args` inside.
    pub fn exec(&self, program: &Path, args: &[&str]) -> Output {
        self.command(program, args)
            .output()
            .expect("systemd-ns exec")
    }

    /// `systemctl args` inside, asserting success; its stdout.
    pub fn systemctl(&self, args: &[&str]) -> String {
        let out = self.exec(Path::new("systemctl"), args);
        assert!(
            out.status.success(),
            "systemctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `systemctl show -p ActiveState,UnitFileState` of `unit`, as `(active, file_state)`.
    pub fn unit_state(&self, unit: &str) -> (String, String) {
        let out = self.exec(
            Path::new("systemctl"),
            &["show", "-p", "ActiveState,UnitFileState", unit],
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let get = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .unwrap_or("")
                .to_string()
        };
        (get("ActiveState"), get("UnitFileState"))
    }
}

impl Drop for PrivateSystemd {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .arg("down")
            .arg(&self.state)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
