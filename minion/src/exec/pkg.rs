//! `pkg.*` on Debian (Salt's `aptpkg`): the parts that need no package manager run yet.
//! Queries read dpkg's data directly (`halite_states::exec::dpkg`).

use super::{arg, Exec};
use halite_core::{Map, Result, Value};
use halite_states::exec::dpkg;
use std::cmp::Ordering;

/// The `pkg.*` functions Halite has.
pub const FUNCTIONS: &[&str] = &[
    "pkg.version_cmp",
    "pkg.list_pkgs",
    "pkg.version",
    "pkg.install",
    "pkg.remove",
    "pkg.purge",
    "pkg.hold",
    "pkg.unhold",
    "pkg.refresh_db",
    "pkg.latest_version",
    "pkg.available_version",
    "pkg.get_selections",
    "pkg.list_repos",
    "pkg.get_repo",
    "pkg.mod_repo",
    "pkg.del_repo",
    "pkg.del_repo_key",
];

use halite_states::exec::apt::{self, PkgList};
use halite_states::exec::aptpkg;

/// Salt's `aptpkg.list_pkgs` lists: (installed, removed, purge_desired).
fn lists(_exec: &Exec) -> Result<(PkgList, PkgList, PkgList)> {
    let l = apt::read_lists()?;
    Ok((l.installed, l.removed, l.purge_desired))
}

fn as_value(list: PkgList, versions_as_list: bool) -> Value {
    Value::Map(
        list.into_iter()
            .map(|(n, mut v)| {
                v.sort();
                let v = if versions_as_list {
                    Value::List(v.into_iter().map(Value::Str).collect())
                } else {
                    Value::Str(v.join(","))
                };
                (Value::Str(n), v)
            })
            .collect(),
    )
}

