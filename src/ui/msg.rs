//! Everything that happens to the app is a `Msg`.

use crossterm::event::KeyEvent;

use super::state::SessionRow;
use crate::secret::SecretString;
use crate::store::Loaded;
use crate::telegram::{
    CodeSent, Device, Edit2faStep, LoginResult, LoginStep, Me, PasswordInfo, QrToken, TgError,
};

/// Which pane asked (0 is the app itself) and which of its requests this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReqId {
    pub pane: u64,
    pub seq: u64,
}

/// Moved once through a channel, so the large `Done` variant is not boxed.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    Resize(u16, u16),
    /// The clock, in milliseconds since the app started.
    Tick(u64),
    Done(ReqId, Outcome),
}

type R<T> = Result<T, TgError>;

/// Why a tdata folder was not written.
#[derive(Debug, PartialEq, Eq)]
pub enum FolderWriteError {
    /// The folder exists and replacing it was not confirmed.
    Exists,
    Other(String),
}

impl std::fmt::Display for FolderWriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FolderWriteError::Exists => f.write_str("the folder exists"),
            FolderWriteError::Other(e) => f.write_str(e),
        }
    }
}

/// The result of one effect.
#[derive(Debug)]
pub enum Outcome {
    /// The last rows of a listing (all of it, for a listing not streamed), or why it failed.
    Listed(Result<Vec<SessionRow>, String>),
    /// Rows of a listing still streaming in; `total`: how many it expects in all.
    ListBatch {
        rows: Vec<SessionRow>,
        total: usize,
    },
    SentCode(R<CodeSent>),
    SignIn(R<LoginStep>),
    LoggedIn(R<LoginResult>),
    QrToken(R<QrToken>),
    QrScanned(R<LoginStep>),
    DemoScanned(R<()>),
    PasswordInfo(R<PasswordInfo>),
    TwoFaEdited(R<Edit2faStep>),
    /// A recovery code was emailed for a forgotten password (the address pattern).
    RecoverySent(R<String>),
    LoggedOut(R<()>),
    Authorizations(R<Vec<Device>>),
    Terminated(R<()>),
    Me(R<Me>),
    /// A session written (or kept in memory): its new list row.
    Saved(Result<SessionRow, String>),
    Parsed(Result<Loaded, String>),
    /// The tdata folder to import has a local passcode: none was given, or a wrong one.
    Locked {
        wrong: bool,
    },
    Exported(Result<SecretString, String>),
    /// A tdata folder written: where.
    TdataWritten(Result<std::path::PathBuf, FolderWriteError>),
    Forked(R<LoginStep>),
    /// The status book's findings: (row key, key id, finding).
    Statuses(Vec<(String, String, crate::store::status::Finding)>),
    /// A row of a running check: a flood wait, or its result.
    Checked(crate::telegram::check::CheckEvent),
    /// The check ended: every row's result, in the targets' order.
    CheckFinished(Vec<crate::telegram::check::CheckResult>),
    /// A row of a running bulk action: a flood wait, or its result.
    Bulk(crate::telegram::bulk::BulkEvent),
    BulkFinished,
    /// Files moved to the trash: (row key, where it went or why not).
    Trashed(Vec<(String, Result<std::path::PathBuf, String>)>),
    /// Sessions exported into a folder: (row key, the new file or why not).
    ExportedMany(Vec<(String, Result<std::path::PathBuf, String>)>),
    /// Findings were filed in the status book (or why not).
    Recorded(Result<(), String>),
}

impl Outcome {
    /// The error, if the effect failed (for the log: error texts carry no secrets).
    pub fn problem(&self) -> Option<String> {
        fn err<T, E: std::fmt::Display>(r: &Result<T, E>) -> Option<String> {
            r.as_ref().err().map(ToString::to_string)
        }
        match self {
            Outcome::Listed(r) => err(r),
            Outcome::ListBatch { .. } => None,
            Outcome::SentCode(r) => err(r),
            Outcome::SignIn(r) => err(r),
            Outcome::LoggedIn(r) => err(r),
            Outcome::QrToken(r) => err(r),
            Outcome::QrScanned(r) => err(r),
            Outcome::DemoScanned(r) => err(r),
            Outcome::PasswordInfo(r) => err(r),
            Outcome::TwoFaEdited(r) => err(r),
            Outcome::RecoverySent(r) => err(r),
            Outcome::LoggedOut(r) => err(r),
            Outcome::Authorizations(r) => err(r),
            Outcome::Terminated(r) => err(r),
            Outcome::Me(r) => err(r),
            Outcome::Saved(r) => err(r),
            Outcome::Parsed(r) => err(r),
            Outcome::Locked { wrong: true } => Some("wrong local passcode".into()),
            Outcome::Locked { wrong: false } => None,
            Outcome::Exported(r) => err(r),
            Outcome::TdataWritten(r) => err(r),
            Outcome::Forked(r) => err(r),
            Outcome::Statuses(_)
            | Outcome::Checked(_)
            | Outcome::CheckFinished(_)
            | Outcome::BulkFinished
            | Outcome::Trashed(_)
            | Outcome::ExportedMany(_) => None,
            Outcome::Bulk(crate::telegram::bulk::BulkEvent::Finished { result, .. }) => err(result),
            Outcome::Bulk(_) => None,
            Outcome::Recorded(r) => err(r),
        }
    }
}
