//! `grammers_session::Session` over any tgsess backend, write-through: whatever grammers
//! changes (home DC, DC options and keys, the logged-in user) is saved at once, atomically,
//! in the backend's own format. Other peers and the update state live in memory only.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use grammers_session::types::{DcOption, PeerAuth, PeerId, PeerInfo, UpdateState, UpdatesState};
use grammers_session::{BoxFuture, Session as GrammersSession};

use super::error::{Result, StoreError};
use super::format::Format;
use super::model::{DcEntry, Session};
use super::{dc_table, write_file};
use crate::secret::AuthKey;

/// Where an adapter keeps its session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A file (SQLite or string) written in `format`.
    File { path: PathBuf, format: Format },
    /// This process only.
    Memory,
}

struct State {
    session: Session,
    /// Access hash of the logged-in user, needed by grammers to address itself.
    self_auth: Option<i64>,
    peers: HashMap<PeerId, PeerInfo>,
    updates: UpdatesState,
    /// A change not on disk yet: the format cannot hold it yet (e.g. a Pyrogram file before
    /// the user id is known), or the session is held until its login completes.
    pending: bool,
    /// Writes wait until a login completes (see [`StoredSession::new`]).
    held: bool,
}

/// A session that grammers can drive, saved write-through to its backend.
pub struct StoredSession {
    backend: Backend,
    state: Mutex<State>,
}

impl StoredSession {
    /// A session saved write-through to `backend`. One without a usable key (new, or logged
    /// out) is held: the keys, home DC and identity a login gathers stay in memory and reach
    /// the file in one write when the login completes (grammers learns who it is logged in
    /// as), so a login cut short leaves the file exactly as it was, never a new key beside the
    /// old identity.
    pub fn new(session: Session, backend: Backend) -> Self {
        let held = session.auth_key().is_none_or(|k| k.is_all_zero());
        Self {
            backend,
            state: Mutex::new(State {
                session,
                self_auth: None,
                peers: HashMap::new(),
                updates: UpdatesState::default(),
                pending: false,
                held,
            }),
        }
    }

    /// Opens a session file of any format; it is saved back in that same format.
    pub fn open(path: &Path) -> Result<Self> {
        let loaded = super::read_file(path)?;
        Ok(Self::new(
            loaded.session,
            Backend::File {
                path: path.to_path_buf(),
                format: loaded.format,
            },
        ))
    }

    pub fn into_arc(self) -> Arc<Self> {
        Arc::new(self)
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// A copy of the session as it is now.
    pub fn snapshot(&self) -> Session {
        self.lock().session.clone()
    }

    /// Forgets the login after a logout: every key and the cached account names. The user id
    /// stays, so the file still says whose session it was. Each format stores "no key" its own
    /// way (Telethon: an empty blob; Pyrogram SQLite: NULL; strings: an all-zero key).
    pub fn forget_login(&self) -> Result<()> {
        self.update(|s| {
            s.clear_keys();
            s.user = None;
        })
    }

    /// Changes the session outside grammers (e.g. fills api_id, or forgets the key after a
    /// logout) and saves it.
    pub fn update(&self, change: impl FnOnce(&mut Session)) -> Result<()> {
        let mut state = self.lock();
        change(&mut state.session);
        self.persist(&mut state)
    }

    /// Whether a change is waiting for fields the format needs (see [`State::pending`]).
    pub fn has_pending_write(&self) -> bool {
        self.lock().pending
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the session half-changed in a way that
        // matters: every write to disk is atomic. Keep going with the data.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn persist(&self, state: &mut State) -> Result<()> {
        let Backend::File { path, format } = &self.backend else {
            return Ok(());
        };
        let format = *format;
        if state.held {
            state.pending = true;
            return Ok(());
        }
        let session = &state.session;
        // A logged-in Pyrogram session needs its user id and api_id; a logged-out one is
        // written as Pyrogram's "empty" session (no key).
        let can_hold = match format {
            Format::PyrogramString(_) => session.user_id.is_some() && session.api_id.is_some(),
            Format::PyrogramSqlite(_) => {
                !session.has_key() || (session.user_id.is_some() && session.api_id.is_some())
            }
            _ => true,
        };
        if !can_hold {
            state.pending = true;
            return Ok(());
        }
        let mut to_write = session.clone();
        if matches!(
            format,
            Format::PyrogramString(_) | Format::PyrogramSqlite(_)
        ) {
            to_write.is_bot.get_or_insert(false);
            to_write.test_mode.get_or_insert(false);
        }
        write_file(path, &to_write, format)?;
        state.pending = false;
        Ok(())
    }
}

fn to_dc_option(entry: &DcEntry, test_mode: bool) -> DcOption {
    let known = dc_table::lookup(entry.id, test_mode);
    let port = entry.port.or(known.as_ref().map(|k| k.port)).unwrap_or(443);
    let ipv4 = entry
        .ipv4
        .or(known.as_ref().map(|k| k.ipv4))
        .unwrap_or(Ipv4Addr::UNSPECIFIED);
    let ipv6 = entry
        .ipv6
        .or(known.as_ref().map(|k| k.ipv6))
        .unwrap_or(Ipv6Addr::UNSPECIFIED);
    DcOption {
        id: entry.id,
        ipv4: SocketAddrV4::new(ipv4, port),
        ipv6: SocketAddrV6::new(ipv6, port, 0, 0),
        auth_key: entry.auth_key.as_ref().map(|k| *k.reveal()),
    }
}

impl GrammersSession for StoredSession {
    type Error = StoreError;

