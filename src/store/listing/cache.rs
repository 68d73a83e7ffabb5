//! The listing cache: what each file of a folder showed last time, so a warm listing only
//! stats the files. It lives in the user's cache folder (`$XDG_CACHE_HOME/tgsess`, else
//! `~/.cache/tgsess`), never in the session folder: one file per session folder, named by the
//! folder's device and inode and holding its path, 0600 in a 0700 folder. A record holds
//! `inspect`'s fields (the key only as its id, never the key).
//!
//! The format is a short header and then one length-prefixed binary record per file, in listing
//! order; a record is taken verbatim into the next cache when its file has not changed. Any
//! damage, another version or another folder's path makes the whole cache unused.
//!
//! A file whose change time is not clearly older than the listing that recorded it is read
//! again ("racily clean", as git calls it): file systems stamp times with a coarse clock, so a
//! write in the same tick as that listing's look would otherwise go unseen.

use std::collections::HashMap;
use std::fs;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{DcInfo, Info};
use crate::fsutil;
use crate::store::{Format, PyrogramStringLayout};

const MAGIC: &[u8; 12] = b"tgsess-list\0";
const VERSION: u32 = 1;
/// A file changed less than this before the recording listing began is read again.
pub const RACY_WINDOW_NS: i128 = 3_000_000_000;

/// The cache file for the session folder `root`, if there is a cache folder and `root` exists.
pub fn location(root: &Path) -> Option<PathBuf> {
    let meta = fs::metadata(root).ok()?;
    let base = directories::BaseDirs::new()?;
    Some(base.cache_dir().join("tgsess").join(format!(
        "list-{:x}-{:x}.bin",
        meta.dev(),
        meta.ino()
    )))
}

pub fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

/// What identifies a file's content for "did it change since".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
}

impl Fingerprint {
    pub fn of(meta: &fs::Metadata) -> Self {
        Fingerprint {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: meta.mtime().saturating_mul(1_000_000_000) + meta.mtime_nsec(),
            ctime_ns: meta.ctime().saturating_mul(1_000_000_000) + meta.ctime_nsec(),
        }
    }
}

/// One file's record in a loaded cache.
pub struct Hit<'a> {
    fp: Fingerprint,
    /// The whole record, as it is carried into the next cache.
    raw: &'a [u8],
    payload: &'a [u8],
    scanned_at: i128,
}

impl<'a> Hit<'a> {
    /// Unchanged, and changed last clearly before the listing that recorded it looked.
    pub fn trusted(&self, now: &Fingerprint) -> bool {
        self.fp == *now && (self.fp.ctime_ns as i128) + RACY_WINDOW_NS < self.scanned_at
    }

    /// The recorded row: `Some(None)` for a `.txt` that holds no session, `None` if damaged.
    pub fn info(&self) -> Option<Option<Result<Info, String>>> {
        let mut r = Reader(self.payload);
        let info = match r.u8()? {
            0 => None,
            1 => Some(Ok(read_info(&mut r)?)),
            2 => Some(Err(r.str()?.to_string())),
            _ => return None,
        };
        r.0.is_empty().then_some(info)
    }

    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }
}

/// A loaded cache: each file name's record.
#[derive(Default)]
pub struct Cache<'a> {
    records: HashMap<&'a str, Hit<'a>>,
}

impl<'a> Cache<'a> {
    /// The cache in `bytes` if it is whole, of this version and of the folder `root`.
    pub fn parse(bytes: &'a [u8], root: &Path) -> Option<Self> {
        let mut r = Reader(bytes);
        if r.take(MAGIC.len())? != MAGIC || r.u32()? != VERSION {
            return None;
        }
        let scanned_at = r.i64()? as i128;
        if r.str()?.as_bytes() != root.as_os_str().as_encoded_bytes() {
            return None;
        }
        let count = r.u32()? as usize;
        let mut records = HashMap::with_capacity(count.min(bytes.len() / 32));
        for _ in 0..count {
            let start = r.0;
            let len = r.u32()? as usize;
            let body = r.take(len)?;
            let raw = &start[..4 + len];
            let mut b = Reader(body);
            let name = b.str()?;
            let fp = Fingerprint {
                dev: b.u64()?,
                ino: b.u64()?,
                size: b.u64()?,
                mtime_ns: b.i64()?,
                ctime_ns: b.i64()?,
            };
            records.insert(
                name,
                Hit {
                    fp,
                    raw,
                    payload: b.0,
                    scanned_at,
                },
            );
        }
        r.0.is_empty().then_some(Cache { records })
    }

