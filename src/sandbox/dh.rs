//! Optional server-side DH key exchange (core.telegram.org/mtproto/auth_key) with the
//! sandbox's own RSA key, for clients that accept an extra key (Telethon's `add_key`).
//! Unencrypted messages: `auth_key_id = 0 | msg_id | length | body`.

use grammers_tl_types::{self as tl, Cursor, Deserializable, Identifiable, Serializable};
use num_bigint::BigUint;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::rsa::{RsaKey, random_prime};
use super::service::{constructor_of, unix_now};
use super::state::{State, StateError};
use crate::crypto::srp::{pad256, prime};
use crate::secret::AuthKey;

const META_RSA_KEY: &str = "rsa_key";

/// The state's RSA key, created on first use (the same key across restarts and processes).
pub fn load_or_create_rsa(state: &State) -> Result<RsaKey, StateError> {
    if let Some(stored) = state.meta(META_RSA_KEY)?
        && let Some(key) = parse_stored(&stored)
    {
        return Ok(key);
    }
    let key = RsaKey::generate();
    let (n, e, d) = key.to_hex();
    let stored = state.set_meta_once(META_RSA_KEY, &format!("{n}:{e}:{d}"))?;
    Ok(parse_stored(&stored).unwrap_or(key))
}

fn parse_stored(text: &str) -> Option<RsaKey> {
    let mut parts = text.split(':');
    RsaKey::from_hex(parts.next()?, parts.next()?, parts.next()?)
}

/// Undoes RSA_PAD (what grammers and tdlib send): returns the 192 bytes of data+padding.
pub fn rsa_pad_unwrap(m: &[u8; 256]) -> Option<Vec<u8>> {
    let (key_xor, aes_encrypted) = m.split_at(32);
    let h = Sha256::digest(aes_encrypted);
    let mut temp_key = [0u8; 32];
    for (i, b) in temp_key.iter_mut().enumerate() {
        *b = key_xor[i] ^ h[i];
    }
    let mut data_with_hash = aes_encrypted.to_vec();
    grammers_crypto::aes::ige_decrypt(&mut data_with_hash, &temp_key, &[0u8; 32]);
    let data: Vec<u8> = data_with_hash[..192].iter().rev().copied().collect();
    let expected = Sha256::new()
        .chain_update(temp_key)
        .chain_update(&data)
        .finalize();
    super::crypto::constant_time_eq(&expected, &data_with_hash[192..]).then_some(data)
}

/// Parses p_q_inner_data (any variant except temporary keys) at the start of `data`;
/// returns it and how many bytes it used.
fn parse_inner(data: &[u8]) -> Option<(tl::enums::PQInnerData, usize)> {
    let mut cursor = Cursor::from_slice(data);
    let inner = tl::enums::PQInnerData::deserialize(&mut cursor).ok()?;
    Some((inner, cursor.pos()))
}

/// The legacy padding (Telethon, Pyrogram): `SHA1(data) ‖ data ‖ random`, 255 bytes.
fn legacy_unwrap(m: &[u8; 256]) -> Option<tl::enums::PQInnerData> {
    if m[0] != 0 {
        return None;
    }
    let (inner, used) = parse_inner(&m[21..])?;
    let digest = Sha1::digest(&m[21..21 + used]);
    (digest[..] == m[1..21]).then_some(inner)
}

/// Where one connection is in the exchange.
pub struct DhExchange {
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    pq: u64,
    new_nonce: Option<[u8; 32]>,
    a: Option<BigUint>,
}

