//! Account commands over the `telegram` layer (placeholder; the account-operations issue
//! fills this in).

use clap::Subcommand;

use super::GlobalArgs;

#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// Show who a session is logged in as.
    Whoami { name: String },
}

pub fn run(_cmd: AccountCommand, _global: &GlobalArgs) -> anyhow::Result<i32> {
    anyhow::bail!("account commands are not built yet")
}
