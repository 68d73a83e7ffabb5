//! `tgsess sandbox serve` as a process, administered by the other `tgsess sandbox` commands
//! while it runs, and used by a grammers client through a printed session string.

mod tgsess_bin;

mod sandbox_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;

use sandbox_support::*;
use tgsess::sandbox::SANDBOX_API_HASH;
use tgsess::store::adapter::{Backend, StoredSession};

fn tgsess(args: &[&str]) -> std::process::Output {
    tgsess_bin::command()
        .args(args)
        .output()
        .expect("tgsess runs")
}

fn ok_stdout(args: &[&str]) -> String {
    let out = tgsess(args);
    assert!(
        out.status.success(),
        "tgsess {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Starts `serve` and returns it with its "dc N listening on ..." lines.
fn start_serve(state: &Path) -> (Child, Vec<String>) {
    let mut child = tgsess_bin::command()
        .args(["sandbox", "serve", "--seed", "--state"])
        .arg(state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().unwrap();
    // Reading stops at the state line (or EOF if serve died), so this cannot hang forever.
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if line.starts_with("state in ") {
            break;
        }
        lines.push(line);
    }
    (child, lines)
}

fn stop(mut child: Child, signal: i32) -> std::process::ExitStatus {
    // SAFETY: sending a signal to our own child process by its pid.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    rx.recv_timeout(DEADLINE)
        .expect("serve stops within the deadline")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_new_session_outbox_and_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let state_arg = state.to_str().unwrap();
    let (child, lines) = start_serve(&state);
    assert_eq!(lines.len(), 5, "{lines:?}");
    for (line, dc) in lines.iter().zip([1, 2, 3, 4, 5]) {
        assert!(
            line.starts_with(&format!("dc {dc} listening on 127.0.0.1:")),
            "{line}"
        );
    }

    // Admin commands work while serve runs.
    ok_stdout(&[
        "sandbox",
        "add-user",
        "--state",
        state_arg,
        "--phone",
        "+9996627777",
        "--first-name",
        "Gina",
    ]);
    let dup = tgsess(&[
        "sandbox",
        "add-user",
        "--state",
        state_arg,
        "--phone",
        "9996627777",
        "--first-name",
        "G",
    ]);
    assert_eq!(dup.status.code(), Some(1));
    ok_stdout(&[
        "sandbox",
        "add-bot",
        "--state",
        state_arg,
        "--token",
        "777:cli-bot",
        "--name",
        "Cli Bot",
    ]);

    let text = ok_stdout(&[
        "sandbox",
        "new-session",
        "--state",
        state_arg,
        "--to",
        "telethon-string",
    ]);
    let loaded = tgsess::store::parse_string(text.trim(), "stdout").unwrap();
    assert_eq!(loaded.format, tgsess::store::Format::TelethonString);
    assert_eq!(loaded.session.dc_id, 2);

    let pyro = ok_stdout(&[
        "sandbox",
        "new-session",
        "--state",
        state_arg,
        "--dc",
        "4",
        "--to",
        "pyrogram-string",
    ]);
    let pyro = tgsess::store::parse_string(pyro.trim(), "stdout").unwrap();
    assert_eq!(pyro.session.dc_id, 4);
    assert!(pyro.session.has_key());

    let file = dir.path().join("fresh.session");
    ok_stdout(&[
        "sandbox",
        "new-session",
        "--state",
        state_arg,
        "--to",
        "tgsess-sqlite",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(tgsess::store::read_file(&file).unwrap().session.has_key());

    let tc = client_for(Arc::new(StoredSession::new(
        loaded.session,
        Backend::Memory,
    )));
    assert!(
        !within("is_authorized", tc.client.is_authorized())
            .await
            .unwrap()
    );
    let token = within(
        "code",
        tc.client.request_login_code("9996627777", SANDBOX_API_HASH),
    )
    .await
    .unwrap();
    let outbox: serde_json::Value = serde_json::from_str(&ok_stdout(&[
        "sandbox", "outbox", "--state", state_arg, "--json",
    ]))
    .unwrap();
    let last = outbox.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["to"], "9996627777");
    let code = last["code"].as_str().unwrap().to_string();
    assert_eq!(code, "22222");
    let text = ok_stdout(&["sandbox", "outbox", "--state", state_arg]);
    let last_line = text.lines().last().unwrap();
    assert!(
        last_line.contains("9996627777") && last_line.contains("22222"),
        "{text}"
    );
    let me = within("sign_in", tc.client.sign_in(&token, &code))
        .await
        .unwrap();
    assert_eq!(me.first_name(), Some("Gina"));
    tc.quit().await;

    let status = stop(child, libc::SIGTERM);
    assert_eq!(status.code(), Some(0));

    // A restart on the same state reuses the ports, so old sessions keep working.
    let (child, lines2) = start_serve(&state);
    assert_eq!(lines, lines2);
    let status = stop(child, libc::SIGINT);
    assert_eq!(status.code(), Some(0));
}

#[test]
fn bad_arguments_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_str().unwrap();
    let out = tgsess(&[
        "sandbox",
        "new-session",
        "--state",
        state,
        "--to",
        "telethon-string",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tgsess sandbox serve"));
    let out = tgsess(&[
        "sandbox",
        "serve",
        "--listen",
        "0.0.0.0:5000",
        "--state",
        state,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let out = tgsess(&["sandbox", "add-user", "--state", state, "--phone", "x"]);
    assert_eq!(out.status.code(), Some(2), "clap usage error");
    let out = tgsess(&[
        "sandbox",
        "accept-qr",
        "--state",
        state,
        "--phone",
        "9996621111",
        "tg://login?token=AAAA",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn rsa_key_is_created_once_per_state() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_str().unwrap();
    let first = ok_stdout(&["sandbox", "rsa-key", "--state", state]);
    assert!(first.starts_with("-----BEGIN RSA PUBLIC KEY-----\n"));
    assert!(first.trim_end().ends_with("-----END RSA PUBLIC KEY-----"));
    assert_eq!(ok_stdout(&["sandbox", "rsa-key", "--state", state]), first);
}
