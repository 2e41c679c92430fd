//! Renderer pipes (`#!jinja|yaml`), the SLS template context, and rendering a file of the
//! state or pillar tree into data, with Salt's error texts.

use halite_core::{Functions, Map, Value};
use halite_render::jinja::{Jinja, RenderRequest, SharedContext};
use std::sync::Arc;

/// Salt's `generate_sls_context`: `tplfile`, `tpldir`, `tpldot`, `slspath` and friends.
pub fn sls_context(tplpath: &str, rel: &str, sls: &str) -> Map {
    let mut m = Map::default();
    let slspath_full = sls.replace('.', "/");
    let slspath_full = slspath_full.trim_end_matches('/');
    let template = if sls.is_empty() {
        rel.rsplit('/').next().unwrap_or(rel).to_string()
    } else if rel.ends_with(&format!("{slspath_full}.sls"))
        || rel.ends_with(&format!("{slspath_full}/init.sls"))
    {
        rel.to_string()
    } else {
        let parent = match sls.rfind('/') {
            Some(i) => sls[..i].to_string(),
            None => ".".to_string(),
        };
        m.insert("tplpath".into(), tplpath.into());
        m.insert("tplfile".into(), sls.into());
        m.insert("tpldir".into(), parent.into());
        return m;
    };
    let slspath = match template.rfind('/') {
        Some(i) => template[..i].to_string(),
        None => String::new(),
    };
    m.insert("tplpath".into(), tplpath.into());
    m.insert("tplfile".into(), template.clone().into());
    m.insert(
        "tpldir".into(),
        if slspath.is_empty() {
            ".".into()
        } else {
            slspath.clone().into()
        },
    );
    m.insert("tpldot".into(), slspath.replace('/', ".").into());
    m.insert("slspath".into(), slspath.clone().into());
    m.insert("slsdotpath".into(), slspath.replace('/', ".").into());
    m.insert("slscolonpath".into(), slspath.replace('/', ":").into());
    m.insert("sls_path".into(), slspath.replace('/', "_").into());
    m
}

/// The renderer pipe of a text: its `#!` line, or `default` (`jinja|yaml`).
pub fn pipe_of(text: &str, default: &str) -> Vec<String> {
    let first = text.lines().next().unwrap_or("");
    let spec = match first.strip_prefix("#!") {
        Some(s) if !s.trim().is_empty() => s.trim().to_string(),
        _ => default.to_string(),
    };
    spec.split('|')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// What a render produced: text (after Jinja only) or data.
#[derive(Debug, Clone)]
pub enum Rendered {
    /// Text (a pipe ending in a text renderer).
    Text(String),
    /// Data (after `yaml` or `json`).
    Data(Value),
}

/// One render of a template file through its pipe.
pub struct RenderJob<'a> {
    /// The template text.
    pub text: &'a str,
    /// Path relative to the saltenv root (`app/init.sls`).
    pub rel: &'a str,
    /// Full path on disk (for `tplpath`).
    pub full: &'a str,
    /// The saltenv.
    pub saltenv: &'a str,
    /// The sls name (`app`), empty for non-sls files.
    pub sls: &'a str,
    /// Per-render context entries (over `shared`).
    pub context: &'a Map,
    /// The run's shared, pre-converted context (grains, pillar, opts), if any.
    pub shared: Option<&'a SharedContext>,
    /// Execution functions for `salt[...]`.
    pub functions: Arc<dyn Functions>,
    /// The default pipe (`renderer` option).
    pub default_pipe: &'a str,
}

/// Render `job` through its renderer pipe. The error is Salt's message without the
/// `Rendering SLS '...' failed: ` prefix.
pub fn render(jinja: &Jinja, job: &RenderJob) -> Result<Rendered, String> {
    let mut cur = Rendered::Text(job.text.to_string());
    for r in pipe_of(job.text, job.default_pipe) {
        cur = match (r.as_str(), cur) {
            ("jinja", Rendered::Text(t)) => {
                let mut ctx = job.context.clone();
                ctx.insert("saltenv".into(), job.saltenv.into());
                if !job.sls.is_empty() || job.rel.ends_with(".sls") {
                    ctx.insert("sls".into(), job.sls.into());
                    for (k, v) in sls_context(job.full, job.rel, job.sls) {
                        if !ctx.contains_key(&k) {
                            ctx.insert(k, v);
                        }
                    }
                } else {
                    ctx.insert("tplpath".into(), job.full.into());
                    ctx.insert("tplfile".into(), job.rel.into());
                    let dir = job.rel.rsplit_once('/').map(|x| x.0).unwrap_or(".");
                    ctx.insert("tpldir".into(), dir.into());
                }
                let req = RenderRequest {
                    source: &t,
                    name: job.rel,
                    saltenv: job.saltenv,
                    context: &ctx,
                    functions: job.functions.clone(),
                    shared: job.shared,
                };
                Rendered::Text(jinja.render(&req).map_err(|e| e.message)?)
            }
            ("yaml", Rendered::Text(t)) => {
                Rendered::Data(halite_render::yaml::load(&t).map_err(|e| e.message)?)
            }
            ("json", Rendered::Text(t)) => {
                // Salt's json renderer drops a leading shebang line; blank input is `{}`.
                let body = if t.starts_with("#!") {
                    t.split_once('\n').map_or("", |x| x.1)
                } else {
                    t.as_str()
                };
                if body.trim().is_empty() {
                    Rendered::Data(Value::map())
                } else {
                    let j: serde_json::Value =
                        serde_json::from_str(body).map_err(|e| e.to_string())?;
                    Rendered::Data(halite_core::json::from_json(&j))
                }
            }
            ("yaml" | "json", Rendered::Data(d)) => Rendered::Data(d),
            (other, _) => return Err(format!("The renderer \"{other}\" is not available")),
        };
    }
    Ok(cur)
}
