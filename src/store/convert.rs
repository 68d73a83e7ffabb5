//! Getting a session ready for a target format: filling what the target needs from the DC
//! table or the user's flags, and refusing (with the flag to pass) what cannot be guessed.

use std::net::IpAddr;

use super::dc_table;
use super::error::{Missing, Result, StoreError};
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
    if target == Format::Tdata {
        refuse_for_tdata(&s)?;
    }
    let mut missing = Vec::new();
    let needs_address = matches!(target, Format::TelethonString | Format::TelethonSqlite(_));
    let wants_address = target.carries().address;
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
            None if needs_address => missing.push(Missing {
                field: "server address (no known address for this DC)",
                flag: "--address IP --port N",
            }),
            None => {}
        }
    }
    if target.is_pyrogram() && s.api_id.is_none() {
        missing.push(Missing {
            field: "api_id",
            flag: "--api-id N",
        });
    }
    if (target.is_pyrogram() || target == Format::Tdata) && s.user_id.is_none() {
        missing.push(Missing {
            field: "user id",
            flag: "--user-id N",
        });
    }
    if !missing.is_empty() {
        return Err(StoreError::MissingFields {
            format: target.family_static(),
            missing,
        });
    }
    if target.is_pyrogram() {
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
    notes.extend(dropped_fields(&s, target));
    Ok((s, notes))
}

/// Telegram Desktop logs in users on the production servers only.
fn refuse_for_tdata(s: &Session) -> Result<()> {
    let problem = if s.is_bot == Some(true) {
        "the session is a bot's, and Telegram Desktop cannot hold bots"
    } else if s.test_mode == Some(true) || infer_test_mode(s) {
        "the session belongs to Telegram's test servers; tgsess writes tdata for production only"
    } else {
        return Ok(());
    };
    Err(StoreError::invalid("writing tdata", problem))
}

/// One `note:` per field of `s` that `target` cannot store, so nothing is lost silently.
pub fn dropped_fields(s: &Session, target: Format) -> Vec<String> {
    let keeps = target.carries();
    let name = target.family();
    let mut notes = Vec::new();
    if let Some(home) = s.home() {
        let both = home.ipv4.is_some() && home.ipv6.is_some();
        if !keeps.address
            && let Some(addr) = home.address_text()
        {
            notes.push(format!(
                "{name} stores no server address: {addr} is dropped (the client uses its DC table)"
            ));
        } else if both
            && !keeps.both_addresses
            && let Some(v6) = home.ipv6
        {
            notes.push(format!(
                "{name} stores one address: the IPv6 address {v6} is dropped"
            ));
        }
        if !keeps.port
            && let Some(port) = home.port
        {
            notes.push(format!("{name} stores no port: port {port} is dropped"));
        }
    }
    let fields = [
        (keeps.user_id, s.user_id.map(|v| v.to_string()), "user id"),
        (keeps.is_bot, s.is_bot.map(|v| v.to_string()), "bot flag"),
        (keeps.api_id, s.api_id.map(|v| v.to_string()), "api_id"),
        (
            keeps.test_mode,
            s.test_mode.map(|v| v.to_string()),
            "test-mode flag",
        ),
    ];
    for (kept, value, field) in fields {
        if !kept && let Some(value) = value {
            notes.push(format!("{name} stores no {field}: {value} is dropped"));
        }
    }
    let others: Vec<String> = s
        .dcs
        .iter()
        .filter(|d| d.id != s.dc_id && d.auth_key.is_some())
        .map(|d| d.id.to_string())
        .collect();
    if !keeps.other_dcs && !others.is_empty() {
        notes.push(format!(
            "{name} stores only the home DC's key: the keys of DC {} are dropped",
            others.join(", ")
        ));
    }
    if !keeps.account_info && s.user.as_ref().is_some_and(|u| !u.is_empty()) {
        notes.push(format!(
            "{name} stores no account name, username or phone: they are dropped"
        ));
    }
    notes
}

impl Format {
    pub(crate) fn family_static(self) -> &'static str {
        self.family()
    }
}
