//! `salt-run state.event` and `salt-run drift.report` on real processes over 127.0.0.1.
//!
//! * [`state_event_lines_as_salt_prints_them`]: a master, `salt-run state.event`
//!   listeners in the background (their own process groups, killed by PID) and a minion
//!   that starts with a pending key (so it signs in again every second, firing
//!   `salt/auth` each time), then gets accepted (`minion_start`,
//!   `salt/minion/<id>/start`). It runs once with Halite's binaries and, when real Salt
//!   3008.5 is installed (`/opt/salt-venv/bin`, or `HALITE_REAL_SALT_BIN_DIR`), once more
//!   with Salt's master, minion, `salt-key` and `salt-run`; both runs must give the same
//!   text once the parts that differ per run (`_stamp`, the key, `ts`, the start date)
//!   are blanked. The expected texts below were taken from real Salt's output.
//! * [`drift_report_reads_stored_repairs`]: repairs stored as Halite's minion stores
//!   them, a `_return` with `jid: "req"` and `fun: "drift.repair"` sent over the
//!   minion's own request channel (`halite_minion::daemon::channel::Channel`, the load
//!   built by `JobReturn::load`, which `Daemon::return_req` sends). Against Halite's
//!   master and against real Salt's master (both store the whole load, `metadata`
//!   included, in the `local_cache` layout) read by Halite's `salt-run`; a bare jid
//!   given to `jobs.lookup_jid` finds its job.
//!
//! Without real Salt the real-Salt halves print why and pass, unless `CI` is set.
//! Deadlines only bound waiting; nothing asserts on timing.

#[path = "common/fleet.rs"]
mod harness;

use halite_core::json::to_json;
use halite_core::{Map, Value};
use halite_minion::daemon::auth::{Keys, SignIn};
use halite_minion::daemon::channel::Channel;
use halite_minion::daemon::JobReturn;
use halite_proto::transport::Keepalive;
use harness::{bin, wait_until, Fleet};
use std::fs::File;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Waiting for daemons to come up and for listeners to see what they wait for. Covers a
/// real salt-master's start on a loaded 2-core machine.
const STARTUP: Duration = Duration::from_secs(180);

/// Where real Salt's executables are by default.
const REAL_SALT_DIR: &str = "/opt/salt-venv/bin";

/// The executables of one implementation.
struct Impl {
    name: &'static str,
    master: PathBuf,
    minion: PathBuf,
    salt_key: PathBuf,
    salt_run: PathBuf,
}

impl Impl {
    fn halite() -> Impl {
        Impl {
            name: "halite",
            master: bin("salt-master"),
            minion: bin("salt-minion"),
            salt_key: bin("salt-key"),
            salt_run: bin("salt-run"),
        }
    }

    /// Real Salt, or `None` (with a message) when it is not installed and `CI` is unset.
    fn real(test: &str) -> Option<Impl> {
        let dir = std::env::var_os("HALITE_REAL_SALT_BIN_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(REAL_SALT_DIR));
        if !dir.join("salt-master").is_file() {
            let msg = format!(
                "{test}: real Salt 3008.5 not found at {}",
                dir.join("salt-master").display()
            );
            assert!(std::env::var_os("CI").is_none(), "{msg}; CI is set");
            eprintln!("SKIPPED the real-Salt half: {msg}");
            return None;
        }
        Some(Impl {
            name: "salt",
            master: dir.join("salt-master"),
            minion: dir.join("salt-minion"),
            salt_key: dir.join("salt-key"),
            salt_run: dir.join("salt-run"),
        })
    }
}

/// A CLI running in the background in its own process group, stdout and stderr in files.
/// Dropping it SIGKILLs its group (only this process's group) and reaps it.
struct Background {
    child: Child,
    cmdline: String,
    out: PathBuf,
    err: PathBuf,
    status: Option<ExitStatus>,
}

impl Background {
    fn spawn(fleet: &Fleet, program: &Path, args: &[&str], label: &str) -> Background {
        let out = fleet.path(&format!("cli/bg-{label}.stdout"));
        let err = fleet.path(&format!("cli/bg-{label}.stderr"));
        let child = Command::new(program)
            .arg("-c")
            .arg(fleet.master_dir())
            .args(args)
            .stdin(Stdio::null())
            .stdout(File::create(&out).expect("create stdout file"))
            .stderr(File::create(&err).expect("create stderr file"))
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()));
        Background {
            child,
            cmdline: format!("{} {}", program.display(), args.join(" ")),
            out,
            err,
            status: None,
        }
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.out).unwrap_or_default()).into_owned()
    }

    fn describe(&self) -> String {
        let err = std::fs::read_to_string(&self.err).unwrap_or_default();
        format!(
            "$ {}\nstatus: {:?}\n--- stdout ---\n{}\n--- stderr (tail) ---\n{}",
            self.cmdline,
            self.status,
            self.stdout(),
            &err[err.len().saturating_sub(3000)..]
        )
    }

    /// Waits until it exits; fails the test (with the fleet's report) after `timeout`.
    fn wait(&mut self, fleet: &Fleet, timeout: Duration) -> ExitStatus {
        let done = wait_until(Instant::now() + timeout, || {
            if self.status.is_none() {
                self.status = self.child.try_wait().expect("wait for a CLI");
            }
            self.status.is_some()
        });
        if !done {
            fleet.fail(&format!(
                "still running after {timeout:?}:\n{}",
                self.describe()
            ));
        }
        self.status.expect("exited")
    }

    /// Waits until its stdout satisfies `cond`.
    fn wait_output(&mut self, fleet: &Fleet, what: &str, cond: impl Fn(&str) -> bool) {
        if !wait_until(Instant::now() + STARTUP, || cond(&self.stdout())) {
            fleet.fail(&format!(
                "no {what} after {STARTUP:?}:\n{}",
                self.describe()
            ));
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if self.status.is_none() {
            // SAFETY: kill(2) on the process group this test spawned (`process_group(0)`
            // makes the child its leader) and has not reaped yet.
            unsafe {
                libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL);
            }
            let _ = self.child.wait();
        }
    }
}

