//! Every flow driven by keys through the real update loop, against the in-process sandbox DC
//! over the real account layer (`crate::telegram`): phone with 2FA, sign-up, bot, QR accepted
//! by a second client, 2FA edit, copy and fork clone, logout.

mod ui_support;

use std::sync::Arc;

use crossterm::event::KeyCode;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use tgsess::sandbox::{self as sb, Sandbox, SandboxConfig};
use tgsess::store::{self, Format};
use tgsess::telegram::service::live::{DemoScan, FreshSession, LiveService};
use tgsess::telegram::{self, ConnectOptions, Connection};
use tgsess::ui::state::Status;
use tgsess::ui::widgets::qr::read_back;
use ui_support::*;

struct World {
    sandbox: Arc<Sandbox>,
    options: ConnectOptions,
    _locks: tempfile::TempDir,
}

async fn world() -> World {
    world_tuned(sb::Tuning::default()).await
}

async fn world_tuned(tuning: sb::Tuning) -> World {
    let config = SandboxConfig {
        state_dir: None,
        seed: true,
        base_port: 0,
    };
    let sandbox = Sandbox::start_tuned(config, tuning).await.unwrap();
    let locks = tempfile::tempdir().unwrap();
    telegram::dial_guard::force_loopback_only();
    let mut options = tgsess::mode::sandbox_options(sandbox.state_dir());
    options.lock_dir = locks.path().to_path_buf();
    World {
        sandbox: Arc::new(sandbox),
        options,
        _locks: locks,
    }
}

fn harness(w: &World) -> Harness {
    let state = w.sandbox.state_dir().to_path_buf();
    let fresh: FreshSession =
        Arc::new(move |dc, _| sb::provision_session(&state, dc).map_err(|e| e.to_string()));
    // As with --sandbox: the first demo user scans QR codes when `s` is pressed.
    let sandbox = Arc::clone(&w.sandbox);
    let scan: DemoScan = Arc::new(move |url| {
        sandbox
            .accept_qr("9996621111", url)
            .map_err(|e| e.to_string())
    });
    let service = LiveService::new(w.options.clone(), fresh, Some(scan));
    let (_, fake) = ui_support::fake::Fake::new();
    Harness::with_service(Arc::new(service), fake)
}

async fn closed(h: &mut Harness) {
    h.until("the pane to close", |st| st.modals.is_empty())
        .await;
}

/// n, Enter (phone, tgsess SQLite, session-N), number, code.
async fn phone_login(h: &mut Harness, phone: &str, code: &str) {
    h.press(ch('n'));
    h.enter();
    h.type_str(phone);
    h.enter();
    h.step("phone/code").await;
    h.type_str(code);
    h.enter();
}

#[tokio::test]
async fn phone_login_with_2fa_against_the_sandbox() {
    let w = world().await;
    let mut h = harness(&w);
    phone_login(&mut h, "+9996622222", "22222").await;
    h.step("phone/password").await;
    assert!(h.screen(100, 30).contains("Hint: the usual"));
    h.type_str("wrong");
    h.enter();
    h.idle().await;
    assert!(h.screen(100, 30).contains("error: wrong password"));
    for _ in 0..5 {
        h.press(key(KeyCode::Backspace));
    }
    h.type_str("sandbox");
    h.enter();
    closed(&mut h).await;
    let row = h.st.selected_row().unwrap().clone();
    assert_eq!(row.name, "session-1");
    assert_eq!(h.st.status(&row), Status::Authorized);
    // The saved file is a working login: a second connection finds the account.
    let conn = Connection::open_file(row.path.as_ref().unwrap(), &w.options).unwrap();
    let me = telegram::whoami(&conn).await.unwrap();
    assert_eq!(me.first_name.as_deref(), Some("Bob"));
    assert_eq!(row.user_id(), Some(me.user_id));
}

