//! Concurrent state runs on a real fleet (a `salt-master` and one `salt-minion` on
//! 127.0.0.1), as Salt 3008.5 handles them. The state `slow` appends `<shell pid> start
//! <time>` to a log, sleeps 5 s, then appends `<shell pid> end <time>`, so the log tells
//! which runs overlapped. While one `state.apply slow` (published with `--async`) runs:
//!
//! 1. a second `state.apply slow` does not run: it answers one line per running state job,
//!    `The function "state.apply" is running as PID <pid> and was started at <jid as time>
//!    with jid <jid>` (printed under `Data failed to compile:`), with exit status 1; and
//!    `state.running` returns the same line;
//! 2. with `queue=True` it is queued on the minion's disk and runs (under the jid the
//!    master gave it, whose return the CLI waits for) once the first run has ended;
//! 3. with `concurrent=True` it runs at once, beside the first;
//! 4. `salt-call --local` on the minion's host sees the daemon's job too (same answer,
//!    under `local:`); with `queue=True` it prints Salt's empty summary for the "queued"
//!    answer, and the daemon later runs the queued job (a highstate, as Salt's does: a
//!    `salt-call` job carries no arguments) after the first run.
//!
//! `HALITE_FLEET_BIN_DIR=/opt/salt-venv/bin` runs the same test against real Salt (its
//! `salt-call` too). Deadlines only bound waiting.

#[path = "common/fleet.rs"]
mod harness;

use halite_core::Value;
use harness::{strip_ansi, wait_until, CmdOut, Fleet};
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Waiting for the fleet to come up.
const STARTUP: Duration = Duration::from_secs(90);
/// Waiting for a job's proc file, or for a queued run to finish.
const JOB_WAIT: Duration = Duration::from_secs(60);

/// The `salt-call` the test runs (the fleet's, or the one in `HALITE_FLEET_BIN_DIR`).
fn salt_call_bin() -> PathBuf {
    match std::env::var_os("HALITE_FLEET_BIN_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("salt-call"),
        None => PathBuf::from(env!("CARGO_BIN_EXE_salt-call")),
    }
}

/// `salt-call -c <m1 dir> --local ARGS`, killed (its own process group) after 120 s.
fn salt_call(fleet: &Fleet, args: &[&str]) -> CmdOut {
    let dir = fleet.minion_dir("m1");
    let out_path = fleet.path("cli/salt-call.stdout");
    let err_path = fleet.path("cli/salt-call.stderr");
    let mut child = Command::new(salt_call_bin())
        .arg("-c")
        .arg(&dir)
        .arg("--local")
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .process_group(0)
        .spawn()
        .expect("spawn salt-call");
    let mut status = None;
    wait_until(Instant::now() + Duration::from_secs(120), || {
        status = child.try_wait().expect("wait for salt-call");
        status.is_some()
    });
    let Some(status) = status else {
        // SAFETY: kill(2) on the process group this test started and has not reaped.
        unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
        let _ = child.wait();
        fleet.fail(&format!(
            "salt-call {args:?} still running after 120 s; killed"
        ));
    };
    let read = |p: &PathBuf| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
    CmdOut {
        cmdline: format!("salt-call -c {} --local {}", dir.display(), args.join(" ")),
        status,
        stdout: read(&out_path),
        stderr: read(&err_path),
    }
}

/// Salt's `jid_to_time`: `20261124010203456789` → `2026, Nov 24 01:02:03.456789`.
fn jid_to_time(jid: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month: usize = jid[4..6].parse().unwrap();
    format!(
        "{}, {} {} {}:{}:{}.{}",
        &jid[0..4],
        MONTHS[month - 1],
        &jid[6..8],
        &jid[8..10],
        &jid[10..12],
        &jid[12..14],
        &jid[14..20]
    )
}

/// The line Salt gives for a running `state.apply` job.
fn conflict_line(pid: i64, jid: &str) -> String {
    format!(
        "The function \"state.apply\" is running as PID {pid} and was started at {} with jid {jid}",
        jid_to_time(jid)
    )
}

/// One run of `slow`, read back from its log: the shell's pid, start and end times.
#[derive(Debug, Clone, PartialEq)]
struct Run {
    id: String,
    start: f64,
    end: Option<f64>,
}

