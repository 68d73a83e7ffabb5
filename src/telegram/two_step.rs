//! The 2FA step shared by the phone and QR logins: fetch the SRP challenge, ask for the
//! password, check it, and on a wrong password ask again with a fresh challenge (each
//! challenge is single-use on the server). A forgotten password can be reset through the
//! recovery email (Pyrogram's `send_recovery_code` / `recover_password`): Telegram emails a
//! code, and `auth.recoverPassword` removes the password and logs in.

use super::error::TgError;
use super::types::PasswordChallenge;
use crate::secret::SecretString;

/// What the login machine should do next for the 2FA step.
#[derive(Debug, PartialEq)]
pub enum TwoStepAction {
    GetPassword,
    Check {
        challenge: PasswordChallenge,
        password: SecretString,
    },
    Ask(PasswordPrompt),
    /// auth.requestPasswordRecovery
    RequestRecovery,
    /// auth.recoverPassword with the emailed code (removes the password).
    Recover {
        code: SecretString,
    },
    AskRecoveryCode(RecoveryPrompt),
}

/// Asking the user for the code emailed to the recovery address.
#[derive(Debug)]
pub struct RecoveryPrompt {
    /// The address, partly hidden (`a***@b.c`).
    pub email_pattern: String,
    pub error: Option<TgError>,
}

impl PartialEq for RecoveryPrompt {
    fn eq(&self, other: &Self) -> bool {
        self.email_pattern == other.email_pattern && self.error == other.error
    }
}

/// Asking the user for the 2FA password.
#[derive(Debug)]
pub struct PasswordPrompt {
    pub hint: Option<String>,
    /// Why the last attempt failed (e.g. [`TgError::InvalidPassword`]).
    pub error: Option<TgError>,
    /// Wrong passwords so far.
    pub failed_attempts: u32,
}

impl PartialEq for PasswordPrompt {
    fn eq(&self, other: &Self) -> bool {
        self.hint == other.hint
            && self.failed_attempts == other.failed_attempts
            && self.error.as_ref().map(|e| e.to_string())
                == other.error.as_ref().map(|e| e.to_string())
    }
}

#[derive(Debug, Default)]
pub(crate) struct TwoStep {
    challenge: Option<PasswordChallenge>,
    hint: Option<String>,
    pending: Option<SecretString>,
    failed_attempts: u32,
    /// Set once a recovery code was emailed.
    email_pattern: Option<String>,
}

impl TwoStep {
    /// The server said SESSION_PASSWORD_NEEDED.
    pub fn required(&mut self) -> TwoStepAction {
        TwoStepAction::GetPassword
    }

    pub fn challenge(&mut self, challenge: PasswordChallenge) -> TwoStepAction {
        self.hint = challenge.hint().map(str::to_string);
        match self.pending.take() {
            Some(password) => TwoStepAction::Check {
                challenge,
                password,
            },
            None => {
                self.challenge = Some(challenge);
                self.ask(None)
            }
        }
    }

    pub fn entered(&mut self, password: SecretString) -> TwoStepAction {
        match self.challenge.take() {
            Some(challenge) => TwoStepAction::Check {
                challenge,
                password,
            },
            None => {
                self.pending = Some(password);
                TwoStepAction::GetPassword
            }
        }
    }

    /// The check failed with a wrong password: ask again (a new challenge is fetched when
    /// the next password comes).
    pub fn wrong_password(&mut self, error: TgError) -> TwoStepAction {
        self.failed_attempts += 1;
        self.ask(Some(error))
    }

    /// The user forgot the password: ask Telegram to email a recovery code.
    pub fn recovery_requested(&mut self) -> TwoStepAction {
        TwoStepAction::RequestRecovery
    }

    pub fn recovery_sent(&mut self, email_pattern: String) -> TwoStepAction {
        self.email_pattern = Some(email_pattern);
        self.ask_recovery(None)
    }

    pub fn recovery_code(&mut self, code: SecretString) -> TwoStepAction {
        let code = SecretString::new(code.reveal().trim());
        if code.is_empty() {
            return self.ask_recovery(Some(TgError::InvalidCode));
        }
        TwoStepAction::Recover { code }
    }

    /// A recovery call failed: ask for the code again once one was sent, else go back to the
    /// password (e.g. PASSWORD_RECOVERY_NA: the account has no recovery email).
    pub fn recovery_failed(&mut self, error: TgError) -> TwoStepAction {
        if self.email_pattern.is_some() {
            self.ask_recovery(Some(error))
        } else {
            self.ask(Some(error))
        }
    }

    fn ask_recovery(&self, error: Option<TgError>) -> TwoStepAction {
        TwoStepAction::AskRecoveryCode(RecoveryPrompt {
            email_pattern: self.email_pattern.clone().unwrap_or_default(),
            error,
        })
    }

    fn ask(&self, error: Option<TgError>) -> TwoStepAction {
        TwoStepAction::Ask(PasswordPrompt {
            hint: self.hint.clone(),
            error,
            failed_attempts: self.failed_attempts,
        })
    }
}
