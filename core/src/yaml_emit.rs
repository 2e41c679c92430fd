//! A YAML emitter that writes, byte for byte, what Salt's YAML dumpers write: PyYAML's
//! `SafeRepresenter` (`sort_keys`, `default_flow_style`, quoting of strings that would resolve
//! to another type) feeding libyaml's emitter (Salt's `SafeOrderedDumper` is a `CSafeDumper`),
//! plus Salt's `yaml_dquote` / `yaml_squote` / `yaml_encode` Jinja filters.
//!
//! Also home of PyYAML's implicit resolver ([`resolver`]), shared with the YAML loader.

/// PyYAML 1.1's implicit resolver (`yaml.resolver.Resolver`), hand-written instead of regexes.
///
/// Shared by the loader (which tags plain scalars with it) and the emitter (which must quote
/// strings that would otherwise read back as another type).
pub mod resolver {
    /// The tag PyYAML's implicit resolver gives a plain scalar.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ImplicitTag {
        /// `tag:yaml.org,2002:null` (`~`, `null`, `Null`, `NULL`, empty).
        Null,
        /// `tag:yaml.org,2002:bool` (`yes`/`no`/`true`/`false`/`on`/`off` in three casings).
        Bool,
        /// `tag:yaml.org,2002:int` (binary, octal, decimal, hex, sexagesimal; `_` allowed).
        Int,
        /// `tag:yaml.org,2002:float` (needs a `.`; `.inf`, `.nan`, sexagesimal).
        Float,
        /// `tag:yaml.org,2002:merge` (`<<`).
        Merge,
        /// `tag:yaml.org,2002:timestamp` (`2001-12-14`, `2001-12-14 21:59:43.10 -5`).
        Timestamp,
        /// `tag:yaml.org,2002:value` (`=`).
        Value,
        /// `tag:yaml.org,2002:str`: nothing else matched.
        Str,
    }

    /// Resolve a plain scalar as PyYAML's `Resolver.resolve(ScalarNode, value, (True, False))`.
    pub fn resolve_plain(value: &str) -> ImplicitTag {
        let Some(&first) = value.as_bytes().first() else {
            return ImplicitTag::Null;
        };
        match first {
            b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' => {
                if is_bool(value) {
                    ImplicitTag::Bool
                } else if is_null(value) {
                    ImplicitTag::Null
                } else {
                    ImplicitTag::Str
                }
            }
            b'-' | b'+' | b'0'..=b'9' | b'.' => {
                if is_float(value) {
                    ImplicitTag::Float
                } else if first != b'.' && is_int(value) {
                    ImplicitTag::Int
                } else if first.is_ascii_digit() && is_timestamp(value) {
                    ImplicitTag::Timestamp
                } else {
                    ImplicitTag::Str
                }
            }
            b'~' if value == "~" => ImplicitTag::Null,
            b'<' if value == "<<" => ImplicitTag::Merge,
            b'=' if value == "=" => ImplicitTag::Value,
            _ => ImplicitTag::Str,
        }
    }

    /// Would this string be written plain and read back as a string?
    pub fn is_plain_str(value: &str) -> bool {
        resolve_plain(value) == ImplicitTag::Str
    }

    fn is_bool(v: &str) -> bool {
        matches!(
            v,
            "yes"
                | "Yes"
                | "YES"
                | "no"
                | "No"
                | "NO"
                | "true"
                | "True"
                | "TRUE"
                | "false"
                | "False"
                | "FALSE"
                | "on"
                | "On"
                | "ON"
                | "off"
                | "Off"
                | "OFF"
        )
    }

    fn is_null(v: &str) -> bool {
        matches!(v, "~" | "null" | "Null" | "NULL" | "")
    }

    fn strip_sign(v: &[u8]) -> &[u8] {
        match v.first() {
            Some(b'-' | b'+') => &v[1..],
            _ => v,
        }
    }

    fn all_nonempty(v: &[u8], ok: impl Fn(u8) -> bool) -> bool {
        !v.is_empty() && v.iter().all(|&c| ok(c))
    }

    fn is_digit_us(c: u8) -> bool {
        c.is_ascii_digit() || c == b'_'
    }

    /// `[0-9][0-9_]*` (or `[1-9][0-9_]*` when `nonzero_first`).
    fn is_digits_us(v: &[u8], nonzero_first: bool) -> bool {
        match v.split_first() {
            Some((&f, rest)) => {
                f.is_ascii_digit()
                    && !(nonzero_first && f == b'0')
                    && rest.iter().all(|&c| is_digit_us(c))
            }
            None => false,
        }
    }

    /// `(?::[0-5]?[0-9])+` applied to the text after the first part.
    fn is_sexagesimal_tail(v: &[u8]) -> bool {
        if v.first() != Some(&b':') {
            return false;
        }
        v[1..].split(|&c| c == b':').all(|seg| match seg {
            [d] => d.is_ascii_digit(),
            [a, b] => (b'0'..=b'5').contains(a) && b.is_ascii_digit(),
            _ => false,
        })
    }

    /// `[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+` (with `[0-9]` first when `any_first`), sign stripped.
    fn is_sexagesimal(v: &[u8], any_first: bool) -> bool {
        let Some(colon) = v.iter().position(|&c| c == b':') else {
            return false;
        };
        is_digits_us(&v[..colon], !any_first) && is_sexagesimal_tail(&v[colon..])
    }

    fn is_int(value: &str) -> bool {
        let v = strip_sign(value.as_bytes());
        if let Some(rest) = v.strip_prefix(b"0b") {
            return all_nonempty(rest, |c| c == b'0' || c == b'1' || c == b'_');
        }
        if let Some(rest) = v.strip_prefix(b"0x") {
            return all_nonempty(rest, |c| c.is_ascii_hexdigit() || c == b'_');
        }
        if v == b"0" {
            return true;
        }
        if let Some(rest) = v.strip_prefix(b"0") {
            return all_nonempty(rest, |c| (b'0'..=b'7').contains(&c) || c == b'_');
        }
        is_digits_us(v, true) || is_sexagesimal(v, false)
    }

    /// `(?:[eE][-+][0-9]+)?` at the end.
    fn is_opt_exponent(v: &[u8]) -> bool {
        match v {
            [] => true,
            [b'e' | b'E', b'-' | b'+', digits @ ..] => all_nonempty(digits, |c| c.is_ascii_digit()),
            _ => false,
        }
    }

    fn is_float(value: &str) -> bool {
        let raw = value.as_bytes();
        if matches!(raw, b".nan" | b".NaN" | b".NAN") {
            return true;
        }
        let v = strip_sign(raw);
        if matches!(v, b".inf" | b".Inf" | b".INF") {
            return true;
        }
        // `\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?` takes no sign.
        if raw.first() == Some(&b'.') {
            let rest = &raw[1..];
            let end = rest
                .iter()
                .position(|&c| !is_digit_us(c))
                .unwrap_or(rest.len());
            return is_digits_us(&rest[..end], false) && is_opt_exponent(&rest[end..]);
        }
        let Some(dot) = v.iter().position(|&c| c == b'.') else {
            return false;
        };
        let (int_part, frac_exp) = (&v[..dot], &v[dot + 1..]);
        let end = frac_exp
            .iter()
            .position(|&c| !is_digit_us(c))
            .unwrap_or(frac_exp.len());
        if is_digits_us(int_part, false) {
            return is_opt_exponent(&frac_exp[end..]);
        }
        // `[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*`
        end == frac_exp.len() && is_sexagesimal(int_part, true)
    }

    fn take_digits(v: &[u8], min: usize, max: usize) -> Option<(&[u8], &[u8])> {
        let n = v
            .iter()
            .take(max)
            .take_while(|c| c.is_ascii_digit())
            .count();
        (n >= min).then(|| v.split_at(n))
    }

    fn is_timestamp(value: &str) -> bool {
        let v = value.as_bytes();
        let date = || -> Option<&[u8]> {
            let (_, r) = take_digits(v, 4, 4)?;
            let r = r.strip_prefix(b"-")?;
            let (_, r) = take_digits(r, 1, 2)?;
            let r = r.strip_prefix(b"-")?;
            let (_, r) = take_digits(r, 1, 2)?;
            Some(r)
        };
        if v.len() == 10 && v[4] == b'-' && v[7] == b'-' {
            let digits = v
                .iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
            if digits {
                return true;
            }
        }
        let check = || -> Option<()> {
            let r = date()?;
            let r = match r.first()? {
                b'T' | b't' => &r[1..],
                b' ' | b'\t' => {
                    let n = r.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
                    &r[n..]
                }
                _ => return None,
            };
            let (_, r) = take_digits(r, 1, 2)?;
            let r = r.strip_prefix(b":")?;
            let (_, r) = take_digits(r, 2, 2)?;
            let r = r.strip_prefix(b":")?;
            let (_, mut r) = take_digits(r, 2, 2)?;
            if let Some(frac) = r.strip_prefix(b".") {
                let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
                r = &frac[n..];
            }
            let n = r.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
            let tz = &r[n..];
            if tz.is_empty() {
                return (n == 0).then_some(());
            }
            if tz == b"Z" {
                return Some(());
            }
            let tz = match tz.first()? {
                b'-' | b'+' => &tz[1..],
                _ => return None,
            };
            let (_, r) = take_digits(tz, 1, 2)?;
            if r.is_empty() {
                return Some(());
            }
            let r = r.strip_prefix(b":")?;
            let (_, r) = take_digits(r, 2, 2)?;
            r.is_empty().then_some(())
        };
        check().is_some()
    }
}

