//! Reading what may be a session: regular files only (a FIFO would block, a device never ends)
//! and never more than a session can plausibly be.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The most tgsess reads as one session (a Telethon file with a large entity cache is a few
/// MiB; a string is under 1 KiB).
pub const MAX_SESSION_BYTES: u64 = 32 * 1024 * 1024;

/// Opens `path` for reading if it is a regular file. Opening never blocks (O_NONBLOCK, so a
/// FIFO cannot stall us) and the type is checked on the open file, not on the name.
pub fn open_regular(path: &Path) -> io::Result<(File, Metadata)> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| explain_open(path, e))?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{}, not a session file (tgsess reads regular files only)",
                describe_type(&meta)
            ),
        ));
    }
    Ok((file, meta))
}

/// Reads all of `reader`, refusing more than `cap` bytes with an error that says the limit.
pub fn read_capped(reader: impl Read, cap: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "larger than {} MiB, the most tgsess reads as one session",
                cap / (1024 * 1024)
            ),
        ));
    }
    Ok(bytes)
}

fn describe_type(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        "is a folder"
    } else if t.is_fifo() {
        "is a FIFO (named pipe)"
    } else if t.is_char_device() {
        "is a character device"
    } else if t.is_block_device() {
        "is a block device"
    } else if t.is_socket() {
        "is a socket"
    } else {
        "is not a regular file"
    }
}

fn explain_open(path: &Path, e: io::Error) -> io::Error {
    let dangling = e.kind() == io::ErrorKind::NotFound
        && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if dangling {
        return io::Error::new(
            io::ErrorKind::NotFound,
            "a symbolic link to a file that does not exist",
        );
    }
    if e.raw_os_error() == Some(libc::ELOOP) {
        return io::Error::new(
            io::ErrorKind::InvalidInput,
            "a symbolic link that loops (too many levels of links)",
        );
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_fifos_without_blocking_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("f.session");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = open_regular(&fifo).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
        let err = open_regular(dir.path()).unwrap_err();
        assert!(err.to_string().contains("folder"), "{err}");
        let err = open_regular(Path::new("/dev/zero")).unwrap_err();
        assert!(err.to_string().contains("character device"), "{err}");
    }

    #[test]
    fn explains_dangling_and_looping_links() {
        let dir = tempfile::tempdir().unwrap();
        let dangling = dir.path().join("d.session");
        std::os::unix::fs::symlink(dir.path().join("gone"), &dangling).unwrap();
        assert!(
            open_regular(&dangling)
                .unwrap_err()
                .to_string()
                .contains("does not exist")
        );
        let a = dir.path().join("a.session");
        let b = dir.path().join("b.session");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        assert!(open_regular(&a).unwrap_err().to_string().contains("loops"));
    }

    #[test]
    fn caps_what_it_reads_and_says_the_limit() {
        let err = read_capped(io::repeat(0), 1024 * 1024).unwrap_err();
        assert!(err.to_string().contains("1 MiB"), "{err}");
        assert_eq!(read_capped(&b"abc"[..], 3).unwrap(), b"abc");
    }
}
