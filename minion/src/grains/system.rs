//! Operating-system, hardware and process grains, read from `/proc`, `/sys`, `/etc` and
//! `uname(2)`; no process is spawned.

use halite_core::{Map, Value};
use std::path::Path;

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// `uname(2)`: (kernel, nodename, kernelrelease, kernelversion, cpuarch).
pub fn uname() -> (String, String, String, String, String) {
    match nix::sys::utsname::uname() {
        Ok(u) => (
            u.sysname().to_string_lossy().into_owned(),
            u.nodename().to_string_lossy().into_owned(),
            u.release().to_string_lossy().into_owned(),
            u.version().to_string_lossy().into_owned(),
            u.machine().to_string_lossy().into_owned(),
        ),
        Err(_) => Default::default(),
    }
}

/// The key/value pairs of an os-release file (quotes removed).
pub fn parse_os_release(text: &str) -> Map {
    let mut m = Map::default();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
            .unwrap_or(v);
        let v = v
            .replace("\\\"", "\"")
            .replace("\\$", "$")
            .replace("\\\\", "\\");
        m.insert(Value::Str(k.trim().to_string()), Value::Str(v));
    }
    m
}

fn os_name_map(short: &str) -> Option<&'static str> {
    Some(match short {
        "redhatente" => "RedHat",
        "gentoobase" => "Gentoo",
        "archarm" => "Arch ARM",
        "arch" => "Arch",
        "debian" => "Debian",
        "raspbian" => "Raspbian",
        "fedoraremi" | "pidora" => "Fedora",
        "amazonami" => "Amazon",
        "alt" => "ALT",
        "enterprise" | "oracleserv" => "OEL",
        "cloudserve" | "cloudlinux" => "CloudLinux",
        "virtuozzo" => "Virtuozzo",
        "almalinux" | "almalinuxk" => "AlmaLinux",
        "scientific" => "ScientificLinux",
        "synology" => "Synology",
        "nilrt" => "NILinuxRT",
        "poky" => "Poky",
        "manjaro" | "manjarolin" => "Manjaro",
        "univention" => "Univention",
        "antergos" => "Antergos",
        "sles" => "SUSE",
        "void" => "Void",
        "slesexpand" => "RES",
        "linuxmint" => "Mint",
        "neon" => "KDE neon",
        "pop" => "Pop",
        "rocky" => "Rocky",
        "alibabaclo" => "Alinux",
        "mendel" => "Mendel",
        "photon" => "VMware Photon OS",
        _ => return None,
    })
}

/// Salt's `_derive_os_grain(NAME)`: drop ` Linux`/` GNU/Linux`, then the short-name table.
pub fn derive_os_grain(fullname: &str) -> String {
    let mut distro = String::new();
    let chars: Vec<char> = fullname.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        // `\W(?:gnu/)?linux`, case-insensitive.
        if !chars[i].is_alphanumeric() && chars[i] != '_' {
            let rest: String = chars[i + 1..].iter().collect::<String>().to_lowercase();
            let skip = if rest.starts_with("gnu/linux") {
                Some(10)
            } else if rest.starts_with("linux") {
                Some(6)
            } else {
                None
            };
            if let Some(n) = skip {
                i += n;
                continue;
            }
        }
        distro.push(chars[i]);
        i += 1;
    }
    let distro = distro.trim().to_string();
    let short: String = distro
        .replace(' ', "")
        .to_lowercase()
        .chars()
        .take(10)
        .collect();
    os_name_map(&short).map_or(distro, str::to_string)
}

