//! Job process files, `<cachedir>/proc/<jid>`: one msgpack map per running job (its
//! publication and `pid`), as Salt writes them. `saltutil.running`, `state.running` and the
//! state queue read them back (Salt's `salt.utils.minion.running`).
//!
//! Salt runs each job in a process of its own and recognises the reader's own job by its
//! PID. Halite's minion runs jobs as threads of one process, so every daemon job carries the
//! daemon's PID: the reader's own job is recognised by its jid instead.

use halite_core::{Map, Value};
use halite_proto::msgpack;
use std::path::{Path, PathBuf};

/// `<cachedir>/proc` of these options.
pub fn proc_dir(opts: &Map) -> PathBuf {
    let cachedir = opts
        .get("cachedir")
        .and_then(Value::as_str)
        .unwrap_or("/var/cache/salt/minion");
    Path::new(cachedir).join("proc")
}

/// A job's proc file; removed when dropped.
#[derive(Debug)]
pub struct ProcFile {
    path: Option<PathBuf>,
}

impl ProcFile {
    /// Write `<cachedir>/proc/<jid>` holding `data` (msgpack), creating the directory.
    /// A jid that cannot name a file gets no proc file (`Ok` with nothing to remove); a
    /// write failure is returned with the path.
    pub fn write(opts: &Map, jid: &str, data: &Map) -> Result<ProcFile, String> {
        if !halite_proto::jid::is_jid(jid) || jid.contains(['/', '\0']) {
            return Ok(ProcFile { path: None });
        }
        let dir = proc_dir(opts);
        let path = dir.join(jid);
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&path, msgpack::encode(&Value::Map(data.clone()))))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(ProcFile { path: Some(path) })
    }

    /// The path written, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

impl Drop for ProcFile {
    fn drop(&mut self) {
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A positive PID held in `v`.
fn pid_of(v: &Value) -> Option<i32> {
    match v {
        Value::Int(p) => i32::try_from(*p).ok().filter(|p| *p > 0),
        _ => None,
    }
}

/// Salt's `salt.utils.process.os_is_running`: does process `pid` exist?
pub fn pid_alive(pid: &Value) -> bool {
    let Some(pid) = pid_of(pid) else {
        return false;
    };
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(e) => e == nix::errno::Errno::EPERM,
    }
}

/// Salt's `_check_cmdline`: on Linux, is `pid` still a Salt (or Halite) process rather than
/// a recycled PID?
fn salt_process(pid: &Value) -> bool {
    if !Path::new("/proc").is_dir() {
        return true;
    }
    let Some(pid) = pid_of(pid) else {
        return false;
    };
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmd) => {
            let has = |w: &[u8]| cmd.windows(w.len()).any(|x| x == w);
            has(b"salt") || has(b"halite")
        }
        Err(_) => false,
    }
}

