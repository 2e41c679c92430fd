//! Building high data from SLS files, as Salt's `BaseHighState` does: top files and their
//! matches, `render_state` with includes (relative, per-saltenv), `extend`/`exclude`
//! collection, short declarations, auto-order, and `render_highstate` over the matches.

use crate::fileclient::FileClient;
use crate::template::{render, RenderJob, Rendered};
use halite_core::{Functions, Map, Value};
use halite_render::jinja::Jinja;
use halite_states::fnmatch::fnmatch;
use std::sync::Arc;

/// SLS names per saltenv, in order (Salt's `matches`).
pub type Matches = Vec<(String, Vec<String>)>;

/// Renders SLS files of the local roots into high data.
pub struct HighStateBuilder<'a> {
    /// The file roots.
    pub roots: &'a dyn FileClient,
    /// The Jinja environment of this run.
    pub jinja: &'a Jinja,
    /// Per-render context entries (usually empty).
    pub context: &'a Map,
    /// The run's shared template context (grains, pillar, opts).
    pub shared: Option<&'a halite_render::jinja::SharedContext>,
    /// Execution functions for templates.
    pub functions: Arc<dyn Functions>,
    /// The `renderer` option.
    pub default_pipe: String,
    /// The `state_auto_order` option.
    pub auto_order: bool,
    iorder: i64,
}

fn is_dunder(k: &Value) -> bool {
    k.as_str().is_some_and(|s| s.starts_with("__"))
}

impl<'a> HighStateBuilder<'a> {
    /// A builder for one run.
    pub fn new(
        roots: &'a dyn FileClient,
        jinja: &'a Jinja,
        context: &'a Map,
        functions: Arc<dyn Functions>,
        opts: &Map,
    ) -> Self {
        HighStateBuilder {
            roots,
            jinja,
            context,
            shared: None,
            functions,
            default_pipe: opts
                .get("renderer")
                .map(Value::py_str)
                .unwrap_or_else(|| "jinja|yaml".into()),
            auto_order: opts.get("state_auto_order").is_none_or(Value::is_truthy),
            iorder: 10000,
        }
    }

    /// Render one file of the tree (top file or SLS) into data.
    pub fn render_file(
        &self,
        saltenv: &str,
        rel: &str,
        sls: &str,
    ) -> Result<Option<Value>, String> {
        let Some(path) = self.roots.cache_file(saltenv, rel) else {
            return Ok(None);
        };
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let full = path.display().to_string();
        let job = RenderJob {
            text: &text,
            rel,
            full: &full,
            saltenv,
            sls,
            context: self.context,
            shared: self.shared,
            functions: self.functions.clone(),
            default_pipe: &self.default_pipe,
        };
        match render(self.jinja, &job)? {
            Rendered::Data(d) => Ok(Some(d)),
            Rendered::Text(t) => Ok(Some(Value::Str(t))),
        }
    }

