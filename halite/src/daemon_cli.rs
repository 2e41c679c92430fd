//! `salt-master` and `salt-minion`: options, configuration, logging, then the daemon of the
//! `master` or `minion` crate in the foreground.

use crate::logging;
use crate::master_cli::{common, load_config, Common};
use halite_core::Map;
use std::path::PathBuf;

/// `salt-master`.
pub fn salt_master(args: Vec<String>) -> i32 {
    let mut c = Common::default();
    let rest = match common(&args, &mut c, &mut |a, i| {
        Ok(a[*i] == "-d" || a[*i] == "--daemon")
    }) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Usage: salt-master [options]\n\nsalt-master: error: {e}");
            return 2;
        }
    };
    if !rest.is_empty() {
        eprintln!(
            "Usage: salt-master [options]\n\nsalt-master: error: unexpected arguments {rest:?}"
        );
        return 2;
    }
    let cfg = match load_config(&c.config_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let level = c
        .log_level
        .clone()
        .or_else(|| cfg.str("log_level").map(str::to_string))
        .unwrap_or_else(|| "warning".into());
    let file_level = cfg
        .str("log_level_logfile")
        .unwrap_or("warning")
        .to_string();
    logging::init_daemon(&level, cfg.str("log_file"), &file_level);
    match halite_master::daemon::run(cfg) {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("salt-master: {e}");
            1
        }
    }
}

/// `salt-minion`.
pub fn salt_minion(args: Vec<String>) -> i32 {
    let mut c = Common::default();
    let rest = match common(&args, &mut c, &mut |a, i| {
        Ok(a[*i] == "-d" || a[*i] == "--daemon")
    }) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Usage: salt-minion [options]\n\nsalt-minion: error: {e}");
            return 2;
        }
    };
    if !rest.is_empty() {
        eprintln!(
            "Usage: salt-minion [options]\n\nsalt-minion: error: unexpected arguments {rest:?}"
        );
        return 2;
    }
    let cfg = match halite_minion::config::load(&PathBuf::from(&c.config_dir), Map::default()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let level = c
        .log_level
        .clone()
        .or_else(|| cfg.str("log_level").map(str::to_string))
        .unwrap_or_else(|| "warning".into());
    let file_level = cfg
        .str("log_level_logfile")
        .unwrap_or("warning")
        .to_string();
    logging::init_daemon(&level, cfg.str("log_file"), &file_level);
    match halite_minion::daemon::run(cfg) {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("salt-minion: {e}");
            1
        }
    }
}
