//! Which accepted minions a target should reach (Salt's `CkMinions.check_minions`), so the
//! CLI knows whom to wait for. Glob, pcre and list need only ids; grain, pillar, ipcidr and
//! compound targets read the data cache and are greedy when a minion has no cached data
//! (it is expected; it decides for itself whether it matches).

use crate::pki::KeyState;
use crate::Master;
use halite_core::{Map, Value};

fn needs_data(tgt: &Value, tgt_type: &str) -> bool {
    match tgt_type {
        "glob" | "pcre" | "list" => false,
        "compound" => {
            let t = tgt.py_str();
            ["G@", "P@", "I@", "J@", "S@"].iter().any(|p| t.contains(p))
        }
        _ => true,
    }
}

/// The accepted minions `tgt` is expected to reach, sorted.
pub fn check_minions(m: &Master, tgt: &Value, tgt_type: &str, delimiter: &str) -> Vec<String> {
    let empty = Value::Map(Map::default());
    let nodegroups = m
        .cfg
        .opts
        .get("nodegroups")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    let data_needed = needs_data(tgt, tgt_type);
    m.pki
        .list(KeyState::Accepted)
        .into_iter()
        .filter(|id| {
            let cached = if data_needed { m.data.get(id) } else { None };
            if data_needed && cached.is_none() {
                return true;
            }
            let (grains, pillar) = cached.unwrap_or_else(|| (empty.clone(), empty.clone()));
            let data = halite_target::MinionData {
                id,
                grains: &grains,
                pillar: &pillar,
                nodegroups: &nodegroups,
            };
            halite_target::matches(tgt, tgt_type, &data, delimiter).unwrap_or(false)
        })
        .collect()
}

/// For a list target, the names that are not accepted minions (Salt reports them as
/// `missing`, and the CLI prints them as not returning).
pub fn missing(m: &Master, tgt: &Value, tgt_type: &str) -> Vec<String> {
    if tgt_type != "list" {
        return Vec::new();
    }
    let names: Vec<String> = match tgt {
        Value::List(l) => l.iter().map(Value::py_str).collect(),
        other => other
            .py_str()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    };
    let accepted = m.pki.list(KeyState::Accepted);
    names
        .into_iter()
        .filter(|n| !accepted.contains(n))
        .collect()
}
