//! Object metadata: which blob(s) hold an object's bytes, and everything S3 returns about it.
//!
//! A write commits the new row and only then removes the blobs of the version it replaced, so
//! a reader sees the old object or the new one, never a mix; a crash in between leaves an
//! orphan blob that the next start collects.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::acl::ObjectAcl;
use crate::commits::Batched;
use crate::model::{from_millis, now_millis};
use crate::object_cache::KeyWrite;
use crate::object_lock::ObjectLock;
use crate::versions::{self, Deleted};
use crate::{Result, Store, StoreError};

/// The version id of every object in a bucket that never enabled versioning.
pub const NULL_VERSION: &str = "null";

/// The HTTP headers an object keeps and returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectHeaders {
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
    pub content_language: Option<String>,
    pub expires: Option<String>,
    /// `x-amz-meta-*`, names lowercase, without the prefix.
    pub user_metadata: BTreeMap<String, String>,
}

/// A stored checksum as S3 reports it: algorithm (`CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`,
/// `SHA256`), type (`FULL_OBJECT` or `COMPOSITE`) and base64 value (`…-N` when composite).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectChecksum {
    pub algorithm: String,
    pub checksum_type: String,
    pub value: String,
}

/// The most bytes (as stored: sealed, when encrypted) an object keeps with its row (in
/// `object_bodies`) instead of a blob file. On a journaled ext4 at 16 clients, against blob
/// files: 4 KiB PUTs 1.76-1.84x a second at 0.54x the CPU (no file, no fsyncs of its own),
/// 16 KiB 1.45-1.65x, 32 KiB 0.92-1.16x, 60 KiB 0.92-0.94x (the one SQLite writer then
/// carries more bytes than the blob files' parallel fsyncs cost).
pub const MAX_INLINE_BODY: usize = 32 * 1024;

/// Where an object's bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectData {
    Blob(String),
    /// A completed multipart upload's parts, in order.
    Parts(Vec<ObjectPart>),
    /// A small object's bytes, kept in its row (sealed, when it is encrypted, under the key
    /// of `id` as a blob's would be).
    Inline {
        id: String,
        bytes: bytes::Bytes,
    },
}

/// A single-part object's bytes as written: a durable blob, or a small object's bytes to
/// keep in its row (see `put_object`).
#[derive(Clone, Debug)]
pub enum NewBytes {
    Blob(String),
    Inline { id: String, bytes: bytes::Bytes },
}

impl From<String> for NewBytes {
    fn from(blob_id: String) -> NewBytes {
        NewBytes::Blob(blob_id)
    }
}

impl NewBytes {
    pub(crate) fn blob_id(&self) -> Option<&str> {
        match self {
            NewBytes::Blob(id) => Some(id),
            NewBytes::Inline { .. } => None,
        }
    }

