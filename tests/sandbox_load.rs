//! Bounded load: at least 200 concurrent grammers clients log in over loopback, every one
//! succeeds, all within a deadline. Prints logins per second.

mod sandbox_support;

use std::time::{Duration, Instant};

use sandbox_support::*;
use tgsess::sandbox::{NewUser, SANDBOX_API_HASH};

const CLIENTS: usize = 200;
const ALL_DONE_WITHIN: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_logins() {
    let sb = seeded().await;
    // Distinct numbers on DC 2 (code 22222), so the per-number flood limit is not in play.
    let phones: Vec<String> = (0..CLIENTS)
        .map(|i| format!("99966{:05}", 20000 + i))
        .collect();
    for (i, phone) in phones.iter().enumerate() {
        sb.add_user(NewUser::new(phone.clone(), format!("Load {i}")))
            .unwrap();
    }
    let clients: Vec<TestClient> = (0..CLIENTS).map(|_| client(&sb, 2)).collect();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (tc, phone) in clients.into_iter().zip(phones) {
        tasks.spawn(async move {
            let outcome = async {
                let token = tc
                    .client
                    .request_login_code(&phone, SANDBOX_API_HASH)
                    .await
                    .map_err(|e| format!("sendCode: {e}"))?;
                let me = tc
                    .client
                    .sign_in(&token, "22222")
                    .await
                    .map_err(|e| format!("signIn: {e}"))?;
                if me.phone() != Some(phone.as_str()) {
                    return Err(format!("logged in as {:?}", me.phone()));
                }
                match tc.client.is_authorized().await {
                    Ok(true) => Ok(()),
                    other => Err(format!("is_authorized: {other:?}")),
                }
            }
            .await;
            tc.quit().await;
            outcome
        });
    }
    let results = tokio::time::timeout(ALL_DONE_WITHIN, async {
        let mut results = Vec::new();
        while let Some(r) = tasks.join_next().await {
            results.push(r.expect("client task panicked"));
        }
        results
    })
    .await
    .expect("all logins finish within the deadline");
    let elapsed = started.elapsed();
    let errors: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(results.len(), CLIENTS);
    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}",
        errors.len(),
        errors.first()
    );
    println!(
        "{CLIENTS} concurrent logins in {:.2} s: {:.0} logins/s",
        elapsed.as_secs_f64(),
        CLIENTS as f64 / elapsed.as_secs_f64()
    );
    sb.stop().await;
}
