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

    /// Whether an object of `key`, `size` and `tags` is in the filter: every tag the filter
    /// names, with its value.
    pub fn matches(&self, key: &str, size: u64, tags: &[crate::Tag]) -> bool {
        key.starts_with(self.prefix())
            && self
                .tags
                .iter()
                .all(|(k, v)| tags.iter().any(|t| t.key == *k && t.value == *v))
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
    pub fn expires(&self, object: &Judged<'_>, day: LifecycleDay) -> Option<OffsetDateTime> {
        if !self.enabled || !self.filter.matches(object.key, object.size, object.tags) {
            return None;
        }
        let expiration = self.expiration.as_ref()?;
        match (expiration.days, expiration.date) {
            (Some(days), _) => Some(day.after(object.last_modified, days)),
            (None, Some(date)) => Some(from_millis(date)),
            (None, None) => None,
        }
    }
}

/// What a rule judges an object by.
pub struct Judged<'a> {
    pub key: &'a str,
    pub size: u64,
    pub tags: &'a [crate::Tag],
    pub last_modified: OffsetDateTime,
}

/// The soonest expiration any of `rules` gives a current object, with the rule's id (S3's
/// `x-amz-expiration`).
pub fn expiration<'r>(
    rules: &'r [LifecycleRule],
    object: &Judged<'_>,
    day: LifecycleDay,
) -> Option<(OffsetDateTime, &'r str)> {
    rules
        .iter()
        .filter_map(|rule| Some((rule.expires(object, day)?, rule.id.as_str())))
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
    /// Buckets whose rules could not be applied this pass (logged).
    pub failed_buckets: usize,
}

/// The phases of a rule, each with its own cursor.
const CURRENT: &str = "current";
const MARKERS: &str = "markers";
const NONCURRENT: &str = "noncurrent";
const UPLOADS: &str = "uploads";

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
    /// rule and phase, while `lease` is held: it is renewed before each bucket, and the pass
    /// stops when another node has it. Each bucket's rules are read just before it is done, so
    /// a rule changed meanwhile applies as changed; a bucket that fails is logged and skipped.
    pub async fn lifecycle_pass(&self, day: LifecycleDay, budget: usize, lease: &Lease<'_>) -> Result<LifecycleReport> {
        let buckets: Vec<String> = sqlx::query_scalar("SELECT bucket FROM bucket_lifecycle ORDER BY bucket")
            .fetch_all(&self.inner.reader)
            .await?;
        let mut report = LifecycleReport::default();
        for bucket in buckets {
            if !self.take_lease(lease.name, lease.holder, lease.ttl).await? {
                break;
            }
            if let Err(err) = self.lifecycle_bucket(&bucket, day, budget, &mut report).await {
                tracing::warn!(%err, %bucket, "lifecycle rules could not be applied to a bucket");
                report.failed_buckets += 1;
            }
        }
        Ok(report)
    }

    async fn lifecycle_bucket(
        &self,
        bucket: &str,
        day: LifecycleDay,
        budget: usize,
        report: &mut LifecycleReport,
    ) -> Result<()> {
        let rules: Option<String> = sqlx::query_scalar("SELECT rules FROM bucket_lifecycle WHERE bucket = $1")
            .bind(bucket)
            .fetch_optional(&self.inner.reader)
            .await?;
        let Some(rules) = rules else { return Ok(()) };
        let rules: Vec<LifecycleRule> =
            serde_json::from_str(&rules).map_err(|_| StoreError::Corrupt("lifecycle rules"))?;
        for rule in rules.iter().filter(|r| r.enabled) {
            let pass = RulePass {
                store: self,
                bucket,
                rule,
                day,
                budget: budget.max(1) as i64,
                now: OffsetDateTime::now_utc(),
            };
            pass.run(report).await?;
        }
        Ok(())
    }

    async fn cursor(&self, bucket: &str, rule: &str, phase: &str) -> Result<Cursor> {
        let row = sqlx::query(
            "SELECT after_key, after_order FROM lifecycle_cursors WHERE bucket = $1 AND rule_id = $2 AND phase = $3",
        )
        .bind(bucket)
        .bind(rule)
        .bind(phase)
        .fetch_optional(&self.inner.reader)
        .await?;
        Ok(match row {
            Some(row) => Cursor {
                key: row.try_get("after_key")?,
                order: row.try_get("after_order")?,
            },
            None => Cursor::default(),
        })
    }

    /// Records where a phase stopped (`None`: it reached the end; the next pass starts over).
    async fn set_cursor(&self, bucket: &str, rule: &str, phase: &str, after: Option<&Cursor>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let written = match after {
            Some(after) => {
                sqlx::query(
                    "INSERT INTO lifecycle_cursors (bucket, rule_id, phase, after_key, after_order) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (bucket, rule_id, phase) \
                     DO UPDATE SET after_key = excluded.after_key, after_order = excluded.after_order",
                )
                .bind(bucket)
                .bind(rule)
                .bind(phase)
                .bind(after.key.clone())
                .bind(after.order)
                .execute(&mut *tx)
                .await
            }
            None => {
                sqlx::query("DELETE FROM lifecycle_cursors WHERE bucket = $1 AND rule_id = $2 AND phase = $3")
                    .bind(bucket)
                    .bind(rule)
                    .bind(phase)
                    .execute(&mut *tx)
                    .await
            }
        };
        match written {
            // The bucket was deleted meanwhile: its cursors went with it.
            Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => Ok(()),
            Err(err) => Err(err.into()),
            Ok(_) => Ok(tx.commit().await?),
        }
    }
}

