//! Salt's `aptpkg` execution functions as a Rust API: `install`, `remove`/`purge`, `hold`,
//! `unhold`, `refresh_db`, `latest_version`, dpkg selections. The `pkg` state module and
//! the `pkg.*` execution functions both call these.

use super::apt::{self, argv, compare, installed, read_lists, run};
use super::dpkg;
use halite_core::{Error, Map, Result, Value};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The result of a package operation that may fail part-way.
pub type PkgResult = std::result::Result<Map, Box<PkgError>>;

/// A failed package operation with what it changed anyway (Salt's `CommandExecutionError`
/// with `info={'errors': [...], 'changes': {...}}`).
#[derive(Debug, Clone)]
pub struct PkgError {
    /// The headline (`Problem encountered installing package(s)`).
    pub message: String,
    /// The package manager's error texts.
    pub errors: Vec<String>,
    /// What changed before the failure.
    pub changes: Map,
    /// A command result shown as `result:` (pkg.upgrade), instead of `errors:`.
    pub result: Option<Map>,
}

impl PkgError {
    fn info(&self, with_changes: bool) -> Value {
        let mut info = Map::default();
        match &self.result {
            Some(r) => {
                info.insert("result".into(), Value::Map(r.clone()));
            }
            None => {
                info.insert(
                    "errors".into(),
                    Value::List(self.errors.iter().cloned().map(Value::Str).collect()),
                );
            }
        }
        if with_changes {
            info.insert("changes".into(), Value::Map(self.changes.clone()));
        }
        Value::Map(info)
    }

    /// Is this an error with information beyond its message (Salt's `exc.info`)?
    pub fn has_info(&self) -> bool {
        !self.errors.is_empty() || self.result.is_some()
    }

    fn text(&self, with_changes: bool) -> String {
        let palette = halite_output::colors::Palette::new(false);
        let nested =
            halite_output::nested::Nested::new(&palette, 0).output(&self.info(with_changes), 0);
        let mut head = self.message.clone();
        if !head.ends_with(['.', '?', '!']) {
            head.push('.');
        }
        format!("{head} Additional info follows:\n\n{}", nested.trim_end())
    }

    /// The exception's text (`str(exc)`), changes included.
    pub fn full_text(&self) -> String {
        self.text(true)
    }

    /// Salt's `strerror_without_changes`, which states put in their comment.
    pub fn text_without_changes(&self) -> String {
        self.text(false)
    }
}

impl From<Box<PkgError>> for Error {
    fn from(e: Box<PkgError>) -> Self {
        Error::CommandExecution(if e.has_info() {
            e.full_text()
        } else {
            e.message
        })
    }
}

impl From<Error> for Box<PkgError> {
    fn from(e: Error) -> Self {
        Box::new(PkgError {
            message: e.to_string(),
            errors: Vec::new(),
            changes: Map::default(),
            result: None,
        })
    }
}

/// A version as Salt writes it in a package list: YAML numbers become their text.
pub fn version_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        other => Some(other.py_str()),
    }
}

/// `salt.utils.versions.compare(ver1, oper, ver2, cmp_func=version_cmp)`.
pub fn compare_versions(ver1: &str, oper: &str, ver2: &str, ignore_epoch: bool) -> bool {
    let strip = |v: &str| -> String {
        if ignore_epoch {
            v.split_once(':').map_or(v, |(_, r)| r).to_string()
        } else {
            v.to_string()
        }
    };
    let Some(ord) = dpkg::version_cmp(&strip(ver1), &strip(ver2)) else {
        return false;
    };
    match oper {
        "==" | "=" => ord == Ordering::Equal,
        "!=" => ord != Ordering::Equal,
        ">=" => ord != Ordering::Less,
        "<=" => ord != Ordering::Greater,
        ">" => ord == Ordering::Greater,
        "<" => ord == Ordering::Less,
        _ => false,
    }
}

