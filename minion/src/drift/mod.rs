//! Drift watch (a Halite extension, minion config `drift_watch: true`, default false): after
//! a state run the daemon watches what the applied low chunks manage — files through
//! inotify on their parent directories ([`files`]), systemd units through D-Bus signals
//! ([`units`]), packages through dpkg's status file ([`packages`]) — and when one drifts,
//! re-runs that chunk and the chunks that depend on it through change-propagating
//! requisites, then tells the master (`salt/minion/<id>/drift`, an inotify-beacon-shaped
//! event, and a `drift.repair` return in its job cache).
//!
//! * A watch only wakes a probe ([`fingerprint`]): a repair runs only when the resource
//!   differs from its fingerprint taken right after the apply, so the engine's own writes
//!   and restarts never loop.
//! * Notifications are debounced per resource ([`debounce`], `drift_debounce_ms`, 200 ms:
//!   a lone change is checked at once, what follows a check waits for a quiet window);
//!   a periodic full check (`drift_full_check_interval`, 3600 s, 0 = off) probes
//!   everything; failed repairs are retried with a capped exponential back-off
//!   (`drift_retry_min` 1 s, `drift_retry_max` 300 s), see [`repair`].
//! * The set a state run applied is handed to the engine when its job ends ([`Drift::install`]):
//!   a highstate replaces the watched set, `state.apply <mods>` / `state.sls` add to it.
//!   Repairs wait while a `state.*` job runs ([`Drift::job_started`]), so Salt's own
//!   conflict answers are unchanged.
//! * With `drift_watch` false, nothing of this exists: no thread, no watch, no option key,
//!   no `drift.*` function, no event.

pub mod debounce;
mod engine;
pub mod files;
pub mod fingerprint;
pub mod packages;
pub mod persist;
pub mod repair;
pub mod units;

use crate::context::Minion;
use fingerprint::{Fingerprint, Resource};
use halite_core::config::MinionConfig;
use halite_core::{Error, Map, Result, Value};
use halite_states::{Plan, Running};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// The drift engine's settings (Halite extension keys, read with defaults and kept out of
/// the options map, so `opts` and `config.get` stay Salt's).
#[derive(Debug, Clone, PartialEq)]
pub struct DriftConfig {
    /// `drift_debounce_ms`: a lone change is probed at once; the notifications after a
    /// probe wait until the resource has been quiet this long.
    pub debounce: Duration,
    /// `drift_full_check_interval` (seconds, at least 1; 0 turns it off): probe everything
    /// this often.
    pub full_check: Option<Duration>,
    /// `drift_etcd_check_interval` (seconds, at least 1; 0 leaves them to the full check):
    /// how often
    /// the etcd memberships kept by `etcd.member_present` / `member_absent` are asked of
    /// the cluster (etcd has no local file to watch for them).
    pub etcd_check: Option<Duration>,
    /// `drift_retry_min` (seconds): the first retry after a failed repair.
    pub retry_min: Duration,
    /// `drift_retry_max` (seconds): the longest wait between retries.
    pub retry_max: Duration,
    /// `drift_beacon_events`: also fire the inotify-beacon-shaped event for files.
    pub beacon_events: bool,
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            debounce: Duration::from_millis(200),
            full_check: Some(Duration::from_secs(3600)),
            etcd_check: Some(Duration::from_secs(60)),
            retry_min: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
            beacon_events: true,
        }
    }
}

/// A number of seconds (int, float or numeric string) from an option.
fn seconds(opts: &Map, key: &str) -> Option<f64> {
    match opts.get(key)? {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|v: &f64| v.is_finite() && *v >= 0.0)
}

