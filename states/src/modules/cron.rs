//! `cron.present` and `cron.absent` (salt/states/cron.py) over
//! [`crate::exec::crontab`]: a job (timed or `@special`) in a user's crontab, identified
//! by `identifier` (default: the command).

use super::{Registry, StateCall};
use crate::exec::crontab::{self, CheckSpec, JobSpec};
use crate::exec::pystr::py_strip;
use halite_core::{Error, Map, Result, Value};

/// Register the `cron` module.
pub fn register(r: &mut Registry) {
    r.add("cron.present", present);
    r.add("cron.absent", absent);
}

/// The job's identifier: `False`/missing → the command; `None` → none; another falsy value
/// → an empty (falsy) identifier; anything else as text.
fn identifier(v: Option<&Value>, name: &str) -> Option<String> {
    match v {
        None | Some(Value::Bool(false)) => Some(name.to_string()),
        Some(Value::Null) => None,
        Some(v) if !v.is_truthy() => Some(String::new()),
        Some(v) => Some(v.py_str()),
    }
}

/// The crontab owner as the module takes it (`None` → the user Halite runs as), and as
/// Salt prints it and keys `changes` with.
fn user_of(c: &StateCall) -> (String, Value) {
    let v = c.arg("user").cloned().unwrap_or_else(|| "root".into());
    let module = if v.is_null() {
        String::new()
    } else {
        v.py_str()
    };
    (module, v)
}

fn opt_arg(c: &StateCall, key: &str) -> Option<String> {
    c.arg(key).filter(|v| !v.is_null()).map(Value::py_str)
}

fn require_crontab() -> Result<()> {
    if crontab::available() {
        Ok(())
    } else {
        Err(Error::CommandExecution(
            "cron module could not be loaded: crontab command not found".into(),
        ))
    }
}

fn changes_of(user: &Value, name: &str) -> Map {
    let mut m = Map::default();
    m.insert(user.clone(), Value::Str(name.to_string()));
    m
}

/// `cron.present` (Salt's return key order: changes, comment, name, result).
fn present(c: &StateCall) -> Result<Map> {
    require_crontab()?;
    let name = py_strip(&c.name()).to_string();
    let (user, user_v) = user_of(c);
    let shown_user = user_v.py_str();
    let time = |k: &str| match c.arg(k) {
        None => Some("*".to_string()),
        Some(Value::Null) => None,
        Some(v) => Some(v.py_str()),
    };
    let times = [
        time("minute"),
        time("hour"),
        time("daymonth"),
        time("month"),
        time("dayweek"),
    ];
    let comment = opt_arg(c, "comment");
    let commented_v = c.arg("commented").cloned().unwrap_or(Value::Bool(false));
    let commented = matches!(commented_v, Value::Bool(true));
    let ident = identifier(c.arg("identifier"), &name);
    let special = opt_arg(c, "special");
    let out = |changes: Map, result: Option<bool>, text: String| -> Result<Map> {
        let mut m = Map::with_capacity_and_hasher(4, Default::default());
        m.insert("changes".into(), Value::Map(changes));
        m.insert("comment".into(), Value::Str(text));
        m.insert("name".into(), Value::Str(name.clone()));
        m.insert("result".into(), result.map_or(Value::Null, Value::Bool));
        Ok(m)
    };
    if c.test {
        let spec = CheckSpec {
            times: times.clone().map(|t| t.map(|s| s.to_lowercase())),
            cmd: name.clone(),
            comment,
            commented: (!commented_v.is_null()).then_some(commented),
            identifier: ident,
            special,
        };
        let tab = crontab::list_tab(&user)?;
        return match crontab::check_cron(&tab, &spec) {
            "absent" => out(
                Map::default(),
                None,
                format!("Cron {name} is set to be added"),
            ),
            "present" => out(
                Map::default(),
                Some(true),
                format!("Cron {name} already present"),
            ),
            _ => out(
                Map::default(),
                None,
                format!("Cron {name} is set to be updated"),
            ),
        };
    }
    let [minute, hour, daymonth, month, dayweek] = times;
    let job = JobSpec {
        minute,
        hour,
        daymonth,
        month,
        dayweek,
        special: special.clone(),
        cmd: name.clone(),
        commented,
        comment,
        identifier: ident,
    };
    let data = if special.is_none() {
        crontab::set_job(&user, &job)?
    } else {
        crontab::set_special(&user, &job)?
    };
    match data.as_str() {
        "present" => out(
            Map::default(),
            Some(true),
            format!("Cron {name} already present"),
        ),
        "new" => out(
            changes_of(&user_v, &name),
            Some(true),
            format!("Cron {name} added to {shown_user}'s crontab"),
        ),
        "updated" => out(
            changes_of(&user_v, &name),
            Some(true),
            format!("Cron {name} updated"),
        ),
        _ => out(
            Map::default(),
            Some(false),
            format!("Cron {name} for user {shown_user} failed to commit with error \n{data}"),
        ),
    }
}

/// `cron.absent` (Salt's return key order: name, result, changes, comment).
fn absent(c: &StateCall) -> Result<Map> {
    require_crontab()?;
    let name = py_strip(&c.name()).to_string();
    let (user, user_v) = user_of(c);
    let shown_user = user_v.py_str();
    let ident = identifier(c.arg("identifier"), &name);
    let special = opt_arg(c, "special");
    let out = |changes: Map, result: Option<bool>, text: String| -> Result<Map> {
        let mut m = Map::with_capacity_and_hasher(4, Default::default());
        m.insert("name".into(), Value::Str(name.clone()));
        m.insert("result".into(), result.map_or(Value::Null, Value::Bool));
        m.insert("changes".into(), Value::Map(changes));
        m.insert("comment".into(), Value::Str(text));
        Ok(m)
    };
    if c.test {
        let spec = CheckSpec {
            cmd: name.clone(),
            identifier: ident,
            ..CheckSpec::default()
        };
        let tab = crontab::list_tab(&user)?;
        return match crontab::check_cron(&tab, &spec) {
            "absent" => out(Map::default(), Some(true), format!("Cron {name} is absent")),
            _ => out(
                Map::default(),
                None,
                format!("Cron {name} is set to be removed"),
            ),
        };
    }
    let data = match special.as_deref() {
        None => crontab::rm_job(&user, &name, &[None; 5], ident.as_deref())?,
        Some(s) => crontab::rm_special(&user, &name, Some(s), ident.as_deref())?,
    };
    match data.as_str() {
        "absent" => out(
            Map::default(),
            Some(true),
            format!("Cron {name} already absent"),
        ),
        "removed" => out(
            changes_of(&user_v, &name),
            Some(true),
            format!("Cron {name} removed from {shown_user}'s crontab"),
        ),
        _ => out(
            Map::default(),
            Some(false),
            format!("Cron {name} for user {shown_user} failed to commit with error {data}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(identifier(None, "cmd").as_deref(), Some("cmd"));
        assert_eq!(
            identifier(Some(&Value::Bool(false)), "cmd").as_deref(),
            Some("cmd")
        );
        assert_eq!(identifier(Some(&Value::Null), "cmd"), None);
        assert_eq!(identifier(Some(&Value::Int(0)), "cmd").as_deref(), Some(""));
        assert_eq!(
            identifier(Some(&Value::Int(7)), "cmd").as_deref(),
            Some("7")
        );
    }
}
