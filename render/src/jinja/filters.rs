//! Salt's Jinja filters and tests (salt/utils/jinja.py, salt/utils/data.py,
//! salt/utils/hashutils.py, salt/utils/stringutils.py, `SerializerExtension`), plus the
//! Jinja2 built-ins whose output differs from minijinja's (`join`, `string`).
//!
//! Not provided (a template using them fails with "no filter named ..."): hashes (`md5`,
//! `sha1`, `sha256`, `sha512`, `hmac`, `uuid`, `random_hash`), `strftime` / `date_format`,
//! `json_query`, network filters (`ipaddr`, `ipv4`, ...), `http_query`, `xml`, `python`.

use base64::Engine as _;
use halite_core::Value;
use minijinja::value::{Kwargs, Rest, Tuple, Value as JValue, ValueKind};
use minijinja::{Environment, Error as JError, ErrorKind};
use regex::RegexBuilder;

use super::convert::{from_jinja, iter_values, to_jinja, PyList};
use super::pyrepr;
use super::serializers::{self, JsonOptions};

fn runtime(msg: impl Into<String>) -> JError {
    JError::new(ErrorKind::InvalidOperation, msg.into())
}

fn text_of(v: &JValue) -> String {
    pyrepr::py_str(v)
}

/// Register Salt's filters and tests on `env`.
pub fn register(env: &mut Environment<'static>) {
    env.add_filter("tojson", tojson);
    env.add_filter("json", json);
    env.add_filter("yaml", yaml);
    env.add_filter("yaml_dquote", |v: JValue| {
        str_result(serializers::yaml_dquote(&text_of(&v)))
    });
    env.add_filter("yaml_squote", |v: JValue| {
        str_result(serializers::yaml_squote(&text_of(&v)))
    });
    env.add_filter("yaml_encode", |v: JValue| {
        str_result(serializers::yaml_encode(&from_jinja(&v)))
    });
    env.add_filter("load_yaml", |v: JValue| {
        serializers::load_yaml(&text_of(&v))
            .map(|x| to_jinja(&x))
            .map_err(runtime)
    });
    env.add_filter("load_json", |v: JValue| {
        serializers::load_json(&text_of(&v))
            .map(|x| to_jinja(&x))
            .map_err(runtime)
    });
    env.add_filter("load_text", |v: JValue| JValue::from(text_of(&v)));
    env.add_filter("base64_encode", |v: JValue| {
        base64::engine::general_purpose::STANDARD.encode(text_of(&v).as_bytes())
    });
    env.add_filter("base64_decode", |v: JValue| -> Result<JValue, JError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text_of(&v).trim().as_bytes())
            .map_err(|e| runtime(format!("Incorrect padding or invalid base64: {e}")))?;
        Ok(match String::from_utf8(bytes) {
            Ok(s) => JValue::from(s),
            Err(e) => JValue::from_bytes(e.into_bytes()),
        })
    });
    env.add_filter("unique", |v: JValue| -> Result<JValue, JError> {
        Ok(PyList::new_value(unique(iter_values(&v)?)))
    });
    env.add_filter("union", |a: JValue, b: JValue| -> Result<JValue, JError> {
        let mut all = iter_values(&a)?;
        all.extend(iter_values(&b)?);
        Ok(PyList::new_value(unique(all)))
    });
    env.add_filter(
        "intersect",
        |a: JValue, b: JValue| -> Result<JValue, JError> {
            let rhs = iter_values(&b)?;
            let kept = iter_values(&a)?
                .into_iter()
                .filter(|x| rhs.contains(x))
                .collect();
            Ok(PyList::new_value(unique(kept)))
        },
    );
    env.add_filter(
        "difference",
        |a: JValue, b: JValue| -> Result<JValue, JError> {
            let rhs = iter_values(&b)?;
            let kept = iter_values(&a)?
                .into_iter()
                .filter(|x| !rhs.contains(x))
                .collect();
            Ok(PyList::new_value(unique(kept)))
        },
    );
    env.add_filter(
        "symmetric_difference",
        |a: JValue, b: JValue| -> Result<JValue, JError> {
            let (l, r) = (iter_values(&a)?, iter_values(&b)?);
            let mut all = l.clone();
            all.extend(r.iter().cloned());
            let kept = unique(all)
                .into_iter()
                .filter(|x| !(l.contains(x) && r.contains(x)))
                .collect();
            Ok(PyList::new_value(kept))
        },
    );
    env.add_filter("is_list", |v: JValue| is_list(&v));
    env.add_test("list", |v: JValue| is_list(&v));
    env.add_filter("is_iter", |v: JValue| {
        matches!(
            v.kind(),
            ValueKind::Seq | ValueKind::Map | ValueKind::Iterable
        )
    });
    env.add_filter("to_bool", |v: JValue| to_bool(&v));
    env.add_filter("sorted_ignorecase", |v: JValue| -> Result<JValue, JError> {
        let mut items = iter_values(&v)?;
        items.sort_by_key(|x| text_of(x).to_lowercase());
        Ok(PyList::new_value(items))
    });
    env.add_filter("regex_match", |t: JValue, rgx: String, kw: Kwargs| {
        regex_groups(&t, &rgx, &kw, true)
    });
    env.add_filter("regex_search", |t: JValue, rgx: String, kw: Kwargs| {
        regex_groups(&t, &rgx, &kw, false)
    });
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_escape", |v: JValue| regex::escape(&text_of(&v)));
    env.add_test(
        "match",
        |t: JValue, rgx: String, kw: Kwargs| -> Result<bool, JError> {
            let re = build_regex(&format!("^(?:{rgx})"), &kw)?;
            Ok(re.is_match(&text_of(&t)))
        },
    );
    env.add_test("equalto", |a: JValue, b: JValue| a == b);
    env.add_filter("quote", |v: JValue| shell_quote(&text_of(&v)));
    env.add_filter("to_num", |v: JValue| to_num(&v));
    env.add_filter("str_to_num", |v: JValue| to_num(&v));
    env.add_filter("avg", |v: JValue| -> Result<JValue, JError> {
        let items = iter_values(&v)?;
        if items.is_empty() {
            return Err(runtime("division by zero"));
        }
        let sum: f64 = items
            .iter()
            .filter_map(|x| f64::try_from(x.clone()).ok())
            .sum();
        Ok(JValue::from(sum / items.len() as f64))
    });
    env.add_filter("skip", |_v: JValue| "");
    env.add_filter("sequence", |v: JValue| {
        if is_list(&v) {
            v
        } else {
            PyList::new_value(vec![v])
        }
    });
    env.add_filter(
        "flatten",
        |v: JValue, kw: Kwargs| -> Result<JValue, JError> {
            let levels: Option<i64> = kw.get("levels")?;
            let keep_nulls: Option<bool> = kw.get("preserve_nulls")?;
            let mut out = Vec::new();
            flatten(
                &iter_values(&v)?,
                levels,
                keep_nulls.unwrap_or(false),
                &mut out,
            )?;
            Ok(PyList::new_value(out))
        },
    );
    env.add_filter("traverse", |v: JValue, key: String, rest: Rest<JValue>| {
        let dflt = rest.first().map(from_jinja).unwrap_or(Value::Null);
        let delim = rest.get(1).map(text_of).unwrap_or_else(|| ":".into());
        let data = from_jinja(&v);
        to_jinja(data.traverse(&key, &delim).unwrap_or(&dflt))
    });
    env.add_filter("path_join", |parts: Rest<JValue>| {
        let mut out = String::new();
        for p in parts.iter().map(text_of) {
            if p.starts_with('/') || out.is_empty() {
                out = p;
            } else {
                if !out.ends_with('/') {
                    out.push('/');
                }
                out.push_str(&p);
            }
        }
        out
    });
    env.add_filter("join", join);
    env.add_filter("string", |v: JValue| text_of(&v));
    env.add_filter("contains_whitespace", |v: JValue| {
        text_of(&v).chars().any(char::is_whitespace)
    });
    env.add_filter("is_hex", |v: JValue| {
        let s = text_of(&v);
        let s = s.strip_prefix("0x").unwrap_or(&s);
        !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit())
    });
    env.add_filter("to_snake_case", |v: JValue| to_snake_case(&text_of(&v)));
}

