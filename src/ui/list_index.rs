//! The list's order and filter at 100,000 rows. Each row carries keys computed once (its
//! natural-sort name key, lower-case search text, key id); this index keeps every row in name
//! order (merged, not re-sorted, as batches arrive), so a sort by any column sorts small
//! `(column key, name rank)` pairs and a filter that only grows narrows the current view.

use super::state::{SessionRow, SortKey, Status};

/// What sorting needs beyond the rows: what the app found out about each.
pub trait Learned {
    fn status(&self, row: &SessionRow) -> Status;
    fn two_fa_rank(&self, row: &SessionRow) -> u8;
    fn devices_rank(&self, row: &SessionRow) -> std::cmp::Reverse<Option<u32>>;
}

#[derive(Debug, Default)]
pub struct ListIndex {
    /// Every row, by natural name order.
    by_name: Vec<u32>,
    /// `rank[row]`: the row's position in `by_name`.
    rank: Vec<u32>,
    /// Every row in the current sort order (before the filter), and the sort it is for.
    order: Vec<u32>,
    sorted_for: Option<(SortKey, bool)>,
    /// The needle the view was last filtered with, over `order`.
    needle: Option<String>,
}

/// A natural-sort key: lower-case characters as UTF-8, and each run of digits as `0`, its
/// length (2 bytes) and its digits without leading zeros, so that comparing keys byte by byte
/// orders names as [`super::text::natural_cmp`] does (`s2` before `s10`).
pub fn natural_key(s: &str) -> Box<[u8]> {
    let mut out = Vec::with_capacity(s.len() + 4);
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < s.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < s.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let digits = s[start..i].trim_start_matches('0');
            let len = digits.len().min(usize::from(u16::MAX)) as u16;
            out.push(b'0');
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&digits.as_bytes()[..usize::from(len)]);
            continue;
        }
        let c = s[i..].chars().next().expect("inside the string");
        for l in c.to_lowercase() {
            let mut buf = [0u8; 4];
            out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
        }
        i += c.len_utf8();
    }
    out.into_boxed_slice()
}

fn by_name(rows: &[SessionRow], a: u32, b: u32) -> std::cmp::Ordering {
    let (ra, rb) = (&rows[a as usize], &rows[b as usize]);
    ra.name_key()
        .cmp(rb.name_key())
        .then_with(|| ra.name.cmp(&rb.name))
}

impl ListIndex {
    /// Rows were replaced or changed: name order from scratch.
    pub fn reset(&mut self, rows: &[SessionRow]) {
        self.by_name = (0..rows.len() as u32).collect();
        self.by_name.sort_unstable_by(|a, b| by_name(rows, *a, *b));
        self.ranks();
    }

    /// Rows `from..` were appended: they are sorted alone and merged in.
    pub fn appended(&mut self, rows: &[SessionRow], from: usize) {
        if self.by_name.len() != from {
            return self.reset(rows);
        }
        let mut new: Vec<u32> = (from as u32..rows.len() as u32).collect();
        new.sort_unstable_by(|a, b| by_name(rows, *a, *b));
        let old = std::mem::take(&mut self.by_name);
        let mut merged = Vec::with_capacity(old.len() + new.len());
        let (mut i, mut j) = (0, 0);
        while i < old.len() && j < new.len() {
            if by_name(rows, new[j], old[i]).is_lt() {
                merged.push(new[j]);
                j += 1;
            } else {
                merged.push(old[i]);
                i += 1;
            }
        }
        merged.extend_from_slice(&old[i..]);
        merged.extend_from_slice(&new[j..]);
        self.by_name = merged;
        self.ranks();
    }

    fn ranks(&mut self) {
        self.rank = vec![0; self.by_name.len()];
        for (pos, row) in self.by_name.iter().enumerate() {
            self.rank[*row as usize] = pos as u32;
        }
        self.sorted_for = None;
        self.needle = None;
    }

