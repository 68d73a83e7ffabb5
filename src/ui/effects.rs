//! Effects are data returned by `update`; the runner performs each in its own tokio task,
//! which sends exactly one `Msg` back. Tasks are grouped by pane, so closing a pane aborts
//! its network work and ends the service's flow of the same id (its clients and locks).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::AbortHandle;

use super::account::{AccountRef, FromDisk, SessionReader};
use super::loader::{CachedListing, Delivery, LoadEvent, RowSource, deliver_batches};
use super::msg::{FolderWriteError, Msg, Outcome, ReqId};
use super::state::SessionRow;
use crate::secret::SecretString;
use crate::store::convert::{self, Overrides};
use crate::store::dir::SessionDir;
use crate::store::{self, Format, Session};
use crate::telegram::{Account, AccountService, FlowId, LoginResult, PasswordChange, TgError};

/// Where a new session goes: its name and format (`Format::Memory` keeps it in this process).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaveTarget {
    pub name: String,
    pub format: Format,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportSource {
    Text(SecretString),
    File(PathBuf),
    /// A tdata folder (or `FOLDER#N`) with the local passcode the user typed.
    Locked {
        path: PathBuf,
        passcode: SecretString,
    },
}

#[derive(Debug)]
pub enum Effect {
    LoadSessions {
        req: ReqId,
    },
    SendCode {
        req: ReqId,
        login: FlowId,
        phone: String,
    },
    ResendCode {
        req: ReqId,
        login: FlowId,
    },
    SignIn {
        req: ReqId,
        login: FlowId,
        code: SecretString,
    },
    SignUp {
        req: ReqId,
        login: FlowId,
        first: String,
        last: String,
    },
    CheckPassword {
        req: ReqId,
        login: FlowId,
        password: SecretString,
    },
    BotSignIn {
        req: ReqId,
        login: FlowId,
        token: SecretString,
    },
    QrExport {
        req: ReqId,
        login: FlowId,
    },
    QrWait {
        req: ReqId,
        login: FlowId,
    },
    /// A forgotten 2FA password: ask for a recovery code by email.
    RequestRecovery {
        req: ReqId,
        login: FlowId,
    },
    EnterRecoveryCode {
        req: ReqId,
        login: FlowId,
        code: SecretString,
    },
    DemoScan {
        req: ReqId,
        url: SecretString,
    },
    SaveLogin {
        req: ReqId,
        result: Box<LoginResult>,
        target: SaveTarget,
    },
    PasswordInfo {
        req: ReqId,
        account: Box<AccountRef>,
    },
    EditTwoFa {
        req: ReqId,
        flow: FlowId,
        account: Box<AccountRef>,
        change: PasswordChange,
    },
    ConfirmEmail {
        req: ReqId,
        flow: FlowId,
        code: SecretString,
    },
    ResendEmail {
        req: ReqId,
        flow: FlowId,
    },
    LogOut {
        req: ReqId,
        account: Box<AccountRef>,
    },
    Authorizations {
        req: ReqId,
        account: Box<AccountRef>,
    },
    Terminate {
        req: ReqId,
        account: Box<AccountRef>,
        hash: Option<i64>,
    },
    CopyClone {
        req: ReqId,
        account: Box<AccountRef>,
        target: SaveTarget,
    },
    Fork {
        req: ReqId,
        login: FlowId,
        account: Box<AccountRef>,
    },
    GetMe {
        req: ReqId,
        account: Box<AccountRef>,
    },
    ReadImport {
        req: ReqId,
        source: ImportSource,
    },
    SaveImport {
        req: ReqId,
        session: Box<Session>,
        target: SaveTarget,
    },
    Export {
        req: ReqId,
        account: Box<AccountRef>,
        format: Format,
    },
    /// Writes the account as a tdata folder at `dest` (replacing one only when `replace`).
    ExportTdata {
        req: ReqId,
        account: Box<AccountRef>,
        dest: PathBuf,
        passcode: SecretString,
        replace: bool,
    },
    /// What the status book says about these rows (fleet::statuses).
    LoadStatuses {
        req: ReqId,
        rows: Vec<super::fleet::statuses::Lookup>,
    },
    /// Files what an action found in the status book, so a restart shows it.
    RecordStatuses {
        changes: Vec<super::fleet::statuses::Filed>,
    },
    /// Checks many rows at once (paced); each row's progress comes back as it goes, then the
    /// whole result. Closing `req.pane` (the run's id) stops it.
    CheckMany {
        req: ReqId,
        targets: Vec<crate::telegram::check::CheckTarget>,
    },
    /// One action on many accounts, paced (`telegram::bulk`); closing `req.pane` stops it.
    Bulk {
        req: ReqId,
        op: super::fleet::bulk::BulkOp,
        items: Vec<crate::telegram::bulk::BulkItem<AccountRef>>,
    },
    /// Moves session files to the folder's trash, each under its lock: (row key, name, path).
    TrashMany {
        req: ReqId,
        files: Vec<(String, String, PathBuf)>,
    },
    /// Writes converted copies of sessions into a folder: (row key, name, account).
    ExportMany {
        req: ReqId,
        files: Vec<(String, String, AccountRef)>,
        format: Format,
        folder: PathBuf,
    },
    /// The pane closed: abort every task it started and end its flow in the service, which
    /// drops the clients, connections and session locks kept for it.
    ClosePane {
        pane: u64,
    },
    /// Terminal-level effects, done by the event loop itself.
    Clipboard(SecretString),
    Quit,
}

