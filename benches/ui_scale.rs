//! The TUI at scale (issue 14 goals 3 and 4): time to the first rows on screen and to all rows
//! for 1,000 and 10,000 session files (100,000 with `TGSESS_BENCH_100K=1`), a filter keystroke
//! and a sort at the largest size, and the resident memory per listed row.
//!
//! Run: `nice -n 10 cargo bench --bench ui_scale` (add `TGSESS_BENCH_100K=1` for 100,000).
//! Each figure is the median of a few runs in this process. The app's source is the cached
//! listing (`CachedListing`), timed cold (its cache file removed before each run: every file
//! read, the cache written) and warm (the cache of the previous run: only `stat`s); its peer in
//! the same run is the blocking listing (`list_rows`: every file read before the first frame).
//! Memory is the resident size of a child process before and after it listed the folder into
//! the TUI state and drew it, divided by the rows.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tgsess::store::dir::SessionDir;
use tgsess::store::listing::cache::RACY_WINDOW_NS;
use tgsess::store::{self, Format};
use tgsess::ui::effects::list_rows;
use tgsess::ui::keymap::Keymap;
use tgsess::ui::loader::{CachedListing, Delivery, deliver_batches};
use tgsess::ui::msg::Msg;
use tgsess::ui::state::{AppState, Mode};
use tgsess::ui::theme::{ColorDepth, Theme};
use tgsess::ui::update::update;
use tgsess::ui::view;

#[path = "support/mod.rs"]
mod support;
use support::session;

