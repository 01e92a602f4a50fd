//! IAM roles: who may assume them (the trust policy), for how long, within which boundary,
//! and their tags. What a role may do is in its inline and attached policies (owner kind
//! `role`), and a role cannot be deleted while it has any, as in IAM.

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::db::{Guard, lock};
use crate::model::{from_millis, now_millis};
use crate::tags::{TagOwner, put_tags};
use crate::unique_violation;
use crate::users::fold;
use crate::{MAX_TAGS_PER_USER, Page, Result, Store, StoreError, Tag, ids};

/// Roles one account may have, as AWS's default quota.
pub const MAX_ROLES_PER_ACCOUNT: i64 = 1000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    pub role_id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    /// As written; IAM returns it URL-encoded.
    pub trust_policy: String,
    pub description: Option<String>,
    pub max_session_duration: i64,
    pub permissions_boundary: Option<String>,
    pub created_at: OffsetDateTime,
    /// When and in which region a session of the role was last used.
    pub last_used: Option<(OffsetDateTime, String)>,
}

impl Role {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:role{}{}", self.account_id, self.path, self.name)
    }
}

/// What a new role is made of.
#[derive(Clone, Debug)]
pub struct NewRole<'a> {
    pub name: &'a str,
    pub path: &'a str,
    pub trust_policy: &'a str,
    pub description: Option<&'a str>,
    pub max_session_duration: i64,
    pub permissions_boundary: Option<&'a str>,
    pub tags: &'a [Tag],
}

/// A change to a role; `None` keeps what it has.
#[derive(Clone, Debug, Default)]
pub struct RoleChange<'a> {
    pub description: Option<&'a str>,
    pub max_session_duration: Option<i64>,
    pub trust_policy: Option<&'a str>,
}

const ROLE_COLUMNS: &str = "role_id, account_id, name, path, trust_policy, description, max_session_duration, \
     permissions_boundary, created_at, last_used_at, last_used_region";

fn role_from_row(row: &AnyRow) -> Result<Role> {
    let last_used_at: Option<i64> = row.try_get("last_used_at")?;
    let last_used_region: Option<String> = row.try_get("last_used_region")?;
    Ok(Role {
        role_id: row.try_get("role_id")?,
        account_id: row.try_get("account_id")?,
        name: row.try_get("name")?,
        path: row.try_get("path")?,
        trust_policy: row.try_get("trust_policy")?,
        description: row.try_get("description")?,
        max_session_duration: row.try_get("max_session_duration")?,
        permissions_boundary: row.try_get("permissions_boundary")?,
        created_at: from_millis(row.try_get("created_at")?),
        last_used: last_used_at.map(|at| (from_millis(at), last_used_region.unwrap_or_default())),
    })
}

