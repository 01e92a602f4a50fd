//! Multipart uploads: an upload row, one row per part (each part its own blob), and the
//! completion that turns chosen parts into an object's parts without copying a byte.

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::acl::ObjectAcl;
use crate::model::{from_millis, now_millis};
use crate::object_lock::ObjectLock;
use crate::objects::{
    NewObject, ObjectData, ObjectHeaders, ObjectMeta, ObjectPart, WriteCondition, headers_from_row, key_from_row,
    metadata_json, written_object,
};
use crate::{Result, Store, StoreError, ids};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    pub upload_id: String,
    pub bucket: String,
    pub key: String,
    pub initiated: OffsetDateTime,
    pub initiator_arn: String,
    pub initiator_id: String,
    pub headers: ObjectHeaders,
    /// The algorithm parts are checksummed with (`CRC32`…), and the object's checksum type.
    pub checksum_algorithm: Option<String>,
    pub checksum_type: Option<String>,
    /// The retention and legal hold its object will have.
    pub lock: ObjectLock,
    /// The tags its object will have.
    pub tags: Vec<crate::Tag>,
    /// The owner and ACL its object will have.
    pub acl: ObjectAcl,
    /// The storage class its object will have (`None`: STANDARD).
    pub storage_class: Option<String>,
    /// How its parts (and so its object) are encrypted at rest.
    pub encryption: Option<crate::Encryption>,
}

/// A part as uploaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadedPart {
    pub part: ObjectPart,
    pub last_modified: OffsetDateTime,
    /// The part's CRC64NVME, base64: kept for every part so the default full-object checksum
    /// can be combined without reading the bytes again.
    pub crc64nvme: String,
}

/// How long a completed upload is remembered, for completions retried after a lost response.
const COMPLETED_UPLOADS_KEPT_MILLIS: i64 = 24 * 60 * 60 * 1000;

const UPLOAD_COLUMNS: &str = "upload_id, bucket, object_key, initiated, initiator_arn, initiator_id, content_type, \
     cache_control, content_disposition, content_encoding, content_language, expires, user_metadata, \
     checksum_algorithm, checksum_type, lock_mode, lock_until, legal_hold, tags, owner_account, acl, storage_class, \
     sse, sse_key, sse_kms";

fn upload_from_row(row: &AnyRow) -> Result<Upload> {
    Ok(Upload {
        upload_id: row.try_get("upload_id")?,
        bucket: row.try_get("bucket")?,
        key: key_from_row(row)?,
        initiated: from_millis(row.try_get("initiated")?),
        initiator_arn: row.try_get("initiator_arn")?,
        initiator_id: row.try_get("initiator_id")?,
        headers: headers_from_row(row)?,
        checksum_algorithm: row.try_get("checksum_algorithm")?,
        checksum_type: row.try_get("checksum_type")?,
        lock: ObjectLock::from_row(row)?,
        tags: crate::tagging::from_json(row.try_get("tags")?)?,
        acl: ObjectAcl::from_row(row)?,
        storage_class: row.try_get("storage_class")?,
        encryption: crate::Encryption::from_row(row)?,
    })
}

fn uploaded_part_from_row(row: &AnyRow) -> Result<UploadedPart> {
    Ok(UploadedPart {
        part: crate::objects::part_from_row(row)?,
        last_modified: from_millis(row.try_get("last_modified")?),
        crc64nvme: row.try_get("crc64nvme")?,
    })
}

