//! The real `AccountService` over `crate::telegram`: Telegram itself, or the sandbox. Logins
//! run on memory-backed sessions; the UI writes the finished session where the user chose.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use grammers_tl_types as tl;
use tokio::sync::{Mutex as AsyncMutex, mpsc, watch};
use tokio::task::AbortHandle;

use super::*;
use crate::store::adapter::{Backend, StoredSession};
use crate::telegram::{
    self, ConnectOptions, Connection, Edit2faFlow, Edit2faStep, ForkFlow, ForkStep, PasswordChange,
    PhoneFlow, PhonePrompt, PhoneStep, QrFlow, QrStep, TgError,
};

/// Makes a fresh, logged-out session for a login (the sandbox provisions keys for it).
pub type FreshSession = Arc<dyn Fn(i32, Option<&Session>) -> Result<Session, String> + Send + Sync>;
/// Sandbox only: the demo phone accepts a `tg://login` URL.
pub type DemoScan = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

pub struct LiveService {
    options: ConnectOptions,
    fresh: FreshSession,
    demo_scan: Option<DemoScan>,
    logins: Mutex<HashMap<LoginId, Arc<AsyncMutex<Login>>>>,
    /// 2FA edits waiting for their email code, by account key.
    edits: Edits,
}

type Edits = Arc<Mutex<HashMap<String, Arc<AsyncMutex<Edit2faFlow>>>>>;

enum Login {
    Empty,
    Phone { flow: PhoneFlow, conn: Connection },
    Qr(QrDriver),
    Fork { flow: ForkFlow, target: Connection },
}

impl LiveService {
    pub fn new(options: ConnectOptions, fresh: FreshSession, demo_scan: Option<DemoScan>) -> Self {
        LiveService {
            options,
            fresh,
            demo_scan,
            logins: Mutex::new(HashMap::new()),
            edits: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// A fresh session on Telegram's default addresses (no sandbox).
    pub fn telegram_fresh() -> FreshSession {
        Arc::new(|dc_id, like| {
            let mut s = Session::new(dc_id);
            if let Some(src) = like {
                for dc in &src.dcs {
                    let entry = s.dc_mut(dc.id);
                    entry.ipv4 = dc.ipv4;
                    entry.ipv6 = dc.ipv6;
                    entry.port = dc.port;
                }
                s.test_mode = src.test_mode;
            }
            Ok(s)
        })
    }

    fn edits_handle(&self) -> Edits {
        Arc::clone(&self.edits)
    }

    fn slot(&self, login: LoginId) -> Arc<AsyncMutex<Login>> {
        let mut map = self.logins.lock().expect("not poisoned");
        Arc::clone(
            map.entry(login)
                .or_insert_with(|| Arc::new(AsyncMutex::new(Login::Empty))),
        )
    }

    /// Opens a new memory-backed connection for a login when called (so a refresh that
    /// reuses the running flow makes none).
    fn login_connector(
        &self,
        dc_id: i32,
    ) -> impl FnOnce() -> Result<Connection, ServiceError> + Send + 'static {
        let fresh = Arc::clone(&self.fresh);
        let options = self.options.clone();
        move || {
            let session = fresh(dc_id, None).map_err(ServiceError::Network)?;
            Connection::open(StoredSession::new(session, Backend::Memory), &options)
                .map_err(map_err)
        }
    }

    fn connect(&self, account: &Account) -> Result<Connection, ServiceError> {
        match &account.path {
            Some(path) => Connection::open_file(path, &self.options).map_err(map_err),
            None => {
                let stored = StoredSession::new(account.session.clone(), Backend::Memory);
                Connection::open(stored, &self.options).map_err(map_err)
            }
        }
    }
}

fn account_key(a: &Account) -> String {
    a.path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| format!("memory:{}", a.name))
}

