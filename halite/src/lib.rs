//! The `halite` command line: Salt-compatible argument parsing, config loading and dispatch.
//! Thin by design: the work happens in the library crates.

pub mod call_args;
mod daemon_cli;
mod key_cli;
mod logging;
mod master_cli;
mod run_cli;

use halite_core::{Map, Value};
use halite_minion::{caller, config, exec, Minion};
use std::io::Write;
use std::path::PathBuf;

/// Run the program named by `argv[0]` (or `halite <sub>`); the process exit code.
pub fn run(argv: Vec<String>) -> i32 {
    let prog = argv
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
        .unwrap_or_default();
    let (cmd, rest) = if prog == "halite" {
        match argv.get(1).map(String::as_str) {
            Some("call") => ("salt-call".to_string(), argv[2..].to_vec()),
            Some(sub @ ("master" | "minion" | "key" | "run")) => {
                (format!("salt-{sub}"), argv[2..].to_vec())
            }
            Some("salt") => ("salt".to_string(), argv[2..].to_vec()),
            Some("--version") | Some("-V") => {
                println!("halite {}", env!("CARGO_PKG_VERSION"));
                return 0;
            }
            Some(other) => {
                eprintln!("halite: '{other}' is not available (available: call, master, minion, key, run, salt)");
                return 2;
            }
            None => {
                eprintln!("usage: halite call [options] <function> [arguments]");
                return 2;
            }
        }
    } else {
        (prog, argv[1..].to_vec())
    };
    match cmd.as_str() {
        "salt-call" => salt_call(rest),
        "salt" => master_cli::salt(rest),
        "salt-master" => daemon_cli::salt_master(rest),
        "salt-minion" => daemon_cli::salt_minion(rest),
        "salt-key" => master_cli::salt_key(rest),
        "salt-run" => master_cli::salt_run(rest),
        other => {
            eprintln!("'{other}' is not available in this Halite build");
            2
        }
    }
}

fn salt_call(argv: Vec<String>) -> i32 {
    let opts = match call_args::parse(&argv) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("Usage: salt-call [options] <function> [arguments]\n\nsalt-call: error: {e}");
            return 2;
        }
    };
    if opts.version {
        println!("salt-call 3008.5 (Halite {})", env!("CARGO_PKG_VERSION"));
        return 0;
    }
    let Some(fun) = opts.fun.clone() else {
        eprintln!("Usage: salt-call [options] <function> [arguments]\n\nsalt-call: error: Requires function, --grains or --doc");
        return 2;
    };
    let cfg = match config::load(&PathBuf::from(&opts.config_dir), opts.config_overrides()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let level = opts
        .log_level
        .clone()
        .or_else(|| cfg.str("log_level").map(str::to_string))
        .unwrap_or_else(|| "warning".into());
    logging::init(&level);
    let (args, mut kwargs) = exec::parse_cli_args(&opts.args);
    let pillar_override = match kwargs.shift_remove("pillar") {
        None | Some(Value::Null) => None,
        Some(Value::Map(m)) => Some(m),
        Some(_) if fun.starts_with("state.") => {
            let out = Value::List(vec![Value::from(
                "Pillar data must be formatted as a dictionary, unless pillar_enc is specified.",
            )]);
            return emit(&opts, &cfg.opts, "nested", out, 1);
        }
        Some(other) => {
            kwargs.insert("pillar".into(), other);
            None
        }
    };
    // `pillarenv=` / `saltenv=` on a state call set the options the pillar and the top
    // file are compiled with, as Salt's `get_sls_opts` does.
    let mut cfg = cfg;
    if fun.starts_with("state.") {
        for key in ["pillarenv", "saltenv"] {
            if let Some(v) = kwargs.get(key).filter(|v| !v.is_null()) {
                cfg.opts.insert(key.into(), v.clone());
            }
        }
    }
    let cfg_opts = cfg.opts.clone();
    let minion = Minion::new(cfg, pillar_override);
    match caller::call(&minion, &fun, &args, &kwargs) {
        Ok(outcome) => {
            let mut retcode = outcome.retcode;
            if retcode == 0 {
                if let Value::Map(m) = &outcome.ret {
                    let bad = ["result", "success"]
                        .iter()
                        .any(|k| m.get(*k).is_some_and(|v| !v.is_truthy()));
                    if bad {
                        retcode = 1;
                    }
                }
            }
            emit(&opts, &cfg_opts, outcome.outputter, outcome.ret, retcode)
        }
        Err(halite_core::Error::NotAvailable(f)) => {
            eprintln!("'{f}' is not available.");
            255
        }
        Err(halite_core::Error::InvalidArgument(msg)) => {
            eprintln!("{msg}");
            1
        }
        Err(e) => {
            eprintln!("Error running '{fun}': {e}");
            1
        }
    }
}

fn emit(opts: &call_args::CallOpts, cfg: &Map, default_out: &str, ret: Value, retcode: i64) -> i32 {
    let mut data = Map::default();
    data.insert("local".into(), ret);
    let outputter = opts
        .out
        .clone()
        .or_else(|| {
            cfg.get("output")
                .filter(|v| !v.is_null())
                .map(Value::py_str)
        })
        .unwrap_or_else(|| default_out.to_string());
    let out_opts = opts.output_options(cfg);
    match halite_output::render(&outputter, &Value::Map(data), &out_opts) {
        Ok(text) => {
            let written = match &opts.out_file {
                Some(path) => std::fs::OpenOptions::new()
                    .create(true)
                    .write(true)
                    .append(opts.out_file_append)
                    .truncate(!opts.out_file_append)
                    .open(path)
                    .and_then(|mut f| f.write_all(text.as_bytes())),
                None => {
                    let stdout = std::io::stdout();
                    let mut lock = stdout.lock();
                    lock.write_all(text.as_bytes()).and_then(|_| lock.flush())
                }
            };
            if let Err(e) = written {
                eprintln!("Failed to write output: {e}");
                return 1;
            }
        }
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    }
    if opts.retcode_passthrough {
        retcode as i32
    } else if retcode != 0 {
        1
    } else {
        0
    }
}
