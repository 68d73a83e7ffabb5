//! Phone-number login as a pure state machine: events in, effects out, no I/O. The driver in
//! `flows.rs` performs the I/O effects and feeds their results back as events; `Ask`, `Done`
//! and `Fail` go to the caller (CLI prompts, TUI panes, tests).

use super::error::TgError;
use super::two_step::{PasswordPrompt, RecoveryPrompt, TwoStep, TwoStepAction};
use super::types::{CodeSent, Me, PasswordChallenge};
use crate::secret::SecretString;

/// How many DC migrations one login follows before giving up (Telegram needs at most one).
const MAX_MIGRATIONS: u8 = 2;

#[derive(Debug)]
pub enum PhoneEvent {
    /// The user gave the phone number.
    Start { phone: String },
    /// sendCode or resendCode answered.
    CodeSent(CodeSent),
    /// sendCode answered PHONE_MIGRATE_X.
    Migrate { dc_id: i32 },
    /// The user typed the code.
    CodeEntered(SecretString),
    /// The user asked for the code again (the next delivery type, e.g. SMS).
    ResendRequested,
    /// signIn answered that the number has no account.
    SignUpRequired,
    /// The user gave the names for a new account.
    NamesEntered {
        first_name: String,
        last_name: String,
    },
    /// signIn (or signUp) answered SESSION_PASSWORD_NEEDED.
    PasswordRequired,
    /// getPassword answered.
    PasswordChallenge(PasswordChallenge),
    /// The user typed the 2FA password.
    PasswordEntered(SecretString),
    /// The user forgot the 2FA password and wants a recovery code by email.
    RecoveryRequested,
    /// requestPasswordRecovery answered: a code went to this address.
    RecoveryCodeSent { email_pattern: String },
    /// The user typed the emailed recovery code.
    RecoveryCodeEntered(SecretString),
    /// A login call succeeded (also sentCodeSuccess).
    LoggedIn(Me),
    /// The last I/O effect failed.
    Failed(TgError),
}

#[derive(Debug, PartialEq)]
pub enum PhoneEffect {
    SendCode {
        phone: String,
    },
    /// Make `dc_id` the home DC (after PHONE_MIGRATE); the next effect retries there.
    SwitchDc {
        dc_id: i32,
    },
    ResendCode {
        phone: String,
        phone_code_hash: String,
    },
    SignIn {
        phone: String,
        phone_code_hash: String,
        code: SecretString,
    },
    SignUp {
        phone: String,
        phone_code_hash: String,
        first_name: String,
        last_name: String,
    },
    GetPassword,
    CheckPassword {
        challenge: PasswordChallenge,
        password: SecretString,
    },
    RequestRecovery,
    /// auth.recoverPassword: removes the 2FA password and logs in.
    Recover {
        code: SecretString,
    },
    /// Wait for the user.
    Ask(PhonePrompt),
    Done(Me),
    Fail(TgError),
}

/// What the caller must ask the user.
#[derive(Debug, PartialEq)]
pub enum PhonePrompt {
    /// The login code (`ResendRequested` asks for another one).
    Code {
        sent: CodeSent,
        error: Option<PromptError>,
    },
    /// First and last name for a new account.
    Names { error: Option<PromptError> },
    /// The 2FA password.
    Password(PasswordPrompt),
    /// The code emailed for a forgotten password.
    RecoveryCode(RecoveryPrompt),
}

/// Why a prompt is asked again. Kept as the typed error.
#[derive(Debug)]
pub struct PromptError(pub TgError);

impl PartialEq for PromptError {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneState {
    Idle,
    SendingCode,
    AwaitingCode,
    Resending,
    SigningIn,
    AwaitingNames,
    SigningUp,
    Password,
    CheckingPassword,
    /// Resetting a forgotten 2FA password by email.
    Recovery,
    Done,
    Failed,
}

/// The phone login machine.
#[derive(Debug)]
pub struct PhoneLogin {
    state: PhoneState,
    phone: String,
    sent: Option<CodeSent>,
    migrations: u8,
    two_step: TwoStep,
}

impl Default for PhoneLogin {
    fn default() -> Self {
        Self::new()
    }
}

impl PhoneLogin {
    pub fn new() -> Self {
        Self {
            state: PhoneState::Idle,
            phone: String::new(),
            sent: None,
            migrations: 0,
            two_step: TwoStep::default(),
        }
    }

