//! `file.recurse`: mirror a `salt://` directory with `file.managed` per file and
//! `file.directory` per directory (Salt's `_gen_recurse_managed_files`), optional `clean`.

use super::util::{check_user, normalize_mode};
use super::{arg, expand_user, fail, saltenv, StateCall};
use crate::chunk::Chunk;
use halite_core::{Map, Result, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Salt's `check_include_exclude` on a relative path (globs, or `E@` regexes).
fn included(rel: &str, include: Option<&str>, exclude: Option<&str>) -> bool {
    let m = |pat: &str| match pat.strip_prefix("E@") {
        Some(re) => regex::Regex::new(re).is_ok_and(|r| r.is_match(rel)),
        None => crate::fnmatch::fnmatch(rel, pat),
    };
    include.is_none_or(m) && !exclude.is_some_and(m)
}

fn sub_call(c: &StateCall, low: &Chunk, f: super::super::StateFn) -> Result<Map> {
    let call = StateCall {
        low,
        test: c.test,
        functions: c.functions,
        opts: c.opts,
        reqs: None,
        running: c.running,
    };
    f(&call)
}

fn comment_text(v: &Value) -> String {
    match v {
        Value::List(l) => l.iter().map(Value::py_str).collect::<Vec<_>>().join("\n"),
        other => other.py_str(),
    }
}

/// `file.recurse`.
pub fn recurse(c: &StateCall) -> Result<Map> {
    let name = expand_user(&c.name());
    let mut ret = Map::default();
    ret.insert("name".into(), name.clone().into());
    ret.insert("changes".into(), Value::map());
    ret.insert("result".into(), Value::Bool(true));
    ret.insert("comment".into(), "".into());
    if arg(c, "mode").is_some() {
        fail(
            &mut ret,
            "'mode' is not allowed in 'file.recurse'. Please use 'file_mode' and 'dir_mode'."
                .into(),
        );
        return Ok(ret);
    }
    let dir_mode = normalize_mode(arg(c, "dir_mode"));
    let keep_mode = arg(c, "file_mode")
        .and_then(Value::as_str)
        .is_some_and(|m| m.eq_ignore_ascii_case("keep"));
    let file_mode = if keep_mode {
        Some("keep".to_string())
    } else {
        normalize_mode(arg(c, "file_mode"))
    };
    let (user, group) = (arg(c, "user"), arg(c, "group"));
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
    let sources: Vec<String> = match arg(c, "source") {
        Some(Value::List(l)) => l.iter().map(Value::py_str).collect(),
        Some(v) => vec![v.py_str()],
        None => Vec::new(),
    };
    if sources.is_empty() || sources.iter().any(|s| !s.starts_with("salt://")) {
        ret.insert("result".into(), Value::Bool(false));
        ret.insert(
            "comment".into(),
            "Recurse failed: Invalid source(s): salt:// URLs are required".into(),
        );
        return Ok(ret);
    }
    if !path.is_dir() {
        if path.exists() {
            fail(
                &mut ret,
                format!("The path {name} exists and is not a directory"),
            );
            return Ok(ret);
        }
        if !c.test {
            super::util::makedirs(&path, dir_mode.as_deref())?;
        }
    }
    let env = saltenv(c);
    let (include, exclude) = (c.str_arg("include_pat"), c.str_arg("exclude_pat"));
    let maxdepth = arg(c, "maxdepth").and_then(Value::as_int);
    let mut files: BTreeMap<PathBuf, String> = BTreeMap::default();
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    let mut keep: BTreeSet<PathBuf> = BTreeSet::new();
    let take = if c.flag("merge", false) {
        sources.len()
    } else {
        1
    };
    for source in sources.iter().take(take) {
        let (root, senv) = match source.trim_start_matches("salt://").split_once("?saltenv=") {
            Some((r, e)) => (r.to_string(), e.to_string()),
            None => (
                source.trim_start_matches("salt://").to_string(),
                env.clone(),
            ),
        };
        let root = format!("{}/", root.trim_end_matches('/'));
        let list = |fun: &str| -> Result<Vec<String>> {
            let v = c.functions.call(
                fun,
                &[Value::Str(senv.clone()), Value::Str(root.clone())],
                &Map::default(),
            )?;
            Ok(v.as_list()
                .map(|l| l.iter().map(Value::py_str).collect())
                .unwrap_or_default())
        };
        let rel_of = |f: &str| -> Option<String> {
            let rel = f.strip_prefix(root.as_str())?.to_string();
            let depth_ok = maxdepth
                .is_none_or(|m| i64::try_from(rel.split('/').count()).unwrap_or(i64::MAX) <= m + 1);
            (!rel.is_empty()
                && !rel.split('/').any(|p| p == "..")
                && depth_ok
                && included(&rel, include, exclude))
            .then_some(rel)
        };
        for f in list("cp.list_master")? {
            let Some(rel) = rel_of(&f) else { continue };
            let dest = path.join(&rel);
            if files.contains_key(&dest) {
                continue;
            }
            keep.insert(dest.clone());
            if let Some(parent) = dest.parent() {
                dirs.insert(parent.to_path_buf());
            }
            files.insert(dest, format!("salt://{f}?saltenv={senv}"));
        }
        if c.flag("include_empty", false) {
            for d in list("cp.list_master_dirs")? {
                let Some(rel) = rel_of(&d) else { continue };
                let dest = path.join(rel);
                keep.insert(dest.clone());
                dirs.insert(dest);
            }
        }
    }
    let mut comments: Vec<(String, Vec<String>)> = Vec::new();
    let mut changes = Map::default();
    let mut result = Value::Bool(true);
    let mut merge = |p: &Path, r: &Map, comments: &mut Vec<(String, Vec<String>)>| {
        let rres = r.get("result").cloned().unwrap_or(Value::Null);
        if rres == Value::Bool(false) || result == Value::Bool(true) {
            result = rres.clone();
        }
        let key = p.display().to_string();
        if rres != Value::Bool(true) {
            let cm = r.get("comment").map(comment_text).unwrap_or_default();
            if !cm.is_empty() {
                comments.push((key.clone(), vec![cm]));
            }
        }
        if r.get("changes")
            .and_then(Value::as_map)
            .is_some_and(|m| !m.is_empty())
        {
            changes.insert(key.into(), r.get("changes").cloned().unwrap_or(Value::Null));
        }
    };
    for d in &dirs {
        let mut low = Chunk::default();
        low.insert("name".into(), d.display().to_string().into());
        for (k, v) in [("user", user), ("group", group)] {
            if let Some(v) = v {
                low.insert(k.into(), v.clone());
            }
        }
        if let Some(m) = &dir_mode {
            low.insert("dir_mode".into(), m.clone().into());
        }
        low.insert("makedirs".into(), Value::Bool(true));
        let r = sub_call(c, &low, super::directory::directory)?;
        merge(d, &r, &mut comments);
    }
    for (dest, src) in &files {
        let mut low = c.low.clone();
        for k in [
            "mode",
            "makedirs",
            "source",
            "name",
            "file_mode",
            "dir_mode",
            "clean",
            "include_pat",
            "exclude_pat",
            "require",
        ] {
            low.shift_remove(k);
        }
        low.insert("name".into(), dest.display().to_string().into());
        low.insert("source".into(), src.clone().into());
        low.insert("makedirs".into(), Value::Bool(true));
        if let Some(m) = &file_mode {
            low.insert("mode".into(), m.clone().into());
        }
        let r = sub_call(c, &low, super::managed::managed)?;
        merge(dest, &r, &mut comments);
    }
    if c.flag("clean", false) {
        let mut real_keep = BTreeSet::new();
        for k in &keep {
            let mut cur = Some(k.as_path());
            while let Some(p) = cur {
                real_keep.insert(p.to_path_buf());
                if p == path || p == Path::new("/") {
                    break;
                }
                cur = p.parent();
            }
        }
        let mut removed = Vec::new();
        let mut stack = vec![path.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
            entries.sort();
            for e in entries {
                let rel = e
                    .strip_prefix(&path)
                    .unwrap_or(&e)
                    .to_string_lossy()
                    .to_string();
                if real_keep.contains(&e) || !included(&rel, None, exclude) {
                    if e.is_dir() && !e.is_symlink() {
                        stack.push(e);
                    }
                    continue;
                }
                if !c.test {
                    let _ = if e.is_dir() && !e.is_symlink() {
                        std::fs::remove_dir_all(&e)
                    } else {
                        std::fs::remove_file(&e)
                    };
                }
                removed.push(e.display().to_string());
            }
        }
        if !removed.is_empty() {
            if c.test {
                if result == Value::Bool(true) {
                    result = Value::Null;
                }
                comments.push(("removed".into(), removed));
            } else {
                changes.insert(
                    "removed".into(),
                    Value::List(removed.into_iter().map(Value::Str).collect()),
                );
            }
        }
    }
    let mut comment = comments
        .iter()
        .map(|(k, v)| format!("\n#### {k} ####\n{}", v.join("\n")))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string();
    if comment.is_empty() {
        comment = format!("Recursively updated {name}");
    }
    if changes.is_empty() && result == Value::Bool(true) {
        comment = format!("The directory {name} is in the correct state");
    }
    ret.insert("changes".into(), Value::Map(changes));
    ret.insert("result".into(), result);
    ret.insert("comment".into(), comment.into());
    Ok(ret)
}
