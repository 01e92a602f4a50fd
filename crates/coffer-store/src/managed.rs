//! Customer managed policies (with versions) and attachments of managed policies, customer or
//! AWS, to users and groups.

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::db::{Guard, lock};
use crate::epochs::Cache;
use crate::model::{from_millis, now_millis};
use crate::unique_violation;
use crate::users::fold;
use crate::{Result, Store, StoreError, ids};

/// The most versions one managed policy keeps, as in IAM.
pub const MAX_POLICY_VERSIONS: i64 = 5;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagedPolicy {
    pub policy_id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub description: Option<String>,
    /// `vN`.
    pub default_version: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub attachment_count: i64,
}

impl ManagedPolicy {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:policy{}{}", self.account_id, self.path, self.name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyVersion {
    pub version_id: String,
    pub document: String,
    pub is_default: bool,
    pub created_at: OffsetDateTime,
}

/// What a policy is attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachedTo<'a> {
    User(&'a str),
    Group(&'a str),
    Role(&'a str),
}

impl AttachedTo<'_> {
    fn kind(&self) -> &'static str {
        match self {
            AttachedTo::User(_) => "user",
            AttachedTo::Group(_) => "group",
            AttachedTo::Role(_) => "role",
        }
    }

    fn id(&self) -> &str {
        match self {
            AttachedTo::User(id) | AttachedTo::Group(id) | AttachedTo::Role(id) => id,
        }
    }
}

/// Locks the user or group a policy is to be attached to, until the commit (so it cannot be
/// deleted with the attachment on its way); `NoSuchUser` or `NoSuchGroup` once it is gone.
/// IAM's default quota of managed policies attached to one user, group or role.
pub const MAX_ATTACHED_POLICIES: i64 = 10;

pub(crate) async fn lock_entity(tx: &mut sqlx::Transaction<'_, sqlx::Any>, entity: AttachedTo<'_>) -> Result<()> {
    let (guard, gone) = match entity {
        AttachedTo::User(id) => (Guard::User(id), StoreError::NoSuchUser),
        AttachedTo::Group(id) => (Guard::Group(id), StoreError::NoSuchGroup),
        AttachedTo::Role(id) => (Guard::Role(id), StoreError::NoSuchRole),
    };
    if lock(tx, guard).await? { Ok(()) } else { Err(gone) }
}

/// Locks the customer managed policy `arn` names, until the commit (so it cannot be deleted
/// with a reference to it on its way); `NoSuchPolicy` once it is gone. AWS managed policies
/// cannot be deleted: nothing to lock.
pub(crate) async fn lock_customer_policy(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account_id: &str,
    arn: &str,
) -> Result<()> {
    if arn.starts_with("arn:aws:iam::aws:") {
        return Ok(());
    }
    if lock(tx, Guard::PolicyArn(account_id, arn)).await? {
        Ok(())
    } else {
        Err(StoreError::NoSuchPolicy)
    }
}

const POLICY_COLUMNS: &str = "p.policy_id, p.account_id, p.name, p.path, p.description, p.default_version, \
     p.created_at, p.updated_at, (SELECT COUNT(*) FROM policy_attachments a WHERE a.policy_arn = \
     'arn:aws:iam::' || p.account_id || ':policy' || p.path || p.name) AS attachment_count";

fn policy_from_row(row: &AnyRow) -> Result<ManagedPolicy> {
    Ok(ManagedPolicy {
        policy_id: row.try_get("policy_id")?,
        account_id: row.try_get("account_id")?,
        name: row.try_get("name")?,
        path: row.try_get("path")?,
        description: row.try_get("description")?,
        default_version: format!("v{}", row.try_get::<i64, _>("default_version")?),
        created_at: from_millis(row.try_get("created_at")?),
        updated_at: from_millis(row.try_get("updated_at")?),
        attachment_count: row.try_get("attachment_count")?,
    })
}

/// `vN` to N.
fn version_number(version_id: &str) -> Option<i64> {
    version_id.strip_prefix('v')?.parse().ok()
}

