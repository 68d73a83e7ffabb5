//! `tgsess list --json` at scale (issue 14, goals 1-3 and 8): cold (no listing cache) and warm
//! listing of 1,000 and 10,000 Telethon session files, 100,000 with `TGSESS_BENCH_100K=1`,
//! beside the I/O floors measured in the same run: reading the first 4 KiB of every file, the
//! first pages the page reader reads of it (16 KiB, `sqlite_pages::file::PREFETCH`), and
//! `stat` of every file (each after listing the folder, one thread). Each figure is the median
//! of several runs in this process; the page cache is warm for all of them (dropping it needs
//! root), so "cold" means "no tgsess cache". Ratios are printed; nothing is asserted.
//!
//! usage: cargo bench --bench list        (TGSESS_BENCH_100K=1 adds 100,000 files)

use std::fs;
use std::io::{self, Read};
use std::ops::ControlFlow;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use tgsess::secret::AuthKey;
use tgsess::store::dir::SessionDir;
use tgsess::store::listing::{self, JsonArray, cache::RACY_WINDOW_NS};
use tgsess::store::{self, Format, Session};

fn make_folder(dir: &Path, count: usize) {
    let mut s = Session::new(2);
    let home = s.home_mut();
    home.ipv4 = Some("149.154.167.51".parse().unwrap());
    home.port = Some(443);
    home.auth_key = Some(AuthKey::random());
    s.user_id = Some(100_000);
    let template = dir.join("template.tmp");
    store::write_file(&template, &s, Format::TelethonSqlite(7)).unwrap();
    for i in 0..count {
        fs::copy(&template, dir.join(format!("user{i:06}.session"))).unwrap();
    }
    fs::remove_file(&template).unwrap();
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn floor_head(dir: &Path) -> usize {
    let mut buf = [0u8; 4096];
    let mut total = 0;
    for entry in fs::read_dir(dir).unwrap() {
        let mut f = fs::File::open(entry.unwrap().path()).unwrap();
        total += f.read(&mut buf).unwrap();
    }
    total
}

/// The first pages the page reader reads of each file (one read of its prefetch).
fn floor_pages(dir: &Path) -> usize {
    let mut buf = vec![0u8; tgsess::store::sqlite_pages::file::PREFETCH];
    let mut total = 0;
    for entry in fs::read_dir(dir).unwrap() {
        let mut f = fs::File::open(entry.unwrap().path()).unwrap();
        total += f.read(&mut buf).unwrap();
    }
    total
}

fn floor_stat(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| fs::metadata(e.unwrap().path()).unwrap().len())
        .sum()
}

/// What `list --json` does, its output written to a sink.
fn list_json(dir: &SessionDir, cache: &Path, expect: usize) {
    let mut rows = 0;
    let mut array = JsonArray::default();
    let mut out = io::sink();
    listing::scan_cached(dir, Some(cache), |batch| {
        for row in batch {
            array.row(&mut out, row).unwrap();
        }
        rows += batch.len();
        ControlFlow::Continue(())
    })
    .unwrap();
    array.finish(&mut out).unwrap();
    assert_eq!(rows, expect);
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not used here.
    let mut sizes = vec![1_000, 10_000];
    if std::env::var_os("TGSESS_BENCH_100K").is_some_and(|v| v == "1") {
        sizes.push(100_000);
    }
    println!(
        "{:>8} | {:>10} {:>10} {:>8} {:>11} {:>8} | {:>10} {:>10} {:>8}",
        "files",
        "cold",
        "4KiB floor",
        "ratio",
        "pages floor",
        "ratio",
        "warm",
        "stat floor",
        "ratio"
    );
    for count in sizes {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("sessions");
        fs::create_dir(&root).unwrap();
        make_folder(&root, count);
        let cache_dir = tempfile::tempdir().unwrap();
        let cache = cache_dir.path().join("list.bin");
        let dir = SessionDir::new(&root);
        let runs = if count >= 100_000 { 3 } else { 7 };
        let head = time(runs, || {
            floor_head(&root);
        });
        let pages = time(runs, || {
            floor_pages(&root);
        });
        let cold = time(runs, || {
            let _ = fs::remove_file(&cache);
            list_json(&dir, &cache, count);
        });
        // A warm listing trusts only files that were older than the racy window when the
        // cache was written: wait for the clock (a file's change time cannot be set back).
        let made = SystemTime::now();
        while made.elapsed().unwrap_or_default().as_nanos() as i128 <= RACY_WINDOW_NS {
            std::thread::sleep(Duration::from_millis(100));
        }
        list_json(&dir, &cache, count);
        let stat = time(runs, || {
            floor_stat(&root);
        });
        let warm = time(runs, || list_json(&dir, &cache, count));
        println!(
            "{:>8} | {:>10} {:>10} {:>7.1}x {:>11} {:>7.1}x | {:>10} {:>10} {:>7.1}x",
            count,
            ms(cold),
            ms(head),
            cold.as_secs_f64() / head.as_secs_f64(),
            ms(pages),
            cold.as_secs_f64() / pages.as_secs_f64(),
            ms(warm),
            ms(stat),
            warm.as_secs_f64() / stat.as_secs_f64()
        );
    }
}