/// The proc files, decoded: (path, map). Unreadable files are skipped (another job may
/// remove its own at any time); empty ones are removed.
fn entries(opts: &Map) -> Vec<(PathBuf, Map)> {
    let Ok(dir) = std::fs::read_dir(proc_dir(opts)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in dir.flatten() {
        let path = e.path();
        let Ok(buf) = std::fs::read(&path) else {
            continue;
        };
        if buf.is_empty() {
            let _ = std::fs::remove_file(&path);
            continue;
        }
        if let Ok(Value::Map(m)) = msgpack::decode(&buf) {
            out.push((path, m));
        }
    }
    out
}

/// Salt's `salt.utils.minion.running`: the jobs whose process is still alive, apart from
/// the reader's own (`own_jid`). Files of dead or recycled PIDs are removed.
pub fn running(opts: &Map, own_jid: Option<&str>) -> Vec<Map> {
    let mut out = Vec::new();
    for (path, data) in entries(opts) {
        let pid = data.get("pid").cloned().unwrap_or(Value::Null);
        if !pid_alive(&pid) || !salt_process(&pid) {
            let _ = std::fs::remove_file(&path);
            continue;
        }
        let jid = data.get("jid").map(Value::py_str);
        if own_jid.is_some() && jid.as_deref() == own_jid {
            continue;
        }
        out.push(data);
    }
    out
}

/// Salt's `saltutil.is_running`: the running jobs (see [`running`]) whose function matches
/// the glob `fun`.
pub fn is_running(opts: &Map, fun: &str, own_jid: Option<&str>) -> Vec<Map> {
    running(opts, own_jid)
        .into_iter()
        .filter(|d| {
            let f = d.get("fun").map(Value::py_str).unwrap_or_default();
            halite_target::fnmatch(&f, fun)
        })
        .collect()
}

/// Salt's `salt.utils.state.get_active_states`: every running `state.*` job, the reader's
/// own included, without [`running`]'s clean-up.
pub fn active_states(opts: &Map) -> Vec<Map> {
    entries(opts)
        .into_iter()
        .map(|(_, d)| d)
        .filter(|d| d.get("pid").is_some_and(pid_alive))
        .filter(|d| {
            d.get("fun")
                .and_then(Value::as_str)
                .is_some_and(|f| f.starts_with("state."))
        })
        .collect()
}

/// Salt's `salt.utils.jid.jid_to_time`: `2026, Nov 24 01:02:03.456789` for
/// `20261124010203456789`; empty for what is not shaped like a jid.
pub fn jid_to_time(jid: &str) -> String {
    const MONTHS: [&str; 13] = [
        "", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let chars: Vec<char> = jid.chars().collect();
    if chars.len() != 20 && (chars.len() <= 21 || chars[20] != '_') {
        return String::new();
    }
    let part = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    let Some(month) = part(4, 6).parse::<usize>().ok().and_then(|m| MONTHS.get(m)) else {
        return String::new();
    };
    format!(
        "{}, {month} {} {}:{}:{}.{}",
        part(0, 4),
        part(6, 8),
        part(8, 10),
        part(10, 12),
        part(12, 14),
        part(14, 20)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jid_times_as_salt_prints_them() {
        assert_eq!(
            jid_to_time("20261124010203456789"),
            "2026, Nov 24 01:02:03.456789"
        );
        assert_eq!(
            jid_to_time("20260105000000000001_4242"),
            "2026, Jan 05 00:00:00.000001"
        );
        assert_eq!(jid_to_time("req"), "");
        assert_eq!(jid_to_time("2026112401020345678"), "");
        // Salt only looks at the length.
        assert_eq!(
            jid_to_time("2026112401020345678x"),
            "2026, Nov 24 01:02:03.45678x"
        );
    }

    #[test]
    fn running_skips_own_dead_and_foreign() {
        let tmp = tempfile::tempdir().unwrap();
        let mut opts = Map::default();
        opts.insert("cachedir".into(), tmp.path().display().to_string().into());
        let me = Value::Int(i64::from(std::process::id()));
        let job = |jid: &str, fun: &str, pid: Value| {
            let mut m = Map::default();
            m.insert("pid".into(), pid);
            m.insert("fun".into(), fun.into());
            m.insert("jid".into(), jid.into());
            m
        };
        let a = ProcFile::write(
            &opts,
            "20260101000000000001",
            &job("20260101000000000001", "state.apply", me.clone()),
        )
        .unwrap();
        let _b = ProcFile::write(
            &opts,
            "20260101000000000002",
            &job("20260101000000000002", "test.sleep", me.clone()),
        )
        .unwrap();
        let dead = ProcFile::write(
            &opts,
            "20260101000000000003",
            &job(
                "20260101000000000003",
                "state.sls",
                Value::Int(i64::from(i32::MAX)),
            ),
        )
        .unwrap();
        let others = running(&opts, Some("20260101000000000002"));
        // The test binary's own name holds "halite" (halite_minion-…).
        assert_eq!(others.len(), 1, "{others:?}");
        assert_eq!(others[0].get("fun"), Some(&Value::from("state.apply")));
        assert!(
            !dead.path().unwrap().exists(),
            "a dead job's proc file is removed"
        );
        assert_eq!(is_running(&opts, "state.*", None).len(), 1);
        assert_eq!(active_states(&opts).len(), 1);
        let path = a.path().unwrap().to_path_buf();
        drop(a);
        assert!(!path.exists());
    }
}
