//! `user.*` and `group.*` execution functions (Salt's `useradd` and `groupadd` modules on
//! Linux), over the native helpers in `halite_states::exec::accounts`: lookups through NSS
//! as Python's `pwd`/`grp` do (`root=` reads `{root}/etc/passwd`/`group`), changes through
//! `useradd`/`usermod`/`userdel`/`groupadd`/`groupmod`/`groupdel`/`gpasswd` with Salt's argv.
//! Failures Salt raises as `CommandExecutionError` come back as
//! [`Error::CommandExecution`] (e.g. `Command 'useradd' cannot be found`).

use super::{arg, required, Exec};
use halite_core::{Error, Map, Result, Value};
use halite_states::exec::accounts::{self, AddUser, UserInfo};

/// The functions this module provides.
pub const FUNCTIONS: &[&str] = &[
    "user.info",
    "user.list_groups",
    "user.add",
    "user.delete",
    "user.chuid",
    "user.chgid",
    "user.chshell",
    "user.chhome",
    "user.chgroups",
    "user.chfullname",
    "user.chroomnumber",
    "user.chworkphone",
    "user.chhomephone",
    "user.chother",
    "user.getent",
    "group.info",
    "group.add",
    "group.delete",
    "group.getent",
    "group.chgid",
    "group.adduser",
    "group.deluser",
    "group.members",
];

/// A boolean argument at position `i` or keyword `key` (Python truthiness).
fn flag(args: &[Value], kwargs: &Map, i: usize, key: &str, default: bool) -> bool {
    arg(args, kwargs, i, key).map_or(default, Value::is_truthy)
}

/// An argument as a value (`None` when not given).
fn value(args: &[Value], kwargs: &Map, i: usize, key: &str) -> Value {
    arg(args, kwargs, i, key).cloned().unwrap_or(Value::Null)
}

/// The `root` argument (`None` when not given or `None`).
fn root(args: &[Value], kwargs: &Map, i: usize) -> Option<String> {
    arg(args, kwargs, i, "root")
        .filter(|v| !v.is_null())
        .map(Value::py_str)
}

/// A list of names given as a list or as a comma-separated string (Salt's `chgroups`).
fn names(v: &Value) -> Vec<String> {
    match v {
        Value::Str(s) => s.split(',').map(str::to_string).collect(),
        Value::List(l) => l.iter().map(Value::py_str).collect(),
        Value::Null => Vec::new(),
        other => vec![other.py_str()],
    }
}

fn user_value(u: &UserInfo) -> Value {
    Value::Map(u.to_map())
}

