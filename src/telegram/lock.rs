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
pub const ENV_LOCK_DIR: &str = fsutil::ENV_RUNTIME_DIR;

/// The folder for lock files: tgsess's private runtime folder ([`fsutil::runtime_dir`]:
/// `$TGSESS_LOCK_DIR`, `$XDG_RUNTIME_DIR/tgsess` or `<tmp>/tgsess-<uid>` when safe, else a
/// folder in the user's state dir). When none is safe, the unsafe one is returned and taking a
/// lock there fails with the reason.
pub fn default_lock_dir() -> PathBuf {
    fsutil::runtime_dir().unwrap_or_else(|_| {
        std::env::var_os(ENV_LOCK_DIR)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("tgsess-unsafe"))
    })
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
    fsutil::checked_private_dir(dir).map_err(|e| lock_io(dir, e))?;
    let path = dir.join(name);
    // Never through a link, never truncated: the file is only ever ours and holds a PID. It is
    // written in place on purpose: replacing it (temp + rename) would swap the inode under a
    // held flock.
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(fsutil::FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&path)
        .map_err(|e| lock_io(&path, e))?;
    check_lock_file(&file).map_err(|e| lock_io(&path, e))?;
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
    // Fixed width, so a shorter PID never leaves digits of a longer one behind.
    let pid = std::process::id();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.write_all(format!("{pid:>10}\n").as_bytes()))
        .and_then(|_| file.flush())
        .map_err(|e| lock_io(&path, e))?;
    Ok(HeldLock { _file: file, path })
}

/// A lock file must be a plain file of ours with one name (not a hard link to someone's file).
fn check_lock_file(file: &File) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata()?;
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    if !meta.is_file() || meta.uid() != uid || meta.nlink() != 1 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "not a lock file of yours (wrong type, owner or link count); remove it",
        ));
    }
    Ok(())
}

/// The lock of a session file (by its canonical path).
pub fn lock_session_file(dir: &Path, session_path: &Path) -> Result<HeldLock, TgError> {
    // A file that does not exist yet is named by its folder's canonical path, so the lock is
    // the same before and after the file is created.
    let canonical = session_path.canonicalize().unwrap_or_else(|_| {
        let absolute = absolute(session_path);
        match (absolute.parent(), absolute.file_name()) {
            (Some(dir), Some(name)) => dir
                .canonicalize()
                .map(|d| d.join(name))
                .unwrap_or_else(|_| absolute.clone()),
            _ => absolute.clone(),
        }
    });
    let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    let name = format!("file-{}.lock", hex::encode(&digest[..12]));
    let what = format!("session {}", session_path.display());
    try_lock(dir, &name, &what)
}

/// The lock every writer takes before it writes or moves the session file at `path` (the
/// lock a connected session holds), in the default lock folder.
pub fn lock_for_writing(path: &Path) -> Result<HeldLock, TgError> {
    lock_session_file(&default_lock_dir(), path)
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
    fn lock_files_are_never_followed_through_links() {
        let dir = tempfile::tempdir().unwrap();
        let locks = dir.path().join("locks");
        fsutil::checked_private_dir(&locks).unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let key = AuthKey::new([3; 256]);
        let name = format!("key-{}.lock", key.key_id_hex());
        std::os::unix::fs::symlink(&victim, locks.join(&name)).unwrap();
        assert!(lock_auth_key(&locks, &key).is_err());
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    }

    #[test]
    fn an_unsafe_lock_folder_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = lock_auth_key(&open, &AuthKey::new([1; 256])).unwrap_err();
        assert!(err.to_string().contains("open to other users"), "{err}");
        let link = dir.path().join("link");
        let real = dir.path().join("real");
        fsutil::checked_private_dir(&real).unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(lock_auth_key(&link, &AuthKey::new([1; 256])).is_err());
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
