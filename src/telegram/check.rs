//! Checking many sessions at once (`tgsess check`, the TUI's bulk check): bounded concurrency,
//! each session under its locks, paced on FLOOD_WAIT (see [`DcPacer`]), typed results.
//!
//! A check writes nothing to a session file, except the new home DC if Telegram moved the
//! account: it connects over an in-memory copy of the session and never provisions a key.
//! Sessions that share one auth key are one authorization: the key is checked once and every
//! file holding it gets the result. Dropping the future of [`check_many`] stops the run; every
//! connection and lock goes with it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use grammers_tl_types as tl;
use serde::Serialize;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use super::account::{authorizations, whoami};
use super::connection::{ConnectOptions, Connection};
use super::error::TgError;
use super::lock::{self, HeldLock};
use super::pacer::DcPacer;
use super::types::{Device, Me};
use crate::store::adapter::{Backend, StoredSession};
use crate::store::status::{AuthorizationMark, Finding, Status};
use crate::store::{self, Session};

/// A session to check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckTarget {
    pub name: String,
    pub path: PathBuf,
}

/// How a run goes.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// How to connect (its key provider is never used: a check creates no key).
    pub connect: ConnectOptions,
    /// Accounts checked at the same time.
    pub concurrency: usize,
    /// Longest wait for one answer (flood waits not counted).
    pub timeout: Duration,
    /// A FLOOD_WAIT longer than this (in total for one account) ends its check with an error
    /// row instead of waiting.
    pub max_flood_wait: Duration,
    /// Sandbox mode: where the sandbox serves each DC. Sessions that carry no address (Pyrogram
    /// strings) are pointed there, and a session holding any address but loopback is never
    /// connected (it would reach Telegram).
    pub sandbox_dcs: Option<BTreeMap<i32, SocketAddr>>,
}

pub const DEFAULT_CONCURRENCY: usize = 8;

impl CheckOptions {
    pub fn new(connect: ConnectOptions) -> Self {
        Self {
            connect,
            concurrency: DEFAULT_CONCURRENCY,
            timeout: Duration::from_secs(30),
            max_flood_wait: Duration::from_secs(300),
            sandbox_dcs: None,
        }
    }
}

/// One session's result: `check --json` prints exactly this.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub name: String,
    #[serde(skip)]
    pub path: PathBuf,
    /// Key id (hex) of the home DC key, when the file has one.
    #[serde(skip)]
    pub key_id: Option<String>,
    #[serde(flatten)]
    pub finding: Finding,
}

/// Progress of a run, by index into the targets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckEvent {
    /// Telegram asked this account to wait; its check goes on by itself after `seconds`.
    FloodWait { index: usize, seconds: u32 },
    Finished {
        index: usize,
        /// Boxed: a result is large, and events queue up in a channel.
        result: Box<CheckResult>,
    },
}

/// Checks every target; results come back in the targets' order. `events` (if any) hears of
/// each result as it is found.
pub async fn check_many(
    targets: Vec<CheckTarget>,
    options: &CheckOptions,
    events: Option<mpsc::UnboundedSender<CheckEvent>>,
) -> Vec<CheckResult> {
    let mut options = options.clone();
    options.connect.key_provider = None;
    let run = Arc::new(Run {
        options,
        permits: Semaphore::new(0),
        pacer: Mutex::new(DcPacer::new()),
        events,
    });
    run.permits.add_permits(run.options.concurrency.max(1));
    let total = targets.len();
    let mut results: Vec<Option<CheckResult>> = vec![None; total];

    let read = {
        let targets = targets.clone();
        tokio::task::spawn_blocking(move || targets.iter().map(read_target).collect::<Vec<_>>())
            .await
            .unwrap_or_default()
    };
    // Sessions sharing a key: one check, one group (BTreeMap: a stable order of work).
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, (target, read)) in targets.iter().zip(read).enumerate() {
        match read {
            Read::Done(finding) => {
                let result = CheckResult {
                    name: target.name.clone(),
                    path: target.path.clone(),
                    key_id: None,
                    finding,
                };
                run.emit_finished(index, &result);
                results[index] = Some(result);
            }
            Read::Key(key_id) => groups.entry(key_id).or_default().push(index),
        }
    }
    let mut tasks = JoinSet::new();
    for (key_id, members) in groups {
        let members: Vec<(usize, CheckTarget)> = members
            .into_iter()
            .map(|i| (i, targets[i].clone()))
            .collect();
        let run = Arc::clone(&run);
        tasks.spawn(async move { check_group(&run, key_id, members).await });
    }
    while let Some(done) = tasks.join_next().await {
        // A panicking task loses only its rows (filled below as errors).
        if let Ok(rows) = done {
            for (index, result) in rows {
                results[index] = Some(result);
            }
        }
    }
    results
        .into_iter()
        .zip(targets)
        .map(|(r, t)| {
            r.unwrap_or_else(|| CheckResult {
                name: t.name,
                path: t.path,
                key_id: None,
                finding: Finding::bare(
                    Status::Error,
                    Some("the check stopped unexpectedly".into()),
                    unix_now(),
                ),
            })
        })
        .collect()
}

