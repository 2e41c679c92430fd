//! examples/cluster, the reference state and pillar tree, rendered by real Salt 3008.5 and by
//! Halite: `state.show_highstate` of every node of its topology must be identical (JSON and
//! exit code), and so must the refusal of broken topologies (an unknown role, a node without
//! an IP, no etcd member left). Real Salt loads the tree's `_modules/k8s.py` (the twin of
//! Halite's native `k8s.*` functions) through `module_dirs`.
//!
//! When real Salt is missing (`/opt/salt-venv`), the test says so and passes without comparing.

#[path = "common/compare.rs"]
#[allow(dead_code)]
mod compare;

use compare::salt_call;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn tree() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/cluster")
}

fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for e in std::fs::read_dir(src).expect("read tree") {
        let e = e.expect("entry");
        let to = dst.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_tree(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).expect("copy");
        }
    }
}

/// A config dir for node `id` over a copy of the tree in `root`.
fn config(root: &Path, id: &str) -> PathBuf {
    let etc = root.join(format!("etc-{id}"));
    std::fs::create_dir_all(&etc).expect("mkdir");
    let cfg = format!(
        "id: {id}\nroot_dir: {r}/root-{id}\nfile_client: local\n\
         file_roots: {{base: [{r}/salt]}}\npillar_roots: {{base: [{r}/pillar]}}\n\
         module_dirs: [{r}/salt]\nlog_level: quiet\nenable_fqdns_grains: false\n\
         pillar_safe_render_error: False\n",
        r = root.display()
    );
    std::fs::write(etc.join("minion"), cfg).expect("config");
    etc
}

fn salt_call_run(bin: &Path, etc: &Path, home: &Path, fun: &str) -> (i32, String) {
    let out = Command::new(bin)
        .arg("-c")
        .arg(etc)
        .args(["--local", "--out=json", fun])
        .env("HOME", home)
        .stdin(Stdio::null())
        .output()
        .expect("run salt-call");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn first_difference(want: &str, got: &str) -> String {
    want.lines()
        .zip(got.lines())
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .take(5)
        .map(|(i, (a, b))| format!("line {}: salt {a:?}\n         halite {b:?}", i + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

fn compare(salt: &Path, halite: &Path, root: &Path, id: &str, what: &str) -> String {
    let etc = config(root, id);
    let (salt_rc, salt_out) = salt_call_run(salt, &etc, root, "state.show_highstate");
    let (rc, out) = salt_call_run(halite, &etc, root, "state.show_highstate");
    assert!(
        out == salt_out,
        "{what}, node {id}: state.show_highstate differs from Salt's:\n{}\n(salt {} bytes, halite {} bytes)",
        first_difference(&salt_out, &out),
        salt_out.len(),
        out.len()
    );
    assert_eq!(rc, salt_rc, "{what}, node {id}: exit code differs");
    salt_out
}

/// The node names of examples/cluster/pillar/topology.sls.
fn node_names(topology: &str) -> Vec<String> {
    topology
        .lines()
        .filter(|l| l.starts_with("    ") && !l.starts_with("     ") && l.trim_end().ends_with(':'))
        .map(|l| l.trim().trim_end_matches(':').to_string())
        .collect()
}

#[test]
fn cluster_tree_renders_exactly_as_salt_renders_it() {
    let Some(salt) = salt_call() else {
        eprintln!("SKIPPED: real Salt is not installed at /opt/salt-venv (run ../shared/salt-reference/install.sh)");
        return;
    };
    let halite = PathBuf::from(env!("CARGO_BIN_EXE_salt-call"));
    let tmp = tempfile::Builder::new()
        .prefix("hcluster.")
        .tempdir()
        .expect("tempdir");
    let root = tmp.path();
    copy_tree(&tree(), root);
    let topology = std::fs::read_to_string(root.join("pillar/topology.sls")).expect("topology");
    let nodes = node_names(&topology);
    assert_eq!(
        nodes.len(),
        5,
        "the reference topology has 5 nodes: {nodes:?}"
    );
    for id in &nodes {
        let out = compare(&salt, &halite, root, id, "reference topology");
        assert!(
            out.contains("kubelet-config"),
            "{id}: no kubelet-config in\n{out}"
        );
        eprintln!("{id}: identical to Salt ({} bytes)", out.len());
    }

    // Broken topologies: refused with the same exit codes, both naming the file and the key
    // (not byte for byte: Salt's message carries a Python traceback).
    let broken = [
        (
            "unknown role",
            topology.replacen("roles: [node]", "roles: [node, etc]", 1),
            "unknown role 'etc'",
        ),
        (
            "node without an IP",
            topology.replacen("      ip: 10.220.0.5\n", "", 1),
            "topology:nodes:worker-1:ip is missing",
        ),
        (
            "no etcd member",
            topology.replace(", etcd]", "]"),
            "no node has the etcd role",
        ),
    ];
    for (what, text, key) in broken {
        assert_ne!(text, topology, "{what}: the edit did not apply");
        std::fs::write(root.join("pillar/topology.sls"), &text).expect("write topology");
        let etc = config(root, "worker-1");
        for fun in ["state.show_highstate", "state.highstate"] {
            let (salt_rc, salt_out) = salt_call_run(&salt, &etc, root, fun);
            let (rc, out) = salt_call_run(&halite, &etc, root, fun);
            let line = "topology.sls: topology:nodes:";
            assert!(
                salt_out.contains(line) && salt_out.contains(key),
                "{what}: Salt's refusal:\n{salt_out}"
            );
            assert!(
                out.contains(line) && out.contains(key),
                "{what}, {fun}: Halite's refusal does not name the file and key:\n{out}"
            );
            assert_eq!(
                rc, salt_rc,
                "{what}, {fun}: exit code differs\nsalt:\n{salt_out}\nhalite:\n{out}"
            );
        }
        eprintln!("{what}: refused as Salt refuses it");
    }
}
