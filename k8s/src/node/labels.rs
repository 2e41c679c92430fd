//! The pure side of `k8s_node.labels`: the wanted labels from the state's arguments, the
//! difference with a Node's labels, the JSON merge patch that applies it, and the `changes`
//! entry that reports it. No I/O here.

use halite_core::{Map, Value};
use std::collections::BTreeMap;

/// The prefix of the Kubernetes node-role labels (`node-role.kubernetes.io/<role>: ""`).
pub const ROLE_PREFIX: &str = "node-role.kubernetes.io/";

/// The labels a state asks for: each key set to a value (`Some`) or removed (`None`), in the
/// order given (roles first, then `labels`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Wanted {
    entries: Vec<(String, Option<String>)>,
    /// Were roles given? Only then are unwanted labels under the owned prefix removed.
    roles_given: bool,
}

impl Wanted {
    /// The wanted labels from the `roles` and `labels` arguments of the state.
    ///
    /// `roles` absent (or `None`) leaves the role labels alone; a list (even empty) is the whole
    /// set of roles. A `labels` value of `None` asks for the key's removal.
    pub fn from_args(roles: Option<&Value>, labels: Option<&Value>) -> Result<Wanted, String> {
        let mut wanted = Wanted {
            roles_given: !matches!(roles, None | Some(Value::Null)),
            ..Wanted::default()
        };
        for role in role_names(roles)? {
            wanted.set(format!("{ROLE_PREFIX}{role}"), Some(String::new()))?;
        }
        if let Some(map) = label_map(labels)? {
            for (key, value) in map {
                let key = match key {
                    Value::Str(k) if !k.is_empty() => k.clone(),
                    other => {
                        return Err(format!(
                            "'labels' keys must be non-empty strings, got {}",
                            other.py_str()
                        ))
                    }
                };
                let value = label_value(&key, value)?;
                wanted.set(key, value)?;
            }
        }
        Ok(wanted)
    }

    /// Ask for `key` to be `value`; a key asked twice with different values is an error.
    fn set(&mut self, key: String, value: Option<String>) -> Result<(), String> {
        match self.entries.iter().find(|(k, _)| *k == key) {
            Some((_, old)) if *old == value => Ok(()),
            Some((_, old)) => Err(format!(
                "label {key} is asked twice: {} and {}",
                describe(old.as_deref()),
                describe(value.as_deref())
            )),
            None => {
                self.entries.push((key, value));
                Ok(())
            }
        }
    }

    /// Is `key` asked for (set or removed)?
    fn mentions(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k == key)
    }
}

/// How a wanted value reads in an error message.
fn describe(value: Option<&str>) -> String {
    value.map_or_else(|| "removed".to_string(), |v| format!("{v:?}"))
}

/// The role names of the `roles` argument.
fn role_names(roles: Option<&Value>) -> Result<Vec<String>, String> {
    let list = match roles {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::List(l)) => l,
        Some(other) => {
            return Err(format!(
                "'roles' must be a list of role names, got {}",
                other.py_str()
            ))
        }
    };
    list.iter()
        .map(|r| match r {
            Value::Str(s) if !s.is_empty() && !s.contains('/') => Ok(s.clone()),
            other => Err(format!(
                "'roles' entries must be role names (non-empty, no '/'), got {}",
                other.py_str()
            )),
        })
        .collect()
}

/// The `labels` argument as a mapping, if given.
fn label_map(labels: Option<&Value>) -> Result<Option<&Map>, String> {
    match labels {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Map(m)) => Ok(Some(m)),
        Some(other) => Err(format!(
            "'labels' must be a mapping of label keys to values, got {}",
            other.py_str()
        )),
    }
}

/// One label value: a string (or an integer, written out), `None` for removal.
fn label_value(key: &str, value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Str(s) => Ok(Some(s.clone())),
        Value::Int(i) => Ok(Some(i.to_string())),
        other => Err(format!(
            "label {key}: the value must be a string (quote it in YAML), got {}",
            other.py_str()
        )),
    }
}

