//! tdata folders: the real opentele-ng 1.5.0 fixtures read exactly, the local passcode, the
//! listing (one row per account), and folders tgsess writes (modes, --force, atomic swap).

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use common::*;
use serde_json::Value;
use tgsess::store::{self, StoreError};

fn tdata_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tdata")
}

fn tdata_manifest() -> Vec<Value> {
    let text = std::fs::read_to_string(tdata_dir().join("manifest.json")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["fixtures"]
        .as_array()
        .unwrap()
        .clone()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// Runs tgsess with `stdin` as standard input (a pipe: not a terminal).
fn tgsess_stdin(dir: &Path, args: &[&str], stdin: &str, crash_at: Option<&str>) -> Output {
    let mut cmd = common::tgsess_bin::command();
    cmd.args(args)
        .env("TGSESS_DIR", dir)
        .env_remove("TGSESS_TEST_CRASH_AT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(point) = crash_at {
        cmd.env("TGSESS_TEST_CRASH_AT", point);
    }
    let mut child = cmd.spawn().unwrap();
    // A run that never reads its input closes the pipe early: that is not a failure.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn inspect_json(dir: &Path, input: &str, passcode: &str) -> Value {
    let out = tgsess_stdin(
        dir,
        &["inspect", input, "--json", "--reveal"],
        passcode,
        None,
    );
    assert!(out.status.success(), "{input}: {}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn opentele_fixtures_read_exactly_and_nothing_is_invented() {
    let tmp = tempfile::tempdir().unwrap();
    for fixture in tdata_manifest() {
        let folder = tdata_dir().join(fixture["folder"].as_str().unwrap());
        let passcode = format!("{}\n", fixture["passcode"].as_str().unwrap());
        for (i, want) in fixture["accounts"].as_array().unwrap().iter().enumerate() {
            let input = format!("{}#{}", folder.display(), i + 1);
            let got = inspect_json(tmp.path(), &input, &passcode);
            assert_eq!(got["format"], "tdata", "{input}");
            for field in ["dc_id", "user_id", "auth_key_hex"] {
                assert_eq!(got[field], want[field], "{input}: {field}");
            }
            // tdata stores no api_id, address, port or bot flag.
            for field in ["api_id", "server_address", "port", "is_bot"] {
                assert!(got[field].is_null(), "{input}: {field} = {}", got[field]);
            }
        }
        // The folder alone is its first account.
        let first = inspect_json(tmp.path(), folder.to_str().unwrap(), &passcode);
        assert_eq!(first["user_id"], fixture["accounts"][0]["user_id"]);
    }
}

#[test]
fn local_passcode_is_asked_checked_and_never_shown() {
    let fixture = tdata_manifest()
        .into_iter()
        .find(|f| f["passcode"] != "")
        .unwrap();
    let folder = tdata_dir().join(fixture["folder"].as_str().unwrap());
    let passcode = fixture["passcode"].as_str().unwrap();
    assert!(matches!(
        store::read_file(&folder),
        Err(StoreError::PasscodeNeeded(_))
    ));
    assert!(matches!(
        store::read_file_with(&folder, b"wrong"),
        Err(StoreError::WrongPasscode(_))
    ));
    let tmp = tempfile::tempdir().unwrap();
    let folder_arg = folder.to_str().unwrap();
    let out = tgsess_stdin(tmp.path(), &["inspect", folder_arg], "not it\n", None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("error: ") && err.contains("wrong local passcode"),
        "{err}"
    );
    assert!(!err.contains("not it"), "{err}");
    let out = tgsess_stdin(tmp.path(), &["inspect", folder_arg], "", None);
    assert_eq!(out.status.code(), Some(1), "end of input is an error");
    let out = tgsess_stdin(
        tmp.path(),
        &["inspect", folder_arg, "--json"],
        &format!("{passcode}\n"),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for text in [stdout(&out), stderr(&out)] {
        assert!(!text.contains(passcode), "{text}");
    }
}

#[test]
fn list_shows_each_account_of_each_folder() {
    let tmp = tempfile::tempdir().unwrap();
    for fixture in tdata_manifest() {
        let name = fixture["folder"].as_str().unwrap();
        copy_tree(&tdata_dir().join(name), &tmp.path().join(name));
    }
    let out = tgsess(tmp.path(), &["list", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let seen: Vec<(String, Value, String)> = rows
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["user_id"].clone(),
                r["backend"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut want = Vec::new();
    for fixture in tdata_manifest() {
        let name = fixture["folder"].as_str().unwrap();
        if fixture["passcode"] != "" {
            want.push((name.to_string(), Value::Null, "folder".to_string()));
            continue;
        }
        for (i, account) in fixture["accounts"].as_array().unwrap().iter().enumerate() {
            let row = if i == 0 {
                name.to_string()
            } else {
                format!("{name}#{}", i + 1)
            };
            want.push((row, account["user_id"].clone(), "folder".to_string()));
        }
    }
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(seen, want);
    let locked = rows.iter().find(|r| r["user_id"].is_null()).unwrap();
    assert!(locked["error"].as_str().unwrap().contains("local passcode"));
    // A name in the directory addresses the second account too.
    let second = tgsess(tmp.path(), &["inspect", "two_accounts#2", "--json"]);
    assert!(second.status.success(), "{}", stderr(&second));
    let v: Value = serde_json::from_str(&stdout(&second)).unwrap();
    assert_eq!(
        v["user_id"],
        want.iter().find(|w| w.0 == "two_accounts#2").unwrap().1
    );
    let missing = tgsess(tmp.path(), &["inspect", "two_accounts#3"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("has 2 account(s)"),
        "{}",
        stderr(&missing)
    );
}

/// Every file and folder below `dir` (and `dir`) has the private mode.
fn assert_private(dir: &Path) {
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir), 0o700, "{}", dir.display());
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_private(&path);
        } else {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
}

fn telethon_fixture() -> (PathBuf, Value) {
    let entry = manifest()
        .into_iter()
        .find(|e| e["file"] == "telethon_dc2_user.session")
        .unwrap();
    (fixture_path(&entry), entry)
}

#[test]
fn written_folder_reads_back_private_with_and_without_passcode() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, entry) = telethon_fixture();
    for passcode in [None, Some("s3cret ☃")] {
        let out_dir = tmp.path().join(format!("out-{}", passcode.is_some()));
        let mut args = vec![
            "convert",
            src.to_str().unwrap(),
            "--to",
            "tdata",
            "-o",
            out_dir.to_str().unwrap(),
        ];
        if passcode.is_some() {
            args.push("--passcode");
        }
        let line = passcode.map(|p| format!("{p}\n")).unwrap_or_default();
        let out = tgsess_stdin(tmp.path(), &args, &line, None);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("note: tdata stores no server address"),
            "{}",
            stderr(&out)
        );
        assert_private(&out_dir);
        let got = inspect_json(tmp.path(), out_dir.to_str().unwrap(), &line);
        for field in ["dc_id", "user_id", "auth_key_hex"] {
            assert_eq!(got[field], entry[field], "{field}");
        }
        if let Some(p) = passcode {
            assert!(matches!(
                store::read_file(&out_dir),
                Err(StoreError::PasscodeNeeded(_))
            ));
            assert!(!stderr(&out).contains(p));
        }
    }
    // Nothing but the two folders was created beside them.
    let mut names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["out-false", "out-true"]);
}

#[test]
fn an_existing_folder_is_replaced_only_with_force_and_in_one_step() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, _) = telethon_fixture();
    let src = src.to_str().unwrap();
    let out_dir = tmp.path().join("tdata");
    let out = out_dir.to_str().unwrap();
    let first = tgsess(tmp.path(), &["convert", src, "--to", "tdata", "-o", out]);
    assert!(first.status.success(), "{}", stderr(&first));
    let before = snapshot(&out_dir);
    let again = tgsess(tmp.path(), &["convert", src, "--to", "tdata", "-o", out]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    assert_eq!(snapshot(&out_dir), before);
    // Cut short just before the swap: the old folder is intact under its name.
    let args = ["convert", src, "--to", "tdata", "-o", out, "--force"];
    let crashed = tgsess_stdin(tmp.path(), &args, "", Some("before-tdata-swap"));
    assert!(!crashed.status.success());
    assert_eq!(snapshot(&out_dir), before);
    let forced = tgsess(tmp.path(), &args);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_ne!(snapshot(&out_dir), before, "a new local key, so new bytes");
    assert!(store::read_file(&out_dir).is_ok());
    // Only the hidden temp folder of the crashed run is left beside it, never a visible one.
    for entry in std::fs::read_dir(tmp.path()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(name == "tdata" || name.starts_with(".tdata."), "{name}");
    }
    // A folder that is not a tdata folder is never replaced, even with --force.
    let other = tmp.path().join("photos");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("cat.jpg"), b"meow").unwrap();
    let refused = tgsess(
        tmp.path(),
        &[
            "convert",
            src,
            "--to",
            "tdata",
            "-o",
            other.to_str().unwrap(),
            "--force",
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("not a tdata folder"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(std::fs::read(other.join("cat.jpg")).unwrap(), b"meow");
}

#[test]
fn tdata_needs_a_user_id_and_refuses_bots() {
    let tmp = tempfile::tempdir().unwrap();
    let string = manifest()
        .into_iter()
        .find(|e| e["file"] == "telethon_string_dc2.txt")
        .unwrap();
    let out_dir = tmp.path().join("t");
    let src = fixture_path(&string);
    let args = [
        "convert",
        src.to_str().unwrap(),
        "--to",
        "tdata",
        "-o",
        out_dir.to_str().unwrap(),
    ];
    let out = tgsess(tmp.path(), &args);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--user-id N"), "{}", stderr(&out));
    let bot = manifest()
        .into_iter()
        .find(|e| e["is_bot"] == true)
        .unwrap();
    let bot_src = fixture_path(&bot);
    let out = tgsess(
        tmp.path(),
        &[
            "convert",
            bot_src.to_str().unwrap(),
            "--to",
            "tdata",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot hold bots"),
        "{}",
        stderr(&out)
    );
    assert!(!out_dir.exists());
}

#[test]
fn damaged_folders_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tdata_dir().join("one_account_dc2");
    type Damage = fn(&Path);
    let cases: [(&str, Damage); 4] = [
        ("checksum", |d| {
            let p = d.join("key_datas");
            let mut b = std::fs::read(&p).unwrap();
            b[20] ^= 0x55;
            std::fs::write(p, b).unwrap();
        }),
        ("TDF$", |d| {
            std::fs::write(d.join("key_datas"), b"short").unwrap()
        }),
        ("missing", |d| {
            std::fs::remove_file(d.join("D877F783D5D3EF8Cs")).unwrap()
        }),
        ("checksum", |d| {
            let p = d.join("D877F783D5D3EF8Cs");
            let b = std::fs::read(&p).unwrap();
            std::fs::write(p, &b[..b.len() - 1]).unwrap();
        }),
    ];
    for (i, (says, damage)) in cases.iter().enumerate() {
        let dir = tmp.path().join(format!("case{i}"));
        copy_tree(&good, &dir);
        damage(&dir);
        let out = tgsess(tmp.path(), &["inspect", dir.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "case {i}");
        let err = stderr(&out);
        assert!(
            err.starts_with("error: ") && err.contains(says),
            "case {i}: {err}"
        );
    }
}

#[test]
fn clone_and_convert_take_a_tdata_account_as_source() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = tdata_dir().join("two_accounts");
    let second = format!("{}#2", folder.display());
    let out = tgsess(tmp.path(), &["clone", &second, "copy"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let copy = inspect_json(tmp.path(), "copy", "");
    assert_eq!(copy["format"], "tdata");
    assert_eq!(copy["user_id"], 6999999999i64);
    let out = tgsess(
        tmp.path(),
        &["convert", &second, "--to", "telethon-string", "--reveal"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("note: address of DC 5"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("stores no user id"),
        "{}",
        stderr(&out)
    );
    let back = store::parse_string(stdout(&out).trim(), "t").unwrap();
    let original = store::read_file(Path::new(&second)).unwrap();
    assert_eq!(back.session.auth_key(), original.session.auth_key());
}

/// Names in `dir` that look like tgsess temp entries (`.NAME.<hex>.tmp`).
fn temp_entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| tgsess::fsutil::is_temp_name(n))
        .collect()
}

#[test]
fn a_killed_tdata_write_leaves_only_a_temp_folder_that_the_next_write_or_list_removes() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, _) = telethon_fixture();
    let src = src.to_str().unwrap();
    let out_dir = tmp.path().join("acct");
    let out = out_dir.to_str().unwrap();
    // (crash point, whether the folder exists before the run, what sweeps the leftover)
    let cases = [
        ("tdata-file-written", false, "list"),
        ("before-tdata-swap", false, "write"),
        ("tdata-file-written", true, "write"),
        ("after-tdata-exchange", true, "list"),
    ];
    for (point, exists, sweeper) in cases {
        let _ = std::fs::remove_dir_all(&out_dir);
        if exists {
            let first = tgsess(tmp.path(), &["convert", src, "--to", "tdata", "-o", out]);
            assert!(first.status.success(), "{}", stderr(&first));
        }
        let before = exists.then(|| snapshot(&out_dir));
        let args = ["convert", src, "--to", "tdata", "-o", out, "--force"];
        let crashed = tgsess_stdin(tmp.path(), &args, "", Some(point));
        assert!(!crashed.status.success(), "{point}: the run was killed");
        let leftovers = temp_entries(tmp.path());
        assert_eq!(leftovers.len(), 1, "{point}: {leftovers:?}");
        assert!(tmp.path().join(&leftovers[0]).is_dir());
        // Never a half folder under the final name: absent, the old one, or (after the
        // exchange) the complete new one.
        match (point, &before) {
            ("after-tdata-exchange", _) => assert!(store::read_file(&out_dir).is_ok()),
            (_, Some(before)) => assert_eq!(&snapshot(&out_dir), before, "{point}"),
            (_, None) => assert!(!out_dir.exists(), "{point}"),
        }
        match sweeper {
            "list" => {
                let listed = tgsess(tmp.path(), &["list", "--json"]);
                assert!(listed.status.success(), "{}", stderr(&listed));
                assert!(
                    !stdout(&listed).contains(leftovers[0].as_str()),
                    "the temp folder is not listed"
                );
            }
            _ => {
                let other = tmp.path().join("other").display().to_string();
                let wrote = tgsess(tmp.path(), &["convert", src, "--to", "tdata", "-o", &other]);
                assert!(wrote.status.success(), "{}", stderr(&wrote));
                std::fs::remove_dir_all(&other).unwrap();
            }
        }
        assert_eq!(temp_entries(tmp.path()), Vec::<String>::new(), "{point}");
    }
}
