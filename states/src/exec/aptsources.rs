//! Salt's apt sources model (`salt.utils.pkg.deb.SourcesList`, Salt 3008.5) and the
//! repository functions of `aptpkg` built on it: `pkg.list_repos`, `pkg.get_repo`,
//! `pkg.mod_repo`, `pkg.del_repo`, `pkg.del_repo_key` and `_expand_repo_def` (the desired
//! entry of `pkgrepo.managed`).
//!
//! Salt never uses python-apt here: it reads `/etc/apt/sources.list` and every `*.list` /
//! `*.sources` regular file of `/etc/apt/sources.list.d/` (directory order, unsorted) with
//! its own parser, and on save rewrites every file that had at least one loaded entry, each
//! line re-rendered. This module reproduces that parser and renderer rule by rule, traps
//! included (a line that raises while loading stops the loading of its file, so saving
//! drops the rest of that file), because what lands in the files is what apt sees.
//!
//! Paths are Salt's hard-coded ones ([`AptPaths::salt`]); tests use a temporary tree.
//! Every file is written atomically (temp file beside it, fsync, rename), through a
//! symlink to its target, and only when its content changes.

use super::apt;
use halite_core::value::py_str_repr;
use halite_core::{Error, Functions, Map, Result, Value};
use indexmap::IndexMap;
use regex::Regex;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// Salt's `_APT_SOURCES_LIST`.
pub const SOURCES_LIST: &str = "/etc/apt/sources.list";
/// Salt's `_APT_SOURCES_PARTSDIR`.
pub const SOURCES_PARTSDIR: &str = "/etc/apt/sources.list.d/";
/// The key directory Salt uses when it does not use `apt-key`.
pub const KEYRINGS: &str = "/etc/apt/keyrings";

/// What `pkg.mod_repo` may set on a deb822 entry (`_MODIFY_OK`).
const MODIFY_OK: [&str; 11] = [
    "uri",
    "uris",
    "comps",
    "architectures",
    "disabled",
    "file",
    "dist",
    "suites",
    "signedby",
    "trusted",
    "types",
];
/// What `pkg.mod_repo` may set on a one-line entry (`_MODIFY_OK_LEGACY`).
const MODIFY_OK_LEGACY: [&str; 8] = [
    "uri",
    "comps",
    "architectures",
    "disabled",
    "file",
    "dist",
    "signedby",
    "trusted",
];

/// The text Salt writes to `sources.list` when no source at all was loaded.
const EMPTY_HEADER: &str = "## See sources.list(5) for more information, especialy\n# Remember that you can only use http, ftp or file URIs\n# CDROMs are managed through the apt-cdrom tool.\n";

static OPTS_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[(.*?=.*?)\]").expect("static regex"));
static CDROM_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(.*)(cdrom:.*/)(.*)").expect("static regex"));
static TAG_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\S+):\s*(\S.*|)").expect("static regex"));

// ---------------------------------------------------------------------------------------
// Paths and context.

/// Where apt's source lists and keyrings are (Salt hard-codes them).
#[derive(Debug, Clone, PartialEq)]
pub struct AptPaths {
    /// `/etc/apt/sources.list`: also the file of entries that name none.
    pub sources_list: PathBuf,
    /// `/etc/apt/sources.list.d/`.
    pub partsdir: PathBuf,
    /// `/etc/apt/keyrings`: where keys go when `apt-key` is not used.
    pub keyrings: PathBuf,
}

impl AptPaths {
    /// Salt's paths.
    pub fn salt() -> Self {
        AptPaths {
            sources_list: PathBuf::from(SOURCES_LIST),
            partsdir: PathBuf::from(SOURCES_PARTSDIR),
            keyrings: PathBuf::from(KEYRINGS),
        }
    }

    /// Paths under `root` (`root/etc/apt/...`), for tests and throwaway roots.
    pub fn under(root: &Path) -> Self {
        AptPaths {
            sources_list: root.join("etc/apt/sources.list"),
            partsdir: root.join("etc/apt/sources.list.d"),
            keyrings: root.join("etc/apt/keyrings"),
        }
    }

    /// The file of an entry that names none, as a string.
    pub fn default_file(&self) -> String {
        self.sources_list.display().to_string()
    }
}

impl Default for AptPaths {
    fn default() -> Self {
        Self::salt()
    }
}

/// What the repository functions need from their caller.
pub struct AptCtx<'a> {
    /// Source list and keyring locations.
    pub paths: AptPaths,
    /// Execution functions, for `cp.cache_file` of `salt://` key URLs.
    pub functions: Option<&'a dyn Functions>,
    /// `pkg.refresh_db` (clears the run's refresh tag, then `apt-get -q update`).
    pub refresh: Box<dyn Fn() -> Result<()> + 'a>,
    /// Whether `apt-key` exists; `None` looks it up on `PATH` (Salt's `which`).
    pub apt_key: Option<bool>,
    /// The proxy URL of `proxy_host`/`proxy_port` (and credentials), `""` without one.
    pub http_proxy: String,
    /// The `no_proxy` option.
    pub no_proxy: Vec<String>,
}

impl<'a> AptCtx<'a> {
    /// Salt's paths, the real `refresh_db` with the run's refresh tag from `opts`, and the
    /// proxy settings of `opts`.
    pub fn system(opts: &Map, functions: Option<&'a dyn Functions>) -> Self {
        let rtag = super::aptpkg::rtag(opts);
        let opt = |k: &str| {
            opts.get(k)
                .filter(|v| v.is_truthy())
                .map(Value::py_str)
                .unwrap_or_default()
        };
        let (host, port, user, password) = (
            opt("proxy_host"),
            opt("proxy_port"),
            opt("proxy_username"),
            opt("proxy_password"),
        );
        let http_proxy = match (
            host.is_empty() || port.is_empty(),
            user.is_empty() || password.is_empty(),
        ) {
            (true, _) => String::new(),
            (false, false) => format!("http://{user}:{password}@{host}:{port}"),
            (false, true) => format!("http://{host}:{port}"),
        };
        let no_proxy = match opts.get("no_proxy") {
            Some(Value::List(l)) => l.iter().map(Value::py_str).collect(),
            Some(Value::Str(s)) if !s.is_empty() => {
                s.split(',').map(|p| p.trim().to_string()).collect()
            }
            _ => Vec::new(),
        };
        AptCtx {
            paths: AptPaths::salt(),
            functions,
            refresh: Box::new(move || super::aptpkg::refresh_db(rtag.as_deref()).map(|_| ())),
            apt_key: None,
            http_proxy,
            no_proxy,
        }
    }

    /// Is `apt-key` available (Salt: `salt.utils.path.which("apt-key")`)?
    pub fn apt_key_available(&self) -> bool {
        self.apt_key.unwrap_or_else(|| which("apt-key").is_some())
    }
}

/// Salt's `salt.utils.path.which` (see [`super::command::which`]), as a path.
pub fn which(exe: &str) -> Option<PathBuf> {
    super::command::which(exe).map(PathBuf::from)
}

// ---------------------------------------------------------------------------------------
// Python semantics the model depends on.

/// A Python exception other than an OS error, by its message.
fn py_err(msg: impl Into<String>) -> Error {
    Error::CommandExecution(msg.into())
}

/// Python's `OSError` text for `path`: `[Errno 2] No such file or directory: '/x'`.
fn os_error(e: &std::io::Error, path: &str) -> Error {
    let message = match e.raw_os_error() {
        Some(code) => format!(
            "[Errno {code}] {}: {}",
            nix::errno::Errno::from_raw(code).desc(),
            py_str_repr(path)
        ),
        None => format!("{e}: {}", py_str_repr(path)),
    };
    Error::Io {
        path: path.to_string(),
        message,
    }
}

/// The text Salt would print for an exception: OS errors without the path prefix that
/// [`Error`]'s display adds (their message already names it, as Python's does).
pub fn exc_text(e: &Error) -> String {
    match e {
        Error::Io { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// Salt's `string_to_bool`.
pub fn string_to_bool(s: &str) -> Result<bool> {
    let l = s.to_lowercase();
    match l.as_str() {
        "no" | "false" | "without" | "off" | "disable" | "0" => Ok(false),
        "yes" | "true" | "with" | "on" | "enable" | "1" => Ok(true),
        _ => Err(py_err(format!("Unable to convert to boolean: {l}"))),
    }
}

/// `string_to_bool` on any value: a bool as is, a string parsed, anything else fails as
/// Python's `.lower()` would.
fn value_to_bool(v: &Value) -> Result<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Str(s) => string_to_bool(s),
        other => Err(py_err(format!(
            "'{}' object has no attribute 'lower'",
            other.type_name()
        ))),
    }
}

/// Salt's `salt.utils.data.is_true`: numbers (and numeric strings) are true when > 0,
/// other strings only when `true` (any case), everything else by truthiness.
pub fn is_true(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Int(i) => *i > 0,
        // `int(x)` first truncates: 0.5 is false.
        Value::Float(f) => f.trunc() > 0.0,
        Value::Str(s) => {
            if let Some(i) = super::pystr::py_int(s) {
                return i > 0;
            }
            let t = s.trim();
            let float = t
                .parse::<f64>()
                .ok()
                .filter(|_| !t.is_empty() && !t.contains(char::is_whitespace));
            match float {
                Some(f) => f > 0.0,
                None => s.to_lowercase() == "true",
            }
        }
        other => other.is_truthy(),
    }
}

/// Salt's `combine_comments`: a list or a string of comments as one stripped line.
pub fn combine_comments(v: &Value) -> String {
    match v {
        Value::List(items) => items
            .iter()
            .map(Value::py_str)
            .collect::<Vec<_>>()
            .join(" ")
            .trim()
            .to_string(),
        other => other.py_str().trim().to_string(),
    }
}

