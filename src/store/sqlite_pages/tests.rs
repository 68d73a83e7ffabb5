//! The page reader against the SQL path: on every SQLite fixture it gives exactly what
//! `read_sqlite_bytes` gives (and accepts every plain Telethon/Pyrogram one), and on mutated
//! fixtures it either declines or still agrees.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::read_bytes;
use crate::store::read_sqlite_bytes;

fn fixture_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        root.join("tests/fixtures/sessions"),
        root.join("../shared/fixtures/sessions"),
        PathBuf::from("/work/shared/fixtures/sessions"),
    ]
    .into_iter()
    .filter(|d| d.is_dir())
    .collect()
}

/// Every SQLite fixture: (file name, bytes).
fn sqlite_fixtures() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in fixture_dirs() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap_or_default();
            if bytes.starts_with(crate::store::formats::sqlite_detect::SQLITE_MAGIC) {
                out.push((path.file_name().unwrap().to_string_lossy().into(), bytes));
            }
        }
    }
    assert!(!out.is_empty(), "no SQLite fixtures found");
    out
}

/// The page reader declines, or gives exactly the SQL path's session. True if it accepted.
pub(super) fn agrees(bytes: &[u8]) -> bool {
    match read_bytes(bytes) {
        Err(_) => false,
        Ok(pages) => {
            let sql = read_sqlite_bytes(bytes, "x")
                .expect("the page reader accepted a file the SQL path refuses");
            assert_eq!(pages, sql, "the page reader and SQL disagree");
            true
        }
    }
}

#[test]
fn every_plain_fixture_is_accepted_and_agrees() {
    let fixtures = sqlite_fixtures();
    let mut accepted = 0;
    for (name, bytes) in &fixtures {
        let wal = bytes[18] == 2;
        let ok = agrees(bytes);
        if !wal {
            assert!(ok, "{name}: declined: {:?}", read_bytes(bytes).err());
            accepted += 1;
        }
    }
    assert!(accepted >= 8, "only {accepted} fixtures read by pages");
}

#[test]
fn a_wal_header_declines() {
    let (_, mut bytes) = sqlite_fixtures().remove(0);
    bytes[18] = 2;
    bytes[19] = 2;
    assert!(read_bytes(&bytes).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Hostile bytes: a fixture with a few bytes changed. No panic, no disagreement.
    #[test]
    fn mutated_fixtures_decline_or_agree(
        pick in 0usize..64,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let fixtures = sqlite_fixtures();
        let (_, bytes) = &fixtures[pick % fixtures.len()];
        let mut bytes = bytes.clone();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = agrees(&bytes);
    }

    /// Edits aimed at the first pages, where the header, schema and session rows are.
    #[test]
    fn mutated_first_pages_decline_or_agree(
        pick in 0usize..64,
        edits in proptest::collection::vec((0usize..16384, any::<u8>()), 1..4),
    ) {
        let fixtures = sqlite_fixtures();
        let (_, bytes) = &fixtures[pick % fixtures.len()];
        let mut bytes = bytes.clone();
        for (at, value) in edits {
            let i = at % bytes.len();
            bytes[i] = value;
        }
        let _ = agrees(&bytes);
    }
}

/// The mutation tests above mean something only if mutated files are also accepted: one
/// changed byte in the first pages (most land in free space or values) leaves many readable.
#[test]
fn single_byte_edits_are_mostly_accepted_and_agree() {
    let fixtures = sqlite_fixtures();
    let (mut accepted, mut total) = (0, 0);
    let mut seed = 12_345u64;
    for _ in 0..200 {
        for (_, bytes) in &fixtures {
            let mut bytes = bytes.clone();
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let i = (seed >> 33) as usize % bytes.len().min(16_384);
            bytes[i] = (seed >> 20) as u8;
            total += 1;
            accepted += agrees(&bytes) as usize;
        }
    }
    assert!(accepted * 2 > total, "{accepted} of {total} accepted");
    assert!(accepted < total, "no edit declined: {total}");
}
