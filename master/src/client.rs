//! The local client the CLIs use on the master's machine (Salt's `LocalClient`): publish a
//! job through the ret port with the root key, then collect returns from the event bus,
//! asking minions that are late with `saltutil.find_job` whether they are still at it.

use crate::events::Listener;
use halite_core::config::MasterConfig;
use halite_core::{Map, Value};
use halite_proto::envelope::{clear, get_str, map};
use halite_proto::msgpack;
use halite_proto::transport::{tcp_endpoint, Keepalive, ReqClient};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// A job the master accepted.
#[derive(Debug, Clone)]
pub struct Published {
    /// Its jid (`None` when no minion matched and nothing was sent).
    pub jid: Option<String>,
    /// The minions expected to answer.
    pub minions: Vec<String>,
    /// Named minions (list targets) that are not accepted.
    pub missing: Vec<String>,
}

/// One job to publish.
#[derive(Debug, Clone)]
pub struct Job {
    /// The target.
    pub tgt: Value,
    /// Salt's target type name.
    pub tgt_type: String,
    /// The function.
    pub fun: String,
    /// Positional arguments, with the trailing `__kwarg__` dict when there are kwargs.
    pub arg: Vec<Value>,
    /// Returners.
    pub ret: String,
    /// Extra publish kwargs (`delimiter`, `metadata`…).
    pub kwargs: Map,
}

/// The file holding the key local CLIs publish with: `.<user>_key` for the master's
/// `user` (`.root_key` by default), as Salt names it.
pub fn key_file_name(cfg: &MasterConfig) -> String {
    format!(".{}_key", cfg.str("user").unwrap_or("root"))
}

/// The client.
pub struct LocalClient {
    cfg: MasterConfig,
    /// Kept alive for the request socket's lifetime.
    _ctx: zmq::Context,
    req: std::sync::Mutex<ReqClient>,
    root_key: String,
}

impl LocalClient {
    /// A client for the master configured by `cfg` (reads `<cachedir>/.root_key`).
    pub fn new(cfg: MasterConfig) -> Result<LocalClient, String> {
        let key_path = cfg.path("cachedir").join(key_file_name(&cfg));
        let root_key = std::fs::read_to_string(&key_path).map_err(|e| {
            format!(
                "cannot read {}: {e} (is the master running, and are you its user?)",
                key_path.display()
            )
        })?;
        let ctx = zmq::Context::new();
        let mut host = cfg.str("interface").unwrap_or("127.0.0.1").to_string();
        if host == "0.0.0.0" || host == "::" {
            host = "127.0.0.1".into();
        }
        let port = crate::daemon::port(&cfg, "ret_port", 4506)?;
        let req = ReqClient::new(&ctx, &tcp_endpoint(&host, port), Keepalive::default());
        Ok(LocalClient {
            cfg,
            _ctx: ctx,
            req: std::sync::Mutex::new(req),
            root_key: root_key.trim().to_string(),
        })
    }

    /// The configuration.
    pub fn cfg(&self) -> &MasterConfig {
        &self.cfg
    }

    /// Subscribe to job events (before publishing, so no return is missed).
    pub fn listen(&self) -> Result<Listener, String> {
        Listener::connect(&self.cfg.path("sock_dir"), "salt/job/")
    }

