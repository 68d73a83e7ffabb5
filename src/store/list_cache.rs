//! Fast listing for `tgsess list`: what each file showed last time is kept in a hidden cache
//! file in the directory, keyed by the file's identity and change time, so a warm listing of
//! 1,000 files only stats them. The cache holds `inspect`'s fields (key id only, never a key).
//!
//! A file whose change time is within the last seconds is re-read every time ("racily clean",
//! as git calls it): file systems stamp times with a coarse clock, so a second write in the same
//! tick would otherwise go unseen.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::dir::{SessionDir, listable_files};
use super::format::BackendKind;
use super::{inspect, read_file};
use crate::fsutil;

pub const CACHE_FILE: &str = ".tgsess-list-cache.json";
const CACHE_VERSION: u32 = 2;
/// Entries changed more recently than this are not trusted from the cache.
const RACY_WINDOW_NS: i128 = 3_000_000_000;

/// One row of `tgsess list`.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub name: String,
    pub path: PathBuf,
    pub backend: BackendKind,
    /// `inspect`'s fields without the key, or the reason the file could not be read.
    pub info: Result<Value, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Fingerprint {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Entry {
    fingerprint: Fingerprint,
    /// `None` for a `.txt` file that holds no session (skipped, but remembered).
    info: Option<Result<Value, String>>,
}

#[derive(Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    entries: HashMap<String, Entry>,
}

fn fingerprint(meta: &fs::Metadata) -> Fingerprint {
    Fingerprint {
        dev: meta.dev(),
        ino: meta.ino(),
        size: meta.size(),
        mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
        ctime_ns: meta.ctime() as i128 * 1_000_000_000 + meta.ctime_nsec() as i128,
    }
}

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

fn load(path: &Path) -> CacheFile {
    fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<CacheFile>(&bytes).ok())
        .filter(|c| c.version == CACHE_VERSION)
        .unwrap_or_default()
}

fn describe(path: &Path, ext: &str) -> Option<Result<Value, String>> {
    match read_file(path) {
        Ok(loaded) => Some(Ok(inspect::file_json(path, &loaded, false))),
        // A .txt file is a session only if it holds one recognised string.
        Err(_) if ext == "txt" => None,
        Err(e) => Some(Err(e.to_string())),
    }
}

/// Lists the directory like [`SessionDir::list`], reading only files that changed since the
/// last listing. Saving the cache is best effort (a read-only folder still lists).
pub fn list(dir: &SessionDir) -> super::Result<Vec<Row>> {
    list_at(dir, now_ns())
}

