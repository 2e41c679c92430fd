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

/// Why a request frame is refused before any key is used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EnvelopeError {
    /// Not msgpack.
    #[error("{0}")]
    Decode(#[from] msgpack::DecodeError),
    /// Not a dict.
    #[error("payload is not a dict")]
    NotADict,
    /// Request protocol older than 3.
    #[error("request protocol version {0} < 3")]
    Version(i64),
    /// `enc` is neither `clear` nor `aes`.
    #[error("unknown enc {0:?}")]
    Enc(String),
    /// A clear request whose load is not a dict.
    #[error("clear load is not a dict")]
    ClearLoad,
    /// An AES request without an id or a binary load.
    #[error("aes request without {0}")]
    Missing(&'static str),
}

/// A request as it arrives on the ret port, decoded and shape-checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `{"enc": "clear", "load": {...}}`: `_auth` or a local CLI's `publish`.
    Clear(Map),
    /// `{"enc": "aes", "id", "load": <ciphertext>}` with the negotiated algorithms.
    Aes {
        /// The claimed minion id (checked against its key later).
        id: String,
        /// The ciphertext under the minion's session key.
        load: Vec<u8>,
        /// `enc_algo` (default `OAEP-SHA1`).
        enc_algo: String,
        /// `sig_algo` (default `PKCS1v15-SHA1`).
        sig_algo: String,
    },
}

impl Request {
    /// Decode and shape-check one request frame (request protocol v3 only).
    pub fn parse(frame: &[u8]) -> Result<Request, EnvelopeError> {
        let Value::Map(p) = msgpack::decode(frame)? else {
            return Err(EnvelopeError::NotADict);
        };
        let version = p.get("version").and_then(Value::as_int).unwrap_or(0);
        if version < 3 {
            return Err(EnvelopeError::Version(version));
        }
        match get_str(&p, "enc") {
            Some("clear") => match p.get("load") {
                Some(Value::Map(l)) => Ok(Request::Clear(l.clone())),
                _ => Err(EnvelopeError::ClearLoad),
            },
            Some("aes") => Ok(Request::Aes {
                id: get_str(&p, "id")
                    .ok_or(EnvelopeError::Missing("id"))?
                    .to_string(),
                load: get_bytes(&p, "load")
                    .ok_or(EnvelopeError::Missing("load"))?
                    .to_vec(),
                enc_algo: get_str(&p, "enc_algo").unwrap_or("OAEP-SHA1").to_string(),
                sig_algo: get_str(&p, "sig_algo")
                    .unwrap_or("PKCS1v15-SHA1")
                    .to_string(),
            }),
            other => Err(EnvelopeError::Enc(other.unwrap_or("").to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_shape_checked() {
        let frame = |v: Value| msgpack::encode(&v);
        assert_eq!(
            Request::parse(&frame(Value::Int(1))),
            Err(EnvelopeError::NotADict)
        );
        let old = Value::Map(map([("enc", "clear".into()), ("version", Value::Int(2))]));
        assert_eq!(Request::parse(&frame(old)), Err(EnvelopeError::Version(2)));
        let no_id = Value::Map(map([
            ("enc", "aes".into()),
            ("version", Value::Int(3)),
            ("load", Value::Bytes(vec![1, 2])),
        ]));
        assert_eq!(
            Request::parse(&frame(no_id)),
            Err(EnvelopeError::Missing("id"))
        );
        let ok = clear(map([("cmd", "_auth".into())]));
        assert!(matches!(Request::parse(&ok), Ok(Request::Clear(_))));
        assert!(Request::parse(&[0xdb, 0xff, 0xff, 0xff, 0xff]).is_err());
    }
}
