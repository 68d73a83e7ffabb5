//! Modal panes. Each is a small state machine: keys and results in, `Cmd`s out. Panes never
//! do I/O; they ask for effects, tagged with their id and a request number, and ignore any
//! result that is not the one they wait for.

pub mod auths;
pub mod bot;
pub mod bulk;
pub mod clone;
pub mod export;
pub mod export_tdata;
pub mod help;
pub mod import;
pub mod logout;
pub mod new_login;
pub mod phone;
pub mod qr;
pub mod quit;
pub mod two_fa;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::effects::{Effect, SaveTarget};
use super::keymap::{Action, Context, Keymap};
use super::msg::{Outcome, ReqId};
use super::state::{Known, Mode, Notice, SessionRow};
use super::theme::Theme;
use crate::store::Format;
use crate::telegram::{LoginResult, TgError};

/// What a pane asks the app to do. Short-lived and moved once, so the large `Saved` variant
/// is not boxed.
#[allow(clippy::large_enum_variant)]
pub enum Cmd {
    Run(Effect),
    /// Close this pane (its tasks are cancelled).
    Close,
    /// Replace this pane with another (the chooser becomes the login flow).
    Replace(Box<dyn Pane>),
    Push(Box<dyn Pane>),
    /// A session was saved: add it to the list and select it.
    Saved(SessionRow),
    Notice(Notice),
    /// Update what is known about the row with this key.
    Learned(String, Box<dyn FnOnce(&mut Known) + Send>),
    /// Authorizations of the row's account were terminated: every other one (`None`) or this
    /// device. Local sessions that held them are logged out.
    Terminated(String, Option<crate::telegram::Device>),
    /// Start a bulk action on the rows with these keys.
    Bulk(crate::ui::fleet::bulk::BulkOp, Vec<String>),
    /// Export the rows with these keys as a format into a folder.
    BulkExport(Vec<String>, crate::store::Format, std::path::PathBuf),
    Reload,
    Quit,
}

/// What panes may read from the app when handling input.
pub struct Cx<'a> {
    pub now: u64,
    pub rows: &'a [SessionRow],
    pub mode: &'a Mode,
}

/// What panes may read when drawing.
pub struct ViewCx<'a> {
    pub theme: &'a Theme,
    pub keymap: &'a Keymap,
    pub now: u64,
    pub mode: &'a Mode,
    /// Rows the top pane is scrolled down (PgDn); the pane clamps it.
    pub scroll: u16,
    /// Set by the pane while drawing: how far it can scroll, so PgDn stops there.
    pub scroll_max: &'a std::cell::Cell<u16>,
}

pub trait Pane: Send {
    fn id(&self) -> u64;
    /// A short name of the pane and its step, for tests and logs ("phone/code").
    fn step(&self) -> String;
    fn context(&self) -> Context;
    fn on_action(&mut self, action: Action, cx: &Cx) -> Vec<Cmd>;
    /// Keys not bound in the context (typing into a field).
    fn on_key(&mut self, _ev: &KeyEvent) -> Vec<Cmd> {
        Vec::new()
    }
    fn on_paste(&mut self, _text: &str) {}
    fn on_outcome(&mut self, seq: u64, outcome: Outcome, cx: &Cx) -> Vec<Cmd>;
    /// The clock moved (QR refresh).
    fn on_tick(&mut self, _cx: &Cx) -> Vec<Cmd> {
        Vec::new()
    }
    /// Waiting for the answer to a request (the spinner shows).
    fn busy(&self) -> bool {
        false
    }
    fn animating(&self) -> bool;
    fn render(&self, f: &mut Frame, area: Rect, v: &ViewCx);
}

/// Numbering of one pane's requests; only the latest answer counts.
#[derive(Debug, Default)]
pub struct Requests {
    pane: u64,
    next: u64,
    pub waiting: Option<u64>,
    pub since: u64,
}

impl Requests {
    pub fn new(pane: u64) -> Requests {
        Requests {
            pane,
            next: 0,
            waiting: None,
            since: 0,
        }
    }

