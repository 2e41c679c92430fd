//! A local CLI's `publish` (a clear request carrying the master's root key): compute the
//! expected minions, allocate a jid, store the job, fire `salt/job/<jid>/new`, and send the
//! publication on the PUB socket.

use crate::Master;
use halite_core::{Map, Value};
use halite_proto::envelope::{get_str, map};
use halite_proto::openssl_eq;

fn error(name: &str, message: &str) -> Value {
    Value::Map(map([
        ("enc", "clear".into()),
        (
            "load",
            Value::Map(map([(
                "error",
                Value::Map(map([("name", name.into()), ("message", message.into())])),
            )])),
        ),
    ]))
}

/// Handle `publish`.
pub fn handle(m: &Master, load: &Map) -> Value {
    let key = get_str(load, "key").unwrap_or("");
    if !openssl_eq(key.as_bytes(), m.root_key.as_bytes()) {
        tracing::warn!("a publish with a wrong key was refused");
        return error("AuthenticationError", "Authentication error occurred.");
    }
    let (Some(fun), Some(tgt)) = (load.get("fun"), load.get("tgt")) else {
        return error("SaltInvocationError", "publish needs fun and tgt");
    };
    let tgt_type = get_str(load, "tgt_type").unwrap_or("glob").to_string();
    let kwargs = load
        .get("kwargs")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    let delimiter = kwargs
        .get("delimiter")
        .and_then(Value::as_str)
        .unwrap_or(":")
        .to_string();
    let minions = crate::ckminions::check_minions(m, tgt, &tgt_type, &delimiter);
    let missing: Vec<Value> = crate::ckminions::missing(m, tgt, &tgt_type)
        .into_iter()
        .map(Value::Str)
        .collect();
    if minions.is_empty() {
        return Value::Map(map([
            ("enc", "clear".into()),
            (
                "load",
                Value::Map(map([
                    ("jid", Value::Null),
                    ("minions", Value::List(vec![])),
                    ("missing", Value::List(missing)),
                ])),
            ),
        ]));
    }
    let jid = match get_str(load, "jid").filter(|j| halite_proto::jid::is_jid(j)) {
        Some(j) => j.to_string(),
        None => {
            let mut last = m.last_jid.lock().unwrap_or_else(|p| p.into_inner());
            halite_proto::jid::next_jid(&mut last)
        }
    };
    let user = get_str(load, "user").unwrap_or("root").to_string();
    let arg = load.get("arg").cloned().unwrap_or(Value::List(vec![]));
    let mut pub_load = map([
        ("fun", fun.clone()),
        ("arg", arg.clone()),
        ("tgt", tgt.clone()),
        ("jid", jid.clone().into()),
        ("ret", load.get("ret").cloned().unwrap_or_else(|| "".into())),
        ("tgt_type", tgt_type.clone().into()),
        ("user", user.clone().into()),
    ]);
    if delimiter != ":" {
        pub_load.insert("delimiter".into(), delimiter.into());
    }
    for k in ["metadata", "ret_config", "ret_kwargs", "module_executors"] {
        if let Some(v) = kwargs.get(k) {
            pub_load.insert(k.into(), v.clone());
        }
    }
    let minion_values: Vec<Value> = minions.iter().cloned().map(Value::Str).collect();
    m.events.fire_map(
        &format!("salt/job/{jid}/new"),
        map([
            ("jid", jid.clone().into()),
            ("tgt_type", tgt_type.into()),
            ("tgt", tgt.clone()),
            ("user", user.into()),
            ("fun", fun.clone()),
            ("arg", arg),
            ("minions", Value::List(minion_values.clone())),
            ("missing", Value::List(missing.clone())),
        ]),
    );
    if let Err(e) = m.jobs.save_load(&jid, &pub_load, &minions) {
        tracing::warn!(jid, "storing the job: {e}");
    }
    let _in_order = m.publish_lock.lock().unwrap_or_else(|p| p.into_inner());
    let (aes, serial) = m.secrets.next_publication();
    match halite_proto::envelope::publication(&aes, &m.key, &pub_load, serial) {
        Ok(frame) => {
            if let Err(e) = m.publisher.send(&frame) {
                tracing::error!(jid, "publishing: {e}");
                return error("SaltClientError", &format!("publishing failed: {e}"));
            }
        }
        Err(e) => return error("SaltClientError", &format!("publishing failed: {e}")),
    }
    tracing::info!(jid, fun = %fun.py_str(), "published a job");
    Value::Map(map([
        ("enc", "clear".into()),
        (
            "load",
            Value::Map(map([
                ("jid", jid.into()),
                ("minions", Value::List(minion_values)),
                ("missing", Value::List(missing)),
            ])),
        ),
    ]))
}
