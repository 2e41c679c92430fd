//! The master event bus, wire-compatible with Salt's: a Unix socket at
//! `<sock_dir>/master_event_pub.ipc` (0600) where every subscriber receives a stream of
//! msgpack frames `{"head": {}, "body": <event>}`, each event packed as Salt packs it:
//! `tag` `"\n\n"` msgpack(data with `_stamp`). So a real `salt` CLI, or Halite's, can
//! watch `salt/job/<jid>/ret/<id>` and every other event (`salt/auth`, minion events).
//! Publishing never blocks: events go through a bounded queue to a writer thread, and a
//! subscriber that cannot keep up is dropped.

use halite_core::{Map, Value};
use halite_proto::msgpack;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Salt's separator between an event's tag and its packed data.
pub const TAGEND: &[u8] = b"\n\n";

/// The most bytes a subscriber buffers for one frame (a lying or corrupt stream ends it).
const MAX_FRAME: usize = 64 << 20;

/// The path of the bus under `sock_dir`.
pub fn path(sock_dir: &Path) -> PathBuf {
    sock_dir.join("master_event_pub.ipc")
}

/// The `_stamp` Salt adds: UTC ISO 8601 with microseconds and the `+00:00` offset
/// (`datetime.now(timezone.utc).isoformat()`, which leaves the fraction out when it is 0).
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
    let micros = match now.subsec_micros() {
        0 => String::new(),
        us => format!(".{us:06}"),
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{micros}+00:00",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
    )
}

/// Pack one event as Salt's `SaltEvent.pack` does.
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
    out.extend_from_slice(&msgpack::encode_bin_type(&data));
    out
}

/// Split a packed event into its tag and data.
pub fn unpack(event: &[u8]) -> Option<(String, Value)> {
    let at = event.windows(2).position(|w| w == TAGEND)?;
    let tag = std::str::from_utf8(&event[..at]).ok()?.to_string();
    let data = msgpack::decode(&event[at + 2..]).ok()?;
    Some((tag, data))
}

/// The frame a subscriber reads: `{"head": {}, "body": event}`.
fn frame(event: Vec<u8>) -> Vec<u8> {
    let mut m = Map::default();
    m.insert("head".into(), Value::Map(Map::default()));
    m.insert("body".into(), Value::Bytes(event));
    msgpack::encode_bin_type(&Value::Map(m))
}

/// The event bus.
pub struct EventBus {
    queue: SyncSender<Vec<u8>>,
}

fn writer(rx: Receiver<Vec<u8>>, clients: Arc<Mutex<Vec<UnixStream>>>) {
    for f in rx {
        let mut cs = clients.lock().unwrap_or_else(|p| p.into_inner());
        cs.retain_mut(|c| match c.write_all(&f) {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!("an event subscriber left: {e}");
                false
            }
        });
    }
}

