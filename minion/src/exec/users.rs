//! `user.info`, `user.list_groups` and `group.info` (read-only lookups through NSS, as Salt's
//! `useradd`/`groupadd` modules do with `pwd`/`grp`).

use super::{required, Exec};
use halite_core::{Error, Map, Result, Value};
use nix::unistd::{Group, User};

/// The functions this module provides.
pub const FUNCTIONS: &[&str] = &["user.info", "user.list_groups", "group.info"];

fn groups_of(user: &User) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if let Ok(Some(g)) = Group::from_gid(user.gid) {
        names.push(g.name);
    }
    if let Ok(text) = std::fs::read_to_string("/etc/group") {
        for line in text.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() >= 4 && f[3].split(',').any(|m| m == user.name) {
                names.push(f[0].to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// Dispatch a `user.*` / `group.*` function.
pub fn call(_ex: &Exec, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
    match name {
        "user.info" | "user.list_groups" => {
            let who = required(name, args, kwargs, 0, "name")?.py_str();
            let user = User::from_name(&who).map_err(|e| Error::CommandExecution(e.to_string()))?;
            let Some(u) = user else {
                return Ok(if name == "user.info" {
                    Value::map()
                } else {
                    Value::List(vec![])
                });
            };
            let groups: Vec<Value> = groups_of(&u).into_iter().map(Value::Str).collect();
            if name == "user.list_groups" {
                return Ok(Value::List(groups));
            }
            let gecos = u.gecos.to_string_lossy().to_string();
            let mut parts: Vec<String> = gecos.splitn(5, ',').map(str::to_string).collect();
            while parts.len() < 5 {
                parts.push(String::new());
            }
            let mut m = Map::default();
            m.insert("gid".into(), Value::Int(i64::from(u.gid.as_raw())));
            m.insert("groups".into(), Value::List(groups));
            m.insert("home".into(), u.dir.display().to_string().into());
            m.insert("name".into(), u.name.clone().into());
            m.insert(
                "passwd".into(),
                u.passwd.to_string_lossy().to_string().into(),
            );
            m.insert("shell".into(), u.shell.display().to_string().into());
            m.insert("uid".into(), Value::Int(i64::from(u.uid.as_raw())));
            for (k, v) in ["fullname", "roomnumber", "workphone", "homephone", "other"]
                .iter()
                .zip(parts)
            {
                m.insert((*k).into(), v.into());
            }
            Ok(Value::Map(m))
        }
        "group.info" => {
            let who = required(name, args, kwargs, 0, "name")?.py_str();
            let Some(g) =
                Group::from_name(&who).map_err(|e| Error::CommandExecution(e.to_string()))?
            else {
                return Ok(Value::map());
            };
            let mut m = Map::default();
            m.insert("name".into(), g.name.clone().into());
            m.insert(
                "passwd".into(),
                g.passwd.to_string_lossy().to_string().into(),
            );
            m.insert("gid".into(), Value::Int(i64::from(g.gid.as_raw())));
            m.insert(
                "members".into(),
                Value::List(g.mem.iter().map(|x| Value::from(x.as_str())).collect()),
            );
            Ok(Value::Map(m))
        }
        _ => Err(Error::NotAvailable(name.to_string())),
    }
}
