//! `state.*` execution functions: apply, sls, highstate and the `show_*` family, with Salt's
//! return shapes (a running dict, or a list of error strings) and retcodes. Each first
//! checks for other state runs (see [`crate::state_queue`]); `state.running` lists them.

use super::{arg, Exec};
use crate::context::Minion;
use crate::highstate::{top_matches, HighStateBuilder, Matches};
use crate::state_queue;
use halite_core::{Error, Map, Result, Value};
use halite_states::high::{apply_exclude, reconcile_extend, requisite_in, verify_high};
use halite_states::{compile, Runner};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Salt's exit codes for state runs.
const EX_STATE_COMPILER_ERROR: i64 = 1;
const EX_STATE_FAILURE: i64 = 2;
const EX_PILLAR_FAILURE: i64 = 5;

fn set_retcode(m: &Minion, code: i64) {
    m.retcode.store(code, Ordering::SeqCst);
}

fn errors_value(errors: Vec<String>) -> Value {
    Value::List(errors.into_iter().map(Value::Str).collect())
}

/// Salt's `_get_test_value`: `test=` on the call wins; otherwise `test: True` in the grains
/// or the pillar (`config.get` without the options), then the `test` option.
pub(crate) fn test_flag(m: &Arc<Minion>, kwargs: &Map) -> bool {
    match kwargs.get("test") {
        Some(Value::Null) | None => {}
        Some(v) => return v.is_truthy(),
    }
    if m.grains().get("test") == Some(&Value::Bool(true))
        || m.pillar().get("test") == Some(&Value::Bool(true))
    {
        return true;
    }
    m.opts().get("test").is_some_and(Value::is_truthy)
}

fn saltenv(m: &Minion, kwargs: &Map) -> String {
    kwargs
        .get("saltenv")
        .filter(|v| !v.is_null())
        .or_else(|| m.opts().get("saltenv").filter(|v| !v.is_null()))
        .map(Value::py_str)
        .unwrap_or_else(|| "base".into())
}

fn split_mods(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l.iter().map(Value::py_str).collect(),
        other => other
            .py_str()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    }
}

/// The named parameters of each state function that checks for other state runs first
/// (Salt's `_check_queue`), which Salt keeps out of a queued job's `kwarg`; `None` for the
/// functions that do not check.
fn queue_params(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "state.apply" | "state.sls" => &["mods", "test", "exclude", "state_events", "env"],
        "state.highstate" => &["test", "state_events"],
        "state.single" => &["fun", "name", "test"],
        "state.sls_id" => &["id_", "mods", "test", "state_events"],
        "state.template_str" => &["tem"],
        "state.show_sls" | "state.show_low_sls" | "state.sls_exists" => &["mods", "test", "env"],
        "state.show_top" => &["env"],
        "state.show_highstate" | "state.show_lowstate" => &[],
        _ => return None,
    })
}

/// Salt's `_check_queue` for `name` (see [`state_queue::check`]): `Some(ret)` when the
/// function must return `ret` instead of running.
fn gate(m: &Arc<Minion>, name: &str, kwargs: &Map) -> Result<Option<Value>> {
    match queue_params(name) {
        Some(params) => state_queue::check(m, kwargs, params),
        None => Ok(None),
    }
}

