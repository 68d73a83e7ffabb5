//! Wrapping styled lines to a width exactly (so a pane knows how tall it is), keeping track
//! of where the text cursor lands.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

/// `lines` wrapped to `width` columns: at the last space when the row is at least half full,
/// else exactly at the width (paths, tokens). With `cursor` = (line, column) in `lines`, also
/// returns where it is in the wrapped rows.
pub fn wrap(
    lines: Vec<Line<'static>>,
    width: u16,
    cursor: Option<(u16, u16)>,
) -> (Vec<Line<'static>>, Option<(u16, u16)>) {
    let width = usize::from(width.max(1));
    let mut rows = Vec::new();
    let mut at = None;
    for (n, line) in lines.into_iter().enumerate() {
        let chars: Vec<(char, Style)> = line
            .spans
            .iter()
            .flat_map(|s| {
                let style = line.style.patch(s.style);
                s.content.chars().map(move |c| (c, style))
            })
            .collect();
        let want = cursor
            .filter(|(l, _)| usize::from(*l) == n)
            .map(|(_, c)| usize::from(c));
        let first_row = rows.len();
        let mut row: Row = Vec::new();
        let mut row_w = 0;
        // Display column (in the whole line) where the current row starts.
        let mut row_start_col = 0;
        for (c, style) in chars {
            let w = c.width().unwrap_or(0);
            if row_w + w > width && !row.is_empty() {
                let (done, rest) = split_at_space(row, width);
                let done_w: usize = done.iter().map(|(c, _)| c.width().unwrap_or(0)).sum();
                if let Some(want) = want
                    && at.is_none()
                    && want < row_start_col + done_w
                {
                    at = Some((rows.len(), want - row_start_col));
                }
                rows.push(to_line(done));
                row_start_col += done_w;
                row_w = rest.iter().map(|(c, _)| c.width().unwrap_or(0)).sum();
                row = rest;
            }
            row.push((c, style));
            row_w += w;
        }
        if let Some(want) = want
            && at.is_none()
        {
            let col_in_row = want.saturating_sub(row_start_col);
            // A cursor just past a full row goes to the start of the next one.
            if col_in_row >= width {
                rows.push(to_line(std::mem::take(&mut row)));
                at = Some((rows.len(), 0));
                rows.push(Line::default());
                continue;
            } else {
                at = Some((rows.len(), col_in_row));
            }
        }
        if !row.is_empty() || rows.len() == first_row {
            rows.push(to_line(row));
        }
    }
    let at = at.map(|(r, c)| (r as u16, c as u16));
    (rows, at)
}

/// One row being filled: characters with their styles.
type Row = Vec<(char, Style)>;

/// Splits a full row after its last space, if that leaves the row at least half full.
fn split_at_space(row: Row, width: usize) -> (Row, Row) {
    let mut w = 0;
    let mut split = None;
    for (i, (c, _)) in row.iter().enumerate() {
        w += c.width().unwrap_or(0);
        if *c == ' ' && w * 2 >= width {
            split = Some(i + 1);
        }
    }
    match split {
        Some(i) if i < row.len() => {
            let mut row = row;
            let rest = row.split_off(i);
            (row, rest)
        }
        _ => (row, Vec::new()),
    }
}

fn to_line(chars: Row) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut style = None;
    for (c, s) in chars {
        if style.is_some_and(|cur| cur != s) {
            spans.push(Span::styled(std::mem::take(&mut text), style.unwrap()));
        }
        style = Some(s);
        text.push(c);
    }
    if let Some(s) = style {
        spans.push(Span::styled(text, s));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn words_wrap_at_spaces_and_long_tokens_at_the_width() {
        let (rows, _) = wrap(
            vec![Line::from("error: cannot read /a/very/long/path")],
            16,
            None,
        );
        assert_eq!(
            texts(&rows),
            ["error: cannot ", "read /a/very/lon", "g/path"]
        );
        let (rows, _) = wrap(vec![Line::from("x".repeat(25))], 10, None);
        assert_eq!(rows.len(), 3);
        let (rows, _) = wrap(vec![Line::from("")], 10, None);
        assert_eq!(rows.len(), 1, "an empty line keeps its row");
    }

    #[test]
    fn the_cursor_follows_the_wrap() {
        let line = || Line::from(format!("› Code: {}", "9".repeat(30)));
        // "› Code: " | 9999999999 ×3: the cursor in the middle of the last row…
        let (rows, at) = wrap(vec![Line::from("title"), line()], 10, Some((1, 35)));
        assert_eq!(rows.len(), 5);
        assert_eq!(at, Some((4, 7)));
        // …and at the end of the full row: a new row starts under it.
        let (rows, at) = wrap(vec![Line::from("title"), line()], 10, Some((1, 38)));
        assert_eq!(rows.len(), 6);
        assert_eq!(at, Some((5, 0)));
    }
}
