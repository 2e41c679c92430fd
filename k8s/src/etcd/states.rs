//! The `etcd` state functions: `configured`, `member_present`, `member_absent`, `healthy`.
//!
//! Every one supports `test=True` (result `None` with the changes it would make, nothing
//! touched). Expected failures (nobody answers, a refused removal, an unreadable file) are
//! `result: False` with the reason in the comment, never a panic or a hung state: every
//! network call is bounded (see [`super::client`]).

use super::client::{self, Conn, EndpointError, Member};
use super::envfile::{Edit, EnvFile};
use super::{str_list, DEFAULT_ENDPOINT};
use crate::runtime::block_on;
use halite_core::{Map, Result, Value};
use halite_states::exec::systemd;
use halite_states::modules::{ret, Registry, StateCall};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The environment file Debian's `etcd.service` reads.
pub const DEFAULT_CONFIG: &str = "/etc/default/etcd";
/// etcd's data directory when the environment file does not set `ETCD_DATA_DIR`.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/etcd/default";
/// The client port when none is given.
pub const DEFAULT_CLIENT_PORT: u16 = 2379;
/// The peer port when none is given.
pub const DEFAULT_PEER_PORT: u16 = 2380;
/// The initial cluster token when none is given.
pub const DEFAULT_TOKEN: &str = "halite-etcd";

/// The shortest pause between two tries (an `interval` of 0 would spin).
const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// The longest wait or interval accepted (a day), so a typo cannot block a run for ever.
const MAX_SECONDS: f64 = 86_400.0;

/// Register `etcd.configured`, `etcd.member_present`, `etcd.member_absent`, `etcd.healthy`.
pub fn register(r: &mut Registry) {
    r.add("etcd.configured", configured);
    r.add("etcd.member_present", member_present);
    r.add("etcd.member_absent", member_absent);
    r.add("etcd.healthy", healthy);
}

// ------------------------------------------------------------------ argument helpers

/// A failed state with no changes.
fn fail(name: &str, comment: impl Into<String>) -> Result<Map> {
    Ok(ret(name, Map::default(), Some(false), comment))
}

/// A non-empty string argument.
fn text_arg(low: &Map, key: &str) -> Option<String> {
    match low.get(key) {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.py_str()).filter(|s| !s.trim().is_empty()),
    }
}

/// A port argument (an int, or a string of one) with a default.
fn port_arg(low: &Map, fun: &str, key: &str, default: u16) -> std::result::Result<u16, String> {
    let bad = |v: &Value| format!("{fun}: '{key}' must be a port number, not {}", v.py_repr());
    match low.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v @ Value::Int(i)) => u16::try_from(*i)
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad(v)),
        Some(v @ Value::Str(s)) => s
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad(v)),
        Some(v) => Err(bad(v)),
    }
}

/// A number of seconds (int, float or numeric string, 0 to a day) with a default.
fn seconds_arg(
    low: &Map,
    fun: &str,
    key: &str,
    default: f64,
) -> std::result::Result<Duration, String> {
    let bad = |v: &Value| {
        format!(
            "{fun}: '{key}' must be a number of seconds (0 to {MAX_SECONDS}), not {}",
            v.py_repr()
        )
    };
    let secs = match low.get(key) {
        None | Some(Value::Null) => default,
        Some(Value::Int(i)) => *i as f64,
        Some(Value::Float(f)) => *f,
        Some(v @ Value::Str(s)) => s.trim().parse::<f64>().map_err(|_| bad(v))?,
        Some(v) => return Err(bad(v)),
    };
    if secs.is_finite() && (0.0..=MAX_SECONDS).contains(&secs) {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(bad(low.get(key).unwrap_or(&Value::Null)))
    }
}

/// A count argument (a non-negative int, or a string of one).
fn count_arg(low: &Map, fun: &str, key: &str) -> std::result::Result<Option<u64>, String> {
    let bad = |v: &Value| format!("{fun}: '{key}' must be a whole number, not {}", v.py_repr());
    match low.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Int(i)) => u64::try_from(*i).map(Some).map_err(|_| bad(v)),
        Some(v @ Value::Str(s)) => s.trim().parse::<u64>().map(Some).map_err(|_| bad(v)),
        Some(v) => Err(bad(v)),
    }
}

/// `http://ip:port`, with an IPv6 address in brackets.
pub fn url(ip: &str, port: u16) -> String {
    if ip.contains(':') && !ip.starts_with('[') {
        format!("http://[{ip}]:{port}")
    } else {
        format!("http://{ip}:{port}")
    }
}

/// Is `ip` the loopback address `listen_localhost` would add anyway?
fn is_loopback(ip: &str) -> bool {
    matches!(ip, "127.0.0.1" | "localhost")
}

