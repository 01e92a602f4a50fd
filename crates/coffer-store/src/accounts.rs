//! Accounts: isolated tenants, each with a root user and its access keys.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::access_keys::insert_access_key;
use crate::model::{from_millis, now_millis};
use crate::unique_violation;
use crate::{Account, NewAccessKey, Result, Store, StoreError, ids};

/// The name of the account created on first start.
pub const DEFAULT_ACCOUNT_NAME: &str = "default";

fn account_from_row(row: &AnyRow) -> Result<Account> {
    Ok(Account {
        account_id: row.try_get("account_id")?,
        name: row.try_get("name")?,
        alias: row.try_get("alias")?,
        created_at: from_millis(row.try_get("created_at")?),
    })
}

impl Store {
    /// Creates an account and its root user's first access key. `root_key` (id, secret) sets
    /// that key instead of generating one.
    pub async fn create_account(&self, name: &str, root_key: Option<(&str, &str)>) -> Result<(Account, NewAccessKey)> {
        let mut tx = self.begin_write().await?;
        let taken: Option<String> = sqlx::query_scalar("SELECT account_id FROM accounts WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::AccountExists);
        }
        let account = loop {
            let account_id = ids::account_id();
            let exists: Option<String> = sqlx::query_scalar("SELECT account_id FROM accounts WHERE account_id = $1")
                .bind(&account_id)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                let created_at = now_millis();
                sqlx::query("INSERT INTO accounts (account_id, name, created_at) VALUES ($1, $2, $3)")
                    .bind(&account_id)
                    .bind(name)
                    .bind(created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| unique_violation(e, StoreError::AccountExists))?;
                break Account {
                    account_id,
                    name: name.to_owned(),
                    alias: None,
                    created_at: from_millis(created_at),
                };
            }
        };
        let (key_id, secret) = match root_key {
            Some((id, secret)) => (id.to_owned(), secret.to_owned()),
            None => (ids::access_key_id(), ids::secret_access_key()),
        };
        let key = insert_access_key(&mut tx, &self.inner.sealer, &account.account_id, None, &key_id, &secret).await?;
        tx.commit().await?;
        Ok((
            account,
            NewAccessKey {
                key,
                secret_access_key: secret,
            },
        ))
    }

    /// Creates the default account on first start. Returns it with its root key only when it
    /// was created now; `None` when any account already exists.
    pub async fn create_default_account_once(
        &self,
        root_key: Option<(&str, &str)>,
    ) -> Result<Option<(Account, NewAccessKey)>> {
        if !self.list_accounts().await?.is_empty() {
            return Ok(None);
        }
        match self.create_account(DEFAULT_ACCOUNT_NAME, root_key).await {
            Ok(created) => Ok(Some(created)),
            // Another process won the race to create it.
            Err(StoreError::AccountExists) => Ok(None),
            Err(err) => Err(err),
        }
    }

    pub async fn list_accounts(&self) -> Result<Vec<Account>> {
        let rows =
            sqlx::query("SELECT account_id, name, alias, created_at FROM accounts ORDER BY created_at, account_id")
                .fetch_all(&self.inner.reader)
                .await?;
        rows.iter().map(account_from_row).collect()
    }

    pub async fn account(&self, account_id: &str) -> Result<Account> {
        let row = sqlx::query("SELECT account_id, name, alias, created_at FROM accounts WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(&self.inner.reader)
            .await?
            .ok_or(StoreError::NoSuchAccount)?;
        account_from_row(&row)
    }

    /// Sets the account's alias (an account has at most one; a new one replaces it). Aliases
    /// are unique across all accounts.
    pub async fn set_account_alias(&self, account_id: &str, alias: &str) -> Result<()> {
        sqlx::query("UPDATE accounts SET alias = $1 WHERE account_id = $2")
            .bind(alias)
            .bind(account_id)
            .execute(&self.inner.writer)
            .await
            .map_err(|e| unique_violation(e, StoreError::AliasTaken))?;
        Ok(())
    }

    /// Removes `alias` from the account; `NoSuchAccount` when the account has no such alias.
    pub async fn delete_account_alias(&self, account_id: &str, alias: &str) -> Result<()> {
        let done = sqlx::query("UPDATE accounts SET alias = NULL WHERE account_id = $1 AND alias = $2")
            .bind(account_id)
            .bind(alias)
            .execute(&self.inner.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoSuchAccount);
        }
        Ok(())
    }
}

/// How many of each IAM entity an account holds (GetAccountSummary).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountCounts {
    pub users: i64,
    pub groups: i64,
    pub roles: i64,
    /// Customer managed policies, and their stored versions.
    pub policies: i64,
    pub policy_versions: i64,
    /// OpenID Connect providers.
    pub providers: i64,
}

impl Store {
    /// The account's entity counts, read in one statement.
    pub async fn account_counts(&self, account_id: &str) -> Result<AccountCounts> {
        let (users, groups, roles, policies, policy_versions, providers): (i64, i64, i64, i64, i64, i64) =
            sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM users WHERE account_id = $1), \
                 (SELECT COUNT(*) FROM groups WHERE account_id = $1), \
                 (SELECT COUNT(*) FROM roles WHERE account_id = $1), \
                 (SELECT COUNT(*) FROM managed_policies WHERE account_id = $1), \
                 (SELECT COUNT(*) FROM policy_versions v JOIN managed_policies p ON p.policy_id = v.policy_id \
                  WHERE p.account_id = $1), \
                 (SELECT COUNT(*) FROM oidc_providers WHERE account_id = $1)",
            )
            .bind(account_id)
            .fetch_one(&self.inner.reader)
            .await?;
        Ok(AccountCounts {
            users,
            groups,
            roles,
            policies,
            policy_versions,
            providers,
        })
    }
}
