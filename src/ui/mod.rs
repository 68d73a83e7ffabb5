//! The full-screen TUI (placeholder; the TUI issue fills this in).

use crate::cli::GlobalArgs;

pub fn run(_global: &GlobalArgs) -> anyhow::Result<i32> {
    anyhow::bail!("the TUI is not built yet; see `tgsess --help`")
}
