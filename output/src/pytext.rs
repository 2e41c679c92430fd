//! Python string semantics the outputters depend on: `str.isspace`, `str.strip`,
//! `str.splitlines`, `bytes.splitlines` and `sorted()` over mapping keys.

use halite_core::Value;
use std::cmp::Ordering;

/// Python's `str.isspace()` for one character (Unicode `White_Space` plus the
/// information separators `\x1c`..`\x1f`).
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` with no argument.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Python's `str.rstrip()` with no argument.
pub fn py_rstrip(s: &str) -> &str {
    s.trim_end_matches(is_py_space)
}

/// Python's `str.splitlines()`: splits on every line boundary Python knows
/// (`\n`, `\r`, `\r\n`, `\v`, `\f`, `\x1c`-`\x1e`, `\x85`, `\u2028`, `\u2029`);
/// a trailing boundary does not make an empty last line.
pub fn py_splitlines(s: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let is_break = matches!(
            c,
            '\n' | '\r'
                | '\u{0b}'
                | '\u{0c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if !is_break {
            continue;
        }
        lines.push(&s[start..i]);
        let mut end = i + c.len_utf8();
        if c == '\r' {
            if let Some(&(j, '\n')) = chars.peek() {
                chars.next();
                end = j + 1;
            }
        }
        start = end;
    }
    if start < s.len() {
        lines.push(&s[start..]);
    }
    lines
}

/// Python's `bytes.splitlines()`: splits on `\n`, `\r` and `\r\n` only.
pub fn py_bytes_splitlines(b: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\n' => {
                lines.push(&b[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&b[start..i]);
                if b.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < b.len() {
        lines.push(&b[start..]);
    }
    lines
}

/// The comparison family a key belongs to under Python 3's `<`.
#[derive(PartialEq, Eq, Clone, Copy)]
enum SortClass {
    Number,
    Text,
    Binary,
    /// `None`, and containers: not orderable against anything here.
    Unorderable,
}

fn sort_class(v: &Value) -> SortClass {
    match v {
        Value::Bool(_) | Value::Int(_) | Value::Float(_) => SortClass::Number,
        Value::Str(_) => SortClass::Text,
        Value::Bytes(_) => SortClass::Binary,
        Value::Null | Value::List(_) | Value::Map(_) => SortClass::Unorderable,
    }
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

/// Python's `a < b` ordering for two keys of the same [`SortClass`].
fn py_cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (Value::Bytes(x), Value::Bytes(y)) => x.cmp(y),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        _ => as_f64(a).partial_cmp(&as_f64(b)).unwrap_or(Ordering::Equal),
    }
}

/// Python's `sorted()` over `keys`: the stable permutation that orders them, or
/// `None` when Python would raise `TypeError` (unorderable or mixed-type values;
/// a single value never compares, so it always sorts).
pub fn py_sorted_order(keys: &[&Value]) -> Option<Vec<usize>> {
    if keys.len() >= 2 {
        let first = sort_class(keys[0]);
        if first == SortClass::Unorderable || keys.iter().any(|k| sort_class(k) != first) {
            return None;
        }
    }
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| py_cmp(keys[a], keys[b]));
    Some(order)
}

/// `sorted(mapping)` as the nested outputter does it: the keys in Python order,
/// or, when Python's sort would raise `TypeError` (keys of unorderable or mixed
/// types), `{str(k): v}` sorted by text (a later key with the same text wins).
///
/// Returns each entry as `(str(key), value)`.
pub fn sorted_entries(map: &halite_core::Map) -> Vec<(String, &Value)> {
    let keys: Vec<&Value> = map.keys().collect();
    if let Some(order) = py_sorted_order(&keys) {
        return order
            .into_iter()
            .filter_map(|i| map.get_index(i))
            .map(|(k, v)| (k.py_str(), v))
            .collect();
    }
    let mut by_text: indexmap::IndexMap<String, &Value> = indexmap::IndexMap::default();
    for (k, v) in map {
        by_text.insert(k.py_str(), v);
    }
    let mut entries: Vec<(String, &Value)> = by_text.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use halite_core::Map;

    #[test]
    fn splitlines_like_python() {
        assert_eq!(py_splitlines("a\nb\r\nc\rd\n"), vec!["a", "b", "c", "d"]);
        assert_eq!(py_splitlines(""), Vec::<&str>::new());
        assert_eq!(py_splitlines("\n\nx"), vec!["", "", "x"]);
        assert_eq!(py_splitlines("a\u{2028}b\x0cc"), vec!["a", "b", "c"]);
        assert_eq!(
            py_bytes_splitlines(b"a\r\nb\x0cc\n"),
            vec![&b"a"[..], &b"b\x0cc"[..]]
        );
    }

    #[test]
    fn strip_uses_python_whitespace() {
        assert_eq!(py_strip("\x1c a b\n\u{a0}"), "a b");
        assert_eq!(py_rstrip("  x \n\n"), "  x");
    }

    #[test]
    fn mixed_keys_fall_back_to_text_order() {
        let mut m = Map::default();
        m.insert(Value::Int(10), Value::Int(1));
        m.insert(Value::from("b"), Value::Int(2));
        m.insert(Value::Int(9), Value::Int(3));
        let keys: Vec<String> = sorted_entries(&m).into_iter().map(|e| e.0).collect();
        assert_eq!(keys, vec!["10", "9", "b"]);
    }

    #[test]
    fn numeric_keys_sort_numerically() {
        let mut m = Map::default();
        m.insert(Value::Int(10), Value::Null);
        m.insert(Value::Float(9.5), Value::Null);
        m.insert(Value::Bool(true), Value::Null);
        let keys: Vec<String> = sorted_entries(&m).into_iter().map(|e| e.0).collect();
        assert_eq!(keys, vec!["True", "9.5", "10"]);
    }
}
