//! Keys: every `Action` with a one-line description, and one binding table per context.
//! The help overlay and the footer hints are built from these tables, so they cannot drift.
//! `keys.toml` may override bindings; problems are reported with their line and defaults stay.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where keys are looked up: the list, or the top modal's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    List,
    Filter,
    Help,
    Chooser,
    Form,
    Code,
    Qr,
    Confirm,
    Reveal,
    Authorizations,
}

impl Context {
    pub const ALL: [Context; 10] = [
        Context::List,
        Context::Filter,
        Context::Help,
        Context::Chooser,
        Context::Form,
        Context::Code,
        Context::Qr,
        Context::Confirm,
        Context::Reveal,
        Context::Authorizations,
    ];

    /// The section name in `keys.toml` and the heading in the help overlay.
    pub fn key(self) -> &'static str {
        match self {
            Context::List => "list",
            Context::Filter => "filter",
            Context::Help => "help",
            Context::Chooser => "chooser",
            Context::Form => "form",
            Context::Code => "code",
            Context::Qr => "qr",
            Context::Confirm => "confirm",
            Context::Reveal => "reveal",
            Context::Authorizations => "authorizations",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Context::List => "Session list",
            Context::Filter => "Filter (/)",
            Context::Help => "Help",
            Context::Chooser => "Choosers",
            Context::Form => "Forms",
            Context::Code => "Login code",
            Context::Qr => "QR login",
            Context::Confirm => "Confirmations",
            Context::Reveal => "Export / reveal",
            Context::Authorizations => "Other authorizations",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    ForceQuit,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Filter,
    SortNext,
    SortReverse,
    FocusDetail,
    Help,
    NewLogin,
    Import,
    Export,
    Clone,
    Logout,
    TwoFa,
    Authorizations,
    Refresh,
    Submit,
    Cancel,
    NextField,
    PrevField,
    OptionPrev,
    OptionNext,
    Resend,
    RecoverPassword,
    DemoScan,
    InvertQr,
    Yes,
    No,
    Copy,
    Terminate,
    TerminateAll,
    Mark,
    MarkAll,
    ClearMarks,
    CheckAll,
    Bulk,
    StopRun,
}

impl Action {
    const ALL: [Action; 42] = [
        Action::Quit,
        Action::ForceQuit,
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::Filter,
        Action::SortNext,
        Action::SortReverse,
        Action::FocusDetail,
        Action::Help,
        Action::NewLogin,
        Action::Import,
        Action::Export,
        Action::Clone,
        Action::Logout,
        Action::TwoFa,
        Action::Authorizations,
        Action::Refresh,
        Action::Submit,
        Action::Cancel,
        Action::NextField,
        Action::PrevField,
        Action::OptionPrev,
        Action::OptionNext,
        Action::Resend,
        Action::RecoverPassword,
        Action::DemoScan,
        Action::InvertQr,
        Action::Yes,
        Action::No,
        Action::Copy,
        Action::Terminate,
        Action::TerminateAll,
        Action::Mark,
        Action::MarkAll,
        Action::ClearMarks,
        Action::CheckAll,
        Action::Bulk,
        Action::StopRun,
    ];

    /// The name used in `keys.toml`.
    pub fn key(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::ForceQuit => "force_quit",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Filter => "filter",
            Action::SortNext => "sort_next",
            Action::SortReverse => "sort_reverse",
            Action::FocusDetail => "focus_detail",
            Action::Help => "help",
            Action::NewLogin => "new_login",
            Action::Import => "import",
            Action::Export => "export",
            Action::Clone => "clone",
            Action::Logout => "logout",
            Action::TwoFa => "two_fa",
            Action::Authorizations => "authorizations",
            Action::Refresh => "refresh",
            Action::Submit => "submit",
            Action::Cancel => "cancel",
            Action::NextField => "next_field",
            Action::PrevField => "prev_field",
            Action::OptionPrev => "option_prev",
            Action::OptionNext => "option_next",
            Action::Resend => "resend",
            Action::DemoScan => "demo_scan",
            Action::InvertQr => "invert_qr",
            Action::Yes => "yes",
            Action::No => "no",
            Action::Copy => "copy",
            Action::Terminate => "terminate",
            Action::TerminateAll => "terminate_all",
            Action::Mark => "mark",
            Action::MarkAll => "mark_all",
            Action::ClearMarks => "clear_marks",
            Action::CheckAll => "check_all",
            Action::Bulk => "bulk",
            Action::StopRun => "stop_run",
            Action::RecoverPassword => "recover_password",
        }
    }

