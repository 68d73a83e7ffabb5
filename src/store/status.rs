//! What the last check of each session found (`tgsess check`, the TUI), kept in tgsess's state
//! folder so that statuses survive a restart. Keyed by the session file (its canonical path) and
//! its key id: a file whose key changed has no status until it is checked again. Holds no key, no
//! session string and no password; the file is 0600 in a 0700 folder.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{Result, StoreError};
use crate::fsutil;

/// The file in the state folder.
pub const STATUS_FILE: &str = "statuses.json";
const VERSION: u32 = 1;
/// Oldest findings are dropped beyond this many (a folder of a few thousand sessions fits).
const MAX_ENTRIES: usize = 20_000;

/// Where the statuses live by default (`<state folder>/statuses.json`).
pub fn default_path() -> Option<PathBuf> {
    fsutil::state_dir().map(|d| d.join(STATUS_FILE))
}

/// What a check says about a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Authorized,
    LoggedOut,
    /// Nothing found out yet (the TUI's rows before a check; never filed by one).
    Unknown,
    /// Another process holds the session or its key.
    InUse,
    Error,
    /// Not checked: the session has no key.
    Unchecked,
}

impl Status {
    /// The words shown to people ("logged out").
    pub fn label(self) -> &'static str {
        match self {
            Status::Authorized => "authorized",
            Status::LoggedOut => "logged out",
            Status::Unknown => "unknown",
            Status::InUse => "in use",
            Status::Error => "error",
            Status::Unchecked => "unchecked",
        }
    }
}

/// A session's own authorization as the other sessions of its account see it in their device
/// lists. Telegram gives the current authorization hash 0, so the device fields identify it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationMark {
    pub date_created: i32,
    pub api_id: i32,
    pub device_model: String,
    pub system_version: String,
    pub app_version: String,
}

/// What one check found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub status: Status,
    pub user_id: Option<i64>,
    pub is_bot: Option<bool>,
    pub first_name: Option<String>,
    pub username: Option<String>,
    pub phone: Option<String>,
    /// Whether the account has a 2FA password (`None` for bots, or when not found out).
    pub two_fa: Option<bool>,
    /// How many other devices the account has logged in (`None` where not allowed: bots).
    pub other_authorizations: Option<u32>,
    /// Why the check failed (for `error` and `in_use`).
    pub error: Option<String>,
    /// Unix seconds.
    pub checked_at: i64,
    /// This session's own authorization (to name it in the other sessions' device lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_authorization: Option<AuthorizationMark>,
}

