//! `file.directory`: a directory with owner, group, mode, optional recursion and `clean`.

use super::util::{check_perms, check_user, gid_of, makedirs, normalize_mode, uid_of, Perms};
use super::{arg, expand_user, fail, StateCall};
use halite_core::{Map, Result, Value};
use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// `os.walk` steps, top-down: each directory's subdirectories and files.
struct Walk {
    steps: Vec<(Vec<PathBuf>, Vec<PathBuf>)>,
}

impl Walk {
    fn dirs(&self) -> impl Iterator<Item = &PathBuf> {
        self.steps.iter().flat_map(|(d, _)| d.iter())
    }

    fn files(&self) -> impl Iterator<Item = &PathBuf> {
        self.steps.iter().flat_map(|(_, f)| f.iter())
    }
}

/// `os.walk` limited to `max_depth`, top-down; entries sorted by name.
fn walk(root: &Path, max_depth: Option<usize>) -> Walk {
    fn go(dir: &Path, depth: usize, max: Option<usize>, w: &mut Walk) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        let (dirs, files): (Vec<PathBuf>, Vec<PathBuf>) = entries
            .into_iter()
            .partition(|p| p.is_dir() && !p.is_symlink());
        w.steps.push((dirs.clone(), files));
        if max.is_none_or(|m| depth < m) {
            for d in dirs {
                go(&d, depth + 1, max, w);
            }
        }
    }
    let mut w = Walk { steps: Vec::new() };
    if max_depth != Some(0) {
        go(root, 1, max_depth, &mut w);
    }
    w
}

fn meta_changes(
    path: &Path,
    user: Option<&Value>,
    group: Option<&Value>,
    mode: Option<&str>,
    follow: bool,
) -> Map {
    let mut ch = Map::default();
    let meta = if follow {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    };
    let Ok(meta) = meta else {
        ch.insert("directory".into(), "new".into());
        return ch;
    };
    if let Some(u) = user {
        if uid_of(u) != Some(meta.uid()) {
            ch.insert("user".into(), u.clone());
        }
    }
    if let Some(g) = group {
        if gid_of(g) != Some(meta.gid()) {
            ch.insert("group".into(), g.clone());
        }
    }
    if let Some(m) = mode {
        let is_link = meta.file_type().is_symlink();
        if format!("{:04o}", meta.mode() & 0o7777) != m && (follow || !is_link) {
            ch.insert("mode".into(), m.into());
        }
    }
    ch
}

/// The files `clean` keeps: what required `file` states manage, and their parents.
fn keep_files(c: &StateCall, name: &str) -> BTreeSet<PathBuf> {
    let mut keep = BTreeSet::new();
    let Some(Value::List(reqs)) = arg(c, "require") else {
        return keep;
    };
    for req in reqs {
        let Some(target) = req.get("file").map(Value::py_str) else {
            continue;
        };
        for tag in c.running.keys() {
            let parts: Vec<&str> = tag.split("_|-").collect();
            if parts.len() != 4 || parts[0] != "file" || (parts[1] != target && parts[2] != target)
            {
                continue;
            }
            let fname = PathBuf::from(parts[2]);
            if fname.is_dir() && fname.starts_with(name) {
                let w = walk(&fname, None);
                keep.insert(fname.clone());
                keep.extend(w.dirs().cloned());
                keep.extend(w.files().cloned());
            } else {
                keep.insert(fname);
            }
        }
    }
    let mut real = BTreeSet::new();
    for k in keep {
        let mut cur = Some(k.as_path());
        while let Some(p) = cur {
            real.insert(p.to_path_buf());
            if p == Path::new(name) || p == Path::new("/") {
                break;
            }
            cur = p.parent();
        }
    }
    real
}

fn excluded(rel: &Path, exclude_pat: Option<&str>) -> bool {
    let Some(pat) = exclude_pat else { return false };
    let rel = rel.to_string_lossy();
    match pat.strip_prefix("E@") {
        Some(re) => regex::Regex::new(re).is_ok_and(|r| r.is_match(&rel)),
        None => crate::fnmatch::fnmatch(&rel, pat),
    }
}

