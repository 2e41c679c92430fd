//! `salt.utils.data.subdict_match` and `traverse_dict_and_list`: the grain and pillar
//! matchers' walk through nested data.

use crate::fnmatch::fnmatch;
use crate::pcre::re_match;
use halite_core::{Map, Value};

/// How a leaf value is compared with the pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchMode {
    /// `fnmatch` glob (grain, pillar).
    Glob,
    /// `re.match` (grain_pcre, pillar_pcre).
    Pcre,
    /// Equality (pillar_exact).
    Exact,
}

/// `salt.utils.data.traverse_dict_and_list(data, key, default, delimiter)`, returning `None`
/// where Salt returns the default.
pub fn traverse<'a>(data: &'a Value, key: &str, delimiter: &str) -> Option<&'a Value> {
    let mut ptr = data;
    for each in key.split(delimiter) {
        ptr = match ptr {
            Value::List(list) => match py_int(each) {
                Some(idx) => {
                    let embedded = list
                        .iter()
                        .filter_map(Value::as_map)
                        .find_map(|m| m.get(&Value::Int(idx)));
                    match embedded {
                        Some(v) => v,
                        None => {
                            let len = i64::try_from(list.len()).ok()?;
                            let real = if idx < 0 { len + idx } else { idx };
                            if real < 0 {
                                return None;
                            }
                            list.get(usize::try_from(real).ok()?)?
                        }
                    }
                }
                None => list
                    .iter()
                    .filter_map(Value::as_map)
                    .find_map(|m| m.get(each))?,
            },
            Value::Map(map) => match map.get(each) {
                Some(v) => v,
                None => {
                    let loaded = yamlify_key(each)?;
                    map.get(&loaded)?
                }
            },
            _ => return None,
        };
    }
    Some(ptr)
}

/// Python's `int(s)` for the usual spellings (surrounding blanks, sign, digits, `_` between
/// digits).
fn py_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let (sign, digits) = match t.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    clean.parse::<i64>().ok().map(|v| sign * v)
}

/// The non-string key `salt.utils.args.yamlify_arg` would load `s` as (int, float, bool,
/// null), or `None` when it stays a string.
fn yamlify_key(s: &str) -> Option<Value> {
    let t = s.trim();
    if t.is_empty() || t == "---" || t == "..." || s.contains(['\t', '\r', '\n']) {
        return None;
    }
    if s.contains('_') && t.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return None;
    }
    match t {
        "None" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" | "y" | "Y" => {
            return Some(Value::Bool(true))
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" | "n" | "N" => {
            return Some(Value::Bool(false))
        }
        _ => {}
    }
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    if !body.is_empty() && body.chars().all(|c| c.is_ascii_digit()) {
        return t.parse::<i64>().ok().map(Value::Int);
    }
    if body.chars().any(|c| c.is_ascii_digit())
        && body.chars().all(|c| c.is_ascii_digit() || c == '.')
        && body.matches('.').count() == 1
    {
        return t.parse::<f64>().ok().map(Value::Float);
    }
    None
}

/// Salt's `_match`: both sides as `str(x).lower()`, then glob, regex or equality.
fn leaf_match(target: &Value, pattern: &str, mode: MatchMode) -> bool {
    let target = target.py_str().to_lowercase();
    let pattern = pattern.to_lowercase();
    match mode {
        MatchMode::Glob => fnmatch(&target, &pattern),
        MatchMode::Exact => target == pattern,
        // An invalid regex logs an error in Salt and does not match.
        MatchMode::Pcre => re_match(&pattern, &target).unwrap_or(false),
    }
}

/// Salt's `_dict_match`: the pattern may name a key (exactly or by pattern), or go deeper.
fn dict_match(target: &Map, pattern: &str, mode: MatchMode) -> bool {
    let wildcard = pattern.starts_with("*:");
    let pattern = if wildcard { &pattern[2..] } else { pattern };
    if pattern == "*" || target.contains_key(pattern) {
        return true;
    }
    if target.keys().any(|k| leaf_match(k, pattern, mode)) {
        return true;
    }
    // Salt recurses with the default delimiter here, whatever the caller's was.
    if subdict_match_map(target, pattern, ":", mode) {
        return true;
    }
    if wildcard {
        for value in target.values() {
            let hit = match value {
                Value::Map(m) => dict_match(m, pattern, mode),
                Value::List(items) => items.iter().any(|i| leaf_match(i, pattern, mode)),
                other => leaf_match(other, pattern, mode),
            };
            if hit {
                return true;
            }
        }
    }
    false
}

/// `salt.utils.data.subdict_match(data, expr, delimiter, regex_match, exact_match)`.
///
/// `expr` is `key<delim>sub<delim>...<delim>pattern`; the deepest key split is tried first, so
/// `a:b:c` matches `{a: {b: c}}` before `{a: "b:c"}`. `data` is the grains or pillar mapping;
/// anything else never matches.
pub fn subdict_match(data: &Value, expr: &str, delimiter: &str, mode: MatchMode) -> bool {
    match data {
        Value::Map(m) => subdict_match_map(m, expr, delimiter, mode),
        _ => false,
    }
}

/// The first traversal step done on a mapping, then [`traverse`] for the rest.
fn traverse_map<'a>(map: &'a Map, key: &str, delimiter: &str) -> Option<&'a Value> {
    let (first, rest) = match key.split_once(delimiter) {
        Some((f, r)) => (f, Some(r)),
        None => (key, None),
    };
    let value = match map.get(first) {
        Some(v) => v,
        None => map.get(&yamlify_key(first)?)?,
    };
    match rest {
        Some(rest) => traverse(value, rest, delimiter),
        None => Some(value),
    }
}

fn subdict_match_map(data: &Map, expr: &str, delimiter: &str, mode: MatchMode) -> bool {
    if delimiter.is_empty() {
        return false;
    }
    let splits: Vec<&str> = expr.split(delimiter).collect();
    if splits.len() == 1 {
        return false;
    }
    for idx in (1..splits.len()).rev() {
        let key = splits[..idx].join(delimiter);
        if key == "*" {
            // The whole data is the target, with the whole expression as the pattern.
            if !data.is_empty() && dict_match(data, expr, mode) {
                return true;
            }
            continue;
        }
        let matchstr = splits[idx..].join(delimiter);
        let Some(found) = traverse_map(data, &key, delimiter) else {
            continue;
        };
        match found {
            Value::Map(m) if m.is_empty() => continue,
            Value::Map(m) => {
                if dict_match(m, &matchstr, mode) {
                    return true;
                }
            }
            Value::List(items) => {
                for member in items {
                    if let Value::Map(m) = member {
                        if dict_match(m, &matchstr, mode) {
                            return true;
                        }
                    }
                    if leaf_match(member, &matchstr, mode) {
                        return true;
                    }
                }
            }
            other => {
                if leaf_match(other, &matchstr, mode) {
                    return true;
                }
            }
        }
    }
    false
}
