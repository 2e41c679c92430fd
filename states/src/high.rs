//! High data transforms, as Salt's `State` does them before compiling low chunks:
//! verification, `extend`, `exclude` and the `_in` requisites (plus `use`).
//!
//! High data is `{id: {state: [args..., "fun"], __sls__, __env__}}` kept as a [`Map`].

use crate::chunk::first_key;
use crate::requisite::{is_requisite_keyword, RequisiteType};
use halite_core::{Map, Value};

fn sls_of(body: &Value) -> String {
    body.get("__sls__").map(Value::py_str).unwrap_or_default()
}

fn is_dunder(k: &Value) -> bool {
    k.as_str().is_some_and(|s| s.starts_with("__"))
}

/// Salt's `_verify_high`: structural errors with Salt's exact wording.
pub fn verify_high(high: &Map) -> Vec<String> {
    let mut errors = Vec::new();
    for (id, body) in high {
        let id_s = id.py_str();
        match id {
            Value::Str(s) if s.starts_with("__") => continue,
            Value::Str(_) => {}
            other => {
                errors.push(format!(
                    "ID '{}' in SLS '{}' is not formed as a string, but is type {}. It may need to be quoted.",
                    other.py_str(),
                    sls_of(body),
                    other.type_name()
                ));
            }
        }
        let Some(bmap) = body.as_map() else {
            errors.push(format!(
                "The type {id_s} in {} is not formatted as a dictionary",
                body.py_repr()
            ));
            continue;
        };
        let sls = sls_of(body);
        for (state, run) in bmap {
            if is_dunder(state) {
                continue;
            }
            let state_s = state.py_str();
            if run.is_null() {
                errors.push(format!(
                    "ID '{id_s}' in SLS '{sls}' contains a short declaration ({state_s}) with a trailing colon. When not passing any arguments to a state, the colon must be omitted."
                ));
                continue;
            }
            let Some(args) = run.as_list() else {
                errors.push(format!(
                    "State '{id_s}' in SLS '{sls}' is not formed as a list"
                ));
                continue;
            };
            let mut fun_count = usize::from(state_s.contains('.'));
            for arg in args {
                match arg {
                    Value::Str(f) => {
                        fun_count += 1;
                        if f.trim().contains(' ') {
                            errors.push(format!(
                                "The function \"{f}\" in state \"{id_s}\" in SLS \"{sls}\" has whitespace, a function with whitespace is not supported, perhaps this is an argument that is missing a \":\""
                            ));
                        }
                    }
                    Value::Map(m) => {
                        let Some(argfirst) = m.keys().next() else {
                            continue;
                        };
                        let argfirst_s = argfirst.py_str();
                        let val = &m[0];
                        if argfirst_s == "names" && !matches!(val, Value::List(_)) {
                            errors.push(format!(
                                "The 'names' argument in state '{id_s}' in SLS '{sls}' needs to be formed as a list"
                            ));
                        }
                        if is_requisite_keyword(&argfirst_s) {
                            match val {
                                Value::List(reqs) => {
                                    for req in reqs {
                                        let req = match req {
                                            Value::Str(s) => {
                                                let mut m = Map::default();
                                                m.insert("id".into(), Value::Str(s.clone()));
                                                Value::Map(m)
                                            }
                                            other => other.clone(),
                                        };
                                        let single = req.as_map().filter(|m| m.len() == 1);
                                        let Some(rm) = single else {
                                            errors.push(format!(
                                                "Requisite declaration {} in state {id_s} in SLS {sls} is not formed as a single key dictionary",
                                                req.py_repr()
                                            ));
                                            continue;
                                        };
                                        let (rk, rv) = (&rm.get_index(0).map(|x| x.0.py_str()).unwrap_or_default(), &rm[0]);
                                        if let Some(dot) = rk.find('.') {
                                            errors.push(format!(
                                                "Invalid requisite type '{rk}' in state '{id_s}', in SLS '{sls}'. Requisite types must not contain dots, did you mean '{}'?",
                                                &rk[..dot]
                                            ));
                                        }
                                        if matches!(rv, Value::List(_) | Value::Map(_)) {
                                            errors.push(format!(
                                                "Illegal requisite \"{}\" in SLS \"{sls}\", please check your syntax.\n",
                                                rv.py_repr()
                                            ));
                                            continue;
                                        }
                                    }
                                }
                                _ => errors.push(format!(
                                    "The {argfirst_s} statement in state '{id_s}' in SLS '{sls}' needs to be formed as a list"
                                )),
                            }
                            if m.len() != 1 {
                                errors.push(format!(
                                    "Multiple dictionaries defined in argument of state '{id_s}' in SLS '{sls}'"
                                ));
                            }
                        }
                    }
                    _ => {}
                }
            }
            if fun_count == 0 {
                errors.push(format!(
                    "No function declared in state '{id_s}' in SLS '{sls}'"
                ));
            } else if fun_count > 1 {
                let mut funs: Vec<String> = Vec::new();
                if let Some((_, f)) = state_s.split_once('.') {
                    funs.push(f.to_string());
                }
                funs.extend(args.iter().filter_map(|a| a.as_str().map(str::to_string)));
                errors.push(format!(
                    "Too many functions declared in state '{id_s}' in SLS '{sls}'. Please choose one of the following: {}",
                    funs.join(", ")
                ));
            }
        }
    }
    errors
}

