//! Every flow driven by keys through the real update loop and effect runner, against the
//! scripted fake service, writing real session files to a temporary directory.

mod ui_support;

use std::time::Duration;

use crossterm::event::KeyCode;
use tgsess::store::{self, Format};
use tgsess::telegram::TgError;
use tgsess::ui::effects::Effect;
use tgsess::ui::msg::Msg;
use tgsess::ui::state::Status;
use ui_support::*;

/// Waits until the fake has recorded `call` (aborts happen on the runtime's own time).
async fn until_call(h: &Harness, call: &str) {
    let found = tokio::time::timeout(Duration::from_secs(5), async {
        while !h.fake.calls().iter().any(|c| c == call) {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(found.is_ok(), "no '{call}' in {:?}", h.fake.calls());
}

fn selected_name(h: &Harness) -> String {
    h.st.selected_row()
        .map(|r| r.name.clone())
        .unwrap_or_default()
}

async fn closed(h: &mut Harness) {
    h.until("the pane to close", |st| st.modals.is_empty())
        .await;
}

#[tokio::test]
async fn phone_login_with_2fa_is_saved_and_selected() {
    let mut h = Harness::new();
    h.press(ch('n'));
    h.enter(); // phone, tgsess SQLite, "session-1"
    assert_eq!(h.top().as_deref(), Some("phone/phone"));
    h.type_str("+1 555 0002");
    h.enter();
    h.step("phone/code").await;
    assert!(
        h.screen(100, 30)
            .contains("Code sent in your other Telegram app")
    );
    h.type_str("12345");
    h.enter();
    h.step("phone/password").await;
    assert!(h.screen(100, 30).contains("Hint: the usual"));
    h.type_str("badpass");
    h.enter();
    h.idle().await;
    let screen = h.screen(100, 30);
    assert!(screen.contains("error: wrong password"), "{screen}");
    assert!(screen.contains("•••••••"), "typed input is kept, masked");
    assert!(!screen.contains("badpass"), "{screen}");
    for _ in 0..7 {
        h.press(key(KeyCode::Backspace));
    }
    h.type_str("hunter2");
    h.enter();
    closed(&mut h).await;

    assert_eq!(selected_name(&h), "session-1");
    let path = h.dir.path().join("session-1.session");
    let loaded = store::read_file(&path).unwrap();
    assert_eq!(loaded.format, Format::TgsessSqlite);
    assert_eq!(loaded.session.user_id, Some(1002));
    let row = h.st.selected_row().unwrap();
    assert_eq!(h.st.status(row), Status::Authorized);
    assert!(h.screen(100, 30).contains("saved 'session-1'"));
    assert!(h.fake.calls().contains(&"end".to_string()));
}

#[tokio::test]
async fn an_unknown_number_signs_up() {
    let mut h = Harness::new();
    h.press(ch('n'));
    h.enter();
    h.type_str("+15559999");
    h.enter();
    h.step("phone/code").await;
    h.type_str("12345");
    h.enter();
    h.step("phone/sign_up").await;
    h.type_str("Dana");
    h.press(key(KeyCode::Tab));
    h.type_str("Scully");
    h.enter();
    closed(&mut h).await;
    let row = h.st.selected_row().unwrap();
    assert_eq!(row.account().as_deref(), Some("Dana Scully"));
    assert!(row.user_id().unwrap() > 2000);
}

#[tokio::test]
async fn bot_login_into_a_telethon_string() {
    let mut h = Harness::new();
    h.press(ch('n'));
    h.press(key(KeyCode::Right)); // bot
    h.press(key(KeyCode::Down));
    for _ in 0..3 {
        h.press(key(KeyCode::Right)); // tgsess sqlite -> tgsess string -> telethon sqlite -> telethon string
    }
    h.press(key(KeyCode::Down));
    for _ in 0..9 {
        h.press(key(KeyCode::Backspace));
    }
    h.type_str("mybot");
    h.enter();
    assert_eq!(h.top().as_deref(), Some("bot/token"));
    h.type_str("123:ABC");
    h.enter();
    closed(&mut h).await;
    let loaded = store::read_file(&h.dir.path().join("mybot.string")).unwrap();
    assert_eq!(loaded.format, Format::TelethonString);
    assert_eq!(selected_name(&h), "mybot");
    // Telethon strings carry no bot flag, so the kind is unknown; the name comes from the login.
    let row = h.st.selected_row().unwrap();
    assert_eq!(row.account(), None);
    assert_eq!(h.st.account_label(row).as_deref(), Some("Demo Bot"));
    assert_eq!(h.st.kind_label(row), "bot");
}

#[tokio::test]
async fn qr_login_scanned_by_a_second_client_then_2fa() {
    let mut h = Harness::new();
    h.press(ch('n'));
    h.press(key(KeyCode::Left));
    h.enter();
    h.step("qr/showing").await;
    // The demo phone (the fake's Bob, who has a password) scans the code.
    h.press(ch('s'));
    h.step("qr/password").await;
    h.type_str("hunter2");
    h.enter();
    closed(&mut h).await;
    assert_eq!(h.st.selected_row().unwrap().user_id(), Some(1002));
    assert!(h.fake.calls().contains(&"demo_scan".to_string()));
}

#[tokio::test]
async fn memory_sessions_are_listed_and_quitting_warns() {
    let mut h = Harness::empty();
    h.press(ch('n'));
    h.press(key(KeyCode::Down));
    h.press(key(KeyCode::Left)); // wraps to memory
    h.enter();
    h.type_str("+15550001");
    h.enter();
    h.step("phone/code").await;
    h.type_str("12345");
    h.enter();
    closed(&mut h).await;
    let row = h.st.selected_row().unwrap();
    assert_eq!(row.format, Some(Format::Memory));
    assert_eq!(
        std::fs::read_dir(h.dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
    h.press(ch('q'));
    assert_eq!(h.top().as_deref(), Some("quit/confirm"));
    assert!(!h.st.quit);
    h.press(ch('y'));
    assert!(h.st.quit);
    assert!(matches!(h.terminal_effects.last(), Some(Effect::Quit)));
}

#[tokio::test]
async fn two_fa_enable_with_recovery_email_then_change_and_disable() {
    let mut h = Harness::new();
    h.press(ch('p')); // alice: no password yet
    h.step("2fa/menu").await;
    h.enter();
    h.type_str("s3cret");
    h.press(key(KeyCode::Tab));
    h.type_str("s3creT");
    h.press(key(KeyCode::Tab));
    h.type_str("usual");
    h.press(key(KeyCode::Tab));
    h.type_str("alice@example.com");
    h.enter();
    assert!(
        h.screen(100, 30)
            .contains("error: the two new passwords differ")
    );
    h.press(key(KeyCode::Up));
    h.press(key(KeyCode::Up));
    h.press(key(KeyCode::Backspace));
    h.type_str("t");
    h.enter();
    h.step("2fa/email_code").await;
    h.type_str("000000");
    h.enter();
    h.idle().await;
    assert!(h.screen(100, 30).contains("error: wrong email code"));
    for _ in 0..6 {
        h.press(key(KeyCode::Backspace));
    }
    h.type_str("777777");
    h.enter();
    closed(&mut h).await;
    assert_eq!(h.fake.user_password("+15550001").as_deref(), Some("s3cret"));

    // Change it.
    h.press(ch('p'));
    h.step("2fa/menu").await;
    assert!(
        h.screen(100, 30)
            .contains("Two-step verification: on (hint: usual)")
    );
    h.enter();
    h.type_str("s3cret");
    h.press(key(KeyCode::Tab));
    h.type_str("n3w");
    h.press(key(KeyCode::Tab));
    h.type_str("n3w");
    h.enter();
    closed(&mut h).await;
    assert_eq!(h.fake.user_password("+15550001").as_deref(), Some("n3w"));

    // Disable it: a confirmation names the account first.
    h.press(ch('p'));
    h.step("2fa/menu").await;
    h.press(key(KeyCode::Down));
    h.press(key(KeyCode::Down));
    h.enter();
    h.type_str("n3w");
    h.enter();
    assert_eq!(h.top().as_deref(), Some("2fa/confirm_disable"));
    assert!(
        h.screen(120, 40)
            .contains("Turn off two-step verification for Alice Liddell")
    );
    h.press(ch('y'));
    closed(&mut h).await;
    assert_eq!(h.fake.user_password("+15550001"), None);
}

#[tokio::test]
async fn copy_clone_shares_the_key_and_fork_gets_a_new_one() {
    let mut h = Harness::new();
    let alice_key = h
        .session_of(h.st.selected_row().unwrap())
        .auth_key()
        .unwrap()
        .key_id_hex();
    h.press(ch('c'));
    assert!(h.screen(100, 30).contains("shares the auth key"));
    h.press(key(KeyCode::Down));
    for _ in 0..10 {
        h.press(key(KeyCode::Backspace));
    }
    h.type_str("bob");
    h.enter();
    assert!(
        h.screen(100, 30)
            .contains("a session named 'bob' already exists")
    );
    for _ in 0..3 {
        h.press(key(KeyCode::Backspace));
    }
    h.type_str("alice-copy");
    h.enter();
    closed(&mut h).await;
    // Same family as the source: Telethon SQLite.
    let copy = store::read_file(&h.dir.path().join("alice-copy.session")).unwrap();
    assert_eq!(copy.format, Format::TelethonSqlite(7));
    assert_eq!(copy.session.auth_key().unwrap().key_id_hex(), alice_key);
    assert_eq!(selected_name(&h), "alice-copy");

    // Fork the original.
    h.press(ch('g'));
    h.press(ch('c'));
    h.press(key(KeyCode::Right));
    assert_eq!(h.top().as_deref(), Some("clone/fork"));
    h.enter();
    closed(&mut h).await;
    let fork = store::read_file(&h.dir.path().join("alice-copy2.session")).unwrap();
    assert_ne!(fork.session.auth_key().unwrap().key_id_hex(), alice_key);
    assert!(h.fake.calls().contains(&"fork".to_string()));
}

#[tokio::test]
async fn logout_after_confirmation_updates_the_status() {
    let mut h = Harness::on_disk();
    assert_eq!(selected_name(&h), "alice");
    h.press(ch('L'));
    // Telethon SQLite keeps no names, so the confirmation names the session.
    let screen = h.screen(100, 30);
    assert!(
        screen.contains("Log out id 1001 in session 'alice'?"),
        "{screen}"
    );
    h.press(ch('n'));
    assert!(h.st.modals.is_empty());
    assert!(!h.fake.calls().contains(&"log_out".to_string()));
    h.press(ch('L'));
    h.press(ch('y'));
    closed(&mut h).await;
    // The list is read again from the folder; what was learned stays.
    h.until("the reload", |st| !st.loading && st.rows.len() == 6)
        .await;
    let row = h.st.selected_row().unwrap();
    assert_eq!(row.name, "alice");
    assert_eq!(h.st.status(row), Status::LoggedOut);
    assert!(
        h.screen(100, 30)
            .contains("logged out: id 1001 in session 'alice'")
    );
}

#[tokio::test]
async fn import_a_pasted_string_and_a_file() {
    let mut h = Harness::new();
    let source = fixture_session("alice");
    let text = store::encode_string(&source, Format::TelethonString).unwrap();
    h.press(ch('i'));
    h.send(Msg::Paste(text.clone()));
    let screen = h.screen(100, 30);
    assert!(!screen.contains(&text[..20]), "the pasted string is masked");
    h.enter();
    h.step("import/review").await;
    let screen = h.screen(100, 30);
    assert!(
        screen.contains("Detected: telethon-string · DC 2"),
        "{screen}"
    );
    h.enter();
    closed(&mut h).await;
    let imported = store::read_file(&h.dir.path().join("imported-1.string")).unwrap();
    assert_eq!(imported.session.auth_key(), source.auth_key());
    assert_eq!(selected_name(&h), "imported-1");

    // From a file path.
    let file = h.dir.path().join("outside.txt");
    std::fs::write(&file, format!("{text}\n")).unwrap();
    h.press(ch('i'));
    h.press(key(KeyCode::Up));
    h.press(key(KeyCode::Right));
    h.press(key(KeyCode::Down));
    h.type_str(file.to_str().unwrap());
    h.enter();
    h.step("import/review").await;
    h.press(key(KeyCode::Down));
    h.press(key(KeyCode::Left)); // from the detected Telethon string to Telethon SQLite
    h.enter();
    closed(&mut h).await;
    let again = store::read_file(&h.dir.path().join("imported-2.session")).unwrap();
    assert_eq!(again.format, Format::TelethonSqlite(7));
}

#[tokio::test]
async fn export_reveals_only_after_yes_and_copies_with_osc52() {
    let mut h = Harness::new();
    h.press(ch('e'));
    assert!(h.screen(100, 30).contains("gives full access"));
    h.press(ch('c'));
    assert!(
        h.terminal_effects.is_empty(),
        "nothing to copy before the reveal"
    );
    h.press(ch('y'));
    h.step("export/shown").await;
    h.press(ch('c'));
    let Some(Effect::Clipboard(secret)) = h.terminal_effects.pop() else {
        panic!("no clipboard effect: {:?}", h.terminal_effects);
    };
    assert!(
        !format!("{secret:?}").contains(secret.reveal()),
        "debug output is redacted"
    );
    let back = store::parse_string(secret.reveal(), "test").unwrap();
    assert_eq!(back.format, Format::TelethonString);
    assert!(h.screen(120, 40).contains(&secret.reveal()[..30]));
    h.press(key(KeyCode::Esc));
    assert!(
        !h.screen(120, 40).contains(&secret.reveal()[..30]),
        "forgotten on close"
    );
}

#[tokio::test]
async fn flood_wait_counts_down_and_blocks_retries() {
    let mut h = Harness::new();
    h.fake
        .fail_next("send_code", TgError::FloodWait { seconds: 37 });
    h.press(ch('n'));
    h.enter();
    h.type_str("+15550001");
    h.enter();
    h.idle().await;
    assert!(
        h.screen(100, 30)
            .contains("error: flood wait: retry in 37 s")
    );
    h.clock(T0 + 10_000);
    assert!(
        h.screen(100, 30)
            .contains("error: flood wait: retry in 27 s")
    );
    h.enter();
    let sends = |h: &Harness| h.fake.calls().iter().filter(|c| *c == "send_code").count();
    assert_eq!(sends(&h), 1, "no retry during the wait");
    h.clock(T0 + 37_000);
    assert!(h.screen(100, 30).contains("you can retry now"));
    h.enter();
    h.step("phone/code").await;
    assert_eq!(sends(&h), 2);
}

#[tokio::test]
async fn resend_waits_for_its_countdown() {
    let mut h = Harness::new();
    h.press(ch('n'));
    h.enter();
    h.type_str("+15550001");
    h.enter();
    h.step("phone/code").await;
    h.press(ctrl('r'));
    assert!(
        h.screen(100, 30)
            .contains("you can ask for a new code in 30 s")
    );
    // The early answer counts down with the clock.
    h.clock(T0 + 10_000);
    let screen = h.screen(100, 30);
    assert!(
        screen.contains("you can ask for a new code in 20 s"),
        "{screen}"
    );
    h.clock(T0 + 31_000);
    assert!(h.screen(100, 30).contains("you can ask for a new code now"));
    h.press(ctrl('r'));
    h.idle().await;
    assert!(h.screen(100, 30).contains("Code sent by SMS"));
}

#[tokio::test]
async fn esc_closes_the_pane_and_cancels_its_network_work() {
    let mut h = Harness::new();
    h.fake.hold("send_code");
    h.press(ch('n'));
    h.enter();
    h.type_str("+15550001");
    h.enter();
    assert!(h.st.animating_requests());
    until_call(&h, "send_code").await; // the call is under way, and never answers
    h.press(key(KeyCode::Esc));
    assert!(h.st.modals.is_empty(), "the UI never blocks on the network");
    until_call(&h, "dropped:send_code").await;
    assert!(h.fake.calls().contains(&"end".to_string()));
}

#[tokio::test]
async fn a_result_for_a_closed_pane_is_dropped() {
    let mut h = Harness::new();
    h.press(ch('a'));
    let pane_id = h.st.modals[0].id();
    h.press(key(KeyCode::Esc));
    // A late answer for the closed pane changes nothing.
    h.send(Msg::Done(
        tgsess::ui::msg::ReqId {
            pane: pane_id,
            seq: 1,
        },
        tgsess::ui::msg::Outcome::Authorizations(Ok(Vec::new())),
    ));
    assert!(h.st.modals.is_empty());
    assert!(h.st.known.is_empty());
}

#[tokio::test]
async fn authorizations_list_and_terminate() {
    let mut h = Harness::new();
    h.press(ch('a'));
    h.step("auths/list").await;
    let screen = h.screen(100, 30);
    assert!(screen.contains("Pixel 8 Android"), "{screen}");
    h.press(ch('t'));
    assert!(h.screen(100, 30).contains("that is this session"));
    h.press(ch('j'));
    h.press(ch('t'));
    h.press(ch('y'));
    h.until("the list to reload", |st| {
        st.known
            .values()
            .any(|k| k.authorizations.as_ref().is_some_and(|l| l.len() == 1))
    })
    .await;
    assert_eq!(h.fake.authorization_count(), 1);
    h.press(key(KeyCode::Esc));
    assert!(h.screen(160, 50).contains("0 other(s)"));
}

#[tokio::test]
async fn refresh_checks_the_account() {
    // The rows are real files, so the reload that `R` starts finds them again; the check and
    // the reload finish in either order, and both are waited for.
    let mut h = Harness::on_disk();
    assert_eq!(selected_name(&h), "alice");
    h.press(ch('R'));
    h.until("the check and the reload", |st| {
        st.notice.is_some() && st.reloading.is_none()
    })
    .await;
    assert_eq!(selected_name(&h), "alice");
    let row = h.st.selected_row().unwrap();
    assert_eq!(h.st.status(row), Status::Authorized);
    assert!(h.screen(120, 40).contains("authorized as Alice"));
}

#[tokio::test]
async fn typing_q_into_a_field_never_quits_and_ctrl_c_always_does() {
    let mut h = Harness::new();
    h.press(ch('n'));
    h.enter();
    h.type_str("q?");
    assert!(!h.st.quit);
    assert!(h.screen(100, 30).contains("q?"));
    h.press(ctrl('c'));
    assert!(h.st.quit);
}

#[tokio::test]
async fn forking_an_account_with_2fa_asks_for_the_password() {
    let mut h = Harness::new();
    h.press(ch('j')); // bob
    h.press(ch('c'));
    h.press(key(KeyCode::Right));
    h.enter();
    h.step("clone/fork_password").await;
    assert!(h.screen(100, 30).contains("Hint: the usual"));
    h.type_str("nope");
    h.enter();
    h.idle().await;
    assert!(h.screen(100, 30).contains("error: wrong password"));
    for _ in 0..4 {
        h.press(key(KeyCode::Backspace));
    }
    h.type_str("hunter2");
    h.enter();
    closed(&mut h).await;
    // A Telethon string like the source; it keeps no user id, so who it is comes from the fork.
    let fork = store::read_file(&h.dir.path().join("bob-copy.string")).unwrap();
    assert_eq!(fork.format, Format::TelethonString);
    assert_eq!(selected_name(&h), "bob-copy");
    let row = h.st.selected_row().unwrap();
    assert_eq!(h.st.account_label(row).as_deref(), Some("Bob"));
    assert!(h.fake.calls().contains(&"end".to_string()));
}

/// Issue 11 item 5: a 5,000-character token wraps and scrolls inside its pane, and the error
/// line stays on screen at 80×24.
#[tokio::test]
async fn a_huge_input_keeps_the_error_line_visible() {
    let mut h = Harness::new();
    h.resize(80, 24);
    h.press(ch('n'));
    h.press(key(KeyCode::Right)); // bot
    h.enter();
    assert_eq!(h.top().as_deref(), Some("bot/token"));
    h.send(Msg::Paste("9".repeat(5000)));
    h.enter();
    h.idle().await;
    let screen = h.screen(80, 24);
    assert!(
        screen.contains("error: the bot token is not valid"),
        "{screen}"
    );
}

/// Issue 11 item 5: help at 100 columns wraps instead of cutting, and pages to its end.
#[tokio::test]
async fn help_wraps_and_pages_at_100_columns() {
    let mut h = Harness::new();
    h.resize(100, 30);
    h.press(ch('?'));
    let first = h.screen(100, 30);
    assert!(first.contains("more: PgDn"), "{first}");
    assert!(
        first.contains("quit (warns if memory sessions would be lost)"),
        "long lines are whole: {first}"
    );
    for _ in 0..20 {
        h.press(key(KeyCode::PageDown));
    }
    let last = h.screen(100, 30);
    // The last table (authorizations) ends with its Ctrl-C line.
    assert!(last.contains("Other authorizations"), "{last}");
    assert!(last.contains("↑ PgUp"), "{last}");
    h.press(key(KeyCode::PageUp));
    assert_ne!(
        h.screen(100, 30),
        last,
        "PgUp right after the end moves at once"
    );
}

/// Issue 11 item 4: rows that share an auth key are marked, logging out one names the others,
/// importing a key already present warns, and copy/fork names stay apart at 80 columns.
#[tokio::test]
async fn shared_keys_are_visible() {
    let mut h = Harness::empty();
    let alice = fixture_session("alice");
    let mut forked = alice.clone();
    forked.home_mut().auth_key = Some(tgsess::secret::AuthKey::new([0xf0; 256]));
    let rows = vec![
        tgsess::ui::state::SessionRow::memory("session-1", alice.clone()),
        tgsess::ui::state::SessionRow::memory("session-1-copy", alice.clone()),
        tgsess::ui::state::SessionRow::memory("session-1-fork", forked),
    ];
    h.st.set_rows(rows, None);
    h.resize(80, 24);
    let screen = h.screen(80, 24);
    let line = |name: &str| {
        screen
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("-copy").contains("="), "marked: {screen}");
    assert!(
        !line("-fork").contains("="),
        "a fork has its own key: {screen}"
    );
    assert!(
        screen.contains("-copy") && screen.contains("-fork"),
        "{screen}"
    );
    assert!(screen.contains("also in 'session-1-copy'"), "{screen}");

    h.press(ch('L'));
    let screen = h.screen(80, 24);
    assert!(
        screen.contains("The same key is in 'session-1-copy': it is logged out"),
        "{screen}"
    );
    h.press(key(KeyCode::Esc));

    h.press(ch('i'));
    let text = store::encode_string(&alice, Format::TelethonString).unwrap();
    h.send(Msg::Paste(text));
    h.enter();
    h.step("import/review").await;
    let screen = h.screen(100, 30);
    assert!(
        screen.contains("This key is already in 'session-1', 'session-1-copy'"),
        "{screen}"
    );
}

/// Issue 11 item 8: with the details focused, the moving keys scroll the details (not the
/// list), never past their end, and a new login starts them at the top again.
#[tokio::test]
async fn focused_details_scroll_and_stop_at_their_end() {
    let mut h = Harness::new();
    h.resize(80, 24);
    let _ = h.screen(80, 24);
    h.press(key(KeyCode::Tab));
    h.press(ch('G'));
    let _ = h.screen(80, 24);
    h.press(ch('G'));
    assert_eq!(selected_name(&h), "alice", "the list did not move");
    let max = h.st.detail_scroll_max.get();
    assert!(max > 0, "alice's details are longer than the pane");
    assert_eq!(h.st.detail_scroll, max, "G goes to the end and no further");
    for _ in 0..5 {
        h.press(key(KeyCode::PageDown));
        h.press(ch('j'));
    }
    assert_eq!(h.st.detail_scroll, max);
    assert_eq!(selected_name(&h), "alice");
    h.press(ch('g'));
    assert_eq!(h.st.detail_scroll, 0);
    h.press(key(KeyCode::PageDown));
    assert!(h.st.detail_scroll > 0);
    // A login selects the new session with its details from the top.
    h.press(key(KeyCode::Tab));
    h.press(ch('n'));
    h.enter();
    h.type_str("+15550001");
    h.enter();
    h.step("phone/code").await;
    h.type_str("12345");
    h.enter();
    closed(&mut h).await;
    assert_eq!(selected_name(&h), "session-1");
    assert_eq!(h.st.detail_scroll, 0);
}

/// Issue 11 item 8: at 80 columns the footer ends with "? more" instead of just stopping.
#[tokio::test]
async fn the_narrow_footer_ends_with_more() {
    let h = Harness::new();
    let screen = h.screen(80, 24);
    let footer = screen.lines().last().unwrap().trim_end().to_string();
    assert!(footer.ends_with("? more"), "{footer}");
    let wide = h.screen(200, 30);
    let footer = wide.lines().last().unwrap();
    assert!(
        footer.contains("? help") && !footer.contains("more"),
        "{footer}"
    );
}

/// Issue 11 item 8: without colours the focused pane still shows (a thick border).
#[tokio::test]
async fn no_color_still_shows_focus() {
    let mut h = Harness::new();
    h.theme = tgsess::ui::theme::Theme::default_theme(tgsess::ui::theme::ColorDepth::Never);
    let screen = h.screen(80, 24);
    let lines: Vec<&str> = screen.lines().collect();
    assert!(lines[1].starts_with('┏'), "the list is focused: {screen}");
    h.press(key(KeyCode::Tab));
    let screen = h.screen(80, 24);
    assert!(screen.lines().nth(1).unwrap().starts_with('┌'), "{screen}");
    assert!(
        screen.lines().any(|l| l.starts_with("┏ Details")),
        "{screen}"
    );
}

/// Issue 11 item 6: the email step resends and never sends an empty code; a hint-only change
/// keeps the password; labels are whole; a forgotten password is recovered by email as in the
/// CLI; bots are not offered 2FA.
#[tokio::test]
async fn two_fa_editor_details_and_password_recovery() {
    let mut h = Harness::new();
    h.press(ch('p')); // alice: no password yet
    h.step("2fa/menu").await;
    h.enter();
    for (i, text) in ["s3cret", "s3cret", "usual", "alice@example.com"]
        .iter()
        .enumerate()
    {
        if i > 0 {
            h.press(key(KeyCode::Tab));
        }
        h.type_str(text);
    }
    h.enter();
    h.step("2fa/email_code").await;
    h.enter();
    assert!(
        h.screen(100, 30)
            .contains("error: type the code from the email")
    );
    assert!(!h.fake.calls().contains(&"confirm_email".to_string()));
    h.press(ctrl('r'));
    h.idle().await;
    assert!(h.fake.calls().contains(&"resend_email".to_string()));
    h.type_str("777777");
    h.enter();
    closed(&mut h).await;

    // Only the hint changes: both new-password fields stay empty.
    h.press(ch('p'));
    h.step("2fa/menu").await;
    h.enter();
    let screen = h.screen(80, 24);
    assert!(screen.contains("Current password:"), "{screen}");
    assert!(screen.contains("Leave the new password empty"), "{screen}");
    h.type_str("s3cret");
    for _ in 0..3 {
        h.press(key(KeyCode::Tab));
    }
    for _ in 0.."usual".len() {
        h.press(key(KeyCode::Backspace));
    }
    h.type_str("the new hint");
    h.enter();
    closed(&mut h).await;
    assert_eq!(h.fake.user_password("+15550001").as_deref(), Some("s3cret"));
    h.press(ch('p'));
    h.step("2fa/menu").await;
    assert!(h.screen(100, 30).contains("(hint: the new hint)"));
    h.press(key(KeyCode::Esc));

    // Forgot it: log in again, ask for a recovery code by email, enter it.
    h.press(ch('n'));
    h.enter();
    h.type_str("+15550001");
    h.enter();
    h.step("phone/code").await;
    h.type_str("12345");
    h.enter();
    h.step("phone/password").await;
    assert!(
        h.screen(100, 30)
            .contains("Forgot it? Ctrl-E emails a recovery code")
    );
    h.press(ctrl('e'));
    h.step("phone/recovery").await;
    assert!(
        h.screen(100, 30)
            .contains("A recovery code was sent to a***")
    );
    h.type_str("777777");
    h.enter();
    closed(&mut h).await;
    assert_eq!(h.fake.user_password("+15550001"), None);

    // A bot has no 2FA: p explains instead of opening the editor.
    let bot =
        h.st.view
            .iter()
            .position(|i| h.st.rows[*i].name == "helper-bot")
            .unwrap();
    h.st.selected = bot;
    h.press(ch('p'));
    assert!(h.st.modals.is_empty());
    assert!(
        h.screen(100, 30)
            .contains("bots have no two-step verification")
    );
}

/// Rows keep no keys: an action reads the file when it runs, and a file that holds another
/// key than the row showed (replaced since the listing) is refused, saying what to do.
#[tokio::test]
async fn an_action_on_a_file_changed_since_the_listing_is_refused() {
    let mut h = Harness::on_disk();
    assert_eq!(selected_name(&h), "alice");
    let path = h.st.selected_row().unwrap().path.clone().unwrap();
    let mut other = fixture_session("bob");
    other.dc_id = fixture_session("alice").dc_id;
    store::write_file(&path, &other, Format::TelethonSqlite(7)).unwrap();
    h.press(ch('L'));
    h.press(ch('y'));
    h.idle().await;
    let screen = h.screen(120, 30);
    assert!(
        screen.contains("error:") && screen.contains("changed since it was"),
        "{screen}"
    );
    assert!(screen.contains("press r to"), "{screen}");
    assert!(
        !h.fake.calls().contains(&"log_out".to_string()),
        "nothing was sent for the other key"
    );
    // The file is left as it is.
    let now = store::read_file(&path).unwrap().session;
    assert_eq!(now.auth_key(), other.auth_key());
}

#[tokio::test]
async fn an_export_reads_the_file_as_it_is_now() {
    let mut h = Harness::on_disk();
    let path = h.st.selected_row().unwrap().path.clone().unwrap();
    // The same key with a new DC address: still the session the row showed.
    let mut moved = store::read_file(&path).unwrap().session;
    moved.home_mut().port = Some(8443);
    store::write_file(&path, &moved, Format::TelethonSqlite(7)).unwrap();
    h.press(ch('e'));
    h.press(ch('y'));
    h.step("export/shown").await;
    h.press(ch('c'));
    let Some(Effect::Clipboard(secret)) = h.terminal_effects.pop() else {
        panic!("no clipboard effect: {:?}", h.terminal_effects);
    };
    let back = store::parse_string(secret.reveal(), "test")
        .unwrap()
        .session;
    assert_eq!(back.auth_key(), moved.auth_key());
    assert_eq!(
        back.home().unwrap().port,
        Some(8443),
        "what the file holds now"
    );
}

#[tokio::test]
async fn a_file_gone_since_the_listing_is_refused_when_used() {
    let mut h = Harness::on_disk();
    let path = h.st.selected_row().unwrap().path.clone().unwrap();
    std::fs::remove_file(&path).unwrap();
    h.press(ch('a'));
    h.idle().await;
    let screen = h.screen(120, 30);
    assert!(
        screen.contains("error:") && screen.contains("no longer reads"),
        "{screen}"
    );
    assert!(!h.fake.calls().contains(&"authorizations".to_string()));
}

/// A key held by hundreds of rows (a farm's copies): the detail pane names a few and counts
/// the rest, rather than a line of every name redrawn each frame.
#[tokio::test]
async fn a_key_shared_by_many_rows_names_a_few_and_counts_the_rest() {
    let mut h = Harness::empty();
    let alice = fixture_session("alice");
    let rows = (0..40)
        .map(|i| tgsess::ui::state::SessionRow::memory(&format!("copy-{i:02}"), alice.clone()))
        .collect();
    h.st.set_rows(rows, None);
    let screen = h.screen(120, 40);
    assert!(
        screen.contains("also in 'copy-01', 'copy-02', 'copy-03', 'copy-04', 'copy-05', 34 more"),
        "{screen}"
    );
    assert!(!screen.contains("'copy-06'"), "{screen}");
    assert_eq!(h.st.key_sharers(h.st.selected_row().unwrap()).len(), 39);
}
