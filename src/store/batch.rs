//! Batch convert, the store's part: which sessions a list of inputs names (a folder means
//! every session in it), the output each one becomes inside the output folder, inputs that
//! would become the same output, and the write rules of one output: new string files are
//! staged and then made durable together, a batch at a time. The command
//! (`cli::convert_batch`) reads, locks and writes them.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::error::{Result, StoreError};
use super::format::{BackendKind, Format};
use super::model::Session;
use super::{Loaded, dir, tdata};
use crate::fsutil::{self, TempTarget};

/// One session of the batch: its name (which names the output too) and where it comes from.
#[derive(Debug)]
pub struct Item {
    pub name: String,
    pub source: Source,
    /// A `.txt` file found in a folder: a session only if it reads as one (as in `list`).
    pub optional: bool,
}

#[derive(Debug)]
pub enum Source {
    /// A file, or `FOLDER#N` (the N-th account of a tdata folder), still to be read.
    Path(PathBuf),
    /// Already read while expanding (a tdata folder's accounts), or why it could not be.
    Read(Box<Result<Loaded>>),
}

impl Item {
    /// An input that fails before reading, with the reason to report under `name`.
    pub fn refused(name: String, error: StoreError) -> Item {
        Item {
            name,
            source: Source::Read(Box::new(Err(error))),
            optional: false,
        }
    }
}

/// The sessions `inputs` name, in order: a file is one session, a tdata folder one per
/// account (`NAME`, `NAME#2`...), any other folder every session in it (as `list` sees them:
/// `*.session`, `*.string`, `*.txt` holding a string, tdata folders). An input given twice
/// (a folder and a file in it) is converted once. A missing input or an empty folder is an
/// item that carries its error.
pub fn expand(inputs: &[PathBuf]) -> Vec<Item> {
    let mut items = Vec::new();
    for input in inputs {
        expand_one(input, &mut items);
    }
    let mut seen = HashSet::new();
    items.retain(|item| match &item.source {
        Source::Path(p) => seen.insert(fs::canonicalize(p).unwrap_or_else(|_| p.clone())),
        Source::Read(_) => true,
    });
    items
}

fn expand_one(input: &Path, items: &mut Vec<Item>) {
    let shown = input.display().to_string();
    let name = input
        .file_name()
        .and_then(OsStr::to_str)
        .map_or_else(|| shown.clone(), str::to_string);
    if fs::symlink_metadata(input).is_err() {
        let account = input.to_str().and_then(tdata::split_account);
        items.push(match account {
            Some(_) => Item {
                name,
                source: Source::Path(input.to_path_buf()),
                optional: false,
            },
            None => Item::refused(
                shown.clone(),
                StoreError::NotFound(format!("{shown}: no such file or folder")),
            ),
        });
        return;
    }
    if !input.is_dir() {
        let stem = match input.extension().and_then(OsStr::to_str) {
            Some("session" | "string" | "txt") => input.file_stem().and_then(OsStr::to_str),
            _ => None,
        };
        items.push(Item {
            name: stem.map_or(name, str::to_string),
            source: Source::Path(input.to_path_buf()),
            optional: false,
        });
        return;
    }
    if tdata::is_tdata_folder(input) {
        match tdata::read_folder(input, b"") {
            Ok(accounts) => {
                for (i, account) in accounts.into_iter().enumerate() {
                    let loaded = Loaded {
                        format: Format::Tdata,
                        session: account.session,
                    };
                    items.push(Item {
                        name: account_name(&name, i),
                        source: Source::Read(Box::new(Ok(loaded))),
                        optional: false,
                    });
                }
            }
            Err(e) => items.push(Item::refused(name, e)),
        }
        return;
    }
    let before = items.len();
    match dir::listable_files(input) {
        Ok(files) => {
            for (stem, ext, path) in files {
                items.push(Item {
                    name: stem,
                    source: Source::Path(path),
                    optional: ext == "txt",
                });
            }
        }
        Err(e) => return items.push(Item::refused(name, e)),
    }
    for listed in dir::tdata_listings(input) {
        items.push(Item {
            name: listed.name,
            source: Source::Read(Box::new(listed.result)),
            optional: false,
        });
    }
    if items.len() == before {
        items.push(Item::refused(
            shown.clone(),
            StoreError::NotFound(format!("{shown}: no sessions in this folder")),
        ));
    }
}

