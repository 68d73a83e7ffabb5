//! The sandbox DC: a small MTProto 2.0 server on 127.0.0.1 that real Telegram clients
//! (grammers, Telethon) log in to, for offline use and end-to-end tests. See docs/sandbox.md.
//!
//! Keys are provisioned out of band (grammers trusts only Telegram's RSA keys): the sandbox
//! records a random key per DC in its state and writes a session pointing at itself.

pub mod accounts;
pub mod crypto;
pub mod dh;
pub mod flood;
pub mod layers;
pub mod rpc;
pub mod rsa;
pub mod server;
pub mod service;
pub mod srp;
pub mod state;
pub mod transport;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;

pub use accounts::{DEMO_ACCOUNTS, DemoAccount};
pub use flood::FloodScript;
pub use server::Tuning;
pub use state::OutboxEntry;

use crate::secret::{AuthKey, SecretString};
use crate::store::{DcEntry, Session};
use accounts::{DC_IDS, bot_id_of_token, home_dc_for_phone, normalize_phone};
use server::{Server, Shared};
use service::unix_now;
use state::{NewUserRecord, PasswordRecord, State, StateError};

/// The api_id tgsess uses in sandbox mode (the sandbox accepts any non-zero api_id).
pub const SANDBOX_API_ID: i32 = 17349;
/// The api_hash tgsess uses in sandbox mode (the sandbox accepts any non-empty hash).
pub const SANDBOX_API_HASH: &str = "5a4d5b0c0ffee0sandbox0api0hash00";

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    State(#[from] StateError),
    /// The OS error is part of the message, not a `source`, so that it is shown once.
    #[error(
        "sandbox: cannot listen on 127.0.0.1:{port}: {cause}{}",
        bind_hint(cause)
    )]
    Bind { port: u16, cause: std::io::Error },
    #[error("sandbox: {0}")]
    Io(#[from] std::io::Error),
    #[error("sandbox: no sandbox has served this state yet (start `tgsess sandbox serve` first)")]
    NeverServed,
    #[error("sandbox: there is no DC {0} (the sandbox serves DCs 1 to 5)")]
    UnknownDc(i32),
    #[error("sandbox: {0} is not a valid phone number")]
    InvalidPhone(String),
    #[error("sandbox: no account with phone {0}")]
    NoSuchUser(String),
    #[error("sandbox: {0} already exists")]
    Exists(String),
    #[error("sandbox: {0}")]
    Invalid(String),
    /// A refusal with Telegram's error name (e.g. AUTH_TOKEN_EXPIRED).
    #[error("sandbox: {name}")]
    Rpc { code: i32, name: String },
}

impl From<rpc::RpcError> for SandboxError {
    fn from(e: rpc::RpcError) -> Self {
        SandboxError::Rpc {
            code: e.code,
            name: e.name,
        }
    }
}

/// How to start a sandbox.
#[derive(Clone, Debug, Default)]
pub struct SandboxConfig {
    /// None: a private temp dir removed on stop.
    pub state_dir: Option<PathBuf>,
    /// Add the demo accounts.
    pub seed: bool,
    /// DC 2 listens here and DCs 1, 3, 4, 5 on the next ports. 0: ephemeral ports (recorded in
    /// the state, reused by later starts on the same state if free).
    pub base_port: u16,
}

/// An account to add.
#[derive(Clone, Debug, Default)]
pub struct NewUser {
    pub phone: String,
    pub first_name: String,
    pub last_name: Option<String>,
    pub password: Option<SecretString>,
    pub hint: Option<String>,
    /// Recovery email (only with a password).
    pub email: Option<String>,
}

impl NewUser {
    pub fn new(phone: impl Into<String>, first_name: impl Into<String>) -> Self {
        Self {
            phone: phone.into(),
            first_name: first_name.into(),
            ..Self::default()
        }
    }

    pub fn with_password(mut self, password: &str, hint: Option<&str>) -> Self {
        self.password = Some(SecretString::new(password));
        self.hint = hint.map(str::to_string);
        self
    }

    pub fn with_email(mut self, email: &str) -> Self {
        self.email = Some(email.to_string());
        self
    }
}

/// A running sandbox.
pub struct Sandbox {
    shared: Arc<Shared>,
    server: Server,
    addrs: BTreeMap<i32, SocketAddr>,
    state_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Sandbox {
    pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        Self::start_tuned(config, Tuning::default()).await
    }

