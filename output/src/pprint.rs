//! Python's `pprint.pformat(obj)` (width 80, indent 1, dict keys sorted): used by
//! the txt outputter for non-mapping data and by the highstate outputter for
//! state returns that lack `__run_num__`.
//!
//! Long mappings and lists break one item per line; long strings break into
//! adjacent literals at whitespace. Bytes are not split.

use crate::pytext::py_splitlines;
use halite_core::value::py_str_repr;
use halite_core::Value;
use std::cmp::Ordering;

const WIDTH: usize = 80;

/// `pprint.pformat(value)`.
pub fn pformat(value: &Value) -> String {
    let mut out = String::new();
    format(value, &mut out, 0, 0, 0);
    out
}

fn len_chars(s: &str) -> usize {
    s.chars().count()
}

/// Python order where the keys allow it, else by type name (pprint's `_safe_key`).
fn key_order(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> (&'static str, u8) {
        match v {
            Value::Bool(_) | Value::Int(_) | Value::Float(_) => ("number", 0),
            other => (other.type_name(), 1),
        }
    }
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (Value::Bytes(x), Value::Bytes(y)) => x.cmp(y),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (
            Value::Bool(_) | Value::Int(_) | Value::Float(_),
            Value::Bool(_) | Value::Int(_) | Value::Float(_),
        ) => {
            let f = |v: &Value| match v {
                Value::Bool(b) => f64::from(u8::from(*b)),
                Value::Int(i) => *i as f64,
                Value::Float(f) => *f,
                _ => 0.0,
            };
            f(a).partial_cmp(&f(b)).unwrap_or(Ordering::Equal)
        }
        _ => rank(a).0.cmp(rank(b).0),
    }
}

fn sorted_items(map: &halite_core::Map) -> Vec<(&Value, &Value)> {
    let mut items: Vec<(&Value, &Value)> = map.iter().collect();
    items.sort_by(|a, b| key_order(a.0, b.0));
    items
}

