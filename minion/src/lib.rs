//! The minion: grains, configuration loading and the local caller behind `salt-call`.

pub mod grains;
