//! Execution-function helpers shared by state modules and the execution registry.

pub mod cmdrun;
pub mod dpkg;
