//! Clone: copy (the same key; shared authorization, with a warning) or fork (a new
//! authorization for the same account), with a target name and storage.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::{
    Cmd, Cx, Pane, PaneError, Requests, STORAGE_CHOICES, ViewCx, check_new_name, on_saved,
    save_login, storage_label,
};
use crate::telegram::LoginStep;
use crate::ui::account::AccountRef;
use crate::ui::effects::{Effect, SaveTarget};
use crate::ui::keymap::{Action, Context};
use crate::ui::msg::Outcome;
use crate::ui::state::SessionRow;
use crate::ui::view::modal;
use crate::ui::widgets::masked_input::{Field, Form};

pub struct ClonePane {
    id: u64,
    account: AccountRef,
    who: String,
    fork: bool,
    focus: usize,
    storage: usize,
    name: Form,
    reqs: Requests,
    error: Option<PaneError>,
    /// Where the fork goes, once started.
    target: Option<SaveTarget>,
    /// The account's 2FA password, when the fork asks for it (and its hint).
    password: Option<(Form, Option<String>)>,
}

impl ClonePane {
    pub fn new(id: u64, row: &SessionRow, rows: &[SessionRow]) -> Option<ClonePane> {
        let base = format!("{}-copy", row.name);
        let name = (1..)
            .map(|n| {
                if n == 1 {
                    base.clone()
                } else {
                    format!("{base}{n}")
                }
            })
            .find(|n| !rows.iter().any(|r| &r.name == n))
            .expect("some name is free");
        let storage = row
            .format
            .and_then(|f| {
                STORAGE_CHOICES
                    .iter()
                    .position(|c| c.family() == f.family())
            })
            .unwrap_or(0);
        Some(ClonePane {
            id,
            account: row.account_ref()?,
            who: row.describe_account(),
            fork: false,
            focus: 0,
            storage,
            name: Form::new(vec![Field::text("Name").with_value(&name)]),
            reqs: Requests::new(id),
            error: None,
            target: None,
            password: None,
        })
    }
}

impl Pane for ClonePane {
    fn id(&self) -> u64 {
        self.id
    }

    fn step(&self) -> String {
        if self.password.is_some() {
            "clone/fork_password".into()
        } else if self.fork {
            "clone/fork".into()
        } else {
            "clone/copy".into()
        }
    }

    fn context(&self) -> Context {
        if self.focus == 1 || self.password.is_some() {
            Context::Form
        } else {
            Context::Chooser
        }
    }

    fn on_action(&mut self, action: Action, cx: &Cx) -> Vec<Cmd> {
        match action {
            Action::NextField => self.focus = (self.focus + 1) % 3,
            Action::PrevField => self.focus = (self.focus + 2) % 3,
            Action::OptionNext | Action::OptionPrev => match self.focus {
                0 => self.fork = !self.fork,
                2 => {
                    let n = STORAGE_CHOICES.len();
                    self.storage = if action == Action::OptionNext {
                        (self.storage + 1) % n
                    } else {
                        (self.storage + n - 1) % n
                    };
                }
                _ => {}
            },
            Action::Submit if !self.reqs.busy() => {
                if self.error.as_ref().is_some_and(|e| e.blocks(cx.now)) {
                    return Vec::new();
                }
                if let Some((form, _)) = &self.password {
                    self.error = None;
                    return vec![Cmd::Run(Effect::CheckPassword {
                        req: self.reqs.start(cx.now),
                        login: self.id,
                        password: form.secret(0),
                    })];
                }
                let name = self.name.value(0).trim().to_string();
                if let Err(e) = check_new_name(&name, cx.rows) {
                    self.error = Some(PaneError::text(e));
                    return Vec::new();
                }
                self.error = None;
                let target = SaveTarget {
                    name,
                    format: STORAGE_CHOICES[self.storage],
                };
                let req = self.reqs.start(cx.now);
                let account = Box::new(self.account.clone());
                let effect = if self.fork {
                    self.target = Some(target);
                    Effect::Fork {
                        req,
                        login: self.id,
                        account,
                    }
                } else {
                    Effect::CopyClone {
                        req,
                        account,
                        target,
                    }
                };
                return vec![Cmd::Run(effect)];
            }
            Action::Cancel => return vec![Cmd::Close],
            Action::ForceQuit => return vec![Cmd::Quit],
            _ => {}
        }
        Vec::new()
    }

