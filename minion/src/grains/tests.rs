//! Grains: machine-independent invariants, `get`/`filter_by` semantics, and (when Salt
//! 3008.5 is installed at /opt/salt-venv) a key-by-key comparison with `salt-call --local
//! grains.items` on this machine.

use super::*;

fn opts(pairs: &[(&str, Value)]) -> Map {
    pairs
        .iter()
        .map(|(k, v)| (Value::from(*k), v.clone()))
        .collect()
}

fn base_opts() -> Map {
    opts(&[
        ("id", "node1".into()),
        ("master", "salt".into()),
        ("enable_fqdns_grains", false.into()),
    ])
}

#[test]
fn invariants() {
    let g = core_grains(&base_opts());
    assert_eq!(g.get("id"), Some(&Value::from("node1")));
    assert_eq!(g.get("master"), Some(&Value::from("salt")));
    assert_eq!(g.get("kernel"), Some(&Value::from("Linux")));
    assert_eq!(g.get("fqdns"), Some(&Value::List(vec![])));
    assert!(matches!(g.get("num_cpus"), Some(Value::Int(n)) if *n >= 1));
    assert!(matches!(g.get("mem_total"), Some(Value::Int(n)) if *n > 0));
    assert!(matches!(g.get("pid"), Some(Value::Int(p)) if *p == i64::from(std::process::id())));
    let ipv4 = g
        .get("ipv4")
        .and_then(Value::as_list)
        .cloned()
        .unwrap_or_default();
    assert!(ipv4.contains(&Value::from("127.0.0.1")));
    // Every address of ip4_interfaces is in ipv4, and ip_interfaces is their union per iface.
    let ip4 = g
        .get("ip4_interfaces")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    let all = g
        .get("ip_interfaces")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    for (iface, addrs) in &ip4 {
        for a in addrs.as_list().cloned().unwrap_or_default() {
            assert!(ipv4.contains(&a), "{a:?} missing from ipv4");
            let on_iface = all
                .get(iface)
                .and_then(Value::as_list)
                .cloned()
                .unwrap_or_default();
            assert!(on_iface.contains(&a));
        }
    }
    let fqdn = g.get("fqdn").map(Value::py_str).unwrap_or_default();
    let host = g.get("host").map(Value::py_str).unwrap_or_default();
    assert!(fqdn.starts_with(&host));
    let release = g.get("osrelease").map(Value::py_str).unwrap_or_default();
    if !release.is_empty() {
        assert!(g.get("osrelease_info").is_some());
        assert!(g
            .get("osfinger")
            .map(Value::py_str)
            .unwrap_or_default()
            .contains('-'));
    }
    assert!(matches!(g.get("server_id"), Some(Value::Int(n)) if *n >= 0 && *n < 1 << 31));
}

#[test]
fn static_grains_override_and_append() {
    let mut o = base_opts();
    let mut st = Map::default();
    st.insert("os".into(), "Custom".into());
    st.insert("roles".into(), Value::List(vec!["etcd".into()]));
    o.insert("grains".into(), Value::Map(st));
    let g = core_grains(&o);
    assert_eq!(g.get("os"), Some(&Value::from("Custom")));
    let os_pos = g.get_index_of("os");
    let kernel_pos = g.get_index_of("kernel");
    assert!(
        os_pos > kernel_pos,
        "an overridden key keeps its computed position"
    );
    assert_eq!(g.get_index_of("roles"), Some(g.len() - 1));
}

fn yaml_like(pairs: &[(&str, Value)]) -> Value {
    Value::Map(opts(pairs))
}

#[test]
fn get_walks_nested_data() {
    let g = yaml_like(&[
        ("pkg", yaml_like(&[("apache", "httpd".into())])),
        ("roles", Value::List(vec!["a".into(), "b".into()])),
    ]);
    assert_eq!(get(&g, "pkg:apache", "".into(), ":"), Value::from("httpd"));
    assert_eq!(get(&g, "pkg|apache", "".into(), "|"), Value::from("httpd"));
    assert_eq!(get(&g, "roles:1", "".into(), ":"), Value::from("b"));
    assert_eq!(
        get(&g, "pkg:nginx", "dflt".into(), ":"),
        Value::from("dflt")
    );
    assert_eq!(get(&g, "nope", Value::Null, ":"), Value::Null);
}

