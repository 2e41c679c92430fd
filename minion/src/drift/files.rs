//! Files: one inotify instance with one reference-counted watch per **parent directory**
//! (a watch on the file itself would die with the file, and atomic renames would escape
//! it). Children are filtered by name. When the parent does not exist, the nearest existing
//! ancestor is watched for the name of its child on the way down, and the watch moves
//! down again after the next probe. One thread blocks in `read(2)` and forwards batches of
//! events to the engine.

use super::fingerprint::Resource;
use super::Msg;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

/// One event of a watched directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FsEvent {
    /// Something happened to `name` in `dir`.
    Child {
        /// The watched directory.
        dir: PathBuf,
        /// The child's name.
        name: OsString,
        /// The raw inotify mask.
        mask: u32,
    },
    /// The watched directory went away (deleted, moved, unmounted).
    DirGone(PathBuf),
    /// The kernel dropped events: everything may have changed.
    Overflow,
}

/// What each watched directory is watched for.
fn watch_mask() -> AddWatchFlags {
    AddWatchFlags::IN_MODIFY
        | AddWatchFlags::IN_ATTRIB
        | AddWatchFlags::IN_CLOSE_WRITE
        | AddWatchFlags::IN_MOVED_FROM
        | AddWatchFlags::IN_MOVED_TO
        | AddWatchFlags::IN_CREATE
        | AddWatchFlags::IN_DELETE
        | AddWatchFlags::IN_DELETE_SELF
        | AddWatchFlags::IN_MOVE_SELF
        | AddWatchFlags::IN_ONLYDIR
}

