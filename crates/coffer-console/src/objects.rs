//! S3 → a bucket's objects: folders and objects under a prefix (breadcrumbs, search by
//! prefix, pages of 100), uploads, downloads, deleting, creating a folder, and an object's
//! details. Every action is the S3 operation itself, sent as the signed-in principal; bodies
//! stream through in both directions, so an object of any size costs no more memory.

use askama::Template;
use axum::Form;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use http::{Method, StatusCode, header};
use serde::Deserialize;

use crate::Console;
use crate::buckets::s3_failed;
use crate::display::when;
use crate::page::{Chrome, Signed, error_page, render};
use crate::permits::Permits;
use crate::s3::{Failure, body_from, encode};
use crate::versions::VersionPage;

/// Keys per page of a listing.
const PAGE: &str = "100";

struct Folder {
    prefix: String,
    name: String,
}

struct Object {
    key: String,
    name: String,
    size: String,
    modified: String,
}

/// One step of the breadcrumbs.
struct Crumb {
    prefix: String,
    name: String,
}

#[derive(Template)]
#[template(path = "bucket.html")]
struct BucketPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    bucket: &'a str,
    prefix: &'a str,
    crumbs: Vec<Crumb>,
    folders: Vec<Folder>,
    objects: Vec<Object>,
    next: Option<String>,
    search: &'a str,
    permits: Permits,
    /// The bucket's versioning status (`None`: never configured).
    versioning: Option<String>,
    /// "Show versions": every version under the folder instead of the objects.
    versions: Option<VersionPage>,
}

#[derive(Deserialize)]
pub struct BrowseQuery {
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    token: String,
    /// Search: keys that start with the prefix plus this.
    #[serde(default)]
    search: String,
    /// `1`: show every version.
    #[serde(default)]
    versions: String,
    /// Where a page of versions starts.
    #[serde(default)]
    key_marker: String,
    #[serde(default)]
    version_marker: String,
}