struct Run {
    options: CheckOptions,
    permits: Semaphore,
    pacer: Mutex<DcPacer>,
    events: Option<mpsc::UnboundedSender<CheckEvent>>,
}

impl Run {
    fn emit(&self, event: CheckEvent) {
        if let Some(tx) = &self.events {
            let _ = tx.send(event);
        }
    }

    fn emit_finished(&self, index: usize, result: &CheckResult) {
        self.emit(CheckEvent::Finished {
            index,
            result: Box::new(result.clone()),
        });
    }

    fn pacer(&self) -> std::sync::MutexGuard<'_, DcPacer> {
        self.pacer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

enum Read {
    /// Known without the network: an unreadable file (error) or one without a key.
    Done(Finding),
    /// The home DC key's id.
    Key(String),
}

fn usable_key_id(session: &Session) -> Option<String> {
    session
        .auth_key()
        .filter(|k| !k.is_all_zero())
        .map(|k| k.key_id_hex())
}

fn read_target(target: &CheckTarget) -> Read {
    match store::read_file(&target.path) {
        Err(e) => Read::Done(Finding::bare(
            Status::Error,
            Some(e.to_string()),
            unix_now(),
        )),
        Ok(loaded) => match usable_key_id(&loaded.session) {
            Some(key_id) => Read::Key(key_id),
            None => Read::Done(Finding {
                user_id: loaded.session.user_id,
                is_bot: loaded.session.is_bot,
                ..Finding::bare(Status::Unchecked, None, unix_now())
            }),
        },
    }
}

/// One file of a group, locked and read again under its lock.
struct Locked {
    index: usize,
    target: CheckTarget,
    session: Session,
    _lock: HeldLock,
}

async fn check_group(
    run: &Run,
    key_id: String,
    members: Vec<(usize, CheckTarget)>,
) -> Vec<(usize, CheckResult)> {
    let mut out = Vec::new();
    let row = |index: usize, target: &CheckTarget, finding: Finding| {
        let result = CheckResult {
            name: target.name.clone(),
            path: target.path.clone(),
            key_id: Some(key_id.clone()),
            finding,
        };
        run.emit_finished(index, &result);
        (index, result)
    };
    let Ok(permit) = run.permits.acquire().await else {
        return out;
    };
    let lock_dir = run.options.connect.lock_dir.clone();
    let mut locked = Vec::new();
    for (index, target) in members {
        match lock_and_read(&lock_dir, &target, &key_id) {
            Ok(session) => locked.push(Locked {
                index,
                target,
                session: session.0,
                _lock: session.1,
            }),
            Err(finding) => out.push(row(index, &target, *finding)),
        }
    }
    let Some(first) = locked.first() else {
        return out;
    };
    let original = first.session.clone();
    let home_dc = original.dc_id;
    // New work waits while Telegram limits this DC.
    loop {
        let wait = run.pacer().wait_before_start(home_dc, Instant::now());
        match wait {
            Some(wait) => tokio::time::sleep(wait).await,
            None => break,
        }
    }
    let account = first.index;
    let routed = match &run.options.sandbox_dcs {
        Some(dcs) => route_to_sandbox(&original, dcs),
        None => Ok(original.clone()),
    };
    let routed = match routed {
        Ok(s) => s,
        Err(finding) => {
            for l in &locked {
                out.push(row(l.index, &l.target, (*finding).clone()));
            }
            return out;
        }
    };
    let found = match Connection::open(
        StoredSession::new(routed, Backend::Memory),
        &run.options.connect,
    ) {
        Ok(conn) => {
            let probe = Prober {
                run,
                conn: &conn,
                account,
                dc: home_dc,
                indexes: locked.iter().map(|l| l.index).collect(),
                permit: Some(permit),
                waited: Duration::ZERO,
            };
            let found = probe.run().await;
            let moved = conn.session().snapshot();
            if moved.dc_id != original.dc_id {
                for l in &locked {
                    save_new_home(&l.target.path, &moved);
                }
            }
            found
        }
        Err(e) => error_finding(&e),
    };
    for l in &locked {
        out.push(row(l.index, &l.target, found.clone()));
    }
    out
}

/// The session as the sandbox serves it: DCs without an IPv4 address get the sandbox's; an
/// IPv4 address but loopback is refused (the session belongs to Telegram, not the sandbox).
/// IPv6 is never used to connect, so a stray one is dropped from the in-memory copy.
fn route_to_sandbox(
    session: &Session,
    dcs: &BTreeMap<i32, SocketAddr>,
) -> Result<Session, Box<Finding>> {
    let refuse = |why: String| Box::new(Finding::bare(Status::Error, Some(why), unix_now()));
    let mut routed = session.clone();
    for dc in &mut routed.dcs {
        if let Some(ip) = dc.ipv4.filter(|ip| !ip.is_loopback()) {
            return Err(refuse(format!(
                "DC {} of this session is at {ip}, not the sandbox: not connected (check it \
                 without --sandbox/--sandbox-state)",
                dc.id
            )));
        }
        dc.ipv6 = None;
        let Some(SocketAddr::V4(served)) = dcs.get(&dc.id) else {
            continue;
        };
        if dc.ipv4.is_none() {
            dc.ipv4 = Some(*served.ip());
            dc.port = Some(served.port());
        }
        dc.port.get_or_insert(served.port());
    }
    if routed.home().is_none_or(|h| h.ipv4.is_none()) {
        return Err(refuse(format!("the sandbox serves no DC {}", routed.dc_id)));
    }
    Ok(routed)
}

/// Takes the session's lock and reads it again: a file changed since the first read (another
/// key now) is an error row rather than a check of a key it no longer holds.
fn lock_and_read(
    lock_dir: &Path,
    target: &CheckTarget,
    key_id: &str,
) -> Result<(Session, HeldLock), Box<Finding>> {
    let lock =
        lock::lock_session_file(lock_dir, &target.path).map_err(|e| Box::new(error_finding(&e)))?;
    let loaded = store::read_file(&target.path).map_err(|e| {
        Box::new(Finding::bare(
            Status::Error,
            Some(e.to_string()),
            unix_now(),
        ))
    })?;
    if usable_key_id(&loaded.session).as_deref() != Some(key_id) {
        return Err(Box::new(Finding::bare(
            Status::Error,
            Some("the session changed during the check; check it again".into()),
            unix_now(),
        )));
    }
    Ok((loaded.session, lock))
}

/// Telegram moved the account: the file learns its new home DC (and that DC's address), the
/// one write a check makes. A failure leaves the file as it was.
fn save_new_home(path: &Path, moved: &Session) {
    let Ok(stored) = StoredSession::open(path) else {
        return;
    };
    let entry = moved.home().cloned();
    let result = stored.update(|s| {
        s.dc_id = moved.dc_id;
        if let Some(entry) = entry {
            let dc = s.dc_mut(entry.id);
            dc.ipv4 = entry.ipv4.or(dc.ipv4);
            dc.ipv6 = entry.ipv6.or(dc.ipv6);
            dc.port = entry.port.or(dc.port);
            if entry.auth_key.is_some() {
                dc.auth_key = entry.auth_key;
            }
        }
    });
    if let Err(e) = result {
        tracing::warn!(path = %path.display(), "could not save the new home DC: {e}");
    }
}

fn error_finding(e: &TgError) -> Finding {
    let status = match e {
        TgError::InUse { .. } => Status::InUse,
        _ => Status::Error,
    };
    Finding::bare(status, Some(e.to_string()), unix_now())
}

/// The questions of one check, each retried after a FLOOD_WAIT.
struct Prober<'a> {
    run: &'a Run,
    conn: &'a Connection,
    account: usize,
    dc: i32,
    /// Rows that this key's result goes to (each hears of a flood wait).
    indexes: Vec<usize>,
    permit: Option<tokio::sync::SemaphorePermit<'a>>,
    waited: Duration,
}

