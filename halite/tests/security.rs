//! Security end to end: a real Halite `salt-master` process (started by the fleet harness on
//! free ports with a temp `root_dir`) attacked by hostile and forged minions built from
//! Halite's own wire pieces (`halite_proto`) and minion-side types
//! (`halite_minion::daemon::{auth::Keys, channel::Channel}`).
//!
//! Every refusal is checked three ways:
//!
//! * **refused**: the reply is exactly the msgpack string `"bad load"` (wire-protocol.md
//!   §1.4), or an auth reply saying pending / rejected, or nothing the attacker can decrypt;
//! * **nothing served**: the reply bytes hold no pillar value and no file content (each
//!   test plants random secrets in the pillar and the file roots, and a *legitimate*
//!   request in the same test shows that those secrets are served to whoever may see them,
//!   so their absence means something);
//! * **logged**: the master's log (the harness runs it with `-l debug`) gets a
//!   `refused a request: <why>` line for that request.
//!
//! The groups (one `#[test]` each, each with its own master):
//!
//! 1. [`invalid_tok_is_refused`]: AES requests from an accepted minion with a `tok` that is
//!    random, made with another key, or not over `b"salt"`.
//! 2. [`missing_tok_old_versions_and_private_commands_are_refused`]: no `tok`; request
//!    protocol versions 2, 1 and none (including a v2-style request under the shared AES
//!    key, which every minion knows); a `__` command.
//! 3. [`a_minion_cannot_read_another_minions_pillar`]: minion A asks for minion B's pillar
//!    by putting B's id in the load, in the envelope, or in its grains.
//! 4. [`pending_rejected_and_revoked_keys_get_nothing`]: a pending key, a rejected key, an
//!    impostor presenting another key for an accepted id, and an accepted minion whose key
//!    is then rejected (it still holds a valid session key) ask for pillar and files; plus
//!    `..` paths from an accepted minion.
//! 5. [`replayed_publications_are_dropped`]: publications captured off the PUB socket are
//!    opened by a real minion-side `Channel` once (ok), then again (dropped as a replay),
//!    older serials are dropped even when properly signed; a forged `publish` without the
//!    root key publishes nothing; revoking a key rotates the AES key, so the revoked minion
//!    cannot read later publications.
//! 6. [`malformed_frames_get_bad_load_and_the_master_keeps_serving`]: garbage, lying
//!    lengths, deep nesting, odd envelopes and multi-part messages on the ret port, then a
//!    legitimate sign-in, request and a real `salt-minion` answering `salt test.ping`.
//! 7. [`pki_and_secret_files_have_private_modes`]: modes of `pki_dir`, its subdirs and key
//!    files, the session keys and `.<user>_key`, once keys were accepted; and no key
//!    material in the master's debug log.
//!
//! On failure the message carries the daemon logs and the temp dir is kept (see
//! `common/fleet.rs`, e.g. `HALITE_FLEET_KEEP=1`).

#[path = "common/fleet.rs"]
mod harness;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use halite_core::{Map, Value};
use halite_minion::daemon::auth::{Keys, SignIn};
use halite_minion::daemon::channel::Channel;
use halite_proto::crypto::{hex, new_key_string, new_nonce, random_bytes};
use halite_proto::envelope::{clear, get_bytes, get_str, map, publication};
use halite_proto::transport::{tcp_endpoint, Keepalive, ReqClient, Subscriber};
use halite_proto::{msgpack, Crypticle, EncAlgo, PrivateKey, PublicKey, SigAlgo};
use harness::{strip_ansi, wait_until, Fleet};

/// Waiting for the master (and, in group 6, a real minion) to come up.
const STARTUP: Duration = Duration::from_secs(60);
/// Upper bound for one request's reply.
const REQ_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a refusal may take to show up in the master log.
const LOG_WAIT: Duration = Duration::from_secs(10);
/// Key size of the forged minions (Salt's default).
const KEY_BITS: u32 = 2048;
/// What the master writes for every refused request.
const REFUSED: &str = "refused a request: ";

/// The reply to a refused request: the msgpack string `"bad load"`.
fn bad_load() -> Vec<u8> {
    msgpack::encode(&Value::Str("bad load".into()))
}

/// Whether `needle` occurs in `hay`.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A reply frame for a failure message: decoded when possible, clipped.
fn describe(reply: &[u8]) -> String {
    let shown = match msgpack::decode(reply) {
        Ok(v) => v.py_str(),
        Err(e) => format!("(not msgpack: {e})"),
    };
    let mut s: String = shown.chars().take(400).collect();
    if s.len() < shown.len() {
        s.push_str("...");
    }
    format!("{s} [{} bytes]", reply.len())
}

fn signin_name(s: &SignIn) -> &'static str {
    match s {
        SignIn::Accepted(_) => "accepted",
        SignIn::Pending => "pending",
        SignIn::Rejected => "rejected",
        SignIn::Full => "full",
    }
}

/// The random secrets one lab plants; none may reach a party that must not see them.
struct Secrets {
    /// In the pillar of minion `b` only (`secret: ...`).
    pillar_b: String,
    /// In the pillar of every minion (`common: ...`): what a pending key must not get.
    pillar_common: String,
    /// The content of `salt://secret.txt`.
    file: String,
}

impl Secrets {
    fn new() -> Secrets {
        Secrets {
            pillar_b: format!("b-only-{}", hex(&random_bytes(12))),
            pillar_common: format!("accepted-only-{}", hex(&random_bytes(12))),
            file: format!("file-secret-{}", hex(&random_bytes(12))),
        }
    }

    /// The pillar tree (`'*'` gets `common`, `a` and `r` get `visible`, `b` gets `secret`)
    /// and the file root (`secret.txt`).
    fn write(&self, fleet: &Fleet) {
        fleet.write(
            "srv/pillar/top.sls",
            "base:\n  '*':\n    - common\n  'a':\n    - visible\n  'r':\n    - visible\n  'b':\n    - secret\n",
        );
        fleet.write(
            "srv/pillar/common.sls",
            &format!("common: {}\n", self.pillar_common),
        );
        fleet.write("srv/pillar/visible.sls", "visible: alpha\n");
        fleet.write(
            "srv/pillar/secret.sls",
            &format!("secret: {}\n", self.pillar_b),
        );
        fleet.write("srv/salt/secret.txt", &self.file);
    }
}

/// A hand-driven minion: its own key pair under `<root>/forged/<dir>/pki` and a real
/// minion-side [`Channel`] (which signs in exactly as `salt-minion` does).
struct Forged {
    id: String,
    chan: Channel,
}

impl Forged {
    /// The session key the master gave this minion (it must be signed in).
    fn session(&self) -> Arc<Crypticle> {
        self.chan
            .creds()
            .unwrap_or_else(|| panic!("{} is not signed in", self.id))
            .session
            .clone()
    }

    /// The publication (master AES) key this minion got.
    fn aes(&self) -> Arc<Crypticle> {
        self.chan
            .creds()
            .unwrap_or_else(|| panic!("{} is not signed in", self.id))
            .aes
            .clone()
    }

