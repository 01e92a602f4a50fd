//! The FUSE side: every call passes through to the backing tree, after telling [`Undo`] how
//! to take it back.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fuser::{
    FileAttr, FileType, Filesystem, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry,
    ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow,
};
use libc::c_int;

use crate::undo::{Graveyard, Lost, Name, Undo};

/// Nothing is cached in the kernel: attributes and names are asked for every time, so the
/// kernel never answers from what a power cut took back.
const TTL: Duration = Duration::ZERO;
const ROOT: u64 = fuser::FUSE_ROOT_ID;

/// The file system to mount (see [`fuser::spawn_mount2`]).
pub struct LazyFs(Arc<Mutex<State>>);

/// The switch of a mounted [`LazyFs`].
#[derive(Clone)]
pub struct Power(Arc<Mutex<State>>);

impl LazyFs {
    /// A file system showing `backing/tree`, burying what is removed in `backing/graveyard`
    /// (emptied now: what waited there is gone).
    pub fn new(backing: &Path) -> io::Result<(LazyFs, Power)> {
        let tree = backing.join("tree");
        std::fs::create_dir_all(&tree)?;
        let state = State {
            inodes: Inodes::new(tree),
            graveyard: Graveyard::new(backing.join("graveyard"))?,
            files: HashMap::new(),
            dirs: HashMap::new(),
            next_handle: 1,
            undo: Undo::default(),
            off: false,
            failing_reads: None,
        };
        let state = Arc::new(Mutex::new(state));
        Ok((LazyFs(state.clone()), Power(state)))
    }
}

impl Power {
    /// Cuts the power: every later call fails with EIO, and every change not durable is
    /// undone in the backing tree.
    pub fn cut(&self) -> io::Result<Lost> {
        let mut state = lock(&self.0);
        state.off = true;
        state.files.clear();
        let undo = std::mem::take(&mut state.undo);
        let state = &mut *state;
        let inodes = &state.inodes;
        undo.cut(|ino| inodes.paths.get(&ino).cloned(), &mut state.graveyard)
    }
}

impl Power {
    /// From now on reads of files under `dir` (relative to the tree) fail with EIO, as a
    /// failing disk's would; `None` heals the disk.
    pub fn fail_reads(&self, dir: Option<&Path>) {
        self.fail_reads_past(dir, 0);
    }

