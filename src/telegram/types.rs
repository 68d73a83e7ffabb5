//! Plain data the flows hand to their callers: who logged in, how a code was sent, what the
//! 2FA state is, which devices are logged in.

use grammers_tl_types as tl;
use serde::Serialize;

/// The logged-in account, as `whoami --json` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Me {
    pub user_id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub phone: Option<String>,
    pub is_bot: bool,
    /// Needed by grammers to address the account itself; not printed.
    #[serde(skip)]
    pub access_hash: Option<i64>,
}

impl Me {
    pub(crate) fn from_user(user: &tl::enums::User) -> Option<Me> {
        match user {
            tl::enums::User::User(u) => Some(Me {
                user_id: u.id,
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                username: u.username.clone(),
                phone: u.phone.clone(),
                is_bot: u.bot,
                access_hash: u.access_hash,
            }),
            tl::enums::User::Empty(_) => None,
        }
    }

    /// "First Last" (empty when the account has no name).
    pub fn full_name(&self) -> String {
        [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// "First Last (@username)" for one-line displays.
    pub fn display(&self) -> String {
        let name = self.full_name();
        match (&self.username, name.is_empty()) {
            (Some(u), false) => format!("{name} (@{u})"),
            (Some(u), true) => format!("@{u}"),
            (None, false) => name,
            (None, true) => format!("user {}", self.user_id),
        }
    }
}

/// How a login code was delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeDelivery {
    /// In another Telegram app of the same account.
    App,
    Sms,
    Call,
    FlashCall,
    MissedCall,
    Email {
        pattern: String,
    },
    Fragment {
        url: String,
    },
    /// A delivery this client does not know how to describe.
    Other(String),
}

impl CodeDelivery {
    pub fn describe(&self) -> String {
        match self {
            CodeDelivery::App => "in your other Telegram app".into(),
            CodeDelivery::Sms => "by SMS".into(),
            CodeDelivery::Call => "by a phone call".into(),
            CodeDelivery::FlashCall => "by a flash call".into(),
            CodeDelivery::MissedCall => "by a missed call (the code is the caller's number)".into(),
            CodeDelivery::Email { pattern } => format!("by email to {pattern}"),
            CodeDelivery::Fragment { url } => format!("on Fragment ({url})"),
            CodeDelivery::Other(name) => format!("by {name}"),
        }
    }
}

/// What `auth.sendCode` / `auth.resendCode` answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeSent {
    pub delivery: CodeDelivery,
    /// Digits in the code, when Telegram says.
    pub length: Option<u32>,
    /// What a resend would use instead, if anything.
    pub next: Option<CodeDelivery>,
    /// Seconds before a resend is allowed.
    pub timeout: Option<u32>,
    pub(crate) phone_code_hash: String,
}

impl CodeSent {
    pub(crate) fn from_tl(sent: tl::types::auth::SentCode) -> CodeSent {
        use tl::enums::auth::SentCodeType as T;
        let (delivery, length) = match sent.r#type {
            T::App(t) => (CodeDelivery::App, Some(t.length)),
            T::Sms(t) => (CodeDelivery::Sms, Some(t.length)),
            T::Call(t) => (CodeDelivery::Call, Some(t.length)),
            T::FlashCall(_) => (CodeDelivery::FlashCall, None),
            T::MissedCall(t) => (CodeDelivery::MissedCall, Some(t.length)),
            T::EmailCode(t) => (
                CodeDelivery::Email {
                    pattern: t.email_pattern,
                },
                Some(t.length),
            ),
            T::FragmentSms(t) => (CodeDelivery::Fragment { url: t.url }, Some(t.length)),
            T::FirebaseSms(t) => (CodeDelivery::Sms, Some(t.length)),
            T::SmsWord(_) => (CodeDelivery::Other("SMS word".into()), None),
            T::SmsPhrase(_) => (CodeDelivery::Other("SMS phrase".into()), None),
            T::SetUpEmailRequired(_) => (CodeDelivery::Other("email set-up".into()), None),
        };
        let next = sent.next_type.map(|t| {
            use tl::enums::auth::CodeType as C;
            match t {
                C::Sms => CodeDelivery::Sms,
                C::Call => CodeDelivery::Call,
                C::FlashCall => CodeDelivery::FlashCall,
                C::MissedCall => CodeDelivery::MissedCall,
                C::FragmentSms => CodeDelivery::Fragment { url: String::new() },
            }
        });
        CodeSent {
            delivery,
            length: length.and_then(|l| u32::try_from(l).ok()),
            next,
            timeout: sent.timeout.and_then(|t| u32::try_from(t).ok()),
            phone_code_hash: sent.phone_code_hash,
        }
    }
}

