//! Kernel parameters (Salt's `linux_sysctl` execution module): read the running value,
//! assign it with `sysctl -w`, persist it in a `sysctl.conf`-style file, and list a
//! configuration file.
//!
//! Reads go to `/proc/sys` directly when that gives exactly what `sysctl -n` would print
//! (a plain, readable file); every other case (unknown keys, directories, write-only keys,
//! odd key spellings) runs the real `sysctl -n`, so the output, error texts included, is
//! the one Salt sees. Writes run `sysctl -w` (argv, no shell) as Salt does, and the
//! configuration file is rewritten atomically (temp file, fsync, rename) with Salt's line
//! edits. The small process helpers here ([`which`], [`run`]) are shared with
//! [`super::kmod`].

use super::command::{run, which_or_err};
use super::pystr::{is_py_space, py_rstrip, py_strip, text_lines};
use crate::modules::file::util::atomic_write;
use halite_core::{Error, Result};
use indexmap::IndexMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What Salt writes to a configuration file it has to create.
pub const HEADER: &str = "#\n# Kernel sysctl configuration\n#\n";

/// The configuration file on hosts booted with systemd 207 or later.
pub const SYSTEMD_CONFIG: &str = "/etc/sysctl.d/99-salt.conf";

/// The configuration file everywhere else.
pub const LEGACY_CONFIG: &str = "/etc/sysctl.conf";

