//! The fleet in the TUI (issue 12): marks, and `C` checking every visible row off the UI
//! thread while the list keeps answering keys; Esc stops the run.

mod ui_support;

use std::time::Duration;

use crossterm::event::KeyCode;
use tgsess::ui::state::Status;
use ui_support::*;

async fn until_call(h: &Harness, call: &str) {
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while !h.fake.calls().iter().any(|c| c == call) {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(found.is_ok(), "no '{call}' in {:?}", h.fake.calls());
}

fn selected(h: &Harness) -> String {
    h.st.selected_row().unwrap().name.clone()
}

#[tokio::test]
async fn marks_follow_their_rows_and_clear() {
    let mut h = Harness::new();
    assert_eq!(selected(&h), "alice");
    h.press(ch(' '));
    assert_eq!(selected(&h), "bob", "Space marks and moves on");
    h.press(ch('r')); // reverse the sort: alice moves to the end
    let marked: Vec<String> = tgsess::ui::fleet::marks::marked_rows(&h.st)
        .into_iter()
        .map(|i| h.st.rows[i].name.clone())
        .collect();
    assert_eq!(marked, ["alice"]);
    assert!(
        h.screen(80, 24).contains("│ *alice"),
        "{}",
        h.screen(80, 24)
    );
    h.press(ch('/'));
    h.type_str("o");
    h.enter();
    h.press(ch('*'));
    let filtered = h.st.view.len();
    assert!(h.st.fleet.marks.len() >= filtered);
    assert!(h.screen(80, 24).contains("marked"));
    h.press(ch('u'));
    assert!(h.st.fleet.marks.is_empty());
}

#[tokio::test]
async fn keys_are_handled_while_a_check_of_every_row_runs_and_esc_stops_it() {
    let mut h = Harness::on_disk();
    h.fake.hold("check_many");
    let total = h.st.view.len();
    h.press(ch('C'));
    // The first row's answer arrives; the run then waits (as a slow Telegram would).
    h.until("the first row", |st| {
        st.fleet.run.as_ref().is_some_and(|r| r.done == 1)
    })
    .await;
    let screen = h.screen(80, 24);
    assert!(screen.contains(&format!("1/{total} checked")), "{screen}");
    assert!(screen.contains("queued"), "{screen}");
    // The list answers at once while the check goes on.
    let before = selected(&h);
    h.press(ch('j'));
    assert_ne!(selected(&h), before, "the key moved the selection");
    h.press(ch('?'));
    assert_eq!(h.top().as_deref(), Some("help"));
    assert!(h.st.fleet.run.is_some(), "the check has not finished");
    h.press(key(KeyCode::Esc)); // closes help
    assert!(h.st.fleet.run.is_some());
    h.press(key(KeyCode::Esc)); // stops the run
    assert!(h.st.fleet.run.is_none());
    until_call(&h, "dropped:check_many").await;
    assert!(
        h.screen(80, 24)
            .contains(&format!("stopped: 1 of {total} checked")),
        "{}",
        h.screen(80, 24)
    );
    // The first row keeps what was found; the others show their statuses again.
    let first = &h.st.rows[h.st.view[0]];
    assert_eq!(h.st.status(first), Status::Authorized);
    assert!(!h.screen(80, 24).contains("queued"));
}

#[tokio::test]
async fn a_check_of_the_filtered_rows_finds_each_and_says_how_many() {
    let mut h = Harness::on_disk();
    h.press(ch('/'));
    h.type_str("alice");
    h.enter();
    assert_eq!(h.st.view.len(), 1);
    h.press(ch('C'));
    h.until("the run to end", |st| st.fleet.run.is_none()).await;
    let screen = h.screen(80, 24);
    assert!(
        screen.contains("1 checked: 1 authorized, 0 logged out, 0 errors"),
        "{screen}"
    );
    let bob = h.st.rows.iter().find(|r| r.name == "bob").unwrap();
    assert_eq!(h.st.status(bob), Status::Unknown, "not shown, not checked");
}