/// "1.2 MB": a size for people.
fn size(bytes: &str) -> String {
    let Ok(n) = bytes.parse::<f64>() else {
        return bytes.to_owned();
    };
    let units = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

pub async fn bucket(
    State(console): State<Console>,
    signed: Signed,
    Path(bucket): Path<String>,
    Query(query): Query<BrowseQuery>,
) -> Response {
    let listing_prefix = format!("{}{}", query.prefix, query.search);
    let versioning = crate::versions::status(&console, &signed, &bucket).await;
    let versions = if query.versions == "1" {
        let after =
            (!query.key_marker.is_empty()).then_some((query.key_marker.as_str(), query.version_marker.as_str()));
        match crate::versions::list(&console, &signed, &bucket, &listing_prefix, after, size).await {
            Ok(page) => Some(page),
            Err(failure) => return s3_failed(&signed, "s3:ListBucketVersions", &failure),
        }
    } else {
        None
    };
    // "Show versions" lists versions instead (and needs only s3:ListBucketVersions).
    let (folders, objects, next) = match versions {
        Some(_) => (Vec::new(), Vec::new(), None),
        None => match list_objects(&console, &signed, &bucket, &query.prefix, &listing_prefix, &query.token).await {
            Ok(listed) => listed,
            Err(response) => return response,
        },
    };
    let mut crumbs = Vec::new();
    let mut so_far = String::new();
    for part in query.prefix.split_inclusive('/') {
        so_far.push_str(part);
        crumbs.push(Crumb {
            prefix: so_far.clone(),
            name: part.trim_end_matches('/').to_owned(),
        });
    }
    let permits = Permits::load_s3(
        &console,
        &signed,
        &bucket,
        &query.prefix,
        &["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
        &["s3:DeleteBucket", "s3:PutBucketVersioning"],
    )
    .await;
    render(&BucketPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        next,
        bucket: &bucket,
        prefix: &query.prefix,
        search: &query.search,
        crumbs,
        folders,
        objects,
        permits,
        versioning,
        versions,
    })
}

/// One page of ListObjectsV2 one folder down from `prefix` (`listing_prefix`: the prefix and
/// the search): its folders, its objects and the next page's token; or the page to answer.
async fn list_objects(
    console: &Console,
    signed: &Signed,
    bucket: &str,
    prefix: &str,
    listing_prefix: &str,
    token: &str,
) -> Result<(Vec<Folder>, Vec<Object>, Option<String>), Response> {
    // URL-encoded names: a key may hold characters XML 1.0 cannot carry.
    let mut path = format!(
        "/{}?list-type=2&encoding-type=url&delimiter=%2F&max-keys={PAGE}&prefix={}",
        encode(bucket, false),
        encode(listing_prefix, false)
    );
    if !token.is_empty() {
        path.push_str(&format!("&continuation-token={}", encode(token, false)));
    }
    let listed = match console
        .s3(signed, Method::GET, &path, &[], coffer_s3::Body::empty())
        .await
        .ok()
        .await
    {
        Ok(reply) => reply.results().await,
        Err(failure) => return Err(s3_failed(signed, "s3:ListBucket", &failure)),
    };
    if !listed.is_readable() {
        return Err(crate::page::error_page(
            StatusCode::BAD_GATEWAY,
            "The listing could not be read",
            "S3 answered with a listing this page cannot read, so no objects are shown rather than a wrong empty list.",
        ));
    }
    let decoded = |name: &String| {
        percent_encoding::percent_decode_str(name)
            .decode_utf8_lossy()
            .into_owned()
    };
    // Names below the current folder (every listed key starts with its prefix).
    let below = |key: &str| key.strip_prefix(prefix).unwrap_or(key).to_owned();
    let folders: Vec<Folder> = listed
        .elements("CommonPrefixes")
        .into_iter()
        .filter_map(|folder| folder.get("Prefix").map(decoded))
        .map(|prefix| Folder {
            name: below(&prefix),
            prefix,
        })
        .collect();
    let objects: Vec<Object> = listed
        .elements("Contents")
        .into_iter()
        .filter_map(|object| {
            let key = decoded(object.get("Key")?);
            Some(Object {
                name: below(&key),
                size: size(object.get("Size").map_or("", String::as_str)),
                modified: object.get("LastModified").map(|t| when(t)).unwrap_or_default(),
                key,
            })
        })
        // The folder object itself (`photos/` in `photos/`) is the page, not a row.
        .filter(|object: &Object| !object.name.is_empty())
        .collect();
    let truncated = listed.text("IsTruncated").is_some_and(|t| t == "true");
    let next = truncated.then(|| listed.text("NextContinuationToken")).flatten();
    Ok((folders, objects, next))
}

#[derive(Deserialize)]
pub struct KeyQuery {
    key: String,
    /// A version of the key (download only); empty: the latest.
    #[serde(default)]
    version: String,
}

impl KeyQuery {
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// The settings an upload may carry on to S3 (as the upload form's script sends them, and as
/// the form without script posts them): tags, and the encryption to use.
const UPLOAD_SETTINGS: [&str; 3] = [
    "x-amz-tagging",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
];

/// The [`UPLOAD_SETTINGS`] a request carries, to forward.
fn upload_settings(headers: &HeaderMap) -> Vec<(&'static str, String)> {
    UPLOAD_SETTINGS
        .into_iter()
        .filter_map(|name| {
            let value = headers.get(name)?.to_str().ok()?.trim();
            (!value.is_empty()).then(|| (name, value.to_owned()))
        })
        .collect()
}

/// Uploads one file: the browser PUTs it here with its length; it streams on to S3's
/// PutObject. (The page's script sends each chosen or dropped file this way, with progress.)
pub async fn upload(
    State(console): State<Console>,
    signed: Signed,
    Path(bucket): Path<String>,
    Query(query): Query<KeyQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(refused) = signed.refuse_forged_header(&headers) {
        return refused;
    }
    let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return crate::page::plain_text(StatusCode::LENGTH_REQUIRED, "Uploads must say how long they are.");
    };
    let mut forwarded = vec![("content-length", length)];
    if let Some(kind) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        forwarded.push(("content-type", kind.to_owned()));
    }
    forwarded.extend(upload_settings(&headers));
    let path = format!("/{}/{}", encode(&bucket, false), encode(&query.key, true));
    match console
        .s3(&signed, Method::PUT, &path, &forwarded, body_from(body))
        .await
        .ok()
        .await
    {
        Ok(reply) => {
            let etag = reply.headers.get(header::ETAG).cloned();
            let mut response = StatusCode::CREATED.into_response();
            if let Some(etag) = etag {
                response.headers_mut().insert(header::ETAG, etag);
            }
            response
        }
        Err(failure) => script_failed("s3:PutObject", &failure),
    }
}

