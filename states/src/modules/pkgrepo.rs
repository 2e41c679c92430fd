//! `pkgrepo.managed` and `pkgrepo.absent` on apt (salt/states/pkgrepo.py, Debian branch,
//! Salt 3008.5), on the sources model of [`crate::exec::aptsources`].
//!
//! `managed` compares the repo `get_repo` finds for the name with the entry
//! `_expand_repo_def` builds from the name and arguments, key by key as Salt does (the
//! file is never compared, the line's words after the third are compared sorted, options
//! in order), and calls `pkg.mod_repo` only when something differs. Keys are imported
//! only then. `absent` removes what `pkg.del_repo` matches and always refreshes apt.

use super::{ret, Registry, StateCall};
use crate::exec::aptsources::{self, exc_text, AptCtx, OneLine};
use halite_core::{Error, Map, Result, Value};

/// Register the `pkgrepo` module.
pub fn register(r: &mut Registry) {
    r.add("pkgrepo.managed", managed);
    r.add("pkgrepo.absent", absent);
}

/// Salt's `STATE_INTERNAL_KEYWORDS` (requisites, runtime keywords): never passed to the
/// state function as keyword arguments.
const INTERNAL: &[&str] = &[
    "onfail",
    "onfail_any",
    "onfail_all",
    "require",
    "require_any",
    "onchanges",
    "onchanges_any",
    "watch",
    "watch_any",
    "prereq",
    "prerequired",
    "listen",
    "onfail_stop",
    "onchanges_in",
    "onfail_in",
    "prereq_in",
    "watch_in",
    "require_in",
    "listen_in",
    "fun",
    "state",
    "check_cmd",
    "cmd_opts_exclude",
    "failhard",
    "onlyif",
    "unless",
    "creates",
    "retry",
    "order",
    "parallel",
    "reload_modules",
    "reload_grains",
    "reload_pillar",
    "runas",
    "runas_password",
    "no_log",
    "fire_event",
    "saltenv",
    "umask",
    "use",
    "use_in",
];

/// The state's `**kwargs`: the chunk without the named parameters, the internal keywords
/// and the `__`-prefixed bookkeeping keys, in the chunk's order.
fn state_kwargs(c: &StateCall, named: &[&str]) -> Map {
    let mut kw = Map::default();
    for (k, v) in c.low.iter() {
        let Some(key) = k.as_str() else { continue };
        if named.contains(&key) || INTERNAL.contains(&key) || key.starts_with("__") {
            continue;
        }
        kw.insert(k.clone(), v.clone());
    }
    kw
}

fn set(r: &mut Map, result: Option<bool>, comment: String) {
    r.insert("result".into(), result.map_or(Value::Null, Value::Bool));
    r.insert("comment".into(), comment.into());
}

/// A present, non-null argument.
fn given<'a>(kw: &'a Map, key: &str) -> Option<&'a Value> {
    kw.get(key).filter(|v| !v.is_null())
}

/// Python's `sorted(list)` of a list value's strings.
fn sorted_strings(v: &Value) -> Vec<String> {
    let mut items: Vec<String> = match v {
        Value::List(l) => l.iter().map(Value::py_str).collect(),
        Value::Str(s) => s.chars().map(String::from).collect(),
        other => vec![other.py_str()],
    };
    items.sort();
    items
}

/// `words[3:] = sorted(words[3:])`.
fn sort_tail(mut words: Vec<String>) -> Vec<String> {
    if words.len() > 3 {
        words[3..].sort();
    }
    words
}

