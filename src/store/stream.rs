//! The session folder listed as a stream: one thread scans the folder and hands out chunks of
//! candidate files as it finds them, a few threads read those, and each finished chunk goes to
//! the caller at once, so the first rows come after a few dozen files, not after the whole
//! `readdir`. Same rows as [`SessionDir::list`](super::dir::SessionDir::list) (the same rule
//! picks the files), in the order read, each turned into the caller's row type on the reading
//! threads (`map`).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};

use super::dir::{Listed, read_candidate, split_name, tdata_listings};
use super::error::{Result, StoreError};
use crate::fsutil;

/// Files one worker reads before handing them over: small, so the first rows come early.
const CHUNK: usize = 32;

type Candidate = (String, &'static str, PathBuf);

/// What the stream yields: `Rows` as files are read, and `Total` once, when the scan of the
/// folder has counted the files (usually after the first rows).
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
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            sink(StreamEvent::Total(0));
            return Ok(());
        }
        Err(e) => return Err(StoreError::io(root, e)),
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let stop = AtomicBool::new(false);
    let (work_tx, work_rx) = mpsc::channel::<Vec<Candidate>>();
    let work_rx = Mutex::new(work_rx);
    let (tx, rx) = mpsc::channel::<StreamEvent<T>>();
    let scan_error = std::thread::scope(|scope| {
        let (stop, work_rx, map) = (&stop, &work_rx, &map);
        for _ in 0..threads {
            let tx = tx.clone();
            scope.spawn(move || {
                loop {
                    let job = work_rx.lock().expect("no reader panics").recv();
                    let Ok(chunk) = job else { break };
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let rows = chunk.iter().filter_map(read_candidate).map(map).collect();
                    if tx.send(StreamEvent::Rows(rows)).is_err() {
                        break;
                    }
                }
            });
        }
        let scanner = {
            let tx = tx.clone();
            scope.spawn(move || {
                let result = scan(entries, stop, |chunk| work_tx.send(chunk).is_ok());
                if let Ok(n) = &result {
                    let _ = tx.send(StreamEvent::Total(*n));
                }
                // Dead writers' temp files may hold keys: removed on the way, as `list` does.
                fsutil::sweep_stale_temps(root);
                result.err()
            })
        };
        drop(tx);
        for event in rx {
            if !sink(event) {
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
        scanner.join().expect("the scan does not panic")
    });
    if let Some(e) = scan_error {
        return Err(StoreError::io(root, e));
    }
    if !stop.load(Ordering::Relaxed) {
        let folders = tdata_listings(root);
        if !folders.is_empty() {
            sink(StreamEvent::Rows(folders.into_iter().map(map).collect()));
        }
    }
    Ok(())
}

/// Hands out the folder's candidate files in chunks as `readdir` finds them (the rule of
/// `dir::listable_files`: every `*.session` and `*.string`, regular `*.txt` files); returns
/// how many there were.
fn scan(
    entries: fs::ReadDir,
    stop: &AtomicBool,
    mut hand_out: impl FnMut(Vec<Candidate>) -> bool,
) -> std::io::Result<usize> {
    let mut count = 0;
    let mut chunk = Vec::with_capacity(CHUNK);
    for entry in entries {
        if stop.load(Ordering::Relaxed) {
            return Ok(count);
        }
        let entry = entry?;
        let path = entry.path();
        let Some((name, ext)) = split_name(&path) else {
            continue;
        };
        // d_type answers without a stat; only links need one.
        let listed = ext != "txt"
            || match entry.file_type() {
                Ok(t) if t.is_symlink() => path.is_file(),
                Ok(t) => t.is_file(),
                Err(_) => false,
            };
        if listed {
            count += 1;
            chunk.push((name, ext, path));
            if chunk.len() == CHUNK
                && !hand_out(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)))
            {
                return Ok(count);
            }
        }
    }
    if !chunk.is_empty() {
        hand_out(chunk);
    }
    Ok(count)
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
                    StreamEvent::Total(n) => {
                        assert!(total.is_none(), "the total comes once");
                        total = Some(n);
                    }
                    StreamEvent::Rows(rows) => {
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
