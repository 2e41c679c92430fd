//! The demo cluster's layouts: which nodes, their roles and addresses.

use crate::sh::Result;

/// The /24 the nodes' addresses come from; they exist only inside the lab's namespaces.
pub const SUBNET: &str = "10.220.0";

/// One node of the layout.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NodeSpec {
    /// Node and minion id.
    pub name: String,
    /// MetalK8s roles: bootstrap, master, etcd, infra, node.
    pub roles: Vec<String>,
    /// Control-plane address (on the lab's bridge).
    pub ip: String,
}

fn node(i: usize, name: &str, roles: &[&str]) -> NodeSpec {
    NodeSpec {
        name: name.to_string(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        ip: format!("{SUBNET}.{i}"),
    }
}

/// The layout of `n` nodes: 5 is the reference cluster (bootstrap with master+etcd, two more
/// control-plane nodes, an infra node, a worker); 3 keeps an etcd pair and a worker.
pub fn layout(n: usize) -> Result<Vec<NodeSpec>> {
    match n {
        5 => Ok(vec![
            node(1, "bootstrap", &["bootstrap", "master", "etcd"]),
            node(2, "cp-2", &["master", "etcd"]),
            node(3, "cp-3", &["master", "etcd"]),
            node(4, "infra-1", &["infra"]),
            node(5, "worker-1", &["node"]),
        ]),
        3 => Ok(vec![
            node(1, "bootstrap", &["bootstrap", "master", "etcd"]),
            node(2, "cp-2", &["master", "etcd"]),
            node(3, "worker-1", &["node"]),
        ]),
        _ => Err(format!("no layout of {n} nodes (3 or 5)")),
    }
}

/// `pillar/topology.sls` for these nodes, in the shape of examples/cluster's.
pub fn topology_sls(nodes: &[NodeSpec], header: &str) -> String {
    let mut s = String::from(header);
    s.push_str("topology:\n  nodes:\n");
    for n in nodes {
        s.push_str(&format!(
            "    {}:\n      ip: {}\n      roles: [{}]\n",
            n.name,
            n.ip,
            n.roles.join(", ")
        ));
    }
    s
}