/// Seconds for a comment: `120 s`, `0.5 s`.
fn secs_text(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// Endpoints for a comment.
fn endpoints_text(endpoints: &[String]) -> String {
    if endpoints.is_empty() {
        "(no endpoints given)".into()
    } else {
        endpoints.join(", ")
    }
}

/// Plan an edit of the environment file, the error worded for a comment.
fn plan_edit(path: &str, updates: &[(&str, String)]) -> std::result::Result<Edit, String> {
    Edit::plan(Path::new(path), updates).map_err(|e| format!("cannot read {path}: {e}"))
}

/// Sleep for `interval` (at least [`MIN_INTERVAL`]) without passing `deadline`.
async fn pause(interval: Duration, deadline: Instant) {
    let left = deadline.saturating_duration_since(Instant::now());
    tokio::time::sleep(interval.max(MIN_INTERVAL).min(left)).await;
}

// ------------------------------------------------------------------ etcd.configured

/// The keys `etcd.configured` owns, with their wanted values.
fn configured_updates(c: &StateCall) -> std::result::Result<Vec<(&'static str, String)>, String> {
    const FUN: &str = "etcd.configured";
    let ip = text_arg(c.low, "ip").ok_or_else(|| format!("{FUN}: 'ip' is required"))?;
    let member_name = text_arg(c.low, "member_name")
        .or_else(|| {
            c.opts
                .get("id")
                .map(Value::py_str)
                .filter(|s| !s.is_empty())
        })
        .ok_or_else(|| format!("{FUN}: 'member_name' is required (the minion has no id)"))?;
    let client_port = port_arg(c.low, FUN, "client_port", DEFAULT_CLIENT_PORT)?;
    let peer_port = port_arg(c.low, FUN, "peer_port", DEFAULT_PEER_PORT)?;
    let data_dir = text_arg(c.low, "data_dir").unwrap_or_else(|| DEFAULT_DATA_DIR.into());
    let token = text_arg(c.low, "cluster_token").unwrap_or_else(|| DEFAULT_TOKEN.into());
    let client_url = url(&ip, client_port);
    let mut listen_client = client_url.clone();
    if c.flag("listen_localhost", true) && !is_loopback(&ip) {
        listen_client.push(',');
        listen_client.push_str(&url("127.0.0.1", client_port));
    }
    let peer_url = url(&ip, peer_port);
    Ok(vec![
        ("ETCD_NAME", member_name),
        ("ETCD_DATA_DIR", data_dir),
        ("ETCD_LISTEN_CLIENT_URLS", listen_client),
        ("ETCD_ADVERTISE_CLIENT_URLS", client_url),
        ("ETCD_LISTEN_PEER_URLS", peer_url.clone()),
        ("ETCD_INITIAL_ADVERTISE_PEER_URLS", peer_url),
        ("ETCD_INITIAL_CLUSTER_TOKEN", token),
    ])
}

/// `etcd.configured(name=<env file>, ip, member_name=<minion id>, client_port=2379,
/// peer_port=2380, data_dir=/var/lib/etcd/default, cluster_token=halite-etcd,
/// listen_localhost=True)`: the member's own settings in the environment file.
fn configured(c: &StateCall) -> Result<Map> {
    let path = c.name();
    let edit = match configured_updates(c).and_then(|u| plan_edit(&path, &u)) {
        Ok(edit) => edit,
        Err(why) => return fail(&path, why),
    };
    if !edit.changed() {
        return Ok(ret(
            &path,
            Map::default(),
            Some(true),
            "etcd configuration is in the correct state",
        ));
    }
    let mut changes = Map::default();
    changes.insert(Value::Str(path.clone()), edit.change_entry());
    if c.test {
        return Ok(ret(
            &path,
            changes,
            None,
            "etcd configuration would be updated",
        ));
    }
    if let Err(e) = edit.apply() {
        return fail(&path, format!("cannot write {path}: {e}"));
    }
    Ok(ret(
        &path,
        changes,
        Some(true),
        "etcd configuration updated",
    ))
}

// ------------------------------------------------------------------ etcd.member_present

/// The arguments of `etcd.member_present`.
struct JoinArgs {
    peer_url: String,
    endpoints: Vec<String>,
    config: String,
    bootstrap: bool,
    wait: Duration,
    interval: Duration,
    names: Map,
    client_port: Option<u16>,
}

fn join_args(low: &Map) -> std::result::Result<JoinArgs, String> {
    const FUN: &str = "etcd.member_present";
    let peer_url = match (text_arg(low, "peer_url"), text_arg(low, "ip")) {
        (Some(u), _) => u,
        (None, Some(ip)) => url(&ip, port_arg(low, FUN, "peer_port", DEFAULT_PEER_PORT)?),
        (None, None) => return Err(format!("{FUN}: 'peer_url' or 'ip' is required")),
    };
    let names = match low.get("peer_names") {
        None | Some(Value::Null) => Map::default(),
        Some(Value::Map(m)) => m.clone(),
        Some(v) => {
            return Err(format!(
                "{FUN}: 'peer_names' must be a mapping of peer URL to member name, not {}",
                v.py_repr()
            ))
        }
    };
    let client_port = match low.get("client_port") {
        None | Some(Value::Null) => None,
        Some(_) => Some(port_arg(low, FUN, "client_port", DEFAULT_CLIENT_PORT)?),
    };
    Ok(JoinArgs {
        peer_url,
        endpoints: str_list(low.get("endpoints")),
        config: text_arg(low, "config").unwrap_or_else(|| DEFAULT_CONFIG.into()),
        bootstrap: low.get("bootstrap").is_some_and(Value::is_truthy),
        wait: seconds_arg(low, FUN, "wait", 120.0)?,
        interval: seconds_arg(low, FUN, "interval", 2.0)?,
        names,
        client_port,
    })
}

/// `ETCD_INITIAL_CLUSTER` for `members`: `name=peerURL` for every peer URL of every member.
/// This member is `name`; a member that never started has no name yet: it is taken from
/// `peer_names` (peer URL → name), else it is the member id in hex.
pub fn initial_cluster(members: &[Member], name: &str, peer_url: &str, names: &Map) -> String {
    let from_names = |m: &Member| {
        names.iter().find_map(|(k, v)| {
            let k = k.py_str();
            m.has_peer_url(&k).then(|| v.py_str())
        })
    };
    let mut parts = Vec::new();
    for m in members {
        let member_name = if m.has_peer_url(peer_url) {
            name.to_string()
        } else if m.is_started() {
            m.name.clone()
        } else {
            from_names(m).unwrap_or_else(|| m.hex_id())
        };
        for u in &m.peer_urls {
            parts.push(format!("{member_name}={u}"));
        }
    }
    parts.join(",")
}

/// The data directory the environment file names.
fn data_dir_of(env: &EnvFile) -> String {
    env.get("ETCD_DATA_DIR")
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_DATA_DIR.into())
}

