//! Running shell commands the way Salt's `cmd.run_all` does: through the shell with `-c`,
//! the caller's environment plus `env`, `LC_*` reset to `C`, output decoded and right-stripped,
//! `success_retcodes` mapped to 0, `cwd` defaulting to the home directory.

use halite_core::{Error, Map, Result, Value};
use std::process::{Command, Stdio};

/// Options of one command run.
#[derive(Debug, Clone, Default)]
pub struct RunOpts {
    /// Working directory (`None`: `$HOME`, as Salt's `~` of the running user).
    pub cwd: Option<String>,
    /// Shell (`None`: `$SHELL`, else `/bin/sh`).
    pub shell: Option<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Prepended to `PATH`.
    pub prepend_path: Option<String>,
    /// Return codes that count as success (reported as 0).
    pub success_retcodes: Vec<i64>,
    /// Blank `stdout`/`stderr` in the result.
    pub hide_output: bool,
    /// Text fed on standard input.
    pub stdin: Option<String>,
    /// Seconds after which the command (its whole process group) is killed.
    pub timeout: Option<f64>,
    /// `runas`: only the user Halite already runs as is supported.
    pub runas: Option<String>,
}

/// What a command run returns (Salt's `cmd.run_all` dict).
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// The child's pid.
    pub pid: u32,
    /// Exit status (128+signal when killed, as the shell reports).
    pub retcode: i64,
    /// Standard output, right-stripped.
    pub stdout: String,
    /// Standard error, right-stripped.
    pub stderr: String,
    /// The command was killed at its `timeout`.
    pub timed_out: bool,
}

impl RunResult {
    /// As Salt's dict: `pid`, `retcode`, `stdout`, `stderr`.
    pub fn to_map(&self) -> Map {
        let mut m = Map::with_capacity_and_hasher(4, Default::default());
        if self.timed_out {
            // Salt builds this dict in another order when the command timed out.
            m.insert("stdout".into(), self.stdout.clone().into());
            m.insert("stderr".into(), self.stderr.clone().into());
            m.insert("retcode".into(), Value::Int(self.retcode));
            m.insert("pid".into(), Value::Int(i64::from(self.pid)));
            return m;
        }
        m.insert("pid".into(), Value::Int(i64::from(self.pid)));
        m.insert("retcode".into(), Value::Int(self.retcode));
        m.insert("stdout".into(), self.stdout.clone().into());
        m.insert("stderr".into(), self.stderr.clone().into());
        m
    }
}

/// Read Salt's `env` argument: a mapping or a list of one-key mappings.
pub fn env_pairs(env: Option<&Value>) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    match env {
        None | Some(Value::Null) => {}
        Some(Value::Map(m)) => {
            for (k, v) in m {
                out.push((k.py_str(), v.py_str()));
            }
        }
        Some(Value::List(l)) => {
            for item in l {
                if let Value::Map(m) = item {
                    for (k, v) in m {
                        out.push((k.py_str(), v.py_str()));
                    }
                }
            }
        }
        Some(_) => {
            return Err(Error::InvalidArgument(
                "Invalidly-formatted 'env' parameter. See documentation.".into(),
            ))
        }
    }
    Ok(out)
}

/// Read `success_retcodes` (an int, a list, or a comma string).
pub fn retcodes(v: Option<&Value>) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    match v {
        None | Some(Value::Null) => {}
        Some(Value::Int(i)) => out.push(*i),
        Some(Value::List(l)) => {
            for i in l {
                match i {
                    Value::Int(i) => out.push(*i),
                    other => out.push(other.py_str().trim().parse().map_err(|_| {
                        Error::InvalidArgument("success_retcodes must be a list of integers".into())
                    })?),
                }
            }
        }
        Some(other) => {
            for part in other.py_str().split(',') {
                out.push(part.trim().parse().map_err(|_| {
                    Error::InvalidArgument("success_retcodes must be a list of integers".into())
                })?);
            }
        }
    }
    Ok(out)
}

