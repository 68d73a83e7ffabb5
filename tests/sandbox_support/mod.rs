//! Helpers shared by the sandbox integration tests: real grammers clients against an
//! in-process sandbox on 127.0.0.1.
#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use grammers_client::Client;
use grammers_client::sender::{InvocationError, SenderPool};
use grammers_session::updates::UpdatesLike;
use tgsess::sandbox::{SANDBOX_API_HASH, SANDBOX_API_ID, Sandbox, SandboxConfig};
use tgsess::store::adapter::{Backend, StoredSession};
use tgsess::telegram::dial_guard::{GuardedSession, Network};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Every wait in these tests is bounded by this deadline.
pub const DEADLINE: Duration = Duration::from_secs(60);

pub async fn within<F: Future>(what: &str, f: F) -> F::Output {
    match tokio::time::timeout(DEADLINE, f).await {
        Ok(out) => out,
        Err(_) => panic!("{what}: no answer within {DEADLINE:?}"),
    }
}

pub async fn seeded() -> Sandbox {
    Sandbox::start(SandboxConfig {
        state_dir: None,
        seed: true,
        base_port: 0,
    })
    .await
    .expect("sandbox starts")
}

pub struct TestClient {
    pub client: Client,
    pub session: Arc<StoredSession>,
    pub updates: mpsc::Receiver<UpdatesLike>,
    runner: JoinHandle<()>,
}

impl TestClient {
    pub fn home_dc(&self) -> i32 {
        self.session.snapshot().dc_id
    }

    pub async fn quit(self) {
        self.client.disconnect();
        let _ = within("pool stops", self.runner).await;
    }
}

/// A grammers client over a freshly provisioned, logged-out session (memory backend).
pub fn client(sandbox: &Sandbox, home_dc: i32) -> TestClient {
    let session = sandbox.new_session(home_dc).expect("provision a session");
    client_for(Arc::new(StoredSession::new(session, Backend::Memory)))
}

pub fn client_for(session: Arc<StoredSession>) -> TestClient {
    client_with(
        session,
        grammers_client::sender::ConnectionParams::default(),
    )
}

pub fn client_with(
    session: Arc<StoredSession>,
    params: grammers_client::sender::ConnectionParams,
) -> TestClient {
    // The same guard as tgsess's connections: these clients may dial loopback only.
    tgsess::telegram::dial_guard::force_loopback_only();
    let guarded = Arc::new(GuardedSession::new(
        Arc::clone(&session),
        Network::Telegram,
        params.use_ipv6,
    ));
    let pool = SenderPool::with_configuration(guarded, SANDBOX_API_ID, params);
    let client = Client::new(pool.handle);
    let runner = tokio::spawn(pool.runner.run());
    TestClient {
        client,
        session,
        updates: pool.updates,
        runner,
    }
}

/// Logs in a user without 2FA through grammers' phone flow (following PHONE_MIGRATE).
pub async fn phone_login(sandbox: &Sandbox, phone: &str, home_dc: i32) -> TestClient {
    let tc = client(sandbox, home_dc);
    let token = within(
        "request_login_code",
        tc.client.request_login_code(phone, SANDBOX_API_HASH),
    )
    .await
    .expect("code sent");
    let code = sandbox.last_code(phone).expect("a code in the outbox");
    within("sign_in", tc.client.sign_in(&token, &code))
        .await
        .expect("signed in");
    tc
}

/// `(code, name with its number)` of an RPC error, e.g. `(303, "PHONE_MIGRATE", Some(4))`.
pub fn rpc_error(err: &InvocationError) -> (i32, String, Option<u32>) {
    match err {
        InvocationError::Rpc(e) => (e.code, e.name.clone(), e.value),
        other => panic!("expected an RPC error, got {other}"),
    }
}

use grammers_client::tl;

/// The account's current password settings.
pub async fn get_password(tc: &TestClient) -> tl::types::account::Password {
    let tl::enums::account::Password::Password(p) = within(
        "getPassword",
        tc.client.invoke(&tl::functions::account::GetPassword {}),
    )
    .await
    .expect("getPassword");
    p
}

/// An SRP proof of `password` (as Telethon's edit_2fa builds it), or the empty check.
pub async fn srp_check(tc: &TestClient, password: &str) -> tl::enums::InputCheckPasswordSrp {
    let p = get_password(tc).await;
    let Some(tl::enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(algo)) =
        p.current_algo
    else {
        return tl::enums::InputCheckPasswordSrp::InputCheckPasswordEmpty;
    };
    let (m1, g_a) = grammers_crypto::two_factor_auth::calculate_2fa(
        &algo.salt1,
        &algo.salt2,
        &algo.p,
        &algo.g,
        p.srp_b.unwrap(),
        p.secure_random,
        password,
    );
    tl::enums::InputCheckPasswordSrp::Srp(tl::types::InputCheckPasswordSrp {
        srp_id: p.srp_id.unwrap(),
        a: g_a.to_vec(),
        m1: m1.to_vec(),
    })
}

/// `passwordInputSettings` for a new password, from the salts getPassword issued.
pub async fn new_password_settings(
    tc: &TestClient,
    password: &str,
    hint: &str,
    email: Option<&str>,
) -> tl::enums::account::PasswordInputSettings {
    let p = get_password(tc).await;
    let tl::enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(algo) =
        p.new_algo
    else {
        panic!("new_algo must be the SRP algorithm");
    };
    let mut salt1 = algo.salt1.clone();
    let mut extra = [0u8; 32];
    getrandom::fill(&mut extra).unwrap();
    salt1.extend_from_slice(&extra);
    let hash = tgsess::crypto::srp::verifier(password.as_bytes(), &salt1, &algo.salt2);
    tl::enums::account::PasswordInputSettings::Settings(tl::types::account::PasswordInputSettings {
        new_algo: Some(
            tl::enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(
                tl::types::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow {
                    salt1,
                    salt2: algo.salt2,
                    g: algo.g,
                    p: algo.p,
                },
            ),
        ),
        new_password_hash: Some(hash.to_vec()),
        hint: Some(hint.to_string()),
        email: email.map(str::to_string),
        new_secure_settings: None,
    })
}

/// Logs in a user whose account has 2FA, through grammers' sign_in + check_password.
pub async fn login_with_password(
    sandbox: &Sandbox,
    phone: &str,
    home_dc: i32,
    password: &str,
) -> TestClient {
    let tc = client(sandbox, home_dc);
    let token = within(
        "request_login_code",
        tc.client.request_login_code(phone, SANDBOX_API_HASH),
    )
    .await
    .expect("code sent");
    let code = sandbox.last_code(phone).expect("a code in the outbox");
    match within("sign_in", tc.client.sign_in(&token, &code)).await {
        Err(grammers_client::SignInError::PasswordRequired(pt)) => {
            within("check_password", tc.client.check_password(pt, password))
                .await
                .expect("password accepted");
        }
        Err(e) => panic!("expected PasswordRequired, got {e}"),
        Ok(_) => panic!("expected PasswordRequired, got a login"),
    }
    tc
}
