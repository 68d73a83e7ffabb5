//! Advisory locks (flock through fs4) so that two tgsess processes never drive one auth key at
//! once: Telegram answers AUTH_KEY_DUPLICATED and may revoke a key used from two places.
//! One lock per session file and one per auth key (the same key can sit in two files). The lock
//! files live in a private runtime folder, never in the session directory, and hold the
//! holder's PID so that the second process can say who has it. A flock belongs to the open
//! file, so a child process forked while a lock is held shares it until the child execs (the
//! file is close-on-exec): tgsess must not fork long-lived children while holding locks.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::error::TgError;
use crate::fsutil;
use crate::secret::AuthKey;

/// Overrides the lock folder.
pub const ENV_LOCK_DIR: &str = "TGSESS_LOCK_DIR";

/// The folder for lock files: `$TGSESS_LOCK_DIR`, `$XDG_RUNTIME_DIR/tgsess`, or
/// `<tmp>/tgsess-<uid>`.
pub fn default_lock_dir() -> PathBuf {
    if let Some(p) = std::env::var_os(ENV_LOCK_DIR).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("XDG_RUNTIME_DIR").filter(|p| !p.is_empty()) {
        return PathBuf::from(p).join("tgsess");
    }
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    std::env::temp_dir().join(format!("tgsess-{uid}"))
}

/// A held lock; released when dropped (closing the file releases the flock).
#[derive(Debug)]
pub struct HeldLock {
    _file: File,
    path: PathBuf,
}

impl HeldLock {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Takes the lock named `name` in `dir` without waiting. `what` names the locked thing in the
/// error ("session alice.session").
pub fn try_lock(dir: &Path, name: &str, what: &str) -> Result<HeldLock, TgError> {
    fsutil::ensure_private_dir(dir).map_err(|e| lock_io(dir, e))?;
    let path = dir.join(name);
    // The lock file is written in place on purpose: replacing it (temp + rename) would swap
    // the inode under a held flock. It only ever holds a PID.
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(fsutil::FILE_MODE)
        .open(&path)
        .map_err(|e| lock_io(&path, e))?;
    let acquired =
        fs4::fs_std::FileExt::try_lock_exclusive(&file).map_err(|e| lock_io(&path, e))?;
    if !acquired {
        let mut text = String::new();
        let _ = file.read_to_string(&mut text);
        return Err(TgError::InUse {
            what: what.to_string(),
            pid: text.trim().parse().ok(),
        });
    }
    let pid = std::process::id();
    file.set_len(0)
        .and_then(|_| file.seek(SeekFrom::Start(0)))
        .and_then(|_| file.write_all(format!("{pid}\n").as_bytes()))
        .and_then(|_| file.flush())
        .map_err(|e| lock_io(&path, e))?;
    Ok(HeldLock { _file: file, path })
}

/// The lock of a session file (by its canonical path).
pub fn lock_session_file(dir: &Path, session_path: &Path) -> Result<HeldLock, TgError> {
    let canonical = session_path
        .canonicalize()
        .unwrap_or_else(|_| absolute(session_path));
    let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    let name = format!("file-{}.lock", hex::encode(&digest[..12]));
    let what = format!("session {}", session_path.display());
    try_lock(dir, &name, &what)
}

/// The lock of an auth key (by its public key id, never the key).
pub fn lock_auth_key(dir: &Path, key: &AuthKey) -> Result<HeldLock, TgError> {
    let name = format!("key-{}.lock", key.key_id_hex());
    let what = format!("auth key {}", key.key_id_hex());
    try_lock(dir, &name, &what)
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn lock_io(path: &Path, e: std::io::Error) -> TgError {
    TgError::Store(crate::store::StoreError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_gets_in_use_with_our_pid() {
        let dir = tempfile::tempdir().unwrap();
        let session = dir.path().join("a.session");
        std::fs::write(&session, b"x").unwrap();
        let held = lock_session_file(dir.path(), &session).unwrap();
        let err = lock_session_file(dir.path(), &session).unwrap_err();
        match err {
            TgError::InUse { pid, what } => {
                assert_eq!(pid, Some(std::process::id()));
                assert!(what.contains("a.session"));
            }
            other => panic!("{other:?}"),
        }
        drop(held);
        lock_session_file(dir.path(), &session).expect("free again after drop");
    }

    #[test]
    fn same_key_in_two_files_conflicts_and_never_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = AuthKey::new([0x5a; 256]);
        let _held = lock_auth_key(dir.path(), &key).unwrap();
        let err = lock_auth_key(dir.path(), &key).unwrap_err();
        assert!(matches!(err, TgError::InUse { .. }));
        assert!(!err.to_string().contains("5a5a5a5a5a"));
        let other = AuthKey::new([0x11; 256]);
        lock_auth_key(dir.path(), &other).expect("another key is free");
    }

    #[test]
    fn lock_dir_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let locks = dir.path().join("locks");
        let _held = lock_auth_key(&locks, &AuthKey::new([1; 256])).unwrap();
        let mode = std::fs::metadata(&locks).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}
