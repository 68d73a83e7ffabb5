//! The command line: argument parsing (clap) and printing. No logic the TUI also needs.
//! Exit codes: 0 success, 1 runtime failure, 2 usage error; errors go to stderr.

pub mod account;
pub mod check;
pub mod sandbox;
pub mod store_cmds;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Options every command understands.
#[derive(Args, Clone, Debug, Default)]
pub struct GlobalArgs {
    /// Session directory (default: $TGSESS_DIR, else ~/.local/share/tgsess).
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Use an in-process sandbox DC with demo accounts instead of Telegram.
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// Use a running `tgsess sandbox serve` whose state is in DIR.
    #[arg(long, global = true, value_name = "DIR", conflicts_with = "sandbox")]
    pub sandbox_state: Option<PathBuf>,
    /// Theme name or path to a theme TOML file (TUI).
    #[arg(long, global = true, value_name = "NAME|PATH")]
    pub theme: Option<String>,
    /// Log level for the log file (error, warn, info, debug, trace).
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
}

#[derive(Parser, Debug)]
#[command(
    name = "tgsess",
    version,
    about = "Manage Telegram sessions: list, inspect, convert, log in and out"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    #[command(flatten)]
    Store(store_cmds::StoreCommand),
    /// Run or administer the local sandbox DC.
    #[command(subcommand)]
    Sandbox(sandbox::SandboxCommand),
    #[command(flatten)]
    Account(account::AccountCommand),
    /// Check many sessions at once: logged in or out, 2FA, other devices.
    Check(check::CheckArgs),
}

/// Parses the arguments, runs the command and returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        None => crate::ui::run(&cli.global),
        Some(Command::Store(cmd)) => store_cmds::run(cmd, &cli.global),
        Some(Command::Sandbox(cmd)) => sandbox::run(cmd, &cli.global),
        Some(Command::Account(cmd)) => account::run(cmd, &cli.global),
        Some(Command::Check(args)) => check::run(args, &cli.global),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}
