//! A lab node: its directory (the overlay upper layers, its unit dirs, its console log), its
//! private systemd as PID 1 of fresh pid/mount/uts/ipc/cgroup namespaces inside the node's
//! network namespace (`assets/node-init.sh` builds the node's view of the host tree), and
//! commands run inside it.

use crate::layout::NodeSpec;
use crate::sh::{output, run, write, Result};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NODE_INIT: &str = include_str!("../assets/node-init.sh");
const SYSTEMD: &str = "/lib/systemd/systemd";

/// What `lab up` made for one node, recorded so that `lab down` removes exactly that.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Node {
    /// The node's name, roles and address.
    pub spec: NodeSpec,
    /// Its directory under the lab's.
    pub dir: PathBuf,
    /// Its network namespace.
    pub netns: String,
    /// Host PID of its private systemd (PID 1 inside), once started.
    pub pid1: Option<u32>,
    /// Host PID of the `unshare` that holds the namespaces.
    pub unshare_pid: Option<u32>,
    /// The cgroup the node's systemd owns.
    pub cgroup: Option<PathBuf>,
}

impl Node {
    /// A path of the node's tree as seen from the host: the overlay's upper layer (where what
    /// the node writes lands) for /etc, /var, /usr, /opt and /srv.
    pub fn upper(&self, path: &str) -> PathBuf {
        self.dir.join("upper").join(path.trim_start_matches('/'))
    }

    /// A command run inside the node (all its namespaces), with a clean environment.
    pub fn command(&self, program: &str) -> Result<Command> {
        let pid = self
            .pid1
            .filter(|p| is_node_init(*p))
            .ok_or_else(|| format!("node {} is not running", self.spec.name))?;
        let mut c = Command::new("nsenter");
        c.args([
            "-t",
            &pid.to_string(),
            "-m",
            "-p",
            "-u",
            "-i",
            "-C",
            "-n",
            "-w",
            "--",
        ])
        .arg(program)
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env("HOME", "/root")
        .env("LANG", "C.UTF-8");
        Ok(c)
    }

    /// Run `sh -c script` inside the node; its stdout.
    pub fn sh(&self, script: &str) -> Result<String> {
        let mut c = self.command("sh")?;
        c.args(["-c", script]);
        run(&mut c, &format!("{}: {script}", self.spec.name))
    }

    /// Replace a file of the node's tree (through its namespaces, so its overlays see it),
    /// atomically: a temp file in the same directory, then a rename.
    pub fn write(&self, path: &str, data: &str) -> Result<()> {
        let pid = self
            .pid1
            .ok_or_else(|| format!("node {} is not running", self.spec.name))?;
        let target = PathBuf::from(format!("/proc/{pid}/root{path}"));
        let tmp = target.with_extension("lab-new");
        std::fs::write(&tmp, data).map_err(|e| format!("{}: {path}: {e}", self.spec.name))?;
        std::fs::rename(&tmp, &target).map_err(|e| format!("{}: {path}: {e}", self.spec.name))
    }

    /// Read a file of the node's tree (through its namespaces: what the node sees).
    pub fn read(&self, path: &str) -> Option<String> {
        let pid = self.pid1?;
        std::fs::read_to_string(format!("/proc/{pid}/root{path}")).ok()
    }
}

/// Is `pid` a lab node's systemd: PID 1 of a nested pid namespace, running systemd?
fn is_node_init(pid: u32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    let nested_init = status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .is_some_and(|ids| ids.len() > 1 && ids.last() == Some(&"1"));
    nested_init && std::fs::read_link(format!("/proc/{pid}/exe")).ok() == canonical(SYSTEMD)
}

fn canonical(p: &str) -> Option<PathBuf> {
    std::fs::canonicalize(p).ok()
}

