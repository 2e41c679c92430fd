//! The minion configuration: Salt's key names and defaults, typed where Halite reads them,
//! and the whole merged mapping kept as `opts` (what Jinja's `opts` and `config.get` see).

use crate::{Map, Value};

/// Minion config keys Halite knows (Salt's names). Any other key is kept in `opts` and
/// reported once as unknown.
pub const KNOWN_MINION_KEYS: &[&str] = &[
    "id",
    "root_dir",
    "conf_file",
    "file_client",
    "file_roots",
    "pillar_roots",
    "grains",
    "state_top",
    "state_top_saltenv",
    "renderer",
    "jinja_env",
    "jinja_sls_env",
    "state_output",
    "state_verbose",
    "state_output_diff",
    "state_output_profile",
    "failhard",
    "test",
    "cachedir",
    "pki_dir",
    "sock_dir",
    "log_file",
    "log_level",
    "log_level_logfile",
    "log_fmt_console",
    "log_fmt_logfile",
    "enable_fqdns_grains",
    "nodegroups",
    "saltenv",
    "pillarenv",
    "top_file_merging_strategy",
    "env_order",
    "default_top",
    "hash_type",
    "master",
    "master_port",
    "publish_port",
    "user",
    "pillar",
    "pillar_merge_lists",
    "pillar_source_merging_strategy",
    "pillarenv_from_saltenv",
    "state_aggregate",
    "state_events",
    "startup_states",
    "schedule",
    "output",
    "color",
    "color_theme",
    "strip_colors",
    "ext_pillar",
    "file_ignore_regex",
    "file_ignore_glob",
    "fileserver_followsymlinks",
    "file_recv",
    "grains_cache",
    "ipv6",
    "master_type",
    "minion_id_caching",
    "multiprocessing",
    "retry_dns",
    "providers",
    "disable_modules",
    "disable_grains",
    "drift_watch",
    "drift_debounce_ms",
    "drift_full_check_interval",
    "drift_etcd_check_interval",
    "drift_retry_min",
    "drift_retry_max",
    "drift_beacon_events",
    "decrypt_pillar",
    "clean_dynamic_modules",
    "state_auto_order",
    "extension_modules",
    "module_dirs",
    "color_theme",
    "output_file",
    "state_output_terse",
    "yaml_utf8",
    "use_superseded",
    "features",
    "lock_saltenv",
    "acceptance_wait_time",
    "acceptance_wait_time_max",
    "rejected_retry",
    "recon_default",
    "recon_max",
    "recon_randomize",
    "tcp_keepalive",
    "tcp_keepalive_idle",
    "tcp_keepalive_cnt",
    "tcp_keepalive_intvl",
    "auth_timeout",
    "auth_tries",
    "keysize",
    "sign_pub_messages",
    "random_reauth_delay",
    "return_retry_tries",
    "master_finger",
    "sls_list",
    "top_file",
    "zmq_filtering",
];

/// Salt's default `*_roots`: `{base: [a, b]}`.
fn base_roots(a: &str, b: &str) -> Value {
    let mut m = Map::default();
    m.insert("base".into(), Value::List(vec![a.into(), b.into()]));
    Value::Map(m)
}

/// The parts of the minion config Halite's local pipeline reads, with Salt's defaults.
#[derive(Clone, Debug)]
pub struct MinionConfig {
    /// The whole merged configuration (defaults, file, overrides), as Salt's `__opts__`.
    pub opts: Map,
    /// Keys found in the config files that Halite does not know.
    pub unknown_keys: Vec<String>,
}

