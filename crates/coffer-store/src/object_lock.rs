//! S3 Object Lock: a version's retention and legal hold, a bucket's default retention, and
//! the rules that keep a locked version from being deleted (by anyone, the root user too)
//! or its retention from being shortened. The rules are pure functions of the stored state;
//! the store applies them inside the write that would break them.

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::epochs::Cache;
use crate::model::{from_millis, now_millis, to_millis};
use crate::{Result, Store, StoreError};

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetentionMode {
    /// Only a caller allowed `s3:BypassGovernanceRetention`, saying so, may shorten or remove it.
    Governance,
    /// Nobody may shorten or remove it until it ends.
    Compliance,
}

impl RetentionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RetentionMode::Governance => "GOVERNANCE",
            RetentionMode::Compliance => "COMPLIANCE",
        }
    }

    pub fn parse(text: &str) -> Option<RetentionMode> {
        match text {
            "GOVERNANCE" => Some(RetentionMode::Governance),
            "COMPLIANCE" => Some(RetentionMode::Compliance),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    pub mode: RetentionMode,
    pub until: OffsetDateTime,
}

/// What locks one version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjectLock {
    pub retention: Option<Retention>,
    pub legal_hold: bool,
}

impl ObjectLock {
    /// Whether the version may be removed now (`bypass`: a governance retention is bypassed
    /// by a caller allowed to).
    pub fn permits_delete(&self, now: OffsetDateTime, bypass: bool) -> bool {
        if self.legal_hold {
            return false;
        }
        match self.retention {
            Some(r) if r.until > now => r.mode == RetentionMode::Governance && bypass,
            _ => true,
        }
    }

    pub(crate) fn from_row(row: &AnyRow) -> Result<ObjectLock> {
        let mode: Option<String> = row.try_get("lock_mode")?;
        let until: Option<i64> = row.try_get("lock_until")?;
        let retention = match (mode.as_deref().and_then(RetentionMode::parse), until) {
            (Some(mode), Some(until)) => Some(Retention {
                mode,
                until: from_millis(until),
            }),
            _ => None,
        };
        Ok(ObjectLock {
            retention,
            legal_hold: row.try_get::<i64, _>("legal_hold")? != 0,
        })
    }
}

/// Whether a version's retention may become `new` (`None`: removed). Extending in the same
/// mode is always allowed; shortening, removing or changing the mode only once it has ended,
/// or for GOVERNANCE with `bypass` (as S3 and ceph/s3-tests have it: even GOVERNANCE to
/// COMPLIANCE needs the bypass).
pub fn permits_retention_change(
    current: Option<Retention>,
    new: Option<Retention>,
    now: OffsetDateTime,
    bypass: bool,
) -> bool {
    let Some(current) = current.filter(|c| c.until > now) else {
        return true;
    };
    let keeps_or_extends = new.is_some_and(|n| n.until >= current.until && n.mode == current.mode);
    keeps_or_extends || (current.mode == RetentionMode::Governance && bypass)
}

/// How long a bucket's default retention lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetentionPeriod {
    Days(u32),
    Years(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefaultRetention {
    pub mode: RetentionMode,
    pub period: RetentionPeriod,
}

impl DefaultRetention {
    /// The retention a version written at `at` takes. Years are calendar years; 29 February
    /// in a year without one moves to 1 March, so a retention never ends early.
    pub fn from(&self, at: OffsetDateTime) -> Retention {
        let until = match self.period {
            RetentionPeriod::Days(days) => at + time::Duration::days(i64::from(days)),
            RetentionPeriod::Years(years) => {
                let year = at.year() + years as i32;
                at.replace_year(year)
                    .unwrap_or_else(|_| (at + time::Duration::days(1)).replace_year(year).unwrap_or(at))
            }
        };
        Retention { mode: self.mode, until }
    }
}

/// A bucket's Object Lock configuration (it has one once Object Lock is enabled).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BucketLock {
    pub default_retention: Option<DefaultRetention>,
}

