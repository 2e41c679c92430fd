//! Mounts, the fstab and swap (Salt's `mount` execution module, Linux path).
//!
//! The mount table is read from `/proc/self/mountinfo` directly (Salt's
//! `_active_mountinfo`; `/proc/self/mounts` when `blkid` is missing, as Salt falls back
//! then). The two extra columns Salt adds from other programs — `alt_device` (the first
//! column of `mount -l`) and `device_uuid`/`device_label` (`blkid`) — are only fetched when
//! asked for ([`list_mounts`], [`blkid`]), so a state that does not need them forks nothing.
//!
//! fstab edits are Salt's line for line (`_fstab_entry`), written atomically. Commands
//! (`mount`, `umount`, `swapon`, `swapoff`) are built as the strings Salt builds and split
//! with POSIX shlex as Salt's `cmd.run_all(python_shell=False)` does.

use crate::exec::command::{run_as, RawOutput};
use crate::exec::kmod::shlex_split;
use crate::exec::pystr::{normpath, py_rstrip, py_split, text_lines};
use crate::modules::file::util::atomic_write;
use halite_core::{Error, Map, Result, Value};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::path::Path;

/// The default fstab.
pub const DEFAULT_FSTAB: &str = "/etc/fstab";

/// File systems for which `match_on: auto` matches fstab lines on the mount point (every
/// other type matches on the device).
pub const SPECIAL_FSES: &[&str] = &[
    "none",
    "tmpfs",
    "sysfs",
    "proc",
    "fusectl",
    "debugfs",
    "securityfs",
    "devtmpfs",
    "cgroup",
    "nfs",
    "nfs4",
    "glusterfs",
    "btrfs",
    "ceph",
];

/// The field names of an fstab line, in line order (Salt's `_fstab_entry.fstab_keys`).
pub const FSTAB_KEYS: [&str; 6] = ["device", "name", "fstype", "opts", "dump", "pass_num"];

// ---------------------------------------------------------------------------------------
// Python path helpers (posixpath), so comparisons see the strings Salt sees.

/// `posixpath.join(a, b)`.
pub fn path_join(a: &str, b: &str) -> String {
    if b.starts_with('/') {
        b.to_string()
    } else if a.is_empty() || a.ends_with('/') {
        format!("{a}{b}")
    } else {
        format!("{a}/{b}")
    }
}

/// `posixpath.split(p)`: (head without trailing slashes unless all slashes, tail).
pub fn path_split(p: &str) -> (String, String) {
    let i = p.rfind('/').map_or(0, |i| i + 1);
    let (head, tail) = p.split_at(i);
    let head = if !head.is_empty() && !head.chars().all(|c| c == '/') {
        head.trim_end_matches('/')
    } else {
        head
    };
    (head.to_string(), tail.to_string())
}

/// `os.path.dirname(p)`.
pub fn dirname(p: &str) -> String {
    path_split(p).0
}

/// `os.path.basename(p)`.
pub fn basename(p: &str) -> &str {
    p.rfind('/').map_or(p, |i| &p[i + 1..])
}

/// `os.path.abspath(p)`.
pub fn abspath(p: &str) -> String {
    if p.starts_with('/') {
        normpath(p)
    } else {
        let cwd = std::env::current_dir()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "/".into());
        normpath(&path_join(&cwd, p))
    }
}

/// `os.path.realpath(p)` (Python 3.11, `strict=False`): symlinks resolved as far as the
/// path exists, the rest appended, then made absolute and normalised.
pub fn realpath(p: &str) -> String {
    let mut seen: HashMap<String, Option<String>> = HashMap::new();
    let (path, _) = join_realpath(String::new(), p, &mut seen);
    abspath(&path)
}

fn join_realpath(
    mut path: String,
    rest: &str,
    seen: &mut HashMap<String, Option<String>>,
) -> (String, bool) {
    let mut rest = rest.to_string();
    if rest.starts_with('/') {
        rest.remove(0);
        path = "/".into();
    }
    while !rest.is_empty() {
        let (name, tail) = match rest.split_once('/') {
            Some((n, t)) => (n.to_string(), t.to_string()),
            None => (rest.clone(), String::new()),
        };
        rest = tail;
        if name.is_empty() || name == "." {
            continue;
        }
        if name == ".." {
            if path.is_empty() {
                path = "..".into();
            } else {
                let (head, last) = path_split(&path);
                path = head;
                if last == ".." {
                    path = path_join(&path_join(&path, ".."), "..");
                }
            }
            continue;
        }
        let newpath = path_join(&path, &name);
        let is_link = std::fs::symlink_metadata(&newpath).is_ok_and(|m| m.file_type().is_symlink());
        if !is_link {
            path = newpath;
            continue;
        }
        if let Some(known) = seen.get(&newpath) {
            match known {
                Some(resolved) => {
                    path = resolved.clone();
                    continue;
                }
                None => return (path_join(&newpath, &rest), false),
            }
        }
        seen.insert(newpath.clone(), None);
        let target = match std::fs::read_link(&newpath) {
            Ok(t) => t.to_string_lossy().into_owned(),
            Err(_) => {
                path = newpath;
                continue;
            }
        };
        let (resolved, ok) = join_realpath(path, &target, seen);
        if !ok {
            return (path_join(&resolved, &rest), false);
        }
        path = resolved.clone();
        seen.insert(newpath, Some(resolved));
    }
    (path, true)
}

/// `os.path.exists(p)` (symlinks followed; a dangling link does not exist).
pub fn exists(p: &str) -> bool {
    !p.is_empty() && std::fs::metadata(p).is_ok()
}

/// `os.path.isfile(p)`.
pub fn isfile(p: &str) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file())
}

