//! The error type shared by Halite's crates.

use thiserror::Error as ThisError;

/// A Halite error. Messages follow Salt's wording where Salt has one.
#[derive(Debug, ThisError, Clone, PartialEq)]
pub enum Error {
    /// A template or data file failed to render (Jinja, YAML, JSON); the message is Salt's.
    #[error("{0}")]
    Render(String),
    /// An execution or state function that Halite does not provide.
    #[error("'{0}' is not available.")]
    NotAvailable(String),
    /// A function was called with arguments it cannot take.
    #[error("{0}")]
    InvalidArgument(String),
    /// A function ran and failed (Salt's `CommandExecutionError`).
    #[error("{0}")]
    CommandExecution(String),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The path involved.
        path: String,
        /// The OS error text.
        message: String,
    },
    /// Bad configuration.
    #[error("{0}")]
    Config(String),
}

impl Error {
    /// An I/O error with the path it concerns.
    pub fn io(path: impl Into<String>, err: &std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            message: err.to_string(),
        }
    }
}

/// `Result` with Halite's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
