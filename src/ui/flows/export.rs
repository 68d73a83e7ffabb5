//! Export / reveal: the string is made only after an explicit yes, shown in the pane, and can
//! be copied with OSC 52 (works over SSH). Closing the pane forgets it. The last choice,
//! a Telegram Desktop tdata folder, continues in its own pane (`export_tdata`).

use ratatui::Frame;
use ratatui::layout::Rect;

use super::export_tdata::ExportTdataPane;
use super::{Cmd, Cx, Pane, PaneError, Requests, ViewCx};
use crate::secret::SecretString;
use crate::store::{Format, PyrogramStringLayout};
use crate::ui::account::AccountRef;
use crate::ui::effects::Effect;
use crate::ui::keymap::{Action, Context};
use crate::ui::msg::Outcome;
use crate::ui::state::{Notice, SessionRow};
use crate::ui::view::modal;

const FORMATS: [Format; 3] = [
    Format::TgsessString,
    Format::TelethonString,
    Format::PyrogramString(PyrogramStringLayout::V2),
];

/// The choice after the string formats: a tdata folder.
const TDATA: usize = FORMATS.len();

fn format_label(i: usize) -> &'static str {
    FORMATS
        .get(i)
        .map_or("tdata folder (Telegram Desktop)", |f| f.family())
}

pub struct ExportPane {
    id: u64,
    account: AccountRef,
    who: String,
    format: usize,
    shown: Option<SecretString>,
    reqs: Requests,
    error: Option<PaneError>,
}

impl ExportPane {
    pub fn new(id: u64, row: &SessionRow) -> Option<ExportPane> {
        let format = row
            .format
            .and_then(|f| {
                // The same library's string format: telethon-sqlite -> telethon-string.
                let library = f.family().split('-').next().unwrap_or("");
                FORMATS.iter().position(|c| c.family().starts_with(library))
            })
            .unwrap_or(0);
        Some(ExportPane {
            id,
            account: row.account_ref()?,
            who: row.describe_account(),
            format,
            shown: None,
            reqs: Requests::new(id),
            error: None,
        })
    }
}

impl Pane for ExportPane {
    fn id(&self) -> u64 {
        self.id
    }

    fn step(&self) -> String {
        if self.shown.is_some() {
            "export/shown".into()
        } else {
            "export/confirm".into()
        }
    }

    fn context(&self) -> Context {
        Context::Reveal
    }

    fn on_action(&mut self, action: Action, cx: &Cx) -> Vec<Cmd> {
        match action {
            Action::OptionNext | Action::OptionPrev if self.shown.is_none() => {
                let n = FORMATS.len() + 1;
                self.format = if action == Action::OptionNext {
                    (self.format + 1) % n
                } else {
                    (self.format + n - 1) % n
                };
            }
            Action::Submit if self.format == TDATA => {
                let pane = ExportTdataPane::new(self.id, self.account.clone(), self.who.clone());
                return vec![Cmd::Replace(Box::new(pane))];
            }
            Action::Submit if self.shown.is_none() && !self.reqs.busy() => {
                self.error = None;
                return vec![Cmd::Run(Effect::Export {
                    req: self.reqs.start(cx.now),
                    account: Box::new(self.account.clone()),
                    format: FORMATS[self.format],
                })];
            }
            Action::Copy => {
                if let Some(s) = &self.shown {
                    return vec![
                        Cmd::Run(Effect::Clipboard(s.clone())),
                        Cmd::Notice(Notice::ok("copied to the clipboard (OSC 52)")),
                    ];
                }
            }
            Action::Cancel => return vec![Cmd::Close],
            Action::ForceQuit => return vec![Cmd::Quit],
            _ => {}
        }
        Vec::new()
    }

    fn on_outcome(&mut self, seq: u64, outcome: Outcome, _cx: &Cx) -> Vec<Cmd> {
        if !self.reqs.take(seq) {
            return Vec::new();
        }
        match outcome {
            Outcome::Exported(Ok(s)) => self.shown = Some(s),
            Outcome::Exported(Err(e)) => self.error = Some(PaneError::text(e)),
            _ => {}
        }
        Vec::new()
    }

    fn busy(&self) -> bool {
        self.reqs.busy()
    }

    fn animating(&self) -> bool {
        self.reqs.busy()
    }

    fn render(&self, f: &mut Frame, area: Rect, v: &ViewCx) {
        let mut lines = vec![modal::muted(crate::ui::text::clean(&self.who), v)];
        // What to do next stays pinned under a long string.
        let mut keys = Vec::new();
        match &self.shown {
            None => {
                lines.push(modal::choice_line(
                    "Format",
                    format_label(self.format),
                    true,
                    v,
                ));
                lines.push(modal::plain("", v));
                lines.push(modal::warn(
                    "A session string gives full access to the account.",
                    v,
                ));
                lines.push(modal::warn(
                    "Anyone who sees it can read and send messages as you.",
                    v,
                ));
                keys.push(modal::plain(
                    if self.format == TDATA {
                        "y / Enter: choose the folder    Esc: cancel"
                    } else {
                        "y / Enter: reveal it    Esc: cancel"
                    },
                    v,
                ));
            }
            Some(s) => {
                lines.push(modal::plain(
                    format!("{}:", FORMATS[self.format].family()),
                    v,
                ));
                lines.push(ratatui::text::Line::styled(
                    s.reveal().to_string(),
                    v.theme.style(crate::ui::theme::Role::Input),
                ));
                keys.push(modal::muted(
                    "c: copy (OSC 52)    Esc: close and forget it",
                    v,
                ));
            }
        }
        let body_len = lines.len();
        lines.append(&mut keys);
        lines.extend(modal::busy_line(&self.reqs, "encoding", v));
        lines.extend(modal::error_line(&self.error, v));
        modal::draw_pane(f, area, "Export / reveal", 76, lines, body_len, None, v);
    }
}
