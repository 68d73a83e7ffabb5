//! `tgsess sandbox ...`: run the local sandbox DC and administer its state. Every admin
//! command may run while `serve` is running (the state is shared safely through SQLite).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;

use super::GlobalArgs;
use super::output::{errln, out, outln};
use crate::sandbox::{self, NewUser, Sandbox, SandboxConfig, state::State};
use crate::secret::SecretString;
use crate::store::{self, Format, convert};
use crate::text::{clean, clean_path};

#[derive(Subcommand, Debug)]
pub enum SandboxCommand {
    /// Serve the sandbox DCs on 127.0.0.1 until SIGINT/SIGTERM.
    Serve {
        /// Where DC 2 listens (127.0.0.1:PORT or PORT); DCs 1, 3, 4, 5 take the next ports.
        /// Default: the ports of the last run on this state, else free ones.
        #[arg(long, value_name = "127.0.0.1:PORT")]
        listen: Option<String>,
        /// State folder (default: --sandbox-state, else the data folder's `sandbox`).
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
        /// Add the demo accounts (see docs/sandbox.md).
        #[arg(long)]
        seed: bool,
    },
    /// Provision a key on every DC and print (or write) a logged-out session for it.
    NewSession {
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
        /// Home DC of the session.
        #[arg(long, default_value_t = 2)]
        dc: i32,
        /// Output format (tgsess-string, telethon-string, pyrogram-string, tgsess-sqlite, ...).
        #[arg(long, value_name = "FORMAT")]
        to: String,
        /// Write the session to this file instead of printing it (required for SQLite formats).
        #[arg(short = 'o', long, value_name = "PATH")]
        output: Option<PathBuf>,
    },
    /// Add a user account.
    AddUser {
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
        #[arg(long)]
        phone: String,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        last_name: Option<String>,
        /// 2FA password (only its SRP verifier is stored).
        #[arg(long)]
        password: Option<String>,
        #[arg(long, requires = "password")]
        hint: Option<String>,
        /// Recovery email.
        #[arg(long, requires = "password")]
        email: Option<String>,
    },
    /// Add a bot account.
    AddBot {
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
        /// Bot token, `ID:SECRET`.
        #[arg(long)]
        token: String,
        #[arg(long)]
        name: String,
        /// DC the bot lives on.
        #[arg(long, default_value_t = 2)]
        dc: i32,
    },
    /// Show every code the sandbox "sent" (app, SMS, email), oldest first.
    Outbox {
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Print the sandbox's RSA public key (PKCS#1 PEM) for clients that can add one
    /// (Telethon: `telethon.crypto.rsa.add_key(pem, old=False)`) to create keys by DH.
    RsaKey {
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
    },
    /// What a client needs to reach the sandbox: the DC addresses of the last `serve` on this
    /// state and the RSA key (PEM, modulus, exponent, fingerprint) for its own DH.
    Info {
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Let the account with this phone "scan" a login QR code (tg://login?token=...).
    AcceptQr {
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
        #[arg(long)]
        phone: String,
        url: String,
    },
}

/// The state folder: the flag, else `--sandbox-state`, else `sandbox-state` in the chosen
/// folder (the in-process sandbox's, so `tgsess sandbox outbox` shows what `--sandbox` sent).
fn state_dir(flag: Option<PathBuf>, global: &GlobalArgs) -> PathBuf {
    flag.or_else(|| global.sandbox_state.clone())
        .unwrap_or_else(|| global.workspace().default_state_dir())
}

fn parse_listen(text: &str) -> anyhow::Result<u16> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(port);
    }
    let addr: SocketAddr = text
        .parse()
        .with_context(|| format!("--listen {text}: expected 127.0.0.1:PORT"))?;
    if addr.ip() != Ipv4Addr::LOCALHOST {
        bail!("--listen {text}: the sandbox only listens on 127.0.0.1");
    }
    Ok(addr.port())
}

pub fn run(cmd: SandboxCommand, global: &GlobalArgs) -> anyhow::Result<i32> {
    match cmd {
        SandboxCommand::Serve {
            listen,
            state,
            seed,
        } => {
            let base_port = listen
                .as_deref()
                .map(parse_listen)
                .transpose()?
                .unwrap_or(0);
            serve(state_dir(state, global), seed, base_port)
        }
        SandboxCommand::NewSession {
            state,
            dc,
            to,
            output,
        } => new_session(&state_dir(state, global), dc, &to, output.as_deref()),
        SandboxCommand::AddUser {
            state,
            phone,
            first_name,
            last_name,
            password,
            hint,
            email,
        } => {
            let state = State::open(&state_dir(state, global))?;
            let user = NewUser {
                phone,
                first_name,
                last_name,
                password: password.map(SecretString::new),
                hint,
                email,
            };
            let id = sandbox::add_user_to(&state, &user)?;
            outln!("added user {id}")?;
            Ok(0)
        }
        SandboxCommand::AddBot {
            state,
            token,
            name,
            dc,
        } => {
            if !sandbox::accounts::DC_IDS.contains(&dc) {
                bail!("--dc {dc}: the sandbox serves DCs 1 to 5");
            }
            let state = State::open(&state_dir(state, global))?;
            let id = sandbox::add_bot_to(&state, &token, &name, dc)?;
            outln!("added bot {id}")?;
            Ok(0)
        }
        SandboxCommand::Outbox { state, json } => outbox(&state_dir(state, global), json),
        SandboxCommand::Info { state, json } => info(&state_dir(state, global), json),
        SandboxCommand::RsaKey { state } => {
            let state = State::open(&state_dir(state, global))?;
            out!("{}", sandbox::dh::load_or_create_rsa(&state)?.public_pem())?;
            Ok(0)
        }
        SandboxCommand::AcceptQr { state, phone, url } => {
            let state = State::open(&state_dir(state, global))?;
            sandbox::accept_qr_in(&state, &phone, &url)?;
            outln!("accepted")?;
            Ok(0)
        }
    }
}

fn serve(state_dir: PathBuf, seed: bool, base_port: u16) -> anyhow::Result<i32> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        // Handlers first: a signal arriving right after the "listening" lines must stop
        // the server gracefully, not kill it.
        let stop_signal = stop_signals()?;
        let sb = Sandbox::start(SandboxConfig {
            state_dir: Some(state_dir.clone()),
            seed,
            base_port,
        })
        .await?;
        for dc in sb.dc_ids() {
            outln!("dc {dc} listening on {}", sb.dc_addr(dc))?;
        }
        outln!("state in {}", clean_path(&state_dir))?;
        stop_signal.await;
        sb.stop().await;
        Ok(0)
    })
}

