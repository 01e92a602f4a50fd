//! S3 versioning: a key's versions as rows, and the in-transaction steps every object write
//! is made of (find and lock the latest version, remove a version, make a new one latest).
//!
//! The rules, as S3 documents them: in a bucket that never enabled versioning every object is
//! its one `null` version; with versioning Enabled each write adds a version with a new id and
//! a plain delete adds a delete marker; Suspended writes and plain deletes replace the `null`
//! version (wherever it is in the history) with the newest one. Deleting a version by id
//! removes exactly that row, and the next newest becomes latest.

use std::sync::LazyLock;

use sqlx::Row;

use crate::object_lock::{BucketLock, ObjectLock};
use crate::objects::{NULL_VERSION, NewBytes, NewObject, ObjectPart, WriteCondition, metadata_json};
use crate::{Result, StoreError};

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// The row of version `version_id` of `key` (without one: its latest version), with its
/// `version_id` and the named `columns`, for a change to that version's settings. A delete
/// marker has no settings to change (`MethodNotAllowed`).
pub(crate) async fn find_version(
    tx: &mut Tx<'_>,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    columns: &str,
) -> Result<sqlx::any::AnyRow> {
    let which = if version_id.is_some() {
        "version_id = $3"
    } else {
        "is_latest = 1"
    };
    let query = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT version_id, is_delete_marker, {columns} FROM objects WHERE bucket = $1 AND object_key = $2 AND {which}"
    )))
    .bind(bucket)
    .bind(key.as_bytes().to_vec());
    let query = match version_id {
        Some(id) => query.bind(id),
        None => query,
    };
    let row = query.fetch_optional(&mut **tx).await?.ok_or(match version_id {
        Some(_) => StoreError::NoSuchVersion,
        None => StoreError::NoSuchKey,
    })?;
    if row.try_get::<i64, _>("is_delete_marker")? != 0 {
        return Err(StoreError::MethodNotAllowed);
    }
    Ok(row)
}

/// A bucket's versioning state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Versioning {
    /// Never enabled: no `x-amz-version-id`, and nothing but `null` versions.
    #[default]
    Unversioned,
    Enabled,
    Suspended,
}

impl Versioning {
    /// As S3 names it (`None`: never configured).
    pub fn status(self) -> Option<&'static str> {
        match self {
            Versioning::Unversioned => None,
            Versioning::Enabled => Some("Enabled"),
            Versioning::Suspended => Some("Suspended"),
        }
    }

    pub(crate) fn from_column(column: Option<&str>) -> Versioning {
        match column {
            Some("Enabled") => Versioning::Enabled,
            Some("Suspended") => Versioning::Suspended,
            _ => Versioning::Unversioned,
        }
    }
}

