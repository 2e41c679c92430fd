//! Running a compiled plan, as Salt's `State.call_chunks`/`call_chunk`/`call` do:
//! requisite checks (require, watch + mod_watch, onchanges, onfail, prereq, `_any`/`_all`),
//! unless/onlyif/creates, check_cmd, retry, failhard, then `listen`; and the re-run of a
//! drifted chunk with what its changes propagate to ([`Runner::run_closure`], [`closure`]).

use crate::chunk::{gen_tag, Chunk};
use crate::closure::{listen_links, ListenLink};
use crate::conditions;
use crate::lowstate::Plan;
use crate::modules::{Registry, StateCall};
use crate::requisite::RequisiteType;
use halite_core::{Functions, Map, Value};
use indexmap::IndexMap;
use std::collections::HashSet;
use std::time::Instant;

pub use crate::closure::{closure, propagates};

/// The running dict: tag → state return, in the order states ran.
pub type Running = IndexMap<String, Map>;

/// Runs one plan.
pub struct Runner<'a> {
    registry: &'a Registry,
    functions: &'a dyn Functions,
    opts: &'a Map,
    test: bool,
    failhard: bool,
    run_num: i64,
    /// Modules whose `mod_init` has run (Salt's `State.mod_init`).
    inited: std::collections::HashSet<String>,
    running: Running,
    pre: Running,
    plan: Plan,
}

/// What [`Runner::run_closure`] runs and what it took from the applied run.
struct Scope<'s> {
    /// The running dict of the run that applied the plan.
    applied: &'s Running,
    /// The chunks that drifted: they always run.
    roots: HashSet<usize>,
    /// The roots and their propagating dependents.
    members: HashSet<usize>,
    /// Tags put in the running dict from `applied` (left out of the result).
    seeded: HashSet<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Unmet,
    Met,
    Fail,
    SkipReq,
    SkipWatch,
    Pre,
    Onfail,
    Onchanges,
    Change,
}

/// The local wall-clock time as Python's `time().isoformat()` prints it.
pub fn local_time_iso() -> String {
    let now = std::time::SystemTime::now();
    let dur = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = dur.as_secs() as libc::time_t;
    let micros = dur.subsec_micros();
    // SAFETY: localtime_r only writes into the `tm` we pass.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe {
        libc::localtime_r(&secs, &mut tm);
    }
    if micros == 0 {
        format!("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec)
    } else {
        format!(
            "{:02}:{:02}:{:02}.{:06}",
            tm.tm_hour, tm.tm_min, tm.tm_sec, micros
        )
    }
}

fn ms(start: Instant) -> f64 {
    let us = start.elapsed().as_micros() as f64;
    us / 1000.0
}

impl<'a> Runner<'a> {
    /// A runner over `plan`; `test` and `failhard` come from the options and the call.
    pub fn new(
        registry: &'a Registry,
        functions: &'a dyn Functions,
        opts: &'a Map,
        plan: Plan,
        test: bool,
    ) -> Self {
        let failhard = opts.get("failhard").is_some_and(Value::is_truthy);
        Runner {
            registry,
            functions,
            opts,
            test,
            failhard,
            run_num: 0,
            inited: Default::default(),
            running: IndexMap::default(),
            pre: IndexMap::default(),
            plan,
        }
    }

    /// Run every chunk, then the listeners; return the running dict.
    pub fn run(mut self) -> Running {
        let order = self.plan.order.clone();
        self.call_chunks(&order);
        self.call_listen(true);
        self.running
    }

    /// Salt's `State.call` on one chunk outside any plan (`state.single`): no requisites.
    pub fn call_single(mut self, low: Chunk) -> Map {
        self.plan.chunks.push(low.clone());
        let idx = self.plan.chunks.len() - 1;
        self.call(idx, &low, None, 1)
    }

    /// Run the chunks whose `__id__` is `id`, each with a fresh running dict, the way
    /// `state.sls_id` does (requisites that have not run are run first). The merged running
    /// dict; empty when no chunk has that ID.
    pub fn run_id(mut self, id: &str) -> Running {
        let targets: Vec<usize> = self
            .plan
            .order
            .iter()
            .copied()
            .filter(|i| self.plan.chunks[*i].get("__id__").and_then(Value::as_str) == Some(id))
            .collect();
        let mut merged = Running::new();
        for idx in targets {
            self.running = IndexMap::default();
            self.call_chunk(idx, 0);
            for (k, v) in std::mem::take(&mut self.running) {
                merged.insert(k, v);
            }
        }
        merged
    }

    /// Re-run the chunks `roots` (indexes into `plan.chunks`) and the chunks that depend on
    /// them through change-propagating requisites (watch, onchanges, onfail, prereq, listen —
    /// and their `_in` forms, already inverted by the compiler), transitively, in plan order.
    /// Every other requisite of a chunk in that set counts as already met with the return it
    /// had in `applied` (the running dict of the run that applied the plan; a requisite
    /// missing there counts as met with no changes). Chunks outside the set never run.
    /// Returns the running dict of what ran (Salt's keys and `__run_num__` from 0).
    ///
    /// A dependent runs only when a requisite it has on a chunk that ran here fired: a watch
    /// or onchanges requisite that changed (and did not fail), an onfail requisite that
    /// failed, a prereq requisite that will run. It then goes through the normal requisite
    /// check (so a watch handler runs its function, then `mod_watch`). The returns taken
    /// from `applied` count with no changes, so only the roots propagate change. A listen
    /// handler runs only as `call_listen`'s `mod_watch` at the end.
    pub fn run_closure(mut self, roots: &[usize], applied: &Running) -> Running {
        let parts = crate::closure::parts(&self.plan, roots);
        let n = self.plan.chunks.len();
        let mut scope = Scope {
            applied,
            roots: roots.iter().copied().filter(|r| *r < n).collect(),
            members: parts.run.iter().copied().collect(),
            seeded: HashSet::new(),
        };
        for idx in 0..n {
            if !scope.members.contains(&idx) {
                self.seed(idx, &mut scope);
            }
        }
        let in_order: HashSet<usize> = self.plan.order.iter().copied().collect();
        let mut order: Vec<usize> = self
            .plan
            .order
            .iter()
            .copied()
            .filter(|i| scope.members.contains(i))
            .collect();
        order.extend(parts.run.iter().copied().filter(|i| !in_order.contains(i)));
        self.call_closure_chunks(&order, &mut scope);
        self.call_listen(false);
        self.running.retain(|tag, _| !scope.seeded.contains(tag));
        self.running
    }

