//! The session folder listed as a stream: the candidate names first (one `readdir`, so the
//! total is known at once), then the files read on a few threads, each finished chunk handed
//! to the caller as soon as it is read. The TUI shows the first rows while the rest load.
//! Same rows as [`SessionDir::list`](super::dir::SessionDir::list), in the order read, each
//! turned into the caller's row type on the reading threads (`map`).

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use super::dir::{Listed, listable_files, read_candidate, tdata_listings};
use super::error::Result;

/// Files one worker reads before handing them over: small, so the first rows come early.
const CHUNK: usize = 32;

/// What the stream yields, in this order: `Total` once, then `Rows` until every file is read.
#[derive(Debug)]
pub enum StreamEvent<T> {
    /// How many files will be read (tdata folders, read last, may add rows beyond it).
    Total(usize),
    Rows(Vec<T>),
}

/// Lists `root`, calling `sink` with each event. `sink` returning `false` stops the reading
/// early (the UI asked for a newer listing). A missing folder yields `Total(0)` and no rows.
pub fn stream_listing<T: Send>(
    root: &Path,
    map: impl Fn(Listed) -> T + Sync,
    mut sink: impl FnMut(StreamEvent<T>) -> bool,
) -> Result<()> {
    let candidates = listable_files(root)?;
    if !sink(StreamEvent::Total(candidates.len())) {
        return Ok(());
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Vec<T>>();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, stop, candidates, map) = (&next, &stop, &candidates, &map);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                    if start >= candidates.len() {
                        break;
                    }
                    let end = (start + CHUNK).min(candidates.len());
                    let chunk = candidates[start..end]
                        .iter()
                        .filter_map(read_candidate)
                        .map(map)
                        .collect();
                    if tx.send(chunk).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for chunk in rx {
            if !sink(StreamEvent::Rows(chunk)) {
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
    });
    if !stop.load(Ordering::Relaxed) {
        let folders = tdata_listings(root);
        if !folders.is_empty() {
            sink(StreamEvent::Rows(folders.into_iter().map(map).collect()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::dir::SessionDir;
    use crate::store::{Format, Session};

    fn populate(dir: &Path, n: usize) {
        for i in 0..n {
            let mut s = Session::new(2);
            s.user_id = Some(i as i64 + 1);
            let text = crate::store::encode_string(&s, Format::TgsessString).unwrap();
            std::fs::write(dir.join(format!("s{i:03}.string")), text).unwrap();
        }
        std::fs::write(dir.join("notes.txt"), "not a session").unwrap();
        std::fs::write(dir.join("broken.string"), "garbage").unwrap();
    }

    #[test]
    fn streams_the_same_rows_as_the_listing() {
        let tmp = tempfile::tempdir().unwrap();
        populate(tmp.path(), 150);
        let mut total = None;
        let mut streamed = Vec::new();
        let mut chunks = 0;
        stream_listing(
            tmp.path(),
            |l| l,
            |ev| {
                match ev {
                    StreamEvent::Total(n) => total = Some(n),
                    StreamEvent::Rows(rows) => {
                        assert!(total.is_some(), "the total comes first");
                        assert!(rows.len() <= CHUNK);
                        chunks += 1;
                        streamed.extend(rows.into_iter().map(|l| (l.name, l.result.is_ok())));
                    }
                }
                true
            },
        )
        .unwrap();
        assert_eq!(
            total,
            Some(152),
            "150 sessions, the bad string and the .txt"
        );
        assert!(chunks >= 150 / CHUNK);
        streamed.sort();
        let mut listed: Vec<_> = SessionDir::new(tmp.path())
            .list()
            .unwrap()
            .into_iter()
            .map(|l| (l.name, l.result.is_ok()))
            .collect();
        listed.sort();
        assert_eq!(streamed, listed);
    }

    #[test]
    fn a_sink_that_says_stop_ends_the_reading() {
        let tmp = tempfile::tempdir().unwrap();
        populate(tmp.path(), 200);
        let mut rows = 0;
        stream_listing(
            tmp.path(),
            |l| l,
            |ev| {
                if let StreamEvent::Rows(r) = ev {
                    rows += r.len();
                    return false;
                }
                true
            },
        )
        .unwrap();
        assert!(rows > 0 && rows <= CHUNK, "{rows}");
    }

    #[test]
    fn a_missing_folder_streams_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let mut events = Vec::new();
        stream_listing(
            &tmp.path().join("nope"),
            |l| l,
            |ev| {
                events.push(format!("{ev:?}"));
                true
            },
        )
        .unwrap();
        assert_eq!(events, ["Total(0)"]);
    }
}