    /// One line for the help overlay.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit (warns if memory sessions would be lost)",
            Action::ForceQuit => "quit now, from anywhere",
            Action::Up => "move up",
            Action::Down => "move down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "first row",
            Action::Bottom => "last row",
            Action::Filter => "filter the list",
            Action::SortNext => "sort by the next column",
            Action::SortReverse => "reverse the sort order",
            Action::FocusDetail => "switch focus between list and details",
            Action::Help => "show this help",
            Action::NewLogin => "new login: phone, bot or QR",
            Action::Import => "import a session string or file",
            Action::Export => "export / reveal as a string",
            Action::Clone => "clone: copy or fork",
            Action::Logout => "log out (asks first)",
            Action::TwoFa => "two-step verification (2FA)",
            Action::Authorizations => "other authorizations (devices)",
            Action::Refresh => "reload the list and check the account",
            Action::Submit => "confirm / next step",
            Action::Cancel => "cancel and close (stops its network work)",
            Action::NextField => "next field",
            Action::PrevField => "previous field",
            Action::OptionPrev => "previous choice",
            Action::OptionNext => "next choice",
            Action::Resend => "resend the code",
            Action::DemoScan => "sandbox: let the demo phone scan the code",
            Action::InvertQr => "invert the QR colours",
            Action::Yes => "yes",
            Action::No => "no",
            Action::Copy => "copy to the clipboard (OSC 52, works over SSH)",
            Action::Terminate => "terminate the selected authorization",
            Action::TerminateAll => "terminate all other authorizations",
            Action::Mark => "mark / unmark the row",
            Action::MarkAll => "mark every row the filter shows",
            Action::ClearMarks => "clear the marks",
            Action::CheckAll => "check every row the filter shows (paced)",
            Action::Bulk => "act on the marked rows: check, log out, terminate others",
            Action::StopRun => "stop the running check or bulk action",
            Action::RecoverPassword => "forgot the 2FA password: email a recovery code",
        }
    }

    /// A short label for the footer.
    pub fn hint(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "help",
            Action::Filter => "filter",
            Action::SortNext => "sort",
            Action::NewLogin => "new",
            Action::Import => "import",
            Action::Export => "export",
            Action::Clone => "clone",
            Action::Logout => "logout",
            Action::TwoFa => "2FA",
            Action::Authorizations => "devices",
            Action::Submit => "ok",
            Action::Cancel => "cancel",
            Action::NextField => "next field",
            Action::OptionNext => "change",
            Action::Resend => "resend",
            Action::DemoScan => "demo scan",
            Action::InvertQr => "invert",
            Action::Yes => "yes",
            Action::No => "no",
            Action::Copy => "copy",
            Action::Terminate => "terminate",
            Action::TerminateAll => "terminate all",
            Action::RecoverPassword => "forgot it",
            Action::FocusDetail => "details",
            other => other.key(),
        }
    }

    fn from_key(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.key() == s)
    }
}

