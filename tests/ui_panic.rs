//! A panic restores the terminal before anything is printed, and the report shows no secret.
//! The test runs a child (this test binary, one ignored helper test) in a real pty.

use std::io::Read;
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

/// The child: enters the TUI's terminal mode, then panics with a secret in scope.
#[test]
#[ignore = "helper: run by panic_restores_the_terminal in a pty"]
fn panic_child() {
    let (_term, _guard) = tgsess::ui::terminal::enter().unwrap();
    let secret = tgsess::secret::SecretString::new("hunter2-very-secret");
    panic!("boom while holding {secret:?}");
}

#[test]
fn panic_restores_the_terminal() {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 100,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "panic_child",
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd.env("TERM", "xterm-256color");
    cmd.env("RUST_BACKTRACE", "0");
    // The child starts in a folder of its own: portable-pty would start it in $HOME, which
    // need not exist where the tests run.
    let home = tempfile::tempdir().unwrap();
    cmd.cwd(home.path());
    cmd.env("HOME", home.path());
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let _master = pty.master;
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut vt = vt100::Parser::new(24, 100, 200);
    let mut raw = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    // Read until the child has exited and its output has ended.
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "the child did not finish:\n{}",
            vt.screen().contents()
        );
        match rx.recv_timeout(left.min(Duration::from_millis(500))) {
            Ok(bytes) => {
                vt.process(&bytes);
                raw.extend_from_slice(&bytes);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if child.try_wait().unwrap().is_some() && rx.try_recv().is_err() {
                    break;
                }
            }
        }
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "the helper panics");
    let text = String::from_utf8_lossy(&raw);
    let screen = vt.screen();
    assert!(!screen.alternate_screen(), "the alternate screen was left");
    assert!(!screen.hide_cursor(), "the cursor is back");
    assert!(text.contains("tgsess stopped unexpectedly at"), "{text}");
    assert!(text.contains("<redacted>"), "{text}");
    assert!(
        !text.contains("hunter2-very-secret"),
        "no secret in the report:\n{text}"
    );
    // The report comes after the terminal was restored, so it is readable on the main screen.
    let report = text.find("tgsess stopped").unwrap();
    let left_alt = text
        .find("\x1b[?1049l")
        .expect("leaves the alternate screen");
    assert!(left_alt < report, "restored before the report");
}
