//! The TUI's own settings: `tui.toml` in the config folder (theme, colour depth) and
//! `keys.toml` beside it. Problems become notices; nothing here stops the app.
//! (`config.toml` belongs to the account layer: api_id, api_hash, proxy.)

use std::path::PathBuf;

use serde::Deserialize;

/// How the TUI was started (the CLI fills this from its global flags).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Session folder (default: `$TGSESS_DIR`, else the data folder).
    pub dir: Option<PathBuf>,
    /// An in-process sandbox DC with demo accounts.
    pub sandbox: bool,
    /// A running `tgsess sandbox serve` whose state is in this folder.
    pub sandbox_state: Option<PathBuf>,
    pub theme: Option<String>,
    pub log_level: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct UiConfig {
    /// A theme name or a path to a theme file.
    pub theme: Option<String>,
    /// `auto`, `truecolor`, `256`, `16` or `never`.
    pub color: Option<String>,
}

/// `TGSESS_CONFIG_DIR`, else the platform config folder (`~/.config/tgsess`).
pub fn config_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TGSESS_CONFIG_DIR").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    directories::ProjectDirs::from("", "", "tgsess").map(|d| d.config_dir().to_path_buf())
}

/// The log file's folder; it lives below the UI, where the CLI finds it too.
pub use crate::fsutil::state_dir;

pub fn parse(text: &str) -> Result<UiConfig, String> {
    toml::from_str(text).map_err(|e| e.message().to_string())
}

/// Reads `tui.toml`; a missing file is the default.
pub fn load() -> (UiConfig, Vec<String>) {
    let Some(path) = config_dir().map(|d| d.join("tui.toml")) else {
        return (UiConfig::default(), Vec::new());
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => match parse(&text) {
            Ok(c) => (c, Vec::new()),
            Err(e) => (
                UiConfig::default(),
                vec![format!("{}: {e}", path.display())],
            ),
        },
        Err(_) => (UiConfig::default(), Vec::new()),
    }
}

/// The status-line hint when neither api credentials nor `--sandbox` are given.
pub const API_MISSING: &str =
    "set TG_API_ID/TG_API_HASH (my.telegram.org) or try `tgsess --sandbox`";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_theme_and_colour_and_rejects_unknown_keys() {
        let c = parse("theme = \"light\"\ncolor = \"16\"\n").unwrap();
        assert_eq!(c.theme.as_deref(), Some("light"));
        assert_eq!(c.color.as_deref(), Some("16"));
        assert!(parse("theme = ").is_err());
        assert!(parse("colour = \"16\"").unwrap_err().contains("colour"));
    }
}
