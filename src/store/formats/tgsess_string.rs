//! tgsess's own string: `tgsess:1:` + base64url (no padding) of a payload that carries every
//! field of the session model, followed by a CRC-32 of the payload so a mangled paste is caught.
//!
//! Payload (big-endian):
//! ```text
//! i32 home dc | u8 presence flags (1 user_id, 2 is_bot, 4 api_id, 8 test_mode, 16 self user)
//! [i64 user_id] [u8 is_bot] [i32 api_id] [u8 test_mode]
//! u8 dc count, then per dc: i32 id | u8 flags (1 ipv4, 2 ipv6, 4 port, 8 key) | [4] | [16] | [u16] | [256]
//! [self user: u8 flags (1 first, 2 last, 4 username, 8 phone), each as u16 length + UTF-8]
//! u32 CRC-32 of everything before it
//! ```

use std::net::{Ipv4Addr, Ipv6Addr};

use super::b64;
use crate::secret::AuthKey;
use crate::store::model::{DcEntry, SelfUser, Session};

pub const PREFIX: &str = "tgsess:1:";

pub fn looks_like(text: &str) -> bool {
    text.starts_with("tgsess:")
}

pub fn encode(session: &Session) -> Result<String, String> {
    let mut out = Vec::with_capacity(320);
    out.extend_from_slice(&session.dc_id.to_be_bytes());
    let user = session.user.as_ref().filter(|u| !u.is_empty());
    let flags = (session.user_id.is_some() as u8)
        | (session.is_bot.is_some() as u8) << 1
        | (session.api_id.is_some() as u8) << 2
        | (session.test_mode.is_some() as u8) << 3
        | (user.is_some() as u8) << 4;
    out.push(flags);
    if let Some(v) = session.user_id {
        out.extend_from_slice(&v.to_be_bytes());
    }
    if let Some(v) = session.is_bot {
        out.push(v as u8);
    }
    if let Some(v) = session.api_id {
        out.extend_from_slice(&v.to_be_bytes());
    }
    if let Some(v) = session.test_mode {
        out.push(v as u8);
    }
    let count = u8::try_from(session.dcs.len()).map_err(|_| "too many DC entries")?;
    out.push(count);
    for dc in &session.dcs {
        out.extend_from_slice(&dc.id.to_be_bytes());
        let f = (dc.ipv4.is_some() as u8)
            | (dc.ipv6.is_some() as u8) << 1
            | (dc.port.is_some() as u8) << 2
            | (dc.auth_key.is_some() as u8) << 3;
        out.push(f);
        if let Some(a) = dc.ipv4 {
            out.extend_from_slice(&a.octets());
        }
        if let Some(a) = dc.ipv6 {
            out.extend_from_slice(&a.octets());
        }
        if let Some(p) = dc.port {
            out.extend_from_slice(&p.to_be_bytes());
        }
        if let Some(k) = &dc.auth_key {
            out.extend_from_slice(k.reveal());
        }
    }
    if let Some(u) = user {
        let fields = [&u.first_name, &u.last_name, &u.username, &u.phone];
        let f = fields
            .iter()
            .enumerate()
            .fold(0u8, |acc, (i, v)| acc | ((v.is_some() as u8) << i));
        out.push(f);
        for s in fields.into_iter().flatten() {
            let len = u16::try_from(s.len()).map_err(|_| "a name is too long")?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    Ok(format!("{PREFIX}{}", b64::encode_url_unpadded(&out)))
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len());
        let end = end.ok_or("the payload ends too early")?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn bool(&mut self) -> Result<bool, String> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("a flag byte is {b}, not 0 or 1")),
        }
    }
    fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn text(&mut self) -> Result<String, String> {
        let len = u16::from_be_bytes(self.take(2)?.try_into().unwrap()) as usize;
        String::from_utf8(self.take(len)?.to_vec()).map_err(|_| "a name is not UTF-8".into())
    }
}

