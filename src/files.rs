//! Writing files an operator names, as they asked: a regular file (or a new path) is replaced
//! atomically, keeping its mode and owner, and a symlink is written through to its target; a FIFO
//! or a character device is written to as it is (never replaced by a regular file); anything else
//! (a directory, a block device, a socket) is refused with a reason. And the files a kiosk lives
//! on are never written over: callers name them in `protected`.
//!
//! Owns nothing but the file system calls of one write; knows nothing of vending.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The path is one the program lives on (the books, their lock or key, a config in use).
    #[error("{path} is {what}: it is never written over; name another file")]
    Protected {
        /// The path as given.
        path: PathBuf,
        /// What it is.
        what: String,
    },
    /// The path is something a file cannot be written to.
    #[error("{path} is {what}, not a file that can be written")]
    NotAFile {
        /// The path as given.
        path: PathBuf,
        /// What it is.
        what: &'static str,
    },
    /// The system refused.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path as given.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// Where the bytes for a path go.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// A regular file (after following symlinks), replaced atomically, keeping mode and owner.
    Replace(PathBuf),
    /// A path with nothing there yet (after following symlinks).
    Create(PathBuf),
    /// A FIFO or a character device, written to as it is.
    Stream(PathBuf),
}

/// Follow `path` through symlinks to what it names, and say what may be written there.
fn target(path: &Path) -> Result<Target, WriteError> {
    let io = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let real = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A new path, or a symlink to one: the directory must be there.
            let followed = follow_dangling(path).map_err(io)?;
            let parent = followed
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let name = followed.file_name().ok_or_else(|| WriteError::NotAFile {
                path: path.to_path_buf(),
                what: "a directory",
            })?;
            return Ok(Target::Create(
                std::fs::canonicalize(parent).map_err(io)?.join(name),
            ));
        }
        Err(e) => return Err(io(e)),
    };
    let kind = std::fs::metadata(&real).map_err(io)?.file_type();
    let not = |what| {
        Err(WriteError::NotAFile {
            path: path.to_path_buf(),
            what,
        })
    };
    if kind.is_file() {
        Ok(Target::Replace(real))
    } else if kind.is_fifo() || kind.is_char_device() {
        Ok(Target::Stream(real))
    } else if kind.is_dir() {
        not("a directory")
    } else if kind.is_block_device() {
        not("a block device (a whole disk or partition)")
    } else if kind.is_socket() {
        not("a socket")
    } else {
        not("not a regular file")
    }
}

/// The path a chain of symlinks ends at, when it ends at nothing.
fn follow_dangling(path: &Path) -> std::io::Result<PathBuf> {
    let mut at = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&at) {
            Ok(next) => {
                at = match at.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                };
            }
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => return Ok(at),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(at),
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// A file of the program's own that must never be written over, with what it is ("the books").
pub type Protected = (PathBuf, String);

/// A file being written: opened (or its temporary made) now, finished with [`Output::finish`].
/// Dropped unfinished, it leaves nothing behind.
#[derive(Debug)]
pub struct Output {
    asked: PathBuf,
    file: Option<File>,
    /// For a replacement: the temporary beside the target, and the target.
    rename: Option<(PathBuf, PathBuf)>,
}

impl Output {
    /// Get ready to write `path`: refused if it is (or leads to) one of `protected`, or cannot
    /// hold a file; a FIFO or device is opened now (a FIFO waits for its reader), a file's
    /// replacement is made beside it now with the file's mode and owner.
    pub fn open(path: &Path, protected: &[Protected]) -> Result<Output, WriteError> {
        let target = target(path)?;
        let real = match &target {
            Target::Replace(p) | Target::Create(p) | Target::Stream(p) => p.clone(),
        };
        for (file, what) in protected {
            let same = std::fs::canonicalize(file).unwrap_or_else(|_| file.clone());
            if same == real {
                return Err(WriteError::Protected {
                    path: path.to_path_buf(),
                    what: what.clone(),
                });
            }
        }
        let io = |source| WriteError::Io {
            path: path.to_path_buf(),
            source,
        };
        match target {
            Target::Stream(p) => {
                let file = OpenOptions::new().write(true).open(&p).map_err(io)?;
                Ok(Output {
                    asked: path.to_path_buf(),
                    file: Some(file),
                    rename: None,
                })
            }
            Target::Replace(p) | Target::Create(p) => {
                let existing = std::fs::metadata(&p).ok();
                let temp = temp_beside(&p);
                let mode = existing.as_ref().map_or(0o644, |m| m.mode() & 0o7777);
                let file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(mode)
                    .open(&temp)
                    .map_err(io)?;
                let mut out = Output {
                    asked: path.to_path_buf(),
                    file: Some(file),
                    rename: Some((temp, p)),
                };
                if let (Some(m), Some(f)) = (existing, out.file.as_ref()) {
                    // The mode again (the umask narrowed it at creation); the owner where the
                    // system lets this process give it (root can; anyone can keep their own).
                    let keep = f
                        .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(
                            m.mode() & 0o7777,
                        ))
                        .and_then(|()| {
                            match std::os::unix::fs::fchown(f, Some(m.uid()), Some(m.gid())) {
                                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                                    Ok(())
                                }
                                other => other,
                            }
                        });
                    if let Err(e) = keep {
                        out.discard();
                        return Err(io(e));
                    }
                }
                Ok(out)
            }
        }
    }

    /// Write `bytes` and finish: a replacement is synced and renamed over its target (a crash
    /// leaves the old file or the new one, never half); a stream is written and flushed.
    pub fn finish(mut self, bytes: &[u8]) -> Result<(), WriteError> {
        let Some(mut file) = self.file.take() else {
            return Ok(());
        };
        let written = file.write_all(bytes).and_then(|()| file.flush());
        let written = match &self.rename {
            Some((temp, to)) => written
                .and_then(|()| file.sync_all())
                .and_then(|()| std::fs::rename(temp, to))
                .and_then(|()| sync_dir(to)),
            None => written,
        };
        match written {
            Ok(()) => {
                self.rename = None;
                Ok(())
            }
            Err(source) => {
                self.discard();
                Err(WriteError::Io {
                    path: self.asked.clone(),
                    source,
                })
            }
        }
    }

    fn discard(&mut self) {
        self.file = None;
        if let Some((temp, _)) = self.rename.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        self.discard();
    }
}

