//! `pkg.*` states on apt/dpkg (salt/states/pkg.py with aptpkg as the provider):
//! `installed`, `latest`, `removed`, `purged`, `held`, `unheld`, `uptodate`, `mod_init`
//! (refresh once per run) and `mod_watch`. Package lists come from dpkg's status file read
//! directly; apt runs only when something must change (or where Salt asks apt a question).

use super::{ret, Registry, StateCall};
use crate::exec::apt;
use crate::exec::aptpkg::{self, compare_versions, split_comparison, InstallArgs, PkgError};
use crate::fnmatch::fnmatch;
use halite_core::{Map, Result, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Register the `pkg` module.
pub fn register(r: &mut Registry) {
    r.add("pkg.installed", installed);
    r.add("pkg.latest", latest);
    r.add("pkg.removed", removed);
    r.add("pkg.purged", purged);
    r.add("pkg.held", held);
    r.add("pkg.unheld", unheld);
    r.add("pkg.uptodate", uptodate);
    r.add_mod_watch("pkg", mod_watch);
    r.add_mod_init("pkg", mod_init);
    r.add_mod_aggregate("pkg", mod_aggregate);
}

/// The package entries of a chunk as a `pkgs` list: its `pkgs`, or its `name` (with its
/// `version` as `{name: version}`).
fn chunk_entries(low: &crate::chunk::Chunk) -> Vec<Value> {
    if let Some(Value::List(l)) = low.get("pkgs") {
        return l.clone();
    }
    let name = low.get("name").map(Value::py_str).unwrap_or_default();
    match low.get("version").filter(|v| !v.is_null()) {
        Some(v) => {
            let mut m = Map::default();
            m.insert(name.into(), v.clone());
            vec![Value::Map(m)]
        }
        None => vec![Value::Str(name)],
    }
}

fn entry_name(v: &Value) -> String {
    match v {
        Value::Map(m) => m.keys().next().map(Value::py_str).unwrap_or_default(),
        other => other.py_str(),
    }
}

/// Salt's `pkg.mod_aggregate`, as it is meant to work: the `installed`, `latest`,
/// `removed` and `purged` chunks of a run that share the function and `fromrepo` (and have
/// no `hold` or `sources`) become one `pkgs` list on the first of them, so apt runs once;
/// the others then find their packages in place. (Salt 3008.5's own version drops the first
/// chunk's package and the others' versions; Halite keeps both.)
fn mod_aggregate(
    low: &crate::chunk::Chunk,
    others: &[&crate::chunk::Chunk],
) -> (crate::chunk::Chunk, Vec<usize>) {
    let fun = low.get("fun").map(Value::py_str).unwrap_or_default();
    let mergeable = |c: &crate::chunk::Chunk| {
        c.get("hold").is_none() && c.get("sources").is_none_or(Value::is_null)
    };
    if !matches!(fun.as_str(), "installed" | "latest" | "removed" | "purged") || !mergeable(low) {
        return (low.clone(), Vec::new());
    }
    let fromrepo = low.get("fromrepo").map(Value::py_str);
    let mut entries = chunk_entries(low);
    let mut absorbed = Vec::new();
    for (k, c) in others.iter().enumerate() {
        let same = c.get("fun").map(Value::py_str).as_deref() == Some(fun.as_str())
            && c.get("fromrepo").map(Value::py_str) == fromrepo
            && mergeable(c);
        if !same {
            continue;
        }
        for e in chunk_entries(c) {
            if !entries.iter().any(|x| entry_name(x) == entry_name(&e)) {
                entries.push(e);
            }
        }
        absorbed.push(k);
    }
    let mut out = low.clone();
    if !absorbed.is_empty() {
        out.shift_remove("version");
        out.insert("pkgs".into(), Value::List(entries));
    }
    (out, absorbed)
}

/// Salt's `pkg.mod_init`: the first `installed`/`latest` chunk of a run writes the refresh
/// tag, so that the run refreshes the package index once (the refresh removes the tag).
fn mod_init(low: &crate::chunk::Chunk, opts: &Map) -> bool {
    let fun = low.get("fun").and_then(Value::as_str).unwrap_or("");
    if fun != "installed" && fun != "latest" {
        return false;
    }
    if let Some(tag) = aptpkg::rtag(opts) {
        if !tag.exists() {
            if let Some(dir) = tag.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            if let Err(e) = std::fs::write(&tag, b"") {
                tracing::warn!(path = %tag.display(), error = %e, "Encountered error writing rtag");
            }
        }
    }
    true
}

fn mod_watch(c: &StateCall) -> Result<Map> {
    match c.str_arg("sfun").unwrap_or("") {
        "installed" => installed(c),
        "latest" => latest(c),
        "removed" => removed(c),
        "purged" => purged(c),
        other => Ok(ret(
            &c.name(),
            Map::default(),
            Some(false),
            format!("pkg.{other} does not work with the watch requisite"),
        )),
    }
}

/// `salt.utils.data.is_true`.
fn is_true(v: &Value) -> bool {
    match v {
        Value::Str(s) => s.eq_ignore_ascii_case("true"),
        Value::Int(i) => *i > 0,
        Value::Float(f) => *f > 0.0,
        other => other.is_truthy(),
    }
}

/// `salt.utils.pkg.check_refresh`: refresh when asked, or when the run's tag is there and
/// refresh is not explicitly off. Returns the tag to clear when refreshing.
fn check_refresh(c: &StateCall) -> Option<PathBuf> {
    let tag = aptpkg::rtag(c.opts)?;
    let arg = c.arg("refresh");
    let asked = arg.is_some_and(is_true);
    let off = matches!(arg, Some(Value::Bool(false)));
    (asked || (tag.is_file() && !off)).then_some(tag)
}

/// Installed packages, name → versions (`list_pkgs(versions_as_list=True)`).
fn current() -> Result<BTreeMap<String, Vec<String>>> {
    let l = apt::read_lists()?;
    let mut out = BTreeMap::new();
    for (n, mut v) in l.purge_desired.into_iter().chain(l.installed) {
        v.sort();
        v.dedup();
        out.insert(n, v);
    }
    Ok(out)
}

fn lookup<'a>(cur: &'a BTreeMap<String, Vec<String>>, name: &str) -> Option<&'a Vec<String>> {
    cur.get(name).or_else(|| {
        let n = aptpkg::normalize_name(name);
        (n != name).then(|| cur.get(&n)).flatten()
    })
}

