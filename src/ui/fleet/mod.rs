//! Many accounts at once in the TUI: statuses remembered between runs (`statuses`), what the
//! app knows per auth key, and (later stages) marks, a paced check of the visible rows and bulk
//! actions.

pub mod statuses;

/// Fleet state kept in `AppState`.
#[derive(Debug, Default)]
pub struct Fleet {
    /// Unix seconds when the app clock (`AppState::now`, ms) was 0: findings carry unix times.
    pub unix_start: i64,
}

impl Fleet {
    /// The unix time at app time `now_ms`.
    pub fn unix_at(&self, now_ms: u64) -> i64 {
        self.unix_start + (now_ms / 1000) as i64
    }
}
