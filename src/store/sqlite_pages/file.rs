//! The page reader's driver over a session file: SQLite's own shared lock on it (so no writer
//! can change a page while it is read), no `-journal` or `-wal` beside it once the lock is
//! held, then the pages the reader asks for, read with `pread`, the first ones in one read.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::{Db, Decline, PageSource, R, session};
use crate::store::Loaded;

/// Bytes read from the start in one go: page 1 and the few after it, where a small session
/// file keeps its tables (4 pages of 4 KiB).
pub const PREFETCH: usize = 16 * 1024;

/// A file's pages: a prefix read once, the rest read when asked for.
pub struct FileSource<'f> {
    file: &'f File,
    prefix: &'f [u8],
}

impl PageSource for FileSource<'_> {
    fn append_at(&mut self, offset: u64, len: usize, out: &mut Vec<u8>) -> bool {
        let end = offset.saturating_add(len as u64);
        if end <= self.prefix.len() as u64 {
            out.extend_from_slice(&self.prefix[offset as usize..end as usize]);
            return true;
        }
        let at = out.len();
        out.resize(at + len, 0);
        self.file.read_exact_at(&mut out[at..], offset).is_ok()
    }
}

/// Reads the session of the SQLite file `file` (at `path`, `len` bytes, `prefix` its first
/// bytes as read under the lock). The caller must hold [`lock_shared`] on `file`.
pub fn read(file: &File, path: &Path, len: u64, prefix: &[u8]) -> R<Loaded> {
    // A journal (hot or not) or a WAL beside it is SQLite's to recover.
    if crate::store::sqlite_read::has_log(path) {
        return Err(Decline("a journal or WAL beside the file"));
    }
    let mut db = Db::open(FileSource { file, prefix }, len)?;
    session::read(&mut db)
}

/// The whole way for one open file: SQLite's shared lock, the first pages, the session.
/// `None` when the lock is not granted or the reader declines (the caller then reads the file
/// with SQLite, which gives the exact result or error).
pub fn read_open(file: &File, path: &Path, len: u64) -> Option<Loaded> {
    if !lock_shared(file) {
        return None;
    }
    let mut prefix = vec![0u8; PREFETCH.min(usize::try_from(len).ok()?)];
    file.read_exact_at(&mut prefix, 0).ok()?;
    read(file, path, len, &prefix).ok()
}

/// SQLite's byte-range locks (os_unix.c): PENDING_BYTE, then RESERVED, then the SHARED range.
const PENDING_BYTE: i64 = 0x4000_0000;
const SHARED_FIRST: i64 = PENDING_BYTE + 2;
const SHARED_SIZE: i64 = 510;

/// Takes a SHARED lock on `file` as SQLite does (a read lock on the pending byte, then on the
/// shared range, then the pending byte let go), as an open-file-description lock: it conflicts
/// with the POSIX locks of a SQLite writer in any process, and goes when `file` is closed.
/// False when a writer holds (or waits for) its exclusive lock, or on a system without OFD
/// locks: the caller then leaves the file to SQLite.
#[cfg(target_os = "linux")]
pub fn lock_shared(file: &File) -> bool {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    let set = |kind: libc::c_int, start: i64, len: i64| {
        // SAFETY: a zeroed flock is valid; fcntl reads it and does not keep the pointer.
        let mut lock: libc::flock = unsafe { std::mem::zeroed() };
        lock.l_type = kind as libc::c_short;
        lock.l_whence = libc::SEEK_SET as libc::c_short;
        lock.l_start = start;
        lock.l_len = len;
        // SAFETY: fd is open for the life of `file`; F_OFD_SETLK does not block.
        unsafe { libc::fcntl(fd, libc::F_OFD_SETLK, &lock) == 0 }
    };
    if !set(libc::F_RDLCK, PENDING_BYTE, 1) {
        return false;
    }
    let shared = set(libc::F_RDLCK, SHARED_FIRST, SHARED_SIZE);
    set(libc::F_UNLCK, PENDING_BYTE, 1);
    shared
}

