//! `file.managed`: a file's content from `source` (salt:// or local, optionally a template),
//! `contents`, `contents_pillar` or `contents_grains`, plus owner, group and mode.

use super::manage::{manage_file, would_change, Content, Manage};
use super::util::{check_perms, check_user, normalize_mode, Perms};
use super::{arg, expand_user, fail, saltenv, StateCall};
use halite_core::{Map, Result, Value};
use std::path::Path;

/// The return dict of `managed` and `serialize`: changes, comment, name, result.
pub fn base_ret(name: &str) -> Map {
    let mut r = Map::default();
    r.insert("changes".into(), Value::map());
    r.insert("comment".into(), "".into());
    r.insert("name".into(), name.into());
    r.insert("result".into(), Value::Bool(true));
    r
}

/// Salt's `_validate_str_list` + the `contents` line joining of `file.managed`.
pub fn join_contents(v: &Value, newline: bool) -> String {
    let parts: Vec<String> = match v {
        Value::List(l) => l.iter().map(Value::py_str).collect(),
        other => vec![other.py_str()],
    };
    let mut out = String::new();
    for part in &parts {
        for line in super::splitlines(part) {
            out.push_str(line.trim_end_matches('\n').trim_end_matches('\r'));
            out.push('\n');
        }
    }
    if !newline {
        let trimmed = out.trim_end_matches('\n').trim_end_matches('\r');
        out.truncate(trimmed.len());
    }
    out
}

fn lookup(c: &StateCall, fun: &str, key: &Value) -> Result<Option<Value>> {
    let mut kwargs = Map::default();
    let delim = c
        .arg("contents_delimiter")
        .map(Value::py_str)
        .unwrap_or_else(|| ":".into());
    kwargs.insert("delimiter".into(), delim.into());
    if fun == "pillar.get" {
        kwargs.insert("unmask".into(), Value::Bool(true));
    }
    let v = c.functions.call(fun, std::slice::from_ref(key), &kwargs)?;
    Ok(if v.is_null() { None } else { Some(v) })
}

fn contents_value(c: &StateCall, ret: &mut Map) -> Result<Option<Option<Value>>> {
    for (key, fun, what) in [
        ("contents_pillar", "pillar.get", "Pillar"),
        ("contents_grains", "grains.get", "Grain"),
    ] {
        let Some(spec) = arg(c, key) else { continue };
        let keys = match spec {
            Value::List(l) => l.clone(),
            other => vec![other.clone()],
        };
        let mut parts = Vec::new();
        for k in &keys {
            match lookup(c, fun, k)? {
                Some(v) => parts.push(v.py_str()),
                None => {
                    fail(ret, format!("{what} {} does not exist", k.py_str()));
                    return Ok(None);
                }
            }
        }
        return Ok(Some(Some(Value::Str(parts.join("\n")))));
    }
    Ok(Some(arg(c, "contents").cloned()))
}

/// Resolve `source` (a URL or a list of fallbacks) with `file.source_list`, then fetch and
/// render it with `file.get_managed`. Returns the cached file's bytes or an error comment.
fn fetch_source(
    c: &StateCall,
    name: &str,
    source: &Value,
) -> Result<std::result::Result<(Vec<u8>, Value), String>> {
    let env = saltenv(c);
    let hash = arg(c, "source_hash").cloned().unwrap_or_else(|| "".into());
    let listed = match c.functions.call(
        "file.source_list",
        &[source.clone(), hash.clone(), env.clone().into()],
        &Map::default(),
    ) {
        Ok(Value::List(l)) if !l.is_empty() => l[0].clone(),
        Ok(other) => other,
        Err(e) => return Ok(Err(format!("Unable to manage file: {e}"))),
    };
    let mut kwargs = Map::default();
    for key in [
        "template",
        "context",
        "defaults",
        "skip_verify",
        "source_hash_name",
        "user",
        "group",
        "mode",
    ] {
        if let Some(v) = arg(c, key) {
            kwargs.insert(key.into(), v.clone());
        }
    }
    kwargs.insert("name".into(), name.into());
    kwargs.insert("source".into(), listed.clone());
    kwargs.insert("source_hash".into(), hash);
    kwargs.insert("saltenv".into(), env.into());
    let got = match c.functions.call("file.get_managed", &[], &kwargs) {
        Ok(v) => v,
        Err(e) => return Ok(Err(format!("Unable to manage file: {e}"))),
    };
    let list = got.as_list().cloned().unwrap_or_default();
    let sfn = list.first().map(Value::py_str).unwrap_or_default();
    let comment = list.get(2).map(Value::py_str).unwrap_or_default();
    if !comment.is_empty() || sfn.is_empty() {
        return Ok(Err(format!("Unable to manage file: {comment}")));
    }
    match std::fs::read(&sfn) {
        Ok(b) => Ok(Ok((b, listed))),
        Err(e) => Ok(Err(format!("Unable to manage file: {sfn}: {e}"))),
    }
}

