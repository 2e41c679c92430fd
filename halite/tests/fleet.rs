//! End to end on a real fleet: Halite's `salt-master`, four `salt-minion` daemons and the
//! `salt` / `salt-key` CLIs, talking over 127.0.0.1 on ports picked at run time, configured
//! only through Salt-format `master` / `minion` files.
//!
//! One fleet (starting one is expensive) goes through these steps, in order:
//!
//! 1. **Keys**: the minions' keys show up as pending (`salt-key -L --out=json`, `minions_pre`),
//!    `salt-key -A -y` accepts them, `salt-key -L` lists them under `Accepted Keys:`, and the
//!    minions, which keep retrying every `acceptance_wait_time`, then answer `test.ping`.
//! 2. **`test.ping --out=json --static`** prints one JSON object `{m1: true, m2: true, m3: true}`.
//! 3. **Targeting**: grain (`-G`), pillar (`-I`, so the master knows each minion's own pillar),
//!    compound (`-C`), list (`-L`), PCRE (`-E`), nodegroup (`-N`) and glob targets each reach
//!    exactly the expected minions.
//! 4. **`state.apply`** (highstate via `top.sls`): every minion renders a Jinja template
//!    fetched with `salt://` from the master, with its own grains and its own pillar.
//! 5. **`--out=json` without `--static`** prints one JSON document per minion as returns come in.
//! 6. **A targeted minion that does not exist** is reported as `Minion did not return.
//!    [No response]` and the exit status is non-zero.
//! 7. **A target matching nothing** says `No minions matched the target. No command was sent,
//!    no jid was assigned.` and exits non-zero.
//! 8. **Batch mode** (`-b 1`) runs one minion at a time and returns every minion.
//! 9. **Master restart**: with the minions left running, a restarted master gets all of them
//!    back.
//! 10. **Minion restart**: a restarted minion answers again.
//! 11. **Scheduler**: a new minion (accepted with `salt-key -a m4 -y`) runs `state.apply`
//!     from its `schedule:` config, with nobody publishing to it.
//!
//! Deadlines only bound waiting; nothing asserts on timing. A failure message carries the
//! failing command's output and the tail of every daemon's log, and the temp dir is kept
//! (see `common/fleet.rs` for the layout and the `HALITE_FLEET_*` variables; with
//! `HALITE_FLEET_BIN_DIR=/opt/salt-venv/bin` the same test runs against real Salt).

#[path = "common/fleet.rs"]
mod harness;

use std::collections::BTreeSet;
use std::time::Duration;

use harness::{json_stream, strip_ansi, CmdOut, Fleet};
use serde_json::Value;

/// The minions started at the beginning; `m4` joins in step 11.
const MINIONS: [&str; 3] = ["m1", "m2", "m3"];

/// Waiting for a fresh fleet to come up (keys pending, first pings).
const STARTUP: Duration = Duration::from_secs(60);
/// Waiting for the fleet to recover from a daemon restart.
const RECOVERY: Duration = Duration::from_secs(120);

