//! Issue 14 goal 4: the list streams in. The first rows show while the rest load (with a
//! progress line), keys work meanwhile, the selection stays on its session as batches merge,
//! a reload swaps rows only when complete, and a stale listing's batches are dropped.

mod ui_support;

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use crossterm::event::KeyCode;
use tgsess::store::Session;
use tgsess::store::dir::SessionDir;
use tgsess::ui::loader::{LoadEvent, RowSource};
use tgsess::ui::state::SessionRow;
use ui_support::*;

/// A source the test feeds by hand: each `Some(rows)` is one batch, `None` ends the listing.
struct Scripted {
    total: usize,
    feed: Mutex<Receiver<Option<Vec<SessionRow>>>>,
}

impl RowSource for Scripted {
    fn load(
        &self,
        _dir: &SessionDir,
        emit: &mut dyn FnMut(LoadEvent) -> bool,
    ) -> Result<(), String> {
        if !emit(LoadEvent::Total(self.total)) {
            return Ok(());
        }
        let feed = self.feed.lock().unwrap();
        while let Ok(Some(rows)) = feed.recv() {
            if !emit(LoadEvent::Rows(rows)) {
                break;
            }
        }
        Ok(())
    }
}

fn scripted(h: &mut Harness, total: usize) -> SyncSender<Option<Vec<SessionRow>>> {
    let (tx, rx) = sync_channel(16);
    h.runner.set_source(Box::new(Scripted {
        total,
        feed: Mutex::new(rx),
    }));
    tx
}

fn rows(names: &[&str]) -> Vec<SessionRow> {
    names
        .iter()
        .map(|n| {
            let path = std::path::PathBuf::from(format!("/sessions/{n}.string"));
            let loaded = tgsess::store::Loaded {
                format: tgsess::store::Format::TgsessString,
                session: Session::new(2),
            };
            SessionRow::from_file(n, path, Ok(loaded))
        })
        .collect()
}

fn start_first_load(h: &mut Harness) {
    h.st.loading = true;
    for e in tgsess::ui::update::init(&mut h.st) {
        h.runner.run(e);
    }
}

fn names(h: &Harness) -> Vec<String> {
    h.st.view
        .iter()
        .map(|i| h.st.rows[*i].name.clone())
        .collect()
}