/// Salt's `_sanitize_sysctl_value`: every run of whitespace (`\s+`) becomes one tab, as the
/// kernel prints multi-value keys.
pub fn sanitize(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut in_space = false;
    for c in value.chars() {
        if is_py_space(c) {
            if !in_space {
                out.push('\t');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

/// The test-mode normalisation of `sysctl.present` (`re.sub(" +|\t+", " ", s)`): each run
/// of spaces, and each run of tabs, becomes one space (a space next to a tab stays two).
pub fn squash_blanks(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut prev: Option<char> = None;
    for c in value.chars() {
        if c == ' ' || c == '\t' {
            if prev != Some(c) {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
        prev = Some(c);
    }
    out
}

/// Python's `os.path.dirname`.
fn dirname(path: &str) -> &str {
    match path.rfind('/') {
        None => "",
        Some(i) => {
            let head = &path[..=i];
            if head.chars().all(|c| c == '/') {
                head
            } else {
                head.trim_end_matches('/')
            }
        }
    }
}

fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_string()).collect()
}

// ---------------------------------------------------------------------------------------
// Configuration file choice.

/// The number in the first line of `systemctl --version` (Salt's
/// `salt.utils.systemd.version`: the first `\w+ ([0-9]+)`), `None` when there is none.
pub fn parse_systemd_version(output: &str) -> Option<u64> {
    let first = output.split(['\n', '\r']).next()?;
    let re = regex::Regex::new(r"\w+ ([0-9]+)").ok()?;
    let digits = re.captures(first)?.get(1)?.as_str();
    let significant = digits.trim_start_matches('0');
    if significant.len() > 18 {
        return Some(u64::MAX);
    }
    significant.parse().ok().or(Some(0))
}

/// Salt's `sysctl.default_config`: [`SYSTEMD_CONFIG`] when `/run/systemd/system` exists and
/// `systemctl --version` reports 207 or later, else [`LEGACY_CONFIG`].
///
/// As in Salt, a booted systemd whose `systemctl` is missing or prints no version is an
/// error (Salt raises there).
pub fn default_config() -> Result<String> {
    if std::fs::metadata("/run/systemd/system").is_err() {
        return Ok(LEGACY_CONFIG.to_string());
    }
    let out = run(&argv(&["systemctl", "--version"]), true)?;
    match parse_systemd_version(&out.stdout) {
        Some(v) if v >= 207 => Ok(SYSTEMD_CONFIG.to_string()),
        Some(_) => Ok(LEGACY_CONFIG.to_string()),
        None => Err(Error::InvalidArgument(format!(
            "Unable to determine systemd version from systemctl --version, output follows:\n{}",
            out.stdout
        ))),
    }
}

// ---------------------------------------------------------------------------------------
// Reading.

/// procps' key → path rule (`slashdot`): when the first separator of `key` is a `.`,
/// every `.` becomes `/` and every `/` becomes `.` (`net.ipv4.conf.eth0/10.rp_filter` →
/// `net/ipv4/conf/eth0.10/rp_filter`); a key whose first separator is `/` is used as is.
pub fn key_path(key: &str) -> String {
    match key.find(['.', '/']) {
        Some(i) if key[i..].starts_with('.') => key
            .chars()
            .map(|c| match c {
                '.' => '/',
                '/' => '.',
                c => c,
            })
            .collect(),
        _ => key.to_string(),
    }
}

/// `/proc/sys/<key>` read directly, when that is certainly what `sysctl -n <key>` prints:
/// an ordinary key naming a readable regular file with text content. `None` otherwise.
fn read_direct(key: &str) -> Option<String> {
    if key.is_empty()
        || key.starts_with('-')
        || key.contains(['=', '*', '?', '['])
        || key.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return None;
    }
    let rel = key_path(key);
    if rel
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return None;
    }
    let path = format!("/proc/sys/{rel}");
    let meta = std::fs::metadata(&path).ok()?;
    if !meta.is_file() || meta.permissions().mode() & 0o400 == 0 {
        return None;
    }
    let bytes = std::fs::read(&path).ok()?;
    if bytes.contains(&0) {
        return None;
    }
    let text = String::from_utf8(bytes).ok()?;
    Some(py_rstrip(&text).to_string())
}

/// Salt's `sysctl.get`: what `sysctl -n <name>` prints, standard error merged in and the
/// whole right-stripped, so an unknown key gives procps' message
/// (`sysctl: cannot stat /proc/sys/foo/bar: No such file or directory`) as the value.
/// A missing `sysctl` binary is an error, as in Salt.
pub fn get(name: &str) -> Result<String> {
    let sysctl = which_or_err("sysctl")?;
    if let Some(v) = read_direct(name) {
        return Ok(v);
    }
    Ok(run(&[sysctl, "-n".into(), name.to_string()], true)?.stdout)
}

/// Does `sysctl -w` output `out` confirm `name` = `value` (Salt's
/// `^{re.escape(name)}\s+=\s+{re.escape(value)}$`, `$` also before a final newline)?
pub fn assign_confirmed(out: &str, name: &str, value: &str) -> bool {
    let Some(rest) = out.strip_prefix(name) else {
        return false;
    };
    let after_ws = rest.trim_start_matches(is_py_space);
    if after_ws.len() == rest.len() {
        return false;
    }
    let Some(tail) = after_ws.strip_prefix('=') else {
        return false;
    };
    let blank_prefix = |t: &str| -> bool {
        t.strip_suffix(value)
            .is_some_and(|p| !p.is_empty() && p.chars().all(is_py_space))
    };
    blank_prefix(tail) || tail.strip_suffix('\n').is_some_and(blank_prefix)
}

/// Salt's `sysctl.assign`: `sysctl -w <name>=<value>`, returning the `(name, value)` pair
/// `sysctl` echoed.
///
/// Errors (Salt's texts): `sysctl <name> does not exist` when `/proc/sys/<name with . and /
/// swapped>` is missing; `sysctl -w failed: <stderr or stdout>` when the echo does not
/// confirm the value or standard error says `Invalid argument`.
pub fn assign(name: &str, value: &str) -> Result<(String, String)> {
    let swapped: String = name
        .chars()
        .map(|c| match c {
            '.' => '/',
            '/' => '.',
            c => c,
        })
        .collect();
    if !Path::new(&format!("/proc/sys/{swapped}")).exists() {
        return Err(Error::CommandExecution(format!(
            "sysctl {name} does not exist"
        )));
    }
    let sysctl = which_or_err("sysctl")?;
    let out = run(&[sysctl, "-w".into(), format!("{name}={value}")], false)?;
    if !assign_confirmed(&out.stdout, name, value) || out.stderr.contains("Invalid argument") {
        let error = if out.retcode != 0 && !out.stderr.is_empty() {
            &out.stderr
        } else {
            &out.stdout
        };
        return Err(Error::CommandExecution(format!(
            "sysctl -w failed: {error}"
        )));
    }
    match out.stdout.split_once(" = ") {
        Some((k, v)) => Ok((k.to_string(), v.to_string())),
        // Python's tuple unpacking fails here: an exception, not a CommandExecutionError.
        None => Err(Error::InvalidArgument(
            "not enough values to unpack (expected 2, got 1)".into(),
        )),
    }
}

/// What a configuration file holds, as Salt's `sysctl.show(config_file=...)` sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigView {
    /// The file does not exist (Salt returns `[]`).
    Missing,
    /// The file could not be opened or read (Salt returns `None`).
    Unreadable,
    /// Key → value, in file order (a repeated key keeps its first place, last value).
    Entries(IndexMap<String, String>),
}

/// Parse `sysctl.conf` text as Salt's `sysctl.show` does: each line stripped; lines
/// starting with `#` or without `=` skipped; split at the first `=`, the key right-stripped
/// and the value left-stripped (a `;x = y` line counts, with key `;x`).
pub fn parse_config(text: &str) -> IndexMap<String, String> {
    let mut out = IndexMap::new();
    for line in text_lines(text) {
        let line = py_strip(&line);
        if line.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            out.insert(
                py_rstrip(k).to_string(),
                v.trim_start_matches(is_py_space).to_string(),
            );
        }
    }
    out
}

