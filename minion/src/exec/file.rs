//! `file.*` execution functions beyond the existence checks of `basic`: templates for the
//! file states (`apply_template_on_contents`, `get_managed`, `source_list`) and the common
//! functions users call (`read`, `write`, `get_hash`, `stats`, `find`, `mkdir`, ...).

use super::cp::cache_file;
use super::{arg, required, Exec};
use crate::fileroots::parse_salt_url;
use halite_core::{Error, Map, Result, Value};
use halite_render::jinja::RenderRequest;
use halite_states::modules::file::atomic_write;
use halite_states::modules::file::util::{gid_of, group_name, normalize_mode, uid_of, user_name};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The functions this module provides.
pub const FUNCTIONS: &[&str] = &[
    "file.apply_template_on_contents",
    "file.get_managed",
    "file.source_list",
    "file.read",
    "file.write",
    "file.append",
    "file.get_hash",
    "file.check_hash",
    "file.stats",
    "file.find",
    "file.mkdir",
    "file.makedirs",
    "file.touch",
    "file.remove",
    "file.copy",
    "file.symlink",
    "file.readlink",
    "file.is_link",
    "file.get_mode",
    "file.set_mode",
    "file.get_user",
    "file.get_group",
    "file.get_uid",
    "file.get_gid",
    "file.user_to_uid",
    "file.group_to_gid",
    "file.contains",
    "file.search",
    "file.basename",
    "file.dirname",
];

/// The hex digest of `data` with Salt's `hash_type` names.
pub fn hash_bytes(data: &[u8], form: &str) -> Result<String> {
    use sha2::Digest;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    Ok(match form {
        "md5" => hex(&md5::Md5::digest(data)),
        "sha1" => hex(&sha1::Sha1::digest(data)),
        "sha224" => hex(&sha2::Sha224::digest(data)),
        "sha256" => hex(&sha2::Sha256::digest(data)),
        "sha384" => hex(&sha2::Sha384::digest(data)),
        "sha512" => hex(&sha2::Sha512::digest(data)),
        other => {
            return Err(Error::CommandExecution(format!(
                "Invalid hash type '{other}'"
            )))
        }
    })
}

/// Render `text` with `template` (`jinja`) for a file: the run's context (grains, pillar,
/// opts, salt) plus `extra` (defaults merged with context), `saltenv`, and for a file from
/// `source` (url, cached path) Salt's `source`, `tplpath`, `tplfile`, `tpldir`.
pub fn render_template(
    ex: &Exec,
    template: &str,
    text: &str,
    extra: &Map,
    saltenv: &str,
    source: Option<(&str, &Path)>,
) -> std::result::Result<String, String> {
    if template != "jinja" {
        return Err(format!(
            "Specified template format {template} is not supported"
        ));
    }
    // grains, pillar and opts come from the run's shared context; `extra` overrides them.
    // Keyword-like keys first; the caller's context (defaults + context) overrides them.
    let mut ctx = Map::default();
    ctx.insert("saltenv".into(), saltenv.into());
    let mut name = String::from("<string>");
    if let Some((url, cached)) = source {
        let rel = parse_salt_url(url).0.trim_start_matches('/').to_string();
        ctx.insert("source".into(), url.into());
        ctx.insert("tplpath".into(), cached.display().to_string().into());
        ctx.insert("tplfile".into(), rel.clone().into());
        let dir = rel.rsplit_once('/').map_or(".", |x| x.0).to_string();
        ctx.insert("tpldir".into(), dir.into());
        name = rel;
    }
    for (k, v) in extra {
        ctx.insert(k.clone(), v.clone());
    }
    let req = RenderRequest {
        source: text,
        name: &name,
        saltenv,
        context: &ctx,
        functions: ex.minion.functions(),
        shared: Some(ex.minion.shared_context()),
    };
    ex.minion.jinja.render(&req).map_err(|e| e.message)
}

fn merged_context(kwargs: &Map) -> Map {
    let mut ctx = kwargs
        .get("defaults")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    if let Some(Value::Map(c)) = kwargs.get("context") {
        for (k, v) in c {
            ctx.insert(k.clone(), v.clone());
        }
    }
    ctx
}