    /// Render `sls` and everything it includes (Salt's `render_state`).
    pub fn render_state(
        &mut self,
        sls: &str,
        saltenv: &str,
        mods: &mut Vec<String>,
        matches: &Matches,
    ) -> (Map, Vec<String>) {
        let mut errors = Vec::new();
        let found = self.roots.find_sls(saltenv, sls);
        let Some((rel, _)) = found else {
            errors.push(format!(
                "Specified SLS {sls} in saltenv {saltenv} is not available on the salt master or through a configured fileserver"
            ));
            return (Map::default(), errors);
        };
        let rendered = match self.render_file(saltenv, &rel, sls) {
            Ok(v) => v,
            Err(e) => {
                errors.push(format!("Rendering SLS '{saltenv}:{sls}' failed: {e}"));
                None
            }
        };
        mods.push(format!("{saltenv}:{sls}"));
        let state = match rendered {
            None | Some(Value::Null) => return (Map::default(), errors),
            Some(Value::Map(m)) if m.is_empty() => return (Map::default(), errors),
            Some(Value::Map(m)) => m,
            Some(Value::Str(s)) if s.trim().is_empty() => return (Map::default(), errors),
            Some(_) => {
                errors.push(format!("SLS {sls} does not render to a dictionary"));
                return (Map::default(), errors);
            }
        };
        let mut state = state;
        let mut include = Vec::new();
        if let Some(inc) = state.get("include") {
            match inc {
                Value::List(l) => {
                    include = l.clone();
                    state.shift_remove("include");
                }
                _ => errors.push(format!(
                    "Include Declaration in SLS {sls} is not formed as a list"
                )),
            }
        }
        handle_extend(&mut state, sls, saltenv, &mut errors);
        handle_exclude(&mut state, sls, &mut errors);
        handle_state_decls(&mut state, sls, saltenv, &mut errors);
        for inc in include {
            let (env_key, mut inc_sls) = match inc {
                Value::Map(mut m) => match m.pop() {
                    Some((k, v)) => (k.py_str(), v.py_str()),
                    None => continue,
                },
                other => (saltenv.to_string(), other.py_str()),
            };
            if !self.roots.envs().contains(&env_key) && env_key != "_xenv" {
                errors.push(format!(
                    "Nonexistent saltenv '{env_key}' found in include of '{inc_sls}' within SLS '{saltenv}:{sls}'"
                ));
                continue;
            }
            if inc_sls.starts_with('.') {
                let levels = inc_sls.chars().take_while(|c| *c == '.').count();
                let rest = inc_sls[levels..].to_string();
                let mut comps: Vec<String> = sls.split('.').map(str::to_string).collect();
                if rel.ends_with("/init.sls") {
                    comps.push("init".into());
                }
                if levels > comps.len() {
                    errors.push(format!(
                        "Attempted relative include of '{inc_sls}' within SLS '{saltenv}:{sls}' goes beyond top level package "
                    ));
                    continue;
                }
                comps.truncate(comps.len() - levels);
                comps.push(rest);
                inc_sls = comps.join(".");
            }
            let avail = self.roots.list_states(&env_key);
            let resolved = matches.iter().any(|(e, _)| *e == env_key)
                || avail.iter().any(|a| fnmatch(a, &inc_sls));
            if !resolved {
                errors.push(format!(
                    "Unknown include: Specified SLS {env_key}: {inc_sls} is not available on the salt master in saltenv(s): {env_key} "
                ));
                continue;
            }
            let mut targets: Vec<String> = self
                .roots
                .list_states(saltenv)
                .into_iter()
                .filter(|a| fnmatch(a, &inc_sls))
                .collect();
            if targets.is_empty() {
                targets.push(inc_sls.clone());
            }
            for target in targets {
                let mod_tgt = format!("{env_key}:{target}");
                if mods.contains(&mod_tgt) {
                    continue;
                }
                let (mut nstate, err) = self.render_state(&target, &env_key, mods, matches);
                if !nstate.is_empty() {
                    for (k, v) in nstate.iter_mut() {
                        if is_dunder(k) {
                            continue;
                        }
                        if let Value::Map(body) = v {
                            let entry = body
                                .entry("__sls_included_from__".into())
                                .or_insert_with(|| Value::List(vec![]));
                            if let Value::List(l) = entry {
                                l.push(sls.into());
                            }
                        }
                    }
                    merge_included_states(&mut state, &mut nstate, &mut errors);
                    for (k, v) in nstate {
                        state.insert(k, v);
                    }
                }
                errors.extend(err);
            }
        }
        if self.auto_order {
            self.handle_iorder(&mut state);
        }
        (state, errors)
    }

    fn handle_iorder(&mut self, state: &mut Map) {
        for (_, body) in state.iter_mut() {
            let Value::Map(body) = body else { continue };
            for (s_dec, args) in body.iter_mut() {
                let Some(dec) = s_dec.as_str() else { continue };
                if dec.starts_with('_') {
                    continue;
                }
                let Value::List(args) = args else { continue };
                let found = args.iter().any(|a| {
                    a.as_map()
                        .and_then(|m| m.keys().next())
                        .and_then(Value::as_str)
                        == Some("order")
                });
                if !found {
                    let mut m = Map::default();
                    m.insert("order".into(), Value::Int(self.iorder));
                    args.push(Value::Map(m));
                    self.iorder += 1;
                }
            }
        }
    }

