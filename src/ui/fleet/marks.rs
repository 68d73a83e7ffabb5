//! Marks: Space toggles the selected row, `*` marks every row the filter shows, `u` clears.
//! Marks are row keys, so they follow their sessions through sorting, filtering and reloads.

use crate::ui::state::{AppState, Notice};

pub fn toggle(st: &mut AppState) {
    let Some(key) = st.selected_row().map(|r| r.key()) else {
        return;
    };
    if !st.fleet.marks.remove(&key) {
        st.fleet.marks.insert(key);
    }
    st.move_selection(1);
}

pub fn mark_all(st: &mut AppState) {
    let keys: Vec<String> = st.view.iter().map(|i| st.rows[*i].key()).collect();
    let n = keys.len();
    st.fleet.marks.extend(keys);
    st.notice = Some(Notice::info(format!(
        "{n} rows marked ({} in all); b acts on them, u clears",
        st.fleet.marks.len()
    )));
}

pub fn clear(st: &mut AppState) {
    st.fleet.marks.clear();
}

/// The marked rows that are still listed, in the list's order (marks of vanished rows stay
/// harmless).
pub fn marked_rows(st: &AppState) -> Vec<usize> {
    st.view
        .iter()
        .copied()
        .filter(|i| st.fleet.marks.contains(&st.rows[*i].key()))
        .collect()
}

pub fn is_marked(st: &AppState, row_key: &str) -> bool {
    st.fleet.marks.contains(row_key)
}
