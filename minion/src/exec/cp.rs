//! `cp.*` execution functions (the local fileclient). (Being written.)

use super::Exec;
use halite_core::{Error, Map, Result, Value};

/// The functions this module provides.
pub const FUNCTIONS: &[&str] = &[];

/// Dispatch a `cp.*` function.
pub fn call(_ex: &Exec, name: &str, _args: &[Value], _kwargs: &Map) -> Result<Value> {
    Err(Error::NotAvailable(name.to_string()))
}
