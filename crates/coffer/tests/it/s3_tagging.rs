//! S3 tagging through the AWS SDK for Rust: object tags with a write and on their own (per
//! version), the copy directive, multipart uploads, bucket tags, the tagging permissions and
//! condition keys, and lifecycle rules that filter on tags.

use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketVersioningStatus, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleAndOperator, LifecycleRuleFilter, Tag, Tagging, TaggingDirective, VersioningConfiguration,
};

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET, assert_aws_error, finish_upload};

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

fn tagging(tags: &[(&str, &str)]) -> Tagging {
    Tagging::builder()
        .set_tag_set(Some(tags.iter().map(|(k, v)| tag(k, v)).collect()))
        .build()
        .unwrap()
}

async fn tags_of(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, version: Option<&str>) -> Vec<(String, String)> {
    let out = s3
        .get_object_tagging()
        .bucket(bucket)
        .key(key)
        .set_version_id(version.map(str::to_owned))
        .send()
        .await
        .unwrap();
    out.tag_set()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

fn pairs(tags: &[(&str, &str)]) -> Vec<(String, String)> {
    tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[tokio::test]
async fn objects_carry_tags_from_their_write_and_per_version() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("tagged").send().await.unwrap();
    s3.put_bucket_versioning()
        .bucket("tagged")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let v1 = s3
        .put_object()
        .bucket("tagged")
        .key("report")
        .tagging("project=blue&owner=ann%20lee")
        .body(ByteStream::from_static(b"one"))
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    // Kept ordered by key, as S3 returns them.
    assert_eq!(
        tags_of(&s3, "tagged", "report", None).await,
        pairs(&[("owner", "ann lee"), ("project", "blue")])
    );
    let head = s3.head_object().bucket("tagged").key("report").send().await.unwrap();
    let count = head.tag_count();
    assert_eq!(count, Some(2), "HEAD counts tags too");
    let got = s3.get_object().bucket("tagged").key("report").send().await.unwrap();
    assert_eq!(got.tag_count(), Some(2));
    // A new version starts without tags; the old one keeps its own.
    s3.put_object()
        .bucket("tagged")
        .key("report")
        .body(ByteStream::from_static(b"two"))
        .send()
        .await
        .unwrap();
    assert!(tags_of(&s3, "tagged", "report", None).await.is_empty());
    assert_eq!(tags_of(&s3, "tagged", "report", Some(&v1)).await.len(), 2);
    let got = s3.get_object().bucket("tagged").key("report").send().await.unwrap();
    assert_eq!(got.tag_count(), None);
    // PutObjectTagging replaces a version's set; DeleteObjectTagging empties it.
    let put = s3
        .put_object_tagging()
        .bucket("tagged")
        .key("report")
        .version_id(&v1)
        .tagging(tagging(&[("stage", "final")]))
        .send()
        .await
        .unwrap();
    assert_eq!(put.version_id(), Some(v1.as_str()));
    assert_eq!(
        tags_of(&s3, "tagged", "report", Some(&v1)).await,
        pairs(&[("stage", "final")])
    );
    s3.delete_object_tagging()
        .bucket("tagged")
        .key("report")
        .version_id(&v1)
        .send()
        .await
        .unwrap();
    assert!(tags_of(&s3, "tagged", "report", Some(&v1)).await.is_empty());

    // Errors as S3's.
    let eleven: String = (0..11).map(|i| format!("k{i}=v&")).collect();
    let err = s3
        .put_object()
        .bucket("tagged")
        .key("many")
        .tagging(eleven)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "BadRequest", 400);
    for bad in [
        tagging(&[("a", "1"), ("a", "2")]),
        tagging(&[("aws:x", "1")]),
        tagging(&[(&"k".repeat(129), "v")]),
    ] {
        let err = s3
            .put_object_tagging()
            .bucket("tagged")
            .key("report")
            .tagging(bad)
            .send()
            .await
            .unwrap_err();
        assert_aws_error(&err, "InvalidTag", 400);
    }
    let err = s3
        .put_object_tagging()
        .bucket("tagged")
        .key("nothing-here")
        .tagging(tagging(&[("a", "1")]))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "NoSuchKey", 404);
    let marker = s3.delete_object().bucket("tagged").key("report").send().await.unwrap();
    let err = s3
        .get_object_tagging()
        .bucket("tagged")
        .key("report")
        .version_id(marker.version_id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "MethodNotAllowed", 405);
}

#[tokio::test]
async fn copies_and_uploads_carry_tags_as_s3_says() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("copies").send().await.unwrap();
    s3.put_object()
        .bucket("copies")
        .key("src")
        .tagging("a=1")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    s3.copy_object()
        .bucket("copies")
        .key("kept")
        .copy_source("copies/src")
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(&s3, "copies", "kept", None).await, pairs(&[("a", "1")]));
    s3.copy_object()
        .bucket("copies")
        .key("replaced")
        .copy_source("copies/src")
        .tagging_directive(TaggingDirective::Replace)
        .tagging("b=2")
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(&s3, "copies", "replaced", None).await, pairs(&[("b", "2")]));

    let upload = s3
        .create_multipart_upload()
        .bucket("copies")
        .key("big")
        .tagging("c=3")
        .send()
        .await
        .unwrap();
    finish_upload(
        &s3,
        "copies",
        "big",
        upload.upload_id().unwrap(),
        vec![b"part".to_vec()],
    )
    .await;
    assert_eq!(tags_of(&s3, "copies", "big", None).await, pairs(&[("c", "3")]));

    // Bucket tags.
    let err = s3.get_bucket_tagging().bucket("copies").send().await.unwrap_err();
    assert_aws_error(&err, "NoSuchTagSet", 404);
    s3.put_bucket_tagging()
        .bucket("copies")
        .tagging(tagging(&[("team", "data"), ("cost-center", "42")]))
        .send()
        .await
        .unwrap();
    let got = s3.get_bucket_tagging().bucket("copies").send().await.unwrap();
    assert_eq!(got.tag_set().len(), 2);
    s3.delete_bucket_tagging().bucket("copies").send().await.unwrap();
    let err = s3.get_bucket_tagging().bucket("copies").send().await.unwrap_err();
    assert_aws_error(&err, "NoSuchTagSet", 404);
}