impl Effect {
    /// The effect's kind, for the log (never its data: numbers, codes and keys stay out).
    pub fn name(&self) -> &'static str {
        match self {
            Effect::LoadSessions { .. } => "LoadSessions",
            Effect::SendCode { .. } => "SendCode",
            Effect::ResendCode { .. } => "ResendCode",
            Effect::SignIn { .. } => "SignIn",
            Effect::SignUp { .. } => "SignUp",
            Effect::CheckPassword { .. } => "CheckPassword",
            Effect::BotSignIn { .. } => "BotSignIn",
            Effect::QrExport { .. } => "QrExport",
            Effect::QrWait { .. } => "QrWait",
            Effect::DemoScan { .. } => "DemoScan",
            Effect::RequestRecovery { .. } => "RequestRecovery",
            Effect::EnterRecoveryCode { .. } => "EnterRecoveryCode",
            Effect::SaveLogin { .. } => "SaveLogin",
            Effect::PasswordInfo { .. } => "PasswordInfo",
            Effect::EditTwoFa { .. } => "EditTwoFa",
            Effect::ConfirmEmail { .. } => "ConfirmEmail",
            Effect::ResendEmail { .. } => "ResendEmail",
            Effect::LogOut { .. } => "LogOut",
            Effect::Authorizations { .. } => "Authorizations",
            Effect::Terminate { .. } => "Terminate",
            Effect::CopyClone { .. } => "CopyClone",
            Effect::Fork { .. } => "Fork",
            Effect::GetMe { .. } => "GetMe",
            Effect::ReadImport { .. } => "ReadImport",
            Effect::SaveImport { .. } => "SaveImport",
            Effect::Export { .. } => "Export",
            Effect::ExportTdata { .. } => "ExportTdata",
            Effect::LoadStatuses { .. } => "LoadStatuses",
            Effect::RecordStatuses { .. } => "RecordStatuses",
            Effect::CheckMany { .. } => "CheckMany",
            Effect::Bulk { .. } => "Bulk",
            Effect::TrashMany { .. } => "TrashMany",
            Effect::ExportMany { .. } => "ExportMany",
            Effect::ClosePane { .. } => "ClosePane",
            Effect::Clipboard(_) => "Clipboard",
            Effect::Quit => "Quit",
        }
    }
}

pub struct Runner {
    service: Arc<dyn AccountService>,
    dir: SessionDir,
    tx: UnboundedSender<Msg>,
    tasks: HashMap<u64, Vec<AbortHandle>>,
    source: Arc<dyn RowSource>,
    /// The listing that still counts (its seq): an older one stops reading.
    current_load: Arc<AtomicU64>,
    /// The status book (`None`: statuses are neither read nor kept, as in most tests).
    status_file: Option<PathBuf>,
    /// Where an action reads its row's session from.
    reader: Arc<dyn SessionReader>,
}

