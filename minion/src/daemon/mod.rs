//! `salt-minion`: sign in to the master (waiting while the key is pending), subscribe to
//! its publications, run the jobs that target this minion (each on its own thread; a panic
//! is a failed return), return the results, and run the `schedule:` and `startup_states`.

pub mod auth;
pub mod channel;
pub mod jobs;
pub mod remote;
pub mod schedule;

use auth::{Keys, SignIn};
use channel::Channel;
use halite_core::config::MinionConfig;
use halite_core::{Map, Value};
use halite_proto::envelope::map;
use halite_proto::transport::{tcp_endpoint, Keepalive, Subscriber};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The running minion.
pub struct Daemon {
    /// The configuration.
    pub cfg: MinionConfig,
    /// The channel to the master.
    pub chan: Arc<Channel>,
    /// Grains, computed once at start.
    pub grains: Value,
    /// The last pillar the master compiled for this minion.
    pub pillar: RwLock<Value>,
    seen: Mutex<VecDeque<String>>,
    /// `<cachedir>/proc`: one file per running job.
    pub procdir: PathBuf,
    /// The drift engine (`drift_watch: true` only; `None` leaves the minion as Salt's).
    pub drift: Option<Arc<crate::drift::Drift>>,
}

fn opt_int(cfg: &MinionConfig, key: &str, default: i64) -> i64 {
    match cfg.opts.get(key) {
        Some(Value::Int(i)) => *i,
        Some(Value::Float(f)) => *f as i64,
        Some(Value::Str(s)) => s.trim().parse().unwrap_or(default),
        _ => default,
    }
}

/// A port option, refused when it is not one.
fn port(cfg: &MinionConfig, key: &str, default: i64) -> Result<u16, String> {
    let v = opt_int(cfg, key, default);
    u16::try_from(v)
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("{key}: {v} is not a valid port"))
}

fn keepalive(cfg: &MinionConfig) -> Keepalive {
    Keepalive {
        enabled: cfg.opts.get("tcp_keepalive").is_none_or(Value::is_truthy),
        idle: opt_int(cfg, "tcp_keepalive_idle", 300) as i32,
        cnt: opt_int(cfg, "tcp_keepalive_cnt", -1) as i32,
        intvl: opt_int(cfg, "tcp_keepalive_intvl", -1) as i32,
    }
}

impl Daemon {
    /// Fetch this minion's pillar from the master (with call-time `pillar=` data).
    pub fn fetch_pillar(
        &self,
        over: Option<&Map>,
        pillarenv: Option<&Value>,
    ) -> Result<Value, String> {
        let mut load = map([
            ("cmd", "_pillar".into()),
            ("id", self.chan.id.clone().into()),
            ("grains", self.grains.clone()),
            (
                "saltenv",
                self.cfg.opts.get("saltenv").cloned().unwrap_or(Value::Null),
            ),
            (
                "pillarenv",
                pillarenv
                    .cloned()
                    .or_else(|| self.cfg.opts.get("pillarenv").cloned())
                    .unwrap_or(Value::Null),
            ),
            ("ver", "2".into()),
        ]);
        load.insert(
            "pillar_override".into(),
            Value::Map(over.cloned().unwrap_or_default()),
        );
        load.insert("extra_minion_data".into(), Value::Map(Map::default()));
        self.chan.request(&load).map_err(|e| e.to_string())
    }

    /// Fetch the pillar again and keep it for targeting.
    pub fn refresh_pillar(&self) -> Result<(), String> {
        let p = self.fetch_pillar(None, None)?;
        *self.pillar.write().unwrap_or_else(|p| p.into_inner()) = p;
        Ok(())
    }

    /// Has this jid been seen (Salt's `jid_queue`, the last 100)?
    fn first_time(&self, jid: &str) -> bool {
        let mut q = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if q.iter().any(|j| j == jid) {
            return false;
        }
        q.push_back(jid.to_string());
        while q.len() > 100 {
            q.pop_front();
        }
        true
    }

    /// Fire an event to the master (`_minion_event`).
    pub fn fire_master(&self, tag: &str, data: Value) {
        let mut load = event_head(&self.chan.id);
        load.insert("data".into(), data);
        load.insert("tag".into(), tag.into());
        if let Err(e) = self.chan.request(&load) {
            tracing::warn!(tag, "could not fire an event to the master: {e}");
        }
    }

