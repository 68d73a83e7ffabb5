//! Drawing helpers shared by the panes: a centred, clamped, cleared box with a border, form
//! fields, the spinner and the error line.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::ui::flows::{PaneError, Requests, ViewCx};
use crate::ui::text;
use crate::ui::theme::Role;
use crate::ui::view::wrap;
use crate::ui::widgets::masked_input::Form;

/// A `w`×`h` rectangle centred in `area`, clamped to it.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// Clears `rect` and draws the pane's border and title; returns the inside.
pub fn draw_box(f: &mut Frame, rect: Rect, title: &str, v: &ViewCx) -> Rect {
    f.render_widget(Clear, rect);
    let block = Block::bordered()
        .border_style(v.theme.style(Role::BorderFocused))
        .style(v.theme.style(Role::Base))
        .title(Span::styled(
            format!(" {title} "),
            v.theme.style(Role::Title),
        ));
    let inner = block.inner(rect);
    f.render_widget(block, rect);
    inner
}

/// A pane of text lines: box sized to the content (up to `max_w`), lines wrapped. Lines from
/// `body_len` on (the busy and error lines) stay pinned at the bottom; when the body does not
/// fit it scrolls (PgUp/PgDn, `v.scroll`), keeping the text cursor in view, and the bottom
/// border says so. `cursor` is (line, column) in `lines`.
#[allow(clippy::too_many_arguments)]
pub fn draw_pane(
    f: &mut Frame,
    area: Rect,
    title: &str,
    max_w: u16,
    mut lines: Vec<Line<'static>>,
    body_len: usize,
    cursor: Option<(u16, u16)>,
    v: &ViewCx,
) {
    let tail = lines.split_off(body_len.min(lines.len()));
    let content_w = lines
        .iter()
        .chain(&tail)
        .map(|l| l.width() as u16)
        .max()
        .unwrap_or(0);
    let w = (content_w + 4)
        .max(title.len() as u16 + 6)
        .min(max_w)
        .min(area.width);
    let text_w = w.saturating_sub(4).max(1);
    let (body, cursor) = wrap::wrap(lines, text_w, cursor);
    let (tail, _) = wrap::wrap(tail, text_w, None);
    let room = area.height.saturating_sub(2);
    let needed = (body.len() + tail.len()) as u16;
    let rect = centered(area, w, needed.min(room) + 2);
    let inner = draw_box(f, rect, title, v);
    let inner = Rect::new(
        inner.x + 1,
        inner.y,
        inner.width.saturating_sub(2),
        inner.height,
    );
    // The tail first: the error line is always visible.
    let tail_h = (tail.len() as u16).min(inner.height);
    let body_h = inner.height - tail_h;
    let max_scroll = (body.len() as u16).saturating_sub(body_h);
    v.scroll_max.set(max_scroll);
    let mut scroll = v.scroll.min(max_scroll);
    if let Some((row, _)) = cursor {
        if row < scroll {
            scroll = row;
        } else if body_h > 0 && row >= scroll + body_h {
            scroll = row + 1 - body_h;
        }
    }
    let shown: Vec<Line> = body
        .into_iter()
        .skip(usize::from(scroll))
        .take(usize::from(body_h))
        .collect();
    f.render_widget(
        Paragraph::new(shown),
        Rect::new(inner.x, inner.y, inner.width, body_h),
    );
    f.render_widget(
        Paragraph::new(tail),
        Rect::new(inner.x, inner.y + body_h, inner.width, tail_h),
    );
    if max_scroll > 0 {
        let more = match (scroll > 0, scroll < max_scroll) {
            (true, true) => " ↑↓ PgUp/PgDn ",
            (false, _) => " ↓ more: PgDn ",
            (true, false) => " ↑ PgUp ",
        };
        let mark = Paragraph::new(Span::styled(more, v.theme.style(Role::KeyHint)))
            .alignment(ratatui::layout::Alignment::Right);
        let bottom = Rect::new(
            rect.x + 1,
            rect.y + rect.height - 1,
            rect.width.saturating_sub(2),
            1,
        );
        f.render_widget(mark, bottom);
    }
    if let Some((row, col)) = cursor
        && row >= scroll
        && row < scroll + body_h
    {
        let pos = Position::new(inner.x + col, inner.y + row - scroll);
        if inner.contains(pos) {
            f.set_cursor_position(pos);
        }
    }
}

