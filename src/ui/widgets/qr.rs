//! A QR code drawn with half blocks: two modules per cell (`▀ ▄ █` and space), with a
//! 4-module quiet zone. Painted dark on light by default; in glyph-light mode (no colour on a
//! dark background) the glyphs draw the light modules instead.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

pub const QUIET_ZONE: usize = 4;

/// The modules of a QR code, without the quiet zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrMatrix {
    pub width: usize,
    dark: Vec<bool>,
}

impl QrMatrix {
    pub fn encode(data: &str) -> Option<QrMatrix> {
        let code = qrcode::QrCode::new(data.as_bytes()).ok()?;
        let width = code.width();
        let dark = code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        Some(QrMatrix { width, dark })
    }

    /// Whether the module at (x, y) of the padded grid is dark.
    pub fn dark_at(&self, x: usize, y: usize) -> bool {
        let (Some(cx), Some(cy)) = (x.checked_sub(QUIET_ZONE), y.checked_sub(QUIET_ZONE)) else {
            return false;
        };
        cx < self.width && cy < self.width && self.dark[cy * self.width + cx]
    }

    /// Modules per side including the quiet zone.
    pub fn padded(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    /// Cells needed: (columns, rows).
    pub fn cells(&self) -> (u16, u16) {
        let n = self.padded();
        (n as u16, n.div_ceil(2) as u16)
    }

    /// Draws the code with its top-left corner at `at`. The caller checks that it fits; a
    /// cropped code is never drawn.
    pub fn draw(&self, buf: &mut Buffer, at: (u16, u16), style: Style, glyph_light: bool) {
        let n = self.padded();
        let (cols, rows) = self.cells();
        let area = Rect::new(at.0, at.1, cols, rows);
        if area.intersection(buf.area) != area {
            return;
        }
        for row in 0..rows as usize {
            for x in 0..n {
                let top = self.dark_at(x, 2 * row);
                let bottom = 2 * row + 1 < n && self.dark_at(x, 2 * row + 1);
                // The glyph marks the modules drawn in the foreground.
                let (t, b) = if glyph_light {
                    (!top, 2 * row + 1 < n && !bottom)
                } else {
                    (top, bottom)
                };
                let symbol = match (t, b) {
                    (true, true) => "█",
                    (true, false) => "▀",
                    (false, true) => "▄",
                    (false, false) => " ",
                };
                if let Some(cell) = buf.cell_mut((at.0 + x as u16, at.1 + row as u16)) {
                    cell.set_symbol(symbol).set_style(style);
                }
            }
        }
    }
}

/// Reads drawn cells back into module bits (dark = true), for tests and checks.
pub fn read_back(buf: &Buffer, at: (u16, u16), padded: usize, glyph_light: bool) -> Vec<Vec<bool>> {
    let mut grid = vec![vec![false; padded]; padded];
    for (y, line) in grid.iter_mut().enumerate() {
        for (x, bit) in line.iter_mut().enumerate() {
            let cell = &buf[(at.0 + x as u16, at.1 + (y / 2) as u16)];
            let (t, b) = match cell.symbol() {
                "█" => (true, true),
                "▀" => (true, false),
                "▄" => (false, true),
                _ => (false, false),
            };
            let fg = if y % 2 == 0 { t } else { b };
            *bit = if glyph_light { !fg } else { fg };
        }
    }
    grid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_token_length() {
        // Telegram tokens are 32–64 bytes, sent base64url-encoded (43–86 characters).
        for bytes in [32usize, 48, 64] {
            let len = (bytes * 4).div_ceil(3);
            let url = format!(
                "tg://login?token={}",
                "Ab-_".repeat(len).get(..len).unwrap()
            );
            let m = QrMatrix::encode(&url).unwrap();
            let (cols, rows) = m.cells();
            assert!((41..=49).contains(&cols), "{len}: {cols}");
            assert!((21..=25).contains(&rows), "{len}: {rows}");
        }
    }

    #[test]
    fn drawing_and_reading_back_agree_in_both_modes() {
        let m = QrMatrix::encode("tg://login?token=abc").unwrap();
        let (cols, rows) = m.cells();
        for glyph_light in [false, true] {
            let mut buf = Buffer::empty(Rect::new(0, 0, cols + 2, rows + 1));
            m.draw(&mut buf, (1, 1), Style::default(), glyph_light);
            let grid = read_back(&buf, (1, 1), m.padded(), glyph_light);
            for (y, line) in grid.iter().enumerate() {
                for (x, bit) in line.iter().enumerate() {
                    assert_eq!(*bit, m.dark_at(x, y), "({x},{y}) glyph_light={glyph_light}");
                }
            }
        }
    }

    #[test]
    fn a_code_that_does_not_fit_is_not_drawn() {
        let m = QrMatrix::encode("tg://login?token=abc").unwrap();
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 10));
        m.draw(&mut buf, (0, 0), Style::default(), false);
        assert!(buf.content.iter().all(|c| c.symbol() == " "));
    }
}