    fn home_dc_id(&self) -> Result<i32> {
        Ok(self.lock().session.dc_id)
    }

    fn set_home_dc_id(&self, dc_id: i32) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let mut state = self.lock();
            if state.session.dc_id == dc_id {
                return Ok(());
            }
            state.session.dc_id = dc_id;
            state.session.dc_mut(dc_id);
            self.persist(&mut state)
        })
    }

    fn dc_option(&self, dc_id: i32) -> Result<Option<DcOption>> {
        let state = self.lock();
        let test = state.session.test_mode.unwrap_or(false);
        Ok(match state.session.dc(dc_id) {
            Some(entry) => Some(to_dc_option(entry, test)),
            None => dc_table::lookup(dc_id, test).map(|_| to_dc_option(&DcEntry::new(dc_id), test)),
        })
    }

    fn set_dc_option(&self, option: &DcOption) -> BoxFuture<'_, Result<()>> {
        let option = option.clone();
        Box::pin(async move {
            let mut state = self.lock();
            let entry = state.session.dc_mut(option.id);
            let before = entry.clone();
            entry.ipv4 = Some(*option.ipv4.ip()).filter(|a| !a.is_unspecified());
            entry.ipv6 = Some(*option.ipv6.ip()).filter(|a| !a.is_unspecified());
            entry.port = Some(option.ipv4.port());
            entry.auth_key = option.auth_key.map(AuthKey::new);
            if *entry == before {
                return Ok(());
            }
            self.persist(&mut state)
        })
    }

    fn peer(&self, peer: PeerId) -> BoxFuture<'_, Result<Option<PeerInfo>>> {
        Box::pin(async move {
            let state = self.lock();
            let self_id = state.session.user_id;
            if peer == PeerId::self_user()
                || (self_id.is_some() && PeerId::user(self_id.unwrap()) == Some(peer))
            {
                return Ok(self_id.map(|id| PeerInfo::User {
                    id,
                    auth: state.self_auth.map(PeerAuth::from_hash),
                    bot: state.session.is_bot,
                    is_self: Some(true),
                }));
            }
            Ok(state.peers.get(&peer).cloned())
        })
    }

    fn cache_peer(&self, peer: PeerInfo) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let mut state = self.lock();
            if let PeerInfo::User {
                id,
                auth,
                bot,
                is_self: Some(true),
            } = &peer
            {
                let changed = state.session.user_id != Some(*id)
                    || (bot.is_some() && state.session.is_bot != *bot);
                state.session.user_id = Some(*id);
                if bot.is_some() {
                    state.session.is_bot = *bot;
                }
                if let Some(a) = auth {
                    state.self_auth = Some(a.hash());
                }
                // Logged in: whatever the login gathered is saved now, in one write.
                state.held = false;
                if changed || state.pending {
                    return self.persist(&mut state);
                }
                return Ok(());
            }
            state
                .peers
                .entry(peer.id())
                .or_insert_with(|| peer.clone())
                .extend_info(&peer);
            Ok(())
        })
    }

    fn updates_state(&self) -> BoxFuture<'_, Result<UpdatesState>> {
        Box::pin(async move { Ok(self.lock().updates.clone()) })
    }

    fn set_update_state(&self, update: UpdateState) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let mut state = self.lock();
            let u = &mut state.updates;
            match update {
                UpdateState::All(all) => *u = all,
                UpdateState::Primary { pts, date, seq } => {
                    u.pts = pts;
                    u.date = date;
                    u.seq = seq;
                }
                UpdateState::Secondary { qts } => u.qts = qts,
                UpdateState::Channel { id, pts } => {
                    match u.channels.iter_mut().find(|c| c.id == id) {
                        Some(c) => c.pts = pts,
                        None => u
                            .channels
                            .push(grammers_session::types::ChannelState { id, pts }),
                    }
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::read_file;

    fn block<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn option(id: i32, port: u16, key: u8) -> DcOption {
        DcOption {
            id,
            ipv4: SocketAddrV4::new(Ipv4Addr::LOCALHOST, port),
            ipv6: SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0),
            auth_key: Some([key; 256]),
        }
    }

    /// A copy of the Telethon DC 2 fixture in `dir`.
    fn telethon_fixture_in(dir: &Path) -> PathBuf {
        let path = dir.join("t.session");
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/sessions/telethon_dc2_user.session"),
            &path,
        )
        .unwrap();
        path
    }

    #[test]
    fn grammers_changes_reach_the_file_in_its_own_format() {
        let tmp = tempfile::tempdir().unwrap();
        for format in [
            Format::TelethonSqlite(7),
            Format::TgsessSqlite,
            Format::TelethonString,
            Format::TgsessString,
        ] {
            let path = tmp.path().join(format!("s-{}", format.family()));
            let stored = StoredSession::new(
                Session::new(2),
                Backend::File {
                    path: path.clone(),
                    format,
                },
            );
            block(async {
                stored.set_dc_option(&option(2, 10002, 2)).await.unwrap();
                stored.set_dc_option(&option(4, 10004, 4)).await.unwrap();
                stored.set_home_dc_id(4).await.unwrap();
                stored
                    .cache_peer(PeerInfo::User {
                        id: 5_123_456_789,
                        auth: Some(PeerAuth::from_hash(77)),
                        bot: Some(false),
                        is_self: Some(true),
                    })
                    .await
                    .unwrap();
            });
            let back = read_file(&path).unwrap();
            assert_eq!(back.format, format);
            assert_eq!(back.session.dc_id, 4, "{format}");
            let home = back.session.home().unwrap();
            assert_eq!(
                (home.ipv4, home.port),
                (Some(Ipv4Addr::LOCALHOST), Some(10004)),
                "{format}"
            );
            assert_eq!(home.auth_key.as_ref().unwrap().reveal(), &[4; 256]);
            if format != Format::TelethonString {
                assert_eq!(back.session.user_id, Some(5_123_456_789), "{format}");
            }
            if format.family().starts_with("tgsess") {
                assert_eq!(
                    back.session
                        .dc(2)
                        .unwrap()
                        .auth_key
                        .as_ref()
                        .unwrap()
                        .reveal(),
                    &[2; 256]
                );
                assert_eq!(back.session.is_bot, Some(false));
            }
            // grammers finds itself as the logged-in user.
            let me = block(stored.peer(PeerId::self_user())).unwrap().unwrap();
            assert!(matches!(
                me,
                PeerInfo::User {
                    id: 5_123_456_789,
                    is_self: Some(true),
                    ..
                }
            ));
        }
    }

    #[test]
    fn pyrogram_files_wait_for_the_fields_they_need() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("p.session");
        let mut start = Session::new(2);
        start.api_id = Some(12345);
        let stored = StoredSession::new(
            start,
            Backend::File {
                path: path.clone(),
                format: Format::PyrogramSqlite(7),
            },
        );
        block(stored.set_dc_option(&option(2, 10002, 9))).unwrap();
        assert!(
            !path.exists(),
            "no user id yet: nothing a Pyrogram client could load"
        );
        assert!(stored.has_pending_write());
        block(stored.cache_peer(PeerInfo::User {
            id: 42,
            auth: None,
            bot: Some(true),
            is_self: Some(true),
        }))
        .unwrap();
        let back = read_file(&path).unwrap();
        assert_eq!(
            (
                back.session.user_id,
                back.session.is_bot,
                back.session.api_id
            ),
            (Some(42), Some(true), Some(12345))
        );
        assert!(!stored.has_pending_write());
    }

    #[test]
    fn logout_clears_the_key_in_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = telethon_fixture_in(tmp.path());
        let stored = StoredSession::open(&path).unwrap();
        stored.update(|s| s.clear_keys()).unwrap();
        let back = read_file(&path).unwrap();
        assert_eq!(
            back.format,
            Format::TelethonSqlite(8),
            "stays in its own schema"
        );
        assert!(!back.session.has_key());
        // grammers would see no key for the home DC and start from scratch.
        assert!(stored.dc_option(2).unwrap().unwrap().auth_key.is_none());
    }

    #[test]
    fn a_logged_out_file_is_written_once_when_the_login_completes() {
        let tmp = tempfile::tempdir().unwrap();
        let path = telethon_fixture_in(tmp.path());
        StoredSession::open(&path).unwrap().forget_login().unwrap();
        let logged_out = std::fs::read(&path).unwrap();
        let stored = StoredSession::open(&path).unwrap();
        // What a login gathers before it completes stays in memory...
        block(stored.set_dc_option(&option(4, 10004, 4))).unwrap();
        block(stored.set_home_dc_id(4)).unwrap();
        stored.update(|s| s.api_id = Some(5)).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), logged_out);
        assert!(stored.has_pending_write());
        // ...and reaches the file in one write once grammers knows who it is.
        block(stored.cache_peer(PeerInfo::User {
            id: 777,
            auth: None,
            bot: Some(false),
            is_self: Some(true),
        }))
        .unwrap();
        let back = read_file(&path).unwrap().session;
        assert_eq!((back.dc_id, back.user_id), (4, Some(777)));
        assert_eq!(back.auth_key().unwrap().reveal(), &[4; 256]);
        assert!(!stored.has_pending_write());
    }

    #[test]
    fn a_connect_that_changes_nothing_writes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let path = telethon_fixture_in(tmp.path());
        // Any commit would change the bytes (SQLite's change counter at least).
        let before = std::fs::read(&path).unwrap();
        let stored = StoredSession::open(&path).unwrap();
        let home = stored.dc_option(2).unwrap().unwrap();
        block(stored.set_dc_option(&home)).unwrap();
        // Telethon files hold no api_id: filling it changes nothing on disk.
        stored.update(|s| s.api_id = Some(5)).unwrap();
        block(stored.cache_peer(PeerInfo::User {
            id: 123456789,
            auth: None,
            bot: None,
            is_self: Some(true),
        }))
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn memory_sessions_touch_no_file() {
        let stored = StoredSession::new(Session::new(2), Backend::Memory);
        block(stored.set_dc_option(&option(2, 1, 1))).unwrap();
        assert_eq!(stored.snapshot().auth_key().unwrap().reveal(), &[1; 256]);
        // DCs the session never heard of still resolve from Telegram's table.
        assert_eq!(stored.dc_option(5).unwrap().unwrap().ipv4.port(), 443);
    }
}
