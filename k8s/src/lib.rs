//! The Kubernetes node: state and execution modules for kubelet, etcd membership and health,
//! node roles and taints, and static pods. The heavy clients (`kube`, `etcd-client`) live in
//! this crate only, so the rest of the workspace rebuilds without them.
//!
//! The minion registers [`register`] into its state registry and routes the execution
//! functions this crate [`provides`] to [`call`].

pub mod etcd;
pub mod kubelet;
pub mod node;
pub mod runtime;
pub mod static_pod;
pub mod topology;
pub mod watch;

use halite_core::{Functions, Map, Result, Value};
use halite_states::modules::Registry;

/// What an execution function of this crate sees of the minion.
pub struct ExecContext<'a> {
    /// The minion options (`__opts__`).
    pub opts: &'a Map,
    /// The minion's grains.
    pub grains: &'a Value,
    /// The minion's compiled pillar.
    pub pillar: &'a Value,
    /// Every execution function (for calls into other modules).
    pub functions: &'a dyn Functions,
}

/// Register the state modules of this crate (`kubelet.*`, `etcd.*`, `k8s_node.*`).
pub fn register(r: &mut Registry) {
    kubelet::register(r);
    static_pod::register(r);
    etcd::register(r);
    node::register(r);
}

/// Does this crate provide the execution function `name`?
pub fn provides(name: &str) -> bool {
    etcd::FUNCTIONS.contains(&name)
        || topology::FUNCTIONS.contains(&name)
        || node::FUNCTIONS.contains(&name)
}

/// Run the execution function `name` (one [`provides`] answers true for).
pub fn call(ctx: &ExecContext, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
    if etcd::FUNCTIONS.contains(&name) {
        etcd::call(ctx, name, args, kwargs)
    } else if topology::FUNCTIONS.contains(&name) {
        topology::call(ctx, name, args, kwargs)
    } else if node::FUNCTIONS.contains(&name) {
        node::call(ctx, name, args, kwargs)
    } else {
        Err(halite_core::Error::NotAvailable(name.to_string()))
    }
}
