//! `mount.*` (Salt's `mount` module, Linux path) and `cron.*` execution functions, over
//! `halite_states::exec::{mounts, crontab}`. Return shapes are Salt's: `mount.mount` and
//! friends return `True` or the command's error text, `mount.set_fstab` one of
//! `present`/`new`/`change`, the `cron.*` editors `present`/`new`/`updated`/`removed`/
//! `absent` or `crontab`'s error text. Salt's `CommandExecutionError`s come back as
//! [`Error::CommandExecution`]. Without a `crontab` command the `cron.*` functions are
//! not available, as in Salt.

use super::{arg, required, Exec};
use halite_core::{Error, Map, Result, Value};
use halite_states::exec::crontab::{self, JobSpec};
use halite_states::exec::mounts::{self, MatchOn, Returned, SetFstab, DEFAULT_FSTAB};

/// The functions this module provides.
pub const FUNCTIONS: &[&str] = &[
    "mount.active",
    "mount.fstab",
    "mount.set_fstab",
    "mount.rm_fstab",
    "mount.mount",
    "mount.umount",
    "mount.remount",
    "mount.is_mounted",
    "mount.swaps",
    "mount.swapon",
    "mount.swapoff",
    "mount.read_mount_cache",
    "mount.write_mount_cache",
    "mount.delete_mount_cache",
    "cron.raw_cron",
    "cron.list_tab",
    "cron.ls",
    "cron.set_job",
    "cron.rm_job",
    "cron.rm",
    "cron.set_special",
    "cron.rm_special",
];

fn returned(r: Returned) -> Value {
    match r {
        Ok(()) => Value::Bool(true),
        Err(text) => Value::Str(text),
    }
}

/// A string argument with a default (`str()` of what was given).
fn str_or(args: &[Value], kwargs: &Map, i: usize, key: &str, default: &str) -> String {
    arg(args, kwargs, i, key).map_or_else(|| default.to_string(), Value::py_str)
}

/// An optional argument: missing or `None` → `None`.
fn opt(args: &[Value], kwargs: &Map, i: usize, key: &str) -> Option<String> {
    arg(args, kwargs, i, key)
        .filter(|v| !v.is_null())
        .map(Value::py_str)
}

/// An argument that Salt only uses when truthy.
fn truthy(args: &[Value], kwargs: &Map, i: usize, key: &str) -> Option<String> {
    arg(args, kwargs, i, key)
        .filter(|v| v.is_truthy())
        .map(Value::py_str)
}

fn flag(args: &[Value], kwargs: &Map, i: usize, key: &str, default: bool) -> bool {
    arg(args, kwargs, i, key).map_or(default, Value::is_truthy)
}

/// `opts` of `mount.mount`/`mount.remount`: a string split on `,`, a list as is, `None`
/// for none.
fn opts_arg(v: Option<&Value>) -> Option<Vec<String>> {
    match v {
        None => Some(vec!["defaults".into()]),
        Some(Value::Null) => None,
        Some(Value::List(l)) => Some(l.iter().map(Value::py_str).collect()),
        Some(other) => Some(other.py_str().split(',').map(str::to_string).collect()),
    }
}

fn util_is_mount(args: &[Value], kwargs: &Map, i: usize) -> Result<()> {
    let util = str_or(args, kwargs, i, "util", "mount");
    if util == "mount" {
        Ok(())
    } else {
        Err(Error::CommandExecution(format!(
            "util '{util}' is not supported by Halite"
        )))
    }
}

fn cachedir(exec: &Exec) -> String {
    exec.minion
        .opts()
        .get("cachedir")
        .map(Value::py_str)
        .unwrap_or_else(|| "/var/cache/salt/minion".into())
}

/// A cron identifier argument: `None` → none, another falsy value → empty (falsy).
fn ident(v: Option<&Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(v) if !v.is_truthy() => Some(String::new()),
        Some(v) => Some(v.py_str()),
    }
}

/// The crontab owner: `None` means the user Halite runs as.
fn cron_user(name: &str, args: &[Value], kwargs: &Map) -> Result<String> {
    let v = required(name, args, kwargs, 0, "user")?;
    Ok(if v.is_null() {
        String::new()
    } else {
        v.py_str()
    })
}

