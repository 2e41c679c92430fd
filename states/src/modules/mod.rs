//! Native state modules, one file each, behind one table keyed `"module.function"`.

pub mod cmd;
pub mod cron;
pub mod file;
pub mod group;
pub mod kmod;
pub mod mount;
pub mod pkg;
pub mod pkgrepo;
pub mod service;
pub mod sysctl;
pub mod test;
pub mod user;

use crate::chunk::Chunk;
use halite_core::{Functions, Map, Result, Value};
use std::collections::HashMap;

/// What a state function sees: its low chunk, test mode, and the execution functions.
pub struct StateCall<'a> {
    /// The low chunk (arguments included); for `mod_watch`, `sfun` holds the original function.
    pub low: &'a Chunk,
    /// `test=True` for this call.
    pub test: bool,
    /// Execution functions (`salt['...']` for state modules).
    pub functions: &'a dyn Functions,
    /// The minion options.
    pub opts: &'a Map,
    /// For `mod_watch` after a `watch`: the requisites by type (`watch` → chunks).
    pub reqs: Option<&'a Map>,
    /// Tags of the states that already ran, with their returns.
    pub running: &'a indexmap::IndexMap<String, Map>,
}

impl StateCall<'_> {
    /// An argument of the chunk.
    pub fn arg(&self, key: &str) -> Option<&Value> {
        self.low.get(key)
    }

    /// A string argument.
    pub fn str_arg(&self, key: &str) -> Option<&str> {
        self.low.get(key).and_then(Value::as_str)
    }

    /// `name`, as Python's `str()`.
    pub fn name(&self) -> String {
        self.low.get("name").map(Value::py_str).unwrap_or_default()
    }

    /// A boolean argument with a default (Python truthiness).
    pub fn flag(&self, key: &str, default: bool) -> bool {
        self.low.get(key).map_or(default, Value::is_truthy)
    }
}

/// A state function: low chunk in, Salt's return dict out.
pub type StateFn = fn(&StateCall) -> Result<Map>;

/// A module's `mod_init`: run before the first chunk of the module in a state run, with
/// that chunk and the options; `true` marks the module initialised for the run.
pub type ModInitFn = fn(&Chunk, &Map) -> bool;

/// A module's `mod_aggregate`: the chunk about to run and the other chunks it may absorb
/// (same module, aggregation allowed, not yet run, no requisite path to it) → the chunk to
/// run instead and the positions (in `others`) of the chunks it absorbed.
pub type ModAggregateFn = fn(&Chunk, &[&Chunk]) -> (Chunk, Vec<usize>);

/// The registry of state modules.
pub struct Registry {
    mod_aggregate: HashMap<&'static str, ModAggregateFn>,
    functions: HashMap<&'static str, StateFn>,
    mod_watch: HashMap<&'static str, StateFn>,
    mod_init: HashMap<&'static str, ModInitFn>,
}

impl Registry {
    /// Every native state module.
    pub fn new() -> Self {
        let mut r = Registry {
            functions: HashMap::default(),
            mod_watch: HashMap::default(),
            mod_init: HashMap::default(),
            mod_aggregate: HashMap::default(),
        };
        test::register(&mut r);
        cmd::register(&mut r);
        file::register(&mut r);
        sysctl::register(&mut r);
        kmod::register(&mut r);
        pkg::register(&mut r);
        pkgrepo::register(&mut r);
        service::register(&mut r);
        mount::register(&mut r);
        cron::register(&mut r);
        user::register(&mut r);
        group::register(&mut r);
        r
    }

    /// Add `module.function`.
    pub fn add(&mut self, full: &'static str, f: StateFn) {
        self.functions.insert(full, f);
    }

    /// Set a module's `mod_watch`.
    pub fn add_mod_watch(&mut self, module: &'static str, f: StateFn) {
        self.mod_watch.insert(module, f);
    }

    /// Set a module's `mod_aggregate`.
    pub fn add_mod_aggregate(&mut self, module: &'static str, f: ModAggregateFn) {
        self.mod_aggregate.insert(module, f);
    }

    /// The module's `mod_aggregate`.
    pub fn mod_aggregate(&self, module: &str) -> Option<ModAggregateFn> {
        self.mod_aggregate.get(module).copied()
    }

    /// Set a module's `mod_init`.
    pub fn add_mod_init(&mut self, module: &'static str, f: ModInitFn) {
        self.mod_init.insert(module, f);
    }

    /// The module's `mod_init`.
    pub fn mod_init(&self, module: &str) -> Option<ModInitFn> {
        self.mod_init.get(module).copied()
    }

    /// The function `module.function`.
    pub fn get(&self, full: &str) -> Option<StateFn> {
        self.functions.get(full).copied()
    }

    /// The module's `mod_watch`.
    pub fn mod_watch(&self, module: &str) -> Option<StateFn> {
        self.mod_watch.get(module).copied()
    }

    /// The arguments `module.function` cannot do without (Salt's argspec: the parameters
    /// without defaults); a chunk missing one fails with `Missing parameter ...`.
    pub fn required_params(&self, full: &str) -> &'static [&'static str] {
        match full {
            "file.replace" => &["name", "pattern", "repl"],
            "file.comment" | "file.uncomment" => &["name", "regex"],
            "file.symlink" => &["name", "target"],
            "file.copy" | "file.recurse" => &["name", "source"],
            "sysctl.present" => &["name", "value"],
            "mount.mounted" => &["name", "device", "fstype"],
            _ => &["name"],
        }
    }

    /// Does the module have `mod_watch`? (Without it, `watch` degrades to `require`.)
    pub fn has_mod_watch(&self, module: &str) -> bool {
        self.mod_watch.contains_key(module)
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

/// Build a state return in Salt's usual key order: name, changes, result, comment.
pub fn ret(name: &str, changes: Map, result: Option<bool>, comment: impl Into<String>) -> Map {
    let mut m = Map::with_capacity_and_hasher(8, Default::default());
    m.insert("name".into(), name.into());
    m.insert("changes".into(), Value::Map(changes));
    m.insert("result".into(), result.map_or(Value::Null, Value::Bool));
    m.insert("comment".into(), Value::Str(comment.into()));
    m
}
