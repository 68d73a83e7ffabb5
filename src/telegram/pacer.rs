//! Pacing of many accounts at once (no I/O): a FLOOD_WAIT pauses the account that got it; when
//! a second account on the same DC is told to wait while the first still waits, Telegram is
//! limiting the DC (or this IP) rather than one account, so new work on that DC waits too.

use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct DcPacer {
    /// Per DC: accounts (by any caller-chosen id) waiting, and until when.
    waiting: HashMap<i32, Vec<(usize, Instant)>>,
    paused_until: HashMap<i32, Instant>,
}

impl DcPacer {
    pub fn new() -> Self {
        Self::default()
    }

    /// `account` on `dc` was told at `now` to wait `wait`. Returns until when the whole DC
    /// pauses, if this flood says the DC is limited.
    pub fn on_flood(
        &mut self,
        dc: i32,
        account: usize,
        wait: Duration,
        now: Instant,
    ) -> Option<Instant> {
        let until = now + wait;
        let list = self.waiting.entry(dc).or_default();
        list.retain(|(a, end)| *end > now && *a != account);
        let others_waiting = list.iter().map(|(_, end)| *end).max();
        list.push((account, until));
        let end = others_waiting?.max(until);
        let paused = self.paused_until.entry(dc).or_insert(end);
        *paused = (*paused).max(end);
        Some(*paused)
    }

    /// How long new work on `dc` must wait at `now` (`None`: it may start).
    pub fn wait_before_start(&self, dc: i32, now: Instant) -> Option<Duration> {
        self.paused_until
            .get(&dc)
            .filter(|until| **until > now)
            .map(|until| *until - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn one_flooded_account_does_not_pause_its_dc() {
        let mut p = DcPacer::new();
        let t0 = Instant::now();
        assert_eq!(p.on_flood(2, 1, 5 * S, t0), None);
        assert_eq!(p.wait_before_start(2, t0), None);
        // The same account flooded again is still one account.
        assert_eq!(p.on_flood(2, 1, 5 * S, t0 + S), None);
    }

    #[test]
    fn two_accounts_flooded_together_pause_that_dc_only() {
        let mut p = DcPacer::new();
        let t0 = Instant::now();
        p.on_flood(2, 1, 10 * S, t0);
        let until = p.on_flood(2, 2, 3 * S, t0 + S).expect("the DC pauses");
        assert_eq!(until, t0 + 10 * S, "until the longer wait ends");
        assert_eq!(p.wait_before_start(2, t0 + 4 * S), Some(6 * S));
        assert_eq!(p.wait_before_start(4, t0 + 4 * S), None, "other DCs go on");
        assert_eq!(p.wait_before_start(2, t0 + 10 * S), None);
    }

    #[test]
    fn a_flood_after_the_first_ended_is_not_a_dc_limit() {
        let mut p = DcPacer::new();
        let t0 = Instant::now();
        p.on_flood(2, 1, 2 * S, t0);
        assert_eq!(p.on_flood(2, 2, 2 * S, t0 + 3 * S), None);
    }
}
