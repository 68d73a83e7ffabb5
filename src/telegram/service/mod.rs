//! The account operations a long-running front end (the TUI) asks for, as one trait over this
//! layer's own types. [`live::LiveService`] implements it over the flows; tests may script it.
//!
//! Multi-step work (a login, a 2FA edit waiting for its email code) is kept under a
//! [`FlowId`] chosen by the caller, and [`AccountService::end`] drops everything kept under
//! it: its clients, connections and the session locks they hold.

pub mod live;

use std::path::PathBuf;

use futures_util::future::BoxFuture;

use tokio::sync::mpsc;

use super::check::{CheckEvent, CheckResult, CheckTarget};
use super::edit_2fa::PasswordChange;
use super::error::TgError;
use super::flows::Edit2faStep;
use super::types::{CodeSent, Device, Me, PasswordInfo};
use crate::secret::SecretString;
use crate::store::Session;
use crate::store::status::{Finding, Status};

/// Names one multi-step piece of work (the TUI uses its pane id).
pub type FlowId = u64;

pub type Fut<T> = BoxFuture<'static, Result<T, TgError>>;

/// A finished login: the session to store (with its keys) and who it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginResult {
    pub session: Session,
    pub me: Me,
}

/// Where a login stands after a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginStep {
    Done(Box<LoginResult>),
    /// The number has no account yet: `sign_up` next.
    SignUpRequired,
    /// The account has a 2FA password: `check_password` next (or `request_recovery`).
    PasswordRequired {
        hint: Option<String>,
    },
}

/// A QR login token to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrToken {
    /// `tg://login?token=…`: a secret while it is valid; never logged.
    pub url: SecretString,
    pub expires_in_secs: u32,
}

/// An existing session the caller acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    /// `None` for a memory session.
    pub path: Option<PathBuf>,
    pub session: Session,
}

/// Everything a front end asks of the network. Methods return boxed futures so that a caller
/// can spawn them and abort them; dropping a future drops the connection it opened.
pub trait AccountService: Send + Sync + 'static {
    fn send_code(&self, flow: FlowId, phone: String) -> Fut<CodeSent>;
    /// Telegram picks the next delivery (`CodeSent::next`).
    fn resend_code(&self, flow: FlowId) -> Fut<CodeSent>;
    fn sign_in(&self, flow: FlowId, code: SecretString) -> Fut<LoginStep>;
    fn sign_up(&self, flow: FlowId, first_name: String, last_name: String) -> Fut<LoginResult>;
    /// The 2FA password of a phone, QR or fork login.
    fn check_password(&self, flow: FlowId, password: SecretString) -> Fut<LoginResult>;
    /// A forgotten 2FA password: Telegram emails a recovery code; answers the email pattern.
    fn request_recovery(&self, flow: FlowId) -> Fut<String>;
    /// The emailed recovery code: logs in and removes the 2FA password.
    fn enter_recovery_code(&self, flow: FlowId, code: SecretString) -> Fut<LoginResult>;
    fn bot_sign_in(&self, flow: FlowId, token: SecretString) -> Fut<LoginResult>;
    fn qr_export(&self, flow: FlowId) -> Fut<QrToken>;
    /// Resolves once the current token has been scanned (or fails).
    fn qr_wait(&self, flow: FlowId) -> Fut<LoginStep>;
    /// Sandbox only: the demo phone scans `url`.
    fn demo_scan(&self, url: SecretString) -> Fut<()>;
    /// Drops everything kept under `flow` (clients, connections, locks).
    fn end(&self, flow: FlowId);
    fn password_info(&self, account: Account) -> Fut<PasswordInfo>;
    /// Starts a 2FA change; an `EmailCode` step is kept under `flow` for `confirm_email`.
    fn edit_2fa(&self, flow: FlowId, account: Account, change: PasswordChange) -> Fut<Edit2faStep>;
    fn confirm_email(&self, flow: FlowId, code: SecretString) -> Fut<Edit2faStep>;
    fn resend_email(&self, flow: FlowId) -> Fut<Edit2faStep>;
    fn log_out(&self, account: Account) -> Fut<()>;
    fn authorizations(&self, account: Account) -> Fut<Vec<Device>>;
    /// Terminates one authorization, or every other one with `None`.
    fn terminate(&self, account: Account, hash: Option<i64>) -> Fut<()>;
    /// A new authorization for the same account (fork), kept as `flow`; a 2FA password, if
    /// asked for, goes to `check_password`.
    fn fork(&self, flow: FlowId, account: Account) -> Fut<LoginStep>;
    fn get_me(&self, account: Account) -> Fut<Me>;
    /// Checks many sessions at once, paced (see [`super::check::check_many`]); `events` hears
    /// of each row as it goes. Dropping the future stops the run. Without a backend, every row
    /// is an error saying why.
    fn check_many(
        &self,
        targets: Vec<CheckTarget>,
        events: mpsc::UnboundedSender<CheckEvent>,
    ) -> BoxFuture<'static, Vec<CheckResult>> {
        let _ = events;
        Box::pin(async move {
            targets
                .into_iter()
                .map(|t| CheckResult {
                    name: t.name,
                    path: t.path,
                    key_id: None,
                    finding: Finding::bare(
                        Status::Error,
                        Some("checking needs a connection to Telegram or the sandbox".into()),
                        0,
                    ),
                })
                .collect()
        })
    }
}

