//! The minion's request channel to its master (Salt's `AsyncReqChannel`): v3 envelopes
//! under the session key with `nonce`, `ts`, `tok` and `id`; replies checked against the
//! nonce; on a reply that does not decrypt (a rotated session key, a restarted master), one
//! re-authentication and one retry. `_pillar` replies are opened in Salt's private format.

use super::auth::{sign_in, Creds, Keys, SignIn};
use halite_core::{Map, Value};
use halite_proto::crypto::new_nonce;
use halite_proto::envelope::{get_bytes, map};
use halite_proto::transport::{Keepalive, ReqClient};
use halite_proto::{msgpack, Crypticle, CryptoError, EncAlgo, SigAlgo};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// A channel to the master.
pub struct Channel {
    /// The minion id.
    pub id: String,
    /// The key pair.
    pub keys: Keys,
    ctx: zmq::Context,
    endpoint: String,
    creds: RwLock<Option<Arc<Creds>>>,
    /// One sign-in at a time: concurrent re-authentications would race to replace the
    /// credentials (and the AES key's replay guard with them).
    auth_lock: Mutex<()>,
    pool: Mutex<Vec<ReqClient>>,
    /// How long one request may wait for its reply.
    pub timeout: Duration,
    /// How long a sign-in may wait for its reply (`auth_timeout`).
    pub auth_timeout: Duration,
    keepalive: Keepalive,
}

/// Why a request failed.
#[derive(Debug)]
pub enum ChannelError {
    /// Authentication failed or is pending.
    Auth(String),
    /// No reply, or a transport error.
    Transport(String),
    /// A reply that could not be read even after re-authenticating.
    Reply(String),
}

