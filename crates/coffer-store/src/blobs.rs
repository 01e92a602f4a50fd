//! Object bytes on disk. A blob is a file named by a random id under `<data-dir>/blobs/xx/`
//! (`xx` = the id's first two hex digits, so no directory grows past a few thousand entries
//! per million blobs). Object keys never reach the filesystem.
//!
//! A blob is written at its place, fsynced, and its directory fsynced; only then may metadata
//! point at it. Until a row names it nothing reads it, so it needs no temp name and no rename:
//! on a journaled file system (ext4, XFS) the file's fsync commits its directory entry in the
//! same journal transaction, and the directory's fsync then finds nothing left to do, where a
//! rename after the fsync cost a second journal commit per blob. Whatever a crash leaves
//! behind (a blob cut short, or whole but named by no row yet) is removed by orphan
//! collection (`Store::collect_orphan_blobs`), as are `<id>.tmp` files and `blobs/tmp/`
//! left by older Coffers.
//!
//! When several nodes share the data dir, a blob no row names any more may still be read by
//! another node that read its row a moment before: it is *retired* (moved to
//! `<data-dir>/blobs/retired/`, its time set to now) instead of removed, readers that
//! find it gone from its place look there, and orphan collection removes it once it has sat
//! there for the grace period.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::direct_io::Chunk;

/// Bytes buffered per blob writer before they go to the file (a blob this size or smaller
/// is written in one go when it ends), and bytes per write after that.
const WRITE_BUFFER: usize = 1024 * 1024;

/// The largest blob [`BlobStore::read_small`] reads whole and keeps in memory.
pub const SMALL_BLOB: usize = crate::blob_cache::MAX_BLOB;

/// Where retired blobs wait, under the blob root.
const RETIRED: &str = "retired";

#[derive(Debug)]
pub struct BlobStore {
    root: PathBuf,
    leases: Arc<Mutex<Leases>>,
    /// Other nodes may be reading: blobs no row names are retired, not removed.
    shared: bool,
    /// Small blobs read lately (see `blob_cache.rs`).
    cache: crate::blob_cache::BlobCache,
}

/// Blobs being read, and those to remove once their last reader is done. A write that
/// replaces an object removes the old blobs at once, but a reader streaming a multipart object
/// opens its part files one after another: a lease keeps them until it is done.
#[derive(Debug, Default)]
struct Leases {
    readers: HashMap<String, usize>,
    doomed: HashSet<String>,
}

/// Keeps blobs on disk while held (see [`BlobStore::lease`]).
#[derive(Debug)]
pub struct BlobLease {
    root: PathBuf,
    leases: Arc<Mutex<Leases>>,
    ids: Vec<String>,
    /// Retire the blobs doomed meanwhile instead of removing them (see [`BlobStore`]).
    shared: bool,
}

/// A blob being written. Its first bytes collect in memory: a blob that ends there is
/// written and synced in one blocking call (small objects cost one trip to the blocking pool,
/// not six); a larger one spills into its file as it streams. Dropping it without
/// [`BlobWriter::finish`] removes the file.
pub struct BlobWriter {
    id: String,
    path: PathBuf,
    state: WriterState,
    /// Whether this writer made the file at `path` (a small blob's is made and finished, or
    /// removed, in one call): only then is it this writer's to remove.
    created: bool,
    finished: bool,
}

enum WriterState {
    Memory(Vec<u8>),
    File(FileWriter),
    Done,
}

/// A blob that outgrew memory: written a [`WRITE_BUFFER`] at a time with positioned writes
/// on the blocking pool, one write under way while the next buffer fills; directly to the
/// disk where the file system allows it (see `direct_io.rs`).
struct FileWriter {
    file: Arc<std::fs::File>,
    buffer: Chunk,
    /// Bytes handed to writes so far (the next write's offset).
    offset: u64,
    /// The write under way; it gives its buffer back for reuse.
    writing: Option<tokio::task::JoinHandle<io::Result<Chunk>>>,
}

