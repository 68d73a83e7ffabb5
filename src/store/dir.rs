//! The session directory: listing every session in it, naming, trash and permissions.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::error::{Result, StoreError};
use super::format::{BackendKind, Format};
use super::{Loaded, read_file, tdata};
use crate::fsutil;

pub const TRASH: &str = ".trash";
const EXTENSIONS: [&str; 3] = ["session", "string", "txt"];

/// One file of the directory: its session, or why it could not be read.
#[derive(Debug)]
pub struct Listed {
    pub name: String,
    pub path: PathBuf,
    pub backend: BackendKind,
    pub result: Result<Loaded>,
}

#[derive(Clone, Debug)]
pub struct SessionDir {
    root: PathBuf,
}

impl SessionDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `--dir`, then `TGSESS_DIR`, then the platform data dir (`~/.local/share/tgsess`).
    pub fn resolve(flag: Option<&Path>) -> Self {
        if let Some(p) = flag {
            return Self::new(p);
        }
        if let Some(p) = std::env::var_os("TGSESS_DIR").filter(|p| !p.is_empty()) {
            return Self::new(PathBuf::from(p));
        }
        let default = directories::ProjectDirs::from("", "", "tgsess")
            .map(|d| d.data_dir().to_path_buf())
            .unwrap_or_else(|| PathBuf::from(".tgsess"));
        Self::new(default)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates the directory (0700) if needed.
    pub fn ensure(&self) -> Result<()> {
        fsutil::ensure_private_dir(&self.root).map_err(|e| StoreError::io(&self.root, e))
    }

    /// Every session file, sorted by name. Unreadable files are listed with their error.
    /// A missing directory lists as empty.
    pub fn list(&self) -> Result<Vec<Listed>> {
        let candidates = listable_files(&self.root)?;
        // Reading is per-file I/O plus SQLite parsing: spread it over the cores.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        let chunk = candidates.len().div_ceil(threads).max(64);
        let results: Vec<Option<Listed>> = std::thread::scope(|scope| {
            let workers: Vec<_> = candidates
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || part.iter().map(read_candidate).collect::<Vec<_>>())
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("reader thread panicked"))
                .collect()
        });
        let mut listed: Vec<Listed> = results.into_iter().flatten().collect();
        listed.extend(tdata_listings(&self.root));
        listed.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(listed)
    }

    /// The file of an existing session called `name` (a tdata folder's accounts are `name`
    /// and `name#2`...).
    pub fn find(&self, name: &str) -> Result<PathBuf> {
        validate_name(name)?;
        let folder = name.rsplit_once('#').map_or(name, |(f, _)| f);
        if tdata::is_tdata_folder(&self.root.join(folder)) {
            return Ok(self.root.join(name));
        }
        for ext in EXTENSIONS {
            let p = self.root.join(format!("{name}.{ext}"));
            if p.is_file() {
                return Ok(p);
            }
        }
        Err(StoreError::NotFound(format!(
            "no session named '{name}' in {} (see `tgsess list`)",
            self.root.display()
        )))
    }

    /// Where a new session `name` in `format` goes; fails if the name is taken.
    pub fn new_path(&self, name: &str, format: Format) -> Result<PathBuf> {
        validate_name(name)?;
        if let Ok(existing) = self.find(name) {
            return Err(StoreError::AlreadyExists(format!(
                "a session named '{name}' already exists ({}); choose another name or `tgsess rm {name}` first",
                existing.display()
            )));
        }
        let ext = match format.backend() {
            BackendKind::Sqlite => "session",
            BackendKind::Folder => return Ok(self.root.join(name)),
            _ => "string",
        };
        Ok(self.root.join(format!("{name}.{ext}")))
    }

    /// Moves a session file into `.trash/` (never deletes a credential outright).
    pub fn trash(&self, name: &str) -> Result<PathBuf> {
        let path = self.find(name)?;
        let trash = self.root.join(TRASH);
        fsutil::ensure_private_dir(&trash).map_err(|e| StoreError::io(&trash, e))?;
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let file = path.file_name().and_then(OsStr::to_str).unwrap_or(name);
        let dest = trash.join(format!("{stamp}-{file}"));
        // Its journal is folded in first: left behind, it would meet the next file of the name.
        super::sqlite_write::settle_companions(&path)?;
        fs::rename(&path, &dest).map_err(|e| StoreError::io(&path, e))?;
        fsutil::crash_point("trashed");
        Ok(dest)
    }
}

/// What one look at a session folder finds (one directory listing, no stat but for links).
#[derive(Debug, Default)]
pub struct FolderScan {
    /// As [`listable_files`].
    pub files: Vec<ListableFile>,
    /// Names of the entries that have a non-empty or empty `-journal` or `-wal` beside them.
    pub logged: HashSet<String>,
    /// Entries that may be tdata folders: visible folders and links (see [`tdata_listings_of`]).
    pub folders: Vec<PathBuf>,
}

/// The entries of `root` that may be sessions, as (name, extension, path), sorted by name:
/// every `*.session` and `*.string` whatever it is (a folder, a FIFO, a dangling link gets its
/// row and its error), and regular `*.txt` files. A missing directory has none. Temp files of
/// writers that died are removed on the way (they may hold a whole key).
pub fn listable_files(root: &Path) -> Result<Vec<(String, &'static str, PathBuf)>> {
    Ok(scan_folder(root)?.files)
}

