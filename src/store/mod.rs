//! Session storage: the model, every format, the session directory and the grammers adapter.
//! Nothing here touches the network.

pub mod adapter;
pub mod convert;
pub mod dc_table;
pub mod dir;
pub mod error;
pub mod format;
pub mod formats;
pub mod inspect;
pub mod list_cache;
pub mod model;
pub mod status;

use std::fs;
use std::io::Read;
use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

pub use error::{Result, StoreError};
pub use format::{BackendKind, Format, PyrogramStringLayout};
pub use model::{DcEntry, SelfUser, Session};

use crate::fsutil;
use formats::{pyrogram_sqlite, pyrogram_string, sqlite_detect, telethon_sqlite, telethon_string};
use formats::{tgsess_sqlite, tgsess_string};

/// A session as read, with the format it was read in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    pub format: Format,
    pub session: Session,
}

/// Longest text file tgsess will treat as a string session (strings are < 1 KiB).
const MAX_STRING_FILE: u64 = 64 * 1024;

/// Reads a session file of any supported format, detected from its content.
pub fn read_file(path: &Path) -> Result<Loaded> {
    let label = path.display().to_string();
    let mut file = fs::File::open(path).map_err(|e| StoreError::io(path, e))?;
    let meta = file.metadata().map_err(|e| StoreError::io(path, e))?;
    if meta.is_dir() {
        return Err(StoreError::invalid(
            label,
            "is a folder, not a session file",
        ));
    }
    if meta.len() == 0 {
        return Err(StoreError::invalid(label, "the file is empty"));
    }
    let mut head = [0u8; 16];
    let n = file.read(&mut head).map_err(|e| StoreError::io(path, e))?;
    if n == 16 && &head == sqlite_detect::SQLITE_MAGIC {
        return read_sqlite(path);
    }
    if meta.len() > MAX_STRING_FILE {
        return Err(StoreError::invalid(
            label,
            "neither a SQLite session nor a session string (too large)",
        ));
    }
    let bytes = fs::read(path).map_err(|e| StoreError::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        StoreError::invalid(
            &label,
            "neither a SQLite session nor a session string (binary data)",
        )
    })?;
    parse_string(text.trim(), &label)
}

fn read_sqlite(path: &Path) -> Result<Loaded> {
    let conn = sqlite_detect::open_read_only(path)?;
    let format = sqlite_detect::detect(&conn, path)?;
    let label = path.display().to_string();
    let session = match format {
        Format::TelethonSqlite(_) => telethon_sqlite::read(&conn),
        Format::PyrogramSqlite(v) => pyrogram_sqlite::read(&conn, v),
        Format::TgsessSqlite => tgsess_sqlite::read(&conn),
        _ => unreachable!("detect returns SQLite formats only"),
    }
    .map_err(|problem| StoreError::invalid(label, problem))?;
    Ok(Loaded { format, session })
}

/// Parses a session string of any supported format. `label` names the input in errors
/// (never the string itself, which is a secret).
pub fn parse_string(text: &str, label: &str) -> Result<Loaded> {
    let text = text.trim();
    if text.is_empty() {
        return Err(StoreError::invalid(label, "the session string is empty"));
    }
    let err =
        |kind: &str, problem: String| StoreError::invalid(label, format!("{kind}: {problem}"));
    if tgsess_string::looks_like(text) {
        let session = tgsess_string::decode(text).map_err(|p| err("tgsess string", p))?;
        return Ok(Loaded {
            format: Format::TgsessString,
            session,
        });
    }
    if telethon_string::looks_like(text) {
        let session = telethon_string::decode(text).map_err(|p| err("Telethon string", p))?;
        return Ok(Loaded {
            format: Format::TelethonString,
            session,
        });
    }
    if pyrogram_string::looks_like(text) {
        let (layout, session) =
            pyrogram_string::decode(text).map_err(|p| err("Pyrogram string", p))?;
        return Ok(Loaded {
            format: Format::PyrogramString(layout),
            session,
        });
    }
    Err(StoreError::invalid(
        label,
        format!(
            "not a recognised session string ({} characters; Telethon strings have 353 or 369 and start with '1', \
             Pyrogram strings 351, 356 or 362, tgsess strings start with 'tgsess:')",
            text.chars().count()
        ),
    ))
}

