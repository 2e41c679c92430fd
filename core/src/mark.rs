//! Source positions, as Salt reports them in error messages.

use std::fmt;

/// A position in a source text: 1-based line and column, plus the file it came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    /// The file (or `<unicode string>` for rendered text, as PyYAML names it).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "in \"{}\", line {}, column {}",
            self.file, self.line, self.column
        )
    }
}
