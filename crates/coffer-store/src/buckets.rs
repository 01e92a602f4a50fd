//! Buckets. Names are global across accounts, as in S3. Every S3 request looks its bucket up
//! (for the owner to authorize against), so buckets are cached in memory; the cache is
//! cleared by every bucket write.

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::acl::{Grant, ObjectOwnership};
use crate::epochs::Cache;
use crate::lifecycle::LifecycleRule;
use crate::model::{from_millis, now_millis};
use crate::object_lock::BucketLock;
use crate::versions::Versioning;
use crate::{Result, Store, StoreError};
use crate::{foreign_key_violation, unique_violation};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub name: String,
    pub account_id: String,
    pub region: String,
    pub created_at: OffsetDateTime,
    /// The bucket policy, as written.
    pub policy: Option<String>,
    pub public_access_block: Option<PublicAccessBlock>,
    pub versioning: Versioning,
    /// Object Lock, once enabled (for good), with its default retention.
    pub object_lock: Option<BucketLock>,
    /// Lifecycle rules, if any.
    pub lifecycle: Option<Vec<LifecycleRule>>,
    /// Its tags (PutBucketTagging).
    pub tags: Vec<crate::Tag>,
    /// Its Object Ownership setting (`None`: none set, which S3 treats as ObjectWriter).
    pub object_ownership: Option<ObjectOwnership>,
    /// Its ACL's grants (`None`: the owner alone, with FULL_CONTROL).
    pub acl: Option<Vec<Grant>>,
    /// Its CORS rules, if any.
    pub cors: Option<Vec<crate::CorsRule>>,
    /// Where the bucket's server access log goes, when it is on.
    pub logging: Option<crate::BucketLogging>,
    /// What it encrypts new objects with by default, as put (`None`: the server's default).
    pub encryption: Option<crate::BucketEncryption>,
}

impl Bucket {
    /// Whether ACLs take part in authorization: not when the bucket enforces bucket-owner
    /// ownership.
    pub fn acls_enabled(&self) -> bool {
        self.object_ownership != Some(ObjectOwnership::BucketOwnerEnforced)
    }
}

/// What a new bucket starts with besides its name and region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBucket {
    /// Object Lock (and so versioning Enabled) from the start.
    pub object_lock: bool,
    pub public_access_block: Option<PublicAccessBlock>,
    pub object_ownership: Option<ObjectOwnership>,
    /// The bucket's ACL (`None`: the owner alone, with FULL_CONTROL).
    pub acl: Option<Vec<Grant>>,
}

impl NewBucket {
    /// AWS's defaults for a bucket created since April 2023: Block Public Access on, ACLs
    /// disabled. (Default encryption is the server's, not the bucket's: see the S3 layer.)
    pub const CURRENT_DEFAULTS: NewBucket = NewBucket {
        object_lock: false,
        public_access_block: Some(PublicAccessBlock::ALL),
        object_ownership: Some(ObjectOwnership::BucketOwnerEnforced),
        acl: None,
    };

    /// The defaults before April 2023: no Block Public Access and no Object Ownership setting
    /// (so ObjectWriter, ACLs in force), for software written then.
    pub const PRE_2023_DEFAULTS: NewBucket = NewBucket {
        object_lock: false,
        public_access_block: None,
        object_ownership: None,
        acl: None,
    };
}

/// S3's Block Public Access settings of a bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    pub const ALL: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    fn encode(self) -> String {
        [
            self.block_public_acls,
            self.ignore_public_acls,
            self.block_public_policy,
            self.restrict_public_buckets,
        ]
        .iter()
        .map(|b| if *b { '1' } else { '0' })
        .collect()
    }

    fn decode(text: &str) -> Option<PublicAccessBlock> {
        let flags: Vec<bool> = text.chars().map(|c| c == '1').collect();
        (flags.len() == 4).then(|| PublicAccessBlock {
            block_public_acls: flags[0],
            ignore_public_acls: flags[1],
            block_public_policy: flags[2],
            restrict_public_buckets: flags[3],
        })
    }
}

const BUCKET_SELECT: &str = "SELECT b.name, b.account_id, b.region, b.created_at, b.public_access_block, b.versioning, \
     b.object_lock_enabled, b.lock_default_mode, b.lock_default_days, b.lock_default_years, p.document, l.rules, b.tags, \
     b.object_ownership, b.acl, b.cors, b.encryption, b.logging \
     FROM buckets b LEFT JOIN bucket_policies p ON p.bucket = b.name LEFT JOIN bucket_lifecycle l ON l.bucket = b.name";