/// `NAME` for the first account of a tdata folder, `NAME#2`... for the others (as `list`).
fn account_name(folder: &str, index: usize) -> String {
    if index == 0 {
        folder.to_string()
    } else {
        format!("{folder}#{}", index + 1)
    }
}

/// Where the session `name` goes in `folder`: `NAME.session` for SQLite formats,
/// `NAME.string` for strings, the folder `NAME` for tdata.
pub fn output_path(folder: &Path, name: &str, target: Format) -> PathBuf {
    match target.backend() {
        BackendKind::Sqlite => folder.join(format!("{name}.session")),
        BackendKind::Folder => folder.join(name),
        BackendKind::String | BackendKind::Memory => folder.join(format!("{name}.string")),
    }
}

/// Items whose outputs would be the same file, as index → the problem to report. Every item
/// of such a group fails: picking one of them silently would lose the others.
pub fn clashes(items: &[Item]) -> HashMap<usize, String> {
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        by_name.entry(item.name.as_str()).or_default().push(i);
    }
    let mut problems = HashMap::new();
    for group in by_name.into_values() {
        if group.len() < 2 {
            continue;
        }
        let sources: Vec<String> = group.iter().map(|&i| items[i].describe()).collect();
        let problem = format!(
            "{} inputs have this name ({}): rename one of them, or convert them into different folders",
            group.len(),
            sources.join(", ")
        );
        for i in group {
            problems.insert(i, problem.clone());
        }
    }
    problems
}

impl Item {
    /// Where the item comes from, for messages.
    fn describe(&self) -> String {
        match &self.source {
            Source::Path(p) => p.display().to_string(),
            Source::Read(_) => format!("tdata account {}", self.name),
        }
    }
}

/// Writes one output: a tdata folder (locked with `passcode` when not empty), or a file,
/// atomically and 0600 (see [`super::write_file`]). An existing output is replaced only with
/// `force`, and then rebuilt from scratch. The caller holds the output's session lock.
pub fn write_output(
    path: &Path,
    session: &Session,
    target: Format,
    force: bool,
    passcode: &[u8],
) -> Result<()> {
    if target.backend() == BackendKind::Folder {
        return tdata::write_folder(path, std::slice::from_ref(session), passcode, force);
    }
    let exists = fs::symlink_metadata(path).is_ok();
    if exists && !force {
        return Err(StoreError::AlreadyExists(format!(
            "{}: already exists (pass --force to replace it)",
            path.display()
        )));
    }
    if exists {
        super::replace_file(path, session, target)
    } else {
        super::write_file(path, session, target)
    }
}

/// An output written to its temp file, waiting for its batch to be made durable
/// ([`finish_outputs`]). Dropped unfinished, its temp is removed.
pub struct Staged(TempTarget);

/// What [`begin_output`] did.
pub enum Begun {
    /// Written to a temp only: not there until [`finish_outputs`] says so.
    Staged(Staged),
    /// Written and durable already.
    Written,
}

/// Starts writing one output. A new string file (the bulk of a batch, and a few hundred bytes
/// each) is only staged: its temp is written, and [`finish_outputs`] makes a whole batch of
/// them durable together. Anything else (a SQLite file, a tdata folder, an existing output
/// that `force` replaces, a link) is written now by [`write_output`]. The caller holds the
/// output's session lock until the output is finished.
pub fn begin_output(
    path: &Path,
    session: &Session,
    target: Format,
    force: bool,
    passcode: &[u8],
) -> Result<Begun> {
    if target.backend() == BackendKind::String
        && let Err(e) = fs::symlink_metadata(path)
        && e.kind() == io::ErrorKind::NotFound
    {
        return stage_string(path, session, target).map(Begun::Staged);
    }
    write_output(path, session, target, force, passcode).map(|()| Begun::Written)
}

/// The string and a newline in a locked temp beside `path` (as [`super::write_file`] writes
/// it, up to the sync).
fn stage_string(path: &Path, session: &Session, target: Format) -> Result<Staged> {
    let mut text = super::encode_string(session, target)?;
    text.push('\n');
    fsutil::sweep_stale_temps_once(fsutil::parent_of(path));
    super::sqlite_write::settle_companions(path)?;
    let mut temp = TempTarget::new(path).map_err(|e| StoreError::io(path, e))?;
    fsutil::crash_point("temp-created");
    temp.file()
        .write_all(text.as_bytes())
        .map_err(|e| StoreError::io(path, e))?;
    fsutil::crash_point("temp-filled");
    Ok(Staged(temp))
}