impl BucketLock {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Option<BucketLock>> {
        if row.try_get::<i64, _>("object_lock_enabled")? == 0 {
            return Ok(None);
        }
        let mode: Option<String> = row.try_get("lock_default_mode")?;
        let days: Option<i64> = row.try_get("lock_default_days")?;
        let years: Option<i64> = row.try_get("lock_default_years")?;
        let period = match (days, years) {
            (Some(days), _) => Some(RetentionPeriod::Days(days as u32)),
            (None, Some(years)) => Some(RetentionPeriod::Years(years as u32)),
            _ => None,
        };
        let default_retention = match (mode.as_deref().and_then(RetentionMode::parse), period) {
            (Some(mode), Some(period)) => Some(DefaultRetention { mode, period }),
            _ => None,
        };
        Ok(Some(BucketLock { default_retention }))
    }
}

/// The lock of one version, read for a change (locked on PostgreSQL by the key's lock, which
/// the caller holds). `NoSuchVersion`/`NoSuchKey` when there is none.
async fn version_lock(
    tx: &mut Tx<'_>,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<(String, ObjectLock)> {
    let which = if version_id.is_some() {
        "version_id = $3"
    } else {
        "is_latest = 1"
    };
    let query = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT version_id, is_delete_marker, lock_mode, lock_until, legal_hold FROM objects \
         WHERE bucket = $1 AND object_key = $2 AND {which}"
    )))
    .bind(bucket)
    .bind(key.as_bytes().to_vec());
    let query = match version_id {
        Some(id) => query.bind(id),
        None => query,
    };
    let row = query.fetch_optional(&mut **tx).await?;
    let missing = || match version_id {
        Some(_) => StoreError::NoSuchVersion,
        None => StoreError::NoSuchKey,
    };
    let row = row.ok_or_else(missing)?;
    if row.try_get::<i64, _>("is_delete_marker")? != 0 {
        return Err(StoreError::MethodNotAllowed);
    }
    Ok((row.try_get("version_id")?, ObjectLock::from_row(&row)?))
}

impl Store {
    /// Enables Object Lock on a bucket (for good) and sets its default retention. The bucket's
    /// versioning must be Enabled (`InvalidBucketState` otherwise).
    pub async fn set_object_lock(&self, bucket: &str, lock: BucketLock) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let retention = lock.default_retention;
        let (days, years) = match retention.map(|r| r.period) {
            Some(RetentionPeriod::Days(days)) => (Some(i64::from(days)), None),
            Some(RetentionPeriod::Years(years)) => (None, Some(i64::from(years))),
            None => (None, None),
        };
        // Only with versioning Enabled, checked in the update itself (see
        // `set_bucket_versioning`, which keeps it so once Object Lock is on).
        let updated = sqlx::query(
            "UPDATE buckets SET object_lock_enabled = 1, lock_default_mode = $2, lock_default_days = $3, \
             lock_default_years = $4 WHERE name = $1 AND versioning = 'Enabled'",
        )
        .bind(bucket)
        .bind(retention.map(|r| r.mode.as_str()))
        .bind(days)
        .bind(years)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(crate::buckets::refused_change(&mut tx, bucket, StoreError::InvalidBucketState).await);
        }
        self.commit_changed(tx, Cache::Buckets).await
    }

    /// Sets (or with `None` removes) a version's retention, if the rules allow (`ObjectLocked`
    /// otherwise); returns the version's id.
    pub async fn set_object_retention(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        retention: Option<Retention>,
        bypass_governance: bool,
    ) -> Result<String> {
        let scope = self.object_write_scope(bucket, key);
        let mut tx = self.begin_write().await?;
        crate::versions::lock_key(&mut tx, bucket, key).await?;
        let (version_id, lock) = version_lock(&mut tx, bucket, key, version_id).await?;
        let now = OffsetDateTime::now_utc();
        if !permits_retention_change(lock.retention, retention, now, bypass_governance) {
            return Err(StoreError::ObjectLocked);
        }
        sqlx::query(
            "UPDATE objects SET lock_mode = $4, lock_until = $5 WHERE bucket = $1 AND object_key = $2 AND version_id = $3",
        )
        .bind(bucket)
        .bind(key.as_bytes().to_vec())
        .bind(&version_id)
        .bind(retention.map(|r| r.mode.as_str()))
        .bind(retention.map(|r| to_millis(r.until)))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        scope.finish();
        Ok(version_id)
    }

    /// Puts a legal hold on a version or lifts it; returns the version's id.
    pub async fn set_legal_hold(&self, bucket: &str, key: &str, version_id: Option<&str>, on: bool) -> Result<String> {
        let scope = self.object_write_scope(bucket, key);
        let mut tx = self.begin_write().await?;
        crate::versions::lock_key(&mut tx, bucket, key).await?;
        let (version_id, _) = version_lock(&mut tx, bucket, key, version_id).await?;
        sqlx::query("UPDATE objects SET legal_hold = $4 WHERE bucket = $1 AND object_key = $2 AND version_id = $3")
            .bind(bucket)
            .bind(key.as_bytes().to_vec())
            .bind(&version_id)
            .bind(i64::from(on))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        scope.finish();
        Ok(version_id)
    }
}

