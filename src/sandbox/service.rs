//! The MTProto service layer, server side: the plaintext envelope, message ids and seq
//! numbers, server salts, containers, gzip, and the service messages the server sends.
//! grammers-mtproto keeps its `Message`/`MessageContainer`/`RpcResult`/`GzipPacked` private,
//! so their framing is written here; every other type comes from grammers-tl-types.

use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

use grammers_tl_types::{self as tl, Serializable};
use sha2::{Digest, Sha256};

use super::crypto::{MAX_PADDING, MIN_PADDING};

pub const MSG_CONTAINER_ID: u32 = 0x73f1_f8dc;
pub const GZIP_PACKED_ID: u32 = 0x3072_cfa1;
pub const RPC_RESULT_ID: u32 = 0xf35c_6d01;
/// Most bytes a gzip_packed may expand to (a guard against gzip bombs).
const MAX_UNPACKED: usize = 4 * 1024 * 1024;
/// How long one server salt is the current one.
pub const SALT_PERIOD_SECS: i64 = 1800;

/// Why a decrypted plaintext is unusable (answered with -404 like Telegram does).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("plaintext too short")]
    TooShort,
    #[error("message length {0} does not fit the plaintext")]
    BadLength(i32),
    #[error("padding of {0} bytes is out of range")]
    BadPadding(usize),
}

/// The decrypted header and one (possibly container) message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub salt: i64,
    pub session_id: i64,
    pub msg_id: i64,
    pub seq_no: i32,
    pub body: Vec<u8>,
}

fn le_i64(b: &[u8]) -> i64 {
    i64::from_le_bytes(b[..8].try_into().expect("8 bytes"))
}

fn le_i32(b: &[u8]) -> i32 {
    i32::from_le_bytes(b[..4].try_into().expect("4 bytes"))
}

/// Parses `salt | session_id | msg_id | seq_no | len | body | padding`.
pub fn parse_envelope(plaintext: &[u8]) -> Result<Envelope, EnvelopeError> {
    if plaintext.len() < 32 {
        return Err(EnvelopeError::TooShort);
    }
    let len = le_i32(&plaintext[28..32]);
    if len < 0 || len % 4 != 0 || len as usize > plaintext.len() - 32 {
        return Err(EnvelopeError::BadLength(len));
    }
    let padding = plaintext.len() - 32 - len as usize;
    if !(MIN_PADDING..=MAX_PADDING).contains(&padding) {
        return Err(EnvelopeError::BadPadding(padding));
    }
    Ok(Envelope {
        salt: le_i64(&plaintext[0..8]),
        session_id: le_i64(&plaintext[8..16]),
        msg_id: le_i64(&plaintext[16..24]),
        seq_no: le_i32(&plaintext[24..28]),
        body: plaintext[32..32 + len as usize].to_vec(),
    })
}

/// One message the client sent, after containers and gzip are unpacked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    pub msg_id: i64,
    pub seq_no: i32,
    pub body: Vec<u8>,
}

/// Constructor id of a body, if it has one.
pub fn constructor_of(body: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(body.get(..4)?.try_into().ok()?))
}

/// Reads a TL `bytes` value at `pos`; returns it and the position after its padding.
pub fn read_tl_bytes(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let first = *buf.get(pos)?;
    let (len, header) = if first < 254 {
        (first as usize, 1)
    } else {
        let b = buf.get(pos + 1..pos + 4)?;
        (
            b[0] as usize | (b[1] as usize) << 8 | (b[2] as usize) << 16,
            4,
        )
    };
    let start = pos + header;
    let data = buf.get(start..start + len)?;
    let end = start + len;
    let padded = end + (4 - (header + len) % 4) % 4;
    Some((data, padded))
}

/// Unpacks `gzip_packed` (RFC 1952 gzip) bodies, at any depth.
pub fn unpack_gzip(body: Vec<u8>) -> Option<Vec<u8>> {
    let mut body = body;
    for _ in 0..4 {
        if constructor_of(&body) != Some(GZIP_PACKED_ID) {
            return Some(body);
        }
        let (packed, _) = read_tl_bytes(&body, 4)?;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(packed)
            .take(MAX_UNPACKED as u64 + 1)
            .read_to_end(&mut out)
            .ok()?;
        if out.len() > MAX_UNPACKED {
            return None;
        }
        body = out;
    }
    None
}

