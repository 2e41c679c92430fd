//! msgpack as Salt packs it (`salt.payload`): `str` and `bytes` both travel as msgpack
//! str-type (so ciphertexts arrive as str-type that is not UTF-8), map keys may be any value,
//! positive integers use the unsigned family, floats are float64.
//!
//! Decoding reads from a byte slice the whole message was received into: every length is
//! checked against the bytes that remain before anything is allocated, nesting is bounded,
//! and malformed input is an error, never a panic.

use halite_core::{Map, Value};
use rmp::Marker;

/// The deepest nesting accepted from the wire.
pub const MAX_DEPTH: usize = 256;

/// Why bytes are not a msgpack document Salt could have sent.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecodeError {
    /// The input ended inside a value.
    #[error("msgpack: truncated input")]
    Truncated,
    /// A marker msgpack reserves.
    #[error("msgpack: reserved marker 0x{0:02x}")]
    Reserved(u8),
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("msgpack: nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    /// Bytes left over after the document.
    #[error("msgpack: {0} trailing bytes")]
    Trailing(usize),
    /// A map key that is a map or a list (Python cannot hash those, and hashing them would
    /// let a frame cost quadratic time) or a float (NaN keys never compare equal): Salt
    /// never sends such keys.
    #[error("msgpack: unsupported map key")]
    UnhashableKey,
}

/// Encode a value as Salt does (`salt.payload.dumps`).
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    write(&mut out, v, false);
    out
}

/// Encode with msgpack's bin type for bytes (`use_bin_type=True`), as Salt packs its
/// event bus frames.
pub fn encode_bin_type(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    write(&mut out, v, true);
    out
}

