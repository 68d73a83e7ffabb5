//! Benchmarks of tdata: writing 1,000 one-account folders, and reading them back (each
//! folder directly, and as `tgsess list` sees them). Without a passcode, as most folders are;
//! a passcode adds Telegram Desktop's 100,000 PBKDF2 rounds per folder by design.

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use tgsess::secret::AuthKey;
use tgsess::store::dir::SessionDir;
use tgsess::store::{Session, tdata};

const FOLDERS: usize = 1000;

fn session(i: usize) -> Session {
    let mut s = Session::new(2);
    s.home_mut().auth_key = Some(AuthKey::random());
    s.dc_mut(4).auth_key = Some(AuthKey::random());
    s.user_id = Some(5_000_000_000 + i as i64);
    s
}

fn folder(root: &Path, i: usize) -> PathBuf {
    root.join(format!("tdata{i:04}"))
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let sessions: Vec<Session> = (0..FOLDERS).map(session).collect();
    c.bench_function("write 1000 tdata folders", |b| {
        b.iter(|| {
            for (i, s) in sessions.iter().enumerate() {
                tdata::write_folder(&folder(tmp.path(), i), std::slice::from_ref(s), b"", true)
                    .unwrap();
            }
        })
    });
    c.bench_function("read 1000 tdata folders", |b| {
        b.iter(|| {
            for (i, s) in sessions.iter().enumerate() {
                let accounts = tdata::read_folder(&folder(tmp.path(), i), b"").unwrap();
                assert_eq!(accounts[0].session.user_id, s.user_id);
            }
        })
    });
    let dir = SessionDir::new(tmp.path());
    c.bench_function("list a directory of 1000 tdata folders", |b| {
        b.iter(|| assert_eq!(dir.list().unwrap().len(), FOLDERS))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