/// `n` tgsess string files (written directly: the bench measures reading, not writing).
fn populate(dir: &Path, n: usize) {
    for i in 0..n {
        let text = store::encode_string(&session(i), Format::TgsessString).unwrap();
        std::fs::write(dir.join(format!("account-{i:06}.string")), text + "\n").unwrap();
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn draw(st: &AppState, theme: &Theme, term: &mut Terminal<TestBackend>) {
    term.draw(|f| view::render(st, theme, f)).unwrap();
}

fn new_state() -> AppState {
    let mut st = AppState::new(Keymap::default(), Mode::default());
    st.size = (120, 40);
    st
}

/// Main's way: every file read, then the first frame (which already has all rows).
fn blocking_load(dir: &SessionDir, theme: &Theme) -> (Duration, AppState) {
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let start = Instant::now();
    let mut st = new_state();
    st.set_rows(list_rows(dir).unwrap(), None);
    draw(&st, theme, &mut term);
    (start.elapsed(), st)
}

/// The app's way: the cached listing streamed in batches (the runner's `deliver_batches`),
/// each merged and drawn as it arrives, its cache in `cache`. Returns (first rows drawn, all
/// rows drawn).
fn streamed_load(
    dir: &SessionDir,
    cache: Option<PathBuf>,
    theme: &Theme,
) -> (Duration, Duration, AppState) {
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let start = Instant::now();
    let mut st = new_state();
    st.start_load(1);
    let mut first = None;
    deliver_batches(
        &CachedListing::at(cache),
        dir,
        || true,
        |d| {
            match d {
                Delivery::Batch { rows, total } => st.load_batch(1, rows, total),
                Delivery::Done(rows) => st.load_done(1, rows.unwrap()),
            }
            draw(&st, theme, &mut term);
            first.get_or_insert_with(|| start.elapsed());
            true
        },
    );
    (first.unwrap(), start.elapsed(), st)
}

/// Resident memory of a fresh process that listed `dir` into the TUI state and drew it, less
/// the same process before: run as a child so earlier runs' freed memory does not count.
fn rss_child(dir: &Path, cache: &Path, n: usize, how: &str) -> String {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--bench", "--rss-child", how])
        .arg(dir)
        .arg(cache)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text
        .split_whitespace()
        .map(|v| v.parse::<u64>().unwrap_or(0));
    let (before, after) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    format!(
        "rss ({how}) {before} KiB before, {after} KiB with the rows: {:.0} bytes per row",
        (after.saturating_sub(before) * 1024) as f64 / n as f64
    )
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// Median time of one `update` for each message of `msgs`, sent in turn.
fn time_keys(st: &mut AppState, msgs: impl IntoIterator<Item = Msg>) -> Duration {
    let times = msgs
        .into_iter()
        .map(|m| {
            let t = Instant::now();
            let _ = update(st, m);
            t.elapsed()
        })
        .collect();
    median(times)
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    // `cargo bench` passes `--bench`; a plain `cargo test --benches` run only checks it builds.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let theme = Theme::default_theme(ColorDepth::Ansi256);
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--rss-child") {
        let dir = SessionDir::new(&args[i + 2]);
        let cache = PathBuf::from(&args[i + 3]);
        let before = rss_kib();
        let st = match args[i + 1].as_str() {
            "blocking" => blocking_load(&dir, &theme).1,
            // The listing's cache as the last timed run left it: warm.
            _ => streamed_load(&dir, Some(cache), &theme).2,
        };
        println!("{before} {} {}", rss_kib(), st.rows.len());
        return;
    }
    let mut sizes = vec![1_000, 10_000];
    if std::env::var_os("TGSESS_BENCH_100K").is_some_and(|v| v == "1") {
        sizes.push(100_000);
    }
    let largest = *sizes.last().unwrap();
    let mut kept = None;
    for &n in &sizes {
        let tmp = tempfile::tempdir().unwrap();
        populate(tmp.path(), n);
        // The cache trusts only files older than its racy window when it was recorded: a
        // warm listing right after writing them would read them all again.
        let made = SystemTime::now();
        while made.elapsed().unwrap_or_default().as_nanos() as i128 <= RACY_WINDOW_NS {
            std::thread::sleep(Duration::from_millis(100));
        }
        let dir = SessionDir::new(tmp.path());
        let runs = if n >= 100_000 { 3 } else { 5 };
        let cache = tmp.path().with_extension("cache");
        let (mut blocking, mut cold, mut warm) = (Vec::new(), Vec::new(), Vec::new());
        let mut st = None;
        for _ in 0..runs {
            let (t, b) = blocking_load(&dir, &theme);
            assert_eq!(b.rows.len(), n);
            blocking.push(t);
            drop(b);
            let _ = std::fs::remove_file(&cache);
            let (f, a, s) = streamed_load(&dir, Some(cache.clone()), &theme);
            assert_eq!(s.rows.len(), n);
            cold.push((f, a));
            drop(s);
            let (f, a, s) = streamed_load(&dir, Some(cache.clone()), &theme);
            assert_eq!(s.rows.len(), n);
            warm.push((f, a));
            st = Some(s);
        }
        let st = st.unwrap();
        let split = |v: Vec<(Duration, Duration)>| -> (Duration, Duration) {
            let (f, a): (Vec<_>, Vec<_>) = v.into_iter().unzip();
            (median(f), median(a))
        };
        let (cold, warm) = (split(cold), split(warm));
        println!(
            "ui_scale/{n}: blocking (every file read, no cache) first rows = all rows {}",
            ms(median(blocking))
        );
        println!(
            "ui_scale/{n}: cached listing, cold: first rows {}, all rows {}",
            ms(cold.0),
            ms(cold.1)
        );
        println!(
            "ui_scale/{n}: cached listing, warm: first rows {}, all rows {}",
            ms(warm.0),
            ms(warm.1)
        );
        for how in ["blocking", "warm"] {
            println!("ui_scale/{n}: {}", rss_child(tmp.path(), &cache, n, how));
        }
        let _ = std::fs::remove_file(&cache);
        if n == largest {
            kept = Some(st);
        }
    }
    let mut st = kept.unwrap();
    let n = st.rows.len();
    let _ = update(&mut st, key('/'));
    let grow = time_keys(&mut st, "user1".chars().map(key));
    let shrink = time_keys(
        &mut st,
        (0..4).map(|_| Msg::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE))),
    );
    let _ = update(
        &mut st,
        Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    println!("ui_scale/{n}: filter keystroke (needle grows) {}", ms(grow));
    println!("ui_scale/{n}: filter keystroke (backspace) {}", ms(shrink));
    let sort = time_keys(&mut st, (0..8).map(|_| key('s')));
    let reverse = time_keys(&mut st, (0..4).map(|_| key('r')));
    println!("ui_scale/{n}: sort (next column) {}", ms(sort));
    println!("ui_scale/{n}: sort (reverse) {}", ms(reverse));
    let moves = time_keys(&mut st, (0..20).map(|_| key('j')));
    println!("ui_scale/{n}: movement key {}", ms(moves));
}
