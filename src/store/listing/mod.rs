//! The fast listing of a session folder, for `tgsess list` and the TUI.
//!
//! [`scan`] hands over the folder's rows in order (sorted by name, tdata accounts merged in),
//! in batches as soon as each is ready, while worker threads read the rest:
//!
//! ```no_run
//! # use tgsess::store::{dir::SessionDir, listing};
//! let dir = SessionDir::new("/path/to/sessions");
//! listing::scan(&dir, |rows| {
//!     for row in rows {
//!         println!("{}", row.name);
//!     }
//!     std::ops::ControlFlow::Continue(())
//! })
//! .unwrap();
//! ```
//!
//! Each row is a compact [`Summary`] (what `inspect` shows, the key only as its id). A file is
//! opened once by tgsess to check its header and once by SQLite, which reads it inside one
//! read transaction; a file with a `-journal` or `-wal` beside it, in WAL mode, or that the
//! fast read cannot take, goes the full way of [`crate::store::read_file`] (its private
//! recovery copy, see [`crate::store::sqlite_read`]), so rows and errors are exactly those of
//! `read_file`.
//!
//! What each file showed is kept in the user's cache folder (see [`cache`]), so a warm listing
//! only stats the files. Nothing is ever written into the session folder.

pub mod cache;
mod json;
mod read;

use std::collections::{BTreeMap, HashSet};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

pub use json::JsonArray;

use super::dir::{SessionDir, scan_folder_with, tdata_listings_of};
use super::{BackendKind, Format, Loaded};

/// Rows handed to the caller at a time (the first ones show while the rest are read).
const BATCH: usize = 256;
/// From this size on, the cache is parsed on a thread of its own while the folder is read.
const PARALLEL_CACHE_BYTES: usize = 256 * 1024;
/// Below this many files the listing runs on the calling thread.
const PARALLEL_FROM: usize = 64;

/// One row of the listing.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub name: String,
    pub path: PathBuf,
    /// From the file's extension (`.session` is sqlite), or folder for tdata.
    pub backend: BackendKind,
    /// What the file holds, or why it could not be read.
    pub info: Result<Info, String>,
}

/// `inspect`'s fields of one session, without any key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Info {
    pub format: Format,
    pub dc_id: i32,
    pub dcs: Vec<DcInfo>,
    pub user_id: Option<i64>,
    pub is_bot: Option<bool>,
    pub api_id: Option<i32>,
    pub test_mode: Option<bool>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub phone: Option<String>,
    /// Whether group or others may read the file (`None` for a tdata folder: not checked).
    pub readable_by_others: Option<bool>,
}

/// One datacenter of a session: its address and the id of the key held for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DcInfo {
    pub id: i32,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
    pub port: Option<u16>,
    pub key_id: Option<[u8; 8]>,
}

impl Info {
    pub fn from_loaded(loaded: &Loaded, readable_by_others: Option<bool>) -> Self {
        let s = &loaded.session;
        let user = s.user.clone().unwrap_or_default();
        Info {
            format: loaded.format,
            dc_id: s.dc_id,
            dcs: s
                .dcs
                .iter()
                .map(|d| DcInfo {
                    id: d.id,
                    ipv4: d.ipv4,
                    ipv6: d.ipv6,
                    port: d.port,
                    key_id: d.auth_key.as_ref().map(|k| k.key_id()),
                })
                .collect(),
            user_id: s.user_id,
            is_bot: s.is_bot,
            api_id: s.api_id,
            test_mode: s.test_mode,
            first_name: user.first_name,
            last_name: user.last_name,
            username: user.username,
            phone: user.phone,
            readable_by_others,
        }
    }

    /// The home datacenter.
    pub fn home(&self) -> Option<&DcInfo> {
        self.dcs.iter().find(|d| d.id == self.dc_id)
    }

    /// The home address as a single text column holds it (IPv4 preferred).
    pub fn server_address(&self) -> Option<String> {
        let home = self.home()?;
        home.ipv4
            .map(|a| a.to_string())
            .or_else(|| home.ipv6.map(|a| a.to_string()))
    }

    pub fn port(&self) -> Option<u16> {
        self.home().and_then(|h| h.port)
    }

    /// The id of the session's key (the home DC's), in hex.
    pub fn auth_key_id_hex(&self) -> Option<String> {
        self.home().and_then(|h| h.key_id).map(hex::encode)
    }
}

/// Every row of the folder, in order. Uses and refreshes the listing cache.
pub fn list(dir: &SessionDir) -> super::Result<Vec<Summary>> {
    let mut rows = Vec::new();
    scan(dir, |batch| {
        rows.extend_from_slice(batch);
        ControlFlow::Continue(())
    })?;
    Ok(rows)
}

