//! Pyrogram-family strings: base64url without padding; the layout is chosen by the text
//! length alone (351 old32, 356 old64, anything else the current "v2").

use super::b64;
use crate::secret::AuthKey;
use crate::store::format::PyrogramStringLayout;
use crate::store::model::Session;

pub const OLD32_LEN: usize = 351;
pub const OLD64_LEN: usize = 356;
pub const V2_LEN: usize = 362;

pub fn layout_for_len(len: usize) -> PyrogramStringLayout {
    match len {
        OLD32_LEN => PyrogramStringLayout::Old32,
        OLD64_LEN => PyrogramStringLayout::Old64,
        _ => PyrogramStringLayout::V2,
    }
}

pub fn looks_like(text: &str) -> bool {
    // A padded v2 string (364) still parses in Python, so accept it too. No length overlaps
    // Telethon's (353, 369), so the first character does not matter.
    matches!(text.len(), OLD32_LEN | OLD64_LEN | V2_LEN | 364)
}

pub fn decode(text: &str) -> Result<(PyrogramStringLayout, Session), String> {
    let layout = layout_for_len(text.len());
    let bytes = b64::decode_any(text)?;
    let expected = match layout {
        PyrogramStringLayout::Old32 => 263,
        PyrogramStringLayout::Old64 => 267,
        PyrogramStringLayout::V2 => 271,
    };
    if bytes.len() != expected {
        return Err(format!(
            "a Pyrogram string of this length holds {expected} bytes, this one {}",
            bytes.len()
        ));
    }
    let flag = |b: u8, what: &str| match b {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(format!("the {what} flag is {b}, not 0 or 1")),
    };
    let dc_id = bytes[0] as i32;
    if dc_id == 0 {
        return Err("DC id 0 is not a datacenter".into());
    }
    let mut session = Session::new(dc_id);
    let (key_at, user_at) = match layout {
        PyrogramStringLayout::V2 => {
            session.api_id = Some(u32::from_be_bytes(bytes[1..5].try_into().unwrap()) as i32);
            session.test_mode = Some(flag(bytes[5], "test mode")?);
            (6, 262)
        }
        _ => {
            session.test_mode = Some(flag(bytes[1], "test mode")?);
            (2, 258)
        }
    };
    // An all-zero key is how a logged-out session is written (see `encode`).
    session.home_mut().auth_key =
        AuthKey::from_slice(&bytes[key_at..key_at + 256]).filter(|k| !k.is_all_zero());
    session.user_id = Some(match layout {
        PyrogramStringLayout::Old32 => {
            u32::from_be_bytes(bytes[user_at..user_at + 4].try_into().unwrap()) as i64
        }
        _ => u64::from_be_bytes(bytes[user_at..user_at + 8].try_into().unwrap()) as i64,
    });
    session.is_bot = Some(flag(*bytes.last().unwrap(), "bot")?);
    Ok((layout, session))
}

/// Writes the current layout. Every field it carries must be known, except the key: a
/// logged-out session is written with an all-zero key, as the string has no "no key" value.
pub fn encode(session: &Session) -> Result<String, String> {
    let dc = u8::try_from(session.dc_id).map_err(|_| "the DC id does not fit in one byte")?;
    let api_id = session.api_id.ok_or("api_id")?;
    let user_id = session.user_id.ok_or("user_id")?;
    let zero = AuthKey::new([0; 256]);
    let key = session.auth_key().unwrap_or(&zero);
    let mut bytes = Vec::with_capacity(271);
    bytes.push(dc);
    bytes.extend_from_slice(&(api_id as u32).to_be_bytes());
    bytes.push(session.test_mode.unwrap_or(false) as u8);
    bytes.extend_from_slice(key.reveal());
    bytes.extend_from_slice(&(user_id as u64).to_be_bytes());
    bytes.push(session.is_bot.unwrap_or(false) as u8);
    Ok(b64::encode_url_unpadded(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pyrogram 1.x "old32" string: dc, test flag, key, u32 user id, bot flag.
    fn old32(dc: u8, test: u8, key: u8, user: u32, bot: u8) -> String {
        let mut payload = vec![dc, test];
        payload.extend([key; 256]);
        payload.extend(user.to_be_bytes());
        payload.push(bot);
        b64::encode_url_unpadded(&payload)
    }

    #[test]
    fn old32_layout_reads_every_field_and_no_api_id() {
        let text = old32(4, 1, 9, 2_147_483_000, 1);
        assert_eq!(text.len(), OLD32_LEN);
        let (layout, s) = decode(&text).unwrap();
        assert_eq!(layout, PyrogramStringLayout::Old32);
        assert_eq!(
            (s.dc_id, s.test_mode, s.user_id, s.is_bot, s.api_id),
            (4, Some(true), Some(2_147_483_000), Some(true), None)
        );
        assert_eq!(s.auth_key().unwrap().reveal(), &[9; 256]);
    }

    #[test]
    fn a_padded_old32_string_is_refused_like_pyrogram_does() {
        // Padding makes it 352 characters, which Pyrogram routes to the current layout.
        let padded = format!("{}=", old32(2, 0, 1, 5, 0));
        assert!(decode(&padded).is_err());
    }
}