/// A new name in the target's own directory (so the rename stays on one file system), unique to
/// this process and write.
fn temp_beside(target: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let mut name = OsString::from(".");
    name.push(target.file_name().unwrap_or_default());
    name.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    target.with_file_name(name)
}

fn sync_dir(file: &Path) -> std::io::Result<()> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => Ok(()),
    }
}

/// Write `bytes` to `path` as [`Output`] does, in one call.
pub fn write(path: &Path, bytes: &[u8], protected: &[Protected]) -> Result<(), WriteError> {
    Output::open(path, protected)?.finish(bytes)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .expect("dir")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn a_regular_file_is_replaced_keeping_its_mode() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("machine.toml");
        std::fs::write(&path, "old").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("mode");
        write(&path, b"new", &[]).expect("replace");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn a_symlink_is_written_through_and_stays_a_symlink() {
        let dir = tempfile::tempdir().expect("dir");
        let real = dir.path().join("real.toml");
        std::fs::write(&real, "old").expect("write");
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        write(&link, b"new", &[]).expect("through");
        assert!(std::fs::symlink_metadata(&link)
            .expect("meta")
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&real).expect("read"), "new");
        // A symlink to nothing yet makes its target.
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("made.txt"), &dangling).expect("symlink");
        write(&dangling, b"made", &[]).expect("dangling");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("made.txt")).expect("read"),
            "made"
        );
    }

    #[test]
    fn devices_are_written_to_and_never_replaced() {
        write(Path::new("/dev/null"), b"gone", &[]).expect("/dev/null");
        assert!(std::fs::metadata("/dev/null")
            .expect("meta")
            .file_type()
            .is_char_device());
        let dir = tempfile::tempdir().expect("dir");
        assert!(matches!(
            write(dir.path(), b"x", &[]),
            Err(WriteError::NotAFile {
                what: "a directory",
                ..
            })
        ));
    }

    #[test]
    fn a_fifo_gets_the_bytes_and_stays_a_fifo() {
        let dir = tempfile::tempdir().expect("dir");
        let fifo = dir.path().join("pipe");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
        )
        .expect("mkfifo");
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).expect("read"))
        };
        write(&fifo, b"through the pipe", &[]).expect("fifo");
        assert_eq!(reader.join().expect("reader"), "through the pipe");
        assert!(std::fs::metadata(&fifo)
            .expect("meta")
            .file_type()
            .is_fifo());
    }

    #[test]
    fn protected_files_are_refused_by_any_name() {
        let dir = tempfile::tempdir().expect("dir");
        let books = dir.path().join("journal.db");
        std::fs::write(&books, "books").expect("write");
        let protected = vec![(books.clone(), "the books".to_string())];
        let via = dir.path().join("sub/../journal.db");
        std::fs::create_dir(dir.path().join("sub")).expect("sub");
        let link = dir.path().join("innocent.dex");
        std::os::unix::fs::symlink(&books, &link).expect("symlink");
        for path in [books.clone(), via, link] {
            let e = write(&path, b"audit", &protected).expect_err("refused");
            assert!(e.to_string().contains("is the books"), "{e}");
        }
        assert_eq!(std::fs::read_to_string(&books).expect("read"), "books");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn an_unfinished_output_leaves_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("out.dex");
        let out = Output::open(&path, &[]).expect("open");
        drop(out);
        assert!(!path.exists());
        assert!(leftovers(dir.path()).is_empty());
    }
}