fn ids(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn show(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(",")
}

/// Writes the state tree and the pillar tree.
///
/// * `top.sls` gives every minion `hello`, which manages `out/<id>.txt` from
///   `salt://files/greeting.txt` rendered with Jinja: `Hello <pillar greeting> from <grain id>`.
/// * The pillar top gives `m1` `p1` (`greeting: one`) and the others `p2` (`greeting: two`).
fn write_trees(fleet: &Fleet) {
    fleet.write("srv/salt/top.sls", "base:\n  '*':\n    - hello\n");
    fleet.write(
        "srv/salt/hello.sls",
        &format!(
            "greeting:\n  file.managed:\n    - name: {}/{{{{ grains['id'] }}}}.txt\n    - source: salt://files/greeting.txt\n    - template: jinja\n",
            fleet.path("out").display()
        ),
    );
    fleet.write(
        "srv/salt/files/greeting.txt",
        "Hello {{ pillar['greeting'] }} from {{ grains['id'] }}\n",
    );
    fleet.write(
        "srv/pillar/top.sls",
        "base:\n  'm1':\n    - p1\n  'm2':\n    - p2\n  'm3':\n    - p2\n  'm4':\n    - p2\n",
    );
    fleet.write("srv/pillar/p1.sls", "greeting: one\n");
    fleet.write("srv/pillar/p2.sls", "greeting: two\n");
}

/// The id `file.managed` of `out/<id>.txt` has in a state return.
fn state_key(fleet: &Fleet, id: &str) -> String {
    let path = fleet.path("out").join(format!("{id}.txt"));
    format!("file_|-greeting_|-{}_|-managed", path.display())
}

/// `salt-key -L --out=json`: the ids in `field` (`minions_pre`, `minions`, ...).
fn keys_in(fleet: &Fleet, field: &str) -> Result<BTreeSet<String>, String> {
    let out = fleet.salt_key(&["-L", "--out=json"]);
    let json = out.json_object().map_err(|e| format!("{e}\n{out}"))?;
    let list = json
        .get(field)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("no list {field:?} in the output\n{out}"))?;
    list.iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("non-string id in {field:?}\n{out}"))
        })
        .collect()
}

/// `Ok` when `out` is a `--static` JSON object mapping exactly `expected` to `true`.
fn all_true(out: &CmdOut, expected: &BTreeSet<String>) -> Result<(), String> {
    let map = out.json_object().map_err(|e| format!("{e}\n{out}"))?;
    let got: BTreeSet<String> = map.keys().cloned().collect();
    if &got != expected {
        return Err(format!(
            "expected returns from {{{}}}, got {{{}}}\n{out}",
            show(expected),
            show(&got)
        ));
    }
    if let Some((id, v)) = map.iter().find(|(_, v)| **v != Value::Bool(true)) {
        return Err(format!("{id} returned {v}, not true\n{out}"));
    }
    Ok(())
}

/// Polls `salt <target...> test.ping --out=json --static -t 10` until exactly `expected`
/// answer `true`.
fn wait_for_pings(fleet: &mut Fleet, target: &[&str], expected: &[&str], timeout: Duration) {
    let expected = ids(expected);
    let mut args: Vec<&str> = target.to_vec();
    args.extend(["test.ping", "--out=json", "--static", "-t", "10"]);
    fleet.wait_for(
        &format!("{} to answer test.ping", show(&expected)),
        timeout,
        |f| all_true(&f.salt(&args), &expected),
    );
}

#[test]
fn fleet_end_to_end() {
    let mut fleet = Fleet::new("nodegroups:\n  web: 'L@m1,m2'\n");
    write_trees(&fleet);
    fleet.add_minion("m1", "grains:\n  roles:\n    - web\n");
    fleet.add_minion("m2", "grains:\n  roles:\n    - web\n");
    fleet.add_minion("m3", "grains:\n  roles:\n    - db\n");
    fleet.add_minion(
        "m4",
        "grains:\n  roles:\n    - sched\nschedule:\n  hs:\n    function: state.apply\n    seconds: 2\n",
    );

    fleet.step("starting master and m1 m2 m3");
    fleet.start_master();
    for id in MINIONS {
        fleet.start_minion(id);
    }

    accept_keys(&mut fleet);
    static_ping(&fleet);
    targeting(&fleet);
    highstate(&fleet);
    streamed_json(&fleet);
    missing_minion(&fleet);
    no_match(&fleet);
    batch(&fleet);
    master_restart(&mut fleet);
    minion_restart(&mut fleet);
    scheduler(&mut fleet);
    fleet.step("all steps passed");
}

