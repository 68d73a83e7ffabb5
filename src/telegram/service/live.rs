//! [`AccountService`] over this layer's flows: Telegram itself, or the sandbox. Logins run on
//! memory-backed sessions; the caller writes the finished session where the user chose.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use grammers_tl_types as tl;
use tokio::sync::{Mutex as AsyncMutex, mpsc, watch};
use tokio::task::AbortHandle;

use super::*;
use crate::store::adapter::{Backend, StoredSession};
use crate::telegram::{
    self, ConnectOptions, Connection, Edit2faFlow, ForkFlow, ForkStep, PasswordChallenge,
    PhoneFlow, PhonePrompt, PhoneStep, QrFlow, QrStep,
};

/// Makes a fresh, logged-out session for a login (the sandbox provisions keys for it).
pub type FreshSession = Arc<dyn Fn(i32, Option<&Session>) -> Result<Session, String> + Send + Sync>;
/// Sandbox only: the demo phone accepts a `tg://login` URL.
pub type DemoScan = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

pub struct LiveService {
    options: ConnectOptions,
    fresh: FreshSession,
    demo_scan: Option<DemoScan>,
    /// Work kept between calls, by flow id; `end` drops it (and its connection's locks).
    flows: Mutex<HashMap<FlowId, Arc<AsyncMutex<Kept>>>>,
    /// Sandbox mode: where each DC is served (for `check_many`).
    sandbox_dcs: Option<std::collections::BTreeMap<i32, std::net::SocketAddr>>,
}

enum Kept {
    Empty,
    Phone {
        flow: PhoneFlow,
        conn: Connection,
    },
    Qr(QrDriver),
    Fork {
        flow: ForkFlow,
        target: Connection,
    },
    /// A 2FA edit waiting for its email code.
    TwoFa(Edit2faFlow),
}

impl LiveService {
    pub fn new(options: ConnectOptions, fresh: FreshSession, demo_scan: Option<DemoScan>) -> Self {
        LiveService {
            options,
            fresh,
            demo_scan,
            flows: Mutex::new(HashMap::new()),
            sandbox_dcs: None,
        }
    }

    /// Sandbox mode: checks route sessions to these DCs and never dial another address.
    pub fn with_sandbox_dcs(
        mut self,
        dcs: Option<std::collections::BTreeMap<i32, std::net::SocketAddr>>,
    ) -> Self {
        self.sandbox_dcs = dcs;
        self
    }

    /// A fresh session on Telegram's default addresses (no sandbox).
    pub fn telegram_fresh() -> FreshSession {
        Arc::new(|dc_id, like| Ok(Session::new_like(dc_id, like)))
    }

    /// How many flows keep work (and maybe connections) right now.
    pub fn kept_flows(&self) -> usize {
        self.flows.lock().expect("not poisoned").len()
    }

    fn slot(&self, flow: FlowId) -> Arc<AsyncMutex<Kept>> {
        let mut map = self.flows.lock().expect("not poisoned");
        Arc::clone(
            map.entry(flow)
                .or_insert_with(|| Arc::new(AsyncMutex::new(Kept::Empty))),
        )
    }

    /// The slot only if `flow` is still kept (a late answer must not revive an ended flow).
    fn existing(&self, flow: FlowId) -> Option<Arc<AsyncMutex<Kept>>> {
        self.flows.lock().expect("not poisoned").get(&flow).cloned()
    }

    /// Opens a new memory-backed connection for a login when called (so a refresh that
    /// reuses the running flow makes none).
    fn login_connector(
        &self,
        dc_id: i32,
    ) -> impl FnOnce() -> Result<Connection, TgError> + Send + 'static {
        let fresh = Arc::clone(&self.fresh);
        let options = self.options.clone();
        move || {
            let session = fresh(dc_id, None).map_err(TgError::Network)?;
            Connection::open(StoredSession::new(session, Backend::Memory), &options)
        }
    }

    /// Opens `account`. When this very process holds its lock, waits a little: a flow that was
    /// just ended (a pane closed) may still be dropping the task that had the session open.
    fn connect(
        &self,
        account: &Account,
    ) -> impl Future<Output = Result<Connection, TgError>> + Send + 'static {
        let options = self.options.clone();
        let account = account.clone();
        async move {
            let deadline = tokio::time::Instant::now() + OWN_LOCK_GRACE;
            loop {
                match open_account(&account, &options) {
                    Err(TgError::InUse { pid: Some(pid), .. })
                        if pid == std::process::id() && tokio::time::Instant::now() < deadline =>
                    {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                    other => return other,
                }
            }
        }
    }
}