/// Salt's `strip_uri`: trailing `/` removed from `http://`, `https://` and `ftp://`
/// tokens; whitespace collapsed.
pub fn strip_uri(repo: &str) -> String {
    repo.split_whitespace()
        .map(|t| {
            if ["http://", "https://", "ftp://"]
                .iter()
                .any(|p| t.starts_with(p))
            {
                t.trim_end_matches('/')
            } else {
                t
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Salt's `split_source_line`: whitespace-separated words, a `[...]` group kept whole.
pub fn split_source_line(line: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut tmp = String::new();
    let (mut p_found, mut space_found) = (false, false);
    for c in line.trim().chars() {
        if c == '[' {
            if space_found {
                space_found = false;
                p_found = true;
                pieces.push(std::mem::take(&mut tmp));
                tmp.push(c);
            } else {
                p_found = true;
                tmp.push(c);
            }
        } else if c == ']' {
            p_found = false;
            tmp.push(c);
        } else if space_found && !c.is_whitespace() {
            space_found = false;
            pieces.push(std::mem::take(&mut tmp));
            tmp.push(c);
        } else if c.is_whitespace() && !p_found {
            space_found = true;
        } else {
            tmp.push(c);
        }
    }
    if !tmp.is_empty() {
        pieces.push(tmp);
    }
    pieces
}

/// Python's `str.splitlines()`.
fn py_splitlines(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = match c {
            '\r' => match chars.peek() {
                Some((_, '\n')) => {
                    chars.next();
                    i + 2
                }
                _ => i + 1,
            },
            '\n' | '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}'
            | '\u{2029}' => i + c.len_utf8(),
            _ => continue,
        };
        out.push(&s[start..i]);
        start = end;
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// A value as a list of strings (a list's items, a comma list split and stripped), as
/// `pkg.mod_repo` reads `comps` / `architectures`.
fn comma_list(v: &Value) -> Result<Vec<String>> {
    match v {
        Value::Str(s) => Ok(s.split(',').map(|p| p.trim().to_string()).collect()),
        // Salt calls `.split(',')` and fails on a list; a list is taken as already split.
        Value::List(items) => Ok(items
            .iter()
            .map(|i| i.py_str().trim().to_string())
            .collect()),
        other => Err(py_err(format!(
            "'{}' object has no attribute 'split'",
            other.type_name()
        ))),
    }
}

/// A list of strings as a value.
fn list_value(items: &[String]) -> Value {
    Value::List(items.iter().map(|s| Value::Str(s.clone())).collect())
}

/// A value as a list of strings (a string is one item).
fn value_strings(v: &Value) -> Vec<String> {
    match v {
        Value::List(items) => items.iter().map(Value::py_str).collect(),
        Value::Null => Vec::new(),
        other => vec![other.py_str()],
    }
}

/// Python's `" ".join(value)`: a list's items, or a string's characters.
fn py_join(v: &Value) -> Result<String> {
    match v {
        Value::List(items) => Ok(items
            .iter()
            .map(Value::py_str)
            .collect::<Vec<_>>()
            .join(" ")),
        Value::Str(s) => Ok(s.chars().map(String::from).collect::<Vec<_>>().join(" ")),
        _ => Err(py_err("can only join an iterable")),
    }
}

/// `pathlib.PurePosixPath(p)` as a string: empty and `.` components dropped, no
/// trailing `/`.
fn pure_path(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let prefix = if p.starts_with("//") && !p.starts_with("///") {
        "//"
    } else if p.starts_with('/') {
        "/"
    } else {
        ""
    };
    let body = p
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/");
    match (prefix.is_empty(), body.is_empty()) {
        (true, true) => ".".into(),
        (false, true) => prefix.into(),
        _ => format!("{prefix}{body}"),
    }
}

/// `PurePosixPath.name`.
fn path_name(p: &str) -> &str {
    match p.rfind('/') {
        Some(i) => &p[i + 1..],
        None if p == "." => "",
        None => p,
    }
}

/// `PurePosixPath.parent`.
fn path_parent(p: &str) -> String {
    match p.rfind('/') {
        None => ".".into(),
        Some(0) => "/".into(),
        Some(i) => p[..i].to_string(),
    }
}

/// `PurePosixPath(dir) / name`.
fn path_join(dir: &str, name: &str) -> String {
    if name.starts_with('/') || dir == "." {
        name.to_string()
    } else if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

// ---------------------------------------------------------------------------------------
// One-line entries.

/// One option of a line's first `[...=...]` group.
#[derive(Debug, Clone)]
struct Opt {
    key: String,
    full: String,
    value: String,
}

/// The options of a line (Salt's `_get_opts`): an ordered dict keyed `arch`, `signedby`
/// or the option's name, plus every `arch=` value in order.
#[derive(Debug, Clone, Default)]
struct Opts {
    list: Vec<Opt>,
    arches: Vec<String>,
}

impl Opts {
    fn get(&self, key: &str) -> Option<&Opt> {
        self.list.iter().find(|o| o.key == key)
    }

    /// Python's `d[key] = ...`: in place when present, else appended.
    fn upsert(&mut self, key: &str, full: String, value: String) {
        match self.list.iter_mut().find(|o| o.key == key) {
            Some(o) => {
                o.full = full;
                o.value = value;
            }
            None => self.list.push(Opt {
                key: key.to_string(),
                full,
                value,
            }),
        }
    }
}

fn index_error() -> Error {
    py_err("list index out of range")
}

/// Salt's `_get_opts(line)`: the first `[...]` group containing `=` anywhere in the line
/// (comments included), split on whitespace. An option without `=` raises.
fn get_opts(line: &str) -> Result<Opts> {
    let mut opts = Opts::default();
    let Some(m) = OPTS_RE.find(line) else {
        return Ok(opts);
    };
    let inner = m.as_str().trim_matches(|c| c == '[' || c == ']');
    for opt in inner.split_whitespace() {
        let value = opt.split_once('=').map(|(_, v)| v.to_string());
        if opt.starts_with("arch") {
            let value = value.ok_or_else(index_error)?;
            opts.arches.extend(value.split(',').map(str::to_string));
            opts.upsert("arch", opt.to_string(), String::new());
        } else if opt.starts_with("signed-by") {
            let value = value.ok_or_else(index_error)?;
            opts.upsert("signedby", opt.to_string(), value);
        } else {
            let key = opt.split('=').next().unwrap_or(opt).to_string();
            let value = value.ok_or_else(index_error)?;
            opts.upsert(&key, opt.to_string(), value);
        }
    }
    Ok(opts)
}

/// Salt's `_invalid(line)`: (disabled, invalid, comment, tokens).
fn split_line(line: &str) -> (bool, bool, String, Vec<String>) {
    let mut l = line.trim();
    if l.is_empty() {
        return (false, true, String::new(), Vec::new());
    }
    let mut disabled = false;
    if let Some(rest) = l.strip_prefix('#') {
        disabled = true;
        l = rest;
    }
    let mut comment = String::new();
    if let Some(idx) = l.find('#') {
        if idx > 0 {
            comment = l[idx + 1..].to_string();
            l = &l[..idx];
        }
    }
    let stripped = l.trim();
    let tokens: Vec<String> = match CDROM_RE.captures(stripped) {
        Some(c) => {
            let g = |i: usize| c.get(i).map_or("", |m| m.as_str());
            g(1).split_whitespace()
                .map(str::to_string)
                .chain(std::iter::once(g(2).trim().to_string()))
                .chain(g(3).split_whitespace().map(str::to_string))
                .collect()
        }
        None => stripped.split_whitespace().map(str::to_string).collect(),
    };
    let bad_type = tokens
        .first()
        .is_none_or(|t| !["deb", "deb-src", "rpm", "rpm-src"].contains(&t.as_str()));
    if bad_type || tokens.len() < 3 {
        return (disabled, true, comment, tokens);
    }
    if tokens[1].starts_with('[') && !tokens[1..].iter().any(|t| t.ends_with(']')) {
        return (disabled, true, comment, tokens);
    }
    (disabled, false, comment, tokens)
}

/// Salt's `SourceEntry.trusted` setter: a bool, 0/1, or a yes/no string; anything else
/// unsets it.
fn trusted_from(v: &Value) -> Result<Option<bool>> {
    Ok(match v {
        Value::Bool(b) => Some(*b),
        Value::Int(i) if *i == 0 || *i == 1 => Some(*i == 1),
        Value::Str(s) => Some(string_to_bool(s)?),
        _ => None,
    })
}

/// A one-line `sources.list` entry (Salt's `SourceEntry`). Invalid lines (comments,
/// blanks, anything apt would not read as a source) are kept verbatim.
#[derive(Debug, Clone, PartialEq)]
pub struct OneLine {
    /// Not a source line (rendered as the original line, stripped).
    pub invalid: bool,
    /// Commented out (`#deb ...`).
    pub disabled: bool,
    /// `deb`, `deb-src`, `rpm` or `rpm-src`.
    pub typ: String,
    /// The `arch=` values.
    pub architectures: Vec<String>,
    /// The `signed-by=` value (`""` when none).
    pub signedby: String,
    /// The `trusted=` value.
    pub trusted: Option<bool>,
    /// The URI.
    pub uri: String,
    /// The suite.
    pub dist: String,
    /// The components.
    pub comps: Vec<String>,
    /// The text after the first `#` past the start (not stripped).
    pub comment: String,
    /// The source line the entry was parsed from (its options are re-rendered from it).
    pub line: String,
    /// The file the entry belongs to.
    pub file: String,
}

impl OneLine {
    /// Parse `line` (Salt's `SourceEntry(line, file)`); fails where Salt raises: an option
    /// without `=`, a `trusted=` that is not a boolean word, fewer than three words once
    /// the options are removed (`Invalid repository definition: ...`).
    pub fn parse(line: &str, file: &str) -> Result<Self> {
        if file.ends_with(".sources") {
            return Err(py_err(
                "Classic SourceEntry cannot be written to .sources file",
            ));
        }
        let (disabled, invalid, comment, mut tokens) = split_line(line);
        let mut e = OneLine {
            invalid,
            disabled,
            typ: String::new(),
            architectures: Vec::new(),
            signedby: String::new(),
            trusted: None,
            uri: String::new(),
            dist: String::new(),
            comps: Vec::new(),
            comment,
            line: line.to_string(),
            file: file.to_string(),
        };
        if invalid {
            return Ok(e);
        }
        if tokens[1].starts_with('[') {
            tokens = tokens
                .iter()
                .map(|t| t.trim_matches(|c| c == '[' || c == ']').to_string())
                .filter(|t| !t.is_empty())
                .collect();
            let opts = get_opts(line)?;
            if opts.get("arch").is_some() {
                e.architectures.extend(opts.arches.iter().cloned());
            }
            if let Some(o) = opts.get("signedby") {
                e.signedby = o.value.clone();
            }
            if let Some(o) = opts.get("trusted") {
                e.trusted = Some(string_to_bool(&o.value)?);
            }
            for o in opts.list.iter().filter(|o| !o.full.is_empty()) {
                let bracketed = format!("[{}]", o.full);
                let pos = tokens
                    .iter()
                    .position(|t| *t == o.full)
                    .or_else(|| tokens.iter().position(|t| *t == bracketed))
                    .ok_or_else(|| py_err(format!("{} is not in list", py_str_repr(&bracketed))))?;
                tokens.remove(pos);
            }
        }
        if tokens.len() < 3 {
            return Err(Error::InvalidArgument(format!(
                "Invalid repository definition: {}",
                tokens.join(" ")
            )));
        }
        e.typ = tokens[0].clone();
        e.uri = tokens[1].clone();
        e.dist = tokens[2].clone();
        e.comps = tokens[3..].to_vec();
        Ok(e)
    }

    /// Salt's `repo_line()`: `["#"] type ["[opts]"] uri dist comps ["#comment"]` joined by
    /// single spaces, with a trailing newline. The options come from the entry's source
    /// line in their order, `arch=`/`signed-by=` replaced by the current values,
    /// `trusted=yes` added when trusted, `trusted=no` dropped.
    pub fn repo_line(&self) -> Result<String> {
        if self.invalid {
            return Ok(self.line.clone());
        }
        let mut parts: Vec<String> = Vec::new();
        if self.disabled {
            parts.push("#".into());
        }
        parts.push(self.typ.clone());
        let mut opts = get_opts(&self.line)?;
        if !self.architectures.is_empty() {
            opts.upsert(
                "arch",
                format!("arch={}", self.architectures.join(",")),
                String::new(),
            );
        }
        if !self.signedby.is_empty() {
            opts.upsert(
                "signedby",
                format!("signed-by={}", self.signedby),
                self.signedby.clone(),
            );
        }
        if self.trusted == Some(true) {
            opts.upsert("trusted", "trusted=yes".into(), "yes".into());
        }
        if opts.get("trusted").is_some_and(|o| o.value == "no") {
            opts.list.retain(|o| o.key != "trusted");
        }
        let ordered: Vec<&str> = opts
            .list
            .iter()
            .map(|o| o.full.as_str())
            .filter(|f| !f.is_empty())
            .collect();
        if !ordered.is_empty() {
            parts.push(format!("[{}]", ordered.join(" ")));
        }
        parts.push(self.uri.clone());
        parts.push(self.dist.clone());
        parts.push(self.comps.join(" "));
        if !self.comment.is_empty() {
            parts.push(format!("#{}", self.comment));
        }
        Ok(parts.join(" ") + "\n")
    }

    /// The entry as written to its file (`str(entry)`: [`Self::repo_line`] stripped).
    pub fn render(&self) -> Result<String> {
        Ok(self.repo_line()?.trim().to_string())
    }

    /// Python's `setattr(entry, key, value)` for the keys `pkg.mod_repo` sets.
    fn set_attr(&mut self, key: &str, v: &Value) -> Result<()> {
        match key {
            "uri" => self.uri = v.py_str(),
            "comps" => self.comps = value_strings(v),
            "architectures" => self.architectures = value_strings(v),
            "disabled" => self.disabled = v.is_truthy(),
            "file" => self.file = v.py_str(),
            "dist" => self.dist = v.py_str(),
            "signedby" => self.signedby = v.py_str(),
            "trusted" => self.trusted = trusted_from(v)?,
            _ => {}
        }
        Ok(())
    }

    /// The suites (`[dist]`, or none).
    pub fn suites(&self) -> Vec<String> {
        if self.dist.is_empty() {
            Vec::new()
        } else {
            vec![self.dist.clone()]
        }
    }
}

// ---------------------------------------------------------------------------------------
// deb822 stanzas.

/// One deb822 paragraph (Salt's `Deb822Section`): fields in order, plus the comment lines
/// before the first field (`header`) and after it (`footer`).
///
/// Field names are looked up case-insensitively through a map built when the stanza was
/// read; setting a field uses the name as given (so `URIs` set on a stanza that spells it
/// `Uris` adds a second field, as in Salt).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Section {
    tags: Vec<(String, String)>,
    tag_map: Vec<(String, String)>,
    /// Comment lines before the first field.
    pub header: Vec<String>,
    /// Comment lines after the first field (they move to the end of the stanza).
    pub footer: Vec<String>,
}

impl Section {
    /// Parse one paragraph.
    pub fn parse(text: &str) -> Self {
        let mut s = Section::default();
        let mut raw: Vec<&str> = Vec::new();
        for line in py_splitlines(text) {
            if line.starts_with('#') {
                if raw.is_empty() {
                    s.header.push(line.to_string());
                } else {
                    s.footer.push(line.to_string());
                }
            } else {
                raw.push(line);
            }
        }
        let mut tag: Option<String> = None;
        let mut value: Option<String> = None;
        for line in raw {
            if let Some(c) = TAG_RE.captures(line) {
                if let Some(t) = &tag {
                    let v = value.as_deref().unwrap_or("None").trim().to_string();
                    s.insert_tag(t, v);
                }
                tag = c.get(1).map(|m| m.as_str().to_string());
                value = Some(c.get(2).map_or("", |m| m.as_str()).to_string());
            } else if line.is_empty() && tag.is_some() {
                if let Some(t) = &tag {
                    let v = value.as_deref().unwrap_or("None").trim().to_string();
                    s.insert_tag(t, v);
                }
            } else {
                value = Some(format!("{}\n{line}", value.as_deref().unwrap_or("None")));
            }
        }
        if let Some(t) = &tag {
            let v = value.as_deref().unwrap_or("None").trim().to_string();
            s.insert_tag(t, v);
        }
        for (k, _) in &s.tags {
            let lc = k.to_lowercase();
            match s.tag_map.iter_mut().find(|(l, _)| *l == lc) {
                Some(slot) => slot.1 = k.clone(),
                None => s.tag_map.push((lc, k.clone())),
            }
        }
        s
    }

    fn insert_tag(&mut self, key: &str, value: String) {
        match self.tags.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.tags.push((key.to_string(), value)),
        }
    }

    fn mapped(&self, key: &str) -> String {
        let lc = key.to_lowercase();
        self.tag_map
            .iter()
            .find(|(l, _)| *l == lc)
            .map_or_else(|| key.to_string(), |(_, k)| k.clone())
    }

    /// A field's value (case-insensitive name).
    pub fn get(&self, key: &str) -> Option<&str> {
        let k = self.mapped(key);
        self.tags
            .iter()
            .find(|(t, _)| *t == k)
            .map(|(_, v)| v.as_str())
    }

    /// Set a field (appended when new).
    pub fn set(&mut self, key: &str, value: &str) {
        let lc = key.to_lowercase();
        if !self.tag_map.iter().any(|(l, _)| *l == lc) {
            self.tag_map.push((lc, key.to_string()));
        }
        self.insert_tag(key, value.to_string());
    }

    /// Delete a field; a missing one raises Python's `KeyError`.
    pub fn del(&mut self, key: &str) -> Result<()> {
        let lc = key.to_lowercase();
        let k = self.mapped(key);
        let pos = self
            .tags
            .iter()
            .position(|(t, _)| *t == k)
            .ok_or_else(|| py_err(py_str_repr(&k)))?;
        self.tags.remove(pos);
        let pos = self
            .tag_map
            .iter()
            .position(|(l, _)| *l == lc)
            .ok_or_else(|| py_err(py_str_repr(&lc)))?;
        self.tag_map.remove(pos);
        Ok(())
    }

    /// Does the paragraph have any field?
    pub fn has_tags(&self) -> bool {
        !self.tags.is_empty()
    }

    /// `str(section)`: header lines, `Key: value` for every non-empty value, footer lines.
    pub fn render(&self) -> String {
        let mut out = self.header.join("\n");
        if !self.header.is_empty() {
            out.push('\n');
        }
        for (k, v) in &self.tags {
            if !v.is_empty() {
                out.push_str(&format!("{k}: {v}\n"));
            }
        }
        out.push_str(&self.footer.join("\n"));
        if !self.footer.is_empty() {
            out.push('\n');
        }
        out
    }
}

/// A deb822 entry of a `.sources` file (Salt's `Deb822SourceEntry`).
#[derive(Debug, Clone, PartialEq)]
pub struct Stanza {
    /// The paragraph.
    pub section: Section,
    /// The paragraph as first rendered (Salt's `line`).
    pub line: String,
    /// The file the entry belongs to.
    pub file: String,
}

impl Stanza {
    /// A stanza of `file`.
    pub fn new(section: Section, file: &str) -> Self {
        let line = section.render();
        Stanza {
            section,
            line,
            file: file.to_string(),
        }
    }

    fn multi(&self, key: &str) -> Vec<String> {
        split_source_line(self.section.get(key).unwrap_or(""))
    }

    fn single(&self, key: &str) -> Option<String> {
        self.section.get(key).map(str::to_string)
    }

    /// `Enabled: no` (any boolean word); a word that is not one raises.
    pub fn disabled(&self) -> Result<bool> {
        Ok(!string_to_bool(
            self.section.get("Enabled").unwrap_or("yes"),
        )?)
    }

    fn set_disabled(&mut self, disabled: bool) {
        if disabled {
            self.section.set("Enabled", "no");
        } else {
            let _ = self.section.del("Enabled");
        }
    }

    /// The `Trusted` field as a boolean.
    pub fn trusted(&self) -> Result<Option<bool>> {
        self.section.get("Trusted").map(string_to_bool).transpose()
    }

    fn set_trusted(&mut self, v: &Value) -> Result<()> {
        let word = match v {
            Value::Bool(b) => Some(*b),
            Value::Int(i) if *i == 0 || *i == 1 => Some(*i == 1),
            Value::Str(s) => Some(string_to_bool(s)?),
            _ => None,
        };
        match word {
            Some(b) => self.section.set("Trusted", if b { "yes" } else { "no" }),
            None => {
                let _ = self.section.del("Trusted");
            }
        }
        Ok(())
    }

    /// The header comment (Salt's `comment` setter): each line prefixed `#` unless all
    /// already are.
    fn set_comment(&mut self, comment: &str) {
        let lines: Vec<&str> = py_splitlines(comment);
        self.section.header = if lines.iter().all(|l| l.starts_with('#')) {
            lines.iter().map(|l| l.to_string()).collect()
        } else {
            lines.iter().map(|l| format!("#{l}")).collect()
        };
    }

    /// Set a deb822 property (`types`, `uris`, `comps`, ...) as Salt's `__setattr__`:
    /// `None` deletes the field, list properties are space-joined.
    fn set_prop(&mut self, name: &str, v: &Value) -> Result<()> {
        let (key, multi) = match name {
            "architectures" => ("Architectures", true),
            "types" => ("Types", true),
            "type" => ("Types", false),
            "uris" => ("URIs", true),
            "uri" => ("URIs", false),
            "suites" => ("Suites", true),
            "dist" => ("Suites", false),
            "comps" => ("Components", true),
            "signedby" => ("Signed-By", false),
            _ => return Ok(()),
        };
        if v.is_null() {
            return self.section.del(key);
        }
        let text = if multi { py_join(v)? } else { v.py_str() };
        self.section.set(key, &text);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Entries.

/// One entry of the sources: a line of a one-line file or a stanza of a `.sources` file.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A one-line entry (or an opaque line).
    Line(OneLine),
    /// A deb822 stanza (or a comment-only paragraph).
    Stanza(Stanza),
}

impl Entry {
    /// The file the entry is written to.
    pub fn file(&self) -> &str {
        match self {
            Entry::Line(l) => &l.file,
            Entry::Stanza(s) => &s.file,
        }
    }

    /// Not a source (an opaque line, a paragraph without fields).
    pub fn invalid(&self) -> bool {
        match self {
            Entry::Line(l) => l.invalid,
            Entry::Stanza(s) => !s.section.has_tags(),
        }
    }

    /// Disabled (commented out / `Enabled: no`).
    pub fn disabled(&self) -> Result<bool> {
        match self {
            Entry::Line(l) => Ok(l.disabled),
            Entry::Stanza(s) => s.disabled(),
        }
    }

    /// `type`: the one-line type, or the raw `Types` field (`None` when absent).
    pub fn type_opt(&self) -> Option<String> {
        match self {
            Entry::Line(l) => Some(l.typ.clone()),
            Entry::Stanza(s) => s.single("Types"),
        }
    }

    /// `uri`: the one-line URI, or the raw `URIs` field.
    pub fn uri_opt(&self) -> Option<String> {
        match self {
            Entry::Line(l) => Some(l.uri.clone()),
            Entry::Stanza(s) => s.single("URIs"),
        }
    }

    /// `dist`: the one-line suite, or the raw `Suites` field.
    pub fn dist_opt(&self) -> Option<String> {
        match self {
            Entry::Line(l) => Some(l.dist.clone()),
            Entry::Stanza(s) => s.single("Suites"),
        }
    }

    /// The types.
    pub fn types(&self) -> Vec<String> {
        match self {
            Entry::Line(l) => vec![l.typ.clone()],
            Entry::Stanza(s) => s.multi("Types"),
        }
    }

    /// The URIs.
    pub fn uris(&self) -> Vec<String> {
        match self {
            Entry::Line(l) => vec![l.uri.clone()],
            Entry::Stanza(s) => s.multi("URIs"),
        }
    }

    /// The suites.
    pub fn suites(&self) -> Vec<String> {
        match self {
            Entry::Line(l) => l.suites(),
            Entry::Stanza(s) => s.multi("Suites"),
        }
    }

    /// The components.
    pub fn comps(&self) -> Vec<String> {
        match self {
            Entry::Line(l) => l.comps.clone(),
            Entry::Stanza(s) => s.multi("Components"),
        }
    }

    /// The architectures.
    pub fn architectures(&self) -> Vec<String> {
        match self {
            Entry::Line(l) => l.architectures.clone(),
            Entry::Stanza(s) => s.multi("Architectures"),
        }
    }

    /// `signedby`: a one-line entry's string (`""` when none), a stanza's `Signed-By`
    /// (`None` when absent).
    pub fn signedby(&self) -> Value {
        match self {
            Entry::Line(l) => Value::Str(l.signedby.clone()),
            Entry::Stanza(s) => s.single("Signed-By").map_or(Value::Null, Value::Str),
        }
    }

    /// `trusted`.
    pub fn trusted(&self) -> Result<Option<bool>> {
        match self {
            Entry::Line(l) => Ok(l.trusted),
            Entry::Stanza(s) => s.trusted(),
        }
    }

    /// The line (or paragraph) the entry was read from.
    pub fn original_line(&self) -> &str {
        match self {
            Entry::Line(l) => &l.line,
            Entry::Stanza(s) => &s.line,
        }
    }

    /// The entry as written (`str(entry)`).
    pub fn render(&self) -> Result<String> {
        match self {
            Entry::Line(l) => l.render(),
            Entry::Stanza(s) => Ok(s.section.render().trim().to_string()),
        }
    }

    fn set_comment(&mut self, comment: &str) {
        match self {
            Entry::Line(l) => l.comment = comment.to_string(),
            Entry::Stanza(s) => s.set_comment(comment),
        }
    }

    fn set_suites(&mut self, suites: Vec<String>) -> Result<()> {
        match self {
            Entry::Line(l) => {
                if suites.len() > 1 {
                    return Err(py_err(
                        "Only one suite is possible for non deb822 source entry",
                    ));
                }
                l.dist = suites.into_iter().next().unwrap_or_default();
                Ok(())
            }
            Entry::Stanza(s) => {
                s.section.set("Suites", &suites.join(" "));
                Ok(())
            }
        }
    }

    fn set_comps(&mut self, comps: Vec<String>) {
        match self {
            Entry::Line(l) => l.comps = comps,
            Entry::Stanza(s) => s.section.set("Components", &comps.join(" ")),
        }
    }

    /// Python's `setattr(entry, key, value)` for the keys `pkg.mod_repo` sets.
    fn set_attr(&mut self, key: &str, v: &Value) -> Result<()> {
        match self {
            Entry::Line(l) => l.set_attr(key, v),
            Entry::Stanza(s) => match key {
                "file" => {
                    s.file = v.py_str();
                    Ok(())
                }
                "disabled" => {
                    s.set_disabled(v.is_truthy());
                    Ok(())
                }
                "trusted" => s.set_trusted(v),
                _ => s.set_prop(key, v),
            },
        }
    }
}

/// Salt's `__eq__` of `a` (the list's element) against `b`: same disabled flag, type,
/// URI(s) (trailing `/` ignored), suite(s) and component list.
fn salt_eq(a: &Entry, b: &Entry) -> Result<bool> {
    if a.disabled()? != b.disabled()? || a.type_opt() != b.type_opt() {
        return Ok(false);
    }
    match a {
        Entry::Line(l) => {
            let other = b
                .uri_opt()
                .ok_or_else(|| py_err("'NoneType' object has no attribute 'rstrip'"))?;
            if l.uri.trim_end_matches('/') != other.trim_end_matches('/') {
                return Ok(false);
            }
        }
        Entry::Stanza(_) => {
            let set = |e: &Entry| {
                e.uris()
                    .iter()
                    .map(|u| u.trim_end_matches('/').to_string())
                    .collect::<std::collections::BTreeSet<_>>()
            };
            if set(a) != set(b) {
                return Ok(false);
            }
        }
    }
    Ok(a.dist_opt() == b.dist_opt() && a.comps() == b.comps())
}

// ---------------------------------------------------------------------------------------
// The sources list.

/// Every entry of the apt sources (Salt's `SourcesList`), in load order. Entries keep an
/// identity (their index in the store) so that removal follows Salt's `list.remove`
/// (the first *equal* entry goes).
#[derive(Debug, Clone)]
pub struct SourcesList {
    store: Vec<Entry>,
    order: Vec<usize>,
    paths: AptPaths,
}

impl SourcesList {
    /// Load `sources.list`, then each `*.list` / `*.sources` regular file of the parts
    /// directory in directory order.
    pub fn load(paths: &AptPaths) -> Self {
        let mut s = SourcesList {
            store: Vec::new(),
            order: Vec::new(),
            paths: paths.clone(),
        };
        if paths.sources_list.is_file() {
            s.load_file(&paths.sources_list);
        }
        if paths.partsdir.is_dir() {
            match std::fs::read_dir(&paths.partsdir) {
                Ok(dir) => {
                    for ent in dir.flatten() {
                        let name = ent.file_name();
                        let Some(name) = name.to_str() else { continue };
                        if name.ends_with(".sources") || name.ends_with(".list") {
                            let path = paths.partsdir.join(name);
                            if path.is_file() {
                                s.load_file(&path);
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(dir = %paths.partsdir.display(), error = %e, "Could not list apt sources directory");
                }
            }
        }
        s
    }

    /// An empty list (nothing loaded).
    pub fn empty(paths: &AptPaths) -> Self {
        SourcesList {
            store: Vec::new(),
            order: Vec::new(),
            paths: paths.clone(),
        }
    }

    /// Salt's `load(file)`: a line that raises stops the loading of the rest of the file
    /// (logged, as Salt does).
    fn load_file(&mut self, path: &Path) {
        let file = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(file = %file, error = %e, "Could not parse source file");
                return;
            }
        };
        let (text, decode_error) = match String::from_utf8(bytes) {
            Ok(t) => (t, false),
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                let prefix = String::from_utf8_lossy(&bytes[..valid]).into_owned();
                // Only complete lines before the undecodable byte.
                let cut = prefix.rfind(['\n', '\r']).map_or(0, |i| i + 1);
                (prefix[..cut].to_string(), true)
            }
        };
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        if file.ends_with(".sources") {
            if decode_error {
                tracing::error!(file = %file, "Could not parse source file");
                return;
            }
            for section in deb822_sections(&text) {
                self.push(Entry::Stanza(Stanza::new(section, &file)));
            }
            return;
        }
        for line in text.split_inclusive('\n') {
            match OneLine::parse(line, &file) {
                Ok(e) => {
                    self.push(Entry::Line(e));
                }
                Err(e) => {
                    tracing::error!(file = %file, error = %e, "Could not parse source file");
                    return;
                }
            }
        }
        if decode_error {
            tracing::error!(file = %file, "Could not parse source file");
        }
    }

    /// Append an entry; returns its identity.
    pub fn push(&mut self, e: Entry) -> usize {
        self.store.push(e);
        let id = self.store.len() - 1;
        self.order.push(id);
        id
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.order.iter().filter_map(|&i| self.store.get(i))
    }

    /// The identities of the entries in order.
    pub fn ids(&self) -> Vec<usize> {
        self.order.clone()
    }

    /// An entry by identity (also one already removed from the list).
    pub fn get(&self, id: usize) -> Option<&Entry> {
        self.store.get(id)
    }

    fn entry(&self, id: usize) -> Result<&Entry> {
        self.store
            .get(id)
            .ok_or_else(|| py_err(format!("no source entry {id}")))
    }

    fn entry_mut(&mut self, id: usize) -> Result<&mut Entry> {
        self.store
            .get_mut(id)
            .ok_or_else(|| py_err(format!("no source entry {id}")))
    }

    /// Python's `list.remove(entry)`: the first element that is the entry or equal to it
    /// goes; `false` when none is (Salt's callers ignore that `ValueError`).
    pub fn remove(&mut self, id: usize) -> Result<bool> {
        let target = self.entry(id)?.clone();
        for pos in 0..self.order.len() {
            let i = self.order[pos];
            let equal = i == id || salt_eq(self.entry(i)?, &target)?;
            if equal {
                self.order.remove(pos);
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The file contents [`Self::save`] would write, in write order.
    pub fn rendered(&self) -> Result<IndexMap<String, String>> {
        let mut files: IndexMap<String, String> = IndexMap::new();
        for e in self.iter() {
            let text = e.render()?;
            match files.get_mut(e.file()) {
                None => {
                    files.insert(e.file().to_string(), format!("{text}\n"));
                }
                Some(buf) => {
                    if matches!(e, Entry::Stanza(_)) {
                        buf.push('\n');
                    }
                    buf.push_str(&text);
                    buf.push('\n');
                }
            }
        }
        Ok(files)
    }

    /// Salt's `save()`: every file with at least one entry rewritten (deb822 stanzas
    /// separated by a blank line); with no entry at all, `sources.list` gets Salt's
    /// three-line header (skipped when its directory is missing).
    pub fn save(&self) -> Result<()> {
        if self.order.is_empty() {
            let path = &self.paths.sources_list;
            if path.parent().is_some_and(|d| !d.is_dir()) {
                return Ok(());
            }
            return write_file(path, EMPTY_HEADER.as_bytes());
        }
        for (file, content) in self.rendered()? {
            write_file(Path::new(&file), content.as_bytes())?;
        }
        Ok(())
    }
}

/// Salt's `load_deb822_sections`: paragraphs separated by whitespace-only lines.
fn deb822_sections(text: &str) -> Vec<Section> {
    let mut sections = Vec::new();
    let mut cur = String::new();
    for line in text.split_inclusive('\n') {
        let blank = !line.is_empty() && line.chars().all(char::is_whitespace);
        if !blank {
            cur.push_str(line);
        } else if !cur.is_empty() {
            sections.push(Section::parse(&cur));
            cur.clear();
        }
    }
    if !cur.is_empty() {
        sections.push(Section::parse(&cur));
    }
    sections
}

/// Write `data` to `path` atomically (through a symlink to its target), unless the file
/// already holds exactly that.
fn write_file(path: &Path, data: &[u8]) -> Result<()> {
    let target = if path.is_symlink() {
        std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
    } else {
        path.to_path_buf()
    };
    if std::fs::read(&target).ok().as_deref() == Some(data) {
        return Ok(());
    }
    let shown = path.display().to_string();
    if target
        .parent()
        .is_none_or(|d| !d.as_os_str().is_empty() && !d.is_dir())
        || target.as_os_str().is_empty()
    {
        return Err(os_error(
            &std::io::Error::from_raw_os_error(libc::ENOENT),
            &shown,
        ));
    }
    crate::modules::file::atomic_write(&target, data, None).map_err(|e| match e {
        Error::Io { path, message } => Error::Io {
            message: format!("{message}: {}", py_str_repr(&path)),
            path,
        },
        other => other,
    })
}

// ---------------------------------------------------------------------------------------
// list_repos / get_repo.

/// The one-line form of a deb822 entry for one type × URI × suite, as `list_repos`
/// shows it (a missing `Signed-By` prints as `signed-by=None`, as in Salt).
fn compat_line(default_file: &str, t: &str, uri: &str, suite: &str, s: &Stanza) -> Result<String> {
    let comps = s.multi("Components");
    let mut c = OneLine::parse(
        &format!("{t} {uri} {suite} {}", comps.join(" ")),
        default_file,
    )?;
    c.disabled = s.disabled()?;
    c.architectures = s.multi("Architectures");
    c.signedby = s.single("Signed-By").unwrap_or_else(|| "None".into());
    c.trusted = s.trusted()?;
    c.render()
}

/// `pkg.list_repos` of a loaded list: URI → the repo dicts of every valid entry (deb822
/// entries expanded per URI × suite × type).
pub fn repos_map(sources: &SourcesList) -> Result<Map> {
    let default = sources.paths.default_file();
    let mut out = Map::default();
    for e in sources.iter() {
        if e.invalid() {
            continue;
        }
        let (uris, suites, types) = (e.uris(), e.suites(), e.types());
        for uri in &uris {
            for suite in &suites {
                for t in &types {
                    let line = match e {
                        Entry::Stanza(s) => compat_line(&default, t, uri, suite, s)?,
                        Entry::Line(l) => l.line.trim().to_string(),
                    };
                    let disabled = e.disabled()?;
                    let mut m = Map::default();
                    m.insert("file".into(), e.file().into());
                    m.insert("comps".into(), list_value(&e.comps()));
                    m.insert("disabled".into(), Value::Bool(disabled));
                    m.insert("enabled".into(), Value::Bool(!disabled));
                    m.insert("dist".into(), suite.as_str().into());
                    m.insert("suites".into(), list_value(&suites));
                    m.insert("type".into(), t.as_str().into());
                    m.insert("types".into(), list_value(&types));
                    m.insert("uri".into(), uri.as_str().into());
                    m.insert("uris".into(), list_value(&uris));
                    m.insert("line".into(), line.into());
                    m.insert("architectures".into(), list_value(&e.architectures()));
                    m.insert("signedby".into(), e.signedby());
                    let slot = out
                        .entry(Value::Str(uri.clone()))
                        .or_insert_with(|| Value::List(Vec::new()));
                    if let Value::List(l) = slot {
                        l.push(Value::Map(m));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// `pkg.list_repos`.
pub fn list_repos(paths: &AptPaths) -> Result<Map> {
    repos_map(&SourcesList::load(paths))
}

/// `pkg.get_repo` on a loaded list: the first repo with the name's type, URI (trailing
/// `/` ignored) and suite that has one of the name's components (or any, when the name
/// has none); `{}` when none. Architectures, options, file and disabled are not compared.
pub fn get_repo_in(sources: &SourcesList, repo: &str) -> Result<Map> {
    let repos = repos_map(sources)?;
    if repos.is_empty() {
        return Ok(Map::default());
    }
    let want = OneLine::parse(repo, &sources.paths.default_file())?;
    let want_uri = want.uri.trim_end_matches('/');
    for subs in repos.values() {
        let Value::List(subs) = subs else { continue };
        for sub in subs {
            let Value::Map(sub) = sub else { continue };
            let field = |k: &str| sub.get(k).map(Value::py_str).unwrap_or_default();
            if field("type") == want.typ
                && field("uri").trim_end_matches('/') == want_uri
                && field("dist") == want.dist
            {
                if want.comps.is_empty() {
                    return Ok(sub.clone());
                }
                let comps = sub.get("comps").map(value_strings).unwrap_or_default();
                if want.comps.iter().any(|c| comps.contains(c)) {
                    return Ok(sub.clone());
                }
            }
        }
    }
    Ok(Map::default())
}

/// `pkg.get_repo`.
pub fn get_repo(paths: &AptPaths, repo: &str) -> Result<Map> {
    get_repo_in(&SourcesList::load(paths), repo)
}

// ---------------------------------------------------------------------------------------
// _expand_repo_def.

/// The arguments of Salt's `SourcesList.add` that `_expand_repo_def` uses.
struct NewEntry<'a> {
    typ: &'a str,
    uri: &'a str,
    dist: &'a str,
    comps: &'a [String],
    architectures: &'a [String],
    file: Option<&'a Value>,
    signedby: &'a str,
    suites: Option<&'a Value>,
    trusted: Option<&'a Value>,
    types: Option<&'a Value>,
    uris: Option<&'a Value>,
}

/// A non-empty list argument as strings.
fn nonempty_list(v: Option<&Value>) -> Option<Vec<String>> {
    match v {
        Some(Value::List(l)) if !l.is_empty() => Some(l.iter().map(Value::py_str).collect()),
        _ => None,
    }
}

/// Salt's `SourcesList.add` (without appending): a deb822 stanza for a `.sources` file,
/// else a one-line entry built as `#? type [arch=.. signed-by=.. trusted=yes] uri dist comps`.
fn new_entry(a: &NewEntry, default_file: &str) -> Result<Entry> {
    let t = a.typ.trim();
    let disabled = t.starts_with('#');
    let t = if disabled { t[1..].trim_start() } else { t };
    let file = match a.file {
        None | Some(Value::Null) => default_file.to_string(),
        Some(v) => v.py_str(),
    };
    if file.ends_with(".sources") {
        let mut st = Stanza::new(Section::default(), &file);
        let types = nonempty_list(a.types).unwrap_or_else(|| vec![t.to_string()]);
        let uris = nonempty_list(a.uris).unwrap_or_else(|| vec![a.uri.to_string()]);
        let suites = nonempty_list(a.suites).unwrap_or_else(|| vec![a.dist.to_string()]);
        st.section.set("Types", &types.join(" "));
        st.section.set("URIs", &uris.join(" "));
        st.section.set("Suites", &suites.join(" "));
        st.section.set("Components", &a.comps.join(" "));
        if !a.architectures.is_empty() {
            st.section.set("Architectures", &a.architectures.join(" "));
        }
        st.section.header = vec![String::new()];
        st.set_disabled(disabled);
        if !a.signedby.is_empty() {
            st.section.set("Signed-By", a.signedby);
        }
        if let Some(v) = a.trusted {
            if !matches!(v, Value::Bool(false)) {
                st.set_trusted(v)?;
            }
        }
        return Ok(Entry::Stanza(st));
    }
    let mut ext: Vec<String> = Vec::new();
    if !a.architectures.is_empty() {
        ext.push(format!("arch={}", a.architectures.join(",")));
    }
    if !a.signedby.is_empty() {
        ext.push(format!("signed-by={}", a.signedby));
    }
    if a.trusted.is_some_and(Value::is_truthy) {
        ext.push("trusted=yes".into());
    }
    let bracket = if ext.is_empty() {
        String::new()
    } else {
        format!("[{}]", ext.join(" "))
    };
    let mut parts: Vec<&str> = vec![if disabled { "#" } else { "" }, t, &bracket, a.uri, a.dist];
    parts.extend(a.comps.iter().map(String::as_str));
    let line = parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        + "\n";
    let mut e = OneLine::parse(&line, default_file)?;
    e.file = file;
    Ok(Entry::Line(e))
}

/// Salt's `_expand_repo_def`: the entry `pkgrepo.managed` wants, as the dict it compares
/// with `get_repo` (keys `file, comps, disabled, dist, suites, type, types, uri, uris, line,
/// architectures, signedby`). `architectures`/`comps` arguments (comma lists) replace the
/// name's; `uri, comps, architectures, disabled, file, dist, signedby, trusted` override.
/// Options of the name other than `arch`/`signed-by` are dropped; a `.sources` file gives
/// a stanza whose `line` is the stanza text.
pub fn expand_repo_def(paths: &AptPaths, repo: &str, kwargs: &Map) -> Result<Map> {
    let default = paths.default_file();
    let mut kw = kwargs.clone();
    for key in ["architectures", "comps"] {
        if let Some(v) = kw.get(key).cloned() {
            kw.insert(key.into(), list_value(&comma_list(&v)?));
        }
    }
    let mut se = OneLine::parse(repo, &default)?;
    for key in MODIFY_OK_LEGACY {
        if let Some(v) = kw.get(key) {
            se.set_attr(key, v)?;
        }
    }
    let mut entry = new_entry(
        &NewEntry {
            typ: &se.typ,
            uri: &se.uri,
            dist: &se.dist,
            comps: &se.comps,
            architectures: &se.architectures,
            file: kw.get("file"),
            signedby: &se.signedby,
            suites: kw.get("suites"),
            trusted: kw.get("trusted"),
            types: kw.get("types"),
            uris: kw.get("uris"),
        },
        &default,
    )?;
    match &mut entry {
        Entry::Stanza(s) => s.set_disabled(se.disabled),
        Entry::Line(l) => {
            l.disabled = se.disabled;
            l.line = l.repo_line()?;
        }
    }
    let type_value = entry.type_opt().map_or(Value::Null, Value::Str);
    let uri_value = entry.uri_opt().map_or(Value::Null, Value::Str);
    let dist_value = entry.dist_opt().map_or(Value::Null, Value::Str);
    let mut m = Map::default();
    m.insert("file".into(), entry.file().into());
    m.insert("comps".into(), list_value(&entry.comps()));
    m.insert("disabled".into(), Value::Bool(entry.disabled()?));
    m.insert("dist".into(), dist_value);
    m.insert("suites".into(), list_value(&entry.suites()));
    m.insert("type".into(), type_value);
    m.insert("types".into(), list_value(&entry.types()));
    m.insert("uri".into(), uri_value);
    m.insert("uris".into(), list_value(&entry.uris()));
    m.insert("line".into(), entry.render()?.into());
    m.insert("architectures".into(), list_value(&entry.architectures()));
    m.insert("signedby".into(), se.signedby.clone().into());
    Ok(m)
}

// ---------------------------------------------------------------------------------------
// mod_repo.

/// Salt's `_consolidate_repo_sources`: valid entries with the same (architectures,
/// disabled, type, URI, suite) merged into one entry of `sources.list` (components
/// unioned, in first-seen order where Salt's set order is arbitrary), opaque lines
/// dropped, saved, and the other files deleted.
fn consolidate(sources: &mut SourcesList) -> Result<()> {
    let base = sources.paths.default_file();
    let mut merged: IndexMap<String, OneLine> = IndexMap::new();
    let mut delete: Vec<String> = Vec::new();
    for e in sources.iter() {
        if e.invalid() {
            continue;
        }
        let key = format!(
            "{:?}",
            (
                e.architectures(),
                e.disabled()?,
                e.type_opt(),
                e.uri_opt(),
                e.dist_opt()
            )
        );
        match merged.get_mut(&key) {
            Some(m) => {
                for c in e.comps() {
                    if !m.comps.contains(&c) {
                        m.comps.push(c);
                    }
                }
            }
            None => {
                merged.insert(key, OneLine::parse(e.original_line(), &base)?);
            }
        }
        if e.file() != base && !delete.iter().any(|f| f == e.file()) {
            delete.push(e.file().to_string());
        }
    }
    let mut fresh = SourcesList::empty(&sources.paths);
    for (_, e) in merged {
        fresh.push(Entry::Line(e));
    }
    *sources = fresh;
    sources.save()?;
    for f in delete {
        let _ = std::fs::remove_file(f);
    }
    Ok(())
}

/// `cp.cache_file(url, saltenv)` for a key URL: local paths and `file://` are used in
/// place (not checked, as Salt's fileclient), `salt://` goes through the execution
/// functions; `None` is Salt's `False`.
fn cache_key_file(ctx: &AptCtx, url: &str, saltenv: &str) -> Result<Option<String>> {
    let lower = url.to_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Err(Error::CommandExecution(
            "'key_url' over http is not available".into(),
        ));
    }
    if url.starts_with("salt://") {
        let functions = ctx
            .functions
            .ok_or_else(|| Error::NotAvailable("cp.cache_file".into()))?;
        let v = functions.call(
            "cp.cache_file",
            &[Value::from(url), Value::from(saltenv)],
            &Map::default(),
        )?;
        return Ok(v.as_str().filter(|s| !s.is_empty()).map(str::to_string));
    }
    let path = match url.split_once("://") {
        Some(("file", rest)) => {
            // urlparse: netloc up to the next `/`; os.path.join(netloc, path).
            let (netloc, p) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, ""),
            };
            if p.starts_with('/') || netloc.is_empty() {
                p.to_string()
            } else {
                format!("{netloc}/{p}")
            }
        }
        Some((scheme, _)) if !scheme.is_empty() && !scheme.contains('/') => {
            return Err(Error::CommandExecution(format!(
                "'key_url' over {scheme} is not available"
            )));
        }
        _ => url.to_string(),
    };
    let path = path.trim_end_matches('/').to_string();
    if !path.starts_with('/') {
        return Err(Error::CommandExecution(format!(
            "Path '{path}' is not absolute"
        )));
    }
    Ok(Some(path))
}

/// Salt's `_decrypt_key`: an ASCII-armored key is dearmored with gpg into
/// `{key}.decrypted` (left beside it) unless the destination ends in `.asc`; `None` when
/// it is armored and gpg is missing.
fn decrypt_key(key: &str, keyfile: &str) -> Result<Option<String>> {
    let data = std::fs::read(key).map_err(|e| os_error(&e, key))?;
    let Ok(text) = String::from_utf8(data) else {
        return Ok(Some(key.to_string()));
    };
    if !text.trim_matches('-').starts_with("BEGIN PGP") {
        return Ok(Some(key.to_string()));
    }
    if keyfile.ends_with(".asc") {
        return Ok(Some(key.to_string()));
    }
    if which("gpg").is_none() {
        tracing::error!(key = %key, "Detected an ASCII armored key and the gpg binary is not available. Not decrypting the key.");
        return Ok(None);
    }
    let decrypted = format!("{key}.decrypted");
    let out = apt::run(&apt::argv(&[
        "gpg",
        "--yes",
        "--output",
        &decrypted,
        "--dearmor",
        key,
    ]))?;
    if out.retcode != 0 {
        tracing::error!(key = %key, stderr = %out.stderr, "Failed to decrypt the key");
    }
    Ok(Some(decrypted))
}

/// Make the key directory (0755) when missing; `false` (logged) when that fails.
fn ensure_keydir(keydir: &str) -> bool {
    if Path::new(keydir).is_dir() {
        return true;
    }
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(keydir)
    {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(dir = %keydir, error = %e, "The key directory does not exist and could not be created. Please create this directory writable only by root.");
            false
        }
    }
}

/// Salt's `shutil.copyfile` + `chmod 0644`, written atomically.
fn copy_key(src: &str, dest: &str) -> Result<()> {
    let same = match (std::fs::metadata(src), std::fs::metadata(dest)) {
        (Ok(a), Ok(b)) => {
            use std::os::unix::fs::MetadataExt;
            a.dev() == b.dev() && a.ino() == b.ino()
        }
        _ => false,
    };
    if same {
        return Err(py_err(format!(
            "{} and {} are the same file",
            py_str_repr(src),
            py_str_repr(dest)
        )));
    }
    let data = std::fs::read(src).map_err(|e| os_error(&e, src))?;
    crate::modules::file::atomic_write(Path::new(dest), &data, Some(0o644))
}

/// Salt's `add_repo_key(path=..., aptkey=False, keydir=...)`: the key (dearmored when
/// armored) copied into the key directory, mode 0644.
fn add_key_file(ctx: &AptCtx, path: &str, keydir: &str, saltenv: &str) -> Result<bool> {
    if !ensure_keydir(keydir) {
        return Ok(false);
    }
    let Some(cached) = cache_key_file(ctx, path, saltenv)? else {
        tracing::error!(path = %path, "Unable to get cached copy of file");
        return Ok(false);
    };
    let dest_name = path_name(&pure_path(&cached)).to_string();
    let Some(key) = decrypt_key(&cached, &dest_name)? else {
        return Ok(false);
    };
    let key_path = pure_path(&key);
    let mut keyfile = path_name(&key_path).to_string();
    if let Some(stripped) = keyfile.strip_suffix(".decrypted") {
        keyfile = stripped.to_string();
    }
    let dest = path_join(&pure_path(keydir), &keyfile);
    copy_key(&key, &dest)?;
    Ok(true)
}

/// Salt's `_parse_repo_keys_output`: the key ids of the `pub` lines of gpg's
/// `--with-colons` listing (numeric ids lose leading zeros, as `int()` does in Salt).
fn parse_key_ids(text: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let items: Vec<&str> = line.split(':').map(str::trim).collect();
        if items.len() < 2 || items[0] != "pub" {
            continue;
        }
        let id = match items.get(4) {
            Some(&"") => "None".to_string(),
            Some(s) => super::pystr::py_int(s).map_or_else(|| s.to_string(), |i| i.to_string()),
            None => continue,
        };
        ids.push(id);
    }
    ids
}

/// gpg's `--list-keys --with-colons` of one keyring file.
fn list_keyring(file: &Path) -> Result<String> {
    let f = file.display().to_string();
    Ok(apt::run(&apt::argv(&[
        "gpg",
        "--no-default-keyring",
        "--keyring",
        &f,
        "--list-keys",
        "--with-colons",
    ]))?
    .stdout)
}

/// Salt's `get_repo_keys(aptkey=False, keydir)`: the key ids of every file of the key
/// directory (their listings joined by a space, as Salt does); `None` when the directory
/// is missing.
fn keydir_key_ids(keydir: &str) -> Result<Option<Vec<String>>> {
    if !Path::new(keydir).is_dir() {
        tracing::error!(dir = %keydir, "The directory does not exist. Please create this directory only writable by root");
        return Ok(None);
    }
    let mut outputs = Vec::new();
    let dir = std::fs::read_dir(keydir).map_err(|e| os_error(&e, keydir))?;
    for ent in dir.flatten() {
        outputs.push(list_keyring(&ent.path())?);
    }
    Ok(Some(parse_key_ids(&outputs.join(" "))))
}

/// The `keyid`/`keyserver` step of `pkg.mod_repo`.
fn handle_keyid(ctx: &AptCtx, kw: &mut Map, aptkey: bool, signedby: Option<&str>) -> Result<()> {
    let keyid = kw.shift_remove("keyid").unwrap_or(Value::Null);
    let keyserver = kw.shift_remove("keyserver").unwrap_or(Value::Null);
    if !keyid.is_truthy() || !keyserver.is_truthy() {
        return Err(py_err("both keyserver and keyid options required."));
    }
    let keyserver = keyserver.py_str();
    let keys: Vec<Value> = match keyid {
        Value::List(l) => l,
        other => vec![other],
    };
    for key in keys {
        let key = match key {
            Value::Int(i) if i < 0 => format!("-0x{:x}", i.unsigned_abs()),
            Value::Int(i) => format!("0x{i:x}"),
            other => other.py_str(),
        };
        let imported = if !aptkey {
            let Some(sb) = signedby else {
                return Err(py_err("'str' object has no attribute 'parent'"));
            };
            match keydir_key_ids(&path_parent(sb))? {
                Some(ids) => ids.contains(&key),
                None => return Err(py_err("'bool' object has no attribute 'get'")),
            }
        } else {
            apt::run(&apt::argv(&["apt-key", "export", &key]))?
                .stdout
                .starts_with("-----BEGIN PGP")
        };
        if imported {
            continue;
        }
        if !ctx.http_proxy.is_empty() && !ctx.no_proxy.contains(&keyserver) {
            // Salt builds the proxied `apt-key adv` command here and never runs it.
            continue;
        }
        if !aptkey {
            let sb = signedby.unwrap_or_default();
            if !add_key_keyserver(&key, &keyserver, &path_parent(sb), sb)? {
                return Err(py_err(format!("Error: Could not add key: {key}")));
            }
        } else {
            let out = apt::run(&apt::argv(&[
                "apt-key",
                "adv",
                "--batch",
                "--keyserver",
                &keyserver,
                "--logger-fd",
                "1",
                "--recv-keys",
                &key,
            ]))?;
            if out.retcode != 0 {
                return Err(py_err(format!(
                    "Error: key retrieval failed: {}",
                    out.stdout
                )));
            }
        }
    }
    Ok(())
}

/// Salt's `add_repo_key(keyid=..., keyserver=..., aptkey=False, keydir, keyfile)`.
fn add_key_keyserver(keyid: &str, keyserver: &str, keydir: &str, keyfile: &str) -> Result<bool> {
    if !ensure_keydir(keydir) {
        return Ok(false);
    }
    if let Some(ids) = keydir_key_ids(keydir)? {
        if ids.iter().any(|k| k.ends_with(keyid)) {
            return Ok(true);
        }
    }
    let keyring = path_join(keydir, keyfile);
    let out = apt::run(&apt::argv(&[
        "gpg",
        "--no-default-keyring",
        "--keyring",
        &keyring,
        "--keyserver",
        keyserver,
        "--recv-keys",
        keyid,
    ]))?;
    if out.retcode == 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&keyring, std::fs::Permissions::from_mode(0o644))
            .map_err(|e| os_error(&e, &keyring))?;
        return Ok(true);
    }
    tracing::error!(stderr = %out.stderr, "Unable to add repo key");
    Ok(false)
}

/// The `key_url` step of `pkg.mod_repo`.
fn handle_key_url(
    ctx: &AptCtx,
    key_url: &Value,
    saltenv: &str,
    aptkey: bool,
    signedby: Option<&str>,
) -> Result<()> {
    let url = key_url.py_str();
    let cached = cache_key_file(ctx, &url, saltenv)?
        .ok_or_else(|| py_err("expected str, bytes or os.PathLike object, not bool"))?;
    let mut fn_ = pure_path(&cached);
    if let Some(sb) = signedby {
        if path_name(&fn_) != path_name(sb) {
            let new = path_join(&path_parent(&fn_), path_name(sb));
            std::fs::rename(&fn_, &new).map_err(|e| {
                let Error::Io { path, message } = os_error(&e, &fn_) else {
                    return py_err(e.to_string());
                };
                Error::Io {
                    path,
                    message: format!("{message} -> {}", py_str_repr(&new)),
                }
            })?;
            fn_ = new;
        }
    }
    if !aptkey {
        let keydir = signedby.map_or_else(|| ctx.paths.keyrings.display().to_string(), path_parent);
        if !add_key_file(ctx, &fn_, &keydir, saltenv)? {
            return Err(py_err(format!("Error: Could not add key: {fn_}")));
        }
        return Ok(());
    }
    let out = apt::run(&apt::argv(&["apt-key", "add", &fn_]))?;
    if !out.stdout.to_uppercase().starts_with("OK") {
        return Err(py_err(format!("Error: failed to add key from {url}")));
    }
    Ok(())
}

/// The `key_text` step of `pkg.mod_repo`: always `apt-key add -` (Salt does not look at
/// `aptkey` here).
fn handle_key_text(text: &Value) -> Result<()> {
    let text = text.py_str();
    let out = apt::run_input(&apt::argv(&["apt-key", "add", "-"]), &text)?;
    if !out.stdout.to_uppercase().starts_with("OK") {
        return Err(py_err(format!("Error: failed to add key:\n{text}")));
    }
    Ok(())
}

/// `pkg.mod_repo(repo, saltenv, aptkey, **kwargs)`: add or modify the entry `repo` and
/// save every source file; then `refresh_db` unless `refresh`/`refresh_db` is false.
/// Returns `{repo: get_repo(repo)}`.
///
/// The entry modified is the first valid one with the name's type, URI and suite (or the
/// `type`/`dist` arguments) that shares a component with it, has none, or has other
/// architectures; a one-line entry's line becomes the name (its old options are lost).
/// Otherwise a new entry is appended to `file` (default `sources.list`; a `.sources`
/// file gets a stanza). Keys (`keyid`+`keyserver`, `key_url`, `key_text`) are handled only
/// here, i.e. only when the state decided to change the repo.
pub fn mod_repo(
    ctx: &AptCtx,
    repo: &str,
    saltenv: &str,
    aptkey: bool,
    kwargs: &Map,
) -> Result<Map> {
    let mut kw = kwargs.clone();
    let refresh = match kw.get("refresh_db") {
        Some(v) => v.is_truthy(),
        None => kw.get("refresh").is_none_or(Value::is_truthy),
    };
    let aptkey = aptkey && ctx.apt_key_available();
    if repo.starts_with("ppa:") {
        return Err(Error::CommandExecution(format!(
            "cannot parse \"ppa:\" style repo definitions: {repo}"
        )));
    }
    let default = ctx.paths.default_file();
    let mut sources = SourcesList::load(&ctx.paths);
    if kw.get("consolidate").is_some_and(Value::is_truthy) {
        consolidate(&mut sources)?;
    }
    let repos: Vec<usize> = sources
        .ids()
        .into_iter()
        .filter(|&id| match sources.get(id) {
            Some(Entry::Stanza(s)) => {
                let types = s.multi("Types");
                !(types.is_empty()
                    || types == [""]
                    || s.single("Types").is_none_or(|t| t.is_empty()))
            }
            Some(Entry::Line(l)) => !l.invalid,
            None => false,
        })
        .collect();
    let want = OneLine::parse(repo, &default)?;
    if want.invalid {
        return Err(Error::InvalidArgument(format!(
            "Name {repo} is not valid. This must be the complete repo entry as seen in the sources file"
        )));
    }
    let mut full_comp_list: Vec<String> = want.comps.iter().map(|c| c.trim().to_string()).collect();
    let signedby = (!want.signedby.is_empty()).then(|| pure_path(&want.signedby));
    kw.insert(
        "signedby".into(),
        Value::Str(signedby.clone().unwrap_or_default()),
    );

    if kw.contains_key("keyid") {
        handle_keyid(ctx, &mut kw, aptkey, signedby.as_deref())?;
    } else if let Some(url) = kw.get("key_url").cloned() {
        handle_key_url(ctx, &url, saltenv, aptkey, signedby.as_deref())?;
    } else if let Some(text) = kw.get("key_text").cloned() {
        handle_key_text(&text)?;
    }

    match kw.get("comps").cloned() {
        Some(v) => {
            let comps = comma_list(&v)?;
            for c in &comps {
                if !full_comp_list.contains(c) {
                    full_comp_list.push(c.clone());
                }
            }
            kw.insert("comps".into(), list_value(&comps));
        }
        None => {
            kw.insert("comps".into(), list_value(&full_comp_list));
        }
    }
    // Salt splits without stripping here (`"amd64, arm64"` would write a line apt and
    // Salt itself can no longer parse); stripped as `_expand_repo_def` does.
    let arches = match kw.get("architectures").cloned() {
        Some(v) => comma_list(&v)?,
        None => want.architectures.clone(),
    };
    kw.insert("architectures".into(), list_value(&arches));
    if let Some(v) = kw.get("disabled").cloned() {
        kw.insert("disabled".into(), Value::Bool(is_true(&v)));
    } else if let Some(v) = kw.get("enabled").cloned() {
        kw.insert("disabled".into(), Value::Bool(!is_true(&v)));
    }
    let kw_type = kw.get("type").and_then(Value::as_str).map(str::to_string);
    let kw_dist = kw.get("dist").and_then(Value::as_str).map(str::to_string);

    let want_uri = want.uri.trim_end_matches('/');
    let mut mod_id: Option<usize> = None;
    for &id in &repos {
        let s = sources.entry(id)?;
        let stype = s.type_opt().unwrap_or_default();
        let words: Vec<&str> = stype.split_whitespace().collect();
        let suites = s.suites();
        let repo_matches = words.contains(&want.typ.as_str())
            && s.uris().iter().any(|u| u.trim_end_matches('/') == want_uri)
            && suites.contains(&want.dist);
        let kw_matches = kw_dist.as_ref().is_some_and(|d| suites.contains(d))
            && kw_type.as_deref().is_some_and(|t| words.contains(&t));
        if repo_matches || kw_matches {
            let comps = s.comps();
            if full_comp_list.iter().any(|c| comps.contains(c)) {
                mod_id = Some(id);
            }
            if comps.is_empty() {
                mod_id = Some(id);
            }
            if arches != s.architectures() {
                mod_id = Some(id);
            }
            if mod_id.is_some() {
                break;
            }
        }
    }

    if let Some(v) = kw.get("comments").cloned() {
        kw.insert("comments".into(), Value::Str(combine_comments(&v)));
    }
    let comments = kw.get("comments").map(Value::py_str);
    let id = match mod_id {
        Some(id) => {
            if let Some(c) = &comments {
                sources.entry_mut(id)?.set_comment(c);
            }
            id
        }
        None => {
            if !aptkey
                && signedby.is_none()
                && !value_to_bool(kw.get("trusted").unwrap_or(&Value::Str("no".into())))?
            {
                return Err(Error::InvalidArgument(
                    "missing 'signedby' or 'trusted' option when apt-key is missing".into(),
                ));
            }
            let file = kw.get("file").filter(|v| !v.is_null()).map(Value::py_str);
            let mut e = match file.as_deref() {
                Some(f) if f.ends_with(".sources") => {
                    let mut sec = Section::default();
                    sec.set("Types", &want.typ);
                    sec.set("URIs", &want.uri);
                    sec.set("Suites", &want.dist);
                    sec.set("Components", &want.comps.join(" "));
                    let kw_true = |k: &str| matches!(kw.get(k), Some(Value::Bool(true)));
                    if kw_true("trusted")
                        || kw_true("Trusted")
                        || (!kw.contains_key("trusted") && want.trusted == Some(true))
                    {
                        sec.set("Trusted", "yes");
                    }
                    Entry::Stanza(Stanza::new(sec, f))
                }
                Some(f) => Entry::Line(OneLine::parse(repo, f)?),
                None => Entry::Line(OneLine::parse(repo, &default)?),
            };
            if let Some(c) = &comments {
                e.set_comment(c);
            }
            sources.push(e)
        }
    };
    if let Entry::Line(l) = sources.entry_mut(id)? {
        l.line = if want.line.ends_with('\n') {
            want.line.clone()
        } else {
            format!("{}\n", want.line)
        };
    }
    if arches.is_empty() && sources.entry(id)?.architectures().is_empty() {
        kw.shift_remove("architectures");
    }
    let is_stanza = matches!(sources.entry(id)?, Entry::Stanza(_));
    for (k, v) in &kw {
        let Some(k) = k.as_str() else { continue };
        if (is_stanza && MODIFY_OK.contains(&k)) || MODIFY_OK_LEGACY.contains(&k) {
            sources.entry_mut(id)?.set_attr(k, v)?;
        }
    }
    if let Entry::Line(l) = sources.entry_mut(id)? {
        if l.uri != want.uri {
            l.uri = want.uri.clone();
            l.line = l.render()?;
        }
    }
    sources.save()?;
    if refresh {
        (ctx.refresh)()?;
    }
    let mut out = Map::default();
    out.insert(
        Value::Str(repo.to_string()),
        Value::Map(get_repo(&ctx.paths, repo)?),
    );
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// del_repo / del_repo_key.

/// `pkg.del_repo(repo)`: from every valid entry with the name's type, the same
/// architecture list, URI (trailing `/` ignored) and suite, remove the suite (same
/// component set; the entry goes when no suite is left) or the shared components (the
/// entry goes when none is left). Every file is saved after each entry, as Salt does; a
/// `sources.list.d/` file left without valid entries is deleted. Then `refresh_db`.
/// Returns one line per file touched; nothing matched is an error.
pub fn del_repo(ctx: &AptCtx, repo: &str) -> Result<String> {
    let mut sources = SourcesList::load(&ctx.paths);
    let repos: Vec<usize> = sources
        .ids()
        .into_iter()
        .filter(|&id| sources.get(id).is_some_and(|e| !e.invalid()))
        .collect();
    if !repos.is_empty() {
        let want = OneLine::parse(repo, &ctx.paths.default_file())?;
        let want_uri = want.uri.trim_end_matches('/');
        let mut deleted_from: IndexMap<String, usize> = IndexMap::new();
        for &id in &repos {
            let s = sources.entry(id)?;
            let stype = s
                .type_opt()
                .ok_or_else(|| py_err("'NoneType' object has no attribute 'split'"))?;
            let matches = stype.split_whitespace().any(|t| t == want.typ)
                && s.architectures() == want.architectures
                && s.uris().iter().any(|u| u.trim_end_matches('/') == want_uri)
                && s.suites().contains(&want.dist);
            if matches {
                let s_comps = s.comps();
                let file = s.file().to_string();
                let same = {
                    let a: std::collections::BTreeSet<&String> = s_comps.iter().collect();
                    let b: std::collections::BTreeSet<&String> = want.comps.iter().collect();
                    a == b
                };
                if same {
                    let mut suites = s.suites();
                    if let Some(pos) = suites.iter().position(|x| *x == want.dist) {
                        suites.remove(pos);
                    }
                    sources.entry_mut(id)?.set_suites(suites)?;
                    deleted_from.insert(file, 0);
                    if sources.entry(id)?.suites().is_empty() {
                        sources.remove(id)?;
                    }
                    sources.save()?;
                    continue;
                }
                if s_comps.iter().any(|c| want.comps.contains(c)) {
                    deleted_from.insert(file, 0);
                    let left: Vec<String> = s_comps
                        .into_iter()
                        .filter(|c| !want.comps.contains(c))
                        .collect();
                    let empty = left.is_empty();
                    sources.entry_mut(id)?.set_comps(left);
                    if empty {
                        sources.remove(id)?;
                    }
                }
            }
            sources.save()?;
        }
        if !deleted_from.is_empty() {
            for e in sources.iter() {
                if e.invalid() {
                    continue;
                }
                if let Some(n) = deleted_from.get_mut(e.file()) {
                    *n += 1;
                }
            }
            let mut ret = String::new();
            for (file, count) in &deleted_from {
                if *count == 0 && file.contains("sources.list.d/") && Path::new(file).is_file() {
                    ret.push_str(&format!(
                        "File {file} containing repo '{repo}' has been removed."
                    ));
                    let _ = std::fs::remove_file(file);
                } else {
                    ret.push_str(&format!("Repo '{repo}' has been removed from {file}.\n"));
                }
            }
            (ctx.refresh)()?;
            return Ok(ret);
        }
    }
    Err(Error::CommandExecution(format!(
        "Repo {repo} doesn't exist in the sources.list(s)"
    )))
}

/// `pkg.del_repo_key(name, aptkey=True, keydir=None, keyid=...)`: `apt-key del` when
/// apt-key is used, else delete the file of the key directory holding a key whose id ends
/// with the 8- or 16-character `keyid`. Returns the key id, or `False` when no file was
/// found. `keyid_ppa` needs Launchpad and is not available.
pub fn del_repo_key(ctx: &AptCtx, name: Option<&str>, kwargs: &Map) -> Result<Value> {
    let keydir = kwargs
        .get("keydir")
        .filter(|v| v.is_truthy())
        .map_or_else(|| ctx.paths.keyrings.display().to_string(), Value::py_str);
    let mut aptkey = kwargs.get("aptkey").is_none_or(Value::is_truthy);
    if !aptkey && !Path::new(&keydir).is_dir() {
        tracing::error!(dir = %keydir, "The directory does not exist. Please create this directory only writable by root");
        return Ok(Value::Bool(false));
    }
    if !ctx.apt_key_available() {
        aptkey = false;
    }
    let keyid = if kwargs.get("keyid_ppa").is_some_and(Value::is_truthy) {
        if name.is_some_and(|n| n.starts_with("ppa:")) {
            return Err(Error::CommandExecution(
                "'keyid_ppa' is not available: it needs Launchpad".into(),
            ));
        }
        return Err(Error::InvalidArgument(
            "keyid_ppa requires that a PPA be passed".into(),
        ));
    } else if let Some(k) = kwargs.get("keyid") {
        k.clone()
    } else {
        return Err(Error::InvalidArgument(
            "keyid or keyid_ppa and PPA name must be passed".into(),
        ));
    };
    if !aptkey {
        let Value::Str(id) = &keyid else {
            return Err(py_err(format!(
                "object of type '{}' has no len()",
                keyid.type_name()
            )));
        };
        let n = id.chars().count();
        if n != 8 && n != 16 {
            tracing::error!("The keyid needs to be either 8 or 16 characters");
            return Ok(Value::Bool(false));
        }
        let dir = std::fs::read_dir(&keydir).map_err(|e| os_error(&e, &keydir))?;
        for ent in dir.flatten() {
            let path = ent.path();
            if parse_key_ids(&list_keyring(&path)?)
                .iter()
                .any(|k| k.ends_with(id.as_str()))
            {
                let shown = path.display().to_string();
                std::fs::remove_file(&path).map_err(|e| os_error(&e, &shown))?;
                return Ok(keyid);
            }
        }
        tracing::error!(keyid = %id, "Could not find the key file for keyid");
        return Ok(Value::Bool(false));
    }
    let out = apt::run(&apt::argv(&["apt-key", "del", &keyid.py_str()]))?;
    if out.retcode != 0 {
        // Salt never fills in the `{0}` of this message.
        let mut msg = "Failed to remove keyid {0}".to_string();
        if !out.stderr.is_empty() {
            msg.push_str(&format!(": {}", out.stderr));
        }
        return Err(Error::CommandExecution(msg));
    }
    Ok(keyid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn line(s: &str) -> OneLine {
        match OneLine::parse(&format!("{s}\n"), SOURCES_LIST) {
            Ok(l) => l,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn rendered(s: &str) -> String {
        match line(s).render() {
            Ok(r) => r,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    fn strs(v: &Value) -> Vec<String> {
        value_strings(v)
    }

    struct Tree {
        _dir: tempfile::TempDir,
        paths: AptPaths,
    }

    fn tree(files: &[(&str, &str)]) -> Tree {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let paths = AptPaths::under(dir.path());
        for p in [&paths.partsdir] {
            if let Err(e) = std::fs::create_dir_all(p) {
                panic!("mkdir: {e}");
            }
        }
        for (rel, text) in files {
            let p = dir.path().join("etc/apt").join(rel);
            if let Err(e) = std::fs::write(&p, text) {
                panic!("write {rel}: {e}");
            }
        }
        Tree { _dir: dir, paths }
    }

    fn read(t: &Tree, rel: &str) -> String {
        let p = t.paths.sources_list.with_file_name(rel);
        match std::fs::read_to_string(&p) {
            Ok(s) => s,
            Err(e) => panic!("read {rel}: {e}"),
        }
    }

    fn ctx<'a>(paths: &AptPaths, refreshes: &'a Cell<u32>) -> AptCtx<'a> {
        AptCtx {
            paths: paths.clone(),
            functions: None,
            refresh: Box::new(move || {
                refreshes.set(refreshes.get() + 1);
                Ok(())
            }),
            apt_key: Some(false),
            http_proxy: String::new(),
            no_proxy: Vec::new(),
        }
    }

    fn kwargs(pairs: &[(&str, Value)]) -> Map {
        let mut m = Map::default();
        for (k, v) in pairs {
            m.insert((*k).into(), v.clone());
        }
        m
    }

    #[test]
    fn one_line_rendering_matches_salt() {
        // Expected values printed by Salt 3008.5's SourceEntry.
        assert_eq!(
            rendered("deb http://x d main contrib"),
            "deb http://x d main contrib"
        );
        assert_eq!(rendered("#deb http://x d main"), "# deb http://x d main");
        assert_eq!(
            rendered("  deb   [ arch=amd64   lang=none ]  http://x   d   main  "),
            "deb [arch=amd64 lang=none] http://x d main"
        );
        assert_eq!(rendered("deb http://x ./ #c"), "deb http://x ./  #c");
        assert_eq!(
            rendered("deb http://x d main # hello"),
            "deb http://x d main # hello"
        );
        // Options are searched in the whole line, comments included (a Salt quirk).
        assert_eq!(
            rendered("deb http://x d main #see [a=b]"),
            "deb [a=b] http://x d main #see [a=b]"
        );
        assert_eq!(rendered("# See sources.list(5)"), "# See sources.list(5)");
        assert_eq!(rendered("   "), "");
        assert_eq!(
            rendered("deb [signed-by=/a arch=amd64] http://x d main"),
            "deb [signed-by=/a arch=amd64] http://x d main"
        );
        assert_eq!(
            rendered("deb [arch=amd64,arm64 trusted=no] http://x d main"),
            "deb [arch=amd64,arm64] http://x d main"
        );
        assert_eq!(
            rendered("deb [arch=amd64]http://x d m"),
            "deb [arch=amd64]http://x d m"
        );
    }

    #[test]
    fn one_line_fields() {
        let l = line("deb [trusted=yes] file:/tmp/pr/repo2 ./");
        assert!(!l.invalid);
        assert_eq!(
            (l.typ.as_str(), l.uri.as_str(), l.dist.as_str()),
            ("deb", "file:/tmp/pr/repo2", "./")
        );
        assert!(l.comps.is_empty());
        assert_eq!(l.trusted, Some(true));
        let l = line("deb cdrom:[Debian GNU/Linux 12]/ bookworm main");
        assert_eq!(l.uri, "cdrom:[Debian GNU/Linux 12]/");
        assert_eq!(l.comps, ["main"]);
        let l = line("# See sources.list(5)");
        assert!(l.invalid && l.disabled);
        let l = line("deb [signed-by=/a arch=amd64,arm64] http://x d main contrib");
        assert_eq!(l.signedby, "/a");
        assert_eq!(l.architectures, ["amd64", "arm64"]);
        assert_eq!(l.comps, ["main", "contrib"]);
        assert_eq!(l.comment, "");
        assert_eq!(line("deb http://x d main # hello").comment, " hello");
    }

    #[test]
    fn one_line_errors_match_salt() {
        let err = |s: &str| match OneLine::parse(s, SOURCES_LIST) {
            Ok(_) => panic!("{s} parsed"),
            Err(e) => e.to_string(),
        };
        assert_eq!(
            err("deb [arch=amd64 foo] http://x d main"),
            "list index out of range"
        );
        assert_eq!(
            err("deb [arch=amd64] http://127.0.0.1:1/broken"),
            "Invalid repository definition: deb http://127.0.0.1:1/broken"
        );
        assert_eq!(
            err("deb [trusted=maybe] http://x d"),
            "Unable to convert to boolean: maybe"
        );
        // Parses, but cannot be rendered (the comment's brackets hold an option without `=`).
        match line("deb http://x d main # c [foo x=y]").render() {
            Ok(r) => panic!("rendered {r}"),
            Err(e) => assert_eq!(e.to_string(), "list index out of range"),
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(
            split_source_line(" deb  [a=b c=d] http://x "),
            ["deb", "[a=b c=d]", "http://x"]
        );
        assert!(split_source_line("").is_empty());
        assert_eq!(strip_uri("deb  http://x/ d  main"), "deb http://x d main");
        assert_eq!(
            combine_comments(&Value::List(vec![s("hello"), s("world")])),
            "hello world"
        );
        assert_eq!(combine_comments(&Value::Int(3)), "3");
        assert!(
            is_true(&s("True"))
                && is_true(&s("1"))
                && is_true(&s("0.5"))
                && is_true(&Value::Int(2))
        );
        assert!(!is_true(&s("yes")) && !is_true(&Value::Float(0.5)) && !is_true(&s("0")));
        assert_eq!(
            pure_path("/etc/apt//keyrings/./k.gpg/"),
            "/etc/apt/keyrings/k.gpg"
        );
        assert_eq!(path_parent("/etc/apt/keyrings/k.gpg"), "/etc/apt/keyrings");
        assert_eq!(path_name("/etc/apt/keyrings/k.gpg"), "k.gpg");
        assert_eq!(path_parent("/k.gpg"), "/");
        assert_eq!(py_splitlines("a\nb\r\nc\rd\n"), ["a", "b", "c", "d"]);
        assert_eq!(
            parse_key_ids("pub:-:4096:1:0123456789ABCDEF:1:::-:::scESC::::::23::0:\nfpr:::::::::X:\npub:-:1:1:0012345678901234:1\n"),
            ["0123456789ABCDEF", "12345678901234"]
        );
    }

    const DEBIAN_SOURCES: &str = "# Modernized from /etc/apt/sources.list\nTypes: deb deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n# inner comment\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: http://security.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n -----END PGP PUBLIC KEY BLOCK-----\n";

    #[test]
    fn deb822_parse_and_round_trip() {
        let sections = deb822_sections(DEBIAN_SOURCES);
        assert_eq!(sections.len(), 2);
        let st = Stanza::new(sections[0].clone(), "/x.sources");
        assert_eq!(st.multi("Types"), ["deb", "deb-src"]);
        assert_eq!(st.multi("suites"), ["bookworm", "bookworm-updates"]);
        assert_eq!(
            st.section.header,
            ["# Modernized from /etc/apt/sources.list"]
        );
        assert_eq!(st.section.footer, ["# inner comment"]);
        assert_eq!(
            sections[1].get("Signed-By"),
            Some("-----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n -----END PGP PUBLIC KEY BLOCK-----")
        );
        let t = tree(&[("sources.list.d/debian.sources", DEBIAN_SOURCES)]);
        let list = SourcesList::load(&t.paths);
        let files = match list.rendered() {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        let text = files.values().next().cloned().unwrap_or_default();
        // Comments after the first field move to the end of the stanza; values are
        // re-joined; one blank line between stanzas.
        assert_eq!(
            text,
            "# Modernized from /etc/apt/sources.list\nTypes: deb deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n# inner comment\n\nTypes: deb\nURIs: http://security.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\nSigned-By: -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n -----END PGP PUBLIC KEY BLOCK-----\n"
        );
        // A second round trip is stable.
        let sections2 = deb822_sections(&text);
        let again: Vec<String> = sections2
            .iter()
            .map(|s| s.render().trim().to_string())
            .collect();
        assert_eq!(again.join("\n\n") + "\n", text);
    }

    #[test]
    fn list_repos_expands_deb822() {
        let t = tree(&[("sources.list.d/debian.sources", DEBIAN_SOURCES)]);
        let repos = match list_repos(&t.paths) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        let debian = repos
            .get("http://deb.debian.org/debian")
            .and_then(Value::as_list)
            .cloned()
            .unwrap_or_default();
        // 2 suites x 2 types.
        assert_eq!(debian.len(), 4);
        let first = debian[0].as_map().cloned().unwrap_or_default();
        assert_eq!(
            first.get("line").map(Value::py_str).as_deref(),
            Some("deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main")
        );
        assert_eq!(first.get("type"), Some(&s("deb")));
        assert_eq!(debian[1].get("type"), Some(&s("deb-src")));
        assert_eq!(debian[2].get("dist"), Some(&s("bookworm-updates")));
        let got = match get_repo(
            &t.paths,
            "deb http://deb.debian.org/debian/ bookworm-updates main",
        ) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(got.get("dist"), Some(&s("bookworm-updates")));
        let none = get_repo(
            &t.paths,
            "deb http://deb.debian.org/debian bookworm contrib",
        );
        assert!(none.is_ok_and(|m| m.is_empty()));
    }

    #[test]
    fn expand_repo_def_one_line_and_deb822() {
        let paths = AptPaths::under(Path::new("/nonexistent"));
        let kw = kwargs(&[
            ("comps", s("main,contrib")),
            ("architectures", s("amd64, arm64")),
            ("disabled", Value::Bool(false)),
        ]);
        let m = match expand_repo_def(
            &paths,
            "deb [trusted=yes lang=none] http://x/debian bookworm main",
            &kw,
        ) {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        };
        let keys: Vec<String> = m.keys().map(Value::py_str).collect();
        assert_eq!(
            keys,
            [
                "file",
                "comps",
                "disabled",
                "dist",
                "suites",
                "type",
                "types",
                "uri",
                "uris",
                "line",
                "architectures",
                "signedby"
            ]
        );
        // Options other than arch/signed-by are dropped.
        assert_eq!(
            m.get("line"),
            Some(&s(
                "deb [arch=amd64,arm64] http://x/debian bookworm main contrib"
            ))
        );
        assert_eq!(strs(&m["comps"]), ["main", "contrib"]);
        assert_eq!(m.get("file").map(Value::py_str), Some(paths.default_file()));

        let kw = kwargs(&[
            ("file", s("/etc/apt/sources.list.d/g.sources")),
            ("disabled", Value::Bool(true)),
        ]);
        let m = match expand_repo_def(
            &paths,
            "deb [arch=amd64 signed-by=/etc/apt/keyrings/g.gpg] http://g.invalid/x stable main",
            &kw,
        ) {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            m.get("line"),
            Some(&s("Types: deb\nURIs: http://g.invalid/x\nSuites: stable\nComponents: main\nArchitectures: amd64\nSigned-By: /etc/apt/keyrings/g.gpg\nEnabled: no"))
        );
        assert_eq!(m.get("signedby"), Some(&s("/etc/apt/keyrings/g.gpg")));
        assert_eq!(m.get("disabled"), Some(&Value::Bool(true)));
    }

    #[test]
    fn mod_repo_new_entry_and_update() {
        let t = tree(&[(
            "sources.list",
            "# comment\ndeb http://deb.debian.org/debian bookworm main\n",
        )]);
        let n = Cell::new(0);
        let c = ctx(&t.paths, &n);
        let name = "deb http://example.invalid/debian bookworm main";
        let kw = kwargs(&[
            ("comps", s("main,contrib")),
            ("architectures", s("amd64,arm64")),
            ("comments", Value::List(vec![s("hello"), s("world")])),
            ("trusted", Value::Bool(true)),
            ("name", s(name)),
            ("disabled", Value::Bool(false)),
        ]);
        let out = match mod_repo(&c, name, "base", true, &kw) {
            Ok(o) => o,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(n.get(), 1);
        assert_eq!(
            read(&t, "sources.list"),
            "# comment\ndeb http://deb.debian.org/debian bookworm main\ndeb [arch=amd64,arm64 trusted=yes] http://example.invalid/debian bookworm main contrib #hello world\n"
        );
        let got = out
            .get(name)
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default();
        assert_eq!(strs(&got["comps"]), ["main", "contrib"]);

        // Narrow it again without comments: the comment and the entry's own trusted flag
        // stay (the line's options come from the name, trusted from the old entry).
        let kw = kwargs(&[
            ("comps", s("main,non-free")),
            ("architectures", s("amd64")),
            ("name", s(name)),
            ("disabled", Value::Bool(true)),
            ("refresh", Value::Bool(false)),
        ]);
        if let Err(e) = mod_repo(&c, name, "base", true, &kw) {
            panic!("{e}");
        }
        assert_eq!(n.get(), 1);
        assert_eq!(
            read(&t, "sources.list"),
            "# comment\ndeb http://deb.debian.org/debian bookworm main\n# deb [arch=amd64 trusted=yes] http://example.invalid/debian bookworm main non-free #hello world\n"
        );
    }

    #[test]
    fn mod_repo_without_apt_key_needs_signedby_or_trusted() {
        let t = tree(&[]);
        let n = Cell::new(0);
        let c = ctx(&t.paths, &n);
        let name = "deb http://x.invalid/d stable main";
        match mod_repo(
            &c,
            name,
            "base",
            true,
            &kwargs(&[("disabled", Value::Bool(false))]),
        ) {
            Ok(_) => panic!("accepted"),
            Err(e) => assert_eq!(
                e.to_string(),
                "missing 'signedby' or 'trusted' option when apt-key is missing"
            ),
        }
        match mod_repo(&c, "foo bar", "base", true, &Map::default()) {
            Ok(_) => panic!("accepted"),
            Err(e) => assert_eq!(
                e.to_string(),
                "Name foo bar is not valid. This must be the complete repo entry as seen in the sources file"
            ),
        }
        assert!(!t.paths.sources_list.exists());
    }

    #[test]
    fn mod_repo_new_deb822_stanza_order() {
        let t = tree(&[]);
        let n = Cell::new(0);
        let c = ctx(&t.paths, &n);
        let file = t.paths.partsdir.join("g.sources").display().to_string();
        let name = "deb [signed-by=/etc/apt/keyrings/g.gpg] http://g.invalid/x stable main";
        let kw = kwargs(&[
            ("file", s(&file)),
            ("trusted", Value::Bool(true)),
            ("name", s(name)),
            ("disabled", Value::Bool(true)),
            ("architectures", s("amd64")),
            ("refresh", Value::Bool(false)),
        ]);
        if let Err(e) = mod_repo(&c, name, "base", true, &kw) {
            panic!("{e}");
        }
        assert_eq!(
            read(&t, "sources.list.d/g.sources"),
            "Types: deb\nURIs: http://g.invalid/x\nSuites: stable\nComponents: main\nTrusted: yes\nEnabled: no\nArchitectures: amd64\nSigned-By: /etc/apt/keyrings/g.gpg\n"
        );
        assert_eq!(n.get(), 0);
    }

    #[test]
    fn mod_repo_one_line_name_on_deb822_drops_signed_by() {
        let t = tree(&[("sources.list.d/debian.sources", DEBIAN_SOURCES)]);
        let n = Cell::new(0);
        let c = ctx(&t.paths, &n);
        let name = "deb http://deb.debian.org/debian bookworm main";
        let kw = kwargs(&[
            ("name", s(name)),
            ("disabled", Value::Bool(false)),
            ("refresh", Value::Bool(false)),
        ]);
        let out = match mod_repo(&c, name, "base", true, &kw) {
            Ok(o) => o,
            Err(e) => panic!("{e}"),
        };
        let text = read(&t, "sources.list.d/debian.sources");
        assert!(text.starts_with("# Modernized from /etc/apt/sources.list\nTypes: deb deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n# inner comment\n\nTypes: deb\n"), "{text}");
        let got = out
            .get(name)
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default();
        assert_eq!(got.get("signedby"), Some(&Value::Null));
        assert_eq!(
            got.get("line"),
            Some(&s(
                "deb [signed-by=None] http://deb.debian.org/debian bookworm main"
            ))
        );
    }

    #[test]
    fn broken_line_truncates_its_file_on_save() {
        let t = tree(&[
            ("sources.list", "deb http://a.invalid/d stable main\n"),
            (
                "sources.list.d/brk.list",
                "deb http://b.invalid/d stable main\ndeb [arch=amd64] http://127.0.0.1:1/broken\ndeb http://c.invalid/d stable main\n",
            ),
        ]);
        let n = Cell::new(0);
        let c = ctx(&t.paths, &n);
        let name = "deb [trusted=yes] http://a.invalid/d stable main";
        let kw = kwargs(&[
            ("name", s(name)),
            ("disabled", Value::Bool(false)),
            ("refresh", Value::Bool(false)),
        ]);
        if let Err(e) = mod_repo(&c, name, "base", true, &kw) {
            panic!("{e}");
        }
        assert_eq!(
            read(&t, "sources.list"),
            "deb [trusted=yes] http://a.invalid/d stable main\n"
        );
        assert_eq!(
            read(&t, "sources.list.d/brk.list"),
            "deb http://b.invalid/d stable main\n"
        );
    }

    #[test]
    fn del_repo_partial_and_file_removal() {
        let t = tree(&[
            (
                "sources.list",
                "deb http://a.invalid/d stable main contrib\n",
            ),
            (
                "sources.list.d/x.list",
                "# x\ndeb http://x.invalid/d stable main\n",
            ),
        ]);
        let n = Cell::new(0);
        let c = ctx(&t.paths, &n);
        let msg = match del_repo(&c, "deb http://a.invalid/d stable main") {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            msg,
            format!(
                "Repo 'deb http://a.invalid/d stable main' has been removed from {}.\n",
                t.paths.default_file()
            )
        );
        assert_eq!(
            read(&t, "sources.list"),
            "deb http://a.invalid/d stable contrib\n"
        );
        assert_eq!(n.get(), 1);
        let xfile = t.paths.partsdir.join("x.list").display().to_string();
        let msg = match del_repo(&c, "deb http://x.invalid/d/ stable main") {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            msg,
            format!("File {xfile} containing repo 'deb http://x.invalid/d/ stable main' has been removed.")
        );
        assert!(!Path::new(&xfile).exists());
        match del_repo(&c, "deb http://nope.invalid/d stable main") {
            Ok(m) => panic!("{m}"),
            Err(e) => assert_eq!(
                e.to_string(),
                "Repo deb http://nope.invalid/d stable main doesn't exist in the sources.list(s)"
            ),
        }
        // Architectures must be identical.
        assert!(del_repo(&c, "deb [arch=amd64] http://a.invalid/d stable contrib").is_err());
    }

    #[test]
    fn del_repo_deb822_suite() {
        let t = tree(&[("sources.list.d/debian.sources", DEBIAN_SOURCES)]);
        let n = Cell::new(0);
        let c = ctx(&t.paths, &n);
        if let Err(e) = del_repo(&c, "deb http://deb.debian.org/debian bookworm-updates main") {
            panic!("{e}");
        }
        let text = read(&t, "sources.list.d/debian.sources");
        assert!(text.contains("Suites: bookworm\n"), "{text}");
    }

    #[test]
    fn empty_list_saves_header() {
        let t = tree(&[]);
        let list = SourcesList::load(&t.paths);
        if let Err(e) = list.save() {
            panic!("{e}");
        }
        assert_eq!(read(&t, "sources.list"), EMPTY_HEADER);
    }

    #[test]
    fn key_url_over_http_is_refused() {
        let t = tree(&[]);
        let n = Cell::new(0);
        let c = ctx(&t.paths, &n);
        let name = "deb [signed-by=/etc/apt/keyrings/k.gpg] http://x.invalid/d stable main";
        let kw = kwargs(&[
            ("key_url", s("https://x.invalid/k.asc")),
            ("refresh", Value::Bool(false)),
        ]);
        match mod_repo(&c, name, "base", true, &kw) {
            Ok(_) => panic!("accepted"),
            Err(e) => assert_eq!(e.to_string(), "'key_url' over http is not available"),
        }
    }

    #[test]
    fn key_url_local_binary_key_is_copied_and_renamed() {
        let t = tree(&[]);
        let n = Cell::new(0);
        let c = ctx(&t.paths, &n);
        let src = t.paths.partsdir.join("k1.bin");
        if let Err(e) = std::fs::write(&src, [0x99u8, 0x01, 0xff, 0xfe]) {
            panic!("{e}");
        }
        let dest = t.paths.keyrings.join("k2.gpg").display().to_string();
        let name = format!("deb [signed-by={dest}] http://x.invalid/d stable main");
        let kw = kwargs(&[
            ("key_url", s(&format!("file://{}", src.display()))),
            ("refresh", Value::Bool(false)),
        ]);
        if let Err(e) = mod_repo(&c, &name, "base", true, &kw) {
            panic!("{e}");
        }
        // The source is renamed in place to signed-by's name, then copied (0644).
        assert!(!src.exists());
        assert!(t.paths.partsdir.join("k2.gpg").exists());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dest)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(mode, 0o644);
    }
}
