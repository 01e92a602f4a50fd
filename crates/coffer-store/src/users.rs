//! IAM users and their tags.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Guard, lock};
use crate::epochs::Cache;
use crate::model::{from_millis, now_millis};
use crate::tags::{TagOwner, put_tags};
use crate::unique_violation;
use crate::{MAX_TAGS_PER_USER, Page, Result, Store, StoreError, Tag, User, ids};

const USER_COLUMNS: &str = "user_id, account_id, name, path, created_at, password_last_used";

pub(crate) fn user_from_row(row: &AnyRow) -> Result<User> {
    Ok(User {
        user_id: row.try_get("user_id")?,
        account_id: row.try_get("account_id")?,
        name: row.try_get("name")?,
        path: row.try_get("path")?,
        created_at: from_millis(row.try_get("created_at")?),
        password_last_used: row.try_get::<Option<i64>, _>("password_last_used")?.map(from_millis),
    })
}

/// IAM compares user names and tag keys without regard to case.
pub(crate) fn fold(name: &str) -> String {
    name.to_lowercase()
}

impl Store {
    /// Creates a user with its tags (at most 50), all or nothing.
    pub async fn create_user(&self, account_id: &str, name: &str, path: &str, tags: &[Tag]) -> Result<User> {
        self.create_user_bounded(account_id, name, path, tags, None).await
    }

    /// As [`Store::create_user`], with a permissions boundary (a managed policy's ARN) set
    /// in the same transaction.
    pub async fn create_user_bounded(
        &self,
        account_id: &str,
        name: &str,
        path: &str,
        tags: &[Tag],
        boundary: Option<&str>,
    ) -> Result<User> {
        if tags.len() as i64 > MAX_TAGS_PER_USER {
            return Err(StoreError::TooManyTags);
        }
        let created_at = now_millis();
        let user = User {
            user_id: ids::user_id(),
            account_id: account_id.to_owned(),
            name: name.to_owned(),
            path: path.to_owned(),
            created_at: from_millis(created_at),
            password_last_used: None,
        };
        let mut tx = self.begin_write().await?;
        if let Some(arn) = boundary {
            // The policy cannot be deleted while it becomes this user's boundary.
            crate::managed::lock_customer_policy(&mut tx, account_id, arn).await?;
        }
        sqlx::query(
            "INSERT INTO users (user_id, account_id, name, name_key, path, created_at, permissions_boundary) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&user.user_id)
        .bind(account_id)
        .bind(name)
        .bind(fold(name))
        .bind(path)
        .bind(created_at)
        .bind(boundary)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_violation(e, StoreError::UserExists))?;
        put_tags(&mut tx, TagOwner::User(&user.user_id), tags).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// The user named `name` (compared without case) in the account.
    pub async fn user(&self, account_id: &str, name: &str) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE account_id = $1 AND name_key = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(fold(name))
            .fetch_optional(&self.inner.reader)
            .await?
            .ok_or(StoreError::NoSuchUser)?;
        user_from_row(&row)
    }

