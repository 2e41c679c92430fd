//! The minion `schedule:` (Salt's scheduler, interval jobs): each job runs `function` every
//! `seconds`/`minutes`/`hours`/`days` (summed), delayed by a random `splay`; the first run
//! is at start unless `run_on_start: False` (Salt's default for interval jobs); returns go
//! to the master like any job.

use super::Daemon;
use halite_core::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

fn num(v: Option<&Value>) -> f64 {
    match v {
        Some(Value::Int(i)) => *i as f64,
        Some(Value::Float(f)) => *f,
        Some(Value::Str(s)) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// One interval job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Its name.
    pub name: String,
    /// The function.
    pub function: String,
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments.
    pub kwargs: Map,
    /// The interval.
    pub every: Duration,
    /// The maximum random delay added to each run.
    pub splay: Duration,
    /// Run once at start (Salt's default for interval jobs).
    pub run_on_start: bool,
}

/// The interval jobs of a `schedule:` mapping; jobs without a function or interval, or
/// disabled, are skipped with a warning.
pub fn parse(schedule: &Map) -> Vec<Job> {
    let mut out = Vec::new();
    for (name, spec) in schedule {
        let name = name.py_str();
        if name == "enabled" {
            continue;
        }
        let Some(spec) = spec.as_map() else { continue };
        if spec.get("enabled").is_some_and(|v| !v.is_truthy()) {
            continue;
        }
        let Some(function) = spec.get("function").and_then(Value::as_str) else {
            tracing::warn!(job = %name, "schedule job without a function: skipped");
            continue;
        };
        let secs = num(spec.get("seconds"))
            + 60.0 * num(spec.get("minutes"))
            + 3600.0 * num(spec.get("hours"))
            + 86400.0 * num(spec.get("days"));
        if secs <= 0.0 {
            tracing::warn!(job = %name, "schedule job without an interval (cron/when are not available): skipped");
            continue;
        }
        let splay = match spec.get("splay") {
            Some(Value::Map(m)) => num(m.get("end")),
            other => num(other),
        };
        let (Ok(every), Ok(splay)) = (
            Duration::try_from_secs_f64(secs),
            Duration::try_from_secs_f64(splay.max(0.0)),
        ) else {
            tracing::warn!(job = %name, "schedule job with an invalid interval or splay: skipped");
            continue;
        };
        let args = spec
            .get("args")
            .or_else(|| spec.get("arg"))
            .and_then(Value::as_list)
            .cloned()
            .unwrap_or_default();
        let kwargs = spec
            .get("kwargs")
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default();
        out.push(Job {
            name,
            function: function.to_string(),
            args,
            kwargs,
            every,
            splay,
            // Salt runs interval jobs once at start unless told otherwise.
            run_on_start: spec.get("run_on_start").is_none_or(Value::is_truthy),
        });
    }
    out
}

fn splay_of(max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    let r = halite_proto::crypto::random_bytes(8);
    let r = u64::from_le_bytes([r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]]);
    Duration::from_millis(r % (max.as_millis() as u64 + 1))
}

/// Start a thread per scheduled job.
pub fn start(d: &Arc<Daemon>) {
    let Some(Value::Map(sched)) = d.cfg.opts.get("schedule") else {
        return;
    };
    if sched.get("enabled").is_some_and(|v| !v.is_truthy()) {
        return;
    }
    for job in parse(sched) {
        let d = d.clone();
        tracing::info!(job = %job.name, function = %job.function, every = ?job.every, "scheduled");
        let r = std::thread::Builder::new()
            .name(format!("schedule-{}", job.name.replace('\0', "")))
            .spawn(move || {
                let mut first = true;
                loop {
                    if !(first && job.run_on_start) {
                        std::thread::sleep(job.every + splay_of(job.splay));
                    }
                    first = false;
                    let mut arg = job.args.clone();
                    if !job.kwargs.is_empty() {
                        let mut kw = job.kwargs.clone();
                        kw.insert("__kwarg__".into(), Value::Bool(true));
                        arg.push(Value::Map(kw));
                    }
                    tracing::info!(job = %job.name, "running a scheduled job");
                    super::jobs::run_local(&d, &job.function, arg);
                }
            });
        if let Err(e) = r {
            tracing::error!("could not start the scheduler: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_jobs_as_salt_reads_them() {
        let text = "hs:\n  function: state.apply\n  minutes: 1\n  seconds: 30\n  splay: 5\nlater:\n  function: test.ping\n  hours: 1\n  run_on_start: False\nbroken:\n  seconds: 5\ncron_only:\n  function: test.ping\n  cron: '* * * * *'\noff:\n  function: test.ping\n  seconds: 1\n  enabled: False\n";
        let Value::Map(m) = halite_render::yaml::load(text).unwrap() else {
            panic!("not a map")
        };
        let jobs = parse(&m);
        assert_eq!(jobs.len(), 2, "{jobs:?}");
        assert_eq!(jobs[0].every, Duration::from_secs(90));
        assert_eq!(jobs[0].splay, Duration::from_secs(5));
        assert!(jobs[0].run_on_start);
        assert_eq!(jobs[1].every, Duration::from_secs(3600));
        assert!(!jobs[1].run_on_start);
    }
}
