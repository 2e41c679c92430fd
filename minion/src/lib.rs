//! The minion: grains, configuration loading, the local file roots, SLS rendering into high
//! data, the execution functions, and the local caller behind `salt-call`.
//!
//! Invariant: a function's error is a failed return with Salt's message, never a panic.

pub mod caller;
pub mod config;
pub mod context;
pub mod daemon;
pub mod drift;
pub mod exec;
pub mod ext_pillar;
pub mod fileclient;
pub mod fileroots;
pub mod grains;
pub mod highstate;
pub mod procfiles;
pub mod state_queue;
pub mod template;

pub use context::Minion;
