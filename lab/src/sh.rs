//! Running the host tools the lab is made of (`ip`, `nsenter`, `unshare`, `dpkg-deb`, ...),
//! with errors that say which command failed and what it printed.

use std::process::{Command, Output, Stdio};

/// A lab error: what failed, with its cause.
pub type Result<T> = std::result::Result<T, String>;

/// Run `cmd`, wait, and return its stdout; a non-zero exit is an error carrying `what`,
/// the exit status and stderr.
pub fn run(cmd: &mut Command, what: &str) -> Result<String> {
    let out = output(cmd, what)?;
    if !out.status.success() {
        return Err(format!(
            "{what}: {} ({})",
            String::from_utf8_lossy(&out.stderr).trim(),
            out.status
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Run `cmd` with stdin closed and collect its output, whatever its exit status.
pub fn output(cmd: &mut Command, what: &str) -> Result<Output> {
    cmd.stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot run {:?}: {e}", cmd.get_program()))
}

/// Run a bash script (embedded in the lab) with arguments; returns stdout.
pub fn bash(script: &str, args: &[&str], what: &str) -> Result<String> {
    run(
        Command::new("bash")
            .arg("-c")
            .arg(script)
            .arg("lab")
            .args(args),
        what,
    )
}

/// Write `data` to `path`, creating parent directories.
pub fn write(path: &std::path::Path, data: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, data).map_err(|e| format!("{}: {e}", path.display()))
}
