//! Salt's minion-side targeting matchers: glob, pcre, list, grain, grain_pcre, pillar,
//! pillar_pcre, pillar_exact, ipcidr, compound (with `N@` nodegroups) and nodegroup.
//!
//! Invariant: pure functions. A target plus one minion's id, grains, pillar and configured
//! nodegroups in, a boolean out; nothing is read from disk or the network.

mod compound;
mod fnmatch;
mod ipcidr;
mod list;
mod nodegroup;
mod pcre;
mod pyexpr;
mod subdict;

pub use compound::{compound_match, parse_target, TargetWord};
pub use fnmatch::{fnmatch, Glob};
pub use ipcidr::{ipcidr_match, IpcidrResult, Network};
pub use list::list_match;
pub use nodegroup::nodegroup_comp;
pub use pcre::{compile_match as compile_python_match, re_match};
pub use subdict::{subdict_match, traverse, MatchMode};

use halite_core::{Error, Map, Value};

/// Salt's default delimiter for grain and pillar targets.
pub const DEFAULT_TARGET_DELIM: &str = ":";

/// What a matcher knows about the minion being matched.
#[derive(Clone, Copy, Debug)]
pub struct MinionData<'a> {
    /// The minion id (`opts["id"]`).
    pub id: &'a str,
    /// The minion's grains (a mapping).
    pub grains: &'a Value,
    /// The minion's pillar (a mapping; empty when not compiled yet).
    pub pillar: &'a Value,
    /// The `nodegroups:` option of the minion configuration.
    pub nodegroups: &'a Map,
}

/// Does `minion` match `tgt` with the matcher Salt names `tgt_type`?
///
/// `tgt` is a string, or a list for `list` and `compound`. `delimiter` applies to the grain
/// and pillar matchers (Salt's `delimiter=` argument); inside a compound target each `G@`/`I@`
/// word uses `:` unless it spells its own (`G|@a|b`). Answers follow Salt's minion-side
/// matchers: malformed compound expressions and unknown nodegroups do not match. Errors are
/// what Salt raises: an unknown `tgt_type`, a `pcre` target that is not a valid regular
/// expression, or a matcher Halite cannot run on a minion (`data`, `range`).
pub fn matches(
    tgt: &Value,
    tgt_type: &str,
    minion: &MinionData,
    delimiter: &str,
) -> Result<bool, Error> {
    let text = tgt.as_str();
    let pillar = minion.pillar.is_truthy().then_some(minion.pillar);
    let data_match = |data: Option<&Value>, mode: MatchMode| -> bool {
        match text {
            Some(t) if t.contains(delimiter) => {
                data.is_some_and(|d| subdict_match(d, t, delimiter, mode))
            }
            _ => false,
        }
    };
    Ok(match tgt_type {
        "glob" => text.is_some_and(|t| fnmatch(minion.id, t)),
        "pcre" => {
            let t = text.ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "pcre target must be a string, not {}",
                    tgt.type_name()
                ))
            })?;
            re_match(t, minion.id).map_err(|e| {
                Error::InvalidArgument(format!("Invalid regular expression {t:?}: {e}"))
            })?
        }
        "list" => list_match(tgt, minion.id),
        "grain" => data_match(Some(minion.grains), MatchMode::Glob),
        "grain_pcre" => data_match(Some(minion.grains), MatchMode::Pcre),
        "pillar" => data_match(pillar, MatchMode::Glob),
        "pillar_pcre" => data_match(pillar, MatchMode::Pcre),
        "pillar_exact" => data_match(pillar, MatchMode::Exact),
        "ipcidr" => match text {
            Some(t) => ipcidr_match(t, minion.grains) == IpcidrResult::Bool(true),
            None => false,
        },
        "compound" => compound_match(tgt, minion)?,
        "nodegroup" => nodegroup_match(tgt, minion)?,
        "data" | "range" | "compound_pillar_exact" | "cache" => {
            return Err(Error::NotAvailable(format!("{tgt_type}_match.match")))
        }
        other => {
            return Err(Error::InvalidArgument(format!(
                "Unknown matcher '{other}' (no function '{other}_match.match')"
            )))
        }
    })
}

/// `nodegroup_match.match(tgt, nodegroups)`: the named group expanded and matched as a
/// compound target; an unknown group does not match.
fn nodegroup_match(tgt: &Value, minion: &MinionData) -> Result<bool, Error> {
    if minion.nodegroups.is_empty() {
        return Ok(false);
    }
    let Some(name) = tgt.as_str() else {
        return Ok(false);
    };
    if !minion.nodegroups.contains_key(name) {
        return Ok(false);
    }
    let words = nodegroup_comp(name, minion.nodegroups);
    compound_match(
        &Value::List(words.into_iter().map(Value::Str).collect()),
        minion,
    )
}

#[cfg(test)]
mod tests;
