//! Jobs: does a publication target this minion, run it on its own thread (the job's proc
//! file under `<cachedir>/proc/<jid>` while it runs), and return the result with
//! `_return`. The daemon-level `saltutil.*` functions and the state queue's processing
//! live here.

use super::Daemon;
use crate::caller;
use crate::daemon::remote::RemoteFiles;
use crate::procfiles::{self, ProcFile};
use halite_core::{Error, Map, Value};
use halite_proto::envelope::{get_str, map};
use std::sync::Arc;

/// Salt's `asctime` for the start event ("Mon Nov 23 18:57:44 2026").
pub fn asctime() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as libc::time_t;
    // SAFETY: localtime_r/asctime_r write only into the buffers we pass.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let mut buf = [0 as libc::c_char; 64];
    unsafe {
        libc::localtime_r(&now, &mut tm);
        libc::asctime_r(&tm, buf.as_mut_ptr());
        std::ffi::CStr::from_ptr(buf.as_ptr())
            .to_string_lossy()
            .trim()
            .to_string()
    }
}

/// Does `load` target this minion (Salt's `_target_load`)?
fn targeted(d: &Daemon, load: &Map) -> bool {
    let (Some(tgt), Some(_), Some(_), Some(_)) = (
        load.get("tgt"),
        load.get("jid"),
        load.get("fun"),
        load.get("arg"),
    ) else {
        return false;
    };
    let tgt_type = get_str(load, "tgt_type").unwrap_or("glob");
    let delimiter = get_str(load, "delimiter").unwrap_or(":");
    let empty = Map::default();
    let nodegroups = d
        .cfg
        .opts
        .get("nodegroups")
        .and_then(Value::as_map)
        .unwrap_or(&empty);
    let pillar = d.pillar.read().unwrap_or_else(|p| p.into_inner()).clone();
    let data = halite_target::MinionData {
        id: &d.chan.id,
        grains: &d.grains,
        pillar: &pillar,
        nodegroups,
    };
    halite_target::matches(tgt, tgt_type, &data, delimiter).unwrap_or(false)
}

/// Give the memory a finished job used back to the system: each job thread gets its own
/// malloc arena, which glibc otherwise keeps, so an idle minion would hold the peak of its
/// last state run.
fn release_memory() {
    // SAFETY: malloc_trim only walks and trims the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Handle one decrypted publication.
pub fn handle_publication(d: &Arc<Daemon>, load: Map) {
    if !targeted(d, &load) {
        return;
    }
    let jid = get_str(&load, "jid").unwrap_or("").to_string();
    if !d.first_time(&jid) {
        tracing::debug!(jid, "a jid already seen: ignored");
        return;
    }
    start_job(d, load);
}

/// Start the job `load` on a thread of its own. Its proc file is written before this
/// returns, so state runs (and the state queue) see the job at once; its return goes to the
/// master when it ends, unless the function asked for none (`__no_return__`: a state run
/// that queued itself returns when it runs).
pub fn start_job(d: &Arc<Daemon>, load: Map) {
    let jid = get_str(&load, "jid").unwrap_or("").to_string();
    let fun = load.get("fun").map(Value::py_str).unwrap_or_default();
    tracing::info!(jid, fun, "starting a job");
    let proc = write_proc(d, &load);
    let d = d.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("job-{}", jid.replace('\0', "")))
        .spawn(move || {
            let ret = run_job(&d, &load, proc);
            if no_return(&ret.ret) {
                tracing::debug!(
                    jid,
                    "Suppressing return for job {jid} because __no_return__ is set"
                );
            } else {
                send_return(&d, &load, ret);
            }
            release_memory();
        });
    if let Err(e) = spawned {
        tracing::error!("could not start a job thread: {e}");
    }
}

/// Does a return ask not to be sent (Salt's `__no_return__`)?
fn no_return(ret: &Value) -> bool {
    matches!(ret, Value::Map(m) if m.get("__no_return__").is_some_and(Value::is_truthy))
}

/// The job's proc file: `pid`, then the publication (as Salt writes it).
fn write_proc(d: &Daemon, load: &Map) -> Option<ProcFile> {
    let jid = get_str(load, "jid").unwrap_or("");
    let mut data = Map::default();
    data.insert("pid".into(), Value::Int(i64::from(std::process::id())));
    for (k, v) in load {
        data.insert(k.clone(), v.clone());
    }
    match ProcFile::write(&d.cfg.opts, jid, &data) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::warn!(jid, "could not write the job's proc file: {e}");
            None
        }
    }
}

