//! The server side of Telegram's SRP 2FA (core.telegram.org/api/srp), over the shared
//! password math in `crate::crypto::srp`. The server stores salts and the verifier only.

use std::collections::HashMap;
use std::sync::Mutex;

use num_bigint::BigUint;
use sha2::{Digest, Sha256};

use super::crypto::constant_time_eq;
use super::state::{PasswordRecord, random_nonzero_i64};
use crate::crypto::srp::{G, pad256, prime, prime_bytes};

/// How long a getPassword answer may be used for checkPassword.
const CHALLENGE_TTL_SECS: i64 = 600;

/// Why an SRP proof was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrpError {
    /// Unknown, used or expired srp_id: SRP_ID_INVALID.
    UnknownId,
    /// The password changed since getPassword: SRP_PASSWORD_CHANGED.
    PasswordChanged,
    /// Wrong proof (or an A out of range): PASSWORD_HASH_INVALID.
    WrongProof,
}

struct Challenge {
    user_id: i64,
    verifier: Vec<u8>,
    b: BigUint,
    big_b: [u8; 256],
    expires: i64,
}

/// Outstanding getPassword challenges (single use) and the new-password salts handed out.
#[derive(Default)]
pub struct SrpBook {
    challenges: Mutex<HashMap<i64, Challenge>>,
    /// Per account: `(salt1 prefix, salt2)` of recent `new_algo`s.
    issued_salts: Mutex<HashMap<i64, Vec<IssuedSalts>>>,
}

type IssuedSalts = ([u8; 8], [u8; 16]);

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the OS random source failed");
    b
}

fn k_multiplier() -> BigUint {
    BigUint::from_bytes_be(
        &Sha256::new()
            .chain_update(prime_bytes())
            .chain_update(pad256(&[G as u8]))
            .finalize(),
    )
}

impl SrpBook {
    /// A fresh challenge for `password`: returns `(srp_id, srp_B)`.
    pub fn challenge(&self, user_id: i64, password: &PasswordRecord, now: i64) -> (i64, [u8; 256]) {
        let p = prime();
        let v = BigUint::from_bytes_be(&password.verifier);
        let b = BigUint::from_bytes_be(&random_bytes::<256>()) % &p;
        let big_b = (k_multiplier() * &v + BigUint::from(G).modpow(&b, &p)) % &p;
        let big_b = pad256(&big_b.to_bytes_be());
        let srp_id = random_nonzero_i64();
        let mut map = self.challenges.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, c| c.expires > now);
        map.insert(
            srp_id,
            Challenge {
                user_id,
                verifier: password.verifier.clone(),
                b,
                big_b,
                expires: now + CHALLENGE_TTL_SECS,
            },
        );
        (srp_id, big_b)
    }

    /// Checks `(A, M1)` against challenge `srp_id` (consumed whatever the outcome).
    pub fn verify(
        &self,
        user_id: i64,
        password: &PasswordRecord,
        srp_id: i64,
        a: &[u8],
        m1: &[u8],
        now: i64,
    ) -> Result<(), SrpError> {
        let challenge = {
            let mut map = self.challenges.lock().unwrap_or_else(|e| e.into_inner());
            map.remove(&srp_id)
        };
        let Some(c) = challenge.filter(|c| c.expires > now && c.user_id == user_id) else {
            return Err(SrpError::UnknownId);
        };
        if c.verifier != password.verifier {
            return Err(SrpError::PasswordChanged);
        }
        let expected = expected_m1(password, &c.b, &c.big_b, a).ok_or(SrpError::WrongProof)?;
        if constant_time_eq(&expected, m1) {
            Ok(())
        } else {
            Err(SrpError::WrongProof)
        }
    }

    /// Fresh salts for `new_algo`: 8 bytes of salt1 (the client appends 32) and salt2.
    pub fn issue_new_salts(&self, user_id: i64) -> ([u8; 8], [u8; 16]) {
        let salts = (random_bytes::<8>(), random_bytes::<16>());
        let mut map = self.issued_salts.lock().unwrap_or_else(|e| e.into_inner());
        let list = map.entry(user_id).or_default();
        list.push(salts);
        if list.len() > 16 {
            list.remove(0);
        }
        salts
    }

    /// Whether `salt1`/`salt2` of a new password extend salts issued to this user.
    pub fn new_salts_ok(&self, user_id: i64, salt1: &[u8], salt2: &[u8]) -> bool {
        let map = self.issued_salts.lock().unwrap_or_else(|e| e.into_inner());
        salt1.len() == 40
            && map.get(&user_id).is_some_and(|list| {
                list.iter()
                    .any(|(s1, s2)| salt1[..8] == s1[..] && salt2 == &s2[..])
            })
    }
}

