//! Error messages that say the right thing: SQLite bytes on standard input are "standard
//! input" (never a temporary path, and nothing is written to disk), and a sandbox port in use
//! says the OS error once, with what to do.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::*;

fn inspect_stdin(bytes: &[u8]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgsess"))
        .args(["inspect", "-", "--json"])
        .env("TGSESS_DIR", dir.path())
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let bytes = bytes.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&bytes);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        std::fs::read_dir(tmp.path()).unwrap().next().is_none(),
        "nothing is written to the temporary folder"
    );
    out
}

#[test]
fn sqlite_on_standard_input_is_read_in_memory() {
    for entry in manifest()
        .into_iter()
        .filter(|e| e["file"].as_str().unwrap().ends_with(".session"))
    {
        let bytes = std::fs::read(fixture_path(&entry)).unwrap();
        let out = inspect_stdin(&bytes);
        assert!(out.status.success(), "{}: {}", entry["file"], stderr(&out));
        let got: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(got["auth_key_id_hex"], entry["auth_key_id_hex"]);
        assert_eq!(got["format"], entry["format"]);
    }
}

#[test]
fn damaged_sqlite_on_standard_input_is_named_standard_input() {
    let good = std::fs::read(fixtures_dir().join("telethon_dc2_user.session")).unwrap();
    let mut damaged = good.clone();
    damaged.truncate(1000);
    let mut header_only = b"SQLite format 3\0".to_vec();
    header_only.extend_from_slice(&[0xff; 200]);
    let mut wrong_tables = good;
    // Rename the `sessions` table in the schema text: a SQLite file, but no session.
    let at = wrong_tables
        .windows(15)
        .position(|w| w == b"TABLE sessions ")
        .expect("the schema names the sessions table");
    wrong_tables[at + 6..at + 14].copy_from_slice(b"sessionz");
    for (what, bytes) in [
        ("truncated", damaged),
        ("header only", header_only),
        ("not a session", wrong_tables),
    ] {
        let out = inspect_stdin(&bytes);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(err.starts_with("error: standard input"), "{what}: {err}");
        assert!(
            !err.contains("/tmp") && !err.contains(".tmp"),
            "{what}: {err}"
        );
    }
}

#[test]
fn a_sandbox_port_in_use_says_the_os_error_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let state = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tgsess"))
        .args(["sandbox", "serve", "--listen", &port.to_string(), "--state"])
        .arg(state.path())
        .env("TGSESS_STATE_DIR", state.path().join("log"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert_eq!(err.matches("os error").count(), 1, "{err}");
    assert!(err.contains("--listen"), "says what to do: {err}");
}
