//! The one `AppState`: sessions, selection, filter and sort, focus, the modal stack, notices
//! and the clock value used for countdowns.

use std::collections::HashMap;
use std::path::PathBuf;

use super::account::AccountRef;
use super::flows::Pane;
use super::keymap::{Context, Keymap};
use crate::store::listing::{Info, Summary};
use crate::store::{BackendKind, Format, Loaded, Session};
use crate::telegram::{Account, Device, Me, PasswordInfo};

/// What the app knows about an account's standing: the store's word for it, one type from the
/// status book to the list (`Unknown` until a check or an action finds out).
pub use crate::store::status::Status;

/// One line of the session list. File rows keep what the list, the detail pane, the filter
/// and the sort show (the listing's `Info`: no keys); an action reads the session from the
/// file when it runs (`account_ref`). Memory sessions keep theirs: it lives nowhere else.
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub name: String,
    /// `None` for a memory session.
    pub path: Option<PathBuf>,
    pub backend: BackendKind,
    pub format: Option<Format>,
    /// What the session holds, without keys (`None` if it could not be read).
    pub info: Option<Info>,
    /// A memory session's own keys.
    memory: Option<Box<Session>>,
    pub error: Option<String>,
    /// A SQLite journal beside the file: another program has it open.
    pub in_use: bool,
    /// The warning about a session file other users can read (its key with it).
    pub exposed: Option<String>,
    /// Who a login just saved here turned out to be (moved into `Known` on save), for formats
    /// that do not store names.
    pub learned: Option<Box<Me>>,
    /// A tdata folder with a local passcode: listed without reading it (import asks for it).
    pub locked: bool,
    /// Lower-case text the filter searches.
    search: Box<str>,
    /// Computed once: the natural-sort key of the name and the id of the home DC's key.
    name_key: Box<[u8]>,
    key_id: Option<[u8; 8]>,
}

/// What a passcode-locked tdata folder's row says instead of an error.
pub const PASSCODE_NEEDED: &str = "passcode needed";

/// The id of an all-zero key: a placeholder some tools write, not an authorization.
fn zero_key_id() -> [u8; 8] {
    static ID: std::sync::OnceLock<[u8; 8]> = std::sync::OnceLock::new();
    *ID.get_or_init(|| crate::secret::AuthKey::new([0; 256]).key_id())
}

impl SessionRow {
    /// A row of the folder's listing; `in_use`: a journal or WAL is beside the file (the
    /// listing's scan saw it). Only a file others can read costs a look at its mode again,
    /// for the warning's text.
    pub fn from_summary(s: &Summary, in_use: bool) -> SessionRow {
        let locked = s.backend == BackendKind::Folder
            && s.info
                .as_ref()
                .is_err_and(|e| crate::store::StoreError::says_passcode_needed(e));
        let (info, error) = match &s.info {
            Ok(info) => (Some(info.clone()), None),
            Err(_) if locked => (
                None,
                Some(format!(
                    "{PASSCODE_NEEDED}: this Telegram Desktop folder has a local passcode; \
                     press i and give its path to import it"
                )),
            ),
            Err(e) => (None, Some(e.clone())),
        };
        let exposed = info
            .as_ref()
            .filter(|i| i.readable_by_others == Some(true))
            .and_then(|_| crate::store::inspect::exposure_warning(&s.path));
        let format = match &info {
            Some(i) => Some(i.format),
            None if locked => Some(Format::Tdata),
            None => None,
        };
        let mut row = SessionRow {
            name: s.name.clone(),
            path: Some(s.path.clone()),
            backend: s.backend,
            format,
            info,
            memory: None,
            error,
            in_use,
            exposed,
            learned: None,
            locked,
            search: Box::default(),
            name_key: Box::default(),
            key_id: None,
        };
        row.derive_keys();
        row
    }

