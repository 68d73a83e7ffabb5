//! One session-folder rule for sandbox mode: sessions live in `sandbox-sessions/` under the
//! chosen folder (`--dir`, `TGSESS_DIR` or the default, all alike), and every command sees
//! what the one before it wrote. README's own example runs exactly as printed.

mod tgsess_bin;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tgsess::sandbox::{Sandbox, SandboxConfig};

struct Home(tempfile::TempDir);

impl Home {
    fn new() -> Home {
        Home(tempfile::tempdir().unwrap())
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    /// The default data folder (`$HOME/.local/share/tgsess` on Linux).
    fn default_root(&self) -> PathBuf {
        self.path().join(".local/share/tgsess")
    }

    /// A private environment: no config, no credentials, no TGSESS_DIR unless given.
    fn isolate<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        cmd.env("HOME", self.path())
            .env("XDG_DATA_HOME", self.path().join(".local/share"))
            .env("TGSESS_CONFIG", self.path().join("no-config.toml"))
            .env("TGSESS_LOCK_DIR", self.path().join("locks"))
            .env_remove("TGSESS_DIR")
            .env_remove("TG_API_ID")
            .env_remove("TG_API_HASH")
    }

    fn tgsess(&self, args: &[&str], tgsess_dir: Option<&Path>, input: &str) -> Output {
        let mut cmd = tgsess_bin::command();
        self.isolate(&mut cmd).args(args);
        if let Some(dir) = tgsess_dir {
            cmd.env("TGSESS_DIR", dir);
        }
        run(cmd, input)
    }
}

fn run(mut cmd: Command, input: &str) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The shell lines of README's "Logging in and out" example.
fn readme_example() -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("## Logging in and out")
        .nth(1)
        .expect("README has its login section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the section has a shell example");
    block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_readme_sandbox_example_works_as_printed() {
    let home = Home::new();
    let lines = readme_example();
    assert!(
        lines.iter().any(|l| l.contains("login phone bob")),
        "{lines:?}"
    );
    let path = format!(
        "{}:{}",
        tgsess_bin::bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut outputs = Vec::new();
    for line in &lines {
        let mut sh = Command::new("sh");
        sh.args(["-c", line])
            .env("PATH", &path)
            .env(tgsess_bin::LOOPBACK_ONLY.0, tgsess_bin::LOOPBACK_ONLY.1);
        home.isolate(&mut sh);
        outputs.push(ok(run(sh, ""), line));
    }
    let whoami = lines.iter().position(|l| l.contains("whoami bob")).unwrap();
    let me: serde_json::Value = serde_json::from_str(&outputs[whoami]).unwrap();
    assert_eq!(me["first_name"], "Bob", "{}", outputs[whoami]);
    let list = lines
        .iter()
        .position(|l| l.ends_with("--sandbox list"))
        .unwrap();
    assert!(outputs[list].contains("bob"), "{}", outputs[list]);
    assert!(
        home.default_root()
            .join("sandbox-sessions/bob.session")
            .is_file()
    );
}

#[test]
fn flag_env_and_default_folder_follow_one_sandbox_rule() {
    let home = Home::new();
    let chosen = home.path().join("chosen");
    let chosen_arg = chosen.to_str().unwrap();
    // Log in with the folder given as a flag...
    ok(
        home.tgsess(
            &[
                "--dir",
                chosen_arg,
                "--sandbox",
                "login",
                "phone",
                "alice",
                "--phone",
                "9996621111",
            ],
            None,
            "22222\n",
        ),
        "login --dir",
    );
    let saved = chosen.join("sandbox-sessions/alice.session");
    assert!(saved.is_file());
    assert!(chosen.join("sandbox-state").is_dir());
    assert!(!chosen.join("alice.session").exists());
    // ...and every later command finds it, with the folder as a flag or in TGSESS_DIR.
    for (args, env) in [
        (vec!["--dir", chosen_arg, "--sandbox"], None),
        (vec!["--sandbox"], Some(chosen.as_path())),
    ] {
        let with = |rest: &[&'static str]| -> Vec<&str> { [args.as_slice(), rest].concat() };
        let list = ok(home.tgsess(&with(&["list", "--json"]), env, ""), "list");
        let rows: serde_json::Value = serde_json::from_str(&list).unwrap();
        assert_eq!(rows.as_array().unwrap().len(), 1, "{list}");
        assert_eq!(rows[0]["name"], "alice");
        let inspect = ok(
            home.tgsess(&with(&["inspect", "alice", "--json"]), env, ""),
            "inspect",
        );
        assert!(inspect.contains("\"user_id\""), "{inspect}");
        let me = ok(
            home.tgsess(&with(&["whoami", "alice", "--json"]), env, ""),
            "whoami",
        );
        assert!(me.contains("\"Alice\""), "{me}");
    }
    // Outside sandbox mode the same folder shows no sandbox session.
    let plain = ok(
        home.tgsess(&["--dir", chosen_arg, "list", "--json"], None, ""),
        "list",
    );
    assert_eq!(plain.trim(), "[]");
    // The admin commands' default state is the one `--sandbox` used.
    let outbox = ok(
        home.tgsess(&["sandbox", "outbox", "--json"], Some(&chosen), ""),
        "outbox",
    );
    assert!(outbox.contains("9996621111"), "{outbox}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_with_sandbox_state_sees_what_login_with_it_wrote() {
    let home = Home::new();
    let state = home.path().join("state");
    let sandbox = Sandbox::start(SandboxConfig {
        state_dir: Some(state.clone()),
        seed: true,
        base_port: 0,
    })
    .await
    .unwrap();
    let state_arg = state.to_str().unwrap().to_string();
    let root = home.default_root();
    tokio::task::spawn_blocking(move || {
        let s = ["--sandbox-state", state_arg.as_str()];
        let with = |rest: &[&'static str]| -> Vec<&str> { [s.as_slice(), rest].concat() };
        ok(
            home.tgsess(
                &with(&[
                    "login",
                    "phone",
                    "dave",
                    "--phone",
                    "9996611111",
                    "--format",
                    "pyrogram-string",
                ]),
                None,
                "11111\n",
            ),
            "login",
        );
        assert!(root.join("sandbox-sessions/dave.string").is_file());
        let list = ok(home.tgsess(&with(&["list"]), None, ""), "list");
        assert!(list.contains("dave"), "{list}");
        let me = ok(home.tgsess(&with(&["whoami", "dave"]), None, ""), "whoami");
        assert!(me.contains("Dave"), "{me}");
    })
    .await
    .unwrap();
    sandbox.stop().await;
}
