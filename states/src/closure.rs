//! The re-run closure of a compiled plan (drift repair): the roots and the chunks that
//! depend on them through change-propagating requisites, plus the `listen` resolution that
//! the runtime's `call_listen` shares. Pure: no I/O, no state functions.

use crate::chunk::Chunk;
use crate::lowstate::Plan;
use crate::requisite::RequisiteType;
use halite_core::{Map, Value};
use indexmap::IndexMap;
use std::collections::HashSet;

/// Does a requisite of this type carry a change (or a failure) from the requisite to the
/// state that declares it? `watch`, `onchanges`, `onfail`, `prereq` and `listen` (with their
/// `_any`/`_all` forms) do; `require` does not.
pub fn propagates(kind: RequisiteType) -> bool {
    matches!(
        kind.base(),
        RequisiteType::Watch
            | RequisiteType::Onchanges
            | RequisiteType::Onfail
            | RequisiteType::Prereq
            | RequisiteType::Listen
    )
}

/// The closure of some roots, split by how its members run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Parts {
    /// The roots and their transitive dependents over graph edges that propagate
    /// (plan order, each chunk once): they run in plan order.
    pub run: Vec<usize>,
    /// The chunks that only `listen` to a member of `run` (plan order): they run only as
    /// `call_listen`'s `mod_watch` at the end, and do not propagate further.
    pub listeners: Vec<usize>,
}

/// The chunks (indexes into `plan.chunks`) that re-running `roots` can reach: the roots,
/// their transitive dependents through `watch`, `onchanges`, `onfail` and `prereq` (and the
/// `_in` forms the compiler inverted), and the states that `listen` to any of them, each once,
/// in plan order. Indexes out of range are ignored.
pub fn closure(plan: &Plan, roots: &[usize]) -> Vec<usize> {
    let parts = parts(plan, roots);
    let members: HashSet<usize> = parts.run.iter().chain(&parts.listeners).copied().collect();
    in_plan_order(plan, &members)
}

/// [`closure`], split into the chunks that run in order and the listen-only handlers.
pub(crate) fn parts(plan: &Plan, roots: &[usize]) -> Parts {
    let run_set = dependents_closure(plan, roots);
    let mut listen_set: HashSet<usize> = HashSet::new();
    for link in listen_links(&plan.chunks) {
        if let ListenLink::Link {
            targets, listeners, ..
        } = link
        {
            if targets.iter().any(|t| run_set.contains(t)) {
                listen_set.extend(listeners.into_iter().filter(|l| !run_set.contains(l)));
            }
        }
    }
    Parts {
        run: in_plan_order(plan, &run_set),
        listeners: in_plan_order(plan, &listen_set),
    }
}

/// For each chunk, the chunks that depend on it through a propagating graph edge.
fn reverse_edges(plan: &Plan) -> Vec<Vec<usize>> {
    let n = plan.chunks.len();
    let mut rev: Vec<Vec<usize>> = vec![Vec::new(); n];
    for c in 0..n {
        for (kind, d) in plan.graph.dependencies(&plan.chunks, c) {
            if d != c && d < n && propagates(kind) && !rev[d].contains(&c) {
                rev[d].push(c);
            }
        }
    }
    rev
}

/// The roots plus everything reachable from them over reversed propagating edges.
fn dependents_closure(plan: &Plan, roots: &[usize]) -> HashSet<usize> {
    let n = plan.chunks.len();
    let rev = reverse_edges(plan);
    let mut seen: HashSet<usize> = HashSet::new();
    let mut stack: Vec<usize> = roots.iter().copied().filter(|r| *r < n).collect();
    while let Some(i) = stack.pop() {
        if seen.insert(i) {
            stack.extend(rev[i].iter().copied().filter(|d| !seen.contains(d)));
        }
    }
    seen
}

/// `members` in plan order, each once; members missing from `plan.order` come last, by index.
fn in_plan_order(plan: &Plan, members: &HashSet<usize>) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::with_capacity(members.len());
    let mut placed: HashSet<usize> = HashSet::with_capacity(members.len());
    for &i in &plan.order {
        if members.contains(&i) && placed.insert(i) {
            out.push(i);
        }
    }
    let mut rest: Vec<usize> = members.difference(&placed).copied().collect();
    rest.sort_unstable();
    out.extend(rest);
    out
}

/// A chunk's `(state, __id__, name)`, as `listen` resolution matches chunks.
type Cref = (String, String, String);

