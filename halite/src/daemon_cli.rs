//! `salt-master` and `salt-minion`: options, configuration, logging, then the daemon of the
//! `master` or `minion` crate in the foreground.

use crate::logging;
use crate::master_cli::{common, load_config, Common};
use halite_core::{Map, Value};
use std::path::PathBuf;

/// The options both daemons take (`-d` is accepted; they always run in the foreground);
/// `Err` is the exit code of a usage error.
fn options(name: &str, args: &[String]) -> Result<Common, i32> {
    let mut c = Common::default();
    let rest = common(args, &mut c, &mut |a, i| {
        Ok(a[*i] == "-d" || a[*i] == "--daemon")
    })
    .map_err(|e| {
        eprintln!("Usage: {name} [options]\n\n{name}: error: {e}");
        2
    })?;
    if !rest.is_empty() {
        eprintln!("Usage: {name} [options]\n\n{name}: error: unexpected arguments {rest:?}");
        return Err(2);
    }
    Ok(c)
}

/// Log as Salt's daemons do (console at `log_level`, `log_file` at `log_level_logfile`),
/// run the daemon, and turn its end into an exit code.
fn serve(name: &str, c: &Common, opts: &Map, run: impl FnOnce() -> Result<(), String>) -> i32 {
    let get = |k: &str| opts.get(k).and_then(Value::as_str);
    let level = c
        .log_level
        .clone()
        .or_else(|| get("log_level").map(str::to_string))
        .unwrap_or_else(|| "warning".into());
    let file_level = get("log_level_logfile").unwrap_or("warning");
    logging::init_daemon(&level, get("log_file"), file_level);
    match run() {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("{name}: {e}");
            1
        }
    }
}

/// `salt-master`.
pub fn salt_master(args: Vec<String>) -> i32 {
    let c = match options("salt-master", &args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match load_config(&c.config_dir) {
        Ok(cfg) => {
            let opts = cfg.opts.clone();
            serve("salt-master", &c, &opts, || halite_master::daemon::run(cfg))
        }
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

/// `salt-minion`.
pub fn salt_minion(args: Vec<String>) -> i32 {
    let c = match options("salt-minion", &args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match halite_minion::config::load(&PathBuf::from(&c.config_dir), Map::default()) {
        Ok(cfg) => {
            let opts = cfg.opts.clone();
            serve("salt-minion", &c, &opts, || halite_minion::daemon::run(cfg))
        }
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}
