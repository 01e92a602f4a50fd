//! Multipart uploads through the Rust SDK: ETags, part rules, copies of ranges, listings,
//! aborts, and the checksums of the whole object (composite and full-object).

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart};

use crate::harness::Coffer;
use crate::s3::s3_code;

const MIB: usize = 1024 * 1024;

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

async fn bucket() -> (Coffer, aws_sdk_s3::Client) {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("mpu").send().await.unwrap();
    (coffer, s3)
}

async fn start(s3: &aws_sdk_s3::Client, key: &str, algorithm: Option<ChecksumAlgorithm>) -> String {
    let out = s3
        .create_multipart_upload()
        .bucket("mpu")
        .key(key)
        .content_type("application/octet-stream")
        .metadata("kind", "big")
        .set_checksum_algorithm(algorithm)
        .send()
        .await
        .unwrap();
    out.upload_id().unwrap().to_owned()
}

async fn part(s3: &aws_sdk_s3::Client, key: &str, upload: &str, number: i32, bytes: Vec<u8>) -> CompletedPart {
    part_with(s3, key, upload, number, bytes, None).await
}

/// Uploads a part checksummed with `algorithm` (the upload's), or the SDK's default CRC32.
async fn part_with(
    s3: &aws_sdk_s3::Client,
    key: &str,
    upload: &str,
    number: i32,
    bytes: Vec<u8>,
    algorithm: Option<ChecksumAlgorithm>,
) -> CompletedPart {
    let out = s3
        .upload_part()
        .set_checksum_algorithm(algorithm)
        .bucket("mpu")
        .key(key)
        .upload_id(upload)
        .part_number(number)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .unwrap();
    CompletedPart::builder()
        .part_number(number)
        .e_tag(out.e_tag().unwrap())
        .set_checksum_crc32(out.checksum_crc32().map(str::to_owned))
        .set_checksum_sha256(out.checksum_sha256().map(str::to_owned))
        .build()
}

fn completed(parts: Vec<CompletedPart>) -> CompletedMultipartUpload {
    CompletedMultipartUpload::builder().set_parts(Some(parts)).build()
}

#[tokio::test]
async fn parts_become_one_object_with_an_md5_of_md5s_etag() {
    let (_coffer, s3) = bucket().await;
    let upload = start(&s3, "big", None).await;
    let (a, b, c) = (data(5 * MIB, 1), data(5 * MIB, 2), data(1234, 3));
    let parts = vec![
        part(&s3, "big", &upload, 1, a.clone()).await,
        part(&s3, "big", &upload, 2, b.clone()).await,
        part(&s3, "big", &upload, 3, c.clone()).await,
    ];
    let listed = s3
        .list_parts()
        .bucket("mpu")
        .key("big")
        .upload_id(&upload)
        .max_parts(2)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.parts().len(), 2);
    assert_eq!(listed.is_truncated(), Some(true));
    assert_eq!(listed.next_part_number_marker(), Some("2"));
    let uploads = s3.list_multipart_uploads().bucket("mpu").send().await.unwrap();
    assert_eq!(uploads.uploads()[0].upload_id(), Some(upload.as_str()));

    let done = s3
        .complete_multipart_upload()
        .bucket("mpu")
        .key("big")
        .upload_id(&upload)
        .multipart_upload(completed(parts))
        .send()
        .await
        .unwrap();
    let etag = done.e_tag().unwrap();
    assert!(etag.ends_with("-3\""), "{etag}");
    let got = s3.get_object().bucket("mpu").key("big").send().await.unwrap();
    assert_eq!(got.content_type(), Some("application/octet-stream"));
    assert_eq!(got.metadata().unwrap().get("kind").map(String::as_str), Some("big"));
    assert_eq!(got.e_tag(), Some(etag));
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(bytes.len(), a.len() + b.len() + c.len());
    assert!(
        bytes[..a.len()] == a[..] && bytes[a.len()..a.len() + b.len()] == b[..] && bytes[a.len() + b.len()..] == c[..]
    );

    // A range across a part boundary, and a part by number.
    let got = s3
        .get_object()
        .bucket("mpu")
        .key("big")
        .range(format!("bytes={}-{}", 5 * MIB - 2, 5 * MIB + 1))
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        &[a[5 * MIB - 2], a[5 * MIB - 1], b[0], b[1]]
    );
    let got = s3
        .get_object()
        .bucket("mpu")
        .key("big")
        .part_number(3)
        .send()
        .await
        .unwrap();
    assert_eq!(got.parts_count(), Some(3));
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), &c[..]);
    let err = s3
        .get_object()
        .bucket("mpu")
        .key("big")
        .part_number(4)
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "InvalidPartNumber");
    assert!(
        s3.list_multipart_uploads()
            .bucket("mpu")
            .send()
            .await
            .unwrap()
            .uploads()
            .is_empty()
    );
}