/// Telegram's error names kept as data, so panes explain them the same way as the fake's.
pub fn map_err(e: TgError) -> ServiceError {
    let rpc = |name: &str| ServiceError::rpc(400, name);
    match e {
        TgError::FloodWait { seconds } => ServiceError::FloodWait { seconds },
        TgError::InvalidCode => rpc("PHONE_CODE_INVALID"),
        TgError::CodeExpired => rpc("PHONE_CODE_EXPIRED"),
        TgError::InvalidPassword => rpc("PASSWORD_HASH_INVALID"),
        TgError::PhoneInvalid => rpc("PHONE_NUMBER_INVALID"),
        TgError::PhoneBanned => rpc("PHONE_NUMBER_BANNED"),
        TgError::FirstNameInvalid => rpc("FIRSTNAME_INVALID"),
        TgError::AccessTokenInvalid => rpc("ACCESS_TOKEN_INVALID"),
        TgError::NotAuthorized => ServiceError::rpc(401, "AUTH_KEY_UNREGISTERED"),
        TgError::Rpc { code, name, .. } => ServiceError::Rpc { code, name },
        TgError::Network(s) => ServiceError::Network(s),
        other => ServiceError::Other(other.to_string()),
    }
}

fn me_of(m: telegram::Me) -> Me {
    Me {
        id: m.user_id,
        first_name: m.first_name.unwrap_or_default(),
        last_name: m.last_name,
        username: m.username,
        phone: m.phone,
        is_bot: m.is_bot,
    }
}

fn delivery_of(d: telegram::CodeDelivery) -> CodeDelivery {
    use telegram::CodeDelivery as D;
    match d {
        D::App => CodeDelivery::App,
        D::Sms => CodeDelivery::Sms,
        D::Call => CodeDelivery::Call,
        D::FlashCall => CodeDelivery::FlashCall,
        D::MissedCall => CodeDelivery::MissedCall,
        D::Email { pattern } => CodeDelivery::Email(pattern),
        D::Fragment { .. } => CodeDelivery::Fragment,
        D::Other(s) => CodeDelivery::Other(s),
    }
}

fn sent_of(s: telegram::CodeSent) -> SentCode {
    SentCode {
        delivery: delivery_of(s.delivery),
        next: s.next.map(delivery_of),
        timeout_secs: s.timeout,
        code_length: s.length.and_then(|l| u8::try_from(l).ok()),
    }
}

fn done(conn: &Connection, me: telegram::Me) -> LoginResult {
    LoginResult {
        session: conn.session().snapshot(),
        me: me_of(me),
    }
}

/// The phone flow's answer as the service's.
fn phone_outcome(
    step: Result<PhoneStep, TgError>,
    conn: &Connection,
) -> Result<SignInOutcome, ServiceError> {
    match step.map_err(map_err)? {
        PhoneStep::Done(me) => Ok(SignInOutcome::Done(Box::new(done(conn, me)))),
        PhoneStep::Ask(PhonePrompt::Code { error: Some(e), .. })
        | PhoneStep::Ask(PhonePrompt::Names { error: Some(e) }) => Err(map_err(e.0)),
        PhoneStep::Ask(PhonePrompt::Password(p)) => match p.error {
            Some(e) => Err(map_err(e)),
            None => Ok(SignInOutcome::PasswordRequired { hint: p.hint }),
        },
        PhoneStep::Ask(PhonePrompt::Names { error: None }) => {
            Ok(SignInOutcome::SignUpRequired { terms: None })
        }
        PhoneStep::Ask(PhonePrompt::Code { error: None, .. }) => Err(ServiceError::Other(
            "Telegram asked for the code again".into(),
        )),
        PhoneStep::Ask(PhonePrompt::RecoveryCode(_)) => Err(recovery_unsupported()),
    }
}

/// Password recovery by email is offered by `tgsess login`, not by the panes.
fn recovery_unsupported() -> ServiceError {
    ServiceError::Other("password recovery by email: use `tgsess login` on the command line".into())
}

fn expect_code(step: Result<PhoneStep, TgError>) -> Result<SentCode, ServiceError> {
    match step.map_err(map_err)? {
        PhoneStep::Ask(PhonePrompt::Code { error: Some(e), .. }) => Err(map_err(e.0)),
        PhoneStep::Ask(PhonePrompt::Code { sent, .. }) => Ok(sent_of(sent)),
        _ => Err(ServiceError::Other(
            "unexpected step while sending the code".into(),
        )),
    }
}

fn into_login(r: Result<SignInOutcome, ServiceError>) -> Result<LoginResult, ServiceError> {
    match r? {
        SignInOutcome::Done(result) => Ok(*result),
        SignInOutcome::PasswordRequired { .. } => {
            Err(ServiceError::rpc(401, "SESSION_PASSWORD_NEEDED"))
        }
        SignInOutcome::SignUpRequired { .. } => {
            Err(ServiceError::rpc(400, "PHONE_NUMBER_UNOCCUPIED"))
        }
    }
}

