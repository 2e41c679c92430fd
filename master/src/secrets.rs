//! The master's symmetric secrets: the AES key that encrypts publications (fresh at every
//! start, with its `serial`, rotated when a key is deleted or rejected) and the per-minion
//! session keys that encrypt requests and replies (`<cachedir>/sessions/<id>`, regenerated
//! when older than `publish_session`).

use crate::pki::{valid_id, write_private};
use halite_proto::crypto::new_key_string;
use halite_proto::Crypticle;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The AES key and the serial of the last publication made with it.
struct Aes {
    key: Arc<Crypticle>,
    serial: i64,
}

/// The master's secrets.
pub struct Secrets {
    aes: Mutex<Aes>,
    sessions_dir: PathBuf,
    max_age: Duration,
    sessions: Mutex<HashMap<String, (Arc<Crypticle>, SystemTime)>>,
}

fn fresh() -> Result<Arc<Crypticle>, String> {
    Crypticle::new(&new_key_string())
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

impl Secrets {
    /// New secrets: a fresh AES key with serial 0.
    pub fn new(cachedir: &std::path::Path, publish_session: u64) -> Result<Secrets, String> {
        let sessions_dir = cachedir.join("sessions");
        std::fs::create_dir_all(&sessions_dir)
            .and_then(|_| {
                std::fs::set_permissions(
                    &sessions_dir,
                    std::os::unix::fs::PermissionsExt::from_mode(0o700),
                )
            })
            .map_err(|e| format!("{}: {e}", sessions_dir.display()))?;
        Ok(Secrets {
            aes: Mutex::new(Aes {
                key: fresh()?,
                serial: 0,
            }),
            sessions_dir,
            max_age: Duration::from_secs(publish_session.max(1)),
            sessions: Mutex::new(HashMap::new()),
        })
    }

    /// The current AES key.
    pub fn aes(&self) -> Arc<Crypticle> {
        self.aes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .key
            .clone()
    }

    /// The AES key and the next serial for a publication, taken together so a rotation
    /// cannot pair an old key with a reset serial.
    pub fn next_publication(&self) -> (Arc<Crypticle>, i64) {
        let mut a = self.aes.lock().unwrap_or_else(|p| p.into_inner());
        a.serial += 1;
        (a.key.clone(), a.serial)
    }

    /// A new AES key, serial reset (Salt's `rotate_secrets`).
    pub fn rotate(&self) -> Result<(), String> {
        let mut a = self.aes.lock().unwrap_or_else(|p| p.into_inner());
        a.key = fresh()?;
        a.serial = 0;
        tracing::info!("rotated the AES key");
        Ok(())
    }

    /// The session key of `id`, created or regenerated when missing or too old. The disk
    /// is read and written outside the lock, so one slow fsync never stalls other minions.
    pub fn session(&self, id: &str) -> Result<Arc<Crypticle>, String> {
        if !valid_id(id) {
            return Err(format!("invalid minion id {id:?}"));
        }
        let now = SystemTime::now();
        let fresh_enough =
            |born: SystemTime| now.duration_since(born).unwrap_or_default() < self.max_age;
        if let Some((c, born)) = self.cached(id) {
            if fresh_enough(born) {
                return Ok(c);
            }
        }
        let path = self.sessions_dir.join(id);
        let on_disk = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .filter(|t| fresh_enough(*t))
            .and_then(|t| {
                let s = std::fs::read_to_string(&path).ok()?;
                Some((Crypticle::new(s.trim()).ok()?, t))
            });
        let (c, born) = match on_disk {
            Some((c, t)) => (Arc::new(c), t),
            None => {
                let c = fresh()?;
                write_private(&path, c.key_string().as_bytes(), 0o600)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                (c, now)
            }
        };
        let mut cache = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        // Another worker may have settled it meanwhile: the first one in wins.
        if let Some((c, born)) = cache.get(id) {
            if fresh_enough(*born) {
                return Ok(c.clone());
            }
        }
        cache.insert(id.to_string(), (c.clone(), born));
        Ok(c)
    }

    fn cached(&self, id: &str) -> Option<(Arc<Crypticle>, SystemTime)> {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }
}
