//! The remote fileclient (`file_client: remote`): `salt://` files come from the master's
//! fileserver, are cached under `<cachedir>/files/<saltenv>/<path>` (atomic writes), and are
//! fetched again only when the master's hash differs from the cached copy's.

use super::channel::Channel;
use crate::fileclient::FileClient;
use crate::fileroots::parse_salt_url;
use halite_core::{Error, Map, Result, Value};
use halite_proto::crypto::sha256_hex;
use halite_proto::envelope::{get_bytes, get_str, map};
use halite_render::Loader;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The fileclient of one job (listings and hashes are asked once per job).
pub struct RemoteFiles {
    chan: Arc<Channel>,
    cachedir: PathBuf,
    lists: Mutex<HashMap<(String, bool), Vec<String>>>,
    fetched: Mutex<HashMap<(String, String), Option<PathBuf>>>,
    envs: Mutex<Option<Vec<String>>>,
}

impl RemoteFiles {
    /// A fileclient over `chan`, caching under `cachedir/files`.
    pub fn new(chan: Arc<Channel>, cachedir: PathBuf) -> RemoteFiles {
        RemoteFiles {
            chan,
            cachedir,
            lists: Mutex::new(HashMap::new()),
            fetched: Mutex::new(HashMap::new()),
            envs: Mutex::new(None),
        }
    }

    fn ask(&self, cmd: &str, mut load: Map) -> Option<Value> {
        load.insert("cmd".into(), cmd.into());
        match self.chan.request(&load) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(cmd, "fileserver request failed: {e}");
                None
            }
        }
    }

    fn fetch(&self, saltenv: &str, rel: &str) -> Option<PathBuf> {
        // Both name a path under the cache: no component may climb out of it.
        if rel.split('/').any(|c| c == "..")
            || saltenv.is_empty()
            || saltenv == "."
            || saltenv == ".."
            || saltenv.contains(['/', '\0'])
            || rel.contains('\0')
        {
            return None;
        }
        let hash = self.ask(
            "_file_hash",
            map([("path", rel.into()), ("saltenv", saltenv.into())]),
        )?;
        let want = hash.get("hsum").and_then(Value::as_str)?.to_string();
        let dest = self
            .cachedir
            .join("files")
            .join(saltenv)
            .join(rel.trim_start_matches('/'));
        if let Ok(have) = std::fs::read(&dest) {
            if sha256_hex(&have) == want {
                return Some(dest);
            }
        }
        let parent = dest.parent()?.to_path_buf();
        std::fs::create_dir_all(&parent).ok()?;
        let mut tmp = tempfile::NamedTempFile::new_in(&parent).ok()?;
        let mut loc: i64 = 0;
        loop {
            let chunk = self.ask(
                "_serve_file",
                map([
                    ("path", rel.into()),
                    ("saltenv", saltenv.into()),
                    ("loc", Value::Int(loc)),
                ]),
            )?;
            let m = chunk.as_map()?;
            let data = get_bytes(m, "data").unwrap_or(&[]);
            if data.is_empty() {
                if get_str(m, "dest").unwrap_or("").is_empty() && loc == 0 {
                    return None;
                }
                break;
            }
            tmp.write_all(data).ok()?;
            loc += data.len() as i64;
        }
        tmp.as_file().sync_all().ok()?;
        tmp.persist(&dest).ok()?;
        Some(dest)
    }
}

impl FileClient for RemoteFiles {
    fn envs(&self) -> Vec<String> {
        let mut g = self.envs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = &*g {
            return e.clone();
        }
        let e: Vec<String> = self
            .ask("_file_envs", Map::default())
            .and_then(|v| v.as_list().cloned())
            .map(|l| l.iter().map(Value::py_str).collect())
            .unwrap_or_default();
        *g = Some(e.clone());
        e
    }

    fn list_states(&self, saltenv: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .list_files(saltenv, false)
            .into_iter()
            .filter_map(|f| {
                let stem = f.strip_suffix(".sls")?;
                let sls = stem.replace('/', ".");
                Some(match sls.strip_suffix(".init") {
                    Some(s) => s.to_string(),
                    None if sls == "init" => return None,
                    None => sls,
                })
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    fn list_files(&self, saltenv: &str, dirs: bool) -> Vec<String> {
        let key = (saltenv.to_string(), dirs);
        if let Some(v) = self
            .lists
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return v.clone();
        }
        let cmd = if dirs { "_dir_list" } else { "_file_list" };
        let v: Vec<String> = self
            .ask(
                cmd,
                map([("saltenv", saltenv.into()), ("prefix", "".into())]),
            )
            .and_then(|v| v.as_list().cloned())
            .map(|l| l.iter().map(Value::py_str).collect())
            .unwrap_or_default();
        self.lists
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, v.clone());
        v
    }

    fn cache_file(&self, saltenv: &str, rel: &str) -> Option<PathBuf> {
        let key = (saltenv.to_string(), rel.to_string());
        if let Some(p) = self
            .fetched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return p.clone();
        }
        let p = self.fetch(saltenv, rel);
        self.fetched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, p.clone());
        p
    }
}

impl Loader for RemoteFiles {
    fn read(&self, saltenv: &str, path: &str) -> Result<Option<String>> {
        let (rel, env) = parse_salt_url(path);
        let env = env.unwrap_or_else(|| saltenv.to_string());
        match self.cache_file(&env, &rel) {
            Some(p) => std::fs::read_to_string(&p)
                .map(Some)
                .map_err(|e| Error::io(p.display().to_string(), &e)),
            None => Ok(None),
        }
    }
}
