//! The help overlay, built from the same key tables the app uses.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{Cmd, Cx, Pane, ViewCx};
use crate::ui::keymap::{Action, Context, Keymap};
use crate::ui::msg::Outcome;
use crate::ui::state::Mode;
use crate::ui::text;
use crate::ui::theme::Role;
use crate::ui::view::modal;

const TITLE: &str = "Help: keys (↑↓ PgUp/PgDn scroll, Esc close)";

pub struct HelpPane {
    id: u64,
}

impl HelpPane {
    pub fn new(id: u64) -> HelpPane {
        HelpPane { id }
    }
}

/// The demo accounts in sandbox mode, then every binding of every context.
pub fn help_lines(keymap: &Keymap, mode: &Mode, v: &ViewCx) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    // In sandbox mode the demo accounts come first: they are what a newcomer needs.
    if !mode.demo_accounts.is_empty() {
        lines.push(Line::styled(
            "Sandbox demo accounts (n to log in)",
            v.theme.style(Role::Title),
        ));
        for d in &mode.demo_accounts {
            lines.push(Line::styled(format!("  {d}"), v.theme.style(Role::Base)));
        }
    }
    for ctx in Context::ALL {
        if ctx == Context::Help {
            continue;
        }
        lines.push(Line::styled(
            ctx.title().to_string(),
            v.theme.style(Role::Title),
        ));
        if ctx == Context::Filter {
            for hint in crate::ui::fleet::triage::HELP {
                lines.push(Line::styled(
                    format!("  {hint}"),
                    v.theme.style(Role::Muted),
                ));
            }
        }
        for b in keymap.bindings(ctx) {
            let keys = b
                .keys
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join(" ");
            lines.push(Line::from(vec![
                Span::styled(
                    format!("  {}", text::fit(&keys, 14)),
                    v.theme.style(Role::KeyHint),
                ),
                Span::styled(b.action.describe().to_string(), v.theme.style(Role::Base)),
            ]));
        }
    }
    lines
}

impl Pane for HelpPane {
    fn id(&self) -> u64 {
        self.id
    }

    fn step(&self) -> String {
        "help".into()
    }

    fn context(&self) -> Context {
        Context::Help
    }

    fn on_action(&mut self, action: Action, _cx: &Cx) -> Vec<Cmd> {
        match action {
            Action::Cancel => return vec![Cmd::Close],
            Action::ForceQuit => return vec![Cmd::Quit],
            _ => {}
        }
        Vec::new()
    }

    fn on_outcome(&mut self, _: u64, _: Outcome, _: &Cx) -> Vec<Cmd> {
        Vec::new()
    }

    fn animating(&self) -> bool {
        false
    }

    fn render(&self, f: &mut Frame, area: Rect, v: &ViewCx) {
        let lines = help_lines(v.keymap, v.mode, v);
        let body_len = lines.len();
        let w = area.width.saturating_sub(4).min(100);
        modal::draw_pane(f, area, TITLE, w, lines, body_len, None, v);
    }
}