/// `_get_desired_pkg`: `name`, `name=ver`, or `name<op>ver`.
fn desired_pkg(name: &str, version: Option<&str>) -> String {
    match version {
        None | Some("") => name.to_string(),
        Some(v) if v.starts_with(['<', '>', '=']) => format!("{name}{v}"),
        Some(v) => format!("{name}={v}"),
    }
}

/// `_fulfills_version_string`: some installed version satisfies every condition of `spec`.
fn fulfills_version_string(
    installed: &[String],
    spec: &str,
    ignore_epoch: Option<bool>,
    allow_updates: bool,
) -> bool {
    let spec = spec.trim();
    let mut conds: Vec<(String, String)> = if spec.is_empty() {
        Vec::new()
    } else {
        spec.split(',')
            .map(|part| {
                let (op, v) = split_comparison(part.trim());
                let op = if op.is_empty() || op == "=" { "==" } else { op };
                (op.to_string(), v.to_string())
            })
            .collect()
    };
    if allow_updates && conds.len() == 1 && conds[0].0 == "==" {
        conds[0].0 = ">=".into();
    }
    installed.iter().any(|v| {
        conds.iter().all(|(op, want)| {
            let ignore = ignore_epoch
                .unwrap_or_else(|| !op.contains('<') && !op.contains('>') && !want.contains(':'));
            (op == "==" && fnmatch(v, want)) || compare_versions(v, op, want, ignore)
        })
    })
}

fn pkgs_arg<'a>(c: &'a StateCall<'a>) -> Option<&'a Value> {
    c.arg("pkgs").filter(|v| !v.is_null())
}

fn version_arg(c: &StateCall) -> Option<String> {
    c.arg("version").filter(|v| !v.is_null()).map(Value::py_str)
}

/// `pkg.hold`/`pkg.unhold` of the named packages, as `(modified, not_modified, failed)`
/// entries `(name, changes, comment)`.
type HoldEntry = (String, Map, String);