/// Run a `pkg.*` function.
pub fn call(exec: &Exec, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
    let flag = |k: &str| kwargs.get(k).is_some_and(Value::is_truthy);
    match name {
        "pkg.list_pkgs" => {
            let (installed, removed, purge) = lists(exec)?;
            let as_list = flag("versions_as_list");
            Ok(if flag("removed") {
                as_value(removed, as_list)
            } else {
                let mut ret = purge;
                if !flag("purge_desired") {
                    for (n, v) in installed {
                        match ret.iter_mut().find(|(m, _)| *m == n) {
                            Some(slot) => slot.1 = v,
                            None => ret.push((n, v)),
                        }
                    }
                }
                as_value(ret, as_list)
            })
        }
        "pkg.version" => {
            let (installed, _, _) = lists(exec)?;
            let names: Vec<String> = args.iter().map(Value::py_str).collect();
            if names.is_empty() {
                return Err(halite_core::Error::InvalidArgument(
                    "Passed invalid arguments: version() missing 1 required positional argument: 'names'"
                        .into(),
                ));
            }
            let as_list = flag("versions_as_list");
            let one = |n: &str| -> Value {
                match installed.iter().find(|(m, _)| m == n) {
                    Some((_, v)) if as_list => {
                        Value::List(v.iter().cloned().map(Value::Str).collect())
                    }
                    Some((_, v)) => Value::Str(v.join(",")),
                    None if as_list => Value::List(vec![]),
                    None => Value::Str(String::new()),
                }
            };
            Ok(if names.len() == 1 {
                one(&names[0])
            } else {
                Value::Map(
                    names
                        .iter()
                        .map(|n| (Value::Str(n.clone()), one(n)))
                        .collect(),
                )
            })
        }
        "pkg.version_cmp" => {
            let a = arg(args, kwargs, 0, "pkg1")
                .map(Value::py_str)
                .unwrap_or_default();
            let b = arg(args, kwargs, 1, "pkg2")
                .map(Value::py_str)
                .unwrap_or_default();
            let ignore_epoch = arg(args, kwargs, 2, "ignore_epoch").is_some_and(Value::is_truthy);
            let strip = |v: &str| -> String {
                if ignore_epoch {
                    v.split_once(':').map_or(v, |(_, r)| r).to_string()
                } else {
                    v.to_string()
                }
            };
            Ok(match dpkg::version_cmp(&strip(&a), &strip(&b)) {
                Some(Ordering::Less) => Value::Int(-1),
                Some(Ordering::Equal) => Value::Int(0),
                Some(Ordering::Greater) => Value::Int(1),
                None => Value::Null,
            })
        }
        "pkg.install" => install(exec, args, kwargs),
        "pkg.remove" | "pkg.purge" => {
            let targets = aptpkg::parse_targets(
                arg(args, kwargs, 0, "name"),
                kwargs.get("pkgs"),
                None,
                None,
                &|_| Ok(None),
            )?;
            let names: Vec<String> = match targets {
                Some(aptpkg::Targets::Repository(l)) => l.into_iter().map(|(n, _)| n).collect(),
                _ => Vec::new(),
            };
            Ok(Value::Map(aptpkg::uninstall(&names, name == "pkg.purge")?))
        }
        "pkg.hold" | "pkg.unhold" => {
            let targets = hold_targets(args, kwargs)?;
            let test = kwargs.get("test").map_or_else(
                || exec.minion.opts().get("test").is_some_and(Value::is_truthy),
                Value::is_truthy,
            );
            Ok(Value::Map(aptpkg::hold_unhold(
                &targets,
                name == "pkg.hold",
                test,
            )?))
        }
        "pkg.refresh_db" => Ok(Value::Map(aptpkg::refresh_db(
            aptpkg::rtag(exec.minion.opts()).as_deref(),
        )?)),
        "pkg.latest_version" | "pkg.available_version" => {
            let names: Vec<String> = args.iter().map(Value::py_str).collect();
            if names.is_empty() {
                return Ok(Value::Str(String::new()));
            }
            let refresh = kwargs.get("refresh").is_none_or(Value::is_truthy);
            let tag = aptpkg::rtag(exec.minion.opts()).unwrap_or_default();
            let ret = aptpkg::latest_version(
                &names,
                refresh.then_some(tag.as_path()),
                flag("show_installed"),
            )?;
            Ok(if names.len() == 1 {
                Value::Str(ret.get(&names[0]).cloned().unwrap_or_default())
            } else {
                Value::Map(
                    names
                        .iter()
                        .map(|n| {
                            (
                                Value::Str(n.clone()),
                                Value::Str(ret.get(n).cloned().unwrap_or_default()),
                            )
                        })
                        .collect(),
                )
            })
        }
        "pkg.get_selections" => {
            let pattern = arg(args, kwargs, 0, "pattern").map(Value::py_str);
            let state = arg(args, kwargs, 1, "state").map(Value::py_str);
            let sel = aptpkg::get_selections(pattern.as_deref())?;
            let as_list = |v: Vec<String>| Value::List(v.into_iter().map(Value::Str).collect());
            let mut out = Map::default();
            match state {
                Some(st) => {
                    let v = sel.get(&st).cloned().unwrap_or_default();
                    out.insert(st.into(), as_list(v));
                }
                None => {
                    for (k, v) in sel {
                        out.insert(k.into(), as_list(v));
                    }
                }
            }
            Ok(Value::Map(out))
        }
        "pkg.list_repos" | "pkg.get_repo" | "pkg.mod_repo" | "pkg.del_repo"
        | "pkg.del_repo_key" => repos(exec, name, args, kwargs),
        _ => Err(halite_core::Error::NotAvailable(name.to_string())),
    }
}

/// The apt source functions (`aptsources`), errors worded as Salt's.
fn repos(exec: &Exec, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
    use halite_states::exec::aptsources::{self, AptCtx, AptPaths};
    let opts = exec.minion.opts().clone();
    let ctx = AptCtx::system(&opts, Some(exec));
    let repo =
        || -> Result<String> { Ok(super::required(name, args, kwargs, 0, "repo")?.py_str()) };
    let out = match name {
        "pkg.list_repos" => aptsources::list_repos(&AptPaths::salt()).map(Value::Map),
        "pkg.get_repo" => aptsources::get_repo(&AptPaths::salt(), &repo()?).map(Value::Map),
        "pkg.mod_repo" => {
            let saltenv = kwargs
                .get("saltenv")
                .map_or_else(|| "base".to_string(), Value::py_str);
            let aptkey = kwargs.get("aptkey").is_none_or(Value::is_truthy);
            aptsources::mod_repo(&ctx, &repo()?, &saltenv, aptkey, kwargs).map(Value::Map)
        }
        "pkg.del_repo" => aptsources::del_repo(&ctx, &repo()?).map(Value::Str),
        _ => {
            let key = arg(args, kwargs, 0, "name").map(Value::py_str);
            aptsources::del_repo_key(&ctx, key.as_deref(), kwargs)
        }
    };
    out.map_err(|e| halite_core::Error::CommandExecution(aptsources::exc_text(&e)))
}