/// A version id for the version in place `order` among its key's versions: 32 URL-safe
/// characters, as long as S3's, never `null`. The place is written into the id (then 16
/// random bytes), so a listing can resume after a version that has since been deleted.
pub fn new_version_id(order: i64) -> String {
    use base64::Engine;
    use rand::Rng;
    let mut bytes = [0u8; 24];
    bytes[..8].copy_from_slice(&order.to_be_bytes());
    rand::rng().fill(&mut bytes[8..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The place among its key's versions that a (non-`null`) version id was made for.
pub(crate) fn order_of(version_id: &str) -> Option<i64> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(version_id)
        .ok()?;
    let order: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    (bytes.len() == 24).then(|| i64::from_be_bytes(order))
}

/// Serialises every write to one key across nodes (PostgreSQL; SQLite has one writer): taken
/// first in each object write, so a write reads the key's versions only after every earlier
/// write to it committed, and two writes of one key never hold each other's rows. The lock
/// is a hash of the key, and batches take them in hash order (see `lock_id`).
pub(crate) async fn lock_key(tx: &mut Tx<'_>, bucket: &str, key: &str) -> Result<()> {
    if crate::db::is_postgres(tx) {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(lock_id(bucket, key))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The advisory lock of a key: 64 bits of a hash of bucket and key.
pub(crate) fn lock_id(bucket: &str, key: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(bucket.as_bytes())
        .chain_update([0u8])
        .chain_update(key.as_bytes())
        .finalize();
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// Whether `id` could name a version: `null`, or one of Coffer's ids. Anything else is
/// S3's "Invalid version id specified".
pub fn is_version_id(id: &str) -> bool {
    id == NULL_VERSION || (id.len() == 32 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// The latest version of a key, as a write sees it.
pub(crate) struct Latest {
    pub version_id: String,
    pub etag: String,
    pub is_delete_marker: bool,
    pub last_modified: i64,
    /// What replacing it in place must know: the blob it leaves unused (none when its bytes
    /// are kept in `object_bodies`), whether it has parts (then it is removed and inserted
    /// anew), and whether Object Lock keeps it.
    pub blob_id: Option<String>,
    pub parts_count: i64,
    pub lock: ObjectLock,
}

impl Latest {
    fn from_row(row: &sqlx::any::AnyRow) -> Result<Latest> {
        Ok(Latest {
            version_id: row.try_get("version_id")?,
            etag: row.try_get("etag")?,
            is_delete_marker: row.try_get::<i64, _>("is_delete_marker")? != 0,
            last_modified: row.try_get("last_modified")?,
            blob_id: row.try_get("blob_id")?,
            parts_count: row.try_get("parts_count")?,
            lock: ObjectLock::from_row(row)?,
        })
    }

    /// Whether a write of the `null` version may overwrite this row in place: it is the
    /// `null` version itself, an object of one blob (or none). The new version then takes
    /// its place as newest, and its row keeps the same key, order and latest mark, so only
    /// the table and the blob index change instead of six B-trees twice.
    fn is_replaceable_null(&self) -> bool {
        self.version_id == NULL_VERSION && !self.is_delete_marker && self.parts_count == 0
    }
}

/// What a write is judged against in its bucket: versioning and Object Lock.
pub(crate) struct BucketState {
    pub versioning: Versioning,
    pub lock: Option<BucketLock>,
}

pub(crate) async fn bucket_state(tx: &mut Tx<'_>, bucket: &str) -> Result<BucketState> {
    let row = sqlx::query(
        "SELECT versioning, object_lock_enabled, lock_default_mode, lock_default_days, lock_default_years \
         FROM buckets WHERE name = $1",
    )
    .bind(bucket)
    .fetch_optional(&mut **tx)
    .await?;
    BucketState::from_row(&row.ok_or(StoreError::NoSuchBucket)?)
}

impl BucketState {
    fn from_row(row: &sqlx::any::AnyRow) -> Result<BucketState> {
        Ok(BucketState {
            versioning: Versioning::from_column(row.try_get::<Option<String>, _>("versioning")?.as_deref()),
            lock: BucketLock::from_row(row)?,
        })
    }
}

/// The columns of `BUCKET_STATE_AND_LATEST`: the bucket's (`b`) state, and its key's latest
/// version (`o`).
pub(crate) const STATE_AND_LATEST_COLUMNS: &str = "b.versioning, b.object_lock_enabled, b.lock_default_mode, \
    b.lock_default_days, b.lock_default_years, o.version_id, o.etag, o.is_delete_marker, o.last_modified, o.blob_id, \
    o.parts_count, o.lock_mode, o.lock_until, o.legal_hold";

/// `bucket_state` and `latest` in one row (SQLite): a key without a latest version gives
/// NULLs for its columns. Bucket `$1`, key `$2`.
pub(crate) static BUCKET_STATE_AND_LATEST: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {STATE_AND_LATEST_COLUMNS} FROM buckets b \
         LEFT JOIN objects o ON o.bucket = b.name AND o.object_key = $2 AND o.is_latest = 1 WHERE b.name = $1"
    )
});

/// The bucket's state and the key's latest version, for a write. SQLite reads both in one
/// statement: each statement is a trip to its writer thread and back, on every PUT. (On
/// PostgreSQL the latest version is locked, which an outer join cannot do.)
pub(crate) async fn bucket_state_and_latest(
    tx: &mut Tx<'_>,
    bucket: &str,
    key: &str,
    condition: &WriteCondition,
) -> Result<(BucketState, Option<Latest>)> {
    if crate::db::is_postgres(tx) {
        let state = bucket_state(tx, bucket).await?;
        return Ok((state, latest(tx, bucket, key, condition).await?));
    }
    let row = sqlx::query(BUCKET_STATE_AND_LATEST.as_str())
        .bind(bucket)
        .bind(key.as_bytes().to_vec())
        .fetch_optional(&mut **tx)
        .await?;
    state_and_latest(row.as_ref())
}

/// The bucket's state and the key's latest version from a `BUCKET_STATE_AND_LATEST` row (none:
/// no such bucket).
pub(crate) fn state_and_latest(row: Option<&sqlx::any::AnyRow>) -> Result<(BucketState, Option<Latest>)> {
    let row = row.ok_or(StoreError::NoSuchBucket)?;
    let latest = match row.try_get::<Option<String>, _>("version_id")? {
        None => None,
        Some(_) => Some(Latest::from_row(row)?),
    };
    Ok((BucketState::from_row(row)?, latest))
}

/// The key's latest version, locked (PostgreSQL) so that two nodes writing one key take
/// turns, the second seeing the first's result.
pub(crate) async fn latest(
    tx: &mut Tx<'_>,
    bucket: &str,
    key: &str,
    condition: &WriteCondition,
) -> Result<Option<Latest>> {
    let locks = crate::db::is_postgres(tx);
    let select = if locks {
        "SELECT version_id, etag, is_delete_marker, last_modified, blob_id, parts_count, lock_mode, \
         lock_until, legal_hold FROM objects WHERE bucket = $1 AND object_key = $2 AND is_latest = 1 FOR UPDATE"
    } else {
        "SELECT version_id, etag, is_delete_marker, last_modified, blob_id, parts_count, lock_mode, \
         lock_until, legal_hold FROM objects WHERE bucket = $1 AND object_key = $2 AND is_latest = 1"
    };
    let read = async |tx: &mut Tx<'_>| -> Result<Option<Latest>> {
        let row = sqlx::query(select)
            .bind(bucket)
            .bind(key.as_bytes().to_vec())
            .fetch_optional(&mut **tx)
            .await?;
        row.as_ref().map(Latest::from_row).transpose()
    };
    let mut current = read(tx).await?;
    let compares = matches!(
        condition,
        WriteCondition::IfMatch(_) | WriteCondition::IfNoneMatch(_) | WriteCondition::IfLatestIs { .. }
    );
    if current.is_none() && compares && locks {
        // Waiting on a row another node demoted or removed meanwhile finds nothing; its
        // replacement is there to read now, and a condition must be judged against it.
        current = read(tx).await?;
    }
    Ok(current)
}

/// Judges S3's conditional write headers against the latest version (a delete marker is no
/// object).
pub(crate) fn check_condition(condition: &WriteCondition, latest: Option<&Latest>) -> Result<()> {
    if let WriteCondition::IfLatestIs { etag, last_modified } = condition {
        let same = latest.is_some_and(|l| !l.is_delete_marker && l.etag == *etag && l.last_modified == *last_modified);
        return if same {
            Ok(())
        } else {
            Err(StoreError::PreconditionFailed)
        };
    }
    let etag = latest.filter(|l| !l.is_delete_marker).map(|l| l.etag.as_str());
    match (condition, etag) {
        (WriteCondition::IfAbsent, Some(_)) => Err(StoreError::PreconditionFailed),
        (WriteCondition::IfMatch(_), None) => Err(StoreError::NoSuchKey),
        (WriteCondition::IfMatch(want), Some(etag)) if want != "*" && want != etag => {
            Err(StoreError::PreconditionFailed)
        }
        (WriteCondition::IfNoneMatch(want), Some(etag)) if want == etag => Err(StoreError::PreconditionFailed),
        _ => Ok(()),
    }
}

/// A version row a write removed.
pub(crate) struct Removed {
    /// Its blob and part blobs, to remove once the transaction commits.
    pub blobs: Vec<String>,
    pub was_latest: bool,
    pub was_delete_marker: bool,
    pub etag: String,
    pub last_modified: i64,
}

/// Removes one version's row (and its parts); `None` if the key has no such version,
/// `ObjectLocked` if Object Lock protects it (`bypass`: from a governance retention).
pub(crate) async fn remove_version(
    tx: &mut Tx<'_>,
    bucket: &str,
    key: &str,
    version_id: &str,
    bypass: bool,
) -> Result<Option<Removed>> {
    let row = sqlx::query(
        "SELECT blob_id, parts_count, is_latest, is_delete_marker, etag, last_modified, lock_mode, lock_until, \
         legal_hold \
         FROM objects \
         WHERE bucket = $1 AND object_key = $2 AND version_id = $3",
    )
    .bind(bucket)
    .bind(key.as_bytes().to_vec())
    .bind(version_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    if !ObjectLock::from_row(&row)?.permits_delete(crate::object_lock::now(), bypass) {
        return Err(StoreError::ObjectLocked);
    }
    let was_delete_marker = row.try_get::<i64, _>("is_delete_marker")? != 0;
    let blobs = match row.try_get::<Option<String>, _>("blob_id")? {
        Some(blob) => vec![blob],
        // A delete marker has no bytes, and a small object's go with its row (a cascade).
        None if row.try_get::<i64, _>("parts_count")? == 0 => Vec::new(),
        // Only a version without a blob has parts: a single-blob overwrite is spared a query.
        None => {
            sqlx::query_scalar(
                "SELECT blob_id FROM object_parts WHERE bucket = $1 AND object_key = $2 AND version_id = $3",
            )
            .bind(bucket)
            .bind(key.as_bytes().to_vec())
            .bind(version_id)
            .fetch_all(&mut **tx)
            .await?
        }
    };
    sqlx::query("DELETE FROM objects WHERE bucket = $1 AND object_key = $2 AND version_id = $3")
        .bind(bucket)
        .bind(key.as_bytes().to_vec())
        .bind(version_id)
        .execute(&mut **tx)
        .await?;
    Ok(Some(Removed {
        blobs,
        was_latest: row.try_get::<i64, _>("is_latest")? != 0,
        was_delete_marker,
        etag: row.try_get("etag")?,
        last_modified: row.try_get("last_modified")?,
    }))
}

/// Makes the key's newest remaining version latest (after the latest one was removed).
pub(crate) async fn promote_newest(tx: &mut Tx<'_>, bucket: &str, key: &str) -> Result<()> {
    sqlx::query(
        "UPDATE objects SET is_latest = 1 WHERE bucket = $1 AND object_key = $2 AND version_order = \
         (SELECT MIN(version_order) FROM objects WHERE bucket = $1 AND object_key = $2)",
    )
    .bind(bucket)
    .bind(key.as_bytes().to_vec())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What a new version row holds: an object's metadata and bytes, or nothing (a delete marker).
pub(crate) enum NewVersion<'a> {
    Object {
        object: &'a NewObject,
        bytes: Option<&'a NewBytes>,
        parts: &'a [ObjectPart],
    },
    DeleteMarker {
        key: &'a str,
    },
}

impl NewVersion<'_> {
    fn key(&self) -> &str {
        match self {
            NewVersion::Object { object, .. } => &object.key,
            NewVersion::DeleteMarker { key } => key,
        }
    }
}

/// Whether a write's new version has a latest version to make noncurrent: the one it read,
/// unless it removed that one already.
pub(crate) fn has_latest_left(latest: Option<&Latest>, removed: Option<&Removed>) -> bool {
    latest.is_some() && !removed.is_some_and(|r| r.was_latest)
}

/// Adds `version` as the key's latest version, the previous latest becoming noncurrent (when
/// `demote`: the caller knows whether one is left): the `null` version when `null`,
/// otherwise with a new id. Returns the id. Each statement skipped here is one fewer trip
/// through the database's writer on every PUT.
pub(crate) async fn insert_latest(
    tx: &mut Tx<'_>,
    bucket: &str,
    version: NewVersion<'_>,
    null: bool,
    demote: bool,
    last_modified: i64,
) -> Result<String> {
    let key = version.key().as_bytes().to_vec();
    // Two writers computing the same order collide on the unique index and one tries again.
    // A new id is made from its order, so that is read first; the `null` version's order is
    // found by the INSERT itself (`None` below).
    let order: Option<i64> = match null {
        true => None,
        false => Some(
            sqlx::query_scalar(
                "SELECT COALESCE(MIN(version_order), 1) - 1 FROM objects WHERE bucket = $1 AND object_key = $2",
            )
            .bind(bucket)
            .bind(key.clone())
            .fetch_one(&mut **tx)
            .await?,
        ),
    };
    let version_id = match order {
        None => NULL_VERSION.to_owned(),
        Some(order) => new_version_id(order),
    };
    let empty = NewObject {
        key: String::new(),
        size: 0,
        etag: String::new(),
        headers: Default::default(),
        checksum: None,
        lock: ObjectLock::default(),
        tags: Vec::new(),
        acl: Default::default(),
        storage_class: None,
        encryption: None,
    };
    let (object, bytes, parts, marker) = match version {
        NewVersion::Object { object, bytes, parts } => (object, bytes, parts, false),
        NewVersion::DeleteMarker { .. } => (&empty, None, &[][..], true),
    };
    let with_row = bytes_with_row(tx, bytes).filter(|_| parts.is_empty());
    let sql = match (with_row, demote) {
        (Some(_), true) => DEMOTE_AND_INSERT_VERSION_WITH_BODY.as_str(),
        (Some(_), false) => INSERT_VERSION_WITH_BODY.as_str(),
        (None, _) => INSERT_VERSION.as_str(),
    };
    if demote && with_row.is_none() {
        sqlx::query(DEMOTE)
            .bind(bucket)
            .bind(key.clone())
            .execute(&mut **tx)
            .await?;
    }
    let query = sqlx::query(sql)
        .bind(bucket)
        .bind(key.clone())
        .bind(&version_id)
        .bind(order)
        .bind(i64::from(marker));
    bind_body(
        bind_contents(query, object, bytes, parts.len(), last_modified),
        with_row,
    )
    .execute(&mut **tx)
    .await
    .map_err(no_such_bucket)?;
    if with_row.is_none() {
        keep_body(tx, bucket, &key, &version_id, bytes, false).await?;
    }
    for part in parts {
        sqlx::query(
            "INSERT INTO object_parts (bucket, object_key, version_id, part_number, blob_id, size, etag, checksum_value) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(bucket)
        .bind(key.clone())
        .bind(&version_id)
        .bind(part.part_number as i64)
        .bind(&part.blob_id)
        .bind(part.size as i64)
        .bind(&part.etag)
        .bind(&part.checksum_value)
        .execute(&mut **tx)
        .await?;
    }
    Ok(version_id)
}

/// A version's own columns, everything but where it sits among its key's versions: what a
/// new version's INSERT and an in-place overwrite of the `null` version both write, bound in
/// this order by `bind_contents`.
const CONTENTS: [&str; 25] = [
    "size",
    "etag",
    "last_modified",
    "blob_id",
    "parts_count",
    "content_type",
    "cache_control",
    "content_disposition",
    "content_encoding",
    "content_language",
    "expires",
    "user_metadata",
    "checksum_algorithm",
    "checksum_type",
    "checksum_value",
    "lock_mode",
    "lock_until",
    "legal_hold",
    "tags",
    "owner_account",
    "acl",
    "storage_class",
    "sse",
    "sse_key",
    "sse_kms",
];

/// A new latest version: bucket, key, id, order (`NULL`: one less than the key's smallest,
/// found by the INSERT itself), whether it is a delete marker, then `CONTENTS`.
static INSERT_VERSION: LazyLock<String> = LazyLock::new(|| {
    let values: Vec<String> = (6..6 + CONTENTS.len()).map(|n| format!("${n}")).collect();
    format!(
        "INSERT INTO objects (bucket, object_key, version_id, version_order, is_latest, is_delete_marker, {}) \
         VALUES ($1, $2, $3, \
         COALESCE($4, (SELECT COALESCE(MIN(version_order), 1) - 1 FROM objects WHERE bucket = $1 AND object_key = $2)), \
         1, $5, {})",
        CONTENTS.join(", "),
        values.join(", ")
    )
});

/// The key's latest version made noncurrent: bucket, key.
const DEMOTE: &str = "UPDATE objects SET is_latest = 0 WHERE bucket = $1 AND object_key = $2 AND is_latest = 1";

/// A small object's bytes kept for a version, replacing any it had: bucket `$1`, key `$2`,
/// `version` (a parameter or a literal), then body id and bytes from parameter `first` on.
fn upsert_body(version: &str, first: usize) -> String {
    format!(
        "INSERT INTO object_bodies (bucket, object_key, version_id, body_id, body) \
         VALUES ($1, $2, {version}, ${first}, ${}) \
         ON CONFLICT (bucket, object_key, version_id) DO UPDATE SET body_id = excluded.body_id, body = excluded.body",
        first + 1
    )
}

/// `upsert_body` on its own: bucket, key, version id, body id, bytes.
static KEEP_BODY: LazyLock<String> = LazyLock::new(|| upsert_body("$3", 4));

/// `INSERT_VERSION`, then the small object's bytes kept for it, in one command (SQLite only,
/// see `REPLACE_NULL_WITH_BODY`).
pub(crate) static INSERT_VERSION_WITH_BODY: LazyLock<String> =
    LazyLock::new(|| format!("{}; {}", INSERT_VERSION.as_str(), upsert_body("$3", CONTENTS.len() + 6)));

/// `DEMOTE` and `INSERT_VERSION_WITH_BODY` in one command (SQLite only).
pub(crate) static DEMOTE_AND_INSERT_VERSION_WITH_BODY: LazyLock<String> =
    LazyLock::new(|| format!("{DEMOTE}; {}", INSERT_VERSION_WITH_BODY.as_str()));

/// The `null` version overwritten in place: bucket, key, then `CONTENTS`.
static REPLACE_NULL: LazyLock<String> = LazyLock::new(|| {
    let set: Vec<String> = CONTENTS
        .iter()
        .zip(3..)
        .map(|(column, n)| format!("{column} = ${n}"))
        .collect();
    format!(
        "UPDATE objects SET {} WHERE bucket = $1 AND object_key = $2 AND version_id = '{NULL_VERSION}'",
        set.join(", ")
    )
});

/// `REPLACE_NULL`, then the small object's bytes kept for the `null` version, in one
/// command: on SQLite each command is a trip to its writer thread and back, so this saves a
/// PUT's overwrite one of its three. SQLite only (PostgreSQL prepares one statement per query
/// with parameters).
pub(crate) static REPLACE_NULL_WITH_BODY: LazyLock<String> = LazyLock::new(|| {
    let null = format!("'{NULL_VERSION}'");
    format!("{}; {}", REPLACE_NULL.as_str(), upsert_body(&null, CONTENTS.len() + 3))
});

pub(crate) type Query<'q> = sqlx::query::Query<'q, sqlx::Any, <sqlx::Any as sqlx::Database>::Arguments>;

/// A small object's kept bytes (body id and bytes) to send in its row's own command: on
/// SQLite only, see `REPLACE_NULL_WITH_BODY`.
fn bytes_with_row<'b>(tx: &Tx<'_>, bytes: Option<&'b NewBytes>) -> Option<(&'b str, &'b [u8])> {
    match bytes {
        Some(NewBytes::Inline { id, bytes }) if !crate::db::is_postgres(tx) => Some((id, bytes)),
        _ => None,
    }
}

/// Binds the kept bytes `bytes_with_row` found, if any, after a query's other parameters.
pub(crate) fn bind_body<'q>(query: Query<'q>, with_row: Option<(&'q str, &'q [u8])>) -> Query<'q> {
    match with_row {
        Some((id, bytes)) => query.bind(id).bind(bytes),
        None => query,
    }
}

/// Binds `CONTENTS` of `object` after a query's other parameters.
pub(crate) fn bind_contents<'q>(
    query: Query<'q>,
    object: &NewObject,
    bytes: Option<&NewBytes>,
    parts_count: usize,
    last_modified: i64,
) -> Query<'q> {
    let checksum = object.checksum.as_ref();
    let retention = object.lock.retention;
    let sse = crate::Encryption::columns(object.encryption.as_ref());
    query
        .bind(object.size as i64)
        .bind(&object.etag)
        .bind(last_modified)
        .bind(bytes.and_then(NewBytes::blob_id))
        .bind(parts_count as i64)
        .bind(&object.headers.content_type)
        .bind(&object.headers.cache_control)
        .bind(&object.headers.content_disposition)
        .bind(&object.headers.content_encoding)
        .bind(&object.headers.content_language)
        .bind(&object.headers.expires)
        .bind(metadata_json(&object.headers))
        .bind(checksum.map(|c| c.algorithm.clone()))
        .bind(checksum.map(|c| c.checksum_type.clone()))
        .bind(checksum.map(|c| c.value.clone()))
        .bind(retention.map(|r| r.mode.as_str()))
        .bind(retention.map(|r| crate::model::to_millis(r.until)))
        .bind(i64::from(object.lock.legal_hold))
        .bind(crate::tagging::to_json(&object.tags))
        .bind(&object.acl.owner)
        .bind(crate::acl::grants_json(object.acl.grants.as_deref()))
        .bind(&object.storage_class)
        .bind(sse.0)
        .bind(sse.1)
        .bind(sse.2)
}

