//! A scripted, in-memory stand-in for Telegram: a few users and bots, one valid code, and
//! injectable failures (FLOOD_WAIT, any RPC error) and holds (a call that never answers, to
//! test cancellation). Used by the UI tests; it never touches the network. It speaks the
//! account layer's own types (`tgsess::telegram`), as the real service does.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use tgsess::secret::{AuthKey, SecretString};
use tgsess::store::status::{Finding, Status as Found};
use tgsess::store::{SelfUser, Session};
use tgsess::telegram::check::{CheckEvent, CheckResult, CheckTarget};
use tgsess::telegram::service::Fut;
use tgsess::telegram::{
    Account, AccountService, CodeDelivery, CodeSent, Device, Edit2faStep, EmailCodePrompt, FlowId,
    LoginResult, LoginStep, Me, PasswordChange, PasswordInfo, QrToken, TgError,
};

type LoginId = FlowId;

#[derive(Clone, Debug)]
pub struct FakeUser {
    pub id: i64,
    pub phone: String,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub hint: Option<String>,
    pub email: Option<String>,
}

#[derive(Default)]
struct Login {
    phone: Option<String>,
    signed_up_needed: bool,
    password_user: Option<usize>,
    qr_token: Option<String>,
    qr_scanned_by: Option<usize>,
}

struct World {
    users: Vec<FakeUser>,
    bots: Vec<(String, i64, String)>,
    logins: HashMap<LoginId, Login>,
    failures: HashMap<String, VecDeque<TgError>>,
    held: Vec<String>,
    calls: Vec<String>,
    next_user_id: i64,
    qr_counter: u64,
    authorizations: Vec<Device>,
    /// A recovery email waiting for its code: by flow, (user id, address).
    pending_email: HashMap<FlowId, (i64, String)>,
    /// Flows that keep something (a login or a 2FA edit), as the real service's `end` drops.
    kept: std::collections::HashSet<FlowId>,
    last_qr_url: Option<String>,
}

/// The code every fake login accepts.
pub const FAKE_CODE: &str = "12345";
pub const FAKE_EMAIL_CODE: &str = "777777";

pub struct FakeService {
    world: Mutex<World>,
    scans: watch::Sender<u64>,
}

impl Default for FakeService {
    fn default() -> Self {
        Self::new()
    }
}

fn user(id: i64, phone: &str, first: &str, username: Option<&str>) -> FakeUser {
    FakeUser {
        id,
        phone: phone.into(),
        first_name: first.into(),
        last_name: None,
        username: username.map(Into::into),
        password: None,
        hint: None,
        email: None,
    }
}

impl FakeService {
    /// Alice (+15550001, no 2FA), Bob (+15550002, password "hunter2", hint "the usual"),
    /// a bot with token "123:ABC", and two authorizations for whoever asks.
    pub fn new() -> Self {
        let mut bob = user(1002, "+15550002", "Bob", Some("bob"));
        bob.password = Some("hunter2".into());
        bob.hint = Some("the usual".into());
        let world = World {
            users: vec![user(1001, "+15550001", "Alice", Some("alice")), bob],
            bots: vec![("123:ABC".into(), 9001, "Demo Bot".into())],
            logins: HashMap::new(),
            failures: HashMap::new(),
            held: Vec::new(),
            calls: Vec::new(),
            next_user_id: 2000,
            qr_counter: 0,
            authorizations: vec![
                device(
                    0,
                    true,
                    "tgsess",
                    "Linux",
                    "tgsess",
                    "0.1",
                    "127.0.0.1",
                    1_700_000_000,
                ),
                device(
                    77,
                    false,
                    "Pixel 8",
                    "Android",
                    "Telegram Android",
                    "11.0",
                    "127.0.0.2",
                    1_699_000_000,
                ),
            ],
            pending_email: HashMap::new(),
            kept: Default::default(),
            last_qr_url: None,
        };
        FakeService {
            world: Mutex::new(world),
            scans: watch::channel(0).0,
        }
    }

