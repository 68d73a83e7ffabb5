//! The password math of Telegram's SRP 2FA (core.telegram.org/api/srp) that grammers-crypto
//! keeps private: the password hash PH2 and the verifier v = g^x mod p. The client uses it to
//! set a new password; the sandbox uses it to store a verifier.

use hmac::Hmac;
use num_bigint::BigUint;
use sha2::{Digest, Sha256, Sha512};

/// Telegram's 2048-bit safe prime for SRP (big-endian), used with g = 3.
pub const PRIME_HEX: &str = "c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f642477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b";
pub const G: u32 = 3;
pub const PBKDF2_ITERATIONS: u32 = 100_000;

pub fn prime_bytes() -> Vec<u8> {
    hex::decode(PRIME_HEX).expect("constant is valid hex")
}

pub fn prime() -> BigUint {
    BigUint::from_bytes_be(&prime_bytes())
}

/// Left-pads a big-endian number to 256 bytes, as SRP hashes it.
pub fn pad256(bytes: &[u8]) -> [u8; 256] {
    let mut out = [0u8; 256];
    let start = 256usize.saturating_sub(bytes.len());
    out[start..].copy_from_slice(&bytes[bytes.len().saturating_sub(256)..]);
    out
}

fn sh(data: &[u8], salt: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(data);
    h.update(salt);
    h.finalize().into()
}

/// PH2(password, salt1, salt2): the 32-byte hash whose big-endian value is x.
/// Costs one PBKDF2-HMAC-SHA512 of 100,000 iterations.
pub fn password_hash(password: &[u8], salt1: &[u8], salt2: &[u8]) -> [u8; 32] {
    let ph1 = sh(&sh(password, salt1), salt2);
    let mut stretched = [0u8; 64];
    pbkdf2::pbkdf2::<Hmac<Sha512>>(&ph1, salt1, PBKDF2_ITERATIONS, &mut stretched)
        .expect("any output length is valid for HMAC");
    sh(&stretched, salt2)
}

/// v = g^x mod p, padded to 256 bytes: what `passwordInputSettings.new_password_hash` carries
/// and what a server stores instead of the password.
pub fn verifier(password: &[u8], salt1: &[u8], salt2: &[u8]) -> [u8; 256] {
    let x = BigUint::from_bytes_be(&password_hash(password, salt1, salt2));
    let v = BigUint::from(G).modpow(&x, &prime());
    pad256(&v.to_bytes_be())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prime_is_the_2048_bit_safe_prime_with_g3() {
        let p = prime();
        assert_eq!(p.bits(), 2048);
        assert_eq!(&p % 3u32, BigUint::from(2u32));
        assert!(grammers_crypto::two_factor_auth::check_p_and_g(
            &prime_bytes(),
            &3
        ));
    }

    #[test]
    fn verifier_matches_grammers_client_proof() {
        // The client proof grammers computes for a password must match an SRP server that
        // stores our verifier: run the server side of the exchange here with b fixed.
        let (salt1, salt2, password) = (b"salt-one-40-bytes...", b"salt-two", b"hunter2");
        let p = prime();
        let g = BigUint::from(G);
        let v = BigUint::from_bytes_be(&verifier(password, salt1, salt2));
        let b = BigUint::from_bytes_be(&[0x42; 256]) % &p;
        let k = BigUint::from_bytes_be(
            &Sha256::new()
                .chain_update(prime_bytes())
                .chain_update(pad256(&[3]))
                .finalize(),
        );
        let big_b = (k * &v + g.modpow(&b, &p)) % &p;
        let a = vec![0x17u8; 256];
        let (m1, g_a) = grammers_crypto::two_factor_auth::calculate_2fa(
            salt1,
            salt2,
            &prime_bytes(),
            &3,
            big_b.to_bytes_be(),
            a,
            password,
        );
        let big_a = BigUint::from_bytes_be(&g_a);
        let u = BigUint::from_bytes_be(
            &Sha256::new()
                .chain_update(pad256(&g_a))
                .chain_update(pad256(&big_b.to_bytes_be()))
                .finalize(),
        );
        let s = (big_a * v.modpow(&u, &p)).modpow(&b, &p);
        let k_s = Sha256::digest(pad256(&s.to_bytes_be()));
        let hp = Sha256::digest(prime_bytes());
        let hg = Sha256::digest(pad256(&[3]));
        let xor: Vec<u8> = hp.iter().zip(hg.iter()).map(|(x, y)| x ^ y).collect();
        let expected = Sha256::new()
            .chain_update(xor)
            .chain_update(Sha256::digest(salt1))
            .chain_update(Sha256::digest(salt2))
            .chain_update(pad256(&g_a))
            .chain_update(pad256(&big_b.to_bytes_be()))
            .chain_update(k_s)
            .finalize();
        assert_eq!(m1.as_slice(), expected.as_slice());
    }
}
