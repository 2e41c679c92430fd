//! Salt's pillar: the pillar top file, pillar SLS with includes, merged as Salt merges them,
//! and call-time `pillar=` overrides.
//!
//! Invariant: pure over a [`PillarSource`]; a minion's pillar holds only what its top gives it.

pub mod merge;

use halite_core::{Map, Value};

pub use merge::merge_recurse;

/// Where pillar files come from and how targets match (implemented by the minion or master).
pub trait PillarSource {
    /// The pillar environments, in config order.
    fn envs(&self) -> Vec<String>;
    /// `pillarenv`: when set, only that environment's top file and sections count.
    fn pillarenv(&self) -> Option<String> {
        None
    }
    /// The rendered pillar top file of an environment (`None` when there is none).
    fn render_top(&self, saltenv: &str) -> Result<Option<Value>, String>;
    /// A rendered pillar SLS (`None` when it does not exist); `pillar` is what is compiled so far.
    fn render_sls(&self, saltenv: &str, sls: &str, pillar: &Map) -> Result<Option<Value>, String>;
    /// Does this minion match `tgt` with matcher `tgt_type`?
    fn matches(&self, tgt: &Value, tgt_type: &str) -> bool;
    /// Run the external pillar `name` with its configured `args` over the pillar so far.
    /// `None` when no such ext_pillar is available.
    fn ext_pillar(&self, name: &str, pillar: &Map, args: &Value) -> Option<Result<Map, String>>;
    /// `pillar_safe_render_error` (default true): a failed SLS is reported as "Please see
    /// master log" instead of with its render error.
    fn safe_render_error(&self) -> bool {
        true
    }
}

/// Run the `ext_pillar` option's entries in order, merging each result (Salt's `ext_pillar`).
fn run_ext_pillars(
    src: &dyn PillarSource,
    ext: &Value,
    mut pillar: Map,
    overrides: Option<&Map>,
    errors: &mut Vec<String>,
) -> Map {
    let Value::List(runs) = ext else {
        errors.push("The \"ext_pillar\" option is malformed".into());
        return pillar;
    };
    if let Some(o) = overrides {
        merge_recurse(&mut pillar, o.clone());
    }
    for run in runs {
        let Value::Map(run) = run else {
            errors.push("The \"ext_pillar\" option is malformed".into());
            return Map::default();
        };
        for (name, args) in run {
            let name = name.py_str();
            match src.ext_pillar(&name, &pillar, args) {
                None => tracing::error!(
                    "ext_pillar interface named {name} is unavailable. Make sure it is placed in the correct directory/location."
                ),
                Some(Err(e)) => errors.push(format!("Failed to load ext_pillar {name}: {e}")),
                Some(Ok(data)) => {
                    if !data.is_empty() {
                        merge_recurse(&mut pillar, data);
                    }
                }
            }
        }
    }
    pillar
}

/// The SLS names each environment's top file gives this minion, in top-file order.
pub fn top_matches(src: &dyn PillarSource, errors: &mut Vec<String>) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let only = src.pillarenv();
    let envs = match &only {
        Some(e) => vec![e.clone()],
        None => src.envs(),
    };
    for env in envs {
        let top = match src.render_top(&env) {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(e) => {
                errors.push(format!(
                    "Rendering Primary Top file failed, render error:\n{e}"
                ));
                continue;
            }
        };
        let Some(top) = top.as_map() else { continue };
        for (tenv, targets) in top {
            let tenv = tenv.py_str();
            let Some(targets) = targets.as_map() else {
                continue;
            };
            for (tgt, items) in targets {
                let Some(items) = items.as_list() else {
                    continue;
                };
                let mut tgt_type = "glob".to_string();
                let mut sls_list = Vec::new();
                for item in items {
                    match item {
                        Value::Map(m) => {
                            if let Some(t) = m.get("match") {
                                tgt_type = t.py_str();
                            }
                        }
                        other => sls_list.push(other.py_str()),
                    }
                }
                if src.matches(tgt, &tgt_type) {
                    let slot = match out.iter_mut().find(|(e, _)| *e == tenv) {
                        Some(s) => s,
                        None => {
                            out.push((tenv.clone(), Vec::new()));
                            let last = out.len() - 1;
                            &mut out[last]
                        }
                    };
                    for s in sls_list {
                        if !slot.1.contains(&s) {
                            slot.1.push(s);
                        }
                    }
                }
            }
        }
    }
    out
}

