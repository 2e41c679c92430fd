//! `salt-run`: the runners Halite has — `manage.up`, `manage.down`, `manage.status`
//! (a `test.ping` of every accepted minion), `jobs.list_jobs` and `jobs.lookup_jid` (the
//! job cache), `state.event` (the master's event bus, `runners/state_event.rs`) and the
//! Halite extension `drift.report` (`runners/drift_report.rs`). Any other runner is an
//! error that says so.

#[path = "runners/drift_report.rs"]
mod drift_report;
#[path = "runners/state_event.rs"]
mod state_event;

use crate::master_cli::emit;
use halite_core::config::MasterConfig;
use halite_core::{Map, Value};
use halite_master::client::{Job, LocalClient};
use halite_master::jobcache::JobCache;
use halite_master::pki::{KeyState, Pki};
use halite_output::OutputOptions;
use std::time::Duration;

fn status(cfg: &MasterConfig, timeout: Option<u64>) -> Result<(Vec<String>, Vec<String>), String> {
    let pki = Pki::open(&cfg.path("pki_dir")).map_err(|e| e.to_string())?;
    let all = pki.list(KeyState::Accepted);
    if all.is_empty() {
        return Ok((vec![], vec![]));
    }
    let client = LocalClient::new(cfg.clone())?;
    let mut listener = client.listen()?;
    let job = Job {
        tgt: "*".into(),
        tgt_type: "glob".into(),
        fun: "test.ping".into(),
        arg: vec![],
        ret: String::new(),
        kwargs: Map::default(),
    };
    let p = client.publish(&job)?;
    let mut up = Vec::new();
    if let Some(jid) = p.jid {
        let t = Duration::from_secs(timeout.unwrap_or_else(|| cfg.int("timeout", 5).max(1) as u64));
        client.collect(&mut listener, &jid, &p.minions, t, &mut |id, _| {
            up.push(id.to_string())
        });
    }
    up.sort();
    let down = all.into_iter().filter(|m| !up.contains(m)).collect();
    Ok((up, down))
}

/// Bind a runner call as Python binds `fname(<names>)` (every parameter has a default):
/// positionals in order, then keywords. `Err` carries Python's `TypeError` message.
fn bind<const N: usize>(
    fname: &str,
    names: &[&str; N],
    args: &[Value],
    kwargs: &Map,
) -> Result<[Option<Value>; N], String> {
    if args.len() > N {
        return Err(format!(
            "{fname}() takes from 0 to {N} positional arguments but {} were given",
            args.len()
        ));
    }
    let mut bound: [Option<Value>; N] = std::array::from_fn(|i| args.get(i).cloned());
    for (k, v) in kwargs {
        let k = k.py_str();
        let Some(i) = names.iter().position(|n| *n == k) else {
            return Err(format!(
                "{fname}() got an unexpected keyword argument '{k}'"
            ));
        };
        if i < args.len() {
            return Err(format!("{fname}() got multiple values for argument '{k}'"));
        }
        bound[i] = Some(v.clone());
    }
    Ok(bound)
}

/// What Salt's runner client returns for a call that raised `TypeError`: `Passed
/// invalid arguments: <msg>` and the function's usage, printed by the outputter; exit 0.
fn invalid_arguments(outputter: &str, oo: &OutputOptions, msg: &str, usage: &str) -> i32 {
    let text = format!("\nPassed invalid arguments: {msg}\n\nUsage:\n{usage}");
    emit(outputter, &Value::Str(text), oo);
    0
}

fn strs(v: Vec<String>) -> Value {
    Value::List(v.into_iter().map(Value::Str).collect())
}

/// `StartTime` as Salt formats a jid: "2026, Nov 23 00:20:11.198244".
fn start_time(jid: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    if jid.len() < 20 {
        return jid.to_string();
    }
    let month: usize = jid[4..6].parse().unwrap_or(1);
    format!(
        "{}, {} {} {}:{}:{}.{}",
        &jid[0..4],
        MONTHS[(month.clamp(1, 12)) - 1],
        &jid[6..8],
        &jid[8..10],
        &jid[10..12],
        &jid[12..14],
        &jid[14..20]
    )
}

fn job_summary(jid: &str, load: &Map) -> Value {
    let mut m = Map::default();
    m.insert(
        "Function".into(),
        load.get("fun").cloned().unwrap_or(Value::Null),
    );
    m.insert(
        "Arguments".into(),
        load.get("arg").cloned().unwrap_or(Value::List(vec![])),
    );
    m.insert(
        "Target".into(),
        load.get("tgt").cloned().unwrap_or(Value::Null),
    );
    m.insert(
        "Target-type".into(),
        load.get("tgt_type").cloned().unwrap_or(Value::Null),
    );
    m.insert(
        "User".into(),
        load.get("user").cloned().unwrap_or_else(|| "root".into()),
    );
    m.insert("StartTime".into(), start_time(jid).into());
    Value::Map(m)
}

/// Run one runner function; the exit code.
pub fn run(
    cfg: &MasterConfig,
    out: &Option<String>,
    oo: &OutputOptions,
    fun: &str,
    args: &[Value],
    kwargs: &Map,
    timeout: Option<u64>,
) -> i32 {
    let outputter = |default: &str| out.clone().unwrap_or_else(|| default.to_string());
    match fun {
        "manage.up" | "manage.down" | "manage.status" => match status(cfg, timeout) {
            Ok((up, down)) => {
                let data = match fun {
                    "manage.up" => strs(up),
                    "manage.down" => strs(down),
                    _ => {
                        let mut m = Map::default();
                        m.insert("down".into(), strs(down));
                        m.insert("up".into(), strs(up));
                        Value::Map(m)
                    }
                };
                emit(&outputter("nested"), &data, oo);
                0
            }
            Err(e) => {
                eprintln!("{e}");
                1
            }
        },
        "jobs.list_jobs" => {
            let jobs = JobCache::new(&cfg.path("cachedir"));
            let m: Map = jobs
                .jobs()
                .into_iter()
                .map(|(jid, load)| {
                    let s = job_summary(&jid, &load);
                    (jid.into(), s)
                })
                .collect();
            emit(&outputter("nested"), &Value::Map(m), oo);
            0
        }
        "jobs.lookup_jid" => {
            let Some(jid) = args
                .first()
                .or_else(|| kwargs.get("jid"))
                .map(Value::py_str)
            else {
                eprintln!("Passed invalid arguments: lookup_jid() missing 1 required positional argument: 'jid'");
                return 1;
            };
            let jobs = JobCache::new(&cfg.path("cachedir"));
            let rets = jobs.returns(&jid);
            let default_out = rets
                .iter()
                .find_map(|(_, _, o)| o.clone())
                .unwrap_or_else(|| "nested".into());
            let m: Map = rets.into_iter().map(|(id, r, _)| (id.into(), r)).collect();
            emit(&outputter(&default_out), &Value::Map(m), oo);
            0
        }
        "state.event" => state_event::run(cfg, &outputter("nested"), oo, args, kwargs),
        "drift.report" => drift_report::run(cfg, &outputter("nested"), oo, args, kwargs),
        other => {
            eprintln!("'{other}' is not available.");
            1
        }
    }
}
