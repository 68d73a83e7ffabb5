//! The store against files written by the real Telethon, kurigram, irenogram and pyrogram:
//! every fixture reads to exactly its manifest, and every pair of formats converts losslessly.

mod common;

use common::*;
use rusqlite::Connection;
use serde_json::{Value, json};
use tgsess::store::convert::{Overrides, prepare};
use tgsess::store::format::TARGETS;
use tgsess::store::{self, BackendKind, Format, Loaded, inspect};

fn load(entry: &Value) -> Loaded {
    store::read_file(&fixture_path(entry)).unwrap_or_else(|e| panic!("{}: {e}", entry["file"]))
}

#[test]
fn every_fixture_reads_to_its_manifest() {
    let entries = manifest();
    assert!(entries.len() >= 14);
    for entry in &entries {
        let got = inspect::to_json(&load(entry), true);
        for field in MANIFEST_FIELDS {
            assert_eq!(got[field], entry[field], "{} field {field}", entry["file"]);
        }
    }
}

#[test]
fn inspect_without_reveal_shows_only_the_key_id() {
    for entry in manifest() {
        let got = inspect::to_json(&load(&entry), false);
        assert!(got.get("auth_key_hex").is_none());
        let text = inspect::to_text(&load(&entry), false);
        let key = entry["auth_key_hex"].as_str().unwrap();
        assert!(!text.contains(&key[..32]), "{}", entry["file"]);
    }
}

/// What the manifest says the user would pass for fields the target needs and the source lacks.
fn overrides_from(entry: &Value) -> Overrides {
    Overrides {
        api_id: entry["api_id"].as_i64().map(|v| v as i32).or(Some(12345)),
        user_id: entry["user_id"].as_i64().or(Some(777)),
        is_bot: entry["is_bot"].as_bool(),
        test_mode: entry["test_mode"].as_bool(),
        address: None,
        port: None,
    }
}

/// Fields a format carries (spec §7): what must survive a conversion between two formats.
fn carries(format: Format, field: &str) -> bool {
    match field {
        "dc_id" | "auth_key_hex" => true,
        // Pyrogram SQLite stores the address from kurigram's schema 7 on.
        "server_address" | "port" => match format {
            Format::PyrogramString(_) | Format::PyroforkSqlite => false,
            Format::PyrogramSqlite(v) => v >= 7,
            _ => true,
        },
        "user_id" => format != Format::TelethonString,
        "is_bot" | "api_id" | "test_mode" => {
            !matches!(format, Format::TelethonString | Format::TelethonSqlite(_))
        }
        _ => false,
    }
}

fn write_and_read(session: &store::Session, target: Format, dir: &std::path::Path) -> Loaded {
    match target.backend() {
        BackendKind::String => {
            let text = store::encode_string(session, target).unwrap();
            store::parse_string(&text, "test").unwrap()
        }
        _ => {
            let path = dir.join(format!("{}.session", target.family()));
            let _ = std::fs::remove_file(&path);
            store::write_file(&path, session, target).unwrap();
            store::read_file(&path).unwrap()
        }
    }
}

#[test]
fn every_fixture_converts_to_every_format_keeping_shared_fields() {
    let tmp = tempfile::tempdir().unwrap();
    for entry in manifest() {
        let source = load(&entry);
        for target in TARGETS {
            let (prepared, _notes) = prepare(&source.session, target, &overrides_from(&entry))
                .unwrap_or_else(|e| panic!("{} -> {target}: {e}", entry["file"]));
            let back = write_and_read(&prepared, target, tmp.path());
            assert_eq!(back.format, target, "{} -> {target}", entry["file"]);
            let got = inspect::to_json(&back, true);
            for field in [
                "dc_id",
                "server_address",
                "port",
                "user_id",
                "is_bot",
                "api_id",
                "test_mode",
                "auth_key_hex",
            ] {
                if carries(source.format, field)
                    && carries(target, field)
                    && !entry[field].is_null()
                {
                    assert_eq!(
                        got[field], entry[field],
                        "{} -> {target}: {field}",
                        entry["file"]
                    );
                }
            }
        }
    }
}

#[test]
fn missing_fields_name_the_flag_to_pass() {
    let telethon = manifest()
        .into_iter()
        .find(|e| e["format"] == "telethon-string")
        .unwrap();
    let source = load(&telethon);
    let err = prepare(
        &source.session,
        "pyrogram-string".parse().unwrap(),
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("--api-id"), "{err}");
    let with_api = Overrides {
        api_id: Some(1),
        ..Default::default()
    };
    let err = prepare(
        &source.session,
        "pyrogram-sqlite".parse().unwrap(),
        &with_api,
    )
    .unwrap_err();
    assert!(err.to_string().contains("--user-id"), "{err}");
}