/// Resolves on SIGINT or SIGTERM; the handlers are installed before it returns.
fn stop_signals() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

fn new_session(state_dir: &Path, dc: i32, to: &str, output: Option<&Path>) -> anyhow::Result<i32> {
    let format: Format = to.parse().map_err(anyhow::Error::msg)?;
    if format == Format::Memory {
        bail!("--to memory: a memory session cannot be printed or written");
    }
    let session = sandbox::provision_session(state_dir, dc)?;
    let mut overrides = convert::Overrides::default();
    if format.is_pyrogram() {
        // Pyrogram formats always hold a user id; Pyrogram itself writes 0 until a login.
        overrides.user_id = Some(0);
        overrides.is_bot = Some(false);
    }
    let (prepared, notes) = convert::prepare(&session, format, &overrides)?;
    for note in notes {
        errln!("note: {}", clean(&note));
    }
    match output {
        Some(path) => {
            // A session someone is logged in with is never overwritten under them.
            let _lock = crate::telegram::lock::lock_for_writing(path)?;
            store::write_file(path, &prepared, format)?;
            errln!("wrote {} ({})", clean_path(path), format.name());
        }
        None => {
            if format.backend() != store::BackendKind::String {
                bail!("--to {to} is a SQLite format: pass -o PATH");
            }
            outln!("{}", store::encode_string(&prepared, format)?)?;
        }
    }
    Ok(0)
}

fn outbox(state_dir: &Path, json: bool) -> anyhow::Result<i32> {
    let state = State::open(state_dir)?;
    let entries = state.outbox()?;
    if json {
        let list: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "id": e.id,
                    "at": e.at,
                    "channel": e.channel,
                    "to": e.recipient,
                    "code": e.code.reveal(),
                    "purpose": e.purpose,
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&list)?)?;
    } else if entries.is_empty() {
        outln!("(no codes sent yet)")?;
    } else {
        outln!(
            "{:>4}  {:<10}  {:<5}  {:<24}  {:<8}  PURPOSE",
            "ID",
            "UNIX TIME",
            "VIA",
            "TO",
            "CODE"
        )?;
        for e in entries {
            outln!(
                "{:>4}  {:<10}  {:<5}  {:<24}  {:<8}  {}",
                e.id,
                e.at,
                e.channel,
                clean(&e.recipient),
                clean(e.code.reveal()),
                clean(&e.purpose)
            )?;
        }
    }
    Ok(0)
}

fn info(state_dir: &Path, json: bool) -> anyhow::Result<i32> {
    let state = State::open(state_dir)?;
    let dcs = state.dc_ports()?;
    if dcs.is_empty() {
        return Err(sandbox::SandboxError::NeverServed.into());
    }
    let rsa = sandbox::dh::load_or_create_rsa(&state)?;
    // Public half only: the private exponent never leaves the state.
    let n = rsa.n.to_str_radix(16);
    let e = rsa.e.to_u64_digits().first().copied().unwrap_or(0);
    if json {
        let dcs: Vec<_> = dcs
            .iter()
            .map(|(id, port)| serde_json::json!({"id": id, "ip": "127.0.0.1", "port": port}))
            .collect();
        let out = serde_json::json!({
            "dcs": dcs,
            "rsa": {
                "pem": rsa.public_pem(),
                "n_hex": n,
                "e": e,
                "fingerprint": rsa.fingerprint(),
            },
        });
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
        return Ok(0);
    }
    for (id, port) in &dcs {
        outln!("dc {id}: 127.0.0.1:{port}")?;
    }
    outln!("rsa fingerprint: {}", rsa.fingerprint())?;
    out!("{}", rsa.public_pem())?;
    Ok(0)
}