    /// Fire a batch of events to the master in one `_minion_event`, as Salt's minion
    /// sends its beacons' events (`_fire_master(events=...)`): each `(tag, data,
    /// beacon_name)` becomes `{tag, data, beacon_name}` (no `beacon_name` when `None`),
    /// and the master fires every event's `data` under its `tag`. An empty batch sends
    /// nothing, as Salt's.
    pub fn fire_master_events(
        &self,
        events: &[(String, Value, Option<String>)],
    ) -> Result<(), String> {
        if events.is_empty() {
            return Ok(());
        }
        self.chan
            .request(&minion_events_load(&self.chan.id, events))
            .map(|_| ())
            .map_err(|e| format!("firing {} event(s) to the master: {e}", events.len()))
    }

    /// Return a job this minion started on its own (Salt's `jid: "req"`, as the
    /// scheduler's returns go): the master allocates a jid, stores the load and the
    /// return in its job cache (`jobs.list_jobs`, `jobs.lookup_jid`) and fires
    /// `salt/job/<jid>/ret/<id>`, keeping the whole load (`metadata` too). `r.jid` is
    /// set to `req`. Sent through [`Daemon::send_return_load`]: failures are retried and
    /// logged.
    pub fn return_req(&self, mut r: JobReturn) {
        r.jid = "req".into();
        // Failures are logged by `send_return_load`.
        let _ = self.send_return_load(&r.load(&self.chan.id));
    }

    /// Send a `_return` load, tried `return_retry_tries` times (Salt's default 3) five
    /// seconds apart, so a master that is restarting still gets the result. Every
    /// failed try is logged; `Err` after the last.
    pub fn send_return_load(&self, load: &Map) -> Result<(), String> {
        let jid = load.get("jid").map(Value::py_str).unwrap_or_default();
        let fun = load.get("fun").map(Value::py_str).unwrap_or_default();
        let tries = match self.cfg.opts.get("return_retry_tries") {
            Some(Value::Int(n)) => (*n).clamp(1, 100),
            _ => 3,
        };
        for attempt in 1..=tries {
            match self.chan.request(load) {
                Ok(_) => {
                    tracing::info!(jid, fun, "returned a job");
                    return Ok(());
                }
                Err(e) if attempt < tries => {
                    tracing::warn!(jid, attempt, "returning the job failed: {e}; retrying");
                    std::thread::sleep(Duration::from_secs(5));
                }
                Err(e) => {
                    tracing::error!(jid, "could not return the job: {e}");
                    return Err(format!("returning job {jid} ({fun}): {e}"));
                }
            }
        }
        Err(format!("returning job {jid} ({fun}): no attempt made"))
    }
}

/// The head of every `_minion_event` load, in Salt's order (`_fire_master_prepare`):
/// `id`, `cmd`, `pretag`. The channel adds `nonce`, `ts` and `tok`.
fn event_head(id: &str) -> Map {
    map([
        ("id", id.into()),
        ("cmd", "_minion_event".into()),
        ("pretag", Value::Null),
    ])
}

/// The batch `_minion_event` load of minion `id` (Salt's `_fire_master_prepare` with
/// `events`): `{id, cmd, pretag, events: [{tag, data, beacon_name?}]}`.
pub fn minion_events_load(id: &str, events: &[(String, Value, Option<String>)]) -> Map {
    let list = events
        .iter()
        .map(|(tag, data, beacon)| {
            let mut e = map([("tag", tag.as_str().into()), ("data", data.clone())]);
            if let Some(b) = beacon {
                e.insert("beacon_name".into(), b.as_str().into());
            }
            Value::Map(e)
        })
        .collect();
    let mut load = event_head(id);
    load.insert("events".into(), Value::List(list));
    load
}

/// A job's `_return` as the minion sends it (publications, `schedule:`, `startup_states`
/// and minion-initiated jobs).
#[derive(Debug, Clone, PartialEq)]
pub struct JobReturn {
    /// The job id; `"req"` for a job the minion started itself (the master allocates one).
    pub jid: String,
    /// The function that ran.
    pub fun: Value,
    /// Its arguments (`fun_args`).
    pub fun_args: Value,
    /// What it returned.
    pub ret: Value,
    /// Its retcode.
    pub retcode: i64,
    /// Did it succeed?
    pub success: bool,
    /// The outputter the CLI should use (`out`).
    pub out: String,
    /// Keys sent after `out` (`user`, `master_id`, `metadata`), in this order.
    pub extra: Map,
}

