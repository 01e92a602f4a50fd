//! The audit trail on disk: JSON lines appended to `current.jsonl` by one writer thread, which
//! commits in groups (one `fdatasync` for every record waiting) and tells each waiting caller
//! once its record is durable. The file is rotated into `<UTC time>-<random>.jsonl` when it
//! grows past a size or when asked (before a delivery), and rotated files older than the
//! retention are removed.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

pub const CURRENT: &str = "current.jsonl";
/// Rotated files' suffix; a delivered file is renamed to end in [`DELIVERED`].
pub const ROTATED: &str = ".jsonl";
pub const DELIVERED: &str = ".delivered.jsonl";

/// The size at which the current file is rotated.
const MAX_CURRENT: u64 = 64 * 1024 * 1024;

enum Message {
    Append {
        line: Vec<u8>,
        /// Told once the line is durable; `None`: no one waits (data events).
        done: Option<oneshot::Sender<io::Result<()>>>,
    },
    Rotate {
        done: oneshot::Sender<io::Result<Option<PathBuf>>>,
    },
}

pub struct Journal {
    sender: mpsc::Sender<Message>,
    /// Data events dropped because the writer was this far behind.
    dropped: AtomicU64,
}

/// Records waiting for the writer at most: a full queue makes management events wait (the
/// calls slow down) and drops data events (counted), so memory stays bounded.
const QUEUE: usize = 4096;

impl Journal {
    /// Opens the journal in `dir` (made if missing). A `current.jsonl` left by a crash keeps
    /// its whole lines and is rotated at once; a torn last line was never acknowledged.
    pub fn open(dir: &Path) -> io::Result<Journal> {
        // Records name users and keys: the journal is as private as the rest of the data dir.
        coffer_store::private_fs::create_dir(dir)?;
        recover(dir)?;
        let file = open_current(dir)?;
        let (sender, receiver) = mpsc::channel(QUEUE);
        let dir = dir.to_owned();
        std::thread::Builder::new()
            .name("coffer-audit".to_owned())
            .spawn(move || write_loop(&dir, file, receiver))?;
        Ok(Journal {
            sender,
            dropped: AtomicU64::new(0),
        })
    }

    /// Appends `line` (one JSON record, no newline); `durable`: returns once it is on disk.
    /// A record that is not durable is dropped when the writer is far behind.
    pub async fn append(&self, line: Vec<u8>, durable: bool) -> io::Result<()> {
        if !durable {
            return match self.sender.try_send(Message::Append { line, done: None }) {
                Ok(()) => Ok(()),
                Err(mpsc::error::TrySendError::Full(_)) => {
                    let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                    if dropped.is_power_of_two() {
                        tracing::warn!(dropped, "the audit writer is behind: data events were dropped");
                    }
                    Ok(())
                }
                Err(mpsc::error::TrySendError::Closed(_)) => Err(stopped()),
            };
        }
        let (done, wait) = oneshot::channel();
        self.sender
            .send(Message::Append { line, done: Some(done) })
            .await
            .map_err(|_| stopped())?;
        wait.await.map_err(|_| stopped())?
    }

    /// Closes the current file into a rotated one (returned; `None` when it was empty).
    pub async fn rotate(&self) -> io::Result<Option<PathBuf>> {
        let (done, wait) = oneshot::channel();
        self.sender
            .send(Message::Rotate { done })
            .await
            .map_err(|_| stopped())?;
        wait.await.map_err(|_| stopped())?
    }
}

fn stopped() -> io::Error {
    io::Error::other("the audit writer stopped")
}

fn open_current(dir: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(coffer_store::private_fs::FILE_MODE)
        .open(dir.join(CURRENT))?;
    sync_dir(dir)?;
    Ok(file)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Cuts a torn last line off `current.jsonl` and rotates what remains.
fn recover(dir: &Path) -> io::Result<()> {
    let path = dir.join(CURRENT);
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(());
    };
    let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    if whole < bytes.len() {
        let file = OpenOptions::new().write(true).open(&path)?;
        file.set_len(whole as u64)?;
        file.sync_all()?;
    }
    if whole > 0 {
        rotate_file(dir)?;
    }
    Ok(())
}

/// Renames `current.jsonl` to a rotated name, durably.
fn rotate_file(dir: &Path) -> io::Result<PathBuf> {
    let now = OffsetDateTime::now_utc();
    let name = format!("{}-{:08x}{ROTATED}", stamp(now), rand::random::<u32>());
    let target = dir.join(name);
    std::fs::rename(dir.join(CURRENT), &target)?;
    sync_dir(dir)?;
    Ok(target)
}

