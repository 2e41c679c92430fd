//! `file.symlink`.

use super::util::{gid_of, group_name, makedirs, normalize_mode, uid_of, user_name};
use super::{arg, expand_user, fail, ret, StateCall};
use halite_core::{Map, Result, Value};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// `os.path.normpath` for absolute or relative paths.
fn normpath(p: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for c in Path::new(p).components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn default_group(user: &str) -> String {
    nix::unistd::User::from_name(user)
        .ok()
        .flatten()
        .map_or_else(|| user.to_string(), |u| group_name(u.gid.as_raw()))
}

fn owned_by(path: &Path, uid: Option<u32>, gid: Option<u32>) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| Some(m.uid()) == uid && Some(m.gid()) == gid)
}

/// `file.symlink`: a symlink `name` → `target`, owned by `user:group`.
pub fn symlink(c: &StateCall) -> Result<Map> {
    let name = expand_user(&c.name());
    let mut r = ret(&name, Map::default(), Some(true), "");
    if name.is_empty() {
        fail(&mut r, "Must provide name to file.symlink".into());
        return Ok(r);
    }
    let target = arg(c, "target").map(Value::py_str).unwrap_or_default();
    let path = Path::new(&name);
    let is_link = path.is_symlink();
    let user = match arg(c, "user") {
        Some(u) => u.py_str(),
        None if is_link && c.flag("inherit_user_and_group", false) => {
            std::fs::symlink_metadata(path)
                .map(|m| user_name(m.uid()))
                .unwrap_or_default()
        }
        None => c
            .opts
            .get("user")
            .map(Value::py_str)
            .unwrap_or_else(|| "root".into()),
    };
    let group = arg(c, "group")
        .map(Value::py_str)
        .unwrap_or_else(|| default_group(&user));
    let (uid, gid) = (
        uid_of(&Value::Str(user.clone())),
        gid_of(&Value::Str(group.clone())),
    );
    let mut errors = Vec::new();
    if uid.is_none() {
        errors.push(format!("User {user} does not exist"));
    }
    if gid.is_none() {
        errors.push(format!("Group {group} does not exist"));
    }
    if !path.is_absolute() {
        errors.push(format!("Specified file {name} is not an absolute path"));
    }
    if !errors.is_empty() {
        let mut msg = errors.join(". ");
        if errors.len() > 1 {
            msg.push('.');
        }
        fail(&mut r, msg);
        return Ok(r);
    }
    let force = c.flag("force", false);
    let follow = c.flag("follow_symlinks", false);
    let exists = if follow {
        path.exists()
    } else {
        std::fs::symlink_metadata(path).is_ok()
    };
    let current = std::fs::read_link(path)
        .ok()
        .map(|t| t.display().to_string());
    let mut tchanges = Map::default();
    let (mut tresult, mut tcomment) = if !exists && !is_link {
        tchanges.insert("new".into(), name.clone().into());
        (
            None,
            format!("Symlink {name} to {target} is set for creation"),
        )
    } else if is_link {
        if current.as_deref() != Some(target.as_str()) {
            tchanges.insert("change".into(), name.clone().into());
            (
                None,
                format!("Link {name} target is set to be changed to {target}"),
            )
        } else if !owned_by(path, uid, gid) {
            let m = std::fs::symlink_metadata(path).ok();
            let (cu, cg) = m
                .map(|m| (user_name(m.uid()), group_name(m.gid())))
                .unwrap_or_default();
            tchanges.insert("ownership".into(), format!("{cu}:{cg}").into());
            (None, format!("The symlink {name} is present, but the ownership of the symlink would be changed from {cu}:{cg} to {user}:{group}"))
        } else {
            (Some(true), format!("The symlink {name} is present"))
        }
    } else if force {
        (None, format!("The file or directory {name} is set for removal to make way for a new symlink targeting {target}"))
    } else {
        (Some(false), format!("File or directory exists where the symlink {name} should be. Did you mean to use force?"))
    };
    let parent = path.parent().unwrap_or(Path::new("/"));
    if !parent.is_dir() {
        if c.flag("makedirs", false) {
            if c.test {
                tcomment.push_str(&format!("\n{} will be created", parent.display()));
            } else {
                makedirs(parent, normalize_mode(arg(c, "mode")).as_deref())?;
            }
        } else if c.test {
            tcomment.push_str(&format!(
                "\nDirectory {} for symlink is not present",
                parent.display()
            ));
        } else {
            fail(
                &mut r,
                format!("Directory {} for symlink is not present", parent.display()),
            );
            return Ok(r);
        }
    }
    if c.test {
        if tresult == Some(false) {
            tchanges.clear();
        }
        r.insert(
            "result".into(),
            tresult.take().map_or(Value::Null, Value::Bool),
        );
        r.insert("comment".into(), tcomment.into());
        r.insert("changes".into(), Value::Map(tchanges));
        return Ok(r);
    }
    let mut changes = Map::default();
    if is_link {
        if current.as_deref().map(normpath) != Some(normpath(&target)) {
            let _ = std::fs::remove_file(path);
        } else {
            if owned_by(path, uid, gid) {
                r.insert(
                    "comment".into(),
                    format!("Symlink {name} is present and owned by {user}:{group}").into(),
                );
            } else if std::os::unix::fs::lchown(path, uid, gid).is_ok() {
                r.insert(
                    "comment".into(),
                    format!("Set ownership of symlink {name} to {user}:{group}").into(),
                );
                changes.insert("ownership".into(), format!("{user}:{group}").into());
            } else {
                fail(
                    &mut r,
                    format!("Failed to set ownership of symlink {name} to {user}:{group}"),
                );
            }
            r.insert("changes".into(), Value::Map(changes));
            return Ok(r);
        }
    } else if exists {
        if let Some(backup) = arg(c, "backupname").map(Value::py_str) {
            let backup = if Path::new(&backup).is_absolute() {
                PathBuf::from(&backup)
            } else if !backup.contains('/') {
                parent.join(&backup)
            } else {
                fail(
                    &mut r,
                    format!("Backupname must be an absolute path or a file name: {backup}"),
                );
                return Ok(r);
            };
            if std::fs::symlink_metadata(&backup).is_ok() {
                if !force {
                    fail(&mut r, format!("Symlink & backup dest exists and Force not set. {name} -> {target} - backup: {}", backup.display()));
                    return Ok(r);
                }
                let _ = remove_any(&backup);
            }
            if let Err(e) = std::fs::rename(path, &backup) {
                fail(
                    &mut r,
                    format!(
                        "Unable to rename {name} to backup {} -> : {e}",
                        backup.display()
                    ),
                );
                return Ok(r);
            }
        } else if !force && !c.flag("atomic", false) {
            let kind = if path.is_file() {
                "File"
            } else if path.is_dir() {
                "Directory"
            } else {
                "File system entry"
            };
            fail(
                &mut r,
                format!("{kind} exists where the symlink {name} should be"),
            );
            return Ok(r);
        } else {
            let _ = remove_any(path);
        }
    }
    if let Err(e) = std::os::unix::fs::symlink(&target, path) {
        fail(
            &mut r,
            format!("Unable to create new symlink {name} -> {target}: {e}"),
        );
        return Ok(r);
    }
    let mut comment = format!("Created new symlink {name} -> {target}");
    changes.insert("new".into(), name.clone().into());
    if !owned_by(path, uid, gid) && std::os::unix::fs::lchown(path, uid, gid).is_err() {
        r.insert("result".into(), Value::Bool(false));
        comment.push_str(&format!(
            ", but was unable to set ownership to {user}:{group}"
        ));
    }
    r.insert("comment".into(), comment.into());
    r.insert("changes".into(), Value::Map(changes));
    Ok(r)
}

fn remove_any(p: &Path) -> std::io::Result<()> {
    if p.is_dir() && !p.is_symlink() {
        std::fs::remove_dir_all(p)
    } else {
        std::fs::remove_file(p)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::call;
    use halite_core::Value;

    #[test]
    fn creates_then_keeps_link() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("a/b/link");
        let name = link.display().to_string();
        let args = [
            ("name", Value::from(name.as_str())),
            ("target", Value::from("/etc")),
            ("makedirs", Value::Bool(true)),
        ];
        let r = call(super::symlink, &args, false);
        assert_eq!(
            r.get("comment"),
            Some(&Value::from(format!("Created new symlink {name} -> /etc")))
        );
        assert_eq!(std::fs::read_link(&link).unwrap().to_str(), Some("/etc"));
        let r = call(super::symlink, &args, true);
        assert_eq!(r.get("result"), Some(&Value::Bool(true)), "{r:?}");
    }
}
