//! dpkg's own data, read directly (no `dpkg-query` fork per query): Debian version
//! comparison (`dpkg --compare-versions`, Debian Policy §5.6.12) and the status database
//! (`<admindir>/status`).

use std::cmp::Ordering;
use std::collections::BTreeMap;

/// A Debian version split into epoch, upstream version and revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebVersion<'a> {
    /// The epoch (`0` when absent).
    pub epoch: u64,
    /// The upstream version.
    pub upstream: &'a str,
    /// The Debian revision (`""` when absent).
    pub revision: &'a str,
}

impl<'a> DebVersion<'a> {
    /// Split `v` as dpkg does: the epoch before the first `:`, the revision after the last
    /// `-`. A non-numeric epoch is `None`.
    pub fn parse(v: &'a str) -> Option<DebVersion<'a>> {
        let v = v.trim();
        let (epoch, rest) = match v.split_once(':') {
            Some((e, r)) => (e.parse::<u64>().ok()?, r),
            None => (0, v),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((u, r)) => (u, r),
            None => (rest, ""),
        };
        Some(DebVersion {
            epoch,
            upstream,
            revision,
        })
    }
}

/// The sort weight of one character in a non-digit run: `~` before everything (even the
/// end of the string), then the end, then letters, then everything else.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp` on one part (upstream or revision).
fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let mut first_diff = 0;
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = order(a.get(i).copied());
            let bc = order(b.get(j).copied());
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first_diff == 0 {
                first_diff = i32::from(a[i]) - i32::from(b[j]);
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != 0 {
            return first_diff.cmp(&0);
        }
    }
    Ordering::Equal
}

/// Compare two Debian versions as `dpkg --compare-versions` does; `None` when either is
/// not a valid version.
pub fn version_cmp(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (DebVersion::parse(a)?, DebVersion::parse(b)?);
    Some(
        a.epoch
            .cmp(&b.epoch)
            .then_with(|| verrevcmp(a.upstream, b.upstream))
            .then_with(|| verrevcmp(a.revision, b.revision)),
    )
}

/// One package paragraph of the status database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageStatus {
    /// `Package`.
    pub name: String,
    /// `Version`.
    pub version: String,
    /// `Architecture`.
    pub arch: String,
    /// The three words of `Status`: want (install, hold, deinstall, purge), flag (ok,
    /// reinstreq), state (installed, config-files, not-installed…).
    pub want: String,
    /// See `want`.
    pub flag: String,
    /// See `want`.
    pub state: String,
}

impl PackageStatus {
    /// Installed as Salt's `pkg.list_pkgs` counts it: wanted installed or held, and
    /// `installed`.
    pub fn is_installed(&self) -> bool {
        (self.want == "install" || self.want == "hold") && self.state == "installed"
    }
}

/// Parse a dpkg status file: package name (with `:arch` for a foreign architecture, as
/// dpkg-query prints it, when `native_arch` is given) → its status.
pub fn parse_status(text: &str, native_arch: Option<&str>) -> BTreeMap<String, PackageStatus> {
    let mut out = BTreeMap::new();
    for para in text.split("\n\n") {
        let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
        for line in para.lines() {
            if line.starts_with([' ', '\t']) {
                continue;
            }
            if let Some((k, v)) = line.split_once(':') {
                fields.insert(k.trim(), v.trim());
            }
        }
        let Some(name) = fields.get("Package") else {
            continue;
        };
        let mut status = fields
            .get("Status")
            .copied()
            .unwrap_or("")
            .split_whitespace();
        let p = PackageStatus {
            name: (*name).to_string(),
            version: fields.get("Version").copied().unwrap_or("").to_string(),
            arch: fields
                .get("Architecture")
                .copied()
                .unwrap_or("")
                .to_string(),
            want: status.next().unwrap_or("").to_string(),
            flag: status.next().unwrap_or("").to_string(),
            state: status.next().unwrap_or("").to_string(),
        };
        let key = match native_arch {
            Some(native) if p.arch != "all" && !p.arch.is_empty() && p.arch != native => {
                format!("{}:{}", p.name, p.arch)
            }
            _ => p.name.clone(),
        };
        out.insert(key, p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_policy_examples() {
        let lt =
            |a: &str, b: &str| assert_eq!(version_cmp(a, b), Some(Ordering::Less), "{a} < {b}");
        lt("1.0~rc1", "1.0");
        lt("1.0", "1.0-1");
        lt("1.0-1", "1.0-2");
        lt("1.9", "1.10");
        lt("1:0.1", "2:0.0");
        lt("0:9", "1:0");
        lt("1.0a", "1.0b");
        lt("1.0", "1.0a");
        lt("1.0~~", "1.0~");
        lt("1.0+b1", "1.0.1");
        assert_eq!(version_cmp("1.0", "0:1.0"), Some(Ordering::Equal));
        assert_eq!(version_cmp("01.0", "1.00"), Some(Ordering::Equal));
        assert_eq!(version_cmp("x:1", "1"), None);
    }

    /// The same pairs through the real `dpkg --compare-versions` (a pure comparison; it reads
    /// and writes nothing). Skipped, saying so, where dpkg is not installed.
    #[test]
    fn same_answers_as_dpkg() {
        if std::process::Command::new("dpkg")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("dpkg is not installed: comparison with dpkg skipped");
            return;
        }
        let versions = [
            "1.0",
            "1.0-1",
            "1.0~rc1",
            "1.0+b1",
            "1.0.1",
            "1:0.1",
            "2:0",
            "1.10",
            "1.9",
            "1.0a",
            "1.0~",
            "1.0~~",
            "0.0",
            "1.2.3-4ubuntu5",
            "1.2.3-4",
            "7.88.1-10+deb12u8",
            "3.0.19-1~deb12u2",
            "01.0",
            "1.00",
            "a1",
            "1a",
            "1.0-1~bpo1",
        ];
        for a in versions {
            for b in versions {
                let want = ["lt", "eq", "gt"].into_iter().find(|op| {
                    std::process::Command::new("dpkg")
                        .args(["--compare-versions", a, op, b])
                        .status()
                        .map(|s| s.success())
                        .unwrap_or(false)
                });
                let got = match version_cmp(a, b) {
                    Some(Ordering::Less) => "lt",
                    Some(Ordering::Equal) => "eq",
                    Some(Ordering::Greater) => "gt",
                    None => "invalid",
                };
                assert_eq!(Some(got), want, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn status_paragraphs() {
        let text = "Package: halite-demo\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: 1.0-1\nDescription: demo\n multi-line\n\nPackage: gone\nStatus: deinstall ok config-files\nArchitecture: all\nVersion: 2.0\n\nPackage: lib32\nStatus: hold ok installed\nArchitecture: i386\nVersion: 3\n";
        let db = parse_status(text, Some("amd64"));
        assert_eq!(db.len(), 3);
        assert!(db["halite-demo"].is_installed());
        assert_eq!(db["halite-demo"].version, "1.0-1");
        assert!(!db["gone"].is_installed());
        assert!(db["lib32:i386"].is_installed());
    }
}
