//! Comparing Halite's `salt-call --out=json` with real Salt's: where real Salt is, how a
//! state run's JSON is normalised (timings out), and the comparison itself.

use serde_json::Value as Json;
use std::path::PathBuf;

/// Real Salt's `salt-call` (`/opt/salt-venv`, or `$SALT_VENV`), when installed.
pub fn salt_call() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var("SALT_VENV").unwrap_or_else(|_| "/opt/salt-venv".into()))
        .join("bin/salt-call");
    p.is_file().then_some(p)
}

/// A state run's JSON with `start_time` and `duration` taken out of every state.
pub fn normalized(stdout: &str) -> Json {
    let mut v: Json =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"));
    if let Some(states) = v.get_mut("local").and_then(Json::as_object_mut) {
        for ret in states.values_mut() {
            if let Some(r) = ret.as_object_mut() {
                r.remove("start_time");
                r.remove("duration");
            }
        }
    }
    v
}

/// The state tags of a run, in order.
pub fn state_order(v: &Json) -> Vec<String> {
    v.get("local")
        .and_then(Json::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Panic unless the two runs are equal: maps compared without regard to their order (Salt
/// builds some from Python sets), the states' order compared on its own.
pub fn assert_same_states(step: &str, got: &Json, want: &Json) {
    assert!(
        got == want && state_order(got) == state_order(want),
        "{step}: Halite's return differs from Salt's\nHalite: {}\nSalt:   {}",
        serde_json::to_string_pretty(got).expect("json"),
        serde_json::to_string_pretty(want).expect("json"),
    );
}