/// The answer to one unencrypted message; `None`: refuse (the connection gets -404).
pub fn step(
    state: &State,
    rsa: &RsaKey,
    dc_id: i32,
    exchange: &mut Option<DhExchange>,
    body: &[u8],
) -> Option<Vec<u8>> {
    match constructor_of(body)? {
        tl::functions::ReqPqMulti::CONSTRUCTOR_ID | tl::functions::ReqPq::CONSTRUCTOR_ID => {
            let nonce: [u8; 16] = body.get(4..20)?.try_into().ok()?;
            let mut server_nonce = [0u8; 16];
            getrandom::fill(&mut server_nonce).expect("the OS random source failed");
            // Two 31-bit primes: pq stays below 2^63 (Telethon reads it as a signed int).
            let pq = loop {
                let p = random_prime(31);
                let q = random_prime(31);
                if p != q {
                    break (p * q).to_u64_digits()[0];
                }
            };
            *exchange = Some(DhExchange {
                nonce,
                server_nonce,
                pq,
                new_nonce: None,
                a: None,
            });
            Some(
                tl::enums::ResPq::Pq(tl::types::ResPq {
                    nonce,
                    server_nonce,
                    pq: pq.to_be_bytes().to_vec(),
                    server_public_key_fingerprints: vec![rsa.fingerprint()],
                })
                .to_bytes(),
            )
        }
        tl::functions::ReqDhParams::CONSTRUCTOR_ID => {
            let req = tl::functions::ReqDhParams::from_bytes(&body[4..]).ok()?;
            let ex = exchange.as_mut()?;
            if req.nonce != ex.nonce
                || req.server_nonce != ex.server_nonce
                || req.public_key_fingerprint != rsa.fingerprint()
            {
                return None;
            }
            let m = rsa.decrypt(&req.encrypted_data)?;
            let inner = match rsa_pad_unwrap(&m).and_then(|d| parse_inner(&d)) {
                Some((inner, _)) => inner,
                None => legacy_unwrap(&m)?,
            };
            let (pq, p, q, nonce, server_nonce, new_nonce) = match inner {
                tl::enums::PQInnerData::Data(d) => {
                    (d.pq, d.p, d.q, d.nonce, d.server_nonce, d.new_nonce)
                }
                tl::enums::PQInnerData::Dc(d) => {
                    (d.pq, d.p, d.q, d.nonce, d.server_nonce, d.new_nonce)
                }
                // Temporary keys need auth.bindTempAuthKey, which the sandbox lacks.
                _ => return None,
            };
            let as_u64 = |b: &[u8]| BigUint::from_bytes_be(b);
            if nonce != ex.nonce
                || server_nonce != ex.server_nonce
                || as_u64(&pq) != BigUint::from(ex.pq)
                || as_u64(&p) * as_u64(&q) != BigUint::from(ex.pq)
            {
                return None;
            }
            let dh_prime = prime();
            let safety = BigUint::from(1u32) << (2048 - 64);
            let (a, g_a) = loop {
                let mut bytes = [0u8; 256];
                getrandom::fill(&mut bytes).expect("the OS random source failed");
                let a = BigUint::from_bytes_be(&bytes);
                let g_a = BigUint::from(3u32).modpow(&a, &dh_prime);
                if g_a > safety && g_a < &dh_prime - &safety {
                    break (a, g_a);
                }
            };
            let inner = tl::enums::ServerDhInnerData::Data(tl::types::ServerDhInnerData {
                nonce,
                server_nonce,
                g: 3,
                dh_prime: dh_prime.to_bytes_be(),
                g_a: g_a.to_bytes_be(),
                server_time: unix_now() as i32,
            })
            .to_bytes();
            let mut answer = Sha1::digest(&inner).to_vec();
            answer.extend(&inner);
            let mut pad = [0u8; 16];
            getrandom::fill(&mut pad).expect("the OS random source failed");
            answer.extend(&pad[..(16 - answer.len() % 16) % 16]);
            let (key, iv) =
                grammers_crypto::generate_key_data_from_nonce(&server_nonce, &new_nonce);
            grammers_crypto::aes::ige_encrypt(&mut answer, &key, &iv);
            ex.new_nonce = Some(new_nonce);
            ex.a = Some(a);
            Some(
                tl::enums::ServerDhParams::Ok(tl::types::ServerDhParamsOk {
                    nonce,
                    server_nonce,
                    encrypted_answer: answer,
                })
                .to_bytes(),
            )
        }
        tl::functions::SetClientDhParams::CONSTRUCTOR_ID => {
            let req = tl::functions::SetClientDhParams::from_bytes(&body[4..]).ok()?;
            let ex = exchange.take()?;
            let (new_nonce, a) = (ex.new_nonce?, ex.a?);
            if req.nonce != ex.nonce
                || req.server_nonce != ex.server_nonce
                || req.encrypted_data.len() % 16 != 0
                || req.encrypted_data.len() < 32
            {
                return None;
            }
            let (key, iv) =
                grammers_crypto::generate_key_data_from_nonce(&ex.server_nonce, &new_nonce);
            let mut plain = req.encrypted_data;
            grammers_crypto::aes::ige_decrypt(&mut plain, &key, &iv);
            let mut cursor = Cursor::from_slice(&plain[20..]);
            let tl::enums::ClientDhInnerData::Data(inner) =
                tl::enums::ClientDhInnerData::deserialize(&mut cursor).ok()?;
            if Sha1::digest(&plain[20..20 + cursor.pos()])[..] != plain[..20]
                || inner.nonce != ex.nonce
                || inner.server_nonce != ex.server_nonce
            {
                return None;
            }
            let dh_prime = prime();
            let g_b = BigUint::from_bytes_be(&inner.g_b);
            let safety = BigUint::from(1u32) << (2048 - 64);
            if g_b <= safety || g_b >= &dh_prime - &safety {
                return None;
            }
            let auth_key = AuthKey::new(pad256(&g_b.modpow(&a, &dh_prime).to_bytes_be()));
            state.insert_key(dc_id, &auth_key).ok()?;
            let hash = grammers_crypto::AuthKey::from_bytes(*auth_key.reveal())
                .calc_new_nonce_hash(&new_nonce, 1);
            Some(
                tl::enums::SetClientDhParamsAnswer::DhGenOk(tl::types::DhGenOk {
                    nonce: ex.nonce,
                    server_nonce: ex.server_nonce,
                    new_nonce_hash1: hash,
                })
                .to_bytes(),
            )
        }
        _ => None,
    }
}

/// Parses an unencrypted message: `(msg_id, body)`.
pub fn parse_plain(payload: &[u8]) -> Option<(i64, &[u8])> {
    if payload.len() < 20 || payload[..8] != [0; 8] {
        return None;
    }
    let msg_id = i64::from_le_bytes(payload[8..16].try_into().ok()?);
    let len = i32::from_le_bytes(payload[16..20].try_into().ok()?);
    if len < 0 || 20 + len as usize > payload.len() {
        return None;
    }
    Some((msg_id, &payload[20..20 + len as usize]))
}

/// Frames an unencrypted server message.
pub fn plain_message(msg_id: i64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(20 + body.len());
    out.extend_from_slice(&[0u8; 8]);
    out.extend_from_slice(&msg_id.to_le_bytes());
    out.extend_from_slice(&(body.len() as i32).to_le_bytes());
    out.extend_from_slice(body);
    out
}
