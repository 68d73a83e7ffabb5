//! What the TUI talks to: the session folder and an `AccountService`. Without the account
//! layer in this build, every network call explains that it is unavailable.

use std::sync::Arc;

use crate::cli::GlobalArgs;
use crate::store::dir::SessionDir;
use crate::ui::service::{AccountService, Unavailable};

pub struct Backend {
    pub service: Arc<dyn AccountService>,
    pub dir: SessionDir,
    pub sandbox: bool,
    /// One line per demo account, for the help overlay (sandbox mode).
    pub demo_accounts: Vec<String>,
    /// Why logins cannot work (shown in the status line and the new-login pane).
    pub api_missing: Option<String>,
}

impl Backend {
    pub async fn connect(global: &GlobalArgs) -> anyhow::Result<Backend> {
        let sandbox = global.sandbox || global.sandbox_state.is_some();
        let configured = std::env::var("TG_API_ID").is_ok() && std::env::var("TG_API_HASH").is_ok();
        Ok(Backend {
            service: Arc::new(Unavailable(
                "account operations are not available in this build (no Telegram layer)".into(),
            )),
            dir: SessionDir::resolve(global.dir.as_deref()),
            sandbox,
            demo_accounts: Vec::new(),
            api_missing: (!sandbox && !configured).then(|| super::config::API_MISSING.to_string()),
        })
    }

    /// Stops what `connect` started (the in-process sandbox).
    pub async fn stop(self) {}
}
