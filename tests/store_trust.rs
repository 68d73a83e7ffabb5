//! The store as an attacker or a crash would find it (issue 9): hot journals and WAL files,
//! replacing and trashing SQLite sessions, temp files of killed writers, special files and
//! unbounded input, `list` never skipping, permissions, the lock folder and locks for every
//! writer. Every test runs the real binary or the library against copies of the fixtures.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::*;
use rusqlite::Connection;
use serde_json::Value;

/// A private home: sessions in `sessions/`, locks and scratch copies in `run/`.
struct Home {
    tmp: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        let home = Self {
            tmp: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir(home.sessions()).unwrap();
        home
    }
    fn sessions(&self) -> PathBuf {
        self.tmp.path().join("sessions")
    }
    fn run_dir(&self) -> PathBuf {
        self.tmp.path().join("run")
    }
    fn session(&self, name: &str) -> PathBuf {
        self.sessions().join(name)
    }
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = common::tgsess_bin::command();
        cmd.args(args)
            .env("TGSESS_DIR", self.sessions())
            .env("TGSESS_LOCK_DIR", self.run_dir())
            .env_remove("TGSESS_TEST_CRASH_AT")
            .stdin(Stdio::null());
        cmd
    }
    fn run(&self, args: &[&str]) -> Output {
        run_bounded(self.command(args))
    }
    /// Copies a fixture into the session folder.
    fn fixture(&self, fixture: &str, name: &str) -> PathBuf {
        let path = self.session(name);
        std::fs::copy(fixtures_dir().join(fixture), &path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }
}

/// Runs `cmd` and waits for it, failing the test (instead of hanging it) after 60 s.
fn run_bounded(mut cmd: Command) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_bounded(child, Duration::from_secs(60))
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

// ---------------------------------------------------------------------------------------------
// Children that die mid-write, as Telethon or a killed tgsess would.

const CHILD_ENV: &str = "TGSESS_TRUST_CHILD";

fn die() -> ! {
    // SAFETY: no preconditions; SIGKILL ends this process at once, like a crash.
    unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    unreachable!()
}

/// Child half of the journal tests: what the Python repro does. It changes the port and
/// inserts enough data that SQLite must write pages (the journal becomes hot), then dies.
#[test]
fn child_dies_mid_transaction() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (mode, path) = spec.split_once(':').unwrap();
    let conn = Connection::open(path).unwrap();
    if mode == "wal" {
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        // A committed change that lives only in the WAL...
        conn.execute("UPDATE sessions SET port = 2", []).unwrap();
    }
    conn.pragma_update(None, "cache_size", 1).unwrap();
    conn.execute_batch("BEGIN").unwrap();
    conn.execute("UPDATE sessions SET port = 1", []).unwrap();
    conn.execute(
        "INSERT INTO entities VALUES (5, 1, hex(randomblob(3000)), NULL, NULL, NULL)",
        [],
    )
    .unwrap();
    // ...and an uncommitted one, cut short.
    die();
}

fn kill_mid_transaction(mode: &str, path: &Path) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_dies_mid_transaction", "--nocapture"])
        .env(CHILD_ENV, format!("{mode}:{}", path.display()))
        .output()
        .unwrap();
    assert!(!out.status.success(), "the child must have been killed");
}

fn port_of(out: &Output) -> i64 {
    json(out)["port"].as_i64().unwrap()
}

#[test]
fn a_hot_journal_reads_as_the_committed_session_and_nothing_is_created() {
    let home = Home::new();
    let path = home.fixture("telethon_dc2_user.session", "a.session");
    kill_mid_transaction("journal", &path);
    let journal = home.session("a.session-journal");
    assert!(journal.exists(), "the repro must leave a hot journal");
    let before = snapshot(&home.sessions());
    let out = home.run(&["inspect", "--json", path.to_str().unwrap()]);
    assert_eq!(
        port_of(&out),
        443,
        "the committed port, never the uncommitted 1"
    );
    assert_eq!(json(&out)["auth_key_id_hex"], "32d1586ea457dfc8");
    let rows = json(&home.run(&["list", "--json"]));
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "a")
        .unwrap();
    assert_eq!(row["error"], Value::Null, "{row}");
    assert_eq!(row["port"], 443);
    // Reading created and changed nothing in the user's folder (the list cache aside).
    let after: Vec<_> = snapshot(&home.sessions())
        .into_iter()
        .filter(|(p, _)| !p.to_string_lossy().contains(".tgsess-list-cache"))
        .collect();
    assert_eq!(before, after);
}