/// How long an account held by this process itself is waited for.
const OWN_LOCK_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

fn open_account(account: &Account, options: &ConnectOptions) -> Result<Connection, TgError> {
    match &account.path {
        Some(path) => Connection::open_file(path, options),
        None => {
            let stored = StoredSession::new(account.session.clone(), Backend::Memory);
            Connection::open(stored, options)
        }
    }
}

fn done(conn: &Connection, me: telegram::Me) -> LoginResult {
    LoginResult {
        session: conn.session().snapshot(),
        me,
    }
}

fn ended() -> TgError {
    TgError::unexpected("this login has ended")
}

/// The phone flow's answer as a login step.
fn phone_outcome(
    step: Result<PhoneStep, TgError>,
    conn: &Connection,
) -> Result<LoginStep, TgError> {
    match step? {
        PhoneStep::Done(me) => Ok(LoginStep::Done(Box::new(done(conn, me)))),
        PhoneStep::Ask(PhonePrompt::Code { error: Some(e), .. })
        | PhoneStep::Ask(PhonePrompt::Names { error: Some(e) }) => Err(e.0),
        PhoneStep::Ask(PhonePrompt::Password(p)) => match p.error {
            Some(e) => Err(e),
            None => Ok(LoginStep::PasswordRequired { hint: p.hint }),
        },
        PhoneStep::Ask(PhonePrompt::Names { error: None }) => Ok(LoginStep::SignUpRequired),
        PhoneStep::Ask(PhonePrompt::Code { error: None, .. }) => {
            Err(TgError::unexpected("Telegram asked for the code again"))
        }
        PhoneStep::Ask(PhonePrompt::RecoveryCode(p)) => Err(p
            .error
            .unwrap_or_else(|| TgError::unexpected("Telegram asked for the recovery code again"))),
    }
}

fn expect_code(step: Result<PhoneStep, TgError>) -> Result<CodeSent, TgError> {
    match step? {
        PhoneStep::Ask(PhonePrompt::Code { error: Some(e), .. }) => Err(e.0),
        PhoneStep::Ask(PhonePrompt::Code { sent, .. }) => Ok(sent),
        _ => Err(TgError::unexpected(
            "unexpected step while sending the code",
        )),
    }
}

fn into_login(r: Result<LoginStep, TgError>) -> Result<LoginResult, TgError> {
    match r? {
        LoginStep::Done(result) => Ok(*result),
        LoginStep::PasswordRequired { .. } => Err(TgError::PasswordRequired),
        LoginStep::SignUpRequired => Err(TgError::SignUpRefused),
    }
}

/// The fork flow's answer: done, or the password prompt (with the last attempt's error).
fn fork_outcome(step: ForkStep, target: &Connection) -> Result<LoginStep, TgError> {
    match step {
        ForkStep::Done(me) => Ok(LoginStep::Done(Box::new(done(target, me)))),
        ForkStep::Password(p) => match p.error {
            Some(e) => Err(e),
            None => Ok(LoginStep::PasswordRequired { hint: p.hint }),
        },
    }
}

