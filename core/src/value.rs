//! Salt's data model: the values that flow from YAML/Jinja through the compiler to the outputters.
//!
//! It mirrors what Python gives Salt: `None`, `bool`, `int`, `float`, `str`, `bytes`, `list`
//! and an insertion-ordered `dict` whose keys may be any hashable value.

use indexmap::IndexMap;
use std::fmt;
use std::hash::{Hash, Hasher};

/// An insertion-ordered mapping, like a Python 3.7+ `dict`. Hashed with foldhash (fast,
/// randomly seeded per map) rather than SipHash: key hashing was a fifth of a state run.
pub type Map = IndexMap<Value, Value, foldhash::fast::RandomState>;

/// One Salt value.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// Python `None`.
    #[default]
    Null,
    /// Python `bool`.
    Bool(bool),
    /// Python `int` (Halite keeps 64 bits).
    Int(i64),
    /// Python `float`.
    Float(f64),
    /// Python `str`.
    Str(String),
    /// Python `bytes`.
    Bytes(Vec<u8>),
    /// Python `list` (tuples load as lists too).
    List(Vec<Value>),
    /// Python `dict`, order kept.
    Map(Map),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Int(a), Float(b)) | (Float(b), Int(a)) => (*a as f64) == *b,
            (Str(a), Str(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            (List(a), List(b)) => a == b,
            (Map(a), Map(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v == w))
            }
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // `Str` hashes exactly like `str`, so maps can be looked up with a plain `&str`
        // (see the `Equivalent` impl below). Other variants hash a tag first.
        match self {
            Value::Str(s) => s.hash(state),
            Value::Null => 0u8.hash(state),
            Value::Bool(b) => (1u8, *b).hash(state),
            Value::Int(i) => (2u8, *i).hash(state),
            Value::Float(f) => {
                if f.fract() == 0.0 && f.is_finite() && f.abs() < 9.2e18 {
                    (2u8, *f as i64).hash(state)
                } else {
                    (3u8, f.to_bits()).hash(state)
                }
            }
            Value::Bytes(b) => (4u8, b).hash(state),
            Value::List(l) => {
                5u8.hash(state);
                for v in l {
                    v.hash(state);
                }
            }
            Value::Map(m) => {
                // Equal maps may hold their entries in any order, so the entries are
                // hashed one by one (with a fixed-key hasher) and combined by a sum.
                let sum = m.iter().fold(0u64, |acc, (k, v)| {
                    let mut h = std::hash::DefaultHasher::new();
                    k.hash(&mut h);
                    v.hash(&mut h);
                    acc.wrapping_add(h.finish())
                });
                (6u8, m.len(), sum).hash(state)
            }
        }
    }
}

impl indexmap::Equivalent<Value> for str {
    fn equivalent(&self, key: &Value) -> bool {
        matches!(key, Value::Str(s) if s == self)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::Str(s.clone())
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i64::from(i))
    }
}
impl From<u32> for Value {
    fn from(i: u32) -> Self {
        Value::Int(i64::from(i))
    }
}
impl From<usize> for Value {
    fn from(i: usize) -> Self {
        Value::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}
impl From<Vec<Value>> for Value {
    fn from(l: Vec<Value>) -> Self {
        Value::List(l)
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Map(m)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Null, Into::into)
    }
}

impl Value {
    /// An empty mapping.
    pub fn map() -> Value {
        Value::Map(Map::default())
    }

    /// Python truthiness (`bool(x)`).
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
        }
    }

    /// Is this `None`?
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The string inside a `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer inside an `Int` (or a `Bool`, as Python treats it).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    /// The boolean inside a `Bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The list inside a `List`.
    pub fn as_list(&self) -> Option<&Vec<Value>> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The mutable list inside a `List`.
    pub fn as_list_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The mapping inside a `Map`.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The mutable mapping inside a `Map`.
    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// `self[key]` for a mapping with a string key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// Python's type name, for error messages (`'str' object has no attribute ...`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Map(_) => "dict",
        }
    }

    /// Salt's `traverse_dict_and_list`: walk `a:b:0:c` through maps and lists.
    ///
    /// A list is indexed by an integer segment; when the segment is not an integer, the
    /// first mapping in the list that has the key is used, as Salt does.
    pub fn traverse(&self, path: &str, delimiter: &str) -> Option<&Value> {
        let mut cur = self;
        for seg in path.split(delimiter) {
            cur = match cur {
                Value::Map(m) => match m.get(seg) {
                    Some(v) => v,
                    None => {
                        let alt = seg.parse::<i64>().ok().and_then(|i| m.get(&Value::Int(i)));
                        alt?
                    }
                },
                Value::List(l) => match seg.parse::<i64>() {
                    Ok(i) => {
                        let idx = if i < 0 { l.len() as i64 + i } else { i };
                        l.get(usize::try_from(idx).ok()?)?
                    }
                    Err(_) => l
                        .iter()
                        .find_map(|item| item.as_map().and_then(|m| m.get(seg)))?,
                },
                _ => return None,
            };
        }
        Some(cur)
    }

    /// Python `str(x)`: strings as they are, everything else as its `repr`.
    pub fn py_str(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            other => other.py_repr(),
        }
    }

    /// Python `repr(x)` as CPython 3 prints it.
    pub fn py_repr(&self) -> String {
        let mut out = String::new();
        write_repr(self, &mut out);
        out
    }
}