/// Decode the first document of a stream: `Ok(None)` when `buf` does not hold a whole
/// one yet; otherwise the value and the bytes it took.
pub fn decode_prefix(buf: &[u8]) -> Result<Option<(Value, usize)>, DecodeError> {
    let mut r = Reader { buf, pos: 0 };
    match r.value(0) {
        Ok(v) => Ok(Some((v, r.pos))),
        Err(DecodeError::Truncated) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Salt packs with `use_bin_type=False`, the old msgpack "raw" family: fixstr, then str16
/// (never str8), then str32.
fn write_raw_str(out: &mut Vec<u8>, b: &[u8]) {
    let n = b.len();
    if n < 32 {
        out.push(0xa0 | n as u8);
    } else if n < 65536 {
        out.push(0xda);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(b);
}

fn write(out: &mut Vec<u8>, v: &Value, bin: bool) {
    match v {
        Value::Null => rmp::encode::write_nil(out).unwrap_or(()),
        Value::Bool(b) => rmp::encode::write_bool(out, *b).unwrap_or(()),
        Value::Int(i) if *i >= 0 => {
            let _ = rmp::encode::write_uint(out, *i as u64);
        }
        Value::Int(i) => {
            let _ = rmp::encode::write_sint(out, *i);
        }
        Value::Float(f) => {
            let _ = rmp::encode::write_f64(out, *f);
        }
        Value::Str(s) => write_raw_str(out, s.as_bytes()),
        Value::Bytes(b) if bin => {
            let _ = rmp::encode::write_bin_len(out, b.len() as u32);
            out.extend_from_slice(b);
        }
        Value::Bytes(b) => write_raw_str(out, b),
        Value::List(l) => {
            let _ = rmp::encode::write_array_len(out, l.len() as u32);
            for x in l {
                write(out, x, bin);
            }
        }
        Value::Map(m) => {
            let _ = rmp::encode::write_map_len(out, m.len() as u32);
            for (k, x) in m {
                write(out, k, bin);
                write(out, x, bin);
            }
        }
    }
}

/// Decode one document that must fill `buf` exactly.
pub fn decode(buf: &[u8]) -> Result<Value, DecodeError> {
    let mut r = Reader { buf, pos: 0 };
    let v = r.value(0)?;
    match buf.len() - r.pos {
        0 => Ok(v),
        n => Err(DecodeError::Trailing(n)),
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Truncated)?;
        let s = self.buf.get(self.pos..end).ok_or(DecodeError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn be(&mut self, n: usize) -> Result<u64, DecodeError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// The count of elements a container claims, bounded by the bytes left (each element
    /// takes at least one byte), so a lying header cannot make us allocate.
    fn count(&mut self, n: usize, per: usize) -> Result<usize, DecodeError> {
        let c = self.be(n)? as usize;
        if c.saturating_mul(per) > self.buf.len() - self.pos {
            return Err(DecodeError::Truncated);
        }
        Ok(c)
    }

    fn text(&mut self, n: usize) -> Result<Value, DecodeError> {
        let b = self.take(n)?;
        Ok(match std::str::from_utf8(b) {
            Ok(s) => Value::Str(s.to_string()),
            Err(_) => Value::Bytes(b.to_vec()),
        })
    }

    fn array(&mut self, n: usize, depth: usize) -> Result<Value, DecodeError> {
        // The count is bounded by the input, but a value takes far more memory than the
        // byte it may be encoded in: grow as elements really arrive.
        let mut l = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            l.push(self.value(depth + 1)?);
        }
        Ok(Value::List(l))
    }

    fn map(&mut self, n: usize, depth: usize) -> Result<Value, DecodeError> {
        let mut m = Map::with_capacity_and_hasher(n.min(1024), Default::default());
        for _ in 0..n {
            let k = self.value(depth + 1)?;
            if matches!(k, Value::Map(_) | Value::List(_) | Value::Float(_)) {
                return Err(DecodeError::UnhashableKey);
            }
            let v = self.value(depth + 1)?;
            m.insert(k, v);
        }
        Ok(Value::Map(m))
    }

    fn ext(&mut self, len: usize, depth: usize) -> Result<Value, DecodeError> {
        let ty = self.take(1)?[0] as i8;
        let data = self.take(len)?;
        Ok(match ty {
            // Salt's datetime: ASCII "%Y%m%dT%H:%M:%S.%f".
            78 => Value::Str(String::from_utf8_lossy(data).into_owned()),
            // Salt's constants: msgpack of (name, value); keep the value.
            79 => {
                let mut inner = Reader { buf: data, pos: 0 };
                match inner.value(depth + 1)? {
                    Value::List(mut l) if l.len() == 2 => l.pop().unwrap_or(Value::Null),
                    other => other,
                }
            }
            _ => Value::Bytes(data.to_vec()),
        })
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::TooDeep);
        }
        let m = Marker::from_u8(self.take(1)?[0]);
        Ok(match m {
            Marker::Null => Value::Null,
            Marker::True => Value::Bool(true),
            Marker::False => Value::Bool(false),
            Marker::FixPos(n) => Value::Int(i64::from(n)),
            Marker::FixNeg(n) => Value::Int(i64::from(n)),
            Marker::U8 => Value::Int(self.be(1)? as i64),
            Marker::U16 => Value::Int(self.be(2)? as i64),
            Marker::U32 => Value::Int(self.be(4)? as i64),
            Marker::U64 => {
                let u = self.be(8)?;
                i64::try_from(u)
                    .map(Value::Int)
                    .unwrap_or_else(|_| Value::Str(u.to_string()))
            }
            Marker::I8 => Value::Int(i64::from(self.be(1)? as u8 as i8)),
            Marker::I16 => Value::Int(i64::from(self.be(2)? as u16 as i16)),
            Marker::I32 => Value::Int(i64::from(self.be(4)? as u32 as i32)),
            Marker::I64 => Value::Int(self.be(8)? as i64),
            Marker::F32 => Value::Float(f64::from(f32::from_bits(self.be(4)? as u32))),
            Marker::F64 => Value::Float(f64::from_bits(self.be(8)?)),
            Marker::FixStr(n) => self.text(usize::from(n))?,
            Marker::Str8 | Marker::Bin8 => {
                let n = self.be(1)? as usize;
                self.text(n)?
            }
            Marker::Str16 | Marker::Bin16 => {
                let n = self.be(2)? as usize;
                self.text(n)?
            }
            Marker::Str32 | Marker::Bin32 => {
                let n = self.be(4)? as usize;
                self.text(n)?
            }
            Marker::FixArray(n) => self.array(usize::from(n), depth)?,
            Marker::Array16 => {
                let n = self.count(2, 1)?;
                self.array(n, depth)?
            }
            Marker::Array32 => {
                let n = self.count(4, 1)?;
                self.array(n, depth)?
            }
            Marker::FixMap(n) => self.map(usize::from(n), depth)?,
            Marker::Map16 => {
                let n = self.count(2, 2)?;
                self.map(n, depth)?
            }
            Marker::Map32 => {
                let n = self.count(4, 2)?;
                self.map(n, depth)?
            }
            Marker::FixExt1 => self.ext(1, depth)?,
            Marker::FixExt2 => self.ext(2, depth)?,
            Marker::FixExt4 => self.ext(4, depth)?,
            Marker::FixExt8 => self.ext(8, depth)?,
            Marker::FixExt16 => self.ext(16, depth)?,
            Marker::Ext8 => {
                let n = self.be(1)? as usize;
                self.ext(n, depth)?
            }
            Marker::Ext16 => {
                let n = self.be(2)? as usize;
                self.ext(n, depth)?
            }
            Marker::Ext32 => {
                let n = self.be(4)? as usize;
                self.ext(n, depth)?
            }
            Marker::Reserved => return Err(DecodeError::Reserved(0xc1)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn bytes_travel_as_str_type() {
        let v = map(&[("k", Value::Bytes(vec![0xff, 0])), ("s", "x".into())]);
        let b = encode(&v);
        assert_eq!(b, [0x82, 0xa1, b'k', 0xa2, 0xff, 0, 0xa1, b's', 0xa1, b'x']);
        assert_eq!(decode(&b).unwrap(), v);
    }

    #[test]
    fn lying_lengths_are_errors_not_allocations() {
        assert_eq!(
            decode(&[0xdb, 0xff, 0xff, 0xff, 0xff]),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            decode(&[0xdd, 0xff, 0xff, 0xff, 0xff]),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            decode(&[0xdf, 0x7f, 0xff, 0xff, 0xff, 1]),
            Err(DecodeError::Truncated)
        );
        assert_eq!(decode(&[0xc1]), Err(DecodeError::Reserved(0xc1)));
        assert_eq!(decode(&[0x01, 0x02]), Err(DecodeError::Trailing(1)));
        let deep = vec![0x91; 10_000];
        assert_eq!(decode(&deep), Err(DecodeError::TooDeep));
        // {{}: nil} and {[]: nil}
        assert_eq!(decode(&[0x81, 0x80, 0xc0]), Err(DecodeError::UnhashableKey));
        assert_eq!(decode(&[0x81, 0x90, 0xc0]), Err(DecodeError::UnhashableKey));
        let nan_key = [0x81, 0xcb, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 0xc0];
        assert_eq!(decode(&nan_key), Err(DecodeError::UnhashableKey));
    }

    #[test]
    fn non_string_keys_and_numbers_round_trip() {
        let mut m = Map::default();
        m.insert(Value::Int(1), "a".into());
        m.insert("f".into(), Value::Float(1.5));
        m.insert(Value::Bool(true), Value::Null);
        m.insert("n".into(), Value::Int(-40));
        m.insert("big".into(), Value::Int(1 << 40));
        let v = Value::Map(m);
        assert_eq!(decode(&encode(&v)).unwrap(), v);
    }
}
