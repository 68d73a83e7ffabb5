//! The one way tgsess opens a SQLite session to read it: its last committed state, as SQLite
//! itself would recover it, without creating or changing anything beside the user's file.
//!
//! A plain read-only open is used when the file has no `-journal` or `-wal` and is not in WAL
//! mode (SQLite's shared lock then keeps the read consistent with other writers). Otherwise a
//! read-only open could not roll back a hot journal ("attempt to write a readonly database") and
//! a WAL file would get `-wal`/`-shm` created beside it, so the database and its logs are copied
//! into a private scratch folder (0700, in tgsess's runtime folder) and SQLite recovers the copy:
//! a hot journal is rolled back and only committed WAL frames are read, never uncommitted data.

use std::fs;
use std::io::Write;
use std::ops::Deref;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::error::{Result, StoreError};
use super::formats::sqlite_detect::{SQLITE_MAGIC, explain};
use crate::fsutil;

/// SQLite's files beside a database, in the order a copy must take them.
const LOGS: [&str; 2] = ["-journal", "-wal"];
/// Every companion file, for callers that replace or move a database.
pub const COMPANIONS: [&str; 3] = ["-journal", "-wal", "-shm"];
/// A copy whose source changed while it was taken is taken again, this many times at most.
const COPY_ATTEMPTS: usize = 8;

/// A database opened for reading; a scratch copy (if one was needed) lives as long as this.
pub struct CommittedDb {
    conn: Connection,
    _scratch: Option<tempfile::TempDir>,
}

impl Deref for CommittedDb {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

/// Whether a `-journal` or `-wal` (empty or not, even a dangling link) is beside `path`.
pub fn has_log(path: &Path) -> bool {
    LOGS.iter()
        .any(|s| std::fs::symlink_metadata(companion(path, s)).is_ok())
}

/// `path` with a companion suffix (`a.session` → `a.session-journal`).
pub fn companion(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Opens the SQLite file at `path` to read its last committed state (see the module docs).
pub fn open_committed(path: &Path) -> Result<CommittedDb> {
    if !needs_recovery(path)? {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| explain(path, e))?;
        match probe(&conn) {
            Ok(()) => {
                return Ok(CommittedDb {
                    conn,
                    _scratch: None,
                });
            }
            // A writer left a journal between our look and our open: recover a copy instead.
            Err(_) if needs_recovery(path)? => {}
            Err(e) => return Err(explain(path, e)),
        }
    }
    open_recovered_copy(path)
}

/// Touches the schema, which makes SQLite check (and, read-write, recover) the file.
fn probe(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
}

/// Whether a journal or WAL sits beside the file, or its header says WAL mode.
fn needs_recovery(path: &Path) -> Result<bool> {
    for suffix in LOGS {
        if fs::symlink_metadata(companion(path, suffix)).is_ok_and(|m| m.len() > 0) {
            return Ok(true);
        }
    }
    let (mut file, _) = fsutil::open_regular(path).map_err(|e| StoreError::io(path, e))?;
    let mut head = [0u8; 20];
    let n = std::io::Read::read(&mut file, &mut head).map_err(|e| StoreError::io(path, e))?;
    Ok(n == 20 && &head[..16] == SQLITE_MAGIC && (head[18] == 2 || head[19] == 2))
}

/// What identifies a file's content for "did it change while we copied it".
fn stamp(path: &Path) -> Option<(u64, u64, u64, i64, i64, i64, i64)> {
    fs::symlink_metadata(path).ok().map(|m| {
        (
            m.dev(),
            m.ino(),
            m.size(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
        )
    })
}

fn open_recovered_copy(path: &Path) -> Result<CommittedDb> {
    let runtime = fsutil::runtime_dir().map_err(|e| StoreError::io(path, e))?;
    let scratch = tempfile::Builder::new()
        .prefix("recover-")
        .tempdir_in(&runtime)
        .map_err(|e| StoreError::io(&runtime, e))?;
    let copy = scratch.path().join("copy.db");
    let mut attempts = 0;
    loop {
        attempts += 1;
        let sources: Vec<PathBuf> = std::iter::once(path.to_path_buf())
            .chain(LOGS.iter().map(|s| companion(path, s)))
            .collect();
        let before: Vec<_> = sources.iter().map(|p| stamp(p)).collect();
        // The database first, then its logs: a journal only grows during a transaction, so it
        // holds the original of every page the copied database may already have overwritten.
        copy_capped(path, &copy)?;
        for suffix in LOGS {
            let log = companion(path, suffix);
            let dest = companion(&copy, suffix);
            let _ = fs::remove_file(&dest);
            if fs::symlink_metadata(&log).is_ok() {
                copy_capped(&log, &dest)?;
            }
        }
        let after: Vec<_> = sources.iter().map(|p| stamp(p)).collect();
        if before == after {
            break;
        }
        if attempts == COPY_ATTEMPTS {
            return Err(StoreError::invalid(
                path.display().to_string(),
                "the file kept changing while it was read (another program is writing it); try again",
            ));
        }
    }
    let conn = Connection::open(&copy).map_err(|e| explain(path, e))?;
    probe(&conn).map_err(|e| explain(path, e))?;
    Ok(CommittedDb {
        conn,
        _scratch: Some(scratch),
    })
}

fn copy_capped(from: &Path, to: &Path) -> Result<()> {
    let (file, _) = fsutil::open_regular(from).map_err(|e| StoreError::io(from, e))?;
    let bytes = fsutil::read_capped(file, fsutil::MAX_SESSION_BYTES)
        .map_err(|e| StoreError::io(from, e))?;
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(fsutil::FILE_MODE)
        .open(to)
        .map_err(|e| StoreError::io(to, e))?;
    out.write_all(&bytes).map_err(|e| StoreError::io(to, e))
}
