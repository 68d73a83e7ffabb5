//! Optional: the real Telethon 1.45 and 1.36, kurigram 2.2.26, pyrofork 2.3.69 and Pyrogram
//! 2.0.106 log in to `tgsess sandbox serve`, each with its own DH keys: phone + code, wrong
//! code, 2FA with hint, PHONE_MIGRATE, QR (plain, migrating to DC 1, 2FA after the scan,
//! except_ids), bots (and USER_MIGRATE), get_me, edit 2FA, log_out. The drivers are
//! tests/interop/drive_*.py; each client runs when its venv exists (scripts/setup-venvs.sh),
//! otherwise a SKIPPED line says so in the `cargo test` output.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use tgsess::sandbox::{self, NewUser, state::State};

/// (venv, driver, layer the library speaks).
const CLIENTS: [(&str, &str, i32); 5] = [
    ("telethon-1.45.0", "drive_telethon.py", 229),
    ("telethon-1.36.0", "drive_telethon.py", 181),
    ("kurigram-2.2.26", "drive_pyrogram.py", 229),
    ("pyrofork-2.3.69", "drive_pyrogram.py", 220),
    ("pyrogram-2.0.106", "drive_pyrogram.py", 158),
];

const STEPS: [&str; 12] = [
    "phone_code",
    "wrong_code",
    "2fa_hint",
    "phone_migrate",
    "qr_plain",
    "qr_migrate",
    "qr_2fa",
    "qr_ignored_ids",
    "bot",
    "bot_user_migrate",
    "edit_2fa",
    "log_out",
];

/// Each client gets its own accounts (no rate limit or 2FA change of one touches another).
fn accounts(state: &State, k: usize) -> Value {
    let phone = |dc: u8, n: u8| format!("+99966{dc}5{k}{n:02}");
    let user = |dc: u8, n: u8, name: &str, password: Option<(&str, &str)>| {
        let mut new = NewUser::new(phone(dc, n), name);
        if let Some((pw, hint)) = password {
            new = new.with_password(pw, Some(hint));
        }
        let id = sandbox::add_user_to(state, &new).unwrap();
        json!({"phone": phone(dc, n), "first_name": name, "dc": dc, "id": id,
               "password": password.map(|p| p.0), "hint": password.map(|p| p.1)})
    };
    let bot = |n: u8, dc: i32| {
        let token = format!("6{k}000{n}:SANDBOX-interop-bot");
        let id = sandbox::add_bot_to(state, &token, "Interop Bot", dc).unwrap();
        json!({"token": token, "id": id, "dc": dc})
    };
    json!({
        "plain": user(2, 1, "Plain", None),
        "wrong": user(2, 2, "Wrong", None),
        "twofa": user(2, 3, "Two", Some(("pw of two", "the hint"))),
        "migrate": user(4, 1, "Faraway", None),
        "qr_scanner": user(2, 4, "Scanner", None),
        "qr_migrate": user(1, 1, "Dcone", None),
        "qr_twofa": user(2, 5, "Qrtwo", Some(("qr pw", "qr hint"))),
        "edit": user(2, 6, "Editor", None),
        "bot": bot(1, 2),
        "bot_migrate": bot(2, 4),
    })
}

/// `tgsess sandbox serve`, stopped when dropped.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tgsess_bin() -> &'static str {
    env!("CARGO_BIN_EXE_tgsess")
}

