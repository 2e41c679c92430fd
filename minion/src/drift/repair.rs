//! Repairs: probe a resource, re-run the drifted chunks and their change-propagating
//! dependents through the states runtime ([`halite_states::Runner::run_closure`]), and
//! report what ran — one typed [`Repaired`] that logs and fires the master's events from
//! one place. Failed repairs are retried with a capped exponential back-off, and a state
//! that keeps drifting right after each repair is slowed down the same way: the engine
//! never hot-loops.

use super::debounce::{Pending, Via};
use super::fingerprint::{path_fingerprint, Fingerprint, Resource};
use super::packages::StatusDb;
use super::{files, units, DriftConfig, Sink};
use crate::context::Minion;
use halite_core::{Map, Value};
use halite_states::{Plan, Runner, Running};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Successful repairs of one state within [`FLAP_WINDOW`] before it is slowed down.
const FLAP_LIMIT: usize = 8;
/// The window [`FLAP_LIMIT`] counts in.
const FLAP_WINDOW: Duration = Duration::from_secs(60);
/// The retcode of a repair in which a state failed (Salt's `EX_STATE_FAILURE`).
const EX_STATE_FAILURE: i64 = 2;

/// What a probe saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probed {
    /// The resource's fingerprint now.
    pub fingerprint: Fingerprint,
    /// False while a unit is in transition: look again after one more window.
    pub settled: bool,
}

/// Probe one resource (`db`: one read of dpkg's status file per round).
pub fn probe(res: &Resource, db: &mut StatusDb) -> Result<Probed, String> {
    let (fingerprint, settled) = match res {
        Resource::Path(p) => (path_fingerprint(p)?, true),
        Resource::Unit(u) => {
            let (fp, moving) = units::probe(u)?;
            (fp, !moving)
        }
        Resource::Package(name) => (db.probe(name)?, true),
        Resource::Etcd(m) => (Fingerprint::Etcd(m.probe()?), true),
    };
    Ok(Probed {
        fingerprint,
        settled,
    })
}

/// The wait before attempt `n + 1` after `n` failures (or flaps): `min × 2^(n-1)`, capped at
/// `max`, with `jitter` (−1..1) spreading it by ±10 %.
pub fn backoff(cfg: &DriftConfig, n: u32, jitter: f64) -> Duration {
    let exp = n.saturating_sub(1).min(30);
    let base = cfg
        .retry_min
        .saturating_mul(1u32 << exp)
        .min(cfg.retry_max)
        .as_secs_f64();
    let spread = base * (1.0 + 0.1 * jitter.clamp(-1.0, 1.0));
    Duration::from_secs_f64(spread.min(cfg.retry_max.as_secs_f64()).max(0.0))
}

/// A jitter in −1..1 from the kernel's random bytes.
pub fn jitter() -> f64 {
    let b = halite_proto::crypto::random_bytes(2);
    let n = u16::from_le_bytes([b[0], b[1]]);
    f64::from(n) / f64::from(u16::MAX) * 2.0 - 1.0
}

/// The repair history of one state: failures in a row, recent repairs, and when it may run
/// again.
#[derive(Debug, Clone, Default)]
pub struct RetryState {
    /// Failed attempts in a row.
    pub failures: u32,
    /// When it was repaired (successfully or not) within the flap window.
    pub recent: VecDeque<Instant>,
    /// No repair before this.
    pub not_before: Option<Instant>,
    /// Re-run it at `not_before` even if its resources look fine (a failed repair, or a
    /// drift that came while it had to wait).
    pub forced: bool,
}

impl RetryState {
    /// The attempt a repair now would be.
    pub fn attempt(&self) -> u32 {
        self.failures + 1
    }

    /// May it run at `now`?
    pub fn ready(&self, now: Instant) -> bool {
        self.not_before.is_none_or(|t| t <= now)
    }

    /// Record a repair at `now`; `jitter` in −1..1.
    pub fn repaired(&mut self, cfg: &DriftConfig, now: Instant, success: bool, jitter: f64) {
        self.recent.push_back(now);
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > FLAP_WINDOW)
        {
            self.recent.pop_front();
        }
        if success {
            self.failures = 0;
            self.forced = false;
            self.not_before = (self.recent.len() >= FLAP_LIMIT).then(|| {
                let flaps = (self.recent.len() + 1 - FLAP_LIMIT) as u32;
                now + backoff(cfg, flaps, jitter)
            });
        } else {
            self.failures += 1;
            self.forced = true;
            self.not_before = Some(now + backoff(cfg, self.failures, jitter));
        }
    }

    /// Nothing to remember any more at `now`.
    pub fn idle(&self, now: Instant) -> bool {
        self.failures == 0
            && !self.forced
            && self.ready(now)
            && self
                .recent
                .back()
                .is_none_or(|t| now.duration_since(*t) > FLAP_WINDOW)
    }
}

