//! Import: paste a string session (masked) or give a file path; the detected format and
//! account are shown before saving under a name and format. A Telegram Desktop tdata folder
//! (or `FOLDER#N`) with a local passcode asks for it, masked, and asks again when it is wrong.

use std::path::PathBuf;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::{
    Cmd, Cx, Pane, PaneError, Requests, STORAGE_CHOICES, ViewCx, check_new_name, on_saved,
    storage_label,
};
use crate::store::Loaded;
use crate::ui::effects::{Effect, ImportSource, SaveTarget};
use crate::ui::keymap::{Action, Context};
use crate::ui::msg::Outcome;
use crate::ui::state::SessionRow;
use crate::ui::view::modal;
use crate::ui::widgets::masked_input::{Field, Form};

pub struct ImportPane {
    id: u64,
    from_file: bool,
    focus: usize,
    source: Form,
    loaded: Option<Loaded>,
    name: Form,
    storage: usize,
    reqs: Requests,
    error: Option<PaneError>,
    /// Sessions already holding the imported key.
    already: Vec<String>,
    /// The tdata folder being unlocked and its passcode field.
    locked: Option<(PathBuf, Form)>,
}

fn passcode_form() -> Form {
    Form::new(vec![Field::secret("Local passcode")])
}

fn source_form(from_file: bool) -> Form {
    Form::new(vec![if from_file {
        Field::text("File path")
    } else {
        Field::secret("Session string")
    }])
}

impl ImportPane {
    pub fn new(id: u64, rows: &[SessionRow]) -> ImportPane {
        let name = (1..)
            .map(|n| format!("imported-{n}"))
            .find(|n| !rows.iter().any(|r| &r.name == n))
            .expect("some name is free");
        ImportPane {
            id,
            from_file: false,
            focus: 1,
            source: source_form(false),
            loaded: None,
            name: Form::new(vec![Field::text("Name").with_value(&name)]),
            storage: 0,
            reqs: Requests::new(id),
            error: None,
            already: Vec::new(),
            locked: None,
        }
    }
}

impl ImportPane {
    /// Focusable lines: source kind and input; then also the storage choice once read.
    fn lines(&self) -> usize {
        if self.loaded.is_some() { 3 } else { 2 }
    }
}

impl Pane for ImportPane {
    fn id(&self) -> u64 {
        self.id
    }

    fn step(&self) -> String {
        if self.locked.is_some() {
            "import/passcode".into()
        } else if self.loaded.is_some() {
            "import/review".into()
        } else {
            "import/source".into()
        }
    }

    fn context(&self) -> Context {
        if self.focus == 1 {
            Context::Form
        } else {
            Context::Chooser
        }
    }

    fn on_action(&mut self, action: Action, cx: &Cx) -> Vec<Cmd> {
        if let Some((path, form)) = &self.locked {
            return match action {
                Action::Submit if !self.reqs.busy() => {
                    if form.value(0).is_empty() {
                        self.error = Some(PaneError::text("type the folder's local passcode"));
                        return Vec::new();
                    }
                    self.error = None;
                    vec![Cmd::Run(Effect::ReadImport {
                        req: self.reqs.start(cx.now),
                        source: ImportSource::Locked {
                            path: path.clone(),
                            passcode: form.secret(0),
                        },
                    })]
                }
                Action::Cancel => vec![Cmd::Close],
                Action::ForceQuit => vec![Cmd::Quit],
                _ => Vec::new(),
            };
        }
        match action {
            Action::NextField => self.focus = (self.focus + 1) % self.lines(),
            Action::PrevField => self.focus = (self.focus + self.lines() - 1) % self.lines(),
            Action::OptionNext | Action::OptionPrev => match self.focus {
                0 if self.loaded.is_none() => {
                    self.from_file = !self.from_file;
                    self.source = source_form(self.from_file);
                }
                2 => {
                    let n = STORAGE_CHOICES.len();
                    self.storage = if action == Action::OptionNext {
                        (self.storage + 1) % n
                    } else {
                        (self.storage + n - 1) % n
                    };
                }
                _ => {}
            },
            Action::Submit if !self.reqs.busy() => {
                self.error = None;
                let Some(loaded) = &self.loaded else {
                    let value = self.source.value(0).trim().to_string();
                    if value.is_empty() {
                        self.error = Some(PaneError::text(if self.from_file {
                            "type a file path"
                        } else {
                            "paste a session string"
                        }));
                        return Vec::new();
                    }
                    let source = if self.from_file {
                        ImportSource::File(value.into())
                    } else {
                        ImportSource::Text(crate::secret::SecretString::new(value))
                    };
                    return vec![Cmd::Run(Effect::ReadImport {
                        req: self.reqs.start(cx.now),
                        source,
                    })];
                };
                let name = self.name.value(0).trim().to_string();
                if let Err(e) = check_new_name(&name, cx.rows) {
                    self.error = Some(PaneError::text(e));
                    return Vec::new();
                }
                return vec![Cmd::Run(Effect::SaveImport {
                    req: self.reqs.start(cx.now),
                    session: Box::new(loaded.session.clone()),
                    target: SaveTarget {
                        name,
                        format: STORAGE_CHOICES[self.storage],
                    },
                })];
            }
            Action::Cancel => return vec![Cmd::Close],
            Action::ForceQuit => return vec![Cmd::Quit],
            _ => {}
        }
        Vec::new()
    }

