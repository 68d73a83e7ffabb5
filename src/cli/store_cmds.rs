//! `list`, `inspect`, `convert`, `clone`, `rm`: the store over the command line.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

use super::GlobalArgs;
use super::account::Prompter;
use super::output::{errln, out, outln};
use crate::secret::SecretString;
use crate::store::StoreError;
use crate::store::convert::{Overrides, prepare};
use crate::store::dir::SessionDir;
use crate::store::list_cache;
use crate::store::{self, BackendKind, Format, Loaded, inspect};
use crate::telegram::lock;
use crate::text::{clean, clean_path};
use crate::ui::text::fit;

#[derive(Subcommand, Debug)]
pub enum StoreCommand {
    /// List every session in the directory (unreadable files are listed with their error).
    List {
        /// One JSON array of objects (never the key).
        #[arg(long)]
        json: bool,
    },
    /// Show every field of a session: a file, a session name, a session string, or - (stdin).
    Inspect {
        input: String,
        #[arg(long)]
        json: bool,
        /// Also show the auth key itself.
        #[arg(long)]
        reveal: bool,
    },
    /// Convert a session to another format (several files or a folder: each into -o FOLDER).
    Convert(ConvertArgs),
    /// Copy a session into the directory under a new name (same auth key).
    Clone {
        /// A file, a session name or a session string.
        src: String,
        /// Name of the copy in the session directory.
        name: String,
        /// Store the copy as a SQLite file or a string file (default: like the source).
        #[arg(long, value_enum)]
        to: Option<CloneTarget>,
    },
    /// Move a session file to the trash folder inside the directory.
    Rm { name: String },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CloneTarget {
    Sqlite,
    String,
}

#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// A file, a session name, a session string, or - (stdin). Several files or a folder
    /// (every session in it) convert each into the folder -o FOLDER.
    #[arg(required = true, num_args = 1.., value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// tgsess-string, telethon-string, pyrogram-string, tgsess-sqlite, telethon-sqlite,
    /// pyrogram-sqlite (schema 3, every fork reads it; or pyrogram-sqlite-v7 = kurigram-sqlite,
    /// pyrofork-sqlite), tdata (a Telegram Desktop folder).
    #[arg(long, value_name = "FORMAT")]
    pub to: Format,
    /// Where to write (- for stdout). Without it, a string is printed only with --reveal.
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Print a session string to the terminal.
    #[arg(long)]
    pub reveal: bool,
    #[arg(long, value_name = "N")]
    pub api_id: Option<i32>,
    #[arg(long, value_name = "N")]
    pub user_id: Option<i64>,
    /// The account is a bot.
    #[arg(long)]
    pub bot: bool,
    /// The session belongs to Telegram's test servers.
    #[arg(long)]
    pub test_mode: bool,
    /// Server address of the home DC, when the source has none and the DC is not in the table.
    #[arg(long, value_name = "IP")]
    pub address: Option<IpAddr>,
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// Lock a new tdata folder with a local passcode (asked without echo, or one line of stdin).
    #[arg(long)]
    pub passcode: bool,
}

pub fn run(cmd: StoreCommand, global: &GlobalArgs) -> anyhow::Result<i32> {
    // Sandbox mode lists and edits the sandbox's sessions (see `crate::mode`).
    let dir = global.workspace().session_dir();
    match cmd {
        StoreCommand::List { json } => list(&dir, json),
        StoreCommand::Inspect {
            input,
            json,
            reveal,
        } => {
            let (loaded, file) = read_input_with_path(&input, &dir)?;
            if let Some(warning) = file.as_deref().and_then(inspect::exposure_warning) {
                errln!("warning: {}", clean(&warning));
            }
            if json {
                let value = match &file {
                    Some(path) => inspect::file_json(path, &loaded, reveal),
                    None => inspect::to_json(&loaded, reveal),
                };
                outln!("{}", serde_json::to_string_pretty(&value)?)?;
            } else {
                out!("{}", inspect::to_text(&loaded, reveal))?;
            }
            Ok(0)
        }
        StoreCommand::Convert(args) if super::convert_batch::is_batch(&args) => {
            super::convert_batch::run(args, &dir)
        }
        StoreCommand::Convert(args) => convert(args, &dir),
        StoreCommand::Clone { src, name, to } => clone(&src, &name, to, &dir),
        StoreCommand::Rm { name } => {
            let path = dir.find(&name)?;
            let _lock = lock::lock_for_writing(&path)?;
            let dest = dir.trash(&name)?;
            errln!("moved '{}' to {}", clean(&name), clean_path(&dest));
            Ok(0)
        }
    }
}

