//! The requisite graph and the run order, as Salt 3008's `DependencyGraph` builds them:
//! edges go from a requisite to the state that depends on it; the run order is a
//! lexicographical topological sort keyed by each chunk's `order` (pulled down to the
//! smallest order of its dependents) and `state + name + fun`.

use crate::chunk::{field_str, gen_tag, Chunk};
use crate::fnmatch::fnmatch;
use crate::requisite::RequisiteType;
use halite_core::{Map, Value};
use indexmap::{IndexMap as StdIndexMap, IndexSet as StdIndexSet};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

type Fast = foldhash::fast::RandomState;
type IndexMap<K, V> = StdIndexMap<K, V, Fast>;
type IndexSet<T> = StdIndexSet<T, Fast>;
type HashMap<K, V> = std::collections::HashMap<K, V, Fast>;

/// The requisite graph has a cycle (details from [`DependencyGraph::cycles_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CycleError;

/// A DFS frame: the node, its outgoing edges, the next edge to follow.
type DfsFrame = (String, Vec<(String, RequisiteType)>, usize);

/// One graph node: a chunk (by index) or the prereq "test run" twin of a chunk.
#[derive(Debug, Clone)]
struct Node {
    chunk: usize,
    child_min: Option<f64>,
}

type Edges = IndexMap<String, IndexMap<String, IndexSet<RequisiteType>>>;

/// The requisite graph over a run's low chunks.
#[derive(Debug, Default, Clone)]
pub struct DependencyGraph {
    nodes: IndexMap<String, Node>,
    out_edges: Edges,
    in_edges: Edges,
    lookup: HashMap<(String, String), IndexSet<String>>,
    lookup_order: Vec<(String, String)>,
    sls_to_nodes: IndexMap<String, IndexSet<String>>,
    tags: Vec<String>,
}

/// The node tag of a chunk's prereq twin.
pub fn prereq_tag(tag: &str) -> String {
    format!("{tag}_|-__prereq_test__")
}

fn is_pattern(v: &str) -> bool {
    v.contains(['*', '?', '[', ']'])
}

