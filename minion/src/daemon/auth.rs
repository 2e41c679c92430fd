//! The minion side of `_auth` (Salt's `AsyncAuth`): the key pair in `pki_dir`, the signed
//! sign-in, and every check Salt's minion makes on the reply before it trusts a master
//! (wrapper signature, nonce, the cached master key, the X9.31 `sig` over the AES key,
//! the token echo).

use halite_core::{Map, Value};
use halite_proto::crypto::{clean_key, new_key_string, new_nonce, sha256_hex};
use halite_proto::envelope::{clear, get_bytes, get_str, map};
use halite_proto::transport::ReqClient;
use halite_proto::{msgpack, Crypticle, EncAlgo, PrivateKey, PublicKey, SigAlgo};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The minion's key pair and its constant request token.
pub struct Keys {
    /// `minion.pem`.
    pub private: PrivateKey,
    /// `clean_key(minion.pub)`, sent in `_auth`.
    pub pub_text: String,
    /// X9.31 of `b"salt"`: the `tok` of every request.
    pub tok: Vec<u8>,
    /// The `pki_dir`.
    pub dir: PathBuf,
    /// `master_finger`: the fingerprint the master's key must have on first contact.
    pub master_finger: Option<String>,
}

/// Write a key file atomically: a private temp file beside it (0600 from the start),
/// fsync, the final mode, rename.
fn write_key(path: &Path, data: &[u8], mode: u32) -> Result<(), String> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(data).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode)).map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