fn str_result(r: Result<String, String>) -> Result<JValue, JError> {
    r.map(JValue::from).map_err(runtime)
}

fn is_list(v: &JValue) -> bool {
    v.kind() == ValueKind::Seq && v.downcast_object_ref::<Tuple>().is_none()
}

fn unique(items: Vec<JValue>) -> Vec<JValue> {
    let mut out: Vec<JValue> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn to_bool(v: &JValue) -> bool {
    match v.kind() {
        ValueKind::None | ValueKind::Undefined => false,
        ValueKind::Bool => v.is_true(),
        ValueKind::String => matches!(
            v.as_str().unwrap_or_default().to_lowercase().as_str(),
            "yes" | "1" | "true"
        ),
        ValueKind::Number if v.is_integer() => v.as_i64().is_some_and(|i| i > 0),
        ValueKind::Seq | ValueKind::Map => v.len().is_some_and(|n| n > 0),
        _ => v.is_true(),
    }
}

fn to_num(v: &JValue) -> JValue {
    if v.kind() != ValueKind::String {
        return v.clone();
    }
    let s = v.as_str().unwrap_or_default();
    let t = s.trim();
    if let Ok(i) = t.replace('_', "").parse::<i64>() {
        return JValue::from(i);
    }
    if let Ok(f) = t.parse::<f64>() {
        return JValue::from(f);
    }
    v.clone()
}

fn json_opts(
    kw: &Kwargs,
    sort_default: bool,
    indent: Option<usize>,
) -> Result<JsonOptions, JError> {
    let sort: Option<bool> = kw.get("sort_keys")?;
    let ascii: Option<bool> = kw.get("ensure_ascii")?;
    let ind: Option<usize> = kw.get("indent")?;
    Ok(JsonOptions {
        sort_keys: sort.unwrap_or(sort_default),
        indent: ind.or(indent),
        ensure_ascii: ascii.unwrap_or(true),
    })
}

/// Salt's `tojson`: `json.dumps` with `ensure_ascii=True`, keys in order, then `<`, `>`,
/// `&` and `'` escaped as `\u003c` ...
fn tojson(v: JValue, indent: Option<usize>, kw: Kwargs) -> Result<JValue, JError> {
    let opts = json_opts(&kw, false, indent)?;
    kw.assert_all_used()?;
    let text = serializers::json_dumps(&from_jinja(&v), opts)
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\'', "\\u0027");
    Ok(JValue::from_safe_string(text))
}

