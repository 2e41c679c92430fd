//! `pkg.list_pkgs`, `pkg.version` and `pkg.version_cmp` answer exactly as real Salt 3008.5's
//! `aptpkg` does, on this machine's own dpkg database, read only (Halite reads the status
//! file directly; Salt runs `dpkg-query`). Both run with `--local` against an empty config
//! in a temp dir. Without real Salt (`/opt/salt-venv`) or dpkg the comparison says so and
//! skips; under CI, where real Salt is installed, a missing Salt is a failure.

use std::path::Path;
use std::process::Command;

const SALT_CALL: &str = "/opt/salt-venv/bin/salt-call";

fn run(bin: &str, conf: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(bin)
        .arg("-c")
        .arg(conf)
        .args(["--local", "--out=json"])
        .args(args)
        .output()
        .expect("run salt-call");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn package_queries_match_real_salt() {
    if !Path::new(SALT_CALL).exists() || !Path::new("/var/lib/dpkg/status").exists() {
        assert!(
            std::env::var_os("CI").is_none() || !Path::new("/var/lib/dpkg/status").exists(),
            "real Salt is missing under CI"
        );
        eprintln!("real Salt or dpkg is not installed here: comparison skipped");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let conf = tmp.path().join("etc");
    std::fs::create_dir_all(&conf).expect("mkdir");
    std::fs::write(
        conf.join("minion"),
        format!(
            "root_dir: {}\nfile_client: local\nlog_level: quiet\nenable_fqdns_grains: false\n",
            tmp.path().display()
        ),
    )
    .expect("write config");
    let halite = env!("CARGO_BIN_EXE_salt-call");
    let cases: &[&[&str]] = &[
        &["pkg.list_pkgs"],
        &["pkg.list_pkgs", "versions_as_list=True"],
        &["pkg.list_pkgs", "removed=True"],
        &["pkg.list_pkgs", "purge_desired=True"],
        &["pkg.version", "bash"],
        &["pkg.version", "bash", "no-such-package-halite", "dpkg"],
        &["pkg.version", "no-such-package-halite"],
        &["pkg.version", "dpkg", "versions_as_list=True"],
        &["pkg.version_cmp", "1.0~rc1", "1.0"],
        &["pkg.version_cmp", "1:1.0-1", "2.0"],
        &["pkg.version_cmp", "7.88.1-10+deb12u8", "7.88.1-10+deb12u12"],
    ];
    let mut diffs = Vec::new();
    for args in cases {
        let h = run(halite, &conf, args);
        let s = run(SALT_CALL, &conf, args);
        if h != s {
            diffs.push(format!(
                "{}:\n halite (rc {}): {}\n salt (rc {}): {}",
                args.join(" "),
                h.0,
                h.1.chars().take(400).collect::<String>(),
                s.0,
                s.1.chars().take(400).collect::<String>()
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "differences from real Salt:\n{}",
        diffs.join("\n")
    );
}
