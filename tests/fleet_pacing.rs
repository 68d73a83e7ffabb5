//! Pacing of `check_many` against the in-process sandbox with FLOOD_WAITs scripted for two
//! accounts (`Tuning::flood`): a flood wait pauses only its account, which gives its place in
//! the run to the next one, and the account is checked once the wait is over.

mod fleet_support;
mod tgsess_bin;

use std::time::Duration;

use fleet_support::Fleet;
use tgsess::sandbox::{FloodScript, Sandbox, SandboxConfig, Tuning};
use tgsess::store::Format;
use tgsess::store::status::Status;
use tgsess::telegram::check::{CheckEvent, CheckOptions, CheckTarget, check_many};

const FLOOD_SECONDS: u32 = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_wait_pauses_its_account_only() {
    let flood = FloodScript::default();
    let sandbox = Sandbox::start_tuned(
        SandboxConfig {
            state_dir: None,
            seed: false,
            base_port: 0,
        },
        Tuning {
            flood: flood.clone(),
            ..Tuning::default()
        },
    )
    .await
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut fleet = Fleet::new(sandbox.state_dir(), &tmp.path().join("sessions"));
    // Flooded accounts on DCs 2 and 4, the others on 1, 3 and 5 (no DC-wide pause).
    let phones = [
        ("flooded-a", "9996623001"),
        ("flooded-b", "9996643002"),
        ("calm-1", "9996613003"),
        ("calm-3", "9996633004"),
        ("calm-5", "9996653005"),
    ];
    let mut targets = Vec::new();
    let mut flooded = Vec::new();
    for (name, phone) in phones {
        let id = fleet.add_user(phone, name, None);
        let path = fleet.logged_in(id, name, Format::TgsessSqlite);
        if name.starts_with("flooded") {
            flood.arm(id, FLOOD_SECONDS);
            flooded.push(targets.len());
        }
        targets.push(CheckTarget {
            name: name.into(),
            path,
        });
    }
    // Sandbox options: addresses come from the sandbox alone, loopback only.
    let mut connect = tgsess::mode::sandbox_options(sandbox.state_dir());
    connect.lock_dir = tmp.path().join("locks");
    let mut options = CheckOptions::new(connect);
    // One account at a time: a waiting account must give its place away for the run to go on.
    options.concurrency = 1;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // The collector owns what it hears and hands it over once the run has dropped its sender.
    let collector = tokio::spawn(async move {
        let mut events = Vec::new();
        while let Some(e) = rx.recv().await {
            events.push(e);
        }
        events
    });
    let deadline = Duration::from_secs(u64::from(FLOOD_SECONDS) * 2 + 60);
    let results = tokio::time::timeout(deadline, check_many(targets, &options, Some(tx)))
        .await
        .expect("the run ends");
    let events = collector.await.unwrap();
    for r in &results {
        assert_eq!(r.finding.status, Status::Authorized, "{r:?}");
        assert_eq!(r.finding.two_fa, Some(false), "{}", r.name);
    }

    let position = |wanted: &dyn Fn(&CheckEvent) -> bool| {
        events.iter().position(wanted).expect("the event happened")
    };
    let waited = |i: usize| {
        position(
            &|e| matches!(e, CheckEvent::FloodWait { index, seconds } if *index == i && *seconds >= FLOOD_SECONDS - 1),
        )
    };
    let finished =
        |i: usize| position(&|e| matches!(e, CheckEvent::Finished { index, .. } if *index == i));
    let first_flooded_done = flooded.iter().map(|&i| finished(i)).min().unwrap();
    // Both flooded accounts were waiting at once: the first gave its place to the second.
    for &i in &flooded {
        assert!(waited(i) < first_flooded_done, "{events:#?}");
    }
    // The calm accounts did not wait for the flooded ones.
    for i in (0..results.len()).filter(|i| !flooded.contains(i)) {
        assert!(finished(i) < first_flooded_done, "{events:#?}");
    }
    sandbox.stop().await;
}
