//! account.*: the 2FA password (getPassword, updatePasswordSettings with email
//! confirmation) and the list of authorizations.

use grammers_tl_types as tl;

use super::auth::check_srp;
use super::{Ctx, RpcError, RpcResult, ok};
use crate::crypto::srp::{G, prime_bytes};
use crate::sandbox::accounts::random_digits;
use crate::sandbox::srp::verifier_in_range;
use crate::sandbox::state::{DeviceInfo, PasswordRecord, PendingPassword, UserRecord};
use crate::secret::SecretString;

/// Digits in a recovery-email confirmation code (EMAIL_UNCONFIRMED_6).
pub const EMAIL_CODE_LENGTH: usize = 6;

fn algo(salt1: Vec<u8>, salt2: Vec<u8>) -> tl::enums::PasswordKdfAlgo {
    tl::enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(
        tl::types::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow {
            salt1,
            salt2,
            g: G as i32,
            p: prime_bytes(),
        },
    )
}

/// The account at the password step of a login, or the logged-in one.
pub(super) fn password_owner(ctx: &Ctx) -> Result<UserRecord, RpcError> {
    let key = ctx
        .state()
        .key(ctx.key_id)?
        .ok_or_else(|| RpcError::unauthorized("AUTH_KEY_UNREGISTERED"))?;
    let uid = key
        .user_id
        .or(key.pending_user_id)
        .ok_or_else(|| RpcError::unauthorized("AUTH_KEY_UNREGISTERED"))?;
    ctx.state()
        .user(uid)?
        .ok_or_else(|| RpcError::unauthorized("AUTH_KEY_UNREGISTERED"))
}

