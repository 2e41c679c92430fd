//! `unless`, `onlyif`, `creates` and `check_cmd`, as Salt's `State._run_check*` evaluate them.

use crate::chunk::Chunk;
use crate::exec::cmdrun::{opts_from_low, retcode, RunOpts};
use halite_core::{Functions, Map, Value};

fn base(low: &Chunk) -> Map {
    let mut r = Map::default();
    r.insert("result".into(), Value::Bool(false));
    for k in ["__sls__", "__id__", "name"] {
        r.insert(k.into(), low.get(k).cloned().unwrap_or(Value::Null));
    }
    r
}

fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::List(l) => l.clone(),
        other => vec![other.clone()],
    }
}

fn run_function(entry: &Map, functions: &dyn Functions) -> Value {
    let mut kwargs = entry.clone();
    let fun = kwargs
        .shift_remove("fun")
        .map(|v| v.py_str())
        .unwrap_or_default();
    let args = match kwargs.shift_remove("args") {
        Some(Value::List(l)) => l,
        Some(other) => vec![other],
        None => vec![],
    };
    functions
        .call(&fun, &args, &kwargs)
        .unwrap_or(Value::Bool(false))
}

fn onlyif(low: &Chunk, opts: &RunOpts, functions: &dyn Functions) -> Map {
    let mut r = base(low);
    let entries = as_list(low.get("onlyif").unwrap_or(&Value::Null));
    let skip = |r: &mut Map| {
        r.insert("comment".into(), "onlyif condition is false".into());
        r.insert("skip_watch".into(), Value::Bool(true));
        r.insert("result".into(), Value::Bool(true));
    };
    for entry in entries {
        match entry {
            Value::Str(cmd) => {
                let rc = retcode(&cmd, opts).unwrap_or(100);
                if rc != 0 && r.get("result") == Some(&Value::Bool(false)) {
                    skip(&mut r);
                    return r;
                } else if rc == 0 {
                    r.insert("comment".into(), "onlyif condition is true".into());
                    r.insert("result".into(), Value::Bool(false));
                }
            }
            Value::Map(m) => {
                if !m.contains_key("fun") {
                    r.insert(
                        "comment".into(),
                        format!("no `fun` argument in onlyif: {}", Value::Map(m).py_repr()).into(),
                    );
                    return r;
                }
                let mut m = m;
                let get_return = m.shift_remove("get_return");
                let mut result = run_function(&m, functions);
                if let Some(path) = get_return.filter(Value::is_truthy) {
                    result = result
                        .traverse(&path.py_str(), ":")
                        .cloned()
                        .unwrap_or(Value::Null);
                }
                if !result.is_truthy() {
                    skip(&mut r);
                    return r;
                }
                r.insert("comment".into(), "onlyif condition is true".into());
                r.insert("result".into(), Value::Bool(false));
            }
            _ => {
                r.insert(
                    "comment".into(),
                    "onlyif execution failed, bad type passed".into(),
                );
                r.insert("result".into(), Value::Bool(false));
                return r;
            }
        }
    }
    r
}

fn unless(low: &Chunk, opts: &RunOpts, functions: &dyn Functions) -> Map {
    let mut r = base(low);
    let entries = as_list(low.get("unless").unwrap_or(&Value::Null));
    let skip = |r: &mut Map| {
        r.insert("comment".into(), "unless condition is true".into());
        r.insert("skip_watch".into(), Value::Bool(true));
        r.insert("result".into(), Value::Bool(true));
    };
    let run = |r: &mut Map| {
        r.shift_remove("skip_watch");
        r.insert("comment".into(), "unless condition is false".into());
        r.insert("result".into(), Value::Bool(false));
    };
    for entry in entries {
        match entry {
            Value::Str(cmd) => {
                let rc = retcode(&cmd, opts).unwrap_or(0);
                if rc == 0 {
                    skip(&mut r);
                } else {
                    run(&mut r);
                    return r;
                }
            }
            Value::Map(m) => {
                if !m.contains_key("fun") {
                    r.insert(
                        "comment".into(),
                        format!("no `fun` argument in unless: {}", Value::Map(m).py_repr()).into(),
                    );
                    return r;
                }
                let mut m = m;
                let get_return = m.shift_remove("get_return");
                let mut result = run_function(&m, functions);
                if let Some(path) = get_return.filter(Value::is_truthy) {
                    result = result
                        .traverse(&path.py_str(), ":")
                        .cloned()
                        .unwrap_or(Value::Null);
                }
                if result.is_truthy() {
                    skip(&mut r);
                } else {
                    run(&mut r);
                    return r;
                }
            }
            _ => {
                r.insert(
                    "comment".into(),
                    "unless condition is false, bad type passed".into(),
                );
                r.insert("result".into(), Value::Bool(false));
            }
        }
    }
    r
}

