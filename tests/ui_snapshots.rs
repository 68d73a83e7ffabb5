//! Snapshots of the main screen and every pane and state, at 80×24 and 120×40 (and the
//! smallest supported size), driven through the real update loop and the fake service.
//! Colours are asserted on buffer cells; text snapshots ignore them.

mod ui_support;

use crossterm::event::KeyCode;
use ratatui::style::{Color, Modifier};
use tgsess::telegram::TgError;
use tgsess::ui::theme::{ColorDepth, Theme};
use ui_support::*;

fn snap(h: &Harness, name: &str) {
    for (w, ht) in [(80u16, 24u16), (120, 40), (60, 16)] {
        let term = h.terminal(w, ht);
        insta::assert_snapshot!(format!("{name}_{w}x{ht}"), term.backend());
    }
}

#[tokio::test]
async fn main_screen() {
    let mut h = Harness::new();
    snap(&h, "main");
    insta::assert_snapshot!("main_60x16", h.terminal(60, 16).backend());
    insta::assert_snapshot!("too_small_50x12", h.terminal(50, 12).backend());
    // The detail pane follows the selection: the CJK account.
    h.press(ch('j'));
    h.press(ch('j'));
    snap(&h, "main_cjk_selected");
}

#[tokio::test]
async fn empty_directory_explains_what_to_do() {
    let h = Harness::empty();
    insta::assert_snapshot!("empty_80x24", h.terminal(80, 24).backend());
}

#[tokio::test]
async fn filter_and_sort() {
    let mut h = Harness::new();
    h.press(ch('/'));
    h.type_str("ali");
    snap(&h, "filter_typing");
    h.enter();
    assert_eq!(h.st.view.len(), 1);
    h.press(key(KeyCode::Esc)); // Esc in the list does nothing
    h.press(ch('/'));
    h.press(key(KeyCode::Esc));
    assert_eq!(h.st.view.len(), 8, "Esc in the filter clears it");
    // Sort by status, reversed.
    for _ in 0..7 {
        h.press(ch('s'));
    }
    h.press(ch('r'));
    snap(&h, "sorted_status_desc");
}

#[tokio::test]
async fn help_overlay() {
    let mut h = Harness::new();
    h.press(ch('?'));
    snap(&h, "help");
}

#[tokio::test]
async fn new_login_chooser() {
    let mut h = Harness::new();
    h.press(ch('n'));
    snap(&h, "new_login");
}

#[tokio::test]
async fn phone_flow_states() {
    let mut h = Harness::new();
    h.press(ch('n'));
    h.enter();
    snap(&h, "phone_number");
    h.type_str("+15550002");
    h.enter();
    snap(&h, "phone_waiting");
    h.step("phone/code").await;
    h.clock(T0 + 7_000);
    snap(&h, "phone_code_countdown");
    h.type_str("00000");
    h.enter();
    h.idle().await;
    snap(&h, "phone_code_wrong");
    h.fake
        .fail_next("sign_in", TgError::FloodWait { seconds: 37 });
    h.enter();
    h.idle().await;
    snap(&h, "phone_flood_wait");
    h.clock(T0 + 7_000 + 40_000);
    for _ in 0..5 {
        h.press(key(KeyCode::Backspace));
    }
    h.type_str("12345");
    h.enter();
    h.step("phone/password").await;
    h.type_str("hunt");
    snap(&h, "phone_password");
}

#[tokio::test]
async fn sign_up_state() {
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
    snap(&h, "phone_sign_up");
}

#[tokio::test]
async fn bot_pane() {
    let mut h = Harness::new();
    h.press(ch('n'));
    h.press(key(KeyCode::Right));
    h.enter();
    h.type_str("123:WRONG");
    h.enter();
    h.idle().await;
    snap(&h, "bot_bad_token");
}

#[tokio::test]
async fn qr_pane() {
    let mut h = Harness::new();
    h.press(ch('n'));
    h.press(key(KeyCode::Left));
    h.enter();
    h.step("qr/showing").await;
    h.clock(T0 + 12_000);
    snap(&h, "qr_showing");
    h.press(ch('s'));
    h.step("qr/password").await;
    snap(&h, "qr_password");
}

#[tokio::test]
async fn two_fa_states() {
    let mut h = Harness::new();
    h.press(ch('j')); // bob, who has a password
    h.press(ch('p'));
    h.step("2fa/menu").await;
    snap(&h, "2fa_menu_on");
    h.press(key(KeyCode::Down));
    h.press(key(KeyCode::Down));
    h.enter();
    h.type_str("hunter2");
    h.enter();
    snap(&h, "2fa_confirm_disable");
    h.press(ch('n'));
    h.press(key(KeyCode::Esc));

    h.press(ch('k')); // alice, no password
    h.press(ch('p'));
    h.step("2fa/menu").await;
    h.enter();
    h.type_str("s3cret");
    h.press(key(KeyCode::Tab));
    h.type_str("s3cret");
    h.press(key(KeyCode::Tab));
    h.type_str("usual");
    h.press(key(KeyCode::Tab));
    h.type_str("alice@example.com");
    snap(&h, "2fa_enable_form");
    h.enter();
    h.step("2fa/email_code").await;
    snap(&h, "2fa_email_code");
}

