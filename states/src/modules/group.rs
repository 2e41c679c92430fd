//! `group.present` / `group.absent` (salt/states/group.py on Linux, over Salt's `groupadd`
//! execution module, here [`crate::exec::accounts`]).
//!
//! Where Salt shows a Python set (the members to remove when `members: []`), Halite
//! prints them sorted (Salt's order varies from run to run) and returns them as a list.

use super::{ret, Registry, StateCall};
use crate::exec::accounts::{self, py_eq, py_iter, py_iter_str, value_int, GroupEntry};
use halite_core::{Map, Result, Value};
use std::collections::HashSet;

/// Register the `group` module.
pub fn register(r: &mut Registry) {
    r.add("group.present", present);
    r.add("group.absent", absent);
}

/// Salt's group `_changes`: what differs, in its order (gid, delusers/members, addusers,
/// delusers).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupChanges {
    /// Key and value of each change.
    pub entries: Vec<(&'static str, Value)>,
    /// `delusers` holds a Python set (the current members, for `members: []`).
    pub delusers_is_set: bool,
}

impl GroupChanges {
    /// No change?
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn shown(&self, key: &str, val: &Value) -> String {
        if key == "delusers" && self.delusers_is_set {
            let items: Vec<String> = val
                .as_list()
                .map(|l| l.iter().map(Value::py_repr).collect())
                .unwrap_or_default();
            return format!("{{{}}}", items.join(", "));
        }
        val.py_str()
    }

    /// The comment listing the changes: a header, then `key: value` lines.
    pub fn comment(&self) -> String {
        let mut out = String::from("The following group attributes are set to be changed:\n");
        for (k, v) in &self.entries {
            out.push_str(&format!("{k}: {}\n", self.shown(k, v)));
        }
        out
    }

    /// The changes as a mapping (for `{"Failed": ...}`).
    pub fn to_map(&self) -> Map {
        self.entries
            .iter()
            .map(|(k, v)| (Value::from(*k), v.clone()))
            .collect()
    }
}

/// Items of a list argument (`py_iter`), empty for non-iterables.
fn items(v: &Value) -> Vec<Value> {
    py_iter(v).unwrap_or_default()
}

/// Salt's `_changes(name, gid, addusers, delusers, members)` for an existing group.
/// A `gid` that is not a number gives Salt's error dict as the "changes".
pub fn compute_changes(
    cur: &GroupEntry,
    gid: &Value,
    addusers: &Value,
    delusers: &Value,
    members: &Value,
) -> GroupChanges {
    let mut ch = GroupChanges::default();
    if gid.is_truthy() {
        match value_int(gid) {
            Some(n) => {
                if cur.gid != n {
                    ch.entries.push(("gid", Value::Int(n)));
                }
            }
            None => {
                ch.entries.push(("result", Value::Bool(false)));
                ch.entries.push(("comment", Value::from("Invalid gid")));
                return ch;
            }
        }
    }
    let current: HashSet<Value> = cur.members.iter().map(|m| Value::Str(m.clone())).collect();
    if !members.is_null() && !members.is_truthy() {
        if !current.is_empty() {
            let mut all = cur.members.clone();
            all.sort();
            all.dedup();
            ch.entries.push(("delusers", accounts::str_list(&all)));
            ch.delusers_is_set = true;
        }
    } else if members.is_truthy() {
        let wanted: HashSet<Value> = items(members).into_iter().collect();
        if wanted != current {
            ch.entries.push(("members", members.clone()));
        }
    }
    if addusers.is_truthy() {
        let add: Vec<Value> = items(addusers)
            .into_iter()
            .filter(|u| !current.contains(u))
            .collect();
        if !add.is_empty() {
            ch.entries.push(("addusers", Value::List(add)));
        }
    }
    if delusers.is_truthy() {
        let del: Vec<Value> = items(delusers)
            .into_iter()
            .filter(|u| current.contains(u))
            .collect();
        if !del.is_empty() {
            match ch.entries.iter_mut().find(|(k, _)| *k == "delusers") {
                Some(slot) => slot.1 = Value::List(del),
                None => ch.entries.push(("delusers", Value::List(del))),
            }
            ch.delusers_is_set = false;
        }
    }
    ch
}

