//! The TUI over a fleet (issue 12): statuses found by `tgsess check` show when the TUI starts
//! on the same folder, without a key press (pty, against `tgsess sandbox serve`).

mod fleet_support;
mod ui_support;

use std::ffi::OsStr;

use fleet_support::{Fleet, Serve};
use tgsess::store::Format;
use ui_support::pty::{Pty, Start};

#[test]
fn the_tui_shows_what_check_found_without_a_key_press() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("sandbox");
    let _serve = Serve::start(&state);
    let mut fleet = Fleet::new(&state, &home.path().join("sessions"));
    let alice = fleet.add_user("9996621001", "Alice", None);
    fleet.logged_in(alice, "alice-0", Format::TgsessSqlite);
    fleet.logged_in(alice, "alice-1", Format::TelethonString);
    fleet.logged_out("gone", Format::TelethonString);
    let out = fleet_support::tgsess(home.path())
        .arg("check")
        .arg("--sandbox-state")
        .arg(&state)
        .arg("--dir")
        .arg(&fleet.chosen_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("3 checked: 2 authorized, 1 logged out"),
        "{table}"
    );

    // The same home: the same state folder, so the same status book.
    let args: Vec<&OsStr> = vec![
        OsStr::new("--sandbox-state"),
        state.as_os_str(),
        OsStr::new("--dir"),
        fleet.chosen_dir.as_os_str(),
    ];
    let mut t = Pty::start(
        home,
        Start {
            args: &args,
            ..Start::default()
        },
    );
    t.wait_until("the three statuses", |s| {
        let line = |name: &str| s.lines().find(|l| l.contains(name)).map(str::to_string);
        line("alice-0").is_some_and(|l| l.contains("authorized"))
            && line("alice-1").is_some_and(|l| l.contains("authorized"))
            && line("gone").is_some_and(|l| l.contains("logged out"))
    });
    // The details say when.
    t.wait_for("authorized · just now");
    t.send(b"q");
    assert_eq!(t.wait_exit(), 0);
}