fn creates(low: &Chunk) -> Map {
    let mut r = base(low);
    let exists = |p: &str| std::path::Path::new(p).exists();
    match low.get("creates") {
        Some(Value::Str(p)) if exists(p) => {
            r.insert("comment".into(), format!("{p} exists").into());
            r.insert("result".into(), Value::Bool(true));
            r.insert("skip_watch".into(), Value::Bool(true));
        }
        Some(Value::List(l)) if l.iter().all(|p| exists(&p.py_str())) => {
            r.insert("comment".into(), "All files in creates exist".into());
            r.insert("result".into(), Value::Bool(true));
            r.insert("skip_watch".into(), Value::Bool(true));
        }
        _ => {
            r.insert("comment".into(), "Creates files not found".into());
            r.insert("result".into(), Value::Bool(false));
        }
    }
    r
}

/// Salt's `_run_check`: `result: true` means "do not run the state" (comment is a list).
pub fn run_check(low: &Chunk, functions: &dyn Functions) -> Map {
    let mut ret = Map::default();
    ret.insert("result".into(), Value::Bool(false));
    ret.insert("comment".into(), Value::List(vec![]));
    let mut comments = Vec::new();
    for k in ["__sls__", "__id__", "name"] {
        ret.insert(k.into(), low.get(k).cloned().unwrap_or(Value::Null));
    }
    let opts = opts_from_low(low).unwrap_or_default();
    let mut skip_watch: Option<bool> = None;
    let mut merge = |sub: Map, ret: &mut Map, first: bool| {
        let res = sub.get("result").is_some_and(Value::is_truthy);
        let prev = ret.get("result").is_some_and(Value::is_truthy);
        ret.insert(
            "result".into(),
            Value::Bool(if first { res } else { res || prev }),
        );
        comments.push(sub.get("comment").cloned().unwrap_or(Value::Null));
        if let Some(sw) = sub.get("skip_watch") {
            let v = sw.is_truthy() || (!first && skip_watch.unwrap_or(false));
            skip_watch = Some(v);
        }
    };
    let mut first = true;
    if low.contains_key("onlyif") {
        merge(onlyif(low, &opts, functions), &mut ret, first);
        first = false;
    }
    if low.contains_key("unless") {
        merge(unless(low, &opts, functions), &mut ret, first);
        first = false;
    }
    if low.contains_key("creates") {
        merge(creates(low), &mut ret, first);
    }
    ret.insert("comment".into(), Value::List(comments));
    if let Some(sw) = skip_watch {
        ret.insert("skip_watch".into(), Value::Bool(sw));
    }
    ret
}

/// Salt's `_run_check_cmd`: every command must exit 0 for the state to count as a success.
pub fn run_check_cmd(low: &Chunk) -> Map {
    let mut r = base(low);
    let opts = RunOpts::default();
    for entry in as_list(low.get("check_cmd").unwrap_or(&Value::Null)) {
        let rc = retcode(&entry.py_str(), &opts).unwrap_or(1);
        if rc == 0 && r.get("result") == Some(&Value::Bool(false)) {
            r.insert(
                "comment".into(),
                "check_cmd determined the state succeeded".into(),
            );
            r.insert("result".into(), Value::Bool(true));
        } else if rc != 0 {
            r.insert(
                "comment".into(),
                "check_cmd determined the state failed".into(),
            );
            r.insert("result".into(), Value::Bool(false));
            return r;
        }
    }
    r
}