/// Salt's `find_name`: IDs whose state `state` has `name` as its ID or its `name` argument.
pub fn find_name(name: &str, state: &str, high: &Map, strict: bool) -> Vec<(String, String)> {
    let mut ids = Vec::new();
    let check2 = if strict {
        high.get(name).and_then(|b| b.get(state)).is_some()
    } else {
        true
    };
    if high.contains_key(name) && check2 {
        ids.push((name.to_string(), state.to_string()));
    } else if state == "sls" {
        for (nid, item) in high {
            if item.get("__sls__").and_then(Value::as_str) == Some(name) {
                if let Some(first) = item.as_map().and_then(first_key) {
                    ids.push((nid.py_str(), first.to_string()));
                }
            }
        }
    } else {
        for (nid, body) in high {
            if let Some(Value::List(args)) = body.get(state) {
                for arg in args {
                    if let Value::Map(m) = arg {
                        if m.len() == 1 && m[0].as_str() == Some(name) {
                            ids.push((nid.py_str(), state.to_string()));
                        }
                    }
                }
            }
        }
    }
    ids
}

/// Salt's `state_args`: the argument names given to `id`'s `state`.
fn state_args(id: &str, state: &str, high: &Map) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(Value::List(args)) = high.get(id).and_then(|b| b.get(state)) {
        for a in args {
            if let Value::Map(m) = a {
                if m.len() == 1 {
                    out.push(m.keys().next().map(Value::py_str).unwrap_or_default());
                }
            }
        }
    }
    out
}

/// Salt's `find_sls_ids`: `(id, state)` of every state of `sls`.
pub fn find_sls_ids(sls: &str, high: &Map) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (nid, item) in high {
        let Some(m) = item.as_map() else { continue };
        if m.get("__sls__").and_then(Value::as_str) == Some(sls) {
            for st in m.keys() {
                if !is_dunder(st) {
                    out.push((nid.py_str(), st.py_str()));
                }
            }
        }
    }
    out
}

