//! Temp files and folders beside their target. A writer holds an flock on its temp file (or
//! temp folder) for as long as it writes, so any later tgsess run can tell a live writer's temp
//! (locked) from one left by a writer that died (unlocked) and remove the latter: it may hold a
//! whole auth key.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{DIR_MODE, FILE_MODE, crash_point, parent_of, sync_dir};

/// Hex digits of the random part of a temp name.
const RANDOM_HEX: usize = 12;
/// Files SQLite may keep beside a database (and so beside a temp file of an older tgsess).
const COMPANIONS: [&str; 3] = ["-journal", "-wal", "-shm"];

/// A locked temp file beside the final path; dropped without `commit`, it is removed.
pub struct TempTarget {
    temp: PathBuf,
    final_path: PathBuf,
    file: File,
    committed: bool,
}

impl TempTarget {
    /// Creates `.<name>.<random>.tmp` (0600, never following a link) and locks it.
    pub fn new(final_path: &Path) -> io::Result<Self> {
        for _ in 0..8 {
            let temp = temp_name(final_path)?;
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(FILE_MODE)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&temp)?;
            // A sweeper may take the lock between our create and our lock and remove the file:
            // then the name no longer leads to our file, and we start again.
            if fs4::fs_std::FileExt::try_lock_exclusive(&file)? && same_file(&temp, &file) {
                return Ok(Self {
                    temp,
                    final_path: final_path.to_path_buf(),
                    file,
                    committed: false,
                });
            }
        }
        Err(io::Error::other(
            "could not create a temp file (raced 8 times)",
        ))
    }

    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// fsyncs the temp file, sets 0600, renames it over the final path, fsyncs the folder.
    pub fn commit(mut self) -> io::Result<()> {
        self.file.sync_all()?;
        crash_point("before-rename");
        self.file
            .set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
        fs::rename(&self.temp, &self.final_path)?;
        self.committed = true;
        crash_point("after-rename");
        sync_dir(parent_of(&self.final_path))
    }
}

/// A temp file whose data is on disk ([`TempTarget::sync_data`]): the only kind that
/// [`Synced::rename`] publishes, so a name never leads to data that a crash could lose.
pub struct Synced(TempTarget);

impl TempTarget {
    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// Sets 0600 and asks the kernel to start writing the data out, without waiting: a batch
    /// calls this for each of its files before it waits for any ([`Self::sync_data`]), so
    /// their writes reach the disk together. Only a hint: a filesystem that refuses it is
    /// synced by `sync_data` all the same.
    pub fn start_writeback(&self) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        self.file
            .set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
        // SAFETY: a valid open descriptor; offset 0 and length 0 mean the whole file.
        unsafe {
            libc::sync_file_range(self.file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
        Ok(())
    }

    /// Waits until the file's data (and the size that finds it) is on disk.
    pub fn sync_data(self) -> io::Result<Synced> {
        self.file.sync_data()?;
        Ok(Synced(self))
    }
}

impl Synced {
    pub fn final_path(&self) -> &Path {
        &self.0.final_path
    }

