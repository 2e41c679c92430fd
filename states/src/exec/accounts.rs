//! Local user and group accounts, as Salt's `useradd`, `groupadd` and `linux_shadow`
//! execution modules see and change them on Linux: lookups through NSS (`getpwnam`,
//! `getgrnam`, `getgrgid`, `getgrouplist`, as Python's `pwd`/`grp` do), the `/etc/passwd`,
//! `/etc/group` and `/etc/shadow` parsers Salt uses for `root=` and for the shadow file,
//! and the commands (`useradd`, `usermod`, `userdel`, `groupadd`, `groupmod`, `groupdel`,
//! `gpasswd`, `passwd`, `chage`) with Salt's argv, run without a shell in Salt's `C` locale.
//!
//! Shared by the `user`/`group` state modules and the `user.*`/`group.*` execution
//! functions of the minion.

use super::command::{self, Output};
use super::pystr;
use crate::modules::file::util::atomic_write;
use halite_core::{Error, Map, Result, Value};
use std::ffi::CString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What Salt shows instead of a password hash.
pub const REDACTED: &str = "XXX-REDACTED-XXX";

/// Salt's `shadow.default_hash()` on Linux: the hash of an account without a password.
pub const DEFAULT_HASH: &str = "!";

// ---------------------------------------------------------------------------------------
// Python value helpers.

/// Python's `int(x)`: integers and booleans as they are, floats truncated, strings parsed
/// by [`pystr::py_int64`]; `None` where Python raises.
pub fn value_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Float(f) if f.is_finite() => Some(f.trunc() as i64),
        Value::Str(s) => pystr::py_int64(s),
        _ => None,
    }
}

/// Python's `a == b` (`True == 1`, `1 == 1.0`), on top of [`Value`]'s own equality.
pub fn py_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Bool(x), Value::Int(_) | Value::Float(_)) => py_eq(&Value::Int(i64::from(*x)), b),
        (Value::Int(_) | Value::Float(_), Value::Bool(y)) => py_eq(a, &Value::Int(i64::from(*y))),
        _ => a == b,
    }
}

/// What iterating over a value gives in Python: a list's items, a string's characters, a
/// mapping's keys; `None` for values that are not iterable.
pub fn py_iter(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::List(l) => Some(l.clone()),
        Value::Str(s) => Some(s.chars().map(|c| Value::Str(c.to_string())).collect()),
        Value::Map(m) => Some(m.keys().cloned().collect()),
        _ => None,
    }
}

/// Python's `str()` of each item of [`py_iter`].
pub fn py_iter_str(v: &Value) -> Option<Vec<String>> {
    py_iter(v).map(|items| items.iter().map(Value::py_str).collect())
}

/// A list of strings as a [`Value`].
pub fn str_list(items: &[String]) -> Value {
    Value::List(items.iter().map(|s| Value::Str(s.clone())).collect())
}

// ---------------------------------------------------------------------------------------
// Account records.

/// One user account (`struct passwd`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    /// Login name.
    pub name: String,
    /// Password field (`x` when the hash is in the shadow file).
    pub passwd: String,
    /// User id.
    pub uid: i64,
    /// Primary group id.
    pub gid: i64,
    /// The GECOS field.
    pub gecos: String,
    /// Home directory.
    pub home: String,
    /// Login shell.
    pub shell: String,
}

/// One group (`struct group`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// Group name.
    pub name: String,
    /// Password field.
    pub passwd: String,
    /// Group id.
    pub gid: i64,
    /// Member user names.
    pub members: Vec<String>,
}

impl GroupEntry {
    /// Salt's `group.info` dictionary: `name`, `passwd`, `gid`, `members`.
    pub fn to_value(&self) -> Value {
        let mut m = Map::default();
        m.insert("name".into(), self.name.clone().into());
        m.insert("passwd".into(), self.passwd.clone().into());
        m.insert("gid".into(), Value::Int(self.gid));
        m.insert("members".into(), str_list(&self.members));
        Value::Map(m)
    }
}

/// The five GECOS fields Salt knows, in order.
pub const GECOS_KEYS: [&str; 5] = ["fullname", "roomnumber", "workphone", "homephone", "other"];

/// Salt's GECOS split: at most five comma-separated fields, padded with empty strings.
pub fn split_gecos(gecos: &str) -> [String; 5] {
    let mut out: [String; 5] = Default::default();
    for (slot, part) in out.iter_mut().zip(gecos.splitn(5, ',')) {
        *slot = part.to_string();
    }
    out
}

/// Salt's `_build_gecos`: the five fields joined by commas, trailing commas removed.
pub fn build_gecos(fields: &[String; 5]) -> String {
    fields.join(",").trim_end_matches(',').to_string()
}

/// What Salt's `user.info` reports about a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// Primary group id.
    pub gid: i64,
    /// Every group of the user, the primary one included (`user.list_groups`), sorted.
    pub groups: Vec<String>,
    /// Home directory.
    pub home: String,
    /// Login name.
    pub name: String,
    /// Password field of `/etc/passwd`.
    pub passwd: String,
    /// Login shell.
    pub shell: String,
    /// User id.
    pub uid: i64,
    /// GECOS fields: fullname, roomnumber, workphone, homephone, other.
    pub gecos: [String; 5],
}

impl UserInfo {
    /// Build from a passwd entry and its group list.
    pub fn new(entry: &UserEntry, groups: Vec<String>) -> Self {
        UserInfo {
            gid: entry.gid,
            groups,
            home: entry.home.clone(),
            name: entry.name.clone(),
            passwd: entry.passwd.clone(),
            shell: entry.shell.clone(),
            uid: entry.uid,
            gecos: split_gecos(&entry.gecos),
        }
    }

    /// The GECOS field named `key` (one of [`GECOS_KEYS`]).
    pub fn gecos_field(&self, key: &str) -> Option<&str> {
        GECOS_KEYS
            .iter()
            .position(|k| *k == key)
            .map(|i| self.gecos[i].as_str())
    }

    /// Salt's `user.info` dictionary, in its key order.
    pub fn to_map(&self) -> Map {
        let mut m = Map::default();
        m.insert("gid".into(), Value::Int(self.gid));
        m.insert("groups".into(), str_list(&self.groups));
        m.insert("home".into(), self.home.clone().into());
        m.insert("name".into(), self.name.clone().into());
        m.insert("passwd".into(), self.passwd.clone().into());
        m.insert("shell".into(), self.shell.clone().into());
        m.insert("uid".into(), Value::Int(self.uid));
        for (k, v) in GECOS_KEYS.iter().zip(&self.gecos) {
            m.insert((*k).into(), v.clone().into());
        }
        m
    }
}

// ---------------------------------------------------------------------------------------
// NSS lookups.

