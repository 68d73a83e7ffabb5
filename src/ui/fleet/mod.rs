//! Many accounts at once in the TUI: statuses remembered between runs (`statuses`), marks
//! (`marks`), and a paced check of the visible rows (`check_all`) that runs off the UI thread
//! while the list stays usable.

pub mod check_all;
pub mod marks;
pub mod statuses;

use std::collections::{HashMap, HashSet};

/// Fleet state kept in `AppState`.
#[derive(Debug, Default)]
pub struct Fleet {
    /// Unix seconds when the app clock (`AppState::now`, ms) was 0: findings carry unix times.
    pub unix_start: i64,
    /// Marked rows, by row key.
    pub marks: HashSet<String>,
    /// The check (or bulk action) running now.
    pub run: Option<Run>,
    /// What each row of the run is doing, by row key (shown in its status column).
    pub progress: HashMap<String, RowProgress>,
}

/// A run over many rows; its id groups its task like a pane's (closing it stops the run).
#[derive(Debug)]
pub struct Run {
    pub id: u64,
    pub what: &'static str,
    /// Row keys, by the run's index.
    pub rows: Vec<String>,
    pub done: usize,
    /// Results found but not yet filed in the status book.
    pub unfiled: Vec<statuses::Filed>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowProgress {
    Queued,
    /// Telegram asked this row to wait until this app time (ms).
    Waiting {
        until_ms: u64,
    },
}

impl Fleet {
    /// The unix time at app time `now_ms`.
    pub fn unix_at(&self, now_ms: u64) -> i64 {
        self.unix_start + (now_ms / 1000) as i64
    }

    /// Whether results for `pane` belong to the running check.
    pub fn owns(&self, pane: u64) -> bool {
        self.run.as_ref().is_some_and(|r| r.id == pane)
    }

    /// A countdown is on screen (arms the timer).
    pub fn animating(&self) -> bool {
        self.run.is_some()
    }

    /// "12/30 checked" while a run goes.
    pub fn progress_line(&self) -> Option<String> {
        let run = self.run.as_ref()?;
        let waiting = self
            .progress
            .values()
            .filter(|p| matches!(p, RowProgress::Waiting { .. }))
            .count();
        let mut line = format!("{}/{} {}", run.done, run.rows.len(), run.what);
        if waiting > 0 {
            line.push_str(&format!(" · {waiting} waiting (flood wait)"));
        }
        line.push_str(" · Esc stops");
        Some(line)
    }

    /// The status column while the row is part of a run ("queued", "wait 12 s").
    pub fn row_text(&self, row_key: &str, now_ms: u64) -> Option<String> {
        match self.progress.get(row_key)? {
            RowProgress::Queued => Some("queued…".into()),
            RowProgress::Waiting { until_ms } => {
                let left = until_ms.saturating_sub(now_ms).div_ceil(1000);
                Some(format!("wait {left} s"))
            }
        }
    }
}
