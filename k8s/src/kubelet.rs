//! `kubelet.configured`: the kubelet of a node, as three managed files, and the `kubelet`
//! module's `mod_watch` (restart the kubelet service).
//!
//! The files, each written atomically (mode 0644, parent directories 0755) and only when its
//! content differs:
//! - the `KubeletConfiguration` YAML at `name` (`address`, `staticPodPath`, `cgroupDriver`,
//!   `clusterDNS`, `clusterDomain`, `maxPods`, `kubeReserved`, `registerWithTaints`, then the
//!   `config` mapping deep-merged over it), in that key order;
//! - the environment file (`env_file`) with one `KUBELET_ARGS="..."` line: `--config`,
//!   `--node-ip`, `--hostname-override`, `--node-labels`, `--container-runtime-endpoint`;
//! - the systemd drop-in (`dropin`) that runs `kubelet_bin $KUBELET_ARGS` with that file as
//!   its `EnvironmentFile`; systemd is told (`daemon-reload`) when the drop-in changed on a
//!   host booted with systemd.
//!
//! Roles and labels: a kubelet refuses `--node-labels` in the `node-role.kubernetes.io/`
//! namespace (of the `kubernetes.io` labels, it may only set `kubelet.kubernetes.io/` and
//! `node.kubernetes.io/` ones), so the flag carries each role as
//! `node.kubernetes.io/role-<role>=`. The canonical `node-role.kubernetes.io/<role>` labels
//! are set on the Node object through the API (the `k8s_node` states).
//!
//! Changes are keyed by file path, each `{"diff": ...}` (`"New file"` for a file that did
//! not exist), as `file.managed` reports them.

use halite_core::yaml_emit::{dump, DumpOptions};
use halite_core::{Error, Map, Result, Value};
use halite_states::exec::systemd;
use halite_states::modules::file::difflib::file_diff;
use halite_states::modules::file::util::{atomic_write, makedirs};
use halite_states::modules::{ret, Registry, StateCall};
use std::io::ErrorKind;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Register `kubelet.configured` and the `kubelet` module's `mod_watch`.
pub fn register(r: &mut Registry) {
    r.add("kubelet.configured", configured);
    r.add_mod_watch("kubelet", mod_watch);
}

/// The taint effects a Node accepts.
pub const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// The first line of every file these states write (`fun` is the state function).
pub fn header(fun: &str) -> String {
    format!("# Managed by Halite ({fun}): local changes are overwritten.\n")
}

/// The YAML emitter settings of the managed files: block style, keys in the given order.
pub fn yaml_options() -> DumpOptions {
    DumpOptions {
        sort_keys: false,
        ..DumpOptions::salt_outputter()
    }
}

/// One file a state manages: where, and the whole content it should have.
pub struct ManagedFile {
    /// The file's path.
    pub path: PathBuf,
    /// The wanted content.
    pub content: String,
}

impl ManagedFile {
    /// The `{"diff": ...}` change this file needs, `None` when it is in the wanted state.
    pub fn pending_change(&self) -> Result<Option<Value>> {
        let old = match std::fs::read(&self.path) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            // A file under a non-directory does not exist either (the write says why).
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => None,
            Err(e) => return Err(Error::io(self.path.display().to_string(), &e)),
        };
        let diff = match old {
            Some(old) if old == self.content => return Ok(None),
            Some(old) => file_diff(&old, &self.content),
            None => "New file".to_string(),
        };
        let mut change = Map::default();
        change.insert("diff".into(), diff.into());
        Ok(Some(Value::Map(change)))
    }

    /// Write the file atomically (mode 0644), creating its parent directories (0755).
    pub fn write(&self) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            makedirs(dir, Some("0755"))?;
        }
        atomic_write(&self.path, self.content.as_bytes(), Some(0o644))
    }
}

/// Fail unless `p` is an absolute path (Salt's text for `file.managed`).
pub fn absolute(p: &str) -> std::result::Result<PathBuf, String> {
    if Path::new(p).is_absolute() {
        Ok(PathBuf::from(p))
    } else {
        Err(format!("Specified file {p} is not an absolute path"))
    }
}

