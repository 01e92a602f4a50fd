//! Access keys: ids and sealed secrets, their status, and when each was last used.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::db::{Guard, lock};
use crate::epochs::Cache;
use crate::model::{from_millis, now_millis};
use crate::secrets::key_binding;
use crate::unique_violation;
use crate::{
    AccessKey, KeyLastUsed, KeyStatus, MAX_ACCESS_KEYS_PER_USER, NewAccessKey, Result, Sealer, Store, StoreError, ids,
};

/// Whose keys an operation addresses: the account's root user, or the IAM user of that name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOwnerName<'a> {
    Root,
    User(&'a str),
}

fn key_from_row(row: &AnyRow) -> Result<AccessKey> {
    let status: String = row.try_get("status")?;
    Ok(AccessKey {
        access_key_id: row.try_get("access_key_id")?,
        account_id: row.try_get("account_id")?,
        user_name: row.try_get("name")?,
        status: KeyStatus::parse(&status).unwrap_or(KeyStatus::Inactive),
        created_at: from_millis(row.try_get("created_at")?),
    })
}

const KEY_SELECT: &str = "SELECT k.access_key_id, k.account_id, u.name, k.status, k.created_at,
        k.last_used_at, k.last_used_service, k.last_used_region
    FROM access_keys k LEFT JOIN users u ON u.user_id = k.user_id";

/// Inserts a key for `user_id` (`None`: root) unless the owner already has the maximum.
pub(crate) async fn insert_access_key(
    tx: &mut Transaction<'_, Any>,
    sealer: &Sealer,
    account_id: &str,
    user: Option<(&str, &str)>,
    key_id: &str,
    secret: &str,
) -> Result<AccessKey> {
    let user_id = user.map(|(id, _)| id);
    let owner = match user_id {
        Some(id) => Guard::User(id),
        None => Guard::Account(account_id),
    };
    if !lock(tx, owner).await? {
        return Err(if user_id.is_some() {
            StoreError::NoSuchUser
        } else {
            StoreError::NoSuchAccount
        });
    }
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM access_keys WHERE account_id = $1 AND ((user_id IS NULL AND $2 IS NULL) OR user_id = $2)",
    )
    .bind(account_id)
    .bind(user_id)
    .fetch_one(&mut **tx)
    .await?;
    if count >= MAX_ACCESS_KEYS_PER_USER {
        return Err(StoreError::TooManyAccessKeys);
    }
    let created_at = now_millis();
    sqlx::query(
        "INSERT INTO access_keys (access_key_id, account_id, user_id, status, sealed_secret, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key_id)
    .bind(account_id)
    .bind(user_id)
    .bind(KeyStatus::Active.as_str())
    .bind(sealer.seal(&key_binding(key_id, account_id, user_id), secret))
    .bind(created_at)
    .execute(&mut **tx)
    .await
    .map_err(|e| unique_violation(e, StoreError::AccessKeyExists))?;
    Ok(AccessKey {
        access_key_id: key_id.to_owned(),
        account_id: account_id.to_owned(),
        user_name: user.map(|(_, name)| name.to_owned()),
        status: KeyStatus::Active,
        created_at: from_millis(created_at),
    })
}

impl Store {
    /// The `user_id` behind an owner name; `None` for root.
    async fn owner_user(&self, account_id: &str, owner: KeyOwnerName<'_>) -> Result<Option<(String, String)>> {
        match owner {
            KeyOwnerName::Root => Ok(None),
            KeyOwnerName::User(name) => {
                let user = self.user(account_id, name).await?;
                Ok(Some((user.user_id, user.name)))
            }
        }
    }

    /// Creates an active key with a fresh secret; the secret is returned this once.
    pub async fn create_access_key(&self, account_id: &str, owner: KeyOwnerName<'_>) -> Result<NewAccessKey> {
        let user = self.owner_user(account_id, owner).await?;
        let secret = ids::secret_access_key();
        let mut tx = self.begin_write().await?;
        let key = loop {
            let key_id = ids::access_key_id();
            let user = user.as_ref().map(|(id, name)| (id.as_str(), name.as_str()));
            match insert_access_key(&mut tx, &self.inner.sealer, account_id, user, &key_id, &secret).await {
                Err(StoreError::AccessKeyExists) => continue,
                other => break other?,
            }
        };
        tx.commit().await?;
        Ok(NewAccessKey {
            key,
            secret_access_key: secret,
        })
    }

