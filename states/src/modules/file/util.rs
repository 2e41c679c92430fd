//! Shared helpers of the file states: atomic writes, modes, ownership (Salt's
//! `check_perms`), backups and the text/binary test.

use halite_core::{Error, Map, Result, Value};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// Salt's `normalize_mode`: `644`, `'0644'`, `0o644` → `"0644"` (`None` for null).
pub fn normalize_mode(v: Option<&Value>) -> Option<String> {
    let v = v.filter(|v| !v.is_null())?;
    let s = v.py_str().replace("0o", "0");
    let s = s
        .trim_matches('"')
        .trim_matches('\'')
        .trim_start_matches('0');
    Some(format!("{s:0>4}"))
}

/// The permission bits of a normalised mode string.
pub fn mode_bits(mode: &str) -> Result<u32> {
    u32::from_str_radix(mode, 8)
        .map_err(|_| Error::InvalidArgument(format!("Invalid mode: {mode}")))
}

/// The mode of `path` as Salt prints it (`"0644"`), following symlinks or not.
pub fn mode_of(path: &Path, follow: bool) -> Option<String> {
    let meta = if follow {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    };
    meta.ok()
        .map(|m| format!("{:04o}", m.permissions().mode() & 0o7777))
}

/// The process umask.
pub fn current_umask() -> u32 {
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    nix::sys::stat::umask(old);
    old.bits()
}

/// Write `data` to `path` atomically: temp file beside it, fsync, mode/owner, rename.
///
/// Without `mode`, an existing file keeps its mode and owner; a new one gets `0666 & ~umask`.
pub fn atomic_write(path: &Path, data: &[u8], mode: Option<u32>) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let mut tmp = tempfile::Builder::new()
        .prefix(".halite-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir.display().to_string(), &e))?;
    tmp.write_all(data)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::io(path.display().to_string(), &e))?;
    let existing = std::fs::metadata(path).ok();
    let perm = match (mode, &existing) {
        (Some(m), _) => m,
        (None, Some(meta)) => meta.permissions().mode() & 0o7777,
        (None, None) => 0o666 & !current_umask(),
    };
    if let Some(meta) = &existing {
        let _ = std::os::unix::fs::chown(tmp.path(), Some(meta.uid()), Some(meta.gid()));
    }
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(perm))
        .map_err(|e| Error::io(path.display().to_string(), &e))?;
    tmp.persist(path)
        .map_err(|e| Error::io(path.display().to_string(), &e.error))?;
    Ok(())
}

/// Set the permission bits of `path`.
pub fn set_mode(path: &Path, mode: &str) -> Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode_bits(mode)?))
        .map_err(|e| Error::io(path.display().to_string(), &e))
}

/// `mkdir -p` where each created directory gets `mode` (or the umask default).
pub fn makedirs(path: &Path, mode: Option<&str>) -> Result<()> {
    let mut missing = Vec::new();
    let mut cur = Some(path);
    while let Some(p) = cur {
        if p.as_os_str().is_empty() || p.is_dir() {
            break;
        }
        missing.push(p);
        cur = p.parent();
    }
    for p in missing.into_iter().rev() {
        std::fs::create_dir(p).map_err(|e| Error::io(p.display().to_string(), &e))?;
        if let Some(m) = mode {
            set_mode(p, m)?;
        }
    }
    Ok(())
}

/// The name of a uid (the number as text when it has none).
pub fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(uid.into())
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |u| u.name)
}

/// The name of a gid (the number as text when it has none).
pub fn group_name(gid: u32) -> String {
    nix::unistd::Group::from_gid(gid.into())
        .ok()
        .flatten()
        .map_or_else(|| gid.to_string(), |g| g.name)
}

/// A user given by name or number → uid.
pub fn uid_of(user: &Value) -> Option<u32> {
    if let Some(n) = user.as_int() {
        return u32::try_from(n).ok();
    }
    let name = user.py_str();
    nix::unistd::User::from_name(&name)
        .ok()
        .flatten()
        .map(|u| u.uid.as_raw())
        .or_else(|| name.parse().ok())
}

