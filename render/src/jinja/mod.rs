//! Salt's Jinja environment on minijinja.
//!
//! One [`Jinja`] per run holds a minijinja environment configured as Salt configures
//! Jinja2 (`StrictUndefined`, `do`, loop controls, no trim/lstrip, trailing newline kept by
//! the caller's rule), Salt's filters, tests and globals, and caches compiled templates
//! (main templates by saltenv + name + source, imported ones by saltenv + name).
//!
//! Salt's additions on top of minijinja: mutable lists/dicts ([`convert`]), Python's `%`
//! formatting ([`pyformat`]), Python's printing of values ([`pyrepr`]), the custom tags
//! `import_yaml`/`load_yaml`/... ([`tags`]), the `salt` and `raise` globals
//! ([`salt_object`]) and Salt's error texts ([`errors`]). minijinja is patched for the first
//! two (see vendor/minijinja/HALITE-PATCHES.md).

pub mod convert;
pub mod errors;
pub mod filters;
mod hashing;
pub mod pyformat;
pub mod pyrepr;
pub mod salt_object;
pub mod serializers;
pub mod tags;

#[cfg(test)]
mod conformance_tests;

use halite_core::{Functions, Map, Value};
use minijinja::value::Value as JValue;
use minijinja::{AutoEscape, Environment, Error as JError, ErrorKind, UndefinedBehavior};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use crate::Loader;

pub use convert::{from_jinja, to_jinja};

/// Separates saltenv, path and source hash in minijinja template names.
const SEP: char = '\u{1f}';

/// One Jinja render.
pub struct RenderRequest<'a> {
    /// The template text.
    pub source: &'a str,
    /// Path of the template relative to the saltenv root, e.g. `app/init.sls`.
    pub name: &'a str,
    /// The saltenv the template (and everything it imports) comes from.
    pub saltenv: &'a str,
    /// The render context built by the caller: grains, pillar, opts, sls, slspath, tpldir,
    /// tplfile, saltenv, ...
    pub context: &'a Map,
    /// Backs `salt['mod.fun'](..)` and `salt.mod.fun(..)`.
    pub functions: Arc<dyn Functions>,
    /// Context converted once and shared by every render of the run (grains, pillar,
    /// opts); `context` entries override it.
    pub shared: Option<&'a SharedContext>,
}

/// Template context values converted once per run and shared by reference between renders,
/// as Salt shares its `__grains__`, `__pillar__` and `__opts__` dicts between templates.
#[derive(Debug, Clone, Default)]
pub struct SharedContext {
    values: BTreeMap<String, JValue>,
    cachedir: Option<String>,
}

impl SharedContext {
    /// Convert `context` (string keys only) for sharing.
    pub fn new(context: &Map) -> SharedContext {
        let mut values = BTreeMap::default();
        for (k, v) in context {
            if let Value::Str(name) = k {
                values.insert(name.clone(), to_jinja(v));
            }
        }
        let cachedir = context
            .get("opts")
            .and_then(|o| o.get("cachedir"))
            .and_then(Value::as_str)
            .map(str::to_string);
        SharedContext { values, cachedir }
    }
}

/// A failed render, with Salt's message (e.g. `Jinja variable 'x' is undefined; line 3...`);
/// the SLS caller adds the `Rendering SLS 'base:x' failed: ` prefix.
#[derive(Debug, Clone, PartialEq)]
pub struct JinjaError {
    /// The whole message.
    pub message: String,
}

impl fmt::Display for JinjaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for JinjaError {}

/// Original texts of the templates the environment compiled, by minijinja name.
type SourceMap = Arc<Mutex<HashMap<String, Arc<str>>>>;

/// Salt's Jinja environment for one run (see the module docs).
pub struct Jinja {
    env: Environment<'static>,
    sources: SourceMap,
}

