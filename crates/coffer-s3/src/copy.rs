//! CopyObject and UploadPartCopy: one copy-source path (parse, authorize the read, check
//! the copy-source conditions) and one way of copying bytes.

use s3s::dto::*;
use s3s::{S3Request, S3Response};

use crate::CofferS3;
use crate::body;
use crate::checksums::Algorithm;
use crate::encryption::Opening;
use crate::error::{Result, S3Fault};
use crate::get::Found;
use crate::headers::{self, ChecksumFields, ReadConditions, header_input};
use crate::multipart::{MAX_PART_SIZE, check_part_number, upload_algorithm};
use crate::put::{MAX_SINGLE_UPLOAD, stored_storage_class};
use crate::reading;
use crate::versioning::{reported_version, written_version};
use coffer_auth::Caller;
use coffer_store::{DataKey, NewObject, ObjectAccess, ObjectMeta, WriteCondition};

/// CopyObjectInput and UploadPartCopyInput name their copy-source conditions alike.
macro_rules! copy_source_conditions {
    ($input:expr) => {
        ReadConditions {
            if_match: $input.copy_source_if_match,
            if_none_match: $input.copy_source_if_none_match,
            if_modified_since: $input.copy_source_if_modified_since,
            if_unmodified_since: $input.copy_source_if_unmodified_since,
        }
    };
}

/// The SSE-C key a copy names its source's bytes with (`x-amz-copy-source-server-side-
/// encryption-customer-*`; CopyObject and UploadPartCopy name them alike).
macro_rules! copy_source_customer_key {
    ($input:expr) => {
        $crate::encryption::customer_key(
            $input.copy_source_sse_customer_algorithm.as_deref(),
            $input.copy_source_sse_customer_key.as_deref(),
            $input.copy_source_sse_customer_key_md5.as_deref(),
        )
    };
}

/// The object a copy reads: the `x-amz-copy-source` named (a bucket's object, its latest
/// version or the one `?versionId=` names), which the caller may read (`s3:GetObject`, or
/// `s3:GetObjectVersion` for a version named by id), meeting the copy-source conditions.
async fn copy_source(s3: &CofferS3, caller: &Caller, source: &CopySource, conditions: ReadConditions) -> Result<Found> {
    let CopySource::Bucket {
        bucket,
        key,
        version_id,
    } = source
    else {
        return Err(S3Fault::NotImplemented(
            "Copying from access points is not implemented".to_owned(),
        ));
    };
    let version_id = version_id.as_deref();
    let action = match version_id {
        Some(_) => "s3:GetObjectVersion",
        None => "s3:GetObject",
    };
    // Found first, so that its owner, ACL and tags take part in the decision; a source
    // that is not there answers as a read does (NoSuchKey only to who may list the bucket).
    let source = match s3.object(Some(caller), bucket, key, version_id).await {
        Err(S3Fault::DeleteMarker { named: true, .. }) => {
            caller.may_in_bucket(action, &s3.bucket(bucket).await?, Some(key))?;
            return Err(S3Fault::InvalidRequest(
                "The source of a copy request may not specifically refer to a delete marker by version id.".to_owned(),
            ));
        }
        other => other?,
    };
    let existing_tags: Vec<(String, String)> = source
        .object
        .tags
        .iter()
        .map(|tag| (format!("s3:ExistingObjectTag/{}", tag.key), tag.value.clone()))
        .collect();
    let keys = version_id
        .map(|v| ("s3:VersionId", v.to_owned()))
        .into_iter()
        .chain(existing_tags.iter().map(|(k, v)| (k.as_str(), v.clone())))
        .collect();
    let access = ObjectAccess {
        owner: source
            .object
            .acl
            .owner
            .clone()
            .unwrap_or_else(|| source.bucket.account_id.clone()),
        acl: source.object.acl.grants.clone(),
    };
    caller.may_on_object(action, &source.bucket, key, &access, keys)?;
    conditions.check_copy_source(&source.object)?;
    Ok(source)
}

