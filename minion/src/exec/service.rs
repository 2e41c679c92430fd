//! `service.*` execution functions on systemd (Salt's `systemd_service`): state read over
//! D-Bus, changes through `systemctl`.

use super::{arg, required, Exec};
use halite_core::{Error, Map, Result, Value};
use halite_states::exec::systemd::{self, canonical_name};

/// The `service.*` functions Halite has.
pub const FUNCTIONS: &[&str] = &[
    "service.start",
    "service.stop",
    "service.restart",
    "service.reload",
    "service.force_reload",
    "service.status",
    "service.enabled",
    "service.disabled",
    "service.enable",
    "service.disable",
    "service.available",
    "service.missing",
    "service.get_all",
    "service.mask",
    "service.unmask",
    "service.masked",
    "service.systemctl_reload",
];

/// Run a `service.*` function.
pub fn call(exec: &Exec, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
    let short = name.trim_start_matches("service.");
    if short == "get_all" {
        return Ok(Value::List(
            systemd::get_all().into_iter().map(Value::Str).collect(),
        ));
    }
    if short == "systemctl_reload" {
        systemd::daemon_reload()?;
        return Ok(Value::Bool(true));
    }
    let svc = required(name, args, kwargs, 0, "name")?.py_str();
    let unit = canonical_name(&svc);
    let flag = |k: &str| kwargs.get(k).is_some_and(Value::is_truthy);
    let runtime = arg(args, kwargs, 1, "runtime").is_some_and(Value::is_truthy);
    let fails = |why: String| Err(Error::CommandExecution(why));
    match short {
        "status" => {
            if svc.contains(['*', '?', '[']) {
                let mut out = Map::default();
                for s in systemd::get_all() {
                    if halite_states::fnmatch::fnmatch(&s, &svc) {
                        let up = systemd::reload_if_changed(&canonical_name(&s))?.is_active();
                        out.insert(s.into(), Value::Bool(up));
                    }
                }
                return Ok(Value::Map(out));
            }
            Ok(Value::Bool(systemd::reload_if_changed(&unit)?.is_active()))
        }
        "available" | "missing" => {
            let avail = systemd::reload_if_changed(&unit)?.load_state != "not-found";
            Ok(Value::Bool(if short == "available" {
                avail
            } else {
                !avail
            }))
        }
        "enabled" | "disabled" => {
            let on =
                systemd::unit_file_state(&unit)?.is_some_and(|s| systemd::is_enabled_state(&s));
            Ok(Value::Bool(if short == "enabled" { on } else { !on }))
        }
        "masked" => Ok(Value::Bool(systemd::masked(&unit, runtime))),
        "mask" | "unmask" => {
            if short == "unmask" && !systemd::masked(&unit, runtime) {
                return Ok(Value::Bool(true));
            }
            match systemd::mask(&unit, short == "mask", runtime)? {
                Ok(()) => Ok(Value::Bool(true)),
                Err(out) => fails(format!(
                    "Failed to {short} service '{svc}'. Additional info follows:\n\n{out}"
                )),
            }
        }
        "stop" | "disable" => {
            systemd::reload_if_changed(&unit)?;
            let no_block = kwargs.get("no_block").map_or(
                short == "stop" && unit == "salt-minion.service",
                Value::is_truthy,
            );
            let (rc, _) = systemd::change_rc(short, &unit, no_block)?;
            // Salt keeps the last command's exit status as the call's retcode.
            set_retcode(exec, rc);
            Ok(Value::Bool(rc == 0))
        }
        "start" | "restart" | "reload" | "force_reload" | "enable" => {
            systemd::reload_if_changed(&unit)?;
            for (key, rt) in [("unmask", false), ("unmask_runtime", true)] {
                if flag(key) && systemd::masked(&unit, rt) {
                    if let Err(out) = systemd::mask(&unit, false, rt)? {
                        return fails(format!(
                            "Failed to unmask service '{svc}'. Additional info follows:\n\n{out}"
                        ));
                    }
                }
            }
            let action = if short == "force_reload" {
                "force-reload"
            } else {
                short
            };
            let no_block = kwargs
                .get("no_block")
                .map_or(short == "force_reload", Value::is_truthy);
            let (rc, why) = systemd::change_rc(action, &unit, no_block)?;
            set_retcode(exec, rc);
            if rc == 0 {
                Ok(Value::Bool(true))
            } else {
                fails(why)
            }
        }
        _ => Err(Error::NotAvailable(name.to_string())),
    }
}

fn set_retcode(exec: &Exec, rc: i32) {
    exec.minion
        .retcode
        .store(i64::from(rc), std::sync::atomic::Ordering::SeqCst);
}
