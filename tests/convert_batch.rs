//! `tgsess convert INPUT... --to FORMAT -o FOLDER`, run as the real binary: a folder or many
//! files in one process, a private output folder, per-input errors that do not stop the
//! others, no silent overwrite, clashing names, tdata in and out.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

fn tdata_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tdata")
        .join(name)
}

/// Copies fixture files into `dir`, returning their paths.
fn copy_fixtures(dir: &Path, files: &[&str]) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    files
        .iter()
        .map(|f| {
            let to = dir.join(f);
            std::fs::copy(fixtures_dir().join(f), &to).unwrap();
            to
        })
        .collect()
}

fn key_id_of(session_dir: &Path, path: &Path) -> Value {
    let out = tgsess(session_dir, &["inspect", path.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    v["auth_key_id_hex"].clone()
}

fn manifest_key_id(file: &str) -> Value {
    manifest().into_iter().find(|e| e["file"] == file).unwrap()["auth_key_id_hex"].clone()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    tgsess(dir, args)
}

const MIXED: [&str; 4] = [
    "telethon_dc2_user.session",
    "kurigram_dc2_user.session",
    "kurigram_string_dc2_user.txt",
    "pyrogram2_string_dc2_bot.txt",
];

fn stem(file: &str) -> &str {
    file.rsplit_once('.').unwrap().0
}

#[test]
fn a_folder_converts_every_session_into_a_new_private_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("in");
    copy_fixtures(&src, &MIXED);
    std::fs::write(src.join("notes.txt"), "shopping list").unwrap(); // not a session
    let out_dir = tmp.path().join("out/new");
    let out = run(
        tmp.path(),
        &[
            "convert",
            src.to_str().unwrap(),
            "--to",
            "tgsess-sqlite",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("4 converted, 0 failed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(mode(&out_dir), 0o700);
    let mut written: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    let mut expected: Vec<String> = MIXED
        .iter()
        .map(|f| format!("{}.session", stem(f)))
        .collect();
    expected.sort();
    assert_eq!(written, expected);
    for file in MIXED {
        let output = out_dir.join(format!("{}.session", stem(file)));
        assert_eq!(mode(&output), 0o600, "{file}");
        assert_eq!(
            key_id_of(tmp.path(), &output),
            manifest_key_id(file),
            "{file}"
        );
    }
}

#[test]
fn one_failing_input_is_reported_by_name_and_the_others_convert() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("in");
    let files = copy_fixtures(&src, &MIXED[..2]);
    let broken = src.join("broken.session");
    std::fs::write(&broken, b"not a database at all").unwrap();
    let missing = src.join("gone.session");
    let out_dir = tmp.path().join("out");
    let out = run(
        tmp.path(),
        &[
            "convert",
            files[0].to_str().unwrap(),
            broken.to_str().unwrap(),
            missing.to_str().unwrap(),
            files[1].to_str().unwrap(),
            "--to",
            "telethon-string",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("error: broken: "), "{err}");
    assert!(
        err.contains("gone.session: no such file or folder"),
        "{err}"
    );
    assert!(err.contains("2 converted, 2 failed"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for file in &MIXED[..2] {
        let output = out_dir.join(format!("{}.string", stem(file)));
        assert_eq!(mode(&output), 0o600);
        assert_eq!(key_id_of(tmp.path(), &output), manifest_key_id(file));
    }
    assert!(!out_dir.join("broken.string").exists());
}

#[test]
fn existing_outputs_are_kept_without_force_and_replaced_with_it() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("in");
    copy_fixtures(&src, &MIXED[..2]);
    let out_dir = tmp.path().join("out");
    let args = |force: bool| {
        let mut a = vec![
            "convert".to_string(),
            src.display().to_string(),
            "--to".into(),
            "pyrogram-sqlite".into(),
            "--api-id".into(),
            "12345".into(),
            "-o".into(),
            out_dir.display().to_string(),
        ];
        if force {
            a.push("--force".into());
        }
        a
    };
    let first = tgsess(
        tmp.path(),
        &args(false).iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let before = snapshot(&out_dir);

    let again = tgsess(
        tmp.path(),
        &args(false).iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let err = stderr(&again);
    assert_eq!(again.status.code(), Some(1), "{err}");
    assert_eq!(
        err.matches("already exists (pass --force to replace it)")
            .count(),
        2,
        "{err}"
    );
    assert!(err.contains("0 converted, 2 failed"), "{err}");
    assert_eq!(snapshot(&out_dir), before);

    let forced = tgsess(
        tmp.path(),
        &args(true).iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(stderr(&forced).contains("2 converted, 0 failed"));
    for file in &MIXED[..2] {
        let output = out_dir.join(format!("{}.session", stem(file)));
        assert_eq!(key_id_of(tmp.path(), &output), manifest_key_id(file));
    }
}

#[test]
fn inputs_with_the_same_name_fail_with_a_clear_error_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let a = copy_fixtures(&tmp.path().join("a"), &["telethon_dc2_user.session"]);
    let b = copy_fixtures(&tmp.path().join("b"), &["telethon_dc2_user.session"]);
    let other = copy_fixtures(&tmp.path().join("c"), &["kurigram_dc2_user.session"]);
    let out_dir = tmp.path().join("out");
    let out = run(
        tmp.path(),
        &[
            "convert",
            a[0].to_str().unwrap(),
            b[0].to_str().unwrap(),
            other[0].to_str().unwrap(),
            "--to",
            "tgsess-string",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err.matches("error: telethon_dc2_user: 2 inputs have this name")
            .count(),
        2,
        "{err}"
    );
    assert!(err.contains("1 converted, 2 failed"), "{err}");
    assert!(!out_dir.join("telethon_dc2_user.string").exists());
    assert!(out_dir.join("kurigram_dc2_user.string").exists());
}

#[test]
fn tdata_folders_convert_every_account_and_tdata_outputs_are_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("from-tdata");
    let two = tdata_fixture("two_accounts");
    let locked = tdata_fixture("passcode_dc4");
    let out = run(
        tmp.path(),
        &[
            "convert",
            two.to_str().unwrap(),
            tdata_fixture("one_account_dc2").to_str().unwrap(),
            locked.to_str().unwrap(),
            "--to",
            "telethon-sqlite",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("error: passcode_dc4: "), "{err}");
    assert!(err.contains("local passcode"), "{err}");
    assert!(err.contains("3 converted, 1 failed"), "{err}");
    for name in ["two_accounts", "two_accounts#2", "one_account_dc2"] {
        let output = out_dir.join(format!("{name}.session"));
        assert_eq!(mode(&output), 0o600, "{name}");
        let listed = format!("{}", two.parent().unwrap().join(name).display());
        assert_eq!(
            key_id_of(tmp.path(), &output),
            key_id_of(tmp.path(), Path::new(&listed)),
            "{name}"
        );
    }

    // Back to tdata: one folder per session.
    let back = tmp.path().join("to-tdata");
    let out = run(
        tmp.path(),
        &[
            "convert",
            out_dir.to_str().unwrap(),
            "--to",
            "tdata",
            "-o",
            back.to_str().unwrap(),
        ],
    );
    // tgsess's Telethon files keep the user id, so they go back to tdata: a folder each.
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("3 converted, 0 failed"), "{err}");
    for name in ["two_accounts", "two_accounts#2", "one_account_dc2"] {
        let folder = back.join(name);
        assert_eq!(mode(&folder), 0o700, "{name}");
        assert_eq!(
            key_id_of(tmp.path(), &folder),
            key_id_of(tmp.path(), &out_dir.join(format!("{name}.session"))),
            "{name}"
        );
    }

    let users = copy_fixtures(
        &tmp.path().join("users"),
        &["kurigram_dc2_user.session", "pyrogram2_dc2_user_v3.session"],
    );
    let out = run(
        tmp.path(),
        &[
            "convert",
            users[0].to_str().unwrap(),
            users[1].to_str().unwrap(),
            "--to",
            "tdata",
            "-o",
            back.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for file in ["kurigram_dc2_user.session", "pyrogram2_dc2_user_v3.session"] {
        let folder = back.join(stem(file));
        assert_eq!(mode(&folder), 0o700, "{file}");
        assert_eq!(
            key_id_of(tmp.path(), &folder),
            manifest_key_id(file),
            "{file}"
        );
    }
}

#[test]
fn one_input_and_an_existing_folder_writes_into_the_folder() {
    // What a shell glob that matched one file gives.
    let tmp = tempfile::tempdir().unwrap();
    let files = copy_fixtures(&tmp.path().join("in"), &MIXED[..1]);
    let out_dir = tmp.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = run(
        tmp.path(),
        &[
            "convert",
            files[0].to_str().unwrap(),
            "--to",
            "tgsess-string",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 converted, 0 failed"));
    let output = out_dir.join(format!("{}.string", stem(MIXED[0])));
    assert_eq!(key_id_of(tmp.path(), &output), manifest_key_id(MIXED[0]));
}

#[test]
fn many_sessions_convert_in_one_process() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("in");
    std::fs::create_dir(&src).unwrap();
    for i in 0..60 {
        std::fs::copy(
            fixtures_dir().join("telethon_dc2_user.session"),
            src.join(format!("s{i:02}.session")),
        )
        .unwrap();
    }
    let out_dir = tmp.path().join("out");
    let out = run(
        tmp.path(),
        &[
            "convert",
            src.to_str().unwrap(),
            "--to",
            "pyrofork-sqlite",
            "--api-id",
            "12345",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("60 converted, 0 failed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 60);
}

#[test]
fn batch_usage_errors_say_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let files = copy_fixtures(&tmp.path().join("in"), &MIXED[..2]);
    let (a, b) = (files[0].to_str().unwrap(), files[1].to_str().unwrap());
    let out_dir = tmp.path().join("out");
    let o = out_dir.to_str().unwrap();
    let not_a_folder = tmp.path().join("file");
    std::fs::write(&not_a_folder, "x").unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["convert", a, b, "--to", "tgsess-sqlite"],
            "pass -o FOLDER",
        ),
        (
            &["convert", a, b, "--to", "tgsess-string", "-o", "-"],
            "not -",
        ),
        (
            &["convert", a, b, "--to", "tdata", "--user-id", "5", "-o", o],
            "--user-id names one account",
        ),
        (
            &["convert", a, "-", "--to", "tgsess-sqlite", "-o", o],
            "standard input",
        ),
        (
            &[
                "convert",
                a,
                b,
                "--to",
                "tgsess-sqlite",
                "-o",
                not_a_folder.to_str().unwrap(),
            ],
            "not a folder",
        ),
    ];
    for (args, expected) in cases {
        let out = run(tmp.path(), args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{args:?}: {err}"
        );
        assert!(!out_dir.exists(), "{args:?} created the output folder");
    }
}
