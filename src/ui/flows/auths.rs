//! Other authorizations: list them, terminate one or all others (each after a confirmation).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::{Cmd, Cx, Pane, PaneError, Requests, ViewCx};
use crate::store::status::AuthorizationMark;
use crate::telegram::Device;
use crate::ui::account::AccountRef;
use crate::ui::effects::Effect;
use crate::ui::keymap::{Action, Context};
use crate::ui::msg::Outcome;
use crate::ui::state::{Notice, SessionRow};
use crate::ui::text;
use crate::ui::theme::Role;
use crate::ui::view::modal;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    One(i64),
    AllOthers,
}

pub struct AuthsPane {
    id: u64,
    account: AccountRef,
    row_key: String,
    who: String,
    list: Option<Vec<Device>>,
    at: usize,
    confirm: Option<Pending>,
    locals: Vec<(AuthorizationMark, String)>,
    /// What the running termination ends (to log out the local sessions that held it).
    terminating: Option<Pending>,
    reqs: Requests,
    error: Option<PaneError>,
}

impl AuthsPane {
    /// `locals`: the other local sessions of the account, by their own authorization.
    pub fn open(
        id: u64,
        row: &SessionRow,
        now: u64,
        locals: Vec<(AuthorizationMark, String)>,
    ) -> Option<(AuthsPane, Vec<Cmd>)> {
        let mut pane = AuthsPane {
            locals,
            id,
            account: row.account_ref()?,
            row_key: row.key(),
            who: row.describe_account(),
            list: None,
            at: 0,
            confirm: None,
            terminating: None,
            reqs: Requests::new(id),
            error: None,
        };
        let cmds = vec![pane.load(now)];
        Some((pane, cmds))
    }

    fn load(&mut self, now: u64) -> Cmd {
        Cmd::Run(Effect::Authorizations {
            req: self.reqs.start(now),
            account: Box::new(self.account.clone()),
        })
    }
}

impl Pane for AuthsPane {
    fn id(&self) -> u64 {
        self.id
    }

    fn step(&self) -> String {
        match (self.confirm, &self.list) {
            (Some(_), _) => "auths/confirm".into(),
            (None, Some(_)) => "auths/list".into(),
            (None, None) => "auths/loading".into(),
        }
    }

    fn context(&self) -> Context {
        Context::Authorizations
    }

    fn on_action(&mut self, action: Action, cx: &Cx) -> Vec<Cmd> {
        let len = self.list.as_ref().map_or(0, Vec::len);
        match action {
            Action::Cancel => return vec![Cmd::Close],
            Action::ForceQuit => return vec![Cmd::Quit],
            _ if self.reqs.busy() => {}
            Action::Up if len > 0 => self.at = self.at.saturating_sub(1),
            Action::Down if len > 0 => self.at = (self.at + 1).min(len - 1),
            Action::Terminate => {
                if let Some(a) = self.list.as_ref().and_then(|l| l.get(self.at)) {
                    if a.current {
                        self.error = Some(PaneError::text(
                            "that is this session; use logout (L) instead",
                        ));
                    } else {
                        self.error = None;
                        self.confirm = Some(Pending::One(a.hash));
                    }
                }
            }
            Action::TerminateAll if len > 1 => {
                self.error = None;
                self.confirm = Some(Pending::AllOthers);
            }
            Action::Yes => {
                if let Some(p) = self.confirm.take() {
                    let hash = match p {
                        Pending::One(h) => Some(h),
                        Pending::AllOthers => None,
                    };
                    self.terminating = Some(p);
                    return vec![Cmd::Run(Effect::Terminate {
                        req: self.reqs.start(cx.now),
                        account: Box::new(self.account.clone()),
                        hash,
                    })];
                }
            }
            Action::No => self.confirm = None,
            _ => {}
        }
        Vec::new()
    }

    fn on_outcome(&mut self, seq: u64, outcome: Outcome, cx: &Cx) -> Vec<Cmd> {
        if !self.reqs.take(seq) {
            return Vec::new();
        }
        match outcome {
            Outcome::Authorizations(Ok(list)) => {
                self.at = self.at.min(list.len().saturating_sub(1));
                let learned = list.clone();
                self.list = Some(list);
                vec![Cmd::Learned(
                    self.row_key.clone(),
                    Box::new(move |k| k.authorizations = Some(learned)),
                )]
            }
            Outcome::Terminated(Ok(())) => {
                let device = match self.terminating.take() {
                    Some(Pending::One(h)) => {
                        self.list.iter().flatten().find(|d| d.hash == h).cloned()
                    }
                    _ => None,
                };
                vec![
                    Cmd::Terminated(self.row_key.clone(), device),
                    Cmd::Notice(Notice::ok("authorization terminated")),
                    self.load(cx.now),
                ]
            }
            Outcome::Authorizations(Err(e)) | Outcome::Terminated(Err(e)) => {
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
        let mut lines = vec![modal::muted(text::clean(&self.who), v), modal::plain("", v)];
        match &self.list {
            None => lines.push(modal::plain("Asking Telegram for the list…", v)),
            Some(list) => {
                for (i, a) in list.iter().enumerate() {
                    let marker = if i == self.at { "▶ " } else { "  " };
                    // Telegram's description, plus whose device it is when tgsess knows.
                    let local = self
                        .locals
                        .iter()
                        .find(|(mark, _)| crate::telegram::check::is_marked(a, mark))
                        .map(|(_, name)| format!(" (local: {})", text::clean(name)));
                    let this = if a.current {
                        " (this session)".to_string()
                    } else {
                        local.unwrap_or_default()
                    };
                    let row = format!(
                        "{marker}{} · {} · {}{this}",
                        text::truncate(
                            &text::clean(&format!("{} {}", a.device_model, a.platform)),
                            24
                        ),
                        text::truncate(
                            &text::clean(&format!("{} {}", a.app_name, a.app_version)),
                            22
                        ),
                        text::utc_date(i64::from(a.date_active)),
                    );
                    let style = if i == self.at {
                        v.theme.style(Role::Selected)
                    } else {
                        v.theme.style(Role::Base)
                    };
                    lines.push(Line::styled(row, style));
                    lines.push(modal::muted(
                        format!("    {} · {}", text::clean(&a.ip), text::clean(&a.country)),
                        v,
                    ));
                }
            }
        }
        match self.confirm {
            Some(Pending::One(_)) => lines.push(modal::warn(
                "Terminate the selected authorization?  y / n",
                v,
            )),
            Some(Pending::AllOthers) => lines.push(modal::warn(
                "Terminate ALL other authorizations of this account?  y / n",
                v,
            )),
            None => {}
        }
        let body_len = lines.len();
        lines.extend(modal::busy_line(&self.reqs, "waiting for Telegram", v));
        lines.extend(modal::error_line(&self.error, v));
        modal::draw_pane(
            f,
            area,
            "Other authorizations",
            76,
            lines,
            body_len,
            None,
            v,
        );
    }
}
