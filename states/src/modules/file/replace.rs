//! `file.replace` (with Salt's `file.replace` execution logic: a regex substitution over the
//! whole file, `append_if_not_found`/`prepend_if_not_found`, `.bak` backup).

use super::difflib::{split_keepends, unified_diff_lines};
use super::util::{atomic_write, is_text};
use super::{arg, expand_user, fail, ret, StateCall};
use halite_core::{Error, Map, Result, Value};
use std::path::Path;

/// Python `re` flags (`8`, `['MULTILINE', 'IGNORECASE']`) as a Rust inline flag prefix.
pub fn flags_prefix(flags: Option<&Value>) -> String {
    let bits: i64 = match flags {
        None => 8,
        Some(Value::Int(n)) => *n,
        Some(Value::List(l)) => l.iter().map(|f| flag_bit(&f.py_str())).sum(),
        Some(v) => v
            .py_str()
            .split(['|', ','])
            .map(|f| flag_bit(f.trim()))
            .sum(),
    };
    let mut s = String::new();
    if bits & 2 != 0 {
        s.push('i');
    }
    if bits & 8 != 0 {
        s.push('m');
    }
    if bits & 16 != 0 {
        s.push('s');
    }
    if bits & 64 != 0 {
        s.push('x');
    }
    if s.is_empty() {
        s
    } else {
        format!("(?{s})")
    }
}

fn flag_bit(name: &str) -> i64 {
    match name.to_uppercase().trim_start_matches("RE.") {
        "I" | "IGNORECASE" => 2,
        "L" | "LOCALE" => 4,
        "M" | "MULTILINE" => 8,
        "S" | "DOTALL" => 16,
        "U" | "UNICODE" => 32,
        "X" | "VERBOSE" => 64,
        _ => 0,
    }
}

/// Python's replacement syntax (`\1`, `\g<1>`, `\g<name>`, `\n`) → the regex crate's.
pub fn python_repl(repl: &str) -> String {
    let mut out = String::new();
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    let mut n = String::new();
                    while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                        n.push(d);
                        chars.next();
                        if n.len() == 2 {
                            break;
                        }
                    }
                    out.push_str(&format!("${{{n}}}"));
                }
                Some('g') => {
                    chars.next();
                    if chars.peek() == Some(&'<') {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|&c| c != '>').collect();
                        out.push_str(&format!("${{{name}}}"));
                    } else {
                        out.push_str("\\g");
                    }
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('t') => {
                    chars.next();
                    out.push('\t');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            other => out.push(other),
        }
    }
    out
}

