//! The master's fileserver (`roots` backend) behind the minion commands `_file_envs`,
//! `_file_list`, `_dir_list`, `_file_list_emptydirs`, `_symlink_list`, `_file_hash`,
//! `_file_find`, `_file_hash_and_stat` and `_serve_file` (chunks of `file_buffer_size`).
//! Paths are relative to a saltenv's roots; `..` never leaves them.

use halite_core::config::MinionConfig;
use halite_core::{Map, Value};
use halite_minion::fileclient::FileClient;
use halite_minion::fileroots::LocalRoots;
use halite_proto::envelope::{get_str, map};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// The SHA-256 of a file, read in 64 KiB blocks (files may be large; memory stays flat).
fn hash_file(path: &std::path::Path) -> std::io::Result<String> {
    use sha2::Digest;
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(halite_proto::crypto::hex(&h.finalize()))
}

/// The fileserver over the master's `file_roots`.
pub struct FileServer {
    roots: LocalRoots,
    buffer: usize,
}

fn saltenv(load: &Map) -> String {
    get_str(load, "saltenv")
        .or_else(|| get_str(load, "env"))
        .filter(|s| !s.is_empty())
        .unwrap_or("base")
        .to_string()
}

fn rel_path(load: &Map) -> String {
    let p = get_str(load, "path").unwrap_or("");
    halite_minion::fileroots::parse_salt_url(p).0
}

impl FileServer {
    /// A fileserver over the master options' `file_roots`.
    pub fn new(opts: &Map) -> FileServer {
        let cfg = MinionConfig {
            opts: opts.clone(),
            unknown_keys: vec![],
        };
        let buffer = opts
            .get("file_buffer_size")
            .and_then(Value::as_int)
            .filter(|n| *n > 0)
            .unwrap_or(1_048_576) as usize;
        FileServer {
            roots: LocalRoots::from_config(&cfg, "file_roots"),
            buffer,
        }
    }

    /// The saltenvs (`_file_envs`).
    pub fn envs(&self) -> Value {
        Value::List(self.roots.envs().into_iter().map(Value::Str).collect())
    }

    fn find(&self, load: &Map) -> Option<(PathBuf, String)> {
        let rel = rel_path(load);
        if rel.is_empty() {
            return None;
        }
        let path = self.roots.find(&saltenv(load), &rel)?;
        Some((path, rel))
    }

    /// `_file_list` (or `_dir_list` with `dirs`), filtered by `prefix`.
    pub fn list(&self, load: &Map, dirs: bool) -> Value {
        let prefix = get_str(load, "prefix").unwrap_or("").trim_matches('/');
        Value::List(
            self.roots
                .list_files(&saltenv(load), dirs)
                .into_iter()
                .filter(|f| prefix.is_empty() || f.starts_with(prefix))
                .map(Value::Str)
                .collect(),
        )
    }

    /// `_file_list_emptydirs`: directories with nothing in them.
    pub fn empty_dirs(&self, load: &Map) -> Value {
        let env = saltenv(load);
        let files = self.roots.list_files(&env, false);
        let dirs = self.roots.list_files(&env, true);
        Value::List(
            dirs.into_iter()
                .filter(|d| {
                    let pre = format!("{d}/");
                    !files.iter().any(|f| f.starts_with(&pre))
                })
                .map(Value::Str)
                .collect(),
        )
    }

    /// `_file_hash`: `{"hsum", "hash_type"}`, or `""` when the file is not there.
    pub fn hash(&self, load: &Map) -> Value {
        match self.find(load).and_then(|(p, _)| hash_file(&p).ok()) {
            Some(hsum) => Value::Map(map([("hsum", hsum.into()), ("hash_type", "sha256".into())])),
            None => Value::Str(String::new()),
        }
    }

    fn stat(path: &std::path::Path) -> Value {
        match std::fs::metadata(path) {
            Ok(m) => Value::List(
                [
                    i64::from(m.mode()),
                    m.ino() as i64,
                    m.dev() as i64,
                    m.nlink() as i64,
                    i64::from(m.uid()),
                    i64::from(m.gid()),
                    m.size() as i64,
                    m.atime(),
                    m.mtime(),
                    m.ctime(),
                ]
                .into_iter()
                .map(Value::Int)
                .collect(),
            ),
            Err(_) => Value::Null,
        }
    }

    /// `_file_find`: the fnd dict.
    pub fn find_file(&self, load: &Map) -> Value {
        match self.find(load) {
            Some((p, rel)) => Value::Map(map([
                ("path", p.display().to_string().into()),
                ("rel", rel.into()),
                ("back", "roots".into()),
                ("stat", Self::stat(&p)),
            ])),
            None => Value::Map(map([("path", "".into()), ("rel", "".into())])),
        }
    }

    /// `_file_hash_and_stat`.
    pub fn hash_and_stat(&self, load: &Map) -> Value {
        let stat = self.find(load).map(|(p, _)| Self::stat(&p));
        Value::List(vec![self.hash(load), stat.unwrap_or(Value::Null)])
    }

    /// `_serve_file`: the chunk at `loc`; empty `data` ends the transfer.
    pub fn serve(&self, load: &Map) -> Value {
        let Some((path, rel)) = self.find(load) else {
            return Value::Map(map([("data", "".into()), ("dest", "".into())]));
        };
        let loc = load.get("loc").and_then(Value::as_int).unwrap_or(0).max(0) as u64;
        let read = || -> std::io::Result<Vec<u8>> {
            let mut f = std::fs::File::open(&path)?;
            f.seek(SeekFrom::Start(loc))?;
            let mut buf = Vec::with_capacity(self.buffer.min(1 << 20));
            f.take(self.buffer as u64).read_to_end(&mut buf)?;
            Ok(buf)
        };
        match read() {
            Ok(data) => Value::Map(map([("data", Value::Bytes(data)), ("dest", rel.into())])),
            Err(e) => {
                tracing::warn!(path = %path.display(), "serving a file: {e}");
                Value::Map(map([("data", "".into()), ("dest", "".into())]))
            }
        }
    }
}
