//! Bulk actions on the marked rows (`b`): check, log out, terminate other authorizations. The
//! network ones run through `telegram::bulk::paced` (bounded, a flood wait pauses only its
//! account); each row shows its progress, then its result.

use std::collections::BTreeMap;

use super::{RowProgress, Run, statuses};
use crate::telegram::bulk::{BulkEvent, BulkItem};
use crate::ui::account::AccountRef;
use crate::ui::effects::Effect;
use crate::ui::flows;
use crate::ui::msg::{Outcome, ReqId};
use crate::ui::state::{AppState, Notice, SessionRow, Status};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkOp {
    Check,
    LogOut,
    TerminateOthers,
    /// Local: a converted copy of each session into a folder (the pane asks format and folder).
    Export,
    /// Local: each file moves to the folder's `.trash/` (under its lock), nothing is deleted.
    Trash,
}

impl BulkOp {
    pub const ALL: [BulkOp; 5] = [
        BulkOp::Check,
        BulkOp::LogOut,
        BulkOp::TerminateOthers,
        BulkOp::Export,
        BulkOp::Trash,
    ];

    pub fn label(self) -> &'static str {
        match self {
            BulkOp::Check => "check them",
            BulkOp::LogOut => "log out",
            BulkOp::TerminateOthers => "terminate other authorizations",
            BulkOp::Export => "export / convert into a folder",
            BulkOp::Trash => "move to trash",
        }
    }

    fn done_word(self) -> &'static str {
        match self {
            BulkOp::Check => "checked",
            BulkOp::LogOut => "logged out",
            BulkOp::TerminateOthers | BulkOp::Export | BulkOp::Trash => "done",
        }
    }
}

/// Rows acted on once: a logout once per key (files sharing it are one authorization), a
/// terminate once per account.
fn groups(st: &AppState, op: BulkOp, rows: &[usize]) -> Vec<Vec<usize>> {
    let mut by: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for &i in rows {
        let r = &st.rows[i];
        let id = match op {
            BulkOp::TerminateOthers => r
                .user_id()
                .map(|u| format!("user {u}"))
                .or_else(|| r.key_id().map(hex::encode)),
            _ => r.key_id().map(hex::encode),
        };
        by.entry(id.unwrap_or_else(|| r.key())).or_default().push(i);
    }
    by.into_values().collect()
}

/// Starts `op` on the rows with these keys.
pub fn start(st: &mut AppState, op: BulkOp, keys: Vec<String>) -> Vec<Effect> {
    let rows: Vec<usize> = st
        .view
        .iter()
        .copied()
        .filter(|i| keys.contains(&st.rows[*i].key()))
        .collect();
    if op == BulkOp::Check {
        return super::check_all::start(st, rows);
    }
    if op == BulkOp::Export {
        // The pane asks for a format and a folder first (`export`).
        return Vec::new();
    }
    if op == BulkOp::Trash {
        let files: Vec<(String, String, std::path::PathBuf)> = rows
            .iter()
            .filter_map(|i| {
                let r = &st.rows[*i];
                Some((r.key(), r.name.clone(), r.path.clone()?))
            })
            .collect();
        if files.is_empty() {
            st.notice = Some(Notice::warn("none of the marked rows is a file"));
            return Vec::new();
        }
        st.app_seq += 1;
        return vec![Effect::TrashMany {
            req: ReqId {
                pane: 0,
                seq: st.app_seq,
            },
            files,
        }];
    }
    if let Some(run) = &st.fleet.run {
        st.notice = Some(Notice::warn(format!(
            "{} already running (Esc stops it)",
            run.what
        )));
        return Vec::new();
    }
    let mut items = Vec::new();
    let mut members = Vec::new();
    for group in groups(st, op, &rows) {
        let accounts: Vec<(String, i32, AccountRef)> = group
            .iter()
            .filter_map(|i| {
                let r: &SessionRow = &st.rows[*i];
                let account = r.account_ref().filter(|_| r.has_key())?;
                Some((r.key(), r.dc()?, account))
            })
            .collect();
        let Some((_, dc, account)) = accounts.first().cloned() else {
            continue;
        };
        items.push(BulkItem {
            index: items.len(),
            dc,
            target: account,
        });
        members.push(accounts.into_iter().map(|(k, _, _)| k).collect::<Vec<_>>());
    }
    if items.is_empty() {
        st.notice = Some(Notice::warn("none of the marked rows has a key to act on"));
        return Vec::new();
    }
    let id = st.next_pane_id();
    st.fleet.waited.clear();
    st.fleet.progress.clear();
    for k in members.iter().flatten() {
        st.fleet.results.remove(k);
        st.fleet.progress.insert(k.clone(), RowProgress::Queued);
    }
    st.fleet.run = Some(Run {
        id,
        what: op.done_word(),
        rows: members.iter().map(|m| m[0].clone()).collect(),
        members,
        done: 0,
        unfiled: Vec::new(),
        op: Some(op),
    });
    vec![Effect::Bulk {
        req: ReqId { pane: id, seq: 1 },
        op,
        items,
    }]
}