    /// [`Self::call_chunks`] for [`Self::run_closure`]: a member that nothing fired is
    /// seeded from `applied` instead of run.
    fn call_closure_chunks(&mut self, order: &[usize], scope: &mut Scope) {
        for &idx in order {
            if self.running.shift_remove("__FAILHARD__").is_some() {
                return;
            }
            if self.running.contains_key(self.plan.graph.tag(idx)) {
                continue;
            }
            if !self.fires(idx, scope, 0) {
                self.seed(idx, scope);
                continue;
            }
            self.call_chunk(idx, 0);
            if self.check_failhard(idx) {
                return;
            }
        }
        self.running.shift_remove("__FAILHARD__");
    }

    /// Must member `idx` run: is it a root, or did one of its propagating requisites fire?
    fn fires(&self, idx: usize, scope: &Scope, depth: usize) -> bool {
        if scope.roots.contains(&idx) {
            return true;
        }
        if depth >= 20 || !scope.members.contains(&idx) {
            return false;
        }
        self.plan
            .graph
            .dependencies(&self.plan.chunks, idx)
            .into_iter()
            .any(|(kind, dep)| {
                let tag = self.plan.graph.tag(dep);
                let ran = if scope.seeded.contains(tag) {
                    None
                } else {
                    self.running.get(tag)
                };
                let failed = ran.is_some_and(|r| r.get("result") == Some(&Value::Bool(false)));
                match kind.base() {
                    RequisiteType::Watch | RequisiteType::Onchanges => {
                        !failed
                            && ran.is_some_and(|r| r.get("changes").is_some_and(Value::is_truthy))
                    }
                    RequisiteType::Onfail => failed,
                    RequisiteType::Prereq => {
                        !scope.seeded.contains(tag) && self.fires(dep, scope, depth + 1)
                    }
                    _ => false,
                }
            })
    }

    /// Put chunk `idx` in the running dict (and the prereq dict, for a prereq target) as it
    /// returned in `applied`, without its changes: met, nothing to propagate.
    fn seed(&mut self, idx: usize, scope: &mut Scope) {
        let tag = self.plan.graph.tag(idx).to_string();
        if tag.is_empty() || self.running.contains_key(&tag) {
            return;
        }
        let mut r = scope.applied.get(&tag).cloned().unwrap_or_else(|| {
            let mut m = Map::default();
            m.insert("result".into(), Value::Bool(true));
            m.insert("comment".into(), "".into());
            m
        });
        r.insert("changes".into(), Value::map());
        if self.is_prereq(idx) {
            self.pre.insert(tag.clone(), r.clone());
        }
        self.running.insert(tag.clone(), r);
        scope.seeded.insert(tag);
    }

    fn call_chunks(&mut self, order: &[usize]) {
        for &idx in order {
            if self.running.shift_remove("__FAILHARD__").is_some() {
                return;
            }
            let tag = self.plan.graph.tag(idx).to_string();
            if !self.running.contains_key(&tag) {
                self.call_chunk(idx, 0);
                if self.check_failhard(idx) {
                    return;
                }
            }
        }
        self.running.shift_remove("__FAILHARD__");
    }

    fn check_failhard(&self, idx: usize) -> bool {
        if self.test {
            return false;
        }
        let low = &self.plan.chunks[idx];
        let tag = self.plan.graph.tag(idx);
        let fh = low.get("failhard").map_or(self.failhard, Value::is_truthy);
        if fh {
            if let Some(r) = self.running.get(tag) {
                return match r.get("result") {
                    Some(Value::Null) | None => false,
                    Some(v) => !v.is_truthy(),
                };
            }
        }
        false
    }

    fn is_prereq(&self, idx: usize) -> bool {
        self.plan.chunks[idx]
            .get("__prereq__")
            .is_some_and(Value::is_truthy)
    }

