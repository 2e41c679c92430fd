//! `kubelet.static_pod`: a static pod manifest in the kubelet's manifest directory, stamped
//! with a digest of its inputs so that the kubelet restarts the pod when a configuration
//! file it reads changes (the kubelet only watches the manifest itself).
//!
//! The digest (sha256, hex) covers a canonical serialisation of the manifest without the
//! digest annotation (mapping keys sorted, every item typed and length-prefixed, so two
//! manifests that differ only in key order digest alike), then each configuration file's
//! path and content, a missing file counting as a distinct marker. The manifest is written
//! with `metadata.annotations[annotation] = digest`, atomically and only when it changes.

use crate::kubelet::{absolute, header, yaml_options, ManagedFile};
use halite_core::yaml_emit::dump;
use halite_core::{Error, Map, Result, Value};
use halite_states::modules::{ret, Registry, StateCall};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Register `kubelet.static_pod`.
pub fn register(r: &mut Registry) {
    r.add("kubelet.static_pod", static_pod);
}

/// The annotation that carries the digest unless `annotation` says otherwise.
pub const DEFAULT_ANNOTATION: &str = "halite.io/config-digest";

/// The kubelet's default manifest directory, where a relative `name` is put.
pub const DEFAULT_STATIC_POD_PATH: &str = "/etc/kubernetes/manifests";

/// The arguments of `kubelet.static_pod`, checked.
#[derive(Debug, Clone)]
pub struct PodSpec {
    /// Where the manifest is written.
    pub path: PathBuf,
    /// The Pod object as given.
    pub manifest: Map,
    /// The files whose contents the digest covers.
    pub config_files: Vec<String>,
    /// The annotation that carries the digest.
    pub annotation: String,
}

impl PodSpec {
    /// Read and check the arguments of a `kubelet.static_pod` chunk; the error is the
    /// state's comment.
    pub fn from_low(low: &Map) -> std::result::Result<PodSpec, String> {
        let text = |k: &str| low.get(k).filter(|v| !v.is_null()).map(Value::py_str);
        let name = text("name").unwrap_or_default();
        let path = if Path::new(&name).is_absolute() {
            PathBuf::from(&name)
        } else {
            let dir = text("static_pod_path").unwrap_or_else(|| DEFAULT_STATIC_POD_PATH.into());
            absolute(&dir)?.join(&name)
        };
        let manifest = match low.get("manifest") {
            Some(Value::Map(m)) if m.get("kind").and_then(Value::as_str) == Some("Pod") => {
                m.clone()
            }
            _ => {
                return Err(format!(
                    "The manifest of {name} must be a mapping with kind Pod"
                ))
            }
        };
        let config_files: Vec<String> = match low.get("config_files") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::List(l)) => l.iter().map(Value::py_str).collect(),
            Some(other) => vec![other.py_str()],
        };
        for p in &config_files {
            absolute(p)?;
        }
        Ok(PodSpec {
            path,
            manifest,
            config_files,
            annotation: text("annotation").unwrap_or_else(|| DEFAULT_ANNOTATION.into()),
        })
    }

    /// The configuration files' contents (`None` for a missing file).
    pub fn read_inputs(&self) -> Result<Vec<(String, Option<Vec<u8>>)>> {
        self.config_files
            .iter()
            .map(|p| match std::fs::read(p) {
                Ok(bytes) => Ok((p.clone(), Some(bytes))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((p.clone(), None)),
                Err(e) => Err(Error::io(p.clone(), &e)),
            })
            .collect()
    }
}

