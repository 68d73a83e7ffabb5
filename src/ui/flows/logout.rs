//! Logout: a confirmation naming the account, then the status updates.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Cmd, Cx, Pane, PaneError, Requests, ViewCx};
use crate::ui::account::AccountRef;
use crate::ui::effects::Effect;
use crate::ui::keymap::{Action, Context};
use crate::ui::msg::Outcome;
use crate::ui::state::{Notice, SessionRow, Status};
use crate::ui::view::modal;

pub struct LogoutPane {
    id: u64,
    account: AccountRef,
    row_key: String,
    who: String,
    /// Other sessions with the same auth key: they die with it.
    sharers: Vec<String>,
    reqs: Requests,
    error: Option<PaneError>,
}

impl LogoutPane {
    pub fn new(id: u64, row: &SessionRow, sharers: Vec<String>) -> Option<LogoutPane> {
        Some(LogoutPane {
            id,
            account: row.account_ref()?,
            row_key: row.key(),
            who: row.describe_account(),
            sharers,
            reqs: Requests::new(id),
            error: None,
        })
    }
}

impl Pane for LogoutPane {
    fn id(&self) -> u64 {
        self.id
    }

    fn step(&self) -> String {
        "logout/confirm".into()
    }

    fn context(&self) -> Context {
        Context::Confirm
    }

    fn on_action(&mut self, action: Action, cx: &Cx) -> Vec<Cmd> {
        match action {
            Action::Yes if !self.reqs.busy() => {
                self.error = None;
                vec![Cmd::Run(Effect::LogOut {
                    req: self.reqs.start(cx.now),
                    account: Box::new(self.account.clone()),
                })]
            }
            Action::No | Action::Cancel => vec![Cmd::Close],
            Action::ForceQuit => vec![Cmd::Quit],
            _ => Vec::new(),
        }
    }

    fn on_outcome(&mut self, seq: u64, outcome: Outcome, cx: &Cx) -> Vec<Cmd> {
        if !self.reqs.take(seq) {
            return Vec::new();
        }
        match outcome {
            Outcome::LoggedOut(Ok(())) => vec![
                Cmd::Learned(
                    self.row_key.clone(),
                    Box::new(|k| {
                        k.status = Some(Status::LoggedOut);
                        k.authorizations = None;
                    }),
                ),
                Cmd::Notice(Notice::ok(format!("logged out: {}", self.who))),
                // The account layer forgets the key in the file: show what is stored now.
                Cmd::Reload,
                Cmd::Close,
            ],
            Outcome::LoggedOut(Err(e)) => {
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
        let mut lines = vec![
            modal::plain(format!("Log out {}?", crate::ui::text::clean(&self.who)), v),
            modal::muted(
                "Telegram ends this authorization; the file stays, with a dead key.",
                v,
            ),
        ];
        if !self.sharers.is_empty() {
            let names: Vec<String> = self
                .sharers
                .iter()
                .map(|n| format!("'{}'", crate::ui::text::clean(n)))
                .collect();
            lines.push(modal::warn(
                format!(
                    "The same key is in {}: {} logged out with it.",
                    names.join(", "),
                    if names.len() == 1 {
                        "it is"
                    } else {
                        "they are"
                    }
                ),
                v,
            ));
        }
        lines.push(modal::plain("", v));
        lines.push(modal::warn("y: log out    n / Esc: keep it", v));
        let body_len = lines.len();
        lines.extend(modal::busy_line(&self.reqs, "logging out", v));
        lines.extend(modal::error_line(&self.error, v));
        modal::draw_pane(f, area, "Log out", 72, lines, body_len, None, v);
    }
}
