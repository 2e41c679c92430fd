//! `pkg.*` on Debian (Salt's `aptpkg`): the parts that need no package manager run yet.
//! Queries read dpkg's data directly (`halite_states::exec::dpkg`).

use super::{arg, Exec};
use halite_core::{Map, Result, Value};
use halite_states::exec::dpkg;
use std::cmp::Ordering;

/// The `pkg.*` functions Halite has.
pub const FUNCTIONS: &[&str] = &["pkg.version_cmp"];

/// Run a `pkg.*` function.
pub fn call(_exec: &Exec, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
    match name {
        "pkg.version_cmp" => {
            let a = arg(args, kwargs, 0, "pkg1")
                .map(Value::py_str)
                .unwrap_or_default();
            let b = arg(args, kwargs, 1, "pkg2")
                .map(Value::py_str)
                .unwrap_or_default();
            let ignore_epoch = arg(args, kwargs, 2, "ignore_epoch").is_some_and(Value::is_truthy);
            let strip = |v: &str| -> String {
                if ignore_epoch {
                    v.split_once(':').map_or(v, |(_, r)| r).to_string()
                } else {
                    v.to_string()
                }
            };
            Ok(match dpkg::version_cmp(&strip(&a), &strip(&b)) {
                Some(Ordering::Less) => Value::Int(-1),
                Some(Ordering::Equal) => Value::Int(0),
                Some(Ordering::Greater) => Value::Int(1),
                None => Value::Null,
            })
        }
        _ => Err(halite_core::Error::NotAvailable(name.to_string())),
    }
}
