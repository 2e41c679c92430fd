//! `etcd.*` against a real etcd (Debian's etcd-server 3.4 on 127.0.0.1, free ports, data in
//! a temp dir). Each member is started the way `etcd.service` starts it: `/usr/bin/etcd`
//! with the variables of the environment file the states wrote, and nothing else.
//!
//! Every etcd started here is ended by its PID (SIGTERM, then SIGKILL) by a guard, and its
//! data lives in the test's temp dir, so a failing assertion leaves nothing behind.

use halite_core::{Error, Functions, Map, Result, Value};
use halite_k8s::etcd::envfile::EnvFile;
use halite_k8s::ExecContext;
use halite_states::modules::{Registry, StateCall};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ETCD: &str = "/usr/bin/etcd";

/// No execution functions: the etcd states do not call any.
struct NoFunctions;

impl Functions for NoFunctions {
    fn call(&self, name: &str, _args: &[Value], _kwargs: &Map) -> Result<Value> {
        Err(Error::NotAvailable(name.into()))
    }

    fn exists(&self, _name: &str) -> bool {
        false
    }
}

fn map(pairs: &[(&str, Value)]) -> Map {
    let mut m = Map::default();
    for (k, v) in pairs {
        m.insert((*k).into(), v.clone());
    }
    m
}

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::from(*s)).collect())
}

/// Run the state `fun` on a chunk with `name` and `args`.
fn state(fun: &str, name: &str, args: &[(&str, Value)], test: bool) -> Map {
    let mut r = Registry::new();
    halite_k8s::register(&mut r);
    let f = r
        .get(fun)
        .unwrap_or_else(|| panic!("{fun} is not registered"));
    let mut low = map(args);
    low.insert("name".into(), name.into());
    let opts = map(&[("id", "test-minion".into())]);
    let running = Default::default();
    let c = StateCall {
        low: &low,
        test,
        functions: &NoFunctions,
        opts: &opts,
        reqs: None,
        running: &running,
    };
    let out = f(&c).unwrap_or_else(|e| panic!("{fun} raised: {e}"));
    eprintln!("{fun}({name}, test={test}) -> {out:?}");
    out
}

fn result(r: &Map) -> Option<bool> {
    r.get("result").and_then(Value::as_bool)
}

fn comment(r: &Map) -> &str {
    r.get("comment").and_then(Value::as_str).unwrap_or("")
}

fn changes(r: &Map) -> &Map {
    r.get("changes").and_then(Value::as_map).expect("changes")
}

/// Run the execution function `fun`.
fn exec(fun: &str, kwargs: &[(&str, Value)], opts: &Map) -> Result<Value> {
    let ctx = ExecContext {
        opts,
        grains: &Value::Null,
        pillar: &Value::Null,
        functions: &NoFunctions,
    };
    halite_k8s::call(&ctx, fun, &[], &map(kwargs))
}

/// A 127.0.0.1 port nobody listens on right now.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Member names from `etcd.member_list`.
fn member_names(endpoints: &[&str]) -> Vec<String> {
    let members = exec(
        "etcd.member_list",
        &[("endpoints", list(endpoints))],
        &Map::default(),
    )
    .expect("member_list");
    members
        .as_list()
        .expect("a list")
        .iter()
        .map(|m| {
            m.get("name")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string()
        })
        .collect()
}

/// An etcd process started by this test, ended by its PID on drop.
struct EtcdProcess {
    child: Child,
    log: PathBuf,
}

impl EtcdProcess {
    /// Start etcd with exactly the variables of the environment file `config` (as
    /// `EnvironmentFile=` gives them), and wait until `endpoint` is healthy.
    fn start(config: &Path, endpoint: &str) -> EtcdProcess {
        let text = std::fs::read_to_string(config).unwrap();
        let vars = EnvFile::parse(&text).vars();
        let log = config.with_extension("log");
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = Command::new(ETCD)
            .env_clear()
            .envs(vars)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start etcd");
        let proc = EtcdProcess { child, log };
        proc.wait_healthy(endpoint);
        proc
    }