fn str_kw(args: &[Value], kwargs: &Map, i: usize, key: &str) -> Option<String> {
    arg(args, kwargs, i, key)
        .filter(|v| !v.is_null())
        .map(Value::py_str)
}

fn saltenv(args: &[Value], kwargs: &Map, i: usize) -> String {
    str_kw(args, kwargs, i, "saltenv").unwrap_or_else(|| "base".into())
}

fn source_exists(ex: &Exec, url: &str, env: &str) -> bool {
    if url.starts_with("salt://") {
        let (rel, e) = parse_salt_url(url);
        return ex
            .minion
            .roots
            .cache_file(&e.unwrap_or_else(|| env.to_string()), &rel)
            .is_some();
    }
    if let Some(p) = url.strip_prefix("file://") {
        return Path::new(p).exists();
    }
    if url.contains("://") {
        return true;
    }
    Path::new(url).exists()
}

/// Salt's `file.source_list`: the first existing source of a list (string sources as-is).
fn source_list(ex: &Exec, source: &Value, hash: &Value, env: &str) -> Result<Value> {
    let Value::List(items) = source else {
        return Ok(Value::List(vec![source.clone(), hash.clone()]));
    };
    for item in items {
        match item {
            Value::Map(m) => {
                if let Some((k, v)) = m.iter().next() {
                    if source_exists(ex, &k.py_str(), env) {
                        return Ok(Value::List(vec![k.clone(), v.clone()]));
                    }
                }
            }
            other => {
                let url = other.py_str();
                if source_exists(ex, &url, env) {
                    return Ok(Value::List(vec![other.clone(), hash.clone()]));
                }
            }
        }
    }
    Err(Error::CommandExecution(
        "none of the specified sources were found".into(),
    ))
}

/// Salt's `file.get_managed`: cache the source, render a template into a temp file under
/// the cachedir; `[sfn, source_sum, comment]`.
fn get_managed(ex: &Exec, kwargs: &Map) -> Result<Value> {
    let source = kwargs.get("source").map(Value::py_str).unwrap_or_default();
    let env = kwargs
        .get("saltenv")
        .map_or_else(|| "base".to_string(), Value::py_str);
    let out = |sfn: String, sum: Map, comment: String| {
        Value::List(vec![Value::Str(sfn), Value::Map(sum), Value::Str(comment)])
    };
    if source.is_empty() {
        return Ok(out(String::new(), Map::default(), String::new()));
    }
    let Some(cached) = cache_file(ex, &source, &env)? else {
        let comment = if source.starts_with("salt://") {
            let (_, e) = parse_salt_url(&source);
            format!(
                "Source file {source} not found in saltenv '{}'",
                e.unwrap_or(env)
            )
        } else {
            format!("Source file '{source}' not found")
        };
        return Ok(out(String::new(), Map::default(), comment));
    };
    let template = kwargs
        .get("template")
        .filter(|t| t.is_truthy())
        .map(Value::py_str);
    let Some(template) = template else {
        let data =
            std::fs::read(&cached).map_err(|e| Error::io(cached.display().to_string(), &e))?;
        let mut sum = Map::default();
        sum.insert("hash_type".into(), "sha256".into());
        sum.insert("hsum".into(), hash_bytes(&data, "sha256")?.into());
        return Ok(out(cached.display().to_string(), sum, String::new()));
    };
    let text = std::fs::read_to_string(&cached)
        .map_err(|e| Error::io(cached.display().to_string(), &e))?;
    // Salt passes name/user/group/mode as template keywords; `defaults` and `context` win.
    let mut extra = Map::default();
    for key in ["name", "user", "group", "mode"] {
        extra.insert(key.into(), kwargs.get(key).cloned().unwrap_or(Value::Null));
    }
    for (k, v) in merged_context(kwargs) {
        extra.insert(k, v);
    }
    match render_template(ex, &template, &text, &extra, &env, Some((&source, &cached))) {
        Ok(rendered) => {
            let dir = PathBuf::from(
                ex.minion
                    .opts()
                    .get("cachedir")
                    .map(Value::py_str)
                    .unwrap_or_else(|| "/tmp".into()),
            )
            .join("tmp");
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display().to_string(), &e))?;
            let tmp = tempfile::Builder::new()
                .prefix("__salt.tmp.")
                .tempfile_in(&dir)
                .map_err(|e| Error::io(dir.display().to_string(), &e))?;
            let (_, path) = tmp
                .keep()
                .map_err(|e| Error::io(dir.display().to_string(), &e.error))?;
            atomic_write(&path, rendered.as_bytes(), Some(0o600))?;
            let mut sum = Map::default();
            sum.insert("hash_type".into(), "sha256".into());
            sum.insert(
                "hsum".into(),
                hash_bytes(rendered.as_bytes(), "sha256")?.into(),
            );
            Ok(out(path.display().to_string(), sum, String::new()))
        }
        Err(msg) => Ok(out(cached.display().to_string(), Map::default(), msg)),
    }
}