/// One resolved `listen`/`listen_in` reference, in the order Salt's `call_listen` walks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListenLink {
    /// The referenced state (`state`, `id`) does not exist: Salt's `Listen_Error`.
    Missing {
        /// The referenced state module.
        state: String,
        /// The referenced ID or name.
        id: String,
    },
    /// A change of any chunk in `targets` fires `mod_watch` of every chunk in `listeners`;
    /// no listeners means a `Listen_Error` for `listener` when a target changed.
    Link {
        /// The chunks listened to.
        targets: Vec<usize>,
        /// The listening `(state, ID or name)` as written.
        listener: (String, String),
        /// The chunks that match `listener`.
        listeners: Vec<usize>,
    },
}

fn field(c: &Chunk, k: &str) -> String {
    c.get(k).map(Value::py_str).unwrap_or_default()
}

fn in_cref(st: &str, val: &str, cref: &Cref) -> bool {
    cref.0 == st && (cref.0 == val || cref.1 == val || cref.2 == val)
}

/// The chunk references by key (a later chunk with the same key wins) and the listeners:
/// `listen` as written, `listen_in` turned around to `(state, id, "lookup")`.
#[allow(clippy::type_complexity)]
fn listeners_of(chunks: &[Chunk]) -> (IndexMap<Cref, usize>, Vec<(Cref, Vec<Value>)>) {
    let mut crefs: IndexMap<Cref, usize> = IndexMap::default();
    let mut listeners: Vec<(Cref, Vec<Value>)> = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        let key = (field(c, "state"), field(c, "__id__"), field(c, "name"));
        crefs.insert(key.clone(), i);
        if let Some(l) = c.get("listen") {
            listeners.push((key, l.as_list().cloned().unwrap_or_default()));
        }
        if let Some(Value::List(l_in)) = c.get("listen_in") {
            for m in l_in.iter().filter_map(Value::as_map) {
                for (k, v) in m {
                    let mut req = Map::default();
                    req.insert(
                        Value::Str(field(c, "state")),
                        Value::Str(field(c, "__id__")),
                    );
                    listeners.push((
                        (k.py_str(), v.py_str(), "lookup".into()),
                        vec![Value::Map(req)],
                    ));
                }
            }
        }
    }
    (crefs, listeners)
}

/// A bare `listen` entry (an ID or a name): `{state: id}` of the last chunk it names.
fn bare_reference(chunks: &[Chunk], target: &str) -> Option<Map> {
    let c = chunks
        .iter()
        .rev()
        .find(|c| field(c, "__id__") == target || field(c, "name") == target)?;
    let mut m = Map::default();
    m.insert(
        Value::Str(field(c, "state")),
        Value::Str(field(c, "__id__")),
    );
    Some(m)
}

