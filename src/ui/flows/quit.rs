//! Quitting with memory sessions asks first: they exist only in this process.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Cmd, Cx, Pane, ViewCx};
use crate::ui::keymap::{Action, Context};
use crate::ui::msg::Outcome;
use crate::ui::view::modal;

pub struct QuitPane {
    id: u64,
    names: Vec<String>,
}

impl QuitPane {
    pub fn new(id: u64, names: Vec<String>) -> QuitPane {
        QuitPane { id, names }
    }
}

impl Pane for QuitPane {
    fn id(&self) -> u64 {
        self.id
    }

    fn step(&self) -> String {
        "quit/confirm".into()
    }

    fn context(&self) -> Context {
        Context::Confirm
    }

    fn on_action(&mut self, action: Action, _cx: &Cx) -> Vec<Cmd> {
        match action {
            Action::Yes | Action::ForceQuit => vec![Cmd::Quit],
            Action::No | Action::Cancel => vec![Cmd::Close],
            _ => Vec::new(),
        }
    }

    fn on_outcome(&mut self, _: u64, _: Outcome, _: &Cx) -> Vec<Cmd> {
        Vec::new()
    }

    fn animating(&self) -> bool {
        false
    }

    fn render(&self, f: &mut Frame, area: Rect, v: &ViewCx) {
        let names = self
            .names
            .iter()
            .map(|n| crate::ui::text::clean(n))
            .collect::<Vec<_>>()
            .join(", ");
        let lines = vec![
            modal::warn(
                format!(
                    "{} memory session(s) will be lost: {names}",
                    self.names.len()
                ),
                v,
            ),
            modal::muted("Export them first (e) to keep them.", v),
            modal::plain("", v),
            modal::plain("y: quit anyway    n / Esc: stay", v),
        ];
        let body_len = lines.len();
        modal::draw_pane(f, area, "Quit?", 70, lines, body_len, None, v);
    }
}
