//! Python's `re.match` on top of the `regex` crate.
//!
//! `re.match` anchors at the start only; the pattern is wrapped in `\A(?:...)`. Python's `\Z`
//! (end of string) is spelled `\z` in the `regex` crate. Syntax the `regex` crate lacks
//! (look-around, back-references) is reported as an invalid pattern.

use regex::Regex;

/// Compile `pattern` to behave as `re.match(pattern, text)`.
pub fn compile_match(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!(r"\A(?:{})", translate(pattern)))
}

/// `bool(re.match(pattern, text))`; `Err` when the pattern does not compile.
pub fn re_match(pattern: &str, text: &str) -> Result<bool, regex::Error> {
    Ok(compile_match(pattern)?.is_match(text))
}

/// Rewrite the few spellings where Python's syntax and the `regex` crate's differ.
fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('Z') => out.push_str(r"\z"),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::re_match;

    #[test]
    fn anchored_at_start_only() {
        assert_eq!(re_match(r"web\d+", "web01.prod"), Ok(true));
        assert_eq!(re_match(r"prod", "web01.prod"), Ok(false));
        assert_eq!(re_match(r"^db\d+", "web01"), Ok(false));
        assert_eq!(re_match(r"a|web", "web"), Ok(true));
        assert_eq!(re_match(r"web\Z", "web"), Ok(true));
        assert_eq!(re_match(r"web\Z", "webx"), Ok(false));
        assert!(re_match(r"web(", "web").is_err());
    }
}