/// Reads INPUT: `-` (stdin), an existing path, a session name in the directory, or a string.
pub fn read_input(input: &str, dir: &SessionDir) -> anyhow::Result<Loaded> {
    Ok(read_input_with_path(input, dir)?.0)
}

/// [`read_input`], also giving the file it read (none for stdin and strings).
fn read_input_with_path(
    input: &str,
    dir: &SessionDir,
) -> anyhow::Result<(Loaded, Option<PathBuf>)> {
    if input == "-" {
        let bytes =
            crate::fsutil::read_capped(std::io::stdin().lock(), crate::fsutil::MAX_SESSION_BYTES)
                .context("standard input")?;
        return Ok((store::read_bytes(bytes, "standard input")?, None));
    }
    let path = Path::new(input);
    // symlink_metadata: a FIFO, a folder or a dangling link named here is refused by
    // read_file with its reason, not taken for a session string.
    if std::fs::symlink_metadata(path).is_ok() || store::tdata::split_account(input).is_some() {
        return Ok((read_path(path)?, Some(path.to_path_buf())));
    }
    if store::dir::validate_name(input).is_ok()
        && let Ok(found) = dir.find(input)
    {
        return Ok((read_path(&found)?, Some(found)));
    }
    let looks_like_path = input.contains('/')
        || input.ends_with(".session")
        || input.ends_with(".txt")
        || input.len() < 64;
    if looks_like_path {
        bail!(
            "{input}: no such file, and no session of that name in {}",
            dir.root().display()
        );
    }
    Ok((
        store::parse_string(input, "the session string given as argument")?,
        None,
    ))
}

/// Reads a file or tdata folder, asking for the folder's local passcode when it has one
/// (without echo on a terminal, else one line of standard input).
pub fn read_path(path: &Path) -> anyhow::Result<Loaded> {
    match store::read_file(path) {
        Err(StoreError::PasscodeNeeded(_)) => {
            let passcode =
                Prompter::new().secret(&format!("Local passcode of {}: ", clean_path(path)))?;
            Ok(store::read_file_with(path, passcode.reveal().as_bytes())?)
        }
        other => Ok(other?),
    }
}

/// A new local passcode for a tdata folder (asked twice on a terminal).
pub(super) fn new_passcode() -> anyhow::Result<SecretString> {
    let mut prompter = Prompter::new();
    let first = prompter.secret("New local passcode: ")?;
    if prompter.is_interactive() && prompter.secret("New local passcode again: ")? != first {
        bail!("the two passcodes differ");
    }
    if first.is_empty() {
        bail!("the local passcode is empty: leave out --passcode for a folder without one");
    }
    Ok(first)
}

fn list(dir: &SessionDir, json: bool) -> anyhow::Result<i32> {
    let rows = list_cache::list(dir)?;
    if json {
        let arr: Vec<Value> = rows.iter().map(row_json).collect();
        outln!("{}", serde_json::to_string_pretty(&Value::Array(arr))?)?;
        return Ok(0);
    }
    if rows.is_empty() {
        errln!("no sessions in {}", clean_path(dir.root()));
        return Ok(0);
    }
    let mut table = String::new();
    table.push_str(&format!(
        "{:<24} {:<7} {:<22} {:>3} {:>12} {:<4} {}\n",
        "NAME", "BACKEND", "FORMAT", "DC", "USER ID", "BOT", "ACCOUNT"
    ));
    for row in &rows {
        let name = fit(&clean(&row.name), 24);
        match &row.info {
            Ok(v) => {
                let bot = match v["is_bot"].as_bool() {
                    Some(true) => "bot",
                    Some(false) => "user",
                    None => "-",
                };
                let account = [&v["first_name"], &v["last_name"]]
                    .iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                let account = if account.is_empty() {
                    v["username"]
                        .as_str()
                        .map(|u| format!("@{u}"))
                        .unwrap_or_default()
                } else {
                    account
                };
                let key = if v["auth_key_id_hex"].is_null() {
                    " (no key)"
                } else {
                    ""
                };
                let exposed = if v["readable_by_others"] == true {
                    " (warning: readable by other users)"
                } else {
                    ""
                };
                table.push_str(&format!(
                    "{} {:<7} {:<22} {:>3} {:>12} {:<4} {}{}{}\n",
                    name,
                    row.backend.name(),
                    v["format"].as_str().unwrap_or("-"),
                    v["dc_id"].to_string(),
                    v["user_id"]
                        .as_i64()
                        .map(|u| u.to_string())
                        .unwrap_or("-".into()),
                    bot,
                    clean(&account),
                    key,
                    exposed
                ));
            }
            Err(e) => table.push_str(&format!(
                "{:<24} {:<7} error: {}\n",
                name,
                row.backend.name(),
                e
            )),
        }
    }
    out!("{table}")?;
    Ok(0)
}

