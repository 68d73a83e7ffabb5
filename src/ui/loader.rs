//! Where the list's rows come from: a [`RowSource`] reads them off the UI thread and hands
//! them over in batches as they are read, so the first rows show at once and keys stay
//! responsive while the rest load. The app's source is the folder's cached listing
//! (`store::listing`, the same rows as `tgsess list`): a warm listing only stats the files.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::state::SessionRow;
use crate::store::dir::SessionDir;
use crate::store::listing;

/// What a source yields: the expected number of rows (once, first), then rows.
#[derive(Debug)]
pub enum LoadEvent {
    Total(usize),
    Rows(Vec<SessionRow>),
}

/// A source of list rows. `emit` returns `false` when nobody wants the rest (a newer load
/// started, or the app quit): the source should stop reading then.
pub trait RowSource: Send + Sync {
    fn load(&self, dir: &SessionDir, emit: &mut dyn FnMut(LoadEvent) -> bool)
    -> Result<(), String>;
}

/// The folder's listing (`store::listing::scan`): rows in name order, a batch at a time,
/// each file read only when the cache cannot vouch for it. Whether a file is in use comes
/// from the listing's own scan, its mode from the read: no more syscalls per row.
pub struct CachedListing {
    cache: CacheAt,
}

enum CacheAt {
    /// The user's cache folder, as `tgsess list` (the app).
    User,
    /// A cache file chosen by the caller (`None`: none, every file is read).
    File(Option<PathBuf>),
}

impl CachedListing {
    /// Cached in the user's cache folder, shared with `tgsess list`.
    pub fn user_cache() -> CachedListing {
        CachedListing {
            cache: CacheAt::User,
        }
    }

    /// Cached in `file` (`None`: no cache; in-process tests leave the user's cache alone).
    pub fn at(file: Option<PathBuf>) -> CachedListing {
        CachedListing {
            cache: CacheAt::File(file),
        }
    }
}

impl RowSource for CachedListing {
    fn load(
        &self,
        dir: &SessionDir,
        emit: &mut dyn FnMut(LoadEvent) -> bool,
    ) -> Result<(), String> {
        let file = match &self.cache {
            CacheAt::User => listing::cache::location(dir.root()),
            CacheAt::File(f) => f.clone(),
        };
        let stop = |go_on: bool| {
            if go_on {
                ControlFlow::Continue(())
            } else {
                ControlFlow::Break(())
            }
        };
        // The scan's set of files with a journal beside (usually empty), kept for the rows.
        let logged = std::cell::OnceCell::new();
        let emit = std::cell::RefCell::new(emit);
        listing::scan_early(
            dir,
            file.as_deref(),
            |scanned| {
                let _ = logged.set(scanned.logged.clone());
                stop((emit.borrow_mut())(LoadEvent::Total(scanned.rows)))
            },
            |batch| {
                let logged = logged.get();
                // The first rows of a big folder come before its scan: their own look.
                let in_use = |path: &std::path::Path| match logged {
                    Some(logged) => listing::Scanned { rows: 0, logged }.is_logged(path),
                    None => crate::store::sqlite_read::has_log(path),
                };
                let rows = batch
                    .iter()
                    .map(|s| SessionRow::from_summary(s, in_use(&s.path)))
                    .collect();
                stop((emit.borrow_mut())(LoadEvent::Rows(rows)))
            },
        )
        .map_err(|e| e.to_string())
    }
}

/// Test seam (debug builds): with `TGSESS_TEST_LIST_GATE=FIFO`, the source stops after its
/// first batch until something opens the FIFO for writing, so a test sees the first rows on
/// screen while the load is provably still going on, without timing anything.
pub const ENV_LIST_GATE: &str = "TGSESS_TEST_LIST_GATE";

pub struct Gated<S> {
    inner: S,
    fifo: PathBuf,
}

impl<S: RowSource> RowSource for Gated<S> {
    fn load(
        &self,
        dir: &SessionDir,
        emit: &mut dyn FnMut(LoadEvent) -> bool,
    ) -> Result<(), String> {
        let mut rows_seen = false;
        self.inner.load(dir, &mut |ev| {
            let first = matches!(ev, LoadEvent::Rows(_)) && !rows_seen;
            rows_seen |= matches!(ev, LoadEvent::Rows(_));
            let go_on = emit(ev);
            if first {
                // Opening a FIFO for reading blocks until a writer opens it.
                let _ = std::fs::File::open(&self.fifo);
            }
            go_on
        })
    }
}

