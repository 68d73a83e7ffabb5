//! `tgsess sandbox ...` (placeholder; the sandbox issue fills this in).

use clap::Subcommand;

use super::GlobalArgs;

#[derive(Subcommand, Debug)]
pub enum SandboxCommand {
    /// Serve the sandbox DCs on 127.0.0.1.
    Serve,
}

pub fn run(_cmd: SandboxCommand, _global: &GlobalArgs) -> anyhow::Result<i32> {
    anyhow::bail!("the sandbox is not built yet")
}
