//! `user.*` and `group.*` states with the real shadow utilities (useradd, usermod, userdel,
//! groupadd, gpasswd), Halite beside real Salt 3008.5.
//!
//! Each side runs in a private mount namespace where an overlay covers the host's `/etc`
//! (`common/etcoverlay.rs`): passwd, group and shadow changes land in the test's upper dir and
//! the host's accounts never change. Both sides start from the host's `/etc`, so system uids
//! and gids are allocated alike. Homes are created only under the test's temp dir. The
//! returns (minus timings), exit codes and resulting account files must be identical.

#[path = "common/compare.rs"]
mod compare;
#[path = "common/etcoverlay.rs"]
mod etcoverlay;

use compare::salt_call;
use etcoverlay::{assert_same_runs, is_root, EtcSandbox};
use serde_json::Value as Json;
use std::path::PathBuf;

const DAEMONS: &str = "etcd_group:\n  group.present:\n    - name: hetcd\n    - system: True\netcd_user:\n  user.present:\n    - name: hetcd\n    - system: True\n    - gid: hetcd\n    - home: /var/lib/hetcd\n    - createhome: False\n    - shell: /usr/sbin/nologin\n    - fullname: etcd daemon\n    - require:\n      - group: etcd_group\nkube_user:\n  user.present:\n    - name: hkube\n    - uid: 4321\n    - groups: [hetcd]\n    - home: {work}/home/hkube\n    - require:\n      - user: etcd_user\nops_group:\n  group.present:\n    - name: hops\n    - gid: 4400\n    - members: [hkube]\n    - require:\n      - user: kube_user\n";

const CHANGES: &str = "kube_user:\n  user.present:\n    - name: hkube\n    - uid: 4321\n    - shell: /bin/sh\n    - groups: [hops]\n    - home: {work}/home/hkube\n    - fullname: kubelet\nbad_uid:\n  user.present:\n    - name: hetcd\n    - uid: '999'\n    - createhome: False\ngone_user:\n  user.absent:\n    - name: hetcd\n    - require:\n      - user: bad_uid\ngone_group:\n  group.absent:\n    - name: hetcd\n    - require:\n      - user: gone_user\nnever:\n  group.absent:\n    - name: hnever\n";

fn side() -> EtcSandbox {
    let s = EtcSandbox::new(
        "husers.",
        &[("daemons", DAEMONS), ("changes", CHANGES)],
        false,
    );
    std::fs::create_dir_all(s.path().join("home")).expect("home dir");
    s
}

fn accounts(s: &EtcSandbox) -> Vec<String> {
    ["upper/passwd", "upper/group", "upper/gshadow"]
        .iter()
        .map(|f| {
            s.file(f)
                .lines()
                .filter(|l| {
                    l.starts_with("hetcd:") || l.starts_with("hkube:") || l.starts_with("hops:")
                })
                .collect::<Vec<_>>()
                .join("\n")
                .replace(&s.path().display().to_string(), "WORK")
        })
        .collect()
}

#[test]
fn user_and_group_states_match_real_salt_with_a_private_etc() {
    if !is_root() {
        eprintln!("SKIPPED: not root (mount namespaces need it)");
        return;
    }
    let runs: &[(&str, &[&str])] = &[
        ("daemons", &["test=True"]),
        ("daemons", &[]),
        ("daemons", &[]),
        ("changes", &["test=True"]),
        ("changes", &[]),
        ("changes", &[]),
    ];
    let ours = side();
    let halite = PathBuf::from(env!("CARGO_BIN_EXE_salt-call"));
    let got = ours.runs(&halite, runs);
    for (i, (_, v)) in got.iter().enumerate() {
        assert!(
            v.get("local").is_some_and(Json::is_object),
            "run {i}: Halite gave no state returns: {v}"
        );
    }
    assert!(
        ours.file("upper/passwd").contains("hkube:x:4321:"),
        "passwd: {}",
        ours.file("upper/passwd")
    );
    let Some(salt) = salt_call() else {
        eprintln!("real Salt is not installed at /opt/salt-venv: no comparison");
        return;
    };
    let theirs = side();
    let want = theirs.runs(&salt, runs);
    assert_same_runs(runs, &got, &want);
    assert_eq!(accounts(&ours), accounts(&theirs), "account files differ");
    eprintln!("{} runs compared with real Salt", runs.len());
}