    /// Render every matched SLS into one high data (Salt's `render_highstate`).
    pub fn render_highstate(&mut self, matches: &Matches) -> (Map, Vec<String>) {
        let mut high = Map::default();
        let mut all_errors = Vec::new();
        let mut mods: Vec<String> = Vec::new();
        for (saltenv, states) in matches {
            for sls_match in states {
                let avail = self.roots.list_states(saltenv);
                let mut files: Vec<String> = avail
                    .into_iter()
                    .filter(|a| fnmatch(a, sls_match))
                    .collect();
                if files.is_empty() {
                    files.push(sls_match.clone());
                }
                for sls in files {
                    if mods.contains(&format!("{saltenv}:{sls}")) {
                        continue;
                    }
                    let (mut state, mut errors) =
                        self.render_state(&sls, saltenv, &mut mods, matches);
                    if !state.is_empty() {
                        merge_included_states(&mut high, &mut state, &mut errors);
                    }
                    let needle = format!("SLS {sls_match} in saltenv");
                    for e in errors.iter_mut() {
                        if e.contains("is not available") && e.contains(&needle) {
                            *e = format!(
                                "No matching sls found for '{sls_match}' in env '{saltenv}'"
                            );
                        }
                    }
                    all_errors.extend(errors);
                }
            }
        }
        clean_duplicate_extends(&mut high);
        (high, all_errors)
    }
}

fn merge_included_states(high: &mut Map, state: &mut Map, errors: &mut Vec<String>) {
    for key in ["__extend__", "__exclude__"] {
        if let Some(Value::List(l)) = state.shift_remove(key) {
            let entry = high
                .entry(key.into())
                .or_insert_with(|| Value::List(vec![]));
            if let Value::List(h) = entry {
                h.extend(l);
            }
        }
    }
    for (id, body) in state.iter() {
        if let Some(existing) = high.get(id) {
            if existing != body {
                let g = |b: &Value, k: &str| b.get(k).map(Value::py_str).unwrap_or_default();
                errors.push(format!(
                    "Detected conflicting IDs, SLS IDs need to be globally unique.\n    The conflicting ID is '{}' and is found in SLS '{}:{}' and SLS '{}:{}'",
                    id.py_str(),
                    g(existing, "__env__"),
                    g(existing, "__sls__"),
                    g(body, "__env__"),
                    g(body, "__sls__")
                ));
            }
        }
    }
    for (k, v) in std::mem::take(state) {
        high.insert(k, v);
    }
}

fn clean_duplicate_extends(high: &mut Map) {
    if let Some(Value::List(ext)) = high.get_mut("__extend__") {
        let mut seen: Vec<(Value, Value)> = Vec::new();
        for e in ext.iter() {
            if let Value::Map(m) = e {
                for (k, v) in m {
                    let item = (k.clone(), v.clone());
                    if !seen.contains(&item) {
                        seen.push(item);
                    }
                }
            }
        }
        *ext = seen
            .into_iter()
            .map(|(k, v)| {
                let mut m = Map::default();
                m.insert(k, v);
                Value::Map(m)
            })
            .collect();
    }
}

fn handle_extend(state: &mut Map, sls: &str, saltenv: &str, errors: &mut Vec<String>) {
    let Some(ext) = state.shift_remove("extend") else {
        return;
    };
    let Value::Map(mut ext) = ext else {
        errors.push(format!(
            "Extension value in SLS '{sls}' is not a dictionary"
        ));
        return;
    };
    for (name, body) in ext.iter_mut() {
        let Value::Map(body) = body else {
            errors.push(format!(
                "Extension name '{}' in SLS '{sls}' is not a dictionary",
                name.py_str()
            ));
            continue;
        };
        if !body.contains_key("__sls__") {
            body.insert("__sls__".into(), sls.into());
        }
        if !body.contains_key("__env__") {
            body.insert("__env__".into(), saltenv.into());
        }
        let keys: Vec<Value> = body.keys().cloned().collect();
        for key in keys {
            let Some(k) = key.as_str() else { continue };
            if k.starts_with('_') || !matches!(body.get(k), Some(Value::List(_))) {
                continue;
            }
            if let Some((module, fun)) = k.split_once('.') {
                let (module, fun) = (module.to_string(), fun.to_string());
                if let Some(Value::List(mut l)) = body.shift_remove(k) {
                    l.push(Value::Str(
                        fun.split('.').next().unwrap_or(&fun).to_string(),
                    ));
                    body.insert(Value::Str(module), Value::List(l));
                }
            }
        }
    }
    let entry = state
        .entry("__extend__".into())
        .or_insert_with(|| Value::List(vec![]));
    if let Value::List(l) = entry {
        l.push(Value::Map(ext));
    }
}

