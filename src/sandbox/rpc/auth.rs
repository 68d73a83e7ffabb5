//! auth.*: phone login (sendCode, resendCode, signIn, signUp), 2FA login (checkPassword),
//! bots, logout, QR login tokens and exported authorizations.

use grammers_tl_types as tl;

use super::{Ctx, RpcError, RpcResult, authorization, flood_seconds, ok};
use crate::sandbox::accounts::{
    CODE_LENGTH, home_dc_for_phone, is_banned_number, login_code_for, normalize_phone,
};
use crate::sandbox::srp::SrpError;
use crate::sandbox::state::{CodeRecord, NewUserRecord, UserRecord, random_nonzero_i64};

/// How long a login code stays valid.
pub const CODE_TTL_SECS: i64 = 600;
/// At most this many wrong passwords per account within [`PASSWORD_WINDOW_SECS`].
pub const MAX_FAILED_PASSWORDS: i64 = 5;
pub const PASSWORD_WINDOW_SECS: i64 = 600;
/// How many times a code may be sent (first send included).
const MAX_CODE_SENDS: i32 = 3;
/// Wrong guesses after which a login code is dead (PHONE_CODE_EXPIRED), as on Telegram.
pub const MAX_WRONG_CODES: i64 = 5;

fn check_api(api_id: i32, api_hash: &str) -> Result<(), RpcError> {
    if api_id == 0 || api_hash.is_empty() {
        return Err(RpcError::bad("API_ID_INVALID"));
    }
    Ok(())
}

fn phone_arg(phone: &str) -> Result<String, RpcError> {
    normalize_phone(phone).ok_or_else(|| RpcError::bad("PHONE_NUMBER_INVALID"))
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).expect("the OS random source failed");
    hex::encode(b)
}

/// Where an account with this number lives (its DC, or the convention's for new numbers).
fn dc_of_phone(ctx: &Ctx, phone: &str) -> Result<(Option<UserRecord>, i32), RpcError> {
    let user = ctx.state().user_by_phone(phone)?;
    let dc = user
        .as_ref()
        .map(|u| u.dc_id)
        .unwrap_or_else(|| home_dc_for_phone(phone));
    Ok((user, dc))
}

fn sent_code(kind: &str, hash: String) -> tl::enums::auth::SentCode {
    let length = CODE_LENGTH as i32;
    let r#type = if kind == "app" {
        tl::enums::auth::SentCodeType::App(tl::types::auth::SentCodeTypeApp { length })
    } else {
        tl::enums::auth::SentCodeType::Sms(tl::types::auth::SentCodeTypeSms { length })
    };
    tl::enums::auth::SentCode::Code(tl::types::auth::SentCode {
        r#type,
        phone_code_hash: hash,
        next_type: Some(tl::enums::auth::CodeType::Sms),
        timeout: Some(60),
    })
}

pub fn send_code(ctx: &Ctx, req: tl::functions::auth::SendCode) -> RpcResult {
    check_api(req.api_id, &req.api_hash)?;
    let phone = phone_arg(&req.phone_number)?;
    if is_banned_number(&phone) {
        return Err(RpcError::bad("PHONE_NUMBER_BANNED"));
    }
    let (user, dc) = dc_of_phone(ctx, &phone)?;
    if user.as_ref().is_some_and(|u| u.is_bot) {
        return Err(RpcError::bad("PHONE_NUMBER_INVALID"));
    }
    if dc != ctx.dc_id {
        return Err(RpcError::migrate("PHONE", dc));
    }
    let tuning = &ctx.shared.tuning;
    let window = tuning.code_window.as_secs().max(1) as i64;
    // A request counts while now < at + window (whole seconds).
    let since = ctx.now - window + 1;
    let (count, oldest) = ctx.state().recent_code_requests(&phone, since)?;
    if count >= tuning.max_code_requests {
        return Err(RpcError::flood_wait(flood_seconds(oldest, window, ctx.now)));
    }
    ctx.state().record_code_request(&phone, since)?;
    let hash = random_hex(9);
    let code = login_code_for(&phone);
    ctx.state().insert_code(&hash, &phone, &code)?;
    // Existing accounts get the code in their other apps, new numbers by SMS.
    let channel = if user.is_some() { "app" } else { "sms" };
    ctx.state().push_outbox(channel, &phone, &code, "login")?;
    ok(sent_code(channel, hash))
}