/// Python's text for an `OSError` (`[Errno 2] No such file or directory: '/x'`).
pub fn py_oserror(err: &std::io::Error, path: &str) -> String {
    match err.raw_os_error() {
        Some(code) => format!(
            "[Errno {code}] {}: {}",
            nix::errno::Errno::from_raw(code).desc(),
            halite_core::value::py_str_repr(path)
        ),
        None => err.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Commands.

/// [`run_as`] on a command string split with POSIX shlex (Salt's `python_shell=False`).
fn run_str(cmd: &str, runas: Option<&str>) -> Result<RawOutput> {
    run_as(&shlex_split(cmd)?, runas)
}

// ---------------------------------------------------------------------------------------
// The mount table.

/// One mounted file system, as Salt's `mount.active(extended=True)` describes it (without
/// the `alt_device`/`device_uuid`/`device_label` columns, see [`list_mounts`], [`blkid`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActiveMount {
    /// Mount id.
    pub mountid: String,
    /// Parent mount id.
    pub parentid: String,
    /// Device major number.
    pub major: String,
    /// Device minor number.
    pub minor: String,
    /// Root of the mount within its file system.
    pub root: String,
    /// Per-mount options (`\040` shown as `\ `, `uid=`/`gid=` names as numbers).
    pub opts: Vec<String>,
    /// File system type.
    pub fstype: String,
    /// Mount source (`\040` shown as `\ ` in the mountinfo form).
    pub device: String,
    /// Mount source as the kernel wrote it (the key of `blkid`'s table).
    pub raw_device: String,
    /// Super-block options (empty in the `/proc/self/mounts` form).
    pub superopts: Vec<String>,
    /// `true` when read from `/proc/self/mountinfo`; `false` for Salt's fallback
    /// (`/proc/self/mounts`: only `device`, `fstype` and `opts` are known).
    pub extended: bool,
}

/// The mount table keyed by mount point as the kernel writes it (spaces as `\040`); a
/// mount point mounted over keeps its first position and shows the last mount.
pub type ActiveTable = IndexMap<String, ActiveMount>;

/// A `uid=`/`gid=` value as a number: digits stay as they are, a known user/group name
/// becomes its id, an unknown name stays (Salt's `user.info`/`group.info` lookup).
pub fn resolve_id(param: &str, given: &str) -> String {
    if !given.is_empty() && given.bytes().all(|b| b.is_ascii_digit()) {
        return given.to_string();
    }
    let id = if param == "uid" {
        nix::unistd::User::from_name(given)
            .ok()
            .flatten()
            .map(|u| u.uid.as_raw().to_string())
    } else {
        nix::unistd::Group::from_name(given)
            .ok()
            .flatten()
            .map(|g| g.gid.as_raw().to_string())
    };
    id.unwrap_or_else(|| given.to_string())
}

/// Salt's `_resolve_user_group_names`: `uid=name`/`gid=name` become numbers (when the name
/// exists; only the text between the first and second `=` is kept), and `\040` becomes `\ `.
pub fn resolve_user_group_names(opts: Vec<String>) -> Vec<String> {
    opts.into_iter()
        .map(|opt| {
            let mut parts = opt.split('=');
            let opt = match (parts.next(), parts.next()) {
                (Some(param @ ("uid" | "gid")), Some(given)) => {
                    format!("{param}={}", resolve_id(param, given))
                }
                _ => opt.clone(),
            };
            opt.replace("\\040", "\\ ")
        })
        .collect()
}

fn split_opts(s: &str) -> Vec<String> {
    resolve_user_group_names(s.split(',').map(str::to_string).collect())
}

/// Parse `/proc/self/mountinfo` as Salt's `_active_mountinfo` does (whitespace-split
/// fields; the fields after the first lone `-` are type, source and super options).
/// Malformed lines are skipped.
pub fn parse_mountinfo(text: &str) -> ActiveTable {
    let mut table = ActiveTable::new();
    for line in text.lines() {
        let comps = py_split(line);
        let Some(sep) = comps.iter().position(|c| *c == "-") else {
            continue;
        };
        if comps.len() < 6 || comps.len() < sep + 4 {
            continue;
        }
        let Some((major, minor)) = comps[2].split_once(':') else {
            continue;
        };
        let minor = minor.split(':').next().unwrap_or(minor);
        let raw_device = comps[sep + 2].to_string();
        table.insert(
            comps[4].to_string(),
            ActiveMount {
                mountid: comps[0].into(),
                parentid: comps[1].into(),
                major: major.into(),
                minor: minor.into(),
                root: comps[3].into(),
                opts: split_opts(comps[5]),
                fstype: comps[sep + 1].into(),
                device: raw_device.replace("\\040", "\\ "),
                raw_device,
                superopts: split_opts(comps[sep + 3]),
                extended: true,
            },
        );
    }
    table
}

/// Parse `/proc/self/mounts` as Salt's `_active_mounts` does (the source is kept as
/// written, `\040` included).
pub fn parse_proc_mounts(text: &str) -> ActiveTable {
    let mut table = ActiveTable::new();
    for line in text.lines() {
        let comps = py_split(line);
        if comps.len() < 4 {
            continue;
        }
        table.insert(
            comps[1].to_string(),
            ActiveMount {
                opts: split_opts(comps[3]),
                fstype: comps[2].into(),
                device: comps[0].into(),
                raw_device: comps[0].into(),
                ..ActiveMount::default()
            },
        );
    }
    table
}

/// The mount table the way Salt's states read it (`mount.active(extended=True)`):
/// `/proc/self/mountinfo`, or `/proc/self/mounts` when that is unreadable or when `blkid`
/// is not installed (Salt's `_active_mountinfo` fails on the missing `blkid` and falls
/// back).
pub fn active_table() -> Result<ActiveTable> {
    if crate::exec::command::which("blkid").is_some() {
        if let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") {
            return Ok(parse_mountinfo(&text));
        }
    }
    let text = std::fs::read_to_string("/proc/self/mounts").map_err(|e| {
        Error::CommandExecution(format!("File not readable {}: {e}", "/proc/self/mounts"))
    })?;
    Ok(parse_proc_mounts(&text))
}

/// Is `name` (a mount point as the kernel writes it) mounted? (`name in mount.active()`.)
pub fn is_mounted(name: &str) -> Result<bool> {
    Ok(active_table()?.contains_key(name))
}

/// Parse `mount -l` output as Salt's `_list_mounts`: third word (mount point) → first word.
pub fn parse_mount_l(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in text.split('\n') {
        let comps = py_split(line);
        if comps.len() >= 3 {
            out.insert(comps[2].to_string(), comps[0].to_string());
        }
    }
    out
}

/// Salt's `_list_mounts`: `mount -l`, mount point → source as `mount` prints it (the
/// column Salt calls `alt_device`).
pub fn list_mounts() -> Result<HashMap<String, String>> {
    let out = run_str("mount -l", None)?;
    Ok(parse_mount_l(py_rstrip(&out.stdout)))
}

/// Parse `blkid` output as Salt's `disk.blkid`: device (first word minus its last
/// character) → attributes (the text after the first space split on runs of `"`, taken in
/// key/value pairs).
pub fn parse_blkid(text: &str) -> IndexMap<String, IndexMap<String, String>> {
    let mut out = IndexMap::new();
    for line in crate::exec::crontab::py_splitlines(text, false) {
        let comps = py_split(&line);
        let Some(first) = comps.first() else {
            continue;
        };
        let mut dev = first.to_string();
        dev.pop();
        let rest = line.split_once(' ').map_or("", |(_, r)| r);
        let mut pieces: Vec<&str> = Vec::new();
        let mut start = 0;
        let bytes = rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'"' {
                pieces.push(&rest[start..i]);
                while i < bytes.len() && bytes[i] == b'"' {
                    i += 1;
                }
                start = i;
            } else {
                i += 1;
            }
        }
        pieces.push(&rest[start..]);
        let mut info = IndexMap::new();
        for pair in pieces.chunks_exact(2) {
            let key = pair[0].trim_matches('=').trim_matches(' ');
            info.insert(key.to_string(), pair[1].trim_matches('"').to_string());
        }
        out.insert(dev, info);
    }
    out
}

/// Salt's `disk.blkid()`: every device's attributes (`UUID`, `LABEL`, `TYPE`…); empty when
/// `blkid` fails.
pub fn blkid() -> Result<IndexMap<String, IndexMap<String, String>>> {
    let out = run_as(&["blkid".to_string()], None)?;
    if out.retcode > 0 {
        return Ok(IndexMap::new());
    }
    Ok(parse_blkid(py_rstrip(&out.stdout)))
}

/// The extra columns of Salt's `mount.active`: (`alt_device`, `device_uuid` lower-cased,
/// `device_label`) of `mount`.
pub fn extra_columns(
    point: &str,
    mount: &ActiveMount,
    mount_l: &HashMap<String, String>,
    blkid: &IndexMap<String, IndexMap<String, String>>,
) -> (Option<String>, Option<String>, Option<String>) {
    let alt = mount_l.get(point).cloned();
    if !mount.extended || mount.raw_device.is_empty() {
        return (alt, None, None);
    }
    let info = blkid.get(&mount.raw_device);
    let uuid = info.and_then(|i| i.get("UUID")).map(|u| u.to_lowercase());
    let label = info.and_then(|i| i.get("LABEL")).cloned();
    (alt, uuid, label)
}