    fn check_requisites(&self, idx: usize) -> (Status, IndexMap<RequisiteType, Vec<usize>>) {
        let mut reqs: IndexMap<RequisiteType, Vec<usize>> = IndexMap::default();
        for (kind, c) in self.plan.graph.dependencies(&self.plan.chunks, idx) {
            reqs.entry(kind).or_default().push(c);
        }
        let mut fun_stats: Vec<&'static str> = Vec::new();
        for (kind, chunks) in &reqs {
            let base = kind.base();
            let run_dict = if base == RequisiteType::Prereq {
                &self.pre
            } else {
                &self.running
            };
            let mut stats: Vec<&'static str> = Vec::new();
            let add = |s: &'static str, stats: &mut Vec<&'static str>| {
                if !stats.contains(&s) {
                    stats.push(s);
                }
            };
            for &c in chunks {
                let tag = self.plan.graph.tag(c);
                let Some(r) = run_dict.get(tag) else {
                    add("unmet", &mut stats);
                    continue;
                };
                if r.get("skip_req").is_some_and(Value::is_truthy) {
                    add("skip_req", &mut stats);
                }
                let result = r.get("result").cloned().unwrap_or(Value::Null);
                let changed = r.get("changes").is_some_and(Value::is_truthy);
                if base == RequisiteType::Onfail {
                    if result == Value::Bool(true) {
                        add("onfail", &mut stats);
                        continue;
                    }
                } else if base == RequisiteType::Onchanges {
                    if result == Value::Bool(false) || !changed {
                        add("onchanges", &mut stats);
                    } else {
                        add("onchangesmet", &mut stats);
                    }
                    continue;
                } else if result == Value::Bool(false) {
                    add("fail", &mut stats);
                    continue;
                }
                if base == RequisiteType::Watch && changed {
                    add("change", &mut stats);
                    continue;
                }
                if base == RequisiteType::Prereq {
                    if result.is_null() {
                        add("premet", &mut stats);
                    } else {
                        add("pre", &mut stats);
                    }
                } else if r.get("__state_ran__").is_none_or(Value::is_truthy) {
                    add("met", &mut stats);
                }
            }
            let name = kind.name();
            let remove = |s: &str, stats: &mut Vec<&'static str>| stats.retain(|x| *x != s);
            if name.ends_with("_any") || *kind == RequisiteType::Onfail {
                if stats.contains(&"met") || stats.contains(&"change") {
                    remove("fail", &mut stats);
                }
                if stats.contains(&"onchangesmet") {
                    remove("onchanges", &mut stats);
                    remove("fail", &mut stats);
                }
                if stats.contains(&"onfail") && stats.contains(&"met") {
                    remove("onfail", &mut stats);
                }
            }
            if name.ends_with("_all") && stats.contains(&"onfail") && stats.contains(&"met") {
                remove("met", &mut stats);
            }
            for s in stats {
                if !fun_stats.contains(&s) {
                    fun_stats.push(s);
                }
            }
        }
        let has = |s: &str| fun_stats.contains(&s);
        let status = if has("unmet") {
            Status::Unmet
        } else if has("fail") {
            Status::Fail
        } else if has("skip_req") && (has("onchangesmet") || has("premet")) {
            Status::SkipReq
        } else if has("skip_req") && has("change") {
            Status::SkipWatch
        } else if has("pre") {
            if has("premet") {
                Status::Met
            } else {
                Status::Pre
            }
        } else if has("onfail") && !has("onchangesmet") {
            Status::Onfail
        } else if has("onchanges") && !has("onchangesmet") {
            Status::Onchanges
        } else if has("change") {
            Status::Change
        } else if has("onfail") {
            Status::Onfail
        } else {
            Status::Met
        };
        (status, reqs)
    }

    fn store(&mut self, prereq: bool, tag: String, ret: Map) {
        if prereq {
            self.pre.insert(tag, ret);
        } else {
            self.running.insert(tag, ret);
        }
    }

    fn not_run(&mut self, idx: usize, tag: &str, result: bool, comment: &str) {
        let low = &self.plan.chunks[idx];
        let mut r = Map::default();
        r.insert("changes".into(), Value::map());
        r.insert("result".into(), Value::Bool(result));
        r.insert("duration".into(), Value::Float(0.002));
        r.insert("start_time".into(), local_time_iso().into());
        r.insert("comment".into(), comment.into());
        r.insert("__state_ran__".into(), Value::Bool(false));
        r.insert("__run_num__".into(), Value::Int(self.run_num));
        for k in ["__sls__", "__id__", "name"] {
            r.insert(k.into(), low.get(k).cloned().unwrap_or(Value::Null));
        }
        self.running.insert(tag.to_string(), r.clone());
        if self.is_prereq(idx) {
            self.pre.insert(tag.to_string(), r);
        }
        self.run_num += 1;
    }

    fn reqs_value(&self, reqs: &IndexMap<RequisiteType, Vec<usize>>) -> Map {
        let mut m = Map::default();
        for (k, chunks) in reqs {
            let list = chunks
                .iter()
                .map(|c| Value::Map(self.plan.chunks[*c].clone()))
                .collect();
            m.insert(k.name().into(), Value::List(list));
        }
        m
    }

    /// Salt's `_mod_init`: the first chunk of a module with a `mod_init` runs it.
    fn mod_init(&mut self, idx: usize) {
        let low = &self.plan.chunks[idx];
        let state = low.get("state").map(Value::py_str).unwrap_or_default();
        let fun = low.get("fun").map(Value::py_str).unwrap_or_default();
        if self.inited.contains(&state) || self.registry.get(&format!("{state}.{fun}")).is_none() {
            return;
        }
        if let Some(init) = self.registry.mod_init(&state) {
            if init(low, self.opts) {
                self.inited.insert(state);
            }
        }
    }

    /// Salt's `_allow_aggregate`: the chunk's `aggregate`, else the `state_aggregate` option
    /// (`True`, or a list of module names).
    fn aggregate_allowed(&self, low: &Chunk) -> bool {
        if low.get("__agg__").is_some_and(Value::is_truthy) {
            return false;
        }
        let state = low.get("state").map(Value::py_str).unwrap_or_default();
        match low
            .get("aggregate")
            .or_else(|| self.opts.get("state_aggregate"))
        {
            Some(Value::Bool(true)) => true,
            Some(Value::List(l)) => l.iter().any(|m| m.py_str() == state),
            _ => false,
        }
    }

    /// Is there a requisite path from chunk `from` to chunk `to`?
    fn depends_on(&self, from: usize, to: usize) -> bool {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![from];
        while let Some(i) = stack.pop() {
            for (_, dep) in self.plan.graph.dependencies(&self.plan.chunks, i) {
                if dep == to {
                    return true;
                }
                if seen.insert(dep) {
                    stack.push(dep);
                }
            }
        }
        false
    }

