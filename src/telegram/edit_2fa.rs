//! Enabling, changing and disabling the 2FA password (Telethon's `edit_2fa`) as a pure state
//! machine. A recovery email that needs confirming (EMAIL_UNCONFIRMED_X) asks for the emailed
//! code, then `account.confirmPasswordEmail`; the change takes effect once confirmed.

use super::error::TgError;
use super::password::NewPassword;
use super::types::PasswordChallenge;
use crate::secret::SecretString;

/// The change the user wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordChange {
    Enable {
        new: SecretString,
        hint: Option<String>,
        email: Option<String>,
    },
    Change {
        current: SecretString,
        new: SecretString,
        hint: Option<String>,
        email: Option<String>,
    },
    Disable {
        current: SecretString,
    },
}

impl PasswordChange {
    fn current(&self) -> Option<&SecretString> {
        match self {
            PasswordChange::Enable { .. } => None,
            PasswordChange::Change { current, .. } | PasswordChange::Disable { current } => {
                Some(current)
            }
        }
    }

    fn target(&self) -> NewPassword {
        match self {
            PasswordChange::Enable { new, hint, email }
            | PasswordChange::Change {
                new, hint, email, ..
            } => NewPassword::Set {
                password: new.clone(),
                hint: hint.clone(),
                email: email.clone(),
            },
            PasswordChange::Disable { .. } => NewPassword::Remove,
        }
    }
}

#[derive(Debug)]
pub enum Edit2faEvent {
    Start(PasswordChange),
    PasswordChallenge(PasswordChallenge),
    /// updatePasswordSettings (or confirmPasswordEmail) succeeded.
    Updated,
    /// EMAIL_UNCONFIRMED_X: a code of `code_length` digits was emailed.
    EmailUnconfirmed {
        code_length: u32,
    },
    EmailCodeEntered(SecretString),
    ResendEmailRequested,
    EmailResent,
    Failed(TgError),
}

#[derive(Debug, PartialEq)]
pub enum Edit2faEffect {
    GetPassword,
    /// account.updatePasswordSettings: prove `current` against `challenge`, set `new`.
    UpdateSettings {
        challenge: PasswordChallenge,
        current: Option<SecretString>,
        new: NewPassword,
    },
    ConfirmEmail(SecretString),
    ResendEmail,
    Ask(EmailCodePrompt),
    Done,
    Fail(TgError),
}

#[derive(Debug)]
pub struct EmailCodePrompt {
    pub code_length: u32,
    pub error: Option<TgError>,
}