/// `file.managed`.
pub fn managed(c: &StateCall) -> Result<Map> {
    let name = expand_user(&c.name());
    let mut ret = base_ret(&name);
    if name.is_empty() {
        fail(&mut ret, "Destination file name is required".into());
        return Ok(ret);
    }
    let keep_mode =
        arg(c, "mode").is_some_and(|m| m.as_str().is_some_and(|s| s.eq_ignore_ascii_case("keep")));
    let mode = if keep_mode {
        None
    } else {
        normalize_mode(arg(c, "mode"))
    };
    let source = arg(c, "source").filter(|v| v.is_truthy()).cloned();
    let count = ["contents", "contents_pillar", "contents_grains"]
        .iter()
        .filter(|k| arg(c, k).is_some())
        .count();
    if source.is_some() && count > 0 {
        fail(&mut ret, "'source' cannot be used in combination with 'contents', 'contents_pillar', or 'contents_grains'".into());
        return Ok(ret);
    }
    if keep_mode && count > 0 {
        fail(&mut ret, "Mode preservation cannot be used in combination with 'contents', 'contents_pillar', or 'contents_grains'".into());
        return Ok(ret);
    }
    if count > 1 {
        fail(
            &mut ret,
            "Only one of 'contents', 'contents_pillar', and 'contents_grains' is permitted".into(),
        );
        return Ok(ret);
    }
    let mut replace = c.flag("replace", true);
    if source.is_none() && count == 0 {
        replace = false;
    }
    let Some(use_contents) = contents_value(c, &mut ret)? else {
        return Ok(ret);
    };
    let mut contents = None;
    if let Some(v) = use_contents {
        if !c.flag("allow_empty", true) && !v.is_truthy() {
            let id = if let Some(p) = c.str_arg("contents_pillar") {
                format!("contents_pillar {p}")
            } else if let Some(g) = c.str_arg("contents_grains") {
                format!("contents_grains {g}")
            } else {
                "'contents'".into()
            };
            fail(&mut ret, format!("{id} value would result in empty contents. Set allow_empty to True to allow the managed file to be empty."));
            return Ok(ret);
        }
        let mut text = join_contents(&v, c.flag("contents_newline", true));
        if let Some(tpl) = arg(c, "template").filter(|t| t.is_truthy()) {
            let mut kwargs = Map::default();
            kwargs.insert("template".into(), tpl.clone());
            kwargs.insert(
                "context".into(),
                arg(c, "context").cloned().unwrap_or(Value::Null),
            );
            kwargs.insert(
                "defaults".into(),
                arg(c, "defaults").cloned().unwrap_or(Value::Null),
            );
            kwargs.insert("saltenv".into(), saltenv(c).into());
            match c.functions.call(
                "file.apply_template_on_contents",
                &[Value::Str(text)],
                &kwargs,
            ) {
                Ok(Value::Str(s)) => text = s,
                Ok(Value::Map(m)) => {
                    ret.insert(
                        "result".into(),
                        m.get("result").cloned().unwrap_or(Value::Bool(false)),
                    );
                    let cm = m.get("comment").map(Value::py_str);
                    ret.insert(
                        "comment".into(),
                        cm.unwrap_or_else(|| "Error while applying template on contents".into())
                            .into(),
                    );
                    return Ok(ret);
                }
                Ok(other) => text = other.py_str(),
                Err(e) => {
                    fail(&mut ret, e.to_string());
                    return Ok(ret);
                }
            }
        }
        contents = Some(text);
    }
    let path = Path::new(&name);
    if !c.flag("create", true) && !path.is_file() {
        ret.insert(
            "comment".into(),
            format!("File {name} is not present and is not set for creation").into(),
        );
        return Ok(ret);
    }
    let (user, group) = (arg(c, "user"), arg(c, "group"));
    let u_check = check_user(user, group, c.test);
    if !u_check.is_empty() {
        fail(&mut ret, u_check);
        return Ok(ret);
    }
    if !path.is_absolute() {
        fail(
            &mut ret,
            format!("Specified file {name} is not an absolute path"),
        );
        return Ok(ret);
    }
    if path.is_dir() {
        fail(&mut ret, format!("Specified target {name} is a directory"));
        return Ok(ret);
    }
    if arg(c, "context").is_some_and(|v| !matches!(v, Value::Map(_))) {
        fail(&mut ret, "Context must be formed as a dict".into());
        return Ok(ret);
    }
    if arg(c, "defaults").is_some_and(|v| v.is_truthy() && !matches!(v, Value::Map(_))) {
        fail(&mut ret, "Defaults must be formed as a dict".into());
        return Ok(ret);
    }
    let mut perms = Perms::from_args(user, group, mode.clone());
    perms.follow_symlinks = c.flag("follow_symlinks", true);
    let exists = std::fs::symlink_metadata(path).is_ok();
    if !replace && exists {
        let mut changes = Map::default();
        let (errors, lmode) = check_perms(path, &mut changes, &perms, c.test);
        ret.insert("changes".into(), Value::Map(changes.clone()));
        if !errors.is_empty() {
            fail(&mut ret, errors.join("; "));
        } else if c.test {
            if !changes.is_empty() {
                ret.insert("result".into(), Value::Null);
            }
            let comment = match (&mode, &lmode) {
                (Some(m), Some(l)) if m != l => {
                    format!("File {name} will be updated with permissions {m} from its current state of {l}")
                }
                _ => format!("File {name} not updated"),
            };
            ret.insert("comment".into(), comment.into());
        } else if changes.is_empty() {
            ret.insert(
                "comment".into(),
                format!("File {name} exists with proper permissions. No changes made.").into(),
            );
        }
        return Ok(ret);
    }
    let content = if let Some(text) = contents {
        Content::Inline(text)
    } else if let Some(src) = &source {
        match fetch_source(c, &name, src)? {
            Ok((bytes, url)) => {
                if keep_mode {
                    let mut kw = Map::default();
                    kw.insert("octal".into(), Value::Bool(true));
                    let m = c
                        .functions
                        .call("cp.stat_file", &[url, saltenv(c).into()], &kw)?;
                    perms.mode = normalize_mode(Some(&m)).filter(|m| m != "0000");
                }
                Content::Source(bytes)
            }
            Err(comment) => {
                ret.insert("changes".into(), Value::map());
                fail(&mut ret, comment);
                return Ok(ret);
            }
        }
    } else {
        Content::Nothing
    };
    let job = Manage {
        name: &name,
        content,
        perms,
        makedirs: c.flag("makedirs", false),
        dir_mode: normalize_mode(arg(c, "dir_mode")),
        show_changes: c.flag("show_changes", true),
        backup: arg(c, "backup")
            .map(Value::py_str)
            .or_else(|| c.opts.get("backup_mode").map(Value::py_str))
            .unwrap_or_default(),
        new_file_diff: c.flag("new_file_diff", false),
    };
    if c.test {
        let changes = would_change(&job);
        if changes.is_empty() {
            ret.insert(
                "comment".into(),
                format!("The file {name} is in the correct state").into(),
            );
        } else {
            ret.insert("changes".into(), Value::Map(changes));
            ret.insert("result".into(), Value::Null);
            ret.insert(
                "comment".into(),
                format!("The file {name} is set to be changed\nNote: No changes made, actual changes may\nbe different due to other states.").into(),
            );
        }
        return Ok(ret);
    }
    if let Some(cmd) = arg(c, "check_cmd").map(Value::py_str) {
        if !would_change(&job).is_empty() {
            if let Some(failed) = run_check_cmd(c, &cmd, &job)? {
                for (k, v) in failed {
                    ret.insert(k, v);
                }
                return Ok(ret);
            }
        }
    }
    manage_file(c, &job, &mut ret)?;
    Ok(ret)
}

