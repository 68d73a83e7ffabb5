//! The async drivers: each performs the I/O effects of one state machine over a
//! [`Connection`] and stops at the first effect that needs the caller (a prompt, a QR to
//! show, the end). Dropping a driver's future cancels the flow (Esc in the TUI).

use std::collections::VecDeque;
use std::time::Duration;

use grammers_mtsender::InvocationError;
use grammers_session::updates::UpdatesLike;
use grammers_tl_types as tl;
use zeroize::Zeroize;

use super::connection::Connection;
use super::edit_2fa::{Edit2fa, Edit2faEffect, Edit2faEvent, EmailCodePrompt, PasswordChange};
use super::error::{TgError, migrate_dc};
use super::password;
use super::phone::{PhoneEffect, PhoneEvent, PhoneLogin, PhonePrompt};
use super::qr::{self, QrEffect, QrEvent, QrLogin};
use super::two_step::{PasswordPrompt, RecoveryPrompt};
use super::types::{CodeSent, Device, Me, PasswordChallenge};
use crate::secret::SecretString;

// ---------------------------------------------------------------------------------------------
// Shared calls

async fn get_password(conn: &Connection) -> Result<PasswordChallenge, TgError> {
    let tl::enums::account::Password::Password(p) =
        conn.invoke(&tl::functions::account::GetPassword {}).await?;
    Ok(PasswordChallenge::new(p))
}

/// Runs the CPU-heavy password math (PBKDF2, 100,000 rounds) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, TgError> + Send + 'static,
) -> Result<T, TgError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| TgError::unexpected(format!("password computation failed: {e}")))?
}

/// checkPassword with the SRP proof; the login result as what the machines expect.
enum PasswordOutcome {
    LoggedIn(Me),
    Failed(TgError),
}

async fn check_password(
    conn: &Connection,
    challenge: PasswordChallenge,
    password: SecretString,
) -> PasswordOutcome {
    let proof = match blocking(move || password::srp_check(&challenge, Some(&password))).await {
        Ok(p) => p,
        Err(e) => return PasswordOutcome::Failed(e),
    };
    let result = conn
        .invoke(&tl::functions::auth::CheckPassword { password: proof })
        .await;
    match result {
        Ok(auth) => match conn.complete_login(auth).await {
            Ok(me) => PasswordOutcome::LoggedIn(me),
            Err(e) => PasswordOutcome::Failed(e),
        },
        Err(e) => PasswordOutcome::Failed(e.into()),
    }
}

/// auth.requestPasswordRecovery: the (partly hidden) address the code went to.
async fn request_recovery(conn: &Connection) -> Result<String, TgError> {
    let tl::enums::auth::PasswordRecovery::Recovery(r) = conn
        .invoke(&tl::functions::auth::RequestPasswordRecovery {})
        .await?;
    Ok(r.email_pattern)
}

/// auth.recoverPassword with the emailed code: removes the 2FA password and logs in.
async fn recover(conn: &Connection, code: SecretString) -> PasswordOutcome {
    let mut request = tl::functions::auth::RecoverPassword {
        code: code.reveal().to_string(),
        new_settings: None,
    };
    let result = conn.invoke(&request).await;
    request.code.zeroize();
    match result {
        Ok(auth) => match conn.complete_login(auth).await {
            Ok(me) => PasswordOutcome::LoggedIn(me),
            Err(e) => PasswordOutcome::Failed(e),
        },
        Err(e) => PasswordOutcome::Failed(e.into()),
    }
}

fn is_password_needed(e: &InvocationError) -> bool {
    e.is("SESSION_PASSWORD_NEEDED")
}

// ---------------------------------------------------------------------------------------------
// Phone

/// What the phone login needs next from the caller.
#[derive(Debug)]
pub enum PhoneStep {
    Ask(PhonePrompt),
    Done(Me),
}

/// Drives [`PhoneLogin`] over a connection.
pub struct PhoneFlow {
    conn: Connection,
    machine: PhoneLogin,
}

impl PhoneFlow {
    pub fn new(conn: Connection) -> Self {
        Self {
            conn,
            machine: PhoneLogin::new(),
        }
    }

