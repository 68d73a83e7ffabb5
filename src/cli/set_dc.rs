//! `tgsess set-dc NAME DC ADDRESS PORT`: point a session at another DC entry, in its own format.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;

use super::output::errln;
use crate::store::dir::SessionDir;
use crate::store::set_dc::{self, Request};
use crate::store::{self, BackendKind};
use crate::text::{clean, clean_path};

#[derive(Args, Debug)]
pub struct SetDcArgs {
    /// A session name in the directory, or a session file.
    pub name: String,
    /// DC id: 1 to 5 (1 to 3 on Telegram's test servers).
    pub dc: String,
    /// IPv4 or IPv6 address of that DC.
    pub address: String,
    pub port: String,
}

/// The file a NAME stands for: a session in the directory, else an existing path.
fn session_file(name: &str, dir: &SessionDir) -> anyhow::Result<PathBuf> {
    if store::dir::validate_name(name).is_ok()
        && let Ok(found) = dir.find(name)
    {
        return Ok(found);
    }
    let path = Path::new(name);
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    bail!(
        "{name}: no session of that name in {} and no such file (see `tgsess list`)",
        dir.root().display()
    )
}

pub fn run(args: SetDcArgs, dir: &SessionDir) -> anyhow::Result<i32> {
    let path = session_file(&args.name, dir)?;
    // Read and written under the session's lock: a running login may hold it.
    let _lock = crate::telegram::lock::lock_for_writing(&path)?;
    let loaded = store::read_file(&path)?;
    if loaded.format.backend() == BackendKind::Folder {
        bail!("{}: tdata keeps no DC address to change", path.display());
    }
    let request = Request {
        dc: &args.dc,
        address: &args.address,
        port: &args.port,
    };
    let target = set_dc::parse(&request, set_dc::is_test(&loaded.session))?;
    let mut session = loaded.session;
    let notes = set_dc::apply(&mut session, target, loaded.format);
    for note in &notes {
        errln!("note: {}", clean(note));
    }
    store::write_file(&path, &session, loaded.format.writer())?;
    errln!(
        "{}: DC {} at {} port {} ({})",
        clean_path(&path),
        target.dc,
        target.address,
        target.port,
        loaded.format.name()
    );
    Ok(0)
}