impl Prober<'_> {
    async fn run(mut self) -> Finding {
        let me = match self.ask(|c| async move { whoami(&c).await }).await {
            Ok(me) => me,
            Err(TgError::NotAuthorized | TgError::PasswordRequired) => {
                return Finding {
                    user_id: self.conn.session().snapshot().user_id,
                    ..Finding::bare(Status::LoggedOut, None, unix_now())
                };
            }
            Err(e) => return error_finding(&e),
        };
        let mut finding = authorized(&me);
        if me.is_bot {
            return finding;
        }
        match self.ask(|c| async move { has_password(&c).await }).await {
            Ok(two_fa) => finding.two_fa = Some(two_fa),
            Err(e) => return partial(finding, &e),
        }
        match self.ask(|c| async move { authorizations(&c).await }).await {
            Ok(devices) => {
                let others = devices.iter().filter(|d| !d.current).count();
                finding.other_authorizations = Some(u32::try_from(others).unwrap_or(u32::MAX));
                finding.own_authorization = devices.iter().find(|d| d.current).map(mark_of);
            }
            Err(e) => return partial(finding, &e),
        }
        finding.checked_at = unix_now();
        finding
    }

    /// One question: a FLOOD_WAIT pauses this account (freeing its place in the run for
    /// others) and asks again; an answer that never comes is an error after the timeout.
    async fn ask<T, F, Fut>(&mut self, question: F) -> Result<T, TgError>
    where
        F: Fn(Connection) -> Fut,
        Fut: Future<Output = Result<T, TgError>>,
    {
        loop {
            let timeout = self.run.options.timeout;
            let answer = tokio::time::timeout(timeout, question(self.conn.clone()))
                .await
                .unwrap_or_else(|_| {
                    Err(TgError::Network(format!(
                        "no answer within {} s",
                        timeout.as_secs()
                    )))
                });
            let seconds = match answer {
                Err(TgError::FloodWait { seconds }) => seconds,
                other => return other,
            };
            let wait = Duration::from_secs(u64::from(seconds.max(1)));
            if self.waited + wait > self.run.options.max_flood_wait {
                return Err(TgError::FloodWait { seconds });
            }
            self.waited += wait;
            self.run
                .pacer()
                .on_flood(self.dc, self.account, wait, Instant::now());
            for &index in &self.indexes {
                self.run.emit(CheckEvent::FloodWait { index, seconds });
            }
            self.permit = None;
            tokio::time::sleep(wait).await;
            match self.run.permits.acquire().await {
                Ok(p) => self.permit = Some(p),
                Err(_) => return Err(TgError::unexpected("the run was stopped")),
            }
        }
    }
}

