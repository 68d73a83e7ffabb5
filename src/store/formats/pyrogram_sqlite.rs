//! Pyrogram-family SQLite sessions. Written in three flavours: schema 3 (Pyrogram 2.0, which
//! every fork migrates on open), 7 (kurigram, irenogram) and pyrofork's 4. Schemas 2 to 7 and
//! pyrofork's 4 are read, and updated in place with the columns they have.

use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

use crate::secret::AuthKey;
use crate::store::model::Session;

/// The tables every flavour shares, with `{sessions}` and `{peers}` column lists filled in.
const COMMON_TABLES: &str = "
CREATE TABLE sessions
(
    dc_id          INTEGER PRIMARY KEY,{address}
    api_id         INTEGER,
    test_mode      INTEGER,
    auth_key       BLOB,
    date           INTEGER NOT NULL,
    user_id        INTEGER,
    is_bot         INTEGER
);
CREATE TABLE peers
(
    id             INTEGER PRIMARY KEY,
    access_hash    INTEGER,
    type           INTEGER NOT NULL,{username}
    phone_number   TEXT,
    last_update_on INTEGER NOT NULL DEFAULT (CAST(STRFTIME('%s', 'now') AS INTEGER))
);
CREATE TABLE version
(
    number INTEGER PRIMARY KEY
);
CREATE INDEX idx_peers_id ON peers (id);
CREATE INDEX idx_peers_phone_number ON peers (phone_number);
CREATE TRIGGER trg_peers_last_update_on
    AFTER UPDATE
    ON peers
BEGIN
    UPDATE peers
    SET last_update_on = CAST(STRFTIME('%s', 'now') AS INTEGER)
    WHERE id = NEW.id;
END;
";

const UPDATE_STATE: &str = "
CREATE TABLE update_state
(
    id   INTEGER PRIMARY KEY,
    pts  INTEGER,
    qts  INTEGER,
    date INTEGER,
    seq  INTEGER
);
";

/// kurigram and irenogram (schema 7): several usernames per peer, and the address.
const KURIGRAM_7_EXTRA: &str = "
CREATE TABLE usernames
(
    id       INTEGER,
    username TEXT,
    FOREIGN KEY (id) REFERENCES peers(id)
);
CREATE INDEX idx_usernames_id ON usernames (id);
CREATE INDEX idx_usernames_username ON usernames (username);
";

/// pyrofork (schema 4): usernames keyed by the name, with their own age.
const PYROFORK_4_EXTRA: &str = "
CREATE INDEX idx_peers_username ON peers (username);
CREATE TABLE usernames
(
    id             TEXT PRIMARY KEY,
    peer_id        INTEGER NOT NULL,
    last_update_on INTEGER NOT NULL DEFAULT (CAST(STRFTIME('%s', 'now') AS INTEGER))
);
CREATE TRIGGER trg_usernames_last_update_on
    AFTER UPDATE
    ON usernames
BEGIN
    UPDATE usernames
    SET last_update_on = CAST(STRFTIME('%s', 'now') AS INTEGER)
    WHERE id = NEW.id;
END;
";

/// Pyrogram 2.0 (schema 3): `peers.username`, no update state.
const PYROGRAM_3_EXTRA: &str = "
CREATE INDEX idx_peers_username ON peers (username);
";

/// The CREATE script of a new, empty file of a flavour tgsess writes: schema 3 (Pyrogram
/// 2.0), 7 (kurigram, irenogram) or pyrofork's 4 (`pyrofork` true), with the first row each
/// library inserts itself.
pub fn create_script(schema: u8, pyrofork: bool) -> String {
    let address = if schema >= 7 {
        "\n    server_address TEXT,\n    port           INTEGER,"
    } else {
        ""
    };
    let username = if schema >= 7 {
        ""
    } else {
        "\n    username       TEXT,"
    };
    let mut sql = COMMON_TABLES
        .replace("{address}", address)
        .replace("{username}", username);
    let (extra, first_row) = match (schema, pyrofork) {
        (_, true) => (
            [PYROFORK_4_EXTRA, UPDATE_STATE].concat(),
            "INSERT INTO sessions VALUES (2, NULL, NULL, NULL, 0, NULL, NULL);",
        ),
        (7.., false) => (
            [KURIGRAM_7_EXTRA, UPDATE_STATE].concat(),
            "INSERT INTO sessions VALUES (2, '149.154.167.51', 443, NULL, NULL, NULL, 0, NULL, NULL);",
        ),
        _ => (
            PYROGRAM_3_EXTRA.to_string(),
            "INSERT INTO sessions VALUES (2, NULL, NULL, NULL, 0, NULL, NULL);",
        ),
    };
    let version = if pyrofork { 4 } else { schema };
    sql.push_str(&extra);
    sql.push_str(&format!(
        "INSERT INTO version VALUES ({version});\n{first_row}\n"
    ));
    sql
}

fn flag(v: Option<i64>, what: &str) -> Result<Option<bool>, String> {
    match v {
        None => Ok(None),
        Some(0) => Ok(Some(false)),
        Some(1) => Ok(Some(true)),
        Some(x) => Err(format!("{what} is {x}, not 0 or 1")),
    }
}