/// One key: a code and modifiers (shift is folded into characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub const fn plain(code: KeyCode) -> Key {
        Key {
            code,
            mods: KeyModifiers::NONE,
        }
    }

    pub const fn ch(c: char) -> Key {
        Key::plain(KeyCode::Char(c))
    }

    pub const fn ctrl(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            mods: KeyModifiers::CONTROL,
        }
    }

    /// Normalises an event: shift on a character is part of the character.
    pub fn from_event(ev: &KeyEvent) -> Key {
        let mut mods =
            ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        if matches!(ev.code, KeyCode::Char(_) | KeyCode::BackTab) {
            mods.remove(KeyModifiers::SHIFT);
        }
        Key {
            code: ev.code,
            mods,
        }
    }

    /// Parses `q`, `?`, `ctrl-c`, `alt-x`, `enter`, `esc`, `f1`, `pgdn`, `shift-tab`...
    pub fn parse(s: &str) -> Option<Key> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                mods |= KeyModifiers::CONTROL;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                mods |= KeyModifiers::ALT;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "shift-tab" | "backtab" => KeyCode::BackTab,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" => KeyCode::PageUp,
            "pgdn" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "delete" => KeyCode::Delete,
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCode::F(f[1..].parse().ok()?)
            }
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next()?),
            _ => return None,
        };
        Some(Key { code, mods })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("S-Tab"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::F(n) => write!(f, "F{n}"),
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) if self.mods.contains(KeyModifiers::CONTROL) => {
                write!(f, "{}", c.to_ascii_uppercase())
            }
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Backspace => f.write_str("Bksp"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub keys: Vec<Key>,
    pub action: Action,
    /// Shown in the footer (the help overlay shows every binding).
    pub hint: bool,
}

/// The binding tables of every context.
#[derive(Clone, Debug)]
pub struct Keymap {
    tables: BTreeMap<Context, Vec<Binding>>,
}

fn b(keys: &[Key], action: Action, hint: bool) -> Binding {
    Binding {
        keys: keys.to_vec(),
        action,
        hint,
    }
}

use KeyCode as K;

fn defaults(ctx: Context) -> Vec<Binding> {
    let mut table = context_defaults(ctx);
    // Every pane scrolls when its text does not fit.
    if !matches!(ctx, Context::List | Context::Filter) {
        table.push(b(&[Key::plain(K::PageUp)], Action::PageUp, false));
        table.push(b(&[Key::plain(K::PageDown)], Action::PageDown, false));
    }
    table
}

