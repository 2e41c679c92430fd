//! `file.serialize`: a data set written as YAML or JSON (Salt's serializers and their
//! settings), optionally merged into the file's current data.

use super::manage::{manage_file, would_change, Content, Manage};
use super::managed::base_ret;
use super::util::{normalize_mode, Perms};
use super::{arg, expand_user, fail, StateCall};
use halite_core::yaml_emit::{dump, DumpOptions};
use halite_core::{Map, Result, Value};
use std::path::Path;

const NONE_VALUE: &str = "<_null_>";

/// Salt's `dictupdate.merge_recurse`: `b` merged into a copy of `a`, dicts recursively.
pub fn merge_recurse(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Map(am), Value::Map(bm)) => {
            let mut out = am.clone();
            for (k, v) in bm {
                let merged = match out.get(k) {
                    Some(old @ Value::Map(_)) if matches!(v, Value::Map(_)) => {
                        merge_recurse(old, v)
                    }
                    _ => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Map(out)
        }
        _ => b.clone(),
    }
}

/// Salt's `RecursiveDictDiffer(past, current).diffs` (missing keys ignored).
pub fn recursive_diff(past: &Map, current: &Map) -> Map {
    let mut out = Map::default();
    for (k, v) in current {
        match past.get(k) {
            None => {
                out.insert(k.clone(), new_old(v.clone(), NONE_VALUE.into()));
            }
            Some(old) if old != v => {
                if let (Value::Map(o), Value::Map(n)) = (old, v) {
                    let sub = recursive_diff(o, n);
                    if !sub.is_empty() {
                        out.insert(k.clone(), Value::Map(sub));
                    }
                } else {
                    out.insert(k.clone(), new_old(v.clone(), old.clone()));
                }
            }
            Some(_) => {}
        }
    }
    out
}

fn new_old(new: Value, old: Value) -> Value {
    let mut m = Map::default();
    m.insert("new".into(), new);
    m.insert("old".into(), old);
    Value::Map(m)
}

/// Python's `json.dumps(obj, indent=2, separators=(",", ": "), sort_keys=True)`.
pub fn json_dumps(v: &Value, indent: usize, sort_keys: bool, ensure_ascii: bool) -> String {
    let mut out = String::new();
    json_write(v, indent, sort_keys, ensure_ascii, 0, &mut out);
    out
}

fn json_str(s: &str, ensure_ascii: bool, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ensure_ascii && (c as u32) > 0x7e) => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_key(k: &Value) -> String {
    match k {
        Value::Str(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Bool(b) => if *b { "true" } else { "false" }.into(),
        other => other.py_str(),
    }
}

fn json_write(v: &Value, indent: usize, sort: bool, ascii: bool, level: usize, out: &mut String) {
    let pad = |n: usize| format!("\n{}", " ".repeat(indent * n));
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) if f.is_nan() => out.push_str("NaN"),
        Value::Float(f) if f.is_infinite() => {
            out.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" })
        }
        Value::Float(f) => out.push_str(&halite_core::value::py_float_repr(*f)),
        Value::Str(s) => json_str(s, ascii, out),
        Value::Bytes(b) => json_str(&String::from_utf8_lossy(b), ascii, out),
        Value::List(l) if l.is_empty() => out.push_str("[]"),
        Value::List(l) => {
            out.push('[');
            for (i, item) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&pad(level + 1));
                json_write(item, indent, sort, ascii, level + 1, out);
            }
            out.push_str(&pad(level));
            out.push(']');
        }
        Value::Map(m) if m.is_empty() => out.push_str("{}"),
        Value::Map(m) => {
            let mut items: Vec<(String, &Value)> =
                m.iter().map(|(k, v)| (json_key(k), v)).collect();
            if sort {
                items.sort_by(|a, b| a.0.cmp(&b.0));
            }
            out.push('{');
            for (i, (k, item)) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&pad(level + 1));
                json_str(k, ascii, out);
                out.push_str(": ");
                json_write(item, indent, sort, ascii, level + 1, out);
            }
            out.push_str(&pad(level));
            out.push('}');
        }
    }
}

/// Salt's `yaml.serialize(obj, default_flow_style=False)`: PyYAML's dump without the final
/// newline (or `...` end marker).
pub fn yaml_serialize(v: &Value, allow_unicode: bool) -> String {
    let opts = DumpOptions {
        default_flow_style: Some(false),
        allow_unicode,
        ..DumpOptions::default()
    };
    let out = dump(v, &opts);
    if let Some(s) = out.strip_suffix("\n...\n") {
        return s.to_string();
    }
    out.strip_suffix('\n').map_or(out.clone(), str::to_string)
}

fn deserialize(kind: &str, text: &str) -> std::result::Result<Value, String> {
    match kind {
        "yaml" => halite_render::yaml::load(text).map_err(|e| e.message),
        _ => serde_json::from_str::<serde_json::Value>(text)
            .map(|j| halite_core::json::from_json(&j))
            .map_err(|e| e.to_string()),
    }
}

