//! `convert INPUT... --to FORMAT -o FOLDER`: many sessions in one process. Each input is
//! read, prepared and locked on its own; new string files are made durable a batch at a time
//! (`store::batch::finish_outputs`), other outputs one by one. A failure is reported with the
//! input's name and the others go on. The single-input form stays in `store_cmds`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::bail;

use super::output::errln;
use super::store_cmds::{ConvertArgs, new_passcode};
use crate::secret::SecretString;
use crate::store::batch::{self, Begun, Item, Source, Staged};
use crate::store::convert::{Overrides, prepare};
use crate::store::dir::{self, SessionDir};
use crate::store::{self, BackendKind, Format, StoreError, tdata};
use crate::telegram::lock::{self, HeldLock};
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
    // Only a file: a session string or - with an existing folder as -o keeps its old error.
    std::fs::symlink_metadata(input).is_ok()
        && args.to.writer() != Format::Tdata
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
    let (paths, mut items) = resolve_inputs(&args.inputs, dir);
    items.extend(batch::expand(&paths));
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
    // What a killed run left is removed even when every output is there already.
    crate::fsutil::sweep_stale_temps_once(&folder);
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
    // The same note for many sessions is said once, with how many and a few of their names.
    let mut notes: Vec<(&str, Vec<&str>)> = Vec::new();
    for (item, outcome) in items.iter().zip(&outcomes) {
        match outcome {
            Outcome::Converted(said) => {
                converted += 1;
                for note in said {
                    match notes.iter_mut().find(|(text, _)| text == note) {
                        Some((_, names)) => names.push(&item.name),
                        None => notes.push((note, vec![&item.name])),
                    }
                }
            }
            Outcome::Skipped => {}
            Outcome::Failed(why) => {
                failed += 1;
                errln!("error: {}: {}", clean(&item.name), clean(why));
            }
        }
    }
    for (text, names) in notes {
        match names.as_slice() {
            [one] => errln!("note: {}: {}", clean(one), clean(text)),
            many => errln!(
                "note: {} ({} sessions: {}{})",
                clean(text),
                many.len(),
                clean(&many[..3.min(many.len())].join(", ")),
                if many.len() > 3 { ", ..." } else { "" }
            ),
        }
    }
    errln!(
        "{converted} converted, {failed} failed ({} in {})",
        target.name(),
        clean_path(&folder)
    );
    Ok(if failed > 0 { 1 } else { 0 })
}

/// Each INPUT as a path: an existing file or folder, `FOLDER#N`, or a session name in the
/// directory; anything else stays as given, and expanding it reports it missing. What looks
/// like a session string is refused here, without repeating it (it is a secret).
fn resolve_inputs(inputs: &[String], dir: &SessionDir) -> (Vec<PathBuf>, Vec<Item>) {
    let mut paths = Vec::new();
    let mut refused = Vec::new();
    for (n, input) in inputs.iter().enumerate() {
        let path = Path::new(input);
        if std::fs::symlink_metadata(path).is_ok() || tdata::split_account(input).is_some() {
            paths.push(path.to_path_buf());
        } else if dir::validate_name(input).is_ok()
            && let Ok(found) = dir.find(input)
        {
            paths.push(found);
        } else if looks_like_a_string(input) {
            refused.push(Item::refused(
                format!("input {}", n + 1),
                StoreError::NotFound(
                    "not a file or folder; a session string is converted on its own \
                     (tgsess convert STRING --to FORMAT)"
                        .into(),
                ),
            ));
        } else {
            paths.push(path.to_path_buf());
        }
    }
    (paths, refused)
}

/// The rule of the single-input form: long, and not shaped like a path.
fn looks_like_a_string(input: &str) -> bool {
    input.len() >= 64
        && !input.contains('/')
        && !input.ends_with(".session")
        && !input.ends_with(".txt")
        && !input.ends_with(".string")
}

/// Threads converting to strings at once. With the syncs of a batch done together, the work
/// is reading inputs and creating and renaming files (CPU, in the process and in the kernel),
/// with one wait per batch: a few threads more than cores keep both cores busy.
const WRITERS: usize = 4;

/// Threads converting to other formats, each output synced on its own (two fsyncs): mostly
/// waiting, and with many in flight the disk takes their writes together.
const SYNCING_WRITERS: usize = 16;

