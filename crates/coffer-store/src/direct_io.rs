//! Large blobs are written with `O_DIRECT`: the bytes go from the write buffer to the disk
//! without a copy into the page cache. That copy was a third of a 64 MiB PUT's CPU here
//! (`dd`: 2.6-2.9 ms of system time per MiB buffered, 0.12-0.15 direct, on ext4), and the
//! cache it fills is of no use to a blob nobody reads yet. The blob's fsync still follows, for
//! its metadata and the disk's own cache.
//!
//! Direct I/O wants buffers, offsets and lengths aligned to the device's block: buffers here
//! are whole [`ALIGN`]-aligned pages and offsets multiples of the write buffer. Only ext4, XFS
//! and btrfs get it; any other file system, an unaligned length (a blob's last write) or a
//! device with a larger block gets plain buffered writes instead: never an error of its own.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;

/// The alignment direct writes are made with (the largest logical block size in common use).
pub(crate) const ALIGN: usize = 4096;

/// One aligned page of a [`Chunk`].
#[derive(Clone, Copy)]
#[repr(C, align(4096))]
struct Page([u8; ALIGN]);

/// A write buffer whose bytes start on an [`ALIGN`] boundary.
pub(crate) struct Chunk {
    pages: Vec<Page>,
    len: usize,
}

impl Chunk {
    /// A chunk with room for `capacity` bytes (rounded up to whole pages).
    pub(crate) fn with_capacity(capacity: usize) -> Chunk {
        Chunk {
            pages: vec![Page([0; ALIGN]); capacity.div_ceil(ALIGN)],
            len: 0,
        }
    }

