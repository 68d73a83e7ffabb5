//! Statuses are found, never guessed (issue 11 item 2, issue 12 item 2): the status book's
//! findings show at start with their age, a changed key shows "unknown", and every action that
//! changes an account's standing updates each row holding its key, and the book.

mod ui_support;

use std::path::{Path, PathBuf};

use crossterm::event::KeyCode;
use tgsess::store::status::{Finding, Status as Found, StatusBook};
use tgsess::store::{self, Format};
use tgsess::ui::msg::Msg;
use tgsess::ui::state::Status;
use ui_support::*;

/// A fixed unix time for the app clock's start.
const START: i64 = 1_700_000_000;

/// A harness over real files whose statuses go to a book in its own temporary folder.
fn with_book() -> (Harness, tempfile::TempDir, PathBuf) {
    let mut h = Harness::on_disk();
    h.st.fleet.unix_start = START;
    let state = tempfile::tempdir().unwrap();
    let file = state.path().join("statuses.json");
    h.runner.remember_statuses_in(Some(file.clone()));
    (h, state, file)
}

fn row_status(h: &Harness, name: &str) -> Status {
    let row = h.st.rows.iter().find(|r| r.name == name).unwrap();
    h.st.status(row)
}

fn key_of(path: &Path) -> String {
    store::read_file(path)
        .unwrap()
        .session
        .auth_key()
        .unwrap()
        .key_id_hex()
}

async fn closed(h: &mut Harness) {
    h.until("the pane to close", |st| st.modals.is_empty())
        .await;
}

/// The app's start: the folder is listed, then the book is read.
async fn start(h: &mut Harness) {
    for e in tgsess::ui::update::init(&mut h.st) {
        h.runner.run(e);
    }
    h.until("the listing", |st| st.reloading.is_none()).await;
}

#[tokio::test]
async fn the_books_findings_show_at_start_with_their_age_and_a_new_key_is_unknown() {
    let (mut h, _state, file) = with_book();
    let now = START + (T0 / 1000) as i64;
    let alice = h.dir.path().join("alice.session");
    let bob = h.dir.path().join("bob.string");
    StatusBook::update(&file, |b| {
        let mut found = Finding::bare(Found::Authorized, None, now - 3 * 3600);
        found.two_fa = Some(false);
        found.other_authorizations = Some(2);
        b.put(&alice, &key_of(&alice), found);
        // Bob's file has another key now: what was found about the old one is not his.
        b.put(
            &bob,
            "00000000000000ff",
            Finding::bare(Found::LoggedOut, None, now),
        );
    })
    .unwrap();
    start(&mut h).await;
    h.until("the book's findings", |st| {
        st.known.values().any(|k| k.finding.is_some())
    })
    .await;
    assert_eq!(row_status(&h, "alice"), Status::Authorized);
    assert_eq!(row_status(&h, "bob"), Status::Unknown);
    let screen = h.screen(120, 40);
    assert!(screen.contains("authorized · 3 h ago"), "{screen}");
    assert!(screen.contains("2FA off · 2 other devices"), "{screen}");
}

#[tokio::test]
async fn a_logged_out_import_is_not_shown_as_authorized() {
    let mut h = Harness::new();
    let source = fixture_session("alice");
    let text = store::encode_string(&source, Format::TelethonString).unwrap();
    h.press(ch('i'));
    h.send(Msg::Paste(text));
    h.enter();
    h.step("import/review").await;
    h.enter();
    closed(&mut h).await;
    // Nothing checked it: its status is not known (the key may well be dead).
    assert_eq!(row_status(&h, "imported-1"), Status::Unknown);
}

