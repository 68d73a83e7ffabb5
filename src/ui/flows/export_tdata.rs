//! Export as a Telegram Desktop tdata folder: a destination folder and an optional local
//! passcode (typed twice, masked). An existing folder is replaced only after a yes in the pane,
//! naming it (the CLI's `--force`); the write itself is atomic (store::tdata::write_folder).

use std::path::PathBuf;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Cmd, Cx, Pane, PaneError, Requests, ViewCx};
use crate::ui::account::AccountRef;
use crate::ui::effects::Effect;
use crate::ui::keymap::{Action, Context};
use crate::ui::msg::{FolderWriteError, Outcome};
use crate::ui::state::Notice;
use crate::ui::view::modal;
use crate::ui::widgets::masked_input::{Field, Form};

const FOLDER: usize = 0;
const PASSCODE: usize = 1;
const AGAIN: usize = 2;

pub struct ExportTdataPane {
    id: u64,
    account: AccountRef,
    who: String,
    form: Form,
    /// The folder exists: waiting for a yes to replace it.
    confirm: Option<PathBuf>,
    reqs: Requests,
    error: Option<PaneError>,
}

impl ExportTdataPane {
    pub fn new(id: u64, account: AccountRef, who: String) -> ExportTdataPane {
        ExportTdataPane {
            id,
            account,
            who,
            form: Form::new(vec![
                Field::text("Folder"),
                Field::secret("Local passcode (optional)"),
                Field::secret("Passcode again"),
            ]),
            confirm: None,
            reqs: Requests::new(id),
            error: None,
        }
    }

    /// The typed folder, with a leading `~/` meaning the home folder.
    fn destination(&self) -> Option<PathBuf> {
        let typed = self.form.value(FOLDER).trim();
        if typed.is_empty() {
            return None;
        }
        match (typed.strip_prefix("~/"), std::env::var_os("HOME")) {
            (Some(rest), Some(home)) => Some(PathBuf::from(home).join(rest)),
            _ => Some(PathBuf::from(typed)),
        }
    }

    fn write(&mut self, dest: PathBuf, replace: bool, cx: &Cx) -> Vec<Cmd> {
        self.error = None;
        vec![Cmd::Run(Effect::ExportTdata {
            req: self.reqs.start(cx.now),
            account: Box::new(self.account.clone()),
            dest,
            passcode: self.form.secret(PASSCODE),
            replace,
        })]
    }
}

impl Pane for ExportTdataPane {
    fn id(&self) -> u64 {
        self.id
    }

    fn step(&self) -> String {
        if self.confirm.is_some() {
            "export-tdata/replace".into()
        } else {
            "export-tdata/form".into()
        }
    }

    fn context(&self) -> Context {
        if self.confirm.is_some() {
            Context::Confirm
        } else {
            Context::Form
        }
    }

    fn on_action(&mut self, action: Action, cx: &Cx) -> Vec<Cmd> {
        if self.reqs.busy() && !matches!(action, Action::Cancel | Action::ForceQuit) {
            return Vec::new();
        }
        match action {
            Action::NextField => self.form.next(),
            Action::PrevField => self.form.prev(),
            Action::Submit => {
                let Some(dest) = self.destination() else {
                    self.error = Some(PaneError::text("type the folder to write"));
                    return Vec::new();
                };
                if self.form.value(PASSCODE) != self.form.value(AGAIN) {
                    self.form.fields[AGAIN].clear();
                    self.form.focus = AGAIN;
                    self.error = Some(PaneError::text(
                        "the two passcodes differ: type the passcode again",
                    ));
                    return Vec::new();
                }
                return self.write(dest, false, cx);
            }
            Action::Yes => {
                if let Some(dest) = self.confirm.take() {
                    return self.write(dest, true, cx);
                }
            }
            Action::No => {
                self.confirm = None;
                self.error = None;
            }
            Action::Cancel => return vec![Cmd::Close],
            Action::ForceQuit => return vec![Cmd::Quit],
            _ => {}
        }
        Vec::new()
    }

    fn on_key(&mut self, ev: &KeyEvent) -> Vec<Cmd> {
        if self.confirm.is_none() {
            self.form.handle_key(ev);
        }
        Vec::new()
    }

    fn on_paste(&mut self, text: &str) {
        if self.confirm.is_none() {
            self.form.paste(text);
        }
    }

    fn on_outcome(&mut self, seq: u64, outcome: Outcome, _cx: &Cx) -> Vec<Cmd> {
        if !self.reqs.take(seq) {
            return Vec::new();
        }
        match outcome {
            Outcome::TdataWritten(Ok(path)) => {
                let text = format!(
                    "wrote the tdata folder {}",
                    crate::ui::text::clean(&path.display().to_string())
                );
                return vec![Cmd::Notice(Notice::ok(text)), Cmd::Close];
            }
            Outcome::TdataWritten(Err(FolderWriteError::Exists)) => {
                self.confirm = self.destination();
            }
            Outcome::TdataWritten(Err(FolderWriteError::Other(e))) => {
                self.error = Some(PaneError::text(e));
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
    }

    fn render(&self, f: &mut Frame, area: Rect, v: &ViewCx) {
        let mut lines = vec![modal::muted(crate::ui::text::clean(&self.who), v)];
        let mut cursor = None;
        match &self.confirm {
            Some(dest) => {
                lines.push(modal::warn(
                    format!(
                        "{} already exists.",
                        crate::ui::text::clean(&dest.display().to_string())
                    ),
                    v,
                ));
                lines.push(modal::plain(
                    "Replace it? The old folder is removed once the new one is in place.",
                    v,
                ));
                lines.push(modal::plain("y: replace it    n / Esc: keep it", v));
            }
            None => {
                let (mut fl, c) = modal::form_lines(&self.form, v, lines.len() as u16);
                cursor = c;
                lines.append(&mut fl);
                lines.push(modal::muted(
                    "A new folder (0700, files 0600) that Telegram Desktop reads; leave the \
                     passcode empty for none.",
                    v,
                ));
                lines.push(modal::warn(
                    "The folder gives full access to the account: keep it private.",
                    v,
                ));
            }
        }
        let body_len = lines.len();
        lines.extend(modal::busy_line(&self.reqs, "writing", v));
        lines.extend(modal::error_line(&self.error, v));
        modal::draw_pane(
            f,
            area,
            "Export as a tdata folder",
            76,
            lines,
            body_len,
            cursor,
            v,
        );
    }
}
