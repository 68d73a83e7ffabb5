//! The RPC layer: unwraps invokeWithLayer / initConnection / invokeWithoutUpdates, then
//! dispatches each function to its namespace. Every answer is a serialized TL result or an
//! RPC error with Telegram's own name; nothing unknown ever drops the connection.

pub mod account;
pub mod auth;
pub mod help;
pub mod updates;
pub mod users;

use grammers_tl_types::{self as tl, Cursor, Deserializable, Identifiable, Serializable};

use super::server::Shared;
use super::service::constructor_of;
use super::state::{DeviceInfo, StateError, UserRecord};

/// An RPC error as Telegram sends it: HTTP-like code and an upper-case name, where a
/// trailing number (FLOOD_WAIT_30, PHONE_MIGRATE_4) carries the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    pub code: i32,
    pub name: String,
}

impl RpcError {
    pub fn new(code: i32, name: impl Into<String>) -> Self {
        Self {
            code,
            name: name.into(),
        }
    }

    pub fn bad(name: &str) -> Self {
        Self::new(400, name)
    }

    pub fn unauthorized(name: &str) -> Self {
        Self::new(401, name)
    }

    pub fn migrate(kind: &str, dc_id: i32) -> Self {
        Self::new(303, format!("{kind}_MIGRATE_{dc_id}"))
    }

    pub fn flood_wait(seconds: i64) -> Self {
        Self::new(420, format!("FLOOD_WAIT_{}", seconds.max(1)))
    }
}

impl From<StateError> for RpcError {
    fn from(e: StateError) -> Self {
        tracing::error!("sandbox state error: {e}");
        RpcError::new(500, "INTERNAL_SERVER_ERROR")
    }
}

pub type RpcResult = Result<Vec<u8>, RpcError>;

/// What one request runs with.
pub struct Ctx<'a> {
    pub shared: &'a Shared,
    pub dc_id: i32,
    pub key_id: i64,
    pub now: i64,
}

impl Ctx<'_> {
    pub fn state(&self) -> &super::state::State {
        &self.shared.state
    }

    /// The account bound to the caller's key: 401 AUTH_KEY_UNREGISTERED when none, 401
    /// SESSION_PASSWORD_NEEDED while the 2FA step of a login is pending.
    pub fn me(&self) -> Result<UserRecord, RpcError> {
        let key = self
            .state()
            .key(self.key_id)?
            .ok_or_else(|| RpcError::unauthorized("AUTH_KEY_UNREGISTERED"))?;
        match (key.user_id, key.pending_user_id) {
            (Some(uid), _) => self
                .state()
                .user(uid)?
                .ok_or_else(|| RpcError::unauthorized("AUTH_KEY_UNREGISTERED")),
            (None, Some(_)) => Err(RpcError::unauthorized("SESSION_PASSWORD_NEEDED")),
            (None, None) => Err(RpcError::unauthorized("AUTH_KEY_UNREGISTERED")),
        }
    }
}

impl Ctx<'_> {
    /// 406 FRESH_RESET_AUTHORISATION_FORBIDDEN when the caller logged in too recently to
    /// terminate other sessions (only if the sandbox is tuned to enforce it).
    pub fn check_reset_allowed(&self) -> Result<(), RpcError> {
        let Some(min_age) = self.shared.tuning.fresh_reset_forbidden_for else {
            return Ok(());
        };
        let since = self
            .state()
            .key(self.key_id)?
            .and_then(|k| k.authorized_at)
            .unwrap_or(0);
        if self.now - since < min_age.as_secs() as i64 {
            return Err(RpcError::new(406, "FRESH_RESET_AUTHORISATION_FORBIDDEN"));
        }
        Ok(())
    }
}

/// A TL value that takes the rest of the buffer: the `query:!X` of wrapper functions.
struct Rest(Vec<u8>);

impl Deserializable for Rest {
    fn deserialize(buf: &mut Cursor) -> tl::deserialize::Result<Self> {
        let mut out = Vec::new();
        buf.read_to_end(&mut out)?;
        Ok(Rest(out))
    }
}

/// Parses a function body (constructor id included) as `T`.
pub fn parse<T: Deserializable + Identifiable>(body: &[u8]) -> Result<T, RpcError> {
    let mut cursor = Cursor::from_slice(body.get(4..).unwrap_or(&[]));
    T::deserialize(&mut cursor).map_err(|_| RpcError::bad("INPUT_FETCH_FAIL"))
}

pub fn ok<T: Serializable>(value: T) -> RpcResult {
    Ok(value.to_bytes())
}