/// The fork flow's answer: done, or the password prompt (with the last attempt's error).
fn fork_outcome(step: ForkStep, target: &Connection) -> Result<LoginOutcome, ServiceError> {
    match step {
        ForkStep::Done(me) => Ok(LoginOutcome::Done(Box::new(done(target, me)))),
        ForkStep::Password(p) => match p.error {
            Some(e) => Err(map_err(e)),
            None => Ok(LoginOutcome::PasswordRequired { hint: p.hint }),
        },
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
        error: Option<ServiceError>,
    },
    Done(Box<telegram::Me>),
    Failed(ServiceError),
}

struct QrDriver {
    state: watch::Receiver<QrState>,
    passwords: mpsc::Sender<SecretString>,
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
    let (pw_tx, mut pw_rx) = mpsc::channel::<SecretString>(1);
    let mut flow = QrFlow::new(conn.clone(), Vec::new());
    let task = tokio::spawn(async move {
        let mut step = flow.next().await;
        loop {
            step = match step {
                Ok(QrStep::Show { url, expires }) => {
                    let _ = tx.send(QrState::Token {
                        url: SecretString::new(url),
                        expires,
                    });
                    flow.next().await
                }
                Ok(QrStep::Password(p)) => {
                    let _ = tx.send(QrState::Password {
                        hint: p.hint.clone(),
                        error: p.error.map(map_err),
                    });
                    match pw_rx.recv().await {
                        Some(pw) => flow.enter_password(pw).await,
                        None => return,
                    }
                }
                Ok(QrStep::RecoveryCode(_)) => {
                    let _ = tx.send(QrState::Failed(recovery_unsupported()));
                    return;
                }
                Ok(QrStep::Done(me)) => {
                    let _ = tx.send(QrState::Done(Box::new(me)));
                    return;
                }
                Err(e) => {
                    let _ = tx.send(QrState::Failed(map_err(e)));
                    return;
                }
            };
        }
    });
    QrDriver {
        state: rx,
        passwords: pw_tx,
        task: task.abort_handle(),
        conn,
        handed_out: None,
    }
}

impl AccountService for LiveService {
    fn send_code(&self, login: LoginId, phone: String) -> Fut<SentCode> {
        let slot = self.slot(login);
        let connect = self.login_connector(2);
        Box::pin(async move {
            let conn = connect()?;
            let mut flow = PhoneFlow::new(conn.clone());
            let sent = expect_code(flow.start(&phone).await)?;
            *slot.lock().await = Login::Phone { flow, conn };
            Ok(sent)
        })
    }

    fn resend_code(&self, login: LoginId, _force_sms: bool) -> Fut<SentCode> {
        // Telegram picks the next delivery (often SMS); there is no separate "force SMS".
        let slot = self.slot(login);
        Box::pin(async move {
            match &mut *slot.lock().await {
                Login::Phone { flow, .. } => expect_code(flow.resend().await),
                _ => Err(ServiceError::Other("no code was sent yet".into())),
            }
        })
    }

    fn sign_in(&self, login: LoginId, code: SecretString) -> Fut<SignInOutcome> {
        let slot = self.slot(login);
        Box::pin(async move {
            match &mut *slot.lock().await {
                Login::Phone { flow, conn } => phone_outcome(flow.enter_code(code).await, conn),
                _ => Err(ServiceError::Other("no code was sent yet".into())),
            }
        })
    }

    fn sign_up(&self, login: LoginId, first_name: String, last_name: String) -> Fut<LoginResult> {
        let slot = self.slot(login);
        Box::pin(async move {
            match &mut *slot.lock().await {
                Login::Phone { flow, conn } => into_login(phone_outcome(
                    flow.enter_names(&first_name, &last_name).await,
                    conn,
                )),
                _ => Err(ServiceError::Other("no sign-up is in progress".into())),
            }
        })
    }

