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
    let mut spans = Vec::new();
    let mut used = 0usize;
    for (key, label) in hints(&st.keymap, st.context()) {
        let piece = format!(" {key} {label} ");
        let w = text::width(&piece) + 1;
        if used + w > hint_area.width as usize {
            break;
        }
        used += w;
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
    f.render_widget(Paragraph::new(Line::from(spans)), hint_area);
}
