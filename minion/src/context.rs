//! One minion run's context: options, grains, pillar (compiled once, on first use), the file
//! roots, the Jinja environment and the state registry. Execution functions run against it.

use crate::fileclient::FileClient;
use crate::fileroots::LocalRoots;
use crate::template::{render, RenderJob, Rendered};
use halite_core::config::MinionConfig;
use halite_core::{Functions, Map, Value};
use halite_render::jinja::{Jinja, SharedContext};
use halite_states::Registry;
use std::sync::{Arc, Mutex, OnceLock};

/// Everything a run needs.
pub struct Minion {
    /// The minion configuration.
    pub cfg: MinionConfig,
    grains: OnceLock<Value>,
    /// Call-time `pillar=` data.
    pub pillar_override: Option<Map>,
    /// The state tree (`salt://`), through the fileclient.
    pub roots: Arc<dyn FileClient>,
    /// The pillar tree.
    pub pillar_roots: Arc<dyn FileClient>,
    /// The run's Jinja environment (templates compiled once).
    pub jinja: Jinja,
    /// The pillar Jinja environment (loads from the pillar roots).
    pub pillar_jinja: Jinja,
    /// Native state modules.
    pub registry: Registry,
    pillar: OnceLock<(Value, Vec<String>)>,
    shared: OnceLock<SharedContext>,
    /// The retcode functions set (Salt's `__context__["retcode"]`).
    pub retcode: std::sync::atomic::AtomicI64,
    job: OnceLock<Map>,
    /// The daemon's drift engine (`drift_watch: true` only).
    drift: OnceLock<Arc<crate::drift::Drift>>,
    /// What this run's state run applied, for the drift engine.
    applied: Mutex<Option<crate::drift::Applied>>,
}

impl Minion {
    /// A context over a loaded configuration. Grains are computed on first use (most
    /// functions need them, `test.ping` does not).
    pub fn new(cfg: MinionConfig, pillar_override: Option<Map>) -> Arc<Minion> {
        let roots: Arc<dyn FileClient> = Arc::new(LocalRoots::from_config(&cfg, "file_roots"));
        let pillar_roots: Arc<dyn FileClient> =
            Arc::new(LocalRoots::from_config(&cfg, "pillar_roots"));
        let jinja = Jinja::new(roots.clone());
        let pillar_jinja = Jinja::new(pillar_roots.clone());
        Arc::new(Minion {
            cfg,
            grains: OnceLock::new(),
            pillar_override,
            roots,
            pillar_roots,
            jinja,
            pillar_jinja,
            registry: state_registry(),
            pillar: OnceLock::new(),
            shared: OnceLock::new(),
            retcode: std::sync::atomic::AtomicI64::new(0),
            job: OnceLock::new(),
            drift: OnceLock::new(),
            applied: Mutex::new(None),
        })
    }

    /// Grains: the computed core grains with the config's static `grains:` merged on top.
    pub fn grains(&self) -> &Value {
        self.grains
            .get_or_init(|| Value::Map(crate::grains::core_grains(&self.cfg.opts)))
    }

    /// Record the job this run executes for: its publication (`jid`, `fun`, `arg`, `tgt`,
    /// `ret`, `user`, ...; what Salt passes to the function as `__pub_*` keywords). Set once,
    /// by the caller, before the function runs; later calls are ignored.
    pub fn set_job(&self, job: Map) {
        let _ = self.job.set(job);
    }

    /// The job this run executes for (see [`Minion::set_job`]), if any.
    pub fn job(&self) -> Option<&Map> {
        self.job.get()
    }

    /// Attach the daemon's drift engine (set once, by the daemon, before the function runs):
    /// the `drift.*` functions exist and state runs record what they applied.
    pub fn set_drift(&self, drift: Arc<crate::drift::Drift>) {
        let _ = self.drift.set(drift);
    }

    /// The daemon's drift engine, when `drift_watch` is on.
    pub fn drift(&self) -> Option<&Arc<crate::drift::Drift>> {
        self.drift.get()
    }

    /// Keep what a state run applied (the latest run of this context wins).
    pub fn record_applied(&self, applied: crate::drift::Applied) {
        *self.applied.lock().unwrap_or_else(|p| p.into_inner()) = Some(applied);
    }

