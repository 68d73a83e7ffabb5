//! Account operations over grammers: phone, bot and QR login, 2FA, logout, devices, fork.
//!
//! Each multi-step flow is a pure state machine (`phone`, `qr`, `edit_2fa`: `on(event) ->
//! Vec<effect>`, no I/O) plus one async driver in `flows` that performs the effects over a
//! [`Connection`]. The CLI prompts and the TUI panes drive the same drivers. Dropping a
//! driver's future cancels the flow. Errors are one enum, [`TgError`].
//!
//! Typical use (all async, tokio):
//!
//! ```no_run
//! # async fn demo(path: &std::path::Path, options: tgsess::telegram::ConnectOptions)
//! # -> Result<(), tgsess::telegram::TgError> {
//! use tgsess::secret::SecretString;
//! use tgsess::telegram::{Connection, PhoneFlow, PhonePrompt, PhoneStep};
//!
//! let conn = Connection::open_file(path, &options)?; // locks the file and its key
//! let mut flow = PhoneFlow::new(conn.clone());
//! let mut step = flow.start("+999 66 2 1111").await?;
//! loop {
//!     step = match step {
//!         PhoneStep::Done(me) => break println!("logged in as {}", me.display()),
//!         PhoneStep::Ask(PhonePrompt::Code { .. }) => {
//!             flow.enter_code(SecretString::new("22222")).await?
//!         }
//!         PhoneStep::Ask(PhonePrompt::Names { .. }) => flow.enter_names("Ada", "").await?,
//!         PhoneStep::Ask(PhonePrompt::Password(_)) => {
//!             flow.enter_password(SecretString::new("secret")).await?
//!         }
//!         PhoneStep::Ask(PhonePrompt::RecoveryCode(_)) => {
//!             flow.enter_recovery_code(SecretString::new("123456")).await?
//!         }
//!     };
//! }
//! # Ok(()) }
//! ```
//!
//! - Login: [`PhoneFlow`], [`bot_login`], [`QrFlow`] (show each `QrStep::Show` URL as a QR; call
//!   `next` again to wait for the scan), all writing through to the stored session. A
//!   forgotten 2FA password: `request_recovery` then `enter_recovery_code` on either flow.
//! - 2FA: [`Edit2faFlow`] with a [`PasswordChange`] (enable, change, disable; email code).
//! - Account: [`whoami`], [`is_authorized`], [`logout`], [`authorizations`], [`terminate`],
//!   [`terminate_others`], [`set_dc`], [`accept_login_url`].
//! - Many accounts: [`check_many`] (bounded, paced, typed results; see [`check`]).
//! - Clone: [`ForkFlow`] (a new key for the same account); a plain copy is the store's job.
//! - Config: [`config::resolve_credentials`] (flags, `TG_API_ID`/`TG_API_HASH`, config file).

pub mod account;
pub mod check;
pub mod config;
pub mod connection;
pub mod dial_guard;
pub mod edit_2fa;
pub mod error;
pub mod flows;
pub mod lock;
pub mod pacer;
pub mod password;
pub mod phone;
pub mod qr;
pub mod service;
pub mod srp_group;
pub mod two_step;
pub mod types;

pub use account::{
    authorizations, forget_login, is_authorized, logout, set_dc, terminate, terminate_others,
    whoami,
};
pub use check::{CheckEvent, CheckOptions, CheckResult, CheckTarget, check_many};
pub use config::{ApiCredentials, ApiFlags, FileConfig};
pub use connection::{ConnectOptions, Connection, KeyProvider, NetworkTasks, ShutDown};
pub use dial_guard::{DialRefused, Network, SandboxAddrs};
pub use edit_2fa::{EmailCodePrompt, PasswordChange};
pub use error::TgError;
pub use flows::{
    Edit2faFlow, Edit2faStep, ForkFlow, ForkStep, PhoneFlow, PhoneStep, QrFlow, QrStep,
    accept_login_url, bot_login,
};
pub use phone::{PhonePrompt, PromptError};
pub use service::{Account, AccountService, FlowId, LoginResult, LoginStep, QrToken};
pub use two_step::{PasswordPrompt, RecoveryPrompt};
pub use types::{CodeDelivery, CodeSent, Device, Me, PasswordChallenge, PasswordInfo};
