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
    /// Pyrogram-family SQLite in kurigram's line of schemas (2 to 7; 3 is Pyrogram 2.0's).
    PyrogramSqlite(u8),
    /// pyrofork's own schema 4 (peers keep `username`, `usernames` is keyed by name).
    PyroforkSqlite,
    /// A Telegram Desktop `tdata` folder (one account of it).
    Tdata,
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
    /// A folder of files (Telegram Desktop's tdata).
    Folder,
    Memory,
}

impl BackendKind {
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::String => "string",
            BackendKind::Folder => "folder",
            BackendKind::Memory => "memory",
        }
    }
}

/// The single-file formats `convert --to` accepts: each one a writer. (`tdata`, a folder, is
/// the other target.)
pub const TARGETS: [Format; 6] = [
    Format::TgsessString,
    Format::TelethonString,
    Format::PyrogramString(PyrogramStringLayout::V2),
    Format::TgsessSqlite,
    Format::TelethonSqlite(7),
    Format::PyrogramSqlite(3),
];

/// The Pyrogram SQLite flavours tgsess writes, with the names `--to` accepts for each and who
/// reads them. Schema 3 is the default: Pyrogram 2.0 reads it as it is, and kurigram,
/// irenogram and pyrofork each migrate it to their own schema on open. Schema 7 keeps the
/// address but only kurigram and irenogram read it; pyrofork's 4 only pyrofork and Pyrogram.
pub const PYROGRAM_SQLITE_FLAVOURS: [(Format, &[&str], &str); 3] = [
    (
        Format::PyrogramSqlite(3),
        &["pyrogram-sqlite", "pyrogram-sqlite-v3"],
        "every Pyrogram fork (no address)",
    ),
    (
        Format::PyrogramSqlite(7),
        &["pyrogram-sqlite-v7", "kurigram-sqlite", "irenogram-sqlite"],
        "kurigram and irenogram",
    ),
    (
        Format::PyroforkSqlite,
        &["pyrofork-sqlite", "pyrofork-sqlite-v4"],
        "pyrofork and Pyrogram 2.0",
    ),
];

/// Which fields of the session model a format stores (what a conversion keeps).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Carries {
    /// One server address for the home DC.
    pub address: bool,
    /// Both an IPv4 and an IPv6 address (else only one of them).
    pub both_addresses: bool,
    pub port: bool,
    pub user_id: bool,
    pub is_bot: bool,
    pub api_id: bool,
    pub test_mode: bool,
    /// Keys of DCs other than the home DC.
    pub other_dcs: bool,
    /// The cached name, username and phone.
    pub account_info: bool,
}

impl Format {
    /// What this format stores (session-formats spec; README's format table).
    pub fn carries(self) -> Carries {
        let all = Carries {
            address: true,
            both_addresses: true,
            port: true,
            user_id: true,
            is_bot: true,
            api_id: true,
            test_mode: true,
            other_dcs: true,
            account_info: true,
        };
        let pyrogram = Carries {
            user_id: true,
            is_bot: true,
            api_id: true,
            test_mode: true,
            ..Carries::default()
        };
        match self {
            Format::TgsessString | Format::TgsessSqlite | Format::Memory => all,
            Format::TelethonString => Carries {
                address: true,
                port: true,
                ..Carries::default()
            },
            Format::TelethonSqlite(_) => Carries {
                address: true,
                port: true,
                user_id: true,
                ..Carries::default()
            },
            Format::PyrogramString(PyrogramStringLayout::V2) => pyrogram,
            Format::PyrogramString(_) | Format::PyrogramSqlite(2) => Carries {
                api_id: false,
                ..pyrogram
            },
            Format::PyrogramSqlite(7..) => Carries {
                address: true,
                port: true,
                ..pyrogram
            },
            Format::PyrogramSqlite(_) | Format::PyroforkSqlite => pyrogram,
            Format::Tdata => Carries {
                user_id: true,
                other_dcs: true,
                ..Carries::default()
            },
        }
    }

