//! `file.line` (with Salt's `file.line` / `_set_line` execution logic: line-oriented
//! insert, ensure, replace and delete around `match`, `before` and `after` regexes).

use super::difflib::{split_keepends, unified_diff_lines};
use super::util::atomic_write;
use super::{arg, expand_user, fail, ret, StateCall};
use halite_core::{Error, Map, Result, Value};
use std::path::Path;

fn exec_err(msg: impl Into<String>) -> Error {
    Error::CommandExecution(msg.into())
}

/// Salt's `_regex_to_static`: the lines that the regex (DOTALL) finds, or that contain it.
fn regex_to_static(lines: &[String], regex: Option<&str>) -> Result<Option<Vec<String>>> {
    let Some(regex) = regex.filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if lines.is_empty() {
        return Ok(None);
    }
    let re = regex::Regex::new(&format!("(?s){regex}"))
        .map_err(|e| exec_err(format!("{e}: '{regex}'")))?;
    // Python's `$` also matches before a final `\n`.
    let found = |l: &String| {
        re.is_match(l) || l.strip_suffix('\n').is_some_and(|s| re.is_match(s)) || l.contains(regex)
    };
    Ok(Some(lines.iter().filter(|l| found(l)).cloned().collect()))
}

fn assert_occurrence(probe: &[String], target: &str) -> Result<()> {
    let msg = match probe.len() {
        0 => Some("less than"),
        1 => None,
        _ => Some("more than"),
    };
    match msg {
        Some(m) => Err(exec_err(format!(
            "Found {m} expected occurrences in \"{target}\" expression"
        ))),
        None => Ok(()),
    }
}

fn set_indent(src: &str, line: &str, indent: bool) -> String {
    if !indent {
        return line.to_string();
    }
    let idt: String = src
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    format!("{idt}{}", line.trim_start())
}

fn eol(line: &str) -> &str {
    if line.ends_with("\r\n") {
        "\r\n"
    } else if line.ends_with('\n') {
        "\n"
    } else if line.ends_with('\r') {
        "\r"
    } else {
        ""
    }
}

fn set_eol(src: &str, line: &str) -> String {
    let e = match eol(src) {
        "" => "\n",
        e => e,
    };
    format!("{}{e}", line.trim_end())
}

fn index_of(lines: &[String], wanted: &str) -> usize {
    lines.iter().position(|l| l == wanted).unwrap_or(0)
}

/// The wanted edit.
struct Edit<'a> {
    content: Option<&'a str>,
    mode: &'a str,
    location: Option<&'a str>,
    indent: bool,
}

