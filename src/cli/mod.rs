//! The command line: argument parsing (clap) and printing. No logic the TUI also needs.
//! Exit codes: 0 success, 1 runtime failure, 2 usage error; errors go to stderr.

pub mod account;
pub mod check;
pub mod convert_batch;
pub mod docs;
pub mod output;
pub mod sandbox;
pub mod set_dc;
pub mod store_cmds;

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

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

impl GlobalArgs {
    /// What the TUI needs of the global flags.
    pub fn ui_settings(&self) -> crate::ui::config::Settings {
        crate::ui::config::Settings {
            dir: self.dir.clone(),
            sandbox: self.sandbox,
            sandbox_state: self.sandbox_state.clone(),
            theme: self.theme.clone(),
            log_level: self.log_level.clone(),
        }
    }

    /// The chosen folder and sandbox mode (the one rule every command and the TUI follow).
    pub fn workspace(&self) -> crate::mode::Workspace {
        crate::mode::Workspace::resolve(
            self.dir.as_deref(),
            self.sandbox,
            self.sandbox_state.as_deref(),
        )
    }
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
    /// Point a session at another DC entry (DC 1-5, address, port), in the session's own format.
    SetDc(set_dc::SetDcArgs),
    /// Print a shell completion script (bash, zsh or fish).
    Completions {
        #[arg(value_enum)]
        shell: docs::Shell,
    },
    /// Print the man page (roff): `tgsess man > tgsess.1`.
    Man,
    /// Check many sessions at once: logged in or out, 2FA, other devices.
    Check(check::CheckArgs),
}

/// Parses the arguments, runs the command and returns the exit code.
pub fn main() -> i32 {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    if cli.command.is_some() && cli.global.log_level.is_some() {
        // The TUI starts its log itself; a command logs only when asked to.
        start_command_log(cli.global.log_level.as_deref(), &matches);
    }
    let result = match cli.command {
        None if !std::io::stdout().is_terminal() => Err(anyhow::anyhow!(
            "the terminal UI needs a terminal on standard output; in scripts, use the \
             commands (tgsess --help)"
        )),
        None => crate::ui::run(&cli.global.ui_settings()),
        Some(Command::Store(cmd)) => store_cmds::run(cmd, &cli.global),
        Some(Command::Sandbox(cmd)) => sandbox::run(cmd, &cli.global),
        Some(Command::Account(cmd)) => account::run(cmd, &cli.global),
        Some(Command::SetDc(args)) => set_dc::run(args, &cli.global.workspace().session_dir()),
        Some(Command::Completions { shell }) => {
            // Built in memory first: clap_complete panics when its writer fails.
            let mut script = Vec::new();
            docs::completions(shell, &mut script);
            output::out!("{}", String::from_utf8_lossy(&script))
                .map(|()| 0)
                .map_err(Into::into)
        }
        Some(Command::Man) => {
            let mut page = Vec::new();
            docs::man(&mut page)
                .map_err(anyhow::Error::from)
                .and_then(|()| Ok(output::out!("{}", String::from_utf8_lossy(&page))?))
                .map(|()| 0)
        }
        Some(Command::Check(args)) => check::run(args, &cli.global),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let stdout_failed = e
                .chain()
                .find_map(|c| c.downcast_ref::<output::StdoutError>());
            if stdout_failed.is_some_and(output::StdoutError::is_closed_pipe) {
                output::exit_closed_pipe();
            }
            let message = error_line(&e);
            tracing::warn!(error = %message, "command failed");
            output::errln!("error: {}", crate::text::clean_lines(&message));
            1
        }
    }
}

/// Opens the log file for a command and logs the command's name (`login phone`), never its
/// arguments: session strings, tokens and passwords can be among them.
fn start_command_log(level: Option<&str>, matches: &clap::ArgMatches) {
    if crate::logging::init(level).is_none() {
        output::errln!("warning: no state folder: --log-level writes no log");
        return;
    }
    let mut name = Vec::new();
    let mut sub = matches.subcommand();
    while let Some((n, m)) = sub {
        name.push(n);
        sub = m.subcommand();
    }
    tracing::info!(command = %name.join(" "), version = env!("CARGO_PKG_VERSION"), "tgsess command");
}

/// The error and its causes on one line, each said once: an error whose message already
/// quotes its cause (a common `thiserror` shape) would otherwise print it twice.
fn error_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_say_each_cause_once() {
        let os = std::io::Error::from(std::io::ErrorKind::AddrInUse);
        let quoted = anyhow::Error::new(crate::sandbox::SandboxError::Io(os));
        let line = error_line(&quoted);
        assert_eq!(line.matches("in use").count(), 1, "{line}");
        let chained = anyhow::anyhow!("disk on fire").context("writing x");
        assert_eq!(error_line(&chained), "writing x: disk on fire");
    }
}
