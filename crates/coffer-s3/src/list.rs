//! ListObjectsV2, ListObjects (v1) and ListObjectVersions, over the store's seeking listing
//! walk.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use s3s::dto::*;
use s3s::{S3Request, S3Response};

use crate::error::{Result, S3Fault};
use crate::versioning::check_version_id;
use std::collections::HashMap;

use crate::CofferS3;
use coffer_store::StoreError;
use coffer_store::listing::{ListEntry, ListPage, ListQuery};

const MAX_KEYS: i32 = 1000;

/// `encoding-type=url`: everything but unreserved characters and `/` is percent-encoded.
pub(crate) const URL_ENCODED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// How names are written into a listing.
struct Encoder {
    url: bool,
}

impl Encoder {
    fn new(encoding: Option<&EncodingType>) -> Result<Encoder> {
        match encoding.map(|e| e.as_str()) {
            None => Ok(Encoder { url: false }),
            Some(e) if e.eq_ignore_ascii_case("url") => Ok(Encoder { url: true }),
            Some(_) => Err(S3Fault::InvalidArgument(
                "Invalid Encoding Method specified in Request".to_owned(),
            )),
        }
    }

    fn encode(&self, name: &str) -> String {
        if self.url {
            utf8_percent_encode(name, URL_ENCODED).to_string()
        } else {
            name.to_owned()
        }
    }

    fn encode_opt(&self, name: Option<&String>) -> Option<String> {
        name.map(|n| self.encode(n))
    }
}

fn max_keys(requested: Option<i32>) -> Result<usize> {
    match requested {
        Some(n) if n < 0 => Err(S3Fault::InvalidArgument(
            "max-keys must be a non-negative integer".to_owned(),
        )),
        Some(n) => Ok(n.min(MAX_KEYS) as usize),
        None => Ok(MAX_KEYS as usize),
    }
}

struct Listed {
    contents: Vec<Object>,
    common_prefixes: Vec<CommonPrefix>,
    last: Option<String>,
    is_truncated: bool,
}

/// Each owning account a page names, as an `Owner` element; objects without one are the
/// bucket owner's.
pub(crate) struct Owners {
    bucket_owner: String,
    by_account: HashMap<String, Owner>,
}

impl Owners {
    /// An account the page did not name (under BucketOwnerEnforced, none) is the bucket
    /// owner's.
    pub(crate) fn of(&self, account: Option<&String>) -> Option<Owner> {
        let account = account.filter(|a| self.by_account.contains_key(*a));
        self.by_account.get(account.unwrap_or(&self.bucket_owner)).cloned()
    }
}

impl CofferS3 {
    /// The owners a page names; under BucketOwnerEnforced the bucket owner owns them all.
    pub(crate) async fn owners(&self, bucket: &coffer_store::Bucket, named: Vec<String>) -> Result<Owners> {
        let bucket_owner = bucket.account_id.as_str();
        let named = if bucket.acls_enabled() { named } else { Vec::new() };
        let mut by_account = HashMap::new();
        by_account.insert(bucket_owner.to_owned(), self.owner_of(bucket_owner).await?);
        for account in named {
            if !by_account.contains_key(&account) {
                let owner = self.owner_of(&account).await?;
                by_account.insert(account, owner);
            }
        }
        Ok(Owners {
            bucket_owner: bucket_owner.to_owned(),
            by_account,
        })
    }
}

/// The storage class a listing reports (`None` was written as STANDARD).
pub(crate) fn class_name(class: Option<String>) -> String {
    class.unwrap_or_else(|| "STANDARD".to_owned())
}

fn split(page: ListPage, encoder: &Encoder, owners: Option<&Owners>) -> Listed {
    let last = page.entries.last().map(|e| e.name().to_owned());
    let mut contents = Vec::new();
    let mut common_prefixes = Vec::new();
    for entry in page.entries {
        match entry {
            ListEntry::Object(object) => contents.push(Object {
                key: Some(encoder.encode(&object.key)),
                size: Some(object.size as i64),
                e_tag: Some(crate::headers::etag(&object.etag)),
                last_modified: Some(Timestamp::from(object.last_modified)),
                storage_class: Some(ObjectStorageClass::from(class_name(object.storage_class))),
                checksum_algorithm: object.checksum_algorithm.map(|a| vec![ChecksumAlgorithm::from(a)]),
                checksum_type: object.checksum_type.map(ChecksumType::from),
                owner: owners.and_then(|owners| owners.of(object.owner.as_ref())),
                restore_status: None,
            }),
            ListEntry::CommonPrefix(prefix) => common_prefixes.push(CommonPrefix {
                prefix: Some(encoder.encode(&prefix)),
            }),
        }
    }
    Listed {
        contents,
        common_prefixes,
        last,
        is_truncated: page.is_truncated,
    }
}