    pub fn from_file(name: &str, path: PathBuf, loaded: Result<Loaded, String>) -> SessionRow {
        let in_use = ["-journal", "-wal"].iter().any(|suffix| {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            PathBuf::from(p).exists()
        });
        let exposed = crate::store::inspect::exposure_warning(&path);
        let (info, error) = match loaded {
            Ok(l) => (Some(Info::from_loaded(&l, Some(exposed.is_some()))), None),
            Err(e) => (None, Some(e)),
        };
        let format = info.as_ref().map(|i| i.format);
        let backend = format.map(Format::backend).unwrap_or(BackendKind::String);
        let mut row = SessionRow {
            name: name.to_string(),
            path: Some(path),
            backend,
            format,
            info,
            memory: None,
            error,
            in_use,
            exposed,
            learned: None,
            locked: false,
            search: Box::default(),
            name_key: Box::default(),
            key_id: None,
        };
        row.derive_keys();
        row
    }

    /// The keys the list sorts, filters and groups by, computed once per row.
    fn derive_keys(&mut self) {
        self.search = self.search_text().into_boxed_str();
        self.name_key = super::list_index::natural_key(&self.name);
        self.key_id = self.home_key_id().filter(|id| *id != zero_key_id());
    }

    /// The id of the home DC's key, as the file holds it (an all-zero key too).
    fn home_key_id(&self) -> Option<[u8; 8]> {
        self.info.as_ref()?.home()?.key_id
    }

    pub fn name_key(&self) -> &[u8] {
        &self.name_key
    }

    pub fn memory(name: &str, session: Session) -> SessionRow {
        let loaded = Loaded {
            format: Format::Memory,
            session,
        };
        let mut row = SessionRow {
            name: name.to_string(),
            path: None,
            backend: BackendKind::Memory,
            format: Some(Format::Memory),
            info: Some(Info::from_loaded(&loaded, None)),
            memory: Some(Box::new(loaded.session)),
            error: None,
            in_use: false,
            exposed: None,
            learned: None,
            locked: false,
            search: Box::default(),
            name_key: Box::default(),
            key_id: None,
        };
        row.derive_keys();
        row
    }

    /// Stable identity across reloads.
    pub fn key(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => format!("memory:{}", self.name),
        }
    }

    pub fn account(&self) -> Option<String> {
        let i = self.info.as_ref()?;
        crate::store::model::display_name(
            i.first_name.as_deref(),
            i.last_name.as_deref(),
            i.username.as_deref(),
        )
    }

    pub fn username(&self) -> Option<String> {
        self.info.as_ref()?.username.clone()
    }

    pub fn user_id(&self) -> Option<i64> {
        self.info.as_ref()?.user_id
    }

    pub fn dc(&self) -> Option<i32> {
        self.info.as_ref().map(|i| i.dc_id)
    }

    pub fn kind(&self) -> &'static str {
        match self.info.as_ref().and_then(|i| i.is_bot) {
            Some(true) => "bot",
            Some(false) => "user",
            None => "?",
        }
    }

    pub fn format_name(&self) -> &'static str {
        self.format.map(Format::name).unwrap_or("?")
    }

    /// Whether the session could be read (an action can use it).
    pub fn readable(&self) -> bool {
        self.info.is_some()
    }

    /// Whether the session holds a key for its home DC.
    pub fn has_key(&self) -> bool {
        self.home_key_id().is_some()
    }

    fn base_status(&self) -> Status {
        if self.error.is_some() {
            Status::Error
        } else if self.in_use {
            Status::InUse
        } else if !self.has_key() {
            Status::LoggedOut
        } else {
            Status::Unknown
        }
    }

    /// The account behind this row for an action, read when the action runs (`None` if the
    /// file is unreadable).
    pub fn account_ref(&self) -> Option<AccountRef> {
        self.info.as_ref()?;
        if let Some(session) = &self.memory {
            return Some(AccountRef::Memory(Account {
                name: self.name.clone(),
                path: None,
                session: (**session).clone(),
            }));
        }
        Some(AccountRef::File {
            name: self.name.clone(),
            path: self.path.clone()?,
            key_id: self.home_key_id(),
        })
    }

    /// A memory session's keys (file rows hold none: read the file).
    pub fn memory_session(&self) -> Option<&Session> {
        self.memory.as_deref()
    }

    /// "Alice (@alice)", for confirmations that must name the account.
    pub fn describe_account(&self) -> String {
        let mut parts = Vec::new();
        if let Some(a) = self.account() {
            parts.push(a);
        }
        if let Some(u) = self.username() {
            parts.push(format!("@{u}"));
        }
        if let Some(id) = self.user_id() {
            parts.push(format!("id {id}"));
        }
        if parts.is_empty() {
            format!("session '{}'", self.name)
        } else {
            format!("{} in session '{}'", parts.join(", "), self.name)
        }
    }

    fn search_text(&self) -> String {
        let mut s = format!(
            "{} {} {}",
            self.name,
            self.format_name(),
            self.backend.name()
        );
        for part in [
            self.account(),
            self.username(),
            self.user_id().map(|i| i.to_string()),
            self.info.as_ref().and_then(|i| i.phone.clone()),
        ]
        .into_iter()
        .flatten()
        {
            s.push(' ');
            s.push_str(&part);
        }
        s.to_lowercase()
    }

    /// The id of the home DC's auth key (rows with the same id are one authorization).
    pub fn key_id(&self) -> Option<[u8; 8]> {
        self.key_id
    }

    pub fn matches(&self, needle_lower: &str) -> bool {
        needle_lower.is_empty() || self.search.contains(needle_lower)
    }
}

