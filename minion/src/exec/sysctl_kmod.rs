//! `sysctl.*` (Salt's `linux_sysctl`) and `kmod.*` execution functions, over the native
//! helpers in `halite_states::exec::{sysctl, kmod}`. Return shapes and error texts are
//! Salt's: failures Salt raises as `CommandExecutionError` come back as
//! [`Error::CommandExecution`]; `kmod.load`/`kmod.remove` return Salt's error string as
//! their value when the command fails.

use super::{arg, required, Exec};
use halite_core::{Error, Map, Result, Value};
use halite_states::exec::kmod::{self, Outcome};
use halite_states::exec::sysctl::{self, ConfigView};

/// The functions this module provides.
pub const FUNCTIONS: &[&str] = &[
    "sysctl.get",
    "sysctl.assign",
    "sysctl.persist",
    "sysctl.show",
    "sysctl.default_config",
    "kmod.lsmod",
    "kmod.load",
    "kmod.remove",
    "kmod.is_loaded",
    "kmod.mod_list",
    "kmod.available",
    "kmod.check_available",
];

fn str_list(items: Vec<String>) -> Value {
    Value::List(items.into_iter().map(Value::Str).collect())
}

fn outcome(o: Outcome) -> Value {
    match o {
        Outcome::Done(list) => str_list(list),
        Outcome::Failed(msg) => Value::Str(msg),
    }
}

/// A boolean argument at position `i` or keyword `key`, Python truthiness.
fn flag(args: &[Value], kwargs: &Map, i: usize, key: &str, default: bool) -> bool {
    arg(args, kwargs, i, key).map_or(default, Value::is_truthy)
}

/// Run a `sysctl.*` / `kmod.*` function.
pub fn call(_exec: &Exec, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
    match name {
        "sysctl.get" => {
            let key = required(name, args, kwargs, 0, "name")?.py_str();
            Ok(Value::Str(sysctl::get(&key)?))
        }
        "sysctl.assign" => {
            let key = required(name, args, kwargs, 0, "name")?.py_str();
            let value = required(name, args, kwargs, 1, "value")?.py_str();
            let (k, v) = sysctl::assign(&key, &value)?;
            let mut m = Map::default();
            m.insert(Value::Str(k), Value::Str(v));
            Ok(Value::Map(m))
        }
        "sysctl.persist" => {
            let key = required(name, args, kwargs, 0, "name")?.py_str();
            let value = required(name, args, kwargs, 1, "value")?.py_str();
            let config = match arg(args, kwargs, 2, "config") {
                None | Some(Value::Null) => sysctl::default_config()?,
                Some(v) => v.py_str(),
            };
            Ok(Value::Str(
                sysctl::persist(&key, &value, &config)?.as_str().into(),
            ))
        }
        "sysctl.show" => {
            let config = arg(args, kwargs, 0, "config_file")
                .filter(|v| v.is_truthy())
                .map(Value::py_str)
                .unwrap_or_default();
            Ok(match sysctl::show(&config)? {
                ConfigView::Missing => Value::List(Vec::new()),
                ConfigView::Unreadable => Value::Null,
                ConfigView::Entries(entries) => Value::Map(
                    entries
                        .into_iter()
                        .map(|(k, v)| (Value::Str(k), Value::Str(v)))
                        .collect(),
                ),
            })
        }
        "sysctl.default_config" => Ok(Value::Str(sysctl::default_config()?)),
        "kmod.lsmod" => Ok(Value::List(
            kmod::lsmod()?
                .into_iter()
                .map(|m| {
                    let mut d = Map::default();
                    d.insert("size".into(), Value::Str(m.size));
                    d.insert("module".into(), Value::Str(m.module));
                    d.insert("depcount".into(), Value::Str(m.depcount));
                    d.insert("deps".into(), str_list(m.deps));
                    Value::Map(d)
                })
                .collect(),
        )),
        "kmod.load" => {
            let module = required(name, args, kwargs, 0, "mod")?.py_str();
            let persist = flag(args, kwargs, 1, "persist", false);
            Ok(outcome(kmod::load(&module, persist)?))
        }
        "kmod.remove" => {
            let module = required(name, args, kwargs, 0, "mod")?.py_str();
            let persist = flag(args, kwargs, 1, "persist", false);
            let comment = flag(args, kwargs, 2, "comment", true);
            Ok(outcome(kmod::remove(&module, persist, comment)?))
        }
        "kmod.is_loaded" => {
            let module = required(name, args, kwargs, 0, "mod")?.py_str();
            Ok(Value::Bool(kmod::is_loaded(&module)?))
        }
        "kmod.mod_list" => {
            let only_persist = flag(args, kwargs, 0, "only_persist", false);
            Ok(str_list(kmod::mod_list(only_persist)?))
        }
        "kmod.available" => Ok(str_list(kmod::available())),
        "kmod.check_available" => {
            let module = required(name, args, kwargs, 0, "mod")?.py_str();
            Ok(Value::Bool(kmod::available().contains(&module)))
        }
        _ => Err(Error::NotAvailable(name.to_string())),
    }
}