/// CPython's `float.__repr__`: shortest round-trip digits, with Python's exponent rules.
pub fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.2345e6".
    let sci = format!("{:e}", f);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if neg { "-" } else { "" };
    if (-4..16).contains(&exp) {
        // Positional notation.
        let ndig = digits.len() as i32;
        let s = if exp >= 0 {
            let int_len = exp + 1;
            if ndig <= int_len {
                format!("{}{}.0", digits, "0".repeat((int_len - ndig) as usize))
            } else {
                format!(
                    "{}.{}",
                    &digits[..int_len as usize],
                    &digits[int_len as usize..]
                )
            }
        } else {
            format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
        };
        format!("{sign}{s}")
    } else {
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits.clone()
        };
        let e = if exp < 0 {
            format!("-{:02}", -exp)
        } else {
            format!("+{:02}", exp)
        };
        format!("{sign}{m}e{e}")
    }
}

/// Python's `repr` of a `str`: single quotes unless the text holds a `'` and no `"`.
pub fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_py_unprintable(c) => {
                let cp = c as u32;
                if cp <= 0xff {
                    out.push_str(&format!("\\x{cp:02x}"));
                } else if cp <= 0xffff {
                    out.push_str(&format!("\\u{cp:04x}"));
                } else {
                    out.push_str(&format!("\\U{cp:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Characters Python's `str.isprintable()` rejects (a close approximation: C1 controls,
/// separators other than the ASCII space, and unassigned surrogates).
fn is_py_unprintable(c: char) -> bool {
    let cp = c as u32;
    (0x80..=0xa0).contains(&cp)
        || cp == 0xad
        || matches!(cp, 0x2028 | 0x2029 | 0x200b..=0x200f | 0x2060..=0x2064 | 0xfeff)
        || (0x2000..=0x200a).contains(&cp)
        || cp == 0x3000
        || cp == 0x1680
        || cp == 0x202f
        || cp == 0x205f
}

fn write_repr(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&py_float_repr(*f)),
        Value::Str(s) => out.push_str(&py_str_repr(s)),
        Value::Bytes(b) => {
            out.push_str("b'");
            for &byte in b {
                match byte {
                    b'\\' => out.push_str("\\\\"),
                    b'\'' => out.push_str("\\'"),
                    b'\n' => out.push_str("\\n"),
                    b'\r' => out.push_str("\\r"),
                    b'\t' => out.push_str("\\t"),
                    0x20..=0x7e => out.push(byte as char),
                    _ => out.push_str(&format!("\\x{byte:02x}")),
                }
            }
            out.push('\'');
        }
        Value::List(l) => {
            out.push('[');
            for (i, item) in l.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(item, out);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, val)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(k, out);
                out.push_str(": ");
                write_repr(val, out);
            }
            out.push('}');
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.py_str())
    }
}

/// Build a [`Map`] from `key => value` pairs.
#[macro_export]
macro_rules! map {
    () => { $crate::value::Map::default() };
    ($($k:expr => $v:expr),+ $(,)?) => {{
        let mut m = $crate::value::Map::default();
        $( m.insert($crate::value::Value::from($k), $crate::value::Value::from($v)); )+
        m
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of(v: &Value) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        v.hash(&mut h);
        h.finish()
    }

    #[test]
    fn equal_maps_hash_equal_and_different_maps_mostly_differ() {
        let a: Map = [("x".into(), 1.into()), ("y".into(), 2.into())]
            .into_iter()
            .collect();
        let b: Map = [("y".into(), 2.into()), ("x".into(), 1.into())]
            .into_iter()
            .collect();
        let c: Map = [("x".into(), 1.into()), ("y".into(), 3.into())]
            .into_iter()
            .collect();
        assert_eq!(Value::Map(a.clone()), Value::Map(b.clone()));
        assert_eq!(hash_of(&Value::Map(a.clone())), hash_of(&Value::Map(b)));
        assert_ne!(hash_of(&Value::Map(a)), hash_of(&Value::Map(c)));
    }

    #[test]
    fn float_repr_matches_python() {
        assert_eq!(py_float_repr(1.5), "1.5");
        assert_eq!(py_float_repr(3.0), "3.0");
        assert_eq!(py_float_repr(0.1), "0.1");
        assert_eq!(py_float_repr(1e16), "1e+16");
        assert_eq!(py_float_repr(1234567.0), "1234567.0");
        assert_eq!(py_float_repr(0.0001), "0.0001");
        assert_eq!(py_float_repr(0.00001), "1e-05");
        assert_eq!(py_float_repr(-2.5e-7), "-2.5e-07");
        assert_eq!(py_float_repr(123456789012345.6), "123456789012345.6");
    }

    #[test]
    fn str_repr_picks_quotes_like_python() {
        assert_eq!(py_str_repr("abc"), "'abc'");
        assert_eq!(py_str_repr("it's"), "\"it's\"");
        assert_eq!(py_str_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(py_str_repr("l1\nl2"), "'l1\\nl2'");
    }

    #[test]
    fn repr_of_nested_data() {
        let mut m = Map::default();
        m.insert(
            "a".into(),
            Value::List(vec![Value::Int(1), Value::Null, true.into()]),
        );
        assert_eq!(Value::Map(m).py_repr(), "{'a': [1, None, True]}");
    }

    #[test]
    fn str_lookup_without_allocation() {
        let m = map! {"k" => 1i64};
        assert_eq!(m.get("k"), Some(&Value::Int(1)));
    }

    #[test]
    fn traverse_paths() {
        let v = Value::Map(map! {
            "a" => Value::Map(map!{"b" => Value::List(vec![Value::from("x"), Value::from("y")])})
        });
        assert_eq!(v.traverse("a:b:1", ":"), Some(&Value::from("y")));
        assert_eq!(v.traverse("a:c", ":"), None);
    }
}
