//! Nodes to values, as Salt's `SaltYamlSafeLoader` (PyYAML's `SafeConstructor` plus Salt's
//! overrides) constructs them.

use super::compose::{Body, Node, Tag};
use super::error::YamlError;
use halite_core::yaml_emit::resolver::ImplicitTag;
use halite_core::{Map, Value};
use std::rc::Rc;

type Pair = (Rc<Node>, Rc<Node>);

const MAPPING_CONTEXT: &str = "while constructing a mapping";

/// Construct the value of a node.
pub(crate) fn construct(node: &Node) -> Result<Value, YamlError> {
    match &node.tag {
        Tag::Implicit(t) => match t {
            ImplicitTag::Str | ImplicitTag::Timestamp => Ok(Value::Str(scalar(node)?.to_string())),
            ImplicitTag::Null => Ok(Value::Null),
            ImplicitTag::Bool => construct_bool(scalar(node)?),
            ImplicitTag::Int => construct_int(&salt_strip_octal(scalar(node)?)),
            ImplicitTag::Float => construct_float(scalar(node)?),
            ImplicitTag::Merge | ImplicitTag::Value => Err(no_constructor(node)),
        },
        Tag::PyUnicode => Ok(Value::Str(scalar(node)?.to_string())),
        Tag::Binary => construct_binary(node),
        Tag::Seq => Ok(Value::List(
            sequence(node)?
                .iter()
                .map(|n| construct(n))
                .collect::<Result<_, _>>()?,
        )),
        Tag::Map => construct_mapping(node).map(Value::Map),
        Tag::Omap | Tag::Pairs => construct_pairs(node),
        Tag::Set => Ok(Value::List(construct_mapping(node)?.into_keys().collect())),
        Tag::Other(_) => Err(no_constructor(node)),
    }
}

fn no_constructor(node: &Node) -> YamlError {
    YamlError::marked(
        None,
        None,
        &format!(
            "could not determine a constructor for the tag '{}'",
            node.tag.full()
        ),
        Some(node.start),
    )
}

fn scalar(node: &Node) -> Result<&str, YamlError> {
    match &node.body {
        Body::Scalar(s) => Ok(s),
        _ => Err(YamlError::marked(
            None,
            None,
            &format!("expected a scalar node, but found {}", node.id()),
            Some(node.start),
        )),
    }
}

fn sequence(node: &Node) -> Result<&[Rc<Node>], YamlError> {
    match &node.body {
        Body::Seq(items) => Ok(items),
        _ => Err(YamlError::marked(
            None,
            None,
            &format!("expected a sequence node, but found {}", node.id()),
            Some(node.start),
        )),
    }
}

/// Salt's `construct_scalar` for int-tagged nodes: leading zeros are dropped, so `0644` is 644.
fn salt_strip_octal(value: &str) -> String {
    if value != "0"
        && value.starts_with('0')
        && !value.starts_with("0b")
        && !value.starts_with("0x")
    {
        let stripped = value.trim_start_matches('0');
        if stripped.is_empty() {
            return "0".to_string();
        }
        return stripped.to_string();
    }
    value.to_string()
}

fn construct_bool(value: &str) -> Result<Value, YamlError> {
    match value.to_lowercase().as_str() {
        "yes" | "true" | "on" => Ok(Value::Bool(true)),
        "no" | "false" | "off" => Ok(Value::Bool(false)),
        other => Err(YamlError::plain(format!("'{other}'"))),
    }
}

/// Python's `int(text, base)` for the digits PyYAML hands it.
fn py_int(text: &str, base: u32) -> Result<Value, YamlError> {
    let trimmed = text.trim();
    match i64::from_str_radix(trimmed, base) {
        Ok(i) => Ok(Value::Int(i)),
        Err(e)
            if matches!(
                e.kind(),
                std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
            ) =>
        {
            // Python ints are unbounded; Halite keeps 64 bits and falls back to a float.
            let mut f = 0f64;
            for c in trimmed.chars() {
                if let Some(d) = c.to_digit(base) {
                    f = f * f64::from(base) + f64::from(d);
                }
            }
            if base == 10 {
                f = trimmed.parse::<f64>().unwrap_or(f);
            }
            Ok(Value::Float(if trimmed.starts_with('-') {
                -f.abs()
            } else {
                f
            }))
        }
        _ => Err(YamlError::plain(format!(
            "invalid literal for int() with base {base}: {}",
            halite_core::value::py_str_repr(text)
        ))),
    }
}

fn negate(v: Value) -> Value {
    match v {
        Value::Int(i) => Value::Int(-i),
        Value::Float(f) => Value::Float(-f),
        other => other,
    }
}