/// What `whoami` tells; the rest is filled in by the later questions.
fn authorized(me: &Me) -> Finding {
    Finding {
        user_id: Some(me.user_id),
        is_bot: Some(me.is_bot),
        first_name: me.first_name.clone(),
        username: me.username.clone(),
        phone: me.phone.clone(),
        ..Finding::bare(Status::Authorized, None, unix_now())
    }
}

/// The account is logged in but a later question failed: still authorized, with the reason.
fn partial(mut finding: Finding, e: &TgError) -> Finding {
    finding.error = Some(e.to_string());
    finding.checked_at = unix_now();
    finding
}

async fn has_password(conn: &Connection) -> Result<bool, TgError> {
    let tl::enums::account::Password::Password(p) =
        conn.invoke(&tl::functions::account::GetPassword {}).await?;
    Ok(p.has_password)
}

/// The mark by which other sessions of the account recognise this device in their lists.
pub fn mark_of(device: &Device) -> AuthorizationMark {
    AuthorizationMark {
        date_created: device.date_created,
        api_id: device.api_id,
        device_model: device.device_model.clone(),
        system_version: device.system_version.clone(),
        app_version: device.app_version.clone(),
    }
}

/// Whether `device` (from some session's device list) is the authorization marked `mark`.
pub fn is_marked(device: &Device, mark: &AuthorizationMark) -> bool {
    mark_of(device) == *mark
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Counts of a run's statuses, for the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub checked: usize,
    pub authorized: usize,
    pub logged_out: usize,
    pub errors: usize,
    pub in_use: usize,
    pub unchecked: usize,
}

impl Summary {
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Summary {
        let mut s = Summary::default();
        for f in findings {
            s.checked += 1;
            match f.status {
                Status::Authorized => s.authorized += 1,
                Status::LoggedOut => s.logged_out += 1,
                Status::Error => s.errors += 1,
                Status::InUse => s.in_use += 1,
                Status::Unchecked | Status::Unknown => s.unchecked += 1,
            }
        }
        s
    }

