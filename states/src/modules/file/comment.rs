//! `file.comment` and `file.uncomment` (with Salt's `file.comment_line` underneath).

use super::difflib::{split_keepends, unified_diff_lines};
use super::util::{atomic_write, is_text};
use super::{arg, expand_user, fail, ret, StateCall};
use halite_core::{Error, Map, Result, Value};
use std::path::Path;

fn compile(pattern: &str) -> Result<regex::Regex> {
    regex::Regex::new(pattern)
        .map_err(|e| Error::InvalidArgument(format!("invalid regex {pattern}: {e}")))
}

/// Does any line (without its end) match `re`?
fn any_line(text: &str, re: &regex::Regex) -> bool {
    super::splitlines(text).iter().any(|l| re.is_match(l))
}

/// Salt's `unanchor_regex`: drop a leading inline flag group, `^` and a trailing `$`.
fn unanchor(regex: &str) -> String {
    static UNANCHOR: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^(\(\?[iLmsux]\))?\^?(.*?)\$?$").expect("static regex")
    });
    UNANCHOR.replace(regex, "$2").to_string()
}

/// The test=True return both functions give when lines would change.
fn set_to_be_updated(r: &mut Map, name: &str) {
    let mut ch = Map::default();
    ch.insert(name.into(), "updated".into());
    r.insert("changes".into(), Value::Map(ch));
    r.insert(
        "comment".into(),
        format!("File {name} is set to be updated").into(),
    );
    r.insert("result".into(), Value::Null);
}

/// Salt's `file.comment_line`: comment (or uncomment) the lines matching `regex`; returns
/// the old and new line lists (equal when nothing matched).
fn comment_line(path: &Path, regex: &str, ch: &str, cmnt: bool, backup: &str) -> Result<()> {
    let inner = regex.trim_start_matches('^').trim_end_matches('$');
    let end = if regex.ends_with('$') { "$" } else { "" };
    let pattern = if cmnt {
        format!(
            "\\A{}({inner}){end}",
            if regex.starts_with('^') { "^" } else { "" }
        )
    } else {
        format!("\\A{}\\s*({inner}){end}", regex::escape(ch))
    };
    let re = compile(&pattern)?;
    let data = std::fs::read(path).map_err(|e| Error::io(path.display().to_string(), &e))?;
    if !is_text(&data) {
        return Err(Error::InvalidArgument(format!(
            "Cannot perform string replacements on a binary file: {}",
            path.display()
        )));
    }
    let text = String::from_utf8_lossy(&data).to_string();
    let mut out = String::new();
    let mut found = false;
    for line in split_keepends(&text) {
        let bare = line.trim_end_matches(['\n', '\r']);
        if re.is_match(bare) {
            found = true;
            if cmnt {
                out.push_str(ch);
                out.push_str(line);
            } else {
                out.push_str(line.trim_start_matches(|c| ch.contains(c)));
            }
        } else {
            out.push_str(line);
        }
    }
    if !found {
        return Ok(());
    }
    if !backup.is_empty() {
        let bak = format!("{}{backup}", path.display());
        atomic_write(Path::new(&bak), &data, None)?;
    }
    atomic_write(path, out.as_bytes(), None)
}

fn read_lines(path: &Path) -> Result<(Vec<u8>, String)> {
    let data = std::fs::read(path).map_err(|e| Error::io(path.display().to_string(), &e))?;
    let text = String::from_utf8_lossy(&data).to_string();
    Ok((data, text))
}

fn check_file(name: &str, r: &mut Map) -> bool {
    let p = Path::new(name);
    if !p.is_absolute() {
        fail(r, format!("Specified file {name} is not an absolute path"));
        false
    } else if !p.exists() {
        fail(r, format!("{name}: file not found"));
        false
    } else {
        true
    }
}

fn diff_change(before: &str, after: &str, data: &[u8], changes: &mut Map) {
    if before == after {
        return;
    }
    let d = if is_text(data) {
        let (a, b) = (split_keepends(before), split_keepends(after));
        unified_diff_lines(&a, &b, "\n").concat()
    } else {
        "Replace binary file".into()
    };
    changes.insert("diff".into(), d.into());
}

fn backup_arg(c: &StateCall) -> String {
    match c.arg("backup") {
        None => ".bak".into(),
        Some(v) if !v.is_truthy() => String::new(),
        Some(v) => v.py_str(),
    }
}