#[test]
fn string_formats_round_trip_byte_identical_through_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let writable = [
        Format::TgsessString,
        Format::TelethonString,
        Format::PyrogramString(store::PyrogramStringLayout::V2),
    ];
    for entry in manifest() {
        let source = load(&entry);
        if !writable.contains(&source.format) {
            continue; // old Pyrogram layouts are read, never written
        }
        let original = std::fs::read_to_string(fixture_path(&entry))
            .unwrap()
            .trim()
            .to_string();
        for via in TARGETS {
            let overrides = overrides_from(&entry);
            let (there, _) = prepare(&source.session, via, &overrides).unwrap();
            let middle = write_and_read(&there, via, tmp.path());
            // Coming back, the user supplies what `via` dropped (the manifest's values).
            let (back, _) = prepare(&middle.session, source.format, &overrides).unwrap();
            let text = store::encode_string(&back, source.format).unwrap();
            assert_eq!(text, original, "{} via {via}", entry["file"]);
        }
    }
}

#[test]
fn tgsess_string_keeps_every_field_of_every_fixture() {
    for entry in manifest() {
        let source = load(&entry);
        let text = store::encode_string(&source.session, Format::TgsessString).unwrap();
        let back = store::parse_string(&text, "t").unwrap();
        assert_eq!(back.session, source.session, "{}", entry["file"]);
        assert_eq!(
            store::encode_string(&back.session, Format::TgsessString).unwrap(),
            text
        );
    }
}

/// (name, type, notnull, pk) of each column, in order: what Telethon and Pyrogram depend on.
type Shape = Vec<(String, Vec<(String, String, i64, i64)>)>;

fn table_shape(conn: &Connection) -> Shape {
    let mut names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|t| {
            let cols = conn
                .prepare(&format!("PRAGMA table_info({t})"))
                .unwrap()
                .query_map([], |r| {
                    Ok((
                        r.get(1)?,
                        r.get::<_, String>(2)?.to_lowercase(),
                        r.get(3)?,
                        r.get(5)?,
                    ))
                })
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (t, cols)
        })
        .collect()
}

fn index_and_trigger_names(conn: &Connection) -> Vec<String> {
    conn.prepare("SELECT type || ':' || name FROM sqlite_master WHERE type IN ('index','trigger') ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn written_sqlite_files_have_the_libraries_exact_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let source = load(
        &manifest()
            .into_iter()
            .find(|e| e["file"] == "kurigram_dc2_user.session")
            .unwrap(),
    );
    for (target, reference) in [
        (Format::TelethonSqlite(7), "telethon136_dc4_user_v7.session"),
        (Format::PyrogramSqlite(7), "kurigram_dc2_user.session"),
        (Format::PyrogramSqlite(3), "pyrogram2_dc2_user_v3.session"),
        (Format::PyroforkSqlite, "pyrofork_dc2_user_v4.session"),
    ] {
        let path = tmp.path().join(reference);
        store::write_file(&path, &source.session, target).unwrap();
        let ours = Connection::open(&path).unwrap();
        let theirs = Connection::open(fixtures_dir().join(reference)).unwrap();
        assert_eq!(table_shape(&ours), table_shape(&theirs), "{target}");
        assert_eq!(
            index_and_trigger_names(&ours),
            index_and_trigger_names(&theirs),
            "{target}"
        );
        let mode: String = ours
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete");
    }
}

