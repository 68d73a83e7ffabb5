//! The command-line pieces of issue 13 beside tdata: `convert` naming every missing flag and
//! noting dropped fields, the Pyrogram SQLite flavours, `set-dc`, completions and the man page.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

fn fixture(name: &str) -> String {
    fixtures_dir().join(name).display().to_string()
}

fn inspect(dir: &Path, input: &str) -> Value {
    let out = tgsess(dir, &["inspect", input, "--json"]);
    assert!(out.status.success(), "{input}: {}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn convert_names_every_missing_flag_in_one_error() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fixture("telethon_string_dc2.txt");
    let out = tgsess(
        tmp.path(),
        &["convert", &src, "--to", "pyrogram-string", "--reveal"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains("--api-id N") && err.contains("--user-id N"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn convert_notes_each_field_the_target_drops() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fixture("telethon_dc2_user.session");
    let args = [
        "convert",
        &src,
        "--to",
        "pyrogram-string",
        "--reveal",
        "--api-id",
        "1",
    ];
    let out = tgsess(tmp.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("note: pyrogram-string stores no server address: 149.154.167.51 is dropped"),
        "{err}"
    );
    assert!(
        err.contains("note: pyrogram-string stores no port: port 443 is dropped"),
        "{err}"
    );
    // An IPv6 address in a one-address format.
    let dir = tmp.path();
    let both = dir.join("both.string");
    let out = tgsess(
        dir,
        &[
            "convert",
            &src,
            "--to",
            "tgsess-string",
            "-o",
            both.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = tgsess(dir, &["set-dc", "both", "2", "2001:67c:4e8:f002::a", "443"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut s = tgsess::store::read_file(&both).unwrap().session;
    s.home_mut().ipv4 = Some("149.154.167.51".parse().unwrap());
    tgsess::store::write_file(&both, &s, tgsess::store::Format::TgsessString).unwrap();
    let out = tgsess(
        dir,
        &["convert", "both", "--to", "telethon-string", "--reveal"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("IPv6 address 2001:67c:4e8:f002::a is dropped"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn pyrogram_sqlite_flavours_are_chosen_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fixture("kurigram_dc2_user.session");
    for (to, format) in [
        ("pyrogram-sqlite", "pyrogram-sqlite-v3"),
        ("pyrogram-sqlite-v7", "pyrogram-sqlite-v7"),
        ("kurigram-sqlite", "pyrogram-sqlite-v7"),
        ("pyrofork-sqlite", "pyrofork-sqlite-v4"),
    ] {
        let out_path = tmp.path().join(format!("{to}.session"));
        let out = tgsess(
            tmp.path(),
            &[
                "convert",
                &src,
                "--to",
                to,
                "-o",
                out_path.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{to}: {}", stderr(&out));
        assert_eq!(
            inspect(tmp.path(), out_path.to_str().unwrap())["format"],
            format
        );
    }
    let v3 = tmp.path().join("pyrogram-sqlite.session");
    let v3 = v3.to_str().unwrap();
    let again = tgsess(
        tmp.path(),
        &[
            "convert",
            &src,
            "--to",
            "pyrogram-sqlite",
            "-o",
            v3,
            "--force",
        ],
    );
    assert!(
        stderr(&again).contains("stores no server address"),
        "{}",
        stderr(&again)
    );
    assert!(inspect(tmp.path(), v3)["server_address"].is_null());
    let bad = tgsess(tmp.path(), &["convert", &src, "--to", "pyrogram-sqlite-v9"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("pyrofork-sqlite"), "{}", stderr(&bad));
    // The real pyrofork file is named for what it is.
    let pyrofork = inspect(tmp.path(), &fixture("pyrofork_dc2_user_v4.session"));
    assert_eq!(pyrofork["format"], "pyrofork-sqlite-v4");
}

#[test]
fn set_dc_changes_the_entry_in_the_sessions_own_format() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for (file, name) in [
        ("telethon_dc2_user.session", "alice.session"),
        ("telethon_string_dc2.txt", "bob.string"),
        ("kurigram_dc2_user.session", "carol.session"),
    ] {
        std::fs::copy(fixtures_dir().join(file), dir.join(name)).unwrap();
    }
    for name in ["alice", "bob", "carol"] {
        let before = inspect(dir, name);
        let out = tgsess(dir, &["set-dc", name, "4", "127.0.0.1", "4444"]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let after = inspect(dir, name);
        assert_eq!(after["format"], before["format"], "{name}");
        assert_eq!(after["dc_id"], 4, "{name}");
        assert_eq!(after["server_address"], "127.0.0.1", "{name}");
        assert_eq!(after["port"], 4444, "{name}");
        assert_eq!(
            after["auth_key_id_hex"], before["auth_key_id_hex"],
            "{name}"
        );
        assert!(
            stderr(&out).contains("note: the key made on DC 2"),
            "{}",
            stderr(&out)
        );
    }
    let before = snapshot(dir);
    for (args, says) in [
        (
            ["set-dc", "alice", "6", "127.0.0.1", "443"],
            "DC 6 does not exist",
        ),
        (
            ["set-dc", "alice", "0", "127.0.0.1", "443"],
            "DC 0 does not exist",
        ),
        (
            ["set-dc", "alice", "2", "127.0.0.300", "443"],
            "not an IPv4 or IPv6",
        ),
        (["set-dc", "alice", "2", "127.0.0.1", "0"], "not a port"),
        (
            ["set-dc", "nobody", "2", "127.0.0.1", "443"],
            "no session of that name",
        ),
    ] {
        let out = tgsess(dir, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.starts_with("error: ") && err.contains(says),
            "{args:?}: {err}"
        );
    }
    assert_eq!(snapshot(dir), before, "a refused set-dc changes nothing");
}

#[test]
fn completions_and_man_page_come_from_the_parser() {
    let tmp = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = tgsess(tmp.path(), &["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        assert!(stdout(&out).contains("set-dc"), "{shell}");
    }
    assert_eq!(
        tgsess(tmp.path(), &["completions", "tcsh"]).status.code(),
        Some(2)
    );
    let man = tgsess(tmp.path(), &["man"]);
    assert!(man.status.success());
    assert!(
        stdout(&man).contains(".TH tgsess 1"),
        "{}",
        &stdout(&man)[..200]
    );
}