    fn check_password(&self, login: LoginId, password: SecretString) -> Fut<LoginResult> {
        let slot = self.slot(login);
        Box::pin(async move {
            let mut guard = slot.lock().await;
            match &mut *guard {
                Login::Phone { flow, conn } => {
                    into_login(phone_outcome(flow.enter_password(password).await, conn))
                }
                Login::Qr(driver) => {
                    driver.state.mark_unchanged();
                    driver
                        .passwords
                        .send(password)
                        .await
                        .map_err(|_| ServiceError::Other("the QR login has ended".into()))?;
                    loop {
                        driver
                            .state
                            .changed()
                            .await
                            .map_err(|_| ServiceError::Other("the QR login has ended".into()))?;
                        let state = driver.state.borrow_and_update().clone();
                        match state {
                            QrState::Done(me) => return Ok(done(&driver.conn, *me)),
                            QrState::Password { error: Some(e), .. } | QrState::Failed(e) => {
                                return Err(e);
                            }
                            _ => continue,
                        }
                    }
                }
                Login::Fork { flow, target } => {
                    match fork_outcome(
                        flow.enter_password(password).await.map_err(map_err)?,
                        target,
                    )? {
                        LoginOutcome::Done(result) => Ok(*result),
                        LoginOutcome::PasswordRequired { .. } => {
                            Err(ServiceError::rpc(400, "PASSWORD_HASH_INVALID"))
                        }
                    }
                }
                Login::Empty => Err(ServiceError::Other(
                    "no login is waiting for a password".into(),
                )),
            }
        })
    }

    fn bot_sign_in(&self, _login: LoginId, token: SecretString) -> Fut<LoginResult> {
        let connect = self.login_connector(2);
        Box::pin(async move {
            let conn = connect()?;
            let me = telegram::bot_login(&conn, &token).await.map_err(map_err)?;
            Ok(done(&conn, me))
        })
    }