impl CofferS3 {
    /// Copies `range` of an object's bytes (opened with `source_key` when it is encrypted)
    /// into a new temp blob (sealed by `sealing` when the copy is encrypted), hashing them on
    /// the way.
    pub(crate) async fn copy_bytes(
        &self,
        source: &ObjectMeta,
        source_key: Option<&DataKey>,
        range: std::ops::Range<u64>,
        algorithms: &[Algorithm],
        sealing: Option<&DataKey>,
    ) -> Result<body::Received> {
        let segments = reading::segments(source, range.clone(), source_key);
        // A source replaced since it was read: SDKs retry an InternalError.
        let lease = reading::lease(&self.store, &segments)
            .await
            .ok_or_else(|| S3Fault::internal("the copy source changed while it was read"))?;
        let stream = reading::stream(&self.store, segments, lease).await.map_err(|err| {
            // A source replaced since it was read: SDKs retry an InternalError.
            match err.kind() {
                std::io::ErrorKind::NotFound => S3Fault::internal("the copy source changed while it was read"),
                _ => S3Fault::internal(format!("the copy source could not be read: {err}")),
            }
        })?;
        let declared = Some((range.end - range.start) as i64);
        body::receive(
            &self.store,
            self.idle_timeout,
            Some(stream),
            declared,
            u64::MAX,
            algorithms,
            sealing,
        )
        .await
        // A short read here is the server's fault, not the client's.
        .map_err(|err| {
            if matches!(err, S3Fault::IncompleteBody) {
                S3Fault::internal("a copy source ended early")
            } else {
                err
            }
        })
    }
}

