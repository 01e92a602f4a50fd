//! S3 Object Lock: Put/GetObjectLockConfiguration, Put/GetObjectRetention,
//! Put/GetObjectLegalHold, and the `x-amz-object-lock-*` headers of writes and reads. The
//! rules that protect a locked version live in the store, inside the write that would break
//! them; here is what S3 asks of requests and how it answers.

use s3s::dto::*;
use s3s::{S3Request, S3Response};
use time::OffsetDateTime;

use crate::CofferS3;
use crate::error::{Result, S3Fault};
use crate::versioning::check_version_id;
use coffer_auth::Caller;
use coffer_store::{
    Bucket, BucketLock, DefaultRetention, ObjectLock, ObjectMeta, Retention, RetentionMode, RetentionPeriod,
};

/// The most days (or years, in days) a default retention may last: S3's bound, 100 years.
const MAX_RETENTION_DAYS: i64 = 36_500;

fn no_lock_configuration() -> S3Fault {
    S3Fault::InvalidRequest("Bucket is missing Object Lock Configuration".to_owned())
}

/// PutObjectInput, CopyObjectInput and CreateMultipartUploadInput name their lock headers
/// alike: `lock_input!(bucket, input)`.
macro_rules! lock_input {
    ($bucket:expr, $input:expr) => {
        $crate::object_lock::lock_from_headers(
            $bucket,
            $input.object_lock_mode.as_ref(),
            $input.object_lock_retain_until_date.as_ref(),
            $input.object_lock_legal_hold_status.as_ref(),
        )
    };
}
pub(crate) use lock_input;

/// The `x-amz-object-lock-*` headers of a PUT, copy or CreateMultipartUpload, checked as S3
/// checks them: mode and date together, the date in the future, and only in a bucket with
/// Object Lock.
pub(crate) fn lock_from_headers(
    bucket: &Bucket,
    mode: Option<&ObjectLockMode>,
    until: Option<&Timestamp>,
    legal_hold: Option<&ObjectLockLegalHoldStatus>,
) -> Result<ObjectLock> {
    let retention = match (mode, until) {
        (None, None) => None,
        (Some(mode), Some(until)) => {
            let mode = RetentionMode::parse(mode.as_str())
                .ok_or_else(|| S3Fault::InvalidArgument("Unknown wormMode directive.".to_owned()))?;
            let until = OffsetDateTime::from(until.clone());
            if until <= OffsetDateTime::now_utc() {
                return Err(S3Fault::InvalidArgument(
                    "The retain until date must be in the future!".to_owned(),
                ));
            }
            Some(Retention { mode, until })
        }
        _ => {
            return Err(S3Fault::InvalidArgument(
                "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied".to_owned(),
            ));
        }
    };
    let hold_header = legal_hold.is_some();
    let legal_hold = match legal_hold.map(|s| s.as_str()) {
        None | Some(ObjectLockLegalHoldStatus::OFF) => false,
        Some(ObjectLockLegalHoldStatus::ON) => true,
        Some(_) => {
            return Err(S3Fault::InvalidArgument(
                "Legal Hold must be either of 'ON' or 'OFF'".to_owned(),
            ));
        }
    };
    if (mode.is_some() || until.is_some() || hold_header) && bucket.object_lock.is_none() {
        return Err(no_lock_configuration());
    }
    Ok(ObjectLock { retention, legal_hold })
}

/// Setting a lock with a write needs the lock's own permissions besides `s3:PutObject`, as in
/// S3: `s3:PutObjectRetention` for a retention, `s3:PutObjectLegalHold` for a legal hold.
pub(crate) fn may_lock(caller: Option<&Caller>, bucket: &Bucket, key: &str, lock: &ObjectLock) -> Result<()> {
    let denied = || S3Fault::AccessDenied("Access Denied".to_owned());
    let may = |action: &str| match caller {
        Some(caller) => caller.may_in_bucket(action, bucket, Some(key)).map_err(S3Fault::from),
        None => Err(denied()),
    };
    if lock.retention.is_some() {
        may("s3:PutObjectRetention")?;
    }
    if lock.legal_hold {
        may("s3:PutObjectLegalHold")?;
    }
    Ok(())
}