/// The same error again, for states read by more than one caller. Store errors carry no
/// `Clone`; their message is kept.
fn replay(e: &TgError) -> TgError {
    use TgError as E;
    match e {
        E::FloodWait { seconds } => E::FloodWait { seconds: *seconds },
        E::InvalidCode => E::InvalidCode,
        E::CodeExpired => E::CodeExpired,
        E::InvalidPassword => E::InvalidPassword,
        E::PhoneInvalid => E::PhoneInvalid,
        E::PhoneBanned => E::PhoneBanned,
        E::FirstNameInvalid => E::FirstNameInvalid,
        E::LastNameInvalid => E::LastNameInvalid,
        E::AccessTokenInvalid => E::AccessTokenInvalid,
        E::SignUpRefused => E::SignUpRefused,
        E::PasswordRequired => E::PasswordRequired,
        E::InUse { what, pid } => E::InUse {
            what: what.clone(),
            pid: *pid,
        },
        E::NotAuthorized => E::NotAuthorized,
        E::PasswordState(s) => E::PasswordState(s),
        E::BadSrpParameter(s) => E::BadSrpParameter(s),
        E::DialRefused(s) => E::DialRefused(s.clone()),
        E::Config(s) => E::Config(s.clone()),
        E::Rpc { code, name, value } => E::Rpc {
            code: *code,
            name: name.clone(),
            value: *value,
        },
        E::Unexpected(s) => E::Unexpected(s.clone()),
        E::Network(s) => E::Network(s.clone()),
        E::Store(s) => E::Unexpected(s.to_string()),
    }
}

// QR: one task owns the flow and publishes its state; export and wait read it.

#[derive(Clone)]
enum QrState {
    Starting,
    Token {
        url: SecretString,
        expires: i64,
    },
    Password {
        hint: Option<String>,
        error: Option<Arc<TgError>>,
    },
    Recovery {
        pattern: String,
        error: Option<Arc<TgError>>,
    },
    Done(Box<telegram::Me>),
    Failed(Arc<TgError>),
}

enum QrInput {
    Password(SecretString),
    RequestRecovery,
    RecoveryCode(SecretString),
}

struct QrDriver {
    state: watch::Receiver<QrState>,
    input: mpsc::Sender<QrInput>,
    task: AbortHandle,
    conn: Connection,
    handed_out: Option<String>,
}

impl Drop for QrDriver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn start_qr(conn: Connection) -> QrDriver {
    let (tx, rx) = watch::channel(QrState::Starting);
    let (in_tx, mut in_rx) = mpsc::channel::<QrInput>(1);
    let mut flow = QrFlow::new(conn.clone(), Vec::new());
    let task = tokio::spawn(async move {
        let mut step = flow.next().await;
        loop {
            let waits_for_input = match step {
                Ok(QrStep::Show { url, expires }) => {
                    let _ = tx.send(QrState::Token {
                        url: SecretString::new(url),
                        expires,
                    });
                    step = flow.next().await;
                    continue;
                }
                Ok(QrStep::Password(p)) => tx.send(QrState::Password {
                    hint: p.hint.clone(),
                    error: p.error.map(Arc::new),
                }),
                Ok(QrStep::RecoveryCode(p)) => tx.send(QrState::Recovery {
                    pattern: p.email_pattern,
                    error: p.error.map(Arc::new),
                }),
                Ok(QrStep::Done(me)) => {
                    let _ = tx.send(QrState::Done(Box::new(me)));
                    return;
                }
                Err(e) => {
                    let _ = tx.send(QrState::Failed(Arc::new(e)));
                    return;
                }
            };
            if waits_for_input.is_err() {
                return;
            }
            step = match in_rx.recv().await {
                Some(QrInput::Password(pw)) => flow.enter_password(pw).await,
                Some(QrInput::RequestRecovery) => flow.request_recovery().await,
                Some(QrInput::RecoveryCode(code)) => flow.enter_recovery_code(code).await,
                None => return,
            };
        }
    });
    QrDriver {
        state: rx,
        input: in_tx,
        task: task.abort_handle(),
        conn,
        handed_out: None,
    }
}

/// What a caller of the QR driver waits for after sending it an input.
enum QrAwait {
    LoggedIn,
    RecoveryPrompt,
}

impl QrDriver {
    /// Sends `input` and waits for the state it leads to.
    async fn feed(&mut self, input: QrInput, want: QrAwait) -> Result<QrAnswer, TgError> {
        self.state.mark_unchanged();
        self.input.send(input).await.map_err(|_| ended())?;
        loop {
            self.state.changed().await.map_err(|_| ended())?;
            let state = self.state.borrow_and_update().clone();
            match (state, &want) {
                (QrState::Done(me), _) => {
                    return Ok(QrAnswer::Done(Box::new(done(&self.conn, *me))));
                }
                (QrState::Failed(e), _) => return Err(replay(&e)),
                (QrState::Password { error: Some(e), .. }, _)
                | (QrState::Recovery { error: Some(e), .. }, _) => return Err(replay(&e)),
                (QrState::Recovery { pattern, .. }, QrAwait::RecoveryPrompt) => {
                    return Ok(QrAnswer::Recovery(pattern));
                }
                _ => continue,
            }
        }
    }
}