/// Hands the folder's rows to `on_batch` in order, a batch at a time, on the calling thread;
/// `on_batch` may stop the listing early (the cache is then left as it was). Uses the cache
/// in the user's cache folder ([`cache::location`]); without one, every file is read.
pub fn scan(
    dir: &SessionDir,
    on_batch: impl FnMut(&[Summary]) -> ControlFlow<()>,
) -> super::Result<()> {
    let cache_path = cache::location(dir.root());
    scan_with(dir, cache_path.as_deref(), cache::now_ns(), on_batch)
}

/// What the folder's directory scan found, before any file is read: how many rows to expect
/// (files and tdata accounts; a `.txt` that holds no session gives none), and which entries
/// have a `-journal` or `-wal` beside them (the TUI shows those as in use).
#[derive(Debug)]
pub struct Scanned<'a> {
    pub rows: usize,
    pub logged: &'a HashSet<String>,
}

impl Scanned<'_> {
    /// Whether the file at `path` has a journal or WAL beside it (no syscall: from the scan).
    pub fn is_logged(&self, path: &Path) -> bool {
        !self.logged.is_empty()
            && path
                .file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| self.logged.contains(f))
    }
}

/// [`scan_cached`] for a caller that sorts rows itself (the TUI), first telling `on_scanned`
/// what the directory scan found (it may stop the listing there): in a big folder, the
/// first [`BATCH`] files the folder's read finds are read and handed over at once, out of
/// order and before `on_scanned`, while the rest of the folder is still being read; the other
/// rows follow in order. A batch may come before `on_scanned`, so `Scanned` is not there for
/// those rows yet.
pub fn scan_early(
    dir: &SessionDir,
    cache_path: Option<&Path>,
    on_scanned: impl FnOnce(&Scanned) -> ControlFlow<()>,
    on_batch: impl FnMut(&[Summary]) -> ControlFlow<()>,
) -> super::Result<()> {
    scan_inner(dir, cache_path, cache::now_ns(), true, on_scanned, on_batch)
}

/// [`scan`] with the cache file chosen by the caller (`None`: no cache, every file is read).
pub fn scan_cached(
    dir: &SessionDir,
    cache_path: Option<&Path>,
    on_batch: impl FnMut(&[Summary]) -> ControlFlow<()>,
) -> super::Result<()> {
    scan_with(dir, cache_path, cache::now_ns(), on_batch)
}

/// What one batch of workers' reading gives: its rows and their cache records.
struct BatchOut {
    rows: Vec<Summary>,
    records: Vec<u8>,
    /// Files that were read (not served from the cache).
    read: usize,
    /// Files with no cache record (they could not be stat'ed at all).
    unrecorded: usize,
}

/// [`scan`] with the cache file and the clock passed in (tests step past the racy window).
pub(crate) fn scan_with(
    dir: &SessionDir,
    cache_path: Option<&Path>,
    now_ns: i128,
    on_batch: impl FnMut(&[Summary]) -> ControlFlow<()>,
) -> super::Result<()> {
    scan_inner(
        dir,
        cache_path,
        now_ns,
        false,
        |_| ControlFlow::Continue(()),
        on_batch,
    )
}