/// Split a version spec into operator and version (`salt.utils.pkg.split_comparison`:
/// `^(<=>|!=|>=|<=|>>|<<|<>|>|<|=)?\s?([^<>=]+)$`; no match → no operator, the whole text).
pub fn split_comparison(spec: &str) -> (&str, &str) {
    let mut op = "";
    for cand in ["<=>", "!=", ">=", "<=", ">>", "<<", "<>", ">", "<", "="] {
        if spec.starts_with(cand) {
            op = cand;
            break;
        }
    }
    let rest = &spec[op.len()..];
    let rest = rest
        .strip_prefix(|c: char| c.is_whitespace())
        .filter(|r| !r.is_empty())
        .unwrap_or(rest);
    if rest.is_empty() || rest.contains(['<', '>', '=']) {
        return ("", spec);
    }
    (op, rest)
}

/// Arguments of `install`.
#[derive(Debug, Default, Clone)]
pub struct InstallArgs {
    /// Packages from the repositories: name → version spec (`None`: any).
    pub repo_pkgs: Vec<(String, Option<String>)>,
    /// Local `.deb` files: (package name, path, version).
    pub sources: Vec<(String, String, String)>,
    /// Run `apt-get update` first (when a target is not already the candidate), removing
    /// this refresh tag.
    pub refresh: Option<std::path::PathBuf>,
    /// `fromrepo` (`-t`).
    pub fromrepo: Option<String>,
    /// `skip_verify` (`--allow-unauthenticated`).
    pub skip_verify: bool,
    /// `reinstall`.
    pub reinstall: bool,
    /// `install_recommends` when given.
    pub install_recommends: Option<bool>,
    /// `only_upgrade`.
    pub only_upgrade: bool,
    /// `force_yes`.
    pub force_yes: bool,
    /// `force_conf_new`.
    pub force_conf_new: bool,
    /// `ignore_epoch`.
    pub ignore_epoch: bool,
}

