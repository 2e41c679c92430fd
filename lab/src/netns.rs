//! The lab's network: a switch namespace holding a bridge, and one network namespace per node
//! with an `eth0` on that bridge. Nothing is created in the host's network namespace and the
//! bridge has no uplink: the nodes reach each other and nothing else.

use crate::sh::{run, Result};
use std::process::Command;

/// Prefix of every namespace the lab makes.
pub const PREFIX: &str = "hlab";

/// The switch namespace's name.
pub fn switch() -> String {
    format!("{PREFIX}-sw")
}

/// A node's network namespace name.
pub fn of(node: &str) -> String {
    format!("{PREFIX}-{node}")
}

/// Does the network namespace exist?
pub fn exists(ns: &str) -> bool {
    std::path::Path::new("/run/netns").join(ns).exists()
}

fn ip(args: &[&str]) -> Result<()> {
    run(
        Command::new("ip").args(args),
        &format!("ip {}", args.join(" ")),
    )
    .map(|_| ())
}

/// Create the switch. Fails when a namespace of that name exists (another lab?).
pub fn create_switch() -> Result<()> {
    let sw = switch();
    if exists(&sw) {
        return Err(format!(
            "network namespace {sw} already exists: another lab is up (lab down first)"
        ));
    }
    ip(&["netns", "add", &sw])?;
    ip(&["-n", &sw, "link", "set", "lo", "up"])?;
    ip(&["-n", &sw, "link", "add", "br0", "type", "bridge"])?;
    ip(&["-n", &sw, "link", "set", "br0", "up"])
}

/// Create node `i`'s namespace with `eth0` = `addr`/24 on the switch's bridge.
pub fn create_node(i: usize, node: &str, addr: &str) -> Result<()> {
    let (sw, ns, port) = (switch(), of(node), format!("p{i}"));
    if exists(&ns) {
        return Err(format!("network namespace {ns} already exists"));
    }
    ip(&["netns", "add", &ns])?;
    ip(&["-n", &ns, "link", "set", "lo", "up"])?;
    ip(&[
        "-n", &sw, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", &ns,
    ])?;
    ip(&["-n", &sw, "link", "set", &port, "master", "br0"])?;
    ip(&["-n", &sw, "link", "set", &port, "up"])?;
    ip(&[
        "-n",
        &ns,
        "addr",
        "add",
        &format!("{addr}/24"),
        "dev",
        "eth0",
    ])?;
    ip(&["-n", &ns, "link", "set", "eth0", "up"])
}

/// Delete a namespace the lab made (its veth and the bridge go with it); absent is fine.
pub fn delete(ns: &str) -> Result<()> {
    if !ns.starts_with(&format!("{PREFIX}-")) {
        return Err(format!("refusing to delete {ns}: not a lab namespace"));
    }
    if exists(ns) {
        ip(&["netns", "delete", ns])?;
    }
    Ok(())
}
