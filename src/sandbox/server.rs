//! The listeners (one per DC), one task per connection, pushes (updateLoginToken) and a
//! graceful stop. A bad connection (garbage, unknown key, oversized or truncated frames,
//! silence) costs only itself.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use grammers_tl_types::{self as tl, Identifiable, Serializable};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until, timeout};

use super::crypto::{self, payload_key_id};
use super::dh::{self, DhExchange};
use super::rpc::{self, Ctx, Wrappers};
use super::rsa::RsaKey;
use super::service::{self, Envelope, Outbox, Outgoing, Salts, unix_now};
use super::srp::SrpBook;
use super::state::State;
use super::transport::{ERR_AUTH_KEY_NOT_FOUND, FrameReader, Framing, ReadBudget};
use crate::secret::AuthKey;

/// Timeouts and limits of the server (tests shorten them).
#[derive(Clone, Debug)]
pub struct Tuning {
    /// A connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// How often to look for QR logins accepted by another process (`accept-qr`).
    pub poll_interval: Duration,
    /// Like Telegram, refuse to terminate other sessions from an authorization younger than
    /// this (406 FRESH_RESET_AUTHORISATION_FORBIDDEN). `None` (the default): always allowed.
    pub fresh_reset_forbidden_for: Option<Duration>,
    /// More than `max_code_requests` code requests for one number within `code_window`
    /// give FLOOD_WAIT_X (Telegram-like defaults: 5 within 10 minutes).
    pub max_code_requests: i64,
    pub code_window: Duration,
    /// How long an exported QR login token lives (Telegram: 30 s).
    pub login_token_ttl: Duration,
    /// Connections served at once (all DCs); more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Bytes that unfinished frames of all connections may hold together; a connection whose
    /// frame would go over is closed.
    pub max_buffered_bytes: usize,
    /// FLOOD_WAITs scripted per account (tests arm it after adding the accounts).
    pub flood: super::flood::FloodScript,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(120),
            poll_interval: Duration::from_millis(250),
            fresh_reset_forbidden_for: None,
            max_code_requests: 5,
            code_window: Duration::from_secs(600),
            login_token_ttl: Duration::from_secs(30),
            max_connections: 512,
            max_buffered_bytes: 32 * 1024 * 1024,
            flood: super::flood::FloodScript::default(),
        }
    }
}

type PushSender = mpsc::UnboundedSender<Vec<u8>>;

/// What every connection of one sandbox shares.
pub struct Shared {
    pub state: State,
    pub srp: SrpBook,
    pub salts: Salts,
    /// `(dc_id, port)` of every DC.
    pub dcs: Vec<(i32, u16)>,
    pub tuning: Tuning,
    keys: Mutex<HashMap<i64, (i32, AuthKey)>>,
    pushes: Mutex<HashMap<i64, Vec<(u64, PushSender)>>>,
    tokens_accepted: Notify,
    next_conn: AtomicU64,
    rsa: OnceLock<RsaKey>,
    read_budget: Arc<ReadBudget>,
    open_conns: AtomicUsize,
}

impl Shared {
    pub fn new(state: State, dcs: Vec<(i32, u16)>, tuning: Tuning) -> Self {
        Self {
            state,
            srp: SrpBook::default(),
            salts: Salts::new(),
            dcs,
            keys: Mutex::new(HashMap::new()),
            pushes: Mutex::new(HashMap::new()),
            tokens_accepted: Notify::new(),
            next_conn: AtomicU64::new(1),
            rsa: OnceLock::new(),
            read_budget: Arc::new(ReadBudget::new(tuning.max_buffered_bytes)),
            open_conns: AtomicUsize::new(0),
            tuning,
        }
    }

    /// Connections being served now.
    pub fn open_connections(&self) -> usize {
        self.open_conns.load(Ordering::SeqCst)
    }

    /// Bytes unfinished frames hold now (all connections).
    pub fn buffered_bytes(&self) -> usize {
        self.read_budget.in_use()
    }

