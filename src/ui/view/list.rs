//! The session list. Only the visible rows are formatted, so 1,000 sessions draw as fast as 20.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Block, Paragraph};

use crate::ui::flows::ViewCx;
use crate::ui::state::{AppState, Focus, SessionRow, Status};
use crate::ui::text;
use crate::ui::theme::Role;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    Name,
    Account,
    Backend,
    Format,
    UserId,
    Dc,
    Kind,
    Status,
}

impl Col {
    fn title(self) -> &'static str {
        match self {
            Col::Name => "NAME",
            Col::Account => "ACCOUNT",
            Col::Backend => "BACKEND",
            Col::Format => "FORMAT",
            Col::UserId => "USER ID",
            Col::Dc => "DC",
            Col::Kind => "KIND",
            Col::Status => "STATUS",
        }
    }

    fn fixed_width(self) -> Option<usize> {
        match self {
            Col::Name | Col::Account => None,
            Col::Backend => Some(7),
            Col::Format => Some(18),
            Col::UserId => Some(11),
            Col::Dc => Some(2),
            Col::Kind => Some(4),
            Col::Status => Some(10),
        }
    }
}

const ORDER: [Col; 8] = [
    Col::Name,
    Col::Account,
    Col::Backend,
    Col::Format,
    Col::UserId,
    Col::Dc,
    Col::Kind,
    Col::Status,
];
/// Dropped first when the list is narrow.
const DROP: [Col; 5] = [Col::Backend, Col::Kind, Col::UserId, Col::Dc, Col::Format];
const MIN_FLEX: usize = 10;
const MARKER: usize = 2;

/// The columns that fit in `width`, with their widths.
fn columns(width: usize) -> Vec<(Col, usize)> {
    let mut cols: Vec<Col> = ORDER.to_vec();
    let need = |cols: &[Col]| -> usize {
        let fixed: usize = cols.iter().filter_map(|c| c.fixed_width()).sum();
        MARKER + fixed + 2 * MIN_FLEX + cols.len() - 1
    };
    for d in DROP {
        if need(&cols) <= width {
            break;
        }
        cols.retain(|c| *c != d);
    }
    let fixed: usize = cols.iter().filter_map(|c| c.fixed_width()).sum();
    let flex = width.saturating_sub(MARKER + fixed + cols.len() - 1);
    let name_w = (flex * 9 / 20).max(MIN_FLEX.min(flex));
    let account_w = flex.saturating_sub(name_w);
    cols.into_iter()
        .map(|c| {
            let w = match c {
                Col::Name => name_w,
                Col::Account => account_w,
                other => other.fixed_width().unwrap_or(0),
            };
            (c, w)
        })
        .collect()
}

fn cell_text(st: &AppState, row: &SessionRow, col: Col) -> String {
    let dash = || "-".to_string();
    match col {
        Col::Name => text::clean(&row.name),
        Col::Account if row.locked => crate::ui::state::PASSCODE_NEEDED.to_string(),

        Col::Account => {
            let mut s = st
                .account_label(row)
                .map(|a| text::clean(&a))
                .unwrap_or_default();
            if let Some(u) = row.username() {
                if !s.is_empty() {
                    s.push(' ');
                }
                s.push_str(&format!("@{}", text::clean(&u)));
            }
            if s.is_empty() { dash() } else { s }
        }
        Col::Backend => row.backend.name().to_string(),
        Col::Format => row.format_name().to_string(),
        Col::UserId => row.user_id().map(|i| i.to_string()).unwrap_or_else(dash),
        Col::Dc => row.dc().map(|d| d.to_string()).unwrap_or_else(dash),
        Col::Kind => st.kind_label(row).to_string(),
        Col::Status if row.locked => "locked".to_string(),
        Col::Status => st
            .fleet
            .row_text(&row.key(), st.now)
            .unwrap_or_else(|| st.status(row).label().to_string()),
    }
}

fn status_role(s: Status) -> Role {
    match s {
        Status::Authorized => Role::Ok,
        Status::LoggedOut | Status::InUse => Role::Warn,
        Status::Unknown | Status::Unchecked => Role::Muted,
        Status::Error => Role::Error,
    }
}

