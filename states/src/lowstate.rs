//! High data → ordered low chunks (Salt's `compile_high_data` + `order_chunks`).

use crate::chunk::{set, Chunk};
use crate::graph::DependencyGraph;
use crate::modules::Registry;
use halite_core::{Map, Value};

/// The compiled plan: chunks (in compile order), the graph over them and the run order.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Every chunk, in compile order; `order` indexes into it.
    pub chunks: Vec<Chunk>,
    /// The requisite graph.
    pub graph: DependencyGraph,
    /// Chunk indexes in run order.
    pub order: Vec<usize>,
}

impl Plan {
    /// The chunks in run order (what `state.show_lowstate` prints).
    pub fn ordered_chunks(&self) -> Vec<Chunk> {
        self.order.iter().map(|i| self.chunks[*i].clone()).collect()
    }
}

fn is_dunder(k: &Value) -> bool {
    k.as_str().is_some_and(|s| s.starts_with("__"))
}

/// Expand high data into chunks, add them to the graph, order them.
/// Errors are Salt's (requisite references, recursion).
pub fn compile(high: &Map, registry: &Registry) -> Result<Plan, Vec<String>> {
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut graph = DependencyGraph::new();
    for (id, body) in high {
        if is_dunder(id) {
            continue;
        }
        let Some(body) = body.as_map() else { continue };
        for (state, run) in body {
            if is_dunder(state) {
                continue;
            }
            let mut funcs: Vec<String> = Vec::new();
            let mut names: Vec<Value> = Vec::new();
            let mut chunk = Map::default();
            chunk.insert("state".into(), state.clone());
            chunk.insert("name".into(), id.clone());
            for k in ["__sls__", "__env__", "__sls_included_from__"] {
                if let Some(v) = body.get(k) {
                    set(&mut chunk, k, v.clone());
                }
            }
            chunk.insert("__id__".into(), id.clone());
            for arg in run.as_list().into_iter().flatten() {
                match arg {
                    Value::Str(f) if !funcs.contains(f) => funcs.push(f.clone()),
                    Value::Map(m) => {
                        for (k, v) in m {
                            match k.as_str() {
                                Some("names") => {
                                    for n in v.as_list().into_iter().flatten() {
                                        if !names.contains(n) {
                                            names.push(n.clone());
                                        }
                                    }
                                }
                                Some("state") => {}
                                Some("name") if !matches!(v, Value::Str(_)) => {
                                    chunk.insert(k.clone(), id.clone());
                                }
                                _ => {
                                    chunk.insert(k.clone(), v.clone());
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            let emit = |live: Chunk, chunks: &mut Vec<Chunk>, graph: &mut DependencyGraph| {
                if let Some(fun) = funcs.first() {
                    let mut live = live;
                    set(&mut live, "fun", fun.clone());
                    chunks.push(live);
                    graph.add_chunk(chunks, chunks.len() - 1);
                }
            };
            if names.is_empty() {
                emit(chunk, &mut chunks, &mut graph);
            } else {
                for (i, entry) in names.iter().enumerate() {
                    let mut live = chunk.clone();
                    match entry {
                        Value::Map(m) => {
                            if let Some((n, args)) = m.get_index(0) {
                                live.insert("name".into(), n.clone());
                                for upd in args.as_list().into_iter().flatten() {
                                    if let Value::Map(u) = upd {
                                        for (k, v) in u {
                                            live.insert(k.clone(), v.clone());
                                        }
                                    }
                                }
                            }
                        }
                        other => {
                            live.insert("name".into(), other.clone());
                        }
                    }
                    set(&mut live, "name_order", Value::Int(i as i64 + 1));
                    emit(live, &mut chunks, &mut graph);
                }
            }
        }
    }
    order_chunks(chunks, graph, registry)
}

/// Salt's `order_chunks`: watch→require without `mod_watch`, requisite edges, the order cap,
/// then the topological run order.
pub fn order_chunks(
    mut chunks: Vec<Chunk>,
    mut graph: DependencyGraph,
    registry: &Registry,
) -> Result<Plan, Vec<String>> {
    let mut cap: i64 = 1;
    let mut errors = Vec::new();
    for idx in 0..chunks.len() {
        reconcile_watch_req(&mut chunks[idx], registry);
        if let Some(err) = graph.add_requisites(&mut chunks, idx) {
            errors.push(err);
        } else if let Some(Value::Int(o)) = chunks[idx].get("order") {
            let o = *o;
            if o > cap - 1 && o > 0 {
                cap = o + 100;
            }
        }
    }
    match graph.ordered(&mut chunks, cap) {
        Ok(order) => {
            if !errors.is_empty() {
                return Err(errors);
            }
            Ok(Plan {
                chunks,
                graph,
                order,
            })
        }
        Err(crate::graph::CycleError) => {
            errors.push(format!(
                "Recursive requisites were found: {}",
                graph.cycles_str(&chunks)
            ));
            Err(errors)
        }
    }
}

fn reconcile_watch_req(low: &mut Chunk, registry: &Registry) {
    let state = low.get("state").map(Value::py_str).unwrap_or_default();
    if registry.has_mod_watch(&state) {
        return;
    }
    for (from, to) in [("watch", "require"), ("watch_any", "require_any")] {
        if let Some(w) = low.shift_remove(from) {
            let add = match w {
                Value::List(l) => l,
                other => vec![other],
            };
            let entry = low
                .entry(Value::Str(to.to_string()))
                .or_insert_with(|| Value::List(vec![]));
            if let Value::List(l) = entry {
                l.extend(add);
            }
        }
    }
}