pub const LABEL_W: usize = 16;

/// The form's fields as lines; returns them and the cursor (line offset, column).
pub fn form_lines(
    form: &Form,
    v: &ViewCx,
    first_line: u16,
) -> (Vec<Line<'static>>, Option<(u16, u16)>) {
    let mut lines = Vec::new();
    let mut cursor = None;
    // As wide as the longest label, so none is cut ("Current password:").
    let label_w = form
        .fields
        .iter()
        .map(|f| text::width(f.label) + 2)
        .max()
        .unwrap_or(0)
        .max(LABEL_W);
    for (i, field) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let marker = if focused { "›" } else { " " };
        let label = text::fit(&format!("{}:", field.label), label_w);
        let shown = field.shown();
        let value = if shown.is_empty() {
            " ".to_string()
        } else {
            shown
        };
        let style = if focused {
            v.theme.style(Role::Input)
        } else {
            v.theme.style(Role::Base)
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{marker} "), v.theme.style(Role::KeyHint)),
            Span::styled(label, v.theme.style(Role::Muted)),
            Span::styled(value, style),
        ]));
        if focused {
            cursor = Some((first_line + i as u16, (2 + label_w + field.cursor()) as u16));
        }
    }
    (lines, cursor)
}

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// "⠋ waiting for Telegram… 2 s" while a request runs.
pub fn busy_line(reqs: &Requests, what: &str, v: &ViewCx) -> Option<Line<'static>> {
    if !reqs.busy() {
        return None;
    }
    let frame = SPINNER[((v.now / 100) % 10) as usize];
    let secs = v.now.saturating_sub(reqs.since) / 1000;
    let elapsed = if secs > 0 {
        format!(" {secs} s")
    } else {
        String::new()
    };
    Some(Line::styled(
        format!("{frame} {what}…{elapsed}"),
        v.theme.style(Role::Warn),
    ))
}

pub fn error_line(err: &Option<PaneError>, v: &ViewCx) -> Option<Line<'static>> {
    err.as_ref()
        .map(|e| Line::styled(e.line(v.now), v.theme.style(Role::Error)))
}

pub fn muted(s: impl Into<String>, v: &ViewCx) -> Line<'static> {
    Line::styled(s.into(), v.theme.style(Role::Muted))
}

pub fn plain(s: impl Into<String>, v: &ViewCx) -> Line<'static> {
    Line::styled(s.into(), v.theme.style(Role::Base))
}

pub fn styled(s: impl Into<String>, v: &ViewCx, role: Role) -> Line<'static> {
    Line::styled(s.into(), v.theme.style(role))
}

pub fn warn(s: impl Into<String>, v: &ViewCx) -> Line<'static> {
    Line::styled(s.into(), v.theme.style(Role::Warn))
}

/// A chooser row: "  Label:  ‹ value ›", highlighted when focused.
pub fn choice_line(label: &str, value: &str, focused: bool, v: &ViewCx) -> Line<'static> {
    let marker = if focused { "› " } else { "  " };
    let value_style = if focused {
        v.theme.style(Role::Selected)
    } else {
        v.theme.style(Role::Base)
    };
    Line::from(vec![
        Span::styled(marker.to_string(), v.theme.style(Role::KeyHint)),
        Span::styled(
            text::fit(&format!("{label}:"), LABEL_W),
            v.theme.style(Role::Muted),
        ),
        Span::styled(format!("‹ {value} ›"), value_style),
    ])
}
