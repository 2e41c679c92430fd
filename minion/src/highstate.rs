//! Building high data from SLS files, as Salt's `BaseHighState` does: top files and their
//! matches, `render_state` with includes (relative, per-saltenv), `extend`/`exclude`
//! collection, short declarations, auto-order, and `render_highstate` over the matches.

use crate::fileroots::LocalRoots;
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
    pub roots: &'a LocalRoots,
    /// The Jinja environment of this run.
    pub jinja: &'a Jinja,
    /// The template context (grains, pillar, opts...).
    pub context: &'a Map,
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
        roots: &'a LocalRoots,
        jinja: &'a Jinja,
        context: &'a Map,
        functions: Arc<dyn Functions>,
        opts: &Map,
    ) -> Self {
        HighStateBuilder {
            roots,
            jinja,
            context,
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
        let Some(path) = self.roots.find(saltenv, rel) else {
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
            return (Map::new(), errors);
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
            None | Some(Value::Null) => return (Map::new(), errors),
            Some(Value::Map(m)) if m.is_empty() => return (Map::new(), errors),
            Some(Value::Map(m)) => m,
            Some(Value::Str(s)) if s.trim().is_empty() => return (Map::new(), errors),
            Some(_) => {
                errors.push(format!("SLS {sls} does not render to a dictionary"));
                return (Map::new(), errors);
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
                    let mut m = Map::new();
                    m.insert("order".into(), Value::Int(self.iorder));
                    args.push(Value::Map(m));
                    self.iorder += 1;
                }
            }
        }
    }

    /// Render every matched SLS into one high data (Salt's `render_highstate`).
    pub fn render_highstate(&mut self, matches: &Matches) -> (Map, Vec<String>) {
        let mut high = Map::new();
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
                let mut m = Map::new();
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
                    let mut b = Map::new();
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

/// Read the top files and return what they give this minion (Salt's `top_matches`).
pub fn top_matches(
    builder: &HighStateBuilder,
    top_name: &str,
    matcher: &dyn Fn(&Value, &str) -> bool,
    errors: &mut Vec<String>,
) -> Matches {
    let mut merged: Vec<(String, Vec<(Value, Value)>)> = Vec::new();
    let mut envs = builder.roots.envs().to_vec();
    if let Some(pos) = envs.iter().position(|e| e == "base") {
        let b = envs.remove(pos);
        envs.insert(0, b);
    }
    for env in &envs {
        let top = match builder.render_file(env, top_name, "") {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(e) => {
                errors.push(format!(
                    "Rendering Primary Top file failed, render error:\n{e}"
                ));
                continue;
            }
        };
        let Value::Map(top) = top else { continue };
        for (tenv, targets) in top {
            let tenv = tenv.py_str();
            if tenv == "include" {
                continue;
            }
            if tenv != *env && env != "base" && merged.iter().any(|(e, _)| *e == tenv) {
                continue;
            }
            let Value::Map(targets) = targets else {
                continue;
            };
            let slot = match merged.iter().position(|(e, _)| *e == tenv) {
                Some(i) => i,
                None => {
                    merged.push((tenv.clone(), Vec::new()));
                    merged.len() - 1
                }
            };
            for (tgt, items) in targets {
                if !merged[slot].1.iter().any(|(t, _)| *t == tgt) {
                    merged[slot].1.push((tgt, items));
                }
            }
        }
    }
    let mut out: Matches = Vec::new();
    for (env, targets) in merged {
        for (tgt, items) in targets {
            let Value::List(items) = items else { continue };
            let mut tgt_type = "glob".to_string();
            let mut slss = Vec::new();
            for item in items {
                match item {
                    Value::Map(m) => {
                        if let Some(t) = m.get("match") {
                            tgt_type = t.py_str();
                        }
                    }
                    other => slss.push(other.py_str()),
                }
            }
            if matcher(&tgt, &tgt_type) {
                let slot = match out.iter().position(|(e, _)| *e == env) {
                    Some(i) => i,
                    None => {
                        out.push((env.clone(), Vec::new()));
                        out.len() - 1
                    }
                };
                for s in slss {
                    if !out[slot].1.contains(&s) {
                        out[slot].1.push(s);
                    }
                }
            }
        }
    }
    out
}