    /// Publish `job`.
    pub fn publish(&self, job: &Job) -> Result<Published, String> {
        let user = std::env::var("SUDO_USER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "root".into());
        let load = map([
            ("cmd", "publish".into()),
            ("tgt", job.tgt.clone()),
            ("fun", job.fun.clone().into()),
            ("arg", Value::List(job.arg.clone())),
            ("key", self.root_key.clone().into()),
            ("tgt_type", job.tgt_type.clone().into()),
            ("ret", job.ret.clone().into()),
            ("jid", "".into()),
            ("kwargs", Value::Map(job.kwargs.clone())),
            ("user", user.into()),
        ]);
        let frame = clear(load);
        let reply = self
            .req
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .request(&frame, Duration::from_secs(30))
            .map_err(|e| format!("Salt request timed out. The master is not responding. ({e})"))?;
        let reply = msgpack::decode(&reply).map_err(|e| e.to_string())?;
        let load = reply
            .get("load")
            .and_then(Value::as_map)
            .ok_or_else(|| format!("unexpected reply from the master: {}", reply.py_str()))?;
        if let Some(err) = load.get("error") {
            let msg = err
                .get("message")
                .map(Value::py_str)
                .unwrap_or_else(|| err.py_str());
            return Err(msg);
        }
        let minions = load
            .get("minions")
            .and_then(Value::as_list)
            .map(|l| l.iter().map(Value::py_str).collect())
            .unwrap_or_default();
        let missing = load
            .get("missing")
            .and_then(Value::as_list)
            .map(|l| l.iter().map(Value::py_str).collect())
            .unwrap_or_default();
        let jid = get_str(load, "jid").map(str::to_string);
        Ok(Published {
            jid,
            minions,
            missing,
        })
    }

    /// Collect the returns of `jid` from `expected` minions, calling `on_return` with each
    /// minion id and its return load as it arrives. Waits `timeout` for silence, then runs
    /// `saltutil.find_job` rounds (`gather_job_timeout`) and keeps waiting for minions still
    /// running the job. Returns the minions that never answered.
    pub fn collect(
        &self,
        listener: &mut Listener,
        jid: &str,
        expected: &[String],
        timeout: Duration,
        on_return: &mut dyn FnMut(&str, &Map),
    ) -> Vec<String> {
        let mut pending: BTreeSet<String> = expected.iter().cloned().collect();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let prefix = format!("salt/job/{jid}/ret/");
        let gather =
            Duration::from_secs(self.cfg.int("gather_job_timeout", 10).clamp(1, 86400) as u64);
        // Absurd timeouts (`-t 99999999999`) are capped at a year rather than overflow.
        let timeout = timeout.min(Duration::from_secs(365 * 86400));
        let mut deadline = Instant::now() + timeout;
        // Returns that landed before the subscription took effect are in the job cache.
        let jobs = crate::jobcache::JobCache::new(&self.cfg.path("cachedir"));
        let catch_up = |pending: &mut BTreeSet<String>,
                        seen: &mut BTreeSet<String>,
                        on_return: &mut dyn FnMut(&str, &Map)| {
            for (id, ret, out) in jobs.returns(jid) {
                if seen.insert(id.clone()) {
                    pending.remove(&id);
                    let mut load = map([("id", id.clone().into()), ("return", ret)]);
                    if let Some(o) = out {
                        load.insert("out".into(), o.into());
                    }
                    on_return(&id, &load);
                }
            }
        };
        catch_up(&mut pending, &mut seen, on_return);
        let mut find_jobs: HashMap<String, String> = HashMap::new();
        let mut running: BTreeSet<String> = BTreeSet::new();
        let mut answered: BTreeSet<String> = BTreeSet::new();
        let mut gather_deadline: Option<Instant> = None;
        while !pending.is_empty() {
            let now = Instant::now();
            let until = gather_deadline.unwrap_or(deadline);
            if now >= until {
                if let Some(_g) = gather_deadline.take() {
                    // The find_job round is over: minions that said they are running get
                    // another timeout; the others are given up on.
                    pending.retain(|id| running.contains(id));
                    if pending.is_empty() {
                        break;
                    }
                    running.clear();
                    answered.clear();
                    deadline = Instant::now() + timeout;
                    continue;
                }
                catch_up(&mut pending, &mut seen, on_return);
                if pending.is_empty() {
                    break;
                }
                let missing: Vec<String> = pending.iter().cloned().collect();
                match self.find_job(jid, &missing) {
                    Some(fj) => {
                        find_jobs.insert(fj, jid.to_string());
                        gather_deadline = Some(Instant::now() + gather);
                    }
                    None => break,
                }
                continue;
            }
            // Wait in short slices and look in the job cache between them: a return
            // fired before the bus registered this subscriber is only there.
            let slice = (until - now).min(Duration::from_millis(250));
            let Some((tag, data)) = listener.next(slice) else {
                catch_up(&mut pending, &mut seen, on_return);
                continue;
            };
            let Some(rest) = tag.strip_prefix("salt/job/") else {
                continue;
            };
            let mut parts = rest.splitn(3, '/');
            let (Some(tj), Some("ret"), Some(id)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let Value::Map(load) = data else { continue };
            if tag.starts_with(&prefix) {
                if seen.insert(id.to_string()) {
                    pending.remove(id);
                    on_return(id, &load);
                }
            } else if find_jobs.contains_key(tj) {
                let busy = load
                    .get("return")
                    .and_then(Value::as_map)
                    .is_some_and(|m| !m.is_empty());
                if busy {
                    running.insert(id.to_string());
                }
                answered.insert(id.to_string());
                // Every late minion has said whether it is still at it: the round is over.
                if gather_deadline.is_some() && pending.iter().all(|p| answered.contains(p)) {
                    gather_deadline = Some(Instant::now());
                }
            }
        }
        catch_up(&mut pending, &mut seen, on_return);
        pending.into_iter().collect()
    }

    fn find_job(&self, jid: &str, missing: &[String]) -> Option<String> {
        let job = Job {
            tgt: Value::List(missing.iter().cloned().map(Value::Str).collect()),
            tgt_type: "list".into(),
            fun: "saltutil.find_job".into(),
            arg: vec![jid.into()],
            ret: String::new(),
            kwargs: Map::default(),
        };
        self.publish(&job).ok().and_then(|p| p.jid)
    }
}
