//! The only place state changes: `update(&mut AppState, Msg) -> Vec<Effect>`. It never
//! awaits or does I/O; what it wants done comes back as effects.

use crossterm::event::{Event, KeyEvent, KeyEventKind};
use tui_input::backend::crossterm::to_input_request;

use super::effects::Effect;
use super::fleet;
use super::flows::{self, Cmd, Cx, Pane};
use super::keymap::Action;
use super::msg::{Msg, Outcome, ReqId};
use super::state::{AppState, Focus, Notice, Status};

/// The effects to run at start: read the session directory.
pub fn init(st: &mut AppState) -> Vec<Effect> {
    vec![load(st)]
}

/// Reads the folder again (the newest reload wins).
pub(crate) fn reload(st: &mut AppState) -> Effect {
    load(st)
}

fn load(st: &mut AppState) -> Effect {
    st.app_seq += 1;
    st.reloading = Some(st.app_seq);
    st.start_load(st.app_seq);
    Effect::LoadSessions {
        req: ReqId {
            pane: 0,
            seq: st.app_seq,
        },
    }
}

pub fn update(st: &mut AppState, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Tick(now) => {
            st.now = now;
            let mut fx = Vec::new();
            let ids: Vec<u64> = st.modals.iter().map(|m| m.id()).collect();
            for id in ids {
                let cx = Cx {
                    now: st.now,
                    rows: &st.rows,
                    mode: &st.mode,
                };
                let Some(pane) = st.modals.iter_mut().find(|m| m.id() == id) else {
                    continue;
                };
                let cmds = pane.on_tick(&cx);
                fx.extend(apply(st, id, cmds));
            }
            fx
        }
        Msg::Resize(w, h) => {
            st.size = (w, h);
            st.scroll_to_selection();
            Vec::new()
        }
        Msg::Paste(text) => {
            if let Some(top) = st.modals.last_mut() {
                top.on_paste(&text);
            } else if let Some(input) = &mut st.filter_input {
                for c in text.chars().filter(|c| !c.is_control()) {
                    input.handle(tui_input::InputRequest::InsertChar(c));
                }
                st.filter = input.value().to_string();
                st.rebuild_view();
            }
            Vec::new()
        }
        Msg::Key(ev) => {
            if !matches!(ev.kind, KeyEventKind::Press | KeyEventKind::Repeat) {
                return Vec::new();
            }
            key(st, ev)
        }
        Msg::Done(req, outcome) => done(st, req, outcome),
    }
}

fn key(st: &mut AppState, ev: KeyEvent) -> Vec<Effect> {
    let ctx = st.context();
    let action = st.keymap.lookup(ctx, &ev);
    if let Some(id) = st.modals.last().map(|m| m.id()) {
        let cx = Cx {
            now: st.now,
            rows: &st.rows,
            mode: &st.mode,
        };
        if let Some(delta) = pane_scroll(st, action) {
            let now = if st.pane_scroll.0 == id {
                st.pane_scroll.1
            } else {
                0
            };
            let max = st.pane_scroll_max.get();
            st.pane_scroll = (id, now.saturating_add_signed(delta).min(max));
            return Vec::new();
        }
        let top = st.modals.last_mut().expect("checked");
        let cmds = match action {
            Some(a) => top.on_action(a, &cx),
            None => top.on_key(&ev),
        };
        return apply(st, id, cmds);
    }
    if st.filter_input.is_some() {
        return filter_key(st, action, &ev);
    }
    match action {
        Some(a) => list_action(st, a),
        None => Vec::new(),
    }
}

/// PgUp/PgDn scroll the top pane by most of its height (Up/Down by a row in help).
fn pane_scroll(st: &AppState, action: Option<Action>) -> Option<i16> {
    let page = (st.size.1 / 2).max(1) as i16;
    let help = st.context() == super::keymap::Context::Help;
    match action? {
        Action::PageUp => Some(-page),
        Action::PageDown => Some(page),
        Action::Up if help => Some(-1),
        Action::Down if help => Some(1),
        _ => None,
    }
}