fn selected(h: &Harness) -> String {
    h.st.selected_row()
        .map(|r| r.name.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_first_rows_show_while_the_rest_load_and_the_selection_stays_put() {
    let mut h = Harness::empty();
    let feed = scripted(&mut h, 6);
    start_first_load(&mut h);
    feed.send(Some(rows(&["m-20", "m-30"]))).unwrap();
    h.until("the first rows", |st| st.rows.len() == 2).await;
    let screen = h.screen(100, 20);
    assert!(screen.contains("loading 2/6"), "{screen}");
    assert!(
        screen.contains("m-20") && screen.contains("m-30"),
        "{screen}"
    );
    assert!(h.st.loading, "still loading");

    // Keys work meanwhile: move to m-30.
    h.press(key(KeyCode::Down));
    assert_eq!(selected(&h), "m-30");
    // A batch that sorts before it: the selection stays on m-30, wherever it moves.
    feed.send(Some(rows(&["m-3", "m-100"]))).unwrap();
    h.until("the second batch", |st| st.rows.len() == 4).await;
    assert_eq!(names(&h), ["m-3", "m-20", "m-30", "m-100"], "natural order");
    assert_eq!(selected(&h), "m-30");
    assert!(h.screen(100, 20).contains("loading 4/6"));

    // A filter typed while loading applies to the rows still coming.
    h.press(ch('/'));
    h.type_str("m-1");
    assert_eq!(names(&h), ["m-100"]);
    feed.send(Some(rows(&["m-10", "x-1"]))).unwrap();
    feed.send(None).unwrap();
    h.until("the end of the load", |st| !st.loading).await;
    assert_eq!(names(&h), ["m-10", "m-100"]);
    assert_eq!(h.st.rows.len(), 6);
    let screen = h.screen(100, 20);
    assert!(!screen.contains("loading"), "{screen}");
    assert!(h.st.load.is_none());
}

#[tokio::test]
async fn a_reload_swaps_the_rows_in_only_when_complete() {
    let mut h = Harness::new();
    let before = names(&h);
    h.press(key(KeyCode::Down));
    let chosen = selected(&h);
    let feed = scripted(&mut h, 3);
    h.press(ch('R'));
    let mut fresh = rows(&["zeta", "alpha"]);
    // The chosen session is in the new listing too (same file): it stays selected.
    let old = h.st.selected_row().unwrap();
    let path = old.path.clone().unwrap();
    let loaded = tgsess::store::Loaded {
        format: old.format.unwrap(),
        session: h.session_of(old),
    };
    fresh.push(SessionRow::from_file(&chosen, path, Ok(loaded)));
    feed.send(Some(fresh)).unwrap();
    h.until("the batch", |st| {
        st.load.as_ref().is_some_and(|l| l.loaded == 3)
    })
    .await;
    assert_eq!(
        names(&h),
        before,
        "the old rows stay until the reload is complete"
    );
    assert!(h.screen(100, 20).contains("loading 3/3"));
    feed.send(None).unwrap();
    h.until("the reload", |st| st.load.is_none()).await;
    let after = names(&h);
    assert!(after.contains(&"zeta".to_string()) && after.contains(&"alpha".to_string()));
    assert!(
        after.contains(&"scratch".to_string()),
        "memory sessions are kept"
    );
    assert_eq!(selected(&h), chosen);
}

#[tokio::test]
async fn a_newer_load_drops_the_older_ones_batches() {
    let mut h = Harness::empty();
    let old_feed = scripted(&mut h, 2);
    start_first_load(&mut h);
    let new_feed = scripted(&mut h, 1);
    h.press(ch('R'));
    // The old listing's batch arrives late: the source is told to stop and nothing shows.
    old_feed.send(Some(rows(&["old"]))).unwrap();
    new_feed.send(Some(rows(&["new"]))).unwrap();
    new_feed.send(None).unwrap();
    h.until("the new listing", |st| !st.loading).await;
    assert_eq!(names(&h), ["new"]);
}

/// In a real terminal, with the loader held after its first batch (a FIFO gate: the loader
/// waits until the test opens it, no timing involved): the first rows and the progress line
/// are on screen while the load is still going on, keys move the selection, and opening the
/// gate lets the rest arrive.
#[test]
fn the_first_rows_show_in_a_real_terminal_while_loading_goes_on() {
    use std::ffi::OsStr;
    use tgsess::store::{Format, encode_string};
    use ui_support::pty::{Pty, Start};
    const FILES: usize = 400;
    let home = Pty::home();
    let sessions = Pty::sessions(&home);
    for i in 0..FILES {
        let mut s = Session::new(2);
        s.user_id = Some(1000 + i as i64);
        let text = encode_string(&s, Format::TgsessString).unwrap();
        std::fs::write(sessions.join(format!("acct-{i:03}.string")), text).unwrap();
    }
    let gate = home.path().join("gate");
    let c_gate = std::ffi::CString::new(gate.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(c_gate.as_ptr(), 0o600) }, 0);
    let args = [OsStr::new("--dir"), sessions.as_os_str()];
    let env = [("TGSESS_TEST_LIST_GATE", gate.as_os_str())];
    let mut t = Pty::start(
        home,
        Start {
            rows: 24,
            cols: 100,
            args: &args,
            env: &env,
            ..Start::default()
        },
    );
    t.wait_for("Sessions · loading");
    t.wait_for("acct-");
    let screen = t.screen();
    // The scroll label counts the rows in the list: not all of them yet.
    assert!(
        !screen.contains(&format!(" 1/{FILES} ")),
        "the rest is held back: {screen}"
    );
    // Keys answer while loading: the scroll label follows the selection.
    t.send(b"j");
    t.wait_for(" 2/");
    let chosen = selected_line(&t.screen());
    // Open the gate: the loader goes on, the progress line goes away, every row is there,
    // and the selection stayed on its session while rows sorting before it came in.
    let _writer = std::fs::OpenOptions::new().write(true).open(&gate).unwrap();
    t.wait_gone("loading");
    t.wait_for(&format!("/{FILES} "));
    assert_eq!(selected_line(&t.screen()), chosen);
    t.send(b"q");
    assert_eq!(t.wait_exit(), 0);
}

/// The name on the selected (▶) line of the list.
fn selected_line(screen: &str) -> String {
    let line = screen
        .lines()
        .find(|l| l.contains('▶'))
        .unwrap_or_else(|| panic!("no selection: {screen}"));
    let after = line.split('▶').nth(1).unwrap();
    after.split_whitespace().next().unwrap_or("").to_string()
}