/// Keeps a small object's bytes for version `version_id` (replacing any it had), or, for a
/// version now without them, removes the ones it had (`had`: it may have had some).
async fn keep_body(
    tx: &mut Tx<'_>,
    bucket: &str,
    key: &[u8],
    version_id: &str,
    bytes: Option<&NewBytes>,
    had: bool,
) -> Result<()> {
    match bytes {
        Some(NewBytes::Inline { id, bytes }) => {
            sqlx::query(KEEP_BODY.as_str())
                .bind(bucket)
                .bind(key.to_vec())
                .bind(version_id)
                .bind(id)
                .bind(bytes.as_ref())
                .execute(&mut **tx)
                .await?;
        }
        _ if had => {
            sqlx::query("DELETE FROM object_bodies WHERE bucket = $1 AND object_key = $2 AND version_id = $3")
                .bind(bucket)
                .bind(key.to_vec())
                .bind(version_id)
                .execute(&mut **tx)
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Overwrites the key's `null` version, `replaced`, which is its latest
/// (`Latest::is_replaceable_null`), with `object`: one statement in place of a DELETE and an
/// INSERT (and one for a small object's bytes).
async fn replace_null(
    tx: &mut Tx<'_>,
    bucket: &str,
    replaced: &Latest,
    object: &NewObject,
    bytes: Option<&NewBytes>,
    last_modified: i64,
) -> Result<()> {
    let with_row = bytes_with_row(tx, bytes);
    // The UPDATE's row, and the bytes' (inserted or replaced) when they go with it.
    let (sql, rows) = match with_row {
        Some(_) => (REPLACE_NULL_WITH_BODY.as_str(), 2),
        None => (REPLACE_NULL.as_str(), 1),
    };
    let query = sqlx::query(sql).bind(bucket).bind(object.key.as_bytes().to_vec());
    let done = bind_body(bind_contents(query, object, bytes, 0, last_modified), with_row)
        .execute(&mut **tx)
        .await?;
    // The key's write lock (PostgreSQL) or its one writer (SQLite) held the row since it was
    // read, so another count cannot happen; if it did, the write must not be acknowledged.
    if done.rows_affected() != rows {
        return Err(StoreError::Corrupt("the null version changed while it was replaced"));
    }
    if with_row.is_some() {
        return Ok(());
    }
    let had_body = replaced.blob_id.is_none();
    keep_body(tx, bucket, object.key.as_bytes(), NULL_VERSION, bytes, had_body).await
}

fn no_such_bucket(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NoSuchBucket,
        other => StoreError::Db(other),
    }
}

/// What writing a new object version did.
pub(crate) struct WrittenVersion {
    pub version_id: String,
    /// The blobs of the `null` version it replaced, to remove once the transaction commits.
    pub unused_blobs: Vec<String>,
    /// The lock the version took: its own, or the bucket's default retention.
    pub lock: ObjectLock,
}

/// How a PUT writes its version, once its bucket's state and its key's latest version are
/// known (`plan_put`).
pub(crate) enum PutStep<'l> {
    /// The `null` version, the key's latest, overwritten in place
    /// (`Latest::is_replaceable_null`).
    ReplaceNull(&'l Latest),
    /// A new latest version: the `null` version when `null` (any other `null` version
    /// removed first), otherwise one with a new id.
    Add { null: bool },
}

/// Judges a PUT of `object` (`has_parts`: a completed multipart upload) against its bucket's
/// state and its key's latest version, as `write_object` describes: the lock the new version
/// takes, and how it is written.
pub(crate) fn plan_put<'l>(
    state: &BucketState,
    latest: Option<&'l Latest>,
    object: &NewObject,
    has_parts: bool,
    condition: &WriteCondition,
    last_modified: i64,
) -> Result<(ObjectLock, PutStep<'l>)> {
    let mut lock = object.lock;
    match &state.lock {
        None if lock != ObjectLock::default() => return Err(StoreError::ObjectLockNotEnabled),
        None => {}
        Some(bucket_lock) if lock.retention.is_none() => {
            lock.retention = bucket_lock
                .default_retention
                .map(|d| d.from(crate::model::from_millis(last_modified)));
        }
        Some(_) => {}
    }
    check_condition(condition, latest)?;
    let null = state.versioning != Versioning::Enabled;
    match latest.filter(|l| null && !has_parts && l.is_replaceable_null()) {
        Some(replaced) if !replaced.lock.permits_delete(crate::object_lock::now(), false) => {
            Err(StoreError::ObjectLocked)
        }
        Some(replaced) => Ok((lock, PutStep::ReplaceNull(replaced))),
        None => Ok((lock, PutStep::Add { null })),
    }
}

/// Writes `object` as its key's newest version, if `condition` holds, following the bucket's
/// versioning: a new version id when Enabled, otherwise the `null` version replaced. A bucket
/// with Object Lock gives a version without its own retention the default one; a bucket
/// without refuses a lock (`InvalidBucketState`).
pub(crate) async fn write_object(
    tx: &mut Tx<'_>,
    bucket: &str,
    object: &NewObject,
    bytes: Option<&NewBytes>,
    parts: &[ObjectPart],
    condition: &WriteCondition,
    last_modified: i64,
) -> Result<WrittenVersion> {
    lock_key(tx, bucket, &object.key).await?;
    let (state, latest) = bucket_state_and_latest(tx, bucket, &object.key, condition).await?;
    let (lock, step) = plan_put(
        &state,
        latest.as_ref(),
        object,
        !parts.is_empty(),
        condition,
        last_modified,
    )?;
    let locked = NewObject { lock, ..object.clone() };
    let null = match step {
        PutStep::ReplaceNull(replaced) => {
            replace_null(tx, bucket, replaced, &locked, bytes, last_modified).await?;
            return Ok(WrittenVersion {
                version_id: NULL_VERSION.to_owned(),
                unused_blobs: replaced.blob_id.iter().cloned().collect(),
                lock,
            });
        }
        PutStep::Add { null } => null,
    };
    let removed = match null {
        false => None,
        true => remove_version(tx, bucket, &object.key, NULL_VERSION, false).await?,
    };
    let demote = has_latest_left(latest.as_ref(), removed.as_ref());
    let version = NewVersion::Object {
        object: &locked,
        bytes,
        parts,
    };
    let version_id = insert_latest(tx, bucket, version, null, demote, last_modified).await?;
    Ok(WrittenVersion {
        version_id,
        unused_blobs: removed.map(|r| r.blobs).unwrap_or_default(),
        lock,
    })
}

/// What a DeleteObject did, as S3 reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Deleted {
    /// The version removed, or the delete marker added (`None`: an unversioned bucket's
    /// plain delete, which reports no version).
    pub version_id: Option<String>,
    /// Whether a delete marker was added, or the version removed was one.
    pub delete_marker: bool,
    /// Whether anything was there to delete (a delete marker is always added).
    pub existed: bool,
    pub(crate) unused_blobs: Vec<String>,
}

