//! Pure drawing: `render(&AppState, &Theme, &mut Frame)`. No I/O, no clock reads.

pub mod detail;
pub mod footer;
pub mod layout;
pub mod list;
pub mod modal;
pub mod wrap;

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::flows::ViewCx;
use super::state::AppState;
use super::text;
use super::theme::{Role, Theme};

pub fn render(st: &AppState, theme: &Theme, f: &mut Frame) {
    let area = f.area();
    let Some(a) = layout::areas(area) else {
        let msg = format!(
            "tgsess needs at least {}×{} (now {}×{}); please enlarge the terminal",
            layout::MIN_W,
            layout::MIN_H,
            area.width,
            area.height
        );
        f.render_widget(
            Paragraph::new(text::truncate(&msg, area.width as usize))
                .style(theme.style(Role::Warn)),
            area,
        );
        return;
    };
    let unscrolled = std::cell::Cell::new(0);
    let v = ViewCx {
        theme,
        keymap: &st.keymap,
        now: st.now,
        mode: &st.mode,
        scroll: 0,
        scroll_max: &unscrolled,
    };
    header(st, &v, f, a.header);
    list::render(st, &v, f, a.list);
    detail::render(st, &v, f, a.detail);
    footer::render(st, &v, f, a.status, a.hints);
    let top = st.modals.last().map(|m| m.id());
    for pane in &st.modals {
        let (scroll, scroll_max) = match top {
            Some(id) if id == pane.id() && st.pane_scroll.0 == id => {
                (st.pane_scroll.1, &st.pane_scroll_max)
            }
            Some(id) if id == pane.id() => (0, &st.pane_scroll_max),
            _ => (0, &unscrolled),
        };
        let pv = ViewCx {
            scroll,
            scroll_max,
            ..v
        };
        pane.render(f, area, &pv);
    }
}

fn header(st: &AppState, v: &ViewCx, f: &mut Frame, area: ratatui::layout::Rect) {
    let arrow = if st.sort_desc { "↓" } else { "↑" };
    let mut right = format!(
        "{} of {} · sort: {} {arrow}",
        st.view.len(),
        st.rows.len(),
        st.sort.label()
    );
    if !st.filter.is_empty() {
        right.push_str(&format!(" · filter: {}", text::clean(&st.filter)));
    }
    if !st.fleet.marks.is_empty() {
        right.push_str(&format!(" · {} marked", st.fleet.marks.len()));
    }
    let mode = if st.mode.sandbox { " [sandbox]" } else { "" };
    let left_w = (area.width as usize).saturating_sub(text::width(&right) + 1);
    let left = text::fit(
        &format!(" tgsess{mode} · {}", text::clean(&st.mode.dir_label)),
        left_w,
    );
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(left, v.theme.style(Role::Title)),
            Span::raw(" "),
            Span::styled(right, v.theme.style(Role::Muted)),
        ])),
        area,
    );
}
