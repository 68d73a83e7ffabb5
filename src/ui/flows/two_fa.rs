//! Two-step verification editor: enable, change, disable (with a confirmation naming the
//! account), hint, and a recovery email with its code step.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Cmd, Cx, Pane, PaneError, Requests, ViewCx};
use crate::secret::SecretString;
use crate::ui::effects::Effect;
use crate::ui::keymap::{Action, Context};
use crate::ui::msg::Outcome;
use crate::ui::service::{Account, PasswordInfo, TwoFaChange, TwoFaOutcome};
use crate::ui::state::{Notice, SessionRow};
use crate::ui::view::modal;
use crate::ui::widgets::masked_input::{Field, Form};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    Enable,
    Change,
    SetEmail,
    Disable,
}

impl Edit {
    fn label(self) -> &'static str {
        match self {
            Edit::Enable => "Turn on two-step verification",
            Edit::Change => "Change the password or hint",
            Edit::SetEmail => "Set a recovery email",
            Edit::Disable => "Turn off two-step verification",
        }
    }
}

enum Step {
    Loading,
    Menu { choices: Vec<Edit>, at: usize },
    Form(Edit),
    ConfirmDisable,
    EmailCode { pattern: String },
}

pub struct TwoFaPane {
    id: u64,
    account: Account,
    row_key: String,
    who: String,
    reqs: Requests,
    step: Step,
    info: Option<PasswordInfo>,
    form: Form,
    error: Option<PaneError>,
}

impl TwoFaPane {
    /// The pane and its first request (the current 2FA state).
    pub fn open(id: u64, row: &SessionRow, now: u64) -> Option<(TwoFaPane, Vec<Cmd>)> {
        let mut pane = TwoFaPane {
            id,
            account: row.as_account()?,
            row_key: row.key(),
            who: row.describe_account(),
            reqs: Requests::new(id),
            step: Step::Loading,
            info: None,
            form: Form::default(),
            error: None,
        };
        let cmd = Cmd::Run(Effect::PasswordInfo {
            req: pane.reqs.start(now),
            account: Box::new(pane.account.clone()),
        });
        Some((pane, vec![cmd]))
    }

    fn choose(&mut self, edit: Edit) {
        let hint = self
            .info
            .as_ref()
            .and_then(|i| i.hint.clone())
            .unwrap_or_default();
        self.form = Form::new(match edit {
            Edit::Enable => vec![
                Field::secret("New password"),
                Field::secret("Repeat it"),
                Field::text("Hint"),
                Field::text("Recovery email"),
            ],
            Edit::Change => vec![
                Field::secret("Current password"),
                Field::secret("New password"),
                Field::secret("Repeat it"),
                Field::text("Hint").with_value(&hint),
            ],
            Edit::SetEmail => vec![
                Field::secret("Current password"),
                Field::text("Recovery email"),
            ],
            Edit::Disable => vec![Field::secret("Current password")],
        });
        self.step = Step::Form(edit);
    }

    fn change_for(&self, edit: Edit) -> Result<TwoFaChange, String> {
        let f = &self.form;
        let hint = self
            .info
            .as_ref()
            .and_then(|i| i.hint.clone())
            .unwrap_or_default();
        let new_pair = |a: usize, b: usize| -> Result<SecretString, String> {
            if f.value(a).is_empty() {
                return Err("type the new password".into());
            }
            if f.value(a) != f.value(b) {
                return Err("the two new passwords differ".into());
            }
            Ok(f.secret(a))
        };
        Ok(match edit {
            Edit::Enable => TwoFaChange {
                current: None,
                new: Some(new_pair(0, 1)?),
                hint: f.value(2).to_string(),
                email: Some(f.value(3).trim().to_string()).filter(|e| !e.is_empty()),
            },
            Edit::Change => TwoFaChange {
                current: Some(f.secret(0)),
                new: Some(new_pair(1, 2)?),
                hint: f.value(3).to_string(),
                email: None,
            },
            Edit::SetEmail => {
                if f.value(1).trim().is_empty() {
                    return Err("type the recovery email".into());
                }
                TwoFaChange {
                    current: Some(f.secret(0)),
                    new: Some(f.secret(0)),
                    hint,
                    email: Some(f.value(1).trim().to_string()),
                }
            }
            Edit::Disable => TwoFaChange {
                current: Some(f.secret(0)),
                new: None,
                hint: String::new(),
                email: None,
            },
        })
    }

