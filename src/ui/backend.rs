//! What the TUI talks to: the session folder and an `AccountService` over `crate::telegram`,
//! connected to Telegram, to a running sandbox (`--sandbox-state DIR`) or to an in-process
//! sandbox with the demo accounts (`--sandbox`). Mirrors how the CLI picks them.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use crate::mode::{self, Mode, Workspace};
use crate::sandbox::{self as sb, DEMO_ACCOUNTS, Sandbox};
use crate::store::dir::SessionDir;
use crate::telegram::service::live::{DemoScan, FreshSession, LiveService};
use crate::telegram::service::{AccountService, Unavailable};
use crate::telegram::{self, ApiFlags, ConnectOptions};
use crate::ui::config::Settings;

pub struct Backend {
    pub service: Arc<dyn AccountService>,
    pub dir: SessionDir,
    pub sandbox: bool,
    /// One line per demo account, for the help overlay (sandbox mode).
    pub demo_accounts: Vec<String>,
    /// Why logins cannot work (shown in the status line and the new-login pane).
    pub api_missing: Option<String>,
    /// Said once in the status line at start (e.g. why the sandbox was chosen).
    pub notice: Option<String>,
    in_process: Option<Arc<Sandbox>>,
}

/// Kept in the status line when tgsess starts on the sandbox because no api_id/api_hash is
/// set: the intended first run, so no warning. Fits 80 columns.
pub const SANDBOX_BY_DEFAULT: &str =
    "built-in sandbox DC, no api_id needed: ? lists the demo accounts, n logs in";

/// The demo number to suggest in the phone pane, with its code.
pub fn demo_phone_hint() -> Option<String> {
    let first = DEMO_ACCOUNTS.iter().find_map(|d| d.phone)?;
    let two_step = DEMO_ACCOUNTS
        .iter()
        .find(|d| d.password.is_some())
        .and_then(|d| d.phone);
    let mut hint = format!(
        "demo: +{first}, code {}",
        sb::accounts::login_code_for(first)
    );
    if let Some(p) = two_step {
        hint.push_str(&format!("; with 2FA: +{p}"));
    }
    Some(hint)
}

/// The sandbox's fixed code for a test number.
pub fn demo_code_hint(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    sb::accounts::test_number_dc(&digits)?;
    Some(format!(
        "demo code: {}",
        sb::accounts::login_code_for(&digits)
    ))
}

/// The demo account's 2FA password, if this is one.
pub fn demo_password_hint(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let account = DEMO_ACCOUNTS
        .iter()
        .find(|d| d.phone == Some(digits.as_str()))?;
    Some(format!("demo password: {}", account.password?))
}

/// The demo bot's token.
pub fn demo_bot_hint() -> Option<String> {
    let token = DEMO_ACCOUNTS.iter().find_map(|d| d.bot_token)?;
    Some(format!("demo token: {token}"))
}

/// The demo accounts as help lines (two per account): how to log in, and what it shows.
pub fn demo_lines() -> Vec<String> {
    DEMO_ACCOUNTS
        .iter()
        .flat_map(|d| {
            let login = match (d.phone, d.bot_token) {
                (Some(phone), _) => format!("+{phone}  {} {}", d.first_name, d.last_name),
                (None, Some(token)) => format!("bot token {token}  ({})", d.first_name),
                (None, None) => d.first_name.to_string(),
            };
            [login.trim_end().to_string(), format!("    {}", d.shows)]
        })
        .collect()
}

/// Whether the session folder has no session files (or does not exist yet).
fn dir_is_empty(dir: &SessionDir) -> bool {
    crate::store::dir::listable_files(dir.root()).map_or(true, |files| files.is_empty())
}

/// Connection options and fresh sessions for a sandbox whose state is in `state_dir`.
fn sandbox_options(state_dir: PathBuf) -> (ConnectOptions, FreshSession) {
    let options = mode::sandbox_options(&state_dir);
    let fresh: FreshSession =
        Arc::new(move |dc, _like| sb::provision_session(&state_dir, dc).map_err(|e| e.to_string()));
    (options, fresh)
}