    fn master_pub(&self) -> PublicKey {
        self.chan
            .creds()
            .unwrap_or_else(|| panic!("{} is not signed in", self.id))
            .master_pub
            .clone()
    }

    /// This minion's `tok` (X9.31 of `b"salt"` with its key), as a load value.
    fn tok(&self) -> Value {
        Value::Bytes(self.chan.keys.tok.clone())
    }
}

/// The load a minion encrypts, with the fields Salt's `AsyncReqChannel` adds (`nonce`,
/// `ts`, `id`) and `tok` when given; the nonce is returned for opening the reply.
fn load(cmd: &str, id: &str, tok: Option<Value>, extra: Vec<(&str, Value)>) -> (Map, String) {
    let nonce = new_nonce();
    let mut l = map([
        ("cmd", cmd.into()),
        ("id", id.into()),
        ("nonce", nonce.clone().into()),
        ("ts", Value::Int(now_secs())),
    ]);
    if let Some(t) = tok {
        l.insert("tok".into(), t);
    }
    for (k, v) in extra {
        l.insert(k.into(), v);
    }
    (l, nonce)
}

/// The extra load fields of `_serve_file` for `salt://<path>` from the start.
fn serve(path: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("path", path.into()),
        ("saltenv", "base".into()),
        ("loc", Value::Int(0)),
    ]
}

/// The extra load fields of `_pillar` (what a 3008 minion sends, give or take grains).
fn pillar_req(grains_id: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("grains", Value::Map(map([("id", grains_id.into())]))),
        ("saltenv", "base".into()),
        ("pillarenv", Value::Null),
        ("pillar_override", Value::Map(Map::default())),
        ("extra_minion_data", Value::Map(Map::default())),
        ("ver", "2".into()),
    ]
}

/// An AES request envelope (wire-protocol.md §1.4) naming `envelope_id`, with `load`
/// encrypted under `key`; `version: None` leaves the field out.
fn aes_frame(envelope_id: &str, key: &Crypticle, load: &Map, version: Option<i64>) -> Vec<u8> {
    let ct = key
        .dumps(&Value::Map(load.clone()), None)
        .expect("encrypting a forged load");
    let mut env = map([
        ("enc", "aes".into()),
        ("load", Value::Bytes(ct)),
        ("id", envelope_id.into()),
        ("enc_algo", EncAlgo::OaepSha1.name().into()),
        ("sig_algo", SigAlgo::Pkcs1v15Sha1.name().into()),
    ]);
    if let Some(v) = version {
        env.insert("version".into(), Value::Int(v));
    }
    msgpack::encode(&Value::Map(env))
}

/// Opens a `send` reply: the session Crypticle with the request nonce.
fn open_send(session: &Crypticle, reply: &[u8], nonce: &str) -> Result<Value, String> {
    let ct = match msgpack::decode(reply) {
        Ok(Value::Bytes(b)) => b,
        Ok(Value::Str(s)) => s.into_bytes(),
        Ok(other) => return Err(format!("reply is not bytes: {}", other.py_str())),
        Err(e) => return Err(format!("reply is not msgpack: {e}")),
    };
    session.loads(&ct, Some(nonce)).map_err(|e| e.to_string())
}

/// Opens a `send_private` (pillar) reply the way a minion does (wire-protocol.md §6.2):
/// the one-off key under the minion key, the signature by the master, the nonce.
fn open_private(
    keys: &Keys,
    master: &PublicKey,
    reply: &[u8],
    nonce: &str,
) -> Result<Value, String> {
    let Ok(Value::Map(m)) = msgpack::decode(reply) else {
        return Err(format!("pillar reply is not a dict: {}", describe(reply)));
    };
    let key_ct = get_bytes(&m, "key").ok_or("pillar reply without key")?;
    let k = keys
        .private
        .decrypt(EncAlgo::OaepSha1, key_ct)
        .map_err(|e| format!("one-off key: {e}"))?;
    let k = String::from_utf8(k).map_err(|e| e.to_string())?;
    let c = Crypticle::new(&k).map_err(|e| e.to_string())?;
    let outer = c
        .loads(
            get_bytes(&m, "pillar").ok_or("pillar reply without pillar")?,
            None,
        )
        .map_err(|e| e.to_string())?;
    let outer = outer.as_map().ok_or("pillar envelope is not a dict")?;
    let data = get_bytes(outer, "data").ok_or("no data")?;
    let sig = get_bytes(outer, "sig").ok_or("no sig")?;
    if !master.verify(SigAlgo::Pkcs1v15Sha1, data, sig) {
        return Err("pillar signature does not verify".into());
    }
    let inner = msgpack::decode(data).map_err(|e| e.to_string())?;
    let inner = inner.as_map().ok_or("pillar data is not a dict")?;
    if get_bytes(inner, "nonce") != Some(nonce.as_bytes()) {
        return Err("pillar nonce mismatch".into());
    }
    Ok(inner.get("pillar").cloned().unwrap_or(Value::Null))
}

/// A running Halite master and what the hostile clients need to reach it.
struct Lab {
    fleet: Fleet,
    ctx: zmq::Context,
    secrets: Secrets,
}

impl Lab {
    /// Writes the trees, starts `salt-master` (harness default `-l debug`) and waits until
    /// it has its key and says it is starting.
    fn start(name: &str) -> Lab {
        let mut fleet = Fleet::new("");
        let secrets = Secrets::new();
        secrets.write(&fleet);
        fleet.step(&format!("{name}: starting salt-master"));
        fleet.start_master();
        let pub_path = fleet.master_dir().join("etc/salt/pki/master/master.pub");
        let log = fleet.path("logs/master.log");
        fleet.wait_for("the master to start", STARTUP, |_| {
            let text = fs::read_to_string(&log).unwrap_or_default();
            if pub_path.is_file() && text.contains("salt-master is starting") {
                Ok(())
            } else {
                Err(format!(
                    "master.pub present: {}; log has the start line: {}",
                    pub_path.is_file(),
                    text.contains("salt-master is starting")
                ))
            }
        });
        Lab {
            fleet,
            ctx: zmq::Context::new(),
            secrets,
        }
    }

    fn ret_endpoint(&self) -> String {
        tcp_endpoint("127.0.0.1", self.fleet.ret_port)
    }

    fn pub_endpoint(&self) -> String {
        tcp_endpoint("127.0.0.1", self.fleet.publish_port)
    }

    /// The master's `pki_dir` (`<root_dir>/etc/salt/pki/master`).
    fn pki(&self) -> PathBuf {
        self.fleet.master_dir().join("etc/salt/pki/master")
    }

    /// The master's `cachedir` (`<root_dir>/var/cache/salt/master`).
    fn cachedir(&self) -> PathBuf {
        self.fleet.master_dir().join("var/cache/salt/master")
    }

    fn log_path(&self) -> PathBuf {
        self.fleet.path("logs/master.log")
    }

