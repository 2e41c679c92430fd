//! `file.append` and `file.prepend`: add text lines that the file does not contain yet.

use super::difflib::{lines_diff, split_keepends, unified_diff_lines};
use super::util::{atomic_write, is_text, makedirs};
use super::{arg, expand_user, fail, ret, saltenv, splitlines, StateCall};
use halite_core::{Map, Result, Value};
use std::path::Path;

/// Salt's `build_whitespace_split_regex`: each line's words with optional whitespace around.
pub fn whitespace_split_regex(text: &str) -> String {
    let mut re = String::new();
    for line in splitlines(text) {
        let parts: Vec<String> = line.split_whitespace().map(regex::escape).collect();
        re.push_str(&format!(
            "(?:[\\s]+)?{}(?:[\\s]+)?",
            parts.join("(?:[\\s]+)?")
        ));
    }
    format!("(?m)^{re}$")
}

/// Salt's `file.search(path, pattern, multiline=True)` on text already read.
fn search(content: &str, pattern: &str) -> bool {
    let pat = if pattern.starts_with("(?m)") {
        pattern.to_string()
    } else {
        format!("(?m){pattern}")
    };
    regex::Regex::new(&pat).is_ok_and(|r| r.is_match(content))
}

/// The `text` argument (or the rendered `source`/`sources`) as a list of chunks.
fn texts(c: &StateCall, r: &mut Map) -> Result<Option<Vec<String>>> {
    let mut sources: Vec<Value> = match arg(c, "sources") {
        Some(Value::List(l)) => l.clone(),
        _ => Vec::new(),
    };
    if let Some(s) = arg(c, "source") {
        sources.insert(0, s.clone());
    }
    if sources.is_empty() {
        return Ok(Some(match arg(c, "text") {
            Some(Value::List(l)) => l.iter().map(Value::py_str).collect(),
            Some(v) => vec![v.py_str()],
            None => Vec::new(),
        }));
    }
    let env = saltenv(c);
    let mut out = Vec::new();
    for src in sources {
        let text = c.functions.call(
            "cp.get_file_str",
            &[src.clone(), env.clone().into()],
            &Map::default(),
        )?;
        let Value::Str(mut text) = text else {
            r.insert("result".into(), Value::Bool(false));
            r.insert(
                "comment".into(),
                format!("Failed to cache {}", src.py_str()).into(),
            );
            return Ok(None);
        };
        let template = arg(c, "template").map_or_else(|| "jinja".to_string(), Value::py_str);
        if !template.is_empty() {
            let mut kw = Map::default();
            kw.insert("template".into(), template.into());
            kw.insert(
                "context".into(),
                arg(c, "context").cloned().unwrap_or(Value::Null),
            );
            kw.insert(
                "defaults".into(),
                arg(c, "defaults").cloned().unwrap_or(Value::Null),
            );
            kw.insert("saltenv".into(), env.clone().into());
            text = c
                .functions
                .call("file.apply_template_on_contents", &[Value::Str(text)], &kw)?
                .py_str();
        }
        out.push(text);
    }
    Ok(Some(out))
}

/// Create the file when missing (`makedirs` honoured); `Some(ret)` ends the state.
fn ensure_file(c: &StateCall, name: &str, r: &mut Map) -> Result<Option<Map>> {
    let path = Path::new(name);
    if c.flag("makedirs", false) {
        let dir = path.parent().unwrap_or(Path::new("/"));
        if c.test {
            r.insert(
                "comment".into(),
                format!("Directory {} is set to be updated", dir.display()).into(),
            );
            r.insert("result".into(), Value::Null);
        } else {
            makedirs(dir, None)?;
        }
    }
    if !path.is_absolute() {
        fail(r, format!("Specified file {name} is not an absolute path"));
        return Ok(Some(r.clone()));
    }
    if !path.exists() {
        let touched = super::touch::touch(c)?;
        if c.test {
            return Ok(Some(touched));
        }
        if !path.exists() {
            fail(r, format!("{name}: file not found"));
            return Ok(Some(r.clone()));
        }
    }
    Ok(None)
}

fn diff_or_flag(name: &str, data: &[u8], show: bool, diff: impl FnOnce() -> String) -> String {
    let _ = name;
    if !is_text(data) {
        "Replace binary file".into()
    } else if !show {
        "<show_changes=False>".into()
    } else {
        diff()
    }
}