    /// The owner's keys, oldest first.
    pub async fn list_access_keys(&self, account_id: &str, owner: KeyOwnerName<'_>) -> Result<Vec<AccessKey>> {
        let user = self.owner_user(account_id, owner).await?;
        let sql = format!(
            "{KEY_SELECT} WHERE k.account_id = $1 AND ((k.user_id IS NULL AND $2 IS NULL) OR k.user_id = $2)
             ORDER BY k.created_at, k.access_key_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(user.map(|(id, _)| id))
            .fetch_all(&self.inner.reader)
            .await?;
        rows.iter().map(key_from_row).collect()
    }

    /// How many keys the account's root user has (for `AccountAccessKeysPresent`).
    pub async fn count_root_access_keys(&self, account_id: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM access_keys WHERE account_id = $1 AND user_id IS NULL")
                .bind(account_id)
                .fetch_one(&self.inner.reader)
                .await?,
        )
    }

    /// Activates or deactivates one of the owner's keys.
    pub async fn update_access_key(
        &self,
        account_id: &str,
        owner: KeyOwnerName<'_>,
        key_id: &str,
        status: KeyStatus,
    ) -> Result<()> {
        let user = self.owner_user(account_id, owner).await?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE access_keys SET status = $1
             WHERE access_key_id = $2 AND account_id = $3 AND ((user_id IS NULL AND $4 IS NULL) OR user_id = $4)",
        )
        .bind(status.as_str())
        .bind(key_id)
        .bind(account_id)
        .bind(user.map(|(id, _)| id))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoSuchAccessKey);
        }
        self.commit_changed(tx, Cache::Credentials).await
    }

    /// Deletes one of the owner's keys; it stops authenticating at once.
    pub async fn delete_access_key(&self, account_id: &str, owner: KeyOwnerName<'_>, key_id: &str) -> Result<()> {
        let user = self.owner_user(account_id, owner).await?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "DELETE FROM access_keys
             WHERE access_key_id = $1 AND account_id = $2 AND ((user_id IS NULL AND $3 IS NULL) OR user_id = $3)",
        )
        .bind(key_id)
        .bind(account_id)
        .bind(user.map(|(id, _)| id))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoSuchAccessKey);
        }
        self.commit_changed(tx, Cache::Credentials).await?;
        self.inner.pending_key_use.lock().remove(key_id);
        Ok(())
    }

    /// A key of the account with its last use, if it was ever used.
    pub async fn access_key_last_used(
        &self,
        account_id: &str,
        key_id: &str,
    ) -> Result<(AccessKey, Option<KeyLastUsed>)> {
        let sql = format!("{KEY_SELECT} WHERE k.access_key_id = $1 AND k.account_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(key_id)
            .bind(account_id)
            .fetch_optional(&self.inner.reader)
            .await?
            .ok_or(StoreError::NoSuchAccessKey)?;
        let key = key_from_row(&row)?;
        let pending = self.inner.pending_key_use.lock().get(key_id).cloned();
        let last_used = match pending {
            Some((at, service, region)) => Some(KeyLastUsed {
                at: from_millis(at),
                service,
                region,
            }),
            None => match row.try_get::<Option<i64>, _>("last_used_at")? {
                Some(at) => Some(KeyLastUsed {
                    at: from_millis(at),
                    service: row
                        .try_get::<Option<String>, _>("last_used_service")?
                        .unwrap_or_default(),
                    region: row
                        .try_get::<Option<String>, _>("last_used_region")?
                        .unwrap_or_default(),
                }),
                None => None,
            },
        };
        Ok((key, last_used))
    }

    /// Notes that a key authenticated a request just now. Costs a map insert; the write to SQL
    /// happens in [`Store::flush_key_use`].
    pub fn record_key_use(&self, key_id: &str, service: &str, region: &str) {
        let mut pending = self.inner.pending_key_use.lock();
        // Read under the lock, so the use recorded last is the latest.
        let now = now_millis();
        match pending.get_mut(key_id) {
            // A key in use is noted again and again: updated in place, nothing allocated.
            Some(used) => {
                used.0 = now;
                if used.1 != service {
                    service.clone_into(&mut used.1);
                }
                if used.2 != region {
                    region.clone_into(&mut used.2);
                }
            }
            None => {
                pending.insert(key_id.to_owned(), (now, service.to_owned(), region.to_owned()));
            }
        }
    }

    /// Writes every recorded key use in one transaction.
    pub async fn flush_key_use(&self) -> Result<()> {
        let pending = std::mem::take(&mut *self.inner.pending_key_use.lock());
        if pending.is_empty() {
            return Ok(());
        }
        let written = self.write_key_use(&pending).await;
        if written.is_err() {
            // Keep them for the next flush; newer uses recorded meanwhile win.
            let mut map = self.inner.pending_key_use.lock();
            for (key_id, used) in pending {
                map.entry(key_id).or_insert(used);
            }
        }
        written
    }

    async fn write_key_use(&self, pending: &std::collections::HashMap<String, (i64, String, String)>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for (key_id, (at, service, region)) in pending {
            sqlx::query(
                "UPDATE access_keys SET last_used_at = $1, last_used_service = $2, last_used_region = $3
                 WHERE access_key_id = $4",
            )
            .bind(*at)
            .bind(service)
            .bind(region)
            .bind(key_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
