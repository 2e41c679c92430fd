//! `sysctl.present` on a real kernel, Halite beside real Salt 3008.5.
//!
//! Each side runs in a new network namespace (`unshare -n`: its `net.*` sysctls are its own,
//! fresh at kernel defaults) and a private mount namespace where an overlay covers the host's
//! `/etc` (`common/etcoverlay.rs`), so Salt's default config files can be written without
//! touching the host. The returns (minus timings), exit codes and resulting config files must
//! be identical. Skips (and says so) without root; without real Salt only Halite runs.

#[path = "common/compare.rs"]
mod compare;
#[path = "common/etcoverlay.rs"]
mod etcoverlay;

use compare::salt_call;
use etcoverlay::{assert_same_runs, is_root, EtcSandbox};
use serde_json::Value as Json;
use std::path::PathBuf;

const SLS: &str = "forward:\n  sysctl.present:\n    - name: net.ipv4.ip_forward\n    - value: 1\nttl:\n  sysctl.present:\n    - name: net.ipv4.ip_default_ttl\n    - value: 99\n    - config: {work}/custom.conf\nrange:\n  sysctl.present:\n    - name: net.ipv4.ip_local_port_range\n    - value: 30000 40000\nunknown:\n  sysctl.present:\n    - name: net.ipv4.halite_no_such_key\n    - value: 1\nafter:\n  test.succeed_without_changes:\n    - name: unharmed\n";

fn side() -> EtcSandbox {
    let s = EtcSandbox::new("hsysctl.", &[("sc", SLS)], true);
    std::fs::write(
        s.path().join("custom.conf"),
        "net.ipv4.ip_default_ttl = 64\n",
    )
    .expect("conf");
    s
}

#[test]
fn sysctl_present_matches_real_salt_in_a_network_namespace() {
    if !is_root() {
        eprintln!("SKIPPED: not root (network and mount namespaces need it)");
        return;
    }
    let runs: &[(&str, &[&str])] = &[
        ("sc", &["test=True"]),
        ("sc", &[]),
        ("sc", &[]),
        ("sc", &["test=True"]),
    ];
    let ours = side();
    let halite = PathBuf::from(env!("CARGO_BIN_EXE_salt-call"));
    let got = ours.runs(&halite, runs);
    for (i, (_, v)) in got.iter().enumerate() {
        assert!(
            v.get("local").is_some_and(Json::is_object),
            "run {i}: Halite gave no state returns: {v}"
        );
    }
    let forward = &got[1].1["local"]["sysctl_|-forward_|-net.ipv4.ip_forward_|-present"];
    assert_eq!(forward["result"], Json::Bool(true), "{forward}");
    let persisted = ours.file("upper/sysctl.conf") + &ours.file("upper/sysctl.d/99-salt.conf");
    assert!(
        persisted.contains("net.ipv4.ip_forward = 1"),
        "persisted: {persisted}"
    );
    let Some(salt) = salt_call() else {
        eprintln!("real Salt is not installed at /opt/salt-venv: no comparison");
        return;
    };
    let theirs = side();
    let want = theirs.runs(&salt, runs);
    assert_same_runs(runs, &got, &want);
    for f in [
        "upper/sysctl.conf",
        "upper/sysctl.d/99-salt.conf",
        "custom.conf",
    ] {
        assert_eq!(ours.file(f), theirs.file(f), "{f} differs");
    }
    eprintln!("{} runs compared with real Salt", runs.len());
}
