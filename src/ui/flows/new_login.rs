//! New login: choose phone, bot or QR, where to store it, and its name.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Cmd, Cx, Pane, PaneError, STORAGE_CHOICES, ViewCx, check_new_name, storage_label};
use crate::ui::effects::SaveTarget;
use crate::ui::keymap::{Action, Context};
use crate::ui::msg::Outcome;
use crate::ui::state::SessionRow;
use crate::ui::view::modal;
use crate::ui::widgets::masked_input::{Field, Form};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Phone,
    Bot,
    Qr,
}

const METHODS: [(Method, &str); 3] = [
    (Method::Phone, "phone number + code"),
    (Method::Bot, "bot token"),
    (Method::Qr, "QR code (scan with a logged-in phone)"),
];

pub struct NewLoginPane {
    id: u64,
    focus: usize,
    method: usize,
    storage: usize,
    name: Form,
    error: Option<PaneError>,
}

/// `session-1`, `session-2`…: the first name not taken.
pub fn free_name(rows: &[SessionRow]) -> String {
    (1..)
        .map(|n| format!("session-{n}"))
        .find(|n| !rows.iter().any(|r| &r.name == n))
        .expect("some name is free")
}

impl NewLoginPane {
    pub fn new(id: u64, rows: &[SessionRow]) -> NewLoginPane {
        NewLoginPane {
            id,
            focus: 0,
            method: 0,
            storage: 0,
            name: Form::new(vec![Field::text("Name").with_value(&free_name(rows))]),
            error: None,
        }
    }

    fn start(&mut self, cx: &Cx) -> Vec<Cmd> {
        let name = self.name.value(0).trim().to_string();
        if let Err(e) = check_new_name(&name, cx.rows) {
            self.error = Some(PaneError::text(e));
            self.focus = 2;
            return Vec::new();
        }
        if let Some(why) = &cx.mode.api_missing {
            self.error = Some(PaneError::text(why.clone()));
            return Vec::new();
        }
        let target = SaveTarget {
            name,
            format: STORAGE_CHOICES[self.storage],
        };
        let pane: Box<dyn Pane> = match METHODS[self.method].0 {
            Method::Phone => Box::new(super::phone::PhonePane::new(self.id, target)),
            Method::Bot => Box::new(super::bot::BotPane::new(self.id, target)),
            Method::Qr => {
                let mut qr = super::qr::QrPane::new(self.id, target);
                let mut cmds = qr.start(cx.now);
                cmds.insert(0, Cmd::Replace(Box::new(qr)));
                return cmds;
            }
        };
        vec![Cmd::Replace(pane)]
    }
}

impl Pane for NewLoginPane {
    fn id(&self) -> u64 {
        self.id
    }

    fn step(&self) -> String {
        "new_login".into()
    }

    fn context(&self) -> Context {
        if self.focus == 2 {
            Context::Form
        } else {
            Context::Chooser
        }
    }

    fn on_action(&mut self, action: Action, cx: &Cx) -> Vec<Cmd> {
        match action {
            Action::NextField => self.focus = (self.focus + 1) % 3,
            Action::PrevField => self.focus = (self.focus + 2) % 3,
            Action::OptionNext | Action::OptionPrev => {
                let step = if action == Action::OptionNext { 1 } else { 0 };
                match self.focus {
                    0 => self.method = (self.method + METHODS.len() - 1 + 2 * step) % METHODS.len(),
                    1 => {
                        let n = STORAGE_CHOICES.len();
                        self.storage = (self.storage + n - 1 + 2 * step) % n
                    }
                    _ => {}
                }
            }
            Action::Submit => return self.start(cx),
            Action::Cancel => return vec![Cmd::Close],
            Action::ForceQuit => return vec![Cmd::Quit],
            _ => {}
        }
        Vec::new()
    }

    fn on_key(&mut self, ev: &KeyEvent) -> Vec<Cmd> {
        if self.focus == 2 {
            self.name.handle_key(ev);
            self.error = None;
        }
        Vec::new()
    }

    fn on_paste(&mut self, text: &str) {
        if self.focus == 2 {
            self.name.paste(text);
        }
    }

    fn on_outcome(&mut self, _seq: u64, _o: Outcome, _cx: &Cx) -> Vec<Cmd> {
        Vec::new()
    }

    fn animating(&self) -> bool {
        false
    }

    fn render(&self, f: &mut Frame, area: Rect, v: &ViewCx) {
        let mut lines = vec![
            modal::choice_line("Log in with", METHODS[self.method].1, self.focus == 0, v),
            modal::choice_line(
                "Store as",
                &storage_label(STORAGE_CHOICES[self.storage]),
                self.focus == 1,
                v,
            ),
        ];
        let (mut form, mut cursor) = modal::form_lines(&self.name, v, 2);
        if self.focus != 2 {
            cursor = None;
            // Show the name field unfocused.
            form = form
                .into_iter()
                .map(|l| {
                    let mut l = l;
                    if let Some(first) = l.spans.first_mut() {
                        first.content = "  ".into();
                    }
                    l
                })
                .collect();
        }
        lines.append(&mut form);
        lines.push(modal::muted("", v));
        lines.push(modal::muted(
            "↑↓ choose a line, ←→ change it, Enter to continue",
            v,
        ));
        let body_len = lines.len();
        if let Some(l) = modal::error_line(&self.error, v) {
            lines.push(l);
        }
        modal::draw_pane(f, area, "New login", 66, lines, body_len, cursor, v);
    }
}