impl FileWriter {
    async fn write(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let n = self.buffer.fill(bytes);
            bytes = &bytes[n..];
            if self.buffer.is_full() {
                self.hand_over().await?;
            }
        }
        Ok(())
    }

    /// Waits for the write under way, then starts one of the buffered bytes.
    async fn hand_over(&mut self) -> io::Result<()> {
        let spare = match self.written().await? {
            Some(spare) => spare,
            None => Chunk::with_capacity(WRITE_BUFFER),
        };
        let mut buffer = std::mem::replace(&mut self.buffer, spare);
        let (file, offset) = (self.file.clone(), self.offset);
        self.offset += buffer.len() as u64;
        self.writing = Some(tokio::task::spawn_blocking(move || {
            crate::direct_io::write_all_at(&file, buffer.as_slice(), offset)?;
            // Nothing to do after a direct write, unless the file system buffered it anyway
            // (some accept O_DIRECT and do): cheap either way.
            start_writeback(&file, offset, buffer.len());
            buffer.clear();
            Ok(buffer)
        }));
        Ok(())
    }

    /// Waits for the write under way, if any; its buffer, emptied.
    async fn written(&mut self) -> io::Result<Option<Chunk>> {
        match self.writing.take() {
            Some(writing) => writing.await.map_err(io::Error::other)?.map(Some),
            None => Ok(None),
        }
    }

    /// Writes what is buffered and waits for every write.
    async fn flush(&mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            self.hand_over().await?;
        }
        self.written().await.map(drop)
    }
}

