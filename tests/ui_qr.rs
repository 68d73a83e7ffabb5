//! The QR pane draws a code that decodes back to the login URL (read from the terminal cells
//! and decoded with rqrr), in colour and without, and renews it before the token expires.

mod ui_support;

use crossterm::event::KeyCode;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use tgsess::ui::flows::qr::{Placement, placement};
use tgsess::ui::theme::{ColorDepth, Theme};
use tgsess::ui::widgets::qr::{QrMatrix, read_back};
use ui_support::*;

/// Reads the drawn code at its placement and decodes it.
fn decode(buf: &Buffer, url_len_hint: &str, glyph_light: bool) -> String {
    let m = QrMatrix::encode(url_len_hint).unwrap();
    let Placement::Fits { code_at, .. } = placement(buf.area, &m) else {
        panic!("the code should fit in {:?}", buf.area);
    };
    let grid = read_back(buf, code_at, m.padded(), glyph_light);
    let scale = 4;
    let side = grid.len() * scale;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
        if grid[y / scale][x / scale] { 0 } else { 255 }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on screen");
    let (_, content) = grids[0].decode().expect("the drawn code decodes");
    content
}

async fn open_qr(h: &mut Harness) {
    h.press(ch('n'));
    h.press(key(KeyCode::Left)); // the method list wraps to QR
    h.enter();
    h.step("qr/showing").await;
}

#[tokio::test]
async fn the_drawn_code_round_trips_to_the_url() {
    let mut h = Harness::new();
    open_qr(&mut h).await;
    let url = h.fake.last_qr_url().unwrap();
    for (w, ht) in [(120u16, 40u16), (80, 24)] {
        let term = h.terminal(w, ht);
        let buf = term.backend().buffer();
        assert_eq!(decode(buf, &url, false), url, "{w}x{ht}");
        // Dark on light whatever the theme: the quiet zone is white.
        let m = QrMatrix::encode(&url).unwrap();
        let Placement::Fits { code_at, .. } = placement(Rect::new(0, 0, w, ht), &m) else {
            unreachable!()
        };
        let corner = &buf[code_at];
        assert_eq!((corner.fg, corner.bg), (Color::Black, Color::White));
    }
}

#[tokio::test]
async fn without_colour_light_modules_are_glyphs_and_i_inverts() {
    let mut h = Harness::new();
    h.theme = Theme::default_theme(ColorDepth::Never);
    open_qr(&mut h).await;
    let url = h.fake.last_qr_url().unwrap();
    let term = h.terminal(120, 40);
    assert_eq!(decode(term.backend().buffer(), &url, true), url);
    h.press(ch('i'));
    let term = h.terminal(120, 40);
    assert_eq!(decode(term.backend().buffer(), &url, false), url);
}

#[tokio::test]
async fn a_small_terminal_gets_a_size_message_and_the_url() {
    let mut h = Harness::new();
    open_qr(&mut h).await;
    let url = h.fake.last_qr_url().unwrap();
    let screen = h.screen(70, 20);
    assert!(
        screen.contains("Enlarge the terminal to at least 74×23"),
        "{screen}"
    );
    assert!(screen.contains(&url), "{screen}");
    assert!(!screen.contains('▀'), "never a cropped code:\n{screen}");
}

#[tokio::test]
async fn the_code_is_renewed_before_it_expires() {
    let mut h = Harness::new();
    open_qr(&mut h).await;
    let first = h.fake.last_qr_url().unwrap();
    assert!(h.screen(120, 40).contains("Expires in 30 s"));
    h.clock(T0 + 20_000);
    assert!(h.screen(120, 40).contains("Expires in 10 s"));
    assert_eq!(h.fake.last_qr_url().unwrap(), first, "not renewed early");
    h.clock(T0 + 27_500);
    h.until("a new token", |st| {
        st.modals.last().is_some_and(|m| !m.busy())
    })
    .await;
    let second = h.fake.last_qr_url().unwrap();
    assert_ne!(first, second);
    let term = h.terminal(120, 40);
    assert_eq!(decode(term.backend().buffer(), &second, false), second);
    assert!(h.screen(120, 40).contains("Expires in 30 s"));
}
