//! The pure side of `k8s_node.taints`: taints from the state's arguments, the Node's new taint
//! list (owned taints replaced, foreign ones kept in place), the guarded JSON merge patch, and
//! the `"key=value:Effect"` notation kubectl uses. No I/O here.

use halite_core::{Map, Value};
use k8s_openapi::api::core::v1::Taint;

/// The taint effects the API accepts.
pub const EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// One taint as a state asks for it (no `timeAdded`: the API server sets it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaintSpec {
    /// The taint key.
    pub key: String,
    /// The value; `None` for none (an empty value is the same as none).
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}

impl TaintSpec {
    /// Does the Node's `taint` say exactly this (key, value and effect)?
    fn same_as(&self, taint: &Taint) -> bool {
        self.same_slot(taint) && self.value.as_deref() == non_empty(taint.value.as_deref())
    }

    /// Is `taint` the one this replaces? (Kubernetes keys taints by key and effect.)
    fn same_slot(&self, taint: &Taint) -> bool {
        self.key == taint.key && self.effect == taint.effect
    }

    /// The taint as the API takes it.
    fn to_taint(&self) -> Taint {
        Taint {
            key: self.key.clone(),
            value: self.value.clone(),
            effect: self.effect.clone(),
            time_added: None,
        }
    }
}

/// `Some(v)` unless `v` is empty.
fn non_empty(v: Option<&str>) -> Option<&str> {
    v.filter(|v| !v.is_empty())
}

/// `"key=value:Effect"`, or `"key:Effect"` without a value (kubectl's notation).
pub fn taint_str(taint: &Taint) -> String {
    match non_empty(taint.value.as_deref()) {
        Some(v) => format!("{}={}:{}", taint.key, v, taint.effect),
        None => format!("{}:{}", taint.key, taint.effect),
    }
}

/// The taints of the `taints` argument, each a mapping `{key, value?, effect}` or a string
/// `"key=value:Effect"` / `"key:Effect"`. Every key must start with `owned_prefix` (Halite
/// would otherwise add a taint it never removes), effects must be valid, and a (key, effect)
/// pair may appear once.
pub fn parse_taints(taints: Option<&Value>, owned_prefix: &str) -> Result<Vec<TaintSpec>, String> {
    let list = match taints {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::List(l)) => l,
        Some(other) => {
            return Err(format!(
                "'taints' must be a list of taints, got {}",
                other.py_str()
            ))
        }
    };
    let mut specs: Vec<TaintSpec> = Vec::with_capacity(list.len());
    for item in list {
        let spec = parse_taint(item)?;
        if owned_prefix.is_empty() || !spec.key.starts_with(owned_prefix) {
            return Err(format!(
                "taint {} is outside owned_prefix '{owned_prefix}': Halite would never remove it",
                spec_str(&spec)
            ));
        }
        if specs
            .iter()
            .any(|s| s.key == spec.key && s.effect == spec.effect)
        {
            return Err(format!("taint {}:{} is given twice", spec.key, spec.effect));
        }
        specs.push(spec);
    }
    Ok(specs)
}

/// A taint spec in kubectl's notation.
fn spec_str(spec: &TaintSpec) -> String {
    taint_str(&spec.to_taint())
}

/// One taint: a mapping or a string.
pub fn parse_taint(item: &Value) -> Result<TaintSpec, String> {
    let spec = match item {
        Value::Str(s) => parse_taint_str(s)?,
        Value::Map(m) => parse_taint_map(m)?,
        other => {
            return Err(format!(
                "a taint must be a mapping {{key, value, effect}} or a string 'key=value:Effect', got {}",
                other.py_str()
            ))
        }
    };
    if spec.key.is_empty() {
        return Err(format!("taint {} has an empty key", item.py_str()));
    }
    if !EFFECTS.contains(&spec.effect.as_str()) {
        return Err(format!(
            "taint {} has an invalid effect '{}' (expected one of {})",
            item.py_str(),
            spec.effect,
            EFFECTS.join(", ")
        ));
    }
    Ok(spec)
}

/// `"key=value:Effect"` or `"key:Effect"`.
fn parse_taint_str(s: &str) -> Result<TaintSpec, String> {
    let (key_value, effect) = s.rsplit_once(':').ok_or_else(|| {
        format!("taint {s} has no effect (expected 'key=value:Effect' or 'key:Effect')")
    })?;
    let (key, value) = match key_value.split_once('=') {
        Some((k, v)) => (k, non_empty(Some(v))),
        None => (key_value, None),
    };
    Ok(TaintSpec {
        key: key.to_string(),
        value: value.map(str::to_string),
        effect: effect.to_string(),
    })
}

