//! `cp.*` execution functions: the local fileclient. `salt://` files come from the
//! `file_roots` and are cached under `<cachedir>/files/<saltenv>/<path>`, as Salt's
//! fileclient does; local paths (`/x`, `file:///x`) are used in place.

use super::file::{hash_bytes, render_template};
use super::{arg, required, Exec};
use crate::fileroots::parse_salt_url;
use halite_core::{Error, Map, Result, Value};
use std::path::{Path, PathBuf};

/// The functions this module provides.
pub const FUNCTIONS: &[&str] = &[
    "cp.cache_file",
    "cp.cache_files",
    "cp.get_file_str",
    "cp.get_file",
    "cp.get_template",
    "cp.list_master",
    "cp.list_master_dirs",
    "cp.hash_file",
    "cp.is_cached",
    "cp.cache_dir",
    "cp.stat_file",
];

fn saltenv_of(args: &[Value], kwargs: &Map, i: usize) -> String {
    arg(args, kwargs, i, "saltenv")
        .filter(|v| !v.is_null())
        .map_or_else(|| "base".to_string(), Value::py_str)
}

fn cachedir(ex: &Exec) -> PathBuf {
    PathBuf::from(
        ex.minion
            .opts()
            .get("cachedir")
            .map(Value::py_str)
            .unwrap_or_else(|| "/var/cache/salt/minion".into()),
    )
}

/// Where a URL lives: a `salt://` file of the roots (rel, saltenv) or a local path.
enum Located {
    Salt {
        rel: String,
        env: String,
        path: PathBuf,
    },
    Local(PathBuf),
    Missing,
}

fn locate(ex: &Exec, url: &str, saltenv: &str) -> Result<Located> {
    if url.starts_with("salt://") {
        let (rel, env) = parse_salt_url(url);
        let env = env.unwrap_or_else(|| saltenv.to_string());
        return Ok(match ex.minion.roots.cache_file(&env, &rel) {
            Some(path) => Located::Salt {
                rel: rel.trim_start_matches('/').to_string(),
                env,
                path,
            },
            None => Located::Missing,
        });
    }
    if let Some(p) = url.strip_prefix("file://") {
        let p = PathBuf::from(p);
        return Ok(if p.is_file() {
            Located::Local(p)
        } else {
            Located::Missing
        });
    }
    if url.contains("://") {
        return Err(Error::CommandExecution(format!(
            "Unable to fetch {url}: only salt://, file:// and local sources are supported by the local fileclient"
        )));
    }
    let p = PathBuf::from(url);
    Ok(if p.is_absolute() && p.is_file() {
        Located::Local(p)
    } else {
        Located::Missing
    })
}

/// Cache `url` and return the local path (`None` when the file does not exist).
pub fn cache_file(ex: &Exec, url: &str, saltenv: &str) -> Result<Option<PathBuf>> {
    match locate(ex, url, saltenv)? {
        Located::Missing => Ok(None),
        Located::Local(p) => Ok(Some(p)),
        Located::Salt { rel, env, path } => {
            let dest = cachedir(ex).join("files").join(&env).join(&rel);
            let data =
                std::fs::read(&path).map_err(|e| Error::io(path.display().to_string(), &e))?;
            if std::fs::read(&dest).ok().as_deref() != Some(data.as_slice()) {
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| Error::io(parent.display().to_string(), &e))?;
                }
                halite_states::modules::file::atomic_write(&dest, &data, Some(0o644))?;
            }
            Ok(Some(dest))
        }
    }
}

/// Every file (or directory) of a saltenv, relative, sorted (Salt's `list_master`).
pub fn list_master(ex: &Exec, saltenv: &str, prefix: &str, want_dirs: bool) -> Vec<String> {
    let mut out = ex.minion.roots.list_files(saltenv, want_dirs);
    out.retain(|f| f.starts_with(prefix.trim_start_matches('/')));
    out
}

fn write_dest(dest: &str, data: &[u8], makedirs: bool) -> Result<Value> {
    let path = PathBuf::from(dest);
    if let Some(parent) = path.parent().filter(|p| !p.is_dir()) {
        if !makedirs {
            return Ok(Value::Str(String::new()));
        }
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent.display().to_string(), &e))?;
    }
    halite_states::modules::file::atomic_write(&path, data, None)?;
    Ok(Value::Str(dest.to_string()))
}

fn dest_for(dest: &str, url: &str) -> String {
    if dest.ends_with('/') || Path::new(dest).is_dir() {
        let base = parse_salt_url(url).0;
        let file = base.rsplit('/').next().unwrap_or(&base).to_string();
        return Path::new(dest).join(file).display().to_string();
    }
    dest.to_string()
}