/// S3 wants an object that Object Lock will protect to arrive with its integrity checked:
/// Content-MD5 or an `x-amz-checksum-*`/`x-amz-sdk-checksum-algorithm` header.
pub(crate) fn require_integrity(bucket: &Bucket, lock: &ObjectLock, headers: &http::HeaderMap) -> Result<()> {
    let retained = lock.retention.is_some()
        || lock.legal_hold
        || bucket.object_lock.is_some_and(|l| l.default_retention.is_some());
    const CHECKSUMS: [&str; 6] = [
        "content-md5",
        "x-amz-checksum-crc32",
        "x-amz-checksum-crc32c",
        "x-amz-checksum-crc64nvme",
        "x-amz-checksum-sha1",
        "x-amz-checksum-sha256",
    ];
    let trailed = headers
        .get("x-amz-trailer")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| CHECKSUMS.iter().any(|c| t.trim().eq_ignore_ascii_case(c)));
    let checked = trailed || CHECKSUMS.iter().any(|name| headers.contains_key(*name));
    if retained && !checked {
        return Err(S3Fault::InvalidRequest(
            "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters"
                .to_owned(),
        ));
    }
    Ok(())
}

/// What GET and HEAD say about a version's lock: each part only to a caller allowed to read
/// it (`s3:GetObjectRetention`, `s3:GetObjectLegalHold`), as S3 answers.
pub(crate) struct LockHeaders {
    pub mode: Option<ObjectLockMode>,
    pub until: Option<Timestamp>,
    pub legal_hold: Option<ObjectLockLegalHoldStatus>,
}

impl LockHeaders {
    pub(crate) fn of(reader: Option<&Caller>, bucket: &Bucket, object: &ObjectMeta) -> LockHeaders {
        let may = |action: &str| reader.is_some_and(|r| r.may_in_bucket(action, bucket, Some(&object.key)).is_ok());
        let retention = object.lock.retention.filter(|_| may("s3:GetObjectRetention"));
        let legal_hold = (bucket.object_lock.is_some() && may("s3:GetObjectLegalHold")).then(|| {
            ObjectLockLegalHoldStatus::from_static(if object.lock.legal_hold {
                ObjectLockLegalHoldStatus::ON
            } else {
                ObjectLockLegalHoldStatus::OFF
            })
        });
        LockHeaders {
            mode: retention.map(|r| ObjectLockMode::from(r.mode.as_str().to_owned())),
            until: retention.map(|r| Timestamp::from(r.until)),
            legal_hold,
        }
    }
}

/// Whether a request may bypass governance retention: it says so, and may.
pub(crate) fn bypasses_governance(
    caller: Option<&Caller>,
    bucket: &Bucket,
    key: &str,
    version_id: Option<&str>,
    asked: Option<bool>,
) -> bool {
    let keys = || version_id.map(|v| ("s3:VersionId", v.to_owned())).into_iter().collect();
    asked == Some(true)
        && caller.is_some_and(|c| {
            c.may_in_bucket_with("s3:BypassGovernanceRetention", bucket, Some(key), keys())
                .is_ok()
        })
}