    fn into_data(self) -> ObjectData {
        match self {
            NewBytes::Blob(id) => ObjectData::Blob(id),
            NewBytes::Inline { id, bytes } => ObjectData::Inline { id, bytes },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectMeta {
    pub bucket: String,
    pub key: String,
    pub version_id: String,
    pub size: u64,
    /// Without quotes: 32 hex digits, or `<hex>-<parts>` for a multipart object.
    pub etag: String,
    pub last_modified: OffsetDateTime,
    pub headers: ObjectHeaders,
    pub checksum: Option<ObjectChecksum>,
    pub data: ObjectData,
    /// A delete marker has no bytes, headers or checksum.
    pub is_delete_marker: bool,
    pub is_latest: bool,
    pub lock: ObjectLock,
    /// Its tags, in the order given.
    pub tags: Vec<crate::Tag>,
    /// Its owner and ACL.
    pub acl: ObjectAcl,
    /// The storage class its writer named (`None`: STANDARD).
    pub storage_class: Option<String>,
    /// How its bytes are encrypted at rest (`None`: in the clear).
    pub encryption: Option<crate::Encryption>,
}

/// One part of a multipart object (or of an upload in progress).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectPart {
    pub part_number: u32,
    pub blob_id: String,
    pub size: u64,
    pub etag: String,
    /// The part's checksum in the object's algorithm, base64.
    pub checksum_value: Option<String>,
}

/// What a write needs besides the bytes.
#[derive(Clone, Debug)]
pub struct NewObject {
    pub key: String,
    pub size: u64,
    pub etag: String,
    pub headers: ObjectHeaders,
    pub checksum: Option<ObjectChecksum>,
    /// Retention and legal hold asked for (a bucket's default retention fills in none).
    pub lock: ObjectLock,
    pub tags: Vec<crate::Tag>,
    pub acl: ObjectAcl,
    pub storage_class: Option<String>,
    /// How its blob was encrypted as written.
    pub encryption: Option<crate::Encryption>,
}

/// S3's conditional writes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum WriteCondition {
    #[default]
    Always,
    /// `If-None-Match: *`: only if no object has the key.
    IfAbsent,
    /// `If-Match: <etag>`: only if the current object has this ETag (`*`: any object).
    IfMatch(String),
    /// `If-None-Match: <etag>`: unless the current object has this ETag.
    IfNoneMatch(String),
    /// Only if the latest version is still the object a lifecycle pass judged.
    IfLatestIs { etag: String, last_modified: i64 },
    /// A version delete: only if the version is still noncurrent, and the one judged.
    IfNoncurrent { last_modified: i64 },
    /// A version delete: only if the version is still a delete marker that is all its key
    /// has, and the one judged.
    IfLoneDeleteMarker { last_modified: i64 },
}

pub(crate) const OBJECT_COLUMNS: &str = "bucket, object_key, version_id, is_latest, is_delete_marker, size, etag, last_modified, blob_id, \
     parts_count, content_type, cache_control, content_disposition, content_encoding, content_language, expires, \
     user_metadata, checksum_algorithm, checksum_type, checksum_value, lock_mode, lock_until, legal_hold, tags, owner_account, acl, storage_class, sse, sse_key, sse_kms";

pub(crate) fn key_from_row(row: &AnyRow) -> Result<String> {
    let bytes: Vec<u8> = row.try_get("object_key")?;
    String::from_utf8(bytes).map_err(|_| StoreError::Corrupt("an object key is not UTF-8"))
}

pub(crate) fn headers_from_row(row: &AnyRow) -> Result<ObjectHeaders> {
    let metadata: String = row.try_get("user_metadata")?;
    Ok(ObjectHeaders {
        content_type: row.try_get("content_type")?,
        cache_control: row.try_get("cache_control")?,
        content_disposition: row.try_get("content_disposition")?,
        content_encoding: row.try_get("content_encoding")?,
        content_language: row.try_get("content_language")?,
        expires: row.try_get("expires")?,
        user_metadata: serde_json::from_str(&metadata).map_err(|_| StoreError::Corrupt("user metadata"))?,
    })
}

pub(crate) fn metadata_json(headers: &ObjectHeaders) -> String {
    serde_json::to_string(&headers.user_metadata).unwrap_or_else(|_| "{}".to_owned())
}

pub(crate) fn object_from_row(row: &AnyRow) -> Result<ObjectMeta> {
    let blob_id: Option<String> = row.try_get("blob_id")?;
    // A small object's bytes, joined from `object_bodies` (see `fetch_object`).
    let body_id: Option<String> = row.try_get("body_id")?;
    let body: Option<Vec<u8>> = row.try_get("body")?;
    let parts_count: i64 = row.try_get("parts_count")?;
    let is_delete_marker = row.try_get::<i64, _>("is_delete_marker")? != 0;
    let algorithm: Option<String> = row.try_get("checksum_algorithm")?;
    let checksum = match algorithm {
        Some(algorithm) => Some(ObjectChecksum {
            algorithm,
            checksum_type: row.try_get::<Option<String>, _>("checksum_type")?.unwrap_or_default(),
            value: row.try_get::<Option<String>, _>("checksum_value")?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(ObjectMeta {
        bucket: row.try_get("bucket")?,
        key: key_from_row(row)?,
        version_id: row.try_get("version_id")?,
        size: row.try_get::<i64, _>("size")? as u64,
        etag: row.try_get("etag")?,
        last_modified: from_millis(row.try_get("last_modified")?),
        headers: headers_from_row(row)?,
        checksum,
        data: match (blob_id, body_id, body) {
            (Some(id), _, _) => ObjectData::Blob(id),
            (None, Some(id), Some(body)) => ObjectData::Inline { id, bytes: body.into() },
            // An object with neither a blob nor parts keeps its bytes in `object_bodies`: a
            // row without them would read as empty, never as what was written.
            (None, _, _) if parts_count == 0 && !is_delete_marker => {
                return Err(StoreError::Corrupt("an object's bytes are missing"));
            }
            // Filled in by `Store::object` from the same read transaction.
            _ => ObjectData::Parts(Vec::with_capacity(parts_count as usize)),
        },
        is_delete_marker,
        is_latest: row.try_get::<i64, _>("is_latest")? != 0,
        lock: ObjectLock::from_row(row)?,
        tags: crate::tagging::from_json(row.try_get("tags")?)?,
        acl: ObjectAcl::from_row(row)?,
        storage_class: row.try_get("storage_class")?,
        encryption: crate::Encryption::from_row(row)?,
    })
}

/// Builds the metadata of an object as it was just written.
pub(crate) fn written_object(
    bucket: &str,
    object: NewObject,
    version_id: String,
    data: ObjectData,
    last_modified: i64,
) -> ObjectMeta {
    ObjectMeta {
        bucket: bucket.to_owned(),
        key: object.key,
        version_id,
        size: object.size,
        etag: object.etag,
        last_modified: from_millis(last_modified),
        headers: object.headers,
        checksum: object.checksum,
        data,
        is_delete_marker: false,
        is_latest: true,
        lock: object.lock,
        tags: object.tags,
        acl: object.acl,
        storage_class: object.storage_class,
        encryption: object.encryption,
    }
}

impl Store {
    /// Makes `bytes` (a durable blob, or a small object's bytes for its row) the current
    /// object at `object.key`, if `condition` holds (committed with other writes queued at the
    /// same time: see `commits.rs`). On any error the blob is removed: nothing of a failed
    /// write stays behind.
    pub async fn put_object(
        &self,
        bucket: &str,
        object: NewObject,
        bytes: impl Into<NewBytes>,
        condition: &WriteCondition,
    ) -> Result<ObjectMeta> {
        let bytes = bytes.into();
        let write = Write::Put {
            bucket: bucket.to_owned(),
            object: Box::new(object.clone()),
            bytes: bytes.clone(),
            condition: condition.clone(),
            _writing: self.inner.objects.writing(bucket, &object.key),
        };
        match self.inner.commits.write(write).await {
            Ok(written) => {
                self.blobs().remove(&written.unused_blobs).await;
                let object = NewObject {
                    lock: written.lock,
                    ..object
                };
                Ok(written_object(
                    bucket,
                    object,
                    written.deleted.version_id.unwrap_or_default(),
                    bytes.into_data(),
                    written.last_modified,
                ))
            }
            // A commit whose outcome is unknown may have made the blob the object's: orphan
            // collection removes it later if no row names it.
            Err(err @ StoreError::CommitUnknown(_)) => Err(err),
            Err(err) => {
                if let NewBytes::Blob(blob_id) = bytes {
                    self.blobs().remove(&[blob_id]).await;
                }
                Err(err)
            }
        }
    }

    /// The current object at `key`, if there is one (not a delete marker), with its parts.
    pub async fn object(&self, bucket: &str, key: &str) -> Result<Option<ObjectMeta>> {
        let latest = self.object_version(bucket, key, None).await?;
        Ok(latest.filter(|object| !object.is_delete_marker))
    }

    /// Version `version_id` of `key` (without one: its latest version), delete markers
    /// included, with its parts. A single-blob object is one row; a multipart object's row
    /// and parts come from one read transaction, so an overwrite committing meanwhile cannot
    /// pair this object's row with another's parts.
    pub async fn object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Option<ObjectMeta>> {
        // The latest version may be known already (see `object_cache.rs`).
        let ticket = match version_id {
            Some(_) => None,
            None => match self.inner.objects.get(bucket, key) {
                Ok(latest) => return Ok(Some(latest)),
                Err(ticket) => ticket,
            },
        };
        let object = self.read_object_version(bucket, key, version_id).await?;
        if let (Some(ticket), Some(object)) = (ticket, &object) {
            self.inner.objects.fill(ticket, object);
        }
        Ok(object)
    }

    /// [`Store::object_version`] from SQL.
    async fn read_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Option<ObjectMeta>> {
        let object = fetch_object(&self.inner.reader, bucket, key, version_id).await?;
        if !matches!(object.as_ref().map(|o| &o.data), Some(ObjectData::Parts(_)))
            || object.as_ref().is_some_and(|o| o.is_delete_marker)
        {
            return Ok(object);
        }
        // One snapshot for the row and its parts: PostgreSQL's default isolation takes a new
        // one per statement, so it is asked for repeatable read.
        let mut tx = match self.inner.backend {
            crate::Backend::Sqlite => self.inner.reader.begin().await?,
            crate::Backend::Postgres => {
                self.inner
                    .reader
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        };
        let Some(mut object) = fetch_object(&mut *tx, bucket, key, version_id).await? else {
            return Ok(None);
        };
        if let ObjectData::Parts(parts) = &mut object.data {
            let rows = sqlx::query(
                "SELECT part_number, blob_id, size, etag, checksum_value FROM object_parts \
                 WHERE bucket = $1 AND object_key = $2 AND version_id = $3 ORDER BY part_number",
            )
            .bind(bucket)
            .bind(key.as_bytes().to_vec())
            .bind(&object.version_id)
            .fetch_all(&mut *tx)
            .await?;
            *parts = rows.iter().map(part_from_row).collect::<Result<_>>()?;
        }
        tx.commit().await?;
        Ok(Some(object))
    }

    /// Deletes `version_id` of `key`, or without one deletes the key as the bucket's
    /// versioning says (see [`crate::versions`]), if `condition` holds (checked in the same
    /// transaction as the delete).
    pub async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        condition: &WriteCondition,
        bypass_governance: bool,
    ) -> Result<Deleted> {
        let write = Write::Delete {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version_id: version_id.map(str::to_owned),
            condition: condition.clone(),
            bypass_governance,
            _writing: self.inner.objects.writing(bucket, key),
        };
        let written = self.inner.commits.write(write).await?;
        self.blobs().remove(&written.unused_blobs).await;
        Ok(written.deleted)
    }

    /// Removes the temp files and the blobs no object or upload names, of those untouched
    /// for `grace`. Safe beside other nodes writing to the same data dir: a file being written,
    /// or written and not yet committed, is younger than any sensible grace. Memory stays
    /// bounded: files are checked against the database a batch at a time.
    pub async fn collect_orphan_blobs(&self, grace: std::time::Duration) -> Result<usize> {
        let mut removed = 0;
        let mut candidates = self.inner.blobs.old_files(grace);
        loop {
            // Directory reads block: a batch at a time, off the async threads.
            let (rest, batch) = tokio::task::spawn_blocking(move || {
                let batch: Vec<_> = candidates.by_ref().take(ORPHAN_BATCH).collect();
                (candidates, batch)
            })
            .await
            .map_err(std::io::Error::other)?;
            candidates = rest;
            if batch.is_empty() {
                break;
            }
            let ids: Vec<&str> = batch.iter().filter_map(|f| f.blob_id.as_deref()).collect();
            let referenced = self.referenced_blobs(&ids).await?;
            let unused: Vec<std::path::PathBuf> = batch
                .into_iter()
                .filter(|f| f.blob_id.as_ref().is_none_or(|id| !referenced.contains(id)))
                .map(|f| f.path)
                .collect();
            removed += tokio::task::spawn_blocking(move || crate::blobs::remove_files(&unused))
                .await
                .map_err(std::io::Error::other)?;
        }
        Ok(removed)
    }

    /// Which of `ids` an object, an object part or an upload part names.
    async fn referenced_blobs(&self, ids: &[&str]) -> Result<std::collections::HashSet<String>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let list = |from: usize| {
            (0..ids.len())
                .map(|i| format!("${}", from + i))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // The parameters are bound; only their numbers are written into the SQL.
        let sql = format!(
            "SELECT blob_id FROM objects WHERE blob_id IN ({0}) \
             UNION SELECT blob_id FROM object_parts WHERE blob_id IN ({0}) \
             UNION SELECT blob_id FROM upload_parts WHERE blob_id IN ({0})",
            list(1)
        );
        let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(*id);
        }
        Ok(query.fetch_all(&self.inner.reader).await?.into_iter().collect())
    }

    pub fn blobs(&self) -> &crate::BlobStore {
        &self.inner.blobs
    }
}

/// Files checked against the database at a time by orphan collection.
const ORPHAN_BATCH: usize = 500;

/// A version's row, or the latest version's (a multipart object's parts not yet filled in).
async fn fetch_object<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<Option<ObjectMeta>> {
    let which = match version_id {
        Some(_) => "version_id = $3",
        None => "is_latest = 1",
    };
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {OBJECT_COLUMNS}, body_id, body FROM objects LEFT JOIN object_bodies \
         USING (bucket, object_key, version_id) WHERE bucket = $1 AND object_key = $2 AND {which}"
    )))
    .bind(bucket)
    .bind(key.as_bytes().to_vec());
    let row = match version_id {
        Some(id) => row.bind(id),
        None => row,
    };
    let row = row.fetch_optional(executor).await?;
    row.as_ref().map(object_from_row).transpose()
}