/// The local client endpoint: the `client_port` argument, else the port of the first
/// `ETCD_LISTEN_CLIENT_URLS` entry, else 2379.
fn local_endpoint(client_port: Option<u16>, env: &EnvFile) -> String {
    let from_env = || {
        let urls = env.get("ETCD_LISTEN_CLIENT_URLS")?;
        let first = urls.split(',').next()?.trim().to_string();
        client::host_port(&first).ok().map(|(_, p)| p)
    };
    let port = client_port.or_else(from_env).unwrap_or(DEFAULT_CLIENT_PORT);
    url("127.0.0.1", port)
}

/// `etcd.member_present(name, peer_url | ip [+ peer_port], endpoints, config, bootstrap,
/// wait=120, interval=2, peer_names)`: this node is a member of the cluster, or is set to join
/// it (added through a member that answers, initial cluster written into the config), or
/// to bootstrap a new one when allowed and nobody answers.
fn member_present(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let a = match join_args(c.low) {
        Ok(a) => a,
        Err(why) => return fail(&name, why),
    };
    let env = match EnvFile::read(Path::new(&a.config)) {
        Ok(env) => env.unwrap_or_default(),
        Err(e) => return fail(&name, format!("cannot read {}: {e}", a.config)),
    };
    let data_dir = data_dir_of(&env);
    if Path::new(&data_dir).join("member").is_dir() {
        return existing_member(&name, &a, &env, &data_dir);
    }
    join(c, &name, &a)
}

/// The member already has data: confirm its membership through any member that answers.
fn existing_member(name: &str, a: &JoinArgs, env: &EnvFile, data_dir: &str) -> Result<Map> {
    let mut candidates = a.endpoints.clone();
    let local = local_endpoint(a.client_port, env);
    if !candidates.iter().any(|e| client::same_url(e, &local)) {
        candidates.push(local);
    }
    let answer = block_on(client::first_members(&candidates))?;
    match answer {
        Ok((conn, members)) if members.iter().any(|m| m.has_peer_url(&a.peer_url)) => Ok(ret(
            name,
            Map::default(),
            Some(true),
            format!(
                "etcd member {name} ({}) is in the cluster (data in {data_dir}, checked through {})",
                a.peer_url,
                conn.endpoint()
            ),
        )),
        Ok((conn, _)) => fail(
            name,
            format!(
                "etcd member {name} has data in {data_dir}, but {} is not a member of the cluster (checked through {}); move {data_dir} aside to join again",
                a.peer_url,
                conn.endpoint()
            ),
        ),
        // The whole cluster may be down (a restart): the data decides, etcd will rejoin.
        Err(errors) => Ok(ret(
            name,
            Map::default(),
            Some(true),
            format!(
                "etcd member {name} already has data in {data_dir}; no member answered to confirm its membership ({})",
                client::join_errors(&errors)
            ),
        )),
    }
}

