//! Sandbox mode and the test suite never dial anything but 127.0.0.0/8 and ::1.
//!
//! Every command runs the real binary with `TGSESS_DIAL_LOG` (the connection guard writes each
//! address it hands to grammers there) and, where ptrace is allowed, under
//! `strace -f -e trace=connect` (what the process really asked the kernel). Where strace cannot
//! run, the tests say so on stderr (not swallowed by the test runner) and rely on the log.

mod tgsess_bin;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use tgsess::sandbox::{Sandbox, SandboxConfig};

/// Every format a session file can have, with the extension tgsess gives it.
const FORMATS: [(&str, &str); 6] = [
    ("tgsess-sqlite", "session"),
    ("tgsess-string", "string"),
    ("telethon-sqlite", "session"),
    ("telethon-string", "string"),
    ("pyrogram-sqlite", "session"),
    ("pyrogram-string", "string"),
];

fn strace_available() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    *WORKS.get_or_init(|| {
        let works = tgsess_bin::strace_works();
        if !works {
            tgsess_bin::notice(
                "sandbox_isolation: strace cannot trace here (not installed, or ptrace denied): \
                 connect() syscalls are NOT checked, only the guard's dial log",
            );
        }
        works
    })
}

/// A private home: chosen folder, config, locks, and the logs of every run.
struct Home {
    dir: tempfile::TempDir,
    runs: std::sync::atomic::AtomicUsize,
}

/// What one command did: its output and every address it tried.
struct Run {
    out: Output,
    /// Lines of the guard's log: `allowed|refused DC ADDR`.
    dial_log: Vec<String>,
    /// Addresses passed to connect() (None: strace unavailable).
    connects: Option<Vec<IpAddr>>,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
            runs: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The chosen folder (`TGSESS_DIR`).
    fn chosen(&self) -> PathBuf {
        self.path().join("data")
    }

    fn sandbox_sessions(&self) -> PathBuf {
        self.chosen().join("sandbox-sessions")
    }