    /// A new request id; the pane now waits for it.
    pub fn start(&mut self, now: u64) -> ReqId {
        self.next += 1;
        self.waiting = Some(self.next);
        self.since = now;
        ReqId {
            pane: self.pane,
            seq: self.next,
        }
    }

    /// A request id the pane does not block on (e.g. the QR wait running in the background).
    pub fn background(&mut self) -> ReqId {
        self.next += 1;
        ReqId {
            pane: self.pane,
            seq: self.next,
        }
    }

    /// Whether `seq` is the awaited answer; clears the wait if so.
    pub fn take(&mut self, seq: u64) -> bool {
        if self.waiting == Some(seq) {
            self.waiting = None;
            true
        } else {
            false
        }
    }

    pub fn busy(&self) -> bool {
        self.waiting.is_some()
    }
}

/// An error shown in the pane that caused it; a wait (flood wait, resend timeout) counts down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaneError {
    pub text: String,
    /// When retrying is allowed (ms on the app clock).
    pub until: Option<u64>,
    /// The text already says what is waited for ("you can ask for a new code"): the
    /// countdown reads "… in 20 s", not "…: retry in 20 s".
    phrase: bool,
}

impl PaneError {
    pub fn service(e: &TgError, now: u64) -> PaneError {
        match e {
            TgError::FloodWait { seconds } => PaneError {
                text: "flood wait".into(),
                until: Some(now + u64::from(*seconds) * 1000),
                phrase: false,
            },
            other => PaneError::text(advice(other)),
        }
    }

    pub fn text(text: impl Into<String>) -> PaneError {
        PaneError {
            text: text.into(),
            until: None,
            phrase: false,
        }
    }

    /// "error: {text} in 20 s", counting down to "error: {text} now".
    pub fn wait(text: impl Into<String>, until: u64) -> PaneError {
        PaneError {
            text: text.into(),
            until: Some(until),
            phrase: true,
        }
    }

    /// The line to show: "error: flood wait: retry in 37 s".
    pub fn line(&self, now: u64) -> String {
        match (self.until, self.phrase) {
            (Some(until), false) if until > now => {
                format!(
                    "error: {}: retry in {} s",
                    self.text,
                    (until - now).div_ceil(1000)
                )
            }
            (Some(until), true) if until > now => {
                format!("error: {} in {} s", self.text, (until - now).div_ceil(1000))
            }
            (Some(_), false) => format!("error: {}: you can retry now", self.text),
            (Some(_), true) => format!("error: {} now", self.text),
            (None, _) => format!("error: {}", self.text),
        }
    }

    /// Whether a flood wait still blocks a retry.
    pub fn blocks(&self, now: u64) -> bool {
        // A flood wait blocks any retry; a resend countdown only blocks the resend.
        !self.phrase && self.until.is_some_and(|u| u > now)
    }
}

/// What to tell the user about an error of the account layer, and what to do about it.
pub fn advice(e: &TgError) -> String {
    match e {
        TgError::InvalidCode => "wrong code; check it and try again".into(),
        TgError::CodeExpired => "the code expired; press Ctrl-R for a new one".into(),
        TgError::PhoneInvalid => "not a valid phone number (use +country code)".into(),
        TgError::InvalidPassword => "wrong password; try again".into(),
        TgError::AccessTokenInvalid => "the bot token is not valid".into(),
        TgError::FirstNameInvalid => "the first name is not accepted".into(),
        TgError::NotAuthorized => "this session is logged out on Telegram's side".into(),
        TgError::Rpc { name, .. } => match name.as_str() {
            "EMAIL_CODE_INVALID" | "CODE_INVALID" => "wrong email code; try again".into(),
            "EMAIL_INVALID" => "the email address is not accepted".into(),
            "SESSION_REVOKED" | "USER_DEACTIVATED" => {
                "this session is logged out on Telegram's side".into()
            }
            "FRESH_RESET_AUTHORISATION_FORBIDDEN" => {
                "this session is too new to terminate others (Telegram allows it after 24 h)".into()
            }
            _ => format!("Telegram said {name}"),
        },
        other => other.to_string(),
    }
}

