//! S3 server access logging as the store keeps it: where a bucket's access log records go.
//! The S3 layer validates the configuration, writes the records and delivers them.

use serde::{Deserialize, Serialize};

use crate::epochs::Cache;
use crate::{Grant, Result, Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketLogging {
    pub target_bucket: String,
    pub target_prefix: String,
    pub key_format: LogKeyFormat,
    /// Grants on each delivered log object, besides the target bucket owner's.
    #[serde(default)]
    pub target_grants: Vec<Grant>,
}

/// How delivered log objects are named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogKeyFormat {
    /// `<prefix><YYYY-mm-DD-HH-MM-SS>-<unique>`.
    Simple,
    /// `<prefix><account>/<region>/<bucket>/<YYYY>/<MM>/<DD>/<YYYY-mm-DD-HH-MM-SS>-<unique>`,
    /// dated by the records' event time or by the delivery time.
    Partitioned { by_event_time: bool },
}

pub(crate) fn from_json(column: Option<String>) -> Result<Option<BucketLogging>> {
    column
        .map(|json| serde_json::from_str(&json).map_err(|_| StoreError::Corrupt("bucket logging")))
        .transpose()
}

impl Store {
    /// Sets (with `None`, turns off) a bucket's server access logging.
    pub async fn set_bucket_logging(&self, name: &str, logging: Option<&BucketLogging>) -> Result<()> {
        let json = logging
            .map(serde_json::to_string)
            .transpose()
            .map_err(|_| StoreError::Corrupt("bucket logging"))?;
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query("UPDATE buckets SET logging = $2 WHERE name = $1")
            .bind(name)
            .bind(json)
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NoSuchBucket);
        }
        self.commit_changed(tx, Cache::Buckets).await
    }
}
