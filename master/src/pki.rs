//! The master's key store, in Salt's layout under `pki_dir`: `master.pem`/`master.pub`, and
//! one file per minion key in `minions/` (accepted), `minions_pre/` (pending),
//! `minions_rejected/` and `minions_denied/`. Directories are 0700, files 0600 (the master's
//! private key 0400). Writes are atomic.

use halite_proto::crypto::clean_key;
use halite_proto::{CryptoError, PrivateKey, PublicKey};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Where a minion key sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// `minions/`.
    Accepted,
    /// `minions_pre/`.
    Pending,
    /// `minions_rejected/`.
    Rejected,
    /// `minions_denied/`.
    Denied,
}

impl KeyState {
    /// Every state, in `salt-key -L` order.
    pub const ALL: [KeyState; 4] = [
        KeyState::Accepted,
        KeyState::Denied,
        KeyState::Pending,
        KeyState::Rejected,
    ];

    /// The directory name.
    pub fn dir(self) -> &'static str {
        match self {
            KeyState::Accepted => "minions",
            KeyState::Pending => "minions_pre",
            KeyState::Rejected => "minions_rejected",
            KeyState::Denied => "minions_denied",
        }
    }
}

/// The key store.
#[derive(Debug, Clone)]
pub struct Pki {
    dir: PathBuf,
}

/// Write `data` to `path` atomically with `mode`: a private temp file beside it (0600
/// from the start, a unique name so concurrent writers never share it), fsync, the final
/// mode, rename.
pub fn write_private(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn mkdir_private(p: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(p)?;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700))
}

/// A minion id that is safe as a file name (Salt's `valid_id`).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id != "."
        && id != ".."
        && !id.contains('/')
        && !id.contains('\0')
        && !id.contains('\\')
}

impl Pki {
    /// The store at `dir`, creating its directories.
    pub fn open(dir: &Path) -> std::io::Result<Pki> {
        mkdir_private(dir)?;
        for s in KeyState::ALL {
            mkdir_private(&dir.join(s.dir()))?;
        }
        mkdir_private(&dir.join("minions_autosign"))?;
        Ok(Pki {
            dir: dir.to_path_buf(),
        })
    }

    /// The `pki_dir`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The master key pair, generated on first start (`keysize` bits).
    pub fn master_key(&self, bits: u32) -> Result<PrivateKey, String> {
        let pem = self.dir.join("master.pem");
        match std::fs::read(&pem) {
            Ok(b) => PrivateKey::from_pem(&b).map_err(|e| format!("{}: {e}", pem.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = PrivateKey::generate(bits).map_err(|e| e.to_string())?;
                let priv_pem = key.to_pem().map_err(|e| e.to_string())?;
                let pub_pem = key.public_pem().map_err(|e| e.to_string())?;
                write_private(&pem, &priv_pem, 0o400)
                    .map_err(|e| format!("{}: {e}", pem.display()))?;
                write_private(&self.dir.join("master.pub"), pub_pem.as_bytes(), 0o600)
                    .map_err(|e| format!("master.pub: {e}"))?;
                tracing::info!(path = %pem.display(), "generated the master key pair");
                Ok(key)
            }
            Err(e) => Err(format!("{}: {e}", pem.display())),
        }
    }

    /// The master's public key text as it is sent to minions (`clean_key`).
    pub fn master_pub_text(&self) -> std::io::Result<String> {
        Ok(clean_key(&std::fs::read_to_string(
            self.dir.join("master.pub"),
        )?))
    }

    fn path(&self, state: KeyState, id: &str) -> PathBuf {
        self.dir.join(state.dir()).join(id)
    }

    /// The state of `id`'s key (rejected is checked first, as Salt's `_auth` does).
    pub fn state(&self, id: &str) -> Option<KeyState> {
        if !valid_id(id) {
            return None;
        }
        [
            KeyState::Rejected,
            KeyState::Accepted,
            KeyState::Pending,
            KeyState::Denied,
        ]
        .into_iter()
        .find(|s| self.path(*s, id).is_file())
    }

    /// The stored key text of `id` in `state`.
    pub fn read(&self, state: KeyState, id: &str) -> Option<String> {
        if !valid_id(id) {
            return None;
        }
        std::fs::read_to_string(self.path(state, id))
            .ok()
            .map(|t| clean_key(&t))
    }

    /// The accepted public key of `id`.
    pub fn accepted_key(&self, id: &str) -> Option<Result<PublicKey, CryptoError>> {
        self.read(KeyState::Accepted, id)
            .map(|t| PublicKey::from_pem(t.as_bytes()))
    }

    /// Store `text` as `id`'s key in `state`.
    pub fn write(&self, state: KeyState, id: &str, text: &str) -> std::io::Result<()> {
        if !valid_id(id) {
            return Err(std::io::Error::other(format!("invalid minion id {id:?}")));
        }
        write_private(&self.path(state, id), text.as_bytes(), 0o600)
    }

    /// Move `id`'s key from one state to another.
    pub fn moved(&self, from: KeyState, to: KeyState, id: &str) -> std::io::Result<()> {
        if !valid_id(id) {
            return Err(std::io::Error::other(format!("invalid minion id {id:?}")));
        }
        std::fs::rename(self.path(from, id), self.path(to, id))
    }

    /// Delete `id`'s key in `state`.
    pub fn delete(&self, state: KeyState, id: &str) -> std::io::Result<()> {
        if !valid_id(id) {
            return Err(std::io::Error::other(format!("invalid minion id {id:?}")));
        }
        std::fs::remove_file(self.path(state, id))
    }

    /// The ids in `state`, sorted.
    pub fn list(&self, state: KeyState) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.join(state.dir()))
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.path().is_file())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}