fn decode(bytes: Vec<u8>, path: &str) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        Error::InvalidArgument(format!(
            "'utf-8' codec can't decode byte at position {} in {path}",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Salt's `sysctl.show`: with a non-empty `config_file`, that file's view; with an empty
/// one, the running values (`sysctl -a`, lines `key = value`).
pub fn show(config_file: &str) -> Result<ConfigView> {
    if config_file.is_empty() {
        return Ok(ConfigView::Entries(show_running()?));
    }
    // `os.path.exists`: a dangling symlink counts as missing.
    if std::fs::metadata(config_file).is_err() {
        return Ok(ConfigView::Missing);
    }
    match std::fs::read(config_file) {
        Ok(bytes) => Ok(ConfigView::Entries(parse_config(&decode(
            bytes,
            config_file,
        )?))),
        Err(e) => {
            tracing::error!(file = %config_file, error = %e, "Could not open sysctl file");
            Ok(ConfigView::Unreadable)
        }
    }
}

/// Every running value, from `sysctl -a` (standard output only), as Salt's `sysctl.show()`.
pub fn show_running() -> Result<IndexMap<String, String>> {
    let sysctl = which_or_err("sysctl")?;
    let out = run(&[sysctl, "-a".into()], false)?;
    let mut map = IndexMap::new();
    for line in out.stdout.lines() {
        if let Some((k, v)) = line.split_once(" = ") {
            map.insert(k.to_string(), v.to_string());
        }
    }
    Ok(map)
}

// ---------------------------------------------------------------------------------------
// Persisting.

/// What [`persist`] did (Salt's return strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persisted {
    /// The file and/or the running value changed (`"Updated"`).
    Updated,
    /// Both already held the value (`"Already set"`).
    AlreadySet,
}

impl Persisted {
    /// Salt's return string.
    pub fn as_str(self) -> &'static str {
        match self {
            Persisted::Updated => "Updated",
            Persisted::AlreadySet => "Already set",
        }
    }
}

/// The in-memory edit of a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigEdit {
    /// A `name = value` line already holds the value (sanitised comparison); scanning
    /// stopped there and the file stays as it is.
    Present,
    /// The new file text: every earlier `name` line replaced by `name = value`, or the line
    /// appended; all other lines kept byte for byte.
    Rewritten(String),
}