/// Salt's `reconcile_extend`: merge `__extend__` into the high data.
pub fn reconcile_extend(high: &mut Map, strict: bool) -> Vec<String> {
    let mut errors = Vec::new();
    let Some(Value::List(ext)) = high.shift_remove("__extend__") else {
        return errors;
    };
    for ext_chunk in ext {
        let Value::Map(ext_chunk) = ext_chunk else {
            continue;
        };
        for (name, body) in ext_chunk {
            let mut name = name.py_str();
            let Value::Map(body) = body else { continue };
            let Some(state_type) = body
                .keys()
                .map(Value::py_str)
                .find(|k| !k.starts_with("__"))
            else {
                continue;
            };
            let present = high
                .get(name.as_str())
                .and_then(|b| b.get(&state_type))
                .is_some();
            if !present {
                let ids = find_name(&name, &state_type, high, strict);
                if ids.len() != 1 {
                    let env = body
                        .get("__env__")
                        .map(Value::py_str)
                        .unwrap_or_else(|| "base".into());
                    let sls = body
                        .get("__sls__")
                        .map(Value::py_str)
                        .unwrap_or_else(|| "base".into());
                    errors.push(format!(
                        "Cannot extend ID '{name}' in '{env}:{sls}'. It is not part of the high state.\nThis is likely due to a missing include statement or an incorrectly typed ID.\nEnsure that a state with an ID of '{name}' is available\nin environment '{env}' and to SLS '{sls}'"
                    ));
                    continue;
                }
                name = ids[0].0.clone();
            }
            let mut sls_excludes = Vec::new();
            if let Some(Value::List(ex)) = high.get("__exclude__") {
                for e in ex {
                    match e {
                        Value::Str(s) => sls_excludes.push(s.clone()),
                        Value::Map(m) => {
                            if let Some(s) = m.get("sls").filter(|v| v.is_truthy()) {
                                sls_excludes.push(s.py_str());
                            }
                        }
                        _ => {}
                    }
                }
            }
            if let Some(s) = body.get("__sls__").map(Value::py_str) {
                if sls_excludes.contains(&s) {
                    continue;
                }
            }
            let Some(Value::Map(target)) = high.get_mut(name.as_str()) else {
                continue;
            };
            for (state, run) in body {
                if is_dunder(&state) {
                    continue;
                }
                let Value::List(run) = run else {
                    target.insert(state, run);
                    continue;
                };
                let Some(Value::List(existing)) = target.get_mut(&state) else {
                    target.insert(state, Value::List(run));
                    continue;
                };
                for arg in run {
                    let mut update = false;
                    let mut hind = 0;
                    while hind < existing.len() {
                        match (&arg, &existing[hind]) {
                            (Value::Str(_), Value::Str(_)) => {
                                existing[hind] = arg.clone();
                                update = true;
                            }
                            (Value::Map(am), Value::Map(em)) => {
                                let argfirst =
                                    am.keys().next().map(Value::py_str).unwrap_or_default();
                                let efirst =
                                    em.keys().next().map(Value::py_str).unwrap_or_default();
                                if argfirst == efirst {
                                    if is_requisite_keyword(&argfirst) {
                                        let add = am[0].as_list().cloned().unwrap_or_default();
                                        if let Some(Value::Map(em)) = existing.get_mut(hind) {
                                            if let Some(Value::List(l)) =
                                                em.get_index_mut(0).map(|x| x.1)
                                            {
                                                l.extend(add);
                                            }
                                        }
                                    } else {
                                        existing[hind] = arg.clone();
                                    }
                                    update = true;
                                }
                                if argfirst == "name" && efirst == "names" {
                                    existing[hind] = arg.clone();
                                }
                            }
                            _ => {}
                        }
                        hind += 1;
                    }
                    if !update {
                        existing.push(arg);
                    }
                }
            }
        }
    }
    errors
}

/// Salt's `_apply_exclude`: drop excluded IDs and every ID of excluded sls.
pub fn apply_exclude(high: &mut Map) {
    let Some(Value::List(exclude)) = high.shift_remove("__exclude__") else {
        return;
    };
    let mut ex_sls = Vec::new();
    let mut ex_id = Vec::new();
    for exc in exclude {
        match exc {
            Value::Str(s) => ex_sls.push(s),
            Value::Map(m) if m.len() == 1 => match first_key(&m) {
                Some("sls") => ex_sls.push(m[0].py_str()),
                Some("id") => ex_id.push(m[0].py_str()),
                _ => {}
            },
            _ => {}
        }
    }
    if !ex_sls.is_empty() {
        for (name, body) in high.iter() {
            if is_dunder(name) {
                continue;
            }
            let sls = body.get("__sls__").map(Value::py_str).unwrap_or_default();
            if sls.is_empty() {
                continue;
            }
            if ex_sls.iter().any(|p| halite_target_fnmatch(&sls, p)) {
                ex_id.push(name.py_str());
            }
        }
    }
    for id in ex_id {
        high.shift_remove(id.as_str());
    }
}