/// One taint of `registerWithTaints`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taint {
    /// The taint key.
    pub key: String,
    /// The value (`None` when not set or empty).
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}

impl Taint {
    /// A taint from a mapping `{key, value?, effect}` or a string `key=value:Effect` /
    /// `key:Effect`; the error names the taint.
    pub fn parse(v: &Value) -> std::result::Result<Taint, String> {
        let shown = match v {
            Value::Str(s) => format!("'{s}'"),
            other => other.py_repr(),
        };
        let (key, value, effect) = match v {
            Value::Str(s) => {
                let (kv, effect) = s
                    .rsplit_once(':')
                    .ok_or_else(|| format!("Invalid taint {shown}: the effect is missing"))?;
                let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
                (key.to_string(), value.to_string(), effect.to_string())
            }
            Value::Map(m) => {
                let text = |k: &str| m.get(k).filter(|v| !v.is_null()).map(Value::py_str);
                (
                    text("key").unwrap_or_default(),
                    text("value").unwrap_or_default(),
                    text("effect").unwrap_or_default(),
                )
            }
            _ => {
                return Err(format!(
                    "Invalid taint {shown}: a taint is a mapping or a string key=value:Effect"
                ))
            }
        };
        if key.is_empty() {
            return Err(format!("Invalid taint {shown}: the key is missing"));
        }
        if !TAINT_EFFECTS.contains(&effect.as_str()) {
            return Err(format!(
                "Invalid taint {shown}: effect must be one of {}",
                TAINT_EFFECTS.join(", ")
            ));
        }
        Ok(Taint {
            key,
            value: (!value.is_empty()).then_some(value),
            effect,
        })
    }

    /// The taint as a `registerWithTaints` item.
    fn to_value(&self) -> Value {
        let mut m = Map::default();
        m.insert("key".into(), self.key.clone().into());
        if let Some(v) = &self.value {
            m.insert("value".into(), v.clone().into());
        }
        m.insert("effect".into(), self.effect.clone().into());
        Value::Map(m)
    }
}

/// The arguments of `kubelet.configured`, checked.
#[derive(Debug, Clone)]
pub struct KubeletSpec {
    /// The KubeletConfiguration file (`name`).
    pub config_path: PathBuf,
    /// `--node-ip` (one address, or two comma-separated for dual stack).
    pub node_ip: Option<String>,
    /// `--hostname-override`.
    pub hostname_override: Option<String>,
    /// The node's roles, sorted and without duplicates.
    pub roles: Vec<String>,
    /// `registerWithTaints`.
    pub taints: Vec<Taint>,
    /// `clusterDNS`.
    pub cluster_dns: Vec<String>,
    /// `clusterDomain`.
    pub cluster_domain: String,
    /// `address`.
    pub address: String,
    /// `staticPodPath`.
    pub static_pod_path: String,
    /// `cgroupDriver`.
    pub cgroup_driver: String,
    /// `kubeReserved`.
    pub kube_reserved: Option<Map>,
    /// `maxPods`.
    pub max_pods: i64,
    /// Deep-merged over the generated configuration.
    pub config: Option<Map>,
    /// `--container-runtime-endpoint`.
    pub container_runtime_endpoint: String,
    /// The environment file holding `KUBELET_ARGS`.
    pub env_file: PathBuf,
    /// The systemd drop-in.
    pub dropin: PathBuf,
    /// The kubelet binary.
    pub kubelet_bin: String,
    /// The systemd service restarted by `mod_watch`.
    pub service: String,
}

/// An optional string argument (`None` for absent or null).
fn opt_str(low: &Map, key: &str) -> Option<String> {
    low.get(key).filter(|v| !v.is_null()).map(Value::py_str)
}

/// A string argument with a default.
fn str_or(low: &Map, key: &str, default: &str) -> String {
    opt_str(low, key).unwrap_or_else(|| default.to_string())
}