impl PartialEq for EmailCodePrompt {
    fn eq(&self, other: &Self) -> bool {
        self.code_length == other.code_length
            && self.error.as_ref().map(ToString::to_string)
                == other.error.as_ref().map(ToString::to_string)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit2faState {
    Idle,
    Fetching,
    Updating,
    AwaitingEmailCode,
    Confirming,
    Resending,
    Done,
    Failed,
}

#[derive(Debug)]
pub struct Edit2fa {
    state: Edit2faState,
    change: Option<PasswordChange>,
    code_length: u32,
}

impl Default for Edit2fa {
    fn default() -> Self {
        Self::new()
    }
}

impl Edit2fa {
    pub fn new() -> Self {
        Self {
            state: Edit2faState::Idle,
            change: None,
            code_length: 0,
        }
    }

    pub fn state(&self) -> Edit2faState {
        self.state
    }

    pub fn on(&mut self, event: Edit2faEvent) -> Vec<Edit2faEffect> {
        use Edit2faEvent as E;
        use Edit2faState as S;
        match (self.state, event) {
            (S::Idle, E::Start(change)) => {
                if let PasswordChange::Enable { new, .. } | PasswordChange::Change { new, .. } =
                    &change
                    && new.is_empty()
                {
                    return self.fail(TgError::PasswordState("the new password is empty"));
                }
                self.change = Some(change);
                self.state = S::Fetching;
                vec![Edit2faEffect::GetPassword]
            }
            (S::Fetching, E::PasswordChallenge(challenge)) => {
                let Some(change) = &self.change else {
                    return Vec::new();
                };
                match (change, challenge.has_password()) {
                    (PasswordChange::Enable { .. }, true) => {
                        return self.fail(TgError::PasswordState(
                            "the account already has a 2FA password; use `change`",
                        ));
                    }
                    (PasswordChange::Change { .. } | PasswordChange::Disable { .. }, false) => {
                        return self.fail(TgError::PasswordState(
                            "the account has no 2FA password; use `enable`",
                        ));
                    }
                    _ => {}
                }
                let effect = Edit2faEffect::UpdateSettings {
                    challenge,
                    current: change.current().cloned(),
                    new: change.target(),
                };
                self.state = S::Updating;
                vec![effect]
            }
            (S::Updating | S::Confirming, E::Updated) => {
                self.state = S::Done;
                self.change = None;
                vec![Edit2faEffect::Done]
            }
            (S::Updating, E::EmailUnconfirmed { code_length }) => {
                self.code_length = code_length;
                self.state = S::AwaitingEmailCode;
                self.ask(None)
            }
            (S::AwaitingEmailCode, E::EmailCodeEntered(code)) => {
                let code = SecretString::new(code.reveal().trim());
                if code.is_empty() {
                    return self.ask(Some(TgError::InvalidCode));
                }
                self.state = S::Confirming;
                vec![Edit2faEffect::ConfirmEmail(code)]
            }
            (S::AwaitingEmailCode, E::ResendEmailRequested) => {
                self.state = S::Resending;
                vec![Edit2faEffect::ResendEmail]
            }
            (S::Resending, E::EmailResent) => {
                self.state = S::AwaitingEmailCode;
                self.ask(None)
            }
            (S::Confirming | S::Resending, E::Failed(e)) if is_code_error(&e) => {
                self.state = S::AwaitingEmailCode;
                self.ask(Some(e))
            }
            (S::Fetching | S::Updating | S::Confirming | S::Resending, E::Failed(e)) => {
                self.fail(e)
            }
            _ => Vec::new(),
        }
    }

    fn ask(&self, error: Option<TgError>) -> Vec<Edit2faEffect> {
        vec![Edit2faEffect::Ask(EmailCodePrompt {
            code_length: self.code_length,
            error,
        })]
    }

    fn fail(&mut self, error: TgError) -> Vec<Edit2faEffect> {
        self.state = Edit2faState::Failed;
        self.change = None;
        vec![Edit2faEffect::Fail(error)]
    }
}

fn is_code_error(e: &TgError) -> bool {
    matches!(e, TgError::InvalidCode | TgError::CodeExpired)
        || e.is_rpc("CODE_INVALID")
        || e.is_rpc("EMAIL_HASH_EXPIRED")
}

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_tl_types as tl;

    fn challenge(has_password: bool) -> PasswordChallenge {
        PasswordChallenge::new(tl::types::account::Password {
            has_recovery: false,
            has_secure_values: false,
            has_password,
            current_algo: None,
            srp_b: None,
            srp_id: Some(5),
            hint: None,
            email_unconfirmed_pattern: None,
            new_algo: tl::enums::PasswordKdfAlgo::Unknown,
            new_secure_algo: tl::enums::SecurePasswordKdfAlgo::Unknown,
            secure_random: vec![1; 256],
            pending_reset_date: None,
            login_email_pattern: None,
        })
    }

    fn enable() -> PasswordChange {
        PasswordChange::Enable {
            new: SecretString::new("new"),
            hint: Some("h".into()),
            email: Some("a@b.c".into()),
        }
    }

    #[test]
    fn enable_without_password_updates_with_no_current() {
        let mut m = Edit2fa::new();
        assert_eq!(
            m.on(Edit2faEvent::Start(enable())),
            vec![Edit2faEffect::GetPassword]
        );
        let effects = m.on(Edit2faEvent::PasswordChallenge(challenge(false)));
        assert!(matches!(
            &effects[..],
            [Edit2faEffect::UpdateSettings { current: None, new: NewPassword::Set { hint: Some(h), .. }, .. }] if h == "h"
        ));
        assert_eq!(m.on(Edit2faEvent::Updated), vec![Edit2faEffect::Done]);
    }

    #[test]
    fn enable_when_set_and_change_when_unset_are_refused() {
        let mut m = Edit2fa::new();
        m.on(Edit2faEvent::Start(enable()));
        let effects = m.on(Edit2faEvent::PasswordChallenge(challenge(true)));
        assert!(matches!(
            &effects[..],
            [Edit2faEffect::Fail(TgError::PasswordState(_))]
        ));
        let mut m = Edit2fa::new();
        m.on(Edit2faEvent::Start(PasswordChange::Disable {
            current: SecretString::new("x"),
        }));
        let effects = m.on(Edit2faEvent::PasswordChallenge(challenge(false)));
        assert!(matches!(
            &effects[..],
            [Edit2faEffect::Fail(TgError::PasswordState(_))]
        ));
    }

    #[test]
    fn disable_proves_current_and_removes() {
        let mut m = Edit2fa::new();
        m.on(Edit2faEvent::Start(PasswordChange::Disable {
            current: SecretString::new("old"),
        }));
        let effects = m.on(Edit2faEvent::PasswordChallenge(challenge(true)));
        assert!(matches!(
            &effects[..],
            [Edit2faEffect::UpdateSettings { current: Some(c), new: NewPassword::Remove, .. }] if c.reveal() == "old"
        ));
    }

    #[test]
    fn unconfirmed_email_asks_code_retries_and_resends() {
        let mut m = Edit2fa::new();
        m.on(Edit2faEvent::Start(enable()));
        m.on(Edit2faEvent::PasswordChallenge(challenge(false)));
        assert_eq!(
            m.on(Edit2faEvent::EmailUnconfirmed { code_length: 6 }),
            vec![Edit2faEffect::Ask(EmailCodePrompt {
                code_length: 6,
                error: None
            })]
        );
        assert_eq!(
            m.on(Edit2faEvent::EmailCodeEntered(SecretString::new("000000"))),
            vec![Edit2faEffect::ConfirmEmail(SecretString::new("000000"))]
        );
        let effects = m.on(Edit2faEvent::Failed(TgError::Rpc {
            code: 400,
            name: "CODE_INVALID".into(),
            value: None,
        }));
        assert!(matches!(
            &effects[..],
            [Edit2faEffect::Ask(EmailCodePrompt { error: Some(_), .. })]
        ));
        assert_eq!(
            m.on(Edit2faEvent::ResendEmailRequested),
            vec![Edit2faEffect::ResendEmail]
        );
        assert!(matches!(
            &m.on(Edit2faEvent::EmailResent)[..],
            [Edit2faEffect::Ask(_)]
        ));
        m.on(Edit2faEvent::EmailCodeEntered(SecretString::new("123456")));
        assert_eq!(m.on(Edit2faEvent::Updated), vec![Edit2faEffect::Done]);
    }

    #[test]
    fn wrong_current_password_fails_typed() {
        let mut m = Edit2fa::new();
        m.on(Edit2faEvent::Start(PasswordChange::Disable {
            current: SecretString::new("bad"),
        }));
        m.on(Edit2faEvent::PasswordChallenge(challenge(true)));
        let effects = m.on(Edit2faEvent::Failed(TgError::InvalidPassword));
        assert!(matches!(
            &effects[..],
            [Edit2faEffect::Fail(TgError::InvalidPassword)]
        ));
    }
}
