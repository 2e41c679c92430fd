//! `hashutil.*`: digests and base64 helpers used from templates (salt/modules/hashutil.py).

use super::{arg, required, Exec};
use base64::Engine;
use halite_core::{Error, Map, Result, Value};
use md5::Md5;
use sha2::{Digest, Sha256, Sha512};

/// The functions this module provides.
pub const FUNCTIONS: &[&str] = &[
    "hashutil.digest",
    "hashutil.md5_digest",
    "hashutil.sha256_digest",
    "hashutil.sha512_digest",
    "hashutil.base64_b64encode",
    "hashutil.base64_b64decode",
    "hashutil.base64_encodestring",
    "hashutil.base64_decodestring",
];

fn bytes_of(v: &Value) -> Vec<u8> {
    match v {
        Value::Bytes(b) => b.clone(),
        other => other.py_str().into_bytes(),
    }
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest(kind: &str, data: &[u8]) -> Result<String> {
    Ok(match kind {
        "md5" => hex(&Md5::digest(data)),
        "sha256" => hex(&Sha256::digest(data)),
        "sha512" => hex(&Sha512::digest(data)),
        other => {
            return Err(Error::InvalidArgument(format!(
                "Invalid hash type '{other}'. Must be one of md5, sha256, sha512"
            )))
        }
    })
}

/// Dispatch a `hashutil.*` function.
pub fn call(_ex: &Exec, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let instr = bytes_of(required(name, args, kwargs, 0, "instr")?);
    let text = match name {
        "hashutil.digest" => {
            let kind = arg(args, kwargs, 1, "checksum")
                .map(Value::py_str)
                .unwrap_or_else(|| "md5".into());
            digest(&kind, &instr)?
        }
        "hashutil.md5_digest" => digest("md5", &instr)?,
        "hashutil.sha256_digest" => digest("sha256", &instr)?,
        "hashutil.sha512_digest" => digest("sha512", &instr)?,
        "hashutil.base64_b64encode" => b64.encode(&instr),
        "hashutil.base64_encodestring" => {
            // Python's encodebytes: lines of 76 characters, each ending with a newline.
            let enc = b64.encode(&instr);
            let mut out = String::new();
            for chunk in enc.as_bytes().chunks(76) {
                out.push_str(&String::from_utf8_lossy(chunk));
                out.push('\n');
            }
            out
        }
        "hashutil.base64_b64decode" | "hashutil.base64_decodestring" => {
            let clean: Vec<u8> = instr
                .iter()
                .copied()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            let raw = b64
                .decode(&clean)
                .map_err(|e| Error::CommandExecution(format!("Incorrect padding or data: {e}")))?;
            return Ok(match String::from_utf8(raw) {
                Ok(s) => Value::Str(s),
                Err(e) => Value::Bytes(e.into_bytes()),
            });
        }
        _ => return Err(Error::NotAvailable(name.to_string())),
    };
    Ok(Value::Str(text))
}

#[cfg(test)]
mod tests {
    use super::digest;

    #[test]
    fn digests_match_python_hashlib() {
        assert_eq!(
            digest("md5", b"hello").unwrap(),
            "5d41402abc4b2a76b9719d911017c592"
        );
        assert_eq!(
            digest("sha256", b"hello").unwrap(),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert!(digest("crc", b"x").is_err());
    }
}