#[tokio::test]
async fn completion_enforces_order_etags_and_sizes() {
    let (_coffer, s3) = bucket().await;
    let upload = start(&s3, "k", None).await;
    let one = part(&s3, "k", &upload, 1, data(MIB, 1)).await;
    let two = part(&s3, "k", &upload, 2, data(MIB, 2)).await;
    let complete = |parts: Vec<CompletedPart>| {
        s3.complete_multipart_upload()
            .bucket("mpu")
            .key("k")
            .upload_id(&upload)
            .multipart_upload(completed(parts))
            .send()
    };
    let err = complete(vec![two.clone(), one.clone()]).await.unwrap_err();
    assert_eq!(s3_code(&err), "InvalidPartOrder");
    let wrong = CompletedPart::builder()
        .part_number(1)
        .e_tag("\"00000000000000000000000000000000\"")
        .build();
    let err = complete(vec![wrong, two.clone()]).await.unwrap_err();
    assert_eq!(s3_code(&err), "InvalidPart");
    let missing = CompletedPart::builder()
        .part_number(7)
        .e_tag(one.e_tag().unwrap())
        .build();
    let err = complete(vec![missing]).await.unwrap_err();
    assert_eq!(s3_code(&err), "InvalidPart");
    // Parts are numbered 1 to 10,000: a longer list is refused before any part is looked up.
    let too_many = (1..=20_000)
        .map(|n| {
            CompletedPart::builder()
                .part_number(n)
                .e_tag(one.e_tag().unwrap())
                .build()
        })
        .collect();
    let err = complete(too_many).await.unwrap_err();
    assert_eq!(s3_code(&err), "InvalidArgument");
    let err = complete(vec![one.clone(), two.clone()]).await.unwrap_err();
    assert_eq!(s3_code(&err), "EntityTooSmall");
    // A single small part is a valid (last) part.
    let done = complete(vec![two.clone()]).await.unwrap();
    // A completion retried after a lost response succeeds again, as in S3...
    let again = complete(vec![two]).await.unwrap();
    assert_eq!(again.e_tag(), done.e_tag());
    // ...while the object it made is still there.
    s3.put_object()
        .bucket("mpu")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let err = complete(vec![one]).await.unwrap_err();
    assert_eq!(s3_code(&err), "NoSuchUpload");
}

/// ceph/s3-tests' test_multipart_resend_first_finishes_last: part 1 uploaded again while its
/// first upload is still running; both answers are named, the one that finished last wins.
#[tokio::test]
async fn a_part_named_twice_counts_as_its_last_entry() {
    let (_coffer, s3) = bucket().await;
    let upload = start(&s3, "resent", None).await;
    let first = part(&s3, "resent", &upload, 1, b"BBBBBBBB".to_vec()).await;
    let last = part(&s3, "resent", &upload, 1, b"AAAAAAAA".to_vec()).await;
    s3.complete_multipart_upload()
        .bucket("mpu")
        .key("resent")
        .upload_id(&upload)
        .multipart_upload(completed(vec![first, last]))
        .send()
        .await
        .unwrap();
    let got = s3.get_object().bucket("mpu").key("resent").send().await.unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), b"AAAAAAAA");
}

#[tokio::test]
async fn aborted_uploads_are_gone_and_bad_part_numbers_refused() {
    let (coffer, s3) = bucket().await;
    let upload = start(&s3, "gone", None).await;
    part(&s3, "gone", &upload, 1, data(1000, 1)).await;
    let err = s3
        .upload_part()
        .bucket("mpu")
        .key("gone")
        .upload_id(&upload)
        .part_number(10_001)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "InvalidArgument");
    s3.abort_multipart_upload()
        .bucket("mpu")
        .key("gone")
        .upload_id(&upload)
        .send()
        .await
        .unwrap();
    let err = s3
        .list_parts()
        .bucket("mpu")
        .key("gone")
        .upload_id(&upload)
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "NoSuchUpload");
    let err = s3
        .upload_part()
        .bucket("mpu")
        .key("gone")
        .upload_id(&upload)
        .part_number(2)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "NoSuchUpload");
    let err = s3
        .abort_multipart_upload()
        .bucket("mpu")
        .key("gone")
        .upload_id(&upload)
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "NoSuchUpload");
    // Nothing of the upload is left on disk.
    let blobs = coffer.blob_files().len();
    assert_eq!(blobs, 0);
}

