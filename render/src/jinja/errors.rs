//! Render errors worded as Salt words them (salt/utils/templates.py `render_jinja_tmpl`,
//! `SaltRenderError`, `salt.utils.stringutils.get_context`).
//!
//! - undefined: `Jinja variable 'x' is undefined; line N\n\n---\n<excerpt>\n---`
//! - syntax (and Jinja2's runtime errors): `Jinja syntax error: <Jinja2's text>; line N...`
//! - failing execution function: `Problem running salt function in Jinja template: <msg>...`
//! - anything else (`raise()`, type errors): `Jinja error: <msg>\n<traceback>\n; line N...`
//!   with the traceback also appended to the excerpt's buffer, as Salt does.
//!
//! When the error lies in another template (an imported macro file), Salt names that
//! file's cached path and shows its excerpt instead, without `; line N`.

use minijinja::{Error as JError, ErrorKind};
use regex::Regex;
use std::sync::OnceLock;

use super::salt_object::SaltFault;

const MARKER: &str = "    <======================";

/// What the formatter needs to know about the template that was rendered.
pub struct ErrorSite<'a> {
    /// minijinja's name of the main template.
    pub main_key: &'a str,
    /// The main template's text as the caller gave it.
    pub main_source: &'a str,
    /// The path of a template named by a minijinja template name (for errors in imported
    /// files), e.g. `<cachedir>/files/base/lib/macros.jinja`.
    pub path_of: &'a dyn Fn(&str) -> String,
    /// The original text of another template, by minijinja name.
    pub source_of: &'a dyn Fn(&str) -> Option<String>,
}

/// Salt's `get_context`: up to 5 lines either side of `line`, `[...]` where cut, the
/// marker after the error line.
pub fn get_context(template: &str, line: usize) -> String {
    let lines: Vec<&str> = python_splitlines(template);
    let n = lines.len();
    if line > n {
        return template.to_string();
    }
    let start = line.saturating_sub(6);
    let end = n.min(line + 5);
    let mut err_idx = line as isize - start as isize - 1;
    let mut buf: Vec<String> = Vec::new();
    if start > 0 {
        buf.push("[...]".into());
        err_idx += 1;
    }
    buf.extend(lines[start..end].iter().map(|s| s.to_string()));
    if end < n {
        buf.push("[...]".into());
    }
    if let Some(l) = usize::try_from(err_idx).ok().and_then(|i| buf.get_mut(i)) {
        l.push_str(MARKER);
    }
    format!("---\n{}\n---", buf.join("\n"))
}

/// Python's `str.splitlines()` for the usual line ends.
fn python_splitlines(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        match rest.find(['\n', '\r']) {
            Some(i) => {
                out.push(&rest[..i]);
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
            }
            None => {
                out.push(rest);
                break;
            }
        }
    }
    out
}

fn find_fault(err: &JError) -> Option<&SaltFault> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(e) = cur {
        if let Some(f) = e.downcast_ref::<SaltFault>() {
            return Some(f);
        }
        cur = e.source();
    }
    None
}

enum Kind {
    Undefined,
    Syntax,
    Function,
    Generic,
}

/// The innermost block tag open at the end of `source` (for Jinja2's "Unexpected end of
/// template" message).
fn innermost_open_block(source: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"\{%[-+]?\s*([A-Za-z_]+)((?:[^%]|%[^}])*)%\}")
            .unwrap_or_else(|e| panic!("static regex: {e}"))
    });
    let mut stack: Vec<String> = Vec::new();
    for c in re.captures_iter(source) {
        let tag = &c[1];
        let rest = &c[2];
        match tag {
            "if" | "for" | "macro" | "call" | "filter" | "with" | "block" | "raw"
            | "autoescape" => stack.push(tag.to_string()),
            "set" if !rest.contains('=') => stack.push("set".into()),
            t if t.starts_with("end") => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.pop()
}

fn end_tags_for(block: &str) -> &'static str {
    match block {
        "if" => "'elif' or 'else' or 'endif'",
        "for" => "'endfor' or 'else'",
        "macro" => "'endmacro'",
        "call" => "'endcall'",
        "filter" => "'endfilter'",
        "with" => "'endwith'",
        "block" => "'endblock'",
        "set" => "'endset'",
        "autoescape" => "'endautoescape'",
        _ => "'endraw'",
    }
}

