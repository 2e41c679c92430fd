//! Execution functions (`salt-call <fun>`, `salt['mod.fun']` in templates, `onlyif` in
//! function form), dispatched by name. Unknown names are `'x.y' is not available.`

mod args;
mod basic;
mod cp;
mod file;
mod hashutil;
mod mount_cron;
mod pkg;
mod service;
pub mod state;
mod sysctl_kmod;
mod users;

use crate::context::Minion;
use halite_core::{Functions, Map, Result, Value};
use std::sync::Arc;

pub use args::{parse_cli_args, yamlify_arg};

/// The execution functions of one run.
pub struct Exec {
    /// The run's context.
    pub minion: Arc<Minion>,
    /// True while the pillar itself is being compiled (pillar functions see no pillar yet).
    pub compiling_pillar: bool,
}

/// The outputter Salt uses for a function's return by default.
pub fn default_outputter(fun: &str) -> &'static str {
    match fun {
        "state.apply"
        | "state.sls"
        | "state.highstate"
        | "state.single"
        | "state.top"
        | "state.template"
        | "state.template_str"
        | "state.sls_id"
        | "state.request"
        | "state.run_request"
        | "state.check_request" => "highstate",
        _ => "nested",
    }
}

/// Every function name Halite provides.
pub const FUNCTIONS: &[&str] = &[
    "test.ping",
    "test.echo",
    "test.true",
    "test.false",
    "test.arg",
    "test.kwarg",
    "test.version",
    "test.sleep",
    "test.retcode",
    "test.fib",
    "cmd.run",
    "cmd.run_all",
    "cmd.run_stdout",
    "cmd.run_stderr",
    "cmd.retcode",
    "cmd.shell",
    "grains.items",
    "grains.item",
    "grains.get",
    "grains.ls",
    "grains.filter_by",
    "pillar.get",
    "pillar.items",
    "pillar.item",
    "pillar.raw",
    "pillar.ls",
    "pillar.data",
    "config.get",
    "config.option",
    "slsutil.merge",
    "slsutil.renderer",
    "slsutil.update",
    "file.file_exists",
    "file.directory_exists",
    "file.exists",
    "file.join",
    "match.glob",
    "match.compound",
    "match.grain",
    "match.pillar",
    "match.list",
    "match.pcre",
    "state.apply",
    "state.sls",
    "state.highstate",
    "state.show_highstate",
    "state.show_lowstate",
    "state.show_sls",
    "state.show_low_sls",
    "state.sls_exists",
    "state.show_top",
    "state.running",
    "cmd.has_exec",
    "cmd.which",
    "defaults.deepcopy",
    "state.single",
    "state.sls_id",
    "state.template_str",
    "sys.list_functions",
    "sys.doc",
];

impl Functions for Exec {
    fn call(&self, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
        let mut kwargs = kwargs.clone();
        // Salt drops `__pub_*` and other dunder keywords before calling.
        // Salt drops `__pub_*` and other dunder keywords before calling, except for the
        // functions that echo their keyword arguments.
        if !matches!(name, "test.arg" | "test.kwarg") {
            kwargs.retain(|k, _| !k.as_str().is_some_and(|s| s.starts_with("__")));
        }
        let (module, _) = name.split_once('.').unwrap_or((name, ""));
        match module {
            "state" => state::call(self, name, args, &kwargs),
            // Only with the daemon's drift engine (`drift_watch: true`); otherwise not
            // available, as in Salt.
            "drift" if self.minion.drift().is_some() => crate::drift::call(&self.minion, name),
            "cp" => cp::call(self, name, args, &kwargs),
            "user" | "group" => users::call(self, name, args, &kwargs),
            "hashutil" => hashutil::call(self, name, args, &kwargs),
            "pkg" => pkg::call(self, name, args, &kwargs),
            "service" => service::call(self, name, args, &kwargs),
            "sysctl" | "kmod" => sysctl_kmod::call(self, name, args, &kwargs),
            "mount" | "cron" => mount_cron::call(self, name, args, &kwargs),
            "file" if !basic::handles(name) => file::call(self, name, args, &kwargs),
            _ if halite_k8s::provides(name) => {
                let minion = &self.minion;
                let ctx = halite_k8s::ExecContext {
                    opts: minion.opts(),
                    grains: minion.grains(),
                    pillar: if self.compiling_pillar {
                        &Value::Null
                    } else {
                        minion.pillar()
                    },
                    functions: self,
                };
                halite_k8s::call(&ctx, name, args, &kwargs)
            }
            _ => basic::call(self, name, args, &kwargs),
        }
    }

    fn exists(&self, name: &str) -> bool {
        FUNCTIONS.contains(&name)
            || file::FUNCTIONS.contains(&name)
            || cp::FUNCTIONS.contains(&name)
            || users::FUNCTIONS.contains(&name)
            || hashutil::FUNCTIONS.contains(&name)
            || pkg::FUNCTIONS.contains(&name)
            || service::FUNCTIONS.contains(&name)
            || sysctl_kmod::FUNCTIONS.contains(&name)
            || mount_cron::FUNCTIONS.contains(&name)
            || halite_k8s::provides(name)
            || (self.minion.drift().is_some() && crate::drift::FUNCTIONS.contains(&name))
    }
}

pub use halite_core::functions::{arg, required};
