//! QR login: the code drawn in the terminal, refreshed before the token expires, then 2FA
//! when the account has a password. `s` lets the sandbox's demo phone scan it.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::{Cmd, Cx, Pane, PaneError, Requests, ViewCx, on_saved, save_login};
use crate::secret::SecretString;
use crate::telegram::LoginStep;
use crate::ui::effects::{Effect, SaveTarget};
use crate::ui::keymap::{Action, Context};
use crate::ui::msg::Outcome;
use crate::ui::theme::Role;
use crate::ui::view::modal;
use crate::ui::widgets::masked_input::{Field, Form};
use crate::ui::widgets::qr::QrMatrix;

/// Width of the text column when it sits beside the code.
const SIDE_TEXT_W: u16 = 30;

/// Ask for a fresh token this long before the current one expires.
const REFRESH_MARGIN_MS: u64 = 3_000;

pub struct ShownToken {
    pub url: SecretString,
    pub matrix: QrMatrix,
    pub expires_at: u64,
}

pub struct QrPane {
    id: u64,
    target: SaveTarget,
    reqs: Requests,
    waiting_scan: Option<u64>,
    pub token: Option<ShownToken>,
    password_step: bool,
    password: Form,
    hint: Option<String>,
    error: Option<PaneError>,
    invert: bool,
}

impl QrPane {
    pub fn new(id: u64, target: SaveTarget) -> QrPane {
        QrPane {
            id,
            target,
            reqs: Requests::new(id),
            waiting_scan: None,
            token: None,
            password_step: false,
            password: Form::new(vec![Field::secret("Password")]),
            hint: None,
            error: None,
            invert: false,
        }
    }

    /// The first token request (the pane asks for it as it opens).
    pub fn start(&mut self, now: u64) -> Vec<Cmd> {
        vec![Cmd::Run(Effect::QrExport {
            req: self.reqs.start(now),
            login: self.id,
        })]
    }

    fn wait_for_scan(&mut self) -> Cmd {
        let req = self.reqs.background();
        self.waiting_scan = Some(req.seq);
        Cmd::Run(Effect::QrWait {
            req,
            login: self.id,
        })
    }

    /// Pane size with the code: (columns, rows) including the border and text lines.
    pub fn needed(matrix: &QrMatrix) -> (u16, u16) {
        let (c, r) = matrix.cells();
        (c.max(46) + 4, r + 6)
    }
}

/// Where the pane, the code and its text go in `area`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// The pane's box, the code's top-left cell, and the text area.
    Fits {
        pane: Rect,
        code_at: (u16, u16),
        text: Rect,
    },
    /// The smallest terminal that would show the code.
    TooSmall { need: (u16, u16) },
}

pub fn placement(area: Rect, matrix: &QrMatrix) -> Placement {
    let (qc, qr_rows) = matrix.cells();
    let (below_w, below_h) = QrPane::needed(matrix);
    let (side_w, side_h) = (qc + SIDE_TEXT_W + 3, qr_rows + 2);
    if area.width >= below_w && area.height >= below_h {
        let pane = modal::centered(area, below_w, below_h);
        let inner = Rect::new(pane.x + 1, pane.y + 1, pane.width - 2, pane.height - 2);
        let x = inner.x + (inner.width - qc) / 2;
        Placement::Fits {
            pane,
            code_at: (x, inner.y),
            text: Rect::new(inner.x + 1, inner.y + qr_rows, inner.width - 2, 4),
        }
    } else if area.width >= side_w && area.height >= side_h {
        // Short terminals (80×24): the text goes beside the code.
        let pane = modal::centered(area, side_w, side_h);
        let inner = Rect::new(pane.x + 1, pane.y + 1, pane.width - 2, pane.height - 2);
        Placement::Fits {
            pane,
            code_at: (inner.x, inner.y),
            text: Rect::new(
                inner.x + qc + 1,
                inner.y + 1,
                SIDE_TEXT_W,
                inner.height.saturating_sub(1),
            ),
        }
    } else {
        Placement::TooSmall {
            need: (side_w, side_h),
        }
    }
}

impl Pane for QrPane {
    fn id(&self) -> u64 {
        self.id
    }

    fn step(&self) -> String {
        if self.password_step {
            "qr/password".into()
        } else if self.token.is_some() {
            "qr/showing".into()
        } else {
            "qr/loading".into()
        }
    }

    fn context(&self) -> Context {
        if self.password_step {
            Context::Form
        } else {
            Context::Qr
        }
    }

    fn on_action(&mut self, action: Action, cx: &Cx) -> Vec<Cmd> {
        match action {
            Action::Cancel => vec![Cmd::Close],
            Action::ForceQuit => vec![Cmd::Quit],
            Action::InvertQr => {
                self.invert = !self.invert;
                Vec::new()
            }
            Action::DemoScan => match &self.token {
                Some(t) => vec![Cmd::Run(Effect::DemoScan {
                    req: self.reqs.background(),
                    url: t.url.clone(),
                })],
                None => Vec::new(),
            },
            Action::Submit if self.password_step && !self.reqs.busy() => {
                if self.error.as_ref().is_some_and(|e| e.blocks(cx.now)) {
                    return Vec::new();
                }
                self.error = None;
                vec![Cmd::Run(Effect::CheckPassword {
                    req: self.reqs.start(cx.now),
                    login: self.id,
                    password: self.password.secret(0),
                })]
            }
            _ => Vec::new(),
        }
    }

    fn on_key(&mut self, ev: &KeyEvent) -> Vec<Cmd> {
        if self.password_step {
            self.password.handle_key(ev);
        }
        Vec::new()
    }

    fn on_paste(&mut self, text: &str) {
        if self.password_step {
            self.password.paste(text);
        }
    }

