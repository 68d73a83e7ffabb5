//! users.getUsers: the caller's own account (other users are omitted, as Telegram omits
//! users it cannot resolve).

use grammers_tl_types as tl;

use super::{Ctx, RpcResult, ok, tl_user};

pub fn get_users(ctx: &Ctx, req: tl::functions::users::GetUsers) -> RpcResult {
    let me = ctx.me()?;
    let mut out: Vec<tl::enums::User> = Vec::new();
    for input in &req.id {
        let wanted = match input {
            tl::enums::InputUser::UserSelf => Some(me.id),
            tl::enums::InputUser::User(u) => Some(u.user_id),
            _ => None,
        };
        match wanted {
            Some(id) if id == me.id => out.push(tl_user(&me, true)),
            Some(id) => {
                if let Some(u) = ctx.state().user(id)? {
                    out.push(tl_user(&u, false));
                }
            }
            None => {}
        }
    }
    ok(out)
}