/// Salt's `_OS_FAMILY_MAP`.
pub fn os_family_of(os: &str) -> String {
    let fam = match os {
        "Ubuntu" | "Mint" | "Trisquel" | "GCEL" | "Linaro" | "elementary OS" | "elementary"
        | "Univention" | "Raspbian" | "Devuan" | "antiX" | "Kali" | "Parrot OS" | "neon"
        | "Cumulus" | "Deepin" | "KDE neon" | "IDMS" | "TurnKey" | "Pop" | "AstraLinuxCE"
        | "AstraLinuxSE" | "Mendel" | "OSMC" => "Debian",
        "Fedora" | "Chapeau" | "Korora" | "FedBerry" | "CentOS" | "CentOS Stream" | "GoOSe"
        | "Scientific" | "Amazon" | "CloudLinux" | "Virtuozzo" | "AlmaLinux"
        | "AlmaLinux Kitten" | "OVS" | "OEL" | "XCP" | "XCP-ng" | "XenServer" | "RES"
        | "Sangoma" | "VMware Photon OS" | "AlterOS" | "RED OS" | "ALT" | "ScientificLinux"
        | "Rocky" | "Alinux" | "openEuler" => "RedHat",
        "SLES"
        | "SUSE Enterprise Server"
        | "SLED"
        | "openSUSE"
        | "SUSE"
        | "openSUSE Leap"
        | "openSUSE Tumbleweed"
        | "SLES_SAP"
        | "alfaLinux"
        | "alfaLinux Rise" => "Suse",
        "Arch ARM" | "Manjaro" | "Manjaro ARM" | "Antergos" | "EndeavourOS" => "Arch",
        "Mandrake" => "Mandriva",
        "VMwareESX" => "VMware",
        "Bluewhite64" => "Bluewhite",
        "Slamd64" => "Slackware",
        "Funtoo" => "Gentoo",
        other => other,
    };
    fam.to_string()
}

/// The distribution grains, in Salt's order: os, os_family, oscodename, osfullname,
/// lsb_distrib_id, lsb_distrib_release, lsb_distrib_codename, osrelease (the path Salt takes
/// when the `lsb_release` Python module is absent, as in its onedir/venv installs).
pub fn distribution(os_release: &Map) -> Map {
    let get = |k: &str| {
        os_release
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mut g = Map::default();
    let name = get("NAME").unwrap_or_else(|| "Linux".to_string());
    let os_id = get("ID").unwrap_or_else(|| "linux".to_string());
    let os = match (os_id.as_str(), name.as_str()) {
        ("astra", "Astra Linux (Orel)") => "AstraLinuxCE".to_string(),
        ("astra", "Astra Linux (Smolensk)") => "AstraLinuxSE".to_string(),
        ("pop", "Pop!_OS") => "Pop".to_string(),
        _ => derive_os_grain(&name),
    };
    g.insert("os".into(), os.clone().into());
    g.insert("os_family".into(), os_family_of(&os).into());
    let codename = get("VERSION_CODENAME").filter(|s| !s.is_empty());
    // The position is fixed here; the value is settled below, as Salt's legacy path does.
    g.insert(
        "oscodename".into(),
        codename.clone().unwrap_or_default().into(),
    );
    g.insert("osfullname".into(), name.trim().to_string().into());
    g.insert("lsb_distrib_id".into(), name.trim().to_string().into());
    let release = get("VERSION_ID");
    if let Some(r) = &release {
        g.insert("lsb_distrib_release".into(), r.clone().into());
    }
    if let Some(c) = codename.clone().or_else(|| get("PRETTY_NAME")) {
        g.insert("lsb_distrib_codename".into(), c.into());
    }
    g.insert(
        "osrelease".into(),
        release.unwrap_or_default().trim().to_string().into(),
    );
    let lsb_codename = g
        .get("lsb_distrib_codename")
        .and_then(Value::as_str)
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let oscodename = if lsb_codename.is_empty() {
        codename.unwrap_or_default()
    } else {
        lsb_codename
    };
    g.insert("oscodename".into(), oscodename.into());
    g
}

/// `osrelease_info`, `osmajorrelease`, `osfinger` from the os and release grains.
pub fn osrelease_data(os: &str, osfullname: &str, osrelease: &str, into: &mut Map) {
    let info: Vec<Value> = osrelease
        .split('.')
        .map(|p| {
            if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) {
                p.parse::<i64>().map_or_else(|_| Value::from(p), Value::Int)
            } else {
                Value::from(p)
            }
        })
        .collect();
    let first = info.first().cloned().unwrap_or_default();
    into.insert("osrelease_info".into(), Value::List(info));
    let major = match &first {
        Value::Int(i) => Some(*i),
        Value::Str(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    if let Some(m) = major {
        into.insert("osmajorrelease".into(), Value::Int(m));
    }
    let os_name = if [
        "Debian",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
        "Mac",
        "Raspbian",
        "AlmaLinux",
    ]
    .contains(&os)
    {
        os
    } else {
        osfullname
    };
    let ver = if ["Ubuntu", "Pop", "NixOS"].contains(&os) {
        osrelease.to_string()
    } else {
        first.py_str()
    };
    into.insert("osfinger".into(), format!("{os_name}-{ver}").into());
}

/// `num_cpus`, `cpu_model`, `cpu_flags` from `/proc/cpuinfo`.
pub fn cpudata(cpuinfo: &str) -> (i64, String, Vec<Value>) {
    let mut num = 0i64;
    let mut model: Option<String> = None;
    let mut flags: Vec<Value> = Vec::new();
    for line in cpuinfo.lines() {
        let comps: Vec<&str> = line.split(':').collect();
        if comps.len() < 2 {
            continue;
        }
        let key = comps[0].trim();
        let val = comps[1].trim();
        match key {
            "processor" => num += 1,
            "# processors" => num = val.parse().unwrap_or(num),
            "vendor_id" | "model name" | "cpu" => model = Some(val.to_string()),
            "flags" | "Features" => flags = val.split_whitespace().map(Value::from).collect(),
            "Processor" => {
                model = Some(val.split('-').next().unwrap_or("").to_string());
                num = 1;
            }
            _ => {}
        }
    }
    (num, model.unwrap_or_else(|| "Unknown".into()), flags)
}

/// `mem_total` and `swap_total` in MiB from `/proc/meminfo`.
pub fn memdata(meminfo: &str) -> (i64, i64) {
    let (mut mem, mut swap) = (0, 0);
    for line in meminfo.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let kb = v
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<i64>().ok());
        match (k.trim(), kb) {
            ("MemTotal", Some(n)) => mem = n / 1024,
            ("SwapTotal", Some(n)) => swap = n / 1024,
            _ => {}
        }
    }
    (mem, swap)
}

