//! Salt's public-key crypto (`salt.crypt`): RSA keys in Salt's PEM forms, RSA-OAEP for the
//! `token`, `aes` and `session` secrets, PKCS#1 v1.5 signatures, and OpenSSL's X9.31
//! "private encrypt" that Salt uses for the request `tok` and the auth `sig`.
//!
//! Everything goes through OpenSSL, the library Salt itself calls.

use openssl::hash::MessageDigest;
use openssl::md::Md;
use openssl::pkey::{PKey, Private, Public};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::{Padding, Rsa};
use openssl::sign::{Signer, Verifier};
use sha2::Digest;

/// OpenSSL's `RSA_X931_PADDING`.
fn x931() -> Padding {
    Padding::from_raw(5)
}

/// A crypto operation that failed, with what was being done.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A key could not be read.
    #[error("invalid key: {0}")]
    BadKey(String),
    /// Decryption or signature recovery failed.
    #[error("{0}")]
    Failed(String),
    /// A Crypticle's HMAC did not match: wrong key or altered message.
    #[error("message authentication failed")]
    Hmac,
    /// A nonce-prefixed message carried another nonce.
    #[error("Nonce verification error")]
    Nonce,
    /// A publication whose `serial` is not newer than the last one seen.
    #[error("replayed message: serial {0} is not newer than {1}")]
    Replay(i64, i64),
    /// An algorithm name Salt does not know.
    #[error("unsupported algorithm {0:?}")]
    Algorithm(String),
}

fn ossl(what: &str) -> impl Fn(openssl::error::ErrorStack) -> CryptoError + '_ {
    move |e| CryptoError::Failed(format!("{what}: {e}"))
}

/// The OAEP variants Salt negotiates (`encryption_algorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncAlgo {
    /// `OAEP-SHA1`, the default.
    OaepSha1,
    /// `OAEP-SHA224`.
    OaepSha224,
}

impl EncAlgo {
    /// Parse Salt's name.
    pub fn parse(s: &str) -> Result<EncAlgo, CryptoError> {
        match s {
            "OAEP-SHA1" => Ok(EncAlgo::OaepSha1),
            "OAEP-SHA224" => Ok(EncAlgo::OaepSha224),
            _ => Err(CryptoError::Algorithm(s.into())),
        }
    }

    /// Salt's name.
    pub fn name(self) -> &'static str {
        match self {
            EncAlgo::OaepSha1 => "OAEP-SHA1",
            EncAlgo::OaepSha224 => "OAEP-SHA224",
        }
    }

    fn md(self) -> &'static openssl::md::MdRef {
        match self {
            EncAlgo::OaepSha1 => Md::sha1(),
            EncAlgo::OaepSha224 => Md::sha224(),
        }
    }
}

/// The PKCS#1 v1.5 signature variants Salt negotiates (`signing_algorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigAlgo {
    /// `PKCS1v15-SHA1`, the default.
    Pkcs1v15Sha1,
    /// `PKCS1v15-SHA224`.
    Pkcs1v15Sha224,
}

impl SigAlgo {
    /// Parse Salt's name.
    pub fn parse(s: &str) -> Result<SigAlgo, CryptoError> {
        match s {
            "PKCS1v15-SHA1" => Ok(SigAlgo::Pkcs1v15Sha1),
            "PKCS1v15-SHA224" => Ok(SigAlgo::Pkcs1v15Sha224),
            _ => Err(CryptoError::Algorithm(s.into())),
        }
    }

    /// Salt's name.
    pub fn name(self) -> &'static str {
        match self {
            SigAlgo::Pkcs1v15Sha1 => "PKCS1v15-SHA1",
            SigAlgo::Pkcs1v15Sha224 => "PKCS1v15-SHA224",
        }
    }

    fn digest(self) -> MessageDigest {
        match self {
            SigAlgo::Pkcs1v15Sha1 => MessageDigest::sha1(),
            SigAlgo::Pkcs1v15Sha224 => MessageDigest::sha224(),
        }
    }
}

/// An RSA private key (a minion's `minion.pem`, the master's `master.pem`).
pub struct PrivateKey {
    rsa: Rsa<Private>,
    pkey: PKey<Private>,
}

impl PrivateKey {
    /// A new key of `bits` bits, exponent 65537, as `salt.crypt.gen_keys` makes.
    pub fn generate(bits: u32) -> Result<PrivateKey, CryptoError> {
        let rsa = Rsa::generate(bits).map_err(ossl("generating an RSA key"))?;
        Self::from_rsa(rsa)
    }

    fn from_rsa(rsa: Rsa<Private>) -> Result<PrivateKey, CryptoError> {
        let pkey = PKey::from_rsa(rsa.clone()).map_err(ossl("wrapping an RSA key"))?;
        Ok(PrivateKey { rsa, pkey })
    }

    /// Read a PEM private key (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`).
    pub fn from_pem(pem: &[u8]) -> Result<PrivateKey, CryptoError> {
        let rsa = Rsa::private_key_from_pem(pem).map_err(|e| CryptoError::BadKey(e.to_string()))?;
        Self::from_rsa(rsa)
    }

    /// The key as Salt writes `*.pem`: PKCS#1 PEM, 64-column lines, trailing newline.
    pub fn to_pem(&self) -> Result<Vec<u8>, CryptoError> {
        self.rsa
            .private_key_to_pem()
            .map_err(ossl("encoding a private key"))
    }

    /// The public half as Salt writes `*.pub`: SubjectPublicKeyInfo PEM.
    pub fn public_pem(&self) -> Result<String, CryptoError> {
        let pem = self
            .rsa
            .public_key_to_pem()
            .map_err(ossl("encoding a public key"))?;
        String::from_utf8(pem).map_err(|e| CryptoError::Failed(e.to_string()))
    }

