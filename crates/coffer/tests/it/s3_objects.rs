//! Objects through the AWS SDK for Rust: headers and metadata, ranges, conditions, copies,
//! batch deletes, keys of every shape, and the errors S3 gives for each.

use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{ChecksumMode, Delete, MetadataDirective, ObjectIdentifier, StorageClass};

use crate::harness::{Coffer, finish_upload};
use crate::s3::s3_code;

async fn with_bucket(name: &str) -> (Coffer, aws_sdk_s3::Client) {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket(name).send().await.unwrap();
    (coffer, s3)
}

async fn body_of(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    let out = s3.get_object().bucket(bucket).key(key).send().await.unwrap();
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

pub fn status<E>(err: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> u16 {
    err.raw_response().map(|r| r.status().as_u16()).unwrap_or(0)
}

#[tokio::test]
async fn an_object_keeps_its_headers_and_metadata() {
    let (_coffer, s3) = with_bucket("objects").await;
    let expires = DateTime::from_secs(2_000_000_000);
    let put = s3
        .put_object()
        .bucket("objects")
        .key("beach.jpg")
        .body(ByteStream::from_static(b"sand and sea"))
        .content_type("image/jpeg")
        .cache_control("max-age=60")
        .content_disposition("attachment; filename=\"beach.jpg\"")
        .content_encoding("identity")
        .content_language("en")
        .expires(expires)
        .metadata("camera", "Nikon")
        .metadata("Trip", "summer")
        .storage_class(StorageClass::StandardIa)
        .send()
        .await
        .unwrap();
    let expected_etag = format!("\"{:x}\"", md5_of(b"sand and sea"));
    assert_eq!(put.e_tag(), Some(expected_etag.as_str()));
    let got = s3.get_object().bucket("objects").key("beach.jpg").send().await.unwrap();
    assert_eq!(got.content_type(), Some("image/jpeg"));
    assert_eq!(got.cache_control(), Some("max-age=60"));
    assert_eq!(got.content_disposition(), Some("attachment; filename=\"beach.jpg\""));
    assert_eq!(got.content_encoding(), Some("identity"));
    assert_eq!(got.content_language(), Some("en"));
    assert_eq!(got.expires_string(), Some("Wed, 18 May 2033 03:33:20 GMT"));
    assert_eq!(got.content_length(), Some(12));
    assert_eq!(got.e_tag(), Some(expected_etag.as_str()));
    let metadata = got.metadata().unwrap();
    assert_eq!(metadata.get("camera").map(String::as_str), Some("Nikon"));
    assert_eq!(metadata.get("trip").map(String::as_str), Some("summer"));
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), b"sand and sea");

    let head = s3
        .head_object()
        .bucket("objects")
        .key("beach.jpg")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(12));
    assert_eq!(head.content_type(), Some("image/jpeg"));
    let listed = s3.list_objects_v2().bucket("objects").send().await.unwrap();
    // The class it was given, kept and reported (its bytes are kept as STANDARD's).
    assert_eq!(
        listed.contents()[0].storage_class().map(|c| c.as_str()),
        Some("STANDARD_IA")
    );
}

pub fn md5_of(bytes: &[u8]) -> u128 {
    // The expected MD5 from coreutils' `md5sum`, independent of Coffer's code.
    let mut child = std::process::Command::new("md5sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    u128::from_str_radix(
        String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap(),
        16,
    )
    .unwrap()
}

#[tokio::test]
async fn response_overrides_replace_headers_for_one_get() {
    let (_coffer, s3) = with_bucket("overrides").await;
    s3.put_object()
        .bucket("overrides")
        .key("f")
        .body(ByteStream::from_static(b"x"))
        .content_type("text/plain")
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket("overrides")
        .key("f")
        .response_content_type("application/json")
        .response_content_disposition("inline")
        .response_cache_control("no-cache")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("application/json"));
    assert_eq!(got.content_disposition(), Some("inline"));
    assert_eq!(got.cache_control(), Some("no-cache"));
}