    /// Like [`Sandbox::start`] with custom timeouts (tests use short ones).
    pub async fn start_tuned(
        config: SandboxConfig,
        tuning: Tuning,
    ) -> Result<Sandbox, SandboxError> {
        let (state_dir, temp) = match &config.state_dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("tgsess-sandbox-")
                    .tempdir()?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let state = State::open(&state_dir)?;
        let listeners = bind_listeners(&state, config.base_port).await?;
        let dcs: Vec<(i32, u16)> = listeners
            .iter()
            .map(|(dc, l)| Ok((*dc, l.local_addr()?.port())))
            .collect::<std::io::Result<_>>()?;
        state.set_dc_ports(&dcs)?;
        if config.seed {
            seed(&state)?;
        }
        let addrs = dcs
            .iter()
            .map(|(dc, port)| (*dc, SocketAddr::from((Ipv4Addr::LOCALHOST, *port))))
            .collect();
        let shared = Arc::new(Shared::new(state, dcs, tuning));
        let server = Server::spawn(shared.clone(), listeners);
        Ok(Sandbox {
            shared,
            server,
            addrs,
            state_dir,
            _temp: temp,
        })
    }

    /// The address of a DC (always 127.0.0.1). Panics for a DC the sandbox does not serve.
    pub fn dc_addr(&self, dc_id: i32) -> SocketAddr {
        *self
            .addrs
            .get(&dc_id)
            .unwrap_or_else(|| panic!("the sandbox serves DCs 1 to 5, not {dc_id}"))
    }

    pub fn dc_ids(&self) -> Vec<i32> {
        self.addrs.keys().copied().collect()
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// Connections being served now (all DCs).
    pub fn open_connections(&self) -> usize {
        self.shared.open_connections()
    }

    /// Bytes that unfinished client frames hold now (all connections).
    pub fn buffered_bytes(&self) -> usize {
        self.shared.buffered_bytes()
    }

    /// A fresh logged-out session whose DCs (all sandbox DCs) point at 127.0.0.1 with a
    /// provisioned key each; home DC `home_dc`.
    pub fn new_session(&self, home_dc: i32) -> Result<Session, SandboxError> {
        provision_with(&self.shared.state, home_dc)
    }

    /// Every code "sent" (app, SMS, email), oldest first.
    pub fn outbox(&self) -> Vec<OutboxEntry> {
        self.shared.state.outbox().unwrap_or_default()
    }

    /// The newest code sent to a phone number (any spelling) or an email address.
    pub fn last_code(&self, phone_or_email: &str) -> Option<String> {
        last_code_in(&self.outbox(), phone_or_email)
    }

    pub fn add_user(&self, user: NewUser) -> Result<i64, SandboxError> {
        add_user_to(&self.shared.state, &user)
    }

    /// Adds a bot living on DC 2.
    pub fn add_bot(&self, token: &str, name: &str) -> Result<i64, SandboxError> {
        add_bot_to(&self.shared.state, token, name, accounts::DEFAULT_DC)
    }

    /// Adds a bot living on `dc_id` (for USER_MIGRATE tests).
    pub fn add_bot_on(&self, dc_id: i32, token: &str, name: &str) -> Result<i64, SandboxError> {
        if !self.addrs.contains_key(&dc_id) {
            return Err(SandboxError::UnknownDc(dc_id));
        }
        add_bot_to(&self.shared.state, token, name, dc_id)
    }

    /// The logged-in account with this phone "scans" a QR: accepts the token of a
    /// `tg://login?token=...` URL, and the exporting client gets updateLoginToken.
    pub fn accept_qr(&self, phone: &str, url: &str) -> Result<(), SandboxError> {
        accept_qr_in(&self.shared.state, phone, url)?;
        self.shared.login_token_accepted();
        Ok(())
    }

    /// The RSA key clients may add to do DH with the sandbox (created on first use and kept
    /// in the state). grammers cannot use it; Telethon can (`rsa.add_key(pem, old=False)`).
    pub fn rsa_key(&self) -> Result<rsa::RsaKey, SandboxError> {
        self.shared
            .rsa_key()
            .cloned()
            .ok_or_else(|| SandboxError::Invalid("the RSA key could not be stored".into()))
    }

    pub async fn stop(self) {
        self.server.stop().await;
        // `_temp` (if any) is removed when `self` drops here.
    }
}

/// What to do when a port is taken.
fn bind_hint(cause: &std::io::Error) -> &'static str {
    if cause.kind() == std::io::ErrorKind::AddrInUse {
        " (another program, or another sandbox, uses it: pick other ports with --listen, or omit it)"
    } else {
        ""
    }
}

