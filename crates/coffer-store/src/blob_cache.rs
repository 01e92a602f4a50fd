//! Small blobs' bytes, kept in memory once read: a GET of a small object that was read
//! recently is answered without a trip to the blocking pool, an `open` and a `pread`
//! (measured: about half the server CPU of a 4 KiB GET, see `docs/DESIGN.md`).
//!
//! Nothing here can go stale: a blob's bytes never change once it is named (a write makes a
//! new blob under a new random id, and ids are never reused), so a cached copy is the
//! blob, on any node. Removing a blob here forgets its copy only to free the memory (blobs
//! removed by orphan collection or by another node age out instead).

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use parking_lot::Mutex;

/// The largest blob kept: a small object (64 KiB of plain bytes) with its seals.
pub(crate) const MAX_BLOB: usize = 64 * 1024 + 1024;
/// Bytes kept at most, counting each entry's bookkeeping with its blob.
const MAX_BYTES: usize = 32 * 1024 * 1024;
/// Bookkeeping per entry, beyond its blob and two copies of its id: the map's slot, the
/// queue's, the shared buffer's header, allocator overhead, and an id forgotten but still
/// queued (at most one per entry kept, see `keep`).
const ENTRY_OVERHEAD: usize = 256;

#[derive(Default)]
pub(crate) struct BlobCache {
    state: Mutex<State>,
}

/// Counts only: the blobs' bytes are nobody's debug output.
impl std::fmt::Debug for BlobCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock();
        f.debug_struct("BlobCache")
            .field("blobs", &state.blobs.len())
            .field("bytes", &state.bytes)
            .finish()
    }
}

#[derive(Default)]
struct State {
    blobs: HashMap<String, Bytes>,
    /// Ids in the order they were kept; the oldest goes first when room is needed. Ids
    /// forgotten meanwhile stay here until they reach the front or a compaction.
    order: VecDeque<String>,
    bytes: usize,
}

fn weight(id: &str, bytes: &Bytes) -> usize {
    2 * id.len() + bytes.len() + ENTRY_OVERHEAD
}

impl BlobCache {
    pub(crate) fn get(&self, id: &str) -> Option<Bytes> {
        self.state.lock().blobs.get(id).cloned()
    }

    /// Keeps `bytes` as blob `id`'s, making room by forgetting the oldest kept first.
    pub(crate) fn keep(&self, id: &str, bytes: Bytes) {
        if bytes.len() > MAX_BLOB {
            return;
        }
        let added = weight(id, &bytes);
        let mut state = self.state.lock();
        if state.blobs.contains_key(id) {
            return;
        }
        while state.bytes + added > MAX_BYTES {
            let Some(oldest) = state.order.pop_front() else { break };
            state.remove(&oldest);
        }
        state.bytes += added;
        state.blobs.insert(id.to_owned(), bytes);
        state.order.push_back(id.to_owned());
        // Forgotten ids pile up in `order` when blobs are removed faster than room is made.
        if state.order.len() > 2 * state.blobs.len() + 64 {
            let State { blobs, order, .. } = &mut *state;
            order.retain(|id| blobs.contains_key(id));
        }
    }

    pub(crate) fn forget(&self, id: &str) {
        self.state.lock().remove(id);
    }
}

impl State {
    fn remove(&mut self, id: &str) {
        if let Some(bytes) = self.blobs.remove(id) {
            self.bytes -= weight(id, &bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(len: usize) -> Bytes {
        Bytes::from(vec![7u8; len])
    }

    #[test]
    fn kept_blobs_are_served_until_forgotten() {
        let cache = BlobCache::default();
        cache.keep("a", blob(10));
        assert_eq!(cache.get("a"), Some(blob(10)));
        assert_eq!(cache.get("b"), None);
        cache.forget("a");
        assert_eq!(cache.get("a"), None);
        assert_eq!(cache.state.lock().bytes, 0);
    }

    #[test]
    fn large_blobs_are_never_kept() {
        let cache = BlobCache::default();
        cache.keep("big", blob(MAX_BLOB + 1));
        assert_eq!(cache.get("big"), None);
    }

    #[test]
    fn the_oldest_go_first_and_memory_stays_bounded() {
        let cache = BlobCache::default();
        let count = 2 * MAX_BYTES / MAX_BLOB;
        for i in 0..count {
            cache.keep(&format!("{i:032}"), blob(MAX_BLOB));
        }
        let state = cache.state.lock();
        assert!(state.bytes <= MAX_BYTES, "{} bytes kept", state.bytes);
        assert!(!state.blobs.contains_key(&format!("{:032}", 0)), "the oldest went");
        assert!(
            state.blobs.contains_key(&format!("{:032}", count - 1)),
            "the newest stays"
        );
        let counted: usize = state.blobs.iter().map(|(id, bytes)| weight(id, bytes)).sum();
        assert_eq!(counted, state.bytes);
    }

    #[test]
    fn forgotten_ids_do_not_pile_up() {
        let cache = BlobCache::default();
        for i in 0..10_000 {
            let id = format!("{i:032}");
            cache.keep(&id, blob(10));
            cache.forget(&id);
        }
        let state = cache.state.lock();
        // At most two per entry kept plus 64 after each keep (one entry here), then one forgot.
        assert!(state.order.len() <= 66, "{} ids waiting", state.order.len());
        assert_eq!(state.bytes, 0);
    }

    #[test]
    fn keeping_twice_or_again_after_forgetting_counts_once() {
        let cache = BlobCache::default();
        cache.keep("a", blob(10));
        cache.keep("a", blob(10));
        assert_eq!(cache.state.lock().bytes, weight("a", &blob(10)));
        cache.forget("a");
        cache.keep("a", blob(20));
        assert_eq!(cache.get("a"), Some(blob(20)));
        assert_eq!(cache.state.lock().bytes, weight("a", &blob(20)));
        cache.forget("a");
        assert_eq!(cache.state.lock().bytes, 0);
    }
}
