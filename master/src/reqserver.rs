//! One request on the ret port, decoded and checked as Salt's `ReqServerChannel` does:
//! version 3 only; clear requests are `_auth` or a local CLI's `publish`; everything else is
//! AES under the minion's session key, with a valid `tok` from an accepted key. A request
//! that fails any check gets `"bad load"` and is logged; nothing is served.

use crate::aesfuncs::{dispatch, private_reply, Reply};
use crate::Master;
use halite_core::{Map, Value};
use halite_proto::envelope::{get_str, map, Request, BAD_LOAD};
use halite_proto::{msgpack, EncAlgo, SigAlgo};

fn bad(why: &str) -> Vec<u8> {
    tracing::warn!("refused a request: {why}");
    msgpack::encode(&Value::Str(BAD_LOAD.into()))
}

/// Handle one request frame; the reply frame.
pub fn handle(m: &Master, frame: &[u8]) -> Vec<u8> {
    match Request::parse(frame) {
        Ok(Request::Clear(load)) => clear(m, &load),
        Ok(Request::Aes {
            id,
            load,
            enc_algo,
            sig_algo,
        }) => aes(m, &id, &load, &enc_algo, &sig_algo),
        Err(e) => bad(&e.to_string()),
    }
}

fn clear(m: &Master, load: &Map) -> Vec<u8> {
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

fn aes(m: &Master, id: &str, ct: &[u8], enc_algo: &str, sig_algo: &str) -> Vec<u8> {
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
            let enc = EncAlgo::parse(enc_algo);
            let sig = SigAlgo::parse(sig_algo);
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
