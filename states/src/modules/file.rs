//! `file.*` states (salt/states/file.py), the subset the local engine needs:
//! `managed` (inline `contents`), `directory`, `absent`. Every write is atomic
//! (temp file in the same directory, fsync, mode set, rename).

use super::{ret, Registry, StateCall};
use halite_core::{Error, Map, Result, Value};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Register the `file` module.
pub fn register(r: &mut Registry) {
    r.add("file.managed", managed);
    r.add("file.directory", directory);
    r.add("file.absent", absent);
}

/// Salt's mode normalisation: `644`, `'0644'`, `0o644` → `"0644"`.
pub fn normalize_mode(v: Option<&Value>) -> Option<String> {
    let v = v.filter(|v| !v.is_null())?;
    let s = v.py_str();
    let s = s.trim_start_matches("0o");
    let digits = s.trim_start_matches('0');
    let n = u32::from_str_radix(if digits.is_empty() { "0" } else { digits }, 8).ok()?;
    Some(format!("{n:04o}"))
}

fn mode_of(path: &Path) -> Option<String> {
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| format!("{:04o}", m.permissions().mode() & 0o7777))
}

/// Write `data` to `path` atomically: temp file beside it, fsync, mode, rename.
pub fn atomic_write(path: &Path, data: &[u8], mode: Option<u32>) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let mut tmp = tempfile::Builder::new()
        .prefix(".halite-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir.display().to_string(), &e))?;
    tmp.write_all(data)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::io(path.display().to_string(), &e))?;
    let perm = match mode {
        Some(m) => m,
        None => match std::fs::metadata(path) {
            Ok(meta) => meta.permissions().mode() & 0o7777,
            Err(_) => 0o644 & !current_umask(),
        },
    };
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(perm))
        .map_err(|e| Error::io(path.display().to_string(), &e))?;
    tmp.persist(path)
        .map_err(|e| Error::io(path.display().to_string(), &e.error))?;
    Ok(())
}

fn current_umask() -> u32 {
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    nix::sys::stat::umask(old);
    old.bits()
}

/// Salt's `get_diff`: difflib's unified diff with empty file names.
pub fn unified_diff(old: &str, new: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut out = String::from("--- \n+++ \n");
    for hunk in diff.unified_diff().context_radius(3).missing_newline_hint(false).iter_hunks() {
        out.push_str(&hunk.to_string());
    }
    out
}

fn contents_from(c: &StateCall) -> Result<Option<String>> {
    if let Some(v) = c.arg("contents").filter(|v| !v.is_null()) {
        let text = match v {
            Value::List(l) => l.iter().map(Value::py_str).collect::<Vec<_>>().join("\n"),
            other => other.py_str(),
        };
        return Ok(Some(text));
    }
    if let Some(key) = c.str_arg("contents_pillar") {
        let mut kwargs = Map::new();
        kwargs.insert("key".into(), key.into());
        let v = c.functions.call("pillar.get", &[Value::from(key)], &Map::new())?;
        let _ = kwargs;
        let text = match v {
            Value::List(l) => l.iter().map(Value::py_str).collect::<Vec<_>>().join("\n"),
            Value::Null => {
                return Err(Error::InvalidArgument(format!(
                    "Pillar {key} does not exist"
                )))
            }
            other => other.py_str(),
        };
        return Ok(Some(text));
    }
    Ok(None)
}

fn managed(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let path = PathBuf::from(&name);
    let mut r = Map::new();
    r.insert("changes".into(), Value::map());
    r.insert("comment".into(), "".into());
    r.insert("name".into(), name.clone().into());
    r.insert("result".into(), Value::Bool(true));
    if c.arg("source").is_some_and(|v| !v.is_null()) {
        return Err(Error::NotAvailable("file.managed with source".into()));
    }
    if !path.is_absolute() {
        r.insert("result".into(), Value::Bool(false));
        r.insert("comment".into(), format!("Specified file {name} is not an absolute path").into());
        return Ok(r);
    }
    let mode = normalize_mode(c.arg("mode"));
    let exists = path.exists();
    if exists && !c.flag("replace", true) {
        r.insert(
            "comment".into(),
            format!("File {name} exists with proper permissions. No changes made.").into(),
        );
        return Ok(r);
    }
    let mut contents = contents_from(c)?;
    if let Some(text) = contents.as_mut() {
        if c.flag("contents_newline", true) && !text.ends_with('\n') {
            text.push('\n');
        }
    }
    let current = if exists {
        Some(std::fs::read(&path).map_err(|e| Error::io(&name, &e))?)
    } else {
        None
    };
    let mut changes = Map::new();
    let content_changes = match (&current, &contents) {
        (None, _) => true,
        (Some(cur), Some(new)) => cur.as_slice() != new.as_bytes(),
        (Some(_), None) => false,
    };
    if content_changes {
        match &current {
            None => {
                if c.test {
                    changes.insert("newfile".into(), name.clone().into());
                } else {
                    changes.insert("diff".into(), "New file".into());
                }
            }
            Some(cur) => {
                let old = String::from_utf8_lossy(cur);
                let new = contents.clone().unwrap_or_default();
                let diff = if c.flag("show_changes", true) {
                    unified_diff(&old, &new)
                } else {
                    "<show_changes=False>".into()
                };
                changes.insert("diff".into(), diff.into());
            }
        }
    }
    let mode_changes = match (&mode, exists) {
        (Some(m), true) => mode_of(&path).as_deref() != Some(m.as_str()),
        _ => false,
    };
    if mode_changes {
        if let Some(m) = &mode {
            changes.insert("mode".into(), m.clone().into());
        }
    }
    if changes.is_empty() {
        r.insert("comment".into(), format!("File {name} is in the correct state").into());
        return Ok(r);
    }
    if c.test {
        r.insert("changes".into(), Value::Map(changes));
        r.insert("result".into(), Value::Null);
        r.insert(
            "comment".into(),
            format!("The file {name} is set to be changed\nNote: No changes made, actual changes may\nbe different due to other states.").into(),
        );
        return Ok(r);
    }
    if let Some(parent) = path.parent() {
        if !parent.is_dir() {
            if c.flag("makedirs", false) {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent.display().to_string(), &e))?;
            } else {
                r.insert("result".into(), Value::Bool(false));
                r.insert("changes".into(), Value::map());
                r.insert(
                    "comment".into(),
                    format!("Parent directory not present").into(),
                );
                return Ok(r);
            }
        }
    }
    let mode_bits = mode.as_deref().and_then(|m| u32::from_str_radix(m, 8).ok());
    if content_changes {
        let data = contents.unwrap_or_default();
        atomic_write(&path, data.as_bytes(), mode_bits)?;
    } else if let Some(bits) = mode_bits {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(bits))
            .map_err(|e| Error::io(&name, &e))?;
    }
    r.insert("changes".into(), Value::Map(changes));
    r.insert("comment".into(), format!("File {name} updated").into());
    Ok(r)
}

