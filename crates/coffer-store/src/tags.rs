//! Tags of IAM users, roles and OpenID Connect providers: keys compared without case and kept as written, at most 50
//! per entity. One implementation; the owner names its table.

use sqlx::Row;

use crate::db::{Guard, lock};
use crate::epochs::Cache;
use crate::users::fold;
use crate::{MAX_TAGS_PER_USER, Page, Result, Store, StoreError, Tag};

/// Whose tags, by id.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TagOwner<'a> {
    User(&'a str),
    Role(&'a str),
    OidcProvider(&'a str),
}

impl TagOwner<'_> {
    /// The owner's tag table and its id column (fixed texts, never from a request).
    fn table(self) -> (&'static str, &'static str) {
        match self {
            TagOwner::User(_) => ("user_tags", "user_id"),
            TagOwner::Role(_) => ("role_tags", "role_id"),
            TagOwner::OidcProvider(_) => ("oidc_provider_tags", "provider_id"),
        }
    }

    fn id(&self) -> &str {
        match self {
            TagOwner::User(id) | TagOwner::Role(id) | TagOwner::OidcProvider(id) => id,
        }
    }
}

impl TagOwner<'_> {
    /// Whether the owner's tags are a principal's (`aws:PrincipalTag/*`), read with its
    /// policies: a change must move the policy cache's counter.
    fn is_principal(self) -> bool {
        matches!(self, TagOwner::User(_) | TagOwner::Role(_))
    }
}

impl<'a> TagOwner<'a> {
    /// The owner's row lock, and the error once the owner is gone.
    fn guard(self) -> (Guard<'a>, StoreError) {
        match self {
            TagOwner::User(id) => (Guard::User(id), StoreError::NoSuchUser),
            TagOwner::Role(id) => (Guard::Role(id), StoreError::NoSuchRole),
            TagOwner::OidcProvider(id) => (Guard::OidcProvider(id), StoreError::NoSuchOidcProvider),
        }
    }
}

/// Sets `tags` (replacing tags whose keys differ only in case), then checks the owner has
/// at most 50. The caller holds the owner's lock and commits.
pub(crate) async fn put_tags(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    owner: TagOwner<'_>,
    tags: &[Tag],
) -> Result<()> {
    let (table, column) = owner.table();
    for tag in tags {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE {column} = $1 AND tag_key_key = $2"
        )))
        .bind(owner.id())
        .bind(fold(&tag.key))
        .execute(&mut **tx)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} ({column}, tag_key_key, tag_key, tag_value) VALUES ($1, $2, $3, $4)"
        )))
        .bind(owner.id())
        .bind(fold(&tag.key))
        .bind(&tag.key)
        .bind(&tag.value)
        .execute(&mut **tx)
        .await?;
    }
    let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {table} WHERE {column} = $1"
    )))
    .bind(owner.id())
    .fetch_one(&mut **tx)
    .await?;
    if count > MAX_TAGS_PER_USER {
        return Err(StoreError::TooManyTags);
    }
    Ok(())
}

impl Store {
    /// Adds or overwrites the owner's tags, under its lock (a delete racing it wins or waits);
    /// at most 50 in all.
    pub(crate) async fn add_tags(&self, owner: TagOwner<'_>, tags: &[Tag]) -> Result<()> {
        let (guard, gone) = owner.guard();
        let mut tx = self.begin_write().await?;
        if !lock(&mut tx, guard).await? {
            return Err(gone);
        }
        put_tags(&mut tx, owner, tags).await?;
        self.commit_tags(tx, owner).await
    }

    async fn commit_tags(&self, tx: sqlx::Transaction<'static, sqlx::Any>, owner: TagOwner<'_>) -> Result<()> {
        if owner.is_principal() {
            return self.commit_changed(tx, Cache::Policies).await;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes the tags with these keys; keys the owner does not carry are ignored, as in IAM.
    pub(crate) async fn remove_tags(&self, owner: TagOwner<'_>, keys: &[String]) -> Result<()> {
        let (table, column) = owner.table();
        let mut tx = self.begin_write().await?;
        for key in keys {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE {column} = $1 AND tag_key_key = $2"
            )))
            .bind(owner.id())
            .bind(fold(key))
            .execute(&mut *tx)
            .await?;
        }
        self.commit_tags(tx, owner).await
    }

    /// The owner's tags in key order, after `marker`.
    pub(crate) async fn tags_of(
        &self,
        owner: TagOwner<'_>,
        marker: Option<&str>,
        max_items: usize,
    ) -> Result<Page<Tag>> {
        let (table, column) = owner.table();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT tag_key, tag_value FROM {table} WHERE {column} = $1 AND tag_key_key > $2 \
             ORDER BY tag_key_key LIMIT $3"
        )))
        .bind(owner.id())
        .bind(marker.unwrap_or(""))
        .bind(max_items as i64 + 1)
        .fetch_all(&self.inner.reader)
        .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            items.push(Tag {
                key: row.try_get("tag_key")?,
                value: row.try_get("tag_value")?,
            });
        }
        // Tag keys are stored folded for order and uniqueness; the marker is the folded key.
        Ok(Page::cut(items, max_items, |tag| fold(&tag.key)))
    }
}