/// Salt's state queue processing: every 0.3 s, start the oldest queued state run once the
/// jobs before it are done (see [`crate::state_queue::release_next`]).
pub fn start_state_queue(d: &Arc<Daemon>) {
    let d = d.clone();
    let spawned = std::thread::Builder::new()
        .name("state-queue".into())
        .spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_millis(300));
            crate::state_queue::release_next(&d.cfg.opts, |load| {
                let jid = get_str(&load, "jid").unwrap_or("").to_string();
                d.first_time(&jid);
                start_job(&d, load);
            });
        });
    if let Err(e) = spawned {
        tracing::error!("could not start the state queue: {e}");
    }
}

/// Salt's `load_args_and_kwargs`: `{"__kwarg__": True, …}` dicts and `k=v` strings become
/// keyword arguments.
pub fn split_args(arg: &Value) -> (Vec<Value>, Map) {
    let mut args = Vec::new();
    let mut kwargs = Map::default();
    for a in arg.as_list().map(Vec::as_slice).unwrap_or(&[]) {
        match a {
            Value::Map(m) if m.get("__kwarg__").is_some_and(|v| v == &Value::Bool(true)) => {
                for (k, v) in m {
                    if k.as_str() != Some("__kwarg__") {
                        kwargs.insert(k.clone(), v.clone());
                    }
                }
            }
            Value::Str(s) => {
                let (more, kw) = crate::exec::parse_cli_args(std::slice::from_ref(s));
                if kw.is_empty() {
                    args.push(a.clone());
                } else {
                    drop(more);
                    kwargs.extend(kw);
                }
            }
            other => args.push(other.clone()),
        }
    }
    (args, kwargs)
}

/// The return of one job: (return, retcode, outputter).
struct JobRet {
    ret: Value,
    retcode: i64,
    out: String,
}

fn failed(msg: String) -> JobRet {
    JobRet {
        ret: Value::Str(msg),
        retcode: 1,
        out: "nested".into(),
    }
}

/// Run a job whose proc file (`proc`, removed once the function is done) is written.
fn run_job(d: &Arc<Daemon>, load: &Map, proc: Option<ProcFile>) -> JobRet {
    let jid = get_str(load, "jid").unwrap_or("").to_string();
    let d2 = d.clone();
    let load2 = load.clone();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || call(&d2, &load2)));
    drop(proc);
    match r {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into());
            tracing::error!(jid, "a job panicked: {msg}");
            failed(format!("The minion function caused an exception: {msg}"))
        }
    }
}

/// The jobs running beside job `own_jid` (Salt's `saltutil.running`).
fn proc_jobs(d: &Daemon, own_jid: &str) -> Vec<Map> {
    procfiles::running(&d.cfg.opts, Some(own_jid))
}

fn daemon_function(
    d: &Arc<Daemon>,
    fun: &str,
    args: &[Value],
    kwargs: &Map,
    own_jid: &str,
) -> Option<JobRet> {
    let ok = |ret: Value| {
        Some(JobRet {
            ret,
            retcode: 0,
            out: "nested".into(),
        })
    };
    match fun {
        "saltutil.find_job" => {
            let jid = args.first().map(Value::py_str).unwrap_or_default();
            let found = proc_jobs(d, own_jid)
                .into_iter()
                .find(|j| j.get("jid").map(Value::py_str).as_deref() == Some(jid.as_str()));
            ok(Value::Map(found.unwrap_or_default()))
        }
        "saltutil.running" => ok(Value::List(
            proc_jobs(d, own_jid).into_iter().map(Value::Map).collect(),
        )),
        "saltutil.is_running" => {
            let Some(pattern) = crate::exec::arg(args, kwargs, 0, "fun") else {
                return Some(failed(
                    "Passed invalid arguments: is_running() missing 1 required positional argument: 'fun'".into(),
                ));
            };
            let jobs = procfiles::is_running(&d.cfg.opts, &pattern.py_str(), Some(own_jid));
            ok(Value::List(jobs.into_iter().map(Value::Map).collect()))
        }
        "saltutil.refresh_pillar" => ok(Value::Bool(d.refresh_pillar().is_ok())),
        "saltutil.sync_all" => {
            tracing::info!("saltutil.sync_all: Halite's modules are built in; nothing to sync");
            let kinds = [
                "clouds",
                "beacons",
                "modules",
                "states",
                "sdb",
                "grains",
                "renderers",
                "returners",
                "output",
                "utils",
                "log_handlers",
                "executors",
                "proxymodules",
                "engines",
                "thorium",
                "serializers",
                "matchers",
                "wrapper",
                "tops",
            ];
            ok(Value::Map(
                kinds
                    .iter()
                    .map(|k| ((*k).into(), Value::List(vec![])))
                    .collect(),
            ))
        }
        f if f.starts_with("saltutil.sync_") => {
            tracing::info!("{f}: Halite's modules are built in; nothing to sync");
            ok(Value::List(vec![]))
        }
        _ => None,
    }
}