fn render_one(
    src: &dyn PillarSource,
    env: &str,
    sls: &str,
    pillar: &mut Map,
    seen: &mut Vec<String>,
    errors: &mut Vec<String>,
) {
    let key = format!("{env}:{sls}");
    if seen.contains(&key) {
        return;
    }
    seen.push(key);
    match src.render_sls(env, sls, pillar) {
        Ok(None) => errors.push(format!(
            "Specified SLS '{sls}' in environment '{env}' is not available on the salt master"
        )),
        Err(e) => {
            let msg = format!("Rendering SLS '{sls}' failed, render error:\n{e}");
            tracing::error!("{msg}");
            errors.push(if src.safe_render_error() {
                format!("Rendering SLS '{sls}' failed. Please see master log for details.")
            } else {
                msg
            });
        }
        Ok(Some(Value::Null)) => {}
        Ok(Some(Value::Map(mut m))) => {
            if let Some(inc) = m.shift_remove("include") {
                for item in inc.as_list().cloned().unwrap_or_default() {
                    let (name, defaults_key) = match &item {
                        Value::Map(im) => match im.get_index(0) {
                            Some((k, v)) => (k.py_str(), v.get("key").map(Value::py_str)),
                            None => continue,
                        },
                        other => (other.py_str(), None),
                    };
                    let name = if let Some(rel) = name.strip_prefix('.') {
                        let parent = sls.rsplit_once('.').map(|x| x.0).unwrap_or("");
                        if parent.is_empty() {
                            rel.to_string()
                        } else {
                            format!("{parent}.{rel}")
                        }
                    } else {
                        name
                    };
                    if let Some(k) = defaults_key {
                        let mut sub = Map::default();
                        render_one(src, env, &name, &mut sub, seen, errors);
                        let mut nested = Map::default();
                        nested.insert(Value::Str(k), Value::Map(sub));
                        merge_recurse(pillar, nested);
                    } else {
                        render_one(src, env, &name, pillar, seen, errors);
                    }
                }
            }
            merge_recurse(pillar, m);
        }
        Ok(Some(_)) => errors.push(format!("SLS '{sls}' does not render to a dictionary")),
    }
}

/// Compile the pillar: top file matches, every SLS merged in order, then `overrides`.
/// Errors go to the returned list (Salt puts them under `_errors`).
/// `ext` is the `ext_pillar` option (run after the SLS pillar, or before it with
/// `ext_first`, Salt's `ext_pillar_first`).
pub fn compile(
    src: &dyn PillarSource,
    overrides: Option<&Map>,
    ext: Option<&Value>,
    ext_first: bool,
) -> (Map, Vec<String>) {
    let mut errors = Vec::new();
    let mut pillar = Map::default();
    if let (Some(ext), true) = (ext, ext_first) {
        pillar = run_ext_pillars(src, ext, pillar, overrides, &mut errors);
    }
    let matches = top_matches(src, &mut errors);
    let mut seen = Vec::new();
    for (env, slss) in matches {
        for sls in slss {
            render_one(src, &env, &sls, &mut pillar, &mut seen, &mut errors);
        }
    }
    if let (Some(ext), false) = (ext, ext_first) {
        pillar = run_ext_pillars(src, ext, pillar, overrides, &mut errors);
    }
    if let Some(o) = overrides {
        merge_recurse(&mut pillar, o.clone());
    }
    (pillar, errors)
}
