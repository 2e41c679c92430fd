//! The commands an authenticated minion may send (Salt's `AESFuncs`): returns, events,
//! pillar, master options and tops, and the fileserver. Unknown commands answer `{}` as
//! Salt does.

use crate::Master;
use halite_core::config::MinionConfig;
use halite_core::{Map, Value};
use halite_proto::envelope::{get_str, map};

/// What a command's reply needs: sent under the session key, or `send_private` (pillar).
pub enum Reply {
    /// `send`: the session Crypticle with the request nonce.
    Send(Value),
    /// `send_private`: the pillar format with a one-off key.
    Private(Value),
}

/// Run one command for minion `id` (already authenticated).
pub fn dispatch(m: &Master, id: &str, cmd: &str, load: &Map) -> Reply {
    let send = Reply::Send;
    match cmd {
        "_return" => send(ret(m, id, load)),
        "_minion_event" => send(minion_event(m, id, load)),
        "_pillar" => Reply::Private(pillar(m, id, load)),
        "_master_opts" => send(master_opts(m)),
        "_master_tops" => send(Value::Map(Map::default())),
        "_file_envs" => send(m.files.envs()),
        "_file_list" => send(m.files.list(load, false)),
        "_dir_list" => send(m.files.list(load, true)),
        "_file_list_emptydirs" => send(m.files.empty_dirs(load)),
        "_symlink_list" => send(Value::Map(Map::default())),
        "_file_hash" => send(m.files.hash(load)),
        "_file_find" => send(m.files.find_file(load)),
        "_file_hash_and_stat" => send(m.files.hash_and_stat(load)),
        "_serve_file" => send(m.files.serve(load)),
        "_register_resources" => send(Value::Map(Map::default())),
        _ => {
            tracing::debug!(minion = id, cmd, "command not served: answering {{}}");
            send(Value::Map(Map::default()))
        }
    }
}

fn ret(m: &Master, id: &str, load: &Map) -> Value {
    let (Some(jid), true) = (get_str(load, "jid"), load.contains_key("return")) else {
        tracing::warn!(minion = id, "a return without jid or return");
        return Value::Null;
    };
    let (jid, load) = if jid == "req" {
        // A job the minion started itself (schedule, startup states, drift repairs):
        // allocate a jid and keep the load, completed as Salt's `store_job` completes it
        // in place (`arg`, `tgt`, `tgt_type`, the new `jid`), as the job's load, the
        // return and the event, so `jobs.*` list it and keep what it carries (`metadata`).
        let jid = {
            let mut last = m.last_jid.lock().unwrap_or_else(|p| p.into_inner());
            halite_proto::jid::next_jid(&mut last)
        };
        let mut job = load.clone();
        if !job.contains_key("arg") {
            let arg = job.get("fun_args").cloned().unwrap_or(Value::List(vec![]));
            job.insert("arg".into(), arg);
        }
        job.insert("tgt_type".into(), "glob".into());
        job.insert("tgt".into(), id.into());
        job.insert("jid".into(), jid.clone().into());
        if let Err(e) = m.jobs.save_load(&jid, &job, &[id.to_string()]) {
            tracing::warn!(minion = id, jid, "storing the job: {e}");
        }
        (jid, job)
    } else if halite_proto::jid::is_jid(jid) {
        (jid.to_string(), load.clone())
    } else {
        tracing::warn!(minion = id, jid, "a return with an invalid jid");
        return Value::Null;
    };
    if let Err(e) = m.jobs.save_return(&jid, id, &load) {
        tracing::warn!(minion = id, jid, "storing a return: {e}");
    }
    tracing::info!(minion = id, jid, "got a return");
    m.events
        .fire(&format!("salt/job/{jid}/ret/{id}"), &Value::Map(load));
    Value::Null
}

/// Tags a minion may not fire (the master's own), as Salt's `valid_minion_tag` guards.
fn tag_allowed(id: &str, tag: &str) -> bool {
    if tag.starts_with("salt/auth") || tag.starts_with("salt/key") || tag.starts_with("salt/run") {
        return false;
    }
    if let Some(rest) = tag.strip_prefix("salt/job/") {
        // Only progress events of the minion itself.
        let parts: Vec<&str> = rest.split('/').collect();
        return parts.len() >= 3 && parts[1] == "prog" && parts[2] == id;
    }
    true
}