/// Debian's architecture name for a kernel machine name (`dpkg --print-architecture`).
pub fn debian_arch(cpuarch: &str) -> String {
    match cpuarch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "i386" | "i486" | "i586" | "i686" => "i386",
        "armv7l" | "armv6l" => "armhf",
        "ppc64le" => "ppc64el",
        "riscv64" => "riscv64",
        "s390x" => "s390x",
        "mips64" => "mips64el",
        other => other,
    }
    .to_string()
}

/// The `init` grain.
pub fn init_system() -> String {
    if Path::new("/run/systemd/system").exists() {
        return "systemd".into();
    }
    let Ok(raw) = std::fs::read("/proc/1/cmdline") else {
        return "unknown".into();
    };
    let text = String::from_utf8_lossy(&raw).replace('\0', " ");
    let words: Vec<&str> = text.split_whitespace().collect();
    let Some(first) = words.first() else {
        return "unknown".into();
    };
    let bin = resolve_binary(first);
    if let Some(bin) = bin.filter(|b| b.ends_with("bin/init")) {
        if let Ok(content) = std::fs::read(&bin) {
            let lower = content.to_ascii_lowercase();
            for item in ["upstart", "sysvinit", "systemd"] {
                if lower.windows(item.len()).any(|w| w == item.as_bytes()) {
                    return item.into();
                }
            }
        }
        return "unknown".into();
    }
    for (name, init) in [
        ("supervisord", "supervisord"),
        ("dumb-init", "dumb-init"),
        ("tini", "tini"),
    ] {
        if resolve_binary(name).is_some_and(|p| words.contains(&p.as_str())) {
            return init.into();
        }
    }
    if words == ["runit"] || words.contains(&"/sbin/my_init") {
        return "runit".into();
    }
    "unknown".into()
}

