//! S3 access control lists and Object Ownership, as the store keeps them: a bucket's
//! ownership setting and ACL, a version's owning account and ACL. The S3 layer reads and
//! writes S3's shapes (canned ACLs, grant headers, the AccessControlPolicy XML) and decides
//! what the grants allow; here they are only kept.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::epochs::Cache;
use crate::{Result, Store, StoreError};

/// Who a grant is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Grantee {
    /// A Coffer account, by id (S3 names it by the account's canonical user id).
    Account(String),
    /// A canonical user id that is no Coffer account's (canned ACLs name AWS's own, such as
    /// EC2's for `aws-exec-read`): kept and reported, it grants no Coffer caller anything.
    Canonical(String),
    /// `http://acs.amazonaws.com/groups/global/AllUsers`: anyone, signed or not.
    AllUsers,
    /// `http://acs.amazonaws.com/groups/global/AuthenticatedUsers`: any signed request.
    AuthenticatedUsers,
    /// `http://acs.amazonaws.com/groups/s3/LogDelivery`.
    LogDelivery,
}

impl Grantee {
    /// A grant to everyone or to every signed caller: what Block Public Access watches.
    pub fn is_public(&self) -> bool {
        matches!(self, Grantee::AllUsers | Grantee::AuthenticatedUsers)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    FullControl,
    Read,
    Write,
    ReadAcp,
    WriteAcp,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub grantee: Grantee,
    pub permission: Permission,
}

/// S3 Object Ownership: who owns the objects others write, and whether ACLs count at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectOwnership {
    /// ACLs are disabled: the bucket owner owns every object (AWS's default since 2023).
    BucketOwnerEnforced,
    /// A writer that grants the bucket owner full control hands the object over.
    BucketOwnerPreferred,
    /// The writer's account owns the object.
    ObjectWriter,
}

impl ObjectOwnership {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectOwnership::BucketOwnerEnforced => "BucketOwnerEnforced",
            ObjectOwnership::BucketOwnerPreferred => "BucketOwnerPreferred",
            ObjectOwnership::ObjectWriter => "ObjectWriter",
        }
    }

    pub fn parse(text: &str) -> Option<ObjectOwnership> {
        match text {
            "BucketOwnerEnforced" => Some(ObjectOwnership::BucketOwnerEnforced),
            "BucketOwnerPreferred" => Some(ObjectOwnership::BucketOwnerPreferred),
            "ObjectWriter" => Some(ObjectOwnership::ObjectWriter),
            _ => None,
        }
    }
}

/// Grants as stored: `None` for S3's default, the owner alone with FULL_CONTROL, so that an
/// ACL set back to private reads as never set.
pub(crate) fn to_json(grants: Option<&[Grant]>, owner: &str) -> Option<String> {
    let grants = grants?;
    let private = [Grant {
        grantee: Grantee::Account(owner.to_owned()),
        permission: Permission::FullControl,
    }];
    if grants == private {
        return None;
    }
    serde_json::to_string(grants).ok()
}

/// Grants as a version or an upload keeps them (`None`: the default).
pub(crate) fn grants_json(grants: Option<&[Grant]>) -> Option<String> {
    serde_json::to_string(grants?).ok()
}

/// A version's (or an upload's object's) owner and ACL, as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectAcl {
    /// The owning account (`None`: the bucket's owner).
    pub owner: Option<String>,
    /// Its grants (`None`: the owner alone, with FULL_CONTROL).
    pub grants: Option<Vec<Grant>>,
}

impl ObjectAcl {
    pub(crate) fn from_row(row: &sqlx::any::AnyRow) -> Result<ObjectAcl> {
        Ok(ObjectAcl {
            owner: row.try_get("owner_account")?,
            grants: from_json(row.try_get("acl")?)?,
        })
    }
}

pub(crate) fn from_json(column: Option<String>) -> Result<Option<Vec<Grant>>> {
    column
        .map(|json| serde_json::from_str(&json).map_err(|_| StoreError::Corrupt("an ACL")))
        .transpose()
}

/// The ownership and ACL of one version, for authorizing a request on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectAccess {
    /// The owning account.
    pub owner: String,
    /// Its grants (`None`: the owner alone, with FULL_CONTROL).
    pub acl: Option<Vec<Grant>>,
}

