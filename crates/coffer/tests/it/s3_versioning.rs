//! S3 versioning through the AWS SDK for Rust: the bucket states and their `null`-version
//! rules, delete markers, reads, copies and deletes by version id, ListObjectVersions, the
//! version actions in policies, and every version's bytes freed once.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, Delete, MfaDelete, ObjectIdentifier, VersioningConfiguration};

use crate::harness::{Coffer, assert_aws_error, finish_upload};

async fn versioned_bucket(coffer: &Coffer, name: &str) -> aws_sdk_s3::Client {
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket(name).send().await.unwrap();
    set_versioning(&s3, name, BucketVersioningStatus::Enabled).await;
    s3
}

async fn set_versioning(s3: &aws_sdk_s3::Client, bucket: &str, status: BucketVersioningStatus) {
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .unwrap();
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &'static [u8]) -> Option<String> {
    let out = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_static(body))
        .send()
        .await
        .unwrap();
    out.version_id().map(str::to_owned)
}

async fn read(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, version: Option<&str>) -> Vec<u8> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version.map(str::to_owned))
        .send()
        .await
        .unwrap();
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

/// (key, version id, is latest, is a delete marker) of every version, in listing order per kind.
async fn versions(s3: &aws_sdk_s3::Client, bucket: &str) -> (Vec<(String, String, bool)>, Vec<(String, String, bool)>) {
    let out = s3.list_object_versions().bucket(bucket).send().await.unwrap();
    let versions = out
        .versions()
        .iter()
        .map(|v| {
            (
                v.key().unwrap().to_owned(),
                v.version_id().unwrap().to_owned(),
                v.is_latest().unwrap(),
            )
        })
        .collect();
    let markers = out
        .delete_markers()
        .iter()
        .map(|m| {
            (
                m.key().unwrap().to_owned(),
                m.version_id().unwrap().to_owned(),
                m.is_latest().unwrap(),
            )
        })
        .collect();
    (versions, markers)
}

fn header<'r, E>(err: &'r aws_sdk_s3::error::SdkError<E>, name: &str) -> Option<&'r str> {
    err.raw_response().and_then(|r| r.headers().get(name))
}

/// The issue's walkthrough: enable, write twice, delete, list, read the first version back,
/// and undo the delete by removing its marker.
#[tokio::test]
async fn a_versioned_bucket_keeps_every_write_and_undoes_a_delete() {
    let coffer = Coffer::start();
    let s3 = versioned_bucket(&coffer, "docs").await;
    let state = s3.get_bucket_versioning().bucket("docs").send().await.unwrap();
    assert_eq!(state.status(), Some(&BucketVersioningStatus::Enabled));
    let v1 = put(&s3, "docs", "report.pdf", b"first draft").await.unwrap();
    let v2 = put(&s3, "docs", "report.pdf", b"second draft").await.unwrap();
    assert_ne!(v1, v2);
    assert_eq!(v1.len(), 32);
    let deleted = s3
        .delete_object()
        .bucket("docs")
        .key("report.pdf")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.delete_marker(), Some(true));
    let marker = deleted.version_id().unwrap().to_owned();

    let (listed, markers) = versions(&s3, "docs").await;
    assert_eq!(
        listed,
        [
            ("report.pdf".to_owned(), v2.clone(), false),
            ("report.pdf".to_owned(), v1.clone(), false),
        ]
    );
    assert_eq!(markers, [("report.pdf".to_owned(), marker.clone(), true)]);
    assert_eq!(read(&s3, "docs", "report.pdf", Some(&v1)).await, b"first draft");

    // The key reads as missing, saying why; the marker itself cannot be read.
    let err = s3
        .get_object()
        .bucket("docs")
        .key("report.pdf")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "NoSuchKey", 404);
    assert_eq!(header(&err, "x-amz-delete-marker"), Some("true"));
    assert_eq!(header(&err, "x-amz-version-id"), Some(marker.as_str()));
    let err = s3
        .get_object()
        .bucket("docs")
        .key("report.pdf")
        .version_id(&marker)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "MethodNotAllowed", 405);
    assert_eq!(header(&err, "x-amz-delete-marker"), Some("true"));
    let err = s3
        .head_object()
        .bucket("docs")
        .key("report.pdf")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 404);
    assert_eq!(header(&err, "x-amz-delete-marker"), Some("true"));
    // ListObjectsV2 hides the key.
    let listed = s3.list_objects_v2().bucket("docs").send().await.unwrap();
    assert!(listed.contents().is_empty());

    // Removing the marker brings the latest write back.
    let undone = s3
        .delete_object()
        .bucket("docs")
        .key("report.pdf")
        .version_id(&marker)
        .send()
        .await
        .unwrap();
    assert_eq!(undone.delete_marker(), Some(true));
    assert_eq!(undone.version_id(), Some(marker.as_str()));
    let head = s3.head_object().bucket("docs").key("report.pdf").send().await.unwrap();
    assert_eq!(head.version_id(), Some(v2.as_str()));
    assert_eq!(read(&s3, "docs", "report.pdf", None).await, b"second draft");
}

