//! The engine thread: the watched set, the watches, the debouncer, the timers (debounce,
//! retries, full check), and the repair rounds. Reports go to a reporter thread, so a slow
//! master never delays a repair.

use super::debounce::{Debouncer, Pending, Via};
use super::files::{FileWatcher, FsEvent};
use super::fingerprint::{describe, Resource};
use super::packages::{self, StatusDb};
use super::persist::{self, Saved};
use super::repair::{self, Drifted, Repaired, RetryState};
use super::units::{self, UnitEvent};
use super::{local_iso, Applied, Drift, Msg, Sink, Source, Status, Watch};
use crate::context::Minion;
use halite_core::{Map, Value};
use halite_states::{Plan, Running};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime};

/// Reports waiting for the master before new ones are dropped (and only logged).
const REPORT_QUEUE: usize = 64;
/// The longest the engine sleeps with nothing to do.
const IDLE: Duration = Duration::from_secs(3600);

/// The chunks one state run applied, in its context.
struct Group {
    minion: Arc<Minion>,
    source: Source,
    high: Map,
    envs: persist::Envs,
    keepable: bool,
    plan: Plan,
    running: Running,
    watches: Vec<Watch>,
}

/// What drifted, per group, per watch.
type Roots = BTreeMap<usize, BTreeMap<usize, Vec<Drifted>>>;

/// Where a resource or a tag is watched: (group, watch).
type Slot = (usize, usize);

/// The engine's state (its thread only).
pub(crate) struct Engine {
    drift: Arc<Drift>,
    tx: Sender<Msg>,
    reports: SyncSender<Repaired>,
    groups: Vec<Group>,
    by_resource: BTreeMap<Resource, Vec<Slot>>,
    by_tag: HashMap<String, Slot>,
    by_unit_path: HashMap<String, Resource>,
    files: Option<FileWatcher>,
    units_started: bool,
    debounce: Debouncer<Resource>,
    held: BTreeMap<Resource, Pending>,
    retries: HashMap<String, RetryState>,
    /// The tags whose retry is due in this round: re-run even if their resources match.
    forcing: HashSet<String>,
    next_full: Option<Instant>,
    /// Counts the sets handed over (a probe round taken before a new set is void).
    generation: u64,
    /// The next full check comes from `drift.resume` or a restore (its trigger says so).
    resumed: bool,
    /// When the polled resources (etcd memberships) are checked next.
    next_poll: Option<Instant>,
    last_full: Value,
    last_repair: Value,
}

