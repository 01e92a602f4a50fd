//! S3 tagging: a version's tags (set with the version, or by Put/DeleteObjectTagging) and a
//! bucket's. Tags are kept on the row as a JSON list of `[key, value]` pairs, in the order
//! given; the S3 layer validates them.

use sqlx::Row;

use crate::epochs::Cache;
use crate::model::Tag;
use crate::{Result, Store, StoreError};

/// Tags as stored (`None`: no tags).
pub(crate) fn to_json(tags: &[Tag]) -> Option<String> {
    if tags.is_empty() {
        return None;
    }
    let pairs: Vec<(&str, &str)> = tags.iter().map(|t| (t.key.as_str(), t.value.as_str())).collect();
    serde_json::to_string(&pairs).ok()
}

/// Tags from a row's column.
pub(crate) fn from_json(column: Option<String>) -> Result<Vec<Tag>> {
    let Some(json) = column else { return Ok(Vec::new()) };
    let pairs: Vec<(String, String)> = serde_json::from_str(&json).map_err(|_| StoreError::Corrupt("tags"))?;
    Ok(pairs.into_iter().map(|(key, value)| Tag { key, value }).collect())
}

impl Store {
    /// Replaces the tags of version `version_id` of `key` (without one: its latest version);
    /// returns the version's id. A delete marker has none to set (`MethodNotAllowed`).
    pub async fn set_object_tags(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        tags: &[Tag],
    ) -> Result<String> {
        let scope = self.object_write_scope(bucket, key);
        let mut tx = self.begin_write().await?;
        crate::versions::lock_key(&mut tx, bucket, key).await?;
        let row = crate::versions::find_version(&mut tx, bucket, key, version_id, "tags").await?;
        let version: String = row.try_get("version_id")?;
        sqlx::query("UPDATE objects SET tags = $4 WHERE bucket = $1 AND object_key = $2 AND version_id = $3")
            .bind(bucket)
            .bind(key.as_bytes().to_vec())
            .bind(&version)
            .bind(to_json(tags))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        scope.finish();
        Ok(version)
    }

    /// The tags of version `version_id` of `key` (without one: its latest version); `None`
    /// when there is no such version or it is a delete marker.
    pub async fn object_tags(&self, bucket: &str, key: &str, version_id: Option<&str>) -> Result<Option<Vec<Tag>>> {
        let which = if version_id.is_some() {
            "version_id = $3"
        } else {
            "is_latest = 1"
        };
        let query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT tags FROM objects WHERE bucket = $1 AND object_key = $2 AND is_delete_marker = 0 AND {which}"
        )))
        .bind(bucket)
        .bind(key.as_bytes().to_vec());
        let query = match version_id {
            Some(id) => query.bind(id),
            None => query,
        };
        match query.fetch_optional(&self.inner.reader).await? {
            Some(row) => Ok(Some(from_json(row.try_get("tags")?)?)),
            None => Ok(None),
        }
    }

    /// Sets (with `None` or none, deletes) a bucket's tags.
    pub async fn set_bucket_tags(&self, bucket: &str, tags: &[Tag]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query("UPDATE buckets SET tags = $2 WHERE name = $1")
            .bind(bucket)
            .bind(to_json(tags))
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NoSuchBucket);
        }
        self.commit_changed(tx, Cache::Buckets).await
    }
}
