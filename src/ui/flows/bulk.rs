//! The bulk pane (`b`): what to do with the marked rows, then, for logout and terminate, a
//! confirmation that lists every account and warns about unmarked rows sharing a key.

use ratatui::Frame;
use ratatui::layout::Rect;

use crossterm::event::{KeyCode, KeyEvent};

use super::{Cmd, Cx, Pane, ViewCx};
use crate::store::{Format, PyrogramStringLayout};
use crate::ui::fleet::bulk::BulkOp;
use crate::ui::keymap::{Action, Context};
use crate::ui::msg::Outcome;
use crate::ui::text;
use crate::ui::view::modal;
use crate::ui::widgets::masked_input::{Field, Form};

/// A marked row as the confirmation shows it.
#[derive(Clone, Debug)]
pub struct Marked {
    pub key: String,
    /// "Alice (@alice) in session 'a'".
    pub who: String,
    /// Rows not marked that hold the same key: logged out with it.
    pub sharers: Vec<String>,
}

/// The formats an export can write (tdata, a folder per account, is left to `convert`).
pub const EXPORT_FORMATS: [Format; 6] = [
    Format::TgsessSqlite,
    Format::TgsessString,
    Format::TelethonSqlite(7),
    Format::TelethonString,
    Format::PyrogramSqlite(7),
    Format::PyrogramString(PyrogramStringLayout::V2),
];

/// The export step: a format and a folder.
struct ExportStep {
    format: usize,
    /// 0: the format, 1: the folder.
    focus: usize,
    folder: Form,
    error: Option<String>,
}

pub struct BulkPane {
    id: u64,
    rows: Vec<Marked>,
    at: usize,
    confirm: Option<BulkOp>,
    export: Option<ExportStep>,
}

impl BulkPane {
    pub fn new(id: u64, rows: Vec<Marked>) -> BulkPane {
        BulkPane {
            id,
            rows,
            at: 0,
            confirm: None,
            export: None,
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
        if self.export.is_some() {
            "bulk/export".into()
        } else if self.confirm.is_some() {
            "bulk/confirm".into()
        } else {
            "bulk/menu".into()
        }
    }

    fn context(&self) -> Context {
        if self.export.is_some() {
            Context::Form
        } else if self.confirm.is_some() {
            Context::Confirm
        } else {
            Context::Chooser
        }
    }

    fn on_action(&mut self, action: Action, _cx: &Cx) -> Vec<Cmd> {
        if let Some(ex) = &mut self.export {
            match action {
                Action::ForceQuit => return vec![Cmd::Quit],
                Action::Cancel => self.export = None,
                Action::NextField | Action::PrevField => ex.focus = 1 - ex.focus,
                Action::Submit => {
                    let folder = ex.folder.value(0).trim().to_string();
                    if folder.is_empty() {
                        ex.error = Some("error: type the folder to export into".into());
                        ex.focus = 1;
                        return Vec::new();
                    }
                    let keys = self.rows.iter().map(|r| r.key.clone()).collect();
                    return vec![
                        Cmd::BulkExport(keys, EXPORT_FORMATS[ex.format], folder.into()),
                        Cmd::Close,
                    ];
                }
                _ => {}
            }
            return Vec::new();
        }
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
                BulkOp::Export => {
                    self.export = Some(ExportStep {
                        format: 0,
                        focus: 0,
                        folder: Form::new(vec![Field::text("Folder")]),
                        error: None,
                    });
                    Vec::new()
                }
                op => {
                    self.confirm = Some(op);
                    Vec::new()
                }
            },
            _ => Vec::new(),
        }
    }

    fn on_key(&mut self, ev: &KeyEvent) -> Vec<Cmd> {
        let Some(ex) = &mut self.export else {
            return Vec::new();
        };
        match (ex.focus, ev.code) {
            (0, KeyCode::Left) => {
                ex.format = (ex.format + EXPORT_FORMATS.len() - 1) % EXPORT_FORMATS.len()
            }
            (0, KeyCode::Right | KeyCode::Char(' ')) => {
                ex.format = (ex.format + 1) % EXPORT_FORMATS.len()
            }
            (1, _) => {
                ex.error = None;
                ex.folder.handle_key(ev);
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_paste(&mut self, text: &str) {
        if let Some(ex) = &mut self.export {
            ex.focus = 1;
            ex.folder.paste(text);
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
        if let Some(ex) = &self.export {
            lines.push(modal::plain(
                format!(
                    "Export {n} session{} into a folder:",
                    if n == 1 { "" } else { "s" }
                ),
                v,
            ));
            lines.push(modal::choice_line(
                "Format",
                EXPORT_FORMATS[ex.format].name(),
                ex.focus == 0,
                v,
            ));
            let (mut field, cursor) = modal::form_lines(&ex.folder, v, lines.len() as u16);
            let cursor = cursor.filter(|_| ex.focus == 1);
            lines.append(&mut field);
            lines.push(modal::muted(
                "Each file keeps its session's name; an existing one is never overwritten. \
                 The folder is made 0700, the files 0600.",
                v,
            ));
            lines.push(modal::muted(
                "←/→ format · Tab folder · Enter export · Esc back",
                v,
            ));
            let body_len = lines.len();
            if let Some(e) = &ex.error {
                lines.push(modal::styled(e.clone(), v, crate::ui::theme::Role::Error));
            }
            modal::draw_pane(
                f,
                area,
                "Export marked sessions",
                72,
                lines,
                body_len,
                cursor,
                v,
            );
            return;
        }
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