enum QrAnswer {
    Done(Box<LoginResult>),
    Recovery(String),
}

fn logged_in(answer: QrAnswer) -> Result<LoginResult, TgError> {
    match answer {
        QrAnswer::Done(result) => Ok(*result),
        QrAnswer::Recovery(_) => Err(TgError::unexpected("Telegram asked for a recovery code")),
    }
}

impl AccountService for LiveService {
    fn send_code(&self, flow: FlowId, phone: String) -> Fut<CodeSent> {
        let slot = self.slot(flow);
        let connect = self.login_connector(2);
        Box::pin(async move {
            let conn = connect()?;
            let mut phone_flow = PhoneFlow::new(conn.clone());
            let sent = expect_code(phone_flow.start(&phone).await)?;
            *slot.lock().await = Kept::Phone {
                flow: phone_flow,
                conn,
            };
            Ok(sent)
        })
    }

    fn resend_code(&self, flow: FlowId) -> Fut<CodeSent> {
        let slot = self.existing(flow);
        Box::pin(async move {
            match &mut *slot.ok_or_else(ended)?.lock().await {
                Kept::Phone { flow, .. } => expect_code(flow.resend().await),
                _ => Err(TgError::unexpected("no code was sent yet")),
            }
        })
    }

    fn sign_in(&self, flow: FlowId, code: SecretString) -> Fut<LoginStep> {
        let slot = self.existing(flow);
        Box::pin(async move {
            match &mut *slot.ok_or_else(ended)?.lock().await {
                Kept::Phone { flow, conn } => phone_outcome(flow.enter_code(code).await, conn),
                _ => Err(TgError::unexpected("no code was sent yet")),
            }
        })
    }

    fn sign_up(&self, flow: FlowId, first_name: String, last_name: String) -> Fut<LoginResult> {
        let slot = self.existing(flow);
        Box::pin(async move {
            match &mut *slot.ok_or_else(ended)?.lock().await {
                Kept::Phone { flow, conn } => into_login(phone_outcome(
                    flow.enter_names(&first_name, &last_name).await,
                    conn,
                )),
                _ => Err(TgError::unexpected("no sign-up is in progress")),
            }
        })
    }

    fn check_password(&self, flow: FlowId, password: SecretString) -> Fut<LoginResult> {
        let slot = self.existing(flow);
        Box::pin(async move {
            match &mut *slot.ok_or_else(ended)?.lock().await {
                Kept::Phone { flow, conn } => {
                    into_login(phone_outcome(flow.enter_password(password).await, conn))
                }
                Kept::Qr(driver) => logged_in(
                    driver
                        .feed(QrInput::Password(password), QrAwait::LoggedIn)
                        .await?,
                ),
                Kept::Fork { flow, target } => {
                    into_login(fork_outcome(flow.enter_password(password).await?, target)).map_err(
                        |e| match e {
                            TgError::PasswordRequired => TgError::InvalidPassword,
                            other => other,
                        },
                    )
                }
                _ => Err(TgError::unexpected("no login is waiting for a password")),
            }
        })
    }

    fn request_recovery(&self, flow: FlowId) -> Fut<String> {
        let slot = self.existing(flow);
        Box::pin(async move {
            match &mut *slot.ok_or_else(ended)?.lock().await {
                Kept::Phone { flow, .. } => match flow.request_recovery().await? {
                    PhoneStep::Ask(PhonePrompt::RecoveryCode(p)) => match p.error {
                        Some(e) => Err(e),
                        None => Ok(p.email_pattern),
                    },
                    PhoneStep::Ask(PhonePrompt::Password(p)) => Err(p
                        .error
                        .unwrap_or(TgError::PasswordState("this account has no recovery email"))),
                    _ => Err(TgError::unexpected(
                        "unexpected step after asking for recovery",
                    )),
                },
                Kept::Qr(driver) => {
                    match driver
                        .feed(QrInput::RequestRecovery, QrAwait::RecoveryPrompt)
                        .await?
                    {
                        QrAnswer::Recovery(pattern) => Ok(pattern),
                        QrAnswer::Done(_) => Err(TgError::unexpected("logged in without a code")),
                    }
                }
                _ => Err(TgError::PasswordState(
                    "password recovery is offered while logging in by phone or QR",
                )),
            }
        })
    }