    /// The master log's current length: a mark to read what a request adds.
    fn log_mark(&self) -> usize {
        fs::metadata(self.log_path())
            .map(|m| m.len() as usize)
            .unwrap_or(0)
    }

    /// What the master logged since `mark`.
    fn log_since(&self, mark: usize) -> String {
        let bytes = fs::read(self.log_path()).unwrap_or_default();
        strip_ansi(&String::from_utf8_lossy(
            bytes.get(mark..).unwrap_or_default(),
        ))
    }

    /// Waits until the master logged `needle` after `mark`.
    fn expect_log(&self, mark: usize, needle: &str, what: &str) {
        let found = wait_until(Instant::now() + LOG_WAIT, || {
            self.log_since(mark).contains(needle)
        });
        if !found {
            self.fleet.fail(&format!(
                "{what}: the master did not log {needle:?}; it logged since the request:\n{}",
                self.log_since(mark)
            ));
        }
    }

    /// One request frame on the ret port through a fresh REQ socket; its reply.
    fn raw(&self, frame: &[u8], what: &str) -> Vec<u8> {
        let mut req = ReqClient::new(&self.ctx, &self.ret_endpoint(), Keepalive::default());
        req.request(frame, REQ_TIMEOUT)
            .unwrap_or_else(|e| self.fleet.fail(&format!("{what}: no reply: {e}")))
    }

    /// Sends `frame` and checks it is refused: the reply is exactly `"bad load"`, holds none
    /// of `secrets`, and the master logs `refused a request: <reason>` (`reason` is the
    /// start of the master's explanation; `""` accepts any).
    fn refused(&self, what: &str, frame: &[u8], reason: &str, secrets: &[&str]) {
        let mark = self.log_mark();
        let reply = self.raw(frame, what);
        for s in secrets {
            self.fleet.check(!contains(&reply, s.as_bytes()), || {
                format!(
                    "{what}: the reply carries the secret {s:?}: {}",
                    describe(&reply)
                )
            });
        }
        self.fleet.check(reply == bad_load(), || {
            format!(
                "{what}: expected the reply \"bad load\", got {}",
                describe(&reply)
            )
        });
        self.expect_log(mark, &format!("{REFUSED}{reason}"), what);
        eprintln!("[security] refused as expected: {what}");
    }

    /// Every secret this lab planted.
    fn all_secrets(&self) -> Vec<&str> {
        vec![
            self.secrets.pillar_b.as_str(),
            self.secrets.pillar_common.as_str(),
            self.secrets.file.as_str(),
        ]
    }

    /// A forged minion with a fresh key pair (`dir` names its pki dir, so two minions may
    /// claim one id with different keys).
    fn forged(&self, dir: &str, id: &str) -> Forged {
        let pki = self.fleet.path(&format!("forged/{dir}/pki"));
        let keys = Keys::load_or_generate(&pki, KEY_BITS)
            .unwrap_or_else(|e| self.fleet.fail(&format!("keys for {id}: {e}")));
        Forged {
            id: id.to_string(),
            chan: Channel::new(
                &self.ctx,
                self.ret_endpoint(),
                id.to_string(),
                keys,
                REQ_TIMEOUT,
                Keepalive::default(),
            ),
        }
    }

    /// One `_auth` by `m`.
    fn sign_in(&self, m: &Forged) -> SignIn {
        m.chan
            .authenticate()
            .unwrap_or_else(|e| self.fleet.fail(&format!("sign-in of {}: {e}", m.id)))
    }

    /// `salt-key <args>`, which must succeed.
    fn salt_key(&self, args: &[&str]) {
        let out = self.fleet.salt_key(args);
        self.fleet
            .check(out.status.success(), || format!("salt-key failed\n{out}"));
    }

    /// A forged minion whose key is accepted (`_auth` → pending, `salt-key -a`, `_auth` →
    /// accepted): it holds a session key and the AES key.
    fn accepted(&self, id: &str) -> Forged {
        let m = self.forged(id, id);
        let first = self.sign_in(&m);
        self.fleet.check(matches!(first, SignIn::Pending), || {
            format!(
                "first sign-in of {id}: expected pending, got {}",
                signin_name(&first)
            )
        });
        self.salt_key(&["-a", id, "-y"]);
        let second = self.sign_in(&m);
        self.fleet.check(matches!(second, SignIn::Accepted(_)), || {
            format!(
                "sign-in of {id} after salt-key -a: got {}",
                signin_name(&second)
            )
        });
        m
    }

    /// A well-formed request from `m` (the control each refusal is compared with): `cmd`
    /// with `extra`, reply opened as a minion opens it.
    fn legit(&self, m: &Forged, cmd: &str, extra: Vec<(&str, Value)>) -> Value {
        let (l, nonce) = load(cmd, &m.id, Some(m.tok()), extra);
        let reply = self.raw(&aes_frame(&m.id, &m.session(), &l, Some(3)), cmd);
        let opened = if cmd == "_pillar" {
            open_private(&m.chan.keys, &m.master_pub(), &reply, &nonce)
        } else {
            open_send(&m.session(), &reply, &nonce)
        };
        opened.unwrap_or_else(|e| {
            self.fleet.fail(&format!(
                "legitimate {cmd} from {}: {e}; reply {}",
                m.id,
                describe(&reply)
            ))
        })
    }
}

