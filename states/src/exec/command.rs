//! Running programs as Salt's `cmd.run`/`cmd.run_all` run them with `python_shell=False`:
//! argv (no shell), `LC_*` reset to `C`, standard input closed (or fed), streams merged or
//! apart, optionally as another user; and Salt's `which`. One implementation for every
//! system layer of the state modules.

use halite_core::{Error, Result};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use super::pystr::py_rstrip;

/// Salt's `salt.utils.path.which`: `exe` itself when it names an executable file (relative
/// to the working directory, as Python's `os.path.isfile` sees it), else the first
/// executable `dir/exe` along `PATH` followed by `/sbin`, `/bin`, `/usr/sbin`, `/usr/bin`,
/// `/usr/local/sbin`, `/usr/local/bin` (those not already on `PATH`).
pub fn which(exe: &str) -> Option<String> {
    if exe.is_empty() {
        return None;
    }
    let executable =
        |p: &Path| p.is_file() && nix::unistd::access(p, nix::unistd::AccessFlags::X_OK).is_ok();
    if executable(Path::new(exe)) {
        return Some(exe.to_string());
    }
    let path = std::env::var("PATH").unwrap_or_default();
    let mut dirs: Vec<String> = path.split(':').map(str::to_string).collect();
    for extra in [
        "/sbin",
        "/bin",
        "/usr/sbin",
        "/usr/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
    ] {
        if !dirs.iter().any(|d| d == extra) {
            dirs.push(extra.to_string());
        }
    }
    dirs.iter()
        .map(|d| {
            if d.is_empty() {
                exe.to_string()
            } else if d.ends_with('/') {
                format!("{d}{exe}")
            } else {
                format!("{d}/{exe}")
            }
        })
        .find(|p| executable(Path::new(p)))
}

/// [`which`], or Salt's `_which` error: `Command '{cmd}' cannot be found`.
pub fn which_or_err(cmd: &str) -> Result<String> {
    which(cmd).ok_or_else(|| Error::CommandExecution(format!("Command '{cmd}' cannot be found")))
}

/// What a command gave, as Salt's `cmd.run_all` (both streams right-stripped).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    /// Exit status (-1 when killed by a signal).
    pub retcode: i32,
    /// Standard output (with standard error merged in, for a merged run).
    pub stdout: String,
    /// Standard error (empty for a merged run).
    pub stderr: String,
}

/// The locale variables Salt's `cmd.run*` sets to `C` for every command.
pub const LOCALE_C: [&str; 13] = [
    "LC_CTYPE",
    "LC_NUMERIC",
    "LC_TIME",
    "LC_COLLATE",
    "LC_MONETARY",
    "LC_MESSAGES",
    "LC_PAPER",
    "LC_NAME",
    "LC_ADDRESS",
    "LC_TELEPHONE",
    "LC_MEASUREMENT",
    "LC_IDENTIFICATION",
    "LANGUAGE",
];

/// `argv` as a command in Salt's environment (`LC_*` reset to `C`, no systemd notify
/// socket), with the text used in logs and errors.
fn prepare(argv: &[String]) -> Result<(Command, String)> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| Error::CommandExecution("empty command".into()))?;
    let shown = argv.join(" ");
    let mut command = Command::new(program);
    command.args(args).env_remove("NOTIFY_SOCKET");
    for k in LOCALE_C {
        command.env(k, "C");
    }
    Ok((command, shown))
}

fn failure(shown: &str) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::CommandExecution(format!("Unable to run command '{shown}': {e}"))
}

/// Run `argv` (no shell) in Salt's command environment (`LC_*` reset to `C`), standard
/// input closed. With `merge`, standard error goes to the same pipe as standard output
/// (Salt's `cmd.run`); otherwise they are kept apart (`cmd.run_all`).
pub fn run(argv: &[String], merge: bool) -> Result<Output> {
    if !merge {
        return run_with(argv, None, &[]);
    }
    let (mut command, shown) = prepare(argv)?;
    tracing::debug!(command = %shown, "running");
    let failed = failure(&shown);
    let (mut reader, writer) = std::io::pipe().map_err(&failed)?;
    command
        .stdin(Stdio::null())
        .stdout(writer.try_clone().map_err(&failed)?)
        .stderr(writer);
    let mut child = command.spawn().map_err(&failed)?;
    // The parent's copies of the write end live in `command`: close them so the read
    // below ends when the child exits.
    drop(command);
    let mut buf = Vec::new();
    reader.read_to_end(&mut buf).map_err(&failed)?;
    let status = child.wait().map_err(&failed)?;
    Ok(Output {
        retcode: status.code().unwrap_or(-1),
        stdout: py_rstrip(&String::from_utf8_lossy(&buf)).to_string(),
        stderr: String::new(),
    })
}

/// Run `argv` with extra environment variables and `input` on standard input (closed when
/// `None`), streams apart and right-stripped (Salt's `cmd.run_all` with `stdin=`/`env=`).
pub fn run_with(argv: &[String], input: Option<&str>, env: &[(&str, &str)]) -> Result<Output> {
    let (mut command, shown) = prepare(argv)?;
    tracing::debug!(command = %shown, "running");
    let failed = failure(&shown);
    command
        .envs(env.iter().copied())
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(&failed)?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        use std::io::Write;
        // Small inputs (a selection line, a key): written before the output is read.
        stdin.write_all(text.as_bytes()).map_err(&failed)?;
    }
    let out = child.wait_with_output().map_err(&failed)?;
    let text = |b: &[u8]| py_rstrip(&String::from_utf8_lossy(b)).to_string();
    Ok(Output {
        retcode: out.status.code().unwrap_or(-1),
        stdout: text(&out.stdout),
        stderr: text(&out.stderr),
    })
}

/// What a command gave, both streams as printed (not stripped).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawOutput {
    /// Exit status (-1 when killed by a signal).
    pub retcode: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Run `argv` (no shell) as Salt's `cmd.run_all` does: `LC_*` set to `C`, standard input
/// closed, streams kept apart. With `runas` naming another user than the effective one,
/// the command runs with that user's uid and primary gid and `HOME`/`USER`/`LOGNAME`/
/// `SHELL` from its passwd entry (Salt's `runas`; supplementary groups are dropped).
/// Shared with [`super::crontab`].
pub fn run_as(argv: &[String], runas: Option<&str>) -> Result<RawOutput> {
    let (mut command, shown) = prepare(argv)?;
    tracing::debug!(command = %shown, runas = ?runas, "running");
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(user) = runas.filter(|u| !u.is_empty()) {
        let pw = nix::unistd::User::from_name(user)
            .ok()
            .flatten()
            .ok_or_else(|| Error::CommandExecution(format!("User '{user}' is not available")))?;
        if pw.uid != nix::unistd::geteuid() {
            command
                .uid(pw.uid.as_raw())
                .gid(pw.gid.as_raw())
                .env("HOME", &pw.dir)
                .env("USER", &pw.name)
                .env("LOGNAME", &pw.name)
                .env("SHELL", &pw.shell);
        }
    }
    let out = command.output().map_err(failure(&shown))?;
    Ok(RawOutput {
        retcode: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}
