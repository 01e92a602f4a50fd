//! The audit trail on disk: JSON lines appended to `current.jsonl` by one writer thread, which
//! commits in groups (one `fdatasync` for every record waiting) and tells each waiting caller
//! once its record is durable. The file is rotated into `<UTC time>-<random>.jsonl` when it
//! grows past a size or when asked (before a delivery), and rotated files older than the
//! retention are removed.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use time::OffsetDateTime;
use tokio::sync::oneshot;

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
}

impl Journal {
    /// Opens the journal in `dir` (made if missing). A `current.jsonl` left by a crash keeps
    /// its whole lines and is rotated at once; a torn last line was never acknowledged.
    pub fn open(dir: &Path) -> io::Result<Journal> {
        // Records name users and keys: the journal is as private as the rest of the data dir.
        coffer_store::private_fs::create_dir(dir)?;
        recover(dir)?;
        let file = open_current(dir)?;
        let (sender, receiver) = mpsc::channel();
        let dir = dir.to_owned();
        std::thread::Builder::new()
            .name("coffer-audit".to_owned())
            .spawn(move || write_loop(&dir, file, receiver))?;
        Ok(Journal { sender })
    }

    /// Appends `line` (one JSON record, no newline); `durable`: returns once it is on disk.
    pub async fn append(&self, line: Vec<u8>, durable: bool) -> io::Result<()> {
        if !durable {
            return self
                .sender
                .send(Message::Append { line, done: None })
                .map_err(|_| stopped());
        }
        let (done, wait) = oneshot::channel();
        self.sender
            .send(Message::Append { line, done: Some(done) })
            .map_err(|_| stopped())?;
        wait.await.map_err(|_| stopped())?
    }

    /// Closes the current file into a rotated one (returned; `None` when it was empty).
    pub async fn rotate(&self) -> io::Result<Option<PathBuf>> {
        let (done, wait) = oneshot::channel();
        self.sender.send(Message::Rotate { done }).map_err(|_| stopped())?;
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

fn write_loop(dir: &Path, mut file: File, receiver: mpsc::Receiver<Message>) {
    let mut size = file.metadata().map(|m| m.len()).unwrap_or(0);
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        batch.extend(receiver.try_iter());
        let mut waiting = Vec::new();
        let mut written: io::Result<()> = Ok(());
        for message in batch {
            match message {
                Message::Append { mut line, done } => {
                    line.push(b'\n');
                    if written.is_ok() {
                        written = file.write_all(&line);
                        size += line.len() as u64;
                    }
                    waiting.extend(done);
                }
                Message::Rotate { done } => {
                    // Whatever came before the rotation is durable before it.
                    let synced = finish(&file, &mut written, &mut waiting);
                    let rotated = synced.and_then(|()| match size {
                        0 => Ok(None),
                        _ => rotate_file(dir).and_then(|path| {
                            file = open_current(dir)?;
                            size = 0;
                            Ok(Some(path))
                        }),
                    });
                    let _ = done.send(rotated);
                }
            }
        }
        let _ = finish(&file, &mut written, &mut waiting);
        if size > MAX_CURRENT
            && rotate_file(dir)
                .and_then(|_| open_current(dir))
                .map(|f| file = f)
                .is_ok()
        {
            size = 0;
        }
    }
}

/// Makes what was written durable and tells everyone waiting how it went.
fn finish(
    file: &File,
    written: &mut io::Result<()>,
    waiting: &mut Vec<oneshot::Sender<io::Result<()>>>,
) -> io::Result<()> {
    let result = match std::mem::replace(written, Ok(())) {
        Ok(()) if waiting.is_empty() => Ok(()),
        Ok(()) => file.sync_data(),
        Err(err) => Err(err),
    };
    for done in waiting.drain(..) {
        let _ = done.send(match &result {
            Ok(()) => Ok(()),
            Err(err) => Err(io::Error::new(err.kind(), err.to_string())),
        });
    }
    result
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
