//! Is the server's 2FA group (p, g) one Telegram's SRP guide accepts: p a 2048-bit safe prime
//! and g a generator of the subgroup of order (p - 1) / 2?
//!
//! The safe-prime test costs about a quarter of a second, and Telegram sends the same p on
//! every login. The guide allows caching primes once verified, so: Telegram's own p is known
//! good (it is our constant `crypto::srp::PRIME_HEX`, proved safe by that module's tests),
//! any other p is tested once per process and remembered by its SHA-256. The generator check
//! is a few remainders and runs every time.
//!
//! The cache is in memory only. A login in a fresh process against a server with a foreign
//! prime pays the test again; that is a sandbox or a non-Telegram server, rare enough that
//! a persisted list of "trusted" primes (one more file to protect) is not worth having.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use num_bigint::BigUint;
use sha2::{Digest, Sha256};

use super::error::TgError;
use crate::crypto::srp;

/// Primes verified safe, and how many primality tests were run (for tests and benches).
pub struct GroupCheck {
    verified: Mutex<Vec<[u8; 32]>>,
    tests: AtomicUsize,
    is_safe_prime: fn(&[u8]) -> bool,
}

/// The process-wide check every 2FA login and password change goes through.
pub static GROUPS: GroupCheck = GroupCheck::new(is_safe_prime);

/// Telegram's p as bytes, compared against what the server sent.
static TELEGRAM_P: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(srp::prime_bytes);

/// The probabilistic safe-prime test (grammers-crypto). With g = 4 its subgroup condition
/// always holds, so this is the primality test alone.
fn is_safe_prime(p: &[u8]) -> bool {
    grammers_crypto::two_factor_auth::check_p_and_g(p, &4)
}

impl GroupCheck {
    /// A check with its own cache, using `is_safe_prime` for primes it does not know.
    pub const fn new(is_safe_prime: fn(&[u8]) -> bool) -> GroupCheck {
        GroupCheck {
            verified: Mutex::new(Vec::new()),
            tests: AtomicUsize::new(0),
            is_safe_prime,
        }
    }

    /// Ok when p is a safe prime and g generates the right subgroup. The caller has checked
    /// the shape first (`password::validate_srp_params`: 2048-bit p, g in 2..=7).
    pub fn check(&self, p: &[u8], g: i32) -> Result<(), TgError> {
        if !generates_subgroup(p, g) {
            return Err(TgError::BadSrpParameter(
                "g does not generate the subgroup of order (p - 1) / 2",
            ));
        }
        if p == TELEGRAM_P.as_slice() {
            return Ok(());
        }
        let digest: [u8; 32] = Sha256::digest(p).into();
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.contains(&digest) {
            return Ok(());
        }
        // Tested under the lock: two logins at once against a new prime test it once.
        self.tests.fetch_add(1, Ordering::Relaxed);
        if !(self.is_safe_prime)(p) {
            return Err(TgError::BadSrpParameter("p is not a safe prime"));
        }
        verified.push(digest);
        Ok(())
    }

    /// How many primality tests this check has run.
    pub fn primality_tests(&self) -> usize {
        self.tests.load(Ordering::Relaxed)
    }
}

/// Telegram's conditions on p for each g (core.telegram.org/api/srp): with them, g is a
/// quadratic residue mod a safe prime p and so generates the subgroup of order (p - 1) / 2.
fn generates_subgroup(p: &[u8], g: i32) -> bool {
    let p = BigUint::from_bytes_be(p);
    let rem = |m: u32| -> u32 { (&p % m).try_into().unwrap_or(u32::MAX) };
    match g {
        2 => rem(8) == 7,
        3 => rem(3) == 2,
        4 => true,
        5 => matches!(rem(5), 1 | 4),
        6 => matches!(rem(24), 19 | 23),
        7 => matches!(rem(7), 3 | 5 | 6),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn says_safe(_: &[u8]) -> bool {
        true
    }

    fn says_unsafe(_: &[u8]) -> bool {
        false
    }

    /// Telegram's p plus 4: odd, 2048 bits, and divisible by 3 (p = 2 mod 3), so not a prime.
    fn other_p() -> Vec<u8> {
        let p = srp::prime() + BigUint::from(4u8);
        p.to_bytes_be()
    }

    #[test]
    fn telegram_prime_is_never_tested() {
        let check = GroupCheck::new(says_unsafe);
        for _ in 0..3 {
            check.check(&srp::prime_bytes(), srp::G as i32).unwrap();
        }
        assert_eq!(check.primality_tests(), 0);
    }

    #[test]
    fn another_prime_is_tested_once_then_remembered() {
        let check = GroupCheck::new(says_safe);
        for _ in 0..3 {
            check.check(&other_p(), 4).unwrap();
        }
        assert_eq!(check.primality_tests(), 1);
    }

    #[test]
    fn an_unsafe_prime_is_refused_every_time_and_never_remembered() {
        let check = GroupCheck::new(says_unsafe);
        for n in 1..=2 {
            assert!(matches!(
                check.check(&other_p(), 4),
                Err(TgError::BadSrpParameter("p is not a safe prime"))
            ));
            assert_eq!(check.primality_tests(), n);
        }
    }

    #[test]
    fn the_real_test_refuses_a_composite_and_accepts_telegrams_prime() {
        assert!(!is_safe_prime(&other_p()));
        assert!(GROUPS.check(&other_p(), 4).is_err());
        assert!(is_safe_prime(&srp::prime_bytes()));
    }

    #[test]
    fn a_wrong_generator_is_refused_without_a_primality_test() {
        let check = GroupCheck::new(says_safe);
        // Telegram's p is not 7 mod 8, so 2 is not a quadratic residue: g = 2 is refused.
        let p = srp::prime_bytes();
        assert_ne!(&srp::prime() % 8u32, BigUint::from(7u32));
        assert!(matches!(
            check.check(&p, 2),
            Err(TgError::BadSrpParameter(_))
        ));
        assert!(check.check(&other_p(), 3).is_err());
        assert_eq!(check.primality_tests(), 0);
    }
}
