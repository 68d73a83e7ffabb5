//! tgsess's own SQLite schema. It carries every field of the session model, one row per DC,
//! and a schema version with forward-only migrations.

use rusqlite::{Connection, OptionalExtension, params};

use crate::secret::AuthKey;
use crate::store::model::{DcEntry, SelfUser, Session};

pub const CURRENT_VERSION: i64 = 1;

/// Migration `i` brings a database from version `i` to `i + 1`.
const MIGRATIONS: [&str; 1] = ["
CREATE TABLE tgsess_schema (version INTEGER NOT NULL);
INSERT INTO tgsess_schema VALUES (0);
CREATE TABLE account (
    id         INTEGER PRIMARY KEY CHECK (id = 0),
    home_dc    INTEGER NOT NULL,
    user_id    INTEGER,
    is_bot     INTEGER,
    api_id     INTEGER,
    test_mode  INTEGER,
    first_name TEXT,
    last_name  TEXT,
    username   TEXT,
    phone      TEXT,
    updated_at INTEGER NOT NULL
);
CREATE TABLE dc (
    id       INTEGER PRIMARY KEY,
    ipv4     TEXT,
    ipv6     TEXT,
    port     INTEGER,
    auth_key BLOB
);
"];

/// Creates or upgrades the schema. Runs inside the caller's transaction.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let has_table: bool = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE name = 'tgsess_schema'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    let mut version = if has_table {
        conn.query_row("SELECT version FROM tgsess_schema", [], |r| {
            r.get::<_, i64>(0)
        })?
    } else {
        0
    };
    while version < CURRENT_VERSION {
        conn.execute_batch(MIGRATIONS[version as usize])?;
        version += 1;
        conn.execute("UPDATE tgsess_schema SET version = ?1", params![version])?;
    }
    Ok(())
}

pub fn schema_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT version FROM tgsess_schema", [], |r| r.get(0))
}

fn opt_bool(v: Option<i64>) -> Option<bool> {
    v.map(|x| x != 0)
}

pub fn read(conn: &Connection) -> Result<Session, String> {
    let version =
        schema_version(conn).map_err(|e| format!("cannot read the schema version: {e}"))?;
    if version > CURRENT_VERSION {
        return Err(format!(
            "tgsess schema {version} is newer than this tgsess understands ({CURRENT_VERSION}); upgrade tgsess"
        ));
    }
    let account = conn
        .query_row(
            "SELECT home_dc, user_id, is_bot, api_id, test_mode, first_name, last_name, username, phone \
             FROM account WHERE id = 0",
            [],
            |r| {
                let mut s = Session::new(r.get::<_, i32>(0)?);
                s.user_id = r.get(1)?;
                s.is_bot = opt_bool(r.get(2)?);
                s.api_id = r.get(3)?;
                s.test_mode = opt_bool(r.get(4)?);
                let user = SelfUser {
                    first_name: r.get(5)?,
                    last_name: r.get(6)?,
                    username: r.get(7)?,
                    phone: r.get(8)?,
                };
                s.user = (!user.is_empty()).then_some(user);
                Ok(s)
            },
        )
        .optional()
        .map_err(|e| format!("cannot read the account table: {e}"))?;
    let mut session = account.ok_or("the account table is empty")?;
    session.dcs.clear();
    let mut stmt = conn
        .prepare("SELECT id, ipv4, ipv6, port, auth_key FROM dc ORDER BY id")
        .map_err(|e| format!("cannot read the dc table: {e}"))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i32>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<Vec<u8>>>(4)?,
            ))
        })
        .map_err(|e| format!("cannot read the dc table: {e}"))?;
    for row in rows {
        let (id, v4, v6, port, key) = row.map_err(|e| format!("cannot read the dc table: {e}"))?;
        let mut dc = DcEntry::new(id);
        dc.ipv4 = v4
            .map(|a| {
                a.parse()
                    .map_err(|_| format!("DC {id}: '{a}' is not an IPv4 address"))
            })
            .transpose()?;
        dc.ipv6 = v6
            .map(|a| {
                a.parse()
                    .map_err(|_| format!("DC {id}: '{a}' is not an IPv6 address"))
            })
            .transpose()?;
        dc.port = port
            .map(|p| u16::try_from(p).map_err(|_| format!("DC {id}: port {p} is out of range")))
            .transpose()?;
        dc.auth_key = key
            .map(|k| {
                AuthKey::from_slice(&k)
                    .ok_or_else(|| format!("DC {id}: the auth key is {} bytes, not 256", k.len()))
            })
            .transpose()?;
        session.dcs.push(dc);
    }
    if session.home().is_none() {
        session.dcs.push(DcEntry::new(session.dc_id));
        session.dcs.sort_by_key(|d| d.id);
    }
    Ok(session)
}

/// Replaces the stored session. Runs inside the caller's transaction, after `migrate`.
pub fn write_into(conn: &Connection, session: &Session) -> rusqlite::Result<()> {
    let user = session.user.clone().unwrap_or_default();
    conn.execute(
        "INSERT OR REPLACE INTO account \
         (id, home_dc, user_id, is_bot, api_id, test_mode, first_name, last_name, username, phone, updated_at) \
         VALUES (0, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, CAST(strftime('%s','now') AS INTEGER))",
        params![
            session.dc_id,
            session.user_id,
            session.is_bot.map(|b| b as i64),
            session.api_id,
            session.test_mode.map(|b| b as i64),
            user.first_name,
            user.last_name,
            user.username,
            user.phone,
        ],
    )?;
    conn.execute("DELETE FROM dc", [])?;
    let mut stmt = conn
        .prepare("INSERT INTO dc (id, ipv4, ipv6, port, auth_key) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    for dc in &session.dcs {
        stmt.execute(params![
            dc.id,
            dc.ipv4.map(|a| a.to_string()),
            dc.ipv6.map(|a| a.to_string()),
            dc.port,
            dc.auth_key.as_ref().map(|k| k.reveal().to_vec()),
        ])?;
    }
    Ok(())
}
