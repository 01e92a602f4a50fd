//! Server-side encryption through the AWS SDK for Rust, with the bytes on disk looked at:
//! SSE-S3 by default (AWS's since 2023) and on request, bucket default encryption, ranged reads
//! across segment boundaries, SSE-C with the right, wrong and missing key, copies between the
//! two, and multipart uploads.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET, assert_aws_error, finish_upload};
use crate::s3_objects::md5_of;

/// The plain bytes segments hold (the store's `SEGMENT`).
const SEGMENT: usize = 64 * 1024;

/// `len` bytes that no two offsets of share a 16-byte window by chance.
fn recognizable(len: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(len);
    let mut i = 0u64;
    while bytes.len() < len {
        bytes.extend_from_slice(format!("coffer-plain-{i:012}|").as_bytes());
        i += 1;
    }
    bytes.truncate(len);
    bytes
}

/// Whether any blob file on disk holds `needle`.
/// Whether `needle` is in any file under the data dir: blob files, and with SQLite the
/// database and its WAL, where small objects' bytes are kept with their rows.
fn on_disk(coffer: &Coffer, needle: &[u8]) -> bool {
    coffer.data_files().iter().any(|path| {
        std::fs::read(path)
            .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            .unwrap_or(false)
    })
}

async fn get_range(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, range: Option<String>) -> Vec<u8> {
    let got = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .set_range(range)
        .send()
        .await
        .unwrap();
    got.body.collect().await.unwrap().into_bytes().to_vec()
}

/// A Coffer whose new buckets take the pre-2023 defaults: objects stored in the clear
/// unless a write or the bucket asks for encryption.
fn start_with_pre_2023_defaults() -> Coffer {
    Coffer::start_with(&[
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ("COFFER_NEW_BUCKET_DEFAULTS", "pre-2023"),
    ])
}