/// A code for `phone` and `hash` that can still be used.
fn live_code(ctx: &Ctx, phone: &str, hash: &str) -> Result<CodeRecord, RpcError> {
    if hash.is_empty() {
        return Err(RpcError::bad("PHONE_CODE_HASH_EMPTY"));
    }
    match ctx.state().code(hash)? {
        Some(c) if c.phone == phone && !c.used && c.created + CODE_TTL_SECS > ctx.now => Ok(c),
        _ => Err(RpcError::bad("PHONE_CODE_EXPIRED")),
    }
}

pub fn resend_code(ctx: &Ctx, req: tl::functions::auth::ResendCode) -> RpcResult {
    let phone = phone_arg(&req.phone_number)?;
    let code = live_code(ctx, &phone, &req.phone_code_hash)?;
    if code.sends >= MAX_CODE_SENDS {
        return Err(RpcError::new(406, "SEND_CODE_UNAVAILABLE"));
    }
    ctx.state().bump_code_sends(&code.hash)?;
    ctx.state()
        .push_outbox("sms", &phone, code.code.reveal(), "login")?;
    ok(sent_code("sms", code.hash))
}

pub fn cancel_code(ctx: &Ctx, req: tl::functions::auth::CancelCode) -> RpcResult {
    let phone = phone_arg(&req.phone_number)?;
    let code = live_code(ctx, &phone, &req.phone_code_hash)?;
    ctx.state().mark_code(&code.hash, false, true)?;
    ok(true)
}

/// Binds the key to `user`, or parks it at the password step when the account has 2FA.
fn finish_login(ctx: &Ctx, user: &UserRecord) -> RpcResult {
    if user.password.is_some() {
        ctx.state().set_pending_2fa(ctx.key_id, user.id)?;
        return Err(RpcError::unauthorized("SESSION_PASSWORD_NEEDED"));
    }
    ctx.state().bind_key(ctx.key_id, user.id)?;
    ok(authorization(user))
}

pub fn sign_in(ctx: &Ctx, req: tl::functions::auth::SignIn) -> RpcResult {
    let phone = phone_arg(&req.phone_number)?;
    let entered = req.phone_code.unwrap_or_default();
    if entered.is_empty() {
        return Err(RpcError::bad("PHONE_CODE_EMPTY"));
    }
    let code = live_code(ctx, &phone, &req.phone_code_hash)?;
    if !crate::sandbox::crypto::constant_time_eq(entered.as_bytes(), code.code.reveal().as_bytes())
    {
        if ctx.state().record_wrong_code(&code.hash)? >= MAX_WRONG_CODES {
            ctx.state().mark_code(&code.hash, false, true)?;
        }
        return Err(RpcError::bad("PHONE_CODE_INVALID"));
    }
    let (user, dc) = dc_of_phone(ctx, &phone)?;
    if dc != ctx.dc_id {
        return Err(RpcError::migrate("PHONE", dc));
    }
    let Some(user) = user else {
        ctx.state().mark_code(&code.hash, true, false)?;
        return ok(tl::enums::auth::Authorization::SignUpRequired(
            tl::types::auth::AuthorizationSignUpRequired {
                terms_of_service: None,
            },
        ));
    };
    ctx.state().mark_code(&code.hash, true, true)?;
    finish_login(ctx, &user)
}

fn valid_name(name: &str, required: bool) -> bool {
    let trimmed = name.trim();
    (!required || !trimmed.is_empty()) && trimmed.chars().count() <= 64
}

pub fn sign_up(ctx: &Ctx, req: tl::functions::auth::SignUp) -> RpcResult {
    let phone = phone_arg(&req.phone_number)?;
    let code = live_code(ctx, &phone, &req.phone_code_hash)?;
    if !code.verified {
        return Err(RpcError::bad("PHONE_CODE_INVALID"));
    }
    let (user, dc) = dc_of_phone(ctx, &phone)?;
    if user.is_some() {
        return Err(RpcError::bad("PHONE_NUMBER_OCCUPIED"));
    }
    if dc != ctx.dc_id {
        return Err(RpcError::migrate("PHONE", dc));
    }
    if !valid_name(&req.first_name, true) {
        return Err(RpcError::bad("FIRSTNAME_INVALID"));
    }
    if !valid_name(&req.last_name, false) {
        return Err(RpcError::bad("LASTNAME_INVALID"));
    }
    let id = ctx.state().insert_user(&NewUserRecord {
        id: None,
        phone: Some(phone),
        first_name: req.first_name.trim().to_string(),
        last_name: req.last_name.trim().to_string(),
        dc_id: ctx.dc_id,
        bot_token: None,
        password: None,
        email: None,
    })?;
    ctx.state().mark_code(&code.hash, true, true)?;
    let user = ctx
        .state()
        .user(id)?
        .ok_or_else(|| RpcError::new(500, "INTERNAL_SERVER_ERROR"))?;
    ctx.state().bind_key(ctx.key_id, user.id)?;
    ok(authorization(&user))
}

