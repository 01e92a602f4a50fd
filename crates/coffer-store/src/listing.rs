//! Listing a bucket's keys in byte order with S3's prefix, delimiter and paging rules.
//!
//! The walk seeks instead of scanning: it reads the keys after a cursor in small batches, and
//! when it meets a common prefix it jumps past every key under it with one new seek. A page
//! therefore costs about `max_keys` rows plus one query per common prefix, whatever the bucket
//! holds. The rules live in [`list`], over any [`KeySource`], so they are tested against a
//! plain in-memory model as well as SQL. The same walk lists current objects (one entry per
//! key) and every version (a key's versions newest first, resumable after any version).

use time::OffsetDateTime;

use crate::model::from_millis;
use crate::objects::key_from_row;
use crate::{Result, Store};

/// What a listing says about one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectSummary {
    pub key: String,
    pub size: u64,
    pub etag: String,
    pub last_modified: OffsetDateTime,
    pub checksum_algorithm: Option<String>,
    pub checksum_type: Option<String>,
    /// The storage class its writer named (`None`: STANDARD).
    pub storage_class: Option<String>,
    /// The owning account, when not the bucket's owner.
    pub owner: Option<String>,
}

/// What ListObjectVersions says about one version or delete marker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionSummary {
    pub key: String,
    pub version_id: String,
    pub is_latest: bool,
    pub is_delete_marker: bool,
    pub size: u64,
    pub etag: String,
    pub last_modified: OffsetDateTime,
    pub checksum_algorithm: Option<String>,
    pub checksum_type: Option<String>,
    pub storage_class: Option<String>,
    pub owner: Option<String>,
    /// Its place among the key's versions (see the `version_order` column).
    pub(crate) order: i64,
}

/// An entry a listing walks over: its key, and where a listing resumes after it.
pub trait Listed {
    fn key(&self) -> &str;
    fn resume(&self) -> Seek;
}

impl Listed for ObjectSummary {
    fn key(&self) -> &str {
        &self.key
    }

    fn resume(&self) -> Seek {
        Seek::After(self.key.as_bytes().to_vec())
    }
}

impl Listed for VersionSummary {
    fn key(&self) -> &str {
        &self.key
    }