fn str_list(items: &[String]) -> Value {
    Value::List(items.iter().map(|s| Value::Str(s.clone())).collect())
}

fn opt_str(s: Option<String>) -> Value {
    s.map_or(Value::Null, Value::Str)
}

/// Salt's `mount.active(extended)` as a value: `extended` gives the mountinfo columns,
/// otherwise `device`, `alt_device`, `fstype`, `opts` (from `/proc/self/mounts`).
pub fn active(extended: bool) -> Result<Value> {
    let mount_l = list_mounts()?;
    let mut out = Map::default();
    let table = if extended {
        active_table()?
    } else {
        let text = std::fs::read_to_string("/proc/self/mounts")
            .map_err(|_| Error::CommandExecution("File not readable /proc/self/mounts".into()))?;
        parse_proc_mounts(&text)
    };
    let blk = if table.values().any(|m| m.extended) {
        blkid()?
    } else {
        IndexMap::new()
    };
    for (point, m) in &table {
        let (alt, uuid, label) = extra_columns(point, m, &mount_l, &blk);
        let mut d = Map::default();
        if m.extended {
            d.insert("mountid".into(), m.mountid.clone().into());
            d.insert("parentid".into(), m.parentid.clone().into());
            d.insert("major".into(), m.major.clone().into());
            d.insert("minor".into(), m.minor.clone().into());
            d.insert("root".into(), m.root.clone().into());
            d.insert("opts".into(), str_list(&m.opts));
            d.insert("fstype".into(), m.fstype.clone().into());
            d.insert("device".into(), m.device.clone().into());
            d.insert("alt_device".into(), opt_str(alt));
            d.insert("superopts".into(), str_list(&m.superopts));
            d.insert("device_uuid".into(), opt_str(uuid));
            d.insert("device_label".into(), opt_str(label));
        } else {
            d.insert("device".into(), m.device.clone().into());
            d.insert("alt_device".into(), opt_str(alt));
            d.insert("fstype".into(), m.fstype.clone().into());
            d.insert("opts".into(), str_list(&m.opts));
        }
        out.insert(Value::Str(point.clone()), Value::Map(d));
    }
    Ok(Value::Map(out))
}

// ---------------------------------------------------------------------------------------
// fstab.

/// The six fields of an fstab line (Salt's `_fstab_entry.dict_from_line`): `None` for a
/// line starting with `#` or with fewer than 4 or more than 6 whitespace-separated words;
/// a missing dump/pass is `"0"`.
pub fn fstab_fields(line: &str) -> Option<[String; 6]> {
    if line.starts_with('#') {
        return None;
    }
    let comps = py_split(line);
    if comps.len() < 4 || comps.len() > 6 {
        return None;
    }
    let get = |i: usize| {
        comps
            .get(i)
            .map_or_else(|| "0".to_string(), |s| s.to_string())
    };
    Some([get(0), get(1), get(2), get(3), get(4), get(5)])
}

/// Salt's `_fstab_entry`: some of the six fields (the ones given, as strings), used as a
/// filter over lines or, complete, as a line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FstabEntry {
    fields: [Option<String>; 6],
}

impl FstabEntry {
    /// An entry from (device, name, fstype, opts, dump, pass_num); `None` fields are not
    /// part of it.
    pub fn new(
        device: Option<String>,
        name: Option<String>,
        fstype: Option<String>,
        opts: Option<String>,
        dump: Option<String>,
        pass_num: Option<String>,
    ) -> Self {
        FstabEntry {
            fields: [device, name, fstype, opts, dump, pass_num],
        }
    }

    /// Salt's `pick`: the entry restricted to `keys`; a key that is not one of its fields
    /// is Salt's `Unrecognized keys in match_on` error (Salt prints a Python filter
    /// object there; Halite lists the keys that are not fstab fields).
    pub fn pick(&self, keys: &[String]) -> Result<Self> {
        let mut out = FstabEntry::default();
        for k in keys {
            match FSTAB_KEYS.iter().position(|f| f == k) {
                Some(i) if self.fields[i].is_some() => out.fields[i] = self.fields[i].clone(),
                _ => {
                    let bad: Vec<Value> = keys
                        .iter()
                        .filter(|k| !FSTAB_KEYS.contains(&k.as_str()))
                        .map(|k| Value::Str(k.clone()))
                        .collect();
                    return Err(Error::CommandExecution(format!(
                        "Unrecognized keys in match_on: \"{}\"",
                        Value::List(bad).py_repr()
                    )));
                }
            }
        }
        Ok(out)
    }

    /// Salt's `match`: does `line` parse and agree on every field of the entry (`opts`
    /// compared as sorted comma lists)? `None` when the line does not parse.
    pub fn matches(&self, line: &str) -> Option<bool> {
        let entry = fstab_fields(line)?;
        Some(self.fields.iter().enumerate().all(|(i, want)| match want {
            None => true,
            Some(v) if i == 3 => {
                let mut a: Vec<&str> = entry[3].split(',').collect();
                let mut b: Vec<&str> = v.split(',').collect();
                a.sort_unstable();
                b.sort_unstable();
                a == b
            }
            Some(v) => entry[i] == *v,
        }))
    }

    /// The fstab line (`{device}\t\t{name}\t{fstype}\t{opts}\t{dump} {pass_num}\n`); an
    /// error (Salt's `KeyError`) when a field is missing.
    pub fn line(&self) -> Result<String> {
        let f = |i: usize| {
            self.fields[i]
                .as_deref()
                .ok_or_else(|| Error::CommandExecution(format!("KeyError: '{}'", FSTAB_KEYS[i])))
        };
        Ok(format!(
            "{}\t\t{}\t{}\t{}\t{} {}\n",
            f(0)?,
            f(1)?,
            f(2)?,
            f(3)?,
            f(4)?,
            f(5)?
        ))
    }
}

/// What `mount.set_fstab` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FstabStatus {
    /// A matching line equal to the entry (the last matching line decides).
    Present,
    /// No matching line: the entry was appended.
    New,
    /// A matching line differed and was replaced.
    Change,
}

impl FstabStatus {
    /// Salt's string (`present`, `new`, `change`).
    pub fn as_str(self) -> &'static str {
        match self {
            FstabStatus::Present => "present",
            FstabStatus::New => "new",
            FstabStatus::Change => "change",
        }
    }
}

/// `match_on` of `mount.set_fstab`.
#[derive(Debug, Clone, PartialEq)]
pub enum MatchOn {
    /// `auto`: the mount point for [`SPECIAL_FSES`], else the device.
    Auto,
    /// These fields.
    Keys(Vec<String>),
}

impl MatchOn {
    /// From the argument: a string (`auto` or one key) or a list of keys; anything else is
    /// Salt's `match_on must be a string or list of strings`.
    pub fn from_value(v: Option<&Value>) -> Result<Self> {
        match v {
            None => Ok(MatchOn::Auto),
            Some(Value::Str(s)) if s == "auto" => Ok(MatchOn::Auto),
            Some(Value::Str(s)) => Ok(MatchOn::Keys(vec![s.clone()])),
            Some(Value::List(l)) => Ok(MatchOn::Keys(l.iter().map(Value::py_str).collect())),
            Some(_) => Err(Error::CommandExecution(
                "match_on must be a string or list of strings".into(),
            )),
        }
    }

    /// The fields to match on for `fstype`.
    pub fn keys(&self, fstype: &str) -> Vec<String> {
        match self {
            MatchOn::Auto if SPECIAL_FSES.contains(&fstype) => vec!["name".into()],
            MatchOn::Auto => vec!["device".into()],
            MatchOn::Keys(k) => k.clone(),
        }
    }
}