/// Checks an SRP proof of `user`'s current password, counting failures for the flood limit.
pub fn check_srp(
    ctx: &Ctx,
    user: &UserRecord,
    input: &tl::enums::InputCheckPasswordSrp,
) -> Result<(), RpcError> {
    let Some(password) = &user.password else {
        return match input {
            tl::enums::InputCheckPasswordSrp::InputCheckPasswordEmpty => Ok(()),
            _ => Err(RpcError::bad("PASSWORD_HASH_INVALID")),
        };
    };
    let since = ctx.now - PASSWORD_WINDOW_SECS + 1;
    let (failed, oldest) = ctx.state().failed_passwords(user.id, since)?;
    if failed >= MAX_FAILED_PASSWORDS {
        return Err(RpcError::flood_wait(flood_seconds(
            oldest,
            PASSWORD_WINDOW_SECS,
            ctx.now,
        )));
    }
    let tl::enums::InputCheckPasswordSrp::Srp(srp) = input else {
        return Err(RpcError::bad("PASSWORD_HASH_INVALID"));
    };
    match ctx
        .shared
        .srp
        .verify(user.id, password, srp.srp_id, &srp.a, &srp.m1, ctx.now)
    {
        Ok(()) => Ok(()),
        Err(SrpError::UnknownId) => Err(RpcError::bad("SRP_ID_INVALID")),
        Err(SrpError::PasswordChanged) => Err(RpcError::bad("SRP_PASSWORD_CHANGED")),
        Err(SrpError::WrongProof) => {
            ctx.state().record_failed_password(user.id, since)?;
            Err(RpcError::bad("PASSWORD_HASH_INVALID"))
        }
    }
}

pub fn check_password(ctx: &Ctx, req: tl::functions::auth::CheckPassword) -> RpcResult {
    let key = ctx
        .state()
        .key(ctx.key_id)?
        .ok_or_else(|| RpcError::unauthorized("AUTH_KEY_UNREGISTERED"))?;
    let Some(uid) = key.pending_user_id else {
        return Err(RpcError::bad("PASSWORD_HASH_INVALID"));
    };
    let user = ctx
        .state()
        .user(uid)?
        .ok_or_else(|| RpcError::unauthorized("AUTH_KEY_UNREGISTERED"))?;
    if user.password.is_none() {
        return Err(RpcError::bad("PASSWORD_EMPTY"));
    }
    check_srp(ctx, &user, &req.password)?;
    ctx.state().bind_key(ctx.key_id, user.id)?;
    ok(authorization(&user))
}

pub fn import_bot(ctx: &Ctx, req: tl::functions::auth::ImportBotAuthorization) -> RpcResult {
    check_api(req.api_id, &req.api_hash)?;
    if crate::sandbox::accounts::bot_id_of_token(&req.bot_auth_token).is_none() {
        return Err(RpcError::bad("ACCESS_TOKEN_INVALID"));
    }
    let Some(bot) = ctx.state().user_by_bot_token(&req.bot_auth_token)? else {
        return Err(RpcError::bad("ACCESS_TOKEN_INVALID"));
    };
    if bot.dc_id != ctx.dc_id {
        return Err(RpcError::migrate("USER", bot.dc_id));
    }
    ctx.state().bind_key(ctx.key_id, bot.id)?;
    ok(authorization(&bot))
}

pub fn log_out(ctx: &Ctx) -> RpcResult {
    ctx.state().unbind_key(ctx.key_id)?;
    ok(tl::enums::auth::LoggedOut::Out(
        tl::types::auth::LoggedOut {
            future_auth_token: None,
        },
    ))
}

pub fn reset_authorizations(ctx: &Ctx) -> RpcResult {
    let me = ctx.me()?;
    ctx.check_reset_allowed()?;
    for key in ctx.state().keys_of_user(me.id)? {
        if key.key_id != ctx.key_id {
            ctx.state().unbind_key(key.key_id)?;
        }
    }
    ok(true)
}

