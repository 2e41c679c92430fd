//! What a low chunk manages (its watchable resources) and what a resource looks like right
//! now (its fingerprint). A watch only wakes a probe; a repair runs only when the probe's
//! fingerprint differs from the one taken right after the apply.

use halite_core::Value;
use halite_k8s::etcd::states::Membership;
use halite_states::chunk::Chunk;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A resource a state manages and the drift engine can watch.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    /// A path: a file, a directory, a symlink, or a path that must stay absent.
    Path(PathBuf),
    /// A systemd unit, by its full name (`app.service`).
    Unit(String),
    /// A Debian package, by the name dpkg's status database gives it.
    Package(String),
    /// An etcd member (`etcd.member_present` / `member_absent`), polled.
    Etcd(Membership),
}

impl Resource {
    /// The kind of resource as the drift event's `trigger` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Resource::Path(_) => "file",
            Resource::Unit(_) => "service",
            Resource::Package(_) => "package",
            Resource::Etcd(_) => "etcd_member",
        }
    }

    /// Is it watched through inotify (a path, or dpkg's status file for a package)?
    pub fn inotify(&self) -> bool {
        matches!(self, Resource::Path(_) | Resource::Package(_))
    }

    /// The resource's name (the path, the unit, the package, the etcd member).
    pub fn label(&self) -> String {
        match self {
            Resource::Path(p) => p.display().to_string(),
            Resource::Unit(u) => u.clone(),
            Resource::Package(p) => p.clone(),
            Resource::Etcd(m) => m.name.clone(),
        }
    }
}

/// The state functions whose `name` is a path they keep in shape (content, mode, owner,
/// type, target, or absence). `file.touch` (changes the mtime on every run), `file.exists`
/// / `file.missing` (only look) and `file.recurse` (a tree) are not watched.
const PATH_STATES: &[&str] = &[
    "file.managed",
    "file.directory",
    "file.serialize",
    "file.symlink",
    "file.absent",
    "file.copy",
    "file.append",
    "file.prepend",
    "file.replace",
    "file.line",
    "file.comment",
    "file.uncomment",
];

/// The state functions whose `name` is a systemd unit.
const UNIT_STATES: &[&str] = &[
    "service.running",
    "service.dead",
    "service.enabled",
    "service.disabled",
    "service.masked",
    "service.unmasked",
];

/// The state functions whose `name` (or `pkgs`) are packages.
const PACKAGE_STATES: &[&str] = &[
    "pkg.installed",
    "pkg.latest",
    "pkg.removed",
    "pkg.purged",
    "pkg.held",
    "pkg.unheld",
];

/// `state.fun` of a chunk.
fn full_name(chunk: &Chunk) -> String {
    format!(
        "{}.{}",
        halite_states::chunk::field(chunk, "state"),
        halite_states::chunk::field(chunk, "fun")
    )
}

/// The packages a `pkg.*` chunk names: `pkgs` (names, or one-key `{name: version}` maps)
/// when given, else `name`.
fn package_names(chunk: &Chunk) -> Vec<String> {
    match chunk.get("pkgs") {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|item| match item {
                Value::Map(m) => m.keys().next().map(Value::py_str),
                Value::Null => None,
                other => Some(other.py_str()),
            })
            .collect(),
        _ => chunk
            .get("name")
            .filter(|v| !v.is_null())
            .map(|v| vec![v.py_str()])
            .unwrap_or_default(),
    }
}

/// The resources a low chunk manages; empty when the engine cannot watch it.
pub fn resources(chunk: &Chunk) -> Vec<Resource> {
    let full = full_name(chunk);
    if let Some(m) = halite_k8s::watch::membership(&full, chunk) {
        return vec![Resource::Etcd(m)];
    }
    let k8s_paths = halite_k8s::watch::managed_paths(&full, chunk);
    if !k8s_paths.is_empty() {
        return k8s_paths.into_iter().map(Resource::Path).collect();
    }
    let name = chunk
        .get("name")
        .filter(|v| !v.is_null())
        .map(Value::py_str);
    if PATH_STATES.contains(&full.as_str()) {
        return name
            .filter(|n| n.starts_with('/'))
            .map(|n| vec![Resource::Path(PathBuf::from(n))])
            .unwrap_or_default();
    }
    if UNIT_STATES.contains(&full.as_str()) {
        return name
            .filter(|n| !n.is_empty())
            .map(|n| {
                vec![Resource::Unit(
                    halite_states::exec::systemd::canonical_name(&n),
                )]
            })
            .unwrap_or_default();
    }
    if PACKAGE_STATES.contains(&full.as_str()) {
        return package_names(chunk)
            .into_iter()
            .filter(|n| !n.is_empty())
            .map(Resource::Package)
            .collect();
    }
    Vec::new()
}