/// `text` with the JSON string value after each `"<key>": "` replaced by `<key>`.
fn blank_string(text: &str, key: &str) -> String {
    let marker = format!("\"{key}\": \"");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&marker) {
        out.push_str(&rest[..at + marker.len()]);
        rest = &rest[at + marker.len()..];
        let mut end = 0;
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        out.push('<');
        out.push_str(key);
        out.push('>');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `text` with the number after each `"<key>": ` replaced by `<key>`.
fn blank_number(text: &str, key: &str) -> String {
    let marker = format!("\"{key}\": ");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&marker) {
        out.push_str(&rest[..at + marker.len()]);
        rest = &rest[at + marker.len()..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        out.push_str(&format!("<{key}>"));
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// What differs from run to run: the stamps, the minion's key, `ts`, the start date.
fn normalize(text: &str) -> String {
    let t = blank_string(text, "_stamp");
    let t = blank_string(&t, "pub");
    let t = blank_string(&t, "data");
    blank_number(&t, "ts")
}

/// The line of `stdout` whose tag is `tag`, normalized.
fn line_of(stdout: &str, tag: &str) -> Option<String> {
    let prefix = format!("{tag}\t");
    stdout
        .lines()
        .find(|l| l.starts_with(&prefix))
        .map(normalize)
}

/// What the listeners printed in one run.
#[derive(Debug, PartialEq)]
struct Seen {
    /// `state.event count=2 pretty=True`.
    pretty_two: String,
    /// `state.event salt/auth count=1 quiet=True`.
    quiet_one: String,
    /// `state.event '*/auth' count=1`.
    glob_one: String,
    /// `state.event '(salt/auth|minion_start|salt/minion/m1/start)'`: its first line
    /// for each tag.
    regex_auth: Option<String>,
    regex_minion_start: Option<String>,
    regex_start: Option<String>,
    /// The raw `data` of `minion_start`.
    start_data: String,
}

/// Runs the scenario with `imp`'s executables; fails the test on a stuck step.
fn scenario(imp: &Impl) -> Seen {
    let mut fleet = Fleet::new("");
    fleet.step(&format!("state.event with {}", imp.name));
    fleet.add_minion("m1", "");
    fleet.start_master_with(&imp.master);
    let bus = fleet.path("master/var/run/salt/master/master_event_pub.ipc");
    fleet.wait_for("the master's event bus", STARTUP, |_| {
        bus.exists()
            .then_some(())
            .ok_or_else(|| format!("{} missing", bus.display()))
    });
    // A pending minion signs in again every `acceptance_wait_time` (1 s), and the master
    // fires `salt/auth` each time: listeners need not be up before it starts.
    let mut pretty = Background::spawn(
        &fleet,
        &imp.salt_run,
        &["state.event", "count=2", "pretty=True"],
        "pretty",
    );
    fleet.start_minion_with("m1", &imp.minion);
    let status = pretty.wait(&fleet, STARTUP);
    fleet.check(status.success(), || pretty.describe());
    // Started after the first listener ended: real Salt's `salt-run` fires
    // `salt/run/<jid>/new|ret`, which a `*` listener would print.
    let mut quiet = Background::spawn(
        &fleet,
        &imp.salt_run,
        &["state.event", "salt/auth", "count=1", "quiet=True"],
        "quiet",
    );
    let mut glob = Background::spawn(
        &fleet,
        &imp.salt_run,
        &["state.event", "*/auth", "count=1"],
        "glob",
    );
    for l in [&mut quiet, &mut glob] {
        let status = l.wait(&fleet, STARTUP);
        fleet.check(status.success(), || l.describe());
    }
    let mut regex = Background::spawn(
        &fleet,
        &imp.salt_run,
        &[
            "state.event",
            "(salt/auth|minion_start|salt/minion/m1/start)",
        ],
        "regex",
    );
    regex.wait_output(&fleet, "salt/auth line", |o| o.contains("salt/auth\t"));
    let out = fleet.run_with(&imp.salt_key, &["-A", "-y"]);
    fleet.check(out.status.success(), || out.to_string());
    regex.wait_output(&fleet, "start events", |o| {
        o.contains("\nminion_start\t") && o.contains("\nsalt/minion/m1/start\t")
    });
    let stdout = regex.stdout();
    let start_data = stdout
        .lines()
        .find(|l| l.starts_with("minion_start\t"))
        .and_then(|l| l.split("\"data\": \"").nth(1))
        .and_then(|d| d.split('"').next())
        .unwrap_or_default()
        .to_string();
    Seen {
        pretty_two: normalize(&pretty.stdout()),
        quiet_one: quiet.stdout(),
        glob_one: normalize(&glob.stdout()),
        regex_auth: line_of(&stdout, "salt/auth"),
        regex_minion_start: line_of(&stdout, "minion_start"),
        regex_start: line_of(&stdout, "salt/minion/m1/start"),
        start_data,
    }
}

/// The pretty `salt/auth` of a pending key, as real Salt 3008.5 prints it.
const PRETTY_AUTH: &str = "salt/auth\t{\n    \"_stamp\": \"<_stamp>\",\n    \"act\": \"pend\",\n    \"id\": \"m1\",\n    \"pub\": \"<pub>\",\n    \"result\": true\n}\n";

/// The one-line `salt/auth` of a pending key.
const LINE_AUTH: &str = "salt/auth\t{\"result\": true, \"act\": \"pend\", \"id\": \"m1\", \"pub\": \"<pub>\", \"_stamp\": \"<_stamp>\"}";

/// The one-line start event under `tag`.
fn start_line(tag: &str) -> String {
    format!(
        "{tag}\t{{\"id\": \"m1\", \"cmd\": \"_minion_event\", \"pretag\": null, \"data\": \"<data>\", \"tag\": \"{tag}\", \"ts\": <ts>, \"_stamp\": \"<_stamp>\"}}"
    )
}

/// What every implementation must print.
fn check(imp: &Impl, seen: &Seen) {
    let who = imp.name;
    assert_eq!(
        seen.pretty_two,
        format!("{PRETTY_AUTH}{PRETTY_AUTH}None\n"),
        "{who}: count=2 pretty=True"
    );
    assert_eq!(seen.quiet_one, "None\n", "{who}: quiet=True");
    assert_eq!(seen.glob_one, format!("{LINE_AUTH}\nNone\n"), "{who}: glob");
    assert_eq!(seen.regex_auth.as_deref(), Some(LINE_AUTH), "{who}: regex");
    assert_eq!(
        seen.regex_minion_start,
        Some(start_line("minion_start")),
        "{who}: minion_start"
    );
    assert_eq!(
        seen.regex_start,
        Some(start_line("salt/minion/m1/start")),
        "{who}: salt/minion/m1/start"
    );
    assert!(
        seen.start_data.starts_with("Minion m1 started at "),
        "{who}: start data {:?}",
        seen.start_data
    );
}

#[test]
fn state_event_lines_as_salt_prints_them() {
    let halite = Impl::halite();
    let seen = scenario(&halite);
    check(&halite, &seen);
    if let Some(real) = Impl::real("state_event_lines_as_salt_prints_them") {
        let salt_seen = scenario(&real);
        check(&real, &salt_seen);
        assert_eq!(
            Seen {
                start_data: String::new(),
                ..seen
            },
            Seen {
                start_data: String::new(),
                ..salt_seen
            }
        );
    }
}

/// A signed-in request channel of minion `id` to the fleet's master, its key accepted
/// with `salt_key`.
fn accepted_channel(fleet: &Fleet, salt_key: &Path, id: &str) -> Channel {
    let keys = Keys::load_or_generate(&fleet.path(&format!("{id}/pki")), 2048).expect("keys");
    let chan = Channel::new(
        &zmq::Context::new(),
        format!("tcp://127.0.0.1:{}", fleet.ret_port),
        id.to_string(),
        keys,
        Duration::from_secs(60),
        Keepalive::default(),
    );
    let signed_in = |want_accepted: bool| {
        wait_until(Instant::now() + STARTUP, || match chan.authenticate() {
            Ok(SignIn::Accepted(_)) => true,
            Ok(SignIn::Pending) => !want_accepted,
            _ => false,
        })
    };
    fleet.check(signed_in(false), || "the master never saw the key".into());
    let out = fleet.run_with(salt_key, &["-a", id, "-y"]);
    fleet.check(out.status.success(), || out.to_string());
    fleet.check(signed_in(true), || "the key was never accepted".into());
    chan
}

fn map_of(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (Value::from(*k), v.clone()))
            .collect::<Map>(),
    )
}

/// The highstate-shaped return of one re-run state.
fn chunk(result: bool, comment: &str, changes: Value, run_num: i64) -> Value {
    map_of(&[
        ("name", "/srv/app.conf".into()),
        ("changes", changes),
        ("result", Value::Bool(result)),
        ("comment", comment.into()),
        ("__sls__", "app".into()),
        ("__run_num__", Value::Int(run_num)),
        ("start_time", "02:12:02.689103".into()),
        ("duration", Value::Float(1.5)),
        ("__id__", "app_conf".into()),
    ])
}

const FILE_TAG: &str = "file_|-app_conf_|-/srv/app.conf_|-managed";
const SERVICE_TAG: &str = "service_|-app_|-app_|-running";

/// A `_return` as the minion's `Daemon::return_req` sends it.
fn stored_return(fun: &str, fun_args: Value, ret: Value, success: bool, trigger: Value) -> Map {
    let mut extra = Map::default();
    if !trigger.is_null() {
        extra.insert("metadata".into(), map_of(&[("drift", trigger)]));
    }
    JobReturn {
        jid: "req".into(),
        fun: fun.into(),
        fun_args,
        ret,
        retcode: if success { 0 } else { 2 },
        success,
        out: "highstate".into(),
        extra,
    }
    .load("m1")
}

/// Sends three returns: a repair, a scheduled `state.apply`, a failed repair. The
/// triggers sent.
fn send_returns(fleet: &Fleet, chan: &Channel) -> (serde_json::Value, serde_json::Value) {
    let trigger = map_of(&[
        ("kind", "file".into()),
        ("path", "/srv/app.conf".into()),
        ("change", "IN_MOVED_TO".into()),
        ("events", Value::Int(3)),
    ]);
    let repaired = map_of(&[
        (
            FILE_TAG,
            chunk(
                true,
                "File /srv/app.conf updated",
                map_of(&[("diff", "--- \n+++ \n@@ -1 +1 @@\n-x\n+y\n".into())]),
                0,
            ),
        ),
        (
            SERVICE_TAG,
            chunk(
                true,
                "Service restarted",
                map_of(&[("app", Value::Bool(true))]),
                1,
            ),
        ),
    ]);
    let fun_args = Value::List(vec![FILE_TAG.into()]);
    let failed_trigger = map_of(&[("kind", "file".into()), ("change", "IN_DELETE".into())]);
    let loads = [
        stored_return(
            "drift.repair",
            fun_args.clone(),
            repaired,
            true,
            trigger.clone(),
        ),
        stored_return(
            "state.apply",
            Value::List(vec![]),
            map_of(&[(FILE_TAG, chunk(true, "ok", map_of(&[]), 0))]),
            true,
            Value::Null,
        ),
        stored_return(
            "drift.repair",
            fun_args,
            map_of(&[(
                FILE_TAG,
                chunk(
                    false,
                    "Source file salt://app.conf not found",
                    map_of(&[]),
                    0,
                ),
            )]),
            false,
            failed_trigger.clone(),
        ),
    ];
    for load in loads {
        if let Err(e) = chan.request(&load) {
            fleet.fail(&format!("sending a _return: {e}"));
        }
        // Jids have microseconds; keep the three apart.
        std::thread::sleep(Duration::from_millis(5));
    }
    (to_json(&trigger), to_json(&failed_trigger))
}

/// `salt-run <args> --out=json`, parsed.
fn run_json(fleet: &Fleet, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--out=json");
    let out = fleet.run("salt-run", &all);
    fleet.check(out.status.success(), || out.to_string());
    out.json()
        .unwrap_or_else(|e| fleet.fail(&format!("{e}\n{out}")))
}

/// Checks `drift.report` on the cache the fleet's master filled (the master keeps a `req`
/// job's whole `_return` load, as Salt's store_job does, so the triggers are there).
fn check_report(fleet: &Fleet, sent: &(serde_json::Value, serde_json::Value)) {
    use serde_json::json;
    let report = run_json(fleet, &["drift.report"]);
    let list = report["m1"].as_array().cloned().unwrap_or_default();
    fleet.check(
        report.as_object().map(|o| o.len()) == Some(1) && list.len() == 2,
        || format!("expected two repairs of m1: {report:#}"),
    );
    let (newest, oldest) = (&list[0], &list[1]);
    let keys: Vec<&String> = newest.as_object().expect("entry").keys().collect();
    assert_eq!(
        keys,
        ["jid", "time", "state", "result", "comment", "changes", "trigger"]
    );
    fleet.check(newest["jid"].as_str() > oldest["jid"].as_str(), || {
        format!("not newest first: {report:#}")
    });
    assert_eq!(newest["state"], json!(FILE_TAG));
    assert_eq!(newest["result"], json!(false));
    assert_eq!(
        newest["comment"],
        json!("Source file salt://app.conf not found")
    );
    assert_eq!(newest["changes"], json!({}));
    assert_eq!(oldest["result"], json!(true));
    assert_eq!(oldest["comment"], json!("File /srv/app.conf updated"));
    assert_eq!(
        oldest["changes"],
        json!({
            FILE_TAG: {"diff": "--- \n+++ \n@@ -1 +1 @@\n-x\n+y\n"},
            SERVICE_TAG: {"app": true},
        })
    );
    let jid = oldest["jid"].as_str().unwrap_or_default();
    let time = oldest["time"].as_str().unwrap_or_default();
    fleet.check(time.starts_with(&format!("{}, ", &jid[..4])), || {
        format!("time {time:?} of jid {jid}")
    });
    for (entry, want) in [(oldest, &sent.0), (newest, &sent.1)] {
        let jid = entry["jid"].as_str().unwrap_or_default();
        assert_eq!(entry["trigger"], *want, "trigger of {jid}");
    }
    // `count` and `minion`.
    let one = run_json(fleet, &["drift.report", "count=1"]);
    assert_eq!(one["m1"].as_array().map(Vec::len), Some(1));
    assert_eq!(one["m1"][0]["jid"], newest["jid"]);
    assert_eq!(run_json(fleet, &["drift.report", "minion=web*"]), json!({}));
    assert_eq!(run_json(fleet, &["drift.report", "1", "m?"]), one);
    // The nested outputter by default.
    let out = fleet.run("salt-run", &["drift.report", "count=1"]);
    fleet.check(
        out.status.success() && out.stdout.starts_with("m1:\n") && out.stdout.contains("IN_DELETE"),
        || out.to_string(),
    );
    // A bad call, as Salt's runners answer one.
    let out = fleet.run("salt-run", &["drift.report", "count=x"]);
    fleet.check(
        out.status.success()
            && out
                .stdout
                .contains("Passed invalid arguments: drift.report(): count must be an integer"),
        || out.to_string(),
    );
    // The repairs are jobs like any other.
    let jobs = run_json(fleet, &["jobs.list_jobs"]);
    let repairs = jobs
        .as_object()
        .map(|o| {
            o.values()
                .filter(|j| j["Function"] == json!("drift.repair"))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(repairs, 2, "{jobs:#}");
    // A bare 20-digit jid, as an operator types it, and quoted.
    for arg in [jid.to_string(), format!("jid='{jid}'")] {
        let looked_up = run_json(fleet, &["jobs.lookup_jid", &arg]);
        assert_eq!(looked_up["m1"][FILE_TAG]["result"], json!(true), "{arg}");
    }
}

fn drift_report_with(imp: &Impl) {
    let mut fleet = Fleet::new("");
    fleet.step(&format!("drift.report, master: {}", imp.name));
    fleet.start_master_with(&imp.master);
    let chan = accepted_channel(&fleet, &imp.salt_key, "m1");
    let sent = send_returns(&fleet, &chan);
    check_report(&fleet, &sent);
}

#[test]
fn drift_report_reads_stored_repairs() {
    // Both masters keep a `req` job's whole load (Salt's store_job): the trigger is there.
    drift_report_with(&Impl::halite());
    if let Some(real) = Impl::real("drift_report_reads_stored_repairs") {
        drift_report_with(&real);
    }
}