/// Step 1: pending keys, `salt-key -A -y`, `salt-key -L`, first pings.
fn accept_keys(fleet: &mut Fleet) {
    fleet.step("1. key acceptance");
    let all = ids(&MINIONS);
    fleet.wait_for(
        "m1 m2 m3 in minions_pre (salt-key -L --out=json)",
        STARTUP,
        |f| {
            let pre = keys_in(f, "minions_pre")?;
            if pre.is_superset(&all) {
                Ok(())
            } else {
                Err(format!("minions_pre = {{{}}}", show(&pre)))
            }
        },
    );

    let out = fleet.salt_key(&["-A", "-y"]);
    fleet.check(out.status.success(), || {
        format!("salt-key -A -y failed\n{out}")
    });
    match keys_in(fleet, "minions") {
        Ok(accepted) if accepted == all => {}
        Ok(accepted) => fleet.fail(&format!(
            "after salt-key -A -y, minions = {{{}}}, expected {{{}}}",
            show(&accepted),
            show(&all)
        )),
        Err(e) => fleet.fail(&e),
    }
    match keys_in(fleet, "minions_pre") {
        Ok(pre) if pre.is_empty() => {}
        Ok(pre) => fleet.fail(&format!(
            "after salt-key -A -y, minions_pre still holds {{{}}}",
            show(&pre)
        )),
        Err(e) => fleet.fail(&e),
    }

    // Human output: "Accepted Keys:" followed by the ids, sorted, then the next section.
    let out = fleet.salt_key(&["-L"]);
    let text = strip_ansi(&out.stdout);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let listed = lines.iter().position(|l| *l == "Accepted Keys:").map(|i| {
        let rest = &lines[i + 1..];
        let n = rest
            .iter()
            .position(|l| l.ends_with("Keys:"))
            .unwrap_or(rest.len());
        rest[..n].to_vec()
    });
    fleet.check(
        out.status.success() && listed.as_deref() == Some(&MINIONS[..]),
        || format!("salt-key -L should list m1 m2 m3 under 'Accepted Keys:'\n{out}"),
    );

    // The minions retry authentication every acceptance_wait_time (1 s).
    wait_for_pings(fleet, &["*"], &MINIONS, STARTUP);
}

/// Step 2: one JSON object with every minion's `true`.
fn static_ping(fleet: &Fleet) {
    fleet.step("2. test.ping --out=json --static");
    let out = fleet.salt(&["*", "test.ping", "--out=json", "--static", "-t", "10"]);
    fleet.check(out.status.success(), || {
        format!("exit status should be 0\n{out}")
    });
    if let Err(e) = all_true(&out, &ids(&MINIONS)) {
        fleet.fail(&e);
    }
}

/// Step 3: every target type reaches exactly the expected minions.
fn targeting(fleet: &Fleet) {
    fleet.step("3. targeting");
    let cases: [(&[&str], &[&str]); 7] = [
        (&["-G", "roles:web"], &["m1", "m2"]),
        (&["-I", "greeting:two"], &["m2", "m3"]),
        (&["-C", "G@roles:db or m1"], &["m1", "m3"]),
        (&["-L", "m1,m3"], &["m1", "m3"]),
        (&["-E", "m[12]"], &["m1", "m2"]),
        (&["-N", "web"], &["m1", "m2"]),
        (&["m*"], &["m1", "m2", "m3"]),
    ];
    for (target, expected) in cases {
        let mut args = target.to_vec();
        args.extend(["test.ping", "--out=json", "--static", "-t", "10"]);
        let out = fleet.salt(&args);
        fleet.check(out.status.success(), || {
            format!("target {target:?}: exit status should be 0\n{out}")
        });
        if let Err(e) = all_true(&out, &ids(expected)) {
            fleet.fail(&format!("target {target:?}: {e}"));
        }
    }
}

