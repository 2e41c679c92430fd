//! `file.touch`.

use super::util::makedirs;
use super::{arg, expand_user, fail, StateCall};
use halite_core::{Map, Result, Value};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

fn set_times(path: &Path, atime: Option<i64>, mtime: Option<i64>) -> std::io::Result<()> {
    use nix::sys::stat::{utimensat, UtimensatFlags};
    use nix::sys::time::TimeSpec;
    let now = TimeSpec::UTIME_NOW;
    let a = atime.map_or(now, |t| TimeSpec::new(t, 0));
    let m = mtime.map_or(now, |t| TimeSpec::new(t, 0));
    utimensat(
        nix::fcntl::AT_FDCWD,
        path,
        &a,
        &m,
        UtimensatFlags::FollowSymlink,
    )
    .map_err(std::io::Error::from)
}

/// `file.touch`: create an empty file or update its times.
pub fn touch(c: &StateCall) -> Result<Map> {
    let name = expand_user(&c.name());
    let mut r = Map::default();
    r.insert("name".into(), name.clone().into());
    r.insert("changes".into(), Value::map());
    if name.is_empty() {
        fail(&mut r, "Must provide name to file.touch".into());
        return Ok(r);
    }
    let path = Path::new(&name);
    if !path.is_absolute() {
        fail(
            &mut r,
            format!("Specified file {name} is not an absolute path"),
        );
        return Ok(r);
    }
    let atime = arg(c, "atime").and_then(Value::as_int);
    let mtime = arg(c, "mtime").and_then(Value::as_int);
    if c.test {
        let mut changes = Map::default();
        changes.insert("new".into(), name.clone().into());
        let (result, comment) = match std::fs::symlink_metadata(path) {
            Err(_) => (Value::Null, format!("File {name} is set to be created")),
            Ok(m) => {
                let differs =
                    atime.is_some_and(|a| a != m.atime()) || mtime.is_some_and(|t| t != m.mtime());
                if differs {
                    changes = Map::default();
                    changes.insert("touched".into(), name.clone().into());
                    (
                        Value::Null,
                        format!("Times set to be updated on file {name}"),
                    )
                } else {
                    (
                        Value::Bool(true),
                        format!("File {name} exists and has the correct times"),
                    )
                }
            }
        };
        r.insert("result".into(), result);
        r.insert("comment".into(), comment.into());
        r.insert("changes".into(), Value::Map(changes));
        return Ok(r);
    }
    let parent = path.parent().unwrap_or(Path::new("/"));
    if c.flag("makedirs", false) {
        makedirs(parent, None)?;
    }
    if !parent.is_dir() {
        fail(
            &mut r,
            format!("Directory not present to touch file {name}"),
        );
        return Ok(r);
    }
    let extant = path.exists();
    let ok = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .is_ok()
        && set_times(path, atime, mtime).is_ok();
    r.insert("result".into(), Value::Bool(ok));
    let mut changes = Map::default();
    if ok && !extant {
        r.insert(
            "comment".into(),
            format!("Created empty file {name}").into(),
        );
        changes.insert("new".into(), name.clone().into());
    } else if ok {
        let kind = if path.is_dir() { "directory" } else { "file" };
        r.insert(
            "comment".into(),
            format!("Updated times on {kind} {name}").into(),
        );
        changes.insert("touched".into(), name.clone().into());
    }
    r.insert("changes".into(), Value::Map(changes));
    Ok(r)
}
