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

/// Run `fun` with `args`/`kwargs`.
pub fn call(
    minion: &Arc<Minion>,
    fun: &str,
    args: &[Value],
    kwargs: &Map,
) -> Result<CallOutcome, Error> {
    let functions = minion.functions();
    if !functions.exists(fun) {
        return Err(Error::NotAvailable(fun.to_string()));
    }
    let mut kwargs = kwargs.clone();
    let unmask = kwargs.shift_remove("unmask").is_some_and(|v| v.is_truthy());
    kwargs.insert("__pub_fun".into(), fun.into());
    kwargs.insert(
        "__pub_pid".into(),
        Value::Int(i64::from(std::process::id())),
    );
    kwargs.insert("__pub_jid".into(), gen_jid().into());
    kwargs.insert("__pub_tgt".into(), "salt-call".into());
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
