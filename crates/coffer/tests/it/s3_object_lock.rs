//! S3 Object Lock through the AWS SDK for Rust: a bucket made with Object Lock, default
//! retention, retention and legal holds per version, the lock headers on writes and reads,
//! nobody (the root user included) deleting a locked version, and governance bypassed only by
//! a caller allowed to who asks.

use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{
    BucketVersioningStatus, DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockLegalHold,
    ObjectLockLegalHoldStatus, ObjectLockMode, ObjectLockRetention, ObjectLockRetentionMode, ObjectLockRule,
    VersioningConfiguration,
};

use crate::harness::{Coffer, assert_aws_error, finish_upload};

fn in_days(days: i64) -> DateTime {
    DateTime::from_secs(time::OffsetDateTime::now_utc().unix_timestamp() + days * 86_400)
}

async fn vault(s3: &aws_sdk_s3::Client, name: &str) {
    s3.create_bucket()
        .bucket(name)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
}

fn default_retention(mode: ObjectLockRetentionMode, days: Option<i32>, years: Option<i32>) -> ObjectLockConfiguration {
    ObjectLockConfiguration::builder()
        .object_lock_enabled(ObjectLockEnabled::Enabled)
        .rule(
            ObjectLockRule::builder()
                .default_retention(
                    DefaultRetention::builder()
                        .mode(mode)
                        .set_days(days)
                        .set_years(years)
                        .build(),
                )
                .build(),
        )
        .build()
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> String {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_static(b"backup"))
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned()
}

/// The issue's vault: COMPLIANCE for 30 days by default; the version cannot be deleted by the
/// root user, its retention can only grow, and versioning stays on.
#[tokio::test]
async fn a_compliance_vault_keeps_its_versions_from_everyone() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    vault(&s3, "vault").await;
    let versioning = s3.get_bucket_versioning().bucket("vault").send().await.unwrap();
    assert_eq!(versioning.status(), Some(&BucketVersioningStatus::Enabled));
    s3.put_object_lock_configuration()
        .bucket("vault")
        .object_lock_configuration(default_retention(ObjectLockRetentionMode::Compliance, Some(30), None))
        .send()
        .await
        .unwrap();
    let config = s3.get_object_lock_configuration().bucket("vault").send().await.unwrap();
    let rule = config.object_lock_configuration().unwrap().rule().unwrap();
    assert_eq!(rule.default_retention().unwrap().days(), Some(30));

    let version = put(&s3, "vault", "backup.tar").await;
    let head = s3.head_object().bucket("vault").key("backup.tar").send().await.unwrap();
    assert_eq!(head.object_lock_mode(), Some(&ObjectLockMode::Compliance));
    let until = head.object_lock_retain_until_date().unwrap().secs();
    assert!((until - in_days(30).secs()).abs() < 120, "{until}");
    assert_eq!(
        head.object_lock_legal_hold_status(),
        Some(&ObjectLockLegalHoldStatus::Off)
    );

    // Nobody deletes the version, the root user included, bypass or not.
    for bypass in [false, true] {
        let err = s3
            .delete_object()
            .bucket("vault")
            .key("backup.tar")
            .version_id(&version)
            .bypass_governance_retention(bypass)
            .send()
            .await
            .unwrap_err();
        assert_aws_error(&err, "AccessDenied", 403);
    }
    // A plain delete only adds a marker; the version is still there.
    s3.delete_object()
        .bucket("vault")
        .key("backup.tar")
        .send()
        .await
        .unwrap();
    let read = s3
        .get_object()
        .bucket("vault")
        .key("backup.tar")
        .version_id(&version)
        .send()
        .await
        .unwrap();
    assert_eq!(read.body.collect().await.unwrap().into_bytes().as_ref(), b"backup");

    // Retention only grows.
    let retention = |days: i64, mode: ObjectLockRetentionMode| {
        ObjectLockRetention::builder()
            .mode(mode)
            .retain_until_date(in_days(days))
            .build()
    };
    let err = s3
        .put_object_retention()
        .bucket("vault")
        .key("backup.tar")
        .version_id(&version)
        .retention(retention(1, ObjectLockRetentionMode::Compliance))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    let err = s3
        .put_object_retention()
        .bucket("vault")
        .key("backup.tar")
        .version_id(&version)
        .retention(retention(60, ObjectLockRetentionMode::Governance))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    s3.put_object_retention()
        .bucket("vault")
        .key("backup.tar")
        .version_id(&version)
        .retention(retention(60, ObjectLockRetentionMode::Compliance))
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object_retention()
        .bucket("vault")
        .key("backup.tar")
        .version_id(&version)
        .send()
        .await
        .unwrap();
    let until = got.retention().unwrap().retain_until_date().unwrap().secs();
    assert!((until - in_days(60).secs()).abs() < 120);

    // Versioning cannot be suspended under Object Lock.
    let err = s3
        .put_bucket_versioning()
        .bucket("vault")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "InvalidBucketState", 409);
}

