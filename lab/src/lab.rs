//! `lab up` and `lab down`: the record of what the lab made (`<dir>/lab.json`), so that down
//! removes exactly that, even after a crash half-way through up.

use crate::layout::NodeSpec;
use crate::node::{self, Node};
use crate::sh::{bash, write, Result};
use crate::{netns, tree};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const MARKER: &str = ".halite-lab";
const BUILD_REPO: &str = include_str!("../assets/build-repo.sh");

/// A lab: its directory and its nodes.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Lab {
    /// The lab's directory (node trees, logs, the binary it runs).
    pub dir: PathBuf,
    /// The nodes, bootstrap first.
    pub nodes: Vec<Node>,
    /// The switch namespace, once made.
    pub switch: Option<String>,
    /// Whether `ip netns add` created /run/netns for us (down then removes it when empty).
    pub made_run_netns: bool,
    /// Seconds between scheduled highstates on the minions.
    pub schedule: u64,
}

/// Options of `lab up`.
pub struct UpOptions {
    /// How many nodes (a known layout).
    pub nodes: usize,
    /// Seconds between the minions' scheduled highstates.
    pub schedule: u64,
    /// The `halite` binary to run in the nodes.
    pub halite: PathBuf,
    /// The state and pillar tree (examples/cluster).
    pub tree: PathBuf,
    /// Where downloaded packages are kept between labs.
    pub cache: PathBuf,
}

impl Lab {
    /// Load the record of the lab in `dir`.
    pub fn load(dir: &Path) -> Result<Lab> {
        let f = dir.join("lab.json");
        let text = std::fs::read_to_string(&f).map_err(|e| {
            format!(
                "no lab in {} ({}: {e}); run `lab up`",
                dir.display(),
                f.display()
            )
        })?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))
    }

    fn save(&self) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        write(&self.dir.join("lab.json"), &text)
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Result<&Node> {
        self.nodes
            .iter()
            .find(|n| n.spec.name == name)
            .ok_or_else(|| format!("no node {name} in this lab"))
    }

    /// The bootstrap node (master, repository).
    pub fn bootstrap(&self) -> Result<&Node> {
        self.nodes
            .iter()
            .find(|n| n.spec.roles.iter().any(|r| r == "bootstrap"))
            .ok_or_else(|| "the layout has no bootstrap node".to_string())
    }

    /// Node specs.
    pub fn specs(&self) -> Vec<NodeSpec> {
        self.nodes.iter().map(|n| n.spec.clone()).collect()
    }
}

