//! `mount.*` and `cron.*` states on real mounts and the real `crontab`, Halite beside real
//! Salt 3008.5.
//!
//! Each side runs in a private mount namespace (`common/etcoverlay.rs`): an overlay covers
//! `/etc` (so `/etc/fstab` edits land in the test's upper dir), mounts are tmpfs under the
//! test's temp dir and vanish with the namespace, and a tmpfs covers `/var/spool/cron` (so
//! `crontab` writes a private crontab). The returns (minus timings), exit codes, fstab files
//! and crontabs must be identical. Swap is not tested: `swapon` needs a kernel and devices
//! this machine does not give a test. Skips without root; cron parts skip without `crontab`
//! (`.ci/run` installs Debian's `cron`).

#[path = "common/compare.rs"]
mod compare;
#[path = "common/etcoverlay.rs"]
mod etcoverlay;

use compare::salt_call;
use etcoverlay::{assert_same_runs, is_root, EtcSandbox};
use serde_json::Value as Json;
use std::path::PathBuf;

const MOUNTS: &str = "data:\n  mount.mounted:\n    - name: {work}/mnt-a\n    - device: tmpfs\n    - fstype: tmpfs\n    - opts: size=1m,mode=0755\n    - mkmnt: True\n    - persist: True\nother_fstab:\n  mount.mounted:\n    - name: {work}/mnt-b\n    - device: tmpfs\n    - fstype: tmpfs\n    - mkmnt: True\n    - config: {work}/fstab\nnot_there:\n  mount.unmounted:\n    - name: {work}/mnt-c\n    - config: {work}/fstab\nno_device:\n  mount.mounted:\n    - name: {work}/mnt-d\n    - device: /dev/halite-no-such-device\n    - fstype: ext4\n    - mkmnt: True\n    - persist: False\n";

const UNMOUNT: &str = "data:\n  mount.unmounted:\n    - name: {work}/mnt-a\n    - persist: True\nother_fstab:\n  mount.unmounted:\n    - name: {work}/mnt-b\n    - config: {work}/fstab\n";

const CRON: &str = "job:\n  cron.present:\n    - name: /usr/bin/true halite\n    - user: root\n    - minute: 5\n    - hour: '*/2'\n    - identifier: halite-job\nreboot:\n  cron.present:\n    - name: /usr/bin/true at-boot\n    - special: '@reboot'\nnever:\n  cron.absent:\n    - name: /usr/bin/true never\n";

const CRON_CHANGE: &str = "job:\n  cron.present:\n    - name: /usr/bin/true halite\n    - user: root\n    - minute: 10\n    - hour: '*/2'\n    - identifier: halite-job\n    - comment: ten past\nreboot:\n  cron.absent:\n    - name: /usr/bin/true at-boot\n    - special: '@reboot'\n";

fn has_crontab() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("crontab").is_file()))
}

fn side(cron: bool) -> EtcSandbox {
    let mut s = EtcSandbox::new(
        "hmount.",
        &[
            ("mounts", MOUNTS),
            ("unmount", UNMOUNT),
            ("cron", CRON),
            ("cron_change", CRON_CHANGE),
        ],
        false,
    );
    std::fs::write(s.path().join("fstab"), "# test fstab\n").expect("fstab");
    if cron {
        s.before = "mount -n -t tmpfs tmpfs /var/spool/cron && mkdir -m 1730 /var/spool/cron/crontabs && chgrp crontab /var/spool/cron/crontabs".into();
        s.after = "cat /var/spool/cron/crontabs/root > \"$W/crontab.out\" 2>/dev/null; true".into();
    }
    s
}

#[test]
fn mount_and_cron_states_match_real_salt_in_a_private_mount_namespace() {
    if !is_root() {
        eprintln!("SKIPPED: not root (mount namespaces need it)");
        return;
    }
    let cron = has_crontab();
    let mut runs: Vec<(&str, &[&str])> = vec![
        ("mounts", &["test=True"]),
        ("mounts", &[]),
        ("mounts", &[]),
        ("unmount", &["test=True"]),
        ("unmount", &[]),
        ("unmount", &[]),
    ];
    if cron {
        runs.extend([
            ("cron", &["test=True"][..]),
            ("cron", &[]),
            ("cron", &[]),
            ("cron_change", &["test=True"]),
            ("cron_change", &[]),
            ("cron_change", &[]),
        ]);
    } else {
        eprintln!("cron: SKIPPED (no crontab command; .ci/run installs Debian's cron)");
    }
    let ours = side(cron);
    let halite = PathBuf::from(env!("CARGO_BIN_EXE_salt-call"));
    let got = ours.runs(&halite, &runs);
    for (i, (_, v)) in got.iter().enumerate() {
        assert!(
            v.get("local").is_some_and(Json::is_object),
            "run {i}: Halite gave no state returns: {v}"
        );
    }
    let Some(salt) = salt_call() else {
        eprintln!("real Salt is not installed at /opt/salt-venv: no comparison");
        return;
    };
    let theirs = side(cron);
    let want = theirs.runs(&salt, &runs);
    assert_same_runs(&runs, &got, &want);
    // crontab(1)'s own 3-line header names its temp file and the time: not compared.
    let norm = |s: &EtcSandbox, f: &str| {
        let text = s.file(f).replace(&s.path().display().to_string(), "WORK");
        if f == "crontab.out" {
            text.lines().skip(3).collect::<Vec<_>>().join("\n")
        } else {
            text
        }
    };
    for f in ["fstab", "upper/fstab", "crontab.out"] {
        assert_eq!(norm(&ours, f), norm(&theirs, f), "{f} differs");
    }
    eprintln!("{} runs compared with real Salt", runs.len());
}
