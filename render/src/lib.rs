//! Salt's renderers: Jinja (minijinja with Salt's layer) and YAML with Salt's loader rules,
//! chained by renderer pipes (`#!jinja|yaml`).
//!
//! Invariant: files are read only through a [`Loader`]; execution functions are reached only
//! through [`halite_core::Functions`]; compiled templates are cached for the whole run.

pub mod jinja;
pub mod loader;
pub mod yaml;

pub use loader::Loader;