pub fn render(st: &AppState, v: &ViewCx, f: &mut Frame, area: Rect) {
    let border = if st.focus == Focus::List && st.modals.is_empty() {
        Role::BorderFocused
    } else {
        Role::Border
    };
    let block = Block::bordered()
        .border_style(v.theme.style(border))
        // Without colours, focus shows as a thick border.
        .border_type(if v.theme.no_color && border == Role::BorderFocused {
            ratatui::widgets::BorderType::Thick
        } else {
            ratatui::widgets::BorderType::Plain
        })
        .title(Span::styled(
            match &st.load {
                // The total is known once the folder is scanned, usually after the first rows.
                Some(l) if l.total > 0 && l.total >= l.loaded => format!(
                    " Sessions · loading {}/{} ",
                    thousands(l.loaded),
                    thousands(l.total)
                ),
                Some(l) => format!(" Sessions · loading {}… ", thousands(l.loaded)),
                _ => " Sessions ".to_string(),
            },
            v.theme.style(Role::Title),
        ));
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height < 2 || inner.width < 4 {
        return;
    }
    let cols = columns(inner.width as usize);
    let buf = f.buffer_mut();
    // Column header.
    let mut x = inner.x + MARKER as u16;
    for (col, w) in &cols {
        let mut title = col.title().to_string();
        if col_sort_matches(st, *col) {
            title.push_str(if st.sort_desc { "↓" } else { "↑" });
        }
        buf.set_stringn(
            x,
            inner.y,
            text::fit(&title, *w),
            *w,
            v.theme.style(Role::Muted),
        );
        x += *w as u16 + 1;
    }
    let rows_area = Rect::new(inner.x, inner.y + 1, inner.width, inner.height - 1);
    if st.view.is_empty() {
        let msg = if st.loading {
            "Loading sessions…".to_string()
        } else if !st.filter.is_empty() {
            "No session matches the filter (Esc in / clears it).".to_string()
        } else {
            "No sessions yet. Press n for a new login or i to import one.".to_string()
        };
        f.render_widget(
            Paragraph::new(msg).style(v.theme.style(Role::Muted)),
            rows_area,
        );
        return;
    }
    let visible = st
        .view
        .iter()
        .enumerate()
        .skip(st.offset)
        .take(rows_area.height as usize);
    for (line, (pos, idx)) in visible.enumerate() {
        let row = &st.rows[*idx];
        let y = rows_area.y + line as u16;
        let selected = pos == st.selected;
        let base: Style = if selected {
            v.theme.style(Role::Selected)
        } else {
            v.theme.style(Role::Base)
        };
        let line_area = Rect::new(rows_area.x, y, rows_area.width, 1);
        buf.set_style(line_area, base);
        // "=": another row holds the same auth key (one authorization, two files); "*": marked
        // (the details still tell of a shared key).
        let marked = crate::ui::fleet::marks::is_marked(st, &row.key());
        let marker = match (selected, marked, st.shares_key(row)) {
            (true, true, _) => "▶*",
            (false, true, _) => " *",
            (true, false, true) => "▶=",
            (true, false, false) => "▶ ",
            (false, false, true) => " =",
            (false, false, false) => "  ",
        };
        buf.set_stringn(rows_area.x, y, marker, MARKER, base);
        let mut x = rows_area.x + MARKER as u16;
        for (col, w) in &cols {
            let content = cell_text(st, row, *col);
            let style = if selected {
                base
            } else if row.locked && matches!(col, Col::Status | Col::Account) {
                v.theme.style(Role::Warn)
            } else if *col == Col::Status {
                v.theme.style(status_role(st.status(row)))
            } else if matches!(col, Col::Backend | Col::Format | Col::Kind) {
                v.theme.style(Role::Muted)
            } else {
                base
            };
            let shown = if matches!(col, Col::UserId | Col::Dc) {
                text::fit_right(&content, *w)
            } else if *col == Col::Name {
                // Names differ at the end as often as at the start (session-1-copy,
                // session-1-fork): keep both ends.
                text::fit_middle(&content, *w)
            } else {
                text::fit(&content, *w)
            };
            buf.set_stringn(x, y, shown, *w, style);
            x += *w as u16 + 1;
        }
    }
    // Scroll position, when not everything fits.
    if st.view.len() > rows_area.height as usize {
        let label = format!(" {}/{} ", st.selected + 1, st.view.len());
        let lx = area.x + area.width.saturating_sub(text::width(&label) as u16 + 2);
        buf.set_stringn(
            lx,
            area.y + area.height - 1,
            &label,
            label.len(),
            v.theme.style(Role::Muted),
        );
    }
}

/// 12000 -> "12,000".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn col_sort_matches(st: &AppState, col: Col) -> bool {
    use crate::ui::state::SortKey as K;
    matches!(
        (st.sort, col),
        (K::Name, Col::Name)
            | (K::Account, Col::Account)
            | (K::Backend, Col::Backend)
            | (K::Format, Col::Format)
            | (K::UserId, Col::UserId)
            | (K::Dc, Col::Dc)
            | (K::Kind, Col::Kind)
            | (K::Status, Col::Status)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_lists_drop_columns_in_order() {
        let all: Vec<Col> = columns(200).into_iter().map(|(c, _)| c).collect();
        assert_eq!(all, ORDER.to_vec());
        let narrow: Vec<Col> = columns(78).into_iter().map(|(c, _)| c).collect();
        assert!(!narrow.contains(&Col::Backend));
        assert!(narrow.contains(&Col::Status) && narrow.contains(&Col::Name));
        for w in [58usize, 78, 118, 200] {
            let used: usize = columns(w).iter().map(|(_, cw)| cw + 1).sum::<usize>() + MARKER - 1;
            assert!(used <= w, "{w}: {used}");
        }
    }
}