pub fn on_outcome(st: &mut AppState, outcome: Outcome) -> Vec<Effect> {
    let Some(op) = st.fleet.run.as_ref().and_then(|r| r.op) else {
        return Vec::new();
    };
    match outcome {
        Outcome::Bulk(BulkEvent::FloodWait { index, seconds }) => {
            let until_ms = st.now + u64::from(seconds) * 1000;
            for k in members(st, index) {
                st.fleet.waited.insert(k.clone());
                st.fleet
                    .progress
                    .insert(k, RowProgress::Waiting { until_ms });
            }
            Vec::new()
        }
        Outcome::Bulk(BulkEvent::Finished { index, result }) => {
            let keys = members(st, index);
            if let Some(run) = &mut st.fleet.run {
                run.done += 1;
            }
            for k in &keys {
                st.fleet.progress.remove(k);
            }
            let Some(first) = keys.first().cloned() else {
                return Vec::new();
            };
            match result {
                Ok(()) => {
                    let text = match op {
                        BulkOp::LogOut => "logged out",
                        _ => "other authorizations terminated",
                    };
                    for k in &keys {
                        st.fleet.results.insert(k.clone(), text.into());
                    }
                    match op {
                        BulkOp::LogOut => statuses::spread(st, &first, Status::LoggedOut),
                        _ => statuses::terminated(st, &first, None),
                    }
                }
                Err(e) if flows::is_logged_out(&e) => {
                    for k in &keys {
                        st.fleet
                            .results
                            .insert(k.clone(), "was logged out already".into());
                    }
                    statuses::spread(st, &first, Status::LoggedOut)
                }
                Err(e) => {
                    let why = format!("failed: {}", flows::advice(&e));
                    for k in &keys {
                        st.fleet.results.insert(k.clone(), why.clone());
                        st.fleet.progress.insert(k.clone(), RowProgress::Failed);
                    }
                    Vec::new()
                }
            }
        }
        Outcome::BulkFinished => {
            let run = st.fleet.run.take();
            let (done, total) = run.as_ref().map_or((0, 0), |r| (r.done, r.rows.len()));
            let failed = st
                .fleet
                .progress
                .values()
                .filter(|p| **p == RowProgress::Failed)
                .count();
            st.fleet.progress.retain(|_, p| *p == RowProgress::Failed);
            st.notice = Some(if failed == 0 {
                Notice::ok(format!("{}: {done} of {total}", op.label()))
            } else {
                Notice::warn(format!(
                    "{}: {done} of {total}, {failed} failed (the details say why)",
                    op.label()
                ))
            });
            st.rebuild_view();
            // Logging out forgets the key in each file: show what is stored now.
            vec![crate::ui::update::reload(st)]
        }
        _ => Vec::new(),
    }
}

fn members(st: &AppState, index: usize) -> Vec<String> {
    st.fleet
        .run
        .as_ref()
        .and_then(|r| r.members.get(index).cloned())
        .unwrap_or_default()
}

