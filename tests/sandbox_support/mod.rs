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
    let pool = SenderPool::new(Arc::clone(&session), SANDBOX_API_ID);
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
