//! Execution-function helpers shared by state modules and the execution registry.

pub mod accounts;
pub mod apt;
pub mod aptpkg;
pub mod aptsources;
pub mod cmdrun;
pub mod command;
pub mod crontab;
pub mod dpkg;
pub mod kmod;
pub mod mounts;
pub mod pystr;
pub mod sysctl;
pub mod systemd;