/// A failure told to the upload script: the status, and the reason in words as plain text,
/// which the script shows beside the file (a page of HTML would be unreadable there).
fn script_failed(action: &str, failure: &Failure) -> Response {
    let reason = if failure.code == "AccessDenied" {
        format!("Access denied: your permissions do not allow {action} here.")
    } else {
        format!("{} ({})", failure.message, failure.code)
    };
    (
        failure.status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        reason,
    )
        .into_response()
}

/// Downloads an object, streamed from S3's GetObject, as an attachment.
pub async fn download(
    State(console): State<Console>,
    signed: Signed,
    Path(bucket): Path<String>,
    Query(query): Query<KeyQuery>,
) -> Response {
    let mut path = format!("/{}/{}", encode(&bucket, false), encode(&query.key, true));
    if !query.version.is_empty() {
        path.push_str(&format!("?versionId={}", encode(&query.version, false)));
    }
    let reply = match console
        .s3(&signed, Method::GET, &path, &[], coffer_s3::Body::empty())
        .await
        .ok()
        .await
    {
        Ok(reply) => reply,
        Err(failure) => return s3_failed(&signed, "s3:GetObject", &failure),
    };
    let name = query.key.rsplit('/').next().unwrap_or(&query.key);
    let mut response = Response::new(Body::new(reply.body));
    let headers = response.headers_mut();
    for name in [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::ETAG,
        header::LAST_MODIFIED,
    ] {
        if let Some(value) = reply.headers.get(&name) {
            headers.insert(name, value.clone());
        }
    }
    let disposition = format!("attachment; filename*=UTF-8''{}", encode(name, false));
    if let Ok(value) = disposition.parse() {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[derive(Deserialize)]
pub struct Change {
    csrf: String,
    /// `delete` (an object), `folder` (create one under `prefix`).
    change: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    confirm: String,
    /// The version a version action names.
    #[serde(default)]
    version: String,
    /// Enabled or Suspended, for `versioning`.
    #[serde(default)]
    status: String,
    /// `1`: go back to the versions listing.
    #[serde(default)]
    versions: String,
}

pub async fn change(
    State(console): State<Console>,
    signed: Signed,
    Path(bucket): Path<String>,
    Form(form): Form<Change>,
) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    if matches!(form.change.as_str(), "versioning" | "restore" | "delete-version") {
        return change_version(&console, &signed, &bucket, &form).await;
    }
    let (method, key, action) = match form.change.as_str() {
        "delete" => {
            if form.confirm.trim() != "permanently delete" {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "Nothing was deleted",
                    "To confirm, type “permanently delete”. Go back and try again.",
                );
            }
            (Method::DELETE, form.key.clone(), "s3:DeleteObject")
        }
        "folder" => {
            let name = form.name.trim().trim_matches('/');
            if name.is_empty() {
                return error_page(StatusCode::BAD_REQUEST, "No folder name", "Give the folder a name.");
            }
            (Method::PUT, format!("{}{name}/", form.prefix), "s3:PutObject")
        }
        _ => return crate::page::not_found().await,
    };
    let path = format!("/{}/{}", encode(&bucket, false), encode(&key, true));
    let headers = [("content-length", "0".to_owned())];
    let headers: &[(&str, String)] = if method == Method::PUT { &headers } else { &[] };
    match console
        .s3(&signed, method, &path, headers, coffer_s3::Body::empty())
        .await
        .ok()
        .await
    {
        Ok(_) => {
            let done = if action == "s3:DeleteObject" {
                format!("{} deleted.", form.key)
            } else {
                format!("Folder {key} created.")
            };
            signed.notify(&console, done).await;
            Redirect::to(&format!(
                "/s3/buckets/{}?prefix={}",
                encode(&bucket, false),
                encode(&form.prefix, false)
            ))
            .into_response()
        }
        Err(failure) => s3_failed(&signed, action, &failure),
    }
}