/// A group given by name or number → gid.
pub fn gid_of(group: &Value) -> Option<u32> {
    if let Some(n) = group.as_int() {
        return u32::try_from(n).ok();
    }
    let name = group.py_str();
    nix::unistd::Group::from_name(&name)
        .ok()
        .flatten()
        .map(|g| g.gid.as_raw())
        .or_else(|| name.parse().ok())
}

/// Salt's `_check_user`: the error text when a user or group does not exist (none in test
/// mode, where they may be created by an earlier state).
pub fn check_user(user: Option<&Value>, group: Option<&Value>, test: bool) -> String {
    if test {
        return String::new();
    }
    let mut err = String::new();
    if let Some(u) = user.filter(|v| !v.is_null() && !v.py_str().is_empty()) {
        if uid_of(u).is_none() {
            err.push_str(&format!("User {} is not available ", u.py_str()));
        }
    }
    if let Some(g) = group.filter(|v| !v.is_null() && !v.py_str().is_empty()) {
        if gid_of(g).is_none() {
            err.push_str(&format!("Group {} is not available", g.py_str()));
        }
    }
    err
}

/// What [`check_perms`] changes: the wanted owner, group and mode.
#[derive(Default, Clone)]
pub struct Perms<'a> {
    /// `user`.
    pub user: Option<&'a Value>,
    /// `group`.
    pub group: Option<&'a Value>,
    /// Normalised `mode`.
    pub mode: Option<String>,
    /// Follow a symlink at the path.
    pub follow_symlinks: bool,
}

impl<'a> Perms<'a> {
    /// The `user`, `group` and `mode` arguments of a state.
    pub fn from_args(
        user: Option<&'a Value>,
        group: Option<&'a Value>,
        mode: Option<String>,
    ) -> Self {
        let keep = |v: Option<&'a Value>| v.filter(|v| !v.is_null() && !v.py_str().is_empty());
        Perms {
            user: keep(user),
            group: keep(group),
            mode,
            follow_symlinks: true,
        }
    }
}

/// Salt's `file.check_perms`: add `user`/`group`/`mode` to `changes` when they differ (and,
/// unless `test`, set them). Returns the comments of failures and the current mode.
pub fn check_perms(
    path: &Path,
    changes: &mut Map,
    perms: &Perms,
    test: bool,
) -> (Vec<String>, Option<String>) {
    let mut errors = Vec::new();
    let meta = if perms.follow_symlinks {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    };
    let Ok(meta) = meta else {
        return (vec![format!("{} does not exist", path.display())], None);
    };
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let lmode = format!("{:04o}", meta.mode() & 0o7777);
    let want_uid = perms.user.map(|u| (u, uid_of(u)));
    let want_gid = perms.group.map(|g| (g, gid_of(g)));
    let cuser = want_uid.filter(|(_, uid)| *uid != Some(meta.uid()));
    let cgroup = want_gid.filter(|(_, gid)| *gid != Some(meta.gid()));
    if let Some((u, _)) = cuser {
        changes.insert("user".into(), u.clone());
    }
    if let Some((g, _)) = cgroup {
        changes.insert("group".into(), g.clone());
    }
    if !test && (cuser.is_some() || cgroup.is_some()) {
        let uid = cuser.and_then(|(_, u)| u);
        let gid = cgroup.and_then(|(_, g)| g);
        let res = if is_link && !perms.follow_symlinks {
            std::os::unix::fs::lchown(path, uid, gid)
        } else {
            std::os::unix::fs::chown(path, uid, gid)
        };
        if res.is_err() {
            if let Some((u, _)) = cuser {
                changes.shift_remove("user");
                errors.push(format!("Failed to change user to {}", u.py_str()));
            }
            if let Some((g, _)) = cgroup {
                changes.shift_remove("group");
                errors.push(format!("Failed to change group to {}", g.py_str()));
            }
        } else if !is_link {
            let _ = std::fs::set_permissions(
                path,
                std::fs::Permissions::from_mode(meta.mode() & 0o7777),
            );
        }
    }
    if let Some(mode) = &perms.mode {
        if (perms.follow_symlinks || !is_link) && *mode != lmode {
            if !test && set_mode(path, mode).is_err() {
                errors.push(format!("Failed to change mode to {mode}"));
            } else {
                changes.insert("mode".into(), mode.clone().into());
            }
        }
    }
    (errors, Some(lmode))
}

