//! Output the binary cannot write: standard output full (`>/dev/full`) or read by nobody
//! (`tgsess list | head`), standard error full. A write error is `error: …` with exit 1, a
//! closed pipe ends the process quietly by SIGPIPE, as Unix tools do; nothing ever panics.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::*;

const TELETHON: &str = "telethon_dc2_user.session";
const STRING: &str = "telethon_string_dc4.txt";

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgsess"));
    cmd.args(args)
        .env("TGSESS_DIR", dir)
        .env("TGSESS_STATE_DIR", dir.join("state"))
        .env_remove("TGSESS_TEST_CRASH_AT")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// A folder holding a SQLite fixture and a string fixture (so that `list` has rows).
fn session_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in [TELETHON, STRING] {
        let copy = dir.path().join(f);
        std::fs::copy(fixtures_dir().join(f), &copy).unwrap();
        // Private, as a session should be: a readable one gets a warning on stderr.
        std::fs::set_permissions(&copy, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
    }
    dir
}

fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux")
}

fn with_full_stdout(dir: &Path, args: &[&str]) -> Output {
    command(dir, args)
        .stdout(dev_full())
        .output()
        .expect("tgsess runs")
}

/// Runs with standard output a pipe whose reading end is already closed.
fn with_closed_pipe(dir: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    command(dir, args)
        .stdout(writer)
        .output()
        .expect("tgsess runs")
}

fn assert_write_error(out: &Output, what: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{what}: {err}");
    assert!(
        err.starts_with("error: cannot write to standard output"),
        "{what}: {err}"
    );
    assert!(!err.contains("panicked"), "{what}: {err}");
}

fn assert_quiet_sigpipe(out: &Output, what: &str) {
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "{what}: {:?} {}",
        out.status,
        stderr(out)
    );
    assert_eq!(stderr(out), "", "{what}");
}

/// Every command that prints something on success, with the session folder `dir`.
fn printing_commands(dir: &Path) -> Vec<Vec<String>> {
    let string = std::fs::read_to_string(dir.join(STRING)).unwrap();
    let fixture = |name: &str| dir.join(name).display().to_string();
    let lines: [&[&str]; 8] = [
        &["list"],
        &["list", "--json"],
        &["inspect", &fixture(TELETHON)],
        &["inspect", &fixture(TELETHON), "--json"],
        &["inspect", string.trim(), "--reveal"],
        &["inspect", "telethon_dc2_user"],
        &[
            "convert",
            &fixture(TELETHON),
            "--to",
            "telethon-string",
            "--reveal",
        ],
        &[
            "convert",
            &fixture(STRING),
            "--to",
            "tgsess-string",
            "-o",
            "-",
        ],
    ];
    lines
        .iter()
        .map(|l| l.iter().map(|s| s.to_string()).collect())
        .collect()
}

#[test]
fn a_full_standard_output_is_an_error_not_a_panic() {
    let dir = session_dir();
    for args in printing_commands(dir.path()) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = with_full_stdout(dir.path(), &args);
        assert_write_error(&out, &label(&args));
    }
}

#[test]
fn a_closed_pipe_ends_quietly_by_sigpipe() {
    let dir = session_dir();
    for args in printing_commands(dir.path()) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = with_closed_pipe(dir.path(), &args);
        assert_quiet_sigpipe(&out, &label(&args));
    }
}

#[test]
fn a_full_standard_error_does_not_panic() {
    let dir = session_dir();
    // An error message, a note and a success line on stderr: each write fails, none panics.
    let cases: [(&[&str], i32); 3] = [
        (&["inspect", "/no/such/file.session"], 1),
        (&["rm", "no-such-session"], 1),
        (&["rm", "telethon_dc2_user"], 0),
    ];
    for (args, code) in cases {
        let out = command(dir.path(), args)
            .stdout(Stdio::piped())
            .stderr(dev_full())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {:?}", out.status);
    }
}

#[test]
fn help_and_version_survive_a_dead_standard_output() {
    let dir = session_dir();
    for args in [&["--help"][..], &["--version"], &["inspect", "--help"]] {
        let out = with_full_stdout(dir.path(), args);
        assert!(
            !stderr(&out).contains("panicked"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert_ne!(out.status.code(), Some(101), "{args:?}");
        let out = with_closed_pipe(dir.path(), args);
        assert!(
            !stderr(&out).contains("panicked"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert_ne!(out.status.code(), Some(101), "{args:?}");
    }
}

/// The command and its first argument (never a whole session string).
fn label(args: &[&str]) -> String {
    args.iter().take(2).copied().collect::<Vec<_>>().join(" ")
}

/// A tgsess string whose cached account name holds terminal controls.
fn hostile_string() -> String {
    let mut session = tgsess::store::Session::new(2);
    session.user_id = Some(42);
    session.user = Some(tgsess::store::SelfUser {
        first_name: Some("Eve\u{1b}]0;pwned\u{7}".into()),
        last_name: Some("\u{9b}2J".into()),
        username: Some("eve\r\nforged line".into()),
        phone: None,
    });
    tgsess::store::encode_string(&session, tgsess::store::Format::TgsessString).unwrap()
}

#[test]
fn inspect_escapes_stored_names_and_keeps_json_exact() {
    let dir = tempfile::tempdir().unwrap();
    let string = hostile_string();
    let out = tgsess(dir.path(), &["inspect", &string]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for raw in ['\u{1b}', '\u{7}', '\u{9b}', '\r'] {
        assert!(!text.contains(raw), "raw {raw:?} in {text:?}");
    }
    assert!(text.contains("Eve\\u{1b}]0;pwned\\u{7}"), "{text}");
    assert!(text.contains("eve\\r\\nforged line"), "{text}");

    let out = tgsess(dir.path(), &["inspect", &string, "--json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["first_name"], "Eve\u{1b}]0;pwned\u{7}");
    assert_eq!(json["username"], "eve\r\nforged line");
}

#[test]
fn error_lines_escape_what_the_user_or_a_file_supplied() {
    let dir = tempfile::tempdir().unwrap();
    let out = tgsess(dir.path(), &["inspect", "/tmp/\u{1b}]0;pwned\u{7}.session"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
}

#[test]
fn the_tui_without_a_terminal_says_what_to_do() {
    let dir = session_dir();
    for stdout in [Stdio::null(), Stdio::piped()] {
        let out = command(dir.path(), &[]).stdout(stdout).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).starts_with("error: the terminal UI needs a terminal"),
            "{}",
            stderr(&out)
        );
    }
}