fn context_defaults(ctx: Context) -> Vec<Binding> {
    let up = [Key::plain(K::Up), Key::ch('k')];
    let down = [Key::plain(K::Down), Key::ch('j')];
    let ok = [Key::plain(K::Enter)];
    let cancel = [Key::plain(K::Esc)];
    match ctx {
        Context::List => vec![
            b(&up, Action::Up, false),
            b(&down, Action::Down, false),
            b(
                &[Key::plain(K::PageUp), Key::ctrl('b')],
                Action::PageUp,
                false,
            ),
            b(
                &[Key::plain(K::PageDown), Key::ctrl('f')],
                Action::PageDown,
                false,
            ),
            b(&[Key::plain(K::Home), Key::ch('g')], Action::Top, false),
            b(&[Key::plain(K::End), Key::ch('G')], Action::Bottom, false),
            b(&[Key::ch('n')], Action::NewLogin, true),
            b(&[Key::ch('/')], Action::Filter, true),
            b(&[Key::ch('s')], Action::SortNext, true),
            b(&[Key::ch('r')], Action::SortReverse, false),
            b(&[Key::ch('i')], Action::Import, true),
            b(&[Key::ch('e')], Action::Export, true),
            b(&[Key::ch('c')], Action::Clone, true),
            b(&[Key::ch('p')], Action::TwoFa, true),
            b(&[Key::ch('a')], Action::Authorizations, true),
            b(&[Key::ch('L')], Action::Logout, true),
            b(&[Key::ch('R')], Action::Refresh, false),
            b(&[Key::ch('C')], Action::CheckAll, false),
            b(&[Key::ch(' ')], Action::Mark, false),
            b(&[Key::ch('*')], Action::MarkAll, false),
            b(&[Key::ch('u')], Action::ClearMarks, false),
            b(&[Key::ch('b')], Action::Bulk, false),
            b(&[Key::plain(K::Esc)], Action::StopRun, false),
            b(&[Key::plain(K::Tab)], Action::FocusDetail, false),
            b(&[Key::ch('?'), Key::plain(K::F(1))], Action::Help, true),
            b(&[Key::ch('q')], Action::Quit, true),
            b(&[Key::ctrl('c')], Action::ForceQuit, false),
        ],
        Context::Filter => vec![
            b(&ok, Action::Submit, true),
            b(&cancel, Action::Cancel, true),
            b(&[Key::ctrl('c')], Action::ForceQuit, false),
        ],
        Context::Help => vec![
            b(&up, Action::Up, false),
            b(&down, Action::Down, false),
            b(
                &[Key::plain(K::Esc), Key::ch('q'), Key::ch('?')],
                Action::Cancel,
                true,
            ),
            b(&[Key::ctrl('c')], Action::ForceQuit, false),
        ],
        Context::Chooser => vec![
            b(
                &[Key::plain(K::Up), Key::plain(K::BackTab)],
                Action::PrevField,
                false,
            ),
            b(
                &[Key::plain(K::Down), Key::plain(K::Tab)],
                Action::NextField,
                true,
            ),
            b(&[Key::plain(K::Left)], Action::OptionPrev, false),
            b(
                &[Key::plain(K::Right), Key::ch(' ')],
                Action::OptionNext,
                true,
            ),
            b(&ok, Action::Submit, true),
            b(&cancel, Action::Cancel, true),
            b(&[Key::ctrl('c')], Action::ForceQuit, false),
        ],
        Context::Form => vec![
            b(&ok, Action::Submit, true),
            b(&[Key::ctrl('e')], Action::RecoverPassword, false),
            b(
                &[Key::plain(K::Tab), Key::plain(K::Down)],
                Action::NextField,
                true,
            ),
            b(
                &[Key::plain(K::BackTab), Key::plain(K::Up)],
                Action::PrevField,
                false,
            ),
            b(&cancel, Action::Cancel, true),
            b(&[Key::ctrl('c')], Action::ForceQuit, false),
        ],
        Context::Code => vec![
            b(&ok, Action::Submit, true),
            b(&[Key::ctrl('r')], Action::Resend, true),
            b(&cancel, Action::Cancel, true),
            b(&[Key::ctrl('c')], Action::ForceQuit, false),
        ],
        Context::Qr => vec![
            b(&[Key::ch('s')], Action::DemoScan, true),
            b(&[Key::ch('i')], Action::InvertQr, true),
            b(&cancel, Action::Cancel, true),
            b(&[Key::ctrl('c')], Action::ForceQuit, false),
        ],
        Context::Confirm => vec![
            b(&[Key::ch('y')], Action::Yes, true),
            b(&[Key::ch('n'), Key::plain(K::Esc)], Action::No, true),
            b(&[Key::ctrl('c')], Action::ForceQuit, false),
        ],
        Context::Reveal => vec![
            b(&[Key::plain(K::Left)], Action::OptionPrev, false),
            b(
                &[Key::plain(K::Right), Key::ch(' ')],
                Action::OptionNext,
                true,
            ),
            b(&[Key::ch('y'), Key::plain(K::Enter)], Action::Submit, true),
            b(&[Key::ch('c')], Action::Copy, true),
            b(&[Key::plain(K::Esc), Key::ch('q')], Action::Cancel, true),
            b(&[Key::ctrl('c')], Action::ForceQuit, false),
        ],
        Context::Authorizations => vec![
            b(&up, Action::Up, false),
            b(&down, Action::Down, false),
            b(&[Key::ch('t')], Action::Terminate, true),
            b(&[Key::ch('T')], Action::TerminateAll, true),
            b(&[Key::ch('y')], Action::Yes, false),
            b(&[Key::ch('n')], Action::No, false),
            b(&[Key::plain(K::Esc), Key::ch('q')], Action::Cancel, true),
            b(&[Key::ctrl('c')], Action::ForceQuit, false),
        ],
    }
}