    fn wait_healthy(&self, endpoint: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let health = exec(
                "etcd.health",
                &[("endpoints", list(&[endpoint]))],
                &Map::default(),
            )
            .expect("health");
            let ok = health
                .get(endpoint)
                .and_then(|h| h.get("health"))
                .and_then(Value::as_bool);
            if ok == Some(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "etcd at {endpoint} not healthy after 30 s: {health:?}\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for EtcdProcess {
    fn drop(&mut self) {
        // While not waited for, the PID stays ours (a zombie at worst): no reuse race.
        if let Ok(None) = self.child.try_wait() {
            let pid = self.child.id().to_string();
            let _ = Command::new("kill").args(["-TERM", &pid]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while let Ok(None) = self.child.try_wait() {
                if Instant::now() > deadline {
                    let _ = self.child.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.wait();
    }
}

/// The files and ports of one member of the test cluster.
struct Node {
    name: &'static str,
    config: PathBuf,
    data_dir: PathBuf,
    client: String,
    peer: String,
    client_port: u16,
    peer_port: u16,
}

impl Node {
    fn new(dir: &Path, name: &'static str) -> Node {
        let (client_port, peer_port) = (free_port(), free_port());
        Node {
            name,
            config: dir.join(format!("{name}.env")),
            data_dir: dir.join(name).join("data"),
            client: format!("http://127.0.0.1:{client_port}"),
            peer: format!("http://127.0.0.1:{peer_port}"),
            client_port,
            peer_port,
        }
    }

    fn config_str(&self) -> String {
        self.config.display().to_string()
    }

    fn configured(&self, test: bool) -> Map {
        state(
            "etcd.configured",
            &self.config_str(),
            &[
                ("member_name", self.name.into()),
                ("ip", "127.0.0.1".into()),
                ("client_port", i64::from(self.client_port).into()),
                ("peer_port", i64::from(self.peer_port).into()),
                ("data_dir", self.data_dir.display().to_string().into()),
                ("cluster_token", "halite-test".into()),
            ],
            test,
        )
    }

    fn present(&self, endpoints: &[&str], bootstrap: bool, test: bool) -> Map {
        self.present_with(endpoints, bootstrap, test, Map::default())
    }

    fn present_with(&self, endpoints: &[&str], bootstrap: bool, test: bool, names: Map) -> Map {
        state(
            "etcd.member_present",
            self.name,
            &[
                ("peer_url", self.peer.as_str().into()),
                ("endpoints", list(endpoints)),
                ("config", self.config_str().into()),
                ("bootstrap", bootstrap.into()),
                ("wait", 90.into()),
                ("interval", 1.into()),
                ("peer_names", Value::Map(names)),
            ],
            test,
        )
    }

    fn absent(&self, endpoints: &[&str], test: bool) -> Map {
        state(
            "etcd.member_absent",
            self.name,
            &[
                ("endpoints", list(endpoints)),
                ("config", self.config_str().into()),
                ("service", service_arg()),
                ("wait", 60.into()),
                ("interval", 1.into()),
            ],
            test,
        )
    }

    fn env(&self) -> EnvFile {
        EnvFile::parse(&std::fs::read_to_string(&self.config).unwrap())
    }
}

/// The local service step of `member_absent`: the host's systemd is never touched.
fn service_arg() -> Value {
    if halite_states::exec::systemd::booted() {
        Value::Null
    } else {
        "etcd".into()
    }
}

#[test]
fn etcd_member_lifecycle_on_a_real_cluster() {
    if !Path::new(ETCD).exists() {
        eprintln!("skipping: {ETCD} is missing (apt-get install etcd-server)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dead = format!("http://127.0.0.1:{}", free_port());
    let n1 = Node::new(tmp.path(), "n1");
    let m2 = Node::new(tmp.path(), "m2");

    // --- etcd.configured: test mode writes nothing, then a new file, then idempotent.
    let r = n1.configured(true);
    assert_eq!(result(&r), None);
    assert!(changes(&r).contains_key(n1.config_str().as_str()));
    assert!(!n1.config.exists());
    let r = n1.configured(false);
    assert_eq!(result(&r), Some(true));
    assert_eq!(comment(&r), "etcd configuration updated");
    assert_eq!(
        changes(&r)
            .get(n1.config_str().as_str())
            .and_then(|c| c.get("diff")),
        Some(&Value::from("New file"))
    );
    let r = n1.configured(false);
    assert_eq!(result(&r), Some(true));
    assert!(changes(&r).is_empty());
    assert_eq!(comment(&r), "etcd configuration is in the correct state");
    assert_eq!(
        n1.env().get("ETCD_LISTEN_CLIENT_URLS"),
        Some(n1.client.clone())
    );

    // --- bootstrap: nobody answers, bootstrap allowed -> state new (test mode first).
    let before = std::fs::read_to_string(&n1.config).unwrap();
    let r = n1.present(&[&dead], true, true);
    assert_eq!(result(&r), None);
    assert_eq!(changes(&r).get("bootstrapped"), Some(&Value::from("n1")));
    assert_eq!(std::fs::read_to_string(&n1.config).unwrap(), before);
    let r = n1.present(&[&dead], true, false);
    assert_eq!(result(&r), Some(true), "{}", comment(&r));
    assert_eq!(changes(&r).get("bootstrapped"), Some(&Value::from("n1")));
    let env = n1.env();
    assert_eq!(
        env.get("ETCD_INITIAL_CLUSTER_STATE").as_deref(),
        Some("new")
    );
    assert_eq!(
        env.get("ETCD_INITIAL_CLUSTER"),
        Some(format!("n1={}", n1.peer))
    );
    assert!(changes(&n1.present(&[&dead], true, false)).is_empty());

    let _p1 = EtcdProcess::start(&n1.config, &n1.client);
    // With data, membership is confirmed (here through the local endpoint).
    let r = n1.present(&[], true, false);
    assert_eq!(result(&r), Some(true), "{}", comment(&r));
    assert!(changes(&r).is_empty());
    assert!(comment(&r).contains("is in the cluster"), "{}", comment(&r));

    // --- join: test mode adds nothing and writes nothing.
    assert_eq!(result(&m2.configured(false)), Some(true));
    let before = std::fs::read_to_string(&m2.config).unwrap();
    let r = m2.present(&[&n1.client], false, true);
    assert_eq!(result(&r), None, "{}", comment(&r));
    assert_eq!(changes(&r).get("added"), Some(&Value::from("m2")));
    assert_eq!(std::fs::read_to_string(&m2.config).unwrap(), before);
    assert_eq!(member_names(&[&n1.client]), ["n1"]);

    // A dead endpoint first in the list is skipped.
    let r = m2.present(&[&dead, &n1.client], false, false);
    assert_eq!(result(&r), Some(true), "{}", comment(&r));
    assert_eq!(changes(&r).get("added"), Some(&Value::from("m2")));
    assert!(changes(&r).contains_key(m2.config_str().as_str()));
    let env = m2.env();
    assert_eq!(
        env.get("ETCD_INITIAL_CLUSTER_STATE").as_deref(),
        Some("existing")
    );
    // etcd lists members by id: either order is right.
    let cluster = env.get("ETCD_INITIAL_CLUSTER").unwrap_or_default();
    assert!(
        cluster == format!("n1={},m2={}", n1.peer, m2.peer)
            || cluster == format!("m2={},n1={}", m2.peer, n1.peer),
        "{cluster}"
    );
    assert_eq!(
        env.get("ETCD_NAME").as_deref(),
        Some("m2"),
        "configured's keys kept"
    );
    // Added but not started: not added again, nothing to change.
    let r = m2.present(&[&n1.client], false, false);
    assert_eq!(result(&r), Some(true), "{}", comment(&r));
    assert!(changes(&r).is_empty(), "{r:?}");
    let listed = exec(
        "etcd.member_list",
        &[("endpoints", list(&[&n1.client]))],
        &Map::default(),
    )
    .unwrap();
    let listed = listed.as_list().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        listed[0].get("name"),
        Some(&Value::from("")),
        "unstarted first"
    );
    assert_eq!(listed[0].get("peer_urls"), Some(&list(&[&m2.peer])));

    // --- start the new member from its file: both healthy.
    let _p2 = EtcdProcess::start(&m2.config, &m2.client);
    let r = state(
        "etcd.healthy",
        "etcd cluster",
        &[
            ("endpoints", list(&[&n1.client, &m2.client])),
            ("members", 2.into()),
            ("interval", 1.into()),
        ],
        false,
    );
    assert_eq!(result(&r), Some(true), "{}", comment(&r));
    assert_eq!(comment(&r), "etcd cluster is healthy: 2 members (m2, n1)");
    assert!(changes(&r).is_empty());
    assert_eq!(member_names(&[&m2.client]), ["m2", "n1"]);
    let ids = exec(
        "etcd.member_list",
        &[("endpoints", list(&[&m2.client]))],
        &Map::default(),
    )
    .unwrap();
    if Path::new("/usr/bin/etcdctl").exists() {
        let out = Command::new("/usr/bin/etcdctl")
            .env("ETCDCTL_API", "3")
            .args(["--endpoints", &n1.client, "member", "list"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for m in ids.as_list().unwrap() {
            let id = m.get("id").and_then(Value::as_str).unwrap();
            assert!(text.contains(&format!("{id}, started")), "{id} in {text}");
        }
    }
    let r = m2.present(&[&n1.client], false, false);
    assert_eq!(result(&r), Some(true), "{}", comment(&r));
    assert!(changes(&r).is_empty());

    let health = exec(
        "etcd.health",
        &[("endpoints", list(&[&n1.client, &m2.client, &dead]))],
        &Map::default(),
    )
    .unwrap();
    let h = |ep: &str| health.get(ep).and_then(|h| h.get("health")).cloned();
    assert_eq!(h(&n1.client), Some(Value::Bool(true)));
    assert_eq!(h(&m2.client), Some(Value::Bool(true)));
    assert_eq!(h(&dead), Some(Value::Bool(false)));
    assert_eq!(
        health.get(dead.as_str()).and_then(|h| h.get("error")),
        Some(&Value::from("connection refused"))
    );

    // --- member_absent: test mode removes nothing.
    let r = m2.absent(&[&n1.client, &m2.client], true);
    assert_eq!(result(&r), None, "{}", comment(&r));
    assert_eq!(changes(&r).get("removed"), Some(&Value::from("m2")));
    assert_eq!(member_names(&[&n1.client]), ["m2", "n1"]);
    assert!(m2.data_dir.join("member").is_dir());

    let r = m2.absent(&[&n1.client, &m2.client], false);
    assert_eq!(result(&r), Some(true), "{}", comment(&r));
    assert_eq!(changes(&r).get("removed"), Some(&Value::from("m2")));
    assert!(changes(&r).get("service").is_none(), "no systemd here");
    let moved = changes(&r).get("data_dir").expect("data_dir moved");
    assert_eq!(
        moved.get("old"),
        Some(&Value::from(m2.data_dir.display().to_string()))
    );
    let new = moved.get("new").and_then(Value::as_str).unwrap();
    assert!(new.starts_with(&format!("{}.removed-", m2.data_dir.display())));
    assert!(Path::new(new).join("member").is_dir() && !m2.data_dir.exists());
    assert_eq!(member_names(&[&n1.client]), ["n1"]);
    let r = m2.absent(&[&n1.client, &m2.client], false);
    assert_eq!(result(&r), Some(true));
    assert!(changes(&r).is_empty());
    assert_eq!(comment(&r), "etcd member m2 is not in the cluster");

    // --- the last member is never removed.
    let r = n1.absent(&[&n1.client, &m2.client], false);
    assert_eq!(result(&r), Some(false));
    assert_eq!(
        comment(&r),
        "refusing to remove n1: it is the last member of the etcd cluster"
    );
    assert!(changes(&r).is_empty());
    assert_eq!(member_names(&[&n1.client]), ["n1"]);
    assert!(n1.data_dir.join("member").is_dir());

    // --- healthy fails with the reason.
    let r = state(
        "etcd.healthy",
        "etcd cluster",
        &[
            ("endpoints", list(&[&n1.client])),
            ("members", 2.into()),
            ("retries", 2.into()),
            ("interval", 0.into()),
        ],
        false,
    );
    assert_eq!(result(&r), Some(false));
    assert!(
        comment(&r).ends_with("1 members, expected 2"),
        "{}",
        comment(&r)
    );

    // --- two members joining at once (as nodes running their highstates in parallel):
    // m4 is added (1 -> 2); m3's add is refused while m4 has not started (no quorum, then
    // the strict reconfiguration check) and goes through once it has.
    let m3 = Node::new(tmp.path(), "m3");
    let m4 = Node::new(tmp.path(), "m4");
    assert_eq!(result(&m3.configured(false)), Some(true));
    assert_eq!(result(&m4.configured(false)), Some(true));
    let r = m4.present(&[&n1.client], false, false);
    assert_eq!(changes(&r).get("added"), Some(&Value::from("m4")));
    let mut names = Map::default();
    names.insert(m4.peer.as_str().into(), "m4".into());
    let (r3, _p4) = std::thread::scope(|s| {
        let joining = s.spawn(|| m3.present_with(&[&n1.client], false, false, names.clone()));
        std::thread::sleep(Duration::from_secs(3));
        assert!(!joining.is_finished(), "m3 must wait for m4 to start");
        let p4 = EtcdProcess::start(&m4.config, &m4.client);
        (joining.join().unwrap(), p4)
    });
    assert_eq!(result(&r3), Some(true), "{}", comment(&r3));
    assert_eq!(changes(&r3).get("added"), Some(&Value::from("m3")));
    let cluster = m3.env().get("ETCD_INITIAL_CLUSTER").unwrap_or_default();
    for want in [
        format!("n1={}", n1.peer),
        format!("m3={}", m3.peer),
        format!("m4={}", m4.peer),
    ] {
        assert!(cluster.split(',').any(|p| p == want), "{want} in {cluster}");
    }
    let _p3 = EtcdProcess::start(&m3.config, &m3.client);
    let all = [n1.client.as_str(), &m3.client, &m4.client];
    let r = state(
        "etcd.healthy",
        "etcd cluster",
        &[
            ("endpoints", list(&all)),
            ("members", 3.into()),
            ("interval", 1.into()),
        ],
        false,
    );
    assert_eq!(
        comment(&r),
        "etcd cluster is healthy: 3 members (m3, m4, n1)"
    );
    // Removal right after a start waits out the strict reconfiguration check.
    for node in [&m4, &m3] {
        let r = node.absent(&all, false);
        assert_eq!(result(&r), Some(true), "{}", comment(&r));
        assert_eq!(changes(&r).get("removed"), Some(&Value::from(node.name)));
    }
    assert_eq!(member_names(&[&n1.client]), ["n1"]);
}

#[test]
fn etcd_without_an_answering_member() {
    let tmp = tempfile::tempdir().unwrap();
    let dead = format!("http://127.0.0.1:{}", free_port());
    let config = tmp.path().join("etcd.env");
    let config_s = config.display().to_string();

    let r = state("etcd.configured", &config_s, &[], false);
    assert_eq!(result(&r), Some(false));
    assert_eq!(comment(&r), "etcd.configured: 'ip' is required");
    assert!(!config.exists());

    // The member name defaults to the minion id; foreign lines are kept.
    std::fs::write(&config, "# mine\nDAEMON_ARGS=--debug\nETCD_NAME=old\n").unwrap();
    let r = state(
        "etcd.configured",
        &config_s,
        &[("ip", "10.0.0.5".into())],
        false,
    );
    assert_eq!(result(&r), Some(true));
    let diff = changes(&r)
        .get(config_s.as_str())
        .and_then(|c| c.get("diff"))
        .and_then(Value::as_str)
        .unwrap();
    assert!(
        diff.contains("-ETCD_NAME=old\n+ETCD_NAME=test-minion\n"),
        "{diff}"
    );
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.starts_with("# mine\nDAEMON_ARGS=--debug\nETCD_NAME=test-minion\n"),
        "{text}"
    );
    assert!(text.contains("ETCD_LISTEN_CLIENT_URLS=http://10.0.0.5:2379,http://127.0.0.1:2379\n"));
    assert!(text.contains("ETCD_INITIAL_ADVERTISE_PEER_URLS=http://10.0.0.5:2380\n"));
    assert!(text.contains("ETCD_INITIAL_CLUSTER_TOKEN=halite-etcd\n"));

    // Not allowed to bootstrap: waits, then fails; nothing written.
    let before = std::fs::read_to_string(&config).unwrap();
    let started = Instant::now();
    let r = state(
        "etcd.member_present",
        "cp-2",
        &[
            ("ip", "127.0.0.2".into()),
            ("endpoints", list(&[&dead])),
            ("config", config_s.as_str().into()),
            ("wait", 1.into()),
            ("interval", 0.2.into()),
        ],
        false,
    );
    assert_eq!(result(&r), Some(false));
    assert!(
        comment(&r).starts_with(&format!(
            "no etcd member answered among {dead}; cannot join"
        )),
        "{}",
        comment(&r)
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);

    // Bootstrap allowed: test mode reports, the real run writes state=new.
    let boot = |test| {
        state(
            "etcd.member_present",
            "cp-1",
            &[
                ("ip", "127.0.0.2".into()),
                ("endpoints", list(&[&dead])),
                ("config", config_s.as_str().into()),
                ("bootstrap", true.into()),
            ],
            test,
        )
    };
    let r = boot(true);
    assert_eq!(result(&r), None);
    assert_eq!(changes(&r).get("bootstrapped"), Some(&Value::from("cp-1")));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
    let r = boot(false);
    assert_eq!(result(&r), Some(true), "{}", comment(&r));
    let env = EnvFile::parse(&std::fs::read_to_string(&config).unwrap());
    assert_eq!(
        env.get("ETCD_INITIAL_CLUSTER").as_deref(),
        Some("cp-1=http://127.0.0.2:2380")
    );
    assert_eq!(
        env.get("ETCD_INITIAL_CLUSTER_STATE").as_deref(),
        Some("new")
    );
    assert_eq!(env.get("DAEMON_ARGS").as_deref(), Some("--debug"));
    let r = boot(false);
    assert_eq!(result(&r), Some(true));
    assert!(changes(&r).is_empty());

    // healthy: the endpoint's failure is the comment.
    let r = state(
        "etcd.healthy",
        "etcd cluster",
        &[
            ("endpoints", list(&[&dead])),
            ("retries", 2.into()),
            ("interval", 0.into()),
        ],
        false,
    );
    assert_eq!(result(&r), Some(false));
    assert_eq!(
        comment(&r),
        format!("etcd cluster is not healthy after 2 tries: endpoint {dead}: connection refused")
    );
    let r = state(
        "etcd.healthy",
        "etcd cluster",
        &[("endpoints", list(&[&dead]))],
        true,
    );
    assert_eq!(result(&r), None);

    // member_absent without an answer fails, removes nothing.
    let r = state(
        "etcd.member_absent",
        "cp-1",
        &[
            ("endpoints", list(&[&dead])),
            ("config", config_s.as_str().into()),
        ],
        false,
    );
    assert_eq!(result(&r), Some(false));
    assert!(changes(&r).is_empty());

    // Execution functions: endpoints from the minion options.
    let opts = map(&[("etcd.endpoints", list(&[&dead]))]);
    let health = exec("etcd.health", &[], &opts).unwrap();
    assert_eq!(
        health.get(dead.as_str()).and_then(|h| h.get("health")),
        Some(&Value::Bool(false))
    );
    let err = exec("etcd.member_list", &[], &opts).unwrap_err();
    assert!(err.to_string().contains("connection refused"), "{err}");
}
