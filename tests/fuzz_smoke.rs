//! The fuzz harness (fuzz/, `tgsess-fuzz`) stays alive inside `cargo test`: every target runs
//! its seeds and a few hundred mutated inputs (about a second in all), and every input saved
//! under tests/fixtures/fuzz/TARGET/ (past findings) replays without a panic. The real
//! campaigns (10 million runs per target) are the documented command in README, "Fuzzing".

#[path = "../fuzz/mutate.rs"]
mod mutate;
#[path = "../fuzz/targets.rs"]
mod targets;

use std::path::Path;

const RUNS: usize = 300;

#[test]
fn every_fuzz_target_survives_its_seeds_and_a_short_run() {
    for target in targets::all() {
        let seeds = (target.seeds)();
        assert!(
            !seeds.is_empty(),
            "{} ({}): no seeds",
            target.name,
            target.about
        );
        for seed in &seeds {
            (target.execute)(seed);
        }
        let mut rng = mutate::Rng::new(0x5eed);
        for _ in 0..RUNS {
            let input = (target.generate)(&mut rng, &seeds);
            (target.execute)(&input);
        }
    }
}

#[test]
fn past_findings_replay_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let all = targets::all();
    let Ok(dirs) = std::fs::read_dir(&root) else {
        return;
    };
    for dir in dirs {
        let dir = dir.unwrap().path();
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let target = all
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("tests/fixtures/fuzz/{name}: no such fuzz target"));
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            (target.execute)(&std::fs::read(&path).unwrap());
        }
    }
}