fn bucket_from_row(row: &AnyRow) -> Result<Bucket> {
    Ok(Bucket {
        name: row.try_get("name")?,
        account_id: row.try_get("account_id")?,
        region: row.try_get("region")?,
        created_at: from_millis(row.try_get("created_at")?),
        policy: row.try_get("document")?,
        public_access_block: row
            .try_get::<Option<String>, _>("public_access_block")?
            .as_deref()
            .and_then(PublicAccessBlock::decode),
        versioning: Versioning::from_column(row.try_get::<Option<String>, _>("versioning")?.as_deref()),
        object_lock: BucketLock::from_row(row)?,
        lifecycle: match row.try_get::<Option<String>, _>("rules")? {
            Some(rules) => Some(serde_json::from_str(&rules).map_err(|_| StoreError::Corrupt("lifecycle rules"))?),
            None => None,
        },
        tags: crate::tagging::from_json(row.try_get("tags")?)?,
        object_ownership: row
            .try_get::<Option<String>, _>("object_ownership")?
            .as_deref()
            .and_then(ObjectOwnership::parse),
        acl: crate::acl::from_json(row.try_get("acl")?)?,
        cors: crate::cors::from_json(row.try_get("cors")?)?,
        logging: crate::logging::from_json(row.try_get("logging")?)?,
        encryption: crate::encryption::bucket_encryption_from_json(row.try_get("encryption")?)?,
    })
}