/// Re-run `roots` of `plan` (and their change-propagating dependents) in `minion`'s
/// context, the other requisites met as `applied` says. A panic of a state function is a
/// failed return of the roots, never a dead engine.
pub fn rerun(minion: &Arc<Minion>, plan: &Plan, applied: &Running, roots: &[usize]) -> Running {
    let run = || {
        let mut opts = minion.opts().clone();
        opts.insert("test".into(), Value::Bool(false));
        let functions = minion.functions();
        let runner = Runner::new(
            &minion.registry,
            functions.as_ref(),
            &opts,
            plan.clone(),
            false,
        );
        runner.run_closure(roots, applied)
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_string()))
                .unwrap_or_else(|| "panic".into());
            tracing::error!("drift: a repair panicked: {msg}");
            roots
                .iter()
                .map(|&i| {
                    let mut r = Map::default();
                    r.insert("result".into(), Value::Bool(false));
                    r.insert(
                        "comment".into(),
                        format!("The state caused an exception: {msg}").into(),
                    );
                    r.insert("changes".into(), Value::map());
                    (plan.graph.tag(i).to_string(), r)
                })
                .collect()
        }
    }
}

/// Did every state of a re-run succeed, and which changed something?
pub fn outcome(ret: &Running) -> (bool, Vec<String>) {
    let success = ret
        .values()
        .all(|r| r.get("result") != Some(&Value::Bool(false)));
    let changed = ret
        .iter()
        .filter(|(_, r)| r.get("changes").is_some_and(Value::is_truthy))
        .map(|(t, _)| t.clone())
        .collect();
    (success, changed)
}

/// One drifted resource of a repair: what it is and what was noticed.
#[derive(Debug, Clone)]
pub struct Drifted {
    /// The resource.
    pub resource: Resource,
    /// The notifications that led to the probe.
    pub pending: Pending,
}

impl Drifted {
    /// The event's `trigger` for this resource: `{kind, path|name, change, events[, via]}`.
    pub fn trigger(&self) -> Value {
        let mut t = Map::default();
        t.insert("kind".into(), self.resource.kind().into());
        match &self.resource {
            Resource::Path(p) => {
                t.insert("path".into(), p.display().to_string().into());
                t.insert(
                    "change".into(),
                    if self.pending.mask != 0 {
                        files::mask_name(self.pending.mask).into()
                    } else {
                        Value::Null
                    },
                );
            }
            other => {
                t.insert("name".into(), other.label().into());
            }
        }
        t.insert("events".into(), Value::Int(self.pending.count as i64));
        if self.pending.via != Via::Watch {
            t.insert("via".into(), self.pending.via.name().into());
        }
        Value::Map(t)
    }

    /// The inotify beacon's `(path, change)` for a file with notifications.
    pub fn beacon(&self) -> Option<(String, String)> {
        match &self.resource {
            Resource::Path(p) if self.pending.mask != 0 => {
                Some((p.display().to_string(), files::mask_name(self.pending.mask)))
            }
            _ => None,
        }
    }
}

/// One repair: logged and reported to the master from one place ([`Repaired::emit`]).
#[derive(Debug, Clone)]
pub struct Repaired {
    /// The minion id.
    pub minion: String,
    /// The tags of the drifted states (the `fun_args` of `drift.repair`).
    pub roots: Vec<String>,
    /// What drifted.
    pub drifted: Vec<Drifted>,
    /// Which attempt this is (1 unless earlier attempts failed).
    pub attempt: u32,
    /// Did every state that ran succeed?
    pub success: bool,
    /// The states that changed something.
    pub changed: Vec<String>,
    /// What ran, as a state run returns it.
    pub ret: Running,
    /// How long the re-run took.
    pub duration: Duration,
}

impl Repaired {
    /// The repair's retcode (0, or 2 when a state failed).
    pub fn retcode(&self) -> i64 {
        if self.success {
            0
        } else {
            EX_STATE_FAILURE
        }
    }

    /// The `trigger`: the drifted resource's, or `{kind: batch, triggers}` for several.
    pub fn trigger(&self) -> Value {
        match self.drifted.as_slice() {
            [one] => one.trigger(),
            many => {
                let mut t = Map::default();
                t.insert("kind".into(), "batch".into());
                t.insert(
                    "triggers".into(),
                    Value::List(many.iter().map(Drifted::trigger).collect()),
                );
                Value::Map(t)
            }
        }
    }

