//! The latest version's row of recently read keys, so a GET need not ask SQLite for it
//! (measured: the round trip through sqlx's worker thread is a third of a 4 KiB GET's CPU).
//!
//! S3 promises read-after-write: once a write is answered, every read sees it. So the cache
//! is per key and never serves a key while a write to it is under way:
//! - every write to a key's rows holds a [`KeyWrite`] from before its transaction begins
//!   until after it has committed or rolled back; while one is held the key is read from SQL;
//! - a read fills the cache only if no write to its key began or ended while it read SQL
//!   (it takes a ticket first: the generation, which every write's end moves on).
//!
//! Only with SQLite, where this process is the only writer. With PostgreSQL other nodes
//! write too, and nothing short of a round trip would tell this one in time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::ObjectMeta;

/// Bytes (as [`weight`] counts them) cached at most; past it the cache starts again empty
/// (a GET-heavy working set larger than this reads SQL, as without a cache).
const MAX_BYTES: usize = 64 * 1024 * 1024;
/// How long a row is served at most. Every write this process makes ends a key's entry at
/// once. A server (`DatabaseOptions::serving`) holds the database to itself, so its bound
/// is only for hand edits; any other process (`coffer account`, a test's second store) sees
/// the server's writes as changes nothing here announces, and keeps rows a moment only.
/// (Servers kept rows a second too before that lock: every key then went back to SQL each
/// second, measured at 9% of a 4 KiB GET's CPU with 1,000 keys read 15 times a second each.)
pub(crate) fn max_age(serving: bool) -> Duration {
    match serving {
        true => Duration::from_secs(60),
        false => Duration::from_secs(1),
    }
}

type Key = (String, String);

pub(crate) struct ObjectCache {
    enabled: bool,
    max_age: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Moves on whenever a write to any key ends.
    generation: u64,
    entries: HashMap<Key, Entry>,
    /// The entries' [`weight`]s, summed.
    bytes: usize,
    /// Keys with writes under way, and how many.
    writing: HashMap<Key, usize>,
}

struct Entry {
    object: Arc<ObjectMeta>,
    filled: Instant,
    weight: usize,
}

/// About what an entry costs in memory: its strings, metadata, tags, grants and parts.
fn weight(object: &ObjectMeta) -> usize {
    let h = &object.headers;
    let headers = [
        &h.content_type,
        &h.cache_control,
        &h.content_disposition,
        &h.content_encoding,
        &h.content_language,
        &h.expires,
    ]
    .into_iter()
    .flatten()
    .map(String::len)
    .sum::<usize>();
    let metadata: usize = h.user_metadata.iter().map(|(k, v)| k.len() + v.len() + 48).sum();
    let tags: usize = object.tags.iter().map(|t| t.key.len() + t.value.len() + 48).sum();
    let grants = object.acl.grants.as_ref().map_or(0, |g| g.len() * 96);
    let parts = match &object.data {
        crate::ObjectData::Parts(parts) => parts.len() * 160,
        crate::ObjectData::Blob(_) => 0,
        crate::ObjectData::Inline { bytes, .. } => bytes.len(),
    };
    std::mem::size_of::<ObjectMeta>() + 3 * object.key.len() + headers + metadata + tags + grants + parts + 256
}

/// What a read that missed must show to fill the cache (see [`ObjectCache::fill`]).
#[derive(Debug)]
pub(crate) struct Ticket(u64);

impl ObjectCache {
    pub(crate) fn new(enabled: bool, max_age: Duration) -> ObjectCache {
        ObjectCache {
            enabled,
            max_age,
            state: Mutex::default(),
        }
    }

    /// The latest version of `key` as last read, unless a write to it is under way.
    pub(crate) fn get(&self, bucket: &str, key: &str) -> Result<ObjectMeta, Option<Ticket>> {
        if !self.enabled {
            return Err(None);
        }
        let wanted = (bucket.to_owned(), key.to_owned());
        let found = {
            let state = self.state.lock();
            match state.entries.get(&wanted) {
                Some(entry) if !state.writing.contains_key(&wanted) && entry.filled.elapsed() < self.max_age => {
                    Ok(entry.object.clone())
                }
                _ => Err(Some(Ticket(state.generation))),
            }
        };
        // Copied out of the lock.
        found.map(|object| ObjectMeta::clone(&object))
    }

    /// Keeps `object`, read from SQL after `ticket` was taken, unless a write to any key
    /// ended since or one to this key is under way.
    pub(crate) fn fill(&self, ticket: Ticket, object: &ObjectMeta) {
        let weight = weight(object);
        if weight > MAX_BYTES / 64 {
            return;
        }
        let entry = Entry {
            object: Arc::new(object.clone()),
            filled: Instant::now(),
            weight,
        };
        let key = (object.bucket.clone(), object.key.clone());
        let mut state = self.state.lock();
        if state.generation != ticket.0 || state.writing.contains_key(&key) {
            return;
        }
        if state.bytes + weight > MAX_BYTES {
            state.entries.clear();
            state.bytes = 0;
        }
        state.bytes += weight;
        if let Some(old) = state.entries.insert(key, entry) {
            state.bytes -= old.weight;
        }
    }

    fn forget(state: &mut State, key: &Key) {
        if let Some(old) = state.entries.remove(key) {
            state.bytes -= old.weight;
        }
    }

