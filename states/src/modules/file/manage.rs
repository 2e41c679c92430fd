//! Salt's `file.manage_file` and `file.check_managed_changes`: put wanted bytes at a path,
//! reporting a diff and permission changes (shared by `managed` and `serialize`).

use super::difflib::file_diff;
use super::util::{
    atomic_write, backup_minion, check_perms, current_umask, is_text, makedirs, Perms,
};
use super::StateCall;
use halite_core::{Error, Map, Result, Value};
use std::path::Path;

/// Where the new content comes from.
pub enum Content {
    /// A cached source file's bytes (`source:`).
    Source(Vec<u8>),
    /// Inline text (`contents:`, a serializer's output).
    Inline(String),
    /// Nothing: only create an empty file and enforce permissions.
    Nothing,
}

impl Content {
    fn bytes(&self) -> Option<&[u8]> {
        match self {
            Content::Source(b) => Some(b),
            Content::Inline(s) => Some(s.as_bytes()),
            Content::Nothing => None,
        }
    }
}

/// One `manage_file` job.
pub struct Manage<'a> {
    /// The path.
    pub name: &'a str,
    /// The content to put there.
    pub content: Content,
    /// Owner, group, mode.
    pub perms: Perms<'a>,
    /// Create missing parent directories.
    pub makedirs: bool,
    /// Mode of created directories.
    pub dir_mode: Option<String>,
    /// Report a diff (else `<show_changes=False>`).
    pub show_changes: bool,
    /// `backup:` (`minion` keeps a copy under the cachedir).
    pub backup: String,
    /// Show a diff for a new file too (`new_file_diff`).
    pub new_file_diff: bool,
}

fn diff_text(old: &[u8], new: &[u8], show_changes: bool) -> String {
    if !show_changes {
        return "<show_changes=False>".into();
    }
    match (is_text(old), is_text(new)) {
        (true, true) => file_diff(&String::from_utf8_lossy(old), &String::from_utf8_lossy(new)),
        (false, false) => "Replace binary file".into(),
        (false, true) => "Replace binary file with text file".into(),
        (true, false) => "Replace text file with binary file".into(),
    }
}

/// Salt's `check_file_meta` for test mode: the changes `manage_file` would make.
pub fn would_change(m: &Manage) -> Map {
    let path = Path::new(m.name);
    let mut changes = Map::default();
    let Ok(current) = std::fs::read(path) else {
        if std::fs::symlink_metadata(path).is_err() {
            changes.insert("newfile".into(), m.name.into());
        }
        return changes;
    };
    if let Some(new) = m.content.bytes() {
        if current != new {
            changes.insert(
                "diff".into(),
                diff_text(&current, new, m.show_changes).into(),
            );
        }
    }
    check_perms(path, &mut changes, &m.perms, true);
    changes
}

fn error(ret: &mut Map, comment: String) {
    ret.insert("result".into(), Value::Bool(false));
    ret.insert("comment".into(), comment.into());
}

/// Salt's `manage_file`: write the content (atomically, with a backup when asked), then
/// enforce permissions; fills `changes`, `comment` and `result` of `ret`.
pub fn manage_file(c: &StateCall, m: &Manage, ret: &mut Map) -> Result<()> {
    let path = Path::new(m.name);
    let mut changes = ret
        .get("changes")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    let exists = std::fs::symlink_metadata(path).is_ok();
    let real = if m.perms.follow_symlinks {
        std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
    } else {
        path.to_path_buf()
    };
    if exists {
        let current = std::fs::read(&real).map_err(|e| Error::io(m.name, &e))?;
        if let Some(new) = m.content.bytes() {
            if current != new {
                changes.insert(
                    "diff".into(),
                    diff_text(&current, new, m.show_changes).into(),
                );
                if m.backup == "minion" || m.backup == "both" {
                    let cachedir = c
                        .opts
                        .get("cachedir")
                        .map(Value::py_str)
                        .unwrap_or_default();
                    backup_minion(&real, &cachedir)?;
                }
                atomic_write(&real, new, None)?;
            }
        }
        let (errors, _) = check_perms(path, &mut changes, &m.perms, false);
        ret.insert("changes".into(), Value::Map(changes.clone()));
        if !errors.is_empty() {
            error(ret, errors.join("; "));
            return Ok(());
        }
        let comment = if changes.is_empty() {
            format!("File {} is in the correct state", m.name)
        } else {
            format!("File {} updated", m.name)
        };
        ret.insert("comment".into(), comment.into());
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.is_dir()) {
        if !m.makedirs {
            ret.insert("changes".into(), Value::Map(changes));
            error(ret, "Parent directory not present".into());
            return Ok(());
        }
        let dir_mode = m.dir_mode.clone().or_else(|| {
            m.perms.mode.as_ref().map(|mode| {
                let digits: String = mode
                    .chars()
                    .rev()
                    .take(3)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                digits
                    .chars()
                    .map(|d| match d.to_digit(8) {
                        Some(0) | None => d,
                        Some(n) => char::from_digit(n | 1, 8).unwrap_or(d),
                    })
                    .collect()
            })
        });
        makedirs(parent, dir_mode.as_deref())?;
    }
    let umask = current_umask();
    let (data, initial_mode): (&[u8], u32) = match &m.content {
        Content::Source(b) => {
            changes.insert("diff".into(), "New file".into());
            (b, 0o600)
        }
        Content::Inline(s) => {
            changes.insert("diff".into(), "New file".into());
            let mask = if m.perms.mode.is_some() { 0o077 } else { umask };
            (s.as_bytes(), 0o666 & !mask)
        }
        Content::Nothing => {
            changes.insert("new".into(), format!("file {} created", m.name).into());
            ret.insert("comment".into(), "Empty file".into());
            let mask = if m.perms.mode.is_some() { 0o077 } else { umask };
            (&[], 0o666 & !mask)
        }
    };
    if m.new_file_diff && !matches!(m.content, Content::Nothing) {
        changes.insert("diff".into(), diff_text(b"", data, m.show_changes).into());
    }
    atomic_write(path, data, Some(initial_mode))?;
    let mut perms = m.perms.clone();
    if perms.mode.is_none() {
        perms.mode = Some(format!("{:04o}", 0o666 & !umask));
    }
    let (errors, _) = check_perms(path, &mut changes, &perms, false);
    ret.insert("changes".into(), Value::Map(changes));
    if !errors.is_empty() {
        error(ret, errors.join("; "));
        return Ok(());
    }
    if ret.get("comment").is_none_or(|v| v.py_str().is_empty()) {
        ret.insert("comment".into(), format!("File {} updated", m.name).into());
    }
    Ok(())
}
