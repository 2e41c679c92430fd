//! Test helpers: run a state function on a chunk built from pairs.

use super::StateCall;
use halite_core::{Error, Functions, Map, Result, Value};

/// Execution functions for tests: `pillar.get`/`grains.get` from a map, nothing else.
pub struct FakeFunctions(pub Map);

impl Functions for FakeFunctions {
    fn call(&self, name: &str, args: &[Value], _kwargs: &Map) -> Result<Value> {
        match name {
            "pillar.get" | "grains.get" => {
                let key = args.first().map(Value::py_str).unwrap_or_default();
                Ok(self.0.get(key.as_str()).cloned().unwrap_or(Value::Null))
            }
            _ => Err(Error::NotAvailable(name.into())),
        }
    }

    fn exists(&self, name: &str) -> bool {
        matches!(name, "pillar.get" | "grains.get")
    }
}

/// Run `f` with the chunk `args` (and `test`).
pub fn call(f: super::super::StateFn, args: &[(&str, Value)], test: bool) -> Map {
    let mut low = Map::default();
    for (k, v) in args {
        low.insert((*k).into(), v.clone());
    }
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
    match f(&c) {
        Ok(m) => m,
        Err(e) => panic!("state failed: {e}"),
    }
}