fn arg(c: &StateCall, key: &str) -> Value {
    c.arg(key).cloned().unwrap_or(Value::Null)
}

/// `group.present(name, gid=None, system=False, addusers=None, delusers=None,
/// members=None, non_unique=False, local=False)`.
fn present(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let gid = arg(c, "gid");
    let addusers = arg(c, "addusers");
    let delusers = arg(c, "delusers");
    let members = arg(c, "members");
    let non_unique = c.flag("non_unique", false);
    let local = c.flag("local", false);
    let root = local.then_some("/");

    if !members.is_null() && (!addusers.is_null() || !delusers.is_null()) {
        return Ok(ret(
            &name,
            Map::default(),
            None,
            "Error: Conflicting options \"members\" with \"addusers\" and/or \"delusers\" can not be used together. ",
        ));
    }
    if addusers.is_truthy() && delusers.is_truthy() {
        let add: HashSet<Value> = items(&addusers).into_iter().collect();
        if items(&delusers).iter().any(|u| add.contains(u)) {
            return Ok(ret(
                &name,
                Map::default(),
                None,
                "Error. Same user(s) can not be added and deleted simultaneously",
            ));
        }
    }

    let Some(cur) = accounts::group_info(&name, root)? else {
        return create(c, &name, &gid, &addusers, &members, non_unique, local);
    };
    let changes = compute_changes(&cur, &gid, &addusers, &delusers, &members);
    if changes.is_empty() {
        return Ok(ret(
            &name,
            Map::default(),
            Some(true),
            format!("Group {name} is present and up to date"),
        ));
    }
    let mut comment = changes.comment();
    if c.test {
        return Ok(ret(&name, Map::default(), None, comment));
    }
    for (key, val) in &changes.entries {
        match *key {
            "gid" => {
                accounts::group_chgid(&name, &gid, None, non_unique)?;
            }
            "addusers" => {
                for user in items(val) {
                    accounts::group_adduser(&name, &user.py_str(), None)?;
                }
            }
            "delusers" => {
                for user in items(val) {
                    accounts::group_deluser(&name, &user.py_str(), None)?;
                }
            }
            "members" => {
                let list = py_iter_str(&members).unwrap_or_default().join(",");
                accounts::group_members(&name, &list, None)?;
            }
            _ => {}
        }
    }
    let left = match accounts::group_info(&name, root)? {
        Some(now) => compute_changes(&now, &gid, &addusers, &delusers, &members),
        None => GroupChanges::default(),
    };
    let mut out = Map::default();
    if left.is_empty() {
        out.insert("Final".into(), "All changes applied successfully".into());
        Ok(ret(&name, out, Some(true), comment))
    } else {
        comment.push_str("Some changes could not be applied");
        out.insert("Failed".into(), Value::Map(left.to_map()));
        Ok(ret(&name, out, Some(false), comment))
    }
}

/// The "group is absent" half of `group.present`.
fn create(
    c: &StateCall,
    name: &str,
    gid: &Value,
    addusers: &Value,
    members: &Value,
    non_unique: bool,
    local: bool,
) -> Result<Map> {
    if c.test {
        return Ok(ret(
            name,
            Map::default(),
            None,
            format!("Group {name} set to be added"),
        ));
    }
    if !gid.is_null() && !non_unique {
        if let Some(other) = accounts::group_getent(None)?
            .into_iter()
            .find(|g| py_eq(&Value::Int(g.gid), gid))
        {
            return Ok(ret(
                name,
                Map::default(),
                Some(false),
                format!(
                    "Group {name} is not present but gid {} is already taken by group {}",
                    gid.py_str(),
                    other.name
                ),
            ));
        }
    }
    let system = c.flag("system", false);
    if !accounts::group_add(name, gid, system, None, non_unique, local)? {
        return Ok(ret(
            name,
            Map::default(),
            Some(false),
            format!("Failed to create new group {name}"),
        ));
    }
    let mut grp_members = String::new();
    if members.is_truthy() {
        grp_members = py_iter_str(members).unwrap_or_default().join(",");
    }
    if addusers.is_truthy() {
        grp_members = py_iter_str(addusers).unwrap_or_default().join(",");
    }
    if !grp_members.is_empty() {
        accounts::group_members(name, &grp_members, None)?;
    }
    let root = local.then_some("/");
    let Some(now) = accounts::group_info(name, root)? else {
        return Ok(ret(
            name,
            Map::default(),
            Some(true),
            format!("New group {name} created"),
        ));
    };
    let delusers = c.arg("delusers").cloned().unwrap_or(Value::Null);
    let left = compute_changes(&now, gid, addusers, &delusers, members);
    if !left.is_empty() {
        let mut out = Map::default();
        out.insert("Failed".into(), Value::Map(left.to_map()));
        return Ok(ret(
            name,
            out,
            Some(false),
            format!("Group {name} has been created but, some changes could not be applied"),
        ));
    }
    let changes = now.to_value().as_map().cloned().unwrap_or_default();
    Ok(ret(
        name,
        changes,
        Some(true),
        format!("New group {name} created"),
    ))
}