/// Resolve every `listen`/`listen_in` of `chunks`, in Salt's `call_listen` order.
pub(crate) fn listen_links(chunks: &[Chunk]) -> Vec<ListenLink> {
    let (crefs, listeners) = listeners_of(chunks);
    let matching = |st: &str, val: &str| -> Vec<usize> {
        crefs
            .iter()
            .filter(|(c, _)| in_cref(st, val, c))
            .map(|(_, i)| *i)
            .collect()
    };
    let mut out = Vec::new();
    for (key, vals) in listeners {
        for listen_to in vals {
            let listen_to = match listen_to {
                Value::Map(m) => m,
                other => match bare_reference(chunks, &other.py_str()) {
                    Some(m) => m,
                    None => continue,
                },
            };
            for (lkey, lval) in &listen_to {
                let (state, id) = (lkey.py_str(), lval.py_str());
                let targets = matching(&state, &id);
                if targets.is_empty() {
                    out.push(ListenLink::Missing { state, id });
                    continue;
                }
                out.push(ListenLink::Link {
                    targets,
                    listener: (key.0.clone(), key.1.clone()),
                    listeners: matching(&key.0, &key.1),
                });
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::modules::Registry;

    /// Compile SLS text (one SLS, `drift`, saltenv `base`) the way the minion does: render
    /// the YAML, split `module.function` keys, invert the `_in` requisites, compile.
    pub(crate) fn plan_of(sls: &str) -> Plan {
        let Value::Map(mut high) = halite_render::yaml::load(sls).unwrap() else {
            panic!("the SLS is not a mapping");
        };
        for (_, body) in high.iter_mut() {
            let Value::Map(b) = body else {
                panic!("an ID is not a mapping");
            };
            let keys: Vec<String> = b
                .keys()
                .filter_map(|k| k.as_str().map(String::from))
                .collect();
            for k in keys {
                if let Some((module, fun)) = k.split_once('.') {
                    if let Some(Value::List(mut l)) = b.shift_remove(k.as_str()) {
                        l.push(Value::Str(fun.into()));
                        b.insert(Value::Str(module.into()), Value::List(l));
                    }
                }
            }
            b.insert("__sls__".into(), "drift".into());
            b.insert("__env__".into(), "base".into());
        }
        let errors = crate::high::requisite_in(&mut high);
        assert!(errors.is_empty(), "{errors:?}");
        crate::compile(&high, &Registry::new()).unwrap()
    }

    /// The index of the chunk with ID `id`.
    pub(crate) fn idx(plan: &Plan, id: &str) -> usize {
        plan.chunks
            .iter()
            .position(|c| c.get("__id__").and_then(Value::as_str) == Some(id))
            .unwrap_or_else(|| panic!("no chunk {id}"))
    }

    fn ids(plan: &Plan, members: &[usize]) -> Vec<String> {
        let mut v: Vec<String> = members
            .iter()
            .map(|i| field(&plan.chunks[*i], "__id__"))
            .collect();
        v.sort();
        v
    }

    const SLS: &str = r#"
root:
  test.succeed_with_changes:
    - listen_in:
      - test: lis_in
    - watch_in:
      - test: watch_in_handler
other:
  test.succeed_with_changes: []
watcher:
  test.succeed_without_changes:
    - watch:
      - test: root
chained:
  test.succeed_without_changes:
    - watch:
      - test: watcher
onch:
  test.succeed_without_changes:
    - onchanges:
      - test: root
onch_any:
  test.succeed_without_changes:
    - onchanges_any:
      - test: other
      - test: root
onf:
  test.succeed_without_changes:
    - onfail:
      - test: root
req:
  test.succeed_without_changes:
    - require:
      - test: root
req_then_watch:
  test.succeed_without_changes:
    - watch:
      - test: req
pre:
  test.succeed_without_changes:
    - prereq:
      - test: root
lis:
  test.succeed_without_changes:
    - listen:
      - test: root
lis_watcher:
  test.succeed_without_changes:
    - watch:
      - test: lis
lis_in:
  test.succeed_without_changes: []
watch_in_handler:
  test.succeed_without_changes: []
unrelated:
  test.succeed_without_changes:
    - watch:
      - test: other
"#;

    #[test]
    fn closure_takes_propagating_dependents_only() {
        let plan = plan_of(SLS);
        let got = closure(&plan, &[idx(&plan, "root")]);
        assert_eq!(
            ids(&plan, &got),
            [
                "chained",
                "lis",
                "lis_in",
                "onch",
                "onch_any",
                "onf",
                "pre",
                "root",
                "watch_in_handler",
                "watcher"
            ]
        );
        let pos = |i: &usize| plan.order.iter().position(|o| o == i).unwrap();
        assert!(
            got.windows(2).all(|w| pos(&w[0]) < pos(&w[1])),
            "plan order"
        );
    }

    #[test]
    fn listeners_are_leaves_of_the_closure() {
        let plan = plan_of(SLS);
        let p = parts(&plan, &[idx(&plan, "root")]);
        assert_eq!(ids(&plan, &p.listeners), ["lis", "lis_in"]);
        assert!(!ids(&plan, &p.run).contains(&"lis".to_string()));
    }

    #[test]
    fn closure_of_another_root_and_bad_indexes() {
        let plan = plan_of(SLS);
        let got = closure(&plan, &[idx(&plan, "other"), 10_000]);
        assert_eq!(ids(&plan, &got), ["onch_any", "other", "unrelated"]);
        assert!(closure(&plan, &[]).is_empty());
    }

    #[test]
    fn require_is_not_propagating() {
        assert!(!propagates(RequisiteType::Require));
        assert!(!propagates(RequisiteType::RequireAny));
        for t in [
            RequisiteType::Watch,
            RequisiteType::WatchAny,
            RequisiteType::Onchanges,
            RequisiteType::OnchangesAny,
            RequisiteType::Onfail,
            RequisiteType::OnfailAll,
            RequisiteType::Prereq,
            RequisiteType::Listen,
        ] {
            assert!(propagates(t), "{t:?}");
        }
    }

    #[test]
    fn listen_links_resolve_ids_names_and_missing_states() {
        let plan = plan_of(
            r#"
a:
  test.nop:
    - name: named_a
b:
  test.nop:
    - listen:
      - named_a
      - test: ghost
"#,
        );
        let (a, b) = (idx(&plan, "a"), idx(&plan, "b"));
        assert_eq!(
            listen_links(&plan.chunks),
            [
                ListenLink::Link {
                    targets: vec![a],
                    listener: ("test".into(), "b".into()),
                    listeners: vec![b],
                },
                ListenLink::Missing {
                    state: "test".into(),
                    id: "ghost".into()
                },
            ]
        );
    }
}
