//! The execution-function registry: how templates (`salt['mod.fun']`), `onlyif` / `unless`
//! in function form and `module.run` reach execution functions without knowing who owns them.

use crate::{Error, Map, Result, Value};

/// Something that can run Salt execution functions by name (`"pillar.get"`).
pub trait Functions: Send + Sync {
    /// Run `name` with positional `args` and keyword `kwargs`.
    ///
    /// An unknown function is [`crate::Error::NotAvailable`].
    fn call(&self, name: &str, args: &[Value], kwargs: &Map) -> Result<Value>;

    /// Does the registry provide `name`?
    fn exists(&self, name: &str) -> bool;
}

/// An execution function's argument: positional `i`, else keyword `key` (Python's binding of
/// `def f(a, b=None)` called either way).
pub fn arg<'a>(args: &'a [Value], kwargs: &'a Map, i: usize, key: &str) -> Option<&'a Value> {
    args.get(i).or_else(|| kwargs.get(key))
}

/// A required argument of `name`, with Python's missing-argument message as Salt shows it.
pub fn required<'a>(
    name: &str,
    args: &'a [Value],
    kwargs: &'a Map,
    i: usize,
    key: &str,
) -> Result<&'a Value> {
    arg(args, kwargs, i, key).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "Passed invalid arguments: {name}() missing 1 required positional argument: '{key}'"
        ))
    })
}
