//! systemd: unit state read over D-Bus (`org.freedesktop.systemd1` on the system bus, one
//! connection per process), `systemctl show` where there is no bus; unit changes through
//! `systemctl`, which waits for the job as Salt's `systemd_service` does.

use halite_core::{Error, Result};
use std::collections::HashMap;
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
        matches!(self.active_state.as_str(), "active" | "reloading")
    }
}

/// The unit name systemd uses: `.service` added when no known unit suffix is given.
pub fn canonical_name(name: &str) -> String {
    // Salt's list (a plain `endswith`, no dot).
    const SUFFIXES: &[&str] = &[
        "service",
        "socket",
        "device",
        "mount",
        "automount",
        "swap",
        "target",
        "path",
        "timer",
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

pub use super::command::Output;

/// Run `systemctl args` (through [`super::command::run_with`], as Salt's `cmd.run_all`).
pub fn systemctl(args: &[&str]) -> Result<Output> {
    let mut argv = vec!["systemctl".to_string()];
    argv.extend(args.iter().map(|a| (*a).to_string()));
    super::command::run_with(&argv, None, &[])
}

/// Is systemd the init system here (`/run/systemd/system` exists, as `sd_booted()`)?
pub fn booted() -> bool {
    std::path::Path::new("/run/systemd/system").is_dir()
}

fn dbus_file_state(conn: &zbus::blocking::Connection, unit: &str) -> zbus::Result<String> {
    let manager = zbus::blocking::Proxy::new(
        conn,
        "org.freedesktop.systemd1",
        "/org/freedesktop/systemd1",
        "org.freedesktop.systemd1.Manager",
    )?;
    manager.call("GetUnitFileState", &(unit,))
}

/// The unit file's enablement as `systemctl is-enabled` prints it (read from disk by
/// systemd: `GetUnitFileState`), `None` when the unit has no file.
pub fn unit_file_state(unit: &str) -> Result<Option<String>> {
    if let Some(conn) = bus() {
        match dbus_file_state(&conn, unit) {
            Ok(state) => return Ok(Some(state)),
            Err(zbus::Error::MethodError(..)) => return Ok(None),
            Err(e) => {
                tracing::debug!(unit, error = %e, "D-Bus query failed: using systemctl");
                forget_bus();
            }
        }
    }
    let out = systemctl(&["is-enabled", "--", unit])?;
    Ok(
        (!out.stdout.is_empty() && !out.stdout.contains(' '))
            .then(|| out.stdout.trim().to_string()),
    )
}

/// `systemctl is-enabled` succeeds for this state (Salt's `enabled()`; `alias` counts
/// through the unit it names, which systemd reports for us).
pub fn is_enabled_state(state: &str) -> bool {
    matches!(
        state,
        "enabled" | "enabled-runtime" | "static" | "indirect" | "generated" | "transient" | "alias"
    )
}

/// Salt's `_check_for_unit_changes`: reload systemd when a unit file changed on disk, or
/// when a unit file in `/etc/systemd/system` is not known to systemd yet.
pub fn reload_if_changed(unit: &str) -> Result<UnitInfo> {
    let info = unit_info(unit)?;
    let untracked = info.load_state == "not-found"
        && std::path::Path::new("/etc/systemd/system")
            .join(unit)
            .is_file();
    if info.need_daemon_reload || untracked {
        daemon_reload()?;
        return unit_info(unit);
    }
    Ok(info)
}

/// `systemctl --system daemon-reload`.
pub fn daemon_reload() -> Result<()> {
    let out = systemctl(&["--system", "daemon-reload"])?;
    if out.retcode != 0 {
        let mut text = out.stdout;
        if !out.stderr.is_empty() {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&out.stderr);
        }
        return Err(Error::CommandExecution(format!(
            "Problem performing systemctl daemon-reload: {text}"
        )));
    }
    Ok(())
}

/// A unit change (`start`, `stop`, `restart`, `reload`, `force-reload`, `enable`,
/// `disable`) through systemctl, which waits for the job unless `no_block`; `Err` holds
/// systemctl's message.
pub fn change(action: &str, unit: &str, no_block: bool) -> Result<std::result::Result<(), String>> {
    let (rc, why) = change_rc(action, unit, no_block)?;
    Ok(if rc == 0 { Ok(()) } else { Err(why) })
}

/// [`change`] with systemctl's exit status (what Salt keeps as the call's retcode).
pub fn change_rc(action: &str, unit: &str, no_block: bool) -> Result<(i32, String)> {
    let mut args = Vec::with_capacity(4);
    if no_block {
        args.push("--no-block");
    }
    args.push(action);
    args.push(unit);
    let out = systemctl(&args)?;
    let text: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.ends_with(".scope"))
        .collect();
    Ok((out.retcode, text.join("\n").trim().to_string()))
}

/// Is the unit masked (`/etc/systemd/system/<unit>`, or `/run/systemd/system/<unit>` for
/// a runtime mask, is a link to `/dev/null`)?
pub fn masked(unit: &str, runtime: bool) -> bool {
    let dir = if runtime {
        "/run/systemd/system"
    } else {
        "/etc/systemd/system"
    };
    std::fs::read_link(std::path::Path::new(dir).join(unit))
        .is_ok_and(|t| t == std::path::Path::new("/dev/null"))
}

/// `systemctl mask|unmask [--runtime] unit`: `Err` holds the whole output.
pub fn mask(unit: &str, on: bool, runtime: bool) -> Result<std::result::Result<(), String>> {
    let mut args = vec![if on { "mask" } else { "unmask" }];
    if runtime {
        args.push("--runtime");
    }
    args.push(unit);
    let out = systemctl(&args)?;
    if out.retcode == 0 {
        return Ok(Ok(()));
    }
    let mut text = out.stdout;
    if !out.stderr.is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&out.stderr);
    }
    Ok(Err(text))
}

/// Salt's `service.get_all`: the units in systemd's unit directories (`.service` ones
/// without the suffix) and the SysV scripts of `/etc/init.d`, sorted.
pub fn get_all() -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    for dir in [
        "/lib/systemd/system",
        "/usr/lib/systemd/system",
        "/etc/systemd/system",
    ] {
        let p = std::path::Path::new(dir);
        if p.is_symlink() {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(p) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some((base, kind)) = name.rsplit_once('.') else {
                continue;
            };
            match kind {
                "service" => {
                    out.insert(base.to_string());
                }
                "socket" | "device" | "mount" | "automount" | "swap" | "target" | "path"
                | "timer" => {
                    out.insert(name);
                }
                _ => {}
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir("/etc/init.d") {
        use std::os::unix::fs::PermissionsExt;
        for e in entries.flatten() {
            let executable = e
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
            if executable {
                out.insert(e.file_name().to_string_lossy().into_owned());
            }
        }
    }
    out.into_iter().collect()
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
