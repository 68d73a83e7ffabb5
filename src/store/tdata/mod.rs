//! Telegram Desktop's `tdata` folder (session-formats spec §5), read and written as
//! opentele-ng and Telegram Desktop do. A folder holds up to 6 accounts; each becomes one
//! [`Session`] with its user id, main DC and the key of every DC it knows. tdata stores no
//! api_id, address, port or bot flag, so those stay `None`; the test flag comes from the
//! optional config file.

mod crypto;
pub mod file;
pub mod stream;
mod write;

use std::fs;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::error::{Result, StoreError};
use super::model::Session;
use crate::secret::AuthKey;
pub use crypto::LocalKey;
use stream::{ReadResult, Reader, Writer};
pub use write::write_folder;

/// Telegram Desktop keeps at most this many accounts in one folder.
pub const MAX_ACCOUNTS: usize = 6;
/// The block of the account file that holds the MTP authorization (dbiMtpAuthorization).
const MTP_AUTHORIZATION: i32 = 0x4B;
const KEY_FILE: &str = "key_data";

/// One account of a folder: its index in `key_datas` and its session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub index: i32,
    pub session: Session,
}

/// Whether `dir` looks like a tdata folder (it has a key file), without reading it.
pub fn is_tdata_folder(dir: &Path) -> bool {
    file::find(&dir.join(KEY_FILE)).is_some()
}

/// Splits `FOLDER#N` into the folder and the account's 1-based position (`None` for none).
/// Only splits when the part before `#` is a tdata folder, so a file named `a#2` still works.
pub fn split_account(input: &str) -> Option<(PathBuf, usize)> {
    let (folder, n) = input.rsplit_once('#')?;
    let n: usize = n.parse().ok().filter(|n| *n >= 1)?;
    let folder = PathBuf::from(folder);
    is_tdata_folder(&folder).then_some((folder, n))
}

/// Reads every account of the folder. `passcode` is the local passcode (empty when none is
/// set); a folder that needs one gives [`StoreError::PasscodeNeeded`], a wrong one
/// [`StoreError::WrongPasscode`].
pub fn read_folder(dir: &Path, passcode: &[u8]) -> Result<Vec<Account>> {
    let label = dir.display().to_string();
    let key_path = file::find(&dir.join(KEY_FILE)).ok_or_else(|| {
        StoreError::invalid(
            &label,
            "not a Telegram Desktop tdata folder (no key_datas file)",
        )
    })?;
    let bytes = read_limited(&key_path)?;
    let local_key = unlock(&bytes, passcode, &label)?;
    let (indices, _active) = read_key_info(&bytes, &local_key)
        .map_err(|p| StoreError::invalid(&label, format!("key_datas: {p}")))?;
    let mut accounts = Vec::new();
    for index in indices {
        let part = file::file_part(&file::data_name(index));
        let session = read_account(dir, &part, &local_key)
            .map_err(|p| StoreError::invalid(&label, format!("account {}: {p}", index + 1)))?;
        accounts.push(Account { index, session });
    }
    Ok(accounts)
}

/// Session files are small; a huge file is not one (and must not be read whole).
fn read_limited(path: &Path) -> Result<Vec<u8>> {
    const MAX: u64 = 1 << 20;
    let len = fs::metadata(path)
        .map_err(|e| StoreError::io(path, e))?
        .len();
    if len > MAX {
        return Err(StoreError::invalid(
            path.display().to_string(),
            "too large for a tdata key or account file",
        ));
    }
    fs::read(path).map_err(|e| StoreError::io(path, e))
}

/// The local key and the account indices of a key file's bytes (public for the fuzz target
/// and the benchmark; [`read_folder`] is the way in).
pub fn parse_key_file(bytes: &[u8], passcode: &[u8]) -> Result<(LocalKey, Vec<i32>)> {
    let local_key = unlock(bytes, passcode, "key_datas")?;
    let (indices, _) =
        read_key_info(bytes, &local_key).map_err(|p| StoreError::invalid("key_datas", p))?;
    Ok((local_key, indices))
}

/// The local key, from the key file and the passcode.
fn unlock(key_file: &[u8], passcode: &[u8], label: &str) -> Result<LocalKey> {
    let invalid = |p: String| StoreError::invalid(label, format!("key_datas: {p}"));
    let payload = file::unwrap(key_file).map_err(invalid)?;
    let mut r = Reader::new(payload);
    let salt = r.byte_array("salt").map_err(invalid)?.unwrap_or_default();
    let encrypted = r
        .byte_array("encrypted key")
        .map_err(invalid)?
        .unwrap_or_default();
    let passcode_key = LocalKey::from_passcode(salt, passcode);
    let Some(plain) = passcode_key.decrypt(encrypted) else {
        return Err(if passcode.is_empty() {
            StoreError::PasscodeNeeded(label.to_string())
        } else {
            StoreError::WrongPasscode(label.to_string())
        });
    };
    plain
        .get(..256)
        .and_then(LocalKey::from_slice)
        .ok_or_else(|| invalid("the local key is shorter than 256 bytes".into()))
}