/// The edit of `set_fstab` on the file's lines (each with its `\n`): every line matching
/// `criteria` is kept when equal to `entry` (or `not_change`), else replaced by the
/// entry's line; without any match the entry's line is appended.
pub fn edit_fstab(
    lines: &[String],
    entry: &FstabEntry,
    criteria: &FstabEntry,
    not_change: bool,
) -> Result<(Vec<String>, FstabStatus)> {
    let mut out = Vec::with_capacity(lines.len() + 1);
    let mut status = None;
    for line in lines {
        if criteria.matches(line) == Some(true) {
            status = Some(FstabStatus::Present);
            if entry.matches(line) == Some(true) || not_change {
                out.push(line.clone());
            } else {
                status = Some(FstabStatus::Change);
                out.push(entry.line()?);
            }
        } else {
            out.push(line.clone());
        }
    }
    let status = match status {
        Some(s) => s,
        None => {
            out.push(entry.line()?);
            FstabStatus::New
        }
    };
    Ok((out, status))
}

/// The arguments of `mount.set_fstab` (all as the strings Salt formats).
#[derive(Debug, Clone)]
pub struct SetFstab<'a> {
    /// Mount point.
    pub name: &'a str,
    /// Device as given (`\ ` written as `\040`).
    pub device: &'a str,
    /// File system type.
    pub fstype: &'a str,
    /// Options joined with `,` (`\ ` written as `\040`).
    pub opts: &'a str,
    /// Dump field.
    pub dump: &'a str,
    /// Pass field.
    pub pass_num: &'a str,
    /// The fstab.
    pub config: &'a str,
    /// Only report.
    pub test: bool,
    /// Which fields identify the line.
    pub match_on: &'a MatchOn,
    /// Keep a matching line as it is.
    pub not_change: bool,
}

fn read_text(config: &str) -> std::result::Result<String, String> {
    let bytes = std::fs::read(config).map_err(|e| py_oserror(&e, config))?;
    String::from_utf8(bytes).map_err(|e| format!("'utf-8' codec can't decode: {e}"))
}

/// Salt's `mount.set_fstab`: make the fstab hold the entry (see [`edit_fstab`]), writing
/// the file (atomically) unless the result is `present` or `test`.
///
/// Errors (Salt's texts): `Bad config file "{config}"` when `config` is not a regular
/// file, `Couldn't read from {config}: …`, `File not writable {config}`, and the
/// `match_on` errors.
pub fn set_fstab(a: &SetFstab) -> Result<FstabStatus> {
    let entry = FstabEntry::new(
        Some(a.device.replace("\\ ", "\\040")),
        Some(a.name.to_string()),
        Some(a.fstype.to_string()),
        Some(a.opts.replace("\\ ", "\\040")),
        Some(a.dump.to_string()),
        Some(a.pass_num.to_string()),
    );
    let criteria = entry.pick(&a.match_on.keys(a.fstype))?;
    if !isfile(a.config) {
        return Err(Error::CommandExecution(format!(
            "Bad config file \"{}\"",
            a.config
        )));
    }
    let text = read_text(a.config)
        .map_err(|e| Error::CommandExecution(format!("Couldn't read from {}: {e}", a.config)))?;
    let (lines, status) = edit_fstab(&text_lines(&text), &entry, &criteria, a.not_change)?;
    if status != FstabStatus::Present && !a.test {
        atomic_write(Path::new(a.config), lines.concat().as_bytes(), None)
            .map_err(|_| Error::CommandExecution(format!("File not writable {}", a.config)))?;
    }
    Ok(status)
}

/// Salt's `mount.rm_fstab`: drop every line matching the mount point (and `device` when
/// given); always `true`. Errors: `Couldn't read from {config}: {exc}` /
/// `Couldn't write to {config}: {exc}`.
pub fn rm_fstab(name: &str, device: Option<&str>, config: &str) -> Result<bool> {
    let criteria = FstabEntry::new(
        device.map(str::to_string),
        Some(name.to_string()),
        None,
        None,
        None,
        None,
    );
    let text = read_text(config)
        .map_err(|e| Error::CommandExecution(format!("Couldn't read from {config}: {e}")))?;
    let lines = text_lines(&text);
    let kept: Vec<&String> = lines
        .iter()
        .filter(|l| criteria.matches(l) != Some(true))
        .collect();
    if kept.len() != lines.len() {
        let data: String = kept.into_iter().map(String::as_str).collect();
        atomic_write(Path::new(config), data.as_bytes(), None)
            .map_err(|e| Error::CommandExecution(format!("Couldn't write to {config}: {e}")))?;
    }
    Ok(true)
}

/// One fstab entry as Salt's `mount.fstab` lists it (all strings).
#[derive(Debug, Clone, PartialEq)]
pub struct FstabRecord {
    /// Device.
    pub device: String,
    /// File system type.
    pub fstype: String,
    /// Options.
    pub opts: Vec<String>,
    /// Dump field.
    pub dump: String,
    /// Pass field.
    pub pass: String,
}

impl FstabRecord {
    /// As Salt's dict (`device`, `fstype`, `opts`, `dump`, `pass`).
    pub fn to_value(&self) -> Value {
        let mut d = Map::default();
        d.insert("device".into(), self.device.clone().into());
        d.insert("fstype".into(), self.fstype.clone().into());
        d.insert("opts".into(), str_list(&self.opts));
        d.insert("dump".into(), self.dump.clone().into());
        d.insert("pass".into(), self.pass.clone().into());
        Value::Map(d)
    }
}

/// Parse fstab text as Salt's `mount.fstab`: mount point → entry; a repeated mount point
/// gets `_` appended until unique (`none`, `none_`, …).
pub fn parse_fstab(text: &str) -> IndexMap<String, FstabRecord> {
    let mut out = IndexMap::new();
    for line in text_lines(text) {
        let Some([device, name, fstype, opts, dump, pass]) = fstab_fields(&line) else {
            continue;
        };
        let mut name = name;
        while out.contains_key(&name) {
            name.push('_');
        }
        out.insert(
            name,
            FstabRecord {
                device,
                fstype,
                opts: opts.split(',').map(str::to_string).collect(),
                dump,
                pass,
            },
        );
    }
    out
}

/// Salt's `mount.fstab(config)`: empty when `config` is not a regular file.
pub fn fstab(config: &str) -> Result<IndexMap<String, FstabRecord>> {
    if !isfile(config) {
        return Ok(IndexMap::new());
    }
    let text = read_text(config).map_err(Error::CommandExecution)?;
    Ok(parse_fstab(&text))
}

// ---------------------------------------------------------------------------------------
// mount / umount / remount.

/// Salt's `file.mkdir(path, user=user)`: create the missing directories (mode
/// `0777 & ~umask`), each chowned to `user` when it exists.
pub fn mkdir(path: &str, user: Option<&str>) -> Result<()> {
    let dir = normpath(path);
    if Path::new(&dir).is_dir() {
        return Ok(());
    }
    let uid = user
        .filter(|u| !u.is_empty())
        .and_then(|u| nix::unistd::User::from_name(u).ok().flatten())
        .map(|u| u.uid.as_raw());
    let mut missing = Vec::new();
    let mut cur = dir.clone();
    while !cur.is_empty() && !exists(&cur) {
        missing.push(cur.clone());
        let (head, tail) = path_split(&cur);
        if head == cur || tail.is_empty() {
            break;
        }
        cur = head;
    }
    for p in missing.into_iter().rev() {
        match std::fs::create_dir(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(p, &e)),
        }
        if let Some(uid) = uid {
            std::os::unix::fs::chown(&p, Some(uid), None).map_err(|e| Error::io(p.clone(), &e))?;
        }
    }
    Ok(())
}

