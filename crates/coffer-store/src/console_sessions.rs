//! Console sessions in the database, for every node: an opaque record per session (the
//! console decides what it holds), sealed with the master key, found by the SHA-256 of the
//! session's token, gone once it expires. A record changes only by compare-and-set on its
//! version, and nothing but [`Store::put_console_session`] creates one, so a change racing
//! a sign-out cannot bring the session back.

use time::OffsetDateTime;

use crate::model::{from_millis, to_millis};
use crate::{Result, Store};

/// What binds a sealed record to its row: a record moved to another session's row does not
/// open.
fn binding(digest: &[u8; 32]) -> String {
    format!("console-session:{}", hex::encode(digest))
}

/// A live session's record, with what its next change must name.
#[derive(Debug)]
pub struct StoredSession {
    pub record: String,
    pub version: i64,
    pub expires_at: OffsetDateTime,
}

impl Store {
    /// Stores a new session `digest` names, valid until `expires_at`.
    pub async fn put_console_session(&self, digest: &[u8; 32], expires_at: OffsetDateTime, record: &str) -> Result<()> {
        let sealed = self.inner.sealer.seal(&binding(digest), record);
        sqlx::query(
            "INSERT INTO console_sessions (token_digest, expires_at, sealed_record, version) VALUES ($1, $2, $3, 0)",
        )
        .bind(digest.to_vec())
        .bind(to_millis(expires_at))
        .bind(sealed)
        .execute(&self.inner.writer)
        .await?;
        Ok(())
    }

    /// The live session `digest` names.
    pub async fn console_session(&self, digest: &[u8; 32]) -> Result<Option<StoredSession>> {
        let row: Option<(Vec<u8>, i64, i64)> = sqlx::query_as(
            "SELECT sealed_record, version, expires_at FROM console_sessions WHERE token_digest = $1 AND expires_at > $2",
        )
        .bind(digest.to_vec())
        .bind(to_millis(OffsetDateTime::now_utc()))
        .fetch_optional(&self.inner.reader)
        .await?;
        row.map(|(sealed, version, expires_at)| {
            Ok(StoredSession {
                record: self.inner.sealer.open(&binding(digest), &sealed)?,
                version,
                expires_at: from_millis(expires_at),
            })
        })
        .transpose()
    }

    /// Replaces the record of the live session `digest` names, if it is still at `version`;
    /// false when it changed meanwhile, or is gone.
    pub async fn update_console_session(&self, digest: &[u8; 32], version: i64, record: &str) -> Result<bool> {
        let sealed = self.inner.sealer.seal(&binding(digest), record);
        let done = sqlx::query(
            "UPDATE console_sessions SET sealed_record = $1, version = version + 1 \
             WHERE token_digest = $2 AND version = $3 AND expires_at > $4",
        )
        .bind(sealed)
        .bind(digest.to_vec())
        .bind(version)
        .bind(to_millis(OffsetDateTime::now_utc()))
        .execute(&self.inner.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Moves a live session's expiry on to `expires_at` (never back, never for an ended one).
    pub async fn touch_console_session(&self, digest: &[u8; 32], expires_at: OffsetDateTime) -> Result<()> {
        sqlx::query(
            "UPDATE console_sessions SET expires_at = $1 WHERE token_digest = $2 AND expires_at > $3 AND expires_at < $1",
        )
        .bind(to_millis(expires_at))
        .bind(digest.to_vec())
        .bind(to_millis(OffsetDateTime::now_utc()))
        .execute(&self.inner.writer)
        .await?;
        Ok(())
    }

    /// Ends the session `digest` names.
    pub async fn delete_console_session(&self, digest: &[u8; 32]) -> Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE token_digest = $1")
            .bind(digest.to_vec())
            .execute(&self.inner.writer)
            .await?;
        Ok(())
    }

    /// Forgets expired sessions; returns how many.
    pub async fn delete_expired_console_sessions(&self) -> Result<u64> {
        let done = sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(to_millis(OffsetDateTime::now_utc()))
            .execute(&self.inner.writer)
            .await?;
        Ok(done.rows_affected())
    }
}
