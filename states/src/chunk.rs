//! Low chunks: one state function call each, as Salt's compiler produces them.
//!
//! A chunk is kept as an ordered [`Map`] (not a struct) because Salt's key order shows in
//! `state.show_lowstate` and because state arguments are open-ended.

use halite_core::{Map, Value};

/// One low chunk: `state`, `name`, `__sls__`, `__env__`, `__id__`, arguments..., `order`, `fun`.
pub type Chunk = Map;

/// A string field of a chunk (`""` when absent or not a string).
pub fn field<'a>(chunk: &'a Chunk, key: &str) -> &'a str {
    chunk.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A field as Python's `str()` would print it (for tags built from non-string names).
pub fn field_str(chunk: &Chunk, key: &str) -> String {
    match chunk.get(key) {
        Some(Value::Str(s)) => s.clone(),
        Some(v) => v.py_str(),
        None => String::new(),
    }
}

/// Salt's running-dict tag: `<state>_|-<id>_|-<name>_|-<fun>`.
pub fn gen_tag(chunk: &Chunk) -> String {
    format!(
        "{}_|-{}_|-{}_|-{}",
        field_str(chunk, "state"),
        field_str(chunk, "__id__"),
        field_str(chunk, "name"),
        field_str(chunk, "fun")
    )
}

/// Insert or overwrite `key` (keeping its position when present, like a Python dict).
pub fn set(map: &mut Map, key: &str, value: impl Into<Value>) {
    map.insert(Value::Str(key.to_string()), value.into());
}

/// The single key of a one-entry mapping, as Salt's `next(iter(d))`.
pub fn first_key(m: &Map) -> Option<&str> {
    m.keys().next().and_then(Value::as_str)
}