/// Salt's `mod_run_check_cmd`: run `check_cmd <temp file with the new content>`; the
/// failure's return keys when it exits non-zero.
fn run_check_cmd(c: &StateCall, cmd: &str, job: &Manage) -> Result<Option<Map>> {
    let dir =
        arg(c, "tmp_dir").map_or_else(std::env::temp_dir, |d| std::path::PathBuf::from(d.py_str()));
    let suffix = arg(c, "tmp_ext").map(Value::py_str).unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .suffix(&suffix)
        .tempfile_in(&dir)
        .map_err(|e| halite_core::Error::io(dir.display().to_string(), &e))?;
    let data: &[u8] = match &job.content {
        Content::Source(b) => b,
        Content::Inline(s) => s.as_bytes(),
        Content::Nothing => &[],
    };
    std::io::Write::write_all(&mut tmp, data)
        .map_err(|e| halite_core::Error::io(tmp.path().display().to_string(), &e))?;
    let full = format!("{cmd} {}", tmp.path().display());
    let out = c
        .functions
        .call("cmd.run_all", &[Value::Str(full)], &Map::default())?;
    if out.get("retcode").and_then(Value::as_int) == Some(0) {
        return Ok(None);
    }
    let mut comment = String::from("check_cmd execution failed");
    for key in ["stdout", "stderr"] {
        if let Some(t) = out.get(key).map(Value::py_str).filter(|t| !t.is_empty()) {
            comment.push('\n');
            comment.push_str(&t);
        }
    }
    let mut m = Map::default();
    m.insert("comment".into(), comment.into());
    m.insert("skip_watch".into(), Value::Bool(true));
    m.insert("result".into(), Value::Bool(false));
    Ok(Some(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_lines_get_newlines() {
        assert_eq!(join_contents(&"a".into(), true), "a\n");
        assert_eq!(
            join_contents(&Value::List(vec!["a".into(), "b\nc".into()]), true),
            "a\nb\nc\n"
        );
        assert_eq!(join_contents(&"a\n\n".into(), false), "a");
        assert_eq!(join_contents(&"".into(), true), "");
    }

    #[test]
    fn new_then_changed_then_correct() {
        use super::super::tests_support::call;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.conf");
        let name = p.display().to_string();
        let args = |text: &str| {
            vec![
                ("name", Value::from(name.as_str())),
                ("contents", Value::from(text)),
                ("mode", Value::Int(640)),
            ]
        };
        let r = call(managed, &args("a\nb"), true);
        assert_eq!(r.get("result"), Some(&Value::Null));
        assert!(!p.exists(), "test mode wrote the file");
        let r = call(managed, &args("a\nb"), false);
        let ch = r.get("changes").unwrap();
        assert_eq!(ch.get("diff"), Some(&Value::from("New file")));
        assert_eq!(ch.get("mode"), Some(&Value::from("0640")));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a\nb\n");
        let r = call(managed, &args("a\nc"), false);
        assert_eq!(
            r.get("changes").unwrap().get("diff"),
            Some(&Value::from("--- \n+++ \n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"))
        );
        let r = call(managed, &args("a\nc"), false);
        assert_eq!(
            r.get("comment"),
            Some(&Value::from(format!("File {name} is in the correct state")))
        );
    }

    #[test]
    fn missing_parent_fails_without_makedirs() {
        use super::super::tests_support::call;
        let dir = tempfile::tempdir().unwrap();
        let name = dir.path().join("no/such/f").display().to_string();
        let r = call(
            managed,
            &[
                ("name", Value::from(name.as_str())),
                ("contents", Value::from("x")),
            ],
            false,
        );
        assert_eq!(r.get("result"), Some(&Value::Bool(false)));
        assert_eq!(
            r.get("comment"),
            Some(&Value::from("Parent directory not present"))
        );
    }
}
