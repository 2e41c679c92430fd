//! The demo: a cluster brought up, converged with `salt '*' state.highstate`, then the story —
//! a worker moves to `infra` by an edit of topology.sls, a control-plane node leaves etcd,
//! broken topologies are refused, a deleted kubelet config comes back through drift watch
//! (and, with it paused, through the scheduled highstate). Every
//! step is checked; the first failed check ends the demo with an error (the end-to-end test
//! runs it).

use crate::lab::{self, Lab, UpOptions};
use crate::layout::{topology_sls, NodeSpec};
use crate::node::Node;
use crate::sh::{output, Result};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

/// One highstate's returns: minion -> what it returned.
type Run = BTreeMap<String, Outcome>;

/// What one minion returned.
enum Outcome {
    /// States: state key -> (state id, result, has changes).
    States(BTreeMap<String, (String, bool, bool)>),
    /// A list of errors (render or pillar failures): no state ran.
    Errors(Vec<String>),
}

struct Down<'a>(&'a Path, bool);
impl Drop for Down<'_> {
    fn drop(&mut self) {
        if !self.1 {
            if let Err(e) = lab::down(self.0) {
                eprintln!("lab: down: {e}");
            }
        }
    }
}

fn say(s: &str) {
    println!("\n== {s}");
}

fn check(ok: bool, what: &str) -> Result<()> {
    if ok {
        println!("   ok: {what}");
        Ok(())
    } else {
        Err(format!("check failed: {what}"))
    }
}

