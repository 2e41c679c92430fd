//! `service.*` states on systemd (salt/states/service.py with `systemd_service` as the
//! provider): `running`, `dead`, `enabled`, `disabled`, `masked`, `unmasked` and
//! `mod_watch` (restart, reload, force-reload, or start). Unit state is read over D-Bus;
//! changes go through `systemctl`, which waits for systemd's job as Salt's calls do.

use super::{ret, Registry, StateCall};
use crate::exec::systemd::{self, canonical_name};
use halite_core::{Map, Result, Value};

/// Register the `service` module.
pub fn register(r: &mut Registry) {
    r.add("service.running", running);
    r.add("service.dead", dead);
    r.add("service.enabled", enabled);
    r.add("service.disabled", disabled);
    r.add("service.masked", masked);
    r.add("service.unmasked", unmasked);
    r.add_mod_watch("service", mod_watch);
}

/// One unit as the states see it: the name as given (comments, changes) and systemd's.
struct Unit {
    name: String,
    unit: String,
}

impl Unit {
    fn of(c: &StateCall) -> Unit {
        let name = c.name();
        Unit {
            unit: canonical_name(&name),
            name,
        }
    }

    /// `service.available` (after the daemon-reload check).
    fn available(&self) -> Result<bool> {
        Ok(systemd::reload_if_changed(&self.unit)?.load_state != "not-found")
    }

    /// `service.status`.
    fn running(&self) -> Result<bool> {
        Ok(systemd::reload_if_changed(&self.unit)?.is_active())
    }

    /// `service.enabled`.
    fn enabled(&self) -> Result<bool> {
        Ok(systemd::unit_file_state(&self.unit)?.is_some_and(|s| systemd::is_enabled_state(&s)))
    }
}

/// `salt.utils.data.is_true` as the states apply it to `enable`.
fn enable_arg(c: &StateCall) -> Option<bool> {
    match c.arg("enable")? {
        Value::Null => None,
        Value::Str(s) => Some(s.eq_ignore_ascii_case("true")),
        Value::Int(i) => Some(*i > 0),
        Value::Float(f) => Some(*f > 0.0),
        other => Some(other.is_truthy()),
    }
}

fn set(r: &mut Map, key: &str, v: impl Into<Value>) {
    r.insert(key.into(), v.into());
}

fn comment_of(r: &Map) -> String {
    r.get("comment").map(Value::py_str).unwrap_or_default()
}

fn state_words(started: Option<bool>) -> &'static str {
    match started {
        Some(true) => "and is running",
        None => "and is in the desired state",
        Some(false) => "and is dead",
    }
}

/// Salt's `_enable(name, started, result)`, applied to `r` (a partial update: keys it does
/// not set keep their values).
fn enable_into(
    c: &StateCall,
    u: &Unit,
    started: Option<bool>,
    result: bool,
    r: &mut Map,
) -> Result<()> {
    let name = &u.name;
    if !u.available()? {
        set(r, "result", false);
        set(
            r,
            "comment",
            format!("The named service {name} is not available"),
        );
        return Ok(());
    }
    set(r, "result", result);
    let before = u.enabled()?;
    if before {
        set(
            r,
            "comment",
            format!(
                "Service {name} is already enabled, {}",
                state_words(started)
            ),
        );
        if started.is_none() {
            set(r, "changes", Value::map());
        }
        return Ok(());
    }
    if c.test {
        set(r, "result", Value::Null);
        set(r, "comment", format!("Service {name} set to be enabled"));
        return Ok(());
    }
    if c.flag("unmask", false) {
        unmask_for_start(c, u)?;
    }
    match systemd::change("enable", &u.unit, c.flag("no_block", false))? {
        Ok(()) => {
            let mut changes = Map::default();
            if u.enabled()? != before {
                changes.insert(name.clone().into(), Value::Bool(true));
            }
            set(r, "changes", Value::Map(changes));
            set(
                r,
                "comment",
                format!("Service {name} has been enabled, {}", state_words(started)),
            );
        }
        Err(why) => {
            set(r, "result", false);
            let mut comment = match started {
                Some(true) => format!(
                    "Failed when setting service {name} to start at boot, but the service is running"
                ),
                None => format!(
                    "Failed when setting service {name} to start at boot, but the service was already running"
                ),
                Some(false) => format!(
                    "Failed when setting service {name} to start at boot, and the service is dead"
                ),
            };
            if !why.is_empty() {
                comment.push_str(&format!(". Additional information follows:\n\n{why}"));
            }
            set(r, "comment", comment);
        }
    }
    Ok(())
}

