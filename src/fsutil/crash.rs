//! Test hook for the crash-consistency suite: in debug builds, `TGSESS_TEST_CRASH_AT` makes the
//! process kill itself (SIGKILL: no destructor, no flush) at a write step, so tests can show that
//! a write cut short at any step loses nothing. `NAME` picks a named step; `#N` the N-th step
//! reached, whatever its name, so a test can walk every step of a command in turn.
//! `TGSESS_TEST_STEP_LOG=FILE` appends each step reached, with the file it is about, to FILE,
//! so a test can check the order of steps that a kill alone cannot tell apart (a rename that
//! came before its data was synced still reads back whole after a kill).

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

pub const ENV_CRASH_AT: &str = "TGSESS_TEST_CRASH_AT";
pub const ENV_STEP_LOG: &str = "TGSESS_TEST_STEP_LOG";

static STEPS_REACHED: AtomicU32 = AtomicU32::new(0);

/// Marks a write step named `name` (see the module docs).
pub fn crash_point(name: &str) {
    crash_point_at(name, Path::new(""));
}

/// Marks a write step named `name` about the file `what` (see the module docs).
pub fn crash_point_at(name: &str, what: &Path) {
    if !cfg!(debug_assertions) {
        return;
    }
    if let Some(log) = std::env::var_os(ENV_STEP_LOG) {
        log_step(Path::new(&log), name, what);
    }
    let Some(wanted) = std::env::var_os(ENV_CRASH_AT) else {
        return;
    };
    let step = STEPS_REACHED.fetch_add(1, Ordering::SeqCst) + 1;
    let wanted = wanted.to_string_lossy();
    let hit = match wanted.strip_prefix('#') {
        Some(n) => n.parse::<u32>().is_ok_and(|n| n == step),
        None => wanted == name,
    };
    if hit {
        // SAFETY: kill and getpid have no preconditions; SIGKILL ends the process here.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        std::process::abort();
    }
}

/// One line per step, written in one append so that the lines of threads never mix.
fn log_step(log: &Path, name: &str, what: &Path) {
    let line = format!("{name} {}\n", what.display());
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        panic!("{ENV_STEP_LOG}={}: {e}", log.display());
    }
}
