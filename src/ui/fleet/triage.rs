//! Triage words in the filter (`/`): `status:error`, `2fa:off`, `devices:>0`, `has:error`,
//! `is:marked`, mixed with plain text (`status:authorized alice`). Every word must hold. The
//! words read what a check found (the status book or this run), so unchecked rows never match
//! `2fa:` or `devices:`.

use crate::ui::state::{AppState, SessionRow, Status};

/// The words, as the help pane lists them.
pub const HELP: [&str; 4] = [
    "words: status:authorized|logged-out|unknown|error|in-use",
    "       2fa:off  2fa:on  devices:>0  devices:0  has:error  is:marked",
    "       (from the last check; mixed with text, every word must match)",
    "sort (s) also by 2FA off first and by most other devices",
];

#[derive(Clone, Debug, PartialEq, Eq)]
enum Word {
    Text(String),
    Status(Status),
    TwoFa(bool),
    Devices(Cmp, u32),
    HasError,
    Marked,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Eq,
    Gt,
    Lt,
}

/// A parsed filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    words: Vec<Word>,
}

fn status_word(s: &str) -> Option<Status> {
    Some(match s {
        "authorized" | "ok" => Status::Authorized,
        "logged-out" | "logged_out" | "loggedout" | "out" => Status::LoggedOut,
        "unknown" | "unchecked" => Status::Unknown,
        "in-use" | "in_use" | "inuse" => Status::InUse,
        "error" => Status::Error,
        _ => return None,
    })
}

fn word(w: &str) -> Word {
    let text = || Word::Text(w.to_string());
    let Some((k, v)) = w.split_once(':') else {
        return text();
    };
    match k {
        "status" => status_word(v).map_or_else(text, Word::Status),
        "2fa" => match v {
            "on" | "yes" => Word::TwoFa(true),
            "off" | "no" => Word::TwoFa(false),
            _ => text(),
        },
        "devices" => {
            let (cmp, n) = match v.as_bytes().first() {
                Some(b'>') => (Cmp::Gt, &v[1..]),
                Some(b'<') => (Cmp::Lt, &v[1..]),
                _ => (Cmp::Eq, v),
            };
            n.parse().map_or_else(|_| text(), |n| Word::Devices(cmp, n))
        }
        "has" if v == "error" => Word::HasError,
        "is" if v == "marked" => Word::Marked,
        _ => text(),
    }
}

impl Filter {
    pub fn parse(filter: &str) -> Filter {
        Filter {
            words: filter.to_lowercase().split_whitespace().map(word).collect(),
        }
    }

    /// Whether the filter uses triage words (they depend on statuses, not only on the rows).
    pub fn uses_findings(&self) -> bool {
        self.words.iter().any(|w| !matches!(w, Word::Text(_)))
    }

    pub fn matches(&self, st: &AppState, row: &SessionRow) -> bool {
        let finding = || st.known.get(&row.key()).and_then(|k| k.finding.as_ref());
        self.words.iter().all(|w| match w {
            Word::Text(t) => row.matches(t),
            Word::Status(s) => st.status(row) == *s,
            Word::TwoFa(on) => finding().and_then(|f| f.two_fa) == Some(*on),
            Word::Devices(cmp, n) => {
                finding()
                    .and_then(|f| f.other_authorizations)
                    .is_some_and(|d| match cmp {
                        Cmp::Eq => d == *n,
                        Cmp::Gt => d > *n,
                        Cmp::Lt => d < *n,
                    })
            }
            Word::HasError => {
                st.status(row) == Status::Error || finding().is_some_and(|f| f.error.is_some())
            }
            Word::Marked => super::marks::is_marked(st, &row.key()),
        })
    }
}

/// Sort keys from what the last check found: 2FA off first, most other devices first.
pub fn two_fa_rank(st: &AppState, row: &SessionRow) -> u8 {
    match st
        .known
        .get(&row.key())
        .and_then(|k| k.finding.as_ref()?.two_fa)
    {
        Some(false) => 0,
        Some(true) => 1,
        None => 2,
    }
}

pub fn devices_rank(st: &AppState, row: &SessionRow) -> std::cmp::Reverse<Option<u32>> {
    std::cmp::Reverse(
        st.known
            .get(&row.key())
            .and_then(|k| k.finding.as_ref()?.other_authorizations),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_parse_and_unknown_ones_are_text() {
        let f = Filter::parse("status:Error 2fa:off devices:>0 has:error is:marked alice");
        assert_eq!(
            f.words,
            [
                Word::Status(Status::Error),
                Word::TwoFa(false),
                Word::Devices(Cmp::Gt, 0),
                Word::HasError,
                Word::Marked,
                Word::Text("alice".into()),
            ]
        );
        assert!(f.uses_findings());
        let plain = Filter::parse("status:sleepy devices:many");
        assert!(!plain.uses_findings(), "not words: searched as text");
    }
}