impl MinionConfig {
    /// Salt's defaults for a minion rooted at `root_dir` (`/` normally).
    pub fn defaults(root_dir: &str) -> Map {
        let join = |p: &str| -> Value {
            let root = root_dir.trim_end_matches('/');
            Value::Str(format!("{root}{p}"))
        };
        let mut m = Map::default();
        let mut ins = |k: &str, v: Value| {
            m.insert(Value::Str(k.to_string()), v);
        };
        ins("root_dir", Value::Str(root_dir.to_string()));
        ins("file_client", "remote".into());
        ins("master", "salt".into());
        ins("master_port", Value::Int(4506));
        ins("publish_port", Value::Int(4505));
        ins("cachedir", join("/var/cache/salt/minion"));
        ins("pki_dir", join("/etc/salt/pki/minion"));
        ins("sock_dir", join("/var/run/salt/minion"));
        ins("log_file", join("/var/log/salt/minion"));
        ins("log_level", "warning".into());
        ins("log_level_logfile", "warning".into());
        ins("file_roots", base_roots("/srv/salt", "/srv/spm/salt"));
        ins("pillar_roots", base_roots("/srv/pillar", "/srv/spm/pillar"));
        ins("state_top", "top.sls".into());
        ins("state_top_saltenv", Value::Null);
        ins("renderer", "jinja|yaml".into());
        ins("state_output", "full".into());
        ins("state_verbose", true.into());
        ins("failhard", false.into());
        ins("test", false.into());
        ins("saltenv", Value::Null);
        ins("pillarenv", Value::Null);
        ins("top_file_merging_strategy", "merge".into());
        ins("default_top", "base".into());
        ins("hash_type", "sha256".into());
        ins("grains", Value::map());
        ins("nodegroups", Value::map());
        ins("pillar_source_merging_strategy", "smart".into());
        ins("pillar_merge_lists", false.into());
        ins("state_aggregate", false.into());
        ins("state_events", false.into());
        ins("state_auto_order", true.into());
        ins("color", true.into());
        ins("jinja_env", Value::map());
        ins("jinja_sls_env", Value::map());
        ins("ext_pillar", Value::List(vec![]));
        ins("env_order", Value::List(vec![]));
        ins("enable_fqdns_grains", true.into());
        m
    }

    /// Merge `file` (the parsed config files) over the defaults. `root_dir` from the file
    /// re-roots the path defaults, as Salt's `apply_minion_config` does.
    pub fn from_file_map(file: Map) -> MinionConfig {
        let root = file
            .get("root_dir")
            .and_then(Value::as_str)
            .unwrap_or("/")
            .to_string();
        let mut opts = Self::defaults(&root);
        let mut unknown_keys = Vec::new();
        for (k, v) in file {
            if let Value::Str(key) = &k {
                if !KNOWN_MINION_KEYS.contains(&key.as_str()) {
                    unknown_keys.push(key.clone());
                }
                // Path keys given relative to the root are re-rooted, like Salt's
                // `prepend_root_dir`.
                let v = match (key.as_str(), v) {
                    ("cachedir" | "pki_dir" | "sock_dir" | "log_file", Value::Str(p))
                        if root != "/" && !p.starts_with(&root) =>
                    {
                        Value::Str(format!("{}{}", root.trim_end_matches('/'), p))
                    }
                    (_, v) => v,
                };
                opts.insert(k, v);
            } else {
                opts.insert(k, v);
            }
        }
        MinionConfig { opts, unknown_keys }
    }