/// A package's entry in dpkg's status database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageEntry {
    /// `Version`.
    pub version: String,
    /// The three words of `Status`: want, flag, state.
    pub status: [String; 3],
}

/// What a resource looks like at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fingerprint {
    /// Nothing at the path.
    Absent,
    /// A regular file.
    File {
        /// `mode & 0o7777`.
        mode: u32,
        /// Owner.
        uid: u32,
        /// Group.
        gid: u32,
        /// Size in bytes.
        size: u64,
        /// SHA-256 of the content.
        sha256: [u8; 32],
    },
    /// A directory (its size and entries are not part of it).
    Dir {
        /// `mode & 0o7777`.
        mode: u32,
        /// Owner.
        uid: u32,
        /// Group.
        gid: u32,
    },
    /// A symbolic link.
    Symlink {
        /// What it points at.
        target: PathBuf,
        /// Owner.
        uid: u32,
        /// Group.
        gid: u32,
    },
    /// A socket, FIFO or device node.
    Special {
        /// `st_mode` (type and permission bits).
        mode: u32,
        /// Owner.
        uid: u32,
        /// Group.
        gid: u32,
    },
    /// A systemd unit.
    Unit {
        /// `ActiveState`.
        active: String,
        /// `UnitFileState`.
        file_state: String,
    },
    /// A package: its status entry, `None` when dpkg has none.
    Package(Option<PackageEntry>),
    /// An etcd member as the cluster lists it (`Membership::probe`).
    Etcd(String),
}