    /// The next call of `method` fails with `error` (queued; one per call).
    pub fn fail_next(&self, method: &str, error: TgError) {
        let mut w = self.world.lock().unwrap();
        w.failures
            .entry(method.into())
            .or_default()
            .push_back(error);
    }

    /// Calls of `method` never answer (until their task is dropped, which is recorded).
    pub fn hold(&self, method: &str) {
        self.world.lock().unwrap().held.push(method.into());
    }

    /// Every call so far, as `method` or `dropped:method` (a held call whose task was aborted).
    pub fn calls(&self) -> Vec<String> {
        self.world.lock().unwrap().calls.clone()
    }

    pub fn user_password(&self, phone: &str) -> Option<String> {
        let w = self.world.lock().unwrap();
        w.users
            .iter()
            .find(|u| u.phone == phone)
            .and_then(|u| u.password.clone())
    }

    /// The URL of the newest QR token handed out.
    pub fn last_qr_url(&self) -> Option<String> {
        self.world.lock().unwrap().last_qr_url.clone()
    }

    pub fn authorization_count(&self) -> usize {
        self.world.lock().unwrap().authorizations.len()
    }

    /// Starts a call: records it, then returns an injected failure or a hold.
    fn begin(&self, method: &str) -> Result<Option<HoldGuard>, TgError> {
        let mut w = self.world.lock().unwrap();
        w.calls.push(method.to_string());
        if let Some(e) = w.failures.get_mut(method).and_then(VecDeque::pop_front) {
            return Err(e);
        }
        if w.held.iter().any(|m| m == method) {
            return Ok(Some(HoldGuard {
                method: method.to_string(),
            }));
        }
        Ok(None)
    }

    fn respond<T: Send + 'static>(
        self: &Arc<Self>,
        method: &str,
        f: impl FnOnce(&mut World) -> Result<T, TgError> + Send + 'static,
    ) -> Fut<T> {
        match self.begin(method) {
            Err(e) => Box::pin(async move { Err(e) }),
            Ok(Some(guard)) => {
                // Made before the future is polled, so an abort before the first poll counts.
                let recorder = DropRecorder {
                    guard,
                    service: Arc::clone(self),
                };
                Box::pin(async move {
                    let _recorder = recorder;
                    std::future::pending::<()>().await;
                    unreachable!("a held call never answers")
                })
            }
            Ok(None) => {
                let result = f(&mut self.world.lock().unwrap());
                Box::pin(async move { result })
            }
        }
    }
}

struct HoldGuard {
    method: String,
}

/// Records that a held call was dropped (its task aborted).
struct DropRecorder {
    guard: HoldGuard,
    service: Arc<FakeService>,
}

impl Drop for DropRecorder {
    fn drop(&mut self) {
        if let Ok(mut w) = self.service.world.lock() {
            w.calls.push(format!("dropped:{}", self.guard.method));
        }
    }
}

fn fake_session(me: &Me) -> Session {
    let mut s = Session::new(2);
    {
        let home = s.home_mut();
        home.ipv4 = Some(std::net::Ipv4Addr::LOCALHOST);
        home.port = Some(4430);
        home.auth_key = Some(AuthKey::random());
    }
    s.user_id = Some(me.user_id);
    s.is_bot = Some(me.is_bot);
    s.api_id = Some(1);
    s.test_mode = Some(false);
    s.user = Some(SelfUser {
        first_name: me.first_name.clone(),
        last_name: me.last_name.clone(),
        username: me.username.clone(),
        phone: me.phone.clone(),
    });
    s
}

fn me_of(u: &FakeUser) -> Me {
    Me {
        user_id: u.id,
        first_name: Some(u.first_name.clone()),
        last_name: u.last_name.clone(),
        username: u.username.clone(),
        phone: Some(u.phone.clone()),
        is_bot: false,
        access_hash: None,
    }
}

fn done(u: &FakeUser) -> LoginResult {
    let me = me_of(u);
    LoginResult {
        session: fake_session(&me),
        me,
    }
}