fn scan_inner(
    dir: &SessionDir,
    cache_path: Option<&Path>,
    now_ns: i128,
    early_rows: bool,
    on_scanned: impl FnOnce(&Scanned) -> ControlFlow<()>,
    mut on_batch: impl FnMut(&[Summary]) -> ControlFlow<()>,
) -> super::Result<()> {
    // The folder as its cache names it (however `--dir` spells it).
    let identity = std::fs::canonicalize(dir.root()).unwrap_or_else(|_| dir.root().into());
    let bytes = cache_path.and_then(cache::load_bytes);
    fn parse<'b>(b: &'b [u8], identity: &Path) -> cache::Cache<'b> {
        cache::Cache::parse(b, identity).unwrap_or_default()
    }
    // The first files of a big folder, read without the cache (it is still being parsed)
    // while the folder is read, when the caller wants rows at once.
    let mut early: Option<(BatchOut, Vec<PathBuf>)> = None;
    let mut early_stop = false;
    let mut read_early = |files: &[super::dir::ListableFile]| {
        let none = cache::Cache::default();
        let mut out = BatchOut {
            rows: Vec::with_capacity(files.len()),
            records: Vec::new(),
            read: 0,
            unrecorded: 0,
        };
        for (name, ext, path) in files {
            // The folder's journals are not all known yet: this file's are looked for.
            let has_log = super::sqlite_read::has_log(path);
            read::one(name, ext, path, has_log, &none, &mut out);
        }
        early_stop = !out.rows.is_empty() && on_batch(&out.rows).is_break();
        early = Some((out, files.iter().map(|f| f.2.clone()).collect::<Vec<_>>()));
    };
    let early_at = if early_rows { BATCH } else { usize::MAX };
    let mut scan_folder = |root: &Path| scan_folder_with(root, early_at, &mut read_early);
    // A big cache is parsed while the folder is read: both stand before the first row.
    let (scan, old) = match bytes.as_deref() {
        Some(b) if b.len() >= PARALLEL_CACHE_BYTES => std::thread::scope(|s| {
            let parsed = s.spawn(|| parse(b, &identity));
            let scan = scan_folder(dir.root());
            (scan, parsed.join().unwrap_or_default())
        }),
        Some(b) => (scan_folder(dir.root()), parse(b, &identity)),
        None => (scan_folder(dir.root()), cache::Cache::default()),
    };
    let scan = scan?;
    if early_stop {
        return Ok(());
    }
    // Early files are not read again; their records count as a change only if they differ
    // from what the cache held.
    let mut early_paths = std::collections::HashSet::new();
    let early = early.map(|(mut out, paths)| {
        early_paths.extend(paths);
        out.read = cache::named_records(&out.records)
            .filter(|(name, raw)| old.get(name).is_none_or(|hit| hit.raw() != *raw))
            .count();
        out.rows.clear();
        out
    });
    let files = &scan.files;
    let scanned = Scanned {
        rows: files.len(),
        logged: &scan.logged,
    };
    let logged = |path: &Path| scanned.is_logged(path);
    let mut tdata: Vec<Summary> = tdata_listings_of(dir.root(), &scan.folders)
        .into_iter()
        .map(|l| Summary {
            name: l.name,
            path: l.path,
            backend: l.backend,
            info: l
                .result
                .map(|loaded| Info::from_loaded(&loaded, None))
                .map_err(|e| e.to_string()),
        })
        .collect();
    tdata.sort_by(|a, b| a.name.cmp(&b.name));
    let scanned = Scanned {
        rows: files.len() + tdata.len(),
        ..scanned
    };
    if on_scanned(&scanned).is_break() {
        return Ok(());
    }
    let mut tdata = tdata.into_iter().peekable();

    let batches = files.len().div_ceil(BATCH);
    let work = |b: usize| {
        let range = b * BATCH..((b + 1) * BATCH).min(files.len());
        let mut out = BatchOut {
            rows: Vec::with_capacity(range.len()),
            records: Vec::new(),
            read: 0,
            unrecorded: 0,
        };
        for i in range {
            let (name, ext, path) = &files[i];
            if !early_paths.is_empty() && early_paths.contains(path) {
                continue;
            }
            read::one(name, ext, path, logged(path), &old, &mut out);
        }
        out
    };

    let (mut records, mut read, mut unrecorded) = match early {
        Some(out) => (out.records, out.read, out.unrecorded),
        None => (Vec::new(), 0, 0),
    };
    // Hands one batch on; true when the caller stops.
    let mut emit = |out: BatchOut, on_batch: &mut dyn FnMut(&[Summary]) -> ControlFlow<()>| {
        read += out.read;
        unrecorded += out.unrecorded;
        records.extend_from_slice(&out.records);
        // tdata rows go before the first file row that sorts after them.
        let mut merged = Vec::with_capacity(out.rows.len());
        for row in out.rows {
            while let Some(t) = tdata.next_if(|t| t.name < row.name) {
                merged.push(t);
            }
            merged.push(row);
        }
        !merged.is_empty() && on_batch(&merged).is_break()
    };
    let mut stopped = false;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if files.len() < PARALLEL_FROM || threads == 1 {
        for b in 0..batches {
            if emit(work(b), &mut on_batch) {
                stopped = true;
                break;
            }
        }
    } else {
        let next = AtomicUsize::new(0);
        let (tx, rx) = mpsc::channel::<(usize, BatchOut)>();
        std::thread::scope(|scope| {
            for _ in 0..threads.min(batches) {
                let tx = tx.clone();
                let (next, work) = (&next, &work);
                scope.spawn(move || {
                    loop {
                        let b = next.fetch_add(1, Ordering::Relaxed);
                        // A closed channel means the caller stopped: no more reading.
                        if b >= batches || tx.send((b, work(b))).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            // Batches finish out of order; they are handed on in order.
            let mut pending = BTreeMap::new();
            let mut due = 0;
            for (b, out) in rx.iter() {
                pending.insert(b, out);
                while !stopped && let Some(out) = pending.remove(&due) {
                    stopped = emit(out, &mut on_batch);
                    due += 1;
                }
                if stopped {
                    next.store(batches, Ordering::Relaxed);
                    break;
                }
            }
        });
    }
    if stopped {
        return Ok(());
    }
    let rest: Vec<Summary> = tdata.collect();
    if !rest.is_empty() && on_batch(&rest).is_break() {
        return Ok(());
    }
    let unchanged = read == 0 && files.len() - unrecorded == old.len();
    if let Some(path) = cache_path
        && !unchanged
    {
        // Best effort: a listing works without a cache.
        let _ = cache::save(path, &identity, now_ns, &records);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