/// The SHA-256 of a file's content, read in blocks.
fn sha256_file(path: &Path) -> Result<[u8; 32], String> {
    let mut f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

/// The fingerprint of a path: `lstat` type, mode, owner; size and SHA-256 for a regular
/// file; the target for a symlink; [`Fingerprint::Absent`] when nothing is there.
pub fn path_fingerprint(path: &Path) -> Result<Fingerprint, String> {
    let md = match std::fs::symlink_metadata(path) {
        Ok(md) => md,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Fingerprint::Absent),
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => return Ok(Fingerprint::Absent),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let (mode, uid, gid) = (md.mode() & 0o7777, md.uid(), md.gid());
    let ft = md.file_type();
    if ft.is_symlink() {
        let target = std::fs::read_link(path).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(Fingerprint::Symlink { target, uid, gid });
    }
    if ft.is_dir() {
        return Ok(Fingerprint::Dir { mode, uid, gid });
    }
    if ft.is_file() {
        return Ok(Fingerprint::File {
            mode,
            uid,
            gid,
            size: md.len(),
            sha256: sha256_file(path)?,
        });
    }
    // A socket, FIFO or device node: its type and permission bits.
    Ok(Fingerprint::Special {
        mode: md.mode(),
        uid,
        gid,
    })
}

/// A short description of a fingerprint for logs (`file 0644 0:0 12 bytes`).
pub fn describe(fp: &Fingerprint) -> String {
    match fp {
        Fingerprint::Absent => "absent".into(),
        Fingerprint::File {
            mode,
            uid,
            gid,
            size,
            ..
        } => format!("file {mode:04o} {uid}:{gid} {size} bytes"),
        Fingerprint::Dir { mode, uid, gid } => format!("directory {mode:04o} {uid}:{gid}"),
        Fingerprint::Symlink { target, .. } => format!("symlink -> {}", target.display()),
        Fingerprint::Special { mode, .. } => format!("special file {mode:o}"),
        Fingerprint::Unit { active, file_state } => format!("{active}/{file_state}"),
        Fingerprint::Package(None) => "not in dpkg's database".into(),
        Fingerprint::Package(Some(e)) => format!("{} {}", e.status.join(" "), e.version),
        Fingerprint::Etcd(members) => members.replace('\n', "; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use halite_core::Map;
    use std::os::unix::fs::PermissionsExt;

    fn chunk(state: &str, fun: &str, name: &str) -> Chunk {
        let mut c = Map::default();
        c.insert("state".into(), state.into());
        c.insert("fun".into(), fun.into());
        c.insert("name".into(), name.into());
        c
    }

    #[test]
    fn resources_by_state_function() {
        assert_eq!(
            resources(&chunk("file", "managed", "/etc/app.conf")),
            vec![Resource::Path("/etc/app.conf".into())]
        );
        assert_eq!(
            resources(&chunk("service", "running", "app")),
            vec![Resource::Unit("app.service".into())]
        );
        assert_eq!(
            resources(&chunk("service", "enabled", "app.timer")),
            vec![Resource::Unit("app.timer".into())]
        );
        assert!(resources(&chunk("file", "touch", "/tmp/x")).is_empty());
        assert!(resources(&chunk("cmd", "run", "true")).is_empty());
        assert!(resources(&chunk("file", "managed", "relative")).is_empty());
        let mut p = chunk("pkg", "installed", "ignored");
        p.insert(
            "pkgs".into(),
            Value::List(vec![
                "curl".into(),
                Value::Map([("vim".into(), "2:9.0".into())].into_iter().collect()),
            ]),
        );
        assert_eq!(
            resources(&p),
            vec![
                Resource::Package("curl".into()),
                Resource::Package("vim".into())
            ]
        );
        assert_eq!(
            resources(&chunk("pkg", "removed", "nano")),
            vec![Resource::Package("nano".into())]
        );
        // The Kubernetes node's states: the files they write, the etcd member they keep.
        let kubelet = resources(&chunk(
            "kubelet",
            "configured",
            "/var/lib/kubelet/config.yaml",
        ));
        assert_eq!(kubelet.len(), 3);
        assert!(kubelet.iter().all(Resource::inotify));
        assert_eq!(
            resources(&chunk("etcd", "configured", "/etc/default/etcd")),
            vec![Resource::Path("/etc/default/etcd".into())]
        );
        let member = resources(&chunk("etcd", "member_absent", "cp-3"));
        assert!(matches!(&member[..], [Resource::Etcd(m)] if m.name == "cp-3"));
        assert!(!member[0].inotify());
    }

    #[test]
    fn path_fingerprints_see_every_kind_of_drift() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.conf");
        assert_eq!(path_fingerprint(&f).unwrap(), Fingerprint::Absent);
        assert_eq!(
            path_fingerprint(&f.join("below-a-file")).unwrap(),
            Fingerprint::Absent
        );
        std::fs::write(&f, "one\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let base = path_fingerprint(&f).unwrap();
        assert!(matches!(
            base,
            Fingerprint::File {
                mode: 0o644,
                size: 4,
                ..
            }
        ));
        assert_eq!(path_fingerprint(&f).unwrap(), base, "stable");
        // Same size, other content.
        std::fs::write(&f, "two\n").unwrap();
        let other = path_fingerprint(&f).unwrap();
        assert_ne!(other, base);
        std::fs::write(&f, "one\n").unwrap();
        assert_eq!(path_fingerprint(&f).unwrap(), base);
        // Mode.
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_ne!(path_fingerprint(&f).unwrap(), base);
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        // Replaced by a rename with the same content: still equal (content, not inode).
        let tmp = dir.path().join(".a.conf.tmp");
        std::fs::write(&tmp, "one\n").unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::rename(&tmp, &f).unwrap();
        assert_eq!(path_fingerprint(&f).unwrap(), base);
        // A symlink in its place.
        std::fs::remove_file(&f).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", &f).unwrap();
        assert_eq!(
            path_fingerprint(&f).unwrap(),
            Fingerprint::Symlink {
                target: "/etc/hostname".into(),
                uid: nix::unistd::getuid().as_raw(),
                gid: nix::unistd::getgid().as_raw(),
            }
        );
        // A directory.
        let d = dir.path().join("d");
        std::fs::create_dir(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        let dfp = path_fingerprint(&d).unwrap();
        assert!(matches!(dfp, Fingerprint::Dir { mode: 0o755, .. }));
        std::fs::write(d.join("child"), "x").unwrap();
        assert_eq!(
            path_fingerprint(&d).unwrap(),
            dfp,
            "children are not the dir's"
        );
    }
}
