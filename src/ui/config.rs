//! The TUI's configuration: `config.toml` (theme, colour depth, api_id/api_hash) and
//! `keys.toml` in the config folder, plus the environment. Problems become notices.

use std::path::PathBuf;

#[derive(Clone, Debug, Default)]
pub struct UiConfig {
    pub theme: Option<String>,
    pub color: Option<String>,
    pub api_id: Option<i32>,
    pub api_hash: Option<String>,
}

/// `TGSESS_CONFIG_DIR`, else the platform config folder (`~/.config/tgsess`).
pub fn config_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TGSESS_CONFIG_DIR").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    directories::ProjectDirs::from("", "", "tgsess").map(|d| d.config_dir().to_path_buf())
}

/// `TGSESS_STATE_DIR`, else the platform state folder (`~/.local/state/tgsess`).
pub fn state_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TGSESS_STATE_DIR").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let dirs = directories::ProjectDirs::from("", "", "tgsess")?;
    Some(
        dirs.state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .to_path_buf(),
    )
}

/// Parses `config.toml` text; unknown keys are ignored (other parts of tgsess read it too).
pub fn parse(text: &str) -> Result<UiConfig, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let section = |name: &str| table.get(name).and_then(|v| v.as_table());
    let get = |key: &str| {
        table
            .get(key)
            .or_else(|| section("telegram").and_then(|t| t.get(key)))
            .or_else(|| section("api").and_then(|t| t.get(key)))
            .or_else(|| section("ui").and_then(|t| t.get(key)))
    };
    let string = |key: &str| get(key).and_then(|v| v.as_str()).map(str::to_string);
    Ok(UiConfig {
        theme: string("theme"),
        color: string("color"),
        api_id: get("api_id")
            .and_then(|v| v.as_integer())
            .and_then(|n| i32::try_from(n).ok()),
        api_hash: string("api_hash"),
    })
}

/// Reads the config file and the environment (`TGSESS_API_ID`, `TGSESS_API_HASH`).
pub fn load() -> (UiConfig, Vec<String>) {
    let mut notices = Vec::new();
    let mut cfg = UiConfig::default();
    if let Some(path) = config_dir().map(|d| d.join("config.toml"))
        && let Ok(text) = std::fs::read_to_string(&path)
    {
        match parse(&text) {
            Ok(c) => cfg = c,
            Err(e) => notices.push(format!("{}: {e}", path.display())),
        }
    }
    if let Some(id) = std::env::var("TGSESS_API_ID")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        cfg.api_id = Some(id);
    }
    if let Ok(hash) = std::env::var("TGSESS_API_HASH")
        && !hash.is_empty()
    {
        cfg.api_hash = Some(hash);
    }
    (cfg, notices)
}

/// The message shown when neither api credentials nor `--sandbox` are given.
pub const API_MISSING: &str =
    "set TGSESS_API_ID/TGSESS_API_HASH (my.telegram.org) or try `tgsess --sandbox`";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_top_level_and_sections() {
        let c = parse("theme = \"light\"\n[telegram]\napi_id = 42\napi_hash = \"abc\"\n").unwrap();
        assert_eq!(c.theme.as_deref(), Some("light"));
        assert_eq!(c.api_id, Some(42));
        assert_eq!(c.api_hash.as_deref(), Some("abc"));
        assert!(parse("theme = ").is_err());
    }
}