/// What a `mount`-family call returned in Salt: `Ok(())` for `True`, `Err(text)` for the
/// error string Salt returns (the command's standard error, or its own message).
pub type Returned = std::result::Result<(), String>;

/// The command string of Salt's `mount.mount` (before shlex): `mount -o {opts} -t
/// {fstype} '{device}' '{name}' `; `-o` only when `opts` is given, `-t` only with a type,
/// neither (nor the device) without a device.
pub fn mount_cmd(
    name: &str,
    device: Option<&str>,
    fstype: &str,
    opts: Option<&[String]>,
) -> String {
    let mut args = String::new();
    if let Some(o) = opts {
        args = format!("-o {}", o.join(","));
    }
    if !fstype.is_empty() {
        args.push_str(&format!(" -t {fstype}"));
    }
    match device.filter(|d| !d.is_empty()) {
        Some(d) => format!("mount {args} '{d}' '{name}' "),
        None => format!("mount '{name}' "),
    }
}

/// Salt's `mount.mount(name, device, mkmnt, fstype, opts, user)`: create the mount point
/// when missing and `mkmnt`, then run `mount` (as `user`).
pub fn mount(
    name: &str,
    device: Option<&str>,
    mkmnt: bool,
    fstype: &str,
    opts: Option<&[String]>,
    user: Option<&str>,
) -> Result<Returned> {
    if !exists(name) && mkmnt {
        mkdir(name, user)?;
    }
    let out = run_str(&mount_cmd(name, device, fstype, opts), user)?;
    if out.retcode != 0 {
        return Ok(Err(py_rstrip(&out.stderr).to_string()));
    }
    Ok(Ok(()))
}

/// The command string of Salt's `mount.remount` on a mounted target: `remount` added to
/// the options when absent, `-o` only when there are options.
pub fn remount_cmd(name: &str, device: &str, fstype: &str, opts: &[String]) -> String {
    let mut opts = opts.to_vec();
    if !opts.iter().any(|o| o == "remount") {
        opts.push("remount".into());
    }
    let mut args = String::new();
    if !opts.is_empty() {
        args = format!("-o {}", opts.join(","));
    }
    if !fstype.is_empty() {
        args.push_str(&format!(" -t {fstype}"));
    }
    format!("mount {args} '{device}' '{name}' ")
}

/// Salt's `mount.remount`: when `name` is mounted, `mount -o …,remount`; otherwise
/// [`mount`]. `device` `None` is written `None`, as Salt formats it.
pub fn remount(
    name: &str,
    device: Option<&str>,
    mkmnt: bool,
    fstype: &str,
    opts: &[String],
    user: Option<&str>,
) -> Result<Returned> {
    if is_mounted(name)? {
        let cmd = remount_cmd(name, device.unwrap_or("None"), fstype, opts);
        let out = run_str(&cmd, user)?;
        if out.retcode != 0 {
            return Ok(Err(py_rstrip(&out.stderr).to_string()));
        }
        return Ok(Ok(()));
    }
    mount(name, device, mkmnt, fstype, Some(opts), user)
}

/// The command string of Salt's `mount.umount`.
pub fn umount_cmd(name: &str, device: Option<&str>, lazy: bool) -> String {
    let mut cmd = "umount".to_string();
    if lazy {
        cmd.push_str(" -l");
    }
    match device.filter(|d| !d.is_empty()) {
        None => format!("{cmd} '{name}'"),
        Some(d) => format!("{cmd} '{d}'"),
    }
}

/// Salt's `mount.umount(name, device, user, lazy)`: `{name} does not have anything
/// mounted` when `name` is not a mount point, else `umount [-l] '{device or name}'`.
pub fn umount(
    name: &str,
    device: Option<&str>,
    user: Option<&str>,
    lazy: bool,
) -> Result<Returned> {
    if !is_mounted(name)? {
        return Ok(Err(format!("{name} does not have anything mounted")));
    }
    let out = run_str(&umount_cmd(name, device, lazy), user)?;
    if out.retcode != 0 {
        return Ok(Err(py_rstrip(&out.stderr).to_string()));
    }
    Ok(Ok(()))
}

// ---------------------------------------------------------------------------------------
// Swap.

/// One active swap area (`/proc/swaps` columns, as strings).
#[derive(Debug, Clone, PartialEq)]
pub struct SwapInfo {
    /// `file` or `partition`.
    pub kind: String,
    /// Size in KiB.
    pub size: String,
    /// Used KiB.
    pub used: String,
    /// Priority.
    pub priority: String,
}

impl SwapInfo {
    /// As Salt's dict (`type`, `size`, `used`, `priority`).
    pub fn to_map(&self) -> Map {
        let mut d = Map::default();
        d.insert("type".into(), self.kind.clone().into());
        d.insert("size".into(), self.size.clone().into());
        d.insert("used".into(), self.used.clone().into());
        d.insert("priority".into(), self.priority.clone().into());
        d
    }
}

/// Parse `/proc/swaps` (the `Filename` header skipped).
pub fn parse_swaps(text: &str) -> IndexMap<String, SwapInfo> {
    let mut out = IndexMap::new();
    for line in text_lines(text) {
        if line.starts_with("Filename") {
            continue;
        }
        let comps = py_split(&line);
        if comps.len() < 5 {
            continue;
        }
        out.insert(
            comps[0].to_string(),
            SwapInfo {
                kind: comps[1].into(),
                size: comps[2].into(),
                used: comps[3].into(),
                priority: comps[4].into(),
            },
        );
    }
    out
}

/// Salt's `mount.swaps()`.
pub fn swaps() -> Result<IndexMap<String, SwapInfo>> {
    let text = std::fs::read_to_string("/proc/swaps")
        .map_err(|e| Error::CommandExecution(py_oserror(&e, "/proc/swaps")))?;
    Ok(parse_swaps(&text))
}

/// Salt's `mount.swapon(name, priority)`: `(stats, new)` — already active gives
/// `(stats, false)`; else `swapon '{name}' [-p {priority}]` and `(stats, true)` when it is
/// active afterwards, `None` when not.
pub fn swapon(name: &str, priority: Option<&str>) -> Result<Option<(SwapInfo, bool)>> {
    if let Some(s) = swaps()?.get(name) {
        return Ok(Some((s.clone(), false)));
    }
    let mut cmd = format!("swapon '{name}'");
    if let Some(p) = priority.filter(|p| !p.is_empty()) {
        cmd.push_str(&format!(" -p {p}"));
    }
    run_str(&cmd, None)?;
    Ok(swaps()?.get(name).map(|s| (s.clone(), true)))
}

/// Salt's `mount.swapoff(name)`: `None` when not active, else `swapoff '{name}'` and
/// whether it is gone.
pub fn swapoff(name: &str) -> Result<Option<bool>> {
    if !swaps()?.contains_key(name) {
        return Ok(None);
    }
    run_str(&format!("swapoff '{name}'"), None)?;
    Ok(Some(!swaps()?.contains_key(name)))
}

// ---------------------------------------------------------------------------------------
// The mount cache (`{cachedir}/mounts`, YAML).

fn cache_file(cachedir: &str) -> String {
    path_join(cachedir, "mounts")
}

