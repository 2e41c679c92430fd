//! Salt's wire: msgpack as `salt.payload` packs it, Salt's crypto (RSA-OAEP, PKCS#1 v1.5,
//! X9.31, the Crypticle), the request and publish envelopes, JIDs, and the ZeroMQ transport.
//!
//! Invariant: knows nothing of states; every decoder of untrusted bytes returns an error,
//! never panics, never allocates more than the input justifies.

pub mod crypticle;
pub mod crypto;
pub mod envelope;
pub mod jid;
pub mod msgpack;
pub mod transport;

pub use crypticle::Crypticle;
pub use crypto::{CryptoError, EncAlgo, PrivateKey, PublicKey, SigAlgo};

/// Compare two secrets in constant time (OpenSSL's `CRYPTO_memcmp`); different lengths
/// are unequal.
pub fn openssl_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a, b)
}