    pub fn get(&self, file_name: &str) -> Option<&Hit<'a>> {
        self.records.get(file_name)
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

pub fn load_bytes(path: &Path) -> Option<Vec<u8>> {
    fs::read(path).ok()
}

/// Writes the cache of `root` (`records` as built by [`push_record`]/[`push_raw`]), recorded
/// by a listing that began at `scanned_at`.
pub fn save(path: &Path, root: &Path, scanned_at: i128, records: &[u8]) -> std::io::Result<()> {
    if let Some(folder) = path.parent() {
        fsutil::ensure_private_dir(folder)?;
    }
    let mut out = Vec::with_capacity(records.len() + 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(scanned_at as i64).to_le_bytes());
    put_str(&mut out, &root.as_os_str().to_string_lossy());
    out.extend_from_slice(&(count_records(records) as u32).to_le_bytes());
    out.extend_from_slice(records);
    fsutil::write_atomic(path, &out)
}

/// Each record of `records` (as built by [`push_record`]) with its file name, whole.
pub fn named_records(mut records: &[u8]) -> impl Iterator<Item = (&str, &[u8])> {
    std::iter::from_fn(move || {
        let mut r = Reader(records);
        let len = r.u32()? as usize;
        let body = r.take(len)?;
        let raw = &records[..4 + len];
        records = r.0;
        Some((Reader(body).str()?, raw))
    })
}

fn count_records(mut records: &[u8]) -> usize {
    let mut n = 0;
    while records.len() >= 4 {
        let len = u32::from_le_bytes(records[..4].try_into().expect("4 bytes")) as usize;
        records = &records[(4 + len).min(records.len())..];
        n += 1;
    }
    n
}

/// Carries an unchanged file's record over.
pub fn push_raw(records: &mut Vec<u8>, raw: &[u8]) {
    records.extend_from_slice(raw);
}

/// Adds the record of a file just read (`None`: a `.txt` that holds no session).
pub fn push_record(
    records: &mut Vec<u8>,
    file_name: &str,
    fp: &Fingerprint,
    info: Option<&Result<Info, String>>,
) {
    let at = records.len();
    records.extend_from_slice(&[0; 4]);
    put_str(records, file_name);
    for v in [fp.dev, fp.ino, fp.size] {
        records.extend_from_slice(&v.to_le_bytes());
    }
    for v in [fp.mtime_ns, fp.ctime_ns] {
        records.extend_from_slice(&v.to_le_bytes());
    }
    match info {
        None => records.push(0),
        Some(Ok(info)) => {
            records.push(1);
            put_info(records, info);
        }
        Some(Err(e)) => {
            records.push(2);
            put_str(records, e);
        }
    }
    let len = (records.len() - at - 4) as u32;
    records[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

fn put_opt_bool(out: &mut Vec<u8>, b: Option<bool>) {
    out.push(match b {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    });
}

fn format_code(f: Format) -> [u8; 2] {
    match f {
        Format::TgsessString => [1, 0],
        Format::TgsessSqlite => [2, 0],
        Format::TelethonString => [3, 0],
        Format::TelethonSqlite(v) => [4, v],
        Format::PyrogramString(PyrogramStringLayout::Old32) => [5, 0],
        Format::PyrogramString(PyrogramStringLayout::Old64) => [5, 1],
        Format::PyrogramString(PyrogramStringLayout::V2) => [5, 2],
        Format::PyrogramSqlite(v) => [6, v],
        Format::PyroforkSqlite => [7, 0],
        Format::Tdata => [8, 0],
        Format::Memory => [9, 0],
    }
}

fn format_of(code: [u8; 2]) -> Option<Format> {
    Some(match code {
        [1, 0] => Format::TgsessString,
        [2, 0] => Format::TgsessSqlite,
        [3, 0] => Format::TelethonString,
        [4, v] => Format::TelethonSqlite(v),
        [5, 0] => Format::PyrogramString(PyrogramStringLayout::Old32),
        [5, 1] => Format::PyrogramString(PyrogramStringLayout::Old64),
        [5, 2] => Format::PyrogramString(PyrogramStringLayout::V2),
        [6, v] => Format::PyrogramSqlite(v),
        [7, 0] => Format::PyroforkSqlite,
        [8, 0] => Format::Tdata,
        [9, 0] => Format::Memory,
        _ => return None,
    })
}

fn put_info(out: &mut Vec<u8>, info: &Info) {
    out.extend_from_slice(&format_code(info.format));
    out.extend_from_slice(&info.dc_id.to_le_bytes());
    match info.user_id {
        None => out.push(0),
        Some(id) => {
            out.push(1);
            out.extend_from_slice(&id.to_le_bytes());
        }
    }
    match info.api_id {
        None => out.push(0),
        Some(id) => {
            out.push(1);
            out.extend_from_slice(&id.to_le_bytes());
        }
    }
    put_opt_bool(out, info.is_bot);
    put_opt_bool(out, info.test_mode);
    put_opt_bool(out, info.readable_by_others);
    for s in [
        &info.first_name,
        &info.last_name,
        &info.username,
        &info.phone,
    ] {
        put_opt_str(out, s.as_deref());
    }
    out.extend_from_slice(&(info.dcs.len() as u16).to_le_bytes());
    for d in &info.dcs {
        out.extend_from_slice(&d.id.to_le_bytes());
        let flags = d.ipv4.is_some() as u8
            | (d.ipv6.is_some() as u8) << 1
            | (d.port.is_some() as u8) << 2
            | (d.key_id.is_some() as u8) << 3;
        out.push(flags);
        if let Some(a) = d.ipv4 {
            out.extend_from_slice(&a.octets());
        }
        if let Some(a) = d.ipv6 {
            out.extend_from_slice(&a.octets());
        }
        if let Some(p) = d.port {
            out.extend_from_slice(&p.to_le_bytes());
        }
        if let Some(k) = d.key_id {
            out.extend_from_slice(&k);
        }
    }
}

fn read_info(r: &mut Reader<'_>) -> Option<Info> {
    let format = format_of([r.u8()?, r.u8()?])?;
    let dc_id = r.i32()?;
    let user_id = match r.u8()? {
        0 => None,
        1 => Some(r.i64()?),
        _ => return None,
    };
    let api_id = match r.u8()? {
        0 => None,
        1 => Some(r.i32()?),
        _ => return None,
    };
    let is_bot = r.opt_bool()?;
    let test_mode = r.opt_bool()?;
    let readable_by_others = r.opt_bool()?;
    let first_name = r.opt_str()?;
    let last_name = r.opt_str()?;
    let username = r.opt_str()?;
    let phone = r.opt_str()?;
    let count = u16::from_le_bytes(r.array()?) as usize;
    let mut dcs = Vec::with_capacity(count.min(16));
    for _ in 0..count {
        let id = r.i32()?;
        let flags = r.u8()?;
        if flags >> 4 != 0 {
            return None;
        }
        let ipv4 = (flags & 1 != 0)
            .then(|| r.array::<4>().map(Ipv4Addr::from))
            .map_or(Some(None), |a| a.map(Some))?;
        let ipv6 = (flags & 2 != 0)
            .then(|| r.array::<16>().map(Ipv6Addr::from))
            .map_or(Some(None), |a| a.map(Some))?;
        let port = (flags & 4 != 0)
            .then(|| r.array::<2>().map(u16::from_le_bytes))
            .map_or(Some(None), |a| a.map(Some))?;
        let key_id = (flags & 8 != 0)
            .then(|| r.array::<8>())
            .map_or(Some(None), |a| a.map(Some))?;
        dcs.push(DcInfo {
            id,
            ipv4,
            ipv6,
            port,
            key_id,
        });
    }
    Some(Info {
        format,
        dc_id,
        dcs,
        user_id,
        is_bot,
        api_id,
        test_mode,
        first_name,
        last_name,
        username,
        phone,
        readable_by_others,
    })
}

/// Bounds-checked little-endian reading: `None` at the first short or bad field.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).map(|b| b.try_into().expect("N bytes"))
    }

    fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|b| b[0])
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    fn i32(&mut self) -> Option<i32> {
        self.array().map(i32::from_le_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    fn i64(&mut self) -> Option<i64> {
        self.array().map(i64::from_le_bytes)
    }

    fn str(&mut self) -> Option<&'a str> {
        let len = self.u32()? as usize;
        std::str::from_utf8(self.take(len)?).ok()
    }

    fn opt_str(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(self.str()?.to_string())),
            _ => None,
        }
    }

    fn opt_bool(&mut self) -> Option<Option<bool>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(false)),
            2 => Some(Some(true)),
            _ => None,
        }
    }
}