/// Dispatch a `state.*` function.
pub fn call(ex: &Exec, name: &str, args: &[Value], kwargs: &Map) -> Result<Value> {
    let m = &ex.minion;
    let mods = arg(args, kwargs, 0, "mods")
        .filter(|v| !v.is_null())
        .map(split_mods);
    match name {
        "state.running" => {
            let concurrent = arg(args, kwargs, 0, "concurrent").is_some_and(Value::is_truthy);
            let lines = state_queue::running(m.opts(), m.jid().as_deref(), concurrent);
            Ok(Value::List(lines.into_iter().map(Value::Str).collect()))
        }
        "state.apply" => {
            if let Some(r) = gate(m, name, kwargs)? {
                return Ok(r);
            }
            match mods {
                Some(mods) if !mods.is_empty() => sls(m, mods, kwargs),
                _ => highstate(m, kwargs),
            }
        }
        "state.sls" => match mods {
            Some(mods) => match gate(m, name, kwargs)? {
                Some(r) => Ok(r),
                None => sls(m, mods, kwargs),
            },
            None => Err(Error::InvalidArgument(
                "Passed invalid arguments: sls() missing 1 required positional argument: 'mods'"
                    .into(),
            )),
        },
        "state.highstate" => match gate(m, name, kwargs)? {
            Some(r) => Ok(r),
            None => highstate(m, kwargs),
        },
        "state.single" => single(m, args, kwargs),
        "state.sls_id" => {
            let id = arg(args, kwargs, 0, "id_").map(Value::py_str).ok_or_else(|| {
                Error::InvalidArgument("Passed invalid arguments: sls_id() missing 2 required positional arguments: 'id_' and 'mods'".into())
            })?;
            let mods = arg(args, kwargs, 1, "mods").map(split_mods).ok_or_else(|| {
                Error::InvalidArgument("Passed invalid arguments: sls_id() missing 1 required positional argument: 'mods'".into())
            })?;
            if let Some(r) = gate(m, name, kwargs)? {
                return Ok(r);
            }
            sls_id(m, &id, mods, kwargs)
        }
        "state.template_str" => {
            let tem = arg(args, kwargs, 0, "tem").map(Value::py_str).ok_or_else(|| {
                Error::InvalidArgument("Passed invalid arguments: template_str() missing 1 required positional argument: 'tem'".into())
            })?;
            if let Some(r) = gate(m, name, kwargs)? {
                return Ok(r);
            }
            template_str(m, &tem, kwargs)
        }
        "state.show_top" => {
            if let Some(r) = gate(m, name, kwargs)? {
                return Ok(r);
            }
            let mut errors = Vec::new();
            let matches = matches_for_top(m, &mut errors);
            if !errors.is_empty() {
                set_retcode(m, EX_STATE_COMPILER_ERROR);
                return Ok(errors_value(errors));
            }
            Ok(matches_value(&matches))
        }
        "state.show_highstate" => {
            if let Some(r) = gate(m, name, kwargs)? {
                return Ok(r);
            }
            refuse_on_pillar_errors(m)?;
            let mut errors = Vec::new();
            let matches = matches_for_top(m, &mut errors);
            let (high, errs) = render_matches(m, &matches);
            errors.extend(errs);
            if !errors.is_empty() {
                set_retcode(m, EX_STATE_COMPILER_ERROR);
                return Ok(errors_value(errors));
            }
            Ok(Value::Map(high))
        }
        "state.show_lowstate" => {
            // Salt 3008.5 asserts here (`assert False`) instead of returning the conflict.
            if gate(m, name, kwargs)?.is_some() {
                return Err(Error::CommandExecution("AssertionError".into()));
            }
            refuse_on_pillar_errors(m)?;
            let mut errors = Vec::new();
            let matches = matches_for_top(m, &mut errors);
            let (mut high, errs) = render_matches(m, &matches);
            errors.extend(errs);
            if !errors.is_empty() {
                set_retcode(m, EX_STATE_COMPILER_ERROR);
                return Ok(errors_value(errors));
            }
            match compile_high(m, &mut high) {
                Ok(plan) => Ok(Value::List(
                    plan.ordered_chunks().into_iter().map(Value::Map).collect(),
                )),
                Err(errors) => {
                    set_retcode(m, EX_STATE_COMPILER_ERROR);
                    Ok(errors_value(errors))
                }
            }
        }
        "state.show_sls" | "state.sls_exists" | "state.show_low_sls" => {
            let Some(mods) = mods else {
                return Err(Error::InvalidArgument(format!(
                    "Passed invalid arguments: {}() missing 1 required positional argument: 'mods'",
                    name.trim_start_matches("state.")
                )));
            };
            if let Some(r) = gate(m, name, kwargs)? {
                // `sls_exists` is "did show_sls return a dict".
                return Ok(if name == "state.sls_exists" {
                    Value::Bool(matches!(r, Value::Map(_)))
                } else {
                    r
                });
            }
            refuse_on_pillar_errors(m)?;
            let env = saltenv(m, kwargs);
            let matches = vec![(env, mods)];
            let (high, mut errors) = render_matches(m, &matches);
            errors.extend(verify_high(&high));
            if name == "state.sls_exists" {
                return Ok(Value::Bool(errors.is_empty()));
            }
            if !errors.is_empty() {
                set_retcode(m, EX_STATE_COMPILER_ERROR);
                return Ok(errors_value(errors));
            }
            if name == "state.show_low_sls" {
                // Salt compiles the rendered high data as it is: no extend, no `_in`.
                return match compile(&high, &m.registry) {
                    Ok(plan) => Ok(Value::List(
                        plan.ordered_chunks().into_iter().map(Value::Map).collect(),
                    )),
                    Err(errors) => {
                        set_retcode(m, EX_STATE_COMPILER_ERROR);
                        Ok(errors_value(errors))
                    }
                };
            }
            Ok(Value::Map(high))
        }
        _ => Err(Error::NotAvailable(name.to_string())),
    }
}