fn filter_key(st: &mut AppState, action: Option<Action>, ev: &KeyEvent) -> Vec<Effect> {
    match action {
        Some(Action::Submit) => st.filter_input = None,
        Some(Action::Cancel) => {
            st.filter_input = None;
            st.filter.clear();
            st.rebuild_view();
        }
        Some(Action::ForceQuit) => return quit(st),
        _ => {
            let input = st.filter_input.as_mut().expect("checked");
            if let Some(req) = to_input_request(&Event::Key(*ev)) {
                input.handle(req);
                st.filter = input.value().to_string();
                st.refresh_view();
            }
        }
    }
    Vec::new()
}

fn quit(st: &mut AppState) -> Vec<Effect> {
    st.quit = true;
    vec![Effect::Quit]
}

fn push(st: &mut AppState, pane: Box<dyn Pane>, cmds: Vec<Cmd>) -> Vec<Effect> {
    let id = pane.id();
    st.modals.push(pane);
    apply(st, id, cmds)
}

fn list_action(st: &mut AppState, action: Action) -> Vec<Effect> {
    st.notice = None;
    let page = st.list_capacity().max(1) as isize;
    let detail = st.focus == Focus::Detail;
    match action {
        // With the details focused, the moving keys scroll them (never past their end).
        Action::Up if detail => st.scroll_detail(-1),
        Action::Down if detail => st.scroll_detail(1),
        Action::PageUp if detail => st.scroll_detail(-(page as i32)),
        Action::PageDown if detail => st.scroll_detail(page as i32),
        Action::Top if detail => st.detail_scroll = 0,
        Action::Bottom if detail => st.scroll_detail(i32::from(u16::MAX)),
        Action::Up => st.move_selection(-1),
        Action::Down => st.move_selection(1),
        Action::PageUp => st.move_selection(-page),
        Action::PageDown => st.move_selection(page),
        Action::Top => st.move_selection(isize::MIN / 2),
        Action::Bottom => st.move_selection(isize::MAX / 2),
        Action::Filter => st.filter_input = Some(tui_input::Input::new(st.filter.clone())),
        Action::SortNext => {
            st.sort = st.sort.next();
            st.refresh_view();
        }
        Action::SortReverse => {
            st.sort_desc = !st.sort_desc;
            st.refresh_view();
        }
        Action::FocusDetail => {
            st.focus = if detail { Focus::List } else { Focus::Detail };
        }
        Action::Help => {
            let id = st.next_pane_id();
            return push(st, Box::new(flows::help::HelpPane::new(id)), Vec::new());
        }
        Action::NewLogin => {
            let id = st.next_pane_id();
            let pane = flows::new_login::NewLoginPane::new(id, &st.rows);
            return push(st, Box::new(pane), Vec::new());
        }
        Action::Import => {
            let id = st.next_pane_id();
            let pane = flows::import::ImportPane::new(id, &st.rows);
            return push(st, Box::new(pane), Vec::new());
        }
        Action::Export
        | Action::Clone
        | Action::Logout
        | Action::TwoFa
        | Action::Authorizations => {
            return open_for_selected(st, action);
        }
        Action::Refresh => {
            let mut fx = vec![load(st)];
            if let Some(row) = st.selected_row()
                && let Some(account) = row.account_ref().filter(|_| row.has_key())
            {
                let key = row.key();
                st.app_seq += 1;
                st.app_requests.insert(st.app_seq, key);
                fx.push(Effect::GetMe {
                    req: ReqId {
                        pane: 0,
                        seq: st.app_seq,
                    },
                    account: Box::new(account),
                });
            }
            return fx;
        }
        Action::Quit => {
            let memory: Vec<String> = st
                .rows
                .iter()
                .filter(|r| r.backend == crate::store::BackendKind::Memory)
                .map(|r| r.name.clone())
                .collect();
            if memory.is_empty() {
                return quit(st);
            }
            let id = st.next_pane_id();
            return push(
                st,
                Box::new(flows::quit::QuitPane::new(id, memory)),
                Vec::new(),
            );
        }
        Action::ForceQuit => return quit(st),
        Action::Mark => fleet::marks::toggle(st),
        Action::MarkAll => fleet::marks::mark_all(st),
        Action::ClearMarks => fleet::marks::clear(st),
        Action::CheckAll => {
            let rows = st.view.clone();
            return fleet::check_all::start(st, rows);
        }
        Action::StopRun => return fleet::check_all::stop(st),
        Action::Bulk => {
            let Some(pane) = fleet::marks::bulk_pane(st) else {
                st.notice = Some(Notice::info(
                    "mark rows first: Space marks one, * all shown",
                ));
                return Vec::new();
            };
            return push(st, Box::new(pane), Vec::new());
        }
        _ => {}
    }
    Vec::new()
}