/// Bring a lab up in `dir`: namespaces, node trees, systemds, the repository, the bootstrap
/// node configured by `salt-call --local` (its repository server and the master's settings),
/// the master, the minions, their keys accepted.
pub fn up(dir: &Path, o: &UpOptions) -> Result<Lab> {
    if dir.join("lab.json").exists() {
        let lab = Lab::load(dir)?;
        if lab.nodes.iter().any(|n| n.pid1.is_some()) {
            return Err(format!(
                "a lab is already up in {} (lab down first)",
                dir.display()
            ));
        }
        down(dir)?;
    }
    if dir.exists()
        && !dir.join(MARKER).exists()
        && dir.read_dir().is_ok_and(|mut d| d.next().is_some())
    {
        return Err(format!(
            "{} exists, is not empty and is not a lab's",
            dir.display()
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    write(&dir.join(MARKER), "")?;
    let specs = crate::layout::layout(o.nodes)?;
    let mut lab = Lab {
        dir: dir.to_path_buf(),
        nodes: specs
            .iter()
            .map(|s| Node {
                spec: s.clone(),
                dir: dir.join("nodes").join(&s.name),
                netns: netns::of(&s.name),
                pid1: None,
                unshare_pid: None,
                cgroup: None,
            })
            .collect(),
        switch: None,
        made_run_netns: !Path::new("/run/netns").exists(),
        schedule: o.schedule,
    };
    lab.save()?;
    let r = build(&mut lab, o);
    lab.save()?;
    if let Err(e) = r {
        let _ = down(dir);
        return Err(e);
    }
    Ok(lab)
}

fn step(what: &str) {
    eprintln!("lab: {what}");
}

fn build(lab: &mut Lab, o: &UpOptions) -> Result<()> {
    let t0 = Instant::now();
    let bin = lab.dir.join("bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("{}: {e}", bin.display()))?;
    let halite = bin.join("halite");
    std::fs::copy(&o.halite, &halite).map_err(|e| format!("{}: {e}", o.halite.display()))?;
    step("building the cluster repository (stand-in packages + Debian's etcd-server)");
    let repo = lab.dir.join("repo");
    bash(
        BUILD_REPO,
        &[&repo.to_string_lossy(), &o.cache.to_string_lossy()],
        "building the repository",
    )?;
    step("network namespaces");
    netns::create_switch()?;
    lab.switch = Some(netns::switch());
    lab.save()?;
    let specs = lab.specs();
    for (i, n) in lab.nodes.iter().enumerate() {
        netns::create_node(i + 1, &n.spec.name, &n.spec.ip)?;
    }
    let boot_ip = lab.bootstrap()?.spec.ip.clone();
    for n in &lab.nodes {
        node::prepare(
            n,
            &specs,
            &halite,
            &tree::minion_config(&n.spec, &boot_ip, lab.schedule),
        )?;
    }
    let b = lab.bootstrap()?.clone();
    tree::install(&b, &o.tree, &repo, &specs)?;
    let keep = vec![lab.dir.clone()];
    for i in 0..lab.nodes.len() {
        step(&format!("booting {}", lab.nodes[i].spec.name));
        let r = node::start(&mut lab.nodes[i], &keep);
        lab.save()?;
        r?;
    }
    let b = lab.bootstrap()?.clone();
    step("bootstrap node: salt-call --local state.apply roles.bootstrap (repository server, master settings)");
    let mut c = b.command("salt-call")?;
    c.args([
        "--local",
        "--retcode-passthrough",
        "--state-output=terse",
        "state.apply",
        "roles.bootstrap",
    ]);
    let out = crate::sh::output(&mut c, "bootstrap apply")?;
    if !out.status.success() {
        return Err(format!(
            "the bootstrap node's local apply failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    b.sh("systemctl enable --now salt-master.service")?;
    step("accepting the minion keys");
    accept_keys(&b, lab.nodes.len())?;
    wait_for_minions(&b, lab.nodes.len())?;
    step(&format!(
        "{} nodes up in {:.1}s",
        lab.nodes.len(),
        t0.elapsed().as_secs_f64()
    ));
    Ok(())
}

fn accept_keys(b: &Node, n: usize) -> Result<()> {
    let t0 = Instant::now();
    loop {
        let pending = b.sh("salt-key -l un --out=json 2>/dev/null || true")?;
        let count = serde_json::from_str::<serde_json::Value>(&pending)
            .ok()
            .and_then(|v| {
                v.get("minions_pre")
                    .and_then(|l| l.as_array())
                    .map(Vec::len)
            })
            .unwrap_or(0);
        if count >= n {
            b.sh("salt-key -A -y >/dev/null")?;
            return Ok(());
        }
        if t0.elapsed() > Duration::from_secs(60) {
            return Err(format!(
                "only {count} of {n} minion keys arrived within 60 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn wait_for_minions(b: &Node, n: usize) -> Result<()> {
    let t0 = Instant::now();
    loop {
        let out = b.sh("salt '*' test.ping --out=json --static -t 5 2>/dev/null || true")?;
        let up = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&out)
            .map(|m| {
                m.values()
                    .filter(|v| **v == serde_json::Value::Bool(true))
                    .count()
            })
            .unwrap_or(0);
        if up >= n {
            return Ok(());
        }
        if t0.elapsed() > Duration::from_secs(60) {
            return Err(format!(
                "only {up} of {n} minions answer test.ping within 60 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Take the lab in `dir` down: every node's systemd (and all in it), the namespaces, the
/// cgroups, the directory. The download cache is kept.
pub fn down(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.join(MARKER).exists() {
        return Err(format!("{} is not a lab's directory", dir.display()));
    }
    let mut errors = vec![];
    if let Ok(mut lab) = Lab::load(dir) {
        for n in lab.nodes.iter_mut() {
            if let Err(e) = node::stop(n) {
                errors.push(e);
            }
        }
        for n in &lab.nodes {
            if let Err(e) = netns::delete(&n.netns) {
                errors.push(e);
            }
        }
        if let Some(sw) = &lab.switch {
            if let Err(e) = netns::delete(sw) {
                errors.push(e);
            }
        }
        if lab.made_run_netns {
            let empty = std::fs::read_dir("/run/netns").is_ok_and(|mut d| d.next().is_none());
            if empty {
                let _ = crate::sh::run(
                    std::process::Command::new("umount").arg("/run/netns"),
                    "umount /run/netns",
                );
                let _ = std::fs::remove_dir("/run/netns");
            }
        }
        let _ = lab.save();
    }
    if !errors.is_empty() {
        return Err(errors.join("\n"));
    }
    std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}