/// `state.single fun name key=value...`: one state function outside any SLS.
fn single(m: &Arc<Minion>, args: &[Value], kwargs: &Map) -> Result<Value> {
    let fun = arg(args, kwargs, 0, "fun").map(Value::py_str).ok_or_else(|| {
        Error::InvalidArgument("Passed invalid arguments: single() missing 2 required positional arguments: 'fun' and 'name'".into())
    })?;
    let name = arg(args, kwargs, 1, "name").cloned().ok_or_else(|| {
        Error::InvalidArgument(
            "Passed invalid arguments: single() missing 1 required positional argument: 'name'"
                .into(),
        )
    })?;
    if let Some(r) = gate(m, "state.single", kwargs)? {
        return Ok(r);
    }
    let Some((state, function)) = fun.split_once('.') else {
        set_retcode(m, EX_STATE_COMPILER_ERROR);
        return Ok(Value::Str("Invalid function passed".into()));
    };
    let mut low = Map::default();
    for (k, v) in kwargs {
        if !matches!(
            k.as_str(),
            Some("fun" | "name" | "test" | "queue" | "saltenv" | "pillar")
        ) {
            low.insert(k.clone(), v.clone());
        }
    }
    low.insert("state".into(), state.into());
    low.insert(
        "fun".into(),
        function.split('.').next().unwrap_or(function).into(),
    );
    low.insert("__id__".into(), name.clone());
    low.insert("name".into(), name);
    let full = format!("{state}.{function}");
    if m.registry.get(&full).is_none() {
        set_retcode(m, EX_STATE_COMPILER_ERROR);
        return Ok(errors_value(vec![format!(
            "Specified state '{full}' was not found"
        )]));
    }
    let tag = halite_states::chunk::gen_tag(&low);
    let mut opts = m.opts().clone();
    let test = test_flag(m, kwargs);
    opts.insert("test".into(), Value::Bool(test));
    let functions = m.functions();
    let runner = Runner::new(
        &m.registry,
        functions.as_ref(),
        &opts,
        halite_states::Plan::default(),
        test,
    );
    let r = runner.call_single(low);
    let mut out = Map::default();
    out.insert(Value::Str(tag), Value::Map(r));
    set_retcode(
        m,
        if check_result(&out, &Map::default()) {
            0
        } else {
            EX_STATE_FAILURE
        },
    );
    Ok(Value::Map(out))
}

/// `state.sls_id ID mods`: the states of one ID (and the requisites they need).
fn sls_id(m: &Arc<Minion>, id: &str, mods: Vec<String>, kwargs: &Map) -> Result<Value> {
    if let Some(e) = pillar_errors(m) {
        return Ok(e);
    }
    let env = saltenv(m, kwargs);
    let mods_text = mods.join(",");
    let matches = vec![(env.clone(), mods)];
    let (high, mut errors) = render_matches(m, &matches);
    errors.extend(verify_high(&high));
    if !errors.is_empty() {
        set_retcode(m, EX_STATE_COMPILER_ERROR);
        return Ok(errors_value(errors));
    }
    let mut high = high;
    let plan = match compile_high(m, &mut high) {
        Ok(p) => p,
        Err(errors) => {
            set_retcode(m, EX_STATE_COMPILER_ERROR);
            return Ok(errors_value(errors));
        }
    };
    let mut opts = m.opts().clone();
    let test = test_flag(m, kwargs);
    opts.insert("test".into(), Value::Bool(test));
    let functions = m.functions();
    let runner = Runner::new(&m.registry, functions.as_ref(), &opts, plan, test);
    let running = runner.run_id(id);
    if running.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "No matches for ID '{id}' found in SLS '{mods_text}' within saltenv '{env}'"
        )));
    }
    let mut out = Map::default();
    for (k, v) in running {
        out.insert(Value::Str(k), Value::Map(v));
    }
    set_retcode(
        m,
        if check_result(&out, &high) {
            0
        } else {
            EX_STATE_FAILURE
        },
    );
    Ok(Value::Map(out))
}