    /// Sends the code to `phone`.
    pub async fn start(&mut self, phone: &str) -> Result<PhoneStep, TgError> {
        self.feed(PhoneEvent::Start {
            phone: phone.to_string(),
        })
        .await
    }

    pub async fn enter_code(&mut self, code: SecretString) -> Result<PhoneStep, TgError> {
        self.feed(PhoneEvent::CodeEntered(code)).await
    }

    /// Asks Telegram to send the code again (by the next delivery type, often SMS).
    pub async fn resend(&mut self) -> Result<PhoneStep, TgError> {
        self.feed(PhoneEvent::ResendRequested).await
    }

    pub async fn enter_names(&mut self, first: &str, last: &str) -> Result<PhoneStep, TgError> {
        self.feed(PhoneEvent::NamesEntered {
            first_name: first.to_string(),
            last_name: last.to_string(),
        })
        .await
    }

    pub async fn enter_password(&mut self, password: SecretString) -> Result<PhoneStep, TgError> {
        self.feed(PhoneEvent::PasswordEntered(password)).await
    }

    /// Forgot the 2FA password: Telegram emails a code to the recovery address. Entering it
    /// ([`Self::enter_recovery_code`]) removes the password and logs in.
    pub async fn request_recovery(&mut self) -> Result<PhoneStep, TgError> {
        self.feed(PhoneEvent::RecoveryRequested).await
    }

    pub async fn enter_recovery_code(&mut self, code: SecretString) -> Result<PhoneStep, TgError> {
        self.feed(PhoneEvent::RecoveryCodeEntered(code)).await
    }

    async fn feed(&mut self, event: PhoneEvent) -> Result<PhoneStep, TgError> {
        let mut queue: VecDeque<PhoneEffect> = self.machine.on(event).into();
        while let Some(effect) = queue.pop_front() {
            let event = match effect {
                PhoneEffect::Ask(prompt) => return Ok(PhoneStep::Ask(prompt)),
                PhoneEffect::Done(me) => return Ok(PhoneStep::Done(me)),
                PhoneEffect::Fail(e) => return Err(e),
                io => self.perform(io).await,
            };
            if let Some(event) = event {
                queue.extend(self.machine.on(event));
            }
        }
        Err(TgError::unexpected(
            "the login is not waiting for that input (state machine idle)",
        ))
    }