/// Unversioned → Enabled → Suspended, as S3's user guide describes them.
#[tokio::test]
async fn the_null_version_follows_unversioned_enabled_and_suspended() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("states").send().await.unwrap();
    let state = s3.get_bucket_versioning().bucket("states").send().await.unwrap();
    assert_eq!(state.status(), None);
    // Never versioned: no version id is reported, and the object is the null version.
    assert_eq!(put(&s3, "states", "k", b"zero").await, None);
    let (listed, _) = versions(&s3, "states").await;
    assert_eq!(listed, [("k".to_owned(), "null".to_owned(), true)]);

    set_versioning(&s3, "states", BucketVersioningStatus::Enabled).await;
    let v1 = put(&s3, "states", "k", b"one").await.unwrap();
    assert_eq!(read(&s3, "states", "k", Some("null")).await, b"zero");
    let head = s3
        .head_object()
        .bucket("states")
        .key("k")
        .version_id("null")
        .send()
        .await
        .unwrap();
    assert_eq!(head.version_id(), Some("null"));

    set_versioning(&s3, "states", BucketVersioningStatus::Suspended).await;
    let state = s3.get_bucket_versioning().bucket("states").send().await.unwrap();
    assert_eq!(state.status(), Some(&BucketVersioningStatus::Suspended));
    // Suspended: the write replaces the null version (and, as in S3, reports no version id).
    assert_eq!(put(&s3, "states", "k", b"two").await, None);
    let (listed, _) = versions(&s3, "states").await;
    assert_eq!(
        listed,
        [
            ("k".to_owned(), "null".to_owned(), true),
            ("k".to_owned(), v1.clone(), false)
        ]
    );
    assert_eq!(read(&s3, "states", "k", Some("null")).await, b"two");
    // A plain delete replaces the null version with a null delete marker.
    let deleted = s3.delete_object().bucket("states").key("k").send().await.unwrap();
    assert_eq!(deleted.delete_marker(), Some(true));
    assert_eq!(deleted.version_id(), Some("null"));
    let (listed, markers) = versions(&s3, "states").await;
    assert_eq!(listed, [("k".to_owned(), v1, false)]);
    assert_eq!(markers, [("k".to_owned(), "null".to_owned(), true)]);

    // There is no way back to unversioned, and MFA delete cannot be turned on without MFA.
    let err = s3
        .put_bucket_versioning()
        .bucket("states")
        .versioning_configuration(VersioningConfiguration::builder().build())
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "IllegalVersioningConfigurationException", 400);
    let err = s3
        .put_bucket_versioning()
        .bucket("states")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::from("Disabled"))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "MalformedXML", 400);
    let err = s3
        .put_bucket_versioning()
        .bucket("states")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .mfa_delete(MfaDelete::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
}