/// Salt's `which`: an absolute path as is when executable, else a `PATH` search.
fn resolve_binary(name: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let exec = |p: &str| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.contains('/') {
        return exec(name).then(|| name.to_string());
    }
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .map(|d| format!("{d}/{name}"))
        .find(|p| exec(p))
}

/// `virtual` and `virtual_subtype` (when known), from the files `systemd-detect-virt` reads
/// and the checks Salt adds on `/proc`.
pub fn virtual_grains() -> (String, Option<String>) {
    let mut virt = "physical".to_string();
    let mut subtype: Option<String> = None;
    let env1 = std::fs::read("/proc/1/environ")
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let container_env = env1
        .split('\0')
        .find_map(|kv| kv.strip_prefix("container="))
        .map(str::to_string)
        .or_else(|| read("/run/systemd/container").map(|s| s.trim().to_string()));
    // systemd-detect-virt: containers first.
    let detected = if Path::new("/.dockerenv").exists() {
        Some("docker".to_string())
    } else if Path::new("/run/.containerenv").exists() {
        Some("podman".to_string())
    } else if let Some(c) = container_env {
        Some(c)
    } else {
        let vendor = read("/sys/class/dmi/id/sys_vendor").unwrap_or_default();
        let product = read("/sys/class/dmi/id/product_name").unwrap_or_default();
        let v = vendor.trim();
        if v == "QEMU" || product.contains("KVM") {
            Some("kvm".to_string())
        } else if v.contains("VMware") {
            Some("vmware".to_string())
        } else if v.contains("Microsoft") {
            Some("microsoft".to_string())
        } else if product.contains("VirtualBox") {
            Some("oracle".to_string())
        } else if v.contains("Xen") {
            Some("xen".to_string())
        } else if v == "Amazon EC2" {
            Some("amazon".to_string())
        } else {
            None
        }
    };
    if let Some(out) = detected {
        match out.as_str() {
            "qemu" | "kvm" | "oracle" | "xen" | "bochs" | "chroot" | "uml" | "systemd-nspawn" => {
                virt = if out == "oracle" {
                    "VirtualBox".into()
                } else {
                    out.clone()
                }
            }
            o if o.contains("vmware") => virt = "VMware".into(),
            o if o.contains("microsoft") => virt = "VirtualPC".into(),
            o if o.contains("lxc") => {
                virt = "container".into();
                subtype = Some("LXC".into());
            }
            o if o.contains("podman") => {
                virt = "container".into();
                subtype = Some("Podman".into());
            }
            o if o.contains("docker") => {
                virt = "container".into();
                subtype = Some("Docker".into());
            }
            o if o.contains("amazon") => {
                virt = "Nitro".into();
                subtype = Some("Amazon EC2".into());
            }
            _ => {}
        }
    }
    if let Some(cg) = read("/proc/1/cgroup") {
        if cg.contains(":/lxc/") {
            virt = "container".into();
            subtype = Some("LXC".into());
        } else if cg.contains(":/kubepods/") {
            subtype = Some("kubernetes".into());
        } else if cg.contains(":/libpod_parent/") {
            subtype = Some("libpod".into());
        } else if [":/system.slice/docker", ":/docker/", ":/docker-ce/"]
            .iter()
            .any(|x| cg.contains(x))
        {
            virt = "container".into();
            subtype = Some("Docker".into());
        }
    }
    if subtype.as_deref() != Some("LXC") && env1.contains("container=lxc") {
        virt = "container".into();
        subtype = Some("LXC".into());
    }
    (virt, subtype)
}