    fn send(&mut self, change: TwoFaChange, now: u64) -> Vec<Cmd> {
        vec![Cmd::Run(Effect::EditTwoFa {
            req: self.reqs.start(now),
            account: Box::new(self.account.clone()),
            change,
        })]
    }

    fn finished(&mut self, text: &str) -> Vec<Cmd> {
        vec![
            // What changed is re-read next time the pane opens.
            Cmd::Learned(self.row_key.clone(), Box::new(|k| k.password = None)),
            Cmd::Notice(Notice::ok(format!("{text}: {}", self.who))),
            Cmd::Close,
        ]
    }
}

impl Pane for TwoFaPane {
    fn id(&self) -> u64 {
        self.id
    }

    fn step(&self) -> String {
        match &self.step {
            Step::Loading => "2fa/loading".into(),
            Step::Menu { .. } => "2fa/menu".into(),
            Step::Form(e) => format!("2fa/{e:?}").to_lowercase(),
            Step::ConfirmDisable => "2fa/confirm_disable".into(),
            Step::EmailCode { .. } => "2fa/email_code".into(),
        }
    }

    fn context(&self) -> Context {
        match self.step {
            Step::Loading | Step::Menu { .. } => Context::Chooser,
            Step::ConfirmDisable => Context::Confirm,
            _ => Context::Form,
        }
    }