fn new_blob_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Blob ids are 32 lowercase hex digits; anything else never names a file.
fn is_blob_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl BlobStore {
    /// The blobs under `data_dir`; `shared` when other nodes use the same directory.
    pub(crate) fn open(data_dir: &Path, shared: bool) -> io::Result<BlobStore> {
        let root = data_dir.join("blobs");
        let shards = (0..=255u8).map(|shard| format!("{shard:02x}"));
        // (`tmp/`, where older Coffers wrote, is only read: orphan collection empties it.)
        let dirs = [RETIRED.to_owned()].into_iter().chain(shards);
        crate::private_fs::create_dirs_in(&root, dirs)?;
        // Coffer's own directories: tightened if an older Coffer made them.
        crate::private_fs::restrict(&root, crate::private_fs::DIR_MODE)?;
        crate::private_fs::restrict(&root.join("tmp"), crate::private_fs::DIR_MODE)?;
        crate::private_fs::restrict(&root.join(RETIRED), crate::private_fs::DIR_MODE)?;
        Ok(BlobStore {
            root,
            leases: Arc::default(),
            shared,
            cache: Default::default(),
        })
    }

    fn path(&self, id: &str) -> io::Result<PathBuf> {
        if !is_blob_id(id) {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "not a blob id"));
        }
        Ok(self.root.join(&id[..2]).join(id))
    }

    /// Where the blob waits once retired.
    fn retired_path(&self, id: &str) -> io::Result<PathBuf> {
        self.path(id)?;
        Ok(self.root.join(RETIRED).join(id))
    }

    /// Where a reader may find the blob.
    fn locate(&self, id: &str) -> io::Result<Located> {
        Ok(Located {
            path: self.path(id)?,
            retired: if self.shared {
                Some(self.retired_path(id)?)
            } else {
                None
            },
        })
    }

    /// Starts a new blob (in memory until it outgrows the write buffer).
    pub async fn create(&self) -> io::Result<BlobWriter> {
        let id = new_blob_id();
        let path = self.path(&id)?;
        Ok(BlobWriter {
            id,
            path,
            state: WriterState::Memory(Vec::new()),
            created: false,
            finished: false,
        })
    }

    /// Opens a blob for reading (positioned reads: see `coffer_s3::reading`).
    pub async fn read(&self, id: &str) -> io::Result<std::fs::File> {
        let located = self.locate(id)?;
        tokio::task::spawn_blocking(move || located.open())
            .await
            .map_err(io::Error::other)?
    }

    /// Reads `len` bytes at `offset` of a blob in one blocking call (open + pread): for small
    /// objects this beats a stream of asynchronous file operations.
    pub async fn read_at(&self, id: &str, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let located = self.locate(id)?;
        tokio::task::spawn_blocking(move || read_exact_at(&located.open()?, offset, len))
            .await
            .map_err(io::Error::other)?
    }

    /// The whole of a small blob (`len` bytes, at most [`SMALL_BLOB`]), kept in memory for
    /// the reads that follow: a blob's bytes never change once it is named.
    pub async fn read_small(&self, id: &str, len: usize) -> io::Result<bytes::Bytes> {
        if let Some(bytes) = self.cache.get(id) {
            return Ok(bytes);
        }
        let bytes = bytes::Bytes::from(self.read_at(id, 0, len).await?);
        // Not kept if the blob was removed while it was read (its reader's lease kept the
        // file): `remove` forgets only after marking it, so one of the two sees the other.
        let leases = self.leases.lock();
        if !leases.doomed.contains(id) {
            self.cache.keep(id, bytes.clone());
        }
        drop(leases);
        Ok(bytes)
    }

    /// Leases `ids` for reading. Check that they still exist after taking the lease: a blob
    /// removed just before it is gone, one removed after it stays until the lease drops.
    pub fn lease(&self, ids: &[String]) -> BlobLease {
        let mut leases = self.leases.lock();
        for id in ids {
            *leases.readers.entry(id.clone()).or_default() += 1;
        }
        drop(leases);
        BlobLease {
            root: self.root.clone(),
            leases: self.leases.clone(),
            ids: ids.to_vec(),
            shared: self.shared,
        }
    }

    /// Whether the blob's file exists.
    pub async fn exists(&self, id: &str) -> bool {
        let Ok(located) = self.locate(id) else { return false };
        let exists = |path: PathBuf| async move { tokio::fs::try_exists(path).await.unwrap_or(false) };
        if exists(located.path).await {
            return true;
        }
        match located.retired {
            Some(retired) => exists(retired).await,
            None => false,
        }
    }

    /// Removes blobs no metadata names any more, a leased one when its readers here are done
    /// (on a shared data dir they are retired instead, their wait counted from then). A blob
    /// already gone is fine.
    pub async fn remove(&self, ids: &[String]) {
        let now: Vec<String> = {
            let mut leases = self.leases.lock();
            ids.iter()
                .filter(|id| {
                    let leased = leases.readers.contains_key(id.as_str());
                    if leased {
                        leases.doomed.insert((*id).clone());
                    }
                    !leased
                })
                .cloned()
                .collect()
        };
        // After the leases are marked: see `read_small`.
        for id in ids {
            self.cache.forget(id);
        }
        // A write that replaced nothing (a new key, a version added) has nothing to remove:
        // no trip to the blocking pool for it.
        if now.is_empty() {
            return;
        }
        let (root, shared) = (self.root.clone(), self.shared);
        let _ = tokio::task::spawn_blocking(move || {
            for id in now {
                discard(&root, &id, shared);
            }
        })
        .await;
    }

    /// The temp files, retired blobs and blobs not modified for `grace`, one directory read
    /// at a time.
    pub(crate) fn old_files(&self, grace: std::time::Duration) -> impl Iterator<Item = OldFile> + Send + 'static {
        let root = self.root.clone();
        let old = move |entry: &std::fs::DirEntry| {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|modified| modified.elapsed().ok())
                .is_some_and(|age| age >= grace)
        };
        // Temp files and retired blobs go once old, whatever the rows say (`tmp` holds those
        // of older Coffers).
        let temps = ["tmp", RETIRED].into_iter().flat_map({
            let root = root.clone();
            move |dir| {
                std::fs::read_dir(root.join(dir))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter(old)
                    .map(|entry| OldFile {
                        path: entry.path(),
                        blob_id: None,
                    })
            }
        });
        let blobs = (0..=255u8).flat_map(move |shard| {
            std::fs::read_dir(root.join(format!("{shard:02x}")))
                .into_iter()
                .flatten()
                .flatten()
                .filter(old)
                .map(|entry| OldFile {
                    // A temp file (`<id>.tmp`) names no blob.
                    blob_id: entry
                        .file_name()
                        .to_str()
                        .filter(|name| is_blob_id(name))
                        .map(str::to_owned),
                    path: entry.path(),
                })
        });
        temps.chain(blobs)
    }
}