impl Default for Keymap {
    fn default() -> Self {
        let tables = Context::ALL.into_iter().map(|c| (c, defaults(c))).collect();
        Keymap { tables }
    }
}

impl Keymap {
    pub fn bindings(&self, ctx: Context) -> &[Binding] {
        self.tables.get(&ctx).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn lookup(&self, ctx: Context, ev: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(ev);
        self.bindings(ctx)
            .iter()
            .find(|b| b.keys.contains(&key))
            .map(|b| b.action)
    }

    /// The first key bound to `action` in `ctx`, for hints in pane text.
    pub fn key_for(&self, ctx: Context, action: Action) -> Option<Key> {
        self.bindings(ctx)
            .iter()
            .find(|b| b.action == action)
            .and_then(|b| b.keys.first().copied())
    }

    /// Applies `keys.toml`: `[context]` tables of `action = "key"` or `["k1", "k2"]`.
    /// Returns the problems, each with its line; a binding with a problem keeps its default.
    pub fn apply_overrides(&mut self, text: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let table: toml::Table = match toml::from_str(text) {
            Ok(t) => t,
            Err(e) => {
                let line = e
                    .span()
                    .map(|s| text[..s.start].lines().count().max(1))
                    .unwrap_or(1);
                return vec![format!("keys.toml line {line}: {}", e.message())];
            }
        };
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.trim_start().starts_with(needle))
                .map(|n| n + 1)
                .unwrap_or(1)
        };
        for (section, value) in table {
            let Some(ctx) = Context::ALL.into_iter().find(|c| c.key() == section) else {
                problems.push(format!(
                    "keys.toml line {}: unknown context [{section}]",
                    line_of(&format!("[{section}]"))
                ));
                continue;
            };
            let Some(entries) = value.as_table() else {
                problems.push(format!(
                    "keys.toml line {}: [{section}] must be a table",
                    line_of(&section)
                ));
                continue;
            };
            let mut table = self.tables.get(&ctx).cloned().unwrap_or_default();
            for (name, keys) in entries {
                let line = line_of(name);
                let Some(action) = Action::from_key(name) else {
                    problems.push(format!("keys.toml line {line}: unknown action '{name}'"));
                    continue;
                };
                let texts: Vec<&str> = match keys {
                    toml::Value::String(s) => vec![s.as_str()],
                    toml::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect(),
                    _ => Vec::new(),
                };
                let parsed: Option<Vec<Key>> = texts.iter().map(|t| Key::parse(t)).collect();
                let Some(parsed) = parsed.filter(|p| !p.is_empty()) else {
                    problems.push(format!("keys.toml line {line}: unknown key in '{name}'"));
                    continue;
                };
                match table.iter_mut().find(|b| b.action == action) {
                    Some(existing) => existing.keys = parsed,
                    None => table.push(b(&parsed, action, false)),
                }
            }
            if let Some(dup) = duplicate_key(&table) {
                problems.push(format!(
                    "keys.toml line {}: {dup} is bound twice in [{section}]; keeping the defaults there",
                    line_of(&format!("[{section}]"))
                ));
                continue;
            }
            self.tables.insert(ctx, table);
        }
        problems
    }
}

/// The key tables as Markdown, for docs/tui.md (a test keeps the two equal).
pub fn markdown(keymap: &Keymap) -> String {
    let mut out = String::new();
    for ctx in Context::ALL {
        out.push_str(&format!(
            "\n**{}** (`[{}]` in keys.toml)\n\n",
            ctx.title(),
            ctx.key()
        ));
        out.push_str("| Keys | Action | Does |\n|---|---|---|\n");
        for b in keymap.bindings(ctx) {
            let keys = b
                .keys
                .iter()
                .map(|k| format!("`{}`", k.to_string().replace('|', "\\|")))
                .collect::<Vec<_>>()
                .join(" ");
            out.push_str(&format!(
                "| {keys} | `{}` | {} |\n",
                b.action.key(),
                b.action.describe()
            ));
        }
    }
    out
}

