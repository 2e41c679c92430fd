//! `_auth`: a minion presents its public key; the master accepts, pends, rejects or denies
//! it (Salt's decision order), and answers with a signed wrapper. An accepted minion gets
//! the AES key, its session key and (when it asked) its token back, each OAEP-encrypted to
//! its key, plus the X9.31 `sig` over the AES key's SHA-256.

use crate::pki::{valid_id, KeyState};
use crate::Master;
use halite_core::{Map, Value};
use halite_proto::crypto::{clean_key, sha256_hex};
use halite_proto::envelope::{get_bytes, get_str, map};
use halite_proto::{msgpack, EncAlgo, PublicKey, SigAlgo};

/// What became of one `_auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted: secrets sent.
    Accept,
    /// Pending: `{"ret": True}`.
    Pend,
    /// Rejected or invalid: `{"ret": False}`.
    Reject,
    /// A key that differs from the stored one: `{"ret": False}`.
    Denied,
    /// `max_minions` reached: `{"ret": "full"}`.
    Full,
}

impl Outcome {
    fn act(self) -> &'static str {
        match self {
            Outcome::Accept => "accept",
            Outcome::Pend => "pend",
            Outcome::Reject => "reject",
            Outcome::Denied => "denied",
            Outcome::Full => "full",
        }
    }
}

fn clear_reply(ret: Value) -> Value {
    Value::Map(map([
        ("enc", "clear".into()),
        ("load", Value::Map(map([("ret", ret)]))),
    ]))
}

/// Handle one `_auth` load; the reply to send.
pub fn handle(m: &Master, load: &Map) -> Value {
    let id = get_str(load, "id").unwrap_or("");
    let nonce = get_str(load, "nonce").unwrap_or("").to_string();
    let enc = match EncAlgo::parse(get_str(load, "enc_algo").unwrap_or("OAEP-SHA1")) {
        Ok(a) => a,
        Err(_) => return clear_reply("bad enc algo".into()),
    };
    let sig_algo = match SigAlgo::parse(get_str(load, "sig_algo").unwrap_or("PKCS1v15-SHA1")) {
        Ok(a) => a,
        Err(_) => return clear_reply("bad sig algo".into()),
    };
    let pub_text = clean_key(get_str(load, "pub").unwrap_or(""));
    let (outcome, inner) = decide(m, id, &pub_text, load, enc);
    let mut inner = inner;
    inner.insert("nonce".into(), nonce.into());
    if m.cfg.flag("auth_events") {
        let mut data = map([
            ("result", Value::Bool(outcome == Outcome::Accept)),
            ("act", outcome.act().into()),
            ("id", id.into()),
            ("pub", pub_text.clone().into()),
        ]);
        if outcome == Outcome::Pend {
            data.insert("result".into(), true.into());
        }
        m.events.fire("salt/auth", &Value::Map(data));
    }
    tracing::info!(
        minion = id,
        outcome = outcome.act(),
        "authentication request"
    );
    let body = msgpack::encode(&Value::Map(inner));
    let sig = match m.key.sign(sig_algo, &body) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("signing the auth reply: {e}");
            return clear_reply(false.into());
        }
    };
    Value::Map(map([
        ("enc", "clear".into()),
        ("load", Value::Bytes(body)),
        ("sig", Value::Bytes(sig)),
    ]))
}

fn ret(v: Value) -> Map {
    map([("ret", v)])
}