/// Salt's `json` (SerializerExtension): `json.dumps(sort_keys=True)`.
fn json(v: JValue, rest: Rest<JValue>, kw: Kwargs) -> Result<JValue, JError> {
    let mut opts = json_opts(&kw, true, None)?;
    if let Some(sort) = rest.first() {
        opts.sort_keys = sort.is_true();
    }
    if let Some(ind) = rest.get(1).and_then(JValue::as_usize) {
        opts.indent = Some(ind);
    }
    kw.assert_all_used()?;
    Ok(JValue::from_safe_string(
        serializers::json_dumps(&from_jinja(&v), opts)
            .trim()
            .to_string(),
    ))
}

fn yaml(v: JValue, flow: Option<bool>, kw: Kwargs) -> Result<JValue, JError> {
    let flow = match kw.get::<Option<bool>>("flow_style")? {
        Some(f) => f,
        None => flow.unwrap_or(true),
    };
    kw.assert_all_used()?;
    serializers::yaml_filter(&from_jinja(&v), flow)
        .map(JValue::from_safe_string)
        .map_err(runtime)
}

fn build_regex(rgx: &str, kw: &Kwargs) -> Result<regex::Regex, JError> {
    let ignorecase: Option<bool> = kw.get("ignorecase")?;
    let multiline: Option<bool> = kw.get("multiline")?;
    RegexBuilder::new(rgx)
        .case_insensitive(ignorecase.unwrap_or(false))
        .multi_line(multiline.unwrap_or(false))
        .build()
        .map_err(|e| runtime(format!("invalid regular expression: {e}")))
}