    /// Marks a write to `key` as under way until the returned guard is dropped.
    pub(crate) fn writing(self: &Arc<Self>, bucket: &str, key: &str) -> KeyWrite {
        let key = (bucket.to_owned(), key.to_owned());
        if self.enabled {
            let mut state = self.state.lock();
            Self::forget(&mut state, &key);
            *state.writing.entry(key.clone()).or_default() += 1;
        }
        KeyWrite {
            cache: self.clone(),
            key,
        }
    }

    fn ended(&self, key: &Key) {
        if !self.enabled {
            return;
        }
        let mut state = self.state.lock();
        state.generation += 1;
        Self::forget(&mut state, key);
        if let Some(count) = state.writing.get_mut(key) {
            *count -= 1;
            if *count == 0 {
                state.writing.remove(key);
            }
        }
    }
}

/// A write to one key under way (see [`ObjectCache::writing`]). Drop it only once the
/// write's transaction has committed or rolled back.
pub(crate) struct KeyWrite {
    cache: Arc<ObjectCache>,
    key: Key,
}

impl KeyWrite {
    /// Ends the write once the writer connection has finished whatever it was sent: for a
    /// transaction whose future was dropped mid-commit (a client that went away), the
    /// `COMMIT` may still be running on sqlx's worker thread. SQLite has one writer
    /// connection, so a statement on it runs after that commit.
    pub(crate) fn end_after(self, writer: sqlx::AnyPool) {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    for _ in 0..3 {
                        if sqlx::query("SELECT 1").execute(&writer).await.is_ok() {
                            return drop(self);
                        }
                    }
                    // Nothing proves the commit is over: the key stays marked as being
                    // written, and is read from SQL from now on.
                    std::mem::forget(self);
                });
            }
            Err(_) => drop(self),
        }
    }
}

impl Drop for KeyWrite {
    fn drop(&mut self) {
        self.cache.ended(&self.key);
    }
}

/// Ends a [`KeyWrite`] made by a function that commits its own transaction: at once when
/// the function ran to its end (its commit or rollback is over), after the writer's
/// pending statements when its future was dropped part way.
pub(crate) struct WriteScope {
    write: Option<KeyWrite>,
    writer: sqlx::AnyPool,
}

impl WriteScope {
    pub(crate) fn new(write: KeyWrite, writer: sqlx::AnyPool) -> WriteScope {
        WriteScope {
            write: Some(write),
            writer,
        }
    }

    /// The function ran to its end.
    pub(crate) fn finish(mut self) {
        drop(self.write.take());
    }
}

impl Drop for WriteScope {
    fn drop(&mut self) {
        if let Some(write) = self.write.take() {
            write.end_after(self.writer.clone());
        }
    }
}

impl crate::Store {
    /// A [`WriteScope`] for a write to `key` that commits its own transaction: begun before
    /// the transaction, finished after its commit.
    pub(crate) fn object_write_scope(&self, bucket: &str, key: &str) -> WriteScope {
        WriteScope::new(self.inner.objects.writing(bucket, key), self.inner.writer.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(key: &str, etag: &str) -> ObjectMeta {
        ObjectMeta {
            bucket: "b".into(),
            key: key.into(),
            version_id: String::new(),
            size: 0,
            etag: etag.into(),
            last_modified: time::OffsetDateTime::UNIX_EPOCH,
            headers: Default::default(),
            checksum: None,
            data: crate::ObjectData::Blob("0".repeat(32)),
            is_delete_marker: false,
            is_latest: true,
            lock: Default::default(),
            tags: Vec::new(),
            acl: Default::default(),
            storage_class: None,
            encryption: None,
        }
    }

    #[test]
    fn a_read_that_raced_with_a_write_is_not_kept() {
        let cache = Arc::new(ObjectCache::new(true, max_age(true)));
        let Err(Some(ticket)) = cache.get("b", "k") else {
            panic!("empty cache hit")
        };
        drop(cache.writing("b", "other"));
        cache.fill(ticket, &object("k", "old"));
        assert!(cache.get("b", "k").is_err(), "read before a write ended, kept after it");
        let Err(Some(ticket)) = cache.get("b", "k") else {
            panic!()
        };
        cache.fill(ticket, &object("k", "new"));
        assert_eq!(cache.get("b", "k").unwrap().etag, "new");
    }

    #[test]
    fn a_key_being_written_is_read_from_sql() {
        let cache = Arc::new(ObjectCache::new(true, max_age(true)));
        let Err(Some(ticket)) = cache.get("b", "k") else {
            panic!()
        };
        cache.fill(ticket, &object("k", "old"));
        let write = cache.writing("b", "k");
        let Err(Some(ticket)) = cache.get("b", "k") else {
            panic!("served during a write")
        };
        cache.fill(ticket, &object("k", "read during the write"));
        assert!(cache.get("b", "k").is_err(), "filled during a write");
        drop(write);
        assert!(cache.get("b", "k").is_err(), "the write's end keeps nothing");
    }

    #[test]
    fn a_disabled_cache_keeps_nothing() {
        let cache = Arc::new(ObjectCache::new(false, max_age(true)));
        assert!(matches!(cache.get("b", "k"), Err(None)));
        let _write = cache.writing("b", "k");
    }
}