#[test]
fn a_wal_session_reads_its_committed_frames_and_nothing_is_created() {
    let home = Home::new();
    let path = home.fixture("telethon_dc2_user.session", "w.session");
    kill_mid_transaction("wal", &path);
    assert!(home.session("w.session-wal").exists());
    // What a reader must never leave: a -shm it created (0644 on main).
    let _ = std::fs::remove_file(home.session("w.session-shm"));
    let before = snapshot(&home.sessions());
    let out = home.run(&["inspect", "--json", path.to_str().unwrap()]);
    assert_eq!(
        port_of(&out),
        2,
        "the committed WAL frame, not the torn one"
    );
    assert_eq!(before, snapshot(&home.sessions()));

    // A WAL-mode file without its -wal: read, and no -wal/-shm appears beside it.
    let lone = home.fixture("telethon_dc2_user.session", "lone.session");
    {
        let conn = Connection::open(&lone).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    }
    assert!(!home.session("lone.session-wal").exists());
    let out = home.run(&["inspect", "--json", lone.to_str().unwrap()]);
    assert_eq!(port_of(&out), 443);
    assert!(!home.session("lone.session-wal").exists());
    assert!(!home.session("lone.session-shm").exists());
}

#[test]
fn sqlite_on_stdin_is_read_in_memory() {
    let home = Home::new();
    let mut cmd = home.command(&["inspect", "--json", "-"]);
    cmd.stdin(std::fs::File::open(fixtures_dir().join("telethon_dc2_user.session")).unwrap());
    let out = run_bounded(cmd);
    assert_eq!(json(&out)["auth_key_id_hex"], "32d1586ea457dfc8");
}