use crate::value::{py_float_repr, Value};
use resolver::is_plain_str;
use std::borrow::Cow;

/// The line break the emitter writes (PyYAML's `line_break`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineBreak {
    /// `\n` (the default).
    #[default]
    Lf,
    /// `\r`.
    Cr,
    /// `\r\n`.
    CrLf,
}

impl LineBreak {
    fn as_str(self) -> &'static str {
        match self {
            LineBreak::Lf => "\n",
            LineBreak::Cr => "\r",
            LineBreak::CrLf => "\r\n",
        }
    }
}

/// Options of `yaml.dump` that Salt uses.
///
/// `Default` is `yaml.safe_dump`'s defaults (`default_flow_style=False`, `sort_keys=True`,
/// `allow_unicode=False`); [`DumpOptions::salt`] is `salt.utils.yaml.safe_dump`'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpOptions {
    /// `Some(false)`: block collections; `Some(true)`: flow collections; `None`: flow only
    /// for collections whose items are all scalars.
    pub default_flow_style: Option<bool>,
    /// Sort mapping keys (when they are mutually comparable, as Python's `sorted`).
    pub sort_keys: bool,
    /// Indentation step; values outside 2..=9 mean 2, as in libyaml.
    pub indent: usize,
    /// Preferred line width; at most `2 * indent` means 80, as in libyaml.
    pub width: usize,
    /// Write non-ASCII characters as they are instead of `\u` escapes.
    pub allow_unicode: bool,
    /// Start the document with `---`.
    pub explicit_start: bool,
    /// End the document with `...`.
    pub explicit_end: bool,
    /// The line break to write.
    pub line_break: LineBreak,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions {
            default_flow_style: Some(false),
            sort_keys: true,
            indent: 2,
            width: 80,
            allow_unicode: false,
            explicit_start: false,
            explicit_end: false,
            line_break: LineBreak::Lf,
        }
    }
}

impl DumpOptions {
    /// `salt.utils.yaml.safe_dump`'s defaults: `allow_unicode=True`, `default_flow_style=None`.
    pub fn salt() -> Self {
        DumpOptions {
            default_flow_style: None,
            allow_unicode: true,
            ..DumpOptions::default()
        }
    }

    /// Salt's `--out=yaml` (`salt/output/yaml_out.py`): Salt's `safe_dump` in block style.
    pub fn salt_outputter() -> Self {
        DumpOptions {
            default_flow_style: Some(false),
            ..DumpOptions::salt()
        }
    }
}

/// Dump one document as PyYAML's `yaml.dump(value, Dumper=SafeDumper-with-libyaml, **opts)`
/// writes it (Salt's dumpers are `CSafeDumper` subclasses: SafeRepresenter + libyaml's emitter).
pub fn dump(value: &Value, opts: &DumpOptions) -> String {
    let node = represent(value, opts);
    let mut e = Emitter::new(opts);
    e.emit_document(&node, opts);
    e.out
}

/// Salt's `yaml_dquote` filter: PyYAML's pure emitter `write_double_quoted` (no folding,
/// non-ASCII escaped), quotes included.
pub fn yaml_dquote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        let printable = ('\x20'..='\x7e').contains(&ch) && ch != '"' && ch != '\\';
        if printable {
            out.push(ch);
            continue;
        }
        match ch {
            '\0' => out.push_str("\\0"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0b' => out.push_str("\\v"),
            '\x0c' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\x1b' => out.push_str("\\e"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02X}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Salt's `yaml_squote` filter: PyYAML's pure emitter `write_single_quoted` (no folding),
/// quotes included. `'` doubles; a run of line breaks is written with one extra break.
pub fn yaml_squote(text: &str) -> String {
    let is_break = |c: char| matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}');
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        if is_break(ch) {
            let start = i;
            while i < chars.len() && is_break(chars[i]) {
                i += 1;
            }
            if chars[start] == '\n' {
                out.push('\n');
            }
            out.extend(&chars[start..i]);
            continue;
        }
        if ch == '\'' {
            out.push_str("''");
        } else {
            out.push(ch);
        }
        i += 1;
    }
    out.push('\'');
    out
}

/// Salt's `yaml_encode` filter: a scalar as PyYAML's SafeRepresenter writes it, strings
/// through [`yaml_dquote`]. Lists and mappings are refused, with Salt's message.
pub fn yaml_encode(value: &Value) -> Result<String, String> {
    match value {
        Value::Str(s) => Ok(yaml_dquote(s)),
        Value::List(_) | Value::Map(_) => Err(format!(
            "yaml_encode() only works with YAML scalar data; failed for <class '{}'>",
            value.type_name()
        )),
        other => match represent_scalar(other) {
            Some(s) => Ok(s.value.into_owned()),
            None => Err("yaml_encode(): unsupported value".into()),
        },
    }
}

/// PyYAML's `represent_float`.
pub fn represent_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    let repr = py_float_repr(f).to_lowercase();
    if !repr.contains('.') && repr.contains('e') {
        repr.replacen('e', ".0e", 1)
    } else {
        repr
    }
}

/// Python's `base64.encodebytes`: lines of 76 characters, each ending in `\n`.
fn base64_encodebytes(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut flat = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                flat.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                flat.push('=');
            }
        }
    }
    let mut out = String::with_capacity(flat.len() + flat.len() / 76 + 1);
    for line in flat.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out
}

/// A represented scalar: its text and what the serializer tells the emitter about it.
struct ScalarNode<'a> {
    value: Cow<'a, str>,
    /// The tag as written when neither implicit flag holds (`!!binary`).
    tag: Option<&'static str>,
    plain_implicit: bool,
    quoted_implicit: bool,
    /// Requested style: `Some('|')` for binary, else the emitter chooses.
    literal: bool,
}

/// A represented node.
enum Node<'a> {
    Scalar(ScalarNode<'a>),
    Seq {
        flow: bool,
        items: Vec<Node<'a>>,
    },
    Map {
        flow: bool,
        pairs: Vec<(Node<'a>, Node<'a>)>,
    },
}

impl Node<'_> {
    /// PyYAML's `best_style` test: a scalar with no requested style.
    fn is_plain_scalar_node(&self) -> bool {
        matches!(self, Node::Scalar(s) if !s.literal)
    }
}

fn implicit_scalar(value: String) -> ScalarNode<'static> {
    ScalarNode {
        value: Cow::Owned(value),
        tag: None,
        plain_implicit: true,
        quoted_implicit: false,
        literal: false,
    }
}

fn represent_scalar(value: &Value) -> Option<ScalarNode<'_>> {
    Some(match value {
        Value::Null => implicit_scalar("null".into()),
        Value::Bool(b) => implicit_scalar(if *b { "true" } else { "false" }.into()),
        Value::Int(i) => implicit_scalar(i.to_string()),
        Value::Float(f) => implicit_scalar(represent_float(*f)),
        Value::Str(s) => ScalarNode {
            value: Cow::Borrowed(s),
            tag: None,
            plain_implicit: is_plain_str(s),
            quoted_implicit: true,
            literal: false,
        },
        Value::Bytes(b) => ScalarNode {
            value: Cow::Owned(base64_encodebytes(b)),
            tag: Some("!!binary"),
            plain_implicit: false,
            quoted_implicit: false,
            literal: true,
        },
        Value::List(_) | Value::Map(_) => return None,
    })
}

/// Python's `sorted(dict.items())` for the key types a `Value` can hold: `None` on a
/// `TypeError` (keys of different kinds), when PyYAML keeps the dict's order.
fn sorted_keys<'v>(pairs: &mut [(&'v Value, &'v Value)]) -> bool {
    let kind = |v: &Value| match v {
        Value::Bool(_) | Value::Int(_) | Value::Float(_) => 0,
        Value::Str(_) => 1,
        Value::Bytes(_) => 2,
        _ => 3,
    };
    let Some(first) = pairs.first().map(|(k, _)| kind(k)) else {
        return true;
    };
    if pairs.len() == 1 {
        return true;
    }
    if first == 3 || pairs.iter().any(|(k, _)| kind(k) != first) {
        return false;
    }
    let num = |v: &Value| match v {
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => 0.0,
    };
    pairs.sort_by(|(a, _), (b, _)| match (a, b) {
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (Value::Bytes(x), Value::Bytes(y)) => x.cmp(y),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        _ => num(a)
            .partial_cmp(&num(b))
            .unwrap_or(std::cmp::Ordering::Equal),
    });
    true
}

