//! Phone login: number → code (delivery shown, resend, SMS, countdown) → sign-up names when
//! needed → 2FA password (masked, hint shown) → saved and selected.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Cmd, Cx, Pane, PaneError, Requests, ViewCx, on_saved, save_login};
use crate::telegram::{CodeSent, LoginStep};
use crate::ui::backend;
use crate::ui::effects::{Effect, SaveTarget};
use crate::ui::keymap::{Action, Context};
use crate::ui::msg::Outcome;
use crate::ui::view::modal;
use crate::ui::widgets::masked_input::{Field, Form};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Phone,
    Code,
    SignUp,
    Password,
    /// A forgotten password: the code Telegram emailed to the recovery address.
    Recovery,
}

pub struct PhonePane {
    id: u64,
    target: SaveTarget,
    reqs: Requests,
    pub step: Step,
    phone: Form,
    code: Form,
    names: Form,
    password: Form,
    recovery: Form,
    /// Where the recovery code went (`a***@b.c`).
    recovery_to: String,
    sent: Option<CodeSent>,
    resend_at: u64,
    hint: Option<String>,
    error: Option<PaneError>,
    saving: bool,
}

impl PhonePane {
    pub fn new(id: u64, target: SaveTarget) -> PhonePane {
        PhonePane {
            id,
            target,
            reqs: Requests::new(id),
            step: Step::Phone,
            phone: Form::new(vec![Field::text("Phone number")]),
            code: Form::new(vec![Field::code("Code")]),
            names: Form::new(vec![Field::text("First name"), Field::text("Last name")]),
            password: Form::new(vec![Field::secret("Password")]),
            recovery: Form::new(vec![Field::code("Recovery code")]),
            recovery_to: String::new(),
            sent: None,
            resend_at: 0,
            hint: None,
            error: None,
            saving: false,
        }
    }

    fn form(&mut self) -> &mut Form {
        match self.step {
            Step::Phone => &mut self.phone,
            Step::Code => &mut self.code,
            Step::SignUp => &mut self.names,
            Step::Password => &mut self.password,
            Step::Recovery => &mut self.recovery,
        }
    }

    fn submit(&mut self, now: u64) -> Vec<Cmd> {
        if self.reqs.busy() || self.saving {
            return Vec::new();
        }
        if self.error.as_ref().is_some_and(|e| e.blocks(now)) {
            return Vec::new();
        }
        self.error = None;
        let login = self.id;
        let effect = match self.step {
            Step::Phone => {
                let phone: String = self
                    .phone
                    .value(0)
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                if phone.is_empty() {
                    self.error = Some(PaneError::text("type the phone number, with +country code"));
                    return Vec::new();
                }
                Effect::SendCode {
                    req: self.reqs.start(now),
                    login,
                    phone,
                }
            }
            Step::Code => {
                if self.code.value(0).is_empty() {
                    self.error = Some(PaneError::text("type the code you received"));
                    return Vec::new();
                }
                Effect::SignIn {
                    req: self.reqs.start(now),
                    login,
                    code: self.code.secret(0),
                }
            }
            Step::SignUp => Effect::SignUp {
                req: self.reqs.start(now),
                login,
                first: self.names.value(0).trim().to_string(),
                last: self.names.value(1).trim().to_string(),
            },
            Step::Password => Effect::CheckPassword {
                req: self.reqs.start(now),
                login,
                password: self.password.secret(0),
            },
            Step::Recovery => {
                if self.recovery.value(0).trim().is_empty() {
                    self.error = Some(PaneError::text("type the code from the email"));
                    return Vec::new();
                }
                Effect::EnterRecoveryCode {
                    req: self.reqs.start(now),
                    login,
                    code: crate::secret::SecretString::new(self.recovery.value(0).trim()),
                }
            }
        };
        vec![Cmd::Run(effect)]
    }

    fn resend(&mut self, now: u64) -> Vec<Cmd> {
        if self.step != Step::Code || self.reqs.busy() {
            return Vec::new();
        }
        if now < self.resend_at {
            self.error = Some(PaneError::wait(
                "you can ask for a new code",
                self.resend_at,
            ));
            return Vec::new();
        }
        self.error = None;
        vec![Cmd::Run(Effect::ResendCode {
            req: self.reqs.start(now),
            login: self.id,
        })]
    }

    fn code_sent(&mut self, sent: CodeSent, now: u64) {
        self.resend_at = now + u64::from(sent.timeout.unwrap_or(0)) * 1000;
        self.sent = Some(sent);
        self.step = Step::Code;
    }
}

impl Pane for PhonePane {
    fn id(&self) -> u64 {
        self.id
    }

    fn step(&self) -> String {
        let s = match self.step {
            Step::Phone => "phone",
            Step::Code => "code",
            Step::SignUp => "sign_up",
            Step::Password => "password",
            Step::Recovery => "recovery",
        };
        format!("phone/{s}")
    }

    fn context(&self) -> Context {
        if self.step == Step::Code {
            Context::Code
        } else {
            Context::Form
        }
    }

    fn on_action(&mut self, action: Action, cx: &Cx) -> Vec<Cmd> {
        match action {
            Action::Submit => self.submit(cx.now),
            Action::Cancel => vec![Cmd::Close],
            Action::ForceQuit => vec![Cmd::Quit],
            Action::NextField => {
                self.form().next();
                Vec::new()
            }
            Action::PrevField => {
                self.form().prev();
                Vec::new()
            }
            // Telegram picks the next delivery (often SMS); there is no separate "force SMS".
            Action::Resend => self.resend(cx.now),
            Action::RecoverPassword if self.step == Step::Password && !self.reqs.busy() => {
                self.error = None;
                vec![Cmd::Run(Effect::RequestRecovery {
                    req: self.reqs.start(cx.now),
                    login: self.id,
                })]
            }
            _ => Vec::new(),
        }
    }