/// Used when no account backend is available: every network call explains why.
pub struct Unavailable(pub String);

impl Unavailable {
    fn fail<T: Send + 'static>(&self) -> Fut<T> {
        let e = TgError::Config(self.0.clone());
        Box::pin(async move { Err(e) })
    }
}

impl AccountService for Unavailable {
    fn send_code(&self, _: FlowId, _: String) -> Fut<CodeSent> {
        self.fail()
    }
    fn resend_code(&self, _: FlowId) -> Fut<CodeSent> {
        self.fail()
    }
    fn sign_in(&self, _: FlowId, _: SecretString) -> Fut<LoginStep> {
        self.fail()
    }
    fn sign_up(&self, _: FlowId, _: String, _: String) -> Fut<LoginResult> {
        self.fail()
    }
    fn check_password(&self, _: FlowId, _: SecretString) -> Fut<LoginResult> {
        self.fail()
    }
    fn request_recovery(&self, _: FlowId) -> Fut<String> {
        self.fail()
    }
    fn enter_recovery_code(&self, _: FlowId, _: SecretString) -> Fut<LoginResult> {
        self.fail()
    }
    fn bot_sign_in(&self, _: FlowId, _: SecretString) -> Fut<LoginResult> {
        self.fail()
    }
    fn qr_export(&self, _: FlowId) -> Fut<QrToken> {
        self.fail()
    }
    fn qr_wait(&self, _: FlowId) -> Fut<LoginStep> {
        self.fail()
    }
    fn demo_scan(&self, _: SecretString) -> Fut<()> {
        self.fail()
    }
    fn end(&self, _: FlowId) {}
    fn password_info(&self, _: Account) -> Fut<PasswordInfo> {
        self.fail()
    }
    fn edit_2fa(&self, _: FlowId, _: Account, _: PasswordChange) -> Fut<Edit2faStep> {
        self.fail()
    }
    fn confirm_email(&self, _: FlowId, _: SecretString) -> Fut<Edit2faStep> {
        self.fail()
    }
    fn resend_email(&self, _: FlowId) -> Fut<Edit2faStep> {
        self.fail()
    }
    fn log_out(&self, _: Account) -> Fut<()> {
        self.fail()
    }
    fn authorizations(&self, _: Account) -> Fut<Vec<Device>> {
        self.fail()
    }
    fn terminate(&self, _: Account, _: Option<i64>) -> Fut<()> {
        self.fail()
    }
    fn fork(&self, _: FlowId, _: Account) -> Fut<LoginStep> {
        self.fail()
    }
    fn get_me(&self, _: Account) -> Fut<Me> {
        self.fail()
    }
}