/// Puts staged outputs of `folder` in place, durably and together
/// ([`fsutil::commit_together`]): one result per output, in order, each `Ok` only once the
/// output and the folder entry that names it are on disk. A file that took an output's name
/// since it was staged is kept unless `force`.
pub fn finish_outputs(folder: &Path, staged: Vec<Staged>, force: bool) -> Vec<Result<()>> {
    let temps: Vec<TempTarget> = staged.into_iter().map(|s| s.0).collect();
    let paths: Vec<PathBuf> = temps.iter().map(|t| t.final_path().to_path_buf()).collect();
    fsutil::commit_together(folder, temps, !force)
        .into_iter()
        .zip(paths)
        .map(|(result, path)| match result {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                Err(StoreError::AlreadyExists(format!(
                    "{}: already exists (pass --force to replace it)",
                    path.display()
                )))
            }
            Err(e) => Err(StoreError::io(&path, e)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::AuthKey;

    fn session_file(path: &Path) {
        let mut s = Session::new(2);
        s.home_mut().auth_key = Some(AuthKey::random());
        s.home_mut().ipv4 = Some("149.154.167.51".parse().unwrap());
        s.home_mut().port = Some(443);
        super::super::write_file(path, &s, Format::TelethonSqlite(7)).unwrap();
    }

    fn names(items: &[Item]) -> Vec<&str> {
        items.iter().map(|i| i.name.as_str()).collect()
    }

    #[test]
    fn a_folder_is_every_session_in_it_and_a_repeat_counts_once() {
        let tmp = tempfile::tempdir().unwrap();
        session_file(&tmp.path().join("b.session"));
        session_file(&tmp.path().join("a.session"));
        std::fs::write(tmp.path().join("notes.md"), "not a session").unwrap();
        let items = expand(&[tmp.path().to_path_buf(), tmp.path().join("a.session")]);
        assert_eq!(names(&items), ["a", "b"]);
    }

    #[test]
    fn missing_inputs_and_empty_folders_are_items_with_their_error() {
        let tmp = tempfile::tempdir().unwrap();
        let items = expand(&[tmp.path().join("nope.session"), tmp.path().to_path_buf()]);
        assert_eq!(items.len(), 2);
        for item in &items {
            assert!(
                matches!(&item.source, Source::Read(r) if r.is_err()),
                "{item:?}"
            );
        }
    }

    #[test]
    fn same_names_clash_and_every_one_of_them_fails() {
        let tmp = tempfile::tempdir().unwrap();
        for sub in ["x", "y"] {
            std::fs::create_dir(tmp.path().join(sub)).unwrap();
            session_file(&tmp.path().join(sub).join("alice.session"));
        }
        session_file(&tmp.path().join("bob.session"));
        let items = expand(&[
            tmp.path().join("x"),
            tmp.path().join("y"),
            tmp.path().join("bob.session"),
        ]);
        assert_eq!(names(&items), ["alice", "alice", "bob"]);
        let problems = clashes(&items);
        assert_eq!(problems.len(), 2);
        assert!(problems[&0].contains("x/alice.session") && problems[&0].contains("y/alice"));
    }

    #[test]
    fn outputs_are_named_by_backend() {
        let out = Path::new("out");
        assert_eq!(
            output_path(out, "a", Format::TelethonSqlite(7)),
            out.join("a.session")
        );
        assert_eq!(
            output_path(out, "a", Format::TelethonString),
            out.join("a.string")
        );
        assert_eq!(output_path(out, "a", Format::Tdata), out.join("a"));
    }

    #[test]
    fn an_existing_output_is_kept_without_force() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a.session");
        session_file(&path);
        let before = std::fs::read(&path).unwrap();
        let mut s = Session::new(4);
        s.home_mut().auth_key = Some(AuthKey::random());
        s.home_mut().ipv4 = Some("149.154.167.91".parse().unwrap());
        s.home_mut().port = Some(443);
        let target = Format::TgsessSqlite;
        assert!(matches!(
            write_output(&path, &s, target, false, b""),
            Err(StoreError::AlreadyExists(_))
        ));
        assert_eq!(std::fs::read(&path).unwrap(), before);
        write_output(&path, &s, target, true, b"").unwrap();
        assert_eq!(super::super::read_file(&path).unwrap().session.dc_id, 4);
    }
}
