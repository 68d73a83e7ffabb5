//! The one way tgsess writes files: temp file in the same folder, fsync, rename, fsync the folder.
//! Session files are 0600 and the folders that tgsess creates are 0700.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

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

/// Like [`write_atomic`], but lets `fill` write the temp file (or build it, e.g. a SQLite
/// database at the temp path). `fill` gets the temp file's path through [`TempTarget`].
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let target = TempTarget::new(path)?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(target.temp_path())?;
    fill(&mut file)?;
    file.sync_all()?;
    drop(file);
    target.commit()
}

/// A temp path beside the final one; dropped without `commit`, it removes the temp file.
pub struct TempTarget {
    temp: std::path::PathBuf,
    final_path: std::path::PathBuf,
    committed: bool,
}

impl TempTarget {
    pub fn new(final_path: &Path) -> io::Result<Self> {
        let parent = parent_of(final_path);
        let name = final_path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
        let mut suffix = [0u8; 6];
        getrandom::fill(&mut suffix).map_err(io::Error::other)?;
        let temp = parent.join(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            hex::encode(suffix)
        ));
        Ok(Self {
            temp,
            final_path: final_path.to_path_buf(),
            committed: false,
        })
    }

    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// fsyncs the temp file, sets 0600, renames it over the final path, fsyncs the folder.
    pub fn commit(mut self) -> io::Result<()> {
        File::open(&self.temp)?.sync_all()?;
        crash_point("before-rename");
        fs::set_permissions(&self.temp, fs::Permissions::from_mode(FILE_MODE))?;
        fs::rename(&self.temp, &self.final_path)?;
        self.committed = true;
        sync_dir(parent_of(&self.final_path))
    }
}

impl Drop for TempTarget {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Test hook: in debug builds, aborts the process at the named point when
/// `TGSESS_TEST_CRASH_AT` names it, so tests can show that a write cut short loses nothing.
pub fn crash_point(name: &str) {
    if cfg!(debug_assertions) && std::env::var_os("TGSESS_TEST_CRASH_AT").is_some_and(|v| v == name)
    {
        std::process::abort();
    }
}

/// Swaps the names of two existing paths in one step (a folder replaced by a new one is never
/// missing, nor half there). Linux's `renameat2(RENAME_EXCHANGE)`.
pub fn exchange(a: &Path, b: &Path) -> io::Result<()> {
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
            libc::RENAME_EXCHANGE,
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
}