/// Version ids S3 would never have made are refused before anything is looked up; ids that
/// name nothing are NoSuchVersion.
#[tokio::test]
async fn bad_and_unknown_version_ids_get_s3s_errors() {
    let coffer = Coffer::start();
    let s3 = versioned_bucket(&coffer, "ids").await;
    put(&s3, "ids", "k", b"x").await;
    let err = s3
        .get_object()
        .bucket("ids")
        .key("k")
        .version_id("not-an-id")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "InvalidArgument", 400);
    let err = s3
        .delete_object()
        .bucket("ids")
        .key("k")
        .version_id("../x")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "InvalidArgument", 400);
    let unknown = "A".repeat(32);
    let err = s3
        .get_object()
        .bucket("ids")
        .key("k")
        .version_id(&unknown)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "NoSuchVersion", 404);
    // Deleting a version that is not there succeeds, as in S3.
    s3.delete_object()
        .bucket("ids")
        .key("k")
        .version_id(&unknown)
        .send()
        .await
        .unwrap();
    let err = s3
        .list_object_versions()
        .bucket("ids")
        .key_marker("k")
        .version_id_marker("bad id")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "InvalidArgument", 400);
}

/// The usual way to empty a versioned bucket: list a page, delete what it listed, ask for the
/// next page after a marker that no longer exists. Nothing is skipped or listed twice.
#[tokio::test]
async fn paging_goes_on_after_the_marker_version_is_deleted() {
    let coffer = Coffer::start();
    let s3 = versioned_bucket(&coffer, "emptying").await;
    let mut written = 0;
    for key in ["a", "b", "c"] {
        for _ in 0..5 {
            put(&s3, "emptying", key, b"v").await;
            written += 1;
        }
        s3.delete_object().bucket("emptying").key(key).send().await.unwrap();
        written += 1;
    }
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    let mut deleted = 0;
    loop {
        let page = s3
            .list_object_versions()
            .bucket("emptying")
            .max_keys(4)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
            .unwrap();
        let listed: Vec<ObjectIdentifier> = page
            .versions()
            .iter()
            .map(|v| (v.key().unwrap(), v.version_id().unwrap()))
            .chain(
                page.delete_markers()
                    .iter()
                    .map(|m| (m.key().unwrap(), m.version_id().unwrap())),
            )
            .map(|(key, id)| ObjectIdentifier::builder().key(key).version_id(id).build().unwrap())
            .collect();
        deleted += listed.len();
        if !listed.is_empty() {
            let out = s3
                .delete_objects()
                .bucket("emptying")
                .delete(Delete::builder().set_objects(Some(listed)).build().unwrap())
                .send()
                .await
                .unwrap();
            assert!(out.errors().is_empty());
        }
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
    }
    assert_eq!(deleted, written);
    s3.delete_bucket().bucket("emptying").send().await.unwrap();
}

/// A multipart object is a version like any other: it gets an id on completion, a delete
/// marker hides it, and its version still reads whole.
#[tokio::test]
async fn a_delete_marker_over_a_multipart_object() {
    let coffer = Coffer::start();
    let s3 = versioned_bucket(&coffer, "parts").await;
    let upload = s3
        .create_multipart_upload()
        .bucket("parts")
        .key("big")
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let part1 = vec![b'a'; 5 * 1024 * 1024];
    let done = finish_upload(&s3, "parts", "big", id, vec![part1.clone(), b"tail".to_vec()]).await;
    let version = done.version_id().unwrap().to_owned();
    let blobs_before = coffer.blob_files().len();
    s3.delete_object().bucket("parts").key("big").send().await.unwrap();
    let err = s3.get_object().bucket("parts").key("big").send().await.unwrap_err();
    assert_aws_error(&err, "NoSuchKey", 404);
    let mut whole = part1;
    whole.extend_from_slice(b"tail");
    assert_eq!(read(&s3, "parts", "big", Some(&version)).await, whole);
    let part = s3
        .get_object()
        .bucket("parts")
        .key("big")
        .version_id(&version)
        .part_number(2)
        .send()
        .await
        .unwrap();
    assert_eq!(part.body.collect().await.unwrap().into_bytes().as_ref(), b"tail");
    assert_eq!(coffer.blob_files().len(), blobs_before, "a marker frees nothing");
    // Deleting the version frees both parts.
    s3.delete_object()
        .bucket("parts")
        .key("big")
        .version_id(&version)
        .send()
        .await
        .unwrap();
    assert_eq!(coffer.blob_files().len(), blobs_before - 2);
}