    /// Renames the synced temp to its final name; with `no_replace`, an existing final name
    /// is an error (`AlreadyExists`) and stays. The folder is not synced here: a batch syncs
    /// it once after all its renames ([`super::sync_dir`]).
    pub fn rename(mut self, no_replace: bool) -> io::Result<PathBuf> {
        let temp = &self.0;
        if no_replace {
            super::rename_no_replace(&temp.temp, &temp.final_path)?;
        } else {
            fs::rename(&temp.temp, &temp.final_path)?;
        }
        self.0.committed = true;
        Ok(std::mem::take(&mut self.0.final_path))
    }
}

impl Drop for TempTarget {
    fn drop(&mut self) {
        if !self.committed {
            // Removed while still locked, so no sweeper can race us for it.
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// A fresh `.<name>.<random>.tmp` beside `final_path`.
fn temp_name(final_path: &Path) -> io::Result<PathBuf> {
    let name = final_path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?
        .to_string_lossy()
        .into_owned();
    let mut suffix = [0u8; RANDOM_HEX / 2];
    getrandom::fill(&mut suffix).map_err(io::Error::other)?;
    Ok(parent_of(final_path).join(format!(".{name}.{}.tmp", hex::encode(suffix))))
}

/// A locked 0700 temp folder beside the final path (a tdata folder being built). The lock is
/// an flock on the folder itself, held until drop, so a sweeper leaves a live writer's folder
/// alone. Dropped, it removes whatever its name then holds (the new folder, or the old one
/// after an exchange), still under the lock.
pub struct TempFolder {
    path: PathBuf,
    _lock: File,
    keep: bool,
}

impl TempFolder {
    pub fn new(final_path: &Path) -> io::Result<Self> {
        for _ in 0..8 {
            let path = temp_name(final_path)?;
            fs::DirBuilder::new().mode(DIR_MODE).create(&path)?;
            let lock = open_no_follow(&path)?;
            // As for files: a sweeper that took the lock first may have removed the folder.
            if fs4::fs_std::FileExt::try_lock_exclusive(&lock)? && same_file(&path, &lock) {
                return Ok(Self {
                    path,
                    _lock: lock,
                    keep: false,
                });
            }
        }
        Err(io::Error::other(
            "could not create a temp folder (raced 8 times)",
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The folder was renamed to its final name: nothing is left to remove.
    pub fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

fn open_no_follow(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

fn same_file(path: &Path, file: &File) -> bool {
    match (fs::symlink_metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Whether `file_name` is one of tgsess's temp files (`.<name>.<12 hex>.tmp`, possibly with a
/// SQLite companion suffix left by an older tgsess).
pub fn is_temp_name(file_name: &str) -> bool {
    let base = strip_companion(file_name);
    let Some(rest) = base.strip_prefix('.').and_then(|r| r.strip_suffix(".tmp")) else {
        return false;
    };
    let Some((name, random)) = rest.rsplit_once('.') else {
        return false;
    };
    !name.is_empty() && random.len() == RANDOM_HEX && random.bytes().all(|b| b.is_ascii_hexdigit())
}

fn strip_companion(file_name: &str) -> &str {
    COMPANIONS
        .iter()
        .find_map(|c| file_name.strip_suffix(c))
        .unwrap_or(file_name)
}

/// [`sweep_stale_temps`] the first time this process writes into `dir`. Leftovers of a dead
/// writer are there before we start, so one sweep per folder is enough for a writer; sweeping on
/// every write made a batch of N outputs read the growing folder N times. (Listing still sweeps
/// every time, so a long-running TUI picks up a later crash's leftovers on its next reload.)
pub fn sweep_stale_temps_once(dir: &Path) -> usize {
    static SWEPT: std::sync::Mutex<Option<std::collections::HashSet<std::path::PathBuf>>> =
        std::sync::Mutex::new(None);
    let first = SWEPT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(Default::default)
        .insert(dir.to_path_buf());
    if first { sweep_stale_temps(dir) } else { 0 }
}

/// Removes the temp files and temp folders in `dir` whose writer is gone (nobody holds their
/// lock), with any SQLite companions. Only entries owned by this user are touched, never
/// through a link. Best effort: returns how many entries it removed.
pub fn sweep_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_temp_name(n))
        .collect();
    sweep_temps_named(dir, &names)
}

/// [`sweep_stale_temps`] over temp names a caller's own read of `dir` found (a listing reads
/// the folder once, not once more for the sweep). Names that are not temp names are skipped.
pub fn sweep_temps_named(dir: &Path, names: &[String]) -> usize {
    if names.is_empty() {
        return 0;
    }
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let mut removed = 0;
    let mut companions = Vec::new();
    for name in names.iter().filter(|n| is_temp_name(n)) {
        let path = dir.join(name);
        if strip_companion(name) != name {
            companions.push(path);
            continue;
        }
        let Ok(file) = open_no_follow(&path) else {
            continue;
        };
        let Ok(meta) = file.metadata() else {
            continue;
        };
        let ours = (meta.is_file() || meta.is_dir()) && meta.uid() == uid;
        let writer_gone = ours && fs4::fs_std::FileExt::try_lock_exclusive(&file).unwrap_or(false);
        if !writer_gone || !same_file(&path, &file) {
            continue;
        }
        let gone = if meta.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        if gone.is_ok() {
            removed += 1;
        }
    }
    for path in companions {
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let base = path.with_file_name(strip_companion(file_name));
        if !base.exists() && fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_recognised() {
        assert!(is_temp_name(".a.session.0123456789ab.tmp"));
        assert!(is_temp_name(
            "..a.session.0123456789ab.tmp.abcdefabcdef.tmp"
        ));
        assert!(is_temp_name(".a.session.0123456789ab.tmp-journal"));
        for other in [
            "a.session",
            ".a.session",
            ".a.session.0123.tmp",
            ".0123456789ab.tmp",
            ".a.session.0123456789xz.tmp",
        ] {
            assert!(!is_temp_name(other), "{other}");
        }
    }

    #[test]
    fn sweeping_removes_dead_writers_temps_only() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.session");
        let live = TempTarget::new(&target).unwrap();
        // What a killed writer leaves: a temp file nobody holds, and a companion of one.
        let dead = dir.path().join(".a.session.00112233aabb.tmp");
        fs::write(&dead, b"key").unwrap();
        let dead_journal = dir.path().join(".b.session.00112233aabb.tmp-journal");
        fs::write(&dead_journal, b"key").unwrap();
        let user_file = dir.path().join("b.session");
        fs::write(&user_file, b"mine").unwrap();
        assert_eq!(sweep_stale_temps(dir.path()), 2);
        assert!(!dead.exists() && !dead_journal.exists());
        assert!(live.temp_path().exists(), "a live writer's temp stays");
        assert!(user_file.exists());
        drop(live);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_writer_sweeps_each_folder_once() {
        let dir = tempfile::tempdir().unwrap();
        let dead = dir.path().join(".a.session.00112233aabb.tmp");
        fs::write(&dead, b"key").unwrap();
        assert_eq!(sweep_stale_temps_once(dir.path()), 1);
        assert!(!dead.exists());
        // A second write into the same folder does not read it again...
        fs::write(&dead, b"key").unwrap();
        assert_eq!(sweep_stale_temps_once(dir.path()), 0);
        // ...but listing (the full sweep) still removes what a later crash left.
        assert_eq!(sweep_stale_temps(dir.path()), 1);
    }

    #[test]
    fn sweeping_removes_dead_writers_temp_folders_only() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("tdata");
        let live = TempFolder::new(&target).unwrap();
        fs::write(live.path().join("key_datas"), b"key").unwrap();
        // A killed writer's folder: the temp name, a file inside, nobody holding it.
        let dead = dir.path().join(".tdata.00112233aabb.tmp");
        fs::create_dir(&dead).unwrap();
        fs::write(dead.join("key_datas"), b"key").unwrap();
        // A user's folder that merely looks alike is not ours to judge by name alone: it has
        // no temp name, so it stays.
        let user = dir.path().join("tdata.bak");
        fs::create_dir(&user).unwrap();
        assert_eq!(sweep_stale_temps(dir.path()), 1);
        assert!(!dead.exists());
        assert!(
            live.path().join("key_datas").exists(),
            "a live writer's folder stays"
        );
        assert!(user.exists());
        drop(live);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_kept_temp_folder_is_not_removed() {
        let dir = tempfile::tempdir().unwrap();
        let live = TempFolder::new(&dir.path().join("tdata")).unwrap();
        let moved = dir.path().join("tdata");
        fs::rename(live.path(), &moved).unwrap();
        live.keep();
        assert!(moved.is_dir());
    }
}
