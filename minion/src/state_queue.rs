//! Salt 3008.5's guard against concurrent state runs (`salt.modules.state._check_queue`,
//! `state.running`, `salt.utils.state`'s queue helpers).
//!
//! A state function first looks for other `state.*` jobs in the proc files:
//!
//! * by default (`queue` unset and the `state_queue` option false) it does not run when it
//!   finds one, and returns one line per such job with retcode 1, unless `concurrent=True`;
//! * with `queue=True` (or `state_queue: True`) and a job before it, it does not wait: it
//!   writes itself to the disk queue `<cachedir>/queues/<master>/state_queue/
//!   queued_<µs>_<jid>.p` and returns `{"result": True, "comment": "Job queued for
//!   execution", "queued": True, "changes": {}, "__no_return__": True}`; the minion daemon
//!   sends no return for that, and later runs the queued job under the same jid (see
//!   [`release_next`]), whose return the master then gets;
//! * with an integer `queue=N` it waits (polling every 0.2 s) for the jobs before it, unless
//!   `N` or more are there already (0: no limit), in which case it falls back to the
//!   conflict check.
//!
//! "Before it": every running `state.*` job, whatever its jid, and every queued job with a
//! smaller jid. All queue checks and changes happen under the queue lock, the file
//! `queues/<master>/queue.lock` created exclusively (Salt's `wait_lock`).

use crate::procfiles::{active_states, is_running, jid_to_time};
use crate::Minion;
use halite_core::{Error, Map, Result, Value};
use halite_proto::msgpack;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Salt's `EX_STATE_COMPILER_ERROR`, the retcode of a run refused for a conflict.
const EX_STATE_COMPILER_ERROR: i64 = 1;
/// How long a state function waits for the queue lock (Salt: a day, i.e. "forever").
const LOCK_WAIT_FUNCTION: Duration = Duration::from_secs(86400);
/// How long the daemon's queue step waits for the lock before trying again later.
const LOCK_WAIT_DAEMON: Duration = Duration::from_secs(5);

/// Salt's `state.running`: one line per other running `state.*` job (the caller's own job,
/// `own_jid`, excluded); nothing with `concurrent`.
pub fn running(opts: &Map, own_jid: Option<&str>, concurrent: bool) -> Vec<String> {
    if concurrent {
        return Vec::new();
    }
    is_running(opts, "state.*", own_jid)
        .iter()
        .map(|d| {
            let field = |k: &str| d.get(k).map(Value::py_str).unwrap_or_else(|| "None".into());
            let jid = field("jid");
            format!(
                "The function \"{}\" is running as PID {} and was started at {} with jid {jid}",
                field("fun"),
                field("pid"),
                jid_to_time(&jid),
            )
        })
        .collect()
}