/// CopyObject and UploadPartCopy read the version `?versionId=` names and say which.
#[tokio::test]
async fn copies_read_the_version_they_name() {
    let coffer = Coffer::start();
    let s3 = versioned_bucket(&coffer, "copies").await;
    let v1 = put(&s3, "copies", "src", b"old bytes").await.unwrap();
    put(&s3, "copies", "src", b"new bytes").await.unwrap();
    let copied = s3
        .copy_object()
        .bucket("copies")
        .key("dst")
        .copy_source(format!("copies/src?versionId={v1}"))
        .send()
        .await
        .unwrap();
    assert_eq!(copied.copy_source_version_id(), Some(v1.as_str()));
    let dst_version = copied.version_id().unwrap().to_owned();
    assert_eq!(read(&s3, "copies", "dst", Some(&dst_version)).await, b"old bytes");

    let upload = s3
        .create_multipart_upload()
        .bucket("copies")
        .key("mp")
        .send()
        .await
        .unwrap();
    let part = s3
        .upload_part_copy()
        .bucket("copies")
        .key("mp")
        .upload_id(upload.upload_id().unwrap())
        .part_number(1)
        .copy_source(format!("copies/src?versionId={v1}"))
        .send()
        .await
        .unwrap();
    assert_eq!(part.copy_source_version_id(), Some(v1.as_str()));
    // An old version copied onto its own key is restored as the latest (a plain copy onto
    // itself without a change stays illegal).
    s3.copy_object()
        .bucket("copies")
        .key("src")
        .copy_source(format!("copies/src?versionId={v1}"))
        .send()
        .await
        .unwrap();
    assert_eq!(read(&s3, "copies", "src", None).await, b"old bytes");
    let err = s3
        .copy_object()
        .bucket("copies")
        .key("src")
        .copy_source("copies/src")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "InvalidRequest", 400);

    // A delete marker named by id is no copy source.
    let marker = s3.delete_object().bucket("copies").key("src").send().await.unwrap();
    let err = s3
        .copy_object()
        .bucket("copies")
        .key("dst2")
        .copy_source(format!("copies/src?versionId={}", marker.version_id().unwrap()))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "InvalidRequest", 400);
    let err = s3
        .copy_object()
        .bucket("copies")
        .key("dst2")
        .copy_source("copies/src")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "NoSuchKey", 404);
}