fn stats(path: &str, hash_type: Option<&str>, follow: bool) -> Result<Value> {
    let p = Path::new(path);
    let meta = if follow {
        std::fs::metadata(p)
    } else {
        std::fs::symlink_metadata(p)
    };
    let Ok(meta) = meta else {
        return Ok(Value::map());
    };
    let mut m = Map::default();
    let ft = meta.file_type();
    m.insert(
        "inode".into(),
        Value::Int(i64::try_from(meta.ino()).unwrap_or(0)),
    );
    m.insert("uid".into(), Value::Int(meta.uid().into()));
    m.insert("gid".into(), Value::Int(meta.gid().into()));
    m.insert("user".into(), user_name(meta.uid()).into());
    m.insert("group".into(), group_name(meta.gid()).into());
    m.insert(
        "atime".into(),
        Value::Float(meta.atime() as f64 + meta.atime_nsec() as f64 / 1e9),
    );
    m.insert(
        "mtime".into(),
        Value::Float(meta.mtime() as f64 + meta.mtime_nsec() as f64 / 1e9),
    );
    m.insert(
        "ctime".into(),
        Value::Float(meta.ctime() as f64 + meta.ctime_nsec() as f64 / 1e9),
    );
    m.insert(
        "size".into(),
        Value::Int(i64::try_from(meta.size()).unwrap_or(0)),
    );
    m.insert(
        "mode".into(),
        format!("{:04o}", meta.mode() & 0o7777).into(),
    );
    let kind = if ft.is_dir() {
        "dir"
    } else if ft.is_symlink() {
        "link"
    } else if ft.is_file() {
        "file"
    } else {
        "special"
    };
    m.insert("type".into(), kind.into());
    m.insert(
        "target".into(),
        std::fs::canonicalize(p)
            .map(|t| t.display().to_string())
            .unwrap_or_else(|_| path.to_string())
            .into(),
    );
    if let (Some(h), true) = (hash_type, ft.is_file()) {
        let data = std::fs::read(p).map_err(|e| Error::io(path, &e))?;
        m.insert("sum".into(), hash_bytes(&data, h)?.into());
    }
    Ok(Value::Map(m))
}

fn fnmatch_like(name: &str, pat: &str) -> bool {
    halite_states::fnmatch::fnmatch(name, pat)
}