/// Why a conditional update of bucket `name` changed no row: `refusal` (its rule said no)
/// when the bucket exists, else `NoSuchBucket`.
pub(crate) async fn refused_change(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    name: &str,
    refusal: StoreError,
) -> StoreError {
    let exists: std::result::Result<Option<i64>, _> = sqlx::query_scalar("SELECT 1 FROM buckets WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await;
    match exists {
        Ok(Some(_)) => refusal,
        Ok(None) => StoreError::NoSuchBucket,
        Err(err) => err.into(),
    }
}

impl Store {
    /// Creates a bucket with AWS's current defaults. `BucketExists { owned_by_caller }` when
    /// the name is taken.
    pub async fn create_bucket(&self, account_id: &str, name: &str, region: &str) -> Result<Bucket> {
        self.create_bucket_with(account_id, name, region, NewBucket::CURRENT_DEFAULTS)
            .await
    }

    /// Creates a bucket with the settings of `new`, in one write.
    pub async fn create_bucket_with(
        &self,
        account_id: &str,
        name: &str,
        region: &str,
        new: NewBucket,
    ) -> Result<Bucket> {
        let created_at = now_millis();
        let object_lock = new.object_lock;
        let acl = crate::acl::to_json(new.acl.as_deref(), account_id);
        let versioning = if object_lock {
            Versioning::Enabled
        } else {
            Versioning::Unversioned
        };
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO buckets (name, account_id, region, created_at, public_access_block, versioning, \
             object_lock_enabled, object_ownership, acl) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(name)
        .bind(account_id)
        .bind(region)
        .bind(created_at)
        .bind(new.public_access_block.map(PublicAccessBlock::encode))
        .bind(versioning.status())
        .bind(i64::from(object_lock))
        .bind(new.object_ownership.map(ObjectOwnership::as_str))
        .bind(&acl)
        .execute(&mut *tx)
        .await;
        if inserted.is_ok() {
            // A node may hold the name as a bucket that does not exist.
            self.commit_changed(tx, Cache::Buckets).await?;
        } else {
            drop(tx);
        }
        match inserted {
            Ok(_) => Ok(Bucket {
                name: name.to_owned(),
                account_id: account_id.to_owned(),
                region: region.to_owned(),
                created_at: from_millis(created_at),
                policy: None,
                public_access_block: new.public_access_block,
                versioning,
                object_lock: object_lock.then(BucketLock::default),
                lifecycle: None,
                tags: Vec::new(),
                object_ownership: new.object_ownership,
                acl: if acl.is_some() { new.acl } else { None },
                cors: None,
                logging: None,
                encryption: None,
            }),
            Err(err) => match unique_violation(err, StoreError::BucketExists { owned_by_caller: false }) {
                StoreError::BucketExists { .. } => {
                    let owner = self.bucket(name).await?.map(|bucket| bucket.account_id);
                    Err(StoreError::BucketExists {
                        owned_by_caller: owner.as_deref() == Some(account_id),
                    })
                }
                other => Err(other),
            },
        }
    }

    /// The bucket called `name`, whoever owns it.
    pub async fn bucket(&self, name: &str) -> Result<Option<Bucket>> {
        let generation = match self.inner.buckets.get(name) {
            Ok(bucket) => return Ok(Some(bucket)),
            Err(generation) => generation,
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{BUCKET_SELECT} WHERE b.name = $1")))
            .bind(name)
            .fetch_optional(&self.inner.reader)
            .await?;
        let bucket = row.as_ref().map(bucket_from_row).transpose()?;
        if let Some(bucket) = &bucket {
            self.inner
                .buckets
                .insert(generation, bucket.name.clone(), bucket.clone());
        }
        Ok(bucket)
    }

    /// An account's buckets in name order: those starting with `prefix`, after `after`.
    pub async fn list_buckets(
        &self,
        account_id: &str,
        prefix: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Bucket>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{BUCKET_SELECT} WHERE b.account_id = $1 AND b.name > $2 AND substr(b.name, 1, CAST($3 AS INTEGER)) = $4 \
             ORDER BY b.name LIMIT $5"
        )))
        .bind(account_id)
        .bind(after.unwrap_or(""))
        .bind(prefix.len() as i64)
        .bind(prefix)
        .bind(limit)
        .fetch_all(&self.inner.reader)
        .await?;
        rows.iter().map(bucket_from_row).collect()
    }

    /// Sets (or with `None` deletes) a bucket's policy.
    pub async fn set_bucket_policy(&self, name: &str, document: Option<&str>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        match document {
            Some(document) => {
                sqlx::query(
                    "INSERT INTO bucket_policies (bucket, document) VALUES ($1, $2) \
                     ON CONFLICT (bucket) DO UPDATE SET document = excluded.document",
                )
                .bind(name)
                .bind(document)
                .execute(&mut *tx)
                .await
                .map_err(|err| foreign_key_violation(err, StoreError::NoSuchBucket))?;
            }
            None => {
                sqlx::query("DELETE FROM bucket_policies WHERE bucket = $1")
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        self.commit_changed(tx, Cache::Buckets).await
    }

    /// Sets (or with `None` deletes) a bucket's Block Public Access settings.
    pub async fn set_public_access_block(&self, name: &str, settings: Option<PublicAccessBlock>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE buckets SET public_access_block = $2 WHERE name = $1")
            .bind(name)
            .bind(settings.map(PublicAccessBlock::encode))
            .execute(&mut *tx)
            .await?;
        self.commit_changed(tx, Cache::Buckets).await
    }

    /// Sets a bucket's versioning to Enabled or Suspended (a bucket never becomes
    /// unversioned again: `Unversioned` is refused by the caller as S3 refuses it).
    pub async fn set_bucket_versioning(&self, name: &str, versioning: Versioning) -> Result<()> {
        let status = versioning
            .status()
            .ok_or(StoreError::Corrupt("a bucket cannot become unversioned"))?;
        let mut tx = self.begin_write().await?;
        // Object Lock needs every write to make a new version: the rule is in the update
        // itself, so it holds against an Object Lock being enabled at the same moment.
        let updated = sqlx::query(
            "UPDATE buckets SET versioning = $2 WHERE name = $1 AND (object_lock_enabled = 0 OR $2 = 'Enabled')",
        )
        .bind(name)
        .bind(status)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(refused_change(&mut tx, name, StoreError::InvalidBucketState).await);
        }
        self.commit_changed(tx, Cache::Buckets).await
    }

    /// Deletes a bucket without objects (`BucketNotEmpty` otherwise). Uploads still in
    /// progress go with it, as in S3, and their part files are removed.
    pub async fn delete_bucket(&self, name: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let has_objects: Option<i64> = sqlx::query_scalar("SELECT 1 FROM objects WHERE bucket = $1 LIMIT 1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        if has_objects.is_some() {
            return Err(StoreError::BucketNotEmpty);
        }
        let part_blobs: Vec<String> = sqlx::query_scalar(
            "SELECT p.blob_id FROM upload_parts p JOIN multipart_uploads u ON u.upload_id = p.upload_id \
             WHERE u.bucket = $1",
        )
        .bind(name)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM multipart_uploads WHERE bucket = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        // An object another node put meanwhile holds the bucket: its row's reference refuses
        // the delete.
        let deleted = sqlx::query("DELETE FROM buckets WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(|err| foreign_key_violation(err, StoreError::BucketNotEmpty))?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NoSuchBucket);
        }
        self.commit_changed(tx, Cache::Buckets).await?;
        self.blobs().remove(&part_blobs).await;
        Ok(())
    }
}