fn row_json(row: &list_cache::Row) -> Value {
    let mut obj = row.info.clone().unwrap_or_else(|_| json!({}));
    let map = obj.as_object_mut().expect("an object");
    map.insert("name".into(), json!(row.name));
    map.insert("path".into(), json!(row.path.display().to_string()));
    map.insert("backend".into(), json!(row.backend.name()));
    map.insert("error".into(), json!(row.info.as_ref().err()));
    obj
}

fn convert(args: ConvertArgs, dir: &SessionDir) -> anyhow::Result<i32> {
    let loaded = read_input(&args.inputs[0], dir)?;
    let overrides = Overrides {
        api_id: args.api_id,
        user_id: args.user_id,
        is_bot: args.bot.then_some(true),
        test_mode: args.test_mode.then_some(true),
        address: args.address,
        port: args.port,
    };
    let target = args.to.writer();
    let (session, notes) = prepare(&loaded.session, target, &overrides)?;
    for note in &notes {
        errln!("note: {}", clean(note));
    }
    if args.passcode && target != Format::Tdata {
        bail!("--passcode is for --to tdata only");
    }
    let is_string = target.backend() == BackendKind::String;
    match args.output.as_deref() {
        Some(path) if target == Format::Tdata && path != Path::new("-") => {
            let passcode = if args.passcode {
                new_passcode()?
            } else {
                SecretString::new("")
            };
            store::tdata::write_folder(
                path,
                std::slice::from_ref(&session),
                passcode.reveal().as_bytes(),
                args.force,
            )?;
            errln!("wrote {} ({})", clean_path(path), target.name());
        }
        None | Some(_)
            if is_string && args.output.as_deref().is_none_or(|p| p == Path::new("-")) =>
        {
            if args.output.is_none() && !args.reveal {
                bail!(
                    "a session string is a secret: pass --reveal to print it, or -o PATH to write it to a file"
                );
            }
            outln!("{}", store::encode_string(&session, target)?)?;
        }
        None => bail!("{} is a file format: pass -o PATH", target.family()),
        Some(path) if path == Path::new("-") => bail!(
            "{} is a file format: it cannot go to standard output",
            target.family()
        ),
        Some(path) => {
            let exists = std::fs::symlink_metadata(path).is_ok();
            if exists && !args.force {
                bail!(
                    "{}: already exists (pass --force to replace it)",
                    path.display()
                );
            }
            let _lock = lock::lock_for_writing(path)?;
            if exists {
                // Replacing: build the new file from scratch, then swap it in atomically.
                store::replace_file(path, &session, target)?;
            } else {
                store::write_file(path, &session, target)?;
            }
            errln!("wrote {} ({})", clean_path(path), target.name());
        }
    }
    Ok(0)
}

fn clone(src: &str, name: &str, to: Option<CloneTarget>, dir: &SessionDir) -> anyhow::Result<i32> {
    let loaded = read_input(src, dir)?;
    let same_backend = loaded.format.backend();
    let format = match to {
        None => loaded.format.writer(),
        Some(CloneTarget::Sqlite) if same_backend == BackendKind::Sqlite => loaded.format.writer(),
        Some(CloneTarget::Sqlite) => Format::TgsessSqlite,
        Some(CloneTarget::String) if same_backend == BackendKind::String => loaded.format.writer(),
        Some(CloneTarget::String) => Format::TgsessString,
    };
    dir.ensure()?;
    let path = dir.new_path(name, format)?;
    let (session, notes) = prepare(&loaded.session, format, &Overrides::default())?;
    for note in &notes {
        errln!("note: {}", clean(note));
    }
    let _lock = lock::lock_for_writing(&path)?;
    if std::fs::symlink_metadata(&path).is_ok() {
        bail!(
            "{}: appeared while cloning; choose another name",
            path.display()
        );
    }
    store::write_file(&path, &session, format)?;
    errln!("cloned to {} ({})", clean_path(&path), format.name());
    errln!(
        "warning: both copies share one auth key. Using both at once makes Telegram revoke the key \
         (AUTH_KEY_DUPLICATED) and log both out. Use `tgsess fork` for an independent login."
    );
    Ok(0)
}
