//! The sandbox's state in SQLite (`sandbox.db` in the state folder): accounts, 2FA salts and
//! verifiers, recovery emails, auth keys and what is bound to them, login codes, login
//! tokens, exported authorizations and the outbox. `serve` and the admin commands share it
//! safely (WAL, busy timeout, one short transaction per operation). Data access only; the
//! rules live in `rpc/`.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, ToSql, params};

use super::service::unix_now;
use crate::fsutil;
use crate::secret::{AuthKey, SecretString};

pub const DB_FILE: &str = "sandbox.db";

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("sandbox state {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("sandbox state {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, StateError>;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dcs (id INTEGER PRIMARY KEY, port INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    access_hash INTEGER NOT NULL,
    phone TEXT UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL DEFAULT '',
    username TEXT,
    dc_id INTEGER NOT NULL,
    is_bot INTEGER NOT NULL DEFAULT 0,
    bot_token TEXT UNIQUE,
    pw_salt1 BLOB, pw_salt2 BLOB, pw_verifier BLOB, pw_hint TEXT,
    email TEXT,
    pending_salt1 BLOB, pending_salt2 BLOB, pending_verifier BLOB, pending_hint TEXT,
    pending_email TEXT, pending_code TEXT,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS auth_keys (
    key_id INTEGER PRIMARY KEY,
    dc_id INTEGER NOT NULL,
    key BLOB NOT NULL,
    created INTEGER NOT NULL,
    user_id INTEGER,
    pending_user_id INTEGER,
    auth_hash INTEGER,
    authorized_at INTEGER,
    active_at INTEGER,
    api_id INTEGER,
    device_model TEXT, system_version TEXT, app_version TEXT, lang_code TEXT
);
CREATE INDEX IF NOT EXISTS auth_keys_user ON auth_keys(user_id);
CREATE TABLE IF NOT EXISTS codes (
    hash TEXT PRIMARY KEY,
    phone TEXT NOT NULL,
    code TEXT NOT NULL,
    created INTEGER NOT NULL,
    sends INTEGER NOT NULL DEFAULT 1,
    verified INTEGER NOT NULL DEFAULT 0,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS code_requests (phone TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS failed_passwords (user_id INTEGER NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS recovery_codes (
    user_id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    code TEXT NOT NULL,
    purpose TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS login_tokens (
    token BLOB PRIMARY KEY,
    key_id INTEGER NOT NULL,
    dc_id INTEGER NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    accepted_user INTEGER,
    notified INTEGER NOT NULL DEFAULT 0,
    consumed INTEGER NOT NULL DEFAULT 0
);
-- Accounts that may not accept a token (exportLoginToken's except_ids).
CREATE TABLE IF NOT EXISTS login_token_exceptions (token BLOB NOT NULL, user_id INTEGER NOT NULL);
-- Wrong guesses of a login code.
CREATE TABLE IF NOT EXISTS wrong_codes (hash TEXT PRIMARY KEY, tries INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS exported_auths (
    id INTEGER PRIMARY KEY,
    bytes BLOB NOT NULL,
    user_id INTEGER NOT NULL,
    dc_id INTEGER NOT NULL,
    created INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
";

/// A 2FA password as the server keeps it: salts and verifier, never the password.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordRecord {
    pub salt1: Vec<u8>,
    pub salt2: Vec<u8>,
    pub verifier: Vec<u8>,
    pub hint: Option<String>,
}

impl std::fmt::Debug for PasswordRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordRecord")
            .field("hint", &self.hint)
            .finish_non_exhaustive()
    }
}

/// A password change waiting for its recovery email to be confirmed.
#[derive(Clone, Debug)]
pub struct PendingPassword {
    pub password: Option<PasswordRecord>,
    pub email: String,
    pub code: SecretString,
}

#[derive(Clone, Debug)]
pub struct UserRecord {
    pub id: i64,
    pub access_hash: i64,
    pub phone: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub username: Option<String>,
    pub dc_id: i32,
    pub is_bot: bool,
    pub password: Option<PasswordRecord>,
    pub email: Option<String>,
    pub pending: Option<PendingPassword>,
}

#[derive(Clone, Debug)]
pub struct KeyRecord {
    pub key_id: i64,
    pub dc_id: i32,
    pub key: AuthKey,
    pub user_id: Option<i64>,
    pub pending_user_id: Option<i64>,
    pub auth_hash: Option<i64>,
    pub authorized_at: Option<i64>,
    pub active_at: Option<i64>,
    pub device: DeviceInfo,
}

/// What initConnection told us about the client, shown by getAuthorizations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    pub api_id: i32,
    pub device_model: String,
    pub system_version: String,
    pub app_version: String,
    pub lang_code: String,
}

/// One code "sent" by app, SMS or email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: i64,
    pub at: i64,
    /// `app`, `sms` or `email`.
    pub channel: String,
    /// A phone number or an email address.
    pub recipient: String,
    pub code: SecretString,
    /// `login`, `password-email` or `password-recovery`.
    pub purpose: String,
}

#[derive(Clone, Debug)]
pub struct CodeRecord {
    pub hash: String,
    pub phone: String,
    pub code: SecretString,
    pub created: i64,
    pub sends: i32,
    pub verified: bool,
    pub used: bool,
}

#[derive(Clone)]
pub struct LoginTokenRecord {
    pub token: Vec<u8>,
    pub key_id: i64,
    pub dc_id: i32,
    pub expires: i64,
    pub accepted_user: Option<i64>,
    pub notified: bool,
    pub consumed: bool,
}

impl std::fmt::Debug for LoginTokenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token logs a device in: never print it.
        f.debug_struct("LoginTokenRecord")
            .field("key_id", &self.key_id)
            .field("dc_id", &self.dc_id)
            .field("expires", &self.expires)
            .field("accepted_user", &self.accepted_user)
            .field("notified", &self.notified)
            .field("consumed", &self.consumed)
            .finish_non_exhaustive()
    }
}

/// The SQLite state of one sandbox.
pub struct State {
    path: PathBuf,
    conn: Mutex<Connection>,
}

/// The tables of rate-limited events (one row per event, pruned to the window).
#[derive(Clone, Copy)]
enum RateTable {
    CodeRequests,
    FailedPasswords,
}

impl RateTable {
    /// Table name and subject column: constants, never user input.
    fn sql_names(self) -> (&'static str, &'static str) {
        match self {
            RateTable::CodeRequests => ("code_requests", "phone"),
            RateTable::FailedPasswords => ("failed_passwords", "user_id"),
        }
    }
}

fn random_i64() -> i64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("the OS random source failed");
    i64::from_le_bytes(b)
}

/// A random 10-digit user id, like those of today's accounts (Telegram allows up to 2^40;
/// the store's tests cover ids that large).
pub fn random_id() -> i64 {
    1_000_000_000 + (random_i64() & i64::MAX) % 9_000_000_000
}

pub fn random_nonzero_i64() -> i64 {
    loop {
        let v = random_i64();
        if v != 0 {
            return v;
        }
    }
}

fn user_from_row(r: &Row) -> rusqlite::Result<UserRecord> {
    let password = match (
        r.get::<_, Option<Vec<u8>>>("pw_salt1")?,
        r.get::<_, Option<Vec<u8>>>("pw_salt2")?,
        r.get::<_, Option<Vec<u8>>>("pw_verifier")?,
    ) {
        (Some(salt1), Some(salt2), Some(verifier)) => Some(PasswordRecord {
            salt1,
            salt2,
            verifier,
            hint: r.get("pw_hint")?,
        }),
        _ => None,
    };
    let pending = match (
        r.get::<_, Option<String>>("pending_email")?,
        r.get::<_, Option<String>>("pending_code")?,
    ) {
        (Some(email), Some(code)) => Some(PendingPassword {
            password: match (
                r.get::<_, Option<Vec<u8>>>("pending_salt1")?,
                r.get::<_, Option<Vec<u8>>>("pending_salt2")?,
                r.get::<_, Option<Vec<u8>>>("pending_verifier")?,
            ) {
                (Some(salt1), Some(salt2), Some(verifier)) => Some(PasswordRecord {
                    salt1,
                    salt2,
                    verifier,
                    hint: r.get("pending_hint")?,
                }),
                _ => None,
            },
            email,
            code: SecretString::new(code),
        }),
        _ => None,
    };
    Ok(UserRecord {
        id: r.get("id")?,
        access_hash: r.get("access_hash")?,
        phone: r.get("phone")?,
        first_name: r.get("first_name")?,
        last_name: r.get("last_name")?,
        username: r.get("username")?,
        dc_id: r.get("dc_id")?,
        is_bot: r.get::<_, i64>("is_bot")? != 0,
        password,
        email: r.get("email")?,
        pending,
    })
}

fn key_from_row(r: &Row) -> rusqlite::Result<KeyRecord> {
    let bytes: Vec<u8> = r.get("key")?;
    let key = AuthKey::from_slice(&bytes).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Blob,
            "auth key is not 256 bytes".into(),
        )
    })?;
    Ok(KeyRecord {
        key_id: r.get("key_id")?,
        dc_id: r.get("dc_id")?,
        key,
        user_id: r.get("user_id")?,
        pending_user_id: r.get("pending_user_id")?,
        auth_hash: r.get("auth_hash")?,
        authorized_at: r.get("authorized_at")?,
        active_at: r.get("active_at")?,
        device: DeviceInfo {
            api_id: r.get::<_, Option<i32>>("api_id")?.unwrap_or(0),
            device_model: r
                .get::<_, Option<String>>("device_model")?
                .unwrap_or_default(),
            system_version: r
                .get::<_, Option<String>>("system_version")?
                .unwrap_or_default(),
            app_version: r
                .get::<_, Option<String>>("app_version")?
                .unwrap_or_default(),
            lang_code: r.get::<_, Option<String>>("lang_code")?.unwrap_or_default(),
        },
    })
}

