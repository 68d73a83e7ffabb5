//! Errors of the storage layer. Messages name the input and the problem, never a key or string.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The input was read but is not a session tgsess understands.
    #[error("{input}: {problem}")]
    Invalid { input: String, problem: String },

    // The cause is part of the message (not a `source`), so error chains do not repeat it.
    #[error("{}: {err}", path.display())]
    Io { path: PathBuf, err: io::Error },

    #[error("{}: SQLite error: {err}", path.display())]
    Sqlite { path: PathBuf, err: rusqlite::Error },

    /// The target format needs a field the source does not carry.
    #[error("cannot write {format}: the source has no {field}; pass {flag}")]
    MissingField {
        format: &'static str,
        field: &'static str,
        flag: &'static str,
    },

    #[error("{0}")]
    BadName(String),

    #[error("{0}")]
    NotFound(String),

    #[error("{0}")]
    AlreadyExists(String),
}

impl StoreError {
    pub fn invalid(input: impl Into<String>, problem: impl Into<String>) -> Self {
        StoreError::Invalid {
            input: input.into(),
            problem: problem.into(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            err: source,
        }
    }

    pub fn sqlite(path: impl Into<PathBuf>, source: rusqlite::Error) -> Self {
        StoreError::Sqlite {
            path: path.into(),
            err: source,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