/// Salt's `_disable(name, started, result)`.
fn disable_into(
    c: &StateCall,
    u: &Unit,
    started: Option<bool>,
    result: bool,
    r: &mut Map,
) -> Result<()> {
    let name = &u.name;
    if !u.available()? {
        set(r, "result", true);
        set(
            r,
            "comment",
            format!("The named service {name} is not available"),
        );
        return Ok(());
    }
    set(r, "result", result);
    let before = !u.enabled()?;
    if before {
        set(
            r,
            "comment",
            format!(
                "Service {name} is already disabled, {}",
                state_words(started)
            ),
        );
        if started.is_none() {
            set(r, "changes", Value::map());
        }
        return Ok(());
    }
    if c.test {
        set(r, "result", Value::Null);
        set(r, "comment", format!("Service {name} set to be disabled"));
        return Ok(());
    }
    match systemd::change("disable", &u.unit, c.flag("no_block", false))? {
        Ok(()) => {
            let mut changes = Map::default();
            if u.enabled()? == before {
                changes.insert(name.clone().into(), Value::Bool(true));
            }
            set(r, "changes", Value::Map(changes));
            set(
                r,
                "comment",
                format!("Service {name} has been disabled, {}", state_words(started)),
            );
        }
        Err(_) => {
            set(r, "result", false);
            set(
                r,
                "comment",
                match started {
                    Some(true) => format!(
                        "Failed when setting service {name} to not start at boot, and is running"
                    ),
                    None => format!(
                        "Failed when setting service {name} to not start at boot, but the service was already running"
                    ),
                    Some(false) => format!(
                        "Failed when setting service {name} to not start at boot, and the service is dead"
                    ),
                },
            );
        }
    }
    Ok(())
}

/// `unmask`/`unmask_runtime` before a start or enable, as the module functions do.
fn unmask_for_start(c: &StateCall, u: &Unit) -> Result<()> {
    for runtime in [false, true] {
        let wanted = if runtime {
            c.flag("unmask_runtime", false)
        } else {
            c.flag("unmask", false)
        };
        if wanted && systemd::masked(&u.unit, runtime) {
            if let Err(why) = systemd::mask(&u.unit, false, runtime)? {
                return Err(halite_core::Error::CommandExecution(format!(
                    "Failed to unmask service '{}'. Additional info follows:\n\n{why}",
                    u.name
                )));
            }
        }
    }
    Ok(())
}

/// The common prelude of `running` and `dead`: `None` to go on, or the finished return.
fn prelude(c: &StateCall, u: &Unit, verb_if_created: &str) -> Result<Option<Map>> {
    let name = &u.name;
    if c.arg("enabled").is_some() {
        return Ok(Some(ret(
            name,
            Map::default(),
            Some(false),
            format!(
                "Service {name} uses non-existent option \"enabled\".  Perhaps \"enable\" option was intended?"
            ),
        )));
    }
    if !u.available()? {
        let dead = verb_if_created == "stopped";
        return Ok(Some(if c.test {
            ret(
                name,
                Map::default(),
                None,
                format!(
                    "Service {name} not present; if created in this state run, it would have been {verb_if_created}"
                ),
            )
        } else {
            ret(
                name,
                Map::default(),
                Some(dead),
                format!("The named service {name} is not available"),
            )
        }));
    }
    Ok(None)
}

/// The `unmasked` state run for `unmask: True`, its comment kept.
fn unmask_comment(c: &StateCall, u: &Unit) -> Result<Option<String>> {
    if !c.flag("unmask", false) {
        return Ok(None);
    }
    let r = mask_state(c, u, c.flag("unmask_runtime", false), false)?;
    Ok(Some(comment_of(&r)))
}