/// The account indices and the active index, from the key file's third block.
fn read_key_info(key_file: &[u8], local_key: &LocalKey) -> ReadResult<(Vec<i32>, Option<i32>)> {
    let payload = file::unwrap(key_file)?;
    let mut r = Reader::new(payload);
    r.byte_array("salt")?;
    r.byte_array("encrypted key")?;
    let info = r.byte_array("account list")?.unwrap_or_default();
    let plain = local_key
        .decrypt(info)
        .ok_or("the account list does not decrypt with the local key (damaged)")?;
    let mut r = Reader::new(&plain);
    let count = r.i32("account count")?;
    if count < 1 || count as usize > MAX_ACCOUNTS {
        return Err(format!(
            "{count} accounts listed (Telegram Desktop holds 1 to {MAX_ACCOUNTS})"
        ));
    }
    let mut indices = Vec::new();
    for _ in 0..count {
        let index = r.i32("account index")?;
        if !(0..MAX_ACCOUNTS as i32).contains(&index) || indices.contains(&index) {
            return Err(format!("account index {index} is out of range or repeated"));
        }
        indices.push(index);
    }
    // opentele writes -1 here; Telegram Desktop the active account's index.
    let active = if r.at_end() {
        None
    } else {
        Some(r.i32("active index")?)
    };
    Ok((indices, active))
}

/// One account's session: the MTP authorization file, plus the test flag from its config.
fn read_account(dir: &Path, part: &str, local_key: &LocalKey) -> ReadResult<Session> {
    let path = file::find(&dir.join(part)).ok_or(format!("its file {part}s is missing"))?;
    let bytes = read_limited(&path).map_err(|e| e.to_string())?;
    let mut session = parse_account_file(&bytes, local_key)?;
    session.test_mode = read_environment(&dir.join(part).join("config"), local_key);
    Ok(session)
}

/// Decrypts and parses an account file (public for the fuzz target).
pub fn parse_account_file(bytes: &[u8], local_key: &LocalKey) -> ReadResult<Session> {
    let payload = file::unwrap(bytes)?;
    let block = Reader::new(payload)
        .byte_array("account block")?
        .unwrap_or_default();
    let plain = local_key
        .decrypt(block)
        .ok_or("does not decrypt with the local key (damaged)")?;
    let mut r = Reader::new(&plain);
    let id = r.i32("block id")?;
    if id != MTP_AUTHORIZATION {
        return Err(format!("block {id:#x} is not an MTP authorization"));
    }
    let auth = r.byte_array("MTP authorization")?.unwrap_or_default();
    parse_mtp_authorization(auth)
}

/// user id, main DC and keys (spec §5, "MTP data file").
pub fn parse_mtp_authorization(auth: &[u8]) -> ReadResult<Session> {
    let mut r = Reader::new(auth);
    let legacy_user = r.i32("user id")?;
    let legacy_dc = r.i32("main DC")?;
    let (user_id, dc_id) = if legacy_user == -1 && legacy_dc == -1 {
        let user = r.u64("user id")?;
        let user = i64::try_from(user).map_err(|_| format!("user id {user} is out of range"))?;
        (user, r.i32("main DC")?)
    } else {
        (i64::from(legacy_user), legacy_dc)
    };
    if !(1..=1000).contains(&dc_id) {
        return Err(format!("main DC {dc_id} is not a DC id"));
    }
    let mut session = Session::new(dc_id);
    session.user_id = Some(user_id);
    for (what, keep) in [("keys", true), ("keys to destroy", false)] {
        let count = r.i32(what)?;
        // Each key is 260 bytes: refuse a count the data cannot hold before looping.
        if count < 0 || count as usize > r.remaining() / 260 {
            return Err(format!("{count} {what} do not fit in the data"));
        }
        for _ in 0..count {
            let dc = r.i32("key DC")?;
            let key = AuthKey::from_slice(r.raw(256, "auth key")?).expect("256 bytes");
            if keep && !key.is_all_zero() {
                session.dc_mut(dc).auth_key = Some(key);
            }
        }
    }
    if !session.has_key() {
        return Err(format!("no key for its main DC {dc_id}"));
    }
    Ok(session)
}

/// The environment of the optional config file: `Some(true)` on the test servers. A missing
/// or unreadable config says nothing (opentele-ng writes ones it cannot read itself).
fn read_environment(base: &Path, local_key: &LocalKey) -> Option<bool> {
    let path = file::find(base)?;
    let bytes = read_limited(&path).ok()?;
    let payload = file::unwrap(&bytes).ok()?;
    let block = Reader::new(payload).byte_array("config").ok()??;
    let plain = local_key.decrypt(block)?;
    let serialized = Reader::new(&plain).byte_array("config").ok()??;
    let mut r = Reader::new(serialized);
    let _version = r.i32("version").ok()?;
    match r.i32("environment").ok()? {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    }
}

/// The MTP authorization block of a session (wide ids, as current Telegram Desktop writes).
fn mtp_authorization(session: &Session) -> Zeroizing<Vec<u8>> {
    let mut w = Writer::default();
    w.i32(-1).i32(-1);
    w.u64(session.user_id.unwrap_or_default() as u64);
    w.i32(session.dc_id);
    let keys: Vec<_> = session
        .dcs
        .iter()
        .filter_map(|d| d.auth_key.as_ref().map(|k| (d.id, k)))
        .collect();
    w.i32(keys.len() as i32);
    for (dc, key) in keys {
        w.i32(dc).raw(key.reveal());
    }
    w.i32(0); // keys to destroy
    Zeroizing::new(w.bytes)
}