/// Splits a top-level message into the messages it carries (one, or a container's).
/// `None` if a container is malformed.
pub fn unpack_messages(envelope: &Envelope) -> Option<Vec<Inbound>> {
    if constructor_of(&envelope.body) != Some(MSG_CONTAINER_ID) {
        return Some(vec![Inbound {
            msg_id: envelope.msg_id,
            seq_no: envelope.seq_no,
            body: unpack_gzip(envelope.body.clone())?,
        }]);
    }
    let b = &envelope.body;
    let count = le_i32(b.get(4..8)?);
    if !(0..=1024).contains(&count) {
        return None;
    }
    let mut pos = 8;
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let head = b.get(pos..pos + 16)?;
        let msg_id = le_i64(&head[0..8]);
        let seq_no = le_i32(&head[8..12]);
        let len = le_i32(&head[12..16]);
        if len < 0 || len % 4 != 0 {
            return None;
        }
        let body = b.get(pos + 16..pos + 16 + len as usize)?.to_vec();
        if constructor_of(&body) == Some(MSG_CONTAINER_ID) {
            return None;
        }
        pos += 16 + len as usize;
        out.push(Inbound {
            msg_id,
            seq_no,
            body: unpack_gzip(body)?,
        });
    }
    Some(out)
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Server salts of one sandbox: a new one every [`SALT_PERIOD_SECS`], derived from a
/// per-process secret so that every connection agrees without shared mutable state.
#[derive(Clone)]
pub struct Salts {
    secret: [u8; 32],
}

impl Salts {
    pub fn new() -> Self {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("the OS random source failed");
        Self { secret }
    }

    fn salt_of(&self, window: i64) -> i64 {
        let h = Sha256::new()
            .chain_update(self.secret)
            .chain_update(window.to_le_bytes())
            .finalize();
        le_i64(&h[..8])
    }

    fn window(now: i64) -> i64 {
        now.div_euclid(SALT_PERIOD_SECS)
    }

    pub fn current(&self, now: i64) -> i64 {
        self.salt_of(Self::window(now))
    }

    /// Accepts any salt issued for a window that has not yet ended (plus the previous one,
    /// which clients keep using for a minute) up to the 64 windows `future_salts` hands out.
    pub fn is_valid(&self, salt: i64, now: i64) -> bool {
        let w = Self::window(now);
        (w - 1..=w + 64).any(|x| self.salt_of(x) == salt)
    }

    /// `future_salts` entries from the current window on.
    pub fn future(&self, now: i64, num: i32) -> Vec<tl::types::FutureSalt> {
        let w = Self::window(now);
        (0..num.clamp(1, 64) as i64)
            .map(|i| tl::types::FutureSalt {
                valid_since: ((w + i) * SALT_PERIOD_SECS) as i32,
                valid_until: ((w + i + 1) * SALT_PERIOD_SECS + 300) as i32,
                salt: self.salt_of(w + i),
            })
            .collect()
    }
}

impl Default for Salts {
    fn default() -> Self {
        Self::new()
    }
}

/// Message ids and seq numbers of what the server sends in one session.
pub struct Outbox {
    last_msg_id: i64,
    content_sent: i32,
}

/// A message ready for encryption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub msg_id: i64,
    pub seq_no: i32,
    pub body: Vec<u8>,
}

impl Outbox {
    pub fn new() -> Self {
        Self {
            last_msg_id: 0,
            content_sent: 0,
        }
    }