impl Store {
    /// Starts an upload; `upload.upload_id` and `initiated` are filled in here.
    pub async fn create_upload(&self, mut upload: Upload) -> Result<Upload> {
        upload.upload_id = ids::upload_id();
        let initiated = now_millis();
        upload.initiated = from_millis(initiated);
        let headers = &upload.headers;
        let sse = crate::Encryption::columns(upload.encryption.as_ref());
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO multipart_uploads ({UPLOAD_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)"
        )))
        .bind(&upload.upload_id)
        .bind(&upload.bucket)
        .bind(upload.key.as_bytes().to_vec())
        .bind(initiated)
        .bind(&upload.initiator_arn)
        .bind(&upload.initiator_id)
        .bind(&headers.content_type)
        .bind(&headers.cache_control)
        .bind(&headers.content_disposition)
        .bind(&headers.content_encoding)
        .bind(&headers.content_language)
        .bind(&headers.expires)
        .bind(metadata_json(headers))
        .bind(&upload.checksum_algorithm)
        .bind(&upload.checksum_type)
        .bind(upload.lock.retention.map(|r| r.mode.as_str()))
        .bind(upload.lock.retention.map(|r| crate::model::to_millis(r.until)))
        .bind(i64::from(upload.lock.legal_hold))
        .bind(crate::tagging::to_json(&upload.tags))
        .bind(&upload.acl.owner)
        .bind(crate::acl::grants_json(upload.acl.grants.as_deref()))
        .bind(&upload.storage_class)
        .bind(sse.0)
        .bind(sse.1)
        .bind(sse.2)
        .execute(&self.inner.writer)
        .await
        .map_err(|err| crate::foreign_key_violation(err, StoreError::NoSuchBucket))?;
        Ok(upload)
    }

    /// The upload `upload_id` of `key` in `bucket`, if it is still in progress.
    pub async fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<Option<Upload>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {UPLOAD_COLUMNS} FROM multipart_uploads WHERE upload_id = $1 AND bucket = $2 AND object_key = $3"
        )))
        .bind(upload_id)
        .bind(bucket)
        .bind(key.as_bytes().to_vec())
        .fetch_optional(&self.inner.reader)
        .await?;
        row.as_ref().map(upload_from_row).transpose()
    }

    /// Records a part (replacing an earlier upload of the same number). On any error, and
    /// when the upload was completed or aborted meanwhile (`NoSuchUpload`), the blob is removed.
    pub async fn put_part(&self, upload_id: &str, part: ObjectPart, crc64nvme: &str) -> Result<UploadedPart> {
        let last_modified = now_millis();
        let blob_id = part.blob_id.clone();
        let result = async {
            let mut tx = self.begin_write().await?;
            // Taken in turn with a completion on another node (see complete_upload).
            if !crate::db::lock(&mut tx, crate::db::Guard::Upload(upload_id)).await? {
                return Err(StoreError::NoSuchUpload);
            }
            let replaced: Option<String> =
                sqlx::query_scalar("SELECT blob_id FROM upload_parts WHERE upload_id = $1 AND part_number = $2")
                    .bind(upload_id)
                    .bind(part.part_number as i64)
                    .fetch_optional(&mut *tx)
                    .await?;
            sqlx::query("DELETE FROM upload_parts WHERE upload_id = $1 AND part_number = $2")
                .bind(upload_id)
                .bind(part.part_number as i64)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO upload_parts (upload_id, part_number, blob_id, size, etag, last_modified, checksum_value, \
                 crc64nvme) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(upload_id)
            .bind(part.part_number as i64)
            .bind(&part.blob_id)
            .bind(part.size as i64)
            .bind(&part.etag)
            .bind(last_modified)
            .bind(&part.checksum_value)
            .bind(crc64nvme)
            .execute(&mut *tx)
            .await?;
            tx.commit()
                .await
                .map_err(|err| StoreError::CommitUnknown(err.to_string()))?;
            Ok(replaced)
        }
        .await;
        match result {
            Ok(replaced) => {
                self.blobs().remove(&replaced.into_iter().collect::<Vec<_>>()).await;
                Ok(UploadedPart {
                    part,
                    last_modified: from_millis(last_modified),
                    crc64nvme: crc64nvme.to_owned(),
                })
            }
            // The part may be recorded after all: orphan collection removes its blob later if
            // no row names it.
            Err(err @ StoreError::CommitUnknown(_)) => Err(err),
            Err(err) => {
                self.blobs().remove(&[blob_id]).await;
                Err(err)
            }
        }
    }

    /// Parts of an upload with numbers above `after`, in order, at most `limit`.
    pub async fn list_parts(&self, upload_id: &str, after: u32, limit: i64) -> Result<Vec<UploadedPart>> {
        let rows = sqlx::query(
            "SELECT part_number, blob_id, size, etag, checksum_value, last_modified, crc64nvme FROM upload_parts \
             WHERE upload_id = $1 AND part_number > $2 ORDER BY part_number LIMIT $3",
        )
        .bind(upload_id)
        .bind(after as i64)
        .bind(limit)
        .fetch_all(&self.inner.reader)
        .await?;
        rows.iter().map(uploaded_part_from_row).collect()
    }

    /// Uploads in progress in `bucket` whose keys start with `prefix`, by key then initiation,
    /// after (`key_marker`, `upload_id_marker`).
    pub async fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
        key_marker: Option<&str>,
        upload_id_marker: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Upload>> {
        let marker = key_marker.unwrap_or("").as_bytes().to_vec();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {UPLOAD_COLUMNS} FROM multipart_uploads WHERE bucket = $1 \
             AND (object_key > $2 OR (object_key = $2 AND (initiated, upload_id) > \
                  (SELECT initiated, upload_id FROM multipart_uploads WHERE upload_id = $3))) \
             AND substr(object_key, 1, CAST($4 AS INTEGER)) = $5 ORDER BY object_key, initiated, upload_id LIMIT $6"
        )))
        .bind(bucket)
        .bind(marker)
        .bind(upload_id_marker)
        .bind(prefix.len() as i64)
        .bind(prefix.as_bytes().to_vec())
        .bind(limit)
        .fetch_all(&self.inner.reader)
        .await?;
        rows.iter().map(upload_from_row).collect()
    }

    /// Turns `parts` of the upload into the current object at its key, if `condition`
    /// holds. Parts not chosen, and the blobs of the object replaced, are removed after the
    /// commit. The upload stays as it was on any error.
    pub async fn complete_upload(
        &self,
        upload: &Upload,
        object: NewObject,
        parts: Vec<ObjectPart>,
        condition: &WriteCondition,
    ) -> Result<ObjectMeta> {
        let scope = self.object_write_scope(&upload.bucket, &object.key);
        let last_modified = now_millis();
        let mut tx = self.begin_write().await?;
        // A part uploaded again meanwhile through another node must wait for this, or be
        // seen by it (its old blob is removed once it commits).
        if !crate::db::lock(&mut tx, crate::db::Guard::Upload(&upload.upload_id)).await? {
            return Err(StoreError::NoSuchUpload);
        }
        let uploaded: Vec<(i64, String)> =
            sqlx::query_as("SELECT part_number, blob_id FROM upload_parts WHERE upload_id = $1")
                .bind(&upload.upload_id)
                .fetch_all(&mut *tx)
                .await?;
        // The caller chose parts from an earlier read; a part uploaded again since then has a
        // new blob (and the old one is gone), so the choice no longer holds.
        let still_there = |part: &ObjectPart| {
            uploaded
                .iter()
                .any(|(number, blob)| *number == i64::from(part.part_number) && *blob == part.blob_id)
        };
        if !parts.iter().all(still_there) {
            return Err(StoreError::InvalidPart);
        }
        let all_blobs = uploaded.into_iter().map(|(_, blob)| blob);
        let deleted = sqlx::query("DELETE FROM multipart_uploads WHERE upload_id = $1")
            .bind(&upload.upload_id)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NoSuchUpload);
        }
        let written =
            crate::versions::write_object(&mut tx, &upload.bucket, &object, None, &parts, condition, last_modified)
                .await?;
        let mut unused = written.unused_blobs;
        sqlx::query("DELETE FROM completed_uploads WHERE completed_at < $1")
            .bind(last_modified - COMPLETED_UPLOADS_KEPT_MILLIS)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO completed_uploads (upload_id, bucket, object_key, etag, completed_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&upload.upload_id)
        .bind(&upload.bucket)
        .bind(object.key.as_bytes().to_vec())
        .bind(&object.etag)
        .bind(last_modified)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        scope.finish();
        unused.extend(all_blobs.filter(|blob| !parts.iter().any(|part| part.blob_id == *blob)));
        self.blobs().remove(&unused).await;
        let object = NewObject {
            lock: written.lock,
            ..object
        };
        Ok(written_object(
            &upload.bucket,
            object,
            written.version_id,
            ObjectData::Parts(parts),
            last_modified,
        ))
    }

    /// The ETag an upload of `key` produced when it was completed (within the last day).
    pub async fn completed_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT etag FROM completed_uploads WHERE upload_id = $1 AND bucket = $2 AND object_key = $3",
        )
        .bind(upload_id)
        .bind(bucket)
        .bind(key.as_bytes().to_vec())
        .fetch_optional(&self.inner.reader)
        .await?)
    }

    /// Ends an upload and removes its parts. `NoSuchUpload` if it is not in progress.
    pub async fn abort_upload(&self, upload_id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let blobs: Vec<String> = sqlx::query_scalar("SELECT blob_id FROM upload_parts WHERE upload_id = $1")
            .bind(upload_id)
            .fetch_all(&mut *tx)
            .await?;
        let deleted = sqlx::query("DELETE FROM multipart_uploads WHERE upload_id = $1")
            .bind(upload_id)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NoSuchUpload);
        }
        tx.commit().await?;
        self.blobs().remove(&blobs).await;
        Ok(())
    }
}
