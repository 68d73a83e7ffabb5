//! Where the list's rows come from: a [`RowSource`] reads them off the UI thread and hands
//! them over in batches as they are read, so the first rows show at once and keys stay
//! responsive while the rest load. The default source streams the session folder
//! (`store::stream`); a faster cached listing plugs in here as another source.

use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::state::SessionRow;
use crate::store::dir::SessionDir;
use crate::store::stream::{StreamEvent, stream_listing};

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

/// The session folder, read in parallel and streamed in the order read.
pub struct StreamedFolder;

impl RowSource for StreamedFolder {
    fn load(
        &self,
        dir: &SessionDir,
        emit: &mut dyn FnMut(LoadEvent) -> bool,
    ) -> Result<(), String> {
        // Rows are made on the reading threads: each checks its file's journal and mode too.
        stream_listing(dir.root(), SessionRow::from_listed, |ev| match ev {
            StreamEvent::Total(n) => emit(LoadEvent::Total(n)),
            StreamEvent::Rows(rows) => emit(LoadEvent::Rows(rows)),
        })
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

/// The source the app uses: the streamed folder, gated in debug builds when the test asks.
pub fn default_source() -> Box<dyn RowSource> {
    match std::env::var_os(ENV_LIST_GATE).filter(|_| cfg!(debug_assertions)) {
        Some(fifo) => Box::new(Gated {
            inner: StreamedFolder,
            fifo: fifo.into(),
        }),
        None => Box::new(StreamedFolder),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Session;

    fn rows(n: usize) -> Vec<SessionRow> {
        (0..n)
            .map(|i| SessionRow::memory(&format!("m{i}"), Session::new(2)))
            .collect()
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