/// `len` bytes at `offset` of `file` (fewer is `UnexpectedEof`: a blob is never shorter than
/// its row says), read into a buffer that is not zeroed first: zeroing each 1 MiB read was
/// 6% of a 64 MiB GET's CPU.
pub fn read_exact_at(file: &std::fs::File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    use std::os::fd::AsRawFd;
    let mut buffer = Vec::<u8>::with_capacity(len);
    while buffer.len() < len {
        let filled = buffer.len();
        let at = libc::off_t::try_from(offset + filled as u64).map_err(io::Error::other)?;
        let spare = buffer.spare_capacity_mut();
        // SAFETY: `pread` writes at most `len - filled` bytes (the spare capacity's length)
        // into `spare`, memory the vector owns and nothing else touches during the call.
        let read = unsafe { libc::pread(file.as_raw_fd(), spare.as_mut_ptr().cast(), len - filled, at) };
        match read {
            0 => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "a blob is shorter than its row says",
                ));
            }
            n if n > 0 => {
                // SAFETY: the kernel initialised the `n` bytes after the `filled` ones.
                unsafe { buffer.set_len(filled + n as usize) };
            }
            _ => {
                let err = io::Error::last_os_error();
                if err.kind() != io::ErrorKind::Interrupted {
                    return Err(err);
                }
            }
        }
    }
    Ok(buffer)
}

/// A blob's place, and where it waits once retired when other nodes may read it.
struct Located {
    path: PathBuf,
    retired: Option<PathBuf>,
}

impl Located {
    fn open(self) -> io::Result<std::fs::File> {
        match (std::fs::File::open(&self.path), self.retired) {
            (Err(err), Some(retired)) if err.kind() == io::ErrorKind::NotFound => std::fs::File::open(retired),
            (opened, _) => opened,
        }
    }
}

/// Removes a blob no row names, or on a shared data dir retires it; gone already is fine.
fn discard(root: &Path, id: &str, shared: bool) {
    if !is_blob_id(id) {
        return;
    }
    let path = root.join(&id[..2]).join(id);
    let done = if shared {
        retire(&path, &root.join(RETIRED).join(id))
    } else {
        std::fs::remove_file(&path)
    };
    if let Err(err) = done
        && err.kind() != io::ErrorKind::NotFound
    {
        tracing::warn!(%err, blob = %id, "could not remove an unused blob");
    }
}

/// Moves a blob out of its place to wait for the readers that may still open it. Its time is
/// set first: the wait is measured from now, and a crash between the two steps leaves an
/// unnamed blob that orphan collection removes after the same wait.
fn retire(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(from)?
        .set_modified(std::time::SystemTime::now())?;
    std::fs::rename(from, to)
}

/// A file orphan collection may remove: a temp file or a retired blob (`blob_id: None`),
/// or a blob.
pub(crate) struct OldFile {
    pub(crate) path: std::path::PathBuf,
    pub(crate) blob_id: Option<String>,
}

/// Removes `paths`; returns how many went.
pub(crate) fn remove_files(paths: &[std::path::PathBuf]) -> usize {
    let mut removed = 0;
    for path in paths {
        match std::fs::remove_file(path) {
            Ok(()) => removed += 1,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => tracing::warn!(%err, path = %path.display(), "could not remove an orphan file"),
        }
    }
    removed
}

impl BlobWriter {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.state {
            WriterState::Memory(buffer) if buffer.len() + bytes.len() <= WRITE_BUFFER => {
                buffer.extend_from_slice(bytes);
                Ok(())
            }
            WriterState::Memory(buffer) => {
                let mut buffered = Chunk::with_capacity(WRITE_BUFFER);
                buffered.fill(buffer);
                // Whatever happens next, the bytes buffered so far have left memory: a writer
                // that fails here can only be dropped.
                self.state = WriterState::Done;
                let path = self.path.clone();
                let file = tokio::task::spawn_blocking(move || {
                    let file = crate::private_fs::new_file().open(path)?;
                    crate::direct_io::enable(&file);
                    Ok::<_, io::Error>(file)
                })
                .await
                .map_err(io::Error::other)??;
                self.created = true;
                let mut file = FileWriter {
                    file: Arc::new(file),
                    buffer: buffered,
                    offset: 0,
                    writing: None,
                };
                file.write(bytes).await?;
                self.state = WriterState::File(file);
                Ok(())
            }
            WriterState::File(file) => file.write(bytes).await,
            WriterState::Done => Err(io::Error::other("blob already finished")),
        }
    }

    /// A small object's bytes for its row to keep, when they are at most `max` and still in
    /// memory (no file was made); otherwise the blob made durable, as [`finish`](Self::finish).
    pub async fn finish_or_keep(mut self, max: usize) -> io::Result<crate::NewBytes> {
        if let WriterState::Memory(buffer) = &mut self.state
            && buffer.len() <= max
        {
            let bytes = std::mem::take(buffer);
            self.state = WriterState::Done;
            return Ok(crate::NewBytes::Inline {
                id: self.id.clone(),
                bytes: bytes.into(),
            });
        }
        Ok(crate::NewBytes::Blob(self.finish().await?))
    }

    /// Makes the blob durable (file and directory synced); returns its id.
    pub async fn finish(mut self) -> io::Result<String> {
        let path = self.path.clone();
        match std::mem::replace(&mut self.state, WriterState::Done) {
            WriterState::Memory(buffer) => {
                tokio::task::spawn_blocking(move || {
                    use std::io::Write;
                    let mut file = crate::private_fs::new_file().open(&path)?;
                    let written = (|| {
                        file.write_all(&buffer)?;
                        file.sync_all()?;
                        sync_parent(&path)?;
                        still_named(&file, &path)
                    })();
                    if written.is_err() {
                        let _ = std::fs::remove_file(&path);
                    }
                    written
                })
                .await
                .map_err(io::Error::other)??;
            }
            WriterState::File(mut file) => {
                file.flush().await?;
                let file = file.file;
                tokio::task::spawn_blocking(move || {
                    file.sync_all()?;
                    sync_parent(&path)?;
                    still_named(&file, &path)
                })
                .await
                .map_err(io::Error::other)??;
            }
            WriterState::Done => return Err(io::Error::other("blob already finished")),
        }
        self.finished = true;
        Ok(self.id.clone())
    }
}

