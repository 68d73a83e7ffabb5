//! The built binary in a real pseudo-terminal (tests/ui_support/pty.rs + vt100): the list
//! appears, help opens, `q` quits with exit 0 and the alternate screen is left; a lost
//! terminal (hang-up, SIGTERM) ends the app cleanly; closing a pane frees the session it used;
//! the selection follows its session; the export pane fits 80×24. Every wait is on screen
//! content or on the child, with a deadline, never a fixed sleep.

mod ui_support;

use std::ffi::OsStr;
use std::path::Path;

use tgsess::secret::AuthKey;
use tgsess::store::{self, Format, SelfUser, Session};
use ui_support::pty::{Pty, Start};

const DOWN: &[u8] = b"\x1b[B";
const ESC: &[u8] = b"\x1b";

fn session(first: &str, id: i64, key: u8) -> Session {
    let mut s = Session::new(2);
    let home = s.home_mut();
    home.ipv4 = Some(std::net::Ipv4Addr::new(127, 0, 0, 1));
    home.port = Some(10443);
    home.auth_key = Some(AuthKey::new([key; 256]));
    s.user_id = Some(id);
    s.is_bot = Some(false);
    s.api_id = Some(1);
    s.user = Some(SelfUser {
        first_name: Some(first.into()),
        username: Some(first.to_lowercase()),
        ..SelfUser::default()
    });
    s
}

fn write(dir: &Path, name: &str, s: &Session, format: Format) {
    store::write_file(&dir.join(name), s, format).unwrap();
}

/// A home with `sessions/alice-pty.session`, started with `--dir sessions` and `extra`.
fn start(extra: &[&str], rows: u16, cols: u16) -> Pty {
    start_with(extra, rows, cols, false)
}

fn start_with(extra: &[&str], rows: u16, cols: u16, block_sighup: bool) -> Pty {
    let alice = [("alice-pty.session", session("Alice", 1001, 7))];
    start_in(&alice, extra, rows, cols, block_sighup)
}

