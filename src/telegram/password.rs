//! 2FA password math on the client side: the SRP proof for the current password (grammers'
//! `calculate_2fa`) and the settings for a new password (PH2 and v = g^x mod p from
//! `crate::crypto::srp`, which grammers-crypto lacks).

use grammers_tl_types as tl;
use num_bigint::BigUint;
use zeroize::Zeroizing;

use super::error::TgError;
use super::srp_group::{GROUPS, GroupCheck};
use super::types::PasswordChallenge;
use crate::crypto::srp;
use crate::secret::SecretString;

type ModPow = tl::types::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow;

/// Bytes the client appends to the server's `new_algo.salt1` (as Telegram's apps do).
pub const NEW_SALT1_EXTRA: usize = 32;

fn mod_pow(algo: &tl::enums::PasswordKdfAlgo) -> Result<&ModPow, TgError> {
    match algo {
        tl::enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(a) => Ok(a),
        tl::enums::PasswordKdfAlgo::Unknown => Err(TgError::unexpected(
            "the server uses a 2FA password algorithm this client does not know",
        )),
    }
}

/// Longest salt accepted from the server (Telegram's are 8 to 40 bytes).
const MAX_SALT: usize = 1024;

/// Checks the shape of every SRP parameter the server sent, before any of it reaches grammers'
/// math, which panics on a g outside 2..=7 or an srp_B longer than 256 bytes. `srp_b` is
/// `None` for a `new_algo` (no SRP exchange yet). Cheap: the primality test is [`check_group`].
fn validate_srp_params(algo: &ModPow, srp_b: Option<&[u8]>) -> Result<(), TgError> {
    let bad = TgError::BadSrpParameter;
    if !(2..=7).contains(&algo.g) {
        return Err(bad("g is not a generator between 2 and 7"));
    }
    if algo.p.len() != 256 || algo.p[0] & 0x80 == 0 {
        return Err(bad("p is not a 2048-bit number"));
    }
    for salt in [&algo.salt1, &algo.salt2] {
        if salt.is_empty() || salt.len() > MAX_SALT {
            return Err(bad("a salt is empty or too long"));
        }
    }
    if let Some(b) = srp_b {
        // Telegram requires 1 < g_b < p - 1; a longer or zero-padded-to-more value is refused.
        let p = BigUint::from_bytes_be(&algo.p);
        let g_b = BigUint::from_bytes_be(b);
        let one = BigUint::from(1u8);
        if b.len() > 256 || g_b <= one || g_b >= p - &one {
            return Err(bad("srp_B is outside 1 < g_b < p - 1"));
        }
    }
    Ok(())
}

/// Checks p and g as Telegram requires (safe 2048-bit prime, g a generator); Telegram's p
/// and primes already verified are not tested again (see [`super::srp_group`]). Call
/// [`validate_srp_params`] first: grammers panics on some values it lets through.
fn check_group(groups: &GroupCheck, algo: &ModPow) -> Result<(), TgError> {
    groups.check(&algo.p, algo.g)
}

/// The SRP proof of `password` against a challenge: `inputCheckPasswordEmpty` when the account
/// has no password, else `inputCheckPasswordSRP{srp_id, A, M1}`. Costs one PBKDF2 (100,000
/// iterations of HMAC-SHA512).
pub fn srp_check(
    challenge: &PasswordChallenge,
    password: Option<&SecretString>,
) -> Result<tl::enums::InputCheckPasswordSrp, TgError> {
    srp_check_with(&GROUPS, challenge, password)
}

