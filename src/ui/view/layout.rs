//! Where each part of the main screen goes, computed from the frame size on every frame.

use ratatui::layout::Rect;

pub const MIN_W: u16 = 60;
pub const MIN_H: u16 = 16;
/// From this width the detail pane sits beside the list instead of under it.
pub const SIDE_BY_SIDE: u16 = 140;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub list: Rect,
    pub detail: Rect,
    pub status: Rect,
    pub hints: Rect,
}

/// `None` when the terminal is below the minimum size.
pub fn areas(area: Rect) -> Option<Areas> {
    if area.width < MIN_W || area.height < MIN_H {
        return None;
    }
    let (x, y, w, h) = (area.x, area.y, area.width, area.height);
    let body_h = h - 3;
    let (list, detail) = if w >= SIDE_BY_SIDE {
        let lw = w * 3 / 5;
        (
            Rect::new(x, y + 1, lw, body_h),
            Rect::new(x + lw, y + 1, w - lw, body_h),
        )
    } else {
        let dh = (body_h * 2 / 5).max(7);
        let lh = body_h - dh;
        (Rect::new(x, y + 1, w, lh), Rect::new(x, y + 1 + lh, w, dh))
    };
    Some(Areas {
        header: Rect::new(x, y, w, 1),
        list,
        detail,
        status: Rect::new(x, y + h - 2, w, 1),
        hints: Rect::new(x, y + h - 1, w, 1),
    })
}

/// Session rows the list shows at this terminal size (border and column header excluded).
pub fn list_rows(w: u16, h: u16) -> usize {
    areas(Rect::new(0, 0, w, h))
        .map(|a| a.list.height.saturating_sub(3) as usize)
        .unwrap_or(0)
}
