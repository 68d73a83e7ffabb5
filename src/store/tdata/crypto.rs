//! Telegram Desktop's local encryption: AES-256-IGE with the MTProto 1.0 key derivation
//! (x = 8) over a 256-byte local key, and the passcode key (PBKDF2-HMAC-SHA512).

use hmac::Hmac;
use sha1::{Digest, Sha1};
use sha2::Sha512;
use zeroize::{Zeroize, Zeroizing};

/// A 256-byte key: the local key, or the key derived from the passcode. Zeroized on drop.
#[derive(Clone)]
pub struct LocalKey(Zeroizing<[u8; 256]>);

impl LocalKey {
    pub fn new(bytes: [u8; 256]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        Some(Self::new(bytes.try_into().ok()?))
    }

    pub fn random() -> Self {
        let mut bytes = [0u8; 256];
        getrandom::fill(&mut bytes).expect("the OS random source works");
        Self::new(bytes)
    }

    pub fn bytes(&self) -> &[u8; 256] {
        &self.0
    }

    /// The key that unlocks the local key: from the salt and the passcode ("" when none).
    pub fn from_passcode(salt: &[u8], passcode: &[u8]) -> Self {
        let mut hash = Sha512::new();
        hash.update(salt);
        hash.update(passcode);
        hash.update(salt);
        let mut password = hash.finalize();
        let iterations = if passcode.is_empty() { 1 } else { 100_000 };
        let mut out = [0u8; 256];
        pbkdf2::pbkdf2::<Hmac<Sha512>>(&password, salt, iterations, &mut out)
            .expect("HMAC takes any key length");
        password.as_mut_slice().zeroize();
        Self::new(out)
    }

    /// AES key and IGE IV for one block, from its 16-byte message key.
    fn aes_key_iv(&self, msg_key: &[u8]) -> (Zeroizing<[u8; 32]>, Zeroizing<[u8; 32]>) {
        let k = &self.0;
        let sha = |parts: &[&[u8]]| {
            let mut h = Sha1::new();
            for p in parts {
                h.update(p);
            }
            h.finalize()
        };
        let a = sha(&[msg_key, &k[8..40]]);
        let b = sha(&[&k[40..56], msg_key, &k[56..72]]);
        let c = sha(&[&k[72..104], msg_key]);
        let d = sha(&[msg_key, &k[104..136]]);
        let mut key = Zeroizing::new([0u8; 32]);
        key[..8].copy_from_slice(&a[..8]);
        key[8..20].copy_from_slice(&b[8..20]);
        key[20..].copy_from_slice(&c[4..16]);
        let mut iv = Zeroizing::new([0u8; 32]);
        iv[..12].copy_from_slice(&a[8..20]);
        iv[12..20].copy_from_slice(&b[..8]);
        iv[20..24].copy_from_slice(&c[16..20]);
        iv[24..].copy_from_slice(&d[..8]);
        (key, iv)
    }

    /// Encrypts `data` as one block: msg_key ‖ AES-IGE(u32le length ‖ data ‖ random padding).
    pub fn encrypt(&self, data: &[u8]) -> Vec<u8> {
        let len = 4 + data.len();
        let full = len.div_ceil(16) * 16;
        let mut plain = Zeroizing::new(Vec::with_capacity(full));
        plain.extend_from_slice(&(len as u32).to_le_bytes());
        plain.extend_from_slice(data);
        let mut padding = [0u8; 16];
        getrandom::fill(&mut padding).expect("the OS random source works");
        plain.extend_from_slice(&padding[..full - len]);
        let msg_key: [u8; 16] = Sha1::digest(&plain[..])[..16]
            .try_into()
            .expect("SHA-1 is 20 bytes");
        let (key, iv) = self.aes_key_iv(&msg_key);
        let mut out = Vec::with_capacity(16 + full);
        out.extend_from_slice(&msg_key);
        out.extend_from_slice(&plain);
        grammers_crypto::aes::ige_encrypt(&mut out[16..], &key, &iv);
        out
    }

    /// Decrypts one block; `None` when the key is wrong or the block is damaged (the two
    /// cannot be told apart: the check is the SHA-1 of the plain text).
    pub fn decrypt(&self, block: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if block.len() <= 16 || !block.len().is_multiple_of(16) {
            return None;
        }
        let (msg_key, body) = block.split_at(16);
        let (key, iv) = self.aes_key_iv(msg_key);
        let mut plain = Zeroizing::new(body.to_vec());
        grammers_crypto::aes::ige_decrypt(&mut plain, &key, &iv);
        if Sha1::digest(&plain[..])[..16] != *msg_key {
            return None;
        }
        let len = u32::from_le_bytes(plain[..4].try_into().expect("16+ bytes")) as usize;
        // Telegram Desktop's own check: the length fits, and the padding is under 16 bytes.
        if len < 4 || len > plain.len() || len + 16 <= plain.len() {
            return None;
        }
        Some(Zeroizing::new(plain[4..len].to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_and_a_wrong_key_fails() {
        let key = LocalKey::random();
        for len in [0usize, 1, 11, 12, 13, 300] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let block = key.encrypt(&data);
            assert_eq!(block.len() % 16, 0);
            assert_eq!(&key.decrypt(&block).unwrap()[..], &data[..]);
            assert!(LocalKey::random().decrypt(&block).is_none());
        }
        assert!(key.decrypt(&[0u8; 16]).is_none());
        assert!(key.decrypt(&[0u8; 33]).is_none());
    }

    #[test]
    fn passcode_key_depends_on_salt_and_passcode() {
        let a = LocalKey::from_passcode(&[1; 32], b"");
        let b = LocalKey::from_passcode(&[2; 32], b"");
        let c = LocalKey::from_passcode(&[1; 32], b"x");
        assert_ne!(a.bytes(), b.bytes());
        assert_ne!(a.bytes(), c.bytes());
        assert_eq!(a.bytes(), LocalKey::from_passcode(&[1; 32], b"").bytes());
    }
}
