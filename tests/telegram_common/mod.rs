//! Shared set-up of the account-flow tests: an in-process sandbox (127.0.0.1, ephemeral
//! ports), a private session folder and lock folder, and helpers with deadlines.

#![allow(dead_code)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use tgsess::sandbox::Tuning;
use tgsess::sandbox::{Sandbox, SandboxConfig};
use tgsess::secret::SecretString;
use tgsess::store::adapter::{Backend, StoredSession};
use tgsess::store::{self, Format};
use tgsess::telegram::{
    ConnectOptions, Connection, Me, PhoneFlow, PhonePrompt, PhoneStep, TgError,
};

/// No single step of a flow may take longer than this against a local sandbox.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub async fn within<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(DEADLINE, future)
        .await
        .expect("the step did not finish before the deadline")
}

pub struct Harness {
    pub sandbox: Sandbox,
    pub dir: tempfile::TempDir,
    locks: tempfile::TempDir,
}

impl Harness {
    pub async fn start() -> Harness {
        Self::start_tuned(Tuning::default()).await
    }

    pub async fn start_tuned(tuning: Tuning) -> Harness {
        tgsess::telegram::dial_guard::force_loopback_only();
        let config = SandboxConfig {
            state_dir: None,
            seed: true,
            base_port: 0,
        };
        let sandbox = Sandbox::start_tuned(config, tuning)
            .await
            .expect("the sandbox starts");
        Harness {
            sandbox,
            dir: tempfile::tempdir().unwrap(),
            locks: tempfile::tempdir().unwrap(),
        }
    }

    pub fn options(&self) -> ConnectOptions {
        let mut options = tgsess::mode::sandbox_options(self.sandbox.state_dir());
        options.lock_dir = self.locks.path().to_path_buf();
        options
    }

    /// A fresh logged-out session saved in `format` as `name` in the test folder.
    pub fn new_session(&self, format: Format, name: &str) -> (PathBuf, Connection) {
        let ext = match format.backend() {
            store::BackendKind::Sqlite => "session",
            _ => "string",
        };
        let path = self.dir.path().join(format!("{name}.{ext}"));
        let session = self.sandbox.new_session(2).expect("a provisioned session");
        let stored = StoredSession::new(
            session,
            Backend::File {
                path: path.clone(),
                format,
            },
        );
        let conn = Connection::open(stored, &self.options()).expect("connects");
        (path, conn)
    }

    pub fn open(&self, path: &Path) -> Connection {
        Connection::open_file(path, &self.options()).expect("opens the session file")
    }

    /// A logged-in in-memory connection of the account with this phone.
    pub async fn login_phone(&self, phone: &str, code: &str, password: Option<&str>) -> Connection {
        let session = self.sandbox.new_session(2).expect("a provisioned session");
        let conn = Connection::open(
            StoredSession::new(session, Backend::Memory),
            &self.options(),
        )
        .expect("connects");
        let mut flow = PhoneFlow::new(conn.clone());
        within(flow.start(phone)).await.expect("code sent");
        let mut step = within(flow.enter_code(SecretString::new(code)))
            .await
            .expect("signs in");
        if let PhoneStep::Ask(PhonePrompt::Password(_)) = step {
            let password = password.expect("this account needs a password");
            step = within(flow.enter_password(SecretString::new(password)))
                .await
                .expect("password accepted");
        }
        expect_done(Ok(step));
        conn
    }
}

pub fn expect_done(step: Result<PhoneStep, TgError>) -> Me {
    match step {
        Ok(PhoneStep::Done(me)) => me,
        other => panic!("expected the login to finish, got {other:?}"),
    }
}

/// Reads the file back; it must still be in `format`'s family.
pub fn reread(path: &Path, format: Format) -> store::Loaded {
    let loaded = store::read_file(path).expect("the session file is still valid");
    assert_eq!(
        loaded.format.family(),
        format.family(),
        "{}",
        path.display()
    );
    loaded
}
