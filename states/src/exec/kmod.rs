//! Kernel modules (Salt's `kmod` execution module): the loaded modules, the modules the
//! running kernel could load, loading with `modprobe` and removing with `rmmod` (argv, no
//! shell), and Salt's persist file.
//!
//! The loaded modules come from `/proc/modules` (what `lsmod` prints), the holders of each
//! from `/sys/module/<name>/holders` as `lsmod` lists them. As in Salt, listing needs an
//! `lsmod` on `PATH` and loading/removing need `modprobe`/`rmmod` there; without them the
//! functions fail with `Command '<cmd>' cannot be found`.
//!
//! The persist file is `/etc/modules-load.d/salt_managed.conf` when Salt would have the
//! `systemd` grain (both `systemctl` and `localectl` on `PATH`), else `/etc/modules`. Its
//! edits are Salt's (`file.append`, `file.uncomment`, `file.comment`, `file.sed` with their
//! regexes, `.bak` backups included), written atomically.

use super::command::{run, which_or_err, Output};
use super::pystr::{py_split, py_strip, strerror, text_lines};
use crate::modules::file::util::{atomic_write, is_text};
use halite_core::{Error, Result};
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The persist file on hosts with the `systemd` grain.
pub const SYSTEMD_CONF: &str = "/etc/modules-load.d/salt_managed.conf";

/// The persist file elsewhere.
pub const ETC_MODULES: &str = "/etc/modules";

/// One loaded module, as Salt's `kmod.lsmod` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// The module's name.
    pub module: String,
    /// Its size in bytes, as text.
    pub size: String,
    /// Its use count, as text.
    pub depcount: String,
    /// The modules using it.
    pub deps: Vec<String>,
}

/// Parse `/proc/modules`: `name size refcount users state address` per line; `users` is
/// `-` or a comma-terminated list (`[permanent]` and empty entries dropped, as `lsmod`
/// does not show them). Lines with fewer than three fields are skipped, as Salt skips them
/// in `lsmod` output.
pub fn parse_proc_modules(text: &str) -> Vec<Module> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 3 || f[0] == "Module" {
                return None;
            }
            let deps = f
                .get(3)
                .map(|d| {
                    d.split(',')
                        .filter(|u| !u.is_empty() && *u != "-" && *u != "[permanent]")
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            Some(Module {
                module: f[0].to_string(),
                size: f[1].to_string(),
                depcount: f[2].to_string(),
                deps,
            })
        })
        .collect()
}

/// The holders of a loaded module in `lsmod`'s order (`/sys/module/<name>/holders`), when
/// that directory can be read.
fn holders(module: &str) -> Option<Vec<String>> {
    let dir = std::fs::read_dir(format!("/sys/module/{module}/holders")).ok()?;
    Some(
        dir.flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
    )
}

/// Salt's `kmod.lsmod`: the loaded modules in `/proc/modules` order, with the size, use
/// count and holders `lsmod` shows (from `/sys/module/<name>` where readable). Needs
/// `lsmod` on `PATH`, as Salt (which runs it).
pub fn lsmod() -> Result<Vec<Module>> {
    which_or_err("lsmod")?;
    let text = std::fs::read_to_string("/proc/modules").unwrap_or_default();
    let mut mods = parse_proc_modules(&text);
    let sys = |m: &str, f: &str| {
        std::fs::read_to_string(format!("/sys/module/{m}/{f}"))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    for m in &mut mods {
        // lsmod's own sources: the size from `coresize`, the count from `refcnt`.
        if let Some(size) = sys(&m.module, "coresize") {
            m.size = size;
        }
        if let Some(count) = sys(&m.module, "refcnt") {
            m.depcount = count;
        }
        if let Some(h) = holders(&m.module) {
            m.deps = h;
        }
    }
    Ok(mods)
}

/// The names of the loaded modules (what Salt takes from `lsmod`; `lsmod` must be on
/// `PATH`, as for [`lsmod`]).
pub fn loaded_names() -> Result<BTreeSet<String>> {
    which_or_err("lsmod")?;
    let text = std::fs::read_to_string("/proc/modules").unwrap_or_default();
    Ok(parse_proc_modules(&text)
        .into_iter()
        .map(|m| m.module)
        .collect())
}

/// Is `binary` an executable file in a `PATH` directory (what `which <binary>` answers,
/// the test behind Salt's `systemd` grain)?
fn on_path(binary: &str) -> bool {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':').filter(|d| !d.is_empty()).any(|d| {
        let p = Path::new(d).join(binary);
        p.is_file() && nix::unistd::access(p.as_path(), nix::unistd::AccessFlags::X_OK).is_ok()
    })
}

