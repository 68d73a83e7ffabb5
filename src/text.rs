//! Text that came from a file, a server or the command line, made safe for a terminal.
//! Every human-readable output (the TUI, `list`, `inspect`, `whoami`, error lines) uses this.

/// Replaces control characters (from names, usernames, paths) with visible escapes, so a
/// crafted name can never move the cursor, change colours or retitle the terminal.
pub fn clean(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// [`clean`] for a path as `Path::display` shows it.
pub fn clean_path(path: &std::path::Path) -> String {
    clean(&path.display().to_string())
}

/// [`clean`] for a message of several lines: each line is escaped, the line breaks stay.
pub fn clean_lines(s: &str) -> String {
    s.split('\n').map(clean).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(clean("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(clean("line\nbreak"), "line\\nbreak");
        assert_eq!(clean("plain ä"), "plain ä");
        // C1 controls (8-bit CSI) too.
        assert_eq!(clean("x\u{9b}2J"), "x\\u{9b}2J");
    }

    #[test]
    fn clean_lines_keeps_line_breaks_only() {
        assert_eq!(
            clean_lines("a\x1b]0;t\x07\nb\r"),
            "a\\u{1b}]0;t\\u{7}\nb\\r"
        );
    }
}