/// `{key, value?, effect}`.
fn parse_taint_map(m: &Map) -> Result<TaintSpec, String> {
    let text = |field: &str| -> Result<Option<String>, String> {
        match m.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.clone())),
            Some(Value::Int(i)) if field == "value" => Ok(Some(i.to_string())),
            Some(other) => Err(format!(
                "taint {}: '{field}' must be a string, got {}",
                Value::Map(m.clone()).py_str(),
                other.py_str()
            )),
        }
    };
    if let Some(extra) = m
        .keys()
        .find(|k| !matches!(k.as_str(), Some("key" | "value" | "effect")))
    {
        return Err(format!(
            "taint {}: unknown field {} (expected key, value, effect)",
            Value::Map(m.clone()).py_str(),
            extra.py_str()
        ));
    }
    Ok(TaintSpec {
        key: text("key")?.unwrap_or_default(),
        value: text("value")?.filter(|v| !v.is_empty()),
        effect: text("effect")?.unwrap_or_default(),
    })
}

/// The Node's new taint list: a taint whose key starts with `owned_prefix` is replaced by the
/// wanted one in its (key, effect) slot, or dropped when not wanted; foreign taints stay in
/// place and order; wanted taints the Node lacks go last, in the order given. A taint already
/// as wanted is kept as it is (with its `timeAdded`), so a converged Node gives back its own
/// list.
pub fn converge(current: &[Taint], wanted: &[TaintSpec], owned_prefix: &str) -> Vec<Taint> {
    let owned = |t: &Taint| !owned_prefix.is_empty() && t.key.starts_with(owned_prefix);
    let mut placed = vec![false; wanted.len()];
    let mut new = Vec::with_capacity(current.len() + wanted.len());
    for taint in current {
        if !owned(taint) {
            new.push(taint.clone());
            continue;
        }
        let slot = wanted.iter().position(|w| w.same_slot(taint));
        match slot {
            Some(i) if !placed[i] => {
                placed[i] = true;
                if wanted[i].same_as(taint) {
                    new.push(taint.clone());
                } else {
                    new.push(wanted[i].to_taint());
                }
            }
            _ => {}
        }
    }
    for (spec, done) in wanted.iter().zip(&placed) {
        if !*done {
            new.push(spec.to_taint());
        }
    }
    new
}

/// The JSON merge patch that sets `spec.taints` to `taints` (`null` for none), guarded by
/// `metadata.resourceVersion`: the API server answers 409 Conflict when the Node changed
/// since it was read.
pub fn merge_patch(
    resource_version: &str,
    taints: &[Taint],
) -> Result<serde_json::Value, serde_json::Error> {
    let list = if taints.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::to_value(taints)?
    };
    Ok(serde_json::json!({
        "metadata": { "resourceVersion": resource_version },
        "spec": { "taints": list }
    }))
}

