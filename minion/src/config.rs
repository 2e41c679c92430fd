//! Loading the minion configuration: `<confdir>/minion`, then `minion.d/*.conf` in name order,
//! merged over Salt's defaults; unknown keys are reported once.

use halite_core::config::MinionConfig;
use halite_core::{Error, Map, Result, Value};
use std::path::Path;

fn load_file(path: &Path) -> Result<Map> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::default()),
        Err(e) => return Err(Error::io(path.display().to_string(), &e)),
    };
    match halite_render::yaml::load(&text) {
        Ok(Value::Map(m)) => Ok(m),
        Ok(Value::Null) => Ok(Map::default()),
        Ok(other) => Err(Error::Config(format!(
            "Error parsing configuration file: {} - conf should be a document, not {}.",
            path.display(),
            other.type_name()
        ))),
        Err(e) => Err(Error::Config(format!(
            "Error parsing configuration file: {} - {}",
            path.display(),
            e.message
        ))),
    }
}

/// Read `<confdir>/minion` and `<confdir>/minion.d/*.conf`; `overrides` (from the CLI) win.
pub fn load(confdir: &Path, overrides: Map) -> Result<MinionConfig> {
    let mut file = load_files(confdir, "minion")?;
    for (k, v) in overrides {
        file.insert(k, v);
    }
    finish(confdir, file)
}

/// Read `<confdir>/<name>` then `<confdir>/<name>.d/*.conf` in name order, merged (later
/// files win), as Salt reads `minion`/`master` and their drop-in directories.
pub fn load_files(confdir: &Path, name: &str) -> Result<Map> {
    let mut file = load_file(&confdir.join(name))?;
    let dropins = confdir.join(format!("{name}.d"));
    if let Ok(rd) = std::fs::read_dir(&dropins) {
        let mut paths: Vec<_> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect();
        paths.sort();
        for p in paths {
            for (k, v) in load_file(&p)? {
                file.insert(k, v);
            }
        }
    }
    Ok(file)
}

fn finish(confdir: &Path, file: Map) -> Result<MinionConfig> {
    let mut cfg = MinionConfig::from_file_map(file);
    cfg.opts.insert(
        "conf_file".into(),
        confdir.join("minion").display().to_string().into(),
    );
    if cfg.opts.get("id").is_none_or(Value::is_null) {
        let host = nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "localhost".into());
        cfg.opts.insert("id".into(), host.into());
    }
    for k in &cfg.unknown_keys {
        tracing::warn!(key = %k, "unknown minion config key (kept in opts)");
    }
    Ok(cfg)
}
