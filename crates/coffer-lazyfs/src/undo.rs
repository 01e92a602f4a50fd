//! What a power cut undoes: the bytes and the names changed since they were last durable.

use std::collections::{BTreeMap, HashMap, btree_map, hash_map};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Bytes are kept by page, so a run of small writes to one page keeps its old bytes once.
const PAGE: u64 = 4096;

/// Where removed and replaced files wait (outside the tree the mount shows) until their
/// removal is durable or the power goes.
pub(crate) struct Graveyard {
    dir: PathBuf,
    next: u64,
}

impl Graveyard {
    /// The graveyard at `dir`, emptied: what waited there when the power went is gone.
    pub(crate) fn new(dir: PathBuf) -> io::Result<Graveyard> {
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(Graveyard { dir, next: 0 })
    }

    /// Moves `path` (a file or a whole directory) out of the tree; returns where it went.
    pub(crate) fn bury(&mut self, path: &Path) -> io::Result<PathBuf> {
        self.next += 1;
        let grave = self.dir.join(self.next.to_string());
        std::fs::rename(path, &grave)?;
        Ok(grave)
    }

    /// Deletes a grave for good.
    pub(crate) fn clear(grave: &Path) {
        // A grave may already be gone (it was restored, or a later rename took it); what
        // stays is removed with the whole graveyard at the next start.
        let _ = std::fs::remove_file(grave).or_else(|_| std::fs::remove_dir_all(grave));
    }
}

/// One file's bytes as they were last durable, as far as writes since have changed them.
struct Bytes {
    /// The mount's number for the name it was written through, to find it at the cut.
    name: u64,
    size: u64,
    /// Each page written since, with what it held then (cut at `size`).
    pages: BTreeMap<u64, Vec<u8>>,
}

/// A change of names in the tree, and what undoes it.
#[derive(Debug)]
pub(crate) enum Name {
    /// `path` was made (a file, a directory, a link): undone by burying it.
    Created { path: PathBuf },
    /// `path` was removed; what it named waits at `grave`.
    Removed { path: PathBuf, grave: PathBuf },
    /// `from` was renamed `to`; what `to` named before waits at `replaced`.
    Renamed {
        from: PathBuf,
        to: PathBuf,
        replaced: Option<PathBuf>,
    },
}

/// What a power cut lost: files whose bytes went back, and name changes undone, by kind
/// (one that a durable change since made moot, such as a temp file's creation after its
/// durable rename, is not counted). By kind, so that a change in what a program fsyncs
/// shows as a figure.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Lost {
    pub files: usize,
    pub created: usize,
    pub removed: usize,
    pub renamed: usize,
}

impl Lost {
    /// Name changes undone, of every kind.
    pub fn names(&self) -> usize {
        self.created + self.removed + self.renamed
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: Lost) {
        self.files += other.files;
        self.created += other.created;
        self.removed += other.removed;
        self.renamed += other.renamed;
    }
}

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} files' bytes, {} creations, {} removals, {} renames",
            self.files, self.created, self.removed, self.renamed
        )
    }
}

/// Everything not yet durable, with how to undo it.
#[derive(Default)]
pub(crate) struct Undo {
    /// By the backing file's inode, which all its hard links share.
    bytes: HashMap<u64, Bytes>,
    /// Oldest first, each with the directory whose fsync makes it durable.
    names: Vec<(u64, Name)>,
}

impl Undo {
    /// Called before `file` (opened through the mount's inode `name`) changes in
    /// `start..end`, by a write or a truncation: keeps what those bytes were, unless kept
    /// since the file's last fsync.
    pub(crate) fn before_write(&mut self, name: u64, file: &File, start: u64, end: u64) -> io::Result<()> {
        let meta = file.metadata()?;
        let bytes = match self.bytes.entry(meta.ino()) {
            hash_map::Entry::Occupied(entry) => entry.into_mut(),
            hash_map::Entry::Vacant(entry) => entry.insert(Bytes {
                name,
                size: meta.len(),
                pages: BTreeMap::new(),
            }),
        };
        // Bytes past the durable size need no keeping: the undo cuts the file back to it.
        let end = end.min(bytes.size);
        if start >= end {
            return Ok(());
        }
        for page in start / PAGE..end.div_ceil(PAGE) {
            if let btree_map::Entry::Vacant(slot) = bytes.pages.entry(page) {
                let from = page * PAGE;
                let mut old = vec![0; (bytes.size.min(from + PAGE) - from) as usize];
                file.read_exact_at(&mut old, from)?;
                slot.insert(old);
            }
        }
        Ok(())
    }

