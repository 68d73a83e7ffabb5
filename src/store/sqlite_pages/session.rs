//! The session of a Telethon or Pyrogram-family file, from its pages: the same detection and
//! field mapping as the SQL path (`formats::sqlite_detect::detect_from`, `session_of` of each
//! format), only the raw values are fetched here. Every value must have the storage class the
//! SQL path accepts (rusqlite's `get` refuses the others), else the page reader declines and
//! the SQL path gives its exact error.

use super::record::{Value, decode};
use super::schema::{self, Plan, Table};
use super::{Db, Decline, PageSource, R};
use crate::store::formats::pyrogram_sqlite::{self, PyrogramRow};
use crate::store::formats::sqlite_detect::detect_from;
use crate::store::formats::telethon_sqlite::{self, TelethonRow};
use crate::store::{Format, Loaded};
use zeroize::Zeroizing;

/// One row of a table: its rowid and values.
struct Row<'t> {
    table: &'t Table,
    rowid: i64,
    values: Vec<Value>,
}

impl Row<'_> {
    fn value(&self, name: &str) -> R<Value> {
        let (i, column) = self.table.column(name)?;
        let stored = self
            .values
            .get(i)
            .ok_or(Decline("record shorter than the table"))?;
        if column.rowid_alias {
            // SQLite keeps NULL in the record and reads the rowid.
            return match stored {
                Value::Null => Ok(Value::Int(self.rowid)),
                _ => Err(Decline("a value stored for a rowid alias")),
            };
        }
        Ok(stored.clone())
    }

    fn int(&self, name: &str) -> R<i64> {
        self.opt_int(name)?
            .ok_or(Decline("NULL where an integer is needed"))
    }

    fn opt_int(&self, name: &str) -> R<Option<i64>> {
        match self.value(name)? {
            Value::Null => Ok(None),
            Value::Int(i) => Ok(Some(i)),
            _ => Err(Decline("not an integer")),
        }
    }

    fn opt_text(&self, name: &str) -> R<Option<String>> {
        match self.value(name)? {
            Value::Null => Ok(None),
            Value::Text(b) => String::from_utf8(b)
                .map(Some)
                .map_err(|_| Decline("text not UTF-8")),
            _ => Err(Decline("not a text")),
        }
    }

    fn opt_blob(&self, name: &str) -> R<Option<Zeroizing<Vec<u8>>>> {
        match self.value(name)? {
            Value::Null => Ok(None),
            Value::Blob(b) => Ok(Some(Zeroizing::new(b))),
            _ => Err(Decline("not a blob")),
        }
    }
}

fn first<'t, S: PageSource>(db: &mut Db<S>, table: &'t Table) -> R<Option<Row<'t>>> {
    let Some((rowid, payload)) = db.first_row(table.root)? else {
        return Ok(None);
    };
    let values = decode(&payload.local, payload.size)?;
    Ok(Some(Row {
        table,
        rowid,
        values,
    }))
}

/// The file's format and session, or a decline.
pub fn read<S: PageSource>(db: &mut Db<S>) -> R<Loaded> {
    let plan = schema::plan(db)?;
    let format = detect_from(&plan.tables, "", |col| {
        version(db, &plan, col).map_err(|d| d.0.to_string())
    })
    .map_err(|_| Decline("not a session schema the page reader follows"))?;
    let session = match format {
        Format::TelethonSqlite(_) => telethon_sqlite::session_of(telethon(db, &plan)?),
        Format::PyrogramSqlite(v) => pyrogram_sqlite::session_of(pyrogram(db, &plan, v)?),
        Format::PyroforkSqlite => pyrogram_sqlite::session_of(pyrogram(db, &plan, 4)?),
        _ => return Err(Decline("a format the page reader does not read")),
    }
    .map_err(|_| Decline("the session's values are refused"))?;
    Ok(Loaded { format, session })
}

/// `SELECT {col} FROM version`, first row.
fn version<S: PageSource>(db: &mut Db<S>, plan: &Plan, col: &str) -> R<i64> {
    let table = plan.table("version")?;
    let row = first(db, table)?.ok_or(Decline("no version row"))?;
    row.int(col)
}

fn telethon<S: PageSource>(db: &mut Db<S>, plan: &Plan) -> R<Option<TelethonRow>> {
    let sessions = plan.table("sessions")?;
    let entities = plan.table("entities")?;
    let (_, id) = entities.column("id")?;
    if !id.rowid_alias {
        return Err(Decline("entities.id is not the rowid"));
    }
    let Some(row) = first(db, sessions)? else {
        return Ok(None);
    };
    let own_id = match db.find_row(entities.root, 0)? {
        None => None,
        Some(payload) => Row {
            table: entities,
            rowid: 0,
            values: decode(&payload.local, payload.size)?,
        }
        .opt_int("hash")?,
    };
    Ok(Some(TelethonRow {
        dc_id: row.int("dc_id")?,
        address: row.opt_text("server_address")?,
        port: row.opt_int("port")?,
        key: row.opt_blob("auth_key")?,
        own_id,
    }))
}

fn pyrogram<S: PageSource>(db: &mut Db<S>, plan: &Plan, schema: u8) -> R<Option<PyrogramRow>> {
    let sessions = plan.table("sessions")?;
    let Some(row) = first(db, sessions)? else {
        return Ok(None);
    };
    let (has_address, has_api) = pyrogram_sqlite::columns_of(schema);
    Ok(Some(PyrogramRow {
        dc_id: row.int("dc_id")?,
        address: if has_address {
            row.opt_text("server_address")?
        } else {
            None
        },
        port: if has_address {
            row.opt_int("port")?
        } else {
            None
        },
        api_id: if has_api {
            row.opt_int("api_id")?
        } else {
            None
        },
        test_mode: row.opt_int("test_mode")?,
        key: row.opt_blob("auth_key")?,
        user_id: row.opt_int("user_id")?,
        is_bot: row.opt_int("is_bot")?,
    }))
}
