//! The file system itself, mounted for real (FUSE; the suite runs as root): what a power
//! cut keeps and what it loses.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

struct Mounted {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    at: PathBuf,
}

impl Mounted {
    fn new(backing: &Path, at: &Path) -> Mounted {
        let mut child = Command::new(env!("CARGO_BIN_EXE_coffer-lazyfs"))
            .arg(backing)
            .arg(at)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("coffer-lazyfs");
        let mut mounted = Mounted {
            stdin: child.stdin.take(),
            stdout: BufReader::new(child.stdout.take().unwrap()),
            child,
            at: at.to_owned(),
        };
        assert_eq!(mounted.line(), "mounted");
        mounted
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim().to_owned()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.at.join(name)
    }

    fn cut(&mut self) -> String {
        writeln!(self.stdin.as_mut().unwrap(), "cut").unwrap();
        self.line()
    }

    fn unmount(mut self) {
        drop(self.stdin.take());
        assert!(self.child.wait().unwrap().success());
    }
}

/// A file system on `dir/backing` mounted at `dir/mnt`.
fn mounted(dir: &Path) -> Mounted {
    std::fs::create_dir_all(dir.join("mnt")).unwrap();
    Mounted::new(&dir.join("backing"), &dir.join("mnt"))
}

fn write_synced(path: &Path, bytes: &[u8]) {
    let mut file = File::create(path).unwrap();
    file.write_all(bytes).unwrap();
    file.sync_all().unwrap();
}

fn sync_dir(path: &Path) {
    File::open(path).unwrap().sync_all().unwrap();
}

/// Cuts the power, checks what it said, and mounts again (the restart).
fn cut_and_remount(fs: Mounted, dir: &Path, said: &str) -> Mounted {
    let mut fs = fs;
    assert_eq!(fs.cut(), said);
    fs.unmount();
    mounted(dir)
}

#[test]
fn a_write_without_fsync_is_lost_and_an_fsynced_one_kept() {
    let dir = tempfile::tempdir().unwrap();
    let fs = mounted(dir.path());
    write_synced(&fs.path("kept"), b"durable");
    sync_dir(&fs.at);
    let mut file = OpenOptions::new().append(true).open(fs.path("kept")).unwrap();
    file.write_all(b" and more, never synced").unwrap();
    drop(file);
    // Its name is made durable by the directory's fsync below, its bytes never are.
    std::fs::write(fs.path("never-synced"), b"gone").unwrap();
    let overwritten = fs.path("overwritten");
    write_synced(&overwritten, &[1; 10_000]);
    sync_dir(&fs.at);
    let file = OpenOptions::new().write(true).open(&overwritten).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&file, &[2; 5_000], 2_500).unwrap();
    file.set_len(100).unwrap();
    drop(file);
    // Before the cut, everything reads as written.
    assert_eq!(
        std::fs::read(fs.path("kept")).unwrap(),
        b"durable and more, never synced"
    );

    let fs = cut_and_remount(
        fs,
        dir.path(),
        "cut: lost 3 files' bytes, 0 creations, 0 removals, 0 renames",
    );
    assert_eq!(std::fs::read(fs.path("kept")).unwrap(), b"durable");
    assert_eq!(std::fs::read(&overwritten).unwrap(), vec![1; 10_000]);
    assert_eq!(std::fs::read(fs.path("never-synced")).unwrap(), b"");
    fs.unmount();
}

#[test]
fn a_new_file_fsynced_but_not_its_directory_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let fs = mounted(dir.path());
    std::fs::create_dir(fs.path("d")).unwrap();
    sync_dir(&fs.at);
    write_synced(&fs.path("d/named"), b"both durable");
    sync_dir(&fs.path("d"));
    write_synced(&fs.path("d/orphan"), b"bytes durable, name not");

    let fs = cut_and_remount(
        fs,
        dir.path(),
        "cut: lost 0 files' bytes, 1 creations, 0 removals, 0 renames",
    );
    assert_eq!(std::fs::read(fs.path("d/named")).unwrap(), b"both durable");
    assert!(!fs.path("d/orphan").exists());
    fs.unmount();
}

#[test]
fn a_rename_without_a_directory_fsync_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let fs = mounted(dir.path());
    write_synced(&fs.path("target"), b"old");
    write_synced(&fs.path("durable-target"), b"old too");
    sync_dir(&fs.at);
    std::fs::create_dir(fs.path("sub")).unwrap();
    sync_dir(&fs.at);
    // The temp-and-rename every careful writer does: once with the directory's fsync, once
    // without.
    write_synced(&fs.path("sub/tmp2"), b"new too");
    std::fs::rename(fs.path("sub/tmp2"), fs.path("durable-target")).unwrap();
    sync_dir(&fs.at);
    write_synced(&fs.path("sub/tmp1"), b"new");
    std::fs::rename(fs.path("sub/tmp1"), fs.path("target")).unwrap();
    // Overwritten again and that rename undone: the file it replaced comes back.
    write_synced(&fs.path("tmp3"), b"newest");
    std::fs::rename(fs.path("tmp3"), fs.path("durable-target")).unwrap();
    assert_eq!(std::fs::read(fs.path("durable-target")).unwrap(), b"newest");
    assert_eq!(std::fs::read(fs.path("target")).unwrap(), b"new");

    // Four: tmp3's creation and rename, tmp1's creation and rename (tmp2's creation is moot:
    // its durable rename took the name away).
    let fs = cut_and_remount(
        fs,
        dir.path(),
        "cut: lost 0 files' bytes, 2 creations, 0 removals, 2 renames",
    );
    assert_eq!(std::fs::read(fs.path("target")).unwrap(), b"old");
    assert_eq!(std::fs::read(fs.path("durable-target")).unwrap(), b"new too");
    assert!(!fs.path("tmp3").exists());
    assert!(!fs.path("sub/tmp1").exists());
    fs.unmount();
}

