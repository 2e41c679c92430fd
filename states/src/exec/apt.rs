//! The apt/dpkg provider behind `pkg.*` (Salt's `aptpkg`): package lists read from dpkg's
//! status file directly, and the package manager (`apt-get`, `apt-cache`, `dpkg`) run with
//! argv (no shell) in Salt's non-interactive environment.
//!
//! Where dpkg keeps its database follows dpkg itself: `$DPKG_ADMINDIR`, else
//! `/var/lib/dpkg`. Every command inherits the caller's environment, so `APT_CONFIG` and the
//! `DPKG_*` variables of a throwaway root (`../shared/recipes/dpkg-root.sh`) apply.

use super::dpkg;
use halite_core::{Error, Map, Result, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The environment Salt's aptpkg gives apt and dpkg (`DPKG_ENV_VARS`, and `ucf` keeping
/// the old configuration files).
pub const NONINTERACTIVE: [(&str, &str); 4] = [
    ("APT_LISTBUGS_FRONTEND", "none"),
    ("APT_LISTCHANGES_FRONTEND", "none"),
    ("DEBIAN_FRONTEND", "noninteractive"),
    ("UCF_FORCE_CONFFOLD", "1"),
];

/// dpkg's administrative directory.
pub fn admindir() -> PathBuf {
    std::env::var_os("DPKG_ADMINDIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from("/var/lib/dpkg"), PathBuf::from)
}

/// The architecture Salt treats as native when it names packages (`name:arch` for the
/// others): only `amd64` on x86_64, as aptpkg's `list_pkgs` decides from the grains.
pub fn native_arch() -> Option<&'static str> {
    (std::env::consts::ARCH == "x86_64").then_some("amd64")
}

/// One package name → its versions, in dpkg's order (Salt's `pkg_resource.add_pkg`).
pub type PkgList = Vec<(String, Vec<String>)>;

/// The package lists of `pkg.list_pkgs`.
#[derive(Debug, Default)]
pub struct PkgLists {
    /// Wanted installed (or held) and installed.
    pub installed: PkgList,
    /// Wanted removed (config files left).
    pub removed: PkgList,
    /// Wanted purged but still installed.
    pub purge_desired: PkgList,
    /// Names whose selection is `hold`.
    pub held: Vec<String>,
}

fn add(list: &mut PkgList, name: &str, version: &str) {
    match list.iter_mut().find(|(n, _)| n == name) {
        Some((_, v)) => v.push(version.to_string()),
        None => list.push((name.to_string(), vec![version.to_string()])),
    }
}

/// Read dpkg's status file and sort its packages as Salt's `aptpkg.list_pkgs` does (substring
/// tests on the status words included).
pub fn read_lists() -> Result<PkgLists> {
    let path = admindir().join("status");
    let text =
        std::fs::read_to_string(&path).map_err(|e| Error::io(path.display().to_string(), &e))?;
    let mut lists = PkgLists::default();
    for (key, p) in dpkg::parse_status(&text, native_arch()) {
        if p.want == "hold" {
            lists.held.push(key.clone());
        }
        if p.version.is_empty() || p.arch.is_empty() {
            continue;
        }
        if (p.want.contains("install") || p.want.contains("hold")) && p.state.contains("installed")
        {
            add(&mut lists.installed, &key, &p.version);
        } else if p.want.contains("deinstall") {
            add(&mut lists.removed, &key, &p.version);
        } else if p.want.contains("purge") && p.state == "installed" {
            add(&mut lists.purge_desired, &key, &p.version);
        }
    }
    Ok(lists)
}

/// `pkg.list_pkgs` (default arguments) as name → comma-joined sorted versions.
pub fn installed() -> Result<BTreeMap<String, String>> {
    let lists = read_lists()?;
    let mut out = BTreeMap::new();
    for (n, v) in lists.purge_desired.into_iter().chain(lists.installed) {
        out.insert(n, joined(v));
    }
    Ok(out)
}

/// Versions sorted and joined as Salt's `pkg_resource.stringify`.
pub fn joined(mut versions: Vec<String>) -> String {
    versions.sort();
    versions.join(",")
}

/// Salt's `salt.utils.data.compare_dicts(old, new)`: `{key: {'old': .., 'new': ..}}` for every
/// key whose value differs, `''` for a side that lacks it; keys in sorted order (Salt's
/// follow a set's iteration order, which varies from run to run).
pub fn compare(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> Map {
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut out = Map::default();
    for k in keys {
        let (o, n) = (old.get(k), new.get(k));
        if o != n {
            let (o, n) = (
                o.cloned().unwrap_or_default(),
                n.cloned().unwrap_or_default(),
            );
            let mut m = Map::default();
            // Salt's key order: a removed package lists `new` first, the others `old`.
            if n.is_empty() {
                m.insert("new".into(), n.into());
                m.insert("old".into(), o.into());
            } else {
                m.insert("old".into(), o.into());
                m.insert("new".into(), n.into());
            }
            out.insert(k.clone().into(), Value::Map(m));
        }
    }
    out
}

pub use super::command::Output;

/// Run a package-manager command (argv, no shell) in Salt's non-interactive environment.
pub fn run(argv: &[String]) -> Result<Output> {
    super::command::run_with(argv, None, &NONINTERACTIVE)
}

/// [`run`] with `input` on standard input.
pub fn run_input(argv: &[String], input: &str) -> Result<Output> {
    super::command::run_with(argv, Some(input), &NONINTERACTIVE)
}

/// Owned argv from string slices.
pub fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_string()).collect()
}