    /// `file` was fsynced (through any of its names): its bytes are durable.
    pub(crate) fn file_synced(&mut self, file: &File) -> io::Result<()> {
        self.bytes.remove(&file.metadata()?.ino());
        Ok(())
    }

    /// The directory `from` was renamed `to`: undos of names inside it follow it.
    pub(crate) fn dir_moved(&mut self, from: &Path, to: &Path) {
        let follow = |path: &mut PathBuf| {
            if let Ok(rest) = path.strip_prefix(from) {
                *path = if rest.as_os_str().is_empty() {
                    to.to_owned()
                } else {
                    to.join(rest)
                };
            }
        };
        for (_, name) in &mut self.names {
            match name {
                Name::Created { path } => follow(path),
                Name::Removed { path, .. } => follow(path),
                Name::Renamed { from, to, .. } => {
                    follow(from);
                    follow(to);
                }
            }
        }
    }

    /// A name changed in the tree; the fsync of directory `dir` makes it durable.
    pub(crate) fn name_changed(&mut self, dir: u64, name: Name) {
        self.names.push((dir, name));
    }

    /// Directory `dir` was fsynced: its name changes are durable. Returns the graves no undo
    /// needs any more.
    pub(crate) fn dir_synced(&mut self, dir: u64) -> Vec<PathBuf> {
        let mut graves = Vec::new();
        self.names.retain(|(synced_by, name)| {
            if *synced_by != dir {
                return true;
            }
            match name {
                Name::Removed { grave, .. }
                | Name::Renamed {
                    replaced: Some(grave), ..
                } => graves.push(grave.clone()),
                Name::Created { .. } | Name::Renamed { replaced: None, .. } => {}
            }
            false
        });
        graves
    }

    /// The power cut: every file's bytes go back (each found through the name it was
    /// written by, with `path_of`), then every name change is undone, newest first.
    pub(crate) fn cut(self, path_of: impl Fn(u64) -> Option<PathBuf>, graveyard: &mut Graveyard) -> io::Result<Lost> {
        let mut lost = Lost::default();
        for bytes in self.bytes.into_values() {
            // A file whose removal was durable is gone already, and so is its undo.
            let Some(path) = path_of(bytes.name) else { continue };
            let file = OpenOptions::new().write(true).open(path)?;
            for (page, old) in &bytes.pages {
                file.write_all_at(old, page * PAGE)?;
            }
            file.set_len(bytes.size)?;
            lost.files += 1;
        }
        for (_, name) in self.names.into_iter().rev() {
            match name {
                Name::Created { path } if path.symlink_metadata().is_ok() => {
                    graveyard.bury(&path)?;
                    lost.created += 1;
                }
                Name::Created { .. } => {}
                Name::Removed { path, grave } => lost.removed += usize::from(restore(&grave, &path, graveyard)?),
                Name::Renamed { from, to, replaced } => {
                    let back = restore(&to, &from, graveyard)?;
                    let replaced_back = match replaced {
                        Some(grave) => restore(&grave, &to, graveyard)?,
                        None => false,
                    };
                    lost.renamed += usize::from(back || replaced_back);
                }
            }
        }
        Ok(lost)
    }
}