#[tokio::test]
async fn objects_are_encrypted_by_default_and_read_back_in_any_range() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("vault").send().await.unwrap();
    let config = s3.get_bucket_encryption().bucket("vault").send().await.unwrap();
    let rule = &config.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default().unwrap().sse_algorithm(),
        &ServerSideEncryption::Aes256
    );
    let plain = recognizable(3 * SEGMENT + 1000);
    let put = s3
        .put_object()
        .bucket("vault")
        .key("secret.bin")
        .body(ByteStream::from(plain.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(put.server_side_encryption(), Some(&ServerSideEncryption::Aes256));
    assert_eq!(
        put.e_tag(),
        Some(format!("\"{:032x}\"", md5_of(&plain)).as_str()),
        "SSE-S3 keeps the MD5 ETag"
    );
    assert!(!on_disk(&coffer, &plain[SEGMENT..SEGMENT + 32]), "plain bytes on disk");
    let head = s3.head_object().bucket("vault").key("secret.bin").send().await.unwrap();
    assert_eq!(head.server_side_encryption(), Some(&ServerSideEncryption::Aes256));
    assert_eq!(head.content_length(), Some(plain.len() as i64));
    assert_eq!(get_range(&s3, "vault", "secret.bin", None).await, plain);
    // Ranges at and across segment boundaries open only what they need, and say the truth.
    let len = plain.len();
    for (first, last) in [
        (0, 0),
        (SEGMENT - 1, SEGMENT),
        (SEGMENT, 2 * SEGMENT - 1),
        (SEGMENT - 10, 2 * SEGMENT + 10),
        (3 * SEGMENT, len - 1),
        (len - 1, len - 1),
    ] {
        let got = get_range(&s3, "vault", "secret.bin", Some(format!("bytes={first}-{last}"))).await;
        assert_eq!(got, plain[first..=last], "bytes={first}-{last}");
    }
    let tail = get_range(&s3, "vault", "secret.bin", Some("bytes=-100".to_owned())).await;
    assert_eq!(tail, plain[len - 100..]);

    // A multipart object: each part sealed on its own, read whole and across a part's edge.
    let upload = s3
        .create_multipart_upload()
        .bucket("vault")
        .key("multi.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(upload.server_side_encryption(), Some(&ServerSideEncryption::Aes256));
    let part_one = recognizable(5 * 1024 * 1024);
    let part_two = recognizable(SEGMENT + 7);
    finish_upload(
        &s3,
        "vault",
        "multi.bin",
        upload.upload_id().unwrap(),
        vec![part_one.clone(), part_two.clone()],
    )
    .await;
    let whole = [part_one.clone(), part_two.clone()].concat();
    assert_eq!(get_range(&s3, "vault", "multi.bin", None).await, whole);
    let edge = part_one.len();
    let got = get_range(
        &s3,
        "vault",
        "multi.bin",
        Some(format!("bytes={}-{}", edge - 5, edge + 5)),
    )
    .await;
    assert_eq!(got, whole[edge - 5..=edge + 5]);
    assert!(!on_disk(&coffer, &part_two[SEGMENT - 40..SEGMENT - 8]));

    // A copy is encrypted too, and reads back.
    s3.copy_object()
        .bucket("vault")
        .key("copied.bin")
        .copy_source("vault/secret.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(get_range(&s3, "vault", "copied.bin", None).await, plain);
}

#[tokio::test]
async fn bucket_default_encryption_is_the_buckets_choice_under_the_pre_2023_defaults() {
    let coffer = start_with_pre_2023_defaults();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("plain").send().await.unwrap();
    let none = s3.get_bucket_encryption().bucket("plain").send().await.unwrap_err();
    assert_aws_error(&none, "ServerSideEncryptionConfigurationNotFoundError", 404);
    // A blob file's worth: found on disk with either database.
    let clear = recognizable(40_000);
    let put = |key: &'static str, body: Vec<u8>, sse: Option<ServerSideEncryption>| {
        s3.put_object()
            .bucket("plain")
            .key(key)
            .set_server_side_encryption(sse)
            .body(ByteStream::from(body))
            .send()
    };
    let out = put("clear", clear.clone(), None).await.unwrap();
    assert_eq!(out.server_side_encryption(), None);
    assert!(on_disk(&coffer, &clear[100..140]), "no encryption asked, none given");
    if coffer.database_in_data_dir() {
        // The scan sees bytes kept with their row, so the checks below that find none mean it.
        let small = recognizable(44_000)[43_000..].to_vec();
        put("small-clear", small.clone(), None).await.unwrap();
        assert!(
            on_disk(&coffer, &small[100..140]),
            "a small object's clear bytes in the database"
        );
    }
    // Small ones, kept with their rows: sealed there just the same.
    let asked = recognizable(42_000)[41_000..].to_vec();
    let out = put("asked", asked.clone(), Some(ServerSideEncryption::Aes256))
        .await
        .unwrap();
    assert_eq!(out.server_side_encryption(), Some(&ServerSideEncryption::Aes256));
    assert!(!on_disk(&coffer, &asked[100..140]));
    assert_eq!(get_range(&s3, "plain", "asked", None).await, asked);
    // Dual-layer SSE-KMS is not served: refused, never written some other way.
    let dsse = put("dsse", b"x".to_vec(), Some(ServerSideEncryption::AwsKmsDsse))
        .await
        .unwrap_err();
    assert_aws_error(&dsse, "NotImplemented", 501);

    let default = |algorithm: ServerSideEncryption| {
        ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(
                        ServerSideEncryptionByDefault::builder()
                            .sse_algorithm(algorithm)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build()
            .unwrap()
    };
    s3.put_bucket_encryption()
        .bucket("plain")
        .server_side_encryption_configuration(default(ServerSideEncryption::Aes256))
        .send()
        .await
        .unwrap();
    let later = recognizable(43_000)[42_000..].to_vec();
    let out = put("later", later.clone(), None).await.unwrap();
    assert_eq!(out.server_side_encryption(), Some(&ServerSideEncryption::Aes256));
    assert!(!on_disk(&coffer, &later[100..140]));
    let refused = s3
        .put_bucket_encryption()
        .bucket("plain")
        .server_side_encryption_configuration(default(ServerSideEncryption::AwsKmsDsse))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&refused, "NotImplemented", 501);
    s3.delete_bucket_encryption().bucket("plain").send().await.unwrap();
    let none = s3.get_bucket_encryption().bucket("plain").send().await.unwrap_err();
    assert_aws_error(&none, "ServerSideEncryptionConfigurationNotFoundError", 404);
    // Objects keep how they were written.
    assert_eq!(get_range(&s3, "plain", "later", None).await, later);
    assert_eq!(get_range(&s3, "plain", "clear", None).await, clear);
}

/// Objects larger than a read (1 MiB) stream in several reads, each cut to the range asked
/// for: checked at and across the reads' edges, sealed and plain.
#[tokio::test]
async fn large_objects_read_back_in_any_range_sealed_or_not() {
    let coffer = start_with_pre_2023_defaults();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("large").send().await.unwrap();
    const MIB: usize = 1024 * 1024;
    let body = recognizable(2 * MIB + 3 * SEGMENT + 5);
    let len = body.len();
    for (key, sse) in [("clear", None), ("sealed", Some(ServerSideEncryption::Aes256))] {
        let put = s3
            .put_object()
            .bucket("large")
            .key(key)
            .set_server_side_encryption(sse)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
        // Past 1 MiB the body is hashed on a thread of its own: the ETag is still its MD5.
        let etag = format!("\"{:032x}\"", md5_of(&body));
        assert_eq!(put.e_tag(), Some(etag.as_str()), "{key}");
        assert_eq!(get_range(&s3, "large", key, None).await, body, "{key}");
        for (first, last) in [
            (MIB - 7, 2 * MIB + 9),
            (5, len - 3),
            (MIB, MIB),
            (MIB - 1, MIB),
            (2 * MIB + SEGMENT - 1, len - 1),
            (SEGMENT + 3, MIB + SEGMENT + 3),
        ] {
            let got = get_range(&s3, "large", key, Some(format!("bytes={first}-{last}"))).await;
            assert_eq!(got.len(), last - first + 1, "{key} bytes={first}-{last}");
            assert!(got == body[first..=last], "{key} bytes={first}-{last}");
        }
    }
    assert!(
        on_disk(&coffer, &body[MIB..MIB + 40]),
        "the plain object is on disk as sent"
    );
}

/// Small objects are read whole and kept in memory (`blob_cache.rs`); ranges are cut from
/// the kept copy, plain or opened segment by segment, the first read and the next alike.
#[tokio::test]
async fn small_objects_read_back_in_any_range_sealed_or_not() {
    let coffer = start_with_pre_2023_defaults();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("small").send().await.unwrap();
    // Within one segment, one past it, and a second segment of 464 bytes (still small).
    for len in [5000, SEGMENT + 1, SEGMENT + 464] {
        let body = recognizable(len);
        for (kind, sse) in [("clear", None), ("sealed", Some(ServerSideEncryption::Aes256))] {
            let key = format!("{kind}-{len}");
            s3.put_object()
                .bucket("small")
                .key(&key)
                .set_server_side_encryption(sse)
                .body(ByteStream::from(body.clone()))
                .send()
                .await
                .unwrap();
            for _ in 0..2 {
                assert!(get_range(&s3, "small", &key, None).await == body, "{key}");
                for (first, last) in [
                    (0, 0),
                    (1, len - 2),
                    (len - 1, len - 1),
                    (SEGMENT.min(len) - 1, len - 1),
                    (len / 2, len / 2 + 10),
                ] {
                    let got = get_range(&s3, "small", &key, Some(format!("bytes={first}-{last}"))).await;
                    assert!(got == body[first..=last], "{key} bytes={first}-{last}");
                }
                let tail = get_range(&s3, "small", &key, Some("bytes=-100".to_owned())).await;
                assert!(tail == body[len - 100..], "{key} bytes=-100");
            }
        }
    }
}

struct CustomerKey {
    key: String,
    md5: String,
}

fn customer_key(byte: u8) -> CustomerKey {
    let raw = [byte; 32];
    CustomerKey {
        key: STANDARD.encode(raw),
        md5: STANDARD.encode(md5_of(&raw).to_be_bytes()),
    }
}

#[tokio::test]
async fn customer_keys_open_only_their_objects_and_are_never_kept() {
    let coffer = Coffer::start_with(&[
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ("COFFER_ALLOW_SSE_C_OVER_HTTP", "true"),
    ]);
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("mine").send().await.unwrap();
    let key = customer_key(7);
    let other = customer_key(9);
    let plain = recognizable(2 * SEGMENT + 5);
    let put = s3
        .put_object()
        .bucket("mine")
        .key("diary")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key.key)
        .sse_customer_key_md5(&key.md5)
        .body(ByteStream::from(plain.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(put.sse_customer_key_md5(), Some(key.md5.as_str()));
    assert_eq!(put.server_side_encryption(), None);
    assert_ne!(
        put.e_tag(),
        Some(format!("\"{:032x}\"", md5_of(&plain)).as_str()),
        "not an MD5 of the data"
    );
    assert!(!on_disk(&coffer, &plain[SEGMENT..SEGMENT + 32]));
    // The key is nowhere in the database either.
    let raw_key = [7u8; 32];
    let database = coffer.database_bytes();
    assert!(!database.windows(32).any(|w| w == raw_key));

    let get = |with: Option<&CustomerKey>, range: Option<&str>| {
        s3.get_object()
            .bucket("mine")
            .key("diary")
            .set_range(range.map(str::to_owned))
            .set_sse_customer_algorithm(with.map(|_| "AES256".to_owned()))
            .set_sse_customer_key(with.map(|k| k.key.clone()))
            .set_sse_customer_key_md5(with.map(|k| k.md5.clone()))
            .send()
    };
    assert_aws_error(&get(None, None).await.unwrap_err(), "InvalidRequest", 400);
    assert_aws_error(&get(Some(&other), None).await.unwrap_err(), "AccessDenied", 403);
    let got = get(Some(&key), None).await.unwrap();
    assert_eq!(got.sse_customer_algorithm(), Some("AES256"));
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        plain.as_slice()
    );
    let ranged = get(Some(&key), Some("bytes=65530-65545")).await.unwrap();
    assert_eq!(
        ranged.body.collect().await.unwrap().into_bytes().as_ref(),
        &plain[65530..=65545]
    );
    let head = s3
        .head_object()
        .bucket("mine")
        .key("diary")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&other.key)
        .sse_customer_key_md5(&other.md5)
        .send()
        .await
        .unwrap_err();
    assert_eq!(head.raw_response().unwrap().status().as_u16(), 403);
    let bad_md5 = s3
        .put_object()
        .bucket("mine")
        .key("x")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key.key)
        .sse_customer_key_md5(&other.md5)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&bad_md5, "InvalidArgument", 400);

    // Copied out to SSE-S3 with the source's key; a plain object refuses a customer key.
    s3.copy_object()
        .bucket("mine")
        .key("shared")
        .copy_source("mine/diary")
        .copy_source_sse_customer_algorithm("AES256")
        .copy_source_sse_customer_key(&key.key)
        .copy_source_sse_customer_key_md5(&key.md5)
        .server_side_encryption(ServerSideEncryption::Aes256)
        .send()
        .await
        .unwrap();
    assert_eq!(get_range(&s3, "mine", "shared", None).await, plain);
    let not_applicable = s3
        .get_object()
        .bucket("mine")
        .key("shared")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key.key)
        .sse_customer_key_md5(&key.md5)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&not_applicable, "InvalidRequest", 400);

    // A multipart upload: every part brings the key.
    let upload = s3
        .create_multipart_upload()
        .bucket("mine")
        .key("big")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key.key)
        .sse_customer_key_md5(&key.md5)
        .send()
        .await
        .unwrap();
    let upload_id = upload.upload_id().unwrap();
    let keyless = s3
        .upload_part()
        .bucket("mine")
        .key("big")
        .upload_id(upload_id)
        .part_number(1)
        .body(ByteStream::from_static(b"no key"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&keyless, "InvalidRequest", 400);
    let part = recognizable(5 * 1024 * 1024);
    let send_part = || {
        s3.upload_part()
            .bucket("mine")
            .key("big")
            .upload_id(upload_id)
            .part_number(1)
            .sse_customer_algorithm("AES256")
            .sse_customer_key(&key.key)
            .sse_customer_key_md5(&key.md5)
            .body(ByteStream::from(part.clone()))
            .send()
    };
    let first = send_part().await.unwrap();
    // Sent again, the same part keeps its ETag (keyed by the customer's key, not an MD5).
    let sent = send_part().await.unwrap();
    assert_eq!(first.e_tag(), sent.e_tag());
    assert_ne!(sent.e_tag(), Some(format!("\"{:032x}\"", md5_of(&part)).as_str()));
    s3.complete_multipart_upload()
        .bucket("mine")
        .key("big")
        .upload_id(upload_id)
        .multipart_upload(
            aws_sdk_s3::types::CompletedMultipartUpload::builder()
                .parts(
                    aws_sdk_s3::types::CompletedPart::builder()
                        .part_number(1)
                        .e_tag(sent.e_tag().unwrap())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket("mine")
        .key("big")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key.key)
        .sse_customer_key_md5(&key.md5)
        .send()
        .await
        .unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), part.as_slice());
}