    /// Users whose path starts with `path_prefix`, in name order, after `marker`.
    pub async fn list_users(
        &self,
        account_id: &str,
        path_prefix: &str,
        marker: Option<&str>,
        max_items: usize,
    ) -> Result<Page<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, name_key FROM users
             WHERE account_id = $1 AND substr(path, 1, length($2)) = $2 AND name_key > $3
             ORDER BY name_key LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(path_prefix)
            .bind(marker.unwrap_or(""))
            .bind(max_items as i64 + 1)
            .fetch_all(&self.inner.reader)
            .await?;
        let items = rows.iter().map(user_from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::cut(items, max_items, |u| fold(&u.name)))
    }

    pub async fn count_users(&self, account_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(&self.inner.reader)
            .await?)
    }

    /// Renames and/or moves a user, in one statement so concurrent updates cannot undo each
    /// other. Its id, keys and tags stay with it.
    pub async fn update_user(
        &self,
        account_id: &str,
        name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<User> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE users SET name = COALESCE($1, name), name_key = COALESCE($2, name_key), path = COALESCE($3, path)
             WHERE account_id = $4 AND name_key = $5",
        )
        .bind(new_name)
        .bind(new_name.map(fold))
        .bind(new_path)
        .bind(account_id)
        .bind(fold(name))
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_violation(e, StoreError::UserExists))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoSuchUser);
        }
        self.commit_changed(tx, Cache::Credentials).await?;
        self.user(account_id, new_name.unwrap_or(name)).await
    }

    /// Deletes a user that has no access keys left (`UserHasKeys` otherwise), with its tags.
    pub async fn delete_user(&self, account_id: &str, name: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let user_id: String = sqlx::query_scalar("SELECT user_id FROM users WHERE account_id = $1 AND name_key = $2")
            .bind(account_id)
            .bind(fold(name))
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NoSuchUser)?;
        // Held until the commit: a key, membership or policy another node adds meanwhile
        // waits, then finds the user gone.
        if !lock(&mut tx, Guard::User(&user_id)).await? {
            return Err(StoreError::NoSuchUser);
        }
        let keys: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM access_keys WHERE user_id = $1")
            .bind(&user_id)
            .fetch_one(&mut *tx)
            .await?;
        if keys > 0 {
            return Err(StoreError::UserHasKeys);
        }
        // As IAM: a user leaves its groups and loses its policies before it can go.
        let in_groups: Option<i64> = sqlx::query_scalar("SELECT 1 FROM group_members WHERE user_id = $1 LIMIT 1")
            .bind(&user_id)
            .fetch_optional(&mut *tx)
            .await?;
        if in_groups.is_some() {
            return Err(StoreError::UserInGroups);
        }
        let policies: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM inline_policies WHERE owner_kind = 'user' AND owner_id = $1 LIMIT 1")
                .bind(&user_id)
                .fetch_optional(&mut *tx)
                .await?;
        if policies.is_some() {
            return Err(StoreError::HasPolicies);
        }
        let attached: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM policy_attachments WHERE entity_kind = 'user' AND entity_id = $1 LIMIT 1",
        )
        .bind(&user_id)
        .fetch_optional(&mut *tx)
        .await?;
        if attached.is_some() {
            return Err(StoreError::HasAttachedPolicies);
        }
        let login: Option<i64> = sqlx::query_scalar("SELECT 1 FROM login_profiles WHERE user_id = $1")
            .bind(&user_id)
            .fetch_optional(&mut *tx)
            .await?;
        if login.is_some() {
            return Err(StoreError::HasLoginProfile);
        }
        sqlx::query("DELETE FROM user_tags WHERE user_id = $1")
            .bind(&user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM users WHERE user_id = $1")
            .bind(&user_id)
            .execute(&mut *tx)
            .await?;
        self.commit_changed(tx, Cache::Credentials).await
    }

    /// Adds or overwrites tags (keys compared without case); at most 50 per user in all.
    pub async fn tag_user(&self, account_id: &str, name: &str, tags: &[Tag]) -> Result<()> {
        let user = self.user(account_id, name).await?;
        self.add_tags(TagOwner::User(&user.user_id), tags).await
    }

    /// Removes the tags with these keys; keys the user does not carry are ignored, as in IAM.
    pub async fn untag_user(&self, account_id: &str, name: &str, keys: &[String]) -> Result<()> {
        let user = self.user(account_id, name).await?;
        self.remove_tags(TagOwner::User(&user.user_id), keys).await
    }

    /// The user's tags in key order, after `marker`.
    pub async fn list_user_tags(
        &self,
        account_id: &str,
        name: &str,
        marker: Option<&str>,
        max_items: usize,
    ) -> Result<Page<Tag>> {
        let user = self.user(account_id, name).await?;
        self.tags_of(TagOwner::User(&user.user_id), marker, max_items).await
    }
}