/// `apt-cache policy` candidates: package → candidate version (`None` for `(none)`), for
/// the packages apt knows.
pub fn policy_candidates(names: &[String]) -> Result<BTreeMap<String, Option<String>>> {
    let mut cmd = argv(&["apt-cache", "-q", "policy"]);
    cmd.extend(names.iter().cloned());
    let out = run(&cmd)?;
    Ok(parse_policy(&out.stdout))
}

/// Parse `apt-cache policy` output: each unindented `name:` line starts a package, its
/// `Candidate:` line gives the version.
pub fn parse_policy(text: &str) -> BTreeMap<String, Option<String>> {
    let mut out = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            current = Some(line.trim_end_matches(':').to_string());
            continue;
        }
        if let (Some(name), Some(rest)) = (&current, line.trim().strip_prefix("Candidate:")) {
            let v = rest.trim();
            out.insert(
                name.clone(),
                (v != "(none)" && !v.is_empty()).then(|| v.to_string()),
            );
        }
    }
    out
}

/// The versions apt can install for each package (`apt-cache madison`), newest first.
pub fn available_versions(names: &[String]) -> Result<BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if names.is_empty() {
        return Ok(out);
    }
    let mut cmd = argv(&["apt-cache", "-q", "madison"]);
    cmd.extend(names.iter().cloned());
    let res = run(&cmd)?;
    for line in res.stdout.lines() {
        let mut cols = line.split('|').map(str::trim);
        if let (Some(name), Some(version)) = (cols.next(), cols.next()) {
            let slot = out.entry(name.to_string()).or_default();
            if !slot.iter().any(|v| v == version) {
                slot.push(version.to_string());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_reports_added_changed_removed() {
        let old: BTreeMap<String, String> = [("a", "1"), ("b", "1")]
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let new: BTreeMap<String, String> = [("b", "2"), ("c", "3")]
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let c = compare(&old, &new);
        let keys: Vec<String> = c.keys().map(Value::py_str).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        let side = |k: &str, s: &str| {
            c.get(&Value::from(k))
                .and_then(|m| m.get(s))
                .map(Value::py_str)
        };
        assert_eq!(side("a", "new").as_deref(), Some(""));
        assert_eq!(side("b", "old").as_deref(), Some("1"));
        assert_eq!(side("c", "old").as_deref(), Some(""));
    }

    #[test]
    fn policy_parsing() {
        let text = "halite-demo-kubelet:\n  Installed: (none)\n  Candidate: 1.1\n  Version table:\n     1.1 500\nnothing:\n  Installed: (none)\n  Candidate: (none)\n";
        let p = parse_policy(text);
        assert_eq!(p["halite-demo-kubelet"].as_deref(), Some("1.1"));
        assert_eq!(p["nothing"], None);
    }
}
