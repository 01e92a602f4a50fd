//! S3 → a bucket's versions: the bucket's versioning state (enable, suspend), the "Show
//! versions" listing (every version and delete marker under a folder, newest first, a page at
//! a time), and the version actions (restore one as the latest, delete one for good). Each is
//! the S3 operation itself, sent as the signed-in principal.

use http::Method;

use crate::Console;
use crate::display::when;
use crate::page::Signed;
use crate::s3::{Failure, encode};

/// Versions per page.
const PAGE: &str = "100";

/// One version or delete marker, as the listing shows it.
pub struct VersionRow {
    pub key: String,
    /// The key below the current folder.
    pub name: String,
    pub version_id: String,
    pub is_latest: bool,
    pub is_delete_marker: bool,
    pub size: String,
    pub modified: String,
}

/// A page of versions: the folders, the versions, and where the next page starts.
pub struct VersionPage {
    pub folders: Vec<String>,
    pub versions: Vec<VersionRow>,
    /// `key-marker` and `version-id-marker` of the next page.
    pub next: Option<(String, String)>,
}

/// The bucket's versioning status: `None` while it was never configured.
pub async fn status(console: &Console, signed: &Signed, bucket: &str) -> Option<String> {
    let path = format!("/{}?versioning", encode(bucket, false));
    let reply = console
        .s3(signed, Method::GET, &path, &[], coffer_s3::Body::empty())
        .await
        .ok()
        .await
        .ok()?;
    reply.results().await.text("Status")
}

/// One page of ListObjectVersions under `prefix` (one folder level, as the object listing).
pub async fn list(
    console: &Console,
    signed: &Signed,
    bucket: &str,
    prefix: &str,
    after: Option<(&str, &str)>,
    size: impl Fn(&str) -> String,
) -> Result<VersionPage, Failure> {
    let mut path = format!(
        "/{}?versions&encoding-type=url&delimiter=%2F&max-keys={PAGE}&prefix={}",
        encode(bucket, false),
        encode(prefix, false)
    );
    if let Some((key, version)) = after {
        path.push_str(&format!("&key-marker={}", encode(key, false)));
        if !version.is_empty() {
            path.push_str(&format!("&version-id-marker={}", encode(version, false)));
        }
    }
    let listed = console
        .s3(signed, Method::GET, &path, &[], coffer_s3::Body::empty())
        .await
        .ok()
        .await?
        .results()
        .await;
    let decoded = |name: &String| {
        percent_encoding::percent_decode_str(name)
            .decode_utf8_lossy()
            .into_owned()
    };
    let below = |key: &str| key.strip_prefix(prefix).unwrap_or(key).to_owned();
    let row = |element: &crate::results::Member, is_delete_marker: bool| {
        let key = decoded(element.get("Key")?);
        Some(VersionRow {
            name: below(&key),
            version_id: element.get("VersionId")?.clone(),
            is_latest: element.get("IsLatest").is_some_and(|l| l == "true"),
            is_delete_marker,
            size: if is_delete_marker {
                "—".to_owned()
            } else {
                size(element.get("Size").map_or("", String::as_str))
            },
            modified: element.get("LastModified").map(|t| when(t)).unwrap_or_default(),
            key,
        })
    };
    let mut versions: Vec<VersionRow> = listed
        .elements("Version")
        .iter()
        .filter_map(|v| row(v, false))
        .chain(listed.elements("DeleteMarker").iter().filter_map(|m| row(m, true)))
        .collect();
    // S3 lists each kind apart; the page shows a key's versions together, latest first (the
    // listing's order within a key is newest first, and a marker's place is its time).
    versions.sort_by(|a, b| {
        a.key
            .cmp(&b.key)
            .then(b.is_latest.cmp(&a.is_latest))
            .then(b.modified.cmp(&a.modified))
    });
    let folders = listed
        .elements("CommonPrefixes")
        .iter()
        .filter_map(|folder| folder.get("Prefix").map(decoded))
        .collect();
    let truncated = listed.text("IsTruncated").is_some_and(|t| t == "true");
    let next = truncated
        .then(|| {
            let key = decoded(&listed.text("NextKeyMarker")?);
            Some((key, listed.text("NextVersionIdMarker").unwrap_or_default()))
        })
        .flatten();
    Ok(VersionPage {
        folders,
        versions,
        next,
    })
}

/// PutBucketVersioning with `status` (Enabled or Suspended).
pub async fn set_status(console: &Console, signed: &Signed, bucket: &str, status: &str) -> Result<(), Failure> {
    let xml = format!(
        "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>{status}</Status></VersioningConfiguration>"
    );
    let path = format!("/{}?versioning", encode(bucket, false));
    let headers = [("content-length", xml.len().to_string())];
    console
        .s3(signed, Method::PUT, &path, &headers, coffer_s3::Body::from(xml))
        .await
        .ok()
        .await
        .map(|_| ())
}

/// Makes version `version_id` of `key` its latest again, as S3's console restores one: a
/// copy of it onto the key.
pub async fn restore(
    console: &Console,
    signed: &Signed,
    bucket: &str,
    key: &str,
    version_id: &str,
) -> Result<(), Failure> {
    let path = format!("/{}/{}", encode(bucket, false), encode(key, true));
    let source = format!(
        "/{}/{}?versionId={}",
        encode(bucket, false),
        encode(key, true),
        encode(version_id, false)
    );
    let headers = [("x-amz-copy-source", source), ("content-length", "0".to_owned())];
    console
        .s3(signed, Method::PUT, &path, &headers, coffer_s3::Body::empty())
        .await
        .ok()
        .await
        .map(|_| ())
}

/// DeleteObject of one version, for good.
pub async fn delete(
    console: &Console,
    signed: &Signed,
    bucket: &str,
    key: &str,
    version_id: &str,
) -> Result<(), Failure> {
    let path = format!(
        "/{}/{}?versionId={}",
        encode(bucket, false),
        encode(key, true),
        encode(version_id, false)
    );
    console
        .s3(signed, Method::DELETE, &path, &[], coffer_s3::Body::empty())
        .await
        .ok()
        .await
        .map(|_| ())
}
