//! Entering and leaving the full-screen mode, on every exit path: quit, error, panic and
//! signals. Mouse capture stays off so text can be selected over SSH.
//!
//! A terminal can vanish under the app (a killed SSH client): output then fails with EIO.
//! [`Screen`] turns that into a flag instead of an error (ratatui would otherwise print to the
//! dead stderr on drop, and printing there panics), and [`watch_hangup`] notices the hang-up
//! even when no SIGHUP arrives.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Term = Terminal<CrosstermBackend<Screen>>;

/// Stdout that stops writing once the terminal is gone, and says so.
pub struct Screen {
    out: io::Stdout,
    lost: Arc<AtomicBool>,
}

impl Screen {
    pub fn new(lost: Arc<AtomicBool>) -> Screen {
        Screen {
            out: io::stdout(),
            lost,
        }
    }

    fn gone(&self, e: &io::Error) -> bool {
        // EIO: the pty was hung up; EPIPE/ENXIO: no reader any more.
        let dead = matches!(
            e.raw_os_error(),
            Some(libc::EIO | libc::EPIPE | libc::ENXIO)
        );
        if dead {
            self.lost.store(true, Ordering::SeqCst);
        }
        dead
    }
}

impl Write for Screen {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.lost.load(Ordering::SeqCst) {
            return Ok(buf.len());
        }
        match self.out.write(buf) {
            Err(e) if self.gone(&e) => Ok(buf.len()),
            other => other,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.lost.load(Ordering::SeqCst) {
            return Ok(());
        }
        match self.out.flush() {
            Err(e) if self.gone(&e) => Ok(()),
            other => other,
        }
    }
}

/// Calls `on_hangup` once the controlling terminal (stdin) hangs up. A thread blocks in
/// `poll` with no events asked for, which still reports POLLHUP: it costs nothing while the
/// terminal lives.
pub fn watch_hangup(on_hangup: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .name("tty-hangup".into())
        .spawn(move || {
            let mut pfd = libc::pollfd {
                fd: libc::STDIN_FILENO,
                events: 0,
                revents: 0,
            };
            loop {
                // SAFETY: one valid pollfd; -1 waits without a timeout.
                let n = unsafe { libc::poll(&mut pfd, 1, -1) };
                if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                if n < 0 || pfd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
                    break;
                }
            }
            on_hangup();
        })
        .map(drop)
        .unwrap_or_else(|e| tracing::warn!("cannot watch the terminal for a hang-up: {e}"));
}

/// Restores the terminal when dropped.
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

pub fn enter() -> io::Result<(Term, Guard)> {
    enter_watched(Arc::new(AtomicBool::new(false)))
}

/// As [`enter`]; `lost` is set once output finds the terminal gone.
pub fn enter_watched(lost: Arc<AtomicBool>) -> io::Result<(Term, Guard)> {
    install_panic_hook();
    enable_raw_mode()?;
    let guard = Guard;
    execute!(
        io::stdout(),
        EnterAlternateScreen,
        EnableBracketedPaste,
        cursor::Hide
    )?;
    let term = Terminal::new(CrosstermBackend::new(Screen::new(lost)))?;
    Ok((term, guard))
}

/// Leaves the alternate screen and raw mode. Safe to call more than once.
pub fn restore() {
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
}

/// The hook restores the terminal first, then prints a short report: the place and message
/// only (no environment, no values), and points to the log.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        restore();
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_else(|| "unknown place".into());
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        tracing::error!(%place, %msg, "panic");
        let _ = writeln!(
            io::stderr(),
            "tgsess stopped unexpectedly at {place}: {msg}"
        );
    }));
}

/// OSC 52: asks the terminal (also over SSH) to put `text` on the clipboard.
pub fn osc52_sequence(text: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\x1b]52;c;{b64}\x07")
}

pub fn copy_to_clipboard(text: &str) -> io::Result<()> {
    let mut out = io::stdout();
    out.write_all(osc52_sequence(text).as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    #[test]
    fn osc52_wraps_base64() {
        assert_eq!(super::osc52_sequence("hi"), "\x1b]52;c;aGk=\x07");
    }
}
