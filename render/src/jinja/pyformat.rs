//! Python's printf-style string formatting: `"%s-%d" % (a, b)`, `"%(name)s" % d`, `"%05.2f" % x`.

use minijinja::value::{Tuple, Value as JValue, ValueKind};

use super::convert::iter_values;
use super::pyrepr;

/// `fmt % args` as Python evaluates it. The error is Python's `TypeError`/`ValueError` text.
pub fn percent_format(fmt: &str, args: &JValue) -> Result<String, String> {
    let positional: Vec<JValue> = if args.downcast_object_ref::<Tuple>().is_some() {
        iter_values(args).map_err(|e| e.to_string())?
    } else {
        vec![args.clone()]
    };
    let is_mapping = args.kind() == ValueKind::Map;
    let mut next = 0usize;
    let mut used_mapping = false;
    let mut out = String::with_capacity(fmt.len() + 16);
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '%' {
            out.push(c);
            continue;
        }
        // %(key)
        let mut value: Option<JValue> = None;
        if chars.get(i) == Some(&'(') {
            let start = i + 1;
            let mut depth = 1;
            let mut j = start;
            while j < chars.len() && depth > 0 {
                match chars[j] {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            if depth > 0 {
                return Err("incomplete format key".into());
            }
            let key: String = chars[start..j - 1].iter().collect();
            if !is_mapping {
                return Err("format requires a mapping".into());
            }
            used_mapping = true;
            value = Some(
                args.get_item(&JValue::from(key.as_str()))
                    .ok()
                    .filter(|v| !v.is_undefined())
                    .ok_or_else(|| format!("'{key}'"))?,
            );
            i = j;
        }
        // flags
        let mut left = false;
        let mut zero = false;
        let mut plus = false;
        let mut space = false;
        let mut alt = false;
        while let Some(&f) = chars.get(i) {
            match f {
                '-' => left = true,
                '0' => zero = true,
                '+' => plus = true,
                ' ' => space = true,
                '#' => alt = true,
                _ => break,
            }
            i += 1;
        }
        let take_star = |next: &mut usize| -> Result<usize, String> {
            let v = positional
                .get(*next)
                .ok_or("not enough arguments for format string")?;
            *next += 1;
            v.as_i64()
                .map(|n| n.max(0) as usize)
                .ok_or_else(|| "* wants int".to_string())
        };
        let mut width = 0usize;
        if chars.get(i) == Some(&'*') {
            width = take_star(&mut next)?;
            i += 1;
        } else {
            while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                width = width * 10 + d as usize;
                i += 1;
            }
        }
        let mut precision: Option<usize> = None;
        if chars.get(i) == Some(&'.') {
            i += 1;
            if chars.get(i) == Some(&'*') {
                precision = Some(take_star(&mut next)?);
                i += 1;
            } else {
                let mut p = 0usize;
                while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                    p = p * 10 + d as usize;
                    i += 1;
                }
                precision = Some(p);
            }
        }
        // length modifiers are accepted and ignored, as in Python
        while matches!(chars.get(i), Some('h' | 'l' | 'L')) {
            i += 1;
        }
        let conv = *chars.get(i).ok_or("incomplete format")?;
        i += 1;
        if conv == '%' {
            out.push('%');
            continue;
        }
        let arg = match value {
            Some(v) => v,
            None => {
                if used_mapping || (is_mapping && positional.len() == 1 && next > 0) {
                    return Err("not enough arguments for format string".into());
                }
                let v = positional
                    .get(next)
                    .cloned()
                    .ok_or("not enough arguments for format string")?;
                next += 1;
                v
            }
        };
        let body = convert(conv, &arg, precision, alt, plus, space)?;
        let numeric = matches!(
            conv,
            'd' | 'i' | 'u' | 'f' | 'F' | 'e' | 'E' | 'g' | 'G' | 'x' | 'X' | 'o'
        );
        out.push_str(&pad(body, width, left, zero && numeric));
    }
    if !used_mapping && next < positional.len() && !is_mapping {
        return Err("not all arguments converted during string formatting".into());
    }
    Ok(out)
}

fn pad(body: String, width: usize, left: bool, zero: bool) -> String {
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let fill = width - len;
    if left {
        format!("{body}{}", " ".repeat(fill))
    } else if zero {
        let (sign, digits) = match body.strip_prefix(['-', '+', ' ']) {
            Some(rest) => (&body[..1], rest),
            None => ("", body.as_str()),
        };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

fn as_number(v: &JValue, conv: char) -> Result<(Option<i128>, f64), String> {
    match v.kind() {
        ValueKind::Number | ValueKind::Bool => {
            if v.is_integer() || v.kind() == ValueKind::Bool {
                let i = i128::try_from(v.clone()).map_err(|e| e.to_string())?;
                Ok((Some(i), i as f64))
            } else {
                Ok((None, f64::try_from(v.clone()).map_err(|e| e.to_string())?))
            }
        }
        _ => Err(format!(
            "%{conv} format: a real number is required, not {}",
            py_type(v)
        )),
    }
}

fn py_type(v: &JValue) -> &'static str {
    match v.kind() {
        ValueKind::None | ValueKind::Undefined => "NoneType",
        ValueKind::String => "str",
        ValueKind::Map => "dict",
        ValueKind::Seq => "list",
        ValueKind::Bool => "bool",
        _ => "object",
    }
}

fn sign_prefix(neg: bool, plus: bool, space: bool) -> &'static str {
    if neg {
        "-"
    } else if plus {
        "+"
    } else if space {
        " "
    } else {
        ""
    }
}