/// A listing streaming in: how far it is, and (for a reload) the rows read so far.
#[derive(Debug)]
pub struct Loading {
    pub seq: u64,
    pub loaded: usize,
    pub total: usize,
    /// Rows go straight into the list (the first load), else wait in `incoming`.
    live: bool,
    incoming: Vec<SessionRow>,
}

/// What a check or a pane found out about an account (kept across reloads, by row key).
#[derive(Clone, Debug, Default)]
pub struct Known {
    pub status: Option<Status>,
    pub me: Option<Me>,
    pub password: Option<PasswordInfo>,
    pub authorizations: Option<Vec<Device>>,
    /// What the last check (or action) found, as filed in the status book.
    pub finding: Option<crate::store::status::Finding>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Backend,
    Format,
    Account,
    UserId,
    Dc,
    Kind,
    Status,
    /// 2FA off first (from the last check).
    TwoFa,
    /// Most other devices first (from the last check).
    Devices,
}

impl SortKey {
    pub const ALL: [SortKey; 10] = [
        SortKey::Name,
        SortKey::Backend,
        SortKey::Format,
        SortKey::Account,
        SortKey::UserId,
        SortKey::Dc,
        SortKey::Kind,
        SortKey::Status,
        SortKey::TwoFa,
        SortKey::Devices,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Backend => "backend",
            SortKey::Format => "format",
            SortKey::Account => "account",
            SortKey::UserId => "user id",
            SortKey::Dc => "dc",
            SortKey::Kind => "kind",
            SortKey::Status => "status",
            SortKey::TwoFa => "2fa off",
            SortKey::Devices => "devices",
        }
    }

    pub fn next(self) -> SortKey {
        let i = SortKey::ALL
            .iter()
            .position(|k| *k == self)
            .expect("listed");
        SortKey::ALL[(i + 1) % SortKey::ALL.len()]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    List,
    Detail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    Info,
    Ok,
    Warn,
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub text: String,
}

impl Notice {
    pub fn ok(text: impl Into<String>) -> Notice {
        Notice {
            kind: NoticeKind::Ok,
            text: text.into(),
        }
    }
    pub fn warn(text: impl Into<String>) -> Notice {
        Notice {
            kind: NoticeKind::Warn,
            text: text.into(),
        }
    }
    pub fn error(text: impl Into<String>) -> Notice {
        Notice {
            kind: NoticeKind::Error,
            text: text.into(),
        }
    }
    pub fn info(text: impl Into<String>) -> Notice {
        Notice {
            kind: NoticeKind::Info,
            text: text.into(),
        }
    }
}

/// How the app was started, for texts that depend on it.
#[derive(Clone, Debug, Default)]
pub struct Mode {
    pub dir_label: String,
    /// Demo accounts to list in help (sandbox mode).
    pub demo_accounts: Vec<String>,
    pub sandbox: bool,
    /// Set when no api_id/api_hash is configured: network panes explain this.
    pub api_missing: Option<String>,
    /// Kept in the status line while no notice is shown (why this is the sandbox).
    pub banner: Option<String>,
}