fn running(c: &StateCall) -> Result<Map> {
    let u = Unit::of(c);
    let name = u.name.clone();
    if let Some(done) = prelude(c, &u, "started")? {
        return Ok(done);
    }
    let enable = enable_arg(c);
    let before = u.running()?;
    let before_en = u.enabled()?;
    let unmask_cmt = unmask_comment(c, &u)?;
    let with_unmask = |s: String| match &unmask_cmt {
        Some(m) => format!("{s}\n{m}"),
        None => s,
    };
    let mut r = ret(&name, Map::default(), Some(true), "");
    if before {
        set(
            &mut r,
            "comment",
            with_unmask(format!("The service {name} is already running")),
        );
        match enable {
            Some(true) if !before_en => enable_into(c, &u, None, true, &mut r)?,
            Some(false) if before_en => disable_into(c, &u, None, true, &mut r)?,
            _ => {}
        }
        return Ok(r);
    }
    if c.test {
        set(&mut r, "result", Value::Null);
        set(
            &mut r,
            "comment",
            with_unmask(format!("Service {name} is set to start")),
        );
        return Ok(r);
    }
    if let Err(e) = unmask_for_start(c, &u) {
        set(&mut r, "result", false);
        set(&mut r, "comment", e.to_string());
        return Ok(r);
    }
    if let Err(why) = systemd::change("start", &u.unit, c.flag("no_block", false))? {
        set(&mut r, "result", false);
        set(&mut r, "comment", why);
        return Ok(r);
    }
    delay(c);
    let after = u.running()?;
    let after_en = u.enabled()?;
    if before_en != after_en || before != after {
        let mut ch = Map::default();
        ch.insert(name.clone().into(), Value::Bool(after));
        set(&mut r, "changes", Value::Map(ch));
    }
    if after {
        set(&mut r, "comment", format!("Started service {name}"));
    } else {
        set(&mut r, "comment", format!("Service {name} failed to start"));
        set(&mut r, "result", false);
    }
    match enable {
        Some(true) => enable_into(c, &u, Some(after), after, &mut r)?,
        Some(false) => disable_into(c, &u, Some(after), after, &mut r)?,
        None => {}
    }
    if let Some(d) = init_delay(c) {
        let cmt = comment_of(&r);
        set(
            &mut r,
            "comment",
            format!("{cmt}\nDelayed return for {d} seconds"),
        );
    }
    if let Some(m) = &unmask_cmt {
        let cmt = comment_of(&r);
        set(&mut r, "comment", format!("{cmt}\n{m}"));
    }
    Ok(r)
}

/// `init_delay` as given (shown in comments as written), when truthy.
fn init_delay(c: &StateCall) -> Option<String> {
    c.arg("init_delay")
        .filter(|v| v.is_truthy())
        .map(Value::py_str)
}

/// Sleep `init_delay` seconds.
fn delay(c: &StateCall) {
    let secs = c.arg("init_delay").and_then(|v| match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Str(s) => s.parse().ok(),
        _ => None,
    });
    if let Some(s) = secs.filter(|s| *s > 0.0 && s.is_finite()) {
        std::thread::sleep(std::time::Duration::from_secs_f64(s));
    }
}

fn dead(c: &StateCall) -> Result<Map> {
    let u = Unit::of(c);
    let name = u.name.clone();
    if let Some(done) = prelude(c, &u, "stopped")? {
        return Ok(done);
    }
    let enable = enable_arg(c);
    let before = u.running()?;
    let before_en = u.enabled()?;
    let mut r = ret(&name, Map::default(), Some(true), "");
    if !before {
        set(
            &mut r,
            "comment",
            format!("The service {name} is already dead"),
        );
        match enable {
            Some(true) if !before_en => enable_into(c, &u, None, true, &mut r)?,
            Some(false) if before_en => disable_into(c, &u, None, true, &mut r)?,
            _ => {}
        }
        return Ok(r);
    }
    if c.test {
        set(&mut r, "result", Value::Null);
        set(
            &mut r,
            "comment",
            format!("Service {name} is set to be killed"),
        );
        return Ok(r);
    }
    if systemd::change("stop", &u.unit, c.flag("no_block", false))?.is_err() {
        set(&mut r, "result", false);
        set(&mut r, "comment", format!("Service {name} failed to die"));
        match enable {
            Some(true) => enable_into(c, &u, Some(true), false, &mut r)?,
            Some(false) => disable_into(c, &u, Some(true), false, &mut r)?,
            None => {}
        }
        return Ok(r);
    }
    delay(c);
    let after = u.running()?;
    let after_en = u.enabled()?;
    if before_en != after_en || before != after {
        let mut ch = Map::default();
        ch.insert(name.clone().into(), Value::Bool(after));
        set(&mut r, "changes", Value::Map(ch));
    }
    if after {
        set(&mut r, "result", false);
        set(&mut r, "comment", format!("Service {name} failed to die"));
    } else {
        set(&mut r, "comment", format!("Service {name} was killed"));
    }
    match enable {
        Some(true) => enable_into(c, &u, Some(after), !after, &mut r)?,
        Some(false) => disable_into(c, &u, Some(after), !after, &mut r)?,
        None => {}
    }
    Ok(r)
}

fn enabled(c: &StateCall) -> Result<Map> {
    let u = Unit::of(c);
    let mut r = ret(&u.name, Map::default(), Some(true), "");
    enable_into(c, &u, None, true, &mut r)?;
    if c.test && comment_of(&r) == format!("The named service {} is not available", u.name) {
        set(&mut r, "result", Value::Null);
        set(
            &mut r,
            "comment",
            format!(
                "Service {} not present; if created in this state run, it would have been enabled",
                u.name
            ),
        );
    }
    Ok(r)
}