    /// Whether the index covers exactly these rows.
    pub fn covers(&self, rows: &[SessionRow]) -> bool {
        self.by_name.len() == rows.len()
    }

    /// Sorts every row by `key` (ties by name), reversed when `desc`. `learned` gives what the
    /// app found out about a row (its status, its last check), which is not in the row.
    pub fn sort(&mut self, rows: &[SessionRow], key: SortKey, desc: bool, learned: &impl Learned) {
        let rank = &self.rank;
        let mut order: Vec<u32> = match key {
            SortKey::Name => self.by_name.clone(),
            SortKey::Backend => sorted(rows, rank, |r| r.backend.name()),
            SortKey::Format => sorted(rows, rank, |r| r.format_name()),
            SortKey::Account => sorted(rows, rank, |r| r.account()),
            SortKey::UserId => sorted(rows, rank, |r| r.user_id()),
            SortKey::Dc => sorted(rows, rank, |r| r.dc()),
            SortKey::Kind => sorted(rows, rank, |r| r.kind()),
            SortKey::Status => sorted(rows, rank, |r| learned.status(r)),
            SortKey::TwoFa => sorted(rows, rank, |r| learned.two_fa_rank(r)),
            SortKey::Devices => sorted(rows, rank, |r| learned.devices_rank(r)),
        };
        if desc {
            order.reverse();
        }
        self.order = order;
        self.sorted_for = Some((key, desc));
        self.needle = None;
    }

    pub fn sorted_for(&self) -> Option<(SortKey, bool)> {
        self.sorted_for
    }

    /// The rows of the current order that `matches`, into `view`. `plain` is the filter in
    /// lower case when it is plain text only: when it only grew since the last call, only the
    /// rows already in `view` are checked (every old word is then inside a new one). Triage
    /// words depend on findings, so such a filter always runs over every row.
    pub fn filter(
        &mut self,
        rows: &[SessionRow],
        plain: Option<&str>,
        matches: impl Fn(&SessionRow) -> bool,
        view: &mut Vec<usize>,
    ) {
        let narrows = match (plain, self.needle.as_deref()) {
            (Some(new), Some(old)) => new.contains(old),
            _ => false,
        };
        if narrows {
            view.retain(|i| matches(&rows[*i]));
        } else {
            view.clear();
            view.extend(
                self.order
                    .iter()
                    .map(|i| *i as usize)
                    .filter(|i| matches(&rows[*i])),
            );
        }
        self.needle = plain.map(str::to_string);
    }
}

/// Every row sorted by `(key(row), name rank)`: the key is computed once per row.
fn sorted<K: Ord>(rows: &[SessionRow], rank: &[u32], key: impl Fn(&SessionRow) -> K) -> Vec<u32> {
    let mut keyed: Vec<(K, u32)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (key(r), rank[i]))
        .collect();
    keyed.sort_unstable();
    // Ranks are unique, so (key, rank) ties never happen; back from ranks to rows.
    let mut by_rank = vec![0u32; rank.len()];
    for (row, r) in rank.iter().enumerate() {
        by_rank[*r as usize] = row as u32;
    }
    keyed
        .into_iter()
        .map(|(_, r)| by_rank[r as usize])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::text::natural_cmp;

    #[test]
    fn natural_keys_order_as_natural_cmp_does() {
        let names = [
            "a",
            "A2",
            "a10",
            "a02",
            "a2b",
            "a-1",
            "a 1",
            "a:",
            "a1",
            "b",
            "fresh-2",
            "fresh-10",
            "fresh-010",
            "Zed",
            "zed0",
            "ä",
            "日本",
            "x99999999999999999999",
            "x100",
            "",
            "0",
            "00",
            "1",
            "account-000123",
            "account-123a",
        ];
        for a in names {
            for b in names {
                let natural = natural_cmp(a, b);
                if natural.is_ne() {
                    assert_eq!(
                        natural_key(a).cmp(&natural_key(b)),
                        natural,
                        "{a:?} vs {b:?}"
                    );
                }
            }
        }
    }
}
