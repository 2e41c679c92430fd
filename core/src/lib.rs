//! Halite's core: Salt's data model ([`Value`]), source marks, the error type, the typed
//! minion configuration and the execution-function registry trait.
//!
//! Invariant: no I/O and no async here; every other crate builds on these types.

pub mod config;
pub mod error;
pub mod functions;
pub mod json;
pub mod mark;
pub mod value;
pub mod yaml_emit;

pub use error::{Error, Result};
pub use functions::Functions;
pub use mark::Mark;
pub use value::{Map, Value};