/// Salt's `_sanitize_master_id`: the `master` option as one path component.
fn master_component(master: Option<&Value>) -> String {
    let text = match master {
        None | Some(Value::Null) => return "_default".into(),
        Some(Value::List(l)) => l.iter().map(Value::py_str).collect::<Vec<_>>().join(","),
        Some(v) => v.py_str(),
    };
    if text.is_empty() {
        return "_default".into();
    }
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `<cachedir>/queues/<master>`, this minion's queues for its master.
pub fn queue_base_dir(opts: &Map) -> PathBuf {
    let cachedir = opts
        .get("cachedir")
        .and_then(Value::as_str)
        .unwrap_or("/var/cache/salt/minion");
    Path::new(cachedir)
        .join("queues")
        .join(master_component(opts.get("master")))
}

/// The state queue: `queued_<µs>_<jid>.p` files.
pub fn state_queue_dir(opts: &Map) -> PathBuf {
    queue_base_dir(opts).join("state_queue")
}

/// The job queue (jobs held back by `process_count_max` in Salt; its queued files count
/// as prior jobs too).
pub fn job_queue_dir(opts: &Map) -> PathBuf {
    queue_base_dir(opts).join("job_queue")
}

/// The queue lock, held while alive.
#[derive(Debug)]
pub struct QueueLock {
    path: PathBuf,
}

impl QueueLock {
    /// Create `queue.lock` exclusively, retrying every 0.1 s for up to `wait`.
    pub fn acquire(opts: &Map, wait: Duration) -> std::result::Result<QueueLock, String> {
        let path = queue_base_dir(opts).join("queue.lock");
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let start = Instant::now();
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => return Ok(QueueLock { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if start.elapsed() >= wait {
                        return Err(format!(
                            "Timeout of {} seconds exceeded waiting for lock_fn {} to be released",
                            wait.as_secs(),
                            path.display()
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => {
                    return Err(format!(
                        "Error encountered obtaining file lock {}: {e}",
                        path.display()
                    ))
                }
            }
        }
    }
}

impl Drop for QueueLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The jid part of a queue file name `queued_<µs>_<jid>.p` (Salt splits on `_`).
fn queued_jid(name: &str) -> Option<&str> {
    let part = name.split('_').nth(2)?;
    Some(part.strip_suffix(".p").unwrap_or(part))
}

/// The `queued_*.p` file names in `dir`.
fn queued_files(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.starts_with("queued_") && n.ends_with(".p"))
        .collect()
}

/// Salt's `check_prior_running_states`: of the `active` jobs and the queued ones (both
/// queues), those that come before job `jid`: every running job (a real PID) and the
/// queued ones (PID 0) with a smaller jid. Without a jid everything comes before.
pub fn prior_running_states(opts: &Map, jid: Option<&str>, mut active: Vec<Map>) -> Vec<Map> {
    for dir in [state_queue_dir(opts), job_queue_dir(opts)] {
        for name in queued_files(&dir) {
            if let Some(j) = queued_jid(&name) {
                let mut m = Map::default();
                m.insert("jid".into(), j.into());
                m.insert("fun".into(), "state.apply".into());
                m.insert("pid".into(), Value::Int(0));
                active.push(m);
            }
        }
    }
    active
        .into_iter()
        .filter(|d| {
            let Some(data_jid) = d.get("jid").filter(|v| !v.is_null()).map(Value::py_str) else {
                return false;
            };
            let Some(jid) = jid else { return true };
            if data_jid == jid {
                return false;
            }
            d.get("pid").is_some_and(Value::is_truthy) || data_jid.as_str() < jid
        })
        .collect()
}

/// The jobs before `jid`, as a state function sees them (its own job excluded).
fn prior(opts: &Map, jid: Option<&str>) -> Vec<Map> {
    prior_running_states(opts, jid, is_running(opts, "state.*", jid))
}

/// What a state function's `queue` argument asks for.
enum Mode {
    /// Refuse to run beside another state job.
    Refuse,
    /// Queue on disk behind the jobs before it.
    Queue,
    /// Wait for the jobs before it, unless this many are there (0: no limit).
    Wait(i64),
}

fn mode(queue: &Value) -> Mode {
    match queue {
        Value::Bool(true) => Mode::Queue,
        Value::Int(n) => Mode::Wait(*n),
        _ => Mode::Refuse,
    }
}

/// Salt's `_check_queue`, the first step of every state function that runs or compiles
/// states: `Ok(None)` to go on; `Ok(Some(ret))` to return `ret` instead (the conflict list,
/// retcode 1, or the "queued" answer). `params` are the function's named parameters, which
/// Salt keeps out of the queued job's `kwarg`.
pub fn check(m: &Arc<Minion>, kwargs: &Map, params: &[&str]) -> Result<Option<Value>> {
    let queue = match kwargs.get("queue") {
        None | Some(Value::Null) => {
            let args = ["state_queue".into(), Value::Bool(false)];
            m.functions()
                .call("config.option", &args, &Map::default())?
        }
        Some(v) => v.clone(),
    };
    let opts = m.opts();
    let jid = m.jid();
    match mode(&queue) {
        Mode::Queue => {
            let _lock = lock(opts, LOCK_WAIT_FUNCTION)?;
            if prior(opts, jid.as_deref()).is_empty() {
                return Ok(None);
            }
            Ok(Some(enqueue(m, jid, kwargs, params)))
        }
        Mode::Wait(max) => {
            set_flag(opts, jid.as_deref())?;
            let waited = wait(opts, jid.clone(), max);
            clear_flag(opts, jid.as_deref());
            if waited? {
                return Ok(None);
            }
            Ok(refuse(m, kwargs))
        }
        Mode::Refuse => Ok(refuse(m, kwargs)),
    }
}

fn lock(opts: &Map, wait: Duration) -> Result<QueueLock> {
    QueueLock::acquire(opts, wait).map_err(Error::CommandExecution)
}

/// The conflict check: the list of other running state jobs, retcode 1; `None` when
/// there is none or `concurrent` is set.
fn refuse(m: &Arc<Minion>, kwargs: &Map) -> Option<Value> {
    let concurrent = kwargs.get("concurrent").is_some_and(Value::is_truthy);
    let lines = running(m.opts(), m.jid().as_deref(), concurrent);
    if lines.is_empty() {
        return None;
    }
    m.retcode.store(EX_STATE_COMPILER_ERROR, Ordering::SeqCst);
    Some(Value::List(lines.into_iter().map(Value::Str).collect()))
}

/// Write this job to the state queue; the answer the function returns instead of running.
fn enqueue(m: &Arc<Minion>, jid: Option<String>, kwargs: &Map, params: &[&str]) -> Value {
    let opts = m.opts();
    let dir = state_queue_dir(opts);
    let _ = std::fs::create_dir_all(&dir);
    let jid = jid.unwrap_or_else(halite_proto::jid::gen_jid);
    let job = m.job();
    let pub_ = |k: &str, default: Value| job.and_then(|j| j.get(k)).cloned().unwrap_or(default);
    let kwarg: Map = kwargs
        .iter()
        .filter(|(k, _)| {
            let k = k.py_str();
            k != "queue" && !params.contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut payload = Map::default();
    payload.insert("fun".into(), pub_("fun", Value::Null));
    payload.insert("arg".into(), pub_("arg", Value::List(vec![])));
    payload.insert("tgt".into(), pub_("tgt", Value::Null));
    payload.insert("jid".into(), jid.clone().into());
    payload.insert("ret".into(), pub_("ret", "".into()));
    payload.insert("user".into(), pub_("user", "root".into()));
    payload.insert("kwarg".into(), Value::Map(kwarg));
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    let path = dir.join(format!("queued_{micros}_{jid}.p"));
    let tmp = dir.join(format!("queued_{micros}_{jid}.p.tmp"));
    let written = if jid.contains(['/', '\0']) {
        Err(std::io::Error::other("the jid cannot name a file"))
    } else {
        std::fs::write(&tmp, msgpack::encode(&Value::Map(payload)))
            .and_then(|()| std::fs::rename(&tmp, &path))
    };
    let mut ret = Map::default();
    match written {
        Ok(()) => {
            ret.insert("result".into(), Value::Bool(true));
            ret.insert("comment".into(), "Job queued for execution".into());
            ret.insert("queued".into(), Value::Bool(true));
            ret.insert("changes".into(), Value::map());
            ret.insert("__no_return__".into(), Value::Bool(true));
        }
        Err(e) => {
            tracing::error!("Failed to write queue file {}: {e}", path.display());
            let _ = std::fs::remove_file(&tmp);
            ret.insert("result".into(), Value::Bool(false));
            ret.insert(
                "comment".into(),
                "Failed to queue job: unable to write queue file".into(),
            );
            ret.insert("changes".into(), Value::map());
        }
    }
    Value::Map(ret)
}

/// Salt's `_set_queue_flag`: `state_queue/<jid>` holding our PID while an integer `queue`
/// waits (not a `queued_` file: it holds nothing back).
fn set_flag(opts: &Map, jid: Option<&str>) -> Result<()> {
    let Some(jid) = jid.filter(|j| !j.contains(['/', '\0'])) else {
        return Ok(());
    };
    let dir = state_queue_dir(opts);
    let _ = std::fs::create_dir_all(&dir);
    let _lock = lock(opts, LOCK_WAIT_FUNCTION)?;
    let path = dir.join(jid);
    std::fs::write(&path, std::process::id().to_string())
        .map_err(|e| Error::io(path.display().to_string(), &e))
}

/// Salt's `_clear_queue_flag`.
fn clear_flag(opts: &Map, jid: Option<&str>) {
    let Some(jid) = jid.filter(|j| !j.contains(['/', '\0'])) else {
        return;
    };
    if let Ok(_lock) = lock(opts, LOCK_WAIT_FUNCTION) {
        let _ = std::fs::remove_file(state_queue_dir(opts).join(jid));
    }
}

/// Salt's `_wait`: true once no job comes before `jid` (polled every 0.2 s); false at once
/// when `max_queue` (non-zero) or more do.
fn wait(opts: &Map, jid: Option<String>, max_queue: i64) -> Result<bool> {
    let jid = jid.unwrap_or_else(halite_proto::jid::gen_jid);
    let count = |opts: &Map| -> Result<usize> {
        let _lock = lock(opts, LOCK_WAIT_FUNCTION)?;
        Ok(prior(opts, Some(&jid)).len())
    };
    let mut n = count(opts)?;
    if max_queue != 0 && i64::try_from(n).unwrap_or(i64::MAX) >= max_queue {
        return Ok(false);
    }
    while n > 0 {
        std::thread::sleep(Duration::from_millis(200));
        n = count(opts)?;
    }
    Ok(true)
}

/// The queue order: by the jid as a number, unparsable ones last.
fn order_key(name: &str) -> (bool, u128) {
    match queued_jid(name).and_then(|j| j.parse::<u128>().ok()) {
        Some(n) => (false, n),
        None => (true, 0),
    }
}

/// One step of the daemon's state queue (Salt's `process_state_queue`, every 0.3 s): the
/// queued job with the smallest jid, once no job comes before it, is handed to `dispatch`
/// under its queued jid and its file removed, all under the queue lock. `dispatch` must have
/// written the job's proc file when it returns (the next step must see it running).
pub fn release_next(opts: &Map, dispatch: impl FnOnce(Map)) {
    let dir = state_queue_dir(opts);
    if !dir.is_dir() {
        return;
    }
    let _lock = match QueueLock::acquire(opts, LOCK_WAIT_DAEMON) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("State queue processing: Unable to acquire queue lock ({e}). Waiting.");
            return;
        }
    };
    let mut files = queued_files(&dir);
    files.sort_by_key(|n| order_key(n));
    let Some(name) = files.first() else { return };
    let candidate = queued_jid(name)
        .and_then(|j| j.parse::<u128>().ok())
        .map(|n| n.to_string());
    let blocking = prior_running_states(opts, candidate.as_deref(), active_states(opts));
    if !blocking.is_empty() {
        let jids: Vec<String> = blocking
            .iter()
            .map(|j| j.get("jid").map(Value::py_str).unwrap_or_default())
            .collect();
        tracing::debug!(
            "State queue processing: candidate job {} is blocked by active jobs: {jids:?}. Waiting.",
            candidate.as_deref().unwrap_or("None")
        );
        return;
    }
    let path = dir.join(name);
    let data = match std::fs::read(&path).map(|b| msgpack::decode(&b)) {
        Ok(Ok(Value::Map(m))) => m,
        Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
            tracing::error!("State queue processing: Too many open files, cannot read queued job {name}. Waiting.");
            return;
        }
        _ => {
            tracing::error!("Failed to load queued job {name}, removing.");
            let _ = std::fs::remove_file(&path);
            return;
        }
    };
    let mut data = data;
    if let Some(j) = queued_jid(name).filter(|j| j.parse::<u128>().is_ok()) {
        data.insert("jid".into(), j.into());
    }
    let jid = data.get("jid").map(Value::py_str).unwrap_or_default();
    tracing::info!("Popping queued job {jid} from the queue for execution");
    dispatch(data);
    let _ = std::fs::remove_file(&path);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(dir: &Path) -> Map {
        let mut o = Map::default();
        o.insert("cachedir".into(), dir.display().to_string().into());
        o.insert("master".into(), "127.0.0.1:4506".into());
        o
    }

    fn job(jid: &str, pid: i64) -> Map {
        let mut m = Map::default();
        m.insert("jid".into(), jid.into());
        m.insert("fun".into(), "state.apply".into());
        m.insert("pid".into(), Value::Int(pid));
        m
    }

    #[test]
    fn queue_dirs_per_master() {
        let o = opts(Path::new("/c"));
        assert_eq!(
            state_queue_dir(&o),
            PathBuf::from("/c/queues/127.0.0.1_4506/state_queue")
        );
        assert_eq!(master_component(None), "_default");
    }

    #[test]
    fn prior_jobs_are_running_ones_and_older_queued_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let o = opts(tmp.path());
        let q = state_queue_dir(&o);
        std::fs::create_dir_all(&q).unwrap();
        std::fs::write(q.join("queued_1_20260101000000000005.p"), b"").unwrap();
        std::fs::write(q.join("queued_2_20260101000000000009.p"), b"").unwrap();
        let active = vec![
            job("20260101000000000099", 42),
            job("20260101000000000007", 42),
        ];
        let jids = |v: Vec<Map>| -> Vec<String> {
            v.iter().map(|d| d.get("jid").unwrap().py_str()).collect()
        };
        // A running job blocks whatever its jid; a queued one only when it is older.
        assert_eq!(
            jids(prior_running_states(
                &o,
                Some("20260101000000000007"),
                active.clone()
            )),
            ["20260101000000000099", "20260101000000000005"]
        );
        assert_eq!(prior_running_states(&o, None, active).len(), 4);
    }

    #[test]
    fn lock_is_exclusive() {
        let tmp = tempfile::tempdir().unwrap();
        let o = opts(tmp.path());
        let held = QueueLock::acquire(&o, Duration::ZERO).unwrap();
        assert!(QueueLock::acquire(&o, Duration::from_millis(150)).is_err());
        drop(held);
        assert!(QueueLock::acquire(&o, Duration::ZERO).is_ok());
    }

    #[test]
    fn releases_the_oldest_jid_when_nothing_runs() {
        let tmp = tempfile::tempdir().unwrap();
        let o = opts(tmp.path());
        let q = state_queue_dir(&o);
        std::fs::create_dir_all(&q).unwrap();
        let mut payload = Map::default();
        payload.insert("fun".into(), "state.apply".into());
        payload.insert("jid".into(), "x".into());
        let bytes = msgpack::encode(&Value::Map(payload));
        std::fs::write(q.join("queued_9_20260101000000000002.p"), &bytes).unwrap();
        std::fs::write(q.join("queued_1_20260101000000000003.p"), &bytes).unwrap();
        let mut got = Vec::new();
        release_next(&o, |d| got.push(d.get("jid").unwrap().py_str()));
        assert_eq!(got, ["20260101000000000002"]);
        assert_eq!(queued_files(&q), ["queued_1_20260101000000000003.p"]);
    }
}
