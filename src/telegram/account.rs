//! One-call account operations: who am I, log out, devices, terminate, set DC.

use std::net::IpAddr;

use grammers_tl_types as tl;

use super::connection::Connection;
use super::error::TgError;
use super::types::{Device, Me};
use crate::secret::AuthKey;
use crate::store::adapter::{Backend, StoredSession};
use crate::store::{self, Format};

/// The logged-in account (`users.getUsers([inputUserSelf])`); refreshes the cached names.
pub async fn whoami(conn: &Connection) -> Result<Me, TgError> {
    let users = conn
        .invoke(&tl::functions::users::GetUsers {
            id: vec![tl::enums::InputUser::UserSelf],
        })
        .await?;
    let me = users
        .iter()
        .find_map(Me::from_user)
        .ok_or_else(|| TgError::unexpected("users.getUsers returned no user"))?;
    conn.remember_me(&me).await?;
    Ok(me)
}

/// Whether the session's key is logged in (updates.getState; any 401 means no).
pub async fn is_authorized(conn: &Connection) -> Result<bool, TgError> {
    match conn.invoke(&tl::functions::updates::GetState {}).await {
        Ok(_) => Ok(true),
        Err(e) => match TgError::from(e) {
            TgError::NotAuthorized | TgError::PasswordRequired => Ok(false),
            other => Err(other),
        },
    }
}

/// Logs out (auth.logOut) and removes the keys from the stored session, in its own format.
/// A session that was already logged out on the server is cleaned up the same way.
pub async fn logout(conn: &Connection) -> Result<(), TgError> {
    match conn.invoke(&tl::functions::auth::LogOut {}).await {
        Ok(_) => {}
        Err(e) => match TgError::from(e) {
            TgError::NotAuthorized => {}
            other => return Err(other),
        },
    }
    forget_login(conn.session())
}

/// Removes keys and identity from a stored session. Formats that cannot store "no key"
/// (Telethon and Pyrogram strings) get an all-zero key, which Telethon reads as no key.
pub fn forget_login(stored: &StoredSession) -> Result<(), TgError> {
    let before = stored.snapshot();
    stored.update(|s| {
        s.clear_keys();
        s.user_id = None;
        s.user = None;
    })?;
    if !stored.has_pending_write() {
        return Ok(());
    }
    let Backend::File { path, format } = stored.backend() else {
        return Ok(());
    };
    let mut keyless = stored.snapshot();
    match format {
        Format::PyrogramSqlite(_) => {
            keyless.is_bot.get_or_insert(false);
            keyless.test_mode.get_or_insert(false);
        }
        Format::TelethonString | Format::PyrogramString(_) => {
            // The string must carry a key and (Pyrogram) a user id.
            keyless.home_mut().auth_key = Some(AuthKey::new([0; 256]));
            keyless.user_id = before.user_id;
            keyless.is_bot.get_or_insert(false);
            keyless.test_mode.get_or_insert(false);
        }
        _ => {}
    }
    store::write_file(path, &keyless, *format)?;
    Ok(())
}

/// The account's logged-in devices.
pub async fn authorizations(conn: &Connection) -> Result<Vec<Device>, TgError> {
    let tl::enums::account::Authorizations::Authorizations(list) = conn
        .invoke(&tl::functions::account::GetAuthorizations {})
        .await?;
    Ok(list
        .authorizations
        .into_iter()
        .map(Device::from_tl)
        .collect())
}

/// Logs out one other device by its hash (from [`authorizations`]).
pub async fn terminate(conn: &Connection, hash: i64) -> Result<(), TgError> {
    conn.invoke(&tl::functions::account::ResetAuthorization { hash })
        .await?;
    Ok(())
}

/// Logs out every device but this one.
pub async fn terminate_others(conn: &Connection) -> Result<(), TgError> {
    conn.invoke(&tl::functions::auth::ResetAuthorizations {})
        .await?;
    Ok(())
}

/// Moves the session's home DC to `dc_id` at `address:port` (Telethon's `set_dc`). The key of
/// that DC, if the session has one, is kept. No network.
pub fn set_dc(
    stored: &StoredSession,
    dc_id: i32,
    address: IpAddr,
    port: u16,
) -> Result<(), TgError> {
    if dc_id <= 0 {
        return Err(TgError::Config(format!("invalid DC id {dc_id}")));
    }
    stored.update(|s| {
        s.dc_id = dc_id;
        let dc = s.dc_mut(dc_id);
        match address {
            IpAddr::V4(a) => dc.ipv4 = Some(a),
            IpAddr::V6(a) => dc.ipv6 = Some(a),
        }
        dc.port = Some(port);
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Session;

    fn logged_in() -> Session {
        let mut s = Session::new(2);
        let home = s.home_mut();
        home.ipv4 = Some("127.0.0.1".parse().unwrap());
        home.port = Some(4430);
        home.auth_key = Some(AuthKey::new([3; 256]));
        s.user_id = Some(77);
        s.api_id = Some(1);
        s.is_bot = Some(false);
        s.test_mode = Some(false);
        s
    }

    fn round_trip(format: Format, ext: &str) -> store::Loaded {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("a.{ext}"));
        store::write_file(&path, &logged_in(), format).unwrap();
        let stored = StoredSession::open(&path).unwrap();
        forget_login(&stored).unwrap();
        store::read_file(&path).unwrap()
    }

    #[test]
    fn forget_login_leaves_a_keyless_file_in_each_format() {
        for (format, ext) in [
            (Format::TgsessSqlite, "session"),
            (Format::TelethonSqlite(7), "session"),
            (Format::PyrogramSqlite(7), "session"),
            (Format::TelethonString, "string"),
            (Format::TgsessString, "string"),
        ] {
            let loaded = round_trip(format, ext);
            assert_eq!(loaded.format.family(), format.family());
            assert!(!loaded.session.has_key(), "{format}");
        }
    }

    #[test]
    fn pyrogram_string_keeps_its_user_id_and_gets_a_zero_key() {
        let loaded = round_trip(
            Format::PyrogramString(store::PyrogramStringLayout::V2),
            "string",
        );
        assert_eq!(loaded.session.user_id, Some(77));
        assert!(loaded.session.auth_key().unwrap().is_all_zero());
    }

    #[test]
    fn set_dc_moves_home_and_keeps_keys() {
        let stored = StoredSession::new(logged_in(), Backend::Memory);
        set_dc(&stored, 4, "127.0.0.2".parse().unwrap(), 9999).unwrap();
        let s = stored.snapshot();
        assert_eq!(s.dc_id, 4);
        assert_eq!(s.home().unwrap().port, Some(9999));
        assert!(s.dc(2).unwrap().auth_key.is_some());
        assert!(set_dc(&stored, 0, "127.0.0.1".parse().unwrap(), 1).is_err());
    }
}