/// `pkg.install`: install the packages in as few `apt-get install` runs as Salt does
/// (one for upgrades and new packages, one for downgrades, one for reinstalls).
pub fn install(a: &InstallArgs) -> PkgResult {
    if a.repo_pkgs.is_empty() && a.sources.is_empty() {
        return Ok(Map::default());
    }
    let old = installed()?;
    let mut targets = Vec::new();
    let mut downgrade = Vec::new();
    let mut reinstall: Vec<(String, String)> = Vec::new();
    let mut errors = Vec::new();
    let mut prefix = argv(&["apt-get", "-q", "-y"]);
    if a.force_yes {
        prefix.push("--force-yes".into());
    }
    if a.force_conf_new {
        prefix.extend(argv(&["-o", "DPkg::Options::=--force-confnew"]));
    } else {
        prefix.extend(argv(&[
            "-o",
            "DPkg::Options::=--force-confold",
            "-o",
            "DPkg::Options::=--force-confdef",
        ]));
    }
    match a.install_recommends {
        Some(false) => prefix.push("--no-install-recommends".into()),
        Some(true) => prefix.push("--install-recommends".into()),
        None => {}
    }
    if a.only_upgrade {
        prefix.push("--only-upgrade".into());
    }
    if a.skip_verify {
        prefix.push("--allow-unauthenticated".into());
    }
    let from_repo = a.sources.is_empty();
    if let (Some(repo), true) = (&a.fromrepo, from_repo) {
        prefix.extend(["-t".to_string(), repo.clone()]);
    }
    prefix.push("install".into());

    let with_comparison: Vec<String> = a
        .repo_pkgs
        .iter()
        .filter(|(_, v)| v.as_deref().is_some_and(|v| v.starts_with(['<', '>'])))
        .map(|(n, _)| n.clone())
        .collect();
    let available = apt::available_versions(&with_comparison)?;
    let mut items: Vec<(String, String, Option<String>)> = Vec::new();
    for (name, version) in &a.repo_pkgs {
        items.push((name.clone(), name.clone(), version.clone()));
    }
    for (name, path, version) in &a.sources {
        items.push((name.clone(), path.clone(), Some(version.clone())));
    }
    for (name, target, version) in items {
        let Some(mut version) = version else {
            if a.reinstall && old.contains_key(&name) {
                reinstall.push((name.clone(), name));
            } else {
                targets.push(target);
            }
            continue;
        };
        let pkgstr = if from_repo {
            version = version.trim_start_matches('=').to_string();
            if with_comparison.contains(&name) {
                let candidates = available.get(&name).cloned().unwrap_or_default();
                let (op, want) = split_comparison(&version);
                let op = if op.is_empty() { "==" } else { op };
                match candidates
                    .iter()
                    .find(|c| compare_versions(c, op, want, a.ignore_epoch))
                {
                    Some(found) => version = found.clone(),
                    None => {
                        let avail = if candidates.is_empty() {
                            "None".to_string()
                        } else {
                            candidates.join(", ")
                        };
                        errors.push(format!(
                            "No version matching '{name}{version}' could be found (available: {avail})"
                        ));
                        continue;
                    }
                }
            }
            format!("{name}={version}")
        } else {
            target
        };
        let current = old.get(&name).cloned().unwrap_or_default();
        if a.reinstall && !current.is_empty() && compare_versions(&version, "==", &current, false) {
            reinstall.push((name, pkgstr));
        } else if current.is_empty() || compare_versions(&version, ">=", &current, false) {
            targets.push(pkgstr);
        } else {
            downgrade.push(pkgstr);
        }
    }

    let mut cmds = Vec::new();
    let mut all: Vec<String> = Vec::new();
    if !targets.is_empty() {
        all.extend(targets.iter().cloned());
        let mut cmd = prefix.clone();
        cmd.extend(targets);
        cmds.push(cmd);
    }
    if !downgrade.is_empty() {
        let mut cmd = prefix.clone();
        if from_repo && !cmd.iter().any(|c| c == "--force-yes") {
            cmd.insert(cmd.len() - 1, "--force-yes".into());
        }
        cmd.extend(downgrade);
        cmds.push(cmd);
    }
    if !reinstall.is_empty() {
        all.extend(reinstall.iter().map(|(n, _)| n.clone()));
        let mut cmd = prefix.clone();
        if from_repo {
            cmd.push("--reinstall".into());
        }
        cmd.extend(reinstall.iter().map(|(_, s)| s.clone()));
        cmds.push(cmd);
    }
    let mut changes = Map::default();
    if !cmds.is_empty() {
        if let Some(tag) = &a.refresh {
            // Salt's pkg.install refreshes unless every target names its candidate exactly.
            let names: Vec<String> = a.repo_pkgs.iter().map(|(n, _)| n.clone()).collect();
            let candidates = apt::policy_candidates(&names)?;
            let needed = !a.sources.is_empty()
                || a.repo_pkgs
                    .iter()
                    .any(|(n, v)| v.is_none() || candidates.get(n).cloned().flatten() != *v);
            if needed {
                refresh_db(Some(tag))?;
            }
        }
        let held = read_lists()?.held;
        let targeted: Vec<&str> = all
            .iter()
            .map(|t| t.split('=').next().unwrap_or(t))
            .collect();
        let to_unhold: Vec<String> = held
            .into_iter()
            .filter(|h| targeted.contains(&h.as_str()))
            .collect();
        if !to_unhold.is_empty() {
            set_selections("install", &to_unhold)?;
        }
        for cmd in &cmds {
            let out = run(&scoped(cmd))?;
            if out.retcode != 0 && !out.stderr.is_empty() {
                errors.push(out.stderr);
            }
        }
        let new = installed()?;
        changes = compare(&old, &new);
        for (name, _) in &reinstall {
            let key = Value::from(name.as_str());
            if !changes.contains_key(&key) || old.contains_key(name) {
                let mut m = Map::default();
                m.insert(
                    "old".into(),
                    old.get(name).cloned().unwrap_or_default().into(),
                );
                m.insert(
                    "new".into(),
                    new.get(name).cloned().unwrap_or_default().into(),
                );
                changes.insert(key, Value::Map(m));
            }
        }
        if !to_unhold.is_empty() {
            set_selections("hold", &to_unhold)?;
        }
    }
    if !errors.is_empty() {
        return Err(Box::new(PkgError {
            message: "Problem encountered installing package(s)".into(),
            errors,
            changes,
            result: None,
        }));
    }
    Ok(changes)
}