    /// "26 checked: 24 authorized, 2 logged out, 0 errors" (in use and unchecked when any).
    pub fn line(&self) -> String {
        let mut text = format!(
            "{} checked: {} authorized, {} logged out, {} error{}",
            self.checked,
            self.authorized,
            self.logged_out,
            self.errors,
            if self.errors == 1 { "" } else { "s" }
        );
        if self.in_use > 0 {
            text.push_str(&format!(", {} in use", self.in_use));
        }
        if self.unchecked > 0 {
            text.push_str(&format!(", {} without a key", self.unchecked));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line_reads_as_documented() {
        let f = |s| Finding::bare(s, None, 0);
        let all: Vec<Finding> = std::iter::repeat_n(f(Status::Authorized), 24)
            .chain(std::iter::repeat_n(f(Status::LoggedOut), 2))
            .collect();
        assert_eq!(
            Summary::of(&all).line(),
            "26 checked: 24 authorized, 2 logged out, 0 errors"
        );
        let mixed = [f(Status::Error), f(Status::InUse), f(Status::Unchecked)];
        assert_eq!(
            Summary::of(&mixed).line(),
            "3 checked: 0 authorized, 0 logged out, 1 error, 1 in use, 1 without a key"
        );
    }

    #[test]
    fn unreadable_and_keyless_files_are_known_without_the_network() {
        let dir = tempfile::tempdir().unwrap();
        let broken = dir.path().join("broken.session");
        std::fs::write(&broken, b"not a session").unwrap();
        let keyless = dir.path().join("keyless.session");
        let mut s = Session::new(2);
        s.user_id = Some(5);
        store::write_file(&keyless, &s, store::Format::TgsessSqlite).unwrap();
        let target = |p: &Path| CheckTarget {
            name: "x".into(),
            path: p.to_path_buf(),
        };
        match read_target(&target(&broken)) {
            Read::Done(f) => {
                assert_eq!(f.status, Status::Error);
                assert!(f.error.unwrap().contains("broken.session"));
            }
            Read::Key(_) => panic!("a broken file has no key"),
        }
        match read_target(&target(&keyless)) {
            Read::Done(f) => assert_eq!((f.status, f.user_id), (Status::Unchecked, Some(5))),
            Read::Key(_) => panic!("no key"),
        }
    }

    #[test]
    fn sandbox_routing_fills_missing_addresses_and_refuses_telegrams() {
        let dcs: BTreeMap<i32, SocketAddr> = [(2, "127.0.0.1:4002".parse().unwrap())].into();
        let mut bare = Session::new(2);
        bare.home_mut().auth_key = Some(crate::secret::AuthKey::new([1; 256]));
        let routed = route_to_sandbox(&bare, &dcs).unwrap();
        assert_eq!(
            routed.home().unwrap().ipv4,
            Some(std::net::Ipv4Addr::LOCALHOST)
        );
        assert_eq!(routed.home().unwrap().port, Some(4002));
        let mut telegram = bare.clone();
        telegram.home_mut().ipv4 = Some("149.154.167.51".parse().unwrap());
        let refused = route_to_sandbox(&telegram, &dcs).unwrap_err();
        assert_eq!(refused.status, Status::Error);
        assert!(refused.error.unwrap().contains("149.154.167.51"));
        let elsewhere = Session::new(9);
        assert!(
            route_to_sandbox(&elsewhere, &dcs).is_err(),
            "no sandbox DC 9"
        );
    }

    #[test]
    fn a_device_is_recognised_by_its_mark_whatever_its_hash() {
        let device = Device {
            hash: 0,
            current: true,
            device_model: "tgsess".into(),
            platform: String::new(),
            system_version: "linux".into(),
            api_id: 5,
            app_name: "x".into(),
            app_version: "0.1".into(),
            date_created: 1000,
            date_active: 1001,
            ip: "127.0.0.1".into(),
            country: String::new(),
        };
        let mark = mark_of(&device);
        let seen_elsewhere = Device {
            hash: 42,
            current: false,
            date_active: 2000,
            ..device.clone()
        };
        assert!(is_marked(&seen_elsewhere, &mark));
        let other = Device {
            date_created: 999,
            ..seen_elsewhere
        };
        assert!(!is_marked(&other, &mark));
    }
}