/// Salt's `salt.utils.mount.read_cache`: the cache document (`Null` when the file cannot
/// be read or is empty).
pub fn read_cache(cachedir: &str) -> Result<Value> {
    let path = cache_file(cachedir);
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(Value::Map(Map::default()));
    };
    let text = String::from_utf8_lossy(&bytes);
    halite_render::yaml::load(&text)
        .map_err(|e| Error::CommandExecution(format!("{path}: {}", e.message)))
}

fn write_cache(cachedir: &str, cache: &Value) -> Result<()> {
    let text = halite_core::yaml_emit::dump(cache, &halite_core::yaml_emit::DumpOptions::salt());
    // The cache dir exists on a Salt minion; a fresh `salt-call --local` root may lack it.
    let _ = std::fs::create_dir_all(cachedir);
    atomic_write(Path::new(&cache_file(cachedir)), text.as_bytes(), None)
        .map_err(|_| Error::CommandExecution("Unable to write mount cache.".into()))
}

/// Salt's `mount.read_mount_cache(name)`: the cached entry of `name`, empty when none.
pub fn read_mount_cache(cachedir: &str, name: &str) -> Result<Map> {
    let cache = read_cache(cachedir)?;
    Ok(cache
        .get("mounts")
        .filter(|m| m.is_truthy())
        .and_then(|m| m.get(name))
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default())
}

/// Salt's `mount.write_mount_cache`: record `{device, fstype, mkmnt, opts}` under
/// `real_name`. Error: `Unable to write mount cache.`
pub fn write_mount_cache(
    cachedir: &str,
    real_name: &str,
    device: Value,
    mkmnt: Value,
    fstype: Value,
    opts: Value,
) -> Result<()> {
    let mut cache = match read_cache(cachedir)? {
        Value::Map(m) if !m.is_empty() => m,
        v if v.is_truthy() => {
            return Err(Error::CommandExecution(format!(
                "Unexpected mount cache content: {}",
                v.py_repr()
            )))
        }
        _ => Map::default(),
    };
    let mounts = cache
        .entry("mounts".into())
        .or_insert_with(|| Value::Map(Map::default()));
    if !matches!(mounts, Value::Map(_)) {
        *mounts = Value::Map(Map::default());
    }
    if let Value::Map(m) = mounts {
        let mut e = Map::default();
        e.insert("device".into(), device);
        e.insert("fstype".into(), fstype);
        e.insert("mkmnt".into(), mkmnt);
        e.insert("opts".into(), opts);
        m.insert(Value::Str(real_name.to_string()), Value::Map(e));
    }
    write_cache(cachedir, &Value::Map(cache))
}

/// Salt's `mount.delete_mount_cache(real_name)`: drop the entry (rewriting the cache only
/// when it was there); always `true`.
pub fn delete_mount_cache(cachedir: &str, real_name: &str) -> Result<bool> {
    let mut cache = read_cache(cachedir)?;
    let removed = cache
        .as_map_mut()
        .and_then(|c| c.get_mut("mounts"))
        .and_then(Value::as_map_mut)
        .and_then(|m| m.shift_remove(real_name))
        .is_some();
    if removed {
        write_cache(cachedir, &cache)?;
    }
    Ok(true)
}

// ---------------------------------------------------------------------------------------
// Option comparison of `mount.mounted`.

/// Options that never show in the mount table (Salt's `mount_invisible_options`).
pub const INVISIBLE_OPTIONS: &[&str] = &[
    "_netdev",
    "actimeo",
    "bg",
    "comment",
    "defaults",
    "delay_connect",
    "direct-io-mode",
    "intr",
    "loop",
    "nointr",
    "nobootwait",
    "nofail",
    "password",
    "reconnect",
    "retry",
    "soft",
    "auto",
    "users",
    "bind",
    "nonempty",
    "transform_symlinks",
    "port",
    "backup-volfile-servers",
];

/// `key=value` options compared by key only (Salt's `mount_invisible_keys`).
pub const INVISIBLE_KEYS: &[&str] = &[
    "actimeo",
    "comment",
    "credentials",
    "direct-io-mode",
    "password",
    "port",
    "retry",
    "secretfile",
];

/// The tables `mount.mounted` compares options with (defaults plus its `extra_*`
/// arguments).
#[derive(Debug, Clone)]
pub struct OptionRules {
    /// Options ignored when absent from the mount table.
    pub invisible_options: Vec<String>,
    /// Keys of `key=value` options reduced to the key.
    pub invisible_keys: Vec<String>,
    /// Per file system type, keys reduced to the key and ignored.
    pub ignore_fs_keys: IndexMap<String, Vec<String>>,
    /// Options renamed before comparing (`tcp` → `proto=tcp`).
    pub translate: IndexMap<String, String>,
}

impl Default for OptionRules {
    fn default() -> Self {
        let mut ignore_fs_keys = IndexMap::new();
        ignore_fs_keys.insert("ramfs".to_string(), vec!["size".to_string()]);
        let mut translate = IndexMap::new();
        translate.insert("tcp".to_string(), "proto=tcp".to_string());
        translate.insert("udp".to_string(), "proto=udp".to_string());
        OptionRules {
            invisible_options: INVISIBLE_OPTIONS.iter().map(|s| s.to_string()).collect(),
            invisible_keys: INVISIBLE_KEYS.iter().map(|s| s.to_string()).collect(),
            ignore_fs_keys,
            translate,
        }
    }
}

/// `size=N{k,m,g}` (a prefix match, as Salt's `re.match`) in KiB.
pub fn size_in_k(opt: &str) -> Option<u128> {
    let rest = opt.strip_prefix("size=")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: u128 = rest[..digits].parse().ok()?;
    match rest.as_bytes().get(digits) {
        Some(b'k') => Some(n),
        Some(b'm') => n.checked_mul(1024),
        Some(b'g') => n.checked_mul(1024 * 1024),
        _ => None,
    }
}