/// On a systemd host, run a package change in its own scope (`systemd-run --scope`), as
/// Salt does, so that a package restarting the minion's service does not kill apt with it.
fn scoped(cmd: &[String]) -> Vec<String> {
    if !super::systemd::booted() {
        return cmd.to_vec();
    }
    let mut out = argv(&["systemd-run", "--scope", "--description", "\"halite pkg\""]);
    out.extend(cmd.iter().cloned());
    out
}

/// `pkg.list_upgrades`: `apt-get --just-print dist-upgrade` (or `upgrade`) → name → version.
pub fn list_upgrades(
    refresh: Option<&std::path::Path>,
    dist_upgrade: bool,
) -> Result<BTreeMap<String, String>> {
    if let Some(tag) = refresh {
        refresh_db(Some(tag))?;
    }
    let out = run(&argv(&[
        "apt-get",
        "--just-print",
        if dist_upgrade {
            "dist-upgrade"
        } else {
            "upgrade"
        },
    ]))?;
    if out.retcode != 0 {
        let why = if out.stderr.is_empty() {
            &out.stdout
        } else {
            &out.stderr
        };
        return Err(Error::CommandExecution(format!(
            "Failed to get upgrades: {why}"
        )));
    }
    let mut ret = BTreeMap::new();
    for line in out.stdout.lines() {
        let Some(rest) = line.strip_prefix("Conf ") else {
            continue;
        };
        let mut parts = rest.splitn(2, ' ');
        let (Some(name), Some(ver)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Some(ver) = ver.strip_prefix('(') else {
            continue;
        };
        let ver = ver.split(' ').next().unwrap_or("");
        ret.insert(name.to_string(), ver.to_string());
    }
    Ok(ret)
}

/// `pkg.upgrade`: `apt-get upgrade` of the whole system; the changes, or the error with
/// the command's result.
pub fn upgrade(refresh: Option<&std::path::Path>, dist_upgrade: bool) -> PkgResult {
    if let Some(tag) = refresh {
        refresh_db(Some(tag))?;
    }
    let old = installed()?;
    let mut cmd = argv(&[
        "apt-get",
        "-q",
        "-y",
        "-o",
        "DPkg::Options::=--force-confold",
        "-o",
        "DPkg::Options::=--force-confdef",
    ]);
    cmd.push(
        if dist_upgrade {
            "dist-upgrade"
        } else {
            "upgrade"
        }
        .into(),
    );
    let out = run(&scoped(&cmd))?;
    let new = installed()?;
    let changes = compare(&old, &new);
    if out.retcode != 0 {
        let mut result = Map::default();
        result.insert("pid".into(), Value::Int(0));
        result.insert("retcode".into(), Value::Int(i64::from(out.retcode)));
        result.insert("stderr".into(), out.stderr.into());
        result.insert("stdout".into(), out.stdout.into());
        return Err(Box::new(PkgError {
            message: "Problem encountered upgrading packages".into(),
            errors: Vec::new(),
            changes,
            result: Some(result),
        }));
    }
    Ok(changes)
}

/// `pkg.list_repo_pkgs(*specs)` for `name=version` specs (`apt-cache show`): package →
/// its versions, newest first.
pub fn list_repo_pkgs(specs: &[String]) -> Result<BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if specs.is_empty() {
        return Ok(out);
    }
    let mut cmd = argv(&["apt-cache", "show"]);
    cmd.extend(specs.iter().cloned());
    let res = run(&cmd)?;
    let mut current: Option<String> = None;
    for line in res.stdout.lines() {
        if let Some(p) = line.strip_prefix("Package:") {
            current = Some(p.trim().to_string());
        } else if let (Some(v), Some(p)) = (line.strip_prefix("Version:"), &current) {
            out.entry(p.clone()).or_default().push(v.trim().to_string());
        }
    }
    Ok(out)
}

