//! Table b-tree pages (fileformat2 §1.6): leaf and interior table pages, their cells and the
//! local part of their payloads, the in-order walk and the rowid search SQLite does. Index
//! pages, cells outside their page, keys out of order or a child that SQLite would call corrupt
//! decline.

use super::header::be32;
use super::record::varint;
use super::{Db, Decline, PageSource, R};

const LEAF: u8 = 0x0d;
const INTERIOR: u8 = 0x05;
/// SQLite's cursor depth limit: a deeper tree is corrupt (and a loop ends here too).
const MAX_DEPTH: usize = 20;

/// A row's payload as far as its page holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    /// The bytes on the leaf page (all of them when nothing spills).
    pub local: Vec<u8>,
    /// The payload's whole size.
    pub size: usize,
}

/// One parsed table b-tree page.
struct Page {
    data: Vec<u8>,
    leaf: bool,
    /// Offsets of the cells, in key order.
    cells: Vec<usize>,
    /// Interior pages: the child holding keys above every cell's.
    right: u32,
}

impl<S: PageSource> Db<S> {
    fn table_page(&mut self, no: u32) -> R<Page> {
        let data = self.page(no)?;
        let usable = self.header.usable;
        let hdr = if no == 1 { 100 } else { 0 };
        let kind = data[hdr];
        let leaf = match kind {
            LEAF => true,
            INTERIOR => false,
            _ => return Err(Decline("not a table b-tree page")),
        };
        let count = u16::from_be_bytes([data[hdr + 3], data[hdr + 4]]) as usize;
        let head_len = if leaf { 8 } else { 12 };
        let array_end = hdr + head_len + 2 * count;
        let content = match u16::from_be_bytes([data[hdr + 5], data[hdr + 6]]) {
            0 => 65_536,
            n => n as usize,
        };
        if array_end > usable || content < array_end || content > usable {
            return Err(Decline("cell pointers out of the page"));
        }
        let cells = (0..count)
            .map(|i| {
                let at = hdr + head_len + 2 * i;
                let off = u16::from_be_bytes([data[at], data[at + 1]]) as usize;
                if off < content || off >= usable {
                    Err(Decline("cell out of the content area"))
                } else {
                    Ok(off)
                }
            })
            .collect::<R<Vec<_>>>()?;
        let right = if leaf { 0 } else { be32(&data, hdr + 8) };
        Ok(Page {
            data,
            leaf,
            cells,
            right,
        })
    }

    /// A child page as SQLite enters it: in range, not page 1, and holding at least one cell.
    fn child(&mut self, no: u32, depth: usize) -> R<Page> {
        if depth >= MAX_DEPTH || no == 1 {
            return Err(Decline("tree too deep or a loop"));
        }
        let page = self.table_page(no)?;
        if page.cells.is_empty() {
            return Err(Decline("empty child page"));
        }
        Ok(page)
    }

    /// An interior cell: its left child and key.
    fn interior_cell(&self, page: &Page, i: usize) -> R<(u32, i64)> {
        let off = page.cells[i];
        if off + 4 > self.header.usable {
            return Err(Decline("interior cell past the page"));
        }
        let child = be32(&page.data, off);
        let (key, n) = varint(&page.data[..self.header.usable], off + 4)?;
        let _ = n;
        Ok((child, key as i64))
    }

    /// A leaf cell's rowid and the offset and total size of its payload.
    fn leaf_head(&self, page: &Page, i: usize) -> R<(i64, usize, u64)> {
        let bytes = &page.data[..self.header.usable];
        let off = page.cells[i];
        let (size, a) = varint(bytes, off)?;
        // SQLite reads a payload size of nine bytes otherwise than the format says (and such
        // a size could not fit in a session file anyway).
        if a == 9 || size > self.file_len {
            return Err(Decline("payload size"));
        }
        let (rowid, b) = varint(bytes, off + a)?;
        Ok((rowid as i64, off + a + b, size))
    }