impl Keys {
    /// Read `minion.pem`/`minion.pub` from `pki_dir`, generating them on first start.
    pub fn load_or_generate(dir: &Path, bits: u32) -> Result<Keys, String> {
        std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let pem = dir.join("minion.pem");
        let pubp = dir.join("minion.pub");
        let private = match std::fs::read(&pem) {
            Ok(b) => PrivateKey::from_pem(&b).map_err(|e| format!("{}: {e}", pem.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let k = PrivateKey::generate(bits).map_err(|e| e.to_string())?;
                write_key(&pem, &k.to_pem().map_err(|e| e.to_string())?, 0o400)?;
                write_key(
                    &pubp,
                    k.public_pem().map_err(|e| e.to_string())?.as_bytes(),
                    0o600,
                )?;
                tracing::info!(path = %pem.display(), "generated the minion key pair");
                k
            }
            Err(e) => return Err(format!("{}: {e}", pem.display())),
        };
        let pub_text = match std::fs::read_to_string(&pubp) {
            Ok(t) => clean_key(&t),
            Err(_) => {
                let t = private.public_pem().map_err(|e| e.to_string())?;
                write_key(&pubp, t.as_bytes(), 0o600)?;
                clean_key(&t)
            }
        };
        let tok = private.x931_sign(b"salt").map_err(|e| e.to_string())?;
        Ok(Keys {
            private,
            pub_text,
            tok,
            dir: dir.to_path_buf(),
            master_finger: None,
        })
    }

    fn master_pub_path(&self) -> PathBuf {
        self.dir.join("minion_master.pub")
    }

    /// The cached master key, when this minion has met its master.
    pub fn master_pub(&self) -> Option<PublicKey> {
        let t = std::fs::read_to_string(self.master_pub_path()).ok()?;
        PublicKey::from_pem(t.as_bytes()).ok()
    }
}

/// What an accepted sign-in gives.
pub struct Creds {
    /// The publication key.
    pub aes: Arc<Crypticle>,
    /// The request key.
    pub session: Arc<Crypticle>,
    /// The master's key.
    pub master_pub: PublicKey,
}

/// The outcome of one sign-in.
pub enum SignIn {
    /// Accepted.
    Accepted(Creds),
    /// The key waits for acceptance on the master.
    Pending,
    /// Rejected or denied.
    Rejected,
    /// The master has `max_minions` minions.
    Full,
}

/// Sign in once.
pub fn sign_in(
    req: &mut ReqClient,
    id: &str,
    keys: &Keys,
    timeout: Duration,
) -> Result<SignIn, String> {
    let nonce = new_nonce();
    let token = new_key_string();
    let cached = keys.master_pub();
    let mut load = map([
        ("cmd", "_auth".into()),
        ("id", id.into()),
        ("nonce", nonce.clone().into()),
        ("enc_algo", EncAlgo::OaepSha1.name().into()),
        ("sig_algo", SigAlgo::Pkcs1v15Sha1.name().into()),
        ("pub", keys.pub_text.clone().into()),
    ]);
    if let Some(mp) = &cached {
        let t = mp
            .encrypt(EncAlgo::OaepSha1, token.as_bytes())
            .map_err(|e| e.to_string())?;
        load.insert("token".into(), Value::Bytes(t));
    }
    let sent_token = load.contains_key("token");
    let reply = req
        .request(&clear(load), timeout)
        .map_err(|e| e.to_string())?;
    let reply = msgpack::decode(&reply).map_err(|e| format!("auth reply: {e}"))?;
    let Value::Map(reply) = reply else {
        return Err(format!("auth reply is not a dict: {}", reply.py_str()));
    };
    if let Some(Value::Map(l)) = reply.get("load") {
        if let Some(r) = get_str(l, "ret") {
            return Err(format!("the master refused the algorithms: {r}"));
        }
    }
    let body = get_bytes(&reply, "load").ok_or("auth reply without load")?;
    let inner = match msgpack::decode(body) {
        Ok(Value::Map(m)) => m,
        _ => return Err("auth reply load is not a dict".into()),
    };
    let mut master_pub = cached;
    let mut creds = None;
    if let Some(pk) = get_str(&inner, "pub_key") {
        let pk = clean_key(pk);
        match &master_pub {
            Some(_) => {
                let stored = std::fs::read_to_string(keys.master_pub_path())
                    .map(|t| clean_key(&t))
                    .unwrap_or_default();
                if stored != pk {
                    return Err(
                        "The master key has changed, the salt master could have been subverted, verify salt master's public key"
                            .into(),
                    );
                }
            }
            None => {
                if let Some(want) = keys.master_finger.as_deref().filter(|f| !f.is_empty()) {
                    let got = halite_proto::crypto::pem_finger(&pk);
                    if got != want {
                        return Err(format!(
                            "The specified fingerprint in the master configuration file:\n{want}\nDoes not match the authenticating master's key:\n{got}\nVerify that the configured fingerprint matches the fingerprint of the correct master and that this minion is not subject to a man-in-the-middle attack."
                        ));
                    }
                }
                write_key(&keys.master_pub_path(), pk.as_bytes(), 0o600)?;
                master_pub = Some(PublicKey::from_pem(pk.as_bytes()).map_err(|e| e.to_string())?);
            }
        }
        let mp = master_pub.clone().ok_or("no master key")?;
        creds = Some(extract(&inner, keys, &mp, &token, sent_token)?);
    }
    // Without a cached master key (first contact, key still pending) there is nothing to
    // verify the wrapper with, as in Salt; such a reply can only say pending or rejected.
    if let Some(mp) = &master_pub {
        let sig = get_bytes(&reply, "sig").ok_or("auth reply without sig")?;
        if !mp.verify(SigAlgo::Pkcs1v15Sha1, body, sig) {
            return Err("Invalid signature on the master's auth reply".into());
        }
    } else if creds.is_some() {
        return Err("the master sent secrets without its key".into());
    }
    if get_str(&inner, "nonce") != Some(nonce.as_str()) {
        return Err("Invalid nonce in the master's auth reply".into());
    }
    if let Some(ret) = inner.get("ret") {
        return Ok(match ret {
            Value::Bool(true) => SignIn::Pending,
            Value::Str(s) if s == "full" => SignIn::Full,
            _ => SignIn::Rejected,
        });
    }
    creds
        .map(SignIn::Accepted)
        .ok_or_else(|| "auth reply without secrets".into())
}

fn extract(
    inner: &Map,
    keys: &Keys,
    mp: &PublicKey,
    token: &str,
    sent_token: bool,
) -> Result<Creds, String> {
    let aes = keys
        .private
        .decrypt(
            EncAlgo::OaepSha1,
            get_bytes(inner, "aes").ok_or("no aes in the auth reply")?,
        )
        .map_err(|e| format!("decrypting the AES key: {e}"))?;
    let sig = get_bytes(inner, "sig").ok_or("Message signature failed to validate.")?;
    let digest = mp
        .x931_recover(sig)
        .map_err(|e| format!("the AES key signature: {e}"))?;
    if digest != sha256_hex(&aes).as_bytes() {
        return Err("Message signature failed to validate.".into());
    }
    if sent_token {
        let t = get_bytes(inner, "token").ok_or("Invalid master key: no token echoed")?;
        let t = keys
            .private
            .decrypt(EncAlgo::OaepSha1, t)
            .map_err(|e| format!("Invalid master key: {e}"))?;
        if t != token.as_bytes() {
            return Err("Invalid master key: the token does not match".into());
        }
    }
    let session = keys
        .private
        .decrypt(
            EncAlgo::OaepSha1,
            get_bytes(inner, "session").ok_or("no session key in the auth reply")?,
        )
        .map_err(|e| format!("decrypting the session key: {e}"))?;
    let s = |b: Vec<u8>| String::from_utf8(b).map_err(|e| e.to_string());
    Ok(Creds {
        aes: Arc::new(Crypticle::new(&s(aes)?).map_err(|e| e.to_string())?),
        session: Arc::new(Crypticle::new(&s(session)?).map_err(|e| e.to_string())?),
        master_pub: mp.clone(),
    })
}