/// Salt's `_get_modules_conf`: [`SYSTEMD_CONF`] when the `systemd` grain would exist
/// (`systemctl` and `localectl` both on `PATH`), else [`ETC_MODULES`].
pub fn persist_conf() -> &'static str {
    if on_path("systemctl") && on_path("localectl") {
        SYSTEMD_CONF
    } else {
        ETC_MODULES
    }
}

/// Salt's `_strip_module_name`: the first word (`bonding mode=4` → `bonding`), `None` for
/// a blank string.
pub fn strip_module_name(m: &str) -> Option<String> {
    py_split(m).first().map(|s| (*s).to_string())
}

/// The module names a persist file lists (Salt's `mod_list(True)` over its text): each line
/// stripped, blank lines and lines starting with `#` skipped, the first word kept; sorted,
/// without duplicates.
pub fn parse_persist_file(text: &str) -> Vec<String> {
    let mut set = BTreeSet::new();
    for line in text_lines(text) {
        let line = py_strip(&line);
        if line.starts_with('#') {
            continue;
        }
        if let Some(name) = strip_module_name(line) {
            set.insert(name);
        }
    }
    set.into_iter().collect()
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path.display().to_string(), &e))?;
    decode(bytes, path)
}

/// UTF-8 text, or the error Python's text-mode read raises.
fn decode(bytes: Vec<u8>, path: &Path) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        Error::InvalidArgument(format!(
            "'utf-8' codec can't decode byte at position {} in {}",
            e.utf8_error().valid_up_to(),
            path.display()
        ))
    })
}

/// Salt's `kmod.mod_list`: the loaded module names (sorted), or with `only_persist` those
/// listed in the persist file (a missing or unreadable file lists none).
pub fn mod_list(only_persist: bool) -> Result<Vec<String>> {
    if only_persist {
        let conf = Path::new(persist_conf());
        if std::fs::metadata(conf).is_err() {
            return Ok(Vec::new());
        }
        return match std::fs::read(conf) {
            Ok(bytes) => Ok(parse_persist_file(&decode(bytes, conf)?)),
            Err(e) => {
                tracing::error!(file = %conf.display(), error = %e, "kmod module could not open modules file");
                Ok(Vec::new())
            }
        };
    }
    Ok(loaded_names()?.into_iter().collect())
}

/// Salt's `kmod.is_loaded`.
pub fn is_loaded(m: &str) -> Result<bool> {
    Ok(mod_list(false)?.iter().any(|x| x == m))
}

/// The running kernel's release (`uname -r`).
fn kernel_release() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Salt's name for a module file: the part before `.ko`, `-` → `_`.
fn ko_name(file: &str) -> Option<String> {
    file.find(".ko").map(|i| file[..i].replace('-', "_"))
}

/// Python's `os.walk(dir)` (no symlinked directories followed, errors ignored): the file
/// names below `dir`.
fn walk_files(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let is_dir = match e.file_type() {
            Ok(t) if t.is_dir() => {
                walk_files(&path, out);
                true
            }
            Ok(t) if t.is_symlink() => std::fs::metadata(&path).is_ok_and(|m| m.is_dir()),
            _ => false,
        };
        if !is_dir {
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
}

/// The names [`available`] derives from a `modules.builtin` text (Salt:
/// `basename(line)[:-4]`, the line's newline counted — so `kernel/fs/ext4/ext4.ko\n` →
/// `ext4`).
pub fn builtin_names(text: &str) -> Vec<String> {
    text_lines(text)
        .iter()
        .map(|line| {
            let base = line.rsplit('/').next().unwrap_or(line);
            let chars: Vec<char> = base.chars().collect();
            chars[..chars.len().saturating_sub(4)].iter().collect()
        })
        .collect()
}

/// Salt's `kmod.available`: the built-in modules (`modules.builtin`) and every `*.ko*` file
/// under `/lib/modules/$(uname -r)`, sorted (duplicates kept). Empty without that directory.
pub fn available() -> Vec<String> {
    let dir = PathBuf::from(format!("/lib/modules/{}", kernel_release()));
    let mut ret = Vec::new();
    if let Ok(text) = std::fs::read_to_string(dir.join("modules.builtin")) {
        ret.extend(builtin_names(&text));
    }
    let mut files = Vec::new();
    walk_files(&dir, &mut files);
    ret.extend(files.iter().filter_map(|f| ko_name(f)));
    ret.sort();
    ret
}

/// What loading or removing gave (Salt returns a list or an error string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The command succeeded: the modules that changed (new or gone, plus the one
    /// persisted/unpersisted), sorted. May be empty.
    Done(Vec<String>),
    /// The command failed: `Error loading module …` / `Error removing module …`.
    Failed(String),
}