    /// Counts a connection in, unless the server is full.
    fn admit(self: &Arc<Self>) -> Option<Admitted> {
        let max = self.tuning.max_connections;
        self.open_conns
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Admitted(Arc::clone(self)))
    }

    /// The RSA key for DH, loaded from (or created in) the state on first use.
    pub fn rsa_key(&self) -> Option<&RsaKey> {
        if let Some(key) = self.rsa.get() {
            return Some(key);
        }
        let key = dh::load_or_create_rsa(&self.state).ok()?;
        Some(self.rsa.get_or_init(|| key))
    }

    /// Wakes the notifier after a QR token was accepted in this process.
    pub fn login_token_accepted(&self) {
        self.tokens_accepted.notify_one();
    }

    /// A registered key and its DC (keys are never deleted, so they are cached).
    fn lookup_key(&self, key_id: i64) -> Option<(i32, AuthKey)> {
        if let Some(found) = self
            .keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key_id)
        {
            return Some(found.clone());
        }
        let record = self.state.key(key_id).ok().flatten()?;
        let entry = (record.dc_id, record.key);
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key_id, entry.clone());
        Some(entry)
    }

    fn register_push(&self, key_id: i64, conn: u64, tx: PushSender) {
        self.pushes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key_id)
            .or_default()
            .push((conn, tx));
    }

    fn unregister_push(&self, key_id: i64, conn: u64) {
        let mut map = self.pushes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(list) = map.get_mut(&key_id) {
            list.retain(|(c, _)| *c != conn);
            if list.is_empty() {
                map.remove(&key_id);
            }
        }
    }

    /// Sends `updates` to every connection of `key_id`.
    fn push(&self, key_id: i64, updates: &[u8]) {
        let map = self.pushes.lock().unwrap_or_else(|e| e.into_inner());
        for (_, tx) in map.get(&key_id).into_iter().flatten() {
            let _ = tx.send(updates.to_vec());
        }
    }
}

/// One served connection, counted out when it ends (however it ends).
struct Admitted(Arc<Shared>);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.open_conns.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Gives freed heap memory back to the OS (glibc keeps large freed blocks otherwise, so a
/// burst of big frames would stay in the server's RSS after the connections closed).
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap pages; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Frames at least this large are worth giving back to the OS when their connection ends.
const TRIM_AFTER: usize = 256 * 1024;

/// Pauses of the accept loop after a failed accept (EMFILE, ENFILE, ...): accepting again at
/// once would spin on the same error.
struct AcceptBackoff {
    next: Duration,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    fn new() -> Self {
        Self { next: Self::FIRST }
    }

    fn reset(&mut self) {
        self.next = Self::FIRST;
    }

    /// The pause to take now (doubling up to a second).
    fn pause(&mut self) -> Duration {
        let now = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        now
    }
}

/// The running listeners and connections.
pub struct Server {
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

/// Binds one listener per `(dc_id, port)` on 127.0.0.1 (port 0: ephemeral).
pub async fn bind(dcs: &[(i32, u16)]) -> std::io::Result<Vec<(i32, TcpListener)>> {
    let mut out = Vec::new();
    for (dc, port) in dcs {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], *port))).await?;
        out.push((*dc, listener));
    }
    Ok(out)
}

impl Server {
    pub fn spawn(shared: Arc<Shared>, listeners: Vec<(i32, TcpListener)>) -> Server {
        let (shutdown, _) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for (dc_id, listener) in listeners {
            tasks.spawn(accept_loop(
                shared.clone(),
                dc_id,
                listener,
                shutdown.subscribe(),
            ));
        }
        tasks.spawn(notify_loop(shared, shutdown.subscribe()));
        Server { shutdown, tasks }
    }

    /// Stops accepting, closes every connection and waits for all tasks.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

async fn accept_loop(
    shared: Arc<Shared>,
    dc_id: i32,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    let mut backoff = AcceptBackoff::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    backoff.reset();
                    // Over the limit: closed at once (dropped), before it costs anything.
                    let Some(admitted) = shared.admit() else {
                        tracing::debug!("sandbox dc {dc_id}: too many connections, closing one");
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    conns.spawn(serve_connection(shared.clone(), dc_id, stream, shutdown.clone(), admitted));
                }
                Err(e) => {
                    let pause = backoff.pause();
                    if pause == AcceptBackoff::FIRST {
                        tracing::warn!("sandbox dc {dc_id}: accept failed: {e}");
                    }
                    // Out of descriptors: a connection ending frees one, else wait a little.
                    tokio::select! {
                        _ = shutdown.changed() => break,
                        Some(_) = conns.join_next(), if !conns.is_empty() => {}
                        _ = tokio::time::sleep(pause) => {}
                    }
                }
            },
        }
    }
    while conns.join_next().await.is_some() {}
}