/// The milliseconds of now, for rules checked inside a write.
pub(crate) fn now() -> OffsetDateTime {
    from_millis(now_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(secs).unwrap()
    }

    fn retention(mode: RetentionMode, until: i64) -> Option<Retention> {
        Some(Retention { mode, until: at(until) })
    }

    use RetentionMode::{Compliance, Governance};

    #[test]
    fn compliance_can_only_be_extended_until_it_ends() {
        let now = at(100);
        let current = retention(Compliance, 200);
        assert!(permits_retention_change(
            current,
            retention(Compliance, 300),
            now,
            false
        ));
        assert!(permits_retention_change(
            current,
            retention(Compliance, 200),
            now,
            false
        ));
        for bypass in [false, true] {
            assert!(!permits_retention_change(
                current,
                retention(Compliance, 150),
                now,
                bypass
            ));
            assert!(!permits_retention_change(
                current,
                retention(Governance, 300),
                now,
                bypass
            ));
            assert!(!permits_retention_change(current, None, now, bypass));
        }
        // Once it has ended, anything goes.
        assert!(permits_retention_change(current, None, at(200), false));
    }

    #[test]
    fn governance_is_shortened_only_with_bypass() {
        let now = at(100);
        let current = retention(Governance, 200);
        let change = |new, bypass| permits_retention_change(current, new, now, bypass);
        assert!(change(retention(Governance, 300), false));
        assert!(!change(retention(Compliance, 300), false));
        assert!(change(retention(Compliance, 300), true));
        assert!(!change(retention(Governance, 150), false));
        assert!(!change(None, false));
        assert!(change(retention(Governance, 150), true));
        assert!(change(None, true));
    }

    #[test]
    fn a_locked_version_is_deleted_by_nobody_until_it_ends() {
        let now = at(100);
        let compliance = ObjectLock {
            retention: retention(Compliance, 200),
            legal_hold: false,
        };
        assert!(!compliance.permits_delete(now, true));
        assert!(compliance.permits_delete(at(200), false));
        let governance = ObjectLock {
            retention: retention(Governance, 200),
            legal_hold: false,
        };
        assert!(!governance.permits_delete(now, false));
        assert!(governance.permits_delete(now, true));
        let held = ObjectLock {
            retention: None,
            legal_hold: true,
        };
        assert!(!held.permits_delete(at(10_000), true));
    }

    #[test]
    fn default_retention_counts_days_and_years_from_the_write() {
        let days = DefaultRetention {
            mode: Compliance,
            period: RetentionPeriod::Days(30),
        };
        assert_eq!(days.from(at(0)).until, at(30 * 86_400));
        let years = DefaultRetention {
            mode: Governance,
            period: RetentionPeriod::Years(1),
        };
        assert_eq!(years.from(at(0)).until, at(365 * 86_400));
        // A year from 1 March 1971 crosses 29 February 1972: 366 days.
        let march_1971 = at(424 * 86_400);
        assert_eq!(years.from(march_1971).until, march_1971 + time::Duration::days(366));
        // From 29 February 1972, a year on is 1 March 1973, never 28 February.
        let leap_day = time::macros::datetime!(1972-02-29 12:00 UTC);
        assert_eq!(
            years.from(leap_day).until,
            time::macros::datetime!(1973-03-01 12:00 UTC)
        );
    }
}
