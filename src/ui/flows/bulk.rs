//! The bulk pane (`b`): what to do with the marked rows, then, for logout and terminate, a
//! confirmation that lists every account and warns about unmarked rows sharing a key.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Cmd, Cx, Pane, ViewCx};
use crate::ui::fleet::bulk::BulkOp;
use crate::ui::keymap::{Action, Context};
use crate::ui::msg::Outcome;
use crate::ui::text;
use crate::ui::view::modal;

/// A marked row as the confirmation shows it.
#[derive(Clone, Debug)]
pub struct Marked {
    pub key: String,
    /// "Alice (@alice) in session 'a'".
    pub who: String,
    /// Rows not marked that hold the same key: logged out with it.
    pub sharers: Vec<String>,
}

pub struct BulkPane {
    id: u64,
    rows: Vec<Marked>,
    at: usize,
    confirm: Option<BulkOp>,
}

impl BulkPane {
    pub fn new(id: u64, rows: Vec<Marked>) -> BulkPane {
        BulkPane {
            id,
            rows,
            at: 0,
            confirm: None,
        }
    }

    fn start(&self, op: BulkOp) -> Vec<Cmd> {
        let keys = self.rows.iter().map(|r| r.key.clone()).collect();
        vec![Cmd::Bulk(op, keys), Cmd::Close]
    }
}

impl Pane for BulkPane {
    fn id(&self) -> u64 {
        self.id
    }

    fn step(&self) -> String {
        if self.confirm.is_some() {
            "bulk/confirm".into()
        } else {
            "bulk/menu".into()
        }
    }

    fn context(&self) -> Context {
        if self.confirm.is_some() {
            Context::Confirm
        } else {
            Context::Chooser
        }
    }

    fn on_action(&mut self, action: Action, _cx: &Cx) -> Vec<Cmd> {
        let last = BulkOp::ALL.len() - 1;
        match (self.confirm, action) {
            (_, Action::ForceQuit) => vec![Cmd::Quit],
            (Some(op), Action::Yes) => self.start(op),
            (Some(_), Action::No) => {
                self.confirm = None;
                Vec::new()
            }
            (_, Action::Cancel) => vec![Cmd::Close],
            (None, Action::PrevField | Action::OptionPrev | Action::Up) => {
                self.at = self.at.saturating_sub(1);
                Vec::new()
            }
            (None, Action::NextField | Action::OptionNext | Action::Down) => {
                self.at = (self.at + 1).min(last);
                Vec::new()
            }
            (None, Action::Submit) => match BulkOp::ALL[self.at] {
                BulkOp::Check => self.start(BulkOp::Check),
                op => {
                    self.confirm = Some(op);
                    Vec::new()
                }
            },
            _ => Vec::new(),
        }
    }

    fn on_outcome(&mut self, _seq: u64, _outcome: Outcome, _cx: &Cx) -> Vec<Cmd> {
        Vec::new()
    }

    fn animating(&self) -> bool {
        false
    }

    fn render(&self, f: &mut Frame, area: Rect, v: &ViewCx) {
        let n = self.rows.len();
        let mut lines = Vec::new();
        match self.confirm {
            None => {
                lines.push(modal::plain(
                    format!("{n} marked session{}:", if n == 1 { "" } else { "s" }),
                    v,
                ));
                for (i, op) in BulkOp::ALL.iter().enumerate() {
                    lines.push(modal::choice_line("", op.label(), i == self.at, v));
                }
                lines.push(modal::muted(
                    "Network actions are paced: a flood wait pauses only its account.",
                    v,
                ));
            }
            Some(op) => {
                let question = match op {
                    BulkOp::LogOut => format!("Log out these {n} sessions?"),
                    BulkOp::Trash => format!(
                        "Move these {n} session files to the folder's .trash/? (Nothing is \
                         deleted; Telegram is not told.)"
                    ),
                    _ => format!("Terminate every other authorization of these {n} accounts?"),
                };
                lines.push(modal::plain(question, v));
                for r in &self.rows {
                    lines.push(modal::plain(format!("  {}", text::clean(&r.who)), v));
                }
                for r in self
                    .rows
                    .iter()
                    .filter(|r| !r.sharers.is_empty() && op == BulkOp::LogOut)
                {
                    let names: Vec<String> = r
                        .sharers
                        .iter()
                        .map(|s| format!("'{}'", text::clean(s)))
                        .collect();
                    lines.push(modal::warn(
                        format!(
                            "{} hold{} the same key as {}: logged out with it.",
                            names.join(", "),
                            if names.len() == 1 { "s" } else { "" },
                            text::clean(&r.who)
                        ),
                        v,
                    ));
                }
                if op == BulkOp::TerminateOthers {
                    lines.push(modal::muted(
                        "Their other devices are logged out, and so are local sessions of \
                         these accounts that hold other keys.",
                        v,
                    ));
                }
                lines.push(modal::plain("", v));
                lines.push(modal::warn("y: go ahead    n: back    Esc: close", v));
            }
        }
        let body_len = lines.len();
        modal::draw_pane(f, area, "Marked sessions", 72, lines, body_len, None, v);
    }
}