#[tokio::test]
async fn ranges_return_partial_content() {
    let (_coffer, s3) = with_bucket("ranges").await;
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    s3.put_object()
        .bucket("ranges")
        .key("r")
        .body(data.clone().into())
        .send()
        .await
        .unwrap();
    for (range, expected) in [
        ("bytes=0-9", &data[0..10]),
        ("bytes=100000-", &data[100_000..]),
        ("bytes=-5", &data[data.len() - 5..]),
        ("bytes=199990-300000", &data[199_990..]),
    ] {
        let got = s3
            .get_object()
            .bucket("ranges")
            .key("r")
            .range(range)
            .send()
            .await
            .unwrap();
        assert!(got.content_range().unwrap().starts_with("bytes "), "{range}");
        assert_eq!(
            got.body.collect().await.unwrap().into_bytes().as_ref(),
            expected,
            "{range}"
        );
    }
    let err = s3
        .get_object()
        .bucket("ranges")
        .key("r")
        .range("bytes=300000-")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "InvalidRange");
    assert_eq!(status(&err), 416);
}

#[tokio::test]
async fn read_conditions_answer_304_and_412() {
    let (_coffer, s3) = with_bucket("conditions").await;
    let put = s3
        .put_object()
        .bucket("conditions")
        .key("c")
        .body(ByteStream::from_static(b"v1"))
        .send()
        .await
        .unwrap();
    let etag = put.e_tag().unwrap().to_owned();
    let get = || s3.get_object().bucket("conditions").key("c");
    get().if_match(&etag).send().await.unwrap();
    let err = get().if_match("\"0000\"").send().await.unwrap_err();
    assert_eq!(status(&err), 412);
    let err = get().if_none_match(&etag).send().await.unwrap_err();
    assert_eq!(status(&err), 304);
    let headers = err.raw_response().unwrap().headers();
    assert_eq!(
        headers.get("etag"),
        Some(etag.as_str()),
        "a 304 names the representation"
    );
    assert!(headers.get("last-modified").is_some());
    get().if_none_match("\"0000\"").send().await.unwrap();
    let future = DateTime::from_secs(4_000_000_000);
    let past = DateTime::from_secs(1_000_000_000);
    let err = get().if_modified_since(future).send().await.unwrap_err();
    assert_eq!(status(&err), 304);
    get().if_modified_since(past).send().await.unwrap();
    let err = get().if_unmodified_since(past).send().await.unwrap_err();
    assert_eq!(status(&err), 412);
    // If-Match decides over If-Unmodified-Since.
    get().if_match(&etag).if_unmodified_since(past).send().await.unwrap();
    let err = s3
        .head_object()
        .bucket("conditions")
        .key("c")
        .if_none_match(&etag)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&err), 304);
}

#[tokio::test]
async fn conditional_writes_refuse_to_overwrite_or_to_create() {
    let (_coffer, s3) = with_bucket("writes").await;
    let put = || s3.put_object().bucket("writes").key("w");
    let first = put()
        .body(ByteStream::from_static(b"one"))
        .if_none_match("*")
        .send()
        .await
        .unwrap();
    let err = put()
        .body(ByteStream::from_static(b"two"))
        .if_none_match("*")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "PreconditionFailed");
    assert_eq!(status(&err), 412);
    let err = put()
        .body(ByteStream::from_static(b"two"))
        .if_match("\"ffff\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "PreconditionFailed");
    let second = put()
        .body(ByteStream::from_static(b"two"))
        .if_match(first.e_tag().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(body_of(&s3, "writes", "w").await, b"two");
    // If-None-Match with an ETag: refused while the current object has it.
    let err = put()
        .body(ByteStream::from_static(b"three"))
        .if_none_match(second.e_tag().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "PreconditionFailed");
    put()
        .body(ByteStream::from_static(b"two"))
        .if_none_match(first.e_tag().unwrap())
        .send()
        .await
        .unwrap();
    let err = s3
        .put_object()
        .bucket("writes")
        .key("absent")
        .body(ByteStream::from_static(b"x"))
        .if_match("\"ffff\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "NoSuchKey");
}

#[tokio::test]
async fn keys_of_every_shape_round_trip() {
    let (_coffer, s3) = with_bucket("keys").await;
    let keys = [
        "../../etc/passwd",
        "a b/c+d",
        "100%/done?x=1&y=2",
        "ünïcödé/日本語/🙂",
        "/leading-slash",
        "trailing/",
        "double//slash",
        "#hash",
        "tab\there",
    ];
    for key in keys {
        s3.put_object()
            .bucket("keys")
            .key(key)
            .body(ByteStream::from(key.as_bytes().to_vec()))
            .send()
            .await
            .unwrap();
    }
    for key in keys {
        assert_eq!(body_of(&s3, "keys", key).await, key.as_bytes(), "{key}");
    }
    let listed = s3.list_objects_v2().bucket("keys").send().await.unwrap();
    let mut expected: Vec<&str> = keys.to_vec();
    expected.sort_unstable();
    let names: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(names, expected);
    let too_long = "k".repeat(1025);
    let err = s3
        .put_object()
        .bucket("keys")
        .key(&too_long)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "KeyTooLongError");
}

#[tokio::test]
async fn missing_things_have_their_errors() {
    let (_coffer, s3) = with_bucket("present").await;
    let err = s3
        .get_object()
        .bucket("present")
        .key("nothing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "NoSuchKey");
    assert_eq!(status(&err), 404);
    let err = s3
        .head_object()
        .bucket("present")
        .key("nothing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&err), 404);
    let err = s3
        .get_object()
        .bucket("absent-bucket")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "NoSuchBucket");
    let err = s3
        .put_object()
        .bucket("absent-bucket")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "NoSuchBucket");
    let err = s3
        .put_object()
        .bucket("present")
        .key("k")
        .storage_class(StorageClass::from("FROZEN"))
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "InvalidStorageClass");
}

