//! Tells which library wrote a SQLite session file, from its schema (never from its name).

use std::path::Path;

use rusqlite::Connection;

use crate::store::error::{Result, StoreError};
use crate::store::format::Format;

/// The 16-byte header every SQLite 3 database starts with.
pub const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Names and CREATE statements of the tables, in one query (listing reads many files).
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
    let label = path.display().to_string();
    let tables = tables(conn).map_err(|e| explain(path, e))?;
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
        let version: i64 = conn
            .query_row(&format!("SELECT {col} FROM version"), [], |r| r.get(0))
            .map_err(|e| {
                StoreError::invalid(&label, format!("cannot read the schema version: {e}"))
            })?;
        return match (family, version) {
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