    fn resume(&self) -> Seek {
        Seek::AfterVersion(self.key.as_bytes().to_vec(), self.order)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListEntry<T = ObjectSummary> {
    Object(T),
    CommonPrefix(String),
}

impl<T: Listed> ListEntry<T> {
    /// The key or common prefix: where the next page resumes.
    pub fn name(&self) -> &str {
        match self {
            ListEntry::Object(object) => object.key(),
            ListEntry::CommonPrefix(prefix) => prefix,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct ListQuery<'a> {
    pub prefix: &'a str,
    pub delimiter: Option<&'a str>,
    /// Resume after this key, or after everything under this common prefix.
    pub after: Option<&'a str>,
    /// A version listing resumes within `after`'s versions, after the version in this place.
    pub after_version: Option<i64>,
    pub max_keys: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListPage<T = ObjectSummary> {
    pub entries: Vec<ListEntry<T>>,
    pub is_truncated: bool,
}

/// Where a batch of entries starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seek {
    After(Vec<u8>),
    AtOrAfter(Vec<u8>),
    /// After this version of the key: its older versions, then the keys after it.
    AfterVersion(Vec<u8>, i64),
}

/// Entries in key order, a batch at a time.
pub trait KeySource {
    type Item: Listed + Send;

    fn batch(&mut self, seek: &Seek, limit: usize) -> impl Future<Output = Result<Vec<Self::Item>>> + Send;
}

/// The common prefix `key` rolls up into, if any.
fn common_prefix<'k>(key: &'k str, prefix: &str, delimiter: Option<&str>) -> Option<&'k str> {
    let delimiter = delimiter.filter(|d| !d.is_empty())?;
    let rest = key.get(prefix.len()..)?;
    let at = rest.find(delimiter)?;
    Some(&key[..prefix.len() + at + delimiter.len()])
}

/// The smallest byte string greater than every string starting with `prefix` (`None`: none).
fn past(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut bound = prefix.to_vec();
    while let Some(last) = bound.pop() {
        if last < u8::MAX {
            bound.push(last + 1);
            return Some(bound);
        }
    }
    None
}

/// Where a listing starts: at the prefix, or after the cursor (skipping the whole common
/// prefix when the cursor is one, as a continuation from a page that ended on it is).
fn first_seek(query: &ListQuery<'_>) -> Option<Seek> {
    let at_prefix = Seek::AtOrAfter(query.prefix.as_bytes().to_vec());
    let Some(after) = query.after else {
        return Some(at_prefix);
    };
    if after < query.prefix {
        return Some(at_prefix);
    }
    match (common_prefix(after, query.prefix, query.delimiter), query.after_version) {
        (Some(cp), _) if cp == after => past(cp.as_bytes()).map(Seek::AtOrAfter),
        (_, Some(order)) => Some(Seek::AfterVersion(after.as_bytes().to_vec(), order)),
        (_, None) => Some(Seek::After(after.as_bytes().to_vec())),
    }
}

/// One page of a listing.
pub async fn list<S: KeySource>(source: &mut S, query: &ListQuery<'_>) -> Result<ListPage<S::Item>> {
    let mut entries: Vec<ListEntry<S::Item>> = Vec::new();
    let batch_size = (query.max_keys + 1).clamp(2, 1001);
    // S3 answers max-keys=0 with an empty, untruncated page.
    if query.max_keys == 0 {
        return Ok(ListPage {
            entries,
            is_truncated: false,
        });
    }
    let Some(mut seek) = first_seek(query) else {
        return Ok(ListPage {
            entries,
            is_truncated: false,
        });
    };
    loop {
        let batch = source.batch(&seek, batch_size).await?;
        let full_batch = batch.len() == batch_size;
        let mut jumped = false;
        for object in batch {
            if !object.key().starts_with(query.prefix) {
                return Ok(ListPage {
                    entries,
                    is_truncated: false,
                });
            }
            if entries.len() == query.max_keys {
                return Ok(ListPage {
                    entries,
                    is_truncated: true,
                });
            }
            if let Some(cp) = common_prefix(object.key(), query.prefix, query.delimiter) {
                entries.push(ListEntry::CommonPrefix(cp.to_owned()));
                match past(cp.as_bytes()) {
                    Some(bound) => seek = Seek::AtOrAfter(bound),
                    None => {
                        return Ok(ListPage {
                            entries,
                            is_truncated: false,
                        });
                    }
                }
                jumped = true;
                break;
            }
            seek = object.resume();
            entries.push(ListEntry::Object(object));
        }
        if !jumped && !full_batch {
            return Ok(ListPage {
                entries,
                is_truncated: false,
            });
        }
    }
}

/// The current objects of one bucket, from SQL.
struct BucketKeys<'s> {
    store: &'s Store,
    bucket: &'s str,
}

impl KeySource for BucketKeys<'_> {
    type Item = ObjectSummary;

    async fn batch(&mut self, seek: &Seek, limit: usize) -> Result<Vec<ObjectSummary>> {
        let (op, bound) = match seek {
            Seek::After(key) | Seek::AfterVersion(key, _) => (">", key),
            Seek::AtOrAfter(key) => (">=", key),
        };
        // Through the index of live latest versions: older versions and delete markers are
        // never walked past.
        let sql = format!(
            "SELECT object_key, size, etag, last_modified, checksum_algorithm, checksum_type, storage_class, \
             owner_account FROM objects \
             WHERE bucket = $1 AND object_key {op} $2 AND is_latest = 1 AND is_delete_marker = 0 \
             ORDER BY object_key LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.bucket)
            .bind(bound.clone())
            .bind(limit as i64)
            .fetch_all(&self.store.inner.reader)
            .await?;
        rows.iter()
            .map(|row| {
                use sqlx::Row;
                Ok(ObjectSummary {
                    key: key_from_row(row)?,
                    size: row.try_get::<i64, _>("size")? as u64,
                    etag: row.try_get("etag")?,
                    last_modified: from_millis(row.try_get("last_modified")?),
                    checksum_algorithm: row.try_get("checksum_algorithm")?,
                    checksum_type: row.try_get("checksum_type")?,
                    storage_class: row.try_get("storage_class")?,
                    owner: row.try_get("owner_account")?,
                })
            })
            .collect()
    }
}

/// Every version of one bucket's keys, from SQL: keys in byte order, each key's versions
/// newest first (ascending `version_order`), so one row-value seek resumes anywhere.
struct BucketVersions<'s> {
    store: &'s Store,
    bucket: &'s str,
}

