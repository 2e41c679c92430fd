//! `kmod.present` / `kmod.absent` (salt/states/kmod.py): kernel modules loaded or removed,
//! optionally persisted in Salt's own modules file.
//!
//! Where Salt lists modules from Python sets (so several names come out in a random order),
//! Halite keeps the order of `mods`.

use super::{ret, Registry, StateCall};
use crate::exec::kmod::{self, Outcome};
use crate::exec::pystr::py_rstrip;
use halite_core::{Map, Result, Value};

/// Register the `kmod` module.
pub fn register(r: &mut Registry) {
    r.add("kmod.present", present);
    r.add("kmod.absent", absent);
}

/// Salt's `_append_comment`: a new line under the (right-stripped) comment so far.
fn append_comment(comment: &mut String, new: &str) {
    if comment.is_empty() {
        *comment = new.to_string();
    } else {
        *comment = format!("{}\n{new}", py_rstrip(comment));
    }
}

/// `mods` when it is a list, else `[name]`: (as given, distinct in first-seen order).
fn module_args(c: &StateCall, name: &str) -> (Vec<String>, Vec<String>) {
    let given: Vec<String> = match c.arg("mods") {
        Some(Value::List(l)) => l.iter().map(Value::py_str).collect(),
        _ => vec![name.to_string()],
    };
    let mut distinct: Vec<String> = Vec::with_capacity(given.len());
    for m in &given {
        if !distinct.contains(m) {
            distinct.push(m.clone());
        }
    }
    (given, distinct)
}

/// `"{one} {m} {one_tail}"` for one name, `"{many} {a, b} {many_tail}"` otherwise.
fn phrase(names: &[String], one: &str, many: &str, tail_one: &str, tail_many: &str) -> String {
    if names.len() == 1 {
        format!("{one} {}{tail_one}", names[0])
    } else {
        format!("{many} {}{tail_many}", names.join(", "))
    }
}

/// `kmod.present(name, persist=False, mods=None)`.
fn present(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let persist = c.flag("persist", false);
    let (given, mods) = module_args(c, &name);
    let mut result = Some(true);
    let mut changes = Map::default();
    let mut comment = String::new();

    let mut loaded = kmod::mod_list(false)?;
    if persist {
        let listed = kmod::mod_list(true)?;
        loaded.retain(|m| listed.contains(m));
    }
    let already: Vec<String> = mods
        .iter()
        .filter(|m| loaded.contains(m))
        .cloned()
        .collect();
    if !already.is_empty() {
        append_comment(
            &mut comment,
            &phrase(
                &already,
                "Kernel module",
                "Kernel modules",
                " is already present",
                " are already present",
            ),
        );
    }
    if already.len() == given.len() {
        return Ok(ret(&name, changes, result, comment));
    }
    let not_loaded: Vec<String> = mods
        .iter()
        .filter(|m| !already.contains(m))
        .cloned()
        .collect();
    if c.test {
        append_comment(
            &mut comment,
            &phrase(
                &not_loaded,
                "Kernel module",
                "Kernel modules",
                " is set to be loaded",
                " are set to be loaded",
            ),
        );
        return Ok(ret(&name, changes, None, comment));
    }
    let available = kmod::available();
    let unavailable: Vec<String> = not_loaded
        .iter()
        .filter(|m| !available.contains(m))
        .cloned()
        .collect();
    if !unavailable.is_empty() {
        append_comment(
            &mut comment,
            &phrase(
                &unavailable,
                "Kernel module",
                "Kernel modules",
                " is unavailable",
                " are unavailable",
            ),
        );
        result = Some(false);
    }
    let mut yes: Vec<String> = Vec::new();
    let mut no: Vec<String> = Vec::new();
    let mut failed: Vec<(String, String)> = Vec::new();
    let mut by_dependency: Vec<String> = Vec::new();
    for m in not_loaded.iter().filter(|m| !unavailable.contains(m)) {
        if by_dependency.contains(m) {
            yes.push(m.clone());
            continue;
        }
        match kmod::load(m, persist)? {
            Outcome::Done(list) if !list.is_empty() => {
                for module in list {
                    if &module != m {
                        by_dependency.push(module.clone());
                    }
                    changes.insert(Value::Str(module), "loaded".into());
                }
                yes.push(m.clone());
            }
            Outcome::Done(_) => {
                result = Some(false);
                no.push(m.clone());
            }
            Outcome::Failed(msg) => {
                result = Some(false);
                failed.push((m.clone(), msg));
            }
        }
    }
    if !yes.is_empty() {
        append_comment(
            &mut comment,
            &phrase(
                &yes,
                "Loaded kernel module",
                "Loaded kernel modules",
                "",
                "",
            ),
        );
    }
    if !no.is_empty() {
        append_comment(
            &mut comment,
            &phrase(
                &no,
                "Failed to load kernel module",
                "Failed to load kernel modules",
                "",
                "",
            ),
        );
    }
    for (m, msg) in failed {
        append_comment(
            &mut comment,
            &format!("Failed to load kernel module {m}: {msg}"),
        );
    }
    Ok(ret(&name, changes, result, comment))
}