/// An RPC error the way the account layer names it (known names become their variants).
pub fn rpc_error(code: i32, name: &str) -> TgError {
    match name {
        "PHONE_CODE_INVALID" => TgError::InvalidCode,
        "PHONE_NUMBER_INVALID" => TgError::PhoneInvalid,
        "PASSWORD_HASH_INVALID" => TgError::InvalidPassword,
        "ACCESS_TOKEN_INVALID" => TgError::AccessTokenInvalid,
        "FIRSTNAME_INVALID" => TgError::FirstNameInvalid,
        "AUTH_KEY_UNREGISTERED" => TgError::NotAuthorized,
        _ => TgError::Rpc {
            code,
            name: name.to_string(),
            value: None,
        },
    }
}

fn invalid(name: &str) -> TgError {
    rpc_error(400, name)
}

#[allow(clippy::too_many_arguments)]
fn device(
    hash: i64,
    current: bool,
    model: &str,
    platform: &str,
    app: &str,
    version: &str,
    ip: &str,
    active: i32,
) -> Device {
    Device {
        hash,
        current,
        device_model: model.into(),
        platform: platform.into(),
        system_version: String::new(),
        api_id: 1,
        app_name: app.into(),
        app_version: version.into(),
        date_created: active,
        date_active: active,
        ip: ip.into(),
        country: "Nowhere".into(),
    }
}

fn sent() -> CodeSent {
    CodeSent::described(
        CodeDelivery::App,
        Some(5),
        Some(CodeDelivery::Sms),
        Some(30),
    )
}

fn account_user(w: &World, account: &Account) -> Result<usize, TgError> {
    let id = account.session.user_id;
    w.users
        .iter()
        .position(|u| Some(u.id) == id)
        .ok_or(TgError::NotAuthorized)
}

/// The fake is used through `Arc<FakeService>`; this wrapper implements the trait.
#[derive(Clone)]
pub struct Fake(pub Arc<FakeService>);

impl Fake {
    pub fn new() -> (Fake, Arc<FakeService>) {
        let inner = Arc::new(FakeService::new());
        (Fake(Arc::clone(&inner)), inner)
    }
}

impl FakeService {
    /// Flows that still keep a login or a 2FA edit (the real service's clients and locks).
    pub fn kept_flows(&self) -> Vec<FlowId> {
        self.world.lock().unwrap().kept.iter().copied().collect()
    }
}

impl AccountService for Fake {
    fn send_code(&self, login: LoginId, phone: String) -> Fut<CodeSent> {
        self.0.respond("send_code", move |w| {
            if !phone.starts_with('+') || phone.len() < 6 {
                return Err(invalid("PHONE_NUMBER_INVALID"));
            }
            w.kept.insert(login);
            let l = w.logins.entry(login).or_default();
            l.phone = Some(phone);
            Ok(sent())
        })
    }

    fn resend_code(&self, login: LoginId) -> Fut<CodeSent> {
        self.0.respond("resend_code", move |w| {
            let l = w.logins.get(&login).filter(|l| l.phone.is_some());
            l.ok_or_else(|| invalid("PHONE_NUMBER_INVALID"))?;
            Ok(CodeSent::described(
                CodeDelivery::Sms,
                Some(5),
                None,
                Some(60),
            ))
        })
    }

    fn sign_in(&self, login: LoginId, code: SecretString) -> Fut<LoginStep> {
        self.0.respond("sign_in", move |w| {
            if code.reveal() != FAKE_CODE {
                return Err(invalid("PHONE_CODE_INVALID"));
            }
            let phone = w.logins.get(&login).and_then(|l| l.phone.clone());
            let phone = phone.ok_or_else(|| invalid("PHONE_NUMBER_INVALID"))?;
            match w.users.iter().position(|u| u.phone == phone) {
                None => {
                    w.logins.entry(login).or_default().signed_up_needed = true;
                    Ok(LoginStep::SignUpRequired)
                }
                Some(i) if w.users[i].password.is_some() => {
                    w.logins.entry(login).or_default().password_user = Some(i);
                    Ok(LoginStep::PasswordRequired {
                        hint: w.users[i].hint.clone(),
                    })
                }
                Some(i) => Ok(LoginStep::Done(Box::new(done(&w.users[i])))),
            }
        })
    }