fn nss_err(what: &str, e: nix::Error) -> Error {
    Error::CommandExecution(format!("{what}: {}", e.desc()))
}

fn user_from_nix(u: nix::unistd::User) -> UserEntry {
    UserEntry {
        name: u.name,
        passwd: u.passwd.to_string_lossy().into_owned(),
        uid: i64::from(u.uid.as_raw()),
        gid: i64::from(u.gid.as_raw()),
        gecos: u.gecos.to_string_lossy().into_owned(),
        home: u.dir.to_string_lossy().into_owned(),
        shell: u.shell.to_string_lossy().into_owned(),
    }
}

fn group_from_nix(g: nix::unistd::Group) -> GroupEntry {
    GroupEntry {
        name: g.name,
        passwd: g.passwd.to_string_lossy().into_owned(),
        gid: i64::from(g.gid.as_raw()),
        members: g.mem,
    }
}

/// `pwd.getpwnam(name)` through NSS; `None` for an unknown user.
pub fn getpwnam(name: &str) -> Result<Option<UserEntry>> {
    if name.contains('\0') {
        return Ok(None);
    }
    nix::unistd::User::from_name(name)
        .map(|u| u.map(user_from_nix))
        .map_err(|e| nss_err(&format!("getpwnam({name})"), e))
}

/// `grp.getgrnam(name)` through NSS; `None` for an unknown group.
pub fn getgrnam(name: &str) -> Result<Option<GroupEntry>> {
    if name.contains('\0') {
        return Ok(None);
    }
    nix::unistd::Group::from_name(name)
        .map(|g| g.map(group_from_nix))
        .map_err(|e| nss_err(&format!("getgrnam({name})"), e))
}

/// `grp.getgrgid(gid)` through NSS; `None` for an unknown (or out of range) gid.
pub fn getgrgid(gid: i64) -> Result<Option<GroupEntry>> {
    let Ok(raw) = u32::try_from(gid) else {
        return Ok(None);
    };
    nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(raw))
        .map(|g| g.map(group_from_nix))
        .map_err(|e| nss_err(&format!("getgrgid({gid})"), e))
}

/// Group lookups, behind a trait so the comparison logic of the states can be tested
/// with a fixed set of groups.
pub trait GroupLookup {
    /// `grp.getgrnam(name)`.
    fn by_name(&self, name: &str) -> Result<Option<GroupEntry>>;
    /// `grp.getgrgid(gid)`.
    fn by_gid(&self, gid: i64) -> Result<Option<GroupEntry>>;
}

/// The system's groups, through NSS.
pub struct Nss;

impl GroupLookup for Nss {
    fn by_name(&self, name: &str) -> Result<Option<GroupEntry>> {
        getgrnam(name)
    }
    fn by_gid(&self, gid: i64) -> Result<Option<GroupEntry>> {
        getgrgid(gid)
    }
}

/// Salt's `file.group_to_gid(group)`: an integer (or boolean) as it is, a name resolved to
/// its gid, `""` for an unknown name or `None`. Other types raise in Python (an error here).
pub fn group_to_gid(lookup: &dyn GroupLookup, group: &Value) -> Result<Value> {
    match group {
        Value::Null => Ok(Value::Str(String::new())),
        Value::Int(_) | Value::Bool(_) => Ok(group.clone()),
        Value::Str(s) => Ok(lookup
            .by_name(s)?
            .map_or_else(|| Value::Str(String::new()), |g| Value::Int(g.gid))),
        other => Err(Error::CommandExecution(format!(
            "TypeError: getgrnam() argument must be str, not {}",
            other.type_name()
        ))),
    }
}

/// Salt's `file.gid_to_group(gid)` when it gives a group name: a number (or numeric
/// string) resolved through `getgrgid`, a name through `getgrnam`. `None` where Salt gives
/// back the number (no such group) or `""` (no such name).
pub fn gid_to_group(lookup: &dyn GroupLookup, gid: &Value) -> Result<Option<String>> {
    let number = match value_int(gid) {
        Some(n) => n,
        None => match gid {
            Value::Str(_) => match group_to_gid(lookup, gid)? {
                Value::Int(n) => n,
                _ => return Ok(None),
            },
            other => {
                return Err(Error::CommandExecution(format!(
                    "TypeError: int() argument must be a string, a bytes-like object or a real number, not '{}'",
                    other.type_name()
                )))
            }
        },
    };
    Ok(lookup.by_gid(number)?.map(|g| g.name))
}

// ---------------------------------------------------------------------------------------
// Files (`root=`, the shadow file, whole-database listings).

/// `{root}/etc/{file}` as Python's `os.path.join(root, "etc/...")` (root `/` when empty).
pub fn etc_file(root: Option<&str>, file: &str) -> PathBuf {
    let root = root.filter(|r| !r.is_empty()).unwrap_or("/");
    Path::new(root).join("etc").join(file)
}

fn read_lines(path: &Path) -> std::io::Result<Vec<String>> {
    let bytes = std::fs::read(path)?;
    Ok(pystr::text_lines(&String::from_utf8_lossy(&bytes)))
}

fn fields(line: &str) -> Vec<&str> {
    pystr::py_strip(line).split(':').collect()
}

fn bad_line(path: &Path, line: &str, why: &str) -> Error {
    Error::CommandExecution(format!(
        "{}: {why} in line {:?}",
        path.display(),
        pystr::py_strip(line)
    ))
}

/// Parse one `/etc/passwd` line as Salt's `_getpwnam` does (7 fields, numeric ids).
pub fn parse_passwd_line(line: &str) -> Option<UserEntry> {
    let f = fields(line);
    if f.len() != 7 {
        return None;
    }
    Some(UserEntry {
        name: f[0].to_string(),
        passwd: f[1].to_string(),
        uid: pystr::py_int64(f[2])?,
        gid: pystr::py_int64(f[3])?,
        gecos: f[4].to_string(),
        home: f[5].to_string(),
        shell: f[6].to_string(),
    })
}

/// Salt's `_getpwnam(name, root)`: the user's line of `{root}/etc/passwd`. A malformed
/// line for that user is an error (Python raises), a missing user `None`.
pub fn getpwnam_file(name: &str, root: Option<&str>) -> Result<Option<UserEntry>> {
    let path = etc_file(root, "passwd");
    let lines = read_lines(&path).map_err(|e| Error::io(path.display().to_string(), &e))?;
    for line in &lines {
        if fields(line).first() == Some(&name) {
            return parse_passwd_line(line)
                .map(Some)
                .ok_or_else(|| bad_line(&path, line, "malformed passwd entry"));
        }
    }
    Ok(None)
}

