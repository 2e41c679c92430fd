//! Salt's `json` outputter: Python's `json.dumps(data, default=repr, indent=4,
//! ensure_ascii=False)`, key order kept.
//!
//! `--out-indent N`: `N >= 0` indents by `N` (0 still breaks lines), a negative `N`
//! gives the one-line form with `", "` and `": "` separators. A mapping key that
//! JSON cannot carry (bytes, containers) makes `json.dumps` raise `TypeError`,
//! which Salt answers with `{}`.

use halite_core::value::py_float_repr;
use halite_core::Value;

/// A key `json.dumps` refuses (`TypeError: keys must be str, int, float, bool or None`).
struct UnsupportedKey;

/// Render `data` as Salt's json outputter does (before the final newline).
pub fn output(data: &Value, out_indent: Option<i64>) -> String {
    let indent = match out_indent {
        None => Some(4),
        Some(n) if n < 0 => None,
        Some(n) => usize::try_from(n).ok(),
    };
    let mut out = String::with_capacity(4096);
    match write_value(data, indent, 0, &mut out) {
        Ok(()) => out,
        Err(UnsupportedKey) => "{}".to_string(),
    }
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

fn key_text(key: &Value) -> Result<String, UnsupportedKey> {
    match key {
        Value::Str(s) => Ok(s.clone()),
        Value::Float(f) => Ok(float_text(*f)),
        Value::Bool(true) => Ok("true".into()),
        Value::Bool(false) => Ok("false".into()),
        Value::Null => Ok("null".into()),
        Value::Int(i) => Ok(i.to_string()),
        Value::Bytes(_) | Value::List(_) | Value::Map(_) => Err(UnsupportedKey),
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
    indent: Option<usize>,
    level: usize,
    out: &mut String,
) -> Result<(), UnsupportedKey> {
    let item_sep = if indent.is_some() { "," } else { ", " };
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&float_text(*f)),
        Value::Str(s) => write_string(s, out),
        // `default=repr`: bytes are written as their Python repr.
        Value::Bytes(_) => write_string(&v.py_repr(), out),
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
                write_value(item, indent, level + 1, out)?;
            }
            newline(indent, level, out);
            out.push(']');
        }
        Value::Map(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (key, val)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(indent, level + 1, out);
                match key {
                    Value::Str(k) => write_string(k, out),
                    other => write_string(&key_text(other)?, out),
                }
                out.push_str(": ");
                write_value(val, indent, level + 1, out)?;
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
}
