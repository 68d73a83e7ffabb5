//! Getting a session ready for a target format: filling what the target needs from the DC
//! table or the user's flags, and refusing (with the flag to pass) what cannot be guessed.

use std::net::IpAddr;

use super::dc_table;
use super::error::{Result, StoreError};
use super::format::{BackendKind, Format};
use super::model::Session;

/// Values the user passes on the command line to supply fields a source lacks.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub api_id: Option<i32>,
    pub user_id: Option<i64>,
    pub is_bot: Option<bool>,
    pub test_mode: Option<bool>,
    pub address: Option<IpAddr>,
    pub port: Option<u16>,
}

/// Whether the home address is one of Telegram's test DCs (how Telethon marks test sessions).
pub fn infer_test_mode(session: &Session) -> bool {
    session
        .home()
        .and_then(|h| h.address_text())
        .is_some_and(|a| dc_table::is_test_address(&a))
}

/// Applies the overrides, then fills and checks what `target` needs. Returns the session to
/// write and notes for the user about guesses made.
pub fn prepare(
    source: &Session,
    target: Format,
    overrides: &Overrides,
) -> Result<(Session, Vec<String>)> {
    let mut s = source.clone();
    let mut notes = Vec::new();
    if let Some(v) = overrides.api_id {
        s.api_id = Some(v);
    }
    if let Some(v) = overrides.user_id {
        s.user_id = Some(v);
    }
    if let Some(v) = overrides.is_bot {
        s.is_bot = Some(v);
    }
    if let Some(v) = overrides.test_mode {
        s.test_mode = Some(v);
    }
    if let Some(addr) = overrides.address {
        let home = s.home_mut();
        match addr {
            IpAddr::V4(a) => home.ipv4 = Some(a),
            IpAddr::V6(a) => home.ipv6 = Some(a),
        }
    }
    if let Some(p) = overrides.port {
        s.home_mut().port = Some(p);
    }
    if target.backend() == BackendKind::Memory {
        return Ok((s, notes));
    }
    if !s.has_key() && target != Format::TgsessSqlite && target != Format::TgsessString {
        return Err(StoreError::invalid(
            format!("writing {}", target.family()),
            "the session has no auth key (logged out or never logged in)",
        ));
    }
    let needs_address = matches!(target, Format::TelethonString | Format::TelethonSqlite(_));
    let wants_address = needs_address || matches!(target, Format::PyrogramSqlite(_));
    let home_has_address = s
        .home()
        .is_some_and(|h| h.ipv4.is_some() || h.ipv6.is_some());
    if wants_address && (!home_has_address || s.home().and_then(|h| h.port).is_none()) {
        let test = s.test_mode.unwrap_or_else(|| infer_test_mode(&s));
        match dc_table::lookup(s.dc_id, test) {
            Some(known) => {
                let home = s.home_mut();
                if home.ipv4.is_none() && home.ipv6.is_none() {
                    home.ipv4 = Some(known.ipv4);
                    notes.push(format!(
                        "address of DC {} taken from the {} DC table: {}",
                        s.dc_id,
                        if test { "test" } else { "production" },
                        known.ipv4
                    ));
                }
                let home = s.home_mut();
                if home.port.is_none() {
                    home.port = Some(known.port);
                }
            }
            None if needs_address => {
                return Err(StoreError::MissingField {
                    format: target.family_static(),
                    field: "server address (no known address for this DC)",
                    flag: "--address IP --port N",
                });
            }
            None => {}
        }
    }
    if matches!(
        target,
        Format::PyrogramString(_) | Format::PyrogramSqlite(_)
    ) {
        if s.api_id.is_none() {
            return Err(StoreError::MissingField {
                format: target.family_static(),
                field: "api_id",
                flag: "--api-id N",
            });
        }
        if s.user_id.is_none() {
            return Err(StoreError::MissingField {
                format: target.family_static(),
                field: "user id",
                flag: "--user-id N",
            });
        }
        if s.test_mode.is_none() {
            let test = infer_test_mode(&s);
            s.test_mode = Some(test);
            notes.push(format!(
                "test mode inferred from the server address: {test}"
            ));
        }
        if s.is_bot.is_none() {
            s.is_bot = Some(false);
            notes.push("the source does not say whether this is a bot; written as a user (pass --bot for a bot)".into());
        }
    }
    Ok((s, notes))
}

impl Format {
    pub(crate) fn family_static(self) -> &'static str {
        self.family()
    }
}