    /// Take what this context's state run applied, if it recorded anything.
    pub fn take_applied(&self) -> Option<crate::drift::Applied> {
        self.applied
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// The jid of the job this run executes for.
    pub fn jid(&self) -> Option<String> {
        self.job()?
            .get("jid")
            .filter(|v| !v.is_null())
            .map(Value::py_str)
    }

    /// The options map (`__opts__`).
    pub fn opts(&self) -> &Map {
        &self.cfg.opts
    }

    /// The compiled pillar and its errors.
    pub fn pillar_full(self: &Arc<Self>) -> &(Value, Vec<String>) {
        self.pillar.get_or_init(|| {
            let src = PillarFiles {
                minion: self.clone(),
            };
            let ext = self
                .opts()
                .get("ext_pillar")
                .filter(|v| !matches!(v, Value::List(l) if l.is_empty()));
            let ext_first = self
                .opts()
                .get("ext_pillar_first")
                .is_some_and(Value::is_truthy);
            let (p, errors) =
                halite_pillar::compile(&src, self.pillar_override.as_ref(), ext, ext_first);
            (Value::Map(p), errors)
        })
    }

    /// The compiled pillar.
    pub fn pillar(self: &Arc<Self>) -> &Value {
        &self.pillar_full().0
    }

    /// Does this minion match `tgt` (used by top files)?
    pub fn matches(self: &Arc<Self>, tgt: &Value, tgt_type: &str, pillar: &Value) -> bool {
        let empty = Map::default();
        let nodegroups = self
            .opts()
            .get("nodegroups")
            .and_then(Value::as_map)
            .unwrap_or(&empty);
        let data = halite_target::MinionData {
            id: self.cfg.id(),
            grains: self.grains(),
            pillar,
            nodegroups,
        };
        halite_target::matches(tgt, tgt_type, &data, ":").unwrap_or(false)
    }

    /// The template context for SLS and top files: grains, pillar, opts.
    pub fn context(self: &Arc<Self>) -> Map {
        let mut ctx = Map::default();
        ctx.insert("grains".into(), self.grains().clone());
        ctx.insert("pillar".into(), self.pillar().clone());
        ctx.insert("opts".into(), Value::Map(self.opts_with_pillar()));
        ctx
    }

    /// The template context converted once for the whole run (see [`SharedContext`]).
    pub fn shared_context(self: &Arc<Self>) -> &SharedContext {
        self.shared
            .get_or_init(|| SharedContext::new(&self.context()))
    }

    /// `__opts__` as templates see it (with `grains` and `pillar`).
    pub fn opts_with_pillar(self: &Arc<Self>) -> Map {
        let mut o = self.opts().clone();
        o.insert("grains".into(), self.grains().clone());
        o.insert("pillar".into(), self.pillar().clone());
        o
    }

    /// Execution functions bound to this run.
    pub fn functions(self: &Arc<Self>) -> Arc<dyn Functions> {
        Arc::new(crate::exec::Exec {
            minion: self.clone(),
            compiling_pillar: false,
        })
    }
}

/// The pillar tree seen through [`halite_pillar::PillarSource`].
struct PillarFiles {
    minion: Arc<Minion>,
}

impl PillarFiles {
    fn render(
        &self,
        saltenv: &str,
        rel: &str,
        sls: &str,
        pillar: &Map,
    ) -> Result<Option<Value>, String> {
        let m = &self.minion;
        let Some(path) = m.pillar_roots.cache_file(saltenv, rel) else {
            return Ok(None);
        };
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut ctx = Map::default();
        ctx.insert("grains".into(), m.grains().clone());
        ctx.insert("pillar".into(), Value::Map(pillar.clone()));
        let mut opts = m.opts().clone();
        opts.insert("grains".into(), m.grains().clone());
        opts.insert("pillar".into(), Value::Map(pillar.clone()));
        ctx.insert("opts".into(), Value::Map(opts));
        let functions: Arc<dyn Functions> = Arc::new(crate::exec::Exec {
            minion: m.clone(),
            compiling_pillar: true,
        });
        let full = path.display().to_string();
        let pipe = m
            .opts()
            .get("renderer")
            .map(Value::py_str)
            .unwrap_or_else(|| "jinja|yaml".into());
        let job = RenderJob {
            text: &text,
            rel,
            full: &full,
            saltenv,
            sls,
            context: &ctx,
            shared: None,
            functions,
            default_pipe: &pipe,
        };
        match render(&m.pillar_jinja, &job)? {
            Rendered::Data(d) => Ok(Some(d)),
            Rendered::Text(t) => Ok(Some(Value::Str(t))),
        }
    }
}

impl halite_pillar::PillarSource for PillarFiles {
    fn envs(&self) -> Vec<String> {
        self.minion.pillar_roots.envs()
    }