    pub fn state(&self) -> PhoneState {
        self.state
    }

    /// How the current code was sent, once known.
    pub fn code_sent(&self) -> Option<&CodeSent> {
        self.sent.as_ref()
    }

    /// Feeds one event; returns the effects to perform, in order. An event the current state
    /// does not expect returns no effect and changes nothing.
    pub fn on(&mut self, event: PhoneEvent) -> Vec<PhoneEffect> {
        use PhoneEvent as E;
        use PhoneState as S;
        match (self.state, event) {
            (S::Idle, E::Start { phone }) => {
                let phone = normalize_phone(&phone);
                if phone.len() < 2 {
                    return self.fail(TgError::PhoneInvalid);
                }
                self.phone = phone.clone();
                self.state = S::SendingCode;
                vec![PhoneEffect::SendCode { phone }]
            }
            (S::SendingCode, E::Migrate { dc_id }) => {
                if self.migrations >= MAX_MIGRATIONS {
                    return self.fail(TgError::unexpected(
                        "Telegram keeps moving the number between DCs",
                    ));
                }
                self.migrations += 1;
                vec![
                    PhoneEffect::SwitchDc { dc_id },
                    PhoneEffect::SendCode {
                        phone: self.phone.clone(),
                    },
                ]
            }
            (S::SendingCode | S::Resending, E::CodeSent(sent)) => {
                self.sent = Some(sent.clone());
                self.state = S::AwaitingCode;
                vec![PhoneEffect::Ask(PhonePrompt::Code { sent, error: None })]
            }
            (S::Resending, E::Failed(error)) => {
                // The old code still works: say why no new one came and ask again.
                self.state = S::AwaitingCode;
                self.ask_code(Some(error))
            }
            (S::AwaitingCode, E::CodeEntered(code)) => {
                let Some(sent) = &self.sent else {
                    return Vec::new();
                };
                let code = SecretString::new(code.reveal().trim());
                if code.is_empty() {
                    return self.ask_code(Some(TgError::InvalidCode));
                }
                self.state = S::SigningIn;
                vec![PhoneEffect::SignIn {
                    phone: self.phone.clone(),
                    phone_code_hash: sent.phone_code_hash.clone(),
                    code,
                }]
            }
            (S::AwaitingCode, E::ResendRequested) => {
                let Some(sent) = &self.sent else {
                    return Vec::new();
                };
                self.state = S::Resending;
                vec![PhoneEffect::ResendCode {
                    phone: self.phone.clone(),
                    phone_code_hash: sent.phone_code_hash.clone(),
                }]
            }
            (S::SigningIn, E::Failed(e @ (TgError::InvalidCode | TgError::CodeExpired))) => {
                self.state = S::AwaitingCode;
                self.ask_code(Some(e))
            }
            (S::SigningIn, E::SignUpRequired) => {
                self.state = S::AwaitingNames;
                vec![PhoneEffect::Ask(PhonePrompt::Names { error: None })]
            }
            (
                S::AwaitingNames,
                E::NamesEntered {
                    first_name,
                    last_name,
                },
            ) => {
                let first_name = first_name.trim().to_string();
                if first_name.is_empty() {
                    return vec![PhoneEffect::Ask(PhonePrompt::Names {
                        error: Some(PromptError(TgError::FirstNameInvalid)),
                    })];
                }
                let Some(sent) = &self.sent else {
                    return Vec::new();
                };
                self.state = S::SigningUp;
                vec![PhoneEffect::SignUp {
                    phone: self.phone.clone(),
                    phone_code_hash: sent.phone_code_hash.clone(),
                    first_name,
                    last_name: last_name.trim().to_string(),
                }]
            }
            (
                S::SigningUp,
                E::Failed(e @ (TgError::FirstNameInvalid | TgError::LastNameInvalid)),
            ) => {
                self.state = S::AwaitingNames;
                vec![PhoneEffect::Ask(PhonePrompt::Names {
                    error: Some(PromptError(e)),
                })]
            }
            (S::SigningUp, E::Failed(TgError::Rpc { .. } | TgError::SignUpRefused)) => {
                // Telegram refuses sign-up from third-party apps with various errors.
                self.fail(TgError::SignUpRefused)
            }
            (S::SigningIn | S::SigningUp, E::PasswordRequired) => {
                self.state = S::Password;
                let action = self.two_step.required();
                self.two_step_effects(action)
            }
            (S::Password | S::CheckingPassword, E::PasswordChallenge(challenge)) => {
                let action = self.two_step.challenge(challenge);
                self.two_step_effects(action)
            }
            (S::Password | S::Recovery, E::PasswordEntered(password)) => {
                let action = self.two_step.entered(password);
                self.two_step_effects(action)
            }
            (S::Password, E::RecoveryRequested) => {
                let action = self.two_step.recovery_requested();
                self.two_step_effects(action)
            }
            (S::Recovery, E::RecoveryCodeSent { email_pattern }) => {
                let action = self.two_step.recovery_sent(email_pattern);
                self.two_step_effects(action)
            }
            (S::Recovery, E::RecoveryCodeEntered(code)) => {
                let action = self.two_step.recovery_code(code);
                self.two_step_effects(action)
            }
            (S::Recovery, E::Failed(e)) if !matches!(e, TgError::FloodWait { .. }) => {
                let action = self.two_step.recovery_failed(e);
                self.two_step_effects(action)
            }
            (S::CheckingPassword, E::Failed(e @ TgError::InvalidPassword)) => {
                self.state = S::Password;
                let action = self.two_step.wrong_password(e);
                self.two_step_effects(action)
            }
            (
                S::SendingCode | S::SigningIn | S::SigningUp | S::CheckingPassword | S::Recovery,
                E::LoggedIn(me),
            ) => {
                self.state = S::Done;
                vec![PhoneEffect::Done(me)]
            }
            (
                S::SendingCode
                | S::SigningIn
                | S::SigningUp
                | S::Password
                | S::CheckingPassword
                | S::Recovery,
                E::Failed(error),
            ) => self.fail(error),
            _ => Vec::new(),
        }
    }