/// The files moved to the trash (or why not): results per row, then the list is read again.
pub fn on_trashed(
    st: &mut AppState,
    moved: Vec<(String, Result<std::path::PathBuf, String>)>,
) -> Vec<Effect> {
    let total = moved.len();
    let mut failed = 0;
    for (key, result) in moved {
        st.fleet.marks.remove(&key);
        match result {
            Ok(_) => {
                st.fleet.results.insert(key, "moved to the trash".into());
            }
            Err(e) => {
                failed += 1;
                st.fleet.results.insert(key, format!("failed: {e}"));
            }
        }
    }
    st.notice = Some(if failed == 0 {
        Notice::ok(format!(
            "moved {total} to the folder's .trash/ (nothing deleted)"
        ))
    } else {
        Notice::warn(format!(
            "moved {} of {total} to .trash/; {failed} failed (the details say why)",
            total - failed
        ))
    });
    vec![crate::ui::update::reload(st)]
}

/// Exports the rows with these keys as `format` into `folder` (blocking work in the runner).
pub fn export(
    st: &mut AppState,
    keys: Vec<String>,
    format: crate::store::Format,
    folder: std::path::PathBuf,
) -> Vec<Effect> {
    let files: Vec<(String, String, AccountRef)> = st
        .view
        .iter()
        .map(|i| &st.rows[*i])
        .filter(|r| keys.contains(&r.key()))
        .filter_map(|r| Some((r.key(), r.name.clone(), r.account_ref()?)))
        .collect();
    if files.is_empty() {
        st.notice = Some(Notice::warn("none of the marked rows can be read"));
        return Vec::new();
    }
    st.app_seq += 1;
    vec![Effect::ExportMany {
        req: ReqId {
            pane: 0,
            seq: st.app_seq,
        },
        files,
        format,
        folder,
    }]
}

/// Blocking: writes each session (read from its file now, through `reader`) as `format` into
/// `folder` (0700), each file new (0600, under its lock, atomic); a name already there is
/// that row's error, never overwritten.
pub fn write_exports(
    files: Vec<(String, String, AccountRef)>,
    reader: &dyn crate::ui::account::SessionReader,
    format: crate::store::Format,
    folder: &std::path::Path,
) -> Vec<(String, Result<std::path::PathBuf, String>)> {
    use crate::store::convert::{self, Overrides};
    if let Err(e) = crate::fsutil::ensure_private_dir(folder) {
        let why = format!("{}: {e}", folder.display());
        return files
            .into_iter()
            .map(|(k, _, _)| (k, Err(why.clone())))
            .collect();
    }
    let dir = crate::store::dir::SessionDir::new(folder);
    files
        .into_iter()
        .map(|(key, name, account)| {
            let written = (|| -> Result<std::path::PathBuf, String> {
                let session = account.open(reader).map_err(|e| e.to_string())?.session;
                let path = dir.new_path(&name, format).map_err(|e| e.to_string())?;
                let (prepared, _) = convert::prepare(&session, format, &Overrides::default())
                    .map_err(|e| e.to_string())?;
                let _lock =
                    crate::telegram::lock::lock_for_writing(&path).map_err(|e| e.to_string())?;
                // Looked at again under the lock: another writer may have taken the name since.
                if std::fs::symlink_metadata(&path).is_ok() {
                    return Err(format!("{}: already exists", path.display()));
                }
                crate::store::write_file(&path, &prepared, format).map_err(|e| e.to_string())?;
                Ok(path)
            })();
            (key, written)
        })
        .collect()
}

/// The exports were written (or why not).
pub fn on_exported(
    st: &mut AppState,
    written: Vec<(String, Result<std::path::PathBuf, String>)>,
) -> Vec<Effect> {
    let total = written.len();
    let mut failed = 0;
    let mut folder = None;
    for (key, result) in written {
        match result {
            Ok(path) => {
                folder = path.parent().map(|p| p.display().to_string());
                st.fleet
                    .results
                    .insert(key, format!("exported to {}", path.display()));
            }
            Err(e) => {
                failed += 1;
                st.fleet.results.insert(key, format!("failed: {e}"));
            }
        }
    }
    let whither = folder.map(|f| format!(" into {f}")).unwrap_or_default();
    st.notice = Some(if failed == 0 {
        Notice::ok(format!("exported {total}{whither}"))
    } else {
        Notice::warn(format!(
            "exported {} of {total}{whither}; {failed} failed (the details say why)",
            total - failed
        ))
    });
    Vec::new()
}
