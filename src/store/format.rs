//! Names of every session format tgsess reads or writes. The names are those of the
//! fixtures' manifest (plus tgsess's own), so scripts can rely on them.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    TgsessString,
    TgsessSqlite,
    TelethonString,
    /// Telethon SQLite, schema 7 or 8.
    TelethonSqlite(u8),
    PyrogramString(PyrogramStringLayout),
    /// Pyrogram-family SQLite, schema 2, 3 or 7.
    PyrogramSqlite(u8),
    /// Lives in this process only.
    Memory,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PyrogramStringLayout {
    Old32,
    Old64,
    V2,
}

/// What kind of storage a format uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BackendKind {
    Sqlite,
    String,
    Memory,
}

impl BackendKind {
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::String => "string",
            BackendKind::Memory => "memory",
        }
    }
}

/// The formats `convert --to` accepts: each one a writer.
pub const TARGETS: [Format; 6] = [
    Format::TgsessString,
    Format::TelethonString,
    Format::PyrogramString(PyrogramStringLayout::V2),
    Format::TgsessSqlite,
    Format::TelethonSqlite(7),
    Format::PyrogramSqlite(7),
];

impl Format {
    pub fn backend(self) -> BackendKind {
        match self {
            Format::TgsessString | Format::TelethonString | Format::PyrogramString(_) => {
                BackendKind::String
            }
            Format::TgsessSqlite | Format::TelethonSqlite(_) | Format::PyrogramSqlite(_) => {
                BackendKind::Sqlite
            }
            Format::Memory => BackendKind::Memory,
        }
    }

    /// The exact name, with schema or layout (`telethon-sqlite-v8`, `pyrogram-string-old64`).
    pub fn name(self) -> &'static str {
        match self {
            Format::TgsessString => "tgsess-string",
            Format::TgsessSqlite => "tgsess-sqlite",
            Format::TelethonString => "telethon-string",
            Format::TelethonSqlite(8) => "telethon-sqlite-v8",
            Format::TelethonSqlite(_) => "telethon-sqlite-v7",
            Format::PyrogramString(PyrogramStringLayout::Old32) => "pyrogram-string-old32",
            Format::PyrogramString(PyrogramStringLayout::Old64) => "pyrogram-string-old64",
            Format::PyrogramString(PyrogramStringLayout::V2) => "pyrogram-string-v2",
            Format::PyrogramSqlite(2) => "pyrogram-sqlite-v2",
            Format::PyrogramSqlite(3) => "pyrogram-sqlite-v3",
            Format::PyrogramSqlite(_) => "pyrogram-sqlite-v7",
            Format::Memory => "memory",
        }
    }

    /// The family name a user types (`telethon-sqlite`), i.e. the writer's name.
    pub fn family(self) -> &'static str {
        match self {
            Format::TgsessString => "tgsess-string",
            Format::TgsessSqlite => "tgsess-sqlite",
            Format::TelethonString => "telethon-string",
            Format::TelethonSqlite(_) => "telethon-sqlite",
            Format::PyrogramString(_) => "pyrogram-string",
            Format::PyrogramSqlite(_) => "pyrogram-sqlite",
            Format::Memory => "memory",
        }
    }

    /// The format a writer of this family produces (Telethon schema 7 for the widest reach).
    pub fn writer(self) -> Format {
        match self {
            Format::TelethonSqlite(_) => Format::TelethonSqlite(7),
            Format::PyrogramSqlite(_) => Format::PyrogramSqlite(7),
            Format::PyrogramString(_) => Format::PyrogramString(PyrogramStringLayout::V2),
            other => other,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    /// Accepts family names (`telethon-sqlite`) and exact names (`telethon-sqlite-v8`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let all = [
            Format::TgsessString,
            Format::TgsessSqlite,
            Format::TelethonString,
            Format::TelethonSqlite(7),
            Format::TelethonSqlite(8),
            Format::PyrogramString(PyrogramStringLayout::V2),
            Format::PyrogramSqlite(7),
            Format::Memory,
        ];
        all.into_iter()
            .find(|f| f.name() == s || f.family() == s)
            .ok_or_else(|| {
                format!(
                    "unknown format '{s}'; expected one of: {}",
                    TARGETS
                        .iter()
                        .map(|f| f.family())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in TARGETS {
            assert_eq!(f.family().parse::<Format>().unwrap(), f);
        }
        assert_eq!(
            "telethon-sqlite-v8".parse::<Format>().unwrap(),
            Format::TelethonSqlite(8)
        );
        assert!("tdata".parse::<Format>().is_err());
    }
}
