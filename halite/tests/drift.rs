//! Drift watch end to end (a Halite extension, minion config `drift_watch: true`): Halite's
//! `salt-master` and one `salt-minion` on 127.0.0.1. After `state.apply drift` (a managed
//! file with a `cmd.run` `onchanges` handler, and an unrelated managed file beside it):
//!
//! * the file is deleted, chmod-ed, given foreign content, replaced by a rename: each
//!   time it is back, the handler ran once more, the unrelated file was not touched (same
//!   inode and mtime), and the master's event bus carried one `salt/minion/m1/drift` whose
//!   `return` holds exactly the file and its handler, plus the inotify-beacon-shaped event;
//! * 1000 writes within about a second lead to a handful of repairs at most;
//! * the repairs are in the master's job cache (`salt-run jobs.list_jobs`: `drift.repair`);
//! * `drift.pause` stops repairs, `drift.resume` brings the file back;
//! * a restarted minion watches the kept set again: a change made while it was down is
//!   repaired at start, and later changes as before; `drift.pause` outlives a restart;
//! * with `drift_watch` false (the default), nothing is watched: the deleted file stays
//!   deleted, no drift event, and `drift.status` is not available, as in Salt.
//!
//! Deadlines only bound waiting; nothing asserts on timing.

#[allow(dead_code)]
#[path = "common/aptroot.rs"]
mod aptroot;
#[path = "common/fleet.rs"]
mod harness;
#[allow(dead_code)]
#[path = "common/systemdns.rs"]
mod systemdns;

use halite_core::Value;
use harness::{wait_until, Fleet};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Waiting for a fresh fleet to come up.
const STARTUP: Duration = Duration::from_secs(60);
/// Waiting for a repair.
const REPAIR: Duration = Duration::from_secs(30);
/// The content the managed file must have.
const APP: &str = "managed by salt\n";

/// Events seen on the master's bus: (tag, data).
type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// Write the state tree: `drift.sls` manages `work/app.conf` (from `salt://files/app.conf`,
/// mode 0644) with a handler appending to `work/ran.log` on its changes, and
/// `work/other.conf`.
fn write_tree(fleet: &Fleet) -> PathBuf {
    let work = fleet.path("work");
    std::fs::create_dir_all(&work).expect("mkdir work");
    fleet.write("srv/salt/files/app.conf", APP);
    fleet.write(
        "srv/salt/drift.sls",
        &format!(
            "app_conf:\n  file.managed:\n    - name: {w}/app.conf\n    - source: salt://files/app.conf\n    - mode: '0644'\n\
             handler:\n  cmd.run:\n    - name: echo ran >> {w}/ran.log\n    - onchanges:\n      - file: app_conf\n\
             other_conf:\n  file.managed:\n    - name: {w}/other.conf\n    - contents: other\n    - mode: '0644'\n",
            w = work.display()
        ),
    );
    work
}

/// Start master and minion `m1` (with `minion_extra`), accept its key, wait for a ping.
fn start(minion_extra: &str) -> (Fleet, PathBuf) {
    let mut fleet = Fleet::new("");
    let work = write_tree(&fleet);
    fleet.add_minion("m1", minion_extra);
    fleet.start_master();
    fleet.start_minion("m1");
    join(&mut fleet);
    (fleet, work)
}

/// Accept `m1`'s key once it is pending, and wait until it answers `test.ping`.
fn join(fleet: &mut Fleet) {
    fleet.wait_for("m1's key to be pending", STARTUP, |f| {
        let out = f.salt_key(&["-L", "--out=json"]);
        let json = out.json_object()?;
        let pre = json.get("minions_pre").cloned().unwrap_or_default();
        if pre.as_array().is_some_and(|l| l.iter().any(|v| v == "m1")) {
            Ok(())
        } else {
            Err(format!("not pending yet\n{out}"))
        }
    });
    let out = fleet.salt_key(&["-a", "m1", "-y"]);
    fleet.check(out.status.success(), || {
        format!("salt-key -a failed\n{out}")
    });
    fleet.wait_for("m1 to answer test.ping", STARTUP, |f| {
        let out = f.salt(&["m1", "test.ping", "--out=json", "--static", "-t", "10"]);
        match out.json_object() {
            Ok(m) if m.get("m1") == Some(&serde_json::Value::Bool(true)) => Ok(()),
            _ => Err(format!("{out}")),
        }
    });
}