fn duplicate_key(table: &[Binding]) -> Option<Key> {
    let mut seen = std::collections::HashSet::new();
    table
        .iter()
        .flat_map(|b| b.keys.iter())
        .find(|k| !seen.insert(**k))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventKind;

    fn press(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent {
            code,
            modifiers: mods,
            kind: KeyEventKind::Press,
            state: crossterm::event::KeyEventState::NONE,
        }
    }

    #[test]
    fn no_key_is_bound_twice_in_a_default_table() {
        let km = Keymap::default();
        for ctx in Context::ALL {
            assert_eq!(duplicate_key(km.bindings(ctx)), None, "{ctx:?}");
            // Ctrl-C quits cleanly from every context.
            assert_eq!(
                km.lookup(ctx, &press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
                Some(Action::ForceQuit),
                "{ctx:?}"
            );
        }
    }

    #[test]
    fn arrows_and_vi_keys_both_move() {
        let km = Keymap::default();
        for code in [KeyCode::Down, KeyCode::Char('j')] {
            assert_eq!(
                km.lookup(Context::List, &press(code, KeyModifiers::NONE)),
                Some(Action::Down)
            );
        }
        // Shift is part of the character: `G` arrives as Char('G') + SHIFT.
        assert_eq!(
            km.lookup(
                Context::List,
                &press(KeyCode::Char('G'), KeyModifiers::SHIFT)
            ),
            Some(Action::Bottom)
        );
        // `q` is not bound in forms, so it types into the field.
        assert_eq!(
            km.lookup(
                Context::Form,
                &press(KeyCode::Char('q'), KeyModifiers::NONE)
            ),
            None
        );
    }

    #[test]
    fn keys_parse_and_print() {
        assert_eq!(Key::parse("ctrl-r"), Some(Key::ctrl('r')));
        assert_eq!(Key::parse("f1"), Some(Key::plain(KeyCode::F(1))));
        assert_eq!(Key::parse("pgdn"), Some(Key::plain(KeyCode::PageDown)));
        assert_eq!(Key::parse("hyper-x"), None);
        assert_eq!(Key::ctrl('r').to_string(), "Ctrl-R");
        assert_eq!(Key::plain(KeyCode::Up).to_string(), "↑");
    }

    #[test]
    fn overrides_apply_and_problems_name_their_line() {
        let mut km = Keymap::default();
        let text =
            "[list]\nquit = \"x\"\nfly = \"f\"\nhelp = \"hyper-h\"\n[nowhere]\nquit = \"q\"\n";
        let problems = km.apply_overrides(text);
        assert_eq!(
            km.lookup(
                Context::List,
                &press(KeyCode::Char('x'), KeyModifiers::NONE)
            ),
            Some(Action::Quit)
        );
        assert_eq!(
            km.lookup(
                Context::List,
                &press(KeyCode::Char('q'), KeyModifiers::NONE)
            ),
            None
        );
        // The bad help binding keeps its default.
        assert_eq!(
            km.lookup(
                Context::List,
                &press(KeyCode::Char('?'), KeyModifiers::NONE)
            ),
            Some(Action::Help)
        );
        assert!(
            problems
                .iter()
                .any(|p| p == "keys.toml line 3: unknown action 'fly'"),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("keys.toml line 4: unknown key")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("keys.toml line 5: unknown context")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_key_bound_twice_is_an_error_and_defaults_stay() {
        let mut km = Keymap::default();
        let problems = km.apply_overrides("[list]\nquit = \"j\"\n");
        assert!(problems[0].contains("bound twice"), "{problems:?}");
        assert_eq!(
            km.lookup(
                Context::List,
                &press(KeyCode::Char('j'), KeyModifiers::NONE)
            ),
            Some(Action::Down)
        );
    }
}