impl Runner {
    pub fn new(
        service: Arc<dyn AccountService>,
        dir: SessionDir,
        tx: UnboundedSender<Msg>,
    ) -> Self {
        Runner {
            service,
            dir,
            tx,
            tasks: HashMap::new(),
            // No cache unless the app sets its source: in-process tests leave ~/.cache alone.
            source: Arc::new(CachedListing::at(None)),
            current_load: Arc::new(AtomicU64::new(0)),
            status_file: None,
            reader: Arc::new(FromDisk),
        }
    }

    /// Where actions read the sessions of file rows (the default reads the files).
    pub fn set_reader(&mut self, reader: Box<dyn SessionReader>) {
        self.reader = Arc::from(reader);
    }

    /// Where listings come from (the default: the folder's listing, without a cache).
    pub fn set_source(&mut self, source: Box<dyn RowSource>) {
        self.source = Arc::from(source);
    }

    /// Streams the listing in: batches as they are read, then `Listed` with the rest.
    fn load(&mut self, req: ReqId) {
        self.current_load.store(req.seq, Ordering::SeqCst);
        let (source, current) = (Arc::clone(&self.source), Arc::clone(&self.current_load));
        let dir = self.dir.clone();
        let tx = self.tx.clone();
        let handle = tokio::task::spawn_blocking(move || {
            let still_wanted = move || current.load(Ordering::SeqCst) == req.seq;
            deliver_batches(source.as_ref(), &dir, still_wanted, |delivery| {
                let outcome = match delivery {
                    Delivery::Batch { rows, total } => Outcome::ListBatch { rows, total },
                    Delivery::Done(result) => {
                        if let Err(problem) = &result {
                            tracing::info!(%problem, "listing failed");
                        }
                        Outcome::Listed(result)
                    }
                };
                tx.send(Msg::Done(req, outcome)).is_ok()
            });
        });
        self.track(req.pane, handle.abort_handle());
    }

    /// Reads and keeps statuses in the book at `file` (`store::status::default_path()`).
    pub fn remember_statuses_in(&mut self, file: Option<PathBuf>) {
        self.status_file = file;
    }

