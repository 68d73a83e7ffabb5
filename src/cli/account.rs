//! Account commands over the `telegram` layer: `login phone|bot|qr`, `whoami`, `logout`, `2fa`,
//! `sessions`, `fork`. Prompts read the terminal without echo for secrets; without a terminal
//! they read standard input, one line per prompt, in the order asked.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use super::GlobalArgs;
use super::output::{StdoutError, err, errln, outln};
use crate::mode::{self, Mode};
use crate::sandbox as sb;
use crate::secret::SecretString;
use crate::store::adapter::{Backend, StoredSession};
use crate::store::dir::SessionDir;
use crate::store::{Format, Session};
use crate::telegram::config::{self, ApiFlags};
use crate::telegram::{
    self, ConnectOptions, Connection, Edit2faFlow, Edit2faStep, ForkFlow, ForkStep, PasswordChange,
    PasswordPrompt, PhoneFlow, PhonePrompt, PhoneStep, QrFlow, QrStep, TgError,
};
use crate::text::{clean, clean_path};

#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// Log a session in (a new NAME is created in the session directory).
    #[command(subcommand)]
    Login(LoginCommand),
    /// Show who a session is logged in as.
    Whoami {
        /// Session name in the directory, or a path.
        name: String,
        /// Print JSON: user_id, first_name, last_name, username, phone, is_bot.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Log a session out and remove its key from the file.
    Logout {
        /// Session name in the directory, or a path to a session file.
        name: String,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Enable, change or disable the account's 2FA password.
    #[command(name = "2fa")]
    TwoFa {
        /// Session name in the directory, or a path to a session file.
        name: String,
        #[command(subcommand)]
        action: TwoFaAction,
        #[command(flatten)]
        net: NetArgs,
    },
    /// List the account's logged-in devices, or log some out.
    Sessions {
        /// Session name in the directory, or a path to a session file.
        name: String,
        /// Log out the device with this hash (from the list).
        #[arg(long, value_name = "ID", conflicts_with = "terminate_others")]
        terminate: Option<i64>,
        /// Log out every device but this session.
        #[arg(long)]
        terminate_others: bool,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        net: NetArgs,
    },
    /// A new, independent login (own key) of SRC's account, saved as NAME.
    Fork {
        /// The logged-in session to fork (name or path).
        src: String,
        /// Session name in the directory, or a path to a session file.
        name: String,
        /// Format of a new session file: tgsess-sqlite, telethon-sqlite, pyrogram-sqlite,
        /// tgsess-string, telethon-string or pyrogram-string.
        #[arg(long, default_value = "tgsess-sqlite")]
        format: Format,
        #[command(flatten)]
        net: NetArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum LoginCommand {
    /// With a phone number and the code Telegram sends.
    Phone {
        /// Session name in the directory, or a path to a session file.
        name: String,
        /// Asked for when missing.
        #[arg(long)]
        phone: Option<String>,
        /// Format of a new session file: tgsess-sqlite, telethon-sqlite, pyrogram-sqlite,
        /// tgsess-string, telethon-string or pyrogram-string.
        #[arg(long, default_value = "tgsess-sqlite")]
        format: Format,
        #[command(flatten)]
        recovery: RecoveryArgs,
        #[command(flatten)]
        net: NetArgs,
    },
    /// As a bot, with its token from @BotFather.
    Bot {
        /// Session name in the directory, or a path to a session file.
        name: String,
        /// Asked for (without echo) when missing.
        #[arg(long)]
        token: Option<String>,
        /// Format of a new session file: tgsess-sqlite, telethon-sqlite, pyrogram-sqlite,
        /// tgsess-string, telethon-string or pyrogram-string.
        #[arg(long, default_value = "tgsess-sqlite")]
        format: Format,
        #[command(flatten)]
        net: NetArgs,
    },
    /// By scanning a QR code with a logged-in phone.
    Qr {
        /// Session name in the directory, or a path to a session file.
        name: String,
        /// Format of a new session file: tgsess-sqlite, telethon-sqlite, pyrogram-sqlite,
        /// tgsess-string, telethon-string or pyrogram-string.
        #[arg(long, default_value = "tgsess-sqlite")]
        format: Format,
        #[command(flatten)]
        recovery: RecoveryArgs,
        #[command(flatten)]
        net: NetArgs,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum TwoFaAction {
    /// Set a password on an account that has none.
    Enable {
        #[arg(long)]
        hint: Option<String>,
        /// Recovery email (Telegram emails a code to confirm it).
        #[arg(long)]
        email: Option<String>,
    },
    /// Replace the password.
    Change {
        #[arg(long)]
        hint: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
    /// Remove the password.
    Disable,
}

/// What to do when the account asks for a 2FA password nobody remembers.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct RecoveryArgs {
    /// Instead of asking the 2FA password, reset it: Telegram emails a code to the recovery
    /// address, and entering it removes the password and logs in.
    #[arg(long)]
    pub recover_password: bool,
}

/// Network options of the account commands.
#[derive(Args, Debug, Clone, Default)]
pub struct NetArgs {
    /// api_id from my.telegram.org (else $TG_API_ID, else the config file).
    #[arg(long)]
    pub api_id: Option<i32>,
    /// api_hash from my.telegram.org (else $TG_API_HASH, else the config file).
    #[arg(long)]
    pub api_hash: Option<String>,
    /// SOCKS5 proxy URL, socks5://HOST:PORT or socks5://USER:PASS@HOST:PORT (else `proxy` in the config file).
    #[arg(long)]
    pub proxy: Option<String>,
}

pub fn run(cmd: AccountCommand, global: &GlobalArgs) -> anyhow::Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run_async(cmd, global))
}

async fn run_async(cmd: AccountCommand, global: &GlobalArgs) -> anyhow::Result<i32> {
    let net = match &cmd {
        AccountCommand::Login(
            LoginCommand::Phone { net, .. }
            | LoginCommand::Bot { net, .. }
            | LoginCommand::Qr { net, .. },
        )
        | AccountCommand::Whoami { net, .. }
        | AccountCommand::Logout { net, .. }
        | AccountCommand::TwoFa { net, .. }
        | AccountCommand::Sessions { net, .. }
        | AccountCommand::Fork { net, .. } => net.clone(),
    };
    let env = Env::new(global, &net).await?;
    let mut prompter = Prompter::new();
    let result = match cmd {
        AccountCommand::Login(login) => login_cmd(&env, login, &mut prompter).await,
        AccountCommand::Whoami { name, json, .. } => whoami_cmd(&env, &name, json).await,
        AccountCommand::Logout { name, .. } => logout_cmd(&env, &name).await,
        AccountCommand::TwoFa { name, action, .. } => {
            two_fa_cmd(&env, &name, action, &mut prompter).await
        }
        AccountCommand::Sessions {
            name,
            terminate,
            terminate_others,
            json,
            ..
        } => sessions_cmd(&env, &name, terminate, terminate_others, json).await,
        AccountCommand::Fork {
            src, name, format, ..
        } => fork_cmd(&env, &src, &name, format, &mut prompter).await,
    };
    env.stop().await;
    result
}

// ---------------------------------------------------------------------------------------------
// Where sessions live and how to connect (Telegram, or a sandbox)

/// A sandbox this command talks to.
enum SandboxTarget {
    /// Started by this process (`--sandbox`); stopped at the end.
    InProcess(sb::Sandbox),
    /// A running `tgsess sandbox serve` whose state is in this folder.
    External(PathBuf),
}

impl SandboxTarget {
    fn state_dir(&self) -> PathBuf {
        match self {
            SandboxTarget::InProcess(s) => s.state_dir().to_path_buf(),
            SandboxTarget::External(dir) => dir.clone(),
        }
    }
}

/// Where sessions live and how to reach Telegram (or a sandbox); shared with `check`.
pub(super) struct Env {
    pub(super) dir: SessionDir,
    pub(super) options: ConnectOptions,
    sandbox: Option<SandboxTarget>,
}

impl Env {
    pub(super) async fn new(global: &GlobalArgs, net: &NetArgs) -> anyhow::Result<Env> {
        let config_path = config::default_config_path();
        let file = match &config_path {
            Some(p) => config::load_file(p)?,
            None => config::FileConfig::default(),
        };
        let workspace = global.workspace();
        let sandbox = match &workspace.mode {
            Mode::Telegram => None,
            Mode::InProcessSandbox => workspace
                .start_sandbox()
                .await
                .context("starting the in-process sandbox")?
                .map(SandboxTarget::InProcess),
            Mode::ExternalSandbox(dir) => Some(SandboxTarget::External(dir.clone())),
        };
        let dir = workspace.session_dir();
        let options = match &sandbox {
            // The sandbox is on loopback: no proxy, whatever the config file says.
            Some(target) => mode::sandbox_options(&target.state_dir()),
            None => {
                let flags = ApiFlags {
                    api_id: net.api_id,
                    api_hash: net.api_hash.clone(),
                };
                let api = config::resolve_credentials(
                    &flags,
                    |k| std::env::var(k).ok(),
                    &file,
                    config_path.as_deref(),
                )?;
                ConnectOptions {
                    proxy: net.proxy.clone().or(file.proxy),
                    ..ConnectOptions::new(api)
                }
            }
        };
        Ok(Env {
            dir,
            options,
            sandbox,
        })
    }

    pub(super) async fn stop(self) {
        // Every connection is dropped by now: let their network tasks end before the runtime.
        self.options.tasks.shut_down(Duration::from_secs(10)).await;
        if let Some(SandboxTarget::InProcess(sandbox)) = self.sandbox {
            sandbox.stop().await;
        }
    }

    /// Where the sandbox (if any) serves each DC, always 127.0.0.1.
    pub(super) fn sandbox_dcs(
        &self,
    ) -> anyhow::Result<Option<std::collections::BTreeMap<i32, std::net::SocketAddr>>> {
        let Some(target) = &self.sandbox else {
            return Ok(None);
        };
        let state = sb::state::State::open(&target.state_dir())?;
        let ports = state.dc_ports()?;
        Ok(Some(
            ports
                .into_iter()
                .map(|(dc, port)| (dc, (std::net::Ipv4Addr::LOCALHOST, port).into()))
                .collect(),
        ))
    }

    /// NAME in the directory, or a path to an existing file.
    pub(super) fn existing(&self, name: &str) -> anyhow::Result<PathBuf> {
        let as_path = Path::new(name);
        if name.contains('/') || as_path.is_file() {
            if as_path.is_file() {
                return Ok(as_path.to_path_buf());
            }
            bail!("{name}: no such session file");
        }
        Ok(self.dir.find(name)?)
    }

    fn connect(&self, name: &str) -> anyhow::Result<(PathBuf, Connection)> {
        let path = self.existing(name)?;
        let conn = Connection::open_file(&path, &self.options)?;
        Ok((path, conn))
    }

    /// A brand-new logged-out session whose home DC is `dc_id` (addresses from `like`).
    fn fresh_session(&self, dc_id: i32, like: Option<&Session>) -> anyhow::Result<Session> {
        if let Some(target) = &self.sandbox {
            return Ok(sb::provision_session(&target.state_dir(), dc_id)?);
        }
        Ok(Session::new_like(dc_id, like))
    }

    /// Where a new session NAME goes (a path, or a name in the directory).
    fn new_path(&self, name: &str, format: Format) -> anyhow::Result<PathBuf> {
        if name.contains('/') {
            let path = PathBuf::from(name);
            if path.exists() {
                bail!("{name} already exists");
            }
            return Ok(path);
        }
        self.dir.ensure()?;
        Ok(self.dir.new_path(name, format)?)
    }

    /// User ids of the sessions already in the directory (QR login skips them).
    fn known_user_ids(&self) -> Vec<i64> {
        self.dir
            .list()
            .map(|all| {
                all.into_iter()
                    .filter_map(|l| l.result.ok())
                    .filter_map(|l| l.session.user_id)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A login target: an existing file, or a new one removed again if the login fails.
struct LoginTarget {
    path: PathBuf,
    created: bool,
    conn: Connection,
}

async fn open_login_target(
    env: &Env,
    name: &str,
    format: Format,
) -> anyhow::Result<Option<LoginTarget>> {
    if let Ok(path) = env.existing(name) {
        let conn = Connection::open_file(&path, &env.options)?;
        if conn.session().snapshot().has_key() && telegram::is_authorized(&conn).await? {
            let me = telegram::whoami(&conn).await?;
            outln!(
                "{} is already logged in as {} (user id {})",
                clean_path(&path),
                clean(&me.display()),
                me.user_id
            )?;
            return Ok(None);
        }
        return Ok(Some(LoginTarget {
            path,
            created: false,
            conn,
        }));
    }
    let path = env.new_path(name, format)?;
    let session = env.fresh_session(2, None)?;
    let stored = StoredSession::new(
        session,
        Backend::File {
            path: path.clone(),
            format: format.writer(),
        },
    );
    let conn = Connection::open(stored, &env.options)?;
    Ok(Some(LoginTarget {
        path,
        created: true,
        conn,
    }))
}

/// Removes a file this command created when its login did not finish.
fn discard_if_created(target: LoginTarget) {
    let LoginTarget {
        path,
        created,
        conn,
    } = target;
    // Stop the connection first so that it writes nothing more.
    drop(conn);
    if created {
        let _ = std::fs::remove_file(&path);
    }
}

fn print_logged_in(me: &telegram::Me, path: &Path) -> Result<(), StdoutError> {
    outln!(
        "Logged in as {} (user id {}{}); session saved to {}",
        clean(&me.display()),
        me.user_id,
        if me.is_bot { ", bot" } else { "" },
        clean_path(path)
    )
}

// ---------------------------------------------------------------------------------------------
// Commands

async fn login_cmd(env: &Env, login: LoginCommand, prompter: &mut Prompter) -> anyhow::Result<i32> {
    let (name, format) = match &login {
        LoginCommand::Phone { name, format, .. }
        | LoginCommand::Bot { name, format, .. }
        | LoginCommand::Qr { name, format, .. } => (name.clone(), *format),
    };
    let Some(target) = open_login_target(env, &name, format).await? else {
        return Ok(0);
    };
    let result = match login {
        LoginCommand::Phone {
            phone, recovery, ..
        } => phone_login(&target.conn, phone, recovery, prompter).await,
        LoginCommand::Bot { token, .. } => {
            let token = match token {
                Some(t) => SecretString::new(t),
                None => prompter.secret("Bot token: ")?,
            };
            telegram::bot_login(&target.conn, &token)
                .await
                .map_err(anyhow::Error::from)
        }
        LoginCommand::Qr { recovery, .. } => {
            qr_login(&target.conn, env.known_user_ids(), recovery, prompter).await
        }
    };
    match result {
        Ok(me) => {
            print_logged_in(&me, &target.path)?;
            Ok(0)
        }
        Err(e) => {
            discard_if_created(target);
            Err(e)
        }
    }
}

async fn phone_login(
    conn: &Connection,
    phone: Option<String>,
    recovery: RecoveryArgs,
    prompter: &mut Prompter,
) -> anyhow::Result<telegram::Me> {
    let phone = match phone {
        Some(p) => p,
        None => prompter.line("Phone number (international format): ")?,
    };
    let mut flow = PhoneFlow::new(conn.clone());
    let mut step = flow.start(&phone).await?;
    loop {
        step = match step {
            PhoneStep::Done(me) => return Ok(me),
            PhoneStep::Ask(PhonePrompt::Code { sent, error }) => {
                if let Some(e) = error {
                    errln!("{}", clean(&e.0.to_string()));
                }
                let digits = sent
                    .length
                    .map(|l| format!("{l}-digit "))
                    .unwrap_or_default();
                errln!("A {digits}code was sent {}.", sent.delivery.describe());
                let resend_hint = if sent.next.is_some() {
                    " (empty line: send it again)"
                } else {
                    ""
                };
                let code = prompter.secret(&format!("Login code{resend_hint}: "))?;
                if code.is_empty() && sent.next.is_some() {
                    flow.resend().await?
                } else {
                    flow.enter_code(code).await?
                }
            }
            PhoneStep::Ask(PhonePrompt::Names { error }) => {
                if let Some(e) = error {
                    errln!("{}", clean(&e.0.to_string()));
                } else {
                    errln!("This number has no account yet: sign up.");
                }
                let first = prompter.line("First name: ")?;
                let last = prompter.line("Last name (may be empty): ")?;
                flow.enter_names(&first, &last).await?
            }
            PhoneStep::Ask(PhonePrompt::Password(prompt)) => {
                if recovery.recover_password && prompt.error.is_none() {
                    flow.request_recovery().await?
                } else {
                    let password = ask_password(prompter, &prompt)?;
                    flow.enter_password(password).await?
                }
            }
            PhoneStep::Ask(PhonePrompt::RecoveryCode(prompt)) => {
                let code = ask_recovery_code(prompter, &prompt)?;
                flow.enter_recovery_code(code).await?
            }
        };
    }
}

fn ask_password(prompter: &mut Prompter, prompt: &PasswordPrompt) -> anyhow::Result<SecretString> {
    if let Some(e) = &prompt.error {
        errln!("{}", clean(&e.to_string()));
    }
    let hint = prompt
        .hint
        .as_deref()
        .map(|h| format!(" (hint: {h})"))
        .unwrap_or_default();
    prompter.secret(&format!("2FA password{hint}: "))
}

fn ask_recovery_code(
    prompter: &mut Prompter,
    prompt: &telegram::RecoveryPrompt,
) -> anyhow::Result<SecretString> {
    if let Some(e) = &prompt.error {
        errln!("{}", clean(&e.to_string()));
    }
    prompter.secret(&format!(
        "Recovery code sent to {} (this removes the 2FA password): ",
        prompt.email_pattern
    ))
}

async fn qr_login(
    conn: &Connection,
    except_ids: Vec<i64>,
    recovery: RecoveryArgs,
    prompter: &mut Prompter,
) -> anyhow::Result<telegram::Me> {
    let mut flow = QrFlow::new(conn.clone(), except_ids);
    let mut step = flow.next().await?;
    loop {
        step = match step {
            QrStep::Show { url, .. } => {
                print_qr(&url)?;
                flow.next().await?
            }
            QrStep::Password(prompt) => {
                if recovery.recover_password && prompt.error.is_none() {
                    flow.request_recovery().await?
                } else {
                    let password = ask_password(prompter, &prompt)?;
                    flow.enter_password(password).await?
                }
            }
            QrStep::RecoveryCode(prompt) => {
                let code = ask_recovery_code(prompter, &prompt)?;
                flow.enter_recovery_code(code).await?
            }
            QrStep::Done(me) => return Ok(me),
        }
    }
}

/// Prints the QR as text (two rows per line) and the URL, for terminals and logs.
fn print_qr(url: &str) -> Result<(), StdoutError> {
    if let Ok(code) = qrcode::QrCode::new(url.as_bytes()) {
        outln!("{}", qr_text(&code))?;
    }
    outln!("Scan with Telegram > Settings > Devices > Link Desktop Device, or open:\n{url}")
}

fn qr_text(code: &qrcode::QrCode) -> String {
    let width = code.width();
    let colors = code.to_colors();
    let dark = |x: isize, y: isize| {
        x >= 0
            && y >= 0
            && (x as usize) < width
            && (y as usize) < width
            && colors[y as usize * width + x as usize] == qrcode::Color::Dark
    };
    let quiet = 2isize;
    let mut text = String::new();
    let mut y = -quiet;
    while y < width as isize + quiet {
        for x in -quiet..width as isize + quiet {
            // Light modules are drawn, dark ones left blank: reads right on dark terminals.
            text.push(match (dark(x, y), dark(x, y + 1)) {
                (false, false) => '█',
                (false, true) => '▀',
                (true, false) => '▄',
                (true, true) => ' ',
            });
        }
        text.push('\n');
        y += 2;
    }
    text
}

async fn whoami_cmd(env: &Env, name: &str, json: bool) -> anyhow::Result<i32> {
    let (_, conn) = env.connect(name)?;
    if !conn.session().snapshot().has_key() {
        return Err(TgError::NotAuthorized.into());
    }
    let me = telegram::whoami(&conn).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&me)?)?;
    } else {
        outln!("user id:  {}", me.user_id)?;
        outln!("name:     {}", clean(&me.display()))?;
        if let Some(p) = &me.phone {
            outln!("phone:    {}", clean(p))?;
        }
        outln!("bot:      {}", if me.is_bot { "yes" } else { "no" })?;
    }
    Ok(0)
}

async fn logout_cmd(env: &Env, name: &str) -> anyhow::Result<i32> {
    let (path, conn) = env.connect(name)?;
    telegram::logout(&conn).await?;
    outln!("Logged out; the key was removed from {}", clean_path(&path))?;
    Ok(0)
}

async fn two_fa_cmd(
    env: &Env,
    name: &str,
    action: TwoFaAction,
    prompter: &mut Prompter,
) -> anyhow::Result<i32> {
    let (_, conn) = env.connect(name)?;
    let change = match action {
        TwoFaAction::Enable { hint, email } => PasswordChange::Enable {
            new: prompter.new_password()?,
            hint,
            email,
        },
        TwoFaAction::Change { hint, email } => PasswordChange::Change {
            current: prompter.secret("Current 2FA password: ")?,
            new: prompter.new_password()?,
            hint,
            email,
        },
        TwoFaAction::Disable => PasswordChange::Disable {
            current: prompter.secret("Current 2FA password: ")?,
        },
    };
    let mut flow = Edit2faFlow::new(conn);
    let mut step = flow.start(change).await?;
    loop {
        step = match step {
            Edit2faStep::Done => break,
            Edit2faStep::EmailCode(prompt) => {
                if let Some(e) = &prompt.error {
                    errln!("{}", clean(&e.to_string()));
                }
                let code = prompter.secret(&format!(
                    "{}-digit code sent to the recovery email (empty line: send again): ",
                    prompt.code_length
                ))?;
                if code.is_empty() {
                    flow.resend_email().await?
                } else {
                    flow.enter_email_code(code).await?
                }
            }
        };
    }
    outln!("2FA password updated.")?;
    Ok(0)
}

async fn sessions_cmd(
    env: &Env,
    name: &str,
    terminate: Option<i64>,
    terminate_others: bool,
    json: bool,
) -> anyhow::Result<i32> {
    let (_, conn) = env.connect(name)?;
    if let Some(hash) = terminate {
        telegram::terminate(&conn, hash).await?;
        outln!("Logged out device {hash}.")?;
        return Ok(0);
    }
    if terminate_others {
        telegram::terminate_others(&conn).await?;
        outln!("Logged out every other device.")?;
        return Ok(0);
    }
    let devices = telegram::authorizations(&conn).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&devices)?)?;
        return Ok(0);
    }
    outln!(
        "{:<20}  {:<1}  {:<20}  {:<24}  {:<15}",
        "ID",
        "",
        "APP",
        "DEVICE",
        "IP"
    )?;
    for d in devices {
        outln!(
            "{:<20}  {:<1}  {:<20}  {:<24}  {:<15}",
            d.hash,
            if d.current { "*" } else { "" },
            clean(format!("{} {}", d.app_name, d.app_version).trim()),
            clean(format!("{} {}", d.device_model, d.platform).trim()),
            clean(&d.ip)
        )?;
    }
    Ok(0)
}

async fn fork_cmd(
    env: &Env,
    src: &str,
    name: &str,
    format: Format,
    prompter: &mut Prompter,
) -> anyhow::Result<i32> {
    let (_, source) = env.connect(src)?;
    let src_session = source.session().snapshot();
    let path = env.new_path(name, format)?;
    let fresh = env.fresh_session(src_session.dc_id, Some(&src_session))?;
    let stored = StoredSession::new(
        fresh,
        Backend::File {
            path: path.clone(),
            format: format.writer(),
        },
    );
    let target = Connection::open(stored, &env.options)?;
    let mut flow = ForkFlow::new(source, target);
    let result: anyhow::Result<telegram::Me> = async {
        let mut step = flow.start().await?;
        loop {
            step = match step {
                ForkStep::Done(me) => return Ok(me),
                ForkStep::Password(prompt) => {
                    let password = ask_password(prompter, &prompt)?;
                    flow.enter_password(password).await?
                }
            };
        }
    }
    .await;
    match result {
        Ok(me) => {
            outln!(
                "Forked: {} has its own login of {} (user id {}).",
                clean_path(&path),
                clean(&me.display()),
                me.user_id
            )?;
            Ok(0)
        }
        Err(e) => {
            drop(flow);
            let _ = std::fs::remove_file(&path);
            Err(e)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Prompts

/// Reads answers: from the terminal (secrets without echo), or one line per prompt from
/// standard input when it is not a terminal.
pub(crate) struct Prompter {
    interactive: bool,
}

impl Prompter {
    pub(crate) fn new() -> Self {
        Self {
            interactive: std::io::stdin().is_terminal(),
        }
    }

    fn line(&mut self, prompt: &str) -> anyhow::Result<String> {
        Ok(self.read(prompt, false)?.reveal().to_string())
    }

    pub(crate) fn secret(&mut self, prompt: &str) -> anyhow::Result<SecretString> {
        self.read(prompt, true)
    }

    /// Whether answers come from a terminal (so a new secret can be asked twice).
    pub(crate) fn is_interactive(&self) -> bool {
        self.interactive
    }

    fn new_password(&mut self) -> anyhow::Result<SecretString> {
        let first = self.secret("New 2FA password: ")?;
        if self.interactive {
            let again = self.secret("New 2FA password again: ")?;
            if again != first {
                bail!("the two passwords differ");
            }
        }
        Ok(first)
    }

    fn read(&mut self, prompt: &str, secret: bool) -> anyhow::Result<SecretString> {
        let interactive = self.interactive;
        let line = tokio::task::block_in_place(|| -> std::io::Result<Option<String>> {
            // Echo goes off before the prompt appears, so that nothing typed early shows.
            let _echo = (interactive && secret).then(EchoOff::new);
            err!("{}", clean(prompt));
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            let n = std::io::stdin().lock().read_line(&mut line)?;
            Ok((n > 0).then_some(line))
        })?;
        if interactive && secret {
            errln!();
        }
        match line {
            Some(l) => Ok(SecretString::new(l.trim_end_matches(['\r', '\n']))),
            None => bail!(
                "no answer for the prompt '{}' (end of input)",
                prompt.trim()
            ),
        }
    }
}

/// Turns terminal echo off until dropped.
struct EchoOff {
    saved: Option<libc::termios>,
}

impl EchoOff {
    fn new() -> Self {
        // SAFETY: termios is plain data; tcgetattr/tcsetattr only read/write it for fd 0.
        unsafe {
            let mut term: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut term) != 0 {
                return Self { saved: None };
            }
            let saved = term;
            term.c_lflag &= !libc::ECHO;
            term.c_lflag |= libc::ECHONL;
            libc::tcsetattr(0, libc::TCSANOW, &term);
            Self { saved: Some(saved) }
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            // SAFETY: restores the attributes read in `new`.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, saved);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Turns the printed text back into pixels (a full block is light) and decodes it.
    fn decode_printed(text: &str) -> String {
        let rows: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
        let (cols, lines) = (rows[0].len(), rows.len());
        let light = |x: usize, y: usize| {
            let c = rows[y / 2][x];
            matches!((c, y % 2), ('█', _) | ('▀', 0) | ('▄', 1))
        };
        let (scale, margin) = (4, 16);
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(
            cols * scale + 2 * margin,
            lines * 2 * scale + 2 * margin,
            |x, y| {
                let inside = x >= margin
                    && y >= margin
                    && (x - margin) / scale < cols
                    && (y - margin) / scale < lines * 2;
                // Outside the text: a light background, as on a phone screen.
                if !inside || light((x - margin) / scale, (y - margin) / scale) {
                    255
                } else {
                    0
                }
            },
        );
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code in the text");
        grids[0].decode().expect("decodes").1
    }

    #[test]
    fn printed_qr_decodes_back_to_the_url() {
        let url = "tg://login?token=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHw";
        let code = qrcode::QrCode::new(url.as_bytes()).unwrap();
        assert_eq!(decode_printed(&qr_text(&code)), url);
    }

    #[test]
    fn qr_text_is_square_with_a_quiet_zone() {
        let url = "tg://login?token=AQID";
        let code = qrcode::QrCode::new(url.as_bytes()).unwrap();
        let text = qr_text(&code);
        // Every line has the same width: the QR plus the quiet zone.
        let widths: std::collections::BTreeSet<usize> =
            text.lines().map(|l| l.chars().count()).collect();
        assert_eq!(widths.len(), 1);
        assert_eq!(*widths.iter().next().unwrap(), code.width() + 4);
    }
}