fn expected_m1(
    password: &PasswordRecord,
    b: &BigUint,
    big_b: &[u8; 256],
    a: &[u8],
) -> Option<[u8; 32]> {
    let p = prime();
    let big_a = BigUint::from_bytes_be(a);
    let one = BigUint::from(1u32);
    if big_a <= one || big_a >= &p - &one {
        return None;
    }
    let a_pad = pad256(&big_a.to_bytes_be());
    let u = BigUint::from_bytes_be(
        &Sha256::new()
            .chain_update(a_pad)
            .chain_update(big_b)
            .finalize(),
    );
    if u == BigUint::from(0u32) {
        return None;
    }
    let v = BigUint::from_bytes_be(&password.verifier);
    let s = (big_a * v.modpow(&u, &p)).modpow(b, &p);
    let k = Sha256::digest(pad256(&s.to_bytes_be()));
    let hp = Sha256::digest(prime_bytes());
    let hg = Sha256::digest(pad256(&[G as u8]));
    let xor: Vec<u8> = hp.iter().zip(hg.iter()).map(|(x, y)| x ^ y).collect();
    Some(
        Sha256::new()
            .chain_update(xor)
            .chain_update(Sha256::digest(&password.salt1))
            .chain_update(Sha256::digest(&password.salt2))
            .chain_update(a_pad)
            .chain_update(big_b)
            .chain_update(k)
            .finalize()
            .into(),
    )
}

/// Whether a new verifier is a valid group element (1 < v < p).
pub fn verifier_in_range(v: &[u8]) -> bool {
    let v = BigUint::from_bytes_be(v);
    v > BigUint::from(1u32) && v < prime()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::srp::verifier;

    fn record(password: &[u8]) -> PasswordRecord {
        let (salt1, salt2) = (vec![1u8; 40], vec![2u8; 16]);
        PasswordRecord {
            verifier: verifier(password, &salt1, &salt2).to_vec(),
            salt1,
            salt2,
            hint: None,
        }
    }

    fn client_proof(
        rec: &PasswordRecord,
        big_b: &[u8; 256],
        password: &[u8],
    ) -> (Vec<u8>, Vec<u8>) {
        let (m1, g_a) = grammers_crypto::two_factor_auth::calculate_2fa(
            &rec.salt1,
            &rec.salt2,
            &prime_bytes(),
            &3,
            big_b.to_vec(),
            random_bytes::<256>().to_vec(),
            password,
        );
        (g_a.to_vec(), m1.to_vec())
    }

    #[test]
    fn accepts_grammers_proof_once_and_refuses_wrong_password() {
        let book = SrpBook::default();
        let rec = record(b"sandbox");
        let (id, big_b) = book.challenge(7, &rec, 100);
        let (a, m1) = client_proof(&rec, &big_b, b"sandbox");
        assert_eq!(book.verify(7, &rec, id, &a, &m1, 101), Ok(()));
        assert_eq!(
            book.verify(7, &rec, id, &a, &m1, 101),
            Err(SrpError::UnknownId)
        );
        let (id, big_b) = book.challenge(7, &rec, 100);
        let (a, m1) = client_proof(&rec, &big_b, b"wrong");
        assert_eq!(
            book.verify(7, &rec, id, &a, &m1, 101),
            Err(SrpError::WrongProof)
        );
        let (id, _) = book.challenge(7, &rec, 100);
        assert_eq!(
            book.verify(7, &rec, id, &[1], &m1, 101),
            Err(SrpError::WrongProof)
        );
    }

    #[test]
    fn issued_salts_are_checked() {
        let book = SrpBook::default();
        let (s1, s2) = book.issue_new_salts(3);
        let mut salt1 = s1.to_vec();
        salt1.extend([9u8; 32]);
        assert!(book.new_salts_ok(3, &salt1, &s2));
        assert!(!book.new_salts_ok(4, &salt1, &s2));
        assert!(!book.new_salts_ok(3, &s1, &s2));
        assert!(verifier_in_range(&[5]));
        assert!(!verifier_in_range(&[1]));
    }
}