#[tokio::test]
async fn sign_up_and_bot_against_the_sandbox() {
    let w = world().await;
    let mut h = harness(&w);
    phone_login(&mut h, "+9996627777", "22222").await;
    h.step("phone/sign_up").await;
    h.type_str("Erin");
    h.press(key(KeyCode::Tab));
    h.type_str("New");
    h.enter();
    closed(&mut h).await;
    let row = h.st.selected_row().unwrap();
    assert_eq!(h.st.account_label(row).as_deref(), Some("Erin New"));

    h.press(ch('n'));
    h.press(key(KeyCode::Right));
    h.enter();
    h.type_str("123456:SANDBOX-demo-bot-token");
    h.enter();
    closed(&mut h).await;
    let row = h.st.selected_row().unwrap();
    assert_eq!(h.st.kind_label(row), "bot");
    assert_eq!(
        store::read_file(row.path.as_ref().unwrap()).unwrap().format,
        Format::TgsessSqlite
    );
}

/// Finds the drawn QR code (white quiet zone) and decodes it.
fn decode_screen(buf: &Buffer) -> String {
    let white: Vec<(u16, u16)> = buf
        .content
        .iter()
        .enumerate()
        .filter(|(_, c)| c.bg == Color::White)
        .map(|(i, _)| {
            (
                (i % buf.area.width as usize) as u16,
                (i / buf.area.width as usize) as u16,
            )
        })
        .collect();
    let x0 = white
        .iter()
        .map(|p| p.0)
        .min()
        .expect("a QR code on screen");
    let y0 = white.iter().map(|p| p.1).min().unwrap();
    let padded = white.iter().filter(|p| p.1 == y0).count();
    let grid = read_back(buf, (x0, y0), padded, false);
    let side = padded * 4;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
        if grid[y / 4][x / 4] { 0 } else { 255 }
    });
    let grids = img.detect_grids();
    grids[0].decode().expect("decodes").1
}

#[tokio::test]
async fn qr_login_accepted_by_a_second_client() {
    let w = world().await;
    let mut h = harness(&w);
    // Alice (DC 2, code 22222) logs in by phone first: she will scan the code.
    phone_login(&mut h, "+9996621111", "22222").await;
    closed(&mut h).await;
    let alice_path = h.st.selected_row().unwrap().path.clone().unwrap();
    let alice = Connection::open_file(&alice_path, &w.options).unwrap();

    h.press(ch('n'));
    h.press(key(KeyCode::Left));
    h.enter();
    h.step("qr/showing").await;
    let url = decode_screen(h.terminal(120, 40).backend().buffer());
    assert!(url.starts_with("tg://login?token="), "{url}");
    telegram::accept_login_url(&alice, &url).await.unwrap();
    closed(&mut h).await;
    let row = h.st.selected_row().unwrap();
    assert_eq!(row.name, "session-2");
    assert_eq!(h.st.account_label(row).as_deref(), Some("Alice Sandbox"));
}

#[tokio::test]
async fn two_fa_clone_fork_and_logout_against_the_sandbox() {
    let w = world().await;
    let mut h = harness(&w);
    phone_login(&mut h, "+9996621111", "22222").await;
    closed(&mut h).await;

    // Turn on 2FA.
    h.press(ch('p'));
    h.step("2fa/menu").await;
    h.enter();
    h.type_str("pw1");
    h.press(key(KeyCode::Tab));
    h.type_str("pw1");
    h.press(key(KeyCode::Tab));
    h.type_str("my hint");
    h.enter();
    closed(&mut h).await;
    h.press(ch('p'));
    h.step("2fa/menu").await;
    assert!(
        h.screen(120, 40)
            .contains("Two-step verification: on (hint: my hint)")
    );
    h.press(key(KeyCode::Esc));

    // Copy shares the key; fork gets a new one.
    let key_of = |h: &Harness, name: &str| {
        let row = h.st.rows.iter().find(|r| r.name == name).unwrap();
        h.session_of(row).auth_key().unwrap().key_id_hex()
    };
    h.press(ch('c'));
    h.enter();
    closed(&mut h).await;
    assert_eq!(key_of(&h, "session-1-copy"), key_of(&h, "session-1"));
    h.press(ch('g'));
    h.press(ch('c'));
    h.press(key(KeyCode::Right));
    h.enter();
    // The new login needs the 2FA password just set.
    h.step("clone/fork_password").await;
    assert!(h.screen(120, 40).contains("Hint: my hint"));
    h.type_str("pw1");
    h.enter();
    closed(&mut h).await;
    assert_ne!(key_of(&h, "session-1-copy2"), key_of(&h, "session-1"));
    let fork =
        h.st.rows
            .iter()
            .find(|r| r.name == "session-1-copy2")
            .unwrap();
    let conn = Connection::open_file(fork.path.as_ref().unwrap(), &w.options).unwrap();
    assert_eq!(
        telegram::whoami(&conn).await.unwrap().first_name.as_deref(),
        Some("Alice")
    );
    drop(conn);

    // Log out the original: its status changes, and the copy (same key) is dead too.
    h.press(ch('g'));
    h.press(ch('L'));
    h.press(ch('y'));
    closed(&mut h).await;
    let row = h.st.rows.iter().find(|r| r.name == "session-1").unwrap();
    assert_eq!(h.st.status(row), Status::LoggedOut);
}

