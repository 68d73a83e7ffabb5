//! Scripted FLOOD_WAITs (a [`Tuning`](super::Tuning) knob for tests): once armed for an
//! account, its next request is refused with FLOOD_WAIT_X, and so is every request until those
//! X seconds have passed, as Telegram does. Other accounts are not affected.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Shared by every connection of a sandbox; clone it into the `Tuning` and arm it later.
#[derive(Clone, Debug, Default)]
pub struct FloodScript(Arc<Mutex<HashMap<i64, Plan>>>);

#[derive(Clone, Copy, Debug)]
enum Plan {
    /// Not triggered yet: the next request starts a wait of this many seconds.
    Armed { seconds: i64 },
    /// Refusing until this unix time.
    Until(i64),
}

impl FloodScript {
    /// The account `user_id` gets FLOOD_WAIT_`seconds` on its next request (once).
    pub fn arm(&self, user_id: i64, seconds: u32) {
        self.plans().insert(
            user_id,
            Plan::Armed {
                seconds: i64::from(seconds.max(1)),
            },
        );
    }

    pub fn is_empty(&self) -> bool {
        self.plans().is_empty()
    }

    /// Seconds the request of `user_id` at `now` must wait, if any.
    pub fn wait_for(&self, user_id: i64, now: i64) -> Option<i64> {
        let mut plans = self.plans();
        let plan = plans.get_mut(&user_id)?;
        let until = match *plan {
            Plan::Armed { seconds } => {
                *plan = Plan::Until(now + seconds);
                now + seconds
            }
            Plan::Until(until) => until,
        };
        if now < until {
            return Some(until - now);
        }
        plans.remove(&user_id);
        None
    }

    fn plans(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Plan>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn armed_account_waits_then_goes_on_and_others_never_wait() {
        let script = FloodScript::default();
        assert_eq!(script.wait_for(1, 100), None);
        script.arm(1, 5);
        assert_eq!(script.wait_for(2, 100), None);
        assert_eq!(script.wait_for(1, 100), Some(5));
        assert_eq!(script.wait_for(1, 103), Some(2));
        assert_eq!(script.wait_for(1, 105), None);
        assert!(script.is_empty());
        assert_eq!(script.wait_for(1, 106), None);
    }
}