/// `pkg.hold`/`pkg.unhold` targets: `pkgs`, else the names of `sources`, else `name`.
fn hold_targets(args: &[Value], kwargs: &Map) -> Result<Vec<String>> {
    let name = arg(args, kwargs, 0, "name").filter(|v| v.is_truthy());
    let pkgs = kwargs.get("pkgs").filter(|v| v.is_truthy());
    let sources = kwargs.get("sources").filter(|v| v.is_truthy());
    if name.is_none() && pkgs.is_none() && sources.is_none() {
        return Err(halite_core::Error::InvalidArgument(
            "One of name, pkgs, or sources must be specified.".into(),
        ));
    }
    if pkgs.is_some() && sources.is_some() {
        return Err(halite_core::Error::InvalidArgument(
            "Only one of pkgs or sources can be specified.".into(),
        ));
    }
    let first_key = |v: &Value| match v {
        Value::Map(m) => m.keys().next().map(Value::py_str).unwrap_or_default(),
        other => other.py_str(),
    };
    Ok(match (pkgs, sources, name) {
        (Some(p), _, _) => p.as_list().into_iter().flatten().map(first_key).collect(),
        (_, Some(s), _) => s.as_list().into_iter().flatten().map(first_key).collect(),
        (_, _, Some(n)) => vec![n.py_str()],
        _ => Vec::new(),
    })
}

/// `pkg.install`.
fn install(exec: &Exec, args: &[Value], kwargs: &Map) -> Result<Value> {
    let a = install_args(exec, arg(args, kwargs, 0, "name"), kwargs)?;
    match a {
        Some(a) => Ok(Value::Map(aptpkg::install(&a)?)),
        None => Ok(Value::map()),
    }
}

/// The `pkg.install` arguments from a call's (or a state's) keyword arguments; `None` when
/// there is nothing to install.
pub fn install_args(
    exec: &Exec,
    name: Option<&Value>,
    kwargs: &Map,
) -> Result<Option<aptpkg::InstallArgs>> {
    let flag = |k: &str| kwargs.get(k).is_some_and(Value::is_truthy);
    let cache = |src: &str| -> Result<Option<String>> {
        let v =
            super::Functions::call(exec, "cp.cache_file", &[Value::from(src)], &Map::default())?;
        Ok(v.as_str().filter(|s| !s.is_empty()).map(str::to_string))
    };
    let Some(targets) = aptpkg::parse_targets(
        name,
        kwargs.get("pkgs"),
        kwargs.get("sources"),
        kwargs.get("version"),
        &cache,
    )?
    else {
        return Ok(None);
    };
    let mut a = aptpkg::InstallArgs {
        refresh: flag("refresh").then(|| aptpkg::rtag(exec.minion.opts()).unwrap_or_default()),
        fromrepo: kwargs
            .get("fromrepo")
            .or_else(|| kwargs.get("repo"))
            .filter(|v| v.is_truthy())
            .map(Value::py_str),
        skip_verify: flag("skip_verify"),
        reinstall: flag("reinstall"),
        install_recommends: kwargs.get("install_recommends").map(Value::is_truthy),
        only_upgrade: flag("only_upgrade"),
        force_yes: flag("force_yes"),
        force_conf_new: flag("force_conf_new"),
        ignore_epoch: flag("ignore_epoch"),
        ..Default::default()
    };
    match targets {
        aptpkg::Targets::Repository(list) => a.repo_pkgs = list,
        aptpkg::Targets::File(list) => {
            for (_, path) in list {
                let (n, v) = aptpkg::deb_info(&path)?;
                a.sources.push((n, path, v));
            }
        }
    }
    Ok(Some(a))
}
