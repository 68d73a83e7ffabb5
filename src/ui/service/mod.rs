//! What the panes need from the network, as one trait. The real implementation sits over
//! `crate::telegram`; [`fake::FakeService`] scripts results for tests.

pub mod fake;
pub mod live;

use std::path::PathBuf;

use futures_util::future::BoxFuture;

use crate::secret::SecretString;
use crate::store::Session;

/// Identifies one login in progress (the pane's id). The service keeps its client and
/// `phone_code_hash` under it until `end_login`.
pub type LoginId = u64;

pub type Fut<T> = BoxFuture<'static, Result<T, ServiceError>>;

/// Errors keep Telegram's RPC error name and the wait seconds as data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    #[error("flood wait: retry in {seconds} s")]
    FloodWait { seconds: u32 },
    #[error("Telegram error {name} ({code})")]
    Rpc { code: i32, name: String },
    #[error("network: {0}")]
    Network(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Other(String),
}

impl ServiceError {
    pub fn rpc(code: i32, name: &str) -> ServiceError {
        ServiceError::Rpc {
            code,
            name: name.to_string(),
        }
    }

    pub fn is(&self, rpc_name: &str) -> bool {
        matches!(self, ServiceError::Rpc { name, .. } if name == rpc_name)
    }

    /// What to tell the user, and what to do about it.
    pub fn advice(&self) -> String {
        match self {
            ServiceError::Rpc { name, .. } => match name.as_str() {
                "PHONE_CODE_INVALID" => "wrong code; check it and try again".into(),
                "PHONE_CODE_EXPIRED" => "the code expired; press Ctrl-R for a new one".into(),
                "PHONE_NUMBER_INVALID" => "not a valid phone number (use +country code)".into(),
                "PHONE_NUMBER_BANNED" => "this phone number is banned by Telegram".into(),
                "PASSWORD_HASH_INVALID" => "wrong password; try again".into(),
                "ACCESS_TOKEN_INVALID" => "the bot token is not valid".into(),
                "FIRSTNAME_INVALID" => "the first name is not accepted".into(),
                "EMAIL_CODE_INVALID" | "CODE_INVALID" => "wrong email code; try again".into(),
                "EMAIL_INVALID" => "the email address is not accepted".into(),
                "AUTH_KEY_UNREGISTERED" | "SESSION_REVOKED" => {
                    "this session is logged out on Telegram's side".into()
                }
                "FRESH_RESET_AUTHORISATION_FORBIDDEN" => {
                    "this session is too new to terminate others (Telegram allows it after 24 h)"
                        .into()
                }
                _ => format!("Telegram said {name}"),
            },
            other => other.to_string(),
        }
    }
}

/// How Telegram delivered a login code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeDelivery {
    App,
    Sms,
    Call,
    FlashCall,
    MissedCall,
    Email(String),
    Fragment,
    Other(String),
}

