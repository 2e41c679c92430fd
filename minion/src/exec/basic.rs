//! The plain execution functions: `test.*`, `cmd.*`, `grains.*`, `pillar.*`, `config.*`,
//! `slsutil.*`, `file.*` (existence checks), `match.*`.

use super::{arg, required, Exec};
use crate::template::{render, RenderJob, Rendered};
use halite_core::{Error, Map, Result, Value};
use halite_pillar::merge_recurse;
use halite_states::exec::cmdrun::{env_pairs, retcodes, run_all, RunOpts};

fn str_of(v: Option<&Value>) -> Option<String> {
    v.filter(|v| !v.is_null()).map(Value::py_str)
}

fn cmd_opts(kwargs: &Map) -> Result<RunOpts> {
    Ok(RunOpts {
        cwd: str_of(kwargs.get("cwd")),
        shell: str_of(kwargs.get("shell")),
        env: env_pairs(kwargs.get("env"))?,
        prepend_path: str_of(kwargs.get("prepend_path")),
        success_retcodes: retcodes(kwargs.get("success_retcodes"))?,
        hide_output: kwargs.get("hide_output").is_some_and(Value::is_truthy),
        stdin: str_of(kwargs.get("stdin")),
        timeout: str_of(kwargs.get("timeout")).and_then(|t| t.parse().ok()),
        runas: str_of(kwargs.get("runas")),
    })
}

fn get_path(data: &Value, key: &str, default: Value, delimiter: &str) -> Value {
    data.traverse(key, delimiter).cloned().unwrap_or(default)
}

fn delimiter(kwargs: &Map, args: &[Value], i: usize) -> String {
    arg(args, kwargs, i, "delimiter")
        .map(Value::py_str)
        .unwrap_or_else(|| ":".into())
}

/// Does `basic` implement this `file.*` function?
pub fn handles(name: &str) -> bool {
    matches!(
        name,
        "file.file_exists" | "file.directory_exists" | "file.exists" | "file.join"
    )
}

