//! `salt-run drift.report [count=10] [minion='*']`: the drift repairs kept in the
//! master's job cache (a Halite extension; see [`run`]).

use super::{bind, invalid_arguments, start_time};
use crate::master_cli::emit;
use halite_core::config::MasterConfig;
use halite_core::{Map, Value};
use halite_master::jobcache::JobCache;
use halite_output::OutputOptions;
use halite_target::Glob;
use std::collections::BTreeMap;

/// The runner's parameters, in order.
const PARAMS: [&str; 2] = ["count", "minion"];

/// The function a minion's drift repair is stored under.
const REPAIR_FUN: &str = "drift.repair";

/// The usage text shown after `Passed invalid arguments`.
const USAGE: &str = "
    Report the drift repairs in the master's job cache (a Halite extension).

    :param count: the most repairs shown per minion, newest first (default 10).
    :param minion: a glob on the minion ids (default '*').
";

/// The overall `result` of the states a repair re-ran: `False` if one failed, else
/// `None` if one would change (test mode), else `True`.
fn overall_result(chunks: &[(&Value, &Map)]) -> Value {
    let results: Vec<&Value> = chunks
        .iter()
        .map(|(_, c)| c.get("result").unwrap_or(&Value::Null))
        .collect();
    if results.iter().any(|r| matches!(r, Value::Bool(false))) {
        Value::Bool(false)
    } else if results.iter().any(|r| r.is_null()) {
        Value::Null
    } else {
        Value::Bool(true)
    }
}

/// A highstate-shaped return's chunks in run order (`__run_num__`), or `None` when the
/// return is something else (an error string, a list of render errors).
fn chunks(ret: &Value) -> Option<Vec<(&Value, &Map)>> {
    let Value::Map(m) = ret else {
        return None;
    };
    let mut out = m
        .iter()
        .map(|(tag, c)| c.as_map().map(|c| (tag, c)))
        .collect::<Option<Vec<_>>>()?;
    let run_num = |c: &Map| match c.get("__run_num__") {
        Some(Value::Int(n)) => *n,
        _ => i64::MAX,
    };
    out.sort_by_key(|(_, c)| run_num(c));
    Some(out)
}

/// `(result, comment, changes)` of one repair: the overall result, the comment of the
/// drifted state (`root`, else the first that ran), and the changes of every state that
/// changed something, keyed by state tag in run order.
fn summarize(root: &Value, ret: &Value) -> (Value, Value, Value) {
    let Some(chunks) = chunks(ret) else {
        return (Value::Bool(false), ret.clone(), Value::Map(Map::default()));
    };
    let comment = chunks
        .iter()
        .find(|(tag, _)| *tag == root)
        .or(chunks.first())
        .and_then(|(_, c)| c.get("comment").cloned())
        .unwrap_or_else(|| Value::from(""));
    let changes: Map = chunks
        .iter()
        .filter_map(|(tag, c)| {
            let ch = c.get("changes")?;
            ch.is_truthy().then(|| ((*tag).clone(), ch.clone()))
        })
        .collect();
    (overall_result(&chunks), comment, Value::Map(changes))
}