/// `file.find(path, name=, iname=, type=, maxdepth=, mindepth=, regex=)`: matching paths.
fn find(path: &str, kwargs: &Map) -> Vec<Value> {
    let name = kwargs.get("name").map(Value::py_str);
    let iname = kwargs.get("iname").map(|v| v.py_str().to_lowercase());
    let regex = kwargs
        .get("regex")
        .and_then(|r| regex::Regex::new(&r.py_str()).ok());
    let types = kwargs.get("type").map(Value::py_str);
    let maxdepth = kwargs
        .get("maxdepth")
        .and_then(Value::as_int)
        .unwrap_or(i64::MAX);
    let mindepth = kwargs.get("mindepth").and_then(Value::as_int).unwrap_or(0);
    let mut out = Vec::new();
    fn walk(p: &Path, depth: i64, max: i64, acc: &mut Vec<(PathBuf, i64)>) {
        acc.push((p.to_path_buf(), depth));
        if depth >= max || !p.is_dir() || p.is_symlink() {
            return;
        }
        let Ok(rd) = std::fs::read_dir(p) else { return };
        let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for e in entries {
            walk(&e, depth + 1, max, acc);
        }
    }
    let mut all = Vec::new();
    walk(Path::new(path), 0, maxdepth, &mut all);
    for (p, depth) in all {
        if depth < mindepth {
            continue;
        }
        let base = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| p.display().to_string());
        if name.as_deref().is_some_and(|n| !fnmatch_like(&base, n)) {
            continue;
        }
        if iname
            .as_deref()
            .is_some_and(|n| !fnmatch_like(&base.to_lowercase(), n))
        {
            continue;
        }
        if regex.as_ref().is_some_and(|r| !r.is_match(&base)) {
            continue;
        }
        if let Some(t) = &types {
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            let ft = m.file_type();
            let c = if ft.is_symlink() {
                'l'
            } else if ft.is_dir() {
                'd'
            } else if ft.is_file() {
                'f'
            } else {
                's'
            };
            if !t.contains(c) {
                continue;
            }
        }
        out.push(Value::Str(p.display().to_string()));
    }
    out
}

fn mkdirs(path: &Path, kwargs: &Map, args: &[Value]) -> Result<()> {
    let mode = normalize_mode(arg(args, kwargs, 3, "mode"));
    halite_states::modules::file::util::makedirs(path, mode.as_deref())?;
    let user = arg(args, kwargs, 1, "user").filter(|v| !v.is_null());
    let group = arg(args, kwargs, 2, "group").filter(|v| !v.is_null());
    if user.is_some() || group.is_some() {
        let uid = user.and_then(uid_of);
        let gid = group.and_then(gid_of);
        std::os::unix::fs::chown(path, uid, gid)
            .map_err(|e| Error::io(path.display().to_string(), &e))?;
    }
    Ok(())
}

fn path_arg(name: &str, args: &[Value], kwargs: &Map, i: usize, key: &str) -> Result<String> {
    let p = required(name, args, kwargs, i, key)?.py_str();
    Ok(match p.strip_prefix('~') {
        Some(rest) => format!("{}{rest}", std::env::var("HOME").unwrap_or_default()),
        None => p,
    })
}

fn write_lines(args: &[Value], kwargs: &Map) -> Vec<String> {
    match kwargs.get("args") {
        Some(Value::List(l)) => l.iter().map(Value::py_str).collect(),
        Some(v) => vec![v.py_str()],
        None => args.iter().skip(1).map(Value::py_str).collect(),
    }
}