/// Dispatch one non-state function.
pub fn call(ex: &Exec, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
    let m = &ex.minion;
    match name {
        "test.ping" | "test.true" => Ok(Value::Bool(true)),
        "test.false" => Ok(Value::Bool(false)),
        "test.echo" => Ok(required(name, args, kwargs, 0, "text")?.clone()),
        "test.arg" => {
            let mut out = Map::default();
            out.insert("args".into(), Value::List(args.to_vec()));
            out.insert("kwargs".into(), Value::Map(kwargs.clone()));
            Ok(Value::Map(out))
        }
        "test.kwarg" => Ok(Value::Map(kwargs.clone())),
        "test.version" => Ok(Value::Str(env!("CARGO_PKG_VERSION").into())),
        "test.sleep" => {
            let secs = required(name, args, kwargs, 0, "length")?.py_str();
            let secs: f64 = secs
                .parse()
                .map_err(|_| Error::InvalidArgument(format!("invalid length: {secs}")))?;
            std::thread::sleep(std::time::Duration::from_secs_f64(secs.max(0.0)));
            Ok(Value::Bool(true))
        }
        "test.retcode" => {
            let code = arg(args, kwargs, 0, "code")
                .and_then(Value::as_int)
                .unwrap_or(42);
            m.retcode.store(code, std::sync::atomic::Ordering::SeqCst);
            Ok(Value::Int(code))
        }
        "test.fib" => {
            let n = required(name, args, kwargs, 0, "num")?
                .as_int()
                .unwrap_or(0);
            let (mut a, mut b, mut out) = (0i64, 1i64, Vec::new());
            while a < n {
                out.push(Value::Int(a));
                let t = a + b;
                a = b;
                b = t;
            }
            Ok(Value::List(out))
        }
        "cmd.run" | "cmd.shell" | "cmd.run_stdout" | "cmd.run_stderr" | "cmd.run_all"
        | "cmd.retcode" => {
            let cmd = required(name, args, kwargs, 0, "cmd")?.py_str();
            let mut opts = cmd_opts(kwargs)?;
            if let Some(cwd) = arg(args, kwargs, 1, "cwd").filter(|v| !v.is_null()) {
                opts.cwd = Some(cwd.py_str());
            }
            let r = run_all(&cmd, &opts)?;
            let ignore = kwargs.get("ignore_retcode").is_some_and(Value::is_truthy);
            m.retcode.store(
                if ignore { 0 } else { r.retcode },
                std::sync::atomic::Ordering::SeqCst,
            );
            if r.retcode != 0 && name != "cmd.retcode" && name != "cmd.run_all" {
                tracing::error!(command = %cmd, retcode = r.retcode, "Command failed");
            }
            Ok(match name {
                "cmd.run" | "cmd.shell" => {
                    if r.stderr.is_empty() {
                        Value::Str(r.stdout)
                    } else if r.stdout.is_empty() {
                        Value::Str(r.stderr)
                    } else {
                        Value::Str(format!("{}\n{}", r.stdout, r.stderr))
                    }
                }
                "cmd.run_stdout" => Value::Str(r.stdout),
                "cmd.run_stderr" => Value::Str(r.stderr),
                "cmd.retcode" => Value::Int(r.retcode),
                _ => Value::Map(r.to_map()),
            })
        }
        "grains.items" => Ok(m.grains().clone()),
        "grains.ls" => Ok(Value::List(
            m.grains()
                .as_map()
                .map(|g| g.keys().cloned().collect())
                .unwrap_or_default(),
        )),
        "grains.item" => {
            let delim = kwargs
                .get("delimiter")
                .map(Value::py_str)
                .unwrap_or_else(|| ":".into());
            let mut out = Map::default();
            for a in args {
                let k = a.py_str();
                out.insert(
                    a.clone(),
                    get_path(m.grains(), &k, Value::Str(String::new()), &delim),
                );
            }
            Ok(Value::Map(out))
        }
        "grains.get" => {
            let key = required(name, args, kwargs, 0, "key")?.py_str();
            let default = arg(args, kwargs, 1, "default")
                .cloned()
                .unwrap_or_else(|| "".into());
            Ok(get_path(
                m.grains(),
                &key,
                default,
                &delimiter(kwargs, args, 3),
            ))
        }
        "grains.filter_by" => {
            let lookup = required(name, args, kwargs, 0, "lookup_dict")?;
            let grain = arg(args, kwargs, 1, "grain")
                .map(Value::py_str)
                .unwrap_or_else(|| "os_family".into());
            let merge = arg(args, kwargs, 2, "merge").filter(|v| !v.is_null());
            let default = arg(args, kwargs, 3, "default")
                .map(Value::py_str)
                .unwrap_or_else(|| "default".into());
            let base = arg(args, kwargs, 4, "base")
                .filter(|v| !v.is_null())
                .map(Value::py_str);
            crate::grains::filter_by(lookup, &grain, merge, &default, base.as_deref(), m.grains())
        }
        "pillar.get" => {
            let key = required(name, args, kwargs, 0, "key")?.py_str();
            let default = arg(args, kwargs, 1, "default")
                .cloned()
                .unwrap_or_else(|| "".into());
            let merge = arg(args, kwargs, 2, "merge").is_some_and(Value::is_truthy);
            let delim = delimiter(kwargs, args, 4);
            let pillar = pillar_of(ex);
            let found = pillar.traverse(&key, &delim).cloned();
            if merge {
                match (&default, found) {
                    (Value::Map(d), Some(Value::Map(f))) => {
                        let mut out = d.clone();
                        merge_recurse(&mut out, f);
                        return Ok(Value::Map(out));
                    }
                    (Value::List(d), Some(Value::List(f))) => {
                        let mut out = d.clone();
                        out.extend(f);
                        return Ok(Value::List(out));
                    }
                    (_, Some(f)) => return Ok(f),
                    (_, None) => return Ok(default),
                }
            }
            Ok(found.unwrap_or(default))
        }
        "pillar.items" | "pillar.data" | "pillar.raw" => {
            let p = pillar_of(ex);
            match arg(args, kwargs, 0, "key").filter(|_| name == "pillar.raw") {
                Some(k) => Ok(p
                    .traverse(&k.py_str(), ":")
                    .cloned()
                    .unwrap_or_else(Value::map)),
                None => Ok(p),
            }
        }
        "pillar.item" => {
            let p = pillar_of(ex);
            let delim = kwargs
                .get("delimiter")
                .map(Value::py_str)
                .unwrap_or_else(|| ":".into());
            let default = kwargs.get("default").cloned().unwrap_or_else(|| "".into());
            let mut out = Map::default();
            for a in args {
                out.insert(
                    a.clone(),
                    get_path(&p, &a.py_str(), default.clone(), &delim),
                );
            }
            Ok(Value::Map(out))
        }
        "pillar.ls" => Ok(Value::List(
            pillar_of(ex)
                .as_map()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default(),
        )),
        "config.get" | "config.option" => {
            let key = required(name, args, kwargs, 0, "key")?.py_str();
            let default = arg(args, kwargs, 1, "default")
                .cloned()
                .unwrap_or_else(|| "".into());
            let delim = kwargs
                .get("delimiter")
                .map(Value::py_str)
                .unwrap_or_else(|| ":".into());
            let opts = Value::Map(m.opts().clone());
            if let Some(v) = opts.traverse(&key, &delim) {
                return Ok(v.clone());
            }
            if name == "config.option" {
                return Ok(default);
            }
            if let Some(v) = m.grains().traverse(&key, &delim) {
                return Ok(v.clone());
            }
            if let Some(v) = pillar_of(ex).traverse(&key, &delim) {
                return Ok(v.clone());
            }
            Ok(default)
        }
        "slsutil.merge" | "slsutil.update" => {
            let dest = required(name, args, kwargs, 0, "obj_a")?.clone();
            let upd = required(name, args, kwargs, 1, "obj_b")?.clone();
            let merge_lists = arg(args, kwargs, 3, "merge_lists").is_some_and(Value::is_truthy);
            match (dest, upd) {
                (Value::Map(mut d), Value::Map(u)) => {
                    merge_maps(&mut d, u, merge_lists);
                    Ok(Value::Map(d))
                }
                (_, u) => Ok(u),
            }
        }
        "slsutil.renderer" => {
            let path = arg(args, kwargs, 0, "path").map(Value::py_str);
            let string = kwargs.get("string").map(Value::py_str);
            let saltenv = kwargs
                .get("saltenv")
                .map(Value::py_str)
                .unwrap_or_else(|| "base".into());
            let default_pipe = kwargs
                .get("default_renderer")
                .map(Value::py_str)
                .unwrap_or_else(|| {
                    m.opts()
                        .get("renderer")
                        .map(Value::py_str)
                        .unwrap_or_else(|| "jinja|yaml".into())
                });
            let (text, rel, full) = match (path, string) {
                (Some(p), _) => {
                    let (rel, env) = crate::fileroots::parse_salt_url(&p);
                    let env = env.unwrap_or_else(|| saltenv.clone());
                    let found = if p.starts_with("salt://") {
                        m.roots.cache_file(&env, &rel)
                    } else {
                        Some(std::path::PathBuf::from(&p)).filter(|x| x.is_file())
                    };
                    let Some(found) = found else {
                        return Err(Error::CommandExecution(format!("File {p} not found")));
                    };
                    let text = std::fs::read_to_string(&found)
                        .map_err(|e| Error::io(found.display().to_string(), &e))?;
                    (text, rel, found.display().to_string())
                }
                (None, Some(s)) => (s, String::new(), String::new()),
                (None, None) => {
                    return Err(Error::InvalidArgument(
                        "slsutil.renderer needs a path or a string".into(),
                    ))
                }
            };
            let ctx = if ex.compiling_pillar {
                Map::default()
            } else {
                m.context()
            };
            let job = RenderJob {
                text: &text,
                rel: &rel,
                full: &full,
                saltenv: &saltenv,
                sls: "",
                context: &ctx,
                shared: None,
                functions: m.functions(),
                default_pipe: &default_pipe,
            };
            match render(&m.jinja, &job).map_err(Error::Render)? {
                Rendered::Data(d) => Ok(d),
                Rendered::Text(t) => Ok(Value::Str(t)),
            }
        }
        "cmd.has_exec" | "cmd.which" => {
            let exe = required(name, args, kwargs, 0, "cmd")?.py_str();
            let found = which(&exe);
            Ok(match name {
                "cmd.has_exec" => Value::Bool(found.is_some()),
                _ => found.map_or(Value::Null, Value::Str),
            })
        }
        "defaults.deepcopy" => Ok(required(name, args, kwargs, 0, "source")?.clone()),
        "file.file_exists" => {
            let p = required(name, args, kwargs, 0, "path")?.py_str();
            Ok(Value::Bool(
                std::path::Path::new(&expand_user(&p)).is_file(),
            ))
        }
        "file.directory_exists" => {
            let p = required(name, args, kwargs, 0, "path")?.py_str();
            Ok(Value::Bool(std::path::Path::new(&expand_user(&p)).is_dir()))
        }
        "file.exists" => {
            let p = required(name, args, kwargs, 0, "path")?.py_str();
            Ok(Value::Bool(std::path::Path::new(&expand_user(&p)).exists()))
        }
        "file.join" => {
            let mut out = String::new();
            for a in args {
                let s = a.py_str();
                if s.starts_with('/') {
                    out = s;
                } else if out.is_empty() || out.ends_with('/') {
                    out.push_str(&s);
                } else {
                    out.push('/');
                    out.push_str(&s);
                }
            }
            Ok(Value::Str(out))
        }
        "match.glob" | "match.compound" | "match.grain" | "match.pillar" | "match.list"
        | "match.pcre" => {
            let tgt = required(name, args, kwargs, 0, "tgt")?.clone();
            let kind = name.trim_start_matches("match.");
            let pillar = pillar_of(ex);
            Ok(Value::Bool(m.matches(&tgt, kind, &pillar)))
        }
        "sys.list_functions" => Ok(Value::List(
            super::FUNCTIONS.iter().map(|f| Value::from(*f)).collect(),
        )),
        _ => Err(Error::NotAvailable(name.to_string())),
    }
}