/// What the three listings ask of the one listing walk.
struct Walk<'a> {
    bucket: &'a str,
    encoding: Option<&'a EncodingType>,
    max_keys: Option<i32>,
    prefix: &'a str,
    delimiter: Option<&'a str>,
    after: Option<&'a str>,
    with_owner: bool,
}

/// The listing inputs name their common fields alike: `walk!(s3, input, after, with_owner)`.
macro_rules! walk {
    ($s3:expr, $input:expr, $after:expr, $with_owner:expr) => {
        $s3.walk(Walk {
            bucket: &$input.bucket,
            encoding: $input.encoding_type.as_ref(),
            max_keys: $input.max_keys,
            prefix: $input.prefix.as_deref().unwrap_or(""),
            delimiter: $input.delimiter.as_deref(),
            after: $after,
            with_owner: $with_owner,
        })
    };
}

impl CofferS3 {
    /// The one listing walk behind ListObjects, ListObjectsV2 and ListObjectVersions: the
    /// bucket, how names are written, the page size, and the page.
    async fn walk(&self, walk: Walk<'_>) -> Result<(coffer_store::Bucket, Encoder, usize, Listed)> {
        let bucket = self.bucket(walk.bucket).await?;
        let encoder = Encoder::new(walk.encoding)?;
        let max_keys = max_keys(walk.max_keys)?;
        let query = ListQuery {
            prefix: walk.prefix,
            delimiter: walk.delimiter,
            after: walk.after,
            after_version: None,
            max_keys,
        };
        let page = self.store.list_objects(&bucket.name, &query).await?;
        let owners = match walk.with_owner {
            true => {
                let named = page
                    .entries
                    .iter()
                    .filter_map(|entry| match entry {
                        ListEntry::Object(object) => object.owner.clone(),
                        ListEntry::CommonPrefix(_) => None,
                    })
                    .collect();
                Some(self.owners(&bucket, named).await?)
            }
            false => None,
        };
        let listed = split(page, &encoder, owners.as_ref());
        Ok((bucket, encoder, max_keys, listed))
    }
}

pub(crate) async fn list_objects_v2(
    s3: &CofferS3,
    req: S3Request<ListObjectsV2Input>,
) -> Result<S3Response<ListObjectsV2Output>> {
    let input = req.input;
    let cursor = match &input.continuation_token {
        Some(token) => Some(
            URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| S3Fault::InvalidArgument("The continuation token provided is incorrect".to_owned()))?,
        ),
        None => input.start_after.clone(),
    };
    let prefix = input.prefix.as_deref().unwrap_or("");
    let with_owner = input.fetch_owner == Some(true);
    let (bucket, encoder, max_keys, listed) = walk!(s3, input, cursor.as_deref(), with_owner).await?;
    let key_count = (listed.contents.len() + listed.common_prefixes.len()) as i32;
    let next_continuation_token = if listed.is_truncated {
        listed.last.as_ref().map(|last| URL_SAFE_NO_PAD.encode(last))
    } else {
        None
    };
    Ok(S3Response::new(ListObjectsV2Output {
        name: Some(bucket.name),
        prefix: Some(encoder.encode(prefix)),
        max_keys: Some(max_keys as i32),
        key_count: Some(key_count),
        continuation_token: input.continuation_token,
        is_truncated: Some(listed.is_truncated),
        next_continuation_token,
        contents: Some(listed.contents),
        common_prefixes: Some(listed.common_prefixes),
        delimiter: encoder.encode_opt(input.delimiter.as_ref().filter(|d| !d.is_empty())),
        encoding_type: input.encoding_type,
        start_after: encoder.encode_opt(input.start_after.as_ref()),
        request_charged: None,
    }))
}

pub(crate) async fn list_objects(
    s3: &CofferS3,
    req: S3Request<ListObjectsInput>,
) -> Result<S3Response<ListObjectsOutput>> {
    let input = req.input;
    let prefix = input.prefix.as_deref().unwrap_or("");
    let marker = input.marker.as_deref().filter(|m| !m.is_empty());
    let (bucket, encoder, max_keys, listed) = walk!(s3, input, marker, true).await?;
    // S3 returns NextMarker only when a delimiter was given; without one, clients resume
    // after the last key.
    let next_marker = (listed.is_truncated && input.delimiter.is_some())
        .then(|| listed.last.as_ref().map(|last| encoder.encode(last)))
        .flatten();
    Ok(S3Response::new(ListObjectsOutput {
        name: Some(bucket.name),
        prefix: Some(encoder.encode(prefix)),
        marker: Some(encoder.encode(input.marker.as_deref().unwrap_or(""))),
        max_keys: Some(max_keys as i32),
        is_truncated: Some(listed.is_truncated),
        contents: Some(listed.contents),
        common_prefixes: Some(listed.common_prefixes),
        delimiter: encoder.encode_opt(input.delimiter.as_ref().filter(|d| !d.is_empty())),
        next_marker,
        encoding_type: input.encoding_type,
        request_charged: None,
    }))
}