/// Dispatch a `cp.*` function.
pub fn call(ex: &Exec, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
    match name {
        "cp.cache_file" => {
            let url = required(name, args, kwargs, 0, "path")?.py_str();
            let env = saltenv_of(args, kwargs, 1);
            Ok(cache_file(ex, &url, &env)?
                .map_or(Value::Bool(false), |p| Value::Str(p.display().to_string())))
        }
        "cp.cache_files" => {
            let paths = required(name, args, kwargs, 0, "paths")?.clone();
            let env = saltenv_of(args, kwargs, 1);
            let list = match paths {
                Value::List(l) => l,
                Value::Str(s) => s
                    .split(',')
                    .map(|p| Value::Str(p.trim().to_string()))
                    .collect(),
                other => vec![other],
            };
            let mut out = Vec::new();
            for p in list {
                out.push(
                    cache_file(ex, &p.py_str(), &env)?
                        .map_or(Value::Bool(false), |p| Value::Str(p.display().to_string())),
                );
            }
            Ok(Value::List(out))
        }
        "cp.is_cached" => {
            let url = required(name, args, kwargs, 0, "path")?.py_str();
            let env = saltenv_of(args, kwargs, 1);
            let (rel, e) = parse_salt_url(&url);
            let p = cachedir(ex)
                .join("files")
                .join(e.unwrap_or(env))
                .join(rel.trim_start_matches('/'));
            Ok(Value::Str(if p.is_file() {
                p.display().to_string()
            } else {
                String::new()
            }))
        }
        "cp.get_file_str" => {
            let url = required(name, args, kwargs, 0, "path")?.py_str();
            let env = saltenv_of(args, kwargs, 1);
            match cache_file(ex, &url, &env)? {
                Some(p) => {
                    let data =
                        std::fs::read(&p).map_err(|e| Error::io(p.display().to_string(), &e))?;
                    Ok(Value::Str(String::from_utf8_lossy(&data).to_string()))
                }
                None => Ok(Value::Bool(false)),
            }
        }
        "cp.get_file" | "cp.get_template" => {
            let url = required(name, args, kwargs, 0, "path")?.py_str();
            let dest = required(name, args, kwargs, 1, "dest")?.py_str();
            let dest = dest_for(&dest, &url);
            let (env_pos, tpl_default) = if name == "cp.get_template" {
                (3, Some("jinja"))
            } else {
                (2, None)
            };
            let env = saltenv_of(args, kwargs, env_pos);
            let makedirs = kwargs.get("makedirs").is_some_and(Value::is_truthy);
            let template = if name == "cp.get_template" {
                arg(args, kwargs, 2, "template")
                    .map(Value::py_str)
                    .or(tpl_default.map(str::to_string))
            } else {
                kwargs
                    .get("template")
                    .filter(|v| v.is_truthy())
                    .map(Value::py_str)
            };
            let Some(cached) = cache_file(ex, &url, &env)? else {
                return Ok(Value::Str(String::new()));
            };
            let data =
                std::fs::read(&cached).map_err(|e| Error::io(cached.display().to_string(), &e))?;
            let data = match template {
                Some(t) => {
                    let text = String::from_utf8_lossy(&data).to_string();
                    let mut extra = kwargs.clone();
                    extra.retain(|k, _| {
                        !matches!(
                            k.as_str(),
                            Some("makedirs" | "template" | "saltenv" | "gzip")
                        )
                    });
                    render_template(ex, &t, &text, &extra, &env, Some((&url, &cached)))
                        .map_err(Error::CommandExecution)?
                        .into_bytes()
                }
                None => data,
            };
            write_dest(&dest, &data, makedirs)
        }
        "cp.list_master" | "cp.list_master_dirs" => {
            let env = saltenv_of(args, kwargs, 0);
            let prefix = arg(args, kwargs, 1, "prefix")
                .map(Value::py_str)
                .unwrap_or_default();
            let out = list_master(ex, &env, &prefix, name == "cp.list_master_dirs");
            Ok(Value::List(out.into_iter().map(Value::Str).collect()))
        }
        "cp.hash_file" => {
            let url = required(name, args, kwargs, 0, "path")?.py_str();
            let env = saltenv_of(args, kwargs, 1);
            let Some(p) = cache_file(ex, &url, &env)? else {
                return Ok(Value::map());
            };
            let data = std::fs::read(&p).map_err(|e| Error::io(p.display().to_string(), &e))?;
            let mut m = Map::default();
            m.insert("hash_type".into(), "sha256".into());
            m.insert("hsum".into(), hash_bytes(&data, "sha256")?.into());
            Ok(Value::Map(m))
        }
        "cp.cache_dir" => {
            let url = required(name, args, kwargs, 0, "path")?.py_str();
            let env = saltenv_of(args, kwargs, 1);
            let (rel, e) = parse_salt_url(&url);
            let env = e.unwrap_or(env);
            let prefix = rel
                .trim_start_matches('/')
                .trim_end_matches('/')
                .to_string();
            let mut out = Vec::new();
            for f in list_master(ex, &env, &prefix, false) {
                if prefix.is_empty() || f.starts_with(&format!("{prefix}/")) {
                    if let Some(p) = cache_file(ex, &format!("salt://{f}?saltenv={env}"), &env)? {
                        out.push(Value::Str(p.display().to_string()));
                    }
                }
            }
            Ok(Value::List(out))
        }
        "cp.stat_file" => {
            let url = required(name, args, kwargs, 0, "path")?.py_str();
            let env = saltenv_of(args, kwargs, 1);
            let octal = arg(args, kwargs, 2, "octal").is_some_and(Value::is_truthy);
            let Some(p) = cache_file(ex, &url, &env)? else {
                return Ok(Value::Int(0));
            };
            let p = match locate(ex, &url, &env)? {
                Located::Salt { path, .. } => path,
                _ => p,
            };
            let mode = std::fs::metadata(&p)
                .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777)
                .unwrap_or(0);
            Ok(if octal {
                Value::Str(format!("{mode:04o}"))
            } else {
                Value::Int(i64::from(mode))
            })
        }
        _ => Err(Error::NotAvailable(name.to_string())),
    }
}