/// Salt's `is_text` on bytes: no NUL, valid UTF-8 or mostly printable.
pub fn is_text(data: &[u8]) -> bool {
    if data.is_empty() {
        return true;
    }
    if data.contains(&0) {
        return false;
    }
    if std::str::from_utf8(data).is_ok() {
        return true;
    }
    let sample = &data[..data.len().min(512)];
    let nontext = sample
        .iter()
        .filter(|&&b| b < 8 || (b > 13 && b < 32) || b > 127)
        .count();
    (nontext as f64) / (sample.len() as f64) <= 0.30
}

/// Salt's `backup_minion`: copy `path` to `<cachedir>/file_backup/<dir>/<name>_<stamp>`.
pub fn backup_minion(path: &Path, cachedir: &str) -> Result<()> {
    if !path.is_file() {
        return Ok(());
    }
    let parent = path
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let micros = format!("{:06}", now.subsec_micros());
    let stamp = format_stamp(i64::try_from(now.as_secs()).unwrap_or(0));
    let (head, year) = stamp.split_at(stamp.len().saturating_sub(4));
    let bkdir = Path::new(cachedir)
        .join("file_backup")
        .join(parent.trim_start_matches('/'));
    std::fs::create_dir_all(&bkdir).map_err(|e| Error::io(bkdir.display().to_string(), &e))?;
    let dest = bkdir.join(format!("{name}_{head}{micros}_{year}"));
    std::fs::copy(path, &dest).map_err(|e| Error::io(dest.display().to_string(), &e))?;
    Ok(())
}

/// `time.strftime("%a_%b_%d_%H:%M:%S_%Y")` in local time (UTC here).
fn format_stamp(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}_{}_{:02}_{:02}:{:02}:{:02}_{y}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        d,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_normalise_like_salt() {
        assert_eq!(
            normalize_mode(Some(&Value::Int(644))).as_deref(),
            Some("0644")
        );
        assert_eq!(
            normalize_mode(Some(&"0o755".into())).as_deref(),
            Some("0755")
        );
        assert_eq!(
            normalize_mode(Some(&"4755".into())).as_deref(),
            Some("4755")
        );
        assert_eq!(normalize_mode(Some(&Value::Null)), None);
    }

    #[test]
    fn atomic_write_keeps_mode_of_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        atomic_write(&p, b"one", Some(0o600)).unwrap();
        atomic_write(&p, b"two", None).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(mode_of(&p, true).as_deref(), Some("0600"));
    }

    #[test]
    fn check_perms_reports_and_sets_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        atomic_write(&p, b"x", Some(0o644)).unwrap();
        let mut ch = Map::default();
        let perms = Perms::from_args(None, None, Some("0600".into()));
        let (errs, lmode) = check_perms(&p, &mut ch, &perms, true);
        assert!(errs.is_empty());
        assert_eq!(lmode.as_deref(), Some("0644"));
        assert_eq!(ch.get("mode"), Some(&Value::from("0600")));
        assert_eq!(mode_of(&p, true).as_deref(), Some("0644"));
        check_perms(&p, &mut Map::default(), &perms, false);
        assert_eq!(mode_of(&p, true).as_deref(), Some("0600"));
    }

    #[test]
    fn stamp_format() {
        assert_eq!(format_stamp(0), "Thu_Jan_01_00:00:00_1970");
        assert_eq!(format_stamp(1_700_000_000), "Tue_Nov_14_22:13:20_2023");
    }

    #[test]
    fn text_detection() {
        assert!(is_text(b"hello\n"));
        assert!(!is_text(b"a\0b"));
    }
}
