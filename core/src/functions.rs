//! The execution-function registry: how templates (`salt['mod.fun']`), `onlyif` / `unless`
//! in function form and `module.run` reach execution functions without knowing who owns them.

use crate::{Map, Result, Value};

/// Something that can run Salt execution functions by name (`"pillar.get"`).
pub trait Functions: Send + Sync {
    /// Run `name` with positional `args` and keyword `kwargs`.
    ///
    /// An unknown function is [`crate::Error::NotAvailable`].
    fn call(&self, name: &str, args: &[Value], kwargs: &Map) -> Result<Value>;

    /// Does the registry provide `name`?
    fn exists(&self, name: &str) -> bool;
}