fn copy_recursive(src: &Path, dst: &Path) -> std::io::Result<()> {
    if src.is_dir() {
        std::fs::create_dir_all(dst)?;
        for e in std::fs::read_dir(src)? {
            let e = e?;
            copy_recursive(&e.path(), &dst.join(e.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(src, dst).map(|_| ())
    }
}

fn io(p: &str) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(p.to_string(), &e)
}

/// Dispatch a `file.*` function not handled by `basic`.
pub fn call(ex: &Exec, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
    match name {
        "file.apply_template_on_contents" => {
            let contents = required(name, args, kwargs, 0, "contents")?.py_str();
            let template = str_kw(args, kwargs, 1, "template").unwrap_or_else(|| "jinja".into());
            let mut kw = kwargs.clone();
            if let Some(c) = args.get(2) {
                kw.insert("context".into(), c.clone());
            }
            if let Some(d) = args.get(3) {
                kw.insert("defaults".into(), d.clone());
            }
            let env = saltenv(args, kwargs, 4);
            match render_template(ex, &template, &contents, &merged_context(&kw), &env, None) {
                Ok(s) => Ok(Value::Str(s)),
                Err(msg) => {
                    let mut m = Map::default();
                    m.insert("result".into(), Value::Bool(false));
                    m.insert("comment".into(), msg.into());
                    Ok(Value::Map(m))
                }
            }
        }
        "file.get_managed" => {
            let mut kw = kwargs.clone();
            let keys = [
                "name",
                "template",
                "source",
                "source_hash",
                "source_hash_name",
                "user",
                "group",
                "mode",
                "attrs",
                "saltenv",
                "context",
                "defaults",
                "skip_verify",
            ];
            for (i, v) in args.iter().enumerate() {
                if let Some(k) = keys.get(i) {
                    kw.insert((*k).into(), v.clone());
                }
            }
            get_managed(ex, &kw)
        }
        "file.source_list" => {
            let source = required(name, args, kwargs, 0, "source")?.clone();
            let hash = arg(args, kwargs, 1, "source_hash")
                .cloned()
                .unwrap_or_else(|| "".into());
            source_list(ex, &source, &hash, &saltenv(args, kwargs, 2))
        }
        "file.read" => {
            let p = path_arg(name, args, kwargs, 0, "path")?;
            let data = std::fs::read(&p).map_err(io(&p))?;
            if arg(args, kwargs, 1, "binary").is_some_and(Value::is_truthy) {
                Ok(Value::Bytes(data))
            } else {
                Ok(Value::Str(String::from_utf8_lossy(&data).to_string()))
            }
        }
        "file.write" => {
            let p = path_arg(name, args, kwargs, 0, "path")?;
            let lines = write_lines(args, kwargs);
            let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
            atomic_write(Path::new(&p), body.as_bytes(), None)?;
            Ok(Value::Str(format!(
                "Wrote {} lines to \"{p}\"",
                lines.len()
            )))
        }
        "file.append" => {
            let p = path_arg(name, args, kwargs, 0, "path")?;
            let lines = write_lines(args, kwargs);
            let mut data = std::fs::read(&p).map_err(io(&p))?;
            if !data.is_empty() && !data.ends_with(b"\n") {
                data.push(b'\n');
            }
            for l in &lines {
                data.extend_from_slice(l.as_bytes());
                data.push(b'\n');
            }
            atomic_write(Path::new(&p), &data, None)?;
            Ok(Value::Str(format!(
                "Wrote {} lines to \"{p}\"",
                lines.len()
            )))
        }
        "file.get_hash" => {
            let p = path_arg(name, args, kwargs, 0, "path")?;
            let form = str_kw(args, kwargs, 1, "form").unwrap_or_else(|| "sha256".into());
            let data = std::fs::read(&p).map_err(io(&p))?;
            Ok(Value::Str(hash_bytes(&data, &form)?))
        }
        "file.check_hash" => {
            let p = path_arg(name, args, kwargs, 0, "path")?;
            let spec = required(name, args, kwargs, 1, "file_hash")?.py_str();
            let (form, hsum) = match spec.split_once(['=', ':']) {
                Some((f, h)) => (f.to_string(), h.to_string()),
                None => {
                    let form = match spec.len() {
                        32 => "md5",
                        40 => "sha1",
                        56 => "sha224",
                        64 => "sha256",
                        96 => "sha384",
                        128 => "sha512",
                        _ => {
                            return Err(Error::InvalidArgument(format!(
                                "Hash {spec} is not supported"
                            )))
                        }
                    };
                    (form.to_string(), spec.clone())
                }
            };
            let data = std::fs::read(&p).map_err(io(&p))?;
            Ok(Value::Bool(
                hash_bytes(&data, &form)? == hsum.to_lowercase(),
            ))
        }
        "file.stats" => {
            let p = path_arg(name, args, kwargs, 0, "path")?;
            let hash_type = str_kw(args, kwargs, 1, "hash_type");
            let follow = arg(args, kwargs, 2, "follow_symlinks").is_none_or(Value::is_truthy);
            let v = stats(&p, hash_type.as_deref(), follow)?;
            if v.as_map().is_some_and(Map::is_empty) {
                return Err(Error::CommandExecution(format!("Path not found: {p}")));
            }
            Ok(v)
        }
        "file.find" => {
            let p = path_arg(name, args, kwargs, 0, "path")?;
            Ok(Value::List(find(&p, kwargs)))
        }
        "file.mkdir" => {
            let p = path_arg(name, args, kwargs, 0, "dir_path")?;
            mkdirs(Path::new(&p), kwargs, args)?;
            Ok(Value::Bool(true))
        }
        "file.makedirs" => {
            let p = path_arg(name, args, kwargs, 0, "path")?;
            let dir = if p.ends_with('/') {
                PathBuf::from(&p)
            } else {
                Path::new(&p)
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default()
            };
            if dir.is_dir() {
                return Ok(Value::Str(format!(
                    "Directory '{}' already exists",
                    dir.display()
                )));
            }
            mkdirs(&dir, kwargs, args)?;
            Ok(Value::Str(format!("Directory '{}' created", dir.display())))
        }
        "file.touch" => {
            let p = path_arg(name, args, kwargs, 0, "name")?;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&p)
                .map_err(io(&p))?;
            let now = nix::sys::time::TimeSpec::UTIME_NOW;
            let t = |v: Option<&Value>| {
                v.and_then(Value::as_int)
                    .map_or(now, |s| nix::sys::time::TimeSpec::new(s, 0))
            };
            nix::sys::stat::utimensat(
                nix::fcntl::AT_FDCWD,
                Path::new(&p),
                &t(arg(args, kwargs, 1, "atime")),
                &t(arg(args, kwargs, 2, "mtime")),
                nix::sys::stat::UtimensatFlags::FollowSymlink,
            )
            .map_err(|e| Error::io(&p, &std::io::Error::from(e)))?;
            Ok(Value::Bool(true))
        }
        "file.remove" => {
            let p = path_arg(name, args, kwargs, 0, "path")?;
            let path = Path::new(&p);
            if !path.is_absolute() {
                return Err(Error::InvalidArgument(format!(
                    "File path must be absolute: {p}"
                )));
            }
            match std::fs::symlink_metadata(path) {
                Ok(m) if m.is_dir() => std::fs::remove_dir_all(path).map_err(io(&p))?,
                Ok(_) => std::fs::remove_file(path).map_err(io(&p))?,
                Err(_) => return Ok(Value::Bool(false)),
            }
            Ok(Value::Bool(true))
        }
        "file.copy" => {
            let src = path_arg(name, args, kwargs, 0, "src")?;
            let dst = path_arg(name, args, kwargs, 1, "dst")?;
            let recurse = arg(args, kwargs, 2, "recurse").is_some_and(Value::is_truthy);
            if !Path::new(&src).exists() {
                return Err(Error::CommandExecution(format!(
                    "No such file or directory '{src}'"
                )));
            }
            if Path::new(&src).is_dir() && !recurse {
                return Err(Error::InvalidArgument(
                    "Cannot copy overwriting a directory without recurse flag set to true!".into(),
                ));
            }
            if kwargs.get("remove_existing").is_some_and(Value::is_truthy)
                && Path::new(&dst).exists()
            {
                let _ = std::fs::remove_dir_all(&dst).or_else(|_| std::fs::remove_file(&dst));
            }
            copy_recursive(Path::new(&src), Path::new(&dst)).map_err(io(&dst))?;
            Ok(Value::Bool(true))
        }
        "file.symlink" => {
            let src = path_arg(name, args, kwargs, 0, "src")?;
            let link = path_arg(name, args, kwargs, 1, "path")?;
            if arg(args, kwargs, 2, "force").is_some_and(Value::is_truthy)
                && Path::new(&link).is_symlink()
            {
                std::fs::remove_file(&link).map_err(io(&link))?;
            }
            std::os::unix::fs::symlink(&src, &link)
                .map_err(|e| Error::CommandExecution(format!("Could not create '{link}': {e}")))?;
            Ok(Value::Bool(true))
        }
        "file.readlink" => {
            let p = path_arg(name, args, kwargs, 0, "path")?;
            if !Path::new(&p).is_symlink() {
                return Err(Error::InvalidArgument(format!(
                    "A valid link was not specified: {p}"
                )));
            }
            let canon = arg(args, kwargs, 1, "canonicalize").is_some_and(Value::is_truthy);
            let t = if canon {
                std::fs::canonicalize(&p)
            } else {
                std::fs::read_link(&p)
            }
            .map_err(io(&p))?;
            Ok(Value::Str(t.display().to_string()))
        }
        "file.is_link" => Ok(Value::Bool(
            Path::new(&path_arg(name, args, kwargs, 0, "path")?).is_symlink(),
        )),
        "file.get_mode" => {
            let p = path_arg(name, args, kwargs, 0, "path")?;
            let follow = arg(args, kwargs, 1, "follow_symlinks").is_none_or(Value::is_truthy);
            let meta = if follow {
                std::fs::metadata(&p)
            } else {
                std::fs::symlink_metadata(&p)
            };
            Ok(meta.map_or(Value::Str(String::new()), |m| {
                Value::Str(format!("{:04o}", m.permissions().mode() & 0o7777))
            }))
        }
        "file.set_mode" => {
            let p = path_arg(name, args, kwargs, 0, "path")?;
            let mode = normalize_mode(Some(required(name, args, kwargs, 1, "mode")?))
                .ok_or_else(|| Error::InvalidArgument("mode is required".into()))?;
            if !Path::new(&p).exists() {
                return Err(Error::CommandExecution(format!("{p}: File not found")));
            }
            halite_states::modules::file::util::set_mode(Path::new(&p), &mode)?;
            Ok(Value::Str(mode))
        }
        "file.get_user" | "file.get_group" | "file.get_uid" | "file.get_gid" => {
            let p = path_arg(name, args, kwargs, 0, "path")?;
            let Ok(m) = std::fs::metadata(&p) else {
                return Ok(Value::Int(-1));
            };
            Ok(match name {
                "file.get_user" => user_name(m.uid()).into(),
                "file.get_group" => group_name(m.gid()).into(),
                "file.get_uid" => Value::Int(m.uid().into()),
                _ => Value::Int(m.gid().into()),
            })
        }
        "file.user_to_uid" => {
            let u = required(name, args, kwargs, 0, "user")?;
            Ok(uid_of(u).map_or(Value::Str(String::new()), |n| Value::Int(n.into())))
        }
        "file.group_to_gid" => {
            let g = required(name, args, kwargs, 0, "group")?;
            Ok(gid_of(g).map_or(Value::Str(String::new()), |n| Value::Int(n.into())))
        }
        "file.contains" => {
            let p = path_arg(name, args, kwargs, 0, "path")?;
            let text = required(name, args, kwargs, 1, "text")?.py_str();
            Ok(Value::Bool(
                std::fs::read_to_string(&p).is_ok_and(|c| c.contains(&text)),
            ))
        }
        "file.search" => {
            let p = path_arg(name, args, kwargs, 0, "path")?;
            let pattern = required(name, args, kwargs, 1, "pattern")?.py_str();
            let multiline = arg(args, kwargs, 3, "multiline").is_some_and(Value::is_truthy);
            let flags = halite_states::modules::file::replace_flags(
                arg(args, kwargs, 2, "flags"),
                multiline,
            );
            let re = regex::Regex::new(&format!("{flags}{pattern}"))
                .map_err(|e| Error::InvalidArgument(e.to_string()))?;
            let data = std::fs::read(&p).map_err(io(&p))?;
            Ok(Value::Bool(re.is_match(&String::from_utf8_lossy(&data))))
        }
        "file.basename" => {
            let p = required(name, args, kwargs, 0, "path")?.py_str();
            Ok(Value::Str(p.rsplit('/').next().unwrap_or("").to_string()))
        }
        "file.dirname" => {
            let p = required(name, args, kwargs, 0, "path")?.py_str();
            Ok(Value::Str(p.rsplit_once('/').map_or(
                String::new(),
                |(d, _)| {
                    if d.is_empty() {
                        "/".into()
                    } else {
                        d.to_string()
                    }
                },
            )))
        }
        _ => Err(Error::NotAvailable(name.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests() {
        assert_eq!(
            hash_bytes(b"abc", "md5").unwrap(),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hash_bytes(b"abc", "sha256").unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(hash_bytes(b"abc", "crc").is_err());
    }

    #[test]
    fn find_by_name_and_type() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        std::fs::write(dir.path().join("d/a.conf"), "").unwrap();
        std::fs::write(dir.path().join("b.txt"), "").unwrap();
        let mut kw = Map::default();
        kw.insert("name".into(), "*.conf".into());
        kw.insert("type".into(), "f".into());
        let found = find(&dir.path().display().to_string(), &kw);
        assert_eq!(
            found,
            vec![Value::Str(
                dir.path().join("d/a.conf").display().to_string()
            )]
        );
    }
}