fn hold_entries(names: &[String], hold: bool, test: bool) -> Result<[Vec<HoldEntry>; 3]> {
    let out = aptpkg::hold_unhold(names, hold, test)?;
    let (mut modified, mut same, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for (k, v) in out {
        let changes = v
            .get("changes")
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default();
        let comment = v.get("comment").map(Value::py_str).unwrap_or_default();
        let ok = v.get("result").is_some_and(Value::is_truthy);
        let entry = (k.py_str(), changes, comment);
        if !entry.1.is_empty() {
            modified.push(entry);
        } else if ok {
            same.push(entry);
        } else {
            failed.push(entry);
        }
    }
    Ok([modified, same, failed])
}

/// What `_find_install_targets` decided.
struct Plan {
    desired: Vec<(String, Option<String>)>,
    targets: Vec<(String, Option<String>)>,
    to_reinstall: Vec<(String, Option<String>)>,
    to_unpurge: Vec<String>,
    refresh: Option<PathBuf>,
}

fn installed(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let fail = |msg: String| Ok(ret(&name, Map::default(), Some(false), msg));
    if let Some(Value::List(l)) = pkgs_arg(c) {
        if l.is_empty() {
            return Ok(ret(
                &name,
                Map::default(),
                Some(true),
                "No packages to install provided",
            ));
        }
    }
    let sources = c.arg("sources").filter(|v| v.is_truthy()).cloned();
    let mut pkgs = pkgs_arg(c).filter(|v| v.is_truthy()).cloned();
    // A lone name is always packed into `pkgs`, as Salt does (with its version).
    if !name.is_empty() && pkgs.is_none() && sources.is_none() {
        pkgs = Some(Value::List(vec![
            match version_arg(c).filter(|v| !v.is_empty()) {
                Some(v) => {
                    let mut m = Map::default();
                    m.insert(name.clone().into(), Value::Str(v));
                    Value::Map(m)
                }
                None => Value::Str(name.clone()),
            },
        ]));
    }
    let mut refresh = check_refresh(c);
    let verify = c.arg("pkg_verify");
    if verify.is_some_and(|v| v.is_truthy() || matches!(v, Value::List(_))) {
        return fail("pkg.verify not implemented".into());
    }
    let ignore_epoch = c.arg("ignore_epoch").and_then(Value::as_bool);
    let allow_updates = c.flag("allow_updates", false);
    let reinstall = c.flag("reinstall", false);

    // _find_install_targets
    if pkgs.is_some() && sources.is_some() {
        return fail("Only one of \"pkgs\" and \"sources\" is permitted.".into());
    }
    let cur = current()?;
    let lists = apt::read_lists()?;
    let from_sources = sources.is_some();
    let mut desired: Vec<(String, Option<String>)> = Vec::new();
    if let Some(p) = pkgs.as_ref().or(sources.as_ref()) {
        let repacked = aptpkg::repack_dictlist(p).unwrap_or_default();
        let given = p.as_list().map_or(0, Vec::len);
        if !from_sources && repacked.len() != given && !repacked.is_empty() {
            return fail(format!(
                "An exception occurred in this state: You are passing a list of packages that contains duplicated packages names: {}. This cannot be processed. In case you are targeting different versions of the same package, please target them individually",
                p.py_repr()
            ));
        }
        desired = repacked
            .into_iter()
            .map(|(n, v)| (n, aptpkg::version_text(&v)))
            .collect();
    }
    if desired.is_empty() {
        let which = if from_sources { "sources" } else { "pkgs" };
        return fail(format!(
            "Invalidly formatted '{which}' parameter. See minion log."
        ));
    }
    let to_unpurge: Vec<String> = desired
        .iter()
        .filter(|(n, _)| lists.purge_desired.iter().any(|(p, _)| p == n))
        .map(|(n, _)| n.clone())
        .collect();
    if !from_sources {
        let wants_latest: Vec<String> = desired
            .iter()
            .filter(|(_, v)| v.as_deref() == Some("latest"))
            .map(|(n, _)| n.clone())
            .collect();
        if !wants_latest.is_empty() {
            let avail = aptpkg::latest_version(&wants_latest, refresh.as_deref(), false)?;
            refresh = None;
            for (n, v) in desired.iter_mut() {
                if v.as_deref() == Some("latest") {
                    let found = avail.get(n.as_str()).cloned().unwrap_or_default();
                    *v = if found.is_empty() {
                        cur.get(n.as_str()).and_then(|l| l.last().cloned())
                    } else {
                        Some(found)
                    };
                }
            }
        }
    }
    let mut targets = Vec::new();
    let mut to_reinstall = Vec::new();
    let mut version_spec = false;
    let mut problems = Vec::new();
    for (pname, v) in &desired {
        let Some(cver) = lookup(&cur, pname) else {
            targets.push((pname.clone(), v.clone()));
            continue;
        };
        let verstr = if from_sources {
            if reinstall {
                to_reinstall.push((pname.clone(), v.clone()));
                continue;
            }
            let src = v.clone().unwrap_or_default();
            let path = match cached_source(c, &src) {
                Ok(p) => p,
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            };
            match aptpkg::deb_info(&path) {
                Ok((_, ver)) => ver,
                Err(_) => {
                    tracing::warn!("Failed to parse metadata for {src}");
                    continue;
                }
            }
        } else {
            if reinstall {
                to_reinstall.push((pname.clone(), v.clone()));
                continue;
            }
            match v {
                None => continue,
                Some(s) => s.clone(),
            }
        };
        version_spec = true;
        let ok =
            fulfills_version_string(cver, &verstr, ignore_epoch, !from_sources && allow_updates);
        if !ok {
            if reinstall {
                to_reinstall.push((pname.clone(), v.clone()));
            } else {
                targets.push((pname.clone(), v.clone()));
            }
        }
    }
    if !problems.is_empty() {
        return fail(problems.join(" "));
    }
    let names_of = |l: &[(String, Option<String>)]| -> Vec<String> {
        l.iter().map(|(n, _)| n.clone()).collect()
    };
    if targets.is_empty() && to_unpurge.is_empty() && to_reinstall.is_empty() {
        let mut comment = "All specified packages are already installed".to_string();
        if version_spec && !from_sources {
            comment.push_str(" and are at the desired version");
        }
        let mut r = ret(&name, Map::default(), Some(true), comment);
        if c.arg("hold").is_some() {
            early_holds(c, &mut r, &names_of(&desired))?;
        }
        return Ok(r);
    }
    let plan = Plan {
        desired,
        targets,
        to_reinstall,
        to_unpurge,
        refresh,
    };
    if c.test {
        return installed_test(c, &name, &plan, from_sources);
    }
    installed_apply(c, &name, &plan, from_sources, reinstall, ignore_epoch)
}

/// A `sources` entry as a local path (`salt://` and other remote sources are cached).
fn cached_source(c: &StateCall, src: &str) -> std::result::Result<String, String> {
    if src.contains("://") {
        let v = c
            .functions
            .call("cp.cache_file", &[Value::from(src)], &Map::default())
            .map_err(|e| format!("Unable to cache {src}: {e}"))?;
        match v.as_str().filter(|s| !s.is_empty()) {
            Some(p) => Ok(p.to_string()),
            None => Err(format!("Unable to cache {src}: file not found")),
        }
    } else if std::path::Path::new(src).exists() {
        Ok(src.to_string())
    } else {
        Err(format!("{src} does not exist on minion"))
    }
}

/// The hold step of the "nothing to install" path: comments appended with `".\n"` as Salt
/// does (which doubles a full stop), the last entry's result kept.
fn early_holds(c: &StateCall, r: &mut Map, names: &[String]) -> Result<()> {
    let hold = c.flag("hold", false);
    let [modified, same, failed] = match hold_entries(names, hold, c.test) {
        Ok(e) => e,
        Err(e) => {
            r.insert("result".into(), Value::Bool(false));
            r.insert("comment".into(), e.to_string().into());
            r.insert("changes".into(), Value::map());
            return Ok(());
        }
    };
    let mut comment = r.get("comment").map(Value::py_str).unwrap_or_default();
    let mut changes = Map::default();
    for (n, ch, cm) in &modified {
        comment.push_str(".\n");
        comment.push_str(cm);
        r.insert("result".into(), Value::Bool(true));
        changes.insert(n.clone().into(), Value::Map(ch.clone()));
    }
    for (_, _, cm) in &same {
        comment.push_str(".\n");
        comment.push_str(cm);
        r.insert("result".into(), Value::Bool(true));
    }
    for (_, _, cm) in &failed {
        comment.push_str(".\n");
        comment.push_str(cm);
        // A test-mode hold reports None, which Salt carries into the state's result.
        r.insert(
            "result".into(),
            if c.test {
                Value::Null
            } else {
                Value::Bool(false)
            },
        );
    }
    r.insert("comment".into(), comment.into());
    r.insert("changes".into(), Value::Map(changes));
    Ok(())
}

/// `_get_installable_versions`: what each target would become (`"installed"` when apt
/// cannot say), with its current version as `old`.
fn installable_versions(
    c: &StateCall,
    targets: &[(String, Option<String>)],
    current: &BTreeMap<String, String>,
) -> Result<Map> {
    let latest: Vec<String> = targets
        .iter()
        .filter(|(_, v)| v.as_deref().is_none_or(str::is_empty))
        .map(|(n, _)| n.clone())
        .collect();
    let mut found: BTreeMap<String, String> = BTreeMap::new();
    if !latest.is_empty() {
        // Salt's latest_version refreshes by default here, even under test=True.
        let tag = aptpkg::rtag(c.opts).unwrap_or_default();
        let avail = aptpkg::latest_version(&latest, Some(tag.as_path()), false)?;
        found.extend(avail.into_iter().filter(|(_, v)| !v.is_empty()));
    }
    let explicit: Vec<String> = targets
        .iter()
        .filter(|(n, _)| !latest.contains(n))
        .map(|(n, v)| desired_pkg(n, v.as_deref()))
        .collect();
    for (pkg, versions) in aptpkg::list_repo_pkgs(&explicit)? {
        if let Some(first) = versions.into_iter().next() {
            found.entry(pkg).or_insert(first);
        }
    }
    let mut changes = Map::default();
    for (n, _) in targets {
        let mut m = Map::default();
        m.insert(
            "new".into(),
            found
                .get(n)
                .cloned()
                .unwrap_or_else(|| "installed".into())
                .into(),
        );
        m.insert(
            "old".into(),
            current.get(n).cloned().unwrap_or_default().into(),
        );
        changes.insert(n.clone().into(), Value::Map(m));
    }
    Ok(changes)
}

fn installed_test(c: &StateCall, name: &str, plan: &Plan, from_sources: bool) -> Result<Map> {
    let mut comments = Vec::new();
    let mut changes = Map::default();
    if !plan.targets.is_empty() {
        if from_sources {
            for (n, _) in &plan.targets {
                changes.insert(n.clone().into(), new_old("installed", ""));
            }
        } else {
            changes.extend(installable_versions(c, &plan.targets, &BTreeMap::new())?);
        }
        let summary: Vec<&str> = plan.targets.iter().map(|(n, _)| n.as_str()).collect();
        comments.push(format!(
            "The following packages would be installed/updated: {}",
            summary.join(", ")
        ));
    }
    if !plan.to_unpurge.is_empty() {
        comments.push(format!(
            "The following packages would have their selection status changed from 'purge' to 'install': {}",
            plan.to_unpurge.join(", ")
        ));
        for n in &plan.to_unpurge {
            changes.insert(n.clone().into(), new_old("installed", ""));
        }
    }
    if !plan.to_reinstall.is_empty() && c.flag("reinstall", false) {
        let shown: Vec<String> = plan
            .to_reinstall
            .iter()
            .map(|(n, v)| {
                if from_sources {
                    n.clone()
                } else {
                    desired_pkg(n, v.as_deref())
                }
            })
            .collect();
        comments.push(format!(
            "The following packages would be reinstalled: {}",
            shown.join(", ")
        ));
        for s in shown {
            changes.insert(s.into(), new_old("installed", ""));
        }
    }
    Ok(ret(name, changes, None, comments.join("\n")))
}

fn new_old(new: &str, old: &str) -> Value {
    let mut m = Map::default();
    m.insert("new".into(), new.into());
    m.insert("old".into(), old.into());
    Value::Map(m)
}

/// The `pkg.install` arguments of a state chunk.
fn install_args(c: &StateCall, refresh: Option<PathBuf>) -> InstallArgs {
    let flag = |k: &str| c.flag(k, false);
    InstallArgs {
        refresh,
        fromrepo: c
            .arg("fromrepo")
            .filter(|v| v.is_truthy())
            .map(Value::py_str),
        skip_verify: flag("skip_verify"),
        install_recommends: c.arg("install_recommends").map(Value::is_truthy),
        only_upgrade: flag("only_upgrade"),
        force_yes: flag("force_yes"),
        force_conf_new: flag("force_conf_new"),
        ignore_epoch: flag("ignore_epoch"),
        ..Default::default()
    }
}

fn pkg_error(e: &PkgError, changes: &mut Map) -> String {
    if e.has_info() {
        *changes = e.changes.clone();
        e.text_without_changes()
    } else {
        format!(
            "An error was encountered while installing package(s): {}",
            e.message
        )
    }
}

fn installed_apply(
    c: &StateCall,
    name: &str,
    plan: &Plan,
    from_sources: bool,
    reinstall: bool,
    ignore_epoch: Option<bool>,
) -> Result<Map> {
    let mut changes = Map::default();
    let mut a = install_args(c, plan.refresh.clone());
    a.reinstall = !plan.to_reinstall.is_empty() && reinstall;
    let wanted: Vec<(String, Option<String>)> = plan
        .targets
        .iter()
        .chain(plan.to_reinstall.iter())
        .cloned()
        .collect();
    if from_sources {
        for (_, src) in &wanted {
            let src = src.clone().unwrap_or_default();
            let path = match cached_source(c, &src) {
                Ok(p) => p,
                Err(e) => return Ok(ret(name, changes, Some(false), e)),
            };
            match aptpkg::deb_info(&path) {
                Ok((n, v)) => a.sources.push((n, path, v)),
                Err(e) => return Ok(ret(name, changes, Some(false), e.to_string())),
            }
        }
    } else {
        a.repo_pkgs = wanted;
    }
    let mut pkg_ret = Map::default();
    if !plan.targets.is_empty() || !plan.to_reinstall.is_empty() {
        match aptpkg::install(&a) {
            Ok(ch) => pkg_ret = ch,
            Err(e) => {
                let comment = pkg_error(&e, &mut changes);
                return Ok(ret(name, changes, Some(false), comment));
            }
        }
    }
    changes.extend(pkg_ret.clone());
    let mut hold_sets: Option<[Vec<HoldEntry>; 3]> = None;
    if c.arg("hold").is_some() {
        let names: Vec<String> = plan.desired.iter().map(|(n, _)| n.clone()).collect();
        match hold_entries(&names, c.flag("hold", false), c.test) {
            Ok(sets) => hold_sets = Some(sets),
            Err(e) => {
                return Ok(ret(name, changes, Some(false), e.to_string()));
            }
        }
    }
    if !plan.to_unpurge.is_empty() {
        let before = apt::read_lists()?.purge_desired;
        aptpkg::set_selections("install", &plan.to_unpurge)?;
        let after = apt::read_lists()?.purge_desired;
        let as_map = |l: apt::PkgList| -> BTreeMap<String, String> {
            l.into_iter().map(|(n, v)| (n, apt::joined(v))).collect()
        };
        changes.insert(
            "purge_desired".into(),
            Value::Map(apt::compare(&as_map(before), &as_map(after))),
        );
    }
    // Verify.
    let target_names: Vec<&str> = plan.targets.iter().map(|(n, _)| n.as_str()).collect();
    let reinstall_names: Vec<&str> = plan.to_reinstall.iter().map(|(n, _)| n.as_str()).collect();
    let (modified, not_modified, failed): (Vec<_>, Vec<_>, Vec<_>) = if from_sources {
        let modified: Vec<&(String, Option<String>)> = plan
            .targets
            .iter()
            .filter(|(n, _)| changes.contains_key(&Value::from(n.as_str())))
            .collect();
        let not_modified: Vec<&(String, Option<String>)> = plan
            .desired
            .iter()
            .filter(|(n, _)| {
                !target_names.contains(&n.as_str()) && !reinstall_names.contains(&n.as_str())
            })
            .collect();
        let failed: Vec<&(String, Option<String>)> = plan
            .targets
            .iter()
            .filter(|t| !modified.contains(t))
            .collect();
        (modified, not_modified, failed)
    } else {
        let new = current()?;
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for d in &plan.desired {
            let (n, v) = d;
            let key = n.split('=').next().unwrap_or(n);
            let Some(cver) = lookup(&new, key) else {
                bad.push(d);
                continue;
            };
            let good = match v.as_deref() {
                None | Some("") | Some("latest") => true,
                Some(v)
                    if v.ends_with('*')
                        && cver
                            .first()
                            .is_some_and(|f| f.starts_with(&v[..v.len() - 1])) =>
                {
                    true
                }
                Some(v) => fulfills_version_string(cver, v, ignore_epoch, false),
            };
            if good {
                ok.push(d);
            } else {
                bad.push(d);
            }
        }
        let modified = ok
            .iter()
            .copied()
            .filter(|(n, _)| target_names.contains(&n.as_str()))
            .collect();
        let not_modified = ok
            .iter()
            .copied()
            .filter(|(n, _)| {
                !target_names.contains(&n.as_str()) && !reinstall_names.contains(&n.as_str())
            })
            .collect();
        let failed = bad
            .into_iter()
            .filter(|(n, _)| target_names.contains(&n.as_str()))
            .collect();
        (modified, not_modified, failed)
    };
    let shown = |l: &[&(String, Option<String>)]| -> Vec<String> {
        l.iter()
            .map(|(n, v)| {
                if from_sources {
                    n.clone()
                } else {
                    desired_pkg(n, v.as_deref())
                }
            })
            .collect()
    };
    let mut comment: Vec<String> = Vec::new();
    let mut result = true;
    if !modified.is_empty() {
        let s = shown(&modified).join(", ");
        let n = modified.len();
        comment.push(if s.chars().count() < 20 {
            format!("The following packages were installed/updated: {s}")
        } else {
            format!(
                "{n} targeted package{} {} installed/updated.",
                if n > 1 { "s" } else { "" },
                if n > 1 { "were" } else { "was" }
            )
        });
    }
    if let Some([mods, _, _]) = &hold_sets {
        for (n, ch, cm) in mods {
            comment.push(cm.clone());
            let key = Value::from(n.as_str());
            let hold_new = ch.get("new").map(Value::py_str).unwrap_or_default();
            let hold_old = ch.get("old").map(Value::py_str).unwrap_or_default();
            match changes.get_mut(&key).and_then(Value::as_map_mut) {
                Some(entry) => {
                    for (k, add) in [("new", &hold_new), ("old", &hold_old)] {
                        let mut v = entry.get(k).map(Value::py_str).unwrap_or_default();
                        if !v.is_empty() {
                            v.push('\n');
                        }
                        v.push_str(add);
                        entry.insert(k.into(), v.into());
                    }
                }
                None => {
                    let mut m = Map::default();
                    m.insert("new".into(), hold_new.into());
                    changes.insert(key, Value::Map(m));
                }
            }
        }
    }
    if !not_modified.is_empty() {
        let n = not_modified.len();
        comment.push(if n <= 20 {
            format!(
                "The following packages were already installed: {}",
                shown(&not_modified).join(", ")
            )
        } else {
            format!(
                "{n} targeted package{} {} already installed",
                if n > 1 { "s" } else { "" },
                if n > 1 { "were" } else { "was" }
            )
        });
    }
    if let Some([_, same, bad]) = &hold_sets {
        for (_, _, cm) in same {
            comment.push(cm.clone());
        }
        for (_, _, cm) in bad {
            comment.push(cm.clone());
            result = false;
        }
    }
    if !failed.is_empty() {
        comment.insert(
            0,
            format!(
                "The following packages failed to install/update: {}",
                shown(&failed).join(", ")
            ),
        );
        result = false;
    }
    if reinstall {
        for (n, v) in &plan.to_reinstall {
            let s = if from_sources {
                n.clone()
            } else {
                desired_pkg(n, v.as_deref())
            };
            if pkg_ret.contains_key(&Value::from(n.as_str())) {
                comment.push(format!("Package {s} was reinstalled."));
            } else {
                comment.push(format!("Reinstall was not successful for package {s}."));
                result = false;
            }
        }
    }
    Ok(ret(name, changes, Some(result), comment.join("\n")))
}

/// The names of a `pkgs` list (its entries' keys), normalised.
fn pkgs_names(p: &Value) -> Option<Vec<String>> {
    let list = aptpkg::repack_dictlist(p)?;
    Some(
        list.into_iter()
            .map(|(n, _)| aptpkg::normalize_name(&n))
            .collect(),
    )
}

fn latest(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let refresh = check_refresh(c);
    let fail = |m: String| Ok(ret(&name, Map::default(), Some(false), m));
    if c.arg("sources").is_some_and(Value::is_truthy) {
        return fail("The \"sources\" parameter is not supported.".into());
    }
    let desired: Vec<String> = match pkgs_arg(c) {
        Some(p) if p.is_truthy() => match pkgs_names(p).filter(|l| !l.is_empty()) {
            Some(l) => l,
            None => return fail("Invalidly formatted \"pkgs\" parameter. See minion log.".into()),
        },
        Some(Value::List(_)) => {
            return Ok(ret(
                &name,
                Map::default(),
                Some(true),
                "No packages to install provided",
            ))
        }
        _ => vec![name.clone()],
    };
    let avail = match aptpkg::latest_version(&desired, refresh.as_deref(), false) {
        Ok(a) => a,
        Err(e) => {
            return fail(format!(
                "An error was encountered while checking the newest available version of package(s): {e}"
            ))
        }
    };
    let cur_all = apt::installed()?;
    let cur: BTreeMap<String, String> = desired
        .iter()
        .map(|n| (n.clone(), cur_all.get(n).cloned().unwrap_or_default()))
        .collect();
    let mut targets: Vec<(String, Option<String>)> = Vec::new();
    let mut problems = Vec::new();
    for pkg in &desired {
        let a = avail.get(pkg).cloned().unwrap_or_default();
        if a.is_empty() {
            if cur.get(pkg).is_none_or(String::is_empty) {
                problems.push(format!("No information found for '{pkg}'."));
            }
        } else {
            targets.push((pkg.clone(), Some(a)));
        }
    }
    if !problems.is_empty() {
        return fail(problems.join(" "));
    }
    if targets.is_empty() {
        let comment = match desired.len() {
            1 => format!("Package {} is already up-to-date", desired[0]),
            n if n <= 10 => {
                let mut s = desired.clone();
                s.sort();
                format!("All packages are up-to-date ({}).", s.join(", "))
            }
            n => format!("All {n} packages are up-to-date."),
        };
        return Ok(ret(&name, Map::default(), Some(true), comment));
    }
    let target_names: Vec<String> = targets.iter().map(|(n, _)| n.clone()).collect();
    let up_to_date: Vec<String> = if pkgs_arg(c).is_some_and(Value::is_truthy) {
        desired
            .iter()
            .filter(|n| !target_names.contains(n))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    if c.test {
        let as_targets: Vec<(String, Option<String>)> =
            targets.iter().map(|(n, _)| (n.clone(), None)).collect();
        let mut sorted = target_names.clone();
        sorted.sort();
        let mut comment = vec![format!(
            "The following packages would be installed/upgraded: {}",
            sorted.join(", ")
        )];
        if !up_to_date.is_empty() {
            let mut u = up_to_date.clone();
            u.sort();
            comment.push(if u.len() <= 10 {
                format!(
                    "The following packages are already up-to-date: {}",
                    u.iter()
                        .map(|x| format!("{x} ({})", cur.get(x).cloned().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                format!("{} packages are already up-to-date", u.len())
            });
        }
        let changes = installable_versions(c, &as_targets, &cur)?;
        return Ok(ret(&name, changes, None, comment.join("\n")));
    }
    let mut a = install_args(c, None);
    a.repo_pkgs = target_names.iter().map(|n| (n.clone(), None)).collect();
    let changes = match aptpkg::install(&a) {
        Ok(ch) => ch,
        Err(e) => {
            return fail(format!(
                "An error was encountered while installing package(s): {}",
                if e.has_info() {
                    e.full_text()
                } else {
                    e.message
                }
            ))
        }
    };
    let mut sorted_targets = target_names.clone();
    sorted_targets.sort();
    let mut u = up_to_date.clone();
    u.sort();
    if !changes.is_empty() {
        let mut failed = Vec::new();
        let mut ok = Vec::new();
        for (n, want) in &targets {
            let entry = changes.get(&Value::from(n.as_str()));
            let new = entry
                .and_then(|e| e.get("new"))
                .map(Value::py_str)
                .unwrap_or_default();
            let reached = entry.is_some()
                && want
                    .as_deref()
                    .is_none_or(|w| w == "latest" || new.split(',').any(|v| v == w));
            if reached {
                ok.push(n.clone());
            } else {
                failed.push(n.clone());
            }
        }
        failed.sort();
        ok.sort();
        let mut comment = Vec::new();
        if !failed.is_empty() {
            comment.push(format!(
                "The following packages failed to update: {}",
                failed.join(", ")
            ));
        }
        if !ok.is_empty() {
            comment.push(format!(
                "The following packages were successfully installed/upgraded: {}",
                ok.join(", ")
            ));
        }
        if !u.is_empty() {
            comment.push(if u.len() <= 10 {
                format!(
                    "The following packages were already up-to-date: {}",
                    u.join(", ")
                )
            } else {
                format!("{} packages were already up-to-date ", u.len())
            });
        }
        return Ok(ret(
            &name,
            changes,
            Some(failed.is_empty()),
            comment.join(" "),
        ));
    }
    let mut comment = if sorted_targets.len() > 10 {
        format!(
            "{} targeted packages failed to update. See debug log for details.",
            sorted_targets.len()
        )
    } else if sorted_targets.len() > 1 {
        format!(
            "The following targeted packages failed to update. See debug log for details: ({}).",
            sorted_targets.join(", ")
        )
    } else {
        format!("Package {} failed to update.", sorted_targets[0])
    };
    if !u.is_empty() {
        if u.len() <= 10 {
            comment.push_str(&format!(
                " The following packages were already up-to-date: {}",
                u.join(", ")
            ));
        } else {
            comment.push_str(&format!("{} packages were already up-to-date", u.len()));
        }
    }
    Ok(ret(&name, Map::default(), Some(false), comment))
}

fn removed(c: &StateCall) -> Result<Map> {
    uninstall(c, false)
}

fn purged(c: &StateCall) -> Result<Map> {
    uninstall(c, true)
}

fn uninstall(c: &StateCall, purge: bool) -> Result<Map> {
    let name = c.name();
    let (verb, past) = if purge {
        ("purge", "purged")
    } else {
        ("remove", "removed")
    };
    let fail = |m: String| Ok(ret(&name, Map::default(), Some(false), m));
    let version = version_arg(c);
    let ignore_epoch = c.arg("ignore_epoch").and_then(Value::as_bool);
    let params: Vec<String> = match pkgs_arg(c).filter(|v| v.is_truthy()) {
        Some(p) => pkgs_names(p).unwrap_or_default(),
        None => name.split(',').map(aptpkg::normalize_name).collect(),
    };
    let cur = current()?;
    let to_remove: Vec<(String, Option<String>)> = match pkgs_arg(c).filter(|v| v.is_truthy()) {
        Some(p) => match aptpkg::repack_dictlist(p) {
            Some(l) if !l.is_empty() => l
                .into_iter()
                .map(|(n, v)| (aptpkg::normalize_name(&n), aptpkg::version_text(&v)))
                .collect(),
            _ => return fail("Invalidly formatted pkgs parameter. See minion log.".into()),
        },
        None => vec![(aptpkg::normalize_name(&name), version.clone())],
    };
    let mut targets: Vec<String> = Vec::new();
    let mut version_spec = false;
    for (n, v) in &to_remove {
        let Some(cver) = cur.get(n) else { continue };
        match v {
            None => targets.push(n.clone()),
            Some(v) => {
                version_spec = true;
                if fulfills_version_string(cver, v, ignore_epoch, false) {
                    targets.push(n.clone());
                }
            }
        }
    }
    if targets.is_empty() && !purge {
        return Ok(ret(
            &name,
            Map::default(),
            Some(true),
            if version_spec {
                "All specified packages (matching specified versions) are already absent"
            } else {
                "All specified packages are already absent"
            },
        ));
    }
    if purge {
        // Salt adds what is removed but not purged (dpkg's `rc`) to the targets.
        let rc = apt::read_lists()?.removed;
        targets.extend(
            params
                .iter()
                .filter(|p| rc.iter().any(|(n, _)| n == *p))
                .cloned(),
        );
    }
    targets.sort();
    if targets.is_empty() {
        return Ok(ret(
            &name,
            Map::default(),
            Some(true),
            if purge {
                "None of the targeted packages are installed or partially installed"
            } else {
                "None of the targeted packages are installed"
            },
        ));
    }
    if c.test {
        let mut changes = Map::default();
        for t in &targets {
            changes.insert(t.clone().into(), new_old(past, ""));
        }
        return Ok(ret(
            &name,
            changes,
            None,
            format!(
                "The following packages will be {past}: {}.",
                targets.join(", ")
            ),
        ));
    }
    let changes = match aptpkg::uninstall(&params, purge) {
        Ok(ch) => ch,
        Err(e) => {
            let mut changes = Map::default();
            let comment = if e.has_info() {
                changes = e.changes.clone();
                e.text_without_changes()
            } else {
                let gerund = if purge { "purging" } else { "removing" };
                format!(
                    "An error was encountered while {gerund} package(s): {}",
                    e.message
                )
            };
            return Ok(ret(&name, changes, Some(false), comment));
        }
    };
    let now = current()?;
    let rc_now = apt::read_lists()?.removed;
    let mut failed: Vec<String> = params
        .iter()
        .filter(|p| now.contains_key(*p) || (purge && rc_now.iter().any(|(n, _)| n == *p)))
        .cloned()
        .collect();
    failed.sort();
    failed.dedup();
    if !failed.is_empty() {
        return Ok(ret(
            &name,
            changes,
            Some(false),
            format!(
                "The following packages failed to {verb}: {}.",
                failed.join(", ")
            ),
        ));
    }
    let mut not_installed: Vec<String> = params
        .iter()
        .filter(|p| !targets.contains(p))
        .cloned()
        .collect();
    not_installed.sort();
    not_installed.dedup();
    let comment = if not_installed.is_empty() {
        format!("All targeted packages were {past}.")
    } else {
        format!(
            "The following packages were not installed: {} The following packages were {past}: {}.",
            not_installed.join(", "),
            targets.join(", ")
        )
    };
    Ok(ret(&name, changes, Some(true), comment))
}

fn hold_list(c: &StateCall) -> Option<Vec<(String, Option<String>)>> {
    match pkgs_arg(c) {
        Some(p) => aptpkg::repack_dictlist(p).map(|l| {
            l.into_iter()
                .map(|(n, v)| (n, aptpkg::version_text(&v)))
                .collect()
        }),
        None => Some(vec![(c.name(), version_arg(c))]),
    }
}

fn held(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let replace = c.flag("replace", false);
    let list = hold_list(c).unwrap_or_default();
    if list.is_empty() && !replace {
        return Ok(ret(
            &name,
            Map::default(),
            Some(true),
            "No packages to be held provided",
        ));
    }
    let locks = aptpkg::get_selections(None)?
        .remove("hold")
        .unwrap_or_default();
    let mut comments = Vec::new();
    let mut changes = Map::default();
    let mut result = true;
    for (n, v) in &list {
        if locks.contains(n) {
            continue;
        }
        if c.test {
            let mut s = format!("The following package would be held: {n}");
            if let Some(v) = v {
                s.push_str(&format!(" (version = {v})"));
            }
            comments.push(s);
            continue;
        }
        let out = aptpkg::hold_unhold(std::slice::from_ref(n), true, false)?;
        let entry = out
            .get(&Value::from(n.as_str()))
            .cloned()
            .unwrap_or_default();
        if entry.get("result").is_some_and(Value::is_truthy) {
            comments.push(format!("Package {n} is now being held"));
        } else {
            comments.push(format!("Package {n} was not held"));
            result = false;
        }
        changes.extend(out);
    }
    if replace {
        let names: Vec<&String> = list.iter().map(|(n, _)| n).collect();
        for lock in locks.iter().filter(|l| !names.contains(l)) {
            if c.test {
                comments.push(format!("The following package would be unheld: {lock}"));
                continue;
            }
            result &= unhold_into(lock, &mut comments, &mut changes)?;
        }
    }
    Ok(hold_ret(&name, changes, result, &comments))
}

/// `pkg.held`/`pkg.unheld`'s return: the comments one per line, `No changes made` when none.
fn hold_ret(name: &str, changes: Map, result: bool, comments: &[String]) -> Map {
    let comment = if comments.is_empty() {
        "No changes made".to_string()
    } else {
        comments.join("\n")
    };
    ret(name, changes, Some(result), comment)
}

/// Unhold one package for `held` (`replace`) or `unheld`: its comment and changes added;
/// false when it failed.
fn unhold_into(lock: &str, comments: &mut Vec<String>, changes: &mut Map) -> Result<bool> {
    let out = aptpkg::hold_unhold(&[lock.to_string()], false, false)?;
    let mut ok = true;
    if let Some(e) = out.get(&Value::from(lock)) {
        comments.push(e.get("comment").map(Value::py_str).unwrap_or_default());
        ok = e.get("result").is_some_and(Value::is_truthy);
    }
    changes.extend(out);
    Ok(ok)
}

fn unheld(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let all = c.flag("all", false);
    let list = hold_list(c).unwrap_or_default();
    if list.is_empty() && !all {
        return Ok(ret(
            &name,
            Map::default(),
            Some(true),
            "No packages to be unheld provided",
        ));
    }
    let locks = aptpkg::get_selections(None)?
        .remove("hold")
        .unwrap_or_default();
    let mut comments = Vec::new();
    let mut changes = Map::default();
    let mut result = true;
    for lock in &locks {
        let wanted = list.iter().find(|(n, _)| n == lock);
        if !all && wanted.is_none() {
            continue;
        }
        if c.test {
            let mut s = format!("The following package would be unheld: {lock}");
            if wanted.is_some_and(|(_, v)| v.is_some()) {
                s.push_str(" (version = None)");
            }
            comments.push(s);
            continue;
        }
        result &= unhold_into(lock, &mut comments, &mut changes)?;
    }
    Ok(hold_ret(&name, changes, result, &comments))
}

fn uptodate(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let mut r = ret(&name, Map::default(), Some(false), "Failed to update");
    let refresh = match c.arg("refresh") {
        None | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => {
            r.insert(
                "comment".into(),
                "refresh must be either True or False".into(),
            );
            return Ok(r);
        }
    };
    let tag = aptpkg::rtag(c.opts).unwrap_or_default();
    let dist = c.arg("dist_upgrade").is_none_or(Value::is_truthy);
    let upgrades = match aptpkg::list_upgrades(refresh.then_some(tag.as_path()), dist) {
        Ok(u) => u,
        Err(e) => {
            r.insert("comment".into(), e.to_string().into());
            return Ok(r);
        }
    };
    let cur = apt::installed()?;
    let wanted: Option<Vec<String>> = pkgs_arg(c)
        .and_then(Value::as_list)
        .map(|l| l.iter().map(Value::py_str).collect());
    let mut expected = Map::default();
    for (n, v) in &upgrades {
        if wanted.as_ref().is_some_and(|w| !w.contains(n)) {
            continue;
        }
        expected.insert(
            n.clone().into(),
            new_old(v, &cur.get(n).cloned().unwrap_or_default()),
        );
    }
    if expected.is_empty() {
        return Ok(ret(
            &name,
            Map::default(),
            Some(true),
            "System is already up-to-date",
        ));
    }
    if c.test {
        return Ok(ret(
            &name,
            expected,
            None,
            "System update will be performed",
        ));
    }
    let changes = match aptpkg::upgrade(refresh.then_some(tag.as_path()), false) {
        Ok(ch) => ch,
        Err(e) => {
            let mut changes = Map::default();
            let comment = if e.has_info() {
                changes = e.changes.clone();
                e.text_without_changes()
            } else {
                format!(
                    "An error was encountered while updating packages: {}",
                    e.message
                )
            };
            return Ok(ret(&name, changes, Some(false), comment));
        }
    };
    if let Some(w) = &wanted {
        let missing: Vec<&String> = w
            .iter()
            .filter(|p| {
                expected.contains_key(&Value::from(p.as_str()))
                    && !changes.contains_key(&Value::from(p.as_str()))
            })
            .collect();
        if !missing.is_empty() {
            return Ok(ret(
                &name,
                changes,
                Some(false),
                format!(
                    "The following package(s) failed to update: {}",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    Ok(ret(&name, changes, Some(true), "Upgrade ran successfully"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_strings() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(fulfills_version_string(&v(&["1.0"]), "1.0", None, false));
        assert!(fulfills_version_string(&v(&["1.1"]), ">=1.0", None, false));
        assert!(!fulfills_version_string(&v(&["1.0"]), ">=1.1", None, false));
        assert!(fulfills_version_string(
            &v(&["1.0"]),
            ">=1.0, <2.0",
            None,
            false
        ));
        assert!(fulfills_version_string(&v(&["1.0.5"]), "1.0*", None, false));
        assert!(fulfills_version_string(
            &v(&["1:2.0-1"]),
            "2.0-1",
            None,
            false
        ));
        assert!(!fulfills_version_string(&v(&["1.0"]), "==1.0", None, false));
        assert!(fulfills_version_string(&v(&["1.1"]), "1.0", None, true));
        assert!(fulfills_version_string(&v(&["1.0"]), "", None, false));
    }

    #[test]
    fn desired_strings() {
        assert_eq!(desired_pkg("a", None), "a");
        assert_eq!(desired_pkg("a", Some("1.0")), "a=1.0");
        assert_eq!(desired_pkg("a", Some(">=1.0")), "a>=1.0");
    }
}