/// PyYAML's `construct_yaml_int` on the (Salt-stripped) text.
fn construct_int(text: &str) -> Result<Value, YamlError> {
    let value = text.replace('_', "");
    let Some(first) = value.chars().next() else {
        return Err(YamlError::plain("string index out of range"));
    };
    let negative = first == '-';
    let value = if first == '-' || first == '+' {
        &value[1..]
    } else {
        &value[..]
    };
    let signed = |v: Value| if negative { negate(v) } else { v };
    if value == "0" {
        return Ok(Value::Int(0));
    }
    if let Some(bin) = value.strip_prefix("0b") {
        return py_int(bin, 2).map(signed);
    }
    if let Some(hex) = value.strip_prefix("0x") {
        return py_int(hex, 16).map(signed);
    }
    if value.starts_with('0') {
        return py_int(value, 8).map(signed);
    }
    if value.contains(':') {
        let mut total: i64 = 0;
        for part in value.split(':') {
            let Value::Int(d) = py_int(part, 10)? else {
                return Err(YamlError::plain("sexagesimal int out of range"));
            };
            total = total.saturating_mul(60).saturating_add(d);
        }
        return Ok(signed(Value::Int(total)));
    }
    if value.is_empty() {
        return Err(YamlError::plain("string index out of range"));
    }
    py_int(value, 10).map(signed)
}

/// Python's `float(text)`.
fn py_float(text: &str) -> Result<f64, YamlError> {
    text.trim().parse::<f64>().map_err(|_| {
        YamlError::plain(format!(
            "could not convert string to float: {}",
            halite_core::value::py_str_repr(text)
        ))
    })
}

/// PyYAML's `construct_yaml_float`.
fn construct_float(text: &str) -> Result<Value, YamlError> {
    let value = text.replace('_', "").to_lowercase();
    let Some(first) = value.chars().next() else {
        return Err(YamlError::plain("string index out of range"));
    };
    let sign = if first == '-' { -1.0 } else { 1.0 };
    let value = if first == '-' || first == '+' {
        &value[1..]
    } else {
        &value[..]
    };
    if value == ".inf" {
        return Ok(Value::Float(sign * f64::INFINITY));
    }
    if value == ".nan" {
        return Ok(Value::Float(f64::NAN));
    }
    if value.contains(':') {
        let mut total = 0f64;
        for part in value.split(':') {
            total = total * 60.0 + py_float(part)?;
        }
        return Ok(Value::Float(sign * total));
    }
    Ok(Value::Float(sign * py_float(value)?))
}

/// Salt's `construct_yaml_binary`: base64, padding added when missing.
fn construct_binary(node: &Node) -> Result<Value, YamlError> {
    use base64::Engine;
    let text = scalar(node)?;
    if !text.is_ascii() {
        return Err(YamlError::marked(
            None,
            None,
            "failed to convert base64 data into ascii: 'ascii' codec can't encode characters",
            Some(node.start),
        ));
    }
    // binascii.a2b_base64 skips characters outside the alphabet.
    let mut clean: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .collect();
    let data_chars = clean.chars().filter(|&c| c != '=').count();
    if data_chars % 4 == 1 {
        return Err(YamlError::marked(
            None,
            None,
            &format!(
                "failed to decode base64 data: Invalid base64-encoded string: number of data \
                 characters ({data_chars}) cannot be 1 more than a multiple of 4"
            ),
            Some(node.start),
        ));
    }
    let missing = text.len() % 4;
    if missing != 0 {
        clean.push_str(&"=".repeat(4 - missing));
    }
    let trimmed = clean.trim_end_matches('=');
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
    );
    lenient.decode(trimmed).map(Value::Bytes).map_err(|e| {
        YamlError::marked(
            None,
            None,
            &format!("failed to decode base64 data: {e}"),
            Some(node.start),
        )
    })
}

/// `!!omap` / `!!pairs`: a list of `[key, value]` pairs (Python gives tuples).
fn construct_pairs(node: &Node) -> Result<Value, YamlError> {
    let items = sequence(node)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match &item.body {
            Body::Map(pairs) if pairs.len() == 1 => {
                let (k, v) = &pairs[0];
                out.push(Value::List(vec![construct(k)?, construct(v)?]));
            }
            _ => {
                return Err(YamlError::marked(
                    Some("while constructing an ordered map"),
                    Some(node.start),
                    &format!("expected a mapping of length 1, but found {}", item.id()),
                    Some(item.start),
                ))
            }
        }
    }
    Ok(Value::List(out))
}