/// Salt's `salt.utils.path.which`: an absolute executable path as is, else the first
/// executable on `PATH`.
fn which(exe: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let is_exec = |p: &std::path::Path| {
        p.is_file()
            && p.metadata()
                .is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
    };
    if exe.contains('/') {
        return is_exec(std::path::Path::new(exe)).then(|| exe.to_string());
    }
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .filter(|d| !d.is_empty())
        .map(|d| std::path::Path::new(d).join(exe))
        .find(|p| is_exec(p))
        .map(|p| p.display().to_string())
}

fn expand_user(p: &str) -> String {
    match p.strip_prefix('~') {
        Some(rest) => format!("{}{rest}", std::env::var("HOME").unwrap_or_default()),
        None => p.to_string(),
    }
}

fn merge_maps(dest: &mut Map, upd: Map, merge_lists: bool) {
    for (k, v) in upd {
        match (dest.get_mut(&k), v) {
            (Some(Value::Map(d)), Value::Map(u)) => merge_maps(d, u, merge_lists),
            (Some(Value::List(d)), Value::List(u)) if merge_lists => {
                for item in u {
                    if !d.contains(&item) {
                        d.push(item);
                    }
                }
            }
            (_, v) => {
                dest.insert(k, v);
            }
        }
    }
}

fn pillar_of(ex: &Exec) -> Value {
    if ex.compiling_pillar {
        Value::Map(ex.minion.pillar_override.clone().unwrap_or_default())
    } else {
        ex.minion.pillar().clone()
    }
}
