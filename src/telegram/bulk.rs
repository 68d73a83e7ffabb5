//! One action on many accounts (the TUI's bulk log out and terminate-others), paced like
//! `check`: bounded concurrency, and a FLOOD_WAIT pauses only the account that got it (it gives
//! its place to the next one, then tries again), or its DC when Telegram limits the DC (see
//! [`DcPacer`]). Dropping the future stops the run.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use super::error::TgError;
use super::pacer::DcPacer;

/// One account to act on: its index in the caller's list and its home DC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkItem<T> {
    pub index: usize,
    pub dc: i32,
    pub target: T,
}

/// Progress of a run, by the items' indexes.
#[derive(Debug)]
pub enum BulkEvent {
    /// Telegram asked this account to wait; it tries again by itself after `seconds`.
    FloodWait { index: usize, seconds: u32 },
    Finished {
        index: usize,
        result: Result<(), TgError>,
    },
}

#[derive(Clone, Copy, Debug)]
pub struct BulkOptions {
    pub concurrency: usize,
    /// A FLOOD_WAIT longer than this (in total for one account) ends it with the error.
    pub max_flood_wait: Duration,
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions {
            concurrency: super::check::DEFAULT_CONCURRENCY,
            max_flood_wait: Duration::from_secs(300),
        }
    }
}

/// Runs `op` on every item; `events` hears of each wait and result.
pub async fn paced<T, F>(
    items: Vec<BulkItem<T>>,
    options: BulkOptions,
    op: F,
    events: mpsc::UnboundedSender<BulkEvent>,
) where
    T: Clone + Send + 'static,
    F: Fn(T) -> BoxFuture<'static, Result<(), TgError>> + Send + Sync + 'static,
{
    let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let pacer = Arc::new(Mutex::new(DcPacer::new()));
    let op = Arc::new(op);
    let mut tasks = JoinSet::new();
    for item in items {
        let (permits, pacer, op, events) = (
            Arc::clone(&permits),
            Arc::clone(&pacer),
            Arc::clone(&op),
            events.clone(),
        );
        tasks.spawn(async move {
            let mut waited = Duration::ZERO;
            loop {
                let Ok(permit) = permits.acquire().await else {
                    return;
                };
                // New work waits while Telegram limits this DC.
                loop {
                    let wait = lock(&pacer).wait_before_start(item.dc, Instant::now());
                    match wait {
                        Some(w) => tokio::time::sleep(w).await,
                        None => break,
                    }
                }
                let result = op(item.target.clone()).await;
                let seconds = match result {
                    Err(TgError::FloodWait { seconds }) => seconds,
                    result => {
                        let _ = events.send(BulkEvent::Finished {
                            index: item.index,
                            result,
                        });
                        return;
                    }
                };
                let wait = Duration::from_secs(u64::from(seconds.max(1)));
                if waited + wait > options.max_flood_wait {
                    let _ = events.send(BulkEvent::Finished {
                        index: item.index,
                        result: Err(TgError::FloodWait { seconds }),
                    });
                    return;
                }
                waited += wait;
                lock(&pacer).on_flood(item.dc, item.index, wait, Instant::now());
                let _ = events.send(BulkEvent::FloodWait {
                    index: item.index,
                    seconds,
                });
                // Waiting frees this account's place for the others.
                drop(permit);
                tokio::time::sleep(wait).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

fn lock(p: &Mutex<DcPacer>) -> std::sync::MutexGuard<'_, DcPacer> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_flooded_account_waits_and_retries_while_the_others_finish() {
        let tries = Arc::new(AtomicU32::new(0));
        let counted = Arc::clone(&tries);
        let op = move |n: u32| -> BoxFuture<'static, Result<(), TgError>> {
            let first = n == 1 && counted.fetch_add(1, Ordering::SeqCst) == 0;
            Box::pin(async move {
                if first {
                    Err(TgError::FloodWait { seconds: 1 })
                } else {
                    Ok(())
                }
            })
        };
        let items = (0..3)
            .map(|i| BulkItem {
                index: i as usize,
                dc: 2,
                target: i,
            })
            .collect();
        let (tx, mut rx) = mpsc::unbounded_channel();
        paced(items, BulkOptions::default(), op, tx).await;
        let mut seen = Vec::new();
        while let Ok(e) = rx.try_recv() {
            seen.push(match e {
                BulkEvent::FloodWait { index, seconds } => format!("wait {index} {seconds}"),
                BulkEvent::Finished { index, result } => format!("done {index} {}", result.is_ok()),
            });
        }
        assert_eq!(seen.iter().filter(|s| s.starts_with("wait")).count(), 1);
        assert!(seen.contains(&"wait 1 1".to_string()), "{seen:?}");
        for i in 0..3 {
            assert!(seen.contains(&format!("done {i} true")), "{seen:?}");
        }
        // The others finished before the flooded one.
        assert_eq!(seen.last().unwrap(), "done 1 true");
    }

    #[tokio::test]
    async fn a_wait_beyond_the_limit_is_the_rows_error() {
        let op = |_: u32| -> BoxFuture<'static, Result<(), TgError>> {
            Box::pin(async { Err(TgError::FloodWait { seconds: 999 }) })
        };
        let (tx, mut rx) = mpsc::unbounded_channel();
        let items = vec![BulkItem {
            index: 0,
            dc: 2,
            target: 0,
        }];
        paced(items, BulkOptions::default(), op, tx).await;
        match rx.try_recv().unwrap() {
            BulkEvent::Finished { result, .. } => {
                assert!(matches!(result, Err(TgError::FloodWait { seconds: 999 })))
            }
            e => panic!("{e:?}"),
        }
    }
}