fn minion_event(m: &Master, id: &str, load: &Map) -> Value {
    let fire = |tag: &str, data: &Value| {
        if tag_allowed(id, tag) {
            m.events.fire(tag, data);
        } else {
            tracing::warn!(minion = id, tag, "refused a minion event with a master tag");
        }
    };
    // As Salt's `_minion_event`: a batch fires each event's `data` (or the event itself),
    // a single event fires the whole load as its data.
    if let Some(Value::List(events)) = load.get("events") {
        for e in events {
            if let Some(tag) = e.get("tag").and_then(Value::as_str) {
                fire(tag, e.get("data").unwrap_or(e));
            }
        }
    } else if let Some(tag) = get_str(load, "tag") {
        fire(tag, &Value::Map(load.clone()));
    }
    Value::Bool(true)
}

fn pillar(m: &Master, id: &str, load: &Map) -> Value {
    let mut grains = match load.get("grains") {
        Some(Value::Map(g)) => g.clone(),
        _ => Map::default(),
    };
    grains.insert("id".into(), id.into());
    let mut opts = m.cfg.opts.clone();
    opts.insert("id".into(), id.into());
    opts.insert("file_client".into(), "local".into());
    if let Some(p) = get_str(load, "pillarenv") {
        opts.insert("pillarenv".into(), p.into());
    }
    let cfg = MinionConfig {
        opts,
        unknown_keys: vec![],
    };
    let over = match load.get("pillar_override") {
        Some(Value::Map(o)) if !o.is_empty() => Some(o.clone()),
        _ => None,
    };
    let minion = halite_minion::Minion::for_pillar(cfg, over, Value::Map(grains.clone()));
    let (pillar, errors) = minion.pillar_full().clone();
    let mut pillar = pillar;
    if !errors.is_empty() {
        tracing::warn!(minion = id, ?errors, "pillar errors");
        if let Value::Map(p) = &mut pillar {
            p.insert(
                "_errors".into(),
                Value::List(errors.into_iter().map(Value::Str).collect()),
            );
        }
    }
    if m.cfg.flag("minion_data_cache") {
        m.data.store(id, &Value::Map(grains), &pillar);
    }
    pillar
}

fn master_opts(m: &Master) -> Value {
    let o = &m.cfg.opts;
    let mut out = Map::default();
    for k in [
        "renderer",
        "state_top",
        "top_file_merging_strategy",
        "env_order",
        "default_top",
        "failhard",
        "state_top_saltenv",
        "nodegroups",
        "state_auto_order",
        "state_events",
        "state_aggregate",
        "jinja_env",
        "jinja_sls_env",
        "jinja_lstrip_blocks",
        "jinja_trim_blocks",
        "hash_type",
    ] {
        if let Some(v) = o.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    let envs: Map = m
        .files
        .envs()
        .as_list()
        .map(|l| l.iter().map(|e| (e.clone(), Value::List(vec![]))).collect())
        .unwrap_or_default();
    out.insert("file_roots".into(), Value::Map(envs));
    Value::Map(out)
}

/// The `send_private` reply for `ret` to minion `id`: `{"key", "pillar"}`, signed over the
/// packed `{key, pillar, nonce}`.
pub fn private_reply(
    m: &Master,
    id: &str,
    ret: &Value,
    nonce: &str,
    enc: halite_proto::EncAlgo,
    sig: halite_proto::SigAlgo,
) -> Result<Value, String> {
    let minion = m
        .pki
        .accepted_key(id)
        .ok_or("no accepted key")?
        .map_err(|e| e.to_string())?;
    let k = halite_proto::crypto::new_key_string();
    let key = minion
        .encrypt(enc, k.as_bytes())
        .map_err(|e| e.to_string())?;
    let to_sign = halite_proto::msgpack::encode(&Value::Map(map([
        ("key", Value::Bytes(key.clone())),
        ("pillar", ret.clone()),
        ("nonce", nonce.into()),
    ])));
    let signature = m.key.sign(sig, &to_sign).map_err(|e| e.to_string())?;
    let c = halite_proto::Crypticle::new(&k).map_err(|e| e.to_string())?;
    let pillar = c
        .dumps(
            &Value::Map(map([
                ("data", Value::Bytes(to_sign)),
                ("sig", Value::Bytes(signature)),
            ])),
            None,
        )
        .map_err(|e| e.to_string())?;
    Ok(Value::Map(map([
        ("key", Value::Bytes(key)),
        ("pillar", Value::Bytes(pillar)),
    ])))
}