/// One repair as reported: `{jid, time, state, result, comment, changes, trigger}`.
fn entry(jid: &str, load: &Map, ret: &Value) -> Value {
    let state = match load.get("arg") {
        Some(Value::List(a)) => a.first().cloned().unwrap_or(Value::Null),
        _ => Value::Null,
    };
    let (result, comment, changes) = summarize(&state, ret);
    let trigger = load
        .get("metadata")
        .and_then(|m| m.get("drift"))
        .cloned()
        .unwrap_or(Value::Null);
    let pairs = [
        ("jid", Value::from(jid)),
        ("time", Value::from(start_time(jid))),
        ("state", state),
        ("result", result),
        ("comment", comment),
        ("changes", changes),
        ("trigger", trigger),
    ];
    Value::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

/// The report: minion id (sorted) → its repairs, newest first, at most `count` each,
/// for the minions whose id matches `minion`.
fn report(cache: &JobCache, count: usize, minion: &Glob) -> Map {
    let mut per: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    // Jids are timestamps: the newest job is the last.
    for (jid, load) in cache.jobs().into_iter().rev() {
        if load.get("fun").and_then(Value::as_str) != Some(REPAIR_FUN) {
            continue;
        }
        for (id, ret, _) in cache.returns(&jid) {
            if !minion.is_match(&id) {
                continue;
            }
            let list = per.entry(id).or_default();
            if list.len() < count {
                list.push(entry(&jid, &load, &ret));
            }
        }
    }
    per.into_iter()
        .map(|(id, l)| (id.into(), Value::List(l)))
        .collect()
}

/// `count` as a number of repairs.
fn count_of(v: Option<Value>) -> Result<usize, String> {
    match v {
        None => Ok(10),
        Some(Value::Int(n)) => usize::try_from(n)
            .map_err(|_| format!("drift.report(): count must be 0 or more, not {n}")),
        Some(other) => Err(format!(
            "drift.report(): count must be an integer, not {}",
            other.py_repr()
        )),
    }
}

/// `salt-run drift.report [count=10] [minion='*']` — a **Halite extension** (Salt 3008.5
/// has no `drift` runner): what the minions' drift watch (`drift_watch: true`) repaired.
///
/// A minion stores every repair as a job it started itself, the way Salt's scheduler
/// stores its jobs: a `_return` with `jid: "req"`, `fun: "drift.repair"`, `fun_args:
/// [<state tag>]`, the highstate-shaped return of the states it re-ran, and `metadata:
/// {"drift": <trigger>}`. The master gives it a jid and keeps it in the job cache
/// (`jobs.list_jobs` and `jobs.lookup_jid` show it too). This runner reads the job
/// cache (`<cachedir>/jobs`, Salt's `local_cache` layout) and returns
/// `{<minion>: [{jid, time, state, result, comment, changes, trigger}, ...]}`:
///
/// * minions sorted by id, only those matching the glob `minion`; each one's repairs
///   newest first, at most `count` (default 10);
/// * `time`: the jid as `jobs.list_jobs` shows a `StartTime`; `state`: the drifted
///   state's tag; `trigger`: what the watch saw (`metadata.drift` of the stored load;
///   `None` when the cache has no metadata);
/// * `result`: `False` if a re-run state failed, `None` if one only would have changed
///   something, else `True`; `comment`: the drifted state's comment (or the return
///   itself when it is an error, with `result` `False`); `changes`: `{<state tag>:
///   <changes>}` of every re-run state that changed something, in run order.
///
/// Printed with the nested outputter unless `--out` says otherwise; exit code 0. A call
/// Python would refuse (`count=x`, an unknown keyword) prints `Passed invalid
/// arguments`, as Salt's runners do.
pub(super) fn run(
    cfg: &MasterConfig,
    outputter: &str,
    oo: &OutputOptions,
    args: &[Value],
    kwargs: &Map,
) -> i32 {
    let parsed = bind("report", &PARAMS, args, kwargs).and_then(|[count, minion]| {
        let minion = match minion {
            None => "*".to_string(),
            Some(Value::Str(s)) => s,
            Some(other) => other.py_str(),
        };
        Ok((count_of(count)?, Glob::new(&minion)))
    });
    let (count, minion) = match parsed {
        Ok(p) => p,
        Err(msg) => return invalid_arguments(outputter, oo, &msg, USAGE),
    };
    let cache = JobCache::new(&cfg.path("cachedir"));
    emit(outputter, &Value::Map(report(&cache, count, &minion)), oo);
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(result: Value, comment: &str, changes: Value, run_num: i64) -> Value {
        let pairs = [
            ("result", result),
            ("comment", Value::from(comment)),
            ("changes", changes),
            ("__run_num__", Value::Int(run_num)),
        ];
        Value::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    fn one(k: &str, v: Value) -> Value {
        let mut m = Map::default();
        m.insert(k.into(), v);
        Value::Map(m)
    }

    #[test]
    fn summary_of_a_repair() {
        let root = Value::from("file_|-a_|-/a_|-managed");
        let mut ret = Map::default();
        ret.insert(
            "service_|-s_|-s_|-running".into(),
            chunk(
                Value::Bool(true),
                "restarted",
                one("s", Value::Bool(true)),
                1,
            ),
        );
        ret.insert(
            root.clone(),
            chunk(
                Value::Bool(true),
                "File /a updated",
                one("diff", "x".into()),
                0,
            ),
        );
        let (result, comment, changes) = summarize(&root, &Value::Map(ret));
        assert_eq!(result, Value::Bool(true));
        assert_eq!(comment, Value::from("File /a updated"));
        let keys: Vec<String> = changes
            .as_map()
            .unwrap()
            .keys()
            .map(Value::py_str)
            .collect();
        assert_eq!(
            keys,
            [root.py_str(), "service_|-s_|-s_|-running".to_string()]
        );
    }

    #[test]
    fn failures_and_errors() {
        let root = Value::from("t");
        let mut ret = Map::default();
        ret.insert(
            "t".into(),
            chunk(
                Value::Bool(false),
                "no source",
                Value::Map(Map::default()),
                0,
            ),
        );
        let (result, comment, changes) = summarize(&root, &Value::Map(ret));
        assert_eq!(result, Value::Bool(false));
        assert_eq!(comment, Value::from("no source"));
        assert_eq!(changes, Value::Map(Map::default()));
        let err = Value::List(vec!["Rendering SLS failed".into()]);
        assert_eq!(summarize(&root, &err).0, Value::Bool(false));
        assert_eq!(summarize(&root, &err).1, err);
    }

    #[test]
    fn count_must_be_a_count() {
        assert_eq!(count_of(None), Ok(10));
        assert_eq!(count_of(Some(Value::Int(0))), Ok(0));
        assert!(count_of(Some(Value::Int(-1))).is_err());
        assert!(count_of(Some(Value::from("x"))).is_err());
    }
}