    /// Starts `effect`. Terminal-level effects (clipboard, quit) are handed back to the caller.
    pub fn run(&mut self, effect: Effect) -> Option<Effect> {
        tracing::debug!(effect = effect.name(), "run");
        let svc = Arc::clone(&self.service);
        let dir = self.dir.clone();
        let reader = Arc::clone(&self.reader);
        match effect {
            Effect::Clipboard(_) | Effect::Quit => return Some(effect),
            Effect::ClosePane { pane } => {
                for task in self.tasks.remove(&pane).unwrap_or_default() {
                    task.abort();
                }
                svc.end(pane);
            }
            Effect::LoadSessions { req } => self.load(req),
            Effect::CheckMany { req, targets } => {
                let tx = self.tx.clone();
                let handle = tokio::spawn(async move {
                    let (events, mut heard) = tokio::sync::mpsc::unbounded_channel();
                    let run = svc.check_many(targets, events);
                    tokio::pin!(run);
                    let send = |o| {
                        let _ = tx.send(Msg::Done(req, o));
                    };
                    let results = loop {
                        tokio::select! {
                            results = &mut run => break results,
                            Some(ev) = heard.recv() => send(Outcome::Checked(ev)),
                        }
                    };
                    while let Ok(ev) = heard.try_recv() {
                        send(Outcome::Checked(ev));
                    }
                    send(Outcome::CheckFinished(results));
                });
                self.track(req.pane, handle.abort_handle());
            }
            Effect::Bulk { req, op, items } => {
                use super::fleet::bulk::BulkOp;
                use crate::telegram::bulk::{BulkOptions, paced};
                let tx = self.tx.clone();
                let handle = tokio::spawn(async move {
                    let (events, mut heard) = tokio::sync::mpsc::unbounded_channel();
                    let act = move |target: AccountRef| {
                        let (svc, reader) = (Arc::clone(&svc), Arc::clone(&reader));
                        Box::pin(async move {
                            let account = open(reader, target).await?;
                            match op {
                                BulkOp::TerminateOthers => svc.terminate(account, None).await,
                                _ => svc.log_out(account).await,
                            }
                        })
                            as futures_util::future::BoxFuture<'static, Result<(), TgError>>
                    };
                    let run = paced(items, BulkOptions::default(), act, events);
                    tokio::pin!(run);
                    let send = |o| {
                        let _ = tx.send(Msg::Done(req, o));
                    };
                    loop {
                        tokio::select! {
                            () = &mut run => break,
                            Some(ev) = heard.recv() => send(Outcome::Bulk(ev)),
                        }
                    }
                    while let Ok(ev) = heard.try_recv() {
                        send(Outcome::Bulk(ev));
                    }
                    send(Outcome::BulkFinished);
                });
                self.track(req.pane, handle.abort_handle());
            }
            Effect::ExportMany {
                req,
                files,
                format,
                folder,
            } => self.blocking(req, move || {
                Outcome::ExportedMany(super::fleet::bulk::write_exports(
                    files,
                    reader.as_ref(),
                    format,
                    &folder,
                ))
            }),
            Effect::TrashMany { req, files } => self.blocking(req, move || {
                let moved = files
                    .into_iter()
                    .map(|(key, name, path)| {
                        let moved = crate::telegram::lock::lock_for_writing(&path)
                            .map_err(|e| e.to_string())
                            .and_then(|_lock| dir.trash(&name).map_err(|e| e.to_string()));
                        (key, moved)
                    })
                    .collect();
                Outcome::Trashed(moved)
            }),
            Effect::LoadStatuses { req, rows } => {
                let file = self.status_file.clone()?;
                self.blocking(req, move || {
                    Outcome::Statuses(super::fleet::statuses::look_up(&file, &rows))
                })
            }
            Effect::RecordStatuses { changes } => {
                let file = self.status_file.clone()?;
                let req = ReqId { pane: 0, seq: 0 };
                self.blocking(req, move || {
                    Outcome::Recorded(super::fleet::statuses::record(&file, changes))
                })
            }
            Effect::SendCode { req, login, phone } => self.spawn(req, async move {
                Outcome::SentCode(svc.send_code(login, phone).await)
            }),
            Effect::ResendCode { req, login } => self.spawn(req, async move {
                Outcome::SentCode(svc.resend_code(login).await)
            }),
            Effect::SignIn { req, login, code } => self.spawn(req, async move {
                Outcome::SignIn(svc.sign_in(login, code).await)
            }),
            Effect::SignUp {
                req,
                login,
                first,
                last,
            } => self.spawn(req, async move {
                Outcome::LoggedIn(svc.sign_up(login, first, last).await)
            }),
            Effect::CheckPassword {
                req,
                login,
                password,
            } => self.spawn(req, async move {
                Outcome::LoggedIn(svc.check_password(login, password).await)
            }),
            Effect::BotSignIn { req, login, token } => self.spawn(req, async move {
                Outcome::LoggedIn(svc.bot_sign_in(login, token).await)
            }),
            Effect::QrExport { req, login } => {
                self.spawn(
                    req,
                    async move { Outcome::QrToken(svc.qr_export(login).await) },
                )
            }
            Effect::QrWait { req, login } => {
                self.spawn(
                    req,
                    async move { Outcome::QrScanned(svc.qr_wait(login).await) },
                )
            }
            Effect::RequestRecovery { req, login } => self.spawn(req, async move {
                Outcome::RecoverySent(svc.request_recovery(login).await)
            }),
            Effect::EnterRecoveryCode { req, login, code } => self.spawn(req, async move {
                Outcome::LoggedIn(svc.enter_recovery_code(login, code).await)
            }),
            Effect::DemoScan { req, url } => self.spawn(req, async move {
                Outcome::DemoScanned(svc.demo_scan(url).await)
            }),
            Effect::SaveLogin {
                req,
                result,
                target,
            } => self.blocking(req, move || {
                Outcome::Saved(save(&dir, &target, &result.session).map(|mut row| {
                    row.learned = Some(Box::new(result.me.clone()));
                    row
                }))
            }),
            Effect::PasswordInfo { req, account } => self.spawn(req, async move {
                match open(reader, *account).await {
                    Ok(account) => Outcome::PasswordInfo(svc.password_info(account).await),
                    Err(e) => Outcome::PasswordInfo(Err(e)),
                }
            }),
            Effect::EditTwoFa {
                req,
                flow,
                account,
                change,
            } => self.spawn(req, async move {
                match open(reader, *account).await {
                    Ok(account) => Outcome::TwoFaEdited(svc.edit_2fa(flow, account, change).await),
                    Err(e) => Outcome::TwoFaEdited(Err(e)),
                }
            }),
            Effect::ConfirmEmail { req, flow, code } => self.spawn(req, async move {
                Outcome::TwoFaEdited(svc.confirm_email(flow, code).await)
            }),
            Effect::ResendEmail { req, flow } => self.spawn(req, async move {
                Outcome::TwoFaEdited(svc.resend_email(flow).await)
            }),
            Effect::LogOut { req, account } => self.spawn(req, async move {
                match open(reader, *account).await {
                    Ok(account) => Outcome::LoggedOut(svc.log_out(account).await),
                    Err(e) => Outcome::LoggedOut(Err(e)),
                }
            }),
            Effect::Authorizations { req, account } => self.spawn(req, async move {
                match open(reader, *account).await {
                    Ok(account) => Outcome::Authorizations(svc.authorizations(account).await),
                    Err(e) => Outcome::Authorizations(Err(e)),
                }
            }),
            Effect::Terminate { req, account, hash } => self.spawn(req, async move {
                match open(reader, *account).await {
                    Ok(account) => Outcome::Terminated(svc.terminate(account, hash).await),
                    Err(e) => Outcome::Terminated(Err(e)),
                }
            }),
            Effect::GetMe { req, account } => self.spawn(req, async move {
                match open(reader, *account).await {
                    Ok(account) => Outcome::Me(svc.get_me(account).await),
                    Err(e) => Outcome::Me(Err(e)),
                }
            }),
            Effect::CopyClone {
                req,
                account,
                target,
            } => self.blocking(req, move || {
                // A copy needs no network: the same keys, written again.
                let account = account.open(reader.as_ref()).map_err(|e| e.to_string());
                Outcome::Saved(account.and_then(|a| save(&dir, &target, &a.session)))
            }),
            Effect::Fork {
                req,
                login,
                account,
            } => self.spawn(req, async move {
                match open(reader, *account).await {
                    Ok(account) => Outcome::Forked(svc.fork(login, account).await),
                    Err(e) => Outcome::Forked(Err(e)),
                }
            }),
            Effect::ReadImport { req, source } => self.blocking(req, move || read_import(source)),
            Effect::SaveImport {
                req,
                session,
                target,
            } => self.blocking(req, move || Outcome::Saved(save(&dir, &target, &session))),
            Effect::Export {
                req,
                account,
                format,
            } => self.blocking(req, move || {
                let encoded = account.open(reader.as_ref()).and_then(|a| {
                    convert::prepare(&a.session, format, &Overrides::default())
                        .and_then(|(s, _)| store::encode_string(&s, format))
                });
                Outcome::Exported(encoded.map(SecretString::new).map_err(|e| e.to_string()))
            }),
            Effect::ExportTdata {
                req,
                account,
                dest,
                passcode,
                replace,
            } => self.blocking(req, move || {
                let written = account
                    .open(reader.as_ref())
                    .map_err(|e| FolderWriteError::Other(e.to_string()))
                    .and_then(|a| write_tdata(&a, &dest, &passcode, replace));
                Outcome::TdataWritten(written)
            }),
        }
        None
    }

