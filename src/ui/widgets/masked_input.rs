//! Text fields over `tui-input`. A secret field shows one `•` per character; a code field
//! (login and email codes) shows what was typed, as the official apps do. Both debug-print as
//! `<redacted>` and clear their value and yank buffer when dropped or cleared.

use std::fmt;

use crossterm::event::{Event, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use crate::secret::SecretString;

pub struct Field {
    pub label: &'static str,
    /// Masked on screen.
    pub secret: bool,
    /// Never in debug output (secrets and codes).
    redacted: bool,
    input: Input,
}

impl Field {
    pub fn text(label: &'static str) -> Field {
        Field {
            label,
            secret: false,
            redacted: false,
            input: Input::default(),
        }
    }

    pub fn secret(label: &'static str) -> Field {
        Field {
            label,
            secret: true,
            redacted: true,
            input: Input::default(),
        }
    }

    /// A one-time code: shown, so that a typo can be seen, but kept out of debug output.
    pub fn code(label: &'static str) -> Field {
        Field {
            label,
            secret: false,
            redacted: true,
            input: Input::default(),
        }
    }

    pub fn with_value(mut self, value: &str) -> Field {
        self.input = Input::new(value.to_string());
        self
    }

    /// The typed text (use `secret_value` for secret fields).
    pub fn value(&self) -> &str {
        self.input.value()
    }

    pub fn secret_value(&self) -> SecretString {
        SecretString::new(self.input.value())
    }

    /// What the screen shows.
    pub fn shown(&self) -> String {
        if self.secret {
            "•".repeat(self.input.value().chars().count())
        } else {
            crate::ui::text::clean(self.input.value())
        }
    }

    /// Cursor column within the shown text.
    pub fn cursor(&self) -> usize {
        if self.secret {
            self.input.cursor()
        } else {
            self.input.visual_cursor()
        }
    }

    /// Edits the field; returns whether the key was used.
    pub fn handle_key(&mut self, ev: &KeyEvent) -> bool {
        match to_input_request(&Event::Key(*ev)) {
            Some(req) => {
                self.input.handle(req);
                true
            }
            None => false,
        }
    }

    pub fn paste(&mut self, text: &str) {
        for c in text.chars().filter(|c| !c.is_control()) {
            self.input.handle(tui_input::InputRequest::InsertChar(c));
        }
    }

    /// Forgets the value and the yank buffer.
    pub fn clear(&mut self) {
        self.input = Input::default();
    }
}

impl Drop for Field {
    fn drop(&mut self) {
        self.clear();
    }
}

impl fmt::Debug for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.redacted {
            write!(f, "Field({}: <redacted>)", self.label)
        } else {
            write!(f, "Field({}: {:?})", self.label, self.input.value())
        }
    }
}

/// Fields with one focused.
#[derive(Debug, Default)]
pub struct Form {
    pub fields: Vec<Field>,
    pub focus: usize,
}

impl Form {
    pub fn new(fields: Vec<Field>) -> Form {
        Form { fields, focus: 0 }
    }

    pub fn next(&mut self) {
        if !self.fields.is_empty() {
            self.focus = (self.focus + 1) % self.fields.len();
        }
    }

    pub fn prev(&mut self) {
        if !self.fields.is_empty() {
            self.focus = (self.focus + self.fields.len() - 1) % self.fields.len();
        }
    }

    pub fn handle_key(&mut self, ev: &KeyEvent) -> bool {
        self.fields
            .get_mut(self.focus)
            .is_some_and(|f| f.handle_key(ev))
    }

    pub fn paste(&mut self, text: &str) {
        if let Some(f) = self.fields.get_mut(self.focus) {
            f.paste(text);
        }
    }

    pub fn value(&self, i: usize) -> &str {
        self.fields.get(i).map(Field::value).unwrap_or("")
    }

    pub fn secret(&self, i: usize) -> SecretString {
        self.fields
            .get(i)
            .map(Field::secret_value)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn secrets_are_masked_and_redacted() {
        let mut f = Field::secret("Password");
        for c in "hunter2".chars() {
            assert!(f.handle_key(&key(c)));
        }
        assert_eq!(f.shown(), "•••••••");
        assert_eq!(f.secret_value().reveal(), "hunter2");
        assert!(!format!("{f:?}").contains("hunter2"));
        f.clear();
        assert_eq!(f.value(), "");
        // The yank buffer went too: Ctrl-Y brings nothing back.
        f.handle_key(&KeyEvent::new(KeyCode::Char('y'), KeyModifiers::CONTROL));
        assert_eq!(f.value(), "");
    }

    #[test]
    fn codes_are_shown_but_redacted() {
        let mut f = Field::code("Code");
        for c in "22222".chars() {
            f.handle_key(&key(c));
        }
        assert_eq!(f.shown(), "22222");
        assert!(!format!("{f:?}").contains("22222"));
    }

    #[test]
    fn paste_drops_control_characters() {
        let mut f = Field::text("Name");
        f.paste("a\nb\x1bc");
        assert_eq!(f.value(), "abc");
    }
}