/// Salt's "already configured" loop: does any key of the desired entry differ from the
/// repo found? (`file` was removed from both.)
fn differs(sanitized: &Map, pre: &Map, kw: &Map) -> bool {
    for (k, want) in sanitized {
        let key = k.as_str().unwrap_or("");
        let Some(have) = pre.get(key) else {
            if matches!(key, "comps" | "key_url" | "enabled") {
                return true;
            }
            continue;
        };
        match key {
            "comps" | "key_url" => {
                if sorted_strings(want) != sorted_strings(have) {
                    return true;
                }
            }
            "line" => {
                if sanitized.get("disabled").is_some_and(Value::is_truthy) {
                    continue;
                }
                let wanted = sort_tail(
                    want.py_str()
                        .split_whitespace()
                        .map(str::to_string)
                        .collect(),
                );
                let have = have.py_str();
                let (words, pre_comments) = match have.split_once('#') {
                    Some((a, b)) => (a.trim(), b.trim()),
                    None => (have.trim(), ""),
                };
                let words = sort_tail(words.split_whitespace().map(str::to_string).collect());
                if wanted != words {
                    return true;
                }
                if let Some(comments) = kw.get("comments") {
                    if aptsources::combine_comments(comments) != pre_comments {
                        return true;
                    }
                }
            }
            "architectures" if want.is_truthy() => {
                let set = |v: &Value| {
                    sorted_strings(v)
                        .into_iter()
                        .collect::<std::collections::BTreeSet<_>>()
                };
                if set(want) != set(have) {
                    return true;
                }
            }
            _ => {
                if want.py_str() != have.py_str() {
                    return true;
                }
            }
        }
    }
    false
}

/// `{key: {"new": new[key], "old": old[key]}}` for every key of `keys` whose values differ.
fn diff(keys: &Map, new: &Map, old: &Map) -> Map {
    let mut changes = Map::default();
    for k in keys.keys() {
        let key = k.as_str().unwrap_or("");
        let n = new.get(key).cloned().unwrap_or(Value::Null);
        let o = old.get(key).cloned().unwrap_or(Value::Null);
        if n != o {
            let mut m = Map::default();
            m.insert("new".into(), n);
            m.insert("old".into(), o);
            changes.insert(k.clone(), Value::Map(m));
        }
    }
    changes
}

fn managed(c: &StateCall) -> Result<Map> {
    let ctx = AptCtx::system(c.opts, Some(c.functions));
    managed_in(c, &ctx)
}

fn absent(c: &StateCall) -> Result<Map> {
    let ctx = AptCtx::system(c.opts, Some(c.functions));
    absent_in(c, &ctx)
}

