//! The status line (notice, filter input or configuration warning) and the key hints of the
//! current context, taken from the key tables.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::ui::flows::ViewCx;
use crate::ui::keymap::{Action, Context, Keymap};
use crate::ui::state::{AppState, NoticeKind};
use crate::ui::text;
use crate::ui::theme::Role;

/// "n new  / filter  …" for a context, as (key, label) pairs.
/// Help and quit come first so they survive on narrow terminals.
pub fn hints(keymap: &Keymap, ctx: Context) -> Vec<(String, &'static str)> {
    let mut bindings: Vec<_> = keymap.bindings(ctx).iter().filter(|b| b.hint).collect();
    bindings.sort_by_key(|b| match b.action {
        Action::Help => 0,
        Action::Quit => 1,
        _ => 2,
    });
    bindings
        .into_iter()
        .filter_map(|b| b.keys.first().map(|k| (k.to_string(), b.action.hint())))
        .collect()
}

pub fn render(st: &AppState, v: &ViewCx, f: &mut Frame, status: Rect, hint_area: Rect) {
    if let Some(input) = &st.filter_input {
        let shown = text::clean(input.value());
        let line = Line::from(vec![
            Span::styled("/", v.theme.style(Role::KeyHint)),
            Span::styled(shown, v.theme.style(Role::Input)),
        ]);
        f.render_widget(Paragraph::new(line), status);
        let x = status.x + 1 + input.visual_cursor() as u16;
        if x < status.x + status.width {
            f.set_cursor_position(Position::new(x, status.y));
        }
    } else if let Some(line) = st.fleet.progress_line() {
        let msg = text::truncate(&format!(" {line}"), status.width as usize);
        f.render_widget(Paragraph::new(msg).style(v.theme.style(Role::Base)), status);
    } else if let Some(n) = &st.notice {
        let (role, prefix) = match n.kind {
            NoticeKind::Info => (Role::Base, ""),
            NoticeKind::Ok => (Role::Ok, ""),
            NoticeKind::Warn => (Role::Warn, "warning: "),
            NoticeKind::Error => (Role::Error, "error: "),
        };
        let msg = text::truncate(
            &format!(" {prefix}{}", text::clean(&n.text)),
            status.width as usize,
        );
        f.render_widget(Paragraph::new(msg).style(v.theme.style(role)), status);
    } else if let Some(why) = &st.mode.api_missing {
        let msg = text::truncate(&format!(" {why}"), status.width as usize);
        f.render_widget(Paragraph::new(msg).style(v.theme.style(Role::Warn)), status);
    } else if let Some(banner) = &st.mode.banner {
        let msg = text::truncate(&format!(" {banner}"), status.width as usize);
        f.render_widget(
            Paragraph::new(msg).style(v.theme.style(Role::Muted)),
            status,
        );
    }
    let line = hint_line(
        &hints(&st.keymap, st.context()),
        hint_area.width as usize,
        v,
    );
    f.render_widget(Paragraph::new(line), hint_area);
}

fn piece_width(key: &str, label: &str) -> usize {
    text::width(&format!(" {key} {label} ")) + 1
}

/// The hints that fit in `width`. When some do not, the help key moves to the end as
/// "? more", so the line never just stops.
fn hint_line(all: &[(String, &'static str)], width: usize, v: &ViewCx) -> Line<'static> {
    let total: usize = all.iter().map(|(k, l)| piece_width(k, l)).sum();
    let help = all
        .iter()
        .find(|(_, l)| *l == Action::Help.hint())
        .map(|(k, _)| k.clone());
    let (shown, more): (Vec<&(String, &str)>, Option<String>) = match help {
        Some(key) if total > width => {
            let room = width.saturating_sub(piece_width(&key, "more"));
            let mut used = 0;
            let fit = all
                .iter()
                .filter(|(_, l)| *l != Action::Help.hint())
                .take_while(|(k, l)| {
                    used += piece_width(k, l);
                    used <= room
                })
                .collect();
            (fit, Some(key))
        }
        _ => {
            let mut used = 0;
            let fit = all
                .iter()
                .take_while(|(k, l)| {
                    used += piece_width(k, l);
                    used <= width
                })
                .collect();
            (fit, None)
        }
    };
    let mut spans = Vec::new();
    let more = more.map(|k| (k, "more"));
    for (key, label) in shown.into_iter().map(|(k, l)| (k.clone(), *l)).chain(more) {
        spans.push(Span::styled(
            format!(" {key}"),
            v.theme.style(Role::KeyHint),
        ));
        spans.push(Span::styled(
            format!(" {label} "),
            v.theme.style(Role::Muted),
        ));
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}