impl CodeDelivery {
    pub fn describe(&self) -> String {
        match self {
            CodeDelivery::App => "in the Telegram app on your other device".into(),
            CodeDelivery::Sms => "by SMS".into(),
            CodeDelivery::Call => "by a phone call".into(),
            CodeDelivery::FlashCall => "by a flash call (the last digits of the number)".into(),
            CodeDelivery::MissedCall => "by a missed call (the last digits of the number)".into(),
            CodeDelivery::Email(pattern) => format!("by email to {pattern}"),
            CodeDelivery::Fragment => "on fragment.com".into(),
            CodeDelivery::Other(s) => s.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentCode {
    pub delivery: CodeDelivery,
    /// How the next resend would arrive, if Telegram offers one.
    pub next: Option<CodeDelivery>,
    /// Seconds before a resend is allowed.
    pub timeout_secs: Option<u32>,
    pub code_length: Option<u8>,
}

/// The account a finished login or a check found.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Me {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub phone: Option<String>,
    pub is_bot: bool,
}

impl Me {
    pub fn display(&self) -> String {
        let mut s = self.first_name.clone();
        if let Some(l) = self.last_name.as_deref().filter(|l| !l.is_empty()) {
            s.push(' ');
            s.push_str(l);
        }
        if let Some(u) = &self.username {
            s.push_str(&format!(" (@{u})"));
        }
        s
    }
}

/// A finished login: the session to store (with its keys) and who it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginResult {
    pub session: Session,
    pub me: Me,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignInOutcome {
    Done(Box<LoginResult>),
    SignUpRequired { terms: Option<String> },
    PasswordRequired { hint: Option<String> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrToken {
    /// `tg://login?token=…`: a secret while it is valid; never logged.
    pub url: SecretString,
    pub expires_in_secs: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
/// A QR scan or a fork: logged in, or the account's 2FA password is needed next
/// (`check_password` on the same login).
pub enum LoginOutcome {
    Done(Box<LoginResult>),
    PasswordRequired { hint: Option<String> },
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PasswordInfo {
    pub has_password: bool,
    pub hint: Option<String>,
    pub has_recovery_email: bool,
    /// A recovery email waiting for its code (pattern like `a***@example.com`).
    pub email_unconfirmed: Option<String>,
}

/// Enable (no current), change (both), disable (no new); hint and email with a new password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TwoFaChange {
    pub current: Option<SecretString>,
    pub new: Option<SecretString>,
    pub hint: String,
    pub email: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TwoFaOutcome {
    Done,
    EmailCodeSent { pattern: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    pub hash: i64,
    pub current: bool,
    pub device: String,
    pub platform: String,
    pub app: String,
    pub ip: String,
    pub country: String,
    pub date_active: i64,
}

/// An existing session the user acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    /// `None` for a memory session.
    pub path: Option<PathBuf>,
    pub session: Session,
}

/// Everything the panes ask of the network. Methods return boxed futures so the effect runner
/// can spawn them and abort them when their pane closes.
pub trait AccountService: Send + Sync + 'static {
    fn send_code(&self, login: LoginId, phone: String) -> Fut<SentCode>;
    fn resend_code(&self, login: LoginId, force_sms: bool) -> Fut<SentCode>;
    fn sign_in(&self, login: LoginId, code: SecretString) -> Fut<SignInOutcome>;
    fn sign_up(&self, login: LoginId, first_name: String, last_name: String) -> Fut<LoginResult>;
    fn check_password(&self, login: LoginId, password: SecretString) -> Fut<LoginResult>;
    fn bot_sign_in(&self, login: LoginId, token: SecretString) -> Fut<LoginResult>;
    fn qr_export(&self, login: LoginId) -> Fut<QrToken>;
    /// Resolves once the current token has been scanned (or fails).
    fn qr_wait(&self, login: LoginId) -> Fut<LoginOutcome>;
    /// Sandbox only: the demo phone scans `url`.
    fn demo_scan(&self, url: SecretString) -> Fut<()>;
    /// Forgets a login's client (pane closed or finished).
    fn end_login(&self, login: LoginId);
    fn password_info(&self, account: Account) -> Fut<PasswordInfo>;
    fn edit_2fa(&self, account: Account, change: TwoFaChange) -> Fut<TwoFaOutcome>;
    fn confirm_email(&self, account: Account, code: SecretString) -> Fut<()>;
    fn log_out(&self, account: Account) -> Fut<()>;
    fn authorizations(&self, account: Account) -> Fut<Vec<Authorization>>;
    /// Terminates one authorization, or every other one with `None`.
    fn terminate(&self, account: Account, hash: Option<i64>) -> Fut<()>;
    /// The session a copy-clone writes: the same keys (shared authorization).
    fn copy_clone(&self, account: Account) -> Fut<Session>;
    /// A new authorization for the same account (fork), as login `login`; a 2FA password,
    /// if asked for, goes to `check_password`.
    fn fork(&self, login: LoginId, account: Account) -> Fut<LoginOutcome>;
    fn get_me(&self, account: Account) -> Fut<Me>;
}

/// Used when no account backend is available: every network call explains why.
pub struct Unavailable(pub String);

impl Unavailable {
    fn fail<T: Send + 'static>(&self) -> Fut<T> {
        let e = ServiceError::Unavailable(self.0.clone());
        Box::pin(async move { Err(e) })
    }
}

impl AccountService for Unavailable {
    fn send_code(&self, _: LoginId, _: String) -> Fut<SentCode> {
        self.fail()
    }
    fn resend_code(&self, _: LoginId, _: bool) -> Fut<SentCode> {
        self.fail()
    }
    fn sign_in(&self, _: LoginId, _: SecretString) -> Fut<SignInOutcome> {
        self.fail()
    }
    fn sign_up(&self, _: LoginId, _: String, _: String) -> Fut<LoginResult> {
        self.fail()
    }
    fn check_password(&self, _: LoginId, _: SecretString) -> Fut<LoginResult> {
        self.fail()
    }
    fn bot_sign_in(&self, _: LoginId, _: SecretString) -> Fut<LoginResult> {
        self.fail()
    }
    fn qr_export(&self, _: LoginId) -> Fut<QrToken> {
        self.fail()
    }
    fn qr_wait(&self, _: LoginId) -> Fut<LoginOutcome> {
        self.fail()
    }
    fn demo_scan(&self, _: SecretString) -> Fut<()> {
        self.fail()
    }
    fn end_login(&self, _: LoginId) {}
    fn password_info(&self, _: Account) -> Fut<PasswordInfo> {
        self.fail()
    }
    fn edit_2fa(&self, _: Account, _: TwoFaChange) -> Fut<TwoFaOutcome> {
        self.fail()
    }
    fn confirm_email(&self, _: Account, _: SecretString) -> Fut<()> {
        self.fail()
    }
    fn log_out(&self, _: Account) -> Fut<()> {
        self.fail()
    }
    fn authorizations(&self, _: Account) -> Fut<Vec<Authorization>> {
        self.fail()
    }
    fn terminate(&self, _: Account, _: Option<i64>) -> Fut<()> {
        self.fail()
    }
    fn copy_clone(&self, account: Account) -> Fut<Session> {
        // Copying needs no network: the same keys, written again.
        Box::pin(async move { Ok(account.session) })
    }
    fn fork(&self, _: LoginId, _: Account) -> Fut<LoginOutcome> {
        self.fail()
    }
    fn get_me(&self, _: Account) -> Fut<Me> {
        self.fail()
    }
}
