//! `file.exists` and `file.missing`.

use super::{expand_user, fail, ret, StateCall};
use halite_core::{Map, Result};
use std::path::Path;

/// `file.exists`: fail unless the path exists.
pub fn exists(c: &StateCall) -> Result<Map> {
    let name = expand_user(&c.name());
    let mut r = ret(&name, Map::default(), Some(true), "");
    if name.is_empty() {
        fail(&mut r, "Must provide name to file.exists".into());
    } else if !Path::new(&name).exists() {
        fail(&mut r, format!("Specified path {name} does not exist"));
    } else {
        r.insert("comment".into(), format!("Path {name} exists").into());
    }
    Ok(r)
}

/// `file.missing`: fail if the path exists.
pub fn missing(c: &StateCall) -> Result<Map> {
    let name = expand_user(&c.name());
    let mut r = ret(&name, Map::default(), Some(true), "");
    if name.is_empty() {
        fail(&mut r, "Must provide name to file.missing".into());
    } else if Path::new(&name).exists() {
        fail(&mut r, format!("Specified path {name} exists"));
    } else {
        r.insert("comment".into(), format!("Path {name} is missing").into());
    }
    Ok(r)
}
