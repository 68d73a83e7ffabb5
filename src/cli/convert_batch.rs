//! `convert INPUT... --to FORMAT -o FOLDER`: many sessions in one process. Each input is
//! read, prepared, locked and written on its own; a failure is reported with the input's name
//! and the others go on. The single-input form stays in `store_cmds`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::bail;

use super::output::errln;
use super::store_cmds::{ConvertArgs, new_passcode};
use crate::secret::SecretString;
use crate::store::batch::{self, Item, Source};
use crate::store::convert::{Overrides, prepare};
use crate::store::dir::{self, SessionDir};
use crate::store::{self, Format, StoreError, tdata};
use crate::telegram::lock;
use crate::text::{clean, clean_path};

/// Whether `args` asks for a batch: several inputs, a folder of sessions, or one input and
/// an existing folder as `-o` (a glob that matched one file). A tdata folder input, or a
/// `--to tdata` output folder, is still one session as before.
pub fn is_batch(args: &ConvertArgs) -> bool {
    if args.inputs.len() > 1 {
        return true;
    }
    let input = Path::new(&args.inputs[0]);
    if input.is_dir() && !tdata::is_tdata_folder(input) {
        return true;
    }
    args.to.writer() != Format::Tdata
        && args
            .output
            .as_deref()
            .is_some_and(|o| o != Path::new("-") && o.is_dir())
}

/// What became of one input.
enum Outcome {
    Converted(Vec<String>),
    /// A `.txt` in a folder that holds no session: not an input at all.
    Skipped,
    Failed(String),
}

/// What every input shares.
struct Job<'a> {
    folder: &'a Path,
    target: Format,
    overrides: Overrides,
    force: bool,
    passcode: SecretString,
}

pub fn run(args: ConvertArgs, dir: &SessionDir) -> anyhow::Result<i32> {
    let folder = match args.output.as_deref() {
        None => bail!("converting several sessions writes files: pass -o FOLDER"),
        Some(p) if p == Path::new("-") => {
            bail!("converting several sessions writes files: pass -o FOLDER, not -")
        }
        Some(p) => p.to_path_buf(),
    };
    if std::fs::symlink_metadata(&folder).is_ok() && !folder.is_dir() {
        bail!(
            "{}: not a folder (several sessions are written into -o FOLDER)",
            folder.display()
        );
    }
    if args.reveal {
        bail!("--reveal prints one session string: convert that session on its own");
    }
    if args.user_id.is_some() {
        bail!("--user-id names one account: convert that session on its own, not with others");
    }
    if args.inputs.iter().any(|i| i == "-") {
        bail!("- (standard input) holds one session: convert it on its own");
    }
    let target = args.to.writer();
    if args.passcode && target != Format::Tdata {
        bail!("--passcode is for --to tdata only");
    }
    let mut items = batch::expand(&resolve_inputs(&args.inputs, dir));
    let clashes = batch::clashes(&items);
    for (i, problem) in &clashes {
        items[*i].source = Source::Read(Box::new(Err(StoreError::AlreadyExists(problem.clone()))));
    }
    let passcode = if args.passcode {
        new_passcode()?
    } else {
        SecretString::new("")
    };
    crate::fsutil::ensure_private_dir(&folder).map_err(|e| StoreError::io(&folder, e))?;
    let job = Job {
        folder: &folder,
        target,
        overrides: Overrides {
            api_id: args.api_id,
            user_id: None,
            is_bot: args.bot.then_some(true),
            test_mode: args.test_mode.then_some(true),
            address: args.address,
            port: args.port,
        },
        force: args.force,
        passcode,
    };
    let outcomes = convert_all(&items, &job);
    let (mut converted, mut failed) = (0, 0);
    for (item, outcome) in items.iter().zip(&outcomes) {
        let name = &item.name;
        match outcome {
            Outcome::Converted(notes) => {
                converted += 1;
                for note in notes {
                    errln!("note: {}: {}", clean(name), clean(note));
                }
            }
            Outcome::Skipped => {}
            Outcome::Failed(why) => {
                failed += 1;
                errln!("error: {}: {}", clean(name), clean(why));
            }
        }
    }
    errln!(
        "{converted} converted, {failed} failed ({} in {})",
        target.name(),
        clean_path(&folder)
    );
    Ok(if failed > 0 { 1 } else { 0 })
}

/// INPUT as a path: an existing file or folder, `FOLDER#N`, or a session name in the
/// directory. Anything else stays as given, and expanding it reports it missing.
fn resolve_inputs(inputs: &[String], dir: &SessionDir) -> Vec<PathBuf> {
    inputs
        .iter()
        .map(|input| {
            let path = Path::new(input);
            if std::fs::symlink_metadata(path).is_ok() || tdata::split_account(input).is_some() {
                return path.to_path_buf();
            }
            if dir::validate_name(input).is_ok()
                && let Ok(found) = dir.find(input)
            {
                return found;
            }
            path.to_path_buf()
        })
        .collect()
}

/// Converts every item on a few threads (reading and fsync-ing overlap), in input order.
fn convert_all(items: &[Item], job: &Job) -> Vec<Outcome> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, Outcome)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, convert_one(item, job)));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("convert thread panicked"))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, o)| o).collect()
}

fn convert_one(item: &Item, job: &Job) -> Outcome {
    let read;
    let loaded = match &item.source {
        Source::Path(path) => {
            read = store::read_file(path);
            &read
        }
        Source::Read(result) => &**result,
    };
    let loaded = match loaded {
        Ok(l) => l,
        Err(_) if item.optional => return Outcome::Skipped,
        Err(StoreError::PasscodeNeeded(what)) => {
            return Outcome::Failed(format!(
                "{what}: locked with a local passcode: convert it on its own to enter it"
            ));
        }
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let (session, notes) = match prepare(&loaded.session, job.target, &job.overrides) {
        Ok(prepared) => prepared,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let path = batch::output_path(job.folder, &item.name, job.target);
    let _lock = match lock::lock_for_writing(&path) {
        Ok(lock) => lock,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let passcode = job.passcode.reveal().as_bytes();
    match batch::write_output(&path, &session, job.target, job.force, passcode) {
        Ok(()) => Outcome::Converted(notes),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}
