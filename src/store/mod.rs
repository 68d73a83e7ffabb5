//! Session storage: the model, every format, the session directory and the grammers adapter.
//! Nothing here touches the network.

pub mod adapter;
pub mod batch;
pub mod convert;
pub mod dc_table;
pub mod dir;
pub mod error;
pub mod format;
pub mod formats;
pub mod inspect;
pub mod listing;
pub mod model;
pub mod set_dc;
pub mod sqlite_pages;
pub mod sqlite_read;
pub mod sqlite_write;
pub mod status;
pub mod tdata;

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use rusqlite::Connection;

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

/// Reads a session file of any supported format, detected from its content. Only regular
/// files are read (a FIFO or a device is refused, never waited on), and at most
/// [`fsutil::MAX_SESSION_BYTES`]. A tdata folder (or `FOLDER#N`, its N-th account) is read
/// without a passcode: see [`read_file_with`].
pub fn read_file(path: &Path) -> Result<Loaded> {
    read_file_with(path, b"")
}

/// [`read_file`] with the local passcode of a tdata folder (ignored by other formats).
pub fn read_file_with(path: &Path, passcode: &[u8]) -> Result<Loaded> {
    if !path.exists()
        && let Some((folder, n)) = path.to_str().and_then(tdata::split_account)
    {
        return read_tdata(&folder, n, passcode);
    }
    if path.is_dir() && tdata::is_tdata_folder(path) {
        return read_tdata(path, 1, passcode);
    }
    let label = path.display().to_string();
    let (mut file, meta) = fsutil::open_regular(path).map_err(|e| StoreError::io(path, e))?;
    if meta.len() == 0 {
        return Err(StoreError::invalid(label, "the file is empty"));
    }
    if meta.len() > fsutil::MAX_SESSION_BYTES {
        return Err(StoreError::invalid(
            label,
            format!(
                "the file is larger than {} MiB, the most tgsess reads as one session",
                fsutil::MAX_SESSION_BYTES / (1024 * 1024)
            ),
        ));
    }
    let mut head = [0u8; 16];
    let n = file.read(&mut head).map_err(|e| StoreError::io(path, e))?;
    if n == 16 && &head == sqlite_detect::SQLITE_MAGIC {
        // The page reader gives exactly what SQLite would (it declines anything else), at a
        // fraction of the cost: a batch convert or a check reads many files.
        if let Some(loaded) = sqlite_pages::file::read_open(&file, path, meta.len()) {
            return Ok(loaded);
        }
        return read_sqlite(path);
    }
    if meta.len() > MAX_STRING_FILE {
        return Err(StoreError::invalid(
            label,
            "neither a SQLite session nor a session string (too large)",
        ));
    }
    file.seek(SeekFrom::Start(0))
        .map_err(|e| StoreError::io(path, e))?;
    let bytes = fsutil::read_capped(file, MAX_STRING_FILE).map_err(|e| StoreError::io(path, e))?;
    parse_text(bytes, &label)
}

/// Reads a session from bytes (standard input): SQLite (in memory, nothing is written) or a
/// string. `label` names the input in errors.
pub fn read_bytes(bytes: Vec<u8>, label: &str) -> Result<Loaded> {
    if bytes.starts_with(sqlite_detect::SQLITE_MAGIC) {
        return read_sqlite_bytes(&bytes, label);
    }
    parse_text(bytes, label)
}

/// Account `n` (1-based) of a tdata folder.
fn read_tdata(folder: &Path, n: usize, passcode: &[u8]) -> Result<Loaded> {
    let accounts = tdata::read_folder(folder, passcode)?;
    let count = accounts.len();
    let account = accounts.into_iter().nth(n - 1).ok_or_else(|| {
        StoreError::NotFound(format!(
            "{}: has {count} account(s), not {n} (address them as FOLDER#1 to FOLDER#{count})",
            folder.display()
        ))
    })?;
    Ok(Loaded {
        format: Format::Tdata,
        session: account.session,
    })
}

/// Reads a SQLite session given as bytes (standard input) in memory: no copy of the key is
/// written to disk, and errors name `label` ("standard input"), not a temporary path.
pub fn read_sqlite_bytes(bytes: &[u8], label: &str) -> Result<Loaded> {
    let named = Path::new(label);
    // SQLite sizes in-memory images with a C int.
    if bytes.len() > i32::MAX as usize {
        return Err(StoreError::invalid(label, "too large for a session"));
    }
    let mut image = zeroize::Zeroizing::new(bytes.to_vec());
    // A WAL-mode header (bytes 18-19 = 2) makes SQLite look for a -wal file, which an
    // in-memory image cannot have: read it as the rollback-journal database it then is.
    if image.len() > 19 && image[18] == 2 && image[19] == 2 {
        image[18] = 1;
        image[19] = 1;
    }
    let mut conn = Connection::open_in_memory().map_err(|e| StoreError::sqlite(named, e))?;
    conn.deserialize_read_exact(rusqlite::MAIN_DB, &image[..], image.len(), true)
        .map_err(|e| sqlite_detect::explain(named, e))?;
    read_sqlite_connection(&conn, named)
}

