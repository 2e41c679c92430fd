//! External pillars. `file_tree`: a directory tree whose files become pillar values
//! (`hosts/<minion id>/...` and `nodegroups/<group>/...`), as Salt's `file_tree` ext_pillar.

use halite_core::{Map, Value};
use halite_pillar::merge_recurse;
use std::path::{Path, PathBuf};

fn opt_bool(args: &Map, key: &str) -> bool {
    args.get(key).is_some_and(Value::is_truthy)
}

/// Does `keep_newline` say to strip the trailing newline of `rel` (Salt's `_check_newline`)?
fn strip_newline(keep: &Value, rel: &str) -> bool {
    match keep {
        Value::List(globs) => !globs
            .iter()
            .any(|g| halite_states::fnmatch::fnmatch(rel, &g.py_str())),
        other => !other.is_truthy(),
    }
}

fn construct(top: &Path, keep: &Value, follow_links: bool) -> Map {
    fn walk(dir: &Path, top: &Path, keep: &Value, follow: bool, node: &mut Map) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            tracing::error!("file_tree: {}: cannot read directory", dir.display());
            return;
        };
        let mut entries: Vec<_> = rd.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        let (dirs, files): (Vec<_>, Vec<_>) = entries.into_iter().partition(|e| {
            let p = e.path();
            if follow {
                p.is_dir()
            } else {
                e.file_type().is_ok_and(|t| t.is_dir())
            }
        });
        for d in &dirs {
            node.insert(
                Value::Str(d.file_name().to_string_lossy().into_owned()),
                Value::map(),
            );
        }
        for f in files {
            let path = f.path();
            let name = f.file_name().to_string_lossy().into_owned();
            if !path.is_file() {
                tracing::error!("file_tree: {}: not a regular file", path.display());
                continue;
            }
            match std::fs::read(&path) {
                Ok(mut data) => {
                    let prefix = dir.strip_prefix(top).unwrap_or(Path::new(""));
                    let rel = if prefix.as_os_str().is_empty() {
                        PathBuf::from(".").join(&name)
                    } else {
                        prefix.join(&name)
                    };
                    if data.ends_with(b"\n") && strip_newline(keep, &rel.display().to_string()) {
                        data.pop();
                    }
                    node.insert(Value::Str(name), Value::Bytes(data));
                }
                Err(e) => tracing::error!("file_tree: Error reading {}: {e}", path.display()),
            }
        }
        for d in dirs {
            let name = Value::Str(d.file_name().to_string_lossy().into_owned());
            if let Some(Value::Map(child)) = node.get_mut(&name) {
                walk(&d.path(), top, keep, follow, child);
            }
        }
    }
    let mut pillar = Map::default();
    walk(top, top, keep, follow_links, &mut pillar);
    pillar
}

/// Salt's `file_tree` ext_pillar. `in_nodegroup` says whether this minion is in a nodegroup
/// (on the master, from its minion data; Salt's `salt-call --local` finds none).
pub fn file_tree(
    minion_id: &str,
    opts: &Map,
    args: &Value,
    in_nodegroup: &dyn Fn(&str) -> bool,
) -> Result<Map, String> {
    let empty = Map::default();
    let args = args.as_map().unwrap_or(&empty);
    let Some(root_dir) = args
        .get("root_dir")
        .filter(|v| v.is_truthy())
        .map(Value::py_str)
    else {
        tracing::error!("file_tree: no root_dir specified");
        return Ok(Map::default());
    };
    if args.get("template").is_some_and(Value::is_truthy) {
        return Err("file_tree with 'template: True' is not available".into());
    }
    let follow = opt_bool(args, "follow_dir_links");
    let keep = args
        .get("keep_newline")
        .cloned()
        .unwrap_or(Value::Bool(false));
    if !matches!(keep, Value::Bool(_) | Value::List(_)) {
        tracing::error!(
            "file_tree: keep_newline must be either True/False or a list of file globs"
        );
        return Ok(Map::default());
    }
    let dirs: Vec<PathBuf> = if Path::new(&root_dir).is_absolute() {
        vec![PathBuf::from(&root_dir)]
    } else {
        let Some(env) = opts
            .get("pillarenv")
            .filter(|v| !v.is_null())
            .map(Value::py_str)
        else {
            tracing::error!("file_tree: root_dir is relative but pillarenv is not set");
            return Ok(Map::default());
        };
        let roots = opts
            .get("pillar_roots")
            .and_then(|r| r.get(&env))
            .and_then(Value::as_list)
            .cloned()
            .unwrap_or_default();
        roots
            .iter()
            .map(|r| Path::new(&r.py_str()).join(&root_dir))
            .collect()
    };
    let mut result = Map::default();
    for root in dirs {
        if !root.is_dir() {
            tracing::error!(
                "file_tree: root_dir {} does not exist or is not a directory",
                root.display()
            );
            continue;
        }
        let mut pillar = Map::default();
        let ngroups = root.join("nodegroups");
        if let Ok(rd) = std::fs::read_dir(&ngroups) {
            let mut names: Vec<String> = rd
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for g in names {
                if in_nodegroup(&g) {
                    merge_recurse(&mut pillar, construct(&ngroups.join(&g), &keep, follow));
                }
            }
        }
        let host = root.join("hosts").join(minion_id);
        if host.is_dir() {
            merge_recurse(&mut pillar, construct(&host, &keep, follow));
        }
        merge_recurse(&mut result, pillar);
    }
    Ok(result)
}