/// Puts `from` back at `to`. When a durable change in between moved things (`from` is gone,
/// `to`'s directory is gone, or `to` names something else), the durable state wins as far
/// as it goes: nothing to put back is skipped, and what stands in the way is buried.
/// Returns whether anything was put back.
fn restore(from: &Path, to: &Path, graveyard: &mut Graveyard) -> io::Result<bool> {
    if from.symlink_metadata().is_err() || to.parent().is_some_and(|dir| !dir.is_dir()) {
        return Ok(false);
    }
    if to.symlink_metadata().is_ok() {
        graveyard.bury(to)?;
    }
    std::fs::rename(from, to)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(dir: &Path, name: &str, bytes: &[u8]) -> (PathBuf, File) {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let file = OpenOptions::new().read(true).write(true).open(&path).unwrap();
        (path, file)
    }

    #[test]
    fn writes_since_the_last_fsync_go_back_to_the_durable_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let mut graveyard = Graveyard::new(dir.path().join("graves")).unwrap();
        let old: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let (path, file) = file_with(dir.path(), "f", &old);
        let mut undo = Undo::default();
        // Two writes to one page keep its first bytes; a write past the end and an extension
        // are cut back.
        for (at, len) in [(100u64, 50usize), (120, 10), (9_990, 100)] {
            undo.before_write(1, &file, at, at + len as u64).unwrap();
            file.write_all_at(&vec![0xEE; len], at).unwrap();
        }
        undo.before_write(1, &file, 3, 20_000).unwrap();
        file.set_len(3).unwrap();
        let lost = undo.cut(|_| Some(path.clone()), &mut graveyard).unwrap();
        assert_eq!(
            lost,
            Lost {
                files: 1,
                ..Lost::default()
            }
        );
        assert_eq!(std::fs::read(&path).unwrap(), old);
    }

    #[test]
    fn an_fsynced_file_keeps_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let mut graveyard = Graveyard::new(dir.path().join("graves")).unwrap();
        let (path, file) = file_with(dir.path(), "f", b"old");
        let mut undo = Undo::default();
        undo.before_write(7, &file, 0, 5).unwrap();
        file.write_all_at(b"newer", 0).unwrap();
        undo.file_synced(&file).unwrap();
        // A write after the fsync goes back to the fsynced bytes, not the first ones.
        undo.before_write(7, &file, 5, 6).unwrap();
        file.write_all_at(b"!", 5).unwrap();
        undo.cut(|_| Some(path.clone()), &mut graveyard).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"newer");
    }

    #[test]
    fn name_changes_go_back_newest_first_unless_their_directory_was_fsynced() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        std::fs::create_dir(&tree).unwrap();
        let mut graveyard = Graveyard::new(dir.path().join("graves")).unwrap();
        let mut undo = Undo::default();
        let (kept, _) = file_with(&tree, "kept", b"k");
        let (target, _) = file_with(&tree, "target", b"old target");
        // A temp file renamed over `target`, a durable create, a removal: all in dir 1,
        // except the durable create, in dir 2, which is fsynced.
        let (tmp, _) = file_with(&tree, "tmp", b"new target");
        undo.name_changed(1, Name::Created { path: tmp.clone() });
        let replaced = graveyard.bury(&target).unwrap();
        std::fs::rename(&tmp, &target).unwrap();
        undo.name_changed(
            1,
            Name::Renamed {
                from: tmp.clone(),
                to: target.clone(),
                replaced: Some(replaced),
            },
        );
        let (durable, _) = file_with(&tree, "durable", b"d");
        undo.name_changed(2, Name::Created { path: durable.clone() });
        let grave = graveyard.bury(&kept).unwrap();
        undo.name_changed(
            1,
            Name::Removed {
                path: kept.clone(),
                grave,
            },
        );
        assert!(undo.dir_synced(2).is_empty());
        let lost = undo.cut(|_| None, &mut graveyard).unwrap();
        assert_eq!(
            lost,
            Lost {
                files: 0,
                created: 1,
                removed: 1,
                renamed: 1
            }
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"old target");
        assert_eq!(std::fs::read(&kept).unwrap(), b"k");
        assert!(!tmp.exists());
        assert!(durable.exists());
    }

    #[test]
    fn a_durable_removal_frees_its_grave() {
        let dir = tempfile::tempdir().unwrap();
        let mut graveyard = Graveyard::new(dir.path().join("graves")).unwrap();
        let (path, _) = file_with(dir.path(), "gone", b"x");
        let grave = graveyard.bury(&path).unwrap();
        let mut undo = Undo::default();
        undo.name_changed(
            3,
            Name::Removed {
                path: path.clone(),
                grave: grave.clone(),
            },
        );
        assert_eq!(undo.dir_synced(3), vec![grave]);
        assert_eq!(undo.cut(|_| None, &mut graveyard).unwrap(), Lost::default());
        assert!(!path.exists());
    }
}