/// The raw values of the first `sessions` row (lowest rowid) of a Pyrogram-family file.
/// Fetched by SQL ([`fetch`]) or by the page reader (`store::sqlite_pages`); [`session_of`]
/// turns either into the session. Columns a schema lacks are `None`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PyrogramRow {
    pub dc_id: i64,
    /// Schema 7 and later.
    pub address: Option<String>,
    pub port: Option<i64>,
    /// Schema 3 and later.
    pub api_id: Option<i64>,
    pub test_mode: Option<i64>,
    pub key: Option<Zeroizing<Vec<u8>>>,
    pub user_id: Option<i64>,
    pub is_bot: Option<i64>,
}

/// Which optional columns schema `schema` has: (address and port, api_id).
pub fn columns_of(schema: u8) -> (bool, bool) {
    (schema >= 7, schema >= 3)
}

/// The first `sessions` row by SQL; `None` when the table is empty.
pub fn fetch(conn: &Connection, schema: u8) -> Result<Option<PyrogramRow>, String> {
    let (has_address, has_api) = columns_of(schema);
    let address_cols = if has_address {
        "server_address, port"
    } else {
        "NULL, NULL"
    };
    let api_col = if has_api { "api_id" } else { "NULL" };
    let sql = format!(
        "SELECT dc_id, {address_cols}, {api_col}, test_mode, auth_key, user_id, is_bot FROM sessions LIMIT 1"
    );
    conn.query_row(&sql, [], |r| {
        Ok(PyrogramRow {
            dc_id: r.get(0)?,
            address: r.get(1)?,
            port: r.get(2)?,
            api_id: r.get(3)?,
            test_mode: r.get(4)?,
            key: r.get::<_, Option<Vec<u8>>>(5)?.map(Zeroizing::new),
            user_id: r.get(6)?,
            is_bot: r.get(7)?,
        })
    })
    .optional()
    .map_err(|e| format!("cannot read the sessions table: {e}"))
}

pub fn read(conn: &Connection, schema: u8) -> Result<Session, String> {
    session_of(fetch(conn, schema)?)
}

/// The session a Pyrogram-family file holds, from its raw values (however they were fetched).
pub fn session_of(row: Option<PyrogramRow>) -> Result<Session, String> {
    let row = row.ok_or("the sessions table is empty")?;
    let dc_id = row.dc_id;
    let dc_id = i32::try_from(dc_id).map_err(|_| format!("DC id {dc_id} is out of range"))?;
    let mut session = Session::new(dc_id);
    session.api_id = row
        .api_id
        .map(|a| i32::try_from(a).map_err(|_| format!("api_id {a} is out of range")))
        .transpose()?;
    session.test_mode = flag(row.test_mode, "test_mode")?;
    session.user_id = row.user_id;
    session.is_bot = flag(row.is_bot, "is_bot")?;
    let home = session.home_mut();
    if let Some(address) = row.address
        && !home.set_address_text(&address)
    {
        return Err(format!("server address '{address}' is not an IP address"));
    }
    home.port = row
        .port
        .map(|p| u16::try_from(p).map_err(|_| format!("port {p} is out of range")))
        .transpose()?;
    home.auth_key = match row.key.as_deref().map(Vec::as_slice) {
        None | Some([]) => None,
        Some(bytes) => Some(
            AuthKey::from_slice(bytes)
                .ok_or_else(|| format!("the auth key is {} bytes, not 256", bytes.len()))?,
        ),
    };
    Ok(session)
}

/// Updates the single `sessions` row of a database with Pyrogram schema `schema`, as
/// Pyrogram does (no WHERE clause). Runs inside the caller's transaction.
pub fn write_into(conn: &Connection, session: &Session, schema: u8) -> rusqlite::Result<()> {
    let home = session.home();
    let key: Option<Vec<u8>> = session.auth_key().map(|k| k.reveal().to_vec());
    let test_mode = session.test_mode.map(|b| b as i64);
    let is_bot = session.is_bot.map(|b| b as i64);
    let count: i64 = conn.query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))?;
    if count == 0 {
        conn.execute(
            "INSERT INTO sessions (dc_id, date) VALUES (?1, 0)",
            params![session.dc_id],
        )?;
    }
    conn.execute(
        "UPDATE sessions SET dc_id = ?1, test_mode = ?2, auth_key = ?3, \
         date = CAST(strftime('%s','now') AS INTEGER), user_id = ?4, is_bot = ?5",
        params![session.dc_id, test_mode, key, session.user_id, is_bot],
    )?;
    if schema >= 3 {
        conn.execute("UPDATE sessions SET api_id = ?1", params![session.api_id])?;
    }
    if schema >= 7 {
        conn.execute(
            "UPDATE sessions SET server_address = ?1, port = ?2",
            params![
                home.and_then(|h| h.address_text()),
                home.and_then(|h| h.port)
            ],
        )?;
    }
    Ok(())
}
