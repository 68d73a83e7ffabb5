//! Tells which library wrote a SQLite session file, from its schema (never from its name).

use std::path::Path;

use rusqlite::Connection;

use crate::store::error::{Result, StoreError};
use crate::store::format::Format;

/// The 16-byte header every SQLite 3 database starts with.
pub const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Names and CREATE statements of the tables, sorted by name (as SQLite's `ORDER BY name`).
fn tables(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type = 'table' ORDER BY name",
    )?;
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

pub fn columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    stmt.query_map([], |r| r.get(1))?.collect()
}

/// Detects the format of an open database. `path` only labels errors.
pub fn detect(conn: &Connection, path: &Path) -> Result<Format> {
    let tables = tables(conn).map_err(|e| explain(path, e))?;
    detect_from(&tables, &path.display().to_string(), |col| {
        conn.query_row(&format!("SELECT {col} FROM version"), [], |r| r.get(0))
            .map_err(|e| e.to_string())
    })
}

/// The format from the schema's tables (name and CREATE statement, sorted by name) and the
/// first value of a column of the `version` table, fetched by `version(column)`: the one
/// rule for the SQL path and the page reader (`store::sqlite_pages`). `label` names errors.
pub fn detect_from(
    tables: &[(String, String)],
    label: &str,
    version: impl FnOnce(&str) -> std::result::Result<i64, String>,
) -> Result<Format> {
    let find = |t: &str| {
        tables
            .iter()
            .find(|(name, _)| name == t)
            .map(|(_, sql)| sql.to_lowercase())
    };
    if find("tgsess_schema").is_some() {
        return Ok(Format::TgsessSqlite);
    }
    if let (Some(version_sql), Some(_)) = (find("version"), find("sessions")) {
        // Telethon: version(version integer primary key); Pyrogram: version(number INTEGER ...).
        let (col, family) = if version_sql.contains("number") {
            ("number", "pyrogram")
        } else if version_sql.contains("version integer") || version_sql.contains("(version") {
            ("version", "telethon")
        } else {
            return Err(StoreError::invalid(label, "unrecognised 'version' table"));
        };
        let version = version(col).map_err(|e| {
            StoreError::invalid(label, format!("cannot read the schema version: {e}"))
        })?;
        // pyrofork numbers its own schema 4: the update state of kurigram's 5, and a
        // `usernames` table keyed by the name (created lazily, so it may be missing).
        let pyrofork = family == "pyrogram"
            && version == 4
            && (find("update_state").is_some()
                || find("usernames").is_some_and(|sql| sql.contains("peer_id")));
        return match (family, version) {
            ("pyrogram", 4) if pyrofork => Ok(Format::PyroforkSqlite),
            ("telethon", 7 | 8) => Ok(Format::TelethonSqlite(version as u8)),
            ("pyrogram", 2..=7) => Ok(Format::PyrogramSqlite(version as u8)),
            (family, v) => Err(StoreError::invalid(
                label,
                format!(
                    "{family} session schema {v} is not supported (tgsess reads Telethon 7-8, Pyrogram 2-7)"
                ),
            )),
        };
    }
    let listed = if tables.is_empty() {
        "none".to_string()
    } else {
        tables
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(StoreError::invalid(
        label,
        format!(
            "a SQLite database, but not a session file of Telethon, Pyrogram or tgsess (tables: {listed})"
        ),
    ))
}

/// Turns SQLite's terse errors into what a user can act on.
pub fn explain(path: &Path, e: rusqlite::Error) -> StoreError {
    let label = path.display().to_string();
    let text = e.to_string();
    if text.contains("not a database") {
        StoreError::invalid(label, "not a SQLite database (or its header is damaged)")
    } else if text.contains("malformed") {
        StoreError::invalid(label, "the SQLite file is damaged or truncated")
    } else {
        StoreError::sqlite(path, e)
    }
}
