//! Everything the CLI prints goes through here. A failed write to standard output is a typed
//! error (`error: …`, exit 1; a reader that went away ends the process quietly, as Unix tools
//! do), and standard error never panics: when it is dead there is nobody left to tell.

use std::fmt::Arguments;
use std::io::{self, Write};

/// Standard output could not be written (a full disk, a closed pipe, a dead terminal).
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output: {0}")]
pub struct StdoutError(io::Error);

impl StdoutError {
    /// The reader went away (`tgsess list | head`): not worth a message.
    pub fn is_closed_pipe(&self) -> bool {
        self.0.kind() == io::ErrorKind::BrokenPipe
    }
}

/// Writes to standard output and flushes, so that an error shows here and not at exit.
pub fn stdout(args: Arguments<'_>) -> Result<(), StdoutError> {
    let mut out = io::stdout().lock();
    out.write_fmt(args)
        .and_then(|()| out.flush())
        .map_err(StdoutError)
}

/// Standard output for a long stream (a listing of 100,000 rows): `write` gets it locked and
/// buffered, and what it wrote is flushed before this returns.
pub fn stdout_stream<T>(
    write: impl FnOnce(&mut dyn Write) -> io::Result<T>,
) -> Result<T, StdoutError> {
    let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let value = write(&mut out).map_err(StdoutError)?;
    out.flush().map_err(StdoutError)?;
    Ok(value)
}

/// Writes to standard error; a failure is ignored (there is no other place to report it).
pub fn stderr(args: Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.flush());
}

/// Ends the process the way a Unix tool does when its reader has gone: killed by SIGPIPE
/// (exit status 141 in a shell, no message).
pub fn exit_closed_pipe() -> ! {
    // SAFETY: resetting SIGPIPE to its default and raising it in this process only.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    std::process::exit(141)
}

/// `println!` that returns a [`StdoutError`] instead of panicking.
macro_rules! outln {
    () => {
        $crate::cli::output::stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::output::stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that returns a [`StdoutError`] instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::stdout(format_args!($($arg)*))
    };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    () => {
        $crate::cli::output::stderr(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::output::stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` that never panics.
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::cli::output::stderr(format_args!($($arg)*))
    };
}

pub(crate) use {err, errln, out, outln};