/// Jinja2's wording for minijinja's syntax error texts (the common ones).
fn jinja2_syntax_text(detail: &str, source: &str) -> String {
    if detail.starts_with("unexpected end of input") {
        if let Some(block) = innermost_open_block(source) {
            return format!(
                "Unexpected end of template. Jinja was looking for the following tags: {}. The innermost block that needs to be closed is '{}'.",
                end_tags_for(&block),
                block
            );
        }
        return "Unexpected end of template.".into();
    }
    if let Some(rest) = detail.strip_prefix("unknown statement ") {
        return format!("Encountered unknown tag '{}'.", rest.trim_matches('`'));
    }
    if let Some(rest) = detail.strip_prefix("unexpected ") {
        // minijinja: "unexpected `}`, expected `)`"
        let (what, expected) = match rest.split_once(", expected ") {
            Some((w, e)) => (w, Some(e)),
            None => (rest, None),
        };
        let what = jinja2_token_name(what.trim_matches('`'));
        return match expected {
            Some(e) if e.starts_with('`') => {
                format!("unexpected '{what}', expected '{}'", e.trim_matches('`'))
            }
            Some("expression") => format!("Expected an expression, got '{what}'"),
            _ => format!("unexpected '{what}'"),
        };
    }
    if let Some(name) = detail
        .strip_prefix("filter ")
        .and_then(|r| r.strip_suffix(" is unknown"))
    {
        return format!("No filter named '{}'.", name.trim_matches('`'));
    }
    if let Some(name) = detail
        .strip_prefix("test ")
        .and_then(|r| r.strip_suffix(" is unknown"))
    {
        return format!("No test named '{}'.", name.trim_matches('`'));
    }
    detail.to_string()
}

fn jinja2_token_name(tok: &str) -> String {
    match tok {
        "end of variable block" | "}}" => "end of print statement".into(),
        "end of block" | "%}" => "end of statement block".into(),
        other => other.to_string(),
    }
}

/// `'x' is undefined` / `'dict object' has no attribute 'b'` from minijinja's debug text
/// ("undefined value (`x.b` is undefined)").
fn undefined_text(err: &JError) -> String {
    let detail = err.detail().unwrap_or_default();
    let expr = detail
        .split('`')
        .nth(1)
        .filter(|_| detail.contains("` is undefined"));
    match expr {
        Some(e) if !e.contains(['.', '[']) => format!("'{e}' is undefined"),
        Some(e) => {
            let last = if e.ends_with(']') {
                e.rsplit('[')
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches(']')
                    .trim_matches(['"', '\''])
                    .to_string()
            } else {
                e.rsplit('.').next().unwrap_or_default().to_string()
            };
            format!("'dict object' has no attribute '{last}'")
        }
        None => "is undefined".into(),
    }
}

/// A stand-in Python traceback (Salt embeds the real one; the conformance normaliser
/// replaces any such block with `@TRACEBACK@`).
fn traceback(msg: &str, line: Option<usize>, src_line: &str) -> String {
    format!(
        "Traceback (most recent call last):\n  File \"/opt/halite/render/jinja.py\", line 1, in render_jinja_tmpl\n    output = template.render(**decoded_context)\n  File \"/opt/halite/render/environment.py\", line 1, in render\n    self.environment.handle_exception()\n  File \"<template>\", line {}, in top-level template code\n    {}\njinja2.exceptions.TemplateError: {}\n",
        line.unwrap_or(0),
        src_line.trim(),
        msg
    )
}