/// What looking for a cluster to join found.
enum Found {
    /// A member answered and our peer URL is in its member list (`added`: by this run).
    Member {
        endpoint: String,
        members: Vec<Member>,
        added: bool,
    },
    /// Test mode: a member answered, our peer URL would be added.
    WouldAdd {
        endpoint: String,
        members: Vec<Member>,
    },
    /// No endpoint answered (each one's last failure).
    Nobody(Vec<EndpointError>),
    /// A member answered but refused to add us until the deadline.
    AddFailed(EndpointError),
}

/// Find a member among the endpoints and add our peer URL through it, retrying until the
/// deadline while nobody answers (unless bootstrapping or testing) or the add is refused
/// (`unhealthy cluster` while another new member has not started yet, no leader, ...).
async fn find_and_join(a: &JoinArgs, test: bool, deadline: Instant) -> Found {
    loop {
        match client::first_members(&a.endpoints).await {
            Err(errors) => {
                if a.bootstrap || test || Instant::now() >= deadline {
                    return Found::Nobody(errors);
                }
                tracing::info!(errors = %client::join_errors(&errors), "no etcd member answered yet");
            }
            Ok((mut conn, members)) => {
                let endpoint = conn.endpoint().to_string();
                if members.iter().any(|m| m.has_peer_url(&a.peer_url)) {
                    return Found::Member {
                        endpoint,
                        members,
                        added: false,
                    };
                }
                if test {
                    return Found::WouldAdd { endpoint, members };
                }
                match conn.add_member(&a.peer_url).await {
                    Ok((added, mut list)) => {
                        if list.is_empty() {
                            list = members;
                            list.extend(added);
                        }
                        return Found::Member {
                            endpoint,
                            members: list,
                            added: true,
                        };
                    }
                    Err(e) if Instant::now() >= deadline => return Found::AddFailed(e),
                    Err(e) => tracing::info!(error = %e, "etcd member add refused; retrying"),
                }
            }
        }
        pause(a.interval, deadline).await;
    }
}

/// The config changes for joining an existing cluster; `added` goes first in `changes`.
fn join_changes(
    a: &JoinArgs,
    name: &str,
    members: &[Member],
    added: bool,
) -> std::result::Result<(Map, Edit), String> {
    let cluster = initial_cluster(members, name, &a.peer_url, &a.names);
    let updates = [
        ("ETCD_INITIAL_CLUSTER", cluster),
        ("ETCD_INITIAL_CLUSTER_STATE", "existing".to_string()),
    ];
    let edit = plan_edit(&a.config, &updates)?;
    let mut changes = Map::default();
    if added {
        changes.insert("added".into(), Value::from(name));
    }
    if edit.changed() {
        changes.insert(Value::Str(a.config.clone()), edit.change_entry());
    }
    Ok((changes, edit))
}

/// Look for a cluster, join or bootstrap, and report.
fn join(c: &StateCall, name: &str, a: &JoinArgs) -> Result<Map> {
    let deadline = Instant::now() + a.wait;
    let found = block_on(find_and_join(a, c.test, deadline))?;
    match found {
        Found::Member {
            endpoint,
            members,
            added,
        } => {
            let (changes, edit) = match join_changes(a, name, &members, added) {
                Ok(planned) => planned,
                Err(why) => return fail(name, why),
            };
            let what = if added {
                format!(
                    "added etcd member {name} ({}) through {endpoint}",
                    a.peer_url
                )
            } else {
                format!(
                    "etcd member {name} ({}) is already in the cluster",
                    a.peer_url
                )
            };
            finish_config(
                c.test,
                name,
                a,
                changes,
                &edit,
                what,
                "join the existing cluster",
            )
        }
        Found::WouldAdd {
            endpoint,
            mut members,
        } => {
            members.push(Member {
                id: 0,
                name: String::new(),
                peer_urls: vec![a.peer_url.clone()],
                client_urls: Vec::new(),
                is_learner: false,
            });
            let (changes, _) = match join_changes(a, name, &members, true) {
                Ok(planned) => planned,
                Err(why) => return fail(name, why),
            };
            Ok(ret(
                name,
                changes,
                None,
                format!(
                    "etcd member {name} ({}) would be added through {endpoint}; {} would be set to join the existing cluster",
                    a.peer_url, a.config
                ),
            ))
        }
        Found::Nobody(errors) if a.bootstrap => bootstrap(c.test, name, a, &errors),
        Found::Nobody(errors) if c.test => Ok(ret(
            name,
            Map::default(),
            None,
            format!(
                "no etcd member answered among {} yet ({}); would wait up to {} for one, then join",
                endpoints_text(&a.endpoints),
                client::join_errors(&errors),
                secs_text(a.wait)
            ),
        )),
        Found::Nobody(errors) => fail(
            name,
            format!(
                "no etcd member answered among {}; cannot join ({})",
                endpoints_text(&a.endpoints),
                client::join_errors(&errors)
            ),
        ),
        Found::AddFailed(e) => fail(
            name,
            format!(
                "cannot add etcd member {name} ({}) within {}: {e}",
                a.peer_url,
                secs_text(a.wait)
            ),
        ),
    }
}

