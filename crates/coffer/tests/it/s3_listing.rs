//! ListObjectsV2 and ListObjects through the Rust SDK: prefixes, delimiters, paging across
//! common prefixes, start-after, markers, URL encoding and owners.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::EncodingType;

use crate::harness::Coffer;
use crate::s3::s3_code;

const KEYS: [&str; 10] = [
    "photos/2024/a.jpg",
    "photos/2024/b.jpg",
    "photos/2025/c.jpg",
    "photos/readme.txt",
    "videos/v.mp4",
    "notes.txt",
    "a b/space.txt",
    "ünï/x",
    "photos/2024/c.jpg",
    "zz",
];

async fn listed_bucket() -> (Coffer, aws_sdk_s3::Client) {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("list").send().await.unwrap();
    for key in KEYS {
        s3.put_object()
            .bucket("list")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    (coffer, s3)
}

/// Pages through ListObjectsV2; returns every key and common prefix in order, and the pages.
async fn all_v2(s3: &aws_sdk_s3::Client, prefix: &str, delimiter: Option<&str>, max: i32) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = s3
            .list_objects_v2()
            .bucket("list")
            .prefix(prefix)
            .set_delimiter(delimiter.map(str::to_owned))
            .max_keys(max)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        let mut page: Vec<String> = out
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect();
        page.extend(
            out.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_owned)),
        );
        page.sort();
        assert_eq!(out.key_count(), Some(page.len() as i32));
        names.extend(page);
        match out.next_continuation_token() {
            Some(next) if out.is_truncated() == Some(true) => token = Some(next.to_owned()),
            _ => return (names, pages),
        }
    }
}

#[tokio::test]
async fn delimiters_roll_keys_up_into_common_prefixes() {
    let (_coffer, s3) = listed_bucket().await;
    let (names, _) = all_v2(&s3, "", Some("/"), 1000).await;
    assert_eq!(names, ["a b/", "notes.txt", "photos/", "videos/", "zz", "ünï/"]);
    let (names, _) = all_v2(&s3, "photos/", Some("/"), 1000).await;
    assert_eq!(names, ["photos/2024/", "photos/2025/", "photos/readme.txt"]);
    let (names, _) = all_v2(&s3, "photos/2024/", Some("/"), 1000).await;
    assert_eq!(names, ["photos/2024/a.jpg", "photos/2024/b.jpg", "photos/2024/c.jpg"]);
    let (names, _) = all_v2(&s3, "photos/20", Some("/"), 1000).await;
    assert_eq!(names, ["photos/2024/", "photos/2025/"]);
    let (names, _) = all_v2(&s3, "nothing", Some("/"), 1000).await;
    assert!(names.is_empty());
}

#[tokio::test]
async fn pages_of_one_walk_across_common_prefixes_without_repeats() {
    let (_coffer, s3) = listed_bucket().await;
    let (names, pages) = all_v2(&s3, "", Some("/"), 1).await;
    assert_eq!(names, ["a b/", "notes.txt", "photos/", "videos/", "zz", "ünï/"]);
    assert_eq!(pages, 6);
    let (names, pages) = all_v2(&s3, "", None, 3).await;
    let mut expected: Vec<&str> = KEYS.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected);
    assert_eq!(pages, 4);
}

#[tokio::test]
async fn start_after_and_max_keys_bound_a_page() {
    let (_coffer, s3) = listed_bucket().await;
    let out = s3
        .list_objects_v2()
        .bucket("list")
        .start_after("photos/2025/c.jpg")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["photos/readme.txt", "videos/v.mp4", "zz", "ünï/x"]);
    assert_eq!(out.start_after(), Some("photos/2025/c.jpg"));
    let out = s3.list_objects_v2().bucket("list").max_keys(0).send().await.unwrap();
    assert_eq!(out.key_count(), Some(0));
    assert_eq!(out.is_truncated(), Some(false));
    let err = s3
        .list_objects_v2()
        .bucket("list")
        .continuation_token("%%%")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "InvalidArgument");
}

#[tokio::test]
async fn url_encoding_and_owners_are_given_when_asked() {
    let (_coffer, s3) = listed_bucket().await;
    let out = s3
        .list_objects_v2()
        .bucket("list")
        .prefix("a b")
        .encoding_type(EncodingType::Url)
        .fetch_owner(true)
        .send()
        .await
        .unwrap();
    // The Rust SDK leaves URL-encoded names encoded (boto3 decodes them).
    assert_eq!(out.contents()[0].key(), Some("a%20b/space.txt"));
    assert_eq!(out.prefix(), Some("a%20b"));
    assert_eq!(out.contents()[0].owner().and_then(|o| o.id()).map(str::len), Some(64));
    let out = s3.list_objects_v2().bucket("list").prefix("a b").send().await.unwrap();
    assert!(out.contents()[0].owner().is_none());
}

#[tokio::test]
async fn list_objects_v1_pages_with_markers() {
    let (_coffer, s3) = listed_bucket().await;
    let first = s3
        .list_objects()
        .bucket("list")
        .delimiter("/")
        .max_keys(2)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = first
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .chain(first.common_prefixes().iter().filter_map(|p| p.prefix()))
        .collect();
    assert_eq!(names.len(), 2);
    assert_eq!(first.is_truncated(), Some(true));
    let marker = first.next_marker().expect("NextMarker with a delimiter").to_owned();
    assert_eq!(marker, "notes.txt");
    let second = s3
        .list_objects()
        .bucket("list")
        .delimiter("/")
        .marker(&marker)
        .max_keys(2)
        .send()
        .await
        .unwrap();
    let prefixes: Vec<&str> = second.common_prefixes().iter().filter_map(|p| p.prefix()).collect();
    assert_eq!(prefixes, ["photos/", "videos/"]);
    let third = s3
        .list_objects()
        .bucket("list")
        .delimiter("/")
        .marker("videos/")
        .send()
        .await
        .unwrap();
    let rest: Vec<&str> = third
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .chain(third.common_prefixes().iter().filter_map(|p| p.prefix()))
        .collect();
    assert_eq!(rest, ["zz", "ünï/"]);
    // Without a delimiter there is no NextMarker: clients resume after the last key.
    let plain = s3.list_objects().bucket("list").max_keys(2).send().await.unwrap();
    assert!(plain.next_marker().is_none());
    assert!(plain.contents()[0].owner().is_some());
}

#[tokio::test]
async fn unversioned_objects_list_as_their_one_null_version() {
    let (_coffer, s3) = listed_bucket().await;
    let out = s3
        .list_object_versions()
        .bucket("list")
        .prefix("photos/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = out.versions().iter().filter_map(|v| v.key()).collect();
    assert_eq!(keys, ["photos/readme.txt"]);
    assert_eq!(out.versions()[0].version_id(), Some("null"));
    assert_eq!(out.versions()[0].is_latest(), Some(true));
    assert_eq!(out.common_prefixes().len(), 2);
    let page = s3
        .list_object_versions()
        .bucket("list")
        .max_keys(3)
        .send()
        .await
        .unwrap();
    assert_eq!(page.is_truncated(), Some(true));
    let next = s3
        .list_object_versions()
        .bucket("list")
        .key_marker(page.next_key_marker().unwrap())
        .version_id_marker(page.next_version_id_marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.versions().len() + next.versions().len(), KEYS.len());
    // Only the null version exists.
    let err = s3
        .get_object()
        .bucket("list")
        .key("zz")
        .version_id("3HL4kqtJlcpXroDTDmJ")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "InvalidArgument");
    s3.get_object()
        .bucket("list")
        .key("zz")
        .version_id("null")
        .send()
        .await
        .unwrap();
}