    fn on_key(&mut self, ev: &KeyEvent) -> Vec<Cmd> {
        if let Some((_, form)) = &mut self.locked {
            form.handle_key(ev);
        } else if self.focus == 1 {
            if self.loaded.is_some() {
                self.name.handle_key(ev);
            } else {
                self.source.handle_key(ev);
            }
        }
        Vec::new()
    }

    fn on_paste(&mut self, text: &str) {
        if let Some((_, form)) = &mut self.locked {
            form.paste(text);
        } else if self.loaded.is_some() {
            self.name.paste(text);
        } else {
            self.source.paste(text);
        }
    }

    fn on_outcome(&mut self, seq: u64, outcome: Outcome, cx: &Cx) -> Vec<Cmd> {
        if !self.reqs.take(seq) {
            return Vec::new();
        }
        match outcome {
            Outcome::Parsed(Ok(loaded)) => {
                let id = loaded
                    .session
                    .auth_key()
                    .filter(|k| !k.is_all_zero())
                    .map(|k| k.key_id());
                self.already = cx
                    .rows
                    .iter()
                    .filter(|r| id.is_some() && r.key_id() == id)
                    .map(|r| r.name.clone())
                    .collect();
                self.storage = STORAGE_CHOICES
                    .iter()
                    .position(|c| c.family() == loaded.format.family())
                    .unwrap_or(0);
                self.loaded = Some(loaded);
                self.source.fields[0].clear();
                // Dropping the form clears the passcode it held.
                self.locked = None;
                self.focus = 1;
                Vec::new()
            }
            Outcome::Locked { wrong } => {
                match &mut self.locked {
                    Some((_, form)) => form.fields[0].clear(),
                    None => {
                        let path = PathBuf::from(self.source.value(0).trim());
                        self.locked = Some((path, passcode_form()));
                    }
                }
                self.focus = 1;
                self.error = wrong
                    .then(|| PaneError::text("wrong local passcode: type it again (Esc cancels)"));
                Vec::new()
            }
            Outcome::Parsed(Err(e)) => {
                self.error = Some(PaneError::text(e));
                Vec::new()
            }
            Outcome::Saved(result) => on_saved(result, &mut self.error),
            _ => Vec::new(),
        }
    }

    fn busy(&self) -> bool {
        self.reqs.busy()
    }

    fn animating(&self) -> bool {
        self.reqs.busy()
    }

    fn render(&self, f: &mut Frame, area: Rect, v: &ViewCx) {
        let mut lines = Vec::new();
        let mut cursor;
        match &self.loaded {
            None if self.locked.is_some() => {
                let (path, form) = self.locked.as_ref().expect("checked");
                lines.push(modal::plain(
                    "This Telegram Desktop folder is locked with a local passcode:",
                    v,
                ));
                lines.push(modal::muted(
                    crate::ui::text::clean(&path.display().to_string()),
                    v,
                ));
                let (mut fl, c) = modal::form_lines(form, v, lines.len() as u16);
                cursor = c;
                lines.append(&mut fl);
                lines.push(modal::muted(
                    "The passcode only unlocks the folder to read it; it is not kept.",
                    v,
                ));
            }
            None => {
                let kind = if self.from_file {
                    "a file path"
                } else {
                    "a pasted string (hidden)"
                };
                lines.push(modal::choice_line("Import from", kind, self.focus == 0, v));
                let (mut fl, c) = modal::form_lines(&self.source, v, lines.len() as u16);
                cursor = c;
                lines.append(&mut fl);
                lines.push(modal::muted(
                    "Telethon, Pyrogram, tgsess or a tdata folder; detected.",
                    v,
                ));
            }
            Some(l) => {
                let s = &l.session;
                let who = s
                    .user
                    .as_ref()
                    .and_then(|u| u.display_name())
                    .map(|n| crate::ui::text::clean(&n))
                    .unwrap_or_else(|| "-".into());
                lines.push(modal::plain(
                    format!("Detected: {} · DC {}", l.format.name(), s.dc_id),
                    v,
                ));
                lines.push(modal::plain(
                    format!(
                        "Account: {who} · user id {} · key {}",
                        s.user_id
                            .map(|i| i.to_string())
                            .unwrap_or_else(|| "-".into()),
                        s.auth_key()
                            .map(|k| k.key_id_hex())
                            .unwrap_or_else(|| "none".into())
                    ),
                    v,
                ));
                if !self.already.is_empty() {
                    let names: Vec<String> = self
                        .already
                        .iter()
                        .map(|n| format!("'{}'", crate::ui::text::clean(n)))
                        .collect();
                    lines.push(modal::warn(
                        format!(
                            "This key is already in {}: both would be one authorization \
                             (logging out one ends both).",
                            names.join(", ")
                        ),
                        v,
                    ));
                }
                lines.push(modal::plain("", v));
                let (mut fl, c) = modal::form_lines(&self.name, v, lines.len() as u16);
                cursor = c;
                lines.append(&mut fl);
                lines.push(modal::choice_line(
                    "Store as",
                    &storage_label(STORAGE_CHOICES[self.storage]),
                    self.focus == 2,
                    v,
                ));
            }
        }
        if self.focus != 1 && self.locked.is_none() {
            cursor = None;
        }
        let body_len = lines.len();
        lines.extend(modal::busy_line(&self.reqs, "reading", v));
        lines.extend(modal::error_line(&self.error, v));
        modal::draw_pane(f, area, "Import a session", 72, lines, body_len, cursor, v);
    }
}