/// `file.comment`.
pub fn comment(c: &StateCall) -> Result<Map> {
    let name = expand_user(&c.name());
    let mut r = ret(&name, Map::default(), Some(false), "");
    if name.is_empty() {
        fail(&mut r, "Must provide name to file.comment".into());
        return Ok(r);
    }
    if !check_file(&name, &mut r) {
        return Ok(r);
    }
    let regex = arg(c, "regex").map(Value::py_str).unwrap_or_default();
    let ch = arg(c, "char").map_or_else(|| "#".to_string(), Value::py_str);
    let un = unanchor(&regex);
    let path = Path::new(&name);
    let (_, before) = read_lines(path)?;
    let not_commented = compile(&format!("^\\s*{un}"))?;
    let commented_prefix = compile(&format!("^\\s*{}", regex::escape(&ch)))?;
    let has_uncommented = super::splitlines(&before)
        .iter()
        .any(|l| !commented_prefix.is_match(l) && not_commented.is_match(l));
    let comment_re = compile(&format!("{}{un}", regex::escape(&ch)))?;
    if !has_uncommented {
        if any_line(&before, &comment_re) {
            r.insert("comment".into(), "Pattern already commented".into());
            r.insert("result".into(), Value::Bool(true));
        } else if c.flag("ignore_missing", false) {
            r.insert(
                "comment".into(),
                "Pattern not found and ignore_missing set to True".into(),
            );
            r.insert("result".into(), Value::Bool(true));
        } else {
            fail(&mut r, format!("{un}: Pattern not found"));
        }
        return Ok(r);
    }
    if c.test {
        set_to_be_updated(&mut r, &name);
        return Ok(r);
    }
    comment_line(path, &regex, &ch, true, &backup_arg(c))?;
    let (data, after) = read_lines(path)?;
    let ok = any_line(&after, &comment_re);
    let mut changes = Map::default();
    diff_change(&before, &after, &data, &mut changes);
    r.insert("changes".into(), Value::Map(changes));
    r.insert("result".into(), Value::Bool(ok));
    let cm = if ok {
        "Commented lines successfully"
    } else {
        "Expected commented lines not found"
    };
    r.insert("comment".into(), cm.into());
    Ok(r)
}

/// `file.uncomment`.
pub fn uncomment(c: &StateCall) -> Result<Map> {
    let name = expand_user(&c.name());
    let mut r = ret(&name, Map::default(), Some(false), "");
    if name.is_empty() {
        fail(&mut r, "Must provide name to file.uncomment".into());
        return Ok(r);
    }
    if !check_file(&name, &mut r) {
        return Ok(r);
    }
    let regex = arg(c, "regex").map(Value::py_str).unwrap_or_default();
    let ch = arg(c, "char").map_or_else(|| "#".to_string(), Value::py_str);
    let bare = regex.trim_start_matches('^');
    let path = Path::new(&name);
    let (_, before) = read_lines(path)?;
    let commented = compile(&format!("{}[ \\t]*{bare}", regex::escape(&ch)))?;
    let uncommented = compile(&format!("^[ \\t]*{bare}"))?;
    if !any_line(&before, &commented) {
        if any_line(&before, &uncommented) {
            r.insert("comment".into(), "Pattern already uncommented".into());
            r.insert("result".into(), Value::Bool(true));
        } else {
            fail(&mut r, format!("{regex}: Pattern not found"));
        }
        return Ok(r);
    }
    if c.test {
        set_to_be_updated(&mut r, &name);
        return Ok(r);
    }
    comment_line(path, &regex, &ch, false, &backup_arg(c))?;
    let (data, after) = read_lines(path)?;
    let ok = any_line(&after, &uncommented);
    let mut changes = Map::default();
    diff_change(&before, &after, &data, &mut changes);
    r.insert("changes".into(), Value::Map(changes));
    r.insert("result".into(), Value::Bool(ok));
    let cm = if ok {
        "Uncommented lines successfully"
    } else {
        "Expected uncommented lines not found"
    };
    r.insert("comment".into(), cm.into());
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::call;
    use super::*;

    #[test]
    fn unanchor_strips_anchors() {
        assert_eq!(unanchor("^/dev/sdb1$"), "/dev/sdb1");
        assert_eq!(unanchor("(?i)^foo"), "foo");
    }

    #[test]
    fn comment_then_uncomment_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fstab");
        std::fs::write(&p, "a 1\nb 2\n").unwrap();
        let name = p.display().to_string();
        let args = [
            ("name", Value::from(name.as_str())),
            ("regex", Value::from("^b")),
        ];
        let r = call(comment, &args, false);
        assert_eq!(
            r.get("comment"),
            Some(&Value::from("Commented lines successfully")),
            "{r:?}"
        );
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a 1\n#b 2\n");
        assert_eq!(
            std::fs::read_to_string(format!("{name}.bak")).unwrap(),
            "a 1\nb 2\n"
        );
        let r = call(comment, &args, false);
        assert_eq!(
            r.get("comment"),
            Some(&Value::from("Pattern already commented"))
        );
        let r = call(uncomment, &args, false);
        assert_eq!(r.get("result"), Some(&Value::Bool(true)), "{r:?}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a 1\nb 2\n");
    }
}
