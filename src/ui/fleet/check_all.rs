//! `C`: checks every row the filter shows through `telegram::check` (bounded concurrency,
//! paced on FLOOD_WAIT), off the UI thread. Each row shows its progress; the status line says
//! "12/30 checked"; Esc stops the run, keeping what was found.

use super::statuses::{self, Filed};
use super::{RowProgress, Run};
use crate::store::status::Status as Found;
use crate::telegram::check::{CheckEvent, CheckResult, CheckTarget, Summary};
use crate::ui::effects::Effect;
use crate::ui::msg::{Outcome, ReqId};
use crate::ui::state::{AppState, Notice, Status};

/// Starts a check of `rows` (indexes into `st.rows`); rows without a file are left out.
pub fn start(st: &mut AppState, rows: Vec<usize>) -> Vec<Effect> {
    if let Some(run) = &st.fleet.run {
        st.notice = Some(Notice::warn(format!(
            "{} already running (Esc stops it)",
            run.what
        )));
        return Vec::new();
    }
    let picked: Vec<(String, CheckTarget)> = rows
        .into_iter()
        .filter_map(|i| {
            let r = &st.rows[i];
            let path = r.path.clone()?;
            Some((
                r.key(),
                CheckTarget {
                    name: r.name.clone(),
                    path,
                },
            ))
        })
        .collect();
    if picked.is_empty() {
        st.notice = Some(Notice::warn("no session file to check here"));
        return Vec::new();
    }
    let id = st.next_pane_id();
    let (keys, targets): (Vec<String>, Vec<CheckTarget>) = picked.into_iter().unzip();
    st.fleet.progress.clear();
    for k in &keys {
        st.fleet.progress.insert(k.clone(), RowProgress::Queued);
    }
    st.fleet.run = Some(Run {
        id,
        what: "checked",
        members: keys.iter().map(|k| vec![k.clone()]).collect(),
        rows: keys,
        done: 0,
        unfiled: Vec::new(),
        op: None,
    });
    vec![Effect::CheckMany {
        req: ReqId { pane: id, seq: 1 },
        targets,
    }]
}

/// A message of the running check (or bulk action).
pub fn on_outcome(st: &mut AppState, outcome: Outcome) -> Vec<Effect> {
    if st.fleet.run.as_ref().is_some_and(|r| r.op.is_some()) {
        return super::bulk::on_outcome(st, outcome);
    }
    match outcome {
        Outcome::Checked(CheckEvent::FloodWait { index, seconds }) => {
            if let Some(key) = row_key(st, index) {
                let until_ms = st.now + u64::from(seconds) * 1000;
                st.fleet
                    .progress
                    .insert(key, RowProgress::Waiting { until_ms });
            }
            Vec::new()
        }
        Outcome::Checked(CheckEvent::Finished { index, result }) => {
            found(st, index, *result);
            Vec::new()
        }
        Outcome::CheckFinished(results) => {
            let summary = Summary::of(results.iter().map(|r| &r.finding));
            // Rows not heard of one by one (none, normally) get their result now.
            for (index, result) in results.into_iter().enumerate() {
                if row_key(st, index).is_some_and(|k| st.fleet.progress.contains_key(&k)) {
                    found(st, index, result);
                }
            }
            st.notice = Some(Notice::ok(summary.line()));
            finish(st)
        }
        _ => Vec::new(),
    }
}

/// Esc: stops the run (its task and every connection and lock it held), keeping the results.
pub fn stop(st: &mut AppState) -> Vec<Effect> {
    let Some(run) = &st.fleet.run else {
        return Vec::new();
    };
    let (id, done, total, what) = (run.id, run.done, run.rows.len(), run.what);
    st.notice = Some(Notice::info(format!(
        "stopped: {done} of {total} {what}; the others were not touched"
    )));
    let bulk = run.op.is_some();
    let mut fx = vec![Effect::ClosePane { pane: id }];
    fx.extend(finish(st));
    if bulk {
        // Some rows were acted on: show what is stored now.
        fx.push(crate::ui::update::reload(st));
    }
    fx
}

fn row_key(st: &AppState, index: usize) -> Option<String> {
    st.fleet.run.as_ref()?.rows.get(index).cloned()
}

/// One row's result: its status and finding, and a note to file it.
fn found(st: &mut AppState, index: usize, result: CheckResult) {
    let Some(key) = row_key(st, index) else {
        return;
    };
    if st.fleet.progress.remove(&key).is_none() {
        return;
    }
    if let Some(run) = &mut st.fleet.run {
        run.done += 1;
    }
    let finding = result.finding;
    let known = st.known.entry(key.clone()).or_default();
    // A keyless file is "logged out" by the file itself; nothing to say more.
    known.status =
        (finding.status != Found::Unchecked).then(|| statuses::from_book(finding.status));
    if known.status == Some(Status::Authorized) {
        // The check saw the devices, not their details: the authorizations pane asks again.
        known.authorizations = None;
    }
    known.finding = Some(finding.clone());
    if let (Some(key_id), Some(run)) = (result.key_id, st.fleet.run.as_mut()) {
        run.unfiled.push(Filed {
            path: result.path,
            key_id,
            finding,
        });
    }
    // Re-sorting and re-filtering 200 rows per answer is wasted unless the order or the
    // filter reads what checks find; the run's end rebuilds the view anyway.
    if depends_on_findings(st) {
        st.rebuild_view();
    }
}

fn depends_on_findings(st: &AppState) -> bool {
    use crate::ui::state::SortKey;
    matches!(st.sort, SortKey::Status | SortKey::TwoFa | SortKey::Devices)
        || super::triage::Filter::parse(&st.filter).uses_findings()
}

/// The run is over: the rows it did not reach show their statuses again; results are filed.
fn finish(st: &mut AppState) -> Vec<Effect> {
    let Some(run) = st.fleet.run.take() else {
        return Vec::new();
    };
    for k in run.members.iter().flatten() {
        st.fleet.progress.remove(k);
    }
    st.rebuild_view();
    if run.unfiled.is_empty() {
        Vec::new()
    } else {
        vec![Effect::RecordStatuses {
            changes: run.unfiled,
        }]
    }
}
