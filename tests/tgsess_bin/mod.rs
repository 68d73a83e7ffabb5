//! The one way tests start the real `tgsess` binary: every child may dial loopback addresses
//! only (`TGSESS_LOOPBACK_ONLY=1`, checked by `tests/sandbox_isolation.rs`), whatever session it
//! is given, so no test can ever reach Telegram.
#![allow(dead_code)]

use std::process::Command;

pub const LOOPBACK_ONLY: (&str, &str) = ("TGSESS_LOOPBACK_ONLY", "1");

/// The cache folder children use (the listing cache lives there): under the build's scratch
/// folder, never the user's `~/.cache`.
pub const CACHE_HOME: (&str, &str) = (
    "XDG_CACHE_HOME",
    concat!(env!("CARGO_TARGET_TMPDIR"), "/xdg-cache"),
);

/// The binary's path, for a child (a Python driver) that starts it itself: give that child
/// [`LOOPBACK_ONLY`] in its environment, which it passes on.
pub const PATH: &str = env!("CARGO_BIN_EXE_tgsess");

/// `tgsess` with the loopback-only rule, and the test cache folder.
pub fn command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgsess"));
    cmd.env(LOOPBACK_ONLY.0, LOOPBACK_ONLY.1)
        .env(CACHE_HOME.0, CACHE_HOME.1);
    cmd
}

/// `tgsess` in a pseudo-terminal, with the loopback-only rule. A caller that clears the
/// environment must set [`LOOPBACK_ONLY`] again.
pub fn pty_command() -> portable_pty::CommandBuilder {
    let mut cmd = portable_pty::CommandBuilder::new(env!("CARGO_BIN_EXE_tgsess"));
    cmd.env(LOOPBACK_ONLY.0, LOOPBACK_ONLY.1);
    cmd.env(CACHE_HOME.0, CACHE_HOME.1);
    cmd
}

/// Whether `strace -f -e trace=connect` works here (it needs ptrace, which containers may deny).
pub fn strace_works() -> bool {
    Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=connect",
            "-o",
            "/dev/null",
            "true",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `tgsess` under `strace -f -e trace=connect`, the trace written to `log`.
pub fn traced(log: &std::path::Path) -> Command {
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-qq", "-e", "trace=connect", "-o"])
        .arg(log)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_tgsess"))
        .env(LOOPBACK_ONLY.0, LOOPBACK_ONLY.1)
        .env(CACHE_HOME.0, CACHE_HOME.1);
    cmd
}

/// Says something the test runner must not swallow (a skipped check): written straight to
/// the process's stderr, which `cargo test` does not capture.
pub fn notice(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "NOTICE: {text}");
}

/// The folder holding the `tgsess` binary (for commands run through a shell, as documented).
pub fn bin_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_BIN_EXE_tgsess"))
        .parent()
        .expect("the binary has a folder")
        .to_path_buf()
}

/// The binary's path, for programs that start it themselves (they must set [`LOOPBACK_ONLY`]).
pub fn path() -> &'static str {
    env!("CARGO_BIN_EXE_tgsess")
}