/// [`srp_check`] with the given group check (tests pass one with its own cache and counter).
fn srp_check_with(
    groups: &GroupCheck,
    challenge: &PasswordChallenge,
    password: Option<&SecretString>,
) -> Result<tl::enums::InputCheckPasswordSrp, TgError> {
    let info = &challenge.0;
    if !info.has_password {
        return Ok(tl::enums::InputCheckPasswordSrp::InputCheckPasswordEmpty);
    }
    let password = password.ok_or(TgError::PasswordRequired)?;
    let algo = mod_pow(
        info.current_algo
            .as_ref()
            .ok_or_else(|| TgError::unexpected("account.password without current_algo"))?,
    )?;
    let (srp_b, srp_id) = match (&info.srp_b, info.srp_id) {
        (Some(b), Some(id)) => (b.clone(), id),
        _ => {
            return Err(TgError::unexpected(
                "account.password without srp_B or srp_id",
            ));
        }
    };
    validate_srp_params(algo, Some(&srp_b))?;
    check_group(groups, algo)?;
    if info.secure_random.len() > 256 || info.secure_random.is_empty() {
        return Err(TgError::unexpected(
            "account.password with a bad secure_random",
        ));
    }
    let a = Zeroizing::new(info.secure_random.clone());
    let (m1, g_a) = grammers_crypto::two_factor_auth::calculate_2fa(
        &algo.salt1,
        &algo.salt2,
        &algo.p,
        &algo.g,
        srp_b,
        a.to_vec(),
        password.reveal().as_bytes(),
    );
    Ok(tl::types::InputCheckPasswordSrp {
        srp_id,
        a: g_a.to_vec(),
        m1: m1.to_vec(),
    }
    .into())
}

/// What the account's password should become.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NewPassword {
    Set {
        password: SecretString,
        hint: Option<String>,
        email: Option<String>,
    },
    Remove,
}

/// `account.passwordInputSettings` for `new`, built on the server's `new_algo`. `extra_salt`
/// (32 random bytes in real use) is appended to `new_algo.salt1`.
pub fn new_settings_with_salt(
    new_algo: &tl::enums::PasswordKdfAlgo,
    new: &NewPassword,
    extra_salt: &[u8; NEW_SALT1_EXTRA],
) -> Result<tl::enums::account::PasswordInputSettings, TgError> {
    let (password, hint, email) = match new {
        NewPassword::Remove => {
            return Ok(tl::types::account::PasswordInputSettings {
                new_algo: Some(tl::enums::PasswordKdfAlgo::Unknown),
                new_password_hash: Some(Vec::new()),
                hint: Some(String::new()),
                email: None,
                new_secure_settings: None,
            }
            .into());
        }
        NewPassword::Set {
            password,
            hint,
            email,
        } => (password, hint, email),
    };
    if password.is_empty() {
        return Err(TgError::PasswordState("the new password is empty"));
    }
    let algo = mod_pow(new_algo)?;
    validate_srp_params(algo, None)?;
    check_group(&GROUPS, algo)?;
    if algo.p != srp::prime_bytes() || algo.g != srp::G as i32 {
        // `srp::verifier` is written for Telegram's one group; any other is refused.
        return Err(TgError::unexpected(
            "the server proposed a 2FA group other than Telegram's",
        ));
    }
    let mut salt1 = algo.salt1.clone();
    salt1.extend_from_slice(extra_salt);
    let hash = srp::verifier(password.reveal().as_bytes(), &salt1, &algo.salt2);
    Ok(tl::types::account::PasswordInputSettings {
        new_algo: Some(
            ModPow {
                salt1,
                salt2: algo.salt2.clone(),
                g: algo.g,
                p: algo.p.clone(),
            }
            .into(),
        ),
        new_password_hash: Some(hash.to_vec()),
        hint: Some(hint.clone().unwrap_or_default()),
        email: email.clone(),
        new_secure_settings: None,
    }
    .into())
}