fn open_for_selected(st: &mut AppState, action: Action) -> Vec<Effect> {
    let Some(row) = st.selected_row().cloned() else {
        st.notice = Some(Notice::warn("no session selected"));
        return Vec::new();
    };
    if !row.readable() {
        st.notice = Some(Notice::error(format!(
            "'{}' cannot be read, so it cannot be used",
            row.name
        )));
        return Vec::new();
    }
    if action == Action::TwoFa && st.kind_label(&row) == "bot" {
        st.notice = Some(Notice::info(
            "bots have no two-step verification (their token is their only secret)",
        ));
        return Vec::new();
    }
    let id = st.next_pane_id();
    let now = st.now;
    let opened: Option<(Box<dyn Pane>, Vec<Cmd>)> = match action {
        Action::Export => flows::export::ExportPane::new(id, &row)
            .map(|p| (Box::new(p) as Box<dyn Pane>, Vec::new())),
        Action::Clone => flows::clone::ClonePane::new(id, &row, &st.rows)
            .map(|p| (Box::new(p) as Box<dyn Pane>, Vec::new())),
        Action::Logout => flows::logout::LogoutPane::new(id, &row, st.key_sharers(&row))
            .map(|p| (Box::new(p) as Box<dyn Pane>, Vec::new())),
        Action::TwoFa => flows::two_fa::TwoFaPane::open(id, &row, now)
            .map(|(p, c)| (Box::new(p) as Box<dyn Pane>, c)),
        Action::Authorizations => {
            flows::auths::AuthsPane::open(id, &row, now, fleet::statuses::local_marks(st, &row))
                .map(|(p, c)| (Box::new(p) as Box<dyn Pane>, c))
        }
        _ => None,
    };
    match opened {
        Some((pane, cmds)) => push(st, pane, cmds),
        None => Vec::new(),
    }
}