/// Every user of `{root}/etc/passwd`. With `strict` (Salt's `_getpwall`, used for
/// `root=`), any malformed line is an error; otherwise malformed lines are skipped, as the
/// C library's `files` backend does.
pub fn getpwall_file(root: Option<&str>, strict: bool) -> Result<Vec<UserEntry>> {
    let path = etc_file(root, "passwd");
    let lines = read_lines(&path).map_err(|e| Error::io(path.display().to_string(), &e))?;
    let mut out = Vec::new();
    for line in &lines {
        match parse_passwd_line(line) {
            Some(u) => out.push(u),
            None if strict => return Err(bad_line(&path, line, "malformed passwd entry")),
            None => {}
        }
    }
    Ok(out)
}

/// How a `/etc/group` line is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupParse {
    /// Salt's `groupadd._getgrnam`/`_getgrall`: lines with fewer than four fields are
    /// skipped; more than four fields or a non-numeric gid are errors.
    Groupadd,
    /// `salt.utils.user._getgrall`: every line must have exactly four fields and a numeric
    /// gid; member names are stripped.
    Strict,
    /// The C library's `files` backend: malformed lines are skipped.
    Lenient,
}

/// Parse one `/etc/group` line: `Ok(None)` for a line that is skipped, `Err(reason)` for
/// one Python would raise on.
pub fn parse_group_line(
    line: &str,
    mode: GroupParse,
) -> std::result::Result<Option<GroupEntry>, &'static str> {
    let f = fields(line);
    if f.len() < 4 && mode != GroupParse::Strict {
        return Ok(None);
    }
    if f.len() != 4 {
        return match mode {
            GroupParse::Lenient => Ok(None),
            _ => Err("malformed group entry"),
        };
    }
    let Some(gid) = pystr::py_int64(f[2]) else {
        return match mode {
            GroupParse::Lenient => Ok(None),
            _ => Err("non-numeric gid"),
        };
    };
    let members = if f[3].is_empty() {
        Vec::new()
    } else if mode == GroupParse::Groupadd {
        f[3].split(',').map(str::to_string).collect()
    } else {
        f[3].split(',')
            .map(|m| pystr::py_strip(m).to_string())
            .collect()
    };
    Ok(Some(GroupEntry {
        name: f[0].to_string(),
        passwd: f[1].to_string(),
        gid,
        members,
    }))
}

/// Every group of `{root}/etc/group`, read as `mode` says.
pub fn getgrall_file(root: Option<&str>, mode: GroupParse) -> Result<Vec<GroupEntry>> {
    let path = etc_file(root, "group");
    let lines = read_lines(&path).map_err(|e| Error::io(path.display().to_string(), &e))?;
    let mut out = Vec::new();
    for line in &lines {
        if let Some(g) = parse_group_line(line, mode).map_err(|why| bad_line(&path, line, why))? {
            out.push(g);
        }
    }
    Ok(out)
}

/// Salt's `groupadd._getgrnam(name, root)`.
pub fn getgrnam_file(name: &str, root: Option<&str>) -> Result<Option<GroupEntry>> {
    let path = etc_file(root, "group");
    let lines = read_lines(&path).map_err(|e| Error::io(path.display().to_string(), &e))?;
    for line in &lines {
        let f = fields(line);
        if f.len() < 4 || f[0] != name {
            continue;
        }
        return parse_group_line(line, GroupParse::Groupadd)
            .map_err(|why| bad_line(&path, line, why));
    }
    Ok(None)
}

// ---------------------------------------------------------------------------------------
// user.info / user.list_groups.

fn try_getgrouplist(user: &str) -> Option<Vec<String>> {
    let pw = getpwnam(user).ok()??;
    let cuser = CString::new(user).ok()?;
    let primary = nix::unistd::Gid::from_raw(u32::try_from(pw.gid).ok()?);
    let mut gids: Vec<i64> = nix::unistd::getgrouplist(&cuser, primary)
        .ok()?
        .into_iter()
        .map(|g| i64::from(g.as_raw()))
        .collect();
    gids.sort_unstable();
    let local = getgrall_file(None, GroupParse::Strict).ok()?;
    let mut local_gids: Vec<i64> = local.iter().map(|g| g.gid).collect();
    local_gids.sort_unstable();
    let local_max = *local_gids.iter().rev().find(|g| **g < 65000)?;
    let mut names: Vec<String> = local
        .iter()
        .filter(|g| g.gid <= local_max && gids.contains(&g.gid))
        .map(|g| g.name.clone())
        .collect();
    for gid in gids.iter().filter(|g| **g > local_max) {
        names.push(getgrgid(*gid).ok()??.name);
    }
    Some(names)
}

/// Salt's `user.list_groups` (`salt.utils.user.get_group_list`): the names of the groups
/// whose gid `getgrouplist` gives for the user (the primary group included; every local
/// group sharing such a gid counts), sorted. When that fails (unknown user, unreadable or
/// malformed `/etc/group`), the groups listing the user as a member plus the primary group.
pub fn list_groups(user: &str) -> Vec<String> {
    let mut names = try_getgrouplist(user).unwrap_or_else(|| {
        let mut names: Vec<String> = getgrall_file(None, GroupParse::Lenient)
            .unwrap_or_default()
            .into_iter()
            .filter(|g| g.members.iter().any(|m| m == user))
            .map(|g| g.name)
            .collect();
        if let Ok(Some(pw)) = getpwnam(user) {
            if let Ok(Some(g)) = getgrgid(pw.gid) {
                names.push(g.name);
            }
        }
        names
    });
    names.sort();
    names.dedup();
    names
}

/// Salt's `user.info(name, root=None)`: through NSS, or `{root}/etc/passwd` with `root`.
pub fn user_info(name: &str, root: Option<&str>) -> Result<Option<UserInfo>> {
    let entry = match root {
        Some(r) => getpwnam_file(name, Some(r))?,
        None => getpwnam(name)?,
    };
    Ok(entry.map(|e| {
        let groups = list_groups(&e.name);
        UserInfo::new(&e, groups)
    }))
}

/// Salt's `user.getent()`: every user's `user.info`. Without `root` the users come from
/// `/etc/passwd` (Salt enumerates NSS; the same on hosts without a directory service).
pub fn user_getent(root: Option<&str>) -> Result<Vec<UserInfo>> {
    Ok(getpwall_file(root, root.is_some())?
        .iter()
        .map(|e| UserInfo::new(e, list_groups(&e.name)))
        .collect())
}

/// Salt's `group.info(name, root=None)`.
pub fn group_info(name: &str, root: Option<&str>) -> Result<Option<GroupEntry>> {
    match root {
        Some(r) => getgrnam_file(name, Some(r)),
        None => getgrnam(name),
    }
}