/// `pkgrepo.managed(name, ppa=None, copr=None, aptkey=True, **kwargs)` with the apt
/// context given.
fn managed_in(c: &StateCall, ctx: &AptCtx) -> Result<Map> {
    let name = c.name();
    let mut aptkey = c.arg("aptkey").is_none_or(Value::is_truthy);
    if !ctx.apt_key_available() {
        aptkey = false;
    }
    let mut r = ret(&name, Map::default(), None, "");
    let mut kw = state_kwargs(c, &["name", "ppa", "copr", "aptkey"]);

    // Salt sets these and carries on: a later step overwrites them.
    let has = |k: &str| kw.contains_key(k);
    if has("key_url") && (has("keyid") || has("keyserver")) {
        set(
            &mut r,
            Some(false),
            "You may not use both \"keyid\"/\"keyserver\" and \"key_url\" argument.".into(),
        );
    }
    if has("key_text") && (has("keyid") || has("keyserver")) {
        set(
            &mut r,
            Some(false),
            "You may not use both \"keyid\"/\"keyserver\" and \"key_text\" argument.".into(),
        );
    }
    if has("key_text") && has("key_url") {
        set(
            &mut r,
            Some(false),
            "You may not use both \"key_url\" and \"key_text\" argument.".into(),
        );
    }
    if has("repo") {
        set(&mut r, Some(false), "'repo' is not a supported argument for this state. The 'name' argument is probably what was intended.".into());
        return Ok(r);
    }
    let enabled = kw.shift_remove("enabled").filter(|v| !v.is_null());
    let disabled = kw.shift_remove("disabled").filter(|v| !v.is_null());
    if enabled.is_some() && disabled.is_some() {
        set(
            &mut r,
            Some(false),
            "Only one of enabled/disabled is allowed".into(),
        );
        return Ok(r);
    }
    let enabled = match (&enabled, &disabled) {
        (None, None) => Some(Value::Bool(true)),
        _ => enabled,
    };
    let allow_insecure_key = kw
        .shift_remove("allow_insecure_key")
        .is_none_or(|v| v.is_truthy());
    let insecure = kw
        .get("key_url")
        .is_some_and(|v| v.py_str().trim().starts_with("http:"));
    if insecure {
        if allow_insecure_key {
            tracing::warn!("allow_insecure_key will default to False starting in salt 3008.");
        } else {
            set(
                &mut r,
                Some(false),
                "Cannot have 'key_url' using http with 'allow_insecure_key' set to True".into(),
            );
            return Ok(r);
        }
    }
    kw.insert("name".into(), name.clone().into());
    let repo = match c.arg("ppa").filter(|v| !v.is_null()) {
        Some(ppa) => format!("ppa:{}", ppa.py_str()),
        None => name.clone(),
    };
    let disabled_flag = match &enabled {
        Some(e) => !aptsources::is_true(e),
        None => disabled.as_ref().is_some_and(aptsources::is_true),
    };
    kw.insert("disabled".into(), Value::Bool(disabled_flag));

    let mut pre = match aptsources::get_repo(&ctx.paths, &repo) {
        Ok(p) => p,
        Err(Error::CommandExecution(e)) => {
            set(
                &mut r,
                Some(false),
                format!("Failed to examine repo '{name}': {e}"),
            );
            return Ok(r);
        }
        Err(e) => return Err(e),
    };
    let mut sanitized = aptsources::expand_repo_def(&ctx.paths, &repo, &kw)?;

    let mut clean_file_reconfigure = false;
    if !pre.is_empty() && given(&kw, "clean_file").is_some_and(Value::is_truthy) {
        if let Some(file) = given(&kw, "file")
            .filter(|v| v.is_truthy())
            .map(Value::py_str)
        {
            if std::path::Path::new(&file).is_file() {
                if let Ok(text) = std::fs::read(&file) {
                    let text = String::from_utf8_lossy(&text);
                    clean_file_reconfigure = text
                        .lines()
                        .map(str::trim)
                        .any(|l| !l.is_empty() && !l.starts_with('#') && l != name.trim());
                }
            }
        }
    }

    if !pre.is_empty() && !clean_file_reconfigure {
        pre.shift_remove("file");
        sanitized.shift_remove("file");
        if !differs(&sanitized, &pre, &kw) {
            set(
                &mut r,
                Some(true),
                format!("Package repo '{name}' already configured"),
            );
            return Ok(r);
        }
    }

    if !kw.contains_key("uri") {
        if let (Some(s), Some(p)) = (sanitized.get("uri"), pre.get("uri")) {
            if s != p {
                let s = s.clone();
                kw.insert("uri".into(), s);
            }
        }
    }
    if !kw.contains_key("uris") {
        if let (Some(Value::List(s)), Some(p)) = (sanitized.get("uris"), pre.get("uris")) {
            if let Some(first) = s.first() {
                let in_pre = p.as_list().is_some_and(|l| l.contains(first));
                if !in_pre {
                    let s = Value::List(s.clone());
                    kw.insert("uris".into(), s);
                }
            }
        }
    }

    if c.test {
        let changes = if pre.is_empty() {
            let mut m = Map::default();
            m.insert("repo".into(), name.clone().into());
            m
        } else {
            diff(&sanitized, &sanitized, &pre)
        };
        r.insert("changes".into(), Value::Map(changes));
        set(&mut r, None, format!("Package repo '{name}' would be configured. This may cause pkg states to behave differently than stated if this action is repeated without test=True, due to the differences in the configured repositories."));
        return Ok(r);
    }

    if given(&kw, "clean_file").is_some_and(Value::is_truthy) {
        let file = kw
            .get("file")
            .ok_or_else(|| Error::CommandExecution("'file'".into()))?
            .py_str();
        crate::modules::file::atomic_write(std::path::Path::new(&file), b"", None)?;
    }

    let saltenv = c
        .str_arg("__env__")
        .filter(|s| !s.is_empty())
        .unwrap_or("base")
        .to_string();
    if let Err(e) = aptsources::mod_repo(ctx, &repo, &saltenv, aptkey, &kw) {
        set(
            &mut r,
            Some(false),
            format!("Failed to configure repo '{name}': {}", exc_text(&e)),
        );
        return Ok(r);
    }
    match aptsources::get_repo(&ctx.paths, &repo) {
        Ok(post) => {
            let changes = if pre.is_empty() {
                let mut m = Map::default();
                m.insert("repo".into(), repo.clone().into());
                m
            } else {
                diff(&sanitized, &post, &pre)
            };
            r.insert("changes".into(), Value::Map(changes));
            set(
                &mut r,
                Some(true),
                format!("Configured package repo '{name}'"),
            );
        }
        Err(e) => {
            set(
                &mut r,
                Some(false),
                format!(
                    "Failed to confirm config of repo '{name}': {}",
                    exc_text(&e)
                ),
            );
        }
    }
    Ok(r)
}