/// A home whose `sessions` folder holds `files` (tgsess SQLite), started with `--dir`.
fn start_in(
    files: &[(&str, Session)],
    extra: &[&str],
    rows: u16,
    cols: u16,
    block_sighup: bool,
) -> Pty {
    let home = Pty::home();
    let sessions = Pty::sessions(&home);
    // Sandbox mode lists `sandbox-sessions/` of the chosen folder.
    let listed = if extra.iter().any(|a| a.starts_with("--sandbox")) {
        sessions.join("sandbox-sessions")
    } else {
        sessions.clone()
    };
    std::fs::create_dir_all(&listed).unwrap();
    for (name, s) in files {
        write(&listed, name, s, Format::TgsessSqlite);
    }
    let mut args: Vec<&OsStr> = vec![OsStr::new("--dir"), sessions.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    Pty::start(
        home,
        Start {
            rows,
            cols,
            args: &args,
            block_sighup,
            ..Start::default()
        },
    )
}

fn assert_private_log(t: &Pty) {
    use std::os::unix::fs::PermissionsExt;
    let log = t.state_dir.join("tgsess.log");
    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", log.display());
    assert!(t.log().contains("tgsess TUI starting"), "{}", t.log());
}

/// Esc, then waits until `gone` has left the screen (Esc and the next key must not merge).
fn esc(t: &mut Pty, gone: &str) {
    t.send(ESC);
    t.wait_gone(gone);
}

/// Issue 11 item 9, at 80×24: the notice fits, is no warning, stays after keys; the phone
/// pane says what to type; a second launch does not claim "no sessions yet".
#[test]
fn a_newcomer_without_credentials_lands_in_the_sandbox() {
    let home = Pty::home();
    let mut t = Pty::start(home, Start::default());
    t.wait_for("[sandbox]");
    t.wait_for("built-in sandbox DC, no api_id needed: ? lists the demo accounts, n logs in");
    assert!(!t.screen().contains("warning:"), "{}", t.screen());
    t.send(b"?");
    t.wait_for("+9996621111");
    esc(&mut t, "Help: keys");
    t.wait_for("built-in sandbox DC");
    t.send(b"n");
    t.wait_for("New login");
    t.send(b"\r");
    t.wait_for("demo: +9996621111, code 22222");
    t.type_str("+9996621111\r");
    t.wait_for("demo code: 22222");
    t.type_str("22222\r");
    t.wait_for("saved 'session-1'");
    t.send(b"q");
    assert_eq!(t.wait_exit(), 0, "screen:\n{}", t.screen());

    // The second launch, in the same home: the saved session is listed, and nothing says
    // there are none.
    let home = std::mem::replace(&mut t.home, tempfile::tempdir().unwrap());
    drop(t);
    let mut t = Pty::start(home, Start::default());
    t.wait_for("session-1");
    t.wait_for("built-in sandbox DC");
    assert!(!t.screen().contains("no sessions"), "{}", t.screen());
    t.send(b"q");
    assert_eq!(t.wait_exit(), 0, "screen:\n{}", t.screen());
}

#[test]
fn list_help_and_quit_in_a_real_terminal() {
    let mut t = start(&[], 30, 100);
    t.wait_for("alice-pty");
    assert!(t.parser.screen().alternate_screen());
    // No api_id configured and no --sandbox: the app says what to do.
    t.wait_for("try `tgsess --sandbox`");
    t.send(b"?");
    t.wait_for("Help: keys");
    t.wait_for("show this help");
    esc(&mut t, "Help: keys");
    t.send(b"q");
    let code = t.wait_exit();
    assert_eq!(code, 0, "screen:\n{}", t.screen());
    assert!(
        !t.parser.screen().alternate_screen(),
        "the alternate screen was left"
    );
    assert!(
        !t.parser.screen().hide_cursor(),
        "the cursor is visible again"
    );
    assert!(!t.screen().contains("INFO"), "logs never reach the screen");
    assert_private_log(&t);
}

#[test]
fn sighup_restores_the_terminal() {
    let mut t = start(&[], 30, 100);
    t.wait_for("alice-pty");
    // SAFETY: sending a signal to the child we started.
    assert_eq!(unsafe { libc::kill(t.pid(), libc::SIGHUP) }, 0);
    assert_eq!(t.wait_exit(), 129);
    assert!(!t.parser.screen().alternate_screen());
    assert!(t.log().contains("SIGHUP"), "{}", t.log());
}

#[test]
fn sigterm_exits_143_and_restores_the_terminal() {
    let mut t = start(&[], 24, 80);
    t.wait_for("alice-pty");
    // SAFETY: sending a signal to the child we started.
    assert_eq!(unsafe { libc::kill(t.pid(), libc::SIGTERM) }, 0);
    assert_eq!(t.wait_exit(), 143, "screen:\n{}", t.screen());
    assert!(!t.parser.screen().alternate_screen());
    assert!(!t.log().contains("panic"), "{}", t.log());
}

/// A killed SSH client: the pty goes away under the app, which must end at once (129), not
/// panic on a closed stderr, and not spin on the dead terminal.
#[test]
fn a_lost_terminal_ends_the_app() {
    let mut t = start(&[], 24, 80);
    t.wait_for("alice-pty");
    t.hang_up();
    assert_eq!(t.wait_exit(), 129, "log:\n{}", t.log());
    let log = t.log();
    assert!(!log.contains("panic"), "{log}");
}

/// The same when no SIGHUP arrives (blocked here; a shell that does not pass it on does the
/// same): the dead terminal itself must be noticed, and must not be spun on.
#[test]
fn a_lost_terminal_ends_the_app_even_without_sighup() {
    let mut t = start_with(&[], 24, 80, true);
    t.wait_for("alice-pty");
    t.hang_up();
    let code = t.wait_exit();
    assert_eq!(code, 129, "log:\n{}", t.log());
    let log = t.log();
    assert!(!log.contains("panic"), "{log}");
    assert!(
        log.contains("hung up") || log.contains("terminal is gone"),
        "{log}"
    );
}

/// Issue 11 item 1: p, ↓, Enter (set a recovery email), password, ↓, email, Enter, "A code
/// was sent", Esc, then p again must open the editor, not say the session is in use by the
/// TUI's own PID; R, a and L work too.
#[test]
fn closing_the_2fa_email_step_frees_the_session() {
    let mut t = start(&["--sandbox"], 30, 100);
    t.wait_for("[sandbox]");
    t.wait_for("alice-pty");
    t.send(b"n");
    t.wait_for("New login");
    t.send(b"\r");
    t.wait_for("Log in with a phone number");
    t.type_str("+9996622222\r");
    t.wait_for("Code sent");
    t.type_str("22222\r");
    t.wait_for("Hint: the usual");
    t.type_str("sandbox\r");
    t.wait_for("saved 'session-1'");

    t.send(b"p");
    t.wait_for("Change the password or hint");
    t.send(DOWN);
    t.send(b"\r");
    t.wait_for("Recovery email:");
    t.type_str("sandbox");
    t.send(DOWN);
    t.type_str("bob2@sandbox.invalid\r");
    t.wait_for("A code was sent");
    esc(&mut t, "A code was sent");

    t.send(b"p");
    t.wait_for("Change the password or hint");
    assert!(!t.screen().contains("in use"), "{}", t.screen());
    esc(&mut t, "Change the password or hint");
    t.send(b"a");
    t.wait_for("Other authorizations");
    t.wait_until("the device list", |s| {
        s.contains("tgsess") && !s.contains("waiting")
    });
    assert!(!t.screen().contains("in use"), "{}", t.screen());
    esc(&mut t, "Other authorizations");
    t.send(b"R");
    t.wait_for("authorized as Bob");
    t.send(b"L");
    t.wait_for("Log out");
    assert!(!t.screen().contains("in use"), "{}", t.screen());
    esc(&mut t, "Log out");
    t.send(b"q");
    assert_eq!(t.wait_exit(), 0, "screen:\n{}", t.screen());
}

#[test]
fn sandbox_phone_login_in_a_real_terminal() {
    let mut t = start(&["--sandbox"], 30, 100);
    t.wait_for("[sandbox]");
    t.wait_for("alice-pty");
    t.send(b"n");
    t.wait_for("New login");
    t.send(b"\r");
    t.wait_for("Log in with a phone number");
    t.type_str("+9996621111\r");
    t.wait_for("Code sent");
    t.type_str("22222\r");
    t.wait_for("Alice Sandbox");
    t.wait_for("saved 'session-1'");
    t.send(b"?");
    t.wait_for("Sandbox demo accounts");
    esc(&mut t, "Help: keys");
    t.send(b"q");
    assert_eq!(t.wait_exit(), 0, "screen:\n{}", t.screen());
    assert!(!t.parser.screen().alternate_screen());
}

/// Issue 11 item 5: a tgsess string at 80×24 does not fit; the pane scrolls with PgDn to its
/// last characters and keeps the copy hint in view.
#[test]
fn the_export_pane_scrolls_at_80x24() {
    // Keys for all five DCs, as a session that has been used a while has.
    let mut s = session("Alice", 1001, 7);
    for dc in 1..=5 {
        let entry = s.dc_mut(dc);
        entry.ipv4 = Some(std::net::Ipv4Addr::new(127, 0, 0, 1));
        entry.port = Some(10440 + dc as u16);
        entry.auth_key = Some(AuthKey::new([dc as u8 * 17; 256]));
    }
    let mut t = start_in(&[("fleet.session", s.clone())], &[], 24, 80, false);
    t.wait_for("fleet");
    t.send(b"e");
    t.wait_for("Export / reveal");
    t.send(b"y");
    t.wait_for("c: copy");
    let expected = {
        let (prepared, _) = tgsess::store::convert::prepare(
            &s,
            Format::TgsessString,
            &tgsess::store::convert::Overrides::default(),
        )
        .unwrap();
        tgsess::store::encode_string(&prepared, Format::TgsessString).unwrap()
    };
    let tail: String = expected
        .chars()
        .rev()
        .take(12)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    // Wait for the whole frame (a read can end mid-frame): its last part is the border mark.
    t.wait_for("↓ more: PgDn");
    assert!(!t.screen().contains(&tail), "the end is below the fold");
    for _ in 0..4 {
        t.send(b"\x1b[6~");
    }
    t.wait_for(&tail);
    t.wait_for("c: copy");
    esc(&mut t, "Export / reveal");
    t.send(b"q");
    assert_eq!(t.wait_exit(), 0);
}

/// Issue 11 item 3: `s`, `r`, a filter and `R` move rows around; the selection stays on its
/// session, so the next action acts on it.
#[test]
fn the_selection_follows_its_session_in_a_real_terminal() {
    let home = Pty::home();
    let sessions = Pty::sessions(&home);
    write(
        &sessions,
        "alpha.session",
        &session("Ann", 11, 1),
        Format::TgsessSqlite,
    );
    write(
        &sessions,
        "beta.string",
        &session("Ben", 12, 2),
        Format::TgsessString,
    );
    write(
        &sessions,
        "gamma.session",
        &session("Gil", 13, 3),
        Format::TgsessSqlite,
    );
    let args = [OsStr::new("--dir"), sessions.as_os_str()];
    let mut t = Pty::start(
        home,
        Start {
            args: &args,
            ..Start::default()
        },
    );
    let beta_selected = |s: &str| s.lines().any(|l| l.contains('▶') && l.contains("beta"));
    t.wait_for("gamma");
    t.send(b"j");
    t.wait_until("beta selected", |s| {
        s.lines().any(|l| l.contains('▶') && l.contains("beta"))
    });
    let steps = [
        (&b"s"[..], "sort: backend ↑"),
        (b"r", "sort: backend ↓"),
        (b"s", "sort: format ↓"),
        (b"r", "sort: format ↑"),
    ];
    // A read can end mid-frame (the header comes first): wait for the frame whose header says
    // the new order and whose selected row is beta; with the selection left at its index it
    // would be gamma, and this would time out.
    for (key, header) in steps {
        t.send(key);
        t.wait_until(header, |s| s.contains(header) && beta_selected(s));
    }
    t.send(b"/bet\r");
    t.wait_until("filter: bet", |s| {
        s.contains("filter: bet") && beta_selected(s)
    });
    t.send(b"/");
    t.wait_for("/bet");
    t.send(ESC);
    t.wait_until("no filter", |s| {
        !s.contains("filter: bet") && beta_selected(s)
    });
    t.send(b"R");
    t.wait_until("the reload", |s| s.contains("3 of 3") && beta_selected(s));
    t.send(b"e");
    t.wait_for("in session 'beta'");
    esc(&mut t, "Export / reveal");
    t.send(b"q");
    assert_eq!(t.wait_exit(), 0);
}

/// Issue 11 item 8: enlarging the window and then quitting leaves nothing on the normal
/// screen (everything was drawn on the alternate one).
#[test]
fn enlarging_then_quitting_leaves_the_normal_screen_clean() {
    let mut t = start(&[], 24, 80);
    t.wait_for("alice-pty");
    t.resize(40, 120);
    t.wait_until("the redraw at 120 columns", |s| {
        s.lines().next().is_some_and(|l| l.trim_end().len() > 100)
    });
    t.send(b"q");
    assert_eq!(t.wait_exit(), 0);
    assert!(!t.parser.screen().alternate_screen());
    let left = t.screen();
    assert!(
        left.trim().is_empty(),
        "fragments on the normal screen:\n{left}"
    );
}