/// Python's `shlex.split` (POSIX mode): words split on blanks, `'…'` literal, `"…"` with
/// `\"` and `\\` escapes, `\x` outside quotes.
pub fn shlex_split(s: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(n) => cur.push(n),
                    None => return Err(Error::InvalidArgument("No escaped character".into())),
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(n) => cur.push(n),
                        None => return Err(Error::InvalidArgument("No closing quotation".into())),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(n @ ('"' | '\\')) => cur.push(n),
                            Some(n) => {
                                cur.push('\\');
                                cur.push(n);
                            }
                            None => {
                                return Err(Error::InvalidArgument("No closing quotation".into()))
                            }
                        },
                        Some(n) => cur.push(n),
                        None => return Err(Error::InvalidArgument("No closing quotation".into())),
                    }
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Run `<cmd path> <m>` the way Salt does (the string split with `shlex`, so `m` may carry
/// module parameters).
fn run_tool(cmd: &str, m: &str) -> Result<Output> {
    let mut argv = vec![which_or_err(cmd)?];
    argv.extend(shlex_split(m)?);
    run(&argv, false)
}

/// Salt's `kmod.load`: `modprobe <m>`; on success the newly loaded modules (dependencies
/// included) plus, with `persist`, the module added to the persist file.
pub fn load(m: &str, persist: bool) -> Result<Outcome> {
    let pre = loaded_names()?;
    let res = run_tool("modprobe", m)?;
    if res.retcode != 0 {
        return Ok(Outcome::Failed(format!(
            "Error loading module {m}: {}",
            res.stderr
        )));
    }
    let post = loaded_names()?;
    let mut out: BTreeSet<String> = post.difference(&pre).cloned().collect();
    if persist {
        out.extend(set_persistent(m)?);
    }
    Ok(Outcome::Done(out.into_iter().collect()))
}

/// Salt's `kmod.remove`: `rmmod <m>`; on success the modules gone plus, with `persist`, the
/// module taken out of the persist file (commented out with `comment`, else its entry
/// deleted from its line).
pub fn remove(m: &str, persist: bool, comment: bool) -> Result<Outcome> {
    let pre = loaded_names()?;
    let res = run_tool("rmmod", m)?;
    if res.retcode != 0 {
        return Ok(Outcome::Failed(format!(
            "Error removing module {m}: {}",
            res.stderr
        )));
    }
    let post = loaded_names()?;
    let mut out: BTreeSet<String> = pre.difference(&post).cloned().collect();
    if persist {
        out.extend(unset_persistent(m, comment)?);
    }
    Ok(Outcome::Done(out.into_iter().collect()))
}

// ---------------------------------------------------------------------------------------
// Persist-file edits (pure, over the file's text).

fn compile(pattern: &str) -> Result<regex::Regex> {
    regex::Regex::new(pattern).map_err(|e| Error::InvalidArgument(e.to_string()))
}

/// The file's lines as Python reads them in binary mode: split after each `\n`.
fn raw_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive('\n')
}

/// Does the text hold a commented-out entry for `m` (`^#[\t ]*m[\t ]*$`, multiline)?
pub fn has_commented(text: &str, m: &str) -> Result<bool> {
    Ok(compile(&format!("(?m)^#[\t ]*{}[\t ]*$", regex::escape(m)))?.is_match(text))
}