/// Step 4: highstate renders each minion's file with its own grains and pillar.
fn highstate(fleet: &Fleet) {
    fleet.step("4. state.apply");
    let out = fleet.salt(&["*", "state.apply", "--out=json", "--static", "-t", "120"]);
    fleet.check(out.status.success(), || {
        format!("state.apply should exit 0\n{out}")
    });
    let map = out
        .json_object()
        .unwrap_or_else(|e| fleet.fail(&format!("{e}\n{out}")));
    let got: BTreeSet<String> = map.keys().cloned().collect();
    fleet.check(got == ids(&MINIONS), || {
        format!("state.apply: expected returns from m1 m2 m3\n{out}")
    });
    for id in MINIONS {
        let states = map[id].as_object();
        let key = state_key(fleet, id);
        let ok = states.is_some_and(|s| {
            s.len() == 1 && s.get(&key).and_then(|r| r.get("result")) == Some(&Value::Bool(true))
        });
        fleet.check(ok, || {
            format!("{id}: expected exactly one state, {key:?}, with result true\n{out}")
        });
    }
    for (id, greeting) in [("m1", "one"), ("m2", "two"), ("m3", "two")] {
        let path = fleet.path("out").join(format!("{id}.txt"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| fleet.fail(&format!("read {}: {e}\n{out}", path.display())));
        let expected = format!("Hello {greeting} from {id}");
        fleet.check(text.trim_end() == expected, || {
            format!(
                "{} holds {text:?}, expected {expected:?}\n{out}",
                path.display()
            )
        });
    }
}

/// Step 5: without `--static`, one single-key JSON document per minion.
fn streamed_json(fleet: &Fleet) {
    fleet.step("5. --out=json without --static");
    let out = fleet.salt(&["*", "test.ping", "--out=json", "-t", "10"]);
    fleet.check(out.status.success(), || {
        format!("exit status should be 0\n{out}")
    });
    let docs = json_stream(&out.stdout).unwrap_or_else(|e| fleet.fail(&format!("{e}\n{out}")));
    let mut seen = BTreeSet::new();
    for doc in &docs {
        let single = doc.as_object().filter(|m| m.len() == 1);
        let Some((id, v)) = single.and_then(|m| m.iter().next()) else {
            fleet.fail(&format!("expected single-key objects, got {doc}\n{out}"));
        };
        fleet.check(*v == Value::Bool(true), || {
            format!("{id} returned {v}\n{out}")
        });
        fleet.check(seen.insert(id.clone()), || {
            format!("{id} returned twice\n{out}")
        });
    }
    fleet.check(docs.len() == 3 && seen == ids(&MINIONS), || {
        format!("expected 3 documents, one per minion\n{out}")
    });
}

/// Step 6: a listed minion that does not exist.
fn missing_minion(fleet: &Fleet) {
    fleet.step("6. a targeted minion that does not exist");
    let out = fleet.salt(&["-L", "m1,nosuch", "test.ping", "-t", "3"]);
    let text = strip_ansi(&out.stdout);
    fleet.check(
        !out.status.success()
            && text.contains("m1:")
            && text.contains("nosuch:")
            && text.contains("Minion did not return. [No response]"),
        || {
            format!(
                "expected m1's return, 'nosuch:' with 'Minion did not return. [No response]', \
                 and a non-zero exit status\n{out}"
            )
        },
    );
}

/// Step 7: a target that matches nothing.
fn no_match(fleet: &Fleet) {
    fleet.step("7. a target matching nothing");
    let out = fleet.salt(&["-G", "roles:nothing", "test.ping"]);
    let msg = "No minions matched the target. No command was sent, no jid was assigned.";
    let said = strip_ansi(&out.stdout).contains(msg) || strip_ansi(&out.stderr).contains(msg);
    fleet.check(!out.status.success() && said, || {
        format!("expected {msg:?} and a non-zero exit status\n{out}")
    });
}

/// Step 8: `-b 1` runs the minions one at a time and returns all of them.
///
/// Salt prints `Executing run on ['m2']` before each sub-batch, then each return as its own
/// JSON document, which also carries `retcode` and `jid` next to the minion's id.
fn batch(fleet: &Fleet) {
    fleet.step("8. batch mode -b 1");
    let out = fleet.salt(&["*", "test.ping", "-b", "1", "--out=json", "-t", "10"]);
    fleet.check(out.status.success(), || {
        format!("exit status should be 0\n{out}")
    });
    let mut json_text = String::new();
    let mut batches: Vec<Vec<String>> = Vec::new();
    for line in out.stdout.lines() {
        if let Some(rest) = line.trim().strip_prefix("Executing run on") {
            let list = rest.trim().trim_start_matches('[').trim_end_matches(']');
            batches.push(
                list.split(',')
                    .map(|s| s.trim().trim_matches(|c| c == '\'' || c == '"').to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            );
        } else {
            json_text.push_str(line);
            json_text.push('\n');
        }
    }
    let docs = json_stream(&json_text).unwrap_or_else(|e| fleet.fail(&format!("{e}\n{out}")));
    let mut seen = BTreeSet::new();
    for doc in &docs {
        let Some(map) = doc.as_object() else {
            fleet.fail(&format!("expected JSON objects, got {doc}\n{out}"));
        };
        let returns: Vec<(&String, &Value)> = map
            .iter()
            .filter(|(k, _)| k.as_str() != "retcode" && k.as_str() != "jid")
            .collect();
        let [(id, v)] = returns.as_slice() else {
            fleet.fail(&format!(
                "expected one minion per document, got {doc}\n{out}"
            ));
        };
        fleet.check(**v == Value::Bool(true), || {
            format!("{id} returned {v}\n{out}")
        });
        fleet.check(seen.insert((*id).clone()), || {
            format!("{id} returned twice\n{out}")
        });
    }
    fleet.check(seen == ids(&MINIONS), || {
        format!("expected one return from each of m1 m2 m3\n{out}")
    });
    let batched: BTreeSet<String> = batches.iter().flatten().cloned().collect();
    fleet.check(
        batches.len() == 3 && batches.iter().all(|b| b.len() == 1) && batched == ids(&MINIONS),
        || format!("expected 3 'Executing run on [...]' lines of one minion each, got {batches:?}\n{out}"),
    );
}

/// Step 9: restart the master; the minions (not restarted) come back on their own.
fn master_restart(fleet: &mut Fleet) {
    fleet.step("9. master restart");
    let pids: Vec<u32> = MINIONS.iter().map(|id| fleet.minion_pid(id)).collect();
    fleet.stop_master();
    fleet.start_master();
    wait_for_pings(fleet, &["*"], &MINIONS, RECOVERY);
    let after: Vec<u32> = MINIONS.iter().map(|id| fleet.minion_pid(id)).collect();
    fleet.check(pids == after, || {
        format!("minion pids changed across the master restart: {pids:?} -> {after:?}")
    });
}

/// Step 10: restart one minion; it answers again, and so does the rest of the fleet.
fn minion_restart(fleet: &mut Fleet) {
    fleet.step("10. minion restart (m2)");
    fleet.stop_minion("m2");
    fleet.start_minion("m2");
    wait_for_pings(fleet, &["m2"], &["m2"], RECOVERY);
    wait_for_pings(fleet, &["*"], &MINIONS, RECOVERY);
}

/// Step 11: a new minion, accepted by name, applies its highstate from its own schedule.
fn scheduler(fleet: &mut Fleet) {
    fleet.step("11. scheduler (m4: schedule state.apply every 2 s)");
    fleet.start_minion("m4");
    fleet.wait_for("m4 in minions_pre", STARTUP, |f| {
        let pre = keys_in(f, "minions_pre")?;
        if pre.contains("m4") {
            Ok(())
        } else {
            Err(format!("minions_pre = {{{}}}", show(&pre)))
        }
    });
    let out = fleet.salt_key(&["-a", "m4", "-y"]);
    fleet.check(out.status.success(), || {
        format!("salt-key -a m4 -y failed\n{out}")
    });
    let path = fleet.path("out/m4.txt");
    fleet.wait_for(
        "the schedule to write out/m4.txt",
        STARTUP,
        |_| match std::fs::read_to_string(&path) {
            Ok(text) if text.trim_end() == "Hello two from m4" => Ok(()),
            Ok(text) => Err(format!("{} holds {text:?}", path.display())),
            Err(e) => Err(format!("{}: {e}", path.display())),
        },
    );
}