#[tokio::test]
async fn deletes_are_idempotent_and_batched() {
    let (_coffer, s3) = with_bucket("deletes").await;
    for key in ["a", "b", "c", "d"] {
        s3.put_object()
            .bucket("deletes")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    s3.delete_object().bucket("deletes").key("a").send().await.unwrap();
    s3.delete_object().bucket("deletes").key("a").send().await.unwrap();
    // Conditional deletes: the ETag must match, and the object must exist.
    let err = s3
        .delete_object()
        .bucket("deletes")
        .key("b")
        .if_match("\"ffff\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&err), 412);
    let err = s3
        .delete_object()
        .bucket("deletes")
        .key("a")
        .if_match("\"ffff\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "NoSuchKey");
    let ids = |keys: &[&str]| {
        keys.iter()
            .map(|k| ObjectIdentifier::builder().key(*k).build().unwrap())
            .collect::<Vec<_>>()
    };
    let out = s3
        .delete_objects()
        .bucket("deletes")
        .delete(
            Delete::builder()
                .set_objects(Some(ids(&["b", "never-existed"])))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let mut deleted: Vec<&str> = out.deleted().iter().filter_map(|d| d.key()).collect();
    deleted.sort_unstable();
    assert_eq!(deleted, ["b", "never-existed"]);
    assert!(out.errors().is_empty());
    let quiet = s3
        .delete_objects()
        .bucket("deletes")
        .delete(
            Delete::builder()
                .set_objects(Some(ids(&["c", "d"])))
                .quiet(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(quiet.deleted().is_empty());
    let listed = s3.list_objects_v2().bucket("deletes").send().await.unwrap();
    assert_eq!(listed.key_count(), Some(0));
}

#[tokio::test]
async fn copies_keep_or_replace_metadata() {
    let (_coffer, s3) = with_bucket("copies").await;
    s3.create_bucket().bucket("copies-target").send().await.unwrap();
    let put = s3
        .put_object()
        .bucket("copies")
        .key("src")
        .body(ByteStream::from_static(b"original"))
        .content_type("text/plain")
        .metadata("colour", "blue")
        .send()
        .await
        .unwrap();
    let copied = s3
        .copy_object()
        .bucket("copies-target")
        .key("dst")
        .copy_source("copies/src")
        .send()
        .await
        .unwrap();
    assert_eq!(copied.copy_object_result().unwrap().e_tag(), put.e_tag());
    let got = s3
        .head_object()
        .bucket("copies-target")
        .key("dst")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(got.metadata().unwrap().get("colour").map(String::as_str), Some("blue"));
    assert_eq!(body_of(&s3, "copies-target", "dst").await, b"original");

    // Copying onto itself needs a change; REPLACE is one.
    let err = s3
        .copy_object()
        .bucket("copies")
        .key("src")
        .copy_source("copies/src")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "InvalidRequest");
    s3.copy_object()
        .bucket("copies")
        .key("src")
        .copy_source("copies/src")
        .metadata_directive(MetadataDirective::Replace)
        .content_type("text/markdown")
        .metadata("colour", "green")
        .send()
        .await
        .unwrap();
    let got = s3.head_object().bucket("copies").key("src").send().await.unwrap();
    assert_eq!(got.content_type(), Some("text/markdown"));
    assert_eq!(got.metadata().unwrap().get("colour").map(String::as_str), Some("green"));
    assert_eq!(body_of(&s3, "copies", "src").await, b"original");

    let err = s3
        .copy_object()
        .bucket("copies-target")
        .key("dst2")
        .copy_source("copies/src")
        .copy_source_if_match("\"0000\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&err), 412);
    let err = s3
        .copy_object()
        .bucket("copies-target")
        .key("dst2")
        .copy_source("copies/nothing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "NoSuchKey");
}

#[tokio::test]
async fn a_copy_from_another_accounts_bucket_is_denied() {
    let (coffer, s3) = with_bucket("mine").await;
    s3.put_object()
        .bucket("mine")
        .key("secret")
        .body(ByteStream::from_static(b"s"))
        .send()
        .await
        .unwrap();
    let (key, secret) = coffer.other_account("thief");
    let thief = coffer.s3(&key, &secret);
    thief.create_bucket().bucket("thiefs").send().await.unwrap();
    let err = thief
        .copy_object()
        .bucket("thiefs")
        .key("loot")
        .copy_source("mine/secret")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
}

#[tokio::test]
async fn checksum_mode_returns_the_stored_checksum() {
    let (coffer, s3) = with_bucket("sums").await;
    // The SDK sends a CRC32 header by default; the object keeps it.
    s3.put_object()
        .bucket("sums")
        .key("k")
        .body(ByteStream::from_static(b"123456789"))
        .send()
        .await
        .unwrap();
    let get = |s3: &aws_sdk_s3::Client, key: &str| {
        s3.get_object()
            .bucket("sums")
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
    };
    let got = get(&s3, "k").await.unwrap();
    assert_eq!(got.checksum_crc32(), Some("y/Q5Jg=="));
    assert_eq!(got.checksum_type().map(|t| t.as_str()), Some("FULL_OBJECT"));
    // The SDK asks for checksums by default; a client that does not is not sent them.
    let config = s3
        .config()
        .to_builder()
        .response_checksum_validation(aws_sdk_s3::config::ResponseChecksumValidation::WhenRequired)
        .build();
    let plain = aws_sdk_s3::Client::from_conf(config);
    let got = plain.get_object().bucket("sums").key("k").send().await.unwrap();
    assert_eq!(got.checksum_crc32(), None);

    // Without a checksum of its own, an object gets S3's default: a full-object CRC64NVME.
    let config = s3
        .config()
        .to_builder()
        .request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
        .build();
    let bare = aws_sdk_s3::Client::from_conf(config);
    bare.put_object()
        .bucket("sums")
        .key("bare")
        .body(ByteStream::from_static(b"123456789"))
        .send()
        .await
        .unwrap();
    let got = get(&s3, "bare").await.unwrap();
    assert_eq!(got.checksum_crc64_nvme(), Some("rosUhgp5mIg="));
    drop(coffer);
}

/// An object written without a Content-Type is `binary/octet-stream`, as S3 types it. (The
/// Rust SDK types every PutObject body itself, so a multipart upload and a copy that replaces
/// the metadata show it.)
#[tokio::test]
async fn an_untyped_object_is_binary_octet_stream() {
    let (_coffer, s3) = with_bucket("untyped").await;
    s3.put_object()
        .bucket("untyped")
        .key("k")
        .content_type("text/plain")
        .body(ByteStream::from_static(b"bytes"))
        .send()
        .await
        .unwrap();
    s3.copy_object()
        .bucket("untyped")
        .key("copy")
        .copy_source("untyped/k")
        .metadata_directive(MetadataDirective::Replace)
        .send()
        .await
        .unwrap();
    let head = s3.head_object().bucket("untyped").key("copy").send().await.unwrap();
    assert_eq!(head.content_type(), Some("binary/octet-stream"));
    let upload = s3
        .create_multipart_upload()
        .bucket("untyped")
        .key("mp")
        .send()
        .await
        .unwrap();
    finish_upload(
        &s3,
        "untyped",
        "mp",
        upload.upload_id().unwrap(),
        vec![b"part".to_vec()],
    )
    .await;
    let head = s3.head_object().bucket("untyped").key("mp").send().await.unwrap();
    assert_eq!(head.content_type(), Some("binary/octet-stream"));
}
