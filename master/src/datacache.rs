//! The minion data cache (`minion_data_cache`): each minion's grains and pillar, stored when
//! it asks for its pillar, under `<cachedir>/minions/<id>/data.p` (msgpack
//! `{"grains", "pillar"}`), read by expected-minion computation for `-G`/`-I` targets.

use crate::pki::{valid_id, write_private};
use halite_core::{Map, Value};
use halite_proto::envelope::map;
use halite_proto::msgpack;
use std::path::PathBuf;

/// The data cache.
pub struct DataCache {
    dir: PathBuf,
}

impl DataCache {
    /// The cache under `cachedir`.
    pub fn new(cachedir: &std::path::Path) -> DataCache {
        DataCache {
            dir: cachedir.join("minions"),
        }
    }

    /// Store `id`'s grains and pillar.
    pub fn store(&self, id: &str, grains: &Value, pillar: &Value) {
        if !valid_id(id) {
            return;
        }
        let d = self.dir.join(id);
        let data = Value::Map(map([
            ("grains", grains.clone()),
            ("pillar", pillar.clone()),
        ]));
        let r = std::fs::create_dir_all(&d)
            .and_then(|_| write_private(&d.join("data.p"), &msgpack::encode(&data), 0o600));
        if let Err(e) = r {
            tracing::warn!(minion = id, "caching minion data: {e}");
        }
    }

    /// `id`'s (grains, pillar), when cached.
    pub fn get(&self, id: &str) -> Option<(Value, Value)> {
        if !valid_id(id) {
            return None;
        }
        let b = std::fs::read(self.dir.join(id).join("data.p")).ok()?;
        let Value::Map(mut m): Value = msgpack::decode(&b).ok()? else {
            return None;
        };
        let g = m
            .shift_remove("grains")
            .unwrap_or_else(|| Value::Map(Map::default()));
        let p = m
            .shift_remove("pillar")
            .unwrap_or_else(|| Value::Map(Map::default()));
        Some((g, p))
    }

    /// Forget `id` (its key was deleted).
    pub fn remove(&self, id: &str) {
        if valid_id(id) {
            let _ = std::fs::remove_dir_all(self.dir.join(id));
        }
    }
}