/// Salt's `flatten_mapping`: merge keys (`<<`) replaced by the merged pairs, which come first
/// and are dropped when the mapping has a key with the same text.
fn flatten_mapping(node: &Node, pairs: &[Pair]) -> Result<Vec<Pair>, YamlError> {
    let mut merge: Vec<Pair> = Vec::new();
    let mut own: Vec<Pair> = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        match key.tag {
            Tag::Implicit(ImplicitTag::Merge) => match &value.body {
                Body::Map(sub) => merge.extend(flatten_mapping(value, sub)?),
                Body::Seq(subnodes) => {
                    let mut submerge = Vec::with_capacity(subnodes.len());
                    for sub in subnodes {
                        let Body::Map(subpairs) = &sub.body else {
                            return Err(YamlError::marked(
                                Some(MAPPING_CONTEXT),
                                Some(node.start),
                                &format!("expected a mapping for merging, but found {}", sub.id()),
                                Some(sub.start),
                            ));
                        };
                        submerge.push(flatten_mapping(sub, subpairs)?);
                    }
                    for group in submerge.into_iter().rev() {
                        merge.extend(group);
                    }
                }
                Body::Scalar(_) => {
                    return Err(YamlError::marked(
                        Some(MAPPING_CONTEXT),
                        Some(node.start),
                        &format!(
                            "expected a mapping or list of mappings for merging, but found {}",
                            value.id()
                        ),
                        Some(value.start),
                    ))
                }
            },
            Tag::Implicit(ImplicitTag::Value) => {
                let text = match &key.body {
                    Body::Scalar(s) => s.clone(),
                    _ => String::new(),
                };
                let as_str = Rc::new(Node {
                    tag: Tag::Implicit(ImplicitTag::Str),
                    start: key.start,
                    body: Body::Scalar(text),
                });
                own.push((as_str, Rc::clone(value)));
            }
            _ => own.push((Rc::clone(key), Rc::clone(value))),
        }
    }
    if merge.is_empty() {
        return Ok(own);
    }
    let existing: Vec<&str> = own
        .iter()
        .filter_map(|(k, _)| match &k.body {
            Body::Scalar(s) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    let mut out: Vec<Pair> = merge
        .into_iter()
        .filter(|(k, _)| match &k.body {
            Body::Scalar(s) => !existing.contains(&s.as_str()),
            _ => true,
        })
        .collect();
    out.extend(own);
    Ok(out)
}

/// Python's `key in mapping`: `1`, `1.0` and `True` are the same key.
fn contains_py_key(map: &Map, key: &Value) -> bool {
    if map.contains_key(key) {
        return true;
    }
    let numeric = match key {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    };
    numeric.is_some_and(|n| {
        map.keys().any(|k| match k {
            Value::Bool(b) => f64::from(u8::from(*b)) == n,
            Value::Int(i) => *i as f64 == n,
            Value::Float(f) => *f == n,
            _ => false,
        })
    })
}

/// Salt's `construct_mapping`: merge keys flattened, unhashable keys refused, and a key seen
/// twice is an error at every level (`found conflicting ID`).
fn construct_mapping(node: &Node) -> Result<Map, YamlError> {
    let Body::Map(pairs) = &node.body else {
        return Err(YamlError::marked(
            None,
            None,
            &format!("expected a mapping node, but found {}", node.id()),
            Some(node.start),
        ));
    };
    let pairs = flatten_mapping(node, pairs)?;
    let mut map = Map::with_capacity_and_hasher(pairs.len(), Default::default());
    for (key_node, value_node) in &pairs {
        let key = construct(key_node)?;
        if matches!(key, Value::List(_) | Value::Map(_)) {
            return Err(YamlError::marked(
                Some(MAPPING_CONTEXT),
                Some(node.start),
                &format!("found unacceptable key {}", node_value_repr(key_node)),
                Some(key_node.start),
            ));
        }
        let value = construct(value_node)?;
        if contains_py_key(&map, &key) {
            return Err(YamlError::marked(
                Some(MAPPING_CONTEXT),
                Some(node.start),
                &format!("found conflicting ID '{}'", key.py_str()),
                Some(key_node.start),
            ));
        }
        map.insert(key, value);
    }
    Ok(map)
}

/// Python's `repr(node.value)` for a node (PyYAML prints it for unacceptable keys).
fn node_value_repr(node: &Node) -> String {
    match &node.body {
        Body::Scalar(s) => halite_core::value::py_str_repr(s),
        Body::Seq(items) => {
            let inner: Vec<String> = items.iter().map(|n| node_repr(n)).collect();
            format!("[{}]", inner.join(", "))
        }
        Body::Map(pairs) => {
            let inner: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("({}, {})", node_repr(k), node_repr(v)))
                .collect();
            format!("[{}]", inner.join(", "))
        }
    }
}

fn node_repr(node: &Node) -> String {
    let class = match node.body {
        Body::Scalar(_) => "ScalarNode",
        Body::Seq(_) => "SequenceNode",
        Body::Map(_) => "MappingNode",
    };
    format!(
        "{class}(tag={}, value={})",
        halite_core::value::py_str_repr(&node.tag.full()),
        node_value_repr(node)
    )
}
