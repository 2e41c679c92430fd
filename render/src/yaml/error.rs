//! YAML errors worded as PyYAML's `str(MarkedYAMLError)` for a `CSafeLoader` fed a `str`.

use std::fmt;

/// The stream name PyYAML's C loader gives a `str` input.
const STREAM_NAME: &str = "<unicode string>";

/// A position in the YAML text (0-based, in characters), as libyaml marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    /// 0-based line.
    pub line: u64,
    /// 0-based column, in characters.
    pub column: u64,
}

impl From<libyaml_safer::Mark> for Mark {
    fn from(m: libyaml_safer::Mark) -> Self {
        Mark {
            line: m.line,
            column: m.column,
        }
    }
}

impl fmt::Display for Mark {
    /// PyYAML's `str(Mark)` without a snippet (the C loader keeps no buffer).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "  in \"{STREAM_NAME}\", line {}, column {}",
            self.line + 1,
            self.column + 1
        )
    }
}

/// A YAML error, formatted as PyYAML's `str(MarkedYAMLError)`.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    /// The whole message, e.g. `while parsing a block mapping\n  in "<unicode string>", line 7, column 7\ndid not find expected key\n  in "<unicode string>", line 7, column 20`.
    pub message: String,
    /// Where the problem is (`None` for errors PyYAML reports without a mark).
    pub mark: Option<Mark>,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for YamlError {}

impl YamlError {
    /// An error with a plain message and no mark (e.g. Python's `IndexError` text).
    pub fn plain(message: impl Into<String>) -> Self {
        YamlError {
            message: message.into(),
            mark: None,
        }
    }

    /// PyYAML's `MarkedYAMLError.__str__`: context, context mark (unless it equals the
    /// problem mark), problem, problem mark.
    pub fn marked(
        context: Option<&str>,
        context_mark: Option<Mark>,
        problem: &str,
        problem_mark: Option<Mark>,
    ) -> Self {
        let mut lines: Vec<String> = Vec::with_capacity(4);
        if let Some(c) = context {
            lines.push(c.to_string());
        }
        if let Some(cm) = context_mark {
            if problem_mark != Some(cm) {
                lines.push(cm.to_string());
            }
        }
        lines.push(problem.to_string());
        if let Some(pm) = problem_mark {
            lines.push(pm.to_string());
        }
        YamlError {
            message: lines.join("\n"),
            mark: problem_mark,
        }
    }

    /// Convert a libyaml-safer error as PyYAML's `CParser._parser_error` does.
    ///
    /// `eof` is `(original byte length, original end mark)` when a newline was appended to the
    /// input: scanner marks past the original end are moved back to it, as C libyaml gives them.
    pub(crate) fn from_libyaml(err: &libyaml_safer::Error, eof: Option<(u64, Mark)>) -> Self {
        use libyaml_safer::ErrorKind;
        match err.kind() {
            ErrorKind::Reader => {
                // libyaml-safer exposes offset and value only through `Display`:
                // "Reader error: {problem} (offset {offset}, value {value})".
                let text = err.to_string();
                let tail = text.rsplit_once(" (offset ").map(|(_, t)| t).unwrap_or("");
                let (offset, value) = tail
                    .trim_end_matches(')')
                    .split_once(", value ")
                    .unwrap_or(("0", "0"));
                let value: i64 = value.parse().unwrap_or(0);
                YamlError {
                    message: format!(
                        "unacceptable character #x{:04x}: {}\n  in \"{STREAM_NAME}\", position {}",
                        value,
                        err.problem(),
                        offset
                    ),
                    mark: None,
                }
            }
            kind => {
                // With the appended newline, end-of-input marks can fall one line late:
                // a quoted scalar cut by the end reads the newline, and a stale simple key on an
                // earlier line is reported where C libyaml stops, at the original end.
                let problem = err.problem();
                let key_line = err.context_mark().map(|m| m.line);
                let late = kind == ErrorKind::Scanner
                    && match (problem, eof) {
                        ("found unexpected end of stream", _) => true,
                        ("could not find expected ':'", Some((_, end))) => {
                            key_line != Some(end.line)
                        }
                        _ => false,
                    };
                let fix = |m: libyaml_safer::Mark| match eof {
                    Some((len, end)) if late && m.index > len => end,
                    _ => Mark::from(m),
                };
                YamlError::marked(
                    err.context(),
                    err.context_mark().map(fix),
                    err.problem(),
                    err.problem_mark().map(fix),
                )
            }
        }
    }
}