    fn on_outcome(&mut self, seq: u64, outcome: Outcome, cx: &Cx) -> Vec<Cmd> {
        let now = cx.now;
        if self.waiting_scan == Some(seq) {
            self.waiting_scan = None;
            return match outcome {
                Outcome::QrScanned(Ok(LoginStep::Done(result))) => {
                    vec![save_login(&mut self.reqs, now, *result, &self.target)]
                }
                Outcome::QrScanned(Ok(LoginStep::PasswordRequired { hint })) => {
                    self.password_step = true;
                    self.hint = hint;
                    Vec::new()
                }
                Outcome::QrScanned(Err(e)) => {
                    self.error = Some(PaneError::service(&e, now));
                    Vec::new()
                }
                _ => Vec::new(),
            };
        }
        if let Outcome::DemoScanned(r) = outcome {
            if let Err(e) = r {
                self.error = Some(PaneError::service(&e, now));
            }
            return Vec::new();
        }
        if !self.reqs.take(seq) {
            return Vec::new();
        }
        match outcome {
            Outcome::QrToken(Ok(token)) => {
                match QrMatrix::encode(token.url.reveal()) {
                    Some(matrix) => {
                        self.token = Some(ShownToken {
                            url: token.url,
                            matrix,
                            expires_at: now + u64::from(token.expires_in_secs) * 1000,
                        });
                        self.error = None;
                    }
                    None => {
                        self.error =
                            Some(PaneError::text("the login URL is too long for a QR code"))
                    }
                }
                if self.waiting_scan.is_none() && !self.password_step {
                    return vec![self.wait_for_scan()];
                }
            }
            Outcome::QrToken(Err(e)) | Outcome::LoggedIn(Err(e)) => {
                self.error = Some(PaneError::service(&e, now));
            }
            Outcome::LoggedIn(Ok(result)) => {
                return vec![save_login(&mut self.reqs, now, result, &self.target)];
            }
            Outcome::Saved(result) => return on_saved(result, &mut self.error),
            _ => {}
        }
        Vec::new()
    }

    fn on_tick(&mut self, cx: &Cx) -> Vec<Cmd> {
        let due = self
            .token
            .as_ref()
            .is_some_and(|t| cx.now + REFRESH_MARGIN_MS >= t.expires_at);
        let blocked = self.error.as_ref().is_some_and(|e| e.blocks(cx.now));
        if due && !self.password_step && !self.reqs.busy() && !blocked {
            return vec![Cmd::Run(Effect::QrExport {
                req: self.reqs.start(cx.now),
                login: self.id,
            })];
        }
        Vec::new()
    }

    fn busy(&self) -> bool {
        self.reqs.busy()
    }

    fn animating(&self) -> bool {
        true
    }

    fn render(&self, f: &mut Frame, area: Rect, v: &ViewCx) {
        let title = "Log in with a QR code";
        if self.password_step {
            let mut lines = vec![
                modal::plain(
                    "Scanned. Two-step verification is on: type the password.",
                    v,
                ),
                modal::muted(
                    format!(
                        "Hint: {}",
                        crate::ui::text::clean(self.hint.as_deref().unwrap_or("none"))
                    ),
                    v,
                ),
                modal::plain("", v),
            ];
            let (mut fl, cursor) = modal::form_lines(&self.password, v, lines.len() as u16);
            lines.append(&mut fl);
            let body_len = lines.len();
            lines.extend(modal::busy_line(&self.reqs, "checking", v));
            lines.extend(modal::error_line(&self.error, v));
            modal::draw_pane(f, area, title, 70, lines, body_len, cursor, v);
            return;
        }
        let Some(token) = &self.token else {
            let mut lines = vec![modal::plain("Asking Telegram for a login token…", v)];
            let body_len = lines.len();
            lines.extend(modal::error_line(&self.error, v));
            modal::draw_pane(f, area, title, 60, lines, body_len, None, v);
            return;
        };
        let secs_left = token.expires_at.saturating_sub(v.now).div_ceil(1000);
        let mut lines: Vec<Line> = vec![
            modal::plain("Scan it on a phone logged in to the account:", v),
            modal::plain("Settings → Devices → Link Desktop Device", v),
            modal::muted(
                format!("Expires in {secs_left} s; renewed automatically."),
                v,
            ),
        ];
        match modal::error_line(&self.error, v) {
            Some(l) => lines.push(l),
            None if v.mode.sandbox => lines.push(modal::muted(
                "Sandbox: press s and the demo phone scans it.",
                v,
            )),
            None => {}
        }
        let glyph_light = v.theme.no_color != self.invert;
        let text_area = match placement(area, &token.matrix) {
            Placement::Fits {
                pane,
                code_at,
                text,
            } => {
                modal::draw_box(f, pane, title, v);
                token.matrix.draw(
                    f.buffer_mut(),
                    code_at,
                    v.theme.style(Role::Qr),
                    glyph_light,
                );
                text
            }
            Placement::TooSmall { need: (w, h) } => {
                let mut lines = vec![
                    modal::warn(
                        format!("Enlarge the terminal to at least {w}×{h} to show the QR code."),
                        v,
                    ),
                    modal::plain("Or open this link on a device logged in to the account:", v),
                    modal::plain(token.url.reveal().to_string(), v),
                    modal::muted(
                        format!("Expires in {secs_left} s; renewed automatically."),
                        v,
                    ),
                ];
                let body_len = lines.len();
                lines.extend(modal::error_line(&self.error, v));
                modal::draw_pane(f, area, title, area.width, lines, body_len, None, v);
                return;
            }
        };
        f.render_widget(
            ratatui::widgets::Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }),
            text_area,
        );
    }
}
