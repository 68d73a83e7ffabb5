//! On a terminal, the login code and the 2FA password are read without echo: the real binary
//! in a pseudo-terminal, against a sandbox running in this test process (127.0.0.1).

mod tgsess_bin;

use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use portable_pty::{PtySize, native_pty_system};
use tgsess::sandbox::{Sandbox, SandboxConfig};

/// Collects terminal output until `needle` shows up or the deadline passes.
fn read_until(rx: &mpsc::Receiver<Vec<u8>>, seen: &mut String, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !seen.contains(needle) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            Err(_) => panic!("'{needle}' did not appear; terminal so far:\n{seen}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_and_password_are_not_echoed() {
    let state = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(SandboxConfig {
        state_dir: Some(state.path().to_path_buf()),
        seed: true,
        base_port: 0,
    })
    .await
    .unwrap();

    let mut cmd = tgsess_bin::pty_command();
    cmd.arg("--dir");
    cmd.arg(home.path().join("sessions"));
    cmd.arg("--sandbox-state");
    cmd.arg(state.path());
    cmd.args(["login", "phone", "bob", "--phone", "9996622222"]);
    cmd.env("HOME", home.path());
    cmd.env("TGSESS_DIR", home.path().join("data"));
    cmd.env("TGSESS_CONFIG", home.path().join("none.toml"));
    cmd.env("TGSESS_LOCK_DIR", home.path().join("locks"));
    cmd.env_remove("TG_API_ID");
    cmd.env_remove("TG_API_HASH");

    let transcript = tokio::task::spawn_blocking(move || {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let mut writer = pair.master.take_writer().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let mut seen = String::new();
        read_until(&rx, &mut seen, "Login code");
        writer.write_all(b"22222\r").unwrap();
        read_until(&rx, &mut seen, "2FA password");
        writer.write_all(b"sandbox\r").unwrap();
        read_until(&rx, &mut seen, "Logged in as");
        let status = child.wait().unwrap();
        assert!(status.success(), "{seen}");
        seen
    })
    .await
    .unwrap();
    assert!(transcript.contains("the usual"), "{transcript}");
    assert!(
        !transcript.contains("22222"),
        "the code was echoed:\n{transcript}"
    );
    assert!(
        !transcript.contains("sandbox\r"),
        "the password was echoed:\n{transcript}"
    );
    assert!(
        !transcript.contains("sandbox\n"),
        "the password was echoed:\n{transcript}"
    );
    sandbox.stop().await;
}
