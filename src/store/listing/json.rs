//! `list --json` rows, written as they come: the same text `serde_json::to_string_pretty`
//! gives for the whole array of `inspect`'s objects (keys in sorted order), without building
//! that array.

use std::io::{self, Write};

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{DcInfo, Info, Summary};

impl Serialize for Summary {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let backend = self.backend.name();
        let path = self.path.display().to_string();
        let Ok(info) = &self.info else {
            let mut m = s.serialize_map(Some(4))?;
            m.serialize_entry("backend", backend)?;
            m.serialize_entry("error", &self.info.as_ref().err())?;
            m.serialize_entry("name", &self.name)?;
            m.serialize_entry("path", &path)?;
            return m.end();
        };
        // Sorted, as serde_json's map without preserve_order prints `inspect`'s object.
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("api_id", &info.api_id)?;
        m.serialize_entry("auth_key_id_hex", &info.auth_key_id_hex())?;
        m.serialize_entry("backend", backend)?;
        m.serialize_entry("dc_id", &info.dc_id)?;
        m.serialize_entry("dcs", &info.dcs)?;
        m.serialize_entry("error", &None::<&str>)?;
        m.serialize_entry("first_name", &info.first_name)?;
        m.serialize_entry("format", info.format.name())?;
        m.serialize_entry("is_bot", &info.is_bot)?;
        m.serialize_entry("last_name", &info.last_name)?;
        m.serialize_entry("name", &self.name)?;
        m.serialize_entry("path", &path)?;
        m.serialize_entry("phone", &info.phone)?;
        m.serialize_entry("port", &info.port())?;
        if let Some(readable) = info.readable_by_others {
            m.serialize_entry("readable_by_others", &readable)?;
        }
        m.serialize_entry("server_address", &info.server_address())?;
        m.serialize_entry("test_mode", &info.test_mode)?;
        m.serialize_entry("user_id", &info.user_id)?;
        m.serialize_entry("username", &info.username)?;
        m.end()
    }
}

impl Serialize for DcInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("auth_key_id_hex", &self.key_id.map(hex::encode))?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("ipv4", &self.ipv4.map(|a| a.to_string()))?;
        m.serialize_entry("ipv6", &self.ipv6.map(|a| a.to_string()))?;
        m.serialize_entry("port", &self.port)?;
        m.end()
    }
}

/// Writes rows as one pretty-printed JSON array, a row at a time.
#[derive(Default)]
pub struct JsonArray {
    started: bool,
    scratch: Vec<u8>,
}

impl JsonArray {
    pub fn row(&mut self, out: &mut (impl Write + ?Sized), row: &Summary) -> io::Result<()> {
        self.scratch.clear();
        serde_json::to_writer_pretty(&mut self.scratch, row)?;
        out.write_all(if self.started { b",\n  " } else { b"[\n  " })?;
        self.started = true;
        // One level deeper: strings escape their newlines, so each raw one starts a line.
        let mut lines = self.scratch.split(|&b| b == b'\n');
        if let Some(first) = lines.next() {
            out.write_all(first)?;
        }
        for line in lines {
            out.write_all(b"\n  ")?;
            out.write_all(line)?;
        }
        Ok(())
    }

    /// Closes the array (no newline after it).
    pub fn finish(self, out: &mut (impl Write + ?Sized)) -> io::Result<()> {
        out.write_all(if self.started { b"\n]" } else { b"[]" })
    }
}

/// Info fields shown by the plain `list` table, as `list` has always shown them.
impl Info {
    /// "First Last" from the names that are set, else "@username", else "".
    pub fn account_label(&self) -> String {
        let names = [&self.first_name, &self.last_name]
            .into_iter()
            .filter_map(|n| n.as_deref())
            .collect::<Vec<_>>()
            .join(" ");
        if names.is_empty() {
            self.username
                .as_deref()
                .map(|u| format!("@{u}"))
                .unwrap_or_default()
        } else {
            names
        }
    }
}
