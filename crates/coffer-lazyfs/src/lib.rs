//! A pass-through FUSE file system that keeps, in memory, how to undo every change not yet
//! made durable, and on command "loses power": undoes all of them, the way Jepsen's LazyFS
//! does. Coffer's power-loss tests run its data dir on it (`kill -9` leaves the page cache
//! intact, so only this catches a missing fsync).
//!
//! What counts as durable, as POSIX promises and no more:
//! - a file's bytes and size once the file is fsynced (`fsync` or `fdatasync`);
//! - a name created, removed or renamed once its directory is fsynced (for a rename, the
//!   directory it moved into).
//!
//! Everything passes straight through to a backing directory, so reads see every write at
//! once; what is kept is the undo: the bytes a write or truncation replaced (by 4 KiB page,
//! once per page between fsyncs) and the names changed. Removed and replaced files wait in
//! a graveyard beside the tree until their removal is durable. Not undone: mode, owner and
//! time changes, and a write torn inside a page (a cut takes a page's write back whole). It can also fail reads under
//! a directory, as a failing disk would.

mod fs;
mod undo;

use std::io;
use std::path::Path;

pub use fs::{LazyFs, Power};
pub use undo::Lost;

/// A [`LazyFs`] mounted by this process; its calls are served on a thread of their own.
pub struct Mount {
    session: fuser::BackgroundSession,
    power: Power,
}

/// Mounts a [`LazyFs`] over `backing` at `at` (FUSE: root, or a user allowed to mount).
pub fn mount(backing: &Path, at: &Path) -> io::Result<Mount> {
    let (fs, power) = LazyFs::new(backing)?;
    let options = [fuser::MountOption::FSName("coffer-lazyfs".into())];
    let session = fuser::spawn_mount2(fs, at, &options)?;
    Ok(Mount { session, power })
}

impl Mount {
    /// Cuts the power (see [`Power::cut`]). The mount stays, failing every call, until
    /// [`Mount::unmount`]; mounting the same backing dir again is the restart.
    pub fn cut(&self) -> io::Result<Lost> {
        self.power.cut()
    }

    /// Makes reads of files under `dir` fail with EIO (see [`Power::fail_reads`]).
    pub fn fail_reads(&self, dir: Option<&Path>) {
        self.power.fail_reads(dir);
    }

    /// Makes reads past `offset` of files under `dir` fail with EIO (see
    /// [`Power::fail_reads_past`]).
    pub fn fail_reads_past(&self, dir: Option<&Path>, offset: u64) {
        self.power.fail_reads_past(dir, offset);
    }

    /// Unmounts, once the processes using the mount are gone, and waits for the session.
    pub fn unmount(self) {
        self.session.join();
    }
}