/// Salt's `group.getent()`. Without `root` the groups come from `/etc/group` (Salt
/// enumerates NSS; the same on hosts without a directory service).
pub fn group_getent(root: Option<&str>) -> Result<Vec<GroupEntry>> {
    match root {
        Some(r) => getgrall_file(Some(r), GroupParse::Groupadd),
        None => getgrall_file(None, GroupParse::Lenient),
    }
}

// ---------------------------------------------------------------------------------------
// The shadow file (`linux_shadow`).

/// The keys of Salt's `shadow.info`, in order.
pub const SHADOW_KEYS: [&str; 8] = [
    "name", "passwd", "lstchg", "min", "max", "warn", "inact", "expire",
];

/// Salt's `shadow.info` when the user has no entry or the file cannot be read: every key
/// with `""`.
pub fn shadow_empty() -> Map {
    SHADOW_KEYS
        .iter()
        .map(|k| (Value::from(*k), Value::Str(String::new())))
        .collect()
}

/// Parse the user's `/etc/shadow` line as Salt's `_getspnam`: nine fields, the numeric
/// ones as integers (`-1` when empty). `Err` where Python raises.
pub fn parse_shadow_line(line: &str) -> std::result::Result<Map, &'static str> {
    let f = fields(line);
    if f.len() != 9 {
        return Err("malformed shadow entry");
    }
    let mut m = Map::default();
    m.insert("name".into(), f[0].into());
    m.insert("passwd".into(), f[1].into());
    // Fields 2..=7 of the file, in shadow.info's order (`flag`, field 8, is not shown).
    for (key, raw) in ["lstchg", "min", "max", "warn", "inact", "expire"]
        .iter()
        .zip(&f[2..8])
    {
        let v = if raw.is_empty() {
            -1
        } else {
            pystr::py_int64(raw).ok_or("non-numeric shadow field")?
        };
        m.insert((*key).into(), Value::Int(v));
    }
    if !f[8].is_empty() && pystr::py_int64(f[8]).is_none() {
        return Err("non-numeric shadow field");
    }
    Ok(m)
}

/// Salt's `shadow.info(name, root=None)` (always from `{root}/etc/shadow`).
pub fn shadow_info(name: &str, root: Option<&str>) -> Result<Map> {
    let path = etc_file(root, "shadow");
    let Ok(lines) = read_lines(&path) else {
        return Ok(shadow_empty());
    };
    for line in &lines {
        if fields(line).first() == Some(&name) {
            return parse_shadow_line(line).map_err(|why| bad_line(&path, line, why));
        }
    }
    Ok(shadow_empty())
}

/// Days since 1970-01-01 in local time (Python's `datetime.today() - datetime(1970, 1, 1)`).
pub fn local_days_since_epoch() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let mut offset: i64 = 0;
    let t = now as libc::time_t;
    // SAFETY: `localtime_r` only writes the `tm` we own.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call.
    if !unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        offset = tm.tm_gmtoff;
    }
    (now + offset).div_euclid(86_400)
}

/// Salt's shadow-file edit of `set_password`: the user's line (cut to nine fields, padded)
/// gets `password` and `lstchg`; `None` when the user has no line.
pub fn set_password_lines(
    lines: &[String],
    name: &str,
    password: &str,
    lstchg: i64,
) -> Option<Vec<String>> {
    let mut found = false;
    let out = lines
        .iter()
        .map(|line| {
            let mut comps: Vec<String> = fields(line)
                .into_iter()
                .take(9)
                .map(str::to_string)
                .collect();
            if comps.first().map(String::as_str) != Some(name) {
                return line.clone();
            }
            found = true;
            comps.resize(9, String::new());
            comps[1] = password.to_string();
            comps[2] = lstchg.to_string();
            comps.join(":") + "\n"
        })
        .collect();
    found.then_some(out)
}

/// Salt's `shadow.set_password(name, password)`: the hash written into `/etc/shadow`
/// directly (same bytes as Salt's in-place rewrite, but atomically, keeping mode and
/// owner); `true` when `shadow.info` then shows it.
pub fn set_password(name: &str, password: &str, root: Option<&str>) -> Result<bool> {
    if getpwnam(name)?.is_none() {
        return Ok(false);
    }
    let path = etc_file(root, "shadow");
    if !path.is_file() {
        return Ok(false);
    }
    let lines = read_lines(&path).map_err(|e| Error::io(path.display().to_string(), &e))?;
    let lstchg = local_days_since_epoch();
    let text = match set_password_lines(&lines, name, password, lstchg) {
        Some(out) => out.concat(),
        None => format!("{}{name}:{password}:{lstchg}::::::\n", lines.concat()),
    };
    atomic_write(&path, text.as_bytes(), None)?;
    Ok(shadow_info(name, root)?.get("passwd") == Some(&Value::Str(password.to_string())))
}

/// Salt's `shadow.del_password`: `passwd -d name`; `true` when the hash is then empty.
pub fn del_password(name: &str, root: Option<&str>) -> Result<bool> {
    let mut cmd = vec!["passwd".to_string()];
    push_root(&mut cmd, "-R", root);
    cmd.extend(["-d".to_string(), name.to_string()]);
    run_merged(&cmd)?;
    let info = shadow_info(name, root)?;
    Ok(info.get("passwd").is_some_and(|p| !p.is_truthy())
        && info.get("name") == Some(&Value::Str(name.to_string())))
}

fn shadow_passwd(info: &Map) -> String {
    info.get("passwd").map(Value::py_str).unwrap_or_default()
}

fn shadow_has_user(info: &Map) -> bool {
    info.get("name").is_some_and(Value::is_truthy)
}

/// Salt's `shadow.lock_password` (`passwd -l`) / `shadow.unlock_password` (`passwd -u`).
pub fn set_password_lock(name: &str, lock: bool, root: Option<&str>) -> Result<bool> {
    let pre = shadow_info(name, root)?;
    if !shadow_has_user(&pre) {
        return Ok(false);
    }
    if shadow_passwd(&pre).starts_with('!') == lock {
        return Ok(true);
    }
    let mut cmd = vec!["passwd".to_string()];
    push_root(&mut cmd, "-R", root);
    cmd.extend([if lock { "-l" } else { "-u" }.to_string(), name.to_string()]);
    run_merged(&cmd)?;
    Ok(shadow_passwd(&shadow_info(name, root)?).starts_with('!') == lock)
}

/// The `chage` option and `shadow.info` key of each of Salt's shadow setters
/// (`set_date`, `set_mindays`, ...), and whether Salt reads the value back.
pub fn chage_param(setter: &str) -> Option<(&'static str, &'static str, bool)> {
    Some(match setter {
        "date" => ("lstchg", "-d", false),
        "mindays" => ("min", "-m", true),
        "maxdays" => ("max", "-M", true),
        "inactdays" => ("inact", "-I", true),
        "warndays" => ("warn", "-W", true),
        "expire" => ("expire", "-E", false),
        _ => return None,
    })
}

