//! Which servers a run talks to and where its sessions live: one rule for every command and
//! the TUI.
//!
//! The chosen folder is `--dir`, else `$TGSESS_DIR`, else the platform data folder. On
//! Telegram, sessions live in it. In sandbox mode (`--sandbox`, or `--sandbox-state DIR` for a
//! running `tgsess sandbox serve`) they live in its `sandbox-sessions/` folder, so sandbox
//! logins never mix with real ones, and the in-process sandbox keeps its state in
//! `sandbox-state/` beside them. Connections in sandbox mode dial only the addresses the
//! sandbox recorded (see [`crate::telegram::dial_guard`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::sandbox::{self as sb, Sandbox, SandboxConfig, SandboxError};
use crate::store::dir::SessionDir;
use crate::telegram::{ApiCredentials, ConnectOptions, KeyProvider, SandboxAddrs};

/// Sandbox sessions, under the chosen folder.
pub const SANDBOX_SESSIONS: &str = "sandbox-sessions";
/// The in-process sandbox's state (and the admin commands' default), under the chosen folder.
pub const SANDBOX_STATE: &str = "sandbox-state";

/// Telegram, or which sandbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Telegram,
    /// `--sandbox`: a sandbox inside this process, its state in `<folder>/sandbox-state`.
    InProcessSandbox,
    /// `--sandbox-state DIR`: a running `tgsess sandbox serve` whose state is in DIR.
    ExternalSandbox(PathBuf),
}

/// The chosen folder and mode of one run.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// `--dir`, else `$TGSESS_DIR`, else the platform data folder.
    pub root: PathBuf,
    pub mode: Mode,
}

impl Workspace {
    pub fn resolve(dir_flag: Option<&Path>, sandbox: bool, sandbox_state: Option<&Path>) -> Self {
        let mode = match (sandbox, sandbox_state) {
            (true, _) => Mode::InProcessSandbox,
            (false, Some(state)) => Mode::ExternalSandbox(state.to_path_buf()),
            (false, None) => Mode::Telegram,
        };
        Workspace {
            root: SessionDir::resolve(dir_flag).root().to_path_buf(),
            mode,
        }
    }

    pub fn is_sandbox(&self) -> bool {
        self.mode != Mode::Telegram
    }

    /// Where this run's sessions live.
    pub fn session_dir(&self) -> SessionDir {
        if self.is_sandbox() {
            SessionDir::new(self.root.join(SANDBOX_SESSIONS))
        } else {
            SessionDir::new(&self.root)
        }
    }

    /// The in-process sandbox's state folder (also where the admin commands look by default).
    pub fn default_state_dir(&self) -> PathBuf {
        self.root.join(SANDBOX_STATE)
    }

    /// The state folder of the sandbox this run talks to (None on Telegram).
    pub fn state_dir(&self) -> Option<PathBuf> {
        match &self.mode {
            Mode::Telegram => None,
            Mode::InProcessSandbox => Some(self.default_state_dir()),
            Mode::ExternalSandbox(dir) => Some(dir.clone()),
        }
    }

    /// The same folder, in sandbox mode on the in-process sandbox (the TUI's default for a
    /// newcomer).
    pub fn in_process_sandbox(&self) -> Workspace {
        Workspace {
            root: self.root.clone(),
            mode: Mode::InProcessSandbox,
        }
    }

    /// Starts the in-process sandbox (demo accounts seeded; its state kept between runs, so
    /// sessions made with it keep working). None unless the mode is `InProcessSandbox`.
    pub async fn start_sandbox(&self) -> Result<Option<Sandbox>, SandboxError> {
        if self.mode != Mode::InProcessSandbox {
            return Ok(None);
        }
        let state_dir = self.default_state_dir();
        crate::fsutil::ensure_private_dir(&state_dir)?;
        let sandbox = Sandbox::start(SandboxConfig {
            state_dir: Some(state_dir),
            seed: true,
            base_port: 0,
        })
        .await?;
        Ok(Some(sandbox))
    }
}

/// Connection options for the sandbox whose state is in `state_dir`: every DC at the address
/// that sandbox recorded (nothing else is dialled), fresh keys provisioned in its state.
pub fn sandbox_options(state_dir: &Path) -> ConnectOptions {
    let keys_dir = state_dir.to_path_buf();
    let key_provider: KeyProvider =
        Arc::new(move |dc| sb::provision_session(&keys_dir, dc).map_err(|e| e.to_string()));
    let ports_dir = state_dir.to_path_buf();
    // Read at each connection: a restarted `serve` may listen on other ports.
    let addrs: SandboxAddrs = Arc::new(move |dc| {
        sb::dc_addresses(&ports_dir)
            .ok()
            .and_then(|all| all.get(&dc).copied())
    });
    ConnectOptions::sandbox(
        ApiCredentials {
            api_id: sb::SANDBOX_API_ID,
            api_hash: sb::SANDBOX_API_HASH.to_string(),
        },
        addrs,
        key_provider,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_sessions_live_under_the_chosen_folder_whatever_chose_it() {
        let root = Path::new("/x/chosen");
        for (sandbox, state) in [(true, None), (false, Some(Path::new("/elsewhere/state")))] {
            let ws = Workspace::resolve(Some(root), sandbox, state);
            assert!(ws.is_sandbox());
            assert_eq!(ws.session_dir().root(), root.join("sandbox-sessions"));
        }
        let ws = Workspace::resolve(Some(root), true, None);
        assert_eq!(ws.state_dir(), Some(root.join("sandbox-state")));
        let ws = Workspace::resolve(Some(root), false, Some(Path::new("/s")));
        assert_eq!(ws.state_dir(), Some(PathBuf::from("/s")));
        let ws = Workspace::resolve(Some(root), false, None);
        assert_eq!(ws.session_dir().root(), root);
        assert_eq!(ws.state_dir(), None);
    }
}
