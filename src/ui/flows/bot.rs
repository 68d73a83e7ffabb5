//! Bot login: token → saved and selected.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Cmd, Cx, Pane, PaneError, Requests, ViewCx, on_saved, save_login};
use crate::ui::effects::{Effect, SaveTarget};
use crate::ui::keymap::{Action, Context};
use crate::ui::msg::Outcome;
use crate::ui::view::modal;
use crate::ui::widgets::masked_input::{Field, Form};

pub struct BotPane {
    id: u64,
    target: SaveTarget,
    reqs: Requests,
    token: Form,
    error: Option<PaneError>,
}

impl BotPane {
    pub fn new(id: u64, target: SaveTarget) -> BotPane {
        BotPane {
            id,
            target,
            reqs: Requests::new(id),
            token: Form::new(vec![Field::secret("Bot token")]),
            error: None,
        }
    }
}

impl Pane for BotPane {
    fn id(&self) -> u64 {
        self.id
    }

    fn step(&self) -> String {
        "bot/token".into()
    }

    fn context(&self) -> Context {
        Context::Form
    }

    fn on_action(&mut self, action: Action, cx: &Cx) -> Vec<Cmd> {
        match action {
            Action::Submit if !self.reqs.busy() => {
                if self.error.as_ref().is_some_and(|e| e.blocks(cx.now)) {
                    return Vec::new();
                }
                if self.token.value(0).trim().is_empty() {
                    self.error = Some(PaneError::text("paste the token @BotFather gave you"));
                    return Vec::new();
                }
                self.error = None;
                vec![Cmd::Run(Effect::BotSignIn {
                    req: self.reqs.start(cx.now),
                    login: self.id,
                    token: crate::secret::SecretString::new(self.token.value(0).trim()),
                })]
            }
            Action::Cancel => vec![Cmd::Close],
            Action::ForceQuit => vec![Cmd::Quit],
            _ => Vec::new(),
        }
    }

    fn on_key(&mut self, ev: &KeyEvent) -> Vec<Cmd> {
        self.token.handle_key(ev);
        Vec::new()
    }

    fn on_paste(&mut self, text: &str) {
        self.token.paste(text);
    }

    fn on_outcome(&mut self, seq: u64, outcome: Outcome, cx: &Cx) -> Vec<Cmd> {
        if !self.reqs.take(seq) {
            return Vec::new();
        }
        match outcome {
            Outcome::LoggedIn(Ok(result)) => {
                vec![save_login(&mut self.reqs, cx.now, result, &self.target)]
            }
            Outcome::LoggedIn(Err(e)) => {
                self.error = Some(PaneError::service(&e, cx.now));
                Vec::new()
            }
            Outcome::Saved(result) => on_saved(result, &mut self.error),
            _ => Vec::new(),
        }
    }

    fn busy(&self) -> bool {
        self.reqs.busy()
    }

    fn animating(&self) -> bool {
        self.reqs.busy() || self.error.as_ref().is_some_and(|e| e.until.is_some())
    }

    fn render(&self, f: &mut Frame, area: Rect, v: &ViewCx) {
        let mut lines = vec![
            modal::muted(
                format!(
                    "Saving as '{}' ({})",
                    self.target.name,
                    super::storage_label(self.target.format)
                ),
                v,
            ),
            modal::plain("The token from @BotFather, like 123456:ABC-DEF…", v),
        ];
        lines.extend(super::phone::demo(v, crate::ui::backend::demo_bot_hint()));
        lines.push(modal::plain("", v));
        let (mut fl, cursor) = modal::form_lines(&self.token, v, lines.len() as u16);
        lines.append(&mut fl);
        let body_len = lines.len();
        lines.extend(modal::busy_line(&self.reqs, "signing in", v));
        lines.extend(modal::error_line(&self.error, v));
        modal::draw_pane(f, area, "Log in as a bot", 66, lines, body_len, cursor, v);
    }
}
