//! The account behind a list row. File rows hold no keys (only what the list shows): an
//! action reads the session from its file when it runs, off the UI thread, and refuses if the
//! file no longer holds the session the row showed. Memory sessions live only here, so their
//! rows carry them.

use std::path::{Path, PathBuf};

use crate::store::{self, Loaded, StoreError};
use crate::telegram::Account;

/// Which account an action is for: the memory session itself, or the file to read.
#[derive(Clone, Debug)]
pub enum AccountRef {
    Memory(Account),
    File {
        name: String,
        path: PathBuf,
        /// The id of the home DC's key as the row showed it (`None`: no key shown).
        key_id: Option<[u8; 8]>,
    },
}

/// Reads a session file for an action (a seam: the UI tests serve their fixture rows from
/// paths that do not exist).
pub trait SessionReader: Send + Sync {
    fn read(&self, path: &Path) -> store::Result<Loaded>;
}

/// The real files, as `inspect` reads them.
pub struct FromDisk;

impl SessionReader for FromDisk {
    fn read(&self, path: &Path) -> store::Result<Loaded> {
        store::read_file(path)
    }
}

impl AccountRef {
    pub fn name(&self) -> &str {
        match self {
            AccountRef::Memory(a) => &a.name,
            AccountRef::File { name, .. } => name,
        }
    }

    pub fn path(&self) -> Option<&Path> {
        match self {
            AccountRef::Memory(a) => a.path.as_deref(),
            AccountRef::File { path, .. } => Some(path),
        }
    }

    /// The account with its keys (blocking for a file): refused when the file no longer
    /// reads, or holds another key than the row showed.
    pub fn open(&self, reader: &dyn SessionReader) -> Result<Account, StoreError> {
        let (name, path, shown) = match self {
            AccountRef::Memory(a) => return Ok(a.clone()),
            AccountRef::File { name, path, key_id } => (name, path, key_id),
        };
        let reload = "press r to reload the list";
        let loaded = reader.read(path).map_err(|e| StoreError::Invalid {
            input: e.to_string(),
            problem: format!("'{name}' no longer reads as it was listed; {reload}"),
        })?;
        let now = loaded.session.auth_key().map(|k| k.key_id());
        if now != *shown {
            return Err(StoreError::Invalid {
                input: path.display().to_string(),
                problem: format!(
                    "the file changed since it was listed (it holds another key than the \
                     list shows); {reload}"
                ),
            });
        }
        Ok(Account {
            name: name.clone(),
            path: Some(path.clone()),
            session: loaded.session,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::AuthKey;
    use crate::store::{Format, Session};

    fn keyed(b: u8) -> Session {
        let mut s = Session::new(2);
        s.home_mut().auth_key = Some(AuthKey::new([b; 256]));
        s
    }

    fn file_ref(path: &Path, shown: &Session) -> AccountRef {
        AccountRef::File {
            name: "alice".into(),
            path: path.to_path_buf(),
            key_id: shown.auth_key().map(|k| k.key_id()),
        }
    }

    #[test]
    fn a_file_row_reads_its_session_when_used() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("alice.session");
        store::write_file(&path, &keyed(7), Format::TgsessSqlite).unwrap();
        let account = file_ref(&path, &keyed(7)).open(&FromDisk).unwrap();
        assert_eq!(account.session.auth_key(), keyed(7).auth_key());
        assert_eq!(account.path.as_deref(), Some(path.as_path()));
    }

    #[test]
    fn another_key_in_the_file_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("alice.session");
        store::write_file(&path, &keyed(8), Format::TgsessSqlite).unwrap();
        let err = file_ref(&path, &keyed(7)).open(&FromDisk).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("changed since it was listed"), "{text}");
        assert!(text.contains("press r to reload"), "{text}");
    }

    #[test]
    fn a_file_gone_since_the_listing_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("alice.session");
        let err = file_ref(&path, &keyed(7)).open(&FromDisk).unwrap_err();
        assert!(err.to_string().contains("no longer reads"), "{err}");
    }
}