/// The stub targets and the D-Bus units a node's systemd boots with (the host's own units
/// are never loaded: packages installed in the node add theirs).
fn write_vendor_units(dir: &Path) -> Result<()> {
    for t in [
        "sysinit",
        "basic",
        "multi-user",
        "network",
        "network-online",
        "network-pre",
        "nss-lookup",
        "local-fs",
        "local-fs-pre",
        "remote-fs",
        "sockets",
        "timers",
        "paths",
        "slices",
        "swap",
        "time-sync",
        "getty",
        "shutdown",
        "umount",
        "final",
        "emergency",
        "rescue",
    ] {
        let mut unit = format!("[Unit]\nDescription={t}.target (lab node stub)\n");
        if t == "multi-user" {
            unit.push_str("Wants=sockets.target\n");
        }
        write(&dir.join(format!("{t}.target")), &unit)?;
    }
    let _ = std::fs::remove_file(dir.join("default.target"));
    std::os::unix::fs::symlink("multi-user.target", dir.join("default.target"))
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    // A system bus of its own: the service module reads units over D-Bus.
    let host_units = Path::new("/lib/systemd/system");
    if Path::new("/usr/bin/dbus-daemon").exists() && host_units.join("dbus.socket").exists() {
        for u in ["dbus.socket", "dbus.service"] {
            std::fs::copy(host_units.join(u), dir.join(u)).map_err(|e| format!("{u}: {e}"))?;
        }
        let wants = dir.join("sockets.target.wants");
        std::fs::create_dir_all(&wants).map_err(|e| format!("{}: {e}", wants.display()))?;
        let _ = std::os::unix::fs::symlink("../dbus.socket", wants.join("dbus.socket"));
    }
    Ok(())
}

/// The host's dpkg status without the packages the cluster repository provides: a node
/// starts as the host's twin that has none of them installed.
fn node_dpkg_status(repo_packages: &[&str]) -> Result<String> {
    let host = std::fs::read_to_string("/var/lib/dpkg/status")
        .map_err(|e| format!("/var/lib/dpkg/status: {e}"))?;
    let mut out = String::with_capacity(host.len());
    for stanza in host.split("\n\n") {
        let name = stanza
            .lines()
            .find_map(|l| l.strip_prefix("Package: "))
            .unwrap_or("");
        if !stanza.trim().is_empty() && !repo_packages.contains(&name) {
            out.push_str(stanza.trim_matches('\n'));
            out.push_str("\n\n");
        }
    }
    Ok(out)
}

