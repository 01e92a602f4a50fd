//! What the store counts for metrics: the sizes of its group commits and its caches' hits
//! and misses. Counting is a relaxed atomic add; reading is a snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the commit-size histogram's buckets (a batch holds at most 128 writes).
pub const BATCH_BOUNDS: [u64; 8] = [1, 2, 4, 8, 16, 32, 64, 128];

#[derive(Debug, Default)]
pub(crate) struct BatchSizes {
    counts: [AtomicU64; 8],
    sum: AtomicU64,
}

impl BatchSizes {
    pub(crate) fn observe(&self, writes: usize) {
        let writes = writes as u64;
        let at = BATCH_BOUNDS
            .iter()
            .position(|bound| writes <= *bound)
            .unwrap_or(BATCH_BOUNDS.len() - 1);
        self.counts[at].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(writes, Ordering::Relaxed);
    }
}

/// A snapshot of the store's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Commits per bucket of [`BATCH_BOUNDS`] (not cumulative), and the writes they carried.
    pub batches: [u64; 8],
    pub batched_writes: u64,
    /// (cache, hits, misses) of each read cache.
    pub caches: Vec<(&'static str, u64, u64)>,
}

impl crate::Store {
    pub fn stats(&self) -> StoreStats {
        let sizes = self.inner.commits.sizes();
        let caches = [
            ("credentials", self.inner.keys.lookups()),
            ("buckets", self.inner.buckets.lookups()),
            ("policies", self.inner.policies.lookups()),
            ("kms_keys", self.inner.kms_keys.lookups()),
        ];
        StoreStats {
            batches: std::array::from_fn(|i| sizes.counts[i].load(Ordering::Relaxed)),
            batched_writes: sizes.sum.load(Ordering::Relaxed),
            caches: caches
                .into_iter()
                .map(|(name, (hits, misses))| (name, hits, misses))
                .collect(),
        }
    }
}

/// One bucket's stored versions and their bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketUsage {
    pub bucket: String,
    pub objects: i64,
    pub bytes: i64,
}

impl crate::Store {
    /// Every bucket's usage, as the triggers of `bucket_usage` keep it: one row per bucket,
    /// never a scan of objects.
    pub async fn bucket_usage(&self) -> crate::Result<Vec<BucketUsage>> {
        let rows: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT bucket, objects, bytes FROM bucket_usage ORDER BY bucket")
                .fetch_all(&self.inner.reader)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(bucket, objects, bytes)| BucketUsage { bucket, objects, bytes })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_sizes_fall_into_their_buckets() {
        let sizes = BatchSizes::default();
        for writes in [1, 1, 3, 128, 200] {
            sizes.observe(writes);
        }
        let counts: Vec<u64> = sizes.counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        assert_eq!(counts, [2, 0, 1, 0, 0, 0, 0, 2]);
        assert_eq!(sizes.sum.load(Ordering::Relaxed), 333);
    }
}