/// The version actions: the bucket's versioning, restoring a version, deleting one for good.
async fn change_version(console: &Console, signed: &Signed, bucket: &str, form: &Change) -> Response {
    let (done, action, outcome) = match form.change.as_str() {
        "versioning" => {
            let status = match form.status.as_str() {
                "Enabled" => "Enabled",
                "Suspended" => "Suspended",
                _ => return crate::page::not_found().await,
            };
            let done = format!("Versioning is now {} on {bucket}.", status.to_lowercase());
            let outcome = crate::versions::set_status(console, signed, bucket, status).await;
            (done, "s3:PutBucketVersioning", outcome)
        }
        "restore" => {
            let done = format!("{} restored: that version is now the latest.", form.key);
            let outcome = crate::versions::restore(console, signed, bucket, &form.key, &form.version).await;
            (done, "s3:PutObject", outcome)
        }
        _ => {
            if form.confirm.trim() != "permanently delete" {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "Nothing was deleted",
                    "To confirm, type “permanently delete”. Go back and try again.",
                );
            }
            let done = format!("A version of {} deleted for good.", form.key);
            let outcome = crate::versions::delete(console, signed, bucket, &form.key, &form.version).await;
            (done, "s3:DeleteObjectVersion", outcome)
        }
    };
    if let Err(failure) = outcome {
        return s3_failed(signed, action, &failure);
    }
    signed.notify(console, done).await;
    let versions = if form.versions == "1" { "&versions=1" } else { "" };
    Redirect::to(&format!(
        "/s3/buckets/{}?prefix={}{versions}",
        encode(bucket, false),
        encode(&form.prefix, false)
    ))
    .into_response()
}

#[derive(Template)]
#[template(path = "object.html")]
struct ObjectPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    bucket: &'a str,
    key: &'a str,
    details: Vec<(String, String)>,
    metadata: Vec<(String, String)>,
    /// `key=value` lines; `None` when the tags cannot be read.
    tags: Option<String>,
    share: Option<Result<crate::share::Link, String>>,
    /// Share links are signed with an IAM user's own key, never the root user's.
    may_share: bool,
}