/// The options of `opts` that force a remount of a mounted target (Salt's
/// `trigger_remount`), and the last option as mapped (Salt reuses that loop variable in
/// the mount-cache comment).
///
/// Each wanted option is translated, reduced to its key when the key is invisible or
/// ignored for `fstype`, `size=` normalised to KiB, `uid=`/`gid=` names resolved — and, as
/// in Salt, replaced by the mount's own `size=…k` super option whenever the mount has one
/// (so such mounts never remount for option changes). `superopts` is normalised in place
/// as Salt's loop does. An option found nowhere (mount options, super options, the
/// invisible lists) triggers. Error: `cifs` `user` without `=` (Salt's `IndexError`).
pub fn remount_triggers(
    opts: &[String],
    fstype: &str,
    active_opts: &[String],
    superopts: &mut Vec<String>,
    rules: &OptionRules,
) -> Result<(Vec<String>, Option<String>)> {
    let mut trigger = Vec::new();
    let mut last = None;
    let empty = Vec::new();
    let ignore = rules.ignore_fs_keys.get(fstype).unwrap_or(&empty);
    for wanted in opts {
        let mut opt = rules
            .translate
            .get(wanted)
            .cloned()
            .unwrap_or_else(|| wanted.clone());
        let key = opt.split('=').next().unwrap_or("").to_string();
        if rules.invisible_keys.contains(&key) {
            opt = key;
        }
        if let Some(k) = size_in_k(&opt) {
            opt = format!("size={k}k");
        }
        if fstype == "cifs" && opt.split('=').next() == Some("user") {
            let value = opt.split('=').nth(1).ok_or_else(|| {
                Error::CommandExecution("IndexError: list index out of range".into())
            })?;
            opt = format!("username={value}");
        }
        let key = opt.split('=').next().unwrap_or("").to_string();
        if ignore.contains(&key) {
            opt = key;
        }
        let resolved = {
            let mut parts = opt.split('=');
            match (parts.next(), parts.next()) {
                (Some(param @ ("uid" | "gid")), Some(given)) => {
                    Some(format!("{param}={}", resolve_id(param, given)))
                }
                _ => None,
            }
        };
        if let Some(r) = resolved {
            opt = r;
        }
        let mut i = 0;
        while i < superopts.len() {
            let cur = superopts[i].clone();
            if let Some(k) = size_in_k(&cur) {
                let conv = format!("size={k}k");
                opt = conv.clone();
                if let Some(pos) = superopts.iter().position(|s| *s == cur) {
                    superopts.remove(pos);
                }
                superopts.push(conv);
            }
            i += 1;
        }
        if !active_opts.contains(&opt)
            && !superopts.contains(&opt)
            && !rules.invisible_options.contains(&opt)
            && !ignore.contains(&opt)
            && !rules.invisible_keys.contains(&opt)
        {
            trigger.push(opt.clone());
        }
        last = Some(opt);
    }
    Ok((trigger, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn python_paths() {
        assert_eq!(normpath("/a//b/./c/../d/"), "/a/b/d");
        assert_eq!(normpath("//a"), "//a");
        assert_eq!(normpath("///a"), "/a");
        assert_eq!(normpath("../x/.."), "..");
        assert_eq!(normpath(""), ".");
        assert_eq!(path_split("/a/b/"), ("/a/b".into(), "".into()));
        assert_eq!(path_split("/a"), ("/".into(), "a".into()));
        assert_eq!(dirname("/srv/data"), "/srv");
        assert_eq!(dirname("/"), "/");
        assert_eq!(basename("../sda2"), "sda2");
        assert_eq!(
            realpath("/nonexistent-halite/x/../y"),
            "/nonexistent-halite/y"
        );
        assert_eq!(realpath("/"), "/");
    }

    #[test]
    fn realpath_follows_links() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().to_str().unwrap().to_string();
        let base = realpath(&base);
        std::fs::create_dir(format!("{base}/real")).unwrap();
        std::os::unix::fs::symlink("real", format!("{base}/link")).unwrap();
        std::os::unix::fs::symlink("loop", format!("{base}/loop")).unwrap();
        assert_eq!(
            realpath(&format!("{base}/link/x")),
            format!("{base}/real/x")
        );
        assert_eq!(
            realpath(&format!("{base}/loop/x")),
            format!("{base}/loop/x")
        );
    }

    const MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
35 22 0:30 / /mnt/my\\040dir rw,nosuid,nodev master:5 - tmpfs tmp\\040fs rw,size=524288k,mode=755,uid=0
36 22 0:31 / /srv/x rw - nfs4 host:/export rw,vers=4.2
";

    #[test]
    fn mountinfo_is_parsed_like_salt() {
        let t = parse_mountinfo(MOUNTINFO);
        assert_eq!(t.len(), 3);
        let root = &t["/"];
        assert_eq!(root.mountid, "22");
        assert_eq!(root.major, "8");
        assert_eq!(root.minor, "1");
        assert_eq!(root.opts, s(&["rw", "relatime"]));
        assert_eq!(root.fstype, "ext4");
        assert_eq!(root.device, "/dev/sda1");
        assert_eq!(root.superopts, s(&["rw", "errors=remount-ro"]));
        let m = &t["/mnt/my\\040dir"];
        assert_eq!(m.device, "tmp\\ fs");
        assert_eq!(m.raw_device, "tmp\\040fs");
        assert_eq!(m.superopts, s(&["rw", "size=524288k", "mode=755", "uid=0"]));
        assert_eq!(t["/srv/x"].device, "host:/export");
        assert!(t["/srv/x"].extended);
    }

    #[test]
    fn proc_mounts_keep_the_source_raw() {
        let t = parse_proc_mounts("tmp\\040fs /mnt/a\\040b tmpfs rw,a\\040b 0 0\n");
        let m = &t["/mnt/a\\040b"];
        assert_eq!(m.device, "tmp\\040fs");
        assert_eq!(m.opts, s(&["rw", "a\\ b"]));
        assert!(!m.extended);
        assert!(m.superopts.is_empty());
    }

    #[test]
    fn mount_l_and_blkid() {
        let l = parse_mount_l(
            "/dev/sda1 on / type ext4 (rw,relatime) [root]\n/srv/d.img on /mnt/d type ext4 (rw)\n",
        );
        assert_eq!(l["/"], "/dev/sda1");
        assert_eq!(l["/mnt/d"], "/srv/d.img");
        let b = parse_blkid(
            "/dev/sda1: UUID=\"AB-CD\" BLOCK_SIZE=\"4096\" TYPE=\"ext4\"\n/dev/sdb: LABEL=\"my data\" TYPE=\"xfs\"\n",
        );
        assert_eq!(b["/dev/sda1"]["UUID"], "AB-CD");
        assert_eq!(b["/dev/sda1"]["TYPE"], "ext4");
        assert_eq!(b["/dev/sdb"]["LABEL"], "my data");
        let t = parse_mountinfo(MOUNTINFO);
        let (alt, uuid, label) = extra_columns("/", &t["/"], &l, &b);
        assert_eq!(alt.as_deref(), Some("/dev/sda1"));
        assert_eq!(uuid.as_deref(), Some("ab-cd"));
        assert_eq!(label, None);
    }

    #[test]
    fn fstab_lines_parse_and_match() {
        assert_eq!(fstab_fields("# c"), None);
        assert_eq!(fstab_fields("a b c"), None);
        assert_eq!(fstab_fields("a b c d e f g"), None);
        assert_eq!(
            fstab_fields("/dev/sdb1 /data ext4 defaults\n"),
            Some([
                "/dev/sdb1".into(),
                "/data".into(),
                "ext4".into(),
                "defaults".into(),
                "0".into(),
                "0".into()
            ])
        );
        // A comment must start the line.
        assert!(fstab_fields(" # a b c").is_some());
        let e = FstabEntry::new(
            Some("/dev/sdb1".into()),
            Some("/data".into()),
            Some("ext4".into()),
            Some("noatime,defaults".into()),
            Some("0".into()),
            Some("2".into()),
        );
        assert_eq!(
            e.line().unwrap(),
            "/dev/sdb1\t\t/data\text4\tnoatime,defaults\t0 2\n"
        );
        assert_eq!(
            e.matches("/dev/sdb1 /data ext4 defaults,noatime 0 2\n"),
            Some(true)
        );
        assert_eq!(
            e.matches("/dev/sdb1 /data ext4 defaults 0 2\n"),
            Some(false)
        );
        assert_eq!(e.matches("#/dev/sdb1 /data ext4 defaults 0 2\n"), None);
        let by_dev = e.pick(&s(&["device"])).unwrap();
        assert_eq!(by_dev.matches("/dev/sdb1 /other xfs ro\n"), Some(true));
        let err = e.pick(&s(&["device", "bogus"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Unrecognized keys in match_on: \"['bogus']\""
        );
        assert_eq!(MatchOn::Auto.keys("tmpfs"), s(&["name"]));
        assert_eq!(MatchOn::Auto.keys("ext4"), s(&["device"]));
    }

    #[test]
    fn fstab_edits() {
        let entry = FstabEntry::new(
            Some("/dev/sdb1".into()),
            Some("/data".into()),
            Some("ext4".into()),
            Some("defaults".into()),
            Some("0".into()),
            Some("0".into()),
        );
        let crit = entry.pick(&s(&["device"])).unwrap();
        let lines = s(&["# fstab\n", "/dev/sda1 / ext4 defaults 0 1\n"]);
        let (out, st) = edit_fstab(&lines, &entry, &crit, false).unwrap();
        assert_eq!(st, FstabStatus::New);
        assert_eq!(
            out.last().unwrap(),
            "/dev/sdb1\t\t/data\text4\tdefaults\t0 0\n"
        );
        let lines = s(&["/dev/sdb1 /data ext4 defaults\n"]);
        let (out, st) = edit_fstab(&lines, &entry, &crit, false).unwrap();
        assert_eq!((st, out.clone()), (FstabStatus::Present, lines.clone()));
        let lines = s(&["/dev/sdb1 /data ext4 ro 0 0\n", "x\n"]);
        let (out, st) = edit_fstab(&lines, &entry, &crit, false).unwrap();
        assert_eq!(st, FstabStatus::Change);
        assert_eq!(out[0], "/dev/sdb1\t\t/data\text4\tdefaults\t0 0\n");
        let (out, st) = edit_fstab(&lines, &entry, &crit, true).unwrap();
        assert_eq!((st, out), (FstabStatus::Present, lines));
        // A later equal line sets the status back to present.
        let lines = s(&[
            "/dev/sdb1 /data ext4 ro 0 0\n",
            "/dev/sdb1 /data ext4 defaults 0 0\n",
        ]);
        let (_, st) = edit_fstab(&lines, &entry, &crit, false).unwrap();
        assert_eq!(st, FstabStatus::Present);
        // No newline at the end: the new line is glued on, as Salt writes it.
        let (out, _) = edit_fstab(&s(&["x y"]), &entry, &crit, false).unwrap();
        assert_eq!(out.concat(), "x y/dev/sdb1\t\t/data\text4\tdefaults\t0 0\n");
    }

    #[test]
    fn fstab_files() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("fstab");
        let cfg_s = cfg.to_str().unwrap();
        let a = SetFstab {
            name: "/data",
            device: "/dev/sdb1",
            fstype: "ext4",
            opts: "defaults",
            dump: "0",
            pass_num: "2",
            config: cfg_s,
            test: false,
            match_on: &MatchOn::Auto,
            not_change: false,
        };
        assert_eq!(
            set_fstab(&a).unwrap_err().to_string(),
            format!("Bad config file \"{cfg_s}\"")
        );
        std::fs::write(&cfg, "/dev/a none swap sw 0 0\n/dev/b none swap sw 0 0\n").unwrap();
        assert_eq!(
            set_fstab(&SetFstab {
                test: true,
                ..a.clone()
            })
            .unwrap(),
            FstabStatus::New
        );
        assert_eq!(std::fs::read_to_string(&cfg).unwrap().lines().count(), 2);
        assert_eq!(set_fstab(&a).unwrap(), FstabStatus::New);
        assert_eq!(set_fstab(&a).unwrap(), FstabStatus::Present);
        let tab = fstab(cfg_s).unwrap();
        assert_eq!(tab.keys().collect::<Vec<_>>(), ["none", "none_", "/data"]);
        assert_eq!(tab["/data"].pass, "2");
        assert_eq!(tab["none_"].device, "/dev/b");
        rm_fstab("/data", None, cfg_s).unwrap();
        assert!(!fstab(cfg_s).unwrap().contains_key("/data"));
        assert!(fstab("/nonexistent/fstab").unwrap().is_empty());
        let err = rm_fstab("/x", None, "/nonexistent/fstab").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Couldn't read from /nonexistent/fstab: [Errno 2] No such file or directory: '/nonexistent/fstab'"
        );
    }

    #[test]
    fn commands_are_salts() {
        let o = s(&["noatime", "defaults"]);
        assert_eq!(
            mount_cmd("/data", Some("/dev/sdb1"), "ext4", Some(&o)),
            "mount -o noatime,defaults -t ext4 '/dev/sdb1' '/data' "
        );
        assert_eq!(mount_cmd("/data", None, "ext4", Some(&o)), "mount '/data' ");
        assert_eq!(
            shlex_split(&mount_cmd("/my dir", Some("/dev/x"), "", None)).unwrap(),
            s(&["mount", "/dev/x", "/my dir"])
        );
        assert_eq!(
            remount_cmd("/data", "/dev/sdb1", "ext4", &o),
            "mount -o noatime,defaults,remount -t ext4 '/dev/sdb1' '/data' "
        );
        assert_eq!(umount_cmd("/data", None, true), "umount -l '/data'");
        assert_eq!(
            umount_cmd("/data", Some("/dev/sdb1"), false),
            "umount '/dev/sdb1'"
        );
    }

    #[test]
    fn swaps_parse() {
        let t = parse_swaps(
            "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swapfile                               file\t\t1048572\t\t0\t\t-2\n",
        );
        assert_eq!(t["/swapfile"].kind, "file");
        assert_eq!(t["/swapfile"].size, "1048572");
        assert_eq!(t["/swapfile"].priority, "-2");
    }

    #[test]
    fn option_comparison() {
        let rules = OptionRules::default();
        let active = s(&["rw", "noatime"]);
        let mut sup = s(&["rw", "errors=remount-ro"]);
        let (t, last) = remount_triggers(
            &s(&["defaults", "noatime", "nodev", "tcp", "password=x"]),
            "ext4",
            &active,
            &mut sup,
            &rules,
        )
        .unwrap();
        assert_eq!(t, s(&["nodev", "proto=tcp"]));
        assert_eq!(last.as_deref(), Some("password"));
        // A size= super option swallows every wanted option (Salt's loop).
        let mut sup = s(&["rw", "size=524288k", "mode=755"]);
        let (t, last) = remount_triggers(
            &s(&["noexec", "size=1g"]),
            "tmpfs",
            &active,
            &mut sup,
            &rules,
        )
        .unwrap();
        assert!(t.is_empty());
        assert_eq!(last.as_deref(), Some("size=524288k"));
        assert_eq!(sup, s(&["rw", "mode=755", "size=524288k"]));
        assert_eq!(size_in_k("size=2m"), Some(2048));
        assert_eq!(size_in_k("size=10%"), None);
        let mut sup = Vec::new();
        let (t, _) =
            remount_triggers(&s(&["size=64m"]), "ramfs", &active, &mut sup, &rules).unwrap();
        assert!(t.is_empty());
        let (t, _) = remount_triggers(
            &s(&["uid=0", "user=bob"]),
            "cifs",
            &active,
            &mut sup,
            &rules,
        )
        .unwrap();
        assert_eq!(t, s(&["uid=0", "username=bob"]));
        assert!(remount_triggers(&s(&["user"]), "cifs", &active, &mut sup, &rules).is_err());
    }

    #[test]
    fn mount_cache_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        assert!(read_mount_cache(d, "/data").unwrap().is_empty());
        write_mount_cache(
            d,
            "/data",
            "/dev/sdb1".into(),
            Value::Bool(false),
            "ext4".into(),
            Value::List(vec!["defaults".into()]),
        )
        .unwrap();
        let e = read_mount_cache(d, "/data").unwrap();
        assert_eq!(e.get("fstype"), Some(&Value::from("ext4")));
        assert!(delete_mount_cache(d, "/data").unwrap());
        assert!(read_mount_cache(d, "/data").unwrap().is_empty());
    }
}