    /// Salt's `_mod_aggregate`: let the module merge the other aggregatable chunks of the
    /// run into this one (e.g. one `apt-get install` for several `pkg.installed`).
    fn mod_aggregate(&mut self, idx: usize) {
        let low = &self.plan.chunks[idx];
        let state = low.get("state").map(Value::py_str).unwrap_or_default();
        let Some(agg) = self.registry.mod_aggregate(&state) else {
            return;
        };
        if !self.aggregate_allowed(low) {
            return;
        }
        let others: Vec<usize> = (0..self.plan.chunks.len())
            .filter(|&j| j != idx)
            .filter(|&j| {
                let c = &self.plan.chunks[j];
                c.get("state").map(Value::py_str).as_deref() == Some(state.as_str())
                    && self.aggregate_allowed(c)
                    && !self.running.contains_key(self.plan.graph.tag(j))
                    && !self.depends_on(idx, j)
                    && !self.depends_on(j, idx)
            })
            .collect();
        if others.is_empty() {
            return;
        }
        let refs: Vec<&Chunk> = others.iter().map(|&j| &self.plan.chunks[j]).collect();
        let (mut merged, absorbed) = agg(&self.plan.chunks[idx], &refs);
        merged.insert("__agg__".into(), Value::Bool(true));
        self.plan.chunks[idx] = merged;
        for k in absorbed {
            if let Some(&j) = others.get(k) {
                self.plan.chunks[j].insert("__agg__".into(), Value::Bool(true));
            }
        }
    }

    fn call_chunk(&mut self, idx: usize, depth: usize) -> bool {
        self.mod_aggregate(idx);
        self.mod_init(idx);
        let tag = self.plan.graph.tag(idx).to_string();
        let (status, reqs) = self.check_requisites(idx);
        match status {
            Status::Unmet => {
                if self.call_unmet(idx, &tag, depth) {
                    return true;
                }
            }
            Status::Met => {
                let prereq = self.is_prereq(idx);
                let r = self.call_idx(idx);
                self.store(prereq, tag.clone(), r);
            }
            Status::SkipReq => self.not_run(
                idx,
                &tag,
                true,
                "State was not run because requisites were skipped by another state",
            ),
            Status::SkipWatch if !self.is_prereq(idx) => {
                let low = self.plan.chunks[idx].clone();
                let mut r = self.call(idx, &low, None, 1);
                let c = r.get("comment").map(Value::py_str).unwrap_or_default();
                r.insert(
                    "comment".into(),
                    format!("{c} mod_watch was not run because requisites were skipped by another state").into(),
                );
                self.running.insert(tag.clone(), r);
            }
            Status::Fail => {
                if let Some(mut p) = self.pre.get(&tag).cloned() {
                    if p.get("changes").is_some_and(Value::is_truthy) {
                        p.insert("changes".into(), Value::map());
                    }
                    p.insert("__run_num__".into(), Value::Int(self.run_num));
                    let low = &self.plan.chunks[idx];
                    for k in ["__sls__", "__id__", "name"] {
                        p.insert(k.into(), low.get(k).cloned().unwrap_or(Value::Null));
                    }
                    self.pre.insert(tag.clone(), p.clone());
                    self.running.insert(tag.clone(), p);
                    self.run_num += 1;
                } else {
                    let mut failed: Vec<String> = Vec::new();
                    for chunks in reqs.values() {
                        for &c in chunks {
                            let rl = &self.plan.chunks[c];
                            let rt = self.plan.graph.tag(c);
                            let rr = self.pre.get(rt).or_else(|| self.running.get(rt));
                            if let Some(rr) = rr {
                                if rr.get("result") == Some(&Value::Bool(false)) {
                                    let key = format!(
                                        "{}.{}",
                                        rl.get("__sls__").map(Value::py_str).unwrap_or_default(),
                                        rl.get("__id__").map(Value::py_str).unwrap_or_default()
                                    );
                                    if !failed.contains(&key) {
                                        failed.push(key);
                                    }
                                }
                            }
                        }
                    }
                    let cmt = format!("One or more requisite failed: {}", failed.join(", "));
                    self.not_run(idx, &tag, false, &cmt);
                }
            }
            Status::Change if !self.is_prereq(idx) => {
                let low = self.plan.chunks[idx].clone();
                let mut r = self.call(idx, &low, None, 1);
                let changed = r.get("changes").is_some_and(Value::is_truthy);
                if !changed && !r.get("skip_watch").is_some_and(Value::is_truthy) {
                    let mut low = self.plan.chunks[idx].clone();
                    let fun = low.get("fun").cloned().unwrap_or(Value::Null);
                    low.insert("sfun".into(), fun);
                    low.insert("fun".into(), "mod_watch".into());
                    let rv = self.reqs_value(&reqs);
                    low.insert("__reqs__".into(), Value::Map(rv.clone()));
                    r = self.call(idx, &low, Some(&rv), 1);
                }
                self.running.insert(tag.clone(), r);
            }
            Status::Pre => self.not_run(idx, &tag, true, "No changes detected"),
            Status::Onfail => self.not_run(
                idx,
                &tag,
                true,
                "State was not run because onfail req did not change",
            ),
            Status::Onchanges => self.not_run(
                idx,
                &tag,
                true,
                "State was not run because none of the onchanges reqs changed",
            ),
            _ => {
                let prereq = self.is_prereq(idx);
                let r = self.call_idx(idx);
                self.store(prereq, tag.clone(), r);
            }
        }
        false
    }

