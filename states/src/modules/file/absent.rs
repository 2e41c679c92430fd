//! `file.absent`.

use super::{expand_user, fail, ret, StateCall};
use halite_core::{Map, Result, Value};
use std::path::Path;

/// `file.absent`: remove a file, a symlink or a whole directory tree.
pub fn absent(c: &StateCall) -> Result<Map> {
    let name = expand_user(&c.name());
    let mut r = ret(&name, Map::default(), Some(true), "");
    if name.is_empty() {
        fail(&mut r, "Must provide name to file.absent".into());
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
    if name == "/" {
        fail(&mut r, "Refusing to make \"/\" absent".into());
        return Ok(r);
    }
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        r.insert(
            "comment".into(),
            format!("File {name} is not present").into(),
        );
        return Ok(r);
    };
    let is_dir = meta.is_dir();
    let what = if is_dir { "Directory" } else { "File" };
    let mut changes = Map::default();
    changes.insert("removed".into(), name.clone().into());
    if c.test {
        r.insert("result".into(), Value::Null);
        r.insert("changes".into(), Value::Map(changes));
        r.insert(
            "comment".into(),
            format!("{what} {name} is set for removal").into(),
        );
        return Ok(r);
    }
    let res = if is_dir {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    if let Err(e) = res {
        let msg = if is_dir {
            format!("Failed to remove directory {name}")
        } else {
            e.to_string()
        };
        fail(&mut r, msg);
        return Ok(r);
    }
    r.insert("changes".into(), Value::Map(changes));
    r.insert(
        "comment".into(),
        format!("Removed {} {name}", what.to_lowercase()).into(),
    );
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::call;
    use halite_core::Value;

    #[test]
    fn removes_tree_then_reports_not_present() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("t");
        std::fs::create_dir_all(tree.join("sub")).unwrap();
        std::fs::write(tree.join("sub/f"), "x").unwrap();
        let name = tree.display().to_string();
        let r = call(
            super::absent,
            &[("name", Value::from(name.as_str()))],
            false,
        );
        assert_eq!(
            r.get("comment"),
            Some(&Value::from(format!("Removed directory {name}")))
        );
        assert!(!tree.exists());
        let r = call(
            super::absent,
            &[("name", Value::from(name.as_str()))],
            false,
        );
        assert_eq!(
            r.get("comment"),
            Some(&Value::from(format!("File {name} is not present")))
        );
    }
}
