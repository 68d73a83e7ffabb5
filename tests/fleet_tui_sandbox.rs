//! Bulk actions in the TUI against the in-process sandbox (issue 12 acceptance): bulk logout
//! and bulk terminate-others on marked rows, with a flood wait on one account
//! (`Tuning::flood`): that row waits, shows its countdown and then finishes; the others do
//! not wait.

mod fleet_support;
mod ui_support;

use ui_support::tgsess_bin;

use std::sync::Arc;

use crossterm::event::KeyCode;
use fleet_support::Fleet;
use tgsess::sandbox::{self as sb, FloodScript, Sandbox, SandboxConfig, Tuning};
use tgsess::store::Format;
use tgsess::store::dir::SessionDir;
use tgsess::telegram::service::live::{FreshSession, LiveService};
use tgsess::telegram::{self, Account};
use tgsess::ui::fleet::RowProgress;
use tgsess::ui::state::Status;
use ui_support::*;

/// Above the 3 s that the connection sleeps through by itself, so the wait reaches the run.
const FLOOD_SECONDS: u32 = 5;

struct World {
    sandbox: Arc<Sandbox>,
    flood: FloodScript,
    home: tempfile::TempDir,
    fleet: Fleet,
}

async fn world() -> World {
    let flood = FloodScript::default();
    let config = SandboxConfig {
        state_dir: None,
        seed: false,
        base_port: 0,
    };
    let tuning = Tuning {
        flood: flood.clone(),
        ..Tuning::default()
    };
    let sandbox = Sandbox::start_tuned(config, tuning).await.unwrap();
    telegram::dial_guard::force_loopback_only();
    let home = tempfile::tempdir().unwrap();
    let fleet = Fleet::new(sandbox.state_dir(), &home.path().join("chosen"));
    World {
        sandbox: Arc::new(sandbox),
        flood,
        home,
        fleet,
    }
}

/// The TUI over the fleet's folder, its network calls going to the sandbox.
fn harness(w: &World) -> Harness {
    let state = w.sandbox.state_dir().to_path_buf();
    let fresh: FreshSession =
        Arc::new(move |dc, _| sb::provision_session(&state, dc).map_err(|e| e.to_string()));
    let mut options = tgsess::mode::sandbox_options(w.sandbox.state_dir());
    options.lock_dir = w.home.path().join("locks");
    let dcs = sb::dc_addresses(w.sandbox.state_dir()).ok();
    let service = LiveService::new(options, fresh, None).with_sandbox_dcs(dcs);
    let (_, fake) = ui_support::fake::Fake::new();
    let mut h = Harness::with_service(Arc::new(service), fake);
    // The TUI acts on copies in its own folder (its reloads list that folder); the fleet's
    // files keep the keys, to ask the sandbox afterwards which ones still work.
    for entry in std::fs::read_dir(&w.fleet.dir).unwrap() {
        let from = entry.unwrap().path();
        std::fs::copy(&from, h.dir.path().join(from.file_name().unwrap())).unwrap();
    }
    let rows = tgsess::ui::effects::list_rows(&SessionDir::new(h.dir.path())).unwrap();
    h.st.set_rows(rows, None);
    h
}

fn status(h: &Harness, name: &str) -> Status {
    let row = h.st.rows.iter().find(|r| r.name == name).unwrap();
    h.st.status(row)
}

fn key_of(h: &Harness, name: &str) -> String {
    h.st.rows.iter().find(|r| r.name == name).unwrap().key()
}

/// Whether the session `name` is still logged in, asked of the sandbox itself.
async fn alive(w: &World, name: &str) -> bool {
    let path = w.fleet.path_of(name, Format::TgsessSqlite);
    let session = tgsess::store::read_file(&path).unwrap().session;
    let mut options = tgsess::mode::sandbox_options(w.sandbox.state_dir());
    options.lock_dir = w.home.path().join("probe-locks");
    let service = LiveService::new(
        options,
        Arc::new(|_, _| Err("no new sessions here".to_string())),
        None,
    );
    use tgsess::telegram::AccountService;
    service
        .get_me(Account {
            name: name.into(),
            path: Some(path),
            session,
        })
        .await
        .is_ok()
}

