//! Listing a bucket's keys in byte order with S3's prefix, delimiter and paging rules.
//!
//! The walk seeks instead of scanning: it reads the keys after a cursor in small batches, and
//! when it meets a common prefix it jumps past every key under it with one new seek. A page
//! therefore costs about `max_keys` rows plus one query per common prefix, whatever the bucket
//! holds. The rules live in [`list`], over any [`KeySource`], so they are tested against a
//! plain in-memory model as well as SQL.

use time::OffsetDateTime;

use crate::model::from_millis;
use crate::objects::{NULL_VERSION, key_from_row};
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
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListEntry {
    Object(ObjectSummary),
    CommonPrefix(String),
}

impl ListEntry {
    /// The key or common prefix: where the next page resumes.
    pub fn name(&self) -> &str {
        match self {
            ListEntry::Object(object) => &object.key,
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
    pub max_keys: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListPage {
    pub entries: Vec<ListEntry>,
    pub is_truncated: bool,
}

/// Where a batch of keys starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seek {
    After(Vec<u8>),
    AtOrAfter(Vec<u8>),
}

/// Keys in byte order, a batch at a time.
pub trait KeySource {
    fn batch(&mut self, seek: &Seek, limit: usize) -> impl Future<Output = Result<Vec<ObjectSummary>>> + Send;
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
    match common_prefix(after, query.prefix, query.delimiter) {
        Some(cp) if cp == after => past(cp.as_bytes()).map(Seek::AtOrAfter),
        _ => Some(Seek::After(after.as_bytes().to_vec())),
    }
}

/// One page of a listing.
pub async fn list(source: &mut impl KeySource, query: &ListQuery<'_>) -> Result<ListPage> {
    let mut entries: Vec<ListEntry> = Vec::new();
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
            if !object.key.starts_with(query.prefix) {
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
            if let Some(cp) = common_prefix(&object.key, query.prefix, query.delimiter) {
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
            seek = Seek::After(object.key.as_bytes().to_vec());
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
    async fn batch(&mut self, seek: &Seek, limit: usize) -> Result<Vec<ObjectSummary>> {
        let (op, bound) = match seek {
            Seek::After(key) => (">", key),
            Seek::AtOrAfter(key) => (">=", key),
        };
        let sql = format!(
            "SELECT object_key, size, etag, last_modified, checksum_algorithm, checksum_type FROM objects \
             WHERE bucket = $1 AND object_key {op} $2 AND version_id = $3 AND is_delete_marker = 0 \
             ORDER BY object_key LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.bucket)
            .bind(bound.clone())
            .bind(NULL_VERSION)
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
}

#[cfg(test)]
mod tests;
