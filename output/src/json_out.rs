//! Salt's `json` outputter: Python's `json.dumps(data, default=repr, indent=4,
//! ensure_ascii=False)`, key order kept.
//!
//! `--out-indent N`: `N >= 0` indents by `N` (0 still breaks lines), a negative `N`
//! gives the one-line form with `", "` and `": "` separators. A mapping key that
//! JSON cannot carry (bytes, containers) makes `json.dumps` raise `TypeError`,
//! which Salt answers with `{}`.
//!
//! [`dumps`] is the general form other Salt code paths use (`salt-run state.event`):
//! `sort_keys` and the `default=` hook for byte strings are options.

use halite_core::value::py_float_repr;
use halite_core::Value;
use std::cmp::Ordering;

/// Why `json.dumps` raised `TypeError`; `Display` gives Python's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpError {
    /// A mapping key JSON cannot carry (`keys must be str, int, float, bool or None, not
    /// bytes`); the Python type name.
    UnsupportedKey(&'static str),
    /// `sort_keys` over keys Python cannot order (`'<' not supported between instances of
    /// 'str' and 'int'`); the two Python type names.
    Unorderable(&'static str, &'static str),
}

impl std::fmt::Display for DumpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DumpError::UnsupportedKey(t) => {
                write!(f, "keys must be str, int, float, bool or None, not {t}")
            }
            DumpError::Unorderable(a, b) => {
                write!(f, "'<' not supported between instances of '{a}' and '{b}'")
            }
        }
    }
}

impl std::error::Error for DumpError {}

/// What `json.dumps`' `default=` hook makes of a byte string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BytesAs {
    /// `default=repr` (the json outputter): the string `"b'...'"`.
    Repr,
    /// Standard base64 (Salt's `state._json_safe`, used by `state.event`).
    Base64,
}

/// The keywords of Python's `json.dumps(data, ensure_ascii=False, ...)` that Halite uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DumpOptions {
    /// `indent`: `None` is the one-line form with `", "` and `": "` separators.
    pub indent: Option<usize>,
    /// `sort_keys`: every mapping's items in Python's `sorted()` order.
    pub sort_keys: bool,
    /// The `default=` hook for byte strings.
    pub bytes: BytesAs,
}

/// Render `data` as Salt's json outputter does (before the final newline).
pub fn output(data: &Value, out_indent: Option<i64>) -> String {
    let indent = match out_indent {
        None => Some(4),
        Some(n) if n < 0 => None,
        Some(n) => usize::try_from(n).ok(),
    };
    let opts = DumpOptions {
        indent,
        sort_keys: false,
        bytes: BytesAs::Repr,
    };
    dumps(data, &opts).unwrap_or_else(|_| "{}".to_string())
}

/// Python's `json.dumps(data, ensure_ascii=False, ...)` with `opts`; `Err` where Python
/// raises `TypeError`.
pub fn dumps(data: &Value, opts: &DumpOptions) -> Result<String, DumpError> {
    let mut out = String::with_capacity(4096);
    write_value(data, opts, 0, &mut out)?;
    Ok(out)
}

/// Python's `base64.b64encode(b).decode("ascii")`.
fn base64(b: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &byte)| n | u32::from(byte) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 0x3f) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A number as Python compares it (`bool` is an `int`).
fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Python's `a < b`-based order of two dict keys, or `None` where Python raises.
fn py_key_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bytes(x), Value::Bytes(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        _ => Some(
            as_number(a)?
                .partial_cmp(&as_number(b)?)
                .unwrap_or(Ordering::Equal),
        ),
    }
}

/// The items of `map` in `sorted(dct.items())` order. Keys Python cannot order raise
/// its `TypeError`, naming the types of a later key and an earlier one as `sorted()`'s
/// first failing comparison does for two keys.
fn sorted_items(map: &halite_core::Map) -> Result<Vec<(&Value, &Value)>, DumpError> {
    let mut items: Vec<(&Value, &Value)> = map.iter().collect();
    if let Some((first, _)) = items.first() {
        for (k, _) in items.iter().skip(1) {
            if py_key_cmp(k, first).is_none() {
                return Err(DumpError::Unorderable(k.type_name(), first.type_name()));
            }
        }
    }
    items.sort_by(|a, b| py_key_cmp(a.0, b.0).unwrap_or(Ordering::Equal));
    Ok(items)
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        py_float_repr(f)
    }
}

/// Python's `py_encode_basestring` (ensure_ascii off).
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    // Copy runs of characters that need no escaping in one go.
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.push_str(&s[start..i]);
        start = i + 1;
        let c = b as char;
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c => out.push_str(&format!("\\u{:04x}", c as u32)),
        }
    }
    out.push_str(&s[start..]);
    out.push('"');
}

fn key_text(key: &Value) -> Result<String, DumpError> {
    match key {
        Value::Str(s) => Ok(s.clone()),
        Value::Float(f) => Ok(float_text(*f)),
        Value::Bool(true) => Ok("true".into()),
        Value::Bool(false) => Ok("false".into()),
        Value::Null => Ok("null".into()),
        Value::Int(i) => Ok(i.to_string()),
        Value::Bytes(_) | Value::List(_) | Value::Map(_) => {
            Err(DumpError::UnsupportedKey(key.type_name()))
        }
    }
}

fn newline(indent: Option<usize>, level: usize, out: &mut String) {
    if let Some(width) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', width * level));
    }
}

