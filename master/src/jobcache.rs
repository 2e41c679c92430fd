//! The job cache in Salt's `local_cache` layout: `<cachedir>/jobs/<h[:2]>/<h[2:]>/` where
//! `h` is the SHA-256 of the jid, holding `jid`, `.load.p` (the publication, msgpack),
//! `.minions.p`, and per minion `<id>/return.p` (and `out.p`). Jobs older than `keep_jobs`
//! hours are removed by the maintenance loop.

use halite_core::{Map, Value};
use halite_proto::crypto::sha256_hex;
use halite_proto::msgpack;
use std::path::{Path, PathBuf};

/// The job cache.
pub struct JobCache {
    dir: PathBuf,
}

fn write(path: &Path, v: &Value) -> std::io::Result<()> {
    crate::pki::write_private(path, &msgpack::encode(v), 0o600)
}

fn read(path: &Path) -> Option<Value> {
    msgpack::decode(&std::fs::read(path).ok()?).ok()
}

impl JobCache {
    /// The cache under `cachedir`.
    pub fn new(cachedir: &Path) -> JobCache {
        JobCache {
            dir: cachedir.join("jobs"),
        }
    }

    /// The directory of `jid`.
    pub fn jid_dir(&self, jid: &str) -> PathBuf {
        let h = sha256_hex(jid.as_bytes());
        self.dir.join(&h[..2]).join(&h[2..])
    }

    /// Store a publication and its expected minions.
    pub fn save_load(&self, jid: &str, load: &Map, minions: &[String]) -> std::io::Result<()> {
        let d = self.jid_dir(jid);
        std::fs::create_dir_all(&d)?;
        std::fs::write(d.join("jid"), jid)?;
        write(&d.join(".load.p"), &Value::Map(load.clone()))?;
        write(
            &d.join(".minions.p"),
            &Value::List(minions.iter().cloned().map(Value::Str).collect()),
        )
    }

    /// Store one minion's return.
    pub fn save_return(&self, jid: &str, id: &str, ret: &Map) -> std::io::Result<()> {
        if !crate::pki::valid_id(id) {
            return Err(std::io::Error::other(format!("invalid minion id {id:?}")));
        }
        let d = self.jid_dir(jid).join(id);
        std::fs::create_dir_all(&d)?;
        write(
            &d.join("return.p"),
            ret.get("return").unwrap_or(&Value::Null),
        )?;
        if let Some(out) = ret.get("out") {
            write(&d.join("out.p"), out)?;
        }
        Ok(())
    }

    /// The stored publication of `jid`.
    pub fn load(&self, jid: &str) -> Option<Map> {
        match read(&self.jid_dir(jid).join(".load.p"))? {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The returns of `jid`: minion id → (return, outputter). A `return.p` holding
    /// `{"return", "retcode", "success"}` (what Salt 3008's `local_cache` writes) gives
    /// its `return`, as Salt's `get_jid` reads both forms.
    pub fn returns(&self, jid: &str) -> Vec<(String, Value, Option<String>)> {
        let d = self.jid_dir(jid);
        let mut out = Vec::new();
        let Ok(rd) = std::fs::read_dir(&d) else {
            return out;
        };
        for e in rd.flatten() {
            if !e.path().is_dir() {
                continue;
            }
            let id = e.file_name().to_string_lossy().into_owned();
            if let Some(r) = read(&e.path().join("return.p")) {
                let r = match r {
                    Value::Map(mut m) if m.contains_key("return") => {
                        m.shift_remove("return").unwrap_or(Value::Null)
                    }
                    other => other,
                };
                let outp = read(&e.path().join("out.p")).map(|v| v.py_str());
                out.push((id, r, outp));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Every stored job: (jid, load), oldest first.
    pub fn jobs(&self) -> Vec<(String, Map)> {
        let mut out = Vec::new();
        for top in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            for d in std::fs::read_dir(top.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let Ok(jid) = std::fs::read_to_string(d.path().join("jid")) else {
                    continue;
                };
                if let Some(Value::Map(m)) = read(&d.path().join(".load.p")) {
                    out.push((jid.trim().to_string(), m));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Remove jobs older than `hours`.
    pub fn clean(&self, hours: u64) {
        let limit = std::time::Duration::from_secs(hours.saturating_mul(3600));
        for top in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            for d in std::fs::read_dir(top.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let old = d
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > limit);
                if old {
                    let _ = std::fs::remove_dir_all(d.path());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_reads_both_local_cache_forms() {
        let dir = tempfile::tempdir().unwrap();
        let cache = JobCache::new(dir.path());
        let jid = "20261124021133089753";
        cache.save_load(jid, &Map::default(), &[]).unwrap();
        let mut ret = Map::default();
        ret.insert("return".into(), Value::Bool(true));
        ret.insert("out".into(), "nested".into());
        cache.save_return(jid, "old", &ret).unwrap();
        // Salt 3008's form: `{"return", "retcode", "success"}`.
        let d = cache.jid_dir(jid).join("new");
        std::fs::create_dir_all(&d).unwrap();
        let mut wrapped = Map::default();
        wrapped.insert("return".into(), Value::Int(7));
        wrapped.insert("retcode".into(), Value::Int(0));
        wrapped.insert("success".into(), Value::Bool(true));
        write(&d.join("return.p"), &Value::Map(wrapped)).unwrap();
        assert_eq!(
            cache.returns(jid),
            vec![
                ("new".to_string(), Value::Int(7), None),
                (
                    "old".to_string(),
                    Value::Bool(true),
                    Some("nested".to_string())
                ),
            ]
        );
    }
}
