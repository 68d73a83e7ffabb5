//! Where api_id and api_hash come from: flags, then the environment (`TG_API_ID`,
//! `TG_API_HASH`), then the config file (`~/.config/tgsess/config.toml`). Sandbox mode needs none.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::TgError;

pub const ENV_API_ID: &str = "TG_API_ID";
pub const ENV_API_HASH: &str = "TG_API_HASH";
/// Overrides the config file's location (tests, unusual setups).
pub const ENV_CONFIG: &str = "TGSESS_CONFIG";

/// The application credentials sent with sendCode, importBotAuthorization and exportLoginToken.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiCredentials {
    pub api_id: i32,
    pub api_hash: String,
}

impl std::fmt::Debug for ApiCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash is not a login secret, but it is private to its owner: keep it out of logs.
        write!(
            f,
            "ApiCredentials {{ api_id: {}, api_hash: <redacted> }}",
            self.api_id
        )
    }
}

/// The optional settings file.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub api_id: Option<i32>,
    pub api_hash: Option<String>,
    /// `socks5://[user:pass@]host:port`
    pub proxy: Option<String>,
}

/// The default config file path (`$TGSESS_CONFIG`, else `~/.config/tgsess/config.toml`).
pub fn default_config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(ENV_CONFIG).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    directories::ProjectDirs::from("", "", "tgsess").map(|d| d.config_dir().join("config.toml"))
}

/// Reads the config file; a missing file is an empty config.
pub fn load_file(path: &Path) -> Result<FileConfig, TgError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileConfig::default()),
        Err(e) => return Err(TgError::Config(format!("{}: {e}", path.display()))),
    };
    toml::from_str(&text).map_err(|e| TgError::Config(format!("{}: {e}", path.display())))
}

/// Values given on the command line.
#[derive(Clone, Debug, Default)]
pub struct ApiFlags {
    pub api_id: Option<i32>,
    pub api_hash: Option<String>,
}

/// Picks api_id and api_hash, each from the first source that has it: flags, environment
/// (read through `env`), file. `file_path` only names the file in the error.
pub fn resolve_credentials(
    flags: &ApiFlags,
    env: impl Fn(&str) -> Option<String>,
    file: &FileConfig,
    file_path: Option<&Path>,
) -> Result<ApiCredentials, TgError> {
    let env_id = match env(ENV_API_ID).filter(|v| !v.trim().is_empty()) {
        Some(v) => Some(v.trim().parse::<i32>().map_err(|_| {
            TgError::Config(format!("{ENV_API_ID} must be a number, got '{}'", v.trim()))
        })?),
        None => None,
    };
    let env_hash = env(ENV_API_HASH).filter(|v| !v.trim().is_empty());
    let api_id = flags.api_id.or(env_id).or(file.api_id);
    let api_hash = flags
        .api_hash
        .clone()
        .or(env_hash)
        .or_else(|| file.api_hash.clone())
        .map(|h| h.trim().to_string());
    match (api_id, api_hash) {
        (Some(api_id), Some(api_hash)) if api_id != 0 && !api_hash.is_empty() => {
            Ok(ApiCredentials { api_id, api_hash })
        }
        _ => Err(TgError::Config(format!(
            "api_id and api_hash are needed (get them at https://my.telegram.org): pass \
             --api-id and --api-hash, or set {ENV_API_ID} and {ENV_API_HASH}, or write api_id \
             and api_hash in {}",
            file_path
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "~/.config/tgsess/config.toml".into())
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn flags_beat_env_beat_file() {
        let file = FileConfig {
            api_id: Some(3),
            api_hash: Some("file".into()),
            proxy: None,
        };
        let env = env_of(&[(ENV_API_ID, "2"), (ENV_API_HASH, "env")]);
        let got = resolve_credentials(&ApiFlags::default(), &env, &file, None).unwrap();
        assert_eq!((got.api_id, got.api_hash.as_str()), (2, "env"));
        let flags = ApiFlags {
            api_id: Some(1),
            api_hash: None,
        };
        let got = resolve_credentials(&flags, &env, &file, None).unwrap();
        assert_eq!((got.api_id, got.api_hash.as_str()), (1, "env"));
        let got = resolve_credentials(&ApiFlags::default(), env_of(&[]), &file, None).unwrap();
        assert_eq!((got.api_id, got.api_hash.as_str()), (3, "file"));
    }

    #[test]
    fn missing_credentials_name_all_three_sources() {
        let err = resolve_credentials(
            &ApiFlags::default(),
            env_of(&[]),
            &FileConfig::default(),
            Some(Path::new("/x/config.toml")),
        )
        .unwrap_err()
        .to_string();
        for needle in ["--api-id", ENV_API_ID, ENV_API_HASH, "/x/config.toml"] {
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn bad_env_number_is_reported() {
        let err = resolve_credentials(
            &ApiFlags::default(),
            env_of(&[(ENV_API_ID, "abc"), (ENV_API_HASH, "h")]),
            &FileConfig::default(),
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("must be a number"));
    }

    #[test]
    fn file_is_parsed_and_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert_eq!(load_file(&path).unwrap(), FileConfig::default());
        std::fs::write(
            &path,
            "api_id = 17\napi_hash = \"abc\"\nproxy = \"socks5://127.0.0.1:9\"\n",
        )
        .unwrap();
        let cfg = load_file(&path).unwrap();
        assert_eq!(cfg.api_id, Some(17));
        assert_eq!(cfg.proxy.as_deref(), Some("socks5://127.0.0.1:9"));
        std::fs::write(&path, "api_idd = 1\n").unwrap();
        assert!(matches!(load_file(&path), Err(TgError::Config(_))));
    }

    #[test]
    fn debug_hides_the_hash() {
        let c = ApiCredentials {
            api_id: 5,
            api_hash: "0123456789abcdef".into(),
        };
        assert!(!format!("{c:?}").contains("0123"));
    }
}