/// A Tagging document's tags as `key=value` lines.
pub fn tag_lines(xml: &str) -> String {
    let Ok(doc) = roxmltree::Document::parse(xml) else {
        return String::new();
    };
    doc.descendants()
        .filter(|n| n.has_tag_name("Tag"))
        .map(|tag| {
            let text = |name: &str| {
                tag.children()
                    .find(|n| n.has_tag_name(name))
                    .and_then(|n| n.text())
                    .unwrap_or("")
                    .to_owned()
            };
            format!("{}={}", text("Key"), text("Value"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Deserialize)]
pub struct TagsChange {
    csrf: String,
    #[serde(default)]
    tags: String,
}

/// Saves an object's tags (PutObjectTagging; none: DeleteObjectTagging).
pub async fn save_object_tags(
    State(console): State<Console>,
    signed: Signed,
    Path(bucket): Path<String>,
    Query(query): Query<KeyQuery>,
    Form(form): Form<TagsChange>,
) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let path = format!("/{}/{}?tagging", encode(&bucket, false), encode(&query.key, true));
    let (method, body, action) = if form.tags.trim().is_empty() {
        (Method::DELETE, String::new(), "s3:DeleteObjectTagging")
    } else {
        match crate::bucket_settings::tagging_document(&form.tags) {
            Ok(body) => (Method::PUT, body, "s3:PutObjectTagging"),
            Err(why) => return crate::page::plain_text(StatusCode::BAD_REQUEST, &why),
        }
    };
    match console
        .s3(&signed, method, &path, &[], coffer_s3::Body::from(body))
        .await
        .ok()
        .await
    {
        Ok(_) => {
            signed.notify(&console, "Object tags saved.").await;
            Redirect::to(&format!(
                "/s3/buckets/{}/object?key={}",
                encode(&bucket, false),
                encode(&query.key, false)
            ))
            .into_response()
        }
        Err(failure) => s3_failed(&signed, action, &failure),
    }
}

/// An object's details: HeadObject with its checksums.
pub async fn object(
    State(console): State<Console>,
    signed: Signed,
    Path(bucket): Path<String>,
    Query(query): Query<KeyQuery>,
) -> Response {
    object_page(&console, &signed, &bucket, &query.key, None).await
}

/// The details page, with a share link just made (or why none could be).
pub async fn object_page(
    console: &Console,
    signed: &Signed,
    bucket: &str,
    key: &str,
    share: Option<Result<crate::share::Link, String>>,
) -> Response {
    let path = format!("/{}/{}", encode(bucket, false), encode(key, true));
    let checksums = [("x-amz-checksum-mode", "ENABLED".to_owned())];
    let reply = match console
        .s3(signed, Method::HEAD, &path, &checksums, coffer_s3::Body::empty())
        .await
        .ok()
        .await
    {
        Ok(reply) => reply,
        Err(failure) => return s3_failed(signed, "s3:GetObject", &failure),
    };
    let text = |name: &str| reply.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut details = vec![
        ("Size".to_owned(), size(&text("content-length").unwrap_or_default())),
        ("Type".to_owned(), text("content-type").unwrap_or_default()),
        ("Last modified".to_owned(), text("last-modified").unwrap_or_default()),
        ("ETag".to_owned(), text("etag").unwrap_or_default()),
    ];
    for algorithm in ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"] {
        if let Some(value) = text(&format!("x-amz-checksum-{algorithm}")) {
            details.push((format!("Checksum ({})", algorithm.to_uppercase()), value));
        }
    }
    let encryption = match (
        text("x-amz-server-side-encryption").as_deref(),
        text("x-amz-server-side-encryption-aws-kms-key-id"),
    ) {
        (Some("AES256"), _) => "SSE-S3 (AES256)".to_owned(),
        (Some("aws:kms"), Some(key)) => format!("SSE-KMS ({key})"),
        (Some(other), _) => other.to_owned(),
        (None, _) if text("x-amz-server-side-encryption-customer-algorithm").is_some() => "SSE-C".to_owned(),
        (None, _) => "None".to_owned(),
    };
    details.push(("Server-side encryption".to_owned(), encryption));
    let tags = match console
        .s3(
            signed,
            Method::GET,
            &format!("{path}?tagging"),
            &[],
            coffer_s3::Body::empty(),
        )
        .await
        .ok()
        .await
    {
        Ok(reply) => Some(tag_lines(&reply.text().await)),
        Err(_) => None,
    };
    let metadata = reply
        .headers
        .iter()
        .filter_map(|(name, value)| {
            let key = name.as_str().strip_prefix("x-amz-meta-")?;
            Some((key.to_owned(), value.to_str().unwrap_or("").to_owned()))
        })
        .collect();
    render(&ObjectPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        bucket,
        key,
        details,
        metadata,
        tags,
        share,
        may_share: signed.own_user_name().is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size("512"), "512 B");
        assert_eq!(size("1536"), "1.5 KB");
        assert_eq!(size("5368709120"), "5.0 GB");
    }
}