/// Run a `user.*` / `group.*` function.
pub fn call(_ex: &Exec, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
    let who = || required(name, args, kwargs, 0, "name").map(Value::py_str);
    match name {
        "user.info" => {
            let r = root(args, kwargs, 1);
            Ok(accounts::user_info(&who()?, r.as_deref())?
                .as_ref()
                .map_or_else(Value::map, user_value))
        }
        "user.list_groups" => Ok(accounts::str_list(&accounts::list_groups(&who()?))),
        "user.getent" => {
            let r = root(args, kwargs, 1);
            Ok(Value::List(
                accounts::user_getent(r.as_deref())?
                    .iter()
                    .map(user_value)
                    .collect(),
            ))
        }
        "user.add" => {
            let mut p = AddUser::new(&who()?);
            p.uid = value(args, kwargs, 1, "uid");
            p.gid = value(args, kwargs, 2, "gid");
            p.groups = arg(args, kwargs, 3, "groups")
                .filter(|v| !v.is_null())
                .map(names);
            p.home = value(args, kwargs, 4, "home");
            p.shell = value(args, kwargs, 5, "shell");
            p.unique = flag(args, kwargs, 6, "unique", true);
            p.system = flag(args, kwargs, 7, "system", false);
            for (i, key) in accounts::GECOS_KEYS.iter().enumerate() {
                p.gecos[i] = value(args, kwargs, 8 + i, key);
            }
            p.createhome = flag(args, kwargs, 13, "createhome", true);
            p.nologinit = flag(args, kwargs, 15, "nologinit", false);
            p.root = root(args, kwargs, 16);
            p.usergroup = value(args, kwargs, 17, "usergroup");
            p.local = flag(args, kwargs, 18, "local", false);
            Ok(Value::Bool(accounts::user_add(&p)?))
        }
        "user.delete" => {
            let remove = flag(args, kwargs, 1, "remove", false);
            let force = flag(args, kwargs, 2, "force", false);
            let r = root(args, kwargs, 3);
            let local = flag(args, kwargs, 4, "local", false);
            Ok(Value::Bool(accounts::user_delete(
                &who()?,
                remove,
                force,
                r.as_deref(),
                local,
            )?))
        }
        "user.chuid" | "user.chgid" | "user.chshell" => {
            let (key, param) = match name {
                "user.chuid" => ("uid", "-u"),
                "user.chgid" => ("gid", "-g"),
                _ => ("shell", "-s"),
            };
            let user = who()?;
            let v = required(name, args, kwargs, 1, key)?.clone();
            let r = root(args, kwargs, 2);
            Ok(Value::Bool(accounts::chattrib(
                &user,
                param,
                &v,
                false,
                r.as_deref(),
            )?))
        }
        "user.chhome" => {
            let user = who()?;
            let home = required(name, args, kwargs, 1, "home")?.clone();
            let persist = flag(args, kwargs, 2, "persist", false);
            let r = root(args, kwargs, 3);
            Ok(Value::Bool(accounts::chattrib(
                &user,
                "-d",
                &home,
                persist,
                r.as_deref(),
            )?))
        }
        "user.chgroups" => {
            let user = who()?;
            let groups = names(required(name, args, kwargs, 1, "groups")?);
            let append = flag(args, kwargs, 2, "append", false);
            let r = root(args, kwargs, 3);
            Ok(Value::Bool(accounts::chgroups(
                &user,
                &groups,
                append,
                r.as_deref(),
            )?))
        }
        "user.chfullname" | "user.chroomnumber" | "user.chworkphone" | "user.chhomephone"
        | "user.chother" => {
            let key = name.trim_start_matches("user.ch");
            let user = who()?;
            let v = required(name, args, kwargs, 1, key)?.clone();
            let r = root(args, kwargs, 2);
            Ok(Value::Bool(accounts::update_gecos(
                &user,
                key,
                &v,
                r.as_deref(),
            )?))
        }
        "group.info" => {
            let r = root(args, kwargs, 1);
            Ok(accounts::group_info(&who()?, r.as_deref())?
                .map_or_else(Value::map, |g| g.to_value()))
        }
        "group.getent" => {
            let r = root(args, kwargs, 1);
            Ok(Value::List(
                accounts::group_getent(r.as_deref())?
                    .iter()
                    .map(accounts::GroupEntry::to_value)
                    .collect(),
            ))
        }
        "group.add" => {
            let group = who()?;
            let gid = value(args, kwargs, 1, "gid");
            let system = flag(args, kwargs, 2, "system", false);
            let r = root(args, kwargs, 3);
            let non_unique = flag(args, kwargs, 4, "non_unique", false);
            let local = flag(args, kwargs, 5, "local", false);
            Ok(Value::Bool(accounts::group_add(
                &group,
                &gid,
                system,
                r.as_deref(),
                non_unique,
                local,
            )?))
        }
        "group.delete" => {
            let r = root(args, kwargs, 1);
            let local = flag(args, kwargs, 2, "local", false);
            Ok(Value::Bool(accounts::group_delete(
                &who()?,
                r.as_deref(),
                local,
            )?))
        }
        "group.chgid" => {
            let group = who()?;
            let gid = required(name, args, kwargs, 1, "gid")?.clone();
            let r = root(args, kwargs, 2);
            let non_unique = flag(args, kwargs, 3, "non_unique", false);
            Ok(Value::Bool(accounts::group_chgid(
                &group,
                &gid,
                r.as_deref(),
                non_unique,
            )?))
        }
        "group.adduser" | "group.deluser" => {
            let group = who()?;
            let user = required(name, args, kwargs, 1, "username")?.py_str();
            let r = root(args, kwargs, 2);
            let done = if name == "group.adduser" {
                accounts::group_adduser(&group, &user, r.as_deref())?
            } else {
                accounts::group_deluser(&group, &user, r.as_deref())?
            };
            Ok(Value::Bool(done))
        }
        "group.members" => {
            let group = who()?;
            let list = required(name, args, kwargs, 1, "members_list")?.py_str();
            let r = root(args, kwargs, 2);
            Ok(Value::Bool(accounts::group_members(
                &group,
                &list,
                r.as_deref(),
            )?))
        }
        _ => Err(Error::NotAvailable(name.to_string())),
    }
}