/// Nobody answered and this member may bootstrap: a new cluster of itself.
fn bootstrap(test: bool, name: &str, a: &JoinArgs, errors: &[EndpointError]) -> Result<Map> {
    let updates = [
        ("ETCD_INITIAL_CLUSTER", format!("{name}={}", a.peer_url)),
        ("ETCD_INITIAL_CLUSTER_STATE", "new".to_string()),
    ];
    let edit = match plan_edit(&a.config, &updates) {
        Ok(edit) => edit,
        Err(why) => return fail(name, why),
    };
    let mut changes = Map::default();
    if edit.changed() {
        changes.insert("bootstrapped".into(), Value::from(name));
        changes.insert(Value::Str(a.config.clone()), edit.change_entry());
    }
    let nobody = if a.endpoints.is_empty() {
        "no other etcd member given".to_string()
    } else {
        format!(
            "no etcd member answered among {} ({})",
            a.endpoints.join(", "),
            client::join_errors(errors)
        )
    };
    finish_config(
        test,
        name,
        a,
        changes,
        &edit,
        nobody,
        &format!("bootstrap a new cluster with {name}"),
    )
}

/// Write (or in test mode, report) the config edit of `member_present` and build the return.
fn finish_config(
    test: bool,
    name: &str,
    a: &JoinArgs,
    changes: Map,
    edit: &Edit,
    what: String,
    purpose: &str,
) -> Result<Map> {
    if !edit.changed() {
        let result = if test && !changes.is_empty() {
            None
        } else {
            Some(true)
        };
        return Ok(ret(
            name,
            changes,
            result,
            format!("{what}; {} is already set to {purpose}", a.config),
        ));
    }
    if test {
        return Ok(ret(
            name,
            changes,
            None,
            format!("{what}; {} would be set to {purpose}", a.config),
        ));
    }
    if let Err(e) = edit.apply() {
        return Ok(ret(
            name,
            changes_without_file(changes, &a.config),
            Some(false),
            format!("{what}, but {} cannot be written: {e}", a.config),
        ));
    }
    Ok(ret(
        name,
        changes,
        Some(true),
        format!("{what}; {} set to {purpose}", a.config),
    ))
}

/// `changes` without the file entry (the write failed).
fn changes_without_file(mut changes: Map, path: &str) -> Map {
    changes.shift_remove(path);
    changes
}

// ------------------------------------------------------------------ drift watch

/// The etcd membership an `etcd.member_present` / `etcd.member_absent` chunk keeps, as the
/// minion's drift watch (a Halite extension) checks it periodically: the members that are
/// this chunk's member, asked of the endpoints the state itself would ask.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Membership {
    /// The state's `name` (the member name).
    pub name: String,
    /// The member's peer URL (`member_absent` may have none: then the name decides).
    peer_url: Option<String>,
    /// The endpoints given to the state.
    endpoints: Vec<String>,
    /// `member_present`: the local endpoint from the environment file is asked too.
    config: Option<String>,
    /// `member_present`'s `client_port`.
    client_port: Option<u16>,
}

impl Membership {
    /// The membership a chunk of `fun` keeps; `None` for other functions or bad arguments
    /// (the state itself reports those).
    pub fn from_low(fun: &str, low: &Map) -> Option<Membership> {
        let name = low.get("name").map(Value::py_str)?;
        match fun {
            "etcd.member_present" => {
                let a = join_args(low).ok()?;
                Some(Membership {
                    name,
                    peer_url: Some(a.peer_url),
                    endpoints: a.endpoints,
                    config: Some(a.config),
                    client_port: a.client_port,
                })
            }
            "etcd.member_absent" => {
                let a = leave_args(low).ok()?;
                Some(Membership {
                    name,
                    peer_url: a.peer_url,
                    endpoints: a.endpoints,
                    config: None,
                    client_port: None,
                })
            }
            _ => None,
        }
    }

    /// The endpoints to ask: the state's, and for `member_present` the local member's.
    fn candidates(&self) -> Vec<String> {
        let mut candidates = self.endpoints.clone();
        if let Some(config) = &self.config {
            let env = EnvFile::read(Path::new(config))
                .ok()
                .flatten()
                .unwrap_or_default();
            let local = local_endpoint(self.client_port, &env);
            if !candidates.iter().any(|e| client::same_url(e, &local)) {
                candidates.push(local);
            }
        }
        candidates
    }

