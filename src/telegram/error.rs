//! The one error type of the account layer. Telegram's RPC error name and the wait seconds are
//! kept as data, so callers match on variants instead of parsing messages.

use grammers_mtsender::InvocationError;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum TgError {
    /// FLOOD_WAIT_X (or another 420): Telegram asks to wait this long before trying again.
    #[error("Telegram asks to wait {seconds} s before trying again (FLOOD_WAIT)")]
    FloodWait { seconds: u32 },

    /// PHONE_CODE_INVALID or PHONE_CODE_EMPTY.
    #[error("the login code is wrong")]
    InvalidCode,

    /// PHONE_CODE_EXPIRED: ask for a new code.
    #[error("the login code has expired; ask for a new one")]
    CodeExpired,

    /// PASSWORD_HASH_INVALID: the 2FA password is wrong.
    #[error("the 2FA password is wrong")]
    InvalidPassword,

    #[error("the phone number is invalid (PHONE_NUMBER_INVALID)")]
    PhoneInvalid,

    #[error("this phone number is banned by Telegram (PHONE_NUMBER_BANNED)")]
    PhoneBanned,

    #[error("the first name is invalid (FIRSTNAME_INVALID)")]
    FirstNameInvalid,

    #[error("the last name is invalid (LASTNAME_INVALID)")]
    LastNameInvalid,

    /// ACCESS_TOKEN_INVALID or ACCESS_TOKEN_EXPIRED.
    #[error("the bot token is invalid or revoked (ACCESS_TOKEN_INVALID)")]
    AccessTokenInvalid,

    /// The number has no account and Telegram refused to create one here.
    #[error(
        "this phone number has no Telegram account and Telegram refused to create one here: \
         create the account in an official app, or use QR login"
    )]
    SignUpRefused,

    /// The account has a 2FA password but the operation cannot ask for one.
    #[error("the account has a 2FA password")]
    PasswordRequired,

    /// Another process holds the session (or its auth key).
    #[error("{what} is in use by {}", pid.map(|p| format!("PID {p}")).unwrap_or_else(|| "another tgsess process".into()))]
    InUse { what: String, pid: Option<u32> },

    /// The session is not logged in (401 from Telegram, or no key at all).
    #[error("the session is not logged in")]
    NotAuthorized,

    /// A 2FA change that does not fit the account's current state.
    #[error("{0}")]
    PasswordState(&'static str),

    /// api_id / api_hash are missing or malformed.
    #[error("{0}")]
    Config(String),

    /// Any other error Telegram returned.
    #[error("Telegram error {code} {name}{}", value.map(|v| format!(" ({v})")).unwrap_or_default())]
    Rpc {
        code: i32,
        name: String,
        value: Option<u32>,
    },

    /// The server sent a 2FA (SRP) parameter that fails validation: a broken or hostile server.
    #[error("the server sent invalid 2FA parameters ({0}); nothing was sent back")]
    BadSrpParameter(&'static str),

    /// Telegram answered something this client did not expect.
    #[error("unexpected answer from Telegram: {0}")]
    Unexpected(String),

    /// Connecting or talking to the server failed.
    #[error("network error: {0}")]
    Network(String),

    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Equal when the same variant says the same thing (errors from the store have no `==`).
impl PartialEq for TgError {
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            && self.to_string() == other.to_string()
    }
}

impl TgError {
    /// Whether this error comes from Telegram with this RPC name.
    pub fn is_rpc(&self, wanted: &str) -> bool {
        matches!(self, TgError::Rpc { name, .. } if name == wanted)
    }

    pub(crate) fn unexpected(what: impl Into<String>) -> Self {
        TgError::Unexpected(what.into())
    }
}

impl From<InvocationError> for TgError {
    fn from(error: InvocationError) -> Self {
        match error {
            InvocationError::Rpc(rpc) => from_rpc(rpc.code, &rpc.name, rpc.value),
            InvocationError::Session(e) => match e.downcast::<StoreError>() {
                Ok(store) => TgError::Store(*store),
                Err(other) => TgError::Network(format!("session storage: {other}")),
            },
            other => TgError::Network(other.to_string()),
        }
    }
}

/// Maps one RPC error (name without its number, as grammers splits it) to a variant.
pub(crate) fn from_rpc(code: i32, name: &str, value: Option<u32>) -> TgError {
    match (code, name) {
        (420, _) => TgError::FloodWait {
            seconds: value.unwrap_or(0),
        },
        (401, _) if name != "SESSION_PASSWORD_NEEDED" => TgError::NotAuthorized,
        (_, "PHONE_CODE_INVALID" | "PHONE_CODE_EMPTY") => TgError::InvalidCode,
        (_, "PHONE_CODE_EXPIRED") => TgError::CodeExpired,
        (_, "PASSWORD_HASH_INVALID") => TgError::InvalidPassword,
        (_, "PHONE_NUMBER_INVALID") => TgError::PhoneInvalid,
        (_, "PHONE_NUMBER_BANNED") => TgError::PhoneBanned,
        (_, "FIRSTNAME_INVALID") => TgError::FirstNameInvalid,
        (_, "LASTNAME_INVALID") => TgError::LastNameInvalid,
        (_, "ACCESS_TOKEN_INVALID" | "ACCESS_TOKEN_EXPIRED") => TgError::AccessTokenInvalid,
        (401, "SESSION_PASSWORD_NEEDED") => TgError::PasswordRequired,
        _ => TgError::Rpc {
            code,
            name: name.to_string(),
            value,
        },
    }
}

/// A 303 *_MIGRATE_X answer: the DC to move to.
pub(crate) fn migrate_dc(error: &InvocationError) -> Option<i32> {
    match error {
        InvocationError::Rpc(rpc) if rpc.code == 303 => rpc.value.map(|v| v as i32),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_mtsender::RpcError;

    fn rpc(code: i32, message: &str) -> TgError {
        let e = RpcError::from(grammers_tl_types::types::RpcError {
            error_code: code,
            error_message: message.into(),
        });
        InvocationError::Rpc(e).into()
    }

    #[test]
    fn flood_wait_keeps_the_seconds() {
        assert!(matches!(
            rpc(420, "FLOOD_WAIT_120"),
            TgError::FloodWait { seconds: 120 }
        ));
    }

    #[test]
    fn known_names_become_variants() {
        assert!(matches!(
            rpc(400, "PHONE_CODE_INVALID"),
            TgError::InvalidCode
        ));
        assert!(matches!(
            rpc(400, "PHONE_NUMBER_BANNED"),
            TgError::PhoneBanned
        ));
        assert!(matches!(
            rpc(400, "FIRSTNAME_INVALID"),
            TgError::FirstNameInvalid
        ));
        assert!(matches!(
            rpc(400, "ACCESS_TOKEN_EXPIRED"),
            TgError::AccessTokenInvalid
        ));
        assert!(matches!(
            rpc(401, "AUTH_KEY_UNREGISTERED"),
            TgError::NotAuthorized
        ));
        assert!(matches!(
            rpc(401, "SESSION_PASSWORD_NEEDED"),
            TgError::PasswordRequired
        ));
    }

    #[test]
    fn unknown_names_keep_code_name_and_value() {
        let e = rpc(400, "EMAIL_UNCONFIRMED_6");
        assert!(
            matches!(&e, TgError::Rpc { code: 400, name, value: Some(6) } if name == "EMAIL_UNCONFIRMED")
        );
        assert_eq!(e.to_string(), "Telegram error 400 EMAIL_UNCONFIRMED (6)");
    }

    #[test]
    fn migrate_is_recognised_only_for_303() {
        let e = InvocationError::Rpc(RpcError::from(grammers_tl_types::types::RpcError {
            error_code: 303,
            error_message: "PHONE_MIGRATE_4".into(),
        }));
        assert_eq!(migrate_dc(&e), Some(4));
        let e = InvocationError::Rpc(RpcError::from(grammers_tl_types::types::RpcError {
            error_code: 400,
            error_message: "PHONE_MIGRATE_4".into(),
        }));
        assert_eq!(migrate_dc(&e), None);
    }

    #[test]
    fn in_use_names_the_pid() {
        let e = TgError::InUse {
            what: "session a.session".into(),
            pid: Some(42),
        };
        assert_eq!(e.to_string(), "session a.session is in use by PID 42");
    }
}