/// The reporter thread: emit each repair through the daemon while it lives.
fn start_reporter(sink: Weak<dyn Sink>, beacons: bool) -> SyncSender<Repaired> {
    let (tx, rx) = sync_channel::<Repaired>(REPORT_QUEUE);
    let spawned = std::thread::Builder::new()
        .name("drift-report".into())
        .spawn(move || {
            for r in rx {
                match sink.upgrade() {
                    Some(s) => r.emit(s.as_ref(), beacons),
                    None => r.log(),
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("drift: could not start the reporter thread: {e}; repairs are only logged");
    }
    tx
}

impl Engine {
    /// A new engine; `tx` is the engine's own queue (for the watcher threads).
    pub(crate) fn new(drift: Arc<Drift>, sink: Weak<dyn Sink>, tx: Sender<Msg>) -> Engine {
        let reports = start_reporter(sink, drift.cfg.beacon_events);
        let debounce = Debouncer::new(drift.cfg.debounce);
        Engine {
            drift,
            tx,
            reports,
            groups: Vec::new(),
            by_resource: BTreeMap::new(),
            by_tag: HashMap::new(),
            by_unit_path: HashMap::new(),
            files: None,
            units_started: false,
            debounce,
            held: BTreeMap::new(),
            retries: HashMap::new(),
            forcing: HashSet::new(),
            next_full: None,
            generation: 0,
            resumed: false,
            next_poll: None,
            last_full: Value::Null,
            last_repair: Value::Null,
        }
    }

    /// Run until the queue closes.
    pub(crate) fn run(mut self, rx: &Receiver<Msg>) {
        loop {
            let now = Instant::now();
            let wait = self
                .next_wakeup(now)
                .map_or(IDLE, |t| t.saturating_duration_since(now));
            match rx.recv_timeout(wait) {
                Ok(msg) => self.handle(msg),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            self.tick(rx);
            self.publish_status();
        }
    }

    /// When something is due next.
    fn next_wakeup(&self, now: Instant) -> Option<Instant> {
        let retry = self
            .retries
            .iter()
            .filter(|(tag, r)| r.forced && self.by_tag.contains_key(*tag))
            .filter_map(|(_, r)| r.not_before)
            .min();
        let held = (!self.held.is_empty() && !self.drift.is_paused())
            .then(|| now + self.drift.cfg.debounce);
        [
            self.debounce.next_due(),
            retry,
            self.next_full,
            self.next_poll,
            held,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn handle(&mut self, msg: Msg) {
        let now = Instant::now();
        match msg {
            Msg::Install(b) => {
                let (minion, applied) = *b;
                self.install(minion, applied);
            }
            Msg::Fs(batch) => {
                for ev in batch {
                    self.fs_event(ev, now);
                }
            }
            Msg::Unit(UnitEvent::Changed(path)) => {
                if let Some(res) = self.by_unit_path.get(&path) {
                    self.debounce.note(res.clone(), 0, now);
                }
            }
            Msg::Unit(UnitEvent::All) => {
                let units: Vec<Resource> = self.by_unit_path.values().cloned().collect();
                for res in units {
                    self.debounce.again(res, now);
                }
            }
            Msg::Resume => {
                self.next_full = Some(now);
                self.resumed = true;
            }
        }
    }

    fn fs_event(&mut self, ev: FsEvent, now: Instant) {
        let Some(files) = self.files.as_mut() else {
            return;
        };
        match ev {
            FsEvent::Child { dir, name, mask } => {
                for res in files.lookup(&dir, &name) {
                    self.debounce.note(res, mask, now);
                }
            }
            FsEvent::DirGone(dir) => {
                for res in files.dir_gone(&dir) {
                    place(files, &res);
                    self.debounce.note(res, libc::IN_DELETE_SELF, now);
                }
            }
            FsEvent::Overflow => {
                tracing::warn!("drift: the inotify queue overflowed; checking every file");
                let all: Vec<Resource> = self
                    .by_resource
                    .keys()
                    .filter(|r| r.inotify())
                    .cloned()
                    .collect();
                for res in all {
                    self.debounce.note(res, libc::IN_Q_OVERFLOW, now);
                }
            }
        }
    }

    /// Swap in a state run's set: a highstate replaces everything, an SLS run replaces the
    /// watches of the states it ran.
    fn install(&mut self, minion: Arc<Minion>, applied: Applied) {
        self.generation += 1;
        let group = Group {
            minion,
            source: applied.source.clone(),
            high: applied.high,
            envs: applied.envs,
            keepable: applied.keepable,
            plan: applied.plan,
            running: applied.running,
            watches: applied.watches,
        };
        match &applied.source {
            Source::Highstate => self.groups.clear(),
            Source::Sls { .. } => {
                let ran: HashSet<&String> = group.running.keys().collect();
                for g in &mut self.groups {
                    g.watches.retain(|w| !ran.contains(&w.tag));
                }
                self.groups.retain(|g| !g.watches.is_empty());
            }
        }
        if !group.watches.is_empty() {
            self.groups.push(group);
        }
        self.reindex();
        self.sync_watches();
        self.persist();
        if self.next_full.is_none() {
            self.next_full = self.drift.cfg.full_check.map(|d| Instant::now() + d);
        }
        let polled = self
            .by_resource
            .keys()
            .any(|r| matches!(r, Resource::Etcd(_)));
        self.next_poll = match (polled, self.next_poll) {
            (false, _) => None,
            (true, Some(t)) => Some(t),
            (true, None) => self.drift.cfg.etcd_check.map(|d| Instant::now() + d),
        };
        let [f, s, p, e] = self.counts();
        tracing::info!(
            files = f,
            services = s,
            packages = p,
            etcd_members = e,
            source = ?applied.source,
            "drift: watching the applied states"
        );
    }

    fn reindex(&mut self) {
        self.by_resource.clear();
        self.by_tag.clear();
        self.by_unit_path.clear();
        for (g, group) in self.groups.iter().enumerate() {
            for (w, watch) in group.watches.iter().enumerate() {
                self.by_tag.insert(watch.tag.clone(), (g, w));
                for (res, _) in &watch.resources {
                    self.by_resource
                        .entry(res.clone())
                        .or_default()
                        .push((g, w));
                    if let Resource::Unit(u) = res {
                        self.by_unit_path.insert(units::unit_path(u), res.clone());
                    }
                }
            }
        }
        let tags = &self.by_tag;
        self.retries.retain(|t, _| tags.contains_key(t));
    }

    /// Place the inotify watches the set needs (and drop the others); start the D-Bus
    /// watcher the first time a unit is watched.
    fn sync_watches(&mut self) {
        let wanted: Vec<Resource> = self
            .by_resource
            .keys()
            .filter(|r| r.inotify())
            .cloned()
            .collect();
        if self.files.is_none() && !wanted.is_empty() {
            match FileWatcher::start(self.tx.clone()) {
                Ok(w) => self.files = Some(w),
                Err(e) => tracing::error!(
                    "drift: files and packages are only covered by the full check: {e}"
                ),
            }
        }
        if let Some(files) = self.files.as_mut() {
            let keep: HashSet<&Resource> = wanted.iter().collect();
            for old in files.placed() {
                if !keep.contains(&old) {
                    files.unplace(&old);
                }
            }
            for res in &wanted {
                place(files, res);
            }
        }
        if !self.units_started && !self.by_unit_path.is_empty() {
            match units::start(self.tx.clone()) {
                Ok(()) => self.units_started = true,
                Err(e) => tracing::error!("drift: {e}; units are only covered by the full check"),
            }
        }
    }

    fn counts(&self) -> [usize; 4] {
        let mut c = [0; 4];
        for res in self.by_resource.keys() {
            c[match res {
                Resource::Path(_) => 0,
                Resource::Unit(_) => 1,
                Resource::Package(_) => 2,
                Resource::Etcd(_) => 3,
            }] += 1;
        }
        c
    }

    /// Collect what is due and repair it, unless paused or a state job runs.
    fn tick(&mut self, rx: &Receiver<Msg>) {
        while let Ok(msg) = rx.try_recv() {
            self.handle(msg);
        }
        let now = Instant::now();
        let mut due: BTreeMap<Resource, Pending> = BTreeMap::new();
        let add = |due: &mut BTreeMap<Resource, Pending>, res: Resource, p: Pending| match due
            .get_mut(&res)
        {
            Some(old) => old.merge(&p),
            None => {
                due.insert(res, p);
            }
        };
        for (res, p) in self.debounce.take_due(now) {
            add(&mut due, res, p);
        }
        for (res, p) in self.due_retries(now) {
            add(&mut due, res, p);
        }
        if self.next_poll.is_some_and(|t| t <= now) {
            self.next_poll = self.drift.cfg.etcd_check.map(|d| now + d);
            for res in self
                .by_resource
                .keys()
                .filter(|r| matches!(r, Resource::Etcd(_)))
            {
                add(&mut due, res.clone(), Pending::immediate(now, Via::Poll));
            }
        }
        if self.next_full.is_some_and(|t| t <= now) {
            self.next_full = self.drift.cfg.full_check.map(|d| now + d);
            self.last_full = local_iso(SystemTime::now()).into();
            let via = if std::mem::take(&mut self.resumed) {
                Via::Resume
            } else {
                Via::FullCheck
            };
            for res in self.by_resource.keys() {
                add(&mut due, res.clone(), Pending::immediate(now, via));
            }
        }
        if due.is_empty() && self.held.is_empty() {
            return;
        }
        if self.drift.is_paused() {
            for (res, p) in due {
                add(&mut self.held, res, p);
            }
            return;
        }
        for (res, p) in std::mem::take(&mut self.held) {
            add(&mut due, res, p);
        }
        if self.drift.jobs_running() {
            self.held = due;
            return;
        }
        // A state job that just ended handed its set over before it let repairs go.
        while let Ok(msg) = rx.try_recv() {
            self.handle(msg);
        }
        // Probe without the lock (an etcd probe waits on the network; a state job must not
        // wait for it), re-run under it.
        let generation = self.generation;
        let roots = self.probe_round(&due, now);
        if roots.is_empty() {
            self.forcing.clear();
            return;
        }
        let drift = self.drift.clone();
        let _running = drift.run_lock();
        while let Ok(msg) = rx.try_recv() {
            self.handle(msg);
        }
        if drift.jobs_running() || self.generation != generation {
            // A state job started, or one handed over a new set, meanwhile: look again
            // once it is done.
            self.held = due;
            return;
        }
        for (g, drifted) in roots {
            self.repair_group(g, drifted, now);
        }
        self.forcing.clear();
    }

    /// The watched states whose retry is due: their resources, forced.
    fn due_retries(&mut self, now: Instant) -> Vec<(Resource, Pending)> {
        let mut out = Vec::new();
        for (tag, r) in &mut self.retries {
            if !r.forced || !r.ready(now) {
                continue;
            }
            let Some(&(g, w)) = self.by_tag.get(tag) else {
                continue;
            };
            // Until the repair records its outcome: no second retry from a probe that fails.
            r.not_before = Some(now + repair::backoff(&self.drift.cfg, r.failures.max(1), 0.0));
            self.forcing.insert(tag.clone());
            for (res, _) in &self.groups[g].watches[w].resources {
                out.push((res.clone(), Pending::immediate(now, Via::Retry)));
            }
        }
        out
    }

    /// Probe the due resources: per group, per watch, what differs from its fingerprint
    /// (or is forced by a due retry).
    fn probe_round(&mut self, due: &BTreeMap<Resource, Pending>, now: Instant) -> Roots {
        let mut db = StatusDb::default();
        let dpkg_busy = due.keys().any(|r| matches!(r, Resource::Package(_))) && packages::locked();
        // Per group, per watch: what drifted.
        let mut roots = Roots::new();
        for (res, pending) in due {
            let Some(slots) = self.by_resource.get(res).cloned() else {
                continue;
            };
            if dpkg_busy && matches!(res, Resource::Package(_)) {
                self.debounce.again(res.clone(), now);
                continue;
            }
            if let (Resource::Path(_), Some(files)) = (res, self.files.as_mut()) {
                place(files, res);
            }
            let probed = match repair::probe(res, &mut db) {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!("drift: cannot probe {}: {e}", res.label());
                    continue;
                }
            };
            if !probed.settled {
                self.debounce.again(res.clone(), now);
                continue;
            }
            for (g, w) in slots {
                let watch = &self.groups[g].watches[w];
                let recorded = watch.resources.iter().find(|(r, _)| r == res);
                let differs = recorded.is_some_and(|(_, fp)| *fp != probed.fingerprint);
                if differs {
                    tracing::debug!(
                        state = %watch.tag,
                        "drift: {} was {}, is {}",
                        res.label(),
                        recorded.map_or_else(String::new, |(_, fp)| describe(fp)),
                        describe(&probed.fingerprint)
                    );
                }
                if differs || self.forcing.contains(&watch.tag) {
                    roots
                        .entry(g)
                        .or_default()
                        .entry(w)
                        .or_default()
                        .push(Drifted {
                            resource: res.clone(),
                            pending: pending.clone(),
                        });
                }
            }
        }
        roots
    }

    /// Re-run the drifted watches of group `g` (those whose back-off allows it).
    fn repair_group(&mut self, g: usize, drifted: BTreeMap<usize, Vec<Drifted>>, now: Instant) {
        let mut ready: Vec<(usize, Vec<Drifted>)> = Vec::new();
        for (w, d) in drifted {
            let tag = &self.groups[g].watches[w].tag;
            let forced = self.forcing.contains(tag);
            let r = self.retries.entry(tag.clone()).or_default();
            if r.ready(now) || forced {
                ready.push((w, d));
            } else {
                // It may not run yet: it will, forced, when its wait is over.
                r.forced = true;
            }
        }
        if ready.is_empty() {
            return;
        }
        let group = &self.groups[g];
        let idxs: Vec<usize> = ready.iter().map(|(w, _)| group.watches[*w].idx).collect();
        let roots: Vec<String> = ready
            .iter()
            .map(|(w, _)| group.watches[*w].tag.clone())
            .collect();
        let attempt = roots
            .iter()
            .filter_map(|t| self.retries.get(t))
            .map(RetryState::attempt)
            .max()
            .unwrap_or(1);
        let started = Instant::now();
        let ret = repair::rerun(&group.minion, &group.plan, &group.running, &idxs);
        let duration = started.elapsed();
        let (success, changed) = repair::outcome(&ret);
        if self.refingerprint(g, &ret) {
            self.persist();
        }
        let done = Instant::now();
        if success && changed.is_empty() {
            tracing::debug!(states = ?roots, "drift: re-ran with no changes: nothing to repair");
            for t in &roots {
                if let Some(r) = self.retries.get_mut(t) {
                    r.failures = 0;
                    r.forced = false;
                }
            }
            return;
        }
        let jitter = repair::jitter();
        for t in &roots {
            if let Some(r) = self.retries.get_mut(t) {
                r.repaired(&self.drift.cfg, done, success, jitter);
            }
        }
        let minion = self.groups[g].minion.cfg.id().to_string();
        let report = Repaired {
            minion,
            roots,
            drifted: ready.into_iter().flat_map(|(_, d)| d).collect(),
            attempt,
            success,
            changed,
            ret,
            duration,
        };
        self.last_repair = last_repair_value(&report);
        if let Err(e) = self.reports.try_send(report) {
            let r = match e {
                std::sync::mpsc::TrySendError::Full(r)
                | std::sync::mpsc::TrySendError::Disconnected(r) => r,
            };
            r.log();
            tracing::warn!("drift: the master is not keeping up; this repair is not reported");
        }
    }

    /// Keep the watched set on disk for a restarted minion ([`persist`]); a failure is
    /// logged (the set in memory is unchanged).
    fn persist(&self) {
        let Some(path) = &self.drift.kept else {
            return;
        };
        let set: Vec<Saved> = self
            .groups
            .iter()
            .filter(|g| g.keepable)
            .map(|g| Saved {
                source: g.source.clone(),
                envs: g.envs.clone(),
                high: g.high.clone(),
                running: g.running.clone(),
                fingerprints: g
                    .watches
                    .iter()
                    .map(|w| {
                        (
                            w.tag.clone(),
                            w.resources
                                .iter()
                                .map(|(r, fp)| (persist::resource_key(r), fp.clone()))
                                .collect(),
                        )
                    })
                    .collect(),
            })
            .collect();
        if let Err(e) = persist::save(path, &self.drift.who, &set) {
            tracing::warn!("drift: the watched set is not kept for a restart: {e}");
        }
    }

    /// Take new fingerprints of the watches of group `g` that ran successfully in `ret`;
    /// did one change?
    fn refingerprint(&mut self, g: usize, ret: &Running) -> bool {
        let mut db = StatusDb::default();
        let mut changed = false;
        for watch in &mut self.groups[g].watches {
            let ok = ret
                .get(&watch.tag)
                .is_some_and(|r| r.get("result") != Some(&Value::Bool(false)));
            if !ok {
                continue;
            }
            for (res, fp) in &mut watch.resources {
                match repair::probe(res, &mut db) {
                    Ok(p) => {
                        changed |= *fp != p.fingerprint;
                        *fp = p.fingerprint;
                    }
                    Err(e) => tracing::warn!("drift: cannot probe {}: {e}", res.label()),
                }
            }
        }
        changed
    }

    fn publish_status(&mut self) {
        let now = Instant::now();
        self.retries.retain(|_, r| !r.idle(now));
        let wall = SystemTime::now();
        let failing = self
            .retries
            .iter()
            .filter(|(_, r)| r.failures > 0)
            .map(|(tag, r)| {
                let mut m = Map::default();
                m.insert("state".into(), tag.clone().into());
                m.insert("attempt".into(), Value::Int(i64::from(r.failures)));
                let next = r
                    .not_before
                    .map(|t| local_iso(wall + t.saturating_duration_since(now)));
                m.insert("next_retry".into(), next.map_or(Value::Null, Value::Str));
                Value::Map(m)
            })
            .collect();
        self.drift.set_status(Status {
            watched: self.counts(),
            pending: self.debounce.len() + self.held.len(),
            failing,
            last_repair: self.last_repair.clone(),
            last_full_check: self.last_full.clone(),
        });
    }
}

/// Place the inotify watch of a file or package resource (errors are logged: the full
/// check still covers it).
fn place(files: &mut FileWatcher, res: &Resource) {
    let target = match res {
        Resource::Path(p) => p.clone(),
        Resource::Package(_) => packages::status_file(),
        Resource::Unit(_) | Resource::Etcd(_) => return,
    };
    if let Err(e) = files.place(res, &target) {
        tracing::warn!("drift: {e}");
    }
}

/// `drift.status`'s `last_repair`.
fn last_repair_value(r: &Repaired) -> Value {
    let mut m = Map::default();
    m.insert("time".into(), local_iso(SystemTime::now()).into());
    m.insert(
        "states".into(),
        Value::List(r.roots.iter().cloned().map(Value::Str).collect()),
    );
    m.insert("success".into(), Value::Bool(r.success));
    m.insert("attempt".into(), Value::Int(i64::from(r.attempt)));
    Value::Map(m)
}