/// Salt's `_set_line`.
fn set_line(
    mut lines: Vec<String>,
    e: &Edit,
    m: Option<Vec<String>>,
    before: Option<Vec<String>>,
    after: Option<Vec<String>>,
) -> Result<Vec<String>> {
    let content = e.content.unwrap_or("");
    let trim = |s: &str| s.trim_end_matches(['\r', '\n']).to_string();
    let nonempty = |v: &Option<Vec<String>>| v.as_ref().is_some_and(|v| !v.is_empty());
    match e.mode {
        "delete" | "replace" if lines.is_empty() => {}
        "delete" => {
            if let Some(first) = m.as_ref().and_then(|m| m.first()) {
                let first = first.clone();
                lines.retain(|l| *l != first);
            }
        }
        "replace" => {
            if let Some(first) = m.as_ref().and_then(|m| m.first()) {
                let idx = index_of(&lines, first);
                let orig = lines.remove(idx);
                lines.insert(idx, set_indent(&orig, content, e.indent));
            }
        }
        "insert" => {
            if before.is_none() && after.is_none() && e.location.is_none() {
                return Err(exec_err(
                    "On insert either \"location\" or \"before/after\" conditions are required.",
                ));
            }
            if let Some(loc) = e.location.filter(|l| !l.is_empty()) {
                if loc == "end" {
                    let line = match lines.last() {
                        Some(last) => set_indent(last, content, e.indent),
                        None => content.to_string(),
                    };
                    lines.push(line);
                } else if loc == "start" {
                    match lines.first() {
                        Some(first) => {
                            let l = set_eol(first, content);
                            lines.insert(0, l);
                        }
                        None => lines = vec![format!("{content}\n")],
                    }
                }
            } else if nonempty(&before) && nonempty(&after) {
                let (b, a) = (before.unwrap_or_default(), after.unwrap_or_default());
                assert_occurrence(&b, "before")?;
                assert_occurrence(&a, "after")?;
                let last = index_of(&lines, &b[0]);
                let l = set_indent(&lines[last], content, e.indent);
                lines.insert(last, l);
            } else if nonempty(&after) {
                let a = after.unwrap_or_default();
                assert_occurrence(&a, "after")?;
                let idx = index_of(&lines, &a[0]);
                if lines.get(idx + 1).is_none_or(|n| trim(n) != trim(content)) {
                    let l = set_indent(&lines[idx], content, e.indent);
                    lines.insert(idx + 1, l);
                }
            } else if nonempty(&before) {
                let b = before.unwrap_or_default();
                assert_occurrence(&b, "before")?;
                let idx = index_of(&lines, &b[0]);
                let prev = if idx == 0 { lines.len() - 1 } else { idx - 1 };
                if trim(&lines[prev]) != trim(content) {
                    let l = set_indent(&lines[idx], content, e.indent);
                    lines.insert(idx, l);
                }
            } else {
                return Err(exec_err("Neither before or after was found in file"));
            }
        }
        "ensure" => {
            if nonempty(&before) && nonempty(&after) {
                let (b, a) = (before.unwrap_or_default(), after.unwrap_or_default());
                assert_occurrence(&a, "after")?;
                assert_occurrence(&b, "before")?;
                let ai = index_of(&lines, &a[0]);
                let bi = index_of(&lines, &b[0]);
                if !lines.iter().any(|l| l.trim_start() == content) {
                    if ai + 1 == bi {
                        let l = set_indent(&lines[ai], content, e.indent);
                        lines.insert(ai + 1, l);
                    } else if ai + 2 == bi {
                        lines[ai + 1] = set_indent(&lines[ai], content, e.indent);
                    } else {
                        return Err(exec_err(
                            "Found more than one line between boundaries \"before\" and \"after\".",
                        ));
                    }
                }
            } else if nonempty(&before) {
                let b = before.unwrap_or_default();
                assert_occurrence(&b, "before")?;
                let bi = index_of(&lines, &b[0]);
                let prev = if bi == 0 { lines.len() - 1 } else { bi - 1 };
                if bi == 0 || trim(&lines[bi - 1]) != trim(content) {
                    let l = set_indent(&lines[prev], content, e.indent);
                    lines.insert(bi, l);
                }
            } else if nonempty(&after) {
                let a = after.unwrap_or_default();
                assert_occurrence(&a, "after")?;
                let ai = index_of(&lines, &a[0]);
                if lines.get(ai + 1).is_none_or(|n| trim(n) != trim(content)) {
                    let l = set_indent(&lines[ai], content, e.indent);
                    lines.insert(ai + 1, l);
                }
            } else {
                return Err(exec_err("Wrong conditions? Unable to ensure line without knowing where to put it before and/or after."));
            }
        }
        other => return Err(exec_err(format!("Unknown mode: {other}"))),
    }
    Ok(lines)
}

