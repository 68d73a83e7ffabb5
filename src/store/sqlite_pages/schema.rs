//! The schema table (`sqlite_master`, rooted at page 1) and the columns of the tables the
//! session readers need. The whole schema is accepted only as SQLite accepts it: each distinct
//! schema is built once by SQLite itself in memory, so a statement SQLite would call malformed
//! declines. What a schema gives (its [`Plan`]) is remembered by the schema rows' bytes: the
//! first file with a schema pays, the rest of a folder of alike files only compare bytes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rusqlite::Connection;

use super::record::{Value, decode};
use super::{Db, Decline, PageSource, R};

/// One row of `sqlite_master`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub kind: String,
    pub name: String,
    pub tbl_name: String,
    pub root: i64,
    pub sql: Option<String>,
}

fn text(v: Value) -> R<String> {
    // A name or statement past the page (SQLite would read its overflow pages) declines too.
    match v {
        Value::Text(b) => String::from_utf8(b).map_err(|_| Decline("schema text not UTF-8")),
        _ => Err(Decline("schema value of another class")),
    }
}

/// The rows of `sqlite_master` (its table's rows, in rowid order) decoded.
fn master(rows: Vec<(i64, super::btree::Payload)>) -> R<Vec<Entry>> {
    rows.into_iter()
        .map(|(_, payload)| {
            let values = decode(&payload.local, payload.size)?;
            let [kind, name, tbl_name, root, sql]: [Value; 5] = values
                .try_into()
                .map_err(|_| Decline("schema row of another shape"))?;
            let root = match root {
                Value::Int(n) => n,
                _ => return Err(Decline("root page of another class")),
            };
            let sql = match sql {
                Value::Null => None,
                v => Some(text(v)?),
            };
            Ok(Entry {
                kind: text(kind)?,
                name: text(name)?,
                tbl_name: text(tbl_name)?,
                root,
                sql,
            })
        })
        .collect()
}

/// What the readers need of one schema, worked out once per distinct schema.
#[derive(Debug)]
pub struct Plan {
    /// Every table's name and statement (`''` for none), sorted by name.
    pub tables: Vec<(String, String)>,
    version: R<Table>,
    sessions: R<Table>,
    entities: R<Table>,
    /// The highest root page of a table or index (must be a page of the file).
    max_root: i64,
}

impl Plan {
    /// One of the tables the readers read (see [`table`]).
    pub fn table(&self, name: &str) -> R<&Table> {
        match name {
            "version" => self.version.as_ref(),
            "sessions" => self.sessions.as_ref(),
            "entities" => self.entities.as_ref(),
            _ => return Err(Decline("a table the plan does not hold")),
        }
        .map_err(|d| *d)
    }
}

/// Plans by the raw bytes of their schema rows; `None` for a schema that declines. Bounded:
/// past it, schemas are worked out every time.
type Plans = HashMap<Vec<u8>, Option<Arc<Plan>>>;
static PLANS: OnceLock<Mutex<Plans>> = OnceLock::new();
const MEMO: usize = 64;

/// A schema's key and its plan (`None`: it declines).
type Remembered = Option<(Vec<u8>, Option<Arc<Plan>>)>;

thread_local! {
    static LAST: std::cell::RefCell<Remembered> = const { std::cell::RefCell::new(None) };
}

