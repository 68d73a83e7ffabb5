//! `list`, `inspect`, `convert`, `clone`, `rm`: the store over the command line.

use clap::Subcommand;

use super::GlobalArgs;

#[derive(Subcommand, Debug)]
pub enum StoreCommand {
    /// List every session in the directory.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(_cmd: StoreCommand, _global: &GlobalArgs) -> anyhow::Result<i32> {
    anyhow::bail!("not built yet")
}