/// Names in `list` that match `patterns` (globs allowed, as `salt.utils.pkg.match_wildcard`).
fn match_wildcard(list: &BTreeMap<String, String>, patterns: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for p in patterns {
        if p.contains(['*', '?', '[']) {
            for name in list.keys() {
                if crate::fnmatch::fnmatch(name, p) && !out.contains(name) {
                    out.push(name.clone());
                }
            }
        } else if !out.contains(p) {
            out.push(p.clone());
        }
    }
    out
}

fn as_map(list: apt::PkgList) -> BTreeMap<String, String> {
    list.into_iter().map(|(n, v)| (n, apt::joined(v))).collect()
}

/// `pkg.remove` (`purge = false`) or `pkg.purge`.
pub fn uninstall(names: &[String], purge: bool) -> PkgResult {
    let lists = read_lists()?;
    let old_removed = as_map(lists.removed);
    let old = installed()?;
    let mut targets: Vec<String> = match_wildcard(&old, names)
        .into_iter()
        .filter(|n| old.contains_key(n))
        .collect();
    if purge {
        targets.extend(
            match_wildcard(&old_removed, names)
                .into_iter()
                .filter(|n| old_removed.contains_key(n)),
        );
    }
    if targets.is_empty() {
        return Ok(Map::default());
    }
    let mut cmd = argv(&[
        "apt-get",
        "-q",
        "-y",
        if purge { "purge" } else { "remove" },
    ]);
    cmd.extend(targets);
    let out = run(&scoped(&cmd))?;
    let errors = if out.retcode != 0 && !out.stderr.is_empty() {
        vec![out.stderr]
    } else {
        Vec::new()
    };
    let new = installed()?;
    let new_removed = as_map(read_lists()?.removed);
    let changes = compare(&old, &new);
    let ret = if purge {
        let mut m = Map::default();
        m.insert(
            "removed".into(),
            Value::Map(compare(&old_removed, &new_removed)),
        );
        m.insert("installed".into(), Value::Map(changes));
        m
    } else {
        changes
    };
    if !errors.is_empty() {
        return Err(Box::new(PkgError {
            message: "Problem encountered removing package(s)".into(),
            errors,
            changes: ret,
            result: None,
        }));
    }
    Ok(ret)
}

/// dpkg's selections (`dpkg --get-selections`): selection → names, read from the status
/// file. `pattern` is a glob on the name.
pub fn get_selections(pattern: Option<&str>) -> Result<BTreeMap<String, Vec<String>>> {
    let path = apt::admindir().join("status");
    let text =
        std::fs::read_to_string(&path).map_err(|e| Error::io(path.display().to_string(), &e))?;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, p) in dpkg::parse_status(&text, apt::native_arch()) {
        if p.want.is_empty() || p.want == "unknown" {
            continue;
        }
        if pattern.is_some_and(|pat| !crate::fnmatch::fnmatch(&key, pat)) {
            continue;
        }
        out.entry(p.want.clone()).or_default().push(key);
    }
    Ok(out)
}