impl EventBus {
    /// Bind the bus under `sock_dir` (directory 0700, socket 0600).
    pub fn bind(sock_dir: &Path) -> Result<EventBus, String> {
        std::fs::create_dir_all(sock_dir).map_err(|e| format!("{}: {e}", sock_dir.display()))?;
        let _ = std::fs::set_permissions(
            sock_dir,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        );
        let p = path(sock_dir);
        let _ = std::fs::remove_file(&p);
        let listener =
            UnixListener::bind(&p).map_err(|e| format!("binding {}: {e}", p.display()))?;
        let _ = std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600));
        let clients: Arc<Mutex<Vec<UnixStream>>> = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = sync_channel::<Vec<u8>>(10_000);
        {
            let clients = clients.clone();
            std::thread::Builder::new()
                .name("event-writer".into())
                .spawn(move || writer(rx, clients))
                .map_err(|e| e.to_string())?;
        }
        std::thread::Builder::new()
            .name("event-accept".into())
            .spawn(move || {
                for c in listener.incoming().flatten() {
                    // A subscriber that stalls for a second is dropped, never waited on.
                    let _ = c.set_write_timeout(Some(Duration::from_secs(1)));
                    clients.lock().unwrap_or_else(|p| p.into_inner()).push(c);
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(EventBus { queue: tx })
    }

    /// Fire one event.
    pub fn fire(&self, tag: &str, data: &Value) {
        match self.queue.try_send(frame(pack(tag, data))) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                tracing::warn!(tag, "event bus queue full: event dropped")
            }
            Err(TrySendError::Disconnected(_)) => tracing::warn!(tag, "event bus is down"),
        }
    }

    /// Fire an event built from string keys.
    pub fn fire_map(&self, tag: &str, data: Map) {
        self.fire(tag, &Value::Map(data))
    }

    /// Re-publish an event another local process packed.
    fn fire_packed(&self, event: Vec<u8>) {
        if self.queue.try_send(frame(event)).is_err() {
            tracing::warn!("event bus queue full: a pushed event was dropped");
        }
    }

    /// Accept events pushed by local processes on `<sock_dir>/master_event_pull.ipc`
    /// (0600), as Salt's local tools do (the `salt` CLI's batch events, for one): each
    /// frame is a 4-byte big-endian length and msgpack `{"head", "body": <event>}`.
    pub fn serve_pull(self: &Arc<Self>, sock_dir: &Path) -> Result<(), String> {
        let p = sock_dir.join("master_event_pull.ipc");
        let _ = std::fs::remove_file(&p);
        let listener =
            UnixListener::bind(&p).map_err(|e| format!("binding {}: {e}", p.display()))?;
        let _ = std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600));
        let bus = self.clone();
        std::thread::Builder::new()
            .name("event-pull".into())
            .spawn(move || {
                for c in listener.incoming().flatten() {
                    let bus = bus.clone();
                    let _ = std::thread::Builder::new()
                        .name("event-pusher".into())
                        .spawn(move || read_pushed(c, &bus));
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

fn read_pushed(mut c: UnixStream, bus: &EventBus) {
    loop {
        let mut len = [0u8; 4];
        if c.read_exact(&mut len).is_err() {
            return;
        }
        let len = u32::from_be_bytes(len) as usize;
        if len > MAX_FRAME {
            tracing::warn!(len, "a pushed event frame is too large: connection closed");
            return;
        }
        let mut buf = vec![0u8; len];
        if c.read_exact(&mut buf).is_err() {
            return;
        }
        match msgpack::decode(&buf) {
            Ok(v) => match v.get("body") {
                Some(Value::Bytes(b)) => bus.fire_packed(b.clone()),
                Some(Value::Str(s)) => bus.fire_packed(s.as_bytes().to_vec()),
                _ => tracing::warn!("a pushed event without a body"),
            },
            Err(e) => {
                tracing::warn!("a pushed event frame does not decode: {e}");
                return;
            }
        }
    }
}

/// A subscriber to the bus, for the CLIs: events whose tag starts with a prefix.
pub struct Listener {
    sock: UnixStream,
    buf: Vec<u8>,
    prefix: String,
}

impl Listener {
    /// Connect to the bus of the master whose `sock_dir` is given.
    pub fn connect(sock_dir: &Path, prefix: &str) -> Result<Listener, String> {
        let p = path(sock_dir);
        let sock = UnixStream::connect(&p).map_err(|e| {
            format!(
                "cannot connect to the master's event bus {}: {e} (is the master running?)",
                p.display()
            )
        })?;
        Ok(Listener {
            sock,
            buf: Vec::new(),
            prefix: prefix.to_string(),
        })
    }

    fn take_frame(&mut self) -> Option<Option<(String, Value)>> {
        match msgpack::decode_prefix(&self.buf) {
            Ok(Some((v, used))) => {
                self.buf.drain(..used);
                let body = match v.get("body") {
                    Some(Value::Bytes(b)) => b.clone(),
                    Some(Value::Str(s)) => s.as_bytes().to_vec(),
                    _ => return Some(None),
                };
                Some(unpack(&body).filter(|(t, _)| t.starts_with(&self.prefix)))
            }
            Ok(None) => None,
            Err(_) => {
                self.buf.clear();
                None
            }
        }
    }

    /// The next matching event within `timeout`.
    pub fn next(&mut self, timeout: Duration) -> Option<(String, Value)> {
        self.recv(timeout).ok().flatten()
    }

    /// The next matching event within `timeout`: `Ok(None)` when the time is up, `Err`
    /// when the bus closed the connection (the master stopped) or the socket failed.
    pub fn recv(&mut self, timeout: Duration) -> Result<Option<(String, Value)>, String> {
        let deadline = std::time::Instant::now() + timeout.min(Duration::from_secs(86400));
        loop {
            while let Some(f) = self.take_frame() {
                if f.is_some() {
                    return Ok(f);
                }
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let _ = self
                .sock
                .set_read_timeout(Some(left.max(Duration::from_millis(1))));
            let mut chunk = [0u8; 65536];
            match self.sock.read(&mut chunk) {
                Ok(0) => return Err("the master's event bus closed the connection".into()),
                Ok(n) => {
                    if self.buf.len() + n > MAX_FRAME {
                        self.buf.clear();
                    }
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("reading the master's event bus: {e}")),
            }
        }
    }
}