/// The plan of the database's schema: from the memo when a file with the same schema rows
/// (byte for byte, root pages included) was seen, else worked out and remembered.
pub fn plan<S: PageSource>(db: &mut Db<S>) -> R<Arc<Plan>> {
    let rows = db.all_rows(1)?;
    let mut key = Vec::with_capacity(rows.iter().map(|(_, p)| p.local.len() + 8).sum());
    for (_, payload) in &rows {
        key.extend_from_slice(&(payload.size as u32).to_le_bytes());
        key.extend_from_slice(&(payload.local.len() as u32).to_le_bytes());
        key.extend_from_slice(&payload.local);
    }
    // The last schema this thread saw first (a folder's files mostly share one), compared
    // byte for byte; then the shared memo.
    let last = LAST.with_borrow(|l| {
        l.as_ref()
            .filter(|(k, _)| *k == key)
            .map(|(_, p)| p.clone())
    });
    let memo = PLANS.get_or_init(Default::default);
    let known = last.or_else(|| memo.lock().ok().and_then(|m| m.get(&key).cloned()));
    let plan = match known {
        Some(plan) => plan,
        None => {
            let plan = work_out(rows).ok().map(Arc::new);
            if let Ok(mut m) = memo.lock()
                && m.len() < MEMO
            {
                m.insert(key.clone(), plan.clone());
            }
            plan
        }
    };
    LAST.with_borrow_mut(|l| {
        if l.as_ref().is_none_or(|(k, _)| *k != key) {
            *l = Some((key, plan.clone()));
        }
    });
    let plan = plan.ok_or(Decline("a schema the page reader does not follow"))?;
    if plan.max_root > db.header.pages as i64 {
        return Err(Decline("root page past the file"));
    }
    Ok(plan)
}

fn work_out(rows: Vec<(i64, super::btree::Payload)>) -> R<Plan> {
    let entries = master(rows)?;
    check(&entries)?;
    let mut tables: Vec<(String, String)> = entries
        .iter()
        .filter(|e| e.kind == "table")
        .map(|e| (e.name.clone(), e.sql.clone().unwrap_or_default()))
        .collect();
    tables.sort();
    Ok(Plan {
        tables,
        version: table(&entries, "version"),
        sessions: table(&entries, "sessions"),
        entities: table(&entries, "entities"),
        max_root: entries.iter().map(|e| e.root).max().unwrap_or(0),
    })
}

/// Accepts the schema if SQLite would load it: root pages where they may be (tables and
/// indexes after page 1, views and triggers none), and the statements rebuilding exactly
/// these entries in a fresh in-memory database.
fn check(entries: &[Entry]) -> R<()> {
    for e in entries {
        let ok = match e.kind.as_str() {
            "table" | "index" => e.root >= 2,
            "view" | "trigger" => e.root == 0,
            _ => false,
        };
        if !ok {
            return Err(Decline("schema row with an unexpected root page"));
        }
    }
    if !sqlite_builds(entries) {
        return Err(Decline("schema not as SQLite builds it"));
    }
    Ok(())
}

/// An entry without its root page: type, name, table, statement.
type Described = (String, String, String, Option<String>);

fn sqlite_builds(entries: &[Entry]) -> bool {
    let Ok(conn) = Connection::open_in_memory() else {
        return false;
    };
    for e in entries {
        let Some(sql) = &e.sql else { continue };
        // Internal tables (sqlite_sequence, sqlite_stat1) cannot be created by a statement.
        if e.name.len() >= 7 && e.name[..7].eq_ignore_ascii_case("sqlite_") {
            return false;
        }
        // One statement each (`execute` refuses a tail).
        if conn.execute(sql, []).is_err() {
            return false;
        }
    }
    let rebuilt: rusqlite::Result<Vec<Described>> = conn
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect()
        });
    let Ok(mut rebuilt) = rebuilt else {
        return false;
    };
    let mut given: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                e.kind.clone(),
                e.name.clone(),
                e.tbl_name.clone(),
                e.sql.clone(),
            )
        })
        .collect();
    rebuilt.sort();
    given.sort();
    rebuilt == given
}

/// A column of a table, as the readers need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// Lower-case (SQL names are matched without case).
    pub name: String,
    /// `INTEGER PRIMARY KEY`: the value is the rowid, the record holds NULL.
    pub rowid_alias: bool,
    /// REAL affinity: SQLite turns a stored integer into a real on reading.
    pub real: bool,
}

/// A table the readers read: its root page and columns in order.
#[derive(Clone, Debug)]
pub struct Table {
    pub root: u32,
    pub columns: Vec<Column>,
}

impl Table {
    /// The position of column `name`; declines if it is missing or has REAL affinity.
    pub fn column(&self, name: &str) -> R<(usize, &Column)> {
        let (i, c) = self
            .columns
            .iter()
            .enumerate()
            .find(|(_, c)| c.name.eq_ignore_ascii_case(name))
            .ok_or(Decline("no such column"))?;
        if c.real {
            return Err(Decline("column of REAL affinity"));
        }
        Ok((i, c))
    }
}

