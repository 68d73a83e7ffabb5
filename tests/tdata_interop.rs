//! Optional judges: the real opentele-ng 1.5.0 reads the tdata folders tgsess writes, and the
//! real kurigram 2.2.26, pyrofork 2.3.69 and Pyrogram 2.0.106 open each Pyrogram SQLite flavour
//! the way their docs say. They run only where the venvs exist (`TGSESS_VENVS`, default
//! /tmp/fmt/venvs, made by the project's shared setup-venvs.sh); otherwise each test prints
//! `SKIPPED` and why on stderr (shown with `cargo test -- --nocapture`, and in the test name).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;
use tgsess::store::{self, tdata};

fn skipped(test: &str, venv: &str) {
    eprintln!(
        "SKIPPED {test}: no {venv} venv (run the shared setup-venvs.sh, or set TGSESS_VENVS)"
    );
}

fn judge(python: &Path, script: &str, args: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(script);
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|_| {
        panic!(
            "judge said: {line} {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn optional_opentele_reads_the_tdata_tgsess_writes() {
    let Some(python) = venv_python("opentele-ng-1.5.0") else {
        return skipped(
            "optional_opentele_reads_the_tdata_tgsess_writes",
            "opentele-ng-1.5.0",
        );
    };
    let tmp = tempfile::tempdir().unwrap();
    let sessions: Vec<store::Session> = manifest()
        .into_iter()
        .filter(|e| e["is_bot"] != true && e["test_mode"] != true)
        .filter_map(|e| {
            let mut s = store::read_file(&fixture_path(&e)).ok()?.session;
            s.user_id.get_or_insert(777);
            Some(s)
        })
        .take(3)
        .collect();
    assert_eq!(sessions.len(), 3);
    for (name, accounts, passcode) in [
        ("one", &sessions[..1], ""),
        ("locked", &sessions[1..2], "pass ☃ word"),
        ("three", &sessions[..], ""),
    ] {
        let folder = tmp.path().join(name);
        tdata::write_folder(&folder, accounts, passcode.as_bytes(), false).unwrap();
        let mut args = vec![folder.to_str().unwrap()];
        if !passcode.is_empty() {
            args.push(passcode);
        }
        let seen = judge(&python, "judge_tdata.py", &args);
        assert!(seen.get("error").is_none(), "{name}: {seen}");
        let seen = seen["accounts"].as_array().unwrap();
        assert_eq!(seen.len(), accounts.len(), "{name}");
        for (s, got) in accounts.iter().zip(seen) {
            assert_eq!(got["dc_id"], s.dc_id, "{name}");
            assert_eq!(got["user_id"], s.user_id.unwrap(), "{name}");
            assert_eq!(
                got["auth_key_hex"],
                hex::encode(s.auth_key().unwrap().reveal()),
                "{name}"
            );
        }
    }
}

#[test]
fn optional_every_pyrogram_fork_opens_the_flavours_made_for_it() {
    let venvs = ["kurigram-2.2.26", "pyrofork-2.3.69", "pyrogram-2.0.106"];
    let pythons: Vec<_> = venvs.iter().map(|v| venv_python(v)).collect();
    if pythons.iter().any(Option::is_none) {
        return skipped(
            "optional_every_pyrogram_fork_opens_the_flavours_made_for_it",
            "kurigram/pyrofork/Pyrogram 2.0",
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let entry = manifest()
        .into_iter()
        .find(|e| e["file"] == "kurigram_dc2_user.session")
        .unwrap();
    let key = entry["auth_key_hex"].as_str().unwrap();
    // flavour, and which of kurigram, pyrofork, Pyrogram 2.0 must open it.
    for (to, readers) in [
        ("pyrogram-sqlite", [true, true, true]),
        ("pyrogram-sqlite-v7", [true, false, false]),
        ("pyrofork-sqlite", [false, true, true]),
    ] {
        for (python, (venv, must_read)) in pythons.iter().zip(venvs.iter().zip(readers)) {
            if !must_read {
                continue;
            }
            let out_path = tmp.path().join(format!("{to}-{venv}.session"));
            let src = fixture_path(&entry);
            let out = tgsess(
                tmp.path(),
                &[
                    "convert",
                    src.to_str().unwrap(),
                    "--to",
                    to,
                    "-o",
                    out_path.to_str().unwrap(),
                ],
            );
            assert!(out.status.success(), "{}", stderr(&out));
            let seen = judge(
                python.as_ref().unwrap(),
                "judge_pyrogram_file.py",
                &[out_path.to_str().unwrap()],
            );
            assert!(seen.get("error").is_none(), "{to} in {venv}: {seen}");
            assert_eq!(seen["auth_key_hex"], key, "{to} in {venv}");
            assert_eq!(seen["user_id"], entry["user_id"], "{to} in {venv}");
            assert_eq!(seen["dc_id"], entry["dc_id"], "{to} in {venv}");
        }
    }
}