impl DependencyGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    fn add_edge(&mut self, src: &str, dst: &str, kind: RequisiteType) {
        self.out_edges
            .entry(src.to_string())
            .or_default()
            .entry(dst.to_string())
            .or_default()
            .insert(kind);
        self.in_edges
            .entry(dst.to_string())
            .or_default()
            .entry(src.to_string())
            .or_default()
            .insert(kind);
    }

    fn lookup_add(&mut self, key: (String, String), tag: &str) {
        if !self.lookup.contains_key(&key) {
            self.lookup_order.push(key.clone());
        }
        self.lookup.entry(key).or_default().insert(tag.to_string());
    }

    /// The running-dict tag of chunk `idx` (computed once, when the chunk was added).
    pub fn tag(&self, idx: usize) -> &str {
        self.tags.get(idx).map_or("", String::as_str)
    }

    /// Add chunk `idx` of `chunks` as a node.
    pub fn add_chunk(&mut self, chunks: &[Chunk], idx: usize) {
        let low = &chunks[idx];
        let tag = gen_tag(low);
        if self.tags.len() <= idx {
            self.tags.resize(idx + 1, String::new());
        }
        self.tags[idx] = tag.clone();
        self.nodes.insert(
            tag.clone(),
            Node {
                chunk: idx,
                child_min: None,
            },
        );
        let state = field_str(low, "state");
        let name = field_str(low, "name");
        let id = field_str(low, "__id__");
        self.lookup_add((state.clone(), name.clone()), &tag);
        self.lookup_add((state, id.clone()), &tag);
        self.lookup_add(("id".into(), id), &tag);
        self.lookup_add(("id".into(), name), &tag);
        if let Some(sls) = low
            .get("__sls__")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            self.sls_to_nodes
                .entry(sls.to_string())
                .or_default()
                .insert(tag.clone());
        }
        if let Some(Value::List(inc)) = low.get("__sls_included_from__") {
            for s in inc {
                self.sls_to_nodes
                    .entry(s.py_str())
                    .or_default()
                    .insert(tag.clone());
            }
        }
    }

    fn add_prereq(&mut self, chunks: &mut [Chunk], node_tag: &str, req_tag: &str) {
        if let Some(n) = self.nodes.get(node_tag) {
            chunks[n.chunk].insert("__prerequiring__".into(), Value::Bool(true));
        }
        let Some(req_idx) = self.nodes.get(req_tag).map(|n| n.chunk) else {
            return;
        };
        chunks[req_idx].insert("__prereq__".into(), Value::Bool(true));
        let check = prereq_tag(req_tag);
        if !self.nodes.contains_key(&check) {
            self.nodes.insert(
                check.clone(),
                Node {
                    chunk: req_idx,
                    child_min: None,
                },
            );
            let incoming: Vec<(String, RequisiteType)> = self
                .in_edges
                .get(req_tag)
                .map(|m| {
                    m.iter()
                        .flat_map(|(src, kinds)| kinds.iter().map(move |k| (src.clone(), *k)))
                        .collect()
                })
                .unwrap_or_default();
            for (src, kind) in incoming {
                if kind != RequisiteType::Prereq {
                    self.add_edge(&src, &check, kind);
                }
            }
        }
        self.add_edge(&check, node_tag, RequisiteType::Prereq);
        self.add_edge(node_tag, req_tag, RequisiteType::Require);
        let node_check = prereq_tag(node_tag);
        if self.nodes.contains_key(&node_check) {
            self.add_edge(&check, &node_check, RequisiteType::Prereq);
        }
    }

    fn add_reqs(
        &mut self,
        chunks: &mut [Chunk],
        node_tag: &str,
        has_prereq_node: bool,
        kind: RequisiteType,
        req_tags: &[String],
    ) {
        for req_tag in req_tags {
            if kind == RequisiteType::Prereq {
                self.add_prereq(chunks, node_tag, req_tag);
            } else {
                if has_prereq_node {
                    self.add_edge(req_tag, &prereq_tag(node_tag), kind);
                }
                self.add_edge(req_tag, node_tag, kind);
            }
        }
    }

    fn add_dependency(
        &mut self,
        chunks: &mut [Chunk],
        idx: usize,
        kind: RequisiteType,
        key: &str,
        val: &str,
    ) -> bool {
        let has_prereq = chunks[idx].get("__prereq__").is_some_and(Value::is_truthy);
        let node_tag = self.tags[idx].clone();
        let mut found = false;
        if key == "sls" {
            if is_pattern(val) {
                found = true;
                let matched: Vec<Vec<String>> = self
                    .sls_to_nodes
                    .iter()
                    .filter(|(sls, _)| fnmatch(sls, val))
                    .map(|(_, tags)| tags.iter().cloned().collect())
                    .collect();
                for tags in matched {
                    self.add_reqs(chunks, &node_tag, has_prereq, kind, &tags);
                }
            } else if let Some(tags) = self.sls_to_nodes.get(val).filter(|t| !t.is_empty()) {
                found = true;
                let tags: Vec<String> = tags.iter().cloned().collect();
                self.add_reqs(chunks, &node_tag, has_prereq, kind, &tags);
            }
        } else if is_pattern(val) {
            let matched: Vec<Vec<String>> = self
                .lookup_order
                .iter()
                .filter(|(st, n)| st == key && fnmatch(n, val))
                .filter_map(|k| self.lookup.get(k).map(|t| t.iter().cloned().collect()))
                .collect();
            for tags in matched {
                found = true;
                self.add_reqs(chunks, &node_tag, has_prereq, kind, &tags);
            }
        } else if let Some(tags) = self.lookup.get(&(key.to_string(), val.to_string())) {
            found = true;
            let tags: Vec<String> = tags.iter().cloned().collect();
            self.add_reqs(chunks, &node_tag, has_prereq, kind, &tags);
        }
        found
    }

    /// Add the requisite edges of chunk `idx`; Salt's error string on a bad requisite.
    pub fn add_requisites(&mut self, chunks: &mut [Chunk], idx: usize) -> Option<String> {
        let present = RequisiteType::ALL
            .iter()
            .any(|r| chunks[idx].contains_key(r.name()));
        if !present {
            return None;
        }
        for kind in RequisiteType::EDGES {
            let reqs = match chunks[idx].get(kind.name()) {
                Some(Value::List(l)) if !l.is_empty() => l.clone(),
                _ => continue,
            };
            for req in reqs {
                let (key, val) = match &req {
                    Value::Str(s) => ("id".to_string(), Value::Str(s.clone())),
                    Value::Map(m) => match m.get_index(0) {
                        Some((k, v)) => {
                            let k = k.py_str();
                            let k = match k.split_once('.') {
                                Some((a, _)) => a.to_string(),
                                None => k,
                            };
                            (k, v.clone())
                        }
                        None => continue,
                    },
                    _ => continue,
                };
                if val.is_null() {
                    continue;
                }
                let low = &chunks[idx];
                let Value::Str(val) = val else {
                    return Some(format!(
                        "Requisite [{}: {key}] in state [{}] in SLS [{}] must have a string as the value",
                        kind.name(),
                        field_str(low, "name"),
                        low.get("__sls__").map(Value::py_str).unwrap_or_else(|| "None".into())
                    ));
                };
                if !self.add_dependency(chunks, idx, kind, &key, &val) {
                    let low = &chunks[idx];
                    return Some(format!(
                        "Referenced state does not exist for requisite [{}: ({key}: {val})] in state [{}] in SLS [{}]",
                        kind.name(),
                        field_str(low, "name"),
                        low.get("__sls__").map(Value::py_str).unwrap_or_else(|| "None".into())
                    ));
                }
            }
        }
        None
    }

    fn order_of(v: Option<&Value>, cap: f64) -> (f64, Option<Value>) {
        match v {
            Some(Value::Int(i)) => (*i as f64, None),
            Some(Value::Float(f)) => (*f, None),
            Some(Value::Bool(b)) => (f64::from(u8::from(*b)), None),
            Some(Value::Str(s)) if s == "last" => (cap + 1_000_000.0, Some(num(cap + 1_000_000.0))),
            Some(Value::Str(s)) if s == "first" => (0.0, Some(Value::Int(0))),
            _ => (cap, Some(num(cap))),
        }
    }

    /// Salt's `_get_chunk_order`: (order pulled down to the dependents' minimum, own order).
    fn chunk_order(&mut self, chunks: &mut [Chunk], cap: f64, node: &str) -> (f64, f64) {
        let Some(idx) = self.nodes.get(node).map(|n| n.chunk) else {
            return (cap, cap);
        };
        let (mut order, replace) = Self::order_of(chunks[idx].get("order"), cap);
        if let Some(v) = replace {
            chunks[idx].insert("order".into(), v);
        }
        let name_order = chunks[idx].shift_remove("name_order");
        if let Some(no) = name_order.and_then(|v| v.as_int()).filter(|n| *n != 0) {
            order += no as f64 / 10000.0;
            chunks[idx].insert("order".into(), Value::Float(order));
        }
        if order < 0.0 {
            order += cap + 1_000_000.0;
            chunks[idx].insert("order".into(), num(order));
        }
        let cached = self.nodes.get(node).and_then(|n| n.child_min);
        if cached.is_none() {
            let mut child_min = f64::INFINITY;
            let mut req_order = f64::NEG_INFINITY;
            let children: Vec<(String, RequisiteType)> = self
                .out_edges
                .get(node)
                .map(|m| {
                    m.iter()
                        .flat_map(|(dst, kinds)| kinds.iter().map(move |k| (dst.clone(), *k)))
                        .collect()
                })
                .unwrap_or_default();
            for (child, kind) in children {
                let w = f64::from(kind.weight());
                if req_order <= w {
                    req_order = w;
                    let cidx = self.nodes.get(&child).map(|n| n.chunk);
                    let child_order = match cidx {
                        Some(ci) => {
                            let (o, replace) = match chunks[ci].get("order") {
                                None => (f64::INFINITY, None),
                                other => Self::order_of(other, cap),
                            };
                            if let Some(v) = replace {
                                chunks[ci].insert("order".into(), v);
                            }
                            o
                        }
                        None => f64::INFINITY,
                    };
                    child_min = child_min.min(child_order);
                }
            }
            if let Some(n) = self.nodes.get_mut(node) {
                n.child_min = Some(child_min);
            }
            if order > child_min {
                order = child_min;
            }
        }
        let own = Self::order_of(chunks[idx].get("order"), cap).0;
        (order, own)
    }

    /// The chunks in run order (Salt's `aggregate_and_order_chunks` without aggregation).
    pub fn ordered(&mut self, chunks: &mut [Chunk], cap: i64) -> Result<Vec<usize>, CycleError> {
        let cap = cap as f64;
        let mut in_degree: IndexMap<String, usize> =
            self.nodes.keys().map(|k| (k.clone(), 0)).collect();
        for (dst, srcs) in &self.in_edges {
            if let Some(d) = in_degree.get_mut(dst) {
                *d += srcs.values().map(IndexSet::len).sum::<usize>();
            }
        }
        let mut heap = BinaryHeap::new();
        let names: Vec<String> = self.nodes.keys().cloned().collect();
        for n in &names {
            if in_degree.get(n) == Some(&0) {
                let key = self.sort_key(chunks, cap, n);
                heap.push(HeapItem(key, n.clone()));
            }
        }
        let mut out = Vec::new();
        let mut processed = 0;
        while let Some(HeapItem(_, node)) = heap.pop() {
            processed += 1;
            if let Some(n) = self.nodes.get(&node) {
                out.push(n.chunk);
            }
            let targets: Vec<(String, usize)> = self
                .out_edges
                .get(&node)
                .map(|m| m.iter().map(|(d, k)| (d.clone(), k.len())).collect())
                .unwrap_or_default();
            for (dst, count) in targets {
                if let Some(d) = in_degree.get_mut(&dst) {
                    *d -= count;
                    if *d == 0 {
                        let key = self.sort_key(chunks, cap, &dst);
                        heap.push(HeapItem(key, dst));
                    }
                }
            }
        }
        if processed != self.nodes.len() {
            return Err(CycleError);
        }
        Ok(out)
    }

    fn sort_key(&mut self, chunks: &mut [Chunk], cap: f64, node: &str) -> SortKey {
        let (a, b) = self.chunk_order(chunks, cap, node);
        let label = self
            .nodes
            .get(node)
            .map(|n| {
                let c = &chunks[n.chunk];
                format!(
                    "{}{}{}",
                    field_str(c, "state"),
                    field_str(c, "name"),
                    field_str(c, "fun")
                )
            })
            .unwrap_or_default();
        SortKey { a, b, label }
    }

    /// Salt's "Recursive requisites were found: ..." detail, from a DFS over the graph.
    pub fn cycles_str(&self, chunks: &[Chunk]) -> String {
        let cycle = self.find_cycle();
        let mut parts = Vec::new();
        for (dependency, dependent, kind) in cycle {
            let (Some(dep), Some(dnt)) = (self.nodes.get(&dependency), self.nodes.get(&dependent))
            else {
                continue;
            };
            let dep_c = &chunks[dep.chunk];
            let dnt_c = &chunks[dnt.chunk];
            let kind = if !dnt_c.contains_key(kind.name()) && kind == RequisiteType::Require {
                RequisiteType::Prereq
            } else {
                kind
            };
            parts.push(format!(
                "({}, '{}', {})",
                chunk_str(dnt_c),
                kind.name(),
                chunk_str(dep_c)
            ));
        }
        parts.join(", ")
    }

    fn find_cycle(&self) -> Vec<(String, String, RequisiteType)> {
        #[derive(Clone, Copy, PartialEq)]
        enum Color {
            White,
            Gray,
            Black,
        }
        let mut color: HashMap<&str, Color> = self
            .nodes
            .keys()
            .map(|k| (k.as_str(), Color::White))
            .collect();
        let mut parent: HashMap<String, (String, RequisiteType)> = HashMap::default();
        // Iterative DFS mirroring the recursive one: (node, edge list, position).
        for start in self.nodes.keys() {
            if color.get(start.as_str()) != Some(&Color::White) {
                continue;
            }
            let mut stack: Vec<DfsFrame> = Vec::new();
            color.insert(start.as_str(), Color::Gray);
            stack.push((start.clone(), self.edges_of(start), 0));
            while let Some((node, edges, pos)) = stack.last_mut() {
                if *pos >= edges.len() {
                    color.insert(self.key_ref(node), Color::Black);
                    stack.pop();
                    continue;
                }
                let (target, kind) = edges[*pos].clone();
                *pos += 1;
                let node = node.clone();
                match color.get(target.as_str()).copied() {
                    Some(Color::Gray) => {
                        let mut cycle = vec![(node.clone(), target.clone(), kind)];
                        let mut current = node;
                        while current != target {
                            let Some((prev, k)) = parent.get(&current).cloned() else {
                                break;
                            };
                            cycle.push((prev.clone(), current.clone(), k));
                            current = prev;
                        }
                        cycle.reverse();
                        return cycle;
                    }
                    Some(Color::White) => {
                        parent.insert(target.clone(), (node, kind));
                        color.insert(self.key_ref(&target), Color::Gray);
                        let edges = self.edges_of(&target);
                        stack.push((target, edges, 0));
                    }
                    _ => {}
                }
            }
        }
        Vec::new()
    }

    fn key_ref(&self, k: &str) -> &str {
        self.nodes
            .get_key_value(k)
            .map(|(k, _)| k.as_str())
            .unwrap_or("")
    }

    fn edges_of(&self, node: &str) -> Vec<(String, RequisiteType)> {
        self.out_edges
            .get(node)
            .map(|m| {
                m.iter()
                    .flat_map(|(d, ks)| ks.iter().map(move |k| (d.clone(), *k)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The requisites of a chunk: `(type, chunk index)` in Salt's order.
    pub fn dependencies(&self, chunks: &[Chunk], idx: usize) -> Vec<(RequisiteType, usize)> {
        let mut tag = self.tag(idx).to_string();
        if chunks[idx].get("__prereq__").is_some_and(Value::is_truthy) {
            tag = prereq_tag(&tag);
        }
        let mut out = Vec::new();
        if let Some(srcs) = self.in_edges.get(&tag) {
            for (src, kinds) in srcs {
                if let Some(n) = self.nodes.get(src) {
                    for k in kinds {
                        out.push((*k, n.chunk));
                    }
                }
            }
        }
        out
    }

    /// Add a chunk that is not part of the ordering (listen's `mod_watch`).
    pub fn add_loose_chunk(&mut self, chunks: &[Chunk], idx: usize) {
        self.add_chunk(chunks, idx);
    }
}

fn num(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::Int(f as i64)
    } else {
        Value::Float(f)
    }
}

fn chunk_str(c: &Chunk) -> String {
    let mut m = Map::default();
    m.insert(
        "SLS".into(),
        c.get("__sls__").cloned().unwrap_or(Value::Null),
    );
    m.insert("ID".into(), c.get("__id__").cloned().unwrap_or(Value::Null));
    if c.get("__id__") != c.get("name") {
        m.insert("NAME".into(), c.get("name").cloned().unwrap_or(Value::Null));
    }
    Value::Map(m).py_repr()
}

#[derive(Debug, Clone, PartialEq)]
struct SortKey {
    a: f64,
    b: f64,
    label: String,
}

#[derive(Debug)]
struct HeapItem(SortKey, String);

impl PartialEq for HeapItem {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for HeapItem {}
impl PartialOrd for HeapItem {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for HeapItem {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: reverse for Python's min-heap.
        let k = |x: &HeapItem| (x.0.a, x.0.b);
        let (sa, sb) = k(self);
        let (oa, ob) = k(other);
        oa.total_cmp(&sa)
            .then(ob.total_cmp(&sb))
            .then_with(|| other.0.label.cmp(&self.0.label))
            .then_with(|| other.1.cmp(&self.1))
    }
}
