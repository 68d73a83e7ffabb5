//! A full phone + 2FA login over loopback against the in-process sandbox (127.0.0.1), and the
//! PBKDF2 part of it (PH2, 100,000 rounds of HMAC-SHA512) on its own. Prints the number of
//! round trips one login takes, then the login's floor and the ratio to it, measured in the
//! same run: floor = a phone login without 2FA (connection, sendCode, signIn) + two cheap
//! RPC round trips (getPassword, checkPassword) + the client's SRP proof (one PBKDF2 and the
//! modular exponentiations). The goal is a ratio of at most 1.3. `safe_prime_test_telegram_p`
//! is what every 2FA login paid before Telegram's prime was known good.
//!
//! Run: `cargo bench --bench login` (the PBKDF2 is compiled in this crate: the dev profile's
//! figures are not representative).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use grammers_tl_types as tl;
use tgsess::crypto::srp;
use tgsess::sandbox::{NewUser, Sandbox, SandboxConfig};
use tgsess::secret::SecretString;
use tgsess::store::adapter::{Backend, StoredSession};
use tgsess::telegram::{ConnectOptions, Connection, PhoneFlow, PhonePrompt, PhoneStep};

struct Bench {
    runtime: tokio::runtime::Runtime,
    sandbox: Sandbox,
    options: ConnectOptions,
    _locks: tempfile::TempDir,
    next_phone: AtomicU32,
}

impl Bench {
    fn start() -> Bench {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sandbox = runtime
            .block_on(Sandbox::start(SandboxConfig {
                state_dir: None,
                seed: false,
                base_port: 0,
            }))
            .expect("the sandbox starts");
        let locks = tempfile::tempdir().unwrap();
        let mut options = tgsess::mode::sandbox_options(sandbox.state_dir());
        options.lock_dir = locks.path().to_path_buf();
        Bench {
            runtime,
            sandbox,
            options,
            _locks: locks,
            next_phone: AtomicU32::new(3000),
        }
    }

    /// A new 2FA account on DC 2 (each number may ask for codes only a few times).
    fn new_account(&self) -> String {
        self.add_account(true)
    }

    fn add_account(&self, with_2fa: bool) -> String {
        let n = self.next_phone.fetch_add(1, Ordering::Relaxed);
        let phone = format!("999662{n:04}");
        let user = NewUser::new(phone.clone(), "Bench");
        let user = if with_2fa {
            user.with_password("bench", Some("b"))
        } else {
            user
        };
        self.sandbox.add_user(user).expect("user added");
        phone
    }

    /// One login from a fresh session; returns its time and the RPCs it sent.
    fn login(&self, phone: &str) -> (Duration, usize) {
        let (took, conn) = self.login_as(phone, true);
        (took, conn.rpc_count())
    }

    /// A login of an account with or without 2FA; returns its time and the connection.
    fn login_as(&self, phone: &str, with_2fa: bool) -> (Duration, Connection) {
        let session = self.sandbox.new_session(2).unwrap();
        self.runtime.block_on(async {
            let started = Instant::now();
            let conn =
                Connection::open(StoredSession::new(session, Backend::Memory), &self.options)
                    .unwrap();
            let mut flow = PhoneFlow::new(conn.clone());
            flow.start(phone).await.unwrap();
            let mut step = flow.enter_code(SecretString::new("22222")).await.unwrap();
            if with_2fa {
                assert!(matches!(step, PhoneStep::Ask(PhonePrompt::Password(_))));
                step = flow
                    .enter_password(SecretString::new("bench"))
                    .await
                    .unwrap();
            }
            assert!(matches!(step, PhoneStep::Done(_)));
            (started.elapsed(), conn)
        })
    }

    /// One cheap RPC round trip (account.getPassword of an account without 2FA).
    fn round_trip(&self, conn: &Connection) -> Duration {
        self.runtime.block_on(async {
            let started = Instant::now();
            conn.client()
                .invoke(&tl::functions::account::GetPassword {})
                .await
                .unwrap();
            started.elapsed()
        })
    }
}

/// The client's SRP proof for a 2FA login (grammers-crypto): PBKDF2 plus three 2048-bit
/// modular exponentiations.
fn client_proof() -> ([u8; 32], [u8; 256]) {
    let p = srp::prime_bytes();
    grammers_crypto::two_factor_auth::calculate_2fa(
        &[7u8; 40],
        &[9u8; 16],
        &p,
        &3,
        vec![5u8; 256],
        vec![3u8; 256],
        std::hint::black_box(b"bench"),
    )
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Measures the 2FA login and each part of its floor, interleaved so that load on the
/// machine weighs on all of them alike, and prints the floor and the ratio.
fn floor_report(bench: &Bench) {
    const ROUNDS: usize = 15;
    let (mut full, mut plain, mut rtt, mut proof) = (vec![], vec![], vec![], vec![]);
    for _ in 0..ROUNDS {
        full.push(bench.login(&bench.new_account()).0);
        let (took, conn) = bench.login_as(&bench.add_account(false), false);
        plain.push(took);
        rtt.push(bench.round_trip(&conn));
        let started = Instant::now();
        std::hint::black_box(client_proof());
        proof.push(started.elapsed());
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (full, plain, rtt, proof) = (median(full), median(plain), median(rtt), median(proof));
    let floor = plain + 2 * rtt + proof;
    eprintln!(
        "floor of the phone + 2FA login (medians of {ROUNDS}): login without 2FA {:.1} ms + \
         2 x round trip {:.2} ms + client SRP proof {:.1} ms = {:.1} ms",
        ms(plain),
        ms(rtt),
        ms(proof),
        ms(floor)
    );
    eprintln!(
        "phone + 2FA login {:.1} ms = {:.2}x its floor (goal: at most 1.3x)",
        ms(full),
        full.as_secs_f64() / floor.as_secs_f64()
    );
}

fn login(c: &mut Criterion) {
    let bench = Bench::start();
    let phone = bench.new_account();
    let (_, rpcs) = bench.login(&phone);
    eprintln!(
        "phone + 2FA login: {rpcs} RPC round trips (sendCode, signIn, getPassword, \
         checkPassword) + 1 for the connection's initConnection/help.getConfig"
    );
    floor_report(&bench);
    let mut group = c.benchmark_group("login");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("phone_2fa_loopback", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let phone = bench.new_account();
                total += bench.login(&phone).0;
            }
            total
        })
    });
    group.bench_function("pbkdf2_ph2_only", |b| {
        let salt1 = [7u8; 40];
        let salt2 = [9u8; 16];
        b.iter(|| srp::password_hash(std::hint::black_box(b"bench"), &salt1, &salt2))
    });
    group.bench_function("srp_client_proof_calculate_2fa", |b| b.iter(client_proof));
    group.bench_function("safe_prime_test_telegram_p", |b| {
        // The test each 2FA login ran before Telegram's p was known good (g = 4: the
        // subgroup condition always holds, so this is the primality test alone).
        let p = srp::prime_bytes();
        b.iter(|| grammers_crypto::two_factor_auth::check_p_and_g(std::hint::black_box(&p), &4))
    });
    group.finish();
    let Bench {
        runtime, sandbox, ..
    } = bench;
    runtime.block_on(sandbox.stop());
}

criterion_group!(benches, login);
criterion_main!(benches);
