//! Console sessions in the database, for every node: an opaque record per session (the
//! console decides what it holds), sealed with the master key, found by the SHA-256 of the
//! session's token, gone once it expires.

use time::OffsetDateTime;

use crate::{Result, Store};

/// What binds a sealed record to its row: a record moved to another session's row does not
/// open.
fn binding(digest: &[u8; 32]) -> String {
    format!("console-session:{}", hex::encode(digest))
}

impl Store {
    /// Stores (or replaces) the session `digest` names, valid until `expires_at`.
    pub async fn put_console_session(&self, digest: &[u8; 32], expires_at: OffsetDateTime, record: &str) -> Result<()> {
        let sealed = self.inner.sealer.seal(&binding(digest), record);
        sqlx::query(
            "INSERT INTO console_sessions (token_digest, expires_at, sealed_record) VALUES ($1, $2, $3) \
             ON CONFLICT (token_digest) DO UPDATE SET expires_at = excluded.expires_at, sealed_record = excluded.sealed_record",
        )
        .bind(digest.to_vec())
        .bind(crate::model::to_millis(expires_at))
        .bind(sealed)
        .execute(&self.inner.writer)
        .await?;
        Ok(())
    }

    /// The record of the live session `digest` names.
    pub async fn console_session(&self, digest: &[u8; 32]) -> Result<Option<String>> {
        let sealed: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT sealed_record FROM console_sessions WHERE token_digest = $1 AND expires_at > $2",
        )
        .bind(digest.to_vec())
        .bind(crate::model::to_millis(OffsetDateTime::now_utc()))
        .fetch_optional(&self.inner.reader)
        .await?;
        sealed
            .map(|sealed| self.inner.sealer.open(&binding(digest), &sealed))
            .transpose()
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
            .bind(crate::model::to_millis(OffsetDateTime::now_utc()))
            .execute(&self.inner.writer)
            .await?;
        Ok(done.rows_affected())
    }
}