    /// The public half.
    pub fn public(&self) -> Result<PublicKey, CryptoError> {
        PublicKey::from_pem(self.public_pem()?.as_bytes())
    }

    /// RSA-OAEP decryption (a `token`, `aes`, `session` or pillar `key`).
    pub fn decrypt(&self, algo: EncAlgo, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut ctx = PkeyCtx::new(&self.pkey).map_err(ossl("RSA decrypt"))?;
        ctx.decrypt_init().map_err(ossl("RSA decrypt"))?;
        ctx.set_rsa_padding(Padding::PKCS1_OAEP)
            .map_err(ossl("RSA decrypt"))?;
        ctx.set_rsa_oaep_md(algo.md())
            .map_err(ossl("RSA decrypt"))?;
        ctx.set_rsa_mgf1_md(algo.md())
            .map_err(ossl("RSA decrypt"))?;
        let mut out = Vec::new();
        ctx.decrypt_to_vec(data, &mut out)
            .map_err(ossl("RSA decryption failed"))?;
        Ok(out)
    }

    /// A PKCS#1 v1.5 signature of `msg`.
    pub fn sign(&self, algo: SigAlgo, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut s = Signer::new(algo.digest(), &self.pkey).map_err(ossl("signing"))?;
        s.update(msg).map_err(ossl("signing"))?;
        s.sign_to_vec().map_err(ossl("signing"))
    }

    /// OpenSSL `RSA_private_encrypt` with X9.31 padding: the request `tok` (of `b"salt"`)
    /// and the auth reply's `sig`.
    pub fn x931_sign(&self, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0u8; self.rsa.size() as usize];
        let n = self
            .rsa
            .private_encrypt(msg, &mut out, x931())
            .map_err(ossl("X9.31 private encrypt"))?;
        out.truncate(n);
        Ok(out)
    }
}

/// An RSA public key (`minion.pub`, `minion_master.pub`, `minions/<id>`).
#[derive(Clone)]
pub struct PublicKey {
    rsa: Rsa<Public>,
    pkey: PKey<Public>,
}

impl PublicKey {
    /// Read a PEM public key: SubjectPublicKeyInfo, or PKCS#1 `RSA PUBLIC KEY` as older
    /// minions wrote.
    pub fn from_pem(pem: &[u8]) -> Result<PublicKey, CryptoError> {
        let rsa = Rsa::public_key_from_pem(pem)
            .or_else(|_| Rsa::public_key_from_pem_pkcs1(pem))
            .map_err(|e| CryptoError::BadKey(e.to_string()))?;
        let pkey = PKey::from_rsa(rsa.clone()).map_err(ossl("wrapping an RSA key"))?;
        Ok(PublicKey { rsa, pkey })
    }

    /// RSA-OAEP encryption to this key.
    pub fn encrypt(&self, algo: EncAlgo, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut ctx = PkeyCtx::new(&self.pkey).map_err(ossl("RSA encrypt"))?;
        ctx.encrypt_init().map_err(ossl("RSA encrypt"))?;
        ctx.set_rsa_padding(Padding::PKCS1_OAEP)
            .map_err(ossl("RSA encrypt"))?;
        ctx.set_rsa_oaep_md(algo.md())
            .map_err(ossl("RSA encrypt"))?;
        ctx.set_rsa_mgf1_md(algo.md())
            .map_err(ossl("RSA encrypt"))?;
        let mut out = Vec::new();
        ctx.encrypt_to_vec(data, &mut out)
            .map_err(ossl("RSA encryption"))?;
        Ok(out)
    }

    /// Does `sig` sign `msg` (PKCS#1 v1.5)?
    pub fn verify(&self, algo: SigAlgo, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(mut v) = Verifier::new(algo.digest(), &self.pkey) else {
            return false;
        };
        v.update(msg).is_ok() && v.verify(sig).unwrap_or(false)
    }

    /// OpenSSL `RSA_public_decrypt` with X9.31 padding: what a `tok` or `sig` was made of.
    pub fn x931_recover(&self, sig: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0u8; self.rsa.size() as usize];
        let n = self
            .rsa
            .public_decrypt(sig, &mut out, x931())
            .map_err(ossl("X9.31 public decrypt"))?;
        out.truncate(n);
        Ok(out)
    }
}

/// Salt's `clean_key`: the PEM text stripped, lines joined with `\n`, no trailing newline.
/// Keys are compared as this text.
pub fn clean_key(text: &str) -> String {
    text.trim().lines().collect::<Vec<_>>().join("\n")
}

/// Salt's `pem_finger`: the hex digest (sha256) of the key body, colon-separated pairs.
pub fn pem_finger(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut body = String::new();
    if lines.len() > 2 {
        for l in &lines[1..lines.len() - 1] {
            body.push_str(l);
            body.push('\n');
        }
    }
    let digest = sha2::Sha256::digest(body.as_bytes());
    digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// `len` random bytes from OpenSSL's CSPRNG.
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut b = vec![0u8; len];
    // rand_bytes only fails when the CSPRNG is unusable; then there is no safe way on.
    if let Err(e) = openssl::rand::rand_bytes(&mut b) {
        panic!("OpenSSL's random generator failed: {e}");
    }
    b
}

/// A new Crypticle key string: base64 of 24 AES + 32 HMAC key bytes (76 characters).
pub fn new_key_string() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(random_bytes(56))
}

/// A nonce as Salt makes them: `uuid4().hex` (32 lowercase hex characters).
pub fn new_nonce() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    hex(&b)
}

/// Lowercase hex.
pub fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    b.iter()
        .fold(String::with_capacity(b.len() * 2), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
}

/// The ASCII hex SHA-256 of `data` (the auth `sig` message, file hashes).
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&sha2::Sha256::digest(data))
}
