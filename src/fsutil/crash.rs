//! Test hook for the crash-consistency suite: in debug builds, `TGSESS_TEST_CRASH_AT` makes the
//! process kill itself (SIGKILL: no destructor, no flush) at a write step, so tests can show that
//! a write cut short at any step loses nothing. `NAME` picks a named step; `#N` the N-th step
//! reached, whatever its name, so a test can walk every step of a command in turn.

use std::sync::atomic::{AtomicU32, Ordering};

pub const ENV_CRASH_AT: &str = "TGSESS_TEST_CRASH_AT";

static STEPS_REACHED: AtomicU32 = AtomicU32::new(0);

/// Marks a write step named `name` (see the module docs).
pub fn crash_point(name: &str) {
    if !cfg!(debug_assertions) {
        return;
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