/// Append the canonical encoding of `v`: a type tag, lengths as 8 bytes little-endian,
/// mapping entries sorted by their encoded keys.
fn encode(v: &Value, out: &mut Vec<u8>) {
    let len = |n: usize, out: &mut Vec<u8>| out.extend_from_slice(&(n as u64).to_le_bytes());
    match v {
        Value::Null => out.push(b'n'),
        Value::Bool(b) => out.extend_from_slice(&[b'b', u8::from(*b)]),
        Value::Int(i) => {
            out.push(b'i');
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Float(f) => {
            out.push(b'f');
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Value::Str(s) => {
            out.push(b's');
            len(s.len(), out);
            out.extend_from_slice(s.as_bytes());
        }
        Value::Bytes(b) => {
            out.push(b'y');
            len(b.len(), out);
            out.extend_from_slice(b);
        }
        Value::List(l) => {
            out.push(b'l');
            len(l.len(), out);
            l.iter().for_each(|item| encode(item, out));
        }
        Value::Map(m) => {
            let mut entries: Vec<(Vec<u8>, &Value)> = m
                .iter()
                .map(|(k, v)| {
                    let mut key = Vec::new();
                    encode(k, &mut key);
                    (key, v)
                })
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            out.push(b'm');
            len(entries.len(), out);
            for (k, v) in entries {
                out.extend_from_slice(&k);
                encode(v, out);
            }
        }
    }
}

/// The manifest without `annotation` in `metadata.annotations`.
fn without_annotation(manifest: &Map, annotation: &str) -> Map {
    let mut m = manifest.clone();
    if let Some(Value::Map(meta)) = m.get_mut("metadata") {
        if let Some(Value::Map(ann)) = meta.get_mut("annotations") {
            ann.shift_remove(annotation);
        }
    }
    m
}

/// The digest of a manifest (its `annotation` left out) and its configuration files.
pub fn digest(manifest: &Map, annotation: &str, inputs: &[(String, Option<Vec<u8>>)]) -> String {
    let mut buf = b"halite static pod v1\0".to_vec();
    encode(
        &Value::Map(without_annotation(manifest, annotation)),
        &mut buf,
    );
    for (path, content) in inputs {
        encode(&Value::Str(path.clone()), &mut buf);
        match content {
            Some(bytes) => encode(&Value::Bytes(bytes.clone()), &mut buf),
            None => buf.push(b'-'),
        }
    }
    Sha256::digest(&buf)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The manifest with `metadata.annotations[annotation] = digest` (other annotations kept).
pub fn annotated(
    manifest: &Map,
    annotation: &str,
    digest: &str,
) -> std::result::Result<Map, String> {
    let mut m = manifest.clone();
    let meta = m.entry("metadata".into()).or_insert_with(Value::map);
    if meta.is_null() {
        *meta = Value::map();
    }
    let Value::Map(meta) = meta else {
        return Err("The manifest's metadata must be a mapping".into());
    };
    let ann = meta.entry("annotations".into()).or_insert_with(Value::map);
    if ann.is_null() {
        *ann = Value::map();
    }
    let Value::Map(ann) = ann else {
        return Err("The manifest's metadata.annotations must be a mapping".into());
    };
    ann.insert(annotation.into(), digest.into());
    Ok(m)
}

/// The digest recorded in a manifest this state wrote (`metadata.annotations`, at the
/// indentation the emitter uses), `None` when there is none.
pub fn recorded_digest(text: &str, annotation: &str) -> Option<String> {
    let mut probe = Map::default();
    probe.insert(annotation.into(), "X".into());
    let dumped = dump(&Value::Map(probe), &yaml_options());
    let key = dumped.strip_suffix("X\n")?.to_string();
    let (mut in_meta, mut in_ann) = (false, false);
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        match indent {
            0 => (in_meta, in_ann) = (line == "metadata:", false),
            2 => in_ann = in_meta && &line[2..] == "annotations:",
            4 if in_ann => {
                if let Some(v) = line[4..].strip_prefix(&key) {
                    return Some(v.trim_matches(|c| c == '\'' || c == '"').to_string());
                }
            }
            _ => {}
        }
    }
    None
}

/// `kubelet.static_pod(name, manifest, config_files=(), annotation=..., static_pod_path=...)`.
fn static_pod(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let spec = match PodSpec::from_low(c.low) {
        Ok(s) => s,
        Err(why) => return Ok(ret(&name, Map::default(), Some(false), why)),
    };
    match apply(&spec, c.test) {
        Ok((changes, result, comment)) => Ok(ret(&name, changes, result, comment)),
        Err(e) => Ok(ret(&name, Map::default(), Some(false), e.to_string())),
    }
}

/// Compare, then (outside test mode) write the manifest: changes, result, comment.
fn apply(spec: &PodSpec, test: bool) -> Result<(Map, Option<bool>, String)> {
    let new_digest = digest(&spec.manifest, &spec.annotation, &spec.read_inputs()?);
    let manifest =
        annotated(&spec.manifest, &spec.annotation, &new_digest).map_err(Error::InvalidArgument)?;
    let file = ManagedFile {
        path: spec.path.clone(),
        content: format!(
            "{}{}",
            header("kubelet.static_pod"),
            dump(&Value::Map(manifest), &yaml_options())
        ),
    };
    let Some(change) = file.pending_change()? else {
        let ok = "Static pod manifest is in the correct state";
        return Ok((Map::default(), Some(true), ok.into()));
    };
    let mut changes = Map::default();
    changes.insert(file.path.display().to_string().into(), change);
    let old_digest = std::fs::read(&file.path)
        .ok()
        .and_then(|b| recorded_digest(&String::from_utf8_lossy(&b), &spec.annotation));
    if old_digest.as_deref() != Some(new_digest.as_str()) {
        let mut d = Map::default();
        d.insert("old".into(), old_digest.into());
        d.insert("new".into(), new_digest.into());
        changes.insert("digest".into(), Value::Map(d));
    }
    if test {
        let would = "Static pod manifest would be updated";
        return Ok((changes, None, would.into()));
    }
    file.write()?;
    Ok((changes, Some(true), "Static pod manifest updated".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubelet::tests::{at, low, run_state, s};

    fn pod() -> Map {
        low(&[
            ("apiVersion", s("v1")),
            ("kind", s("Pod")),
            (
                "metadata",
                Value::Map(low(&[
                    ("name", s("etcd")),
                    ("namespace", s("kube-system")),
                    ("annotations", Value::Map(low(&[("team", s("platform"))]))),
                ])),
            ),
            (
                "spec",
                Value::Map(low(&[("hostNetwork", Value::Bool(true))])),
            ),
        ])
    }

    fn chunk(dir: &Path, files: &[&Path]) -> Map {
        let files = files.iter().map(|p| s(&p.display().to_string())).collect();
        low(&[
            ("name", s("etcd.yaml")),
            ("static_pod_path", s(&dir.display().to_string())),
            ("manifest", Value::Map(pod())),
            ("config_files", Value::List(files)),
        ])
    }

    #[test]
    fn digest_follows_config_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("etcd.conf");
        let spec = PodSpec::from_low(&chunk(dir.path(), &[&conf])).unwrap();
        let d = || {
            digest(
                &spec.manifest,
                &spec.annotation,
                &spec.read_inputs().unwrap(),
            )
        };
        let missing = d();
        assert_eq!(missing.len(), 64);
        assert_eq!(d(), missing, "stable while nothing changes");
        std::fs::write(&conf, "").unwrap();
        let empty = d();
        assert_ne!(empty, missing, "creating the file changes the digest");
        std::fs::write(&conf, "a=1\n").unwrap();
        let one = d();
        assert_ne!(one, empty);
        assert_eq!(d(), one);

        // Key order and the annotation itself do not count.
        let mut reordered = Map::default();
        for (k, v) in spec.manifest.iter().rev() {
            reordered.insert(k.clone(), v.clone());
        }
        let stamped = annotated(&reordered, DEFAULT_ANNOTATION, "old").unwrap();
        let inputs = spec.read_inputs().unwrap();
        assert_eq!(digest(&stamped, DEFAULT_ANNOTATION, &inputs), one);
    }

    #[test]
    fn annotation_added_and_others_kept() {
        let m = annotated(&pod(), "x/y", "abc").unwrap();
        let ann = m["metadata"].get("annotations").unwrap().as_map().unwrap();
        assert_eq!(ann["team"], s("platform"));
        assert_eq!(ann["x/y"], s("abc"));
        let bare = low(&[("kind", s("Pod"))]);
        let m = annotated(&bare, "x/y", "abc").unwrap();
        assert_eq!(at(&m["metadata"], &["annotations", "x/y"]), &s("abc"));
    }

    #[test]
    fn writes_then_no_changes_then_follows_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("etcd.conf");
        std::fs::write(&conf, "one\n").unwrap();
        let manifests = dir.path().join("manifests");
        let low = chunk(&manifests, &[&conf]);
        let path = manifests.join("etcd.yaml");
        let key = path.display().to_string();

        let r = run_state(static_pod, &low, true);
        assert_eq!(r["result"], Value::Null);
        assert_eq!(r["comment"], s("Static pod manifest would be updated"));
        assert!(!manifests.exists(), "test mode writes nothing");

        let r = run_state(static_pod, &low, false);
        assert_eq!(r["result"], Value::Bool(true));
        assert_eq!(r["comment"], s("Static pod manifest updated"));
        assert_eq!(at(&r["changes"], &[&key, "diff"]), &s("New file"));
        assert_eq!(at(&r["changes"], &["digest", "old"]), &Value::Null);
        let first = at(&r["changes"], &["digest", "new"]).py_str();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(
            "# Managed by Halite (kubelet.static_pod): local changes are overwritten.\n\
             apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n"
        ));
        assert!(text.contains(&format!(
            "  annotations:\n    team: platform\n    halite.io/config-digest: {first}\n"
        )));
        assert_eq!(
            recorded_digest(&text, DEFAULT_ANNOTATION),
            Some(first.clone())
        );

        let r = run_state(static_pod, &low, false);
        assert_eq!(r["changes"], Value::map());
        assert_eq!(
            r["comment"],
            s("Static pod manifest is in the correct state")
        );

        std::fs::write(&conf, "two\n").unwrap();
        let r = run_state(static_pod, &low, false);
        assert_eq!(at(&r["changes"], &["digest", "old"]), &s(&first));
        assert_ne!(at(&r["changes"], &["digest", "new"]), &s(&first));
        let diff = at(&r["changes"], &[&key, "diff"]).py_str();
        assert!(diff.contains(&format!("-    halite.io/config-digest: {first}\n")));
    }

    #[test]
    fn manifest_must_be_a_pod() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = chunk(dir.path(), &[]);
        l.insert(
            "manifest".into(),
            Value::Map(low(&[("kind", s("Deployment"))])),
        );
        let r = run_state(static_pod, &l, false);
        assert_eq!(r["result"], Value::Bool(false));
        assert_eq!(
            r["comment"],
            s("The manifest of etcd.yaml must be a mapping with kind Pod")
        );
        l.insert("manifest".into(), s("kind: Pod"));
        assert_eq!(
            run_state(static_pod, &l, false)["result"],
            Value::Bool(false)
        );
        l.insert("manifest".into(), Value::Map(pod()));
        let relative = Value::List(vec![s("relative.conf")]);
        l.insert("config_files".into(), relative);
        assert_eq!(
            run_state(static_pod, &l, false)["comment"],
            s("Specified file relative.conf is not an absolute path")
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