impl DriftConfig {
    /// The settings from the minion options; missing or invalid values take the defaults.
    pub fn from_opts(opts: &Map) -> DriftConfig {
        let d = DriftConfig::default();
        let secs = |s: f64| Duration::from_secs_f64(s.min(86_400.0 * 365.0));
        let retry_min = seconds(opts, "drift_retry_min")
            .filter(|s| *s > 0.0)
            .map_or(d.retry_min, secs);
        DriftConfig {
            debounce: seconds(opts, "drift_debounce_ms").map_or(d.debounce, |ms| secs(ms / 1000.0)),
            full_check: match seconds(opts, "drift_full_check_interval") {
                Some(0.0) => None,
                Some(s) => Some(secs(s.max(1.0))),
                None => d.full_check,
            },
            etcd_check: match seconds(opts, "drift_etcd_check_interval") {
                Some(0.0) => None,
                Some(s) => Some(secs(s.max(1.0))),
                None => d.etcd_check,
            },
            retry_min,
            retry_max: seconds(opts, "drift_retry_max")
                .map_or(d.retry_max, secs)
                .max(retry_min),
            beacon_events: opts.get("drift_beacon_events").is_none_or(Value::is_truthy),
        }
    }
}

/// Which state run applied a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `state.highstate` / `state.apply` without mods: replaces the watched set.
    Highstate,
    /// `state.sls` / `state.apply <mods>`: its chunks replace the watched ones with the
    /// same tag, the rest stays.
    Sls {
        /// The saltenv.
        saltenv: String,
        /// The SLS names.
        mods: Vec<String>,
    },
}

/// One chunk of an applied plan the engine watches.
#[derive(Debug, Clone)]
pub struct Watch {
    /// Its index in the plan's chunks.
    pub idx: usize,
    /// Its state tag (`file_|-id_|-name_|-managed`).
    pub tag: String,
    /// What it manages, with the fingerprints taken right after the apply.
    pub resources: Vec<(Resource, Fingerprint)>,
}

/// What one state run applied: the plan as compiled, the running dict, and the chunks to
/// watch (the ones that succeeded and manage a watchable resource, handlers excluded).
#[derive(Debug, Clone)]
pub struct Applied {
    /// The state run it comes from.
    pub source: Source,
    /// Its high data before compilation (kept on disk: a restarted minion compiles it
    /// again, see [`persist`]).
    pub high: Map,
    /// The job's `saltenv` and `pillarenv` options, for a restored context.
    pub envs: persist::Envs,
    /// Can a restarted minion rebuild its context? Not when the job had a `pillar=`
    /// override (the pillar it saw is not kept on disk).
    pub keepable: bool,
    /// The compiled plan (before the runner's own changes to its copy).
    pub plan: Plan,
    /// The running dict of the apply.
    pub running: Running,
    /// The chunks to watch.
    pub watches: Vec<Watch>,
}

/// The requisites that make a chunk a handler (it runs only when another state tells it
/// to): such chunks are re-run as dependents, never watched themselves.
const HANDLER_KEYS: &[&str] = &[
    "onchanges",
    "onchanges_any",
    "onfail",
    "onfail_any",
    "onfail_all",
    "prereq",
    "prereq_any",
];

/// Is the chunk's return in `running` a success that really ran?
fn succeeded(running: &Running, tag: &str) -> bool {
    running.get(tag).is_some_and(|r| {
        r.get("result") == Some(&Value::Bool(true))
            && r.get("__state_ran__") != Some(&Value::Bool(false))
    })
}

/// The chunks of `plan` to watch after a run that returned `running`, with their
/// fingerprints taken now. A resource that cannot be probed is left out (and logged).
pub fn watches(plan: &Plan, running: &Running) -> Vec<Watch> {
    let mut out = Vec::new();
    let mut db = packages::StatusDb::default();
    for &idx in &plan.order {
        let Some(chunk) = plan.chunks.get(idx) else {
            continue;
        };
        let tag = plan.graph.tag(idx).to_string();
        if HANDLER_KEYS.iter().any(|k| chunk.contains_key(*k)) || !succeeded(running, &tag) {
            continue;
        }
        let mut resources = Vec::new();
        for res in fingerprint::resources(chunk) {
            match repair::probe(&res, &mut db) {
                Ok(p) => resources.push((res, p.fingerprint)),
                Err(e) => tracing::warn!(state = %tag, "drift: not watched: {e}"),
            }
        }
        if !resources.is_empty() {
            out.push(Watch {
                idx,
                tag,
                resources,
            });
        }
    }
    out
}

