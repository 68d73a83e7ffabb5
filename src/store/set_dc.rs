//! `set-dc`: moving a session to another DC entry (Telethon's `Session.set_dc`), checked
//! before anything is written.

use std::net::IpAddr;

use super::convert::{dropped_fields, infer_test_mode};
use super::error::{Result, StoreError};
use super::format::Format;
use super::model::Session;

/// Production DCs are 1 to 5; Telegram's test servers have DCs 1 to 3.
pub const PRODUCTION_DCS: std::ops::RangeInclusive<i32> = 1..=5;
pub const TEST_DCS: std::ops::RangeInclusive<i32> = 1..=3;

/// What `set-dc` was asked, as typed (checked by [`parse`]).
pub struct Request<'a> {
    pub dc: &'a str,
    pub address: &'a str,
    pub port: &'a str,
}

/// A checked request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DcTarget {
    pub dc: i32,
    pub address: IpAddr,
    pub port: u16,
}

fn bad(problem: String) -> StoreError {
    StoreError::invalid("set-dc", problem)
}

/// Checks the three arguments; `test` says whether the session is on the test servers.
pub fn parse(req: &Request<'_>, test: bool) -> Result<DcTarget> {
    let dc: i32 = req.dc.trim().parse().map_err(|_| {
        bad(format!(
            "'{}' is not a DC id: give a number from 1 to 5",
            req.dc.escape_debug()
        ))
    })?;
    let address: IpAddr = req.address.trim().parse().map_err(|_| {
        bad(format!(
            "'{}' is not an IPv4 or IPv6 address (for example 149.154.167.51 or 2001:67c:4e8:f002::a)",
            req.address.escape_debug()
        ))
    })?;
    let port = match req.port.trim().parse::<u16>() {
        Ok(p) if p > 0 => p,
        _ => {
            return Err(bad(format!(
                "'{}' is not a port: give a number from 1 to 65535",
                req.port.escape_debug()
            )));
        }
    };
    let test = test || super::dc_table::is_test_address(&address.to_string());
    let (range, servers) = if test {
        (TEST_DCS, "Telegram's test servers have")
    } else {
        (PRODUCTION_DCS, "Telegram has")
    };
    if !range.contains(&dc) {
        return Err(bad(format!(
            "DC {dc} does not exist: {servers} DCs {} to {}",
            range.start(),
            range.end()
        )));
    }
    Ok(DcTarget { dc, address, port })
}

/// Whether a session is on the test servers, as far as it says.
pub fn is_test(session: &Session) -> bool {
    session
        .test_mode
        .unwrap_or_else(|| infer_test_mode(session))
}

/// Makes `target` the home DC with the given address and port. The key goes with the home
/// entry, as Telethon's `set_dc` keeps it, unless the session already holds a key for that
/// DC. Returns notes for the user, including what `format` cannot store.
pub fn apply(session: &mut Session, target: DcTarget, format: Format) -> Vec<String> {
    let mut notes = Vec::new();
    let old = session.dc_id;
    if target.dc != old {
        let key = session.auth_key().cloned();
        session.dc_id = target.dc;
        let home = session.home_mut();
        if home.auth_key.is_none() && key.is_some() {
            home.auth_key = key;
            notes.push(format!(
                "the key made on DC {old} now stands for DC {}: Telegram accepts it only there if it was made there",
                target.dc
            ));
        }
    }
    let home = session.home_mut();
    home.ipv4 = None;
    home.ipv6 = None;
    match target.address {
        IpAddr::V4(a) => home.ipv4 = Some(a),
        IpAddr::V6(a) => home.ipv6 = Some(a),
    }
    home.port = Some(target.port);
    notes.extend(dropped_fields(session, format));
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::AuthKey;

    fn req<'a>(dc: &'a str, address: &'a str, port: &'a str) -> Request<'a> {
        Request { dc, address, port }
    }

    #[test]
    fn refuses_unknown_dcs_and_malformed_addresses() {
        for (dc, addr, port, test, says) in [
            ("0", "1.2.3.4", "443", false, "DC 0 does not exist"),
            ("6", "1.2.3.4", "443", false, "DCs 1 to 5"),
            ("203", "1.2.3.4", "443", false, "DC 203"),
            ("4", "1.2.3.4", "443", true, "test servers have DCs 1 to 3"),
            ("4", "149.154.167.40", "443", false, "test servers"),
            ("x", "1.2.3.4", "443", false, "not a DC id"),
            ("2", "1.2.3", "443", false, "not an IPv4 or IPv6"),
            ("2", "example.org", "443", false, "not an IPv4 or IPv6"),
            ("2", "1.2.3.4", "0", false, "not a port"),
            ("2", "1.2.3.4", "70000", false, "not a port"),
        ] {
            let err = parse(&req(dc, addr, port), test).unwrap_err().to_string();
            assert!(err.contains(says), "{dc} {addr} {port}: {err}");
        }
        let ok = parse(&req("5", "2001:b28:f23f:f005::a", "443"), false).unwrap();
        assert_eq!((ok.dc, ok.port), (5, 443));
    }

    #[test]
    fn key_follows_the_home_entry_unless_the_dc_has_its_own() {
        let mut s = Session::new(2);
        s.home_mut().auth_key = Some(AuthKey::new([7; 256]));
        let target = parse(&req("4", "127.0.0.1", "4444"), false).unwrap();
        let notes = apply(&mut s, target, Format::TelethonString);
        assert_eq!(s.dc_id, 4);
        assert_eq!(s.auth_key().unwrap().reveal()[0], 7);
        assert_eq!(s.home().unwrap().port, Some(4444));
        assert!(
            notes.iter().any(|n| n.contains("now stands for DC 4")),
            "{notes:?}"
        );

        s.dc_mut(1).auth_key = Some(AuthKey::new([9; 256]));
        let target = parse(&req("1", "::1", "1111"), false).unwrap();
        let notes = apply(&mut s, target, Format::TgsessString);
        assert_eq!(s.auth_key().unwrap().reveal()[0], 9);
        assert_eq!(s.home().unwrap().ipv4, None);
        assert!(notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn a_format_without_addresses_says_it_drops_them() {
        let mut s = Session::new(2);
        let target = parse(&req("2", "127.0.0.1", "4444"), false).unwrap();
        let notes = apply(
            &mut s,
            target,
            Format::PyrogramString(crate::store::PyrogramStringLayout::V2),
        );
        assert!(
            notes.iter().any(|n| n.contains("127.0.0.1 is dropped")),
            "{notes:?}"
        );
        assert!(
            notes.iter().any(|n| n.contains("port 4444 is dropped")),
            "{notes:?}"
        );
    }
}
