//! The bootstrap node's Salt side: the example state and pillar tree in /srv, the lab's own
//! pillar values (its topology and the host settings a node sharing the host's kernel may
//! apply), the repository in /srv/repo, the master's config; and every minion's config.

use crate::layout::{topology_sls, NodeSpec};
use crate::node::Node;
use crate::sh::{write, Result};
use std::path::Path;

/// The lab's `pillar/host.sls`: the nodes share the host's kernel, so nothing global is set.
const LAB_HOST_SLS: &str = "\
# The lab's host settings. Lab nodes share the machine's kernel: kernel modules, swap and
# non-network sysctls are the machine's, not the node's, and are left alone. Network sysctls
# belong to the node's own network namespace.
host:
  kernel_modules: []
  sysctl:
    net.ipv4.ip_forward: 1
  swap_off: false
";

/// The header of the lab's topology.sls (the example's comments, the lab's addresses).
const LAB_TOPOLOGY_HEADER: &str = "\
# The cluster's topology: THE file an operator edits (roles: bootstrap, master, etcd, infra,
# node; see examples/cluster/pillar/topology.sls). Written by `lab up` for its layout.
";

fn copy_tree(src: &Path, dst: &Path) -> Result<()> {
    std::fs::create_dir_all(dst).map_err(|e| format!("{}: {e}", dst.display()))?;
    for e in std::fs::read_dir(src).map_err(|e| format!("{}: {e}", src.display()))? {
        let e = e.map_err(|e| format!("{}: {e}", src.display()))?;
        let (from, to) = (e.path(), dst.join(e.file_name()));
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            copy_tree(&from, &to)?;
        } else {
            std::fs::copy(&from, &to).map_err(|e| format!("{}: {e}", from.display()))?;
        }
    }
    Ok(())
}

/// Install the tree, the repository and the master's config on the bootstrap node.
pub fn install(b: &Node, tree: &Path, repo: &Path, nodes: &[NodeSpec]) -> Result<()> {
    copy_tree(&tree.join("salt"), &b.upper("/srv/salt"))?;
    copy_tree(&tree.join("pillar"), &b.upper("/srv/pillar"))?;
    write(&b.upper("/srv/pillar/host.sls"), LAB_HOST_SLS)?;
    write(
        &b.upper("/srv/pillar/topology.sls"),
        &topology_sls(nodes, LAB_TOPOLOGY_HEADER),
    )?;
    copy_tree(repo, &b.upper("/srv/repo"))?;
    write(
        &b.upper("/etc/salt/master"),
        &format!(
            "# Halite salt-master of the lab's bootstrap node.\ninterface: {}\n\
             # Pillar errors name the file and the key (topology.sls checks) instead of\n\
             # \"Please see master log\".\npillar_safe_render_error: False\n",
            b.spec.ip
        ),
    )?;
    crate::node::add_unit(
        b,
        "salt-master",
        "Halite salt-master",
        "/usr/local/bin/salt-master -c /etc/salt",
    )?;
    // The master starts after the bootstrap node's local apply: not enabled at boot.
    let _ = std::fs::remove_file(
        b.dir
            .join("units/multi-user.target.wants/salt-master.service"),
    );
    Ok(())
}

/// A minion's config: its id, the master on the bootstrap node, drift watch, a scheduled
/// highstate.
pub fn minion_config(n: &NodeSpec, master: &str, schedule: u64) -> String {
    format!(
        "# Halite salt-minion of lab node {name}.\nid: {name}\nmaster: {master}\n\
         acceptance_wait_time: 1\nrandom_reauth_delay: 1\n\
         # Self-healing at once (a Halite extension): what the highstate applied is watched.\n\
         drift_watch: true\n\
         # Self-healing the Salt way: a highstate every {schedule} s, queued behind a running one.\n\
         schedule:\n  highstate:\n    function: state.highstate\n    seconds: {schedule}\n    \
         run_on_start: false\n    kwargs:\n      queue: true\n",
        name = n.name
    )
}