    fn enter_recovery_code(&self, flow: FlowId, code: SecretString) -> Fut<LoginResult> {
        let slot = self.existing(flow);
        Box::pin(async move {
            match &mut *slot.ok_or_else(ended)?.lock().await {
                Kept::Phone { flow, conn } => {
                    into_login(phone_outcome(flow.enter_recovery_code(code).await, conn))
                }
                Kept::Qr(driver) => logged_in(
                    driver
                        .feed(QrInput::RecoveryCode(code), QrAwait::LoggedIn)
                        .await?,
                ),
                _ => Err(TgError::unexpected("no recovery code was requested")),
            }
        })
    }

    fn bot_sign_in(&self, _flow: FlowId, token: SecretString) -> Fut<LoginResult> {
        let connect = self.login_connector(2);
        Box::pin(async move {
            let conn = connect()?;
            let me = telegram::bot_login(&conn, &token).await?;
            Ok(done(&conn, me))
        })
    }

    fn qr_export(&self, flow: FlowId) -> Fut<QrToken> {
        let slot = self.slot(flow);
        let connect = self.login_connector(2);
        Box::pin(async move {
            let mut guard = slot.lock().await;
            if !matches!(&*guard, Kept::Qr(_)) {
                *guard = Kept::Qr(start_qr(connect()?));
            }
            let Kept::Qr(driver) = &mut *guard else {
                unreachable!("just set")
            };
            // The current token if it is new to the caller, else the next one the flow shows.
            let mut rx = driver.state.clone();
            loop {
                let state = rx.borrow_and_update().clone();
                match state {
                    QrState::Token { url, expires }
                        if driver.handed_out.as_deref() != Some(url.reveal()) =>
                    {
                        driver.handed_out = Some(url.reveal().to_string());
                        let left = (expires - unix_now()).max(1);
                        return Ok(QrToken {
                            url,
                            expires_in_secs: u32::try_from(left).unwrap_or(30),
                        });
                    }
                    QrState::Failed(e) => return Err(replay(&e)),
                    _ => {}
                }
                rx.changed().await.map_err(|_| ended())?;
            }
        })
    }

    fn qr_wait(&self, flow: FlowId) -> Fut<LoginStep> {
        let slot = self.existing(flow);
        Box::pin(async move {
            let (mut rx, conn) = match &*slot.ok_or_else(ended)?.lock().await {
                Kept::Qr(driver) => (driver.state.clone(), driver.conn.clone()),
                _ => return Err(TgError::unexpected("no QR code was shown yet")),
            };
            loop {
                let state = rx.borrow_and_update().clone();
                match state {
                    QrState::Done(me) => return Ok(LoginStep::Done(Box::new(done(&conn, *me)))),
                    QrState::Password { hint, .. } => {
                        return Ok(LoginStep::PasswordRequired { hint });
                    }
                    QrState::Failed(e) => return Err(replay(&e)),
                    _ => {}
                }
                rx.changed().await.map_err(|_| ended())?;
            }
        })
    }

    fn demo_scan(&self, url: SecretString) -> Fut<()> {
        let scan = self.demo_scan.clone();
        Box::pin(async move {
            let scan = scan.ok_or_else(|| {
                TgError::Config("only the in-process sandbox (--sandbox) has a demo phone".into())
            })?;
            tokio::task::spawn_blocking(move || scan(url.reveal()))
                .await
                .map_err(|e| TgError::unexpected(e.to_string()))?
                .map_err(TgError::Unexpected)
        })
    }

    fn end(&self, flow: FlowId) {
        // Dropping the kept flow drops its connection and locks (and aborts a QR task).
        let kept = self.flows.lock().expect("not poisoned").remove(&flow);
        drop(kept);
    }

