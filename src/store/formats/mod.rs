//! One file per format, each with `read` and `write` (or `encode`/`decode` for strings).

pub mod b64;
pub mod pyrogram_sqlite;
pub mod pyrogram_string;
pub mod sqlite_detect;
pub mod telethon_sqlite;
pub mod telethon_string;
pub mod tgsess_sqlite;
pub mod tgsess_string;