/// Salt's `file.uncomment(conf, re.escape(m))`: every line matching `^#\s*(m)` (a prefix
/// match) loses all its leading `#`. `None` when no line matches.
pub fn uncomment(text: &str, m: &str) -> Result<Option<String>> {
    let re = compile(&format!(r"^#\s*({})", regex::escape(m)))?;
    let mut found = false;
    let mut out = String::with_capacity(text.len());
    for line in raw_lines(text) {
        if re.is_match(line) {
            found = true;
            out.push_str(line.trim_start_matches('#'));
        } else {
            out.push_str(line);
        }
    }
    Ok(found.then_some(out))
}

/// Salt's `file.comment(conf, "^[\t ]*m[\t ]?")`: every line matching gets a leading `#`.
/// `None` when no line matches.
pub fn comment_out(text: &str, m: &str) -> Result<Option<String>> {
    let re = compile(&format!("^([\t ]*{}[\t ]?)", regex::escape(m)))?;
    let mut found = false;
    let mut out = String::with_capacity(text.len() + 1);
    for line in raw_lines(text) {
        if re.is_match(line) {
            found = true;
            out.push('#');
        }
        out.push_str(line);
    }
    Ok(found.then_some(out))
}

/// Salt's `file.sed(conf, "^[\t ]*m[\t ]?", "")`: on every line the matching prefix is
/// deleted (the line itself stays, possibly empty).
pub fn strip_entry(text: &str, m: &str) -> Result<String> {
    let re = compile(&format!("^[\t ]*{}[\t ]?", regex::escape(m)))?;
    let mut out = String::with_capacity(text.len());
    for line in raw_lines(text) {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        out.push_str(&re.replace(body, ""));
        out.push_str(nl);
    }
    Ok(out)
}

/// Salt's `file.append(conf, m)`: a newline first when the text does not end with one,
/// then `m` and a newline.
pub fn append_line(text: &str, m: &str) -> String {
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(m);
    out.push('\n');
    out
}

// ---------------------------------------------------------------------------------------
// Persist-file I/O.

