//! A full phone + 2FA login over loopback against the in-process sandbox (127.0.0.1), and the
//! PBKDF2 part of it (PH2, 100,000 rounds of HMAC-SHA512) on its own. Prints the number of
//! round trips one login takes.
//!
//! Run: `cargo bench --bench login` (or `--profile dev` for a quick look; dependencies are
//! optimised in the dev profile too).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use tgsess::crypto::srp;
use tgsess::sandbox::{NewUser, SANDBOX_API_HASH, SANDBOX_API_ID, Sandbox, SandboxConfig};
use tgsess::secret::SecretString;
use tgsess::store::adapter::{Backend, StoredSession};
use tgsess::telegram::{
    ApiCredentials, ConnectOptions, Connection, PhoneFlow, PhonePrompt, PhoneStep,
};

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
        let n = self.next_phone.fetch_add(1, Ordering::Relaxed);
        let phone = format!("999662{n:04}");
        self.sandbox
            .add_user(NewUser::new(phone.clone(), "Bench").with_password("bench", Some("b")))
            .expect("user added");
        phone
    }

    /// One login from a fresh session; returns its time and the RPCs it sent.
    fn login(&self, phone: &str) -> (Duration, usize) {
        let session = self.sandbox.new_session(2).unwrap();
        self.runtime.block_on(async {
            let started = Instant::now();
            let conn =
                Connection::open(StoredSession::new(session, Backend::Memory), &self.options)
                    .unwrap();
            let mut flow = PhoneFlow::new(conn.clone());
            flow.start(phone).await.unwrap();
            let step = flow.enter_code(SecretString::new("22222")).await.unwrap();
            assert!(matches!(step, PhoneStep::Ask(PhonePrompt::Password(_))));
            let step = flow
                .enter_password(SecretString::new("bench"))
                .await
                .unwrap();
            assert!(matches!(step, PhoneStep::Done(_)));
            (started.elapsed(), conn.rpc_count())
        })
    }
}

fn login(c: &mut Criterion) {
    let bench = Bench::start();
    let phone = bench.new_account();
    let (_, rpcs) = bench.login(&phone);
    eprintln!(
        "phone + 2FA login: {rpcs} RPC round trips (sendCode, signIn, getPassword, \
         checkPassword) + 1 for the connection's initConnection/help.getConfig"
    );
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
    group.bench_function("srp_client_proof_calculate_2fa", |b| {
        // What the login's checkPassword step computes on the client (grammers-crypto):
        // PBKDF2 plus three 2048-bit modular exponentiations.
        let salt1 = [7u8; 40];
        let salt2 = [9u8; 16];
        let p = srp::prime_bytes();
        let g_b = vec![5u8; 256];
        let a = vec![3u8; 256];
        b.iter(|| {
            grammers_crypto::two_factor_auth::calculate_2fa(
                &salt1,
                &salt2,
                &p,
                &3,
                g_b.clone(),
                a.clone(),
                std::hint::black_box(b"bench"),
            )
        })
    });
    group.finish();
    let Bench {
        runtime, sandbox, ..
    } = bench;
    runtime.block_on(sandbox.stop());
}

criterion_group!(benches, login);
criterion_main!(benches);