impl JobReturn {
    /// The `_return` load of minion `id`, in the order the minion sends every return:
    /// `cmd, id, success, return, retcode, jid, fun, fun_args, out`, then `extra`.
    pub fn load(self, id: &str) -> Map {
        let mut load = map([
            ("cmd", "_return".into()),
            ("id", id.into()),
            ("success", Value::Bool(self.success)),
            ("return", self.ret),
            ("retcode", Value::Int(self.retcode)),
            ("jid", self.jid.into()),
            ("fun", self.fun),
            ("fun_args", self.fun_args),
            ("out", self.out.into()),
        ]);
        load.extend(self.extra);
        load
    }
}

/// Sign in, waiting `acceptance_wait_time` (growing to `acceptance_wait_time_max`) while the
/// key is pending. A rejected key ends the minion unless `rejected_retry` is set.
fn sign_in_until_accepted(cfg: &MinionConfig, chan: &Channel) -> Result<(), String> {
    let mut wait = opt_int(cfg, "acceptance_wait_time", 10).max(1) as u64;
    let max = opt_int(cfg, "acceptance_wait_time_max", 0).max(0) as u64;
    loop {
        match chan.authenticate() {
            Ok(SignIn::Accepted(_)) => return Ok(()),
            Ok(SignIn::Pending) => tracing::warn!(
                "Waiting {wait} seconds before retry: the salt master has cached the public key of this minion; it needs to be accepted"
            ),
            Ok(SignIn::Rejected) if !cfg.flag("rejected_retry") => {
                return Err("The Salt Master has rejected this minion's public key! To repair this issue, delete the public key for this minion on the Salt Master and restart this minion. Or restart the Salt Master in open mode to clean out the keys. The Salt Minion will now exit.".into())
            }
            Ok(SignIn::Rejected) => tracing::warn!("the master rejected this minion's key; retrying"),
            Ok(SignIn::Full) => tracing::warn!("the master is full; retrying"),
            Err(e) => {
                // A master that is down or overloaded: spread the retries of many minions
                // over `random_reauth_delay` seconds.
                let jitter = opt_int(cfg, "random_reauth_delay", 10).clamp(0, 3600) as u64;
                let extra = u64::from(halite_proto::crypto::random_bytes(1)[0]) * jitter * 1000 / 255;
                tracing::warn!("authentication failed: {e}; retrying");
                std::thread::sleep(Duration::from_millis(extra));
            }
        }
        std::thread::sleep(Duration::from_secs(wait));
        if max > wait {
            wait = wait.saturating_mul(2).min(max);
        }
    }
}