/// `disks` and `ssds` from `/sys/block/*/queue/rotational`, sorted by name as `glob` lists
/// them on this kernel.
pub fn disks() -> (Vec<Value>, Vec<Value>) {
    let (mut disks, mut ssds) = (Vec::new(), Vec::new());
    let Ok(dir) = std::fs::read_dir("/sys/block") else {
        return (disks, ssds);
    };
    let mut names: Vec<String> = dir
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let entry = format!("/sys/block/{name}");
        let virtual_dev = std::fs::read_link(&entry)
            .map(|p| p.to_string_lossy().starts_with("../devices/virtual/"))
            .unwrap_or(false);
        if virtual_dev {
            continue;
        }
        match read(&format!("{entry}/queue/rotational")).and_then(|s| s.chars().next()) {
            Some('0') => ssds.push(Value::Str(name)),
            Some('1') => disks.push(Value::Str(name)),
            _ => {}
        }
    }
    (disks, ssds)
}

/// `efi` and `efi-secure-boot`.
pub fn uefi() -> (bool, bool) {
    let dir = ["/sys/firmware/efi/efivars", "/sys/firmware/efi/vars"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(dir) = dir else {
        return (false, false);
    };
    let entries: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("SecureBoot-"))
                .collect()
        })
        .unwrap_or_default();
    let secure = if entries.len() == 1 {
        let file = if dir.ends_with("efivars") {
            format!("{dir}/{}", entries[0])
        } else {
            format!("{dir}/{}/data", entries[0])
        };
        std::fs::read(file).is_ok_and(|b| b.last() == Some(&1))
    } else {
        false
    };
    (true, secure)
}

/// POSIX `shlex.split` (quotes and backslashes), as Salt splits `/proc/cmdline`.
pub fn shlex_split(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    cur.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' if matches!(chars.peek(), Some('"' | '\\' | '$' | '`')) => {
                            if let Some(n) = chars.next() {
                                cur.push(n);
                            }
                        }
                        other => cur.push(other),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            other => {
                in_word = true;
                cur.push(other);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// The `kernelparams` grain: `[name, value-or-None]` pairs from `/proc/cmdline`.
pub fn kernelparams(cmdline: &str) -> Value {
    Value::List(
        shlex_split(cmdline)
            .into_iter()
            .map(|item| {
                let parts: Vec<&str> = item.split('=').collect();
                let value = if parts.len() == 2 {
                    Value::Str(parts[1].trim_matches('"').to_string())
                } else {
                    Value::Null
                };
                Value::List(vec![Value::from(parts[0]), value])
            })
            .collect(),
    )
}

/// Python's `locale.getlocale()` for the process environment: (language, encoding).
pub fn locale_pair() -> (Value, Value) {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let name = env("LC_ALL")
        .or_else(|| env("LC_CTYPE"))
        .or_else(|| env("LANG"))
        .unwrap_or_else(|| "C".into());
    let (lang, enc) = match name.split_once('.') {
        Some((l, e)) => (
            l.to_string(),
            Some(e.split('@').next().unwrap_or(e).to_string()),
        ),
        None => (name.clone(), None),
    };
    let enc = enc.map(|e| {
        let norm = e.to_lowercase().replace(['-', '_'], "");
        match norm.as_str() {
            "utf8" => "UTF-8".to_string(),
            "iso88591" => "ISO8859-1".to_string(),
            "iso885915" => "ISO8859-15".to_string(),
            _ => e,
        }
    });
    match (lang.as_str(), enc) {
        ("C" | "POSIX", Some(e)) if e == "UTF-8" => ("en_US".into(), "UTF-8".into()),
        ("C" | "POSIX", _) => (Value::Null, Value::Null),
        (l, Some(e)) => (l.into(), e.into()),
        (l, None) => (l.into(), "ISO8859-1".into()),
    }
}

extern "C" {
    /// POSIX `tzset(3)` (not bound by the `libc` crate).
    fn tzset();
}

/// The local time zone's abbreviation now (`UTC`, `CET`...).
pub fn timezone_name() -> String {
    // SAFETY: tzset/time/localtime_r are thread-safe enough for a read here; `tm` is a
    // plain struct fully written by localtime_r, and tm_zone points into libc's tz data.
    unsafe {
        tzset();
        let now = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&now, &mut tm).is_null() || tm.tm_zone.is_null() {
            return "unknown".into();
        }
        std::ffi::CStr::from_ptr(tm.tm_zone)
            .to_string_lossy()
            .into_owned()
    }
}

