//! Telethon's SQLite session: schema 7 (five `sessions` columns) or 8 (plus `tmp_auth_key`).
//! Telethon reads `sessions` with `select *` and unpacks by position, and an empty key is
//! `b''`, so both the column order and that convention are kept exactly.

use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

use crate::secret::AuthKey;
use crate::store::model::Session;

pub const SCHEMA_7: &str = "
CREATE TABLE version (version integer primary key);
CREATE TABLE sessions (
    dc_id integer primary key,
    server_address text,
    port integer,
    auth_key blob,
    takeout_id integer
);
CREATE TABLE entities (
    id integer primary key,
    hash integer not null,
    username text,
    phone integer,
    name text,
    date integer
);
CREATE TABLE sent_files (
    md5_digest blob,
    file_size integer,
    type integer,
    id integer,
    hash integer,
    primary key(md5_digest, file_size, type)
);
CREATE TABLE update_state (
    id integer primary key,
    pts integer,
    qts integer,
    date integer,
    seq integer
);
INSERT INTO version VALUES (7);
";

/// The raw values of a Telethon file that make its session: the first `sessions` row (lowest
/// rowid) and the own user id. Fetched by SQL ([`fetch`]) or by the page reader
/// (`store::sqlite_pages`); [`session_of`] turns either into the session.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TelethonRow {
    pub dc_id: i64,
    pub address: Option<String>,
    pub port: Option<i64>,
    pub key: Option<Zeroizing<Vec<u8>>>,
    /// The `hash` of the `entities` row with id 0 (Telethon >= 1.28 keeps its own id there).
    pub own_id: Option<i64>,
}

/// The first `sessions` row by SQL; `None` when the table is empty.
pub fn fetch(conn: &Connection) -> Result<Option<TelethonRow>, String> {
    conn.query_row(
        // The own user id (Telethon >= 1.28) is the entities row id = 0, hash column.
        "SELECT dc_id, server_address, port, auth_key, \
         (SELECT hash FROM entities WHERE id = 0) FROM sessions LIMIT 1",
        [],
        |r| {
            Ok(TelethonRow {
                dc_id: r.get(0)?,
                address: r.get(1)?,
                port: r.get(2)?,
                key: r.get::<_, Option<Vec<u8>>>(3)?.map(Zeroizing::new),
                own_id: r.get(4)?,
            })
        },
    )
    .optional()
    .map_err(|e| format!("cannot read the sessions table: {e}"))
}

pub fn read(conn: &Connection) -> Result<Session, String> {
    session_of(fetch(conn)?)
}

/// The session a Telethon file holds, from its raw values (however they were fetched).
pub fn session_of(row: Option<TelethonRow>) -> Result<Session, String> {
    let row = row.ok_or("the sessions table is empty (no DC chosen yet)")?;
    let dc_id = row.dc_id;
    let dc_id = i32::try_from(dc_id).map_err(|_| format!("DC id {dc_id} is out of range"))?;
    let mut session = Session::new(dc_id);
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
    }
    .filter(|k| !k.is_all_zero());
    session.user_id = row.own_id;
    Ok(session)
}

/// Writes the session into a database that already has the Telethon schema of `version`.
/// Runs inside the caller's transaction. Other tables (entities cache, update state) are kept.
pub fn write_into(conn: &Connection, session: &Session, version: u8) -> rusqlite::Result<()> {
    let home = session.home();
    let address = home.and_then(|h| h.address_text());
    let port = home.and_then(|h| h.port);
    let key: Vec<u8> = session
        .auth_key()
        .map(|k| k.reveal().to_vec())
        .unwrap_or_default();
    // Telethon deletes the row and inserts it again on every change.
    conn.execute("DELETE FROM sessions", [])?;
    if version >= 8 {
        conn.execute(
            "INSERT INTO sessions VALUES (?1, ?2, ?3, ?4, NULL, ?5)",
            params![session.dc_id, address, port, key, Vec::<u8>::new()],
        )?;
    } else {
        conn.execute(
            "INSERT INTO sessions VALUES (?1, ?2, ?3, ?4, NULL)",
            params![session.dc_id, address, port, key],
        )?;
    }
    match session.user_id {
        Some(id) => {
            conn.execute(
                "INSERT OR REPLACE INTO entities (id, hash, username, phone, name, date) \
                 VALUES (0, ?1, NULL, NULL, NULL, CAST(strftime('%s','now') AS INTEGER))",
                params![id],
            )?;
        }
        None => {
            conn.execute("DELETE FROM entities WHERE id = 0", [])?;
        }
    }
    Ok(())
}