#[test]
fn filter_by_semantics() {
    let grains = yaml_like(&[
        ("os_family", "RedHat".into()),
        ("id", "salt-01".into()),
        ("roles", Value::List(vec!["web".into(), "db".into()])),
    ]);
    let lookup = yaml_like(&[
        ("Debian", yaml_like(&[("pkg", "apache2".into())])),
        ("RedHat", yaml_like(&[("pkg", "httpd".into())])),
        (
            "default",
            yaml_like(&[("pkg", "www".into()), ("port", 80i64.into())]),
        ),
    ]);
    let r = filter_by(&lookup, "os_family", None, "default", None, &grains);
    assert_eq!(r.map(|v| v.py_repr()), Ok("{'pkg': 'httpd'}".to_string()));
    // Unknown grain: the default entry.
    let r = filter_by(&lookup, "nothere", None, "default", None, &grains);
    assert_eq!(
        r.map(|v| v.py_repr()),
        Ok("{'pkg': 'www', 'port': 80}".to_string())
    );
    // base merged under, merge over.
    let merge = yaml_like(&[("port", 8080i64.into())]);
    let r = filter_by(
        &lookup,
        "os_family",
        Some(&merge),
        "default",
        Some("default"),
        &grains,
    );
    assert_eq!(
        r.map(|v| v.py_repr()),
        Ok("{'pkg': 'httpd', 'port': 8080}".to_string())
    );
    // Glob keys and list-valued grains.
    let globs = yaml_like(&[
        ("salt*", "got some salt".into()),
        ("default", "none".into()),
    ]);
    let r = filter_by(&globs, "id", None, "default", None, &grains);
    assert_eq!(r, Ok(Value::from("got some salt")));
    let by_role = yaml_like(&[("db", "database".into()), ("web", "webserver".into())]);
    let r = filter_by(&by_role, "roles", None, "default", None, &grains);
    assert_eq!(r, Ok(Value::from("webserver")));
    // No match and no default: None; a non-dict merge is an error.
    let r = filter_by(&by_role, "os_family", None, "default", None, &grains);
    assert_eq!(r, Ok(Value::Null));
    let bad = Value::from("x");
    assert!(filter_by(&lookup, "os_family", Some(&bad), "default", None, &grains).is_err());
}

/// Run real Salt and compare every key Halite computes.
#[test]
fn same_as_salt_call_on_this_machine() {
    let salt_call = "/opt/salt-venv/bin/salt-call";
    if !std::path::Path::new(salt_call).exists() {
        println!("SKIPPED: {salt_call} not installed; grains not compared with real Salt");
        return;
    }
    let root = std::env::temp_dir().join(format!("halite-grains-{}", std::process::id()));
    let conf = root.join("etc/salt");
    if std::fs::create_dir_all(&conf).is_err() {
        println!("SKIPPED: cannot create {}", conf.display());
        return;
    }
    let config = format!(
        "id: node1\nroot_dir: {}\nfile_client: local\nenable_fqdns_grains: false\nlog_level: quiet\n",
        root.display()
    );
    if std::fs::write(conf.join("minion"), config).is_err() {
        println!("SKIPPED: cannot write the minion config");
        return;
    }
    let out = std::process::Command::new(salt_call)
        .arg("-c")
        .arg(&conf)
        .args(["--local", "grains.items", "--out=json"])
        .output();
    let _ = std::fs::remove_dir_all(&root);
    let Ok(out) = out else {
        println!("SKIPPED: salt-call did not run");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let salt = match halite_render::jinja::serializers::load_json(&text) {
        Ok(v) => v.get("local").cloned().unwrap_or_default(),
        Err(e) => panic!("salt-call output is not JSON: {e}"),
    };
    let salt = salt.as_map().cloned().unwrap_or_default();
    let ours = core_grains(&base_opts());
    // Values that differ between two processes by nature.
    let volatile = ["pid", "cwd"];
    let mut diffs = Vec::new();
    for (k, v) in &ours {
        let key = k.py_str();
        if volatile.contains(&key.as_str()) {
            continue;
        }
        match salt.get(k) {
            Some(sv) if sv == v && sv.type_name() == v.type_name() => {}
            Some(sv) => diffs.push(format!(
                "{key}: salt {} halite {}",
                sv.py_repr(),
                v.py_repr()
            )),
            None => diffs.push(format!("{key}: not in Salt's grains")),
        }
    }
    // Key order: Halite's keys appear in the order Salt lists them.
    let salt_order: Vec<&Value> = salt.keys().filter(|k| ours.contains_key(*k)).collect();
    let our_order: Vec<&Value> = ours.keys().filter(|k| salt.contains_key(*k)).collect();
    if salt_order != our_order {
        diffs.push(format!(
            "key order differs:\nsalt   {salt_order:?}\nhalite {our_order:?}"
        ));
    }
    let missing: Vec<String> = salt
        .keys()
        .filter(|k| !ours.contains_key(*k))
        .map(Value::py_str)
        .collect();
    println!("keys Salt has and Halite does not compute: {missing:?}");
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
