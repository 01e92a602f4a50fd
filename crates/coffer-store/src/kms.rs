//! Coffer's key ring (KMS): symmetric keys an account creates (or S3 creates for it: the AWS
//! managed key `aws/s3`), and their aliases. A key's material is 32 random bytes sealed under
//! the master key and opened when the key is read; SSE-KMS objects' data keys are sealed under
//! it ([`KmsKey::seal_data_key`]), so a key that is disabled or pending deletion makes its
//! objects unreadable until it is enabled again.

use std::sync::Arc;

use rand::Rng;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::encryption::DataKey;
use crate::epochs::Cache;
use crate::model::{from_millis, now_millis, to_millis};
use crate::{Result, Store, StoreError};

/// The name S3's AWS managed key goes by (`alias/aws/s3`).
pub const AWS_MANAGED_S3: &str = "aws/s3";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KmsKeyState {
    Enabled,
    Disabled,
    PendingDeletion,
}

impl KmsKeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KmsKeyState::Enabled => "Enabled",
            KmsKeyState::Disabled => "Disabled",
            KmsKeyState::PendingDeletion => "PendingDeletion",
        }
    }

    fn parse(text: &str) -> Result<KmsKeyState> {
        match text {
            "Enabled" => Ok(KmsKeyState::Enabled),
            "Disabled" => Ok(KmsKeyState::Disabled),
            "PendingDeletion" => Ok(KmsKeyState::PendingDeletion),
            _ => Err(StoreError::Corrupt("a KMS key's state")),
        }
    }
}

/// A key of the ring, its material opened.
#[derive(Clone)]
pub struct KmsKey {
    pub key_id: String,
    pub account_id: String,
    pub region: String,
    pub description: String,
    pub state: KmsKeyState,
    /// `aws/s3` for the AWS managed key S3 made for the account; `None` for the account's own.
    pub managed: Option<String>,
    pub created_at: OffsetDateTime,
    pub deletion_date: Option<OffsetDateTime>,
    /// Opened for a key read to be used; `None` in listings, which use none.
    material: Option<Arc<[u8; 32]>>,
}

impl std::fmt::Debug for KmsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsKey")
            .field("key_id", &self.key_id)
            .field("account_id", &self.account_id)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl KmsKey {
    /// A key whose deletion fell due is gone: no request finds it, and what it sealed stays
    /// sealed for good (its row is kept only as an unreadable remainder).
    fn deleted(&self, now: OffsetDateTime) -> bool {
        self.state == KmsKeyState::PendingDeletion && self.deletion_date.is_some_and(|date| date <= now)
    }

    pub fn arn(&self) -> String {
        format!("arn:aws:kms:{}:{}:key/{}", self.region, self.account_id, self.key_id)
    }

    /// Seals an object's data key under this key, bound to `binding` (the object and its
    /// encryption context): it opens only under this key, for the same binding.
    pub fn seal_data_key(&self, binding: &str, data_key: &DataKey) -> Result<Vec<u8>> {
        let material = self.material.as_ref().ok_or(StoreError::SealBroken)?;
        Ok(crate::secrets::seal_under(material, binding, &data_key.0))
    }

    /// Opens what [`KmsKey::seal_data_key`] sealed for the same binding.
    pub fn open_data_key(&self, binding: &str, sealed: &[u8]) -> Result<DataKey> {
        let material = self.material.as_ref().ok_or(StoreError::SealBroken)?;
        let bytes = crate::secrets::open_under(material, binding, sealed)?;
        Ok(DataKey(bytes.try_into().map_err(|_| StoreError::SealBroken)?))
    }
}

/// An alias and the key it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KmsAlias {
    /// With its `alias/` prefix.
    pub name: String,
    pub key_id: String,
    pub created_at: OffsetDateTime,
}

const KEY_COLUMNS: &str =
    "key_id, account_id, region, description, state, managed, material, created_at, deletion_date";
/// [`KEY_COLUMNS`] of `kms_keys k` in a join.
const JOINED_KEY_COLUMNS: &str =
    "k.key_id, k.account_id, k.region, k.description, k.state, k.managed, k.material, k.created_at, k.deletion_date";

fn material_binding(key_id: &str, account_id: &str) -> String {
    format!("kms-key|{account_id}|{key_id}")
}