#[cfg(not(target_os = "linux"))]
pub fn lock_shared(_file: &File) -> bool {
    false
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};

    use super::*;
    use crate::store::sqlite_read::companion;
    use crate::store::{Format, Session, write_file};

    const HOLDER: &str = "TGSESS_TEST_LOCK_HOLDER";

    fn session_file(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("a.session");
        let mut s = Session::new(2);
        s.home_mut().auth_key = Some(crate::secret::AuthKey::random());
        s.user_id = Some(42);
        write_file(&path, &s, Format::TelethonSqlite(7)).unwrap();
        path
    }

    /// Opens, locks and reads `path` as the listing does.
    fn read_locked(path: &Path) -> R<Loaded> {
        let file = File::open(path).unwrap();
        if !lock_shared(&file) {
            return Err(Decline("not locked"));
        }
        let len = file.metadata().unwrap().len();
        let mut prefix = vec![0u8; PREFETCH.min(len as usize)];
        file.read_exact_at(&mut prefix, 0).unwrap();
        read(&file, path, len, &prefix)
    }

    /// Run in a child process by the lock test: holds SQLite's lock `mode` on the file named
    /// by the environment until its standard input closes.
    #[test]
    #[ignore = "a helper the lock test runs in a child process"]
    fn lock_holder() {
        let Some(path) = std::env::var_os(HOLDER) else {
            return;
        };
        let mode = std::env::var("TGSESS_TEST_LOCK_MODE").unwrap();
        let conn = rusqlite::Connection::open(path).unwrap();
        // No journal file: the reader must decline for the lock alone.
        conn.pragma_update(None, "journal_mode", "MEMORY").unwrap();
        conn.execute_batch(&format!(
            "BEGIN {mode}; UPDATE entities SET hash = 7 WHERE id = 0"
        ))
        .unwrap();
        println!("LOCKED");
        std::io::stdout().flush().unwrap();
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        conn.execute_batch("COMMIT").unwrap();
    }

    /// A running [`lock_holder`] and its output (kept open: it still prints when it ends).
    struct Holder {
        child: std::process::Child,
        out: BufReader<std::process::ChildStdout>,
    }

    /// Starts [`lock_holder`] on `path` and waits until it holds the lock.
    fn hold(path: &Path, mode: &str) -> Holder {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "store::sqlite_pages::file::tests::lock_holder",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(HOLDER, path)
            .env("TGSESS_TEST_LOCK_MODE", mode)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while out.read_line(&mut line).unwrap() > 0 {
            if line.contains("LOCKED") {
                return Holder { child, out };
            }
            line.clear();
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the lock holder ended without taking its lock");
    }

    /// Lets the holder commit and end.
    fn release(mut holder: Holder) {
        drop(holder.child.stdin.take());
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut holder.out, &mut rest).unwrap();
        assert!(holder.child.wait().unwrap().success(), "{rest}");
    }

    #[test]
    fn a_plain_file_is_read_under_the_lock_as_sql_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = session_file(dir.path());
        // Against SQLite itself (read_file takes the page path too).
        assert_eq!(
            read_locked(&path).unwrap(),
            crate::store::read_sqlite(&path).unwrap()
        );
    }

    #[test]
    fn a_writer_in_another_process_holding_its_exclusive_lock_makes_it_decline() {
        let dir = tempfile::tempdir().unwrap();
        let path = session_file(dir.path());
        let child = hold(&path, "EXCLUSIVE");
        assert!(
            !companion(&path, "-journal").exists(),
            "no journal: the lock alone counts"
        );
        assert!(
            read_locked(&path).is_err(),
            "read while a writer holds EXCLUSIVE"
        );
        release(child);
        // Committed: read again, with the writer's change.
        let loaded = read_locked(&path).unwrap();
        assert_eq!(loaded.session.user_id, Some(7));
    }

    #[test]
    fn a_writer_that_only_reserved_the_file_does_not_stop_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = session_file(dir.path());
        let child = hold(&path, "IMMEDIATE");
        // The writer's change is not committed: the reader sees the last committed state.
        assert_eq!(read_locked(&path).unwrap().session.user_id, Some(42));
        release(child);
    }

    #[test]
    fn a_journal_or_wal_beside_the_file_makes_it_decline() {
        let dir = tempfile::tempdir().unwrap();
        let path = session_file(dir.path());
        for suffix in ["-journal", "-wal"] {
            let log = companion(&path, suffix);
            std::fs::write(&log, b"").unwrap();
            assert!(read_locked(&path).is_err(), "{suffix}");
            std::fs::remove_file(&log).unwrap();
        }
        assert!(read_locked(&path).is_ok());
    }
}