pub(crate) fn part_from_row(row: &AnyRow) -> Result<ObjectPart> {
    Ok(ObjectPart {
        part_number: row.try_get::<i64, _>("part_number")? as u32,
        blob_id: row.try_get("blob_id")?,
        size: row.try_get::<i64, _>("size")? as u64,
        etag: row.try_get("etag")?,
        checksum_value: row.try_get("checksum_value")?,
    })
}

/// An object write for the group commit (see `commits.rs`). Each holds its key's
/// [`KeyWrite`] until the committer is done with it (committed or rolled back).
pub(crate) enum Write {
    Put {
        bucket: String,
        object: Box<NewObject>,
        bytes: NewBytes,
        condition: WriteCondition,
        _writing: KeyWrite,
    },
    Delete {
        bucket: String,
        key: String,
        version_id: Option<String>,
        condition: WriteCondition,
        /// A governance retention does not stop this delete (the caller may and said so).
        bypass_governance: bool,
        _writing: KeyWrite,
    },
}

/// How often a write whose key another node wrote meanwhile is tried again.
const MAX_WRITE_ATTEMPTS: u32 = 16;

/// What a write did: its time, the version it wrote or deleted, and the blobs it made unused
/// (to remove after the commit).
pub(crate) struct Written {
    pub last_modified: i64,
    pub unused_blobs: Vec<String>,
    /// For a put, the new version's id; for a delete, what it did.
    pub deleted: Deleted,
    /// For a put, the lock the new version took (its own, or the bucket's default).
    pub lock: ObjectLock,
}