/// Lay out a node's directory before it boots: hostname, hosts, machine id, its dpkg
/// status, no host apt sources, packages never start services by themselves, the Salt
/// commands linked to the lab's binary, and the minion's unit and config.
pub fn prepare(node: &Node, all: &[NodeSpec], halite: &Path, minion_cfg: &str) -> Result<()> {
    let name = &node.spec.name;
    for d in ["units", "vendor-units", "var-lib-systemd", "upper", "work"] {
        std::fs::create_dir_all(node.dir.join(d)).map_err(|e| format!("{name}: {d}: {e}"))?;
    }
    write_vendor_units(&node.dir.join("vendor-units"))?;
    write(&node.upper("/etc/hostname"), &format!("{name}\n"))?;
    let mut hosts = String::from("127.0.0.1 localhost\n");
    for n in all {
        hosts.push_str(&format!("{} {}\n", n.ip, n.name));
    }
    write(&node.upper("/etc/hosts"), &hosts)?;
    let id: String = std::fs::read("/proc/sys/kernel/random/uuid")
        .map(|b| {
            String::from_utf8_lossy(&b)
                .replace('-', "")
                .trim()
                .to_string()
        })
        .map_err(|e| format!("random uuid: {e}"))?;
    write(&node.upper("/etc/machine-id"), &format!("{id}\n"))?;
    write(
        &node.upper("/var/lib/dpkg/status"),
        &node_dpkg_status(&["etcd-server", "containerd-standin", "kubelet-standin"])?,
    )?;
    write(&node.upper("/etc/apt/sources.list"), "")?;
    write(
        &node.upper("/usr/sbin/policy-rc.d"),
        "#!/bin/sh\n# Lab node: packages never start services on their own; states do.\nexit 101\n",
    )?;
    set_mode(&node.upper("/usr/sbin/policy-rc.d"), 0o755)?;
    let bin = node.upper("/usr/local/bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("{}: {e}", bin.display()))?;
    for cmd in [
        "salt",
        "salt-call",
        "salt-minion",
        "salt-master",
        "salt-key",
        "salt-run",
    ] {
        let link = bin.join(cmd);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(halite, &link)
            .map_err(|e| format!("{}: {e}", link.display()))?;
    }
    write(&node.upper("/etc/salt/minion"), minion_cfg)?;
    add_unit(
        node,
        "salt-minion",
        "Halite salt-minion",
        "/usr/local/bin/salt-minion -c /etc/salt",
    )
}

/// Write an enabled unit into the node's /etc/systemd/system.
pub fn add_unit(node: &Node, name: &str, description: &str, exec: &str) -> Result<()> {
    let unit = format!(
        "[Unit]\nDescription={description}\nAfter=network-online.target\n\n[Service]\nExecStart={exec}\nRestart=on-failure\nKillMode=process\n\n[Install]\nWantedBy=multi-user.target\n"
    );
    let units = node.dir.join("units");
    write(&units.join(format!("{name}.service")), &unit)?;
    let wants = units.join("multi-user.target.wants");
    std::fs::create_dir_all(&wants).map_err(|e| format!("{}: {e}", wants.display()))?;
    let link = wants.join(format!("{name}.service"));
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(format!("../{name}.service"), &link)
        .map_err(|e| format!("{}: {e}", link.display()))
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Where a cgroup2 hierarchy is mounted, and this process's cgroup in it.
fn own_cgroup() -> Result<PathBuf> {
    let root = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
        .into_iter()
        .find(|p| is_cgroup2(p))
        .ok_or("no cgroup2 hierarchy (looked at /sys/fs/cgroup and /sys/fs/cgroup/unified)")?;
    let me = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| format!("/proc/self/cgroup: {e}"))?;
    let rel = me
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .ok_or("no cgroup2 entry in /proc/self/cgroup")?;
    Ok(Path::new(root).join(rel.trim_start_matches('/')))
}

fn is_cgroup2(path: &str) -> bool {
    let Ok(c) = std::ffi::CString::new(path) else {
        return false;
    };
    // SAFETY: statfs on a NUL-terminated path into a zeroed struct we own.
    unsafe {
        let mut s: libc::statfs = std::mem::zeroed();
        libc::statfs(c.as_ptr(), &mut s) == 0 && s.f_type == libc::CGROUP2_SUPER_MAGIC
    }
}

/// Boot the node: its systemd as PID 1 of new namespaces inside its network namespace, in a
/// cgroup of its own. `keep` are host paths that stay visible at the same place inside (the
/// lab's directory, where the binary lives). Waits until systemd reports the boot finished.
pub fn start(node: &mut Node, keep: &[PathBuf]) -> Result<()> {
    let name = node.spec.name.clone();
    let init = node.dir.join("node-init.sh");
    write(&init, NODE_INIT)?;
    set_mode(&init, 0o755)?;
    let cg = own_cgroup()?.join(format!("halite-lab.{name}.{}", std::process::id()));
    std::fs::create_dir(&cg).map_err(|e| format!("{}: {e}", cg.display()))?;
    node.cgroup = Some(cg.clone());
    let log =
        std::fs::File::create(node.dir.join("unshare.log")).map_err(|e| format!("{name}: {e}"))?;
    let log2 = log.try_clone().map_err(|e| format!("{name}: {e}"))?;
    let keep: Vec<String> = keep.iter().map(|p| p.display().to_string()).collect();
    let child = Command::new("sh")
        .args([
            "-c",
            "echo $$ > \"$1/cgroup.procs\" && shift && exec \"$@\"",
            "sh",
        ])
        .arg(&cg)
        .args(["nsenter", &format!("--net=/run/netns/{}", node.netns), "--"])
        .args([
            "unshare", "--pid", "--mount", "--uts", "--ipc", "--cgroup", "--fork",
        ])
        .args(["--mount-proc", "--kill-child=SIGKILL", "--"])
        .arg(&init)
        .arg(&node.dir)
        .arg(&name)
        .arg(keep.join(":"))
        .arg("/usr/bin/python3")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("{name}: cannot start its namespaces: {e}"))?;
    let upid = child.id();
    node.unshare_pid = Some(upid);
    let t0 = Instant::now();
    let pid1 = loop {
        let kids = std::fs::read_to_string(format!("/proc/{upid}/task/{upid}/children"))
            .unwrap_or_default();
        if let Some(pid) = kids.split_whitespace().next().and_then(|p| p.parse().ok()) {
            if is_node_init(pid) {
                break pid;
            }
        }
        if t0.elapsed() > Duration::from_secs(20) || !Path::new(&format!("/proc/{upid}")).exists() {
            let log = std::fs::read_to_string(node.dir.join("unshare.log")).unwrap_or_default();
            return Err(format!("{name}: systemd did not start:\n{log}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    node.pid1 = Some(pid1);
    // systemctl needs the manager's private socket.
    let socket = format!("/proc/{pid1}/root/run/systemd/private");
    while !Path::new(&socket).exists() {
        if t0.elapsed() > Duration::from_secs(30) {
            return Err(format!("{name}: systemd's socket did not appear"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut c = node.command("timeout")?;
    c.args(["60", "systemctl", "is-system-running", "--wait"]);
    let out = output(&mut c, &name)?;
    let state = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if state != "running" {
        let failed = node
            .sh("systemctl list-units --failed --no-legend")
            .unwrap_or_default();
        return Err(format!(
            "{name}: systemd is '{state}' after boot; failed units:\n{failed}(see {})",
            node.dir.join("console.log").display()
        ));
    }
    // No host apt sources inside: the node's only repository is the cluster's.
    node.sh("rm -f /etc/apt/sources.list.d/*")?;
    Ok(())
}

/// PIDs inside the node's pid namespace whose parent is outside it (commands entered with
/// nsenter): systemd's shutdown cannot reap them, so they are ended first.
fn entered(pid1: u32) -> Vec<i32> {
    let ns = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok();
    let Some(mine) = ns(&pid1.to_string()) else {
        return vec![];
    };
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let p = e.file_name().to_string_lossy().to_string();
        if !p.bytes().all(|b| b.is_ascii_digit())
            || p == pid1.to_string()
            || ns(&p) != Some(mine.clone())
        {
            continue;
        }
        let ppid = std::fs::read_to_string(format!("/proc/{p}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("PPid:"))
                    .map(|v| v.trim().to_string())
            });
        if let Some(pp) = ppid {
            if ns(&pp) != Some(mine.clone()) {
                if let Ok(pid) = p.parse() {
                    out.push(pid);
                }
            }
        }
    }
    out
}

/// Power the node off (systemd's immediate poweroff ends every process of its namespace),
/// SIGKILL as the fallback, then remove its cgroup. Only PIDs checked to be this node's are
/// signalled.
pub fn stop(node: &mut Node) -> Result<()> {
    if let Some(pid1) = node.pid1.filter(|p| is_node_init(*p)) {
        for p in entered(pid1) {
            // SAFETY: kill(2) on a PID checked to live in this node's pid namespace.
            unsafe { libc::kill(p, libc::SIGKILL) };
        }
        // SAFETY: as above, for the node's own PID 1.
        unsafe { libc::kill(pid1 as i32, libc::SIGRTMIN() + 14) };
        let t0 = Instant::now();
        while is_node_init(pid1) && t0.elapsed() < Duration::from_secs(15) {
            std::thread::sleep(Duration::from_millis(50));
        }
        if is_node_init(pid1) {
            // SAFETY: still the node's PID 1: SIGKILL ends its whole pid namespace.
            unsafe { libc::kill(pid1 as i32, libc::SIGKILL) };
        }
        let t0 = Instant::now();
        while Path::new(&format!("/proc/{pid1}")).exists() && t0.elapsed() < Duration::from_secs(5)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    node.pid1 = None;
    if let Some(upid) = node.unshare_pid.take() {
        let cmdline = std::fs::read(format!("/proc/{upid}/cmdline")).unwrap_or_default();
        let ours = String::from_utf8_lossy(&cmdline).contains(&*node.dir.to_string_lossy());
        let t0 = Instant::now();
        while ours
            && Path::new(&format!("/proc/{upid}")).exists()
            && t0.elapsed() < Duration::from_secs(2)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        if ours && Path::new(&format!("/proc/{upid}")).exists() {
            // SAFETY: the unshare this lab started for this node (its cmdline names the node dir).
            unsafe { libc::kill(upid as i32, libc::SIGKILL) };
        }
    }
    if let Some(cg) = node.cgroup.take() {
        if !cg
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("halite-lab."))
        {
            return Err(format!(
                "refusing to remove cgroup {}: not the lab's",
                cg.display()
            ));
        }
        remove_cgroup(&cg)?;
    }
    Ok(())
}

fn remove_cgroup(cg: &Path) -> Result<()> {
    let t0 = Instant::now();
    while cg.exists() {
        let mut dirs = vec![];
        collect_dirs(cg, &mut dirs);
        for d in dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
        if !cg.exists() {
            break;
        }
        if t0.elapsed() > Duration::from_secs(5) {
            let procs = std::fs::read_to_string(cg.join("cgroup.procs")).unwrap_or_default();
            return Err(format!(
                "cannot remove cgroup {} (processes left: {})",
                cg.display(),
                procs.replace('\n', " ")
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn collect_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            collect_dirs(&e.path(), out);
        }
    }
}
