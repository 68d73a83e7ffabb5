//! Helpers shared by the store integration tests: the fixtures and their manifest.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sessions")
}

/// Every fixture entry of `manifest.json` (written alongside the files by the real libraries).
pub fn manifest() -> Vec<Value> {
    let text = std::fs::read_to_string(fixtures_dir().join("manifest.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["fixtures"].as_array().unwrap().clone()
}

pub fn fixture_path(entry: &Value) -> PathBuf {
    fixtures_dir().join(entry["file"].as_str().unwrap())
}

/// The fields `inspect --json --reveal` must reproduce exactly.
pub const MANIFEST_FIELDS: [&str; 10] = [
    "format",
    "dc_id",
    "server_address",
    "port",
    "user_id",
    "is_bot",
    "api_id",
    "test_mode",
    "auth_key_id_hex",
    "auth_key_hex",
];

/// Runs the real binary with a private session directory.
pub fn tgsess(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tgsess"))
        .args(args)
        .env("TGSESS_DIR", dir)
        .env_remove("TGSESS_TEST_CRASH_AT")
        .output()
        .expect("run tgsess")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Names and contents of every file below `dir`, to show that nothing changed.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Waits for `child` and its output, killing it and failing the test after `limit` (a command
/// that blocks must fail the test, not hang it).
pub fn wait_bounded(child: std::process::Child, limit: std::time::Duration) -> Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("wait for tgsess"),
        Err(_) => {
            // SAFETY: kill(2) on the pid of the child this test started.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("tgsess did not finish within {limit:?} (it blocked)");
        }
    }
}

/// The python of a client library's venv (`TGSESS_VENVS`, default /tmp/fmt/venvs; made by
/// scripts/setup-venvs.sh), if it exists.
pub fn venv_python(name: &str) -> Option<PathBuf> {
    let root = std::env::var_os("TGSESS_VENVS")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/tmp/fmt/venvs".into());
    let py = root.join(name).join("bin/python");
    py.exists().then_some(py)
}

/// Says that an optional test skipped, where `cargo test` shows it: written straight to the
/// process's stderr, which the test harness does not capture (eprintln! output it does).
pub fn notice_skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\nSKIPPED {test}: {why}. Run scripts/setup-venvs.sh to make the venvs (or point TGSESS_VENVS at them).\n"
    );
}