    /// Server msg ids: time-based, strictly increasing, ≡ 1 mod 4 for responses and 3 otherwise.
    pub fn next_msg_id(&mut self, response: bool) -> i64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let low = if response { 1 } else { 3 };
        let base = ((now.as_secs() as i64) << 32) | ((now.subsec_nanos() as i64) << 2);
        let mut id = (base & !3) | low;
        if id <= self.last_msg_id {
            id = ((self.last_msg_id + 4) & !3) | low;
        }
        self.last_msg_id = id;
        id
    }

    /// `2n+1` for content-related messages, `2n` otherwise.
    pub fn next_seq(&mut self, content_related: bool) -> i32 {
        if content_related {
            self.content_sent += 1;
            self.content_sent * 2 - 1
        } else {
            self.content_sent * 2
        }
    }

    pub fn message(&mut self, body: Vec<u8>, response: bool, content_related: bool) -> Outgoing {
        Outgoing {
            msg_id: self.next_msg_id(response),
            seq_no: self.next_seq(content_related),
            body,
        }
    }
}

impl Default for Outbox {
    fn default() -> Self {
        Self::new()
    }
}

/// `salt | session_id | msg_id | seq_no | len | body` (padding is added by encryption).
pub fn plaintext(salt: i64, session_id: i64, msg: &Outgoing) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + msg.body.len());
    out.extend_from_slice(&salt.to_le_bytes());
    out.extend_from_slice(&session_id.to_le_bytes());
    out.extend_from_slice(&msg.msg_id.to_le_bytes());
    out.extend_from_slice(&msg.seq_no.to_le_bytes());
    out.extend_from_slice(&(msg.body.len() as i32).to_le_bytes());
    out.extend_from_slice(&msg.body);
    out
}

/// `rpc_result#f35c6d01 req_msg_id:long result:Object`.
pub fn rpc_result(req_msg_id: i64, result: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + result.len());
    out.extend_from_slice(&RPC_RESULT_ID.to_le_bytes());
    out.extend_from_slice(&req_msg_id.to_le_bytes());
    out.extend_from_slice(result);
    out
}

/// `rpc_error#2144ca19`.
pub fn rpc_error(code: i32, message: &str) -> Vec<u8> {
    tl::enums::RpcError::Error(tl::types::RpcError {
        error_code: code,
        error_message: message.to_string(),
    })
    .to_bytes()
}

pub fn pong(msg_id: i64, ping_id: i64) -> Vec<u8> {
    tl::enums::Pong::Pong(tl::types::Pong { msg_id, ping_id }).to_bytes()
}

pub fn future_salts(req_msg_id: i64, now: i64, salts: Vec<tl::types::FutureSalt>) -> Vec<u8> {
    tl::enums::FutureSalts::Salts(tl::types::FutureSalts {
        req_msg_id,
        now: now as i32,
        salts: tl::RawVec(salts),
    })
    .to_bytes()
}

pub fn new_session_created(first_msg_id: i64, unique_id: i64, server_salt: i64) -> Vec<u8> {
    tl::enums::NewSession::Created(tl::types::NewSessionCreated {
        first_msg_id,
        unique_id,
        server_salt,
    })
    .to_bytes()
}

pub fn bad_server_salt(bad_msg_id: i64, bad_msg_seqno: i32, new_server_salt: i64) -> Vec<u8> {
    tl::enums::BadMsgNotification::BadServerSalt(tl::types::BadServerSalt {
        bad_msg_id,
        bad_msg_seqno,
        error_code: 48,
        new_server_salt,
    })
    .to_bytes()
}

pub fn bad_msg_notification(bad_msg_id: i64, bad_msg_seqno: i32, error_code: i32) -> Vec<u8> {
    tl::enums::BadMsgNotification::Notification(tl::types::BadMsgNotification {
        bad_msg_id,
        bad_msg_seqno,
        error_code,
    })
    .to_bytes()
}