impl Finding {
    /// A finding with only a status (and the reason, if any).
    pub fn bare(status: Status, error: Option<String>, checked_at: i64) -> Finding {
        Finding {
            status,
            user_id: None,
            is_bot: None,
            first_name: None,
            username: None,
            phone: None,
            two_fa: None,
            other_authorizations: None,
            error,
            checked_at,
            own_authorization: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    /// Canonical path of the session file.
    session: PathBuf,
    /// Key id (hex) of the session's home DC key when it was checked.
    key_id: String,
    finding: Finding,
}

#[derive(Default, Serialize, Deserialize)]
struct BookFile {
    version: u32,
    entries: Vec<Entry>,
}

/// The findings, as loaded from (and saved to) one file.
#[derive(Clone, Debug, Default)]
pub struct StatusBook {
    entries: Vec<Entry>,
}

/// The path a session is filed under.
pub fn session_identity(path: &Path) -> PathBuf {
    path.canonicalize()
        .unwrap_or_else(|_| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
}

impl StatusBook {
    /// Reads the book; a missing or unreadable file (or another version) is an empty book:
    /// statuses are only a memory of past checks.
    pub fn load(file: &Path) -> StatusBook {
        let entries = fs::read(file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<BookFile>(&bytes).ok())
            .filter(|b| b.version == VERSION)
            .map(|b| b.entries)
            .unwrap_or_default();
        StatusBook { entries }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What the last check of this file with this key found. A file never checked itself
    /// (a copy made later) gets the newest finding about its key: the status belongs to the
    /// key, which the copy shares.
    pub fn find(&self, session: &Path, key_id: &str) -> Option<&Finding> {
        let identity = session_identity(session);
        self.entries
            .iter()
            .find(|e| e.session == identity && e.key_id == key_id)
            .or_else(|| {
                self.entries
                    .iter()
                    .filter(|e| e.key_id == key_id)
                    .max_by_key(|e| e.finding.checked_at)
            })
            .map(|e| &e.finding)
    }

    /// Files the finding for `session` with key `key_id`, replacing the file's older ones.
    pub fn put(&mut self, session: &Path, key_id: &str, finding: Finding) {
        let identity = session_identity(session);
        self.entries.retain(|e| e.session != identity);
        self.entries.push(Entry {
            session: identity,
            key_id: key_id.to_string(),
            finding,
        });
    }

    /// Something happened to a key (logged out, terminated): every file sharing it gets
    /// `status` as of `at`, keeping what is still true of the account.
    pub fn set_key_status(&mut self, key_id: &str, status: Status, at: i64) {
        for e in self.entries.iter_mut().filter(|e| e.key_id == key_id) {
            e.finding.status = status;
            e.finding.checked_at = at;
            e.finding.error = None;
            if status != Status::Authorized {
                e.finding.other_authorizations = None;
                e.finding.own_authorization = None;
            }
        }
    }

    /// Loads the book at `file`, lets `change` edit it and saves it, holding a lock so that
    /// two processes (a `check` and the TUI) never lose each other's findings.
    pub fn update(file: &Path, change: impl FnOnce(&mut StatusBook)) -> Result<()> {
        let dir = file.parent().unwrap_or(Path::new("."));
        fsutil::ensure_private_dir(dir).map_err(|e| StoreError::io(dir, e))?;
        let lock_path = file.with_extension("lock");
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(fsutil::FILE_MODE)
            .open(&lock_path)
            .map_err(|e| StoreError::io(&lock_path, e))?;
        fs4::fs_std::FileExt::lock_exclusive(&lock).map_err(|e| StoreError::io(&lock_path, e))?;
        let mut book = StatusBook::load(file);
        change(&mut book);
        book.save(file)
        // The lock is released when `lock` is dropped.
    }

    fn save(&mut self, file: &Path) -> Result<()> {
        if self.entries.len() > MAX_ENTRIES {
            self.entries
                .sort_by_key(|e| std::cmp::Reverse(e.finding.checked_at));
            self.entries.truncate(MAX_ENTRIES);
        }
        let body = BookFile {
            version: VERSION,
            entries: std::mem::take(&mut self.entries),
        };
        let bytes = serde_json::to_vec(&body)
            .map_err(|e| StoreError::invalid(file.display().to_string(), e.to_string()))?;
        self.entries = body.entries;
        fsutil::write_atomic(file, &bytes).map_err(|e| StoreError::io(file, e))
    }
}

/// "3 h ago": the age of a finding, coarse like a list needs.
pub fn age_text(checked_at: i64, now: i64) -> String {
    let secs = (now - checked_at).max(0);
    match secs {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn authorized(at: i64) -> Finding {
        Finding {
            user_id: Some(7),
            two_fa: Some(true),
            other_authorizations: Some(2),
            ..Finding::bare(Status::Authorized, None, at)
        }
    }

    #[test]
    fn findings_survive_a_reload_in_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state").join(STATUS_FILE);
        let session = dir.path().join("a.session");
        fs::write(&session, b"x").unwrap();
        StatusBook::update(&file, |b| b.put(&session, "00aa", authorized(100))).unwrap();
        let book = StatusBook::load(&file);
        assert_eq!(book.find(&session, "00aa"), Some(&authorized(100)));
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(file.parent().unwrap()), 0o700);
    }

    #[test]
    fn a_changed_key_has_no_status_but_a_copy_shares_its_keys_status() {
        let dir = tempfile::tempdir().unwrap();
        let (a, copy) = (dir.path().join("a.session"), dir.path().join("b.string"));
        let mut book = StatusBook::default();
        book.put(&a, "00aa", authorized(100));
        assert_eq!(book.find(&a, "00bb"), None, "another key: unknown");
        assert_eq!(book.find(&copy, "00aa"), Some(&authorized(100)));
        book.put(&a, "00bb", Finding::bare(Status::LoggedOut, None, 200));
        assert_eq!(book.len(), 1, "a file keeps only its newest finding");
    }

    #[test]
    fn a_key_event_updates_every_file_sharing_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("c"),
        );
        let mut book = StatusBook::default();
        book.put(&a, "k1", authorized(100));
        book.put(&b, "k1", authorized(101));
        book.put(&c, "k2", authorized(102));
        book.set_key_status("k1", Status::LoggedOut, 300);
        for f in [&a, &b] {
            let found = book.find(f, "k1").unwrap();
            assert_eq!((found.status, found.checked_at), (Status::LoggedOut, 300));
            assert_eq!(found.other_authorizations, None);
            assert_eq!(found.user_id, Some(7), "whose key it was stays known");
        }
        assert_eq!(book.find(&c, "k2").unwrap().status, Status::Authorized);
    }

    #[test]
    fn garbage_or_another_version_loads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(STATUS_FILE);
        fs::write(&file, b"{not json").unwrap();
        assert!(StatusBook::load(&file).is_empty());
        fs::write(&file, br#"{"version":99,"entries":[]}"#).unwrap();
        assert!(StatusBook::load(&file).is_empty());
        StatusBook::update(&file, |b| b.put(Path::new("/x"), "k", authorized(1))).unwrap();
        assert_eq!(StatusBook::load(&file).len(), 1);
    }

    #[test]
    fn the_file_holds_no_secret_field() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(STATUS_FILE);
        StatusBook::update(&file, |b| b.put(Path::new("/x"), "k", authorized(1))).unwrap();
        let text = fs::read_to_string(&file).unwrap();
        for word in ["auth_key\"", "password\"", "string\""] {
            assert!(!text.contains(word), "{text}");
        }
    }

    #[test]
    fn ages_read_like_a_list_shows_them() {
        assert_eq!(age_text(100, 130), "just now");
        assert_eq!(age_text(0, 3 * 3600 + 5), "3 h ago");
        assert_eq!(age_text(0, 120), "2 min ago");
        assert_eq!(age_text(0, 2 * 86_400), "2 d ago");
        assert_eq!(
            age_text(10, 0),
            "just now",
            "a clock step back is not negative"
        );
    }
}
