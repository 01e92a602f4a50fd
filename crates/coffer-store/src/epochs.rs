//! Caches coherent across nodes. Each read cache (credentials, buckets, policy sets) has a
//! counter in `cache_epochs`. A write that can change a cached value moves the counter in
//! its own transaction and drops the local cache after its commit; every node polls the counters
//! ([`POLL_INTERVAL`]) and drops any cache whose counter moved. A write is therefore in force
//! on every node within one poll (plus the poll's query); a new key or grant works at once
//! anyway, since a cache miss reads the database. Plain counters in a table work on any SQL
//! database, including PostgreSQL-compatible ones without LISTEN/NOTIFY.
//!
//! Every node also drops all caches every [`FULL_REFRESH`], a bound should a counter ever be
//! moved by hand or a cache filled from a reader that lagged.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::db::Db;
use crate::{Result, Store};

/// How often a node reads the counters.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// How often a node drops every cache whatever the counters say.
pub const FULL_REFRESH: Duration = Duration::from_secs(60);

/// The store's read caches, as named in `cache_epochs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cache {
    Credentials,
    Buckets,
    Policies,
    KmsKeys,
}

impl Cache {
    const ALL: [Cache; 4] = [Cache::Credentials, Cache::Buckets, Cache::Policies, Cache::KmsKeys];

    fn name(self) -> &'static str {
        match self {
            Cache::Credentials => "credentials",
            Cache::Buckets => "buckets",
            Cache::Policies => "policies",
            Cache::KmsKeys => "kms_keys",
        }
    }

    fn clear(self, db: &Db) {
        match self {
            Cache::Credentials => db.keys.clear(),
            Cache::Buckets => db.buckets.clear(),
            Cache::Policies => db.policies.clear(),
            Cache::KmsKeys => db.kms_keys.clear(),
        }
    }
}

impl Store {
    /// Commits a write that can change values of `cache`, moving the cache's counter in the
    /// same transaction, so no node can miss a committed change; then drops the cache here.
    /// The counter's update is the transaction's last statement: on PostgreSQL it locks the
    /// counter's row until the commit, and a writer waiting for it holds no lock another
    /// writer of that cache needs first.
    pub(crate) async fn commit_changed(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Any>,
        cache: Cache,
    ) -> Result<()> {
        let committed = async {
            sqlx::query("UPDATE cache_epochs SET epoch = epoch + 1 WHERE cache = $1")
                .bind(cache.name())
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }
        .await;
        // Whatever the outcome (a lost COMMIT may still have landed), nothing stale stays here.
        cache.clear(&self.inner);
        Ok(committed?)
    }
}

/// The counters as last read, in [`Cache::ALL`]'s order.
async fn read_epochs(db: &Db) -> Result<[i64; Cache::ALL.len()]> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT cache, epoch FROM cache_epochs")
        .fetch_all(&db.probe)
        .await?;
    let mut epochs = [0; Cache::ALL.len()];
    for (slot, cache) in epochs.iter_mut().zip(Cache::ALL) {
        *slot = rows
            .iter()
            .find(|(name, _)| name == cache.name())
            .map_or(0, |(_, epoch)| *epoch);
    }
    Ok(epochs)
}

/// How long a node may go without hearing the counters before it stops trusting its caches:
/// a node that cannot hear of a revoked key must not go on honouring it from memory.
const DEAF_AFTER: Duration = Duration::from_secs(1);

/// Polls the counters for as long as the store lives, from `seen` (as read at its opening:
/// a change after that, even before the first poll, is one to act on).
fn watch(db: Weak<Db>, mut seen: Option<[i64; Cache::ALL.len()]>) {
    tokio::spawn(async move {
        let mut refreshed = Instant::now();
        let mut heard = Instant::now();
        loop {
            tokio::time::sleep(POLL_INTERVAL).await;
            let Some(db) = db.upgrade() else { return };
            if refreshed.elapsed() >= FULL_REFRESH {
                for cache in Cache::ALL {
                    cache.clear(&db);
                }
                refreshed = Instant::now();
            }
            // Bounded, so a hung connection cannot stop the loop (and its full refresh).
            match tokio::time::timeout(DEAF_AFTER, read_epochs(&db)).await {
                Ok(Ok(now)) => {
                    if let Some(before) = seen {
                        for ((cache, was), is) in Cache::ALL.into_iter().zip(before).zip(now) {
                            if was != is {
                                cache.clear(&db);
                            }
                        }
                    }
                    seen = Some(now);
                    heard = Instant::now();
                }
                failed => {
                    if heard.elapsed() >= DEAF_AFTER {
                        for cache in Cache::ALL {
                            cache.clear(&db);
                        }
                    }
                    match failed {
                        Ok(Err(err)) => tracing::debug!(%err, "could not read the cache counters"),
                        _ => tracing::debug!("reading the cache counters timed out"),
                    }
                }
            }
        }
    });
}

/// Keeps the store's caches coherent from its opening on.
pub(crate) async fn start(db: &Arc<Db>) {
    let seen = read_epochs(db).await.ok();
    watch(Arc::downgrade(db), seen);
}
