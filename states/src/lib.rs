//! Salt's state system: the compiler (high data → ordered low chunks, pure), the runtime
//! (requisites, conditions, retry, failhard, listen) and the native state modules.
//!
//! Invariants: the compiler does no I/O; only state modules touch the system; every file
//! write is atomic (temp file in the same directory + fsync + rename).

pub mod chunk;
pub mod closure;
pub mod conditions;
pub mod exec;
pub mod fnmatch;
pub mod graph;
pub mod high;
pub mod lowstate;
pub mod modules;
pub mod requisite;
pub mod runtime;

pub use lowstate::{compile, Plan};
pub use modules::Registry;
pub use runtime::{Runner, Running};