/// The table `name` (matched without case, as SQL does), which no index may cover (a query
/// could then scan the index instead, in another order).
pub fn table(entries: &[Entry], name: &str) -> R<Table> {
    let mut found = entries
        .iter()
        .filter(|e| e.kind == "table" && e.name.eq_ignore_ascii_case(name));
    let entry = found.next().ok_or(Decline("no such table"))?;
    if found.next().is_some() {
        return Err(Decline("two tables of one name"));
    }
    if entries
        .iter()
        .any(|e| e.kind == "index" && e.tbl_name.eq_ignore_ascii_case(&entry.name))
    {
        return Err(Decline("an index on the table"));
    }
    let sql = entry.sql.as_deref().ok_or(Decline("table without SQL"))?;
    Ok(Table {
        root: u32::try_from(entry.root).map_err(|_| Decline("root page"))?,
        columns: parse_create(sql)?,
    })
}

/// Splits `s` at top-level `sep` (outside parentheses and quotes).
fn split_top(s: &str, sep: char) -> R<Vec<&str>> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0usize, None::<char>, 0);
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '[' => quote = Some(']'),
                '(' => depth += 1,
                ')' => {
                    depth = depth
                        .checked_sub(1)
                        .ok_or(Decline("unbalanced parentheses"))?
                }
                c if c == sep && depth == 0 => {
                    parts.push(&s[start..i]);
                    start = i + c.len_utf8();
                }
                _ => {}
            },
        }
    }
    if depth != 0 || quote.is_some() {
        return Err(Decline("unbalanced SQL"));
    }
    parts.push(&s[start..]);
    Ok(parts)
}

/// The words of a column definition at its top level: a parenthesised group is one word,
/// a quoted name is its unquoted text (a doubled quote inside declines).
fn words(part: &str) -> R<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = part.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let close = match c {
            '"' | '`' | '\'' => Some(c),
            '[' => Some(']'),
            _ => None,
        };
        if let Some(close) = close {
            chars.next();
            let mut word = String::new();
            loop {
                let (_, ch) = chars.next().ok_or(Decline("unclosed quote"))?;
                if ch == close {
                    break;
                }
                word.push(ch);
            }
            if chars.peek().is_some_and(|&(_, ch)| ch == close) {
                return Err(Decline("doubled quote in a name"));
            }
            out.push(if c == '\'' { format!("'{word}'") } else { word });
        } else if c == '(' {
            let mut depth = 0;
            let mut end = i;
            for (j, ch) in chars.by_ref() {
                match ch {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = j + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            out.push(part[i..end].to_string());
        } else {
            let mut end = part.len();
            while let Some(&(j, ch)) = chars.peek() {
                if ch.is_whitespace() || ch == '(' || ch == '"' || ch == '\'' {
                    end = j;
                    break;
                }
                chars.next();
            }
            out.push(part[i..end].to_ascii_lowercase());
        }
    }
    Ok(out)
}

/// Words that end a column's type and begin its constraints.
const CONSTRAINT_WORDS: [&str; 11] = [
    "constraint",
    "primary",
    "not",
    "null",
    "unique",
    "check",
    "default",
    "collate",
    "references",
    "generated",
    "as",
];

