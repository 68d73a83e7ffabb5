//! The built binary in a real pseudo-terminal (portable-pty + vt100): the list appears, help
//! opens, `q` quits with exit 0 and the alternate screen is left; SIGHUP also restores the
//! terminal. Every wait is on screen content with a deadline, never a fixed sleep.

mod tgsess_bin;

use std::io::{Read, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use portable_pty::{Child, PtySize, native_pty_system};
use tgsess::secret::AuthKey;
use tgsess::store::{self, Format, SelfUser, Session};

const ROWS: u16 = 30;
const COLS: u16 = 100;
const DEADLINE: Duration = Duration::from_secs(30);

struct Tui {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    output: Receiver<Vec<u8>>,
    parser: vt100::Parser,
    _dirs: tempfile::TempDir,
    state_dir: std::path::PathBuf,
}

fn alice() -> Session {
    let mut s = Session::new(2);
    let home = s.home_mut();
    home.ipv4 = Some(std::net::Ipv4Addr::new(127, 0, 0, 1));
    home.port = Some(10443);
    home.auth_key = Some(AuthKey::new([7; 256]));
    s.user_id = Some(1001);
    s.is_bot = Some(false);
    s.api_id = Some(1);
    s.user = Some(SelfUser {
        first_name: Some("Alice".into()),
        username: Some("alice".into()),
        ..SelfUser::default()
    });
    s
}

impl Tui {
    fn start(extra: &[&str]) -> Tui {
        Self::start_in(extra, true)
    }

    /// `with_dir: false` runs as a newcomer would: no `--dir`, an empty home folder.
    fn start_in(extra: &[&str], with_dir: bool) -> Tui {
        let dirs = tempfile::tempdir().unwrap();
        let sessions = dirs.path().join("sessions");
        // Sandbox mode keeps its sessions in `sandbox-sessions/` of the chosen folder.
        let listed = if extra.contains(&"--sandbox") {
            sessions.join("sandbox-sessions")
        } else {
            sessions.clone()
        };
        std::fs::create_dir_all(&listed).unwrap();
        store::write_file(
            &listed.join("alice-pty.session"),
            &alice(),
            Format::TgsessSqlite,
        )
        .unwrap();
        let state_dir = dirs.path().join("state");

        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = tgsess_bin::pty_command();
        if with_dir {
            cmd.arg("--dir");
            cmd.arg(&sessions);
        }
        for a in extra {
            cmd.arg(a);
        }
        cmd.env_clear();
        cmd.env(tgsess_bin::LOOPBACK_ONLY.0, tgsess_bin::LOOPBACK_ONLY.1);
        cmd.env("TERM", "xterm-256color");
        cmd.env("HOME", dirs.path());
        cmd.env("TGSESS_STATE_DIR", &state_dir);
        cmd.env("TGSESS_CONFIG_DIR", dirs.path().join("config"));
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let _master = pty.master; // keep the pty open while reading
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Tui {
            child,
            writer,
            output: rx,
            parser: vt100::Parser::new(ROWS, COLS, 0),
            _dirs: dirs,
            state_dir,
        }
    }

    fn screen(&self) -> String {
        self.parser.screen().contents()
    }

    /// Feeds output to the terminal emulator until `want` is on screen.
    fn wait_for(&mut self, want: &str) {
        self.wait_until(want, |screen| screen.contains(want));
    }

    fn wait_gone(&mut self, text: &str) {
        self.wait_until(&format!("'{text}' to go"), |screen| !screen.contains(text));
    }

    fn wait_until(&mut self, want: &str, done: impl Fn(&str) -> bool) {
        let end = Instant::now() + DEADLINE;
        while !done(&self.screen()) {
            let left = end.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(bytes) => self.parser.process(&bytes),
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "'{want}' did not appear within {DEADLINE:?}; screen:\n{}",
                        self.screen()
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "the app exited before '{want}' appeared; screen:\n{}",
                        self.screen()
                    )
                }
            }
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    /// Waits for the exit, reading the last output; returns the exit code.
    fn wait_exit(&mut self) -> u32 {
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Drain what is left (the restore sequences).
                while let Ok(bytes) = self.output.recv_timeout(Duration::from_millis(500)) {
                    self.parser.process(&bytes);
                }
                return status.exit_code();
            }
            let left = end.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the app did not exit; screen:\n{}",
                self.screen()
            );
            // Block on output (or its end) rather than sleeping.
            if let Ok(bytes) = self
                .output
                .recv_timeout(left.min(Duration::from_millis(200)))
            {
                self.parser.process(&bytes);
            }
        }
    }
}

fn assert_private_log(state_dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let log = state_dir.join("tgsess.log");
    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", log.display());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("tgsess TUI starting"), "{text}");
}

#[test]
fn a_newcomer_without_credentials_lands_in_the_sandbox() {
    let mut t = Tui::start_in(&[], false);
    t.wait_for("[sandbox]");
    t.wait_for("built-in sandbox DC");
    t.send(b"?");
    t.wait_for("+9996621111");
    t.send(b"\x1b");
    t.wait_gone("Help: keys");
    t.send(b"q");
    assert_eq!(t.wait_exit(), 0, "screen:\n{}", t.screen());
}

#[test]
fn list_help_and_quit_in_a_real_terminal() {
    let mut t = Tui::start(&[]);
    t.wait_for("alice-pty");
    assert!(t.parser.screen().alternate_screen());
    // No api_id configured and no --sandbox: the app says what to do.
    t.wait_for("try `tgsess --sandbox`");
    t.send(b"?");
    t.wait_for("Help: keys");
    t.wait_for("show this help");
    t.send(b"\x1b");
    // Esc must be seen alone (Esc then q in one read would be Alt-q).
    t.wait_gone("Help: keys");
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
    assert_private_log(&t.state_dir);
}

#[test]
fn sighup_restores_the_terminal() {
    let mut t = Tui::start(&[]);
    t.wait_for("alice-pty");
    let pid = t.child.process_id().expect("a pid") as i32;
    // SAFETY: sending a signal to the child we started.
    let rc = unsafe { libc::kill(pid, libc::SIGHUP) };
    assert_eq!(rc, 0);
    let code = t.wait_exit();
    assert_eq!(code, 129);
    assert!(!t.parser.screen().alternate_screen());
    let log = std::fs::read_to_string(t.state_dir.join("tgsess.log")).unwrap();
    assert!(log.contains("SIGHUP"), "{log}");
}

#[test]
fn sandbox_phone_login_in_a_real_terminal() {
    let mut t = Tui::start(&["--sandbox"]);
    t.wait_for("[sandbox]");
    t.wait_for("alice-pty");
    t.send(b"n");
    t.wait_for("New login");
    t.send(b"\r");
    t.wait_for("Log in with a phone number");
    t.send(b"+9996621111\r");
    t.wait_for("Code sent");
    t.send(b"22222\r");
    t.wait_for("Alice Sandbox");
    t.wait_for("saved 'session-1'");
    t.send(b"?");
    t.wait_for("Sandbox demo accounts");
    t.send(b"\x1b");
    t.wait_gone("Help: keys");
    t.send(b"q");
    assert_eq!(t.wait_exit(), 0, "screen:\n{}", t.screen());
    assert!(!t.parser.screen().alternate_screen());
}