fn handle_exclude(state: &mut Map, sls: &str, errors: &mut Vec<String>) {
    let Some(exc) = state.shift_remove("exclude") else {
        return;
    };
    let list = match exc {
        Value::List(l) => l,
        other => {
            errors.push(format!(
                "Exclude Declaration in SLS {sls} is not formed as a list"
            ));
            vec![other]
        }
    };
    let entry = state
        .entry("__exclude__".into())
        .or_insert_with(|| Value::List(vec![]));
    if let Value::List(l) = entry {
        l.extend(list);
    }
}

fn handle_state_decls(state: &mut Map, sls: &str, saltenv: &str, errors: &mut Vec<String>) {
    let names: Vec<Value> = state.keys().cloned().collect();
    for name in names {
        let name_s = name.py_str();
        let Some(body) = state.get_mut(&name) else {
            continue;
        };
        match body {
            Value::Map(b) => {
                let mut skeys: Vec<String> = Vec::new();
                let keys: Vec<Value> = b.keys().cloned().collect();
                for key in keys {
                    let Some(k) = key.as_str().map(str::to_string) else {
                        continue;
                    };
                    if k.starts_with('_') || !matches!(b.get(k.as_str()), Some(Value::List(_))) {
                        continue;
                    }
                    if let Some((module, fun)) = k.split_once('.') {
                        if skeys.iter().any(|s| s == module) {
                            errors.push(format!(
                                "ID '{name_s}' in SLS '{sls}' contains multiple state declarations of the same type"
                            ));
                            continue;
                        }
                        let fun = fun.split('.').next().unwrap_or(fun).to_string();
                        let module = module.to_string();
                        if let Some(Value::List(mut l)) = b.shift_remove(k.as_str()) {
                            l.push(Value::Str(fun));
                            b.insert(Value::Str(module.clone()), Value::List(l));
                        }
                        skeys.push(module);
                        continue;
                    }
                    skeys.push(k);
                }
                if !b.contains_key("__sls__") {
                    b.insert("__sls__".into(), sls.into());
                }
                if !b.contains_key("__env__") {
                    b.insert("__env__".into(), saltenv.into());
                }
            }
            Value::Str(s) if name_s != "__extend__" && name_s != "__exclude__" => {
                if let Some((module, fun)) = s.split_once('.') {
                    let fun = fun.split('.').next().unwrap_or(fun).to_string();
                    let mut b = Map::default();
                    b.insert("__sls__".into(), sls.into());
                    b.insert("__env__".into(), saltenv.into());
                    b.insert(
                        Value::Str(module.to_string()),
                        Value::List(vec![Value::Str(fun)]),
                    );
                    *body = Value::Map(b);
                } else {
                    errors.push(format!("ID {name_s} in SLS {sls} is not a dictionary"));
                }
            }
            _ if name_s == "__extend__" || name_s == "__exclude__" => {}
            _ => errors.push(format!("ID {name_s} in SLS {sls} is not a dictionary")),
        }
    }
}

