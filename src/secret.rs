//! Secrets that must never reach a log, an error message or a panic report.

use std::fmt;

use sha1::{Digest, Sha1};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A 256-byte MTProto authorization key. `Debug` shows only the key id.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct AuthKey([u8; 256]);

impl AuthKey {
    pub const LEN: usize = 256;

    pub fn new(bytes: [u8; 256]) -> Self {
        Self(bytes)
    }

    /// Reads a key from a slice, which must hold exactly 256 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 256] = bytes.try_into().ok()?;
        Some(Self(arr))
    }

    /// A fresh random key (the sandbox provisions these out of band).
    pub fn random() -> Self {
        let mut bytes = [0u8; 256];
        getrandom::fill(&mut bytes).expect("the OS random source failed");
        Self(bytes)
    }

    /// The raw key bytes. Named so that every use is easy to audit.
    pub fn reveal(&self) -> &[u8; 256] {
        &self.0
    }

    /// Telethon treats an all-zero key as "no key".
    pub fn is_all_zero(&self) -> bool {
        self.0.iter().all(|b| *b == 0)
    }

    /// The MTProto key id: the last 8 bytes of SHA-1(key), in raw byte order.
    pub fn key_id(&self) -> [u8; 8] {
        let digest = Sha1::digest(self.0);
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[12..20]);
        id
    }

    pub fn key_id_hex(&self) -> String {
        hex::encode(self.key_id())
    }
}

impl fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthKey(id {})", self.key_id_hex())
    }
}

/// A secret string (session string, password, login code). Prints as `<redacted>`.
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn reveal(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_is_last_eight_bytes_of_sha1() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        let key = AuthKey::from_slice(&bytes).unwrap();
        // Value from the fixtures' manifest (key "A" = bytes 0..=255).
        assert_eq!(key.key_id_hex(), "32d1586ea457dfc8");
    }

    #[test]
    fn debug_never_shows_key_bytes() {
        let key = AuthKey::new([0xab; 256]);
        let shown = format!("{key:?}");
        assert!(!shown.contains("abab"), "{shown}");
        let secret = SecretString::new("hunter2");
        assert_eq!(format!("{secret:?} {secret}"), "<redacted> <redacted>");
    }

    #[test]
    fn from_slice_rejects_wrong_lengths() {
        assert!(AuthKey::from_slice(&[0u8; 255]).is_none());
        assert!(AuthKey::from_slice(&[0u8; 257]).is_none());
    }
}
