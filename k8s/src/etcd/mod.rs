//! etcd membership and health for control-plane nodes.
//!
//! State functions (see [`states`]): `etcd.configured` (the environment file Debian's
//! `etcd.service` reads), `etcd.member_present` (join an existing cluster, or bootstrap a new
//! one), `etcd.member_absent` (leave the cluster, never as its last member) and
//! `etcd.healthy` (wait for every endpoint and a leader). Execution functions:
//! `etcd.member_list` and `etcd.health`.
//!
//! The etcd API is reached through `etcd-client` (plain http, see [`client`]) on a
//! current-thread runtime ([`crate::runtime::block_on`]); the environment file is edited
//! line by line ([`envfile`]) so that lines the states do not own are kept.

pub mod client;
pub mod envfile;
pub mod states;

use crate::runtime::block_on;
use crate::ExecContext;
use halite_core::{Error, Map, Result, Value};
use halite_states::modules::Registry;

/// The endpoint used when none is given.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:2379";

/// Register this module's state functions.
pub fn register(r: &mut Registry) {
    states::register(r);
}

/// The execution functions of this module.
pub const FUNCTIONS: &[&str] = &["etcd.member_list", "etcd.health"];

/// Run one of [`FUNCTIONS`].
pub fn call(ctx: &ExecContext, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
    match name {
        "etcd.member_list" => member_list(&exec_endpoints(ctx, args, kwargs)),
        "etcd.health" => health(&exec_endpoints(ctx, args, kwargs)),
        _ => Err(Error::NotAvailable(name.to_string())),
    }
}

/// A list of strings from a list, or from one comma-separated string; nulls and empty
/// entries dropped.
pub fn str_list(v: Option<&Value>) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::List(items)) => items
            .iter()
            .filter(|i| !i.is_null())
            .map(Value::py_str)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        Some(other) => other
            .py_str()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

/// The endpoints of an execution function: its `endpoints` argument, else the minion option
/// `etcd.endpoints`, else [`DEFAULT_ENDPOINT`].
fn exec_endpoints(ctx: &ExecContext, args: &[Value], kwargs: &Map) -> Vec<String> {
    let given = str_list(args.first().or_else(|| kwargs.get("endpoints")));
    if !given.is_empty() {
        return given;
    }
    let configured = str_list(ctx.opts.get("etcd.endpoints"));
    if !configured.is_empty() {
        return configured;
    }
    vec![DEFAULT_ENDPOINT.to_string()]
}

/// `etcd.member_list(endpoints=None)`: the members, sorted by name, each as
/// `{name, id, peer_urls, client_urls, is_learner}` (`id` in hex as `etcdctl` prints it),
/// from the first endpoint that answers.
pub fn member_list(endpoints: &[String]) -> Result<Value> {
    match block_on(client::first_members(endpoints))? {
        Ok((_, members)) => Ok(Value::List(
            client::sorted(members)
                .iter()
                .map(client::Member::to_value)
                .collect(),
        )),
        Err(errors) => Err(Error::CommandExecution(format!(
            "no etcd member answered among {}: {}",
            endpoints.join(", "),
            client::join_errors(&errors)
        ))),
    }
}

/// `etcd.health(endpoints=None)`: each endpoint → `{"health": bool}`, with `"error"` when
/// unhealthy (what `etcdctl endpoint health` checks: an answer, a leader, a quorum read).
pub fn health(endpoints: &[String]) -> Result<Value> {
    let results = block_on(async {
        let mut out = Vec::with_capacity(endpoints.len());
        for ep in endpoints {
            out.push((ep.clone(), client::endpoint_health(ep).await));
        }
        out
    })?;
    let mut map = Map::default();
    for (ep, result) in results {
        let mut entry = Map::default();
        entry.insert("health".into(), Value::Bool(result.is_ok()));
        if let Err(e) = result {
            entry.insert("error".into(), Value::Str(e.reason));
        }
        map.insert(Value::Str(ep), Value::Map(entry));
    }
    Ok(Value::Map(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_from_lists_and_strings() {
        assert_eq!(
            str_list(Some(&Value::from("http://a:1, http://b:2,"))),
            ["http://a:1", "http://b:2"]
        );
        assert_eq!(
            str_list(Some(&Value::List(vec!["x".into(), Value::Null]))),
            ["x"]
        );
        assert!(str_list(None).is_empty());
    }
}
