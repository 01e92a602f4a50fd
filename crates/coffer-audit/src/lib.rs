//! The audit trail: a CloudTrail record of every IAM, STS and console sign-in call and every
//! bucket-level S3 call (object-level S3 calls too when data events are on), written to a
//! local journal that a crash cannot lose an acknowledged management event from, looked up
//! by the console's Event history, and delivered as gzipped objects into a bucket.

pub mod delivery;
pub mod elements;
pub mod event;
pub mod history;
pub mod journal;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use event::{Caller, Event, HIDDEN, SigningInUser, Source};
pub use history::Filter;
use serde_json::Value;

/// A record's most bytes; a larger one keeps its parameters and result out.
const MAX_RECORD: usize = 64 * 1024;

/// A management event that could not be made durable: its call must not be acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotRecorded;

/// Which calls are recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Recording {
    /// None: the audit trail is off.
    Off,
    /// Management events: IAM, STS, console sign-in, bucket-level S3.
    #[default]
    Management,
    /// Management events and S3's object-level data events.
    All,
}

/// The audit trail's handle; cheap to clone. [`Audit::off`] records nothing.
#[derive(Clone, Default)]
pub struct Audit(Option<Arc<Inner>>);

struct Inner {
    journal: journal::Journal,
    /// Lookups read files: two at a time at most.
    lookups: tokio::sync::Semaphore,
    dir: PathBuf,
    data_events: bool,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(inner) => write!(f, "Audit({})", inner.dir.display()),
            None => f.write_str("Audit(off)"),
        }
    }
}

impl Audit {
    pub fn off() -> Audit {
        Audit(None)
    }

    /// The trail in `dir` (its journal files), recording as `recording` says.
    pub fn open(dir: &Path, recording: Recording) -> std::io::Result<Audit> {
        if recording == Recording::Off {
            return Ok(Audit::off());
        }
        Ok(Audit(Some(Arc::new(Inner {
            journal: journal::Journal::open(dir)?,
            lookups: tokio::sync::Semaphore::new(2),
            dir: dir.to_owned(),
            data_events: recording == Recording::All,
        }))))
    }

    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// Whether S3's object-level calls are recorded.
    pub fn records_data_events(&self) -> bool {
        self.0.as_ref().is_some_and(|inner| inner.data_events)
    }

    /// Records `event`. A management event is on disk when this returns `Ok`; when it could
    /// not be written, the caller must not acknowledge the call (it answers an internal
    /// error: the change may have happened, as when a connection drops). A data event is
    /// written in the background.
    pub async fn record(&self, event: Event) -> Result<(), NotRecorded> {
        let Some(inner) = &self.0 else { return Ok(()) };
        if !event.management && !inner.data_events {
            return Ok(());
        }
        let mut record = event.to_json();
        let mut line = record.to_string().into_bytes();
        if line.len() > MAX_RECORD {
            // What a client sent or got back in bulk is not what the record is for.
            for field in ["requestParameters", "responseElements"] {
                record[field] = serde_json::json!({ "omitted": "too large to record" });
            }
            line = record.to_string().into_bytes();
        }
        inner.journal.append(line, event.management).await.map_err(|err| {
            tracing::error!(%err, event = %event.name, "an audit record could not be written");
            NotRecorded
        })
    }

    /// Up to `limit` of the last 90 days' events matching `filter`, newest first.
    pub async fn lookup(&self, filter: Filter, limit: usize) -> Vec<Value> {
        let Some(inner) = &self.0 else { return Vec::new() };
        let Ok(_turn) = inner.lookups.acquire().await else {
            return Vec::new();
        };
        let dir = inner.dir.clone();
        let now = time::OffsetDateTime::now_utc();
        tokio::task::spawn_blocking(move || history::lookup(&dir, &filter, limit, now))
            .await
            .unwrap_or_default()
    }

    /// Closes the journal's current file and removes files past the retention.
    pub async fn rotate(&self) -> std::io::Result<()> {
        let Some(inner) = &self.0 else { return Ok(()) };
        inner.journal.rotate().await?;
        let dir = inner.dir.clone();
        tokio::task::spawn_blocking(move || {
            journal::prune(&dir, time::OffsetDateTime::now_utc(), history::RETENTION_DAYS)
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(())
    }

    /// Closes the journal's current file, removes files past the retention, and hands every
    /// rotated file not yet delivered to `deliver` (its text); a file `deliver` accepted is
    /// marked delivered. Returns how many files were delivered.
    pub async fn rotate_and_deliver<F, Fut>(&self, mut deliver: F) -> std::io::Result<usize>
    where
        F: FnMut(String) -> Fut,
        Fut: std::future::Future<Output = Result<(), String>>,
    {
        let Some(inner) = &self.0 else { return Ok(0) };
        self.rotate().await?;
        let dir = inner.dir.clone();
        let pending = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<PathBuf>> {
            let mut pending: Vec<PathBuf> = std::fs::read_dir(&dir)?
                .filter_map(|entry| entry.ok())
                .map(|entry| entry.path())
                .filter(|path| {
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    name.ends_with(journal::ROTATED)
                        && !name.ends_with(journal::DELIVERED)
                        && journal::rotated_at(&name).is_some()
                })
                .collect();
            pending.sort();
            Ok(pending)
        })
        .await
        .map_err(std::io::Error::other)??;
        let mut delivered = 0;
        for path in pending {
            let text = tokio::fs::read_to_string(&path).await?;
            if let Err(err) = deliver(text).await {
                tracing::warn!(%err, file = %path.display(), "audit delivery failed; it is tried again later");
                break;
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let marked = name.replace(journal::ROTATED, journal::DELIVERED);
            tokio::fs::rename(&path, path.with_file_name(marked)).await?;
            tokio::fs::File::open(&inner.dir).await?.sync_all().await?;
            delivered += 1;
        }
        Ok(delivered)
    }
}