/// `20261206T101500Z`: rotated names sort by time.
pub fn stamp(time: OffsetDateTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

/// When a rotated file was closed, from its name.
pub fn rotated_at(name: &str) -> Option<OffsetDateTime> {
    let stamp = name.get(..16)?;
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(stamp, &format)
        .ok()
        .map(|t| t.assume_utc())
}

/// The writer thread: appends each batch of records, makes it durable with one
/// `fdatasync` when anyone waits, and answers each waiter. A failed write or sync cuts the
/// file back to its last durable length, so no torn line stays for the next record to be
/// glued onto, and fails the batch's waiters (their calls are not acknowledged).
fn write_loop(dir: &Path, mut file: File, mut receiver: mpsc::Receiver<Message>) {
    let mut durable = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut size = durable;
    while let Some(first) = receiver.blocking_recv() {
        let mut batch = vec![first];
        while let Ok(next) = receiver.try_recv() {
            batch.push(next);
        }
        let mut waiting = Vec::new();
        for message in batch {
            match message {
                Message::Append { mut line, done } => {
                    line.push(b'\n');
                    match file.write_all(&line) {
                        Ok(()) => size += line.len() as u64,
                        Err(err) => {
                            tracing::error!(%err, "the audit journal could not be written");
                            fail(&mut waiting, &err);
                            if let Some(done) = done {
                                let _ = done.send(Err(io::Error::new(err.kind(), err.to_string())));
                            }
                            size = cut_back(&file, durable);
                            continue;
                        }
                    }
                    waiting.extend(done);
                }
                Message::Rotate { done } => {
                    // Whatever came before the rotation is durable before it.
                    let synced = sync(&file, &mut waiting, &mut durable, &mut size);
                    let rotated = synced.and_then(|()| match size {
                        0 => Ok(None),
                        _ => rotate_file(dir).and_then(|path| {
                            file = open_current(dir)?;
                            (durable, size) = (0, 0);
                            Ok(Some(path))
                        }),
                    });
                    let _ = done.send(rotated);
                }
            }
        }
        let _ = sync(&file, &mut waiting, &mut durable, &mut size);
        if size > MAX_CURRENT
            && rotate_file(dir)
                .and_then(|_| open_current(dir))
                .map(|f| file = f)
                .is_ok()
        {
            (durable, size) = (0, 0);
        }
    }
}

/// Makes what was written durable (when anyone waits) and tells every waiter how it went.
fn sync(
    file: &File,
    waiting: &mut Vec<oneshot::Sender<io::Result<()>>>,
    durable: &mut u64,
    size: &mut u64,
) -> io::Result<()> {
    if waiting.is_empty() {
        return Ok(());
    }
    match file.sync_data() {
        Ok(()) => {
            *durable = *size;
            for done in waiting.drain(..) {
                let _ = done.send(Ok(()));
            }
            Ok(())
        }
        Err(err) => {
            tracing::error!(%err, "the audit journal could not be made durable");
            fail(waiting, &err);
            *size = cut_back(file, *durable);
            Err(err)
        }
    }
}

fn fail(waiting: &mut Vec<oneshot::Sender<io::Result<()>>>, err: &io::Error) {
    for done in waiting.drain(..) {
        let _ = done.send(Err(io::Error::new(err.kind(), err.to_string())));
    }
}

/// Cuts the file back to `length` (its last durable end); returns the length it has now.
fn cut_back(file: &File, length: u64) -> u64 {
    match file.set_len(length).and_then(|()| file.sync_data()) {
        Ok(()) => length,
        Err(err) => {
            tracing::error!(%err, "the audit journal could not be cut back to its last durable record");
            file.metadata().map(|m| m.len()).unwrap_or(length)
        }
    }
}

/// Removes rotated files closed more than `days` ago.
pub fn prune(dir: &Path, now: OffsetDateTime, days: i64) -> io::Result<usize> {
    let cutoff = now - time::Duration::days(days);
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if rotated_at(&name).is_some_and(|at| at < cutoff) && name.ends_with(ROTATED) {
            std::fs::remove_file(dir.join(&name))?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_durable_rotated_and_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        assert_eq!(journal.rotate().await.unwrap(), None, "nothing to rotate yet");
        for i in 0..20 {
            let line = format!("{{\"n\":{i}}}").into_bytes();
            journal.append(line, i % 2 == 0).await.unwrap();
        }
        journal.append(b"{\"n\":20}".to_vec(), true).await.unwrap();
        let rotated = journal.rotate().await.unwrap().unwrap();
        let text = std::fs::read_to_string(&rotated).unwrap();
        assert_eq!(text.lines().count(), 21);
        assert!(rotated_at(&rotated.file_name().unwrap().to_string_lossy()).is_some());
        journal.append(b"{\"after\":1}".to_vec(), true).await.unwrap();
        drop(journal);
        // A crash mid-line: the whole line stays, the torn one goes, and both are rotated.
        let current = dir.path().join(CURRENT);
        let mut file = OpenOptions::new().append(true).open(&current).unwrap();
        file.write_all(b"{\"torn\":").unwrap();
        drop(file);
        std::thread::sleep(std::time::Duration::from_millis(10));
        let _journal = Journal::open(dir.path()).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != CURRENT)
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "{names:?}");
        let recovered: Vec<String> = names
            .iter()
            .map(|n| std::fs::read_to_string(dir.path().join(n)).unwrap())
            .filter(|t| t.contains("after"))
            .collect();
        assert_eq!(recovered, vec!["{\"after\":1}\n".to_owned()]);
    }

    #[test]
    fn old_rotated_files_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let now = OffsetDateTime::now_utc();
        let old = format!("{}-00000000{ROTATED}", stamp(now - time::Duration::days(91)));
        let recent = format!("{}-00000001{DELIVERED}", stamp(now - time::Duration::days(89)));
        for name in [&old, &recent] {
            std::fs::write(dir.path().join(name), "{}\n").unwrap();
        }
        std::fs::write(dir.path().join(CURRENT), "{}\n").unwrap();
        assert_eq!(prune(dir.path(), now, 90).unwrap(), 1);
        assert!(!dir.path().join(old).exists());
        assert!(dir.path().join(recent).exists());
    }
}
