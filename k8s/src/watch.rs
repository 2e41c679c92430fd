//! What the minion's drift watch (a Halite extension) needs to know of this crate's states:
//! the files each one keeps, and the etcd membership `etcd.member_present` /
//! `etcd.member_absent` keep. A change to one re-runs the state that keeps it.

use crate::etcd::states::Membership;
use crate::kubelet::KubeletSpec;
use crate::static_pod::PodSpec;
use halite_core::{Map, Value};
use std::path::PathBuf;

/// The files a chunk of `fun` (`state.fun`) keeps: the three kubelet files of
/// `kubelet.configured`, the manifest and the config files a `kubelet.static_pod`'s digest
/// covers, the environment file of `etcd.configured`. Empty for other functions and for
/// arguments the state itself refuses.
pub fn managed_paths(fun: &str, low: &Map) -> Vec<PathBuf> {
    match fun {
        "kubelet.configured" => KubeletSpec::from_low(low)
            .map(|spec| spec.files().into_iter().map(|f| f.path).collect())
            .unwrap_or_default(),
        "kubelet.static_pod" => PodSpec::from_low(low)
            .map(|spec| {
                std::iter::once(spec.path)
                    .chain(spec.config_files.into_iter().map(PathBuf::from))
                    .collect()
            })
            .unwrap_or_default(),
        "etcd.configured" => low
            .get("name")
            .filter(|v| !v.is_null())
            .map(Value::py_str)
            .filter(|n| n.starts_with('/'))
            .map(|n| vec![PathBuf::from(n)])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The etcd membership a chunk of `fun` keeps (`etcd.member_present`,
/// `etcd.member_absent`), checked by polling: etcd has no local file to watch for it.
pub fn membership(fun: &str, low: &Map) -> Option<Membership> {
    Membership::from_low(fun, low)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn low(pairs: &[(&str, Value)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| (Value::from(*k), v.clone()))
            .collect()
    }

    #[test]
    fn kubelet_files_are_the_three_it_writes() {
        let l = low(&[("name", "/var/lib/kubelet/config.yaml".into())]);
        let paths = managed_paths("kubelet.configured", &l);
        assert_eq!(paths.len(), 3);
        assert_eq!(paths[0], PathBuf::from("/var/lib/kubelet/config.yaml"));
        let relative = low(&[("name", "config.yaml".into())]);
        assert!(managed_paths("kubelet.configured", &relative).is_empty());
    }

    #[test]
    fn static_pod_manifest_and_digest_inputs() {
        let manifest: Map = [("kind".into(), "Pod".into())].into_iter().collect();
        let l = low(&[
            ("name", "etcd.yaml".into()),
            ("manifest", Value::Map(manifest)),
            (
                "config_files",
                Value::List(vec!["/etc/kubernetes/etcd.conf".into()]),
            ),
        ]);
        assert_eq!(
            managed_paths("kubelet.static_pod", &l),
            vec![
                PathBuf::from("/etc/kubernetes/manifests/etcd.yaml"),
                PathBuf::from("/etc/kubernetes/etcd.conf")
            ]
        );
    }

    #[test]
    fn etcd_env_file_and_memberships() {
        let l = low(&[("name", "/etc/default/etcd".into())]);
        assert_eq!(
            managed_paths("etcd.configured", &l),
            vec![PathBuf::from("/etc/default/etcd")]
        );
        assert!(managed_paths("file.managed", &l).is_empty());
        let present = low(&[("name", "cp-1".into()), ("ip", "10.0.0.1".into())]);
        assert!(membership("etcd.member_present", &present).is_some());
        let no_url = low(&[("name", "cp-1".into())]);
        assert!(
            membership("etcd.member_present", &no_url).is_none(),
            "the state refuses it"
        );
        assert!(membership("etcd.member_absent", &no_url).is_some());
        assert!(membership("etcd.healthy", &no_url).is_none());
    }
}
