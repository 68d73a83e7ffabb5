//! A connected grammers `Client` over a stored session (any backend, write-through), with the
//! session's locks held for as long as the connection lives.

use std::num::{NonZeroU32, NonZeroUsize};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use grammers_client::Client;
use grammers_mtsender::{
    AutoSleep, ConnectionParams, InvocationError, SenderPool, SenderPoolHandle,
};
use grammers_session::Session as _;
use grammers_session::types::{PeerAuth, PeerInfo};
use grammers_session::updates::UpdatesLike;
use grammers_tl_types as tl;
use tokio::sync::{Mutex, mpsc};

use super::config::ApiCredentials;
use super::error::TgError;
use super::lock::{self, HeldLock};
use super::types::Me;
use crate::store::adapter::{Backend, StoredSession};
use crate::store::{SelfUser, Session};

/// Gives a session with fresh keys for every DC (the sandbox provisions keys out of band
/// instead of running the DH exchange). `home_dc` is the wanted home DC.
pub type KeyProvider = Arc<dyn Fn(i32) -> Result<Session, String> + Send + Sync>;

/// How to reach Telegram (or the sandbox).
#[derive(Clone)]
pub struct ConnectOptions {
    pub api: ApiCredentials,
    /// `socks5://[user:pass@]host:port`
    pub proxy: Option<String>,
    /// Where the advisory locks live (see [`lock::default_lock_dir`]).
    pub lock_dir: PathBuf,
    /// Used when the session has no key for its home DC (new, or logged out).
    pub key_provider: Option<KeyProvider>,
    /// Shown in the account's device list.
    pub device_model: String,
    pub app_version: String,
    /// The network tasks of the connections opened with these options (and their clones).
    pub tasks: NetworkTasks,
}

impl ConnectOptions {
    pub fn new(api: ApiCredentials) -> Self {
        Self {
            api,
            proxy: None,
            lock_dir: lock::default_lock_dir(),
            key_provider: None,
            device_model: "tgsess".into(),
            app_version: env!("CARGO_PKG_VERSION").into(),
            tasks: NetworkTasks::default(),
        }
    }
}

/// The network task (grammers' sender pool runner) of every connection opened with one set of
/// [`ConnectOptions`]. Wait for them with [`NetworkTasks::shut_down`] before the runtime stops:
/// a runtime that stops first cancels the pool's connection tasks under the runner, which then
/// panics ("task … was cancelled") as the process exits.
#[derive(Clone, Default)]
pub struct NetworkTasks(Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>);

impl NetworkTasks {
    fn track(&self, task: tokio::task::JoinHandle<()>) {
        let mut tasks = self.0.lock().unwrap_or_else(|e| e.into_inner());
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
    }

    /// Waits for every tracked task to end (each ends once the last clone of its
    /// [`Connection`] is dropped); whatever still runs after `grace` is aborted, which drops
    /// the runner and its connections together, silently.
    pub async fn shut_down(&self, grace: Duration) -> ShutDown {
        let tasks = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        let deadline = tokio::time::Instant::now() + grace;
        let mut report = ShutDown::default();
        for mut task in tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_ok() {
                report.ended += 1;
            } else {
                task.abort();
                let _ = task.await;
                report.aborted += 1;
            }
        }
        report
    }
}

/// How the network tasks ended in [`NetworkTasks::shut_down`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShutDown {
    /// Ended by themselves, their connection closed.
    pub ended: usize,
    /// Still running after the grace period (a connection was still alive).
    pub aborted: usize,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("api", &self.api)
            .field("proxy", &self.proxy.as_ref().map(|_| "<set>"))
            .field("lock_dir", &self.lock_dir)
            .field("key_provider", &self.key_provider.is_some())
            .finish()
    }
}

