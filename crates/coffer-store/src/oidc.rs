//! IAM OpenID Connect providers: the identity providers whose tokens
//! AssumeRoleWithWebIdentity will accept, with their audiences (client ids), server
//! certificate thumbprints and tags. One per URL in an account.

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::db::{Guard, lock};
use crate::model::{from_millis, now_millis};
use crate::tags::{TagOwner, put_tags};
use crate::unique_violation;
use crate::{MAX_TAGS_PER_USER, Page, Result, Store, StoreError, Tag, ids};

/// Providers one account may have, as AWS's default quota.
pub const MAX_OIDC_PROVIDERS: i64 = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcProvider {
    pub provider_id: String,
    pub account_id: String,
    /// The issuer without its `https://`, as IAM keeps and returns it.
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    pub created_at: OffsetDateTime,
}

impl OidcProvider {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:oidc-provider/{}", self.account_id, self.url)
    }
}

/// A change to a provider's lists.
#[derive(Clone, Copy, Debug)]
pub enum OidcChange<'a> {
    AddClientId(&'a str),
    RemoveClientId(&'a str),
    Thumbprints(&'a [String]),
}

const COLUMNS: &str = "provider_id, account_id, url, client_ids, thumbprints, created_at";

fn list(row: &AnyRow, column: &str) -> Result<Vec<String>> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|_| StoreError::Corrupt("an OpenID Connect provider's list"))
}

fn provider_from_row(row: &AnyRow) -> Result<OidcProvider> {
    Ok(OidcProvider {
        provider_id: row.try_get("provider_id")?,
        account_id: row.try_get("account_id")?,
        url: row.try_get("url")?,
        client_ids: list(row, "client_ids")?,
        thumbprints: list(row, "thumbprints")?,
        created_at: from_millis(row.try_get("created_at")?),
    })
}

fn json(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

impl Store {
    /// Creates a provider for `url` (without `https://`); `OidcProviderExists` when the
    /// account has one for it, at most [`MAX_OIDC_PROVIDERS`].
    pub async fn create_oidc_provider(
        &self,
        account_id: &str,
        url: &str,
        client_ids: &[String],
        thumbprints: &[String],
        tags: &[Tag],
    ) -> Result<OidcProvider> {
        if tags.len() as i64 > MAX_TAGS_PER_USER {
            return Err(StoreError::TooManyTags);
        }
        let created_at = now_millis();
        let provider = OidcProvider {
            provider_id: ids::oidc_provider_id(),
            account_id: account_id.to_owned(),
            url: url.to_owned(),
            client_ids: client_ids.to_vec(),
            thumbprints: thumbprints.to_vec(),
            created_at: from_millis(created_at),
        };
        let mut tx = self.begin_write().await?;
        if !lock(&mut tx, Guard::Account(account_id)).await? {
            return Err(StoreError::NoSuchAccount);
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oidc_providers WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(&mut *tx)
            .await?;
        if count >= MAX_OIDC_PROVIDERS {
            return Err(StoreError::TooManyOidcProviders);
        }
        sqlx::query(
            "INSERT INTO oidc_providers (provider_id, account_id, url, client_ids, thumbprints, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&provider.provider_id)
        .bind(account_id)
        .bind(url)
        .bind(json(client_ids))
        .bind(json(thumbprints))
        .bind(created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_violation(e, StoreError::OidcProviderExists))?;
        put_tags(&mut tx, TagOwner::OidcProvider(&provider.provider_id), tags).await?;
        tx.commit().await?;
        Ok(provider)
    }

    /// The account's provider for `url` (without `https://`).
    pub async fn oidc_provider(&self, account_id: &str, url: &str) -> Result<OidcProvider> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM oidc_providers WHERE account_id = $1 AND url = $2"
        )))
        .bind(account_id)
        .bind(url)
        .fetch_optional(&self.inner.reader)
        .await?
        .ok_or(StoreError::NoSuchOidcProvider)?;
        provider_from_row(&row)
    }

    /// The account's providers, by URL.
    pub async fn list_oidc_providers(&self, account_id: &str) -> Result<Vec<OidcProvider>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM oidc_providers WHERE account_id = $1 ORDER BY url"
        )))
        .bind(account_id)
        .fetch_all(&self.inner.reader)
        .await?;
        rows.iter().map(provider_from_row).collect()
    }

    /// Changes a provider's client ids or thumbprints; at most `max_client_ids` client ids.
    pub async fn change_oidc_provider(
        &self,
        account_id: &str,
        url: &str,
        change: OidcChange<'_>,
        max_client_ids: usize,
    ) -> Result<()> {
        let provider = self.oidc_provider(account_id, url).await?;
        let mut tx = self.begin_write().await?;
        // Read again under the lock: two nodes adding client ids must not lose one.
        if !lock(&mut tx, Guard::OidcProvider(&provider.provider_id)).await? {
            return Err(StoreError::NoSuchOidcProvider);
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM oidc_providers WHERE provider_id = $1"
        )))
        .bind(&provider.provider_id)
        .fetch_one(&mut *tx)
        .await?;
        let mut current = provider_from_row(&row)?;
        match change {
            OidcChange::AddClientId(id) => {
                if !current.client_ids.iter().any(|c| c == id) {
                    if current.client_ids.len() >= max_client_ids {
                        return Err(StoreError::TooManyClientIds);
                    }
                    current.client_ids.push(id.to_owned());
                }
            }
            OidcChange::RemoveClientId(id) => current.client_ids.retain(|c| c != id),
            OidcChange::Thumbprints(thumbprints) => current.thumbprints = thumbprints.to_vec(),
        }
        sqlx::query("UPDATE oidc_providers SET client_ids = $1, thumbprints = $2 WHERE provider_id = $3")
            .bind(json(&current.client_ids))
            .bind(json(&current.thumbprints))
            .bind(&provider.provider_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a provider with its tags.
    pub async fn delete_oidc_provider(&self, account_id: &str, url: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM oidc_providers WHERE account_id = $1 AND url = $2")
            .bind(account_id)
            .bind(url)
            .execute(&self.inner.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoSuchOidcProvider);
        }
        Ok(())
    }

    /// Adds or overwrites a provider's tags (keys compared without case); at most 50 in all.
    pub async fn tag_oidc_provider(&self, account_id: &str, url: &str, tags: &[Tag]) -> Result<()> {
        let provider = self.oidc_provider(account_id, url).await?;
        self.add_tags(TagOwner::OidcProvider(&provider.provider_id), tags).await
    }

    /// Removes the provider's tags with these keys.
    pub async fn untag_oidc_provider(&self, account_id: &str, url: &str, keys: &[String]) -> Result<()> {
        let provider = self.oidc_provider(account_id, url).await?;
        self.remove_tags(TagOwner::OidcProvider(&provider.provider_id), keys)
            .await
    }

    /// The provider's tags in key order, after `marker`.
    pub async fn list_oidc_provider_tags(
        &self,
        account_id: &str,
        url: &str,
        marker: Option<&str>,
        max_items: usize,
    ) -> Result<Page<Tag>> {
        let provider = self.oidc_provider(account_id, url).await?;
        self.tags_of(TagOwner::OidcProvider(&provider.provider_id), marker, max_items)
            .await
    }
}
