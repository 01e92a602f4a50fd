//! S3 Lifecycle: a bucket's rules (validated by the S3 layer, kept here as JSON), when a rule
//! expires an object, and the pass that applies the rules.
//!
//! A pass runs on whichever node holds the `lifecycle` lease, so one node at a time applies
//! rules. It does a bounded amount of work per bucket, rule and phase (current versions, lone
//! delete markers, noncurrent versions, incomplete uploads) and records where it stopped in
//! `lifecycle_cursors`, so the next pass, on any node, goes on from there. Every removal goes
//! through the ordinary writes (the group commit, Object Lock's checks, the versioning rules),
//! conditional on the version still being the one the pass judged.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use time::OffsetDateTime;

use crate::epochs::Cache;
use crate::model::{from_millis, now_millis, to_millis};
use crate::objects::{WriteCondition, key_from_row};
use crate::{Result, Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleRule {
    pub id: String,
    pub enabled: bool,
    pub filter: LifecycleFilter,
    pub expiration: Option<Expiration>,
    pub noncurrent_expiration: Option<NoncurrentExpiration>,
    /// `AbortIncompleteMultipartUpload`'s `DaysAfterInitiation`.
    pub abort_incomplete_upload_days: Option<u32>,
}

/// Which objects a rule applies to. Kept as written (a rule-level `Prefix`, or a `Filter`
/// with or without `And`) so GetBucketLifecycleConfiguration returns it the same way.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleFilter {
    pub prefix: Option<String>,
    pub tags: Vec<(String, String)>,
    pub size_greater_than: Option<u64>,
    pub size_less_than: Option<u64>,
    /// Written as the rule's own `Prefix` (the older form), not in a `Filter`.
    pub rule_prefix: bool,
    /// Written with `And`.
    pub and: bool,
}

impl LifecycleFilter {
    fn prefix(&self) -> &str {
        self.prefix.as_deref().unwrap_or("")
    }