/// DeleteObjects with and without version ids, answered as S3 answers each.
#[tokio::test]
async fn delete_objects_removes_versions_and_adds_markers() {
    let coffer = Coffer::start();
    let s3 = versioned_bucket(&coffer, "batch").await;
    let a1 = put(&s3, "batch", "a", b"a1").await.unwrap();
    put(&s3, "batch", "a", b"a2").await.unwrap();
    put(&s3, "batch", "b", b"b1").await.unwrap();
    let ids = |key: &str, version: Option<&str>| {
        ObjectIdentifier::builder()
            .key(key)
            .set_version_id(version.map(str::to_owned))
            .build()
            .unwrap()
    };
    let out = s3
        .delete_objects()
        .bucket("batch")
        .delete(
            Delete::builder()
                .objects(ids("a", Some(&a1)))
                .objects(ids("b", None))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(out.errors().is_empty(), "{:?}", out.errors());
    let deleted = out.deleted();
    let a = deleted.iter().find(|d| d.key() == Some("a")).unwrap();
    assert_eq!(a.version_id(), Some(a1.as_str()));
    assert_eq!(a.delete_marker(), None);
    let b = deleted.iter().find(|d| d.key() == Some("b")).unwrap();
    assert_eq!(b.delete_marker(), Some(true));
    let b_marker = b.delete_marker_version_id().unwrap().to_owned();
    let (listed, markers) = versions(&s3, "batch").await;
    assert_eq!(listed.len(), 2);
    assert_eq!(markers, [("b".to_owned(), b_marker.clone(), true)]);

    // Removing the marker by id reports it as one.
    let out = s3
        .delete_objects()
        .bucket("batch")
        .delete(Delete::builder().objects(ids("b", Some(&b_marker))).build().unwrap())
        .send()
        .await
        .unwrap();
    let b = &out.deleted()[0];
    assert_eq!(b.delete_marker(), Some(true));
    assert_eq!(b.delete_marker_version_id(), Some(b_marker.as_str()));
    assert_eq!(read(&s3, "batch", "b", None).await, b"b1");
}

/// A version named by id is authorized as the `…Version` action; listing versions as
/// `s3:ListBucketVersions`.
#[tokio::test]
async fn versions_need_the_version_actions() {
    let coffer = Coffer::start();
    let s3 = versioned_bucket(&coffer, "guarded").await;
    let v1 = put(&s3, "guarded", "k", b"one").await.unwrap();
    put(&s3, "guarded", "k", b"two").await.unwrap();
    let (key_id, secret) = coffer.user_with_key("reader").await;
    coffer
        .root_iam()
        .put_user_policy()
        .user_name("reader")
        .policy_name("current-only")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":["s3:GetObject","s3:DeleteObject","s3:ListBucket"],
                 "Resource":["arn:aws:s3:::guarded","arn:aws:s3:::guarded/*"]}]}"#,
        )
        .send()
        .await
        .unwrap();
    let user = coffer.s3(&key_id, &secret);
    assert_eq!(read(&user, "guarded", "k", None).await, b"two");
    let err = user
        .get_object()
        .bucket("guarded")
        .key("k")
        .version_id(&v1)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    let err = user.list_object_versions().bucket("guarded").send().await.unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    let err = user
        .delete_object()
        .bucket("guarded")
        .key("k")
        .version_id(&v1)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    let out = user
        .delete_objects()
        .bucket("guarded")
        .delete(
            Delete::builder()
                .objects(ObjectIdentifier::builder().key("k").version_id(&v1).build().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.errors()[0].code(), Some("AccessDenied"));
    // A plain delete only adds a marker: every version survives it.
    user.delete_object().bucket("guarded").key("k").send().await.unwrap();
    assert_eq!(read(&s3, "guarded", "k", Some(&v1)).await, b"one");

    coffer
        .root_iam()
        .put_user_policy()
        .user_name("reader")
        .policy_name("versions")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":["s3:GetObjectVersion","s3:ListBucketVersions"],
                 "Resource":["arn:aws:s3:::guarded","arn:aws:s3:::guarded/*"],
                 "Condition":{"StringEquals":{"s3:VersionId":["VERSION"]}}},
                {"Effect":"Allow","Action":"s3:ListBucketVersions","Resource":"arn:aws:s3:::guarded"}]}"#
                .replace("VERSION", &v1),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(read(&user, "guarded", "k", Some(&v1)).await, b"one");
    let (listed, markers) = versions(&user, "guarded").await;
    assert_eq!((listed.len(), markers.len()), (2, 1));
}