async fn bind_listeners(
    state: &State,
    base_port: u16,
) -> Result<Vec<(i32, tokio::net::TcpListener)>, SandboxError> {
    if base_port != 0 {
        let wanted: Vec<(i32, u16)> = DC_IDS
            .iter()
            .enumerate()
            .map(|(i, dc)| (*dc, base_port.saturating_add(i as u16)))
            .collect();
        let mut out = Vec::new();
        for (dc, port) in wanted {
            let l = server::bind(&[(dc, port)])
                .await
                .map_err(|cause| SandboxError::Bind { port, cause })?;
            out.extend(l);
        }
        return Ok(out);
    }
    // Reuse the ports of the previous run on this state, so old sessions keep working.
    let recorded = state.dc_ports()?;
    if recorded.len() == DC_IDS.len()
        && let Ok(listeners) = server::bind(&recorded).await
    {
        return Ok(listeners);
    }
    let ephemeral: Vec<(i32, u16)> = DC_IDS.iter().map(|dc| (*dc, 0)).collect();
    Ok(server::bind(&ephemeral).await?)
}

/// Where each DC of the sandbox whose state is in `state_dir` listens: 127.0.0.1 and the ports
/// its last start recorded (the only addresses sandbox mode dials).
pub fn dc_addresses(state_dir: &Path) -> Result<BTreeMap<i32, SocketAddr>, SandboxError> {
    let ports = State::open(state_dir)?.dc_ports()?;
    if ports.is_empty() {
        return Err(SandboxError::NeverServed);
    }
    Ok(ports
        .into_iter()
        .map(|(dc, port)| (dc, SocketAddr::from((Ipv4Addr::LOCALHOST, port))))
        .collect())
}

/// Provisions a key per DC in the state and returns a logged-out session using them.
/// Works against the state dir of a running `tgsess sandbox serve` too.
pub fn provision_session(state_dir: &Path, home_dc: i32) -> Result<Session, SandboxError> {
    let state = State::open(state_dir)?;
    provision_with(&state, home_dc)
}

fn provision_with(state: &State, home_dc: i32) -> Result<Session, SandboxError> {
    let ports = state.dc_ports()?;
    if ports.is_empty() {
        return Err(SandboxError::NeverServed);
    }
    if !ports.iter().any(|(dc, _)| *dc == home_dc) {
        return Err(SandboxError::UnknownDc(home_dc));
    }
    let mut session = Session::new(home_dc);
    session.dcs.clear();
    for (dc, port) in ports {
        let key = AuthKey::random();
        state.insert_key(dc, &key)?;
        let entry = session.dc_mut(dc);
        *entry = DcEntry {
            id: dc,
            ipv4: Some(Ipv4Addr::LOCALHOST),
            ipv6: None,
            port: Some(port),
            auth_key: Some(key),
        };
    }
    session.api_id = Some(SANDBOX_API_ID);
    session.test_mode = Some(false);
    Ok(session)
}

fn password_record(password: &SecretString, hint: Option<&str>) -> PasswordRecord {
    let mut salt1 = vec![0u8; 40];
    let mut salt2 = vec![0u8; 16];
    getrandom::fill(&mut salt1).expect("the OS random source failed");
    getrandom::fill(&mut salt2).expect("the OS random source failed");
    let verifier = crate::crypto::srp::verifier(password.reveal().as_bytes(), &salt1, &salt2);
    PasswordRecord {
        salt1,
        salt2,
        verifier: verifier.to_vec(),
        hint: hint.map(str::to_string).filter(|h| !h.is_empty()),
    }
}