pub(crate) async fn list_object_versions(
    s3: &CofferS3,
    req: S3Request<ListObjectVersionsInput>,
) -> Result<S3Response<ListObjectVersionsOutput>> {
    let input = req.input;
    let bucket = s3.bucket(&input.bucket).await?;
    let encoder = Encoder::new(input.encoding_type.as_ref())?;
    let max_keys = max_keys(input.max_keys)?;
    let prefix = input.prefix.as_deref().unwrap_or("");
    let key_marker = input.key_marker.as_deref().filter(|m| !m.is_empty());
    let version_marker = input.version_id_marker.as_deref().filter(|m| !m.is_empty());
    if version_marker.is_some() && key_marker.is_none() {
        return Err(S3Fault::InvalidArgument(
            "A version-id marker cannot be specified without a key marker.".to_owned(),
        ));
    }
    check_version_id(version_marker)?;
    let query = ListQuery {
        prefix,
        delimiter: input.delimiter.as_deref(),
        after: key_marker,
        after_version: None,
        max_keys,
    };
    let page = match s3
        .store
        .list_object_versions(&bucket.name, &query, version_marker)
        .await
    {
        Err(StoreError::NoSuchVersion) => {
            return Err(S3Fault::InvalidArgument("Invalid version id specified".to_owned()));
        }
        other => other.map_err(S3Fault::from)?,
    };
    let named = page
        .entries
        .iter()
        .filter_map(|entry| match entry {
            ListEntry::Object(version) => version.owner.clone(),
            ListEntry::CommonPrefix(_) => None,
        })
        .collect();
    let owners = s3.owners(&bucket, named).await?;
    let (next_key_marker, next_version_id_marker) = match page.entries.last() {
        Some(ListEntry::Object(last)) if page.is_truncated => {
            (Some(encoder.encode(&last.key)), Some(last.version_id.clone()))
        }
        Some(ListEntry::CommonPrefix(last)) if page.is_truncated => (Some(encoder.encode(last)), None),
        _ => (None, None),
    };
    let mut versions = Vec::new();
    let mut delete_markers = Vec::new();
    let mut common_prefixes = Vec::new();
    for entry in page.entries {
        let version = match entry {
            ListEntry::Object(version) => version,
            ListEntry::CommonPrefix(prefix) => {
                common_prefixes.push(CommonPrefix {
                    prefix: Some(encoder.encode(&prefix)),
                });
                continue;
            }
        };
        if version.is_delete_marker {
            delete_markers.push(DeleteMarkerEntry {
                is_latest: Some(version.is_latest),
                key: Some(encoder.encode(&version.key)),
                last_modified: Some(Timestamp::from(version.last_modified)),
                owner: owners.of(version.owner.as_ref()),
                version_id: Some(version.version_id),
            });
            continue;
        }
        versions.push(ObjectVersion {
            checksum_algorithm: version.checksum_algorithm.map(|a| vec![ChecksumAlgorithm::from(a)]),
            checksum_type: version.checksum_type.map(ChecksumType::from),
            e_tag: Some(crate::headers::etag(&version.etag)),
            is_latest: Some(version.is_latest),
            key: Some(encoder.encode(&version.key)),
            last_modified: Some(Timestamp::from(version.last_modified)),
            owner: owners.of(version.owner.as_ref()),
            restore_status: None,
            size: Some(version.size as i64),
            storage_class: Some(ObjectVersionStorageClass::from(class_name(version.storage_class))),
            version_id: Some(version.version_id),
        });
    }
    Ok(S3Response::new(ListObjectVersionsOutput {
        name: Some(bucket.name),
        prefix: Some(encoder.encode(prefix)),
        key_marker: Some(encoder.encode(input.key_marker.as_deref().unwrap_or(""))),
        version_id_marker: Some(input.version_id_marker.unwrap_or_default()),
        max_keys: Some(max_keys as i32),
        is_truncated: Some(page.is_truncated),
        next_key_marker,
        next_version_id_marker,
        versions: Some(versions),
        delete_markers: Some(delete_markers),
        common_prefixes: Some(common_prefixes),
        delimiter: encoder.encode_opt(input.delimiter.as_ref().filter(|d| !d.is_empty())),
        encoding_type: input.encoding_type,
        request_charged: None,
    }))
}