struct Inner {
    client: Client,
    /// RPCs sent through this connection (for benchmarks and diagnostics).
    rpc_count: AtomicUsize,
    handle: SenderPoolHandle,
    session: Arc<StoredSession>,
    updates: Mutex<mpsc::Receiver<UpdatesLike>>,
    api: ApiCredentials,
    _locks: Vec<HeldLock>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closes every connection; the runner task then ends on its own.
        self.handle.quit();
    }
}

/// A live connection. Cheap to clone; the network stops when the last clone is dropped.
#[derive(Clone)]
pub struct Connection(Arc<Inner>);

impl Connection {
    /// Opens a session file of any format (saved back in that format) and connects.
    pub fn open_file(path: &std::path::Path, options: &ConnectOptions) -> Result<Self, TgError> {
        // Lock before reading, so that a second process never even reads a key in use.
        let file_lock = lock::lock_session_file(&options.lock_dir, path)?;
        let stored = StoredSession::open(path)?;
        Self::connect_locked(stored, options, vec![file_lock])
    }

    /// Connects a session held by the caller (a new file, or memory).
    pub fn open(stored: StoredSession, options: &ConnectOptions) -> Result<Self, TgError> {
        let mut locks = Vec::new();
        if let Backend::File { path, .. } = stored.backend() {
            locks.push(lock::lock_session_file(&options.lock_dir, path)?);
        }
        Self::connect_locked(stored, options, locks)
    }

    fn connect_locked(
        stored: StoredSession,
        options: &ConnectOptions,
        mut locks: Vec<HeldLock>,
    ) -> Result<Self, TgError> {
        let snapshot = stored.snapshot();
        // An all-zero key is how string formats say "logged out".
        let usable_key = snapshot.auth_key().is_some_and(|k| !k.is_all_zero());
        if !usable_key && let Some(provide) = &options.key_provider {
            let fresh = provide(snapshot.dc_id).map_err(TgError::Network)?;
            stored.update(|s| adopt_keys(s, &fresh))?;
        }
        if snapshot.api_id.is_none() {
            stored.update(|s| s.api_id = Some(options.api.api_id))?;
        }
        if let Some(key) = stored.snapshot().auth_key() {
            locks.push(lock::lock_auth_key(&options.lock_dir, key)?);
        }
        let session = Arc::new(stored);
        let params = ConnectionParams {
            device_model: options.device_model.clone(),
            system_version: std::env::consts::OS.into(),
            app_version: options.app_version.clone(),
            system_lang_code: "en".into(),
            lang_code: "en".into(),
            proxy_url: options.proxy.clone(),
            // Never sleep silently for long: a FLOOD_WAIT above 3 s reaches the caller.
            retry_policy: Box::new(AutoSleep {
                tries: NonZeroU32::MIN,
                threshold: Duration::from_secs(3),
                io_errors_as_flood_of: Some(Duration::from_secs(1)),
            }),
            updates_channel_capacity: NonZeroUsize::new(64).expect("non-zero"),
            use_ipv6: false,
            // Every field is set here on purpose: `ConnectionParams::default()` runs
            // `lsb_release` (os_info), and a child process forked while another thread holds a
            // session lock keeps that lock until it execs (flaky "in use" errors).
            __non_exhaustive: (),
        };
        let pool = SenderPool::with_configuration(Arc::clone(&session), options.api.api_id, params);
        let handle = pool.handle.thin.clone();
        let client = Client::new(pool.handle);
        options.tasks.track(tokio::spawn(pool.runner.run()));
        Ok(Connection(Arc::new(Inner {
            client,
            rpc_count: AtomicUsize::new(0),
            handle,
            session,
            updates: Mutex::new(pool.updates),
            api: options.api.clone(),
            _locks: locks,
        })))
    }

    /// The grammers client (for callers that need more than this module offers).
    pub fn client(&self) -> &Client {
        &self.0.client
    }

    /// The stored session behind the connection.
    pub fn session(&self) -> &StoredSession {
        &self.0.session
    }

    pub fn api(&self) -> &ApiCredentials {
        &self.0.api
    }

