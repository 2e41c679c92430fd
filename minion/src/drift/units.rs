//! systemd units: a dedicated D-Bus connection to the system bus (`DBUS_SYSTEM_BUS_ADDRESS`
//! honoured, as `states::exec::systemd` connects) that calls `Manager.Subscribe()` (systemd
//! sends no unit signals until a client subscribes) and listens to the units'
//! `PropertiesChanged` and the manager's `UnitFilesChanged` / `Reloading` (enabling and
//! disabling change no unit property). Without a bus, every unit is probed every few
//! seconds instead, and the connection is tried again now and then.

use super::fingerprint::Fingerprint;
use super::Msg;
use halite_states::exec::systemd;
use std::collections::HashMap;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};
use zbus::zvariant::OwnedValue;

/// How often units are probed while there is no bus.
const POLL_WITHOUT_BUS: Duration = Duration::from_secs(5);
/// How long to poll before trying to connect again.
const RECONNECT_AFTER: Duration = Duration::from_secs(30);

/// The D-Bus object path systemd gives a unit (`bus_label_escape`: every byte that is not
/// an ASCII letter or digit becomes `_xx`).
pub fn unit_path(unit: &str) -> String {
    let mut out = String::from("/org/freedesktop/systemd1/unit/");
    if unit.is_empty() {
        out.push('_');
    }
    for b in unit.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("_{b:02x}"));
        }
    }
    out
}

/// What the unit watcher tells the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitEvent {
    /// A unit's properties changed (its D-Bus object path).
    Changed(String),
    /// Probe every unit: unit files changed, systemd reloaded, the bus came (back), or the
    /// poll without a bus.
    All,
}

/// Probe `unit`: its fingerprint (`ActiveState`, `UnitFileState`), and whether it is in
/// transition (activating, deactivating, reloading: look again after one more window).
pub fn probe(unit: &str) -> Result<(Fingerprint, bool), String> {
    let info = systemd::unit_info(unit).map_err(|e| format!("{unit}: {e}"))?;
    let moving = matches!(
        info.active_state.as_str(),
        "activating" | "deactivating" | "reloading" | "refreshing"
    );
    Ok((
        Fingerprint::Unit {
            active: info.active_state,
            file_state: info.unit_file_state,
        },
        moving,
    ))
}

/// Start the unit watcher thread; it sends [`Msg::Unit`] on `tx` and ends with the engine.
pub(crate) fn start(tx: Sender<Msg>) -> Result<(), String> {
    std::thread::Builder::new()
        .name("drift-dbus".into())
        .spawn(move || watch_loop(&tx))
        .map(drop)
        .map_err(|e| format!("could not start the D-Bus watch thread: {e}"))
}

fn watch_loop(tx: &Sender<Msg>) {
    loop {
        match listen(tx) {
            Ok(()) => return,
            Err(e) => tracing::warn!(
                "drift: no D-Bus unit signals ({e}); probing units every {}s",
                POLL_WITHOUT_BUS.as_secs()
            ),
        }
        let until = Instant::now() + RECONNECT_AFTER;
        while Instant::now() < until {
            std::thread::sleep(POLL_WITHOUT_BUS);
            if tx.send(Msg::Unit(UnitEvent::All)).is_err() {
                return;
            }
        }
    }
}

/// Subscribe and forward signals until the bus goes away (`Err`) or the engine does (`Ok`).
fn listen(tx: &Sender<Msg>) -> Result<(), String> {
    let conn = zbus::blocking::Connection::system().map_err(|e| format!("system bus: {e}"))?;
    let rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .sender("org.freedesktop.systemd1")
        .and_then(|b| b.path_namespace("/org/freedesktop/systemd1"))
        .map_err(|e| format!("match rule: {e}"))?
        .build();
    let iter = zbus::blocking::MessageIterator::for_match_rule(rule, &conn, Some(1024))
        .map_err(|e| format!("AddMatch: {e}"))?;
    let manager = zbus::blocking::Proxy::new(
        &conn,
        "org.freedesktop.systemd1",
        "/org/freedesktop/systemd1",
        "org.freedesktop.systemd1.Manager",
    )
    .map_err(|e| format!("systemd manager: {e}"))?;
    manager
        .call_method("Subscribe", &())
        .map_err(|e| format!("Manager.Subscribe: {e}"))?;
    tracing::debug!("drift: subscribed to systemd's unit signals");
    // Whatever happened while there was no subscription.
    if tx.send(Msg::Unit(UnitEvent::All)).is_err() {
        return Ok(());
    }
    for msg in iter {
        let msg = msg.map_err(|e| format!("D-Bus: {e}"))?;
        let Some(ev) = classify(&msg) else { continue };
        if tx.send(Msg::Unit(ev)).is_err() {
            return Ok(());
        }
    }
    Err("the system bus closed the connection".into())
}

/// The event a signal means for the engine, if any.
fn classify(msg: &zbus::message::Message) -> Option<UnitEvent> {
    let header = msg.header();
    let member = header.member()?.as_str().to_string();
    match member.as_str() {
        "UnitFilesChanged" | "Reloading" => Some(UnitEvent::All),
        "PropertiesChanged" => {
            let path = header.path()?.as_str().to_string();
            if !path.starts_with("/org/freedesktop/systemd1/unit/") {
                return None;
            }
            let body = msg.body();
            let (iface, _, _): (String, HashMap<String, OwnedValue>, Vec<String>) =
                body.deserialize().ok()?;
            (iface == "org.freedesktop.systemd1.Unit").then_some(UnitEvent::Changed(path))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_paths_are_systemds() {
        assert_eq!(
            unit_path("app.service"),
            "/org/freedesktop/systemd1/unit/app_2eservice"
        );
        assert_eq!(
            unit_path("getty@tty1.service"),
            "/org/freedesktop/systemd1/unit/getty_40tty1_2eservice"
        );
        assert_eq!(
            unit_path("my-app_x.timer"),
            "/org/freedesktop/systemd1/unit/my_2dapp_5fx_2etimer"
        );
    }
}