/// [`list`] with the clock passed in, so tests can step past the racy window.
fn list_at(dir: &SessionDir, now: i128) -> super::Result<Vec<Row>> {
    let files = listable_files(dir.root())?;
    let cache_path = dir.root().join(CACHE_FILE);
    let cache = load(&cache_path);
    let mut fresh = CacheFile {
        version: CACHE_VERSION,
        entries: HashMap::with_capacity(files.len()),
    };
    let mut changed = cache.entries.len() != files.len();
    let mut to_read = Vec::new();
    for (index, (_, ext, path)) in files.iter().enumerate() {
        // Stat before reading, so a write during the read shows up as a change next time.
        // A dangling or looping link has no target to stat: its own entry stands in, and
        // reading it gives the row its error.
        let Ok(meta) = fs::metadata(path).or_else(|_| fs::symlink_metadata(path)) else {
            continue;
        };
        let fp = fingerprint(&meta);
        let key = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        match cache.entries.get(&key) {
            Some(hit) if hit.fingerprint == fp && now - fp.ctime_ns > RACY_WINDOW_NS => {
                fresh.entries.insert(key, hit.clone());
            }
            _ => {
                changed = true;
                to_read.push((index, key, fp, *ext));
            }
        }
    }
    // Changed files are read in parallel: SQLite parsing dominates a cold listing.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let chunk = to_read.len().div_ceil(threads).max(32);
    let read: Vec<(String, Entry)> = std::thread::scope(|scope| {
        let workers: Vec<_> = to_read
            .chunks(chunk.max(1))
            .map(|part| {
                let files = &files;
                scope.spawn(move || {
                    part.iter()
                        .map(|(index, key, fp, ext)| {
                            let info = describe(&files[*index].2, ext);
                            (
                                key.clone(),
                                Entry {
                                    fingerprint: fp.clone(),
                                    info,
                                },
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("reader thread panicked"))
            .collect()
    });
    fresh.entries.extend(read);
    if changed && let Ok(bytes) = serde_json::to_vec(&fresh) {
        let _ = fsutil::write_atomic(&cache_path, &bytes);
    }
    let mut rows = Vec::with_capacity(files.len());
    for (name, ext, path) in files {
        let key = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(Entry {
            info: Some(info), ..
        }) = fresh.entries.remove(&key)
        else {
            continue;
        };
        let backend = if ext == "session" {
            BackendKind::Sqlite
        } else {
            BackendKind::String
        };
        rows.push(Row {
            name,
            path,
            backend,
            info,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::AuthKey;
    use crate::store::{Format, Session, write_file};

    fn session(user: i64, key: u8) -> Session {
        let mut s = Session::new(2);
        s.user_id = Some(user);
        let h = s.home_mut();
        h.ipv4 = Some("127.0.0.1".parse().unwrap());
        h.port = Some(1);
        h.auth_key = Some(AuthKey::new([key; 256]));
        s
    }

    #[test]
    fn cached_listing_matches_a_fresh_one_and_sees_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = SessionDir::new(tmp.path());
        let a = tmp.path().join("a.session");
        write_file(&a, &session(1, 1), Format::TelethonSqlite(7)).unwrap();
        write_file(
            &tmp.path().join("b.string"),
            &session(2, 2),
            Format::TgsessString,
        )
        .unwrap();
        let first = list(&dir).unwrap();
        assert_eq!(first.len(), 2);
        assert_eq!(first[0].info.as_ref().unwrap()["user_id"], 1);
        assert!(tmp.path().join(CACHE_FILE).exists());
        let text = fs::read_to_string(tmp.path().join(CACHE_FILE)).unwrap();
        assert!(
            !text.contains(&hex::encode([1u8; 32])),
            "the cache holds no key"
        );
        // A change is seen even within the racy window (same size, new content).
        write_file(&a, &session(7, 1), Format::TelethonSqlite(7)).unwrap();
        let second = list(&dir).unwrap();
        assert_eq!(second[0].info.as_ref().unwrap()["user_id"], 7);
        // Removing a file removes its row; a broken cache is ignored.
        fs::remove_file(&a).unwrap();
        fs::write(tmp.path().join(CACHE_FILE), b"{garbage").unwrap();
        let third = list(&dir).unwrap();
        assert_eq!(third.len(), 1);
        assert_eq!(third[0].name, "b");
    }

    #[test]
    fn trusted_entries_come_from_the_cache_and_racy_ones_are_reread() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = SessionDir::new(tmp.path());
        write_file(
            &tmp.path().join("a.session"),
            &session(1, 1),
            Format::TelethonSqlite(7),
        )
        .unwrap();
        list(&dir).unwrap();
        // Plant a marker in the cached row: only a row served from the cache shows it.
        let cache_path = tmp.path().join(CACHE_FILE);
        let mut cache = load(&cache_path);
        cache.entries.get_mut("a.session").unwrap().info =
            Some(Ok(serde_json::json!({"user_id": 99})));
        fs::write(&cache_path, serde_json::to_vec(&cache).unwrap()).unwrap();
        // Just written: inside the racy window, so the file is read again.
        let now = list_at(&dir, now_ns()).unwrap();
        assert_eq!(now[0].info.as_ref().unwrap()["user_id"], 1);
        fs::write(&cache_path, serde_json::to_vec(&cache).unwrap()).unwrap();
        // Ten seconds later the unchanged file is trusted from the cache.
        let later = list_at(&dir, now_ns() + 10 * RACY_WINDOW_NS).unwrap();
        assert_eq!(later[0].info.as_ref().unwrap()["user_id"], 99);
    }
}
