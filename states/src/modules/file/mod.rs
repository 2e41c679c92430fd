//! `file.*` states (salt/states/file.py): one file per function group, with shared helpers
//! for atomic writes, permissions and difflib-exact diffs. State modules read `salt://`
//! sources and render templates only through execution functions (`cp.*`, `file.*`).

mod absent;
mod append;
mod comment;
mod copy;
pub mod difflib;
mod directory;
mod exists_missing;
mod line;
mod manage;
mod managed;
mod recurse;
mod replace;
mod serialize;
mod symlink;
mod touch;
pub mod util;

pub use difflib::file_diff as unified_diff;
pub use util::{atomic_write, normalize_mode};

/// Python `re` flags (int or names) as an inline flag prefix, `multiline` adding `m`
/// (what `file.search` and `file.replace` compile patterns with).
pub fn replace_flags(flags: Option<&Value>, multiline: bool) -> String {
    let base = replace::flags_prefix(Some(flags.cloned().unwrap_or(Value::Int(0))).as_ref());
    match (multiline, base.is_empty()) {
        (false, _) => base,
        (true, true) => "(?m)".into(),
        (true, false) if base.contains('m') => base,
        (true, false) => base.replacen("(?", "(?m", 1),
    }
}

use super::{ret, Registry, StateCall};
use halite_core::{Map, Value};

#[cfg(test)]
pub(crate) mod tests_support;

/// Register the `file` module.
pub fn register(r: &mut Registry) {
    r.add("file.managed", managed::managed);
    r.add("file.directory", directory::directory);
    r.add("file.absent", absent::absent);
    r.add("file.exists", exists_missing::exists);
    r.add("file.missing", exists_missing::missing);
    r.add("file.serialize", serialize::serialize);
    r.add("file.append", append::append);
    r.add("file.prepend", append::prepend);
    r.add("file.replace", replace::replace);
    r.add("file.line", line::line);
    r.add("file.comment", comment::comment);
    r.add("file.uncomment", comment::uncomment);
    r.add("file.symlink", symlink::symlink);
    r.add("file.touch", touch::touch);
    r.add("file.copy", copy::copy);
    r.add("file.recurse", recurse::recurse);
}

/// A present, non-null argument.
pub(crate) fn arg<'a>(c: &'a StateCall, key: &str) -> Option<&'a Value> {
    c.arg(key).filter(|v| !v.is_null())
}

/// Salt's `_error`: result False with a comment.
pub(crate) fn fail(ret: &mut Map, comment: String) {
    ret.insert("result".into(), Value::Bool(false));
    ret.insert("comment".into(), comment.into());
}

/// `os.path.expanduser`.
pub(crate) fn expand_user(path: &str) -> String {
    if path == "~" || path.starts_with("~/") {
        if let Ok(home) = std::env::var("HOME") {
            return format!("{home}{}", &path[1..]);
        }
    }
    path.to_string()
}

/// The saltenv of the chunk (`saltenv`, `__env__`, else `base`).
pub(crate) fn saltenv(c: &StateCall) -> String {
    c.str_arg("saltenv")
        .or_else(|| c.str_arg("__env__"))
        .unwrap_or("base")
        .to_string()
}

/// Python's `str.splitlines()` (no line ends kept).
pub(crate) fn splitlines(text: &str) -> Vec<&str> {
    difflib::split_keepends(text)
        .into_iter()
        .map(|l| {
            l.strip_suffix("\r\n")
                .or_else(|| l.strip_suffix('\n'))
                .or_else(|| l.strip_suffix('\r'))
                .unwrap_or(l)
        })
        .collect()
}