    fn pillarenv(&self) -> Option<String> {
        self.minion
            .opts()
            .get("pillarenv")
            .filter(|v| !v.is_null())
            .map(Value::py_str)
    }

    fn render_top(&self, saltenv: &str) -> Result<Option<Value>, String> {
        self.render(saltenv, "top.sls", "", &Map::default())
    }

    fn safe_render_error(&self) -> bool {
        self.minion
            .opts()
            .get("pillar_safe_render_error")
            .is_none_or(Value::is_truthy)
    }

    fn render_sls(&self, saltenv: &str, sls: &str, pillar: &Map) -> Result<Option<Value>, String> {
        match self.minion.pillar_roots.find_sls(saltenv, sls) {
            Some((rel, _)) => self.render(saltenv, &rel, sls, pillar),
            None => Ok(None),
        }
    }

    fn matches(&self, tgt: &Value, tgt_type: &str) -> bool {
        let empty = Value::Map(Map::default());
        self.minion.matches(tgt, tgt_type, &empty)
    }

    fn ext_pillar(&self, name: &str, _pillar: &Map, args: &Value) -> Option<Result<Map, String>> {
        match name {
            "file_tree" => Some(crate::ext_pillar::file_tree(
                self.minion.cfg.id(),
                self.minion.opts(),
                args,
                &|_group: &str| false,
            )),
            _ => None,
        }
    }
}

impl Minion {
    /// A context for compiling `id`'s pillar on the master: the master's options (with the
    /// minion's `id`), and the grains the minion sent.
    pub fn for_pillar(
        cfg: MinionConfig,
        pillar_override: Option<Map>,
        grains: Value,
    ) -> Arc<Minion> {
        let m = Minion::new(cfg, pillar_override);
        let _ = m.grains.set(grains);
        m
    }
}

impl Minion {
    /// A context whose `salt://` files come from `roots` (the master's fileserver for a
    /// daemon job), with grains and pillar already known (computed once by the daemon,
    /// fetched from the master).
    pub fn with_sources(
        cfg: MinionConfig,
        roots: Arc<dyn FileClient>,
        grains: Value,
        pillar: Value,
    ) -> Arc<Minion> {
        let pillar_roots: Arc<dyn FileClient> =
            Arc::new(LocalRoots::from_config(&cfg, "pillar_roots"));
        let jinja = Jinja::new(roots.clone());
        let pillar_jinja = Jinja::new(pillar_roots.clone());
        let m = Minion {
            cfg,
            grains: OnceLock::new(),
            pillar_override: None,
            roots,
            pillar_roots,
            jinja,
            pillar_jinja,
            registry: state_registry(),
            pillar: OnceLock::new(),
            shared: OnceLock::new(),
            retcode: std::sync::atomic::AtomicI64::new(0),
            job: OnceLock::new(),
            drift: OnceLock::new(),
            applied: Mutex::new(None),
        };
        let _ = m.grains.set(grains);
        // The master reports its pillar compile errors under `_errors` (Salt's shape); the
        // state functions refuse to run on them.
        let errors = match &pillar {
            Value::Map(p) => match p.get("_errors") {
                Some(Value::List(l)) => l.iter().map(Value::py_str).collect(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        let _ = m.pillar.set((pillar, errors));
        Arc::new(m)
    }
}

/// Every native state module: the core ones and the Kubernetes node's.
fn state_registry() -> Registry {
    let mut r = Registry::new();
    halite_k8s::register(&mut r);
    r
}