impl Write {
    pub(crate) fn bucket_and_key(&self) -> (&str, &str) {
        match self {
            Write::Put { bucket, object, .. } => (bucket, &object.key),
            Write::Delete { bucket, key, .. } => (bucket, key),
        }
    }

    pub(crate) async fn apply_once(&self, tx: &mut Tx<'_>) -> Result<Written> {
        let last_modified = now_millis();
        match self {
            Write::Put {
                bucket,
                object,
                bytes,
                condition,
                ..
            } => {
                let written =
                    versions::write_object(tx, bucket, object, Some(bytes), &[], condition, last_modified).await?;
                Ok(Written::put(last_modified, written))
            }
            Write::Delete {
                bucket,
                key,
                version_id,
                condition,
                bypass_governance,
                ..
            } => {
                let version = version_id.as_deref();
                let mut deleted =
                    versions::delete(tx, bucket, key, version, condition, *bypass_governance, last_modified).await?;
                Ok(Written {
                    last_modified,
                    unused_blobs: std::mem::take(&mut deleted.unused_blobs),
                    deleted,
                    lock: ObjectLock::default(),
                })
            }
        }
    }
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

impl Written {
    pub(crate) fn put(last_modified: i64, written: versions::WrittenVersion) -> Written {
        Written {
            last_modified,
            unused_blobs: written.unused_blobs,
            deleted: Deleted {
                version_id: Some(written.version_id),
                ..Deleted::default()
            },
            lock: written.lock,
        }
    }
}

impl Batched for Write {
    type Output = Written;

