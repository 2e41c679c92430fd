//! The local caller behind `salt-call`: one function run against a [`Minion`], with the
//! outputter Salt would pick and the exit code Salt would give.

use crate::context::Minion;
use crate::exec::default_outputter;
use halite_core::{Error, Map, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// What one `salt-call` produced.
#[derive(Debug, Clone)]
pub struct CallOutcome {
    /// The function's return.
    pub ret: Value,
    /// The retcode the function set (Salt's `__context__["retcode"]`).
    pub retcode: i64,
    /// The outputter Salt uses for this function by default.
    pub outputter: &'static str,
}

fn mask(v: &Value) -> Value {
    match v {
        Value::Null => Value::Null,
        Value::List(l) => Value::List(l.iter().map(mask).collect()),
        Value::Map(m) => Value::Map(m.iter().map(|(k, v)| (k.clone(), mask(v))).collect()),
        _ => Value::Str("**********".into()),
    }
}

/// A job id as Salt makes them (`halite_proto::jid`).
pub use halite_proto::jid::gen_jid;

/// `salt-call FUN ARGS`: run `fun` with `args`/`kwargs` as a job of its own, with a fresh
/// jid and, while it runs, the proc file `<cachedir>/proc/<jid>` Salt's `salt-call` writes
/// (`{fun, pid, jid, tgt: "salt-call"}`), so state runs see each other.
pub fn call(
    minion: &Arc<Minion>,
    fun: &str,
    args: &[Value],
    kwargs: &Map,
) -> Result<CallOutcome, Error> {
    if !minion.functions().exists(fun) {
        return Err(Error::NotAvailable(fun.to_string()));
    }
    let jid = gen_jid();
    let mut job = Map::default();
    job.insert("fun".into(), fun.into());
    job.insert("pid".into(), Value::Int(i64::from(std::process::id())));
    job.insert("jid".into(), jid.clone().into());
    job.insert("tgt".into(), "salt-call".into());
    let _proc = match crate::procfiles::ProcFile::write(minion.opts(), &jid, &job) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::debug!("proc file: {e}");
            eprintln!(
                "Cannot write to process directory. Do you have permissions to write to {} ?",
                crate::procfiles::proc_dir(minion.opts())
                    .join(&jid)
                    .display()
            );
            None
        }
    };
    run(minion, fun, args, kwargs, job)
}

/// Run `fun` for the job `job` (its publication: `jid`, `fun`, `arg`, `tgt`, ...), which the
/// function gets as `__pub_*` keywords and the minion context keeps (see
/// [`Minion::set_job`]). The caller owns the job's proc file.
pub fn run(
    minion: &Arc<Minion>,
    fun: &str,
    args: &[Value],
    kwargs: &Map,
    job: Map,
) -> Result<CallOutcome, Error> {
    let functions = minion.functions();
    if !functions.exists(fun) {
        return Err(Error::NotAvailable(fun.to_string()));
    }
    let mut kwargs = kwargs.clone();
    let unmask = kwargs.shift_remove("unmask").is_some_and(|v| v.is_truthy());
    for (k, v) in &job {
        kwargs.insert(format!("__pub_{}", k.py_str()).into(), v.clone());
    }
    minion.set_job(job);
    let ret = functions.call(fun, args, &kwargs)?;
    let ret = if fun.starts_with("pillar.") && fun != "pillar.ls" && !unmask {
        mask(&ret)
    } else {
        ret
    };
    Ok(CallOutcome {
        ret,
        retcode: minion.retcode.load(Ordering::SeqCst),
        outputter: default_outputter(fun),
    })
}
