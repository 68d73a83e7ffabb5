//! The fuzz harness (fuzz/, `tgsess-fuzz`) stays alive inside `cargo test`: every target runs
//! its seeds and a few hundred mutated inputs (about a second in all). The real campaigns
//! (10 million runs per target) are the documented command in README, "Fuzzing"; a finding
//! becomes a named regression test beside the code it fixes.

#[path = "../fuzz/mutate.rs"]
mod mutate;
#[path = "../fuzz/targets.rs"]
mod targets;

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