/// Deletes `version_id` of `key`, or (without one) deletes the key as the bucket's versioning
/// says: removes the `null` version, and adds a delete marker unless the bucket is unversioned.
pub(crate) async fn delete(
    tx: &mut Tx<'_>,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    condition: &WriteCondition,
    bypass_governance: bool,
    last_modified: i64,
) -> Result<Deleted> {
    lock_key(tx, bucket, key).await?;
    if let Some(version_id) = version_id {
        // Conditions name the object's current state; a version delete names a version.
        let Some(removed) = remove_version(tx, bucket, key, version_id, bypass_governance).await? else {
            bucket_state(tx, bucket).await?;
            return Ok(Deleted {
                version_id: Some(version_id.to_owned()),
                ..Deleted::default()
            });
        };
        let holds = match condition {
            WriteCondition::IfMatch(want) => want == "*" || *want == removed.etag,
            WriteCondition::IfNoncurrent { last_modified } => {
                !removed.was_latest && removed.last_modified == *last_modified
            }
            WriteCondition::IfLoneDeleteMarker { last_modified } => {
                let others: Option<i64> =
                    sqlx::query_scalar("SELECT 1 FROM objects WHERE bucket = $1 AND object_key = $2 LIMIT 1")
                        .bind(bucket)
                        .bind(key.as_bytes().to_vec())
                        .fetch_optional(&mut **tx)
                        .await?;
                removed.was_latest
                    && removed.was_delete_marker
                    && removed.last_modified == *last_modified
                    && others.is_none()
            }
            _ => true,
        };
        if !holds {
            return Err(StoreError::PreconditionFailed);
        }
        if removed.was_latest {
            promote_newest(tx, bucket, key).await?;
        }
        return Ok(Deleted {
            version_id: Some(version_id.to_owned()),
            delete_marker: removed.was_delete_marker,
            existed: true,
            unused_blobs: removed.blobs,
        });
    }
    let (state, latest) = bucket_state_and_latest(tx, bucket, key, condition).await?;
    let versioning = state.versioning;
    check_condition(condition, latest.as_ref())?;
    let existed = latest.as_ref().is_some_and(|l| !l.is_delete_marker);
    match versioning {
        Versioning::Enabled => {}
        Versioning::Unversioned | Versioning::Suspended => {
            let removed = remove_version(tx, bucket, key, NULL_VERSION, bypass_governance).await?;
            let unused_blobs = removed.as_ref().map(|r| r.blobs.clone()).unwrap_or_default();
            if versioning == Versioning::Unversioned {
                return Ok(Deleted {
                    version_id: None,
                    delete_marker: false,
                    existed: removed.is_some(),
                    unused_blobs,
                });
            }
            let marker = NewVersion::DeleteMarker { key };
            let demote = has_latest_left(latest.as_ref(), removed.as_ref());
            insert_latest(tx, bucket, marker, true, demote, last_modified).await?;
            return Ok(Deleted {
                version_id: Some(NULL_VERSION.to_owned()),
                delete_marker: true,
                existed,
                unused_blobs,
            });
        }
    }
    let marker = NewVersion::DeleteMarker { key };
    let marker_id = insert_latest(tx, bucket, marker, false, latest.is_some(), last_modified).await?;
    Ok(Deleted {
        version_id: Some(marker_id),
        delete_marker: true,
        existed,
        unused_blobs: Vec::new(),
    })
}
