//! QR login as a pure state machine. The token from `auth.exportLoginToken` is shown as
//! `tg://login?token=<base64url>`; it is exported again shortly before it expires, and when
//! `updateLoginToken` says that another device accepted it, the next export answers
//! `loginTokenSuccess` (or `loginTokenMigrateTo`, then `auth.importLoginToken` on that DC).
//! SESSION_PASSWORD_NEEDED after the scan continues with the 2FA step. Time comes in events
//! (unix seconds from the driver's clock), so expiry is testable.

use base64::Engine;

use super::error::TgError;
use super::two_step::{PasswordPrompt, RecoveryPrompt, TwoStep, TwoStepAction};
use super::types::{Me, PasswordChallenge};
use crate::secret::SecretString;

/// Refresh the token this many seconds before it expires.
pub const REFRESH_MARGIN_SECS: i64 = 3;

#[derive(Debug)]
pub enum QrEvent {
    Start,
    /// exportLoginToken gave a (new) token, valid until `expires`; `now` is the local clock.
    TokenIssued {
        token: Vec<u8>,
        expires: i64,
        now: i64,
    },
    /// The waiting time is over (no scan seen).
    Tick {
        now: i64,
    },
    /// updateLoginToken arrived: the token was accepted somewhere.
    Scanned,
    /// The account lives on another DC.
    Migrate {
        dc_id: i32,
        token: Vec<u8>,
    },
    PasswordRequired,
    PasswordChallenge(PasswordChallenge),
    PasswordEntered(SecretString),
    RecoveryRequested,
    RecoveryCodeSent {
        email_pattern: String,
    },
    RecoveryCodeEntered(SecretString),
    LoggedIn(Me),
    Failed(TgError),
}