/// Adds an account to a state (shared by `Sandbox::add_user` and `tgsess sandbox add-user`).
pub fn add_user_to(state: &State, user: &NewUser) -> Result<i64, SandboxError> {
    let phone = normalize_phone(&user.phone)
        .ok_or_else(|| SandboxError::InvalidPhone(user.phone.clone()))?;
    if user.first_name.trim().is_empty() {
        return Err(SandboxError::Invalid("the first name is empty".into()));
    }
    if state.user_by_phone(&phone)?.is_some() {
        return Err(SandboxError::Exists(format!(
            "an account with phone {phone}"
        )));
    }
    if user.email.is_some() && user.password.is_none() {
        return Err(SandboxError::Invalid(
            "a recovery email needs a password".into(),
        ));
    }
    let password = user
        .password
        .as_ref()
        .filter(|p| !p.is_empty())
        .map(|p| password_record(p, user.hint.as_deref()));
    Ok(state.insert_user(&NewUserRecord {
        id: None,
        dc_id: home_dc_for_phone(&phone),
        phone: Some(phone),
        first_name: user.first_name.trim().to_string(),
        last_name: user
            .last_name
            .clone()
            .unwrap_or_default()
            .trim()
            .to_string(),
        bot_token: None,
        password,
        email: user.email.clone(),
    })?)
}

/// Adds a bot to a state; its id is the token's numeric prefix.
pub fn add_bot_to(state: &State, token: &str, name: &str, dc_id: i32) -> Result<i64, SandboxError> {
    let id = bot_id_of_token(token)
        .ok_or_else(|| SandboxError::Invalid("a bot token looks like 123456:SECRET".into()))?;
    if name.trim().is_empty() {
        return Err(SandboxError::Invalid("the bot name is empty".into()));
    }
    if state.user(id)?.is_some() || state.user_by_bot_token(token)?.is_some() {
        return Err(SandboxError::Exists(format!("a bot with id {id}")));
    }
    Ok(state.insert_user(&NewUserRecord {
        id: Some(id),
        phone: None,
        first_name: name.trim().to_string(),
        last_name: String::new(),
        dc_id,
        bot_token: Some(token.to_string()),
        password: None,
        email: None,
    })?)
}