    /// A string option.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.opts.get(key).and_then(Value::as_str)
    }

    /// A boolean option (Python truthiness).
    pub fn flag(&self, key: &str) -> bool {
        self.opts.get(key).is_some_and(Value::is_truthy)
    }

    /// The minion id.
    pub fn id(&self) -> &str {
        self.str("id").unwrap_or("")
    }

    /// The directories of one saltenv in a `*_roots` option (`file_roots`, `pillar_roots`).
    pub fn roots(&self, key: &str, saltenv: &str) -> Vec<String> {
        self.opts
            .get(key)
            .and_then(|v| v.get(saltenv))
            .and_then(Value::as_list)
            .map(|l| {
                l.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The saltenvs defined in a `*_roots` option, in config order.
    pub fn envs(&self, key: &str) -> Vec<String> {
        self.opts
            .get(key)
            .and_then(Value::as_map)
            .map(|m| m.keys().map(Value::py_str).collect())
            .unwrap_or_default()
    }
}

/// The master configuration: Salt's key names and defaults, the merged mapping kept as
/// `opts` (what `_master_opts` serves and the pillar renderer sees).
#[derive(Clone, Debug)]
pub struct MasterConfig {
    /// The whole merged configuration.
    pub opts: Map,
}

impl MasterConfig {
    /// Salt's master defaults for a master rooted at `root_dir`.
    pub fn defaults(root_dir: &str) -> Map {
        let root = root_dir.trim_end_matches('/').to_string();
        let join = |p: &str| -> Value { Value::Str(format!("{root}{p}")) };
        let mut m = Map::default();
        let mut ins = |k: &str, v: Value| {
            m.insert(Value::Str(k.to_string()), v);
        };
        ins("root_dir", Value::Str(root_dir.to_string()));
        ins("interface", "0.0.0.0".into());
        ins("publish_port", Value::Int(4505));
        ins("ret_port", Value::Int(4506));
        ins("pki_dir", join("/etc/salt/pki/master"));
        ins("cachedir", join("/var/cache/salt/master"));
        ins("sock_dir", join("/var/run/salt/master"));
        ins("log_file", join("/var/log/salt/master"));
        ins("key_logfile", join("/var/log/salt/key"));
        ins("log_level", "warning".into());
        ins("log_level_logfile", "warning".into());
        ins("user", "root".into());
        ins("worker_threads", Value::Int(5));
        ins("timeout", Value::Int(5));
        ins("gather_job_timeout", Value::Int(10));
        ins("keep_jobs", Value::Int(24));
        ins("keysize", Value::Int(2048));
        ins("auto_accept", false.into());
        ins("open_mode", false.into());
        ins("auth_events", true.into());
        ins("minion_data_cache", true.into());
        ins("rotate_aes_key", true.into());
        ins("publish_session", Value::Int(86400));
        ins("file_buffer_size", Value::Int(1_048_576));
        ins("hash_type", "sha256".into());
        ins("file_roots", base_roots("/srv/salt", "/srv/spm/salt"));
        ins("pillar_roots", base_roots("/srv/pillar", "/srv/spm/pillar"));
        ins("nodegroups", Value::map());
        ins("renderer", "jinja|yaml".into());
        ins("state_top", "salt://top.sls".into());
        ins("state_top_saltenv", Value::Null);
        ins("top_file_merging_strategy", "merge".into());
        ins("env_order", Value::List(vec![]));
        ins("default_top", "base".into());
        ins("failhard", false.into());
        ins("state_auto_order", true.into());
        ins("state_events", false.into());
        ins("state_aggregate", false.into());
        ins("jinja_env", Value::map());
        ins("jinja_sls_env", Value::map());
        ins("jinja_lstrip_blocks", false.into());
        ins("jinja_trim_blocks", false.into());
        ins("ext_pillar", Value::List(vec![]));
        ins("pillar_source_merging_strategy", "smart".into());
        ins("pillar_merge_lists", false.into());
        ins("pillarenv", Value::Null);
        ins("state_output", "full".into());
        ins("state_verbose", true.into());
        ins("color", true.into());
        ins("cli_summary", false.into());
        m
    }

    /// Merge the parsed config files over the defaults, re-rooting path keys under
    /// `root_dir` as Salt's `apply_master_config` does.
    pub fn from_file_map(file: Map) -> MasterConfig {
        let root = file
            .get("root_dir")
            .and_then(Value::as_str)
            .unwrap_or("/")
            .to_string();
        let mut opts = Self::defaults(&root);
        for (k, v) in file {
            let v = match (k.as_str(), v) {
                (
                    Some("cachedir" | "pki_dir" | "sock_dir" | "log_file" | "key_logfile"),
                    Value::Str(p),
                ) if root != "/" && !p.starts_with(&root) => {
                    Value::Str(format!("{}{}", root.trim_end_matches('/'), p))
                }
                (_, v) => v,
            };
            opts.insert(k, v);
        }
        MasterConfig { opts }
    }

    /// A string option.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.opts.get(key).and_then(Value::as_str)
    }

    /// An integer option (`default` when absent or not a number).
    pub fn int(&self, key: &str, default: i64) -> i64 {
        match self.opts.get(key) {
            Some(Value::Int(i)) => *i,
            Some(Value::Str(s)) => s.trim().parse().unwrap_or(default),
            Some(Value::Float(f)) => *f as i64,
            _ => default,
        }
    }

    /// A boolean option (Python truthiness).
    pub fn flag(&self, key: &str) -> bool {
        self.opts.get(key).is_some_and(Value::is_truthy)
    }

    /// A path option.
    pub fn path(&self, key: &str) -> std::path::PathBuf {
        std::path::PathBuf::from(self.str(key).unwrap_or(""))
    }
}
