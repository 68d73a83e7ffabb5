//! Fuzz target for the tdata parser (stable toolchain, no extra crate): a seeded mutation
//! loop. Inputs are made structure-aware, so that they get past the MD5 and the decryption
//! check to the parsers behind them: the plain MTP authorization and account list are
//! mutated, then encrypted with a fixed local key and wrapped like Telegram Desktop does.
//! Raw bytes also go through every layer. A panic is a finding (the input is saved).
//!
//! usage: nice -n 19 cargo run --release --example fuzz_tdata -- [EXECUTIONS] [SEED]
//! (README, "Fuzzing"). Until the project's fuzz harness lands, this stands alone; its
//! `generate`/`execute` pair is meant to be folded in as one more target.

use tgsess::store::tdata::{self, LocalKey, file, stream::Writer};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Byte flips, interesting integers, inserts, deletes, truncation and splices.
fn mutate(rng: &mut Rng, data: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        match rng.below(7) {
            0 if len > 0 => data[rng.below(len)] ^= 1 << rng.below(8),
            1 if len > 0 => data[rng.below(len)] = rng.next() as u8,
            2 if len >= 4 => {
                let at = rng.below(len - 3);
                let v: i32 = [0, -1, 1, 255, 256, 260, i32::MAX, i32::MIN, 0x4B][rng.below(9)];
                data[at..at + 4].copy_from_slice(&v.to_be_bytes());
            }
            3 => {
                let at = rng.below(len + 1);
                data.insert(at, rng.next() as u8);
            }
            4 if len > 0 => {
                data.remove(rng.below(len));
            }
            5 => data.truncate(rng.below(len + 1)),
            _ => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let n = rng.below(other.len() - from + 1);
                    let at = rng.below(len + 1);
                    data.splice(at..at, other[from..from + n].iter().copied());
                }
            }
        }
    }
    data.truncate(4096);
}

fn seeds() -> Vec<Vec<u8>> {
    let mut w = Writer::default();
    w.i32(-1).i32(-1).u64(5_123_456_789).i32(2).i32(2);
    w.i32(2).raw(&[7; 256]).i32(4).raw(&[9; 256]).i32(0);
    let wide = w.bytes;
    let mut w = Writer::default();
    w.i32(123_456)
        .i32(2)
        .i32(1)
        .i32(2)
        .raw(&[1; 256])
        .i32(1)
        .i32(5)
        .raw(&[2; 256]);
    let legacy = w.bytes;
    let mut w = Writer::default();
    w.i32(2).i32(0).i32(1).i32(0);
    vec![wide, legacy, w.bytes]
}

/// A whole account file or key file around a (mutated) plain text.
fn wrap_block(key: &LocalKey, plain: &[u8], as_account: bool) -> Vec<u8> {
    let mut w = Writer::default();
    if as_account {
        let mut block = Writer::default();
        block.i32(0x4B).byte_array(Some(plain));
        w.byte_array(Some(&key.encrypt(&block.bytes)));
    } else {
        w.byte_array(Some(&[3; 32]));
        let passcode_key = LocalKey::from_passcode(&[3; 32], b"");
        w.byte_array(Some(&passcode_key.encrypt(key.bytes())));
        w.byte_array(Some(&key.encrypt(plain)));
    }
    file::wrap(&w.bytes)
}

fn execute(key: &LocalKey, kind: usize, input: &[u8]) {
    match kind {
        0 => {
            if let Ok(s) = tdata::parse_mtp_authorization(input) {
                assert!(s.has_key() && s.user_id.is_some());
            }
        }
        1 => {
            let _ = tdata::parse_account_file(&wrap_block(key, input, true), key);
        }
        2 => {
            if let Ok((_, indices)) = tdata::parse_key_file(&wrap_block(key, input, false), b"") {
                assert!(!indices.is_empty() && indices.len() <= tdata::MAX_ACCOUNTS);
            }
        }
        _ => {
            let _ = tdata::parse_account_file(input, key);
            let _ = tdata::parse_key_file(input, b"");
            let _ = file::unwrap(input);
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let total: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let mut rng = Rng(seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let key = LocalKey::new([0x5A; 256]);
    let seeds = seeds();
    // Raw whole files for kind 3: valid files to start from.
    let files: Vec<Vec<u8>> = seeds
        .iter()
        .flat_map(|s| [wrap_block(&key, s, true), wrap_block(&key, s, false)])
        .collect();
    let start = std::time::Instant::now();
    for n in 0..total {
        let kind = rng.below(4);
        let pool = if kind == 3 { &files } else { &seeds };
        let mut input = pool[rng.below(pool.len())].clone();
        mutate(&mut rng, &mut input, pool);
        let run = std::panic::catch_unwind(|| execute(&key, kind, &input));
        if run.is_err() {
            let path = format!("fuzz-tdata-crash-{seed}-{n}.bin");
            std::fs::write(&path, &input).expect("save the crashing input");
            eprintln!("crash: kind {kind}, input saved to {path}");
            std::process::exit(1);
        }
        if (n + 1) % 1_000_000 == 0 {
            eprintln!("{} executions, {:.0?}", n + 1, start.elapsed());
        }
    }
    println!(
        "fuzz_tdata: {total} executions, 0 crashes, seed {seed}, {:.1?}",
        start.elapsed()
    );
}
