//! Server side of MTProto 2.0 message encryption: decrypt what clients send (x = 0) and
//! encrypt what the server sends (x = 8). grammers-crypto only ships the client half.

use sha2::{Digest, Sha256};

use crate::secret::AuthKey;

/// Bytes before the ciphertext: auth_key_id (8) and msg_key (16).
pub const HEADER_LEN: usize = 24;
/// MTProto 2.0 padding bounds.
pub const MIN_PADDING: usize = 12;
pub const MAX_PADDING: usize = 1024;

/// Why a payload could not be decrypted. Every case is answered with transport error -404.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    #[error("payload length is not 24 + 16k")]
    BadLength,
    #[error("auth key id does not match")]
    WrongKey,
    #[error("msg_key does not match the plaintext")]
    BadMsgKey,
}

#[derive(Clone, Copy)]
enum Direction {
    ClientToServer,
    ServerToClient,
}

impl Direction {
    fn x(self) -> usize {
        match self {
            Direction::ClientToServer => 0,
            Direction::ServerToClient => 8,
        }
    }
}

/// The auth_key_id of a payload (its first 8 bytes, little-endian), if it has one.
pub fn payload_key_id(payload: &[u8]) -> Option<i64> {
    let bytes: [u8; 8] = payload.get(..8)?.try_into().ok()?;
    Some(i64::from_le_bytes(bytes))
}

/// The auth_key_id of a key as the wire carries it.
pub fn key_id(key: &AuthKey) -> i64 {
    i64::from_le_bytes(key.key_id())
}

fn msg_key_for(key: &[u8; 256], plaintext: &[u8], dir: Direction) -> [u8; 16] {
    let x = dir.x();
    let large = Sha256::new()
        .chain_update(&key[88 + x..120 + x])
        .chain_update(plaintext)
        .finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&large[8..24]);
    out
}

fn aes_key_iv(key: &[u8; 256], msg_key: &[u8; 16], dir: Direction) -> ([u8; 32], [u8; 32]) {
    let x = dir.x();
    let a = Sha256::new()
        .chain_update(msg_key)
        .chain_update(&key[x..x + 36])
        .finalize();
    let b = Sha256::new()
        .chain_update(&key[40 + x..76 + x])
        .chain_update(msg_key)
        .finalize();
    let mut aes_key = [0u8; 32];
    aes_key[..8].copy_from_slice(&a[..8]);
    aes_key[8..24].copy_from_slice(&b[8..24]);
    aes_key[24..].copy_from_slice(&a[24..]);
    let mut aes_iv = [0u8; 32];
    aes_iv[..8].copy_from_slice(&b[..8]);
    aes_iv[8..24].copy_from_slice(&a[8..24]);
    aes_iv[24..].copy_from_slice(&b[24..]);
    (aes_key, aes_iv)
}

/// Decrypts a client payload and returns the plaintext (salt, session_id, message, padding).
pub fn decrypt_from_client(key: &AuthKey, payload: &[u8]) -> Result<Vec<u8>, DecryptError> {
    if payload.len() < HEADER_LEN + 16 || !(payload.len() - HEADER_LEN).is_multiple_of(16) {
        return Err(DecryptError::BadLength);
    }
    if payload[..8] != key.key_id() {
        return Err(DecryptError::WrongKey);
    }
    let raw = key.reveal();
    let msg_key: [u8; 16] = payload[8..24].try_into().expect("16 bytes");
    let (aes_key, aes_iv) = aes_key_iv(raw, &msg_key, Direction::ClientToServer);
    let mut plaintext = payload[HEADER_LEN..].to_vec();
    grammers_crypto::aes::ige_decrypt(&mut plaintext, &aes_key, &aes_iv);
    let expected = msg_key_for(raw, &plaintext, Direction::ClientToServer);
    // Not secret-dependent timing in a way that matters here (the key id already matched),
    // but compare in constant time anyway.
    if !constant_time_eq(&expected, &msg_key) {
        return Err(DecryptError::BadMsgKey);
    }
    Ok(plaintext)
}

