//! Shared by the UI tests: fixture sessions (with CJK and emoji names), and a harness that
//! drives the real `update` loop and effect runner against the scripted fake service.

#![allow(dead_code)]

pub mod fake;
pub mod pty;
#[path = "../tgsess_bin/mod.rs"]
pub mod tgsess_bin;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tempfile::TempDir;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use fake::{Fake, FakeService};
use tgsess::secret::AuthKey;
use tgsess::store::dir::SessionDir;
use tgsess::store::{Format, Loaded, PyrogramStringLayout, SelfUser, Session};
use tgsess::telegram::AccountService;
use tgsess::ui::account::SessionReader;
use tgsess::ui::effects::{Effect, Runner};
use tgsess::ui::keymap::Keymap;
use tgsess::ui::msg::Msg;
use tgsess::ui::state::{AppState, Mode, SessionRow};
use tgsess::ui::theme::{ColorDepth, Theme};
use tgsess::ui::update::update;
use tgsess::ui::view;

/// The fixed clock of the tests: 1000 s after start.
pub const T0: u64 = 1_000_000;

pub struct Person<'a> {
    pub dc: i32,
    pub id: i64,
    pub first: &'a str,
    pub last: Option<&'a str>,
    pub username: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub bot: bool,
    pub key: Option<u8>,
}

pub fn session(p: Person) -> Session {
    let mut s = Session::new(p.dc);
    let home = s.home_mut();
    home.ipv4 = Some(std::net::Ipv4Addr::new(149, 154, 167, 50 + p.dc as u8));
    home.port = Some(443);
    home.auth_key = p.key.map(|b| AuthKey::new([b; 256]));
    s.user_id = Some(p.id);
    s.is_bot = Some(p.bot);
    s.api_id = Some(611335);
    s.test_mode = Some(false);
    s.user = Some(SelfUser {
        first_name: Some(p.first.into()),
        last_name: p.last.map(Into::into),
        username: p.username.map(Into::into),
        phone: p.phone.map(Into::into),
    });
    s
}

fn file_row(name: &str, file: &str, format: Format, s: Session) -> SessionRow {
    let path = PathBuf::from(format!("/home/demo/.local/share/tgsess/{file}"));
    let mut row = SessionRow::from_file(name, path, Ok(Loaded { format, session: s }));
    row.backend = format.backend();
    row
}

/// Alice and Bob match the fake service's users (ids 1001 and 1002).
pub fn fixture_rows() -> Vec<SessionRow> {
    fixtures().into_iter().map(|(row, _)| row).collect()
}

/// The session of the fixture row `name` (rows keep no keys: this is what their file holds).
pub fn fixture_session(name: &str) -> Session {
    fixtures()
        .into_iter()
        .find(|(row, _)| row.name == name)
        .and_then(|(_, loaded)| loaded)
        .expect("a readable fixture row")
        .session
}

/// Serves the fixture rows' sessions from the paths they show (no such files exist), and
/// reads any other file (those the flows write into the harness's folder) from disk.
pub struct FixtureFiles(std::collections::HashMap<PathBuf, Loaded>);

impl FixtureFiles {
    pub fn new() -> FixtureFiles {
        FixtureFiles(
            fixtures()
                .into_iter()
                .filter_map(|(row, loaded)| Some((row.path?, loaded?)))
                .collect(),
        )
    }
}

impl SessionReader for FixtureFiles {
    fn read(&self, path: &std::path::Path) -> tgsess::store::Result<Loaded> {
        match self.0.get(path) {
            Some(loaded) => Ok(loaded.clone()),
            None => tgsess::store::read_file(path),
        }
    }
}

/// Each fixture row with the session it shows (`None`: unreadable).
fn fixtures() -> Vec<(SessionRow, Option<Loaded>)> {
    fixture_rows_with_sessions()
        .into_iter()
        .map(|(row, s)| {
            let format = row.format;
            (
                row,
                s.map(|session| Loaded {
                    format: format.unwrap(),
                    session,
                }),
            )
        })
        .collect()
}

