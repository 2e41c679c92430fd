//! The request and publish envelopes and small typed accessors over decoded loads.

use crate::crypticle::Crypticle;
use crate::crypto::{CryptoError, PrivateKey, SigAlgo};
use crate::msgpack;
use halite_core::{Map, Value};

/// The reply a master gives to a request it cannot decode or verify.
pub const BAD_LOAD: &str = "bad load";

/// A string field (`str` or UTF-8 bytes).
pub fn get_str<'a>(m: &'a Map, key: &str) -> Option<&'a str> {
    match m.get(key)? {
        Value::Str(s) => Some(s),
        Value::Bytes(b) => std::str::from_utf8(b).ok(),
        _ => None,
    }
}

/// A binary field (Salt sends binary as str-type, so both forms are accepted).
pub fn get_bytes<'a>(m: &'a Map, key: &str) -> Option<&'a [u8]> {
    match m.get(key)? {
        Value::Str(s) => Some(s.as_bytes()),
        Value::Bytes(b) => Some(b),
        _ => None,
    }
}

/// A map built from string keys.
pub fn map<const N: usize>(pairs: [(&str, Value); N]) -> Map {
    pairs.into_iter().map(|(k, v)| (k.into(), v)).collect()
}

/// A clear envelope: `{"enc": "clear", "load": load, "version": 3}`.
pub fn clear(load: Map) -> Vec<u8> {
    msgpack::encode(&Value::Map(map([
        ("enc", "clear".into()),
        ("load", Value::Map(load)),
        ("version", Value::Int(3)),
    ])))
}

/// A publication: the load (with its `serial`) under the master AES key, signed with the
/// master key over the encrypted bytes.
pub fn publication(
    aes: &Crypticle,
    master: &PrivateKey,
    load: &Map,
    serial: i64,
) -> Result<Vec<u8>, CryptoError> {
    let mut load = load.clone();
    load.insert("serial".into(), Value::Int(serial));
    let ct = aes.dumps(&Value::Map(load), None)?;
    let sig = master.sign(SigAlgo::Pkcs1v15Sha1, &ct)?;
    Ok(msgpack::encode(&Value::Map(map([
        ("enc", "aes".into()),
        ("load", Value::Bytes(ct)),
        ("sig_algo", SigAlgo::Pkcs1v15Sha1.name().into()),
        ("sig", Value::Bytes(sig)),
    ]))))
}
