//! users.getUsers and users.getFullUser: the caller's own account, and accounts it names by
//! id (users it cannot resolve are omitted, as Telegram omits them).

use grammers_tl_types as tl;

use super::{Ctx, RpcError, RpcResult, ok, tl_user};
use crate::sandbox::layers::{self, Obj, Value};
use crate::sandbox::state::UserRecord;

/// The account an InputUser names, seen from `me`.
fn resolve(
    ctx: &Ctx,
    me: &UserRecord,
    input: &tl::enums::InputUser,
) -> Result<Option<UserRecord>, RpcError> {
    let wanted = match input {
        tl::enums::InputUser::UserSelf => me.id,
        tl::enums::InputUser::User(u) => u.user_id,
        _ => return Ok(None),
    };
    if wanted == me.id {
        return Ok(Some(me.clone()));
    }
    Ok(ctx.state().user(wanted)?)
}

pub fn get_users(ctx: &Ctx, req: tl::functions::users::GetUsers) -> RpcResult {
    let me = ctx.me()?;
    let mut out: Vec<tl::enums::User> = Vec::new();
    for input in &req.id {
        if let Some(u) = resolve(ctx, &me, input)? {
            out.push(tl_user(&u, u.id == me.id));
        }
    }
    ok(out)
}

/// `userFull` with what the sandbox knows: nothing beyond the account itself (no about, no
/// photos, no common chats). Built as a layer value: its grammers type has some 80 fields.
pub fn tl_user_full(u: &UserRecord) -> Value {
    let empty = |name: &str| Value::Obj(Obj::new(name));
    let mut full = Obj::new("userFull")
        .with("id", Value::Long(u.id))
        .with("settings", empty("peerSettings"))
        .with("notify_settings", empty("peerNotifySettings"))
        .with("common_chats_count", Value::Int(0));
    if u.is_bot {
        full = full.with(
            "bot_info",
            Value::Obj(
                Obj::new("botInfo")
                    .with("user_id", Value::Long(u.id))
                    .with("description", Value::Bytes(Vec::new()))
                    .with("commands", Value::Vector(Vec::new())),
            ),
        );
    }
    Value::Obj(full)
}

pub fn get_full_user(ctx: &Ctx, req: tl::functions::users::GetFullUser) -> RpcResult {
    let me = ctx.me()?;
    let user = resolve(ctx, &me, &req.id)?.ok_or_else(|| RpcError::bad("USER_ID_INVALID"))?;
    let user_bytes = tl::Serializable::to_bytes(&tl_user(&user, user.id == me.id));
    let user_value = layers::decode(&user_bytes)
        .ok()
        .flatten()
        .ok_or_else(|| RpcError::new(500, "INTERNAL_SERVER_ERROR"))?;
    let result = Obj::new("users.userFull")
        .with("full_user", tl_user_full(&user))
        .with("chats", Value::Vector(Vec::new()))
        .with("users", Value::Vector(vec![user_value]));
    layers::encode(&Value::Obj(result), layers::CURRENT_LAYER).map_err(|e| {
        tracing::error!("sandbox: users.userFull: {e}");
        RpcError::new(500, "INTERNAL_SERVER_ERROR")
    })
}
