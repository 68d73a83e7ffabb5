//! The store's command line, run as the real binary: inspect against the manifest, bad input,
//! permissions, crash safety and secrecy.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::*;
use serde_json::Value;

#[test]
fn inspect_json_reveal_matches_the_manifest_for_every_fixture() {
    let dir = tempfile::tempdir().unwrap();
    for entry in manifest() {
        let path = fixture_path(&entry);
        let out = tgsess(
            dir.path(),
            &["inspect", path.to_str().unwrap(), "--json", "--reveal"],
        );
        assert!(out.status.success(), "{}: {}", entry["file"], stderr(&out));
        let got: Value = serde_json::from_str(&stdout(&out)).unwrap();
        for field in MANIFEST_FIELDS {
            assert_eq!(got[field], entry[field], "{} field {field}", entry["file"]);
        }
    }
}

#[test]
fn inspect_reads_strings_from_argument_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let entry = manifest()
        .into_iter()
        .find(|e| e["file"] == "telethon_string_dc4.txt")
        .unwrap();
    let text = std::fs::read_to_string(fixture_path(&entry)).unwrap();
    let out = tgsess(dir.path(), &["inspect", text.trim(), "--json"]);
    let got: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(got["auth_key_id_hex"], entry["auth_key_id_hex"]);
    assert!(got.get("auth_key_hex").is_none());

    let mut child = tgsess_bin::command()
        .args(["inspect", "-", "--json"])
        .env("TGSESS_DIR", dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let got: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(got["dc_id"], 4);
}

#[test]
fn list_json_shows_every_file_with_errors_and_never_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["telethon_dc2_user.session", "kurigram_string_dc2_user.txt"] {
        std::fs::copy(fixtures_dir().join(f), dir.path().join(f)).unwrap();
    }
    std::fs::write(dir.path().join("broken.session"), b"not a database at all").unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"shopping list").unwrap(); // not a session: skipped
    let out = tgsess(dir.path(), &["list", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["broken", "kurigram_string_dc2_user", "telethon_dc2_user"]
    );
    assert!(
        rows[0]["error"]
            .as_str()
            .unwrap()
            .contains("broken.session")
    );
    assert_eq!(rows[1]["error"], Value::Null);
    assert_eq!(rows[1]["backend"], "string");
    assert_eq!(rows[2]["user_id"], 123456789);
    assert!(!stdout(&out).contains("000102030405060708090a0b0c0d0e0f"));
    let plain = tgsess(dir.path(), &["list"]);
    let text = stdout(&plain);
    assert!(text.contains("error:"), "{text}");
    // Columns line up: each readable row has its DC digit right under the header's "DC".
    let lines: Vec<&str> = text.lines().collect();
    let dc_at = lines[0].find(" DC").unwrap() + 2;
    for row in lines[1..].iter().filter(|l| !l.contains("error:")) {
        assert!(row.as_bytes()[dc_at].is_ascii_digit(), "{text}");
    }
}