/// Adds the demo accounts that are missing.
pub fn seed(state: &State) -> Result<(), SandboxError> {
    for demo in DEMO_ACCOUNTS {
        let result = match (demo.phone, demo.bot_token) {
            (Some(phone), _) => add_user_to(
                state,
                &NewUser {
                    phone: phone.to_string(),
                    first_name: demo.first_name.to_string(),
                    last_name: Some(demo.last_name.to_string()),
                    password: demo.password.map(SecretString::new),
                    hint: demo.hint.map(str::to_string),
                    email: demo.email.map(str::to_string),
                },
            ),
            (None, Some(token)) => add_bot_to(state, token, demo.first_name, demo.dc_id),
            (None, None) => continue,
        };
        match result {
            Ok(_) | Err(SandboxError::Exists(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The token of a `tg://login?token=BASE64URL` link.
pub fn token_from_qr_url(url: &str) -> Result<Vec<u8>, SandboxError> {
    let invalid = || SandboxError::Invalid("expected a tg://login?token=... link".into());
    let query = url.trim().strip_prefix("tg://login?").ok_or_else(invalid)?;
    let token = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .ok_or_else(invalid)?;
    let token = token.trim_end_matches('=');
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| invalid())
}

/// The `tg://login` link for a token, as official apps encode it.
pub fn qr_url_for_token(token: &[u8]) -> String {
    format!(
        "tg://login?token={}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token)
    )
}

/// Accepts a QR login token in a state on behalf of the account with `phone`.
pub fn accept_qr_in(state: &State, phone: &str, url: &str) -> Result<(), SandboxError> {
    let token = token_from_qr_url(url)?;
    let normalized =
        normalize_phone(phone).ok_or_else(|| SandboxError::InvalidPhone(phone.into()))?;
    let user = state
        .user_by_phone(&normalized)?
        .ok_or_else(|| SandboxError::NoSuchUser(normalized.clone()))?;
    rpc::auth::accept_token_for(state, &token, user.id, unix_now())?;
    Ok(())
}

/// The newest code in `outbox` for a phone number (any spelling) or an email address.
pub fn last_code_in(outbox: &[OutboxEntry], phone_or_email: &str) -> Option<String> {
    let wanted =
        normalize_phone(phone_or_email).unwrap_or_else(|| phone_or_email.trim().to_string());
    outbox
        .iter()
        .rev()
        .find(|e| e.recipient == wanted)
        .map(|e| e.code.reveal().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_urls_round_trip() {
        let token = vec![0xfbu8, 0xff, 1, 2, 3];
        let url = qr_url_for_token(&token);
        assert!(url.starts_with("tg://login?token="));
        assert_eq!(token_from_qr_url(&url).unwrap(), token);
        assert!(token_from_qr_url("https://example.invalid").is_err());
    }

    #[test]
    fn provisioning_needs_a_served_state_and_a_known_dc() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            provision_session(dir.path(), 2),
            Err(SandboxError::NeverServed)
        ));
        let state = State::open(dir.path()).unwrap();
        state.set_dc_ports(&[(1, 4001), (2, 4000)]).unwrap();
        assert!(matches!(
            provision_session(dir.path(), 9),
            Err(SandboxError::UnknownDc(9))
        ));
        let s = provision_session(dir.path(), 2).unwrap();
        assert_eq!(s.dc_id, 2);
        assert_eq!(s.dcs.len(), 2);
        assert_eq!(s.home().unwrap().port, Some(4000));
        let key = s.auth_key().unwrap();
        let stored = state.key(crypto::key_id(key)).unwrap().unwrap();
        assert_eq!(stored.dc_id, 2);
        assert_eq!(&stored.key, key);
    }

    #[test]
    fn seeding_is_idempotent_and_users_get_verifiers() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(dir.path()).unwrap();
        seed(&state).unwrap();
        seed(&state).unwrap();
        let bob = state.user_by_phone("9996622222").unwrap().unwrap();
        let pw = bob.password.unwrap();
        assert_eq!(pw.hint.as_deref(), Some("the usual"));
        assert_eq!(
            pw.verifier,
            crate::crypto::srp::verifier(b"sandbox", &pw.salt1, &pw.salt2).to_vec()
        );
        let carol = state.user_by_phone("9996641111").unwrap().unwrap();
        assert_eq!(carol.dc_id, 4);
        let bot = state
            .user_by_bot_token("123456:SANDBOX-demo-bot-token")
            .unwrap()
            .unwrap();
        assert!(bot.is_bot);
        assert_eq!(bot.id, 123456);
    }

    #[test]
    fn accept_qr_refuses_expired_unknown_and_strangers() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(dir.path()).unwrap();
        seed(&state).unwrap();
        let now = unix_now();
        state.insert_login_token(b"old", 1, 2, now - 1).unwrap();
        state.insert_login_token(b"new", 1, 2, now + 30).unwrap();
        let rpc_name = |r: Result<(), SandboxError>| match r {
            Err(SandboxError::Rpc { name, .. }) => name,
            other => panic!("expected an RPC refusal, got {other:?}"),
        };
        assert_eq!(
            rpc_name(accept_qr_in(
                &state,
                "9996621111",
                &qr_url_for_token(b"old")
            )),
            "AUTH_TOKEN_EXPIRED"
        );
        assert_eq!(
            rpc_name(accept_qr_in(
                &state,
                "9996621111",
                &qr_url_for_token(b"nope")
            )),
            "AUTH_TOKEN_INVALID"
        );
        assert!(matches!(
            accept_qr_in(&state, "9996620000", &qr_url_for_token(b"new")),
            Err(SandboxError::NoSuchUser(_))
        ));
        accept_qr_in(&state, "9996621111", &qr_url_for_token(b"new")).unwrap();
        assert_eq!(
            rpc_name(accept_qr_in(
                &state,
                "9996621111",
                &qr_url_for_token(b"new")
            )),
            "AUTH_TOKEN_ALREADY_ACCEPTED"
        );
    }

    #[test]
    fn last_code_matches_any_phone_spelling() {
        let entry = |id, to: &str, code: &str| OutboxEntry {
            id,
            at: 0,
            channel: "sms".into(),
            recipient: to.into(),
            code: SecretString::new(code),
            purpose: "login".into(),
        };
        let outbox = vec![
            entry(1, "9996621111", "11111"),
            entry(2, "a@b.c", "999999"),
            entry(3, "9996621111", "22222"),
        ];
        assert_eq!(
            last_code_in(&outbox, "+999 662 1111").as_deref(),
            Some("22222")
        );
        assert_eq!(last_code_in(&outbox, "a@b.c").as_deref(), Some("999999"));
        assert_eq!(last_code_in(&outbox, "123456789"), None);
    }
}
