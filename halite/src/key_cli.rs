//! `salt-key`: list, accept, reject and delete minion keys in the master's pki directory.
//! A delete or reject drops `<cachedir>/.dfn` so the running master rotates its AES key.

use crate::master_cli::{confirm, emit, key_state_named};
use halite_core::config::MasterConfig;
use halite_core::{Map, Value};
use halite_master::pki::{KeyState, Pki};
use halite_output::OutputOptions;

fn label(s: KeyState) -> &'static str {
    match s {
        KeyState::Accepted => "Accepted Keys:",
        KeyState::Denied => "Denied Keys:",
        KeyState::Pending => "Unaccepted Keys:",
        KeyState::Rejected => "Rejected Keys:",
    }
}

fn list(pki: &Pki, states: &[KeyState], out: &Option<String>, oo: &OutputOptions) {
    match out.as_deref() {
        Some(o) if o != "key" => {
            // Salt's order for the structured forms.
            let order = [
                KeyState::Pending,
                KeyState::Rejected,
                KeyState::Accepted,
                KeyState::Denied,
            ];
            let m: Map = order
                .iter()
                .filter(|s| states.contains(s))
                .map(|s| {
                    (
                        s.dir().into(),
                        Value::List(pki.list(*s).into_iter().map(Value::Str).collect()),
                    )
                })
                .collect();
            emit(o, &Value::Map(m), oo);
        }
        _ => {
            for s in KeyState::ALL {
                if states.contains(&s) {
                    println!("{}", label(s));
                    for id in pki.list(s) {
                        println!("{id}");
                    }
                }
            }
        }
    }
}

fn rotate(cfg: &MasterConfig) {
    let dfn = cfg.path("cachedir").join(".dfn");
    let id = cfg.str("id").unwrap_or("master").to_string();
    if let Err(e) = halite_master::pki::write_private(&dfn, id.as_bytes(), 0o400) {
        eprintln!("could not ask the master to rotate its AES key: {e}");
    }
    let _ = std::fs::remove_dir_all(cfg.path("cachedir").join("minions_dropped"));
}

fn matching(pki: &Pki, states: &[KeyState], pattern: Option<&str>) -> Vec<(KeyState, String)> {
    let mut v = Vec::new();
    for s in states {
        for id in pki.list(*s) {
            let hit = match pattern {
                None => true,
                Some(p) => p.split(',').any(|p| halite_target::fnmatch(&id, p.trim())),
            };
            if hit {
                v.push((*s, id));
            }
        }
    }
    v
}

/// Accept or reject the keys in `from` matching `glob`, after Salt's listing and prompt;
/// whether any was moved.
fn move_keys(pki: &Pki, from: &[KeyState], glob: Option<&str>, to: KeyState, yes: bool) -> bool {
    let verb = if to == KeyState::Accepted {
        "accepted"
    } else {
        "rejected"
    };
    let keys = matching(pki, from, glob);
    if keys.is_empty() {
        println!(
            "The key glob '{}' does not match any unaccepted keys.",
            glob.unwrap_or("*")
        );
        return false;
    }
    println!("The following keys are going to be {verb}:");
    println!("Unaccepted Keys:");
    for (_, id) in &keys {
        println!("{id}");
    }
    if !confirm(yes, "Proceed?") {
        return false;
    }
    for (s, id) in keys {
        match pki.moved(s, to, &id) {
            Ok(()) => println!("Key for minion {id} {verb}."),
            Err(e) => eprintln!("Key for minion {id} could not be {verb}: {e}"),
        }
    }
    true
}

/// Run one `salt-key` action; the exit code.
#[allow(clippy::too_many_arguments)]
pub fn run(
    cfg: &MasterConfig,
    pki: &Pki,
    out: &Option<String>,
    oo: &OutputOptions,
    yes: bool,
    include_all: bool,
    action: &str,
    arg: Option<&str>,
) -> i32 {
    match action {
        "list" => {
            list(pki, &KeyState::ALL, out, oo);
            0
        }
        "list_state" => match key_state_named(arg.unwrap_or("all")) {
            Some(states) => {
                list(pki, &states, out, oo);
                0
            }
            None => {
                eprintln!("salt-key: error: unknown key state {:?}", arg.unwrap_or(""));
                2
            }
        },
        "accept" | "accept_all" => {
            let mut from = vec![KeyState::Pending];
            if include_all {
                from.extend([KeyState::Rejected, KeyState::Denied]);
            }
            let glob = if action == "accept" { arg } else { None };
            move_keys(pki, &from, glob, KeyState::Accepted, yes);
            0
        }
        "reject" | "reject_all" => {
            let mut from = vec![KeyState::Pending];
            if include_all {
                from.extend([KeyState::Accepted, KeyState::Denied]);
            }
            let glob = if action == "reject" { arg } else { None };
            if move_keys(pki, &from, glob, KeyState::Rejected, yes) {
                rotate(cfg);
            }
            0
        }
        "delete" | "delete_all" => {
            let keys = matching(
                pki,
                &KeyState::ALL,
                if action == "delete" { arg } else { None },
            );
            if keys.is_empty() {
                println!(
                    "The key glob '{}' does not match any accepted, unaccepted or rejected keys.",
                    arg.unwrap_or("*")
                );
                return 0;
            }
            println!("The following keys are going to be deleted:");
            for s in KeyState::ALL {
                let ids: Vec<&String> = keys
                    .iter()
                    .filter(|(k, _)| *k == s)
                    .map(|(_, i)| i)
                    .collect();
                if !ids.is_empty() {
                    println!("{}", label(s));
                    for id in ids {
                        println!("{id}");
                    }
                }
            }
            if !confirm(yes, "Proceed?") {
                return 0;
            }
            let data = halite_master::datacache::DataCache::new(&cfg.path("cachedir"));
            for (s, id) in keys {
                match pki.delete(s, &id) {
                    Ok(()) => {
                        data.remove(&id);
                        println!("Key for minion {id} deleted.");
                    }
                    Err(e) => eprintln!("Key for minion {id} could not be deleted: {e}"),
                }
            }
            rotate(cfg);
            0
        }
        "print" | "finger" | "finger_all" => {
            let keys = matching(
                pki,
                &KeyState::ALL,
                if action == "finger_all" { None } else { arg },
            );
            let mut by: Map = Map::default();
            for s in KeyState::ALL {
                let mut m = Map::default();
                for (k, id) in &keys {
                    if *k == s {
                        let text = pki.read(s, id).unwrap_or_default();
                        let v = if action == "print" {
                            text
                        } else {
                            halite_proto::crypto::pem_finger(&text)
                        };
                        m.insert(id.clone().into(), v.into());
                    }
                }
                if !m.is_empty() {
                    by.insert(s.dir().into(), Value::Map(m));
                }
            }
            emit(out.as_deref().unwrap_or("nested"), &Value::Map(by), oo);
            0
        }
        other => {
            eprintln!("salt-key: '{other}' is not available");
            2
        }
    }
}
