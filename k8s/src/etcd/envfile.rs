//! The etcd environment file (`/etc/default/etcd`, read by Debian's `etcd.service` through
//! `EnvironmentFile=`): `KEY=VALUE` lines as systemd parses them. Editing sets the keys a
//! state owns and keeps every other line (comments, blank lines, foreign keys) byte for byte.

use halite_core::{Error, Map, Result, Value};
use halite_states::modules::file::difflib::file_diff;
use halite_states::modules::file::util::atomic_write;
use std::path::{Path, PathBuf};

/// The first lines of an environment file that a state creates.
pub const HEADER: &str = "\
# etcd configuration, read by etcd.service (EnvironmentFile=).
# Managed by Halite (etcd.configured, etcd.member_present): the ETCD_* keys they own are
# rewritten on every run; other lines are kept as they are.
";

/// The mode of an environment file a state creates.
const NEW_FILE_MODE: u32 = 0o644;

/// An environment file held as its lines, so that editing one key leaves the rest intact.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvFile {
    lines: Vec<String>,
}

/// Split an active `KEY=VALUE` line into its key and raw value; `None` for comments, blank
/// lines and anything systemd would not take as an assignment.
fn assignment(line: &str) -> Option<(&str, &str)> {
    let trimmed = line.trim_start();
    if trimmed.starts_with('#') || trimmed.starts_with(';') {
        return None;
    }
    let (key, raw) = trimmed.split_once('=')?;
    let key = key.trim_end();
    let valid = !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some((key, raw))
}