#[test]
fn convert_writes_0600_files_and_clone_makes_a_0700_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("new/sessions");
    let src = fixtures_dir().join("kurigram_dc2_user.session");
    let out_path = tmp.path().join("t.session");
    let out = tgsess(
        &sessions,
        &[
            "convert",
            src.to_str().unwrap(),
            "--to",
            "telethon-sqlite",
            "-o",
            out_path.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::metadata(&out_path).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let out = tgsess(&sessions, &["clone", src.to_str().unwrap(), "copy"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("AUTH_KEY_DUPLICATED"));
    assert_eq!(
        std::fs::metadata(&sessions).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let copy = sessions.join("copy.session");
    assert_eq!(
        std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let again = tgsess(&sessions, &["clone", src.to_str().unwrap(), "copy"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("already exists"));

    let out = tgsess(&sessions, &["clone", "copy", "as-string", "--to", "string"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(sessions.join("as-string.string")).unwrap();
    assert!(text.starts_with("tgsess:1:"));

    let out = tgsess(&sessions, &["rm", "copy"]);
    assert!(out.status.success());
    assert!(!copy.exists());
    let trashed: Vec<_> = std::fs::read_dir(sessions.join(".trash"))
        .unwrap()
        .collect();
    assert_eq!(
        trashed.len(),
        1,
        "rm moves the file to the trash, never deletes it"
    );
}

#[test]
fn converting_to_a_string_prints_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures_dir().join("telethon_dc2_user.session");
    let out = tgsess(
        dir.path(),
        &["convert", src.to_str().unwrap(), "--to", "telethon-string"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--reveal"));
    assert!(stdout(&out).is_empty());
    let out = tgsess(
        dir.path(),
        &[
            "convert",
            src.to_str().unwrap(),
            "--to",
            "telethon-string",
            "--reveal",
        ],
    );
    let expected = std::fs::read_to_string(fixtures_dir().join("telethon_string_dc2.txt")).unwrap();
    assert_eq!(stdout(&out).trim(), expected.trim());
}

/// Every bad input: exit 1, an error naming the input and the problem, and no file changed.
#[test]
fn bad_input_is_refused_clearly_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let good = std::fs::read_to_string(fixtures_dir().join("telethon_string_dc2.txt")).unwrap();
    let good = good.trim();
    std::fs::write(dir.join("empty.session"), b"").unwrap();
    let fixture = std::fs::read(fixtures_dir().join("telethon_dc2_user.session")).unwrap();
    std::fs::write(dir.join("truncated.session"), &fixture[..5000]).unwrap();
    std::fs::write(dir.join("header-only.session"), &fixture[..100]).unwrap();
    {
        let other = rusqlite::Connection::open(dir.join("other-app.session")).unwrap();
        other
            .execute_batch("CREATE TABLE photos (id INTEGER, path TEXT);")
            .unwrap();
    }
    std::fs::write(dir.join("garbage.session"), [0xffu8, 0, 1, 2, 3, 250, 17]).unwrap();
    let before = snapshot(dir);

    let wrong_b64 = format!("1{}", "!".repeat(352));
    let mut bad_char = good.to_string();
    bad_char.replace_range(100..101, "*");
    let cut = &good[..good.len() - 40];
    let pyro_bad_flag = {
        // A v2 Pyrogram string whose is_bot byte is 7.
        use base64::Engine;
        let mut payload = vec![2u8, 0, 0, 48, 57, 0];
        payload.extend([1u8; 256]);
        payload.extend(5u64.to_be_bytes());
        payload.push(7);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload)
    };
    let cases: Vec<(Vec<String>, &str, &str)> = vec![
        (
            vec!["inspect".into(), "x".repeat(200)],
            "session string",
            "not a recognised session string",
        ),
        (
            vec!["inspect".into(), wrong_b64.clone()],
            "session string",
            "base64",
        ),
        (
            vec!["inspect".into(), bad_char.clone()],
            "session string",
            "base64",
        ),
        (
            vec!["inspect".into(), cut.to_string()],
            "session string",
            "not a recognised",
        ),
        (
            vec!["inspect".into(), pyro_bad_flag.clone()],
            "session string",
            "bot flag",
        ),
        (
            vec![
                "inspect".into(),
                dir.join("empty.session").display().to_string(),
            ],
            "empty.session",
            "empty",
        ),
        (
            vec![
                "inspect".into(),
                dir.join("truncated.session").display().to_string(),
            ],
            "truncated.session",
            "damaged",
        ),
        (
            vec![
                "inspect".into(),
                dir.join("header-only.session").display().to_string(),
            ],
            "header-only.session",
            "",
        ),
        (
            vec![
                "inspect".into(),
                dir.join("other-app.session").display().to_string(),
            ],
            "other-app.session",
            "not a session file",
        ),
        (
            vec![
                "inspect".into(),
                dir.join("garbage.session").display().to_string(),
            ],
            "garbage.session",
            "binary",
        ),
        (
            vec![
                "inspect".into(),
                dir.join("missing.session").display().to_string(),
            ],
            "missing.session",
            "no such file",
        ),
        (
            vec!["clone".into(), good.into(), "a/b".into()],
            "a/b",
            "path separator",
        ),
        (vec!["clone".into(), good.into(), "..".into()], "..", "dot"),
        (
            vec![
                "convert".into(),
                good.into(),
                "--to".into(),
                "pyrogram-string".into(),
                "--reveal".into(),
            ],
            "pyrogram-string",
            "--api-id",
        ),
        (
            vec![
                "convert".into(),
                good.into(),
                "--to".into(),
                "telethon-sqlite".into(),
                "-o".into(),
                "/proc/tgsess-test/x.session".into(),
            ],
            "/proc",
            "",
        ),
        (
            vec![
                "convert".into(),
                good.into(),
                "--to".into(),
                "telethon-sqlite".into(),
                "-o".into(),
                dir.join("truncated.session").display().to_string(),
            ],
            "truncated.session",
            "already exists",
        ),
        (
            vec!["rm".into(), "nobody".into()],
            "nobody",
            "no session named",
        ),
    ];
    for (args, names, says) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = tgsess(dir, &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(err.contains(names), "{args:?} should name {names}: {err}");
        assert!(err.contains(says), "{args:?} should say {says}: {err}");
        // Never echo the secret back.
        assert!(!err.contains(&good[10..40]), "{err}");
        assert!(!err.contains(&wrong_b64[10..40]), "{err}");
        assert!(!err.contains(&pyro_bad_flag[10..40]), "{err}");
    }
    assert_eq!(snapshot(dir), before, "no file may change");
    // Usage errors exit 2 (tdata is a format now: an unknown name is the usage error).
    let out = tgsess(dir, &["convert", good, "--to", "tdesktop"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_write_cut_short_leaves_the_old_session_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("target.session");
    std::fs::copy(fixtures_dir().join("telethon_dc4_bot.session"), &target).unwrap();
    let before = std::fs::read(&target).unwrap();
    let src = fixtures_dir().join("kurigram_dc2_user.session");
    // The process dies after writing the new file but before renaming it over the old one.
    let out = tgsess_bin::command()
        .args([
            "convert",
            src.to_str().unwrap(),
            "--to",
            "telethon-sqlite",
            "--force",
            "-o",
            target.to_str().unwrap(),
        ])
        .env("TGSESS_TEST_CRASH_AT", "before-rename")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the crash hook must have fired");
    assert_eq!(std::fs::read(&target).unwrap(), before);
    let listed = tgsess(tmp.path(), &["list", "--json"]);
    let rows: Vec<Value> = serde_json::from_str(&stdout(&listed)).unwrap();
    assert_eq!(
        rows.len(),
        1,
        "the leftover temp file is hidden from the list"
    );
    assert_eq!(rows[0]["error"], Value::Null);
    // Without the crash the same command succeeds and replaces the file.
    let ok = tgsess(
        tmp.path(),
        &[
            "convert",
            src.to_str().unwrap(),
            "--to",
            "telethon-sqlite",
            "--force",
            "-o",
            target.to_str().unwrap(),
        ],
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert_ne!(std::fs::read(&target).unwrap(), before);
}

/// Child half of the next test: updates a SQLite session in place, dying before the commit.
#[test]
fn crash_child_sqlite_update() {
    let Some(path) = std::env::var_os("TGSESS_CRASH_CHILD_PATH") else {
        return;
    };
    let mut loaded = tgsess::store::read_file(std::path::Path::new(&path)).unwrap();
    loaded.session.clear_keys();
    let _ = tgsess::store::write_file(std::path::Path::new(&path), &loaded.session, loaded.format);
}

#[test]
fn an_in_place_sqlite_update_cut_short_rolls_back() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("live.session");
    std::fs::copy(fixtures_dir().join("telethon_dc2_user.session"), &target).unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child_sqlite_update", "--nocapture"])
        .env("TGSESS_CRASH_CHILD_PATH", &target)
        .env("TGSESS_TEST_CRASH_AT", "before-sqlite-commit")
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the child must have died mid-transaction"
    );
    // SQLite rolls the hot journal back on the next open: the key is still there.
    let after = tgsess::store::read_file(&target).unwrap();
    assert!(after.session.has_key());
    assert_eq!(
        after.session.auth_key().unwrap().key_id_hex(),
        "32d1586ea457dfc8"
    );
}

/// Issue 14 goal 5: `list` writes nothing into the session folder; its cache goes to the
/// user's cache folder (0700, a 0600 file), and a warm listing shows the same rows.
#[test]
fn list_writes_nothing_beside_the_sessions_and_caches_in_the_cache_folder() {
    let dir = tempfile::tempdir().unwrap();
    let cache_home = tempfile::tempdir().unwrap();
    for entry in manifest().into_iter().take(4) {
        let path = fixture_path(&entry);
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let names = |p: &std::path::Path| {
        let mut v: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    let before = names(dir.path());
    let list = || {
        tgsess_bin::command()
            .args(["list", "--json"])
            .env("TGSESS_DIR", dir.path())
            .env("XDG_CACHE_HOME", cache_home.path())
            .output()
            .unwrap()
    };
    let cold = list();
    assert!(cold.status.success(), "{}", stderr(&cold));
    assert_eq!(
        names(dir.path()),
        before,
        "nothing new in the session folder"
    );
    let folder = cache_home.path().join("tgsess");
    let caches = names(&folder);
    assert_eq!(caches.len(), 1, "{caches:?}");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&folder.join(&caches[0])), 0o600);
    let warm = list();
    assert_eq!(stdout(&warm), stdout(&cold));
    let rows: Vec<Value> = serde_json::from_str(&stdout(&cold)).unwrap();
    assert_eq!(rows.len(), 4);
}