impl Store {
    /// Creates a role with its tags, all or nothing; at most [`MAX_ROLES_PER_ACCOUNT`].
    pub async fn create_role(&self, account_id: &str, new: &NewRole<'_>) -> Result<Role> {
        if new.tags.len() as i64 > MAX_TAGS_PER_USER {
            return Err(StoreError::TooManyTags);
        }
        let created_at = now_millis();
        let role = Role {
            role_id: ids::role_id(),
            account_id: account_id.to_owned(),
            name: new.name.to_owned(),
            path: new.path.to_owned(),
            trust_policy: new.trust_policy.to_owned(),
            description: new.description.map(str::to_owned),
            max_session_duration: new.max_session_duration,
            permissions_boundary: new.permissions_boundary.map(str::to_owned),
            created_at: from_millis(created_at),
            last_used: None,
        };
        let mut tx = self.begin_write().await?;
        // The account's lock serialises counting its roles with adding one, on every node.
        if !lock(&mut tx, Guard::Account(account_id)).await? {
            return Err(StoreError::NoSuchAccount);
        }
        let roles: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM roles WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(&mut *tx)
            .await?;
        if roles >= MAX_ROLES_PER_ACCOUNT {
            return Err(StoreError::TooManyRoles);
        }
        if let Some(arn) = new.permissions_boundary {
            crate::managed::lock_customer_policy(&mut tx, account_id, arn).await?;
        }
        sqlx::query(
            "INSERT INTO roles (role_id, account_id, name, name_key, path, trust_policy, description, \
             max_session_duration, permissions_boundary, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&role.role_id)
        .bind(account_id)
        .bind(&role.name)
        .bind(fold(&role.name))
        .bind(&role.path)
        .bind(&role.trust_policy)
        .bind(&role.description)
        .bind(role.max_session_duration)
        .bind(&role.permissions_boundary)
        .bind(created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_violation(e, StoreError::RoleExists))?;
        put_tags(&mut tx, TagOwner::Role(&role.role_id), new.tags).await?;
        tx.commit().await?;
        Ok(role)
    }

    /// The role named `name` (compared without case) in the account.
    pub async fn role(&self, account_id: &str, name: &str) -> Result<Role> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ROLE_COLUMNS} FROM roles WHERE account_id = $1 AND name_key = $2"
        )))
        .bind(account_id)
        .bind(fold(name))
        .fetch_optional(&self.inner.reader)
        .await?
        .ok_or(StoreError::NoSuchRole)?;
        role_from_row(&row)
    }

    /// Notes that a session of the role was made now, in `region` (GetRole's RoleLastUsed).
    pub async fn record_role_use(&self, role_id: &str, region: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE roles SET last_used_at = $1, last_used_region = $2 WHERE role_id = $3")
            .bind(now_millis())
            .bind(region)
            .bind(role_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Roles whose path starts with `path_prefix`, in name order, after `marker`.
    pub async fn list_roles(
        &self,
        account_id: &str,
        path_prefix: &str,
        marker: Option<&str>,
        max_items: usize,
    ) -> Result<Page<Role>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ROLE_COLUMNS} FROM roles \
             WHERE account_id = $1 AND substr(path, 1, length($2)) = $2 AND name_key > $3 \
             ORDER BY name_key LIMIT $4"
        )))
        .bind(account_id)
        .bind(path_prefix)
        .bind(marker.unwrap_or(""))
        .bind(max_items as i64 + 1)
        .fetch_all(&self.inner.reader)
        .await?;
        let items = rows.iter().map(role_from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::cut(items, max_items, |r| fold(&r.name)))
    }

    pub async fn count_roles(&self, account_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM roles WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(&self.inner.reader)
            .await?)
    }

    /// Changes a role's description, longest session or trust policy.
    /// Returns the role as this change left it.
    pub async fn update_role(&self, account_id: &str, name: &str, change: &RoleChange<'_>) -> Result<Role> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE roles SET description = COALESCE($1, description), \
             max_session_duration = COALESCE($2, max_session_duration), trust_policy = COALESCE($3, trust_policy) \
             WHERE account_id = $4 AND name_key = $5 RETURNING {ROLE_COLUMNS}"
        )))
        .bind(change.description)
        .bind(change.max_session_duration)
        .bind(change.trust_policy)
        .bind(account_id)
        .bind(fold(name))
        .fetch_optional(&self.inner.writer)
        .await?
        .ok_or(StoreError::NoSuchRole)?;
        role_from_row(&row)
    }

    /// Deletes a role without inline or attached policies (`DeleteConflict` otherwise, as in
    /// IAM), with its tags.
    pub async fn delete_role(&self, account_id: &str, name: &str) -> Result<()> {
        let role = self.role(account_id, name).await?;
        let mut tx = self.begin_write().await?;
        // Held until the commit: a policy another node attaches meanwhile waits, then finds
        // the role gone.
        if !lock(&mut tx, Guard::Role(&role.role_id)).await? {
            return Err(StoreError::NoSuchRole);
        }
        let inline: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM inline_policies WHERE owner_kind = 'role' AND owner_id = $1 LIMIT 1")
                .bind(&role.role_id)
                .fetch_optional(&mut *tx)
                .await?;
        if inline.is_some() {
            return Err(StoreError::HasPolicies);
        }
        let attached: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM policy_attachments WHERE entity_kind = 'role' AND entity_id = $1 LIMIT 1",
        )
        .bind(&role.role_id)
        .fetch_optional(&mut *tx)
        .await?;
        if attached.is_some() {
            return Err(StoreError::HasAttachedPolicies);
        }
        sqlx::query("DELETE FROM roles WHERE role_id = $1")
            .bind(&role.role_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds or overwrites a role's tags (keys compared without case); at most 50 in all.
    pub async fn tag_role(&self, account_id: &str, name: &str, tags: &[Tag]) -> Result<()> {
        let role = self.role(account_id, name).await?;
        self.add_tags(TagOwner::Role(&role.role_id), tags).await
    }

    /// Removes the role's tags with these keys; keys it does not carry are ignored.
    pub async fn untag_role(&self, account_id: &str, name: &str, keys: &[String]) -> Result<()> {
        let role = self.role(account_id, name).await?;
        self.remove_tags(TagOwner::Role(&role.role_id), keys).await
    }

    /// The role's tags in key order, after `marker`.
    pub async fn list_role_tags(
        &self,
        account_id: &str,
        name: &str,
        marker: Option<&str>,
        max_items: usize,
    ) -> Result<Page<Tag>> {
        let role = self.role(account_id, name).await?;
        self.tags_of(TagOwner::Role(&role.role_id), marker, max_items).await
    }
}
