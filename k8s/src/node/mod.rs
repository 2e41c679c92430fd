//! `k8s_node.*`: the node-role labels and the taints of a Kubernetes Node, through the API
//! server named by a kubeconfig file.
//!
//! States (`name` is the Node name):
//! - `k8s_node.labels(roles=None, labels=None, owned_prefix="node-role.kubernetes.io/",
//!   kubeconfig=None)`: the role labels `node-role.kubernetes.io/<role>: ""` are exactly
//!   `roles` (a list, even empty: then every label under `owned_prefix` that is not wanted is
//!   removed; no `roles` leaves the role labels alone); `labels` keys are set (removed only
//!   when given as `null`); every other label is left alone. One JSON merge patch (`null`
//!   deletes a key) applies the change.
//! - `k8s_node.taints(taints=[], owned_prefix="node-role.kubernetes.io/", kubeconfig=None)`:
//!   the taints under `owned_prefix` are exactly `taints`; foreign taints stay in place. The
//!   whole `spec.taints` list is merge-patched, guarded by `metadata.resourceVersion`, and
//!   re-read and retried on 409 Conflict.
//!
//! Execution functions: `k8s_node.get_labels(name, kubeconfig=None)` (a mapping) and
//! `k8s_node.get_taints(name, kubeconfig=None)` (`"key=value:Effect"` strings).
//!
//! The kubeconfig is the `kubeconfig` argument, else the minion option `k8s.kubeconfig`, else
//! `/etc/kubernetes/admin.conf`.

pub mod client;
pub mod labels;
pub mod taints;

use crate::runtime::block_on;
use crate::ExecContext;
use client::{NodeClient, NodeError, DEFAULT_KUBECONFIG, KUBECONFIG_OPT};
use halite_core::{Error, Map, Result, Value};
use halite_states::modules::{ret, Registry, StateCall};
use k8s_openapi::api::core::v1::{Node, Taint};
use labels::Wanted;
use std::path::{Path, PathBuf};
use taints::TaintSpec;

/// The default `owned_prefix`: the labels and taints Halite manages.
pub const DEFAULT_OWNED_PREFIX: &str = "node-role.kubernetes.io/";

/// PATCH attempts of `k8s_node.taints` before a 409 Conflict is final (one try, 3 retries).
const TAINT_ATTEMPTS: usize = 4;

/// Register `k8s_node.labels` and `k8s_node.taints`.
pub fn register(r: &mut Registry) {
    r.add("k8s_node.labels", labels_state);
    r.add("k8s_node.taints", taints_state);
}

/// The execution functions of this module.
pub const FUNCTIONS: &[&str] = &["k8s_node.get_labels", "k8s_node.get_taints"];

/// Run one of [`FUNCTIONS`].
pub fn call(ctx: &ExecContext, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
    let short = match name {
        "k8s_node.get_labels" => "get_labels",
        "k8s_node.get_taints" => "get_taints",
        _ => return Err(Error::NotAvailable(name.to_string())),
    };
    let node_name = required(short, args, kwargs, 0, "name")?.py_str();
    let kubeconfig = kubeconfig_path(arg(args, kwargs, 1, "kubeconfig"), ctx.opts)
        .map_err(Error::InvalidArgument)?;
    let node = block_on(async {
        let client = NodeClient::connect(&kubeconfig).await?;
        client.get(&node_name).await
    })?
    .map_err(|e| Error::CommandExecution(e.to_string()))?;
    Ok(if short == "get_labels" {
        let labels = node.metadata.labels.unwrap_or_default();
        Value::Map(
            labels
                .into_iter()
                .map(|(k, v)| (Value::Str(k), Value::Str(v)))
                .collect(),
        )
    } else {
        let list = node_taints(&node);
        Value::List(
            list.iter()
                .map(|t| Value::Str(taints::taint_str(t)))
                .collect(),
        )
    })
}

use halite_core::functions::{arg, required};

/// The kubeconfig file: the `kubeconfig` argument, else the minion option, else the default.
fn kubeconfig_path(given: Option<&Value>, opts: &Map) -> Result<PathBuf, String> {
    let path = |v: Option<&Value>, what: &str| -> Result<Option<PathBuf>, String> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Str(s)) if s.is_empty() => Ok(None),
            Some(Value::Str(s)) => Ok(Some(PathBuf::from(s))),
            Some(other) => Err(format!("{what} must be a path, got {}", other.py_str())),
        }
    };
    let from_arg = path(given, "'kubeconfig'")?;
    let from_opts = || {
        path(
            opts.get(KUBECONFIG_OPT),
            "the minion option 'k8s.kubeconfig'",
        )
    };
    Ok(match from_arg {
        Some(p) => p,
        None => from_opts()?.unwrap_or_else(|| PathBuf::from(DEFAULT_KUBECONFIG)),
    })
}

/// The `owned_prefix` argument (a non-empty string; default [`DEFAULT_OWNED_PREFIX`]).
fn owned_prefix(c: &StateCall) -> Result<String, String> {
    match c.arg("owned_prefix") {
        None | Some(Value::Null) => Ok(DEFAULT_OWNED_PREFIX.to_string()),
        Some(Value::Str(s)) if !s.is_empty() => Ok(s.clone()),
        Some(other) => Err(format!(
            "'owned_prefix' must be a non-empty string, got {}",
            other.py_str()
        )),
    }
}

/// The taints of a Node (none when it has no `spec.taints`).
fn node_taints(node: &Node) -> Vec<Taint> {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default()
}

/// What a state run found and did.
enum Outcome {
    /// Already as wanted.
    Unchanged,
    /// `test=True`: these changes would be made.
    WouldChange(Map),
    /// These changes were made.
    Changed(Map),
}