/// Pads `plaintext` (12..1024 random bytes, total a multiple of 16) and encrypts it for the
/// client. Returns `auth_key_id | msg_key | ciphertext`.
pub fn encrypt_for_client(key: &AuthKey, plaintext: &[u8]) -> Vec<u8> {
    let mut padding_len = 16 - plaintext.len() % 16;
    if padding_len < MIN_PADDING {
        padding_len += 16;
    }
    let mut padded = Vec::with_capacity(plaintext.len() + padding_len);
    padded.extend_from_slice(plaintext);
    let mut pad = [0u8; 32];
    getrandom::fill(&mut pad).expect("the OS random source failed");
    padded.extend_from_slice(&pad[..padding_len]);
    let raw = key.reveal();
    let msg_key = msg_key_for(raw, &padded, Direction::ServerToClient);
    let (aes_key, aes_iv) = aes_key_iv(raw, &msg_key, Direction::ServerToClient);
    grammers_crypto::aes::ige_encrypt(&mut padded, &aes_key, &aes_iv);
    let mut out = Vec::with_capacity(HEADER_LEN + padded.len());
    out.extend_from_slice(&key.key_id());
    out.extend_from_slice(&msg_key);
    out.extend_from_slice(&padded);
    out
}

/// Equality whose running time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_crypto::DequeBuffer;

    fn key() -> AuthKey {
        let bytes: Vec<u8> = (0..=255u8).map(|b| b.wrapping_mul(7)).collect();
        AuthKey::from_slice(&bytes).unwrap()
    }

    #[test]
    fn decrypts_what_grammers_client_encrypts() {
        let key = key();
        let plaintext: Vec<u8> = (0..64u8).collect();
        let mut buffer = DequeBuffer::with_capacity(128, 32);
        buffer.extend(plaintext.iter().copied());
        let gk = grammers_crypto::AuthKey::from_bytes(*key.reveal());
        grammers_crypto::encrypt_data_v2(&mut buffer, &gk);
        let decrypted = decrypt_from_client(&key, &buffer[..]).unwrap();
        assert_eq!(&decrypted[..64], &plaintext[..]);
    }

    #[test]
    fn grammers_client_decrypts_what_server_encrypts() {
        let key = key();
        for len in [16usize, 20, 24, 100, 4096] {
            let plaintext: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut payload = encrypt_for_client(&key, &plaintext);
            let padding = payload.len() - HEADER_LEN - len;
            assert!((MIN_PADDING..=MAX_PADDING).contains(&padding), "{padding}");
            let gk = grammers_crypto::AuthKey::from_bytes(*key.reveal());
            let decrypted = grammers_crypto::decrypt_data_v2(&mut payload, &gk).unwrap();
            assert_eq!(&decrypted[..len], &plaintext[..]);
        }
    }

    #[test]
    fn rejects_tampering_wrong_key_and_bad_lengths() {
        let key = key();
        let mut buffer = DequeBuffer::with_capacity(64, 32);
        buffer.extend([1u8; 32]);
        let gk = grammers_crypto::AuthKey::from_bytes(*key.reveal());
        grammers_crypto::encrypt_data_v2(&mut buffer, &gk);
        let mut payload = buffer[..].to_vec();
        let last = payload.len() - 1;
        payload[last] ^= 1;
        assert_eq!(
            decrypt_from_client(&key, &payload),
            Err(DecryptError::BadMsgKey)
        );
        assert_eq!(
            decrypt_from_client(&AuthKey::new([9; 256]), &buffer[..]),
            Err(DecryptError::WrongKey)
        );
        assert_eq!(
            decrypt_from_client(&key, &payload[..payload.len() - 3]),
            Err(DecryptError::BadLength)
        );
    }
}
