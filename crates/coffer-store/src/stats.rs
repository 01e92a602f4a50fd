//! What the store counts for metrics: the sizes of its group commits (and how many were
//! redone), and its caches' hits and misses. Counting is a relaxed atomic add; reading is a snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the commit-size histogram's buckets (a batch holds at most 128 writes).
pub const BATCH_BOUNDS: [u64; 8] = [1, 2, 4, 8, 16, 32, 64, 128];

#[derive(Debug, Default)]
pub(crate) struct BatchSizes {
    counts: [AtomicU64; 8],
    sum: AtomicU64,
    /// Batches applied again, each write in a savepoint, after a write failed where it could
    /// not be undone alone (see `commits::commit_unguarded`).
    redone: AtomicU64,
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

    pub(crate) fn observe_redone(&self) {
        self.redone.fetch_add(1, Ordering::Relaxed);
    }
}

/// A snapshot of the store's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Commits per bucket of [`BATCH_BOUNDS`] (not cumulative), and the writes they carried.
    pub batches: [u64; 8],
    pub batched_writes: u64,
    /// Commits whose batch was applied again, each write in a savepoint of its own, after
    /// the batch failed without them (SQLite): normal now and then (a write refused after it
    /// changed rows), a sign of trouble when it climbs with the writes.
    pub redone_batches: u64,
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
            redone_batches: sizes.redone.load(Ordering::Relaxed),
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
    /// Every bucket's usage: the folded counts plus the deltas not folded yet, one row per
    /// bucket and delta, never a scan of objects.
    pub async fn bucket_usage(&self) -> crate::Result<Vec<BucketUsage>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT b.name, COALESCE(u.objects, 0) + COALESCE(d.objects, 0), COALESCE(u.bytes, 0) + COALESCE(d.bytes, 0) \
             FROM buckets b LEFT JOIN bucket_usage u ON u.bucket = b.name \
             LEFT JOIN (SELECT bucket, CAST(SUM(objects) AS BIGINT) AS objects, CAST(SUM(bytes) AS BIGINT) AS bytes \
                        FROM bucket_usage_deltas GROUP BY bucket) d ON d.bucket = b.name \
             ORDER BY b.name",
        )
        .fetch_all(&self.inner.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(bucket, objects, bytes)| BucketUsage { bucket, objects, bytes })
            .collect())
    }

    /// Folds up to 10,000 usage deltas into the per-bucket counts; returns how many. The
    /// counts are updated in bucket order and deltas taken with SKIP LOCKED on PostgreSQL,
    /// so two nodes folding at once neither deadlock nor count a delta twice.
    pub async fn fold_bucket_usage(&self) -> crate::Result<usize> {
        let take = match self.inner.backend {
            crate::db::Backend::Postgres => {
                "DELETE FROM bucket_usage_deltas WHERE id IN \
                 (SELECT id FROM bucket_usage_deltas ORDER BY id LIMIT 10000 FOR UPDATE SKIP LOCKED) \
                 RETURNING bucket, objects, bytes"
            }
            crate::db::Backend::Sqlite => {
                "DELETE FROM bucket_usage_deltas WHERE id IN \
                 (SELECT id FROM bucket_usage_deltas ORDER BY id LIMIT 10000) RETURNING bucket, objects, bytes"
            }
        };
        let mut tx = self.begin_write().await?;
        let deltas: Vec<(String, i64, i64)> = sqlx::query_as(take).fetch_all(&mut *tx).await?;
        let mut sums: std::collections::BTreeMap<&str, (i64, i64)> = std::collections::BTreeMap::new();
        for (bucket, objects, bytes) in &deltas {
            let sum = sums.entry(bucket.as_str()).or_default();
            *sum = (sum.0 + objects, sum.1 + bytes);
        }
        for (bucket, (objects, bytes)) in sums {
            sqlx::query(
                "INSERT INTO bucket_usage (bucket, objects, bytes) VALUES ($1, $2, $3) \
                 ON CONFLICT (bucket) DO UPDATE SET objects = bucket_usage.objects + excluded.objects, \
                 bytes = bucket_usage.bytes + excluded.bytes",
            )
            .bind(bucket)
            .bind(objects)
            .bind(bytes)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(deltas.len())
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