/// `state.template_str`: states given as an SLS text on the command line.
fn template_str(m: &Arc<Minion>, tem: &str, kwargs: &Map) -> Result<Value> {
    let ctx = m.context();
    let pipe = m
        .opts()
        .get("renderer")
        .map(Value::py_str)
        .unwrap_or_else(|| "jinja|yaml".into());
    let job = crate::template::RenderJob {
        text: tem,
        rel: "",
        full: "",
        saltenv: &saltenv(m, kwargs),
        sls: "",
        context: &ctx,
        shared: None,
        functions: m.functions(),
        default_pipe: &pipe,
    };
    let high = match crate::template::render(&m.jinja, &job) {
        Ok(crate::template::Rendered::Data(d)) => d,
        Ok(crate::template::Rendered::Text(t)) => Value::Str(t),
        Err(e) => return Err(Error::Render(e)),
    };
    let mut high = match high {
        Value::Null => return Ok(Value::Null),
        Value::Map(h) if h.is_empty() => return Ok(Value::Map(h)),
        Value::Map(h) => h,
        _ => {
            set_retcode(m, EX_STATE_COMPILER_ERROR);
            return Ok(errors_value(vec![
                "Template <template-str> does not render to a dictionary".into(),
            ]));
        }
    };
    for item in ["include", "exclude", "extends"] {
        if high.contains_key(item) {
            set_retcode(m, EX_STATE_COMPILER_ERROR);
            return Ok(errors_value(vec![format!(
                "The '{item}' declaration found on '<template-str>' is invalid when rendering single templates"
            )]));
        }
    }
    for (_, body) in high.iter_mut() {
        if let Value::Str(s) = body {
            if let Some((module, fun)) = s.split_once('.') {
                let mut b = Map::default();
                b.insert(
                    Value::Str(module.to_string()),
                    Value::List(vec![Value::Str(fun.to_string())]),
                );
                *body = Value::Map(b);
            }
            continue;
        }
        let Value::Map(b) = body else { continue };
        let mut keys: Vec<String> = b
            .keys()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect();
        keys.sort();
        for k in keys {
            if k.starts_with('_') || !matches!(b.get(k.as_str()), Some(Value::List(_))) {
                continue;
            }
            if let Some((module, fun)) = k.split_once('.') {
                let (module, fun) = (module.to_string(), fun.to_string());
                if let Some(Value::List(mut l)) = b.shift_remove(k.as_str()) {
                    l.push(Value::Str(fun));
                    b.insert(Value::Str(module), Value::List(l));
                }
            }
        }
    }
    Ok(run_high(m, high, kwargs, None))
}

fn matches_value(matches: &Matches) -> Value {
    let mut out = Map::default();
    for (env, slss) in matches {
        out.insert(
            Value::Str(env.clone()),
            Value::List(slss.iter().map(|s| Value::Str(s.clone())).collect()),
        );
    }
    Value::Map(out)
}

fn builder<'a>(m: &'a Arc<Minion>, ctx: &'a Map) -> HighStateBuilder<'a> {
    let mut b = HighStateBuilder::new(m.roots.as_ref(), &m.jinja, ctx, m.functions(), m.opts());
    b.shared = Some(m.shared_context());
    b
}

fn matches_for_top(m: &Arc<Minion>, errors: &mut Vec<String>) -> Matches {
    let ctx = Map::default();
    let b = builder(m, &ctx);
    let top = m
        .opts()
        .get("state_top")
        .map(Value::py_str)
        .unwrap_or_else(|| "top.sls".into());
    let top = top.trim_start_matches("salt://").to_string();
    let pillar = m.pillar().clone();
    let matcher = |tgt: &Value, kind: &str| m.matches(tgt, kind, &pillar);
    top_matches(&b, m.opts(), &top, &matcher, errors)
}

fn render_matches(m: &Arc<Minion>, matches: &Matches) -> (Map, Vec<String>) {
    let ctx = Map::default();
    let mut b = builder(m, &ctx);
    b.render_highstate(matches)
}

