//! The TUI over a fleet (issue 12): statuses found by `tgsess check` show when the TUI starts
//! on the same folder, without a key press (pty, against `tgsess sandbox serve`).

mod fleet_support;
mod ui_support;

use ui_support::tgsess_bin;

use std::ffi::OsStr;

use std::time::{Duration, Instant};

use fleet_support::{FORMATS, Fleet, Serve};
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

/// A measurement, not a pass/fail timing: how long the TUI takes to answer a key (the
/// selection moving on screen, through a real pty) while `C` checks 200 sandbox sessions.
/// Run: `cargo test --release --test fleet_tui -- --ignored --nocapture`.
#[test]
#[ignore]
fn key_latency_while_a_check_of_200_runs() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("sandbox");
    let _serve = Serve::start(&state);
    let mut fleet = Fleet::new(&state, &home.path().join("sessions"));
    let dcs = [1, 2, 3, 4, 5];
    for a in 0..20 {
        let id = fleet.add_user(&format!("99966{}4{a:03}", dcs[a % 5]), "Bench", None);
        for s in 0..10 {
            fleet.logged_in(
                id,
                &format!("a{a:02}-s{s:02}"),
                FORMATS[(a + s) % FORMATS.len()],
            );
        }
    }
    let args: Vec<&OsStr> = vec![
        OsStr::new("--sandbox-state"),
        state.as_os_str(),
        OsStr::new("--dir"),
        fleet.chosen_dir.as_os_str(),
    ];
    let mut t = Pty::start(
        home,
        Start {
            rows: 40,
            cols: 120,
            args: &args,
            ..Start::default()
        },
    );
    t.wait_for("a00-s00");
    let selected = |s: &str| s.lines().find(|l| l.contains('▶')).map(str::to_string);
    t.send(b"C");
    t.wait_for("checked ·");
    let mut samples = Vec::new();
    let mut at_second = false;
    while samples.len() < 60 && t.screen().contains("checked ·") {
        let (key, want) = if at_second {
            (b"k", "a00-s00")
        } else {
            (b"j", "a00-s01")
        };
        let started = Instant::now();
        t.send(key);
        t.wait_until("the selection to move", |s| {
            selected(s).is_some_and(|l| l.contains(want))
        });
        samples.push(started.elapsed());
        at_second = !at_second;
    }
    let progress = t
        .screen()
        .lines()
        .find(|l| l.contains("checked"))
        .unwrap_or_default()
        .trim()
        .to_string();
    samples.sort();
    assert!(!samples.is_empty(), "the check ended before a key was sent");
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{} keys during the check of 200: median {:.1} ms, p90 {:.1} ms, max {:.1} ms (then: {progress})",
        samples.len(),
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() * 9 / 10]),
        ms(*samples.last().unwrap()),
    );
    // Esc alone (a lone ESC byte followed by another would read as Alt-key), then quit.
    t.send(&[0x1b]);
    t.wait_until("the run to stop", |s| !s.contains("checked ·"));
    t.send(b"q");
    assert_eq!(t.wait_exit(), 0);
}