/// `file.line`.
pub fn line(c: &StateCall) -> Result<Map> {
    let name = expand_user(&c.name());
    let mut r = ret(&name, Map::default(), Some(true), "");
    if name.is_empty() {
        fail(&mut r, "Must provide name to file.line".into());
        return Ok(r);
    }
    let path = Path::new(&name);
    if c.flag("create", false) && path.is_absolute() && !path.exists() && !c.test {
        if let Some(parent) = path.parent().filter(|p| p.is_dir()) {
            let _ = parent;
            atomic_write(path, b"", None)?;
        }
    }
    if !path.is_absolute() {
        fail(
            &mut r,
            format!("Specified file {name} is not an absolute path"),
        );
        return Ok(r);
    }
    if !path.exists() {
        fail(&mut r, format!("{name}: file not found"));
        return Ok(r);
    }
    let mode = arg(c, "mode").map(|m| m.py_str().to_lowercase());
    let Some(mode) = mode else {
        fail(
            &mut r,
            "Mode was not defined. How to process the file?".into(),
        );
        return Ok(r);
    };
    let content = arg(c, "content").map(Value::py_str);
    if mode != "delete" && content.is_none() {
        fail(
            &mut r,
            "Content can only be empty if mode is ['delete']".into(),
        );
        return Ok(r);
    }
    if !["insert", "ensure", "delete", "replace"].contains(&mode.as_str()) {
        return Err(exec_err(format!("Unknown mode: \"{mode}\"")));
    }
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if !real.is_file() {
        return Err(exec_err(format!(
            "File \"{}\" does not exists or is not a file.",
            real.display()
        )));
    }
    let data = std::fs::read(&real).map_err(|e| Error::io(&name, &e))?;
    let text = String::from_utf8_lossy(&data).to_string();
    let mut body: Vec<String> = split_keepends(&text)
        .into_iter()
        .map(str::to_string)
        .collect();
    if body.last().is_some_and(|l| !eol(l).is_empty()) {
        body.push(String::new());
    }
    if data.is_empty() && (mode == "delete" || mode == "replace") {
        body.clear();
    }
    let before_s = arg(c, "before").map(Value::py_str);
    let after_s = arg(c, "after").map(Value::py_str);
    let mut match_s = arg(c, "match").map(Value::py_str).filter(|m| !m.is_empty());
    if before_s.is_none() && after_s.is_none() && match_s.is_none() {
        match_s.clone_from(&content);
    }
    let after = regex_to_static(&body, after_s.as_deref())?;
    let before = regex_to_static(&body, before_s.as_deref())?;
    let m = regex_to_static(&body, match_s.as_deref())?;
    let edit = Edit {
        content: content.as_deref(),
        mode: &mode,
        location: arg(c, "location").and_then(Value::as_str),
        indent: c.flag("indent", true),
    };
    let mut body = set_line(body, &edit, m, before, after)?;
    if !body.is_empty() {
        for idx in 0..body.len() {
            if eol(&body[idx]).is_empty() && idx + 1 < body.len() {
                let prev = if idx == 0 { 1 } else { idx - 1 };
                body[idx] = set_eol(&body[prev], &body[idx]);
            }
        }
        if body.last().is_some_and(String::is_empty) {
            body.pop();
        }
    }
    let new_text = body.concat();
    if new_text == text {
        r.insert("comment".into(), "No changes needed to be made".into());
        return Ok(r);
    }
    if c.flag("backup", false) && !c.test {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        atomic_write(
            Path::new(&format!("{}.{stamp}", real.display())),
            &data,
            None,
        )?;
    }
    let show = c.flag("show_changes", true);
    let diff = if show {
        let a = split_keepends(&text);
        let b: Vec<&str> = body.iter().map(String::as_str).collect();
        Value::Str(unified_diff_lines(&a, &b, "\n").concat())
    } else {
        Value::Bool(true)
    };
    if !c.test {
        atomic_write(&real, new_text.as_bytes(), None)?;
    }
    let mut changes = Map::default();
    changes.insert("diff".into(), diff);
    r.insert("changes".into(), Value::Map(changes));
    if c.test {
        r.insert("result".into(), Value::Null);
        r.insert("comment".into(), "Changes would be made".into());
    } else {
        r.insert("comment".into(), "Changes were made".into());
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::call;
    use super::*;

    #[test]
    fn ensure_after_replace_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("app.ini");
        std::fs::write(&p, "[main]\ndebug = true\nobsolete = 1\n").unwrap();
        let name = Value::from(p.display().to_string());
        let r = call(
            line,
            &[
                ("name", name.clone()),
                ("content", "workers = 4".into()),
                ("after", "^debug = .*$".into()),
                ("mode", "ensure".into()),
            ],
            false,
        );
        assert_eq!(
            r.get("comment"),
            Some(&Value::from("Changes were made")),
            "{r:?}"
        );
        call(
            line,
            &[
                ("name", name.clone()),
                ("match", "^debug = ".into()),
                ("content", "debug = false".into()),
                ("mode", "replace".into()),
            ],
            false,
        );
        call(
            line,
            &[
                ("name", name.clone()),
                ("match", "^obsolete".into()),
                ("mode", "delete".into()),
            ],
            false,
        );
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "[main]\ndebug = false\nworkers = 4\n"
        );
        let r = call(
            line,
            &[
                ("name", name),
                ("match", "^obsolete".into()),
                ("mode", "delete".into()),
            ],
            false,
        );
        assert_eq!(
            r.get("comment"),
            Some(&Value::from("No changes needed to be made"))
        );
    }
}