pub(crate) async fn put_object_lock_configuration(
    s3: &CofferS3,
    req: S3Request<PutObjectLockConfigurationInput>,
) -> Result<S3Response<PutObjectLockConfigurationOutput>> {
    let input = req.input;
    let bucket = s3.bucket(&input.bucket).await?;
    let configuration = input.object_lock_configuration.ok_or(S3Fault::MalformedXML)?;
    if configuration.object_lock_enabled.as_ref().map(|e| e.as_str()) != Some(ObjectLockEnabled::ENABLED) {
        return Err(S3Fault::MalformedXML);
    }
    let default_retention = match configuration.rule.map(|r| r.default_retention) {
        None => None,
        // A Rule must say its default retention.
        Some(None) => return Err(S3Fault::MalformedXML),
        Some(Some(retention)) => {
            let mode = retention
                .mode
                .as_ref()
                .and_then(|m| RetentionMode::parse(m.as_str()))
                .ok_or(S3Fault::MalformedXML)?;
            let period = match (retention.days, retention.years) {
                (Some(days), None) => RetentionPeriod::Days(positive(days, 1)?),
                (None, Some(years)) => RetentionPeriod::Years(positive(years, 365)?),
                _ => return Err(S3Fault::MalformedXML),
            };
            Some(DefaultRetention { mode, period })
        }
    };
    s3.store
        .set_object_lock(&bucket.name, BucketLock { default_retention })
        .await
        .map_err(|err| match err {
            coffer_store::StoreError::InvalidBucketState => S3Fault::InvalidBucketState(
                "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration".to_owned(),
            ),
            other => other.into(),
        })?;
    Ok(S3Response::new(PutObjectLockConfigurationOutput::default()))
}

/// A default retention's Days or Years: positive, and at most 100 years.
fn positive(value: i32, days_each: i64) -> Result<u32> {
    if value <= 0 {
        return Err(S3Fault::InvalidRetentionPeriod(
            "Default retention period must be a positive integer value".to_owned(),
        ));
    }
    if i64::from(value) * days_each > MAX_RETENTION_DAYS {
        return Err(S3Fault::InvalidRetentionPeriod(
            "Default retention period is too large.".to_owned(),
        ));
    }
    Ok(value as u32)
}

pub(crate) async fn get_object_lock_configuration(
    s3: &CofferS3,
    req: S3Request<GetObjectLockConfigurationInput>,
) -> Result<S3Response<GetObjectLockConfigurationOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    let lock = bucket
        .object_lock
        .ok_or(S3Fault::ObjectLockConfigurationNotFoundError)?;
    let rule = lock.default_retention.map(|retention| ObjectLockRule {
        default_retention: Some(s3s::dto::DefaultRetention {
            mode: Some(ObjectLockRetentionMode::from(retention.mode.as_str().to_owned())),
            days: match retention.period {
                RetentionPeriod::Days(days) => Some(days as i32),
                RetentionPeriod::Years(_) => None,
            },
            years: match retention.period {
                RetentionPeriod::Years(years) => Some(years as i32),
                RetentionPeriod::Days(_) => None,
            },
        }),
    });
    Ok(S3Response::new(GetObjectLockConfigurationOutput {
        object_lock_configuration: Some(ObjectLockConfiguration {
            object_lock_enabled: Some(ObjectLockEnabled::from_static(ObjectLockEnabled::ENABLED)),
            rule,
        }),
    }))
}

/// The bucket of a retention or legal-hold request, which must have Object Lock.
async fn locked_bucket(s3: &CofferS3, name: &str) -> Result<Bucket> {
    let bucket = s3.bucket(name).await?;
    if bucket.object_lock.is_none() {
        return Err(no_lock_configuration());
    }
    Ok(bucket)
}