/// Salt's `shadow.set_{setter}(name, value)` (`chage`): `false` for a user without a
/// shadow entry, `true` when already set; the result of `chage` (or the value read back).
pub fn set_shadow_attr(
    name: &str,
    setter: &str,
    value: &Value,
    root: Option<&str>,
) -> Result<bool> {
    let (key, param, validate) = chage_param(setter)
        .ok_or_else(|| Error::InvalidArgument(format!("unknown shadow setting '{setter}'")))?;
    let pre = shadow_info(name, root)?;
    if !shadow_has_user(&pre) {
        return Ok(false);
    }
    if pre.get(key).is_some_and(|v| py_eq(value, v)) {
        return Ok(true);
    }
    let mut cmd = vec!["chage".to_string()];
    push_root(&mut cmd, "-R", root);
    cmd.extend([param.to_string(), value.py_str(), name.to_string()]);
    let ok = run_all(&cmd)?.retcode == 0;
    if validate {
        return Ok(shadow_info(name, root)?
            .get(key)
            .is_some_and(|v| py_eq(v, value)));
    }
    Ok(ok)
}

// ---------------------------------------------------------------------------------------
// Commands.

/// Salt's `_which(cmd)`: the command's full path, or `Command '{cmd}' cannot be found`.
pub fn which(cmd: &str) -> Result<String> {
    command::which_or_err(cmd)
}

/// `cmd.run`: both streams merged.
fn run_merged(argv: &[String]) -> Result<Output> {
    command::run(argv, true)
}

/// `cmd.run_all` / `cmd.retcode`: streams kept apart.
fn run_all(argv: &[String]) -> Result<Output> {
    command::run(argv, false)
}

fn push_root(cmd: &mut Vec<String>, flag: &str, root: Option<&str>) {
    if let Some(r) = root {
        cmd.extend([flag.to_string(), r.to_string()]);
    }
}

/// The arguments of Salt's `user.add` (Linux).
#[derive(Debug, Clone)]
pub struct AddUser {
    /// Login name.
    pub name: String,
    /// `uid` (`None`/`""` leave it to useradd).
    pub uid: Value,
    /// `gid`: a group name or id (`None`/`""` leave it to useradd).
    pub gid: Value,
    /// Supplementary groups, set with `usermod -G` after creation.
    pub groups: Option<Vec<String>>,
    /// Home directory (`-d` unless `None`).
    pub home: Value,
    /// Login shell (`-s` when truthy).
    pub shell: Value,
    /// `false` adds `-o`.
    pub unique: bool,
    /// `-r`.
    pub system: bool,
    /// GECOS fields, set after creation when truthy (fullname, roomnumber, workphone,
    /// homephone, other).
    pub gecos: [Value; 5],
    /// `-m` (else `-M`).
    pub createhome: bool,
    /// `-l`.
    pub nologinit: bool,
    /// `-R root`.
    pub root: Option<String>,
    /// `True` → `-U`, `False` → `-N`, `None` → the system default.
    pub usergroup: Value,
    /// `luseradd` instead of `useradd`.
    pub local: bool,
}

impl AddUser {
    /// `user.add(name)` with Salt's defaults for everything else.
    pub fn new(name: &str) -> Self {
        AddUser {
            name: name.to_string(),
            uid: Value::Null,
            gid: Value::Null,
            groups: None,
            home: Value::Null,
            shell: Value::Null,
            unique: true,
            system: false,
            gecos: Default::default(),
            createhome: true,
            nologinit: false,
            root: None,
            usergroup: Value::Null,
            local: false,
        }
    }

    fn unset(v: &Value) -> bool {
        matches!(v, Value::Null) || v.as_str() == Some("")
    }

    /// Does the argv depend on `/etc/login.defs` (no gid, no usergroup, and the user's own
    /// name among `groups`)?
    pub fn needs_login_defs(&self) -> bool {
        Self::unset(&self.gid)
            && !self.usergroup.is_truthy()
            && self.groups.as_ref().is_some_and(|g| g.contains(&self.name))
    }

    /// Salt's `useradd` argv. `exe` is the resolved command; `own_group_gid` is the
    /// `-g` value [`login_defs_group`] found when [`Self::needs_login_defs`].
    pub fn argv(&self, exe: &str, own_group_gid: Option<String>) -> Vec<String> {
        let mut cmd = vec![exe.to_string()];
        if self.shell.is_truthy() {
            cmd.extend(["-s".to_string(), self.shell.py_str()]);
        }
        if !Self::unset(&self.uid) {
            cmd.extend(["-u".to_string(), self.uid.py_str()]);
        }
        if !Self::unset(&self.gid) {
            cmd.extend(["-g".to_string(), self.gid.py_str()]);
        } else if self.usergroup.is_truthy() {
            if !self.local {
                cmd.push("-U".into());
            }
        } else if self.needs_login_defs() {
            if let Some(g) = own_group_gid {
                cmd.extend(["-g".to_string(), g]);
            }
        }
        if self.usergroup == Value::Bool(false) {
            cmd.push(if self.local { "-n" } else { "-N" }.into());
        }
        if self.createhome {
            if !self.local {
                cmd.push("-m".into());
            }
        } else {
            cmd.push("-M".into());
        }
        if self.nologinit {
            cmd.push("-l".into());
        }
        if !self.home.is_null() {
            cmd.extend(["-d".to_string(), self.home.py_str()]);
        }
        if !self.unique {
            cmd.push("-o".into());
        }
        if self.system {
            cmd.push("-r".into());
        }
        cmd.push(self.name.clone());
        if !self.local {
            push_root(&mut cmd, "-R", self.root.as_deref());
        }
        cmd
    }
}

/// Whether `/etc/login.defs` enables user groups, as Salt reads it: the first line whose
/// first 15 characters contain `USERGROUPS_ENAB` decides, by containing `yes`.
pub fn usergroups_enabled(login_defs: &str) -> bool {
    for line in pystr::text_lines(login_defs) {
        let head: String = line.chars().take(15).collect();
        if head.contains("USERGROUPS_ENAB") {
            return line.contains("yes");
        }
    }
    false
}

/// The `-g` value Salt's `user.add` takes from `/etc/login.defs` for a user listed in its
/// own groups: `file.group_to_gid(name)` when user groups are enabled.
pub fn login_defs_group(name: &str) -> Result<Option<String>> {
    let Ok(bytes) = std::fs::read("/etc/login.defs") else {
        return Ok(None);
    };
    if !usergroups_enabled(&String::from_utf8_lossy(&bytes)) {
        return Ok(None);
    }
    Ok(Some(
        getgrnam(name)?.map_or_else(String::new, |g| g.gid.to_string()),
    ))
}

