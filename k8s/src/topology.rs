//! `k8s.*` execution functions over the cluster topology in the pillar: `topology:nodes`,
//! a mapping node id → `{roles: [...], ip: ..., taints: [...]}`.
//!
//! - `k8s.minions_by_role(role)`: the ids of the nodes that have `role`, sorted;
//! - `k8s.roles(node=None)`: a node's roles (`[]` when it has none);
//! - `k8s.control_plane_ip(node=None)`: a node's `ip`;
//! - `k8s.node(node=None)`: a node's whole mapping.
//!
//! `node` defaults to this minion's id. A missing key is an error naming the pillar key
//! (`pillar key 'topology:nodes:cp-9' is missing`). The real-Salt twin of these functions is
//! `examples/cluster/salt/_modules/k8s.py`; both give the same results and error texts.

use crate::ExecContext;
use halite_core::{Error, Map, Result, Value};

/// The execution functions of this module.
pub const FUNCTIONS: &[&str] = &[
    "k8s.minions_by_role",
    "k8s.roles",
    "k8s.control_plane_ip",
    "k8s.node",
];

/// The pillar key of the node table.
pub const NODES_KEY: &str = "topology:nodes";

/// Run one of [`FUNCTIONS`].
pub fn call(ctx: &ExecContext, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
    match name {
        "k8s.minions_by_role" => {
            let role = required("minions_by_role", args, kwargs, 0, "role")?;
            minions_by_role(ctx.pillar, &role.py_str())
                .map(|ids| ids.into_iter().map(Value::from).collect::<Vec<_>>().into())
        }
        "k8s.roles" => roles(ctx.pillar, &node_id(ctx, args, kwargs)?).map(Value::List),
        "k8s.control_plane_ip" => {
            control_plane_ip(ctx.pillar, &node_id(ctx, args, kwargs)?).map(Value::from)
        }
        "k8s.node" => node(ctx.pillar, &node_id(ctx, args, kwargs)?).map(|m| Value::Map(m.clone())),
        _ => Err(Error::NotAvailable(name.to_string())),
    }
}

use halite_core::functions::{arg, required};

/// The `node` argument, or this minion's id.
fn node_id(ctx: &ExecContext, args: &[Value], kwargs: &Map) -> Result<String> {
    match arg(args, kwargs, 0, "node").filter(|v| !v.is_null()) {
        Some(v) => Ok(v.py_str()),
        None => ctx
            .opts
            .get("id")
            .filter(|v| !v.is_null())
            .map(Value::py_str)
            .ok_or_else(|| Error::CommandExecution("minion option 'id' is not set".into())),
    }
}

/// `pillar key '<key>' is missing`.
fn missing(key: &str) -> Error {
    Error::CommandExecution(format!("pillar key '{key}' is missing"))
}

/// `pillar key '<key>' is not a <what>`.
fn not_a(key: &str, what: &str) -> Error {
    Error::CommandExecution(format!("pillar key '{key}' is not a {what}"))
}

/// The node table.
fn nodes(pillar: &Value) -> Result<&Map> {
    let table = pillar
        .get("topology")
        .and_then(|t| t.get("nodes"))
        .ok_or_else(|| missing(NODES_KEY))?;
    table.as_map().ok_or_else(|| not_a(NODES_KEY, "mapping"))
}

/// A node's roles from its entry (`key` names the entry in errors).
fn roles_of(entry: &Map, key: &str) -> Result<Vec<Value>> {
    match entry.get("roles") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::List(l)) => Ok(l.clone()),
        Some(_) => Err(not_a(&format!("{key}:roles"), "list")),
    }
}

/// The ids of the nodes that have `role`, sorted.
pub fn minions_by_role(pillar: &Value, role: &str) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for (id, entry) in nodes(pillar)? {
        let id = id.py_str();
        let key = format!("{NODES_KEY}:{id}");
        let entry = entry.as_map().ok_or_else(|| not_a(&key, "mapping"))?;
        if roles_of(entry, &key)?.iter().any(|r| r.py_str() == role) {
            ids.push(id);
        }
    }
    ids.sort();
    Ok(ids)
}

/// The whole entry of `node`.
pub fn node<'a>(pillar: &'a Value, node: &str) -> Result<&'a Map> {
    let key = format!("{NODES_KEY}:{node}");
    let entry = nodes(pillar)?
        .iter()
        .find(|(id, _)| id.py_str() == node)
        .map(|(_, v)| v)
        .ok_or_else(|| missing(&key))?;
    entry.as_map().ok_or_else(|| not_a(&key, "mapping"))
}