/// SafeRepresenter: values to nodes, with PyYAML's flow-style choice.
fn represent<'v>(value: &'v Value, opts: &DumpOptions) -> Node<'v> {
    match value {
        Value::List(items) => {
            let items: Vec<Node> = items.iter().map(|v| represent(v, opts)).collect();
            let best = items.iter().all(Node::is_plain_scalar_node);
            Node::Seq {
                flow: opts.default_flow_style.unwrap_or(best),
                items,
            }
        }
        Value::Map(map) => {
            let mut entries: Vec<(&Value, &Value)> = map.iter().collect();
            if opts.sort_keys && !sorted_keys(&mut entries) {
                entries = map.iter().collect();
            }
            let pairs: Vec<(Node, Node)> = entries
                .into_iter()
                .map(|(k, v)| (represent(k, opts), represent(v, opts)))
                .collect();
            let best = pairs
                .iter()
                .all(|(k, v)| k.is_plain_scalar_node() && v.is_plain_scalar_node());
            Node::Map {
                flow: opts.default_flow_style.unwrap_or(best),
                pairs,
            }
        }
        scalar => match represent_scalar(scalar) {
            Some(s) => Node::Scalar(s),
            None => Node::Scalar(implicit_scalar(String::new())),
        },
    }
}

/// libyaml's `IS_PRINTABLE` (on UTF-8: characters beyond the BMP are not printable).
fn is_printable(ch: char) -> bool {
    matches!(ch, '\n' | '\x20'..='\x7e' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        && ch != '\u{feff}'
}

fn is_break(ch: Option<char>) -> bool {
    matches!(ch, Some('\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}'))
}

fn is_space(ch: Option<char>) -> bool {
    ch == Some(' ')
}

fn is_blankz(ch: Option<char>) -> bool {
    matches!(ch, None | Some(' ' | '\t')) || is_break(ch)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// libyaml's `yaml_emitter_analyze_scalar` result.
struct Analysis {
    multiline: bool,
    flow_plain: bool,
    block_plain: bool,
    single_quoted: bool,
    block: bool,
}

fn analyze_scalar(value: &str, unicode: bool) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            flow_plain: false,
            block_plain: true,
            single_quoted: true,
            block: false,
        };
    }
    let mut block_indicators = false;
    let mut flow_indicators = false;
    let mut line_breaks = false;
    let mut special = false;
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    if value.starts_with("---") || value.starts_with("...") {
        block_indicators = true;
        flow_indicators = true;
    }
    let mut preceded_by_whitespace = true;
    let mut chars = value.chars().peekable();
    let mut first = true;
    while let Some(ch) = chars.next() {
        let next = chars.peek().copied();
        let followed_by_whitespace = is_blankz(next);
        if first {
            match ch {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                '?' | ':' => {
                    flow_indicators = true;
                    block_indicators |= followed_by_whitespace;
                }
                '-' if followed_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        } else {
            match ch {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_indicators = true,
                ':' => {
                    flow_indicators = true;
                    block_indicators |= followed_by_whitespace;
                }
                '#' if preceded_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        }
        if !is_printable(ch) || (!ch.is_ascii() && !unicode) {
            special = true;
        }
        if is_break(Some(ch)) {
            line_breaks = true;
        }
        if ch == ' ' {
            leading_space |= first;
            trailing_space |= next.is_none();
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(Some(ch)) {
            leading_break |= first;
            trailing_break |= next.is_none();
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blankz(Some(ch));
        first = false;
    }
    let mut a = Analysis {
        multiline: line_breaks,
        flow_plain: true,
        block_plain: true,
        single_quoted: true,
        block: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.flow_plain = false;
        a.block_plain = false;
        a.single_quoted = false;
    }
    if space_break || special {
        a.flow_plain = false;
        a.block_plain = false;
        a.single_quoted = false;
        a.block = false;
    }
    if line_breaks {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if flow_indicators {
        a.flow_plain = false;
    }
    if block_indicators {
        a.block_plain = false;
    }
    a
}

/// libyaml's emitter state, driven recursively over the node tree.
struct Emitter {
    out: String,
    best_indent: i64,
    best_width: i64,
    unicode: bool,
    line_break: &'static str,
    indent: i64,
    indents: Vec<i64>,
    flow_level: usize,
    mapping_context: bool,
    simple_key_context: bool,
    column: i64,
    whitespace: bool,
    indention: bool,
    open_ended: u8,
}

impl Emitter {
    fn new(opts: &DumpOptions) -> Self {
        let best_indent = if (2..10).contains(&opts.indent) {
            opts.indent as i64
        } else {
            2
        };
        let width = i64::try_from(opts.width).unwrap_or(i64::MAX);
        let best_width = if width <= best_indent * 2 { 80 } else { width };
        Emitter {
            out: String::new(),
            best_indent,
            best_width,
            unicode: opts.allow_unicode,
            line_break: opts.line_break.as_str(),
            indent: -1,
            indents: Vec::new(),
            flow_level: 0,
            mapping_context: false,
            simple_key_context: false,
            column: 0,
            whitespace: true,
            indention: true,
            open_ended: 0,
        }
    }

    fn emit_document(&mut self, node: &Node, opts: &DumpOptions) {
        if opts.explicit_start {
            self.write_indent();
            self.write_indicator("---", true, false, false);
        }
        self.open_ended = 0;
        self.emit_node(node, false, false);
        self.write_indent();
        if opts.explicit_end {
            self.write_indicator("...", true, false, false);
            self.open_ended = 0;
            self.write_indent();
        }
        if self.open_ended == 2 {
            self.write_indicator("...", true, false, false);
            self.write_indent();
        }
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { self.best_indent } else { 0 };
        } else if !indentless {
            self.indent += self.best_indent;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn emit_node(&mut self, node: &Node, mapping: bool, simple_key: bool) {
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
        match node {
            Node::Scalar(s) => self.emit_scalar(s),
            Node::Seq { flow, items } => {
                if self.flow_level > 0 || *flow || items.is_empty() {
                    self.emit_flow_sequence(items);
                } else {
                    self.emit_block_sequence(items);
                }
            }
            Node::Map { flow, pairs } => {
                if self.flow_level > 0 || *flow || pairs.is_empty() {
                    self.emit_flow_mapping(pairs);
                } else {
                    self.emit_block_mapping(pairs);
                }
            }
        }
    }

    fn emit_flow_sequence(&mut self, items: &[Node]) {
        self.write_indicator("[", true, true, false);
        self.increase_indent(true, false);
        self.flow_level += 1;
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.write_indicator(",", false, false, false);
            }
            if self.column > self.best_width {
                self.write_indent();
            }
            self.emit_node(item, false, false);
        }
        self.flow_level -= 1;
        self.pop_indent();
        self.write_indicator("]", false, false, false);
    }

    fn emit_flow_mapping(&mut self, pairs: &[(Node, Node)]) {
        self.write_indicator("{", true, true, false);
        self.increase_indent(true, false);
        self.flow_level += 1;
        for (i, (key, value)) in pairs.iter().enumerate() {
            if i > 0 {
                self.write_indicator(",", false, false, false);
            }
            if self.column > self.best_width {
                self.write_indent();
            }
            if self.check_simple_key(key) {
                self.emit_node(key, true, true);
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, false);
                self.emit_node(key, true, false);
                if self.column > self.best_width {
                    self.write_indent();
                }
                self.write_indicator(":", true, false, false);
            }
            self.emit_node(value, true, false);
        }
        self.flow_level -= 1;
        self.pop_indent();
        self.write_indicator("}", false, false, false);
    }

    fn emit_block_sequence(&mut self, items: &[Node]) {
        let indentless = self.mapping_context && !self.indention;
        self.increase_indent(false, indentless);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.emit_node(item, false, false);
        }
        self.pop_indent();
    }

    fn emit_block_mapping(&mut self, pairs: &[(Node, Node)]) {
        self.increase_indent(false, false);
        for (key, value) in pairs {
            self.write_indent();
            if self.check_simple_key(key) {
                self.emit_node(key, true, true);
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.emit_node(key, true, false);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.emit_node(value, true, false);
        }
        self.pop_indent();
    }

    fn check_simple_key(&self, node: &Node) -> bool {
        match node {
            Node::Scalar(s) => {
                if s.value.chars().any(|c| is_break(Some(c))) {
                    return false;
                }
                let tag_len = if s.plain_implicit || s.quoted_implicit {
                    0
                } else {
                    s.tag.map_or(0, str::len)
                };
                s.value.len() + tag_len <= 128
            }
            Node::Seq { items, .. } => items.is_empty(),
            Node::Map { pairs, .. } => pairs.is_empty(),
        }
    }

    fn select_style(&self, s: &ScalarNode, a: &Analysis) -> (Style, bool) {
        let has_tag = !s.plain_implicit && !s.quoted_implicit && s.tag.is_some();
        let mut style = if s.literal {
            Style::Literal
        } else {
            Style::Plain
        };
        if self.simple_key_context && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain {
            if (self.flow_level > 0 && !a.flow_plain) || (self.flow_level == 0 && !a.block_plain) {
                style = Style::Single;
            }
            if s.value.is_empty() && (self.flow_level > 0 || self.simple_key_context) {
                style = Style::Single;
            }
            if !has_tag && !s.plain_implicit {
                style = Style::Single;
            }
        }
        if style == Style::Single && !a.single_quoted {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block || self.flow_level > 0 || self.simple_key_context) {
            style = Style::Double;
        }
        (style, has_tag)
    }

    fn emit_scalar(&mut self, s: &ScalarNode) {
        let a = analyze_scalar(&s.value, self.unicode);
        let (style, has_tag) = self.select_style(s, &a);
        if has_tag {
            if let Some(tag) = s.tag {
                if !self.whitespace {
                    self.put(' ');
                }
                self.write_str(tag);
                self.whitespace = false;
                self.indention = false;
            }
        }
        self.increase_indent(true, false);
        let allow_breaks = !self.simple_key_context;
        match style {
            Style::Plain => self.write_plain(&s.value, allow_breaks),
            Style::Single => self.write_single_quoted(&s.value, allow_breaks),
            Style::Double => self.write_double_quoted(&s.value, allow_breaks),
            Style::Literal => self.write_literal(&s.value),
        }
        self.pop_indent();
    }

    // --- low-level writers (libyaml's PUT, WRITE, write_indent, write_indicator) ---

    fn put(&mut self, ch: char) {
        self.out.push(ch);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push_str(self.line_break);
        self.column = 0;
    }

    fn write_str(&mut self, s: &str) {
        self.out.push_str(s);
        self.column += s.chars().count() as i64;
    }

    fn write_break(&mut self, ch: char) {
        if ch == '\n' {
            self.put_break();
        } else {
            self.out.push(ch);
            self.column = 0;
        }
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        self.write_str(indicator);
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn write_plain(&mut self, value: &str, allow_breaks: bool) {
        let (mut spaces, mut breaks) = (false, false);
        if !self.whitespace && (!value.is_empty() || self.flow_level > 0) {
            self.put(' ');
        }
        let mut chars = value.chars().peekable();
        while let Some(ch) = chars.next() {
            let next = chars.peek().copied();
            if ch == ' ' {
                if allow_breaks && !spaces && self.column > self.best_width && !is_space(next) {
                    self.write_indent();
                } else {
                    self.put(ch);
                }
                spaces = true;
            } else if is_break(Some(ch)) {
                if !breaks && ch == '\n' {
                    self.put_break();
                }
                self.write_break(ch);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(ch);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single_quoted(&mut self, value: &str, allow_breaks: bool) {
        let (mut spaces, mut breaks) = (false, false);
        self.write_indicator("'", true, false, false);
        let mut chars = value.chars().peekable();
        let mut first = true;
        while let Some(ch) = chars.next() {
            let next = chars.peek().copied();
            if ch == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > self.best_width
                    && !first
                    && next.is_some()
                    && !is_space(next)
                {
                    self.write_indent();
                } else {
                    self.put(ch);
                }
                spaces = true;
            } else if is_break(Some(ch)) {
                if !breaks && ch == '\n' {
                    self.put_break();
                }
                self.write_break(ch);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if ch == '\'' {
                    self.put('\'');
                }
                self.put(ch);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
            first = false;
        }
        if breaks {
            self.write_indent();
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted(&mut self, value: &str, allow_breaks: bool) {
        let mut spaces = false;
        self.write_indicator("\"", true, false, false);
        let mut chars = value.chars().peekable();
        let mut first = true;
        while let Some(ch) = chars.next() {
            if !is_printable(ch)
                || (!self.unicode && !ch.is_ascii())
                || ch == '\u{feff}'
                || is_break(Some(ch))
                || ch == '"'
                || ch == '\\'
            {
                self.put('\\');
                match ch {
                    '\0' => self.put('0'),
                    '\x07' => self.put('a'),
                    '\x08' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\x0b' => self.put('v'),
                    '\x0c' => self.put('f'),
                    '\r' => self.put('r'),
                    '\x1b' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    c => {
                        let cp = c as u32;
                        let esc = if cp <= 0xff {
                            format!("x{cp:02X}")
                        } else if cp <= 0xffff {
                            format!("u{cp:04X}")
                        } else {
                            format!("U{cp:08X}")
                        };
                        self.write_str(&esc);
                    }
                }
                spaces = false;
            } else if ch == ' ' {
                let next = chars.peek().copied();
                if allow_breaks
                    && !spaces
                    && self.column > self.best_width
                    && !first
                    && next.is_some()
                {
                    self.write_indent();
                    if is_space(next) {
                        self.put('\\');
                    }
                } else {
                    self.put(ch);
                }
                spaces = true;
            } else {
                self.put(ch);
                spaces = false;
            }
            first = false;
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_block_scalar_hints(&mut self, value: &str) {
        let first = value.chars().next();
        if is_space(first) || is_break(first) {
            let hint = self.best_indent.to_string();
            self.write_indicator(&hint, false, false, false);
        }
        self.open_ended = 0;
        let mut rev = value.chars().rev();
        let last = rev.next();
        let before = rev.next();
        if value.is_empty() || !is_break(last) {
            self.write_indicator("-", false, false, false);
        } else if before.is_none() || is_break(before) {
            self.write_indicator("+", false, false, false);
            self.open_ended = 2;
        }
    }

    fn write_literal(&mut self, value: &str) {
        let mut breaks = true;
        self.write_indicator("|", true, false, false);
        self.write_block_scalar_hints(value);
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        for ch in value.chars() {
            if is_break(Some(ch)) {
                self.write_break(ch);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(ch);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Map;

    /// Decode the tagged JSON the differential generator writes (`["s", "x"]`, `["m", [[k, v]]]`).
    fn decode(j: &serde_json::Value) -> Value {
        let tag = j[0].as_str().unwrap_or("");
        let body = &j[1];
        match tag {
            "n" => Value::Null,
            "b" => Value::Bool(body.as_bool().unwrap_or(false)),
            "i" => Value::Int(body.as_i64().unwrap_or(0)),
            "f" => Value::Float(match body.as_str().unwrap_or("") {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                "nan" => f64::NAN,
                s => s.parse().unwrap_or(0.0),
            }),
            "s" => Value::Str(body.as_str().unwrap_or("").to_string()),
            "y" => Value::Bytes(
                body.as_array()
                    .map(|a| a.iter().map(|b| b.as_u64().unwrap_or(0) as u8).collect())
                    .unwrap_or_default(),
            ),
            "l" => Value::List(
                body.as_array()
                    .map(|a| a.iter().map(decode).collect())
                    .unwrap_or_default(),
            ),
            _ => {
                let mut m = Map::default();
                for pair in body.as_array().cloned().unwrap_or_default() {
                    m.insert(decode(&pair[0]), decode(&pair[1]));
                }
                Value::Map(m)
            }
        }
    }

    fn options(o: &serde_json::Value) -> DumpOptions {
        let mut opts = DumpOptions::salt();
        if let Some(f) = o.get("default_flow_style") {
            opts.default_flow_style = f.as_bool();
        }
        if let Some(v) = o.get("indent").and_then(|v| v.as_u64()) {
            opts.indent = v as usize;
        }
        if let Some(v) = o.get("width").and_then(|v| v.as_u64()) {
            opts.width = v as usize;
        }
        if let Some(v) = o.get("allow_unicode").and_then(|v| v.as_bool()) {
            opts.allow_unicode = v;
        }
        if let Some(v) = o.get("sort_keys").and_then(|v| v.as_bool()) {
            opts.sort_keys = v;
        }
        if let Some(v) = o.get("explicit_start").and_then(|v| v.as_bool()) {
            opts.explicit_start = v;
        }
        if let Some(v) = o.get("explicit_end").and_then(|v| v.as_bool()) {
            opts.explicit_end = v;
        }
        opts
    }

    /// Differential check against PyYAML: `HALITE_YAML_DUMP_CASES=/tmp/dump_cases.json cargo test
    /// -p halite-core yaml_dump_diff -- --ignored --nocapture` (cases from a generator script).
    #[test]
    #[ignore]
    fn yaml_dump_diff() {
        let Ok(path) = std::env::var("HALITE_YAML_DUMP_CASES") else {
            return;
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let cases: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let mut bad = 0;
        let all = cases.as_array().cloned().unwrap_or_default();
        for case in &all {
            let v = decode(&case["v"]);
            let got = dump(&v, &options(&case["o"]));
            let want = case["out"].as_str().unwrap_or("");
            if got != want {
                bad += 1;
                if bad <= 25 {
                    println!(
                        "VALUE {:?}\nOPTS {}\nWANT {:?}\nGOT  {:?}\n",
                        v.py_repr(),
                        case["o"],
                        want,
                        got
                    );
                }
            }
        }
        println!("{} cases, {} mismatches", all.len(), bad);
    }
    /// (value as tagged JSON, options as in `yaml.dump(**opts)` on top of Salt's `safe_dump`
    /// defaults, exact output of PyYAML 6.0.3 `CSafeDumper` as Salt 3008.5 runs it).
    const PYYAML_CASES: &[(&str, &str, &str)] = &[
    (
        r###"["m", [[["s", "s"], ["s", ""]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: ''\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: a\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "abc"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: abc\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a b"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: a b\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", " a"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: ' a'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a "]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'a '\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "yes"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'yes'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "no"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'no'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "on"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'on'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "off"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'off'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "y"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: y\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "n"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: n\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "true"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'true'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "False"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'False'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "null"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'null'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "~"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '~'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "Null"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'Null'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "0644"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '0644'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "0o755"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 0o755\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "1e3"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 1e3\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "1.5"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '1.5'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "3.10"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '3.10'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "1:20"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '1:20'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "0x1F"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '0x1F'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "1_000"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '1_000'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "2024-01-15"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '2024-01-15'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "2024-01-15 10:20:30"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '2024-01-15 10:20:30'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "-"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '-'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "- a"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '- a'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "-a"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: -a\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", ":"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: ':'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a:b"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: a:b\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a: b"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'a: b'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a #b"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'a #b'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a#b"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: a#b\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "#a"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '#a'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "@ROOT@/work"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '@ROOT@/work'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "'q'"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '''q'''\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "\"d\""]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '\"d\"'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "it's"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: it's\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a\nb"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'a\n\n  b'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a\n\nb"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'a\n\n\n  b'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "x\n"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'x\n\n  '\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "x\n\n"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'x\n\n\n  '\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "\nx"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '\n\n  x'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", " \nx"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: \" \\nx\"\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "x \ny"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: \"x \\ny\"\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "x\n y"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: \"x\\n y\"\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "tab\there"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: \"tab\\there\"\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "\u00e9"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: é\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "\u65e5\u672c\u8a9e"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 日本語\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "emoji \ud83d\ude00"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: \"emoji \\U0001F600\"\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "\u0001"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: \"\\x01\"\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "\u007f"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: \"\\x7F\"\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "\u0085"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: \"\\N\"\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "\u2028"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '\u{2028}  '\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "\ufeff"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: \"\\uFEFF\"\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "\u00a0"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s:  \n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a,b"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: a,b\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "[a]"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '[a]'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "{a}"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '{a}'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a[b]"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: a[b]\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a{b}"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: a{b}\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "*a"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '*a'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "&a"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '&a'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "!a"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '!a'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "|a"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '|a'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", ">a"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '>a'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "%a"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '%a'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "`a"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '`a'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "?a"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: ?a\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "? a"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '? a'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a?"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: a?\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "---"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '---'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "--- a"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '--- a'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "..."]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '...'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: word word word word word word word word word word word word word word word word\n  word word word word word word word word word word word word word word\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx yyyyyyyyyy"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n  yyyyyyyyyy\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab "]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab\n  ab ab ab ab ab ab ab ab ab ab ab ab ab ab '\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "line one\nline two\n"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'line one\n\n  line two\n\n  '\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "folded text\n"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'folded text\n\n  '\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "para1\n\npara2\n"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'para1\n\n\n  para2\n\n  '\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "  lead"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '  lead'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "trail  "]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'trail  '\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a  b"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: a  b\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "="]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '='\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "<<"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '<<'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", ".inf"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '.inf'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "-.inf"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '-.inf'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", ".nan"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '.nan'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", ".5"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '.5'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "+1"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '+1'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "-1"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '-1'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "0"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '0'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "00"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '00'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "08"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 08\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "0b101"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '0b101'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "1."]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '1.'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "1.e5"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 1.e5\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "1__"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '1__'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "\\"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: \\\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a\\b"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: a\\b\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "\r"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: \"\\r\"\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a\rb"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: \"a\\rb\"\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a\r\nb"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: \"a\\r\\nb\"\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "C:\\path"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: C:\\path\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "key: value\nother: 1\n"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'key: value\n\n  other: 1\n\n  '\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "http://x.y/z?a=1&b=2"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: http://x.y/z?a=1&b=2\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a,b,c"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: a,b,c\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "foo # bar"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 'foo # bar'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "#!/bin/sh\necho hi\n"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '#!/bin/sh\n\n  echo hi\n\n  '\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "{{ jinja }}"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '{{ jinja }}'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "{% x %}"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '{% x %}'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "- item\n- item2"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: '- item\n\n  - item2'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["n"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: null\n",
    ),
    (
        r###"["m", [[["s", "s"], ["b", true]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: true\n",
    ),
    (
        r###"["m", [[["s", "s"], ["b", false]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: false\n",
    ),
    (
        r###"["m", [[["s", "s"], ["i", 0]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 0\n",
    ),
    (
        r###"["m", [[["s", "s"], ["i", 1]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 1\n",
    ),
    (
        r###"["m", [[["s", "s"], ["i", -5]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: -5\n",
    ),
    (
        r###"["m", [[["s", "s"], ["i", 1000000000000]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 1000000000000\n",
    ),
    (
        r###"["m", [[["s", "s"], ["f", "1.5"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 1.5\n",
    ),
    (
        r###"["m", [[["s", "s"], ["f", "0.1"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 0.1\n",
    ),
    (
        r###"["m", [[["s", "s"], ["f", "1e+16"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 1.0e+16\n",
    ),
    (
        r###"["m", [[["s", "s"], ["f", "1e-05"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 1.0e-05\n",
    ),
    (
        r###"["m", [[["s", "s"], ["f", "-2.5e-07"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: -2.5e-07\n",
    ),
    (
        r###"["m", [[["s", "s"], ["f", "inf"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: .inf\n",
    ),
    (
        r###"["m", [[["s", "s"], ["f", "-inf"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: -.inf\n",
    ),
    (
        r###"["m", [[["s", "s"], ["f", "nan"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: .nan\n",
    ),
    (
        r###"["m", [[["s", "s"], ["f", "3.0"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 3.0\n",
    ),
    (
        r###"["m", [[["s", "s"], ["f", "123456789.123"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: 123456789.123\n",
    ),
    (
        r###"["m", [[["s", "s"], ["y", [104, 101, 108, 108, 111]]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: !!binary |\n  aGVsbG8=\n",
    ),
    (
        r###"["m", [[["s", "s"], ["y", []]]]]"###,
        r###"{"default_flow_style": false}"###,
        "s: !!binary \"\"\n",
    ),
    (
        r###"["m", [[["s", "1__"], ["f", "0.1"]], [["s", "C:\\path"], ["s", ""]], [["s", "a#b"], ["l", [["l", []]]]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'1__': 0.1\nC:\\path: ''\na#b:\n- []\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", [[["s", "'q'"], ["s", "para1\n\npara2\n"]], [["s", "null"], ["s", "1."]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'''q''': 'para1\n\n\n  para2\n\n  '\n'null': '1.'\n",
    ),
    (
        r###"["m", [[["s", "null"], ["i", 1]], [["s", "a #b"], ["s", "\u007f"]], [["s", "a:b"], ["s", "? a"]], [["s", "08"], ["s", "="]]]]"###,
        r###"{"default_flow_style": false}"###,
        "08: '='\n'a #b': \"\\x7F\"\na:b: '? a'\n'null': 1\n",
    ),
    (
        r###"["m", [[["s", "emoji \ud83d\ude00"], ["s", "1:20"]], [["s", ""], ["s", "folded text\n"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'': 'folded text\n\n  '\n\"emoji \\U0001F600\": '1:20'\n",
    ),
    (
        r###"["m", [[["s", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx yyyyyyyyyy"], ["m", []]]]]"###,
        r###"{"default_flow_style": false}"###,
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx yyyyyyyyyy: {}\n",
    ),
    (
        r###"["m", [[["s", "- item\n- item2"], ["s", "x\n"]], [["s", "\ufeff"], ["f", "0.1"]], [["s", "~"], ["s", "a\rb"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "? '- item\n\n  - item2'\n: 'x\n\n  '\n'~': \"a\\rb\"\n\"\\uFEFF\": 0.1\n",
    ),
    (
        r###"["m", [[["s", "tab\there"], ["l", []]], [["s", ">a"], ["s", "a "]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'>a': 'a '\n\"tab\\there\": []\n",
    ),
    (
        r###"["m", [[["s", "0o755"], ["l", [["s", "&a"], ["m", [[["s", "\r"], ["m", [[["s", "a{b}"], ["s", "a:b"]]]]], [["s", "---"], ["m", [[["s", "False"], ["s", "yes"]]]]], [["s", "00"], ["s", "..."]]]]]]]]]"###,
        r###"{"default_flow_style": false}"###,
        "0o755:\n- '&a'\n- ? \"\\r\"\n  : a{b}: a:b\n  '---':\n    'False': 'yes'\n  '00': '...'\n",
    ),
    (
        r###"["m", [[["s", "x\n y"], ["l", [["s", ".5"], ["m", [[["s", "\ufeff"], ["l", [["s", "a\\b"], ["f", "1e-05"]]]], [["i", 2], ["s", "\u0001"]]]]]]]]]"###,
        r###"{"default_flow_style": false}"###,
        "? \"x\\n y\"\n: - '.5'\n  - \"\\uFEFF\":\n    - a\\b\n    - 1.0e-05\n    2: \"\\x01\"\n",
    ),
    (
        r###"["m", [[["s", "*a"], ["l", [["s", "?a"], ["s", "\nx"], ["s", "a\\b"], ["s", "- item\n- item2"]]]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'*a':\n- ?a\n- '\n\n  x'\n- a\\b\n- '- item\n\n  - item2'\n",
    ),
    (
        r###"["m", [[["s", "[a]"], ["l", [["s", "|a"], ["s", "- a"], ["m", []]]]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'[a]':\n- '|a'\n- '- a'\n- {}\n",
    ),
    (
        r###"["m", [[["s", "tab\there"], ["s", "1.5"]], [["s", "key: value\nother: 1\n"], ["s", "a b"]], [["s", "no"], ["l", [["s", "?a"]]]], [["s", "\u2028"], ["s", "no"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "? 'key: value\n\n  other: 1\n\n  '\n: a b\n'no':\n- ?a\n\"tab\\there\": '1.5'\n? '\u{2028}  '\n: 'no'\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", [[["s", "..."], ["m", [[["s", "!a"], ["s", "key: value\nother: 1\n"]], [["s", "\u2028"], ["f", "0.1"]], [["s", "C:\\path"], ["s", "a\\b"]]]]], [["s", "n"], ["s", "\u0001"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'...':\n  '!a': 'key: value\n\n    other: 1\n\n    '\n  C:\\path: a\\b\n  ? '\u{2028}    '\n  : 0.1\nn: \"\\x01\"\n",
    ),
    (
        r###"["m", [[["s", "False"], ["i", 1000000000000]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'False': 1000000000000\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", [[["s", "a "], ["s", "0x1F"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'a ': '0x1F'\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", [[["s", "x \ny"], ["s", "@ROOT@/work"]], [["s", "a: b"], ["s", "? a"]], [["s", "a"], ["s", "a #b"]], [["s", "- a"], ["s", "\u65e5\u672c\u8a9e"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'- a': 日本語\na: 'a #b'\n'a: b': '? a'\n? \"x \\ny\"\n: '@ROOT@/work'\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", [[["s", "foo # bar"], ["s", "on"]], [["s", "0b101"], ["s", "-.inf"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'0b101': '-.inf'\n'foo # bar': 'on'\n",
    ),
    (
        r###"["m", [[["s", "off"], ["f", "nan"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'off': .nan\n",
    ),
    (
        r###"["m", [[["s", "-.inf"], ["s", "\nx"]], [["s", "  lead"], ["m", [[["s", "1.e5"], ["l", [["s", "folded text\n"]]]], [["s", ".nan"], ["m", []]]]]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'  lead':\n  '.nan': {}\n  1.e5:\n  - 'folded text\n\n    '\n'-.inf': '\n\n  x'\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", [[["s", ">a"], ["s", "\u65e5\u672c\u8a9e"]], [["s", "2024-01-15 10:20:30"], ["l", []]], [["s", "\"d\""], ["f", "123456789.123"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'\"d\"': 123456789.123\n'2024-01-15 10:20:30': []\n'>a': 日本語\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", [[["s", "\u00a0"], ["s", "  lead"]], [["s", "Null"], ["l", []]], [["s", "1."], ["s", "Null"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'1.': 'Null'\n'Null': []\n : '  lead'\n",
    ),
    (
        r###"["m", [[["s", "{% x %}"], ["s", "a #b"]], [["s", "tab\there"], ["l", [["s", "yes"], ["f", "1e-05"], ["l", [["l", [["s", "a  b"], ["s", "a{b}"], ["s", "-a"]]], ["s", ".5"]]]]]]]]"###,
        r###"{"default_flow_style": false}"###,
        "\"tab\\there\":\n- 'yes'\n- 1.0e-05\n- - - a  b\n    - a{b}\n    - -a\n  - '.5'\n'{% x %}': 'a #b'\n",
    ),
    (
        r###"["m", [[["s", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx yyyyyyyyyy"], ["s", "#a"]], [["s", "? a"], ["l", [["s", "Null"]]]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'? a':\n- 'Null'\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx yyyyyyyyyy: '#a'\n",
    ),
    (
        r###"["m", [[["s", "0"], ["s", "---"]], [["s", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx yyyyyyyyyy"], ["s", "x\n"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'0': '---'\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx yyyyyyyyyy: 'x\n\n  '\n",
    ),
    (
        r###"["m", [[["s", "it's"], ["l", [["s", "a\nb"]]]]]]"###,
        r###"{"default_flow_style": false}"###,
        "it's:\n- 'a\n\n  b'\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", [[["s", "a\nb"], ["s", "a#b"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "? 'a\n\n  b'\n: a#b\n",
    ),
    (
        r###"["m", [[["s", "-"], ["l", [["m", []], ["s", "\r"]]]], [["s", "1:20"], ["s", "\ufeff"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'-':\n- {}\n- \"\\r\"\n'1:20': \"\\uFEFF\"\n",
    ),
    (
        r###"["m", [[["s", "a  b"], ["m", [[["s", "\u00e9"], ["s", "~"]]]]], [["s", "C:\\path"], ["s", "1."]], [["s", ">a"], ["s", "0644"]], [["s", ".5"], ["s", "\u0085"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'.5': \"\\N\"\n'>a': '0644'\nC:\\path: '1.'\na  b:\n  é: '~'\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", [[["s", "n"], ["m", []]], [["s", "Null"], ["s", "="]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'Null': '='\nn: {}\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", [[["s", "1.5"], ["m", [[["s", "2024-01-15 10:20:30"], ["l", [["l", []], ["b", false]]]], [["s", "\ufeff"], ["y", [104, 101, 108, 108, 111]]]]]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'1.5':\n  '2024-01-15 10:20:30':\n  - []\n  - false\n  \"\\uFEFF\": !!binary |\n    aGVsbG8=\n",
    ),
    (
        r###"["m", [[["s", "\r"], ["s", "@ROOT@/work"]], [["s", "it's"], ["s", "\"d\""]], [["s", "1.e5"], ["s", "a{b}"]], [["s", "\\"], ["f", "0.1"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "? \"\\r\"\n: '@ROOT@/work'\n1.e5: a{b}\n\\: 0.1\nit's: '\"d\"'\n",
    ),
    (
        r###"["m", [[["s", "folded text\n"], ["m", []]]]]"###,
        r###"{"default_flow_style": false}"###,
        "? 'folded text\n\n  '\n: {}\n",
    ),
    (
        r###"["m", [[["b", true], ["l", []]], [["s", "{{ jinja }}"], ["s", "emoji \ud83d\ude00"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "true: []\n'{{ jinja }}': \"emoji \\U0001F600\"\n",
    ),
    (
        r###"["m", [[["s", ".5"], ["m", [[["s", "a\rb"], ["s", "00"]], [["s", "-a"], ["m", [[["s", "it's"], ["s", "-a"]]]]], [["s", "\nx"], ["l", [["l", [["n"], ["s", "- a"], ["s", "-.inf"]]]]]]]]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'.5':\n  ? '\n\n    x'\n  : - - null\n      - '- a'\n      - '-.inf'\n  -a:\n    it's: -a\n  ? \"a\\rb\"\n  : '00'\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", [[["s", "0644"], ["l", [["l", [["l", [["s", "\u0085"]]]]]]]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'0644':\n- - - \"\\N\"\n",
    ),
    (
        r###"["m", [[["s", "False"], ["s", "1e3"]], [["s", ".inf"], ["s", "[a]"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'.inf': '[a]'\n'False': 1e3\n",
    ),
    (
        r###"["m", [[["s", "a "], ["s", "{{ jinja }}"]], [["s", "- item\n- item2"], ["s", "a?"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "? '- item\n\n  - item2'\n: a?\n'a ': '{{ jinja }}'\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", [[["s", "tab\there"], ["i", 0]], [["s", "line one\nline two\n"], ["m", []]]]]"###,
        r###"{"default_flow_style": false}"###,
        "? 'line one\n\n  line two\n\n  '\n: {}\n\"tab\\there\": 0\n",
    ),
    (
        r###"["m", [[["s", "a{b}"], ["m", []]], [["s", "-.inf"], ["s", "a:b"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'-.inf': a:b\na{b}: {}\n",
    ),
    (
        r###"["m", [[["s", "'q'"], ["s", "1__"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'''q''': '1__'\n",
    ),
    (
        r###"["m", [[["s", "`a"], ["s", "tab\there"]], [["s", "-a"], ["s", "key: value\nother: 1\n"]], [["s", "*a"], ["l", []]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'*a': []\n-a: 'key: value\n\n  other: 1\n\n  '\n'`a': \"tab\\there\"\n",
    ),
    (
        r###"["m", [[["s", "[a]"], ["s", "False"]], [["s", "-a"], ["s", "="]]]]"###,
        r###"{"default_flow_style": false}"###,
        "-a: '='\n'[a]': 'False'\n",
    ),
    (
        r###"["m", [[["s", "\u2028"], ["s", "#a"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "? '\u{2028}  '\n: '#a'\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"default_flow_style": false}"###,
        "{}\n",
    ),
    (
        r###"["m", [[["s", "x\n y"], ["s", "x \ny"]], [["s", "---"], ["s", "a:b"]], [["s", "0o755"], ["s", "--- a"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "'---': a:b\n0o755: '--- a'\n? \"x\\n y\"\n: \"x \\ny\"\n",
    ),
    (
        r###"["m", [[["i", 1], ["s", "a"]], [["s", "b"], ["i", 2]]]]"###,
        r###"{"default_flow_style": false}"###,
        "1: a\nb: 2\n",
    ),
    (
        r###"["m", [[["n"], ["i", 1]]]]"###,
        r###"{"default_flow_style": false}"###,
        "null: 1\n",
    ),
    (
        r###"["m", [[["i", 2], ["s", "x"]], [["i", 1], ["s", "y"]]]]"###,
        r###"{"default_flow_style": false}"###,
        "1: y\n2: x\n",
    ),
    (
        r###"["m", [[["b", true], ["i", 1]], [["i", 2], ["i", 3]]]]"###,
        r###"{"default_flow_style": false}"###,
        "true: 1\n2: 3\n",
    ),
    (
        r###"["l", [["s", "08"]]]"###,
        r###"{"default_flow_style": false, "width": 20}"###,
        "- 08\n",
    ),
    (
        r###"["s", "- item\n- item2"]"###,
        r###"{"default_flow_style": false}"###,
        "'- item\n\n  - item2'\n",
    ),
    (
        r###"["s", "a\\b"]"###,
        r###"{"default_flow_style": true}"###,
        "a\\b\n",
    ),
    (
        r###"["m", [[["s", "s"], ["y", [104, 101, 108, 108, 111]]]]]"###,
        r###"{"default_flow_style": false, "width": 20}"###,
        "s: !!binary |\n  aGVsbG8=\n",
    ),
    (
        r###"["s", "folded text\n"]"###,
        r###"{"allow_unicode": false, "default_flow_style": false}"###,
        "'folded text\n\n  '\n",
    ),
    (
        r###"["m", [[["s", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx yyyyyyyyyy"], ["s", "#a"]], [["s", "? a"], ["l", [["s", "Null"]]]]]]"###,
        r###"{"default_flow_style": false, "width": 20}"###,
        "'? a':\n- 'Null'\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx yyyyyyyyyy: '#a'\n",
    ),
    (
        r###"["s", "x\n y"]"###,
        r###"{"default_flow_style": true}"###,
        "\"x\\n y\"\n",
    ),
    (
        r###"["l", [["l", [["s", "`a"]]], ["s", "  lead"], ["s", "&a"], ["l", [["s", "!a"]]]]]"###,
        r###"{"default_flow_style": false, "indent": 4}"###,
        "-   - '`a'\n- '  lead'\n- '&a'\n-   - '!a'\n",
    ),
    (
        r###"["s", "abc"]"###,
        r###"{"default_flow_style": false, "indent": 4}"###,
        "abc\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", ">a"]]]]"###,
        r###"{}"###,
        "{s: '>a'}\n",
    ),
    (
        r###"["b", true]"###,
        r###"{"default_flow_style": false}"###,
        "true\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "False"]]]]"###,
        r###"{"default_flow_style": false, "width": 20}"###,
        "s: 'False'\n",
    ),
    (
        r###"["s", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]"###,
        r###"{"default_flow_style": false, "width": 20}"###,
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
    ),
    (
        r###"["l", [["s", "- item\n- item2"]]]"###,
        r###"{"indent": 0, "default_flow_style": true}"###,
        "['- item\n\n    - item2']\n",
    ),
    (
        r###"["m", [[["s", "-.inf"], ["s", "\nx"]], [["s", "  lead"], ["m", [[["s", "1.e5"], ["l", [["s", "folded text\n"]]]], [["s", ".nan"], ["m", []]]]]]]]"###,
        r###"{"default_flow_style": false, "indent": 4}"###,
        "'  lead':\n    '.nan': {}\n    1.e5:\n    - 'folded text\n\n        '\n'-.inf': '\n\n    x'\n",
    ),
    (
        r###"["l", [["s", "-1"]]]"###,
        r###"{}"###,
        "['-1']\n",
    ),
    (
        r###"["l", [["s", "\u0085"]]]"###,
        r###"{"default_flow_style": false, "indent": 4}"###,
        "- \"\\N\"\n",
    ),
    (
        r###"["s", "foo # bar"]"###,
        r###"{"default_flow_style": true}"###,
        "'foo # bar'\n",
    ),
    (
        r###"["l", []]"###,
        r###"{"default_flow_style": false, "width": 20}"###,
        "[]\n",
    ),
    (
        r###"["l", [["l", [["m", [[["s", "{a}"], ["s", ".5"]], [["s", "a\\b"], ["s", "\u0001"]], [["s", "0o755"], ["s", "\u007f"]]]], ["f", "0.1"], ["s", "true"], ["m", []]]], ["l", [["s", "\u65e5\u672c\u8a9e"]]], ["l", [["l", []]]], ["i", 1000000000000]]]"###,
        r###"{"default_flow_style": true}"###,
        "[[{0o755: \"\\x7F\", a\\b: \"\\x01\", '{a}': '.5'}, 0.1, 'true', {}], [日本語], [[]], 1000000000000]\n",
    ),
    (
        r###"["l", [["m", [[["s", "? a"], ["m", [[["s", "a\nb"], ["l", [["s", "1__"], ["s", "\u2028"], ["s", "emoji \ud83d\ude00"]]]], [["s", "a:b"], ["s", "para1\n\npara2\n"]]]]], [["s", "0b101"], ["s", "key: value\nother: 1\n"]], [["s", "\nx"], ["s", "a\rb"]]]], ["s", "---"]]]"###,
        r###"{}"###,
        "- ? '\n\n    x'\n  : \"a\\rb\"\n  '0b101': 'key: value\n\n    other: 1\n\n    '\n  '? a':\n    ? 'a\n\n      b'\n    : ['1__', '\u{2028}        ', \"emoji \\U0001F600\"]\n    a:b: 'para1\n\n\n      para2\n\n      '\n- '---'\n",
    ),
    (
        r###"["s", "False"]"###,
        r###"{"default_flow_style": false, "width": 20}"###,
        "'False'\n",
    ),
    (
        r###"["s", "C:\\path"]"###,
        r###"{"default_flow_style": false, "indent": 4}"###,
        "C:\\path\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"explicit_start": true, "explicit_end": true, "default_flow_style": false}"###,
        "--- {}\n...\n",
    ),
    (
        r###"["l", [["s", "Null"]]]"###,
        r###"{"indent": 0, "default_flow_style": true}"###,
        "['Null']\n",
    ),
    (
        r###"["l", [["s", ".nan"]]]"###,
        r###"{"indent": 0, "default_flow_style": true}"###,
        "['.nan']\n",
    ),
    (
        r###"["l", [["s", "a b"]]]"###,
        r###"{"sort_keys": false}"###,
        "[a b]\n",
    ),
    (
        r###"["l", [["s", "0644"]]]"###,
        r###"{"indent": 0, "default_flow_style": true}"###,
        "['0644']\n",
    ),
    (
        r###"["f", "1e+16"]"###,
        r###"{"explicit_start": true, "explicit_end": true, "default_flow_style": false}"###,
        "--- 1.0e+16\n...\n",
    ),
    (
        r###"["s", "1.e5"]"###,
        r###"{"explicit_start": true, "explicit_end": true, "default_flow_style": false}"###,
        "--- 1.e5\n...\n",
    ),
    (
        r###"["s", "!a"]"###,
        r###"{"sort_keys": false}"###,
        "'!a'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "~"]]]]"###,
        r###"{"allow_unicode": false, "default_flow_style": false}"###,
        "s: '~'\n",
    ),
    (
        r###"["m", []]"###,
        r###"{"sort_keys": false}"###,
        "{}\n",
    ),
    (
        r###"["s", "---"]"###,
        r###"{"indent": 0, "default_flow_style": true}"###,
        "'---'\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "!a"]]]]"###,
        r###"{"allow_unicode": false, "default_flow_style": false}"###,
        "s: '!a'\n",
    ),
    (
        r###"["l", [["s", "1_000"]]]"###,
        r###"{"indent": 0, "default_flow_style": true}"###,
        "['1_000']\n",
    ),
    (
        r###"["i", 0]"###,
        r###"{"default_flow_style": false, "indent": 4}"###,
        "0\n",
    ),
    (
        r###"["l", [["s", "1.5"]]]"###,
        r###"{"sort_keys": false}"###,
        "['1.5']\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "x\n\n"]]]]"###,
        r###"{"explicit_start": true, "explicit_end": true, "default_flow_style": false}"###,
        "---\ns: 'x\n\n\n  '\n...\n",
    ),
    (
        r###"["s", "1e3"]"###,
        r###"{"default_flow_style": false}"###,
        "1e3\n",
    ),
    (
        r###"["l", [["l", [["s", "a,b,c"], ["m", [[["s", ":"], ["f", "1e+16"]], [["s", "\r"], ["f", "3.0"]]]]]]]]"###,
        r###"{"default_flow_style": false, "width": 20}"###,
        "- - a,b,c\n  - ? \"\\r\"\n    : 3.0\n    ':': 1.0e+16\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "a:b"]]]]"###,
        r###"{"explicit_start": true, "explicit_end": true, "default_flow_style": false}"###,
        "---\ns: a:b\n...\n",
    ),
    (
        r###"["l", [["f", "1e+16"]]]"###,
        r###"{}"###,
        "[1.0e+16]\n",
    ),
    (
        r###"["m", [[["s", "False"], ["i", 1000000000000]]]]"###,
        r###"{"indent": 0, "default_flow_style": true}"###,
        "{'False': 1000000000000}\n",
    ),
    (
        r###"["s", "long line long line long line long line long line long line long line long line long line long line long line long line \nmore more more more more more more more more more more more more more more more more more more more \n"]"###,
        r###"{"default_flow_style": false}"###,
        "\"long line long line long line long line long line long line long line long line long\n  line long line long line long line \\nmore more more more more more more more more\n  more more more more more more more more more more more \\n\"\n",
    ),
    (
        r###"["m", [[["s", "word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word"], ["i", 1000000000000]], [["s", "False"], ["s", "@ROOT@/work"]], [["s", "trail  "], ["s", "x\n"]]]]"###,
        r###"{"explicit_start": true, "explicit_end": true, "default_flow_style": false}"###,
        "---\n'False': '@ROOT@/work'\n'trail  ': 'x\n\n  '\n? word word word word word word word word word word word word word word word word\n  word word word word word word word word word word word word word word\n: 1000000000000\n...\n",
    ),
    (
        r###"["s", "0b101"]"###,
        r###"{"sort_keys": false}"###,
        "'0b101'\n",
    ),
    (
        r###"["s", "00"]"###,
        r###"{"allow_unicode": false, "default_flow_style": false}"###,
        "'00'\n",
    ),
    (
        r###"["m", [[["s", "\u2028"], ["s", "#a"]]]]"###,
        r###"{}"###,
        "{? '\u{2028}    ' : '#a'}\n",
    ),
    (
        r###"["y", [104, 101, 108, 108, 111]]"###,
        r###"{"default_flow_style": false, "width": 20}"###,
        "!!binary |\n  aGVsbG8=\n",
    ),
    (
        r###"["s", "a\rb"]"###,
        r###"{"default_flow_style": false, "indent": 4}"###,
        "\"a\\rb\"\n",
    ),
    (
        r###"["s", "1.e5"]"###,
        r###"{"default_flow_style": true}"###,
        "1.e5\n",
    ),
    (
        r###"["m", [[["i", 1], ["s", "a"]], [["s", "b"], ["i", 2]]]]"###,
        r###"{}"###,
        "{1: a, b: 2}\n",
    ),
    (
        r###"["s", "\u0085"]"###,
        r###"{"explicit_start": true, "explicit_end": true, "default_flow_style": false}"###,
        "--- \"\\N\"\n...\n",
    ),
    (
        r###"["m", [[["s", "- item\n- item2"], ["s", "x\n"]], [["s", "\ufeff"], ["f", "0.1"]], [["s", "~"], ["s", "a\rb"]]]]"###,
        r###"{"default_flow_style": false, "indent": 4}"###,
        "? '- item\n\n    - item2'\n: 'x\n\n    '\n'~': \"a\\rb\"\n\"\\uFEFF\": 0.1\n",
    ),
    (
        r###"["l", [["s", "a"]]]"###,
        r###"{"indent": 0, "default_flow_style": true}"###,
        "[a]\n",
    ),
    (
        r###"["s", "word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word"]"###,
        r###"{"allow_unicode": false, "default_flow_style": false}"###,
        "word word word word word word word word word word word word word word word word word\n  word word word word word word word word word word word word word\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "1.e5"]]]]"###,
        r###"{"explicit_start": true, "explicit_end": true, "default_flow_style": false}"###,
        "---\ns: 1.e5\n...\n",
    ),
    (
        r###"["m", [[["s", "s"], ["s", "@ROOT@/work"]]]]"###,
        r###"{"sort_keys": false}"###,
        "{s: '@ROOT@/work'}\n",
    ),
    (
        r###"["l", [["s", "a b"]]]"###,
        r###"{"allow_unicode": false, "default_flow_style": false}"###,
        "- a b\n",
    ),
    ];

    #[test]
    fn matches_pyyaml_outputs() {
        for (value, opts, want) in PYYAML_CASES {
            let v = decode(&serde_json::from_str(value).unwrap_or_default());
            let o = options(&serde_json::from_str(opts).unwrap_or_default());
            assert_eq!(dump(&v, &o), *want, "value {value} opts {opts}");
        }
    }

    fn s(x: &str) -> Value {
        Value::Str(x.to_string())
    }

    #[test]
    fn outputter_block_style_with_indentless_lists() {
        let mut inner = Map::default();
        inner.insert(s("name"), s("x"));
        let mut m = Map::default();
        m.insert(s("users"), Value::List(vec![Value::Map(inner)]));
        m.insert(s("empty"), Value::List(vec![]));
        m.insert(s("none"), Value::Null);
        let out = dump(&Value::Map(m), &DumpOptions::salt_outputter());
        assert_eq!(out, "empty: []\nnone: null\nusers:\n- name: x\n");
    }

    #[test]
    fn flow_style_none_only_for_scalar_collections() {
        let mut m = Map::default();
        m.insert(s("name"), s("web"));
        m.insert(
            s("ports"),
            Value::List(vec![Value::Int(80), Value::Int(443)]),
        );
        m.insert(s("tls"), Value::Bool(true));
        let out = dump(
            &Value::Map(m),
            &DumpOptions {
                sort_keys: false,
                ..DumpOptions::salt()
            },
        );
        assert_eq!(out, "name: web\nports: [80, 443]\ntls: true\n");
        let flow = DumpOptions {
            default_flow_style: Some(true),
            sort_keys: false,
            ..DumpOptions::salt()
        };
        let list = Value::List(vec![s("a"), Value::List(vec![Value::Int(1)])]);
        assert_eq!(dump(&list, &flow), "[a, [1]]\n");
    }

    #[test]
    fn floats_like_represent_float() {
        assert_eq!(represent_float(1e16), "1.0e+16");
        assert_eq!(represent_float(3.1), "3.1");
        assert_eq!(represent_float(f64::NEG_INFINITY), "-.inf");
        assert_eq!(represent_float(f64::NAN), ".nan");
        assert_eq!(represent_float(1e-5), "1.0e-05");
    }

    #[test]
    fn salt_quote_filters() {
        assert_eq!(yaml_dquote("it's \"x\"\n"), "\"it's \\\"x\\\"\\n\"");
        assert_eq!(yaml_dquote("é😀"), "\"\\xE9\\U0001F600\"");
        assert_eq!(yaml_squote("it's"), "'it''s'");
        assert_eq!(yaml_squote("a\n\nb\n"), "'a\n\n\nb\n\n'");
        assert_eq!(yaml_encode(&Value::Bool(true)).as_deref(), Ok("true"));
        assert_eq!(yaml_encode(&Value::Float(1e16)).as_deref(), Ok("1.0e+16"));
        assert_eq!(yaml_encode(&s("x")).as_deref(), Ok("\"x\""));
        assert_eq!(
            yaml_encode(&Value::Bytes(b"hi".to_vec())).as_deref(),
            Ok("aGk=\n")
        );
        assert!(yaml_encode(&Value::List(vec![])).is_err());
    }

    #[test]
    fn resolver_classifies_plain_scalars() {
        use resolver::{resolve_plain, ImplicitTag::*};
        let table = [
            ("", Null),
            ("~", Null),
            ("NULL", Null),
            ("nULL", Str),
            ("yes", Bool),
            ("Off", Bool),
            ("y", Str),
            ("0644", Int),
            ("0o755", Str),
            ("0x1F", Int),
            ("0b1_01", Int),
            ("1_000", Int),
            ("1:20", Int),
            ("1:60", Str),
            ("08", Str),
            ("0_", Int),
            ("+12", Int),
            ("1e3", Str),
            ("1.5", Float),
            ("1.", Float),
            ("1.e5", Str),
            ("1.5e+3", Float),
            (".5", Float),
            ("+.5", Str),
            ("-.inf", Float),
            ("-.nan", Str),
            ("1:20.5", Float),
            ("3.10", Float),
            ("2024-01-15", Timestamp),
            ("2002-1-1", Str),
            ("2001-12-14 21:59:43.10 -5", Timestamp),
            ("2001-12-14t21:59:43.10-05:00", Timestamp),
            ("2001-12-14 21:59:43.10 ", Str),
            ("<<", Merge),
            ("=", Value),
            ("a", Str),
        ];
        for (text, tag) in table {
            assert_eq!(resolve_plain(text), tag, "{text:?}");
        }
    }
}