    fn spawn(&mut self, req: ReqId, fut: impl Future<Output = Outcome> + Send + 'static) {
        let tx = self.tx.clone();
        let handle = tokio::spawn(async move {
            let outcome = fut.await;
            if let Some(problem) = outcome.problem() {
                tracing::info!(pane = req.pane, %problem, "request failed");
            }
            let _ = tx.send(Msg::Done(req, outcome));
        });
        self.track(req.pane, handle.abort_handle());
    }

    fn blocking(&mut self, req: ReqId, f: impl FnOnce() -> Outcome + Send + 'static) {
        let tx = self.tx.clone();
        // Store work is blocking I/O: keep it off the async workers. A blocking task cannot be
        // aborted midway, so atomic writes always finish.
        let handle = tokio::task::spawn_blocking(move || {
            let outcome = f();
            if let Some(problem) = outcome.problem() {
                tracing::info!(pane = req.pane, %problem, "store work failed");
            }
            let _ = tx.send(Msg::Done(req, outcome));
        });
        self.track(req.pane, handle.abort_handle());
    }

    fn track(&mut self, pane: u64, handle: AbortHandle) {
        let list = self.tasks.entry(pane).or_default();
        list.retain(|h| !h.is_finished());
        list.push(handle);
    }

    /// Aborts every task (quit, SIGHUP). Blocking store writes run to completion.
    pub fn cancel_all(&mut self) {
        self.current_load.store(0, Ordering::SeqCst);
        for (_, tasks) in self.tasks.drain() {
            for t in tasks {
                t.abort();
            }
        }
    }
}