    /// Run the requisites that have not run yet, then this chunk. `true` when failhard fired.
    fn call_unmet(&mut self, idx: usize, tag: &str, depth: usize) -> bool {
        for (_, c) in self.plan.graph.dependencies(&self.plan.chunks, idx) {
            let ctag = self.plan.graph.tag(c).to_string();
            if !self.running.contains_key(&ctag) {
                self.call_chunk(c, 0);
                if self.check_failhard(c) {
                    self.running.insert("__FAILHARD__".into(), Map::default());
                    return true;
                }
            }
        }
        if self.is_prereq(idx) {
            let (status, _) = self.check_requisites(idx);
            if status == Status::Pre {
                let low = &self.plan.chunks[idx];
                let mut r = Map::default();
                r.insert("changes".into(), Value::map());
                r.insert("result".into(), Value::Bool(true));
                r.insert("duration".into(), Value::Float(0.002));
                r.insert("start_time".into(), local_time_iso().into());
                r.insert("comment".into(), "No changes detected".into());
                r.insert("__run_num__".into(), Value::Int(self.run_num));
                r.insert("__state_ran__".into(), Value::Bool(false));
                for k in ["__sls__", "__id__", "name"] {
                    r.insert(k.into(), low.get(k).cloned().unwrap_or(Value::Null));
                }
                self.pre.insert(tag.to_string(), r);
                self.run_num += 1;
            } else {
                let low = self.plan.chunks[idx].clone();
                let mut r = self.call(idx, &low, None, 1);
                if !r.get("changes").is_some_and(Value::is_truthy) && status == Status::Change {
                    let mut w = Map::default();
                    w.insert("watch".into(), "watch".into());
                    r.insert("changes".into(), Value::Map(w));
                    r.insert("result".into(), Value::Null);
                }
                self.pre.insert(tag.to_string(), r);
            }
        } else if depth + 1 >= 20 {
            let low = &self.plan.chunks[idx];
            let mut r = Map::default();
            r.insert("changes".into(), Value::map());
            r.insert("result".into(), Value::Bool(false));
            r.insert("comment".into(), "Recursive requisite found".into());
            r.insert("__run_num__".into(), Value::Int(self.run_num));
            for k in ["__sls__", "__id__", "name"] {
                r.insert(k.into(), low.get(k).cloned().unwrap_or(Value::Null));
            }
            self.running.insert(tag.to_string(), r);
        } else if self.call_chunk(idx, depth + 1) {
            return true;
        }
        if self.check_failhard(idx) {
            self.running.insert("__FAILHARD__".into(), Map::default());
            return true;
        }
        false
    }

    /// [`Self::call`] on chunk `idx` itself (taken out of the plan for the call instead of
    /// copied; a prereq test run leaves it with `__prereq__: False`, as Salt does).
    fn call_idx(&mut self, idx: usize) -> Map {
        let low = std::mem::take(&mut self.plan.chunks[idx]);
        let prereq = low.get("__prereq__").is_some_and(Value::is_truthy);
        let r = self.call(idx, &low, None, 1);
        self.plan.chunks[idx] = low;
        if prereq {
            self.plan.chunks[idx].insert("__prereq__".into(), Value::Bool(false));
        }
        r
    }