    /// Whether an object of `key` and `size` is in the filter. Objects carry no tags yet, so
    /// a filter that names tags matches none.
    pub fn matches(&self, key: &str, size: u64) -> bool {
        key.starts_with(self.prefix())
            && self.tags.is_empty()
            && self.size_greater_than.is_none_or(|min| size > min)
            && self.size_less_than.is_none_or(|max| size < max)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiration {
    pub days: Option<u32>,
    /// Midnight UTC, in milliseconds.
    pub date: Option<i64>,
    pub expired_object_delete_marker: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoncurrentExpiration {
    pub days: u32,
    pub newer_noncurrent_versions: Option<u32>,
}

/// A day.
pub const LIFECYCLE_DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a lifecycle "day" is: a day, or less in tests (`--lifecycle-day-secs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LifecycleDay(pub Duration);

impl LifecycleDay {
    fn millis(self) -> i64 {
        (self.0.as_millis() as i64).max(1)
    }

    /// When `days` after `since` is up, as S3 counts it: rounded up to the next midnight UTC
    /// (the next multiple of the day).
    pub fn after(self, since: OffsetDateTime, days: u32) -> OffsetDateTime {
        let day = self.millis();
        let due = to_millis(since) + i64::from(days) * day;
        from_millis(due.div_euclid(day) * day + if due.rem_euclid(day) == 0 { 0 } else { day })
    }
}

impl LifecycleRule {
    /// When this rule expires a current object written at `last_modified`, if it does.
    pub fn expires(
        &self,
        key: &str,
        size: u64,
        last_modified: OffsetDateTime,
        day: LifecycleDay,
    ) -> Option<OffsetDateTime> {
        if !self.enabled || !self.filter.matches(key, size) {
            return None;
        }
        let expiration = self.expiration.as_ref()?;
        match (expiration.days, expiration.date) {
            (Some(days), _) => Some(day.after(last_modified, days)),
            (None, Some(date)) => Some(from_millis(date)),
            (None, None) => None,
        }
    }
}

/// The soonest expiration any of `rules` gives a current object, with the rule's id (S3's
/// `x-amz-expiration`).
pub fn expiration<'r>(
    rules: &'r [LifecycleRule],
    key: &str,
    size: u64,
    last_modified: OffsetDateTime,
    day: LifecycleDay,
) -> Option<(OffsetDateTime, &'r str)> {
    rules
        .iter()
        .filter_map(|rule| Some((rule.expires(key, size, last_modified, day)?, rule.id.as_str())))
        .min_by_key(|(at, _)| *at)
}

/// What a pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LifecycleReport {
    pub expired: usize,
    pub markers_removed: usize,
    pub noncurrent_removed: usize,
    pub uploads_aborted: usize,
    /// Removals Object Lock refused (the version stays until its lock allows).
    pub locked: usize,
}

/// The phases of a rule, each with its own cursor.
const CURRENT: &str = "current";
const MARKERS: &str = "markers";
const NONCURRENT: &str = "noncurrent";
const UPLOADS: &str = "uploads";

/// Versions of one key a pass looks at, at most (newest first).
const MAX_VERSIONS_PER_KEY: i64 = 1000;

impl Store {
    /// Sets (or with `None` deletes) a bucket's lifecycle rules.
    pub async fn set_bucket_lifecycle(&self, bucket: &str, rules: Option<&[LifecycleRule]>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        match rules {
            Some(rules) => {
                let json = serde_json::to_string(rules).map_err(|_| StoreError::Corrupt("lifecycle rules"))?;
                sqlx::query(
                    "INSERT INTO bucket_lifecycle (bucket, rules) VALUES ($1, $2) \
                     ON CONFLICT (bucket) DO UPDATE SET rules = excluded.rules",
                )
                .bind(bucket)
                .bind(json)
                .execute(&mut *tx)
                .await
                .map_err(|err| crate::foreign_key_violation(err, StoreError::NoSuchBucket))?;
            }
            None => {
                sqlx::query("DELETE FROM bucket_lifecycle WHERE bucket = $1")
                    .bind(bucket)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        // Cursors of rules that no longer exist would never be read again.
        sqlx::query("DELETE FROM lifecycle_cursors WHERE bucket = $1")
            .bind(bucket)
            .execute(&mut *tx)
            .await?;
        self.commit_changed(tx, Cache::Buckets).await
    }

    /// Takes (or renews) the lease `name` for `holder` until `ttl` from now, if no one else
    /// holds it; returns whether `holder` holds it.
    pub async fn take_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let taken = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at < $4",
        )
        .bind(name)
        .bind(holder)
        .bind(now + ttl.as_millis() as i64)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(taken.rows_affected() == 1)
    }

    /// One lifecycle pass over every bucket with rules, at most `budget` rows per bucket,
    /// rule and phase. Call it only while holding the `lifecycle` lease.
    pub async fn lifecycle_pass(&self, day: LifecycleDay, budget: usize) -> Result<LifecycleReport> {
        let rows = sqlx::query("SELECT bucket, rules FROM bucket_lifecycle ORDER BY bucket")
            .fetch_all(&self.inner.reader)
            .await?;
        let mut report = LifecycleReport::default();
        for row in rows {
            let bucket: String = row.try_get("bucket")?;
            let rules: String = row.try_get("rules")?;
            let rules: Vec<LifecycleRule> =
                serde_json::from_str(&rules).map_err(|_| StoreError::Corrupt("lifecycle rules"))?;
            for rule in rules.iter().filter(|r| r.enabled) {
                let pass = RulePass {
                    store: self,
                    bucket: &bucket,
                    rule,
                    day,
                    budget: budget.max(1) as i64,
                    now: OffsetDateTime::now_utc(),
                };
                pass.run(&mut report).await?;
            }
        }
        Ok(report)
    }

    async fn cursor(&self, bucket: &str, rule: &str, phase: &str) -> Result<Vec<u8>> {
        let after: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT after_key FROM lifecycle_cursors WHERE bucket = $1 AND rule_id = $2 AND phase = $3",
        )
        .bind(bucket)
        .bind(rule)
        .bind(phase)
        .fetch_optional(&self.inner.reader)
        .await?;
        Ok(after.unwrap_or_default())
    }

    /// Records where a phase stopped (`None`: it reached the end; the next pass starts over).
    async fn set_cursor(&self, bucket: &str, rule: &str, phase: &str, after: Option<&[u8]>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        match after {
            Some(after) => {
                sqlx::query(
                    "INSERT INTO lifecycle_cursors (bucket, rule_id, phase, after_key) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (bucket, rule_id, phase) DO UPDATE SET after_key = excluded.after_key",
                )
                .bind(bucket)
                .bind(rule)
                .bind(phase)
                .bind(after.to_vec())
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM lifecycle_cursors WHERE bucket = $1 AND rule_id = $2 AND phase = $3")
                    .bind(bucket)
                    .bind(rule)
                    .bind(phase)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        // The bucket may be gone meanwhile: its cursors went with it.
        match tx.commit().await {
            Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => Ok(()),
            other => Ok(other?),
        }
    }
}

/// One rule applied to one bucket in one pass.
struct RulePass<'a> {
    store: &'a Store,
    bucket: &'a str,
    rule: &'a LifecycleRule,
    day: LifecycleDay,
    budget: i64,
    now: OffsetDateTime,
}

impl RulePass<'_> {
    async fn run(&self, report: &mut LifecycleReport) -> Result<()> {
        if let Some(expiration) = &self.rule.expiration {
            if expiration.days.is_some() || expiration.date.is_some() {
                self.expire_current(report).await?;
            }
            // With Days, S3 also removes the delete markers that expiring left alone.
            if expiration.expired_object_delete_marker || expiration.days.is_some() {
                self.remove_lone_markers(report).await?;
            }
        }
        if self.rule.noncurrent_expiration.is_some() {
            self.expire_noncurrent(report).await?;
        }
        if let Some(days) = self.rule.abort_incomplete_upload_days {
            self.abort_uploads(days, report).await?;
        }
        Ok(())
    }

    /// Where a phase's scan starts: after its cursor, or at the rule's prefix.
    async fn start(&self, phase: &str) -> Result<(Vec<u8>, &'static str)> {
        let cursor = self.store.cursor(self.bucket, &self.rule.id, phase).await?;
        let prefix = self.rule.filter.prefix().as_bytes().to_vec();
        Ok(if cursor.is_empty() || cursor < prefix {
            (prefix, ">=")
        } else {
            (cursor, ">")
        })
    }

    /// The latest versions after the phase's cursor (objects, or delete markers), a budget's
    /// worth, and where the phase stops.
    async fn latest_rows(&self, phase: &str, markers: bool) -> Result<(Vec<sqlx::any::AnyRow>, bool)> {
        let (from, op) = self.start(phase).await?;
        let (index_filter, marker) = if markers {
            ("is_latest = 1", "AND is_delete_marker = 1")
        } else {
            ("is_latest = 1 AND is_delete_marker = 0", "")
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT object_key, version_id, size, etag, last_modified FROM objects \
             WHERE bucket = $1 AND object_key {op} $2 AND {index_filter} {marker} ORDER BY object_key LIMIT $3"
        )))
        .bind(self.bucket)
        .bind(from)
        .bind(self.budget)
        .fetch_all(&self.store.inner.reader)
        .await?;
        let full = rows.len() as i64 == self.budget;
        Ok((rows, full))
    }

    /// Ends a phase's pass at `last` (when the batch was full and still in the prefix), or at
    /// the end.
    async fn finish(&self, phase: &str, last: Option<&str>, full: bool) -> Result<()> {
        let prefix = self.rule.filter.prefix();
        let resume = last.filter(|key| full && key.starts_with(prefix));
        self.store
            .set_cursor(self.bucket, &self.rule.id, phase, resume.map(str::as_bytes))
            .await
    }

    /// Tallies a removal's outcome: done, refused by Object Lock, or overtaken by a write.
    fn tally(outcome: Result<()>, done: &mut usize, report_locked: &mut usize) -> Result<()> {
        match outcome {
            Ok(()) => *done += 1,
            Err(StoreError::ObjectLocked) => *report_locked += 1,
            // The version changed since the pass judged it: the next pass judges it anew.
            Err(StoreError::PreconditionFailed | StoreError::NoSuchKey | StoreError::NoSuchBucket) => {}
            Err(err) => return Err(err),
        }
        Ok(())
    }

    /// `Expiration` (Days or Date): current objects past their time are deleted as a plain
    /// DELETE would (a delete marker under versioning).
    async fn expire_current(&self, report: &mut LifecycleReport) -> Result<()> {
        let (rows, full) = self.latest_rows(CURRENT, false).await?;
        let mut last = None;
        for row in &rows {
            let key = key_from_row(row)?;
            let size = row.try_get::<i64, _>("size")? as u64;
            let modified = from_millis(row.try_get("last_modified")?);
            if !key.starts_with(self.rule.filter.prefix()) {
                break;
            }
            if self
                .rule
                .expires(&key, size, modified, self.day)
                .is_some_and(|at| at <= self.now)
            {
                let judged = WriteCondition::IfLatestIs {
                    etag: row.try_get("etag")?,
                    last_modified: to_millis(modified),
                };
                let outcome = self
                    .store
                    .delete_object(self.bucket, &key, None, &judged, false)
                    .await
                    .map(|_| ());
                Self::tally(outcome, &mut report.expired, &mut report.locked)?;
            }
            last = Some(key);
        }
        self.finish(CURRENT, last.as_deref(), full).await
    }

    /// `ExpiredObjectDeleteMarker`: a delete marker that is all its key has left is removed.
    async fn remove_lone_markers(&self, report: &mut LifecycleReport) -> Result<()> {
        let (rows, full) = self.latest_rows(MARKERS, true).await?;
        let mut last = None;
        for row in &rows {
            let key = key_from_row(row)?;
            if !key.starts_with(self.rule.filter.prefix()) {
                break;
            }
            let versions: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT 1 FROM objects WHERE bucket = $1 AND object_key = $2 LIMIT 2) v",
            )
            .bind(self.bucket)
            .bind(key.as_bytes().to_vec())
            .fetch_one(&self.store.inner.reader)
            .await?;
            let modified = from_millis(row.try_get("last_modified")?);
            let old_enough = match self.rule.expiration.as_ref().and_then(|e| e.days) {
                Some(days) => self.day.after(modified, days) <= self.now,
                None => true,
            };
            if versions == 1 && old_enough && self.rule.filter.tags.is_empty() {
                let version: String = row.try_get("version_id")?;
                let outcome = self
                    .store
                    .delete_object(self.bucket, &key, Some(&version), &WriteCondition::Always, false)
                    .await
                    .map(|_| ());
                Self::tally(outcome, &mut report.markers_removed, &mut report.locked)?;
            }
            last = Some(key);
        }
        self.finish(MARKERS, last.as_deref(), full).await
    }

    /// `NoncurrentVersionExpiration`: noncurrent versions noncurrent for the days (beyond the
    /// newest `NewerNoncurrentVersions`) are deleted for good.
    async fn expire_noncurrent(&self, report: &mut LifecycleReport) -> Result<()> {
        let Some(rule) = &self.rule.noncurrent_expiration else {
            return Ok(());
        };
        // Keys with a latest version (every key has one), a budget's worth.
        let (from, op) = self.start(NONCURRENT).await?;
        let keys: Vec<Vec<u8>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT object_key FROM objects WHERE bucket = $1 AND object_key {op} $2 AND is_latest = 1 \
             ORDER BY object_key LIMIT $3"
        )))
        .bind(self.bucket)
        .bind(from)
        .bind(self.budget)
        .fetch_all(&self.store.inner.reader)
        .await?;
        let full = keys.len() as i64 == self.budget;
        let mut last = None;
        for key in keys {
            let key = String::from_utf8(key).map_err(|_| StoreError::Corrupt("an object key is not UTF-8"))?;
            if !key.starts_with(self.rule.filter.prefix()) {
                break;
            }
            let versions = sqlx::query(
                "SELECT version_id, size, last_modified FROM objects WHERE bucket = $1 AND object_key = $2 \
                 ORDER BY version_order LIMIT $3",
            )
            .bind(self.bucket)
            .bind(key.as_bytes().to_vec())
            .bind(MAX_VERSIONS_PER_KEY)
            .fetch_all(&self.store.inner.reader)
            .await?;
            // Each version became noncurrent when the one above it was written.
            let mut newer_since: Option<OffsetDateTime> = None;
            let mut noncurrent_seen = 0u32;
            for version in &versions {
                let modified = from_millis(version.try_get("last_modified")?);
                let Some(since) = newer_since.replace(modified) else {
                    continue;
                };
                noncurrent_seen += 1;
                let size = version.try_get::<i64, _>("size")? as u64;
                let kept = rule.newer_noncurrent_versions.is_some_and(|n| noncurrent_seen <= n);
                let due = self.day.after(since, rule.days) <= self.now;
                if kept || !due || !self.rule.filter.matches(&key, size) {
                    continue;
                }
                let id: String = version.try_get("version_id")?;
                let outcome = self
                    .store
                    .delete_object(self.bucket, &key, Some(&id), &WriteCondition::Always, false)
                    .await
                    .map(|_| ());
                Self::tally(outcome, &mut report.noncurrent_removed, &mut report.locked)?;
            }
            last = Some(key);
        }
        self.finish(NONCURRENT, last.as_deref(), full).await
    }

    /// `AbortIncompleteMultipartUpload`: uploads started the days ago are aborted.
    async fn abort_uploads(&self, days: u32, report: &mut LifecycleReport) -> Result<()> {
        let (from, op) = self.start(UPLOADS).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT upload_id, object_key, initiated FROM multipart_uploads WHERE bucket = $1 AND object_key {op} $2 \
             ORDER BY object_key, initiated LIMIT $3"
        )))
        .bind(self.bucket)
        .bind(from)
        .bind(self.budget)
        .fetch_all(&self.store.inner.reader)
        .await?;
        let full = rows.len() as i64 == self.budget;
        let mut last = None;
        for row in &rows {
            let key = key_from_row(row)?;
            if !key.starts_with(self.rule.filter.prefix()) {
                break;
            }
            let initiated = from_millis(row.try_get("initiated")?);
            if self.day.after(initiated, days) <= self.now {
                let id: String = row.try_get("upload_id")?;
                match self.store.abort_upload(&id).await {
                    Ok(()) => report.uploads_aborted += 1,
                    Err(StoreError::NoSuchUpload) => {}
                    Err(err) => return Err(err),
                }
            }
            last = Some(key);
        }
        // Uploads of one key share a cursor position: a full batch resumes after the key.
        self.finish(UPLOADS, last.as_deref(), full).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(secs).unwrap()
    }

    #[test]
    fn days_round_up_to_the_next_midnight() {
        let day = LifecycleDay(Duration::from_secs(86_400));
        // Written at 10:00 on day 0, one day: midnight starting day 2.
        assert_eq!(day.after(at(36_000), 1), at(2 * 86_400));
        // Written exactly at midnight: exactly the days later.
        assert_eq!(day.after(at(86_400), 1), at(2 * 86_400));
        let short = LifecycleDay(Duration::from_secs(10));
        assert_eq!(short.after(at(3), 1), at(20));
    }

    #[test]
    fn filters_match_prefix_size_and_no_tags() {
        let filter = LifecycleFilter {
            prefix: Some("logs/".into()),
            size_greater_than: Some(10),
            size_less_than: Some(100),
            ..Default::default()
        };
        assert!(filter.matches("logs/a", 50));
        assert!(!filter.matches("logs/a", 10));
        assert!(!filter.matches("logs/a", 100));
        assert!(!filter.matches("other/a", 50));
        let tagged = LifecycleFilter {
            tags: vec![("k".into(), "v".into())],
            ..Default::default()
        };
        assert!(!tagged.matches("anything", 1), "objects carry no tags yet");
    }

    #[test]
    fn the_soonest_rule_names_the_expiration() {
        let day = LifecycleDay(Duration::from_secs(86_400));
        let rule = |id: &str, days| LifecycleRule {
            id: id.into(),
            enabled: true,
            filter: LifecycleFilter::default(),
            expiration: Some(Expiration {
                days: Some(days),
                ..Default::default()
            }),
            noncurrent_expiration: None,
            abort_incomplete_upload_days: None,
        };
        let rules = [rule("slow", 30), rule("fast", 2)];
        let (when, id) = expiration(&rules, "k", 1, at(0), day).unwrap();
        assert_eq!((when, id), (at(2 * 86_400), "fast"));
        let disabled = LifecycleRule {
            enabled: false,
            ..rule("off", 1)
        };
        assert!(expiration(&[disabled], "k", 1, at(0), day).is_none());
    }
}