/// What a connection learns from the wrappers of a request.
#[derive(Default)]
pub struct Wrappers {
    pub layer: Option<i32>,
    pub device: Option<DeviceInfo>,
}

/// Runs one request: peels the wrappers, records initConnection's device data, dispatches.
pub fn handle(ctx: &Ctx, body: &[u8], wrappers: &mut Wrappers) -> RpcResult {
    let mut body = body.to_vec();
    for _ in 0..8 {
        match constructor_of(&body) {
            Some(tl::functions::InvokeWithLayer::<()>::CONSTRUCTOR_ID) => {
                let w: tl::functions::InvokeWithLayer<Rest> = parse(&body)?;
                wrappers.layer = Some(w.layer);
                body = w.query.0;
            }
            Some(tl::functions::InitConnection::<()>::CONSTRUCTOR_ID) => {
                let w: tl::functions::InitConnection<Rest> = parse(&body)?;
                if w.api_id == 0 {
                    return Err(RpcError::bad("API_ID_INVALID"));
                }
                let device = DeviceInfo {
                    api_id: w.api_id,
                    device_model: w.device_model,
                    system_version: w.system_version,
                    app_version: w.app_version,
                    lang_code: w.lang_code,
                };
                ctx.state().set_device(ctx.key_id, &device)?;
                wrappers.device = Some(device);
                body = w.query.0;
            }
            Some(tl::functions::InvokeWithoutUpdates::<()>::CONSTRUCTOR_ID) => {
                let w: tl::functions::InvokeWithoutUpdates<Rest> = parse(&body)?;
                body = w.query.0;
            }
            _ => {
                return dispatch(ctx, &body)
                    .map(|result| super::layers::encode_for(wrappers.layer, result));
            }
        }
    }
    Err(RpcError::bad("INPUT_METHOD_INVALID"))
}

fn dispatch(ctx: &Ctx, body: &[u8]) -> RpcResult {
    use tl::functions as f;
    let Some(id) = constructor_of(body) else {
        return Err(RpcError::bad("INPUT_METHOD_INVALID"));
    };
    scripted_flood(ctx, id)?;
    match id {
        f::help::GetConfig::CONSTRUCTOR_ID => help::get_config(ctx),
        f::help::GetNearestDc::CONSTRUCTOR_ID => help::get_nearest_dc(ctx),
        f::updates::GetState::CONSTRUCTOR_ID => updates::get_state(ctx),
        f::updates::GetDifference::CONSTRUCTOR_ID => updates::get_difference(ctx),
        f::users::GetUsers::CONSTRUCTOR_ID => users::get_users(ctx, parse(body)?),
        f::users::GetFullUser::CONSTRUCTOR_ID => users::get_full_user(ctx, parse(body)?),
        f::auth::SendCode::CONSTRUCTOR_ID => auth::send_code(ctx, parse(body)?),
        f::auth::ResendCode::CONSTRUCTOR_ID => auth::resend_code(ctx, parse(body)?),
        f::auth::CancelCode::CONSTRUCTOR_ID => auth::cancel_code(ctx, parse(body)?),
        f::auth::SignIn::CONSTRUCTOR_ID => auth::sign_in(ctx, parse(body)?),
        f::auth::SignUp::CONSTRUCTOR_ID => auth::sign_up(ctx, parse(body)?),
        f::auth::CheckPassword::CONSTRUCTOR_ID => auth::check_password(ctx, parse(body)?),
        f::auth::ImportBotAuthorization::CONSTRUCTOR_ID => auth::import_bot(ctx, parse(body)?),
        f::auth::LogOut::CONSTRUCTOR_ID => auth::log_out(ctx),
        f::auth::ResetAuthorizations::CONSTRUCTOR_ID => auth::reset_authorizations(ctx),
        f::auth::ExportLoginToken::CONSTRUCTOR_ID => auth::export_login_token(ctx, parse(body)?),
        f::auth::ImportLoginToken::CONSTRUCTOR_ID => auth::import_login_token(ctx, parse(body)?),
        f::auth::AcceptLoginToken::CONSTRUCTOR_ID => auth::accept_login_token(ctx, parse(body)?),
        f::auth::ExportAuthorization::CONSTRUCTOR_ID => {
            auth::export_authorization(ctx, parse(body)?)
        }
        f::auth::ImportAuthorization::CONSTRUCTOR_ID => {
            auth::import_authorization(ctx, parse(body)?)
        }
        f::auth::RequestPasswordRecovery::CONSTRUCTOR_ID => auth::request_password_recovery(ctx),
        f::auth::CheckRecoveryPassword::CONSTRUCTOR_ID => {
            auth::check_recovery_password(ctx, parse(body)?)
        }
        f::auth::RecoverPassword::CONSTRUCTOR_ID => auth::recover_password(ctx, parse(body)?),
        f::account::GetPassword::CONSTRUCTOR_ID => account::get_password(ctx),
        f::account::UpdatePasswordSettings::CONSTRUCTOR_ID => {
            account::update_password_settings(ctx, parse(body)?)
        }
        f::account::ConfirmPasswordEmail::CONSTRUCTOR_ID => {
            account::confirm_password_email(ctx, parse(body)?)
        }
        f::account::ResendPasswordEmail::CONSTRUCTOR_ID => account::resend_password_email(ctx),
        f::account::CancelPasswordEmail::CONSTRUCTOR_ID => account::cancel_password_email(ctx),
        f::account::GetAuthorizations::CONSTRUCTOR_ID => account::get_authorizations(ctx),
        f::account::ResetAuthorization::CONSTRUCTOR_ID => {
            account::reset_authorization(ctx, parse(body)?)
        }
        other => {
            tracing::debug!(
                method = tl::name_for_id(other),
                "sandbox: method not implemented"
            );
            Err(RpcError::bad("INPUT_METHOD_INVALID"))
        }
    }
}