/// `salt '*' state.highstate` on the bootstrap node, queued behind scheduled runs.
fn highstate(b: &Node) -> Result<(Run, f64)> {
    let t0 = Instant::now();
    let mut c = b.command("salt")?;
    c.args([
        "*",
        "state.highstate",
        "queue=True",
        "--out=json",
        "--static",
        "-t",
        "900",
    ]);
    let out = output(&mut c, "salt '*' state.highstate")?;
    let secs = t0.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    let doc: Map<String, Value> = serde_json::from_str(&text).map_err(|e| {
        format!(
            "highstate output is not JSON ({e}):\n{text}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let mut run = Run::new();
    for (minion, ret) in doc {
        let outcome = match ret {
            Value::Object(states) => Outcome::States(
                states
                    .iter()
                    .map(|(key, s)| {
                        let id = s
                            .get("__id__")
                            .and_then(Value::as_str)
                            .unwrap_or(key)
                            .to_string();
                        let result = s.get("result") == Some(&Value::Bool(true));
                        let changed = s
                            .get("changes")
                            .and_then(Value::as_object)
                            .is_some_and(|c| !c.is_empty());
                        (key.clone(), (id, result, changed))
                    })
                    .collect(),
            ),
            Value::Array(errs) => Outcome::Errors(
                errs.iter()
                    .map(|e| e.as_str().map_or(e.to_string(), str::to_string))
                    .collect(),
            ),
            other => Outcome::Errors(vec![other.to_string()]),
        };
        run.insert(minion, outcome);
    }
    Ok((run, secs))
}

fn print_run(run: &Run, secs: f64) {
    println!(
        "   {:<10} {:>6} {:>8} {:>7}",
        "node", "states", "changed", "failed"
    );
    for (m, o) in run {
        match o {
            Outcome::States(s) => {
                let changed = s.values().filter(|(_, _, c)| *c).count();
                let failed = s.values().filter(|(_, r, _)| !*r).count();
                println!("   {m:<10} {:>6} {changed:>8} {failed:>7}", s.len());
            }
            Outcome::Errors(e) => println!("   {m:<10} error: {}", e.join(" | ")),
        }
    }
    println!("   ({secs:.1} s)");
}

fn all_true(run: &Run, nodes: usize) -> bool {
    run.len() == nodes
        && run
            .values()
            .all(|o| matches!(o, Outcome::States(s) if s.values().all(|(_, r, _)| *r)))
}

/// Changed state ids per minion.
fn changed(run: &Run) -> BTreeMap<String, BTreeSet<String>> {
    run.iter()
        .map(|(m, o)| {
            let ids = match o {
                Outcome::States(s) => s
                    .values()
                    .filter(|(_, _, c)| *c)
                    .map(|(id, _, _)| id.clone())
                    .collect(),
                Outcome::Errors(_) => BTreeSet::new(),
            };
            (m.clone(), ids)
        })
        .collect()
}

fn print_changed(run: &Run) {
    for (m, ids) in changed(run) {
        if !ids.is_empty() {
            println!("   {m}: {}", ids.into_iter().collect::<Vec<_>>().join(", "));
        }
    }
}

/// Every change in `run` is one of `expected`. A scheduled highstate (queued beside the demo's
/// run) may have made some of them first, so fewer is fine; the end state is checked on the
/// nodes themselves (`check_cluster`).
fn only_expected(run: &Run, expected: &BTreeMap<&str, Vec<&str>>) -> bool {
    changed(run).iter().all(|(m, ids)| {
        let want: BTreeSet<String> = expected
            .get(m.as_str())
            .map(|v| v.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        ids.is_subset(&want)
    })
}

/// `salt <minion> <fun>` from the bootstrap node; the minion must answer `True`.
fn minion_call(b: &Node, minion: &str, fun: &str) -> Result<()> {
    let mut c = b.command("salt")?;
    c.args([minion, fun, "--out=json", "--static", "-t", "30"]);
    let out = output(&mut c, &format!("salt {minion} {fun}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| format!("salt {minion} {fun}: {e}: {text}"))?;
    check(
        doc.get(minion) == Some(&Value::Bool(true)),
        &format!("salt {minion} {fun}"),
    )
}

/// The drift repairs of `minion` that `salt-run drift.report` lists (newest first), each
/// as `<state tag> (<trigger kind> <path|name>)`.
fn drift_repairs(b: &Node, minion: &str) -> Result<Vec<String>> {
    let mut c = b.command("salt-run")?;
    c.args([
        "drift.report",
        &format!("minion={minion}"),
        "count=100",
        "--out=json",
    ]);
    let out = output(&mut c, "salt-run drift.report")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| format!("salt-run drift.report: {e}: {text}"))?;
    Ok(doc
        .get(minion)
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .map(|r| {
                    let t = &r["trigger"];
                    let what = t
                        .get("path")
                        .or_else(|| t.get("name"))
                        .and_then(Value::as_str);
                    format!(
                        "{} ({} {})",
                        r["state"].as_str().unwrap_or("?"),
                        t["kind"].as_str().unwrap_or("?"),
                        what.unwrap_or("?")
                    )
                })
                .collect()
        })
        .unwrap_or_default())
}

/// etcd's member names, as etcdctl on the bootstrap node lists them.
fn etcd_members(b: &Node) -> Result<BTreeSet<String>> {
    let out = b.sh(&format!(
        "ETCDCTL_API=3 etcdctl --endpoints=http://{}:2379 member list -w json",
        b.spec.ip
    ))?;
    let v: Value =
        serde_json::from_str(&out).map_err(|e| format!("etcdctl member list: {e}: {out}"))?;
    Ok(v.get("members")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|m| m.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

/// The roles and taints the node's kubelet files carry.
fn kubelet_view(n: &Node) -> (String, String) {
    let env = n.read("/etc/default/kubelet").unwrap_or_default();
    let labels = env
        .split_whitespace()
        .find_map(|w| w.trim_matches('"').strip_prefix("--node-labels="))
        .unwrap_or("")
        .to_string();
    let config = n.read("/var/lib/kubelet/config.yaml").unwrap_or_default();
    let taints: Vec<String> = config
        .lines()
        .skip_while(|l| !l.starts_with("registerWithTaints:"))
        .skip(1)
        .take_while(|l| l.starts_with(' ') || l.starts_with('-'))
        .filter_map(|l| {
            l.trim()
                .trim_start_matches("- ")
                .strip_prefix("key: ")
                .map(str::to_string)
        })
        .collect();
    (labels, taints.join(","))
}

/// The `--etcd-servers` of the node's kube-apiserver static pod ("" without one).
fn apiserver_etcd_servers(n: &Node) -> String {
    n.read("/etc/kubernetes/manifests/kube-apiserver.yaml")
        .unwrap_or_default()
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .find_map(|w| w.strip_prefix("--etcd-servers="))
        .unwrap_or("")
        .to_string()
}

/// The taints topology.sls implies for roles (pillar/node.sls's rule).
fn expected_taints(roles: &[String]) -> String {
    if roles.iter().any(|r| r == "node") {
        return String::new();
    }
    roles
        .iter()
        .map(|r| format!("node-role.kubernetes.io/{r}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn expected_labels(roles: &[String]) -> String {
    let mut r: Vec<&String> = roles.iter().collect();
    r.sort();
    r.iter()
        .map(|r| format!("node.kubernetes.io/role-{r}="))
        .collect::<Vec<_>>()
        .join(",")
}

fn print_cluster(lab: &Lab, specs: &[NodeSpec]) -> Result<()> {
    let b = lab.bootstrap()?;
    let members = etcd_members(b)?;
    println!(
        "   etcd members: {}",
        members.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    for s in specs {
        let (labels, taints) = kubelet_view(lab.node(&s.name)?);
        println!(
            "   {:<10} roles [{}]  kubelet labels {}  taints {}",
            s.name,
            s.roles.join(", "),
            if labels.is_empty() { "-" } else { &labels },
            if taints.is_empty() { "-" } else { &taints }
        );
    }
    Ok(())
}

fn check_cluster(lab: &Lab, specs: &[NodeSpec]) -> Result<()> {
    let want: BTreeSet<String> = specs
        .iter()
        .filter(|s| s.roles.iter().any(|r| r == "etcd"))
        .map(|s| s.name.clone())
        .collect();
    check(
        etcd_members(lab.bootstrap()?)? == want,
        "`etcdctl member list` equals the etcd nodes of topology.sls",
    )?;
    // In the order of the ids, as k8s.minions_by_role gives them (`want` is sorted).
    let etcd_servers = want
        .iter()
        .filter_map(|id| specs.iter().find(|s| &s.name == id))
        .map(|s| format!("http://{}:2379", s.ip))
        .collect::<Vec<_>>()
        .join(",");
    for s in specs
        .iter()
        .filter(|s| s.roles.iter().any(|r| r == "master"))
    {
        check(
            apiserver_etcd_servers(lab.node(&s.name)?) == etcd_servers,
            &format!(
                "{}: kube-apiserver's --etcd-servers are the etcd nodes",
                s.name
            ),
        )?;
    }
    for s in specs {
        let (labels, taints) = kubelet_view(lab.node(&s.name)?);
        check(
            labels == expected_labels(&s.roles) && taints == expected_taints(&s.roles),
            &format!("{}: kubelet files carry its role labels and taints", s.name),
        )?;
    }
    Ok(())
}

/// The minions that answer `salt <target> test.ping`.
fn answering(b: &Node, target: &[&str]) -> Result<BTreeSet<String>> {
    let mut c = b.command("salt")?;
    c.args(target)
        .args(["test.ping", "--out=json", "--static", "-t", "30"]);
    let out = output(&mut c, "salt test.ping")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let doc: Map<String, Value> = serde_json::from_str(&text)
        .map_err(|e| format!("salt {} test.ping: {e}: {text}", target.join(" ")))?;
    Ok(doc
        .into_iter()
        .filter(|(_, v)| *v == Value::Bool(true))
        .map(|(m, _)| m)
        .collect())
}

fn targets(b: &Node, specs: &[NodeSpec]) -> Result<()> {
    let with = |role: &str, without: Option<&str>| -> BTreeSet<String> {
        specs
            .iter()
            .filter(|s| s.roles.iter().any(|r| r == role))
            .filter(|s| without.is_none_or(|w| !s.roles.iter().any(|r| r == w)))
            .map(|s| s.name.clone())
            .collect()
    };
    let etcd = answering(b, &["-N", "etcd"])?;
    println!(
        "   salt -N etcd: {}",
        etcd.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    check(
        etcd == with("etcd", None),
        "the etcd nodegroup is the etcd nodes",
    )?;
    let cp = answering(b, &["-C", "I@roles:master and not I@roles:bootstrap"])?;
    println!(
        "   salt -C 'I@roles:master and not I@roles:bootstrap': {}",
        cp.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    check(
        cp == with("master", Some("bootstrap")),
        "the compound match is the control-plane nodes but the bootstrap node",
    )
}

/// Write the bootstrap node's /srv/pillar/topology.sls (what an operator's edit does).
fn edit_topology(b: &Node, text: &str) -> Result<()> {
    b.write("/srv/pillar/topology.sls", text)
}

fn converged_again(b: &Node, nodes: usize) -> Result<()> {
    let (run, secs) = highstate(b)?;
    print_run(&run, secs);
    check(all_true(&run, nodes), "every state result is True")?;
    check(changed(&run).values().all(BTreeSet::is_empty), "0 changes")
}

fn bad_topologies(b: &Node, specs: &[NodeSpec], nodes: usize) -> Result<()> {
    let header = "# A broken topology (the demo checks that it is refused).\n";
    let mut unknown = specs.to_vec();
    unknown[0].roles.push("etc".into());
    let mut no_ip = specs.to_vec();
    let last = no_ip.len() - 1;
    no_ip[last].ip = String::new();
    let mut no_etcd = specs.to_vec();
    for s in no_etcd.iter_mut() {
        s.roles.retain(|r| r != "etcd");
    }
    let no_ip_text = topology_sls(&no_ip, header).replace("      ip: \n", "");
    let cases = [
        (
            "an unknown role",
            topology_sls(&unknown, header),
            format!("topology:nodes:{}:roles: unknown role 'etc'", specs[0].name),
        ),
        (
            "a node without an IP",
            no_ip_text,
            format!("topology:nodes:{}:ip is missing", specs[last].name),
        ),
        (
            "no etcd member left",
            topology_sls(&no_etcd, header),
            "no node has the etcd role".to_string(),
        ),
    ];
    let good = b
        .read("/srv/pillar/topology.sls")
        .ok_or("cannot read topology.sls")?;
    for (what, text, key) in cases {
        edit_topology(b, &text)?;
        let (run, _) = highstate(b)?;
        let refused = run.len() == nodes
            && run.values().all(|o| {
                matches!(o, Outcome::Errors(e) if e.iter().any(|l| l.contains("topology.sls") && l.contains(&key)))
            });
        if let Some((m, Outcome::Errors(e))) = run.iter().next() {
            let line = e
                .iter()
                .flat_map(|l| l.lines())
                .find(|l| l.contains(&key) && l.contains("topology.sls"))
                .unwrap_or("");
            println!("   {what}: {m}: {}", line.trim());
        }
        check(
            refused,
            &format!("{what}: every node refuses with a message naming topology.sls and the key"),
        )?;
    }
    edit_topology(b, &good)?;
    say("topology.sls restored: nothing changed anywhere");
    converged_again(b, nodes)
}

/// Run the demo in `dir`; the lab is taken down at the end unless `keep`.
pub fn run(dir: &Path, o: &UpOptions, keep: bool) -> Result<u8> {
    say(&format!(
        "lab up: {} nodes, each its own network namespace, mount namespace and systemd",
        o.nodes
    ));
    let lab = lab::up(dir, o)?;
    let _down = Down(dir, keep);
    let b = lab.bootstrap()?.clone();
    let n = lab.nodes.len();
    let mut specs = lab.specs();

    say("salt '*' state.highstate");
    let (run, secs) = highstate(&b)?;
    print_run(&run, secs);
    check(
        all_true(&run, n),
        "every state result is True on every node",
    )?;
    print_cluster(&lab, &specs)?;
    check_cluster(&lab, &specs)?;

    say(
        "targeting by role: nodegroups (written by the bootstrap role) and compound pillar matches",
    );
    targets(&b, &specs)?;

    say("salt '*' state.highstate again: nothing to do");
    converged_again(&b, n)?;

    let worker = specs
        .iter()
        .position(|s| s.roles == ["node"])
        .ok_or("no worker in the layout")?;
    let wname = specs[worker].name.clone();
    say(&format!(
        "topology.sls: {wname} moves from `node` to `infra`; salt '*' state.highstate"
    ));
    specs[worker].roles = vec!["infra".into()];
    edit_topology(
        &b,
        &topology_sls(
            &specs,
            "# Edited by the demo: the worker became an infra node.\n",
        ),
    )?;
    let (run, secs) = highstate(&b)?;
    print_run(&run, secs);
    print_changed(&run);
    check(all_true(&run, n), "every state result is True")?;
    let expected = BTreeMap::from([(
        wname.as_str(),
        vec!["kubelet", "kubelet-config", "static-pod-ingress-controller"],
    )]);
    check(
        only_expected(&run, &expected),
        &format!("only {wname}'s kubelet config, kubelet restart and ingress pod changed"),
    )?;
    check_cluster(&lab, &specs)?;

    let leaver = specs
        .iter()
        .rposition(|s| {
            s.roles.iter().any(|r| r == "etcd") && !s.roles.iter().any(|r| r == "bootstrap")
        })
        .ok_or("no etcd node to take the role from")?;
    let lname = specs[leaver].name.clone();
    say(&format!(
        "topology.sls: {lname} loses `etcd`; salt '*' state.highstate"
    ));
    specs[leaver].roles.retain(|r| r != "etcd");
    edit_topology(
        &b,
        &topology_sls(
            &specs,
            "# Edited by the demo: a control-plane node left etcd.\n",
        ),
    )?;
    let (run, secs) = highstate(&b)?;
    print_run(&run, secs);
    print_changed(&run);
    check(
        all_true(&run, n),
        "every state result is True (etcd healthy on the others)",
    )?;
    // The leaver leaves etcd and its kubelet follows its roles; every control-plane node's
    // kube-apiserver gets the new --etcd-servers.
    let mut expected: BTreeMap<&str, Vec<&str>> = specs
        .iter()
        .filter(|s| s.roles.iter().any(|r| r == "master"))
        .map(|s| (s.name.as_str(), vec!["static-pod-kube-apiserver"]))
        .collect();
    expected.entry(lname.as_str()).or_default().extend([
        "etcd-member-removed",
        "kubelet",
        "kubelet-config",
    ]);
    check(
        only_expected(&run, &expected),
        &format!("only the expected changes: {lname} left etcd (kubelet config, restart), the apiservers' etcd servers"),
    )?;
    check(
        lab.node(&lname)?
            .sh("systemctl is-active etcd || true")?
            .trim()
            != "active",
        &format!("etcd stopped on {lname}"),
    )?;
    print_cluster(&lab, &specs)?;
    check_cluster(&lab, &specs)?;

    say("broken topologies are refused before any state runs");
    bad_topologies(&b, &specs, n)?;

    let victim = lab.node(&wname)?;
    say(&format!(
        "{wname}: rm /var/lib/kubelet/config.yaml; drift watch restores it at once"
    ));
    let before = drift_repairs(&b, &wname)?;
    victim.sh("rm -f /var/lib/kubelet/config.yaml")?;
    let t0 = Instant::now();
    while victim.read("/var/lib/kubelet/config.yaml").is_none()
        && t0.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    check(
        victim.read("/var/lib/kubelet/config.yaml").is_some(),
        &format!("restored after {} ms", t0.elapsed().as_millis()),
    )?;
    let t1 = Instant::now();
    let mut repairs = drift_repairs(&b, &wname)?;
    while repairs.len() <= before.len() && t1.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(500));
        repairs = drift_repairs(&b, &wname)?;
    }
    let newest = repairs.first().cloned().unwrap_or_default();
    check(
        repairs.len() > before.len() && newest.contains("kubelet-config"),
        &format!("salt-run drift.report: {wname} {newest}"),
    )?;

    say(&format!(
        "{wname}: salt {wname} drift.pause (maintenance); rm it again; the scheduled highstate (every {} s) restores it",
        lab.schedule
    ));
    minion_call(&b, &wname, "drift.pause")?;
    victim.sh("rm -f /var/lib/kubelet/config.yaml")?;
    let t0 = Instant::now();
    let limit = Duration::from_secs(lab.schedule + 120);
    while victim.read("/var/lib/kubelet/config.yaml").is_none() && t0.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(500));
    }
    let back = victim.read("/var/lib/kubelet/config.yaml").is_some();
    // End the maintenance first: a failed check below must not leave the lab paused.
    minion_call(&b, &wname, "drift.resume")?;
    check(
        back,
        &format!("restored after {:.0} s", t0.elapsed().as_secs_f64()),
    )?;
    let (labels, taints) = kubelet_view(victim);
    check(
        labels == expected_labels(&specs[worker].roles)
            && taints == expected_taints(&specs[worker].roles),
        "with the node's current roles and taints",
    )?;
    say("demo complete");
    if keep {
        println!(
            "   the lab stays up in {} (lab down to remove it)",
            dir.display()
        );
    }
    Ok(0)
}
