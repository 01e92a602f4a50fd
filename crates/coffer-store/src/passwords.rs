//! Console passwords: IAM users' login profiles, each account's password policy, and the root
//! user's password. The store keeps only hashes (argon2id PHC strings made by `coffer-auth`);
//! it never sees a password.

use sqlx::Row;
use time::OffsetDateTime;

use crate::model::{from_millis, now_millis};
use crate::{Result, Store, StoreError};

/// An IAM user's console sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginProfile {
    pub user_id: String,
    pub password_hash: String,
    /// The user must choose a new password at its next sign-in.
    pub password_reset_required: bool,
    pub created_at: OffsetDateTime,
    pub password_changed_at: OffsetDateTime,
    /// The hashes of earlier passwords, newest first (for PasswordReusePrevention).
    pub previous_hashes: Vec<String>,
}

/// Earlier passwords remembered at most (IAM's PasswordReusePrevention goes up to 24).
const MAX_HISTORY: usize = 24;

/// An account's password policy, as IAM's `PasswordPolicy` (without the fields IAM derives).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub minimum_password_length: i64,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase_characters: bool,
    pub require_lowercase_characters: bool,
    pub allow_users_to_change_password: bool,
    /// Days a password lives (`None`: forever).
    pub max_password_age: Option<i64>,
    /// How many previous passwords may not be reused (`None`: no rule).
    pub password_reuse_prevention: Option<i64>,
    /// An expired password can only be reset by an administrator.
    pub hard_expiry: bool,
}

fn flag(value: bool) -> i64 {
    i64::from(value)
}