/// Salt's line edit of `sysctl.persist`, over the file's text (Python text-mode lines):
/// a line with `=` whose stripped key is exactly `name` (and does not start with `#`) is
/// compared by [`sanitize`]d value; equal → [`ConfigEdit::Present`]; different → replaced
/// by `"{name} = {value}\n"`. Without any such line, `"{name} = {value}\n"` is appended
/// (directly after the last line, even one without a newline, as Salt does).
pub fn edit_config(text: &str, name: &str, value: &str) -> ConfigEdit {
    let wanted = sanitize(value);
    let mut out = String::with_capacity(text.len() + name.len() + value.len() + 4);
    let mut edited = false;
    for line in text_lines(text) {
        let Some((key, val)) = line.split_once('=') else {
            out.push_str(&line);
            continue;
        };
        let key = py_strip(key);
        if key.starts_with('#') || key != name {
            out.push_str(&line);
            continue;
        }
        if sanitize(py_strip(val)) == wanted {
            return ConfigEdit::Present;
        }
        out.push_str(&format!("{name} = {value}\n"));
        edited = true;
    }
    if !edited {
        out.push_str(&format!("{name} = {value}\n"));
    }
    ConfigEdit::Rewritten(out)
}

/// Where a write to `path` lands: symlinks followed (also a dangling last one), as
/// Python's `open(path, "wb")` does.
fn write_target(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&p) {
            Ok(t) if t.is_absolute() => p = t,
            Ok(t) => p = p.parent().map_or_else(|| t.clone(), |d| d.join(&t)),
            Err(_) => break,
        }
    }
    p
}

