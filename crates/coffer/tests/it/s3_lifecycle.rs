//! S3 Lifecycle through the AWS SDK for Rust, with a one-second "day": rules are validated,
//! read back and deleted, `x-amz-expiration` says when a rule expires an object, and the
//! server's worker really expires objects and aborts uploads.

use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, Transition, TransitionStorageClass,
};

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET, assert_aws_error};

fn expire(id: &str, prefix: &str, days: i32) -> LifecycleRule {
    LifecycleRule::builder()
        .id(id)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix(prefix).build())
        .expiration(LifecycleExpiration::builder().days(days).build())
        .build()
        .unwrap()
}

/// Waits (at most 15 s) for `done` to hold.
async fn eventually<F: std::future::Future<Output = bool>>(mut done: impl FnMut() -> F) {
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the lifecycle worker did not act"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn rules_expire_objects_and_abort_uploads_when_their_days_are_up() {
    let coffer = Coffer::start_with(&[
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ("COFFER_LIFECYCLE_DAY_SECS", "1"),
    ]);
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("logs").send().await.unwrap();
    let abort = LifecycleRule::builder()
        .id("uploads")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(2)
                .build(),
        )
        .build()
        .unwrap();
    let config = BucketLifecycleConfiguration::builder()
        .rules(expire("old-logs", "logs/", 2))
        .rules(abort)
        .build()
        .unwrap();
    s3.put_bucket_lifecycle_configuration()
        .bucket("logs")
        .lifecycle_configuration(config)
        .send()
        .await
        .unwrap();
    let read = s3
        .get_bucket_lifecycle_configuration()
        .bucket("logs")
        .send()
        .await
        .unwrap();
    assert_eq!(read.rules().len(), 2);
    assert_eq!(read.rules()[0].expiration().unwrap().days(), Some(2));
    assert_eq!(read.rules()[0].filter().unwrap().prefix(), Some("logs/"));

    let put = s3
        .put_object()
        .bucket("logs")
        .key("logs/today")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    assert!(
        put.expiration().is_some_and(|e| e.contains("rule-id=\"old-logs\"")),
        "{:?}",
        put.expiration()
    );
    s3.put_object()
        .bucket("logs")
        .key("keep/this")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let head = s3.head_object().bucket("logs").key("keep/this").send().await.unwrap();
    assert_eq!(head.expiration(), None, "no rule covers keep/");
    let upload = s3
        .create_multipart_upload()
        .bucket("logs")
        .key("keep/big")
        .send()
        .await
        .unwrap();

    eventually(|| async { s3.head_object().bucket("logs").key("logs/today").send().await.is_err() }).await;
    eventually(|| async {
        let uploads = s3.list_multipart_uploads().bucket("logs").send().await.unwrap();
        uploads.uploads().is_empty()
    })
    .await;
    assert!(s3.head_object().bucket("logs").key("keep/this").send().await.is_ok());
    let err = s3
        .upload_part()
        .bucket("logs")
        .key("keep/big")
        .upload_id(upload.upload_id().unwrap())
        .part_number(1)
        .body(ByteStream::from_static(b"late"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "NoSuchUpload", 404);

    s3.delete_bucket_lifecycle().bucket("logs").send().await.unwrap();
    let err = s3
        .get_bucket_lifecycle_configuration()
        .bucket("logs")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "NoSuchLifecycleConfiguration", 404);
}

#[tokio::test]
async fn configurations_are_validated_as_s3_validates_them() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("rules").send().await.unwrap();
    let put = |rules: Vec<LifecycleRule>| {
        s3.put_bucket_lifecycle_configuration()
            .bucket("rules")
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .set_rules(Some(rules))
                    .build()
                    .unwrap(),
            )
            .send()
    };
    let err = put(vec![expire("a", "x/", 1), expire("a", "y/", 2)]).await.unwrap_err();
    assert_aws_error(&err, "InvalidArgument", 400);
    let err = put(vec![expire(&"i".repeat(256), "x/", 1)]).await.unwrap_err();
    assert_aws_error(&err, "InvalidArgument", 400);
    let err = put(vec![expire("zero", "x/", 0)]).await.unwrap_err();
    assert_aws_error(&err, "InvalidArgument", 400);
    // One storage class: a transition is refused, not ignored.
    let transition = LifecycleRule::builder()
        .id("cold")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .transitions(
            Transition::builder()
                .days(30)
                .storage_class(TransitionStorageClass::Glacier)
                .build(),
        )
        .build()
        .unwrap();
    let err = put(vec![transition]).await.unwrap_err();
    assert_aws_error(&err, "NotImplemented", 501);
    let err = s3
        .get_bucket_lifecycle_configuration()
        .bucket("rules")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "NoSuchLifecycleConfiguration", 404);
}