pub struct AppState {
    pub now: u64,
    pub size: (u16, u16),
    pub rows: Vec<SessionRow>,
    /// Indices into `rows`: filtered and sorted.
    pub view: Vec<usize>,
    /// Position in `view`.
    pub selected: usize,
    /// First visible position in `view`.
    pub offset: usize,
    pub sort: SortKey,
    pub sort_desc: bool,
    pub filter: String,
    /// While `/` is being typed.
    pub filter_input: Option<tui_input::Input>,
    pub focus: Focus,
    pub detail_scroll: u16,
    /// How far the details could scroll when last drawn.
    pub detail_scroll_max: std::cell::Cell<u16>,
    pub modals: Vec<Box<dyn Pane>>,
    /// How many rows hold each auth key (recomputed with the view).
    pub key_counts: HashMap<[u8; 8], u32>,
    /// (pane id, rows) the top pane is scrolled by PgUp/PgDn.
    pub pane_scroll: (u64, u16),
    /// How far the top pane could scroll when last drawn.
    pub pane_scroll_max: std::cell::Cell<u16>,
    pub notice: Option<Notice>,
    pub keymap: Keymap,
    pub known: HashMap<String, Known>,
    pub mode: Mode,
    pub loading: bool,
    /// A reload of the folder is in flight (its seq): answers of older loads are stale.
    pub reloading: Option<u64>,
    /// The listing being streamed in, while it lasts (the progress line).
    pub load: Option<Loading>,
    /// Name order, sort order and the incremental filter (kept in step with `rows`).
    index: super::list_index::ListIndex,
    pub quit: bool,
    /// Statuses, marks, the check of many rows and bulk actions (`ui::fleet`).
    pub fleet: super::fleet::Fleet,
    next_pane: u64,
    pub(crate) app_seq: u64,
    /// App-level requests in flight: seq -> row key (for account checks).
    pub(crate) app_requests: HashMap<u64, String>,
}

impl AppState {
    pub fn new(keymap: Keymap, mode: Mode) -> AppState {
        AppState {
            now: 0,
            size: (80, 24),
            rows: Vec::new(),
            view: Vec::new(),
            selected: 0,
            offset: 0,
            sort: SortKey::Name,
            sort_desc: false,
            filter: String::new(),
            filter_input: None,
            focus: Focus::List,
            detail_scroll: 0,
            detail_scroll_max: std::cell::Cell::new(0),
            modals: Vec::new(),
            key_counts: HashMap::new(),
            pane_scroll: (0, 0),
            pane_scroll_max: std::cell::Cell::new(0),
            notice: None,
            keymap,
            known: HashMap::new(),
            mode,
            loading: true,
            reloading: None,
            load: None,
            index: Default::default(),
            quit: false,
            fleet: super::fleet::Fleet::default(),
            next_pane: 1,
            app_seq: 0,
            app_requests: HashMap::new(),
        }
    }

    pub fn next_pane_id(&mut self) -> u64 {
        let id = self.next_pane;
        self.next_pane += 1;
        id
    }

    pub fn status(&self, row: &SessionRow) -> Status {
        let base = row.base_status();
        if base == Status::Error || base == Status::InUse {
            return base;
        }
        self.known
            .get(&row.key())
            .and_then(|k| k.status)
            .unwrap_or(base)
    }

    /// Whether another row holds the same auth key as `row`.
    pub fn shares_key(&self, row: &SessionRow) -> bool {
        row.key_id()
            .is_some_and(|id| self.key_counts.get(&id).copied().unwrap_or(0) > 1)
    }

    /// The names of the other rows that hold `row`'s auth key.
    pub fn key_sharers(&self, row: &SessionRow) -> Vec<String> {
        let Some(id) = row.key_id().filter(|_| self.shares_key(row)) else {
            return Vec::new();
        };
        // The key id first: comparing row keys formats a path (drawn every frame, 100k rows).
        let me = row.key();
        self.rows
            .iter()
            .filter(|r| r.key_id() == Some(id) && r.key() != me)
            .map(|r| r.name.clone())
            .collect()
    }

    /// The account name from the file, else from what a login or check learned.
    pub fn account_label(&self, row: &SessionRow) -> Option<String> {
        row.account().or_else(|| {
            let me = self.known.get(&row.key())?.me.as_ref()?;
            Some(me.full_name()).filter(|n| !n.is_empty())
        })
    }