/// Uploads without JavaScript: the page's form posts the chosen files as
/// `multipart/form-data`, which says no file's length; each file is spooled to a temporary
/// file (so memory stays bounded) and then streamed to PutObject with its length.
pub async fn upload_form(
    State(console): State<Console>,
    signed: Signed,
    Path(bucket): Path<String>,
    mut form: axum::extract::Multipart,
) -> Response {
    use tokio::io::AsyncWriteExt;
    /// S3's largest single PUT.
    const MAX_OBJECT: u64 = 5 * 1024 * 1024 * 1024;
    let failed = |why: String| error_page(StatusCode::BAD_REQUEST, "Upload failed", &why);
    let mut csrf = String::new();
    let mut prefix = String::new();
    // The upload settings' fields come before the files, as the page writes them.
    let mut settings = HeaderMap::new();
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => return failed(err.to_string()),
        };
        match field.name() {
            Some("csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("prefix") => prefix = field.text().await.unwrap_or_default(),
            Some(name @ ("tagging" | "encryption" | "kms_key")) => {
                let header = match name {
                    "tagging" => "x-amz-tagging",
                    "encryption" => "x-amz-server-side-encryption",
                    _ => "x-amz-server-side-encryption-aws-kms-key-id",
                };
                if let Ok(value) = http::HeaderValue::from_str(&field.text().await.unwrap_or_default()) {
                    settings.insert(header, value);
                }
            }
            Some("files") => {
                // The token comes before the files in the form: refuse before storing anything.
                if let Some(refused) = signed.refuse_forged(&csrf) {
                    return crate::page::closing(refused);
                }
                let Some(name) = field.file_name().map(str::to_owned).filter(|n| !n.is_empty()) else {
                    continue;
                };
                let kind = field.content_type().map(str::to_owned);
                // A private (0600) file that is removed when dropped, even if the client goes away.
                let spool = match tempfile::NamedTempFile::new() {
                    Ok(spool) => spool,
                    Err(err) => return failed(err.to_string()),
                };
                let written = async {
                    let mut file = tokio::fs::File::from_std(spool.reopen()?);
                    let mut length = 0u64;
                    while let Some(chunk) = field.chunk().await.map_err(std::io::Error::other)? {
                        length += chunk.len() as u64;
                        if length > MAX_OBJECT {
                            return Err(std::io::Error::other("a file may be at most 5 GiB"));
                        }
                        file.write_all(&chunk).await?;
                    }
                    file.flush().await?;
                    Ok::<u64, std::io::Error>(length)
                }
                .await;
                let length = match written {
                    Ok(length) => length,
                    Err(err) => return failed(err.to_string()),
                };
                let key = format!("{prefix}{name}");
                let file = (spool.path(), length, kind);
                if let Err(response) =
                    put_file(&console, &signed, &bucket, &key, file, &upload_settings(&settings)).await
                {
                    return response;
                }
            }
            _ => {}
        }
    }
    if let Some(refused) = signed.refuse_forged(&csrf) {
        return refused;
    }
    Redirect::to(&format!(
        "/s3/buckets/{}?prefix={}",
        encode(&bucket, false),
        encode(&prefix, false)
    ))
    .into_response()
}

