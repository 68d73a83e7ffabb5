//! Writing a tdata folder: built complete in a locked temp folder beside the target, then
//! swapped in with one rename, so the target's name never shows a half-written folder. A writer
//! killed midway leaves only its (unlocked) temp folder, which the next write or listing of
//! that folder sweeps (`fsutil::sweep_stale_temps`).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use super::stream::Writer;
use super::{KEY_FILE, LocalKey, MAX_ACCOUNTS, MTP_AUTHORIZATION, file, mtp_authorization};
use crate::fsutil::{self, DIR_MODE, FILE_MODE};
use crate::store::error::{Result, StoreError};
use crate::store::model::Session;

/// Writes `sessions` (1 to 6 accounts, each with a user id and a key) as a tdata folder at
/// `dir`, locked with `passcode` (empty for none). An existing `dir` is replaced only when
/// `replace` is set; it must then be a tdata folder or empty, never some other folder.
pub fn write_folder(
    dir: &Path,
    sessions: &[Session],
    passcode: &[u8],
    replace: bool,
) -> Result<()> {
    let label = dir.display().to_string();
    if sessions.is_empty() || sessions.len() > MAX_ACCOUNTS {
        return Err(StoreError::invalid(
            label,
            format!("a tdata folder holds 1 to {MAX_ACCOUNTS} accounts"),
        ));
    }
    for s in sessions {
        if s.user_id.is_none() || !s.has_key() {
            return Err(StoreError::invalid(
                label,
                "every tdata account needs a user id and an auth key",
            ));
        }
    }
    if dir.symlink_metadata().is_ok() {
        check_replaceable(dir, replace)?;
    }
    let files = build(sessions, passcode);
    fsutil::sweep_stale_temps_once(fsutil::parent_of(dir));
    let temp = fsutil::TempFolder::new(dir).map_err(|e| StoreError::io(dir, e))?;
    for (name, bytes) in &files {
        write_new(&temp.path().join(name), bytes).map_err(|e| StoreError::io(dir, e))?;
        fsutil::crash_point("tdata-file-written");
    }
    for sub in subfolders(&files) {
        fsutil::sync_dir(&temp.path().join(sub)).map_err(|e| StoreError::io(dir, e))?;
    }
    fsutil::sync_dir(temp.path()).map_err(|e| StoreError::io(dir, e))?;
    fsutil::crash_point("before-tdata-swap");
    swap_into(temp, dir).map_err(|e| StoreError::io(dir, e))
}

/// Puts the folder at `target` in one step: a plain rename when `target` is absent, an
/// exchange of the two names when it exists (the old folder, now under the temp name, is
/// removed when `temp` drops).
fn swap_into(temp: fsutil::TempFolder, target: &Path) -> std::io::Result<()> {
    if target.symlink_metadata().is_err() {
        fs::rename(temp.path(), target)?;
        temp.keep();
    } else {
        fsutil::exchange(temp.path(), target)?;
        fsutil::crash_point("after-tdata-exchange");
        drop(temp);
    }
    fsutil::sync_dir(fsutil::parent_of(target))
}

fn check_replaceable(dir: &Path, replace: bool) -> Result<()> {
    let label = dir.display().to_string();
    if !replace {
        return Err(StoreError::AlreadyExists(format!(
            "{label}: already exists (pass --force to replace it)"
        )));
    }
    let empty = fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none());
    if !dir.is_dir() || !(empty || super::is_tdata_folder(dir)) {
        return Err(StoreError::invalid(
            label,
            "exists and is not a tdata folder: tgsess replaces only a tdata folder or an empty one",
        ));
    }
    Ok(())
}

/// Every file of the folder, as (relative path, bytes).
fn build(sessions: &[Session], passcode: &[u8]) -> Vec<(String, Vec<u8>)> {
    let local_key = LocalKey::random();
    let mut salt = [0u8; 32];
    getrandom::fill(&mut salt).expect("the OS random source works");
    let passcode_key = LocalKey::from_passcode(&salt, passcode);
    let mut info = Writer::default();
    info.i32(sessions.len() as i32);
    for index in 0..sessions.len() {
        info.i32(index as i32);
    }
    info.i32(0); // the active account
    let mut key_file = Writer::default();
    key_file
        .byte_array(Some(&salt))
        .byte_array(Some(&passcode_key.encrypt(local_key.bytes())))
        .byte_array(Some(&local_key.encrypt(&info.bytes)));
    let suffix = file::SUFFIXES[0];
    let mut files = vec![(format!("{KEY_FILE}{suffix}"), file::wrap(&key_file.bytes))];
    for (index, session) in sessions.iter().enumerate() {
        let part = file::file_part(&file::data_name(index as i32));
        let mut block = Writer::default();
        block
            .i32(MTP_AUTHORIZATION)
            .byte_array(Some(&mtp_authorization(session)));
        let mut account = Writer::default();
        account.byte_array(Some(&local_key.encrypt(&block.bytes)));
        files.push((format!("{part}{suffix}"), file::wrap(&account.bytes)));
        // An empty settings map: Telegram Desktop and opentele both expect the file.
        let mut map = Writer::default();
        map.byte_array(None)
            .byte_array(None)
            .byte_array(Some(&local_key.encrypt(&[])));
        files.push((format!("{part}/map{suffix}"), file::wrap(&map.bytes)));
    }
    files
}

fn subfolders(files: &[(String, Vec<u8>)]) -> Vec<&str> {
    let mut subs: Vec<&str> = files
        .iter()
        .filter_map(|(name, _)| name.split_once('/').map(|(d, _)| d))
        .collect();
    subs.dedup();
    subs
}

/// A new 0600 file (and its 0700 folder), fsynced.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(parent)?;
    }
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