/// Salt's `sysctl.persist`: set `name` to `value` in `config` and in the running kernel.
///
/// A missing file (or anything not a regular file) starts as [`HEADER`], its directory
/// created. A line that already holds the value leaves the file alone and only runs
/// `sysctl -w` when the running value differs; otherwise the file is rewritten atomically
/// ([`edit_config`]) and then the value assigned — so an unknown key is written to the file
/// before `sysctl -w` fails, as in Salt.
///
/// Errors Salt reports as `CommandExecutionError` come back as
/// [`Error::CommandExecution`] (`Could not read from file: …`, `Could not write to file: …`,
/// and those of [`get`] and [`assign`]); anything else (the directory cannot be created,
/// the file is not UTF-8) is another variant, as Salt lets those exceptions through.
pub fn persist(name: &str, value: &str, config: &str) -> Result<Persisted> {
    let path = Path::new(config);
    let text = if path.is_file() {
        let bytes = std::fs::read(path)
            .map_err(|_| Error::CommandExecution(format!("Could not read from file: {config}")))?;
        decode(bytes, config)?
    } else {
        let dir = dirname(config);
        if dir.is_empty() {
            // os.makedirs("") fails.
            return Err(Error::io(
                dir,
                &std::io::Error::from_raw_os_error(libc::ENOENT),
            ));
        }
        if !Path::new(dir).exists() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, &e))?;
        }
        HEADER.to_string()
    };
    match edit_config(&text, name, value) {
        ConfigEdit::Present => {
            if sanitize(&get(name)?) != sanitize(value) {
                assign(name, value)?;
                Ok(Persisted::Updated)
            } else {
                Ok(Persisted::AlreadySet)
            }
        }
        ConfigEdit::Rewritten(new) => {
            atomic_write(&write_target(path), new.as_bytes(), None).map_err(|_| {
                Error::CommandExecution(format!("Could not write to file: {config}"))
            })?;
            assign(name, value)?;
            Ok(Persisted::Updated)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(e: ConfigEdit) -> String {
        match e {
            ConfigEdit::Rewritten(s) => s,
            ConfigEdit::Present => panic!("expected a rewrite"),
        }
    }

    #[test]
    fn replaces_existing_line_and_keeps_the_rest() {
        let text = "# comment = 1\n\nvm.swappiness=60\nnet.ipv4.ip_forward = 0\n";
        let out = rewritten(edit_config(text, "vm.swappiness", "10"));
        assert_eq!(
            out,
            "# comment = 1\n\nvm.swappiness = 10\nnet.ipv4.ip_forward = 0\n"
        );
    }

    #[test]
    fn appends_when_absent_even_without_final_newline() {
        assert_eq!(
            rewritten(edit_config("a = 1\n", "b", "2")),
            "a = 1\nb = 2\n"
        );
        assert_eq!(rewritten(edit_config("a = 1", "b", "2")), "a = 1b = 2\n");
        assert_eq!(
            rewritten(edit_config(HEADER, "net.ipv4.ip_forward", "1")),
            "#\n# Kernel sysctl configuration\n#\nnet.ipv4.ip_forward = 1\n"
        );
    }

    #[test]
    fn comments_and_other_spellings_are_not_the_key() {
        let text = "  # vm.swappiness = 1\n#vm.swappiness=1\nvm/swappiness = 1\n";
        assert_eq!(
            rewritten(edit_config(text, "vm.swappiness", "1")),
            format!("{text}vm.swappiness = 1\n")
        );
    }

    #[test]
    fn equal_value_after_whitespace_normalisation_is_present() {
        let text = "net.ipv4.tcp_rmem =  4096   87380\t16777216  \n";
        assert_eq!(
            edit_config(text, "net.ipv4.tcp_rmem", "4096 87380 16777216"),
            ConfigEdit::Present
        );
        // Lines before the matching one are still scanned; the first equal one stops it.
        let text = "k = 1\nk = 2\n";
        assert_eq!(edit_config(text, "k", "2"), ConfigEdit::Present);
        assert_eq!(rewritten(edit_config(text, "k", "3")), "k = 3\nk = 3\n");
    }

    #[test]
    fn crlf_lines_come_back_as_lf() {
        assert_eq!(
            rewritten(edit_config("a = 1\r\nb = 2\r\n", "b", "3")),
            "a = 1\nb = 3\n"
        );
    }

    #[test]
    fn normalisation_rules() {
        assert_eq!(sanitize(" 1  2\t\n3 "), "\t1\t2\t3\t");
        assert_eq!(squash_blanks("1  2\t\t3 \t4"), "1 2 3  4");
        assert_eq!(
            crate::exec::pystr::py_split(" 4096\t87380  1 "),
            vec!["4096", "87380", "1"]
        );
    }

    #[test]
    fn config_view_parsing() {
        let text = "#x = 1\n ; y = 2\nvm.a=1\n  vm.b  =  2 3  \nnoequals\nvm.a = 4\n";
        let m = parse_config(text);
        let pairs: Vec<(&str, &str)> = m.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(pairs, vec![("; y", "2"), ("vm.a", "4"), ("vm.b", "2 3")]);
    }

    #[test]
    fn assign_echo_check() {
        assert!(assign_confirmed(
            "net.ipv4.ip_forward = 1",
            "net.ipv4.ip_forward",
            "1"
        ));
        assert!(assign_confirmed("k = 4096 87380", "k", "4096 87380"));
        assert!(assign_confirmed("k =  1", "k", " 1"));
        assert!(!assign_confirmed("k = 1", "k", "1 "));
        assert!(!assign_confirmed("k=1", "k", "1"));
        assert!(!assign_confirmed(
            "net.ipv4.ip_forward = 1",
            "net/ipv4/ip_forward",
            "1"
        ));
        assert!(!assign_confirmed("kk = 1", "k", "1"));
    }

    #[test]
    fn key_paths_follow_procps() {
        assert_eq!(key_path("net.ipv4.ip_forward"), "net/ipv4/ip_forward");
        assert_eq!(key_path("net/ipv4/ip_forward"), "net/ipv4/ip_forward");
        assert_eq!(
            key_path("net.ipv4.conf.eth0/10.rp_filter"),
            "net/ipv4/conf/eth0.10/rp_filter"
        );
    }

    #[test]
    fn systemd_version_line() {
        assert_eq!(
            parse_systemd_version("systemd 252 (252.22-1~deb12u1)\n+PAM +AUDIT"),
            Some(252)
        );
        assert_eq!(parse_systemd_version("nonsense"), None);
        assert_eq!(parse_systemd_version(""), None);
    }

    #[test]
    fn python_dirname() {
        assert_eq!(dirname("/etc/sysctl.d/99-salt.conf"), "/etc/sysctl.d");
        assert_eq!(dirname("/x"), "/");
        assert_eq!(dirname("x"), "");
        assert_eq!(dirname("a//b"), "a");
    }
}