/// The columns of a `CREATE TABLE` statement (as SQLite stores it). What this small parser
/// does not follow (WITHOUT ROWID, STRICT, generated columns, a one-column table PRIMARY KEY
/// that could make a rowid alias) declines.
pub fn parse_create(sql: &str) -> R<Vec<Column>> {
    let open = sql.find('(').ok_or(Decline("no column list"))?;
    if !sql[..open]
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("create table")
    {
        return Err(Decline("not CREATE TABLE"));
    }
    let body = &sql[open + 1..];
    let close = find_close(body)?;
    if !body[close + 1..].trim().is_empty() {
        return Err(Decline("table options"));
    }
    let mut columns = Vec::new();
    for part in split_top(&body[..close], ',')? {
        let w = words(part)?;
        let first = w.first().ok_or(Decline("empty column definition"))?;
        if ["constraint", "primary", "unique", "check", "foreign"].contains(&first.as_str()) {
            if first == "primary" || first == "constraint" {
                let group = w.iter().find(|x| x.starts_with('('));
                if group.is_none_or(|g| !g.contains(',')) {
                    return Err(Decline("table PRIMARY KEY of one column"));
                }
            }
            continue;
        }
        let rest = &w[1..];
        let type_end = rest
            .iter()
            .position(|x| CONSTRAINT_WORDS.contains(&x.as_str()))
            .unwrap_or(rest.len());
        let decl = rest[..type_end].join(" ").to_ascii_uppercase();
        let cons = &rest[type_end..];
        if cons.iter().any(|x| x == "generated" || x == "as") {
            return Err(Decline("generated column"));
        }
        let pk = cons
            .windows(2)
            .position(|p| p[0] == "primary" && p[1] == "key");
        let desc = pk.is_some_and(|i| cons.get(i + 2).is_some_and(|x| x == "desc"));
        columns.push(Column {
            name: first.to_ascii_lowercase(),
            rowid_alias: decl == "INTEGER" && pk.is_some() && !desc,
            real: real_affinity(&decl),
        });
    }
    Ok(columns)
}

/// The offset in `body` of the ')' that closes the column list.
fn find_close(body: &str) -> R<usize> {
    let (mut depth, mut quote) = (0usize, None::<char>);
    for (i, c) in body.char_indices() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '[' => quote = Some(']'),
                '(' => depth += 1,
                ')' if depth == 0 => return Ok(i),
                ')' => depth -= 1,
                _ => {}
            },
        }
    }
    Err(Decline("unclosed column list"))
}

/// SQLite's affinity rules (datatype3 §3.1), REAL or not.
fn real_affinity(decl: &str) -> bool {
    if decl.contains("INT") {
        return false;
    }
    if ["CHAR", "CLOB", "TEXT", "BLOB"]
        .iter()
        .any(|t| decl.contains(t))
        || decl.is_empty()
    {
        return false;
    }
    ["REAL", "FLOA", "DOUB"].iter().any(|t| decl.contains(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(sql: &str) -> Vec<(String, bool)> {
        parse_create(sql)
            .unwrap()
            .into_iter()
            .map(|c| (c.name, c.rowid_alias))
            .collect()
    }

    #[test]
    fn telethon_and_pyrogram_tables() {
        assert_eq!(
            cols("CREATE TABLE version (version integer primary key)"),
            [("version".into(), true)]
        );
        let peers = "CREATE TABLE peers\n(\n id INTEGER PRIMARY KEY,\n access_hash INTEGER,\n \
                     last_update_on INTEGER NOT NULL DEFAULT (CAST(STRFTIME('%s', 'now') AS INTEGER))\n)";
        assert_eq!(
            cols(peers),
            [
                ("id".into(), true),
                ("access_hash".into(), false),
                ("last_update_on".into(), false)
            ]
        );
        let sent = "CREATE TABLE sent_files (md5_digest blob, file_size integer, primary key(md5_digest, file_size))";
        assert_eq!(cols(sent).len(), 2);
    }

    #[test]
    fn what_the_parser_does_not_follow_declines() {
        assert!(parse_create("CREATE TABLE t (a INTEGER PRIMARY KEY) WITHOUT ROWID").is_err());
        assert!(parse_create("CREATE TABLE t (a INTEGER, PRIMARY KEY(a))").is_err());
        assert!(parse_create("CREATE TABLE t (a INTEGER, b AS (a + 1))").is_err());
        assert!(parse_create("CREATE TABLE t (\"a\"\"b\" INTEGER)").is_err());
        // Not aliases: INT, or DESC.
        assert_eq!(
            cols("CREATE TABLE t (a INT PRIMARY KEY)"),
            [("a".into(), false)]
        );
        assert_eq!(
            cols("CREATE TABLE t (a INTEGER PRIMARY KEY DESC)"),
            [("a".into(), false)]
        );
        assert!(parse_create("CREATE TABLE t (a REAL)").unwrap()[0].real);
        assert!(!parse_create("CREATE TABLE t (a POINT)").unwrap()[0].real);
    }
}