fn done(st: &mut AppState, req: ReqId, outcome: Outcome) -> Vec<Effect> {
    if req.pane == 0 {
        match outcome {
            // Only the newest reload counts: an older answer would undo a newer one.
            Outcome::Listed(_) | Outcome::ListBatch { .. } if st.reloading != Some(req.seq) => {}
            Outcome::ListBatch { rows, total } => st.load_batch(req.seq, rows, total),
            Outcome::Listed(Ok(rows)) => {
                st.reloading = None;
                st.load_done(req.seq, rows);
                return fleet::statuses::load_effect(st).into_iter().collect();
            }
            Outcome::Statuses(found) => fleet::statuses::on_loaded(st, found),
            Outcome::Trashed(moved) => return fleet::bulk::on_trashed(st, moved),
            Outcome::ExportedMany(written) => return fleet::bulk::on_exported(st, written),
            Outcome::Recorded(Err(e)) => {
                st.notice = Some(Notice::warn(format!(
                    "the statuses could not be saved: {e}"
                )));
            }
            Outcome::Listed(Err(e)) => {
                st.reloading = None;
                st.load = None;
                st.loading = false;
                st.notice = Some(Notice::error(format!("cannot list sessions: {e}")));
            }
            Outcome::Me(result) => {
                let Some(key) = st.app_requests.remove(&req.seq) else {
                    return Vec::new();
                };
                let known = st.known.entry(key.clone()).or_default();
                let found = match result {
                    Ok(me) => {
                        st.notice = Some(Notice::ok(format!("authorized as {}", me.display())));
                        known.me = Some(me);
                        Some(Status::Authorized)
                    }
                    Err(e) if flows::is_logged_out(&e) => {
                        st.notice = Some(Notice::warn(flows::advice(&e)));
                        Some(Status::LoggedOut)
                    }
                    Err(e) => {
                        st.notice = Some(Notice::error(flows::advice(&e)));
                        None
                    }
                };
                st.rebuild_view();
                if let Some(status) = found {
                    return fleet::statuses::spread(st, &key, status);
                }
            }
            _ => {}
        }
        return Vec::new();
    }
    if st.fleet.owns(req.pane) {
        return fleet::check_all::on_outcome(st, outcome);
    }
    // A result for a closed pane is dropped.
    let cx = Cx {
        now: st.now,
        rows: &st.rows,
        mode: &st.mode,
    };
    let Some(pane) = st.modals.iter_mut().find(|m| m.id() == req.pane) else {
        return Vec::new();
    };
    let cmds = pane.on_outcome(req.seq, outcome, &cx);
    apply(st, req.pane, cmds)
}