impl Store {
    /// Gives `user_id` a console password (`LoginProfileExists` if it has one).
    pub async fn create_login_profile(
        &self,
        user_id: &str,
        password_hash: &str,
        password_reset_required: bool,
    ) -> Result<LoginProfile> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        // The user cannot be deleted with its new password on the way.
        if !crate::db::lock(&mut tx, crate::db::Guard::User(user_id)).await? {
            return Err(StoreError::NoSuchUser);
        }
        sqlx::query(
            "INSERT INTO login_profiles (user_id, password_hash, password_reset_required, created_at, password_changed_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(user_id)
        .bind(password_hash)
        .bind(flag(password_reset_required))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|err| crate::unique_violation(err, StoreError::LoginProfileExists))?;
        tx.commit().await?;
        Ok(LoginProfile {
            user_id: user_id.to_owned(),
            password_hash: password_hash.to_owned(),
            password_reset_required,
            created_at: from_millis(now),
            password_changed_at: from_millis(now),
            previous_hashes: Vec::new(),
        })
    }

    /// The user's login profile (`NoSuchLoginProfile` if it has none).
    pub async fn login_profile(&self, user_id: &str) -> Result<LoginProfile> {
        let row = sqlx::query(
            "SELECT password_hash, password_reset_required, created_at, password_changed_at, previous_hashes \
             FROM login_profiles WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.inner.reader)
        .await?
        .ok_or(StoreError::NoSuchLoginProfile)?;
        Ok(LoginProfile {
            user_id: user_id.to_owned(),
            password_hash: row.try_get("password_hash")?,
            password_reset_required: row.try_get::<i64, _>("password_reset_required")? != 0,
            created_at: from_millis(row.try_get("created_at")?),
            password_changed_at: from_millis(row.try_get("password_changed_at")?),
            previous_hashes: row
                .try_get::<String, _>("previous_hashes")?
                .lines()
                .map(str::to_owned)
                .collect(),
        })
    }

    /// Changes the password (when given) and whether a reset is required (when given).
    pub async fn update_login_profile(
        &self,
        user_id: &str,
        password_hash: Option<&str>,
        password_reset_required: Option<bool>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let current: Option<(String, String)> =
            sqlx::query_as("SELECT password_hash, previous_hashes FROM login_profiles WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((old_hash, previous)) = current else {
            return Err(StoreError::NoSuchLoginProfile);
        };
        if let Some(hash) = password_hash {
            let history: Vec<&str> = std::iter::once(old_hash.as_str())
                .chain(previous.lines())
                .take(MAX_HISTORY)
                .collect();
            sqlx::query(
                "UPDATE login_profiles SET password_hash = $1, password_changed_at = $2, previous_hashes = $3 \
                 WHERE user_id = $4",
            )
            .bind(hash)
            .bind(now_millis())
            .bind(history.join("\n"))
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(required) = password_reset_required {
            sqlx::query("UPDATE login_profiles SET password_reset_required = $1 WHERE user_id = $2")
                .bind(flag(required))
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_login_profile(&self, user_id: &str) -> Result<()> {
        let deleted = sqlx::query("DELETE FROM login_profiles WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.inner.writer)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NoSuchLoginProfile);
        }
        Ok(())
    }

    /// Sets when the user's password last changed: for a login profile restored with its
    /// age, and for tests of password expiry, which cannot wait the policy's days.
    pub async fn set_password_changed_at(&self, user_id: &str, at: OffsetDateTime) -> Result<()> {
        let updated = sqlx::query("UPDATE login_profiles SET password_changed_at = $1 WHERE user_id = $2")
            .bind((at.unix_timestamp_nanos() / 1_000_000) as i64)
            .bind(user_id)
            .execute(&self.inner.writer)
            .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NoSuchLoginProfile);
        }
        Ok(())
    }

    /// Records a console sign-in with the user's password (`PasswordLastUsed`).
    pub async fn record_password_use(&self, user_id: &str) -> Result<()> {
        sqlx::query("UPDATE users SET password_last_used = $1 WHERE user_id = $2")
            .bind(now_millis())
            .bind(user_id)
            .execute(&self.inner.writer)
            .await?;
        Ok(())
    }

    /// The account's password policy (`NoPasswordPolicy` if it has none).
    pub async fn password_policy(&self, account_id: &str) -> Result<PasswordPolicy> {
        let row = sqlx::query(
            "SELECT minimum_password_length, require_symbols, require_numbers, require_uppercase_characters, \
             require_lowercase_characters, allow_users_to_change_password, max_password_age, \
             password_reuse_prevention, hard_expiry FROM password_policies WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(&self.inner.reader)
        .await?
        .ok_or(StoreError::NoPasswordPolicy)?;
        let flag = |name: &str| -> Result<bool> { Ok(row.try_get::<i64, _>(name)? != 0) };
        Ok(PasswordPolicy {
            minimum_password_length: row.try_get("minimum_password_length")?,
            require_symbols: flag("require_symbols")?,
            require_numbers: flag("require_numbers")?,
            require_uppercase_characters: flag("require_uppercase_characters")?,
            require_lowercase_characters: flag("require_lowercase_characters")?,
            allow_users_to_change_password: flag("allow_users_to_change_password")?,
            max_password_age: row.try_get("max_password_age")?,
            password_reuse_prevention: row.try_get("password_reuse_prevention")?,
            hard_expiry: flag("hard_expiry")?,
        })
    }

    /// Sets the account's password policy, replacing the one it had.
    pub async fn set_password_policy(&self, account_id: &str, policy: &PasswordPolicy) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM password_policies WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO password_policies (account_id, minimum_password_length, require_symbols, require_numbers, \
             require_uppercase_characters, require_lowercase_characters, allow_users_to_change_password, \
             max_password_age, password_reuse_prevention, hard_expiry) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(account_id)
        .bind(policy.minimum_password_length)
        .bind(flag(policy.require_symbols))
        .bind(flag(policy.require_numbers))
        .bind(flag(policy.require_uppercase_characters))
        .bind(flag(policy.require_lowercase_characters))
        .bind(flag(policy.allow_users_to_change_password))
        .bind(policy.max_password_age)
        .bind(policy.password_reuse_prevention)
        .bind(flag(policy.hard_expiry))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_password_policy(&self, account_id: &str) -> Result<()> {
        let deleted = sqlx::query("DELETE FROM password_policies WHERE account_id = $1")
            .bind(account_id)
            .execute(&self.inner.writer)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NoPasswordPolicy);
        }
        Ok(())
    }

    /// The root user's password hash, if it has a password.
    pub async fn root_password_hash(&self, account_id: &str) -> Result<Option<String>> {
        let hash: Option<Option<String>> =
            sqlx::query_scalar("SELECT root_password_hash FROM accounts WHERE account_id = $1")
                .bind(account_id)
                .fetch_optional(&self.inner.reader)
                .await?;
        hash.ok_or(StoreError::NoSuchAccount)
    }

    pub async fn set_root_password_hash(&self, account_id: &str, password_hash: &str) -> Result<()> {
        let updated = sqlx::query("UPDATE accounts SET root_password_hash = $1 WHERE account_id = $2")
            .bind(password_hash)
            .bind(account_id)
            .execute(&self.inner.writer)
            .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NoSuchAccount);
        }
        Ok(())
    }
}
