//! `tgsess check` of 200 sandbox sessions (20 accounts, every format) against `tgsess sandbox
//! serve`, as a user runs it: wall time and the check process's peak memory (its own maximum
//! resident set, from wait4), for concurrency 1, 8 and 32.
//!
//! Run: `cargo bench --bench fleet` (or `--profile dev` for a quick look).

#[path = "../tests/fleet_support/mod.rs"]
mod fleet_support;
#[path = "../tests/tgsess_bin/mod.rs"]
mod tgsess_bin;

use std::process::Stdio;
use std::time::{Duration, Instant};

use fleet_support::{FORMATS, Fleet, Serve, tgsess};

const SESSIONS: usize = 200;
const ACCOUNTS: usize = 20;
const RUNS: usize = 3;

fn main() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("sandbox");
    let _serve = Serve::start(&state);
    let mut fleet = Fleet::new(&state, &home.path().join("sessions"));
    let dcs = [1, 2, 3, 4, 5];
    for a in 0..ACCOUNTS {
        let phone = format!("99966{}4{a:03}", dcs[a % dcs.len()]);
        let id = fleet.add_user(&phone, "Bench", None);
        for s in 0..SESSIONS / ACCOUNTS {
            let format = FORMATS[(a + s) % FORMATS.len()];
            fleet.logged_in(id, &format!("a{a:02}-s{s:02}"), format);
        }
    }
    println!("fleet: {SESSIONS} sessions of {ACCOUNTS} accounts, every format");
    for concurrency in [1, 8, 32] {
        let mut times = Vec::new();
        let mut peak_kib = 0;
        for _ in 0..RUNS {
            let (took, kib, summary) = run_check(&home, &fleet, concurrency);
            assert!(
                summary.starts_with(&format!("{SESSIONS} checked: {SESSIONS} authorized")),
                "{summary}"
            );
            times.push(took);
            peak_kib = peak_kib.max(kib);
        }
        times.sort();
        println!(
            "check --concurrency {concurrency:>2}: median {:>7.1} ms (min {:.1}, max {:.1}), peak RSS {:.1} MiB",
            ms(times[RUNS / 2]),
            ms(times[0]),
            ms(times[RUNS - 1]),
            peak_kib as f64 / 1024.0
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One `tgsess check` run: wall time, peak RSS (KiB) and its summary line.
fn run_check(
    home: &tempfile::TempDir,
    fleet: &Fleet,
    concurrency: usize,
) -> (Duration, i64, String) {
    let started = Instant::now();
    let mut child = tgsess(home.path())
        .args([
            "check",
            "--concurrency",
            &concurrency.to_string(),
            "--sandbox-state",
        ])
        .arg(&fleet.state_dir)
        .arg("--dir")
        .arg(&fleet.chosen_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("tgsess check starts");
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).unwrap();
        text
    });
    let (status, usage) = wait_with_usage(child);
    let took = started.elapsed();
    assert_eq!(status, 0, "tgsess check failed");
    let text = reader.join().unwrap();
    let summary = text.lines().last().unwrap_or_default().to_string();
    (took, usage.ru_maxrss, summary)
}

/// Waits for `child` with `wait4`, which also says how much memory it used at its peak (the
/// standard library's `wait` does not); the child is reaped then, so nothing else waits for it.
fn wait_with_usage(child: std::process::Child) -> (i32, libc::rusage) {
    let pid = child.id() as i32;
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    (status, usage)
}
