//! A throwaway dpkg/APT root with a local repository of small packages
//! (`../shared/recipes/dpkg-root.sh`), and a way to run `salt-call` (real Salt's or Halite's)
//! against it: the root's environment (`APT_CONFIG`, `DPKG_ADMINDIR`, ...) plus a private
//! mount namespace in which the root's `etc/apt` covers `/etc/apt` and a scratch file covers
//! the host's `/var/log/dpkg.log`, so nothing of the host changes even where a program
//! hard-codes those paths (as Salt's pkgrepo does).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The shared recipes directory (`../shared/recipes` from the workspace root).
pub fn recipes() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|p| p.join("../shared/recipes"))
        .find(|p| p.is_dir())
        .expect("../shared/recipes")
}

fn recipe(args: &[&str]) -> BTreeMap<String, String> {
    let out = Command::new(recipes().join("dpkg-root.sh"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run dpkg-root.sh");
    assert!(
        out.status.success(),
        "dpkg-root.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
        .collect()
}

/// The host's package-database fingerprint (`dpkg-root.sh host-fingerprint`).
pub fn host_fingerprint() -> String {
    let out = Command::new(recipes().join("dpkg-root.sh"))
        .arg("host-fingerprint")
        .output()
        .expect("host-fingerprint");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Can this machine make throwaway roots (root, unshare, dpkg)?
pub fn unavailable() -> Option<String> {
    if !nix_is_root() {
        return Some("not running as root (mount namespaces need it)".into());
    }
    for tool in ["unshare", "dpkg", "apt-get", "dpkg-deb"] {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
            .unwrap_or(false);
        if !found {
            return Some(format!("{tool} is not installed"));
        }
    }
    None
}

fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A local APT repository of the recipe's demo packages, in a temp dir.
pub struct AptRepo {
    /// The temp dir (the repository is its `repo/`).
    pub dir: tempfile::TempDir,
}

impl AptRepo {
    /// Build the repository (`dpkg-root.sh repo`).
    pub fn new() -> AptRepo {
        let dir = tempfile::Builder::new()
            .prefix("haptrepo.")
            .tempdir()
            .expect("tempdir");
        recipe(&["repo", dir.path().join("repo").to_str().expect("utf-8")]);
        AptRepo { dir }
    }

    /// The repository directory (its `.deb` files can be `sources`).
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("repo")
    }
}

/// One root in a temp dir, on a repository; removed on drop.
pub struct AptRoot {
    /// The temp dir holding `root/`, minion configs and scratch files.
    pub dir: tempfile::TempDir,
    /// The root's environment from `dpkg-root.sh root`.
    pub env: BTreeMap<String, String>,
}

impl AptRoot {
    /// A new root using `repo`, with `apt-get update` done.
    pub fn new(repo: &AptRepo) -> AptRoot {
        let dir = tempfile::Builder::new()
            .prefix("haptroot.")
            .tempdir()
            .expect("tempdir");
        let root = dir.path().join("root");
        let env = recipe(&[
            "root",
            root.to_str().expect("utf-8"),
            &format!("file:{}", repo.path().display()),
        ]);
        std::fs::write(dir.path().join("dpkg.log"), "").expect("scratch log");
        AptRoot { dir, env }
    }

    /// The throwaway root.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// A command that runs `program args` in the sandbox.
    pub fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut c = Command::new("unshare");
        c.args(["-m", "--propagation", "private", "sh", "-c"])
            .arg(
                "mount -n --bind \"$DPKG_ROOT/etc/apt\" /etc/apt && \
                 mount -n --bind \"$HAPT_SCRATCH_LOG\" /var/log/dpkg.log && exec \"$@\"",
            )
            .arg("sandbox")
            .arg(program)
            .args(args)
            .envs(&self.env)
            .env("HAPT_SCRATCH_LOG", self.dir.path().join("dpkg.log"))
            .stdin(Stdio::null());
        c
    }

    /// Run `program args` in the sandbox.
    pub fn run(&self, program: &Path, args: &[&str]) -> Output {
        self.command(program, args)
            .output()
            .expect("run in sandbox")
    }

    /// Run apt-get in the sandbox (test set-up), asserting success.
    pub fn apt_get(&self, args: &[&str]) {
        let mut full = vec!["-q", "-y"];
        full.extend_from_slice(args);
        let out = self.run(Path::new("/usr/bin/apt-get"), &full);
        assert!(
            out.status.success(),
            "apt-get {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `dpkg-query -W` of the root: name → version of every package it knows.
    pub fn dpkg_query(&self) -> BTreeMap<String, String> {
        let out = self.run(
            Path::new("/usr/bin/dpkg-query"),
            &["-W", "-f", "${Package} ${db:Status-Abbrev} ${Version}\\n"],
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut p = l.split_whitespace();
                Some((p.next()?.to_string(), p.collect::<Vec<_>>().join(" ")))
            })
            .collect()
    }

    /// A minion config dir for `salt-call --local` on `srv` (states) in this sandbox.
    pub fn minion_config(&self, name: &str, srv: &Path) -> PathBuf {
        let base = self.dir.path().join(name);
        let etc = base.join("etc");
        std::fs::create_dir_all(&etc).expect("config dir");
        std::fs::create_dir_all(base.join("pillar")).expect("pillar dir");
        std::fs::write(
            etc.join("minion"),
            format!(
                "id: node1\nroot_dir: {b}\nfile_client: local\nfile_roots: {{base: [{s}]}}\npillar_roots: {{base: [{b}/pillar]}}\nlog_level: quiet\nenable_fqdns_grains: false\n",
                b = base.display(),
                s = srv.display()
            ),
        )
        .expect("minion config");
        etc
    }
}

impl Drop for AptRoot {
    fn drop(&mut self) {
        let root = self.root();
        let _ = Command::new(recipes().join("dpkg-root.sh"))
            .arg("destroy")
            .arg(&root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