    async fn perform(&self, effect: PhoneEffect) -> Option<PhoneEvent> {
        let conn = &self.conn;
        Some(match effect {
            PhoneEffect::SendCode { phone } => {
                let request = tl::functions::auth::SendCode {
                    phone_number: phone,
                    api_id: conn.api().api_id,
                    api_hash: conn.api().api_hash.clone(),
                    settings: default_code_settings(),
                };
                match conn.invoke(&request).await {
                    Ok(sent) => sent_code_event(conn, sent).await,
                    Err(e) => match migrate_dc(&e) {
                        Some(dc_id) => PhoneEvent::Migrate { dc_id },
                        None => PhoneEvent::Failed(e.into()),
                    },
                }
            }
            PhoneEffect::SwitchDc { dc_id } => match conn.switch_home_dc(dc_id).await {
                Ok(()) => return None,
                Err(e) => PhoneEvent::Failed(e),
            },
            PhoneEffect::ResendCode {
                phone,
                phone_code_hash,
            } => {
                let request = tl::functions::auth::ResendCode {
                    phone_number: phone,
                    phone_code_hash,
                    reason: None,
                };
                match conn.invoke(&request).await {
                    Ok(sent) => sent_code_event(conn, sent).await,
                    Err(e) => PhoneEvent::Failed(e.into()),
                }
            }
            PhoneEffect::SignIn {
                phone,
                phone_code_hash,
                code,
            } => {
                let mut request = tl::functions::auth::SignIn {
                    phone_number: phone,
                    phone_code_hash,
                    phone_code: Some(code.reveal().to_string()),
                    email_verification: None,
                };
                let result = conn.invoke(&request).await;
                request.phone_code.zeroize();
                authorization_event(conn, result).await
            }
            PhoneEffect::SignUp {
                phone,
                phone_code_hash,
                first_name,
                last_name,
            } => {
                let request = tl::functions::auth::SignUp {
                    no_joined_notifications: false,
                    phone_number: phone,
                    phone_code_hash,
                    first_name,
                    last_name,
                };
                let result = conn.invoke(&request).await;
                if let Err(InvocationError::Rpc(rpc)) = &result {
                    tracing::info!(error = %rpc.name, "sign-up refused");
                }
                authorization_event(conn, result).await
            }
            PhoneEffect::GetPassword => match get_password(conn).await {
                Ok(c) => PhoneEvent::PasswordChallenge(c),
                Err(e) => PhoneEvent::Failed(e),
            },
            PhoneEffect::CheckPassword {
                challenge,
                password,
            } => match check_password(conn, challenge, password).await {
                PasswordOutcome::LoggedIn(me) => PhoneEvent::LoggedIn(me),
                PasswordOutcome::Failed(e) => PhoneEvent::Failed(e),
            },
            PhoneEffect::RequestRecovery => match request_recovery(conn).await {
                Ok(email_pattern) => PhoneEvent::RecoveryCodeSent { email_pattern },
                Err(e) => PhoneEvent::Failed(e),
            },
            PhoneEffect::Recover { code } => match recover(conn, code).await {
                PasswordOutcome::LoggedIn(me) => PhoneEvent::LoggedIn(me),
                PasswordOutcome::Failed(e) => PhoneEvent::Failed(e),
            },
            PhoneEffect::Ask(_) | PhoneEffect::Done(_) | PhoneEffect::Fail(_) => return None,
        })
    }
}

fn default_code_settings() -> tl::enums::CodeSettings {
    tl::types::CodeSettings {
        allow_flashcall: false,
        current_number: false,
        allow_app_hash: false,
        allow_missed_call: false,
        allow_firebase: false,
        unknown_number: false,
        logout_tokens: None,
        token: None,
        app_sandbox: None,
    }
    .into()
}

async fn sent_code_event(conn: &Connection, sent: tl::enums::auth::SentCode) -> PhoneEvent {
    match sent {
        tl::enums::auth::SentCode::Code(code) => PhoneEvent::CodeSent(CodeSent::from_tl(code)),
        // The number logged in without a code (e.g. future auth tokens): done.
        tl::enums::auth::SentCode::Success(s) => match conn.complete_login(s.authorization).await {
            Ok(me) => PhoneEvent::LoggedIn(me),
            Err(e) => PhoneEvent::Failed(e),
        },
        tl::enums::auth::SentCode::PaymentRequired(_) => PhoneEvent::Failed(TgError::unexpected(
            "Telegram asks for a payment to send login codes to this number; use an official app",
        )),
    }
}