/// A list argument (one scalar counts as a list of one; absent or null is empty).
fn list_arg(low: &Map, key: &str) -> Vec<Value> {
    match low.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::List(l)) => l.clone(),
        Some(other) => vec![other.clone()],
    }
}

/// An optional mapping argument.
fn map_arg(low: &Map, key: &str) -> std::result::Result<Option<Map>, String> {
    match low.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Map(m)) => Ok(Some(m.clone())),
        Some(other) => Err(format!(
            "'{key}' must be a mapping, not {}",
            other.type_name()
        )),
    }
}

/// A value that goes into `KUBELET_ARGS="..."` and systemd's word splitting unquoted.
fn flag_value(key: &str, v: &str) -> std::result::Result<(), String> {
    let bad = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | '$' | '`');
    if v.is_empty() || v.chars().any(bad) {
        return Err(format!(
            "'{key}' must be a non-empty word without whitespace, quotes, backslashes or '$': {v:?}"
        ));
    }
    Ok(())
}

/// An IP address (the error names the argument).
fn ip(key: &str, v: &str) -> std::result::Result<(), String> {
    v.parse::<IpAddr>()
        .map(|_| ())
        .map_err(|_| format!("Invalid IP address '{v}' in '{key}'"))
}

/// A positive integer, given as such or as decimal text.
fn positive_int(v: &Value) -> Option<i64> {
    let i = match v {
        Value::Int(i) => *i,
        Value::Str(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (i > 0).then_some(i)
}

/// A role name that makes a valid label name as `role-<role>`.
fn role_name(v: &Value) -> std::result::Result<String, String> {
    let role = v.py_str();
    let inner_ok = role
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let ends_ok = role
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if role.is_empty() || !inner_ok || !ends_ok || role.len() + "role-".len() > 63 {
        return Err(format!(
            "Invalid role '{role}': a role is at most 58 characters of [A-Za-z0-9-_.], ending alphanumeric"
        ));
    }
    Ok(role)
}

impl KubeletSpec {
    /// Read and check the arguments of a `kubelet.configured` chunk; the error is the
    /// state's comment.
    pub fn from_low(low: &Map) -> std::result::Result<KubeletSpec, String> {
        let config_path = absolute(&opt_str(low, "name").unwrap_or_default())?;
        let node_ip = opt_str(low, "node_ip");
        if let Some(ips) = &node_ip {
            for one in ips.split(',') {
                ip("node_ip", one)?;
            }
        }
        let mut roles = list_arg(low, "roles")
            .iter()
            .map(role_name)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        roles.sort();
        roles.dedup();
        let taints = list_arg(low, "taints")
            .iter()
            .map(Taint::parse)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let cluster_dns: Vec<String> = list_arg(low, "cluster_dns")
            .iter()
            .map(Value::py_str)
            .collect();
        for one in &cluster_dns {
            ip("cluster_dns", one)?;
        }
        let max_pods = match low.get("max_pods") {
            None | Some(Value::Null) => 110,
            Some(v) => positive_int(v).ok_or_else(|| {
                format!("'max_pods' must be a positive integer, not {}", v.py_repr())
            })?,
        };
        let spec = KubeletSpec {
            node_ip,
            hostname_override: opt_str(low, "hostname_override"),
            roles,
            taints,
            cluster_dns,
            cluster_domain: str_or(low, "cluster_domain", "cluster.local"),
            address: str_or(low, "address", "0.0.0.0"),
            static_pod_path: str_or(low, "static_pod_path", "/etc/kubernetes/manifests"),
            cgroup_driver: str_or(low, "cgroup_driver", "systemd"),
            kube_reserved: map_arg(low, "kube_reserved")?,
            max_pods,
            config: map_arg(low, "config")?,
            container_runtime_endpoint: str_or(
                low,
                "container_runtime_endpoint",
                "unix:///run/containerd/containerd.sock",
            ),
            env_file: absolute(&str_or(low, "env_file", "/etc/default/kubelet"))?,
            dropin: absolute(&str_or(
                low,
                "dropin",
                "/etc/systemd/system/kubelet.service.d/10-halite.conf",
            ))?,
            kubelet_bin: str_or(low, "kubelet_bin", "/usr/bin/kubelet"),
            service: str_or(low, "service", "kubelet"),
            config_path,
        };
        spec.check_words()?;
        Ok(spec)
    }

    /// The values written unquoted into the environment file and the drop-in.
    fn check_words(&self) -> std::result::Result<(), String> {
        flag_value("name", &self.config_path.to_string_lossy())?;
        if let Some(h) = &self.hostname_override {
            flag_value("hostname_override", h)?;
        }
        flag_value(
            "container_runtime_endpoint",
            &self.container_runtime_endpoint,
        )?;
        flag_value("env_file", &self.env_file.to_string_lossy())?;
        flag_value("kubelet_bin", &self.kubelet_bin)?;
        absolute(&self.kubelet_bin).map(|_| ())
    }

    /// The KubeletConfiguration document, `config` merged over it.
    pub fn kubelet_config(&self) -> Value {
        let mut m = Map::default();
        let mut put = |k: &str, v: Value| {
            m.insert(k.into(), v);
        };
        put("apiVersion", "kubelet.config.k8s.io/v1beta1".into());
        put("kind", "KubeletConfiguration".into());
        put("address", self.address.clone().into());
        put("staticPodPath", self.static_pod_path.clone().into());
        put("cgroupDriver", self.cgroup_driver.clone().into());
        if !self.cluster_dns.is_empty() {
            let dns = self.cluster_dns.iter().map(Value::from).collect();
            put("clusterDNS", Value::List(dns));
        }
        put("clusterDomain", self.cluster_domain.clone().into());
        put("maxPods", self.max_pods.into());
        if let Some(r) = &self.kube_reserved {
            put("kubeReserved", Value::Map(r.clone()));
        }
        if !self.taints.is_empty() {
            let taints = self.taints.iter().map(Taint::to_value).collect();
            put("registerWithTaints", Value::List(taints));
        }
        if let Some(over) = &self.config {
            deep_merge(&mut m, over);
        }
        Value::Map(m)
    }

    /// The `--node-labels` value: `node.kubernetes.io/role-<role>=` per role, sorted.
    pub fn node_labels(&self) -> String {
        self.roles
            .iter()
            .map(|r| format!("node.kubernetes.io/role-{r}="))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The three managed files: configuration, environment file, drop-in.
    pub fn files(&self) -> [ManagedFile; 3] {
        let head = header("kubelet.configured");
        let config = format!("{head}{}", dump(&self.kubelet_config(), &yaml_options()));
        let mut args = vec![format!("--config={}", self.config_path.display())];
        if let Some(ip) = &self.node_ip {
            args.push(format!("--node-ip={ip}"));
        }
        if let Some(h) = &self.hostname_override {
            args.push(format!("--hostname-override={h}"));
        }
        if !self.roles.is_empty() {
            args.push(format!("--node-labels={}", self.node_labels()));
        }
        args.push(format!(
            "--container-runtime-endpoint={}",
            self.container_runtime_endpoint
        ));
        let env = format!("{head}KUBELET_ARGS=\"{}\"\n", args.join(" "));
        let dropin = format!(
            "{head}[Service]\nEnvironmentFile=-{}\nExecStart=\nExecStart={} $KUBELET_ARGS\n",
            self.env_file.display(),
            self.kubelet_bin
        );
        [
            ManagedFile {
                path: self.config_path.clone(),
                content: config,
            },
            ManagedFile {
                path: self.env_file.clone(),
                content: env,
            },
            ManagedFile {
                path: self.dropin.clone(),
                content: dropin,
            },
        ]
    }
}

/// Merge `over` into `base`: mappings recursively, any other value replaced (keys already
/// in `base` keep their place, new ones are appended).
pub fn deep_merge(base: &mut Map, over: &Map) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(Value::Map(inner)), Value::Map(o)) => deep_merge(inner, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// `systemctl daemon-reload`, only on a host booted with systemd.
fn reload_systemd() -> Result<()> {
    if systemd::booted() {
        systemd::daemon_reload()
    } else {
        tracing::debug!("not booted with systemd: no daemon-reload");
        Ok(())
    }
}

/// `kubelet.configured(name, ...)`.
fn configured(c: &StateCall) -> Result<Map> {
    configured_with(c, &reload_systemd)
}

/// `kubelet.configured`, with `reload` run after the drop-in changed.
fn configured_with(c: &StateCall, reload: &dyn Fn() -> Result<()>) -> Result<Map> {
    let name = c.name();
    let spec = match KubeletSpec::from_low(c.low) {
        Ok(s) => s,
        Err(why) => return Ok(ret(&name, Map::default(), Some(false), why)),
    };
    match apply(&spec, c.test, reload) {
        Ok((changes, result, comment)) => Ok(ret(&name, changes, result, comment)),
        Err(e) => Ok(ret(&name, Map::default(), Some(false), e.to_string())),
    }
}

/// Compare, then (outside test mode) write the files: changes, result, comment.
fn apply(
    spec: &KubeletSpec,
    test: bool,
    reload: &dyn Fn() -> Result<()>,
) -> Result<(Map, Option<bool>, String)> {
    let files = spec.files();
    let mut changes = Map::default();
    let mut pending = Vec::new();
    for f in &files {
        if let Some(change) = f.pending_change()? {
            changes.insert(f.path.display().to_string().into(), change);
            pending.push(f);
        }
    }
    if pending.is_empty() {
        let ok = "Kubelet configuration is in the correct state";
        return Ok((changes, Some(true), ok.into()));
    }
    if test {
        let would = "Kubelet configuration would be updated";
        return Ok((changes, None, would.into()));
    }
    for (done, f) in pending.iter().enumerate() {
        if let Err(e) = f.write() {
            // Report what was written before the failure (changes are in `pending`'s order).
            changes.truncate(done);
            return Ok((changes, Some(false), e.to_string()));
        }
    }
    if pending.iter().any(|f| f.path == spec.dropin) {
        if let Err(e) = reload() {
            return Ok((changes, Some(false), e.to_string()));
        }
    }
    Ok((changes, Some(true), "Kubelet configuration updated".into()))
}

/// The `kubelet` module's `mod_watch`: restart the kubelet service after
/// `kubelet.configured` (Salt's `service.mod_watch` shape); a static pod needs nothing.
fn mod_watch(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let sfun = c.str_arg("sfun").unwrap_or("");
    match sfun {
        "configured" => {}
        "static_pod" => {
            let why = "The kubelet picks up static pod manifests itself: nothing to restart";
            return Ok(ret(&name, Map::default(), Some(true), why));
        }
        other => {
            let why = format!("Unable to trigger watch for kubelet.{other}");
            return Ok(ret(&name, Map::default(), Some(false), why));
        }
    }
    if c.test {
        let why = "Service is set to be restarted";
        return Ok(ret(&name, Map::default(), None, why));
    }
    let service = c
        .arg("service")
        .filter(|v| !v.is_null())
        .map_or_else(|| "kubelet".to_string(), Value::py_str);
    let unit = systemd::canonical_name(&service);
    systemd::reload_if_changed(&unit)?;
    if let Err(why) = systemd::change("restart", &unit, c.flag("no_block", false))? {
        let why = if why.is_empty() {
            "Failed to restart the service".to_string()
        } else {
            why
        };
        return Ok(ret(&name, Map::default(), Some(false), why));
    }
    let mut changes = Map::default();
    changes.insert(service.into(), Value::Bool(true));
    Ok(ret(&name, changes, Some(true), "Service restarted"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use halite_core::Functions;
    use std::cell::Cell;

    /// No execution functions.
    pub(crate) struct NoFunctions;

    impl Functions for NoFunctions {
        fn call(&self, name: &str, _args: &[Value], _kwargs: &Map) -> Result<Value> {
            Err(Error::NotAvailable(name.into()))
        }
        fn exists(&self, _name: &str) -> bool {
            false
        }
    }

    /// A chunk from pairs.
    pub(crate) fn low(pairs: &[(&str, Value)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| (Value::from(*k), v.clone()))
            .collect()
    }

    /// Run the state function `f` on the chunk `low` (and `test`).
    pub(crate) fn run_state(f: impl Fn(&StateCall) -> Result<Map>, low: &Map, test: bool) -> Map {
        let opts = Map::default();
        let running = Default::default();
        let c = StateCall {
            low,
            test,
            functions: &NoFunctions,
            opts: &opts,
            reqs: None,
            running: &running,
        };
        f(&c).unwrap()
    }

    /// The value at `keys` under `v` (tests only: panics when absent).
    pub(crate) fn at<'a>(v: &'a Value, keys: &[&str]) -> &'a Value {
        keys.iter().fold(v, |cur, k| match cur.get(k) {
            Some(next) => next,
            None => panic!("no key {k:?} in {cur:?}"),
        })
    }

    pub(crate) fn s(v: &str) -> Value {
        Value::from(v)
    }

    fn list(items: &[&str]) -> Value {
        Value::List(items.iter().map(|i| s(i)).collect())
    }

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(low(pairs))
    }

    /// A chunk whose three files live in `dir`.
    fn chunk(dir: &Path, extra: &[(&str, Value)]) -> Map {
        let p = |f: &str| s(&dir.join(f).display().to_string());
        let mut m = low(&[
            ("name", p("var/lib/kubelet/config.yaml")),
            ("env_file", p("etc/default/kubelet")),
            ("dropin", p("etc/systemd/kubelet.service.d/10-halite.conf")),
        ]);
        m.extend(low(extra));
        m
    }

    #[test]
    fn this_host_is_not_booted_with_systemd() {
        // The unit tests never reach a real daemon-reload: they pass their own reloader,
        // and this machine is not booted with systemd anyway.
        assert!(!systemd::booted());
    }

    #[test]
    fn config_keys_in_order_and_merged() {
        let dir = tempfile::tempdir().unwrap();
        let spec = KubeletSpec::from_low(&chunk(
            dir.path(),
            &[
                ("cluster_dns", s("10.96.0.10")),
                ("kube_reserved", map(&[("cpu", s("100m"))])),
                (
                    "taints",
                    list(&["node-role.kubernetes.io/master:NoSchedule"]),
                ),
                (
                    "config",
                    map(&[
                        ("maxPods", Value::Int(50)),
                        ("kubeReserved", map(&[("memory", s("256Mi"))])),
                        ("clusterDNS", list(&["10.96.0.11"])),
                        ("serializeImagePulls", Value::Bool(false)),
                    ]),
                ),
            ],
        ))
        .unwrap();
        let text = dump(&spec.kubelet_config(), &yaml_options());
        assert_eq!(
            text,
            "apiVersion: kubelet.config.k8s.io/v1beta1\n\
             kind: KubeletConfiguration\n\
             address: 0.0.0.0\n\
             staticPodPath: /etc/kubernetes/manifests\n\
             cgroupDriver: systemd\n\
             clusterDNS:\n\
             - 10.96.0.11\n\
             clusterDomain: cluster.local\n\
             maxPods: 50\n\
             kubeReserved:\n  cpu: 100m\n  memory: 256Mi\n\
             registerWithTaints:\n\
             - key: node-role.kubernetes.io/master\n  effect: NoSchedule\n\
             serializeImagePulls: false\n"
        );
    }

    #[test]
    fn deep_merge_replaces_non_mappings() {
        let mut base = low(&[
            ("a", map(&[("x", Value::Int(1)), ("y", list(&["p"]))])),
            ("b", s("keep")),
        ]);
        let over = low(&[
            ("a", map(&[("y", list(&["q"])), ("z", Value::Int(3))])),
            ("c", s("new")),
        ]);
        deep_merge(&mut base, &over);
        assert_eq!(
            Value::Map(base),
            map(&[
                (
                    "a",
                    map(&[
                        ("x", Value::Int(1)),
                        ("y", list(&["q"])),
                        ("z", Value::Int(3))
                    ])
                ),
                ("b", s("keep")),
                ("c", s("new")),
            ])
        );
    }

    #[test]
    fn taints_parse() {
        let t = |v: Value| Taint::parse(&v);
        assert_eq!(
            t(s("dedicated=infra:NoExecute")).unwrap(),
            Taint {
                key: "dedicated".into(),
                value: Some("infra".into()),
                effect: "NoExecute".into()
            }
        );
        assert_eq!(t(s("k:NoSchedule")).unwrap().value, None);
        let m = map(&[
            ("key", s("k")),
            ("value", s("v")),
            ("effect", s("PreferNoSchedule")),
        ]);
        assert_eq!(t(m).unwrap().value.as_deref(), Some("v"));
        assert_eq!(
            t(s("k=v:Sometimes")).unwrap_err(),
            "Invalid taint 'k=v:Sometimes': effect must be one of NoSchedule, PreferNoSchedule, NoExecute"
        );
        assert_eq!(
            t(s("k=v")).unwrap_err(),
            "Invalid taint 'k=v': the effect is missing"
        );
        let no_key = map(&[("effect", s("NoSchedule"))]);
        assert!(t(no_key).unwrap_err().contains("the key is missing"));
    }

    #[test]
    fn bad_taint_fails_the_state_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let bad = map(&[("key", s("k")), ("effect", s("Never"))]);
        let low = chunk(dir.path(), &[("taints", Value::List(vec![bad]))]);
        let r = run_state(configured, &low, false);
        assert_eq!(r["result"], Value::Bool(false));
        assert_eq!(
            r["comment"],
            s("Invalid taint {'key': 'k', 'effect': 'Never'}: effect must be one of NoSchedule, PreferNoSchedule, NoExecute")
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn bad_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let comment = |extra: &[(&str, Value)]| {
            let r = run_state(configured, &chunk(dir.path(), extra), false);
            assert_eq!(r["result"], Value::Bool(false));
            r["comment"].py_str()
        };
        assert_eq!(
            comment(&[("name", s("config.yaml"))]),
            "Specified file config.yaml is not an absolute path"
        );
        assert_eq!(
            comment(&[("node_ip", s("10.0.0.300"))]),
            "Invalid IP address '10.0.0.300' in 'node_ip'"
        );
        assert!(comment(&[("roles", list(&["bad role"]))]).starts_with("Invalid role 'bad role'"));
        assert!(comment(&[("hostname_override", s("a b"))]).starts_with("'hostname_override'"));
        assert!(comment(&[("max_pods", s("many"))]).starts_with("'max_pods'"));
    }

    #[test]
    fn writes_three_files_then_reports_no_changes() {
        let dir = tempfile::tempdir().unwrap();
        let low = chunk(
            dir.path(),
            &[
                ("node_ip", s("10.0.0.5")),
                ("hostname_override", s("node-1")),
                ("roles", list(&["master", "etcd"])),
                (
                    "taints",
                    list(&["node-role.kubernetes.io/master:NoSchedule"]),
                ),
                ("cluster_dns", list(&["10.96.0.10"])),
            ],
        );
        let reloads = Cell::new(0);
        let reload = || {
            reloads.set(reloads.get() + 1);
            Ok(())
        };
        let run = |low: &Map| run_state(|c| configured_with(c, &reload), low, false);

        let r = run(&low);
        assert_eq!(r["result"], Value::Bool(true));
        assert_eq!(r["comment"], s("Kubelet configuration updated"));
        let changes = r["changes"].as_map().unwrap();
        assert_eq!(changes.len(), 3);
        for (_, ch) in changes {
            assert_eq!(ch.get("diff"), Some(&s("New file")));
        }
        assert_eq!(reloads.get(), 1);

        let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
        let config = read("var/lib/kubelet/config.yaml");
        assert!(config.starts_with(
            "# Managed by Halite (kubelet.configured): local changes are overwritten.\n\
             apiVersion: kubelet.config.k8s.io/v1beta1\n"
        ));
        let cfg_path = dir.path().join("var/lib/kubelet/config.yaml");
        assert_eq!(
            read("etc/default/kubelet"),
            format!(
                "# Managed by Halite (kubelet.configured): local changes are overwritten.\n\
                 KUBELET_ARGS=\"--config={} --node-ip=10.0.0.5 --hostname-override=node-1 \
                 --node-labels=node.kubernetes.io/role-etcd=,node.kubernetes.io/role-master= \
                 --container-runtime-endpoint=unix:///run/containerd/containerd.sock\"\n",
                cfg_path.display()
            )
        );
        assert_eq!(
            read("etc/systemd/kubelet.service.d/10-halite.conf"),
            format!(
                "# Managed by Halite (kubelet.configured): local changes are overwritten.\n\
                 [Service]\nEnvironmentFile=-{}\nExecStart=\n\
                 ExecStart=/usr/bin/kubelet $KUBELET_ARGS\n",
                dir.path().join("etc/default/kubelet").display()
            )
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&cfg_path), 0o644);
        assert_eq!(mode(&dir.path().join("var/lib/kubelet")), 0o755);

        let again = run(&low);
        assert_eq!(again["result"], Value::Bool(true));
        assert_eq!(again["changes"], Value::map());
        assert_eq!(
            again["comment"],
            s("Kubelet configuration is in the correct state")
        );

        // Only the configuration changes: a diff for it alone, no daemon-reload.
        let mut more = low.clone();
        more.insert("max_pods".into(), Value::Int(200));
        let third = run(&more);
        let changes = third["changes"].as_map().unwrap();
        assert_eq!(changes.len(), 1);
        let diff = at(
            &third["changes"],
            &[&cfg_path.display().to_string(), "diff"],
        )
        .py_str();
        assert!(diff.contains("-maxPods: 110\n+maxPods: 200\n"), "{diff}");
        assert_eq!(reloads.get(), 1);
    }

    #[test]
    fn a_failed_write_reports_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        // The drop-in's directory cannot be made: a file is in its way.
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/systemd"), "").unwrap();
        let low = chunk(dir.path(), &[]);
        let never = || -> Result<()> { panic!("the drop-in was not written") };
        let r = run_state(|c| configured_with(c, &never), &low, false);
        assert_eq!(r["result"], Value::Bool(false));
        let changes = r["changes"].as_map().unwrap();
        assert_eq!(changes.len(), 2);
        let env = dir.path().join("etc/default/kubelet");
        assert!(changes.contains_key(env.display().to_string().as_str()));
        assert!(env.is_file());
        assert!(r["comment"].py_str().contains("etc/systemd"), "{r:?}");
    }

    #[test]
    fn test_mode_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let low = chunk(dir.path(), &[]);
        let never = || -> Result<()> { panic!("no reload in test mode") };
        let r = run_state(|c| configured_with(c, &never), &low, true);
        assert_eq!(r["result"], Value::Null);
        assert_eq!(r["comment"], s("Kubelet configuration would be updated"));
        assert_eq!(r["changes"].as_map().unwrap().len(), 3);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn mod_watch_test_mode_and_other_functions() {
        let watch = |sfun: &str, test: bool| {
            let l = low(&[("name", s("/x/config.yaml")), ("sfun", s(sfun))]);
            run_state(mod_watch, &l, test)
        };
        let r = watch("configured", true);
        assert_eq!(r["result"], Value::Null);
        assert_eq!(r["comment"], s("Service is set to be restarted"));
        assert_eq!(r["changes"], Value::map());
        assert_eq!(watch("static_pod", false)["result"], Value::Bool(true));
        let r = watch("absent", false);
        assert_eq!(r["result"], Value::Bool(false));
        assert_eq!(
            r["comment"],
            s("Unable to trigger watch for kubelet.absent")
        );
    }
}
