//! Harness for end-to-end tests that run a whole fleet: one `salt-master` and several
//! `salt-minion` daemons on 127.0.0.1, driven through the `salt` / `salt-key` CLIs, all
//! configured the way Salt is (a config dir holding a `master` or `minion` YAML file,
//! passed with `-c`).
//!
//! * Everything lives in one temp dir: `master/master`, `<id>/minion`, `srv/salt`,
//!   `srv/pillar`, `out/`, daemon logs in `logs/<name>.log` (stdout and stderr of every
//!   start of that daemon, appended) and a transcript of every CLI call in `cli.log`
//!   (outputs in `cli/NNN.stdout` / `cli/NNN.stderr`).
//! * Each daemon runs in its own process group. [`Daemon`]'s `Drop` sends SIGTERM to the
//!   daemon, waits a little, then SIGKILLs what is left of *its* group: only processes this
//!   harness started are ever signalled, and a failing test leaves nothing behind.
//! * When a test panics the temp dir is kept (its path is printed); set `HALITE_FLEET_KEEP=1`
//!   to keep it always.
//! * Binaries are the crate's own (`CARGO_BIN_EXE_*`). `HALITE_FLEET_BIN_DIR=/opt/salt-venv/bin`
//!   runs the same scenario against another implementation (e.g. real Salt, to check the
//!   test's own expectations), and `HALITE_FLEET_BIN_<NAME>` (e.g. `HALITE_FLEET_BIN_SALT_MINION`)
//!   overrides a single binary, for mixed fleets. Tests that mix implementations on purpose
//!   (`interop.rs`) pick a binary per daemon or CLI call in code instead:
//!   [`Fleet::start_master_with`], [`Fleet::start_minion_with`], [`Fleet::run_with`].
//! * `HALITE_FLEET_LOG_LEVEL` sets the daemons' `-l` (default `debug`).
#![allow(dead_code)]

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How often polling loops look again.
pub const POLL: Duration = Duration::from_millis(200);
/// Upper bound for one CLI invocation; a CLI that hangs longer fails the test.
const CLI_TIMEOUT: Duration = Duration::from_secs(180);
/// How long a daemon gets to exit after SIGTERM when a test stops it on purpose.
pub const STOP_GRACE: Duration = Duration::from_secs(30);
/// How long a daemon gets to exit after SIGTERM during cleanup.
const CLEANUP_GRACE: Duration = Duration::from_secs(5);
/// Lines of each daemon log shown in a failure message.
const LOG_TAIL_LINES: usize = 60;
/// Characters of a CLI's stdout / stderr shown in a failure message.
const OUTPUT_SHOWN: usize = 8000;

/// The binaries the fleet tests use.
pub const BINARIES: [&str; 4] = ["salt", "salt-master", "salt-minion", "salt-key"];

/// Path of one of the fleet binaries (see the module doc for the overrides).
pub fn bin(name: &str) -> PathBuf {
    let var = format!(
        "HALITE_FLEET_BIN_{}",
        name.to_ascii_uppercase().replace('-', "_")
    );
    if let Some(p) = std::env::var_os(&var).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(dir) = std::env::var_os("HALITE_FLEET_BIN_DIR").filter(|p| !p.is_empty()) {
        return PathBuf::from(dir).join(name);
    }
    PathBuf::from(match name {
        "salt" => env!("CARGO_BIN_EXE_salt"),
        "salt-master" => env!("CARGO_BIN_EXE_salt-master"),
        "salt-minion" => env!("CARGO_BIN_EXE_salt-minion"),
        "salt-key" => env!("CARGO_BIN_EXE_salt-key"),
        "salt-run" => env!("CARGO_BIN_EXE_salt-run"),
        other => panic!("fleet harness: unknown binary {other:?}"),
    })
}

/// Calls `cond` every [`POLL`] until it returns true (→ true) or `deadline` passes (→ false).
/// `cond` is always called at least once.
pub fn wait_until(deadline: Instant, mut cond: impl FnMut() -> bool) -> bool {
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// The login name of the user running the test (Salt's `user:` option must name it, or the
/// daemons would try to switch users).
pub fn current_user() -> String {
    if let Ok(out) = Command::new("id").arg("-un").output() {
        let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && !name.is_empty() {
            return name;
        }
    }
    match std::env::var("USER") {
        Ok(u) if !u.is_empty() => u,
        _ => panic!(
            "fleet harness: cannot tell the current user (`id -un` failed and $USER is unset)"
        ),
    }
}

/// Two distinct free TCP ports on 127.0.0.1 (bound together, so they differ, then released).
pub fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let b = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let ports = (
        a.local_addr().expect("local addr").port(),
        b.local_addr().expect("local addr").port(),
    );
    drop((a, b));
    ports
}

