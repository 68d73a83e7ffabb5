//! The 100-byte database header on page 1 (fileformat2 §1.3). Only what a plain rollback-
//! journal database of SQLite 3 can hold is accepted; the rest declines.

use super::{Decline, R};
use crate::store::formats::sqlite_detect::SQLITE_MAGIC;

pub const HEADER_LEN: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub page_size: usize,
    /// Page size minus the reserved bytes at the end of each page.
    pub usable: usize,
    /// Pages in the database, from the header (checked against the file's length).
    pub pages: u32,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

pub fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses the header of a file of `file_len` bytes.
pub fn parse(b: &[u8], file_len: u64) -> R<Header> {
    if b.len() < HEADER_LEN || &b[..16] != SQLITE_MAGIC {
        return Err(Decline("not a SQLite 3 header"));
    }
    let page_size = match be16(b, 16) {
        1 => 65_536,
        n if n >= 512 && n.is_power_of_two() => n as usize,
        _ => return Err(Decline("page size")),
    };
    // 1 = rollback journal; 2 = WAL, whose committed pages may be in the -wal file.
    if b[18] != 1 || b[19] != 1 {
        return Err(Decline("not a rollback-journal database"));
    }
    let usable = page_size - b[20] as usize;
    if usable < 480 {
        return Err(Decline("reserved bytes"));
    }
    if b[21..24] != [64, 32, 32] {
        return Err(Decline("payload fractions"));
    }
    let pages = be32(b, 28);
    // The in-header size is valid only when the change counter matches version-valid-for.
    if pages == 0 || be32(b, 24) != be32(b, 92) {
        return Err(Decline("in-header database size not valid"));
    }
    if pages as u64 * page_size as u64 != file_len {
        return Err(Decline("database size differs from the file's"));
    }
    if !(1..=4).contains(&be32(b, 44)) {
        return Err(Decline("schema format"));
    }
    if be32(b, 56) != 1 {
        return Err(Decline("text encoding is not UTF-8"));
    }
    if b[72..92].iter().any(|&x| x != 0) {
        return Err(Decline("reserved header bytes"));
    }
    Ok(Header {
        page_size,
        usable,
        pages,
    })
}