pub(crate) async fn copy_object(
    s3: &CofferS3,
    req: S3Request<CopyObjectInput>,
) -> Result<S3Response<CopyObjectOutput>> {
    let caller = crate::caller(&req)?.clone();
    let input = req.input;
    s3.bucket(&input.bucket).await?;
    let Found {
        bucket: source_bucket,
        object: source,
    } = copy_source(s3, &caller, &input.copy_source, copy_source_conditions!(input)).await?;
    let secure = caller.facts().secure_transport;
    let source_key = s3
        .opening_key(
            Some(&caller),
            Opening::object(&source_bucket.name, &source.key),
            source.encryption.as_ref(),
            copy_source_customer_key!(input)?.as_ref(),
            secure,
        )
        .await?;
    // A copy is STANDARD unless it names its class, as S3's are.
    let storage_class = stored_storage_class(input.storage_class.as_ref())?;
    crate::put::refuse_website_redirect(input.website_redirect_location.as_ref())?;
    // The copy takes the lock its request asks for (or the bucket's default), never the source's.
    let target = s3.bucket(&input.bucket).await?;
    // The copy's owner and ACL are the request's, never the source's.
    let (canned, grant_headers) = crate::acl::object_acl_input!(input);
    let acl = s3.requested_acl(canned, grant_headers).await?;
    let acl = s3.new_object_acl(&target, Some(&caller.principal().account_id), acl.as_ref())?;
    let lock = crate::object_lock::lock_input!(&target, input)?;
    crate::object_lock::may_lock(Some(&caller), &target, &input.key, &lock)?;
    // Tags are the source's (COPY, the default) or the request's (REPLACE).
    let tags = match input.tagging_directive.as_ref().map(|d| d.as_str()) {
        None | Some("COPY") => source.tags.clone(),
        Some("REPLACE") => crate::tagging::from_header(input.tagging.as_deref())?,
        Some(_) => return Err(S3Fault::InvalidArgument("Unknown tagging directive.".to_owned())),
    };
    crate::tagging::may_tag(Some(&caller), &target, &input.key, &tags)?;
    if source.size > MAX_SINGLE_UPLOAD {
        return Err(S3Fault::InvalidRequest(
            "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120"
                .to_owned(),
        ));
    }
    let replace = match input.metadata_directive.as_ref().map(|d| d.as_str()) {
        None | Some("COPY") => false,
        Some("REPLACE") => true,
        Some(_) => return Err(S3Fault::InvalidArgument("Unknown metadata directive.".to_owned())),
    };
    // Copying a version named by id onto its own key is how S3 restores an old version.
    let names_version = matches!(
        &input.copy_source,
        CopySource::Bucket {
            version_id: Some(_),
            ..
        }
    );
    let same_object = source.bucket == input.bucket && source.key == input.key && !names_version;
    let changes_something = replace
        || input.storage_class.is_some()
        || input.checksum_algorithm.is_some()
        || input.server_side_encryption.is_some()
        || input.sse_customer_algorithm.is_some();
    // The copy is encrypted as its own request asks (or its bucket's default), never as the
    // source was.
    let asked = crate::encryption::asked!(input);
    let customer = asked.customer.clone();
    let encryption = s3
        .plan_encryption(Some(&caller), &target, &input.key, asked, secure)
        .await?;
    if same_object && !changes_something {
        return Err(S3Fault::InvalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.".to_owned()));
    }
    let object_headers = if replace {
        header_input!(input).into_headers()?
    } else {
        source.headers.clone()
    };
    let algorithm = input
        .checksum_algorithm
        .as_ref()
        .and_then(|a| Algorithm::parse(a.as_str()))
        .or_else(|| source.checksum.as_ref().and_then(|c| Algorithm::parse(&c.algorithm)))
        .unwrap_or(Algorithm::Crc64Nvme);
    let received = s3
        .copy_bytes(
            &source,
            source_key.as_ref(),
            0..source.size,
            &[algorithm],
            encryption.key.as_ref(),
        )
        .await?;
    let checksum = headers::full_object(algorithm, received.digests.base64(algorithm).unwrap_or_default());
    let object = NewObject {
        key: input.key.clone(),
        size: received.size,
        etag: crate::encryption::etag_for(
            encryption.stored.as_ref(),
            encryption.key.as_ref(),
            received.digests.etag(),
        ),
        headers: object_headers,
        checksum: Some(checksum),
        lock,
        tags,
        acl,
        storage_class,
        encryption: encryption.stored,
    };
    let stored = s3
        .commit_received(&input.bucket, object, received, WriteCondition::Always)
        .await?;
    let fields = ChecksumFields::of(stored.checksum.as_ref());
    let reported = crate::encryption::Reported::of(stored.encryption.as_ref(), customer.as_ref());
    Ok(S3Response::new(CopyObjectOutput {
        server_side_encryption: reported.server_side_encryption,
        sse_customer_algorithm: reported.sse_customer_algorithm,
        sse_customer_key_md5: reported.sse_customer_key_md5,
        ssekms_key_id: reported.ssekms_key_id,
        bucket_key_enabled: reported.bucket_key_enabled,
        ssekms_encryption_context: reported.ssekms_encryption_context,
        copy_source_version_id: reported_version(&source_bucket, &source.version_id),
        version_id: written_version(&stored.version_id),
        expiration: s3.expiration_header(&target, &stored),
        copy_object_result: Some(CopyObjectResult {
            e_tag: Some(headers::etag(&stored.etag)),
            last_modified: Some(Timestamp::from(stored.last_modified)),
            checksum_crc32: fields.crc32,
            checksum_crc32c: fields.crc32c,
            checksum_crc64nvme: fields.crc64nvme,
            checksum_sha1: fields.sha1,
            checksum_sha256: fields.sha256,
            checksum_type: fields.checksum_type,
        }),
        ..Default::default()
    }))
}

pub(crate) async fn upload_part_copy(
    s3: &CofferS3,
    req: S3Request<UploadPartCopyInput>,
) -> Result<S3Response<UploadPartCopyOutput>> {
    let caller = crate::caller(&req)?.clone();
    let input = req.input;
    let number = check_part_number(input.part_number)?;
    let upload = s3.upload_of(&input.bucket, &input.key, &input.upload_id).await?;
    let Found {
        bucket: source_bucket,
        object: source,
    } = copy_source(s3, &caller, &input.copy_source, copy_source_conditions!(input)).await?;
    let range = match &input.copy_source_range {
        None => 0..source.size,
        Some(text) => copy_range(text, source.size)?,
    };
    if range.end - range.start > MAX_PART_SIZE {
        return Err(S3Fault::EntityTooLarge);
    }
    let mut algorithms = vec![Algorithm::Crc64Nvme];
    algorithms.extend(upload_algorithm(&upload));
    let secure = caller.facts().secure_transport;
    let source_key = s3
        .opening_key(
            Some(&caller),
            Opening::object(&source_bucket.name, &source.key),
            source.encryption.as_ref(),
            copy_source_customer_key!(input)?.as_ref(),
            secure,
        )
        .await?;
    let customer = crate::encryption::customer_key_of!(input)?;
    let key = s3
        .opening_key(
            Some(&caller),
            Opening::part(&upload.bucket, &upload.key),
            upload.encryption.as_ref(),
            customer.as_ref(),
            secure,
        )
        .await?;
    let received = s3
        .copy_bytes(&source, source_key.as_ref(), range, &algorithms, key.as_ref())
        .await?;
    let (etag, fields) = s3.record_part(&upload, number, received, key.as_ref()).await?;
    let reported = crate::encryption::Reported::of(upload.encryption.as_ref(), customer.as_ref());
    Ok(S3Response::new(UploadPartCopyOutput {
        server_side_encryption: reported.server_side_encryption,
        sse_customer_algorithm: reported.sse_customer_algorithm,
        sse_customer_key_md5: reported.sse_customer_key_md5,
        ssekms_key_id: reported.ssekms_key_id,
        bucket_key_enabled: reported.bucket_key_enabled,
        copy_source_version_id: reported_version(&source_bucket, &source.version_id),
        copy_part_result: Some(CopyPartResult {
            e_tag: Some(headers::etag(&etag)),
            last_modified: Some(Timestamp::from(time::OffsetDateTime::now_utc())),
            checksum_crc32: fields.crc32,
            checksum_crc32c: fields.crc32c,
            checksum_crc64nvme: fields.crc64nvme,
            checksum_sha1: fields.sha1,
            checksum_sha256: fields.sha256,
        }),
        ..Default::default()
    }))
}

/// Parses `x-amz-copy-source-range: bytes=first-last` against the source's size.
fn copy_range(text: &str, size: u64) -> Result<std::ops::Range<u64>> {
    let invalid = || {
        S3Fault::InvalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy".to_owned())
    };
    let spec = text.strip_prefix("bytes=").ok_or_else(invalid)?;
    let (first, last) = spec.split_once('-').ok_or_else(invalid)?;
    let first: u64 = first.trim().parse().map_err(|_| invalid())?;
    let last: u64 = last.trim().parse().map_err(|_| invalid())?;
    if first > last {
        return Err(invalid());
    }
    if last >= size {
        return Err(S3Fault::InvalidRange);
    }
    Ok(first..last + 1)
}

#[cfg(test)]
mod tests {
    use super::copy_range;

    #[test]
    fn copy_ranges_are_inclusive_and_bounded() {
        assert_eq!(copy_range("bytes=0-9", 10).unwrap(), 0..10);
        assert_eq!(copy_range("bytes=5-5", 10).unwrap(), 5..6);
        assert!(copy_range("bytes=5-10", 10).is_err());
        assert!(copy_range("bytes=6-5", 10).is_err());
        assert!(copy_range("0-5", 10).is_err());
        assert!(copy_range("bytes=a-5", 10).is_err());
    }
}