/// pprint's `_safe_repr`: `repr` with mapping keys sorted.
fn safe_repr(value: &Value) -> String {
    match value {
        Value::Map(map) => {
            let parts: Vec<String> = sorted_items(map)
                .into_iter()
                .map(|(k, v)| format!("{}: {}", safe_repr(k), safe_repr(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(safe_repr).collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.py_repr(),
    }
}

fn format(value: &Value, out: &mut String, indent: usize, allowance: usize, level: usize) {
    let rep = safe_repr(value);
    let max_width = WIDTH.saturating_sub(indent + allowance);
    if len_chars(&rep) > max_width {
        match value {
            Value::Map(map) if !map.is_empty() => {
                out.push('{');
                format_dict_items(&sorted_items(map), out, indent, allowance + 1, level + 1);
                out.push('}');
                return;
            }
            Value::List(items) if !items.is_empty() => {
                out.push('[');
                format_items(items, out, indent, allowance + 1, level + 1);
                out.push(']');
                return;
            }
            Value::Str(s) => {
                format_str(s, &rep, out, indent, allowance, level + 1);
                return;
            }
            _ => {}
        }
    }
    out.push_str(&rep);
}

fn format_dict_items(
    items: &[(&Value, &Value)],
    out: &mut String,
    indent: usize,
    allowance: usize,
    level: usize,
) {
    let indent = indent + 1;
    let last_index = items.len().saturating_sub(1);
    for (i, (key, value)) in items.iter().enumerate() {
        let last = i == last_index;
        let rep = safe_repr(key);
        out.push_str(&rep);
        out.push_str(": ");
        let allow = if last { allowance } else { 1 };
        format(value, out, indent + len_chars(&rep) + 2, allow, level);
        if !last {
            out.push_str(",\n");
            out.extend(std::iter::repeat_n(' ', indent));
        }
    }
}

fn format_items(items: &[Value], out: &mut String, indent: usize, allowance: usize, level: usize) {
    let indent = indent + 1;
    let last_index = items.len().saturating_sub(1);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(",\n");
            out.extend(std::iter::repeat_n(' ', indent));
        }
        let allow = if i == last_index { allowance } else { 1 };
        format(item, out, indent, allow, level);
    }
}

/// Python's `str.splitlines(True)`: the lines with their line ends.
fn lines_keeping_ends(s: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut pos = 0;
    for line in py_splitlines(s) {
        let start = pos;
        // `line` is a slice of `s`: find where it ends and where the next line starts.
        let line_start = line.as_ptr() as usize - s.as_ptr() as usize;
        let line_end = line_start + line.len();
        let rest = &s[line_end..];
        let brk = if rest.starts_with("\r\n") {
            2
        } else {
            rest.chars().next().map_or(0, char::len_utf8)
        };
        pos = line_end + brk;
        lines.push(&s[start..pos]);
    }
    lines
}

/// Python's `re.findall(r'\S*\s*', line)` without the final empty match.
fn word_parts(line: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (i, c) in line.char_indices() {
        let space = crate::pytext::is_py_space(c);
        if !space && in_space {
            parts.push(&line[start..i]);
            start = i;
        }
        in_space = space;
    }
    if start < line.len() {
        parts.push(&line[start..]);
    }
    parts
}

fn format_str(s: &str, rep: &str, out: &mut String, indent: usize, allowance: usize, level: usize) {
    let (indent, allowance) = if level == 1 {
        (indent + 1, allowance + 1)
    } else {
        (indent, allowance)
    };
    let lines = lines_keeping_ends(s);
    let max_width = WIDTH.saturating_sub(indent);
    let mut max_width1 = max_width;
    let mut chunks: Vec<String> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let line_rep = py_str_repr(line);
        let last_line = i + 1 == lines.len();
        if last_line {
            max_width1 = max_width1.saturating_sub(allowance);
        }
        if len_chars(&line_rep) <= max_width1 {
            chunks.push(line_rep);
            continue;
        }
        let parts = word_parts(line);
        let mut max_width2 = max_width;
        let mut current = String::new();
        for (j, part) in parts.iter().enumerate() {
            let candidate = format!("{current}{part}");
            if j + 1 == parts.len() && last_line {
                max_width2 = max_width2.saturating_sub(allowance);
            }
            if len_chars(&py_str_repr(&candidate)) > max_width2 {
                if !current.is_empty() {
                    chunks.push(py_str_repr(&current));
                }
                current = (*part).to_string();
            } else {
                current = candidate;
            }
        }
        if !current.is_empty() {
            chunks.push(py_str_repr(&current));
        }
    }
    if chunks.len() <= 1 {
        out.push_str(rep);
        return;
    }
    if level == 1 {
        out.push('(');
    }
    for (i, chunk) in chunks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', indent));
        }
        out.push_str(chunk);
    }
    if level == 1 {
        out.push(')');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use halite_core::map;

    #[test]
    fn short_values_are_sorted_reprs() {
        let v = Value::Map(map! {"b" => 1i64, "a" => Value::List(vec![Value::Null])});
        assert_eq!(pformat(&v), "{'a': [None], 'b': 1}");
    }

    #[test]
    fn long_mapping_breaks_per_item() {
        let long = "x".repeat(50);
        let v = Value::Map(map! {
            "comment" => long.as_str(),
            "name" => "n",
            "result" => true,
        });
        assert_eq!(
            pformat(&v),
            format!("{{'comment': '{long}',\n 'name': 'n',\n 'result': True}}")
        );
    }

    #[test]
    fn long_string_in_mapping_splits_at_spaces() {
        let text = "word ".repeat(30);
        let v = Value::Map(map! {"k" => text.as_str()});
        let w14 = "word ".repeat(14);
        assert_eq!(
            pformat(&v),
            format!("{{'k': '{w14}'\n      '{w14}'\n      'word word '}}")
        );
    }
}
