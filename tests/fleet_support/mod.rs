//! A fleet of sandbox sessions for the `check` tests and the fleet benchmark: accounts added
//! to a sandbox state, sessions logged in out of band (a provisioned key bound to the account,
//! as a finished login leaves it) and saved in every format, with the truth kept beside them.

#![allow(dead_code)]

// The crate that includes this module provides `tgsess_bin` at its root (its own `mod`, or the
// one of `ui_support`), so a crate with both supports loads that file once.
use crate::tgsess_bin;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tgsess::sandbox::state::State;
use tgsess::sandbox::{self, NewUser};
use tgsess::store::{self, Format, PyrogramStringLayout, Session};

/// Every format tgsess writes: the four families, SQLite and strings.
pub const FORMATS: [Format; 6] = [
    Format::TgsessSqlite,
    Format::TgsessString,
    Format::TelethonSqlite(7),
    Format::TelethonString,
    Format::PyrogramSqlite(7),
    Format::PyrogramString(PyrogramStringLayout::V2),
];

/// What a session's check must find.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub status: &'static str,
    pub user_id: Option<i64>,
    pub two_fa: Option<bool>,
    /// Filled in by [`Fleet::expected`] from the keys bound to the account.
    pub other_authorizations: Option<u32>,
}

pub struct Fleet {
    pub state_dir: PathBuf,
    /// The folder given with `--dir`.
    pub chosen_dir: PathBuf,
    /// Where the sessions are: `sandbox-sessions/` of the chosen folder, as sandbox mode
    /// lists it.
    pub dir: PathBuf,
    state: State,
    /// Per account: how many authorizations (distinct keys) it has.
    keys_of: HashMap<i64, u32>,
    bots: Vec<i64>,
    two_fa: Vec<i64>,
    /// Session name -> (status, account).
    pub sessions: Vec<(String, &'static str, Option<i64>)>,
}

impl Fleet {
    /// `state_dir` must have been served once (its DC ports recorded).
    pub fn new(state_dir: &Path, chosen_dir: &Path) -> Fleet {
        let dir = chosen_dir.join("sandbox-sessions");
        std::fs::create_dir_all(&dir).unwrap();
        Fleet {
            state_dir: state_dir.to_path_buf(),
            chosen_dir: chosen_dir.to_path_buf(),
            dir,
            state: State::open(state_dir).expect("the sandbox state opens"),
            keys_of: HashMap::new(),
            bots: Vec::new(),
            two_fa: Vec::new(),
            sessions: Vec::new(),
        }
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn add_user(&mut self, phone: &str, name: &str, password: Option<&str>) -> i64 {
        let mut user = NewUser::new(phone, name);
        if let Some(p) = password {
            user = user.with_password(p, None);
        }
        let id = sandbox::add_user_to(&self.state, &user).expect("the account is added");
        if password.is_some() {
            self.two_fa.push(id);
        }
        id
    }

    pub fn add_bot(&mut self, token: &str, name: &str) -> i64 {
        let id = sandbox::add_bot_to(&self.state, token, name, 2).expect("the bot is added");
        self.bots.push(id);
        id
    }

    pub fn path_of(&self, name: &str, format: Format) -> PathBuf {
        let ext = match format.backend() {
            store::BackendKind::Sqlite => "session",
            _ => "string",
        };
        self.dir.join(format!("{name}.{ext}"))
    }

    /// A session of `user_id` with a key of its own, logged in.
    pub fn logged_in(&mut self, user_id: i64, name: &str, format: Format) -> PathBuf {
        let dc = self
            .state
            .user(user_id)
            .unwrap()
            .expect("a known account")
            .dc_id;
        let mut session = sandbox::provision_session(&self.state_dir, dc).unwrap();
        let key_id = sandbox::crypto::key_id(session.auth_key().unwrap());
        self.state.bind_key(key_id, user_id).unwrap();
        session.user_id = Some(user_id);
        session.is_bot = Some(self.bots.contains(&user_id));
        *self.keys_of.entry(user_id).or_default() += 1;
        self.sessions
            .push((name.to_string(), "authorized", Some(user_id)));
        self.write(name, format, &session)
    }

    /// A session whose key Telegram does not know as logged in (401).
    pub fn logged_out(&mut self, name: &str, format: Format) -> PathBuf {
        let mut session = sandbox::provision_session(&self.state_dir, 2).unwrap();
        session.user_id = Some(1_000_000_001);
        session.is_bot = Some(false);
        self.sessions.push((name.to_string(), "logged_out", None));
        self.write(name, format, &session)
    }

    /// A copy of an existing session under another name (the same key: the same login).
    pub fn copy(&mut self, from: &str, name: &str, format: Format) -> PathBuf {
        let (_, status, user) = self
            .sessions
            .iter()
            .find(|(n, _, _)| n == from)
            .cloned()
            .expect("copy of a known session");
        let source = self.sessions_path(from).expect("the source session's file");
        let session = store::read_file(&source).unwrap().session;
        self.sessions.push((name.to_string(), status, user));
        self.write(name, format, &session)
    }

    /// A session without a key (what a logout leaves).
    pub fn keyless(&mut self, name: &str) -> PathBuf {
        let mut session = Session::new(2);
        session.user_id = Some(1_000_000_002);
        self.sessions.push((name.to_string(), "unchecked", None));
        self.write(name, Format::TgsessSqlite, &session)
    }

    /// A file that is no session at all.
    pub fn broken(&mut self, name: &str) -> PathBuf {
        let path = self.dir.join(format!("{name}.session"));
        std::fs::write(&path, b"SQLite format 3\0 but cut short").unwrap();
        self.sessions.push((name.to_string(), "error", None));
        path
    }

    /// Records a session made elsewhere (e.g. by `tgsess fork`).
    pub fn note(&mut self, name: &str, status: &'static str, user: Option<i64>, keys_added: u32) {
        if let Some(u) = user {
            *self.keys_of.entry(u).or_default() += keys_added;
        }
        self.sessions.push((name.to_string(), status, user));
    }

    fn sessions_path(&self, name: &str) -> Option<PathBuf> {
        FORMATS
            .iter()
            .map(|f| self.path_of(name, *f))
            .find(|p| p.is_file())
    }

    fn write(&self, name: &str, format: Format, session: &Session) -> PathBuf {
        let path = self.path_of(name, format);
        store::write_file(&path, session, format).expect("the session is written");
        path
    }

    /// What the check of `name` must find.
    pub fn expected(&self, name: &str) -> Expected {
        let (_, status, user) = self
            .sessions
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("{name} is not part of the fleet"));
        let authorized = *status == "authorized";
        let bot = user.is_some_and(|u| self.bots.contains(&u));
        Expected {
            status,
            user_id: if authorized { *user } else { None },
            two_fa: (authorized && !bot).then(|| user.is_some_and(|u| self.two_fa.contains(&u))),
            other_authorizations: (authorized && !bot)
                .then(|| self.keys_of.get(&user.unwrap()).copied().unwrap_or(1) - 1),
        }
    }
}

/// Every file of a folder with its bytes (to prove a run wrote nothing).
pub fn snapshot_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

/// `tgsess sandbox serve` on `state` (ephemeral ports), stopped (SIGTERM) when dropped.
pub struct Serve(std::process::Child);

impl Serve {
    pub fn start(state: &Path) -> Serve {
        use std::io::{BufRead, BufReader};
        let mut child = tgsess_bin::command()
            .args(["sandbox", "serve", "--state"])
            .arg(state)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("serve starts");
        // Ready once it prints where its state is (EOF if it died: then the test fails below).
        let stdout = child.stdout.take().unwrap();
        let ready = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|l| l.starts_with("state in "));
        assert!(ready, "sandbox serve did not start");
        Serve(child)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        // SAFETY: a signal to our own child by its pid.
        unsafe {
            libc::kill(self.0.id() as i32, libc::SIGTERM);
        }
        let _ = self.0.wait();
    }
}

/// A `tgsess` command with private lock, state and config folders (no real credentials).
pub fn tgsess(home: &Path) -> std::process::Command {
    let mut cmd = tgsess_bin::command();
    cmd.env("HOME", home)
        .env("TGSESS_LOCK_DIR", home.join("locks"))
        .env("TGSESS_STATE_DIR", home.join("state"))
        .env("TGSESS_CONFIG", home.join("config.toml"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env_remove("TGSESS_DIR")
        .env_remove("TG_API_ID")
        .env_remove("TG_API_HASH")
        .stdin(std::process::Stdio::null());
    cmd
}
