//! updates.getState and updates.getDifference: the sandbox has no updates to replay.

use grammers_tl_types as tl;

use super::{Ctx, RpcResult, ok};

pub fn get_state(ctx: &Ctx) -> RpcResult {
    ctx.me()?;
    ok(tl::enums::updates::State::State(
        tl::types::updates::State {
            pts: 1,
            qts: 0,
            date: ctx.now as i32,
            seq: 0,
            unread_count: 0,
        },
    ))
}

pub fn get_difference(ctx: &Ctx) -> RpcResult {
    ctx.me()?;
    ok(tl::enums::updates::Difference::Empty(
        tl::types::updates::DifferenceEmpty {
            date: ctx.now as i32,
            seq: 0,
        },
    ))
}