pub(crate) fn compile_high(
    m: &Arc<Minion>,
    high: &mut Map,
) -> std::result::Result<halite_states::Plan, Vec<String>> {
    let mut errors = reconcile_extend(high, false);
    errors.extend(verify_high(high));
    if !errors.is_empty() {
        return Err(errors);
    }
    errors.extend(requisite_in(high));
    apply_exclude(high);
    if !errors.is_empty() {
        return Err(errors);
    }
    compile(high, &m.registry)
}

/// The `show_*` functions' answer to a pillar that failed to compile (Salt raises
/// "Pillar failed to render" with the errors as info, retcode 5).
fn refuse_on_pillar_errors(m: &Arc<Minion>) -> Result<()> {
    let pillar_errors = &m.pillar_full().1;
    if pillar_errors.is_empty() {
        return Ok(());
    }
    set_retcode(m, EX_PILLAR_FAILURE);
    // Salt's CommandExecutionError(info=...): the info through the nested outputter.
    let info = Value::List(pillar_errors.iter().cloned().map(Value::Str).collect());
    let plain = halite_output::colors::Palette::new(false);
    let nested = halite_output::nested::Nested::new(&plain, 0).output(&info, 0);
    Err(Error::CommandExecution(format!(
        "Pillar failed to render. Additional info follows:\n\n{}",
        nested.trim_end()
    )))
}

fn pillar_errors(m: &Arc<Minion>) -> Option<Value> {
    let errors = &m.pillar_full().1;
    if errors.is_empty() {
        return None;
    }
    let mut out = vec![Value::from(
        "Pillar failed to render with the following messages:",
    )];
    out.extend(errors.iter().map(|e| Value::Str(e.clone())));
    set_retcode(m, EX_PILLAR_FAILURE);
    Some(Value::List(out))
}

/// The `exclude=` argument of `state.sls`/`state.highstate`: a comma list or a list of sls
/// names and `{id: ...}`/`{sls: ...}` mappings, added to the high data's `__exclude__`.
fn add_exclude(high: &mut Map, kwargs: &Map) {
    let items: Vec<Value> = match kwargs.get("exclude") {
        None | Some(Value::Null) => return,
        Some(Value::List(l)) => l.clone(),
        Some(other) => other
            .py_str()
            .split(',')
            .map(|s| Value::Str(s.to_string()))
            .collect(),
    };
    if items.is_empty() {
        return;
    }
    let entry = high
        .entry("__exclude__".into())
        .or_insert_with(|| Value::List(vec![]));
    if let Value::List(l) = entry {
        l.extend(items);
    }
}

/// Is this run's plan kept for the drift engine (the daemon with `drift_watch: true`, not a
/// test run, and a state run that registers: highstate or SLS)?
fn drift_records(m: &Minion, source: &Option<crate::drift::Source>, test: bool) -> bool {
    source.is_some() && !test && m.drift().is_some() && m.cfg.flag("drift_watch")
}

/// Compile and run `high`; `source` says which state run this is, for the drift engine.
fn run_high(
    m: &Arc<Minion>,
    mut high: Map,
    kwargs: &Map,
    source: Option<crate::drift::Source>,
) -> Value {
    add_exclude(&mut high, kwargs);
    let mut high = high;
    let test = test_flag(m, kwargs);
    // The drift engine keeps the high data as given to the compiler (a restarted minion
    // compiles it again).
    let kept_high = drift_records(m, &source, test).then(|| high.clone());
    let plan = match compile_high(m, &mut high) {
        Ok(p) => p,
        Err(errors) => {
            set_retcode(m, EX_STATE_COMPILER_ERROR);
            return errors_value(errors);
        }
    };
    let mut opts = m.opts().clone();
    opts.insert("test".into(), Value::Bool(test));
    let functions = m.functions();
    // The runner changes its copy (mod_aggregate): the drift engine needs the plan as compiled.
    let kept = kept_high.map(|h| (h, plan.clone()));
    let runner = Runner::new(&m.registry, functions.as_ref(), &opts, plan, test);
    let running = runner.run();
    if let (Some((high, plan)), Some(source)) = (kept, source) {
        crate::drift::record(m, source, high, plan, &running, test);
    }
    let mut out = Map::default();
    for (k, v) in running {
        out.insert(Value::Str(k), Value::Map(v));
    }
    if !check_result(&out, &high) {
        set_retcode(m, EX_STATE_FAILURE);
    } else {
        set_retcode(m, 0);
    }
    Value::Map(out)
}

