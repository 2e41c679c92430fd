//! Conversion between [`Value`] and `serde_json::Value` (order kept).

use crate::{Map, Value};

/// A `serde_json` value as a Salt value.
pub fn from_json(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else {
                Value::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(s) => Value::Str(s.clone()),
        serde_json::Value::Array(a) => Value::List(a.iter().map(from_json).collect()),
        serde_json::Value::Object(o) => {
            let mut m = Map::with_capacity_and_hasher(o.len(), Default::default());
            for (k, v) in o {
                m.insert(Value::Str(k.clone()), from_json(v));
            }
            Value::Map(m)
        }
    }
}

/// A Salt value as a `serde_json` value. Non-string keys become their Python `str()`,
/// as `json.dumps` does for ints, floats, bools and `None` (`null`).
pub fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::Str(s) => serde_json::Value::String(s.clone()),
        Value::Bytes(b) => serde_json::Value::String(String::from_utf8_lossy(b).into_owned()),
        Value::List(l) => serde_json::Value::Array(l.iter().map(to_json).collect()),
        Value::Map(m) => {
            let mut o = serde_json::Map::with_capacity(m.len());
            for (k, val) in m {
                o.insert(json_key(k), to_json(val));
            }
            serde_json::Value::Object(o)
        }
    }
}

/// How `json.dumps` writes a mapping key.
pub fn json_key(k: &Value) -> String {
    match k {
        Value::Str(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Bool(true) => "true".into(),
        Value::Bool(false) => "false".into(),
        other => other.py_str(),
    }
}