    fn sign_up(&self, login: LoginId, first_name: String, last_name: String) -> Fut<LoginResult> {
        self.0.respond("sign_up", move |w| {
            if first_name.trim().is_empty() {
                return Err(invalid("FIRSTNAME_INVALID"));
            }
            let l = w.logins.get(&login).filter(|l| l.signed_up_needed);
            let phone = l
                .and_then(|l| l.phone.clone())
                .ok_or_else(|| invalid("PHONE_NUMBER_UNOCCUPIED"))?;
            w.next_user_id += 1;
            let mut u = user(w.next_user_id, &phone, &first_name, None);
            u.last_name = Some(last_name).filter(|l| !l.is_empty());
            w.users.push(u.clone());
            Ok(done(&u))
        })
    }

    fn check_password(&self, login: LoginId, password: SecretString) -> Fut<LoginResult> {
        self.0.respond("check_password", move |w| {
            let i = w
                .logins
                .get(&login)
                .and_then(|l| l.password_user)
                .ok_or(TgError::PasswordRequired)?;
            if w.users[i].password.as_deref() != Some(password.reveal()) {
                return Err(invalid("PASSWORD_HASH_INVALID"));
            }
            Ok(done(&w.users[i]))
        })
    }

    fn request_recovery(&self, login: LoginId) -> Fut<String> {
        self.0.respond("request_recovery", move |w| {
            let i = w
                .logins
                .get(&login)
                .and_then(|l| l.password_user)
                .ok_or(TgError::PasswordRequired)?;
            match &w.users[i].email {
                Some(email) => Ok(format!("{}***", &email[..1])),
                None => Err(TgError::PasswordState("this account has no recovery email")),
            }
        })
    }

    fn enter_recovery_code(&self, login: LoginId, code: SecretString) -> Fut<LoginResult> {
        self.0.respond("enter_recovery_code", move |w| {
            let i = w
                .logins
                .get(&login)
                .and_then(|l| l.password_user)
                .ok_or(TgError::PasswordRequired)?;
            if code.reveal() != FAKE_EMAIL_CODE {
                return Err(invalid("CODE_INVALID"));
            }
            let u = &mut w.users[i];
            u.password = None;
            u.hint = None;
            u.email = None;
            Ok(done(&w.users[i]))
        })
    }

    fn bot_sign_in(&self, _login: LoginId, token: SecretString) -> Fut<LoginResult> {
        self.0.respond("bot_sign_in", move |w| {
            let (_, id, name) = w
                .bots
                .iter()
                .find(|(t, _, _)| t == token.reveal())
                .ok_or_else(|| invalid("ACCESS_TOKEN_INVALID"))?;
            let me = Me {
                user_id: *id,
                first_name: Some(name.clone()),
                last_name: None,
                username: Some("demo_bot".into()),
                phone: None,
                is_bot: true,
                access_hash: None,
            };
            Ok(LoginResult {
                session: fake_session(&me),
                me,
            })
        })
    }

    fn qr_export(&self, login: LoginId) -> Fut<QrToken> {
        self.0.respond("qr_export", move |w| {
            w.qr_counter += 1;
            w.kept.insert(login);
            let token = format!("FAKEQRTOKEN{:04}AAAAAAAAAAAAAAAAAAAAA", w.qr_counter);
            w.logins.entry(login).or_default().qr_token = Some(token.clone());
            let url = format!("tg://login?token={token}");
            w.last_qr_url = Some(url.clone());
            Ok(QrToken {
                url: SecretString::new(url),
                expires_in_secs: 30,
            })
        })
    }

