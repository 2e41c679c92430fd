//! How Python (and Salt's Jinja finalizer) prints template values: `[1, 2]`, `{'a': 1}`,
//! `('a', 1)`, `True`, `None`, floats as `repr(float)`.
//!
//! Salt's finalizer turns printed dicts into `PrintableDict`, whose string *values* holding a
//! newline, carriage return or tab are written as YAML double-quoted scalars instead of
//! Python reprs (salt issue #30690).

use halite_core::value::{py_float_repr, py_str_repr};
use minijinja::value::{Tuple, Value as JValue, ValueKind};

use super::convert::{iter_values, map_pairs};

/// Python's `str(x)` of a printed template value (`{{ x }}`), with Salt's finalizer.
pub fn py_str(v: &JValue) -> String {
    match v.kind() {
        ValueKind::String => v.as_str().unwrap_or_default().to_string(),
        ValueKind::Undefined => String::new(),
        _ => repr(v),
    }
}

/// Python's `repr(x)` (dict values as Salt's `PrintableDict` writes them).
pub fn repr(v: &JValue) -> String {
    let mut out = String::new();
    write_repr(v, &mut out, false);
    out
}

fn write_repr(v: &JValue, out: &mut String, dict_value: bool) {
    match v.kind() {
        ValueKind::Undefined => {}
        ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if v.is_true() { "True" } else { "False" }),
        ValueKind::Number => {
            if v.is_integer() {
                out.push_str(&v.to_string());
            } else {
                out.push_str(&py_float_repr(f64::try_from(v.clone()).unwrap_or(f64::NAN)));
            }
        }
        ValueKind::String => {
            let s = v.as_str().unwrap_or_default();
            if dict_value && s.contains(['\n', '\r', '\t']) {
                out.push_str(&yaml_double_quoted(s));
            } else {
                out.push_str(&py_str_repr(s));
            }
        }
        ValueKind::Bytes => {
            let b = halite_core::Value::Bytes(v.as_bytes().unwrap_or_default().to_vec());
            out.push_str(&b.py_repr());
        }
        ValueKind::Map => {
            out.push('{');
            for (i, (k, val)) in map_pairs(v).unwrap_or_default().iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(k, out, false);
                out.push_str(": ");
                write_repr(val, out, true);
            }
            out.push('}');
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let is_tuple = v.downcast_object_ref::<Tuple>().is_some();
            let items = iter_values(v).unwrap_or_default();
            out.push(if is_tuple { '(' } else { '[' });
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(item, out, false);
            }
            if is_tuple && items.len() == 1 {
                out.push(',');
            }
            out.push(if is_tuple { ')' } else { ']' });
        }
        _ => out.push_str(&v.to_string()),
    }
}

/// A YAML double-quoted scalar as Salt's `safe_dump(s, default_style='"')` (libyaml,
/// `allow_unicode=True`, no folding) writes it: printable non-ASCII kept, breaks escaped.
pub fn yaml_double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\0' => out.push_str("\\0"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0b' => out.push_str("\\v"),
            '\x0c' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\x1b' => out.push_str("\\e"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            ' '..='~' => out.push(c),
            c if (c as u32) >= 0xa0
                && c != '\u{feff}'
                && !(0xd800..0xe000).contains(&(c as u32))
                && c != '\u{fffe}'
                && c != '\u{ffff}' =>
            {
                out.push(c)
            }
            c => {
                let cp = c as u32;
                if cp <= 0xff {
                    out.push_str(&format!("\\x{cp:02X}"));
                } else if cp <= 0xffff {
                    out.push_str(&format!("\\u{cp:04X}"));
                } else {
                    out.push_str(&format!("\\U{cp:08X}"));
                }
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jinja::convert::to_jinja;
    use halite_core::{map, Value};

    #[test]
    fn prints_like_python() {
        let v = to_jinja(&Value::List(vec![
            Value::Int(1),
            Value::from("a"),
            Value::Bool(true),
            Value::Null,
            Value::Float(3.0),
        ]));
        assert_eq!(py_str(&v), "[1, 'a', True, None, 3.0]");
        let t = JValue::from(Tuple::from(vec![JValue::from("a"), JValue::from(1)]));
        assert_eq!(py_str(&t), "('a', 1)");
        let one = JValue::from(Tuple::from(vec![JValue::from(1)]));
        assert_eq!(py_str(&one), "(1,)");
    }

    #[test]
    fn dict_string_values_with_newlines_are_yaml_quoted() {
        let v = to_jinja(&Value::Map(
            map! {"a" => "x\ny", "b" => Value::List(vec!["p\nq".into()])},
        ));
        assert_eq!(py_str(&v), "{'a': \"x\\ny\", 'b': ['p\\nq']}");
    }
}