fn decide(m: &Master, id: &str, pub_text: &str, load: &Map, enc: EncAlgo) -> (Outcome, Map) {
    if !valid_id(id) || pub_text.is_empty() {
        return (Outcome::Reject, ret(false.into()));
    }
    let pki = &m.pki;
    let max = m.cfg.int("max_minions", 0);
    if max > 0
        && pki.state(id) != Some(KeyState::Accepted)
        && pki.list(KeyState::Accepted).len() as i64 >= max
    {
        return (Outcome::Full, ret("full".into()));
    }
    let autoreject = listed(m.cfg.str("autoreject_file"), id);
    let auto = m.cfg.flag("auto_accept") || listed(m.cfg.str("autosign_file"), id);
    let open = m.cfg.flag("open_mode");
    if open {
        if let Err(e) = pki.write(KeyState::Accepted, id, pub_text) {
            tracing::error!(minion = id, "storing the key: {e}");
            return (Outcome::Reject, ret(false.into()));
        }
        return accept(m, id, pub_text, load, enc);
    }
    match pki.state(id) {
        Some(KeyState::Rejected) => (Outcome::Reject, ret(false.into())),
        Some(KeyState::Accepted) => {
            if pki.read(KeyState::Accepted, id).as_deref() != Some(pub_text) {
                deny(m, id, pub_text)
            } else {
                accept(m, id, pub_text, load, enc)
            }
        }
        Some(KeyState::Pending) if autoreject => {
            if let Err(e) = pki.moved(KeyState::Pending, KeyState::Rejected, id) {
                tracing::error!(minion = id, "rejecting the key: {e}");
            }
            (Outcome::Reject, ret(false.into()))
        }
        Some(KeyState::Pending) => {
            if pki.read(KeyState::Pending, id).as_deref() != Some(pub_text) {
                deny(m, id, pub_text)
            } else if auto {
                if let Err(e) = pki.moved(KeyState::Pending, KeyState::Accepted, id) {
                    tracing::error!(minion = id, "accepting the key: {e}");
                    return (Outcome::Reject, ret(false.into()));
                }
                accept(m, id, pub_text, load, enc)
            } else {
                (Outcome::Pend, ret(true.into()))
            }
        }
        Some(KeyState::Denied) | None if autoreject => {
            if let Err(e) = pki.write(KeyState::Rejected, id, pub_text) {
                tracing::error!(minion = id, "storing the rejected key: {e}");
            }
            (Outcome::Reject, ret(false.into()))
        }
        Some(KeyState::Denied) | None => {
            let state = if auto {
                KeyState::Accepted
            } else {
                KeyState::Pending
            };
            if let Err(e) = pki.write(state, id, pub_text) {
                tracing::error!(minion = id, "storing the key: {e}");
                return (Outcome::Reject, ret(false.into()));
            }
            if auto {
                accept(m, id, pub_text, load, enc)
            } else {
                (Outcome::Pend, ret(true.into()))
            }
        }
    }
}

/// Is `id` named in an `autosign_file`/`autoreject_file` (one id or glob per line, `#`
/// comments)? A missing or unreadable file names nobody.
fn listed(file: Option<&str>, id: &str) -> bool {
    let Some(path) = file.filter(|f| !f.is_empty()) else {
        return false;
    };
    // Like Salt's `check_permissions`: a file others (or the group) may write could make
    // anyone's key accepted, so it is ignored.
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(md) if md.mode() & 0o022 != 0 => {
            tracing::warn!(
                path,
                "ignoring a group- or world-writable autosign/autoreject file"
            );
            return false;
        }
        Ok(_) => {}
        Err(_) => return false,
    }
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|l| l == id || halite_target::fnmatch(id, l))
}

fn deny(m: &Master, id: &str, pub_text: &str) -> (Outcome, Map) {
    tracing::warn!(
        minion = id,
        "a key that differs from the stored one: written to minions_denied"
    );
    if let Err(e) = m.pki.write(KeyState::Denied, id, pub_text) {
        tracing::error!(minion = id, "storing the denied key: {e}");
    }
    (Outcome::Denied, ret(false.into()))
}

fn accept(m: &Master, id: &str, pub_text: &str, load: &Map, enc: EncAlgo) -> (Outcome, Map) {
    let build = || -> Result<Map, String> {
        let minion = PublicKey::from_pem(pub_text.as_bytes()).map_err(|e| e.to_string())?;
        let aes = m.secrets.aes();
        let aes_bytes = aes.key_string().as_bytes();
        let session = m.secrets.session(id)?;
        let mut inner = Map::default();
        inner.insert("enc".into(), "pub".into());
        inner.insert("pub_key".into(), m.pub_text.clone().into());
        inner.insert(
            "publish_port".into(),
            Value::Int(m.cfg.int("publish_port", 4505)),
        );
        inner.insert(
            "aes".into(),
            Value::Bytes(minion.encrypt(enc, aes_bytes).map_err(|e| e.to_string())?),
        );
        inner.insert(
            "session".into(),
            Value::Bytes(
                minion
                    .encrypt(enc, session.key_string().as_bytes())
                    .map_err(|e| e.to_string())?,
            ),
        );
        if let Some(tok) = get_bytes(load, "token") {
            // A token we cannot decrypt (a minion holding another master's key) is left
            // out: the minion then refuses this master.
            match m.key.decrypt(enc, tok) {
                Ok(plain) => {
                    let again = minion.encrypt(enc, &plain).map_err(|e| e.to_string())?;
                    inner.insert("token".into(), Value::Bytes(again));
                }
                Err(e) => tracing::warn!(minion = id, "could not decrypt the auth token: {e}"),
            }
        }
        let sig = m
            .key
            .x931_sign(sha256_hex(aes_bytes).as_bytes())
            .map_err(|e| e.to_string())?;
        inner.insert("sig".into(), Value::Bytes(sig));
        Ok(inner)
    };
    match build() {
        Ok(inner) => (Outcome::Accept, inner),
        Err(e) => {
            tracing::error!(minion = id, "building the auth reply: {e}");
            (Outcome::Reject, ret(false.into()))
        }
    }
}