/// Opens `path` as Telethon would (read-write, so SQLite replays any hot journal beside it).
fn open_like_telethon(path: &Path) -> (Option<i64>, Option<i64>, usize) {
    let conn = Connection::open(path).unwrap();
    let port = conn
        .query_row("SELECT port FROM sessions", [], |r| r.get(0))
        .unwrap();
    let user = conn
        .query_row("SELECT hash FROM entities WHERE id = 0", [], |r| r.get(0))
        .ok();
    let key_len = conn
        .query_row("SELECT length(auth_key) FROM sessions", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap() as usize;
    (port, user, key_len)
}

#[test]
fn replacing_a_session_with_a_hot_journal_never_mixes_the_two() {
    let home = Home::new();
    let path = home.fixture("telethon_dc2_user.session", "a.session");
    kill_mid_transaction("journal", &path);
    // Replace it by the DC 4 bot, as `convert --force` does.
    let src = fixtures_dir().join("telethon_dc4_bot.session");
    let out = home.run(&[
        "convert",
        src.to_str().unwrap(),
        "--to",
        "telethon-sqlite",
        "--force",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!home.session("a.session-journal").exists());
    // The next read-write opener sees exactly the new session.
    let (port, user, key_len) = open_like_telethon(&path);
    assert_eq!((port, user, key_len), (Some(443), Some(6543210987), 256));
    let back = tgsess::store::read_file(&path).unwrap();
    assert_eq!(back.session.dc_id, 4);
    assert_eq!(
        back.session.auth_key().unwrap().key_id_hex(),
        "d3cb378d22820bae"
    );
}

#[test]
fn rm_folds_the_journal_in_and_leaves_nothing_behind() {
    let home = Home::new();
    let path = home.fixture("telethon_dc2_user.session", "a.session");
    kill_mid_transaction("journal", &path);
    let out = home.run(&["rm", "a"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(names_in(&home.sessions()), vec![".trash".to_string()]);
    let trash = home.sessions().join(".trash");
    let trashed = names_in(&trash);
    assert_eq!(trashed.len(), 1, "{trashed:?}");
    let (port, user, _) = open_like_telethon(&trash.join(&trashed[0]));
    assert_eq!((port, user), (Some(443), Some(123456789)));
}

// ---------------------------------------------------------------------------------------------
// Temp files

#[test]
fn a_killed_write_leaves_one_unnested_temp_that_the_next_run_removes() {
    let home = Home::new();
    let src = fixtures_dir().join("telethon_dc4_bot.session");
    let target = home.fixture("telethon_dc2_user.session", "live.session");
    let mut cmd = home.command(&[
        "convert",
        src.to_str().unwrap(),
        "--to",
        "telethon-sqlite",
        "--force",
        "-o",
        target.to_str().unwrap(),
    ]);
    cmd.env("TGSESS_TEST_CRASH_AT", "before-rename");
    let out = run_bounded(cmd);
    assert!(!out.status.success(), "the writer must have been killed");
    let temps: Vec<String> = names_in(&home.sessions())
        .into_iter()
        .filter(|n| n.ends_with(".tmp") || n.contains(".tmp"))
        .collect();
    assert_eq!(temps.len(), 1, "{temps:?}");
    assert_eq!(temps[0].matches(".tmp").count(), 1, "not nested: {temps:?}");
    // The old session is intact, and the next run cleans the dead writer's temp file.
    assert_eq!(
        tgsess::store::read_file(&target)
            .unwrap()
            .session
            .auth_key()
            .unwrap()
            .key_id_hex(),
        "32d1586ea457dfc8"
    );
    let out = home.run(&["list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let left: Vec<String> = names_in(&home.sessions())
        .into_iter()
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

// ---------------------------------------------------------------------------------------------
// Special files and unbounded input

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn special_files_and_endless_input_are_refused_with_the_reason() {
    let home = Home::new();
    let fifo = home.session("pipe.session");
    mkfifo(&fifo);
    let out = home.run(&["inspect", fifo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("error:"), "{}", stderr(&out));
    assert!(stderr(&out).contains("FIFO"), "{}", stderr(&out));

    let mut cmd = home.command(&["inspect", "-"]);
    cmd.stdin(std::fs::File::open("/dev/zero").unwrap());
    let out = run_bounded(cmd);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("32 MiB"), "{}", stderr(&out));

    let out = home.run(&["inspect", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("character device"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn list_gives_every_special_entry_its_row_and_error() {
    let home = Home::new();
    home.fixture("telethon_dc2_user.session", "good.session");
    mkfifo(&home.session("fifo.session"));
    std::fs::create_dir(home.session("folder.session")).unwrap();
    std::os::unix::fs::symlink(home.session("gone"), home.session("dangling.string")).unwrap();
    std::os::unix::fs::symlink(home.session("loop2.session"), home.session("loop1.session"))
        .unwrap();
    std::os::unix::fs::symlink(home.session("loop1.session"), home.session("loop2.session"))
        .unwrap();
    std::os::unix::fs::symlink("/dev/null", home.session("device.string")).unwrap();
    let rows = json(&home.run(&["list", "--json"]));
    let by_name = |name: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} is missing from {rows}"))
            .clone()
    };
    assert_eq!(by_name("good")["error"], Value::Null);
    for (name, why) in [
        ("fifo", "FIFO"),
        ("folder", "folder"),
        ("dangling", "does not exist"),
        ("loop1", "loops"),
        ("loop2", "loops"),
        ("device", "character device"),
    ] {
        let error = by_name(name)["error"].as_str().unwrap_or("").to_string();
        assert!(error.contains(why), "{name}: {error}");
    }
    let text = stdout(&home.run(&["list"]));
    for name in ["fifo", "folder", "dangling", "loop1", "device"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(name) && l.contains("error:")),
            "{name} in:\n{text}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Permissions

#[test]
fn writing_a_key_closes_the_file_and_readers_warn_about_open_ones() {
    let home = Home::new();
    let path = home.fixture("telethon_dc2_user.session", "open.session");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = home.run(&["inspect", "--json", path.to_str().unwrap()]);
    assert_eq!(json(&out)["readable_by_others"], true);
    assert!(
        stderr(&out).contains("readable by other users"),
        "{}",
        stderr(&out)
    );
    let rows = json(&home.run(&["list", "--json"]));
    assert_eq!(rows[0]["readable_by_others"], true);
    assert!(stdout(&home.run(&["list"])).contains("readable by other users"));

    // An in-place write of a live key (what a login does) makes it 0600.
    let mut loaded = tgsess::store::read_file(&path).unwrap();
    loaded.session.dc_mut(2).auth_key = Some(tgsess::secret::AuthKey::new([7; 256]));
    tgsess::store::write_file(&path, &loaded.session, loaded.format).unwrap();
    assert_eq!(mode(&path), 0o600);
    let out = home.run(&["inspect", "--json", path.to_str().unwrap()]);
    assert_eq!(json(&out)["readable_by_others"], false);
    assert!(!stderr(&out).contains("readable"));
}

#[test]
fn a_hot_journal_others_can_read_is_closed_before_a_write() {
    let home = Home::new();
    let path = home.fixture("telethon_dc2_user.session", "a.session");
    kill_mid_transaction("journal", &path);
    let journal = home.session("a.session-journal");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&journal, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut loaded = tgsess::store::read_file(&path).unwrap();
    assert_eq!(loaded.session.home().unwrap().port, Some(443));
    loaded.session.dc_mut(2).auth_key = Some(tgsess::secret::AuthKey::new([7; 256]));
    tgsess::store::write_file(&path, &loaded.session, loaded.format).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert!(!journal.exists() || mode(&journal) == 0o600);
    let back = tgsess::store::read_file(&path).unwrap();
    assert_eq!(back.session.auth_key().unwrap().reveal(), &[7; 256]);
}

// ---------------------------------------------------------------------------------------------
// The lock folder and locks for every writer

#[test]
fn a_lock_folder_planted_by_someone_else_is_not_used() {
    let home = Home::new();
    home.fixture("telethon_dc2_user.session", "a.session");
    let tmp = home.tmp.path().join("shared-tmp");
    std::fs::create_dir(&tmp).unwrap();
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    // The planted folder: open to everyone, full of links to the victim's file.
    let planted = tmp.join(format!("tgsess-{uid}"));
    std::fs::create_dir(&planted).unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o777)).unwrap();
    let victim = home.tmp.path().join("victim.txt");
    std::fs::write(&victim, b"precious").unwrap();
    for i in 0..4 {
        std::os::unix::fs::symlink(&victim, planted.join(format!("link{i}"))).unwrap();
    }
    let state = home.tmp.path().join("state");
    let mut cmd = home.command(&["rm", "a"]);
    cmd.env_remove("TGSESS_LOCK_DIR")
        .env_remove("XDG_RUNTIME_DIR")
        .env("TMPDIR", &tmp)
        .env("XDG_STATE_HOME", &state)
        .env("HOME", home.tmp.path());
    let out = run_bounded(cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert_eq!(
        names_in(&planted).len(),
        4,
        "nothing created in the planted folder"
    );
    // The lock went to the user's own state folder instead, private.
    let fallback = state.join("tgsess/runtime");
    assert!(fallback.is_dir(), "fallback {fallback:?} missing");
    assert_eq!(mode(&fallback), 0o700);
}

#[test]
fn every_writer_takes_the_session_lock() {
    let home = Home::new();
    let path = home.fixture("telethon_dc2_user.session", "a.session");
    let before = std::fs::read(&path).unwrap();
    std::fs::create_dir_all(home.run_dir()).unwrap();
    std::fs::set_permissions(home.run_dir(), std::fs::Permissions::from_mode(0o700)).unwrap();
    // This process plays a running login holding the session.
    let _held = tgsess::telegram::lock::lock_session_file(&home.run_dir(), &path).unwrap();
    let ours = format!("in use by PID {}", std::process::id());
    let src = fixtures_dir().join("telethon_dc4_bot.session");
    for args in [
        vec!["rm", "a"],
        vec!["set-dc", "a", "2", "127.0.0.1", "443"],
        vec![
            "convert",
            src.to_str().unwrap(),
            "--to",
            "telethon-sqlite",
            "--force",
            "-o",
            path.to_str().unwrap(),
        ],
    ] {
        let out = home.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains(&ours), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // A clone to a name being written by someone else waits its turn too.
    let target = home.session("b.session");
    let _held_b = tgsess::telegram::lock::lock_session_file(&home.run_dir(), &target).unwrap();
    let out = home.run(&["clone", src.to_str().unwrap(), "b"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(&ours), "{}", stderr(&out));
    assert!(!target.exists());
    // So does a tdata folder being written by someone else.
    let folder = home.session("desk");
    let _held_desk = tgsess::telegram::lock::lock_session_file(&home.run_dir(), &folder).unwrap();
    let out = home.run(&[
        "convert",
        src.to_str().unwrap(),
        "--to",
        "tdata",
        "-o",
        folder.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains(&ours), "{}", stderr(&out));
    assert!(!folder.exists());
}

#[test]
fn a_session_behind_a_symlink_is_written_at_its_target() {
    let home = Home::new();
    let real = home.fixture("telethon_dc2_user.session", "real.session");
    let link = home.session("link.session");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let mut loaded = tgsess::store::read_file(&link).unwrap();
    loaded.session.dc_mut(2).auth_key = Some(tgsess::secret::AuthKey::new([9; 256]));
    tgsess::store::write_file(&link, &loaded.session, loaded.format).unwrap();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let back = tgsess::store::read_file(&real).unwrap();
    assert_eq!(back.session.auth_key().unwrap().reveal(), &[9; 256]);
}
