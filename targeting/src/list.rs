//! The `L@` / `list` matcher.

use halite_core::Value;

/// `salt.matchers.list_match.match(tgt)`: a comma-separated string (matched as Salt does, by
/// substring tests around commas) or a list of ids.
pub fn list_match(tgt: &Value, minion_id: &str) -> bool {
    match tgt {
        Value::Str(t) => {
            t.contains(&format!(",{minion_id},"))
                || t.starts_with(&format!("{minion_id},"))
                || t.ends_with(&format!(",{minion_id}"))
                || t == minion_id
        }
        Value::List(items) => items.iter().any(|i| i.as_str() == Some(minion_id)),
        Value::Map(m) => m.contains_key(minion_id),
        _ => false,
    }
}