fn fixture_rows_with_sessions() -> Vec<(SessionRow, Option<Session>)> {
    let alice = session(Person {
        dc: 2,
        id: 1001,
        first: "Alice",
        last: Some("Liddell"),
        username: Some("alice"),
        phone: Some("15550001"),
        bot: false,
        key: Some(0xa1),
    });
    let bob = session(Person {
        dc: 2,
        id: 1002,
        first: "Bob",
        last: None,
        username: Some("bob"),
        phone: Some("15550002"),
        bot: false,
        key: Some(0xb0),
    });
    let yamada = session(Person {
        dc: 5,
        id: 3003,
        first: "山田",
        last: Some("太郎"),
        username: Some("yamada"),
        phone: None,
        bot: false,
        key: Some(0x33),
    });
    let rocket = session(Person {
        dc: 4,
        id: 4004,
        first: "Rocket 🚀",
        last: None,
        username: None,
        phone: None,
        bot: false,
        key: Some(0x44),
    });
    let bot = session(Person {
        dc: 2,
        id: 9001,
        first: "Demo Bot",
        last: None,
        username: Some("demo_bot"),
        phone: None,
        bot: true,
        key: Some(0x90),
    });
    let old = session(Person {
        dc: 1,
        id: 7007,
        first: "Old",
        last: Some("Account"),
        username: None,
        phone: None,
        bot: false,
        key: None,
    });
    let carol = session(Person {
        dc: 2,
        id: 5005,
        first: "Carol",
        last: None,
        username: Some("carol"),
        phone: None,
        bot: false,
        key: Some(0xc0),
    });
    let file = |name: &str, file: &str, format: Format, s: Session| {
        (file_row(name, file, format, s.clone()), Some(s))
    };
    vec![
        file("alice", "alice.session", Format::TelethonSqlite(7), alice),
        file("bob", "bob.string", Format::TelethonString, bob),
        file(
            "日本語のアカウント",
            "日本語のアカウント.session",
            Format::TgsessSqlite,
            yamada,
        ),
        file(
            "🚀 rocket",
            "🚀 rocket.string",
            Format::PyrogramString(PyrogramStringLayout::V2),
            rocket,
        ),
        file(
            "helper-bot",
            "helper-bot.session",
            Format::PyrogramSqlite(7),
            bot,
        ),
        file("old", "old.session", Format::TelethonSqlite(8), old),
        (
            SessionRow::from_file(
                "broken",
                PathBuf::from("/home/demo/.local/share/tgsess/broken.session"),
                Err(
                    "broken.session: neither a SQLite session nor a session string (binary data)"
                        .into(),
                ),
            ),
            None,
        ),
        (SessionRow::memory("scratch", carol.clone()), Some(carol)),
    ]
}

pub fn mode() -> Mode {
    Mode {
        dir_label: "/home/demo/.local/share/tgsess".into(),
        demo_accounts: Vec::new(),
        sandbox: false,
        api_missing: None,
        banner: None,
    }
}

pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

pub fn ch(c: char) -> KeyEvent {
    let mods = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    KeyEvent::new(KeyCode::Char(c), mods)
}

pub fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

pub struct Harness {
    pub st: AppState,
    pub runner: Runner,
    pub rx: UnboundedReceiver<Msg>,
    pub fake: Arc<FakeService>,
    pub dir: TempDir,
    pub theme: Theme,
    /// Terminal-level effects (clipboard, quit) handed back by the runner.
    pub terminal_effects: Vec<Effect>,
}

impl Harness {
    /// The fixture rows in the list, writes going to a fresh temporary directory.
    pub fn new() -> Harness {
        let mut h = Harness::empty();
        h.st.set_rows(fixture_rows(), None);
        h
    }

    /// What `row`'s file (or memory session) holds now, as an action would read it.
    pub fn session_of(&self, row: &SessionRow) -> Session {
        if let Some(s) = row.memory_session() {
            return s.clone();
        }
        FixtureFiles::new()
            .read(row.path.as_ref().expect("a file row"))
            .expect("the row's session reads")
            .session
    }