/// GOVERNANCE gives way only to a caller allowed `s3:BypassGovernanceRetention` who sends
/// `x-amz-bypass-governance-retention: true`.
#[tokio::test]
async fn governance_is_bypassed_only_with_the_permission_and_the_header() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    vault(&s3, "governed").await;
    let version = s3
        .put_object()
        .bucket("governed")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .object_lock_mode(ObjectLockMode::Governance)
        .object_lock_retain_until_date(in_days(5))
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    let (key_id, secret) = coffer.user_with_key("operator").await;
    let grant = |actions: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":[{actions}],
                "Resource":["arn:aws:s3:::governed","arn:aws:s3:::governed/*"]}}]}}"#
        )
    };
    let iam = coffer.root_iam();
    iam.put_user_policy()
        .user_name("operator")
        .policy_name("p")
        .policy_document(grant(r#""s3:DeleteObjectVersion","s3:GetObject""#))
        .send()
        .await
        .unwrap();
    let user = coffer.s3(&key_id, &secret);
    let delete = |bypass: bool| {
        user.delete_object()
            .bucket("governed")
            .key("k")
            .version_id(&version)
            .bypass_governance_retention(bypass)
            .send()
    };
    assert_aws_error(&delete(true).await.unwrap_err(), "AccessDenied", 403);
    iam.put_user_policy()
        .user_name("operator")
        .policy_name("p")
        .policy_document(grant(
            r#""s3:DeleteObjectVersion","s3:GetObject","s3:BypassGovernanceRetention""#,
        ))
        .send()
        .await
        .unwrap();
    assert_aws_error(&delete(false).await.unwrap_err(), "AccessDenied", 403);
    delete(true).await.unwrap();
    let err = s3
        .get_object()
        .bucket("governed")
        .key("k")
        .version_id(&version)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "NoSuchVersion", 404);
}

/// A legal hold stops every delete of its version until it is lifted; a multipart upload's
/// lock headers take effect when it completes.
#[tokio::test]
async fn a_legal_hold_blocks_deletes_until_lifted() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    vault(&s3, "held").await;
    let upload = s3
        .create_multipart_upload()
        .bucket("held")
        .key("evidence")
        .object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On)
        .send()
        .await
        .unwrap();
    let done = finish_upload(
        &s3,
        "held",
        "evidence",
        upload.upload_id().unwrap(),
        vec![b"exhibit".to_vec()],
    )
    .await;
    let version = done.version_id().unwrap().to_owned();
    let hold = s3
        .get_object_legal_hold()
        .bucket("held")
        .key("evidence")
        .send()
        .await
        .unwrap();
    assert_eq!(
        hold.legal_hold().unwrap().status(),
        Some(&ObjectLockLegalHoldStatus::On)
    );
    let delete = || {
        s3.delete_object()
            .bucket("held")
            .key("evidence")
            .version_id(&version)
            .bypass_governance_retention(true)
            .send()
    };
    assert_aws_error(&delete().await.unwrap_err(), "AccessDenied", 403);
    // No retention was set: there is none to read.
    let err = s3
        .get_object_retention()
        .bucket("held")
        .key("evidence")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "NoSuchObjectLockConfiguration", 404);
    s3.put_object_legal_hold()
        .bucket("held")
        .key("evidence")
        .version_id(&version)
        .legal_hold(
            ObjectLockLegalHold::builder()
                .status(ObjectLockLegalHoldStatus::Off)
                .build(),
        )
        .send()
        .await
        .unwrap();
    delete().await.unwrap();
}