    /// As [`Power::fail_reads`], for reads that reach past byte `offset` of a file only (a
    /// disk whose bad sectors lie further in).
    pub fn fail_reads_past(&self, dir: Option<&Path>, offset: u64) {
        lock(&self.0).failing_reads = dir.map(|dir| (dir.to_owned(), offset));
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic in one call must not wedge the mount: the state stays as consistent as the
    // backing tree, which every call changes in one step.
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct State {
    inodes: Inodes,
    graveyard: Graveyard,
    /// Open files by handle.
    files: HashMap<u64, File>,
    /// Open directories by handle: their entries, read at opendir.
    dirs: HashMap<u64, Vec<(u64, FileType, OsString)>>,
    next_handle: u64,
    undo: Undo,
    /// The power is cut.
    off: bool,
    /// Reads of files under this directory (relative to the tree) that reach past this
    /// offset fail, as a failing disk's would.
    failing_reads: Option<(PathBuf, u64)>,
}

type Answer<T> = Result<T, c_int>;

fn errno(err: io::Error) -> c_int {
    err.raw_os_error().unwrap_or(libc::EIO)
}

/// Inode numbers for the paths the kernel has seen, in the tree or (once removed while
/// open) in the graveyard.
struct Inodes {
    tree: PathBuf,
    paths: HashMap<u64, PathBuf>,
    numbers: HashMap<PathBuf, u64>,
    next: u64,
}

impl Inodes {
    fn new(tree: PathBuf) -> Inodes {
        let mut inodes = Inodes {
            tree: tree.clone(),
            paths: HashMap::new(),
            numbers: HashMap::new(),
            next: ROOT + 1,
        };
        inodes.paths.insert(ROOT, tree.clone());
        inodes.numbers.insert(tree, ROOT);
        inodes
    }

    fn path(&self, ino: u64) -> Answer<PathBuf> {
        self.paths.get(&ino).cloned().ok_or(libc::ENOENT)
    }

    fn child(&self, parent: u64, name: &OsStr) -> Answer<PathBuf> {
        if name.as_bytes().contains(&b'/') || name == "." || name == ".." {
            return Err(libc::EINVAL);
        }
        Ok(self.path(parent)?.join(name))
    }

    /// The number of `path`, given one now if it has none.
    fn number(&mut self, path: &Path) -> u64 {
        if let Some(&ino) = self.numbers.get(path) {
            return ino;
        }
        self.fresh(path)
    }

    /// A new number for `path`, which names a new file.
    fn fresh(&mut self, path: &Path) -> u64 {
        let ino = self.next;
        self.next += 1;
        if let Some(old) = self.numbers.insert(path.to_owned(), ino) {
            self.paths.remove(&old);
        }
        self.paths.insert(ino, path.to_owned());
        ino
    }

    /// `from` (and, for a directory, everything under it) now lives at `to`.
    fn moved(&mut self, from: &Path, to: &Path, is_dir: bool) {
        let affected: Vec<PathBuf> = if is_dir {
            self.numbers.keys().filter(|p| p.starts_with(from)).cloned().collect()
        } else {
            vec![from.to_owned()]
        };
        for old in affected {
            let Some(ino) = self.numbers.remove(&old) else { continue };
            // (`join("")` would add a trailing slash, which a file's path must not have.)
            let new = match old.strip_prefix(from).expect("under from") {
                rest if rest.as_os_str().is_empty() => to.to_owned(),
                rest => to.join(rest),
            };
            if let Some(displaced) = self.numbers.insert(new.clone(), ino) {
                self.paths.remove(&displaced);
            }
            self.paths.insert(ino, new);
        }
    }

    fn attr(&self, ino: u64, path: &Path) -> Answer<FileAttr> {
        let meta = path.symlink_metadata().map_err(errno)?;
        Ok(attr(ino, &meta))
    }
}

fn attr(ino: u64, meta: &std::fs::Metadata) -> FileAttr {
    let time = |secs: i64, nanos: i64| {
        UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64) + Duration::from_nanos(nanos.max(0) as u64)
    };
    FileAttr {
        ino,
        size: meta.size(),
        blocks: meta.blocks(),
        atime: time(meta.atime(), meta.atime_nsec()),
        mtime: time(meta.mtime(), meta.mtime_nsec()),
        ctime: time(meta.ctime(), meta.ctime_nsec()),
        crtime: UNIX_EPOCH,
        kind: kind(meta.file_type()),
        perm: (meta.mode() & 0o7777) as u16,
        nlink: meta.nlink() as u32,
        uid: meta.uid(),
        gid: meta.gid(),
        rdev: meta.rdev() as u32,
        blksize: 4096,
        flags: 0,
    }
}

fn kind(file_type: std::fs::FileType) -> FileType {
    if file_type.is_dir() {
        FileType::Directory
    } else if file_type.is_symlink() {
        FileType::Symlink
    } else {
        FileType::RegularFile
    }
}

/// Always readable: a write first reads the bytes it replaces, for the undo.
fn open_options(flags: i32) -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true).write(flags & libc::O_ACCMODE != libc::O_RDONLY);
    options
}

impl State {
    fn handle(&mut self, file: File) -> u64 {
        let fh = self.next_handle;
        self.next_handle += 1;
        self.files.insert(fh, file);
        fh
    }

    fn file(&self, fh: u64) -> Answer<&File> {
        self.files.get(&fh).ok_or(libc::EBADF)
    }