    /// Salt's `State.call`: verify, conditions, the function, check_cmd, bookkeeping, retry.
    fn call(&mut self, idx: usize, low: &Chunk, reqs: Option<&Map>, retries: i64) -> Map {
        let start = Instant::now();
        let start_time = local_time_iso();
        let state = low.get("state").map(Value::py_str).unwrap_or_default();
        let fun = low.get("fun").map(Value::py_str).unwrap_or_default();
        let full = format!("{state}.{fun}");
        let name = low.get("name").cloned().unwrap_or(Value::Null);
        let func = if fun == "mod_watch" {
            self.registry.mod_watch(&state)
        } else {
            self.registry.get(&full)
        };
        // Salt's `verify_data`: an unknown function, missing required arguments, a bad umask.
        let mut errors: Vec<String> = Vec::new();
        let mut umask: Option<u32> = None;
        if let Some(u) = low.get("umask") {
            match u32::from_str_radix(&u.py_str(), 8) {
                Ok(v) => umask = Some(v),
                Err(_) => errors.push(format!("Invalid umask: {}", u.py_str())),
            }
        }
        match func {
            None => {
                if let Some(sls) = low.get("__sls__") {
                    errors.push(format!(
                        "State '{full}' was not found in SLS '{}'\nReason: '{full}' is not available.",
                        sls.py_str()
                    ));
                } else {
                    errors.push(format!("Specified state '{full}' was not found"));
                }
            }
            Some(_) if errors.is_empty() && fun != "mod_watch" => {
                for p in self.registry.required_params(&full) {
                    if !low.contains_key(*p) {
                        errors.push(format!("Missing parameter {p} for state {full}"));
                    }
                }
            }
            Some(_) => {}
        }
        let func = match func {
            Some(f) if errors.is_empty() => Some(f),
            _ => None,
        };
        let Some(func) = func else {
            let comment: String = errors.iter().map(|e| format!("{e}\n")).collect();
            let mut r = Map::default();
            r.insert("result".into(), Value::Bool(false));
            r.insert("name".into(), name);
            r.insert("changes".into(), Value::map());
            r.insert("comment".into(), comment.into());
            r.insert("__run_num__".into(), Value::Int(self.run_num));
            self.run_num += 1;
            return r;
        };
        let prereq = low.get("__prereq__").is_some_and(Value::is_truthy);
        let test = self.test || prereq;
        let mut r = Map::default();
        r.insert("result".into(), Value::Bool(false));
        r.insert("name".into(), name.clone());
        r.insert("changes".into(), Value::map());
        let mut comments: Option<Vec<Value>> = None;
        if ["unless", "onlyif", "creates"]
            .iter()
            .any(|k| low.contains_key(*k))
        {
            let check = conditions::run_check(low, self.functions);
            for (k, v) in check {
                if k.as_str() == Some("comment") {
                    if let Value::List(l) = &v {
                        comments = Some(l.clone());
                    }
                }
                r.insert(k, v);
            }
        }
        let should_run = !r.get("result").is_some_and(Value::is_truthy);
        if should_run {
            let call = StateCall {
                low,
                test,
                functions: self.functions,
                opts: self.opts,
                reqs,
                running: &self.running,
            };
            let old_umask = umask.map(|u| {
                nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(u as libc::mode_t))
            });
            let outcome = func(&call);
            if let Some(old) = old_umask {
                nix::sys::stat::umask(old);
            }
            r = match outcome {
                Ok(m) => m,
                Err(e) => {
                    let mut m = Map::default();
                    m.insert("result".into(), Value::Bool(false));
                    m.insert("name".into(), name.clone());
                    m.insert("changes".into(), Value::map());
                    m.insert(
                        "comment".into(),
                        format!("An exception occurred in this state: {e}").into(),
                    );
                    m
                }
            };
        } else if let Some(list) = comments {
            let joined: Vec<String> = list.iter().map(Value::py_str).collect();
            r.insert("comment".into(), joined.join("\n").into());
        }
        if low.contains_key("check_cmd") && state != "file" {
            for (k, v) in conditions::run_check_cmd(low) {
                r.insert(k, v);
            }
        }
        if let Some(Value::List(l)) = r.get("comment") {
            let joined: Vec<String> = l.iter().map(Value::py_str).collect();
            r.insert("comment".into(), joined.join("\n").into());
        }
        if let Some(v) = r.get("result").cloned() {
            if !v.is_null() && !matches!(v, Value::Bool(_)) {
                r.insert("result".into(), Value::Bool(v.is_truthy()));
            }
        }
        if prereq {
            if let Some(c) = self.plan.chunks.get_mut(idx) {
                c.insert("__prereq__".into(), Value::Bool(false));
            }
            return r;
        }
        r.insert(
            "__sls__".into(),
            low.get("__sls__").cloned().unwrap_or(Value::Null),
        );
        r.insert("__run_num__".into(), Value::Int(self.run_num));
        self.run_num += 1;
        r.insert("start_time".into(), start_time.into());
        r.insert("duration".into(), Value::Float(ms(start)));
        r.insert(
            "__id__".into(),
            low.get("__id__").cloned().unwrap_or(Value::Null),
        );
        if let Some(retry) = low.get("retry") {
            let retry = verify_retry(retry);
            if !self.test {
                let until = retry.until;
                let result = r.get("result").cloned().unwrap_or(Value::Null);
                if Value::Bool(until) != result && retry.attempts > retries {
                    let mut interval = retry.interval;
                    if retry.splay != 0 {
                        interval += pseudo_random(retry.splay);
                    }
                    if interval > 0 {
                        std::thread::sleep(std::time::Duration::from_secs(interval as u64));
                    }
                    let orig = r;
                    let mut again = self.call(idx, low, reqs, retries + 1);
                    let orig_comment = orig.get("comment").map(Value::py_str).unwrap_or_default();
                    let new_comment = again.get("comment").map(Value::py_str).unwrap_or_default();
                    again.insert(
                        "comment".into(),
                        format!(
                            "Attempt {retries}: Returned a result of \"{}\", with the following comment: \"{orig_comment}\"\n{new_comment}",
                            result.py_str()
                        )
                        .into(),
                    );
                    let d = |m: &Map| match m.get("duration") {
                        Some(Value::Float(f)) => *f,
                        Some(Value::Int(i)) => *i as f64,
                        _ => 0.0,
                    };
                    let total = d(&again) + d(&orig) + (interval as f64) * 1000.0;
                    again.insert("duration".into(), Value::Float(total));
                    if retries == 1 {
                        if let Some(st) = orig.get("start_time") {
                            again.insert("start_time".into(), st.clone());
                        }
                    }
                    r = again;
                }
            } else {
                let c = r.get("comment").map(Value::py_str).unwrap_or_default();
                r.insert(
                    "comment".into(),
                    format!(
                        "{c}  The state would be retried every {} seconds (with a splay of up to {} seconds) a maximum of {} times or until a result of {} is returned",
                        retry.interval,
                        retry.splay,
                        retry.attempts,
                        if retry.until { "True" } else { "False" }
                    )
                    .into(),
                );
            }
        }
        r
    }

    /// Salt's `call_listen`: after the run, `mod_watch` of every state that listens to a
    /// state that changed (as `listener_<id>`). `missing_errors` adds a `Listen_Error` for
    /// each reference to a state that does not exist.
    fn call_listen(&mut self, missing_errors: bool) {
        let listens = self
            .plan
            .chunks
            .iter()
            .any(|c| c.contains_key("listen") || c.contains_key("listen_in"));
        if !listens {
            return;
        }
        let mut watchers: Vec<Chunk> = Vec::new();
        let mut errors: IndexMap<String, Map> = IndexMap::default();
        for link in listen_links(&self.plan.chunks) {
            match link {
                ListenLink::Missing { state, id } => {
                    if missing_errors {
                        errors.insert(listen_err_tag(&state, &id), listen_err(&state, &id));
                    }
                }
                ListenLink::Link {
                    targets,
                    listener,
                    listeners,
                } => {
                    for t in targets {
                        let changed = self
                            .running
                            .get(&gen_tag(&self.plan.chunks[t]))
                            .and_then(|r| r.get("changes"))
                            .is_some_and(Value::is_truthy);
                        if !changed {
                            continue;
                        }
                        if listeners.is_empty() {
                            let (st, id) = (&listener.0, &listener.1);
                            errors.insert(listen_err_tag(st, id), listen_err(st, id));
                            continue;
                        }
                        for &i in &listeners {
                            watchers.push(listen_watcher(&self.plan.chunks[i]));
                        }
                    }
                }
            }
        }
        let mut order = Vec::new();
        for w in watchers {
            self.plan.chunks.push(w);
            let idx = self.plan.chunks.len() - 1;
            self.plan.graph.add_loose_chunk(&self.plan.chunks, idx);
            order.push(idx);
        }
        self.call_chunks(&order);
        for (tag, mut e) in errors {
            e.insert("__run_num__".into(), Value::Int(self.run_num));
            self.run_num += 1;
            self.running.insert(tag, e);
        }
    }
}