fn write_value(
    v: &Value,
    opts: &DumpOptions,
    level: usize,
    out: &mut String,
) -> Result<(), DumpError> {
    let indent = opts.indent;
    let item_sep = if indent.is_some() { "," } else { ", " };
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&float_text(*f)),
        Value::Str(s) => write_string(s, out),
        // The `default=` hook: bytes are written as their Python repr, or in base64.
        Value::Bytes(b) => match opts.bytes {
            BytesAs::Repr => write_string(&v.py_repr(), out),
            BytesAs::Base64 => write_string(&base64(b), out),
        },
        Value::List(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(indent, level + 1, out);
                write_value(item, opts, level + 1, out)?;
            }
            newline(indent, level, out);
            out.push(']');
        }
        Value::Map(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            let items: Vec<(&Value, &Value)> = if opts.sort_keys {
                sorted_items(map)?
            } else {
                map.iter().collect()
            };
            out.push('{');
            for (i, (key, val)) in items.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(indent, level + 1, out);
                match key {
                    Value::Str(k) => write_string(k, out),
                    other => write_string(&key_text(other)?, out),
                }
                out.push_str(": ");
                write_value(val, opts, level + 1, out)?;
            }
            newline(indent, level, out);
            out.push('}');
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use halite_core::map;

    fn sample() -> Value {
        Value::Map(map! {
            "local" => Value::Map(map! {
                "b" => Value::List(vec![Value::Int(1), Value::Float(2.0), Value::Null]),
                "a" => "é\"\u{1}",
                "e" => Value::map(),
            })
        })
    }

    #[test]
    fn default_indent_keeps_order() {
        assert_eq!(
            output(&sample(), None),
            "{\n    \"local\": {\n        \"b\": [\n            1,\n            2.0,\n            null\n        ],\n        \"a\": \"é\\\"\\u0001\",\n        \"e\": {}\n    }\n}"
        );
    }

    #[test]
    fn negative_and_zero_indent() {
        assert_eq!(
            output(&sample(), Some(-1)),
            "{\"local\": {\"b\": [1, 2.0, null], \"a\": \"é\\\"\\u0001\", \"e\": {}}}"
        );
        let mut m = halite_core::Map::default();
        m.insert(Value::Int(1), Value::Float(f64::NAN));
        assert_eq!(output(&Value::Map(m), Some(0)), "{\n\"1\": NaN\n}");
    }

    #[test]
    fn unsupported_key_gives_empty_object() {
        let mut m = halite_core::Map::default();
        m.insert(Value::Bytes(b"k".to_vec()), Value::Null);
        assert_eq!(output(&Value::Map(m), None), "{}");
    }

    fn event_sample() -> Value {
        Value::Map(map! {
            "b" => "é\t",
            "a" => Value::List(vec![Value::Int(1), Value::Float(2.5), Value::Null, Value::Bool(true)]),
            "9" => Value::Int(1),
            "10" => Value::Map(map! {
                "z" => Value::Int(1),
                "y" => Value::Bytes(vec![0xff, 0x00, b'a']),
            }),
        })
    }

    /// Expected texts from Python 3.11's `json.dumps(..., ensure_ascii=False,
    /// default=lambda b: base64.b64encode(b).decode())`.
    #[test]
    fn dumps_sorted_pretty_and_compact_with_base64_bytes() {
        let pretty = DumpOptions {
            indent: Some(4),
            sort_keys: true,
            bytes: BytesAs::Base64,
        };
        assert_eq!(
            dumps(&event_sample(), &pretty).unwrap(),
            "{\n    \"10\": {\n        \"y\": \"/wBh\",\n        \"z\": 1\n    },\n    \"9\": 1,\n    \"a\": [\n        1,\n        2.5,\n        null,\n        true\n    ],\n    \"b\": \"é\\t\"\n}"
        );
        let compact = DumpOptions {
            indent: None,
            sort_keys: false,
            bytes: BytesAs::Base64,
        };
        assert_eq!(
            dumps(&event_sample(), &compact).unwrap(),
            "{\"b\": \"é\\t\", \"a\": [1, 2.5, null, true], \"9\": 1, \"10\": {\"z\": 1, \"y\": \"/wBh\"}}"
        );
    }

    #[test]
    fn sort_keys_orders_numbers_and_refuses_mixed_types() {
        let sorted = DumpOptions {
            indent: None,
            sort_keys: true,
            bytes: BytesAs::Repr,
        };
        let mut m = halite_core::Map::default();
        m.insert(Value::Int(2), Value::Int(1));
        m.insert(Value::Float(1.5), Value::Int(2));
        m.insert(Value::Bool(true), Value::Int(3));
        assert_eq!(
            dumps(&Value::Map(m), &sorted).unwrap(),
            "{\"true\": 3, \"1.5\": 2, \"2\": 1}"
        );
        let mut m = halite_core::Map::default();
        m.insert(Value::Int(1), Value::Int(2));
        m.insert(Value::from("a"), Value::Int(3));
        assert_eq!(
            dumps(&Value::Map(m), &sorted).unwrap_err().to_string(),
            "'<' not supported between instances of 'str' and 'int'"
        );
        let mut m = halite_core::Map::default();
        m.insert(Value::Bytes(b"k".to_vec()), Value::Int(2));
        assert_eq!(
            dumps(&Value::Map(m), &sorted).unwrap_err().to_string(),
            "keys must be str, int, float, bool or None, not bytes"
        );
    }

    #[test]
    fn base64_matches_python() {
        let cases: [(&[u8], &str); 6] = [
            (b"", ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
        ];
        for (input, want) in cases {
            assert_eq!(base64(input), want);
        }
    }
}
