//! The data dir is Coffer's alone: directories are 0700 and files 0600, whatever the umask,
//! because `meta.db` holds password hashes and sealed secrets and `blobs/` every object's
//! bytes. In a data dir made by an older Coffer, `meta.db` and `blobs/` are tightened when
//! opened (older blob files stay as they were, unreachable behind `blobs/`); a directory the
//! operator made and named as the data dir keeps its mode.

use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) with mode 0700; an existing one is left as it is.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Options that create a file with mode 0600.
pub fn new_file() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true).mode(FILE_MODE);
    options
}

/// Sets `path`'s mode to `mode` unless it already is; a missing `path` is left missing.
pub fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o777 != mode => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates `path` empty with mode 0600 if it does not exist; else sets it to 0600. SQLite
/// gives its `-wal` and `-shm` files the mode of the database file, so creating `meta.db`
/// this way keeps all three private.
pub fn create_private_file(path: &Path) -> io::Result<()> {
    match new_file().open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => restrict(path, FILE_MODE),
        Err(e) => Err(e),
    }
}