/// Salt's message for a failed render of `site.main_key` (without the
/// `Rendering SLS '...' failed: ` prefix the SLS caller adds).
pub fn salt_message(err: &JError, site: &ErrorSite<'_>) -> String {
    let fault = find_fault(err);
    let line = err.line();
    let in_main = err.name().is_none_or(|n| n == site.main_key);
    let err_source = if in_main {
        Some(site.main_source.to_string())
    } else {
        err.name().and_then(|n| (site.source_of)(n))
    };
    let src_for_syntax = err_source.clone().unwrap_or_default();
    let (kind, text) = match (fault, err.kind()) {
        (Some(SaltFault::FunctionFailed(m)), _) => (Kind::Function, m.clone()),
        (Some(SaltFault::Raise(m)), _) | (Some(SaltFault::Other(m)), _) => {
            (Kind::Generic, m.clone())
        }
        (None, ErrorKind::UndefinedError) => (Kind::Undefined, undefined_text(err)),
        (None, ErrorKind::SyntaxError) => (
            Kind::Syntax,
            jinja2_syntax_text(err.detail().unwrap_or_default(), &src_for_syntax),
        ),
        (None, ErrorKind::UnknownFilter) => (
            Kind::Syntax,
            format!(
                "No filter named '{}'.",
                unknown_name(err.detail().unwrap_or_default(), "filter")
            ),
        ),
        (None, ErrorKind::UnknownTest) => (
            Kind::Syntax,
            format!(
                "No test named '{}' found.",
                unknown_name(err.detail().unwrap_or_default(), "test")
            ),
        ),
        (None, ErrorKind::TemplateNotFound) => (
            Kind::Generic,
            err.detail()
                .unwrap_or_default()
                .split('"')
                .nth(1)
                .map(|n| n.rsplit('\u{1f}').next().unwrap_or(n).to_string())
                .unwrap_or_default(),
        ),
        (None, _) => {
            let d = err.detail().unwrap_or_default().to_string();
            if d.starts_with("Encountered error loading yaml")
                || d.starts_with("Unable to load json")
            {
                (Kind::Syntax, d)
            } else {
                (
                    Kind::Generic,
                    if d.is_empty() { err.to_string() } else { d },
                )
            }
        }
    };
    let head = match kind {
        Kind::Undefined => format!("Jinja variable {text}"),
        Kind::Syntax => format!("Jinja syntax error: {text}"),
        Kind::Function => format!("Problem running salt function in Jinja template: {text}"),
        Kind::Generic => format!("Jinja error: {text}"),
    };
    let src_line = match (line, &err_source) {
        (Some(l), Some(s)) => python_splitlines(s)
            .get(l.saturating_sub(1))
            .copied()
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    };
    let trace = matches!(kind, Kind::Generic).then(|| traceback(&text, line, &src_line));

    // an error inside another template: its path and excerpt, no line suffix
    if !in_main {
        let mut out = head;
        if let (Some(name), Some(l)) = (err.name(), line) {
            out.push_str(&format!("\n{}({}):\n", (site.path_of)(name), l));
            if let Some(src) = &err_source {
                out.push_str(&get_context(src, l));
            }
        }
        if let Some(t) = trace {
            out.push_str(&format!("\n{t}\n"));
        }
        return out;
    }
    let mut out = head;
    let mut buffer = site.main_source.to_string();
    if let Some(t) = &trace {
        out.push_str(&format!("\n{t}\n"));
        buffer.push('\n');
        buffer.push_str(t);
    }
    if let Some(l) = line.filter(|&l| l > 0) {
        if !buffer.is_empty() {
            out.push_str(&format!("; line {l}\n\n{}", get_context(&buffer, l)));
        }
    }
    out
}

/// The name in minijinja's "filter x is unknown" / "test x is unknown" detail (or in
/// backticks, as older texts put it).
fn unknown_name(detail: &str, what: &str) -> String {
    if let Some(quoted) = detail.split('`').nth(1) {
        return quoted.to_string();
    }
    detail
        .trim()
        .strip_prefix(what)
        .map(str::trim)
        .map(|rest| {
            rest.strip_suffix("is unknown")
                .unwrap_or(rest)
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_window_like_salt() {
        let src: String = (1..=12).map(|i| format!("l{i}\n")).collect();
        let ctx = get_context(&src, 11);
        assert_eq!(
            ctx,
            format!("---\n[...]\nl6\nl7\nl8\nl9\nl10\nl11{MARKER}\nl12\n---")
        );
        let ctx = get_context(&src, 1);
        assert_eq!(
            ctx,
            format!("---\nl1{MARKER}\nl2\nl3\nl4\nl5\nl6\n[...]\n---")
        );
    }

    #[test]
    fn unexpected_end_names_the_open_block() {
        let text = jinja2_syntax_text(
            "unexpected end of input, expected end of block",
            "{% if a %}{% for x in y %}{% endfor %}",
        );
        assert_eq!(text, "Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'.");
    }
}