#[test]
fn a_removal_comes_back_unless_its_directory_was_fsynced() {
    let dir = tempfile::tempdir().unwrap();
    let fs = mounted(dir.path());
    write_synced(&fs.path("back"), b"comes back");
    write_synced(&fs.path("gone"), b"stays gone");
    std::fs::create_dir(fs.path("empty")).unwrap();
    sync_dir(&fs.at);
    std::fs::remove_file(fs.path("gone")).unwrap();
    sync_dir(&fs.at);
    std::fs::remove_file(fs.path("back")).unwrap();
    std::fs::remove_dir(fs.path("empty")).unwrap();

    let fs = cut_and_remount(
        fs,
        dir.path(),
        "cut: lost 0 files' bytes, 0 creations, 2 removals, 0 renames",
    );
    assert_eq!(std::fs::read(fs.path("back")).unwrap(), b"comes back");
    assert!(fs.path("empty").is_dir());
    assert!(!fs.path("gone").exists());
    // Nothing is left behind in the graveyard after the restart.
    assert_eq!(
        std::fs::read_dir(dir.path().join("backing/graveyard")).unwrap().count(),
        0
    );
    fs.unmount();
}

#[test]
fn after_the_cut_every_call_fails_until_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut fs = mounted(dir.path());
    write_synced(&fs.path("f"), b"x");
    let open = File::open(fs.path("f")).unwrap();
    assert_eq!(fs.cut(), "cut: lost 0 files' bytes, 1 creations, 0 removals, 0 renames");
    let mut buf = [0; 1];
    let err = std::os::unix::fs::FileExt::read_at(&open, &mut buf, 0).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EIO));
    assert_eq!(
        std::fs::write(fs.path("g"), b"y").unwrap_err().raw_os_error(),
        Some(libc::EIO)
    );
    drop(open);
    fs.unmount();
}

#[test]
fn reads_under_a_failing_directory_fail_until_healed() {
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("mnt");
    std::fs::create_dir(&at).unwrap();
    let mount = coffer_lazyfs::mount(&dir.path().join("backing"), &at).unwrap();
    std::fs::create_dir(at.join("bad")).unwrap();
    std::fs::write(at.join("bad/f"), b"unreadable").unwrap();
    std::fs::write(at.join("good"), b"readable").unwrap();
    mount.fail_reads(Some(Path::new("bad")));
    let err = std::fs::read(at.join("bad/f")).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EIO));
    assert_eq!(std::fs::read(at.join("good")).unwrap(), b"readable");
    mount.fail_reads(None);
    assert_eq!(std::fs::read(at.join("bad/f")).unwrap(), b"unreadable");
    // Only past an offset: the start reads, the whole does not.
    std::fs::write(at.join("bad/long"), vec![7; 2 << 20]).unwrap();
    mount.fail_reads_past(Some(Path::new("bad")), 1 << 20);
    let long = File::open(at.join("bad/long")).unwrap();
    let mut start = [0; 4096];
    std::os::unix::fs::FileExt::read_exact_at(&long, &mut start, 0).unwrap();
    assert_eq!(start, [7; 4096]);
    drop(long);
    let err = std::fs::read(at.join("bad/long")).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EIO));
    mount.fail_reads(None);
    mount.unmount();
}

#[test]
fn truncation_and_hard_links_follow_the_same_rules() {
    let dir = tempfile::tempdir().unwrap();
    let fs = mounted(dir.path());
    write_synced(&fs.path("truncated"), b"durable bytes");
    write_synced(&fs.path("linked"), b"first");
    sync_dir(&fs.at);
    // O_TRUNC on an existing file, never synced: the bytes come back.
    std::fs::write(fs.path("truncated"), b"x").unwrap();
    // A hard link, made durable; a write through the link, synced through the first name.
    std::fs::hard_link(fs.path("linked"), fs.path("link")).unwrap();
    sync_dir(&fs.at);
    let file = OpenOptions::new().write(true).open(fs.path("link")).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&file, b"FIRST", 0).unwrap();
    drop(file);
    File::open(fs.path("linked")).unwrap().sync_all().unwrap();

    let fs = cut_and_remount(
        fs,
        dir.path(),
        "cut: lost 1 files' bytes, 0 creations, 0 removals, 0 renames",
    );
    assert_eq!(std::fs::read(fs.path("truncated")).unwrap(), b"durable bytes");
    assert_eq!(std::fs::read(fs.path("linked")).unwrap(), b"FIRST");
    assert_eq!(std::fs::read(fs.path("link")).unwrap(), b"FIRST");
    fs.unmount();
}