/// An executable script at `root/bin/<name>` that runs `salt-minion` with its arguments
/// through `prefix` (a shell command line ending where the program goes).
fn minion_wrapper(fleet: &Fleet, name: &str, env: &[(String, String)], prefix: &str) -> PathBuf {
    let mut script = String::from("#!/bin/sh\n");
    for (k, v) in env {
        script.push_str(&format!("export {k}='{}'\n", v.replace('\'', "'\\''")));
    }
    // A private systemd has its own /tmp, /run and /var/tmp: a binary under one of them (a
    // checkout in /tmp, as CI's) is linked into the fleet's root, which it shares.
    let mut minion = harness::bin("salt-minion");
    if ["/tmp/", "/run/", "/var/tmp/"]
        .iter()
        .any(|p| minion.starts_with(p))
    {
        let dest = fleet.path("bin/salt-minion");
        if !dest.exists() {
            std::fs::create_dir_all(fleet.path("bin")).expect("bin dir");
            if std::fs::hard_link(&minion, &dest).is_err() {
                std::fs::copy(&minion, &dest).expect("copy the binary");
            }
        }
        minion = dest;
    }
    script.push_str(&format!("exec {prefix} '{}' \"$@\"\n", minion.display()));
    let path = fleet.path(&format!("bin/{name}"));
    fleet.write(&format!("bin/{name}"), &script);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// The master's `sock_dir` (found by its event socket under the master's root).
fn sock_dir(fleet: &Fleet) -> PathBuf {
    fn find(dir: &Path) -> Option<PathBuf> {
        for e in std::fs::read_dir(dir).ok()?.flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == "master_event_pub.ipc") {
                return p.parent().map(Path::to_path_buf);
            }
            if p.is_dir() && !p.is_symlink() {
                if let Some(found) = find(&p) {
                    return Some(found);
                }
            }
        }
        None
    }
    find(&fleet.master_dir()).unwrap_or_else(|| fleet.fail("no master_event_pub.ipc"))
}

/// Collect every `salt/` event of the master's bus on a thread of its own.
fn listen(fleet: &Fleet) -> Seen {
    let seen: Seen = Arc::default();
    let mut l = halite_master::events::Listener::connect(&sock_dir(fleet), "salt/")
        .unwrap_or_else(|e| fleet.fail(&e));
    let out = seen.clone();
    std::thread::spawn(move || loop {
        if let Some(ev) = l.next(Duration::from_secs(3600)) {
            out.lock().unwrap().push(ev);
        }
    });
    seen
}

fn drift_events(seen: &Seen) -> Vec<Value> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|(t, _)| t == "salt/minion/m1/drift")
        .map(|(_, d)| d.clone())
        .collect()
}

fn beacon_events(seen: &Seen, path: &Path) -> usize {
    let tag = format!("salt/beacon/m1/inotify/{}", path.display());
    seen.lock()
        .unwrap()
        .iter()
        .filter(|(t, _)| *t == tag)
        .count()
}

/// `state.apply <sls>` on m1: every one of its `count` states must succeed.
fn apply_sls(fleet: &Fleet, sls: &str, count: usize) {
    let out = fleet.salt(&[
        "m1",
        "state.apply",
        sls,
        "--out=json",
        "--static",
        "-t",
        "120",
    ]);
    let json = out
        .json_object()
        .unwrap_or_else(|e| fleet.fail(&format!("{e}\n{out}")));
    let states = json
        .get("m1")
        .and_then(serde_json::Value::as_object)
        .unwrap_or_else(|| fleet.fail(&format!("no state return\n{out}")));
    fleet.check(
        states.len() == count
            && states
                .values()
                .all(|r| r.get("result") == Some(&serde_json::Value::Bool(true))),
        || format!("state.apply {sls} did not succeed\n{out}"),
    );
}

fn apply(fleet: &Fleet) {
    apply_sls(fleet, "drift", 3);
}