    /// Cuts or extends `ino` to `size`, keeping the bytes that goes over.
    fn truncate(&mut self, ino: u64, file: &File, size: u64) -> Answer<()> {
        let now = file.metadata().map_err(errno)?.len();
        self.undo.before_write(ino, file, size, now).map_err(errno)?;
        file.set_len(size).map_err(errno)
    }

    fn lookup(&mut self, parent: u64, name: &OsStr) -> Answer<FileAttr> {
        let path = self.inodes.child(parent, name)?;
        let meta = path.symlink_metadata().map_err(errno)?;
        Ok(attr(self.inodes.number(&path), &meta))
    }

    #[allow(clippy::too_many_arguments)]
    fn setattr(
        &mut self,
        ino: u64,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        fh: Option<u64>,
    ) -> Answer<FileAttr> {
        let path = self.inodes.path(ino)?;
        if let Some(size) = size {
            let file = match fh.and_then(|fh| self.files.get(&fh)) {
                Some(file) => file.try_clone().map_err(errno)?,
                None => OpenOptions::new().read(true).write(true).open(&path).map_err(errno)?,
            };
            self.truncate(ino, &file, size)?;
        }
        if let Some(mode) = mode {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o7777)).map_err(errno)?;
        }
        if uid.is_some() || gid.is_some() {
            std::os::unix::fs::lchown(&path, uid, gid).map_err(errno)?;
        }
        if atime.is_some() || mtime.is_some() {
            let at = |time: TimeOrNow| match time {
                TimeOrNow::SpecificTime(time) => time,
                TimeOrNow::Now => SystemTime::now(),
            };
            let mut times = std::fs::FileTimes::new();
            if let Some(atime) = atime {
                times = times.set_accessed(at(atime));
            }
            if let Some(mtime) = mtime {
                times = times.set_modified(at(mtime));
            }
            File::open(&path).and_then(|f| f.set_times(times)).map_err(errno)?;
        }
        self.inodes.attr(ino, &path)
    }

    fn mkdir(&mut self, parent: u64, name: &OsStr, mode: u32) -> Answer<FileAttr> {
        let path = self.inodes.child(parent, name)?;
        std::fs::DirBuilder::new().mode(mode).create(&path).map_err(errno)?;
        self.undo.name_changed(parent, Name::Created { path: path.clone() });
        let ino = self.inodes.fresh(&path);
        self.inodes.attr(ino, &path)
    }

    fn create(&mut self, parent: u64, name: &OsStr, mode: u32, flags: i32) -> Answer<(FileAttr, u64)> {
        let path = self.inodes.child(parent, name)?;
        let existed = path.symlink_metadata().is_ok();
        if existed && flags & libc::O_EXCL != 0 {
            return Err(libc::EEXIST);
        }
        let mut options = open_options(flags);
        let file = options.write(true).create(true).mode(mode).open(&path).map_err(errno)?;
        let ino = if existed {
            self.inodes.number(&path)
        } else {
            self.undo.name_changed(parent, Name::Created { path: path.clone() });
            self.inodes.fresh(&path)
        };
        if existed && flags & libc::O_TRUNC != 0 {
            self.truncate(ino, &file, 0)?;
        }
        let attr = attr(ino, &file.metadata().map_err(errno)?);
        Ok((attr, self.handle(file)))
    }

    fn link(&mut self, ino: u64, parent: u64, name: &OsStr) -> Answer<FileAttr> {
        let from = self.inodes.path(ino)?;
        let path = self.inodes.child(parent, name)?;
        std::fs::hard_link(&from, &path).map_err(errno)?;
        self.undo.name_changed(parent, Name::Created { path: path.clone() });
        // Each name gets its own number: the kernel sees two files that share their bytes.
        let ino = self.inodes.fresh(&path);
        self.inodes.attr(ino, &path)
    }

    /// Unlink or rmdir: the name goes to the graveyard until its directory is fsynced.
    fn remove(&mut self, parent: u64, name: &OsStr, dir: bool) -> Answer<()> {
        let path = self.inodes.child(parent, name)?;
        let meta = path.symlink_metadata().map_err(errno)?;
        match (dir, meta.is_dir()) {
            (false, true) => return Err(libc::EISDIR),
            (true, false) => return Err(libc::ENOTDIR),
            (true, true) if std::fs::read_dir(&path).map_err(errno)?.next().is_some() => {
                return Err(libc::ENOTEMPTY);
            }
            _ => {}
        }
        let grave = self.graveyard.bury(&path).map_err(errno)?;
        self.inodes.moved(&path, &grave, dir);
        self.undo.name_changed(parent, Name::Removed { path, grave });
        Ok(())
    }

    fn rename(&mut self, parent: u64, name: &OsStr, new_parent: u64, new_name: &OsStr, flags: u32) -> Answer<()> {
        if flags & libc::RENAME_EXCHANGE != 0 {
            return Err(libc::EINVAL);
        }
        let from = self.inodes.child(parent, name)?;
        let to = self.inodes.child(new_parent, new_name)?;
        let moving = from.symlink_metadata().map_err(errno)?;
        if from == to {
            return Ok(());
        }
        if moving.is_dir() && to.starts_with(&from) {
            return Err(libc::EINVAL);
        }
        let replaced = match to.symlink_metadata() {
            Err(_) => None,
            Ok(_) if flags & libc::RENAME_NOREPLACE != 0 => return Err(libc::EEXIST),
            Ok(there) => {
                match (moving.is_dir(), there.is_dir()) {
                    (true, false) => return Err(libc::ENOTDIR),
                    (false, true) => return Err(libc::EISDIR),
                    (true, true) if std::fs::read_dir(&to).map_err(errno)?.next().is_some() => {
                        return Err(libc::ENOTEMPTY);
                    }
                    _ => {}
                }
                let grave = self.graveyard.bury(&to).map_err(errno)?;
                self.inodes.moved(&to, &grave, there.is_dir());
                Some(grave)
            }
        };
        if let Err(err) = std::fs::rename(&from, &to) {
            if let Some(grave) = &replaced {
                let _ = std::fs::rename(grave, &to);
                self.inodes.moved(grave, &to, false);
            }
            return Err(errno(err));
        }
        self.inodes.moved(&from, &to, moving.is_dir());
        if moving.is_dir() {
            self.undo.dir_moved(&from, &to);
        }
        self.undo.name_changed(new_parent, Name::Renamed { from, to, replaced });
        Ok(())
    }

    fn open(&mut self, ino: u64, flags: i32) -> Answer<u64> {
        let path = self.inodes.path(ino)?;
        // Writes go where the kernel says (pwrite): an O_APPEND handle would ignore that.
        let file = open_options(flags).open(&path).map_err(errno)?;
        if flags & libc::O_TRUNC != 0 {
            self.truncate(ino, &file, 0)?;
        }
        Ok(self.handle(file))
    }

    fn read(&self, ino: u64, fh: u64, offset: i64, size: u32) -> Answer<Vec<u8>> {
        if let Some((under, past)) = &self.failing_reads
            && offset as u64 + u64::from(size) > *past
            && self
                .inodes
                .path(ino)?
                .strip_prefix(&self.inodes.tree)
                .is_ok_and(|p| p.starts_with(under))
        {
            return Err(libc::EIO);
        }
        let file = self.file(fh)?;
        let mut buf = vec![0; size as usize];
        let mut filled = 0;
        while filled < buf.len() {
            match file.read_at(&mut buf[filled..], offset as u64 + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(errno(err)),
            }
        }
        buf.truncate(filled);
        Ok(buf)
    }

    fn write(&mut self, ino: u64, fh: u64, offset: i64, data: &[u8]) -> Answer<u32> {
        let file = self.files.get(&fh).ok_or(libc::EBADF)?;
        let offset = offset as u64;
        self.undo
            .before_write(ino, file, offset, offset + data.len() as u64)
            .map_err(errno)?;
        file.write_all_at(data, offset).map_err(errno)?;
        Ok(data.len() as u32)
    }

    fn opendir(&mut self, ino: u64) -> Answer<u64> {
        let path = self.inodes.path(ino)?;
        let parent = path
            .parent()
            .and_then(|p| self.inodes.numbers.get(p).copied())
            .unwrap_or(ROOT);
        let mut entries = vec![
            (ino, FileType::Directory, OsString::from(".")),
            (parent, FileType::Directory, OsString::from("..")),
        ];
        for entry in std::fs::read_dir(&path).map_err(errno)? {
            let entry = entry.map_err(errno)?;
            let kind = kind(entry.file_type().map_err(errno)?);
            entries.push((self.inodes.number(&entry.path()), kind, entry.file_name()));
        }
        let fh = self.next_handle;
        self.next_handle += 1;
        self.dirs.insert(fh, entries);
        Ok(fh)
    }

    fn fsyncdir(&mut self, ino: u64) {
        for grave in self.undo.dir_synced(ino) {
            if let Some(ino) = self.inodes.numbers.remove(&grave) {
                self.inodes.paths.remove(&ino);
            }
            Graveyard::clear(&grave);
        }
    }

    fn statfs(&self) -> Answer<libc::statvfs> {
        let path = std::ffi::CString::new(self.inodes.tree.as_os_str().as_bytes()).map_err(|_| libc::EINVAL)?;
        let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: `path` is a NUL-terminated string and `stat` a writable statvfs.
        if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } != 0 {
            return Err(errno(io::Error::last_os_error()));
        }
        Ok(stat)
    }
}

