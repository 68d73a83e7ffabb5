//! The 2FA step shared by the phone and QR logins: fetch the SRP challenge, ask for the
//! password, check it, and on a wrong password ask again with a fresh challenge (each
//! challenge is single-use on the server).

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

    fn ask(&self, error: Option<TgError>) -> TwoStepAction {
        TwoStepAction::Ask(PasswordPrompt {
            hint: self.hint.clone(),
            error,
            failed_attempts: self.failed_attempts,
        })
    }
}
