//! Salt's `dictupdate.update` with `recursive_update=True` (the `smart`/`recursive` strategy).

use halite_core::{Map, Value};

/// Merge `upd` into `dest`: mappings merge recursively, everything else is replaced;
/// existing keys keep their position, new keys go to the end.
pub fn merge_recurse(dest: &mut Map, upd: Map) {
    for (k, v) in upd {
        match (dest.get_mut(&k), v) {
            (Some(Value::Map(d)), Value::Map(u)) => merge_recurse(d, u),
            (_, v) => {
                dest.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use halite_core::map;

    #[test]
    fn nested_maps_merge_and_scalars_replace() {
        let mut a = map! {"x" => Value::Map(map!{"a" => 1i64, "b" => 2i64}), "l" => Value::List(vec![1i64.into()])};
        let b = map! {"x" => Value::Map(map!{"b" => 3i64, "c" => 4i64}), "l" => Value::List(vec![2i64.into()])};
        merge_recurse(&mut a, b);
        assert_eq!(
            Value::Map(a).py_repr(),
            "{'x': {'a': 1, 'b': 3, 'c': 4}, 'l': [2]}"
        );
    }
}