/// Python `fnmatch.fnmatch` (case-sensitive on POSIX).
pub fn halite_target_fnmatch(name: &str, pat: &str) -> bool {
    crate::fnmatch::fnmatch(name, pat)
}

fn push_req(extend: &mut Map, name: &str, state: &str, rkey: &str, item: Value, body: &Value) {
    let entry = extend
        .entry(Value::Str(name.to_string()))
        .or_insert_with(Value::map);
    let Value::Map(em) = entry else { return };
    if !em.contains_key(state) {
        em.insert(Value::Str(state.to_string()), Value::List(vec![]));
    }
    em.insert(
        "__env__".into(),
        body.get("__env__").cloned().unwrap_or(Value::Null),
    );
    em.insert(
        "__sls__".into(),
        body.get("__sls__").cloned().unwrap_or(Value::Null),
    );
    let Some(Value::List(list)) = em.get_mut(state) else {
        return;
    };
    let mut found = false;
    for entry in list.iter_mut() {
        if let Value::Map(m) = entry {
            if first_key(m) == Some(rkey) {
                if let Some(Value::List(l)) = m.get_index_mut(0).map(|x| x.1) {
                    l.push(item.clone());
                }
                found = true;
            }
        }
    }
    if !found {
        let mut m = Map::default();
        m.insert(Value::Str(rkey.to_string()), Value::List(vec![item]));
        list.push(Value::Map(m));
    }
}

