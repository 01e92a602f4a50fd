//! S3 CORS rules as the store keeps them: a bucket's list, in order (the first rule that
//! matches a request answers it). The S3 layer validates them and matches requests.

use serde::{Deserialize, Serialize};

use crate::epochs::Cache;
use crate::{Result, Store, StoreError};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsRule {
    pub id: Option<String>,
    /// `GET`, `PUT`, `POST`, `DELETE` or `HEAD`.
    pub allowed_methods: Vec<String>,
    /// Origins, each with at most one `*`.
    pub allowed_origins: Vec<String>,
    /// Headers a preflight may ask for, each with at most one `*`.
    pub allowed_headers: Vec<String>,
    /// Response headers a browser may show the page.
    pub expose_headers: Vec<String>,
    pub max_age_seconds: Option<i32>,
}

pub(crate) fn from_json(column: Option<String>) -> Result<Option<Vec<CorsRule>>> {
    column
        .map(|json| serde_json::from_str(&json).map_err(|_| StoreError::Corrupt("CORS rules")))
        .transpose()
}

impl Store {
    /// Sets (with `None`, deletes) a bucket's CORS rules.
    pub async fn set_bucket_cors(&self, name: &str, rules: Option<&[CorsRule]>) -> Result<()> {
        let json = rules
            .map(serde_json::to_string)
            .transpose()
            .map_err(|_| StoreError::Corrupt("CORS rules"))?;
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query("UPDATE buckets SET cors = $2 WHERE name = $1")
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