/// Set the selection of `names` to `selection` (`dpkg --set-selections`); returns
/// `{name: {'old': previous, 'new': selection}}` for those that changed.
pub fn set_selections(selection: &str, names: &[String]) -> Result<Map> {
    let current = get_selections(None)?;
    let previous = |n: &str| -> Option<String> {
        current
            .iter()
            .find(|(_, names)| names.iter().any(|m| m == n))
            .map(|(s, _)| s.clone())
    };
    let mut out = Map::default();
    for name in names {
        let old = previous(name);
        if old.as_deref() == Some(selection) {
            continue;
        }
        let res = apt::run_input(
            &argv(&["dpkg", "--set-selections"]),
            &format!("{name} {selection}"),
        )?;
        if res.retcode != 0 {
            tracing::error!(package = %name, stderr = %res.stderr, "dpkg --set-selections failed");
            continue;
        }
        let mut m = Map::default();
        m.insert("old".into(), old.map_or(Value::Null, Value::Str));
        m.insert("new".into(), selection.into());
        out.insert(name.clone().into(), Value::Map(m));
    }
    Ok(out)
}

/// Set one package's selection; its `{'old': .., 'new': ..}` (empty when unchanged).
fn select_one(target: &str, selection: &str) -> Result<Map> {
    let ch = set_selections(selection, &[target.to_string()])?;
    Ok(ch
        .get(&Value::from(target))
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default())
}

/// `pkg.hold` / `pkg.unhold` for each target: Salt's per-package return dict.
pub fn hold_unhold(targets: &[String], hold: bool, test: bool) -> Result<Map> {
    let mut ret = Map::default();
    for target in targets {
        let mut r = Map::default();
        r.insert("name".into(), target.clone().into());
        r.insert("changes".into(), Value::map());
        r.insert("result".into(), Value::Bool(false));
        r.insert("comment".into(), "".into());
        let selections = get_selections(Some(target))?;
        let is_held = selections.get("hold").is_some_and(|v| !v.is_empty());
        let (result, comment, changes): (Value, String, Option<Map>) = if hold {
            if is_held {
                (
                    Value::Bool(true),
                    format!("Package {target} is already set to be held."),
                    None,
                )
            } else if test {
                (
                    Value::Null,
                    format!("Package {target} is set to be held."),
                    None,
                )
            } else {
                (
                    Value::Bool(true),
                    format!("Package {target} is now being held."),
                    Some(select_one(target, "hold")?),
                )
            }
        } else if selections.is_empty() {
            (
                Value::Bool(false),
                format!("Package {target} does not have a state."),
                None,
            )
        } else if !is_held {
            (
                Value::Bool(true),
                format!("Package {target} is already set not to be held."),
                None,
            )
        } else if test {
            (
                Value::Null,
                format!("Package {target} is set not to be held."),
                None,
            )
        } else {
            (
                Value::Bool(true),
                format!("Package {target} is no longer being held."),
                Some(select_one(target, "install")?),
            )
        };
        if let Some(ch) = changes {
            r.insert("changes".into(), Value::Map(ch));
        }
        r.insert("result".into(), result);
        r.insert("comment".into(), comment.into());
        ret.insert(target.clone().into(), Value::Map(r));
    }
    Ok(ret)
}

/// The "refresh once" tag file of a state run (`<cachedir>/pkg_refresh`).
pub fn rtag(opts: &Map) -> Option<std::path::PathBuf> {
    opts.get("cachedir")
        .and_then(Value::as_str)
        .map(|d| std::path::Path::new(d).join("pkg_refresh"))
}