#[tokio::test]
async fn clone_panes() {
    let mut h = Harness::new();
    h.press(ch('c'));
    snap(&h, "clone_copy");
    h.press(key(KeyCode::Right));
    snap(&h, "clone_fork");
}

#[tokio::test]
async fn logout_confirmation_names_the_account() {
    let mut h = Harness::new();
    h.press(ch('L'));
    snap(&h, "logout_confirm");
}

#[tokio::test]
async fn import_panes() {
    let mut h = Harness::new();
    h.press(ch('i'));
    h.type_str("not-a-session");
    h.enter();
    h.idle().await;
    snap(&h, "import_bad_string");
}

#[tokio::test]
async fn export_panes() {
    let mut h = Harness::new();
    h.press(ch('e'));
    snap(&h, "export_confirm");
}

#[tokio::test]
async fn authorizations_pane() {
    let mut h = Harness::new();
    h.press(ch('a'));
    h.step("auths/list").await;
    snap(&h, "auths_list");
    h.press(ch('j'));
    h.press(ch('t'));
    snap(&h, "auths_confirm");
}

#[tokio::test]
async fn quit_warns_about_memory_sessions() {
    let mut h = Harness::new();
    h.press(ch('q'));
    snap(&h, "quit_confirm");
    assert!(!h.st.quit);
}

#[tokio::test]
async fn selection_is_reversed_and_marked_in_every_theme() {
    let h = Harness::new();
    let term = h.terminal(80, 24);
    let buf = term.backend().buffer();
    // Row 3 is the first session (header, border, column titles before it).
    let cell = &buf[(3, 3)];
    assert_eq!(buf[(1, 3)].symbol(), "▶");
    assert!(cell.modifier.contains(Modifier::REVERSED), "{cell:?}");
    assert_eq!(cell.fg, Color::Cyan);
    // Errors are red and say "error".
    let screen = h.screen(120, 40);
    assert!(screen.contains("error"), "{screen}");
}

#[tokio::test]
async fn light_theme_colours_reach_the_cells() {
    let mut h = Harness::new();
    let (theme, notices) = tgsess::ui::theme::load(Some("light"), None, ColorDepth::TrueColor);
    assert!(notices.is_empty());
    h.theme = theme;
    let term = h.terminal(80, 24);
    let cell = &term.backend().buffer()[(3, 3)];
    assert_eq!(cell.bg, Color::Rgb(0x1e, 0x66, 0xf5));
    h.theme = Theme::default_theme(ColorDepth::Never);
    let term = h.terminal(80, 24);
    let cell = &term.backend().buffer()[(3, 3)];
    assert_eq!(cell.bg, Color::Reset);
    assert!(cell.modifier.contains(Modifier::REVERSED));
}

/// Under NO_COLOR the escape codes reaching a real terminal emulator still reverse the
/// selection (crossterm turns suppressed colours into resets, which must not wipe it).
#[test]
fn no_color_keeps_the_selection_reversed_on_a_terminal_emulator() {
    use ratatui::backend::CrosstermBackend;
    use ratatui::layout::Rect;
    use ratatui::{Terminal, TerminalOptions, Viewport};

    /// The bytes the app writes, shared with the test.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let mut h = Harness::new();
    h.theme = Theme::default_theme(ColorDepth::Never);
    let out = Shared::default();
    let backend = CrosstermBackend::new(out.clone());
    let options = TerminalOptions {
        viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
    };
    let mut term = Terminal::with_options(backend, options).unwrap();
    term.draw(|f| tgsess::ui::view::render(&h.st, &h.theme, f))
        .unwrap();
    let bytes = out.0.lock().unwrap().clone();
    let mut vt = vt100::Parser::new(24, 80, 0);
    vt.process(&bytes);
    let screen = vt.screen();
    assert!(
        screen.contents().contains("▶ alice"),
        "{}",
        screen.contents()
    );
    for col in [1u16, 3, 20, 60] {
        let cell = screen.cell(3, col).unwrap();
        assert!(
            cell.inverse(),
            "column {col} of the selected row is reversed"
        );
        assert_eq!(cell.fgcolor(), vt100::Color::Default);
        assert_eq!(cell.bgcolor(), vt100::Color::Default);
    }
    assert!(!screen.cell(4, 3).unwrap().inverse(), "the next row is not");
    // And not a single colour anywhere on screen.
    for row in 0..24 {
        for col in 0..80 {
            let c = screen.cell(row, col).unwrap();
            assert_eq!(
                (c.fgcolor(), c.bgcolor()),
                (vt100::Color::Default, vt100::Color::Default)
            );
        }
    }
}

#[tokio::test]
async fn help_lists_the_demo_accounts_first_in_sandbox_mode() {
    let mut h = Harness::new();
    h.st.mode.sandbox = true;
    h.st.mode.demo_accounts = vec![
        "+9996621111  Alice Sandbox: plain phone login on DC 2 (code 22222)".into(),
        "bot token 123456:SANDBOX-demo-bot-token: bot login with a token".into(),
    ];
    h.press(ch('?'));
    insta::assert_snapshot!("help_sandbox_80x24", h.terminal(80, 24).backend());
}
