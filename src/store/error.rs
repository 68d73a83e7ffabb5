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

    /// The target format needs fields the source does not carry: all of them, each with the
    /// flag that supplies it, so one run tells the user everything to pass.
    #[error("{}", missing_message(format, missing))]
    MissingFields {
        format: &'static str,
        missing: Vec<Missing>,
    },

    /// A tdata folder locked with a local passcode, read without one.
    #[error(
        "{0}: locked with a local passcode (tgsess asks for it when run on a terminal, or reads one line of standard input)"
    )]
    PasscodeNeeded(String),

    #[error("{0}: wrong local passcode")]
    WrongPasscode(String),

    #[error("{0}")]
    BadName(String),

    #[error("{0}")]
    NotFound(String),

    #[error("{0}")]
    AlreadyExists(String),
}

/// A field a target format needs, and the command-line flag that supplies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Missing {
    pub field: &'static str,
    pub flag: &'static str,
}

fn missing_message(format: &str, missing: &[Missing]) -> String {
    let fields = missing
        .iter()
        .map(|m| format!("no {}", m.field))
        .collect::<Vec<_>>()
        .join(", ");
    let flags = missing.iter().map(|m| m.flag).collect::<Vec<_>>().join(" ");
    format!("cannot write {format}: the source has {fields}; pass {flags}")
}

impl StoreError {
    /// Whether `text` is a [`StoreError::PasscodeNeeded`] as a listing row keeps it (rows keep
    /// errors as text; the TUI shows a locked tdata folder differently from a broken file).
    pub fn says_passcode_needed(text: &str) -> bool {
        text.contains(": locked with a local passcode (")
    }

    /// A target that needs exactly one more field.
    pub fn missing(format: &'static str, field: &'static str, flag: &'static str) -> Self {
        StoreError::MissingFields {
            format,
            missing: vec![Missing { field, flag }],
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passcode_error_is_known_by_its_text() {
        let locked = StoreError::PasscodeNeeded("/s/desk".into()).to_string();
        assert!(StoreError::says_passcode_needed(&locked));
        let wrong = StoreError::WrongPasscode("/s/desk".into()).to_string();
        assert!(!StoreError::says_passcode_needed(&wrong));
        assert!(!StoreError::says_passcode_needed(
            "/s/a.session: SQLite error: locked"
        ));
    }
}