/// `regex_match` / `regex_search`: the groups as a tuple, or None.
fn regex_groups(t: &JValue, rgx: &str, kw: &Kwargs, anchored: bool) -> Result<JValue, JError> {
    let pattern = if anchored {
        format!("^(?:{rgx})")
    } else {
        rgx.to_string()
    };
    let re = build_regex(&pattern, kw)?;
    let text = text_of(t);
    Ok(match re.captures(&text) {
        None => JValue::from(()),
        Some(c) => JValue::from(Tuple::from(
            c.iter()
                .skip(1)
                .map(|g| g.map_or(JValue::from(()), |m| JValue::from(m.as_str())))
                .collect::<Vec<_>>(),
        )),
    })
}

/// Python's `re.sub` replacement syntax (`\1`, `\g<name>`) in the `regex` crate's (`${1}`).
fn python_replacement(val: &str) -> String {
    let mut out = String::with_capacity(val.len());
    let chars: Vec<char> = val.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '$' {
            out.push_str("$$");
        } else if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            if n.is_ascii_digit() {
                let mut j = i + 1;
                let mut num = String::new();
                while j < chars.len() && chars[j].is_ascii_digit() && num.len() < 2 {
                    num.push(chars[j]);
                    j += 1;
                }
                out.push_str(&format!("${{{num}}}"));
                i = j;
                continue;
            } else if n == 'g' && chars.get(i + 2) == Some(&'<') {
                if let Some(end) = chars[i + 3..].iter().position(|&x| x == '>') {
                    let name: String = chars[i + 3..i + 3 + end].iter().collect();
                    out.push_str(&format!("${{{name}}}"));
                    i += 4 + end;
                    continue;
                }
            } else {
                let esc = match n {
                    'n' => Some('\n'),
                    't' => Some('\t'),
                    'r' => Some('\r'),
                    '\\' => Some('\\'),
                    _ => None,
                };
                if let Some(e) = esc {
                    out.push(e);
                    i += 2;
                    continue;
                }
            }
            out.push(c);
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

fn regex_replace(t: JValue, rgx: String, val: String, kw: Kwargs) -> Result<String, JError> {
    let re = build_regex(&rgx, &kw)?;
    Ok(re
        .replace_all(&text_of(&t), python_replacement(&val).as_str())
        .into_owned())
}

/// Python's `shlex.quote`.
fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

fn flatten(
    items: &[JValue],
    levels: Option<i64>,
    keep_nulls: bool,
    out: &mut Vec<JValue>,
) -> Result<(), JError> {
    for item in items {
        if item.is_none() && !keep_nulls {
            continue;
        }
        if is_list(item) && levels.is_none_or(|l| l > 0) {
            flatten(&iter_values(item)?, levels.map(|l| l - 1), keep_nulls, out)?;
        } else {
            out.push(item.clone());
        }
    }
    Ok(())
}

/// Jinja2's `join`: `str()` of every item (Python's repr for nested data).
fn join(v: JValue, sep: Option<String>, kw: Kwargs) -> Result<String, JError> {
    let attribute: Option<String> = kw.get("attribute")?;
    kw.assert_all_used()?;
    let sep = sep.unwrap_or_default();
    if let Some(s) = v.as_str() {
        return Ok(s.chars().map(String::from).collect::<Vec<_>>().join(&sep));
    }
    let items = iter_values(&v)?;
    let parts: Vec<String> = items
        .iter()
        .map(|item| match &attribute {
            Some(a) => text_of(&item.get_attr(a).unwrap_or_default()),
            None => text_of(item),
        })
        .collect();
    Ok(parts.join(&sep))
}

fn to_snake_case(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_replacement_syntax() {
        assert_eq!(python_replacement(r"\1-\g<x>$"), "${1}-${x}$$");
    }

    #[test]
    fn shlex_quote() {
        assert_eq!(shell_quote("abc"), "abc");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\"'\"'s'");
    }

    #[test]
    fn to_num_and_to_bool() {
        assert_eq!(to_num(&JValue::from("42")), JValue::from(42));
        assert_eq!(to_num(&JValue::from("1.5")), JValue::from(1.5));
        assert_eq!(to_num(&JValue::from("x")), JValue::from("x"));
        assert!(to_bool(&JValue::from("Yes")));
        assert!(!to_bool(&JValue::from(0)));
    }
}
