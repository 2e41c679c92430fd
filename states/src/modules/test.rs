//! `test.*` states (salt/states/test.py): requisite and output testing helpers.

use super::{ret, Registry, StateCall};
use crate::chunk::gen_tag;
use halite_core::{Error, Map, Result, Value};

/// Register the `test` module.
pub fn register(r: &mut Registry) {
    r.add("test.nop", succeed_without_changes);
    r.add("test.succeed_without_changes", succeed_without_changes);
    r.add("test.succeed_with_changes", succeed_with_changes);
    r.add("test.fail_without_changes", fail_without_changes);
    r.add("test.fail_with_changes", fail_with_changes);
    r.add("test.configurable_test_state", configurable_test_state);
    r.add("test.show_notification", show_notification);
    r.add_mod_watch("test", mod_watch);
}

fn pretend() -> Map {
    let mut inner = Map::default();
    inner.insert("old".into(), "Unchanged".into());
    inner.insert("new".into(), "Something pretended to change".into());
    let mut c = Map::default();
    c.insert("testing".into(), Value::Map(inner));
    c
}

fn comment_or(c: &StateCall, dflt: &str) -> Value {
    c.arg("comment").cloned().unwrap_or_else(|| dflt.into())
}

fn with_comment(mut m: Map, comment: Value) -> Map {
    m.insert("comment".into(), comment);
    m
}

fn succeed_without_changes(c: &StateCall) -> Result<Map> {
    let m = ret(&c.name(), Map::default(), Some(true), "");
    Ok(with_comment(m, comment_or(c, "Success!")))
}

fn fail_without_changes(c: &StateCall) -> Result<Map> {
    let mut m = with_comment(
        ret(&c.name(), Map::default(), Some(false), ""),
        comment_or(c, "Failure!"),
    );
    if c.test {
        m.insert(
            "comment".into(),
            "If we weren't testing, this would be a failure!".into(),
        );
    }
    Ok(m)
}

fn succeed_with_changes(c: &StateCall) -> Result<Map> {
    let mut m = with_comment(
        ret(&c.name(), pretend(), Some(true), ""),
        comment_or(c, "Success!"),
    );
    if c.test {
        m.insert("result".into(), Value::Null);
        m.insert(
            "comment".into(),
            "If we weren't testing, this would be successful with changes".into(),
        );
    }
    Ok(m)
}

fn fail_with_changes(c: &StateCall) -> Result<Map> {
    let mut m = with_comment(
        ret(&c.name(), pretend(), Some(false), ""),
        comment_or(c, "Failure!"),
    );
    if c.test {
        m.insert("result".into(), Value::Null);
        m.insert(
            "comment".into(),
            "If we weren't testing, this would be failed with changes".into(),
        );
    }
    Ok(m)
}

fn configurable_test_state(c: &StateCall) -> Result<Map> {
    let changes = c.arg("changes").cloned().unwrap_or(Value::Bool(true));
    let result = c.arg("result").cloned().unwrap_or(Value::Bool(true));
    let comment = c.arg("comment").cloned().unwrap_or_else(|| "".into());
    let mut m = with_comment(
        ret(&c.name(), Map::default(), Some(false), ""),
        comment.clone(),
    );
    match &changes {
        Value::Bool(true) => {
            m.insert("changes".into(), Value::Map(pretend()));
        }
        Value::Bool(false) => {}
        other if other.py_str().to_lowercase() == "random" => {
            if random_bool() {
                m.insert("changes".into(), Value::Map(pretend()));
            }
        }
        _ => {
            return Err(Error::InvalidArgument(
                "You have specified the state option 'changes' with invalid arguments. It must be either True, False, or 'Random'".into(),
            ))
        }
    }
    match &result {
        Value::Bool(b) => {
            m.insert("result".into(), Value::Bool(*b));
        }
        other if other.py_str().to_lowercase() == "random" => {
            m.insert("result".into(), Value::Bool(random_bool()));
        }
        _ => {
            return Err(Error::InvalidArgument(
                "You have specified the state option 'result' with invalid arguments. It must be either True, False, or 'Random'".into(),
            ))
        }
    }
    match c.arg("warnings") {
        None | Some(Value::Null) => {}
        Some(Value::Str(s)) => {
            m.insert("warnings".into(), Value::List(vec![Value::Str(s.clone())]));
        }
        Some(Value::List(l)) => {
            m.insert("warnings".into(), Value::List(l.clone()));
        }
        Some(_) => {
            return Err(Error::InvalidArgument(
                "You have specified the state option 'warnings' with invalid arguments. It must be a string or a list of strings".into(),
            ))
        }
    }
    if c.test {
        let allow_fail = c.flag("allow_test_mode_failure", false);
        let test_result = if allow_fail && result == Value::Bool(false) {
            result.clone()
        } else if changes == Value::Bool(false) {
            Value::Bool(true)
        } else {
            Value::Null
        };
        m.insert("result".into(), test_result);
        let cm = if comment.is_truthy() {
            comment
        } else {
            "This is a test".into()
        };
        m.insert("comment".into(), cm);
    }
    Ok(m)
}

fn random_bool() -> bool {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() % 2 == 0)
        .unwrap_or(true)
}

fn show_notification(c: &StateCall) -> Result<Map> {
    let text = c.arg("text").filter(|t| t.is_truthy()).cloned();
    let Some(text) = text else {
        return Err(Error::InvalidArgument(
            "Missing required argument text.".into(),
        ));
    };
    Ok(with_comment(
        ret(&c.name(), Map::default(), Some(true), ""),
        text,
    ))
}

fn mod_watch(c: &StateCall) -> Result<Map> {
    let mut has_changes = Vec::new();
    if let Some(Value::List(watch)) = c.reqs.and_then(|r| r.get("watch")) {
        for req in watch {
            if let Value::Map(req) = req {
                let tag = gen_tag(req);
                let changed = c
                    .running
                    .get(&tag)
                    .and_then(|r| r.get("changes"))
                    .is_some_and(Value::is_truthy);
                if changed {
                    has_changes.push(Value::Str(format!(
                        "{}: {}",
                        req.get("state").map(Value::py_str).unwrap_or_default(),
                        req.get("__id__").map(Value::py_str).unwrap_or_default()
                    )));
                }
            }
        }
    }
    let mut m = Map::default();
    m.insert("name".into(), c.name().into());
    m.insert(
        "result".into(),
        c.arg("result").cloned().unwrap_or(Value::Bool(true)),
    );
    m.insert(
        "comment".into(),
        c.arg("comment")
            .cloned()
            .unwrap_or_else(|| "Watch statement fired.".into()),
    );
    let changes = c.arg("changes").cloned().unwrap_or_else(|| {
        let mut ch = Map::default();
        ch.insert("Requisites with changes".into(), Value::List(has_changes));
        Value::Map(ch)
    });
    m.insert("changes".into(), changes);
    Ok(m)
}
