//! GetObject, HeadObject and GetObjectAttributes: one read path (find the object, check the
//! conditions, select a range or part) behind all three.

use s3s::dto::*;
use s3s::{S3Request, S3Response};

use crate::CofferS3;
use crate::checksums::{Algorithm, COMPOSITE};
use crate::encryption::Opening;
use crate::error::{Result, S3Fault};
use crate::headers::{self, ChecksumFields, ReadConditions};
use crate::object_lock::LockHeaders;
use crate::reading::{self, Segment};
use crate::versioning::{check_version_id, reported_version};
use coffer_auth::Caller;
use coffer_store::{Bucket, ObjectData, ObjectMeta};

/// What a GET or HEAD answers for a byte range or part of an object.
struct Selection {
    range: std::ops::Range<u64>,
    content_range: Option<String>,
    /// Checksums describe the whole object (or one part of a composite one).
    checksum: ChecksumFields,
}

/// The `response-*` query overrides of a GET or HEAD.
struct Overrides {
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    content_type: Option<String>,
    expires: Option<Timestamp>,
}

/// GetObjectInput and HeadObjectInput name their overrides alike.
macro_rules! overrides {
    ($input:expr) => {
        Overrides {
            cache_control: $input.response_cache_control,
            content_disposition: $input.response_content_disposition,
            content_encoding: $input.response_content_encoding,
            content_language: $input.response_content_language,
            content_type: $input.response_content_type,
            expires: $input.response_expires,
        }
    };
}

/// What GetObject and HeadObject both answer about an object (GetObject adds the body).
struct Described {
    content_length: i64,
    content_range: Option<String>,
    e_tag: ETag,
    last_modified: Timestamp,
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    content_type: Option<ContentType>,
    expires: Option<Timestamp>,
    metadata: Option<Metadata>,
    checksum: ChecksumFields,
    parts_count: Option<i32>,
    version_id: Option<String>,
    lock: LockHeaders,
    expiration: Option<String>,
    /// `x-amz-storage-class`, which S3 sends for every class but STANDARD.
    storage_class: Option<StorageClass>,
    encryption: crate::encryption::Reported,
}

impl Described {
    fn new(
        reader: Option<&Caller>,
        expiration: Option<String>,
        found: &Found,
        selection: &Selection,
        overrides: Overrides,
        by_part: bool,
        customer: Option<&crate::encryption::CustomerKey>,
    ) -> Described {
        let object = &found.object;
        let h = &object.headers;
        Described {
            expiration,
            lock: LockHeaders::of(reader, &found.bucket, object),
            version_id: reported_version(&found.bucket, &object.version_id),
            content_length: (selection.range.end - selection.range.start) as i64,
            content_range: selection.content_range.clone(),
            e_tag: headers::etag(&object.etag),
            last_modified: Timestamp::from(object.last_modified),
            cache_control: overrides.cache_control.or_else(|| h.cache_control.clone()),
            content_disposition: overrides.content_disposition.or_else(|| h.content_disposition.clone()),
            content_encoding: overrides.content_encoding.or_else(|| h.content_encoding.clone()),
            content_language: overrides.content_language.or_else(|| h.content_language.clone()),
            content_type: overrides
                .content_type
                .or_else(|| h.content_type.clone())
                .and_then(|t| t.parse().ok()),
            expires: overrides
                .expires
                .or_else(|| h.expires.as_deref().and_then(headers::parse_http_date)),
            metadata: headers::metadata(h),
            checksum: selection.checksum.clone(),
            parts_count: match &object.data {
                ObjectData::Parts(parts) if by_part => Some(parts.len() as i32),
                _ => None,
            },
            storage_class: object.storage_class.clone().map(StorageClass::from),
            encryption: crate::encryption::Reported::of(object.encryption.as_ref(), customer),
        }
    }
}