/// Salt's `requisite_in`: turn `require_in`/`watch_in`/... and `use`/`use_in` into extends,
/// then reconcile them strictly.
pub fn requisite_in(high: &mut Map) -> Vec<String> {
    const REQ_IN: &[&str] = &[
        "require_in",
        "watch_in",
        "onfail_in",
        "onchanges_in",
        "use",
        "use_in",
        "prereq_in",
    ];
    let req_in_all: Vec<&str> = REQ_IN
        .iter()
        .copied()
        .chain([
            "require",
            "watch",
            "prereq",
            "onfail",
            "onfail_stop",
            "onchanges",
        ])
        .collect();
    let mut extend = Map::default();
    let mut errors = Vec::new();
    let snapshot: &Map = high;
    for (id, body) in snapshot {
        let Some(bmap) = body.as_map() else { continue };
        let id_s = id.py_str();
        for (state, run) in bmap {
            if is_dunder(state) {
                continue;
            }
            let state_s = state.py_str();
            let Some(args) = run.as_list() else { continue };
            for arg in args {
                let Value::Map(am) = arg else { continue };
                let Some(key) = first_key(am) else { continue };
                if !REQ_IN.contains(&key) {
                    continue;
                }
                let rkey = key.split('_').next().unwrap_or(key);
                let items = &am[0];
                let sls = sls_of(body);
                if let Value::Map(items) = items {
                    for (st, name) in items {
                        let mut st = st.py_str();
                        let name = name.py_str();
                        if let Some(dot) = st.find('.') {
                            errors.push(format!(
                                "Invalid requisite in {rkey}: {st} for {name} in SLS '{sls}'. Requisites must not contain dots, did you mean '{}'?",
                                &st[..dot]
                            ));
                            st.truncate(dot);
                        }
                        let mut req = Map::default();
                        req.insert(state.clone(), id.clone());
                        push_req(&mut extend, &name, &st, rkey, Value::Map(req), body);
                    }
                }
                if let Value::List(items) = items {
                    let mut hinges: Vec<(String, String)> = Vec::new();
                    for ind in items {
                        let ind = match ind {
                            Value::Map(m) => m.clone(),
                            other => {
                                let ind_s = other.py_str();
                                if let Some(b) =
                                    snapshot.get(ind_s.as_str()).and_then(Value::as_map)
                                {
                                    let Some(first) = b.keys().find(|k| !is_dunder(k)) else {
                                        continue;
                                    };
                                    let mut m = Map::default();
                                    m.insert(first.clone(), Value::Str(ind_s));
                                    m
                                } else {
                                    let mut found = None;
                                    for (nid, nb) in snapshot {
                                        let Some(nb) = nb.as_map() else { continue };
                                        for (st8, sargs) in nb {
                                            if is_dunder(st8) {
                                                continue;
                                            }
                                            for j in sargs.as_list().into_iter().flatten() {
                                                if j.get("name").map(Value::py_str)
                                                    == Some(ind_s.clone())
                                                {
                                                    let mut m = Map::default();
                                                    m.insert(st8.clone(), nid.clone());
                                                    found = Some(m);
                                                }
                                            }
                                        }
                                    }
                                    match found {
                                        Some(m) => m,
                                        None => continue,
                                    }
                                }
                            }
                        };
                        let Some((pstate, pname)) = ind.get_index(0) else {
                            continue;
                        };
                        let mut pstate = pstate.py_str();
                        let pname = pname.py_str();
                        if pstate == "sls" {
                            hinges = find_sls_ids(&pname, snapshot);
                        } else {
                            hinges.push((pname.clone(), pstate.clone()));
                        }
                        if let Some(dot) = pstate.find('.') {
                            errors.push(format!(
                                "Invalid requisite in {rkey}: {pstate} for {pname}, in SLS '{sls}'. Requisites must not contain dots, did you mean '{}'?",
                                &pstate[..dot]
                            ));
                            pstate.truncate(dot);
                        }
                        for (name, hstate) in hinges.clone() {
                            if key == "use_in" {
                                for (ext_id, req_state) in find_name(&name, &hstate, snapshot, true)
                                {
                                    let ext_args = state_args(&ext_id, &hstate, snapshot);
                                    let entry = extend
                                        .entry(Value::Str(ext_id.clone()))
                                        .or_insert_with(Value::map);
                                    let Value::Map(em) = entry else { continue };
                                    let list = em
                                        .entry(Value::Str(req_state.clone()))
                                        .or_insert_with(|| Value::List(vec![]));
                                    let Value::List(list) = list else { continue };
                                    for a in args {
                                        let Value::Map(m) = a else { continue };
                                        if m.len() != 1 {
                                            continue;
                                        }
                                        let k = first_key(m).unwrap_or("");
                                        if req_in_all.contains(&k)
                                            || ext_args.iter().any(|x| x == k)
                                            || k == "name"
                                            || k == "names"
                                        {
                                            continue;
                                        }
                                        list.push(a.clone());
                                    }
                                }
                                continue;
                            }
                            if key == "use" {
                                for (ext_id, req_state) in find_name(&name, &hstate, snapshot, true)
                                {
                                    let loc_args = state_args(&id_s, &state_s, snapshot);
                                    let src_args = snapshot
                                        .get(ext_id.as_str())
                                        .and_then(|b| b.get(&req_state))
                                        .and_then(Value::as_list)
                                        .cloned()
                                        .unwrap_or_default();
                                    let entry = extend.entry(id.clone()).or_insert_with(Value::map);
                                    let Value::Map(em) = entry else { continue };
                                    let list = em
                                        .entry(state.clone())
                                        .or_insert_with(|| Value::List(vec![]));
                                    let Value::List(list) = list else { continue };
                                    for a in &src_args {
                                        let Value::Map(m) = a else { continue };
                                        if m.len() != 1 {
                                            continue;
                                        }
                                        let k = first_key(m).unwrap_or("");
                                        if req_in_all.contains(&k)
                                            || loc_args.iter().any(|x| x == k)
                                            || k == "name"
                                            || k == "names"
                                        {
                                            continue;
                                        }
                                        list.push(a.clone());
                                    }
                                }
                                continue;
                            }
                            let mut req = Map::default();
                            req.insert(state.clone(), id.clone());
                            push_req(&mut extend, &name, &hstate, rkey, Value::Map(req), body);
                        }
                    }
                }
            }
        }
    }
    let ext_list: Vec<Value> = extend
        .into_iter()
        .map(|(k, v)| {
            let mut m = Map::default();
            m.insert(k, v);
            Value::Map(m)
        })
        .collect();
    high.insert("__extend__".into(), Value::List(ext_list));
    errors.extend(reconcile_extend(high, true));
    errors
}

/// The requisite types whose value must be a list (used by callers for error wording).
pub fn requisite_names() -> impl Iterator<Item = &'static str> {
    RequisiteType::ALL.iter().map(|r| r.name())
}
