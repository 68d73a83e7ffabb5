//! TUI render benchmark: time to first frame with 1,000 session files in the directory
//! (list the folder, build the state, draw), and the time of one frame.
//! Run: `cargo bench --bench ui_render` (numbers in docs/tui.md).

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tgsess::store::dir::SessionDir;
use tgsess::store::{self, Format, PyrogramStringLayout};
use tgsess::ui::effects::list_rows;
use tgsess::ui::keymap::Keymap;
use tgsess::ui::state::{AppState, Mode};
use tgsess::ui::theme::{ColorDepth, Theme};
use tgsess::ui::view;

const SESSIONS: usize = 1000;

#[path = "support/mod.rs"]
mod support;
use support::session;

/// 1,000 files: a quarter each of tgsess and Telethon strings and SQLite files.
fn populate(dir: &std::path::Path) {
    let formats = [
        Format::TgsessString,
        Format::TelethonString,
        Format::PyrogramString(PyrogramStringLayout::V2),
        Format::TgsessSqlite,
        Format::TelethonSqlite(7),
    ];
    for i in 0..SESSIONS {
        let format = formats[i % formats.len()];
        let ext = if format.backend() == store::BackendKind::Sqlite {
            "session"
        } else {
            "string"
        };
        store::write_file(
            &dir.join(format!("account-{i:04}.{ext}")),
            &session(i),
            format,
        )
        .unwrap();
    }
}

fn first_frame(dir: &SessionDir, theme: &Theme) -> usize {
    let mut st = AppState::new(Keymap::default(), Mode::default());
    st.size = (120, 40);
    st.set_rows(list_rows(dir).unwrap(), None);
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    term.draw(|f| view::render(&st, theme, f)).unwrap();
    st.rows.len()
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    populate(tmp.path());
    let dir = SessionDir::new(tmp.path());
    let theme = Theme::default_theme(ColorDepth::Ansi256);
    assert_eq!(first_frame(&dir, &theme), SESSIONS);

    let mut group = c.benchmark_group("ui");
    group.sample_size(20);
    group.bench_function("first_frame_1000_sessions", |b| {
        b.iter(|| first_frame(&dir, &theme))
    });
    group.finish();

    let mut st = AppState::new(Keymap::default(), Mode::default());
    st.set_rows(list_rows(&dir).unwrap(), None);
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 60)] {
        st.size = (w, h);
        st.selected = 500;
        st.scroll_to_selection();
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        c.bench_function(&format!("ui/one_frame_{w}x{h}"), |b| {
            b.iter(|| {
                term.draw(|f| view::render(&st, &theme, f)).unwrap();
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