/// The rendered top files per saltenv (Salt's `get_tops`), includes resolved.
fn get_tops(
    builder: &HighStateBuilder,
    opts: &Map,
    top_name: &str,
    errors: &mut Vec<String>,
) -> Vec<(String, Vec<Map>)> {
    let mut tops: Vec<(String, Vec<Map>)> = Vec::new();
    let push = |tops: &mut Vec<(String, Vec<Map>)>, env: &str, top: Map| match tops
        .iter_mut()
        .find(|(e, _)| e == env)
    {
        Some((_, l)) => l.push(top),
        None => tops.push((env.to_string(), vec![top])),
    };
    let render_top = |env: &str, rel: &str, errors: &mut Vec<String>| -> Option<Map> {
        match builder.render_file(env, rel, "") {
            Ok(Some(Value::Map(m))) => Some(m),
            Ok(Some(Value::Null)) | Ok(None) => None,
            Ok(Some(_)) => {
                errors.push("Top data was not formed as a dict".into());
                None
            }
            Err(e) => {
                errors.push(format!(
                    "Rendering Primary Top file failed, render error:\n{e}"
                ));
                None
            }
        }
    };
    let saltenv = opts
        .get("saltenv")
        .filter(|v| !v.is_null())
        .map(Value::py_str);
    if let Some(env) = saltenv {
        let top = render_top(&env, top_name, errors).unwrap_or_default();
        push(&mut tops, &env, top);
    } else {
        let envs: Vec<String> = match opts.get("state_top_saltenv").filter(|v| v.is_truthy()) {
            Some(e) => vec![e.py_str()],
            None => get_envs(builder.roots, opts),
        };
        for env in envs {
            let top = render_top(&env, top_name, errors).unwrap_or_default();
            push(&mut tops, &env, top);
        }
    }
    // `include:` in a top file pulls in other top files (sls names, globs allowed).
    let mut include: Vec<(String, Vec<String>)> = Vec::new();
    for (env, ctops) in tops.iter_mut() {
        for ctop in ctops.iter_mut() {
            if let Some(Value::List(l)) = ctop.shift_remove("include") {
                include.push((env.clone(), l.iter().map(Value::py_str).collect()));
            }
        }
    }
    let mut done: Vec<(String, String)> = Vec::new();
    while !include.is_empty() {
        let current = std::mem::take(&mut include);
        for (env, states) in current {
            for sls_match in states {
                for sls in builder
                    .roots
                    .list_states(&env)
                    .into_iter()
                    .filter(|a| fnmatch(a, &sls_match))
                {
                    if done.contains(&(env.clone(), sls.clone())) {
                        continue;
                    }
                    if let Some((rel, _)) = builder.roots.find_sls(&env, &sls) {
                        if let Some(t) = render_top(&env, &rel, errors) {
                            push(&mut tops, &env, t);
                        }
                    }
                    done.push((env.clone(), sls));
                }
            }
        }
    }
    tops
}

/// Salt's `_get_envs`: `base`, the `file_roots` envs, ordered by `env_order` when set.
fn get_envs(roots: &dyn FileClient, opts: &Map) -> Vec<String> {
    let mut envs = vec!["base".to_string()];
    for e in roots.envs() {
        if !envs.contains(&e) {
            envs.push(e);
        }
    }
    let mut order: Vec<String> = Vec::new();
    for e in opts
        .get("env_order")
        .and_then(Value::as_list)
        .into_iter()
        .flatten()
    {
        let e = e.py_str();
        if !order.contains(&e) {
            order.push(e);
        }
    }
    if order.is_empty() {
        envs
    } else {
        order
            .into_iter()
            .filter(|e| roots.envs().contains(e))
            .collect()
    }
}

type Top = Vec<(String, Vec<(Value, Value)>)>;

fn top_insert(top: &mut Top, env: &str, tgt: Value, data: Value) {
    let slot = match top.iter().position(|(e, _)| e == env) {
        Some(i) => i,
        None => {
            top.push((env.to_string(), Vec::new()));
            top.len() - 1
        }
    };
    match top[slot].1.iter_mut().find(|(t, _)| *t == tgt) {
        Some(entry) => entry.1 = data,
        None => top[slot].1.push((tgt, data)),
    }
}

fn top_get<'t>(top: &'t Top, env: &str, tgt: &Value) -> Option<&'t Value> {
    top.iter()
        .find(|(e, _)| e == env)
        .and_then(|(_, l)| l.iter().find(|(t, _)| t == tgt))
        .map(|x| &x.1)
}

