//! Telethon StringSession: '1' + base64url(dc u8, packed IP (4 or 16), port u16 BE, key 256),
//! padding kept. The text length decides IPv4 (353) or IPv6 (369).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::b64;
use crate::secret::AuthKey;
use crate::store::model::Session;

pub const IPV4_LEN: usize = 353;
pub const IPV6_LEN: usize = 369;

pub fn looks_like(text: &str) -> bool {
    text.starts_with('1') && (text.len() == IPV4_LEN || text.len() == IPV6_LEN)
}

pub fn decode(text: &str) -> Result<Session, String> {
    let body = text
        .strip_prefix('1')
        .ok_or("a Telethon string starts with '1'")?;
    let bytes = b64::decode_any(body)?;
    let ip_len = match bytes.len() {
        263 => 4,
        275 => 16,
        n => {
            return Err(format!(
                "a Telethon string holds 263 or 275 bytes, this one {n}"
            ));
        }
    };
    let dc_id = bytes[0] as i32;
    if dc_id == 0 {
        return Err("DC id 0 is not a datacenter".into());
    }
    let port = u16::from_be_bytes([bytes[1 + ip_len], bytes[2 + ip_len]]);
    let key = AuthKey::from_slice(&bytes[3 + ip_len..]).expect("length checked above");
    let mut session = Session::new(dc_id);
    let home = session.home_mut();
    if ip_len == 4 {
        let ip: [u8; 4] = bytes[1..5].try_into().unwrap();
        home.ipv4 = Some(Ipv4Addr::from(ip));
    } else {
        let ip: [u8; 16] = bytes[1..17].try_into().unwrap();
        home.ipv6 = Some(Ipv6Addr::from(ip));
    }
    home.port = Some(port);
    // Telethon treats an all-zero key as no key.
    home.auth_key = (!key.is_all_zero()).then_some(key);
    Ok(session)
}

/// Encodes the home DC. The caller has filled in the address (see `convert`). A session with
/// no key gets an all-zero key, which Telethon itself reads as "no key".
pub fn encode(session: &Session) -> Result<String, String> {
    let home = session.home().ok_or("the session has no home DC entry")?;
    let dc = u8::try_from(session.dc_id).map_err(|_| "the DC id does not fit in one byte")?;
    let port = home.port.ok_or("the session has no port")?;
    let zero = AuthKey::new([0; 256]);
    let key = home.auth_key.as_ref().unwrap_or(&zero);
    let mut bytes = Vec::with_capacity(275);
    bytes.push(dc);
    match (home.ipv4, home.ipv6) {
        (Some(v4), _) => bytes.extend_from_slice(&v4.octets()),
        (None, Some(v6)) => bytes.extend_from_slice(&v6.octets()),
        (None, None) => return Err("the session has no server address".into()),
    }
    bytes.extend_from_slice(&port.to_be_bytes());
    bytes.extend_from_slice(key.reveal());
    let mut text = String::with_capacity(IPV6_LEN);
    text.push('1');
    text.push_str(&b64::encode_url_padded(&bytes));
    Ok(text)
}
