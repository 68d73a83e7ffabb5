//! Two-step verification editor: enable, change (the password, or only the hint), disable
//! (with a confirmation naming the account), and a recovery email with its code step (resend
//! with Ctrl-R). The email edit waits in the service under this pane's id; closing the pane
//! ends it, which frees the session.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Cmd, Cx, Pane, PaneError, Requests, ViewCx};
use crate::secret::SecretString;
use crate::telegram::{Edit2faStep, PasswordChange, PasswordInfo};
use crate::ui::account::AccountRef;
use crate::ui::effects::Effect;
use crate::ui::keymap::{Action, Context};
use crate::ui::msg::Outcome;
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
    account: AccountRef,
    row_key: String,
    who: String,
    reqs: Requests,
    step: Step,
    info: Option<PasswordInfo>,
    form: Form,
    error: Option<PaneError>,
    /// The recovery email of the change in flight (named in the code step).
    email: Option<String>,
}

impl TwoFaPane {
    /// The pane and its first request (the current 2FA state).
    pub fn open(id: u64, row: &SessionRow, now: u64) -> Option<(TwoFaPane, Vec<Cmd>)> {
        let mut pane = TwoFaPane {
            id,
            account: row.account_ref()?,
            row_key: row.key(),
            who: row.describe_account(),
            reqs: Requests::new(id),
            step: Step::Loading,
            info: None,
            form: Form::default(),
            error: None,
            email: None,
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

    fn change_for(&self, edit: Edit) -> Result<PasswordChange, String> {
        let f = &self.form;
        let hint = self.info.as_ref().and_then(|i| i.hint.clone());
        let current = || -> Result<SecretString, String> {
            if f.value(0).is_empty() {
                return Err("type the current password".into());
            }
            Ok(f.secret(0))
        };
        let new_pair = |a: usize, b: usize| -> Result<SecretString, String> {
            if f.value(a).is_empty() {
                return Err("type the new password".into());
            }
            if f.value(a) != f.value(b) {
                return Err("the two new passwords differ".into());
            }
            Ok(f.secret(a))
        };
        let text = |i: usize| Some(f.value(i).trim().to_string()).filter(|t| !t.is_empty());
        Ok(match edit {
            Edit::Enable => PasswordChange::Enable {
                new: new_pair(0, 1)?,
                hint: text(2),
                email: text(3),
            },
            Edit::Change => {
                let current = current()?;
                // Both new fields empty: only the hint changes, the password stays.
                let new = if f.value(1).is_empty() && f.value(2).is_empty() {
                    current.clone()
                } else {
                    new_pair(1, 2)?
                };
                PasswordChange::Change {
                    current,
                    new,
                    hint: text(3),
                    email: None,
                }
            }
            Edit::SetEmail => {
                let current = current()?;
                let email = text(1).ok_or("type the recovery email")?;
                PasswordChange::Change {
                    new: current.clone(),
                    current,
                    hint,
                    email: Some(email),
                }
            }
            Edit::Disable => PasswordChange::Disable {
                current: current()?,
            },
        })
    }

    fn send(&mut self, change: PasswordChange, now: u64) -> Vec<Cmd> {
        self.email = match &change {
            PasswordChange::Enable { email, .. } | PasswordChange::Change { email, .. } => {
                email.clone()
            }
            PasswordChange::Disable { .. } => None,
        };
        vec![Cmd::Run(Effect::EditTwoFa {
            req: self.reqs.start(now),
            flow: self.id,
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
            Step::EmailCode { .. } => Context::Code,
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
                if self.form.value(0).trim().is_empty() {
                    self.error = Some(PaneError::text(
                        "type the code from the email (Ctrl-R sends it again)",
                    ));
                    return Vec::new();
                }
                self.error = None;
                return vec![Cmd::Run(Effect::ConfirmEmail {
                    req: self.reqs.start(cx.now),
                    flow: self.id,
                    code: SecretString::new(self.form.value(0).trim()),
                })];
            }
            (Step::EmailCode { .. }, Action::Resend) => {
                self.error = None;
                return vec![Cmd::Run(Effect::ResendEmail {
                    req: self.reqs.start(cx.now),
                    flow: self.id,
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
            Outcome::TwoFaEdited(Ok(Edit2faStep::Done)) => {
                let text = match self.step {
                    Step::Form(Edit::Disable) => "two-step verification is off",
                    Step::Form(Edit::Enable) => "two-step verification is on",
                    Step::EmailCode { .. } => "recovery email confirmed",
                    _ => "two-step verification updated",
                };
                return self.finished(text);
            }
            Outcome::TwoFaEdited(Ok(Edit2faStep::EmailCode(prompt))) => {
                if !matches!(self.step, Step::EmailCode { .. }) {
                    // Codes are shown as typed, as the official apps do.
                    self.form = Form::new(vec![Field::code("Email code")]);
                    let pattern = self.email.clone().unwrap_or_else(|| "your email".into());
                    self.step = Step::EmailCode { pattern };
                }
                if let Some(e) = prompt.error {
                    self.error = Some(PaneError::service(&e, cx.now));
                }
            }
            Outcome::PasswordInfo(Err(e)) | Outcome::TwoFaEdited(Err(e)) => {
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
                if *edit == Edit::Change {
                    lines.push(modal::muted(
                        "Leave the new password empty to change only the hint.",
                        v,
                    ));
                }
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
        let body_len = lines.len();
        lines.extend(modal::busy_line(&self.reqs, "waiting for Telegram", v));
        lines.extend(modal::error_line(&self.error, v));
        modal::draw_pane(
            f,
            area,
            "Two-step verification",
            72,
            lines,
            body_len,
            cursor,
            v,
        );
    }
}