    fn run(&self, args: &[&str], input: &str) -> Run {
        let n = self.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dial_log = self.path().join(format!("dial-{n}.log"));
        let trace_log = self.path().join(format!("strace-{n}.log"));
        let traced = strace_available();
        let mut cmd = if traced {
            tgsess_bin::traced(&trace_log)
        } else {
            tgsess_bin::command()
        };
        cmd.args(args)
            .env("HOME", self.path())
            .env("TGSESS_DIR", self.chosen())
            .env("TGSESS_CONFIG", self.path().join("no-config.toml"))
            .env("TGSESS_LOCK_DIR", self.path().join("locks"))
            .env("TGSESS_DIAL_LOG", &dial_log)
            .env_remove("TG_API_ID")
            .env_remove("TG_API_HASH");
        let out = run_with_input(cmd, input);
        let dial_log = std::fs::read_to_string(&dial_log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect();
        let connects = traced.then(|| inet_connects(&std::fs::read_to_string(trace_log).unwrap()));
        Run {
            out,
            dial_log,
            connects,
        }
    }
}

fn run_with_input(mut cmd: Command, input: &str) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tgsess starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// The IPv4/IPv6 addresses of every connect() in an strace log.
fn inet_connects(trace: &str) -> Vec<IpAddr> {
    let mut found = Vec::new();
    for line in trace.lines().filter(|l| l.contains("connect(")) {
        let addr = if let Some(rest) = line.split("inet_addr(\"").nth(1) {
            rest.split('"').next()
        } else if let Some(rest) = line.split("inet_pton(AF_INET6, \"").nth(1) {
            rest.split('"').next()
        } else {
            // AF_UNIX and friends stay on this machine; an unparsed AF_INET would be a bug.
            assert!(
                !line.contains("AF_INET"),
                "an inet connect() this test cannot read: {line}"
            );
            continue;
        };
        found.push(addr.unwrap().parse().expect("an IP address"));
    }
    found
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl Run {
    fn ok(self, what: &str) -> Run {
        assert!(
            self.out.status.success(),
            "{what} failed: {}{}",
            text(&self.out.stdout),
            text(&self.out.stderr)
        );
        self
    }

    /// Nothing outside loopback was asked for, and (when `dialled`) something was.
    fn only_loopback(&self, what: &str, dialled: bool) {
        for line in &self.dial_log {
            let mut parts = line.split(' ');
            let verdict = parts.next().unwrap();
            let addr: std::net::SocketAddr = parts.nth(1).unwrap().parse().unwrap();
            assert!(
                verdict == "allowed" && tgsess::telegram::dial_guard::is_loopback(addr.ip()),
                "{what}: the guard saw {line}"
            );
        }
        if dialled {
            assert!(!self.dial_log.is_empty(), "{what}: the guard saw no dial");
        }
        if let Some(connects) = &self.connects {
            for ip in connects {
                assert!(
                    tgsess::telegram::dial_guard::is_loopback(*ip),
                    "{what}: connect() to {ip}"
                );
            }
            if dialled {
                assert!(!connects.is_empty(), "{what}: strace saw no connect()");
            }
        }
    }
}

async fn running_sandbox(state: &Path) -> Sandbox {
    Sandbox::start(SandboxConfig {
        state_dir: Some(state.to_path_buf()),
        seed: true,
        base_port: 0,
    })
    .await
    .expect("the sandbox starts")
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Log in (as a new account `phone`, added to the sandbox state first: one login per phone keeps
/// clear of the code rate limit), whoami, log out: what every session format goes through.
fn login_whoami_logout(home: &Home, mode: &[&str], phone: &str, name: &str, login_extra: &[&str]) {
    let with =
        |rest: &[&str]| -> Vec<String> { mode.iter().chain(rest).map(|a| a.to_string()).collect() };
    let what = format!("{mode:?} {name}");
    // `--sandbox-state DIR` names the state; `--sandbox` uses its default one.
    home.run(
        &strs(&with(&[
            "sandbox",
            "add-user",
            "--phone",
            phone,
            "--first-name",
            "Alice",
        ])),
        "",
    )
    .ok(&format!("add-user {phone}"));
    let login: Vec<String> = with(&["login", "phone", name, "--phone", phone])
        .into_iter()
        .chain(login_extra.iter().map(|a| a.to_string()))
        .collect();
    home.run(&strs(&login), "22222\n")
        .ok(&format!("login {what}"))
        .only_loopback(&format!("login {what}"), true);
    let whoami = home
        .run(&strs(&with(&["whoami", name, "--json"])), "")
        .ok(&format!("whoami {what}"));
    whoami.only_loopback(&format!("whoami {what}"), true);
    let me: serde_json::Value = serde_json::from_slice(&whoami.out.stdout).unwrap();
    assert_eq!(me["first_name"], "Alice", "{what}");
    home.run(&strs(&with(&["logout", name])), "")
        .ok(&format!("logout {what}"))
        .only_loopback(&format!("logout {what}"), true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_state_commands_dial_only_loopback_for_every_format() {
    let home = Home::new();
    let state = home.path().join("state");
    let sandbox = running_sandbox(&state).await;
    let state_arg = state.to_str().unwrap().to_string();
    std::fs::create_dir_all(home.sandbox_sessions()).unwrap();
    tokio::task::spawn_blocking(move || {
        let mode = ["--sandbox-state", state_arg.as_str()];
        for (i, (format, ext)) in FORMATS.into_iter().enumerate() {
            // A session made the way docs/sandbox.md says: Pyrogram's formats keep no address.
            let name = format!("made-{format}");
            let path = home.sandbox_sessions().join(format!("{name}.{ext}"));
            home.run(
                &[
                    "sandbox",
                    "new-session",
                    "--state",
                    &state_arg,
                    "--to",
                    format,
                    "-o",
                    path.to_str().unwrap(),
                ],
                "",
            )
            .ok(&format!("new-session --to {format}"));
            let phone = format!("99966200{i:02}");
            login_whoami_logout(&home, &mode, &phone, &name, &[]);
        }
    })
    .await
    .unwrap();
    sandbox.stop().await;
}

#[test]
fn in_process_sandbox_commands_dial_only_loopback_for_every_format() {
    let home = Home::new();
    for (i, (format, _)) in FORMATS.into_iter().enumerate() {
        let name = format!("new-{format}");
        let phone = format!("99966201{i:02}");
        login_whoami_logout(&home, &["--sandbox"], &phone, &name, &["--format", format]);
    }
    // The in-process sandbox keeps its state in the chosen folder, its sessions beside it.
    assert!(home.chosen().join("sandbox-state").is_dir());
    assert!(
        home.sandbox_sessions()
            .join("new-pyrogram-string.string")
            .is_file()
    );
}

/// Copies a fixture written by a real library (a production address, or none at all).
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sessions")
        .join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_telegram_session_used_in_sandbox_mode_never_reaches_telegram() {
    let home = Home::new();
    let state = home.path().join("state");
    let sandbox = running_sandbox(&state).await;
    std::fs::create_dir_all(home.sandbox_sessions()).unwrap();
    // Telethon's file stores 149.154.167.51; kurigram's string stores no address at all.
    std::fs::copy(
        fixture("telethon_dc2_user.session"),
        home.sandbox_sessions().join("real-telethon.session"),
    )
    .unwrap();
    std::fs::copy(
        fixture("kurigram_string_dc2_user.txt"),
        home.sandbox_sessions().join("real-kurigram.txt"),
    )
    .unwrap();
    let state_arg = state.to_str().unwrap().to_string();
    tokio::task::spawn_blocking(move || {
        for name in ["real-telethon", "real-kurigram"] {
            let run = home.run(&["--sandbox-state", &state_arg, "whoami", name], "");
            // The sandbox does not know the key: the command fails, on loopback only.
            assert_eq!(run.out.status.code(), Some(1), "{name}");
            assert!(text(&run.out.stderr).starts_with("error: "), "{name}");
            run.only_loopback(name, true);
        }
    })
    .await
    .unwrap();
    sandbox.stop().await;
}

#[test]
fn a_loopback_only_process_refuses_a_production_address_with_a_clear_error() {
    let home = Home::new();
    std::fs::create_dir_all(home.chosen()).unwrap();
    for (file, name) in [
        ("telethon_dc2_user.session", "real-telethon.session"),
        ("kurigram_string_dc2_user.txt", "real-kurigram.txt"),
    ] {
        std::fs::copy(fixture(file), home.chosen().join(name)).unwrap();
    }
    for name in ["real-telethon", "real-kurigram"] {
        // Telegram mode: the child only has TGSESS_LOOPBACK_ONLY=1 (set for every test run).
        let run = home.run(
            &[
                "whoami",
                name,
                "--api-id",
                "12345",
                "--api-hash",
                "0123456789abcdef",
            ],
            "",
        );
        assert_eq!(run.out.status.code(), Some(1), "{name}");
        let err = text(&run.out.stderr);
        assert!(
            err.starts_with("error: refusing to connect to DC 2 at 149.154.167.51:443"),
            "{name}: {err}"
        );
        assert!(err.contains("127.0.0.1 and ::1"), "{name}: {err}");
        assert!(
            run.dial_log
                .iter()
                .any(|l| l == "refused 2 149.154.167.51:443"),
            "{name}: {:?}",
            run.dial_log
        );
        if let Some(connects) = &run.connects {
            assert!(connects.is_empty(), "{name}: connect() to {connects:?}");
        }
    }
}

/// The suite's own sources: every file under tests/ and benches/.
fn suite_sources() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let mut stack = vec![root.join("tests"), root.join("benches")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    assert!(out.len() > 10, "the suite was not found");
    out
}

#[test]
fn the_suite_starts_tgsess_and_grammers_only_behind_the_loopback_guard() {
    let this = Path::new("tests/sandbox_isolation.rs");
    for (path, source) in suite_sources() {
        if path == this {
            continue;
        }
        let p = path.display();
        // The binary: only through tests/tgsess_bin (which sets TGSESS_LOOPBACK_ONLY=1).
        if path != Path::new("tests/tgsess_bin/mod.rs") {
            assert!(
                !source.contains("CARGO_BIN_EXE_tgsess"),
                "{p} starts tgsess directly: use tgsess_bin::command()"
            );
        }
        if source.contains("env_clear()") && source.contains("tgsess_bin::") {
            assert!(
                source.contains("tgsess_bin::LOOPBACK_ONLY"),
                "{p} clears the environment of tgsess: set tgsess_bin::LOOPBACK_ONLY again"
            );
        }
        // In-process connections: sandbox options (loopback addresses only), never Telegram's.
        assert!(
            !source.contains("ConnectOptions::new("),
            "{p} builds Telegram connection options: use tgsess::mode::sandbox_options"
        );
        // Raw grammers pools: behind the same guard (grammers' own MemorySession test builds
        // its addresses from a sandbox-provisioned session, never from Telegram's table).
        if source.contains("SenderPool::") && !source.contains("MemorySession::from") {
            assert!(
                source.contains("GuardedSession"),
                "{p} runs a grammers pool without the dial guard"
            );
        }
    }
}

#[test]
fn no_test_that_holds_a_telegram_address_can_connect() {
    // Telegram's DC address ranges (IPv4 and IPv6), as they may appear in a test.
    let telegram = [
        "149.154.",
        "91.108.",
        "95.161.",
        "2001:b28:",
        "2001:67c:4e8",
    ];
    let connecting = [
        "telegram::",
        "SenderPool",
        "tgsess_bin::",
        "Sandbox::start",
        "sandbox_options",
    ];
    let this = Path::new("tests/sandbox_isolation.rs");
    for (path, source) in suite_sources() {
        if path == this || !telegram.iter().any(|t| source.contains(t)) {
            continue;
        }
        for verb in connecting {
            assert!(
                !source.contains(verb),
                "{} holds a Telegram address and also connects ({verb}): keep the two apart",
                path.display()
            );
        }
    }
}