impl Backend {
    pub async fn connect(global: &Settings) -> anyhow::Result<Backend> {
        let workspace = Workspace::resolve(
            global.dir.as_deref(),
            global.sandbox,
            global.sandbox_state.as_deref(),
        );
        match &workspace.mode {
            Mode::InProcessSandbox => return Self::in_process(&workspace, None).await,
            Mode::ExternalSandbox(state_dir) => {
                let (options, fresh) = sandbox_options(state_dir.clone());
                let dcs = sb::dc_addresses(state_dir).ok();
                return Ok(Backend {
                    service: Arc::new(LiveService::new(options, fresh, None).with_sandbox_dcs(dcs)),
                    dir: workspace.session_dir(),
                    sandbox: true,
                    demo_accounts: demo_lines(),
                    api_missing: None,
                    notice: None,
                    in_process: None,
                });
            }
            Mode::Telegram => {}
        }
        let dir = workspace.session_dir();
        let file_path = telegram::config::default_config_path();
        let file = match &file_path {
            Some(p) => telegram::config::load_file(p)?,
            None => telegram::config::FileConfig::default(),
        };
        let env = |k: &str| std::env::var(k).ok();
        let credentials = telegram::config::resolve_credentials(
            &ApiFlags::default(),
            env,
            &file,
            file_path.as_deref(),
        );
        let (service, api_missing): (Arc<dyn AccountService>, _) = match credentials {
            Ok(api) => {
                let options = ConnectOptions {
                    proxy: file.proxy.clone(),
                    ..ConnectOptions::new(api)
                };
                let live = LiveService::new(options, LiveService::telegram_fresh(), None);
                (Arc::new(live), None)
            }
            // A newcomer (no credentials, no sessions) gets the sandbox, so tgsess works at once.
            Err(_) if global.dir.is_none() && dir_is_empty(&dir) => {
                return Self::in_process(
                    &workspace.in_process_sandbox(),
                    Some(SANDBOX_BY_DEFAULT.to_string()),
                )
                .await;
            }
            Err(e) => (
                Arc::new(Unavailable(e.to_string())),
                Some(super::config::API_MISSING.to_string()),
            ),
        };
        Ok(Backend {
            service,
            dir,
            sandbox: false,
            demo_accounts: Vec::new(),
            api_missing,
            notice: None,
            in_process: None,
        })
    }

    /// An in-process sandbox with the demo accounts, its state kept in the chosen folder so
    /// sessions made with it still work on the next run.
    async fn in_process(workspace: &Workspace, notice: Option<String>) -> anyhow::Result<Backend> {
        let sandbox = Arc::new(
            workspace
                .start_sandbox()
                .await
                .context("starting the in-process sandbox")?
                .context("the in-process sandbox did not start")?,
        );
        let (options, fresh) = sandbox_options(workspace.default_state_dir());
        let dcs = sb::dc_addresses(&workspace.default_state_dir()).ok();
        // The first demo user "scans" QR codes.
        let scanner = DEMO_ACCOUNTS
            .iter()
            .find_map(|d| d.phone)
            .unwrap_or("9996621111");
        let for_scan = Arc::clone(&sandbox);
        let demo_scan: DemoScan =
            Arc::new(move |url| for_scan.accept_qr(scanner, url).map_err(|e| e.to_string()));
        Ok(Backend {
            service: Arc::new(
                LiveService::new(options, fresh, Some(demo_scan)).with_sandbox_dcs(dcs),
            ),
            dir: workspace.session_dir(),
            sandbox: true,
            demo_accounts: demo_lines(),
            api_missing: None,
            notice,
            in_process: Some(sandbox),
        })
    }

    /// Stops the in-process sandbox once nothing uses it any more.
    pub async fn stop(self) {
        let Backend {
            service,
            in_process,
            ..
        } = self;
        drop(service);
        if let Some(sandbox) = in_process.and_then(Arc::into_inner) {
            sandbox.stop().await;
        }
    }
}