/// GetObjectOutput and HeadObjectOutput have the same header fields.
macro_rules! object_output {
    ($output:ident, $d:expr $(, $field:ident: $value:expr)* $(,)?) => {{
        let d = $d;
        $output {
            accept_ranges: Some("bytes".to_owned()),
            content_length: Some(d.content_length),
            content_range: d.content_range,
            e_tag: Some(d.e_tag),
            last_modified: Some(d.last_modified),
            cache_control: d.cache_control,
            content_disposition: d.content_disposition,
            content_encoding: d.content_encoding,
            content_language: d.content_language,
            content_type: d.content_type,
            expires: d.expires,
            metadata: d.metadata,
            checksum_crc32: d.checksum.crc32,
            checksum_crc32c: d.checksum.crc32c,
            checksum_crc64nvme: d.checksum.crc64nvme,
            checksum_sha1: d.checksum.sha1,
            checksum_sha256: d.checksum.sha256,
            checksum_type: d.checksum.checksum_type,
            parts_count: d.parts_count,
            version_id: d.version_id,
            object_lock_mode: d.lock.mode,
            object_lock_retain_until_date: d.lock.until,
                        object_lock_legal_hold_status: d.lock.legal_hold,
            expiration: d.expiration,
            storage_class: d.storage_class,
            server_side_encryption: d.encryption.server_side_encryption,
            sse_customer_algorithm: d.encryption.sse_customer_algorithm,
            sse_customer_key_md5: d.encryption.sse_customer_key_md5,
            ssekms_key_id: d.encryption.ssekms_key_id,
            bucket_key_enabled: d.encryption.bucket_key_enabled,
            $($field: $value,)*
            ..Default::default()
        }
    }};
}

impl CofferS3 {
    /// `x-amz-expiration` of a read: for the current version only, which the rules expire.
    fn current_expiration(&self, found: &Found) -> Option<String> {
        let object = &found.object;
        object
            .is_latest
            .then(|| self.expiration_header(&found.bucket, object))
            .flatten()
    }
}

/// An object version a read found, with its bucket (which says how versions are reported).
pub(crate) struct Found {
    pub bucket: Bucket,
    pub object: ObjectMeta,
}

impl CofferS3 {
    /// Whether an anonymous caller may do `action` on `bucket`: its policy and ACL decide.
    fn anonymous_may(&self, action: &str, bucket: &Bucket) -> bool {
        let Some(policy) = self.authorizer.bucket_policy(bucket, true) else {
            return false;
        };
        let resource = format!("arn:aws:s3:::{}", bucket.name);
        let request = coffer_auth::Request {
            action,
            resource: &resource,
            resource_account: &bucket.account_id,
            resource_policy: Some(&policy),
            ..coffer_auth::Request::default()
        };
        coffer_auth::authorize_anonymous(&request).is_ok()
    }