/// `pkg.refresh_db`: remove the refresh tag, then `apt-get -q update`; each source line →
/// `True` (fetched), `None` (hit), `False` (ignored or failed).
pub fn refresh_db(rtag: Option<&std::path::Path>) -> Result<Map> {
    if let Some(tag) = rtag {
        if let Err(e) = std::fs::remove_file(tag) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %tag.display(), error = %e, "Encountered error removing rtag");
            }
        }
    }
    let out = run(&argv(&["apt-get", "-q", "update"]))?;
    if out.retcode != 0 {
        return Err(Error::CommandExecution(out.stderr));
    }
    let size =
        regex::Regex::new(r" \[.+B\]$").map_err(|e| Error::CommandExecution(e.to_string()))?;
    let mut ret = Map::default();
    for line in out.stdout.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let Some(first) = cols.first() else { continue };
        let ident = cols[1..].join(" ");
        if first.contains("Get") {
            ret.insert(
                size.replace(&ident, "").into_owned().into(),
                Value::Bool(true),
            );
        } else if first.contains("Ign") || first.contains("Err") {
            ret.insert(ident.into(), Value::Bool(false));
        } else if first.contains("Hit") {
            ret.insert(ident.into(), Value::Null);
        }
    }
    Ok(ret)
}

/// `pkg.latest_version`: the candidate of each name that would be an upgrade (or an
/// install), `""` when there is none; `show_installed` gives the candidate regardless.
pub fn latest_version(
    names: &[String],
    refresh: Option<&std::path::Path>,
    show_installed: bool,
) -> Result<BTreeMap<String, String>> {
    if let Some(tag) = refresh {
        refresh_db(Some(tag))?;
    }
    let lists = read_lists()?;
    let candidates = apt::policy_candidates(names)?;
    let mut ret = BTreeMap::new();
    for name in names {
        let candidate = candidates.get(name).cloned().flatten().unwrap_or_default();
        let installed = lists
            .installed
            .iter()
            .chain(lists.purge_desired.iter())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let upgrade = !candidate.is_empty()
            && !installed
                .iter()
                .any(|v| compare_versions(v, ">=", &candidate, false));
        let value = if installed.is_empty() || show_installed || upgrade {
            candidate
        } else {
            String::new()
        };
        ret.insert(name.clone(), value);
    }
    Ok(ret)
}

/// `lowpkg.bin_pkg_info`: a `.deb` file's package name and version.
pub fn deb_info(path: &str) -> Result<(String, String)> {
    let out = run(&argv(&["dpkg-deb", "--field", path, "Package", "Version"]))?;
    if out.retcode != 0 {
        return Err(Error::CommandExecution(format!(
            "Unable to get package info for {path}: {}",
            out.stderr
        )));
    }
    let mut name = String::new();
    let mut version = String::new();
    for line in out.stdout.lines() {
        if let Some(v) = line.strip_prefix("Package:") {
            name = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("Version:") {
            version = v.trim().to_string();
        }
    }
    Ok((name, version))
}

/// What `pkg_resource.parse_targets` found: packages from the repositories or local files.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// name → version spec (`None`: any), in the order given.
    Repository(Vec<(String, Option<String>)>),
    /// (name as written in `sources`, path of the `.deb` file).
    File(Vec<(String, String)>),
}

/// `aptpkg.normalize_name`: drop a `:arch` suffix naming the native architecture.
pub fn normalize_name(name: &str) -> String {
    match name.rsplit_once(':') {
        Some((pkg, arch)) if Some(arch) == apt::native_arch() || arch == "all" || arch == "any" => {
            pkg.to_string()
        }
        _ => name.to_string(),
    }
}

/// `salt.utils.data.repack_dictlist` over a `pkgs`/`sources` list: strings and one-key
/// maps → (name, value) pairs; `None` when an item has another shape.
pub fn repack_dictlist(list: &Value) -> Option<Vec<(String, Value)>> {
    let items = list.as_list()?;
    let mut out: Vec<(String, Value)> = Vec::new();
    for item in items {
        let pairs: Vec<(String, Value)> = match item {
            Value::Map(m) => m.iter().map(|(k, v)| (k.py_str(), v.clone())).collect(),
            Value::List(_) => return None,
            other => vec![(other.py_str(), Value::Null)],
        };
        for (k, v) in pairs {
            match out.iter_mut().find(|(n, _)| *n == k) {
                Some(slot) => slot.1 = v,
                None => out.push((k, v)),
            }
        }
    }
    Some(out)
}

