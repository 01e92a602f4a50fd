//! Object bytes on disk. A blob is a file named by a random id under `<data-dir>/blobs/xx/`
//! (`xx` = the id's first two hex digits, so no directory grows past a few thousand entries
//! per million blobs). Object keys never reach the filesystem.
//!
//! A blob is written to `<data-dir>/blobs/tmp/`, fsynced, renamed into place and its directory
//! fsynced; only then may metadata point at it. Whatever a crash leaves behind (temp files,
//! blobs no row names) is removed by [`BlobStore::collect_orphans`] at the next start.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use tokio::io::AsyncWriteExt;

/// Bytes buffered per blob writer before they go to the file.
const WRITE_BUFFER: usize = 256 * 1024;

#[derive(Debug)]
pub struct BlobStore {
    root: PathBuf,
    leases: Arc<Mutex<Leases>>,
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
}

/// A blob being written. Its first bytes collect in memory: a blob that ends there is
/// written, synced and moved into place in one blocking call (small objects cost one trip to
/// the blocking pool, not six); a larger one spills into a temp file as it streams.
/// Dropping it without [`BlobWriter::finish`] removes the temp file.
pub struct BlobWriter {
    id: String,
    temp: PathBuf,
    state: WriterState,
    finished: bool,
}

enum WriterState {
    Memory(Vec<u8>),
    File(tokio::io::BufWriter<tokio::fs::File>),
    Done,
}

fn new_blob_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Blob ids are 32 lowercase hex digits; anything else never names a file.
fn is_blob_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl BlobStore {
    pub(crate) fn open(data_dir: &Path) -> io::Result<BlobStore> {
        let root = data_dir.join("blobs");
        crate::private_fs::create_dir(&root.join("tmp"))?;
        // Coffer's own directories: tightened if an older Coffer made them.
        crate::private_fs::restrict(&root, crate::private_fs::DIR_MODE)?;
        crate::private_fs::restrict(&root.join("tmp"), crate::private_fs::DIR_MODE)?;
        for shard in 0..=255u8 {
            crate::private_fs::create_dir(&root.join(format!("{shard:02x}")))?;
        }
        Ok(BlobStore {
            root,
            leases: Arc::default(),
        })
    }

    fn path(&self, id: &str) -> io::Result<PathBuf> {
        if !is_blob_id(id) {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "not a blob id"));
        }
        Ok(self.root.join(&id[..2]).join(id))
    }

    /// Starts a new blob (in memory until it outgrows the write buffer).
    pub async fn create(&self) -> io::Result<BlobWriter> {
        let id = new_blob_id();
        let temp = self.root.join("tmp").join(&id);
        Ok(BlobWriter {
            id,
            temp,
            state: WriterState::Memory(Vec::new()),
            finished: false,
        })
    }

    /// Opens a blob for reading.
    pub async fn read(&self, id: &str) -> io::Result<tokio::fs::File> {
        tokio::fs::File::open(self.path(id)?).await
    }

    /// Reads `len` bytes at `offset` of a blob in one blocking call (open + pread): for small
    /// objects this beats a stream of asynchronous file operations.
    pub async fn read_at(&self, id: &str, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let path = self.path(id)?;
        tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(path)?;
            let mut buffer = vec![0u8; len];
            file.read_exact_at(&mut buffer, offset)?;
            Ok(buffer)
        })
        .await
        .map_err(io::Error::other)?
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
        }
    }

    /// Whether the blob's file exists.
    pub async fn exists(&self, id: &str) -> bool {
        match self.path(id) {
            Ok(path) => tokio::fs::try_exists(path).await.unwrap_or(false),
            Err(_) => false,
        }
    }

    /// Removes blobs no metadata names any more (a leased one when its readers are done).
    /// A blob already gone is fine.
    pub async fn remove(&self, ids: &[String]) {
        let now: Vec<&String> = {
            let mut leases = self.leases.lock();
            ids.iter()
                .filter(|id| {
                    let leased = leases.readers.contains_key(id.as_str());
                    if leased {
                        leases.doomed.insert((*id).clone());
                    }
                    !leased
                })
                .collect()
        };
        for id in now {
            let Ok(path) = self.path(id) else { continue };
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => tracing::warn!(%err, blob = %id, "could not remove an unused blob"),
            }
        }
    }

    /// The temp files and blobs not modified for `grace`, one directory read at a time.
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
        let temp_dir = root.join("tmp");
        let temps = std::fs::read_dir(&temp_dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(old.clone())
            .map(|entry| OldFile {
                path: entry.path(),
                blob_id: None,
            });
        let blobs = (0..=255u8).flat_map(move |shard| {
            std::fs::read_dir(root.join(format!("{shard:02x}")))
                .into_iter()
                .flatten()
                .flatten()
                .filter(old.clone())
                .map(|entry| OldFile {
                    blob_id: entry.file_name().to_str().map(str::to_owned),
                    path: entry.path(),
                })
        });
        temps.chain(blobs)
    }
}

/// A file orphan collection may remove: a temp file (`blob_id: None`), or a blob.
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
                let buffered = std::mem::take(buffer);
                let file = crate::private_fs::new_file_async().open(&self.temp).await?;
                let mut file = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
                file.write_all(&buffered).await?;
                file.write_all(bytes).await?;
                self.state = WriterState::File(file);
                Ok(())
            }
            WriterState::File(file) => file.write_all(bytes).await,
            WriterState::Done => Err(io::Error::other("blob already finished")),
        }
    }

    /// Makes the blob durable (file and directory synced) and moves it into place; returns
    /// its id.
    pub async fn finish(mut self, store: &BlobStore) -> io::Result<String> {
        let target = store.path(&self.id)?;
        let temp = self.temp.clone();
        match std::mem::replace(&mut self.state, WriterState::Done) {
            WriterState::Memory(buffer) => {
                tokio::task::spawn_blocking(move || {
                    use std::io::Write;
                    let mut file = crate::private_fs::new_file().open(&temp)?;
                    file.write_all(&buffer)?;
                    file.sync_all()?;
                    std::fs::rename(&temp, &target)?;
                    sync_parent(&target)
                })
                .await
                .map_err(io::Error::other)??;
            }
            WriterState::File(mut file) => {
                file.flush().await?;
                let file = file.into_inner();
                file.sync_all().await?;
                drop(file);
                tokio::task::spawn_blocking(move || {
                    std::fs::rename(&temp, &target)?;
                    sync_parent(&target)
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

/// Syncs the directory holding `path`, so a rename into it survives a crash.
fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
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
                if leases.doomed.remove(id) && is_blob_id(id) {
                    let _ = std::fs::remove_file(self.root.join(&id[..2]).join(id));
                }
            }
        }
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}
