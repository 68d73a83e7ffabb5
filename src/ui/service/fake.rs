//! A scripted, in-memory stand-in for Telegram: a few users and bots, one valid code, and
//! injectable failures (FLOOD_WAIT, any RPC error) and holds (a call that never answers, to
//! test cancellation). Used by the UI tests; it never touches the network.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::*;
use crate::secret::AuthKey;
use crate::store::SelfUser;

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
    failures: HashMap<String, VecDeque<ServiceError>>,
    held: Vec<String>,
    calls: Vec<String>,
    next_user_id: i64,
    qr_counter: u64,
    authorizations: Vec<Authorization>,
    pending_email: Option<(i64, String)>,
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
                Authorization {
                    hash: 0,
                    current: true,
                    device: "tgsess".into(),
                    platform: "Linux".into(),
                    app: "tgsess 0.1".into(),
                    ip: "127.0.0.1".into(),
                    country: "Localhost".into(),
                    date_active: 1_700_000_000,
                },
                Authorization {
                    hash: 77,
                    current: false,
                    device: "Pixel 8".into(),
                    platform: "Android".into(),
                    app: "Telegram Android 11.0".into(),
                    ip: "127.0.0.2".into(),
                    country: "Nowhere".into(),
                    date_active: 1_699_000_000,
                },
            ],
            pending_email: None,
            last_qr_url: None,
        };
        FakeService {
            world: Mutex::new(world),
            scans: watch::channel(0).0,
        }
    }

    /// The next call of `method` fails with `error` (queued; one per call).
    pub fn fail_next(&self, method: &str, error: ServiceError) {
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
    fn begin(&self, method: &str) -> Result<Option<HoldGuard>, ServiceError> {
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
        f: impl FnOnce(&mut World) -> Result<T, ServiceError> + Send + 'static,
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
    s.user_id = Some(me.id);
    s.is_bot = Some(me.is_bot);
    s.api_id = Some(1);
    s.test_mode = Some(false);
    s.user = Some(SelfUser {
        first_name: Some(me.first_name.clone()),
        last_name: me.last_name.clone(),
        username: me.username.clone(),
        phone: me.phone.clone(),
    });
    s
}

fn me_of(u: &FakeUser) -> Me {
    Me {
        id: u.id,
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        username: u.username.clone(),
        phone: Some(u.phone.clone()),
        is_bot: false,
    }
}

fn done(u: &FakeUser) -> LoginResult {
    let me = me_of(u);
    LoginResult {
        session: fake_session(&me),
        me,
    }
}

fn invalid(name: &str) -> ServiceError {
    ServiceError::rpc(400, name)
}

fn sent() -> SentCode {
    SentCode {
        delivery: CodeDelivery::App,
        next: Some(CodeDelivery::Sms),
        timeout_secs: Some(30),
        code_length: Some(5),
    }
}

fn account_user(w: &World, account: &Account) -> Result<usize, ServiceError> {
    let id = account.session.user_id;
    w.users
        .iter()
        .position(|u| Some(u.id) == id)
        .ok_or_else(|| ServiceError::rpc(401, "AUTH_KEY_UNREGISTERED"))
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

impl AccountService for Fake {
    fn send_code(&self, login: LoginId, phone: String) -> Fut<SentCode> {
        self.0.respond("send_code", move |w| {
            if !phone.starts_with('+') || phone.len() < 6 {
                return Err(invalid("PHONE_NUMBER_INVALID"));
            }
            let l = w.logins.entry(login).or_default();
            l.phone = Some(phone);
            Ok(sent())
        })
    }

    fn resend_code(&self, login: LoginId, force_sms: bool) -> Fut<SentCode> {
        self.0.respond("resend_code", move |w| {
            let l = w.logins.get(&login).filter(|l| l.phone.is_some());
            l.ok_or_else(|| invalid("PHONE_NUMBER_INVALID"))?;
            Ok(SentCode {
                delivery: if force_sms {
                    CodeDelivery::Sms
                } else {
                    CodeDelivery::Call
                },
                next: None,
                timeout_secs: Some(60),
                code_length: Some(5),
            })
        })
    }

    fn sign_in(&self, login: LoginId, code: SecretString) -> Fut<SignInOutcome> {
        self.0.respond("sign_in", move |w| {
            if code.reveal() != FAKE_CODE {
                return Err(invalid("PHONE_CODE_INVALID"));
            }
            let phone = w.logins.get(&login).and_then(|l| l.phone.clone());
            let phone = phone.ok_or_else(|| invalid("PHONE_NUMBER_INVALID"))?;
            match w.users.iter().position(|u| u.phone == phone) {
                None => {
                    w.logins.entry(login).or_default().signed_up_needed = true;
                    Ok(SignInOutcome::SignUpRequired { terms: None })
                }
                Some(i) if w.users[i].password.is_some() => {
                    w.logins.entry(login).or_default().password_user = Some(i);
                    Ok(SignInOutcome::PasswordRequired {
                        hint: w.users[i].hint.clone(),
                    })
                }
                Some(i) => Ok(SignInOutcome::Done(Box::new(done(&w.users[i])))),
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
                .ok_or_else(|| invalid("PASSWORD_REQUIRED"))?;
            if w.users[i].password.as_deref() != Some(password.reveal()) {
                return Err(invalid("PASSWORD_HASH_INVALID"));
            }
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
                id: *id,
                first_name: name.clone(),
                username: Some("demo_bot".into()),
                is_bot: true,
                ..Me::default()
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

    fn qr_wait(&self, login: LoginId) -> Fut<LoginOutcome> {
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
                            return Ok(LoginOutcome::PasswordRequired {
                                hint: w.users[i].hint.clone(),
                            });
                        }
                        return Ok(LoginOutcome::Done(Box::new(done(&w.users[i]))));
                    }
                }
                if rx.changed().await.is_err() {
                    return Err(ServiceError::Network("the fake service stopped".into()));
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

    fn end_login(&self, login: LoginId) {
        let mut w = self.0.world.lock().unwrap();
        w.calls.push("end_login".into());
        w.logins.remove(&login);
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

    fn edit_2fa(&self, account: Account, change: TwoFaChange) -> Fut<TwoFaOutcome> {
        self.0.respond("edit_2fa", move |w| {
            let i = account_user(w, &account)?;
            let current = change.current.as_ref().map(|c| c.reveal().to_string());
            if w.users[i].password != current {
                return Err(invalid("PASSWORD_HASH_INVALID"));
            }
            let u = &mut w.users[i];
            u.password = change.new.as_ref().map(|p| p.reveal().to_string());
            u.hint = Some(change.hint.clone()).filter(|h| !h.is_empty() && u.password.is_some());
            if u.password.is_none() {
                u.email = None;
            }
            match change.email.filter(|e| !e.is_empty()) {
                Some(email) => {
                    let pattern = format!("{}***", &email[..1.min(email.len())]);
                    let uid = u.id;
                    w.pending_email = Some((uid, email));
                    Ok(TwoFaOutcome::EmailCodeSent { pattern })
                }
                None => Ok(TwoFaOutcome::Done),
            }
        })
    }

    fn confirm_email(&self, account: Account, code: SecretString) -> Fut<()> {
        self.0.respond("confirm_email", move |w| {
            let i = account_user(w, &account)?;
            if code.reveal() != FAKE_EMAIL_CODE {
                return Err(invalid("EMAIL_CODE_INVALID"));
            }
            let (uid, email) = w
                .pending_email
                .take()
                .ok_or_else(|| invalid("EMAIL_HASH_EXPIRED"))?;
            if uid == w.users[i].id {
                w.users[i].email = Some(email);
            }
            Ok(())
        })
    }

    fn log_out(&self, account: Account) -> Fut<()> {
        self.0
            .respond("log_out", move |w| account_user(w, &account).map(|_| ()))
    }

    fn authorizations(&self, account: Account) -> Fut<Vec<Authorization>> {
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

    fn copy_clone(&self, account: Account) -> Fut<Session> {
        self.0.respond("copy_clone", move |_| Ok(account.session))
    }

    fn fork(&self, login: LoginId, account: Account) -> Fut<LoginOutcome> {
        self.0.respond("fork", move |w| {
            let i = account_user(w, &account)?;
            if w.users[i].password.is_some() {
                w.logins.entry(login).or_default().password_user = Some(i);
                return Ok(LoginOutcome::PasswordRequired {
                    hint: w.users[i].hint.clone(),
                });
            }
            Ok(LoginOutcome::Done(Box::new(done(&w.users[i]))))
        })
    }

    fn get_me(&self, account: Account) -> Fut<Me> {
        self.0.respond("get_me", move |w| {
            let i = account_user(w, &account)?;
            Ok(me_of(&w.users[i]))
        })
    }
}