fn runs(fleet: &Fleet) -> Vec<Run> {
    let text = std::fs::read_to_string(fleet.path("out/slow.log")).unwrap_or_default();
    let mut out: Vec<Run> = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [id, what, t] = f[..] else { continue };
        let t: f64 = t.parse().unwrap_or(0.0);
        match what {
            "start" => out.push(Run {
                id: id.to_string(),
                start: t,
                end: None,
            }),
            _ => {
                if let Some(r) = out.iter_mut().find(|r| r.id == id) {
                    r.end = Some(t);
                }
            }
        }
    }
    out
}

/// The proc file of `jid` on m1, once it exists: the job's PID.
fn wait_running(fleet: &mut Fleet, jid: &str) -> i64 {
    let path = fleet.path("m1/var/cache/salt/minion/proc").join(jid);
    let mut pid = None;
    fleet.wait_for(&format!("the proc file of {jid}"), JOB_WAIT, |_| {
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let v = halite_proto::msgpack::decode(&bytes).map_err(|e| e.to_string())?;
        pid = v.get("pid").and_then(Value::as_int);
        pid.map(|_| ()).ok_or_else(|| format!("no pid in {v:?}"))
    });
    pid.unwrap()
}

/// `salt m1 state.apply slow --async`; waits for the job to run: (jid, PID).
fn start_slow(fleet: &mut Fleet) -> (String, i64) {
    let before = runs(fleet).len();
    let out = fleet.salt(&["m1", "state.apply", "slow", "--async"]);
    let jid = out
        .stdout
        .trim()
        .strip_prefix("Executed command with job ID: ")
        .map(str::to_string);
    let Some(jid) = jid.filter(|j| j.len() == 20) else {
        fleet.fail(&format!("no job id printed\n{out}"));
    };
    let pid = wait_running(fleet, &jid);
    fleet.wait_for("the first run to start", JOB_WAIT, |f| {
        if runs(f).len() > before {
            Ok(())
        } else {
            Err(format!("runs: {:?}", runs(f)))
        }
    });
    (jid, pid)
}

/// Waits until every run in the log has ended.
fn wait_all_ended(fleet: &mut Fleet) {
    fleet.wait_for("every run of slow to end", JOB_WAIT, |f| {
        let r = runs(f);
        if r.iter().all(|r| r.end.is_some()) {
            Ok(())
        } else {
            Err(format!("runs: {r:?}"))
        }
    });
}

/// Fails unless the job `jid` is still running (its proc file is there): an answer seen
/// after it ended would not test anything.
fn still_running(fleet: &Fleet, jid: &str, what: &str) {
    let path = fleet.path("m1/var/cache/salt/minion/proc").join(jid);
    fleet.check(path.exists(), || {
        format!("the first run ended before {what} was checked (slow machine?)")
    });
}

/// `--out=json --static` of a successful `state.apply slow`: its one state succeeded.
fn succeeded(fleet: &Fleet, out: &CmdOut) {
    let ok = out.status.success()
        && out.json_object().is_ok_and(|m| {
            m.get("m1").and_then(|r| r.as_object()).is_some_and(|r| {
                r.len() == 1
                    && r.iter()
                        .all(|(k, v)| k.starts_with("cmd_|-slow_|-") && v["result"] == true)
            })
        });
    fleet.check(ok, || format!("expected a successful run of slow\n{out}"));
}

