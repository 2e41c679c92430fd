//! The master event bus: every event (`salt/auth`, `salt/job/<jid>/new`,
//! `salt/job/<jid>/ret/<id>`, minion events) is published on a local ZeroMQ PUB socket at
//! `ipc://<sock_dir>/master_event_pub.ipc`, one frame each in Salt's event packing:
//! `tag` `"\n\n"` msgpack(data with `_stamp`). The CLIs subscribe by tag prefix.

use halite_core::{Map, Value};
use halite_proto::msgpack;
use std::path::Path;
use std::sync::Mutex;

/// Salt's separator between an event's tag and its packed data.
pub const TAGEND: &[u8] = b"\n\n";

/// The event bus.
pub struct EventBus {
    sock: Mutex<zmq::Socket>,
}

/// The ipc endpoint of the bus under `sock_dir`.
pub fn endpoint(sock_dir: &Path) -> String {
    format!("ipc://{}", sock_dir.join("master_event_pub.ipc").display())
}

/// The `_stamp` Salt adds: UTC ISO 8601 with microseconds.
pub fn stamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    // SAFETY: gmtime_r writes only into the `tm` we pass.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe {
        libc::gmtime_r(&secs, &mut tm);
    }
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.subsec_micros()
    )
}

/// Pack one event.
pub fn pack(tag: &str, data: &Value) -> Vec<u8> {
    let data = match data {
        Value::Map(m) => {
            let mut m = m.clone();
            m.insert("_stamp".into(), stamp().into());
            Value::Map(m)
        }
        other => other.clone(),
    };
    let mut out = tag.as_bytes().to_vec();
    out.extend_from_slice(TAGEND);
    out.extend_from_slice(&msgpack::encode(&data));
    out
}

/// Split a packed event into its tag and data.
pub fn unpack(frame: &[u8]) -> Option<(String, Value)> {
    let at = frame.windows(2).position(|w| w == TAGEND)?;
    let tag = std::str::from_utf8(&frame[..at]).ok()?.to_string();
    let data = msgpack::decode(&frame[at + 2..]).ok()?;
    Some((tag, data))
}

impl EventBus {
    /// Bind the bus under `sock_dir` (0700).
    pub fn bind(ctx: &zmq::Context, sock_dir: &Path) -> Result<EventBus, String> {
        std::fs::create_dir_all(sock_dir).map_err(|e| format!("{}: {e}", sock_dir.display()))?;
        let _ = std::fs::set_permissions(
            sock_dir,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        );
        let ep = endpoint(sock_dir);
        let s = ctx.socket(zmq::PUB).map_err(|e| format!("{ep}: {e}"))?;
        s.set_sndhwm(10_000).map_err(|e| format!("{ep}: {e}"))?;
        s.set_linger(100).map_err(|e| format!("{ep}: {e}"))?;
        s.bind(&ep).map_err(|e| format!("binding {ep}: {e}"))?;
        Ok(EventBus {
            sock: Mutex::new(s),
        })
    }

    /// Fire one event.
    pub fn fire(&self, tag: &str, data: &Value) {
        let frame = pack(tag, data);
        let s = self.sock.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = s.send(frame, zmq::DONTWAIT) {
            tracing::warn!(tag, "event not delivered: {e}");
        }
    }

    /// Fire an event built from string keys.
    pub fn fire_map(&self, tag: &str, data: Map) {
        self.fire(tag, &Value::Map(data))
    }
}

/// A subscriber to the bus, for the CLIs.
pub struct Listener {
    sock: zmq::Socket,
}

impl Listener {
    /// Subscribe to tags starting with `prefix`.
    pub fn connect(ctx: &zmq::Context, sock_dir: &Path, prefix: &str) -> Result<Listener, String> {
        let ep = endpoint(sock_dir);
        let s = ctx.socket(zmq::SUB).map_err(|e| format!("{ep}: {e}"))?;
        s.set_subscribe(prefix.as_bytes())
            .map_err(|e| format!("{ep}: {e}"))?;
        s.set_linger(0).map_err(|e| format!("{ep}: {e}"))?;
        s.connect(&ep)
            .map_err(|e| format!("connecting {ep}: {e}"))?;
        Ok(Listener { sock: s })
    }

    /// The next event within `timeout`.
    pub fn next(&self, timeout: std::time::Duration) -> Option<(String, Value)> {
        match self.sock.poll(zmq::POLLIN, timeout.as_millis() as i64) {
            Ok(n) if n > 0 => self.sock.recv_bytes(0).ok().and_then(|b| unpack(&b)),
            _ => None,
        }
    }
}
