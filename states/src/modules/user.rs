//! `user.present` / `user.absent` (salt/states/user.py on Linux, over Salt's `useradd` and
//! `linux_shadow` execution modules, here [`crate::exec::accounts`]).
//!
//! Deviations from Salt, all on paths daemon users do not take:
//! - `hash_password: True` with a `password` fails with a clear comment (Halite has no
//!   `crypt(3)`); a `password` given as a hash is supported.
//! - Where Salt's comparison code raises (a `groups` entry that is not a string, a
//!   duplicate gid shared by three groups), the state ends as an exception with a short
//!   message instead of Python's traceback.
//! - `user.absent` lists the removed groups in sorted order (Salt: set order, random).

use super::{ret, Registry, StateCall};
use crate::exec::accounts::{
    self, py_eq, py_iter_str, str_list, AddUser, GroupLookup, UserInfo, GECOS_KEYS, REDACTED,
};
use halite_core::{Error, Map, Result, Value};
use std::collections::BTreeSet;

/// Register the `user` module.
pub fn register(r: &mut Registry) {
    r.add("user.present", present);
    r.add("user.absent", absent);
}

/// What `user.present` asks for, as Salt's `_changes` receives it.
#[derive(Debug, Clone)]
pub struct Wanted {
    /// `uid` (compared only when truthy; a string never equals the number).
    pub uid: Value,
    /// `gid` as `_changes` gets it (the user's name when `usergroup` and such a group exist).
    pub gid: Value,
    /// `groups` (`None` = keep the current ones).
    pub groups: Option<Vec<String>>,
    /// The `optional_groups` that exist (`None` when none were given).
    pub optional_groups: Option<Vec<String>>,
    /// `remove_groups`.
    pub remove_groups: bool,
    /// `home`.
    pub home: Value,
    /// `createhome`.
    pub createhome: bool,
    /// `password` (a hash).
    pub password: Value,
    /// `enforce_password`.
    pub enforce_password: bool,
    /// `empty_password`.
    pub empty_password: bool,
    /// `shell`.
    pub shell: Value,
    /// fullname, roomnumber, workphone, homephone, other (`str()`-ed; `None` = not managed).
    pub gecos: [Option<String>; 5],
    /// `date` (last password change, days since the epoch).
    pub date: Value,
    /// `mindays`.
    pub mindays: Value,
    /// `maxdays`.
    pub maxdays: Value,
    /// `inactdays`.
    pub inactdays: Value,
    /// `warndays`.
    pub warndays: Value,
    /// `expire`.
    pub expire: Value,
    /// `password_lock` (`None`, `True`, `False`).
    pub password_lock: Value,
}

impl Default for Wanted {
    fn default() -> Self {
        Wanted {
            uid: Value::Null,
            gid: Value::Null,
            groups: None,
            optional_groups: None,
            remove_groups: true,
            home: Value::Null,
            createhome: true,
            password: Value::Null,
            enforce_password: true,
            empty_password: false,
            shell: Value::Null,
            gecos: Default::default(),
            date: Value::Null,
            mindays: Value::Null,
            maxdays: Value::Null,
            inactdays: Value::Null,
            warndays: Value::Null,
            expire: Value::Null,
            password_lock: Value::Null,
        }
    }
}

/// Why Salt's `_changes` did not give a change set.
#[derive(Debug)]
pub enum ChangesError {
    /// A uid/gid change without `allow_uid_change`/`allow_gid_change` (the lines of
    /// Salt's `CommandExecutionError` info).
    NotPermitted(Vec<String>),
    /// Where Python raises another exception.
    Raised(Error),
}

impl From<Error> for ChangesError {
    fn from(e: Error) -> Self {
        ChangesError::Raised(e)
    }
}

/// The comment of a refused uid/gid change (`CommandExecutionError.strerror`).
pub fn not_permitted_comment(lines: &[String]) -> String {
    let items: Vec<String> = lines.iter().map(|l| format!("- {l}")).collect();
    format!(
        "Encountered error checking for needed changes. Additional info follows:\n\n{}",
        items.join("\n")
    )
}

fn remove_item(list: &mut Vec<String>, item: &str) {
    if let Some(i) = list.iter().position(|g| g == item) {
        list.remove(i);
    }
}

fn gid_key(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(*n),
        _ => None,
    }
}

