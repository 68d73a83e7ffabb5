//! The sandbox's own RSA key for server-side DH (clients that let you add a key, like
//! Telethon's `telethon.crypto.rsa.add_key`). grammers only trusts Telegram's keys, so it
//! uses provisioned keys instead.

use num_bigint::BigUint;
use num_traits::{One, Zero};
use sha1::{Digest, Sha1};

use grammers_tl_types::Serializable;

/// An RSA key pair (2048-bit modulus, e = 65537).
#[derive(Clone)]
pub struct RsaKey {
    pub n: BigUint,
    pub e: BigUint,
    d: BigUint,
}

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaKey(fingerprint {})", self.fingerprint())
    }
}

fn random_biguint(bytes: usize) -> BigUint {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).expect("the OS random source failed");
    BigUint::from_bytes_be(&b)
}

const SMALL_PRIMES: [u32; 54] = [
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193,
    197, 199, 211, 223, 227, 229, 233, 239, 241, 251,
];

/// Miller-Rabin with `rounds` random bases (after trial division by small primes).
pub fn is_probable_prime(n: &BigUint, rounds: usize) -> bool {
    let two = BigUint::from(2u32);
    if *n < two {
        return false;
    }
    for p in SMALL_PRIMES {
        let p = BigUint::from(p);
        if *n == p {
            return true;
        }
        if (n % &p).is_zero() {
            return false;
        }
    }
    let n_minus_1 = n - 1u32;
    let s = n_minus_1.trailing_zeros().unwrap_or(0);
    let d = &n_minus_1 >> s;
    let bytes = (n.bits() as usize).div_ceil(8);
    'witness: for _ in 0..rounds {
        let a = random_biguint(bytes) % (n - 3u32) + &two;
        let mut x = a.modpow(&d, n);
        if x.is_one() || x == n_minus_1 {
            continue;
        }
        for _ in 1..s {
            x = x.modpow(&two, n);
            if x == n_minus_1 {
                continue 'witness;
            }
        }
        return false;
    }
    true
}

/// A random prime of exactly `bits` bits (top two bits set, so products have 2 × bits).
pub fn random_prime(bits: u64) -> BigUint {
    loop {
        let mut candidate = random_biguint(bits.div_ceil(8) as usize);
        candidate.set_bit(bits - 1, true);
        candidate.set_bit(bits - 2, true);
        candidate.set_bit(0, true);
        for extra in bits..(bits.div_ceil(8) * 8) {
            candidate.set_bit(extra, false);
        }
        if is_probable_prime(&candidate, 24) {
            return candidate;
        }
    }
}

fn mod_inverse(a: &BigUint, m: &BigUint) -> Option<BigUint> {
    use num_bigint::BigInt;
    let (mut old_r, mut r) = (BigInt::from(a.clone()), BigInt::from(m.clone()));
    let (mut old_s, mut s) = (BigInt::one(), BigInt::zero());
    while !r.is_zero() {
        let q = &old_r / &r;
        (old_r, r) = (r.clone(), old_r - &q * &r);
        (old_s, s) = (s.clone(), old_s - &q * &s);
    }
    if !old_r.is_one() {
        return None;
    }
    let m = BigInt::from(m.clone());
    ((old_s % &m + &m) % &m).to_biguint()
}

impl RsaKey {
    /// A fresh 2048-bit key.
    pub fn generate() -> RsaKey {
        let e = BigUint::from(65537u32);
        loop {
            let p = random_prime(1024);
            let q = random_prime(1024);
            if p == q {
                continue;
            }
            let n = &p * &q;
            let phi = (&p - 1u32) * (&q - 1u32);
            if let Some(d) = mod_inverse(&e, &phi)
                && n.bits() == 2048
            {
                return RsaKey { n, e, d };
            }
        }
    }

    /// `(n, e, d)` as hex, for storing in the state.
    pub fn to_hex(&self) -> (String, String, String) {
        (
            self.n.to_str_radix(16),
            self.e.to_str_radix(16),
            self.d.to_str_radix(16),
        )
    }