/// ListObjectVersions pages by (key, version) and rolls keys up under a delimiter, as S3.
#[tokio::test]
async fn list_object_versions_pages_through_versions_and_prefixes() {
    let coffer = Coffer::start();
    let s3 = versioned_bucket(&coffer, "pages").await;
    let mut expected = Vec::new();
    for key in ["a", "b", "dir/x", "dir/y", "z"] {
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(put(&s3, "pages", key, b"v").await.unwrap());
        }
        ids.reverse();
        expected.extend(ids.into_iter().map(|id| (key.to_owned(), id)));
    }
    // Two at a time, without a delimiter: every version, newest first per key.
    let mut seen = Vec::new();
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    loop {
        let out = s3
            .list_object_versions()
            .bucket("pages")
            .max_keys(2)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
            .unwrap();
        assert!(out.versions().len() <= 2);
        seen.extend(
            out.versions()
                .iter()
                .map(|v| (v.key().unwrap().to_owned(), v.version_id().unwrap().to_owned())),
        );
        if !out.is_truncated().unwrap() {
            break;
        }
        key_marker = out.next_key_marker().map(str::to_owned);
        version_marker = out.next_version_id_marker().map(str::to_owned);
    }
    assert_eq!(seen, expected);

    // With a delimiter: `dir/` is one common prefix, whatever it holds.
    let out = s3
        .list_object_versions()
        .bucket("pages")
        .delimiter("/")
        .prefix("")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<_> = out.common_prefixes().iter().map(|p| p.prefix().unwrap()).collect();
    assert_eq!(prefixes, ["dir/"]);
    assert_eq!(out.versions().len(), 9);
    // A key marker without a version marker skips every version of that key.
    let out = s3
        .list_object_versions()
        .bucket("pages")
        .key_marker("b")
        .send()
        .await
        .unwrap();
    assert_eq!(out.versions()[0].key(), Some("dir/x"));
}

/// Deleting every version and marker frees every blob, and then the bucket can go.
#[tokio::test]
async fn deleting_every_version_frees_every_blob() {
    let coffer = Coffer::start();
    let s3 = versioned_bucket(&coffer, "tidy").await;
    // Large enough for blob files: smaller objects keep their bytes with their rows.
    for byte in [b'1', b'2', b'3'] {
        let body = ByteStream::from(vec![byte; 40 << 10]);
        s3.put_object().bucket("tidy").key("k").body(body).send().await.unwrap();
    }
    s3.delete_object().bucket("tidy").key("k").send().await.unwrap();
    assert_eq!(coffer.blob_files().len(), 3);
    let err = s3.delete_bucket().bucket("tidy").send().await.unwrap_err();
    assert_aws_error(&err, "BucketNotEmpty", 409);
    let (listed, markers) = versions(&s3, "tidy").await;
    for (key, id, _) in listed.into_iter().chain(markers) {
        s3.delete_object()
            .bucket("tidy")
            .key(key)
            .version_id(id)
            .send()
            .await
            .unwrap();
    }
    assert!(coffer.blob_files().is_empty());
    s3.delete_bucket().bucket("tidy").send().await.unwrap();
}

/// DeleteObjects honours each entry's `ETag` (S3's conditional delete) and refuses the
/// directory-bucket-only conditions instead of ignoring them.
#[tokio::test]
async fn delete_objects_honours_each_entrys_etag() {
    let coffer = Coffer::start();
    let s3 = versioned_bucket(&coffer, "conditional").await;
    let put_out = s3
        .put_object()
        .bucket("conditional")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let (etag, version) = (
        put_out.e_tag().unwrap().to_owned(),
        put_out.version_id().unwrap().to_owned(),
    );
    let entry = |etag: &str| {
        ObjectIdentifier::builder()
            .key("k")
            .version_id(&version)
            .e_tag(etag)
            .build()
            .unwrap()
    };
    let delete = |entry: ObjectIdentifier| {
        s3.delete_objects()
            .bucket("conditional")
            .delete(Delete::builder().objects(entry).build().unwrap())
            .send()
    };
    let refused = delete(entry("\"0123456789abcdef0123456789abcdef\"")).await.unwrap();
    assert_eq!(refused.errors()[0].code(), Some("PreconditionFailed"));
    let sized = ObjectIdentifier::builder().key("k").size(1).build().unwrap();
    let refused = delete(sized).await.unwrap();
    assert_eq!(refused.errors()[0].code(), Some("NotImplemented"));
    assert_eq!(read(&s3, "conditional", "k", Some(&version)).await, b"x");
    let done = delete(entry(&etag)).await.unwrap();
    assert!(done.errors().is_empty(), "{:?}", done.errors());
    assert_eq!(done.deleted()[0].version_id(), Some(version.as_str()));
    let err = s3
        .get_object()
        .bucket("conditional")
        .key("k")
        .version_id(&version)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "NoSuchVersion", 404);
}