/// Salt's `_group_changes(cur, wanted, remove)`: do the group sets differ, ignoring
/// groups that only differ from another one of the sets by sharing its gid?
pub fn group_changes(
    lookup: &dyn GroupLookup,
    cur: &[String],
    wanted: &[String],
    remove: bool,
) -> Result<bool> {
    let cur: BTreeSet<&String> = cur.iter().collect();
    let wanted: BTreeSet<&String> = wanted.iter().collect();
    if cur == wanted || (!remove && wanted.is_subset(&cur)) {
        return Ok(false);
    }
    let all: Vec<(&String, Option<i64>)> = cur
        .union(&wanted)
        .map(|g| Ok((*g, lookup.by_name(g)?.map(|e| e.gid))))
        .collect::<Result<_>>()?;
    let gid_of = |g: &str| all.iter().find(|(n, _)| *n == g).and_then(|(_, gid)| *gid);
    let diff: Vec<&String> = if remove {
        cur.symmetric_difference(&wanted).copied().collect()
    } else {
        wanted.difference(&cur).copied().collect()
    };
    let mut remain = diff.len();
    for d in &diff {
        let mut hits = 0;
        for (other, other_gid) in &all {
            if other == d {
                continue;
            }
            let (Some(a), Some(b)) = (gid_of(d), *other_gid) else {
                return Err(Error::CommandExecution("KeyError: 'gid'".into()));
            };
            if a == b {
                hits += 1;
            }
        }
        if hits > 1 {
            return Err(Error::CommandExecution(
                "ValueError: list.remove(x): x not in list".into(),
            ));
        }
        remain -= hits;
    }
    Ok(remain > 0)
}

/// Salt's `_changes` for an existing user: the attributes to change, in Salt's order
/// (uid, gid, groups, home, homeDoesNotExist, shell, passwd, empty_password, date,
/// mindays, maxdays, inactdays, warndays, expire, password_lock, fullname, roomnumber,
/// workphone, homephone, other). `lshad` is `shadow.info(name)`; `is_dir` tells whether a
/// home directory exists.
#[allow(clippy::too_many_arguments)]
pub fn compute_changes(
    name: &str,
    w: &Wanted,
    cur: &UserInfo,
    lshad: &Map,
    lookup: &dyn GroupLookup,
    is_dir: &dyn Fn(&str) -> bool,
    allow_uid_change: bool,
    allow_gid_change: bool,
) -> std::result::Result<Map, ChangesError> {
    let mut change = Map::default();
    let mut cur_groups = cur.groups.clone();
    let mut wanted: Vec<String> = w
        .groups
        .iter()
        .chain(w.optional_groups.iter())
        .flatten()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    // Groups of the user that share a gid.
    let gids: Vec<Option<i64>> = cur_groups
        .iter()
        .map(|g| Ok(lookup.by_name(g)?.map(|e| e.gid)))
        .collect::<Result<_>>()?;
    let mut dupes: Vec<(Option<i64>, Vec<String>)> = Vec::new();
    for (idx, gid) in gids.iter().enumerate() {
        if gids.iter().filter(|g| *g == gid).count() > 1 {
            match dupes.iter_mut().find(|(k, _)| k == gid) {
                Some((_, names)) => names.push(cur_groups[idx].clone()),
                None => dupes.push((*gid, vec![cur_groups[idx].clone()])),
            }
        }
    }
    let in_dupes = |g: &str| dupes.iter().any(|(_, names)| names.iter().any(|n| n == g));
    let dupe_set = |g: &str| -> Result<Vec<String>> {
        let key = gid_key(&accounts::group_to_gid(lookup, &Value::Str(g.to_string()))?);
        Ok(dupes
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, names)| names.clone())
            .unwrap_or_default())
    };

    let keep_optional = w.optional_groups.as_ref().is_some_and(|o| !o.is_empty());
    if !w.remove_groups || (w.groups.is_none() && !keep_optional) {
        wanted = wanted
            .into_iter()
            .chain(cur_groups.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
    }
    let cur_gid = Value::Int(cur.gid);
    if w.uid.is_truthy() && !py_eq(&Value::Int(cur.uid), &w.uid) {
        change.insert("uid".into(), w.uid.clone());
    }
    if !w.gid.is_null() {
        let resolved = accounts::group_to_gid(lookup, &w.gid)?;
        if !py_eq(&cur_gid, &w.gid) && !py_eq(&cur_gid, &resolved) {
            change.insert("gid".into(), w.gid.clone());
        }
    }
    let default_grp =
        accounts::gid_to_group(lookup, if w.gid.is_null() { &cur_gid } else { &w.gid })?;
    let old_default_grp = accounts::gid_to_group(lookup, &cur_gid)?;
    // The primary group is not compared.
    if let Some(dg) = &default_grp {
        if cur_groups.contains(dg) || wanted.contains(dg) {
            if in_dupes(dg) {
                for g in dupe_set(dg)? {
                    remove_item(&mut cur_groups, &g);
                    remove_item(&mut wanted, &g);
                }
            } else {
                remove_item(&mut cur_groups, dg);
                remove_item(&mut wanted, dg);
            }
        }
    }
    // Nor the old primary group when the gid changes.
    if let Some(old) = &old_default_grp {
        if old_default_grp != default_grp && cur_groups.contains(old) {
            if in_dupes(old) {
                for g in dupe_set(old)? {
                    remove_item(&mut cur_groups, &g);
                }
            } else {
                remove_item(&mut cur_groups, old);
            }
        }
    }
    // Nor a group named like the user, unless asked for.
    if cur_groups.iter().any(|g| g == name) && !wanted.iter().any(|g| g == name) {
        if in_dupes(name) {
            for g in dupe_set(name)? {
                remove_item(&mut cur_groups, &g);
            }
        } else {
            remove_item(&mut cur_groups, name);
        }
    }
    if group_changes(lookup, &cur_groups, &wanted, w.remove_groups)?
        && (!wanted.is_empty() || w.remove_groups)
    {
        change.insert("groups".into(), str_list(&wanted));
    }
    let cur_home = Value::Str(cur.home.clone());
    if w.home.is_truthy() && !py_eq(&cur_home, &w.home) {
        change.insert("home".into(), w.home.clone());
    }
    if w.createhome {
        let newhome = if w.home.is_truthy() {
            &w.home
        } else {
            &cur_home
        };
        if !is_dir(&newhome.py_str()) {
            change.insert("homeDoesNotExist".into(), newhome.clone());
        }
    }
    if w.shell.is_truthy() && !py_eq(&Value::Str(cur.shell.clone()), &w.shell) {
        change.insert("shell".into(), w.shell.clone());
    }

    // Shadow attributes.
    let null = Value::Null;
    let sh = |k: &str| lshad.get(k).unwrap_or(&null);
    let spw = sh("passwd").py_str();
    let spw_v = Value::Str(spw.clone());
    if w.password.is_truthy() && !w.empty_password {
        let default_hash = spw == accounts::DEFAULT_HASH;
        if (default_hash || w.enforce_password) && !py_eq(&spw_v, &w.password) {
            change.insert("passwd".into(), w.password.clone());
        }
    }
    if w.empty_password && !spw.is_empty() {
        change.insert("empty_password".into(), Value::Bool(true));
    }
    for (key, wanted_v, shadow_key) in [
        ("date", &w.date, "lstchg"),
        ("mindays", &w.mindays, "min"),
        ("maxdays", &w.maxdays, "max"),
        ("inactdays", &w.inactdays, "inact"),
        ("warndays", &w.warndays, "warn"),
    ] {
        if !wanted_v.is_null() && !py_eq(sh(shadow_key), wanted_v) {
            change.insert(key.into(), wanted_v.clone());
        }
    }
    if w.expire.is_truthy() && !py_eq(sh("expire"), &w.expire) {
        change.insert("expire".into(), w.expire.clone());
    }
    let locked = spw.starts_with('!');
    if (w.password_lock.is_truthy() && !locked) || (w.password_lock == Value::Bool(false) && locked)
    {
        change.insert("password_lock".into(), w.password_lock.clone());
    }

    // GECOS.
    for (i, key) in GECOS_KEYS.iter().enumerate() {
        if let Some(v) = &w.gecos[i] {
            if cur.gecos[i] != *v {
                change.insert((*key).into(), v.clone().into());
            }
        }
    }

    let mut errors = Vec::new();
    if !allow_uid_change && change.contains_key("uid") {
        errors.push(format!(
            "Changing uid ({} -> {}) not permitted, set allow_uid_change to True to force this change. Note that this will not change file ownership.",
            cur.uid,
            w.uid.py_str()
        ));
    }
    if !allow_gid_change && change.contains_key("gid") {
        errors.push(format!(
            "Changing gid ({} -> {}) not permitted, set allow_gid_change to True to force this change. Note that this will not change file ownership.",
            cur.gid,
            w.gid.py_str()
        ));
    }
    if !errors.is_empty() {
        return Err(ChangesError::NotPermitted(errors));
    }
    Ok(change)
}

