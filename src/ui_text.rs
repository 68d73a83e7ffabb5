//! Text helpers shared by the CLI tables and the TUI: display-width clipping and escaping of
//! control characters in names that come from files or from Telegram.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Replaces control characters (which could move the cursor or change colours) with `\u{..}`.
pub fn escape_control(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Cuts `s` to at most `width` terminal columns, ending with `…` when cut.
pub fn clip(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_by_display_width() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("日本語テキスト", 5), "日本…");
    }

    #[test]
    fn escapes_controls() {
        assert_eq!(escape_control("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(escape_control("plain"), "plain");
    }
}