/// Like [`new_settings_with_salt`] with fresh random salt bytes.
pub fn new_settings(
    new_algo: &tl::enums::PasswordKdfAlgo,
    new: &NewPassword,
) -> Result<tl::enums::account::PasswordInputSettings, TgError> {
    let mut extra = Zeroizing::new([0u8; NEW_SALT1_EXTRA]);
    getrandom::fill(extra.as_mut())
        .map_err(|e| TgError::unexpected(format!("the OS random source failed: {e}")))?;
    new_settings_with_salt(new_algo, new, &extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_new_algo() -> tl::enums::PasswordKdfAlgo {
        ModPow {
            salt1: vec![1; 8],
            salt2: vec![2; 16],
            g: 3,
            p: srp::prime_bytes(),
        }
        .into()
    }

    #[test]
    fn new_salt1_is_server_prefix_plus_extra_and_hash_is_the_verifier() {
        let extra = [9u8; 32];
        let new = NewPassword::Set {
            password: SecretString::new("hunter2"),
            hint: Some("pets".into()),
            email: None,
        };
        let tl::enums::account::PasswordInputSettings::Settings(s) =
            new_settings_with_salt(&server_new_algo(), &new, &extra).unwrap();
        let Some(tl::enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(
            algo,
        )) = &s.new_algo
        else {
            panic!("no algo")
        };
        assert_eq!(algo.salt1.len(), 40);
        assert_eq!(&algo.salt1[..8], &[1; 8]);
        assert_eq!(&algo.salt1[8..], &extra);
        assert_eq!(algo.salt2, vec![2; 16]);
        let hash = s.new_password_hash.unwrap();
        assert_eq!(
            hash,
            srp::verifier(b"hunter2", &algo.salt1, &algo.salt2).to_vec()
        );
        let v = BigUint::from_bytes_be(&hash);
        assert!(v > BigUint::from(1u8) && v < srp::prime());
        assert_eq!(s.hint.as_deref(), Some("pets"));
    }

    #[test]
    fn random_salts_differ_between_calls() {
        let new = NewPassword::Set {
            password: SecretString::new("x"),
            hint: None,
            email: None,
        };
        let salt = |s: tl::enums::account::PasswordInputSettings| {
            let tl::enums::account::PasswordInputSettings::Settings(s) = s;
            s.new_password_hash.unwrap()
        };
        let a = salt(new_settings(&server_new_algo(), &new).unwrap());
        let b = salt(new_settings(&server_new_algo(), &new).unwrap());
        assert_ne!(a, b);
    }

    #[test]
    fn remove_sends_unknown_algo_and_empty_hash() {
        let tl::enums::account::PasswordInputSettings::Settings(s) =
            new_settings_with_salt(&server_new_algo(), &NewPassword::Remove, &[0; 32]).unwrap();
        assert_eq!(s.new_algo, Some(tl::enums::PasswordKdfAlgo::Unknown));
        assert_eq!(s.new_password_hash, Some(Vec::new()));
    }

    #[test]
    fn a_foreign_group_is_refused() {
        let algo: tl::enums::PasswordKdfAlgo = ModPow {
            salt1: vec![1; 8],
            salt2: vec![2; 16],
            g: 3,
            p: vec![0xff; 256],
        }
        .into();
        let new = NewPassword::Set {
            password: SecretString::new("x"),
            hint: None,
            email: None,
        };
        assert!(new_settings_with_salt(&algo, &new, &[0; 32]).is_err());
    }

    #[test]
    fn no_password_checks_as_empty() {
        let challenge = PasswordChallenge::new(tl::types::account::Password {
            has_recovery: false,
            has_secure_values: false,
            has_password: false,
            current_algo: None,
            srp_b: None,
            srp_id: None,
            hint: None,
            email_unconfirmed_pattern: None,
            new_algo: server_new_algo(),
            new_secure_algo: tl::enums::SecurePasswordKdfAlgo::Unknown,
            secure_random: vec![7; 256],
            pending_reset_date: None,
            login_email_pattern: None,
        });
        assert_eq!(
            srp_check(&challenge, None).unwrap(),
            tl::enums::InputCheckPasswordSrp::InputCheckPasswordEmpty
        );
    }

    fn challenge_with(algo: ModPow, srp_b: Vec<u8>) -> PasswordChallenge {
        PasswordChallenge::new(tl::types::account::Password {
            has_recovery: false,
            has_secure_values: false,
            has_password: true,
            current_algo: Some(algo.into()),
            srp_b: Some(srp_b),
            srp_id: Some(1),
            hint: None,
            email_unconfirmed_pattern: None,
            new_algo: server_new_algo(),
            new_secure_algo: tl::enums::SecurePasswordKdfAlgo::Unknown,
            secure_random: vec![7; 256],
            pending_reset_date: None,
            login_email_pattern: None,
        })
    }

    fn telegram_algo() -> ModPow {
        ModPow {
            salt1: vec![1; 40],
            salt2: vec![2; 16],
            g: 3,
            p: srp::prime_bytes(),
        }
    }

    /// Every way a hostile server can bend the SRP parameters: each is a typed error (grammers
    /// panics on the g values and the long srp_B), never a panic.
    #[test]
    fn bad_server_srp_parameters_are_typed_errors() {
        let good_b = vec![5; 256];
        let mut p_minus_one = srp::prime_bytes();
        *p_minus_one.last_mut().unwrap() -= 1;
        let mut cases: Vec<(&str, ModPow, Vec<u8>)> = Vec::new();
        for g in [i32::MIN, -1, 0, 1, 8, 9, 255, 256 + 3, i32::MAX] {
            cases.push((
                "g",
                ModPow {
                    g,
                    ..telegram_algo()
                },
                good_b.clone(),
            ));
        }
        for p in [vec![], vec![0xff; 255], vec![0xff; 257], vec![0; 256], {
            let mut short = srp::prime_bytes();
            short[0] = 0x7f;
            short
        }] {
            cases.push((
                "p",
                ModPow {
                    p,
                    ..telegram_algo()
                },
                good_b.clone(),
            ));
        }
        cases.push((
            "salt1",
            ModPow {
                salt1: vec![],
                ..telegram_algo()
            },
            good_b.clone(),
        ));
        cases.push((
            "salt2",
            ModPow {
                salt2: vec![0; MAX_SALT + 1],
                ..telegram_algo()
            },
            good_b.clone(),
        ));
        for b in [
            vec![],
            vec![0; 256],
            vec![1],
            vec![0xff; 257],
            srp::prime_bytes(),
            p_minus_one,
        ] {
            cases.push(("srp_B", telegram_algo(), b));
        }
        let password = SecretString::new("x");
        for (what, algo, b) in cases {
            let result = srp_check(&challenge_with(algo, b), Some(&password));
            assert!(
                matches!(result, Err(TgError::BadSrpParameter(_))),
                "{what}: {result:?}"
            );
        }
    }

    #[test]
    fn a_bad_new_algo_g_is_a_typed_error() {
        let new = NewPassword::Set {
            password: SecretString::new("x"),
            hint: None,
            email: None,
        };
        for g in [0, 1, 8, 100] {
            let algo: tl::enums::PasswordKdfAlgo = ModPow {
                g,
                ..telegram_algo()
            }
            .into();
            let result = new_settings_with_salt(&algo, &new, &[0; 32]);
            assert!(
                matches!(result, Err(TgError::BadSrpParameter(_))),
                "g {g}: {result:?}"
            );
        }
    }

    /// Repeated logins against Telegram's group run no primality test; a server with an
    /// unsafe prime (Telegram's p + 4, a multiple of 3) is refused before any proof is made.
    #[test]
    fn logins_skip_the_prime_test_for_telegrams_p_and_refuse_an_unsafe_one() {
        fn count_only(_: &[u8]) -> bool {
            false
        }
        let groups = GroupCheck::new(count_only);
        let password = SecretString::new("x");
        for _ in 0..3 {
            let check = srp_check_with(
                &groups,
                &challenge_with(telegram_algo(), vec![5; 256]),
                Some(&password),
            );
            assert!(
                matches!(check, Ok(tl::enums::InputCheckPasswordSrp::Srp(_))),
                "{check:?}"
            );
        }
        assert_eq!(groups.primality_tests(), 0);

        let unsafe_p = (srp::prime() + BigUint::from(4u8)).to_bytes_be();
        let algo = ModPow {
            p: unsafe_p,
            g: 4,
            ..telegram_algo()
        };
        let real = GroupCheck::new(|p| grammers_crypto::two_factor_auth::check_p_and_g(p, &4));
        for n in 1..=2 {
            let result = srp_check_with(
                &real,
                &challenge_with(algo.clone(), vec![5; 256]),
                Some(&password),
            );
            assert!(
                matches!(result, Err(TgError::BadSrpParameter(_))),
                "{result:?}"
            );
            assert_eq!(real.primality_tests(), n);
        }
    }

    #[test]
    fn telegram_parameters_pass_the_validation() {
        assert!(validate_srp_params(&telegram_algo(), Some(&[5; 256])).is_ok());
        assert!(validate_srp_params(&telegram_algo(), None).is_ok());
    }
}