    /// This chunk's member as the cluster lists it now (`id name started|unstarted`, one
    /// line per matching member, `absent` for none); an error when no endpoint answers.
    pub fn probe(&self) -> std::result::Result<String, String> {
        let members = match block_on(client::first_members(&self.candidates())) {
            Ok(Ok((_, members))) => members,
            Ok(Err(errors)) => {
                return Err(format!(
                    "no etcd member answered ({})",
                    client::join_errors(&errors)
                ))
            }
            Err(e) => return Err(e.to_string()),
        };
        let lines: Vec<String> = members
            .iter()
            .filter(|m| {
                self.peer_url.as_deref().is_some_and(|u| m.has_peer_url(u))
                    || (self.config.is_none() && m.is_started() && m.name == self.name)
            })
            .map(|m| {
                let started = if m.is_started() {
                    "started"
                } else {
                    "unstarted"
                };
                format!("{} {} {started}", m.hex_id(), m.name)
            })
            .collect();
        Ok(if lines.is_empty() {
            "absent".into()
        } else {
            lines.join("\n")
        })
    }
}

// ------------------------------------------------------------------ etcd.member_absent

/// What `member_absent` does to the local service.
enum ServiceStep {
    /// Nothing (a note says why).
    Skip(String),
    /// Stop and disable this unit.
    Stop(String),
}

fn service_step(c: &StateCall) -> ServiceStep {
    match text_arg(c.low, "service") {
        None if c.arg("service").is_some() => ServiceStep::Skip("no service given".into()),
        svc => {
            let svc = svc.unwrap_or_else(|| "etcd".into());
            if systemd::booted() {
                ServiceStep::Stop(systemd::canonical_name(&svc))
            } else {
                ServiceStep::Skip(format!("service {svc} left alone: not booted with systemd"))
            }
        }
    }
}

/// Is the member the one the local environment file describes (by name or peer URL)?
fn is_local_member(env: &EnvFile, target: &Member, name: &str) -> bool {
    let by_name = env.get("ETCD_NAME").is_some_and(|n| n == name);
    let by_url = env
        .get("ETCD_INITIAL_ADVERTISE_PEER_URLS")
        .is_some_and(|urls| urls.split(',').any(|u| target.has_peer_url(u.trim())));
    by_name || by_url
}

/// `<data_dir>.removed-<unix time>` (with `-N` added if that exists already).
fn removed_path(data_dir: &str) -> PathBuf {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let base = format!("{}.removed-{now}", data_dir.trim_end_matches('/'));
    let mut candidate = PathBuf::from(&base);
    let mut n = 1;
    while candidate.exists() {
        candidate = PathBuf::from(format!("{base}-{n}"));
        n += 1;
    }
    candidate
}

