//! Buckets and S3 authentication through the AWS SDK for Rust.

use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET};

pub fn s3_code<E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    err: &aws_sdk_s3::error::SdkError<E, R>,
) -> String {
    err.as_service_error()
        .and_then(|e| e.code())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("not a service error: {err:?}"))
}

#[tokio::test]
async fn buckets_are_created_listed_located_and_deleted() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("holiday-photos").send().await.unwrap();
    s3.create_bucket().bucket("a-second-bucket").send().await.unwrap();
    let listed = s3.list_buckets().send().await.unwrap();
    let names: Vec<&str> = listed.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["a-second-bucket", "holiday-photos"]);
    assert!(listed.buckets()[0].creation_date().is_some());
    assert_eq!(listed.owner().and_then(|o| o.id()).map(str::len), Some(64));

    let head = s3.head_bucket().bucket("holiday-photos").send().await.unwrap();
    assert_eq!(head.bucket_region(), Some("us-east-1"));
    let location = s3.get_bucket_location().bucket("holiday-photos").send().await.unwrap();
    // us-east-1 is an empty LocationConstraint element.
    assert_eq!(location.location_constraint().map(|c| c.as_str()).unwrap_or(""), "");

    s3.delete_bucket().bucket("holiday-photos").send().await.unwrap();
    let err = s3.head_bucket().bucket("holiday-photos").send().await.unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 404);
    let err = s3.delete_bucket().bucket("holiday-photos").send().await.unwrap_err();
    assert_eq!(s3_code(&err), "NoSuchBucket");
}

#[tokio::test]
async fn list_buckets_pages_and_filters_by_prefix() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    for name in ["photos-1", "photos-2", "photos-3", "videos"] {
        s3.create_bucket().bucket(name).send().await.unwrap();
    }
    let first = s3.list_buckets().max_buckets(2).send().await.unwrap();
    assert_eq!(first.buckets().len(), 2);
    let token = first.continuation_token().expect("more buckets").to_owned();
    let second = s3
        .list_buckets()
        .max_buckets(2)
        .continuation_token(token)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = second.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["photos-3", "videos"]);
    assert!(second.continuation_token().is_none());
    let photos = s3.list_buckets().prefix("photos-").send().await.unwrap();
    assert_eq!(photos.buckets().len(), 3);
}

#[tokio::test]
async fn bucket_names_are_validated_and_global_across_accounts() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    for bad in [
        "ab",
        "Holiday",
        "under_score",
        "a..b",
        "192.168.0.1",
        "xn--x",
        "x-s3alias",
        "foo-.bar",
        "foo.-bar",
    ] {
        let err = s3.create_bucket().bucket(bad).send().await.unwrap_err();
        assert_eq!(s3_code(&err), "InvalidBucketName", "{bad}");
    }
    s3.create_bucket().bucket("shared-name").send().await.unwrap();
    // us-east-1 answers 200 to an owner creating its bucket again, as S3 does there.
    s3.create_bucket().bucket("shared-name").send().await.unwrap();

    let (other_id, other_secret) = coffer.other_account("other");
    let other = coffer.s3(&other_id, &other_secret);
    let err = other.create_bucket().bucket("shared-name").send().await.unwrap_err();
    assert_eq!(s3_code(&err), "BucketAlreadyExists");
    // Another account's root may not touch the bucket.
    let err = other.list_objects_v2().bucket("shared-name").send().await.unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    assert!(other.list_buckets().send().await.unwrap().buckets().is_empty());
}

#[tokio::test]
async fn location_constraints_follow_the_endpoint_region() {
    let coffer = Coffer::start();
    let ireland = coffer.s3_in("eu-west-1", ROOT_KEY_ID, ROOT_SECRET);
    let config = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::EuWest1)
        .build();
    ireland
        .create_bucket()
        .bucket("irish-bucket")
        .create_bucket_configuration(config.clone())
        .send()
        .await
        .unwrap();
    let location = ireland
        .get_bucket_location()
        .bucket("irish-bucket")
        .send()
        .await
        .unwrap();
    assert_eq!(location.location_constraint(), Some(&BucketLocationConstraint::EuWest1));
    let listed = ireland.list_buckets().send().await.unwrap();
    assert_eq!(listed.buckets()[0].bucket_region(), Some("eu-west-1"));
    // Outside us-east-1, creating one's own bucket again is an error.
    let err = ireland
        .create_bucket()
        .bucket("irish-bucket")
        .create_bucket_configuration(config)
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "BucketAlreadyOwnedByYou");
    let err = ireland
        .create_bucket()
        .bucket("no-constraint")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "IllegalLocationConstraintException");
}

