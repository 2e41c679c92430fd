//! Packages: dpkg's status database (`$DPKG_ADMINDIR/status`, else
//! `/var/lib/dpkg/status`), watched through the inotify watch of its directory (dpkg
//! renames `status-new` over it: `IN_MOVED_TO`). A probe reads a package's entry; nothing
//! is probed while dpkg or apt hold their locks, so an administrator's `apt-get` is never
//! raced.

use super::fingerprint::{Fingerprint, PackageEntry};
use halite_states::exec::{apt, dpkg};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The status file the packages' watch is placed on.
pub fn status_file() -> PathBuf {
    apt::admindir().join("status")
}

/// Is one of dpkg's locks (`lock-frontend`, `lock`) held by a process?
pub fn locked() -> bool {
    let dir = apt::admindir();
    ["lock-frontend", "lock"]
        .iter()
        .any(|name| lock_held(&dir.join(name)))
}

/// Does some process hold a write lock on `path` (`fcntl(F_GETLK)`)? A lock file that does
/// not exist or cannot be opened is not held.
fn lock_held(path: &std::path::Path) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(f) = std::fs::OpenOptions::new().read(true).open(path) else {
        return false;
    };
    // SAFETY: `flock` is plain data; F_GETLK only writes into the struct we pass, and the
    // descriptor is valid for the call.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = libc::F_WRLCK as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    let rc = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GETLK, &mut fl) };
    rc == 0 && fl.l_type != libc::F_UNLCK as libc::c_short
}

/// One read of the status database, shared by the probes of one round.
#[derive(Default)]
pub struct StatusDb {
    db: Option<BTreeMap<String, dpkg::PackageStatus>>,
}

impl StatusDb {
    /// The fingerprint of `name`: its status entry, or none.
    pub fn probe(&mut self, name: &str) -> Result<Fingerprint, String> {
        if self.db.is_none() {
            let path = status_file();
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            self.db = Some(dpkg::parse_status(&text, apt::native_arch()));
        }
        let entry = self.db.as_ref().and_then(|db| db.get(name));
        Ok(Fingerprint::Package(entry.map(|p| PackageEntry {
            version: p.version.clone(),
            status: [p.want.clone(), p.flag.clone(), p.state.clone()],
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_is_seen_only_while_held() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        assert!(!lock_held(&p), "missing file");
        std::fs::write(&p, "").unwrap();
        assert!(!lock_held(&p));
        // A POSIX lock of another process (F_GETLK does not report our own), as dpkg
        // and apt take them.
        let py = std::process::Command::new("python3")
            .arg("-c")
            .arg(
                "import fcntl,sys,time\nf=open(sys.argv[1],'r+')\nfcntl.lockf(f,fcntl.LOCK_EX)\nprint('locked',flush=True)\ntime.sleep(30)",
            )
            .arg(&p)
            .stdout(std::process::Stdio::piped())
            .spawn();
        let Ok(mut py) = py else {
            eprintln!("python3 not available: skipped");
            return;
        };
        let mut line = String::new();
        if let Some(out) = py.stdout.take() {
            use std::io::BufRead;
            let _ = std::io::BufReader::new(out).read_line(&mut line);
        }
        let held = lock_held(&p);
        let _ = py.kill();
        let _ = py.wait();
        assert_eq!(line.trim(), "locked");
        assert!(held, "a POSIX lock of another process");
        assert!(!lock_held(&p));
    }
}