/// The `mod_watch` chunk `call_listen` runs for a listening chunk.
fn listen_watcher(chunk: &Chunk) -> Chunk {
    let mut low = chunk.clone();
    let fun = low.get("fun").cloned().unwrap_or(Value::Null);
    low.insert("sfun".into(), fun);
    low.insert("fun".into(), "mod_watch".into());
    let id = low.get("__id__").map(Value::py_str).unwrap_or_default();
    low.insert("__id__".into(), format!("listener_{id}").into());
    for r in RequisiteType::ALL {
        low.shift_remove(r.name());
    }
    low.shift_remove("onfail_stop");
    low
}

fn listen_err_tag(name: &str, id: &str) -> String {
    format!("Listen_Error_|-listen_{id}_|-listen_{name}_|-Listen_Error")
}

fn listen_err(k: &str, v: &str) -> Map {
    let mut m = Map::default();
    m.insert(
        "comment".into(),
        format!("Referenced state {k}: {v} does not exist").into(),
    );
    m.insert("name".into(), format!("listen_{k}:{v}").into());
    m.insert("result".into(), Value::Bool(false));
    m.insert("changes".into(), Value::map());
    m
}

struct Retry {
    until: bool,
    attempts: i64,
    interval: i64,
    splay: i64,
}

fn verify_retry(v: &Value) -> Retry {
    let dflt = Retry {
        until: true,
        attempts: 2,
        interval: 30,
        splay: 0,
    };
    match v {
        Value::Map(m) => Retry {
            until: match m.get("until") {
                Some(Value::Bool(b)) => *b,
                _ => dflt.until,
            },
            attempts: match m.get("attempts") {
                Some(Value::Int(i)) => *i,
                _ => dflt.attempts,
            },
            interval: match m.get("interval") {
                Some(Value::Int(i)) => *i,
                _ => dflt.interval,
            },
            splay: match m.get("splay") {
                Some(Value::Int(i)) => *i,
                _ => dflt.splay,
            },
        },
        Value::Bool(false) => Retry {
            attempts: 0,
            ..dflt
        },
        _ => dflt,
    }
}

fn pseudo_random(max: i64) -> i64 {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as i64)
        .unwrap_or(0);
    if max <= 0 {
        0
    } else {
        n % (max + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::closure::tests::{idx, plan_of};
    use crate::modules::file::tests_support::FakeFunctions;
    use crate::Registry;

    /// A plan compiled from `sls` with `@DIR@` replaced by a fresh temp dir.
    fn fixture(sls: &str) -> (tempfile::TempDir, Plan) {
        let dir = tempfile::tempdir().unwrap();
        let plan = plan_of(&sls.replace("@DIR@", &dir.path().display().to_string()));
        (dir, plan)
    }

    fn runner<R>(plan: &Plan, test: bool, f: impl FnOnce(Runner) -> R) -> R {
        let registry = Registry::new();
        let functions = FakeFunctions(Map::default());
        let opts = Map::default();
        f(Runner::new(
            &registry,
            &functions,
            &opts,
            plan.clone(),
            test,
        ))
    }

    fn apply(plan: &Plan) -> Running {
        runner(plan, false, |r| r.run())
    }

    fn rerun(plan: &Plan, roots: &[&str], applied: &Running, test: bool) -> Running {
        let roots: Vec<usize> = roots.iter().map(|r| idx(plan, r)).collect();
        runner(plan, test, |r| r.run_closure(&roots, applied))
    }

    fn read(dir: &tempfile::TempDir, file: &str) -> String {
        std::fs::read_to_string(dir.path().join(file)).unwrap_or_default()
    }

    fn clear_log(dir: &tempfile::TempDir) {
        std::fs::write(dir.path().join("ran.log"), "").unwrap();
    }

    /// The `__id__` of each return, in `__run_num__` order (from 0, distinct; a watch handler
    /// that also ran `mod_watch` used two numbers, as in Salt).
    fn ran_ids(running: &Running) -> Vec<String> {
        let mut v: Vec<(i64, String)> = running
            .values()
            .map(|r| {
                (
                    r.get("__run_num__").and_then(Value::as_int).unwrap(),
                    r.get("__id__").map(Value::py_str).unwrap_or_default(),
                )
            })
            .collect();
        v.sort();
        assert_eq!(
            v.first().map(|f| f.0),
            Some(0),
            "__run_num__ from 0: {running:?}"
        );
        assert!(v.windows(2).all(|w| w[0].0 < w[1].0), "{running:?}");
        v.into_iter().map(|(_, id)| id).collect()
    }

    fn ret<'r>(running: &'r Running, id: &str) -> &'r Map {
        running
            .values()
            .find(|r| r.get("__id__").and_then(Value::as_str) == Some(id))
            .unwrap_or_else(|| panic!("{id} did not run: {running:?}"))
    }

    fn changed(r: &Map) -> bool {
        r.get("changes").is_some_and(Value::is_truthy)
    }

    const HANDLERS: &str = r#"
conf:
  file.managed:
    - name: @DIR@/app.conf
    - contents: hello
other:
  file.managed:
    - name: @DIR@/other.conf
    - contents: other
on_change:
  cmd.run:
    - name: "echo on_change >> @DIR@/ran.log"
    - onchanges:
      - file: conf
      - file: other
watcher:
  test.succeed_without_changes:
    - watch:
      - file: conf
      - file: other
on_fail:
  cmd.run:
    - name: "echo on_fail >> @DIR@/ran.log"
    - onfail:
      - file: conf
needs:
  cmd.run:
    - name: "echo needs >> @DIR@/ran.log"
    - require:
      - file: conf
unrelated:
  cmd.run:
    - name: "echo unrelated >> @DIR@/ran.log"