#[tokio::test]
async fn upload_part_copy_copies_ranges() {
    let (_coffer, s3) = bucket().await;
    let source = data(6 * MIB, 9);
    s3.put_object()
        .bucket("mpu")
        .key("source")
        .body(ByteStream::from(source.clone()))
        .send()
        .await
        .unwrap();
    let upload = start(&s3, "assembled", None).await;
    let first = s3
        .upload_part_copy()
        .bucket("mpu")
        .key("assembled")
        .upload_id(&upload)
        .part_number(1)
        .copy_source("mpu/source")
        .copy_source_range(format!("bytes=0-{}", 5 * MIB - 1))
        .send()
        .await
        .unwrap();
    let second = s3
        .upload_part_copy()
        .bucket("mpu")
        .key("assembled")
        .upload_id(&upload)
        .part_number(2)
        .copy_source("mpu/source")
        .copy_source_range(format!("bytes={}-{}", 5 * MIB, 6 * MIB - 1))
        .send()
        .await
        .unwrap();
    let parts = [first.copy_part_result().unwrap(), second.copy_part_result().unwrap()]
        .iter()
        .enumerate()
        .map(|(i, r)| {
            CompletedPart::builder()
                .part_number(i as i32 + 1)
                .e_tag(r.e_tag().unwrap())
                .build()
        })
        .collect();
    s3.complete_multipart_upload()
        .bucket("mpu")
        .key("assembled")
        .upload_id(&upload)
        .multipart_upload(completed(parts))
        .send()
        .await
        .unwrap();
    let got = s3.get_object().bucket("mpu").key("assembled").send().await.unwrap();
    assert!(got.body.collect().await.unwrap().into_bytes().as_ref() == source.as_slice());
    let err = s3
        .upload_part_copy()
        .bucket("mpu")
        .key("assembled")
        .upload_id("no-such-upload")
        .part_number(1)
        .copy_source("mpu/source")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "NoSuchUpload");
}

#[tokio::test]
async fn composite_and_full_object_checksums_are_computed_as_s3_defines_them() {
    let (_coffer, s3) = bucket().await;
    // CRC32 defaults to COMPOSITE: the CRC32 of the parts' CRC32s, then "-<parts>".
    let upload = start(&s3, "composite", Some(ChecksumAlgorithm::Crc32)).await;
    let parts = vec![
        part(&s3, "composite", &upload, 1, data(5 * MIB, 1)).await,
        part(&s3, "composite", &upload, 2, data(100, 2)).await,
    ];
    assert!(parts[0].checksum_crc32().is_some());
    let done = s3
        .complete_multipart_upload()
        .bucket("mpu")
        .key("composite")
        .upload_id(&upload)
        .multipart_upload(completed(parts))
        .send()
        .await
        .unwrap();
    assert!(done.checksum_crc32().unwrap().ends_with("-2"));
    assert_eq!(done.checksum_type(), Some(&ChecksumType::Composite));
    let head = s3
        .head_object()
        .bucket("mpu")
        .key("composite")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_crc32(), done.checksum_crc32());

    // CRC64NVME is always FULL_OBJECT: equal to the CRC64NVME of the whole object.
    let whole = [data(5 * MIB, 3), data(777, 4)].concat();
    s3.put_object()
        .bucket("mpu")
        .key("single")
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .body(ByteStream::from(whole.clone()))
        .send()
        .await
        .unwrap();
    let single = s3
        .head_object()
        .bucket("mpu")
        .key("single")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    let upload = start(&s3, "full", Some(ChecksumAlgorithm::Crc64Nvme)).await;
    let parts = vec![
        part_with(
            &s3,
            "full",
            &upload,
            1,
            whole[..5 * MIB].to_vec(),
            Some(ChecksumAlgorithm::Crc64Nvme),
        )
        .await,
        part_with(
            &s3,
            "full",
            &upload,
            2,
            whole[5 * MIB..].to_vec(),
            Some(ChecksumAlgorithm::Crc64Nvme),
        )
        .await,
    ];
    let done = s3
        .complete_multipart_upload()
        .bucket("mpu")
        .key("full")
        .upload_id(&upload)
        .multipart_upload(completed(parts))
        .send()
        .await
        .unwrap();
    assert_eq!(done.checksum_type(), Some(&ChecksumType::FullObject));
    assert_eq!(done.checksum_crc64_nvme(), single.checksum_crc64_nvme());

    // A part checksummed with another algorithm than the upload's is refused.
    let upload = start(&s3, "mismatch", Some(ChecksumAlgorithm::Crc32)).await;
    let err = s3
        .upload_part()
        .bucket("mpu")
        .key("mismatch")
        .upload_id(&upload)
        .part_number(1)
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "InvalidRequest");

    let err = s3
        .create_multipart_upload()
        .bucket("mpu")
        .key("bad")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .checksum_type(ChecksumType::FullObject)
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "InvalidRequest");
}