/// Record what a state run applied, in the run's context, for the daemon to hand to the
/// engine once the job ends. Does nothing unless the context has a drift engine (the
/// daemon with `drift_watch: true`) and the run was not a test run.
pub fn record(m: &Minion, source: Source, high: Map, plan: Plan, running: &Running, test: bool) {
    if test || m.drift().is_none() || !m.cfg.flag("drift_watch") {
        return;
    }
    let watches = watches(&plan, running);
    let opt = |k: &str| {
        m.cfg
            .opts
            .get(k)
            .filter(|v| !v.is_null())
            .map(Value::py_str)
    };
    m.record_applied(Applied {
        source,
        high,
        envs: persist::Envs {
            saltenv: opt("saltenv"),
            pillarenv: opt("pillarenv"),
        },
        keepable: !pillar_overridden(m),
        plan,
        running: running.clone(),
        watches,
    });
}

/// With `drift_watch` off, a watched set kept by an earlier run with it on is stale (state
/// runs since were not recorded): remove it and a left-over pause marker, so turning the
/// watch on again starts from the next state run, never from an old one.
pub fn forget_kept(cfg: &MinionConfig) {
    let Some(cachedir) = cfg.str("cachedir").filter(|c| !c.is_empty()) else {
        return;
    };
    let cachedir = std::path::Path::new(cachedir);
    for path in [persist::path(cachedir), persist::pause_path(cachedir)] {
        match std::fs::remove_file(&path) {
            Ok(()) => tracing::info!("drift: drift_watch is off; removed {}", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!("drift: cannot remove {}: {e}", path.display()),
        }
    }
}

/// The watches of a kept state run: each kept tag found in `plan`, its resources with the
/// fingerprints they had (a tag whose resources no longer line up is left out).
fn kept_watches(plan: &Plan, kept: &[(String, Vec<(String, Fingerprint)>)]) -> Vec<Watch> {
    let by_tag: std::collections::HashMap<&str, usize> = plan
        .order
        .iter()
        .map(|&idx| (plan.graph.tag(idx), idx))
        .collect();
    let mut out = Vec::new();
    for (tag, fps) in kept {
        let Some(&idx) = by_tag.get(tag.as_str()) else {
            tracing::warn!(state = %tag, "drift: a kept state is not in its plan any more");
            continue;
        };
        let Some(chunk) = plan.chunks.get(idx) else {
            continue;
        };
        let resources = fingerprint::resources(chunk);
        let same = resources.len() == fps.len()
            && resources
                .iter()
                .zip(fps)
                .all(|(r, (key, _))| persist::resource_key(r) == *key);
        if !same {
            tracing::warn!(state = %tag, "drift: a kept state manages other resources now");
            continue;
        }
        out.push(Watch {
            idx,
            tag: tag.clone(),
            resources: resources
                .into_iter()
                .zip(fps.iter().map(|(_, fp)| fp.clone()))
                .collect(),
        });
    }
    out
}

/// Did the job pass a `pillar=` override (a `__kwarg__` map of its `arg` with `pillar`)?
fn pillar_overridden(m: &Minion) -> bool {
    m.job()
        .and_then(|j| j.get("arg"))
        .and_then(Value::as_list)
        .is_some_and(|args| {
            args.iter().filter_map(Value::as_map).any(|kw| {
                kw.get("__kwarg__").is_some_and(Value::is_truthy)
                    && kw.get("pillar").is_some_and(|p| !p.is_null())
            })
        })
}

/// Where the engine's reports go (the daemon's channel to the master).
pub trait Sink: Send + Sync {
    /// The minion id.
    fn minion_id(&self) -> String;
    /// Fire events to the master in one `_minion_event`: (tag, data, beacon name).
    fn fire_events(&self, events: &[(String, Value, Option<String>)]);
    /// Store a minion-initiated job in the master's job cache (`_return` with jid `req`).
    fn store_return(&self, r: crate::daemon::JobReturn);
}

impl Sink for crate::daemon::Daemon {
    fn minion_id(&self) -> String {
        self.chan.id.clone()
    }

    fn fire_events(&self, events: &[(String, Value, Option<String>)]) {
        if let Err(e) = self.fire_master_events(events) {
            tracing::warn!("drift: {e}");
        }
    }

    fn store_return(&self, r: crate::daemon::JobReturn) {
        self.return_req(r);
    }
}

/// What the engine thread receives.
pub(crate) enum Msg {
    /// A state run's applied set.
    Install(Box<(Arc<Minion>, Applied)>),
    /// A batch of inotify events.
    Fs(Vec<files::FsEvent>),
    /// A unit signal.
    Unit(units::UnitEvent),
    /// `drift.resume`.
    Resume,
}

/// The engine's answers to `drift.status`, kept up to date by the engine thread.
#[derive(Debug, Clone, Default)]
pub(crate) struct Status {
    /// Watched resources by kind: files, services, packages, etcd members.
    pub watched: [usize; 4],
    /// Resources waiting for their debounce window, a job, or `drift.resume`.
    pub pending: usize,
    /// `{state, attempt, next_retry}` of the failing repairs.
    pub failing: Vec<Value>,
    /// The latest repair: `{time, states, success, attempt}`.
    pub last_repair: Value,
    /// When the last full check ran.
    pub last_full_check: Value,
}

/// The drift engine's handle, shared by the daemon, its jobs and the engine thread.
pub struct Drift {
    cfg: DriftConfig,
    /// Where the watched set is kept for a restart (`<cachedir>/drift/watched.p`).
    kept: Option<std::path::PathBuf>,
    /// The marker of `drift.pause` (`<cachedir>/drift/paused`).
    pause_file: Option<std::path::PathBuf>,
    /// Whom the kept set belongs to (minion id, master).
    who: persist::Identity,
    tx: Mutex<Sender<Msg>>,
    rx: Mutex<Option<Receiver<Msg>>>,
    paused: AtomicBool,
    active_jobs: AtomicUsize,
    run_lock: Mutex<()>,
    status: Mutex<Status>,
}

/// Marks a `state.*` job as running until dropped (repairs wait meanwhile).
pub struct JobGuard {
    drift: Arc<Drift>,
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        self.drift.active_jobs.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Drift {
    /// The engine's handle when the minion config has `drift_watch: true`, else `None`
    /// (and nothing else happens).
    pub fn from_config(cfg: &MinionConfig) -> Option<Arc<Drift>> {
        if !cfg.flag("drift_watch") {
            return None;
        }
        let (tx, rx) = channel();
        let cachedir = cfg
            .str("cachedir")
            .filter(|c| !c.is_empty())
            .map(std::path::Path::new);
        let pause_file = cachedir.map(persist::pause_path);
        let paused = pause_file.as_ref().is_some_and(|p| p.exists());
        if paused {
            tracing::warn!("drift: paused (drift.pause before the restart; drift.resume ends it)");
        }
        Some(Arc::new(Drift {
            cfg: DriftConfig::from_opts(&cfg.opts),
            kept: cachedir.map(persist::path),
            pause_file,
            who: persist::Identity {
                id: cfg.id().to_string(),
                master: cfg
                    .opts
                    .get("master")
                    .map(Value::py_str)
                    .unwrap_or_default(),
            },
            tx: Mutex::new(tx),
            rx: Mutex::new(Some(rx)),
            paused: AtomicBool::new(paused),
            active_jobs: AtomicUsize::new(0),
            run_lock: Mutex::new(()),
            status: Mutex::new(Status::default()),
        }))
    }

    /// The settings.
    pub fn config(&self) -> &DriftConfig {
        &self.cfg
    }

    /// Start the engine thread; reports go to `sink` while it lives. Once only.
    pub fn start(self: &Arc<Self>, sink: Weak<dyn Sink>) -> std::result::Result<(), String> {
        let rx = self
            .rx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or("the drift engine is already running")?;
        let tx = self.sender();
        let drift = self.clone();
        std::thread::Builder::new()
            .name("drift".into())
            .spawn(move || engine::Engine::new(drift, sink, tx).run(&rx))
            .map(drop)
            .map_err(|e| format!("could not start the drift engine: {e}"))?;
        tracing::info!(
            debounce_ms = self.cfg.debounce.as_millis() as u64,
            full_check_s = self.cfg.full_check.map_or(0, |d| d.as_secs()),
            "drift watch is on"
        );
        Ok(())
    }

    fn sender(&self) -> Sender<Msg> {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn send(&self, msg: Msg) {
        if self.sender().send(msg).is_err() {
            tracing::warn!("drift: the engine is not running");
        }
    }

    /// Hand the set a state run applied (in `minion`'s context) to the engine.
    pub fn install(&self, minion: Arc<Minion>, applied: Applied) {
        tracing::debug!(
            watched = applied.watches.len(),
            source = ?applied.source,
            "drift: a state run's set is handed to the engine"
        );
        self.send(Msg::Install(Box::new((minion, applied))));
    }

    /// Watch again what a previous run of the daemon kept ([`persist`]): each kept state
    /// run's high data is compiled again in the context `context` gives for its
    /// environment options (`None`: no pillar for it), its watches take the fingerprints
    /// they had, and a full check follows at once, so what drifted while the minion was
    /// down is repaired. What cannot be restored (no set, another minion's, a run that no
    /// longer compiles, no pillar, `test: True` now) is logged and left out; the next state
    /// run sets the watch again.
    pub fn restore(&self, context: impl Fn(&persist::Envs) -> Option<Arc<Minion>>) {
        let Some(path) = &self.kept else {
            return;
        };
        let kept = match persist::load(path, &self.who) {
            Ok(kept) => kept,
            Err(e) => {
                tracing::warn!("drift: the kept watched set is not used: {e}");
                return;
            }
        };
        if kept.is_empty() {
            return;
        }
        let mut restored = 0;
        for saved in kept {
            let Some(m) = context(&saved.envs) else {
                tracing::warn!(
                    source = ?saved.source,
                    "drift: a kept state run is not watched: its pillar could not be had"
                );
                continue;
            };
            if crate::exec::state::test_flag(&m, &Map::default()) {
                tracing::warn!(
                    source = ?saved.source,
                    "drift: a kept state run is not watched: state runs are test runs now (test: True)"
                );
                continue;
            }
            let mut high = saved.high.clone();
            let plan = match crate::exec::state::compile_high(&m, &mut high) {
                Ok(plan) => plan,
                Err(errors) => {
                    tracing::warn!(
                        source = ?saved.source,
                        "drift: a kept state run no longer compiles, not watched (and no longer kept): {}",
                        errors.join("; ")
                    );
                    continue;
                }
            };
            let watches = kept_watches(&plan, &saved.fingerprints);
            restored += watches.len();
            self.install(
                m,
                Applied {
                    source: saved.source,
                    high: saved.high,
                    envs: saved.envs,
                    keepable: true,
                    plan,
                    running: saved.running,
                    watches,
                },
            );
        }
        tracing::info!(
            states = restored,
            "drift: watching the set kept before the restart"
        );
        self.send(Msg::Resume);
    }

    /// A `state.*` job starts: repairs wait until the guard is dropped, and a repair in
    /// progress is waited out first.
    pub fn job_started(self: &Arc<Self>) -> JobGuard {
        self.active_jobs.fetch_add(1, Ordering::SeqCst);
        drop(self.run_lock.lock().unwrap_or_else(|p| p.into_inner()));
        JobGuard {
            drift: self.clone(),
        }
    }

    /// Is a `state.*` job running?
    pub(crate) fn jobs_running(&self) -> bool {
        self.active_jobs.load(Ordering::SeqCst) > 0
    }

    /// The lock repairs hold while they run.
    pub(crate) fn run_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.run_lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `drift.pause`: changes are still noticed and kept, nothing is repaired.
    /// The pause outlives a restart (a marker file beside the kept set), so maintenance
    /// is not undone by a minion that restarts meanwhile.
    pub fn pause(&self) -> bool {
        if !self.paused.swap(true, Ordering::SeqCst) {
            tracing::info!("drift: paused");
        }
        if let Some(p) = &self.pause_file {
            if let Err(e) = persist::mark(p) {
                tracing::warn!("drift: the pause will not outlive a restart: {e}");
            }
        }
        true
    }

    /// `drift.resume`: repair again, starting with what changed meanwhile and a full check.
    pub fn resume(&self) -> bool {
        if self.paused.swap(false, Ordering::SeqCst) {
            tracing::info!("drift: resumed");
        }
        if let Some(p) = &self.pause_file {
            match std::fs::remove_file(p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    tracing::warn!("drift: cannot remove {}: {e}", p.display());
                }
                _ => {}
            }
        }
        self.send(Msg::Resume);
        true
    }

    /// Is the engine paused?
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    pub(crate) fn set_status(&self, status: Status) {
        *self.status.lock().unwrap_or_else(|p| p.into_inner()) = status;
    }

    /// `drift.status`: `{paused, watched: {files, services, packages, etcd_members}, pending, failing,
    /// last_repair, last_full_check}`.
    pub fn status(&self) -> Value {
        let s = self
            .status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut watched = Map::default();
        for (k, n) in ["files", "services", "packages", "etcd_members"]
            .iter()
            .zip(s.watched)
        {
            watched.insert((*k).into(), Value::Int(n as i64));
        }
        let mut out = Map::default();
        out.insert("paused".into(), Value::Bool(self.is_paused()));
        out.insert("watched".into(), Value::Map(watched));
        out.insert("pending".into(), Value::Int(s.pending as i64));
        out.insert("failing".into(), Value::List(s.failing));
        out.insert("last_repair".into(), s.last_repair);
        out.insert("last_full_check".into(), s.last_full_check);
        Value::Map(out)
    }
}

/// The `drift.*` execution functions (only present when the daemon runs the engine).
pub const FUNCTIONS: &[&str] = &["drift.pause", "drift.resume", "drift.status"];

/// Run a `drift.*` function against the engine of this run's daemon.
pub fn call(m: &Minion, name: &str) -> Result<Value> {
    let Some(drift) = m.drift() else {
        return Err(Error::NotAvailable(name.to_string()));
    };
    match name {
        "drift.pause" => Ok(Value::Bool(drift.pause())),
        "drift.resume" => Ok(Value::Bool(drift.resume())),
        "drift.status" => Ok(drift.status()),
        _ => Err(Error::NotAvailable(name.to_string())),
    }
}

/// A wall-clock time as `YYYY-MM-DDTHH:MM:SS` (local time), for `drift.status`.
pub(crate) fn local_iso(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as libc::time_t;
    // SAFETY: localtime_r only writes into the `tm` we pass.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe {
        libc::localtime_r(&secs, &mut tm);
    }
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(yaml: &[(&str, Value)]) -> Map {
        yaml.iter()
            .map(|(k, v)| (Value::from(*k), v.clone()))
            .collect()
    }

    #[test]
    fn config_defaults_and_overrides() {
        assert_eq!(
            DriftConfig::from_opts(&Map::default()),
            DriftConfig::default()
        );
        let c = DriftConfig::from_opts(&opts(&[
            ("drift_debounce_ms", Value::Int(50)),
            ("drift_full_check_interval", Value::Int(0)),
            ("drift_retry_min", Value::Float(0.5)),
            ("drift_retry_max", Value::Str("0.1".into())),
            ("drift_beacon_events", Value::Bool(false)),
        ]));
        assert_eq!(c.debounce, Duration::from_millis(50));
        assert_eq!(c.full_check, None);
        assert_eq!(c.retry_min, Duration::from_millis(500));
        assert_eq!(c.retry_max, Duration::from_millis(500), "never below min");
        assert!(!c.beacon_events);
        let bad = DriftConfig::from_opts(&opts(&[("drift_debounce_ms", Value::Int(-5))]));
        assert_eq!(bad.debounce, Duration::from_millis(200));
    }

    /// Compile an SLS text (one file, saltenv base) into a plan.
    fn plan(sls: &str) -> Plan {
        let Ok(Value::Map(mut high)) = halite_render::yaml::load(sls) else {
            panic!("not a mapping");
        };
        for (_, body) in high.iter_mut() {
            if let Value::Map(b) = body {
                b.insert("__sls__".into(), "t".into());
                b.insert("__env__".into(), "base".into());
            }
        }
        let errors = halite_states::high::requisite_in(&mut high);
        assert!(errors.is_empty(), "{errors:?}");
        halite_states::compile(&high, &halite_states::Registry::new()).expect("compiles")
    }

    fn ok(plan: &Plan, failed: &[&str]) -> Running {
        (0..plan.chunks.len())
            .map(|i| {
                let tag = plan.graph.tag(i).to_string();
                let mut r = Map::default();
                let good = !failed.iter().any(|f| tag.contains(f));
                r.insert("result".into(), Value::Bool(good));
                r.insert("changes".into(), Value::map());
                (tag, r)
            })
            .collect()
    }

    #[test]
    fn watched_chunks_and_their_repair_closure() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        for f in ["a", "b", "c", "d", "e"] {
            std::fs::write(dir.path().join(f), f).unwrap();
        }
        // High data as the renderer leaves it: `state: [fun, args...]`.
        let p = plan(&format!(
            "a:\n  file:\n    - managed\n    - name: {d}/a\n\
             handler:\n  cmd:\n    - run\n    - name: echo a changed\n    - onchanges:\n      - file: a\n\
             watcher:\n  cmd:\n    - run\n    - name: echo watch\n    - watch:\n      - file: a\n\
             listener:\n  cmd:\n    - run\n    - name: echo listen\n    - listen:\n      - file: a\n\
             b:\n  file:\n    - managed\n    - name: {d}/b\n    - require:\n      - file: a\n\
             c:\n  file:\n    - managed\n    - name: {d}/c\n\
             d:\n  file:\n    - managed\n    - name: {d}/d\n    - onchanges:\n      - file: a\n\
             e:\n  file:\n    - managed\n    - name: {d}/e\n    - watch_in:\n      - cmd: watcher\n"
        ));
        let idx = |id: &str| {
            (0..p.chunks.len())
                .find(|i| p.chunks[*i].get("__id__") == Some(&Value::from(id)))
                .unwrap()
        };
        // Watched: the files that ran successfully and are not handlers (d is one).
        let running = ok(&p, &["_|-e_|-"]);
        let w = watches(&p, &running);
        let ids: Vec<&str> = w
            .iter()
            .map(|w| {
                p.chunks[w.idx]
                    .get("__id__")
                    .and_then(Value::as_str)
                    .unwrap()
            })
            .collect();
        assert_eq!(ids, ["a", "b", "c"], "e failed, d is a handler");
        assert!(matches!(
            w[0].resources.as_slice(),
            [(Resource::Path(_), Fingerprint::File { .. })]
        ));
        // Re-running a: its handlers and watchers, never what only requires it.
        let closure = halite_states::runtime::closure(&p, &[idx("a")]);
        let mut got: Vec<&str> = closure
            .iter()
            .map(|i| p.chunks[*i].get("__id__").and_then(Value::as_str).unwrap())
            .collect();
        let in_plan_order: Vec<usize> = p
            .order
            .iter()
            .copied()
            .filter(|i| closure.contains(i))
            .collect();
        assert_eq!(closure, in_plan_order);
        got.sort_unstable();
        assert_eq!(got, ["a", "d", "handler", "listener", "watcher"]);
        // An unrelated file is its own closure.
        assert_eq!(
            halite_states::runtime::closure(&p, &[idx("c")]),
            vec![idx("c")]
        );
    }

    #[test]
    fn no_engine_without_drift_watch() {
        let mut cfg = MinionConfig {
            opts: Map::default(),
            unknown_keys: Vec::new(),
        };
        assert!(Drift::from_config(&cfg).is_none());
        cfg.opts.insert("drift_watch".into(), Value::Bool(true));
        assert!(Drift::from_config(&cfg).is_some());
    }
}