/// Encodes a session in a string format. The session must already hold what the format
/// needs (see [`convert::prepare`]).
pub fn encode_string(session: &Session, format: Format) -> Result<String> {
    let problem = |p: String| StoreError::invalid(format!("writing {format}"), p);
    match format {
        Format::TgsessString => tgsess_string::encode(session).map_err(problem),
        Format::TelethonString => telethon_string::encode(session).map_err(problem),
        Format::PyrogramString(_) => {
            pyrogram_string::encode(session).map_err(|field| match field.as_str() {
                "api_id" => StoreError::MissingField {
                    format: "pyrogram-string",
                    field: "api_id",
                    flag: "--api-id N",
                },
                "user_id" => StoreError::MissingField {
                    format: "pyrogram-string",
                    field: "user id",
                    flag: "--user-id N",
                },
                _ => problem(field),
            })
        }
        other => Err(StoreError::invalid(
            format!("writing {other}"),
            "not a string format",
        )),
    }
}

/// Writes `session` to `path` in `format`, atomically. A string format writes the string and a
/// newline (temp file, fsync, rename). A SQLite format updates an existing file of the same
/// format in one transaction (keeping its caches), or builds a new file beside it and renames it.
pub fn write_file(path: &Path, session: &Session, format: Format) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        return Err(StoreError::NotFound(format!(
            "{}: the folder does not exist",
            parent.display()
        )));
    }
    match format.backend() {
        BackendKind::String => {
            let mut text = encode_string(session, format)?;
            text.push('\n');
            fsutil::write_atomic(path, text.as_bytes()).map_err(|e| StoreError::io(path, e))
        }
        BackendKind::Sqlite => {
            if path.exists()
                && let Ok(existing) = read_sqlite(path)
                && existing.format.family() == format.family()
            {
                return update_sqlite_in_place(path, session, existing.format);
            }
            create_sqlite(path, session, format.writer())
        }
        BackendKind::Memory => Err(StoreError::invalid(
            path.display().to_string(),
            "memory sessions are not written to files",
        )),
    }
}

fn write_sqlite_tables(
    conn: &Connection,
    session: &Session,
    format: Format,
) -> rusqlite::Result<()> {
    match format {
        Format::TelethonSqlite(v) => telethon_sqlite::write_into(conn, session, v),
        Format::PyrogramSqlite(v) => pyrogram_sqlite::write_into(conn, session, v),
        Format::TgsessSqlite => {
            tgsess_sqlite::migrate(conn)?;
            tgsess_sqlite::write_into(conn, session)
        }
        _ => unreachable!("SQLite formats only"),
    }
}

fn update_sqlite_in_place(path: &Path, session: &Session, format: Format) -> Result<()> {
    let mut conn = Connection::open(path).map_err(|e| StoreError::sqlite(path, e))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(|e| StoreError::sqlite(path, e))?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| StoreError::sqlite(path, e))?;
    write_sqlite_tables(&tx, session, format).map_err(|e| StoreError::sqlite(path, e))?;
    fsutil::crash_point("before-sqlite-commit");
    tx.commit().map_err(|e| StoreError::sqlite(path, e))
}

fn create_sqlite(path: &Path, session: &Session, format: Format) -> Result<()> {
    let target = fsutil::TempTarget::new(path).map_err(|e| StoreError::io(path, e))?;
    // Create the file first so that it is 0600 before SQLite writes a key into it.
    fsutil::write_atomic_with(target.temp_path(), |_| Ok(()))
        .map_err(|e| StoreError::io(path, e))?;
    {
        let mut conn =
            Connection::open(target.temp_path()).map_err(|e| StoreError::sqlite(path, e))?;
        let tx = conn
            .transaction()
            .map_err(|e| StoreError::sqlite(path, e))?;
        let schema = match format {
            Format::TelethonSqlite(_) => telethon_sqlite::SCHEMA_7,
            Format::PyrogramSqlite(_) => pyrogram_sqlite::SCHEMA_7,
            _ => "",
        };
        tx.execute_batch(schema)
            .map_err(|e| StoreError::sqlite(path, e))?;
        write_sqlite_tables(&tx, session, format).map_err(|e| StoreError::sqlite(path, e))?;
        tx.commit().map_err(|e| StoreError::sqlite(path, e))?;
        conn.close().map_err(|(_, e)| StoreError::sqlite(path, e))?;
    }
    target.commit().map_err(|e| StoreError::io(path, e))
}