#[tokio::test]
async fn the_demo_phone_scans_the_qr_code() {
    let w = world().await;
    let mut h = harness(&w);
    h.press(ch('n'));
    h.press(key(KeyCode::Left));
    h.enter();
    h.step("qr/showing").await;
    h.press(ch('s'));
    closed(&mut h).await;
    let row = h.st.selected_row().unwrap();
    assert_eq!(h.st.account_label(row).as_deref(), Some("Alice Sandbox"));
    assert_eq!(h.st.status(row), Status::Authorized);
}

#[tokio::test]
async fn a_sandbox_flood_wait_counts_down_in_the_pane() {
    // One code request per number per window: the second one gets FLOOD_WAIT.
    let w = world_tuned(sb::Tuning {
        max_code_requests: 1,
        ..sb::Tuning::default()
    })
    .await;
    let mut h = harness(&w);
    h.press(ch('n'));
    h.enter();
    h.type_str("+9996621111");
    h.enter();
    h.step("phone/code").await;
    h.press(key(KeyCode::Esc));
    h.press(ch('n'));
    h.enter();
    h.type_str("+9996621111");
    h.enter();
    h.idle().await;
    let screen = h.screen(100, 30);
    let (_, after) = screen
        .split_once("error: flood wait: retry in ")
        .unwrap_or_else(|| panic!("no countdown:\n{screen}"));
    let secs: u64 = after.split(' ').next().unwrap().parse().unwrap();
    assert!(secs > 10, "{secs}");
    h.clock(T0 + 5_000);
    let later = format!("retry in {} s", secs - 5);
    assert!(h.screen(100, 30).contains(&later), "{}", h.screen(100, 30));
}

#[tokio::test]
async fn export_then_import_gives_a_working_session() {
    let w = world().await;
    let mut h = harness(&w);
    phone_login(&mut h, "+9996621111", "22222").await;
    closed(&mut h).await;
    // Export as a Telethon string and copy it (OSC 52 effect).
    h.press(ch('e'));
    h.press(key(KeyCode::Right));
    h.press(ch('y'));
    h.step("export/shown").await;
    h.press(ch('c'));
    let Some(tgsess::ui::effects::Effect::Clipboard(text)) = h.terminal_effects.pop() else {
        panic!("no clipboard effect");
    };
    h.press(key(KeyCode::Esc));
    // Import it back under a new name; the detected format shows before saving.
    h.press(ch('i'));
    h.send(tgsess::ui::msg::Msg::Paste(text.reveal().to_string()));
    h.enter();
    h.step("import/review").await;
    assert!(h.screen(100, 30).contains("Detected: telethon-string"));
    h.enter();
    closed(&mut h).await;
    assert_eq!(h.st.selected_row().unwrap().name, "imported-1");
    // R checks the imported session against the sandbox.
    h.press(ch('R'));
    h.until("the check", |st| {
        st.notice
            .as_ref()
            .is_some_and(|n| n.text.starts_with("authorized as"))
    })
    .await;
    let row = h.st.selected_row().unwrap();
    assert_eq!(h.st.status(row), Status::Authorized);
}