    fn on_key(&mut self, ev: &KeyEvent) -> Vec<Cmd> {
        self.form().handle_key(ev);
        Vec::new()
    }

    fn on_paste(&mut self, text: &str) {
        self.form().paste(text);
    }

    fn on_outcome(&mut self, seq: u64, outcome: Outcome, cx: &Cx) -> Vec<Cmd> {
        if !self.reqs.take(seq) {
            return Vec::new();
        }
        let now = cx.now;
        match outcome {
            Outcome::SentCode(Ok(sent)) => self.code_sent(sent, now),
            Outcome::SignIn(Ok(LoginStep::Done(result))) => {
                self.saving = true;
                return vec![save_login(&mut self.reqs, now, *result, &self.target)];
            }
            Outcome::LoggedIn(Ok(result)) => {
                self.saving = true;
                return vec![save_login(&mut self.reqs, now, result, &self.target)];
            }
            Outcome::SignIn(Ok(LoginStep::SignUpRequired)) => {
                self.step = Step::SignUp;
            }
            Outcome::SignIn(Ok(LoginStep::PasswordRequired { hint })) => {
                self.hint = hint;
                self.step = Step::Password;
            }
            Outcome::RecoverySent(Ok(pattern)) => {
                self.recovery_to = pattern;
                self.step = Step::Recovery;
            }
            Outcome::SentCode(Err(e))
            | Outcome::SignIn(Err(e))
            | Outcome::LoggedIn(Err(e))
            | Outcome::RecoverySent(Err(e)) => {
                self.error = Some(PaneError::service(&e, now));
            }
            Outcome::Saved(result) => {
                self.saving = false;
                return on_saved(result, &mut self.error);
            }
            _ => {}
        }
        Vec::new()
    }

    fn busy(&self) -> bool {
        self.reqs.busy()
    }

    fn animating(&self) -> bool {
        self.reqs.busy()
            || self.error.as_ref().is_some_and(|e| e.until.is_some())
            || self.step == Step::Code
    }

    fn render(&self, f: &mut Frame, area: Rect, v: &ViewCx) {
        let mut lines = vec![modal::muted(
            format!(
                "Saving as '{}' ({})",
                self.target.name,
                super::storage_label(self.target.format)
            ),
            v,
        )];
        match self.step {
            Step::Phone => {
                lines.push(modal::plain(
                    "Your phone number, in international format (+44…).",
                    v,
                ));
                lines.extend(demo(v, backend::demo_phone_hint()));
            }
            Step::Code => {
                if let Some(sent) = &self.sent {
                    lines.push(modal::plain(
                        format!("Code sent {}.", sent.delivery.describe()),
                        v,
                    ));
                    let next = sent
                        .next
                        .as_ref()
                        .map(|n| format!("a resend comes {}", n.describe()))
                        .unwrap_or_else(|| "no other delivery is offered".into());
                    if self.resend_at > v.now {
                        lines.push(modal::muted(
                            format!(
                                "Resend in {} s ({next}).",
                                (self.resend_at - v.now).div_ceil(1000)
                            ),
                            v,
                        ));
                    } else {
                        lines.push(modal::muted(format!("Ctrl-R resends ({next})."), v));
                    }
                }
                lines.extend(demo(v, backend::demo_code_hint(self.phone.value(0))));
            }
            Step::SignUp => {
                lines.push(modal::plain(
                    "No account uses this number yet: sign up with a name.",
                    v,
                ));
            }
            Step::Password => {
                lines.push(modal::plain(
                    "Two-step verification is on: type the password.",
                    v,
                ));
                let hint = self.hint.clone().unwrap_or_else(|| "none".into());
                lines.push(modal::muted(
                    format!("Hint: {}", crate::ui::text::clean(&hint)),
                    v,
                ));
                lines.extend(demo(v, backend::demo_password_hint(self.phone.value(0))));
                if let Some(key) = v.keymap.key_for(Context::Form, Action::RecoverPassword) {
                    lines.push(modal::muted(
                        format!("Forgot it? {key} emails a recovery code."),
                        v,
                    ));
                }
            }
            Step::Recovery => {
                lines.push(modal::plain(
                    format!(
                        "A recovery code was sent to {}.",
                        crate::ui::text::clean(&self.recovery_to)
                    ),
                    v,
                ));
                lines.push(modal::warn(
                    "Entering it logs in and turns two-step verification off.",
                    v,
                ));
            }
        }
        lines.push(modal::plain("", v));
        let form = match self.step {
            Step::Phone => &self.phone,
            Step::Code => &self.code,
            Step::SignUp => &self.names,
            Step::Password => &self.password,
            Step::Recovery => &self.recovery,
        };
        let (mut fl, cursor) = modal::form_lines(form, v, lines.len() as u16);
        lines.append(&mut fl);
        let body_len = lines.len();
        lines.extend(modal::busy_line(
            &self.reqs,
            if self.saving {
                "saving"
            } else {
                "waiting for Telegram"
            },
            v,
        ));
        lines.extend(modal::error_line(&self.error, v));
        modal::draw_pane(
            f,
            area,
            "Log in with a phone number",
            70,
            lines,
            body_len,
            cursor,
            v,
        );
    }
}

/// In sandbox mode, what to type (the demo accounts' numbers, codes and passwords).
pub fn demo(v: &ViewCx, hint: Option<String>) -> Option<ratatui::text::Line<'static>> {
    hint.filter(|_| v.mode.sandbox)
        .map(|h| modal::styled(h, v, crate::ui::theme::Role::Ok))
}