fn directory(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let path = PathBuf::from(&name);
    let mut r = ret(&name, Map::new(), Some(true), "");
    if !path.is_absolute() {
        r.insert("result".into(), Value::Bool(false));
        r.insert("comment".into(), format!("Specified file {name} is not an absolute path").into());
        return Ok(r);
    }
    let mode = normalize_mode(c.arg("dir_mode").or(c.arg("mode")));
    if path.exists() && !path.is_dir() {
        r.insert("result".into(), Value::Bool(false));
        r.insert("comment".into(), format!("Specified location {name} exists and is a file").into());
        return Ok(r);
    }
    let mut changes = Map::new();
    if !path.exists() {
        let mut inner = Map::new();
        inner.insert("directory".into(), "new".into());
        changes.insert(Value::Str(name.clone()), Value::Map(inner));
    } else if let Some(m) = &mode {
        if mode_of(&path).as_deref() != Some(m.as_str()) {
            let mut inner = Map::new();
            inner.insert("mode".into(), m.clone().into());
            changes.insert(Value::Str(name.clone()), Value::Map(inner));
        }
    }
    if c.test {
        if changes.is_empty() {
            r.insert("comment".into(), format!("The directory {name} is in the correct state").into());
        } else {
            let mut cm = String::from("The following files will be changed:\n");
            for (k, v) in &changes {
                if let Value::Map(inner) = v {
                    for (ik, iv) in inner {
                        cm.push_str(&format!("{}: {} - {}\n", k.py_str(), ik.py_str(), iv.py_str()));
                    }
                }
            }
            r.insert("comment".into(), cm.into());
            r.insert("result".into(), Value::Null);
            r.insert("changes".into(), Value::Map(changes));
        }
        return Ok(r);
    }
    if !path.exists() {
        let parent_ok = path.parent().is_none_or(Path::is_dir);
        if !parent_ok && !c.flag("makedirs", false) {
            r.insert("result".into(), Value::Bool(false));
            r.insert(
                "comment".into(),
                format!(
                    "No directory to create {name} in",
                )
                .into(),
            );
            return Ok(r);
        }
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&name, &e))?;
        if let Some(m) = &mode {
            if let Ok(bits) = u32::from_str_radix(m, 8) {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(bits))
                    .map_err(|e| Error::io(&name, &e))?;
            }
        }
        r.insert("changes".into(), Value::Map(changes));
        return Ok(r);
    }
    if !changes.is_empty() {
        if let Some(m) = &mode {
            if let Ok(bits) = u32::from_str_radix(m, 8) {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(bits))
                    .map_err(|e| Error::io(&name, &e))?;
            }
            changes.insert("mode".into(), m.clone().into());
        }
        r.insert("changes".into(), Value::Map(changes));
        r.insert("comment".into(), format!("Directory {name} updated").into());
        return Ok(r);
    }
    r.insert("comment".into(), format!("The directory {name} is in the correct state").into());
    Ok(r)
}

fn absent(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let path = PathBuf::from(&name);
    let mut r = ret(&name, Map::new(), Some(true), "");
    if !path.is_absolute() {
        r.insert("result".into(), Value::Bool(false));
        r.insert("comment".into(), format!("Specified file {name} is not an absolute path").into());
        return Ok(r);
    }
    if name == "/" {
        r.insert("result".into(), Value::Bool(false));
        r.insert("comment".into(), "Refusing to make \"/\" absent".into());
        return Ok(r);
    }
    let meta = std::fs::symlink_metadata(&path);
    let Ok(meta) = meta else {
        r.insert("comment".into(), format!("File {name} is not present").into());
        return Ok(r);
    };
    let is_dir = meta.is_dir();
    let mut changes = Map::new();
    changes.insert("removed".into(), name.clone().into());
    if c.test {
        r.insert("result".into(), Value::Null);
        r.insert("changes".into(), Value::Map(changes));
        let what = if is_dir { "Directory" } else { "File" };
        r.insert("comment".into(), format!("{what} {name} is set for removal").into());
        return Ok(r);
    }
    let res = if is_dir { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
    res.map_err(|e| Error::io(&name, &e))?;
    r.insert("changes".into(), Value::Map(changes));
    let what = if is_dir { "Directory" } else { "File" };
    r.insert("comment".into(), format!("Removed {}", if is_dir { format!("directory {name}") } else { format!("file {name}") }).into());
    let _ = what;
    Ok(r)
}
