//! tgsess's fuzz harness (stable Rust, no coverage instrumentation): seeded mutation of a
//! corpus built from tests/fixtures, structure-aware where base64 or a checksum would stop
//! plain mutations. Every target runs the app's own parser; a panic (or a failed round trip)
//! is saved under target/fuzz-findings/ and the run fails.
//!
//! Run (see README, "Fuzzing"):
//!   cargo run --locked --release --features fuzz --bin tgsess-fuzz -- [--runs N] [--seed S] [TARGET...]

mod mutate;
mod targets;

use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use mutate::Rng;

struct Options {
    runs: u64,
    seed: u64,
    names: Vec<String>,
    replay: Option<(String, PathBuf)>,
}

fn usage() -> ! {
    eprintln!(
        "usage: tgsess-fuzz [--runs N] [--seed S] [TARGET...]\n       tgsess-fuzz --replay TARGET FILE\n       tgsess-fuzz --list\n\
         N runs per target (default 10000000); no TARGET: every target, one after the other."
    );
    std::process::exit(2)
}

fn parse_args() -> Options {
    let mut options = Options {
        runs: 10_000_000,
        seed: 1,
        names: Vec::new(),
        replay: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--runs" => options.runs = value().replace('_', "").parse().unwrap_or_else(|_| usage()),
            "--seed" => options.seed = value().parse().unwrap_or_else(|_| usage()),
            "--replay" => {
                let target = value();
                options.replay = Some((target, PathBuf::from(value())));
            }
            "--list" => {
                for t in targets::all() {
                    println!("{:<24} {}", t.name, t.about);
                }
                std::process::exit(0);
            }
            "-h" | "--help" => usage(),
            name => options.names.push(name.to_string()),
        }
    }
    options
}

fn main() {
    let options = parse_args();
    let all = targets::all();
    if let Some((name, file)) = &options.replay {
        let target = all
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| usage());
        let input = std::fs::read(file).expect("the input file");
        (target.execute)(&input);
        println!("{name}: {} ran without a panic", file.display());
        return;
    }
    for name in &options.names {
        if !all.iter().any(|t| t.name == name) {
            eprintln!("unknown target {name} (see --list)");
            std::process::exit(2);
        }
    }
    // Panics are findings: record the message instead of printing each one.
    let last_panic = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&last_panic);
    panic::set_hook(Box::new(move |info| {
        *sink.lock().unwrap_or_else(|e| e.into_inner()) = info.to_string();
    }));
    let mut total_findings = 0;
    for target in all
        .iter()
        .filter(|t| options.names.is_empty() || options.names.iter().any(|n| n == t.name))
    {
        total_findings += run_target(target, &options, &last_panic);
    }
    std::process::exit(if total_findings == 0 { 0 } else { 1 });
}

/// Runs one target for `options.runs` inputs; returns the number of distinct findings.
fn run_target(target: &targets::Target, options: &Options, last_panic: &Mutex<String>) -> usize {
    let seeds = (target.seeds)();
    assert!(!seeds.is_empty(), "{}: no seeds", target.name);
    let mut rng = Rng::new(options.seed ^ fnv(target.name.as_bytes()));
    let started = Instant::now();
    let mut findings = std::collections::BTreeSet::new();
    // Seeds first: they must all pass.
    let inputs = seeds
        .iter()
        .cloned()
        .map(Some)
        .chain(std::iter::repeat(None));
    for (run, seed_input) in (0..options.runs).zip(inputs) {
        let input = seed_input.unwrap_or_else(|| (target.generate)(&mut rng, &seeds));
        if panic::catch_unwind(AssertUnwindSafe(|| (target.execute)(&input))).is_err() {
            let message = last_panic.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let where_ = message.lines().next().unwrap_or("").to_string();
            if findings.insert(where_.clone()) {
                let path = save_finding(target.name, &input);
                eprintln!(
                    "{}: FINDING at run {run}: {message}\n  input saved to {}",
                    target.name,
                    path.display()
                );
            }
        }
        if run > 0 && run % 1_000_000 == 0 {
            eprintln!(
                "{}: {run} runs, {:.0} s, {} findings",
                target.name,
                started.elapsed().as_secs_f64(),
                findings.len()
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{:<24} runs {:>11}  time {:>8.1} s  ({:>9.0} runs/s)  findings {}",
        target.name,
        options.runs,
        secs,
        options.runs as f64 / secs.max(1e-9),
        findings.len()
    );
    findings.len()
}

fn save_finding(target: &str, input: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-findings");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{target}-{:016x}.bin", fnv(input)));
    let _ = std::fs::write(&path, input);
    path
}

/// FNV-1a, to name findings and derive per-target seeds.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100_0000_01b3)
    })
}