impl std::fmt::Display for ChannelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChannelError::Auth(s) | ChannelError::Transport(s) | ChannelError::Reply(s) => {
                f.write_str(s)
            }
        }
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Channel {
    /// A channel to `endpoint` (`tcp://master:master_port`).
    pub fn new(
        ctx: &zmq::Context,
        endpoint: String,
        id: String,
        keys: Keys,
        timeout: Duration,
        keepalive: Keepalive,
    ) -> Channel {
        Channel {
            id,
            keys,
            ctx: ctx.clone(),
            endpoint,
            creds: RwLock::new(None),
            auth_lock: Mutex::new(()),
            pool: Mutex::new(Vec::new()),
            timeout,
            auth_timeout: Duration::from_secs(5),
            keepalive,
        }
    }

    fn take(&self) -> ReqClient {
        self.pool
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .unwrap_or_else(|| ReqClient::new(&self.ctx, &self.endpoint, self.keepalive))
    }

    fn give(&self, c: ReqClient) {
        let mut p = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if p.len() < 8 {
            p.push(c);
        }
    }

    /// The current credentials, if signed in.
    pub fn creds(&self) -> Option<Arc<Creds>> {
        self.creds.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sign in once; on success the new credentials replace the old.
    pub fn authenticate(&self) -> Result<SignIn, String> {
        let _one_at_a_time = self.auth_lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut req = self.take();
        let r = sign_in(&mut req, &self.id, &self.keys, self.auth_timeout);
        self.give(req);
        match r? {
            SignIn::Accepted(mut c) => {
                // The same AES key keeps its Crypticle, and so its replay guard.
                if let Some(old) = self.creds() {
                    if old.aes.key_string() == c.aes.key_string() {
                        c.aes = old.aes.clone();
                    }
                }
                let c = Arc::new(c);
                *self.creds.write().unwrap_or_else(|p| p.into_inner()) = Some(c.clone());
                tracing::info!(master = %self.endpoint, "authenticated with the master");
                Ok(SignIn::Accepted(Creds {
                    aes: c.aes.clone(),
                    session: c.session.clone(),
                    master_pub: c.master_pub.clone(),
                }))
            }
            other => Ok(other),
        }
    }

    fn reauth(&self) -> Result<Arc<Creds>, ChannelError> {
        match self.authenticate() {
            Ok(SignIn::Accepted(_)) => self
                .creds()
                .ok_or_else(|| ChannelError::Auth("no credentials".into())),
            Ok(SignIn::Pending) => Err(ChannelError::Auth("the minion key is pending".into())),
            Ok(SignIn::Rejected) => Err(ChannelError::Auth("the minion key was rejected".into())),
            Ok(SignIn::Full) => Err(ChannelError::Auth("the master is full".into())),
            Err(e) => Err(ChannelError::Auth(e)),
        }
    }

    fn once(&self, session: &Crypticle, load: &Map) -> Result<(Value, String), ChannelError> {
        let nonce = new_nonce();
        let mut load = load.clone();
        load.insert("nonce".into(), nonce.clone().into());
        load.insert("ts".into(), Value::Int(now_secs()));
        load.insert("tok".into(), Value::Bytes(self.keys.tok.clone()));
        load.insert("id".into(), self.id.clone().into());
        let ct = session
            .dumps(&Value::Map(load), None)
            .map_err(|e| ChannelError::Reply(e.to_string()))?;
        let frame = msgpack::encode(&Value::Map(map([
            ("enc", "aes".into()),
            ("load", Value::Bytes(ct)),
            ("version", Value::Int(3)),
            ("id", self.id.clone().into()),
            ("enc_algo", EncAlgo::OaepSha1.name().into()),
            ("sig_algo", SigAlgo::Pkcs1v15Sha1.name().into()),
        ])));
        let mut req = self.take();
        let r = req.request(&frame, self.timeout);
        if r.is_ok() {
            self.give(req);
        }
        let raw = r.map_err(|e| ChannelError::Transport(e.to_string()))?;
        let v = msgpack::decode(&raw).map_err(|e| ChannelError::Reply(e.to_string()))?;
        Ok((v, nonce))
    }

    /// Send `load` (with `cmd`) and return the decrypted reply. A reply that does not
    /// decrypt makes the minion re-authenticate and retry once, as Salt's does.
    pub fn request(&self, load: &Map) -> Result<Value, ChannelError> {
        let mut creds = match self.creds() {
            Some(c) => c,
            None => self.reauth()?,
        };
        for attempt in 0..2 {
            let (reply, nonce) = self.once(&creds.session, load)?;
            let opened = match &reply {
                Value::Map(m) if m.contains_key("key") && m.contains_key("pillar") => {
                    self.open_private(&creds, m, &nonce)
                }
                Value::Bytes(b) => creds.session.loads(b, Some(&nonce)),
                Value::Str(s) => creds.session.loads(s.as_bytes(), Some(&nonce)),
                other => Err(CryptoError::Failed(format!(
                    "unexpected reply {}",
                    other.py_str()
                ))),
            };
            match opened {
                Ok(v) => return Ok(v),
                Err(e) if attempt == 0 => {
                    tracing::info!("a reply did not decrypt ({e}): re-authenticating");
                    creds = self.reauth()?;
                }
                Err(e) => return Err(ChannelError::Reply(e.to_string())),
            }
        }
        Err(ChannelError::Reply("unreachable".into()))
    }

    fn open_private(&self, creds: &Creds, m: &Map, nonce: &str) -> Result<Value, CryptoError> {
        let key_ct = get_bytes(m, "key").ok_or(CryptoError::Failed("no key".into()))?;
        let k = self.keys.private.decrypt(EncAlgo::OaepSha1, key_ct)?;
        let k = String::from_utf8(k).map_err(|e| CryptoError::Failed(e.to_string()))?;
        let c = Crypticle::new(&k)?;
        let outer = c.loads(
            get_bytes(m, "pillar").ok_or(CryptoError::Failed("no pillar".into()))?,
            None,
        )?;
        let outer = outer
            .as_map()
            .ok_or(CryptoError::Failed("bad pillar".into()))?;
        let data = get_bytes(outer, "data").ok_or(CryptoError::Failed("no data".into()))?;
        let sig = get_bytes(outer, "sig").ok_or(CryptoError::Failed("no sig".into()))?;
        if !creds.master_pub.verify(SigAlgo::Pkcs1v15Sha1, data, sig) {
            return Err(CryptoError::Failed(
                "Pillar payload signature failed to validate.".into(),
            ));
        }
        let inner = msgpack::decode(data).map_err(|e| CryptoError::Failed(e.to_string()))?;
        let inner = inner
            .as_map()
            .ok_or(CryptoError::Failed("bad pillar data".into()))?;
        if get_bytes(inner, "key") != Some(key_ct) {
            return Err(CryptoError::Failed(
                "Pillar encrypted key does not match".into(),
            ));
        }
        if get_bytes(inner, "nonce") != Some(nonce.as_bytes()) {
            return Err(CryptoError::Nonce);
        }
        Ok(inner.get("pillar").cloned().unwrap_or(Value::Null))
    }

    /// Decrypt a publication frame with the AES key, re-authenticating once when it does not
    /// decrypt (a rotated key). `Ok(None)`: a replay or not for us, dropped.
    pub fn open_publication(&self, frame: &[u8], verify_sig: bool) -> Result<Option<Map>, String> {
        let env = match msgpack::decode(frame) {
            Ok(Value::Map(m)) => m,
            Ok(_) => return Err("publication is not a dict".into()),
            Err(e) => return Err(format!("publication: {e}")),
        };
        let ct = get_bytes(&env, "load").ok_or("publication without load")?;
        let mut creds = match self.creds() {
            Some(c) => c,
            None => self.reauth().map_err(|e| e.to_string())?,
        };
        for attempt in 0..2 {
            if verify_sig {
                let sig = get_bytes(&env, "sig").ok_or("publication without sig")?;
                let algo = SigAlgo::parse(
                    halite_proto::envelope::get_str(&env, "sig_algo").unwrap_or("PKCS1v15-SHA1"),
                )
                .map_err(|e| e.to_string())?;
                if !creds.master_pub.verify(algo, ct, sig) {
                    return Err("publication signature failed to validate".into());
                }
            }
            match creds.aes.loads(ct, None) {
                Ok(Value::Map(m)) => return Ok(Some(m)),
                Ok(_) => return Ok(None),
                Err(CryptoError::Replay(s, last)) => {
                    tracing::warn!(serial = s, last, "dropped a replayed publication");
                    return Ok(None);
                }
                Err(e) if attempt == 0 => {
                    tracing::info!("a publication did not decrypt ({e}): re-authenticating");
                    // Most likely a restarted master: idle request sockets may sit in
                    // reconnect back-off, fresh ones connect at once.
                    self.pool.lock().unwrap_or_else(|p| p.into_inner()).clear();
                    creds = self.reauth().map_err(|e| e.to_string())?;
                }
                Err(e) => return Err(format!("publication: {e}")),
            }
        }
        Ok(None)
    }
}
