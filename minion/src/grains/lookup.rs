//! `grains.get` and `grains.filter_by`, with Salt's recursive dictionary merge.

use halite_core::{Error, Map, Value};
use halite_target::{fnmatch, traverse};

/// Salt's `grains.get(key, default, delimiter)`: walk `a:b:0` through maps and lists, the
/// default when any step is missing.
pub fn get(grains: &Value, key: &str, default: Value, delimiter: &str) -> Value {
    traverse(grains, key, delimiter).cloned().unwrap_or(default)
}

/// `salt.utils.dictupdate.update(dest, upd)` (recursive, lists replaced): mappings merge key
/// by key, keeping `dest`'s order and appending new keys.
pub fn dict_update(dest: &mut Map, upd: &Map) {
    for (k, v) in upd {
        match (dest.get_mut(k), v) {
            (Some(Value::Map(d)), Value::Map(u)) => dict_update(d, u),
            _ => {
                dest.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Salt's `grains.filter_by(lookup_dict, grain, merge, default, base)` over `grains`.
///
/// The grain's value (or each item of a list value) is matched, as a string, against the
/// keys of `lookup_dict` taken as case-sensitive globs in order; the first non-`None` value
/// wins, else `lookup_dict[default]`. A `base` entry is merged under the result and `merge`
/// over it.
pub fn filter_by(
    lookup_dict: &Value,
    grain: &str,
    merge: Option<&Value>,
    default: &str,
    base: Option<&str>,
    grains: &Value,
) -> Result<Value, Error> {
    let lookup = lookup_dict.as_map().ok_or_else(|| {
        Error::InvalidArgument(format!(
            "filter_by lookup_dict must be a dictionary, not {}",
            lookup_dict.type_name()
        ))
    })?;
    let empty = Value::List(vec![]);
    let val = traverse(grains, grain, ":").unwrap_or(&empty);
    let candidates: Vec<&Value> = match val {
        Value::List(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut ret: Option<Value> = None;
    for each in candidates {
        let each_s = each.py_str();
        if let Some((_, v)) = lookup.iter().find(|(k, _)| fnmatch(&each_s, &k.py_str())) {
            if !v.is_null() {
                ret = Some(v.clone());
                break;
            }
        }
    }
    if ret.is_none() {
        ret = lookup.get(default).cloned().filter(|v| !v.is_null());
    }
    if let Some(base_key) = base.filter(|b| !b.is_empty()) {
        if let Some(base_values) = lookup.get(base_key) {
            match (&ret, base_values) {
                (None, b) => ret = Some(b.clone()),
                (Some(Value::Map(r)), Value::Map(b)) => {
                    let mut merged = b.clone();
                    dict_update(&mut merged, r);
                    ret = Some(Value::Map(merged));
                }
                (Some(_), Value::Map(_)) => {
                    return Err(Error::CommandExecution(
                        "filter_by default and look-up values must both be dictionaries.".into(),
                    ))
                }
                _ => {}
            }
        }
    }
    if let Some(m) = merge.filter(|m| m.is_truthy()) {
        let Value::Map(mm) = m else {
            return Err(Error::CommandExecution(
                "filter_by merge argument must be a dictionary.".into(),
            ));
        };
        match &mut ret {
            None => ret = Some(m.clone()),
            Some(Value::Map(r)) => dict_update(r, mm),
            Some(other) => {
                return Err(Error::CommandExecution(format!(
                    "Cannot update using non-dict types in dictupdate.update() ({})",
                    other.type_name()
                )))
            }
        }
    }
    Ok(ret.unwrap_or(Value::Null))
}
