//! systemd: unit state read over D-Bus (`org.freedesktop.systemd1` on the system bus, one
//! connection per process), `systemctl show` where there is no bus; unit changes through
//! `systemctl`, which waits for the job as Salt's `systemd_service` does.

use halite_core::{Error, Result};
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use zbus::zvariant::{OwnedObjectPath, OwnedValue};

/// What systemd says about a unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitInfo {
    /// `LoadState`: `loaded`, `not-found`, `masked`, `error`, ...
    pub load_state: String,
    /// `ActiveState`: `active`, `inactive`, `failed`, `activating`, ...
    pub active_state: String,
    /// `SubState`: `running`, `dead`, `exited`, ...
    pub sub_state: String,
    /// `UnitFileState`: `enabled`, `disabled`, `static`, `masked`, `masked-runtime`, ...
    pub unit_file_state: String,
    /// `NeedDaemonReload`: the unit file changed since systemd loaded it.
    pub need_daemon_reload: bool,
}

impl UnitInfo {
    /// `systemctl is-active` succeeds.
    pub fn is_active(&self) -> bool {
        matches!(
            self.active_state.as_str(),
            "active" | "reloading" | "activating"
        )
    }
}

/// The unit name systemd uses: `.service` added when no known unit suffix is given.
pub fn canonical_name(name: &str) -> String {
    const SUFFIXES: &[&str] = &[
        ".service",
        ".socket",
        ".device",
        ".mount",
        ".automount",
        ".swap",
        ".target",
        ".path",
        ".timer",
        ".slice",
        ".scope",
    ];
    if SUFFIXES.iter().any(|s| name.ends_with(s)) {
        name.to_string()
    } else {
        format!("{name}.service")
    }
}

static BUS: OnceLock<Mutex<Option<zbus::blocking::Connection>>> = OnceLock::new();

fn bus() -> Option<zbus::blocking::Connection> {
    let slot = BUS.get_or_init(|| Mutex::new(None));
    let mut guard = slot.lock().ok()?;
    if guard.is_none() {
        match zbus::blocking::Connection::system() {
            Ok(c) => *guard = Some(c),
            Err(e) => {
                tracing::debug!(error = %e, "no D-Bus system bus: using systemctl");
                return None;
            }
        }
    }
    guard.clone()
}

fn forget_bus() {
    if let Some(slot) = BUS.get() {
        if let Ok(mut g) = slot.lock() {
            *g = None;
        }
    }
}

fn dbus_info(conn: &zbus::blocking::Connection, unit: &str) -> zbus::Result<UnitInfo> {
    let manager = zbus::blocking::Proxy::new(
        conn,
        "org.freedesktop.systemd1",
        "/org/freedesktop/systemd1",
        "org.freedesktop.systemd1.Manager",
    )?;
    let path: OwnedObjectPath = manager.call("LoadUnit", &(unit,))?;
    let props = zbus::blocking::Proxy::new(
        conn,
        "org.freedesktop.systemd1",
        path,
        "org.freedesktop.DBus.Properties",
    )?;
    let all: HashMap<String, OwnedValue> =
        props.call("GetAll", &("org.freedesktop.systemd1.Unit",))?;
    let text = |k: &str| -> String {
        all.get(k)
            .and_then(|v| <&str>::try_from(v).ok())
            .unwrap_or("")
            .to_string()
    };
    Ok(UnitInfo {
        load_state: text("LoadState"),
        active_state: text("ActiveState"),
        sub_state: text("SubState"),
        unit_file_state: text("UnitFileState"),
        need_daemon_reload: all
            .get("NeedDaemonReload")
            .and_then(|v| bool::try_from(v).ok())
            .unwrap_or(false),
    })
}

fn systemctl_info(unit: &str) -> Result<UnitInfo> {
    let out = systemctl(&[
        "show",
        "-p",
        "LoadState,ActiveState,SubState,UnitFileState,NeedDaemonReload",
        "--",
        unit,
    ])?;
    if out.retcode != 0 {
        return Err(Error::CommandExecution(format!(
            "systemctl show {unit}: {}",
            out.stderr
        )));
    }
    let get = |k: &str| -> String {
        out.stdout
            .lines()
            .find_map(|l| l.strip_prefix(k).and_then(|r| r.strip_prefix('=')))
            .unwrap_or("")
            .to_string()
    };
    Ok(UnitInfo {
        load_state: get("LoadState"),
        active_state: get("ActiveState"),
        sub_state: get("SubState"),
        unit_file_state: get("UnitFileState"),
        need_daemon_reload: get("NeedDaemonReload") == "yes",
    })
}

/// The state of `unit` (a full unit name), over D-Bus when the system bus answers.
pub fn unit_info(unit: &str) -> Result<UnitInfo> {
    if let Some(conn) = bus() {
        match dbus_info(&conn, unit) {
            Ok(info) => return Ok(info),
            Err(e) => {
                tracing::debug!(unit, error = %e, "D-Bus query failed: using systemctl");
                forget_bus();
            }
        }
    }
    systemctl_info(unit)
}

/// What `systemctl` gave.
#[derive(Debug, Clone)]
pub struct Output {
    /// Exit status (-1 when killed by a signal).
    pub retcode: i32,
    /// Standard output, right-stripped.
    pub stdout: String,
    /// Standard error, right-stripped.
    pub stderr: String,
}

/// Run `systemctl args`.
pub fn systemctl(args: &[&str]) -> Result<Output> {
    tracing::debug!(command = %format!("systemctl {}", args.join(" ")), "systemd");
    let out = Command::new("systemctl")
        .args(args)
        .env_remove("NOTIFY_SOCKET")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::CommandExecution(format!("Unable to run systemctl: {e}")))?;
    let text = |b: &[u8]| String::from_utf8_lossy(b).trim_end().to_string();
    Ok(Output {
        retcode: out.status.code().unwrap_or(-1),
        stdout: text(&out.stdout),
        stderr: text(&out.stderr),
    })
}

/// Is systemd the init system here (`/run/systemd/system` exists, as `sd_booted()`)?
pub fn booted() -> bool {
    std::path::Path::new("/run/systemd/system").is_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_names() {
        assert_eq!(canonical_name("kubelet"), "kubelet.service");
        assert_eq!(canonical_name("a.timer"), "a.timer");
    }
}
