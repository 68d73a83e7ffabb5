//! Many new files in one folder made durable together, with the guarantees of one atomic
//! write each: every file is written to its own locked temp, the data of all of them is
//! synced (writeback started for all, then waited for each, so the disk takes them in one
//! go rather than one flush per file), and only then are they renamed, after which the folder
//! is synced once. A crash at any point leaves each final name absent or complete; what is
//! left under a temp name is swept by the next run (see `temp`).

use std::io;
use std::path::{Path, PathBuf};

use super::{Synced, TempTarget, crash_point_at, sync_dir};

/// Syncs of one batch waited for at once: a file's sync waits for its own writes (the data,
/// then the inode), so waiting for several together lets the disk take them in one go.
const SYNCERS: usize = 8;

/// Publishes `temps` (all beside their final paths in `folder`) as described in the module
/// docs, and says for each, in order, whether it is in place and durable. With `no_replace`
/// an existing final name is an `AlreadyExists` error and is kept. A file that fails is
/// removed (its temp); the others go on. If the folder cannot be synced, every renamed file
/// reports that error: it is in place, but not known to survive a crash.
pub fn commit_together(
    folder: &Path,
    temps: Vec<TempTarget>,
    no_replace: bool,
) -> Vec<io::Result<PathBuf>> {
    let mut results: Vec<io::Result<PathBuf>> = Vec::with_capacity(temps.len());
    let mut pending = Vec::with_capacity(temps.len());
    for temp in temps {
        match temp.start_writeback() {
            Ok(()) => pending.push(Ok(temp)),
            Err(e) => pending.push(Err(e)),
        }
    }
    let synced = sync_all(pending);
    crash_point_at("batch-synced", folder);
    let mut renamed = false;
    for synced in synced {
        let result = synced.and_then(|s| s.rename(no_replace));
        if let Ok(path) = &result {
            renamed = true;
            crash_point_at("batch-renamed", path);
        }
        results.push(result);
    }
    if renamed {
        if let Err(e) = sync_dir(folder) {
            for result in results.iter_mut().filter(|r| r.is_ok()) {
                *result = Err(io::Error::new(e.kind(), format!("syncing the folder: {e}")));
            }
        }
        crash_point_at("batch-dir-synced", folder);
    }
    results
}

/// Waits for the data of `pending` on up to [`SYNCERS`] threads, in order.
fn sync_all(pending: Vec<io::Result<TempTarget>>) -> Vec<io::Result<Synced>> {
    let per_thread = pending.len().div_ceil(SYNCERS).max(1);
    let mut chunks = Vec::new();
    let mut rest = pending.into_iter();
    loop {
        let chunk: Vec<_> = rest.by_ref().take(per_thread).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    if chunks.len() <= 1 {
        return chunks.into_iter().flat_map(sync_chunk).collect();
    }
    std::thread::scope(|scope| {
        let threads: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || sync_chunk(chunk)))
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().expect("sync thread panicked"))
            .collect()
    })
}

fn sync_chunk(chunk: Vec<io::Result<TempTarget>>) -> Vec<io::Result<Synced>> {
    chunk
        .into_iter()
        .map(|temp| {
            let synced = temp?.sync_data()?;
            crash_point_at("batch-data-synced", synced.final_path());
            Ok(synced)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    fn staged(dir: &Path, name: &str, text: &str) -> TempTarget {
        let mut temp = TempTarget::new(&dir.join(name)).unwrap();
        temp.file().write_all(text.as_bytes()).unwrap();
        temp
    }

    #[test]
    fn a_batch_puts_every_file_in_place_0600_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let temps = (0..5)
            .map(|i| staged(dir.path(), &format!("{i}.string"), &format!("s{i}\n")))
            .collect();
        let results = commit_together(dir.path(), temps, true);
        assert_eq!(results.len(), 5);
        for (i, result) in results.into_iter().enumerate() {
            let path = result.unwrap();
            assert_eq!(path, dir.path().join(format!("{i}.string")));
            assert_eq!(fs::read_to_string(&path).unwrap(), format!("s{i}\n"));
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 5);
    }

    #[test]
    fn no_replace_keeps_a_file_that_appeared_and_the_others_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let temps = vec![
            staged(dir.path(), "a.string", "new a\n"),
            staged(dir.path(), "b.string", "new b\n"),
        ];
        // Someone else's file takes one of the names after the temps were written.
        fs::write(dir.path().join("a.string"), "theirs").unwrap();
        let results = commit_together(dir.path(), temps, true);
        assert_eq!(
            results[0].as_ref().unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        assert!(results[1].is_ok());
        assert_eq!(
            fs::read_to_string(dir.path().join("a.string")).unwrap(),
            "theirs"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("b.string")).unwrap(),
            "new b\n"
        );
        // The refused temp is gone too.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn replacing_is_allowed_without_no_replace() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.string"), "old").unwrap();
        let temps = vec![staged(dir.path(), "a.string", "new\n")];
        assert!(commit_together(dir.path(), temps, false)[0].is_ok());
        assert_eq!(
            fs::read_to_string(dir.path().join("a.string")).unwrap(),
            "new\n"
        );
    }
}