/// The roles of `node` (`[]` when it has none).
pub fn roles(pillar: &Value, id: &str) -> Result<Vec<Value>> {
    roles_of(node(pillar, id)?, &format!("{NODES_KEY}:{id}"))
}

/// The `ip` of `node`.
pub fn control_plane_ip(pillar: &Value, id: &str) -> Result<String> {
    match node(pillar, id)?.get("ip") {
        None | Some(Value::Null) => Err(missing(&format!("{NODES_KEY}:{id}:ip"))),
        Some(ip) => Ok(ip.py_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use halite_core::Functions;

    struct NoFunctions;

    impl Functions for NoFunctions {
        fn call(&self, name: &str, _args: &[Value], _kwargs: &Map) -> Result<Value> {
            Err(Error::NotAvailable(name.into()))
        }
        fn exists(&self, _name: &str) -> bool {
            false
        }
    }

    fn map(pairs: Vec<(&str, Value)>) -> Value {
        Value::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (Value::from(k), v))
                .collect(),
        )
    }

    fn strs(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::from(*s)).collect())
    }

    fn pillar() -> Value {
        let nodes = map(vec![
            ("worker-1", map(vec![("roles", strs(&["node"]))])),
            (
                "cp-2",
                map(vec![
                    ("roles", strs(&["master", "etcd", "node"])),
                    ("ip", Value::from("10.0.0.2")),
                ]),
            ),
            (
                "cp-1",
                map(vec![
                    ("roles", strs(&["bootstrap", "master", "etcd"])),
                    ("ip", Value::from("10.0.0.1")),
                    (
                        "taints",
                        strs(&["node-role.kubernetes.io/master:NoSchedule"]),
                    ),
                ]),
            ),
            ("bare", map(vec![])),
        ]);
        map(vec![("topology", map(vec![("nodes", nodes)]))])
    }

    /// Call `name` as minion `cp-1` with `pillar`.
    fn call_as(pillar: &Value, name: &str, args: &[Value]) -> Result<Value> {
        let opts: Map = [(Value::from("id"), Value::from("cp-1"))]
            .into_iter()
            .collect();
        let grains = Value::map();
        let ctx = ExecContext {
            opts: &opts,
            grains: &grains,
            pillar,
            functions: &NoFunctions,
        };
        call(&ctx, name, args, &Map::default())
    }

    fn err(r: Result<Value>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn lookups() {
        let p = pillar();
        let c = |name: &str, args: &[Value]| call_as(&p, name, args).unwrap();
        assert_eq!(
            c("k8s.minions_by_role", &["etcd".into()]),
            strs(&["cp-1", "cp-2"])
        );
        assert_eq!(
            c("k8s.minions_by_role", &["node".into()]),
            strs(&["cp-2", "worker-1"])
        );
        assert_eq!(c("k8s.minions_by_role", &["infra".into()]), strs(&[]));
        assert_eq!(c("k8s.roles", &[]), strs(&["bootstrap", "master", "etcd"]));
        assert_eq!(c("k8s.roles", &["bare".into()]), strs(&[]));
        assert_eq!(c("k8s.control_plane_ip", &[]), Value::from("10.0.0.1"));
        assert_eq!(
            c("k8s.control_plane_ip", &["cp-2".into()]),
            Value::from("10.0.0.2")
        );
        let node = c("k8s.node", &["worker-1".into()]);
        assert_eq!(node, map(vec![("roles", strs(&["node"]))]));
    }

    #[test]
    fn errors_name_the_pillar_key() {
        let p = pillar();
        assert_eq!(
            err(call_as(&p, "k8s.node", &["cp-9".into()])),
            "pillar key 'topology:nodes:cp-9' is missing"
        );
        assert_eq!(
            err(call_as(&p, "k8s.control_plane_ip", &["worker-1".into()])),
            "pillar key 'topology:nodes:worker-1:ip' is missing"
        );
        assert_eq!(
            err(call_as(
                &Value::map(),
                "k8s.minions_by_role",
                &["etcd".into()]
            )),
            "pillar key 'topology:nodes' is missing"
        );
        assert_eq!(
            err(call_as(&p, "k8s.minions_by_role", &[])),
            "Passed invalid arguments: minions_by_role() missing 1 required positional argument: 'role'"
        );
        let bad = map(vec![(
            "topology",
            map(vec![(
                "nodes",
                map(vec![("n", map(vec![("roles", "x".into())]))]),
            )]),
        )]);
        assert_eq!(
            err(call_as(&bad, "k8s.roles", &["n".into()])),
            "pillar key 'topology:nodes:n:roles' is not a list"
        );
        assert!(matches!(
            call_as(&p, "k8s.nope", &[]),
            Err(Error::NotAvailable(_))
        ));
    }
}