    fn capacity(&self) -> usize {
        self.pages.len() * ALIGN
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len == self.capacity()
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    /// Appends as much of `bytes` as there is room for; returns how much that was.
    pub(crate) fn fill(&mut self, bytes: &[u8]) -> usize {
        let taken = bytes.len().min(self.capacity() - self.len);
        let start = self.len;
        self.all_mut()[start..start + taken].copy_from_slice(&bytes[..taken]);
        self.len += taken;
        taken
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `Page` is `repr(C)` around `[u8; ALIGN]` with no padding (its size is its
        // alignment), so the pages are `capacity()` initialised bytes in a row.
        let all = unsafe { std::slice::from_raw_parts(self.pages.as_ptr().cast::<u8>(), self.capacity()) };
        &all[..self.len]
    }

    fn all_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`; the borrow of `self` makes it the only view.
        unsafe { std::slice::from_raw_parts_mut(self.pages.as_mut_ptr().cast::<u8>(), self.capacity()) }
    }
}

/// Asks for direct writes on `file`, on the local block-device file systems where they pay:
/// on network and FUSE ones (NFS, CephFS, JuiceFS, which a shared data dir lives on) a direct
/// write can be a synchronous round trip to a server. `false`: buffered writes it is.
pub(crate) fn enable(file: &std::fs::File) -> bool {
    local_block_fs(file) && set_direct(file, true).is_ok()
}

/// Whether `file` lives on ext4, XFS or btrfs.
#[cfg(target_os = "linux")]
fn local_block_fs(file: &std::fs::File) -> bool {
    const EXT4: i64 = 0xEF53;
    const XFS: i64 = 0x5846_5342;
    const BTRFS: i64 = 0x9123_683E;
    let mut stats = MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: `fstatfs` fills the `statfs` it is given, which lives for the call; it is read
    // only when the call succeeded.
    let kind = unsafe {
        if libc::fstatfs(file.as_raw_fd(), stats.as_mut_ptr()) != 0 {
            return false;
        }
        stats.assume_init().f_type
    };
    matches!(kind as i64, EXT4 | XFS | BTRFS)
}

#[cfg(not(target_os = "linux"))]
fn local_block_fs(_file: &std::fs::File) -> bool {
    false
}

/// Writes `bytes` at `offset` of `file` (opened by [`enable`] or not): directly when the
/// write is aligned, otherwise (or when the device refuses it) through the page cache, the
/// file left buffered from then on.
pub(crate) fn write_all_at(file: &std::fs::File, bytes: &[u8], offset: u64) -> io::Result<()> {
    if is_direct(file)? {
        let aligned = bytes.len().is_multiple_of(ALIGN)
            && offset.is_multiple_of(ALIGN as u64)
            && (bytes.as_ptr() as usize).is_multiple_of(ALIGN);
        if aligned {
            match file.write_all_at(bytes, offset) {
                Ok(()) => return Ok(()),
                // A device whose block is larger than `ALIGN` (or a write cut short, which
                // leaves the rest unaligned): written again through the page cache.
                Err(err) if err.raw_os_error() == Some(libc::EINVAL) => {}
                Err(err) => return Err(err),
            }
        }
        set_direct(file, false)?;
    }
    file.write_all_at(bytes, offset)
}

#[cfg(not(target_os = "linux"))]
fn is_direct(_file: &std::fs::File) -> io::Result<bool> {
    Ok(false)
}

#[cfg(not(target_os = "linux"))]
fn set_direct(_file: &std::fs::File, _direct: bool) -> io::Result<()> {
    Ok(())
}

#[cfg(target_os = "linux")]
fn is_direct(file: &std::fs::File) -> io::Result<bool> {
    // SAFETY: a plain system call on a descriptor `file` keeps open; no memory is passed.
    let flags = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFL) };
    if flags == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(flags & libc::O_DIRECT != 0)
}

#[cfg(target_os = "linux")]
fn set_direct(file: &std::fs::File, direct: bool) -> io::Result<()> {
    // SAFETY: plain system calls on a descriptor `file` keeps open; no memory is passed.
    unsafe {
        let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
        if flags == -1 {
            return Err(io::Error::last_os_error());
        }
        let wanted = if direct {
            flags | libc::O_DIRECT
        } else {
            flags & !libc::O_DIRECT
        };
        if libc::fcntl(file.as_raw_fd(), libc::F_SETFL, wanted) == -1 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_fills_to_its_capacity_and_starts_aligned() {
        let mut chunk = Chunk::with_capacity(3 * ALIGN - 5);
        assert_eq!(chunk.as_slice().as_ptr() as usize % ALIGN, 0);
        assert_eq!(chunk.fill(&[7; 2 * ALIGN]), 2 * ALIGN);
        assert_eq!(chunk.fill(&[8; 2 * ALIGN]), ALIGN);
        assert!(chunk.is_full());
        assert_eq!(chunk.as_slice().len(), 3 * ALIGN);
        assert_eq!(chunk.as_slice()[2 * ALIGN - 1], 7);
        assert_eq!(chunk.as_slice()[2 * ALIGN], 8);
        chunk.clear();
        assert!(chunk.is_empty());
        assert_eq!(chunk.fill(b"abc"), 3);
        assert_eq!(chunk.as_slice(), b"abc");
    }

    /// Aligned writes, an unaligned tail and a write at an unaligned offset all land, direct
    /// or not.
    #[test]
    fn writes_land_whether_direct_or_not() {
        // On a disk, not the tmpfs the temp dir may be, so that the direct path runs: beside
        // this test's own binary, wherever the target dir is.
        let exe = std::env::current_exe().unwrap();
        let dir = tempfile::tempdir_in(exe.parent().unwrap()).unwrap();
        let path = dir.path().join("blob");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
        let direct = enable(&file);
        assert_eq!(direct, is_direct(&file).unwrap());
        let mut chunk = Chunk::with_capacity(4 * ALIGN);
        let first: Vec<u8> = (0..4 * ALIGN).map(|i| (i % 251) as u8).collect();
        chunk.fill(&first);
        write_all_at(&file, chunk.as_slice(), 0).unwrap();
        assert_eq!(is_direct(&file).unwrap(), direct, "an aligned write stays direct");
        chunk.clear();
        chunk.fill(b"tail");
        write_all_at(&file, chunk.as_slice(), first.len() as u64).unwrap();
        assert!(
            !is_direct(&file).unwrap(),
            "an unaligned write leaves the file buffered"
        );
        assert!(enable(&file) == direct);
        chunk.clear();
        chunk.fill(&[9; ALIGN]);
        write_all_at(&file, chunk.as_slice(), 10).unwrap();
        file.sync_all().unwrap();
        let mut expected = first.clone();
        expected.extend_from_slice(b"tail");
        expected[10..10 + ALIGN].fill(9);
        assert_eq!(std::fs::read(&path).unwrap(), expected);
    }
}