impl fmt::Debug for Jinja {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jinja").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `(saltenv, path)` of a minijinja template name.
fn split_key(key: &str) -> (&str, &str) {
    let mut parts = key.split(SEP);
    let saltenv = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or_default();
    (saltenv, path)
}

/// Python's `os.path.normpath` for relative `/` paths.
fn normpath(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|s| *s != "..") {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    out.join("/")
}

/// How Salt's `SaltCacheLoader` names an imported template: `./x` and `../x` relative to
/// the importing template's directory, anything else relative to the saltenv root.
fn join_template_name(name: &str, parent: &str) -> String {
    if name.contains(SEP) {
        return name.to_string();
    }
    let (saltenv, parent_path) = split_key(parent);
    let name = name.strip_prefix("salt://").unwrap_or(name);
    let first = name.split('/').next().unwrap_or_default();
    let path = if first == "." || first == ".." {
        let dir = parent_path.rsplit_once('/').map_or("", |(d, _)| d);
        normpath(&format!("{dir}/{name}"))
    } else {
        name.trim_start_matches('/').to_string()
    };
    format!("{saltenv}{SEP}{path}")
}

impl Jinja {
    /// A new environment reading imported templates and files through `loader`.
    pub fn new(loader: Arc<dyn Loader>) -> Self {
        let sources: SourceMap = Arc::default();
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_debug(true);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_formatter(|out, _state, value| {
            out.write_str(&pyrepr::py_str(value))
                .map_err(|_| JError::new(ErrorKind::WriteFailure, "write failed"))
        });
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.set_literal_callback(convert::make_mutable);
        env.set_rem_callback(|lhs, rhs| {
            let fmt = lhs.as_str()?;
            Some(
                pyformat::percent_format(fmt, rhs)
                    .map(JValue::from)
                    .map_err(|e| JError::new(ErrorKind::InvalidOperation, e)),
            )
        });
        env.set_path_join_callback(|name, parent| join_template_name(name, parent).into());
        let loader_sources = sources.clone();
        env.set_loader(move |key| {
            if let Some(src) = lock(&loader_sources).get(key) {
                return Ok(Some(tags::rewrite(src)));
            }
            let (saltenv, path) = split_key(key);
            match loader.read(saltenv, path) {
                Ok(Some(text)) => {
                    let rewritten = tags::rewrite(&text);
                    lock(&loader_sources).insert(key.to_string(), Arc::from(text));
                    Ok(Some(rewritten))
                }
                Ok(None) => Ok(None),
                Err(e) => Err(JError::new(ErrorKind::TemplateNotFound, e.to_string())),
            }
        });
        filters::register(&mut env);
        hashing::register(&mut env);
        env.add_function("raise", salt_object::raise);
        Jinja { env, sources }
    }

    /// Render `req` as Salt's `render_jinja_tmpl` does (the trailing newline of the source
    /// is kept).
    pub fn render(&self, req: &RenderRequest<'_>) -> Result<String, JinjaError> {
        let mut h = DefaultHasher::new();
        req.source.hash(&mut h);
        let key = format!("{}{SEP}{}{SEP}{:016x}", req.saltenv, req.name, h.finish());
        lock(&self.sources)
            .entry(key.clone())
            .or_insert_with(|| Arc::from(req.source));

        let mut ctx: BTreeMap<String, JValue> =
            req.shared.map(|s| s.values.clone()).unwrap_or_default();
        for (k, v) in req.context {
            if let Value::Str(name) = k {
                ctx.insert(name.clone(), to_jinja(v));
            }
        }
        ctx.insert(
            "salt".into(),
            salt_object::SaltObject::new_value(req.functions.clone()),
        );
        let ctx = JValue::from_object(ctx);

        let result = self
            .env
            .get_template(&key)
            .and_then(|tmpl| tmpl.render(ctx));
        match result {
            Ok(mut out) => {
                if req.source.ends_with('\n') {
                    out.push('\n');
                }
                Ok(out)
            }
            Err(err) => Err(JinjaError {
                message: self.error_message(&err, &key, req),
            }),
        }
    }

    fn error_message(&self, err: &JError, key: &str, req: &RenderRequest<'_>) -> String {
        let cachedir = req
            .context
            .get("opts")
            .and_then(|o| o.get("cachedir"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| req.shared.and_then(|s| s.cachedir.clone()));
        let path_of = |name: &str| {
            let (saltenv, path) = split_key(name);
            match &cachedir {
                Some(c) => format!("{c}/files/{saltenv}/{path}"),
                None => path.to_string(),
            }
        };
        let source_of = |name: &str| lock(&self.sources).get(name).map(|s| s.to_string());
        errors::salt_message(
            err,
            &errors::ErrorSite {
                main_key: key,
                main_source: req.source,
                path_of: &path_of,
                source_of: &source_of,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_resolve_like_salt() {
        let parent = format!("base{SEP}app/web/init.sls{SEP}abc");
        assert_eq!(
            join_template_name("lib/m.jinja", &parent),
            format!("base{SEP}lib/m.jinja")
        );
        assert_eq!(
            join_template_name("./map.jinja", &parent),
            format!("base{SEP}app/web/map.jinja")
        );
        assert_eq!(
            join_template_name("../x.jinja", &parent),
            format!("base{SEP}app/x.jinja")
        );
    }
}