/// The `data` bytes of a `_serve_file` reply.
fn served_data(v: &Value) -> Vec<u8> {
    v.as_map()
        .and_then(|m| get_bytes(m, "data"))
        .map(<[u8]>::to_vec)
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// 1. invalid tok
// ---------------------------------------------------------------------------------------

/// An accepted minion's AES requests (`_pillar`, `_file_list`, `_serve_file`), correctly
/// encrypted under its own session key, but with a `tok` that is random bytes, the tok of
/// another (also accepted) minion, the tok of an unknown key, an X9.31 signature by its own
/// key over something other than `b"salt"`, empty, or not bytes at all: all `"bad load"`.
#[test]
fn invalid_tok_is_refused() {
    let lab = Lab::start("invalid tok");
    let a = lab.accepted("a");
    let b = lab.accepted("b");

    // Controls: the same hand-built requests with the right tok are served.
    let files = lab.legit(&a, "_file_list", vec![("saltenv", "base".into())]);
    lab.fleet.check(
        files
            .as_list()
            .is_some_and(|l| l.contains(&"secret.txt".into())),
        || format!("control: _file_list of a = {}", files.py_str()),
    );
    let pillar = lab.legit(&a, "_pillar", pillar_req("a"));
    lab.fleet.check(
        pillar.get("common").and_then(Value::as_str) == Some(lab.secrets.pillar_common.as_str()),
        || format!("control: pillar of a = {}", pillar.py_str()),
    );
    let served = lab.legit(&a, "_serve_file", serve("secret.txt"));
    lab.fleet
        .check(served_data(&served) == lab.secrets.file.as_bytes(), || {
            format!("control: _serve_file to a = {}", served.py_str())
        });

    let stranger = PrivateKey::generate(KEY_BITS).expect("generate a key");
    let bad_toks: Vec<(&str, Value, &str)> = vec![
        (
            "random bytes",
            Value::Bytes(random_bytes(256)),
            "a: invalid tok",
        ),
        (
            "b's tok (another accepted minion)",
            b.tok(),
            "a: invalid tok",
        ),
        (
            "tok of a key the master never saw",
            Value::Bytes(stranger.x931_sign(b"salt").expect("x931")),
            "a: invalid tok",
        ),
        (
            "a's own key over b\"pepper\"",
            Value::Bytes(a.chan.keys.private.x931_sign(b"pepper").expect("x931")),
            "a: invalid tok",
        ),
        ("an empty tok", Value::Bytes(vec![]), "a: invalid tok"),
        ("a tok that is an int", Value::Int(1), "a: tok is not bytes"),
    ];
    let requests: Vec<(&str, Vec<(&str, Value)>)> = vec![
        ("_pillar", pillar_req("a")),
        ("_file_list", vec![("saltenv", "base".into())]),
        ("_serve_file", serve("secret.txt")),
    ];
    for (tok_what, tok, reason) in &bad_toks {
        for (cmd, extra) in &requests {
            let (l, _) = load(cmd, "a", Some(tok.clone()), extra.clone());
            lab.refused(
                &format!("{cmd} from a with {tok_what}"),
                &aes_frame("a", &a.session(), &l, Some(3)),
                reason,
                &lab.all_secrets(),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// 2. no tok, old protocol versions, private commands
// ---------------------------------------------------------------------------------------

/// Requests without `tok`, with request protocol version 2, 1 or none (Salt's
/// `minimum_auth_version` is 3), a v2-style request under the shared AES key (which every
/// minion holds: accepting it would let any minion speak for any other), and a `__`
/// command: all `"bad load"`.
#[test]
fn missing_tok_old_versions_and_private_commands_are_refused() {
    let lab = Lab::start("no tok / old versions");
    let a = lab.accepted("a");
    let b = lab.accepted("b");
    let secrets = lab.all_secrets();

    // Control: with tok and version 3, b's pillar holds its secret.
    let pb = lab.legit(&b, "_pillar", pillar_req("b"));
    lab.fleet.check(
        pb.get("secret").and_then(Value::as_str) == Some(lab.secrets.pillar_b.as_str()),
        || format!("control: pillar of b = {}", pb.py_str()),
    );

    for (cmd, extra) in [
        ("_pillar", pillar_req("a")),
        ("_file_list", vec![("saltenv", "base".into())]),
        ("_serve_file", serve("secret.txt")),
    ] {
        let (l, _) = load(cmd, "a", None, extra.clone());
        lab.refused(
            &format!("{cmd} from a without tok"),
            &aes_frame("a", &a.session(), &l, Some(3)),
            "a: no tok",
            &secrets,
        );
        for (version, label) in [(Some(2), "2"), (Some(1), "1"), (None, "0")] {
            let (l, _) = load(cmd, "a", Some(a.tok()), extra.clone());
            lab.refused(
                &format!("{cmd} from a with version {version:?} (valid tok)"),
                &aes_frame("a", &a.session(), &l, version),
                &format!("request protocol version {label} < 3"),
                &secrets,
            );
        }
    }

    // Version 2 used the shared AES key for requests, and `tok` was optional: a downgrade
    // would let minion a ask for b's pillar with a key it legitimately holds.
    let (l, _) = load("_pillar", "b", None, pillar_req("b"));
    lab.refused(
        "v2 _pillar for b under the shared AES key, from a",
        &aes_frame("b", &a.aes(), &l, Some(2)),
        "request protocol version 2 < 3",
        &secrets,
    );
    // The same under v3 does not decrypt with b's session key.
    lab.refused(
        "v3 _pillar for b under the shared AES key, from a",
        &aes_frame("b", &a.aes(), &l, Some(3)),
        "b: message authentication failed",
        &secrets,
    );

    // A clear request is only `_auth` or `publish`, and carries a version too.
    let frame = msgpack::encode(&Value::Map(map([
        ("enc", "clear".into()),
        (
            "load",
            Value::Map(map([("cmd", "_auth".into()), ("id", "a".into())])),
        ),
        ("version", Value::Int(2)),
    ])));
    lab.refused(
        "clear _auth with version 2",
        &frame,
        "request protocol version 2 < 3",
        &secrets,
    );

    // Commands starting with `__` are never exposed to minions.
    let (l, _) = load("__verify_minion", "a", Some(a.tok()), vec![]);
    lab.refused(
        "__verify_minion from a",
        &aes_frame("a", &a.session(), &l, Some(3)),
        "a: private command __verify_minion",
        &secrets,
    );
}

// ---------------------------------------------------------------------------------------
// 3. another minion's pillar
// ---------------------------------------------------------------------------------------

/// Minion a (accepted) tries to get minion b's pillar (b is accepted and its pillar holds a
/// random secret): b's id in the load only, in the envelope only, in both (encrypted with
/// a's session key or a made-up one), or in a's grains. The first four are `"bad load"`;
/// the grains trick is served but with a's own pillar. The secret is never in a reply.
#[test]
fn a_minion_cannot_read_another_minions_pillar() {
    let lab = Lab::start("another minion's pillar");
    let a = lab.accepted("a");
    let b = lab.accepted("b");
    let secret = lab.secrets.pillar_b.as_str();

    // Control: b gets its secret through the real minion channel.
    let (pb, _) = load("_pillar", "b", None, pillar_req("b"));
    let mut pb = pb;
    for k in ["nonce", "ts", "id"] {
        pb.shift_remove(k);
    }
    let got = b
        .chan
        .request(&pb)
        .unwrap_or_else(|e| lab.fleet.fail(&format!("control: b's own pillar: {e}")));
    lab.fleet.check(
        got.get("secret").and_then(Value::as_str) == Some(secret),
        || format!("control: b's pillar = {}", got.py_str()),
    );

    // Envelope a, load id b (a's session, a's tok).
    let (l, _) = load("_pillar", "b", Some(a.tok()), pillar_req("b"));
    lab.refused(
        "_pillar: envelope id a, load id b",
        &aes_frame("a", &a.session(), &l, Some(3)),
        "a: load id differs from envelope id",
        &[secret],
    );
    // Envelope b, load id b, encrypted with a's session key (signed with a's tok).
    lab.refused(
        "_pillar: envelope id b, load id b, a's session and tok",
        &aes_frame("b", &a.session(), &l, Some(3)),
        "b: message authentication failed",
        &[secret],
    );
    // Envelope b, load id a, a's session key.
    let (l, _) = load("_pillar", "a", Some(a.tok()), pillar_req("b"));
    lab.refused(
        "_pillar: envelope id b, load id a, a's session",
        &aes_frame("b", &a.session(), &l, Some(3)),
        "b: message authentication failed",
        &[secret],
    );
    // Envelope b, load id b, a made-up session key.
    let (l, _) = load("_pillar", "b", Some(a.tok()), pillar_req("b"));
    let made_up = Crypticle::new(&new_key_string()).expect("crypticle");
    lab.refused(
        "_pillar: envelope id b, load id b, a made-up session key",
        &aes_frame("b", &made_up, &l, Some(3)),
        "b: message authentication failed",
        &[secret],
    );

    // a's own request claiming grains {id: b}: served, but the master sets grains["id"]
    // to the authenticated id, so a gets its own pillar.
    let (l, nonce) = load("_pillar", "a", Some(a.tok()), pillar_req("b"));
    let reply = lab.raw(
        &aes_frame("a", &a.session(), &l, Some(3)),
        "_pillar with grains id b",
    );
    lab.fleet.check(!contains(&reply, secret.as_bytes()), || {
        "a's _pillar with grains id b: reply bytes carry b's secret".into()
    });
    let pa = open_private(&a.chan.keys, &a.master_pub(), &reply, &nonce).unwrap_or_else(|e| {
        lab.fleet
            .fail(&format!("a's _pillar with grains id b: {e}"))
    });
    let text = msgpack::encode(&pa);
    lab.fleet.check(
        !contains(&text, secret.as_bytes())
            && pa.get("visible").and_then(Value::as_str) == Some("alpha"),
        || format!("a's _pillar with grains id b gave {}", pa.py_str()),
    );
    // And the master never wrote b's secret to its log.
    let log = lab.log_since(0);
    lab.fleet.check(!log.contains(secret), || {
        "the master log holds b's pillar secret".into()
    });
}

// ---------------------------------------------------------------------------------------
// 4. pending, rejected, impostor and revoked keys; path traversal
// ---------------------------------------------------------------------------------------

/// Asks for the common pillar and `salt://secret.txt` (`_pillar`, `_serve_file`,
/// `_file_hash`, `_file_list`) as `m`, with its own tok and the session key `session`, and
/// checks every one is refused with `reason`.
fn ask_everything(lab: &Lab, who: &str, m: &Forged, session: &Crypticle, reason: &str) {
    let secrets = lab.all_secrets();
    for (cmd, extra) in [
        ("_pillar", pillar_req(&m.id)),
        ("_serve_file", serve("secret.txt")),
        ("_file_hash", serve("secret.txt")),
        ("_file_list", vec![("saltenv", "base".into())]),
    ] {
        let (l, _) = load(cmd, &m.id, Some(m.tok()), extra);
        lab.refused(
            &format!("{cmd} from {who}"),
            &aes_frame(&m.id, session, &l, Some(3)),
            reason,
            &secrets,
        );
    }
}

/// A pending key, the same key once rejected (`salt-key -r`), an impostor presenting its
/// own key for an accepted id, and an accepted minion whose key is then rejected
/// (`salt-key -r --include-all`, so it still holds a session key the master gave it) ask
/// for pillar and files: all `"bad load"`, and the pillar and file secrets never appear.
/// Also, an accepted minion cannot leave the file roots with `..` or absolute paths.
#[test]
fn pending_rejected_and_revoked_keys_get_nothing() {
    let lab = Lab::start("pending / rejected / revoked keys");
    let pki = lab.pki();

    // Control: an accepted minion r gets the common pillar and the file.
    let r = lab.accepted("r");
    let pr = lab.legit(&r, "_pillar", pillar_req("r"));
    lab.fleet.check(
        pr.get("common").and_then(Value::as_str) == Some(lab.secrets.pillar_common.as_str()),
        || format!("control: pillar of r = {}", pr.py_str()),
    );
    let served = lab.legit(&r, "_serve_file", serve("secret.txt"));
    lab.fleet
        .check(served_data(&served) == lab.secrets.file.as_bytes(), || {
            format!("control: _serve_file to r = {}", served.py_str())
        });

    // Path traversal from an accepted minion: nothing outside file_roots is served.
    let master_pem = fs::read(pki.join("master.pem")).expect("read master.pem");
    let pem_body = &master_pem[40..80];
    let absolute = pki.join("master.pem").display().to_string();
    for path in [
        "../../master/etc/salt/pki/master/master.pem",
        "salt://../../master/etc/salt/pki/master/master.pem",
        "/../../master/etc/salt/pki/master/master.pem",
        absolute.as_str(),
        "files/../../../master/etc/salt/pki/master/master.pem",
    ] {
        for cmd in ["_serve_file", "_file_hash", "_file_find"] {
            let v = lab.legit(&r, cmd, serve(path));
            let bytes = msgpack::encode(&v);
            // Not served, not hashed, not even located (no path, no stat).
            lab.fleet.check(
                !contains(&bytes, pem_body)
                    && served_data(&v).is_empty()
                    && !contains(&bytes, b"master.pem"),
                || format!("{cmd} of {path:?} from r answered {}", v.py_str()),
            );
        }
    }
    let mut l = serve("secret.txt");
    l[1] = ("saltenv", "../../..".into());
    let v = lab.legit(&r, "_serve_file", l);
    lab.fleet.check(served_data(&v).is_empty(), || {
        format!("_serve_file with saltenv ../../.. served {}", v.py_str())
    });

    // A pending key: sign-in says pending, and a made-up session key gets nothing.
    let p = lab.forged("p", "p");
    let s = lab.sign_in(&p);
    lab.fleet.check(matches!(s, SignIn::Pending), || {
        format!("sign-in of p: expected pending, got {}", signin_name(&s))
    });
    lab.fleet.check(pki.join("minions_pre/p").is_file(), || {
        "p's key is not in minions_pre".into()
    });
    let made_up = Crypticle::new(&new_key_string()).expect("crypticle");
    ask_everything(&lab, "pending p", &p, &made_up, "p: key not accepted");

    // The same key rejected with salt-key: sign-in says rejected, requests get nothing.
    lab.salt_key(&["-r", "p", "-y"]);
    lab.fleet
        .check(pki.join("minions_rejected/p").is_file(), || {
            "after salt-key -r p, p's key is not in minions_rejected".into()
        });
    let s = lab.sign_in(&p);
    lab.fleet.check(matches!(s, SignIn::Rejected), || {
        format!(
            "sign-in of rejected p: expected rejected, got {}",
            signin_name(&s)
        )
    });
    ask_everything(&lab, "rejected p", &p, &made_up, "p: key not accepted");

    // An impostor presenting another key for the accepted id r is denied, and its own tok
    // does not verify against r's stored key.
    let imp = lab.forged("impostor", "r");
    let s = lab.sign_in(&imp);
    lab.fleet.check(matches!(s, SignIn::Rejected), || {
        format!(
            "sign-in of an impostor for r: expected rejected, got {}",
            signin_name(&s)
        )
    });
    lab.fleet.check(pki.join("minions_denied/r").is_file(), || {
        "the impostor's key for r is not in minions_denied".into()
    });
    ask_everything(
        &lab,
        "an impostor for r (made-up session)",
        &imp,
        &made_up,
        "r: message authentication failed",
    );
    // Even with r's real session key (say it leaked), the impostor's tok does not verify.
    ask_everything(
        &lab,
        "an impostor for r (r's session)",
        &imp,
        &r.session(),
        "r: invalid tok",
    );

    // Revocation: r's key rejected while r holds a valid session key and tok.
    let r_session = r.session();
    lab.salt_key(&["-r", "r", "--include-all", "-y"]);
    lab.fleet.check(
        pki.join("minions_rejected/r").is_file() && !pki.join("minions/r").exists(),
        || "after salt-key -r r --include-all, r's key is not (only) in minions_rejected".into(),
    );
    ask_everything(
        &lab,
        "revoked r (its old session and tok)",
        &r,
        &r_session,
        "r: key not accepted",
    );
    let s = lab.sign_in(&r);
    lab.fleet.check(matches!(s, SignIn::Rejected), || {
        format!(
            "sign-in of revoked r: expected rejected, got {}",
            signin_name(&s)
        )
    });
}

// ---------------------------------------------------------------------------------------
// 5. replayed publications
// ---------------------------------------------------------------------------------------

/// Publishes `salt '*' test.ping --async` until `sub` has captured at least `n`
/// publication frames, in the order they came.
fn capture_publications(lab: &Lab, sub: &Subscriber, n: usize) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    for _ in 0..30 {
        let out = lab.fleet.salt(&["*", "test.ping", "--async"]);
        lab.fleet.check(out.status.success(), || {
            format!("salt --async failed\n{out}")
        });
        while let Some(f) = sub
            .recv(Duration::from_millis(1500))
            .unwrap_or_else(|e| lab.fleet.fail(&format!("SUB recv: {e}")))
        {
            frames.push(f);
        }
        if frames.len() >= n {
            return frames;
        }
    }
    lab.fleet.fail(&format!(
        "captured only {} publications after 30 publishes",
        frames.len()
    ))
}

/// A real minion-side `Channel` (signed in, so it holds the master's AES key) opens
/// publications captured off the PUB socket: each once, then a second time (dropped as a
/// replay: `Ok(None)`), and the first after the second (older serial: dropped). Frames made
/// with the real master key and AES key but an older serial are dropped too, a newer one
/// is accepted (so the serial is what is checked); bad signatures are errors. A `publish`
/// sent by a stranger with no or a wrong root key publishes nothing. Finally, revoking a
/// minion's key rotates the AES key: the revoked minion's old key opens nothing published
/// afterwards, while an accepted minion re-authenticates and reads it.
#[test]
fn replayed_publications_are_dropped() {
    let lab = Lab::start("replayed publications");
    let s = lab.accepted("s");
    // t is accepted too, and revoked at the end.
    let t = lab.accepted("t");
    let sub = Subscriber::connect(
        &lab.ctx,
        &lab.pub_endpoint(),
        "s",
        100,
        500,
        false,
        Keepalive::default(),
    )
    .unwrap_or_else(|e| lab.fleet.fail(&format!("subscribe: {e}")));

    let frames = capture_publications(&lab, &sub, 2);
    let (f1, f2) = (&frames[0], &frames[1]);
    let open = |what: &str, frame: &[u8]| -> Option<Map> {
        s.chan.open_publication(frame, true).unwrap_or_else(|e| {
            lab.fleet
                .fail(&format!("{what}: open_publication failed: {e}"))
        })
    };
    let first = open("first publication", f1).unwrap_or_else(|| {
        lab.fleet
            .fail("the first publication was dropped on first sight")
    });
    lab.fleet
        .check(get_str(&first, "fun") == Some("test.ping"), || {
            format!("first publication: {}", Value::Map(first.clone()).py_str())
        });
    lab.fleet
        .check(open("first publication replayed", f1).is_none(), || {
            "a replay of the first publication was accepted".into()
        });
    lab.fleet
        .check(open("second publication", f2).is_some(), || {
            "the second publication was dropped on first sight".into()
        });
    lab.fleet
        .check(open("second publication replayed", f2).is_none(), || {
            "a replay of the second publication was accepted".into()
        });
    lab.fleet.check(
        open("first publication after the second", f1).is_none(),
        || "the first publication (older serial) was accepted after the second".into(),
    );
    eprintln!("[security] captured publications replayed: dropped");

    // Frames with the real master key and AES key: the serial alone decides.
    let master_key =
        PrivateKey::from_pem(&fs::read(lab.pki().join("master.pem")).expect("master.pem"))
            .expect("master key");
    let job = map([
        ("fun", "test.ping".into()),
        ("arg", Value::List(vec![])),
        ("tgt", "*".into()),
        ("tgt_type", "glob".into()),
        ("jid", "20990101000000000000".into()),
        ("ret", "".into()),
        ("user", "root".into()),
    ]);
    let signed =
        |serial: i64| publication(&s.aes(), &master_key, &job, serial).expect("publication");
    for serial in [1, 0, -5] {
        lab.fleet.check(
            open(&format!("serial {serial}"), &signed(serial)).is_none(),
            || format!("a properly signed publication with the older serial {serial} was accepted"),
        );
    }
    lab.fleet
        .check(open("serial 1000000", &signed(1_000_000)).is_some(), || {
            "a properly signed publication with a newer serial was dropped".into()
        });
    lab.fleet
        .check(open("serial 999999", &signed(999_999)).is_none(), || {
            "serial 999999 was accepted after 1000000".into()
        });

    // A signature by another key, or over other bytes, is an error, not a job.
    let stranger = PrivateKey::generate(KEY_BITS).expect("generate a key");
    let forged = publication(&s.aes(), &stranger, &job, 2_000_000).expect("publication");
    lab.fleet
        .check(s.chan.open_publication(&forged, true).is_err(), || {
            "a publication signed by a stranger's key was not refused".into()
        });
    let mut env = match msgpack::decode(&signed(3_000_000)) {
        Ok(Value::Map(m)) => m,
        other => panic!("own publication: {other:?}"),
    };
    let mut ct = get_bytes(&env, "load").expect("load").to_vec();
    ct[20] ^= 1;
    env.insert("load".into(), Value::Bytes(ct));
    let tampered = msgpack::encode(&Value::Map(env));
    lab.fleet
        .check(s.chan.open_publication(&tampered, true).is_err(), || {
            "a tampered publication was not refused".into()
        });

    // A stranger's clear `publish` without the root key: refused, nothing on the PUB port.
    while sub
        .recv(Duration::from_millis(500))
        .ok()
        .flatten()
        .is_some()
    {}
    for key in [None, Some(String::new()), Some(new_key_string())] {
        let mut l = map([
            ("cmd", "publish".into()),
            ("fun", "cmd.run".into()),
            ("arg", Value::List(vec!["id".into()])),
            ("tgt", "*".into()),
            ("tgt_type", "glob".into()),
            ("ret", "".into()),
            ("user", "root".into()),
        ]);
        if let Some(k) = &key {
            l.insert("key".into(), k.clone().into());
        }
        let mark = lab.log_mark();
        let reply = lab.raw(&clear(l), "forged publish");
        let text = describe(&reply);
        lab.fleet.check(text.contains("AuthenticationError"), || {
            format!("forged publish with key {key:?}: {text}")
        });
        lab.expect_log(
            mark,
            "a publish with a wrong key was refused",
            "forged publish",
        );
        let got = sub.recv(Duration::from_secs(2)).ok().flatten();
        lab.fleet.check(got.is_none(), || {
            format!("a forged publish (key {key:?}) put a frame on the PUB socket")
        });
    }

    // Revoking t (`salt-key -r --include-all`) rotates the AES key: t keeps the old key but
    // cannot read what is published afterwards, while s re-authenticates and reads it.
    let t_aes = t.aes();
    let mark = lab.log_mark();
    lab.salt_key(&["-r", "t", "--include-all", "-y"]);
    lab.expect_log(mark, "rotated the AES key", "salt-key -r t");
    let after = capture_publications(&lab, &sub, 1);
    let last = after.last().expect("a publication");
    let ct = match msgpack::decode(last) {
        Ok(Value::Map(m)) => get_bytes(&m, "load")
            .map(<[u8]>::to_vec)
            .unwrap_or_default(),
        other => lab
            .fleet
            .fail(&format!("publication after rotation: {other:?}")),
    };
    lab.fleet.check(t_aes.loads(&ct, None).is_err(), || {
        "revoked t decrypted a publication made after the AES key rotated".into()
    });
    lab.fleet.check(
        matches!(s.chan.open_publication(last, true), Ok(Some(_))),
        || "accepted s could not read a publication after the AES key rotated".into(),
    );
    lab.fleet
        .check(t.chan.open_publication(last, true).is_err(), || {
            "revoked t's channel opened a publication made after the rotation".into()
        });
}

// ---------------------------------------------------------------------------------------
// 6. malformed frames
// ---------------------------------------------------------------------------------------

/// A msgpack map frame from pairs.
fn frame(pairs: Vec<(&str, Value)>) -> Vec<u8> {
    let mut m = Map::default();
    for (k, v) in pairs {
        m.insert(k.into(), v);
    }
    msgpack::encode(&Value::Map(m))
}

/// Garbage of every kind on the ret port gets `"bad load"` and a log line, multi-part and
/// delimiter-less messages wedge no worker, and afterwards the master still serves: a
/// legitimate request, a new sign-in, and a real `salt-minion` answering `salt test.ping`.
#[test]
fn malformed_frames_get_bad_load_and_the_master_keeps_serving() {
    let mut lab = Lab::start("malformed frames");
    let a = lab.accepted("a");
    let secrets = lab.all_secrets();

    let mut random = random_bytes(64);
    random[0] = 0xc1; // never a valid msgpack document
    let mut deep = vec![0x91u8; 100_000];
    deep.push(0xc0);
    let not_a_dict = a
        .session()
        .dumps(&Value::List(vec!["cmd".into(), "_pillar".into()]), None)
        .expect("encrypt");
    let no_prefix = a
        .session()
        .encrypt(b"\x81\xa3cmd\xa7_pillar")
        .expect("encrypt");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("random bytes", random, "msgpack: reserved marker 0xc1"),
        ("a msgpack int", vec![0x2a], "payload is not a dict"),
        (
            "str32 claiming 4 GiB",
            vec![0xdb, 0xff, 0xff, 0xff, 0xff],
            "msgpack: truncated input",
        ),
        (
            "bin32 claiming 4 GiB",
            vec![0xc6, 0xff, 0xff, 0xff, 0xff],
            "msgpack: truncated input",
        ),
        (
            "array32 claiming 4G items",
            vec![0xdd, 0xff, 0xff, 0xff, 0xff],
            "msgpack: truncated input",
        ),
        (
            "map32 claiming 4G items",
            vec![0xdf, 0xff, 0xff, 0xff, 0xff],
            "msgpack: truncated input",
        ),
        (
            "ext32 claiming 4 GiB",
            vec![0xc9, 0xff, 0xff, 0xff, 0xff, 0x01],
            "msgpack: truncated input",
        ),
        (
            "a map whose value claims 4 GiB",
            vec![
                0x81, 0xa3, b'e', b'n', b'c', 0xdb, 0xff, 0xff, 0xff, 0xff, b'x',
            ],
            "msgpack: truncated input",
        ),
        ("an empty frame", vec![], "msgpack: truncated input"),
        ("100000 nested arrays", deep, "msgpack: nesting deeper than"),
        (
            "8 MiB of zero bytes",
            vec![0u8; 8 << 20],
            "msgpack: 8388607 trailing bytes",
        ),
        (
            "enc aes without id",
            frame(vec![
                ("enc", "aes".into()),
                ("version", Value::Int(3)),
                ("load", Value::Bytes(vec![1; 96])),
            ]),
            "",
        ),
        (
            "enc aes with load an int",
            frame(vec![
                ("enc", "aes".into()),
                ("version", Value::Int(3)),
                ("id", "a".into()),
                ("load", Value::Int(5)),
            ]),
            "",
        ),
        (
            "enc aes with id ../../etc",
            frame(vec![
                ("enc", "aes".into()),
                ("version", Value::Int(3)),
                ("id", "../../etc".into()),
                ("load", Value::Bytes(vec![1; 96])),
            ]),
            "invalid id",
        ),
        (
            "enc aes with id containing NUL",
            frame(vec![
                ("enc", "aes".into()),
                ("version", Value::Int(3)),
                ("id", "a\0b".into()),
                ("load", Value::Bytes(vec![1; 96])),
            ]),
            "invalid id",
        ),
        (
            "enc aes for a with a random ciphertext",
            frame(vec![
                ("enc", "aes".into()),
                ("version", Value::Int(3)),
                ("id", "a".into()),
                ("load", Value::Bytes(random_bytes(96))),
            ]),
            "a: message authentication failed",
        ),
        (
            "enc aes for a, a's session, plaintext a list",
            frame(vec![
                ("enc", "aes".into()),
                ("version", Value::Int(3)),
                ("id", "a".into()),
                ("load", Value::Bytes(not_a_dict)),
            ]),
            "a: load is not a dict",
        ),
        (
            "enc aes for a, a's session, no pickle:: prefix",
            frame(vec![
                ("enc", "aes".into()),
                ("version", Value::Int(3)),
                ("id", "a".into()),
                ("load", Value::Bytes(no_prefix)),
            ]),
            "a: load id differs from envelope id",
        ),
        (
            "enc clear with load an int",
            frame(vec![
                ("enc", "clear".into()),
                ("version", Value::Int(3)),
                ("load", Value::Int(5)),
            ]),
            "",
        ),
        (
            "enc rot13",
            frame(vec![
                ("enc", "rot13".into()),
                ("version", Value::Int(3)),
                ("load", Value::Map(Map::default())),
            ]),
            "unknown enc",
        ),
        (
            "version i64::MIN",
            frame(vec![
                ("enc", "aes".into()),
                ("version", Value::Int(i64::MIN)),
                ("id", "a".into()),
                ("load", Value::Bytes(vec![1; 96])),
            ]),
            "request protocol version -9223372036854775808 < 3",
        ),
    ];
    for (what, f, reason) in &cases {
        lab.refused(what, f, reason, &secrets);
    }

    // Multi-part messages and messages without the REQ delimiter, through a DEALER: more of
    // them than there are workers (5), so a worker wedged by one would show.
    let dealer = lab.ctx.socket(zmq::DEALER).expect("DEALER");
    dealer.set_linger(0).expect("linger");
    dealer.connect(&lab.ret_endpoint()).expect("connect");
    for _ in 0..12 {
        dealer
            .send_multipart([&b""[..], &[0x2a][..], &[0xc1][..], &[0x93, 1, 2][..]], 0)
            .expect("send multipart");
        dealer.send(&[0x2a][..], 0).expect("send without delimiter");
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut replies = 0;
    while Instant::now() < deadline {
        if dealer.poll(zmq::POLLIN, 500).unwrap_or(0) == 0 {
            continue;
        }
        let parts = dealer.recv_multipart(0).expect("recv");
        let last = parts.last().cloned().unwrap_or_default();
        lab.fleet.check(last == bad_load(), || {
            format!("a multi-part request got {}", describe(&last))
        });
        replies += 1;
    }
    eprintln!("[security] 12 multi-part + 12 delimiter-less messages: {replies} replies, all \"bad load\"");
    drop(dealer);

    // The master still serves: the process is up, a legitimate request, a new sign-in.
    lab.fleet.check_daemons();
    let files = lab.legit(&a, "_file_list", vec![("saltenv", "base".into())]);
    lab.fleet
        .check(files.as_list().is_some_and(|l| !l.is_empty()), || {
            format!("after the garbage, _file_list = {}", files.py_str())
        });
    let n = lab.forged("newcomer", "newcomer");
    let s = lab.sign_in(&n);
    lab.fleet.check(matches!(s, SignIn::Pending), || {
        format!("after the garbage, a new sign-in got {}", signin_name(&s))
    });

    // And a real minion joins and answers test.ping through the salt CLI.
    lab.fleet.add_minion("m1", "");
    lab.fleet.start_minion("m1");
    let pre = lab.pki().join("minions_pre/m1");
    lab.fleet.wait_for("m1's key to be pending", STARTUP, |_| {
        if pre.is_file() {
            Ok(())
        } else {
            Err("not yet".into())
        }
    });
    lab.salt_key(&["-a", "m1", "-y"]);
    lab.fleet.wait_for("m1 to answer test.ping", STARTUP, |f| {
        let out = f.salt(&["m1", "test.ping", "--out=json", "--static", "-t", "10"]);
        match out.json_object() {
            Ok(m) if m.get("m1") == Some(&serde_json::Value::Bool(true)) => Ok(()),
            Ok(_) | Err(_) => Err(out.to_string()),
        }
    });
}

// ---------------------------------------------------------------------------------------
// 7. file modes
// ---------------------------------------------------------------------------------------

fn mode(p: &Path) -> u32 {
    fs::symlink_metadata(p)
        .unwrap_or_else(|e| panic!("stat {}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Once keys were accepted, pending, rejected and denied: `pki_dir` and its subdirs are
/// 0700, `master.pem` 0400 (or 0600), every minion key file 0600, the session key files
/// 0600, `.<user>_key` 0400; nothing else in `pki_dir` (but `master.pub`) or `sessions/`
/// is readable by group or others, and no temp file is left behind.
#[test]
fn pki_and_secret_files_have_private_modes() {
    let lab = Lab::start("file modes");
    let a = lab.accepted("a");
    let _b = lab.accepted("b");
    lab.legit(&a, "_file_list", vec![("saltenv", "base".into())]);
    let p = lab.forged("p", "p");
    lab.sign_in(&p);
    let q = lab.forged("q", "q");
    lab.sign_in(&q);
    lab.salt_key(&["-r", "q", "-y"]);
    let imp = lab.forged("impostor", "a");
    lab.sign_in(&imp);

    let pki = lab.pki();
    let cache = lab.cachedir();
    let mut problems = Vec::new();
    let mut want = |p: PathBuf, ok: &[u32]| {
        if !p.exists() {
            problems.push(format!("{} is missing", p.display()));
            return;
        }
        let m = mode(&p);
        if !ok.contains(&m) {
            problems.push(format!(
                "{} is {m:04o}, want {}",
                p.display(),
                ok.iter()
                    .map(|m| format!("{m:04o}"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
        }
    };
    want(pki.clone(), &[0o700]);
    for d in [
        "minions",
        "minions_pre",
        "minions_rejected",
        "minions_denied",
        "minions_autosign",
    ] {
        want(pki.join(d), &[0o700]);
    }
    want(pki.join("master.pem"), &[0o400, 0o600]);
    want(pki.join("minions/a"), &[0o600]);
    want(pki.join("minions/b"), &[0o600]);
    want(pki.join("minions_pre/p"), &[0o600]);
    want(pki.join("minions_rejected/q"), &[0o600]);
    want(pki.join("minions_denied/a"), &[0o600]);
    want(cache.join("sessions/a"), &[0o600]);
    want(cache.join("sessions/b"), &[0o600]);
    want(cache.join(format!(".{}_key", lab.fleet.user)), &[0o400]);

    // Nothing private is open to group or others, and no temp files are left behind.
    let mut walk = vec![pki.clone(), cache.join("sessions")];
    while let Some(dir) = walk.pop() {
        for e in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = e.expect("dir entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.contains(".tmp") {
                problems.push(format!("{} is a leftover temp file", path.display()));
            }
            if path.is_dir() {
                walk.push(path.clone());
            }
            if path != pki.join("master.pub") && mode(&path) & 0o077 != 0 {
                problems.push(format!(
                    "{} is {:04o}: open to group or others",
                    path.display(),
                    mode(&path)
                ));
            }
        }
    }
    // The master's log (at debug) holds no session key, no root key, no AES key.
    let log = lab.log_since(0);
    let mut keys = vec![
        ("a's session key", a.session().key_string().to_string()),
        ("the AES key", a.aes().key_string().to_string()),
    ];
    for (what, p) in [
        ("b's session file", cache.join("sessions/b")),
        (
            "the root key",
            cache.join(format!(".{}_key", lab.fleet.user)),
        ),
    ] {
        keys.push((
            what,
            fs::read_to_string(&p)
                .unwrap_or_default()
                .trim()
                .to_string(),
        ));
    }
    for (what, k) in keys {
        if !k.is_empty() && log.contains(&k) {
            problems.push(format!("the master log contains {what}"));
        }
    }
    // Session keys of minions that were never accepted must not exist.
    for id in ["p", "q"] {
        if cache.join("sessions").join(id).exists() {
            problems.push(format!(
                "a session key exists for the never-accepted minion {id}"
            ));
        }
    }
    if !problems.is_empty() {
        lab.fleet
            .fail(&format!("file mode problems:\n  {}", problems.join("\n  ")));
    }
}
