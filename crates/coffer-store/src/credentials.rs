//! What a signature check needs for an access key id: the opened secret and who the key
//! speaks for. Looked up on every request, so it is cached; every write that can change a
//! key's owner, status or existence clears the cache, so a revoked key fails at once.

use std::sync::Arc;

use sqlx::Row;

use crate::secrets::key_binding;
use crate::users::user_from_row;
use crate::{KeyStatus, Result, Store, User};

/// The identity an access key authenticates as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOwner {
    Root,
    User(User),
}

/// An access key with its secret in the clear, for verifying signatures.
#[derive(Clone)]
pub struct Credential {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account_id: String,
    pub owner: KeyOwner,
    pub status: KeyStatus,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("account_id", &self.account_id)
            .field("owner", &self.owner)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The first active access key of `owner` in `account_id`, with its secret: the one
    /// narrow way to a secret for signing on a principal's behalf (share links).
    pub async fn signing_credential(
        &self,
        account_id: &str,
        owner: crate::KeyOwnerName<'_>,
    ) -> Result<Option<Arc<Credential>>> {
        let keys = self.list_access_keys(account_id, owner).await?;
        let Some(active) = keys.into_iter().find(|k| k.status == KeyStatus::Active) else {
            return Ok(None);
        };
        self.credential(&active.access_key_id).await
    }

    /// The credential for `access_key_id`, or `None` if no such key exists.
    pub async fn credential(&self, access_key_id: &str) -> Result<Option<Arc<Credential>>> {
        let generation = match self.inner.keys.get(access_key_id) {
            Ok(found) => return Ok(Some(found)),
            Err(generation) => generation,
        };
        let row = sqlx::query(
            "SELECT k.access_key_id, k.account_id, k.status, k.sealed_secret, k.user_id AS key_user_id,
                    u.user_id, u.name, u.path, u.created_at, u.password_last_used
             FROM access_keys k LEFT JOIN users u ON u.user_id = k.user_id
             WHERE k.access_key_id = $1",
        )
        .bind(access_key_id)
        .fetch_optional(&self.inner.reader)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let sealed: Vec<u8> = row.try_get("sealed_secret")?;
        let account_id: String = row.try_get("account_id")?;
        let key_user_id: Option<String> = row.try_get("key_user_id")?;
        let owner = match (&key_user_id, row.try_get::<Option<String>, _>("user_id")?) {
            (None, _) => KeyOwner::Root,
            // A user's key whose user is gone authenticates as nobody, never as root.
            (Some(_), None) => return Ok(None),
            (Some(_), Some(_)) => {
                let mut user = user_from_row(&row)?;
                user.account_id.clone_from(&account_id);
                KeyOwner::User(user)
            }
        };
        let status: String = row.try_get("status")?;
        let credential = Arc::new(Credential {
            secret_access_key: self.inner.sealer.open(
                &key_binding(access_key_id, &account_id, key_user_id.as_deref()),
                &sealed,
            )?,
            access_key_id: access_key_id.to_owned(),
            account_id,
            owner,
            status: KeyStatus::parse(&status).unwrap_or(KeyStatus::Inactive),
        });
        self.inner
            .keys
            .insert(generation, credential.access_key_id.clone(), credential.clone());
        Ok(Some(credential))
    }
}