/// How a request names a key: its id, its ARN, an alias (`alias/name`) or an alias's ARN.
#[derive(Debug, PartialEq, Eq)]
enum KeyRef<'a> {
    Id {
        region: Option<&'a str>,
        account: Option<&'a str>,
        key_id: &'a str,
    },
    Alias {
        account: Option<&'a str>,
        name: &'a str,
    },
}

fn key_ref(reference: &str) -> KeyRef<'_> {
    if let Some(rest) = reference.strip_prefix("arn:aws:kms:") {
        // region:account:key/id or region:account:alias/name
        let mut parts = rest.splitn(3, ':');
        let (region, account, resource) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
        if let Some(key_id) = resource.strip_prefix("key/") {
            return KeyRef::Id {
                region,
                account,
                key_id,
            };
        }
        return KeyRef::Alias {
            account,
            name: resource,
        };
    }
    if reference.starts_with("alias/") {
        return KeyRef::Alias {
            account: None,
            name: reference,
        };
    }
    KeyRef::Id {
        region: None,
        account: None,
        key_id: reference,
    }
}

impl Store {
    /// A key from its row; its material opened when `open` (a listing opens none, so one
    /// unreadable row cannot break it). `None` for a key whose deletion fell due.
    fn kms_key_from_row(&self, row: &AnyRow, open: bool) -> Result<Option<KmsKey>> {
        let key_id: String = row.try_get("key_id")?;
        let account_id: String = row.try_get("account_id")?;
        let state: String = row.try_get("state")?;
        let deletion: Option<i64> = row.try_get("deletion_date")?;
        let mut key = KmsKey {
            material: None,
            region: row.try_get("region")?,
            description: row.try_get("description")?,
            state: KmsKeyState::parse(&state)?,
            managed: row.try_get("managed")?,
            created_at: from_millis(row.try_get("created_at")?),
            deletion_date: deletion.map(from_millis),
            key_id,
            account_id,
        };
        if key.deleted(OffsetDateTime::now_utc()) {
            return Ok(None);
        }
        if open {
            let sealed: Vec<u8> = row.try_get("material")?;
            let material = self
                .sealer()
                .open_data_key(&material_binding(&key.key_id, &key.account_id), &sealed)?;
            key.material = Some(Arc::new(material.try_into().map_err(|_| StoreError::SealBroken)?));
        }
        Ok(Some(key))
    }

