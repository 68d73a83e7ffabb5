//! The command line: argument parsing (clap) and printing. No logic the TUI also needs.

pub fn main() -> i32 {
    0
}