fn convert(
    conv: char,
    arg: &JValue,
    precision: Option<usize>,
    alt: bool,
    plus: bool,
    space: bool,
) -> Result<String, String> {
    Ok(match conv {
        's' | 'r' | 'a' => {
            let s = if conv == 's' {
                pyrepr::py_str(arg)
            } else {
                pyrepr::repr(arg)
            };
            match precision {
                Some(p) => s.chars().take(p).collect(),
                None => s,
            }
        }
        'd' | 'i' | 'u' => {
            let (i, f) = as_number(arg, conv)?;
            let i = i.unwrap_or(f.trunc() as i128);
            format!("{}{}", sign_prefix(i < 0, plus, space), i.unsigned_abs())
        }
        'x' | 'X' | 'o' => {
            let (i, _) = as_number(arg, conv)?;
            let i =
                i.ok_or_else(|| format!("%{conv} format: an integer is required, not float"))?;
            let digits = match conv {
                'x' => format!("{:x}", i.unsigned_abs()),
                'X' => format!("{:X}", i.unsigned_abs()),
                _ => format!("{:o}", i.unsigned_abs()),
            };
            let prefix = if alt {
                match conv {
                    'x' => "0x",
                    'X' => "0X",
                    _ => "0o",
                }
            } else {
                ""
            };
            format!("{}{prefix}{digits}", sign_prefix(i < 0, plus, space))
        }
        'f' | 'F' => {
            let (_, f) = as_number(arg, conv)?;
            let p = precision.unwrap_or(6);
            let s = format!("{:.*}", p, f.abs());
            format!(
                "{}{s}",
                sign_prefix(f.is_sign_negative() && f != 0.0, plus, space)
            )
        }
        'e' | 'E' => {
            let (_, f) = as_number(arg, conv)?;
            let s = exp_format(f.abs(), precision.unwrap_or(6));
            let s = if conv == 'E' { s.to_uppercase() } else { s };
            format!("{}{s}", sign_prefix(f < 0.0, plus, space))
        }
        'g' | 'G' => {
            let (_, f) = as_number(arg, conv)?;
            let p = precision.unwrap_or(6).max(1);
            let exp = if f == 0.0 {
                0
            } else {
                f.abs().log10().floor() as i32
            };
            let s = if exp < -4 || exp >= p as i32 {
                let s = exp_format(f.abs(), p - 1);
                strip_g(&s)
            } else {
                let decimals = (p as i32 - 1 - exp).max(0) as usize;
                let s = format!("{:.*}", decimals, f.abs());
                if s.contains('.') {
                    s.trim_end_matches('0').trim_end_matches('.').to_string()
                } else {
                    s
                }
            };
            let s = if conv == 'G' { s.to_uppercase() } else { s };
            format!("{}{s}", sign_prefix(f < 0.0, plus, space))
        }
        'c' => match arg.as_i64() {
            Some(i) => char::from_u32(u32::try_from(i).unwrap_or(0xFFFD))
                .unwrap_or('\u{FFFD}')
                .to_string(),
            None => pyrepr::py_str(arg).chars().take(1).collect(),
        },
        other => {
            return Err(format!(
                "unsupported format character '{other}' (0x{:x})",
                other as u32
            ))
        }
    })
}

fn strip_g(s: &str) -> String {
    match s.split_once('e') {
        Some((m, e)) if m.contains('.') => {
            format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.'))
        }
        _ => s.to_string(),
    }
}

/// `%e` with Python's two-digit exponent: `1.500000e+03`.
fn exp_format(f: f64, precision: usize) -> String {
    let s = format!("{:.*e}", precision, f);
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jinja::convert::to_jinja;
    use halite_core::{map, Value};

    fn tuple(items: Vec<JValue>) -> JValue {
        JValue::from(Tuple::from(items))
    }

    #[test]
    fn positional_and_single() {
        assert_eq!(percent_format("%s", &JValue::from("x")).as_deref(), Ok("x"));
        assert_eq!(
            percent_format("%s-%s", &tuple(vec![JValue::from("a"), JValue::from(2)])).as_deref(),
            Ok("a-2")
        );
        assert_eq!(
            percent_format(
                "%05d|%-4s|",
                &tuple(vec![JValue::from(42), JValue::from("ab")])
            )
            .as_deref(),
            Ok("00042|ab  |")
        );
        assert_eq!(
            percent_format("%.2f %%", &JValue::from(1.23456)).as_deref(),
            Ok("1.23 %")
        );
        let list = to_jinja(&Value::List(vec![1i64.into(), 2i64.into()]));
        assert_eq!(percent_format("%s", &list).as_deref(), Ok("[1, 2]"));
    }

    #[test]
    fn mapping_keys() {
        let d = to_jinja(&Value::Map(map! {"name" => "web", "port" => 80i64}));
        assert_eq!(
            percent_format("%(name)s:%(port)d", &d).as_deref(),
            Ok("web:80")
        );
    }

    #[test]
    fn python_errors() {
        assert_eq!(
            percent_format("%s %s", &JValue::from("a")).unwrap_err(),
            "not enough arguments for format string"
        );
        assert_eq!(
            percent_format("%s", &tuple(vec![JValue::from(1), JValue::from(2)])).unwrap_err(),
            "not all arguments converted during string formatting"
        );
        assert!(percent_format("%d", &JValue::from("x")).is_err());
    }
}
