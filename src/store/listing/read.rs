//! Reading one file of the listing: from the cache when its fingerprint is trusted, else the
//! fast way (one open: the page reader of `store::sqlite_pages` under SQLite's shared lock,
//! or SQLite in one read transaction), else the full way of `read_file`.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::cache::{self, Cache, Fingerprint};
use super::{BatchOut, Info, Summary};
use crate::fsutil;
use crate::store::formats::sqlite_detect::SQLITE_MAGIC;
use crate::store::sqlite_pages::file;
use crate::store::{BackendKind, parse_text_bytes, read_file, read_sqlite_connection};

/// Longest text file read as a string session (as `read_file`).
const MAX_STRING_FILE: u64 = 64 * 1024;

/// Adds the row of one file (and its cache record) to `out`.
pub(super) fn one(
    name: &str,
    ext: &str,
    path: &Path,
    has_log: bool,
    old: &Cache,
    out: &mut BatchOut,
) {
    let backend = if ext == "session" {
        BackendKind::Sqlite
    } else {
        BackendKind::String
    };
    let file_name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let row = |info| Summary {
        name: name.to_string(),
        path: path.to_path_buf(),
        backend,
        info,
    };
    if let Some(hit) = old.get(&file_name) {
        // Stat before reading, so a write during the read shows up as a change next time.
        match stat(path) {
            Some(fp) if hit.trusted(&fp) => {
                if let Some(info) = hit.info() {
                    cache::push_raw(&mut out.records, hit.raw());
                    if let Some(info) = info {
                        out.rows.push(row(info));
                    }
                    return;
                }
            }
            None => {
                out.unrecorded += 1;
                return;
            }
            Some(_) => {}
        }
    }
    out.read += 1;
    let (fp, info) = match fast(path, has_log) {
        Some((fp, info)) => (fp, Some(Ok(info))),
        None => {
            // A dangling or looping link has no target to stat: its own entry stands in, and
            // reading it gives the row its error.
            let Some(fp) = stat(path) else {
                out.unrecorded += 1;
                return;
            };
            (fp, full(path, ext))
        }
    };
    cache::push_record(&mut out.records, &file_name, &fp, info.as_ref());
    if let Some(info) = info {
        out.rows.push(row(info));
    }
}

fn stat(path: &Path) -> Option<Fingerprint> {
    fs::metadata(path)
        .or_else(|_| fs::symlink_metadata(path))
        .ok()
        .map(|m| Fingerprint::of(&m))
}

/// The full way, exactly as `inspect` reads a file. `None` for a `.txt` that holds no session.
fn full(path: &Path, ext: &str) -> Option<Result<Info, String>> {
    match read_file(path) {
        Ok(loaded) => {
            let readable = crate::store::inspect::readable_mode(path).is_some();
            Some(Ok(Info::from_loaded(&loaded, Some(readable))))
        }
        // A .txt file is a session only if it holds one recognised string.
        Err(_) if ext == "txt" => None,
        Err(e) => Some(Err(e.to_string())),
    }
}

/// The fast way for the common case: a regular file, no journal or WAL, read without error.
/// A SQLite file is read by the page reader under SQLite's shared lock (one open, one fstat,
/// a few preads), else by SQLite in one read transaction. `None` sends the file the full way
/// (which gives the exact error, or recovers a copy).
fn fast(path: &Path, has_log: bool) -> Option<(Fingerprint, Info)> {
    let (file, meta) = fsutil::open_regular(path).ok()?;
    // Taken before the content is read: a later write changes it.
    let fp = Fingerprint::of(&meta);
    if meta.len() == 0 || meta.len() > fsutil::MAX_SESSION_BYTES {
        return None;
    }
    // Locked before anything is read, so the pages read are one committed state.
    let locked = !has_log && file::lock_shared(&file);
    // One buffer per thread for the first pages (not zeroed again for every file).
    HEAD.with_borrow_mut(|buf| {
        let head = &mut buf[..file::PREFETCH.min(meta.len() as usize)];
        file.read_exact_at(head, 0).ok()?;
        after_head(path, file, &meta, head, fp, locked, has_log)
    })
}

thread_local! {
    static HEAD: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; file::PREFETCH]);
}

/// [`fast`] once the first bytes (`head`) are read.
fn after_head(
    path: &Path,
    file: std::fs::File,
    meta: &std::fs::Metadata,
    head: &[u8],
    fp: Fingerprint,
    locked: bool,
    has_log: bool,
) -> Option<(Fingerprint, Info)> {
    let readable = Some(fsutil::readable_by_others(meta));
    if head.starts_with(SQLITE_MAGIC) {
        // A WAL-mode header (bytes 18-19) or a log beside it needs the recovery copy.
        if has_log || head.len() < 20 || head[18] == 2 || head[19] == 2 {
            return None;
        }
        if locked && let Ok(loaded) = file::read(&file, path, meta.len(), head) {
            return Some((fp, Info::from_loaded(&loaded, readable)));
        }
        drop(file);
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).ok()?;
        // One read transaction: one shared lock for the schema and every statement.
        conn.execute_batch("BEGIN").ok()?;
        let loaded = read_sqlite_connection(&conn, path).ok()?;
        return Some((fp, Info::from_loaded(&loaded, readable)));
    }
    if meta.len() > MAX_STRING_FILE {
        return None;
    }
    let mut bytes = head.to_vec();
    let rest = MAX_STRING_FILE - bytes.len() as u64;
    let mut file = file;
    file.seek(SeekFrom::Start(bytes.len() as u64)).ok()?;
    file.take(rest).read_to_end(&mut bytes).ok()?;
    let loaded = parse_text_bytes(bytes, &path.display().to_string()).ok()?;
    Some((fp, Info::from_loaded(&loaded, readable)))
}
