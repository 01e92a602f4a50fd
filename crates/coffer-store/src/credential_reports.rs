//! Each account's last credential report, as generated: one row, replaced whole.

use time::OffsetDateTime;

use crate::model::{from_millis, now_millis};
use crate::{Result, Store};

impl Store {
    /// Keeps `content` as the account's credential report, made now.
    pub async fn put_credential_report(&self, account_id: &str, content: &str) -> Result<OffsetDateTime> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO credential_reports (account_id, generated_at, content) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id) DO UPDATE SET generated_at = excluded.generated_at, content = excluded.content",
        )
        .bind(account_id)
        .bind(now)
        .bind(content)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(from_millis(now))
    }

    /// The account's credential report and when it was made, if one was.
    pub async fn credential_report(&self, account_id: &str) -> Result<Option<(OffsetDateTime, String)>> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT generated_at, content FROM credential_reports WHERE account_id = $1")
                .bind(account_id)
                .fetch_optional(&self.inner.reader)
                .await?;
        Ok(row.map(|(at, content)| (from_millis(at), content)))
    }
}
