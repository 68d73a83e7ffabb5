//! `tgsess completions SHELL` and `tgsess man`: generated from the clap definitions, so they
//! never disagree with the parser.

use std::io::Write;

use clap::{CommandFactory, ValueEnum};

use super::Cli;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Writes the completion script for `shell` to `out`.
pub fn completions(shell: Shell, out: &mut dyn Write) {
    let mut cmd = Cli::command();
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(generator, &mut cmd, "tgsess", out);
}

/// Writes the man page (roff, section 1) to `out`; it lists every subcommand.
pub fn man(out: &mut dyn Write) -> std::io::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_the_subcommands() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut out = Vec::new();
            completions(shell, &mut out);
            let text = String::from_utf8(out).unwrap();
            for sub in ["convert", "set-dc", "completions", "man"] {
                assert!(text.contains(sub), "{shell:?} lacks {sub}");
            }
        }
    }

    #[test]
    fn man_page_is_roff_with_the_commands() {
        let mut out = Vec::new();
        man(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(".ie") || text.starts_with(".TH"),
            "{}",
            &text[..40]
        );
        assert!(text.contains(".TH tgsess 1"), "no title header");
        assert!(text.contains("set\\-dc"), "no set-dc");
    }
}