pub fn decode(text: &str) -> Result<Session, String> {
    let body = match text.strip_prefix(PREFIX) {
        Some(body) => body,
        None if looks_like(text) => {
            return Err("this tgsess string version is not supported".into());
        }
        None => return Err("a tgsess string starts with 'tgsess:1:'".into()),
    };
    if body.contains('=') || body.contains('+') || body.contains('/') {
        return Err("a tgsess string is unpadded URL-safe base64".into());
    }
    let all = b64::decode_any(body)?;
    if all.len() < 4 {
        return Err("the string is too short".into());
    }
    let (payload, crc) = all.split_at(all.len() - 4);
    if crc32fast::hash(payload).to_be_bytes() != crc {
        return Err("checksum mismatch: the string was altered or cut short".into());
    }
    let mut r = Reader {
        bytes: payload,
        at: 0,
    };
    let dc_id = r.i32()?;
    let flags = r.u8()?;
    if flags & !0x1f != 0 {
        return Err("unknown field flags".into());
    }
    let mut session = Session::new(dc_id);
    session.dcs.clear();
    if flags & 1 != 0 {
        session.user_id = Some(i64::from_be_bytes(r.take(8)?.try_into().unwrap()));
    }
    if flags & 2 != 0 {
        session.is_bot = Some(r.bool()?);
    }
    if flags & 4 != 0 {
        session.api_id = Some(r.i32()?);
    }
    if flags & 8 != 0 {
        session.test_mode = Some(r.bool()?);
    }
    let count = r.u8()?;
    for _ in 0..count {
        let mut dc = DcEntry::new(r.i32()?);
        let f = r.u8()?;
        if f & !0x0f != 0 {
            return Err("unknown DC flags".into());
        }
        if f & 1 != 0 {
            dc.ipv4 = Some(Ipv4Addr::from(<[u8; 4]>::try_from(r.take(4)?).unwrap()));
        }
        if f & 2 != 0 {
            dc.ipv6 = Some(Ipv6Addr::from(<[u8; 16]>::try_from(r.take(16)?).unwrap()));
        }
        if f & 4 != 0 {
            dc.port = Some(u16::from_be_bytes(r.take(2)?.try_into().unwrap()));
        }
        if f & 8 != 0 {
            dc.auth_key = AuthKey::from_slice(r.take(256)?);
        }
        if session.dcs.last().is_some_and(|last| last.id >= dc.id) {
            return Err("DC entries are not in ascending order".into());
        }
        session.dcs.push(dc);
    }
    if session.home().is_none() {
        return Err("the home DC has no entry".into());
    }
    if flags & 16 != 0 {
        let f = r.u8()?;
        if f & !0x0f != 0 || f == 0 {
            return Err("bad self-user flags".into());
        }
        let mut user = SelfUser::default();
        let slots = [
            &mut user.first_name,
            &mut user.last_name,
            &mut user.username,
            &mut user.phone,
        ];
        for (i, slot) in slots.into_iter().enumerate() {
            if f & (1 << i) != 0 {
                *slot = Some(r.text()?);
            }
        }
        session.user = Some(user);
    }
    if r.at != payload.len() {
        return Err("unexpected bytes after the last field".into());
    }
    Ok(session)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_session() -> Session {
        let mut s = Session::new(4);
        s.user_id = Some(5_123_456_789);
        s.is_bot = Some(false);
        s.api_id = Some(12345);
        s.test_mode = Some(false);
        s.user = Some(SelfUser {
            first_name: Some("Ada 🚀".into()),
            last_name: None,
            username: Some("ada".into()),
            phone: Some("9996642222".into()),
        });
        let home = s.home_mut();
        home.ipv4 = Some(Ipv4Addr::new(127, 0, 0, 1));
        home.port = Some(4430);
        home.auth_key = Some(AuthKey::new([7; 256]));
        s.dc_mut(2).ipv6 = Some("::1".parse().unwrap());
        s
    }

    #[test]
    fn round_trip_keeps_every_field() {
        let s = full_session();
        let text = encode(&s).unwrap();
        assert!(text.starts_with(PREFIX));
        assert_eq!(decode(&text).unwrap(), s);
        assert_eq!(encode(&decode(&text).unwrap()).unwrap(), text);
    }

    #[test]
    fn altered_string_is_caught() {
        let text = encode(&full_session()).unwrap();
        let mut chars: Vec<char> = text.chars().collect();
        let i = PREFIX.len() + 20;
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        let altered: String = chars.into_iter().collect();
        assert!(decode(&altered).unwrap_err().contains("checksum"));
        assert!(decode(&text[..text.len() - 10]).is_err());
    }
}