    /// The return, highstate-shaped (tag → state return).
    pub fn return_value(&self) -> Value {
        Value::Map(
            self.ret
                .iter()
                .map(|(t, r)| (Value::Str(t.clone()), Value::Map(r.clone())))
                .collect(),
        )
    }

    fn fun_args(&self) -> Value {
        Value::List(self.roots.iter().map(|t| Value::Str(t.clone())).collect())
    }

    fn metadata(&self) -> Value {
        let mut m = Map::default();
        m.insert("drift".into(), self.trigger());
        Value::Map(m)
    }

    /// The data of `salt/minion/<id>/drift`: the `_return` load of the repair without
    /// `cmd`, plus `attempt` and `trigger`.
    pub fn event_data(&self) -> Value {
        let mut d = Map::default();
        d.insert("id".into(), self.minion.clone().into());
        d.insert("success".into(), Value::Bool(self.success));
        d.insert("return".into(), self.return_value());
        d.insert("retcode".into(), Value::Int(self.retcode()));
        d.insert("jid".into(), "req".into());
        d.insert("fun".into(), "drift.repair".into());
        d.insert("fun_args".into(), self.fun_args());
        d.insert("out".into(), "highstate".into());
        d.insert("metadata".into(), self.metadata());
        d.insert("attempt".into(), Value::Int(i64::from(self.attempt)));
        d.insert("trigger".into(), self.trigger());
        Value::Map(d)
    }

    /// The events of one `_minion_event`: the drift event, then (with `beacons`) one
    /// inotify-beacon-shaped event per drifted file, as Salt's beacon would fire it had
    /// it watched the file (`salt/beacon/<id>/inotify/<path>`, `{path, change, id}`).
    pub fn events(&self, beacons: bool) -> Vec<(String, Value, Option<String>)> {
        let mut out = vec![(
            format!("salt/minion/{}/drift", self.minion),
            self.event_data(),
            None,
        )];
        if beacons {
            for (path, change) in self.drifted.iter().filter_map(Drifted::beacon) {
                let mut d = Map::default();
                d.insert("path".into(), path.clone().into());
                d.insert("change".into(), change.into());
                d.insert("id".into(), self.minion.clone().into());
                out.push((
                    format!("salt/beacon/{}/inotify/{path}", self.minion),
                    Value::Map(d),
                    Some("inotify".into()),
                ));
            }
        }
        out
    }

    /// Log the repair.
    pub fn log(&self) {
        let trigger = self.trigger().py_repr();
        let ms = (self.duration.as_secs_f64() * 10_000.0).round() / 10.0;
        if self.success {
            tracing::info!(
                minion = %self.minion,
                states = ?self.roots,
                changed = ?self.changed,
                attempt = self.attempt,
                duration_ms = ms,
                trigger = %trigger,
                "drift repaired"
            );
        } else {
            tracing::warn!(
                minion = %self.minion,
                states = ?self.roots,
                changed = ?self.changed,
                attempt = self.attempt,
                duration_ms = ms,
                trigger = %trigger,
                "drift repair failed"
            );
        }
    }