    fn on_key(&mut self, ev: &KeyEvent) -> Vec<Cmd> {
        if let Some((form, _)) = &mut self.password {
            form.handle_key(ev);
        } else if self.focus == 1 {
            self.name.handle_key(ev);
        }
        Vec::new()
    }

    fn on_paste(&mut self, text: &str) {
        if let Some((form, _)) = &mut self.password {
            form.paste(text);
        } else if self.focus == 1 {
            self.name.paste(text);
        }
    }

    fn on_outcome(&mut self, seq: u64, outcome: Outcome, cx: &Cx) -> Vec<Cmd> {
        if !self.reqs.take(seq) {
            return Vec::new();
        }
        let target = self.target.clone();
        match (outcome, target) {
            (Outcome::Saved(result), _) => on_saved(result, &mut self.error),
            (Outcome::Forked(Ok(LoginStep::Done(result))), Some(t)) => {
                vec![save_login(&mut self.reqs, cx.now, *result, &t)]
            }
            (Outcome::LoggedIn(Ok(result)), Some(t)) => {
                vec![save_login(&mut self.reqs, cx.now, result, &t)]
            }
            (Outcome::Forked(Ok(LoginStep::PasswordRequired { hint })), _) => {
                self.password = Some((Form::new(vec![Field::secret("Password")]), hint));
                Vec::new()
            }
            (Outcome::Forked(Err(e)) | Outcome::LoggedIn(Err(e)), _) => {
                self.error = Some(PaneError::service(&e, cx.now));
                Vec::new()
            }
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
        if let Some((form, hint)) = &self.password {
            let mut lines = vec![
                modal::muted(format!("Fork of {}", crate::ui::text::clean(&self.who)), v),
                modal::plain("The new login needs the account's 2FA password.", v),
                modal::muted(
                    format!(
                        "Hint: {}",
                        crate::ui::text::clean(hint.as_deref().unwrap_or("none"))
                    ),
                    v,
                ),
                modal::plain("", v),
            ];
            let (mut fl, cursor) = modal::form_lines(form, v, lines.len() as u16);
            lines.append(&mut fl);
            let body_len = lines.len();
            lines.extend(modal::busy_line(&self.reqs, "checking", v));
            lines.extend(modal::error_line(&self.error, v));
            modal::draw_pane(f, area, "Clone a session", 70, lines, body_len, cursor, v);
            return;
        }
        let mode = if self.fork {
            "fork: a new authorization"
        } else {
            "copy: the same key"
        };
        let mut lines = vec![
            modal::muted(format!("From {}", crate::ui::text::clean(&self.who)), v),
            modal::choice_line("Clone as", mode, self.focus == 0, v),
        ];
        let (mut fl, mut cursor) = modal::form_lines(&self.name, v, lines.len() as u16);
        if self.focus != 1 {
            cursor = None;
            if let Some(first) = fl.first_mut().and_then(|l| l.spans.first_mut()) {
                first.content = "  ".into();
            }
        }
        lines.append(&mut fl);
        lines.push(modal::choice_line(
            "Store as",
            &storage_label(STORAGE_CHOICES[self.storage]),
            self.focus == 2,
            v,
        ));
        lines.push(modal::plain("", v));
        if self.fork {
            lines.push(modal::plain(
                "Telegram creates a new authorization (a new device in the",
                v,
            ));
            lines.push(modal::plain(
                "list) for the same account; each can be logged out alone.",
                v,
            ));
        } else {
            lines.push(modal::warn(
                "Warning: the copy shares the auth key. Both files are ONE",
                v,
            ));
            lines.push(modal::warn(
                "authorization: logging out either ends both, and using both",
                v,
            ));
            lines.push(modal::warn(
                "at once from different places can get the key revoked.",
                v,
            ));
        }
        let body_len = lines.len();
        lines.extend(modal::busy_line(
            &self.reqs,
            if self.fork { "forking" } else { "copying" },
            v,
        ));
        lines.extend(modal::error_line(&self.error, v));
        modal::draw_pane(f, area, "Clone a session", 70, lines, body_len, cursor, v);
    }
}