/// pyinotify's `maskname`: the event's name, `|IN_ISDIR` for a directory
/// (`IN_CREATE|IN_ISDIR`), several names joined with `|` when several bits are set.
pub fn mask_name(mask: u32) -> String {
    const NAMES: &[(u32, &str)] = &[
        (libc::IN_ACCESS, "IN_ACCESS"),
        (libc::IN_MODIFY, "IN_MODIFY"),
        (libc::IN_ATTRIB, "IN_ATTRIB"),
        (libc::IN_CLOSE_WRITE, "IN_CLOSE_WRITE"),
        (libc::IN_CLOSE_NOWRITE, "IN_CLOSE_NOWRITE"),
        (libc::IN_OPEN, "IN_OPEN"),
        (libc::IN_MOVED_FROM, "IN_MOVED_FROM"),
        (libc::IN_MOVED_TO, "IN_MOVED_TO"),
        (libc::IN_CREATE, "IN_CREATE"),
        (libc::IN_DELETE, "IN_DELETE"),
        (libc::IN_DELETE_SELF, "IN_DELETE_SELF"),
        (libc::IN_MOVE_SELF, "IN_MOVE_SELF"),
        (libc::IN_UNMOUNT, "IN_UNMOUNT"),
        (libc::IN_Q_OVERFLOW, "IN_Q_OVERFLOW"),
        (libc::IN_IGNORED, "IN_IGNORED"),
        (libc::IN_ISDIR, "IN_ISDIR"),
    ];
    NAMES
        .iter()
        .filter(|(bit, _)| mask & bit != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join("|")
}

/// Where a target path is watched: the deepest existing directory on its way, and the
/// name of the next component below it.
fn placement(target: &Path) -> Option<(PathBuf, OsString)> {
    let mut child = target.file_name()?.to_os_string();
    let mut dir = target.parent()?.to_path_buf();
    loop {
        if dir.is_dir() {
            return Some((dir, child));
        }
        let up = dir.parent()?.to_path_buf();
        child = match dir.components().next_back() {
            Some(Component::Normal(n)) => n.to_os_string(),
            _ => return None,
        };
        dir = up;
    }
}

/// The inotify watches of the engine (engine thread only; the reader thread shares the
/// watch-descriptor table).
pub struct FileWatcher {
    inotify: Arc<Inotify>,
    wds: Arc<Mutex<HashMap<i32, PathBuf>>>,
    dirs: HashMap<PathBuf, (WatchDescriptor, usize)>,
    interest: HashMap<(PathBuf, OsString), BTreeSet<Resource>>,
    placed: HashMap<Resource, (PathBuf, OsString)>,
}

impl FileWatcher {
    /// A new inotify instance and its reader thread, which sends [`Msg::Fs`] batches on `tx`.
    pub(crate) fn start(tx: Sender<Msg>) -> Result<FileWatcher, String> {
        let inotify = Arc::new(
            Inotify::init(InitFlags::IN_CLOEXEC).map_err(|e| format!("inotify_init1: {e}"))?,
        );
        let wds: Arc<Mutex<HashMap<i32, PathBuf>>> = Arc::default();
        let (reader, table) = (inotify.clone(), wds.clone());
        std::thread::Builder::new()
            .name("drift-inotify".into())
            .spawn(move || read_loop(&reader, &table, &tx))
            .map_err(|e| format!("could not start the inotify thread: {e}"))?;
        Ok(FileWatcher {
            inotify,
            wds,
            dirs: HashMap::new(),
            interest: HashMap::new(),
            placed: HashMap::new(),
        })
    }

    /// How many directories are watched.
    pub fn dir_count(&self) -> usize {
        self.dirs.len()
    }

    /// Watch `target` on behalf of `res` (or move its watch to where `target` now is
    /// reachable). An error leaves `res` unwatched; the full check still covers it.
    pub fn place(&mut self, res: &Resource, target: &Path) -> Result<(), String> {
        let Some(at) = placement(target) else {
            return Err(format!("{}: no directory to watch", target.display()));
        };
        if self.placed.get(res) == Some(&at) {
            return Ok(());
        }
        self.unplace(res);
        self.add_dir(&at.0)?;
        self.interest
            .entry(at.clone())
            .or_default()
            .insert(res.clone());
        self.placed.insert(res.clone(), at);
        Ok(())
    }

    /// Stop watching for `res`.
    pub fn unplace(&mut self, res: &Resource) {
        let Some(at) = self.placed.remove(res) else {
            return;
        };
        if let Some(set) = self.interest.get_mut(&at) {
            set.remove(res);
            if set.is_empty() {
                self.interest.remove(&at);
            }
        }
        self.release_dir(&at.0);
    }

    /// The resources placed so far (for an install to drop the ones no longer wanted).
    pub fn placed(&self) -> Vec<Resource> {
        self.placed.keys().cloned().collect()
    }

    /// The resources an event about `name` in `dir` concerns.
    pub fn lookup(&self, dir: &Path, name: &OsString) -> Vec<Resource> {
        self.interest
            .get(&(dir.to_path_buf(), name.clone()))
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// `dir` went away: forget its watch and return the resources that were watched there
    /// (the engine places them again and checks them).
    pub fn dir_gone(&mut self, dir: &Path) -> Vec<Resource> {
        let gone: Vec<Resource> = self
            .placed
            .iter()
            .filter(|(_, at)| at.0 == dir)
            .map(|(r, _)| r.clone())
            .collect();
        if let Some((wd, _)) = self.dirs.remove(dir) {
            // The kernel may have dropped it already (IN_IGNORED): EINVAL is fine.
            let _ = self.inotify.rm_watch(wd);
            self.table().remove(&wd.as_raw());
        }
        for r in &gone {
            if let Some(at) = self.placed.remove(r) {
                self.interest.remove(&at);
            }
        }
        gone
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<i32, PathBuf>> {
        self.wds.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add_dir(&mut self, dir: &Path) -> Result<(), String> {
        if let Some((_, n)) = self.dirs.get_mut(dir) {
            *n += 1;
            return Ok(());
        }
        let wd = self
            .inotify
            .add_watch(dir, watch_mask())
            .map_err(|e| format!("inotify_add_watch {}: {e}", dir.display()))?;
        self.table().insert(wd.as_raw(), dir.to_path_buf());
        self.dirs.insert(dir.to_path_buf(), (wd, 1));
        Ok(())
    }

    fn release_dir(&mut self, dir: &Path) {
        let Some((wd, n)) = self.dirs.get_mut(dir) else {
            return;
        };
        *n -= 1;
        if *n > 0 {
            return;
        }
        let wd = *wd;
        self.dirs.remove(dir);
        let _ = self.inotify.rm_watch(wd);
        self.table().remove(&wd.as_raw());
    }
}

/// Turn one batch of raw events into [`FsEvent`]s.
fn translate(
    events: Vec<nix::sys::inotify::InotifyEvent>,
    wds: &Mutex<HashMap<i32, PathBuf>>,
) -> Vec<FsEvent> {
    let table = wds.lock().unwrap_or_else(|p| p.into_inner());
    let gone = libc::IN_IGNORED | libc::IN_DELETE_SELF | libc::IN_MOVE_SELF | libc::IN_UNMOUNT;
    let mut out = Vec::with_capacity(events.len());
    for ev in events {
        let mask = ev.mask.bits();
        if mask & libc::IN_Q_OVERFLOW != 0 {
            out.push(FsEvent::Overflow);
            continue;
        }
        let Some(dir) = table.get(&ev.wd.as_raw()) else {
            continue;
        };
        if mask & gone != 0 {
            out.push(FsEvent::DirGone(dir.clone()));
        } else if let Some(name) = ev.name {
            out.push(FsEvent::Child {
                dir: dir.clone(),
                name,
                mask,
            });
        }
    }
    out
}

/// The reader thread: block in `read(2)`, forward each batch; ends when the engine is gone.
fn read_loop(inotify: &Inotify, wds: &Mutex<HashMap<i32, PathBuf>>, tx: &Sender<Msg>) {
    loop {
        match inotify.read_events() {
            Ok(events) => {
                let batch = translate(events, wds);
                if !batch.is_empty() && tx.send(Msg::Fs(batch)).is_err() {
                    return;
                }
            }
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => {
                tracing::warn!("drift: reading inotify events failed: {e}");
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;
    use std::time::{Duration, Instant};

    #[test]
    fn mask_names_as_pyinotify() {
        assert_eq!(mask_name(libc::IN_MODIFY), "IN_MODIFY");
        assert_eq!(
            mask_name(libc::IN_CREATE | libc::IN_ISDIR),
            "IN_CREATE|IN_ISDIR"
        );
        assert_eq!(mask_name(0), "");
    }

    #[test]
    fn placement_walks_up_to_an_existing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("a/b/c.conf");
        assert_eq!(
            placement(&t),
            Some((dir.path().to_path_buf(), OsString::from("a")))
        );
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        assert_eq!(
            placement(&t),
            Some((dir.path().join("a/b"), OsString::from("c.conf")))
        );
    }

    /// Wait for the engine-side messages and collect the events.
    fn events_until(
        rx: &std::sync::mpsc::Receiver<Msg>,
        mut done: impl FnMut(&[FsEvent]) -> bool,
    ) -> Vec<FsEvent> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut all = Vec::new();
        while Instant::now() < deadline && !done(&all) {
            if let Ok(Msg::Fs(batch)) = rx.recv_timeout(Duration::from_millis(100)) {
                all.extend(batch);
            }
        }
        all
    }

    #[test]
    fn parent_directory_watch_sees_the_child_and_only_it() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = channel();
        let mut w = FileWatcher::start(tx).unwrap();
        let target = dir.path().join("app.conf");
        let res = Resource::Path(target.clone());
        w.place(&res, &target).unwrap();
        assert_eq!(w.dir_count(), 1);
        std::fs::write(dir.path().join("other"), "x").unwrap();
        std::fs::write(&target, "x").unwrap();
        let evs = events_until(&rx, |evs| {
            evs.iter()
                .any(|e| matches!(e, FsEvent::Child { name, .. } if name == "app.conf"))
        });
        let hit = evs
            .iter()
            .find_map(|e| match e {
                FsEvent::Child { dir: d, name, mask } if name == "app.conf" => {
                    Some((d.clone(), *mask))
                }
                _ => None,
            })
            .expect("an event for app.conf");
        assert_eq!(hit.0, dir.path());
        assert_eq!(hit.1 & libc::IN_CREATE, libc::IN_CREATE);
        assert_eq!(w.lookup(dir.path(), &"app.conf".into()), vec![res.clone()]);
        assert!(w.lookup(dir.path(), &"other".into()).is_empty());
        // Refcounts: a second resource in the same directory shares the watch.
        let res2 = Resource::Path(dir.path().join("b.conf"));
        w.place(&res2, &dir.path().join("b.conf")).unwrap();
        assert_eq!(w.dir_count(), 1);
        w.unplace(&res);
        assert_eq!(w.dir_count(), 1);
        w.unplace(&res2);
        assert_eq!(w.dir_count(), 0);
    }

    #[test]
    fn a_removed_parent_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let (tx, rx) = channel();
        let mut w = FileWatcher::start(tx).unwrap();
        let target = sub.join("x.conf");
        let res = Resource::Path(target.clone());
        w.place(&res, &target).unwrap();
        std::fs::remove_dir(&sub).unwrap();
        let evs = events_until(&rx, |evs| {
            evs.iter().any(|e| matches!(e, FsEvent::DirGone(_)))
        });
        assert!(evs.contains(&FsEvent::DirGone(sub.clone())), "{evs:?}");
        assert_eq!(w.dir_gone(&sub), vec![res.clone()]);
        assert_eq!(w.dir_count(), 0);
        // Placed again: on the ancestor, for the name of the missing directory.
        w.place(&res, &target).unwrap();
        assert_eq!(w.lookup(dir.path(), &"sub".into()), vec![res]);
    }
}