/// `group.absent(name, local=False)`.
fn absent(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let local = c.flag("local", false);
    if accounts::group_info(&name, local.then_some("/"))?.is_none() {
        return Ok(ret(&name, Map::default(), Some(true), "Group not present"));
    }
    if c.test {
        return Ok(ret(
            &name,
            Map::default(),
            None,
            format!("Group {name} is set for removal"),
        ));
    }
    if accounts::group_delete(&name, None, local)? {
        let mut changes = Map::default();
        changes.insert(Value::Str(name.clone()), "".into());
        Ok(ret(
            &name,
            changes,
            Some(true),
            format!("Removed group {name}"),
        ))
    } else {
        Ok(ret(
            &name,
            Map::default(),
            Some(false),
            format!("Failed to remove group {name}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grp(gid: i64, members: &[&str]) -> GroupEntry {
        GroupEntry {
            name: "etcd".into(),
            passwd: "x".into(),
            gid,
            members: members.iter().map(|m| (*m).to_string()).collect(),
        }
    }

    fn list(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::from(*s)).collect())
    }

    const N: Value = Value::Null;

    #[test]
    fn gid_and_members() {
        let g = grp(999, &["a", "b"]);
        assert!(compute_changes(&g, &Value::Int(999), &N, &N, &N).is_empty());
        assert!(compute_changes(&g, &Value::from("999"), &N, &N, &N).is_empty());
        // gid 0 is not compared.
        assert!(compute_changes(&g, &Value::Int(0), &N, &N, &N).is_empty());
        let ch = compute_changes(&g, &Value::Int(5), &N, &N, &list(&["b", "a"]));
        assert_eq!(
            ch.comment(),
            "The following group attributes are set to be changed:\ngid: 5\n"
        );
        let ch = compute_changes(&g, &N, &N, &N, &list(&["a"]));
        assert_eq!(
            ch.comment(),
            "The following group attributes are set to be changed:\nmembers: ['a']\n"
        );
        let ch = compute_changes(&g, &N, &N, &N, &list(&[]));
        assert_eq!(
            ch.comment(),
            "The following group attributes are set to be changed:\ndelusers: {'a', 'b'}\n"
        );
        assert_eq!(
            Value::Map(ch.to_map()).py_repr(),
            "{'delusers': ['a', 'b']}"
        );
        assert!(compute_changes(&grp(1, &[]), &N, &N, &N, &list(&[])).is_empty());
    }

    #[test]
    fn add_and_delete_users() {
        let g = grp(999, &["a"]);
        let ch = compute_changes(&g, &N, &list(&["a", "c"]), &list(&["a", "z"]), &N);
        assert_eq!(
            ch.comment(),
            "The following group attributes are set to be changed:\naddusers: ['c']\ndelusers: ['a']\n"
        );
        assert!(compute_changes(&g, &N, &list(&["a"]), &list(&["z"]), &N).is_empty());
    }

    #[test]
    fn invalid_gid_is_the_change_set() {
        let ch = compute_changes(&grp(1, &[]), &Value::from("abc"), &N, &N, &N);
        assert_eq!(
            ch.comment(),
            "The following group attributes are set to be changed:\nresult: False\ncomment: Invalid gid\n"
        );
        assert_eq!(
            Value::Map(ch.to_map()).py_repr(),
            "{'result': False, 'comment': 'Invalid gid'}"
        );
    }
}