    fn password_info(&self, account: Account) -> Fut<PasswordInfo> {
        let conn = self.connect(&account);
        Box::pin(async move {
            let tl::enums::account::Password::Password(p) = conn
                .await?
                .client()
                .invoke(&tl::functions::account::GetPassword {})
                .await?;
            Ok(PasswordChallenge::new(p).info())
        })
    }

    fn edit_2fa(&self, flow: FlowId, account: Account, change: PasswordChange) -> Fut<Edit2faStep> {
        let conn = self.connect(&account);
        let slot = self.slot(flow);
        Box::pin(async move {
            let mut edit = Edit2faFlow::new(conn.await?);
            let step = edit.start(change).await?;
            if matches!(step, Edit2faStep::EmailCode(_)) {
                *slot.lock().await = Kept::TwoFa(edit);
            }
            Ok(step)
        })
    }

    fn confirm_email(&self, flow: FlowId, code: SecretString) -> Fut<Edit2faStep> {
        let slot = self.existing(flow);
        Box::pin(async move {
            let slot = slot.ok_or_else(|| TgError::unexpected("no email code is expected"))?;
            let mut kept = slot.lock().await;
            let Kept::TwoFa(edit) = &mut *kept else {
                return Err(TgError::unexpected("no email code is expected"));
            };
            let step = edit.enter_email_code(code).await?;
            if matches!(step, Edit2faStep::Done) {
                // Confirmed: the edit's connection is no longer needed.
                *kept = Kept::Empty;
            }
            Ok(step)
        })
    }

    fn resend_email(&self, flow: FlowId) -> Fut<Edit2faStep> {
        let slot = self.existing(flow);
        Box::pin(async move {
            let slot = slot.ok_or_else(|| TgError::unexpected("no email code is expected"))?;
            match &mut *slot.lock().await {
                Kept::TwoFa(edit) => edit.resend_email().await,
                _ => Err(TgError::unexpected("no email code is expected")),
            }
        })
    }

    fn log_out(&self, account: Account) -> Fut<()> {
        let conn = self.connect(&account);
        Box::pin(async move { telegram::logout(&conn.await?).await })
    }

    fn authorizations(&self, account: Account) -> Fut<Vec<Device>> {
        let conn = self.connect(&account);
        Box::pin(async move { telegram::authorizations(&conn.await?).await })
    }

    fn terminate(&self, account: Account, hash: Option<i64>) -> Fut<()> {
        let conn = self.connect(&account);
        Box::pin(async move {
            let conn = conn.await?;
            match hash {
                Some(h) => telegram::terminate(&conn, h).await,
                None => telegram::terminate_others(&conn).await,
            }
        })
    }

    fn fork(&self, flow: FlowId, account: Account) -> Fut<LoginStep> {
        let slot = self.slot(flow);
        let source = self.connect(&account);
        let fresh = (self.fresh)(account.session.dc_id, Some(&account.session));
        let options = self.options.clone();
        Box::pin(async move {
            let source = source.await?;
            let fresh = fresh.map_err(TgError::Network)?;
            let target = Connection::open(StoredSession::new(fresh, Backend::Memory), &options)?;
            let mut fork = ForkFlow::new(source, target.clone());
            let step = fork.start().await?;
            let outcome = fork_outcome(step, &target)?;
            *slot.lock().await = Kept::Fork { flow: fork, target };
            Ok(outcome)
        })
    }

    fn get_me(&self, account: Account) -> Fut<Me> {
        let conn = self.connect(&account);
        Box::pin(async move { telegram::whoami(&conn.await?).await })
    }

    fn check_many(
        &self,
        targets: Vec<telegram::check::CheckTarget>,
        events: mpsc::UnboundedSender<telegram::check::CheckEvent>,
    ) -> futures_util::future::BoxFuture<'static, Vec<telegram::check::CheckResult>> {
        let mut options = telegram::check::CheckOptions::new(self.options.clone());
        options.sandbox_dcs = self.sandbox_dcs.clone();
        Box::pin(async move { telegram::check::check_many(targets, &options, Some(events)).await })
    }
}