/// A FLOOD_WAIT armed for the caller's account (`Tuning::flood`); help.* is never refused, so
/// that connecting still works.
fn scripted_flood(ctx: &Ctx, method: u32) -> Result<(), RpcError> {
    use tl::functions as f;
    let script = &ctx.shared.tuning.flood;
    if script.is_empty()
        || method == f::help::GetConfig::CONSTRUCTOR_ID
        || method == f::help::GetNearestDc::CONSTRUCTOR_ID
    {
        return Ok(());
    }
    let Some(user_id) = ctx.state().key(ctx.key_id)?.and_then(|k| k.user_id) else {
        return Ok(());
    };
    match script.wait_for(user_id, ctx.now) {
        Some(seconds) => Err(RpcError::flood_wait(seconds)),
        None => Ok(()),
    }
}

/// The TL user for an account; `is_self` for the caller's own account.
pub fn tl_user(u: &UserRecord, is_self: bool) -> tl::enums::User {
    tl::enums::User::User(tl::types::User {
        is_self,
        contact: false,
        mutual_contact: false,
        deleted: false,
        bot: u.is_bot,
        bot_chat_history: false,
        bot_nochats: false,
        verified: false,
        restricted: false,
        min: false,
        bot_inline_geo: false,
        support: false,
        scam: false,
        apply_min_photo: false,
        fake: false,
        bot_attach_menu: false,
        premium: false,
        attach_menu_enabled: false,
        bot_can_edit: false,
        close_friend: false,
        stories_hidden: false,
        stories_unavailable: true,
        contact_require_premium: false,
        bot_business: false,
        bot_has_main_app: false,
        bot_forum_view: false,
        bot_forum_can_manage_topics: false,
        bot_can_manage_bots: false,
        bot_guestchat: false,
        bot_guard: false,
        id: u.id,
        access_hash: Some(u.access_hash),
        first_name: Some(u.first_name.clone()),
        last_name: (!u.last_name.is_empty()).then(|| u.last_name.clone()),
        username: u.username.clone(),
        phone: if u.is_bot { None } else { u.phone.clone() },
        photo: None,
        status: None,
        // `bot` and `bot_info_version` share flag 14: a bot must carry a version.
        bot_info_version: u.is_bot.then_some(1),
        restriction_reason: None,
        bot_inline_placeholder: None,
        lang_code: None,
        emoji_status: None,
        usernames: None,
        stories_max_id: None,
        color: None,
        profile_color: None,
        bot_active_users: None,
        bot_verification_icon: None,
        send_paid_messages_stars: None,
        linked_community_id: None,
    })
}

/// `auth.authorization` for the caller's own account.
pub fn authorization(u: &UserRecord) -> tl::enums::auth::Authorization {
    tl::enums::auth::Authorization::Authorization(tl::types::auth::Authorization {
        setup_password_required: false,
        otherwise_relogin_days: None,
        tmp_sessions: None,
        future_auth_token: None,
        user: tl_user(u, true),
    })
}

/// Seconds left until the oldest of `count` events in a sliding window leaves it.
pub fn flood_seconds(oldest: i64, window: i64, now: i64) -> i64 {
    (oldest + window - now).max(1)
}