/// A session string file's bytes, as [`read_file`] reads them; `label` names it in errors.
pub(crate) fn parse_text_bytes(bytes: Vec<u8>, label: &str) -> Result<Loaded> {
    parse_text(bytes, label)
}

fn parse_text(bytes: Vec<u8>, label: &str) -> Result<Loaded> {
    let text = String::from_utf8(bytes).map_err(|_| {
        StoreError::invalid(
            label,
            "neither a SQLite session nor a session string (binary data)",
        )
    })?;
    parse_string(text.trim(), label)
}

fn read_sqlite(path: &Path) -> Result<Loaded> {
    let db = sqlite_read::open_committed(path)?;
    read_sqlite_connection(&db, path)
}

/// Detects the format of an open database and reads it; `path` labels errors. (Public for
/// the fuzz harness, which hands it databases with hostile values.)
pub fn read_sqlite_connection(conn: &Connection, path: &Path) -> Result<Loaded> {
    let format = sqlite_detect::detect(conn, path)?;
    let label = path.display().to_string();
    let session =
        read_sqlite_tables(conn, format).map_err(|problem| StoreError::invalid(label, problem))?;
    Ok(Loaded { format, session })
}

fn read_sqlite_tables(conn: &Connection, format: Format) -> std::result::Result<Session, String> {
    match format {
        Format::TelethonSqlite(_) => telethon_sqlite::read(conn),
        Format::PyrogramSqlite(v) => pyrogram_sqlite::read(conn, v),
        Format::PyroforkSqlite => pyrogram_sqlite::read(conn, 4),
        Format::TgsessSqlite => tgsess_sqlite::read(conn),
        _ => unreachable!("detect returns SQLite formats only"),
    }
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
                "api_id" => StoreError::missing("pyrogram-string", "api_id", "--api-id N"),
                "user_id" => StoreError::missing("pyrogram-string", "user id", "--user-id N"),
                _ => problem(field),
            })
        }
        other => Err(StoreError::invalid(
            format!("writing {other}"),
            "not a string format",
        )),
    }
}

/// Writes `session` to `path` in `format`, atomically, and only if the file does not already
/// hold exactly that (so a connect that changed nothing writes nothing). A string format
/// writes the string and a newline. A SQLite format updates an existing file of the same
/// family (keeping its caches), or builds a new one. Either way the new file is swapped in
/// atomically (temp file, fsync, rename; see [`fsutil::write_atomic`]) and is 0600. A path
/// that is a symlink is written at its target. The caller holds the session's lock.
pub fn write_file(path: &Path, session: &Session, format: Format) -> Result<()> {
    write(path, session, format, false)
}

/// Like [`write_file`], but always builds a new file and swaps it in (`convert --force`):
/// nothing of the old file (caches, journals) survives.
pub fn replace_file(path: &Path, session: &Session, format: Format) -> Result<()> {
    write(path, session, format, true)
}

fn write(path: &Path, session: &Session, format: Format, replace: bool) -> Result<()> {
    let parent = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => p,
        None => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(StoreError::NotFound(format!(
            "{}: the folder does not exist",
            parent.display()
        )));
    }
    // Through a link, the file it points to is the session (the link stays a link).
    let resolved;
    let path = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            resolved = fs::canonicalize(path).map_err(|e| StoreError::io(path, e))?;
            resolved.as_path()
        }
        _ => path,
    };
    let parent = path.parent().unwrap_or(parent);
    fsutil::sweep_stale_temps_once(parent);
    let existing = match fs::symlink_metadata(path) {
        Ok(_) => read_file(path).ok(),
        Err(_) => None,
    };
    match format.backend() {
        BackendKind::String => {
            let mut text = encode_string(session, format)?;
            if !replace
                && let Some(old) = &existing
                && old.format == format
                && parse_string(&text, "").is_ok_and(|new| new.session == old.session)
            {
                return Ok(());
            }
            text.push('\n');
            sqlite_write::settle_companions(path)?;
            fsutil::write_atomic(path, text.as_bytes()).map_err(|e| StoreError::io(path, e))
        }
        BackendKind::Sqlite => match existing {
            Some(old) if !replace && old.format.family() == format.family() => {
                sqlite_write::update(path, session, old.format, &old.session).map(|_| ())
            }
            _ => sqlite_write::create(path, session, format.writer()),
        },
        // A new one-account folder; an existing folder is replaced only by an explicit
        // `convert --force` (tdata::write_folder), never as a side effect.
        BackendKind::Folder => tdata::write_folder(path, std::slice::from_ref(session), b"", false),
        BackendKind::Memory => Err(StoreError::invalid(
            path.display().to_string(),
            "memory sessions are not written to files",
        )),
    }
}
