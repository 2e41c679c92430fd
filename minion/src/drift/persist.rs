//! The watched set on disk, so a restarted minion keeps watching what it last applied:
//! `<cachedir>/drift/watched.p` (msgpack), marked with the minion id and master it was kept
//! for, one entry per applied state run in the engine's order — its source, its `saltenv` /
//! `pillarenv`, its high data as rendered (compiled again on restore), its running dict, and
//! the fingerprints its watches took, each with the resource it belongs to. The file is
//! written whole, atomically, after the set changes; a file that cannot be read, or was
//! kept for another id or master, is ignored (and logged): the next state run writes a new
//! one.

use super::fingerprint::{Fingerprint, PackageEntry};
use super::Source;
use halite_core::{Map, Value};
use halite_states::Running;
use std::path::{Path, PathBuf};

/// The format's version, so a future layout is refused rather than misread.
const VERSION: i64 = 1;

/// Whom a kept set belongs to: a set kept for another minion id or master is not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The minion id.
    pub id: String,
    /// The `master` option as configured.
    pub master: String,
}

/// The environment options of the job that applied a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envs {
    /// `saltenv`, when the job set one.
    pub saltenv: Option<String>,
    /// `pillarenv`, when the job set one.
    pub pillarenv: Option<String>,
}

/// A resource's name in the kept set (`file:/etc/app.conf`), to pair a kept fingerprint
/// with the resource a compiled chunk names.
pub fn resource_key(r: &super::fingerprint::Resource) -> String {
    format!("{}:{}", r.kind(), r.label())
}

/// Where the set is kept under the minion's `cachedir`.
pub fn path(cachedir: &Path) -> PathBuf {
    cachedir.join("drift").join("watched.p")
}

/// The marker `drift.pause` leaves, so a restarted minion stays paused.
pub fn pause_path(cachedir: &Path) -> PathBuf {
    cachedir.join("drift").join("paused")
}

/// Create the marker file `path` (and its directory).
pub fn mark(path: &Path) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, b"").map_err(|e| format!("{}: {e}", path.display()))
}

/// One applied state run as kept on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    /// Which run it was.
    pub source: Source,
    /// The job's environment options.
    pub envs: Envs,
    /// Its high data, before compilation.
    pub high: Map,
    /// Its running dict (the other chunks' results, for the requisites of a re-run).
    pub running: Running,
    /// Per watched state tag, its resources ([`resource_key`]) with their fingerprints.
    pub fingerprints: Vec<(String, Vec<(String, Fingerprint)>)>,
}

fn source_value(s: &Source) -> Value {
    match s {
        Source::Highstate => Value::Str("highstate".into()),
        Source::Sls { saltenv, mods } => {
            let mut m = Map::default();
            m.insert("saltenv".into(), saltenv.clone().into());
            m.insert(
                "mods".into(),
                Value::List(mods.iter().cloned().map(Value::Str).collect()),
            );
            Value::Map(m)
        }
    }
}

fn source_from(v: &Value) -> Option<Source> {
    match v {
        Value::Str(s) if s == "highstate" => Some(Source::Highstate),
        Value::Map(m) => Some(Source::Sls {
            saltenv: m.get("saltenv")?.as_str()?.to_string(),
            mods: m
                .get("mods")?
                .as_list()?
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()?,
        }),
        _ => None,
    }
}

fn int(v: u64) -> Value {
    Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
}

fn uint(m: &Map, key: &str) -> Option<u64> {
    match m.get(key)? {
        Value::Int(i) => u64::try_from(*i).ok(),
        _ => None,
    }
}

