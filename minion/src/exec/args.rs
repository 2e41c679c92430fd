//! Salt's CLI argument parsing (`salt.utils.args.parse_input` + `yamlify_arg`).

use halite_core::{Map, Value};

/// Split `key=value` the way Salt's `KWARG_REGEX` does: a name (not starting with a digit,
/// then word characters, dots and dashes), `=`, not followed by another `=`.
fn parse_kwarg(s: &str) -> Option<(&str, &str)> {
    let (k, v) = s.split_once('=')?;
    if v.starts_with('=') || k.is_empty() {
        return None;
    }
    let mut chars = k.chars();
    let first = chars.next()?;
    if !(first.is_alphabetic() || first == '_') {
        return None;
    }
    if !chars.all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '-') {
        return None;
    }
    Some((k, v))
}

/// Salt's `yamlify_arg`: load a CLI string as YAML, keeping the string where Salt keeps it.
pub fn yamlify_arg(arg: &str) -> Value {
    let original = Value::Str(arg.to_string());
    let t = arg.trim();
    if t.is_empty() || t == "---" || t == "..." {
        return original;
    }
    if arg.contains('_') && t.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return original;
    }
    if arg.contains(['\t', '\r', '\n']) {
        return original;
    }
    let load = |s: &str| halite_render::yaml::load(s).ok();
    if arg.contains('#') {
        return match load(arg) {
            Some(Value::Str(_)) | Some(Value::Null) | None => original,
            Some(v) => v,
        };
    }
    let parsed = if arg == "None" {
        Some(Value::Null)
    } else {
        load(arg)
    };
    let Some(parsed) = parsed else {
        return original;
    };
    // An integer beyond i64 (a jid: 20 digits) is an exact int in Python; Halite's values
    // have no bigger integers, so the digits stay as given (a str) rather than become a
    // float. (Inside a list or a map such a number still loads as a float.)
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if matches!(parsed, Value::Float(_))
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
    {
        return original;
    }
    match parsed {
        Value::Map(_) if !arg.starts_with('{') => original,
        Value::List(_) if !arg.starts_with('[') => original,
        Value::Str(ref s) if s.is_empty() && (arg == "|" || arg == "!") => original,
        Value::Null if t.starts_with('#') || arg == "!" => original,
        Value::Null
        | Value::Bool(_)
        | Value::List(_)
        | Value::Float(_)
        | Value::Int(_)
        | Value::Str(_)
        | Value::Map(_) => parsed,
        _ => original,
    }
}

/// `args` and `kwargs` from the words after the function name.
pub fn parse_cli_args(words: &[String]) -> (Vec<Value>, Map) {
    let mut args = Vec::new();
    let mut kwargs = Map::default();
    for w in words {
        match parse_kwarg(w) {
            Some((k, v)) if !w.contains('\n') => {
                kwargs.insert(Value::Str(k.to_string()), yamlify_arg(v));
            }
            _ => args.push(yamlify_arg(w)),
        }
    }
    (args, kwargs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kwargs_are_split_like_salt() {
        assert_eq!(parse_kwarg("test=True"), Some(("test", "True")));
        assert_eq!(parse_kwarg("a==b"), None);
        assert_eq!(parse_kwarg("1a=b"), None);
        assert_eq!(parse_kwarg("pillar={'a': 1}"), Some(("pillar", "{'a': 1}")));
        assert_eq!(parse_kwarg("echo hi"), None);
    }

    #[test]
    fn integers_beyond_64_bits_keep_their_digits() {
        let jid = "20261124035438123456";
        assert_eq!(yamlify_arg(jid), Value::Str(jid.into()));
        assert_eq!(
            yamlify_arg("-20261124035438123456"),
            Value::Str("-20261124035438123456".into())
        );
        assert_eq!(yamlify_arg("42"), Value::Int(42));
        assert!(matches!(yamlify_arg("1.5"), Value::Float(_)));
        assert!(matches!(yamlify_arg("1.0e+30"), Value::Float(_)));
    }
}