#[test]
fn concurrent_state_runs() {
    let mut fleet = Fleet::new("");
    let log = fleet.path("out/slow.log");
    fleet.write(
        "srv/salt/slow.sls",
        &format!(
            "slow:\n  cmd.run:\n    - name: 'echo \"$$ start $(date +%s.%N)\" >> {log}; sleep 5; echo \"$$ end $(date +%s.%N)\" >> {log}'\n",
            log = log.display()
        ),
    );
    fleet.write("srv/salt/top.sls", "base:\n  '*':\n    - slow\n");
    fleet.add_minion(
        "m1",
        &format!(
            "file_roots:\n  base:\n    - '{}'\n",
            fleet.path("srv/salt").display()
        ),
    );
    fleet.start_master();
    fleet.start_minion("m1");
    fleet.wait_for("m1's key to be pending, then accepted", STARTUP, |f| {
        let out = f.salt_key(&["-a", "m1", "-y"]);
        let listed = f.salt_key(&["-L", "--out=json"]);
        let accepted = listed
            .json_object()
            .ok()
            .and_then(|m| m.get("minions").cloned())
            .is_some_and(|v| v == serde_json::json!(["m1"]));
        if accepted {
            Ok(())
        } else {
            Err(format!("{out}\n{listed}"))
        }
    });
    fleet.wait_for("m1 to answer test.ping", STARTUP, |f| {
        let out = f.salt(&["m1", "test.ping", "--out=json", "--static", "-t", "10"]);
        match out.json_object() {
            Ok(m) if m.get("m1") == Some(&serde_json::Value::Bool(true)) => Ok(()),
            _ => Err(out.to_string()),
        }
    });

    fleet.step("1. a second state.apply is refused while the first runs");
    let (jid, pid) = start_slow(&mut fleet);
    let line = conflict_line(pid, &jid);
    let out = fleet.salt(&["m1", "state.apply", "slow"]);
    still_running(&fleet, &jid, "the refusal");
    let want = format!("m1:\n    Data failed to compile:\n----------\n    {line}\n");
    fleet.check(
        strip_ansi(&out.stdout) == want && out.status.code() == Some(1),
        || format!("expected exit status 1 and exactly:\n{want}\n{out}"),
    );
    fleet.check(
        out.stderr
            .contains("ERROR: Minions returned with non-zero exit code"),
        || format!("expected Salt's retcode error on stderr\n{out}"),
    );
    let out = fleet.salt(&["m1", "state.running", "--out=json", "--static"]);
    still_running(&fleet, &jid, "state.running");
    fleet.check(
        out.json().ok() == Some(serde_json::json!({ "m1": [line] })) && out.status.success(),
        || format!("state.running should list the first run: {line}\n{out}"),
    );
    wait_all_ended(&mut fleet);
    fleet.check(runs(&fleet).len() == 1, || {
        format!("the refused run ran: {:?}", runs(&fleet))
    });

    fleet.step("2. queue=True waits for the first run, then runs");
    start_slow(&mut fleet);
    let out = fleet.salt(&[
        "m1",
        "state.apply",
        "slow",
        "queue=True",
        "--out=json",
        "--static",
        "-t",
        "60",
    ]);
    succeeded(&fleet, &out);
    let r = runs(&fleet);
    fleet.check(
        r.len() == 3 && r[2].start >= r[1].end.unwrap_or(f64::MAX),
        || format!("the queued run should start after the first ended: {r:?}\n{out}"),
    );

    fleet.step("3. concurrent=True runs at once");
    start_slow(&mut fleet);
    let out = fleet.salt(&[
        "m1",
        "state.apply",
        "slow",
        "concurrent=True",
        "--out=json",
        "--static",
    ]);
    succeeded(&fleet, &out);
    wait_all_ended(&mut fleet);
    let r = runs(&fleet);
    fleet.check(r.len() == 5 && r[4].start < r[3].end.unwrap_or(0.0), || {
        format!("the concurrent run should overlap the first: {r:?}\n{out}")
    });

    fleet.step("4. salt-call --local sees the daemon's run, and queues behind it");
    let (jid, pid) = start_slow(&mut fleet);
    let out = salt_call(&fleet, &["state.apply", "slow"]);
    still_running(&fleet, &jid, "salt-call's refusal");
    let want = format!(
        "local:\n    Data failed to compile:\n----------\n    {}\n",
        conflict_line(pid, &jid)
    );
    fleet.check(
        strip_ansi(&out.stdout) == want && out.status.code() == Some(1),
        || format!("expected exit status 1 and exactly:\n{want}\n{out}"),
    );
    let out = salt_call(&fleet, &["state.apply", "slow", "queue=True"]);
    let want = "local:\n\nSummary for local\n-----------\nSucceeded: 0\nFailed:   0\n-----------\nTotal states run:    0\nTotal run time:  0.000 ms\n";
    fleet.check(
        strip_ansi(&out.stdout) == want && out.status.success(),
        || format!("expected exit status 0 and exactly:\n{want}\n{out}"),
    );
    fleet.wait_for("the daemon to run salt-call's queued job", JOB_WAIT, |f| {
        let r = runs(f);
        if r.len() == 7 && r.iter().all(|r| r.end.is_some()) {
            Ok(())
        } else {
            Err(format!("runs: {r:?}"))
        }
    });
    let r = runs(&fleet);
    fleet.check(r[6].start >= r[5].end.unwrap_or(f64::MAX), || {
        format!("the queued salt-call job should start after the daemon's run: {r:?}")
    });
    let queue = fleet.path("m1/var/cache/salt/minion/queues/127.0.0.1/state_queue");
    fleet.wait_for("the state queue to be empty", JOB_WAIT, |_| {
        let left: Vec<_> = std::fs::read_dir(&queue)
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!("left in {}: {left:?}", queue.display()))
        }
    });
    fleet.step("all steps passed");
}