/// The state return for `what` (`labels` or `taints`) of Node `name`.
fn report(name: &str, what: &str, outcome: std::result::Result<Outcome, NodeError>) -> Map {
    match outcome {
        Ok(Outcome::Unchanged) => ret(
            name,
            Map::default(),
            Some(true),
            format!("Node {name} {what} are already in the correct state"),
        ),
        Ok(Outcome::WouldChange(changes)) => ret(
            name,
            changes,
            None,
            format!("Node {name} {what} would be updated"),
        ),
        Ok(Outcome::Changed(changes)) => ret(
            name,
            changes,
            Some(true),
            format!("Node {name} {what} updated"),
        ),
        Err(e) => ret(name, Map::default(), Some(false), e.to_string()),
    }
}

/// The arguments a state function needs besides its own: Node name, kubeconfig and owned
/// prefix; a bad one is the `Err` state return.
fn common(c: &StateCall) -> std::result::Result<(String, PathBuf, String), Map> {
    let name = c.name();
    let fail = |msg: String| ret(&name, Map::default(), Some(false), msg);
    let kubeconfig = kubeconfig_path(c.arg("kubeconfig"), c.opts).map_err(fail)?;
    let prefix = owned_prefix(c).map_err(fail)?;
    Ok((name, kubeconfig, prefix))
}

/// `k8s_node.labels`.
fn labels_state(c: &StateCall) -> Result<Map> {
    let (name, kubeconfig, prefix) = match common(c) {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let wanted = match Wanted::from_args(c.arg("roles"), c.arg("labels")) {
        Ok(w) => w,
        Err(msg) => return Ok(ret(&name, Map::default(), Some(false), msg)),
    };
    let outcome = block_on(converge_labels(
        &kubeconfig,
        &name,
        &wanted,
        &prefix,
        c.test,
    ))?;
    Ok(report(&name, "labels", outcome))
}

/// Read the Node, and merge-patch its labels unless they are as wanted (or under test).
async fn converge_labels(
    kubeconfig: &Path,
    name: &str,
    wanted: &Wanted,
    prefix: &str,
    test: bool,
) -> std::result::Result<Outcome, NodeError> {
    let client = NodeClient::connect(kubeconfig).await?;
    let node = client.get(name).await?;
    let current = node.metadata.labels.unwrap_or_default();
    let plan = labels::plan(&current, wanted, prefix);
    if plan.is_empty() {
        return Ok(Outcome::Unchanged);
    }
    if test {
        return Ok(Outcome::WouldChange(plan.changes()));
    }
    client.merge_patch(name, &plan.merge_patch()).await?;
    tracing::info!(node = name, server = client.server(), "node labels updated");
    Ok(Outcome::Changed(plan.changes()))
}

/// `k8s_node.taints`.
fn taints_state(c: &StateCall) -> Result<Map> {
    let (name, kubeconfig, prefix) = match common(c) {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let wanted = match taints::parse_taints(c.arg("taints"), &prefix) {
        Ok(w) => w,
        Err(msg) => return Ok(ret(&name, Map::default(), Some(false), msg)),
    };
    let outcome = block_on(converge_taints(
        &kubeconfig,
        &name,
        &wanted,
        &prefix,
        c.test,
    ))?;
    Ok(report(&name, "taints", outcome))
}

/// Read the Node and, unless its taints are as wanted (or under test), merge-patch the whole
/// list guarded by the resourceVersion read; on 409 Conflict read again and retry.
async fn converge_taints(
    kubeconfig: &Path,
    name: &str,
    wanted: &[TaintSpec],
    prefix: &str,
    test: bool,
) -> std::result::Result<Outcome, NodeError> {
    let client = NodeClient::connect(kubeconfig).await?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let node = client.get(name).await?;
        let current = node_taints(&node);
        let new = taints::converge(&current, wanted, prefix);
        if new == current {
            return Ok(Outcome::Unchanged);
        }
        let changes = taints::changes(&current, &new);
        if test {
            return Ok(Outcome::WouldChange(changes));
        }
        let version = node.metadata.resource_version.unwrap_or_default();
        let patch = taints::merge_patch(&version, &new).map_err(|e| NodeError::Encode {
            name: name.to_string(),
            cause: e.to_string(),
        })?;
        match client.merge_patch(name, &patch).await {
            Ok(_) => {
                tracing::info!(node = name, server = client.server(), "node taints updated");
                return Ok(Outcome::Changed(changes));
            }
            Err(e) if e.is_conflict() && attempt < TAINT_ATTEMPTS => {
                tracing::debug!(node = name, attempt, "node changed under the taint patch");
            }
            Err(e) if e.is_conflict() => {
                return Err(NodeError::StillConflicting {
                    attempts: attempt,
                    last: Box::new(e),
                })
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_comes_from_the_argument_then_the_options_then_the_default() {
        let mut opts = Map::default();
        assert_eq!(
            kubeconfig_path(None, &opts).unwrap(),
            PathBuf::from("/etc/kubernetes/admin.conf")
        );
        opts.insert(KUBECONFIG_OPT.into(), "/srv/kc.conf".into());
        assert_eq!(
            kubeconfig_path(Some(&Value::Null), &opts).unwrap(),
            PathBuf::from("/srv/kc.conf")
        );
        assert_eq!(
            kubeconfig_path(Some(&"/tmp/a.conf".into()), &opts).unwrap(),
            PathBuf::from("/tmp/a.conf")
        );
        assert!(kubeconfig_path(Some(&Value::Int(3)), &opts).is_err());
    }
}
