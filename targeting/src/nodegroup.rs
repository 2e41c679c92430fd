//! Nodegroup expansion (`salt.utils.minions.nodegroup_comp`), used by `N@` in compound
//! targets and by the `nodegroup` matcher.

use halite_core::{Map, Value};
use std::collections::HashSet;

/// The compound operators.
pub(crate) const OPERATORS: [&str; 5] = ["and", "or", "not", "(", ")"];

/// Expand `nodegroup` from `nodegroups` into compound words.
///
/// An empty result stands for Salt's `""` (unknown nodegroup, illegal nesting, or a
/// definition that is neither a string nor a list). A nodegroup that nests no other keeps its
/// words as written (no parentheses), and a plain list of names becomes `L@a,b` (or `E@a,b`
/// when a name holds a regex character), exactly as Salt does.
pub fn nodegroup_comp(nodegroup: &str, nodegroups: &Map) -> Vec<String> {
    let mut skip = HashSet::new();
    expand(nodegroup, nodegroups, &mut skip, true)
}

fn expand(
    nodegroup: &str,
    nodegroups: &Map,
    skip: &mut HashSet<String>,
    first_call: bool,
) -> Vec<String> {
    if !first_call && skip.contains(nodegroup) {
        tracing_error(&format!(
            "Failed nodegroup expansion: illegal nested nodegroup \"{nodegroup}\""
        ));
        return Vec::new();
    }
    let Some(definition) = nodegroups.get(nodegroup) else {
        tracing_error(&format!(
            "Failed nodegroup expansion: unknown nodegroup \"{nodegroup}\""
        ));
        return Vec::new();
    };
    let words: Vec<String> = match definition {
        Value::Str(s) => s.split_whitespace().map(str::to_string).collect(),
        Value::List(items) => items.iter().map(Value::py_str).collect(),
        _ => return Vec::new(),
    };
    skip.insert(nodegroup.to_string());
    let mut ret = Vec::new();
    let mut expanded = false;
    for word in &words {
        if OPERATORS.contains(&word.as_str()) {
            ret.push(word.clone());
        } else if word.chars().count() >= 3 && word.starts_with("N@") {
            expanded = true;
            ret.extend(expand(&word[2..], nodegroups, skip, false));
        } else {
            ret.push(word.clone());
        }
    }
    if !ret.is_empty() {
        ret.insert(0, "(".to_string());
        ret.push(")".to_string());
    }
    skip.remove(nodegroup);
    if expanded || !first_call {
        if !first_call {
            if let Some(joined) = as_list_or_regex(&words) {
                return vec![joined];
            }
        }
        return ret;
    }
    as_list_or_regex(&words).map_or(words, |joined| vec![joined])
}

/// Salt's `_nodegroup_regex`: a definition without operators, wildcards or engine prefixes is
/// a list of names (`L@`), or a regex (`E@`) when a name holds a regex character.
fn as_list_or_regex(words: &[String]) -> Option<String> {
    if words.iter().any(|w| OPERATORS.contains(&w.as_str())) {
        return None;
    }
    let has_engine = |w: &str| {
        let b = w.as_bytes();
        b.len() >= 2 && b[0].is_ascii_uppercase() && b[1] == b'@'
    };
    if words.iter().any(|w| w.contains('*') || has_engine(w)) {
        return None;
    }
    const REGEX_CHARS: [char; 8] = ['(', '[', '{', '\\', '?', '}', ']', ')'];
    let prefix = if words.iter().any(|w| w.contains(REGEX_CHARS)) {
        "E@"
    } else {
        "L@"
    };
    Some(format!("{prefix}{}", words.join(",")))
}

/// Salt logs these at error level.
fn tracing_error(message: &str) {
    tracing::error!("{message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(pairs: &[(&str, Value)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| (Value::from(*k), v.clone()))
            .collect()
    }

    #[test]
    fn expansion_shapes() {
        let ng = groups(&[
            ("workers", "G@roles:worker".into()),
            ("named", "L@node1,node9".into()),
            ("nested", "N@workers and N@named".into()),
            ("plain", "web1 web2".into()),
            ("rx", Value::List(vec!["web[12]".into(), "db1".into()])),
            ("loop", "N@loop or web1".into()),
            ("nestplain", "N@plain".into()),
        ]);
        assert_eq!(nodegroup_comp("workers", &ng), vec!["G@roles:worker"]);
        assert_eq!(
            nodegroup_comp("nested", &ng),
            vec![
                "(",
                "(",
                "G@roles:worker",
                ")",
                "and",
                "(",
                "L@node1,node9",
                ")",
                ")"
            ]
        );
        assert_eq!(nodegroup_comp("plain", &ng), vec!["L@web1,web2"]);
        assert_eq!(nodegroup_comp("rx", &ng), vec!["E@web[12],db1"]);
        assert_eq!(nodegroup_comp("loop", &ng), vec!["(", "or", "web1", ")"]);
        assert_eq!(
            nodegroup_comp("nestplain", &ng),
            vec!["(", "L@web1,web2", ")"]
        );
        assert!(nodegroup_comp("missing", &ng).is_empty());
    }
}