/// What has to change on a Node's labels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelPlan {
    /// Keys to add, with their values (in the order wanted).
    pub added: Vec<(String, String)>,
    /// Keys to remove (in the Node's key order).
    pub removed: Vec<String>,
    /// Keys whose value changes: key, old value, new value (in the order wanted).
    pub changed: Vec<(String, String, String)>,
}

impl LabelPlan {
    /// Nothing to change?
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// The JSON merge patch (RFC 7396) that makes the change: `null` removes a key.
    pub fn merge_patch(&self) -> serde_json::Value {
        let mut labels = serde_json::Map::new();
        for (key, value) in &self.added {
            labels.insert(key.clone(), value.clone().into());
        }
        for (key, _, new) in &self.changed {
            labels.insert(key.clone(), new.clone().into());
        }
        for key in &self.removed {
            labels.insert(key.clone(), serde_json::Value::Null);
        }
        serde_json::json!({ "metadata": { "labels": labels } })
    }

    /// The state's `changes`: `{"labels": {"added": {...}, "removed": [...], "changed":
    /// {key: {"old": ..., "new": ...}}}}`, empty parts left out.
    pub fn changes(&self) -> Map {
        let mut labels = Map::default();
        if !self.added.is_empty() {
            let added: Map = self
                .added
                .iter()
                .map(|(k, v)| (Value::from(k), Value::from(v)))
                .collect();
            labels.insert("added".into(), Value::Map(added));
        }
        if !self.removed.is_empty() {
            let removed = self.removed.iter().map(Value::from).collect();
            labels.insert("removed".into(), Value::List(removed));
        }
        if !self.changed.is_empty() {
            let changed: Map = self
                .changed
                .iter()
                .map(|(k, old, new)| (Value::from(k), old_new(old, new)))
                .collect();
            labels.insert("changed".into(), Value::Map(changed));
        }
        let mut changes = Map::default();
        if !labels.is_empty() {
            changes.insert("labels".into(), Value::Map(labels));
        }
        changes
    }
}

/// `{"old": old, "new": new}`.
fn old_new(old: &str, new: &str) -> Value {
    let mut m = Map::default();
    m.insert("old".into(), old.into());
    m.insert("new".into(), new.into());
    Value::Map(m)
}