fn empty(reply: ReplyEmpty, answer: Answer<()>) {
    match answer {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(e),
    }
}

fn entry(reply: ReplyEntry, answer: Answer<FileAttr>) {
    match answer {
        Ok(attr) => reply.entry(&TTL, &attr, 0),
        Err(e) => reply.error(e),
    }
}

/// Runs `call` on the state unless the power is cut.
fn with<T>(fs: &LazyFs, call: impl FnOnce(&mut State) -> Answer<T>) -> Answer<T> {
    let mut state = lock(&fs.0);
    if state.off {
        return Err(libc::EIO);
    }
    call(&mut state)
}

impl Filesystem for LazyFs {
    fn lookup(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEntry) {
        entry(reply, with(self, |s| s.lookup(parent, name)))
    }

    fn getattr(&mut self, _req: &Request<'_>, ino: u64, _fh: Option<u64>, reply: ReplyAttr) {
        match with(self, |s| s.inodes.attr(ino, &s.inodes.path(ino)?)) {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        fh: Option<u64>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<u32>,
        reply: ReplyAttr,
    ) {
        match with(self, |s| s.setattr(ino, mode, uid, gid, size, atime, mtime, fh)) {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(e) => reply.error(e),
        }
    }

    fn mkdir(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, mode: u32, umask: u32, reply: ReplyEntry) {
        entry(reply, with(self, |s| s.mkdir(parent, name, mode & !umask)))
    }

    fn unlink(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        empty(reply, with(self, |s| s.remove(parent, name, false)))
    }

    fn rmdir(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        empty(reply, with(self, |s| s.remove(parent, name, true)))
    }

    fn rename(
        &mut self,
        _req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        newparent: u64,
        newname: &OsStr,
        flags: u32,
        reply: ReplyEmpty,
    ) {
        empty(reply, with(self, |s| s.rename(parent, name, newparent, newname, flags)))
    }

    fn link(&mut self, _req: &Request<'_>, ino: u64, newparent: u64, newname: &OsStr, reply: ReplyEntry) {
        entry(reply, with(self, |s| s.link(ino, newparent, newname)))
    }

    fn open(&mut self, _req: &Request<'_>, ino: u64, flags: i32, reply: ReplyOpen) {
        match with(self, |s| s.open(ino, flags)) {
            Ok(fh) => reply.opened(fh, 0),
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        fh: u64,
        offset: i64,
        size: u32,
        _flags: i32,
        _lock_owner: Option<u64>,
        reply: ReplyData,
    ) {
        match with(self, |s| s.read(ino, fh, offset, size)) {
            Ok(bytes) => reply.data(&bytes),
            Err(e) => reply.error(e),
        }
    }

    fn write(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        fh: u64,
        offset: i64,
        data: &[u8],
        _write_flags: u32,
        _flags: i32,
        _lock_owner: Option<u64>,
        reply: ReplyWrite,
    ) {
        match with(self, |s| s.write(ino, fh, offset, data)) {
            Ok(n) => reply.written(n),
            Err(e) => reply.error(e),
        }
    }

    fn flush(&mut self, _req: &Request<'_>, _ino: u64, _fh: u64, _lock_owner: u64, reply: ReplyEmpty) {
        empty(reply, with(self, |_| Ok(())))
    }

    fn release(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        fh: u64,
        _flags: i32,
        _lock_owner: Option<u64>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        lock(&self.0).files.remove(&fh);
        reply.ok();
    }

    /// Makes the file's bytes durable. The backing file is not fsynced: the power this
    /// file system cuts is its own.
    fn fsync(&mut self, _req: &Request<'_>, _ino: u64, fh: u64, _datasync: bool, reply: ReplyEmpty) {
        empty(
            reply,
            with(self, |s| {
                let file = s.files.get(&fh).ok_or(libc::EBADF)?;
                s.undo.file_synced(file).map_err(errno)
            }),
        )
    }

    fn opendir(&mut self, _req: &Request<'_>, ino: u64, _flags: i32, reply: ReplyOpen) {
        match with(self, |s| s.opendir(ino)) {
            Ok(fh) => reply.opened(fh, 0),
            Err(e) => reply.error(e),
        }
    }

    fn readdir(&mut self, _req: &Request<'_>, _ino: u64, fh: u64, offset: i64, mut reply: ReplyDirectory) {
        let state = lock(&self.0);
        if state.off {
            return reply.error(libc::EIO);
        }
        let Some(entries) = state.dirs.get(&fh) else {
            return reply.error(libc::EBADF);
        };
        for (i, (ino, kind, name)) in entries.iter().enumerate().skip(offset.max(0) as usize) {
            if reply.add(*ino, i as i64 + 1, *kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn releasedir(&mut self, _req: &Request<'_>, _ino: u64, fh: u64, _flags: i32, reply: ReplyEmpty) {
        lock(&self.0).dirs.remove(&fh);
        reply.ok();
    }

    fn fsyncdir(&mut self, _req: &Request<'_>, ino: u64, _fh: u64, _datasync: bool, reply: ReplyEmpty) {
        empty(
            reply,
            with(self, |s| {
                s.fsyncdir(ino);
                Ok(())
            }),
        )
    }

    fn statfs(&mut self, _req: &Request<'_>, _ino: u64, reply: ReplyStatfs) {
        match with(self, |s| s.statfs()) {
            Ok(st) => reply.statfs(
                st.f_blocks,
                st.f_bfree,
                st.f_bavail,
                st.f_files,
                st.f_ffree,
                st.f_bsize as u32,
                st.f_namemax as u32,
                st.f_frsize as u32,
            ),
            Err(e) => reply.error(e),
        }
    }

    fn create(
        &mut self,
        _req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        match with(self, |s| s.create(parent, name, mode & !umask, flags)) {
            Ok((attr, fh)) => reply.created(&TTL, &attr, 0, fh, 0),
            Err(e) => reply.error(e),
        }
    }
}