    /// The part of a leaf cell's payload kept on the page, and the payload's whole size.
    /// Overflow pages are never read: a value the readers need that lies beyond the local part
    /// declines (SQLite, too, reads a column from the page when it lies there).
    fn payload(&mut self, page: &Page, i: usize) -> R<Payload> {
        let (_, start, size) = self.leaf_head(page, i)?;
        let usable = self.header.usable;
        let size = size as usize;
        // How much stays on the leaf (fileformat2 §1.6, table b-tree leaf cells).
        let max_local = usable - 35;
        let local = if size <= max_local {
            size
        } else {
            let min_local = (usable - 12) * 32 / 255 - 23;
            let k = min_local + (size - min_local) % (usable - 4);
            if k <= max_local { k } else { min_local }
        };
        let end = start + local + if local < size { 4 } else { 0 };
        if end > usable {
            return Err(Decline("cell past the page"));
        }
        Ok(Payload {
            local: page.data[start..start + local].to_vec(),
            size,
        })
    }

    /// The row of lowest rowid in the table rooted at `root` (what `LIMIT 1` of a full scan
    /// gives), or `None` for an empty table.
    pub fn first_row(&mut self, root: u32) -> R<Option<(i64, Payload)>> {
        let mut page = self.table_page(root)?;
        let mut depth = 0;
        while !page.leaf {
            if page.cells.is_empty() {
                return Err(Decline("interior page without cells"));
            }
            let (child, _) = self.interior_cell(&page, 0)?;
            depth += 1;
            page = self.child(child, depth)?;
        }
        if page.cells.is_empty() {
            return Ok(None);
        }
        let (rowid, _, _) = self.leaf_head(&page, 0)?;
        Ok(Some((rowid, self.payload(&page, 0)?)))
    }

    /// The payload of the row with `rowid`, searched as SQLite does: in each interior page the
    /// first cell whose key is at least `rowid` leads down, else the right-most child.
    pub fn find_row(&mut self, root: u32, rowid: i64) -> R<Option<Payload>> {
        let mut page = self.table_page(root)?;
        let mut depth = 0;
        while !page.leaf {
            if page.cells.is_empty() {
                return Err(Decline("interior page without cells"));
            }
            let mut down = page.right;
            let mut last = None;
            for i in 0..page.cells.len() {
                let (child, key) = self.interior_cell(&page, i)?;
                if last.is_some_and(|k| k >= key) {
                    return Err(Decline("interior keys out of order"));
                }
                last = Some(key);
                if key >= rowid {
                    down = child;
                    break;
                }
            }
            depth += 1;
            page = self.child(down, depth)?;
        }
        let mut last = None;
        for i in 0..page.cells.len() {
            let (key, _, _) = self.leaf_head(&page, i)?;
            if last.is_some_and(|k| k >= key) {
                return Err(Decline("leaf keys out of order"));
            }
            last = Some(key);
            if key == rowid {
                return self.payload(&page, i).map(Some);
            }
            if key > rowid {
                break;
            }
        }
        Ok(None)
    }

    /// Every row of the table rooted at `root`, in rowid order.
    pub fn all_rows(&mut self, root: u32) -> R<Vec<(i64, Payload)>> {
        let mut rows = Vec::new();
        let page = self.table_page(root)?;
        self.walk(page, 0, &mut rows)?;
        Ok(rows)
    }

    fn walk(&mut self, page: Page, depth: usize, rows: &mut Vec<(i64, Payload)>) -> R<()> {
        if page.leaf {
            for i in 0..page.cells.len() {
                let (rowid, _, _) = self.leaf_head(&page, i)?;
                rows.push((rowid, self.payload(&page, i)?));
            }
            return Ok(());
        }
        if page.cells.is_empty() {
            return Err(Decline("interior page without cells"));
        }
        for i in 0..page.cells.len() {
            let (child, _) = self.interior_cell(&page, i)?;
            let child = self.child(child, depth + 1)?;
            self.walk(child, depth + 1, rows)?;
        }
        let right = self.child(page.right, depth + 1)?;
        self.walk(right, depth + 1, rows)
    }
}