/// The account of an action, its file read on a blocking thread (the network tasks are async).
async fn open(reader: Arc<dyn SessionReader>, target: AccountRef) -> Result<Account, TgError> {
    if let AccountRef::Memory(account) = target {
        return Ok(account);
    }
    tokio::task::spawn_blocking(move || target.open(reader.as_ref()))
        .await
        .map_err(|e| TgError::Unexpected(format!("reading the session: {e}")))?
        .map_err(TgError::Store)
}

/// Reads what the import pane names; a tdata folder's passcode is asked for, never guessed.
fn read_import(source: ImportSource) -> Outcome {
    let read = match source {
        ImportSource::Text(t) => store::parse_string(t.reveal(), "pasted string"),
        ImportSource::File(p) => store::read_file(&p),
        ImportSource::Locked { path, passcode } => {
            store::read_file_with(&path, passcode.reveal().as_bytes())
        }
    };
    match read {
        Err(store::StoreError::PasscodeNeeded(_)) => Outcome::Locked { wrong: false },
        Err(store::StoreError::WrongPasscode(_)) => Outcome::Locked { wrong: true },
        other => Outcome::Parsed(other.map_err(|e| e.to_string())),
    }
}

/// The account as a one-account tdata folder, under the folder's writer lock.
fn write_tdata(
    account: &Account,
    dest: &std::path::Path,
    passcode: &SecretString,
    replace: bool,
) -> Result<PathBuf, FolderWriteError> {
    let other = |e: &dyn std::fmt::Display| FolderWriteError::Other(e.to_string());
    let _lock = crate::telegram::lock::lock_for_writing(dest).map_err(|e| other(&e))?;
    let session = std::slice::from_ref(&account.session);
    match store::tdata::write_folder(dest, session, passcode.reveal().as_bytes(), replace) {
        Ok(()) => Ok(dest.to_path_buf()),
        Err(store::StoreError::AlreadyExists(_)) => Err(FolderWriteError::Exists),
        Err(e) => Err(other(&e)),
    }
}

/// Reads the whole folder into list rows at once, without a cache (tests, and the benches'
/// blocking peer).
pub fn list_rows(dir: &SessionDir) -> Result<Vec<SessionRow>, String> {
    let mut rows = Vec::new();
    CachedListing::at(None).load(dir, &mut |ev| {
        if let LoadEvent::Rows(r) = ev {
            rows.extend(r);
        }
        true
    })?;
    Ok(rows)
}

/// Writes `session` as `target` (or keeps it in memory) and returns its row.
pub fn save(
    dir: &SessionDir,
    target: &SaveTarget,
    session: &Session,
) -> Result<SessionRow, String> {
    if target.format == Format::Memory {
        return Ok(SessionRow::memory(&target.name, session.clone()));
    }
    let (prepared, _notes) = convert::prepare(session, target.format, &Overrides::default())
        .map_err(|e| e.to_string())?;
    dir.ensure().map_err(|e| e.to_string())?;
    let path = dir
        .new_path(&target.name, target.format)
        .map_err(|e| e.to_string())?;
    let _lock = crate::telegram::lock::lock_for_writing(&path).map_err(|e| e.to_string())?;
    store::write_file(&path, &prepared, target.format).map_err(|e| e.to_string())?;
    let loaded = store::read_file(&path).map_err(|e| e.to_string())?;
    Ok(SessionRow::from_file(&target.name, path, Ok(loaded)))
}