/// The `machine_id` grain from `/etc/machine-id` (or D-Bus's copy).
pub fn machine_id() -> Option<String> {
    ["/etc/machine-id", "/var/lib/dbus/machine-id"]
        .iter()
        .find_map(|p| read(p))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// username, groupname, pid, gid, uid of the running process.
pub fn process_grains(into: &mut Map) {
    use nix::unistd::{getegid, geteuid, getpid, Group, User};
    let uid = geteuid();
    let user = User::from_uid(uid).ok().flatten();
    let username = user.as_ref().map(|u| u.name.clone()).unwrap_or_default();
    let groupname = user
        .as_ref()
        .and_then(|u| Group::from_gid(u.gid).ok().flatten())
        .map(|g| g.name)
        .unwrap_or_default();
    into.insert("username".into(), username.into());
    into.insert("groupname".into(), groupname.into());
    into.insert("pid".into(), Value::Int(i64::from(getpid().as_raw())));
    into.insert("gid".into(), Value::Int(i64::from(getegid().as_raw())));
    into.insert("uid".into(), Value::Int(i64::from(uid.as_raw())));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_names() {
        assert_eq!(derive_os_grain("Debian GNU/Linux"), "Debian");
        assert_eq!(derive_os_grain("Ubuntu"), "Ubuntu");
        assert_eq!(derive_os_grain("Rocky Linux"), "Rocky");
        assert_eq!(derive_os_grain("Linux Mint"), "Mint");
        assert_eq!(derive_os_grain("Fedora Linux"), "Fedora");
        assert_eq!(os_family_of("Rocky"), "RedHat");
        assert_eq!(os_family_of("Gentoo"), "Gentoo");
    }

    #[test]
    fn debian_distribution() {
        let osr = parse_os_release(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n",
        );
        let g = distribution(&osr);
        let keys: Vec<String> = g.keys().map(Value::py_str).collect();
        assert_eq!(
            keys,
            [
                "os",
                "os_family",
                "oscodename",
                "osfullname",
                "lsb_distrib_id",
                "lsb_distrib_release",
                "lsb_distrib_codename",
                "osrelease"
            ]
        );
        assert_eq!(g.get("os"), Some(&Value::from("Debian")));
        assert_eq!(g.get("oscodename"), Some(&Value::from("bookworm")));
        let mut m = Map::default();
        osrelease_data("Debian", "Debian GNU/Linux", "12", &mut m);
        assert_eq!(m.get("osfinger"), Some(&Value::from("Debian-12")));
        assert_eq!(m.get("osmajorrelease"), Some(&Value::Int(12)));
        let mut u = Map::default();
        osrelease_data("Ubuntu", "Ubuntu", "22.04", &mut u);
        assert_eq!(u.get("osfinger"), Some(&Value::from("Ubuntu-22.04")));
        assert_eq!(
            u.get("osrelease_info"),
            Some(&Value::List(vec![Value::Int(22), Value::Int(4)]))
        );
    }

    #[test]
    fn cmdline_and_cpuinfo() {
        let k = kernelparams("console=ttyS0 quiet a=b=c x=\"y z\" -- 0.0.0.0:2024\n");
        assert_eq!(
            k.py_repr(),
            "[['console', 'ttyS0'], ['quiet', None], ['a', None], ['x', 'y z'], ['--', None], ['0.0.0.0:2024', None]]"
        );
        let (n, model, flags) = cpudata(
            "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\nflags\t\t: fpu vme\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\nflags\t\t: fpu vme\n",
        );
        assert_eq!((n, model.as_str(), flags.len()), (2, "AMD EPYC", 2));
        assert_eq!(
            memdata("MemTotal: 2048000 kB\nSwapTotal: 1049600 kB\n"),
            (2000, 1025)
        );
        assert_eq!(debian_arch("x86_64"), "amd64");
    }
}