#[derive(Debug, PartialEq)]
pub enum QrEffect {
    ExportToken,
    /// Show this QR (the URL) to the user; it is valid until `expires` (server time).
    Show {
        url: String,
        expires: i64,
    },
    /// Wait for updateLoginToken until the local clock reads `until`, then send `Tick`.
    WaitForScan {
        until: i64,
    },
    SwitchDc {
        dc_id: i32,
    },
    ImportToken {
        token: Vec<u8>,
    },
    GetPassword,
    CheckPassword {
        challenge: PasswordChallenge,
        password: SecretString,
    },
    Ask(PasswordPrompt),
    RequestRecovery,
    Recover {
        code: SecretString,
    },
    AskRecovery(RecoveryPrompt),
    Done(Me),
    Fail(TgError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrState {
    Idle,
    Exporting,
    Waiting,
    Importing,
    Password,
    CheckingPassword,
    Recovery,
    Done,
    Failed,
}

#[derive(Debug)]
pub struct QrLogin {
    state: QrState,
    refresh_at: i64,
    two_step: TwoStep,
}

impl Default for QrLogin {
    fn default() -> Self {
        Self::new()
    }
}

/// The URL a QR code carries for a login token.
pub fn token_url(token: &[u8]) -> String {
    format!(
        "tg://login?token={}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token)
    )
}

/// The token of a `tg://login?token=...` URL (what a scanning device accepts).
pub fn token_from_url(url: &str) -> Option<Vec<u8>> {
    let rest = url.trim().strip_prefix("tg://login?token=")?;
    let encoded = rest.split('&').next()?;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    engine
        .decode(encoded.trim_end_matches('='))
        .ok()
        .filter(|t| !t.is_empty())
}

impl QrLogin {
    pub fn new() -> Self {
        Self {
            state: QrState::Idle,
            refresh_at: 0,
            two_step: TwoStep::default(),
        }
    }

    pub fn state(&self) -> QrState {
        self.state
    }

    pub fn on(&mut self, event: QrEvent) -> Vec<QrEffect> {
        use QrEvent as E;
        use QrState as S;
        match (self.state, event) {
            (S::Idle, E::Start) => {
                self.state = S::Exporting;
                vec![QrEffect::ExportToken]
            }
            (
                S::Exporting,
                E::TokenIssued {
                    token,
                    expires,
                    now,
                },
            ) => {
                // Server and local clocks may differ: keep the lifetime, not the date.
                let lifetime = (expires - now).max(0);
                self.refresh_at = now + (lifetime - REFRESH_MARGIN_SECS).max(1);
                self.state = S::Waiting;
                vec![
                    QrEffect::Show {
                        url: token_url(&token),
                        expires,
                    },
                    QrEffect::WaitForScan {
                        until: self.refresh_at,
                    },
                ]
            }
            (S::Waiting, E::Scanned) => {
                self.state = S::Exporting;
                vec![QrEffect::ExportToken]
            }
            (S::Waiting, E::Tick { now }) => {
                if now >= self.refresh_at {
                    self.state = S::Exporting;
                    vec![QrEffect::ExportToken]
                } else {
                    vec![QrEffect::WaitForScan {
                        until: self.refresh_at,
                    }]
                }
            }
            (S::Exporting, E::Migrate { dc_id, token }) => {
                self.state = S::Importing;
                vec![
                    QrEffect::SwitchDc { dc_id },
                    QrEffect::ImportToken { token },
                ]
            }
            (S::Exporting | S::Importing, E::PasswordRequired) => {
                self.state = S::Password;
                let action = self.two_step.required();
                self.two_step_effects(action)
            }
            (S::Password | S::CheckingPassword, E::PasswordChallenge(c)) => {
                let action = self.two_step.challenge(c);
                self.two_step_effects(action)
            }
            (S::Password | S::Recovery, E::PasswordEntered(p)) => {
                let action = self.two_step.entered(p);
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
                let action = self.two_step.wrong_password(e);
                self.two_step_effects(action)
            }
            (S::Exporting | S::Importing | S::CheckingPassword | S::Recovery, E::LoggedIn(me)) => {
                self.state = S::Done;
                vec![QrEffect::Done(me)]
            }
            (
                S::Exporting
                | S::Importing
                | S::Waiting
                | S::Password
                | S::CheckingPassword
                | S::Recovery,
                E::Failed(e),
            ) => {
                self.state = S::Failed;
                vec![QrEffect::Fail(e)]
            }
            _ => Vec::new(),
        }
    }

    fn two_step_effects(&mut self, action: TwoStepAction) -> Vec<QrEffect> {
        match action {
            TwoStepAction::GetPassword => {
                self.state = QrState::Password;
                vec![QrEffect::GetPassword]
            }
            TwoStepAction::Check {
                challenge,
                password,
            } => {
                self.state = QrState::CheckingPassword;
                vec![QrEffect::CheckPassword {
                    challenge,
                    password,
                }]
            }
            TwoStepAction::Ask(prompt) => {
                self.state = QrState::Password;
                vec![QrEffect::Ask(prompt)]
            }
            TwoStepAction::RequestRecovery => {
                self.state = QrState::Recovery;
                vec![QrEffect::RequestRecovery]
            }
            TwoStepAction::Recover { code } => {
                self.state = QrState::Recovery;
                vec![QrEffect::Recover { code }]
            }
            TwoStepAction::AskRecoveryCode(prompt) => {
                self.state = QrState::Recovery;
                vec![QrEffect::AskRecovery(prompt)]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Me {
        Me {
            user_id: 1,
            first_name: None,
            last_name: None,
            username: None,
            phone: None,
            is_bot: false,
            access_hash: None,
        }
    }

    fn waiting(now: i64, expires: i64) -> QrLogin {
        let mut m = QrLogin::new();
        assert_eq!(m.on(QrEvent::Start), vec![QrEffect::ExportToken]);
        let effects = m.on(QrEvent::TokenIssued {
            token: vec![0xfb, 0xff, 0x01],
            expires,
            now,
        });
        assert_eq!(
            effects,
            vec![
                QrEffect::Show {
                    url: "tg://login?token=-_8B".into(),
                    expires
                },
                QrEffect::WaitForScan {
                    until: now + (expires - now) - REFRESH_MARGIN_SECS
                }
            ]
        );
        m
    }

    #[test]
    fn url_round_trips_with_url_safe_base64() {
        let token = vec![0xfb, 0xff, 0x01, 0x00, 0x7e];
        let url = token_url(&token);
        let encoded = url.strip_prefix("tg://login?token=").unwrap();
        assert!(!encoded.contains(['+', '/', '=']), "{encoded}");
        assert_eq!(token_from_url(&url), Some(token));
        assert_eq!(token_from_url("https://example.com"), None);
        assert_eq!(token_from_url("tg://login?token="), None);
    }

    #[test]
    fn token_is_refreshed_before_expiry_and_not_before() {
        let mut m = waiting(1000, 1030);
        assert_eq!(
            m.on(QrEvent::Tick { now: 1010 }),
            vec![QrEffect::WaitForScan { until: 1027 }]
        );
        assert_eq!(
            m.on(QrEvent::Tick { now: 1027 }),
            vec![QrEffect::ExportToken]
        );
        assert_eq!(m.state(), QrState::Exporting);
    }

    #[test]
    fn clock_skew_keeps_the_lifetime() {
        // Server says expires at 5030 while local clock reads 1000: refresh after 27 s.
        let m = {
            let mut m = QrLogin::new();
            m.on(QrEvent::Start);
            let effects = m.on(QrEvent::TokenIssued {
                token: vec![1],
                expires: 5030,
                now: 5000 - 4000,
            });
            assert!(effects.contains(&QrEffect::WaitForScan { until: 1000 + 4027 }));
            m
        };
        assert_eq!(m.state(), QrState::Waiting);
    }

    #[test]
    fn scan_then_success() {
        let mut m = waiting(0, 30);
        assert_eq!(m.on(QrEvent::Scanned), vec![QrEffect::ExportToken]);
        assert_eq!(m.on(QrEvent::LoggedIn(me())), vec![QrEffect::Done(me())]);
    }

    #[test]
    fn scan_then_migrate_imports_on_the_new_dc() {
        let mut m = waiting(0, 30);
        m.on(QrEvent::Scanned);
        assert_eq!(
            m.on(QrEvent::Migrate {
                dc_id: 4,
                token: vec![9]
            }),
            vec![
                QrEffect::SwitchDc { dc_id: 4 },
                QrEffect::ImportToken { token: vec![9] }
            ]
        );
        assert_eq!(m.on(QrEvent::LoggedIn(me())), vec![QrEffect::Done(me())]);
    }

    #[test]
    fn scan_with_two_step_asks_password() {
        let mut m = waiting(0, 30);
        m.on(QrEvent::Scanned);
        assert_eq!(m.on(QrEvent::PasswordRequired), vec![QrEffect::GetPassword]);
        assert_eq!(m.state(), QrState::Password);
    }

    #[test]
    fn errors_end_the_flow() {
        let mut m = waiting(0, 30);
        m.on(QrEvent::Scanned);
        let effects = m.on(QrEvent::Failed(TgError::FloodWait { seconds: 99 }));
        assert!(matches!(
            &effects[..],
            [QrEffect::Fail(TgError::FloodWait { seconds: 99 })]
        ));
        assert_eq!(m.state(), QrState::Failed);
    }
}
