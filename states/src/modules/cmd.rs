//! `cmd.*` states (salt/states/cmd.py): `run`, `wait` (only through `watch`), `mod_watch`,
//! and `stateful` output parsing.

use super::{ret, Registry, StateCall};
use crate::exec::cmdrun::{env_pairs, retcodes, run_all, RunOpts};
use halite_core::{Map, Result, Value};

/// Register the `cmd` module.
pub fn register(r: &mut Registry) {
    r.add("cmd.run", run);
    r.add("cmd.wait", wait);
    r.add("cmd.watch", wait);
    r.add_mod_watch("cmd", mod_watch);
}

fn wait(c: &StateCall) -> Result<Map> {
    Ok(ret(&c.name(), Map::default(), Some(true), ""))
}

fn mod_watch(c: &StateCall) -> Result<Map> {
    let sfun = c.str_arg("sfun").unwrap_or("");
    match sfun {
        "wait" | "run" | "watch" => run(c),
        other => Ok({
            let mut m = Map::default();
            m.insert("name".into(), c.name().into());
            m.insert("changes".into(), Value::map());
            m.insert(
                "comment".into(),
                format!("cmd.{other} does not work with the watch requisite, please use cmd.wait or cmd.wait_script").into(),
            );
            m.insert("result".into(), Value::Bool(false));
            m
        }),
    }
}

fn run(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let mut r = ret(&name, Map::default(), Some(false), "");
    let stateful = c.arg("stateful").cloned().unwrap_or(Value::Bool(false));
    let test_name = match &stateful {
        Value::List(l) => l
            .first()
            .and_then(|f| f.get("test_name"))
            .map(Value::py_str),
        _ => None,
    };
    let is_stateful = matches!(stateful, Value::Bool(true)) || matches!(stateful, Value::List(_));
    let name = if c.test {
        test_name.clone().unwrap_or(name)
    } else {
        name
    };
    let env = match env_pairs(c.arg("env")) {
        Ok(e) => e,
        Err(_) => {
            r.insert(
                "comment".into(),
                "Invalidly-formatted 'env' parameter. See documentation.".into(),
            );
            return Ok(r);
        }
    };
    if c.test && test_name.is_none() {
        r.insert("result".into(), Value::Null);
        r.insert(
            "comment".into(),
            format!("Command \"{name}\" would have been executed").into(),
        );
        let mut ch = Map::default();
        ch.insert("cmd".into(), name.clone().into());
        r.insert("changes".into(), Value::Map(ch));
        return Ok(if is_stateful { reinterpreted(r) } else { r });
    }
    let cwd = c.arg("cwd").filter(|v| !v.is_null()).map(Value::py_str);
    if let Some(dir) = &cwd {
        if !std::path::Path::new(dir).is_dir() {
            r.insert(
                "comment".into(),
                format!("Desired working directory \"{dir}\" is not available").into(),
            );
            return Ok(r);
        }
    }
    let opts = RunOpts {
        cwd,
        shell: c.arg("shell").filter(|v| !v.is_null()).map(Value::py_str),
        env,
        prepend_path: c
            .arg("prepend_path")
            .filter(|v| !v.is_null())
            .map(Value::py_str),
        success_retcodes: retcodes(c.arg("success_retcodes"))?,
        hide_output: c.flag("hide_output", false),
        stdin: c.arg("stdin").filter(|v| !v.is_null()).map(Value::py_str),
        runas: c.arg("runas").filter(|v| !v.is_null()).map(Value::py_str),
        timeout: c.arg("timeout").and_then(|v| match v {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            other => other.py_str().parse().ok(),
        }),
    };
    let out = match run_all(&name, &opts) {
        Ok(o) => o,
        Err(e) => {
            r.insert("comment".into(), e.to_string().into());
            return Ok(r);
        }
    };
    r.insert("changes".into(), Value::Map(out.to_map()));
    r.insert("result".into(), Value::Bool(out.retcode == 0));
    r.insert("comment".into(), format!("Command \"{name}\" run").into());
    if is_stateful {
        r = reinterpreted(r);
    }
    if c.test && out.retcode == 0 && r.get("changes").is_some_and(Value::is_truthy) {
        r.insert("result".into(), Value::Null);
    }
    Ok(r)
}

fn failout(mut state: Map, msg: &str) -> Map {
    state.insert("comment".into(), msg.into());
    state.insert("result".into(), Value::Bool(false));
    state
}

fn is_true(v: &Value) -> Option<bool> {
    let s = v.py_str().to_lowercase();
    if v.is_truthy() && matches!(s.as_str(), "true" | "yes" | "1") {
        Some(true)
    } else if matches!(s.as_str(), "false" | "no" | "0") {
        Some(false)
    } else {
        None
    }
}

/// Salt's `_reinterpreted_state`: read `changed=... comment=...` or a JSON object from stdout.
fn reinterpreted(mut state: Map) -> Map {
    let ret_changes = match state.insert("changes".into(), Value::map()) {
        Some(Value::Map(m)) => m,
        _ => Map::default(),
    };
    state.insert("comment".into(), "".into());
    let out = ret_changes
        .get("stdout")
        .map(Value::py_str)
        .unwrap_or_default();
    if out.is_empty() {
        if let Some(err) = ret_changes.get("stderr").filter(|e| e.is_truthy()) {
            state.insert("comment".into(), err.clone());
        }
        return state;
    }
    let mut is_json = false;
    let mut idx: isize = -1;
    let mut data = Map::default();
    match serde_json::from_str::<serde_json::Value>(&out) {
        Ok(j) => {
            let Value::Map(m) = halite_core::json::from_json(&j) else {
                return failout(
                    state,
                    "script JSON output must be a JSON object (e.g., {})!",
                );
            };
            data = m;
            is_json = true;
        }
        Err(_) => {
            let trimmed = out.trim_end();
            let mut last = out.as_str();
            if let Some(i) = trimmed.rfind('\n') {
                idx = i as isize;
                last = &out[i + 1..];
            }
            for item in shell_words(last) {
                match item.split_once('=') {
                    Some((k, v)) if !v.contains('=') => {
                        data.insert(k.into(), v.into());
                    }
                    _ => {
                        let mut st = failout(
                            state,
                            "Failed parsing script output! Stdout must be JSON or a line of name=value pairs.",
                        );
                        if let Some(Value::Map(ch)) = st.get_mut("changes") {
                            ch.extend(ret_changes);
                        }
                        return st;
                    }
                }
            }
        }
    }
    let changed = is_true(data.get("changed").unwrap_or(&Value::from("no"))).unwrap_or(false);
    if let Some(cm) = data.shift_remove("comment") {
        state.insert("comment".into(), cm);
    }
    if changed {
        for (k, v) in &ret_changes {
            if !data.contains_key(k) {
                data.insert(k.clone(), v.clone());
            }
        }
        let stdout = if is_json {
            String::new()
        } else {
            let s = data.get("stdout").map(Value::py_str).unwrap_or_default();
            // Python's s[:idx] with idx = -1 drops the last character.
            let end = if idx < 0 {
                s.len().saturating_sub(1)
            } else {
                (idx as usize).min(s.len())
            };
            s.get(..end).unwrap_or("").to_string()
        };
        data.insert("stdout".into(), stdout.into());
        state.insert("changes".into(), Value::Map(data));
    }
    state
}

/// A small POSIX-like word splitter (Salt uses `shlex.split`).
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                cur.push(n);
                            }
                        }
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}
