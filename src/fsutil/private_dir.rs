//! tgsess's private runtime folder (locks, scratch copies of sessions being recovered). A folder
//! in a shared place such as /tmp may have been made by another local user: it is used only if
//! it is ours, a real folder (no symlink) and closed to others; otherwise tgsess falls back to a
//! folder in the user's own state dir.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::DIR_MODE;

/// Overrides the runtime folder (historically named for the locks it holds).
pub const ENV_RUNTIME_DIR: &str = "TGSESS_LOCK_DIR";

/// `$TGSESS_LOCK_DIR` (refused if unsafe), else the first safe one of `$XDG_RUNTIME_DIR/tgsess`,
/// `<tmp>/tgsess-<uid>` and `<state dir>/tgsess/runtime`. The folder exists when this returns.
pub fn runtime_dir() -> io::Result<PathBuf> {
    if let Some(p) = std::env::var_os(ENV_RUNTIME_DIR).filter(|p| !p.is_empty()) {
        let dir = PathBuf::from(p);
        checked_private_dir(&dir)?;
        return Ok(dir);
    }
    let mut candidates = Vec::new();
    if let Some(p) = std::env::var_os("XDG_RUNTIME_DIR").filter(|p| !p.is_empty()) {
        candidates.push(PathBuf::from(p).join("tgsess"));
    }
    candidates.push(std::env::temp_dir().join(format!("tgsess-{}", current_uid())));
    candidates.push(state_fallback());
    let mut last_err = None;
    for dir in candidates {
        match checked_private_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.expect("at least one candidate"))
}

fn state_fallback() -> PathBuf {
    state_dir()
        .map(|d| d.join("runtime"))
        .unwrap_or_else(|| PathBuf::from(".tgsess-runtime"))
}

/// `TGSESS_STATE_DIR`, else the platform state folder (`~/.local/state/tgsess`).
pub fn state_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TGSESS_STATE_DIR").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let dirs = directories::ProjectDirs::from("", "", "tgsess")?;
    Some(
        dirs.state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .to_path_buf(),
    )
}

fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// Creates `dir` (0700) if missing, then checks that it is a folder (not a symlink to one),
/// owned by the current user and writable by nobody else; one that others may only read is
/// closed (0700).
pub fn checked_private_dir(dir: &Path) -> io::Result<()> {
    if fs::symlink_metadata(dir).is_err() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)?;
    }
    let meta = fs::symlink_metadata(dir)?;
    let refuse = |why: String| {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{}: {why}; tgsess will not keep locks there", dir.display()),
        ))
    };
    if meta.file_type().is_symlink() {
        return refuse("is a symbolic link, not a folder".into());
    }
    if !meta.is_dir() {
        return refuse("is not a folder".into());
    }
    let uid = current_uid();
    if meta.uid() != uid {
        return refuse(format!(
            "belongs to user {}, not to you (user {uid})",
            meta.uid()
        ));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o022 != 0 {
        // Others could have planted files in it: nothing there can be trusted.
        return refuse(format!(
            "is open to other users (mode {mode:o}; it must be 700)"
        ));
    }
    if mode & 0o077 != 0 {
        // Ours and never writable by others: closing it is enough.
        fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_is_made_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        checked_private_dir(&dir).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }

    #[test]
    fn symlinks_and_open_folders_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        checked_private_dir(&real).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let err = checked_private_dir(&link).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        fs::set_permissions(&real, fs::Permissions::from_mode(0o755)).unwrap();
        checked_private_dir(&real).unwrap();
        assert_eq!(
            fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o700,
            "a folder of ours that others could only read is closed"
        );
        fs::set_permissions(&real, fs::Permissions::from_mode(0o777)).unwrap();
        let err = checked_private_dir(&real).unwrap_err();
        assert!(err.to_string().contains("open to other users"), "{err}");
        let file = tmp.path().join("file");
        fs::write(&file, b"").unwrap();
        assert!(checked_private_dir(&file).is_err());
    }

    #[test]
    fn a_folder_of_another_user_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        // As root, make a folder that belongs to "nobody"; otherwise /proc/1 is root's.
        let (dir, owner) = if current_uid() == 0 {
            let dir = tmp.path().join("theirs");
            fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
            std::os::unix::fs::chown(&dir, Some(65534), None).unwrap();
            (dir, 65534)
        } else {
            (PathBuf::from("/proc/1"), 0)
        };
        let err = checked_private_dir(&dir).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("belongs to user {owner}")),
            "{err}"
        );
    }
}