fn u32_of(m: &Map, key: &str) -> Option<u32> {
    uint(m, key).and_then(|v| u32::try_from(v).ok())
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hex string; `None` if it is not one.
fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn text(m: &Map, key: &str) -> Option<String> {
    m.get(key)?.as_str().map(str::to_string)
}

/// A fingerprint as a map with a `kind`.
pub fn fingerprint_value(fp: &Fingerprint) -> Value {
    let mut m = Map::default();
    let mut put = |k: &str, v: Value| {
        m.insert(k.into(), v);
    };
    match fp {
        Fingerprint::Absent => put("kind", "absent".into()),
        Fingerprint::File {
            mode,
            uid,
            gid,
            size,
            sha256,
        } => {
            put("kind", "file".into());
            put("mode", int(u64::from(*mode)));
            put("uid", int(u64::from(*uid)));
            put("gid", int(u64::from(*gid)));
            put("size", int(*size));
            put("sha256", hex(sha256).into());
        }
        Fingerprint::Dir { mode, uid, gid } => {
            put("kind", "dir".into());
            put("mode", int(u64::from(*mode)));
            put("uid", int(u64::from(*uid)));
            put("gid", int(u64::from(*gid)));
        }
        Fingerprint::Symlink { target, uid, gid } => {
            put("kind", "symlink".into());
            put("target", target.display().to_string().into());
            put("uid", int(u64::from(*uid)));
            put("gid", int(u64::from(*gid)));
        }
        Fingerprint::Special { mode, uid, gid } => {
            put("kind", "special".into());
            put("mode", int(u64::from(*mode)));
            put("uid", int(u64::from(*uid)));
            put("gid", int(u64::from(*gid)));
        }
        Fingerprint::Unit { active, file_state } => {
            put("kind", "unit".into());
            put("active", active.clone().into());
            put("file_state", file_state.clone().into());
        }
        Fingerprint::Package(entry) => {
            put("kind", "package".into());
            if let Some(e) = entry {
                put("version", e.version.clone().into());
                put(
                    "status",
                    Value::List(e.status.iter().cloned().map(Value::Str).collect()),
                );
            }
        }
        Fingerprint::Etcd(members) => {
            put("kind", "etcd".into());
            put("members", members.clone().into());
        }
    }
    Value::Map(m)
}

/// The fingerprint [`fingerprint_value`] wrote; `None` for anything else.
pub fn fingerprint_from(v: &Value) -> Option<Fingerprint> {
    let m = v.as_map()?;
    Some(match m.get("kind")?.as_str()? {
        "absent" => Fingerprint::Absent,
        "file" => {
            let sha = unhex(&text(m, "sha256")?)?;
            Fingerprint::File {
                mode: u32_of(m, "mode")?,
                uid: u32_of(m, "uid")?,
                gid: u32_of(m, "gid")?,
                size: uint(m, "size")?,
                sha256: sha.as_slice().try_into().ok()?,
            }
        }
        "dir" => Fingerprint::Dir {
            mode: u32_of(m, "mode")?,
            uid: u32_of(m, "uid")?,
            gid: u32_of(m, "gid")?,
        },
        "symlink" => Fingerprint::Symlink {
            target: PathBuf::from(text(m, "target")?),
            uid: u32_of(m, "uid")?,
            gid: u32_of(m, "gid")?,
        },
        "special" => Fingerprint::Special {
            mode: u32_of(m, "mode")?,
            uid: u32_of(m, "uid")?,
            gid: u32_of(m, "gid")?,
        },
        "unit" => Fingerprint::Unit {
            active: text(m, "active")?,
            file_state: text(m, "file_state")?,
        },
        "package" => match (m.get("version"), m.get("status")) {
            (Some(Value::Str(version)), Some(Value::List(status))) => {
                let words: Vec<String> = status
                    .iter()
                    .map(|w| w.as_str().map(str::to_string))
                    .collect::<Option<_>>()?;
                Fingerprint::Package(Some(PackageEntry {
                    version: version.clone(),
                    status: words.try_into().ok()?,
                }))
            }
            _ => Fingerprint::Package(None),
        },
        "etcd" => Fingerprint::Etcd(text(m, "members")?),
        _ => return None,
    })
}

fn saved_value(s: &Saved) -> Value {
    let mut m = Map::default();
    m.insert("source".into(), source_value(&s.source));
    let env = |v: &Option<String>| v.clone().map_or(Value::Null, Value::Str);
    m.insert("saltenv".into(), env(&s.envs.saltenv));
    m.insert("pillarenv".into(), env(&s.envs.pillarenv));
    m.insert("high".into(), Value::Map(s.high.clone()));
    m.insert(
        "running".into(),
        Value::Map(
            s.running
                .iter()
                .map(|(t, r)| (Value::Str(t.clone()), Value::Map(r.clone())))
                .collect(),
        ),
    );
    m.insert(
        "fingerprints".into(),
        Value::Map(
            s.fingerprints
                .iter()
                .map(|(tag, fps)| {
                    let fps = fps
                        .iter()
                        .map(|(key, fp)| {
                            let mut v = fingerprint_value(fp);
                            if let Value::Map(m) = &mut v {
                                m.insert("resource".into(), key.clone().into());
                            }
                            v
                        })
                        .collect();
                    (Value::Str(tag.clone()), Value::List(fps))
                })
                .collect(),
        ),
    );
    Value::Map(m)
}

fn saved_from(v: &Value) -> Option<Saved> {
    let m = v.as_map()?;
    let running = m
        .get("running")?
        .as_map()?
        .iter()
        .map(|(t, r)| Some((t.as_str()?.to_string(), r.as_map()?.clone())))
        .collect::<Option<Running>>()?;
    let fingerprints = m
        .get("fingerprints")?
        .as_map()?
        .iter()
        .map(|(tag, fps)| {
            let fps = fps
                .as_list()?
                .iter()
                .map(|v| {
                    let key = v.as_map()?.get("resource")?.as_str()?.to_string();
                    Some((key, fingerprint_from(v)?))
                })
                .collect::<Option<Vec<_>>>()?;
            Some((tag.as_str()?.to_string(), fps))
        })
        .collect::<Option<Vec<_>>>()?;
    let env = |k: &str| match m.get(k) {
        Some(Value::Str(s)) => Some(Some(s.clone())),
        None | Some(Value::Null) => Some(None),
        Some(_) => None,
    };
    Some(Saved {
        source: source_from(m.get("source")?)?,
        envs: Envs {
            saltenv: env("saltenv")?,
            pillarenv: env("pillarenv")?,
        },
        high: m.get("high")?.as_map()?.clone(),
        running,
        fingerprints,
    })
}

/// Write the set kept for `who` to `path` (atomically: a temp file in the same directory,
/// then a rename).
pub fn save(path: &Path, who: &Identity, set: &[Saved]) -> Result<(), String> {
    let mut doc = Map::default();
    doc.insert("version".into(), Value::Int(VERSION));
    doc.insert("id".into(), who.id.clone().into());
    doc.insert("master".into(), who.master.clone().into());
    doc.insert(
        "runs".into(),
        Value::List(set.iter().map(saved_value).collect()),
    );
    let dir = path
        .parent()
        .ok_or_else(|| format!("{}: no parent directory", path.display()))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    halite_states::modules::file::util::atomic_write(
        path,
        &halite_proto::msgpack::encode(&Value::Map(doc)),
        Some(0o600),
    )
    .map_err(|e| format!("{}: {e}", path.display()))
}

/// Read the set kept at `path` for `who`: empty when there is none, an error when it is
/// unreadable or was kept for another minion id or master.
pub fn load(path: &Path, who: &Identity) -> Result<Vec<Saved>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let doc = halite_proto::msgpack::decode(&bytes)
        .map_err(|e| format!("{}: not a kept watched set: {e}", path.display()))?;
    let doc = doc
        .as_map()
        .ok_or_else(|| format!("{}: not a kept watched set", path.display()))?;
    if doc.get("version") != Some(&Value::Int(VERSION)) {
        return Err(format!(
            "{}: a watched set of another version ({})",
            path.display(),
            doc.get("version").map_or("none".into(), Value::py_repr)
        ));
    }
    let kept_for = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or_default();
    if kept_for("id") != who.id || kept_for("master") != who.master {
        return Err(format!(
            "{}: kept for minion '{}' of master '{}', this is '{}' of '{}'",
            path.display(),
            kept_for("id"),
            kept_for("master"),
            who.id,
            who.master
        ));
    }
    doc.get("runs")
        .and_then(Value::as_list)
        .ok_or_else(|| format!("{}: no runs", path.display()))?
        .iter()
        .map(|r| saved_from(r).ok_or_else(|| format!("{}: a damaged entry", path.display())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_survives_the_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path());
        let who = Identity {
            id: "m1".into(),
            master: "10.0.0.1".into(),
        };
        assert_eq!(load(&p, &who).unwrap(), Vec::new(), "no file: nothing kept");
        let mut high = Map::default();
        high.insert("app".into(), Value::Map(Map::default()));
        let mut running = Running::default();
        running.insert("file_|-app_|-/a_|-managed".into(), Map::default());
        let fps = vec![
            Fingerprint::Absent,
            Fingerprint::File {
                mode: 0o644,
                uid: 0,
                gid: 0,
                size: 3,
                sha256: [7; 32],
            },
            Fingerprint::Dir {
                mode: 0o755,
                uid: 1,
                gid: 2,
            },
            Fingerprint::Symlink {
                target: "/x".into(),
                uid: 0,
                gid: 0,
            },
            Fingerprint::Special {
                mode: 0o10644,
                uid: 0,
                gid: 0,
            },
            Fingerprint::Unit {
                active: "active".into(),
                file_state: "enabled".into(),
            },
            Fingerprint::Package(None),
            Fingerprint::Package(Some(PackageEntry {
                version: "1.0".into(),
                status: ["install".into(), "ok".into(), "installed".into()],
            })),
            Fingerprint::Etcd("8e9e05c52164694d n1 started".into()),
        ];
        let fps = fps
            .into_iter()
            .enumerate()
            .map(|(i, fp)| (format!("file:/f{i}"), fp))
            .collect();
        let set = vec![
            Saved {
                source: Source::Highstate,
                envs: Envs::default(),
                high: high.clone(),
                running: running.clone(),
                fingerprints: vec![("file_|-app_|-/a_|-managed".into(), fps)],
            },
            Saved {
                source: Source::Sls {
                    saltenv: "base".into(),
                    mods: vec!["web".into()],
                },
                envs: Envs {
                    saltenv: Some("base".into()),
                    pillarenv: None,
                },
                high,
                running,
                fingerprints: Vec::new(),
            },
        ];
        save(&p, &who, &set).unwrap();
        assert_eq!(load(&p, &who).unwrap(), set);
        let other = Identity {
            id: "m2".into(),
            master: who.master.clone(),
        };
        assert!(load(&p, &other).is_err(), "another minion's set");
        std::fs::write(&p, b"\x93garbage").unwrap();
        assert!(load(&p, &who).is_err());
    }
}