    /// Log the repair, fire its events and store it in the master's job cache
    /// (`drift.repair`, jid `req`).
    pub fn emit(&self, sink: &dyn Sink, beacons: bool) {
        self.log();
        sink.fire_events(&self.events(beacons));
        let mut extra = Map::default();
        extra.insert("metadata".into(), self.metadata());
        sink.store_return(crate::daemon::JobReturn {
            jid: "req".into(),
            fun: "drift.repair".into(),
            fun_args: self.fun_args(),
            ret: self.return_value(),
            retcode: self.retcode(),
            success: self.success,
            out: "highstate".into(),
            extra,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> DriftConfig {
        DriftConfig::default()
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let c = cfg();
        assert_eq!(backoff(&c, 1, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(&c, 2, 0.0), Duration::from_secs(2));
        assert_eq!(backoff(&c, 5, 0.0), Duration::from_secs(16));
        assert_eq!(backoff(&c, 20, 0.0), Duration::from_secs(300));
        assert_eq!(backoff(&c, 200, 1.0), Duration::from_secs(300), "cap wins");
        let j = backoff(&c, 3, 1.0).as_secs_f64();
        assert!((j - 4.4).abs() < 1e-9, "{j}");
        let j = backoff(&c, 3, -1.0).as_secs_f64();
        assert!((j - 3.6).abs() < 1e-9, "{j}");
        for _ in 0..100 {
            let x = jitter();
            assert!((-1.0..=1.0).contains(&x));
        }
    }

    #[test]
    fn failures_back_off_and_success_resets() {
        let c = cfg();
        let t0 = Instant::now();
        let mut r = RetryState::default();
        assert!(r.ready(t0));
        assert_eq!(r.attempt(), 1);
        r.repaired(&c, t0, false, 0.0);
        assert_eq!(r.attempt(), 2);
        assert!(r.forced);
        assert!(!r.ready(t0 + Duration::from_millis(999)));
        assert!(r.ready(t0 + Duration::from_secs(1)));
        r.repaired(&c, t0 + Duration::from_secs(1), false, 0.0);
        assert_eq!(r.not_before, Some(t0 + Duration::from_secs(3)));
        r.repaired(&c, t0 + Duration::from_secs(3), true, 0.0);
        assert_eq!((r.failures, r.forced, r.not_before), (0, false, None));
        assert!(!r.idle(t0 + Duration::from_secs(3)));
        assert!(r.idle(t0 + Duration::from_secs(64)));
    }

    #[test]
    fn a_state_that_keeps_drifting_is_slowed_down() {
        let c = cfg();
        let t0 = Instant::now();
        let mut r = RetryState::default();
        let mut t = t0;
        // Repairs every 100 ms: the first FLAP_LIMIT - 1 go at once, then each waits longer.
        let mut waits = Vec::new();
        for _ in 0..12 {
            if let Some(nb) = r.not_before {
                t = t.max(nb);
            }
            r.repaired(&c, t, true, 0.0);
            waits.push(r.not_before.map(|nb| nb - t));
            t += Duration::from_millis(100);
        }
        assert!(waits[..FLAP_LIMIT - 1].iter().all(Option::is_none));
        let slowed: Vec<Duration> = waits[FLAP_LIMIT - 1..].iter().flatten().copied().collect();
        assert_eq!(slowed.len(), 12 - (FLAP_LIMIT - 1));
        assert!(slowed.windows(2).all(|w| w[1] >= w[0]), "{slowed:?}");
        // Within 10 s: no more than a few repairs after the flap limit.
        assert!(t - t0 > Duration::from_secs(10), "{:?}", t - t0);
    }

    fn sample() -> Repaired {
        let mut ret = Running::new();
        let mut r = Map::default();
        r.insert("name".into(), "/srv/app.conf".into());
        r.insert("changes".into(), Value::Map(Map::default()));
        r.insert("result".into(), Value::Bool(true));
        ret.insert("file_|-app_|-/srv/app.conf_|-managed".into(), r);
        Repaired {
            minion: "m1".into(),
            roots: vec!["file_|-app_|-/srv/app.conf_|-managed".into()],
            drifted: vec![Drifted {
                resource: Resource::Path("/srv/app.conf".into()),
                pending: Pending {
                    first: Instant::now(),
                    last: Instant::now(),
                    count: 3,
                    mask: libc::IN_MOVED_TO,
                    via: Via::Watch,
                },
            }],
            attempt: 1,
            success: true,
            changed: vec![],
            ret,
            duration: Duration::from_millis(3),
        }
    }

    #[test]
    fn event_shapes() {
        let r = sample();
        let evs = r.events(true);
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[0].0, "salt/minion/m1/drift");
        assert_eq!(evs[0].2, None);
        let d = evs[0].1.as_map().unwrap();
        let keys: Vec<String> = d.keys().map(Value::py_str).collect();
        assert_eq!(
            keys,
            [
                "id", "success", "return", "retcode", "jid", "fun", "fun_args", "out", "metadata",
                "attempt", "trigger"
            ]
        );
        assert_eq!(d.get("jid"), Some(&Value::from("req")));
        assert_eq!(
            d.get("trigger").unwrap().py_repr(),
            "{'kind': 'file', 'path': '/srv/app.conf', 'change': 'IN_MOVED_TO', 'events': 3}"
        );
        assert_eq!(evs[1].0, "salt/beacon/m1/inotify//srv/app.conf");
        assert_eq!(
            evs[1].1.py_repr(),
            "{'path': '/srv/app.conf', 'change': 'IN_MOVED_TO', 'id': 'm1'}"
        );
        assert_eq!(evs[1].2.as_deref(), Some("inotify"));
        assert_eq!(r.events(false).len(), 1);
    }

    #[test]
    fn outcomes() {
        let mut ret = sample().ret;
        assert_eq!(outcome(&ret), (true, vec![]));
        let mut failed = Map::default();
        failed.insert("result".into(), Value::Bool(false));
        let mut ch = Map::default();
        ch.insert("retcode".into(), Value::Int(1));
        failed.insert("changes".into(), Value::Map(ch));
        ret.insert("cmd_|-h_|-x_|-run".into(), failed);
        assert_eq!(
            outcome(&ret),
            (false, vec!["cmd_|-h_|-x_|-run".to_string()])
        );
    }
}