    /// The object version a read by `reader` names: `version_id`, or the key's latest. A
    /// missing key or version is `NoSuchKey`/`NoSuchVersion` only to a caller who may list
    /// the bucket (`s3:ListBucket`); to others it is `AccessDenied`, so a read never tells
    /// which keys exist (as S3 documents for GetObject and HeadObject). A delete marker is
    /// S3's `NoSuchKey` (latest) or `MethodNotAllowed` (named by id), saying it is a marker.
    pub(crate) async fn object(
        &self,
        reader: Option<&Caller>,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Found> {
        let version_id = check_version_id(version_id)?;
        let bucket = self.bucket(bucket).await?;
        let object = self
            .store
            .object_version(&bucket.name, key, version_id)
            .await
            .map_err(S3Fault::from)?;
        let may_list = || match reader {
            Some(reader) => reader.may_in_bucket("s3:ListBucket", &bucket, None).is_ok(),
            None => self.anonymous_may("s3:ListBucket", &bucket),
        };
        match object {
            Some(object) if object.is_delete_marker => {
                if version_id.is_none() && !may_list() {
                    return Err(S3Fault::AccessDenied("Access Denied".to_owned()));
                }
                Err(S3Fault::DeleteMarker {
                    version_id: object.version_id,
                    last_modified: object.last_modified,
                    named: version_id.is_some(),
                })
            }
            Some(object) => Ok(Found { bucket, object }),
            None if !may_list() => Err(S3Fault::AccessDenied("Access Denied".to_owned())),
            None if version_id.is_some() => Err(S3Fault::NoSuchVersion),
            None => Err(S3Fault::NoSuchKey),
        }
    }

    /// The byte range a GET or HEAD selects (by `Range` or `partNumber`).
    async fn select(
        &self,
        object: &ObjectMeta,
        range: Option<&Range>,
        part_number: Option<i32>,
        checksum_mode: Option<&ChecksumMode>,
    ) -> Result<Selection> {
        let checksums_wanted = checksum_mode.is_some_and(|m| m.as_str() == ChecksumMode::ENABLED);
        let whole = ChecksumFields::of(object.checksum.as_ref().filter(|_| checksums_wanted));
        match (range, part_number) {
            (Some(_), Some(_)) => Err(S3Fault::InvalidRequest(
                "Cannot specify both Range header and partNumber query parameter".to_owned(),
            )),
            (Some(range), None) => {
                let selected = range.check(object.size).map_err(|_| S3Fault::InvalidRange)?;
                let content_range = format!("bytes {}-{}/{}", selected.start, selected.end - 1, object.size);
                Ok(Selection {
                    range: selected,
                    content_range: Some(content_range),
                    checksum: ChecksumFields::default(),
                })
            }
            (None, Some(number)) => {
                let invalid = || S3Fault::InvalidPartNumber;
                let number = u32::try_from(number).ok().filter(|n| *n >= 1).ok_or_else(invalid)?;
                match &object.data {
                    ObjectData::Blob(_) | ObjectData::Inline { .. } if number == 1 => Ok(Selection {
                        range: 0..object.size,
                        content_range: None,
                        checksum: whole,
                    }),
                    ObjectData::Blob(_) | ObjectData::Inline { .. } => Err(invalid()),
                    ObjectData::Parts(parts) => {
                        let index = parts.iter().position(|p| p.part_number == number).ok_or_else(invalid)?;
                        let start: u64 = parts[..index].iter().map(|p| p.size).sum();
                        let end = start + parts[index].size;
                        let content_range =
                            (end > start).then(|| format!("bytes {}-{}/{}", start, end - 1, object.size));
                        // A part's checksum describes exactly the bytes returned, so S3
                        // sends it with every part GET.
                        let checksum = match (&object.checksum, &parts[index].checksum_value) {
                            (Some(c), Some(value)) => ChecksumFields::of(Some(&coffer_store::ObjectChecksum {
                                value: value.clone(),
                                ..c.clone()
                            })),
                            _ => ChecksumFields::default(),
                        };
                        Ok(Selection {
                            range: start..end,
                            content_range,
                            checksum,
                        })
                    }
                }
            }
            (None, None) => Ok(Selection {
                range: 0..object.size,
                content_range: None,
                checksum: whole,
            }),
        }
    }
}

const MAX_PARTS: i32 = 1000;

/// What GetObject and HeadObject name alike: the object, its conditions and the part of it
/// wanted.
macro_rules! read_request {
    ($input:expr) => {
        ReadRequest {
            bucket: &$input.bucket,
            key: &$input.key,
            version_id: $input.version_id.as_deref(),
            conditions: ReadConditions {
                if_match: $input.if_match.clone(),
                if_none_match: $input.if_none_match.clone(),
                if_modified_since: $input.if_modified_since.clone(),
                if_unmodified_since: $input.if_unmodified_since.clone(),
            },
            range: $input.range.as_ref(),
            part_number: $input.part_number,
            checksum_mode: $input.checksum_mode.as_ref(),
        }
    };
}

struct ReadRequest<'a> {
    bucket: &'a str,
    key: &'a str,
    version_id: Option<&'a str>,
    conditions: ReadConditions,
    range: Option<&'a Range>,
    part_number: Option<i32>,
    checksum_mode: Option<&'a ChecksumMode>,
}

impl CofferS3 {
    /// The one read path of GET and HEAD: the object (as [`CofferS3::object`] finds it for
    /// `reader`), its conditions checked, and the range or part selected.
    async fn read(&self, reader: Option<&Caller>, request: &ReadRequest<'_>) -> Result<(Found, Selection)> {
        let found = self
            .object(reader, request.bucket, request.key, request.version_id)
            .await?;
        request.conditions.check(&found.object)?;
        let selection = self
            .select(&found.object, request.range, request.part_number, request.checksum_mode)
            .await?;
        Ok((found, selection))
    }
}

/// A GET or HEAD answer: 206 when a range or part was selected.
fn answer<T>(output: T, selection: &Selection) -> S3Response<T> {
    let mut response = S3Response::new(output);
    if selection.content_range.is_some() {
        response.status = Some(http::StatusCode::PARTIAL_CONTENT);
    }
    response
}