/// The test-mode comment for an existing user with changes.
pub fn test_comment(changes: &Map, missing_groups: &[String]) -> String {
    let mut comment = String::from("The following user attributes are set to be changed:\n");
    for (key, val) in changes {
        let key = key.py_str();
        let val = if key == "passwd" {
            REDACTED.to_string()
        } else {
            val.py_str()
        };
        comment.push_str(&format!("{key}: {val}\n"));
    }
    if !missing_groups.is_empty() {
        comment.push_str(&format!(
            "groups (pending creation): {}\n",
            missing_groups.join(",")
        ));
    }
    comment
}

/// `changes` after an update: every `user.info` key whose value moved, then every shadow
/// key (the hash shown redacted).
pub fn diff_changes(pre: &Map, post: &Map, lshad: &Map, spost: &Map) -> Map {
    let mut out = Map::default();
    for (k, v) in post {
        if pre.get(k) != Some(v) {
            out.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in spost {
        if lshad.get(k) != Some(v) {
            let shown = if k.as_str() == Some("passwd") {
                Value::from(REDACTED)
            } else {
                v.clone()
            };
            out.insert(k.clone(), shown);
        }
    }
    out
}

fn arg(c: &StateCall, key: &str) -> Value {
    c.arg(key).cloned().unwrap_or(Value::Null)
}

/// A list argument: `None` when absent/None, the items' `str()` otherwise (a falsy
/// non-list counts as an empty list, as `x or []` does).
fn list_arg(c: &StateCall, key: &str) -> Result<Option<Vec<String>>> {
    match c.arg(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) if !v.is_truthy() => Ok(Some(Vec::new())),
        Some(v) => py_iter_str(v).map(Some).ok_or_else(|| {
            Error::CommandExecution(format!(
                "TypeError: '{}' object is not iterable ({key})",
                v.type_name()
            ))
        }),
    }
}

fn exists(lookup: &dyn GroupLookup, group: &str) -> Result<bool> {
    Ok(lookup.by_name(group)?.is_some())
}

fn shadow_setter_failures() -> [(&'static str, &'static str, &'static str); 6] {
    [
        ("mindays", "min", "minimum days to"),
        ("maxdays", "max", "maximum days to"),
        ("inactdays", "inact", "inactive days to"),
        ("warndays", "warn", "warn days to"),
        ("expire", "expire", "expire days to"),
        ("date", "lstchg", "last change date to"),
    ]
}

/// `user.present` (Linux arguments; `loginclass` and the `win_*` ones are ignored).
fn present(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let lookup = accounts::Nss;
    let password = arg(c, "password");
    if password.is_truthy() && c.flag("hash_password", false) {
        return Ok(ret(
            &name,
            Map::default(),
            Some(false),
            "'hash_password' is not available in Halite: give 'password' as a crypt(3) hash (e.g. from `mkpasswd -m sha-512`)",
        ));
    }
    let gecos: [Option<String>; 5] =
        GECOS_KEYS.map(|k| c.arg(k).filter(|v| !v.is_null()).map(Value::py_str));
    for field in gecos.iter().take(3).flatten() {
        if field.contains(',') {
            return Ok(ret(
                &name,
                Map::default(),
                Some(false),
                format!("Unsupported char ',' in {field}"),
            ));
        }
    }
    let mut groups = list_arg(c, "groups")?;
    let mut missing_groups = Vec::new();
    if let Some(gs) = groups.as_ref().filter(|g| !g.is_empty()) {
        for g in gs {
            if !exists(&lookup, g)? {
                missing_groups.push(g.clone());
            }
        }
        if !missing_groups.is_empty() {
            if c.test {
                groups = Some(
                    gs.iter()
                        .filter(|g| !missing_groups.contains(g))
                        .cloned()
                        .collect(),
                );
            } else {
                return Ok(ret(
                    &name,
                    Map::default(),
                    Some(false),
                    format!(
                        "The following group(s) are not present: {}",
                        missing_groups.join(",")
                    ),
                ));
            }
        }
    }
    let present_optgroups = match list_arg(c, "optional_groups")? {
        Some(opt) if !opt.is_empty() => {
            let mut present = Vec::new();
            for g in opt {
                if exists(&lookup, &g)? {
                    present.push(g);
                }
            }
            Some(present)
        }
        _ => None,
    };
    let gid = arg(c, "gid");
    let usergroup = arg(c, "usergroup");
    let changes_gid = if usergroup.is_truthy() && exists(&lookup, &name)? {
        Value::Str(name.clone())
    } else {
        gid.clone()
    };
    let remove_groups = c.flag("remove_groups", true);
    let createhome = c.flag("createhome", true);
    let empty_password = c.flag("empty_password", false);
    let local = c.flag("local", false);
    let root = local.then_some("/");
    let mut wanted = Wanted {
        uid: arg(c, "uid"),
        gid: changes_gid,
        groups: groups.clone(),
        optional_groups: present_optgroups.clone(),
        remove_groups,
        home: arg(c, "home"),
        createhome,
        password: password.clone(),
        enforce_password: c.flag("enforce_password", true),
        empty_password,
        shell: arg(c, "shell"),
        gecos: gecos.clone(),
        date: arg(c, "date"),
        mindays: arg(c, "mindays"),
        maxdays: arg(c, "maxdays"),
        inactdays: arg(c, "inactdays"),
        warndays: arg(c, "warndays"),
        expire: arg(c, "expire"),
        password_lock: arg(c, "password_lock"),
    };
    let is_dir = accounts::is_dir;

    let lshad = accounts::shadow_info(&name, None)?;
    let current = accounts::user_info(&name, root)?;

    let Some(cur) = current else {
        // The user is absent: create it.
        if c.test {
            let mut comment = format!("User {name} set to be added");
            if !missing_groups.is_empty() {
                comment.push_str(&format!(" (pending groups: {})", missing_groups.join(",")));
            }
            return Ok(ret(&name, Map::default(), None, comment));
        }
        let mut add_groups = groups;
        if let Some(opt) = present_optgroups.as_ref().filter(|o| !o.is_empty()) {
            if add_groups.as_ref().is_some_and(|g| !g.is_empty()) {
                if let Some(g) = add_groups.as_mut() {
                    g.extend(opt.iter().cloned());
                }
            } else {
                add_groups = Some(opt.clone());
            }
        }
        let mut add = AddUser::new(&name);
        add.uid = wanted.uid.clone();
        add.gid = gid.clone();
        add.groups = add_groups;
        add.home = wanted.home.clone();
        add.shell = wanted.shell.clone();
        add.unique = c.flag("unique", true);
        add.system = c.flag("system", false);
        add.gecos = gecos.map(|g| g.map_or(Value::Null, Value::Str));
        add.createhome = createhome;
        add.nologinit = c.flag("nologinit", false);
        add.usergroup = usergroup;
        add.local = local;
        if !accounts::user_add(&add)? {
            return Ok(ret(
                &name,
                Map::default(),
                Some(false),
                format!("Failed to create new user {name}"),
            ));
        }
        let mut result = Some(true);
        let mut comment = format!("New user {name} created");
        let mut changes = accounts::user_info(&name, root)?
            .map(|u| u.to_map())
            .unwrap_or_default();
        if !createhome {
            changes.insert("home".into(), "".into());
        }
        if password.is_truthy() && !empty_password {
            accounts::set_password(&name, &password.py_str(), None)?;
            let spost = accounts::shadow_info(&name, None)?;
            if !spost.get("passwd").is_some_and(|p| py_eq(p, &password)) {
                comment = format!("User {name} created but failed to set password to {REDACTED}");
                result = Some(false);
            }
            changes.insert("password".into(), REDACTED.into());
        }
        if empty_password && !password.is_truthy() {
            accounts::del_password(&name, None)?;
            let spost = accounts::shadow_info(&name, None)?;
            if spost.get("passwd").is_some_and(Value::is_truthy) {
                comment = format!("User {name} created but failed to empty password");
                result = Some(false);
            }
            changes.insert("password".into(), "".into());
        }
        // Salt's order: date, mindays, maxdays, inactdays, warndays, expire.
        let setters = shadow_setter_failures();
        let order = [
            "date",
            "mindays",
            "maxdays",
            "inactdays",
            "warndays",
            "expire",
        ];
        for key in order {
            let value = arg(c, key);
            let wanted_set = if key == "date" {
                !value.is_null()
            } else {
                value.is_truthy()
            };
            if !wanted_set {
                continue;
            }
            let Some((_, shadow_key, text)) = setters.iter().find(|(k, _, _)| *k == key) else {
                continue;
            };
            accounts::set_shadow_attr(&name, key, &value, None)?;
            let spost = accounts::shadow_info(&name, None)?;
            if !spost.get(*shadow_key).is_some_and(|v| py_eq(v, &value)) {
                comment = format!(
                    "User {name} created but failed to set {text} {}",
                    value.py_str()
                );
                result = Some(false);
            }
            changes.insert(key.into(), value);
        }
        return Ok(ret(&name, changes, result, comment));
    };

    let changes = match compute_changes(
        &name,
        &wanted,
        &cur,
        &lshad,
        &lookup,
        &is_dir,
        c.flag("allow_uid_change", false),
        c.flag("allow_gid_change", false),
    ) {
        Ok(ch) => ch,
        Err(ChangesError::NotPermitted(lines)) => {
            return Ok(ret(
                &name,
                Map::default(),
                Some(false),
                not_permitted_comment(&lines),
            ))
        }
        Err(ChangesError::Raised(e)) => return Err(e),
    };
    if changes.is_empty() {
        return Ok(ret(
            &name,
            Map::default(),
            Some(true),
            format!("User {name} is present and up to date"),
        ));
    }
    if c.test {
        return Ok(ret(
            &name,
            Map::default(),
            None,
            test_comment(&changes, &missing_groups),
        ));
    }

    // Apply the changes, in Salt's order.
    let lshad = accounts::shadow_info(&name, None)?;
    let pre = accounts::user_info(&name, root)?
        .ok_or_else(|| Error::CommandExecution(format!("KeyError: user '{name}' vanished")))?;
    let mut changes = changes;
    if changes.shift_remove("passwd").is_some() && !empty_password {
        accounts::set_password(&name, &password.py_str(), None)?;
    }
    if changes.shift_remove("empty_password") == Some(Value::Bool(true)) {
        accounts::del_password(&name, None)?;
    }
    if let Some(lock) = changes.shift_remove("password_lock") {
        accounts::set_password_lock(&name, lock.is_truthy(), None)?;
    }
    if let Some(date) = changes.shift_remove("date") {
        accounts::set_shadow_attr(&name, "date", &date, None)?;
    }
    let persist_home = c.flag("persist_home", false);
    let mut homedir_changed = false;
    if let Some(home) = changes.shift_remove("home") {
        if !changes.contains_key("homeDoesNotExist") {
            accounts::chattrib(&name, "-d", &home, persist_home, None)?;
            homedir_changed = true;
        }
    }
    if let Some(home) = changes.shift_remove("homeDoesNotExist") {
        if !homedir_changed {
            accounts::chattrib(&name, "-d", &home, persist_home, None)?;
        }
        let path = home.py_str();
        if !accounts::is_dir(&path) {
            accounts::make_home(&path, pre.uid, pre.gid)?;
        }
    }
    for key in ["mindays", "maxdays", "inactdays", "warndays", "expire"] {
        if let Some(v) = changes.shift_remove(key) {
            accounts::set_shadow_attr(&name, key, &v, None)?;
        }
    }
    let keys: Vec<Value> = changes.keys().cloned().collect();
    for key in keys {
        let k = key.py_str();
        let param = match k.as_str() {
            "uid" => "-u",
            "gid" => "-g",
            "shell" => "-s",
            "groups" => continue,
            _ => "",
        };
        let Some(v) = changes.shift_remove(&key) else {
            continue;
        };
        if !param.is_empty() {
            accounts::chattrib(&name, param, &v, false, None)?;
        } else if GECOS_KEYS.contains(&k.as_str()) {
            accounts::update_gecos(&name, &k, &v, None)?;
        }
    }
    if let Some(g) = changes.shift_remove("groups") {
        let list: Vec<String> = g
            .as_list()
            .map_or_else(Vec::new, |l| l.iter().map(Value::py_str).collect());
        accounts::chgroups(&name, &list, !remove_groups, None)?;
    }
    let post = accounts::user_info(&name, root)?
        .map(|u| u.to_map())
        .unwrap_or_default();
    let spost = if lshad.get("passwd").is_some_and(|p| py_eq(p, &password)) {
        Map::default()
    } else {
        accounts::shadow_info(&name, None)?
    };
    let diff = diff_changes(&pre.to_map(), &post, &lshad, &spost);
    let mut comment = format!("User {name} is present and up to date");
    if !diff.is_empty() {
        comment = format!("Updated user {name}");
    }

    // Whatever is still different could not be changed.
    wanted.gid = gid;
    let Some(now) = accounts::user_info(&name, root)? else {
        return Ok(ret(&name, diff, Some(true), comment));
    };
    let lshad_now = accounts::shadow_info(&name, None)?;
    match compute_changes(
        &name, &wanted, &now, &lshad_now, &lookup, &is_dir, true, true,
    ) {
        Ok(left) if !left.is_empty() => Ok(ret(
            &name,
            diff,
            Some(false),
            format!(
                "These values could not be changed: {}",
                Value::Map(left).py_repr()
            ),
        )),
        Ok(_) => Ok(ret(&name, diff, Some(true), comment)),
        Err(ChangesError::Raised(e)) => Err(e),
        Err(ChangesError::NotPermitted(lines)) => {
            Ok(ret(&name, diff, Some(false), not_permitted_comment(&lines)))
        }
    }
}

/// `user.absent(name, purge=False, force=False, local=False)`.
fn absent(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let local = c.flag("local", false);
    let root = local.then_some("/");
    if accounts::user_info(&name, root)?.is_none() {
        return Ok(ret(
            &name,
            Map::default(),
            Some(true),
            format!("User {name} is not present"),
        ));
    }
    if c.test {
        return Ok(ret(
            &name,
            Map::default(),
            None,
            format!("User {name} set for removal"),
        ));
    }
    let before = accounts::list_groups(&name);
    let removed = accounts::user_delete(
        &name,
        c.flag("purge", false),
        c.flag("force", false),
        None,
        local,
    )?;
    if !removed {
        return Ok(ret(
            &name,
            Map::default(),
            Some(false),
            format!("Failed to remove user {name}"),
        ));
    }
    let mut changes = Map::default();
    for g in &before {
        if accounts::group_info(g, None)?.is_none() {
            changes.insert(format!("{g} group").into(), "removed".into());
        }
    }
    changes.insert(Value::Str(name.clone()), "removed".into());
    Ok(ret(
        &name,
        changes,
        Some(true),
        format!("Removed user {name}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::accounts::GroupEntry;

    struct Fake(Vec<(&'static str, i64)>);

    impl GroupLookup for Fake {
        fn by_name(&self, name: &str) -> Result<Option<GroupEntry>> {
            Ok(self
                .0
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(n, g)| entry(n, *g)))
        }
        fn by_gid(&self, gid: i64) -> Result<Option<GroupEntry>> {
            Ok(self
                .0
                .iter()
                .find(|(_, g)| *g == gid)
                .map(|(n, g)| entry(n, *g)))
        }
    }

    fn entry(name: &str, gid: i64) -> GroupEntry {
        GroupEntry {
            name: name.into(),
            passwd: "x".into(),
            gid,
            members: vec![],
        }
    }

    fn groups() -> Fake {
        Fake(vec![
            ("root", 0),
            ("adm", 4),
            ("etcd", 999),
            ("docker", 990),
            ("wheel", 10),
            ("alias", 10),
            ("kube", 998),
        ])
    }

    fn etcd(groups: &[&str]) -> UserInfo {
        UserInfo {
            gid: 999,
            groups: groups.iter().map(|s| (*s).to_string()).collect(),
            home: "/var/lib/etcd".into(),
            name: "etcd".into(),
            passwd: "x".into(),
            shell: "/usr/sbin/nologin".into(),
            uid: 999,
            gecos: Default::default(),
        }
    }

    fn shadow(passwd: &str) -> Map {
        let mut m = accounts::shadow_empty();
        m.insert("name".into(), "etcd".into());
        m.insert("passwd".into(), passwd.into());
        m
    }

    fn changes(w: &Wanted, cur: &UserInfo) -> std::result::Result<Map, ChangesError> {
        compute_changes(
            "etcd",
            w,
            cur,
            &shadow("!"),
            &groups(),
            &|_| true,
            false,
            false,
        )
    }

    fn repr(m: &Map) -> String {
        Value::Map(m.clone()).py_repr()
    }

    #[test]
    fn up_to_date_daemon_user() {
        let w = Wanted {
            home: "/var/lib/etcd".into(),
            shell: "/usr/sbin/nologin".into(),
            uid: Value::Int(999),
            gid: "etcd".into(),
            ..Wanted::default()
        };
        assert!(changes(&w, &etcd(&["etcd"])).unwrap().is_empty());
    }

    #[test]
    fn shell_home_and_missing_dir() {
        let w = Wanted {
            home: "/srv/etcd".into(),
            shell: "/bin/bash".into(),
            ..Wanted::default()
        };
        let ch = compute_changes(
            "etcd",
            &w,
            &etcd(&["etcd"]),
            &shadow("!"),
            &groups(),
            &|_| false,
            false,
            false,
        )
        .unwrap();
        assert_eq!(
            repr(&ch),
            "{'home': '/srv/etcd', 'homeDoesNotExist': '/srv/etcd', 'shell': '/bin/bash'}"
        );
        assert_eq!(
            test_comment(&ch, &["late".into()]),
            "The following user attributes are set to be changed:\nhome: /srv/etcd\nhomeDoesNotExist: /srv/etcd\nshell: /bin/bash\ngroups (pending creation): late\n"
        );
        // createhome: False skips the directory check.
        let w = Wanted {
            createhome: false,
            ..Wanted::default()
        };
        assert!(compute_changes(
            "etcd",
            &w,
            &etcd(&["etcd"]),
            &shadow("!"),
            &groups(),
            &|_| false,
            false,
            false
        )
        .unwrap()
        .is_empty());
    }

    #[test]
    fn string_uid_is_never_equal() {
        let w = Wanted {
            uid: "999".into(),
            ..Wanted::default()
        };
        match changes(&w, &etcd(&["etcd"])) {
            Err(ChangesError::NotPermitted(lines)) => assert_eq!(
                not_permitted_comment(&lines),
                "Encountered error checking for needed changes. Additional info follows:\n\n- Changing uid (999 -> 999) not permitted, set allow_uid_change to True to force this change. Note that this will not change file ownership."
            ),
            other => panic!("{other:?}"),
        }
        // A gid given as a numeric string: getgrnam("999") fails, so only an int or the
        // group's name match.
        let w = Wanted {
            gid: "999".into(),
            ..Wanted::default()
        };
        assert!(
            matches!(changes(&w, &etcd(&["etcd"])), Err(ChangesError::NotPermitted(l)) if l[0].starts_with("Changing gid (999 -> 999)"))
        );
        let w = Wanted {
            gid: Value::Int(999),
            ..Wanted::default()
        };
        assert!(changes(&w, &etcd(&["etcd"])).unwrap().is_empty());
        let w = Wanted {
            uid: Value::Int(5),
            gid: Value::Int(4),
            ..Wanted::default()
        };
        let ch = compute_changes(
            "etcd",
            &w,
            &etcd(&["etcd"]),
            &shadow("!"),
            &groups(),
            &|_| true,
            true,
            true,
        )
        .unwrap();
        // `groups` unset keeps the current ones: the old primary group becomes wanted as a
        // supplementary group.
        assert_eq!(repr(&ch), "{'uid': 5, 'gid': 4, 'groups': ['etcd']}");
        match changes(&w, &etcd(&["etcd"])) {
            Err(ChangesError::NotPermitted(lines)) => assert_eq!(lines.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn group_membership() {
        // Unset groups: nothing to do whatever the current ones.
        assert!(changes(&Wanted::default(), &etcd(&["adm", "etcd"]))
            .unwrap()
            .is_empty());
        // Wanted list; the primary group is not compared.
        let w = Wanted {
            groups: Some(vec!["docker".into()]),
            ..Wanted::default()
        };
        assert_eq!(
            repr(&changes(&w, &etcd(&["adm", "etcd"])).unwrap()),
            "{'groups': ['docker']}"
        );
        let w = Wanted {
            groups: Some(vec!["etcd".into(), "adm".into()]),
            ..Wanted::default()
        };
        assert!(changes(&w, &etcd(&["adm", "etcd"])).unwrap().is_empty());
        // An empty list removes the supplementary groups.
        let w = Wanted {
            groups: Some(vec![]),
            ..Wanted::default()
        };
        assert_eq!(
            repr(&changes(&w, &etcd(&["adm", "etcd"])).unwrap()),
            "{'groups': []}"
        );
        // remove_groups: False only adds.
        let w = Wanted {
            groups: Some(vec!["docker".into()]),
            remove_groups: false,
            ..Wanted::default()
        };
        assert_eq!(
            repr(&changes(&w, &etcd(&["adm", "etcd"])).unwrap()),
            "{'groups': ['adm', 'docker']}"
        );
        let w = Wanted {
            groups: Some(vec!["adm".into()]),
            remove_groups: false,
            ..Wanted::default()
        };
        assert!(changes(&w, &etcd(&["adm", "docker", "etcd"]))
            .unwrap()
            .is_empty());
        // Optional groups alone replace the list too.
        let w = Wanted {
            optional_groups: Some(vec!["docker".into()]),
            ..Wanted::default()
        };
        assert_eq!(
            repr(&changes(&w, &etcd(&["adm", "etcd"])).unwrap()),
            "{'groups': ['docker']}"
        );
        // A group sharing the gid of a current one is not a difference.
        let w = Wanted {
            groups: Some(vec!["alias".into()]),
            ..Wanted::default()
        };
        assert!(changes(&w, &etcd(&["etcd", "wheel"])).unwrap().is_empty());
    }

    #[test]
    fn gid_change_drops_old_primary() {
        let w = Wanted {
            gid: "kube".into(),
            groups: Some(vec!["etcd".into()]),
            ..Wanted::default()
        };
        let ch = compute_changes(
            "etcd",
            &w,
            &etcd(&["etcd"]),
            &shadow("!"),
            &groups(),
            &|_| true,
            false,
            true,
        )
        .unwrap();
        assert_eq!(repr(&ch), "{'gid': 'kube', 'groups': ['etcd']}");
    }

    #[test]
    fn shadow_and_gecos_fields() {
        let w = Wanted {
            password: "$6$a$b".into(),
            password_lock: Value::Bool(true),
            mindays: Value::Int(0),
            gecos: [Some("Etcd".into()), None, Some("".into()), None, None],
            ..Wanted::default()
        };
        let ch = compute_changes(
            "etcd",
            &w,
            &etcd(&["etcd"]),
            &shadow("*"),
            &groups(),
            &|_| true,
            false,
            false,
        )
        .unwrap();
        assert_eq!(
            repr(&ch),
            "{'passwd': '$6$a$b', 'mindays': 0, 'password_lock': True, 'fullname': 'Etcd'}"
        );
        assert!(test_comment(&ch, &[]).contains("passwd: XXX-REDACTED-XXX\n"));
        // A set password is kept unless enforce_password.
        let w = Wanted {
            password: "$6$a$b".into(),
            enforce_password: false,
            ..Wanted::default()
        };
        let cur = etcd(&["etcd"]);
        assert!(compute_changes(
            "etcd",
            &w,
            &cur,
            &shadow("$6$x$y"),
            &groups(),
            &|_| true,
            false,
            false
        )
        .unwrap()
        .is_empty());
        let w = Wanted {
            empty_password: true,
            password_lock: Value::Bool(false),
            ..Wanted::default()
        };
        assert_eq!(
            repr(&changes(&w, &cur).unwrap()),
            "{'empty_password': True, 'password_lock': False}"
        );
    }

    #[test]
    fn update_diff() {
        let pre = etcd(&["etcd"]).to_map();
        let mut post_u = etcd(&["etcd"]);
        post_u.shell = "/bin/sh".into();
        let post = post_u.to_map();
        let l = shadow("!");
        let mut s = shadow("$6$x");
        s.insert("lstchg".into(), Value::Int(5));
        assert_eq!(
            repr(&diff_changes(&pre, &post, &l, &s)),
            "{'shell': '/bin/sh', 'passwd': 'XXX-REDACTED-XXX', 'lstchg': 5}"
        );
        assert!(diff_changes(&pre, &pre, &l, &Map::default()).is_empty());
    }
}
