//! `pkg.*` on Debian (Salt's `aptpkg`): the parts that need no package manager run yet.
//! Queries read dpkg's data directly (`halite_states::exec::dpkg`).

use super::{arg, Exec};
use halite_core::{Map, Result, Value};
use halite_states::exec::dpkg;
use std::cmp::Ordering;

/// The `pkg.*` functions Halite has.
pub const FUNCTIONS: &[&str] = &["pkg.version_cmp", "pkg.list_pkgs", "pkg.version"];

/// dpkg's status database.
const STATUS: &str = "/var/lib/dpkg/status";

/// One package name → its versions, as Salt's `pkg_resource.add_pkg` collects them.
type PkgList = Vec<(String, Vec<String>)>;

fn add(list: &mut PkgList, name: &str, version: &str) {
    match list.iter_mut().find(|(n, _)| n == name) {
        Some((_, v)) => v.push(version.to_string()),
        None => list.push((name.to_string(), vec![version.to_string()])),
    }
}

/// Salt's `aptpkg.list_pkgs` lists, from dpkg's status read directly: (installed, removed,
/// purge_desired), each in dpkg's order, with Salt's (substring) tests on the status words.
fn lists(exec: &Exec) -> Result<(PkgList, PkgList, PkgList)> {
    let text = std::fs::read_to_string(STATUS)
        .map_err(|e| halite_core::Error::io(STATUS.to_string(), &e))?;
    let grains = exec.minion.grains();
    let native = (grains.get("cpuarch").and_then(Value::as_str) == Some("x86_64"))
        .then(|| grains.get("osarch").and_then(Value::as_str))
        .flatten()
        .filter(|a| *a == "amd64");
    let (mut installed, mut removed, mut purge) = (Vec::new(), Vec::new(), Vec::new());
    for (key, p) in dpkg::parse_status(&text, native) {
        if p.version.is_empty() || p.arch.is_empty() {
            continue;
        }
        if (p.want.contains("install") || p.want.contains("hold")) && p.state.contains("installed")
        {
            add(&mut installed, &key, &p.version);
        } else if p.want.contains("deinstall") {
            add(&mut removed, &key, &p.version);
        } else if p.want.contains("purge") && p.state == "installed" {
            add(&mut purge, &key, &p.version);
        }
    }
    Ok((installed, removed, purge))
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
        _ => Err(halite_core::Error::NotAvailable(name.to_string())),
    }
}
