//! Values between Halite and minijinja, and Python's mutable `list` / `dict` for templates.
//!
//! Jinja2 templates mutate data in place (`{% do seen.append(x) %}`, `{% do cfg.update(d) %}`).
//! minijinja values are immutable, so lists and dicts from the context and from template
//! literals are [`PyList`] / [`PyDict`] objects: shared by reference, mutable behind a lock.

use halite_core::{Map, Value};
use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr, Tuple, Value as JValue, ValueKind};
use minijinja::{Error as JError, ErrorKind, State};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use super::pyrepr;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A Python `list`: mutable, shared by reference.
#[derive(Debug, Default)]
pub struct PyList {
    items: Mutex<Vec<JValue>>,
}

/// A Python `dict`: insertion-ordered, mutable, shared by reference.
#[derive(Debug, Default)]
pub struct PyDict {
    items: Mutex<IndexMap<JValue, JValue>>,
}

impl PyList {
    /// A list holding `items`, as a template value.
    pub fn new_value(items: Vec<JValue>) -> JValue {
        JValue::from_object(PyList {
            items: Mutex::new(items),
        })
    }

    /// A copy of the current items.
    pub fn snapshot(&self) -> Vec<JValue> {
        lock(&self.items).clone()
    }
}

impl PyDict {
    /// A dict holding `items`, as a template value.
    pub fn new_value(items: IndexMap<JValue, JValue>) -> JValue {
        JValue::from_object(PyDict {
            items: Mutex::new(items),
        })
    }

