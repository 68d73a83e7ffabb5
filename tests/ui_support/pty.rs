//! The built binary in a real pseudo-terminal, read through a vt100 emulator. The pty is made
//! here with libc (not a helper thread), so a test can resize it or hang it up as a dropped SSH
//! connection does. Every wait is on screen content or on the child, with a deadline.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

pub const DEADLINE: Duration = Duration::from_secs(30);

pub struct Pty {
    child: Child,
    master: Option<std::fs::File>,
    pub parser: vt100::Parser,
    pub home: tempfile::TempDir,
    pub state_dir: PathBuf,
    /// Everything the app wrote, for checks on the normal screen after it exits.
    pub raw: Vec<u8>,
}

/// How to start the app.
pub struct Start<'a> {
    pub rows: u16,
    pub cols: u16,
    pub args: &'a [&'a OsStr],
    /// Start with SIGHUP blocked, so that none is ever delivered: the app must notice the
    /// dead terminal by itself (a handler would override a mere "ignore").
    pub block_sighup: bool,
    pub env: &'a [(&'a str, &'a OsStr)],
}

impl Default for Start<'_> {
    fn default() -> Self {
        Start {
            rows: 24,
            cols: 80,
            args: &[],
            block_sighup: false,
            env: &[],
        }
    }
}

fn winsize(rows: u16, cols: u16) -> libc::winsize {
    libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

impl Pty {
    /// Starts tgsess in a fresh home folder (also its working folder, so a missing `$HOME`
    /// of the test runner never matters). `home` may be prepared first with [`Pty::home`].
    pub fn start(home: tempfile::TempDir, opts: Start) -> Pty {
        let mut master: libc::c_int = -1;
        let mut slave: libc::c_int = -1;
        let ws = winsize(opts.rows, opts.cols);
        // SAFETY: openpty writes two fds into the given ints; no name buffer or termios.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &ws,
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both fds were just opened and are owned here alone.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        set_cloexec(&master);
        let state_dir = home.path().join("state");
        let mut cmd = super::tgsess_bin::command();
        cmd.args(opts.args)
            .env_clear()
            .env(
                super::tgsess_bin::LOOPBACK_ONLY.0,
                super::tgsess_bin::LOOPBACK_ONLY.1,
            )
            .env("TERM", "xterm-256color")
            .env("HOME", home.path())
            .env("TGSESS_STATE_DIR", &state_dir)
            .env("TGSESS_CONFIG_DIR", home.path().join("config"))
            .env("TGSESS_LOCK_DIR", home.path().join("locks"))
            .current_dir(home.path())
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        for (k, v) in opts.env {
            cmd.env(k, v);
        }
        let block = opts.block_sighup;
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if block {
                    let mut set: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut set);
                    libc::sigaddset(&mut set, libc::SIGHUP);
                    libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        drop(cmd); // closes the parent's copies of the slave
        Pty {
            child,
            master: Some(std::fs::File::from(master)),
            parser: vt100::Parser::new(opts.rows, opts.cols, 0),
            home,
            state_dir,
            raw: Vec::new(),
        }
    }

    /// A home folder with a `sessions` folder in it.
    pub fn home() -> tempfile::TempDir {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join("sessions")).unwrap();
        home
    }

    pub fn sessions(home: &tempfile::TempDir) -> PathBuf {
        home.path().join("sessions")
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn screen(&self) -> String {
        self.parser.screen().contents()
    }

    /// Reads what is there within `wait`; false when the app's side of the pty is gone.
    fn pump(&mut self, wait: Duration) -> bool {
        let Some(master) = &mut self.master else {
            return false;
        };
        let mut pfd = libc::pollfd {
            fd: master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = wait.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n <= 0 {
            return true;
        }
        let mut buf = [0u8; 16384];
        match master.read(&mut buf) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.parser.process(&buf[..n]);
                self.raw.extend_from_slice(&buf[..n]);
                true
            }
        }
    }

    pub fn wait_for(&mut self, want: &str) {
        self.wait_until(want, |s| s.contains(want));
    }

    pub fn wait_gone(&mut self, text: &str) {
        self.wait_until(&format!("'{text}' to go"), |s| !s.contains(text));
    }

    pub fn wait_until(&mut self, want: &str, done: impl Fn(&str) -> bool) {
        let end = Instant::now() + DEADLINE;
        while !done(&self.screen()) {
            let left = end.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "'{want}' did not appear within {DEADLINE:?}; screen:\n{}",
                self.screen()
            );
            if !self.pump(left.min(Duration::from_millis(200))) {
                panic!(
                    "the app exited before '{want}' appeared; screen:\n{}",
                    self.screen()
                );
            }
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        let master = self.master.as_mut().expect("the pty is open");
        master.write_all(bytes).unwrap();
        master.flush().unwrap();
    }

    /// Types text (the app reads bytes in order). A lone Esc must be followed by a wait for
    /// its effect before the next key, or the two read as Alt-key.
    pub fn type_str(&mut self, s: &str) {
        self.send(s.as_bytes());
    }

    /// New window size (the kernel sends SIGWINCH).
    pub fn resize(&mut self, rows: u16, cols: u16) {
        let master = self.master.as_ref().expect("the pty is open");
        let ws = winsize(rows, cols);
        // SAFETY: TIOCSWINSZ reads one winsize.
        let rc = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
        assert_eq!(rc, 0);
        self.parser.screen_mut().set_size(rows, cols);
    }

    /// Closes our side of the pty, as a killed SSH client or terminal window does.
    pub fn hang_up(&mut self) {
        self.master = None;
    }

    /// Waits for the exit, reading the last output; the exit code (128 + n for signal n).
    pub fn wait_exit(&mut self) -> i32 {
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                while self.pump(Duration::from_millis(300)) && self.master.is_some() {
                    // Drain the restore sequences until the pty reports its end.
                    if Instant::now() > end {
                        break;
                    }
                }
                return status
                    .code()
                    .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
            }
            assert!(
                Instant::now() < end,
                "the app did not exit; screen:\n{}",
                self.screen()
            );
            if self.master.is_none() || !self.pump(Duration::from_millis(100)) {
                // Nothing to read from: wait on the child itself, in short steps.
                wait_child(&mut self.child, Duration::from_millis(100));
            }
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.state_dir.join("tgsess.log")).unwrap_or_default()
    }

    pub fn home_path(&self) -> &Path {
        self.home.path()
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn set_cloexec(fd: &OwnedFd) {
    // SAFETY: F_SETFD on an fd we own.
    unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
}

/// Blocks up to `step` for the child to exit: poll on a pidfd, an event, not a sleep.
fn wait_child(child: &mut Child, step: Duration) {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, child.id() as libc::pid_t, 0) };
    if fd < 0 {
        return; // already reaped, or an old kernel: the caller's loop tries again
    }
    // SAFETY: the fd was just opened and is owned here alone.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) };
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut pfd, 1, step.as_millis() as i32) };
}
