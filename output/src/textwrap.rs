//! Python's `textwrap.TextWrapper(...).fill(text)` with its defaults (tabs expanded,
//! whitespace replaced by spaces, words broken after hyphens and when too long),
//! used for the highstate `Warnings:` block.

use crate::pytext::is_py_space;

/// `textwrap.TextWrapper(width, initial_indent, subsequent_indent).fill(text)`.
pub fn fill(text: &str, width: usize, initial_indent: &str, subsequent_indent: &str) -> String {
    let text = normalise_whitespace(text);
    let mut chunks = split_chunks(&text);
    chunks.reverse();
    let mut lines: Vec<String> = Vec::new();
    while !chunks.is_empty() {
        let indent = if lines.is_empty() {
            initial_indent
        } else {
            subsequent_indent
        };
        let line_width = width.saturating_sub(indent.chars().count());
        if !lines.is_empty() && chunks.last().is_some_and(|c| is_blank(c)) {
            chunks.pop();
        }
        let mut cur_line: Vec<String> = Vec::new();
        let mut cur_len = 0;
        while let Some(chunk) = chunks.last() {
            let len = chunk.chars().count();
            if cur_len + len <= line_width {
                cur_len += len;
                cur_line.extend(chunks.pop());
            } else {
                break;
            }
        }
        if chunks
            .last()
            .is_some_and(|c| c.chars().count() > line_width)
        {
            handle_long_word(&mut chunks, &mut cur_line, cur_len, line_width);
        }
        if cur_line.last().is_some_and(|c| is_blank(c)) {
            cur_line.pop();
        }
        if !cur_line.is_empty() {
            lines.push(format!("{indent}{}", cur_line.concat()));
        }
    }
    lines.join("\n")
}

fn is_blank(s: &str) -> bool {
    s.chars().all(is_py_space)
}

/// `expand_tabs()` (tab size 8) then every ASCII whitespace becomes a space.
fn normalise_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut column = 0;
    for c in text.chars() {
        match c {
            '\t' => {
                let pad = 8 - column % 8;
                out.extend(std::iter::repeat_n(' ', pad));
                column += pad;
            }
            '\n' | '\r' => {
                out.push(' ');
                column = 0;
            }
            '\u{0b}' | '\u{0c}' => {
                out.push(' ');
                column += 1;
            }
            c => {
                out.push(c);
                column += 1;
            }
        }
    }
    out
}

/// `[^\d\W]` in Python's `re`: letters and the underscore.
fn is_letter(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

/// `\w` in Python's `re`: letters, digits and the underscore.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// TextWrapper's `wordpunct`: `[\w!"'&.,?]`.
fn is_word_punct(c: char) -> bool {
    is_word(c) || matches!(c, '!' | '"' | '\'' | '&' | '.' | ',' | '?')
}

/// The length of an em-dash (`--` or longer, followed by a word character) at `pos`.
fn em_dash_len(chars: &[char], pos: usize) -> Option<usize> {
    let run = chars[pos..].iter().take_while(|&&c| c == '-').count();
    let followed = chars.get(pos + run).is_some_and(|&c| is_word(c));
    (run >= 2 && followed).then_some(run)
}

/// The chunks of TextWrapper's `wordsep_re`: whitespace runs, em-dashes between
/// words, and words, a word split after a hyphen that joins two letter runs
/// (`long-term` gives `long-`, `term`).
fn split_chunks(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut chunks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        if is_py_space(chars[i]) {
            while i < chars.len() && is_py_space(chars[i]) {
                i += 1;
            }
        } else if let Some(run) = (i > 0 && is_word_punct(chars[i - 1]))
            .then(|| em_dash_len(&chars, i))
            .flatten()
        {
            i += run;
        } else {
            // A word: at least one character, then end at the first break point.
            i += 1;
            while i < chars.len() && !is_py_space(chars[i]) {
                if chars[i] == '-' && hyphen_breaks(&chars, i) {
                    i += 1;
                    break;
                }
                if is_word_punct(chars[i - 1]) && em_dash_len(&chars, i).is_some() {
                    break;
                }
                i += 1;
            }
        }
        chunks.push(chars[start..i].iter().collect());
    }
    chunks
}

/// Whether TextWrapper may break after the hyphen at `pos`: two letters (or
/// letter-hyphen-letter) before it and a letter (after at most one hyphen) after it.
fn hyphen_breaks(chars: &[char], pos: usize) -> bool {
    let before_ok = (pos >= 2 && is_letter(chars[pos - 1]) && is_letter(chars[pos - 2]))
        || (pos >= 3
            && is_letter(chars[pos - 1])
            && chars[pos - 2] == '-'
            && is_letter(chars[pos - 3]));
    let next = chars.get(pos + 1).copied();
    let after_ok = match next {
        Some(c) if is_letter(c) => chars.get(pos + 2).is_some_and(|&d| {
            is_letter(d) || (d == '-' && chars.get(pos + 3).is_some_and(|&e| is_letter(e)))
        }),
        _ => false,
    };
    before_ok && after_ok
}

fn handle_long_word(
    chunks: &mut Vec<String>,
    cur_line: &mut Vec<String>,
    cur_len: usize,
    width: usize,
) {
    let space_left = if width < 1 {
        1
    } else {
        width.saturating_sub(cur_len).max(1)
    };
    let Some(chunk) = chunks.pop() else {
        return;
    };
    let chars: Vec<char> = chunk.chars().collect();
    let mut end = space_left;
    if chars.len() > space_left {
        if let Some(hyphen) = chars[..space_left].iter().rposition(|&c| c == '-') {
            if hyphen > 0 && chars[..hyphen].iter().any(|&c| c != '-') {
                end = hyphen + 1;
            }
        }
    }
    let end = end.min(chars.len());
    cur_line.push(chars[..end].iter().collect());
    let rest: String = chars[end..].iter().collect();
    if !rest.is_empty() {
        chunks.push(rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_width_with_indents() {
        let text =
            "one two three four five six seven eight nine ten eleven twelve thirteen fourteen";
        let out = fill(text, 40, "  ", "    ");
        assert_eq!(
            out,
            "  one two three four five six seven\n    eight nine ten eleven twelve\n    thirteen fourteen"
        );
    }

    #[test]
    fn newlines_become_spaces_and_long_words_break() {
        assert_eq!(fill("a\nb", 80, "", ""), "a b");
        assert_eq!(fill("abcdefghij", 4, "", ""), "abcd\nefgh\nij");
    }

    #[test]
    fn hyphenated_words_split() {
        assert_eq!(split_chunks("long-term x"), vec!["long-", "term", " ", "x"]);
        assert_eq!(split_chunks("a-b"), vec!["a-b"]);
        assert_eq!(split_chunks("ab--cd--"), vec!["ab", "--", "cd--"]);
    }
}