/// `file.append`.
pub fn append(c: &StateCall) -> Result<Map> {
    let name = expand_user(&c.name());
    let mut r = ret(&name, Map::default(), Some(false), "");
    if name.is_empty() {
        fail(&mut r, "Must provide name to file.append".into());
        return Ok(r);
    }
    if let Some(done) = ensure_file(c, &name, &mut r)? {
        return Ok(done);
    }
    let Some(text) = texts(c, &mut r)? else {
        return Ok(r);
    };
    let path = Path::new(&name);
    let data = std::fs::read(path).map_err(|e| halite_core::Error::io(&name, &e))?;
    let content = String::from_utf8_lossy(&data).to_string();
    let slines: Vec<String> = splitlines(&content)
        .into_iter()
        .map(str::to_string)
        .collect();
    let ignore_ws = c.flag("ignore_whitespace", true);
    let mut append_lines = Vec::new();
    for chunk in &text {
        let pat = if ignore_ws {
            whitespace_split_regex(chunk)
        } else {
            chunk.clone()
        };
        if search(&content, &pat) {
            continue;
        }
        append_lines.extend(splitlines(chunk).into_iter().map(str::to_string));
    }
    let show = c.flag("show_changes", true);
    let mut changes = Map::default();
    if c.test {
        let mut nlines = slines.clone();
        nlines.extend(append_lines);
        if nlines != slines {
            changes.insert(
                "diff".into(),
                diff_or_flag(&name, &data, show, || lines_diff(&slines, &nlines)).into(),
            );
            r.insert("result".into(), Value::Null);
            r.insert(
                "comment".into(),
                format!("File {name} is set to be updated").into(),
            );
        } else {
            r.insert("result".into(), Value::Bool(true));
            r.insert(
                "comment".into(),
                format!("File {name} is in correct state").into(),
            );
        }
        r.insert("changes".into(), Value::Map(changes));
        return Ok(r);
    }
    let comment = if append_lines.is_empty() {
        format!("File {name} is in correct state")
    } else {
        let mut new = data.clone();
        if !new.is_empty() && !new.ends_with(b"\n") {
            new.push(b'\n');
        }
        for l in &append_lines {
            new.extend_from_slice(l.as_bytes());
            new.push(b'\n');
        }
        atomic_write(path, &new, None)?;
        format!("Appended {} lines", append_lines.len())
    };
    let after = std::fs::read(path).map_err(|e| halite_core::Error::io(&name, &e))?;
    let after_text = String::from_utf8_lossy(&after).to_string();
    let nlines: Vec<String> = splitlines(&after_text)
        .into_iter()
        .map(str::to_string)
        .collect();
    if nlines != slines {
        changes.insert(
            "diff".into(),
            diff_or_flag(&name, &after, show, || lines_diff(&slines, &nlines)).into(),
        );
    }
    r.insert("changes".into(), Value::Map(changes));
    r.insert("result".into(), Value::Bool(true));
    r.insert("comment".into(), comment.into());
    Ok(r)
}

/// `file.prepend`.
pub fn prepend(c: &StateCall) -> Result<Map> {
    let name = expand_user(&c.name());
    let mut r = ret(&name, Map::default(), Some(false), "");
    if name.is_empty() {
        fail(&mut r, "Must provide name to file.prepend".into());
        return Ok(r);
    }
    if let Some(done) = ensure_file(c, &name, &mut r)? {
        return Ok(done);
    }
    let Some(text) = texts(c, &mut r)? else {
        return Ok(r);
    };
    let path = Path::new(&name);
    let data = std::fs::read(path).map_err(|e| halite_core::Error::io(&name, &e))?;
    let content = String::from_utf8_lossy(&data).to_string();
    let slines: Vec<&str> = split_keepends(&content);
    let header = c.flag("header", false);
    let mut preface: Vec<String> = Vec::new();
    for chunk in &text {
        if !header && search(&content, &whitespace_split_regex(chunk)) {
            continue;
        }
        preface.extend(splitlines(chunk).into_iter().map(str::to_string));
    }
    let mut count = preface.len();
    let show = c.flag("show_changes", true);
    let mut changes = Map::default();
    let with_nl: Vec<String> = preface.iter().map(|l| format!("{l}\n")).collect();
    if c.test {
        let mut nlines: Vec<&str> = with_nl.iter().map(String::as_str).collect();
        nlines.extend(slines.iter().copied());
        if nlines != slines {
            changes.insert(
                "diff".into(),
                diff_or_flag(&name, &data, show, || {
                    unified_diff_lines(&slines, &nlines, "\n").concat()
                })
                .into(),
            );
            r.insert("result".into(), Value::Null);
            r.insert(
                "comment".into(),
                format!("File {name} is set to be updated").into(),
            );
        } else {
            r.insert("result".into(), Value::Bool(true));
            r.insert(
                "comment".into(),
                format!("File {name} is in correct state").into(),
            );
        }
        r.insert("changes".into(), Value::Map(changes));
        return Ok(r);
    }
    let head: Vec<&str> = slines
        .iter()
        .take(preface.len())
        .flat_map(|l| splitlines(l))
        .collect();
    if header && head == preface.iter().map(String::as_str).collect::<Vec<_>>() {
        count = 0;
    } else if !preface.is_empty() {
        let mut new = with_nl.concat().into_bytes();
        new.extend_from_slice(&data);
        atomic_write(path, &new, None)?;
    }
    let after = std::fs::read(path).map_err(|e| halite_core::Error::io(&name, &e))?;
    let after_text = String::from_utf8_lossy(&after).to_string();
    let nlines = split_keepends(&after_text);
    if nlines != slines {
        changes.insert(
            "diff".into(),
            diff_or_flag(&name, &after, show, || {
                unified_diff_lines(&slines, &nlines, "\n").concat()
            })
            .into(),
        );
    }
    r.insert("changes".into(), Value::Map(changes));
    let comment = if count > 0 {
        format!("Prepended {count} lines")
    } else {
        format!("File {name} is in correct state")
    };
    r.insert("comment".into(), comment.into());
    r.insert("result".into(), Value::Bool(true));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::call;
    use super::*;

    #[test]
    fn whitespace_regex_matches_respaced_line() {
        let re = regex::Regex::new(&whitespace_split_regex("a  b")).unwrap();
        assert!(re.is_match("x\n a b \ny"));
        assert!(re.is_match("ab"), "whitespace is optional, as in Salt");
        assert!(!re.is_match("a c"));
    }

    #[test]
    fn append_adds_missing_lines_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hosts");
        std::fs::write(&p, "existing line").unwrap();
        let name = p.display().to_string();
        let args = [
            ("name", Value::from(name.as_str())),
            (
                "text",
                Value::List(vec!["x 1".into(), "existing line".into()]),
            ),
        ];
        let r = call(append, &args, false);
        assert_eq!(r.get("comment"), Some(&Value::from("Appended 1 lines")));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "existing line\nx 1\n");
        let r = call(append, &args, false);
        assert_eq!(
            r.get("comment"),
            Some(&Value::from(format!("File {name} is in correct state")))
        );
    }
}
