//! The container of every tdata file: `TDF$`, the app version (u32 LE), a stream of
//! QByteArrays, and an MD5 over the stream, its length, the version and the magic.

use std::path::{Path, PathBuf};

pub const MAGIC: &[u8; 4] = b"TDF$";
/// The version tgsess stamps on files it writes (Telegram Desktop 3.4, as opentele does).
pub const APP_VERSION: u32 = 3_004_000;
/// A reader tries these suffixes in order; writers use the first.
pub const SUFFIXES: [&str; 3] = ["s", "1", "0"];

/// Checks a file's container and returns its stream (the payload), or why it is not one.
pub fn unwrap(bytes: &[u8]) -> Result<&[u8], String> {
    if bytes.len() < 8 + 16 || &bytes[..4] != MAGIC {
        return Err("not a Telegram Desktop data file (no TDF$ header)".into());
    }
    let version: [u8; 4] = bytes[4..8].try_into().expect("8+ bytes");
    let (payload, md5) = bytes[8..].split_at(bytes.len() - 8 - 16);
    if checksum(payload, version) != md5 {
        return Err("the file's checksum does not match (damaged or cut short)".into());
    }
    Ok(payload)
}

/// The file bytes for a stream.
pub fn wrap(payload: &[u8]) -> Vec<u8> {
    let version = APP_VERSION.to_le_bytes();
    let mut out = Vec::with_capacity(8 + payload.len() + 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&version);
    out.extend_from_slice(payload);
    out.extend_from_slice(&checksum(payload, version));
    out
}

fn checksum(payload: &[u8], version: [u8; 4]) -> [u8; 16] {
    let mut ctx = md5::Context::new();
    ctx.consume(payload);
    ctx.consume((payload.len() as u32).to_le_bytes());
    ctx.consume(version);
    ctx.consume(MAGIC);
    ctx.finalize().0
}

/// The first existing `base` + suffix file, as Telegram Desktop looks for it.
pub fn find(base: &Path) -> Option<PathBuf> {
    SUFFIXES.iter().find_map(|s| {
        let mut name = base.as_os_str().to_owned();
        name.push(s);
        let p = PathBuf::from(name);
        p.is_file().then_some(p)
    })
}

/// Telegram Desktop's name for a data name's files: the first 8 bytes of its MD5, each
/// printed low nibble first, in upper-case hex (`data` -> `D877F783D5D3EF8C`).
pub fn file_part(data_name: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let digest = md5::compute(data_name.as_bytes());
    digest.0[..8]
        .iter()
        .flat_map(|b| {
            [
                HEX[(b & 0xF) as usize] as char,
                HEX[(b >> 4) as usize] as char,
            ]
        })
        .collect()
}

/// The data name of account `index`: `data`, then `data#2`, `data#3`...
pub fn data_name(index: i32) -> String {
    if index == 0 {
        "data".into()
    } else {
        format!("data#{}", index + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_parts_match_telegram_desktop() {
        assert_eq!(file_part("data"), "D877F783D5D3EF8C");
        assert_eq!(file_part(&data_name(1)), "A7FDF864FBC10B77");
    }

    #[test]
    fn container_round_trips_and_catches_damage() {
        let file = wrap(b"hello");
        assert_eq!(unwrap(&file).unwrap(), b"hello");
        let mut bad = file.clone();
        bad[9] ^= 1;
        assert!(unwrap(&bad).unwrap_err().contains("checksum"));
        assert!(unwrap(&file[..20]).is_err());
        assert!(unwrap(b"SQLite format 3\0......................").is_err());
    }
}
