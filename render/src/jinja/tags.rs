//! Salt's custom Jinja tags (`SerializerExtension`), rewritten into plain Jinja before
//! compiling, without changing line numbers:
//!
//! - `{% import_yaml EXPR as NAME %}` (also `import_json`, `import_text`): the file is
//!   rendered as a template (as Jinja2's `import` does) and its output loaded:
//!   `{% set NAME %}{% include EXPR %}{% endset %}{% set NAME = NAME | load_yaml %}`.
//! - `{% load_yaml as NAME %}...{% endload %}` (also `load_json`, `load_text`):
//!   `{% set NAME %}...{% endset %}{% set NAME = NAME | load_yaml %}`.
//!
//! Whitespace control markers of the original tags stay on the outer ends.

use regex::Regex;
use std::sync::OnceLock;

fn import_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?s)\{%([-+]?)\s*import_(yaml|json|text)\s+(.+?)\s+as\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s+(?:with|without)\s+context)?\s*([-+]?)%\}",
        )
        .unwrap_or_else(|e| panic!("static regex: {e}"))
    })
}

fn load_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?s)\{%([-+]?)\s*(?:load_(yaml|json|text)\s+as\s+([A-Za-z_][A-Za-z0-9_]*)|(endload))\s*([-+]?)%\}",
        )
        .unwrap_or_else(|e| panic!("static regex: {e}"))
    })
}

/// Does `source` use any of Salt's custom tags? (A cheap check before rewriting.)
fn has_custom_tags(source: &str) -> bool {
    source.contains("import_") || source.contains("load_") || source.contains("endload")
}

/// Rewrite Salt's custom tags into plain Jinja (see the module docs).
pub fn rewrite(source: &str) -> String {
    if !has_custom_tags(source) {
        return source.to_string();
    }
    let step1 = import_re().replace_all(source, |c: &regex::Captures| {
        format!(
            "{{%{l} set {name} %}}{{% include {expr} %}}{{% endset %}}{{% set {name} = {name} | load_{kind} {r}%}}",
            l = &c[1],
            kind = &c[2],
            expr = &c[3],
            name = &c[4],
            r = &c[5],
        )
    });
    let mut open: Vec<(String, String)> = Vec::new();
    load_re()
        .replace_all(&step1, |c: &regex::Captures| {
            let l = &c[1];
            let r = &c[5];
            if c.get(4).is_some() {
                match open.pop() {
                    Some((kind, name)) => {
                        format!("{{%{l} endset %}}{{% set {name} = {name} | load_{kind} {r}%}}")
                    }
                    // an endload without load: leave it for the parser to report
                    None => c[0].to_string(),
                }
            } else {
                let (kind, name) = (c[2].to_string(), c[3].to_string());
                let out = format!("{{%{l} set {name} {r}%}}");
                open.push((kind, name));
                out
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_tags_keep_lines_and_trim_markers() {
        let src = "{%- import_yaml tpldir ~ \"/d.yaml\" as defaults %}\nx";
        let out = rewrite(src);
        assert_eq!(
            out,
            "{%- set defaults %}{% include tpldir ~ \"/d.yaml\" %}{% endset %}{% set defaults = defaults | load_yaml %}\nx"
        );
    }

    #[test]
    fn load_blocks() {
        let src = "{% load_json as j -%}\n{\"a\": 1}\n{%- endload %}\nend";
        let out = rewrite(src);
        assert_eq!(
            out,
            "{% set j -%}\n{\"a\": 1}\n{%- endset %}{% set j = j | load_json %}\nend"
        );
        assert_eq!(out.lines().count(), src.lines().count());
    }

    #[test]
    fn plain_templates_are_untouched() {
        let src = "{% set x = 1 %}{{ x }}";
        assert_eq!(rewrite(src), src);
    }
}