    fn ask_code(&self, error: Option<TgError>) -> Vec<PhoneEffect> {
        match &self.sent {
            Some(sent) => vec![PhoneEffect::Ask(PhonePrompt::Code {
                sent: sent.clone(),
                error: error.map(PromptError),
            })],
            None => Vec::new(),
        }
    }

    fn two_step_effects(&mut self, action: TwoStepAction) -> Vec<PhoneEffect> {
        match action {
            TwoStepAction::GetPassword => {
                self.state = PhoneState::Password;
                vec![PhoneEffect::GetPassword]
            }
            TwoStepAction::RequestRecovery => {
                self.state = PhoneState::Recovery;
                vec![PhoneEffect::RequestRecovery]
            }
            TwoStepAction::Recover { code } => {
                self.state = PhoneState::Recovery;
                vec![PhoneEffect::Recover { code }]
            }
            TwoStepAction::AskRecoveryCode(prompt) => {
                self.state = PhoneState::Recovery;
                vec![PhoneEffect::Ask(PhonePrompt::RecoveryCode(prompt))]
            }
            TwoStepAction::Check {
                challenge,
                password,
            } => {
                self.state = PhoneState::CheckingPassword;
                vec![PhoneEffect::CheckPassword {
                    challenge,
                    password,
                }]
            }
            TwoStepAction::Ask(prompt) => {
                self.state = PhoneState::Password;
                vec![PhoneEffect::Ask(PhonePrompt::Password(prompt))]
            }
        }
    }