    fn qr_wait(&self, login: LoginId) -> Fut<LoginStep> {
        let svc = Arc::clone(&self.0);
        if let Err(e) = svc.begin("qr_wait") {
            return Box::pin(async move { Err(e) });
        }
        let mut rx = svc.scans.subscribe();
        Box::pin(async move {
            loop {
                {
                    let mut w = svc.world.lock().unwrap();
                    let scanned = w.logins.get(&login).and_then(|l| l.qr_scanned_by);
                    if let Some(i) = scanned {
                        if w.users[i].password.is_some() {
                            w.logins.entry(login).or_default().password_user = Some(i);
                            return Ok(LoginStep::PasswordRequired {
                                hint: w.users[i].hint.clone(),
                            });
                        }
                        return Ok(LoginStep::Done(Box::new(done(&w.users[i]))));
                    }
                }
                if rx.changed().await.is_err() {
                    return Err(TgError::Network("the fake service stopped".into()));
                }
            }
        })
    }

    fn demo_scan(&self, url: SecretString) -> Fut<()> {
        let svc = Arc::clone(&self.0);
        let result = self.0.respond("demo_scan", move |w| {
            let token = url
                .reveal()
                .strip_prefix("tg://login?token=")
                .unwrap_or("")
                .to_string();
            // The first user with a password scans, to exercise QR -> 2FA; Alice otherwise.
            let scanner = w
                .users
                .iter()
                .position(|u| u.password.is_some())
                .unwrap_or(0);
            let login = w
                .logins
                .values_mut()
                .find(|l| l.qr_token.as_deref() == Some(token.as_str()))
                .ok_or_else(|| invalid("AUTH_TOKEN_INVALID"))?;
            login.qr_scanned_by = Some(scanner);
            Ok(())
        });
        Box::pin(async move {
            let r = result.await;
            if r.is_ok() {
                svc.scans.send_modify(|n| *n += 1);
            }
            r
        })
    }

    fn end(&self, flow: FlowId) {
        let mut w = self.0.world.lock().unwrap();
        w.calls.push("end".into());
        w.logins.remove(&flow);
        w.pending_email.remove(&flow);
        w.kept.remove(&flow);
    }

    fn password_info(&self, account: Account) -> Fut<PasswordInfo> {
        self.0.respond("password_info", move |w| {
            let u = &w.users[account_user(w, &account)?];
            Ok(PasswordInfo {
                has_password: u.password.is_some(),
                hint: u.hint.clone(),
                has_recovery_email: u.email.is_some(),
                email_unconfirmed: None,
            })
        })
    }

    fn edit_2fa(&self, flow: FlowId, account: Account, change: PasswordChange) -> Fut<Edit2faStep> {
        self.0.respond("edit_2fa", move |w| {
            let i = account_user(w, &account)?;
            let (current, new, hint, email) = match change {
                PasswordChange::Enable { new, hint, email } => (None, Some(new), hint, email),
                PasswordChange::Change {
                    current,
                    new,
                    hint,
                    email,
                } => (Some(current), Some(new), hint, email),
                PasswordChange::Disable { current } => (Some(current), None, None, None),
            };
            if w.users[i].password.as_deref() != current.as_ref().map(|c| c.reveal()) {
                return Err(invalid("PASSWORD_HASH_INVALID"));
            }
            let u = &mut w.users[i];
            u.password = new.as_ref().map(|p| p.reveal().to_string());
            u.hint = hint.filter(|h| !h.is_empty() && u.password.is_some());
            if u.password.is_none() {
                u.email = None;
            }
            match email.filter(|e| !e.is_empty()) {
                Some(email) => {
                    let uid = u.id;
                    w.pending_email.insert(flow, (uid, email));
                    w.kept.insert(flow);
                    Ok(Edit2faStep::EmailCode(EmailCodePrompt {
                        code_length: 6,
                        error: None,
                    }))
                }
                None => Ok(Edit2faStep::Done),
            }
        })
    }

