//! Connections end cleanly: once the last clone of a `Connection` is dropped, its network task
//! (grammers' sender pool) stops by itself, so the CLI can wait for it before the runtime goes.
//! A runtime that stopped first cancelled the pool's connections under it, and grammers then
//! printed a panic at exit ("task … was cancelled"), about 1 CLI login in 800 with 48 logins
//! in parallel against one `sandbox serve` (too rare for a bounded test: this pins the
//! mechanism that removes it).

mod telegram_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use telegram_common::*;
use tgsess::store::adapter::{Backend, StoredSession};
use tgsess::telegram::{self, Connection, ShutDown};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_end_their_network_tasks_without_a_panic() {
    let panics = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&panics);
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        seen.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));

    let h = Harness::start().await;
    let options = h.options();
    // Carol lives on DC 4: the login migrates, which drops the DC 2 connection on the way.
    let mut alive = Vec::new();
    for phone in ["+9996621111", "+9996641111"] {
        let session = h.sandbox.new_session(2).unwrap();
        let conn = Connection::open(StoredSession::new(session, Backend::Memory), &options)
            .expect("connects");
        let mut flow = telegram::PhoneFlow::new(conn.clone());
        within(flow.start(phone)).await.expect("code sent");
        let code = &phone[6..7].repeat(5);
        let step = within(flow.enter_code(tgsess::secret::SecretString::new(code))).await;
        expect_done(step);
        within(telegram::whoami(&conn)).await.expect("whoami");
        alive.push(conn);
    }
    drop(alive);
    let report = options.tasks.shut_down(Duration::from_secs(20)).await;
    assert_eq!(
        report,
        ShutDown {
            ended: 2,
            aborted: 0
        },
        "every connection was dropped, so every network task ends by itself"
    );
    assert_eq!(panics.load(Ordering::SeqCst), 0, "a panic was printed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_still_alive_is_aborted_after_the_grace_period() {
    let h = Harness::start().await;
    let options = h.options();
    let session = h.sandbox.new_session(2).unwrap();
    let conn = Connection::open(StoredSession::new(session, Backend::Memory), &options).unwrap();
    within(telegram::is_authorized(&conn)).await.unwrap();
    let report = options.tasks.shut_down(Duration::from_millis(200)).await;
    assert_eq!(
        report,
        ShutDown {
            ended: 0,
            aborted: 1
        }
    );
    // The connection now fails instead of hanging.
    assert!(within(telegram::whoami(&conn)).await.is_err());
}