/// `file.directory`.
pub fn directory(c: &StateCall) -> Result<Map> {
    let mut name = expand_user(&c.name());
    let mut ret = super::ret(&name, Map::default(), Some(true), "");
    if name.is_empty() {
        fail(&mut ret, "Must provide name to file.directory".into());
        return Ok(ret);
    }
    if name.len() > 1 && name.ends_with('/') {
        name.pop();
    }
    let clean = c.flag("clean", false);
    let max_depth = arg(c, "max_depth")
        .and_then(Value::as_int)
        .and_then(|d| usize::try_from(d).ok());
    if max_depth.is_some() && clean {
        fail(&mut ret, "Cannot specify both max_depth and clean".into());
        return Ok(ret);
    }
    let (user, group) = (arg(c, "user"), arg(c, "group"));
    let dir_mode = normalize_mode(arg(c, "dir_mode").or_else(|| arg(c, "mode")));
    let file_mode = normalize_mode(arg(c, "file_mode")).or_else(|| dir_mode.clone());
    let u_check = check_user(user, group, c.test);
    if !u_check.is_empty() {
        fail(&mut ret, u_check);
        return Ok(ret);
    }
    let path = PathBuf::from(&name);
    if !path.is_absolute() {
        fail(
            &mut ret,
            format!("Specified file {name} is not an absolute path"),
        );
        return Ok(ret);
    }
    let follow = c.flag("follow_symlinks", false);
    let allow_symlink = c.flag("allow_symlink", true);
    let force = c.flag("force", false);
    let is_link = path.is_symlink();
    let mut changes = Map::default();
    if path.is_file() || (!allow_symlink && is_link) || (force && is_link) {
        if force {
            let what = if path.is_file() {
                "File"
            } else if is_link {
                "Symlink"
            } else {
                "Directory"
            };
            if c.test {
                changes.insert(
                    "forced".into(),
                    format!("{what} would be forcibly replaced").into(),
                );
            } else {
                let _ = std::fs::remove_file(&path);
                changes.insert(
                    "forced".into(),
                    format!("{what} was forcibly replaced").into(),
                );
            }
        } else if path.is_file() {
            fail(
                &mut ret,
                format!("Specified location {name} exists and is a file"),
            );
            return Ok(ret);
        } else {
            fail(
                &mut ret,
                format!("Specified location {name} exists and is a symlink"),
            );
            return Ok(ret);
        }
    }
    let recurse: Vec<String> = match arg(c, "recurse") {
        Some(Value::List(l)) => l.iter().map(Value::py_str).collect(),
        Some(v) if v.is_truthy() => vec![v.py_str()],
        _ => Vec::new(),
    };
    let (r_user, r_group) = (
        user.filter(|_| recurse.iter().any(|r| r == "user")),
        group.filter(|_| recurse.iter().any(|r| r == "group")),
    );
    let (r_dmode, r_fmode) = if recurse.iter().any(|r| r == "mode") {
        (dir_mode.clone(), file_mode.clone())
    } else {
        (None, None)
    };
    let walked = if !recurse.is_empty() || clean {
        Some(walk(&path, max_depth))
    } else {
        None
    };
    let keep = if clean {
        keep_files(c, &name)
    } else {
        BTreeSet::new()
    };
    let exclude_pat = c.str_arg("exclude_pat");
    // Salt's `_check_directory`: what would change.
    let mut tchanges = Map::default();
    if let (false, Some(w)) = (recurse.is_empty(), &walked) {
        let (check_files, check_dirs) = (
            !recurse.iter().any(|r| r == "ignore_files"),
            !recurse.iter().any(|r| r == "ignore_dirs"),
        );
        for (dirs, files) in &w.steps {
            for f in files.iter().filter(|_| check_files) {
                let ch = meta_changes(f, r_user, r_group, r_fmode.as_deref(), follow);
                if !ch.is_empty() && !ch.contains_key("directory") {
                    tchanges.insert(f.display().to_string().into(), Value::Map(ch));
                }
            }
            for d in dirs.iter().filter(|_| check_dirs) {
                let ch = meta_changes(d, r_user, r_group, r_dmode.as_deref(), follow);
                if !ch.is_empty() {
                    tchanges.insert(d.display().to_string().into(), Value::Map(ch));
                }
            }
        }
    }
    let children_only = c.flag("children_only", false);
    if !children_only {
        let ch = meta_changes(&path, user, group, dir_mode.as_deref(), follow);
        if !ch.is_empty() {
            tchanges.insert(name.clone().into(), Value::Map(ch));
        }
    }
    let mut to_remove = Vec::new();
    if let (true, Some(w)) = (clean, &walked) {
        for p in w.steps.iter().flat_map(|(d, f)| f.iter().chain(d.iter())) {
            let rel = p.strip_prefix(&path).unwrap_or(p);
            if keep.contains(p) || excluded(rel, exclude_pat) {
                continue;
            }
            if to_remove.iter().any(|r: &PathBuf| p.starts_with(r)) {
                continue;
            }
            to_remove.push(p.clone());
            let mut m = Map::default();
            m.insert("removed".into(), "Removed due to clean".into());
            tchanges.insert(p.display().to_string().into(), Value::Map(m));
        }
    }
    if !path.is_dir() {
        let mut m = Map::default();
        m.insert("directory".into(), "new".into());
        tchanges.insert(name.clone().into(), Value::Map(m));
    }
    let (tresult, tcomment) = if tchanges.is_empty() {
        (
            Some(true),
            format!("The directory {name} is in the correct state"),
        )
    } else {
        let mut cm = String::from("The following files will be changed:\n");
        for (k, v) in &tchanges {
            if let Value::Map(inner) = v {
                for (ik, iv) in inner {
                    cm.push_str(&format!(
                        "{}: {} - {}\n",
                        k.py_str(),
                        ik.py_str(),
                        iv.py_str()
                    ));
                }
            }
        }
        (None, cm)
    };
    for (k, v) in tchanges {
        changes.insert(k, v);
    }
    ret.insert("changes".into(), Value::Map(changes.clone()));
    if c.test || tresult == Some(true) {
        ret.insert("result".into(), tresult.map_or(Value::Null, Value::Bool));
        ret.insert("comment".into(), tcomment.into());
        return Ok(ret);
    }
    if !path.is_dir() {
        if path.parent().is_some_and(|p| !p.is_dir()) && !c.flag("makedirs", false) {
            fail(&mut ret, format!("No directory to create {name} in"));
            return Ok(ret);
        }
        makedirs(&path, dir_mode.as_deref())?;
        let mut perms = Perms::from_args(user, group, dir_mode.clone());
        perms.follow_symlinks = true;
        check_perms(&path, &mut Map::default(), &perms, false);
        let mut m = Map::default();
        m.insert("directory".into(), "new".into());
        changes.insert(name.clone().into(), Value::Map(m));
        ret.insert("changes".into(), Value::Map(changes));
        return Ok(ret);
    }
    let mut errors = Vec::new();
    if !children_only {
        let mut perms = Perms::from_args(user, group, dir_mode.clone());
        perms.follow_symlinks = follow;
        errors.extend(check_perms(&path, &mut changes, &perms, false).0);
    }
    if let (false, Some(w)) = (recurse.is_empty(), &walked) {
        if recurse.iter().any(|r| r == "silent") {
            changes = Map::default();
            changes.insert("recursion".into(), "Changes silenced".into());
        }
        // Salt passes its own return to `file.check_perms` for every walked entry, root by
        // root (files, then subdirectories), so the flat `mode`/`user`/`group` keys of the
        // changes end up holding the last change made.
        let fperms = Perms {
            user: r_user,
            group: r_group,
            mode: r_fmode.clone(),
            follow_symlinks: follow,
        };
        let dperms = Perms {
            user: r_user,
            group: r_group,
            mode: r_dmode.clone(),
            follow_symlinks: follow,
        };
        for (dirs, files) in &w.steps {
            if !recurse.iter().any(|r| r == "ignore_files") {
                for f in files {
                    errors.extend(check_perms(f, &mut changes, &fperms, false).0);
                }
            }
            if !recurse.iter().any(|r| r == "ignore_dirs") {
                for d in dirs {
                    errors.extend(check_perms(d, &mut changes, &dperms, false).0);
                }
            }
        }
    }
    let mut comment = String::new();
    if !to_remove.is_empty() {
        for p in &to_remove {
            let _ = if p.is_dir() && !p.is_symlink() {
                std::fs::remove_dir_all(p)
            } else {
                std::fs::remove_file(p)
            };
        }
        let removed: Vec<Value> = to_remove
            .iter()
            .map(|p| Value::Str(p.display().to_string()))
            .collect();
        changes.insert("removed".into(), Value::List(removed));
        comment = format!("Files cleaned from directory {name}");
    }
    if comment.is_empty() {
        if children_only {
            comment = format!("Directory {name}/* updated");
        } else if !changes.is_empty() {
            comment = format!("Directory {name} updated");
        }
    }
    if changes.is_empty() {
        comment = if comment.is_empty() {
            format!("Directory {name} is in the correct state")
        } else {
            format!("Directory {name} is in the correct state\n{comment}")
        };
    }
    ret.insert("changes".into(), Value::Map(changes));
    if !errors.is_empty() {
        ret.insert("result".into(), Value::Bool(false));
        comment.push_str("\n\nThe following errors were encountered:\n");
        for e in errors {
            comment.push_str(&format!("\n- {e}"));
        }
    }
    ret.insert("comment".into(), comment.into());
    Ok(ret)
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::call;
    use super::*;

    #[test]
    fn creates_then_fixes_mode() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("a/b");
        let name = d.display().to_string();
        let args = [
            ("name", Value::from(name.as_str())),
            ("makedirs", Value::Bool(true)),
            ("mode", Value::from("0750")),
        ];
        let r = call(directory, &args, false);
        assert_eq!(
            r.get("changes")
                .and_then(|c| c.get(name.as_str()))
                .and_then(|c| c.get("directory")),
            Some(&Value::from("new"))
        );
        assert_eq!(
            super::super::util::mode_of(&d, true).as_deref(),
            Some("0750")
        );
        super::super::util::set_mode(&d, "0700").unwrap();
        let r = call(directory, &args, false);
        assert_eq!(
            r.get("comment"),
            Some(&Value::from(format!("Directory {name} updated")))
        );
        let r = call(directory, &args, false);
        assert_eq!(
            r.get("comment"),
            Some(&Value::from(format!(
                "The directory {name} is in the correct state"
            )))
        );
    }

    #[test]
    fn clean_removes_unmanaged_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stray"), "x").unwrap();
        let name = dir.path().display().to_string();
        let r = call(
            directory,
            &[
                ("name", Value::from(name.as_str())),
                ("clean", Value::Bool(true)),
            ],
            false,
        );
        assert_eq!(
            r.get("comment"),
            Some(&Value::from(format!("Files cleaned from directory {name}")))
        );
        assert!(!dir.path().join("stray").exists());
    }
}