/// Carries out what pane `id` asked for.
fn apply(st: &mut AppState, id: u64, cmds: Vec<Cmd>) -> Vec<Effect> {
    let mut fx = Vec::new();
    for cmd in cmds {
        match cmd {
            Cmd::Run(e) => fx.push(e),
            Cmd::Close => {
                if let Some(pos) = st.modals.iter().position(|m| m.id() == id) {
                    st.modals.remove(pos);
                    fx.push(Effect::ClosePane { pane: id });
                }
            }
            Cmd::Replace(new) => {
                if let Some(pos) = st.modals.iter().position(|m| m.id() == id) {
                    if new.id() != id {
                        fx.push(Effect::ClosePane { pane: id });
                    }
                    st.modals[pos] = new;
                }
            }
            Cmd::Push(p) => st.modals.push(p),
            Cmd::Saved(row) => st.upsert_row(row),
            Cmd::Notice(n) => st.notice = Some(n),
            Cmd::Learned(key, change) => {
                let known = st.known.entry(key.clone()).or_default();
                let before = known.status;
                change(known);
                let after = known.status;
                st.rebuild_view();
                // A new status belongs to the key: every row holding it, and the book.
                if let Some(status) = after.filter(|_| after != before) {
                    fx.extend(fleet::statuses::spread(st, &key, status));
                }
            }
            Cmd::Bulk(op, keys) => fx.extend(fleet::bulk::start(st, op, keys)),
            Cmd::BulkExport(keys, format, folder) => {
                fx.extend(fleet::bulk::export(st, keys, format, folder))
            }
            Cmd::Terminated(key, device) => {
                fx.extend(fleet::statuses::terminated(st, &key, device.as_ref()));
            }
            Cmd::Reload => fx.push(load(st)),
            Cmd::Quit => fx.extend(quit(st)),
        }
    }
    fx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Session;
    use crate::ui::keymap::Keymap;
    use crate::ui::state::{Mode, SessionRow, SortKey};
    use crossterm::event::{KeyCode, KeyModifiers};

    fn press(code: KeyCode) -> Msg {
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn state_with(n: usize) -> AppState {
        let mut st = AppState::new(Keymap::default(), Mode::default());
        let rows = (0..n)
            .map(|i| {
                let mut s = Session::new(1 + (i % 5) as i32);
                s.user_id = Some(i as i64);
                SessionRow::memory(&format!("s{i:04}"), s)
            })
            .collect();
        st.set_rows(rows, None);
        st
    }

    #[test]
    fn enter_on_the_phone_step_sends_the_code() {
        let mut st = state_with(1);
        update(&mut st, press(KeyCode::Char('n')));
        update(&mut st, press(KeyCode::Enter));
        for c in "+15550001".chars() {
            update(&mut st, press(KeyCode::Char(c)));
        }
        let fx = update(&mut st, press(KeyCode::Enter));
        assert!(
            matches!(&fx[..], [Effect::SendCode { phone, .. }] if phone == "+15550001"),
            "{fx:?}"
        );
        // Esc closes the pane, cancels its tasks and ends its login.
        let fx = update(&mut st, press(KeyCode::Esc));
        assert!(st.modals.is_empty());
        assert!(matches!(&fx[..], [Effect::ClosePane { .. }]), "{fx:?}");
    }

    #[test]
    fn the_selection_stays_visible_in_a_long_list() {
        let mut st = state_with(1000);
        update(&mut st, Msg::Resize(80, 24));
        let cap = st.list_capacity();
        assert!(cap > 3);
        for _ in 0..cap + 5 {
            update(&mut st, press(KeyCode::Char('j')));
        }
        assert_eq!(st.selected, cap + 5);
        assert_eq!(st.offset, 6);
        update(&mut st, press(KeyCode::Char('G')));
        assert_eq!(st.selected, 999);
        assert_eq!(st.offset, 1000 - cap);
        update(&mut st, press(KeyCode::Char('g')));
        assert_eq!((st.selected, st.offset), (0, 0));
        // A smaller terminal keeps the selection on screen.
        for _ in 0..cap {
            update(&mut st, press(KeyCode::Down));
        }
        update(&mut st, Msg::Resize(60, 16));
        assert!(st.selected < st.offset + st.list_capacity());
    }

    #[test]
    fn filter_and_sort_rebuild_the_view() {
        let mut st = state_with(30);
        update(&mut st, press(KeyCode::Char('/')));
        for c in "s002".chars() {
            update(&mut st, press(KeyCode::Char(c)));
        }
        assert_eq!(st.view.len(), 10, "s0020..s0029");
        update(&mut st, press(KeyCode::Enter));
        assert!(st.filter_input.is_none());
        assert_eq!(st.filter, "s002");
        // Reversing the order moves the selected session, and the selection goes with it.
        assert_eq!(st.selected_row().unwrap().name, "s0020");
        update(&mut st, press(KeyCode::Char('r')));
        assert_eq!(st.selected_row().unwrap().name, "s0020");
        assert_eq!(st.selected, 9);
        update(&mut st, press(KeyCode::Char('s')));
        assert_eq!(st.sort, SortKey::Backend);
        assert_eq!(st.selected_row().unwrap().name, "s0020");
    }

    #[test]
    fn the_selection_follows_its_session_through_filter_and_reload() {
        let mut st = state_with(30);
        for _ in 0..5 {
            update(&mut st, press(KeyCode::Char('j')));
        }
        assert_eq!(st.selected_row().unwrap().name, "s0005");
        // A filter that keeps it keeps it selected; clearing the filter too.
        update(&mut st, press(KeyCode::Char('/')));
        update(&mut st, press(KeyCode::Char('0')));
        assert_eq!(st.selected_row().unwrap().name, "s0005");
        update(&mut st, press(KeyCode::Esc));
        assert_eq!(st.selected_row().unwrap().name, "s0005");
        // A reload in another order (fewer rows, the selected one elsewhere).
        let rows: Vec<SessionRow> = (3..30)
            .rev()
            .map(|i| SessionRow::memory(&format!("s{i:04}"), Session::new(1)))
            .collect();
        st.set_rows(rows, None);
        assert_eq!(st.selected_row().unwrap().name, "s0005");
    }

    #[test]
    fn key_releases_are_ignored() {
        let mut st = state_with(3);
        let mut ev = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
        ev.kind = KeyEventKind::Release;
        update(&mut st, Msg::Key(ev));
        assert_eq!(st.selected, 0);
    }
}