    fn lock_order(&self) -> Vec<u8> {
        let (bucket, key) = self.bucket_and_key();
        // The order of the key locks each write takes first (see `versions::lock_key`).
        versions::lock_id(bucket, key).to_be_bytes().to_vec()
    }

    fn apply_all<'t, 'c: 't>(
        writes: &'t [&'t Write],
        tx: &'t mut sqlx::Transaction<'c, sqlx::Any>,
    ) -> impl Future<Output = Result<Vec<Result<Written>>>> + Send + 't {
        crate::small_puts::apply_all(writes, tx)
    }

    async fn apply<'t, 'c: 't>(&'t self, tx: &'t mut sqlx::Transaction<'c, sqlx::Any>) -> Result<Written> {
        // SQLite has one writer, so no other write can come between: the committer's undo
        // (its rollback, or its savepoint) is all a failed write needs, and two fewer
        // statements pass through SQLite's worker thread.
        if !crate::db::is_postgres(tx) {
            return self.apply_once(tx).await;
        }
        // Two nodes writing one key at once: the second's new latest version meets the
        // first's once that commits. Under If-None-Match: * that is the failed condition; any
        // other write goes on top of it, as it would have a moment later.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let mut attempt = sqlx::Acquire::begin(&mut **tx).await?;
            match self.apply_once(&mut attempt).await {
                Ok(written) => {
                    attempt.commit().await?;
                    return Ok(written);
                }
                // Each conflict means another writer committed: bounded, this still ends
                // with every write applied in some order.
                Err(StoreError::Db(sqlx::Error::Database(db)))
                    if db.is_unique_violation() && attempts < MAX_WRITE_ATTEMPTS =>
                {
                    attempt.rollback().await?;
                    if let Write::Put {
                        condition: WriteCondition::IfAbsent,
                        ..
                    } = self
                    {
                        return Err(StoreError::PreconditionFailed);
                    }
                }
                Err(err) => {
                    // Rolled back here, not on drop, so the depth the committer checks is
                    // already right.
                    attempt.rollback().await?;
                    return Err(err);
                }
            }
        }
    }
}
