//! The S3 endpoint before object storage lands: authenticated, ListBuckets answers (empty),
//! everything else NotImplemented; users without policies are denied.

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET};

fn s3_code<E: aws_sdk_s3::error::ProvideErrorMetadata, R>(err: &aws_sdk_s3::error::SdkError<E, R>) -> Option<String> {
    err.as_service_error().and_then(|e| e.code()).map(str::to_owned)
}

#[tokio::test]
async fn root_lists_no_buckets_yet() {
    let coffer = Coffer::start();
    let out = coffer.s3(ROOT_KEY_ID, ROOT_SECRET).list_buckets().send().await.unwrap();
    assert!(out.buckets().is_empty());
    assert_eq!(out.owner().and_then(|o| o.id()).map(str::len), Some(64));
}

#[tokio::test]
async fn other_operations_are_not_implemented_yet() {
    let coffer = Coffer::start();
    let err = coffer
        .s3(ROOT_KEY_ID, ROOT_SECRET)
        .create_bucket()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err).as_deref(), Some("NotImplemented"));
}

#[tokio::test]
async fn users_without_policies_and_unknown_keys_are_refused() {
    let coffer = Coffer::start();
    let (key_id, secret) = coffer.user_with_key("alice").await;
    let err = coffer.s3(&key_id, &secret).list_buckets().send().await.unwrap_err();
    assert_eq!(s3_code(&err).as_deref(), Some("AccessDenied"));
    let err = coffer
        .s3("AKIAAAAAAAAAAAAAAAAA", ROOT_SECRET)
        .list_buckets()
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err).as_deref(), Some("InvalidAccessKeyId"));
    let err = coffer
        .s3(ROOT_KEY_ID, &"x".repeat(40))
        .list_buckets()
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err).as_deref(), Some("SignatureDoesNotMatch"));
}
