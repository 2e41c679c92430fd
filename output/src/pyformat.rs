//! The subset of Python's `str.format` the highstate terse line needs. Salt builds that
//! line's format string with the state's warnings pasted in, so braces in a warning are
//! parsed as fields, exactly as Python would (and may make Python raise).
//!
//! Supported: literal `{{`/`}}`, automatic and numbered fields, `[key]` lookups on a
//! mapping argument, `!s`/`!r` conversions, and `[[fill]align][width][.precision][s]`
//! specs on text. Errors are reported as Python would raise them, as a
//! [`Failure`]: `KeyError`/`TypeError`/`AttributeError` as [`Failure::Fallback`],
//! anything else as [`Failure::Crash`].

use crate::highstate::Failure;
use halite_core::value::py_str_repr;
use halite_core::{Map, Value};

/// One positional argument of the format call.
#[derive(Clone, Copy)]
pub enum Arg<'a> {
    /// A `str`.
    Text(&'a str),
    /// A `dict` (the state return).
    Map(&'a Map),
}

enum Resolved<'a> {
    Text(&'a str),
    Value(&'a Value),
    Map(&'a Map),
}

fn value_error(msg: &str) -> Failure {
    Failure::Crash(format!("ValueError: {msg}"))
}

fn unsupported(what: &str) -> Failure {
    Failure::Crash(format!("unsupported format field: {what}"))
}

#[derive(PartialEq)]
enum Numbering {
    Unset,
    Auto,
    Manual,
}

/// `fmt.format(*args)`.
pub fn py_format(fmt: &str, args: &[Arg<'_>]) -> Result<String, Failure> {
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::with_capacity(fmt.len());
    let mut numbering = Numbering::Unset;
    let mut next_auto = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '}' if chars.get(i) == Some(&'}') => {
                i += 1;
                out.push('}');
            }
            '}' => return Err(value_error("Single '}' encountered in format string")),
            '{' if chars.get(i) == Some(&'{') => {
                i += 1;
                out.push('{');
            }
            '{' if i >= chars.len() => {
                return Err(value_error("Single '{' encountered in format string"))
            }
            '{' => {
                let field = parse_field(&chars, &mut i)?;
                let first_end = field.name.find(['.', '[']).unwrap_or(field.name.len());
                let first = &field.name[..first_end];
                let index = if first.is_empty() {
                    if numbering == Numbering::Manual {
                        return Err(value_error(
                            "cannot switch from manual field specification to automatic field numbering",
                        ));
                    }
                    numbering = Numbering::Auto;
                    next_auto += 1;
                    next_auto - 1
                } else if first.bytes().all(|b| b.is_ascii_digit()) {
                    if numbering == Numbering::Auto {
                        return Err(value_error(
                            "cannot switch from automatic field numbering to manual field specification",
                        ));
                    }
                    numbering = Numbering::Manual;
                    first.parse::<usize>().map_err(|_| unsupported(first))?
                } else {
                    // A named field: `KeyError`, no keyword arguments are given.
                    return Err(Failure::Fallback);
                };
                let arg = args.get(index).copied().ok_or_else(|| {
                    Failure::Crash(format!(
                        "IndexError: Replacement index {index} out of range for positional args tuple"
                    ))
                })?;
                let resolved = resolve(arg, &field.name[first_end..])?;
                let text = match field.conversion {
                    None => format_object(resolved, &field.spec)?,
                    Some('s') => format_text(&to_str(resolved), &field.spec)?,
                    Some('r') => format_text(&to_repr(resolved), &field.spec)?,
                    Some(other) => {
                        return Err(value_error(&format!(
                            "Unknown conversion specifier {other}"
                        )))
                    }
                };
                out.push_str(&text);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

struct Field {
    name: String,
    conversion: Option<char>,
    spec: String,
}

/// Python's `parse_field`: the name ends at `}`, `:` or `!` (brackets skip to `]`).
fn parse_field(chars: &[char], i: &mut usize) -> Result<Field, Failure> {
    let eos = || value_error("expected '}' before end of string");
    let mut name = String::new();
    let terminator = loop {
        let Some(&c) = chars.get(*i) else {
            return Err(eos());
        };
        *i += 1;
        match c {
            '{' => return Err(value_error("unexpected '{' in field name")),
            '[' => {
                name.push('[');
                while let Some(&d) = chars.get(*i) {
                    if d == ']' {
                        break;
                    }
                    name.push(d);
                    *i += 1;
                }
            }
            '}' | ':' | '!' => break c,
            c => name.push(c),
        }
    };
    let mut conversion = None;
    let mut terminator = terminator;
    if terminator == '!' {
        let Some(&conv) = chars.get(*i) else {
            return Err(value_error(
                "end of string while looking for conversion specifier",
            ));
        };
        conversion = Some(conv);
        *i += 1;
        match chars.get(*i) {
            Some(&t @ (':' | '}')) => {
                *i += 1;
                terminator = t;
            }
            Some(_) => return Err(value_error("expected ':' after conversion specifier")),
            None => return Err(eos()),
        }
    }
    let mut spec = String::new();
    if terminator == ':' {
        let mut depth = 1;
        loop {
            let Some(&c) = chars.get(*i) else {
                return Err(eos());
            };
            *i += 1;
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            spec.push(c);
        }
        if spec.contains('{') {
            return Err(unsupported("nested field in a format spec"));
        }
    }
    Ok(Field {
        name,
        conversion,
        spec,
    })
}

/// Apply `.attr` / `[key]` accessors.
fn resolve<'a>(arg: Arg<'a>, mut rest: &str) -> Result<Resolved<'a>, Failure> {
    let mut cur = match arg {
        Arg::Text(t) => Resolved::Text(t),
        Arg::Map(m) => Resolved::Map(m),
    };
    while !rest.is_empty() {
        if rest.starts_with('.') {
            // Attribute access on str/dict data: `AttributeError` (or a method object).
            return Err(Failure::Fallback);
        }
        let Some(body) = rest.strip_prefix('[') else {
            return Err(value_error(
                "Only '.' or '[' may follow ']' in format field specifier",
            ));
        };
        let Some(close) = body.find(']') else {
            return Err(value_error("Missing ']' in format string"));
        };
        let key = &body[..close];
        rest = &body[close + 1..];
        let map = match cur {
            Resolved::Map(m) => m,
            Resolved::Value(Value::Map(m)) => m,
            _ => return Err(unsupported("indexing a non-mapping")),
        };
        let found = match key.parse::<i64>() {
            Ok(n) if key.bytes().all(|b| b.is_ascii_digit()) => map.get(&Value::Int(n)),
            _ => map.get(key),
        };
        cur = Resolved::Value(found.ok_or(Failure::Fallback)?);
    }
    Ok(cur)
}

fn to_str(r: Resolved<'_>) -> String {
    match r {
        Resolved::Text(t) => t.to_string(),
        Resolved::Value(v) => v.py_str(),
        Resolved::Map(m) => Value::Map(m.clone()).py_str(),
    }
}

fn to_repr(r: Resolved<'_>) -> String {
    match r {
        Resolved::Text(t) => py_str_repr(t),
        Resolved::Value(v) => v.py_repr(),
        Resolved::Map(m) => Value::Map(m.clone()).py_repr(),
    }
}

/// `format(obj, spec)` without a conversion.
fn format_object(r: Resolved<'_>, spec: &str) -> Result<String, Failure> {
    match r {
        Resolved::Text(t) => format_text(t, spec),
        Resolved::Value(Value::Str(s)) => format_text(s, spec),
        other if spec.is_empty() => Ok(to_str(other)),
        // `dict.__format__` / `list.__format__` / `NoneType.__format__` with a spec.
        Resolved::Map(_)
        | Resolved::Value(Value::Map(_) | Value::List(_) | Value::Null | Value::Bytes(_)) => {
            Err(Failure::Fallback)
        }
        Resolved::Value(_) => Err(unsupported("a format spec on a number")),
    }
}

/// `format(text, spec)` for `[[fill]align][width][.precision][s]`.
fn format_text(text: &str, spec: &str) -> Result<String, Failure> {
    if spec.is_empty() {
        return Ok(text.to_string());
    }
    let spec: Vec<char> = spec.chars().collect();
    let mut pos = 0;
    let mut fill = ' ';
    let mut align = '<';
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    if spec.len() >= 2 && is_align(spec[1]) {
        fill = spec[0];
        align = spec[1];
        pos = 2;
    } else if is_align(spec[0]) {
        align = spec[0];
        pos = 1;
    }
    if align == '=' {
        return Err(value_error(
            "'=' alignment not allowed in string format specifier",
        ));
    }
    let digits = |pos: &mut usize| {
        let start = *pos;
        while *pos < spec.len() && spec[*pos].is_ascii_digit() {
            *pos += 1;
        }
        spec[start..*pos]
            .iter()
            .collect::<String>()
            .parse::<usize>()
            .ok()
    };
    if spec.get(pos) == Some(&'0') {
        return Err(unsupported("zero padding"));
    }
    let width = digits(&mut pos).unwrap_or(0);
    let mut precision = None;
    if spec.get(pos) == Some(&'.') {
        pos += 1;
        precision = Some(
            digits(&mut pos).ok_or_else(|| value_error("Format specifier missing precision"))?,
        );
    }
    match &spec[pos..] {
        [] | ['s'] => {}
        _ => return Err(value_error("Invalid format specifier")),
    }
    let text: String = match precision {
        Some(p) => text.chars().take(p).collect(),
        None => text.to_string(),
    };
    let len = text.chars().count();
    if len >= width {
        return Ok(text);
    }
    let pad = width - len;
    let (left, right) = match align {
        '>' => (pad, 0),
        '^' => (pad / 2, pad - pad / 2),
        _ => (0, pad),
    };
    let mut out = String::with_capacity(text.len() + pad);
    out.extend(std::iter::repeat_n(fill, left));
    out.push_str(&text);
    out.extend(std::iter::repeat_n(fill, right));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use halite_core::map;

    #[test]
    fn template_fields() {
        let ret = map! {"duration" => 1.5f64};
        let args = [Arg::Text("A"), Arg::Text("nm"), Arg::Map(&ret)];
        let out = py_format("{0}|{1:>4}|{1:<4}|{2[duration]!s:>5}|{{x}}", &args);
        assert!(matches!(out, Ok(s) if s == "A|  nm|nm  |  1.5|{x}"));
    }

    #[test]
    fn python_errors() {
        let args = [Arg::Text("A")];
        assert!(matches!(py_format("{name}", &args), Err(Failure::Fallback)));
        assert!(matches!(py_format("a } b", &args), Err(Failure::Crash(_))));
        assert!(matches!(py_format("{ {0}", &args), Err(Failure::Crash(_))));
        assert!(matches!(py_format("{5}", &args), Err(Failure::Crash(_))));
        assert!(matches!(py_format("{}{0}", &args), Err(Failure::Crash(_))));
        // The field name runs to the first `]` after `[`, then `!s`: a key lookup.
        assert!(matches!(
            py_format("{\x1b[0;0m {0} x]!s}", &args),
            Err(Failure::Fallback)
        ));
    }
}
