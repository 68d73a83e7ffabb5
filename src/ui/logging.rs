//! Logging to a 0600 file in the state folder, never to the screen.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// Starts file logging at `level` (default `info`). Returns the log file's path, or `None`
/// when no state folder is available (then nothing is logged).
pub fn init(level: Option<&str>) -> Option<PathBuf> {
    let dir = super::config::state_dir()?;
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
