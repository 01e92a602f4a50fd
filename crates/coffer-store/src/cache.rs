//! The store's read caches (buckets, credentials, users' policy sets) are one kind: values
//! read from SQL by name, all dropped by any write that could change one. Every such write
//! moves the generation on; a read that raced with one (the generation moved while it read
//! SQL) is not kept, so a stale value never outlives the write that changed it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;

pub(crate) struct GenerationCache<V> {
    entries: RwLock<(u64, HashMap<String, V>)>,
    /// Lookups answered from the cache, and lookups that had to read SQL (for metrics).
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<V> Default for GenerationCache<V> {
    fn default() -> Self {
        GenerationCache {
            entries: RwLock::new((0, HashMap::new())),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
}

impl<V> GenerationCache<V> {
    /// (hits, misses) since the start.
    pub(crate) fn lookups(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }
}

impl<V: Clone> GenerationCache<V> {
    /// The cached value, or the generation to [`insert`](Self::insert) a freshly read one at.
    pub(crate) fn get(&self, name: &str) -> Result<V, u64> {
        let cache = self.entries.read();
        let found = cache.1.get(name).cloned().ok_or(cache.0);
        let counter = if found.is_ok() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps `value`, read at `generation`, unless a write has cleared the cache since.
    pub(crate) fn insert(&self, generation: u64, name: String, value: V) {
        let mut cache = self.entries.write();
        if cache.0 == generation {
            cache.1.insert(name, value);
        }
    }

    /// Forgets everything (after a write that can change a cached value).
    pub(crate) fn clear(&self) {
        let mut cache = self.entries.write();
        cache.0 += 1;
        cache.1.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_raced_with_a_write_is_not_kept() {
        let cache = GenerationCache::<u32>::default();
        let generation = cache.get("a").unwrap_err();
        cache.clear();
        cache.insert(generation, "a".into(), 1);
        assert!(cache.get("a").is_err(), "read before the write, kept after it");
        let generation = cache.get("a").unwrap_err();
        cache.insert(generation, "a".into(), 2);
        assert_eq!(cache.get("a"), Ok(2));
    }
}