/// Checks a client msg_id against the server clock, as Telegram does: error 16 (too low,
/// over 300 s old), 17 (too high, over 30 s ahead), 18 (not ≡ 0 mod 4). `None` if fine.
pub fn check_client_msg_id(msg_id: i64, now: i64) -> Option<i32> {
    if msg_id % 4 != 0 {
        return Some(18);
    }
    let secs = msg_id >> 32;
    if secs < now - 300 {
        Some(16)
    } else if secs > now + 30 {
        Some(17)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_tl_types::Deserializable;
    use std::io::Write;

    fn envelope_bytes(body: &[u8], padding: usize) -> Vec<u8> {
        let msg = Outgoing {
            msg_id: 0x1234 << 32,
            seq_no: 1,
            body: body.to_vec(),
        };
        let mut p = plaintext(7, 9, &msg);
        p.extend(vec![0u8; padding]);
        p
    }

    #[test]
    fn envelope_round_trip_and_padding_bounds() {
        let env = parse_envelope(&envelope_bytes(&[1, 2, 3, 4], 12)).unwrap();
        assert_eq!(
            (env.salt, env.session_id, env.msg_id, env.seq_no),
            (7, 9, 0x1234 << 32, 1)
        );
        assert_eq!(env.body, vec![1, 2, 3, 4]);
        assert_eq!(
            parse_envelope(&envelope_bytes(&[1, 2, 3, 4], 8)),
            Err(EnvelopeError::BadPadding(8))
        );
        let mut lying = envelope_bytes(&[1, 2, 3, 4], 12);
        lying[28] = 200;
        assert_eq!(parse_envelope(&lying), Err(EnvelopeError::BadLength(200)));
    }

    #[test]
    fn unpacks_containers_and_gzip() {
        let ping = tl::functions::Ping { ping_id: 5 }.to_bytes();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&ping).unwrap();
        let packed = gz.finish().unwrap();
        let mut gzip_body = GZIP_PACKED_ID.to_le_bytes().to_vec();
        packed.serialize(&mut gzip_body);

        let mut container = MSG_CONTAINER_ID.to_le_bytes().to_vec();
        container.extend(2i32.to_le_bytes());
        for (id, body) in [(100i64, &ping), (104, &gzip_body)] {
            container.extend(id.to_le_bytes());
            container.extend(1i32.to_le_bytes());
            container.extend((body.len() as i32).to_le_bytes());
            container.extend(body.iter());
        }
        let env = Envelope {
            salt: 0,
            session_id: 0,
            msg_id: 108,
            seq_no: 2,
            body: container,
        };
        let msgs = unpack_messages(&env).unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].msg_id, 100);
        assert_eq!(msgs[1].msg_id, 104);
        assert_eq!(msgs[1].body, ping);
        // Truncated containers are refused, not half-read.
        let mut short = env.clone();
        short.body.truncate(short.body.len() - 4);
        assert!(unpack_messages(&short).is_none());
    }

    #[test]
    fn msg_ids_increase_with_the_right_parity_and_seq_counts_content() {
        let mut out = Outbox::new();
        let a = out.message(vec![], true, true);
        let b = out.message(vec![], false, true);
        let c = out.message(vec![], true, false);
        assert!(a.msg_id < b.msg_id && b.msg_id < c.msg_id);
        assert_eq!((a.msg_id & 3, b.msg_id & 3, c.msg_id & 3), (1, 3, 1));
        assert_eq!((a.seq_no, b.seq_no, c.seq_no), (1, 3, 4));
    }

    #[test]
    fn salts_rotate_and_future_salts_decode() {
        let salts = Salts::new();
        let now = 1_800_000_000;
        let cur = salts.current(now);
        assert!(salts.is_valid(cur, now));
        assert!(salts.is_valid(cur, now + SALT_PERIOD_SECS));
        assert!(!salts.is_valid(cur, now + 3 * SALT_PERIOD_SECS));
        assert!(!salts.is_valid(cur ^ 1, now));
        let body = future_salts(44, now, salts.future(now, 64));
        let tl::enums::FutureSalts::Salts(decoded) =
            tl::enums::FutureSalts::from_bytes(&body).unwrap();
        assert_eq!(decoded.req_msg_id, 44);
        assert_eq!(decoded.salts.0.len(), 64);
        assert_eq!(decoded.salts.0[0].salt, cur);
        assert!(decoded.salts.0.iter().all(|s| salts.is_valid(s.salt, now)));
    }

    #[test]
    fn client_msg_id_clock_checks() {
        let now = 1_800_000_000i64;
        assert_eq!(check_client_msg_id(now << 32, now), None);
        assert_eq!(check_client_msg_id((now - 400) << 32, now), Some(16));
        assert_eq!(check_client_msg_id((now + 60) << 32, now), Some(17));
        assert_eq!(check_client_msg_id((now << 32) | 1, now), Some(18));
    }
}