fn ran_count(work: &Path) -> usize {
    std::fs::read_to_string(work.join("ran.log"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// Is `app.conf` as applied: a regular file, mode 0644, the managed content?
fn restored(work: &Path) -> Result<(), String> {
    let p = work.join("app.conf");
    let md = std::fs::symlink_metadata(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    if !md.file_type().is_file() {
        return Err("not a regular file".into());
    }
    if md.permissions().mode() & 0o7777 != 0o644 {
        return Err(format!("mode {:o}", md.permissions().mode() & 0o7777));
    }
    let text = std::fs::read_to_string(&p).map_err(|e| e.to_string())?;
    if text != APP {
        return Err(format!("content {text:?}"));
    }
    Ok(())
}

/// Inode and mtime of `other.conf` (must never change).
fn other_stamp(work: &Path) -> (u64, i64, i64) {
    let md = std::fs::metadata(work.join("other.conf")).expect("other.conf");
    (md.ino(), md.mtime(), md.mtime_nsec())
}

fn tags(work: &Path) -> (String, String) {
    let app = format!("file_|-app_conf_|-{}/app.conf_|-managed", work.display());
    let handler = format!(
        "cmd_|-handler_|-echo ran >> {}/ran.log_|-run",
        work.display()
    );
    (app, handler)
}

/// Cause one drift with `change`, then wait for exactly one repair: the file restored,
/// one more handler run, one more drift event holding the file and its handler, a beacon
/// event, and the unrelated file untouched.
fn one_repair(fleet: &mut Fleet, seen: &Seen, work: &Path, what: &str, change: impl FnOnce()) {
    fleet.step(&format!("drift: {what}"));
    let before_events = drift_events(seen).len();
    let before_ran = ran_count(work);
    let before_beacons = beacon_events(seen, &work.join("app.conf"));
    let other = other_stamp(work);
    change();
    fleet.wait_for(&format!("the repair after: {what}"), REPAIR, |_| {
        restored(work)?;
        let n = drift_events(seen).len();
        if n <= before_events {
            return Err("no drift event yet".into());
        }
        if ran_count(work) <= before_ran {
            return Err("the handler has not run".into());
        }
        Ok(())
    });
    // Let any further (wrong) repair show up before counting.
    std::thread::sleep(Duration::from_secs(1));
    let events = drift_events(seen);
    fleet.check(events.len() == before_events + 1, || {
        format!(
            "{what}: expected one drift event, got {}: {:?}",
            events.len() - before_events,
            &events[before_events..]
        )
    });
    fleet.check(ran_count(work) == before_ran + 1, || {
        format!(
            "{what}: the handler ran {} times",
            ran_count(work) - before_ran
        )
    });
    fleet.check(other_stamp(work) == other, || {
        format!("{what}: other.conf was touched")
    });
    fleet.check(
        beacon_events(seen, &work.join("app.conf")) > before_beacons,
        || format!("{what}: no inotify beacon event"),
    );
    let ev = events.last().expect("an event");
    let (app, handler) = tags(work);
    let ret = ev
        .get("return")
        .and_then(Value::as_map)
        .unwrap_or_else(|| fleet.fail(&format!("{what}: no return in {ev:?}")));
    let keys: Vec<String> = ret.keys().map(Value::py_str).collect();
    fleet.check(keys == vec![app.clone(), handler.clone()], || {
        format!("{what}: the repair ran {keys:?}")
    });
    fleet.check(ev.get("success") == Some(&Value::Bool(true)), || {
        format!("{what}: the repair failed: {ev:?}")
    });
    fleet.check(ev.get("fun") == Some(&Value::from("drift.repair")), || {
        format!("{what}: {ev:?}")
    });
    fleet.check(
        ev.get("fun_args") == Some(&Value::List(vec![Value::Str(app)])),
        || format!("{what}: fun_args of {ev:?}"),
    );
    let trigger = ev.get("trigger").and_then(Value::as_map);
    fleet.check(
        trigger.is_some_and(|t| t.get("kind") == Some(&Value::from("file"))),
        || format!("{what}: trigger of {ev:?}"),
    );
}

#[test]
fn drift_repairs_files() {
    let (mut fleet, work) = start("drift_watch: true\n");
    let seen = listen(&fleet);
    fleet.step("state.apply drift");
    apply(&fleet);
    fleet.check(restored(&work).is_ok(), || "app.conf not applied".into());
    fleet.check(ran_count(&work) == 1, || {
        "the handler did not run once".into()
    });
    let app = work.join("app.conf");

    one_repair(&mut fleet, &seen, &work, "delete", || {
        std::fs::remove_file(&app).expect("rm");
    });
    one_repair(&mut fleet, &seen, &work, "chmod 0600", || {
        std::fs::set_permissions(&app, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    });
    one_repair(&mut fleet, &seen, &work, "foreign content", || {
        std::fs::write(&app, "foreign\n").expect("write");
    });
    one_repair(&mut fleet, &seen, &work, "replaced by a rename", || {
        let tmp = work.join(".app.conf.new");
        std::fs::write(&tmp, "renamed in\n").expect("write tmp");
        std::fs::rename(&tmp, &app).expect("rename");
    });

    fleet.step("drift: 1000 writes within about a second");
    let before = drift_events(&seen).len();
    let started = Instant::now();
    for i in 0..1000 {
        // The engine may have swapped the file meanwhile: write whatever is there now.
        let _ = std::fs::write(&app, format!("burst {i}\n"));
    }
    fleet.step(&format!(
        "  1000 writes took {:.2}s",
        started.elapsed().as_secs_f64()
    ));
    fleet.wait_for("app.conf restored after the burst", REPAIR, |_| {
        restored(&work)
    });
    std::thread::sleep(Duration::from_secs(3));
    let repairs = drift_events(&seen).len() - before;
    fleet.check((1..=5).contains(&repairs), || {
        format!("the burst led to {repairs} repairs")
    });
    fleet.check(restored(&work).is_ok(), || "app.conf not restored".into());

    fleet.step("the repairs are in the master's job cache");
    fleet.wait_for("drift.repair in jobs.list_jobs", REPAIR, |f| {
        let out = f.run("salt-run", &["jobs.list_jobs", "--out=json"]);
        let json = out.json_object()?;
        let n = json
            .values()
            .filter(|j| j.get("Function") == Some(&serde_json::json!("drift.repair")))
            .count();
        if n >= 4 {
            Ok(())
        } else {
            Err(format!("{n} drift.repair jobs\n{out}"))
        }
    });

    fleet.step("salt-run drift.report: the repairs with what triggered them");
    let out = fleet.run("salt-run", &["drift.report", "--out=json"]);
    let report = out.json_object().unwrap_or_else(|e| fleet.fail(&e));
    let repairs = report
        .get("m1")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    fleet.check(
        repairs.len() >= 4
            && repairs.iter().all(|r| {
                r["state"]
                    == serde_json::json!("file_|-app_conf_|-{w}/app.conf_|-managed"
                        .replace("{w}", &work.display().to_string()))
                    && r["trigger"]["kind"] == serde_json::json!("file")
            }),
        || format!("drift.report\n{out}"),
    );
    fleet.step("salt-run jobs.lookup_jid <bare jid> of a repair");
    let jid = repairs[0]["jid"].as_str().unwrap_or_default().to_string();
    let out = fleet.run("salt-run", &["jobs.lookup_jid", &jid, "--out=json"]);
    fleet.check(
        out.json_object()
            .is_ok_and(|m| m.get("m1").is_some_and(serde_json::Value::is_object)),
        || format!("jobs.lookup_jid {jid}\n{out}"),
    );

    fleet.step("drift.status");
    let out = fleet.salt(&["m1", "drift.status", "--out=json", "--static"]);
    let status = out.json_object().unwrap_or_else(|e| fleet.fail(&e));
    let s = &status["m1"];
    fleet.check(s["paused"] == serde_json::json!(false), || format!("{out}"));
    fleet.check(s["watched"]["files"] == serde_json::json!(2), || {
        format!("{out}")
    });

    fleet.step("drift.pause: no repair");
    let out = fleet.salt(&["m1", "drift.pause", "--out=json", "--static"]);
    fleet.check(out.json_object().is_ok_and(|m| m["m1"] == true), || {
        format!("{out}")
    });
    let before = drift_events(&seen).len();
    std::fs::remove_file(&app).expect("rm");
    std::thread::sleep(Duration::from_secs(3));
    fleet.check(!app.exists(), || "repaired while paused".into());
    fleet.check(drift_events(&seen).len() == before, || {
        "a drift event while paused".into()
    });
    fleet.step("drift.resume: repaired");
    let out = fleet.salt(&["m1", "drift.resume", "--out=json", "--static"]);
    fleet.check(out.json_object().is_ok_and(|m| m["m1"] == true), || {
        format!("{out}")
    });
    fleet.wait_for("app.conf back after drift.resume", REPAIR, |_| {
        restored(&work)
    });

    fleet.step("the minion restarts; app.conf given foreign content while it is down");
    fleet.stop_minion("m1");
    std::fs::write(&app, "changed while the minion was down\n").expect("write");
    let before = drift_events(&seen).len();
    fleet.start_minion("m1");
    wait_repair(
        &mut fleet,
        &seen,
        before,
        &format!("file_|-app_conf_|-{}_|-managed", app.display()),
        "app.conf repaired by the kept set's first full check",
        || restored(&work),
    );
    one_repair(
        &mut fleet,
        &seen,
        &work,
        "delete, after the restart",
        || {
            std::fs::remove_file(&app).expect("rm");
        },
    );

    fleet.step("drift.pause outlives a restart");
    let out = fleet.salt(&["m1", "drift.pause", "--out=json", "--static"]);
    fleet.check(out.json_object().is_ok_and(|m| m["m1"] == true), || {
        format!("{out}")
    });
    fleet.stop_minion("m1");
    fleet.start_minion("m1");
    fleet.wait_for("m1 back, paused", STARTUP, |f| {
        let out = f.salt(&["m1", "drift.status", "--out=json", "--static", "-t", "10"]);
        match out.json_object() {
            Ok(m) if m["m1"]["paused"] == serde_json::json!(true) => Ok(()),
            _ => Err(format!("{out}")),
        }
    });
    let before = drift_events(&seen).len();
    std::fs::remove_file(&app).expect("rm");
    std::thread::sleep(Duration::from_secs(3));
    fleet.check(!app.exists() && drift_events(&seen).len() == before, || {
        "repaired while paused (after a restart)".into()
    });
    let out = fleet.salt(&["m1", "drift.resume", "--out=json", "--static"]);
    fleet.check(out.json_object().is_ok_and(|m| m["m1"] == true), || {
        format!("{out}")
    });
    fleet.wait_for("app.conf back after drift.resume", REPAIR, |_| {
        restored(&work)
    });
    fleet.step("done");
}

#[test]
fn without_drift_watch_nothing_is_watched() {
    let (mut fleet, work) = start("");
    let seen = listen(&fleet);
    fleet.step("state.apply drift (drift_watch off)");
    apply(&fleet);
    let app = work.join("app.conf");
    std::fs::remove_file(&app).expect("rm");
    // Nothing may bring it back: give a (wrong) repair ample time to show up.
    let repaired = wait_until(Instant::now() + Duration::from_secs(4), || app.exists());
    fleet.check(!repaired, || "repaired without drift_watch".into());
    fleet.check(drift_events(&seen).is_empty(), || "a drift event".into());
    fleet.check(beacon_events(&seen, &app) == 0, || "a beacon event".into());
    let out = fleet.salt(&["m1", "drift.status", "--out=json", "--static"]);
    fleet.check(
        out.json_object()
            .is_ok_and(|m| m["m1"] == "'drift.status' is not available."),
        || format!("drift.status without drift_watch\n{out}"),
    );
    fleet.check_daemons();
}

/// Wait for one more drift event than `before` whose return holds `tag`, and `ok()`.
fn wait_repair(
    fleet: &mut Fleet,
    seen: &Seen,
    before: usize,
    tag: &str,
    what: &str,
    mut ok: impl FnMut() -> Result<(), String>,
) {
    fleet.wait_for(what, REPAIR, |_| {
        ok()?;
        let events = drift_events(seen);
        let found = events[before.min(events.len())..].iter().any(|e| {
            e.get("return")
                .and_then(Value::as_map)
                .is_some_and(|r| r.contains_key(&Value::from(tag)))
                && e.get("success") == Some(&Value::Bool(true))
        });
        if found {
            Ok(())
        } else {
            Err(format!(
                "no successful drift event for {tag} yet: {events:?}"
            ))
        }
    });
}

/// The private systemd recipe.
fn systemd_ns_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|p| p.join("../shared/recipes/systemd-ns.sh"))
        .find(|p| p.is_file())
        .expect("../shared/recipes/systemd-ns.sh")
}

const UNIT: &str = "[Unit]\nDescription=drift demo\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n";

#[test]
fn drift_repairs_services() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: not root (a private systemd needs namespaces)");
        return;
    }
    let mut fleet = Fleet::new("");
    // Declared after the fleet: torn down first (its teardown ends the minion inside).
    let sd = match systemdns::PrivateSystemd::up(&fleet.path("sd"), &fleet.root) {
        Ok(sd) => sd,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    std::fs::write(sd.vendor_unit_dir().join("drift-app.service"), UNIT).expect("unit");
    sd.systemctl(&["daemon-reload"]);
    fleet.write(
        "srv/salt/svc.sls",
        "app:\n  service.running:\n    - name: drift-app\n    - enable: True\n",
    );
    fleet.add_minion("m1", "drift_watch: true\n");
    let prefix = format!(
        "'{}' exec '{}' --",
        systemd_ns_script().display(),
        sd.state.display()
    );
    let wrapper = minion_wrapper(&fleet, "minion-in-systemd", &[], &prefix);
    fleet.start_master();
    fleet.start_minion_with("m1", &wrapper);
    join(&mut fleet);
    let seen = listen(&fleet);
    fleet.step("state.apply svc (inside the private systemd)");
    apply_sls(&fleet, "svc", 1);
    let unit = "drift-app.service";
    fleet.check(
        sd.unit_state(unit) == ("active".into(), "enabled".into()),
        || format!("after the apply: {:?}", sd.unit_state(unit)),
    );
    let tag = "service_|-app_|-drift-app_|-running";

    fleet.step("drift: systemctl stop");
    let before = drift_events(&seen).len();
    sd.systemctl(&["stop", unit]);
    wait_repair(
        &mut fleet,
        &seen,
        before,
        tag,
        "the unit running again",
        || match sd.unit_state(unit) {
            (a, _) if a == "active" => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );

    fleet.step("drift: systemctl disable (UnitFilesChanged)");
    let before = drift_events(&seen).len();
    sd.systemctl(&["disable", unit]);
    wait_repair(
        &mut fleet,
        &seen,
        before,
        tag,
        "the unit enabled again",
        || match sd.unit_state(unit) {
            (a, f) if a == "active" && f == "enabled" => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
    let out = fleet.salt(&["m1", "drift.status", "--out=json", "--static"]);
    let status = out.json_object().unwrap_or_else(|e| fleet.fail(&e));
    fleet.check(status["m1"]["watched"]["services"] == 1, || {
        format!("{out}")
    });
    fleet.step("done");
    drop(sd);
}

#[test]
fn drift_repairs_packages() {
    if let Some(why) = aptroot::unavailable() {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let host_before = aptroot::host_fingerprint();
    let repo = aptroot::AptRepo::new();
    let root = aptroot::AptRoot::new(&repo);
    let mut fleet = Fleet::new("");
    fleet.write(
        "srv/salt/pkg.sls",
        "kubelet:\n  pkg.installed:\n    - name: halite-demo-kubelet\n",
    );
    fleet.add_minion("m1", "drift_watch: true\n");
    let mut env: Vec<(String, String)> = root.env.clone().into_iter().collect();
    env.push((
        "HAPT_SCRATCH_LOG".into(),
        root.dir.path().join("dpkg.log").display().to_string(),
    ));
    let prefix = "unshare -m --propagation private sh -c \
                  'mount -n --bind \"$DPKG_ROOT/etc/apt\" /etc/apt && \
                  mount -n --bind \"$HAPT_SCRATCH_LOG\" /var/log/dpkg.log && exec \"$@\"' sandbox";
    let wrapper = minion_wrapper(&fleet, "minion-in-aptroot", &env, prefix);
    fleet.start_master();
    fleet.start_minion_with("m1", &wrapper);
    join(&mut fleet);
    let seen = listen(&fleet);
    fleet.step("state.apply pkg (in the throwaway dpkg root)");
    apply_sls(&fleet, "pkg", 1);
    let installed = |root: &aptroot::AptRoot| {
        root.dpkg_query()
            .get("halite-demo-kubelet")
            .is_some_and(|s| s.starts_with("ii"))
    };
    fleet.check(installed(&root), || format!("{:?}", root.dpkg_query()));

    fleet.step("drift: apt-get remove");
    let before = drift_events(&seen).len();
    root.apt_get(&["remove", "halite-demo-kubelet"]);
    let tag = "pkg_|-kubelet_|-halite-demo-kubelet_|-installed";
    wait_repair(
        &mut fleet,
        &seen,
        before,
        tag,
        "the package installed again",
        || {
            if installed(&root) {
                Ok(())
            } else {
                Err(format!(
                    "{:?}",
                    root.dpkg_query().get("halite-demo-kubelet")
                ))
            }
        },
    );
    fleet.check(aptroot::host_fingerprint() == host_before, || {
        "the host's package database changed".into()
    });
    fleet.step("done");
}

/// Debian's etcd (etcd-server).
const ETCD: &str = "/usr/bin/etcd";

/// A single-member etcd on 127.0.0.1, killed on drop.
struct Etcd {
    child: std::process::Child,
    endpoint: String,
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Etcd {
    fn start(dir: &Path) -> Etcd {
        let (client, peer) = harness::free_ports();
        let endpoint = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let log = std::fs::File::create(dir.join("etcd.log")).expect("etcd.log");
        let child = std::process::Command::new(ETCD)
            .arg("--name=n1")
            .arg(format!("--data-dir={}", dir.join("etcd-data").display()))
            .arg(format!("--listen-client-urls={endpoint}"))
            .arg(format!("--advertise-client-urls={endpoint}"))
            .arg(format!("--listen-peer-urls={peer_url}"))
            .arg(format!("--initial-advertise-peer-urls={peer_url}"))
            .arg(format!("--initial-cluster=n1={peer_url}"))
            .stdout(log.try_clone().expect("etcd.log"))
            .stderr(log)
            .spawn()
            .expect("start etcd");
        let etcd = Etcd { child, endpoint };
        let deadline = Instant::now() + STARTUP;
        while etcd.ctl(&["endpoint", "health"]).is_err() {
            assert!(Instant::now() < deadline, "etcd did not come up");
            std::thread::sleep(Duration::from_millis(200));
        }
        etcd
    }

    /// `etcdctl <args>` against this etcd: its stdout, or why it failed.
    fn ctl(&self, args: &[&str]) -> Result<String, String> {
        let out = std::process::Command::new("etcdctl")
            .env("ETCDCTL_API", "3")
            .arg(format!("--endpoints={}", self.endpoint))
            .args(args)
            .output()
            .map_err(|e| format!("etcdctl: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

/// etcd membership has no local file: `etcd.member_absent` is checked every
/// `drift_etcd_check_interval` seconds. A member added behind the state's back (a learner,
/// so the one-member cluster keeps its quorum) is removed again by the re-run state, and
/// the drift event carries the state return with `trigger.via: poll`.
#[test]
fn drift_keeps_etcd_membership() {
    if !Path::new(ETCD).exists() {
        eprintln!("SKIPPED: {ETCD} is missing (apt-get install etcd-server)");
        return;
    }
    let (mut fleet, work) = start("drift_watch: true\ndrift_etcd_check_interval: 1\n");
    let etcd = Etcd::start(&work);
    let ghost = "http://127.0.0.2:2380";
    fleet.write(
        "srv/salt/etcd_member.sls",
        &format!(
            "ghost:\n  etcd.member_absent:\n    - endpoints: [{}]\n    - peer_url: {ghost}\n    - config: {}/no-etcd.env\n",
            etcd.endpoint,
            work.display()
        ),
    );
    let seen = listen(&fleet);
    fleet.step("state.apply etcd_member: the ghost member is absent");
    apply_sls(&fleet, "etcd_member", 1);

    fleet.step("drift: etcdctl member add ghost --learner");
    let before = drift_events(&seen).len();
    let added = etcd.ctl(&[
        "member",
        "add",
        "ghost",
        "--learner",
        &format!("--peer-urls={ghost}"),
    ]);
    fleet.check(added.is_ok(), || format!("etcdctl member add: {added:?}"));
    let tag = "etcd_|-ghost_|-ghost_|-member_absent";
    wait_repair(
        &mut fleet,
        &seen,
        before,
        tag,
        "the ghost member removed again",
        || match etcd.ctl(&["member", "list"]) {
            Ok(list) if !list.contains(ghost) => Ok(()),
            other => Err(format!("member list: {other:?}")),
        },
    );
    let events = drift_events(&seen);
    let via = events[before..]
        .iter()
        .filter_map(|e| e.get("trigger")?.get("via"))
        .map(Value::py_str)
        .collect::<Vec<_>>();
    fleet.check(via.iter().any(|v| v == "poll"), || {
        format!("the repair's trigger is not the poll: {events:?}")
    });
    fleet.check_daemons();
    fleet.step("done");
}
