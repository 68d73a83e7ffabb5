//! The log file, shared by the TUI and the CLI commands: `tgsess.log` (0600) in the state
//! folder, never the screen. Nothing logged holds a secret: callers log names of commands and
//! errors, never arguments (session strings, tokens and passwords travel as arguments).

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// Starts file logging at `level` (default `info`). Returns the log file's path, or `None`
/// when no state folder is available (then nothing is logged).
pub fn init(level: Option<&str>) -> Option<PathBuf> {
    let dir = crate::fsutil::state_dir()?;
    crate::fsutil::ensure_private_dir(&dir).ok()?;
    let path = dir.join("tgsess.log");
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .ok()?;
    let filter =
        EnvFilter::try_new(level.unwrap_or("info")).unwrap_or_else(|_| EnvFilter::new("info"));
    let ok = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init()
        .is_ok();
    ok.then_some(path)
}