#[tokio::test]
async fn logging_out_a_copy_logs_out_the_original_and_the_book_keeps_it() {
    let (mut h, _state, file) = with_book();
    let alice = h.dir.path().join("alice.session");
    let alice_key = key_of(&alice);
    h.press(ch('c'));
    h.press(key(KeyCode::Down));
    for _ in 0..10 {
        h.press(key(KeyCode::Backspace));
    }
    h.type_str("alice-copy");
    h.enter();
    closed(&mut h).await;
    assert_eq!(h.st.selected_row().unwrap().name, "alice-copy");
    h.press(ch('L'));
    h.press(ch('y'));
    closed(&mut h).await;
    assert_eq!(row_status(&h, "alice-copy"), Status::LoggedOut);
    assert_eq!(
        row_status(&h, "alice"),
        Status::LoggedOut,
        "the original held the same key"
    );
    // A restart shows it: the book has the original's key logged out.
    h.until("the book to be written", |_| {
        StatusBook::load(&file)
            .find(&alice, &alice_key)
            .is_some_and(|f| f.status == Found::LoggedOut)
    })
    .await;
}

#[tokio::test]
async fn terminating_all_other_authorizations_logs_out_the_fork() {
    let mut h = Harness::on_disk();
    h.press(ch('c'));
    h.press(key(KeyCode::Right));
    assert_eq!(h.top().as_deref(), Some("clone/fork"));
    h.enter();
    closed(&mut h).await;
    let fork = h.st.selected_row().unwrap().name.clone();
    assert_ne!(fork, "alice");
    assert_eq!(
        row_status(&h, &fork),
        Status::Authorized,
        "a login just made"
    );
    h.press(ch('g'));
    assert_eq!(h.st.selected_row().unwrap().name, "alice");
    h.press(ch('a'));
    h.step("auths/list").await;
    h.press(ch('T'));
    h.press(ch('y'));
    h.until("the termination", |st| {
        st.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("terminated"))
    })
    .await;
    assert_eq!(row_status(&h, &fork), Status::LoggedOut);
    assert_ne!(row_status(&h, "alice"), Status::LoggedOut);
}

#[tokio::test]
async fn triage_words_filter_and_sort_by_what_the_last_check_found() {
    let (mut h, _state, file) = with_book();
    let now = START + (T0 / 1000) as i64;
    let alice = h.dir.path().join("alice.session");
    let bob = h.dir.path().join("bob.string");
    StatusBook::update(&file, |b| {
        let mut found = Finding::bare(Found::Authorized, None, now);
        found.two_fa = Some(false);
        found.other_authorizations = Some(2);
        b.put(&alice, &key_of(&alice), found);
        let mut bobs = Finding::bare(Found::Authorized, None, now);
        bobs.two_fa = Some(true);
        bobs.other_authorizations = Some(0);
        bobs.error = Some("GetAuthorizations: FLOOD_WAIT".into());
        b.put(&bob, &key_of(&bob), bobs);
    })
    .unwrap();
    start(&mut h).await;
    h.until("the book's findings", |st| {
        st.known.values().filter(|k| k.finding.is_some()).count() == 2
    })
    .await;
    let shown = |h: &mut Harness, filter: &str| -> Vec<String> {
        h.press(ch('/'));
        for _ in 0..40 {
            h.press(key(KeyCode::Backspace));
        }
        h.type_str(filter);
        h.enter();
        h.st.view
            .iter()
            .map(|i| h.st.rows[*i].name.clone())
            .collect()
    };
    assert_eq!(shown(&mut h, "2fa:off"), ["alice"]);
    assert_eq!(shown(&mut h, "2fa:on"), ["bob"]);
    assert_eq!(shown(&mut h, "devices:>0"), ["alice"]);
    assert_eq!(shown(&mut h, "has:error"), ["bob"]);
    assert_eq!(shown(&mut h, "status:authorized b"), ["bob"]);
    let unknown = shown(&mut h, "status:unknown");
    assert!(!unknown.is_empty() && !unknown.contains(&"alice".to_string()));
    // Sorted by most other devices: alice first, then bob (0), then the unchecked rows.
    shown(&mut h, "");
    while h.st.sort != tgsess::ui::state::SortKey::Devices {
        h.press(ch('s'));
    }
    let order: Vec<String> =
        h.st.view
            .iter()
            .map(|i| h.st.rows[*i].name.clone())
            .collect();
    assert_eq!(&order[..2], ["alice", "bob"]);
}