/// Streams a spooled file to PutObject.
async fn put_file(
    console: &Console,
    signed: &Signed,
    bucket: &str,
    key: &str,
    (spool, length, kind): (&std::path::Path, u64, Option<String>),
    settings: &[(&'static str, String)],
) -> Result<(), Response> {
    let file = tokio::fs::File::open(spool)
        .await
        .map_err(|err| error_page(StatusCode::INTERNAL_SERVER_ERROR, "Upload failed", &err.to_string()))?;
    let stream = tokio_util::io::ReaderStream::new(file);
    let body = Body::from_stream(stream);
    let mut headers = vec![("content-length", length.to_string())];
    if let Some(kind) = kind {
        headers.push(("content-type", kind));
    }
    headers.extend(settings.iter().cloned());
    let path = format!("/{}/{}", encode(bucket, false), encode(key, true));
    console
        .s3(signed, Method::PUT, &path, &headers, body_from(body))
        .await
        .ok()
        .await
        .map(drop)
        .map_err(|failure| s3_failed(signed, "s3:PutObject", &failure))
}

#[derive(Deserialize)]
pub struct PartQuery {
    key: String,
    #[serde(default)]
    upload: String,
    #[serde(default)]
    part: String,
}

/// Large files from the page's script, in parts (S3's multipart upload, so a 5 GiB file never
/// rides one request): `POST` starts an upload, `PUT` sends a part, `DELETE` aborts.
pub async fn multipart(
    State(console): State<Console>,
    signed: Signed,
    Path(bucket): Path<String>,
    Query(query): Query<PartQuery>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(refused) = signed.refuse_forged_header(&headers) {
        return refused;
    }
    let object = format!("/{}/{}", encode(&bucket, false), encode(&query.key, true));
    let upload = encode(&query.upload, false);
    let (path, forwarded, body, action) = match method {
        Method::POST => {
            let mut forwarded = Vec::new();
            if let Some(kind) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
                forwarded.push(("content-type", kind.to_owned()));
            }
            forwarded.extend(upload_settings(&headers));
            (
                format!("{object}?uploads"),
                forwarded,
                coffer_s3::Body::empty(),
                "s3:PutObject",
            )
        }
        Method::PUT => {
            let Some(length) = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()) else {
                return StatusCode::LENGTH_REQUIRED.into_response();
            };
            let forwarded = vec![("content-length", length.to_owned())];
            let path = format!("{object}?partNumber={}&uploadId={upload}", encode(&query.part, false));
            (path, forwarded, body_from(body), "s3:PutObject")
        }
        Method::DELETE => (
            format!("{object}?uploadId={upload}"),
            Vec::new(),
            coffer_s3::Body::empty(),
            "s3:AbortMultipartUpload",
        ),
        _ => return StatusCode::METHOD_NOT_ALLOWED.into_response(),
    };
    let reply = match console
        .s3(&signed, method.clone(), &path, &forwarded, body)
        .await
        .ok()
        .await
    {
        Ok(reply) => reply,
        Err(failure) => return script_failed(action, &failure),
    };
    match method {
        // The script needs the upload's id, and each part's ETag for the completion.
        Method::POST => {
            let id = reply.results().await.text("UploadId").unwrap_or_default();
            axum::Json(serde_json::json!({ "uploadId": id })).into_response()
        }
        Method::PUT => {
            let etag = reply
                .headers
                .get(header::ETAG)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            axum::Json(serde_json::json!({ "etag": etag })).into_response()
        }
        _ => StatusCode::NO_CONTENT.into_response(),
    }
}

#[derive(Deserialize)]
pub struct Completion {
    parts: Vec<CompletedPart>,
}

#[derive(Deserialize)]
pub struct CompletedPart {
    number: u32,
    etag: String,
}

/// Completes a multipart upload from the script's list of parts.
pub async fn complete_multipart(
    State(console): State<Console>,
    signed: Signed,
    Path(bucket): Path<String>,
    Query(query): Query<PartQuery>,
    headers: HeaderMap,
    axum::Json(completion): axum::Json<Completion>,
) -> Response {
    if let Some(refused) = signed.refuse_forged_header(&headers) {
        return refused;
    }
    let mut xml = String::from("<CompleteMultipartUpload>");
    for part in &completion.parts {
        let etag = part.etag.replace('&', "&amp;").replace('<', "&lt;");
        xml.push_str(&format!(
            "<Part><PartNumber>{}</PartNumber><ETag>{etag}</ETag></Part>",
            part.number
        ));
    }
    xml.push_str("</CompleteMultipartUpload>");
    let path = format!(
        "/{}/{}?uploadId={}",
        encode(&bucket, false),
        encode(&query.key, true),
        encode(&query.upload, false)
    );
    let headers = [("content-length", xml.len().to_string())];
    match console
        .s3(&signed, Method::POST, &path, &headers, coffer_s3::Body::from(xml))
        .await
        .ok()
        .await
    {
        Ok(reply) => {
            // S3 may answer 200 with an error inside: read the body.
            let answer = reply.results().await;
            if let Some(code) = answer.text("Code") {
                let message = answer.text("Message").unwrap_or_default();
                return script_failed(
                    "s3:PutObject",
                    &Failure {
                        status: StatusCode::BAD_REQUEST,
                        code,
                        message,
                    },
                );
            }
            StatusCode::CREATED.into_response()
        }
        Err(failure) => script_failed("s3:PutObject", &failure),
    }
}
