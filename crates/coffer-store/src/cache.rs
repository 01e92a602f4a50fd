//! The store's read caches (buckets, credentials, users' policy sets) are one kind: values
//! read from SQL by name, all dropped by any write that could change one. Every such write
//! moves the generation on; a read that raced with one (the generation moved while it read
//! SQL) is not kept, so a stale value never outlives the write that changed it.

use std::collections::HashMap;

use parking_lot::RwLock;

pub(crate) struct GenerationCache<V>(RwLock<(u64, HashMap<String, V>)>);

impl<V> Default for GenerationCache<V> {
    fn default() -> Self {
        GenerationCache(RwLock::new((0, HashMap::new())))
    }
}

impl<V: Clone> GenerationCache<V> {
    /// The cached value, or the generation to [`insert`](Self::insert) a freshly read one at.
    pub(crate) fn get(&self, name: &str) -> Result<V, u64> {
        let cache = self.0.read();
        cache.1.get(name).cloned().ok_or(cache.0)
    }

    /// Keeps `value`, read at `generation`, unless a write has cleared the cache since.
    pub(crate) fn insert(&self, generation: u64, name: String, value: V) {
        let mut cache = self.0.write();
        if cache.0 == generation {
            cache.1.insert(name, value);
        }
    }

    /// Forgets everything (after a write that can change a cached value).
    pub(crate) fn clear(&self) {
        let mut cache = self.0.write();
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