/// A raw value as systemd reads it: surrounding blanks dropped; double quotes with
/// backslash escapes, single quotes literal.
pub fn unquote(raw: &str) -> String {
    let raw = raw.trim();
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => {
                            if let Some(e) = chars.next() {
                                out.push(e);
                            }
                        }
                        _ => out.push(q),
                    }
                }
            }
            '\'' => {
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    out.push(q);
                }
            }
            '\\' => {
                if let Some(e) = chars.next() {
                    out.push(e);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// A value written so that systemd reads it back unchanged: bare when it holds only
/// URL-safe characters, else in double quotes with `\`, `"`, `` ` `` and `$` escaped.
pub fn quote(value: &str) -> String {
    let bare = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.,:/=@%+[]".contains(c));
    if bare {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '`' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl EnvFile {
    /// Parse the text of an environment file.
    pub fn parse(text: &str) -> EnvFile {
        EnvFile {
            lines: text.lines().map(str::to_string).collect(),
        }
    }

    /// Read `path`; a missing file is `None`.
    pub fn read(path: &Path) -> Result<Option<EnvFile>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(EnvFile::parse(&text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path.display().to_string(), &e)),
        }
    }

    /// The value of `key` as systemd would set it (the last assignment wins).
    pub fn get(&self, key: &str) -> Option<String> {
        self.lines
            .iter()
            .rev()
            .filter_map(|l| assignment(l))
            .find(|(k, _)| *k == key)
            .map(|(_, raw)| unquote(raw))
    }

    /// Every variable the file sets, in order, each once (its last value).
    pub fn vars(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (key, raw) in self.lines.iter().filter_map(|l| assignment(l)) {
            let value = unquote(raw);
            match out.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value,
                None => out.push((key.to_string(), value)),
            }
        }
        out
    }

    /// Set `key` to `value`: the first assignment of `key` is rewritten in place (unless it
    /// already says so), later ones are dropped (they would override it); a key the file
    /// does not set is appended.
    pub fn set(&mut self, key: &str, value: &str) {
        let line = format!("{key}={}", quote(value));
        let mut seen = false;
        let mut kept = Vec::with_capacity(self.lines.len() + 1);
        for l in self.lines.drain(..) {
            let is_key = assignment(&l).is_some_and(|(k, _)| k == key);
            if !is_key {
                kept.push(l);
            } else if !seen {
                seen = true;
                let same = assignment(&l).is_some_and(|(_, raw)| unquote(raw) == value);
                kept.push(if same { l } else { line.clone() });
            }
        }
        if !seen {
            kept.push(line);
        }
        self.lines = kept;
    }

    /// The file's text (every line ends with a newline).
    pub fn render(&self) -> String {
        let mut out = String::new();
        for l in &self.lines {
            out.push_str(l);
            out.push('\n');
        }
        out
    }
}

/// A planned edit of an environment file: what it holds now and what it will hold.
#[derive(Debug, Clone)]
pub struct Edit {
    /// The file.
    pub path: PathBuf,
    /// Its text now (`None`: it does not exist).
    pub old: Option<String>,
    /// Its text after the edit.
    pub new: String,
}

impl Edit {
    /// Plan setting `updates` (key, value) in `path`; a missing file starts from [`HEADER`].
    pub fn plan(path: &Path, updates: &[(&str, String)]) -> Result<Edit> {
        let old = match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io(path.display().to_string(), &e)),
        };
        let mut env = EnvFile::parse(old.as_deref().unwrap_or(HEADER));
        for (key, value) in updates {
            env.set(key, value);
        }
        let mut new = env.render();
        // A file whose only change would be the newline after its last line is left alone.
        if let Some(text) = &old {
            if !text.ends_with('\n') && new.strip_suffix('\n') == Some(text.as_str()) {
                new = text.clone();
            }
        }
        Ok(Edit {
            path: path.to_path_buf(),
            old,
            new,
        })
    }

    /// Does the edit change the file?
    pub fn changed(&self) -> bool {
        self.old.as_deref() != Some(self.new.as_str())
    }

    /// The `changes` entry for the file, as `file.managed` reports it:
    /// `{"diff": "New file"}` or `{"diff": <unified diff>}`.
    pub fn change_entry(&self) -> Value {
        let diff = match &self.old {
            None => "New file".to_string(),
            Some(old) => file_diff(old, &self.new),
        };
        let mut m = Map::default();
        m.insert("diff".into(), Value::Str(diff));
        Value::Map(m)
    }

    /// Write the new text atomically (a new file gets mode 0644; an existing one keeps its
    /// mode and owner).
    pub fn apply(&self) -> Result<()> {
        let mode = self.old.is_none().then_some(NEW_FILE_MODE);
        atomic_write(&self.path, self.new.as_bytes(), mode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN: &str = "\
## etcd(1) daemon options
## See \"/usr/share/doc/etcd-server/op-guide/configuration.md.gz\"
#ETCD_NAME=\"hostname\"
DAEMON_ARGS=\"--logger zap\"
ETCD_INITIAL_CLUSTER=a=http://10.0.0.1:2380
";

    #[test]
    fn set_keeps_foreign_lines_and_rewrites_in_place() {
        let mut env = EnvFile::parse(DEBIAN);
        env.set("ETCD_NAME", "cp-1");
        env.set("DAEMON_ARGS", "--logger zap");
        env.set(
            "ETCD_INITIAL_CLUSTER",
            "a=http://10.0.0.1:2380,b=http://10.0.0.2:2380",
        );
        let text = env.render();
        assert_eq!(
            text,
            "\
## etcd(1) daemon options
## See \"/usr/share/doc/etcd-server/op-guide/configuration.md.gz\"
#ETCD_NAME=\"hostname\"
DAEMON_ARGS=\"--logger zap\"
ETCD_INITIAL_CLUSTER=a=http://10.0.0.1:2380,b=http://10.0.0.2:2380
ETCD_NAME=cp-1
"
        );
        assert_eq!(env.get("DAEMON_ARGS").as_deref(), Some("--logger zap"));
        assert_eq!(env.get("ETCD_NAME").as_deref(), Some("cp-1"));
    }

    #[test]
    fn set_is_idempotent() {
        let mut env = EnvFile::parse(DEBIAN);
        env.set("ETCD_NAME", "cp 1");
        let once = env.render();
        let mut again = EnvFile::parse(&once);
        again.set("ETCD_NAME", "cp 1");
        assert_eq!(again.render(), once);
        assert_eq!(again.get("ETCD_NAME").as_deref(), Some("cp 1"));
    }

    #[test]
    fn duplicates_collapse_to_the_first() {
        let mut env = EnvFile::parse("A=1\n# c\nA=2\nB=3\n");
        assert_eq!(env.get("A").as_deref(), Some("2"));
        env.set("A", "9");
        assert_eq!(env.render(), "A=9\n# c\nB=3\n");
        assert_eq!(
            EnvFile::parse("A=1\nB=2\nA=3\n").vars(),
            vec![("A".into(), "3".into()), ("B".into(), "2".into())]
        );
    }

    #[test]
    fn quoting_round_trips() {
        for v in [
            "http://10.0.0.1:2379,http://127.0.0.1:2379",
            "a b",
            "say \"hi\" $HOME \\ `x`",
            "",
        ] {
            assert_eq!(unquote(&quote(v)), v, "{v}");
        }
        assert_eq!(unquote(" 'a \"b' "), "a \"b");
        assert_eq!(unquote("\"x\\\"y\""), "x\"y");
        assert_eq!(quote("a=http://x:1"), "a=http://x:1");
    }

    #[test]
    fn comments_and_junk_are_not_assignments() {
        let env = EnvFile::parse("#A=1\n ; B=2\n1X=3\nnot a line\n  C = 4 \n");
        assert_eq!(env.vars(), vec![("C".into(), "4".into())]);
    }

    #[test]
    fn plan_new_file_and_no_op() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("etcd");
        let upd = [("ETCD_NAME", "n1".to_string())];
        let edit = Edit::plan(&path, &upd).unwrap();
        assert!(edit.changed());
        assert_eq!(
            edit.change_entry().get("diff"),
            Some(&Value::from("New file"))
        );
        assert!(edit.new.starts_with(HEADER));
        edit.apply().unwrap();
        let again = Edit::plan(&path, &upd).unwrap();
        assert!(!again.changed());
        // A file without a final newline is not rewritten for that alone.
        std::fs::write(&path, "X=1\nETCD_NAME=n1").unwrap();
        assert!(!Edit::plan(&path, &upd).unwrap().changed());
        let edit = Edit::plan(&path, &[("ETCD_NAME", "n2".to_string())]).unwrap();
        let diff = edit.change_entry();
        let text = diff.get("diff").and_then(Value::as_str).unwrap();
        assert!(
            text.contains("-ETCD_NAME=n1") && text.contains("+ETCD_NAME=n2"),
            "{text}"
        );
    }
}
