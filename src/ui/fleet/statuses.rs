//! Statuses that are found, never guessed: what `tgsess check` (or this TUI) last found about
//! each session comes from the `StatusBook` at start; any action that changes an account's
//! standing updates every row holding the same key, and the book, so a restart shows it.

use std::path::PathBuf;

use crate::store::status::{self as book, Finding, StatusBook};
use crate::telegram::Device;
use crate::ui::effects::Effect;
use crate::ui::msg::ReqId;
use crate::ui::state::{AppState, SessionRow, Status};

/// One row to look up in the book: (row key, session file, key id hex).
pub type Lookup = (String, PathBuf, String);

/// A change to file in the book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filed {
    pub path: PathBuf,
    pub key_id: String,
    pub finding: Finding,
}

/// A filed status as the list shows it (a keyless session is "logged out" by its file anyway).
pub fn from_book(s: Status) -> Status {
    match s {
        Status::Unchecked => Status::Unknown,
        s => s,
    }
}

/// A list status to file (`None`: nothing was found, nothing to file).
pub fn to_book(s: Status) -> Option<Status> {
    (!matches!(s, Status::Unknown | Status::Unchecked)).then_some(s)
}

/// The hex key id the book files a row under.
pub fn key_hex(row: &SessionRow) -> Option<String> {
    row.key_id().map(hex::encode)
}

/// After a listing: ask the book about every file row that has a key.
pub fn load_effect(st: &mut AppState) -> Option<Effect> {
    let rows: Vec<Lookup> = st
        .rows
        .iter()
        .filter_map(|r| Some((r.key(), r.path.clone()?, key_hex(r)?)))
        .collect();
    if rows.is_empty() {
        return None;
    }
    st.app_seq += 1;
    Some(Effect::LoadStatuses {
        req: ReqId {
            pane: 0,
            seq: st.app_seq,
        },
        rows,
    })
}

/// Blocking: what the book at `file` says about each row, for rows whose key it knows.
pub fn look_up(file: &std::path::Path, rows: &[Lookup]) -> Vec<(String, String, Finding)> {
    let found = StatusBook::load(file);
    rows.iter()
        .filter_map(|(key, path, key_id)| {
            let f = found.find(path, key_id)?;
            Some((key.clone(), key_id.clone(), f.clone()))
        })
        .collect()
}

/// Blocking: files `changes` in the book at `file`.
pub fn record(file: &std::path::Path, changes: Vec<Filed>) -> Result<(), String> {
    StatusBook::update(file, |b| {
        for c in changes {
            b.put(&c.path, &c.key_id, c.finding);
        }
    })
    .map_err(|e| e.to_string())
}

/// The book's answer: each row whose key is still the one looked up shows the finding, unless
/// this run already knows something newer.
pub fn on_loaded(st: &mut AppState, found: Vec<(String, String, Finding)>) {
    for (row_key, key_id, finding) in found {
        let Some(row) = st.rows.iter().find(|r| r.key() == row_key) else {
            continue;
        };
        if key_hex(row).as_deref() != Some(key_id.as_str()) {
            continue;
        }
        let known = st.known.entry(row_key).or_default();
        if known
            .finding
            .as_ref()
            .is_some_and(|f| f.checked_at > finding.checked_at)
        {
            continue;
        }
        known.status = Some(from_book(finding.status));
        known.finding = Some(finding);
    }
    st.rebuild_view();
}

/// Every row holding `row_key`'s auth key (the row itself included; only itself if keyless).
fn sharing_rows(st: &AppState, row_key: &str) -> Vec<usize> {
    let Some(row) = st.rows.iter().find(|r| r.key() == row_key) else {
        return Vec::new();
    };
    match row.key_id() {
        Some(id) => (0..st.rows.len())
            .filter(|i| st.rows[*i].key_id() == Some(id))
            .collect(),
        None => st
            .rows
            .iter()
            .position(|r| r.key() == row_key)
            .into_iter()
            .collect(),
    }
}

/// Sets `status` on the given rows (as found now), and returns what to file.
fn set_rows_status(st: &mut AppState, rows: &[usize], status: Status) -> Vec<Filed> {
    let at = st.fleet.unix_at(st.now);
    let mut filed = Vec::new();
    for &i in rows {
        let row = &st.rows[i];
        let (key, path, hex) = (row.key(), row.path.clone(), key_hex(row));
        let known = st.known.entry(key).or_default();
        known.status = Some(status);
        let Some(book_status) = to_book(status) else {
            known.finding = None;
            continue;
        };
        let mut finding = known
            .finding
            .take()
            .unwrap_or_else(|| Finding::bare(book_status, None, at));
        finding.status = book_status;
        finding.checked_at = at;
        finding.error = None;
        if book_status != book::Status::Authorized {
            finding.other_authorizations = None;
            finding.own_authorization = None;
        }
        if let Some(me) = &known.me {
            finding.user_id = Some(me.user_id);
            finding.is_bot = Some(me.is_bot);
        }
        known.finding = Some(finding.clone());
        if let (Some(path), Some(key_id)) = (path, hex) {
            filed.push(Filed {
                path,
                key_id,
                finding,
            });
        }
    }
    filed
}

