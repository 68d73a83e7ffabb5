//! Optional: the real Telethon 1.45 and kurigram 2.2.26 read the files tgsess writes.
//! Runs only when their venvs exist (`TGSESS_VENVS`, default /tmp/fmt/venvs; made by
//! scripts/setup-venvs.sh); otherwise it prints a SKIPPED line that `cargo test` shows.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

fn judge(python: &Path, script: &str, kind: &str, file: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(script);
    let out = Command::new(python)
        .arg(script)
        .arg(kind)
        .arg(file)
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    serde_json::from_str(&line).unwrap_or_else(|_| {
        panic!(
            "judge said: {line} {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn real_libraries_read_what_tgsess_writes() {
    let (Some(telethon), Some(kurigram)) = (
        venv_python("telethon-1.45.0"),
        venv_python("kurigram-2.2.26"),
    ) else {
        notice_skipped(
            "real_libraries_read_what_tgsess_writes",
            "no Telethon 1.45 / kurigram 2.2.26 venv",
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    for entry in manifest() {
        let src = fixture_path(&entry);
        let key = entry["auth_key_hex"].as_str().unwrap();
        for (to, python, script, kind) in [
            ("telethon-sqlite", &telethon, "judge_telethon.py", "sqlite"),
            ("telethon-string", &telethon, "judge_telethon.py", "string"),
            ("pyrogram-sqlite", &kurigram, "judge_pyrogram.py", "sqlite"),
            ("pyrogram-string", &kurigram, "judge_pyrogram.py", "string"),
        ] {
            let out_path = tmp
                .path()
                .join(format!("{}-{to}", entry["file"].as_str().unwrap()));
            let api = entry["api_id"].as_i64().unwrap_or(12345).to_string();
            let user = entry["user_id"].as_i64().unwrap_or(777).to_string();
            let mut args = vec![
                "convert",
                src.to_str().unwrap(),
                "--to",
                to,
                "-o",
                out_path.to_str().unwrap(),
            ];
            args.extend(["--api-id", &api, "--user-id", &user]);
            if entry["is_bot"] == true {
                args.push("--bot");
            }
            let out = tgsess(tmp.path(), &args);
            assert!(out.status.success(), "{args:?}: {}", stderr(&out));
            let seen = judge(python, script, kind, &out_path);
            assert!(
                seen.get("error").is_none(),
                "{} -> {to}: {seen}",
                entry["file"]
            );
            assert_eq!(seen["auth_key_hex"], key, "{} -> {to}", entry["file"]);
            assert_eq!(seen["dc_id"], entry["dc_id"], "{} -> {to}", entry["file"]);
            if script == "judge_pyrogram.py" {
                assert_eq!(seen["user_id"].as_i64().unwrap().to_string(), user);
                assert_eq!(seen["is_bot"], entry["is_bot"].as_bool().unwrap_or(false));
            }
        }
    }
}