"#;

    #[test]
    fn changed_root_fires_onchanges_and_watch_only() {
        let (dir, plan) = fixture(HANDLERS);
        let applied = apply(&plan);
        let good = read(&dir, "app.conf");
        assert_eq!(good, "hello\n");
        clear_log(&dir);
        std::fs::write(dir.path().join("app.conf"), "tampered\n").unwrap();
        let got = rerun(&plan, &["conf"], &applied, false);
        let mut ids = ran_ids(&got);
        assert_eq!(ids.remove(0), "conf");
        ids.sort();
        assert_eq!(ids, ["on_change", "watcher"]);
        assert_eq!(read(&dir, "app.conf"), good);
        assert!(changed(ret(&got, "conf")));
        // The require-dependent, the onfail handler and the unrelated chunk did not run.
        assert_eq!(read(&dir, "ran.log"), "on_change\n");
        // The watch handler ran its function, then mod_watch; `other` (changed in the
        // applied run) counts with no changes.
        let w = ret(&got, "watcher");
        assert_eq!(
            w.get("comment"),
            Some(&Value::from("Watch statement fired."))
        );
        let ch = w
            .get("changes")
            .and_then(|c| c.get("Requisites with changes"));
        assert_eq!(ch, Some(&Value::List(vec!["file: conf".into()])));
        assert!(got.keys().all(|k| !k.contains("|-other_|-")));
    }

    #[test]
    fn unchanged_root_triggers_nothing() {
        let (dir, plan) = fixture(HANDLERS);
        let applied = apply(&plan);
        clear_log(&dir);
        let got = rerun(&plan, &["conf"], &applied, false);
        assert_eq!(ran_ids(&got), ["conf"]);
        assert!(!changed(ret(&got, "conf")));
        assert_eq!(ret(&got, "conf").get("result"), Some(&Value::Bool(true)));
        assert_eq!(read(&dir, "ran.log"), "");
    }

    #[test]
    fn failing_root_triggers_onfail_only() {
        let (dir, plan) = fixture(HANDLERS);
        let applied = apply(&plan);
        clear_log(&dir);
        let conf = dir.path().join("app.conf");
        std::fs::remove_file(&conf).unwrap();
        std::fs::create_dir(&conf).unwrap();
        let got = rerun(&plan, &["conf"], &applied, false);
        assert_eq!(ran_ids(&got), ["conf", "on_fail"]);
        assert_eq!(ret(&got, "conf").get("result"), Some(&Value::Bool(false)));
        assert_eq!(ret(&got, "on_fail").get("result"), Some(&Value::Bool(true)));
        assert_eq!(read(&dir, "ran.log"), "on_fail\n");
    }

    #[test]
    fn test_mode_changes_nothing() {
        let (dir, plan) = fixture(HANDLERS);
        let applied = apply(&plan);
        clear_log(&dir);
        std::fs::write(dir.path().join("app.conf"), "tampered\n").unwrap();
        let got = rerun(&plan, &["conf"], &applied, true);
        let mut ids = ran_ids(&got);
        assert_eq!(ids.remove(0), "conf");
        ids.sort();
        assert_eq!(ids, ["on_change", "watcher"]);
        assert_eq!(ret(&got, "conf").get("result"), Some(&Value::Null));
        assert_eq!(ret(&got, "on_change").get("result"), Some(&Value::Null));
        assert_eq!(read(&dir, "app.conf"), "tampered\n");
        assert_eq!(read(&dir, "ran.log"), "");
    }

    #[test]
    fn listen_handlers_run_once_at_the_end() {
        let (dir, plan) = fixture(
            r#"
conf:
  file.managed:
    - name: @DIR@/app.conf
    - contents: hello
    - listen_in:
      - test: notified
listener:
  cmd.run:
    - name: "echo listener >> @DIR@/ran.log"
    - listen:
      - file: conf
notified:
  test.succeed_without_changes: []
"#,
        );
        let applied = apply(&plan);
        assert_eq!(read(&dir, "ran.log"), "listener\nlistener\n");
        clear_log(&dir);
        std::fs::remove_file(dir.path().join("app.conf")).unwrap();
        let got = rerun(&plan, &["conf"], &applied, false);
        let mut ids = ran_ids(&got);
        assert_eq!(ids.remove(0), "conf");
        ids.sort();
        assert_eq!(ids, ["listener_listener", "listener_notified"]);
        assert!(got
            .keys()
            .all(|k| k.ends_with("_|-mod_watch") || k.contains("conf")));
        assert_eq!(read(&dir, "ran.log"), "listener\n");
        assert_eq!(read(&dir, "app.conf"), "hello\n");
    }

    #[test]
    fn prereq_holder_runs_before_a_changed_root_only() {
        let (dir, plan) = fixture(
            r#"
conf:
  file.managed:
    - name: @DIR@/app.conf
    - contents: hello
stop:
  cmd.run:
    - name: "echo stop >> @DIR@/ran.log"
    - prereq:
      - file: conf
"#,
        );
        let applied = apply(&plan);
        clear_log(&dir);
        let got = rerun(&plan, &["conf"], &applied, false);
        assert_eq!(read(&dir, "ran.log"), "");
        assert!(!changed(ret(&got, "conf")));
        std::fs::write(dir.path().join("app.conf"), "tampered\n").unwrap();
        let got = rerun(&plan, &["conf"], &applied, false);
        assert_eq!(ran_ids(&got), ["stop", "conf"]);
        assert_eq!(read(&dir, "ran.log"), "stop\n");
        assert_eq!(read(&dir, "app.conf"), "hello\n");
    }

    #[test]
    fn full_run_still_reports_listen_errors() {
        let (_dir, plan) = fixture(
            r#"
a:
  test.succeed_with_changes:
    - listen:
      - test: ghost
"#,
        );
        let got = apply(&plan);
        assert!(got.contains_key("Listen_Error_|-listen_ghost_|-listen_test_|-Listen_Error"));
        let again = rerun(&plan, &["a"], &got, false);
        assert_eq!(ran_ids(&again), ["a"]);
    }
}