/// `pkgrepo.absent(name, **kwargs)` with the apt context given.
fn absent_in(c: &StateCall, ctx: &AptCtx) -> Result<Map> {
    let name = c.name();
    let kw = state_kwargs(c, &["name"]);
    let mut r = ret(&name, Map::default(), None, "");
    let remove_key = given(&kw, "keyid").is_some() || given(&kw, "keyid_ppa").is_some();
    let stripname = aptsources::strip_uri(&name);
    let mut repo = match aptsources::get_repo(&ctx.paths, &stripname) {
        Ok(p) => p,
        Err(Error::CommandExecution(e)) => {
            set(
                &mut r,
                Some(false),
                format!("Failed to configure repo '{name}': {e}"),
            );
            return Ok(r);
        }
        Err(e) => return Err(e),
    };
    if !repo.is_empty() {
        let wanted = OneLine::parse(&stripname, &ctx.paths.default_file())?;
        let want: std::collections::BTreeSet<String> = wanted.architectures.into_iter().collect();
        let have: std::collections::BTreeSet<String> = repo
            .get("architectures")
            .and_then(Value::as_list)
            .map(|l| l.iter().map(Value::py_str).collect())
            .unwrap_or_default();
        if want != have {
            repo = Map::default();
        }
    }
    if repo.is_empty() {
        set(&mut r, Some(true), format!("Package repo {name} is absent"));
        return Ok(r);
    }
    if c.test {
        set(&mut r, None, format!("Package repo '{name}' will be removed. This may cause pkg states to behave differently than stated if this action is repeated without test=True, due to the differences in the configured repositories."));
        return Ok(r);
    }
    match aptsources::del_repo(ctx, &stripname) {
        Ok(_) => {}
        Err(Error::CommandExecution(e) | Error::InvalidArgument(e)) => {
            set(&mut r, Some(false), e);
            return Ok(r);
        }
        Err(e) => return Err(e),
    }
    let repos = aptsources::list_repos(&ctx.paths)?;
    if repos.contains_key(stripname.as_str()) {
        set(&mut r, Some(false), format!("Failed to remove repo {name}"));
        return Ok(r);
    }
    let mut changes = Map::default();
    changes.insert("repo".into(), name.clone().into());
    let mut comment = format!("Removed repo {name}");
    let mut result = true;
    if remove_key {
        match aptsources::del_repo_key(ctx, Some(&stripname), &kw) {
            Ok(keyid) => {
                comment.push_str(&format!(", and keyid {}", keyid.py_str()));
                changes.insert("keyid".into(), keyid);
            }
            Err(Error::CommandExecution(e) | Error::InvalidArgument(e)) => {
                result = false;
                comment.push_str(&format!(", but failed to remove key: {e}"));
            }
            Err(e) => return Err(e),
        }
    }
    r.insert("changes".into(), Value::Map(changes));
    set(&mut r, Some(result), comment);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::aptsources::AptPaths;
    use crate::modules::file::tests_support::FakeFunctions;
    use std::cell::Cell;

    struct Env {
        dir: tempfile::TempDir,
        paths: AptPaths,
        refreshes: Cell<u32>,
        apt_key: bool,
    }

    fn env(files: &[(&str, &str)]) -> Env {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let paths = AptPaths::under(dir.path());
        if let Err(e) = std::fs::create_dir_all(&paths.partsdir) {
            panic!("{e}");
        }
        for (rel, text) in files {
            if let Err(e) = std::fs::write(dir.path().join("etc/apt").join(rel), text) {
                panic!("{e}");
            }
        }
        Env {
            dir,
            paths,
            refreshes: Cell::new(0),
            apt_key: false,
        }
    }

    impl Env {
        fn read(&self, rel: &str) -> String {
            std::fs::read_to_string(self.dir.path().join("etc/apt").join(rel)).unwrap_or_default()
        }

        fn run(
            &self,
            f: fn(&StateCall, &AptCtx) -> Result<Map>,
            args: &[(&str, Value)],
            test: bool,
        ) -> Map {
            let mut low = Map::default();
            low.insert("state".into(), "pkgrepo".into());
            low.insert("__id__".into(), "r".into());
            for (k, v) in args {
                low.insert((*k).into(), v.clone());
            }
            low.insert("order".into(), Value::Int(10000));
            low.insert("fun".into(), "managed".into());
            let opts = Map::default();
            let running = indexmap::IndexMap::default();
            let functions = FakeFunctions(Map::default());
            let c = StateCall {
                low: &low,
                test,
                functions: &functions,
                opts: &opts,
                reqs: None,
                running: &running,
            };
            let ctx = AptCtx {
                paths: self.paths.clone(),
                functions: None,
                refresh: Box::new(|| {
                    self.refreshes.set(self.refreshes.get() + 1);
                    Ok(())
                }),
                apt_key: Some(self.apt_key),
                http_proxy: String::new(),
                no_proxy: Vec::new(),
            };
            match f(&c, &ctx) {
                Ok(m) => m,
                Err(e) => panic!("state failed: {e}"),
            }
        }
    }

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    fn comment(r: &Map) -> String {
        r.get("comment").map(Value::py_str).unwrap_or_default()
    }

    fn changes(r: &Map) -> Map {
        r.get("changes")
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn managed_creates_then_is_idempotent() {
        let e = env(&[(
            "sources.list",
            "deb http://deb.debian.org/debian bookworm main\n",
        )]);
        let name = "deb http://example.invalid/debian bookworm main";
        let args = [
            ("name", s(name)),
            ("comps", s("main,contrib")),
            ("architectures", s("amd64,arm64")),
            ("comments", Value::List(vec![s("hello"), s("world")])),
            ("trusted", Value::Bool(true)),
        ];
        let r = e.run(managed_in, &args, true);
        assert_eq!(r.get("result"), Some(&Value::Null));
        assert!(comment(&r).starts_with(&format!("Package repo '{name}' would be configured.")));
        assert_eq!(changes(&r).get("repo"), Some(&s(name)));
        assert_eq!(e.refreshes.get(), 0);

        let r = e.run(managed_in, &args, false);
        assert_eq!(r.get("result"), Some(&Value::Bool(true)), "{r:?}");
        assert_eq!(comment(&r), format!("Configured package repo '{name}'"));
        assert_eq!(changes(&r).get("repo"), Some(&s(name)));
        assert_eq!(e.refreshes.get(), 1);
        assert_eq!(
            e.read("sources.list"),
            "deb http://deb.debian.org/debian bookworm main\ndeb [arch=amd64,arm64 trusted=yes] http://example.invalid/debian bookworm main contrib #hello world\n"
        );

        let r = e.run(managed_in, &args, false);
        assert_eq!(
            comment(&r),
            format!("Package repo '{name}' already configured"),
            "{r:?}"
        );
        assert_eq!(r.get("result"), Some(&Value::Bool(true)));
        assert!(changes(&r).is_empty());
        assert_eq!(e.refreshes.get(), 1);
    }

    #[test]
    fn managed_test_mode_changes_shape() {
        let e = env(&[(
            "sources.list",
            "deb [arch=amd64,arm64] http://example.invalid/debian bookworm main contrib #hello world\n",
        )]);
        let name = "deb [arch=amd64] http://example.invalid/debian bookworm main non-free";
        let r = e.run(managed_in, &[("name", s(name))], true);
        let ch = changes(&r);
        let keys: Vec<String> = ch.keys().map(Value::py_str).collect();
        assert_eq!(keys, ["comps", "line", "architectures"]);
        let line = ch
            .get("line")
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            line.get("new"),
            Some(&s(
                "deb [arch=amd64] http://example.invalid/debian bookworm main non-free"
            ))
        );
        assert_eq!(
            line.get("old"),
            Some(&s("deb [arch=amd64,arm64] http://example.invalid/debian bookworm main contrib #hello world"))
        );
    }

    #[test]
    fn trusted_option_in_name_is_never_idempotent() {
        let mut e = env(&[]);
        let name = "deb [trusted=yes] http://r.invalid/repo2 ./";
        // Without apt-key only the `trusted` argument counts, not the name's option.
        let r = e.run(managed_in, &[("name", s(name))], false);
        assert_eq!(
            comment(&r),
            format!("Failed to configure repo '{name}': missing 'signedby' or 'trusted' option when apt-key is missing")
        );
        e.apt_key = true;
        let r = e.run(managed_in, &[("name", s(name))], false);
        assert_eq!(
            comment(&r),
            format!("Configured package repo '{name}'"),
            "{r:?}"
        );
        let r = e.run(managed_in, &[("name", s(name))], false);
        assert_eq!(comment(&r), format!("Configured package repo '{name}'"));
        assert!(changes(&r).is_empty());
        assert_eq!(e.refreshes.get(), 2);
        let r = e.run(managed_in, &[("name", s(name))], true);
        let line = changes(&r)
            .get("line")
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default();
        assert_eq!(line.get("new"), Some(&s("deb http://r.invalid/repo2 ./")));
        assert_eq!(line.get("old"), Some(&s(name)));
        assert_eq!(e.read("sources.list"), format!("{name}\n"));
        // The trusted argument instead is idempotent.
        e.apt_key = false;
        let name = "deb http://r.invalid/repo3 ./";
        let args = [("name", s(name)), ("trusted", Value::Bool(true))];
        e.run(managed_in, &args, false);
        let r = e.run(managed_in, &args, false);
        assert_eq!(
            comment(&r),
            format!("Package repo '{name}' already configured")
        );
    }

    #[test]
    fn managed_failures() {
        let e = env(&[]);
        let r = e.run(
            managed_in,
            &[("name", s("deb http://x.invalid/d stable main"))],
            false,
        );
        assert_eq!(
            comment(&r),
            "Failed to configure repo 'deb http://x.invalid/d stable main': missing 'signedby' or 'trusted' option when apt-key is missing"
        );
        let r = e.run(managed_in, &[("name", s("foo bar"))], false);
        assert_eq!(
            comment(&r),
            "Failed to configure repo 'foo bar': Name foo bar is not valid. This must be the complete repo entry as seen in the sources file"
        );
        let r = e.run(
            managed_in,
            &[
                ("name", s("deb http://x.invalid/d stable main")),
                ("enabled", Value::Bool(true)),
                ("disabled", Value::Bool(false)),
            ],
            false,
        );
        assert_eq!(comment(&r), "Only one of enabled/disabled is allowed");
        let r = e.run(managed_in, &[("name", s("x")), ("repo", s("y"))], false);
        assert_eq!(r.get("result"), Some(&Value::Bool(false)));
        let r = e.run(
            managed_in,
            &[
                (
                    "name",
                    s("deb [signed-by=/etc/apt/keyrings/k.gpg] http://x.invalid/d stable main"),
                ),
                ("key_url", s("https://x.invalid/k.asc")),
            ],
            false,
        );
        assert_eq!(
            comment(&r),
            "Failed to configure repo 'deb [signed-by=/etc/apt/keyrings/k.gpg] http://x.invalid/d stable main': 'key_url' over http is not available"
        );
        assert_eq!(r.get("result"), Some(&Value::Bool(false)));
    }

    #[test]
    fn absent_removes_and_reports() {
        let e = env(&[(
            "sources.list",
            "deb http://a.invalid/d stable main contrib\n",
        )]);
        let name = "deb http://a.invalid/d/ stable main";
        let r = e.run(absent_in, &[("name", s(name))], true);
        assert_eq!(r.get("result"), Some(&Value::Null));
        assert!(comment(&r).starts_with(&format!("Package repo '{name}' will be removed.")));
        let r = e.run(absent_in, &[("name", s(name))], false);
        assert_eq!(comment(&r), format!("Removed repo {name}"));
        assert_eq!(changes(&r).get("repo"), Some(&s(name)));
        assert_eq!(
            e.read("sources.list"),
            "deb http://a.invalid/d stable contrib\n"
        );
        assert_eq!(e.refreshes.get(), 1);
        let r = e.run(absent_in, &[("name", s(name))], false);
        assert_eq!(comment(&r), format!("Package repo {name} is absent"));
        // A different architecture list is "absent".
        let r = e.run(
            absent_in,
            &[(
                "name",
                s("deb [arch=amd64] http://a.invalid/d stable contrib"),
            )],
            false,
        );
        assert_eq!(r.get("result"), Some(&Value::Bool(true)));
        assert_eq!(
            comment(&r),
            "Package repo deb [arch=amd64] http://a.invalid/d stable contrib is absent"
        );
    }
}