pub(crate) async fn get_object(s3: &CofferS3, req: S3Request<GetObjectInput>) -> Result<S3Response<GetObjectOutput>> {
    let reader = crate::caller(&req).ok().cloned();
    let input = req.input;
    let request = read_request!(input);
    crate::encryption::refuse_sse_header(&req.headers)?;
    let customer = crate::encryption::customer_key_of!(input)?;
    let secure = reader.as_ref().is_some_and(|r| r.facts().secure_transport);
    // A blob can disappear between reading the row and opening the file when a write
    // replaces the object; the new row then names the new blob, so look again.
    let mut attempts = 0;
    let (found, selection, body) = loop {
        attempts += 1;
        let (found, selection) = s3.read(reader.as_ref(), &request).await?;
        let key = s3
            .opening_key(
                reader.as_ref(),
                Opening::object(&found.bucket.name, &found.object.key),
                found.object.encryption.as_ref(),
                customer.as_ref(),
                secure,
            )
            .await?;
        let segments: Vec<Segment> = reading::segments(&found.object, selection.range.clone(), key.as_ref());
        let Some(lease) = reading::lease(&s3.store, &segments).await else {
            // Replaced between reading its row and leasing its blobs: read it again.
            if attempts < 5 {
                continue;
            }
            return Err(S3Fault::internal("an object kept changing while it was read"));
        };
        match reading::stream(&s3.store, segments, lease).await {
            Ok(body) => break (found, selection, body),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && attempts < 5 => continue,
            Err(err) => return Err(S3Fault::internal(err)),
        }
    };
    let by_part = input.part_number.is_some();
    let expiration = s3.current_expiration(&found);
    let described = Described::new(
        reader.as_ref(),
        expiration,
        &found,
        &selection,
        overrides!(input),
        by_part,
        customer.as_ref(),
    );
    Ok(answer(
        object_output!(
            GetObjectOutput,
            described,
            body: Some(body),
            tag_count: (!found.object.tags.is_empty()).then_some(found.object.tags.len() as i32),
        ),
        &selection,
    ))
}

pub(crate) async fn head_object(
    s3: &CofferS3,
    req: S3Request<HeadObjectInput>,
) -> Result<S3Response<HeadObjectOutput>> {
    let reader = crate::caller(&req).ok().cloned();
    let input = req.input;
    crate::encryption::refuse_sse_header(&req.headers)?;
    let customer = crate::encryption::customer_key_of!(input)?;
    let secure = reader.as_ref().is_some_and(|r| r.facts().secure_transport);
    let (found, selection) = s3.read(reader.as_ref(), &read_request!(input)).await?;
    // SSE-C: HEAD needs the key too, and checks it.
    s3.opening_key(
        reader.as_ref(),
        // The plain bytes' checksums, when asked for, need the key as the bytes do (S3 asks
        // for kms:Decrypt then).
        match input.checksum_mode.is_some() {
            true => Opening::object(&found.bucket.name, &found.object.key),
            false => Opening::metadata(&found.bucket.name, &found.object.key),
        },
        found.object.encryption.as_ref(),
        customer.as_ref(),
        secure,
    )
    .await?;
    let by_part = input.part_number.is_some();
    let expiration = s3.current_expiration(&found);
    let described = Described::new(
        reader.as_ref(),
        expiration,
        &found,
        &selection,
        overrides!(input),
        by_part,
        customer.as_ref(),
    );
    let mut response = answer(object_output!(HeadObjectOutput, described), &selection);
    // S3 counts a tagged object's tags on HEAD too; s3s's HeadObjectOutput has no field for it.
    if !found.object.tags.is_empty() {
        response
            .headers
            .insert("x-amz-tagging-count", http::HeaderValue::from(found.object.tags.len()));
    }
    Ok(response)
}