    /// A copy of the current entries.
    pub fn snapshot(&self) -> Vec<(JValue, JValue)> {
        lock(&self.items)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

fn type_error(msg: impl Into<String>) -> JError {
    JError::new(ErrorKind::InvalidOperation, msg.into())
}

fn arg_count(method: &str, args: &[JValue], min: usize, max: usize) -> Result<(), JError> {
    if args.len() < min || args.len() > max {
        return Err(type_error(format!(
            "{method}() takes {} arguments ({} given)",
            if min == max {
                min.to_string()
            } else {
                format!("{min} to {max}")
            },
            args.len()
        )));
    }
    Ok(())
}

/// Items of any iterable template value (lists, tuples, strings, dict keys).
pub fn iter_values(v: &JValue) -> Result<Vec<JValue>, JError> {
    if let Some(l) = v.downcast_object_ref::<PyList>() {
        return Ok(l.snapshot());
    }
    Ok(v.try_iter()?.collect())
}

/// `(key, value)` pairs of a mapping value; `None` when it is no mapping.
pub fn map_pairs(v: &JValue) -> Option<Vec<(JValue, JValue)>> {
    if let Some(d) = v.downcast_object_ref::<PyDict>() {
        return Some(d.snapshot());
    }
    if v.kind() != ValueKind::Map {
        return None;
    }
    let keys: Vec<JValue> = v.try_iter().ok()?.collect();
    Some(
        keys.into_iter()
            .map(|k| {
                let val = v.get_item(&k).unwrap_or_default();
                (k, val)
            })
            .collect(),
    )
}

fn normalize_index(i: i64, len: usize) -> Option<usize> {
    let idx = if i < 0 { len as i64 + i } else { i };
    usize::try_from(idx).ok().filter(|&x| x < len)
}

impl Object for PyList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &JValue) -> Option<JValue> {
        let items = lock(&self.items);
        let idx = normalize_index(key.as_i64()?, items.len())?;
        items.get(idx).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.snapshot())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(lock(&self.items).len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[JValue],
    ) -> Result<JValue, JError> {
        let mut items = lock(&self.items);
        match method {
            "append" => {
                arg_count(method, args, 1, 1)?;
                items.push(args[0].clone());
                Ok(JValue::from(()))
            }
            "extend" => {
                arg_count(method, args, 1, 1)?;
                let more = if args[0]
                    .downcast_object_ref::<PyList>()
                    .is_some_and(|l| std::ptr::eq(l, &**self))
                {
                    items.clone()
                } else {
                    drop(items);
                    let more = iter_values(&args[0])?;
                    items = lock(&self.items);
                    more
                };
                items.extend(more);
                Ok(JValue::from(()))
            }
            "insert" => {
                arg_count(method, args, 2, 2)?;
                let i = args[0].as_i64().ok_or_else(|| {
                    type_error("'str' object cannot be interpreted as an integer")
                })?;
                let len = items.len() as i64;
                let pos = if i < 0 { (len + i).max(0) } else { i.min(len) };
                items.insert(pos as usize, args[1].clone());
                Ok(JValue::from(()))
            }
            "pop" => {
                arg_count(method, args, 0, 1)?;
                if items.is_empty() {
                    return Err(type_error("pop from empty list"));
                }
                let i = args.first().and_then(JValue::as_i64).unwrap_or(-1);
                let idx = normalize_index(i, items.len())
                    .ok_or_else(|| type_error("pop index out of range"))?;
                Ok(items.remove(idx))
            }
            "remove" => {
                arg_count(method, args, 1, 1)?;
                let pos = items
                    .iter()
                    .position(|x| x == &args[0])
                    .ok_or_else(|| type_error("list.remove(x): x not in list"))?;
                items.remove(pos);
                Ok(JValue::from(()))
            }
            "index" => {
                arg_count(method, args, 1, 1)?;
                let pos = items.iter().position(|x| x == &args[0]).ok_or_else(|| {
                    type_error(format!("{} is not in list", pyrepr::repr(&args[0])))
                })?;
                Ok(JValue::from(pos))
            }
            "count" => {
                arg_count(method, args, 1, 1)?;
                Ok(JValue::from(
                    items.iter().filter(|x| *x == &args[0]).count(),
                ))
            }
            "reverse" => {
                items.reverse();
                Ok(JValue::from(()))
            }
            "sort" => {
                items.sort();
                Ok(JValue::from(()))
            }
            "clear" => {
                items.clear();
                Ok(JValue::from(()))
            }
            "copy" => Ok(PyList::new_value(items.clone())),
            _ => Err(JError::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&pyrepr::repr(&JValue::from_dyn_object(self.clone())))
    }
}

/// The pairs given to `dict.update`: a mapping, a list of pairs and/or keyword arguments.
fn update_pairs(args: &[JValue]) -> Result<Vec<(JValue, JValue)>, JError> {
    let mut out = Vec::new();
    for arg in args {
        if arg.is_kwargs() {
            let kw = minijinja::value::Kwargs::try_from(arg.clone())?;
            for name in kw.args() {
                let v: JValue = kw.peek(name)?;
                out.push((JValue::from(name), v));
            }
        } else if let Some(pairs) = map_pairs(arg) {
            out.extend(pairs);
        } else if arg.is_none() {
            return Err(type_error("'NoneType' object is not iterable"));
        } else {
            for item in iter_values(arg)? {
                let kv = iter_values(&item)?;
                if kv.len() != 2 {
                    return Err(type_error(
                        "dictionary update sequence element has wrong length",
                    ));
                }
                out.push((kv[0].clone(), kv[1].clone()));
            }
        }
    }
    Ok(out)
}

impl Object for PyDict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &JValue) -> Option<JValue> {
        lock(&self.items).get(key).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(lock(&self.items).keys().cloned().collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(lock(&self.items).len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[JValue],
    ) -> Result<JValue, JError> {
        match method {
            "update" => {
                let pairs = update_pairs(args)?;
                let mut items = lock(&self.items);
                for (k, v) in pairs {
                    items.insert(k, v);
                }
                Ok(JValue::from(()))
            }
            "setdefault" => {
                arg_count(method, args, 1, 2)?;
                let mut items = lock(&self.items);
                let dflt = args.get(1).cloned().unwrap_or(JValue::from(()));
                Ok(items.entry(args[0].clone()).or_insert(dflt).clone())
            }
            "get" => {
                arg_count(method, args, 1, 2)?;
                let items = lock(&self.items);
                Ok(items
                    .get(&args[0])
                    .cloned()
                    .or_else(|| args.get(1).cloned())
                    .unwrap_or(JValue::from(())))
            }
            "pop" => {
                arg_count(method, args, 1, 2)?;
                let mut items = lock(&self.items);
                match items.shift_remove(&args[0]) {
                    Some(v) => Ok(v),
                    None => args
                        .get(1)
                        .cloned()
                        .ok_or_else(|| type_error(pyrepr::repr(&args[0]))),
                }
            }
            "popitem" => {
                let mut items = lock(&self.items);
                let (k, v) = items
                    .pop()
                    .ok_or_else(|| type_error("'popitem(): dictionary is empty'"))?;
                Ok(JValue::from(Tuple::from(vec![k, v])))
            }
            "keys" => Ok(PyList::new_value(
                lock(&self.items).keys().cloned().collect(),
            )),
            "values" => Ok(PyList::new_value(
                lock(&self.items).values().cloned().collect(),
            )),
            "items" => Ok(PyList::new_value(
                lock(&self.items)
                    .iter()
                    .map(|(k, v)| JValue::from(Tuple::from(vec![k.clone(), v.clone()])))
                    .collect(),
            )),
            "copy" => Ok(PyDict::new_value(lock(&self.items).clone())),
            "clear" => {
                lock(&self.items).clear();
                Ok(JValue::from(()))
            }
            _ => Err(JError::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&pyrepr::repr(&JValue::from_dyn_object(self.clone())))
    }
}

/// Make a freshly built literal list or map mutable (the literal hook of the patched
/// minijinja). Other values are returned as they are.
pub fn make_mutable(v: JValue) -> JValue {
    match v.kind() {
        ValueKind::Seq if v.downcast_object_ref::<Tuple>().is_none() => match v.try_iter() {
            Ok(it) => PyList::new_value(it.collect()),
            Err(_) => v,
        },
        ValueKind::Map if v.downcast_object_ref::<PyDict>().is_none() => match map_pairs(&v) {
            Some(pairs) => PyDict::new_value(pairs.into_iter().collect()),
            None => v,
        },
        _ => v,
    }
}

/// A Halite value as a template value: lists and dicts become [`PyList`] / [`PyDict`].
pub fn to_jinja(v: &Value) -> JValue {
    match v {
        Value::Null => JValue::from(()),
        Value::Bool(b) => JValue::from(*b),
        Value::Int(i) => JValue::from(*i),
        Value::Float(f) => JValue::from(*f),
        Value::Str(s) => JValue::from(s.as_str()),
        Value::Bytes(b) => JValue::from_bytes(b.clone()),
        Value::List(l) => PyList::new_value(l.iter().map(to_jinja).collect()),
        Value::Map(m) => {
            PyDict::new_value(m.iter().map(|(k, v)| (to_jinja(k), to_jinja(v))).collect())
        }
    }
}

/// A template value as a Halite value (tuples become lists; callables their text).
pub fn from_jinja(v: &JValue) -> Value {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => Value::Null,
        ValueKind::Bool => Value::Bool(v.is_true()),
        ValueKind::Number => {
            if v.is_integer() {
                match v.as_i64() {
                    Some(i) => Value::Int(i),
                    None => Value::Float(f64::try_from(v.clone()).unwrap_or(f64::NAN)),
                }
            } else {
                Value::Float(f64::try_from(v.clone()).unwrap_or(f64::NAN))
            }
        }
        ValueKind::String => Value::Str(v.as_str().unwrap_or_default().to_string()),
        ValueKind::Bytes => Value::Bytes(v.as_bytes().unwrap_or_default().to_vec()),
        ValueKind::Map => {
            let mut m = Map::default();
            for (k, val) in map_pairs(v).unwrap_or_default() {
                m.insert(from_jinja(&k), from_jinja(&val));
            }
            Value::Map(m)
        }
        ValueKind::Seq | ValueKind::Iterable => Value::List(
            iter_values(v)
                .unwrap_or_default()
                .iter()
                .map(from_jinja)
                .collect(),
        ),
        _ => Value::Str(v.to_string()),
    }
}

/// Salt's `dictupdate.update(dest, src, merge_lists)` done in place on a template dict, so
/// that every reference to `dest` (and to its nested dicts) sees the merge, as in Python.
/// `false` when `dest` is not a mutable dict.
pub fn merge_in_place(dest: &JValue, src: &Value, merge_lists: bool) -> bool {
    let Some(dict) = dest.downcast_object_ref::<PyDict>() else {
        return false;
    };
    let Value::Map(src) = src else { return false };
    for (k, v) in src {
        let key = to_jinja(k);
        let existing = lock(&dict.items).get(&key).cloned();
        match (existing, v) {
            (Some(cur), Value::Map(_)) if cur.downcast_object_ref::<PyDict>().is_some() => {
                merge_in_place(&cur, v, merge_lists);
            }
            (Some(cur), Value::List(add)) if merge_lists => {
                if let Some(list) = cur.downcast_object_ref::<PyList>() {
                    let mut items = lock(&list.items);
                    for item in add {
                        let item = to_jinja(item);
                        if !items.contains(&item) {
                            items.push(item);
                        }
                    }
                } else {
                    lock(&dict.items).insert(key, to_jinja(v));
                }
            }
            _ => {
                lock(&dict.items).insert(key, to_jinja(v));
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use halite_core::map;

    #[test]
    fn round_trip_keeps_types_and_order() {
        let v = Value::Map(map! {
            "z" => Value::List(vec![Value::Int(1), Value::Float(2.5), Value::Null]),
            "a" => true,
            "s" => "text",
        });
        assert_eq!(from_jinja(&to_jinja(&v)), v);
        let keys: Vec<_> = from_jinja(&to_jinja(&v))
            .as_map()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            vec![Value::from("z"), Value::from("a"), Value::from("s")]
        );
    }

    #[test]
    fn literal_lists_become_mutable() {
        let v = make_mutable(JValue::from(vec![JValue::from(1)]));
        assert!(v.downcast_object_ref::<PyList>().is_some());
        let t = make_mutable(JValue::from(Tuple::from(vec![JValue::from(1)])));
        assert!(t.downcast_object_ref::<PyList>().is_none());
    }
}