fn disabled(c: &StateCall) -> Result<Map> {
    let u = Unit::of(c);
    let mut r = ret(&u.name, Map::default(), Some(true), "");
    disable_into(c, &u, None, true, &mut r)?;
    Ok(r)
}

fn mask_change(old: bool, new: bool, kind: &str) -> Map {
    let mut m = Map::default();
    m.insert("old".into(), Value::Bool(old));
    m.insert("new".into(), Value::Bool(new));
    let mut ch = Map::default();
    ch.insert(kind.into(), Value::Map(m));
    ch
}

fn masked(c: &StateCall) -> Result<Map> {
    let u = Unit::of(c);
    mask_state(c, &u, c.flag("runtime", false), true)
}

/// `service.masked` (`on`) or `service.unmasked` (the latter also for `unmask: True`).
fn mask_state(c: &StateCall, u: &Unit, runtime: bool, on: bool) -> Result<Map> {
    let name = &u.name;
    let kind = if runtime { "runtime masked" } else { "masked" };
    let done = match (on, runtime) {
        (true, _) => kind,
        (false, true) => "runtime unmasked",
        (false, false) => "unmasked",
    };
    let verb = if on { "mask" } else { "unmask" };
    if systemd::masked(&u.unit, runtime) == on {
        let comment = if on {
            format!("Service {name} is already {done}")
        } else {
            format!("Service {name} was already {done}")
        };
        return Ok(ret(name, Map::default(), Some(true), comment));
    }
    if c.test {
        return Ok(ret(
            name,
            mask_change(!on, on, kind),
            None,
            format!("Service {name} would be {done}"),
        ));
    }
    if let Err(why) = systemd::mask(&u.unit, on, runtime)? {
        return Ok(ret(
            name,
            Map::default(),
            Some(false),
            format!("Failed to {verb} service '{name}'. Additional info follows:\n\n{why}"),
        ));
    }
    Ok(if systemd::masked(&u.unit, runtime) == on {
        ret(
            name,
            mask_change(!on, on, kind),
            Some(true),
            format!("Service {name} was {done}"),
        )
    } else {
        ret(
            name,
            Map::default(),
            Some(true),
            format!("Failed to {verb} service {name}"),
        )
    })
}

fn unmasked(c: &StateCall) -> Result<Map> {
    let u = Unit::of(c);
    mask_state(c, &u, c.flag("runtime", false), false)
}

fn mod_watch(c: &StateCall) -> Result<Map> {
    let u = Unit::of(c);
    let name = u.name.clone();
    let sfun = c.str_arg("sfun").unwrap_or("");
    let running = u.running()?;
    let (action, verb) = match sfun {
        "dead" => {
            if !running {
                return Ok(ret(
                    &name,
                    Map::default(),
                    Some(true),
                    "Service is already stopped",
                ));
            }
            ("stop", "stop")
        }
        "running" if running => {
            if c.flag("reload", false) {
                if c.flag("force", false) {
                    ("force-reload", "forcefully reload")
                } else {
                    ("reload", "reload")
                }
            } else {
                ("restart", "restart")
            }
        }
        "running" => ("start", "start"),
        other => {
            return Ok(ret(
                &name,
                Map::default(),
                Some(false),
                format!("Unable to trigger watch for service.{other}"),
            ))
        }
    };
    let participle = if verb == "stop" {
        "stopped".to_string()
    } else {
        format!("{verb}ed")
    };
    if c.test {
        return Ok(ret(
            &name,
            Map::default(),
            None,
            format!("Service is set to be {participle}"),
        ));
    }
    if action == "start" {
        let _ = systemd::change("stop", &u.unit, false)?;
    }
    if action != "stop" {
        if let Err(e) = unmask_for_start(c, &u) {
            return Ok(ret(&name, Map::default(), Some(false), e.to_string()));
        }
    }
    let no_block = c.flag("no_block", action == "force-reload");
    let result = match systemd::change(action, &u.unit, no_block)? {
        Ok(()) => true,
        Err(why) if action != "stop" => {
            return Ok(ret(&name, Map::default(), Some(false), why));
        }
        Err(_) => false,
    };
    delay(c);
    let mut ch = Map::default();
    ch.insert(name.clone().into(), Value::Bool(result));
    Ok(ret(
        &name,
        ch,
        Some(result),
        if result {
            format!("Service {participle}")
        } else {
            format!("Failed to {verb} the service")
        },
    ))
}