fn code_from_row(r: &Row) -> rusqlite::Result<CodeRecord> {
    Ok(CodeRecord {
        hash: r.get("hash")?,
        phone: r.get("phone")?,
        code: SecretString::new(r.get::<_, String>("code")?),
        created: r.get("created")?,
        sends: r.get("sends")?,
        verified: r.get::<_, i64>("verified")? != 0,
        used: r.get::<_, i64>("used")? != 0,
    })
}

fn token_from_row(r: &Row) -> rusqlite::Result<LoginTokenRecord> {
    Ok(LoginTokenRecord {
        token: r.get("token")?,
        key_id: r.get("key_id")?,
        dc_id: r.get("dc_id")?,
        expires: r.get("expires")?,
        accepted_user: r.get("accepted_user")?,
        notified: r.get::<_, i64>("notified")? != 0,
        consumed: r.get::<_, i64>("consumed")? != 0,
    })
}

/// New user fields for [`State::insert_user`].
#[derive(Clone, Debug)]
pub struct NewUserRecord {
    pub id: Option<i64>,
    pub phone: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub dc_id: i32,
    pub bot_token: Option<String>,
    pub password: Option<PasswordRecord>,
    pub email: Option<String>,
}

impl State {
    /// Opens (creating when missing) the state in `dir`.
    pub fn open(dir: &Path) -> Result<State> {
        fsutil::ensure_private_dir(dir).map_err(|source| StateError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(DB_FILE);
        if !path.exists() {
            // Create the file 0600 before SQLite writes secrets into it.
            fsutil::write_atomic(&path, b"").map_err(|source| StateError::Io {
                path: path.clone(),
                source,
            })?;
        }
        let sql = |source| StateError::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(sql)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql)?;
        conn.execute_batch(SCHEMA).map_err(sql)?;
        Ok(State {
            path,
            conn: Mutex::new(conn),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn err(&self, source: rusqlite::Error) -> StateError {
        StateError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Runs `f` in one immediate transaction.
    fn tx<T>(&self, f: impl FnOnce(&rusqlite::Transaction) -> rusqlite::Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let out = f(&tx).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let conn = self.lock();
        f(&conn).map_err(|e| self.err(e))
    }

    // ---- DCs ----

    pub fn set_dc_ports(&self, ports: &[(i32, u16)]) -> Result<()> {
        self.tx(|tx| {
            tx.execute("DELETE FROM dcs", [])?;
            for (id, port) in ports {
                tx.execute(
                    "INSERT INTO dcs (id, port) VALUES (?1, ?2)",
                    params![id, *port as i64],
                )?;
            }
            Ok(())
        })
    }

    pub fn dc_ports(&self) -> Result<Vec<(i32, u16)>> {
        self.read(|c| {
            let mut st = c.prepare("SELECT id, port FROM dcs ORDER BY id")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u16)))?;
            rows.collect()
        })
    }

    pub fn meta(&self, k: &str) -> Result<Option<String>> {
        self.read(|c| {
            c.query_row("SELECT v FROM meta WHERE k = ?1", [k], |r| r.get(0))
                .optional()
        })
    }

    pub fn set_meta(&self, k: &str, v: &str) -> Result<()> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO meta (k, v) VALUES (?1, ?2) ON CONFLICT(k) DO UPDATE SET v = ?2",
                [k, v],
            )
            .map(|_| ())
        })
    }

    /// Stores `v` under `k` unless a value is there already; returns the stored value
    /// (so that two processes racing to create it agree on one).
    pub fn set_meta_once(&self, k: &str, v: &str) -> Result<String> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO meta (k, v) VALUES (?1, ?2) ON CONFLICT(k) DO NOTHING",
                [k, v],
            )?;
            tx.query_row("SELECT v FROM meta WHERE k = ?1", [k], |r| r.get(0))
        })
    }

    // ---- keys ----

    pub fn insert_key(&self, dc_id: i32, key: &AuthKey) -> Result<i64> {
        let key_id = super::crypto::key_id(key);
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO auth_keys (key_id, dc_id, key, created) VALUES (?1, ?2, ?3, ?4)",
                params![key_id, dc_id, &key.reveal()[..], unix_now()],
            )
        })?;
        Ok(key_id)
    }

    pub fn key(&self, key_id: i64) -> Result<Option<KeyRecord>> {
        self.read(|c| {
            c.query_row(
                "SELECT * FROM auth_keys WHERE key_id = ?1",
                [key_id],
                key_from_row,
            )
            .optional()
        })
    }

    pub fn set_device(&self, key_id: i64, d: &DeviceInfo) -> Result<()> {
        self.tx(|tx| {
            tx.execute(
                "UPDATE auth_keys SET api_id = ?2, device_model = ?3, system_version = ?4, \
                 app_version = ?5, lang_code = ?6, active_at = ?7 WHERE key_id = ?1",
                params![
                    key_id,
                    d.api_id,
                    d.device_model,
                    d.system_version,
                    d.app_version,
                    d.lang_code,
                    unix_now()
                ],
            )
            .map(|_| ())
        })
    }

    /// Binds the key to a user (a new authorization with a fresh hash).
    pub fn bind_key(&self, key_id: i64, user_id: i64) -> Result<()> {
        self.tx(|tx| {
            tx.execute(
                "UPDATE auth_keys SET user_id = ?2, pending_user_id = NULL, auth_hash = ?3, \
                 authorized_at = ?4, active_at = ?4 WHERE key_id = ?1",
                params![key_id, user_id, random_nonzero_i64(), unix_now()],
            )
            .map(|_| ())
        })
    }

    /// The key passed the login code; the password is still needed.
    pub fn set_pending_2fa(&self, key_id: i64, user_id: i64) -> Result<()> {
        self.tx(|tx| {
            tx.execute(
                "UPDATE auth_keys SET pending_user_id = ?2, user_id = NULL WHERE key_id = ?1",
                params![key_id, user_id],
            )
            .map(|_| ())
        })
    }

    /// Unbinds a key (logout, reset): the key stays valid but gets 401 again.
    pub fn unbind_key(&self, key_id: i64) -> Result<()> {
        self.tx(|tx| {
            tx.execute(
                "UPDATE auth_keys SET user_id = NULL, pending_user_id = NULL, auth_hash = NULL, \
                 authorized_at = NULL WHERE key_id = ?1",
                [key_id],
            )
            .map(|_| ())
        })
    }

    pub fn keys_of_user(&self, user_id: i64) -> Result<Vec<KeyRecord>> {
        self.read(|c| {
            let mut st =
                c.prepare("SELECT * FROM auth_keys WHERE user_id = ?1 ORDER BY authorized_at")?;
            let rows = st.query_map([user_id], key_from_row)?;
            rows.collect()
        })
    }

    // ---- users ----

    pub fn insert_user(&self, u: &NewUserRecord) -> Result<i64> {
        let id = u.id.unwrap_or_else(random_id);
        let pw = u.password.as_ref();
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO users (id, access_hash, phone, first_name, last_name, dc_id, is_bot, \
                 bot_token, pw_salt1, pw_salt2, pw_verifier, pw_hint, email, created) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    id,
                    random_nonzero_i64(),
                    u.phone,
                    u.first_name,
                    u.last_name,
                    u.dc_id,
                    u.bot_token.is_some() as i64,
                    u.bot_token,
                    pw.map(|p| p.salt1.clone()),
                    pw.map(|p| p.salt2.clone()),
                    pw.map(|p| p.verifier.clone()),
                    pw.and_then(|p| p.hint.clone()),
                    u.email,
                    unix_now()
                ],
            )
        })?;
        Ok(id)
    }

    pub fn user(&self, id: i64) -> Result<Option<UserRecord>> {
        self.read(|c| {
            c.query_row("SELECT * FROM users WHERE id = ?1", [id], user_from_row)
                .optional()
        })
    }

    pub fn user_by_phone(&self, phone: &str) -> Result<Option<UserRecord>> {
        self.read(|c| {
            c.query_row(
                "SELECT * FROM users WHERE phone = ?1",
                [phone],
                user_from_row,
            )
            .optional()
        })
    }

    pub fn user_by_bot_token(&self, token: &str) -> Result<Option<UserRecord>> {
        self.read(|c| {
            c.query_row(
                "SELECT * FROM users WHERE bot_token = ?1",
                [token],
                user_from_row,
            )
            .optional()
        })
    }

    pub fn set_password(
        &self,
        user_id: i64,
        pw: Option<&PasswordRecord>,
        email: Option<&str>,
    ) -> Result<()> {
        self.tx(|tx| {
            tx.execute(
                "UPDATE users SET pw_salt1 = ?2, pw_salt2 = ?3, pw_verifier = ?4, pw_hint = ?5, \
                 email = ?6, pending_salt1 = NULL, pending_salt2 = NULL, pending_verifier = NULL, \
                 pending_hint = NULL, pending_email = NULL, pending_code = NULL WHERE id = ?1",
                params![
                    user_id,
                    pw.map(|p| p.salt1.clone()),
                    pw.map(|p| p.salt2.clone()),
                    pw.map(|p| p.verifier.clone()),
                    pw.and_then(|p| p.hint.clone()),
                    email
                ],
            )
            .map(|_| ())
        })
    }

    pub fn set_pending_password(
        &self,
        user_id: i64,
        pending: Option<&PendingPassword>,
    ) -> Result<()> {
        let pw = pending.and_then(|p| p.password.as_ref());
        self.tx(|tx| {
            tx.execute(
                "UPDATE users SET pending_salt1 = ?2, pending_salt2 = ?3, pending_verifier = ?4, \
                 pending_hint = ?5, pending_email = ?6, pending_code = ?7 WHERE id = ?1",
                params![
                    user_id,
                    pw.map(|p| p.salt1.clone()),
                    pw.map(|p| p.salt2.clone()),
                    pw.map(|p| p.verifier.clone()),
                    pw.and_then(|p| p.hint.clone()),
                    pending.map(|p| p.email.clone()),
                    pending.map(|p| p.code.reveal().to_string())
                ],
            )
            .map(|_| ())
        })
    }

    // ---- codes and rate limits ----

    pub fn insert_code(&self, hash: &str, phone: &str, code: &str) -> Result<()> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO codes (hash, phone, code, created) VALUES (?1, ?2, ?3, ?4)",
                params![hash, phone, code, unix_now()],
            )
            .map(|_| ())
        })
    }

    pub fn code(&self, hash: &str) -> Result<Option<CodeRecord>> {
        self.read(|c| {
            c.query_row("SELECT * FROM codes WHERE hash = ?1", [hash], code_from_row)
                .optional()
        })
    }

    pub fn mark_code(&self, hash: &str, verified: bool, used: bool) -> Result<()> {
        self.tx(|tx| {
            tx.execute(
                "UPDATE codes SET verified = ?2, used = ?3 WHERE hash = ?1",
                params![hash, verified as i64, used as i64],
            )
            .map(|_| ())
        })
    }

    /// Counts one more wrong guess of the code `hash`; returns how many there were.
    pub fn record_wrong_code(&self, hash: &str) -> Result<i64> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO wrong_codes (hash, tries) VALUES (?1, 1) \
                 ON CONFLICT(hash) DO UPDATE SET tries = tries + 1",
                [hash],
            )?;
            tx.query_row(
                "SELECT tries FROM wrong_codes WHERE hash = ?1",
                [hash],
                |r| r.get(0),
            )
        })
    }

    pub fn bump_code_sends(&self, hash: &str) -> Result<()> {
        self.tx(|tx| {
            tx.execute("UPDATE codes SET sends = sends + 1 WHERE hash = ?1", [hash])
                .map(|_| ())
        })
    }

    /// Records a code request and returns how many happened for `phone` since `since`
    /// (this one included) and when the oldest of them was.
    pub fn record_code_request(&self, phone: &str, since: i64) -> Result<(i64, i64)> {
        self.record_event(RateTable::CodeRequests, &phone, since)
    }

    /// How many code requests `phone` made since `since`, and when the oldest was.
    pub fn recent_code_requests(&self, phone: &str, since: i64) -> Result<(i64, i64)> {
        self.count_events(RateTable::CodeRequests, &phone, since)
    }

    pub fn record_failed_password(&self, user_id: i64, since: i64) -> Result<(i64, i64)> {
        self.record_event(RateTable::FailedPasswords, &user_id, since)
    }

    pub fn failed_passwords(&self, user_id: i64, since: i64) -> Result<(i64, i64)> {
        self.count_events(RateTable::FailedPasswords, &user_id, since)
    }

    /// Drops `subject`'s events older than `since`, records one now, and returns the count
    /// and the oldest time left in the window.
    fn record_event(
        &self,
        table: RateTable,
        subject: &dyn ToSql,
        since: i64,
    ) -> Result<(i64, i64)> {
        let (name, column) = table.sql_names();
        let now = unix_now();
        self.tx(|tx| {
            tx.execute(
                &format!("DELETE FROM {name} WHERE {column} = ?1 AND at < ?2"),
                params![subject, since],
            )?;
            tx.execute(
                &format!("INSERT INTO {name} ({column}, at) VALUES (?1, ?2)"),
                params![subject, now],
            )?;
            tx.query_row(
                &format!("SELECT COUNT(*), MIN(at) FROM {name} WHERE {column} = ?1"),
                [subject],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
    }

    /// How many of `subject`'s events happened since `since`, and when the oldest was.
    fn count_events(
        &self,
        table: RateTable,
        subject: &dyn ToSql,
        since: i64,
    ) -> Result<(i64, i64)> {
        let (name, column) = table.sql_names();
        self.read(|c| {
            c.query_row(
                &format!("SELECT COUNT(*), COALESCE(MIN(at), 0) FROM {name} WHERE {column} = ?1 AND at >= ?2"),
                params![subject, since],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
    }

    // ---- password recovery ----

    pub fn set_recovery_code(&self, user_id: i64, code: Option<&str>) -> Result<()> {
        self.tx(|tx| {
            match code {
                Some(code) => tx.execute(
                    "INSERT INTO recovery_codes (user_id, code, created) VALUES (?1, ?2, ?3) \
                     ON CONFLICT(user_id) DO UPDATE SET code = ?2, created = ?3",
                    params![user_id, code, unix_now()],
                ),
                None => tx.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [user_id]),
            }
            .map(|_| ())
        })
    }

    /// The pending recovery code of an account and when it was sent.
    pub fn recovery_code(&self, user_id: i64) -> Result<Option<(SecretString, i64)>> {
        self.read(|c| {
            c.query_row(
                "SELECT code, created FROM recovery_codes WHERE user_id = ?1",
                [user_id],
                |r| Ok((SecretString::new(r.get::<_, String>(0)?), r.get(1)?)),
            )
            .optional()
        })
    }

    // ---- outbox ----

    pub fn push_outbox(
        &self,
        channel: &str,
        recipient: &str,
        code: &str,
        purpose: &str,
    ) -> Result<()> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO outbox (at, channel, recipient, code, purpose) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![unix_now(), channel, recipient, code, purpose],
            )
            .map(|_| ())
        })
    }

    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        self.read(|c| {
            let mut st = c.prepare("SELECT * FROM outbox ORDER BY id")?;
            let rows = st.query_map([], |r| {
                Ok(OutboxEntry {
                    id: r.get("id")?,
                    at: r.get("at")?,
                    channel: r.get("channel")?,
                    recipient: r.get("recipient")?,
                    code: SecretString::new(r.get::<_, String>("code")?),
                    purpose: r.get("purpose")?,
                })
            })?;
            rows.collect()
        })
    }

    // ---- login tokens ----

    pub fn insert_login_token(
        &self,
        token: &[u8],
        key_id: i64,
        dc_id: i32,
        expires: i64,
    ) -> Result<()> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO login_tokens (token, key_id, dc_id, created, expires) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![token, key_id, dc_id, unix_now(), expires],
            )
            .map(|_| ())
        })
    }

    pub fn login_token(&self, token: &[u8]) -> Result<Option<LoginTokenRecord>> {
        self.read(|c| {
            c.query_row(
                "SELECT * FROM login_tokens WHERE token = ?1",
                [token],
                token_from_row,
            )
            .optional()
        })
    }

    /// The newest token of a key that was accepted but not used yet (a client refreshes its
    /// token while waiting, and the user may scan any of them).
    pub fn accepted_login_token(&self, key_id: i64) -> Result<Option<LoginTokenRecord>> {
        self.read(|c| {
            c.query_row(
                "SELECT * FROM login_tokens WHERE key_id = ?1 AND accepted_user IS NOT NULL \
                 AND consumed = 0 ORDER BY rowid DESC LIMIT 1",
                [key_id],
                token_from_row,
            )
            .optional()
        })
    }

    /// Marks a token accepted by `user_id` if it still can be; false if someone was first.
    /// Records the accounts that may not accept `token`.
    pub fn set_login_token_exceptions(&self, token: &[u8], user_ids: &[i64]) -> Result<()> {
        self.tx(|tx| {
            for id in user_ids {
                tx.execute(
                    "INSERT INTO login_token_exceptions (token, user_id) VALUES (?1, ?2)",
                    params![token, id],
                )?;
            }
            Ok(())
        })
    }

    pub fn login_token_excepts(&self, token: &[u8], user_id: i64) -> Result<bool> {
        self.read(|c| {
            c.query_row(
                "SELECT EXISTS(SELECT 1 FROM login_token_exceptions WHERE token = ?1 AND user_id = ?2)",
                params![token, user_id],
                |r| r.get(0),
            )
        })
    }

    pub fn accept_login_token(&self, token: &[u8], user_id: i64) -> Result<bool> {
        self.tx(|tx| {
            tx.execute(
                "UPDATE login_tokens SET accepted_user = ?2 WHERE token = ?1 AND accepted_user IS NULL",
                params![token, user_id],
            )
            .map(|n| n == 1)
        })
    }

    pub fn consume_login_token(&self, token: &[u8]) -> Result<bool> {
        self.tx(|tx| {
            tx.execute(
                "UPDATE login_tokens SET consumed = 1 WHERE token = ?1 AND consumed = 0",
                [token],
            )
            .map(|n| n == 1)
        })
    }

    /// Accepted tokens whose exporter has not been told yet; marks them told.
    pub fn take_unnotified_tokens(&self) -> Result<Vec<LoginTokenRecord>> {
        self.tx(|tx| {
            let list: Vec<LoginTokenRecord> = {
                let mut st = tx.prepare(
                    "SELECT * FROM login_tokens WHERE accepted_user IS NOT NULL AND notified = 0",
                )?;
                st.query_map([], token_from_row)?
                    .collect::<rusqlite::Result<_>>()?
            };
            tx.execute(
                "UPDATE login_tokens SET notified = 1 WHERE accepted_user IS NOT NULL AND notified = 0",
                [],
            )?;
            Ok(list)
        })
    }

    // ---- exported authorizations ----

    pub fn insert_exported_auth(
        &self,
        id: i64,
        bytes: &[u8],
        user_id: i64,
        dc_id: i32,
    ) -> Result<()> {
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO exported_auths (id, bytes, user_id, dc_id, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, bytes, user_id, dc_id, unix_now()],
            )
            .map(|_| ())
        })
    }

    /// Uses an exported authorization once: returns its user if id, bytes and DC match.
    pub fn use_exported_auth(
        &self,
        id: i64,
        bytes: &[u8],
        dc_id: i32,
        not_before: i64,
    ) -> Result<Option<i64>> {
        self.tx(|tx| {
            let found: Option<(Vec<u8>, i64, i32, i64, i64)> = tx
                .query_row(
                    "SELECT bytes, user_id, dc_id, used, created FROM exported_auths WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()?;
            let Some((stored, user_id, dc, used, created)) = found else {
                return Ok(None);
            };
            if used != 0
                || dc != dc_id
                || created < not_before
                || !super::crypto::constant_time_eq(&stored, bytes)
            {
                return Ok(None);
            }
            tx.execute("UPDATE exported_auths SET used = 1 WHERE id = ?1", [id])?;
            Ok(Some(user_id))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_keys_and_codes_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let key = AuthKey::random();
        let (uid, kid) = {
            let st = State::open(dir.path()).unwrap();
            let uid = st
                .insert_user(&NewUserRecord {
                    id: None,
                    phone: Some("9996621111".into()),
                    first_name: "Ann".into(),
                    last_name: String::new(),
                    dc_id: 2,
                    bot_token: None,
                    password: None,
                    email: None,
                })
                .unwrap();
            let kid = st.insert_key(2, &key).unwrap();
            st.bind_key(kid, uid).unwrap();
            st.push_outbox("app", "9996621111", "22222", "login")
                .unwrap();
            (uid, kid)
        };
        let st = State::open(dir.path()).unwrap();
        let k = st.key(kid).unwrap().unwrap();
        assert_eq!(k.user_id, Some(uid));
        assert_eq!(k.key, key);
        assert!(k.auth_hash.is_some());
        assert_eq!(st.user_by_phone("9996621111").unwrap().unwrap().id, uid);
        assert_eq!(st.outbox().unwrap()[0].code.reveal(), "22222");
        st.unbind_key(kid).unwrap();
        assert_eq!(st.key(kid).unwrap().unwrap().user_id, None);
        let mode = std::fs::metadata(st.path()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn login_token_acceptance_is_first_come() {
        let dir = tempfile::tempdir().unwrap();
        let st = State::open(dir.path()).unwrap();
        st.insert_login_token(b"tok", 5, 2, unix_now() + 30)
            .unwrap();
        assert!(st.accept_login_token(b"tok", 1).unwrap());
        assert!(!st.accept_login_token(b"tok", 2).unwrap());
        assert_eq!(st.take_unnotified_tokens().unwrap().len(), 1);
        assert!(st.take_unnotified_tokens().unwrap().is_empty());
        assert!(st.consume_login_token(b"tok").unwrap());
        assert!(!st.consume_login_token(b"tok").unwrap());
    }
}
