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
/// Durably: a power cut must not take back a directory that files were made durable in.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    match (dir.parent(), dir.file_name()) {
        (Some(parent), Some(name)) => create_dirs_in(parent, [name]),
        _ => Ok(()),
    }
}

/// Creates the directories `names` in `parent` (made first if missing, as by
/// [`create_dir`]), mode 0700, leaving existing ones as they are; then fsyncs `parent` once,
/// so the names survive a power cut: also those an earlier run made and was killed before
/// it synced, or another node made on a shared data dir. (Called at start only.)
pub fn create_dirs_in<N: AsRef<Path>>(parent: &Path, names: impl IntoIterator<Item = N>) -> io::Result<()> {
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    if !parent.is_dir() {
        create_dir(parent)?;
    }
    for name in names {
        let dir = parent.join(name);
        match std::fs::DirBuilder::new().mode(DIR_MODE).create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", dir.display()))),
        }
    }
    sync_dir(parent)
}

/// Fsyncs the directory `dir`: names created, renamed or removed in it survive a power cut.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
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
        Ok(_) => sync_parent(path),
        // Also when it exists: an earlier run may have been killed before it synced the name.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            restrict(path, FILE_MODE).and_then(|()| sync_parent(path))
        }
        Err(e) => Err(e),
    }
}

fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => sync_dir(dir),
        _ => sync_dir(Path::new(".")),
    }
}