/// The version whose lock a GetObjectRetention or GetObjectLegalHold reads (a delete marker
/// has none: 405).
async fn locked_version(
    s3: &CofferS3,
    reader: Option<&Caller>,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<crate::get::Found> {
    let bucket = locked_bucket(s3, bucket).await?;
    match s3.object(reader, &bucket.name, key, version_id).await {
        Err(S3Fault::DeleteMarker { .. }) => Err(S3Fault::MethodNotAllowed),
        other => other,
    }
}

fn lock_fault(err: coffer_store::StoreError) -> S3Fault {
    match err {
        coffer_store::StoreError::MethodNotAllowed => S3Fault::MethodNotAllowed,
        other => other.into(),
    }
}

pub(crate) async fn put_object_retention(
    s3: &CofferS3,
    req: S3Request<PutObjectRetentionInput>,
) -> Result<S3Response<PutObjectRetentionOutput>> {
    let caller = crate::caller(&req).ok().cloned();
    let input = req.input;
    let version = check_version_id(input.version_id.as_deref())?;
    let bucket = locked_bucket(s3, &input.bucket).await?;
    let retention = match input.retention {
        None => None,
        Some(ObjectLockRetention {
            mode: None,
            retain_until_date: None,
        }) => None,
        Some(ObjectLockRetention {
            mode: Some(mode),
            retain_until_date: Some(until),
        }) => {
            let mode = RetentionMode::parse(mode.as_str()).ok_or(S3Fault::MalformedXML)?;
            let until = OffsetDateTime::from(until);
            if until <= OffsetDateTime::now_utc() {
                return Err(S3Fault::InvalidArgument(
                    "The retain until date must be in the future!".to_owned(),
                ));
            }
            Some(Retention { mode, until })
        }
        Some(_) => return Err(S3Fault::MalformedXML),
    };
    let bypass = bypasses_governance(
        caller.as_ref(),
        &bucket,
        &input.key,
        version,
        input.bypass_governance_retention,
    );
    s3.store
        .set_object_retention(&bucket.name, &input.key, version, retention, bypass)
        .await
        .map_err(lock_fault)?;
    Ok(S3Response::new(PutObjectRetentionOutput::default()))
}

pub(crate) async fn get_object_retention(
    s3: &CofferS3,
    req: S3Request<GetObjectRetentionInput>,
) -> Result<S3Response<GetObjectRetentionOutput>> {
    let reader = crate::caller(&req).ok().cloned();
    let input = req.input;
    let found = locked_version(
        s3,
        reader.as_ref(),
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
    )
    .await?;
    let retention = found
        .object
        .lock
        .retention
        .ok_or(S3Fault::NoSuchObjectLockConfiguration)?;
    Ok(S3Response::new(GetObjectRetentionOutput {
        retention: Some(ObjectLockRetention {
            mode: Some(ObjectLockRetentionMode::from(retention.mode.as_str().to_owned())),
            retain_until_date: Some(Timestamp::from(retention.until)),
        }),
    }))
}

pub(crate) async fn put_object_legal_hold(
    s3: &CofferS3,
    req: S3Request<PutObjectLegalHoldInput>,
) -> Result<S3Response<PutObjectLegalHoldOutput>> {
    let input = req.input;
    let version = check_version_id(input.version_id.as_deref())?;
    let bucket = locked_bucket(s3, &input.bucket).await?;
    let on = match input.legal_hold.and_then(|h| h.status).as_ref().map(|s| s.as_str()) {
        Some(ObjectLockLegalHoldStatus::ON) => true,
        Some(ObjectLockLegalHoldStatus::OFF) => false,
        _ => return Err(S3Fault::MalformedXML),
    };
    s3.store
        .set_legal_hold(&bucket.name, &input.key, version, on)
        .await
        .map_err(lock_fault)?;
    Ok(S3Response::new(PutObjectLegalHoldOutput::default()))
}

pub(crate) async fn get_object_legal_hold(
    s3: &CofferS3,
    req: S3Request<GetObjectLegalHoldInput>,
) -> Result<S3Response<GetObjectLegalHoldOutput>> {
    let reader = crate::caller(&req).ok().cloned();
    let input = req.input;
    let found = locked_version(
        s3,
        reader.as_ref(),
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
    )
    .await?;
    let status = if found.object.lock.legal_hold {
        ObjectLockLegalHoldStatus::ON
    } else {
        ObjectLockLegalHoldStatus::OFF
    };
    Ok(S3Response::new(GetObjectLegalHoldOutput {
        legal_hold: Some(ObjectLockLegalHold {
            status: Some(ObjectLockLegalHoldStatus::from_static(status)),
        }),
    }))
}
