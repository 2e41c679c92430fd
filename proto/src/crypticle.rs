//! Salt's Crypticle: AES-192-CBC with PKCS#7 padding and HMAC-SHA256 (encrypt-then-MAC),
//! `IV ‖ ciphertext ‖ mac`, over `b"pickle::" [‖ nonce] ‖ msgpack(obj)`. Used for
//! publications (the master's AES key, with a `serial` replay guard), requests and replies
//! (the per-minion session key), and pillar (a one-off key).

use crate::crypto::{random_bytes, CryptoError};
use crate::msgpack;
use base64::Engine;
use halite_core::Value;
use openssl::memcmp;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use openssl::symm::{Cipher, Crypter, Mode};
use std::sync::atomic::{AtomicI64, Ordering};

const PREFIX: &[u8] = b"pickle::";
const AES_LEN: usize = 24;
const MAC_LEN: usize = 32;
const IV_LEN: usize = 16;

/// One Crypticle key with its replay state.
pub struct Crypticle {
    key_string: String,
    aes: [u8; AES_LEN],
    mac: [u8; MAC_LEN],
    last_serial: AtomicI64,
}

impl std::fmt::Debug for Crypticle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Crypticle(..)")
    }
}

impl Crypticle {
    /// A Crypticle over a 76-character key string (base64 of 56 bytes).
    pub fn new(key_string: &str) -> Result<Crypticle, CryptoError> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(key_string.trim())
            .map_err(|e| CryptoError::BadKey(format!("Crypticle key: {e}")))?;
        if raw.len() != AES_LEN + MAC_LEN {
            return Err(CryptoError::BadKey(format!(
                "Crypticle key: {} bytes, expected {}",
                raw.len(),
                AES_LEN + MAC_LEN
            )));
        }
        let mut aes = [0u8; AES_LEN];
        let mut mac = [0u8; MAC_LEN];
        aes.copy_from_slice(&raw[..AES_LEN]);
        mac.copy_from_slice(&raw[AES_LEN..]);
        Ok(Crypticle {
            key_string: key_string.trim().to_string(),
            aes,
            mac,
            last_serial: AtomicI64::new(-1),
        })
    }

    /// The key string this Crypticle was made from.
    pub fn key_string(&self) -> &str {
        &self.key_string
    }

    fn hmac(&self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key = PKey::hmac(&self.mac).map_err(|e| CryptoError::Failed(e.to_string()))?;
        let mut s = Signer::new(openssl::hash::MessageDigest::sha256(), &key)
            .map_err(|e| CryptoError::Failed(e.to_string()))?;
        s.update(data)
            .map_err(|e| CryptoError::Failed(e.to_string()))?;
        s.sign_to_vec()
            .map_err(|e| CryptoError::Failed(e.to_string()))
    }

    fn cbc(&self, mode: Mode, iv: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let f = |e: openssl::error::ErrorStack| CryptoError::Failed(format!("AES: {e}"));
        let cipher = Cipher::aes_192_cbc();
        let mut c = Crypter::new(cipher, mode, &self.aes, Some(iv)).map_err(f)?;
        c.pad(false);
        let mut out = vec![0u8; data.len() + cipher.block_size()];
        let mut n = c.update(data, &mut out).map_err(f)?;
        n += c.finalize(&mut out[n..]).map_err(f)?;
        out.truncate(n);
        Ok(out)
    }

    /// Encrypt raw bytes: `IV ‖ AES-192-CBC(PKCS#7(data)) ‖ HMAC-SHA256(IV ‖ ciphertext)`.
    pub fn encrypt(&self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.encrypt_with_iv(data, &random_bytes(IV_LEN))
    }

    /// [`Crypticle::encrypt`] with a chosen IV: for golden tests against Salt only; never
    /// reuse an IV.
    #[doc(hidden)]
    pub fn encrypt_with_iv(&self, data: &[u8], iv: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let pad = 16 - data.len() % 16;
        let mut padded = Vec::with_capacity(data.len() + pad);
        padded.extend_from_slice(data);
        padded.resize(data.len() + pad, pad as u8);
        let mut out = iv.to_vec();
        let ct = self.cbc(Mode::Encrypt, iv, &padded)?;
        out.extend_from_slice(&ct);
        let mac = self.hmac(&out)?;
        out.extend_from_slice(&mac);
        Ok(out)
    }

    /// Check the HMAC (in constant time) and decrypt. Like Salt, the padding length is
    /// taken from the last byte without checking the padding bytes themselves.
    pub fn decrypt(&self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if data.len() < IV_LEN + 16 + MAC_LEN || !(data.len() - IV_LEN - MAC_LEN).is_multiple_of(16)
        {
            return Err(CryptoError::Hmac);
        }
        let (body, mac) = data.split_at(data.len() - MAC_LEN);
        let want = self.hmac(body)?;
        if !memcmp::eq(&want, mac) {
            return Err(CryptoError::Hmac);
        }
        let (iv, ct) = body.split_at(IV_LEN);
        let mut plain = self.cbc(Mode::Decrypt, iv, ct)?;
        let pad = usize::from(*plain.last().unwrap_or(&0));
        if pad == 0 || pad > plain.len() {
            return Err(CryptoError::Failed("bad padding".into()));
        }
        plain.truncate(plain.len() - pad);
        Ok(plain)
    }

    /// Salt's `dumps`: `pickle::` ‖ nonce ‖ msgpack(obj), encrypted.
    pub fn dumps(&self, obj: &Value, nonce: Option<&str>) -> Result<Vec<u8>, CryptoError> {
        let body = msgpack::encode(obj);
        let mut plain = Vec::with_capacity(PREFIX.len() + 32 + body.len());
        plain.extend_from_slice(PREFIX);
        if let Some(n) = nonce {
            plain.extend_from_slice(n.as_bytes());
        }
        plain.extend_from_slice(&body);
        self.encrypt(&plain)
    }

    /// Salt's `loads`: decrypt, check the nonce when one is expected, decode, and apply the
    /// `serial` replay guard to dicts that carry one (the key is removed, as Salt does).
    pub fn loads(&self, data: &[u8], nonce: Option<&str>) -> Result<Value, CryptoError> {
        let plain = self.decrypt(data)?;
        let Some(mut rest) = plain.strip_prefix(PREFIX) else {
            return Ok(Value::Map(Default::default()));
        };
        if let Some(n) = nonce {
            let got = rest.get(..32).ok_or(CryptoError::Nonce)?;
            if got != n.as_bytes() {
                return Err(CryptoError::Nonce);
            }
            rest = &rest[32..];
        }
        let mut v = msgpack::decode(rest).map_err(|e| CryptoError::Failed(e.to_string()))?;
        if let Value::Map(m) = &mut v {
            if let Some(s) = m.shift_remove("serial") {
                let serial = s.as_int().unwrap_or(-1);
                // One atomic step, so two threads cannot both accept the same serial.
                let last = self.last_serial.fetch_max(serial, Ordering::SeqCst);
                if serial <= last {
                    return Err(CryptoError::Replay(serial, last));
                }
            }
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::new_key_string;

    #[test]
    fn round_trip_and_sizes() {
        let c = Crypticle::new(&new_key_string()).unwrap();
        let mut m = halite_core::Map::default();
        m.insert("a".into(), Value::Int(1));
        let nonce = "0123456789abcdef0123456789abcdef";
        let blob = c.dumps(&Value::Map(m.clone()), Some(nonce)).unwrap();
        assert_eq!(blob.len(), 96);
        assert_eq!(c.loads(&blob, Some(nonce)).unwrap(), Value::Map(m));
        assert!(matches!(
            c.loads(&blob, Some("ffffffffffffffffffffffffffffffff")),
            Err(CryptoError::Nonce)
        ));
        let mut bad = blob.clone();
        bad[20] ^= 1;
        assert!(matches!(c.loads(&bad, Some(nonce)), Err(CryptoError::Hmac)));
        assert!(matches!(c.decrypt(&blob[..40]), Err(CryptoError::Hmac)));
    }

    #[test]
    fn serial_guards_replays() {
        let c = Crypticle::new(&new_key_string()).unwrap();
        let pub_with = |n: i64| {
            let mut m = halite_core::Map::default();
            m.insert("fun".into(), "test.ping".into());
            m.insert("serial".into(), Value::Int(n));
            c.dumps(&Value::Map(m), None).unwrap()
        };
        let (one, two) = (pub_with(1), pub_with(2));
        assert!(c.loads(&one, None).is_ok());
        assert!(c.loads(&two, None).is_ok());
        assert!(matches!(
            c.loads(&one, None),
            Err(CryptoError::Replay(1, 2))
        ));
        assert!(matches!(
            c.loads(&two, None),
            Err(CryptoError::Replay(2, 2))
        ));
    }
}