/// Run the minion until it is killed.
pub fn run(cfg: MinionConfig) -> Result<(), String> {
    let id = cfg.id().to_string();
    let pki = PathBuf::from(cfg.str("pki_dir").unwrap_or("/etc/salt/pki/minion"));
    let mut keys = Keys::load_or_generate(
        &pki,
        opt_int(&cfg, "keysize", 2048).clamp(1024, 16384) as u32,
    )?;
    keys.master_finger = cfg.str("master_finger").map(str::to_string);
    let master = cfg.str("master").unwrap_or("salt").to_string();
    let ka = keepalive(&cfg);
    let ctx = zmq::Context::new();
    let ret_ep = tcp_endpoint(&master, port(&cfg, "master_port", 4506)?);
    let pub_ep = tcp_endpoint(&master, port(&cfg, "publish_port", 4505)?);
    // Requests (returns, files, pillar) may take a while on a busy master; a sign-in is
    // retried instead (`auth_timeout`, Salt's default 5 s).
    let timeout = Duration::from_secs(60);
    let mut chan = Channel::new(&ctx, ret_ep, id.clone(), keys, timeout, ka);
    chan.auth_timeout = Duration::from_secs(opt_int(&cfg, "auth_timeout", 5).clamp(1, 600) as u64);
    let chan = Arc::new(chan);
    let cachedir = PathBuf::from(cfg.str("cachedir").unwrap_or("/var/cache/salt/minion"));
    let procdir = cachedir.join("proc");
    std::fs::create_dir_all(&procdir).map_err(|e| format!("{}: {e}", procdir.display()))?;
    for e in std::fs::read_dir(&procdir).into_iter().flatten().flatten() {
        let _ = std::fs::remove_file(e.path());
    }
    sign_in_until_accepted(&cfg, &chan)?;
    // Subscribe once the master is known to be up (as Salt does): a SUB whose first
    // connect fails waits a whole randomised reconnect interval before trying again.
    let sub = Subscriber::connect(
        &ctx,
        &pub_ep,
        &id,
        opt_int(&cfg, "recon_default", 1000) as i32,
        opt_int(&cfg, "recon_max", 10000) as i32,
        cfg.opts.get("recon_randomize").is_none_or(Value::is_truthy),
        ka,
    )
    .map_err(|e| e.to_string())?;
    let grains = Value::Map(crate::grains::core_grains(&cfg.opts));
    let drift = crate::drift::Drift::from_config(&cfg);
    let d = Arc::new(Daemon {
        cfg,
        chan,
        grains,
        pillar: RwLock::new(Value::Map(Map::default())),
        seen: Mutex::new(VecDeque::new()),
        procdir,
        drift,
    });
    if let Some(drift) = &d.drift {
        let weak = Arc::downgrade(&d);
        let sink: std::sync::Weak<dyn crate::drift::Sink> = weak;
        drift.start(sink)?;
    }
    let pillar = d.refresh_pillar();
    if let Err(e) = &pillar {
        tracing::warn!("could not fetch the pillar: {e}");
    }
    match &d.drift {
        // Re-runs need the pillar their states were rendered with: no pillar, no restore.
        Some(drift) if pillar.is_ok() => drift.restore(|envs| jobs::drift_context(&d, envs)),
        Some(_) => tracing::warn!(
            "drift: the kept watched set is not restored without a pillar; the next state run sets the watch"
        ),
        None => crate::drift::forget_kept(&d.cfg),
    }
    // Salt's order: the legacy `minion_start`, then the namespaced event.
    let started = format!("Minion {id} started at {}", jobs::asctime());
    d.fire_master("minion_start", Value::Str(started.clone()));
    d.fire_master(&format!("salt/minion/{id}/start"), Value::Str(started));
    tracing::info!(minion = %id, "salt-minion is up");
    jobs::startup_states(&d);
    schedule::start(&d);
    jobs::start_state_queue(&d);
    let verify = d.cfg.flag("sign_pub_messages");
    loop {
        let frame = match sub.recv(Duration::from_secs(1)) {
            Ok(Some(f)) => f,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!("publication socket: {e}");
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
        };
        match d.chan.open_publication(&frame, verify) {
            Ok(Some(load)) => jobs::handle_publication(&d, load),
            Ok(None) => {}
            Err(e) => tracing::warn!("dropped a publication: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(m: &Map) -> Vec<String> {
        m.keys().map(Value::py_str).collect()
    }

    #[test]
    fn batch_event_load_in_salts_order() {
        let events = vec![
            ("salt/minion/m1/drift".to_string(), Value::from("x"), None),
            (
                "salt/beacon/m1/inotify//etc/a".to_string(),
                Value::Map(map([("path", "/etc/a".into())])),
                Some("inotify".to_string()),
            ),
        ];
        let load = minion_events_load("m1", &events);
        assert_eq!(keys(&load), ["id", "cmd", "pretag", "events"]);
        assert_eq!(load.get("pretag"), Some(&Value::Null));
        let Some(Value::List(list)) = load.get("events") else {
            panic!("no events list: {load:?}");
        };
        assert_eq!(keys(list[0].as_map().unwrap()), ["tag", "data"]);
        assert_eq!(
            keys(list[1].as_map().unwrap()),
            ["tag", "data", "beacon_name"]
        );
        assert_eq!(list[1].get("beacon_name"), Some(&Value::from("inotify")));
    }

    #[test]
    fn req_return_load_in_the_order_of_every_return() {
        let r = JobReturn {
            jid: "req".into(),
            fun: "drift.repair".into(),
            fun_args: Value::List(vec!["file_|-a_|-/a_|-managed".into()]),
            ret: Value::Map(Map::default()),
            retcode: 0,
            success: true,
            out: "highstate".into(),
            extra: map([("metadata", Value::Map(map([("drift", Value::Null)])))]),
        };
        let load = r.load("m1");
        assert_eq!(
            keys(&load),
            [
                "cmd", "id", "success", "return", "retcode", "jid", "fun", "fun_args", "out",
                "metadata"
            ]
        );
        assert_eq!(load.get("jid"), Some(&Value::from("req")));
    }
}