fn set(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| v.is_truthy())
}

/// `pkg_resource.parse_targets(name, pkgs, sources, version=...)`. `Ok(None)` where Salt
/// logs an error and returns `(None, None)`; `cache` fetches a `salt://` source.
pub fn parse_targets(
    name: Option<&Value>,
    pkgs: Option<&Value>,
    sources: Option<&Value>,
    version: Option<&Value>,
    cache: &dyn Fn(&str) -> Result<Option<String>>,
) -> Result<Option<Targets>> {
    let (name, pkgs, sources) = (set(name), set(pkgs), set(sources));
    if pkgs.is_some() && sources.is_some() {
        tracing::error!("Only one of \"pkgs\" and \"sources\" can be used.");
        return Ok(None);
    }
    if let Some(pkgs) = pkgs {
        let Some(list) = repack_dictlist(pkgs) else {
            tracing::error!("Invalidly formatted \"pkgs\" parameter. See minion log.");
            return Ok(None);
        };
        let given = pkgs.as_list().map_or(0, Vec::len);
        let list: Vec<(String, Option<String>)> = list
            .into_iter()
            .map(|(n, v)| (normalize_name(&n), version_text(&v)))
            .collect();
        if list.len() != given {
            return Err(Error::InvalidArgument(format!(
                "You are passing a list of packages that contains duplicated packages names: {}. This cannot be processed. In case you are targeting different versions of the same package, please target them individually",
                pkgs.py_repr()
            )));
        }
        return Ok((!list.is_empty()).then_some(Targets::Repository(list)));
    }
    if let Some(sources) = sources {
        let Some(list) = repack_dictlist(sources) else {
            tracing::error!("Invalidly formatted \"sources\" parameter. See minion log.");
            return Ok(None);
        };
        let mut out = Vec::new();
        for (pkg, src) in list {
            let src = src.py_str();
            let is_proto = [
                "salt://", "http://", "https://", "ftp://", "s3://", "swift://", "file://",
            ]
            .iter()
            .any(|p| src.starts_with(p));
            if is_proto {
                match cache(&src)? {
                    Some(path) if !path.is_empty() => out.push((pkg, path)),
                    _ => {
                        return Err(Error::CommandExecution(format!(
                            "Unable to cache source {src} for package {pkg}"
                        )))
                    }
                }
            } else if !src.starts_with('/') {
                return Err(Error::InvalidArgument(format!(
                    "Path {src} for package {pkg} is either not absolute or an invalid protocol"
                )));
            } else {
                out.push((pkg, src));
            }
        }
        return Ok((!out.is_empty()).then_some(Targets::File(out)));
    }
    if let Some(name) = name {
        let version = version.and_then(version_text);
        let list = name
            .py_str()
            .split(',')
            .map(|n| (normalize_name(n), version.clone()))
            .collect();
        return Ok(Some(Targets::Repository(list)));
    }
    tracing::error!("No package sources provided");
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons() {
        assert!(compare_versions("1.1", ">=", "1.0", false));
        assert!(!compare_versions("1.0", ">", "1.0", false));
        assert!(compare_versions("1:1.0", "==", "1.0", true));
        assert_eq!(split_comparison(">=1.0"), (">=", "1.0"));
        assert_eq!(split_comparison("1.0"), ("", "1.0"));
    }

    #[test]
    fn error_text_as_salt() {
        let e = PkgError {
            message: "Problem encountered installing package(s)".into(),
            errors: vec!["E: Unable to locate package no-such-pkg".into()],
            changes: Map::default(),
            result: None,
        };
        assert_eq!(
            e.text_without_changes(),
            "Problem encountered installing package(s). Additional info follows:\n\nerrors:\n    - E: Unable to locate package no-such-pkg"
        );
    }
}
