//! `file.copy`: copy a local file or directory to `name`.

use super::util::{check_perms, makedirs, normalize_mode, Perms};
use super::{arg, expand_user, fail, StateCall};
use halite_core::{Map, Result, Value};
use std::path::Path;

fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    if src.is_dir() {
        std::fs::create_dir_all(dst)?;
        for entry in std::fs::read_dir(src)? {
            let entry = entry?;
            copy_tree(&entry.path(), &dst.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        let data = std::fs::read(src)?;
        let mode = std::fs::metadata(src)
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777)
            .ok();
        super::util::atomic_write(dst, &data, mode)
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

fn same_content(a: &Path, b: &Path) -> bool {
    a.is_file() && b.is_file() && std::fs::read(a).ok() == std::fs::read(b).ok()
}

/// `file.copy`.
pub fn copy(c: &StateCall) -> Result<Map> {
    let name = expand_user(&c.name());
    let source = expand_user(&arg(c, "source").map(Value::py_str).unwrap_or_default());
    let mut r = Map::default();
    r.insert("name".into(), name.clone().into());
    r.insert("changes".into(), Value::map());
    r.insert(
        "comment".into(),
        format!("Copied \"{source}\" to \"{name}\"").into(),
    );
    r.insert("result".into(), Value::Bool(true));
    if name.is_empty() {
        fail(&mut r, "Must provide name to file.copy".into());
        return Ok(r);
    }
    let (dst, src) = (Path::new(&name), Path::new(&source));
    if !src.is_absolute() {
        fail(
            &mut r,
            format!("Specified file {source} is not an absolute path"),
        );
        return Ok(r);
    }
    if !src.exists() {
        fail(&mut r, format!("Source file \"{source}\" is not present"));
        return Ok(r);
    }
    let perms = Perms::from_args(
        arg(c, "user"),
        arg(c, "group"),
        normalize_mode(arg(c, "mode")),
    );
    let force = c.flag("force", false);
    let preserve = c.flag("preserve", false);
    let mut changed = true;
    if dst.exists() {
        if force && !same_content(src, dst) {
            if !c.test {
                let _ = if dst.is_dir() {
                    std::fs::remove_dir_all(dst)
                } else {
                    std::fs::remove_file(dst)
                };
            }
        } else {
            changed = false;
        }
    }
    if !changed {
        let mut changes = Map::default();
        let (errors, _) = check_perms(dst, &mut changes, &perms, c.test);
        if c.test && !changes.is_empty() {
            r.insert("result".into(), Value::Null);
        }
        r.insert("changes".into(), Value::Map(changes));
        let comment = if errors.is_empty() {
            format!("The target file \"{name}\" exists and will not be overwritten")
        } else {
            errors.join("; ")
        };
        r.insert("comment".into(), comment.into());
        if !errors.is_empty() {
            r.insert("result".into(), Value::Bool(false));
        }
        return Ok(r);
    }
    if c.test {
        r.insert(
            "comment".into(),
            format!("File \"{source}\" is set to be copied to \"{name}\"").into(),
        );
        r.insert("result".into(), Value::Null);
        return Ok(r);
    }
    let parent = dst.parent().unwrap_or(Path::new("/"));
    if !parent.is_dir() {
        if c.flag("makedirs", false) {
            makedirs(parent, None)?;
        } else {
            fail(
                &mut r,
                format!("The target directory {} is not present", parent.display()),
            );
            return Ok(r);
        }
    }
    if let Err(e) = copy_tree(src, dst) {
        fail(
            &mut r,
            format!("Failed to copy \"{source}\" to \"{name}\": {e}"),
        );
        return Ok(r);
    }
    let mut changes = Map::default();
    changes.insert(name.clone().into(), source.clone().into());
    if !preserve {
        check_perms(dst, &mut Map::default(), &perms, false);
    }
    r.insert("changes".into(), Value::Map(changes));
    Ok(r)
}