pub(crate) async fn get_object_attributes(
    s3: &CofferS3,
    req: S3Request<GetObjectAttributesInput>,
) -> Result<S3Response<GetObjectAttributesOutput>> {
    let reader = crate::caller(&req).ok().cloned();
    let input = req.input;
    let found = s3
        .object(reader.as_ref(), &input.bucket, &input.key, input.version_id.as_deref())
        .await?;
    let object = &found.object;
    // S3 asks for the attributes action beside the read one the request was authorized as.
    if let Some(reader) = &reader {
        let (action, keys) = match &input.version_id {
            Some(id) => ("s3:GetObjectVersionAttributes", vec![("s3:VersionId", id.clone())]),
            None => ("s3:GetObjectAttributes", Vec::new()),
        };
        reader.may_in_bucket_with(action, &found.bucket, Some(&input.key), keys)?;
    }
    // An SSE-C object's attributes (its checksums are of the plain bytes) need its key, as S3.
    let secure = reader.as_ref().is_some_and(|r| r.facts().secure_transport);
    let wants_checksum = input
        .object_attributes
        .iter()
        .any(|a| a.as_str().split(',').any(|name| name.trim() == "Checksum"));
    s3.opening_key(
        reader.as_ref(),
        match wants_checksum {
            true => Opening::object(&found.bucket.name, &object.key),
            false => Opening::metadata(&found.bucket.name, &object.key),
        },
        object.encryption.as_ref(),
        crate::encryption::customer_key_of!(input)?.as_ref(),
        secure,
    )
    .await?;
    // The header is a comma-separated list; clients send it as one value or several.
    let names: Vec<&str> = input
        .object_attributes
        .iter()
        .flat_map(|a| a.as_str().split(','))
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect();
    let wanted = |name: &str| names.contains(&name);
    let known = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"];
    if names.is_empty() || names.iter().any(|name| !known.contains(name)) {
        return Err(S3Fault::InvalidArgument("Invalid attribute name specified.".to_owned()));
    }
    let checksum = wanted("Checksum")
        .then(|| {
            let fields = ChecksumFields::of(object.checksum.as_ref());
            (fields.checksum_type.is_some()).then_some(Checksum {
                checksum_crc32: fields.crc32,
                checksum_crc32c: fields.crc32c,
                checksum_crc64nvme: fields.crc64nvme,
                checksum_sha1: fields.sha1,
                checksum_sha256: fields.sha256,
                checksum_type: fields.checksum_type,
            })
        })
        .flatten();
    let object_parts = match (&object.data, wanted("ObjectParts")) {
        (ObjectData::Parts(all), true) => {
            let max_parts = input.max_parts.unwrap_or(MAX_PARTS).clamp(0, MAX_PARTS);
            let marker = input.part_number_marker.unwrap_or(0).max(0);
            let after: Vec<_> = all.iter().filter(|p| p.part_number as i32 > marker).collect();
            let page: Vec<_> = after.iter().take(max_parts as usize).collect();
            let is_truncated = after.len() > page.len();
            // Part checksums are reported for composite objects, whose parts carry them.
            let algorithm = object
                .checksum
                .as_ref()
                .filter(|c| c.checksum_type == COMPOSITE)
                .and_then(|c| Algorithm::parse(&c.algorithm));
            Some(GetObjectAttributesParts {
                is_truncated: Some(is_truncated),
                max_parts: Some(max_parts),
                next_part_number_marker: page.last().map(|p| p.part_number as i32).filter(|_| is_truncated),
                part_number_marker: Some(marker),
                total_parts_count: Some(all.len() as i32),
                parts: Some(
                    page.iter()
                        .map(|p| {
                            let mut part = ObjectPart {
                                part_number: Some(p.part_number as i32),
                                size: Some(p.size as i64),
                                ..Default::default()
                            };
                            let value = p.checksum_value.clone();
                            match algorithm {
                                Some(Algorithm::Crc32) => part.checksum_crc32 = value,
                                Some(Algorithm::Crc32c) => part.checksum_crc32c = value,
                                Some(Algorithm::Crc64Nvme) => part.checksum_crc64nvme = value,
                                Some(Algorithm::Sha1) => part.checksum_sha1 = value,
                                Some(Algorithm::Sha256) => part.checksum_sha256 = value,
                                None => {}
                            }
                            part
                        })
                        .collect(),
                ),
            })
        }
        _ => None,
    };
    Ok(S3Response::new(GetObjectAttributesOutput {
        e_tag: wanted("ETag").then(|| headers::etag(&object.etag)),
        last_modified: Some(Timestamp::from(object.last_modified)),
        object_size: wanted("ObjectSize").then_some(object.size as i64),
        storage_class: wanted("StorageClass")
            .then(|| StorageClass::from(crate::list::class_name(object.storage_class.clone()))),
        checksum,
        object_parts,
        version_id: reported_version(&found.bucket, &object.version_id),
        ..Default::default()
    }))
}