/// Which node may run lifecycle passes: the lease's name, this node's id, and how long a
/// renewal holds it.
pub struct Lease<'a> {
    pub name: &'a str,
    pub holder: &'a str,
    pub ttl: Duration,
}

/// Where a phase stopped: after this key (and, paging through versions, after this one of its
/// versions).
#[derive(Clone, Debug, Default)]
struct Cursor {
    key: Vec<u8>,
    order: Option<i64>,
}

impl Cursor {
    fn after(key: &str) -> Cursor {
        Cursor {
            key: key.as_bytes().to_vec(),
            order: None,
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
    async fn start(&self, phase: &str) -> Result<(Cursor, &'static str)> {
        let cursor = self.store.cursor(self.bucket, &self.rule.id, phase).await?;
        let prefix = self.rule.filter.prefix().as_bytes().to_vec();
        Ok(if cursor.key.is_empty() || cursor.key < prefix {
            (
                Cursor {
                    key: prefix,
                    order: None,
                },
                ">=",
            )
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
            "SELECT object_key, version_id, size, etag, last_modified, tags FROM objects \
             WHERE bucket = $1 AND object_key {op} $2 AND {index_filter} {marker} ORDER BY object_key LIMIT $3"
        )))
        .bind(self.bucket)
        .bind(from.key)
        .bind(self.budget)
        .fetch_all(&self.store.inner.reader)
        .await?;
        let full = rows.len() as i64 == self.budget;
        Ok((rows, full))
    }

    /// Ends a phase's pass at `last` (when the batch was full and still in the prefix), or at
    /// the end.
    async fn finish(&self, phase: &str, last: Option<Cursor>, full: bool) -> Result<()> {
        let prefix = self.rule.filter.prefix().as_bytes();
        let resume = last.filter(|at| full && at.key.starts_with(prefix));
        self.store
            .set_cursor(self.bucket, &self.rule.id, phase, resume.as_ref())
            .await
    }

    /// Tallies a removal's outcome: done, refused by Object Lock, or overtaken by a write.
    fn tally(outcome: Result<bool>, done: &mut usize, report_locked: &mut usize) -> Result<()> {
        match outcome {
            Ok(true) => *done += 1,
            Ok(false) => {}
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
            let tags = crate::tagging::from_json(row.try_get("tags")?)?;
            let judged = Judged {
                key: &key,
                size,
                tags: &tags,
                last_modified: modified,
            };
            if self.rule.expires(&judged, self.day).is_some_and(|at| at <= self.now) {
                let judged = WriteCondition::IfLatestIs {
                    etag: row.try_get("etag")?,
                    last_modified: to_millis(modified),
                };
                let outcome = self
                    .store
                    .delete_object(self.bucket, &key, None, &judged, false)
                    .await
                    .map(|_| true);
                Self::tally(outcome, &mut report.expired, &mut report.locked)?;
            }
            last = Some(Cursor::after(&key));
        }
        self.finish(CURRENT, last, full).await
    }

    /// `ExpiredObjectDeleteMarker`: a delete marker that is all its key has left is removed
    /// (checked again in the delete's transaction, so a write landing meanwhile wins).
    async fn remove_lone_markers(&self, report: &mut LifecycleReport) -> Result<()> {
        let (rows, full) = self.latest_rows(MARKERS, true).await?;
        let mut last = None;
        for row in &rows {
            let key = key_from_row(row)?;
            if !key.starts_with(self.rule.filter.prefix()) {
                break;
            }
            let modified: i64 = row.try_get("last_modified")?;
            let old_enough = match self.rule.expiration.as_ref().and_then(|e| e.days) {
                Some(days) => self.day.after(from_millis(modified), days) <= self.now,
                None => true,
            };
            if old_enough && self.rule.filter.tags.is_empty() {
                let version: String = row.try_get("version_id")?;
                let judged = WriteCondition::IfLoneDeleteMarker {
                    last_modified: modified,
                };
                let outcome = self
                    .store
                    .delete_object(self.bucket, &key, Some(&version), &judged, false)
                    .await
                    .map(|deleted| deleted.existed);
                Self::tally(outcome, &mut report.markers_removed, &mut report.locked)?;
            }
            last = Some(Cursor::after(&key));
        }
        self.finish(MARKERS, last, full).await
    }

    /// `NoncurrentVersionExpiration`: noncurrent versions noncurrent for the days (beyond the
    /// newest `NewerNoncurrentVersions`) are deleted for good. Pages through versions a
    /// budget of rows at a time, so a key with any number of versions is worked through.
    async fn expire_noncurrent(&self, report: &mut LifecycleReport) -> Result<()> {
        let Some(rule) = &self.rule.noncurrent_expiration else {
            return Ok(());
        };
        let (from, op) = self.start(NONCURRENT).await?;
        let (condition, order) = match from.order {
            Some(order) => ("(object_key, version_order) > ($2, $4)", Some(order)),
            None => (
                if op == ">" {
                    "object_key > $2"
                } else {
                    "object_key >= $2"
                },
                None,
            ),
        };
        let query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT object_key, version_id, version_order, size, last_modified, tags FROM objects \
             WHERE bucket = $1 AND {condition} ORDER BY object_key, version_order LIMIT $3"
        )))
        .bind(self.bucket)
        .bind(from.key.clone())
        .bind(self.budget);
        let query = match order {
            Some(order) => query.bind(order),
            None => query,
        };
        let rows = query.fetch_all(&self.store.inner.reader).await?;
        let full = rows.len() as i64 == self.budget;
        // Per key: when the version just above was written (the moment the next one became
        // noncurrent) and how many noncurrent versions are newer.
        let mut key_state: Option<(String, Option<OffsetDateTime>, u32)> = None;
        let mut last = None;
        for row in &rows {
            let key = key_from_row(row)?;
            if !key.starts_with(self.rule.filter.prefix()) {
                break;
            }
            let order: i64 = row.try_get("version_order")?;
            if key_state.as_ref().is_none_or(|(k, _, _)| *k != key) {
                key_state = Some((key.clone(), None, 0));
                // Resuming inside a key: what the versions above this one say.
                if from.order.is_some() && from.key == key.as_bytes() {
                    key_state = Some(self.versions_above(&key, order).await?);
                }
            }
            let (_, newer_modified, noncurrent_seen) = key_state.as_mut().expect("set above");
            let modified = from_millis(row.try_get("last_modified")?);
            last = Some(Cursor {
                key: key.as_bytes().to_vec(),
                order: Some(order),
            });
            let Some(since) = newer_modified.replace(modified) else {
                continue;
            };
            *noncurrent_seen += 1;
            let size = row.try_get::<i64, _>("size")? as u64;
            let kept = rule.newer_noncurrent_versions.is_some_and(|n| *noncurrent_seen <= n);
            let due = self.day.after(since, rule.days) <= self.now;
            let tags = crate::tagging::from_json(row.try_get("tags")?)?;
            if kept || !due || !self.rule.filter.matches(&key, size, &tags) {
                continue;
            }
            let id: String = row.try_get("version_id")?;
            let judged = WriteCondition::IfNoncurrent {
                last_modified: to_millis(modified),
            };
            let outcome = self
                .store
                .delete_object(self.bucket, &key, Some(&id), &judged, false)
                .await
                .map(|deleted| deleted.existed);
            Self::tally(outcome, &mut report.noncurrent_removed, &mut report.locked)?;
        }
        self.finish(NONCURRENT, last, full).await
    }

    /// The state the noncurrent phase carries into a key at the version in place `order`:
    /// when the version just above it was written, and how many noncurrent versions are above.
    async fn versions_above(&self, key: &str, order: i64) -> Result<(String, Option<OffsetDateTime>, u32)> {
        let above = sqlx::query(
            "SELECT last_modified FROM objects WHERE bucket = $1 AND object_key = $2 AND version_order < $3 \
             ORDER BY version_order DESC LIMIT 1",
        )
        .bind(self.bucket)
        .bind(key.as_bytes().to_vec())
        .bind(order)
        .fetch_optional(&self.store.inner.reader)
        .await?;
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM objects WHERE bucket = $1 AND object_key = $2 AND version_order < $3",
        )
        .bind(self.bucket)
        .bind(key.as_bytes().to_vec())
        .bind(order)
        .fetch_one(&self.store.inner.reader)
        .await?;
        let newer = above
            .map(|row| row.try_get::<i64, _>("last_modified").map(from_millis))
            .transpose()?;
        // The latest version is not noncurrent.
        Ok((key.to_owned(), newer, (count - 1).max(0) as u32))
    }

    /// `AbortIncompleteMultipartUpload`: uploads started the days ago are aborted.
    async fn abort_uploads(&self, days: u32, report: &mut LifecycleReport) -> Result<()> {
        let (from, op) = self.start(UPLOADS).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT upload_id, object_key, initiated FROM multipart_uploads WHERE bucket = $1 AND object_key {op} $2 \
             ORDER BY object_key, initiated LIMIT $3"
        )))
        .bind(self.bucket)
        .bind(from.key)
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
            last = Some(Cursor::after(&key));
        }
        // Uploads of one key share a cursor position: a full batch resumes after the key.
        self.finish(UPLOADS, last, full).await
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
        assert!(filter.matches("logs/a", 50, &[]));
        assert!(!filter.matches("logs/a", 10, &[]));
        assert!(!filter.matches("logs/a", 100, &[]));
        assert!(!filter.matches("other/a", 50, &[]));
        let tagged = LifecycleFilter {
            tags: vec![("k".into(), "v".into())],
            ..Default::default()
        };
        let tag = |k: &str, v: &str| crate::Tag {
            key: k.into(),
            value: v.into(),
        };
        assert!(!tagged.matches("anything", 1, &[]));
        assert!(!tagged.matches("anything", 1, &[tag("k", "other")]));
        assert!(tagged.matches("anything", 1, &[tag("x", "y"), tag("k", "v")]));
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
        let object = Judged {
            key: "k",
            size: 1,
            tags: &[],
            last_modified: at(0),
        };
        let (when, id) = expiration(&rules, &object, day).unwrap();
        assert_eq!((when, id), (at(2 * 86_400), "fast"));
        let disabled = LifecycleRule {
            enabled: false,
            ..rule("off", 1)
        };
        assert!(expiration(&[disabled], &object, day).is_none());
    }
}
