//! Writing SQLite sessions. A new file is built in memory; an existing file of the same family
//! is updated on an in-memory copy of its committed state (keeping the caches other clients
//! keep in it). Either way the result goes through the one write path
//! ([`fsutil::write_atomic`]). Before a SQLite file is replaced or moved, its journal or WAL is
//! folded into it, so a stale journal never meets a new file.

use std::fs;
use std::path::Path;

use rusqlite::{Connection, MAIN_DB};

use super::error::{Result, StoreError};
use super::format::Format;
use super::formats::{pyrogram_sqlite, sqlite_detect, telethon_sqlite, tgsess_sqlite};
use super::model::Session;
use super::sqlite_read::{COMPANIONS, companion, open_committed};
use crate::fsutil;

/// How long a writer waits for another SQLite client (Telethon, Pyrogram) to finish.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

fn write_tables(conn: &Connection, session: &Session, format: Format) -> rusqlite::Result<()> {
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

/// Builds a new database of `format` (a writer format) in memory and returns its bytes.
fn build(session: &Session, format: Format) -> rusqlite::Result<Vec<u8>> {
    let mut conn = Connection::open_in_memory()?;
    let tx = conn.transaction()?;
    let schema = match format {
        Format::TelethonSqlite(_) => telethon_sqlite::SCHEMA_7,
        Format::PyrogramSqlite(_) => pyrogram_sqlite::SCHEMA_7,
        _ => "",
    };
    tx.execute_batch(schema)?;
    write_tables(&tx, session, format)?;
    tx.commit()?;
    Ok(conn.serialize(MAIN_DB)?.to_vec())
}

/// Creates or replaces `path` with a new database holding `session`.
pub fn create(path: &Path, session: &Session, format: Format) -> Result<()> {
    let bytes = build(session, format).map_err(|e| StoreError::sqlite(path, e))?;
    settle_companions(path)?;
    fsutil::write_atomic(path, &bytes).map_err(|e| StoreError::io(path, e))
}

/// The committed state of the file at `path` as a writable in-memory database.
fn committed_copy(path: &Path) -> Result<Connection> {
    let db = open_committed(path)?;
    let bytes = db
        .serialize(MAIN_DB)
        .map_err(|e| StoreError::sqlite(path, e))?;
    let mut copy = Connection::open_in_memory().map_err(|e| StoreError::sqlite(path, e))?;
    copy.deserialize_read_exact(MAIN_DB, &bytes[..], bytes.len(), false)
        .map_err(|e| StoreError::sqlite(path, e))?;
    Ok(copy)
}

/// Updates an existing database of `format` with `session`, keeping every other table (the
/// caches other clients keep in it). The update runs on an in-memory copy of the committed
/// state, which then replaces the file through the one write path: a crash leaves the old file
/// or the new one, never a journal to replay. Returns false (and writes nothing) when the
/// file would read back the same.
pub fn update(path: &Path, session: &Session, format: Format, old: &Session) -> Result<bool> {
    let label = path.display().to_string();
    let copy = committed_copy(path)?;
    write_tables(&copy, session, format).map_err(|e| StoreError::sqlite(path, e))?;
    let after =
        super::read_sqlite_tables(&copy, format).map_err(|p| StoreError::invalid(&label, p))?;
    if after == *old {
        return Ok(false);
    }
    let bytes = copy
        .serialize(MAIN_DB)
        .map_err(|e| StoreError::sqlite(path, e))?
        .to_vec();
    drop(copy);
    fsutil::crash_point("before-sqlite-commit");
    settle_companions(path)?;
    fsutil::write_atomic(path, &bytes).map_err(|e| StoreError::io(path, e))?;
    Ok(true)
}

fn tighten_with_companions(path: &Path) -> Result<()> {
    fsutil::tighten(path).map_err(|e| StoreError::io(path, e))?;
    for suffix in COMPANIONS {
        let p = companion(path, suffix);
        fsutil::tighten(&p).map_err(|e| StoreError::io(&p, e))?;
    }
    Ok(())
}

/// Before `path` is replaced or moved: rolls a hot journal back (or checkpoints a WAL) into the
/// database, as SQLite's next opener would, then removes what is left of its companions. A
/// file that is not a readable database just loses its companions.
pub fn settle_companions(path: &Path) -> Result<()> {
    let present: Vec<_> = COMPANIONS
        .iter()
        .map(|s| companion(path, s))
        .filter(|p| fs::symlink_metadata(p).is_ok())
        .collect();
    if present.is_empty() {
        return Ok(());
    }
    if is_sqlite_file(path) {
        tighten_with_companions(path)?;
        match fold_logs(path) {
            Ok(()) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
                ) => {}
            Err(e) => return Err(StoreError::sqlite(path, e)),
        }
    }
    fsutil::crash_point("companions-folded");
    for p in present {
        match fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io(&p, e)),
        }
    }
    Ok(())
}

fn fold_logs(path: &Path) -> rusqlite::Result<()> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
    // A no-op outside WAL mode; in WAL mode it moves every committed frame into the file.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    conn.close().map_err(|(_, e)| e)
}

fn is_sqlite_file(path: &Path) -> bool {
    let Ok((mut file, _)) = fsutil::open_regular(path) else {
        return false;
    };
    let mut head = [0u8; 16];
    std::io::Read::read_exact(&mut file, &mut head).is_ok() && &head == sqlite_detect::SQLITE_MAGIC
}