/// The outcome of a replace run: the diff (empty when nothing changes).
fn replace_file(c: &StateCall, path: &Path, dry_run: bool) -> Result<String> {
    let pattern = arg(c, "pattern").map(Value::py_str).unwrap_or_default();
    let repl = arg(c, "repl").map(Value::py_str).unwrap_or_default();
    let count = arg(c, "count").and_then(Value::as_int).unwrap_or(0);
    let append = c.flag("append_if_not_found", false);
    let prepend = c.flag("prepend_if_not_found", false);
    if append && prepend {
        return Err(Error::InvalidArgument(
            "Only one of append and prepend_if_not_found is permitted".into(),
        ));
    }
    let data = std::fs::read(path).map_err(|e| Error::io(path.display().to_string(), &e))?;
    if !is_text(&data) {
        return Err(Error::InvalidArgument(format!(
            "Cannot perform string replacements on a binary file: {}",
            path.display()
        )));
    }
    let orig = String::from_utf8_lossy(&data).to_string();
    let prefix = flags_prefix(arg(c, "flags"));
    let re = regex::Regex::new(&format!("{prefix}{pattern}"))
        .map_err(|e| Error::InvalidArgument(format!("{e}")))?;
    let repl_rs = if c.flag("backslash_literal", false) {
        repl.replace('$', "$$")
    } else {
        python_repl(&repl)
    };
    let nrepl = re.find_iter(&orig).count();
    let limit = usize::try_from(count).unwrap_or(0);
    let result = re.replacen(&orig, limit, repl_rs.as_str()).to_string();
    let mut found = nrepl > 0;
    let not_found_content = arg(c, "not_found_content").map(Value::py_str);
    let content = match (&not_found_content, append || prepend) {
        (Some(n), true) if !n.is_empty() => n.clone(),
        _ => repl.clone(),
    };
    if append || prepend {
        let probe = regex::Regex::new(&format!("{prefix}^{}(?:$|\\r$)", regex::escape(&content)))
            .map_err(|e| Error::InvalidArgument(format!("{e}")))?;
        if probe.is_match(&orig) {
            found = true;
        }
    }
    let orig_lines = split_keepends(&orig);
    let mut new_lines: Vec<String> = split_keepends(&result)
        .into_iter()
        .map(str::to_string)
        .collect();
    if !found && (append || prepend) {
        let nfc = not_found_content.unwrap_or_else(|| repl.clone());
        if prepend {
            new_lines.insert(0, format!("{nfc}\n"));
        } else {
            if let Some(last) = new_lines.last_mut() {
                if !last.ends_with('\n') {
                    last.push('\n');
                }
            }
            new_lines.push(format!("{nfc}\n"));
        }
    }
    let new_text = new_lines.concat();
    if new_text == orig {
        return Ok(String::new());
    }
    if !dry_run {
        let backup = match c.arg("backup") {
            None => ".bak".to_string(),
            Some(v) if !v.is_truthy() => String::new(),
            Some(v) => v.py_str(),
        };
        if !backup.is_empty() {
            atomic_write(
                Path::new(&format!("{}{backup}", path.display())),
                &data,
                None,
            )?;
        }
        atomic_write(path, new_text.as_bytes(), None)?;
    }
    let b: Vec<&str> = new_lines.iter().map(String::as_str).collect();
    let diff = unified_diff_lines(&orig_lines, &b, "\n").concat();
    Ok(if c.flag("show_changes", true) {
        diff
    } else {
        "True".into()
    })
}

/// `file.replace`.
pub fn replace(c: &StateCall) -> Result<Map> {
    let name = expand_user(&c.name());
    let mut r = ret(&name, Map::default(), Some(true), "");
    if name.is_empty() {
        fail(&mut r, "Must provide name to file.replace".into());
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
    if !path.exists() {
        if c.flag("ignore_if_missing", false) {
            r.insert("comment".into(), "No changes needed to be made".into());
        } else {
            fail(&mut r, format!("{name}: file not found"));
        }
        return Ok(r);
    }
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let diff = replace_file(c, &real, c.test)?;
    if diff.is_empty() {
        r.insert("comment".into(), "No changes needed to be made".into());
        return Ok(r);
    }
    let mut changes = Map::default();
    changes.insert(
        "diff".into(),
        if diff == "True" {
            Value::Bool(true)
        } else {
            diff.into()
        },
    );
    r.insert("changes".into(), Value::Map(changes));
    if c.test {
        r.insert("result".into(), Value::Null);
        r.insert("comment".into(), "Changes would have been made".into());
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
    fn python_replacements_translate() {
        assert_eq!(python_repl(r"a \1 \g<name> $x"), "a ${1} ${name} $$x");
    }

    #[test]
    fn flags_default_multiline() {
        assert_eq!(flags_prefix(None), "(?m)");
        assert_eq!(
            flags_prefix(Some(&Value::List(vec!["IGNORECASE".into()]))),
            "(?i)"
        );
    }

    #[test]
    fn replace_and_append_if_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cfg");
        std::fs::write(&p, "Port 22\nRoot yes\n").unwrap();
        let name = p.display().to_string();
        let args = [
            ("name", Value::from(name.as_str())),
            ("pattern", Value::from(r"^Root\s+(\w+)$")),
            ("repl", Value::from("Root no")),
        ];
        let r = call(replace, &args, false);
        assert_eq!(r.get("comment"), Some(&Value::from("Changes were made")));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "Port 22\nRoot no\n");
        let args = [
            ("name", Value::from(name.as_str())),
            ("pattern", Value::from("^Max .*$")),
            ("repl", Value::from("Max 3")),
            ("append_if_not_found", Value::Bool(true)),
        ];
        call(replace, &args, false);
        let r = call(replace, &args, false);
        assert_eq!(
            r.get("comment"),
            Some(&Value::from("No changes needed to be made"))
        );
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "Port 22\nRoot no\nMax 3\n"
        );
    }
}