/// Object Lock's errors, as S3 answers them.
#[tokio::test]
async fn object_lock_requests_are_checked_as_s3_checks_them() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("plain").send().await.unwrap();
    let err = s3
        .get_object_lock_configuration()
        .bucket("plain")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "ObjectLockConfigurationNotFoundError", 404);
    // Object Lock needs versioning Enabled first.
    let config = default_retention(ObjectLockRetentionMode::Governance, Some(1), None);
    let err = s3
        .put_object_lock_configuration()
        .bucket("plain")
        .object_lock_configuration(config.clone())
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "InvalidBucketState", 409);
    let err = s3
        .put_object()
        .bucket("plain")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .object_lock_mode(ObjectLockMode::Governance)
        .object_lock_retain_until_date(in_days(1))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "InvalidRequest", 400);
    let err = s3
        .put_object_legal_hold()
        .bucket("plain")
        .key("k")
        .legal_hold(
            ObjectLockLegalHold::builder()
                .status(ObjectLockLegalHoldStatus::On)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "InvalidRequest", 400);

    // On an existing bucket once versioning is on; then defaults are validated.
    s3.put_bucket_versioning()
        .bucket("plain")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    s3.put_object_lock_configuration()
        .bucket("plain")
        .object_lock_configuration(config)
        .send()
        .await
        .unwrap();
    for (days, years, code) in [
        (Some(1), Some(1), "MalformedXML"),
        (Some(0), None, "InvalidRetentionPeriod"),
        (None, Some(101), "InvalidRetentionPeriod"),
    ] {
        let err = s3
            .put_object_lock_configuration()
            .bucket("plain")
            .object_lock_configuration(default_retention(ObjectLockRetentionMode::Compliance, days, years))
            .send()
            .await
            .unwrap_err();
        assert_aws_error(&err, code, 400);
    }
    // Mode and date go together, and the date is in the future.
    let err = s3
        .put_object()
        .bucket("plain")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .object_lock_mode(ObjectLockMode::Governance)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "InvalidArgument", 400);
    let err = s3
        .put_object()
        .bucket("plain")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .object_lock_mode(ObjectLockMode::Governance)
        .object_lock_retain_until_date(in_days(-1))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "InvalidArgument", 400);
    // The bucket default (GOVERNANCE, 1 day) applies to a plain PUT.
    let version = put(&s3, "plain", "k").await;
    let retention = s3
        .get_object_retention()
        .bucket("plain")
        .key("k")
        .version_id(&version)
        .send()
        .await
        .unwrap();
    assert_eq!(
        retention.retention().unwrap().mode(),
        Some(&ObjectLockRetentionMode::Governance)
    );
}

/// A lock set with a write needs the lock's own permission besides `s3:PutObject`.
#[tokio::test]
async fn a_writer_needs_the_lock_permissions_to_lock() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    vault(&s3, "guarded-vault").await;
    let (key_id, secret) = coffer.user_with_key("writer").await;
    coffer
        .root_iam()
        .put_user_policy()
        .user_name("writer")
        .policy_name("put-only")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject",
                "Resource":"arn:aws:s3:::guarded-vault/*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let user = coffer.s3(&key_id, &secret);
    let err = user
        .put_object()
        .bucket("guarded-vault")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .object_lock_mode(ObjectLockMode::Compliance)
        .object_lock_retain_until_date(in_days(3650))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    let err = user
        .put_object()
        .bucket("guarded-vault")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    // A plain write is fine.
    user.put_object()
        .bucket("guarded-vault")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
}

/// A bucket policy caps retention with `s3:object-lock-remaining-retention-days`, as AWS
/// documents it.
#[tokio::test]
async fn a_bucket_policy_caps_retention_with_the_lock_condition_keys() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    vault(&s3, "capped").await;
    s3.put_bucket_policy()
        .bucket("capped")
        .policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject",
                "Resource":"arn:aws:s3:::capped/*",
                "Condition":{"NumericGreaterThan":{"s3:object-lock-remaining-retention-days":"30"}}}]}"#,
        )
        .send()
        .await
        .unwrap();
    let put = |days: i64| {
        s3.put_object()
            .bucket("capped")
            .key("k")
            .body(ByteStream::from_static(b"x"))
            .object_lock_mode(ObjectLockMode::Governance)
            .object_lock_retain_until_date(in_days(days))
            .send()
    };
    assert_aws_error(&put(365).await.unwrap_err(), "AccessDenied", 403);
    put(10).await.unwrap();
}