/// Delivers updateLoginToken to exporters whose token was accepted (here or by another
/// process sharing the state).
async fn notify_loop(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = shared.tokens_accepted.notified() => {}
            _ = tokio::time::sleep(shared.tuning.poll_interval) => {}
        }
        let Ok(tokens) = shared.state.take_unnotified_tokens() else {
            continue;
        };
        for t in tokens {
            let update = tl::enums::Updates::UpdateShort(tl::types::UpdateShort {
                update: tl::enums::Update::LoginToken,
                date: unix_now() as i32,
            })
            .to_bytes();
            shared.push(t.key_id, &update);
        }
    }
}

/// Per-connection protocol state.
struct Conn {
    shared: Arc<Shared>,
    dc_id: i32,
    id: u64,
    framing: Option<Framing>,
    key: Option<(i64, AuthKey)>,
    session: Option<(i64, Outbox)>,
    wrappers: Wrappers,
    /// Key exchange in progress (unencrypted messages), and their msg ids.
    dh: Option<DhExchange>,
    plain_ids: Outbox,
}

/// What to do after a payload.
enum Step {
    Send(Vec<u8>),
    /// Send this (a transport error) and close.
    Close(Vec<u8>),
}

async fn serve_connection(
    shared: Arc<Shared>,
    dc_id: i32,
    stream: TcpStream,
    mut shutdown: watch::Receiver<bool>,
    _admitted: Admitted,
) {
    let idle = shared.tuning.idle_timeout;
    let (read_half, mut write_half) = stream.into_split();
    // One decoded frame waits at most: a connection holds at most that and the one being read.
    let (frame_tx, mut frame_rx) = mpsc::channel(1);
    let budget = Arc::clone(&shared.read_budget);
    let reader = tokio::spawn(async move {
        let mut frames = FrameReader::with_budget(BufReader::new(read_half), budget);
        loop {
            let result = frames.next_payload().await;
            let failed = result.is_err();
            if frame_tx.send((result, frames.framing())).await.is_err() || failed {
                break;
            }
        }
    });
    let (push_tx, mut push_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let mut conn = Conn {
        id: shared.next_conn.fetch_add(1, Ordering::Relaxed),
        shared,
        dc_id,
        framing: None,
        key: None,
        session: None,
        wrappers: Wrappers::default(),
        dh: None,
        plain_ids: Outbox::new(),
    };
    let mut push_tx = Some(push_tx);
    let mut deadline = Instant::now() + idle;
    loop {
        let step = tokio::select! {
            _ = shutdown.changed() => break,
            _ = sleep_until(deadline) => break,
            frame = frame_rx.recv() => match frame {
                Some((Ok(payload), framing)) => {
                    deadline = Instant::now() + idle;
                    if conn.framing.is_none() {
                        // The writer keeps its own copy (Full counts seq per direction).
                        conn.framing = framing.map(|f| match f {
                            Framing::Full { .. } => Framing::Full { recv_seq: 0, send_seq: 0 },
                            other => other,
                        });
                    }
                    let step = conn.on_payload(&payload);
                    // Only once the connection has a key: after DH it has none at first.
                    if let Some((key_id, _)) = &conn.key
                        && let Some(tx) = push_tx.take()
                    {
                        conn.shared.register_push(*key_id, conn.id, tx);
                    }
                    step
                }
                Some((Err(e), _)) => {
                    tracing::debug!("sandbox dc {dc_id}: closing connection: {e}");
                    break;
                }
                None => break,
            },
            Some(update) = push_rx.recv() => Step::Send(conn.encrypt_update(update)),
        };
        let (bytes, close) = match step {
            Step::Send(b) => (b, false),
            Step::Close(b) => (b, true),
        };
        if !bytes.is_empty() {
            match timeout(idle, write_half.write_all(&bytes)).await {
                Ok(Ok(())) => {}
                _ => break,
            }
        }
        if close {
            break;
        }
    }
    reader.abort();
    // Wait for the reader to drop its buffers, then give big ones back to the OS.
    let _ = reader.await;
    if conn.shared.read_budget.take_peak() >= TRIM_AFTER {
        return_freed_memory();
    }
    let _ = write_half.shutdown().await;
    if let Some((key_id, _)) = conn.key {
        conn.shared.unregister_push(key_id, conn.id);
    }
}

impl Conn {
    fn framing(&mut self) -> &mut Framing {
        self.framing.get_or_insert(Framing::Intermediate)
    }

    fn transport_error(&mut self, code: i32) -> Step {
        Step::Close(self.framing().encode_error(code))
    }

    fn on_payload(&mut self, payload: &[u8]) -> Step {
        // A 4-byte payload from the client is not a message; anything without a known key
        // (including unencrypted DH requests, key id 0) gets -404 like Telegram's answer.
        let Some(key_id) = payload_key_id(payload) else {
            return self.transport_error(ERR_AUTH_KEY_NOT_FOUND);
        };
        if key_id == 0 && self.key.is_none() {
            return self.on_plain(payload);
        }
        let key = match &self.key {
            Some((id, key)) if *id == key_id => key.clone(),
            Some(_) => return self.transport_error(ERR_AUTH_KEY_NOT_FOUND),
            None => match self.shared.lookup_key(key_id) {
                Some((dc, key)) if dc == self.dc_id => {
                    self.key = Some((key_id, key.clone()));
                    key
                }
                _ => return self.transport_error(ERR_AUTH_KEY_NOT_FOUND),
            },
        };
        let Ok(plaintext) = crypto::decrypt_from_client(&key, payload) else {
            return self.transport_error(ERR_AUTH_KEY_NOT_FOUND);
        };
        let Ok(envelope) = service::parse_envelope(&plaintext) else {
            return self.transport_error(ERR_AUTH_KEY_NOT_FOUND);
        };
        let now = unix_now();
        let salt = self.shared.salts.current(now);
        let mut out: Vec<Outgoing> = Vec::new();
        let is_new_session = self
            .session
            .as_ref()
            .is_none_or(|(id, _)| *id != envelope.session_id);
        if is_new_session {
            let mut outbox = Outbox::new();
            out.push(outbox.message(
                service::new_session_created(
                    envelope.msg_id,
                    crate::sandbox::state::random_nonzero_i64(),
                    salt,
                ),
                false,
                true,
            ));
            self.session = Some((envelope.session_id, outbox));
        } else if !self.shared.salts.is_valid(envelope.salt, now) {
            let outbox = &mut self.session.as_mut().expect("session set").1;
            out.push(outbox.message(
                service::bad_server_salt(envelope.msg_id, envelope.seq_no, salt),
                true,
                false,
            ));
            return Step::Send(self.encrypt_all(&key, envelope.session_id, salt, out));
        }
        if let Some(code) = service::check_client_msg_id(envelope.msg_id, now) {
            let outbox = &mut self.session.as_mut().expect("session set").1;
            out.push(outbox.message(
                service::bad_msg_notification(envelope.msg_id, envelope.seq_no, code),
                true,
                false,
            ));
            return Step::Send(self.encrypt_all(&key, envelope.session_id, salt, out));
        }
        self.handle_messages(&envelope, key_id, now, &mut out);
        Step::Send(self.encrypt_all(&key, envelope.session_id, salt, out))
    }

    /// One step of the DH key exchange.
    fn on_plain(&mut self, payload: &[u8]) -> Step {
        let Some((_, body)) = dh::parse_plain(payload) else {
            return self.transport_error(ERR_AUTH_KEY_NOT_FOUND);
        };
        let shared = self.shared.clone();
        let Some(rsa) = shared.rsa_key() else {
            return self.transport_error(ERR_AUTH_KEY_NOT_FOUND);
        };
        match dh::step(&shared.state, rsa, self.dc_id, &mut self.dh, body) {
            Some(answer) => {
                let msg_id = self.plain_ids.next_msg_id(true);
                Step::Send(self.framing().encode(&dh::plain_message(msg_id, &answer)))
            }
            None => self.transport_error(ERR_AUTH_KEY_NOT_FOUND),
        }
    }

    fn handle_messages(
        &mut self,
        envelope: &Envelope,
        key_id: i64,
        now: i64,
        out: &mut Vec<Outgoing>,
    ) {
        let outbox = &mut self.session.as_mut().expect("session set").1;
        let Some(messages) = service::unpack_messages(envelope) else {
            // 64: invalid container.
            out.push(outbox.message(
                service::bad_msg_notification(envelope.msg_id, envelope.seq_no, 64),
                true,
                false,
            ));
            return;
        };
        for msg in messages {
            let id = service::constructor_of(&msg.body);
            let body = match id {
                Some(tl::functions::GetFutureSalts::CONSTRUCTOR_ID) => {
                    let num = rpc::parse::<tl::functions::GetFutureSalts>(&msg.body)
                        .map(|r| r.num)
                        .unwrap_or(1);
                    let salts = self.shared.salts.future(now, num);
                    // Top level, never inside rpc_result: grammers waits for exactly this.
                    service::future_salts(msg.msg_id, now, salts)
                }
                Some(tl::functions::Ping::CONSTRUCTOR_ID) => {
                    match rpc::parse::<tl::functions::Ping>(&msg.body) {
                        Ok(p) => service::pong(msg.msg_id, p.ping_id),
                        Err(_) => continue,
                    }
                }
                Some(tl::functions::PingDelayDisconnect::CONSTRUCTOR_ID) => {
                    match rpc::parse::<tl::functions::PingDelayDisconnect>(&msg.body) {
                        Ok(p) => service::pong(msg.msg_id, p.ping_id),
                        Err(_) => continue,
                    }
                }
                Some(
                    tl::types::MsgsAck::CONSTRUCTOR_ID
                    | tl::types::MsgsStateReq::CONSTRUCTOR_ID
                    | tl::types::MsgsAllInfo::CONSTRUCTOR_ID
                    | tl::types::MsgResendReq::CONSTRUCTOR_ID
                    | tl::types::HttpWait::CONSTRUCTOR_ID,
                ) => continue,
                Some(tl::functions::DestroySession::CONSTRUCTOR_ID) => {
                    let sid = rpc::parse::<tl::functions::DestroySession>(&msg.body)
                        .map(|d| d.session_id)
                        .unwrap_or(0);
                    let answer = tl::enums::DestroySessionRes::DestroySessionNone(
                        tl::types::DestroySessionNone { session_id: sid },
                    )
                    .to_bytes();
                    service::rpc_result(msg.msg_id, &answer)
                }
                Some(tl::functions::RpcDropAnswer::CONSTRUCTOR_ID) => {
                    let answer = tl::enums::RpcDropAnswer::RpcAnswerUnknown.to_bytes();
                    service::rpc_result(msg.msg_id, &answer)
                }
                _ => {
                    let ctx = Ctx {
                        shared: &self.shared,
                        dc_id: self.dc_id,
                        key_id,
                        now,
                    };
                    let result = match rpc::handle(&ctx, &msg.body, &mut self.wrappers) {
                        Ok(bytes) => bytes,
                        Err(e) => service::rpc_error(e.code, &e.name),
                    };
                    service::rpc_result(msg.msg_id, &result)
                }
            };
            out.push(outbox.message(body, true, true));
        }
    }

    fn encrypt_all(
        &mut self,
        key: &AuthKey,
        session_id: i64,
        salt: i64,
        out: Vec<Outgoing>,
    ) -> Vec<u8> {
        let mut bytes = Vec::new();
        for msg in out {
            let payload =
                crypto::encrypt_for_client(key, &service::plaintext(salt, session_id, &msg));
            bytes.extend(self.framing().encode(&payload));
        }
        bytes
    }

    fn encrypt_update(&mut self, updates: Vec<u8>) -> Vec<u8> {
        let (Some((_, key)), Some((session_id, outbox))) =
            (self.key.clone(), self.session.as_mut())
        else {
            return Vec::new();
        };
        let session_id = *session_id;
        let msg = outbox.message(updates, false, true);
        let salt = self.shared.salts.current(unix_now());
        self.encrypt_all(&key, session_id, salt, vec![msg])
    }
}