impl KeySource for BucketVersions<'_> {
    type Item = VersionSummary;

    async fn batch(&mut self, seek: &Seek, limit: usize) -> Result<Vec<VersionSummary>> {
        const COLUMNS: &str = "object_key, version_id, version_order, is_latest, is_delete_marker, size, etag, \
             last_modified, checksum_algorithm, checksum_type, storage_class, owner_account";
        let (condition, key, order) = match seek {
            Seek::After(key) => ("object_key > $2", key, None),
            Seek::AtOrAfter(key) => ("object_key >= $2", key, None),
            Seek::AfterVersion(key, order) => ("(object_key, version_order) > ($2, $4)", key, Some(*order)),
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM objects WHERE bucket = $1 AND {condition} \
             ORDER BY object_key, version_order LIMIT $3"
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.bucket)
            .bind(key.clone())
            .bind(limit as i64);
        let query = match order {
            Some(order) => query.bind(order),
            None => query,
        };
        let rows = query.fetch_all(&self.store.inner.reader).await?;
        rows.iter()
            .map(|row| {
                use sqlx::Row;
                Ok(VersionSummary {
                    key: key_from_row(row)?,
                    version_id: row.try_get("version_id")?,
                    is_latest: row.try_get::<i64, _>("is_latest")? != 0,
                    is_delete_marker: row.try_get::<i64, _>("is_delete_marker")? != 0,
                    size: row.try_get::<i64, _>("size")? as u64,
                    etag: row.try_get("etag")?,
                    last_modified: from_millis(row.try_get("last_modified")?),
                    checksum_algorithm: row.try_get("checksum_algorithm")?,
                    checksum_type: row.try_get("checksum_type")?,
                    storage_class: row.try_get("storage_class")?,
                    owner: row.try_get("owner_account")?,
                    order: row.try_get("version_order")?,
                })
            })
            .collect()
    }
}

impl Store {
    /// One page of a bucket's current objects.
    pub async fn list_objects(&self, bucket: &str, query: &ListQuery<'_>) -> Result<ListPage> {
        list(&mut BucketKeys { store: self, bucket }, query).await
    }

    /// One page of a bucket's versions and delete markers. A page resumes after
    /// `version_marker` of `query.after` when given, otherwise after every version of
    /// `query.after`. A marker deleted since the last page still says where it was (its id
    /// holds its place); only a vanished `null` marker resumes after the key, and a
    /// version-id marker that is neither is `NoSuchVersion`.
    pub async fn list_object_versions(
        &self,
        bucket: &str,
        query: &ListQuery<'_>,
        version_marker: Option<&str>,
    ) -> Result<ListPage<VersionSummary>> {
        let mut query = query.clone();
        if let (Some(after), Some(version)) = (query.after, version_marker) {
            let order: Option<i64> = sqlx::query_scalar(
                "SELECT version_order FROM objects WHERE bucket = $1 AND object_key = $2 AND version_id = $3",
            )
            .bind(bucket)
            .bind(after.as_bytes().to_vec())
            .bind(version)
            .fetch_optional(&self.inner.reader)
            .await?;
            query.after_version = match (order, crate::versions::order_of(version)) {
                (Some(order), _) | (None, Some(order)) => Some(order),
                (None, None) if version == crate::NULL_VERSION => None,
                (None, None) => return Err(crate::StoreError::NoSuchVersion),
            };
        }
        list(&mut BucketVersions { store: self, bucket }, &query).await
    }
}

#[cfg(test)]
mod tests;