/// The change that brings `current` to what is `wanted`, touching only the keys Halite owns:
/// wanted keys are set or removed; when roles were given, a key under `owned_prefix` that is
/// not wanted is removed; every other label is left alone.
pub fn plan(current: &BTreeMap<String, String>, wanted: &Wanted, owned_prefix: &str) -> LabelPlan {
    let mut plan = LabelPlan::default();
    for (key, value) in &wanted.entries {
        match (current.get(key), value) {
            (None, Some(v)) => plan.added.push((key.clone(), v.clone())),
            (Some(old), Some(v)) if old != v => {
                plan.changed.push((key.clone(), old.clone(), v.clone()))
            }
            (Some(_), None) => plan.removed.push(key.clone()),
            _ => {}
        }
    }
    if wanted.roles_given && !owned_prefix.is_empty() {
        let stale = current
            .keys()
            .filter(|k| k.starts_with(owned_prefix) && !wanted.mentions(k));
        plan.removed.extend(stale.cloned());
    }
    let order: Vec<&String> = current.keys().collect();
    plan.removed
        .sort_by_key(|k| order.iter().position(|o| *o == k));
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    fn roles(names: &[&str]) -> Value {
        Value::List(names.iter().map(|n| Value::from(*n)).collect())
    }

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (Value::from(*k), v.clone()))
                .collect(),
        )
    }

    const NODE: &[(&str, &str)] = &[
        ("kubernetes.io/hostname", "node-1"),
        ("kubernetes.io/os", "linux"),
        ("node-role.kubernetes.io/etcd", ""),
        ("node-role.kubernetes.io/master", ""),
        ("team", "blue"),
    ];

    #[test]
    fn roles_converge_and_foreign_labels_stay() {
        let wanted = Wanted::from_args(Some(&roles(&["master", "infra"])), None).unwrap();
        let p = plan(&current(NODE), &wanted, ROLE_PREFIX);
        assert_eq!(
            p.added,
            vec![("node-role.kubernetes.io/infra".to_string(), String::new())]
        );
        assert_eq!(p.removed, vec!["node-role.kubernetes.io/etcd".to_string()]);
        assert!(p.changed.is_empty());
        assert_eq!(
            p.merge_patch(),
            serde_json::json!({"metadata": {"labels": {
                "node-role.kubernetes.io/infra": "",
                "node-role.kubernetes.io/etcd": null
            }}})
        );
    }

    #[test]
    fn converged_node_has_an_empty_plan() {
        let wanted = Wanted::from_args(
            Some(&roles(&["etcd", "master"])),
            Some(&map(&[("team", "blue".into())])),
        )
        .unwrap();
        let p = plan(&current(NODE), &wanted, ROLE_PREFIX);
        assert!(p.is_empty());
        assert!(p.changes().is_empty());
    }

    #[test]
    fn extra_labels_are_set_changed_and_removed_only_on_null() {
        let wanted = Wanted::from_args(
            Some(&roles(&["etcd", "master"])),
            Some(&map(&[
                ("team", "red".into()),
                ("zone", "a".into()),
                ("rack", 7.into()),
                ("kubernetes.io/os", Value::Null),
                ("absent", Value::Null),
            ])),
        )
        .unwrap();
        let p = plan(&current(NODE), &wanted, ROLE_PREFIX);
        assert_eq!(
            p.added,
            vec![
                ("zone".to_string(), "a".to_string()),
                ("rack".to_string(), "7".to_string())
            ]
        );
        assert_eq!(
            p.changed,
            vec![("team".to_string(), "blue".to_string(), "red".to_string())]
        );
        assert_eq!(p.removed, vec!["kubernetes.io/os".to_string()]);
        let changes = p.changes();
        let labels = changes.get("labels").and_then(Value::as_map).unwrap();
        let keys: Vec<String> = labels.keys().map(Value::py_str).collect();
        assert_eq!(keys, ["added", "removed", "changed"]);
        assert_eq!(
            labels.get("changed").unwrap(),
            &map(&[(
                "team",
                map(&[("old", "blue".into()), ("new", "red".into())])
            )])
        );
    }

    #[test]
    fn no_roles_argument_leaves_role_labels_alone() {
        let wanted = Wanted::from_args(None, Some(&map(&[("team", "blue".into())]))).unwrap();
        assert!(plan(&current(NODE), &wanted, ROLE_PREFIX).is_empty());
        let none = Wanted::from_args(Some(&roles(&[])), None).unwrap();
        assert_eq!(
            plan(&current(NODE), &none, ROLE_PREFIX).removed,
            vec![
                "node-role.kubernetes.io/etcd".to_string(),
                "node-role.kubernetes.io/master".to_string()
            ]
        );
    }

    #[test]
    fn removed_keys_follow_the_node_order() {
        let wanted = Wanted::from_args(
            Some(&roles(&[])),
            Some(&map(&[
                ("team", Value::Null),
                ("kubernetes.io/os", Value::Null),
            ])),
        )
        .unwrap();
        let p = plan(&current(NODE), &wanted, ROLE_PREFIX);
        assert_eq!(
            p.removed,
            [
                "kubernetes.io/os",
                "node-role.kubernetes.io/etcd",
                "node-role.kubernetes.io/master",
                "team"
            ]
        );
    }

    #[test]
    fn bad_arguments_are_named() {
        let err = Wanted::from_args(Some(&"master".into()), None).unwrap_err();
        assert!(err.contains("'roles' must be a list"), "{err}");
        let err = Wanted::from_args(Some(&roles(&["a/b"])), None).unwrap_err();
        assert!(err.contains("a/b"), "{err}");
        let err = Wanted::from_args(None, Some(&map(&[("x", true.into())]))).unwrap_err();
        assert!(err.contains("label x"), "{err}");
        let err = Wanted::from_args(
            Some(&roles(&["master"])),
            Some(&map(&[("node-role.kubernetes.io/master", Value::Null)])),
        )
        .unwrap_err();
        assert!(err.contains("asked twice"), "{err}");
    }
}