#[tokio::test]
async fn tagging_with_a_write_needs_its_permission_and_meets_the_tag_condition_keys() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("policed").send().await.unwrap();
    let (key_id, secret) = coffer.user_with_key("tagger").await;
    let iam = coffer.root_iam();
    let policy = |statements: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#);
    iam.put_user_policy()
        .user_name("tagger")
        .policy_name("p")
        .policy_document(policy(
            r#"{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::policed/*"}"#,
        ))
        .send()
        .await
        .unwrap();
    let user = coffer.s3(&key_id, &secret);
    let put = |tags: &'static str| {
        user.put_object()
            .bucket("policed")
            .key("k")
            .tagging(tags)
            .body(ByteStream::from_static(b"x"))
            .send()
    };
    assert_aws_error(&put("project=blue").await.unwrap_err(), "AccessDenied", 403);
    iam.put_user_policy()
        .user_name("tagger")
        .policy_name("p")
        .policy_document(policy(
            r#"{"Effect":"Allow","Action":["s3:PutObject","s3:PutObjectTagging"],"Resource":"arn:aws:s3:::policed/*",
                "Condition":{"StringEquals":{"s3:RequestObjectTag/project":"blue"}}}"#,
        ))
        .send()
        .await
        .unwrap();
    put("project=blue").await.unwrap();
    assert_aws_error(&put("project=red").await.unwrap_err(), "AccessDenied", 403);
}

#[tokio::test]
async fn policies_read_an_objects_existing_tags_and_a_copys_source() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("shelf").send().await.unwrap();
    for (key, tags) in [("public/a", "class=public"), ("secret/b", "class=secret")] {
        s3.put_object()
            .bucket("shelf")
            .key(key)
            .tagging(tags)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let (key_id, secret) = coffer.user_with_key("reader").await;
    coffer
        .root_iam()
        .put_user_policy()
        .user_name("reader")
        .policy_name("p")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":["s3:GetObject","s3:GetObjectTagging"],"Resource":"arn:aws:s3:::shelf/*",
                 "Condition":{"StringEquals":{"s3:ExistingObjectTag/class":"public"}}},
                {"Effect":"Allow","Action":"s3:PutObjectTagging","Resource":"arn:aws:s3:::shelf/copies/*"},
                {"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::shelf/copies/*",
                 "Condition":{"StringLike":{"s3:x-amz-copy-source":"shelf/public/*"}}}]}"#,
        )
        .send()
        .await
        .unwrap();
    let user = coffer.s3(&key_id, &secret);
    let get = |key: &'static str| user.get_object().bucket("shelf").key(key).send();
    get("public/a").await.unwrap();
    assert_aws_error(&get("secret/b").await.unwrap_err(), "AccessDenied", 403);
    // The tags as they are now decide: retagged, the object is out of reach.
    s3.put_object_tagging()
        .bucket("shelf")
        .key("public/a")
        .tagging(tagging(&[("class", "secret")]))
        .send()
        .await
        .unwrap();
    assert_aws_error(&get("public/a").await.unwrap_err(), "AccessDenied", 403);
    s3.put_object_tagging()
        .bucket("shelf")
        .key("public/a")
        .tagging(tagging(&[("class", "public")]))
        .send()
        .await
        .unwrap();
    let copy = |source: &'static str| {
        user.copy_object()
            .bucket("shelf")
            .key("copies/c")
            .copy_source(source)
            .send()
    };
    copy("shelf/public/a").await.unwrap();
    assert_aws_error(&copy("shelf/secret/b").await.unwrap_err(), "AccessDenied", 403);
}

#[tokio::test]
async fn lifecycle_rules_filter_on_tags() {
    let coffer = Coffer::start_with(&[
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ("COFFER_LIFECYCLE_DAY_SECS", "1"),
    ]);
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("scratch").send().await.unwrap();
    let rule = LifecycleRule::builder()
        .id("temp")
        .status(ExpirationStatus::Enabled)
        .filter(
            LifecycleRuleFilter::builder()
                .and(
                    LifecycleRuleAndOperator::builder()
                        .prefix("")
                        .tags(tag("temp", "yes"))
                        .build(),
                )
                .build(),
        )
        .expiration(LifecycleExpiration::builder().days(1).build())
        .build()
        .unwrap();
    s3.put_bucket_lifecycle_configuration()
        .bucket("scratch")
        .lifecycle_configuration(BucketLifecycleConfiguration::builder().rules(rule).build().unwrap())
        .send()
        .await
        .unwrap();
    for (key, tags) in [("tmp", "temp=yes"), ("other", "temp=no"), ("plain", "")] {
        s3.put_object()
            .bucket("scratch")
            .key(key)
            .tagging(tags)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let started = Instant::now();
    while s3.head_object().bucket("scratch").key("tmp").send().await.is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the tagged object did not expire"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for key in ["other", "plain"] {
        assert!(
            s3.head_object().bucket("scratch").key(key).send().await.is_ok(),
            "{key}"
        );
    }
}