#[tokio::test]
async fn a_bucket_with_objects_is_not_deleted() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("full").send().await.unwrap();
    s3.put_object()
        .bucket("full")
        .key("x")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    let err = s3.delete_bucket().bucket("full").send().await.unwrap_err();
    assert_eq!(s3_code(&err), "BucketNotEmpty");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 409);
    // Uploads in progress do not keep a bucket alive: S3 discards them with it.
    s3.delete_object().bucket("full").key("x").send().await.unwrap();
    s3.create_multipart_upload()
        .bucket("full")
        .key("pending")
        .send()
        .await
        .unwrap();
    s3.delete_bucket().bucket("full").send().await.unwrap();
}

#[tokio::test]
async fn users_without_policies_and_unknown_keys_are_refused() {
    let coffer = Coffer::start();
    let (key_id, secret) = coffer.user_with_key("alice").await;
    let err = coffer.s3(&key_id, &secret).list_buckets().send().await.unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    let err = coffer
        .s3(&key_id, &secret)
        .create_bucket()
        .bucket("alices")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    let err = coffer
        .s3("AKIAAAAAAAAAAAAAAAAA", ROOT_SECRET)
        .list_buckets()
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "InvalidAccessKeyId");
    let err = coffer
        .s3(ROOT_KEY_ID, &"x".repeat(40))
        .list_buckets()
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "SignatureDoesNotMatch");
}

#[tokio::test]
async fn operations_coffer_does_not_implement_say_so() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("b-123").send().await.unwrap();
    let err = s3
        .put_bucket_request_payment()
        .bucket("b-123")
        .request_payment_configuration(
            aws_sdk_s3::types::RequestPaymentConfiguration::builder()
                .payer(aws_sdk_s3::types::Payer::Requester)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "NotImplemented");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 501);
    // A header that implies what Coffer does not serve is refused, not dropped.
    let err = s3
        .put_object()
        .bucket("b-123")
        .key("page.html")
        .website_redirect_location("/elsewhere.html")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "NotImplemented");
}

/// Settings Coffer does not serve read as S3 reads them on a bucket without them, so tools
/// that read every setting keep working.
#[tokio::test]
async fn unserved_settings_read_as_a_bucket_without_them() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("plain").send().await.unwrap();
    let website = s3.get_bucket_website().bucket("plain").send().await.unwrap_err();
    assert_eq!(s3_code(&website), "NoSuchWebsiteConfiguration");
    assert_eq!(website.raw_response().unwrap().status().as_u16(), 404);
    let replication = s3.get_bucket_replication().bucket("plain").send().await.unwrap_err();
    assert_eq!(s3_code(&replication), "ReplicationConfigurationNotFoundError");
    let logging = s3.get_bucket_logging().bucket("plain").send().await.unwrap();
    assert!(logging.logging_enabled().is_none());
    let payment = s3.get_bucket_request_payment().bucket("plain").send().await.unwrap();
    assert_eq!(payment.payer(), Some(&aws_sdk_s3::types::Payer::BucketOwner));
    let notifications = s3
        .get_bucket_notification_configuration()
        .bucket("plain")
        .send()
        .await
        .unwrap();
    assert!(notifications.topic_configurations().is_empty());
    let accelerate = s3
        .get_bucket_accelerate_configuration()
        .bucket("plain")
        .send()
        .await
        .unwrap();
    assert!(accelerate.status().is_none());
    let metrics = s3
        .list_bucket_metrics_configurations()
        .bucket("plain")
        .send()
        .await
        .unwrap();
    assert!(metrics.metrics_configuration_list().is_empty());
    let inventory = s3
        .get_bucket_inventory_configuration()
        .bucket("plain")
        .id("weekly")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&inventory), "NoSuchConfiguration");
    let missing = s3.get_bucket_website().bucket("nope").send().await.unwrap_err();
    assert_eq!(s3_code(&missing), "NoSuchBucket");
}