/// Checks that `path` still names the file written through `file`. Without a temp name, a
/// blob being written is a file no row names yet, and orphan collection removes such files
/// once they sit untouched past its grace (a writer stalled that long, or a node started
/// with a short grace while others write): the write must then fail, not leave a row naming
/// nothing.
fn still_named(file: &std::fs::File, path: &Path) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let (open, named) = (file.metadata()?, std::fs::metadata(path));
    match named {
        Ok(named) if named.dev() == open.dev() && named.ino() == open.ino() => Ok(()),
        Ok(_) | Err(_) => Err(io::Error::other("a blob's file was removed while it was written")),
    }
}

/// Asks the kernel to start writing `len` bytes at `offset` of `file` to the disk now, without
/// waiting: a large blob's final fsync then finds most of it written already, instead of
/// the whole blob (measured: a third of a 64 MiB PUT's time at one client was that fsync).
/// Only a hint; the fsync is what makes the blob durable.
fn start_writeback(file: &std::fs::File, offset: u64, len: usize) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a plain system call on a descriptor `file` keeps open; no memory is passed.
        unsafe {
            libc::sync_file_range(
                file.as_raw_fd(),
                offset as libc::off64_t,
                len as libc::off64_t,
                libc::SYNC_FILE_RANGE_WRITE,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, offset, len);
}

/// Syncs the directory holding `path`, so the name of a file just made there survives a crash.
fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) => crate::private_fs::sync_dir(dir),
        None => Ok(()),
    }
}

impl Drop for BlobLease {
    fn drop(&mut self) {
        let mut leases = self.leases.lock();
        for id in &self.ids {
            let last = match leases.readers.get_mut(id) {
                Some(count) => {
                    *count -= 1;
                    *count == 0
                }
                None => false,
            };
            if last {
                leases.readers.remove(id);
                if leases.doomed.remove(id) {
                    discard(&self.root, id, self.shared);
                }
            }
        }
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.created && !self.finished {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::read_exact_at;

    #[test]
    fn reads_exactly_the_bytes_asked_or_says_the_file_is_short() {
        let file = tempfile::tempfile().unwrap();
        let bytes: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
        std::os::unix::fs::FileExt::write_all_at(&file, &bytes, 0).unwrap();
        assert_eq!(read_exact_at(&file, 0, bytes.len()).unwrap(), bytes);
        assert_eq!(read_exact_at(&file, 1000, 70_000).unwrap(), &bytes[1000..71_000]);
        assert!(read_exact_at(&file, 5, 0).unwrap().is_empty());
        let short = read_exact_at(&file, 299_999, 2).unwrap_err();
        assert_eq!(short.kind(), std::io::ErrorKind::UnexpectedEof);
        let past = read_exact_at(&file, 400_000, 1).unwrap_err();
        assert_eq!(past.kind(), std::io::ErrorKind::UnexpectedEof);
    }
}