    fn qr_export(&self, login: LoginId) -> Fut<QrToken> {
        let slot = self.slot(login);
        let connect = self.login_connector(2);
        Box::pin(async move {
            let mut guard = slot.lock().await;
            if !matches!(&*guard, Login::Qr(_)) {
                *guard = Login::Qr(start_qr(connect()?));
            }
            let Login::Qr(driver) = &mut *guard else {
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
                    QrState::Failed(e) => return Err(e),
                    _ => {}
                }
                rx.changed()
                    .await
                    .map_err(|_| ServiceError::Other("the QR login has ended".into()))?;
            }
        })
    }

    fn qr_wait(&self, login: LoginId) -> Fut<LoginOutcome> {
        let slot = self.slot(login);
        Box::pin(async move {
            let (mut rx, conn) = match &*slot.lock().await {
                Login::Qr(driver) => (driver.state.clone(), driver.conn.clone()),
                _ => return Err(ServiceError::Other("no QR code was shown yet".into())),
            };
            loop {
                let state = rx.borrow_and_update().clone();
                match state {
                    QrState::Done(me) => return Ok(LoginOutcome::Done(Box::new(done(&conn, *me)))),
                    QrState::Password { hint, .. } => {
                        return Ok(LoginOutcome::PasswordRequired { hint });
                    }
                    QrState::Failed(e) => return Err(e),
                    _ => {}
                }
                rx.changed()
                    .await
                    .map_err(|_| ServiceError::Other("the QR login has ended".into()))?;
            }
        })
    }

    fn demo_scan(&self, url: SecretString) -> Fut<()> {
        let scan = self.demo_scan.clone();
        Box::pin(async move {
            let scan = scan.ok_or_else(|| {
                ServiceError::Unavailable(
                    "only the in-process sandbox (--sandbox) has a demo phone".into(),
                )
            })?;
            tokio::task::spawn_blocking(move || scan(url.reveal()))
                .await
                .map_err(|e| ServiceError::Other(e.to_string()))?
                .map_err(ServiceError::Other)
        })
    }

    fn end_login(&self, login: LoginId) {
        // Dropping the flow drops its connection (and aborts a QR task).
        self.logins.lock().expect("not poisoned").remove(&login);
    }

    fn password_info(&self, account: Account) -> Fut<PasswordInfo> {
        let conn = self.connect(&account);
        Box::pin(async move {
            let conn = conn?;
            let tl::enums::account::Password::Password(p) = conn
                .client()
                .invoke(&tl::functions::account::GetPassword {})
                .await
                .map_err(|e| map_err(TgError::from(e)))?;
            Ok(PasswordInfo {
                has_password: p.has_password,
                hint: p.hint,
                has_recovery_email: p.has_recovery,
                email_unconfirmed: p.email_unconfirmed_pattern,
            })
        })
    }

    fn edit_2fa(&self, account: Account, change: TwoFaChange) -> Fut<TwoFaOutcome> {
        let conn = self.connect(&account);
        let key = account_key(&account);
        let edits = self.edits_handle();
        Box::pin(async move {
            let conn = conn?;
            let hint = Some(change.hint.clone()).filter(|h| !h.is_empty());
            let pattern = change.email.clone().unwrap_or_default();
            let request = match (change.current, change.new) {
                (None, Some(new)) => PasswordChange::Enable {
                    new,
                    hint,
                    email: change.email,
                },
                (Some(current), Some(new)) => PasswordChange::Change {
                    current,
                    new,
                    hint,
                    email: change.email,
                },
                (Some(current), None) => PasswordChange::Disable { current },
                (None, None) => return Err(ServiceError::Other("nothing to change".into())),
            };
            let mut flow = Edit2faFlow::new(conn);
            match flow.start(request).await.map_err(map_err)? {
                Edit2faStep::Done => Ok(TwoFaOutcome::Done),
                Edit2faStep::EmailCode(prompt) => {
                    if let Some(e) = prompt.error {
                        return Err(map_err(e));
                    }
                    edits
                        .lock()
                        .expect("not poisoned")
                        .insert(key, Arc::new(AsyncMutex::new(flow)));
                    Ok(TwoFaOutcome::EmailCodeSent { pattern })
                }
            }
        })
    }

    fn confirm_email(&self, account: Account, code: SecretString) -> Fut<()> {
        let key = account_key(&account);
        let flow = self.edits.lock().expect("not poisoned").get(&key).cloned();
        let edits = self.edits_handle();
        Box::pin(async move {
            let flow =
                flow.ok_or_else(|| ServiceError::Other("no email code is expected".into()))?;
            let step = flow
                .lock()
                .await
                .enter_email_code(code)
                .await
                .map_err(map_err)?;
            match step {
                Edit2faStep::Done => {
                    edits.lock().expect("not poisoned").remove(&key);
                    Ok(())
                }
                Edit2faStep::EmailCode(prompt) => {
                    Err(prompt.error.map(map_err).unwrap_or_else(|| {
                        ServiceError::Other("Telegram asked for the email code again".into())
                    }))
                }
            }
        })
    }

    fn log_out(&self, account: Account) -> Fut<()> {
        let conn = self.connect(&account);
        Box::pin(async move { telegram::logout(&conn?).await.map_err(map_err) })
    }

    fn authorizations(&self, account: Account) -> Fut<Vec<Authorization>> {
        let conn = self.connect(&account);
        Box::pin(async move {
            let list = telegram::authorizations(&conn?).await.map_err(map_err)?;
            Ok(list
                .into_iter()
                .map(|d| Authorization {
                    hash: d.hash,
                    current: d.current,
                    device: d.device_model,
                    platform: d.platform,
                    app: format!("{} {}", d.app_name, d.app_version),
                    ip: d.ip,
                    country: d.country,
                    date_active: i64::from(d.date_active),
                })
                .collect())
        })
    }

    fn terminate(&self, account: Account, hash: Option<i64>) -> Fut<()> {
        let conn = self.connect(&account);
        Box::pin(async move {
            let conn = conn?;
            match hash {
                Some(h) => telegram::terminate(&conn, h).await,
                None => telegram::terminate_others(&conn).await,
            }
            .map_err(map_err)
        })
    }

    fn copy_clone(&self, account: Account) -> Fut<Session> {
        Box::pin(async move { Ok(account.session) })
    }

    fn fork(&self, login: LoginId, account: Account) -> Fut<LoginOutcome> {
        let slot = self.slot(login);
        let source = self.connect(&account);
        let fresh = (self.fresh)(account.session.dc_id, Some(&account.session));
        let options = self.options.clone();
        Box::pin(async move {
            let source = source?;
            let fresh = fresh.map_err(ServiceError::Network)?;
            let target = Connection::open(StoredSession::new(fresh, Backend::Memory), &options)
                .map_err(map_err)?;
            let mut flow = ForkFlow::new(source, target.clone());
            let step = flow.start().await.map_err(map_err)?;
            let outcome = fork_outcome(step, &target)?;
            *slot.lock().await = Login::Fork { flow, target };
            Ok(outcome)
        })
    }

    fn get_me(&self, account: Account) -> Fut<Me> {
        let conn = self.connect(&account);
        Box::pin(async move { telegram::whoami(&conn?).await.map(me_of).map_err(map_err) })
    }
}
