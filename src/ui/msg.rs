//! Everything that happens to the app is a `Msg`.

use crossterm::event::KeyEvent;

use super::service::{
    Authorization, LoginOutcome, LoginResult, Me, PasswordInfo, QrToken, SentCode, ServiceError,
    SignInOutcome, TwoFaOutcome,
};
use super::state::SessionRow;
use crate::secret::SecretString;
use crate::store::{Loaded, Session};

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

type R<T> = Result<T, ServiceError>;

/// The result of one effect.
#[derive(Debug)]
pub enum Outcome {
    Listed(Result<Vec<SessionRow>, String>),
    SentCode(R<SentCode>),
    SignIn(R<SignInOutcome>),
    LoggedIn(R<LoginResult>),
    QrToken(R<QrToken>),
    QrScanned(R<LoginOutcome>),
    DemoScanned(R<()>),
    PasswordInfo(R<PasswordInfo>),
    TwoFaEdited(R<TwoFaOutcome>),
    EmailConfirmed(R<()>),
    LoggedOut(R<()>),
    Authorizations(R<Vec<Authorization>>),
    Terminated(R<()>),
    Me(R<Me>),
    /// A session written (or kept in memory): its new list row.
    Saved(Result<SessionRow, String>),
    Parsed(Result<Loaded, String>),
    Exported(Result<SecretString, String>),
    Cloned(R<Session>),
    Forked(R<LoginOutcome>),
}