fn login_success(user: &UserRecord) -> tl::enums::auth::LoginToken {
    tl::enums::auth::LoginToken::Success(tl::types::auth::LoginTokenSuccess {
        authorization: authorization(user),
    })
}

fn migrate_to(dc_id: i32, token: Vec<u8>) -> tl::enums::auth::LoginToken {
    tl::enums::auth::LoginToken::MigrateTo(tl::types::auth::LoginTokenMigrateTo { dc_id, token })
}

/// Logs the key in with an accepted token on this DC (or points at the account's DC).
fn redeem_token(ctx: &Ctx, token: &[u8], user_id: i64) -> RpcResult {
    let user = ctx
        .state()
        .user(user_id)?
        .ok_or_else(|| RpcError::bad("AUTH_TOKEN_INVALID"))?;
    if user.dc_id != ctx.dc_id {
        return ok(migrate_to(user.dc_id, token.to_vec()));
    }
    if !ctx.state().consume_login_token(token)? {
        return Err(RpcError::bad("AUTH_TOKEN_ALREADY_ACCEPTED"));
    }
    finish_login(ctx, &user)?;
    ok(login_success(&user))
}

pub fn export_login_token(ctx: &Ctx, req: tl::functions::auth::ExportLoginToken) -> RpcResult {
    check_api(req.api_id, &req.api_hash)?;
    if let Some(t) = ctx.state().accepted_login_token(ctx.key_id)?
        && let Some(uid) = t.accepted_user
    {
        return redeem_token(ctx, &t.token, uid);
    }
    let mut token = vec![0u8; 32];
    getrandom::fill(&mut token).expect("the OS random source failed");
    let expires = ctx.now + ctx.shared.tuning.login_token_ttl.as_secs().max(1) as i64;
    ctx.state()
        .insert_login_token(&token, ctx.key_id, ctx.dc_id, expires)?;
    // Accounts already logged in on the exporting app may not scan its code again.
    ctx.state()
        .set_login_token_exceptions(&token, &req.except_ids)?;
    ok(tl::enums::auth::LoginToken::Token(
        tl::types::auth::LoginToken {
            expires: expires as i32,
            token,
        },
    ))
}

pub fn import_login_token(ctx: &Ctx, req: tl::functions::auth::ImportLoginToken) -> RpcResult {
    let Some(t) = ctx.state().login_token(&req.token)? else {
        return Err(RpcError::bad("AUTH_TOKEN_INVALID"));
    };
    if t.consumed {
        return Err(RpcError::bad("AUTH_TOKEN_ALREADY_ACCEPTED"));
    }
    let Some(uid) = t.accepted_user else {
        if t.expires <= ctx.now {
            return Err(RpcError::bad("AUTH_TOKEN_EXPIRED"));
        }
        return ok(tl::enums::auth::LoginToken::Token(
            tl::types::auth::LoginToken {
                expires: t.expires as i32,
                token: t.token,
            },
        ));
    };
    redeem_token(ctx, &t.token, uid)
}

/// Accepts a QR login token for `user` (from an authorized app, or `tgsess sandbox accept-qr`).
pub fn accept_token_for(
    state: &crate::sandbox::state::State,
    token: &[u8],
    user_id: i64,
    now: i64,
) -> Result<crate::sandbox::state::LoginTokenRecord, RpcError> {
    let Some(t) = state.login_token(token)? else {
        return Err(RpcError::bad("AUTH_TOKEN_INVALID"));
    };
    if t.accepted_user.is_some() {
        return Err(RpcError::bad("AUTH_TOKEN_ALREADY_ACCEPTED"));
    }
    if t.expires <= now {
        return Err(RpcError::bad("AUTH_TOKEN_EXPIRED"));
    }
    if state.login_token_excepts(token, user_id)? {
        return Err(RpcError::bad("AUTH_TOKEN_EXCEPTION"));
    }
    if !state.accept_login_token(token, user_id)? {
        return Err(RpcError::bad("AUTH_TOKEN_ALREADY_ACCEPTED"));
    }
    Ok(t)
}

pub fn accept_login_token(ctx: &Ctx, req: tl::functions::auth::AcceptLoginToken) -> RpcResult {
    let me = ctx.me()?;
    if me.is_bot {
        return Err(RpcError::bad("BOT_METHOD_INVALID"));
    }
    let t = accept_token_for(ctx.state(), &req.token, me.id, ctx.now)?;
    ctx.shared.login_token_accepted();
    let device = ctx
        .state()
        .key(t.key_id)?
        .map(|k| k.device)
        .unwrap_or_default();
    ok(super::account::tl_authorization(
        &device,
        random_nonzero_i64(),
        false,
        ctx.now,
        ctx.now,
    ))
}