/// Whether `e` says the session's key no longer works.
pub fn is_logged_out(e: &TgError) -> bool {
    matches!(e, TgError::NotAuthorized)
        || matches!(e, TgError::Rpc { name, .. } if name == "SESSION_REVOKED" || name == "USER_DEACTIVATED")
}

/// Where a new session can be stored, in chooser order.
pub const STORAGE_CHOICES: [Format; 7] = [
    Format::TgsessSqlite,
    Format::TgsessString,
    Format::TelethonSqlite(7),
    Format::TelethonString,
    Format::PyrogramSqlite(7),
    Format::PyrogramString(crate::store::PyrogramStringLayout::V2),
    Format::Memory,
];

/// "SQLite · tgsess" style label for a storage choice.
pub fn storage_label(f: Format) -> String {
    let backend = match f.backend() {
        crate::store::BackendKind::Sqlite => "SQLite file",
        crate::store::BackendKind::String => "string file",
        crate::store::BackendKind::Folder => "folder",
        crate::store::BackendKind::Memory => "memory (lost on quit)",
    };
    let lib = match f {
        Format::TgsessSqlite | Format::TgsessString => "tgsess",
        Format::TelethonSqlite(_) | Format::TelethonString => "Telethon",
        Format::PyrogramSqlite(_) | Format::PyroforkSqlite | Format::PyrogramString(_) => {
            "Pyrogram"
        }
        Format::Tdata => "Telegram Desktop",
        Format::Memory => "this process only",
    };
    format!("{backend} · {lib}")
}

/// Checks a name for a new session against the rules and the list.
pub fn check_new_name(name: &str, rows: &[SessionRow]) -> Result<(), String> {
    crate::store::dir::validate_name(name).map_err(|e| e.to_string())?;
    if rows.iter().any(|r| r.name == name) {
        return Err(format!(
            "a session named '{name}' already exists; choose another name"
        ));
    }
    Ok(())
}

/// Common finish of every login: the result goes to the store, then the pane closes.
pub fn save_login(reqs: &mut Requests, now: u64, result: LoginResult, target: &SaveTarget) -> Cmd {
    Cmd::Run(Effect::SaveLogin {
        req: reqs.start(now),
        result: Box::new(result),
        target: target.clone(),
    })
}

/// Handles `Outcome::Saved`: close the pane and select the new session, or show why not.
pub fn on_saved(result: Result<SessionRow, String>, error: &mut Option<PaneError>) -> Vec<Cmd> {
    match result {
        Ok(mut row) => {
            let text = format!("saved '{}' ({})", row.name, row.format_name());
            let key = row.key();
            // Only a login just made is known to be authorized; an imported or copied key
            // has the status found for it (or none).
            let me = row.learned.take();
            let learned = me.map(|me| {
                Cmd::Learned(
                    key,
                    Box::new(move |k: &mut Known| {
                        k.status = Some(super::state::Status::Authorized);
                        k.me = Some(*me);
                    }) as Box<dyn FnOnce(&mut Known) + Send>,
                )
            });
            vec![Cmd::Saved(row)]
                .into_iter()
                .chain(learned)
                .chain([Cmd::Notice(Notice::ok(text)), Cmd::Close])
                .collect()
        }
        Err(e) => {
            *error = Some(PaneError::text(format!("could not save: {e}")));
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flood_wait_counts_down() {
        let e = PaneError::service(&TgError::FloodWait { seconds: 37 }, 1_000);
        assert_eq!(e.line(1_000), "error: flood wait: retry in 37 s");
        assert_eq!(e.line(11_000), "error: flood wait: retry in 27 s");
        assert!(e.blocks(37_999));
        assert!(!e.blocks(38_000));
        assert_eq!(e.line(38_000), "error: flood wait: you can retry now");
    }

    #[test]
    fn only_the_awaited_answer_counts() {
        let mut r = Requests::new(7);
        let a = r.start(0);
        let b = r.start(0);
        assert_eq!(a.pane, 7);
        assert!(!r.take(a.seq));
        assert!(r.take(b.seq));
        assert!(!r.busy());
    }
}