/// `kmod.absent(name, persist=False, comment=True, mods=None)`.
fn absent(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let persist = c.flag("persist", false);
    let comment_out = c.flag("comment", true);
    let (given, mods) = module_args(c, &name);
    let mut result = Some(true);
    let mut changes = Map::default();
    let mut comment = String::new();

    let mut loaded = kmod::mod_list(false)?;
    if persist {
        for m in kmod::mod_list(true)? {
            if !loaded.contains(&m) {
                loaded.push(m);
            }
        }
    }
    let to_unload: Vec<String> = mods
        .iter()
        .filter(|m| loaded.contains(m))
        .cloned()
        .collect();
    if to_unload.is_empty() {
        let comment = phrase(
            &given,
            "Kernel module",
            "Kernel modules",
            " is already removed",
            " are already removed",
        );
        return Ok(ret(&name, changes, result, comment));
    }
    if c.test {
        append_comment(
            &mut comment,
            &phrase(
                &to_unload,
                "Kernel module",
                "Kernel modules",
                " is set to be removed",
                " are set to be removed",
            ),
        );
        return Ok(ret(&name, changes, None, comment));
    }
    let mut yes: Vec<String> = Vec::new();
    let mut no: Vec<String> = Vec::new();
    let mut failed: Vec<(String, String)> = Vec::new();
    for m in &to_unload {
        match kmod::remove(m, persist, comment_out)? {
            Outcome::Done(list) if !list.is_empty() => {
                for module in list {
                    changes.insert(Value::Str(module), "removed".into());
                }
                yes.push(m.clone());
            }
            Outcome::Done(_) => {
                result = Some(false);
                no.push(m.clone());
            }
            Outcome::Failed(msg) => {
                result = Some(false);
                failed.push((m.clone(), msg));
            }
        }
    }
    if !yes.is_empty() {
        append_comment(
            &mut comment,
            &phrase(
                &yes,
                "Removed kernel module",
                "Removed kernel modules",
                "",
                "",
            ),
        );
    }
    if !no.is_empty() {
        append_comment(
            &mut comment,
            &phrase(
                &no,
                "Failed to remove kernel module",
                "Failed to remove kernel modules",
                "",
                "",
            ),
        );
    }
    for (m, msg) in failed {
        append_comment(
            &mut comment,
            &format!("Failed to remove kernel module {m}: {msg}"),
        );
    }
    Ok(ret(&name, changes, result, comment))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_join_like_salt() {
        let mut c = String::new();
        append_comment(&mut c, "a");
        append_comment(&mut c, "b");
        assert_eq!(c, "a\nb");
        let mut c = "a\n".to_string();
        append_comment(&mut c, "b");
        assert_eq!(c, "a\nb");
    }

    #[test]
    fn phrases() {
        let one = vec!["dummy".to_string()];
        let two = vec!["a".to_string(), "b".to_string()];
        assert_eq!(
            phrase(
                &one,
                "Kernel module",
                "Kernel modules",
                " is unavailable",
                " are unavailable"
            ),
            "Kernel module dummy is unavailable"
        );
        assert_eq!(
            phrase(
                &two,
                "Loaded kernel module",
                "Loaded kernel modules",
                "",
                ""
            ),
            "Loaded kernel modules a, b"
        );
        assert_eq!(
            phrase(
                &[],
                "Kernel module",
                "Kernel modules",
                " is set to be loaded",
                " are set to be loaded"
            ),
            "Kernel modules  are set to be loaded"
        );
    }
}