/// `file.serialize`.
pub fn serialize(c: &StateCall) -> Result<Map> {
    let name = expand_user(&c.name());
    let mut ret = base_ret(&name);
    if name.is_empty() {
        fail(&mut ret, "Must provide name to file.serialize".into());
        return Ok(ret);
    }
    let path = Path::new(&name);
    if !c.flag("create", true) && !path.is_file() {
        ret.insert(
            "comment".into(),
            format!("File {name} is not present and is not set for creation").into(),
        );
        return Ok(ret);
    }
    let (serializer, formatter) = (arg(c, "serializer"), arg(c, "formatter"));
    if serializer.is_some() && formatter.is_some() {
        fail(
            &mut ret,
            "Only one of serializer and formatter are allowed".into(),
        );
        return Ok(ret);
    }
    let kind = serializer
        .or(formatter)
        .map_or_else(|| "yaml".to_string(), |v| v.py_str().to_lowercase());
    let (dataset, pillar_key) = (
        arg(c, "dataset").filter(|v| v.is_truthy()),
        arg(c, "dataset_pillar").filter(|v| v.is_truthy()),
    );
    if dataset.is_some() && pillar_key.is_some() {
        fail(
            &mut ret,
            "Only one of 'dataset' and 'dataset_pillar' is permitted".into(),
        );
        return Ok(ret);
    }
    let mut dataset = match pillar_key {
        Some(key) => {
            let mut kw = Map::default();
            kw.insert("unmask".into(), Value::Bool(true));
            c.functions
                .call("pillar.get", std::slice::from_ref(key), &kw)?
        }
        None => arg(c, "dataset").cloned().unwrap_or(Value::Null),
    };
    if dataset.is_null() {
        fail(
            &mut ret,
            "Neither 'dataset' nor 'dataset_pillar' was defined".into(),
        );
        return Ok(ret);
    }
    if kind != "yaml" && kind != "json" {
        let mut r = Map::default();
        r.insert("changes".into(), Value::map());
        r.insert(
            "comment".into(),
            format!("The {kind} serializer could not be found. It either does not exist or its prerequisites are not installed.").into(),
        );
        r.insert("name".into(), name.into());
        r.insert("result".into(), Value::Bool(false));
        return Ok(r);
    }
    let mut existing = None;
    if c.flag("merge_if_exists", false) && path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|e| halite_core::Error::io(&name, &e))?;
        match deserialize(&kind, &text) {
            Ok(old) => {
                if !old.is_null() {
                    let merged = merge_recurse(&old, &dataset);
                    if merged == old {
                        ret.insert(
                            "comment".into(),
                            format!("The file {name} is in the correct state").into(),
                        );
                        return Ok(ret);
                    }
                    existing = Some(old);
                    dataset = merged;
                }
            }
            Err(e) => {
                fail(
                    &mut ret,
                    format!("Failed to deserialize existing data: {e}"),
                );
                return Ok(ret);
            }
        }
    }
    let encoding = arg(c, "encoding").is_some();
    let mut contents = if kind == "yaml" {
        yaml_serialize(&dataset, encoding)
    } else {
        let opts = arg(c, "serializer_opts");
        let indent = opts
            .and_then(|o| o.as_list())
            .and_then(|l| {
                l.iter()
                    .find_map(|m| m.get("indent").and_then(Value::as_int))
            })
            .map_or(2, |i| usize::try_from(i).unwrap_or(2));
        json_dumps(&dataset, indent, true, !encoding)
    };
    contents.push('\n');
    let job = Manage {
        name: &name,
        content: Content::Inline(contents),
        perms: Perms::from_args(
            arg(c, "user"),
            arg(c, "group"),
            normalize_mode(arg(c, "mode")),
        ),
        makedirs: c.flag("makedirs", false),
        dir_mode: None,
        show_changes: c.flag("show_changes", true),
        backup: arg(c, "backup").map(Value::py_str).unwrap_or_default(),
        new_file_diff: false,
    };
    if c.test {
        let changes = would_change(&job);
        if changes.is_empty() {
            ret.insert(
                "comment".into(),
                format!("The file {name} is in the correct state").into(),
            );
        } else {
            ret.insert("changes".into(), Value::Map(changes));
            ret.insert("result".into(), Value::Null);
            ret.insert(
                "comment".into(),
                format!("Dataset will be serialized and stored into {name}").into(),
            );
        }
    } else {
        manage_file(c, &job, &mut ret)?;
    }
    if let (Some(Value::Map(old)), Value::Map(new)) = (&existing, &dataset) {
        let mut changes = ret
            .get("changes")
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default();
        changes.insert("diff".into(), Value::Map(recursive_diff(old, new)));
        ret.insert("changes".into(), Value::Map(changes));
    }
    Ok(ret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, Value)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| (Value::from(*k), v.clone()))
            .collect()
    }

    #[test]
    fn json_like_python() {
        let v = Value::Map(m(&[
            ("b", Value::Int(2)),
            ("a", Value::List(vec!["x".into()])),
            ("é", Value::Map(Map::default())),
        ]));
        assert_eq!(
            json_dumps(&v, 2, true, true),
            "{\n  \"a\": [\n    \"x\"\n  ],\n  \"b\": 2,\n  \"\\u00e9\": {}\n}"
        );
    }

    #[test]
    fn yaml_block_style_sorted() {
        let v = Value::Map(m(&[
            ("port", Value::Int(1)),
            ("dns", Value::List(vec!["10.0.0.1".into()])),
        ]));
        assert_eq!(yaml_serialize(&v, false), "dns:\n- 10.0.0.1\nport: 1");
    }

    #[test]
    fn merge_and_diff() {
        let old = Value::Map(m(&[("p", Value::Map(m(&[("c", Value::Bool(true))])))]));
        let new = Value::Map(m(&[
            ("p", Value::Map(m(&[("e", Value::List(vec![]))]))),
            ("k", "v".into()),
        ]));
        let merged = merge_recurse(&old, &new);
        let d = recursive_diff(old.as_map().unwrap(), merged.as_map().unwrap());
        assert_eq!(d.get("k"), Some(&new_old("v".into(), NONE_VALUE.into())));
        assert_eq!(
            d.get("p").and_then(|p| p.get("e")),
            Some(&new_old(Value::List(vec![]), NONE_VALUE.into()))
        );
    }
}