/// The state's `changes`: `{"taints": {"old": [...], "new": [...]}}` in kubectl's notation.
pub fn changes(old: &[Taint], new: &[Taint]) -> Map {
    let strings = |ts: &[Taint]| Value::List(ts.iter().map(|t| taint_str(t).into()).collect());
    let mut diff = Map::default();
    diff.insert("old".into(), strings(old));
    diff.insert("new".into(), strings(new));
    let mut changes = Map::default();
    changes.insert("taints".into(), Value::Map(diff));
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    const P: &str = "node-role.kubernetes.io/";

    fn taint(key: &str, value: Option<&str>, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            value: value.map(Into::into),
            effect: effect.into(),
            time_added: None,
        }
    }

    fn specs(items: &[&str]) -> Vec<TaintSpec> {
        let list = Value::List(items.iter().map(|s| Value::from(*s)).collect());
        parse_taints(Some(&list), P).unwrap()
    }

    fn strs(ts: &[Taint]) -> Vec<String> {
        ts.iter().map(taint_str).collect()
    }

    #[test]
    fn strings_and_mappings_parse_alike() {
        let from_str = parse_taint(&"node-role.kubernetes.io/infra=true:NoSchedule".into());
        let mut m = Map::default();
        m.insert("key".into(), "node-role.kubernetes.io/infra".into());
        m.insert("value".into(), "true".into());
        m.insert("effect".into(), "NoSchedule".into());
        assert_eq!(from_str, parse_taint(&Value::Map(m)));
        let bare = parse_taint(&"node-role.kubernetes.io/master:NoSchedule".into()).unwrap();
        assert_eq!(bare.value, None);
        let empty = parse_taint(&"node-role.kubernetes.io/master=:NoSchedule".into()).unwrap();
        assert_eq!(empty, bare);
        assert_eq!(spec_str(&bare), "node-role.kubernetes.io/master:NoSchedule");
    }

    #[test]
    fn bad_taints_are_named() {
        let err = parse_taint(&"node-role.kubernetes.io/x=1:Sometimes".into()).unwrap_err();
        assert!(
            err.contains("node-role.kubernetes.io/x=1:Sometimes") && err.contains("'Sometimes'"),
            "{err}"
        );
        let err = parse_taint(&"nokey".into()).unwrap_err();
        assert!(err.contains("has no effect"), "{err}");
        let list = Value::List(vec!["dedicated=db:NoSchedule".into()]);
        let err = parse_taints(Some(&list), P).unwrap_err();
        assert!(err.contains("outside owned_prefix"), "{err}");
        let list = Value::List(vec![
            "node-role.kubernetes.io/a=1:NoSchedule".into(),
            "node-role.kubernetes.io/a=2:NoSchedule".into(),
        ]);
        let err = parse_taints(Some(&list), P).unwrap_err();
        assert!(err.contains("given twice"), "{err}");
    }

    #[test]
    fn owned_taints_are_replaced_and_foreign_ones_kept_in_place() {
        let current = vec![
            taint("node-role.kubernetes.io/etcd", None, "NoSchedule"),
            taint("dedicated", Some("db"), "NoSchedule"),
            taint("node-role.kubernetes.io/master", Some("old"), "NoSchedule"),
        ];
        let wanted = specs(&[
            "node-role.kubernetes.io/master:NoSchedule",
            "node-role.kubernetes.io/infra:NoExecute",
        ]);
        assert_eq!(
            strs(&converge(&current, &wanted, P)),
            [
                "dedicated=db:NoSchedule",
                "node-role.kubernetes.io/master:NoSchedule",
                "node-role.kubernetes.io/infra:NoExecute"
            ]
        );
    }

    #[test]
    fn a_converged_list_comes_back_unchanged() {
        let mut kept = taint("node-role.kubernetes.io/master", None, "NoSchedule");
        kept.time_added = Some(Time("2025-03-01T10:00:00Z".parse().unwrap()));
        let current = vec![
            taint("node.kubernetes.io/unreachable", None, "NoExecute"),
            kept,
        ];
        let wanted = specs(&["node-role.kubernetes.io/master:NoSchedule"]);
        assert_eq!(converge(&current, &wanted, P), current);
        assert!(converge(&[], &[], P).is_empty());
    }

    #[test]
    fn the_patch_is_guarded_by_the_resource_version() {
        let new = vec![
            taint("dedicated", Some("db"), "NoSchedule"),
            taint("node-role.kubernetes.io/master", None, "NoSchedule"),
        ];
        assert_eq!(
            merge_patch("4711", &new).unwrap(),
            serde_json::json!({
                "metadata": {"resourceVersion": "4711"},
                "spec": {"taints": [
                    {"key": "dedicated", "value": "db", "effect": "NoSchedule"},
                    {"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}
                ]}
            })
        );
        assert_eq!(
            merge_patch("1", &[]).unwrap(),
            serde_json::json!({"metadata": {"resourceVersion": "1"}, "spec": {"taints": null}})
        );
    }

    #[test]
    fn changes_list_old_and_new_in_kubectl_notation() {
        let old = vec![taint("a", Some("1"), "NoSchedule")];
        let new = vec![
            taint("a", Some("1"), "NoSchedule"),
            taint("b", None, "NoExecute"),
        ];
        let c = changes(&old, &new);
        let t = c.get("taints").and_then(Value::as_map).unwrap();
        assert_eq!(
            t.get("new").unwrap(),
            &Value::List(vec!["a=1:NoSchedule".into(), "b:NoExecute".into()])
        );
        assert_eq!(
            t.get("old").unwrap(),
            &Value::List(vec!["a=1:NoSchedule".into()])
        );
    }
}