    pub fn backend(self) -> BackendKind {
        match self {
            Format::TgsessString | Format::TelethonString | Format::PyrogramString(_) => {
                BackendKind::String
            }
            Format::TgsessSqlite
            | Format::TelethonSqlite(_)
            | Format::PyrogramSqlite(_)
            | Format::PyroforkSqlite => BackendKind::Sqlite,
            Format::Tdata => BackendKind::Folder,
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
            Format::PyrogramSqlite(4) => "pyrogram-sqlite-v4",
            Format::PyrogramSqlite(5) => "pyrogram-sqlite-v5",
            Format::PyrogramSqlite(6) => "pyrogram-sqlite-v6",
            Format::PyrogramSqlite(_) => "pyrogram-sqlite-v7",
            Format::PyroforkSqlite => "pyrofork-sqlite-v4",
            Format::Tdata => "tdata",
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
            Format::PyrogramSqlite(_) | Format::PyroforkSqlite => "pyrogram-sqlite",
            Format::Tdata => "tdata",
            Format::Memory => "memory",
        }
    }

    /// Whether a Pyrogram-family client reads this format.
    pub fn is_pyrogram(self) -> bool {
        matches!(
            self,
            Format::PyrogramString(_) | Format::PyrogramSqlite(_) | Format::PyroforkSqlite
        )
    }

    /// The format a writer of this family produces (Telethon schema 7 for the widest reach;
    /// a Pyrogram file keeps the flavour its readers open).
    pub fn writer(self) -> Format {
        match self {
            Format::TelethonSqlite(_) => Format::TelethonSqlite(7),
            Format::PyrogramSqlite(2 | 3) => Format::PyrogramSqlite(3),
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

    /// Accepts family names (`telethon-sqlite`), exact names (`telethon-sqlite-v8`) and the
    /// Pyrogram SQLite flavour names (`pyrofork-sqlite`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some((format, _, _)) = PYROGRAM_SQLITE_FLAVOURS
            .iter()
            .find(|(_, names, _)| names.contains(&s))
        {
            return Ok(*format);
        }
        let all = [
            Format::TgsessString,
            Format::TgsessSqlite,
            Format::TelethonString,
            Format::TelethonSqlite(7),
            Format::TelethonSqlite(8),
            Format::PyrogramString(PyrogramStringLayout::V2),
            Format::Tdata,
            Format::Memory,
        ];
        all.into_iter()
            .find(|f| f.name() == s || f.family() == s)
            .ok_or_else(|| {
                let flavours = PYROGRAM_SQLITE_FLAVOURS
                    .iter()
                    .map(|(_, names, readers)| format!("{} ({readers})", names.join(" = ")))
                    .collect::<Vec<_>>()
                    .join("; ");
                format!(
                    "unknown format '{s}'; expected one of: {}, tdata; Pyrogram SQLite flavours: {flavours}",
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
        assert_eq!("tdata".parse::<Format>().unwrap(), Format::Tdata);
        assert!("tdata-v2".parse::<Format>().is_err());
    }

    #[test]
    fn pyrogram_flavours_have_names_per_fork() {
        assert_eq!(
            "pyrogram-sqlite".parse::<Format>().unwrap(),
            Format::PyrogramSqlite(3)
        );
        assert_eq!(
            "kurigram-sqlite".parse::<Format>().unwrap(),
            Format::PyrogramSqlite(7)
        );
        assert_eq!(
            "pyrofork-sqlite".parse::<Format>().unwrap(),
            Format::PyroforkSqlite
        );
        for (format, names, _) in PYROGRAM_SQLITE_FLAVOURS {
            assert_eq!(format.writer(), format, "{names:?}");
            assert!(names.contains(&format.name()), "{names:?}");
        }
        // Every schema has its own name; pyrofork's 4 is not kurigram's 4.
        let names: Vec<_> = (2..=7)
            .map(|v| Format::PyrogramSqlite(v).name())
            .chain([Format::PyroforkSqlite.name()])
            .collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }
}