    fn fail(&mut self, error: TgError) -> Vec<PhoneEffect> {
        self.state = PhoneState::Failed;
        vec![PhoneEffect::Fail(error)]
    }
}

/// The digits of a phone number as Telegram wants them (no `+`, spaces, dashes or brackets).
pub fn normalize_phone(phone: &str) -> String {
    let trimmed = phone.trim();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return String::new();
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::types::CodeDelivery;
    use grammers_tl_types as tl;

    fn sent(hash: &str, delivery: CodeDelivery) -> CodeSent {
        CodeSent {
            delivery,
            length: Some(5),
            next: Some(CodeDelivery::Sms),
            timeout: Some(60),
            phone_code_hash: hash.into(),
        }
    }

    fn me() -> Me {
        Me {
            user_id: 42,
            first_name: Some("Ada".into()),
            last_name: None,
            username: None,
            phone: Some("9996621111".into()),
            is_bot: false,
            access_hash: Some(1),
        }
    }

    fn challenge(srp_id: i64) -> PasswordChallenge {
        PasswordChallenge::new(tl::types::account::Password {
            has_recovery: false,
            has_secure_values: false,
            has_password: true,
            current_algo: None,
            srp_b: None,
            srp_id: Some(srp_id),
            hint: Some("the usual".into()),
            email_unconfirmed_pattern: None,
            new_algo: tl::enums::PasswordKdfAlgo::Unknown,
            new_secure_algo: tl::enums::SecurePasswordKdfAlgo::Unknown,
            secure_random: vec![1; 256],
            pending_reset_date: None,
            login_email_pattern: None,
        })
    }

    fn started() -> PhoneLogin {
        let mut m = PhoneLogin::new();
        assert_eq!(
            m.on(PhoneEvent::Start {
                phone: "+999 66-2 1111".into()
            }),
            vec![PhoneEffect::SendCode {
                phone: "9996621111".into()
            }]
        );
        m
    }

    fn awaiting_code() -> PhoneLogin {
        let mut m = started();
        let effects = m.on(PhoneEvent::CodeSent(sent("h1", CodeDelivery::App)));
        assert!(matches!(
            &effects[..],
            [PhoneEffect::Ask(PhonePrompt::Code { error: None, .. })]
        ));
        m
    }

    #[test]
    fn plain_login_sends_code_signs_in_and_finishes() {
        let mut m = awaiting_code();
        let effects = m.on(PhoneEvent::CodeEntered(SecretString::new(" 22222 ")));
        assert_eq!(
            effects,
            vec![PhoneEffect::SignIn {
                phone: "9996621111".into(),
                phone_code_hash: "h1".into(),
                code: SecretString::new("22222"),
            }]
        );
        assert_eq!(
            m.on(PhoneEvent::LoggedIn(me())),
            vec![PhoneEffect::Done(me())]
        );
        assert_eq!(m.state(), PhoneState::Done);
    }

    #[test]
    fn migration_switches_dc_and_sends_again_but_not_forever() {
        let mut m = started();
        assert_eq!(
            m.on(PhoneEvent::Migrate { dc_id: 4 }),
            vec![
                PhoneEffect::SwitchDc { dc_id: 4 },
                PhoneEffect::SendCode {
                    phone: "9996621111".into()
                }
            ]
        );
        m.on(PhoneEvent::Migrate { dc_id: 5 });
        let effects = m.on(PhoneEvent::Migrate { dc_id: 4 });
        assert!(matches!(
            &effects[..],
            [PhoneEffect::Fail(TgError::Unexpected(_))]
        ));
    }

    #[test]
    fn sent_code_success_logs_in_at_once() {
        let mut m = started();
        assert_eq!(
            m.on(PhoneEvent::LoggedIn(me())),
            vec![PhoneEffect::Done(me())]
        );
    }

    #[test]
    fn wrong_code_asks_again_with_the_typed_error() {
        let mut m = awaiting_code();
        m.on(PhoneEvent::CodeEntered(SecretString::new("1")));
        let effects = m.on(PhoneEvent::Failed(TgError::InvalidCode));
        assert!(matches!(
            &effects[..],
            [PhoneEffect::Ask(PhonePrompt::Code {
                error: Some(PromptError(TgError::InvalidCode)),
                ..
            })]
        ));
        assert_eq!(m.state(), PhoneState::AwaitingCode);
    }

    #[test]
    fn resend_uses_the_hash_and_keeps_the_new_delivery() {
        let mut m = awaiting_code();
        assert_eq!(
            m.on(PhoneEvent::ResendRequested),
            vec![PhoneEffect::ResendCode {
                phone: "9996621111".into(),
                phone_code_hash: "h1".into()
            }]
        );
        m.on(PhoneEvent::CodeSent(sent("h2", CodeDelivery::Sms)));
        assert_eq!(m.code_sent().unwrap().delivery, CodeDelivery::Sms);
        let effects = m.on(PhoneEvent::CodeEntered(SecretString::new("22222")));
        assert!(
            matches!(&effects[..], [PhoneEffect::SignIn { phone_code_hash, .. }] if phone_code_hash == "h2")
        );
    }

    #[test]
    fn failed_resend_keeps_the_old_code_usable() {
        let mut m = awaiting_code();
        m.on(PhoneEvent::ResendRequested);
        let effects = m.on(PhoneEvent::Failed(TgError::FloodWait { seconds: 100 }));
        assert!(matches!(
            &effects[..],
            [PhoneEffect::Ask(PhonePrompt::Code {
                error: Some(PromptError(TgError::FloodWait { seconds: 100 })),
                ..
            })]
        ));
    }

    #[test]
    fn sign_up_asks_names_and_retries_on_invalid_first_name() {
        let mut m = awaiting_code();
        m.on(PhoneEvent::CodeEntered(SecretString::new("77777")));
        assert_eq!(
            m.on(PhoneEvent::SignUpRequired),
            vec![PhoneEffect::Ask(PhonePrompt::Names { error: None })]
        );
        let effects = m.on(PhoneEvent::NamesEntered {
            first_name: "  ".into(),
            last_name: "".into(),
        });
        assert!(matches!(
            &effects[..],
            [PhoneEffect::Ask(PhonePrompt::Names { error: Some(_) })]
        ));
        let effects = m.on(PhoneEvent::NamesEntered {
            first_name: "Grace".into(),
            last_name: "Hopper".into(),
        });
        assert!(
            matches!(&effects[..], [PhoneEffect::SignUp { first_name, .. }] if first_name == "Grace")
        );
        let effects = m.on(PhoneEvent::Failed(TgError::FirstNameInvalid));
        assert!(matches!(
            &effects[..],
            [PhoneEffect::Ask(PhonePrompt::Names {
                error: Some(PromptError(TgError::FirstNameInvalid))
            })]
        ));
    }

    #[test]
    fn sign_up_refused_by_the_server_is_reported_as_such() {
        let mut m = awaiting_code();
        m.on(PhoneEvent::CodeEntered(SecretString::new("77777")));
        m.on(PhoneEvent::SignUpRequired);
        m.on(PhoneEvent::NamesEntered {
            first_name: "A".into(),
            last_name: "".into(),
        });
        let effects = m.on(PhoneEvent::Failed(TgError::Rpc {
            code: 400,
            name: "PHONE_NUMBER_INVALID".into(),
            value: None,
        }));
        assert!(matches!(
            &effects[..],
            [PhoneEffect::Fail(TgError::SignUpRefused)]
        ));
    }

    #[test]
    fn two_step_asks_password_with_hint_and_refetches_after_a_wrong_one() {
        let mut m = awaiting_code();
        m.on(PhoneEvent::CodeEntered(SecretString::new("22222")));
        assert_eq!(
            m.on(PhoneEvent::PasswordRequired),
            vec![PhoneEffect::GetPassword]
        );
        let effects = m.on(PhoneEvent::PasswordChallenge(challenge(1)));
        assert!(matches!(
            &effects[..],
            [PhoneEffect::Ask(PhonePrompt::Password(PasswordPrompt { hint: Some(h), error: None, failed_attempts: 0 }))] if h == "the usual"
        ));
        let effects = m.on(PhoneEvent::PasswordEntered(SecretString::new("wrong")));
        assert!(
            matches!(&effects[..], [PhoneEffect::CheckPassword { challenge, .. }] if *challenge == self::challenge(1))
        );
        let effects = m.on(PhoneEvent::Failed(TgError::InvalidPassword));
        assert!(matches!(
            &effects[..],
            [PhoneEffect::Ask(PhonePrompt::Password(PasswordPrompt {
                error: Some(TgError::InvalidPassword),
                failed_attempts: 1,
                ..
            }))]
        ));
        // The used challenge is gone: the next password first fetches a new one.
        assert_eq!(
            m.on(PhoneEvent::PasswordEntered(SecretString::new("sandbox"))),
            vec![PhoneEffect::GetPassword]
        );
        let effects = m.on(PhoneEvent::PasswordChallenge(challenge(2)));
        assert!(matches!(
            &effects[..],
            [PhoneEffect::CheckPassword { challenge, password }] if *challenge == self::challenge(2) && password.reveal() == "sandbox"
        ));
        assert_eq!(
            m.on(PhoneEvent::LoggedIn(me())),
            vec![PhoneEffect::Done(me())]
        );
    }

    fn at_password_prompt() -> PhoneLogin {
        let mut m = awaiting_code();
        m.on(PhoneEvent::CodeEntered(SecretString::new("22222")));
        m.on(PhoneEvent::PasswordRequired);
        m.on(PhoneEvent::PasswordChallenge(challenge(1)));
        assert_eq!(m.state(), PhoneState::Password);
        m
    }

    #[test]
    fn forgotten_password_is_reset_with_the_emailed_code() {
        let mut m = at_password_prompt();
        assert_eq!(
            m.on(PhoneEvent::RecoveryRequested),
            vec![PhoneEffect::RequestRecovery]
        );
        let effects = m.on(PhoneEvent::RecoveryCodeSent {
            email_pattern: "b***@sandbox.invalid".into(),
        });
        assert!(matches!(
            &effects[..],
            [PhoneEffect::Ask(PhonePrompt::RecoveryCode(RecoveryPrompt { error: None, email_pattern }))] if email_pattern == "b***@sandbox.invalid"
        ));
        assert_eq!(
            m.on(PhoneEvent::RecoveryCodeEntered(SecretString::new(
                " 123456 "
            ))),
            vec![PhoneEffect::Recover {
                code: SecretString::new("123456")
            }]
        );
        let bad = || TgError::Rpc {
            code: 400,
            name: "CODE_INVALID".into(),
            value: None,
        };
        let effects = m.on(PhoneEvent::Failed(bad()));
        assert!(matches!(
            &effects[..],
            [PhoneEffect::Ask(PhonePrompt::RecoveryCode(RecoveryPrompt { error: Some(e), .. }))] if *e == bad()
        ));
        m.on(PhoneEvent::RecoveryCodeEntered(SecretString::new("654321")));
        assert_eq!(
            m.on(PhoneEvent::LoggedIn(me())),
            vec![PhoneEffect::Done(me())]
        );
    }

    #[test]
    fn recovery_without_an_email_goes_back_to_the_password() {
        let mut m = at_password_prompt();
        m.on(PhoneEvent::RecoveryRequested);
        let na = || TgError::Rpc {
            code: 400,
            name: "PASSWORD_RECOVERY_NA".into(),
            value: None,
        };
        let effects = m.on(PhoneEvent::Failed(na()));
        assert!(matches!(
            &effects[..],
            [PhoneEffect::Ask(PhonePrompt::Password(PasswordPrompt { error: Some(e), .. }))] if *e == na()
        ));
        assert_eq!(m.state(), PhoneState::Password);
        // The password can still be typed: a fresh challenge is fetched first.
        assert_eq!(
            m.on(PhoneEvent::PasswordEntered(SecretString::new("x"))),
            vec![PhoneEffect::CheckPassword {
                challenge: challenge(1),
                password: SecretString::new("x")
            }]
        );
    }

    #[test]
    fn fatal_errors_end_the_flow() {
        for error in [
            TgError::PhoneInvalid,
            TgError::PhoneBanned,
            TgError::FloodWait { seconds: 300 },
        ] {
            let mut m = started();
            let effects = m.on(PhoneEvent::Failed(error));
            assert!(matches!(&effects[..], [PhoneEffect::Fail(_)]));
            assert_eq!(m.state(), PhoneState::Failed);
        }
    }

    #[test]
    fn unexpected_events_change_nothing() {
        let mut m = started();
        assert!(
            m.on(PhoneEvent::CodeEntered(SecretString::new("1")))
                .is_empty()
        );
        assert!(
            m.on(PhoneEvent::PasswordEntered(SecretString::new("1")))
                .is_empty()
        );
        assert_eq!(m.state(), PhoneState::SendingCode);
    }

    #[test]
    fn empty_phone_is_invalid_before_any_request() {
        let mut m = PhoneLogin::new();
        let effects = m.on(PhoneEvent::Start {
            phone: " + ".into(),
        });
        assert!(matches!(
            &effects[..],
            [PhoneEffect::Fail(TgError::PhoneInvalid)]
        ));
    }

    #[test]
    fn debug_of_effects_never_shows_secrets() {
        let effect = PhoneEffect::SignIn {
            phone: "1".into(),
            phone_code_hash: "h".into(),
            code: SecretString::new("24680"),
        };
        assert!(!format!("{effect:?}").contains("24680"));
    }
}
