//! The account commands end to end: the real `tgsess` binary, answers piped on standard
//! input, against a sandbox running in this test process (`--sandbox-state DIR`, 127.0.0.1).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tgsess::sandbox::{Sandbox, SandboxConfig};

struct Cli {
    sandbox: Sandbox,
    state: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Cli {
    async fn start() -> Cli {
        let state = tempfile::tempdir().unwrap();
        let sandbox = Sandbox::start(SandboxConfig {
            state_dir: Some(state.path().to_path_buf()),
            seed: true,
            base_port: 0,
        })
        .await
        .expect("the sandbox starts");
        Cli {
            sandbox,
            state,
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn sessions(&self) -> std::path::PathBuf {
        self.home.path().join("sessions")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgsess"));
        cmd.arg("--dir")
            .arg(self.sessions())
            .arg("--sandbox-state")
            .arg(self.state.path())
            .args(args);
        isolate(&mut cmd, self.home.path());
        cmd
    }

    /// Runs the command with `input` on standard input (blocking: call from spawn_blocking).
    fn run(&self, args: &[&str], input: &str) -> Output {
        run_with_input(self.command(args), input)
    }
}

/// Keeps the binary away from the user's real config, sessions and locks.
fn isolate(cmd: &mut Command, home: &Path) {
    cmd.env("HOME", home)
        .env("TGSESS_DIR", home.join("data"))
        .env("TGSESS_CONFIG", home.join("no-config.toml"))
        .env("TGSESS_LOCK_DIR", home.join("locks"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("TG_API_ID")
        .env_remove("TG_API_HASH");
}

fn run_with_input(mut cmd: Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    wait_output(child)
}

/// Waits for the process with a deadline (kills it when over).
fn wait_output(child: std::process::Child) -> Output {
    let id = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            // SAFETY: kill(2) on the pid of the child this test started.
            unsafe {
                libc::kill(id as i32, libc::SIGKILL);
            }
            panic!("tgsess did not finish within 60 s");
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_login_whoami_json_and_logout() {
    let cli = std::sync::Arc::new(Cli::start().await);
    let c = cli.clone();
    let out = blocking(move || {
        c.run(
            &["login", "phone", "alice", "--phone", "+9996621111"],
            "22222\n",
        )
    })
    .await;
    assert_ok(&out);
    assert!(
        text(&out.stdout).contains("Logged in as Alice"),
        "{}",
        text(&out.stdout)
    );
    // The code never reaches the output.
    assert!(!text(&out.stdout).contains("22222") && !text(&out.stderr).contains("22222"));
    assert!(cli.sessions().join("alice.session").is_file());

    let c = cli.clone();
    let out = blocking(move || c.run(&["whoami", "alice", "--json"], "")).await;
    assert_ok(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["first_name"], "Alice");
    assert_eq!(json["phone"], "9996621111");
    assert_eq!(json["is_bot"], false);
    assert!(json["user_id"].as_i64().unwrap() > 0);
    for field in ["last_name", "username"] {
        assert!(json.get(field).is_some(), "{field} missing");
    }

    let c = cli.clone();
    let out = blocking(move || c.run(&["logout", "alice"], "")).await;
    assert_ok(&out);
    let c = cli.clone();
    let out = blocking(move || c.run(&["whoami", "alice"], "")).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not logged in"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_step_login_reads_code_then_password_from_stdin_in_a_string_file() {
    let cli = std::sync::Arc::new(Cli::start().await);
    let c = cli.clone();
    let out = blocking(move || {
        c.run(
            &[
                "login",
                "phone",
                "bob",
                "--phone",
                "9996622222",
                "--format",
                "telethon-string",
            ],
            "22222\nsandbox\n",
        )
    })
    .await;
    assert_ok(&out);
    assert!(
        text(&out.stderr).contains("the usual"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stderr).contains("sandbox\n"));
    let loaded = tgsess::store::read_file(&cli.sessions().join("bob.string")).unwrap();
    assert_eq!(loaded.format, tgsess::store::Format::TelethonString);

    // Wrong answers end with exit code 1 once standard input runs out.
    let c = cli.clone();
    let out = blocking(move || {
        c.run(
            &["login", "phone", "bob2", "--phone", "9996622222"],
            "22222\nwrong\n",
        )
    })
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("2FA password is wrong"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !cli.sessions().join("bob2.session").exists(),
        "a failed login leaves no file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_login_2fa_edit_sessions_and_fork() {
    let cli = std::sync::Arc::new(Cli::start().await);
    let c = cli.clone();
    let out = blocking(move || {
        c.run(
            &[
                "login",
                "bot",
                "bot",
                "--token",
                "123456:SANDBOX-demo-bot-token",
            ],
            "",
        )
    })
    .await;
    assert_ok(&out);
    assert!(text(&out.stdout).contains("bot"), "{}", text(&out.stdout));

    let c = cli.clone();
    let out = blocking(move || c.run(&["login", "bot", "bad", "--token", "1:nope"], "")).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("ACCESS_TOKEN_INVALID"),
        "{}",
        text(&out.stderr)
    );

    let c = cli.clone();
    let out = blocking(move || {
        c.run(
            &["login", "phone", "carol", "--phone", "9996641111"],
            "44444\n",
        )
    })
    .await;
    assert_ok(&out);

    let c = cli.clone();
    let out = blocking(move || c.run(&["2fa", "carol", "enable", "--hint", "cat"], "meow\n")).await;
    assert_ok(&out);
    let c = cli.clone();
    let out = blocking(move || c.run(&["2fa", "carol", "disable"], "bark\n")).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("wrong"), "{}", text(&out.stderr));

    let c = cli.clone();
    let out = blocking(move || c.run(&["fork", "carol", "carol2"], "meow\n")).await;
    assert_ok(&out);
    assert!(cli.sessions().join("carol2.session").is_file());

    let c = cli.clone();
    let out = blocking(move || c.run(&["sessions", "carol", "--json"], "")).await;
    assert_ok(&out);
    let devices: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let devices = devices.as_array().unwrap();
    assert_eq!(devices.len(), 2, "{devices:?}");
    let c = cli.clone();
    let out = blocking(move || c.run(&["sessions", "carol", "--terminate-others"], "")).await;
    assert_ok(&out);
    let c = cli.clone();
    let out = blocking(move || c.run(&["whoami", "carol2"], "")).await;
    assert_eq!(out.status.code(), Some(1));

    let c = cli.clone();
    let out = blocking(move || c.run(&["2fa", "carol", "disable"], "meow\n")).await;
    assert_ok(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_login_prints_the_url_and_finishes_after_the_scan() {
    let cli = std::sync::Arc::new(Cli::start().await);
    let mut child = cli
        .command(&["login", "qr", "dave"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut rest = String::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if line.starts_with("tg://login?token=") {
                let _ = tx.send(Some(line.clone()));
            }
            rest.push_str(&line);
            rest.push('\n');
        }
        let _ = tx.send(None);
        rest
    });
    let url = blocking(move || rx.recv_timeout(Duration::from_secs(30)))
        .await
        .expect("a URL within 30 s")
        .expect("the URL line");
    cli.sandbox.accept_qr("9996611111", &url).unwrap();
    let out = blocking(move || wait_output(child)).await;
    assert_ok(&out);
    let loaded = tgsess::store::read_file(&cli.sessions().join("dave.session")).unwrap();
    assert_eq!(loaded.session.dc_id, 1);
}

#[test]
fn missing_api_credentials_name_every_source() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgsess"));
    cmd.args(["whoami", "someone"]);
    isolate(&mut cmd, home.path());
    let out = run_with_input(cmd, "");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    for needle in ["--api-id", "TG_API_ID", "TG_API_HASH", "no-config.toml"] {
        assert!(err.contains(needle), "{needle} missing in: {err}");
    }
}

#[test]
fn in_process_sandbox_keeps_its_state_between_runs() {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str], input: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgsess"));
        cmd.arg("--sandbox").args(args);
        isolate(&mut cmd, home.path());
        run_with_input(cmd, input)
    };
    let out = run(
        &["login", "phone", "alice", "--phone", "9996621111"],
        "22222\n",
    );
    assert_ok(&out);
    // Sandbox sessions live apart from real ones.
    let data = home.path().join("data");
    assert!(data.join("sandbox-sessions/alice.session").is_file());
    assert!(data.join("sandbox-state").is_dir());
    assert!(!data.join("alice.session").exists());
    // A second process starts the sandbox again on the same state: the login still works.
    let out = run(&["whoami", "alice", "--json"], "");
    assert_ok(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["first_name"], "Alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_in_use_by_another_process_is_refused_with_its_pid() {
    let cli = std::sync::Arc::new(Cli::start().await);
    let c = cli.clone();
    let out = blocking(move || {
        c.run(
            &["login", "phone", "alice", "--phone", "9996621111"],
            "22222\n",
        )
    })
    .await;
    assert_ok(&out);
    // This test process holds the session, as a running tgsess would.
    let mut options = tgsess::telegram::ConnectOptions::new(tgsess::telegram::ApiCredentials {
        api_id: tgsess::sandbox::SANDBOX_API_ID,
        api_hash: tgsess::sandbox::SANDBOX_API_HASH.into(),
    });
    options.lock_dir = cli.home.path().join("locks");
    let held =
        tgsess::telegram::Connection::open_file(&cli.sessions().join("alice.session"), &options)
            .unwrap();
    let c = cli.clone();
    let out = blocking(move || c.run(&["whoami", "alice"], "")).await;
    assert_eq!(out.status.code(), Some(1));
    let expected = format!("in use by PID {}", std::process::id());
    assert!(
        text(&out.stderr).contains(&expected),
        "{}",
        text(&out.stderr)
    );
    drop(held);
    let c = cli.clone();
    let out = blocking(move || c.run(&["whoami", "alice"], "")).await;
    assert_ok(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recover_password_flag_resets_2fa_with_the_emailed_code() {
    let cli = std::sync::Arc::new(Cli::start().await);
    let mut child = cli
        .command(&[
            "login",
            "phone",
            "bob",
            "--phone",
            "9996622222",
            "--recover-password",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"22222\n").unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Prompts end without a newline: read byte chunks, not lines.
        let mut stderr = stderr;
        let mut buf = [0u8; 1024];
        while let Ok(n) = std::io::Read::read(&mut stderr, &mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let seen = blocking(move || {
        let mut seen = String::new();
        while !seen.contains("Recovery code sent to") {
            let chunk = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no recovery prompt; stderr so far:\n{seen}"));
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        seen
    })
    .await;
    assert!(
        !seen.contains("(hint:"),
        "the password is not asked: {seen}"
    );
    let code = cli.sandbox.last_code("bob@sandbox.invalid").unwrap();
    stdin.write_all(format!("{code}\n").as_bytes()).unwrap();
    drop(stdin);
    let out = blocking(move || wait_output(child)).await;
    assert_ok(&out);
    assert!(
        text(&out.stdout).contains("Logged in as Bob"),
        "{}",
        text(&out.stdout)
    );
}

/// A name that would retitle the terminal (OSC 0) and clear it (CSI 2 J) if printed raw.
const HOSTILE_NAME: &str = "Mallory\u{1b}]0;pwned\u{7}\u{1b}[2J";

fn assert_no_terminal_controls(what: &str, out: &str) {
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{7}'),
        "{what} printed a raw escape: {out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_from_the_server_never_reach_the_terminal_raw() {
    let cli = std::sync::Arc::new(Cli::start().await);
    cli.sandbox
        .add_user(tgsess::sandbox::NewUser::new("+9996625555", HOSTILE_NAME))
        .unwrap();
    let c = cli.clone();
    let out = blocking(move || {
        c.run(
            &["login", "phone", "mal", "--phone", "9996625555"],
            "22222\n",
        )
    })
    .await;
    assert_ok(&out);
    assert_no_terminal_controls("login", &text(&out.stdout));
    assert!(
        text(&out.stdout).contains("Logged in as Mallory\\u{1b}]0;pwned"),
        "{}",
        text(&out.stdout)
    );

    let c = cli.clone();
    let out = blocking(move || c.run(&["whoami", "mal"], "")).await;
    assert_ok(&out);
    assert_no_terminal_controls("whoami", &text(&out.stdout));

    // JSON stays exact: the name parses back byte for byte.
    let c = cli.clone();
    let out = blocking(move || c.run(&["whoami", "mal", "--json"], "")).await;
    assert_ok(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["first_name"], HOSTILE_NAME);

    // The name is now stored in the session: inspect and list escape it too.
    let c = cli.clone();
    let out = blocking(move || c.run(&["inspect", "mal"], "")).await;
    assert_ok(&out);
    assert_no_terminal_controls("inspect", &text(&out.stdout));
    assert!(
        text(&out.stdout).contains("Mallory"),
        "{}",
        text(&out.stdout)
    );
    let c = cli.clone();
    let out = blocking(move || c.run(&["list"], "")).await;
    assert_ok(&out);
    assert_no_terminal_controls("list", &text(&out.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_level_writes_a_private_log_without_secrets() {
    use std::os::unix::fs::PermissionsExt;
    let cli = std::sync::Arc::new(Cli::start().await);
    let password = "Log-Test-Pw-7f3e9";
    let mut user = tgsess::sandbox::NewUser::new("+9996627777", "Logan");
    user.password = Some(tgsess::secret::SecretString::new(password));
    cli.sandbox.add_user(user).unwrap();
    let state = cli.home.path().join("state");
    let token = "123456:SANDBOX-demo-bot-token";
    let runs: [(&[&str], String); 3] = [
        (
            &[
                "--log-level",
                "trace",
                "login",
                "phone",
                "logan",
                "--phone",
                "9996627777",
            ],
            format!("22222\n{password}\n"),
        ),
        (&["--log-level", "trace", "whoami", "logan"], String::new()),
        (
            &[
                "--log-level",
                "debug",
                "login",
                "bot",
                "b",
                "--token",
                token,
            ],
            String::new(),
        ),
    ];
    for (args, input) in runs {
        let mut cmd = cli.command(args);
        cmd.env("TGSESS_STATE_DIR", &state);
        let out = blocking(move || run_with_input(cmd, &input)).await;
        assert_ok(&out);
    }
    let log_path = state.join("tgsess.log");
    let mode = std::fs::metadata(&log_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the log is private");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("command=login phone"), "{log}");
    assert!(log.contains("command=whoami"), "{log}");
    let key = tgsess::store::read_file(&cli.sessions().join("logan.session"))
        .unwrap()
        .session
        .auth_key()
        .map(|k| hex::encode(k.reveal()))
        .unwrap();
    for secret in [password, "SANDBOX-demo-bot-token", &key[..32]] {
        assert!(!log.contains(secret), "the log holds a secret");
    }

    // Without --log-level a command writes no log.
    let other_state = cli.home.path().join("state2");
    let mut cmd = cli.command(&["whoami", "logan"]);
    cmd.env("TGSESS_STATE_DIR", &other_state);
    let out = blocking(move || run_with_input(cmd, "")).await;
    assert_ok(&out);
    assert!(!other_state.join("tgsess.log").exists());
}