impl Store {
    pub async fn create_policy(
        &self,
        account_id: &str,
        name: &str,
        path: &str,
        description: Option<&str>,
        document: &str,
    ) -> Result<ManagedPolicy> {
        let now = now_millis();
        let policy_id = ids::policy_id();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO managed_policies (policy_id, account_id, name, name_key, path, description, default_version, \
             next_version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, 2, $7, $7)",
        )
        .bind(&policy_id)
        .bind(account_id)
        .bind(name)
        .bind(fold(name))
        .bind(path)
        .bind(description)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_violation(e, StoreError::PolicyExists))?;
        sqlx::query("INSERT INTO policy_versions (policy_id, version, document, created_at) VALUES ($1, 1, $2, $3)")
            .bind(&policy_id)
            .bind(document)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ManagedPolicy {
            policy_id,
            account_id: account_id.to_owned(),
            name: name.to_owned(),
            path: path.to_owned(),
            description: description.map(str::to_owned),
            default_version: "v1".to_owned(),
            created_at: from_millis(now),
            updated_at: from_millis(now),
            attachment_count: 0,
        })
    }

    /// The customer managed policy with this ARN, in `account_id`.
    pub async fn managed_policy(&self, account_id: &str, arn: &str) -> Result<ManagedPolicy> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {POLICY_COLUMNS} FROM managed_policies p WHERE p.account_id = $1 \
             AND 'arn:aws:iam::' || p.account_id || ':policy' || p.path || p.name = $2"
        )))
        .bind(account_id)
        .bind(arn)
        .fetch_optional(&self.inner.reader)
        .await?;
        row.as_ref()
            .map(policy_from_row)
            .transpose()?
            .ok_or(StoreError::NoSuchPolicy)
    }

    /// An account's customer managed policies, by name.
    pub async fn list_managed_policies(&self, account_id: &str, path_prefix: &str) -> Result<Vec<ManagedPolicy>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {POLICY_COLUMNS} FROM managed_policies p WHERE p.account_id = $1 \
             AND substr(p.path, 1, CAST($2 AS INTEGER)) = $3 ORDER BY p.name_key"
        )))
        .bind(account_id)
        .bind(path_prefix.len() as i64)
        .bind(path_prefix)
        .fetch_all(&self.inner.reader)
        .await?;
        rows.iter().map(policy_from_row).collect()
    }

    /// One version of a customer managed policy.
    pub async fn policy_version(&self, policy: &ManagedPolicy, version_id: &str) -> Result<PolicyVersion> {
        let number = version_number(version_id).ok_or(StoreError::NoSuchPolicyVersion)?;
        let row = sqlx::query("SELECT document, created_at FROM policy_versions WHERE policy_id = $1 AND version = $2")
            .bind(&policy.policy_id)
            .bind(number)
            .fetch_optional(&self.inner.reader)
            .await?
            .ok_or(StoreError::NoSuchPolicyVersion)?;
        Ok(PolicyVersion {
            version_id: version_id.to_owned(),
            document: row.try_get("document")?,
            is_default: policy.default_version == version_id,
            created_at: from_millis(row.try_get("created_at")?),
        })
    }

    /// Adds a version (at most five; `TooManyPolicyVersions` beyond), made default if asked.
    pub async fn create_policy_version(
        &self,
        policy: &ManagedPolicy,
        document: &str,
        set_as_default: bool,
    ) -> Result<PolicyVersion> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        if !lock(&mut tx, Guard::Policy(&policy.policy_id)).await? {
            return Err(StoreError::NoSuchPolicy);
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM policy_versions WHERE policy_id = $1")
            .bind(&policy.policy_id)
            .fetch_one(&mut *tx)
            .await?;
        if count >= MAX_POLICY_VERSIONS {
            return Err(StoreError::TooManyPolicyVersions);
        }
        let number: i64 = sqlx::query_scalar("SELECT next_version FROM managed_policies WHERE policy_id = $1")
            .bind(&policy.policy_id)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO policy_versions (policy_id, version, document, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&policy.policy_id)
            .bind(number)
            .bind(document)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE managed_policies SET next_version = next_version + 1, updated_at = $2 WHERE policy_id = $1",
        )
        .bind(&policy.policy_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if set_as_default {
            sqlx::query("UPDATE managed_policies SET default_version = $2 WHERE policy_id = $1")
                .bind(&policy.policy_id)
                .bind(number)
                .execute(&mut *tx)
                .await?;
            self.commit_changed(tx, Cache::Policies).await?;
        } else {
            tx.commit().await?;
        }
        Ok(PolicyVersion {
            version_id: format!("v{number}"),
            document: document.to_owned(),
            is_default: set_as_default,
            created_at: from_millis(now),
        })
    }

    /// Every version of a policy, newest first.
    pub async fn policy_versions(&self, policy: &ManagedPolicy) -> Result<Vec<PolicyVersion>> {
        let rows = sqlx::query(
            "SELECT version, document, created_at FROM policy_versions WHERE policy_id = $1 ORDER BY version DESC",
        )
        .bind(&policy.policy_id)
        .fetch_all(&self.inner.reader)
        .await?;
        rows.iter()
            .map(|row| {
                let version_id = format!("v{}", row.try_get::<i64, _>("version")?);
                Ok(PolicyVersion {
                    is_default: version_id == policy.default_version,
                    version_id,
                    document: row.try_get("document")?,
                    created_at: from_millis(row.try_get("created_at")?),
                })
            })
            .collect()
    }

    /// Deletes a version other than the default (`DeleteDefaultVersion` for that one).
    pub async fn delete_policy_version(&self, policy: &ManagedPolicy, version_id: &str) -> Result<()> {
        let number = version_number(version_id).ok_or(StoreError::NoSuchPolicyVersion)?;
        let mut tx = self.begin_write().await?;
        // The default as of the lock: another node may have just made this version the default.
        if !lock(&mut tx, Guard::Policy(&policy.policy_id)).await? {
            return Err(StoreError::NoSuchPolicy);
        }
        let default: i64 = sqlx::query_scalar("SELECT default_version FROM managed_policies WHERE policy_id = $1")
            .bind(&policy.policy_id)
            .fetch_one(&mut *tx)
            .await?;
        if default == number {
            return Err(StoreError::DeleteDefaultVersion);
        }
        let deleted = sqlx::query("DELETE FROM policy_versions WHERE policy_id = $1 AND version = $2")
            .bind(&policy.policy_id)
            .bind(number)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NoSuchPolicyVersion);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Makes an existing version the default; it decides from the next request on.
    pub async fn set_default_policy_version(&self, policy: &ManagedPolicy, version_id: &str) -> Result<()> {
        let number = version_number(version_id).ok_or(StoreError::NoSuchPolicyVersion)?;
        let mut tx = self.begin_write().await?;
        // Serialised with deleting a version: the one made default cannot vanish meanwhile.
        if !lock(&mut tx, Guard::Policy(&policy.policy_id)).await? {
            return Err(StoreError::NoSuchPolicy);
        }
        let updated = sqlx::query(
            "UPDATE managed_policies SET default_version = $2, updated_at = $3 WHERE policy_id = $1 \
             AND EXISTS (SELECT 1 FROM policy_versions WHERE policy_id = $1 AND version = $2)",
        )
        .bind(&policy.policy_id)
        .bind(number)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NoSuchPolicyVersion);
        }
        self.commit_changed(tx, Cache::Policies).await
    }

    /// Deletes a customer managed policy that is attached nowhere and has only its default
    /// version (`DeleteConflict` otherwise, as in IAM).
    pub async fn delete_managed_policy(&self, policy: &ManagedPolicy) -> Result<()> {
        let mut tx = self.begin_write().await?;
        // Held until the commit: an attachment another node makes meanwhile waits, then finds
        // the policy gone.
        if !lock(&mut tx, Guard::Policy(&policy.policy_id)).await? {
            return Err(StoreError::NoSuchPolicy);
        }
        let attached: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM policy_attachments WHERE policy_arn = $1 LIMIT 1")
                .bind(policy.arn())
                .fetch_optional(&mut *tx)
                .await?;
        let bounding: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM users WHERE permissions_boundary = $1 \
             UNION ALL SELECT 1 FROM roles WHERE permissions_boundary = $1 LIMIT 1",
        )
        .bind(policy.arn())
        .fetch_optional(&mut *tx)
        .await?;
        if attached.is_some() || bounding.is_some() {
            return Err(StoreError::PolicyAttached);
        }
        let versions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM policy_versions WHERE policy_id = $1")
            .bind(&policy.policy_id)
            .fetch_one(&mut *tx)
            .await?;
        if versions > 1 {
            return Err(StoreError::PolicyHasVersions);
        }
        sqlx::query("DELETE FROM managed_policies WHERE policy_id = $1")
            .bind(&policy.policy_id)
            .execute(&mut *tx)
            .await?;
        self.commit_changed(tx, Cache::Policies).await
    }

    /// Attaches a managed policy (by ARN) to a user, group or role; attaching twice changes
    /// nothing. At most [`MAX_ATTACHED_POLICIES`] each (`TooManyAttachedPolicies`), counted
    /// under the entity's lock so two racing attachments cannot both pass.
    pub async fn attach_policy(&self, account_id: &str, arn: &str, to: AttachedTo<'_>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        lock_entity(&mut tx, to).await?;
        lock_customer_policy(&mut tx, account_id, arn).await?;
        let (attached, already): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN policy_arn = $3 THEN 1 ELSE 0 END), 0) \
             FROM policy_attachments WHERE entity_kind = $1 AND entity_id = $2",
        )
        .bind(to.kind())
        .bind(to.id())
        .bind(arn)
        .fetch_one(&mut *tx)
        .await?;
        if already == 0 && attached >= MAX_ATTACHED_POLICIES {
            return Err(StoreError::TooManyAttachedPolicies);
        }
        sqlx::query(
            "INSERT INTO policy_attachments (account_id, policy_arn, entity_kind, entity_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (policy_arn, entity_kind, entity_id) DO NOTHING",
        )
        .bind(account_id)
        .bind(arn)
        .bind(to.kind())
        .bind(to.id())
        .execute(&mut *tx)
        .await?;
        self.commit_changed(tx, Cache::Policies).await
    }

    /// Detaches a managed policy; `NoSuchPolicy` if it was not attached.
    pub async fn detach_policy(&self, arn: &str, from: AttachedTo<'_>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let removed =
            sqlx::query("DELETE FROM policy_attachments WHERE policy_arn = $1 AND entity_kind = $2 AND entity_id = $3")
                .bind(arn)
                .bind(from.kind())
                .bind(from.id())
                .execute(&mut *tx)
                .await?;
        if removed.rows_affected() == 0 {
            return Err(StoreError::NoSuchPolicy);
        }
        self.commit_changed(tx, Cache::Policies).await
    }

    /// The ARNs of the managed policies attached to a user or group, in order.
    pub async fn attached_policies(&self, to: AttachedTo<'_>) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT policy_arn FROM policy_attachments WHERE entity_kind = $1 AND entity_id = $2 ORDER BY policy_arn",
        )
        .bind(to.kind())
        .bind(to.id())
        .fetch_all(&self.inner.reader)
        .await?)
    }

    /// The users and groups a policy (by ARN) is attached to in `account_id`: (kind, name, id)
    /// with kind `user` or `group`, by name.
    pub async fn policy_entities(&self, account_id: &str, arn: &str) -> Result<Vec<(String, String, String)>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT 'user', u.name, u.user_id FROM policy_attachments a JOIN users u ON a.entity_kind = 'user' \
             AND u.user_id = a.entity_id WHERE a.policy_arn = $1 AND a.account_id = $2 \
             UNION ALL SELECT 'group', g.name, g.group_id FROM policy_attachments a JOIN groups g \
             ON a.entity_kind = 'group' AND g.group_id = a.entity_id WHERE a.policy_arn = $1 AND a.account_id = $2 \
             UNION ALL SELECT 'role', r.name, r.role_id FROM policy_attachments a JOIN roles r \
             ON a.entity_kind = 'role' AND r.role_id = a.entity_id WHERE a.policy_arn = $1 AND a.account_id = $2 \
             ORDER BY 2",
        )
        .bind(arn)
        .bind(account_id)
        .fetch_all(&self.inner.reader)
        .await?;
        Ok(rows)
    }

    /// Adds or replaces tags of a customer managed policy (at most 50 in all).
    pub async fn tag_policy(&self, policy: &ManagedPolicy, tags: &[crate::Tag]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if !lock(&mut tx, Guard::Policy(&policy.policy_id)).await? {
            return Err(StoreError::NoSuchPolicy);
        }
        for tag in tags {
            sqlx::query(
                "INSERT INTO policy_tags (policy_id, tag_key_key, tag_key, tag_value) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (policy_id, tag_key_key) DO UPDATE SET tag_key = excluded.tag_key, tag_value = excluded.tag_value",
            )
            .bind(&policy.policy_id)
            .bind(fold(&tag.key))
            .bind(&tag.key)
            .bind(&tag.value)
            .execute(&mut *tx)
            .await?;
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM policy_tags WHERE policy_id = $1")
            .bind(&policy.policy_id)
            .fetch_one(&mut *tx)
            .await?;
        if count > crate::MAX_TAGS_PER_USER {
            return Err(StoreError::TooManyTags);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes tags (by key, without regard to case) from a customer managed policy.
    pub async fn untag_policy(&self, policy: &ManagedPolicy, keys: &[&str]) -> Result<()> {
        for key in keys {
            sqlx::query("DELETE FROM policy_tags WHERE policy_id = $1 AND tag_key_key = $2")
                .bind(&policy.policy_id)
                .bind(fold(key))
                .execute(&self.inner.writer)
                .await?;
        }
        Ok(())
    }

    /// A customer managed policy's tags, by key.
    pub async fn policy_tags(&self, policy: &ManagedPolicy) -> Result<Vec<crate::Tag>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT tag_key, tag_value FROM policy_tags WHERE policy_id = $1 ORDER BY tag_key_key")
                .bind(&policy.policy_id)
                .fetch_all(&self.inner.reader)
                .await?;
        Ok(rows.into_iter().map(|(key, value)| crate::Tag { key, value }).collect())
    }

    /// How many users and groups of `account_id` a policy (by ARN) is attached to.
    pub async fn attachment_count(&self, account_id: &str, arn: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM policy_attachments WHERE policy_arn = $1 AND account_id = $2")
                .bind(arn)
                .bind(account_id)
                .fetch_one(&self.inner.reader)
                .await?,
        )
    }
}
