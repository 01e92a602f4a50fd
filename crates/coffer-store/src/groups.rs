//! IAM groups and their members.

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::db::{Guard, lock};
use crate::epochs::Cache;
use crate::model::{from_millis, now_millis};
use crate::unique_violation;
use crate::users::{fold, user_from_row};
use crate::{Page, Result, Store, StoreError, User, ids};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub group_id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub created_at: OffsetDateTime,
}

impl Group {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:group{}{}", self.account_id, self.path, self.name)
    }
}

const GROUP_COLUMNS: &str = "group_id, account_id, name, path, created_at";

fn group_from_row(row: &AnyRow) -> Result<Group> {
    Ok(Group {
        group_id: row.try_get("group_id")?,
        account_id: row.try_get("account_id")?,
        name: row.try_get("name")?,
        path: row.try_get("path")?,
        created_at: from_millis(row.try_get("created_at")?),
    })
}

impl Store {
    pub async fn create_group(&self, account_id: &str, name: &str, path: &str) -> Result<Group> {
        let created_at = now_millis();
        let group = Group {
            group_id: ids::group_id(),
            account_id: account_id.to_owned(),
            name: name.to_owned(),
            path: path.to_owned(),
            created_at: from_millis(created_at),
        };
        sqlx::query(
            "INSERT INTO groups (group_id, account_id, name, name_key, path, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&group.group_id)
        .bind(account_id)
        .bind(name)
        .bind(fold(name))
        .bind(path)
        .bind(created_at)
        .execute(&self.inner.writer)
        .await
        .map_err(|e| unique_violation(e, StoreError::GroupExists))?;
        Ok(group)
    }

    pub async fn group(&self, account_id: &str, name: &str) -> Result<Group> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GROUP_COLUMNS} FROM groups WHERE account_id = $1 AND name_key = $2"
        )))
        .bind(account_id)
        .bind(fold(name))
        .fetch_optional(&self.inner.reader)
        .await?;
        row.as_ref()
            .map(group_from_row)
            .transpose()?
            .ok_or(StoreError::NoSuchGroup)
    }

    /// Groups whose path starts with `prefix`, by name, after `marker`.
    pub async fn list_groups(
        &self,
        account_id: &str,
        prefix: &str,
        marker: Option<&str>,
        max_items: i64,
    ) -> Result<Page<Group>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GROUP_COLUMNS}, name_key FROM groups WHERE account_id = $1 AND name_key > $2 \
             AND substr(path, 1, CAST($3 AS INTEGER)) = $4 ORDER BY name_key LIMIT $5"
        )))
        .bind(account_id)
        .bind(marker.map(fold).unwrap_or_default())
        .bind(prefix.len() as i64)
        .bind(prefix)
        .bind(max_items + 1)
        .fetch_all(&self.inner.reader)
        .await?;
        let mut items = rows.iter().map(group_from_row).collect::<Result<Vec<_>>>()?;
        let next_marker = if items.len() as i64 > max_items {
            items.truncate(max_items as usize);
            items.last().map(|g| fold(&g.name))
        } else {
            None
        };
        Ok(Page { items, next_marker })
    }

    /// Renames or moves a group.
    pub async fn update_group(
        &self,
        account_id: &str,
        name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<()> {
        let group = self.group(account_id, name).await?;
        let new_name = new_name.unwrap_or(&group.name);
        let new_path = new_path.unwrap_or(&group.path);
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE groups SET name = $1, name_key = $2, path = $3 WHERE group_id = $4")
            .bind(new_name)
            .bind(fold(new_name))
            .bind(new_path)
            .bind(&group.group_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_violation(e, StoreError::GroupExists))?;
        self.commit_changed(tx, Cache::Policies).await
    }

    /// Deletes a group without members or policies (`DeleteConflict` otherwise, as in IAM).
    pub async fn delete_group(&self, account_id: &str, name: &str) -> Result<()> {
        let group = self.group(account_id, name).await?;
        let mut tx = self.begin_write().await?;
        // Held until the commit: a member or policy another node adds meanwhile waits, then
        // finds the group gone.
        if !lock(&mut tx, Guard::Group(&group.group_id)).await? {
            return Err(StoreError::NoSuchGroup);
        }
        let members: Option<i64> = sqlx::query_scalar("SELECT 1 FROM group_members WHERE group_id = $1 LIMIT 1")
            .bind(&group.group_id)
            .fetch_optional(&mut *tx)
            .await?;
        if members.is_some() {
            return Err(StoreError::GroupHasMembers);
        }
        let policies: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM inline_policies WHERE owner_kind = 'group' AND owner_id = $1 LIMIT 1")
                .bind(&group.group_id)
                .fetch_optional(&mut *tx)
                .await?;
        if policies.is_some() {
            return Err(StoreError::HasPolicies);
        }
        let attached: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM policy_attachments WHERE entity_kind = 'group' AND entity_id = $1 LIMIT 1",
        )
        .bind(&group.group_id)
        .fetch_optional(&mut *tx)
        .await?;
        if attached.is_some() {
            return Err(StoreError::HasAttachedPolicies);
        }
        sqlx::query("DELETE FROM groups WHERE group_id = $1")
            .bind(&group.group_id)
            .execute(&mut *tx)
            .await?;
        self.commit_changed(tx, Cache::Policies).await
    }

    /// Adds a user to a group (already a member: nothing changes, as in IAM).
    pub async fn add_user_to_group(&self, account_id: &str, group_name: &str, user_name: &str) -> Result<()> {
        let group = self.group(account_id, group_name).await?;
        let user = self.user(account_id, user_name).await?;
        let mut tx = self.begin_write().await?;
        // Neither may be deleted before this commits (a delete checks for members).
        if !lock(&mut tx, Guard::User(&user.user_id)).await? {
            return Err(StoreError::NoSuchUser);
        }
        if !lock(&mut tx, Guard::Group(&group.group_id)).await? {
            return Err(StoreError::NoSuchGroup);
        }
        sqlx::query(
            "INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT (group_id, user_id) DO NOTHING",
        )
        .bind(&group.group_id)
        .bind(&user.user_id)
        .execute(&mut *tx)
        .await?;
        self.commit_changed(tx, Cache::Policies).await
    }

    /// Removes a user from a group; `NoSuchUser` if it was not a member.
    pub async fn remove_user_from_group(&self, account_id: &str, group_name: &str, user_name: &str) -> Result<()> {
        let group = self.group(account_id, group_name).await?;
        let user = self.user(account_id, user_name).await?;
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
            .bind(&group.group_id)
            .bind(&user.user_id)
            .execute(&mut *tx)
            .await?;
        if removed.rows_affected() == 0 {
            return Err(StoreError::NotAMember);
        }
        self.commit_changed(tx, Cache::Policies).await
    }

    /// A group's members, by name.
    pub async fn group_members(&self, group: &Group) -> Result<Vec<User>> {
        let rows = sqlx::query(
            "SELECT u.user_id, u.account_id, u.name, u.path, u.created_at, u.password_last_used FROM users u \
             JOIN group_members m ON m.user_id = u.user_id WHERE m.group_id = $1 ORDER BY u.name_key",
        )
        .bind(&group.group_id)
        .fetch_all(&self.inner.reader)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// The groups a user belongs to, by name.
    pub async fn groups_for_user(&self, user: &User) -> Result<Vec<Group>> {
        let rows = sqlx::query(
            "SELECT g.group_id, g.account_id, g.name, g.path, g.created_at FROM groups g \
             JOIN group_members m ON m.group_id = g.group_id WHERE m.user_id = $1 ORDER BY g.name_key",
        )
        .bind(&user.user_id)
        .fetch_all(&self.inner.reader)
        .await?;
        rows.iter().map(group_from_row).collect()
    }
}