/// Remove `target` through an answering member other than itself, retrying until the
/// deadline; the endpoint that did it.
async fn remove_through_other(
    endpoints: &[String],
    target: &Member,
    interval: Duration,
    deadline: Instant,
) -> std::result::Result<String, String> {
    loop {
        let mut errors = Vec::new();
        for ep in endpoints {
            if target.has_client_url(ep) {
                continue;
            }
            let mut conn = match Conn::open(ep).await {
                Ok(conn) => conn,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            match conn.status().await {
                Ok(s) if s.member_id == target.id => continue,
                Ok(_) => {}
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            }
            match conn.remove_member(target.id).await {
                Ok(_) => return Ok(ep.clone()),
                Err(e) => {
                    // An earlier try may have gone through after its answer timed out.
                    let gone = conn
                        .members()
                        .await
                        .is_ok_and(|l| !l.iter().any(|m| m.id == target.id));
                    if gone {
                        return Ok(ep.clone());
                    }
                    errors.push(e);
                }
            }
        }
        if Instant::now() >= deadline {
            return Err(if errors.is_empty() {
                format!(
                    "no member other than {} answered among {}",
                    target.name,
                    endpoints_text(endpoints)
                )
            } else {
                client::join_errors(&errors)
            });
        }
        tracing::info!(errors = %client::join_errors(&errors), "etcd member remove refused; retrying");
        pause(interval, deadline).await;
    }
}

/// The arguments of `etcd.member_absent`.
struct LeaveArgs {
    endpoints: Vec<String>,
    config: String,
    peer_url: Option<String>,
    wait: Duration,
    interval: Duration,
}

fn leave_args(low: &Map) -> std::result::Result<LeaveArgs, String> {
    const FUN: &str = "etcd.member_absent";
    let mut endpoints = str_list(low.get("endpoints"));
    if endpoints.is_empty() {
        endpoints.push(DEFAULT_ENDPOINT.into());
    }
    Ok(LeaveArgs {
        endpoints,
        config: text_arg(low, "config").unwrap_or_else(|| DEFAULT_CONFIG.into()),
        peer_url: text_arg(low, "peer_url"),
        wait: seconds_arg(low, FUN, "wait", 60.0)?,
        interval: seconds_arg(low, FUN, "interval", 2.0)?,
    })
}

/// `etcd.member_absent(name, endpoints, service=etcd, config=/etc/default/etcd, peer_url,
/// wait=60, interval=2)`: the member is not in the cluster. It is removed through another
/// member (never the last one); when it is this node's member (the config names it), the
/// local service is stopped and disabled and the data dir moved aside (nothing deleted).
fn member_absent(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let a = match leave_args(c.low) {
        Ok(a) => a,
        Err(why) => return fail(&name, why),
    };
    let env = match EnvFile::read(Path::new(&a.config)) {
        Ok(env) => env.unwrap_or_default(),
        Err(e) => return fail(&name, format!("cannot read {}: {e}", a.config)),
    };
    let members = match block_on(client::first_members(&a.endpoints))? {
        Ok((_, members)) => members,
        Err(errors) => {
            return fail(
                &name,
                format!(
                    "no etcd member answered among {}; cannot check {name} ({})",
                    endpoints_text(&a.endpoints),
                    client::join_errors(&errors)
                ),
            )
        }
    };
    let target = members.iter().find(|m| {
        (m.is_started() && m.name == name)
            || a.peer_url.as_deref().is_some_and(|u| m.has_peer_url(u))
    });
    let Some(target) = target.cloned() else {
        return Ok(ret(
            &name,
            Map::default(),
            Some(true),
            format!("etcd member {name} is not in the cluster"),
        ));
    };
    if members.len() == 1 {
        return fail(
            &name,
            format!("refusing to remove {name}: it is the last member of the etcd cluster"),
        );
    }
    leave(c, &name, &a, &env, &target)
}

/// Remove `target`, then the local steps when it is this node's member.
fn leave(c: &StateCall, name: &str, a: &LeaveArgs, env: &EnvFile, target: &Member) -> Result<Map> {
    let local = is_local_member(env, target, name);
    let service = if local {
        service_step(c)
    } else {
        ServiceStep::Skip(format!(
            "{name} is not the member {} describes: local service and data left alone",
            a.config
        ))
    };
    let data_dir = data_dir_of(env);
    let move_data = local && Path::new(&data_dir).exists();
    let mut notes = Vec::new();
    if let ServiceStep::Skip(note) = &service {
        notes.push(note.clone());
    }
    if local && !move_data {
        notes.push(format!("no data in {data_dir}"));
    }
    if c.test {
        let mut changes = Map::default();
        changes.insert("removed".into(), Value::from(name));
        if matches!(service, ServiceStep::Stop(_)) {
            changes.insert("service".into(), "stopped".into());
        }
        if move_data {
            changes.insert(
                "data_dir".into(),
                old_new(&data_dir, &removed_path(&data_dir).display().to_string()),
            );
        }
        notes.insert(
            0,
            format!(
                "etcd member {name} (id {}) would be removed",
                target.hex_id()
            ),
        );
        return Ok(ret(name, changes, None, notes.join("; ")));
    }
    let deadline = Instant::now() + a.wait;
    let through = match block_on(remove_through_other(
        &a.endpoints,
        target,
        a.interval,
        deadline,
    ))? {
        Ok(ep) => ep,
        Err(why) => return fail(name, format!("cannot remove etcd member {name}: {why}")),
    };
    let mut changes = Map::default();
    changes.insert("removed".into(), Value::from(name));
    notes.insert(
        0,
        format!(
            "removed etcd member {name} (id {}) through {through}",
            target.hex_id()
        ),
    );
    if let ServiceStep::Stop(unit) = &service {
        if let Err(why) = stop_service(unit) {
            notes.push(why);
            return Ok(ret(name, changes, Some(false), notes.join("; ")));
        }
        changes.insert("service".into(), "stopped".into());
        notes.push(format!("service {unit} stopped and disabled"));
    }
    if move_data {
        let new = removed_path(&data_dir);
        if let Err(e) = std::fs::rename(&data_dir, &new) {
            notes.push(format!(
                "cannot move {data_dir} aside to {}: {e}",
                new.display()
            ));
            return Ok(ret(name, changes, Some(false), notes.join("; ")));
        }
        let new = new.display().to_string();
        notes.push(format!("data moved aside to {new}"));
        changes.insert("data_dir".into(), old_new(&data_dir, &new));
    }
    Ok(ret(name, changes, Some(true), notes.join("; ")))
}

/// `{"old": old, "new": new}`.
fn old_new(old: &str, new: &str) -> Value {
    let mut m = Map::default();
    m.insert("old".into(), Value::from(old));
    m.insert("new".into(), Value::from(new));
    Value::Map(m)
}

/// `systemctl stop` then `systemctl disable`; the failure worded for a comment.
fn stop_service(unit: &str) -> std::result::Result<(), String> {
    for action in ["stop", "disable"] {
        match systemd::change(action, unit, false) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => return Err(format!("systemctl {action} {unit} failed: {why}")),
            Err(e) => return Err(format!("systemctl {action} {unit} failed: {e}")),
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ etcd.healthy

/// One health check of the whole cluster: the started members' names, or what failed.
async fn check_cluster(
    endpoints: &[String],
    expected: Option<u64>,
) -> std::result::Result<Vec<String>, String> {
    if endpoints.is_empty() {
        return Err("no endpoints given".into());
    }
    let mut errors = Vec::new();
    for ep in endpoints {
        if let Err(e) = client::endpoint_health(ep).await {
            errors.push(e);
        }
    }
    if !errors.is_empty() {
        return Err(client::join_errors(&errors));
    }
    let (_, members) = client::first_members(endpoints)
        .await
        .map_err(|errors| client::join_errors(&errors))?;
    let mut started: Vec<String> = members
        .iter()
        .filter(|m| m.is_started())
        .map(|m| m.name.clone())
        .collect();
    started.sort();
    if let Some(want) = expected {
        if started.len() as u64 != want {
            let waiting: Vec<&str> = members
                .iter()
                .filter(|m| !m.is_started())
                .flat_map(|m| m.peer_urls.iter().map(String::as_str))
                .collect();
            let mut why = format!("{} members, expected {want}", started.len());
            if !waiting.is_empty() {
                why.push_str(&format!(" (not started yet: {})", waiting.join(", ")));
            }
            return Err(why);
        }
    }
    Ok(started)
}

/// `etcd.healthy(name, endpoints=[http://127.0.0.1:2379], retries=30, interval=2,
/// members=None)`: every endpoint answers, the cluster has a leader and (if given) that
/// many started members; retried until then. Never changes anything.
fn healthy(c: &StateCall) -> Result<Map> {
    const FUN: &str = "etcd.healthy";
    let name = c.name();
    let mut endpoints = str_list(c.arg("endpoints"));
    if endpoints.is_empty() {
        endpoints.push(DEFAULT_ENDPOINT.into());
    }
    let args = count_arg(c.low, FUN, "retries").and_then(|r| {
        let interval = seconds_arg(c.low, FUN, "interval", 2.0)?;
        let expected = count_arg(c.low, FUN, "members")?;
        Ok((r.unwrap_or(30).max(1), interval, expected))
    });
    let (retries, interval, expected) = match args {
        Ok(a) => a,
        Err(why) => return fail(&name, why),
    };
    let tries = if c.test { 1 } else { retries };
    let mut last = String::new();
    for i in 0..tries {
        match block_on(check_cluster(&endpoints, expected))? {
            Ok(names) => {
                return Ok(ret(
                    &name,
                    Map::default(),
                    Some(true),
                    format!(
                        "etcd cluster is healthy: {} members ({})",
                        names.len(),
                        names.join(", ")
                    ),
                ))
            }
            Err(why) => last = why,
        }
        if i + 1 < tries {
            std::thread::sleep(interval);
        }
    }
    if c.test {
        return Ok(ret(
            &name,
            Map::default(),
            None,
            format!(
                "etcd cluster is not healthy yet: {last}; would wait for it ({retries} tries, {} apart)",
                secs_text(interval)
            ),
        ));
    }
    fail(
        &name,
        format!("etcd cluster is not healthy after {tries} tries: {last}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: u64, name: &str, peer: &str) -> Member {
        Member {
            id,
            name: name.into(),
            peer_urls: vec![peer.into()],
            client_urls: vec![],
            is_learner: false,
        }
    }

    #[test]
    fn initial_cluster_names_unstarted_members() {
        let members = [
            member(0x1a, "bootstrap", "http://10.0.0.1:2380"),
            member(0x2b, "", "http://10.0.0.2:2380"),
            member(0x3c, "", "http://10.0.0.3:2380"),
            member(0x4d, "", "http://10.0.0.4:2380"),
        ];
        let mut names = Map::default();
        names.insert("http://10.0.0.2:2380".into(), "cp-2".into());
        assert_eq!(
            initial_cluster(&members, "cp-3", "http://10.0.0.3:2380", &names),
            "bootstrap=http://10.0.0.1:2380,cp-2=http://10.0.0.2:2380,cp-3=http://10.0.0.3:2380,4d=http://10.0.0.4:2380"
        );
    }

    #[test]
    fn urls() {
        assert_eq!(url("10.0.0.1", 2379), "http://10.0.0.1:2379");
        assert_eq!(url("fd00::1", 2380), "http://[fd00::1]:2380");
    }

    #[test]
    fn local_member_by_name_or_url() {
        let t = member(1, "cp-2", "http://10.0.0.2:2380");
        assert!(is_local_member(
            &EnvFile::parse("ETCD_NAME=cp-2\n"),
            &t,
            "cp-2"
        ));
        assert!(is_local_member(
            &EnvFile::parse("ETCD_INITIAL_ADVERTISE_PEER_URLS=http://10.0.0.2:2380\n"),
            &t,
            "x"
        ));
        assert!(!is_local_member(
            &EnvFile::parse("ETCD_NAME=cp-3\n"),
            &t,
            "cp-2"
        ));
    }
}