/// One file that may be a session: (name, extension, path).
pub type ListableFile = (String, &'static str, PathBuf);

/// [`listable_files`], the logs beside them and the possible tdata folders, from one listing.
pub fn scan_folder(root: &Path) -> Result<FolderScan> {
    scan_folder_with(root, usize::MAX, &mut |_| {})
}

/// [`scan_folder`] that hands the first `early_at` listable files to `early` as soon as the
/// folder's read has found them (in the folder's order, before anything is sorted), so a
/// caller can read them while the rest of a big folder is still being read.
pub fn scan_folder_with(
    root: &Path,
    early_at: usize,
    early: &mut dyn FnMut(&[ListableFile]),
) -> Result<FolderScan> {
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FolderScan::default()),
        Err(e) => return Err(StoreError::io(root, e)),
    };
    let mut scan = FolderScan::default();
    // Dead writers' temps, swept once the folder is read (no second read of it for them).
    let mut temps = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io(root, e))?;
        let path = entry.path();
        // d_type answers without a stat; only links need one.
        let kind = entry.file_type().ok();
        if let Some(file) = path.file_name().and_then(OsStr::to_str) {
            if fsutil::is_temp_name(file) {
                temps.push(file.to_string());
            }
            if let Some(base) = file
                .strip_suffix("-journal")
                .or_else(|| file.strip_suffix("-wal"))
            {
                scan.logged.insert(base.to_string());
            }
            if !file.starts_with('.') && kind.is_none_or(|t| t.is_dir() || t.is_symlink()) {
                scan.folders.push(path.clone());
            }
        }
        if let Some((name, ext)) = split_name(&path) {
            // A .txt file is a session only if it holds one; anything but a file is not.
            let listed = ext != "txt"
                || match kind {
                    Some(t) if t.is_symlink() => path.is_file(),
                    Some(t) => t.is_file(),
                    None => false,
                };
            if listed {
                scan.files.push((name, ext, path));
                if scan.files.len() == early_at {
                    early(&scan.files);
                }
            }
        }
    }
    fsutil::sweep_temps_named(root, &temps);
    scan.files.sort();
    Ok(scan)
}

/// Reads one candidate of [`listable_files`] (`None`: a `.txt` file that holds no session).
pub(crate) fn read_candidate(
    (name, ext, path): &(String, &'static str, PathBuf),
) -> Option<Listed> {
    let backend = if *ext == "session" {
        BackendKind::Sqlite
    } else {
        BackendKind::String
    };
    let result = read_file(path);
    // A .txt file is a session only if it holds one recognised string.
    if *ext == "txt" && result.is_err() {
        return None;
    }
    Some(Listed {
        name: name.clone(),
        path: path.clone(),
        backend,
        result,
    })
}

/// One row per account of each tdata folder directly inside `root` (`NAME`, `NAME#2`...), or
/// one row with the reason the folder cannot be read (for example its local passcode).
/// Folders are never cached: their files change in place.
pub fn tdata_listings(root: &Path) -> Vec<Listed> {
    match scan_folder(root) {
        Ok(scan) => tdata_listings_of(root, &scan.folders),
        Err(_) => Vec::new(),
    }
}

/// [`tdata_listings`] of the entries a [`FolderScan`] found.
pub fn tdata_listings_of(root: &Path, folders: &[PathBuf]) -> Vec<Listed> {
    let mut out = Vec::new();
    for path in folders {
        let Some(name) = path.file_name().and_then(OsStr::to_str).map(str::to_string) else {
            continue;
        };
        if !path.is_dir() || !tdata::is_tdata_folder(path) {
            continue;
        }
        let listed = |name: String, path: PathBuf, result| Listed {
            name,
            path,
            backend: BackendKind::Folder,
            result,
        };
        match tdata::read_folder(path, b"") {
            Ok(accounts) => {
                for (i, account) in accounts.into_iter().enumerate() {
                    let (name, path) = if i == 0 {
                        (name.clone(), path.clone())
                    } else {
                        let tagged = format!("{name}#{}", i + 1);
                        (tagged.clone(), root.join(tagged))
                    };
                    let loaded = Loaded {
                        format: Format::Tdata,
                        session: account.session,
                    };
                    out.push(listed(name, path, Ok(loaded)));
                }
            }
            Err(e) => out.push(listed(name, path.clone(), Err(e))),
        }
    }
    out
}

/// `name` and extension of a listable file; hidden files and other extensions are skipped.
pub(crate) fn split_name(path: &Path) -> Option<(String, &'static str)> {
    let file = path.file_name()?.to_str()?;
    if file.starts_with('.') {
        return None;
    }
    let ext = path.extension()?.to_str()?;
    let ext = EXTENSIONS.into_iter().find(|e| *e == ext)?;
    let stem = path.file_stem()?.to_str()?.to_string();
    Some((stem, ext))
}

/// A session name is one plain file name: no separators, no leading dot, no control characters.
pub fn validate_name(name: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(StoreError::BadName(format!(
            "invalid session name '{}': {why}",
            name.escape_debug()
        )))
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.len() > 200 {
        return bad("it is longer than 200 bytes");
    }
    if name.contains('/') || name.contains('\\') {
        return bad("it contains a path separator");
    }
    if name.starts_with('.') {
        return bad("it starts with a dot");
    }
    if name.chars().any(char::is_control) {
        return bad("it contains control characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(validate_name("alice").is_ok());
        assert!(validate_name("ä 🚀").is_ok());
        for bad in ["", "a/b", "..", ".hidden", "a\\b", "a\nb"] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }
}