/// `os.path.realpath`, for a path that exists.
fn real(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The mode bits of an existing file.
fn mode_of(path: &Path) -> Option<u32> {
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

/// Write `new` over `path` after saving `old` to `path.bak` (with the file's mode).
fn write_with_backup(path: &Path, old: &str, new: &str) -> Result<()> {
    let mut bak = path.as_os_str().to_owned();
    bak.push(".bak");
    atomic_write(Path::new(&bak), old.as_bytes(), mode_of(path))?;
    atomic_write(path, new.as_bytes(), None)
}

/// Text for a comment/uncomment edit, with Salt's refusal of binary files.
fn text_for_edit(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path.display().to_string(), &e))?;
    if !is_text(&bytes) {
        return Err(Error::InvalidArgument(format!(
            "Cannot perform string replacements on a binary file: {}",
            path.display()
        )));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Salt's `_set_persistent_module`: create the persist file if missing, then — unless the
/// module's name is blank, already listed, or not [`available`] — uncomment its
/// commented-out entry (leaving a `.bak`) or append `m`. Returns the name it added.
fn set_persistent(m: &str) -> Result<Vec<String>> {
    let conf = Path::new(persist_conf());
    if std::fs::metadata(conf).is_err() {
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(conf)
            .map_err(|e| Error::CommandExecution(strerror(&e)))?;
    }
    let Some(name) = strip_module_name(m) else {
        return Ok(Vec::new());
    };
    if mod_list(true)?.contains(&name) || !available().contains(&name) {
        return Ok(Vec::new());
    }
    let path = real(conf);
    let text = text_for_edit(&path)?;
    if has_commented(&text, m)? {
        if let Some(new) = uncomment(&text, m)? {
            write_with_backup(&path, &text, &new)?;
        }
    } else {
        atomic_write(&path, append_line(&text, m).as_bytes(), None)?;
    }
    Ok(vec![name])
}

/// Salt's `_remove_persistent_module`: when the module's name is listed, comment its entry
/// out (`comment`) or delete it from its line (`sed`, which always leaves a `.bak`).
/// Returns the name it took out.
fn unset_persistent(m: &str, comment: bool) -> Result<Vec<String>> {
    let conf = Path::new(persist_conf());
    let Some(name) = strip_module_name(m) else {
        return Ok(Vec::new());
    };
    if !mod_list(true)?.contains(&name) {
        return Ok(Vec::new());
    }
    if comment {
        let path = real(conf);
        let text = text_for_edit(&path)?;
        if let Some(new) = comment_out(&text, m)? {
            write_with_backup(&path, &text, &new)?;
        }
    } else {
        let path = real(conf);
        let text = read_text(&path)?;
        let new = strip_entry(&text, m)?;
        write_with_backup(&path, &text, &new)?;
    }
    Ok(vec![name])
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROC: &str = "\
br_netfilter 32768 0 - Live 0x0000000000000000
bridge 315392 1 br_netfilter, Live 0x0000000000000000
stp 16384 1 bridge, Live 0x0000000000000000
llc 16384 2 bridge,stp, Live 0x0000000000000000
overlay 151552 0 - Live 0x0000000000000000 (E)
";

    #[test]
    fn proc_modules_parsing() {
        let mods = parse_proc_modules(PROC);
        let names: Vec<&str> = mods.iter().map(|m| m.module.as_str()).collect();
        assert_eq!(names, ["br_netfilter", "bridge", "stp", "llc", "overlay"]);
        assert_eq!(mods[0].deps, Vec::<String>::new());
        assert_eq!(mods[0].size, "32768");
        assert_eq!(mods[3].depcount, "2");
        assert_eq!(mods[3].deps, ["bridge", "stp"]);
        assert!(parse_proc_modules("x 1\n\n").is_empty());
        let perm = parse_proc_modules("m 10 0 [permanent], Live 0x0\n");
        assert!(perm[0].deps.is_empty());
    }

    #[test]
    fn persist_file_listing() {
        let text = "# comment\n\n  bonding mode=4\n#dummy\nbr_netfilter\nbonding\n";
        assert_eq!(parse_persist_file(text), ["bonding", "br_netfilter"]);
    }

    #[test]
    fn append_adds_missing_newline() {
        assert_eq!(append_line("", "dummy"), "dummy\n");
        assert_eq!(append_line("a\n", "dummy"), "a\ndummy\n");
        assert_eq!(append_line("a", "dummy"), "a\ndummy\n");
    }

    #[test]
    fn uncomment_is_a_prefix_match() {
        let text = "# dummy\n#dummy_extra\nother\n";
        assert!(has_commented(text, "dummy").unwrap());
        assert!(!has_commented("#dummy_extra\n", "dummy").unwrap());
        assert_eq!(
            uncomment(text, "dummy").unwrap().as_deref(),
            Some(" dummy\ndummy_extra\nother\n")
        );
        assert_eq!(uncomment("other\n", "dummy").unwrap(), None);
    }

    #[test]
    fn comment_and_sed_edits() {
        let text = "dummy\n  dummy_x\nother\ndummy";
        assert_eq!(
            comment_out(text, "dummy").unwrap().as_deref(),
            Some("#dummy\n#  dummy_x\nother\n#dummy")
        );
        assert_eq!(comment_out("other\n", "dummy").unwrap(), None);
        assert_eq!(
            strip_entry("dummy\n\tdummy opt=1\nother\n", "dummy").unwrap(),
            "\nopt=1\nother\n"
        );
    }

    #[test]
    fn builtin_and_ko_names() {
        assert_eq!(
            builtin_names("kernel/fs/ext4/ext4.ko\nkernel/a/b-c.ko\nlast.ko"),
            ["ext4", "b-c", "las"]
        );
        assert_eq!(
            ko_name("nf-conntrack.ko.zst").as_deref(),
            Some("nf_conntrack")
        );
        assert_eq!(ko_name("modules.dep"), None);
    }

    #[test]
    fn shlex_words() {
        assert_eq!(
            shlex_split("bonding mode=4").unwrap(),
            ["bonding", "mode=4"]
        );
        assert_eq!(
            shlex_split(r#"a 'b c' "d\"e" f\ g ''"#).unwrap(),
            ["a", "b c", "d\"e", "f g", ""]
        );
        assert!(shlex_split("'open").is_err());
    }
}
