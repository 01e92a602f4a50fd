//! The records behind the console's sign-in throttle, shared by every node on one database.
//! The console decides what the records mean; the store only keeps them.
//!
//! An attempt is a row written *before* the attempt is judged. Two attempts racing on two
//! nodes therefore cannot both judge a history without the other: whichever reads last sees
//! both, so no more attempts pass than the rules allow, whatever the interleaving.

use time::OffsetDateTime;

use crate::model::to_millis;
use crate::{Result, Store};

/// A fixed-size stand-in for an address or a typed name: 16 bytes of its keyed digest
/// ([`Store::signin_key`]).
pub type SigninKey = [u8; 16];

/// One attempt's row, to take back or to change once it is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigninAttemptId([u8; 16]);

/// What the records say about an attempt's address and name since the window's start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SigninHistory {
    /// The address's attempts, this one included.
    pub address_attempts: u64,
    /// When the address's oldest attempt was.
    pub address_oldest: Option<OffsetDateTime>,
    /// The name's other attempts (the ones its delay refused do not count).
    pub name_attempts: u64,
    /// When the latest of them was.
    pub name_latest: Option<OffsetDateTime>,
    /// Whether the name signed in from this address before.
    pub known_address: bool,
}

fn from_ms(ms: Option<i64>) -> Option<OffsetDateTime> {
    ms.map(crate::model::from_millis)
}

impl Store {
    /// What the throttle keeps of an address or a typed name: a keyed digest, so what people
    /// type (sometimes a password, into the name field) is neither stored nor recoverable
    /// from a copy of the database; a long name costs no more room than a short one.
    pub fn signin_key(&self, text: &str) -> SigninKey {
        let digest = self.inner.sealer.digest("signin-throttle", text);
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        key
    }

    /// The address's attempts since `since`, and when the oldest was: read only, so a
    /// client already over its limit is refused without costing a write.
    pub async fn signin_address_attempts(
        &self,
        address: &SigninKey,
        since: OffsetDateTime,
    ) -> Result<(u64, Option<OffsetDateTime>)> {
        let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(attempted_at) FROM signin_attempts WHERE address_key = $1 AND attempted_at >= $2",
        )
        .bind(address.to_vec())
        .bind(to_millis(since))
        .fetch_one(&self.inner.reader)
        .await?;
        Ok((count as u64, from_ms(oldest)))
    }

    /// Records an attempt to sign in as `name` from `address` at `at`, then reads the history
    /// it is to be judged by: the attempts since `since`, this one and any racing it included.
    pub async fn record_signin_attempt(
        &self,
        address: &SigninKey,
        name: &SigninKey,
        at: OffsetDateTime,
        since: OffsetDateTime,
    ) -> Result<(SigninAttemptId, SigninHistory)> {
        let id = SigninAttemptId(rand::random());
        sqlx::query(
            "INSERT INTO signin_attempts (attempt_id, address_key, name_key, attempted_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.0.to_vec())
        .bind(address.to_vec())
        .bind(name.to_vec())
        .bind(to_millis(at))
        .execute(&self.inner.writer)
        .await?;
        // Read after the insert committed (on the readers: it is visible to every connection).
        let (address_attempts, address_oldest) = self.signin_address_attempts(address, since).await?;
        let since = to_millis(since);
        let (name_attempts, name_latest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MAX(attempted_at) FROM signin_attempts \
             WHERE name_key = $1 AND attempted_at >= $2 AND attempt_id <> $3",
        )
        .bind(name.to_vec())
        .bind(since)
        .bind(id.0.to_vec())
        .fetch_one(&self.inner.reader)
        .await?;
        let known: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM signin_known_addresses WHERE name_key = $1 AND address_key = $2")
                .bind(name.to_vec())
                .bind(address.to_vec())
                .fetch_optional(&self.inner.reader)
                .await?;
        let history = SigninHistory {
            address_attempts,
            address_oldest,
            name_attempts: name_attempts as u64,
            name_latest: from_ms(name_latest),
            known_address: known.is_some(),
        };
        Ok((id, history))
    }

    /// Takes an attempt back: it counts for neither its address nor its name.
    pub async fn withdraw_signin_attempt(&self, id: SigninAttemptId) -> Result<()> {
        sqlx::query("DELETE FROM signin_attempts WHERE attempt_id = $1")
            .bind(id.0.to_vec())
            .execute(&self.inner.writer)
            .await?;
        Ok(())
    }

    /// Dates an attempt at the moment it failed (its check can take a while): a name's delay
    /// runs from its last failure.
    pub async fn date_signin_failure(&self, id: SigninAttemptId, at: OffsetDateTime) -> Result<()> {
        sqlx::query("UPDATE signin_attempts SET attempted_at = $2 WHERE attempt_id = $1")
            .bind(id.0.to_vec())
            .bind(crate::model::to_millis(at))
            .execute(&self.inner.writer)
            .await?;
        Ok(())
    }

    /// Keeps an attempt against its address only.
    pub async fn unname_signin_attempt(&self, id: SigninAttemptId) -> Result<()> {
        sqlx::query("UPDATE signin_attempts SET name_key = NULL WHERE attempt_id = $1")
            .bind(id.0.to_vec())
            .execute(&self.inner.writer)
            .await?;
        Ok(())
    }

    /// Remembers that `name` signed in from `address` at `at`, keeping the name's `keep` most
    /// recently used addresses.
    pub async fn remember_signin_address(
        &self,
        name: &SigninKey,
        address: &SigninKey,
        at: OffsetDateTime,
        keep: u32,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO signin_known_addresses (name_key, address_key, last_used_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name_key, address_key) DO UPDATE SET last_used_at = excluded.last_used_at",
        )
        .bind(name.to_vec())
        .bind(address.to_vec())
        .bind(to_millis(at))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM signin_known_addresses WHERE name_key = $1 AND address_key NOT IN \
             (SELECT address_key FROM signin_known_addresses WHERE name_key = $1 \
              ORDER BY last_used_at DESC, address_key LIMIT $2)",
        )
        .bind(name.to_vec())
        .bind(i64::from(keep))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets attempts made before `attempts_before` and addresses last used before
    /// `known_before`; returns how many rows went.
    pub async fn forget_signin_records(
        &self,
        attempts_before: OffsetDateTime,
        known_before: OffsetDateTime,
    ) -> Result<u64> {
        let attempts = sqlx::query("DELETE FROM signin_attempts WHERE attempted_at < $1")
            .bind(to_millis(attempts_before))
            .execute(&self.inner.writer)
            .await?;
        let known = sqlx::query("DELETE FROM signin_known_addresses WHERE last_used_at < $1")
            .bind(to_millis(known_before))
            .execute(&self.inner.writer)
            .await?;
        Ok(attempts.rows_affected() + known.rows_affected())
    }
}