impl CodeSent {
    /// A code sent as described, without Telegram's hash (for scripted services in tests).
    pub fn described(
        delivery: CodeDelivery,
        length: Option<u32>,
        next: Option<CodeDelivery>,
        timeout: Option<u32>,
    ) -> CodeSent {
        CodeSent {
            delivery,
            length,
            next,
            timeout,
            phone_code_hash: String::new(),
        }
    }
}

/// The account's 2FA state as plain data (no SRP challenge in it).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PasswordInfo {
    pub has_password: bool,
    pub hint: Option<String>,
    pub has_recovery_email: bool,
    /// A recovery email waiting for its code (pattern like `a***@example.com`).
    pub email_unconfirmed: Option<String>,
}

/// The answer of `account.getPassword`: the account's 2FA state and a one-time SRP challenge.
#[derive(Clone)]
pub struct PasswordChallenge(pub(crate) Box<tl::types::account::Password>);

impl PasswordChallenge {
    pub(crate) fn new(password: tl::types::account::Password) -> Self {
        Self(Box::new(password))
    }
}

impl PasswordChallenge {
    pub fn has_password(&self) -> bool {
        self.0.has_password
    }

    pub fn hint(&self) -> Option<&str> {
        self.0.hint.as_deref().filter(|h| !h.is_empty())
    }

    pub fn has_recovery(&self) -> bool {
        self.0.has_recovery
    }

    /// A recovery email waiting for confirmation (pattern like `a***@b.c`).
    pub fn email_unconfirmed_pattern(&self) -> Option<&str> {
        self.0.email_unconfirmed_pattern.as_deref()
    }

    pub fn info(&self) -> PasswordInfo {
        PasswordInfo {
            has_password: self.has_password(),
            hint: self.hint().map(str::to_string),
            has_recovery_email: self.has_recovery(),
            email_unconfirmed: self.email_unconfirmed_pattern().map(str::to_string),
        }
    }
}

impl std::fmt::Debug for PasswordChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // secure_random is used as the SRP secret: never print the raw answer.
        f.debug_struct("PasswordChallenge")
            .field("has_password", &self.0.has_password)
            .field("hint", &self.0.hint)
            .finish_non_exhaustive()
    }
}

impl PartialEq for PasswordChallenge {
    fn eq(&self, other: &Self) -> bool {
        self.0.srp_id == other.0.srp_id && self.0.has_password == other.0.has_password
    }
}

/// One logged-in device, from `account.getAuthorizations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Device {
    /// Pass to `terminate`; 0 is the current session.
    pub hash: i64,
    pub current: bool,
    pub device_model: String,
    pub platform: String,
    pub system_version: String,
    pub api_id: i32,
    pub app_name: String,
    pub app_version: String,
    pub date_created: i32,
    pub date_active: i32,
    pub ip: String,
    pub country: String,
}

impl Device {
    pub(crate) fn from_tl(a: tl::enums::Authorization) -> Device {
        let tl::enums::Authorization::Authorization(a) = a;
        Device {
            hash: a.hash,
            current: a.current,
            device_model: a.device_model,
            platform: a.platform,
            system_version: a.system_version,
            api_id: a.api_id,
            app_name: a.app_name,
            app_version: a.app_version,
            date_created: a.date_created,
            date_active: a.date_active,
            ip: a.ip,
            country: a.country,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sent_code_keeps_delivery_length_next_and_timeout() {
        let sent = tl::types::auth::SentCode {
            r#type: tl::types::auth::SentCodeTypeApp { length: 5 }.into(),
            phone_code_hash: "h".into(),
            next_type: Some(tl::enums::auth::CodeType::Sms),
            timeout: Some(30),
        };
        let got = CodeSent::from_tl(sent);
        assert_eq!(got.delivery, CodeDelivery::App);
        assert_eq!(got.length, Some(5));
        assert_eq!(got.next, Some(CodeDelivery::Sms));
        assert_eq!(got.timeout, Some(30));
    }

    #[test]
    fn display_prefers_name_and_username() {
        let mut me = Me {
            user_id: 7,
            first_name: Some("Ada".into()),
            last_name: None,
            username: Some("ada".into()),
            phone: None,
            is_bot: false,
            access_hash: None,
        };
        assert_eq!(me.display(), "Ada (@ada)");
        me.first_name = None;
        me.username = None;
        assert_eq!(me.display(), "user 7");
    }
}