/// Salt's `user.add`: `useradd`, then the supplementary groups (`usermod -G`) and the
/// truthy GECOS fields. `false` when `useradd` fails.
pub fn user_add(p: &AddUser) -> Result<bool> {
    let exe = which(if p.local { "luseradd" } else { "useradd" })?;
    let own = if p.needs_login_defs() {
        login_defs_group(&p.name)?
    } else {
        None
    };
    if run_all(&p.argv(&exe, own))?.retcode != 0 {
        return Ok(false);
    }
    let root = p.root.as_deref();
    if let Some(groups) = p.groups.as_ref().filter(|g| !g.is_empty()) {
        chgroups(&p.name, groups, false, root)?;
    }
    for (key, value) in GECOS_KEYS.iter().zip(&p.gecos) {
        if value.is_truthy() {
            update_gecos(&p.name, key, value, root)?;
        }
    }
    Ok(true)
}

/// Salt's `userdel` argv.
pub fn userdel_argv(
    exe: &str,
    name: &str,
    remove: bool,
    force: bool,
    root: Option<&str>,
    local: bool,
) -> Vec<String> {
    let mut cmd = vec![exe.to_string()];
    if remove {
        cmd.push("-r".into());
    }
    if force && !local {
        cmd.push("-f".into());
    }
    cmd.push(name.to_string());
    if !local {
        push_root(&mut cmd, "-R", root);
    }
    cmd
}

/// Is this a Debian-family host (Salt's `os_family` grain `Debian`)?
pub fn debian_family() -> bool {
    Path::new("/etc/debian_version").exists()
}

/// Salt's verdict on a `userdel` run: status 0, or status 12 on Debian with the mail
/// spool named in the error (a known Debian bug).
pub fn userdel_ok(out: &Output, debian: bool) -> bool {
    out.retcode == 0
        || (out.retcode == 12
            && debian
            && (out.stderr.contains("var/mail") || out.stderr.contains("var/spool/mail")))
}

/// Salt's `user.delete(name, remove, force)`.
pub fn user_delete(
    name: &str,
    remove: bool,
    force: bool,
    root: Option<&str>,
    local: bool,
) -> Result<bool> {
    let exe = which(if local { "luserdel" } else { "userdel" })?;
    let out = run_all(&userdel_argv(&exe, name, remove, force, root, local))?;
    Ok(userdel_ok(&out, debian_family()))
}

/// Which `user.info` key each `usermod` option of Salt's `_chattrib` changes.
pub fn chattrib_key(param: &str) -> Option<&'static str> {
    Some(match param {
        "-u" => "uid",
        "-g" => "gid",
        "-s" => "shell",
        "-d" => "home",
        "-l" => "name",
        _ => return None,
    })
}

/// Salt's `_chattrib` for users (`user.chuid` `-u`, `chgid` `-g`, `chshell` `-s`,
/// `chhome` `-d`, with `-m` first when `persist`): nothing when the value is already
/// there; `usermod` otherwise (its status ignored), then `true` when `user.info` shows the
/// value. An unknown user is an error, as in Salt.
pub fn chattrib(
    name: &str,
    param: &str,
    value: &Value,
    persist: bool,
    root: Option<&str>,
) -> Result<bool> {
    let key = chattrib_key(param)
        .ok_or_else(|| Error::InvalidArgument(format!("unknown usermod option '{param}'")))?;
    let Some(pre) = user_info(name, root)? else {
        return Err(Error::CommandExecution(format!(
            "User '{name}' does not exist"
        )));
    };
    let current = |m: &Map| m.get(key).cloned().unwrap_or_default();
    if py_eq(value, &current(&pre.to_map())) {
        return Ok(true);
    }
    let mut cmd = vec![which("usermod")?];
    push_root(&mut cmd, "-R", root);
    if persist {
        cmd.push("-m".into());
    }
    cmd.extend([param.to_string(), value.py_str(), name.to_string()]);
    run_merged(&cmd)?;
    Ok(user_info(name, root)?.is_some_and(|post| py_eq(&current(&post.to_map()), value)))
}

/// Salt's `usermod -G` argv of `user.chgroups`.
pub fn chgroups_argv(
    exe: &str,
    name: &str,
    groups: &[String],
    append: bool,
    root: Option<&str>,
) -> Vec<String> {
    let mut cmd = vec![exe.to_string()];
    if append {
        cmd.push("-a".into());
    }
    cmd.extend(["-G".to_string(), groups.join(","), name.to_string()]);
    push_root(&mut cmd, "-R", root);
    cmd
}

/// Salt's `user.chgroups(name, groups, append)`: nothing when the user's groups (primary
/// included) already are `groups`; else `usermod [-a] -G`, falling back to `gpasswd -a`
/// per group when usermod says a group is `not found in` the local files.
pub fn chgroups(name: &str, groups: &[String], append: bool, root: Option<&str>) -> Result<bool> {
    let mut have = list_groups(name);
    have.sort();
    have.dedup();
    let mut want = groups.to_vec();
    want.sort();
    want.dedup();
    if have == want {
        return Ok(true);
    }
    let result = run_all(&chgroups_argv(
        &which("usermod")?,
        name,
        groups,
        append,
        root,
    ))?;
    if result.retcode != 0 && result.stderr.contains("not found in") {
        let mut ok = true;
        for group in groups {
            let cmd = vec![
                "gpasswd".to_string(),
                "-a".into(),
                name.to_string(),
                group.clone(),
            ];
            if run_all(&cmd)?.retcode != 0 {
                ok = false;
            }
        }
        return Ok(ok);
    }
    Ok(result.retcode == 0)
}

fn gecos_of(name: &str, root: Option<&str>) -> Result<[String; 5]> {
    let entry = match root {
        Some(r) => getpwnam_file(name, Some(r))?,
        None => getpwnam(name)?,
    };
    entry.map(|e| split_gecos(&e.gecos)).ok_or_else(|| {
        Error::CommandExecution(format!("KeyError: 'getpwnam(): name not found: {name}'"))
    })
}

/// Salt's `_update_gecos` (`user.chfullname`, `chroomnumber`, `chworkphone`,
/// `chhomephone`, `chother`): one GECOS field replaced with `usermod -c`; `true` when the
/// field then reads back as `value` (`None` means `""`).
pub fn update_gecos(name: &str, key: &str, value: &Value, root: Option<&str>) -> Result<bool> {
    let idx = GECOS_KEYS
        .iter()
        .position(|k| *k == key)
        .ok_or_else(|| Error::InvalidArgument(format!("unknown GECOS field '{key}'")))?;
    let value = if value.is_null() {
        String::new()
    } else {
        value.py_str()
    };
    let mut gecos = gecos_of(name, root)?;
    if gecos[idx] == value {
        return Ok(true);
    }
    gecos[idx] = value.clone();
    let mut cmd = vec![which("usermod")?];
    push_root(&mut cmd, "-R", root);
    cmd.extend(["-c".to_string(), build_gecos(&gecos), name.to_string()]);
    run_merged(&cmd)?;
    Ok(gecos_of(name, root)?[idx] == value)
}