    /// "bot", "user" or "?", from the file or what a login learned.
    pub fn kind_label(&self, row: &SessionRow) -> &'static str {
        match row.kind() {
            "?" => match self.known.get(&row.key()).and_then(|k| k.me.as_ref()) {
                Some(me) if me.is_bot => "bot",
                Some(_) => "user",
                None => "?",
            },
            k => k,
        }
    }

    pub fn selected_row(&self) -> Option<&SessionRow> {
        self.view.get(self.selected).map(|i| &self.rows[*i])
    }

    pub fn context(&self) -> Context {
        if let Some(top) = self.modals.last() {
            top.context()
        } else if self.filter_input.is_some() {
            Context::Filter
        } else {
            Context::List
        }
    }

    /// A listing `seq` starts streaming in. On the first load its rows show as they arrive;
    /// a reload keeps the old rows on screen and swaps in the new ones when all are read.
    pub fn start_load(&mut self, seq: u64) {
        let live = self.loading && self.rows.iter().all(|r| r.backend == BackendKind::Memory);
        self.load = Some(Loading {
            seq,
            loaded: 0,
            total: 0,
            live,
            incoming: Vec::new(),
        });
    }

    /// A batch of listing `seq` arrived (`total`: how many rows the listing expects).
    pub fn load_batch(&mut self, seq: u64, rows: Vec<SessionRow>, total: usize) {
        let Some(load) = self.load.as_mut().filter(|l| l.seq == seq) else {
            return;
        };
        load.loaded += rows.len();
        load.total = total;
        // Room for every row at once: growing by doubling would leave up to half unused.
        let room = total.saturating_sub(load.loaded - rows.len());
        if load.live {
            self.rows.reserve_exact(room);
            self.append_rows(rows);
        } else {
            load.incoming.reserve_exact(room);
            load.incoming.extend(rows);
        }
    }

    /// Listing `seq` ended with its last `rows`.
    pub fn load_done(&mut self, seq: u64, rows: Vec<SessionRow>) {
        match self.load.take() {
            Some(load) if load.seq == seq && load.live => {
                self.append_rows(rows);
                self.loading = false;
            }
            Some(mut load) if load.seq == seq => {
                load.incoming.extend(rows);
                self.set_rows(load.incoming, None);
            }
            // Not streamed (a caller with the whole listing at once).
            _ => self.set_rows(rows, None),
        }
    }

    /// Adds rows read from the folder (the first load streaming in); the selection stays on
    /// its row.
    pub fn append_rows(&mut self, rows: Vec<SessionRow>) {
        if rows.is_empty() {
            return;
        }
        let keep = self.view.get(self.selected).copied();
        let from = self.rows.len();
        for id in rows.iter().filter_map(SessionRow::key_id) {
            *self.key_counts.entry(id).or_default() += 1;
        }
        self.rows.extend(rows);
        if self.index.covers(&self.rows[..from]) {
            self.index.appended(&self.rows, from);
        } else {
            self.index.reset(&self.rows);
        }
        self.sort_and_filter(keep);
    }

    /// Replaces the rows (a reload), keeping memory sessions and the selected name.
    pub fn set_rows(&mut self, mut rows: Vec<SessionRow>, select: Option<&str>) {
        let keep = self.selected_row().map(|r| r.key());
        for r in &self.rows {
            if r.backend == BackendKind::Memory && !rows.iter().any(|n| n.key() == r.key()) {
                rows.push(r.clone());
            }
        }
        self.rows = rows;
        self.loading = false;
        // The old view indexes the old rows: the selection is found again by key below.
        self.view.clear();
        self.rebuild_view();
        let target = select
            .and_then(|name| self.view.iter().position(|i| self.rows[*i].name == name))
            .or_else(|| keep.and_then(|k| self.view.iter().position(|i| self.rows[*i].key() == k)));
        self.selected = target.unwrap_or(0).min(self.view.len().saturating_sub(1));
        self.scroll_to_selection();
    }

    /// Adds or replaces one row and selects it.
    pub fn upsert_row(&mut self, row: SessionRow) {
        let name = row.name.clone();
        match self.rows.iter().position(|r| r.key() == row.key()) {
            Some(i) => self.rows[i] = row,
            None => self.rows.push(row),
        }
        if !self.filter.is_empty()
            && !self
                .rows
                .last()
                .is_some_and(|r| r.matches(&self.filter.to_lowercase()))
        {
            self.filter.clear();
        }
        self.rebuild_view();
        if let Some(p) = self.view.iter().position(|i| self.rows[*i].name == name) {
            self.selected = p;
        }
        self.detail_scroll = 0;
        self.scroll_to_selection();
    }

    /// Recomputes the filtered, sorted order from scratch (on a data change or what the app
    /// learned; never per frame). The selected session stays selected wherever it moves; if
    /// the filter hides it, the selection falls back to its old position.
    pub fn rebuild_view(&mut self) {
        let keep = self.selected_row().map(SessionRow::key);
        self.key_counts.clear();
        for id in self.rows.iter().filter_map(SessionRow::key_id) {
            *self.key_counts.entry(id).or_default() += 1;
        }
        self.index.reset(&self.rows);
        // The old view may index other rows: the selection is found again by key.
        let keep = keep.and_then(|k| self.rows.iter().position(|r| r.key() == k));
        self.view.clear();
        self.sort_and_filter(keep);
    }

    /// After a filter or sort change (rows unchanged): re-sorts only when the sort changed,
    /// and filters only the current view when the needle grew.
    pub fn refresh_view(&mut self) {
        if !self.index.covers(&self.rows) {
            return self.rebuild_view();
        }
        let keep = self.view.get(self.selected).copied();
        self.sort_and_filter(keep);
    }

    /// Sorts (if the sort changed) and filters, then selects row `keep` again if shown.
    fn sort_and_filter(&mut self, keep: Option<usize>) {
        let mut index = std::mem::take(&mut self.index);
        if index.sorted_for() != Some((self.sort, self.sort_desc)) {
            index.sort(&self.rows, self.sort, self.sort_desc, &*self);
        }
        // Plain text and triage words (`status:error`, `2fa:off`, `devices:>0`).
        let filter = super::fleet::triage::Filter::parse(&self.filter);
        let mut view = std::mem::take(&mut self.view);
        let plain = (!filter.uses_findings()).then(|| self.filter.to_lowercase());
        index.filter(
            &self.rows,
            plain.as_deref(),
            |r| filter.matches(self, r),
            &mut view,
        );
        self.view = view;
        self.index = index;
        self.selected = keep
            .and_then(|k| self.view.iter().position(|i| *i == k))
            .unwrap_or(self.selected)
            .min(self.view.len().saturating_sub(1));
        self.scroll_to_selection();
    }

    /// Rows the list can show at the current size.
    pub fn list_capacity(&self) -> usize {
        super::view::layout::list_rows(self.size.0, self.size.1)
    }

    pub fn scroll_to_selection(&mut self) {
        let cap = self.list_capacity().max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + cap {
            self.offset = self.selected + 1 - cap;
        }
        let max_offset = self.view.len().saturating_sub(cap);
        self.offset = self.offset.min(max_offset);
    }

    pub fn scroll_detail(&mut self, delta: i32) {
        let max = i32::from(self.detail_scroll_max.get());
        self.detail_scroll = (i32::from(self.detail_scroll) + delta).clamp(0, max) as u16;
    }

    pub fn move_selection(&mut self, delta: isize) {
        if self.view.is_empty() {
            return;
        }
        let last = self.view.len() as isize - 1;
        self.selected = (self.selected as isize + delta).clamp(0, last) as usize;
        self.detail_scroll = 0;
        self.scroll_to_selection();
    }

    /// True while something on screen counts down or spins (arms the timer).
    pub fn animating(&self) -> bool {
        self.modals.iter().any(|m| m.animating()) || self.fleet.animating()
    }

    /// True while any pane waits for an answer.
    pub fn animating_requests(&self) -> bool {
        self.modals.iter().any(|m| m.busy())
    }

    pub fn has_memory_sessions(&self) -> bool {
        self.rows.iter().any(|r| r.backend == BackendKind::Memory)
    }
}

impl super::list_index::Learned for AppState {
    fn status(&self, row: &SessionRow) -> Status {
        AppState::status(self, row)
    }

    fn two_fa_rank(&self, row: &SessionRow) -> u8 {
        super::fleet::triage::two_fa_rank(self, row)
    }

    fn devices_rank(&self, row: &SessionRow) -> std::cmp::Reverse<Option<u32>> {
        super::fleet::triage::devices_rank(self, row)
    }
}