fn sls(m: &Arc<Minion>, mods: Vec<String>, kwargs: &Map) -> Result<Value> {
    if let Some(e) = pillar_errors(m) {
        return Ok(e);
    }
    let env = saltenv(m, kwargs);
    let source = crate::drift::Source::Sls {
        saltenv: env.clone(),
        mods: mods.clone(),
    };
    let matches = vec![(env, mods)];
    let (high, errors) = render_matches(m, &matches);
    if !errors.is_empty() {
        set_retcode(m, EX_STATE_COMPILER_ERROR);
        return Ok(errors_value(errors));
    }
    Ok(run_high(m, high, kwargs, Some(source)))
}

fn highstate(m: &Arc<Minion>, kwargs: &Map) -> Result<Value> {
    let mut errors = Vec::new();
    let matches = matches_for_top(m, &mut errors);
    if !errors.is_empty() {
        set_retcode(m, EX_STATE_COMPILER_ERROR);
        return Ok(errors_value(errors));
    }
    if matches.is_empty() {
        let mut r = Map::default();
        r.insert("result".into(), Value::Bool(false));
        r.insert(
            "comment".into(),
            "No Top file or master_tops data matches found. Please see master log for details."
                .into(),
        );
        r.insert("name".into(), "No States".into());
        r.insert("changes".into(), Value::map());
        r.insert("__run_num__".into(), Value::Int(0));
        let mut out = Map::default();
        out.insert("no_|-states_|-states_|-None".into(), Value::Map(r));
        set_retcode(m, EX_STATE_FAILURE);
        return Ok(Value::Map(out));
    }
    if let Some(e) = pillar_errors(m) {
        return Ok(e);
    }
    let (high, errors) = render_matches(m, &matches);
    if !errors.is_empty() {
        set_retcode(m, EX_STATE_COMPILER_ERROR);
        return Ok(errors_value(errors));
    }
    Ok(run_high(
        m,
        high,
        kwargs,
        Some(crate::drift::Source::Highstate),
    ))
}

/// Salt's `check_result`: false when a state failed (unless its onfail handlers say
/// otherwise) or when nothing ran.
fn check_result(running: &Map, high: &Map) -> bool {
    if running.is_empty() {
        return false;
    }
    for (tag, r) in running {
        if r.get("result") == Some(&Value::Bool(false)) {
            match onfail_handled(&tag.py_str(), running, high) {
                Some(true) => continue,
                _ => return false,
            }
        }
    }
    true
}

fn onfail_handled(tag: &str, running: &Map, high: &Map) -> Option<bool> {
    let parts: Vec<&str> = tag.split("_|-").collect();
    let (state, id) = match parts.as_slice() {
        [s, i, _, _] => (*s, *i),
        _ => return None,
    };
    let mut nret = None;
    for (fid, body) in high {
        if fid.as_str() == Some(id) {
            continue;
        }
        let Some(body) = body.as_map() else { continue };
        for (module, args) in body {
            let Some(module) = module.as_str().filter(|s| !s.starts_with("__")) else {
                continue;
            };
            let Some(args) = args.as_list() else { continue };
            let stop_off = args
                .iter()
                .any(|a| a.get("onfail_stop") == Some(&Value::Bool(false)));
            if !stop_off {
                continue;
            }
            let refs = args
                .iter()
                .filter_map(|a| a.get("onfail"))
                .filter_map(Value::as_list)
                .flatten();
            let handles = refs
                .filter_map(Value::as_map)
                .flatten()
                .any(|(k, v)| v.as_str() == Some(id) && k.as_str() == Some(state));
            if !handles {
                continue;
            }
            for (rtag, r) in running {
                let rp: Vec<String> = rtag.py_str().split("_|-").map(str::to_string).collect();
                if rp.len() == 4 && rp[0] == module && Some(rp[1].as_str()) == fid.as_str() {
                    if let Some(Value::Bool(b)) = r.get("result") {
                        nret = Some(*b);
                        if !b {
                            return nret;
                        }
                    }
                }
            }
            if nret.is_none() {
                nret = Some(false);
            }
        }
    }
    nret
}