impl Store {
    /// Sets a bucket's Object Ownership (`None`: deletes the setting). BucketOwnerEnforced
    /// needs the bucket's ACL to be the default (`InvalidBucketAclWithObjectOwnership`); the
    /// rule is in the update, so a concurrent PutBucketAcl cannot slip past it.
    pub async fn set_bucket_ownership(&self, name: &str, ownership: Option<ObjectOwnership>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE buckets SET object_ownership = $2 \
             WHERE name = $1 AND (COALESCE($2, '') <> 'BucketOwnerEnforced' OR acl IS NULL)",
        )
        .bind(name)
        .bind(ownership.map(ObjectOwnership::as_str))
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(crate::buckets::refused_change(&mut tx, name, StoreError::AclWithEnforcedOwnership).await);
        }
        self.commit_changed(tx, Cache::Buckets).await
    }

    /// Replaces a bucket's ACL. Refused (`AclWithEnforcedOwnership`) unless it is the
    /// default while the bucket enforces bucket-owner ownership, checked in the update.
    pub async fn set_bucket_acl(&self, name: &str, owner: &str, grants: &[Grant]) -> Result<()> {
        let acl = to_json(Some(grants), owner);
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE buckets SET acl = $2 \
             WHERE name = $1 AND (COALESCE(object_ownership, '') <> 'BucketOwnerEnforced' OR $2 IS NULL)",
        )
        .bind(name)
        .bind(acl)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(crate::buckets::refused_change(&mut tx, name, StoreError::AclWithEnforcedOwnership).await);
        }
        self.commit_changed(tx, Cache::Buckets).await
    }

    /// Replaces the ACL of version `version_id` of `key` (without one: its latest version);
    /// returns the version's id.
    pub async fn set_object_acl(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        grants: &[Grant],
    ) -> Result<String> {
        let scope = self.object_write_scope(bucket, key);
        let mut tx = self.begin_write().await?;
        crate::versions::lock_key(&mut tx, bucket, key).await?;
        let row = crate::versions::find_version(&mut tx, bucket, key, version_id, "owner_account").await?;
        let owner: Option<String> = row.try_get("owner_account")?;
        let owner = match owner {
            Some(owner) => owner,
            None => {
                sqlx::query_scalar("SELECT account_id FROM buckets WHERE name = $1")
                    .bind(bucket)
                    .fetch_one(&mut *tx)
                    .await?
            }
        };
        let version: String = row.try_get("version_id")?;
        sqlx::query("UPDATE objects SET acl = $4 WHERE bucket = $1 AND object_key = $2 AND version_id = $3")
            .bind(bucket)
            .bind(key.as_bytes().to_vec())
            .bind(&version)
            .bind(to_json(Some(grants), &owner))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        scope.finish();
        Ok(version)
    }

    /// Who owns version `version_id` of `key` (without one: its latest version) and its
    /// grants; `None` when there is no such version or it is a delete marker.
    pub async fn object_access(
        &self,
        bucket: &crate::Bucket,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Option<ObjectAccess>> {
        let which = if version_id.is_some() {
            "version_id = $3"
        } else {
            "is_latest = 1"
        };
        let query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT owner_account, acl FROM objects \
             WHERE bucket = $1 AND object_key = $2 AND is_delete_marker = 0 AND {which}"
        )))
        .bind(&bucket.name)
        .bind(key.as_bytes().to_vec());
        let query = match version_id {
            Some(id) => query.bind(id),
            None => query,
        };
        let Some(row) = query.fetch_optional(&self.inner.reader).await? else {
            return Ok(None);
        };
        let owner: Option<String> = row.try_get("owner_account")?;
        Ok(Some(ObjectAccess {
            owner: owner.unwrap_or_else(|| bucket.account_id.clone()),
            acl: from_json(row.try_get("acl")?)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_acl_is_stored_as_the_default() {
        let private = vec![Grant {
            grantee: Grantee::Account("111111111111".into()),
            permission: Permission::FullControl,
        }];
        assert_eq!(to_json(Some(&private), "111111111111"), None);
        assert!(to_json(Some(&private), "222222222222").is_some());
        let public = vec![
            private[0].clone(),
            Grant {
                grantee: Grantee::AllUsers,
                permission: Permission::Read,
            },
        ];
        let stored = to_json(Some(&public), "111111111111");
        assert_eq!(from_json(stored).unwrap(), Some(public));
        assert_eq!(to_json(Some(&[]), "111111111111").as_deref(), Some("[]"));
    }
}
