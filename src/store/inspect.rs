//! What `inspect` and `list --json` show. Field names are those of the fixtures' manifest.
//! The auth key appears only as its key id unless the caller asks to reveal it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::{Value, json};

use super::Loaded;
use crate::fsutil;

pub fn to_json(loaded: &Loaded, reveal: bool) -> Value {
    let s = &loaded.session;
    let home = s.home();
    let key = s.auth_key();
    let mut obj = json!({
        "format": loaded.format.name(),
        "backend": loaded.format.backend().name(),
        "dc_id": s.dc_id,
        "server_address": home.and_then(|h| h.address_text()),
        "port": home.and_then(|h| h.port),
        "user_id": s.user_id,
        "is_bot": s.is_bot,
        "api_id": s.api_id,
        "test_mode": s.test_mode,
        "auth_key_id_hex": key.map(|k| k.key_id_hex()),
    });
    let map = obj.as_object_mut().expect("built as an object");
    if reveal {
        map.insert(
            "auth_key_hex".into(),
            json!(key.map(|k| hex::encode(k.reveal()))),
        );
    }
    let user = s.user.clone().unwrap_or_default();
    map.insert("first_name".into(), json!(user.first_name));
    map.insert("last_name".into(), json!(user.last_name));
    map.insert("username".into(), json!(user.username));
    map.insert("phone".into(), json!(user.phone));
    let dcs: Vec<Value> = s
        .dcs
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "ipv4": d.ipv4.map(|a| a.to_string()),
                "ipv6": d.ipv6.map(|a| a.to_string()),
                "port": d.port,
                "auth_key_id_hex": d.auth_key.as_ref().map(|k| k.key_id_hex()),
            })
        })
        .collect();
    map.insert("dcs".into(), Value::Array(dcs));
    obj
}

/// [`to_json`] of a session read from `path`, plus `readable_by_others`: whether group or
/// other users may read the file (and so its key).
pub fn file_json(path: &Path, loaded: &Loaded, reveal: bool) -> Value {
    let mut obj = to_json(loaded, reveal);
    obj.as_object_mut().expect("built as an object").insert(
        "readable_by_others".into(),
        json!(readable_mode(path).is_some()),
    );
    obj
}

/// The file's permission bits if group or others may read it.
pub fn readable_mode(path: &Path) -> Option<u32> {
    let meta = std::fs::metadata(path).ok()?;
    fsutil::readable_by_others(&meta).then(|| meta.permissions().mode() & 0o777)
}

/// The warning people see about a session file that others can read, if it is one.
pub fn exposure_warning(path: &Path) -> Option<String> {
    readable_mode(path).map(|mode| {
        format!(
            "{} is readable by other users (mode {mode:o}): anyone who can read it can use the account; run `chmod 600 {}`",
            path.display(),
            path.display()
        )
    })
}

/// The fields shown to people (`inspect` without `--json`, the TUI's detail pane), in order.
pub const TEXT_FIELDS: [&str; 14] = [
    "format",
    "backend",
    "dc_id",
    "server_address",
    "port",
    "user_id",
    "is_bot",
    "api_id",
    "test_mode",
    "first_name",
    "last_name",
    "username",
    "phone",
    "auth_key_id_hex",
];

/// The same fields as aligned text, for people.
pub fn to_text(loaded: &Loaded, reveal: bool) -> String {
    let v = to_json(loaded, reveal);
    let show = |k: &str| match &v[k] {
        Value::Null => "-".to_string(),
        // Names come from the file: never let them reach a terminal raw.
        Value::String(s) => crate::text::clean(s),
        other => other.to_string(),
    };
    let mut out = String::new();
    for k in TEXT_FIELDS {
        out.push_str(&format!("{k:<16} {}\n", show(k)));
    }
    if reveal {
        out.push_str(&format!(
            "{:<16} {}\n",
            "auth_key_hex",
            show("auth_key_hex")
        ));
    }
    for d in v["dcs"].as_array().into_iter().flatten() {
        let addr = [&d["ipv4"], &d["ipv6"]]
            .into_iter()
            .filter_map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        out.push_str(&format!(
            "dc {:<13} {} port {} key {}\n",
            d["id"],
            if addr.is_empty() { "-" } else { &addr },
            d["port"]
                .as_u64()
                .map(|p| p.to_string())
                .unwrap_or("-".into()),
            d["auth_key_id_hex"].as_str().unwrap_or("-"),
        ));
    }
    out
}
