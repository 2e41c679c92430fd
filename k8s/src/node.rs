//! (in progress)

use crate::ExecContext;
use halite_core::{Error, Map, Result, Value};
use halite_states::modules::Registry;

/// Register this module's state functions.
pub fn register(r: &mut Registry) {
    let _ = r;
}

/// The execution functions of this module.
pub const FUNCTIONS: &[&str] = &[];

/// Run one of [`FUNCTIONS`].
pub fn call(_ctx: &ExecContext, name: &str, _args: &[Value], _kwargs: &Map) -> Result<Value> {
    Err(Error::NotAvailable(name.to_string()))
}
