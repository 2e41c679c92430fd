//! The local fileserver: `file_roots` per saltenv, first root wins, as Salt's `roots` backend.

use crate::fileclient::FileClient;
use halite_core::config::MinionConfig;
use halite_core::{Error, Result};
use halite_render::Loader;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Files of the state tree, read from `file_roots` (or `pillar_roots`) on this machine.
pub struct LocalRoots {
    roots: HashMap<String, Vec<PathBuf>>,
    envs: Vec<String>,
    list_cache: Mutex<HashMap<String, Vec<String>>>,
}

/// Split `salt://path?saltenv=env` into (path, saltenv override).
pub fn parse_salt_url(url: &str) -> (String, Option<String>) {
    let rest = url.strip_prefix("salt://").unwrap_or(url);
    match rest.split_once('?') {
        Some((p, q)) => {
            let env = q
                .split('&')
                .find_map(|kv| {
                    kv.strip_prefix("saltenv=")
                        .or_else(|| kv.strip_prefix("env="))
                })
                .map(str::to_string);
            (p.to_string(), env)
        }
        None => (rest.to_string(), None),
    }
}

impl LocalRoots {
    /// Roots from the config key `key` (`file_roots` or `pillar_roots`).
    pub fn from_config(cfg: &MinionConfig, key: &str) -> Self {
        let envs = cfg.envs(key);
        let mut roots = HashMap::default();
        for env in &envs {
            roots.insert(
                env.clone(),
                cfg.roots(key, env).into_iter().map(PathBuf::from).collect(),
            );
        }
        LocalRoots {
            roots,
            envs,
            list_cache: Mutex::new(HashMap::default()),
        }
    }

    /// The directories of a saltenv.
    pub fn roots(&self, saltenv: &str) -> &[PathBuf] {
        self.roots.get(saltenv).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The first root's file at `rel` in `saltenv`.
    pub fn find(&self, saltenv: &str, rel: &str) -> Option<PathBuf> {
        let rel = rel.trim_start_matches('/');
        if rel.split('/').any(|c| c == "..") {
            return None;
        }
        self.roots(saltenv)
            .iter()
            .map(|r| r.join(rel))
            .find(|p| p.is_file())
    }

    fn states_of(&self, saltenv: &str) -> Vec<String> {
        if let Ok(cache) = self.list_cache.lock() {
            if let Some(v) = cache.get(saltenv) {
                return v.clone();
            }
        }
        let mut out = Vec::new();
        for root in self.roots(saltenv) {
            walk(root, root, &mut out, &mut HashSet::new());
        }
        out.sort();
        out.dedup();
        if let Ok(mut cache) = self.list_cache.lock() {
            cache.insert(saltenv.to_string(), out.clone());
        }
        out
    }
}

/// Has this directory (by device and inode) been walked already? Directory symlinks are
/// followed, as Salt's `fileserver_followsymlinks` default does, so a link back up the
/// tree must not be walked again.
fn seen_before(dir: &Path, visited: &mut HashSet<(u64, u64)>) -> bool {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(dir) {
        Ok(m) => !visited.insert((m.dev(), m.ino())),
        Err(_) => true,
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>, visited: &mut HashSet<(u64, u64)>) {
    if seen_before(dir, visited) {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in rd.flatten() {
        let p = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            walk(root, &p, out, visited);
        } else if let Some(stem) = name.strip_suffix(".sls") {
            let rel = p.strip_prefix(root).unwrap_or(&p);
            let parent = rel
                .parent()
                .map(|x| x.to_string_lossy().replace('/', "."))
                .unwrap_or_default();
            let sls = if stem == "init" {
                if parent.is_empty() {
                    continue;
                } else {
                    parent
                }
            } else if parent.is_empty() {
                stem.to_string()
            } else {
                format!("{parent}.{stem}")
            };
            out.push(sls);
        }
    }
}

fn rel_files(
    root: &Path,
    dir: &Path,
    files: &mut Vec<String>,
    dirs: &mut Vec<String>,
    visited: &mut HashSet<(u64, u64)>,
) {
    if seen_before(dir, visited) {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in rd.flatten() {
        let p = entry.path();
        let rel = p
            .strip_prefix(root)
            .unwrap_or(&p)
            .to_string_lossy()
            .into_owned();
        if p.is_dir() {
            dirs.push(rel);
            rel_files(root, &p, files, dirs, visited);
        } else {
            files.push(rel);
        }
    }
}

impl FileClient for LocalRoots {
    fn envs(&self) -> Vec<String> {
        self.envs.clone()
    }

    fn list_states(&self, saltenv: &str) -> Vec<String> {
        self.states_of(saltenv)
    }

    fn list_files(&self, saltenv: &str, want_dirs: bool) -> Vec<String> {
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for root in self.roots(saltenv) {
            rel_files(root, root, &mut files, &mut dirs, &mut HashSet::new());
        }
        let mut out = if want_dirs { dirs } else { files };
        out.retain(|f| !f.split('/').any(|c| c.starts_with(".git")));
        out.sort();
        out.dedup();
        out
    }

    fn cache_file(&self, saltenv: &str, rel: &str) -> Option<PathBuf> {
        self.find(saltenv, rel)
    }
}

impl Loader for LocalRoots {
    fn read(&self, saltenv: &str, path: &str) -> Result<Option<String>> {
        let (rel, env) = parse_salt_url(path);
        let env = env.unwrap_or_else(|| saltenv.to_string());
        match self.find(&env, &rel) {
            Some(p) => std::fs::read_to_string(&p)
                .map(Some)
                .map_err(|e| Error::io(p.display().to_string(), &e)),
            None => Ok(None),
        }
    }
}