pub fn export_authorization(ctx: &Ctx, req: tl::functions::auth::ExportAuthorization) -> RpcResult {
    let me = ctx.me()?;
    if !ctx.shared.dcs.iter().any(|(id, _)| *id == req.dc_id) {
        return Err(RpcError::bad("DC_ID_INVALID"));
    }
    let id = random_nonzero_i64();
    let mut bytes = vec![0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    ctx.state()
        .insert_exported_auth(id, &bytes, me.id, req.dc_id)?;
    ok(tl::enums::auth::ExportedAuthorization::Authorization(
        tl::types::auth::ExportedAuthorization { id, bytes },
    ))
}

pub fn import_authorization(ctx: &Ctx, req: tl::functions::auth::ImportAuthorization) -> RpcResult {
    let Some(uid) = ctx
        .state()
        .use_exported_auth(req.id, &req.bytes, ctx.dc_id, ctx.now - 300)?
    else {
        return Err(RpcError::bad("AUTH_BYTES_INVALID"));
    };
    let user = ctx
        .state()
        .user(uid)?
        .ok_or_else(|| RpcError::bad("AUTH_BYTES_INVALID"))?;
    ctx.state().bind_key(ctx.key_id, user.id)?;
    ok(authorization(&user))
}

/// How long an emailed password-recovery code stays valid.
pub const RECOVERY_CODE_TTL_SECS: i64 = 3600;

pub fn request_password_recovery(ctx: &Ctx) -> RpcResult {
    let user = super::account::password_owner(ctx)?;
    if user.password.is_none() {
        return Err(RpcError::bad("PASSWORD_EMPTY"));
    }
    let Some(email) = &user.email else {
        return Err(RpcError::bad("PASSWORD_RECOVERY_NA"));
    };
    let code = crate::sandbox::accounts::random_digits(super::account::EMAIL_CODE_LENGTH);
    ctx.state().set_recovery_code(user.id, Some(&code))?;
    ctx.state()
        .push_outbox("email", email, &code, "password-recovery")?;
    ok(tl::enums::auth::PasswordRecovery::Recovery(
        tl::types::auth::PasswordRecovery {
            email_pattern: super::account::email_pattern(email),
        },
    ))
}

/// Checks a recovery code of the caller's account without using it.
fn recovery_user(ctx: &Ctx, code: &str) -> Result<UserRecord, RpcError> {
    let user = super::account::password_owner(ctx)?;
    let Some((expected, sent)) = ctx.state().recovery_code(user.id)? else {
        return Err(RpcError::bad("PASSWORD_RECOVERY_NA"));
    };
    if sent + RECOVERY_CODE_TTL_SECS <= ctx.now {
        return Err(RpcError::bad("PASSWORD_RECOVERY_EXPIRED"));
    }
    if code.is_empty()
        || !crate::sandbox::crypto::constant_time_eq(
            code.trim().as_bytes(),
            expected.reveal().as_bytes(),
        )
    {
        return Err(RpcError::bad("CODE_INVALID"));
    }
    Ok(user)
}

pub fn check_recovery_password(
    ctx: &Ctx,
    req: tl::functions::auth::CheckRecoveryPassword,
) -> RpcResult {
    recovery_user(ctx, &req.code)?;
    ok(true)
}

/// Removes the password (or sets the new one) and logs the key in.
pub fn recover_password(ctx: &Ctx, req: tl::functions::auth::RecoverPassword) -> RpcResult {
    let user = recovery_user(ctx, &req.code)?;
    let target = match &req.new_settings {
        Some(tl::enums::account::PasswordInputSettings::Settings(s)) => {
            super::account::new_password(ctx, &user, s)?
        }
        None => None,
    };
    let email = target.as_ref().and(user.email.as_deref());
    ctx.state().set_password(user.id, target.as_ref(), email)?;
    ctx.state().set_recovery_code(user.id, None)?;
    let user = ctx
        .state()
        .user(user.id)?
        .ok_or_else(|| RpcError::new(500, "INTERNAL_SERVER_ERROR"))?;
    ctx.state().bind_key(ctx.key_id, user.id)?;
    ok(authorization(&user))
}