    /// The readable fixture sessions written as real files in the directory, listed from it.
    pub fn on_disk() -> Harness {
        let mut h = Harness::empty();
        for (row, loaded) in fixtures() {
            let (Some(path), Some(loaded)) = (&row.path, loaded) else {
                continue;
            };
            let file = h.dir.path().join(path.file_name().unwrap());
            tgsess::store::write_file(&file, &loaded.session, loaded.format.writer()).unwrap();
        }
        let rows = tgsess::ui::effects::list_rows(&SessionDir::new(h.dir.path())).unwrap();
        h.st.set_rows(rows, None);
        h
    }

    pub fn empty() -> Harness {
        let (fake, _) = Fake::new();
        Harness::with_service(Arc::new(fake.clone()), fake.0)
    }

    /// An empty list whose network calls go to `service` (e.g. the sandbox-backed one).
    pub fn with_service(service: Arc<dyn AccountService>, fake: Arc<FakeService>) -> Harness {
        let inner = fake;
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = unbounded_channel();
        let mut runner = Runner::new(service, SessionDir::new(dir.path()), tx);
        // The fixture rows name files that do not exist: actions read their sessions here.
        runner.set_reader(Box::new(FixtureFiles::new()));
        let mut st = AppState::new(Keymap::default(), mode());
        st.loading = false;
        let mut h = Harness {
            st,
            runner,
            rx,
            fake: inner,
            dir,
            theme: Theme::default_theme(ColorDepth::Ansi16),
            terminal_effects: Vec::new(),
        };
        h.send(Msg::Tick(T0));
        h
    }

    pub fn send(&mut self, msg: Msg) {
        for e in update(&mut self.st, msg) {
            if let Some(t) = self.runner.run(e) {
                self.terminal_effects.push(t);
            }
        }
    }

    pub fn press(&mut self, ev: KeyEvent) {
        self.send(Msg::Key(ev));
    }

    pub fn type_str(&mut self, s: &str) {
        for c in s.chars() {
            self.press(ch(c));
        }
    }

    pub fn enter(&mut self) {
        self.press(key(KeyCode::Enter));
    }

    pub fn clock(&mut self, ms: u64) {
        self.send(Msg::Tick(ms));
    }

    /// Feeds results back until `pred` holds; fails after a generous deadline (debug-build
    /// crypto against the sandbox is slow on a loaded machine).
    pub async fn until(&mut self, what: &str, pred: impl Fn(&AppState) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !pred(&self.st) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(msg)) => self.send(msg),
                Ok(None) => panic!("the result channel closed while waiting for {what}"),
                Err(_) => panic!(
                    "timed out waiting for {what}; top pane: {:?}\n{}",
                    self.top(),
                    self.screen(100, 30)
                ),
            }
        }
    }

    /// Waits until the top pane is at `step`.
    pub async fn step(&mut self, step: &str) {
        let want = step.to_string();
        self.until(step, move |st| {
            st.modals.last().map(|m| m.step()) == Some(want.clone())
        })
        .await;
    }

    /// Waits until no pane is waiting for an answer (the spinner is gone).
    pub async fn idle(&mut self) {
        self.until("the pane to settle", |st| !st.animating_requests())
            .await;
    }

    pub fn top(&self) -> Option<String> {
        self.st.modals.last().map(|m| m.step())
    }

    pub fn terminal(&self, w: u16, h: u16) -> Terminal<TestBackend> {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| view::render(&self.st, &self.theme, f))
            .unwrap();
        term
    }

    /// The screen at `w`×`h` as text.
    pub fn screen(&self, w: u16, h: u16) -> String {
        let term = self.terminal(w, h);
        let buf = term.backend().buffer();
        let mut out = String::new();
        for y in 0..h {
            for x in 0..w {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    pub fn resize(&mut self, w: u16, h: u16) {
        self.send(Msg::Resize(w, h));
    }
}