/// Run `cmd` through the shell.
pub fn run_all(cmd: &str, opts: &RunOpts) -> Result<RunResult> {
    if let Some(user) = opts.runas.as_deref().filter(|u| !u.is_empty()) {
        let me = nix::unistd::User::from_uid(nix::unistd::geteuid())
            .ok()
            .flatten()
            .map(|u| u.name);
        if me.as_deref() != Some(user) {
            return Err(Error::CommandExecution(format!(
                "runas '{user}': running a command as another user is not available"
            )));
        }
    }
    let shell = opts
        .shell
        .clone()
        .or_else(|| std::env::var("SHELL").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "/bin/sh".to_string());
    let cwd = opts
        .cwd
        .clone()
        .or_else(|| std::env::var("HOME").ok())
        .unwrap_or_else(|| "/".to_string());
    if !cwd.starts_with('/') || !std::path::Path::new(&cwd).is_dir() {
        return Err(Error::CommandExecution(format!(
            "Specified cwd '{cwd}' either not absolute or does not exist"
        )));
    }
    let mut command = Command::new(&shell);
    command.arg("-c").arg(cmd).current_dir(&cwd);
    for k in [
        "LC_CTYPE",
        "LC_NUMERIC",
        "LC_TIME",
        "LC_COLLATE",
        "LC_MONETARY",
    ] {
        if !opts.env.iter().any(|(e, _)| e == k) {
            command.env(k, "C");
        }
    }
    command.env_remove("NOTIFY_SOCKET");
    for (k, v) in &opts.env {
        command.env(k, v);
    }
    if let Some(p) = &opts.prepend_path {
        let path = std::env::var("PATH").unwrap_or_default();
        command.env("PATH", format!("{p}:{path}"));
    }
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command.stdin(if opts.stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = command
        .spawn()
        .map_err(|e| Error::CommandExecution(format!("Unable to run command '{cmd}' with the context '{{'cwd': '{cwd}', 'shell': True}}', reason: {e}")))?;
    let pid = child.id();
    if let (Some(input), Some(mut stdin)) = (opts.stdin.as_ref(), child.stdin.take()) {
        use std::io::Write;
        let input = input.clone();
        std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
    }
    let out = match opts.timeout.filter(|t| *t > 0.0) {
        Some(secs) => match wait_with_timeout(child, cmd, secs, pid)? {
            Some(out) => out,
            None => {
                let shown = if secs.fract() == 0.0 {
                    format!("{}", secs as i64)
                } else {
                    secs.to_string()
                };
                return Ok(RunResult {
                    pid,
                    retcode: 1,
                    stdout: format!("{cmd} : Timed out after {shown} seconds"),
                    stderr: String::new(),
                    timed_out: true,
                });
            }
        },
        None => child
            .wait_with_output()
            .map_err(|e| Error::CommandExecution(format!("{cmd}: {e}")))?,
    };
    let mut retcode = match out.status.code() {
        Some(c) => i64::from(c),
        None => {
            use std::os::unix::process::ExitStatusExt;
            -i64::from(out.status.signal().unwrap_or(0))
        }
    };
    if opts.success_retcodes.contains(&retcode) {
        retcode = 0;
    }
    let (stdout, stderr) = if opts.hide_output {
        (String::new(), String::new())
    } else {
        (
            String::from_utf8_lossy(&out.stdout).trim_end().to_string(),
            String::from_utf8_lossy(&out.stderr).trim_end().to_string(),
        )
    };
    Ok(RunResult {
        pid,
        retcode,
        stdout,
        stderr,
        timed_out: false,
    })
}

/// Wait for `child` at most `secs` seconds, reading its output meanwhile; past that, kill
/// its process group and return `None`.
fn wait_with_timeout(
    mut child: std::process::Child,
    cmd: &str,
    secs: f64,
    pid: u32,
) -> Result<Option<std::process::Output>> {
    use std::io::Read;
    fn reader<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    }
    let out_t = reader(child.stdout.take());
    let err_t = reader(child.stderr.take());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(secs);
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if std::time::Instant::now() >= deadline => break None,
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(5)),
            Err(e) => return Err(Error::CommandExecution(format!("{cmd}: {e}"))),
        }
    };
    let Some(status) = status else {
        if let Ok(pgid) = i32::try_from(pid) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pgid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = child.wait();
        let _ = (out_t.join(), err_t.join());
        return Ok(None);
    };
    Ok(Some(std::process::Output {
        status,
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
    }))
}

/// Salt's `cmd.retcode` for `unless`/`onlyif`/`check_cmd`: the exit status, ignoring output.
pub fn retcode(cmd: &str, opts: &RunOpts) -> Result<i64> {
    run_all(cmd, opts).map(|r| r.retcode)
}

/// The command options Salt passes to `unless`/`onlyif` commands from the state's arguments.
pub fn opts_from_low(low: &Map) -> Result<RunOpts> {
    let excluded: Vec<String> = match low.get("cmd_opts_exclude") {
        Some(Value::List(l)) => l.iter().map(Value::py_str).collect(),
        Some(v) => vec![v.py_str()],
        None => vec![],
    };
    let get = |k: &str| {
        if excluded.iter().any(|e| e == k) {
            None
        } else {
            low.get(k).filter(|v| !v.is_null())
        }
    };
    Ok(RunOpts {
        cwd: get("cwd").map(Value::py_str),
        shell: get("shell").map(Value::py_str),
        env: env_pairs(get("env"))?,
        prepend_path: get("prepend_path").map(Value::py_str),
        success_retcodes: retcodes(get("success_retcodes"))?,
        hide_output: false,
        stdin: None,
        timeout: get("timeout").and_then(|t| t.py_str().parse().ok()),
        runas: get("runas").map(Value::py_str),
    })
}