/// The source the app uses: the cached listing, gated in debug builds when the test asks.
pub fn default_source() -> Box<dyn RowSource> {
    match std::env::var_os(ENV_LIST_GATE).filter(|_| cfg!(debug_assertions)) {
        Some(fifo) => Box::new(Gated {
            inner: CachedListing::user_cache(),
            fifo: fifo.into(),
        }),
        None => Box::new(CachedListing::user_cache()),
    }
}

/// Rows per batch at most, and how long rows wait to be batched: a few merges per second, not
/// one per file, with the very first rows sent as soon as they are read.
pub const BATCH_ROWS: usize = 5_000;
pub const BATCH_WAIT: Duration = Duration::from_millis(40);

/// Groups a source's rows into UI batches.
pub struct Batcher {
    pending: Vec<SessionRow>,
    since: Option<Instant>,
    sent_any: bool,
}

impl Default for Batcher {
    fn default() -> Self {
        Self::new()
    }
}

impl Batcher {
    pub fn new() -> Batcher {
        Batcher {
            pending: Vec::new(),
            since: None,
            sent_any: false,
        }
    }

    /// Adds rows; returns a batch when one is due (the first rows, or enough, or old enough).
    pub fn push(&mut self, rows: Vec<SessionRow>, now: Instant) -> Option<Vec<SessionRow>> {
        if rows.is_empty() {
            return None;
        }
        self.pending.extend(rows);
        let since = *self.since.get_or_insert(now);
        let due = !self.sent_any
            || self.pending.len() >= BATCH_ROWS
            || now.duration_since(since) >= BATCH_WAIT;
        due.then(|| self.take())
    }

    /// Whatever is waiting (the end of the load, or rows that waited long enough).
    pub fn take(&mut self) -> Vec<SessionRow> {
        self.sent_any |= !self.pending.is_empty();
        self.since = None;
        std::mem::take(&mut self.pending)
    }
}

/// What [`deliver_batches`] hands over: a batch, then once the end (the last rows).
pub enum Delivery {
    Batch { rows: Vec<SessionRow>, total: usize },
    Done(Result<Vec<SessionRow>, String>),
}

/// Runs `source` on a thread of its own and hands its rows to `deliver` in batches (the
/// first rows at once, then every [`BATCH_WAIT`] or [`BATCH_ROWS`]), so a slow source still
/// shows what it has read. Stops early when `still_wanted` turns false or `deliver` does.
pub fn deliver_batches(
    source: &dyn RowSource,
    dir: &SessionDir,
    still_wanted: impl Fn() -> bool + Send,
    mut deliver: impl FnMut(Delivery) -> bool,
) {
    enum Fwd {
        Event(LoadEvent),
        End(Result<(), String>),
    }
    let (events, arrived) = mpsc::channel::<Fwd>();
    // `move`: the receiver goes with the closure, so returning early drops it and the
    // source's next send fails (it stops) before the scope waits for it.
    std::thread::scope(move |scope| {
        scope.spawn(move || {
            let result = source.load(dir, &mut |ev| {
                still_wanted() && events.send(Fwd::Event(ev)).is_ok()
            });
            let _ = events.send(Fwd::End(result));
        });
        let mut batcher = Batcher::new();
        let mut total = 0;
        loop {
            let batch = match arrived.recv_timeout(BATCH_WAIT) {
                Ok(Fwd::Event(LoadEvent::Total(n))) => {
                    total = n;
                    None
                }
                Ok(Fwd::Event(LoadEvent::Rows(rows))) => batcher.push(rows, Instant::now()),
                Ok(Fwd::End(result)) => {
                    deliver(Delivery::Done(result.map(|()| batcher.take())));
                    return_freed_memory();
                    return;
                }
                Err(RecvTimeoutError::Timeout) => Some(batcher.take()),
                Err(RecvTimeoutError::Disconnected) => {
                    deliver(Delivery::Done(Err("the listing stopped".into())));
                    return;
                }
            };
            if let Some(rows) = batch.filter(|r| !r.is_empty())
                && !deliver(Delivery::Batch { rows, total })
            {
                return;
            }
        }
    });
}

