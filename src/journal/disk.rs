//! The room the books have left on their disk, and the reserve that lets open vends finish when
//! it runs out.
//!
//! A full disk must never cost a customer money or leave a delivery unrecorded. Two rules keep
//! it so: the machine takes no new money and starts no new vend once free space falls under a
//! floor ([`StorageLimits::min_free`]), and a reserve file ([`RESERVE_FILE`]) sits beside the
//! journal, released the moment a commit fails for lack of space so that the commit can be retried
//! and whatever is under way (a coin on its way in, a vend's outcome) is recorded to the end.
//!
//! In memory there is no disk to fill, but tests and the fault campaign can make one fill up
//! ([`DiskFault`]): from a chosen commit on, commits fail with `SQLITE_FULL`, the error a full
//! disk gives, until the reserve is released (or for good, when the reserve is gone too).
//!
//! This module measures and releases space; deciding what the machine does about it belongs to
//! the vend core, told by the controller.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// File name of the space reserve inside the data directory.
pub const RESERVE_FILE: &str = "journal.reserve";

/// Free-space rules for the journal's disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StorageLimits {
    /// Below this many free bytes the machine takes no new money and starts no new vend.
    pub min_free: u64,
    /// Bytes kept in the reserve file, released to finish what is under way when a commit fails
    /// for lack of space.
    pub reserve: u64,
}

impl Default for StorageLimits {
    fn default() -> Self {
        // A vend writes a few pages; the write-ahead log grows to about 4 MiB between
        // checkpoints. The floor leaves room for whatever is under way when it is reached, the
        // reserve for the commits that finish it even when something else filled the disk.
        StorageLimits {
            min_free: 16 << 20,
            reserve: 4 << 20,
        }
    }
}

/// What the journal knows about its disk right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct StorageStatus {
    /// Free bytes for the books (none for a journal in memory).
    pub free_bytes: Option<u64>,
    /// Whether the reserve is in place.
    pub reserve_held: bool,
    /// Whether the machine must stop taking money and starting vends: free space under the
    /// floor, or the reserve gone.
    pub low: bool,
}

/// A full disk, made to order for a journal in memory (tests and the fault campaign).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DiskFault {
    /// The disk is full from this commit on (counting the journal's write transactions from
    /// zero, migrations included).
    pub full_at_commit: u64,
    /// Whether releasing the reserve makes room again (false: the reserve is gone too, and every
    /// commit fails until the fault is cleared).
    pub reserve_helps: bool,
}

/// Where the books' bytes go.
#[derive(Debug)]
pub(super) enum Disk {
    /// In memory: unlimited, unless a fault fills it.
    Memory {
        fault: Option<DiskFault>,
        held: bool,
    },
    /// A directory on a file system, with the reserve file in it.
    Dir { dir: PathBuf, held: bool },
}

impl Disk {
    /// In memory, with its notional reserve in place.
    pub(super) fn memory() -> Disk {
        Disk::Memory {
            fault: None,
            held: true,
        }
    }

    /// A disk for a data directory. A missing reserve is not written here (that takes a moment
    /// the start-up does not need to wait for): the first look at the disk before selling puts
    /// it in place.
    pub(super) fn dir(dir: &Path, limits: StorageLimits) -> Disk {
        Disk::Dir {
            dir: dir.to_path_buf(),
            held: reserve_in_place(dir, limits.reserve),
        }
    }

    fn full(fault: Option<DiskFault>, held: bool, commits: u64) -> bool {
        fault.is_some_and(|f| commits >= f.full_at_commit && (held || !f.reserve_helps))
    }

    /// Whether a commit, the `commits`-th, must fail for lack of space (faults in memory only:
    /// a real disk says so itself).
    pub(super) fn refuses_commit(&self, commits: u64) -> bool {
        match self {
            Disk::Memory { fault, held } => Disk::full(*fault, *held, commits),
            Disk::Dir { .. } => false,
        }
    }

    /// Free bytes, the reserve's state, and whether the floor is reached.
    pub(super) fn status(&mut self, commits: u64, limits: StorageLimits) -> StorageStatus {
        match self {
            Disk::Memory { fault, held } => StorageStatus {
                free_bytes: None,
                reserve_held: *held,
                low: !*held || fault.is_some_and(|f| commits >= f.full_at_commit),
            },
            Disk::Dir { dir, held } => {
                // Someone may have removed the reserve behind our back: look, don't trust.
                *held = *held && reserve_in_place(dir, limits.reserve);
                let free = free_bytes(dir);
                StorageStatus {
                    free_bytes: free,
                    reserve_held: *held,
                    low: !*held || free.is_some_and(|f| f < limits.min_free),
                }
            }
        }
    }

    /// Give the reserve's room to the books. Returns whether there was a reserve to release.
    pub(super) fn release_reserve(&mut self) -> bool {
        match self {
            Disk::Memory { held, .. } => std::mem::replace(held, false),
            Disk::Dir { dir, held } => {
                let was = std::mem::replace(held, false);
                // Whatever memory says, the file going away is what frees the space.
                std::fs::remove_file(dir.join(RESERVE_FILE)).is_ok() || was
            }
        }
    }

    /// Put the reserve back if there is room for it above the floor. Returns whether it is in
    /// place afterwards.
    pub(super) fn restore_reserve(&mut self, commits: u64, limits: StorageLimits) -> bool {
        match self {
            Disk::Memory { fault, held } => {
                if !*held && !fault.is_some_and(|f| commits >= f.full_at_commit) {
                    *held = true;
                }
                *held
            }
            Disk::Dir { dir, held } => {
                if reserve_in_place(dir, limits.reserve) {
                    *held = true;
                    return true;
                }
                let room = free_bytes(dir)
                    .is_some_and(|f| f >= limits.min_free.saturating_add(limits.reserve));
                *held = room && write_reserve(dir, limits.reserve).is_ok();
                *held
            }
        }
    }

    /// Fill (or, with `None`, empty) a disk in memory.
    pub(super) fn set_fault(&mut self, new: Option<DiskFault>) {
        if let Disk::Memory { fault, .. } = self {
            *fault = new;
        }
    }
}

/// Free bytes for an unprivileged writer on the file system holding `dir`.
pub(super) fn free_bytes(dir: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(dir).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

fn reserve_in_place(dir: &Path, size: u64) -> bool {
    std::fs::metadata(dir.join(RESERVE_FILE)).is_ok_and(|m| m.len() >= size)
}

/// Write the reserve with real blocks (a sparse file would free nothing when removed), then
/// rename it into place so that a half-written reserve never counts.
fn write_reserve(dir: &Path, size: u64) -> std::io::Result<()> {
    let tmp = dir.join(format!("{RESERVE_FILE}.tmp"));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        let block = vec![0u8; 64 << 10];
        let mut left = size;
        while left > 0 {
            let n = usize::try_from(left.min(block.len() as u64)).unwrap_or(block.len());
            f.write_all(&block[..n])?;
            left -= n as u64;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join(RESERVE_FILE))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