#[tokio::test]
async fn conditional_completion_refuses_to_overwrite() {
    let (_coffer, s3) = bucket().await;
    s3.put_object()
        .bucket("mpu")
        .key("taken")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let upload = start(&s3, "taken", None).await;
    let parts = vec![part(&s3, "taken", &upload, 1, data(10, 1)).await];
    let err = s3
        .complete_multipart_upload()
        .bucket("mpu")
        .key("taken")
        .upload_id(&upload)
        .if_none_match("*")
        .multipart_upload(completed(parts.clone()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "PreconditionFailed");
    // The upload is still there to complete unconditionally.
    s3.complete_multipart_upload()
        .bucket("mpu")
        .key("taken")
        .upload_id(&upload)
        .multipart_upload(completed(parts))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn object_attributes_report_parts_checksums_and_size() {
    use aws_sdk_s3::types::ObjectAttributes;
    let (_coffer, s3) = bucket().await;
    let upload = start(&s3, "attrs", Some(ChecksumAlgorithm::Sha256)).await;
    let parts = vec![
        part_with(
            &s3,
            "attrs",
            &upload,
            1,
            data(5 * MIB, 1),
            Some(ChecksumAlgorithm::Sha256),
        )
        .await,
        part_with(&s3, "attrs", &upload, 2, data(10, 2), Some(ChecksumAlgorithm::Sha256)).await,
    ];
    let done = s3
        .complete_multipart_upload()
        .bucket("mpu")
        .key("attrs")
        .upload_id(&upload)
        .multipart_upload(completed(parts.clone()))
        .send()
        .await
        .unwrap();
    let attributes = s3
        .get_object_attributes()
        .bucket("mpu")
        .key("attrs")
        .object_attributes(ObjectAttributes::Etag)
        .object_attributes(ObjectAttributes::Checksum)
        .object_attributes(ObjectAttributes::ObjectParts)
        .object_attributes(ObjectAttributes::ObjectSize)
        .object_attributes(ObjectAttributes::StorageClass)
        .max_parts(1)
        .send()
        .await
        .unwrap();
    assert_eq!(attributes.object_size(), Some(5 * MIB as i64 + 10));
    assert_eq!(attributes.storage_class().map(|c| c.as_str()), Some("STANDARD"));
    // Unquoted here, unlike every other S3 answer (as AWS answers it).
    assert_eq!(attributes.e_tag(), done.e_tag().map(|e| e.trim_matches('"')));
    let checksum = attributes.checksum().unwrap();
    assert_eq!(checksum.checksum_sha256(), done.checksum_sha256());
    let object_parts = attributes.object_parts().unwrap();
    assert_eq!(object_parts.total_parts_count(), Some(2));
    assert_eq!(object_parts.is_truncated(), Some(true));
    assert_eq!(object_parts.parts()[0].size(), Some(5 * MIB as i64));
    assert_eq!(object_parts.parts()[0].checksum_sha256(), parts[0].checksum_sha256());
    let only_size = s3
        .get_object_attributes()
        .bucket("mpu")
        .key("attrs")
        .object_attributes(ObjectAttributes::ObjectSize)
        .send()
        .await
        .unwrap();
    assert!(only_size.e_tag().is_none() && only_size.object_parts().is_none());
}

#[tokio::test]
async fn a_multipart_get_survives_an_overwrite_midway() {
    let (coffer, s3) = bucket().await;
    let upload = start(&s3, "moving", None).await;
    let (a, b) = (data(5 * MIB, 5), data(3 * MIB, 6));
    let parts = vec![
        part(&s3, "moving", &upload, 1, a.clone()).await,
        part(&s3, "moving", &upload, 2, b.clone()).await,
    ];
    s3.complete_multipart_upload()
        .bucket("mpu")
        .key("moving")
        .upload_id(&upload)
        .multipart_upload(completed(parts))
        .send()
        .await
        .unwrap();
    let mut got = s3.get_object().bucket("mpu").key("moving").send().await.unwrap();
    let mut received = got.body.next().await.unwrap().unwrap().to_vec();
    // The object is replaced (its part files unlinked) while the first GET is mid-body.
    s3.put_object()
        .bucket("mpu")
        .key("moving")
        .body(ByteStream::from_static(b"new"))
        .send()
        .await
        .unwrap();
    while let Some(chunk) = got.body.next().await {
        received.extend_from_slice(&chunk.unwrap());
    }
    assert!(received == [a, b].concat(), "the first reader got a mix or a cut");
    drop(got);
    assert_eq!(
        coffer.blob_files().len(),
        0,
        "the old parts are removed once their reader is done (the new three bytes are kept with their row)"
    );
    // On PostgreSQL other nodes may be reading them too: they wait, retired, for the grace.
    let on_postgres = coffer.database_url().is_some_and(|url| url.starts_with("postgres"));
    assert_eq!(coffer.retired_blob_files(), if on_postgres { 2 } else { 0 });
    let now = s3.get_object().bucket("mpu").key("moving").send().await.unwrap();
    assert_eq!(now.body.collect().await.unwrap().into_bytes().as_ref(), b"new");
}