fn record_effect(changes: Vec<Filed>) -> Vec<Effect> {
    if changes.is_empty() {
        Vec::new()
    } else {
        vec![Effect::RecordStatuses { changes }]
    }
}

/// An action found `status` for the row `row_key`: every row sharing its key gets it, and the
/// book files it.
pub fn spread(st: &mut AppState, row_key: &str, status: Status) -> Vec<Effect> {
    let rows = sharing_rows(st, row_key);
    let filed = set_rows_status(st, &rows, status);
    st.rebuild_view();
    record_effect(filed)
}

/// The user id of a row, from its file or what was learned.
fn user_of(st: &AppState, row: &SessionRow) -> Option<i64> {
    row.user_id().or_else(|| {
        let k = st.known.get(&row.key())?;
        k.me.as_ref()
            .map(|m| m.user_id)
            .or(k.finding.as_ref()?.user_id)
    })
}

/// Authorizations of `row_key`'s account were terminated: every other authorization (`None`),
/// or the one `device` names. Local sessions that held them are logged out now.
pub fn terminated(st: &mut AppState, row_key: &str, device: Option<&Device>) -> Vec<Effect> {
    let Some(row) = st.rows.iter().find(|r| r.key() == row_key) else {
        return Vec::new();
    };
    let (own_key, user) = (row.key_id(), user_of(st, row));
    let Some(user) = user else {
        return Vec::new();
    };
    let victims: Vec<usize> = (0..st.rows.len())
        .filter(|i| {
            let r = &st.rows[*i];
            r.key_id().is_some()
                && r.key_id() != own_key
                && user_of(st, r) == Some(user)
                && match device {
                    None => true,
                    Some(d) => st
                        .known
                        .get(&r.key())
                        .and_then(|k| k.finding.as_ref()?.own_authorization.as_ref())
                        .is_some_and(|mark| crate::telegram::check::is_marked(d, mark)),
                }
        })
        .collect();
    let filed = set_rows_status(st, &victims, Status::LoggedOut);
    st.rebuild_view();
    record_effect(filed)
}

/// "authorized · 3 h ago" for the details, when a check or an action found the status.
pub fn status_line(st: &AppState, row: &SessionRow) -> String {
    let status = st.status(row);
    match st
        .known
        .get(&row.key())
        .and_then(|k| k.finding.as_ref())
        .filter(|f| from_book(f.status) == status)
    {
        Some(f) => format!(
            "{} · {}",
            status.label(),
            book::age_text(f.checked_at, st.fleet.unix_at(st.now))
        ),
        None => status.label().to_string(),
    }
}

/// What the last check found beyond the status, for the details: "2FA off · 2 other devices ·
/// error: …" (`None` when nothing was checked).
pub fn last_check(st: &AppState, row: &SessionRow) -> Option<String> {
    let f = st.known.get(&row.key())?.finding.as_ref()?;
    let mut parts = vec![crate::ui::text::utc_date(f.checked_at)];
    match f.two_fa {
        Some(true) => parts.push("2FA on".into()),
        Some(false) => parts.push("2FA off".into()),
        None => {}
    }
    if let Some(n) = f.other_authorizations {
        parts.push(match n {
            1 => "1 other device".into(),
            n => format!("{n} other devices"),
        });
    }
    if let Some(e) = &f.error {
        parts.push(format!("error: {e}"));
    }
    Some(parts.join(" · "))
}

/// The other local sessions of `row`'s account, by the authorization each last check saw as its
/// own: the authorizations pane names those devices ("local: session-1-fork").
pub fn local_marks(
    st: &AppState,
    row: &SessionRow,
) -> Vec<(crate::store::status::AuthorizationMark, String)> {
    let Some(user) = user_of(st, row) else {
        return Vec::new();
    };
    st.rows
        .iter()
        .filter(|r| r.key() != row.key() && (row.key_id().is_none() || r.key_id() != row.key_id()))
        .filter(|r| user_of(st, r) == Some(user))
        .filter_map(|r| {
            let f = st.known.get(&r.key())?.finding.as_ref()?;
            let mark = f.own_authorization.clone()?;
            Some((mark, r.name.clone()))
        })
        .collect()
}
