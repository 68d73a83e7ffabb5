//! Account operations over grammers: phone, bot and QR login, 2FA, logout, devices, fork.
//!
//! Each multi-step flow is a pure state machine (`phone`, `qr`, `edit_2fa`: `on(event) ->
//! Vec<effect>`, no I/O) plus one async driver in `flows` that performs the effects over a
//! [`Connection`]. The CLI prompts and the TUI panes drive the same drivers. Dropping a
//! driver's future cancels the flow. Errors are one enum, [`TgError`].

pub mod account;
pub mod config;
pub mod connection;
pub mod edit_2fa;
pub mod error;
pub mod flows;
pub mod lock;
pub mod password;
pub mod phone;
pub mod qr;
pub mod two_step;
pub mod types;

pub use account::{
    authorizations, forget_login, is_authorized, logout, set_dc, terminate, terminate_others,
    whoami,
};
pub use config::{ApiCredentials, ApiFlags, FileConfig};
pub use connection::{ConnectOptions, Connection, KeyProvider};
pub use edit_2fa::{EmailCodePrompt, PasswordChange};
pub use error::TgError;
pub use flows::{
    Edit2faFlow, Edit2faStep, ForkFlow, ForkStep, PhoneFlow, PhoneStep, QrFlow, QrStep,
    accept_login_url, bot_login,
};
pub use phone::{PhonePrompt, PromptError};
pub use two_step::PasswordPrompt;
pub use types::{CodeDelivery, CodeSent, Device, Me, PasswordChallenge};