/// A path as a single-quoted YAML scalar.
pub fn yaml_path(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "''"))
}

/// `text` without ANSI colour escapes (`ESC [ ... letter`), for checks on human output.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A stream of concatenated JSON documents (what `--out=json` prints without `--static`).
pub fn json_stream(text: &str) -> Result<Vec<serde_json::Value>, String> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<serde_json::Value>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a stream of JSON documents: {e}"))
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,%+".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

fn clip(text: &str) -> &str {
    if text.len() <= OUTPUT_SHOWN {
        return text;
    }
    let mut end = OUTPUT_SHOWN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn log_tail(path: &Path, lines: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

fn signal(pid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: kill(2) has no memory-safety preconditions. Callers pass the pid (or, negated,
    // the process group) of a child this harness spawned and has not reaped yet, or the group
    // it led; ESRCH (nothing left to signal) is fine and ignored.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// One CLI invocation's result.
pub struct CmdOut {
    /// The command line, shell-quoted, for messages.
    pub cmdline: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl CmdOut {
    /// stdout parsed as one JSON document.
    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_str(&self.stdout)
            .map_err(|e| format!("stdout is not one JSON document: {e}"))
    }

    /// stdout parsed as a JSON object (`--out=json --static`: minion id → return).
    pub fn json_object(&self) -> Result<serde_json::Map<String, serde_json::Value>, String> {
        match self.json()? {
            serde_json::Value::Object(map) => Ok(map),
            other => Err(format!("stdout is JSON but not an object: {other}")),
        }
    }
}

impl std::fmt::Display for CmdOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "$ {}", self.cmdline)?;
        writeln!(f, "exit status: {}", self.status)?;
        writeln!(f, "--- stdout ---\n{}", clip(&self.stdout))?;
        write!(f, "--- stderr ---\n{}", clip(&self.stderr))
    }
}

/// A daemon this harness started, in its own process group.
pub struct Daemon {
    name: String,
    child: Child,
    log: PathBuf,
    exited: Option<ExitStatus>,
    finished: bool,
}

impl Daemon {
    fn spawn(name: &str, program: &Path, confdir: &Path, log: &Path) -> Daemon {
        let level = std::env::var("HALITE_FLEET_LOG_LEVEL").unwrap_or_else(|_| "debug".into());
        let mut out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("open {}: {e}", log.display()));
        writeln!(
            out,
            "===== fleet harness: starting {name}: {} -c {} -l {level} =====",
            program.display(),
            confdir.display()
        )
        .expect("write log");
        let err = out.try_clone().expect("clone log handle");
        let child = Command::new(program)
            .arg("-c")
            .arg(confdir)
            .args(["-l", level.as_str()])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {name} ({}): {e}", program.display()));
        Daemon {
            name: name.to_string(),
            child,
            log: log.to_path_buf(),
            exited: None,
            finished: false,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status)` once the daemon has exited.
    pub fn poll_exit(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().unwrap_or_else(|e| {
                panic!("wait for {} (pid {}): {e}", self.name, self.child.id())
            });
        }
        self.exited
    }

    /// Sends SIGTERM to the daemon itself (not its group) if it is still running.
    fn terminate(&mut self) {
        if !self.finished && self.poll_exit().is_none() {
            signal(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
    }

    /// Waits until `deadline` for the daemon to exit, then SIGKILLs whatever is left of its
    /// process group and reaps it. Returns true when it exited on its own.
    fn finish(&mut self, deadline: Instant) -> bool {
        if self.finished {
            return true;
        }
        let pgid = self.child.id() as libc::pid_t;
        let on_its_own = wait_until(deadline, || self.poll_exit().is_some());
        // Leftover workers of the group, and the daemon itself if it ignored SIGTERM.
        signal(-pgid, libc::SIGKILL);
        if self.exited.is_none() {
            self.exited = Some(
                self.child
                    .wait()
                    .unwrap_or_else(|e| panic!("wait for {} (pid {pgid}): {e}", self.name)),
            );
        }
        self.finished = true;
        on_its_own
    }

    /// SIGTERM, up to `grace` to exit, then SIGKILL of the group. True when it exited on its own.
    pub fn stop(&mut self, grace: Duration) -> bool {
        self.terminate();
        self.finish(Instant::now() + grace)
    }

    fn describe(&self) -> String {
        let state = match (self.exited, self.finished) {
            (_, true) => "stopped".to_string(),
            (Some(status), false) => format!("EXITED: {status}"),
            (None, false) => "running".to_string(),
        };
        format!("{} (pid {}, {state})", self.name, self.child.id())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop(CLEANUP_GRACE);
    }
}

/// A master, its minions, their configs and trees, in one temp dir.
pub struct Fleet {
    tmp: Option<tempfile::TempDir>,
    /// The temp dir everything lives in.
    pub root: PathBuf,
    /// The master's `publish_port` (minions subscribe here).
    pub publish_port: u16,
    /// The master's `ret_port` (auth and returns).
    pub ret_port: u16,
    /// The user name written into every `user:` option.
    pub user: String,
    master: Option<Daemon>,
    minions: BTreeMap<String, Daemon>,
    cli_seq: Cell<usize>,
    started: Instant,
}

impl Fleet {
    /// Creates the temp dir, checks that every binary exists, and writes
    /// `master/master` (`master_extra` is appended verbatim: YAML at top level).
    pub fn new(master_extra: &str) -> Fleet {
        for name in BINARIES {
            let p = bin(name);
            assert!(
                p.is_file(),
                "fleet harness: binary {name} not found at {} (the fleet test needs all of {BINARIES:?})",
                p.display()
            );
        }
        let tmp = tempfile::Builder::new()
            .prefix("halite-fleet.")
            .tempdir()
            .expect("tempdir");
        let root = tmp.path().to_path_buf();
        for d in ["master", "srv/salt", "srv/pillar", "out", "logs", "cli"] {
            fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        let (publish_port, ret_port) = free_ports();
        let user = current_user();
        let fleet = Fleet {
            tmp: Some(tmp),
            root,
            publish_port,
            ret_port,
            user,
            master: None,
            minions: BTreeMap::new(),
            cli_seq: Cell::new(0),
            started: Instant::now(),
        };
        let config = format!(
            "root_dir: {root}\n\
             interface: 127.0.0.1\n\
             publish_port: {publish_port}\n\
             ret_port: {ret_port}\n\
             auto_accept: False\n\
             file_roots:\n  base:\n    - {salt}\n\
             pillar_roots:\n  base:\n    - {pillar}\n\
             user: {user}\n\
             {master_extra}",
            root = yaml_path(&fleet.master_dir()),
            salt = yaml_path(&fleet.path("srv/salt")),
            pillar = yaml_path(&fleet.path("srv/pillar")),
            user = fleet.user,
        );
        fleet.write("master/master", &config);
        eprintln!(
            "[fleet] temp dir {} (publish_port {publish_port}, ret_port {ret_port}, user {})",
            fleet.root.display(),
            fleet.user
        );
        fleet
    }

    /// `root/rel`.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes `root/rel`, creating parent dirs.
    pub fn write(&self, rel: &str, contents: &str) {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(&p, contents).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    }

    /// The master's config dir (what `-c` gets).
    pub fn master_dir(&self) -> PathBuf {
        self.path("master")
    }

    /// A minion's config dir (what `-c` gets).
    pub fn minion_dir(&self, id: &str) -> PathBuf {
        self.path(id)
    }

    /// Writes `<id>/minion` pointing at this fleet's master; `extra` (top-level YAML) is
    /// appended verbatim.
    pub fn add_minion(&self, id: &str, extra: &str) {
        let config = format!(
            "id: {id}\n\
             root_dir: {root}\n\
             master: 127.0.0.1\n\
             master_port: {ret}\n\
             publish_port: {publish}\n\
             acceptance_wait_time: 1\n\
             recon_default: 100\n\
             recon_max: 500\n\
             user: {user}\n\
             {extra}",
            root = yaml_path(&self.minion_dir(id)),
            ret = self.ret_port,
            publish = self.publish_port,
            user = self.user,
        );
        self.write(&format!("{id}/minion"), &config);
    }

    /// Prints a progress line (visible with `--nocapture`).
    pub fn step(&self, what: &str) {
        eprintln!(
            "[fleet +{:>6.1}s] {what}",
            self.started.elapsed().as_secs_f64()
        );
    }

    pub fn start_master(&mut self) {
        self.start_master_with(&bin("salt-master"));
    }

    /// Starts the master from the `salt-master` executable at `program`.
    pub fn start_master_with(&mut self, program: &Path) {
        assert!(self.master.is_none(), "master already started");
        let d = Daemon::spawn(
            "master",
            program,
            &self.master_dir(),
            &self.path("logs/master.log"),
        );
        self.master = Some(d);
    }

    /// Stops the master (SIGTERM, up to [`STOP_GRACE`], then SIGKILL).
    pub fn stop_master(&mut self) {
        let mut d = self.master.take().expect("master not running");
        if !d.stop(STOP_GRACE) {
            eprintln!("[fleet] warning: master ignored SIGTERM for {STOP_GRACE:?}; killed");
        }
    }

    pub fn start_minion(&mut self, id: &str) {
        self.start_minion_with(id, &bin("salt-minion"));
    }

    /// Starts minion `id` from the `salt-minion` executable at `program`.
    pub fn start_minion_with(&mut self, id: &str, program: &Path) {
        assert!(
            !self.minions.contains_key(id),
            "minion {id} already started"
        );
        assert!(
            self.path(&format!("{id}/minion")).is_file(),
            "minion {id} has no config (add_minion first)"
        );
        let d = Daemon::spawn(
            id,
            program,
            &self.minion_dir(id),
            &self.path(&format!("logs/{id}.log")),
        );
        self.minions.insert(id.to_string(), d);
    }

    /// Stops a minion (SIGTERM, up to [`STOP_GRACE`], then SIGKILL).
    pub fn stop_minion(&mut self, id: &str) {
        let mut d = self
            .minions
            .remove(id)
            .unwrap_or_else(|| panic!("minion {id} not running"));
        if !d.stop(STOP_GRACE) {
            eprintln!("[fleet] warning: minion {id} ignored SIGTERM for {STOP_GRACE:?}; killed");
        }
    }

    /// PID of a running minion.
    pub fn minion_pid(&self, id: &str) -> u32 {
        self.minions
            .get(id)
            .unwrap_or_else(|| panic!("minion {id} not running"))
            .pid()
    }

    /// Fails the test if a daemon that should be running has exited.
    pub fn check_daemons(&mut self) {
        let mut dead = Vec::new();
        for d in self.master.iter_mut().chain(self.minions.values_mut()) {
            if let Some(status) = d.poll_exit() {
                dead.push(format!("{} exited: {status}", d.name));
            }
        }
        if !dead.is_empty() {
            self.fail(&format!("daemon died unexpectedly: {}", dead.join("; ")));
        }
    }

    /// Polls `check` until it returns `Ok` (every [`POLL`], at most `timeout`), failing the
    /// test with `check`'s last `Err` and the daemon logs when time runs out or a daemon dies.
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&Fleet) -> Result<(), String>,
    ) {
        let since = Instant::now();
        let mut last = String::from("(not checked)");
        let done = wait_until(since + timeout, || {
            self.check_daemons();
            match check(self) {
                Ok(()) => true,
                Err(e) => {
                    last = e;
                    false
                }
            }
        });
        if !done {
            self.fail(&format!(
                "gave up after {timeout:?} waiting for {what}; last observation:\n{last}"
            ));
        }
        self.step(&format!(
            "  ok after {:.1}s: {what}",
            since.elapsed().as_secs_f64()
        ));
    }

    /// Runs `salt -c <master dir> ARGS`.
    pub fn salt(&self, args: &[&str]) -> CmdOut {
        self.run("salt", args)
    }

    /// Runs `salt-key -c <master dir> ARGS`.
    pub fn salt_key(&self, args: &[&str]) -> CmdOut {
        self.run("salt-key", args)
    }

    /// Runs a CLI with `-c <master dir>` then `args`; stdout and stderr go to files under
    /// `cli/`, and the call is appended to `cli.log`. Fails the test if it runs longer than
    /// [`CLI_TIMEOUT`].
    pub fn run(&self, program: &str, args: &[&str]) -> CmdOut {
        self.run_cli(program, &bin(program), args)
    }

    /// Like [`Fleet::run`], but runs the executable at `program` (e.g. another
    /// implementation's `salt`), still with `-c <master dir>` first.
    pub fn run_with(&self, program: &Path, args: &[&str]) -> CmdOut {
        self.run_cli(&program.display().to_string(), program, args)
    }

    /// Like [`Fleet::run`], but stdout and stderr go to one file, interleaved in the order
    /// they were written (what a shell's `2>&1` captures): the returned `stdout` holds both
    /// and `stderr` is empty.
    pub fn run_merged(&self, program: &str, args: &[&str]) -> CmdOut {
        self.run_cli_io(program, &bin(program), args, true)
    }

    /// `label` names the program in messages and `cli.log`; `path` is what runs.
    fn run_cli(&self, label: &str, path: &Path, args: &[&str]) -> CmdOut {
        self.run_cli_io(label, path, args, false)
    }

    /// [`Fleet::run_cli`]; with `merged`, stderr goes to the stdout file too.
    fn run_cli_io(&self, label: &str, path: &Path, args: &[&str], merged: bool) -> CmdOut {
        let n = self.cli_seq.get() + 1;
        self.cli_seq.set(n);
        let out_path = self.path(&format!("cli/{n:03}.stdout"));
        let err_path = self.path(&format!("cli/{n:03}.stderr"));
        let out_file = File::create(&out_path).expect("create stdout file");
        let err_file = if merged {
            out_file.try_clone().expect("clone stdout file handle")
        } else {
            File::create(&err_path).expect("create stderr file")
        };
        let confdir = self.master_dir();
        let mut cmdline = format!(
            "{} -c {}",
            shell_quote(label),
            shell_quote(&confdir.display().to_string())
        );
        for a in args {
            cmdline.push(' ');
            cmdline.push_str(&shell_quote(a));
        }
        let mut child = Command::new(path)
            .arg("-c")
            .arg(&confdir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out_file)
            .stderr(err_file)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn `{cmdline}`: {e}"));
        let mut status = None;
        wait_until(Instant::now() + CLI_TIMEOUT, || {
            status = child.try_wait().expect("wait for CLI");
            status.is_some()
        });
        let Some(status) = status else {
            signal(-(child.id() as libc::pid_t), libc::SIGKILL);
            let _ = child.wait();
            self.fail(&format!(
                "`{cmdline}` still running after {CLI_TIMEOUT:?}; killed"
            ));
        };
        let read =
            |p: &Path| String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned();
        let out = CmdOut {
            cmdline,
            status,
            stdout: read(&out_path),
            stderr: read(&err_path),
        };
        if let Ok(mut log) = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("cli.log"))
        {
            let _ = writeln!(
                log,
                "[+{:.1}s] #{n:03}\n{}\n",
                self.started.elapsed().as_secs_f64(),
                out
            );
        }
        out
    }

    /// The state of every daemon and the tail of its log.
    pub fn report(&self) -> String {
        let mut r = String::new();
        for d in self.master.iter().chain(self.minions.values()) {
            let _ = writeln!(
                r,
                "----- {}: last {LOG_TAIL_LINES} lines of {} -----\n{}",
                d.describe(),
                d.log.display(),
                log_tail(&d.log, LOG_TAIL_LINES)
            );
        }
        if self.master.is_none() {
            let _ = writeln!(
                r,
                "----- master (not running): last {LOG_TAIL_LINES} lines of its log -----\n{}",
                log_tail(&self.path("logs/master.log"), LOG_TAIL_LINES)
            );
        }
        let _ = write!(
            r,
            "(everything, including cli.log with every CLI call, is kept in {})",
            self.root.display()
        );
        r
    }

    /// Fails the test with `msg` followed by [`Fleet::report`].
    pub fn fail(&self, msg: &str) -> ! {
        panic!("{msg}\n\n{}", self.report())
    }

    /// `cond` or fail with `msg()` and the report.
    pub fn check(&self, cond: bool, msg: impl FnOnce() -> String) {
        if !cond {
            self.fail(&msg());
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        // Minions first, then the master; SIGTERM all at once, one shared grace period.
        let mut all: Vec<Daemon> = std::mem::take(&mut self.minions).into_values().collect();
        all.extend(self.master.take());
        for d in &mut all {
            d.terminate();
        }
        let deadline = Instant::now() + CLEANUP_GRACE;
        for d in &mut all {
            d.finish(deadline);
        }
        let keep = std::thread::panicking()
            || std::env::var_os("HALITE_FLEET_KEEP").is_some_and(|v| !v.is_empty() && v != "0");
        if keep {
            if let Some(tmp) = self.tmp.as_mut() {
                tmp.disable_cleanup(true);
                eprintln!("[fleet] kept {}", self.root.display());
            }
        }
    }
}
