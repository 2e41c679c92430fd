//! The compound matcher (`salt.matchers.compound_match`): engine-prefixed words joined by
//! `and`/`or`/`not` and parentheses, each word evaluated to `True`/`False`, the result read
//! as a Python expression.

use crate::fnmatch::fnmatch;
use crate::ipcidr::{ipcidr_match, IpcidrResult};
use crate::list::list_match;
use crate::nodegroup::nodegroup_comp;
use crate::pcre::re_match;
use crate::pyexpr::{eval_tokens, Token};
use crate::subdict::{subdict_match, MatchMode};
use crate::MinionData;
use halite_core::{Error, Value};
use std::collections::VecDeque;

/// A target word split as Salt's `TARGET_REX` splits it.
#[derive(Debug, PartialEq, Eq)]
pub struct TargetWord<'a> {
    /// The engine letter (`G`, `I`, `L`...), if the word has an `X@` prefix.
    pub engine: Option<char>,
    /// The delimiter given as `G:@...` style (G, P, I and J only).
    pub delimiter: Option<char>,
    /// What follows the prefix.
    pub pattern: &'a str,
}

const ENGINES: &str = "GPIJLNSERTM";
const DELIMITED_ENGINES: &str = "GPIJ";

/// `salt.utils.minions.parse_target(word)`.
pub fn parse_target(word: &str) -> TargetWord<'_> {
    let mut chars = word.char_indices();
    if let Some((_, engine)) = chars.next() {
        if ENGINES.contains(engine) {
            // With a delimiter first (the regex's optional group is greedy), then without.
            if DELIMITED_ENGINES.contains(engine) {
                let mut rest = word[engine.len_utf8()..].char_indices();
                if let (Some((_, delim)), Some((at_pos, '@'))) = (rest.next(), rest.next()) {
                    let start = engine.len_utf8() + at_pos + 1;
                    let pattern = &word[start..];
                    if valid_pattern(pattern) {
                        return TargetWord {
                            engine: Some(engine),
                            delimiter: Some(delim),
                            pattern,
                        };
                    }
                }
            }
            if let Some(pattern) = word[engine.len_utf8()..].strip_prefix('@') {
                if valid_pattern(pattern) {
                    return TargetWord {
                        engine: Some(engine),
                        delimiter: None,
                        pattern,
                    };
                }
            }
        }
    }
    TargetWord {
        engine: None,
        delimiter: None,
        pattern: word,
    }
}

/// `(?P<pattern>.+)$`: at least one character, no newline except one at the very end.
fn valid_pattern(p: &str) -> bool {
    let body = p.strip_suffix('\n').unwrap_or(p);
    !body.is_empty() && !body.contains('\n')
}

/// The pillar the pillar matchers read (`opts["pillar"]` when truthy, else `{}`).
fn pillar_of<'a>(minion: &MinionData<'a>) -> Option<&'a Value> {
    minion.pillar.is_truthy().then_some(minion.pillar)
}

/// Run the grain/pillar family of matchers: `False` when the delimiter is missing.
fn data_match(data: Option<&Value>, tgt: &str, delimiter: &str, mode: MatchMode) -> bool {
    if !tgt.contains(delimiter) {
        return false;
    }
    data.is_some_and(|d| subdict_match(d, tgt, delimiter, mode))
}

/// `compound_match.match(tgt)` for one minion.
pub fn compound_match(tgt: &Value, minion: &MinionData) -> Result<bool, Error> {
    let mut words: VecDeque<String> = match tgt {
        Value::Str(s) => s.split_whitespace().map(str::to_string).collect(),
        Value::List(items) => items.iter().map(Value::py_str).collect(),
        _ => {
            tracing::error!("Compound target received that is neither string, list nor tuple");
            return Ok(false);
        }
    };
    let mut results: Vec<Token> = Vec::new();
    while let Some(word) = words.pop_front() {
        if let Some(op) = Token::operator(&word) {
            match results.last() {
                Some(Token::Open) if matches!(op, Token::And | Token::Or) => {
                    tracing::error!("Invalid beginning operator after \"(\": {word}");
                    return Ok(false);
                }
                Some(last) => {
                    if op == Token::Not && !matches!(last, Token::And | Token::Or | Token::Open) {
                        results.push(Token::And);
                    }
                }
                None => {
                    if !matches!(op, Token::Open | Token::Not) {
                        tracing::error!("Invalid beginning operator: {word}");
                        return Ok(false);
                    }
                }
            }
            results.push(op);
            continue;
        }
        let target = parse_target(&word);
        let Some(engine) = target.engine else {
            results.push(Token::Atom(fnmatch(minion.id, &word)));
            continue;
        };
        let pattern = target.pattern;
        let mut delim_buf = [0u8; 4];
        let delimiter: &str = match target.delimiter {
            Some(d) => d.encode_utf8(&mut delim_buf),
            None => ":",
        };
        let value = match engine {
            'N' => {
                let decomposed = nodegroup_comp(pattern, minion.nodegroups);
                for w in decomposed.into_iter().rev() {
                    words.push_front(w);
                }
                continue;
            }
            'G' => data_match(Some(minion.grains), pattern, delimiter, MatchMode::Glob),
            'P' => data_match(Some(minion.grains), pattern, delimiter, MatchMode::Pcre),
            'I' => data_match(pillar_of(minion), pattern, delimiter, MatchMode::Glob),
            'J' => data_match(pillar_of(minion), pattern, delimiter, MatchMode::Pcre),
            'L' => list_match(&Value::from(pattern), minion.id),
            'S' => match ipcidr_match(pattern, minion.grains) {
                IpcidrResult::Bool(b) => b,
                // Salt's `[]`: falsy inside the expression.
                IpcidrResult::Invalid => false,
            },
            'E' => re_match(pattern, minion.id).map_err(|e| {
                Error::InvalidArgument(format!("Invalid regular expression in E@{pattern}: {e}"))
            })?,
            // Resources: Halite minions manage none.
            'T' => false,
            'M' => minion.id == pattern,
            _ => {
                tracing::error!(
                    "Unrecognized target engine \"{engine}\" for target expression \"{word}\""
                );
                return Ok(false);
            }
        };
        results.push(Token::Atom(value));
    }
    match eval_tokens(&results) {
        Some(b) => Ok(b),
        None => {
            tracing::error!("Invalid compound target: {}", tgt.py_str());
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_target;

    #[test]
    fn target_words() {
        let t = parse_target("G@roles:master");
        assert_eq!(
            (t.engine, t.delimiter, t.pattern),
            (Some('G'), None, "roles:master")
        );
        let t = parse_target("G|@roles|master");
        assert_eq!(
            (t.engine, t.delimiter, t.pattern),
            (Some('G'), Some('|'), "roles|master")
        );
        let t = parse_target("G@@x");
        assert_eq!(
            (t.engine, t.delimiter, t.pattern),
            (Some('G'), Some('@'), "x")
        );
        let t = parse_target("G@@");
        assert_eq!((t.engine, t.delimiter, t.pattern), (Some('G'), None, "@"));
        let t = parse_target("L|@a,b");
        assert_eq!((t.engine, t.pattern), (None, "L|@a,b"));
        let t = parse_target("G@");
        assert_eq!((t.engine, t.pattern), (None, "G@"));
        let t = parse_target("web*");
        assert_eq!((t.engine, t.pattern), (None, "web*"));
        let t = parse_target("X@foo");
        assert_eq!((t.engine, t.pattern), (None, "X@foo"));
    }
}
