//! Benchmarks of the store: listing a folder of 1,000 Telethon session files, and converting
//! 1,000 of them to Pyrogram strings.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use tgsess::secret::AuthKey;
use tgsess::store::convert::{Overrides, prepare};
use tgsess::store::dir::SessionDir;
use tgsess::store::{self, Format, PyrogramStringLayout, Session};

const FILES: usize = 1000;

fn make_folder(dir: &Path) {
    for i in 0..FILES {
        let mut s = Session::new(2);
        let home = s.home_mut();
        home.ipv4 = Some("149.154.167.51".parse().unwrap());
        home.port = Some(443);
        home.auth_key = Some(AuthKey::random());
        s.user_id = Some(100_000 + i as i64);
        store::write_file(
            &dir.join(format!("user{i:04}.session")),
            &s,
            Format::TelethonSqlite(7),
        )
        .unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    make_folder(tmp.path());
    let dir = SessionDir::new(tmp.path());

    c.bench_function("list 1000 telethon files", |b| {
        b.iter(|| {
            let rows = dir.list().unwrap();
            assert_eq!(rows.len(), FILES);
        })
    });

    // `tgsess list --json`, cold and warm, and its floors: `cargo bench --bench list`.

    let overrides = Overrides {
        api_id: Some(12345),
        ..Default::default()
    };
    let target = Format::PyrogramString(PyrogramStringLayout::V2);
    c.bench_function("convert 1000 telethon files to pyrogram strings", |b| {
        b.iter(|| {
            for row in dir.list().unwrap() {
                let loaded = row.result.unwrap();
                let (s, _) = prepare(&loaded.session, target, &overrides).unwrap();
                let text = store::encode_string(&s, target).unwrap();
                assert_eq!(text.len(), 362);
            }
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