/// Marks the rows named, opens `b`, picks the entry `downs` below the first, confirms.
async fn bulk(h: &mut Harness, names: &[&str], downs: usize) -> String {
    for name in names {
        let pos =
            h.st.view
                .iter()
                .position(|i| h.st.rows[*i].name == *name)
                .unwrap();
        h.st.selected = pos;
        h.press(ch(' '));
    }
    h.press(ch('b'));
    assert_eq!(h.top().as_deref(), Some("bulk/menu"));
    for _ in 0..downs {
        h.press(key(KeyCode::Down));
    }
    h.enter();
    assert_eq!(h.top().as_deref(), Some("bulk/confirm"));
    let confirm = h.screen(80, 24);
    h.press(ch('y'));
    assert!(h.st.fleet.run.is_some());
    confirm
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_logout_with_a_flood_wait_on_one_row() {
    let mut w = world().await;
    let alice = w.fleet.add_user("9996621001", "Alice", None);
    let bob = w.fleet.add_user("9996621002", "Bob", None);
    let carol = w.fleet.add_user("9996621003", "Carol", None);
    w.fleet.logged_in(alice, "alice", Format::TgsessSqlite);
    w.fleet.logged_in(bob, "bob", Format::TgsessSqlite);
    w.fleet.logged_in(carol, "carol", Format::TgsessSqlite);
    w.fleet.copy("carol", "carol-copy", Format::TgsessSqlite);
    let mut h = harness(&w);
    w.flood.arm(bob, FLOOD_SECONDS);

    let confirm = bulk(&mut h, &["alice", "bob", "carol"], 1).await;
    assert!(confirm.contains("Log out these 3 sessions?"), "{confirm}");
    for who in ["'alice'", "'bob'", "'carol'"] {
        assert!(confirm.contains(who), "{confirm}");
    }
    assert!(
        confirm.contains("'carol-copy' holds the same key"),
        "{confirm}"
    );

    let bob_key = key_of(&h, "bob");
    h.until("bob's flood wait", |st| {
        matches!(
            st.fleet.progress.get(&bob_key),
            Some(RowProgress::Waiting { .. })
        )
    })
    .await;
    let screen = h.screen(80, 24);
    let bob_line = screen.lines().find(|l| l.contains("bob")).unwrap();
    assert!(bob_line.contains("wait"), "{screen}");
    h.until("the run to end", |st| st.fleet.run.is_none()).await;

    let waited: Vec<String> = h.st.fleet.waited.iter().cloned().collect();
    assert_eq!(waited, [bob_key], "only the flooded row waited");
    for name in ["alice", "bob", "carol"] {
        assert_eq!(
            h.st.fleet.result_of(&key_of(&h, name)),
            Some("logged out"),
            "{name}"
        );
    }
    h.until("the reload", |st| st.reloading.is_none()).await;
    for name in ["alice", "bob", "carol", "carol-copy"] {
        assert_eq!(status(&h, name), Status::LoggedOut, "{name}");
    }
    assert!(!alive(&w, "carol-copy").await, "the shared key died");
    assert!(
        h.screen(80, 24).contains("log out: 3 of 3"),
        "{}",
        h.screen(80, 24)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_terminate_others_with_a_flood_wait_on_one_row() {
    let mut w = world().await;
    let dave = w.fleet.add_user("9996621004", "Dave", None);
    let erin = w.fleet.add_user("9996621005", "Erin", None);
    for (user, name) in [(dave, "dave"), (erin, "erin")] {
        w.fleet
            .logged_in(user, &format!("{name}-0"), Format::TgsessSqlite);
        w.fleet
            .logged_in(user, &format!("{name}-1"), Format::TgsessSqlite);
    }
    let mut h = harness(&w);
    w.flood.arm(erin, FLOOD_SECONDS);
    let confirm = bulk(&mut h, &["dave-0", "erin-0"], 2).await;
    assert!(
        confirm.contains("Terminate every other authorization of these 2 accounts?"),
        "{confirm}"
    );
    h.until("the run to end", |st| st.fleet.run.is_none()).await;
    let waited: Vec<String> = h.st.fleet.waited.iter().cloned().collect();
    assert_eq!(
        waited,
        [key_of(&h, "erin-0")],
        "only the flooded row waited"
    );
    for name in ["dave-0", "erin-0"] {
        assert_eq!(
            h.st.fleet.result_of(&key_of(&h, name)),
            Some("other authorizations terminated"),
            "{name}"
        );
        assert!(alive(&w, name).await, "{name} keeps its own authorization");
    }
    for name in ["dave-1", "erin-1"] {
        assert_eq!(status(&h, name), Status::LoggedOut, "{name}");
        assert!(!alive(&w, name).await, "{name} was terminated");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_devices_pane_names_the_accounts_other_local_sessions() {
    let mut w = world().await;
    let carol = w.fleet.add_user("9996621003", "Carol", None);
    w.fleet.logged_in(carol, "carol-0", Format::TgsessSqlite);
    w.fleet.logged_in(carol, "carol-1", Format::TgsessSqlite);
    let stranger = w.fleet.logged_in(carol, "stranger", Format::TgsessSqlite);
    let mut h = harness(&w);
    // A device not known here: the third key, whose file is gone from the TUI's folder.
    std::fs::remove_file(h.dir.path().join(stranger.file_name().unwrap())).unwrap();
    let rows = tgsess::ui::effects::list_rows(&SessionDir::new(h.dir.path())).unwrap();
    h.st.set_rows(rows, None);
    // The check learns each session's own authorization.
    h.press(ch('C'));
    h.until("the check", |st| st.fleet.run.is_none()).await;
    assert_eq!(status(&h, "carol-1"), Status::Authorized);
    assert_eq!(h.st.selected_row().unwrap().name, "carol-0");
    h.press(ch('a'));
    h.step("auths/list").await;
    let screen = h.screen(100, 30);
    assert!(screen.contains("(this session)"), "{screen}");
    assert!(screen.contains("(local: carol-1)"), "{screen}");
    assert_eq!(
        screen.matches("(local:").count(),
        1,
        "the stranger's device is not named: {screen}"
    );
}