/// AWS's own example: a policy that lets a user upload only what asks for SSE-S3.
#[tokio::test]
async fn policies_read_the_encryption_a_write_asks_for() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("strict").send().await.unwrap();
    let (key_id, secret) = coffer.user_with_key("uploader").await;
    coffer
        .root_iam()
        .put_user_policy()
        .user_name("uploader")
        .policy_name("encrypted-only")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::strict/*",
                "Condition":{"StringEquals":{"s3:x-amz-server-side-encryption":"AES256"}}}}"#,
        )
        .send()
        .await
        .unwrap();
    let user = coffer.s3(&key_id, &secret);
    let put = |sse: Option<ServerSideEncryption>| {
        user.put_object()
            .bucket("strict")
            .key("k")
            .set_server_side_encryption(sse)
            .body(ByteStream::from_static(b"x"))
            .send()
    };
    assert_aws_error(&put(None).await.unwrap_err(), "AccessDenied", 403);
    put(Some(ServerSideEncryption::Aes256)).await.unwrap();
    // A read does not take the header at all.
    let refused = s3
        .get_object()
        .bucket("strict")
        .key("k")
        .customize()
        .mutate_request(|request| {
            request.headers_mut().insert("x-amz-server-side-encryption", "AES256");
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.raw_response().unwrap().status().as_u16(), 400);
}

#[tokio::test]
async fn customer_keys_need_tls_unless_the_server_says_otherwise() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("mine").send().await.unwrap();
    let key = customer_key(7);
    let refused = s3
        .put_object()
        .bucket("mine")
        .key("diary")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key.key)
        .sse_customer_key_md5(&key.md5)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&refused, "InvalidRequest", 400);
}