    fn confirm_email(&self, flow: FlowId, code: SecretString) -> Fut<Edit2faStep> {
        self.0.respond("confirm_email", move |w| {
            if code.reveal().is_empty() {
                return Err(invalid("CODE_EMPTY"));
            }
            if !w.pending_email.contains_key(&flow) {
                return Err(invalid("EMAIL_HASH_EXPIRED"));
            }
            if code.reveal() != FAKE_EMAIL_CODE {
                return Ok(Edit2faStep::EmailCode(EmailCodePrompt {
                    code_length: 6,
                    error: Some(invalid("EMAIL_CODE_INVALID")),
                }));
            }
            let (uid, email) = w.pending_email.remove(&flow).expect("checked");
            w.kept.remove(&flow);
            if let Some(u) = w.users.iter_mut().find(|u| u.id == uid) {
                u.email = Some(email);
            }
            Ok(Edit2faStep::Done)
        })
    }

    fn resend_email(&self, flow: FlowId) -> Fut<Edit2faStep> {
        self.0.respond("resend_email", move |w| {
            if !w.pending_email.contains_key(&flow) {
                return Err(invalid("EMAIL_HASH_EXPIRED"));
            }
            Ok(Edit2faStep::EmailCode(EmailCodePrompt {
                code_length: 6,
                error: None,
            }))
        })
    }

    fn log_out(&self, account: Account) -> Fut<()> {
        self.0
            .respond("log_out", move |w| account_user(w, &account).map(|_| ()))
    }

    fn authorizations(&self, account: Account) -> Fut<Vec<Device>> {
        self.0.respond("authorizations", move |w| {
            account_user(w, &account)?;
            Ok(w.authorizations.clone())
        })
    }

    fn terminate(&self, account: Account, hash: Option<i64>) -> Fut<()> {
        self.0.respond("terminate", move |w| {
            account_user(w, &account)?;
            match hash {
                Some(h) => w.authorizations.retain(|a| a.hash != h),
                None => w.authorizations.retain(|a| a.current),
            }
            Ok(())
        })
    }

    fn fork(&self, login: LoginId, account: Account) -> Fut<LoginStep> {
        self.0.respond("fork", move |w| {
            let i = account_user(w, &account)?;
            if w.users[i].password.is_some() {
                w.kept.insert(login);
                w.logins.entry(login).or_default().password_user = Some(i);
                return Ok(LoginStep::PasswordRequired {
                    hint: w.users[i].hint.clone(),
                });
            }
            Ok(LoginStep::Done(Box::new(done(&w.users[i]))))
        })
    }

    fn get_me(&self, account: Account) -> Fut<Me> {
        self.0.respond("get_me", move |w| {
            let i = account_user(w, &account)?;
            Ok(me_of(&w.users[i]))
        })
    }

    /// Every session with a key is authorized, one event per row. Held: the first row is
    /// answered, then the run never ends (until its task is dropped, which is recorded).
    fn check_many(
        &self,
        targets: Vec<CheckTarget>,
        events: tokio::sync::mpsc::UnboundedSender<CheckEvent>,
    ) -> futures_util::future::BoxFuture<'static, Vec<CheckResult>> {
        let held = self.0.begin("check_many").ok().flatten();
        let recorder = held.map(|guard| DropRecorder {
            guard,
            service: Arc::clone(&self.0),
        });
        Box::pin(async move {
            let mut results = Vec::new();
            for (index, t) in targets.into_iter().enumerate() {
                let key_id = tgsess::store::read_file(&t.path)
                    .ok()
                    .and_then(|l| l.session.auth_key().map(|k| k.key_id_hex()));
                let status = if key_id.is_some() {
                    Found::Authorized
                } else {
                    Found::Unchecked
                };
                let result = CheckResult {
                    name: t.name,
                    path: t.path,
                    key_id,
                    finding: Finding::bare(status, None, 1_700_000_000),
                };
                let _ = events.send(CheckEvent::Finished {
                    index,
                    result: Box::new(result.clone()),
                });
                results.push(result);
                if recorder.is_some() {
                    let _recorder = recorder;
                    std::future::pending::<()>().await;
                    unreachable!("a held check never ends");
                }
            }
            results
        })
    }
}