pub(super) fn email_pattern(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

pub fn get_password(ctx: &Ctx) -> RpcResult {
    let user = password_owner(ctx)?;
    let (new_salt1, new_salt2) = ctx.shared.srp.issue_new_salts(user.id);
    let mut secure_random = vec![0u8; 256];
    getrandom::fill(&mut secure_random).expect("the OS random source failed");
    let mut secure_salt = vec![0u8; 8];
    getrandom::fill(&mut secure_salt).expect("the OS random source failed");
    let (current_algo, srp_b, srp_id, hint) = match &user.password {
        Some(pw) => {
            let (id, big_b) = ctx.shared.srp.challenge(user.id, pw, ctx.now);
            (
                Some(algo(pw.salt1.clone(), pw.salt2.clone())),
                Some(big_b.to_vec()),
                Some(id),
                pw.hint.clone(),
            )
        }
        None => (None, None, None, None),
    };
    ok(tl::enums::account::Password::Password(
        tl::types::account::Password {
            has_recovery: user.email.is_some(),
            has_secure_values: false,
            has_password: user.password.is_some(),
            current_algo,
            srp_b,
            srp_id,
            hint,
            email_unconfirmed_pattern: user.pending.as_ref().map(|p| email_pattern(&p.email)),
            new_algo: algo(new_salt1.to_vec(), new_salt2.to_vec()),
            new_secure_algo: tl::enums::SecurePasswordKdfAlgo::Pbkdf2Hmacsha512iter100000(
                tl::types::SecurePasswordKdfAlgoPbkdf2Hmacsha512iter100000 { salt: secure_salt },
            ),
            secure_random,
            pending_reset_date: None,
            login_email_pattern: None,
        },
    ))
}

fn valid_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// The password the new settings describe: `Ok(None)` removes it.
pub(super) fn new_password(
    ctx: &Ctx,
    user: &UserRecord,
    s: &tl::types::account::PasswordInputSettings,
) -> Result<Option<PasswordRecord>, RpcError> {
    // Telegram removes the password on an empty hash whatever the algo: tdlib and Pyrogram
    // send passwordKdfAlgoUnknown, Telethon's edit_2fa the current new_algo.
    let empty_hash = s.new_password_hash.as_ref().is_some_and(|h| h.is_empty());
    match &s.new_algo {
        Some(tl::enums::PasswordKdfAlgo::Unknown) => Ok(None),
        Some(_) if empty_hash => Ok(None),
        Some(tl::enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(a)) => {
            if a.g != G as i32 || a.p != prime_bytes() {
                return Err(RpcError::bad("NEW_SETTINGS_INVALID"));
            }
            if !ctx.shared.srp.new_salts_ok(user.id, &a.salt1, &a.salt2) {
                return Err(RpcError::bad("NEW_SALT_INVALID"));
            }
            let hash = s
                .new_password_hash
                .as_ref()
                .filter(|h| h.len() == 256 && verifier_in_range(h))
                .ok_or_else(|| RpcError::bad("NEW_SETTINGS_INVALID"))?;
            Ok(Some(PasswordRecord {
                salt1: a.salt1.clone(),
                salt2: a.salt2.clone(),
                verifier: hash.clone(),
                hint: s.hint.clone().filter(|h| !h.is_empty()),
            }))
        }
        None => {
            let mut current = user.password.clone();
            if let (Some(pw), Some(hint)) = (current.as_mut(), &s.hint) {
                pw.hint = Some(hint.clone()).filter(|h| !h.is_empty());
            }
            Ok(current)
        }
    }
}

pub fn update_password_settings(
    ctx: &Ctx,
    req: tl::functions::account::UpdatePasswordSettings,
) -> RpcResult {
    let user = ctx.me()?;
    check_srp(ctx, &user, &req.password)?;
    let tl::enums::account::PasswordInputSettings::Settings(s) = req.new_settings;
    if s.new_algo.is_none()
        && s.new_password_hash.is_none()
        && s.hint.is_none()
        && s.email.is_none()
    {
        return Err(RpcError::bad("NEW_SETTINGS_EMPTY"));
    }
    let target = new_password(ctx, &user, &s)?;
    match s.email.as_deref() {
        Some(email) if !email.is_empty() => {
            if !valid_email(email) {
                return Err(RpcError::bad("EMAIL_INVALID"));
            }
            if target.is_none() {
                return Err(RpcError::bad("NEW_SETTINGS_INVALID"));
            }
            // The change waits until the code sent to the new address comes back.
            let code = random_digits(EMAIL_CODE_LENGTH);
            ctx.state().set_pending_password(
                user.id,
                Some(&PendingPassword {
                    password: target,
                    email: email.to_string(),
                    code: SecretString::new(code.clone()),
                }),
            )?;
            ctx.state()
                .push_outbox("email", email, &code, "password-email")?;
            Err(RpcError::bad(&format!(
                "EMAIL_UNCONFIRMED_{EMAIL_CODE_LENGTH}"
            )))
        }
        other => {
            let email = match (&target, other) {
                (None, _) | (_, Some("")) => None,
                _ => user.email.clone(),
            };
            ctx.state()
                .set_password(user.id, target.as_ref(), email.as_deref())?;
            ok(true)
        }
    }
}

pub fn confirm_password_email(
    ctx: &Ctx,
    req: tl::functions::account::ConfirmPasswordEmail,
) -> RpcResult {
    let user = ctx.me()?;
    let Some(pending) = user.pending else {
        return Err(RpcError::bad("EMAIL_HASH_EXPIRED"));
    };
    if !crate::sandbox::crypto::constant_time_eq(
        req.code.trim().as_bytes(),
        pending.code.reveal().as_bytes(),
    ) {
        return Err(RpcError::bad("CODE_INVALID"));
    }
    ctx.state().set_password(
        user.id,
        pending.password.as_ref(),
        Some(pending.email.as_str()),
    )?;
    ok(true)
}

pub fn resend_password_email(ctx: &Ctx) -> RpcResult {
    let user = ctx.me()?;
    let Some(pending) = user.pending else {
        return Err(RpcError::bad("EMAIL_HASH_EXPIRED"));
    };
    ctx.state().push_outbox(
        "email",
        &pending.email,
        pending.code.reveal(),
        "password-email",
    )?;
    ok(true)
}

pub fn cancel_password_email(ctx: &Ctx) -> RpcResult {
    let user = ctx.me()?;
    if user.pending.is_none() {
        return Err(RpcError::bad("EMAIL_HASH_EXPIRED"));
    }
    ctx.state().set_pending_password(user.id, None)?;
    ok(true)
}

pub fn tl_authorization(
    d: &DeviceInfo,
    hash: i64,
    current: bool,
    created: i64,
    active: i64,
) -> tl::enums::Authorization {
    tl::enums::Authorization::Authorization(tl::types::Authorization {
        current,
        official_app: false,
        password_pending: false,
        encrypted_requests_disabled: false,
        call_requests_disabled: false,
        unconfirmed: false,
        hash,
        device_model: d.device_model.clone(),
        platform: String::new(),
        system_version: d.system_version.clone(),
        api_id: d.api_id,
        app_name: format!("api_id {}", d.api_id),
        app_version: d.app_version.clone(),
        date_created: created as i32,
        date_active: active as i32,
        ip: "127.0.0.1".into(),
        country: "Sandbox".into(),
        region: String::new(),
    })
}

pub fn get_authorizations(ctx: &Ctx) -> RpcResult {
    let me = ctx.me()?;
    let list = ctx
        .state()
        .keys_of_user(me.id)?
        .iter()
        .map(|k| {
            let current = k.key_id == ctx.key_id;
            tl_authorization(
                &k.device,
                if current { 0 } else { k.auth_hash.unwrap_or(0) },
                current,
                k.authorized_at.unwrap_or(0),
                k.active_at.or(k.authorized_at).unwrap_or(0),
            )
        })
        .collect();
    ok(tl::enums::account::Authorizations::Authorizations(
        tl::types::account::Authorizations {
            authorization_ttl_days: 180,
            authorizations: list,
        },
    ))
}

pub fn reset_authorization(
    ctx: &Ctx,
    req: tl::functions::account::ResetAuthorization,
) -> RpcResult {
    let me = ctx.me()?;
    ctx.check_reset_allowed()?;
    if req.hash == 0 {
        return Err(RpcError::bad("HASH_INVALID"));
    }
    let target = ctx
        .state()
        .keys_of_user(me.id)?
        .into_iter()
        .find(|k| k.auth_hash == Some(req.hash) && k.key_id != ctx.key_id)
        .ok_or_else(|| RpcError::bad("HASH_INVALID"))?;
    ctx.state().unbind_key(target.key_id)?;
    ok(true)
}