    fn on_action(&mut self, action: Action, cx: &Cx) -> Vec<Cmd> {
        if action == Action::ForceQuit {
            return vec![Cmd::Quit];
        }
        if matches!(action, Action::Cancel) {
            return vec![Cmd::Close];
        }
        if self.reqs.busy() || self.error.as_ref().is_some_and(|e| e.blocks(cx.now)) {
            return Vec::new();
        }
        match (&mut self.step, action) {
            (Step::Menu { choices, at }, Action::NextField) => *at = (*at + 1) % choices.len(),
            (Step::Menu { choices, at }, Action::PrevField) => {
                *at = (*at + choices.len() - 1) % choices.len()
            }
            (Step::Menu { choices, at }, Action::Submit) => {
                let edit = choices[*at];
                self.choose(edit);
            }
            (Step::Form(_), Action::NextField) => self.form.next(),
            (Step::Form(_), Action::PrevField) => self.form.prev(),
            (Step::Form(edit), Action::Submit) => {
                let edit = *edit;
                self.error = None;
                if edit == Edit::Disable {
                    if self.form.value(0).is_empty() {
                        self.error = Some(PaneError::text("type the current password"));
                    } else {
                        self.step = Step::ConfirmDisable;
                    }
                    return Vec::new();
                }
                match self.change_for(edit) {
                    Ok(change) => return self.send(change, cx.now),
                    Err(e) => self.error = Some(PaneError::text(e)),
                }
            }
            (Step::ConfirmDisable, Action::Yes) => {
                if let Ok(change) = self.change_for(Edit::Disable) {
                    self.step = Step::Form(Edit::Disable);
                    return self.send(change, cx.now);
                }
            }
            (Step::ConfirmDisable, Action::No) => self.step = Step::Form(Edit::Disable),
            (Step::EmailCode { .. }, Action::Submit) => {
                return vec![Cmd::Run(Effect::ConfirmEmail {
                    req: self.reqs.start(cx.now),
                    account: Box::new(self.account.clone()),
                    code: self.form.secret(0),
                })];
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_key(&mut self, ev: &KeyEvent) -> Vec<Cmd> {
        if matches!(self.step, Step::Form(_) | Step::EmailCode { .. }) {
            self.form.handle_key(ev);
        }
        Vec::new()
    }

    fn on_paste(&mut self, text: &str) {
        self.form.paste(text);
    }

    fn on_outcome(&mut self, seq: u64, outcome: Outcome, cx: &Cx) -> Vec<Cmd> {
        if !self.reqs.take(seq) {
            return Vec::new();
        }
        match outcome {
            Outcome::PasswordInfo(Ok(info)) => {
                let choices = if info.has_password {
                    vec![Edit::Change, Edit::SetEmail, Edit::Disable]
                } else {
                    vec![Edit::Enable]
                };
                let learned = info.clone();
                self.info = Some(info);
                self.step = Step::Menu { choices, at: 0 };
                return vec![Cmd::Learned(
                    self.row_key.clone(),
                    Box::new(move |k| k.password = Some(learned)),
                )];
            }
            Outcome::TwoFaEdited(Ok(TwoFaOutcome::Done)) => {
                let text = match self.step {
                    Step::Form(Edit::Disable) => "two-step verification is off",
                    Step::Form(Edit::Enable) => "two-step verification is on",
                    _ => "two-step verification updated",
                };
                return self.finished(text);
            }
            Outcome::TwoFaEdited(Ok(TwoFaOutcome::EmailCodeSent { pattern })) => {
                self.form = Form::new(vec![Field::secret("Email code")]);
                self.step = Step::EmailCode { pattern };
            }
            Outcome::EmailConfirmed(Ok(())) => return self.finished("recovery email confirmed"),
            Outcome::PasswordInfo(Err(e))
            | Outcome::TwoFaEdited(Err(e))
            | Outcome::EmailConfirmed(Err(e)) => {
                self.error = Some(PaneError::service(&e, cx.now));
            }
            _ => {}
        }
        Vec::new()
    }

    fn busy(&self) -> bool {
        self.reqs.busy()
    }

    fn animating(&self) -> bool {
        self.reqs.busy() || self.error.as_ref().is_some_and(|e| e.until.is_some())
    }

    fn render(&self, f: &mut Frame, area: Rect, v: &ViewCx) {
        let mut lines = vec![modal::muted(crate::ui::text::clean(&self.who), v)];
        let mut cursor = None;
        if let Some(info) = &self.info {
            let state = if info.has_password { "on" } else { "off" };
            let hint = info
                .hint
                .as_deref()
                .map(|h| format!(" (hint: {})", crate::ui::text::clean(h)));
            let email = if info.has_recovery_email {
                "set"
            } else {
                "none"
            };
            lines.push(modal::plain(
                format!(
                    "Two-step verification: {state}{}; recovery email: {email}",
                    hint.unwrap_or_default()
                ),
                v,
            ));
        }
        lines.push(modal::plain("", v));
        match &self.step {
            Step::Loading => lines.push(modal::plain("Reading the current settings…", v)),
            Step::Menu { choices, at } => {
                for (i, c) in choices.iter().enumerate() {
                    let marker = if i == *at { "▶ " } else { "  " };
                    let style = if i == *at {
                        v.theme.style(crate::ui::theme::Role::Selected)
                    } else {
                        v.theme.style(crate::ui::theme::Role::Base)
                    };
                    lines.push(ratatui::text::Line::styled(
                        format!("{marker}{}", c.label()),
                        style,
                    ));
                }
            }
            Step::Form(edit) => {
                lines.push(modal::plain(edit.label(), v));
                let (mut fl, c) = modal::form_lines(&self.form, v, lines.len() as u16);
                cursor = c;
                lines.append(&mut fl);
            }
            Step::ConfirmDisable => {
                lines.push(modal::warn(
                    format!(
                        "Turn off two-step verification for {}?",
                        crate::ui::text::clean(&self.who)
                    ),
                    v,
                ));
                lines.push(modal::plain("y: turn it off    n: go back", v));
            }
            Step::EmailCode { pattern } => {
                lines.push(modal::plain(
                    format!("A code was sent to {}.", crate::ui::text::clean(pattern)),
                    v,
                ));
                let (mut fl, c) = modal::form_lines(&self.form, v, lines.len() as u16);
                cursor = c;
                lines.append(&mut fl);
            }
        }
        lines.extend(modal::busy_line(&self.reqs, "waiting for Telegram", v));
        lines.extend(modal::error_line(&self.error, v));
        modal::draw_pane(f, area, "Two-step verification", 72, lines, cursor, v);
    }
}