async fn authorization_event(
    conn: &Connection,
    result: Result<tl::enums::auth::Authorization, InvocationError>,
) -> PhoneEvent {
    match result {
        Ok(tl::enums::auth::Authorization::SignUpRequired(_)) => PhoneEvent::SignUpRequired,
        Ok(auth) => match conn.complete_login(auth).await {
            Ok(me) => PhoneEvent::LoggedIn(me),
            Err(e) => PhoneEvent::Failed(e),
        },
        Err(e) if is_password_needed(&e) => PhoneEvent::PasswordRequired,
        Err(e) if e.is("PHONE_NUMBER_UNOCCUPIED") => PhoneEvent::SignUpRequired,
        Err(e) => PhoneEvent::Failed(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Bot

/// Signs in as the bot of `token` (auth.importBotAuthorization, following USER_MIGRATE_X).
pub async fn bot_login(conn: &Connection, token: &SecretString) -> Result<Me, TgError> {
    let mut request = tl::functions::auth::ImportBotAuthorization {
        flags: 0,
        api_id: conn.api().api_id,
        api_hash: conn.api().api_hash.clone(),
        bot_auth_token: token.reveal().trim().to_string(),
    };
    let first = conn.invoke(&request).await;
    let result = match first.as_ref().err().and_then(migrate_dc) {
        // USER_MIGRATE_X: the bot lives on DC X.
        Some(dc_id) => match conn.switch_home_dc(dc_id).await {
            Ok(()) => conn.invoke(&request).await.map_err(TgError::from),
            Err(e) => Err(e),
        },
        None => first.map_err(TgError::from),
    };
    request.bot_auth_token.zeroize();
    match result? {
        auth @ tl::enums::auth::Authorization::Authorization(_) => conn.complete_login(auth).await,
        tl::enums::auth::Authorization::SignUpRequired(_) => {
            Err(TgError::unexpected("Telegram asked to sign up a bot"))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// QR

/// What the QR login needs next from the caller.
#[derive(Debug)]
pub enum QrStep {
    /// Show this URL as a QR code; call `next` again to wait for the scan. A new `Show`
    /// replaces the old QR (the token was refreshed).
    Show {
        url: String,
        expires: i64,
    },
    Password(PasswordPrompt),
    /// The code emailed for a forgotten password (after [`QrFlow::request_recovery`]).
    RecoveryCode(RecoveryPrompt),
    Done(Me),
}

/// Unix seconds, advancing with tokio's clock (so `tokio::time::pause` controls it).
#[derive(Clone, Copy, Debug)]
pub struct FlowClock {
    base_unix: i64,
    base: tokio::time::Instant,
}

impl FlowClock {
    pub fn system() -> Self {
        let base_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Self {
            base_unix,
            base: tokio::time::Instant::now(),
        }
    }

    pub fn now(&self) -> i64 {
        self.base_unix + self.base.elapsed().as_secs() as i64
    }
}

/// Drives [`QrLogin`] over a connection.
pub struct QrFlow {
    conn: Connection,
    machine: QrLogin,
    except_ids: Vec<i64>,
    queue: VecDeque<QrEffect>,
    started: bool,
    clock: FlowClock,
}

impl QrFlow {
    /// `except_ids`: user ids of accounts already logged in here (Telegram refuses to log
    /// them in again through this token).
    pub fn new(conn: Connection, except_ids: Vec<i64>) -> Self {
        Self {
            conn,
            machine: QrLogin::new(),
            except_ids,
            queue: VecDeque::new(),
            started: false,
            clock: FlowClock::system(),
        }
    }

    /// First call: exports a token and returns the QR. Later calls: wait for the scan (or
    /// refresh the token) and return the next step.
    pub async fn next(&mut self) -> Result<QrStep, TgError> {
        if !self.started {
            self.started = true;
            let effects = self.machine.on(QrEvent::Start);
            self.queue.extend(effects);
        }
        self.run().await
    }

    pub async fn enter_password(&mut self, password: SecretString) -> Result<QrStep, TgError> {
        self.feed(QrEvent::PasswordEntered(password)).await
    }

    /// Forgot the 2FA password: see [`PhoneFlow::request_recovery`].
    pub async fn request_recovery(&mut self) -> Result<QrStep, TgError> {
        self.feed(QrEvent::RecoveryRequested).await
    }

    pub async fn enter_recovery_code(&mut self, code: SecretString) -> Result<QrStep, TgError> {
        self.feed(QrEvent::RecoveryCodeEntered(code)).await
    }

    async fn feed(&mut self, event: QrEvent) -> Result<QrStep, TgError> {
        let effects = self.machine.on(event);
        self.queue.extend(effects);
        self.run().await
    }

    async fn run(&mut self) -> Result<QrStep, TgError> {
        while let Some(effect) = self.queue.pop_front() {
            let event = match effect {
                QrEffect::Show { url, expires } => return Ok(QrStep::Show { url, expires }),
                QrEffect::Ask(prompt) => return Ok(QrStep::Password(prompt)),
                QrEffect::AskRecovery(prompt) => return Ok(QrStep::RecoveryCode(prompt)),
                QrEffect::Done(me) => return Ok(QrStep::Done(me)),
                QrEffect::Fail(e) => return Err(e),
                io => self.perform(io).await,
            };
            if let Some(event) = event {
                let effects = self.machine.on(event);
                self.queue.extend(effects);
            }
        }
        Err(TgError::unexpected(
            "the QR login is not waiting for that input",
        ))
    }

    async fn perform(&self, effect: QrEffect) -> Option<QrEvent> {
        let conn = &self.conn;
        Some(match effect {
            QrEffect::ExportToken => {
                let request = tl::functions::auth::ExportLoginToken {
                    api_id: conn.api().api_id,
                    api_hash: conn.api().api_hash.clone(),
                    except_ids: self.except_ids.clone(),
                };
                self.login_token_event(conn.invoke(&request).await).await
            }
            QrEffect::WaitForScan { until } => self.wait_for_scan(until).await,
            QrEffect::SwitchDc { dc_id } => match conn.switch_home_dc(dc_id).await {
                Ok(()) => return None,
                Err(e) => QrEvent::Failed(e),
            },
            QrEffect::ImportToken { token } => {
                let request = tl::functions::auth::ImportLoginToken { token };
                match conn.invoke(&request).await {
                    Ok(tl::enums::auth::LoginToken::MigrateTo(_)) => QrEvent::Failed(
                        TgError::unexpected("Telegram moved the account twice during QR login"),
                    ),
                    other => self.login_token_event(other).await,
                }
            }
            QrEffect::GetPassword => match get_password(conn).await {
                Ok(c) => QrEvent::PasswordChallenge(c),
                Err(e) => QrEvent::Failed(e),
            },
            QrEffect::CheckPassword {
                challenge,
                password,
            } => match check_password(conn, challenge, password).await {
                PasswordOutcome::LoggedIn(me) => QrEvent::LoggedIn(me),
                PasswordOutcome::Failed(e) => QrEvent::Failed(e),
            },
            QrEffect::RequestRecovery => match request_recovery(conn).await {
                Ok(email_pattern) => QrEvent::RecoveryCodeSent { email_pattern },
                Err(e) => QrEvent::Failed(e),
            },
            QrEffect::Recover { code } => match recover(conn, code).await {
                PasswordOutcome::LoggedIn(me) => QrEvent::LoggedIn(me),
                PasswordOutcome::Failed(e) => QrEvent::Failed(e),
            },
            QrEffect::Show { .. }
            | QrEffect::Ask(_)
            | QrEffect::AskRecovery(_)
            | QrEffect::Done(_)
            | QrEffect::Fail(_) => {
                return None;
            }
        })
    }

    async fn login_token_event(
        &self,
        result: Result<tl::enums::auth::LoginToken, InvocationError>,
    ) -> QrEvent {
        match result {
            Ok(tl::enums::auth::LoginToken::Token(t)) => QrEvent::TokenIssued {
                token: t.token,
                expires: t.expires as i64,
                now: self.clock.now(),
            },
            Ok(tl::enums::auth::LoginToken::MigrateTo(m)) => QrEvent::Migrate {
                dc_id: m.dc_id,
                token: m.token,
            },
            Ok(tl::enums::auth::LoginToken::Success(s)) => {
                match self.conn.complete_login(s.authorization).await {
                    Ok(me) => QrEvent::LoggedIn(me),
                    Err(e) => QrEvent::Failed(e),
                }
            }
            Err(e) if is_password_needed(&e) => QrEvent::PasswordRequired,
            Err(e) => QrEvent::Failed(e.into()),
        }
    }

    async fn wait_for_scan(&self, until: i64) -> QrEvent {
        loop {
            let now = self.clock.now();
            if now >= until {
                return QrEvent::Tick { now };
            }
            let wait = Duration::from_secs((until - now) as u64);
            tokio::select! {
                update = self.conn.next_update() => match update {
                    Some(u) if is_login_token_update(&u) => return QrEvent::Scanned,
                    // The connection dropped: export again, which reconnects and tells
                    // whether the token was accepted meanwhile.
                    Some(UpdatesLike::ConnectionClosed) | None => return QrEvent::Scanned,
                    Some(_) => continue,
                },
                _ = tokio::time::sleep(wait) => return QrEvent::Tick { now: self.clock.now() },
            }
        }
    }
}

fn is_login_token_update(updates: &UpdatesLike) -> bool {
    let is_token = |u: &tl::enums::Update| matches!(u, tl::enums::Update::LoginToken);
    match updates {
        UpdatesLike::Updates(tl::enums::Updates::UpdateShort(s)) => is_token(&s.update),
        UpdatesLike::Updates(tl::enums::Updates::Updates(u)) => u.updates.iter().any(is_token),
        UpdatesLike::Updates(tl::enums::Updates::Combined(u)) => u.updates.iter().any(is_token),
        _ => false,
    }
}

/// Accepts a `tg://login?token=...` URL from a logged-in connection (what scanning a QR code
/// with a phone does). Returns the new device's authorization.
pub async fn accept_login_url(conn: &Connection, url: &str) -> Result<Device, TgError> {
    let token = qr::token_from_url(url)
        .ok_or_else(|| TgError::Config("not a tg://login?token=... URL".into()))?;
    let auth = conn
        .invoke(&tl::functions::auth::AcceptLoginToken { token })
        .await?;
    Ok(Device::from_tl(auth))
}

// ---------------------------------------------------------------------------------------------
// Fork

/// What a fork needs next.
#[derive(Debug)]
pub enum ForkStep {
    /// The account has a 2FA password: the new authorization must prove it too.
    Password(PasswordPrompt),
    Done(Me),
}

/// A brand-new authorization (own key) for the account of `source`: a fresh client exports a
/// login token and `source` accepts it, like scanning a QR code with a phone.
pub struct ForkFlow {
    source: Connection,
    qr: QrFlow,
}

impl ForkFlow {
    /// `target` is a connection over a fresh (logged-out) session.
    pub fn new(source: Connection, target: Connection) -> Self {
        Self {
            source,
            qr: QrFlow::new(target, Vec::new()),
        }
    }

    pub async fn start(&mut self) -> Result<ForkStep, TgError> {
        let step = self.qr.next().await?;
        self.follow(step).await
    }

    pub async fn enter_password(&mut self, password: SecretString) -> Result<ForkStep, TgError> {
        let step = self.qr.enter_password(password).await?;
        self.follow(step).await
    }

    async fn follow(&mut self, mut step: QrStep) -> Result<ForkStep, TgError> {
        loop {
            match step {
                QrStep::Show { url, .. } => {
                    accept_login_url(&self.source, &url).await?;
                    step = self.qr.next().await?;
                }
                QrStep::Password(p) => return Ok(ForkStep::Password(p)),
                QrStep::RecoveryCode(_) => {
                    return Err(TgError::unexpected("a fork never resets the password"));
                }
                QrStep::Done(me) => return Ok(ForkStep::Done(me)),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Edit 2FA

#[derive(Debug)]
pub enum Edit2faStep {
    /// A code was emailed to the new recovery address; enter it (or resend).
    EmailCode(EmailCodePrompt),
    Done,
}

/// Drives [`Edit2fa`] over a connection.
pub struct Edit2faFlow {
    conn: Connection,
    machine: Edit2fa,
}

impl Edit2faFlow {
    pub fn new(conn: Connection) -> Self {
        Self {
            conn,
            machine: Edit2fa::new(),
        }
    }

    pub async fn start(&mut self, change: PasswordChange) -> Result<Edit2faStep, TgError> {
        self.feed(Edit2faEvent::Start(change)).await
    }

    pub async fn enter_email_code(&mut self, code: SecretString) -> Result<Edit2faStep, TgError> {
        self.feed(Edit2faEvent::EmailCodeEntered(code)).await
    }

    pub async fn resend_email(&mut self) -> Result<Edit2faStep, TgError> {
        self.feed(Edit2faEvent::ResendEmailRequested).await
    }

    async fn feed(&mut self, event: Edit2faEvent) -> Result<Edit2faStep, TgError> {
        let mut queue: VecDeque<Edit2faEffect> = self.machine.on(event).into();
        while let Some(effect) = queue.pop_front() {
            let event = match effect {
                Edit2faEffect::Ask(p) => return Ok(Edit2faStep::EmailCode(p)),
                Edit2faEffect::Done => return Ok(Edit2faStep::Done),
                Edit2faEffect::Fail(e) => return Err(e),
                io => self.perform(io).await,
            };
            queue.extend(self.machine.on(event));
        }
        Err(TgError::unexpected(
            "the 2FA change is not waiting for that input",
        ))
    }

    async fn perform(&self, effect: Edit2faEffect) -> Edit2faEvent {
        let conn = &self.conn;
        match effect {
            Edit2faEffect::GetPassword => match get_password(conn).await {
                Ok(c) => Edit2faEvent::PasswordChallenge(c),
                Err(e) => Edit2faEvent::Failed(e),
            },
            Edit2faEffect::UpdateSettings {
                challenge,
                current,
                new,
            } => {
                let built = blocking(move || {
                    let check = password::srp_check(&challenge, current.as_ref())?;
                    let settings = password::new_settings(&challenge.0.new_algo, &new)?;
                    Ok((check, settings))
                })
                .await;
                let (check, settings) = match built {
                    Ok(b) => b,
                    Err(e) => return Edit2faEvent::Failed(e),
                };
                let request = tl::functions::account::UpdatePasswordSettings {
                    password: check,
                    new_settings: settings,
                };
                match conn.invoke(&request).await {
                    Ok(_) => Edit2faEvent::Updated,
                    Err(InvocationError::Rpc(rpc)) if rpc.name == "EMAIL_UNCONFIRMED" => {
                        Edit2faEvent::EmailUnconfirmed {
                            code_length: rpc.value.unwrap_or(0),
                        }
                    }
                    Err(e) => Edit2faEvent::Failed(e.into()),
                }
            }
            Edit2faEffect::ConfirmEmail(code) => {
                let mut request = tl::functions::account::ConfirmPasswordEmail {
                    code: code.reveal().to_string(),
                };
                let result = conn.invoke(&request).await;
                request.code.zeroize();
                match result {
                    Ok(_) => Edit2faEvent::Updated,
                    Err(e) => Edit2faEvent::Failed(e.into()),
                }
            }
            Edit2faEffect::ResendEmail => {
                match conn
                    .invoke(&tl::functions::account::ResendPasswordEmail {})
                    .await
                {
                    Ok(_) => Edit2faEvent::EmailResent,
                    Err(e) => Edit2faEvent::Failed(e.into()),
                }
            }
            Edit2faEffect::Ask(_) | Edit2faEffect::Done | Edit2faEffect::Fail(_) => {
                Edit2faEvent::Failed(TgError::unexpected("not an I/O effect"))
            }
        }
    }
}

/// Convenience for one-shot changes without an email to confirm.
pub async fn edit_2fa(conn: &Connection, change: PasswordChange) -> Result<Edit2faStep, TgError> {
    Edit2faFlow::new(conn.clone()).start(change).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TUI spawns flows on tokio: their futures must be `Send`.
    #[allow(dead_code)]
    fn flows_are_send(c: Connection) {
        fn is_send<T: Send>(_: &T) {}
        let mut phone = PhoneFlow::new(c.clone());
        is_send(&phone.start("1"));
        let mut qr = QrFlow::new(c.clone(), vec![]);
        is_send(&qr.next());
        let mut fork = ForkFlow::new(c.clone(), c.clone());
        is_send(&fork.start());
        let mut edit = Edit2faFlow::new(c.clone());
        is_send(&edit.start(PasswordChange::Disable {
            current: SecretString::new("x"),
        }));
        let token = SecretString::new("t");
        is_send(&bot_login(&c, &token));
    }

    #[test]
    fn login_token_update_is_recognised_in_short_and_full_updates() {
        let short = UpdatesLike::Updates(
            tl::types::UpdateShort {
                update: tl::enums::Update::LoginToken,
                date: 0,
            }
            .into(),
        );
        assert!(is_login_token_update(&short));
        let other = UpdatesLike::Updates(tl::enums::Updates::TooLong);
        assert!(!is_login_token_update(&other));
    }
}