/// Salt's `file.mkdir(path, uid, gid, 0o755)` for a missing home directory: every missing
/// directory down to `path` made (mode `0777` less the umask: Salt's mode argument never
/// applies, `0o755` arrives as the invalid mode `493`) and handed to `uid:gid` (a zero id
/// is left as it is, as Salt's `check_perms` skips falsy owners).
pub fn make_home(path: &str, uid: i64, gid: i64) -> Result<()> {
    let normalized = pystr::normpath(path);
    let p = Path::new(&normalized);
    if p.is_dir() {
        return Ok(());
    }
    let mut missing: Vec<&Path> = Vec::new();
    let mut cur = Some(p);
    while let Some(dir) = cur {
        if dir.as_os_str().is_empty() || dir.exists() {
            break;
        }
        missing.push(dir);
        cur = dir.parent();
    }
    for dir in missing.into_iter().rev() {
        std::fs::create_dir(dir).map_err(|e| Error::io(dir.display().to_string(), &e))?;
        let meta = std::fs::metadata(dir).map_err(|e| Error::io(dir.display().to_string(), &e))?;
        let change_user = uid != 0 && uid != i64::from(meta.uid());
        let change_group = gid != 0 && gid != i64::from(meta.gid());
        if change_user || change_group {
            let u = u32::try_from(uid).ok().map(nix::unistd::Uid::from_raw);
            let g = u32::try_from(gid).ok().map(nix::unistd::Gid::from_raw);
            // Salt records a failed chown in a return value nobody reads.
            let _ = nix::unistd::chown(dir, u, g);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Groups.

/// Salt's `groupadd` argv. NB: `-g {gid}` is ONE argument, as Salt passes it.
pub fn groupadd_argv(
    exe: &str,
    name: &str,
    gid: &Value,
    system: bool,
    root: Option<&str>,
    non_unique: bool,
    local: bool,
) -> Vec<String> {
    let mut cmd = vec![exe.to_string()];
    if gid.is_truthy() {
        cmd.push(format!("-g {}", gid.py_str()));
        if non_unique && !local {
            cmd.push("-o".into());
        }
    }
    if system {
        cmd.push("-r".into());
    }
    if !local {
        push_root(&mut cmd, "-R", root);
    }
    cmd.push(name.to_string());
    cmd
}

/// Salt's `group.add`: `true` when `groupadd` exits 0.
pub fn group_add(
    name: &str,
    gid: &Value,
    system: bool,
    root: Option<&str>,
    non_unique: bool,
    local: bool,
) -> Result<bool> {
    let exe = which(if local { "lgroupadd" } else { "groupadd" })?;
    Ok(run_all(&groupadd_argv(
        &exe, name, gid, system, root, non_unique, local,
    ))?
    .retcode
        == 0)
}

/// Salt's `group.delete`: `true` when `groupdel` exits 0.
pub fn group_delete(name: &str, root: Option<&str>, local: bool) -> Result<bool> {
    let mut cmd = vec![which(if local { "lgroupdel" } else { "groupdel" })?];
    if !local {
        push_root(&mut cmd, "-R", root);
    }
    cmd.push(name.to_string());
    Ok(run_all(&cmd)?.retcode == 0)
}

/// Salt's `group.chgid(name, gid, non_unique)`: `false` for an unknown group, `true` when
/// the gid already is `gid`; else `groupmod -g` (`-og` with `non_unique`), then whether
/// the gid reads back as `gid`.
pub fn group_chgid(name: &str, gid: &Value, root: Option<&str>, non_unique: bool) -> Result<bool> {
    let Some(pre) = group_info(name, root)? else {
        return Ok(false);
    };
    if py_eq(gid, &Value::Int(pre.gid)) {
        return Ok(true);
    }
    let mut cmd = vec![which("groupmod")?];
    push_root(&mut cmd, "-R", root);
    let param = if non_unique { "-og" } else { "-g" };
    cmd.extend([param.to_string(), gid.py_str(), name.to_string()]);
    run_merged(&cmd)?;
    Ok(group_info(name, root)?.is_some_and(|g| py_eq(&Value::Int(g.gid), gid)))
}

/// Salt's `group.adduser(name, username)`: `gpasswd --add username name`.
pub fn group_adduser(name: &str, username: &str, root: Option<&str>) -> Result<bool> {
    let mut cmd = vec![
        which("gpasswd")?,
        "--add".into(),
        username.to_string(),
        name.to_string(),
    ];
    push_root(&mut cmd, "--root", root);
    Ok(run_all(&cmd)?.retcode == 0)
}

/// Salt's `group.deluser(name, username)`: `gpasswd --del username name` when the user is
/// a member (membership read through NSS even with `root`); `true` otherwise, an unknown
/// group included.
pub fn group_deluser(name: &str, username: &str, root: Option<&str>) -> Result<bool> {
    let Some(info) = getgrnam(name).ok().flatten() else {
        return Ok(true);
    };
    if !info.members.iter().any(|m| m == username) {
        return Ok(true);
    }
    let mut cmd = vec![
        which("gpasswd")?,
        "--del".into(),
        username.to_string(),
        name.to_string(),
    ];
    push_root(&mut cmd, "--root", root);
    Ok(run_all(&cmd)?.retcode == 0)
}

/// Salt's `group.members(name, members_list)`: `gpasswd --members a,b name`.
pub fn group_members(name: &str, members_list: &str, root: Option<&str>) -> Result<bool> {
    let mut cmd = vec![
        which("gpasswd")?,
        "--members".into(),
        members_list.to_string(),
        name.to_string(),
    ];
    push_root(&mut cmd, "--root", root);
    Ok(run_all(&cmd)?.retcode == 0)
}

/// The state modules' check that `path` is a directory (`os.path.isdir`).
pub fn is_dir(path: &str) -> bool {
    Path::new(path).is_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gecos_split_and_build() {
        let g = split_gecos("Etcd,,1,2,x,y");
        assert_eq!(g, ["Etcd", "", "1", "2", "x,y"].map(String::from));
        assert_eq!(split_gecos(""), <[String; 5]>::default());
        assert_eq!(
            build_gecos(&["A".into(), "".into(), "".into(), "".into(), "".into()]),
            "A"
        );
        assert_eq!(
            build_gecos(&["".into(), "1".into(), "".into(), "".into(), "".into()]),
            ",1"
        );
    }

    #[test]
    fn user_info_map_order() {
        let e =
            parse_passwd_line("etcd:x:999:998:Etcd,1:/var/lib/etcd:/usr/sbin/nologin\n").unwrap();
        let m = UserInfo::new(&e, vec!["etcd".into()]).to_map();
        let keys: Vec<String> = m.keys().map(Value::py_str).collect();
        assert_eq!(
            keys,
            [
                "gid",
                "groups",
                "home",
                "name",
                "passwd",
                "shell",
                "uid",
                "fullname",
                "roomnumber",
                "workphone",
                "homephone",
                "other"
            ]
        );
        assert_eq!(m.get("roomnumber"), Some(&Value::from("1")));
        assert_eq!(m.get("uid"), Some(&Value::Int(999)));
        assert!(parse_passwd_line("bad:x:1").is_none());
        assert!(parse_passwd_line("bad:x:a:1:::").is_none());
    }

    #[test]
    fn group_line_modes() {
        let ok = parse_group_line("adm:x:4:syslog, bob\n", GroupParse::Strict)
            .unwrap()
            .unwrap();
        assert_eq!(ok.members, ["syslog", "bob"]);
        let raw = parse_group_line("adm:x:4:syslog, bob", GroupParse::Groupadd)
            .unwrap()
            .unwrap();
        assert_eq!(raw.members, ["syslog", " bob"]);
        assert_eq!(parse_group_line("", GroupParse::Groupadd), Ok(None));
        assert!(parse_group_line("", GroupParse::Strict).is_err());
        assert!(parse_group_line("a:x:1:b:c", GroupParse::Groupadd).is_err());
        assert_eq!(parse_group_line("a:x:1:b:c", GroupParse::Lenient), Ok(None));
        assert!(parse_group_line("a:x:z:", GroupParse::Groupadd).is_err());
        assert_eq!(
            GroupEntry {
                name: "g".into(),
                passwd: "x".into(),
                gid: 5,
                members: vec![]
            }
            .to_value()
            .py_repr(),
            "{'name': 'g', 'passwd': 'x', 'gid': 5, 'members': []}"
        );
    }

    #[test]
    fn shadow_lines() {
        let m = parse_shadow_line("etcd:!:19000:0:99999:7:::\n").unwrap();
        assert_eq!(
            Value::Map(m).py_repr(),
            "{'name': 'etcd', 'passwd': '!', 'lstchg': 19000, 'min': 0, 'max': 99999, 'warn': 7, 'inact': -1, 'expire': -1}"
        );
        assert!(parse_shadow_line("etcd:!:1").is_err());
        let lines: Vec<String> = ["a:x:1::::::\n", "etcd:!:19000:0:99999:7:::\n"]
            .map(String::from)
            .to_vec();
        let out = set_password_lines(&lines, "etcd", "$6$s$h", 20000).unwrap();
        assert_eq!(out[0], "a:x:1::::::\n");
        assert_eq!(out[1], "etcd:$6$s$h:20000:0:99999:7:::\n");
        assert!(set_password_lines(&lines, "nobody", "h", 1).is_none());
        let short: Vec<String> = vec!["etcd:!".into()];
        assert_eq!(
            set_password_lines(&short, "etcd", "h", 3).unwrap()[0],
            "etcd:h:3::::::\n"
        );
    }

    #[test]
    fn useradd_argv_order() {
        let mut p = AddUser::new("etcd");
        p.system = true;
        p.home = "/var/lib/etcd".into();
        p.shell = "/usr/sbin/nologin".into();
        assert_eq!(
            p.argv("/usr/sbin/useradd", None).join(" "),
            "/usr/sbin/useradd -s /usr/sbin/nologin -m -d /var/lib/etcd -r etcd"
        );
        let mut p = AddUser::new("k");
        p.uid = Value::Int(0);
        p.gid = "kube".into();
        p.usergroup = Value::Bool(false);
        p.createhome = false;
        p.nologinit = true;
        p.unique = false;
        p.root = Some("/mnt".into());
        assert_eq!(
            p.argv("useradd", None).join(" "),
            "useradd -u 0 -g kube -N -M -l -o k -R /mnt"
        );
        let mut p = AddUser::new("k");
        p.uid = "".into();
        p.usergroup = Value::Bool(true);
        assert_eq!(p.argv("useradd", None).join(" "), "useradd -U -m k");
        let mut p = AddUser::new("k");
        p.groups = Some(vec!["k".into(), "adm".into()]);
        assert!(p.needs_login_defs());
        assert_eq!(
            p.argv("useradd", Some("1001".into())).join(" "),
            "useradd -g 1001 -m k"
        );
        assert_eq!(p.argv("useradd", None).join(" "), "useradd -m k");
        p.local = true;
        p.usergroup = Value::Bool(false);
        assert_eq!(p.argv("luseradd", None).join(" "), "luseradd -n k");
    }

    #[test]
    fn login_defs_reading() {
        assert!(usergroups_enabled(
            "# USERGROUPS_ENAB no\nUSERGROUPS_ENAB yes\n"
        ));
        assert!(!usergroups_enabled("#USERGROUPS_ENAB yes\n"));
        assert!(!usergroups_enabled(
            "USERGROUPS_ENAB no\nUSERGROUPS_ENAB yes\n"
        ));
        assert!(!usergroups_enabled(""));
    }

    #[test]
    fn other_argvs() {
        assert_eq!(
            userdel_argv("userdel", "u", true, true, None, false).join(" "),
            "userdel -r -f u"
        );
        assert_eq!(
            userdel_argv("luserdel", "u", false, true, Some("/r"), true).join(" "),
            "luserdel u"
        );
        assert_eq!(
            groupadd_argv(
                "/usr/sbin/groupadd",
                "etcd",
                &Value::Int(999),
                true,
                None,
                true,
                false
            ),
            ["/usr/sbin/groupadd", "-g 999", "-o", "-r", "etcd"]
        );
        assert_eq!(
            groupadd_argv(
                "groupadd",
                "g",
                &Value::Int(0),
                false,
                Some("/r"),
                false,
                false
            ),
            ["groupadd", "-R", "/r", "g"]
        );
        assert_eq!(
            chgroups_argv("usermod", "u", &["a".into(), "b".into()], true, None).join(" "),
            "usermod -a -G a,b u"
        );
        let out = |rc, err: &str| Output {
            retcode: rc,
            stdout: String::new(),
            stderr: err.into(),
        };
        assert!(userdel_ok(&out(0, ""), false));
        assert!(userdel_ok(&out(12, "userdel: /var/mail/u not found"), true));
        assert!(!userdel_ok(
            &out(12, "userdel: /var/mail/u not found"),
            false
        ));
        assert!(!userdel_ok(&out(12, "other"), true));
    }
}
