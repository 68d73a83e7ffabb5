//! A small reader of SQLite's file format (<https://www.sqlite.org/fileformat2.html>) for the
//! listing: page 1's header and schema, then the few table pages a session's values are on.
//! It is conservative: anything it does not fully follow, or that is not exactly as SQLite
//! would read it, *declines* ([`Decline`]), and the caller takes the SQLite path, which gives
//! the exact result or error. Work is bounded on hostile files (pages visited are capped, a
//! tree deeper than SQLite's limit declines, so does an overflow chain that overruns).
//!
//! Sans-I/O: the decoding reads pages through a [`PageSource`]; [`file`] is the driver over a
//! file (under SQLite's own shared lock).

mod btree;
pub mod file;
mod header;
mod record;
mod schema;
mod session;

pub use header::Header;
pub use record::Value;

use crate::store::Loaded;

/// Why the page reader left a file to SQLite (for tests and debugging; never shown).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decline(pub &'static str);

pub type R<T> = Result<T, Decline>;

/// Where pages come from.
pub trait PageSource {
    /// Appends the `len` bytes at `offset` to `out`; false if they cannot all be read.
    fn append_at(&mut self, offset: u64, len: usize, out: &mut Vec<u8>) -> bool;
}

impl PageSource for &[u8] {
    fn append_at(&mut self, offset: u64, len: usize, out: &mut Vec<u8>) -> bool {
        let Ok(start) = usize::try_from(offset) else {
            return false;
        };
        match self.get(start..start.saturating_add(len)) {
            Some(bytes) => {
                out.extend_from_slice(bytes);
                true
            }
            None => false,
        }
    }
}

/// Pages a read may visit at most (a session file needs a handful).
const MAX_PAGES: u32 = 4096;

/// An open database: its header and where its pages come from.
pub struct Db<S> {
    src: S,
    header: Header,
    file_len: u64,
    /// Pages that may still be read.
    budget: u32,
}

impl<S: PageSource> Db<S> {
    /// Reads and checks the header of a file of `file_len` bytes.
    pub fn open(mut src: S, file_len: u64) -> R<Self> {
        let mut head = Vec::with_capacity(header::HEADER_LEN);
        if !src.append_at(0, header::HEADER_LEN, &mut head) {
            return Err(Decline("short header"));
        }
        let header = header::parse(&head, file_len)?;
        Ok(Db {
            src,
            header,
            file_len,
            budget: MAX_PAGES,
        })
    }

    pub fn header(&self) -> Header {
        self.header
    }

    /// Page `no` (1-based), whole.
    fn page(&mut self, no: u32) -> R<Vec<u8>> {
        if no == 0 || no > self.header.pages {
            return Err(Decline("page out of range"));
        }
        self.budget = self
            .budget
            .checked_sub(1)
            .ok_or(Decline("too many pages"))?;
        // Not zeroed first: the bytes are appended (most come from the prefix already read).
        let mut page = Vec::with_capacity(self.header.page_size);
        let offset = (no as u64 - 1) * self.header.page_size as u64;
        if !self.src.append_at(offset, self.header.page_size, &mut page) {
            return Err(Decline("short read"));
        }
        Ok(page)
    }
}

/// The session in the database image `bytes`, or why not (tests and the fuzz target: no lock,
/// no journal check; [`file::read`] adds those).
pub fn read_bytes(bytes: &[u8]) -> R<Loaded> {
    let mut db = Db::open(bytes, bytes.len() as u64)?;
    session::read(&mut db)
}

#[cfg(test)]
mod tests;
