use std::fs;
use std::os::unix::fs::PermissionsExt;

use serde_json::{Value, json};

use super::*;
use crate::secret::AuthKey;
use crate::store::dir::{listable_files, tdata_listings};
use crate::store::{Format, Session, inspect, read_file, write_file};

fn session(user: i64, key: u8) -> Session {
    let mut s = Session::new(2);
    s.user_id = Some(user);
    let h = s.home_mut();
    h.ipv4 = Some("127.0.0.1".parse().unwrap());
    h.port = Some(1);
    h.auth_key = Some(AuthKey::new([key; 256]));
    s
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A folder with every session fixture, a tdata folder, and files that must be error rows or
/// skipped, so the fast path and the full path both show.
fn mixed_folder() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(fixtures().join("sessions")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e != "json") {
            fs::copy(&path, tmp.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let tdata = fixtures().join("tdata/two_accounts");
    let copy = tmp.path().join("desk");
    fs::create_dir(&copy).unwrap();
    for entry in walk(&tdata) {
        let rel = entry.strip_prefix(&tdata).unwrap();
        let dest = copy.join(rel);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::copy(&entry, dest).unwrap();
    }
    fs::write(tmp.path().join("notes.txt"), b"shopping list").unwrap();
    fs::write(tmp.path().join("empty.session"), b"").unwrap();
    fs::write(tmp.path().join("junk.session"), b"SQLite format 3\0garbage").unwrap();
    fs::write(tmp.path().join("bad.string"), b"1AAAA").unwrap();
    fs::create_dir(tmp.path().join("folder.session")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/x", tmp.path().join("dangling.session")).unwrap();
    // A foreign database, and one with a (stale, empty) journal beside it: the full way.
    let foreign = rusqlite::Connection::open(tmp.path().join("foreign.session")).unwrap();
    foreign.execute_batch("CREATE TABLE t (x)").unwrap();
    drop(foreign);
    write_file(
        &tmp.path().join("logged.session"),
        &session(5, 5),
        Format::TelethonSqlite(7),
    )
    .unwrap();
    fs::write(tmp.path().join("logged.session-journal"), b"").unwrap();
    // Names that need escaping, an IPv6 datacenter and a second DC without a key.
    let mut rich = session(9, 9);
    rich.is_bot = Some(false);
    rich.dc_mut(4).ipv6 = Some("2001:db8::1".parse().unwrap());
    rich.dc_mut(4).port = Some(443);
    rich.user = Some(crate::store::SelfUser {
        first_name: Some("Ä \"q\"\n\u{1}".into()),
        last_name: Some(String::new()),
        username: Some("u\\".into()),
        phone: None,
    });
    write_file(
        &tmp.path().join("rich.session"),
        &rich,
        Format::TgsessSqlite,
    )
    .unwrap();
    let open = tmp.path().join("open.session");
    write_file(&open, &session(6, 6), Format::TelethonSqlite(8)).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o644)).unwrap();
    tmp
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// What `list --json` printed before this module: `inspect`'s object of each `read_file`.
fn oracle(root: &Path) -> String {
    let mut rows: Vec<(String, Value)> = Vec::new();
    for (name, ext, path) in listable_files(root).unwrap() {
        let backend = if ext == "session" { "sqlite" } else { "string" };
        let (mut obj, error) = match read_file(&path) {
            Ok(loaded) => (inspect::file_json(&path, &loaded, false), None),
            Err(_) if ext == "txt" => continue,
            Err(e) => (json!({}), Some(e.to_string())),
        };
        let map = obj.as_object_mut().unwrap();
        map.insert("name".into(), json!(name));
        map.insert("path".into(), json!(path.display().to_string()));
        map.insert("backend".into(), json!(backend));
        map.insert("error".into(), json!(error));
        rows.push((name, obj));
    }
    for l in tdata_listings(root) {
        let (mut obj, error) = match &l.result {
            Ok(loaded) => (inspect::to_json(loaded, false), None),
            Err(e) => (json!({}), Some(e.to_string())),
        };
        let map = obj.as_object_mut().unwrap();
        map.insert("name".into(), json!(l.name));
        map.insert("path".into(), json!(l.path.display().to_string()));
        map.insert("backend".into(), json!("folder"));
        map.insert("error".into(), json!(error));
        rows.push((l.name, obj));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    serde_json::to_string_pretty(&Value::Array(rows.into_iter().map(|r| r.1).collect())).unwrap()
}

fn json_of(dir: &SessionDir, cache: Option<&Path>, now: i128) -> String {
    let mut out = Vec::new();
    let mut array = JsonArray::default();
    scan_with(dir, cache, now, |rows| {
        for row in rows {
            array.row(&mut out, row).unwrap();
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    array.finish(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn list_uncached(dir: &SessionDir) -> Vec<Summary> {
    let mut all = Vec::new();
    scan_with(dir, None, cache::now_ns(), |r| {
        all.extend_from_slice(r);
        ControlFlow::Continue(())
    })
    .unwrap();
    all
}

#[test]
fn rows_are_those_of_read_file_cold_warm_and_uncached() {
    let tmp = mixed_folder();
    let dir = SessionDir::new(tmp.path());
    let expected = oracle(tmp.path());
    assert!(expected.contains("\"error\": \"") && expected.contains("telethon-sqlite-v7"));
    assert!(expected.contains("2001:db8::1") && expected.contains(r#"\"q\"\n\u0001"#));
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = cache_dir.path().join("tgsess/list.bin");
    let t = cache::now_ns();
    assert_eq!(json_of(&dir, None, t), expected, "uncached");
    // The hand-written rows are exactly serde_json's text of the same rows.
    let rows = list_uncached(&dir);
    let by_serde = serde_json::to_string_pretty(&rows).unwrap();
    assert_eq!(by_serde, expected, "serde");
    assert_eq!(json_of(&dir, Some(&cache), t), expected, "cold");
    assert!(cache.exists());
    // Ten seconds later every record is trusted: the rows come from the cache alone.
    let later = t + 10 * cache::RACY_WINDOW_NS;
    assert_eq!(json_of(&dir, Some(&cache), later), expected, "re-read");
    assert_eq!(json_of(&dir, Some(&cache), later + 1), expected, "warm");
    let bytes = fs::read(&cache).unwrap();
    for key in [[5u8; 32], [6u8; 32]] {
        assert!(
            !bytes.windows(32).any(|w| w == key),
            "the cache holds no key"
        );
    }
    assert_eq!(
        fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        fs::metadata(cache.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
}

#[test]
fn many_files_come_in_ordered_batches_and_the_caller_can_stop() {
    let tmp = tempfile::tempdir().unwrap();
    let count = BATCH * 2 + 17;
    let template = tmp.path().join("template");
    write_file(&template, &session(1, 1), Format::TelethonSqlite(7)).unwrap();
    for i in 0..count {
        fs::copy(&template, tmp.path().join(format!("s{i:05}.session"))).unwrap();
    }
    fs::remove_file(&template).unwrap();
    let dir = SessionDir::new(tmp.path());
    let mut names = Vec::new();
    let mut batches = 0;
    scan_with(&dir, None, cache::now_ns(), |rows| {
        batches += 1;
        names.extend(rows.iter().map(|r| r.name.clone()));
        ControlFlow::Continue(())
    })
    .unwrap();
    let expected: Vec<String> = (0..count).map(|i| format!("s{i:05}")).collect();
    assert_eq!(names, expected);
    assert!(batches >= 3, "{batches} batches");
    let mut seen = 0;
    scan_with(&dir, None, cache::now_ns(), |rows| {
        seen += rows.len();
        ControlFlow::Break(())
    })
    .unwrap();
    assert_eq!(seen, BATCH);
}

#[test]
fn changes_are_seen_and_a_broken_cache_is_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = SessionDir::new(tmp.path());
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = cache_dir.path().join("list.bin");
    let a = tmp.path().join("a.session");
    write_file(&a, &session(1, 1), Format::TelethonSqlite(7)).unwrap();
    let rows = |now| {
        let mut all = Vec::new();
        scan_with(&dir, Some(&cache), now, |r| {
            all.extend_from_slice(r);
            ControlFlow::Continue(())
        })
        .unwrap();
        all
    };
    let t = cache::now_ns();
    assert_eq!(rows(t)[0].info.as_ref().unwrap().user_id, Some(1));
    // A change is seen even within the racy window (same size, new content).
    write_file(&a, &session(7, 1), Format::TelethonSqlite(7)).unwrap();
    assert_eq!(rows(t)[0].info.as_ref().unwrap().user_id, Some(7));
    fs::write(&cache, b"tgsess-list\0garbage").unwrap();
    assert_eq!(rows(t)[0].info.as_ref().unwrap().user_id, Some(7));
    fs::remove_file(&a).unwrap();
    assert!(rows(t).is_empty());
}

/// The defect of the old cache: it trusted a record once the file was 3 s old *now*, so a
/// write in the same clock tick as the listing that recorded it (after its stat) stayed unseen
/// for ever. A record is trusted only if the file was old when the record was made.
#[test]
fn a_record_made_while_the_file_was_racy_is_never_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = SessionDir::new(tmp.path());
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = cache_dir.path().join("list.bin");
    let a = tmp.path().join("a.session");
    write_file(&a, &session(1, 1), Format::TelethonSqlite(7)).unwrap();
    let user = |now| {
        let mut user = None;
        scan_with(&dir, Some(&cache), now, |r| {
            user = r[0].info.as_ref().unwrap().user_id;
            ControlFlow::Continue(())
        })
        .unwrap();
        user
    };
    let t = cache::now_ns();
    // Recorded just after the write: racy.
    assert_eq!(user(t), Some(1));
    // Plant a different row in the record: only a row served from the cache shows it.
    plant_user(&cache, 99);
    assert_eq!(user(t + 10 * cache::RACY_WINDOW_NS), Some(1), "re-read");
    // That listing recorded the file when it was old: now the record is trusted.
    plant_user(&cache, 99);
    assert_eq!(user(t + 20 * cache::RACY_WINDOW_NS), Some(99), "trusted");
}

/// Rewrites the first record's user id in the cache file (its encoding is private here).
fn plant_user(cache: &Path, user: i64) {
    let bytes = fs::read(cache).unwrap();
    let id = 1i64.to_le_bytes();
    let mut patched = bytes.clone();
    let at = bytes
        .windows(9)
        .position(|w| w[0] == 1 && w[1..] == id)
        .or_else(|| {
            // Already planted once: the record holds the marker.
            bytes
                .windows(9)
                .position(|w| w[0] == 1 && w[1..] == 99i64.to_le_bytes())
        })
        .expect("the user id is in the record");
    patched[at + 1..at + 9].copy_from_slice(&user.to_le_bytes());
    fs::write(cache, patched).unwrap();
}

#[test]
fn a_cache_record_round_trips_every_field() {
    let mut s = session(42, 3);
    s.is_bot = Some(false);
    s.api_id = Some(12345);
    s.test_mode = Some(true);
    s.dc_mut(4).ipv6 = Some("2001:db8::1".parse().unwrap());
    s.user = Some(crate::store::SelfUser {
        first_name: Some("Ä".into()),
        last_name: None,
        username: Some("u".into()),
        phone: Some("+1".into()),
    });
    let info = Info::from_loaded(
        &Loaded {
            format: Format::PyrogramSqlite(5),
            session: s,
        },
        Some(true),
    );
    let meta = fs::metadata(env!("CARGO_MANIFEST_DIR")).unwrap();
    let fp = cache::Fingerprint::of(&meta);
    let mut records = Vec::new();
    cache::push_record(&mut records, "x.session", &fp, Some(&Ok(info.clone())));
    cache::push_record(&mut records, "y.txt", &fp, None);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("c.bin");
    let later = cache::now_ns() + 10 * cache::RACY_WINDOW_NS;
    cache::save(&path, Path::new("/f"), later, &records).unwrap();
    let bytes = fs::read(&path).unwrap();
    assert!(cache::Cache::parse(&bytes, Path::new("/other")).is_none());
    let loaded = cache::Cache::parse(&bytes, Path::new("/f")).unwrap();
    assert_eq!(loaded.len(), 2);
    let hit = loaded.get("x.session").unwrap();
    assert!(hit.trusted(&fp));
    assert_eq!(hit.info(), Some(Some(Ok(info))));
    assert_eq!(loaded.get("y.txt").unwrap().info(), Some(None));
    // Every truncation is refused, never misread.
    for cut in 0..bytes.len() {
        assert!(cache::Cache::parse(&bytes[..cut], Path::new("/f")).is_none());
    }
}

/// The TUI's listing: in a big folder the first files the folder's read finds come at once,
/// before the scan is reported; every row comes exactly once, as the ordered listing has it
/// (journals of the early files looked at on their own), and a warm run of it rewrites
/// nothing.
#[test]
fn early_rows_come_first_and_every_row_comes_once() {
    let tmp = tempfile::tempdir().unwrap();
    let count = BATCH * 2 + 17;
    let template = tmp.path().join("template");
    write_file(&template, &session(1, 1), Format::TelethonSqlite(7)).unwrap();
    for i in 0..count {
        let path = tmp.path().join(format!("s{i:05}.session"));
        fs::copy(&template, &path).unwrap();
        if i % 10 == 0 {
            fs::write(crate::store::sqlite_read::companion(&path, "-journal"), b"").unwrap();
        }
    }
    fs::remove_file(&template).unwrap();
    let dir = SessionDir::new(tmp.path());
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = cache_dir.path().join("list.bin");
    // Every file older than the racy window, as far as the cache can tell.
    let later = cache::now_ns() + 10 * cache::RACY_WINDOW_NS;
    let ordered = {
        let mut all = Vec::new();
        scan_with(&dir, None, later, |r| {
            all.extend_from_slice(r);
            ControlFlow::Continue(())
        })
        .unwrap();
        all
    };
    let early_scan = || {
        let (mut before, mut after) = (Vec::new(), Vec::new());
        let scanned = std::cell::Cell::new(false);
        scan_inner(
            &dir,
            Some(&cache),
            later,
            true,
            |s| {
                assert_eq!(s.rows, count);
                scanned.set(true);
                ControlFlow::Continue(())
            },
            |r| {
                if scanned.get() {
                    &mut after
                } else {
                    &mut before
                }
                .extend_from_slice(r);
                ControlFlow::Continue(())
            },
        )
        .unwrap();
        (before, after)
    };
    let (before, after) = early_scan();
    assert_eq!(before.len(), BATCH, "the early rows come before the scan");
    assert!(
        after.windows(2).all(|w| w[0].name < w[1].name),
        "the rest in order"
    );
    let by_name = |rows: &[Summary]| {
        let mut rows = rows.to_vec();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        rows
    };
    let all: Vec<Summary> = before.iter().chain(&after).cloned().collect();
    assert_eq!(by_name(&all), ordered);
    // Warm: the early files are read again, but what they show is what the cache held.
    let ino = || std::os::unix::fs::MetadataExt::ino(&fs::metadata(&cache).unwrap());
    let first = ino();
    let (before, after) = early_scan();
    assert_eq!(before.len() + after.len(), count);
    assert_eq!(
        ino(),
        first,
        "an unchanged folder leaves its cache as it was"
    );
}