/// Gives the memory a finished load freed (the listing's cache image and batches) back to
/// the system: glibc keeps freed heap for reuse, so the app's resident size would stay at its
/// peak while the list sits on screen for hours.
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap pages; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Session;

    fn rows(n: usize) -> Vec<SessionRow> {
        (0..n)
            .map(|i| SessionRow::memory(&format!("m{i}"), Session::new(2)))
            .collect()
    }

    /// The listing's rows as the list shows them: in name order after the expected total,
    /// in use from the journal the scan saw, exposed from the mode the read saw.
    #[test]
    fn the_cached_listing_gives_rows_in_order_with_in_use_and_exposure() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let write = |name: &str, b: u8| {
            let mut s = Session::new(2);
            s.home_mut().auth_key = Some(crate::secret::AuthKey::new([b; 256]));
            s.user_id = Some(i64::from(b));
            let path = tmp.path().join(name);
            crate::store::write_file(&path, &s, crate::store::Format::TgsessSqlite).unwrap();
            path
        };
        write("carol.session", 3);
        let bob = write("bob.session", 2);
        write("alice.session", 1);
        std::fs::set_permissions(&bob, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::write(tmp.path().join("carol.session-journal"), b"").unwrap();
        std::fs::write(tmp.path().join("broken.string"), "garbage").unwrap();
        let mut events = Vec::new();
        CachedListing::at(None)
            .load(&SessionDir::new(tmp.path()), &mut |ev| {
                events.push(ev);
                true
            })
            .unwrap();
        assert!(
            matches!(events.first(), Some(LoadEvent::Total(4))),
            "{events:?}"
        );
        let rows: Vec<SessionRow> = events
            .into_iter()
            .flat_map(|ev| match ev {
                LoadEvent::Rows(r) => r,
                LoadEvent::Total(_) => Vec::new(),
            })
            .collect();
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["alice", "bob", "broken", "carol"]);
        let row = |n: &str| rows.iter().find(|r| r.name == n).unwrap();
        assert!(row("carol").in_use && !row("alice").in_use && !row("bob").in_use);
        assert!(row("bob").exposed.as_deref().unwrap().contains("mode 644"));
        assert!(row("alice").exposed.is_none() && row("carol").exposed.is_none());
        assert!(row("broken").error.is_some() && !row("broken").readable());
        assert_eq!(row("alice").user_id(), Some(1));
        assert!(row("alice").has_key() && row("alice").memory_session().is_none());
    }

    #[test]
    fn a_source_told_to_stop_stops() {
        let tmp = tempfile::tempdir().unwrap();
        for i in 0..600 {
            let text =
                crate::store::encode_string(&Session::new(2), crate::store::Format::TgsessString)
                    .unwrap();
            std::fs::write(tmp.path().join(format!("s{i:03}.string")), text).unwrap();
        }
        let mut rows = 0;
        CachedListing::at(None)
            .load(&SessionDir::new(tmp.path()), &mut |ev| {
                if let LoadEvent::Rows(r) = ev {
                    rows += r.len();
                    return false;
                }
                true
            })
            .unwrap();
        assert!(rows > 0 && rows < 600, "{rows}");
    }

    #[test]
    fn the_first_rows_go_at_once_then_in_batches() {
        let t0 = Instant::now();
        let mut b = Batcher::new();
        assert_eq!(b.push(rows(3), t0).map(|r| r.len()), Some(3));
        assert!(b.push(rows(10), t0).is_none(), "waits for more");
        assert!(b.push(rows(10), t0 + BATCH_WAIT / 2).is_none());
        assert_eq!(b.push(rows(1), t0 + BATCH_WAIT).map(|r| r.len()), Some(21));
        assert_eq!(
            b.push(rows(BATCH_ROWS), t0 + BATCH_WAIT).map(|r| r.len()),
            Some(BATCH_ROWS),
            "a full batch goes without waiting"
        );
        assert!(b.push(Vec::new(), t0).is_none());
        assert!(b.push(rows(2), t0 + BATCH_WAIT * 2).is_none());
        assert_eq!(b.take().len(), 2);
    }
}
