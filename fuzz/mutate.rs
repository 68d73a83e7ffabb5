//! A small seeded PRNG and byte mutations in the style of coverage-less fuzzers: bit flips,
//! boundary values, integer edits, inserts, deletes, duplicated and spliced ranges.

/// splitmix64: fast, seedable, good enough to drive mutations (not for secrets).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const INTERESTING_8: [u8; 9] = [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, b'=', b'/'];
const INTERESTING_32: [u32; 10] = [
    0,
    1,
    0xff,
    0x100,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0xffff_fffe,
    0x1_0000 - 4,
];

/// Applies 1 to 4 random edits to `data`; `other` is a second input to splice from.
pub fn mutate(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8], max_len: usize) {
    let edits = 1 + rng.below(4);
    for _ in 0..edits {
        edit(rng, data, other);
    }
    data.truncate(max_len);
}

fn edit(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    if data.is_empty() {
        let n = 1 + rng.below(8);
        data.extend(rng.bytes(n));
        return;
    }
    let at = rng.below(data.len());
    match rng.below(11) {
        0 => data[at] ^= 1 << rng.below(8),
        1 => data[at] = rng.next() as u8,
        2 => data[at] = *rng.pick(&INTERESTING_8),
        3 => {
            let v = *rng.pick(&INTERESTING_32);
            let bytes = if rng.chance(50) {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            };
            let width = *rng.pick(&[1usize, 2, 4]);
            for (i, b) in bytes.iter().take(width).enumerate() {
                if let Some(slot) = data.get_mut(at + i) {
                    *slot = *b;
                }
            }
        }
        4 => {
            // Add or subtract a little from one byte (lengths, counts, flags).
            let delta = 1 + rng.below(16) as u8;
            data[at] = if rng.chance(50) {
                data[at].wrapping_add(delta)
            } else {
                data[at].wrapping_sub(delta)
            };
        }
        5 => {
            let n = 1 + rng.below(16);
            let insert = rng.bytes(n);
            data.splice(at..at, insert);
        }
        6 => {
            let n = 1 + rng.below(16.min(data.len() - at));
            data.drain(at..at + n);
        }
        7 => {
            let n = 1 + rng.below(32.min(data.len() - at));
            let copy = data[at..at + n].to_vec();
            let to = rng.below(data.len());
            data.splice(to..to, copy);
        }
        8 if !other.is_empty() => {
            let from = rng.below(other.len());
            let n = 1 + rng.below(64.min(other.len() - from));
            let chunk = other[from..from + n].to_vec();
            let end = (at + n).min(data.len());
            data.splice(at..end, chunk);
        }
        9 => data.truncate(at),
        _ => {
            // Overwrite a run with one value (zeroed or 0xff-filled regions).
            let n = 1 + rng.below(64.min(data.len() - at));
            let random = rng.next() as u8;
            let v = *rng.pick(&[0u8, 0xff, random]);
            data[at..at + n].fill(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_reproducible_from_the_seed() {
        let run = |seed| {
            let mut rng = Rng::new(seed);
            let mut data = b"hello world".to_vec();
            for _ in 0..100 {
                mutate(&mut rng, &mut data, b"other", 64);
            }
            data
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }
}