/// Outputs a thread stages before it makes them durable together. Each waiting output holds
/// two descriptors (its lock and its temp), so the batch shrinks to fit the process's limit.
const BATCH: usize = 64;

/// An output staged by [`begin_one`] and waiting for its thread's batch.
struct Waiting {
    index: usize,
    notes: Vec<String>,
    staged: Staged,
    /// Held until the output is in place and durable.
    _lock: HeldLock,
}

/// What [`begin_one`] got to.
enum Step {
    Done(Outcome),
    Waiting(Vec<String>, Staged, HeldLock),
}

/// Converts every item on [`WRITERS`] (or [`SYNCING_WRITERS`]) threads, in input order. Each thread stages up to a
/// batch of outputs, then makes them durable together ([`batch::finish_outputs`]); an input
/// counts as converted only once its output and the folder entry are on disk.
fn convert_all(items: &[Item], job: &Job) -> Vec<Outcome> {
    let writers = match job.target.backend() {
        BackendKind::String => WRITERS,
        _ => SYNCING_WRITERS,
    };
    let threads = writers.min(items.len()).max(1);
    let batch = batch_size(threads);
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, Outcome)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    let mut waiting = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        match begin_one(item, job) {
                            Step::Done(outcome) => out.push((i, outcome)),
                            Step::Waiting(notes, staged, lock) => {
                                waiting.push(Waiting {
                                    index: i,
                                    notes,
                                    staged,
                                    _lock: lock,
                                });
                                if waiting.len() >= batch {
                                    finish(&mut waiting, job, &mut out);
                                }
                            }
                        }
                    }
                    finish(&mut waiting, job, &mut out);
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

/// [`BATCH`], or fewer when the descriptors of `threads` full batches would not fit in the
/// process's limit (with room left for inputs and SQLite).
fn batch_size(threads: usize) -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
    } else {
        1024
    };
    let spare = soft.saturating_sub(128) / (3 * threads);
    BATCH.min(spare).max(1)
}

/// Makes the waiting outputs durable together and records what became of each.
fn finish(waiting: &mut Vec<Waiting>, job: &Job, out: &mut Vec<(usize, Outcome)>) {
    if waiting.is_empty() {
        return;
    }
    let mut rest = Vec::with_capacity(waiting.len());
    let mut staged = Vec::with_capacity(waiting.len());
    for w in waiting.drain(..) {
        staged.push(w.staged);
        rest.push((w.index, w.notes, w._lock));
    }
    let results = batch::finish_outputs(job.folder, staged, job.force);
    for ((index, notes, lock), result) in rest.into_iter().zip(results) {
        out.push((
            index,
            match result {
                Ok(()) => Outcome::Converted(notes),
                Err(e) => Outcome::Failed(e.to_string()),
            },
        ));
        drop(lock);
    }
}

/// Reads, prepares and locks one item and writes its output, or stages it for a batch.
fn begin_one(item: &Item, job: &Job) -> Step {
    let read;
    let loaded = match &item.source {
        Source::Path(path) => {
            read = store::read_file(path);
            &read
        }
        Source::Read(result) => &**result,
    };
    let failed = |why: String| Step::Done(Outcome::Failed(why));
    let loaded = match loaded {
        Ok(l) => l,
        Err(_) if item.optional => return Step::Done(Outcome::Skipped),
        Err(StoreError::PasscodeNeeded(what)) => {
            return failed(format!(
                "{what}: locked with a local passcode: convert it on its own to enter it"
            ));
        }
        Err(e) => return failed(e.to_string()),
    };
    let (session, notes) = match prepare(&loaded.session, job.target, &job.overrides) {
        Ok(prepared) => prepared,
        Err(e) => return failed(e.to_string()),
    };
    let path = batch::output_path(job.folder, &item.name, job.target);
    let lock = match lock::lock_for_writing(&path) {
        Ok(lock) => lock,
        Err(e) => return failed(e.to_string()),
    };
    let passcode = job.passcode.reveal().as_bytes();
    match batch::begin_output(&path, &session, job.target, job.force, passcode) {
        Ok(Begun::Staged(staged)) => Step::Waiting(notes, staged, lock),
        Ok(Begun::Written) => Step::Done(Outcome::Converted(notes)),
        Err(e) => failed(e.to_string()),
    }
}
