//! Serializers behind Salt's filters: Python's `json.dumps` (for `tojson` / `json`), and
//! the YAML emitter and loader (for `yaml`, `yaml_dquote`, `yaml_squote`, `yaml_encode`,
//! `load_yaml`, `import_yaml`).
//!
//! The YAML emitter is `halite_core::yaml_emit` (PyYAML's emitter).

use halite_core::value::py_float_repr;
use halite_core::yaml_emit::{self, DumpOptions};
use halite_core::Value;

/// Options of Python's `json.dumps` that Salt's filters use.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonOptions {
    /// `sort_keys=True`.
    pub sort_keys: bool,
    /// `indent=N` (pretty printing with `,` / `: ` separators).
    pub indent: Option<usize>,
    /// `ensure_ascii=True`: non-ASCII as `\uXXXX`.
    pub ensure_ascii: bool,
}

/// Python's `json.dumps(value, **opts)`.
pub fn json_dumps(v: &Value, opts: JsonOptions) -> String {
    let mut out = String::new();
    write_json(v, opts, 0, &mut out);
    out
}

fn json_key(k: &Value) -> String {
    match k {
        Value::Str(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Float(f) => py_float_repr(*f),
        other => other.py_str(),
    }
}

fn write_json_str(s: &str, ascii: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ascii && (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{:04x}", unit));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn newline_indent(opts: JsonOptions, level: usize, out: &mut String) {
    if let Some(n) = opts.indent {
        out.push('\n');
        out.push_str(&" ".repeat(n * level));
    }
}

fn write_json(v: &Value, opts: JsonOptions, level: usize, out: &mut String) {
    let item_sep = if opts.indent.is_some() { "," } else { ", " };
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&if f.is_nan() {
            "NaN".to_string()
        } else if f.is_infinite() {
            if *f > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
        } else {
            py_float_repr(*f)
        }),
        Value::Str(s) => write_json_str(s, opts.ensure_ascii, out),
        Value::Bytes(b) => write_json_str(&String::from_utf8_lossy(b), opts.ensure_ascii, out),
        Value::List(l) => {
            if l.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in l.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline_indent(opts, level + 1, out);
                write_json(item, opts, level + 1, out);
            }
            newline_indent(opts, level, out);
            out.push(']');
        }
        Value::Map(m) => {
            if m.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut entries: Vec<(String, &Value)> =
                m.iter().map(|(k, v)| (json_key(k), v)).collect();
            if opts.sort_keys {
                entries.sort_by(|a, b| a.0.cmp(&b.0));
            }
            out.push('{');
            for (i, (k, val)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline_indent(opts, level + 1, out);
                write_json_str(k, opts.ensure_ascii, out);
                out.push_str(": ");
                write_json(val, opts, level + 1, out);
            }
            newline_indent(opts, level, out);
            out.push('}');
        }
    }
}

/// Salt's `yaml` filter: `salt.utils.yaml.safe_dump(value, default_flow_style=flow_style)`
/// stripped, without a trailing document end marker.
pub fn yaml_filter(v: &Value, flow_style: bool) -> Result<String, String> {
    let opts = DumpOptions {
        default_flow_style: Some(flow_style),
        ..DumpOptions::salt()
    };
    let text = yaml_emit::dump(v, &opts);
    let text = text.trim();
    Ok(text.strip_suffix("\n...").unwrap_or(text).to_string())
}

/// Salt's `yaml_dquote` filter: a YAML double-quoted scalar.
pub fn yaml_dquote(s: &str) -> Result<String, String> {
    Ok(yaml_emit::yaml_dquote(s))
}

/// Salt's `yaml_squote` filter: a YAML single-quoted scalar.
pub fn yaml_squote(s: &str) -> Result<String, String> {
    Ok(yaml_emit::yaml_squote(s))
}

/// Salt's `yaml_encode` filter: a scalar as a one-line YAML scalar.
pub fn yaml_encode(v: &Value) -> Result<String, String> {
    yaml_emit::yaml_encode(v)
}

/// Salt's `load_yaml`: the YAML loader, errors as Salt words them.
pub fn load_yaml(text: &str) -> Result<Value, String> {
    crate::yaml::load(text).map_err(|e| format!("Encountered error loading yaml: {e}"))
}

/// Salt's `load_json`.
pub fn load_json(text: &str) -> Result<Value, String> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|j| halite_core::json::from_json(&j))
        .map_err(|_| format!("Unable to load json from {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use halite_core::map;

    #[test]
    fn json_like_python() {
        let v = Value::Map(
            map! {"b" => Value::List(vec![1i64.into(), Value::Float(2.0)]), "a" => "é<"},
        );
        let plain = JsonOptions {
            ensure_ascii: true,
            ..Default::default()
        };
        assert_eq!(json_dumps(&v, plain), r#"{"b": [1, 2.0], "a": "\u00e9<"}"#);
        let sorted = JsonOptions {
            sort_keys: true,
            indent: Some(2),
            ensure_ascii: false,
        };
        assert_eq!(
            json_dumps(&v, sorted),
            "{\n  \"a\": \"é<\",\n  \"b\": [\n    1,\n    2.0\n  ]\n}"
        );
    }

    #[test]
    fn load_json_errors_like_salt() {
        assert_eq!(load_json("{x").unwrap_err(), "Unable to load json from {x");
        assert_eq!(
            load_json("{\"a\": [1, null]}").ok(),
            Some(Value::Map(
                map! {"a" => Value::List(vec![1i64.into(), Value::Null])}
            ))
        );
    }
}
