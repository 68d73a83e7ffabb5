//! TestBackend snapshots of the fleet panes and rows (issue 12) at 80×24 and 60×16: the bulk
//! menu, the logout confirmation listing every account (with a shared-key warning), marks,
//! and rows during a check.

mod ui_support;

use crossterm::event::KeyCode;
use tgsess::telegram::check::CheckEvent;
use tgsess::ui::msg::{Msg, Outcome, ReqId};
use ui_support::*;

fn snap(h: &Harness, name: &str) {
    for (w, ht) in [(80, 24), (60, 16)] {
        let term = h.terminal(w, ht);
        insta::assert_snapshot!(format!("{name}_{w}x{ht}"), term.backend());
    }
}

/// Alice and Bob marked, and a copy of Alice's key that is not marked.
fn marked() -> Harness {
    let mut rows = fixture_rows();
    let mut copy = rows[0].clone();
    copy.name = "alice-copy".into();
    copy.path = Some("/home/demo/.local/share/tgsess/alice-copy.session".into());
    rows.push(copy);
    let mut h = Harness::empty();
    h.st.set_rows(rows, None);
    h.press(ch(' ')); // alice
    h.press(ch('j')); // past alice-copy
    h.press(ch(' ')); // bob
    h
}

#[tokio::test]
async fn marked_rows() {
    let h = marked();
    snap(&h, "fleet_marked");
}

#[tokio::test]
async fn bulk_menu() {
    let mut h = marked();
    h.press(ch('b'));
    assert_eq!(h.top().as_deref(), Some("bulk/menu"));
    snap(&h, "fleet_bulk_menu");
}

#[tokio::test]
async fn bulk_logout_confirmation() {
    let mut h = marked();
    h.press(ch('b'));
    h.press(key(KeyCode::Down));
    h.enter();
    assert_eq!(h.top().as_deref(), Some("bulk/confirm"));
    snap(&h, "fleet_bulk_logout");
}

#[tokio::test]
async fn rows_during_a_check() {
    let mut h = Harness::new();
    h.fake.hold("check_many");
    h.press(ch('C'));
    let run = h.st.fleet.run.as_ref().unwrap().id;
    // A flood wait on the second row, as the check reports it.
    h.send(Msg::Done(
        ReqId { pane: run, seq: 1 },
        Outcome::Checked(CheckEvent::FloodWait {
            index: 1,
            seconds: 42,
        }),
    ));
    snap(&h, "fleet_checking");
}

#[tokio::test]
async fn bulk_export_form() {
    let mut h = marked();
    h.press(ch('b'));
    for _ in 0..3 {
        h.press(key(KeyCode::Down));
    }
    h.enter();
    assert_eq!(h.top().as_deref(), Some("bulk/export"));
    h.press(key(KeyCode::Tab));
    h.type_str("/home/demo/exported");
    snap(&h, "fleet_bulk_export");
}