fn call(d: &Arc<Daemon>, load: &Map) -> JobRet {
    let fun = match load.get("fun") {
        Some(Value::Str(f)) => f.clone(),
        Some(Value::List(_)) => {
            return failed("'multi-function jobs' is not available.".into());
        }
        _ => return failed("no function".into()),
    };
    let (args, mut kwargs) = split_args(load.get("arg").unwrap_or(&Value::Null));
    let jid = get_str(load, "jid").unwrap_or("");
    if let Some(r) = daemon_function(d, &fun, &args, &kwargs, jid) {
        return r;
    }
    let mut cfg = d.cfg.clone();
    if fun.starts_with("state.") {
        for key in ["pillarenv", "saltenv"] {
            if let Some(v) = kwargs.get(key).filter(|v| !v.is_null()) {
                cfg.opts.insert(key.into(), v.clone());
            }
        }
    }
    let over = match kwargs.shift_remove("pillar") {
        Some(Value::Map(m)) => Some(m),
        Some(other) if !other.is_null() => {
            kwargs.insert("pillar".into(), other);
            None
        }
        _ => None,
    };
    // State runs fetch a fresh pillar, as Salt 3008 minions do.
    let pillar = if fun.starts_with("state.") || fun.starts_with("pillar.") || over.is_some() {
        match d.fetch_pillar(over.as_ref(), kwargs.get("pillarenv")) {
            Ok(p) => {
                if over.is_none() {
                    *d.pillar.write().unwrap_or_else(|p| p.into_inner()) = p.clone();
                }
                p
            }
            Err(e) => return failed(format!("Pillar could not be fetched from the master: {e}")),
        }
    } else {
        d.pillar.read().unwrap_or_else(|p| p.into_inner()).clone()
    };
    let minion = job_context(d, cfg, pillar);
    // The publication the function sees (`__pub_*`, and the minion context's job).
    let job: Map = load
        .iter()
        .filter(|(k, _)| {
            k.as_str().is_some_and(|k| {
                matches!(
                    k,
                    "jid" | "tgt" | "tgt_type" | "user" | "ret" | "fun" | "arg"
                )
            })
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(drift) = &d.drift {
        minion.set_drift(drift.clone());
    }
    // A state job holds repairs off while it runs, and hands what it applied to the drift
    // engine before it lets them go.
    let _holding = d
        .drift
        .as_ref()
        .filter(|_| fun.starts_with("state."))
        .map(|drift| drift.job_started());
    let result = caller::run(&minion, &fun, &args, &kwargs, job);
    if let (Some(drift), Some(applied)) = (&d.drift, minion.take_applied()) {
        drift.install(minion.clone(), applied);
    }
    match result {
        Ok(outcome) => {
            let mut retcode = outcome.retcode;
            if retcode == 0 {
                if let Value::Map(m) = &outcome.ret {
                    if ["result", "success"]
                        .iter()
                        .any(|k| m.get(*k).is_some_and(|v| !v.is_truthy()))
                    {
                        retcode = 1;
                    }
                }
            }
            JobRet {
                ret: outcome.ret,
                retcode,
                out: outcome.outputter.to_string(),
            }
        }
        Err(Error::NotAvailable(f)) => failed(format!("'{f}' is not available.")),
        Err(e) => failed(format!("ERROR: {e}")),
    }
}

fn send_return(d: &Arc<Daemon>, load: &Map, r: JobRet) {
    let jid = get_str(load, "jid").unwrap_or("req").to_string();
    let fun = load.get("fun").cloned().unwrap_or(Value::Null);
    let mut ret = map([
        ("cmd", "_return".into()),
        ("id", d.chan.id.clone().into()),
        ("success", Value::Bool(r.retcode == 0)),
        ("return", r.ret),
        ("retcode", Value::Int(r.retcode)),
        ("jid", jid.clone().into()),
        ("fun", fun.clone()),
        (
            "fun_args",
            load.get("arg").cloned().unwrap_or(Value::List(vec![])),
        ),
        ("out", r.out.into()),
    ]);
    for k in ["user", "master_id", "metadata"] {
        if let Some(v) = load.get(k) {
            ret.insert(k.into(), v.clone());
        }
    }
    // Salt's `return_retry_tries` (default 3), a few seconds apart: a master that is
    // restarting still gets the result.
    let tries = match d.cfg.opts.get("return_retry_tries") {
        Some(Value::Int(n)) => (*n).clamp(1, 100),
        _ => 3,
    };
    for attempt in 1..=tries {
        match d.chan.request(&ret) {
            Ok(_) => {
                tracing::info!(jid, fun = %fun.py_str(), "returned a job");
                return;
            }
            Err(e) if attempt < tries => {
                tracing::warn!(jid, attempt, "returning the job failed: {e}; retrying");
                std::thread::sleep(std::time::Duration::from_secs(5));
            }
            Err(e) => tracing::error!(jid, "could not return the job: {e}"),
        }
    }
}

/// Run a function locally on behalf of the minion itself (schedule, startup states) and
/// return it to the master with a master-allocated jid.
pub fn run_local(d: &Arc<Daemon>, fun: &str, arg: Vec<Value>) {
    let jid = halite_proto::jid::gen_jid();
    let load = map([
        ("fun", fun.into()),
        ("arg", Value::List(arg)),
        ("jid", jid.into()),
        ("tgt", d.chan.id.clone().into()),
        ("tgt_type", "glob".into()),
    ]);
    let proc = write_proc(d, &load);
    let r = run_job(d, &load, proc);
    let mut load = load;
    load.insert("jid".into(), "req".into());
    send_return(d, &load, r);
    release_memory();
}

/// `startup_states`: `highstate`, `sls` (with `sls_list`) or `top` (with `top_file`).
pub fn startup_states(d: &Arc<Daemon>) {
    let Some(kind) = d.cfg.str("startup_states").map(str::to_string) else {
        return;
    };
    let arg = |k: &str| d.cfg.opts.get(k).cloned().unwrap_or(Value::Null);
    match kind.as_str() {
        "" => {}
        "highstate" => run_local(d, "state.highstate", vec![]),
        "sls" => run_local(d, "state.sls", vec![arg("sls_list")]),
        "top" => run_local(d, "state.top", vec![arg("top_file")]),
        other => tracing::warn!("startup_states: unknown value {other:?}"),
    }
}

/// A job's context: `cfg`, the master's files, the daemon's grains, `pillar`.
fn job_context(
    d: &Arc<Daemon>,
    cfg: halite_core::config::MinionConfig,
    pillar: Value,
) -> Arc<crate::Minion> {
    let cachedir =
        std::path::PathBuf::from(cfg.str("cachedir").unwrap_or("/var/cache/salt/minion"));
    let files = Arc::new(RemoteFiles::new(d.chan.clone(), cachedir));
    crate::Minion::with_sources(cfg, files, d.grains.clone(), pillar)
}

/// The context a restored drift set re-runs its states in: as the state job that applied
/// it (its `saltenv` and `pillarenv` options), with a fresh pillar from the master (the
/// daemon's when the job set no `pillarenv`). `None` when that pillar cannot be had or
/// carries errors: states are never re-run on a pillar they were not rendered with.
pub fn drift_context(
    d: &Arc<Daemon>,
    envs: &crate::drift::persist::Envs,
) -> Option<Arc<crate::Minion>> {
    let mut cfg = d.cfg.clone();
    for (key, value) in [("saltenv", &envs.saltenv), ("pillarenv", &envs.pillarenv)] {
        if let Some(v) = value {
            cfg.opts.insert(key.into(), v.clone().into());
        }
    }
    let pillar = match &envs.pillarenv {
        None => d.pillar.read().unwrap_or_else(|p| p.into_inner()).clone(),
        Some(env) => match d.fetch_pillar(None, Some(&Value::Str(env.clone()))) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("drift: the pillar of pillarenv {env}: {e}");
                return None;
            }
        },
    };
    if pillar.get("_errors").is_some() {
        return None;
    }
    let minion = job_context(d, cfg, pillar);
    if let Some(drift) = &d.drift {
        minion.set_drift(drift.clone());
    }
    Some(minion)
}