#[test]
fn telethon_rows_keep_positional_order_and_empty_key_convention() {
    let tmp = tempfile::tempdir().unwrap();
    let mut session = load(
        &manifest()
            .into_iter()
            .find(|e| e["file"] == "telethon_dc2_user.session")
            .unwrap(),
    )
    .session;
    let path = tmp.path().join("t.session");
    store::write_file(&path, &session, Format::TelethonSqlite(7)).unwrap();
    let conn = Connection::open(&path).unwrap();
    let row: (i64, String, i64, Vec<u8>, Option<i64>) = conn
        .query_row("SELECT * FROM sessions", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap();
    assert_eq!(
        (row.0, row.1.as_str(), row.2, row.3.len(), row.4),
        (2, "149.154.167.51", 443, 256, None)
    );
    let own: i64 = conn
        .query_row("SELECT hash FROM entities WHERE id = 0", [], |r| r.get(0))
        .unwrap();
    assert_eq!(own, 123456789);
    drop(conn);
    // A logged-out session stores b'' (an empty blob), never NULL.
    session.clear_keys();
    store::write_file(&path, &session, Format::TelethonSqlite(7)).unwrap();
    let conn = Connection::open(&path).unwrap();
    let (kind, len): (String, i64) = conn
        .query_row(
            "SELECT typeof(auth_key), length(auth_key) FROM sessions",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((kind.as_str(), len), ("blob", 0));
    assert!(!store::read_file(&path).unwrap().session.has_key());
}

#[test]
fn updating_a_library_file_in_place_keeps_its_schema_and_caches() {
    let tmp = tempfile::tempdir().unwrap();
    for (file, expected_format) in [
        ("telethon_dc2_user.session", "telethon-sqlite-v8"),
        ("pyrogram2_dc2_user_v3.session", "pyrogram-sqlite-v3"),
        ("irenogram_dc4_bot.session", "pyrogram-sqlite-v7"),
    ] {
        let path = tmp.path().join(file);
        std::fs::copy(fixtures_dir().join(file), &path).unwrap();
        let before_shape = table_shape(&Connection::open(&path).unwrap());
        let mut loaded = store::read_file(&path).unwrap();
        loaded.session.home_mut().auth_key = Some(tgsess::secret::AuthKey::new([9; 256]));
        store::write_file(&path, &loaded.session, loaded.format).unwrap();
        let after = store::read_file(&path).unwrap();
        assert_eq!(after.format.name(), expected_format);
        assert_eq!(after.session.auth_key().unwrap().reveal(), &[9; 256]);
        let conn = Connection::open(&path).unwrap();
        assert_eq!(table_shape(&conn), before_shape, "{file}");
        if file.starts_with("telethon") {
            let cached: i64 = conn
                .query_row("SELECT count(*) FROM entities WHERE id = 777000", [], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(cached, 1, "the entity cache survives");
            let tmp_key: Vec<u8> = conn
                .query_row("SELECT tmp_auth_key FROM sessions", [], |r| r.get(0))
                .unwrap();
            assert!(tmp_key.is_empty());
        }
    }
}

#[test]
fn tgsess_sqlite_keeps_every_field_and_every_dc() {
    let tmp = tempfile::tempdir().unwrap();
    let mut session = load(
        &manifest()
            .into_iter()
            .find(|e| e["file"] == "irenogram_dc4_bot.session")
            .unwrap(),
    )
    .session;
    session.dc_mut(1).ipv6 = Some("2001:b28:f23d:f001::a".parse().unwrap());
    session.dc_mut(1).auth_key = Some(tgsess::secret::AuthKey::new([1; 256]));
    session.user = Some(store::SelfUser {
        first_name: Some("Bot 🤖".into()),
        username: Some("x_bot".into()),
        ..Default::default()
    });
    let path = tmp.path().join("own.session");
    store::write_file(&path, &session, Format::TgsessSqlite).unwrap();
    let back = store::read_file(&path).unwrap();
    assert_eq!(back.format, Format::TgsessSqlite);
    assert_eq!(back.session, session);
    let json = inspect::to_json(&back, false);
    assert_eq!(json["username"], json!("x_bot"));
}

#[test]
fn pyrogram_schema_2_files_read_and_update_in_place() {
    // pyrogram 1.x wrote schema 2: schema 3 without api_id. Derive one from the v3 fixture.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("v2.session");
    std::fs::copy(fixtures_dir().join("pyrogram2_dc2_user_v3.session"), &path).unwrap();
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "ALTER TABLE sessions DROP COLUMN api_id; UPDATE version SET number = 2;",
        )
        .unwrap();
    }
    let loaded = store::read_file(&path).unwrap();
    assert_eq!(loaded.format.name(), "pyrogram-sqlite-v2");
    assert_eq!(loaded.session.api_id, None, "schema 2 has no api_id");
    assert_eq!(loaded.session.user_id, Some(123456789));
    assert_eq!(
        loaded.session.auth_key().unwrap().key_id_hex(),
        "32d1586ea457dfc8"
    );
    let mut changed = loaded.session.clone();
    changed.is_bot = Some(true);
    store::write_file(&path, &changed, loaded.format).unwrap();
    let back = store::read_file(&path).unwrap();
    assert_eq!(back.format.name(), "pyrogram-sqlite-v2");
    assert_eq!(back.session.is_bot, Some(true));
}