/// Salt's `merge_tops` with the `top_file_merging_strategy` option (merge, same, merge_all).
fn merge_tops(tops: Vec<(String, Vec<Map>)>, opts: &Map) -> Top {
    let strategy = opts
        .get("top_file_merging_strategy")
        .map(Value::py_str)
        .unwrap_or_else(|| "merge".into());
    let mut top: Top = Vec::new();
    let each = |ctop: &Map, f: &mut dyn FnMut(String, &Map)| {
        for (env, targets) in ctop {
            let env = env.py_str();
            if env == "include" {
                continue;
            }
            if let Value::Map(t) = targets {
                f(env, t);
            }
        }
    };
    match strategy.as_str() {
        "same" => {
            let default_top = opts
                .get("default_top")
                .map(Value::py_str)
                .unwrap_or_else(|| "base".into());
            for (cenv, ctops) in &tops {
                if ctops.iter().all(Map::is_empty) {
                    let fallback = tops.iter().find(|(e, _)| *e == default_top).map(|x| &x.1);
                    for ctop in fallback.into_iter().flatten() {
                        if let Some(Value::Map(t)) = ctop.get(cenv.as_str()) {
                            for (tgt, data) in t {
                                top_insert(&mut top, cenv, tgt.clone(), data.clone());
                            }
                            break;
                        }
                    }
                    continue;
                }
                for ctop in ctops {
                    each(ctop, &mut |env, t| {
                        if env == *cenv {
                            for (tgt, data) in t {
                                top_insert(&mut top, &env, tgt.clone(), data.clone());
                            }
                        }
                    });
                }
            }
        }
        "merge_all" => {
            for (_, ctops) in &tops {
                for ctop in ctops {
                    each(ctop, &mut |env, t| {
                        for (tgt, data) in t {
                            let merged = match top_get(&top, &env, tgt) {
                                None => data.clone(),
                                Some(existing) => {
                                    let read = |v: &Value| {
                                        let mut mt = None;
                                        let mut st: Vec<Value> = Vec::new();
                                        for item in v.as_list().into_iter().flatten() {
                                            match item {
                                                Value::Map(_) => mt = Some(item.clone()),
                                                Value::Str(_) => st.push(item.clone()),
                                                _ => {}
                                            }
                                        }
                                        (mt, st)
                                    };
                                    let (t1, s1) = read(existing);
                                    let (t2, s2) = read(data);
                                    let mut merged: Vec<Value> = Vec::new();
                                    if let Some(mt) = t2.or(t1) {
                                        merged.push(mt);
                                    }
                                    merged.extend(s1);
                                    for x in s2 {
                                        if !merged.contains(&x) {
                                            merged.push(x);
                                        }
                                    }
                                    Value::List(merged)
                                }
                            };
                            top_insert(&mut top, &env, tgt.clone(), merged);
                        }
                    });
                }
            }
        }
        _ => {
            if let Some((_, base)) = tops.iter().find(|(e, _)| e == "base") {
                for ctop in base {
                    each(ctop, &mut |env, t| {
                        for (tgt, data) in t {
                            top_insert(&mut top, &env, tgt.clone(), data.clone());
                        }
                    });
                }
            }
            for (cenv, ctops) in tops.iter().filter(|(e, _)| e != "base") {
                for ctop in ctops {
                    each(ctop, &mut |env, t| {
                        if env != *cenv || top.iter().any(|(e, _)| *e == env) {
                            return;
                        }
                        for (tgt, data) in t {
                            top_insert(&mut top, &env, tgt.clone(), data.clone());
                        }
                    });
                }
            }
        }
    }
    top
}

/// Read the top files and return what they give this minion (Salt's `get_top` +
/// `top_matches`). The matcher of a target is its `match:` item, `compound` by default.
pub fn top_matches(
    builder: &HighStateBuilder,
    opts: &Map,
    top_name: &str,
    matcher: &dyn Fn(&Value, &str) -> bool,
    errors: &mut Vec<String>,
) -> Matches {
    let tops = get_tops(builder, opts, top_name, errors);
    let top = merge_tops(tops, opts);
    let only_env = opts
        .get("saltenv")
        .filter(|v| !v.is_null())
        .map(Value::py_str);
    let mut out: Matches = Vec::new();
    let add =
        |out: &mut Matches, env: &str, sls: String| match out.iter_mut().find(|(e, _)| e == env) {
            Some((_, l)) => l.push(sls),
            None => out.push((env.to_string(), vec![sls])),
        };
    for (env, targets) in top {
        if only_env.as_ref().is_some_and(|o| *o != env) {
            continue;
        }
        for (tgt, data) in targets {
            let items = match data {
                Value::List(l) => l,
                Value::Str(s) => vec![Value::Str(s)],
                _ => continue,
            };
            let mut tgt_type = "compound".to_string();
            for item in &items {
                if let Some(t) = item.get("match") {
                    tgt_type = t.py_str();
                }
            }
            if !matcher(&tgt, &tgt_type) {
                continue;
            }
            if !out.iter().any(|(e, _)| *e == env) {
                out.push((env.clone(), Vec::new()));
            }
            for item in items {
                match item {
                    Value::Str(s) => add(&mut out, &env, s),
                    Value::Map(m) => {
                        if let Some((k, v)) = m.get_index(m.len().saturating_sub(1)) {
                            let env_key = k.py_str();
                            if builder.roots.envs().contains(&env_key) {
                                add(&mut out, &env_key, v.py_str());
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    out
}