/// Run a `mount.*` / `cron.*` function.
pub fn call(exec: &Exec, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
    if name.starts_with("cron.") && FUNCTIONS.contains(&name) && !crontab::available() {
        return Err(Error::NotAvailable(name.to_string()));
    }
    match name {
        "mount.active" => mounts::active(flag(args, kwargs, 0, "extended", false)),
        "mount.fstab" => {
            let config = str_or(args, kwargs, 0, "config", DEFAULT_FSTAB);
            Ok(Value::Map(
                mounts::fstab(&config)?
                    .into_iter()
                    .map(|(k, v)| (Value::Str(k), v.to_value()))
                    .collect(),
            ))
        }
        "mount.set_fstab" => {
            let point = required(name, args, kwargs, 0, "name")?.py_str();
            let device = required(name, args, kwargs, 1, "device")?.py_str();
            let fstype = required(name, args, kwargs, 2, "fstype")?.py_str();
            let opts = match arg(args, kwargs, 3, "opts") {
                None => "defaults".to_string(),
                Some(Value::List(l)) => l.iter().map(Value::py_str).collect::<Vec<_>>().join(","),
                Some(v) => v.py_str(),
            };
            let dump = str_or(args, kwargs, 4, "dump", "0");
            let pass_num = str_or(args, kwargs, 5, "pass_num", "0");
            let config = str_or(args, kwargs, 6, "config", DEFAULT_FSTAB);
            let test = flag(args, kwargs, 7, "test", false);
            let match_on = MatchOn::from_value(arg(args, kwargs, 8, "match_on"))?;
            let not_change = flag(args, kwargs, 9, "not_change", false);
            let status = mounts::set_fstab(&SetFstab {
                name: &point,
                device: &device,
                fstype: &fstype,
                opts: &opts,
                dump: &dump,
                pass_num: &pass_num,
                config: &config,
                test,
                match_on: &match_on,
                not_change,
            })?;
            Ok(Value::Str(status.as_str().into()))
        }
        "mount.rm_fstab" => {
            let point = required(name, args, kwargs, 0, "name")?.py_str();
            let device = required(name, args, kwargs, 1, "device")?;
            let device = (!device.is_null()).then(|| device.py_str());
            let config = str_or(args, kwargs, 2, "config", DEFAULT_FSTAB);
            Ok(Value::Bool(mounts::rm_fstab(
                &point,
                device.as_deref(),
                &config,
            )?))
        }
        "mount.mount" => {
            let point = required(name, args, kwargs, 0, "name")?.py_str();
            let device = truthy(args, kwargs, 1, "device");
            let mkmnt = flag(args, kwargs, 2, "mkmnt", false);
            let fstype = opt(args, kwargs, 3, "fstype").unwrap_or_default();
            let opts = opts_arg(arg(args, kwargs, 4, "opts"));
            let user = opt(args, kwargs, 5, "user");
            util_is_mount(args, kwargs, 6)?;
            Ok(returned(mounts::mount(
                &point,
                device.as_deref(),
                mkmnt,
                &fstype,
                opts.as_deref(),
                user.as_deref(),
            )?))
        }
        "mount.umount" => {
            let point = required(name, args, kwargs, 0, "name")?.py_str();
            let device = truthy(args, kwargs, 1, "device");
            let user = opt(args, kwargs, 2, "user");
            util_is_mount(args, kwargs, 3)?;
            let lazy = flag(args, kwargs, 4, "lazy", false);
            Ok(returned(mounts::umount(
                &point,
                device.as_deref(),
                user.as_deref(),
                lazy,
            )?))
        }
        "mount.remount" => {
            let point = required(name, args, kwargs, 0, "name")?.py_str();
            let device = required(name, args, kwargs, 1, "device")?;
            let device = (!device.is_null()).then(|| device.py_str());
            let mkmnt = flag(args, kwargs, 2, "mkmnt", false);
            let fstype = opt(args, kwargs, 3, "fstype").unwrap_or_default();
            let opts = opts_arg(arg(args, kwargs, 4, "opts")).unwrap_or_default();
            let user = opt(args, kwargs, 5, "user");
            Ok(returned(mounts::remount(
                &point,
                device.as_deref(),
                mkmnt,
                &fstype,
                &opts,
                user.as_deref(),
            )?))
        }
        "mount.is_mounted" => {
            let point = required(name, args, kwargs, 0, "name")?.py_str();
            Ok(Value::Bool(mounts::is_mounted(&point)?))
        }
        "mount.swaps" => Ok(Value::Map(
            mounts::swaps()?
                .into_iter()
                .map(|(k, v)| (Value::Str(k), Value::Map(v.to_map())))
                .collect(),
        )),
        "mount.swapon" => {
            let dev = required(name, args, kwargs, 0, "name")?.py_str();
            let priority = truthy(args, kwargs, 1, "priority");
            let mut m = Map::default();
            if let Some((stats, new)) = mounts::swapon(&dev, priority.as_deref())? {
                m.insert("stats".into(), Value::Map(stats.to_map()));
                m.insert("new".into(), Value::Bool(new));
            }
            Ok(Value::Map(m))
        }
        "mount.swapoff" => {
            let dev = required(name, args, kwargs, 0, "name")?.py_str();
            Ok(mounts::swapoff(&dev)?.map_or(Value::Null, Value::Bool))
        }
        "mount.read_mount_cache" => {
            let point = required(name, args, kwargs, 0, "name")?.py_str();
            Ok(Value::Map(mounts::read_mount_cache(
                &cachedir(exec),
                &point,
            )?))
        }
        "mount.write_mount_cache" => {
            let point = required(name, args, kwargs, 0, "real_name")?.py_str();
            let device = required(name, args, kwargs, 1, "device")?.clone();
            let mkmnt = required(name, args, kwargs, 2, "mkmnt")?.clone();
            let fstype = required(name, args, kwargs, 3, "fstype")?.clone();
            let opts = required(name, args, kwargs, 4, "mount_opts")?.clone();
            mounts::write_mount_cache(&cachedir(exec), &point, device, mkmnt, fstype, opts)?;
            Ok(Value::Bool(true))
        }
        "mount.delete_mount_cache" => {
            let point = required(name, args, kwargs, 0, "real_name")?.py_str();
            Ok(Value::Bool(mounts::delete_mount_cache(
                &cachedir(exec),
                &point,
            )?))
        }
        "cron.raw_cron" => Ok(Value::Str(crontab::raw_cron(&cron_user(
            name, args, kwargs,
        )?)?)),
        "cron.list_tab" | "cron.ls" => {
            Ok(crontab::list_tab(&cron_user(name, args, kwargs)?)?.to_value())
        }
        "cron.set_job" => {
            let user = cron_user(name, args, kwargs)?;
            let field = |i: usize, key: &str| -> Result<Option<String>> {
                let v = required(name, args, kwargs, i, key)?;
                Ok((!v.is_null()).then(|| v.py_str()))
            };
            let job = JobSpec {
                minute: field(1, "minute")?,
                hour: field(2, "hour")?,
                daymonth: field(3, "daymonth")?,
                month: field(4, "month")?,
                dayweek: field(5, "dayweek")?,
                special: None,
                cmd: required(name, args, kwargs, 6, "cmd")?.py_str(),
                commented: matches!(arg(args, kwargs, 7, "commented"), Some(Value::Bool(true))),
                comment: opt(args, kwargs, 8, "comment"),
                identifier: ident(arg(args, kwargs, 9, "identifier")),
            };
            Ok(Value::Str(crontab::set_job(&user, &job)?))
        }
        "cron.set_special" => {
            let user = cron_user(name, args, kwargs)?;
            let job = JobSpec {
                special: Some(required(name, args, kwargs, 1, "special")?.py_str()),
                cmd: required(name, args, kwargs, 2, "cmd")?.py_str(),
                commented: matches!(arg(args, kwargs, 3, "commented"), Some(Value::Bool(true))),
                comment: opt(args, kwargs, 4, "comment"),
                identifier: ident(arg(args, kwargs, 5, "identifier")),
                ..JobSpec::default()
            };
            Ok(Value::Str(crontab::set_special(&user, &job)?))
        }
        "cron.rm_job" | "cron.rm" => {
            let user = cron_user(name, args, kwargs)?;
            let cmd = required(name, args, kwargs, 1, "cmd")?.py_str();
            let times = [
                opt(args, kwargs, 2, "minute"),
                opt(args, kwargs, 3, "hour"),
                opt(args, kwargs, 4, "daymonth"),
                opt(args, kwargs, 5, "month"),
                opt(args, kwargs, 6, "dayweek"),
            ];
            let times = [0, 1, 2, 3, 4].map(|i| times[i].as_deref());
            let identifier = ident(arg(args, kwargs, 7, "identifier"));
            Ok(Value::Str(crontab::rm_job(
                &user,
                &cmd,
                &times,
                identifier.as_deref(),
            )?))
        }
        "cron.rm_special" => {
            let user = cron_user(name, args, kwargs)?;
            let cmd = required(name, args, kwargs, 1, "cmd")?.py_str();
            let special = opt(args, kwargs, 2, "special");
            let identifier = ident(arg(args, kwargs, 3, "identifier"));
            Ok(Value::Str(crontab::rm_special(
                &user,
                &cmd,
                special.as_deref(),
                identifier.as_deref(),
            )?))
        }
        _ => Err(Error::NotAvailable(name.to_string())),
    }
}