    pub fn from_hex(n: &str, e: &str, d: &str) -> Option<RsaKey> {
        Some(RsaKey {
            n: BigUint::parse_bytes(n.as_bytes(), 16)?,
            e: BigUint::parse_bytes(e.as_bytes(), 16)?,
            d: BigUint::parse_bytes(d.as_bytes(), 16)?,
        })
    }

    /// Telegram's key fingerprint: the low 64 bits of SHA1(bytes(n) ‖ bytes(e)) in TL form.
    pub fn fingerprint(&self) -> i64 {
        let mut buf = Vec::new();
        self.n.to_bytes_be().serialize(&mut buf);
        self.e.to_bytes_be().serialize(&mut buf);
        let h = Sha1::digest(&buf);
        i64::from_le_bytes(h[12..20].try_into().expect("8 bytes"))
    }

    /// Raw RSA decryption, left-padded to 256 bytes.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Option<[u8; 256]> {
        let c = BigUint::from_bytes_be(ciphertext);
        if c >= self.n {
            return None;
        }
        Some(crate::crypto::srp::pad256(
            &c.modpow(&self.d, &self.n).to_bytes_be(),
        ))
    }

    /// The public key as PKCS#1 PEM (`-----BEGIN RSA PUBLIC KEY-----`).
    pub fn public_pem(&self) -> String {
        use base64::Engine;
        fn der_len(len: usize, out: &mut Vec<u8>) {
            if len < 128 {
                out.push(len as u8);
            } else if len < 256 {
                out.extend([0x81, len as u8]);
            } else {
                out.extend([0x82, (len >> 8) as u8, len as u8]);
            }
        }
        fn der_int(v: &BigUint, out: &mut Vec<u8>) {
            let mut bytes = v.to_bytes_be();
            if bytes[0] & 0x80 != 0 {
                bytes.insert(0, 0);
            }
            out.push(0x02);
            der_len(bytes.len(), out);
            out.extend(bytes);
        }
        let mut body = Vec::new();
        der_int(&self.n, &mut body);
        der_int(&self.e, &mut body);
        let mut der = vec![0x30];
        der_len(body.len(), &mut der);
        der.extend(body);
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let mut pem = String::from("-----BEGIN RSA PUBLIC KEY-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str("-----END RSA PUBLIC KEY-----\n");
        pem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primes_are_recognised() {
        assert!(is_probable_prime(&BigUint::from(4_294_967_291u64), 16));
        assert!(!is_probable_prime(&BigUint::from(4_294_967_293u64), 16));
        // A Carmichael number fools Fermat but not Miller-Rabin.
        assert!(!is_probable_prime(&BigUint::from(561u32), 16));
        let p = random_prime(64);
        assert_eq!(p.bits(), 64);
        assert!(is_probable_prime(&p, 16));
    }

    #[test]
    fn grammers_rsa_pad_round_trips_through_our_key() {
        let key = RsaKey::generate();
        assert_eq!(key.n.bits(), 2048);
        let public =
            grammers_crypto::rsa::Key::new(&key.n.to_str_radix(10), &key.e.to_str_radix(10))
                .unwrap();
        let data = b"p_q_inner_data stand-in".to_vec();
        let mut random = [0u8; 224];
        getrandom::fill(&mut random).unwrap();
        let c = grammers_crypto::rsa::encrypt_hashed(&data, &public, &random);
        let m = key.decrypt(&c).unwrap();
        assert_eq!(
            &super::super::dh::rsa_pad_unwrap(&m).unwrap()[..data.len()],
            &data[..]
        );
        let (n, e, d) = key.to_hex();
        let again = RsaKey::from_hex(&n, &e, &d).unwrap();
        assert_eq!(again.fingerprint(), key.fingerprint());
        assert!(
            key.public_pem()
                .starts_with("-----BEGIN RSA PUBLIC KEY-----\nMIIBCgKCAQEA")
        );
    }
}
