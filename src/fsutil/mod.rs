//! The one way tgsess writes files: a locked temp file in the same folder, fsync, rename, fsync
//! the folder. Session files are 0600 and the folders that tgsess creates are 0700. Also the
//! checks every reader shares (regular files only, bounded size) and the private runtime folder.

mod batch;
mod crash;
mod private_dir;
mod read;
mod temp;

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

pub use batch::commit_together;
pub use crash::{crash_point, crash_point_at};
pub use private_dir::{ENV_RUNTIME_DIR, checked_private_dir, runtime_dir, state_dir};
pub use read::{MAX_SESSION_BYTES, open_regular, read_capped};
pub use temp::{
    Synced, TempFolder, TempTarget, is_temp_name, sweep_stale_temps, sweep_stale_temps_once,
    sweep_temps_named,
};

pub const FILE_MODE: u32 = 0o600;
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` (and parents) with mode 0700 when missing.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

/// Atomically replaces `path` with `bytes`. A crash at any point leaves either the old
/// file or the new one, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// Like [`write_atomic`], but lets `fill` write the temp file.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let mut target = TempTarget::new(path)?;
    crash_point("temp-created");
    fill(target.file())?;
    crash_point("temp-filled");
    target.commit()
}

/// Removes group and other permissions from `path` if it has any (a file about to hold a live
/// key). A missing file is fine.
pub fn tighten(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o077 != 0 => {
            let mode = meta.permissions().mode() & 0o700;
            fs::set_permissions(path, fs::Permissions::from_mode(mode | FILE_MODE))
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether group or others may read `meta`'s file.
pub fn readable_by_others(meta: &fs::Metadata) -> bool {
    meta.permissions().mode() & 0o044 != 0
}

/// Swaps the names of two existing paths in one step (a folder replaced by a new one is never
/// missing, nor half there). Linux's `renameat2(RENAME_EXCHANGE)`.
pub fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    rename2(a, b, libc::RENAME_EXCHANGE)
}

/// Renames `from` to `to` unless `to` exists (then `AlreadyExists`, and nothing moves), in one
/// step: a file that appeared meanwhile is never replaced. Linux's `RENAME_NOREPLACE`.
pub fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    rename2(from, to, libc::RENAME_NOREPLACE)
}

fn rename2(a: &Path, b: &Path, flags: libc::c_uint) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))
    };
    let (ca, cb) = (c(a)?, c(b)?);
    // SAFETY: both are valid NUL-terminated paths that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            flags,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

pub fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_creates_0600_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.session");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // No temp files left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn failed_fill_keeps_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.session");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic_with(&path, |f| {
            f.write_all(b"half")?;
            Err(io::Error::other("interrupted"))
        });
        assert!(err.is_err());
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn private_dir_is_0700() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("x/y");
        ensure_private_dir(&sub).unwrap();
        let mode = fs::metadata(&sub).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn tighten_drops_group_and_other_bits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.session");
        fs::write(&path, b"x").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(readable_by_others(&fs::metadata(&path).unwrap()));
        tighten(&path).unwrap();
        let meta = fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert!(!readable_by_others(&meta));
        tighten(&dir.path().join("missing")).unwrap();
    }
}