fn serve(state: &Path) -> Serve {
    let mut child = Command::new(tgsess_bin())
        .args(["sandbox", "serve", "--seed", "--state"])
        .arg(state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let serve = Serve(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("serve prints its DCs");
        if line.starts_with("dc 5 listening") {
            return serve;
        }
    }
}

/// A running `serve` on `state` and what `sandbox info --json` says about it.
fn serve_with_info(state: &Path) -> (Serve, Value) {
    let serve = serve(state);
    let info = Command::new(tgsess_bin())
        .args(["sandbox", "info", "--json", "--state"])
        .arg(state)
        .output()
        .unwrap();
    assert!(info.status.success(), "{}", stderr(&info));
    (serve, serde_json::from_slice(&info.stdout).unwrap())
}

/// Runs one driver to its end (each step has its own 60 s limit inside the driver).
fn drive(python: &Path, driver: &str, config: &Path) -> Child {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(driver);
    Command::new(python)
        .arg(script)
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn real_clients_log_in_to_the_sandbox() {
    let available: Vec<(usize, PathBuf, &str, i32)> = CLIENTS
        .iter()
        .enumerate()
        .filter_map(|(k, (venv, driver, layer))| match venv_python(venv) {
            Some(py) => Some((k, py, *driver, *layer)),
            None => {
                notice_skipped(
                    &format!("real_clients_log_in_to_the_sandbox[{venv}]"),
                    &format!("no {venv} venv"),
                );
                None
            }
        })
        .collect();
    if available.is_empty() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let state_dir = tmp.path().join("state");
    let (_serve, info) = serve_with_info(&state_dir);
    let state = State::open(&state_dir).unwrap();
    let runs: Vec<_> = available
        .iter()
        .map(|(k, python, driver, layer)| {
            let config = tmp.path().join(format!("client-{k}.json"));
            let cfg = json!({
                "info": info,
                "tgsess": tgsess_bin(),
                "state": state_dir,
                "api_id": sandbox::SANDBOX_API_ID,
                "api_hash": sandbox::SANDBOX_API_HASH,
                "accounts": accounts(&state, *k),
            });
            std::fs::write(&config, cfg.to_string()).unwrap();
            (CLIENTS[*k].0, *layer, drive(python, driver, &config))
        })
        .collect();
    let mut failures = Vec::new();
    for (venv, layer, child) in runs {
        let out = child.wait_with_output().unwrap();
        let steps: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        for name in STEPS {
            match steps.iter().find(|s| s["step"] == name) {
                Some(s) if s["ok"] == true => {}
                Some(s) => failures.push(format!(
                    "{venv} (layer {layer}) {name}: {} {}",
                    s["detail"], s["trace"]
                )),
                None => failures.push(format!(
                    "{venv} (layer {layer}) {name}: never ran; stderr: {}",
                    String::from_utf8_lossy(&out.stderr)
                )),
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The python block of docs/sandbox.md that follows the `<!-- tested: TAG ... -->` line.
fn docs_snippet(tag: &str) -> String {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/sandbox.md"))
            .unwrap();
    let marker = format!("<!-- tested: {tag} ");
    let after = &doc[doc
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker} in docs"))..];
    let code = &after[after.find("```python\n").unwrap() + "```python\n".len()..];
    code[..code.find("```").unwrap()].to_string()
}

/// docs/sandbox.md's snippets log the demo account in, as printed, with each library.
#[test]
fn the_docs_snippets_log_real_clients_in() {
    let runs: Vec<(&str, &str)> = [
        ("telethon-1.45.0", "telethon"),
        ("telethon-1.36.0", "telethon"),
        ("pyrogram-2.0.106", "pyrogram"),
        ("pyrofork-2.3.69", "pyrogram"),
        ("kurigram-2.2.26", "pyrogram"),
    ]
    .into_iter()
    .filter(|(venv, _)| {
        let found = venv_python(venv).is_some();
        if !found {
            notice_skipped(
                &format!("the_docs_snippets_log_real_clients_in[{venv}]"),
                &format!("no {venv} venv"),
            );
        }
        found
    })
    .collect();
    if runs.is_empty() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let state_dir = tmp.path().join("state");
    let (_serve, info) = serve_with_info(&state_dir);
    std::fs::write(tmp.path().join("sandbox.json"), info.to_string()).unwrap();
    for tag in ["telethon", "pyrogram"] {
        std::fs::write(
            tmp.path().join(format!("snippet_{tag}.py")),
            docs_snippet(tag),
        )
        .unwrap();
    }
    let children: Vec<_> = runs
        .iter()
        .map(|(venv, tag)| {
            let child = Command::new(venv_python(venv).unwrap())
                .arg(format!("snippet_{tag}.py"))
                .current_dir(tmp.path())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (*venv, child)
        })
        .collect();
    for (venv, child) in children {
        let out = child.wait_with_output().unwrap();
        // Telethon's start() prints a greeting first.
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).lines().last(),
            Some("Alice"),
            "{venv}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