    /// Adds a key with new material; returns its id. A second AWS managed key of the same
    /// name is not added (the unique index on `managed`: two nodes may race to make it).
    async fn insert_kms_key(
        &self,
        account_id: &str,
        region: &str,
        description: &str,
        managed: Option<&str>,
    ) -> Result<String> {
        let key_id = crate::ids::kms_key_id();
        let material: [u8; 32] = rand::rng().random();
        let sealed = self
            .sealer()
            .seal_data_key(&material_binding(&key_id, account_id), &material);
        let mut tx = self.begin_write().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO kms_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, 'Enabled', $5, $6, $7, NULL) \
             ON CONFLICT DO NOTHING"
        )))
        .bind(&key_id)
        .bind(account_id)
        .bind(region)
        .bind(description)
        .bind(managed)
        .bind(sealed)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        self.commit_changed(tx, Cache::KmsKeys).await?;
        Ok(key_id)
    }

    /// Creates a customer managed key in `account_id`'s ring.
    pub async fn create_kms_key(&self, account_id: &str, region: &str, description: &str) -> Result<KmsKey> {
        let key_id = self.insert_kms_key(account_id, region, description, None).await?;
        self.kms_key(account_id, &key_id).await?.ok_or(StoreError::NoSuchKmsKey)
    }

    /// The account's AWS managed key for S3 (`alias/aws/s3`), made on first use as S3 does.
    pub async fn aws_managed_s3_key(&self, account_id: &str, region: &str) -> Result<KmsKey> {
        let alias = format!("alias/{AWS_MANAGED_S3}");
        if let Some(key) = self.kms_key(account_id, &alias).await? {
            return Ok(key);
        }
        self.insert_kms_key(
            account_id,
            region,
            "Default key that protects my S3 objects when no other key is defined",
            Some(AWS_MANAGED_S3),
        )
        .await?;
        self.kms_key(account_id, &alias).await?.ok_or(StoreError::NoSuchKmsKey)
    }

    /// The key `reference` names (an id, an ARN, an alias or an alias's ARN), looked up as
    /// `account_id` names it: an alias or a bare id is the account's own; an ARN may name
    /// another account's key (whose use that account's grants decide). An ARN whose region is
    /// not the key's names nothing, as in KMS.
    pub async fn kms_key(&self, account_id: &str, reference: &str) -> Result<Option<KmsKey>> {
        let named = key_ref(reference);
        // Cached under a canonical name (never the reference as sent, which a caller could
        // vary without end).
        let cache_name = match &named {
            KeyRef::Id { account, key_id, .. } => format!("{}|{key_id}", account.unwrap_or(account_id)),
            KeyRef::Alias { account, name } => format!("{}|{name}", account.unwrap_or(account_id)),
        };
        let key = match self.inner.kms_keys.get(&cache_name) {
            Ok(key) => Some((*key).clone()),
            Err(generation) => {
                let key = self.read_kms_key(account_id, &named).await?;
                // A key pending deletion is read each time: its date may fall due while cached.
                if let Some(key) = key.as_ref().filter(|key| key.state != KmsKeyState::PendingDeletion) {
                    self.inner
                        .kms_keys
                        .insert(generation, cache_name, Arc::new(key.clone()));
                }
                key
            }
        };
        Ok(match named {
            KeyRef::Id {
                region: Some(region), ..
            } => key.filter(|key| key.region == region),
            _ => key,
        })
    }

    async fn read_kms_key(&self, account_id: &str, named: &KeyRef<'_>) -> Result<Option<KmsKey>> {
        let row = match *named {
            KeyRef::Id { account, key_id, .. } => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {KEY_COLUMNS} FROM kms_keys WHERE key_id = $1 AND account_id = $2"
                )))
                .bind(key_id)
                .bind(account.unwrap_or(account_id))
                .fetch_optional(&self.inner.reader)
                .await?
            }
            KeyRef::Alias { account, name } if name.strip_prefix("alias/") == Some(AWS_MANAGED_S3) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {KEY_COLUMNS} FROM kms_keys WHERE account_id = $1 AND managed = $2"
                )))
                .bind(account.unwrap_or(account_id))
                .bind(AWS_MANAGED_S3)
                .fetch_optional(&self.inner.reader)
                .await?
            }
            KeyRef::Alias { account, name } => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {JOINED_KEY_COLUMNS} FROM kms_keys k JOIN kms_aliases a ON a.key_id = k.key_id \
                     WHERE a.account_id = $1 AND a.alias_name = $2"
                )))
                .bind(account.unwrap_or(account_id))
                .bind(name)
                .fetch_optional(&self.inner.reader)
                .await?
            }
        };
        let Some(row) = row else { return Ok(None) };
        let key = self.kms_key_from_row(&row, true)?;
        if key.is_none() {
            self.destroy_deleted_kms_keys().await?;
        }
        Ok(key)
    }

    /// Destroys the material of keys whose deletion fell due, and their aliases: what they
    /// sealed can then never be opened, not even with the master key and a copy of the
    /// database. Done when such a key is first met.
    async fn destroy_deleted_kms_keys(&self) -> Result<()> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM kms_aliases WHERE key_id IN \
             (SELECT key_id FROM kms_keys WHERE state = 'PendingDeletion' AND deletion_date <= $1)",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE kms_keys SET material = $2 WHERE state = 'PendingDeletion' AND deletion_date <= $1")
            .bind(now)
            .bind(Vec::<u8>::new())
            .execute(&mut *tx)
            .await?;
        self.commit_changed(tx, Cache::KmsKeys).await
    }

    /// An account's live keys in key id order, after `after` (their material not opened).
    pub async fn list_kms_keys(&self, account_id: &str, after: Option<&str>, limit: i64) -> Result<Vec<KmsKey>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {KEY_COLUMNS} FROM kms_keys WHERE account_id = $1 AND key_id > $2 \
             AND NOT (state = 'PendingDeletion' AND deletion_date <= $4) ORDER BY key_id LIMIT $3"
        )))
        .bind(account_id)
        .bind(after.unwrap_or(""))
        .bind(limit)
        .bind(now_millis())
        .fetch_all(&self.inner.reader)
        .await?;
        let keys = rows
            .iter()
            .map(|row| self.kms_key_from_row(row, false))
            .collect::<Result<Vec<_>>>()?;
        Ok(keys.into_iter().flatten().collect())
    }

    /// Moves a key from one of the states `from` to `to` (with the date a pending deletion
    /// falls due). `PreconditionFailed` when the key is no longer in one of `from` (another
    /// request changed it first) or its deletion has fallen due.
    pub async fn set_kms_key_state(
        &self,
        account_id: &str,
        key_id: &str,
        from: &[KmsKeyState],
        to: KmsKeyState,
        deletion_date: Option<OffsetDateTime>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let mut updated = 0;
        for state in from {
            updated += sqlx::query(
                "UPDATE kms_keys SET state = $3, deletion_date = $4 WHERE account_id = $1 AND key_id = $2 \
                 AND state = $5 AND NOT (state = 'PendingDeletion' AND deletion_date <= $6)",
            )
            .bind(account_id)
            .bind(key_id)
            .bind(to.as_str())
            .bind(deletion_date.map(to_millis))
            .bind(state.as_str())
            .bind(now_millis())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        if updated == 0 {
            return Err(StoreError::PreconditionFailed);
        }
        self.commit_changed(tx, Cache::KmsKeys).await
    }

    /// Names `key_id` with `alias` (`alias/…`) in its account.
    pub async fn create_kms_alias(&self, account_id: &str, alias: &str, key_id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO kms_aliases (account_id, alias_name, key_id, created_at) \
             SELECT $1, $2, key_id, $4 FROM kms_keys WHERE account_id = $1 AND key_id = $3 \
             ON CONFLICT DO NOTHING",
        )
        .bind(account_id)
        .bind(alias)
        .bind(key_id)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            let taken: Option<String> =
                sqlx::query_scalar("SELECT key_id FROM kms_aliases WHERE account_id = $1 AND alias_name = $2")
                    .bind(account_id)
                    .bind(alias)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(match taken {
                Some(_) => StoreError::KmsAliasExists,
                None => StoreError::NoSuchKmsKey,
            });
        }
        self.commit_changed(tx, Cache::KmsKeys).await
    }

    pub async fn delete_kms_alias(&self, account_id: &str, alias: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM kms_aliases WHERE account_id = $1 AND alias_name = $2")
            .bind(account_id)
            .bind(alias)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NoSuchKmsAlias);
        }
        self.commit_changed(tx, Cache::KmsKeys).await
    }

    /// An account's aliases in name order (of one key, when `key_id` is given).
    pub async fn list_kms_aliases(&self, account_id: &str, key_id: Option<&str>) -> Result<Vec<KmsAlias>> {
        let rows = sqlx::query(
            "SELECT alias_name, key_id, created_at FROM kms_aliases \
             WHERE account_id = $1 AND ($2 = '' OR key_id = $2) ORDER BY alias_name",
        )
        .bind(account_id)
        .bind(key_id.unwrap_or(""))
        .fetch_all(&self.inner.reader)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(KmsAlias {
                    name: row.try_get("alias_name")?,
                    key_id: row.try_get("key_id")?,
                    created_at: from_millis(row.try_get("created_at")?),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_named_by_id_arn_alias_or_alias_arn() {
        assert_eq!(
            key_ref("1234abcd-12ab-34cd-56ef-1234567890ab"),
            KeyRef::Id {
                region: None,
                account: None,
                key_id: "1234abcd-12ab-34cd-56ef-1234567890ab"
            }
        );
        assert_eq!(
            key_ref("arn:aws:kms:us-east-1:111122223333:key/abc"),
            KeyRef::Id {
                region: Some("us-east-1"),
                account: Some("111122223333"),
                key_id: "abc"
            }
        );
        assert_eq!(
            key_ref("alias/app"),
            KeyRef::Alias {
                account: None,
                name: "alias/app"
            }
        );
        assert_eq!(
            key_ref("arn:aws:kms:us-east-1:111122223333:alias/app"),
            KeyRef::Alias {
                account: Some("111122223333"),
                name: "alias/app"
            }
        );
    }
}