    /// Calls one raw TL function on the home DC.
    pub(crate) async fn invoke<R: tl::RemoteCall>(
        &self,
        request: &R,
    ) -> Result<R::Return, InvocationError> {
        self.0.rpc_count.fetch_add(1, Ordering::Relaxed);
        self.0.client.invoke(request).await
    }

    /// How many RPCs this connection has sent (not counting grammers' own connection set-up:
    /// initConnection with help.getConfig, once per DC connection).
    pub fn rpc_count(&self) -> usize {
        self.0.rpc_count.load(Ordering::Relaxed)
    }

    /// Makes `dc_id` the home DC (after a *_MIGRATE_X), dropping the old connection.
    pub(crate) async fn switch_home_dc(&self, dc_id: i32) -> Result<(), TgError> {
        let old = self.0.session.home_dc_id()?;
        if old == dc_id {
            return Ok(());
        }
        self.0.handle.disconnect_from_dc(old);
        self.0.session.set_home_dc_id(dc_id).await?;
        Ok(())
    }

    /// Waits for the next update batch from the server (None: the connection is gone).
    pub(crate) async fn next_update(&self) -> Option<UpdatesLike> {
        self.0.updates.lock().await.recv().await
    }

    /// Records a successful login in the stored session and returns who it is.
    pub(crate) async fn complete_login(
        &self,
        authorization: tl::enums::auth::Authorization,
    ) -> Result<Me, TgError> {
        let tl::enums::auth::Authorization::Authorization(auth) = authorization else {
            return Err(TgError::unexpected(
                "sign-up required where a login was expected",
            ));
        };
        let me = Me::from_user(&auth.user)
            .ok_or_else(|| TgError::unexpected("the login answered an empty user"))?;
        self.remember_me(&me).await?;
        Ok(me)
    }

    /// Saves the account's identity in the session (user id, bot flag, names where the format
    /// keeps them) and gives grammers its access hash.
    pub(crate) async fn remember_me(&self, me: &Me) -> Result<(), TgError> {
        self.0.session.update(|s| {
            s.user_id = Some(me.user_id);
            s.is_bot = Some(me.is_bot);
            s.user = Some(SelfUser {
                first_name: me.first_name.clone(),
                last_name: me.last_name.clone(),
                username: me.username.clone(),
                phone: me.phone.clone(),
            });
        })?;
        self.0
            .session
            .cache_peer(PeerInfo::User {
                id: me.user_id,
                auth: me.access_hash.map(PeerAuth::from_hash),
                bot: Some(me.is_bot),
                is_self: Some(true),
            })
            .await?;
        Ok(())
    }
}

/// Takes the DC addresses and keys of `fresh` into `session`, keeping its home DC and identity.
fn adopt_keys(session: &mut Session, fresh: &Session) {
    for dc in &fresh.dcs {
        let entry = session.dc_mut(dc.id);
        entry.ipv4 = dc.ipv4.or(entry.ipv4);
        entry.ipv6 = dc.ipv6.or(entry.ipv6);
        entry.port = dc.port.or(entry.port);
        entry.auth_key = dc.auth_key.clone();
    }
    if session.test_mode.is_none() {
        session.test_mode = fresh.test_mode;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::AuthKey;

    #[test]
    fn adopt_keys_keeps_home_and_identity() {
        let mut s = Session::new(4);
        s.user_id = Some(9);
        let mut fresh = Session::new(2);
        fresh.dc_mut(2).auth_key = Some(AuthKey::new([2; 256]));
        fresh.dc_mut(2).port = Some(1234);
        fresh.dc_mut(4).auth_key = Some(AuthKey::new([4; 256]));
        adopt_keys(&mut s, &fresh);
        assert_eq!(s.dc_id, 4);
        assert_eq!(s.user_id, Some(9));
        assert_eq!(s.auth_key(), Some(&AuthKey::new([4; 256])));
        assert_eq!(s.dc(2).unwrap().port, Some(1234));
    }
}
