//! One request on the ret port, decoded and checked as Salt's `ReqServerChannel` does:
//! version 3 only; clear requests are `_auth` or a local CLI's `publish`; everything else is
//! AES under the minion's session key, with a valid `tok` from an accepted key. A request
//! that fails any check gets `"bad load"` and is logged; nothing is served.

use crate::aesfuncs::{dispatch, private_reply, Reply};
use crate::Master;
use halite_core::{Map, Value};
use halite_proto::envelope::{get_bytes, get_str, map, BAD_LOAD};
use halite_proto::{msgpack, EncAlgo, SigAlgo};

fn bad(why: &str) -> Vec<u8> {
    tracing::warn!("refused a request: {why}");
    msgpack::encode(&Value::Str(BAD_LOAD.into()))
}

/// Handle one request frame; the reply frame.
pub fn handle(m: &Master, frame: &[u8]) -> Vec<u8> {
    let payload = match msgpack::decode(frame) {
        Ok(Value::Map(p)) => p,
        Ok(_) => return bad("payload is not a dict"),
        Err(e) => return bad(&e.to_string()),
    };
    let version = payload.get("version").and_then(Value::as_int).unwrap_or(0);
    if version < 3 {
        return bad(&format!("request protocol version {version} < 3"));
    }
    match get_str(&payload, "enc") {
        Some("clear") => clear(m, &payload),
        Some("aes") => aes(m, &payload),
        other => bad(&format!("unknown enc {other:?}")),
    }
}

fn clear(m: &Master, payload: &Map) -> Vec<u8> {
    let Some(Value::Map(load)) = payload.get("load") else {
        return bad("clear load is not a dict");
    };
    match get_str(load, "cmd") {
        Some("_auth") => msgpack::encode(&crate::auth::handle(m, load)),
        Some("publish") => msgpack::encode(&crate::publish::handle(m, load)),
        other => {
            tracing::warn!(cmd = ?other, "clear command not available");
            msgpack::encode(&Value::Map(map([
                ("enc", "clear".into()),
                (
                    "load",
                    Value::Map(map([(
                        "error",
                        Value::Map(map([
                            ("name", "SaltInvocationError".into()),
                            (
                                "message",
                                format!("'{}' is not available", other.unwrap_or_default()).into(),
                            ),
                        ])),
                    )])),
                ),
            ])))
        }
    }
}

fn aes(m: &Master, payload: &Map) -> Vec<u8> {
    let Some(id) = get_str(payload, "id") else {
        return bad("no id");
    };
    if !crate::pki::valid_id(id) {
        return bad("invalid id");
    }
    let Some(pubkey) = m.pki.accepted_key(id) else {
        return bad(&format!("{id}: key not accepted"));
    };
    let pubkey = match pubkey {
        Ok(k) => k,
        Err(e) => return bad(&format!("{id}: stored key unreadable: {e}")),
    };
    let Some(ct) = get_bytes(payload, "load") else {
        return bad("no load");
    };
    let session = match m.secrets.session(id) {
        Ok(s) => s,
        Err(e) => return bad(&e),
    };
    let mut load = match session.loads(ct, None) {
        Ok(Value::Map(l)) => l,
        Ok(_) => return bad(&format!("{id}: load is not a dict")),
        Err(e) => return bad(&format!("{id}: {e}")),
    };
    let nonce = load
        .shift_remove("nonce")
        .map(|n| n.py_str())
        .unwrap_or_default();
    if get_str(&load, "id") != Some(id) {
        return bad(&format!("{id}: load id differs from envelope id"));
    }
    let Some(tok) = load.shift_remove("tok") else {
        return bad(&format!("{id}: no tok"));
    };
    let tok_bytes: &[u8] = match &tok {
        Value::Bytes(b) => b,
        Value::Str(s) => s.as_bytes(),
        _ => return bad(&format!("{id}: tok is not bytes")),
    };
    match pubkey.x931_recover(tok_bytes) {
        Ok(t) if t == b"salt" => {}
        _ => return bad(&format!("{id}: invalid tok")),
    }
    let cmd = get_str(&load, "cmd").unwrap_or("").to_string();
    if cmd.starts_with("__") {
        return bad(&format!("{id}: private command {cmd}"));
    }
    let reply = match dispatch(m, id, &cmd, &load) {
        Reply::Send(v) => session
            .dumps(&v, if nonce.is_empty() { None } else { Some(&nonce) })
            .map(Value::Bytes),
        Reply::Private(v) => {
            let enc = EncAlgo::parse(get_str(payload, "enc_algo").unwrap_or("OAEP-SHA1"));
            let sig = SigAlgo::parse(get_str(payload, "sig_algo").unwrap_or("PKCS1v15-SHA1"));
            match (enc, sig) {
                (Ok(e), Ok(s)) => {
                    return match private_reply(m, id, &v, &nonce, e, s) {
                        Ok(r) => msgpack::encode(&r),
                        Err(e) => bad(&format!("{id}: pillar reply: {e}")),
                    }
                }
                _ => return bad(&format!("{id}: unsupported algorithm")),
            }
        }
    };
    match reply {
        Ok(r) => msgpack::encode(&r),
        Err(e) => bad(&format!("{id}: encrypting the reply: {e}")),
    }
}
