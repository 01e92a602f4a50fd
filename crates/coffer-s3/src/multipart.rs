//! CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload,
//! AbortMultipartUpload, ListParts, ListMultipartUploads.

use s3s::dto::*;
use s3s::{S3Request, S3Response};

use crate::body::{self, ChecksumClaim, checksum_headers};
use crate::checksums::{self, Algorithm, COMPOSITE, FULL_OBJECT};
use crate::encryption::Opening;
use crate::error::{Result, S3Fault};
use crate::headers::{self, ChecksumFields, header_input};
use crate::list::class_name;
use crate::put::{MAX_SINGLE_UPLOAD, stored_storage_class};
use crate::{CofferS3, caller};
use coffer_store::{NewObject, ObjectChecksum, ObjectPart, Upload};

/// Parts are numbered 1 to 10,000; each but the last holds at least 5 MiB; none more than 5 GiB.
const MAX_PART_NUMBER: i32 = 10_000;
const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
pub(crate) const MAX_PART_SIZE: u64 = MAX_SINGLE_UPLOAD;
const MAX_LISTED: i32 = 1000;

pub(crate) fn check_part_number(number: i32) -> Result<u32> {
    if (1..=MAX_PART_NUMBER).contains(&number) {
        Ok(number as u32)
    } else {
        Err(part_number_out_of_range())
    }
}

fn part_number_out_of_range() -> S3Fault {
    S3Fault::InvalidArgument("Part number must be an integer between 1 and 10000, inclusive".to_owned())
}

pub(crate) fn upload_algorithm(upload: &Upload) -> Option<Algorithm> {
    upload.checksum_algorithm.as_deref().and_then(Algorithm::parse)
}

/// The part checksum fields of `value` in `algorithm`.
fn part_checksum(algorithm: Option<Algorithm>, value: Option<&String>) -> ChecksumFields {
    let checksum = algorithm.zip(value).map(|(algorithm, value)| ObjectChecksum {
        algorithm: algorithm.name().to_owned(),
        checksum_type: String::new(),
        value: value.clone(),
    });
    let mut fields = ChecksumFields::of(checksum.as_ref());
    fields.checksum_type = None;
    fields
}

fn completed_part_checksum(part: &CompletedPart, algorithm: Algorithm) -> Option<&String> {
    match algorithm {
        Algorithm::Crc32 => part.checksum_crc32.as_ref(),
        Algorithm::Crc32c => part.checksum_crc32c.as_ref(),
        Algorithm::Crc64Nvme => part.checksum_crc64nvme.as_ref(),
        Algorithm::Sha1 => part.checksum_sha1.as_ref(),
        Algorithm::Sha256 => part.checksum_sha256.as_ref(),
    }
}

impl CofferS3 {
    pub(crate) async fn upload_of(&self, bucket: &str, key: &str, upload_id: &str) -> Result<Upload> {
        self.bucket(bucket).await?;
        self.store
            .upload(bucket, key, upload_id)
            .await
            .map_err(S3Fault::from)?
            .ok_or(S3Fault::NoSuchUpload)
    }

    /// Makes a received part durable and records it in its upload.
    pub(crate) async fn record_part(
        &self,
        upload: &Upload,
        number: u32,
        received: body::Received,
        key: Option<&coffer_store::DataKey>,
    ) -> Result<(String, ChecksumFields)> {
        let algorithm = upload_algorithm(upload);
        let checksum_value = algorithm.and_then(|a| received.digests.base64(a));
        let crc64nvme = received.digests.base64(Algorithm::Crc64Nvme).unwrap_or_default();
        let etag = crate::encryption::etag_for(upload.encryption.as_ref(), key, received.digests.etag());
        let size = received.size;
        // In a task of its own, so a client that disconnects now leaves no unnamed blob.
        let store = self.store.clone();
        let upload_id = upload.upload_id.clone();
        let part_etag = etag.clone();
        let stored = tokio::spawn(async move {
            let blob_id = received.finish().await?;
            let part = ObjectPart {
                part_number: number,
                blob_id,
                size,
                etag: part_etag,
                checksum_value,
            };
            store
                .put_part(&upload_id, part, &crc64nvme)
                .await
                .map_err(S3Fault::from)
        })
        .await
        .map_err(S3Fault::internal)??;
        Ok((etag, part_checksum(algorithm, stored.part.checksum_value.as_ref())))
    }

    /// A completion retried after it succeeded (its response lost) succeeds again while the
    /// object it made is still there, as in S3; otherwise `err` (NoSuchUpload) stands.
    async fn completed_again(
        &self,
        input: &CompleteMultipartUploadInput,
        err: S3Fault,
    ) -> Result<S3Response<CompleteMultipartUploadOutput>> {
        let etag = self
            .store
            .completed_upload(&input.bucket, &input.key, &input.upload_id)
            .await
            .map_err(S3Fault::from)?;
        let current = self
            .store
            .object(&input.bucket, &input.key)
            .await
            .map_err(S3Fault::from)?;
        let (Some(etag), Some(object)) = (etag, current) else {
            return Err(err);
        };
        if object.etag != etag {
            return Err(err);
        }
        Ok(S3Response::new(completion_output(&object)))
    }
}

/// The object's checksum from its parts': composite, combined full-object CRC, or (when the
/// upload chose none) S3's default full-object CRC64NVME.
/// The answer to a completed upload: to its first completion and to a retry of it alike.
fn completion_output(object: &coffer_store::ObjectMeta) -> CompleteMultipartUploadOutput {
    let reported = crate::encryption::Reported::of(object.encryption.as_ref(), None);
    let fields = ChecksumFields::of(object.checksum.as_ref());
    CompleteMultipartUploadOutput {
        version_id: crate::versioning::written_version(&object.version_id),
        bucket: Some(object.bucket.clone()),
        key: Some(object.key.clone()),
        location: Some(format!("/{}/{}", object.bucket, object.key)),
        e_tag: Some(headers::etag(&object.etag)),
        checksum_crc32: fields.crc32,
        checksum_crc32c: fields.crc32c,
        checksum_crc64nvme: fields.crc64nvme,
        checksum_sha1: fields.sha1,
        checksum_sha256: fields.sha256,
        checksum_type: fields.checksum_type,
        server_side_encryption: reported.server_side_encryption,
        ssekms_key_id: reported.ssekms_key_id,
        bucket_key_enabled: reported.bucket_key_enabled,
        ..Default::default()
    }
}

fn object_checksum(upload: &Upload, parts: &[coffer_store::UploadedPart]) -> Result<ObjectChecksum> {
    let decode = |algorithm: Algorithm, value: &str| {
        checksums::decode(algorithm, value).ok_or_else(|| S3Fault::internal("a stored part checksum does not decode"))
    };
    match (upload_algorithm(upload), upload.checksum_type.as_deref()) {
        (Some(algorithm), Some(COMPOSITE)) => {
            let raw = parts
                .iter()
                .map(|p| decode(algorithm, p.part.checksum_value.as_deref().unwrap_or_default()))
                .collect::<Result<Vec<_>>>()?;
            Ok(headers::composite_checksum(
                algorithm,
                checksums::composite(algorithm, &raw),
            ))
        }
        (Some(algorithm), _) => {
            let raw = parts
                .iter()
                .map(|p| {
                    Ok((
                        decode(algorithm, p.part.checksum_value.as_deref().unwrap_or_default())?,
                        p.part.size,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            let value = checksums::combine_crcs(algorithm, &raw).ok_or_else(|| S3Fault::internal("not a CRC"))?;
            Ok(headers::full_object(algorithm, value))
        }
        (None, _) => {
            let raw = parts
                .iter()
                .map(|p| Ok((decode(Algorithm::Crc64Nvme, &p.crc64nvme)?, p.part.size)))
                .collect::<Result<Vec<_>>>()?;
            let value =
                checksums::combine_crcs(Algorithm::Crc64Nvme, &raw).ok_or_else(|| S3Fault::internal("not a CRC"))?;
            Ok(headers::full_object(Algorithm::Crc64Nvme, value))
        }
    }
}

pub(crate) async fn create_multipart_upload(
    s3: &CofferS3,
    req: S3Request<CreateMultipartUploadInput>,
) -> Result<S3Response<CreateMultipartUploadOutput>> {
    let lock_caller = caller(&req)?.clone();
    let principal = lock_caller.principal().clone();
    let input = req.input;
    let bucket = s3.bucket(&input.bucket).await?;
    let storage_class = stored_storage_class(input.storage_class.as_ref())?;
    crate::put::refuse_website_redirect(input.website_redirect_location.as_ref())?;
    let (canned, grant_headers) = crate::acl::object_acl_input!(input);
    let acl = s3.requested_acl(canned, grant_headers).await?;
    let acl = s3.new_object_acl(&bucket, Some(&principal.account_id), acl.as_ref())?;
    // The upload's parts are sealed under one key, kept (sealed) on the upload's row; an
    // SSE-C upload keeps only the digest of the customer's.
    let secure = lock_caller.facts().secure_transport;
    let asked = crate::encryption::asked!(input);
    let customer = asked.customer.clone();
    let encryption = s3
        .plan_encryption(Some(&lock_caller), &bucket, &input.key, asked, secure)
        .await?;
    let lock = crate::object_lock::lock_input!(&bucket, input)?;
    crate::object_lock::may_lock(Some(&lock_caller), &bucket, &input.key, &lock)?;
    let tags = crate::tagging::from_header(input.tagging.as_deref())?;
    crate::tagging::may_tag(Some(&lock_caller), &bucket, &input.key, &tags)?;
    let algorithm = match &input.checksum_algorithm {
        Some(name) => Some(
            Algorithm::parse(name.as_str())
                .ok_or_else(|| S3Fault::InvalidRequest("Checksum algorithm provided is unsupported.".to_owned()))?,
        ),
        None => None,
    };
    let checksum_type = match (algorithm, input.checksum_type.as_ref().map(|t| t.as_str())) {
        (None, Some(_)) => {
            return Err(S3Fault::InvalidRequest(
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.".to_owned(),
            ));
        }
        (None, None) => None,
        (Some(Algorithm::Crc64Nvme), None) => Some(FULL_OBJECT),
        (Some(_), None) => Some(COMPOSITE),
        (Some(a), Some(FULL_OBJECT)) if a.combines() => Some(FULL_OBJECT),
        (Some(a), Some(COMPOSITE)) if a != Algorithm::Crc64Nvme => Some(COMPOSITE),
        (Some(a), Some(t)) => {
            return Err(S3Fault::InvalidRequest(format!(
                "The {} checksum type cannot be used with the {} checksum algorithm.",
                t,
                a.name()
            )));
        }
    };
    let upload = Upload {
        upload_id: String::new(),
        bucket: input.bucket.clone(),
        key: input.key.clone(),
        initiated: time::OffsetDateTime::UNIX_EPOCH,
        initiator_arn: principal.arn(),
        initiator_id: principal.user_id().to_owned(),
        headers: header_input!(input).into_headers()?,
        checksum_algorithm: algorithm.map(|a| a.name().to_owned()),
        checksum_type: checksum_type.map(str::to_owned),
        lock,
        tags,
        acl,
        storage_class,
        encryption: encryption.stored,
    };
    let upload = s3.store.create_upload(upload).await.map_err(S3Fault::from)?;
    let reported = crate::encryption::Reported::of(upload.encryption.as_ref(), customer.as_ref());
    Ok(S3Response::new(CreateMultipartUploadOutput {
        server_side_encryption: reported.server_side_encryption,
        sse_customer_algorithm: reported.sse_customer_algorithm,
        sse_customer_key_md5: reported.sse_customer_key_md5,
        ssekms_key_id: reported.ssekms_key_id,
        bucket_key_enabled: reported.bucket_key_enabled,
        ssekms_encryption_context: reported.ssekms_encryption_context,
        bucket: Some(upload.bucket),
        key: Some(upload.key),
        upload_id: Some(upload.upload_id),
        checksum_algorithm: upload.checksum_algorithm.map(ChecksumAlgorithm::from),
        checksum_type: upload.checksum_type.map(ChecksumType::from),
        ..Default::default()
    }))
}

pub(crate) async fn upload_part(
    s3: &CofferS3,
    req: S3Request<UploadPartInput>,
) -> Result<S3Response<UploadPartOutput>> {
    let part_caller = crate::caller(&req).ok().cloned();
    let secure = part_caller.as_ref().is_some_and(|c| c.facts().secure_transport);
    let S3Request {
        input,
        headers,
        trailing_headers,
        ..
    } = req;
    let number = check_part_number(input.part_number)?;
    let upload = s3.upload_of(&input.bucket, &input.key, &input.upload_id).await?;
    // A part of an object Object Lock will protect arrives with its integrity checked, as S3 asks.
    crate::object_lock::require_integrity(&s3.bucket(&input.bucket).await?, &upload.lock, &headers)?;
    let claim = ChecksumClaim::from_request(
        &headers,
        checksum_headers!(input),
        input.checksum_algorithm.as_ref().map(|a| a.as_str()),
        input.content_md5.as_ref(),
    )?;
    let algorithm = upload_algorithm(&upload);
    if let (Some(expected), Some(sent)) = (algorithm, claim.algorithm)
        && expected != sent
    {
        return Err(S3Fault::InvalidRequest(format!(
            "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
            expected.name().to_lowercase(),
            sent.name().to_lowercase()
        )));
    }
    let mut algorithms = vec![Algorithm::Crc64Nvme];
    algorithms.extend(algorithm);
    algorithms.extend(claim.algorithm);
    // Each part is sealed under the upload's key (each blob under a key of its own derived
    // from it); an SSE-C upload's parts each bring the key again.
    crate::encryption::refuse_sse_header(&headers)?;
    let customer = crate::encryption::customer_key_of!(input)?;
    let key = s3
        .opening_key(
            part_caller.as_ref(),
            Opening::part(&upload.bucket, &upload.key),
            upload.encryption.as_ref(),
            customer.as_ref(),
            secure,
        )
        .await?;
    let received = body::receive(
        &s3.store,
        s3.idle_timeout,
        input.body,
        body::declared_length(input.content_length, &headers)?,
        MAX_PART_SIZE,
        &algorithms,
        key.as_ref(),
    )
    .await?;
    let reported = crate::encryption::Reported::of(upload.encryption.as_ref(), customer.as_ref());
    claim.verify(&received.digests, trailing_headers.as_ref())?;
    s3.record_part(&upload, number, received, key.as_ref())
        .await
        .map(|(etag, fields)| {
            S3Response::new(UploadPartOutput {
                e_tag: Some(headers::etag(&etag)),
                server_side_encryption: reported.server_side_encryption,
                sse_customer_algorithm: reported.sse_customer_algorithm,
                sse_customer_key_md5: reported.sse_customer_key_md5,
                ssekms_key_id: reported.ssekms_key_id,
                bucket_key_enabled: reported.bucket_key_enabled,
                checksum_crc32: fields.crc32,
                checksum_crc32c: fields.crc32c,
                checksum_crc64nvme: fields.crc64nvme,
                checksum_sha1: fields.sha1,
                checksum_sha256: fields.sha256,
                ..Default::default()
            })
        })
}

pub(crate) async fn complete_multipart_upload(
    s3: &CofferS3,
    req: S3Request<CompleteMultipartUploadInput>,
) -> Result<S3Response<CompleteMultipartUploadOutput>> {
    let completer = crate::caller(&req).ok().cloned();
    let secure = completer.as_ref().is_some_and(|c| c.facts().secure_transport);
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let customer = crate::encryption::customer_key(
        header("x-amz-server-side-encryption-customer-algorithm").as_deref(),
        header("x-amz-server-side-encryption-customer-key").as_deref(),
        header("x-amz-server-side-encryption-customer-key-md5").as_deref(),
    )?;
    let input = req.input;
    let upload = match s3.upload_of(&input.bucket, &input.key, &input.upload_id).await {
        Ok(upload) => upload,
        Err(err) => return s3.completed_again(&input, err).await,
    };
    // SSE-C keys sent with a completion must be the upload's; S3 needs them when the upload
    // has a checksum algorithm (CompleteMultipartUpload, "SSECustomerKey").
    // An SSE-KMS upload's key must still be usable, by this caller (kms:Decrypt, as S3 asks).
    let needs_key = match upload.encryption {
        Some(coffer_store::Encryption::Customer { .. }) => upload.checksum_algorithm.is_some(),
        Some(coffer_store::Encryption::Kms { .. }) => true,
        _ => false,
    };
    if customer.is_some() || needs_key {
        s3.opening_key(
            completer.as_ref(),
            Opening::part(&upload.bucket, &upload.key),
            upload.encryption.as_ref(),
            customer.as_ref(),
            secure,
        )
        .await?;
    }
    let condition = headers::write_condition(input.if_match, input.if_none_match)?;
    let requested = input.multipart_upload.and_then(|m| m.parts).unwrap_or_default();
    if requested.is_empty() {
        return Err(S3Fault::MalformedXML);
    }
    // Parts are numbered 1 to 10,000, so no more than 10,000 can be named.
    if requested.len() > MAX_PART_NUMBER as usize {
        return Err(part_number_out_of_range());
    }
    for part in &requested {
        check_part_number(part.part_number.unwrap_or(1))?;
    }
    let uploaded = s3
        .store
        .list_parts(&upload.upload_id, 0, i64::from(MAX_PART_NUMBER))
        .await
        .map_err(S3Fault::from)?;
    let algorithm = upload_algorithm(&upload);
    // Ascending, but a part named twice is allowed: its last entry counts (a part uploaded
    // again while an earlier upload of it was still running is named by both answers).
    let numbers: Vec<i32> = requested.iter().map(|p| p.part_number.unwrap_or(0)).collect();
    if numbers.windows(2).any(|pair| pair[0] > pair[1]) {
        return Err(S3Fault::InvalidPartOrder);
    }
    let named: Vec<&CompletedPart> = requested
        .iter()
        .enumerate()
        .filter(|(index, part)| numbers.get(index + 1) != part.part_number.as_ref())
        .map(|(_, part)| part)
        .collect();
    let by_number: std::collections::HashMap<u32, &coffer_store::UploadedPart> =
        uploaded.iter().map(|p| (p.part.part_number, p)).collect();
    let mut chosen = Vec::with_capacity(named.len());
    for (index, part) in named.iter().enumerate() {
        let number = part.part_number.ok_or(S3Fault::InvalidPart)?;
        let found = u32::try_from(number)
            .ok()
            .and_then(|n| by_number.get(&n))
            .ok_or(S3Fault::InvalidPart)?;
        let etag_matches = part.e_tag.as_ref().is_some_and(|e| e.value() == found.part.etag);
        if !etag_matches {
            return Err(S3Fault::InvalidPart);
        }
        if let Some(algorithm) = algorithm
            && let Some(claimed) = completed_part_checksum(part, algorithm)
            && Some(claimed) != found.part.checksum_value.as_ref()
        {
            return Err(S3Fault::InvalidPart);
        }
        let last = index == named.len() - 1;
        if !last && found.part.size < MIN_PART_SIZE {
            return Err(S3Fault::EntityTooSmall);
        }
        chosen.push((*found).clone());
    }
    let size: u64 = chosen.iter().map(|p| p.part.size).sum();
    if let Some(expected) = input.mpu_object_size
        && expected != size as i64
    {
        return Err(S3Fault::InvalidRequest(
            "The provided MpuObjectSize does not match the object's size.".to_owned(),
        ));
    }
    let etags: Vec<String> = chosen.iter().map(|p| p.part.etag.clone()).collect();
    let etag = checksums::multipart_etag(&etags).ok_or_else(|| S3Fault::internal("a part's ETag is not hex"))?;
    let checksum = object_checksum(&upload, &chosen)?;
    // A full-object checksum sent with the completion must match the combined one.
    let claimed = [
        (Algorithm::Crc32, input.checksum_crc32.as_ref()),
        (Algorithm::Crc32c, input.checksum_crc32c.as_ref()),
        (Algorithm::Crc64Nvme, input.checksum_crc64nvme.as_ref()),
        (Algorithm::Sha1, input.checksum_sha1.as_ref()),
        (Algorithm::Sha256, input.checksum_sha256.as_ref()),
    ];
    for (algorithm, value) in claimed {
        let Some(value) = value else { continue };
        if checksum.algorithm == algorithm.name() && checksum.value != *value {
            return Err(S3Fault::BadDigest(format!(
                "The {} you specified did not match the calculated checksum.",
                algorithm.name()
            )));
        }
    }
    let object = NewObject {
        key: upload.key.clone(),
        size,
        etag,
        headers: upload.headers.clone(),
        checksum: Some(checksum),
        lock: upload.lock,
        tags: upload.tags.clone(),
        acl: upload.acl.clone(),
        storage_class: upload.storage_class.clone(),
        encryption: upload.encryption.clone(),
    };
    let parts: Vec<ObjectPart> = chosen.into_iter().map(|p| p.part).collect();
    // Read before the commit: once the upload is an object, nothing may fail its answer.
    let bucket = s3.bucket(&input.bucket).await?;
    // An upload begun before the bucket came to enforce bucket-owner ownership makes an
    // object the bucket owner owns, as every object written since.
    let object = match bucket.acls_enabled() {
        true => object,
        false => NewObject {
            acl: Default::default(),
            ..object
        },
    };
    let stored = s3
        .store
        .complete_upload(&upload, object, parts, &condition)
        .await
        .map_err(S3Fault::from)?;
    let mut output = completion_output(&stored);
    output.expiration = s3.expiration_header(&bucket, &stored);
    Ok(S3Response::new(output))
}

pub(crate) async fn abort_multipart_upload(
    s3: &CofferS3,
    req: S3Request<AbortMultipartUploadInput>,
) -> Result<S3Response<AbortMultipartUploadOutput>> {
    let input = req.input;
    let upload = s3.upload_of(&input.bucket, &input.key, &input.upload_id).await?;
    s3.store.abort_upload(&upload.upload_id).await.map_err(S3Fault::from)?;
    let mut response = S3Response::new(AbortMultipartUploadOutput::default());
    response.status = Some(http::StatusCode::NO_CONTENT);
    Ok(response)
}

pub(crate) async fn list_parts(s3: &CofferS3, req: S3Request<ListPartsInput>) -> Result<S3Response<ListPartsOutput>> {
    let input = req.input;
    let upload = s3.upload_of(&input.bucket, &input.key, &input.upload_id).await?;
    let max_parts = match input.max_parts {
        Some(n) if n < 0 => {
            return Err(S3Fault::InvalidArgument(
                "max-parts must be a non-negative integer".to_owned(),
            ));
        }
        Some(n) => n.min(MAX_LISTED),
        None => MAX_LISTED,
    };
    let marker = input.part_number_marker.unwrap_or(0).max(0) as u32;
    let mut parts = s3
        .store
        .list_parts(&upload.upload_id, marker, i64::from(max_parts) + 1)
        .await
        .map_err(S3Fault::from)?;
    let is_truncated = max_parts > 0 && parts.len() > max_parts as usize;
    parts.truncate(max_parts as usize);
    let next_marker = is_truncated
        .then(|| parts.last().map(|p| p.part.part_number as i32))
        .flatten();
    let algorithm = upload_algorithm(&upload);
    let bucket = s3.bucket(&input.bucket).await?;
    Ok(S3Response::new(ListPartsOutput {
        bucket: Some(upload.bucket.clone()),
        key: Some(upload.key.clone()),
        upload_id: Some(upload.upload_id.clone()),
        checksum_algorithm: upload.checksum_algorithm.clone().map(ChecksumAlgorithm::from),
        checksum_type: upload.checksum_type.clone().map(ChecksumType::from),
        initiator: Some(Initiator {
            display_name: Some(upload.initiator_arn.clone()),
            id: Some(upload.initiator_arn.clone()),
        }),
        owner: Some(
            s3.owner_of(
                upload
                    .acl
                    .owner
                    .as_deref()
                    .filter(|_| bucket.acls_enabled())
                    .unwrap_or(&bucket.account_id),
            )
            .await?,
        ),
        storage_class: Some(StorageClass::from(class_name(upload.storage_class.clone()))),
        max_parts: Some(max_parts),
        part_number_marker: input.part_number_marker,
        next_part_number_marker: next_marker,
        is_truncated: Some(is_truncated),
        parts: Some(
            parts
                .into_iter()
                .map(|p| {
                    let fields = part_checksum(algorithm, p.part.checksum_value.as_ref());
                    Part {
                        e_tag: Some(headers::etag(&p.part.etag)),
                        last_modified: Some(Timestamp::from(p.last_modified)),
                        part_number: Some(p.part.part_number as i32),
                        size: Some(p.part.size as i64),
                        checksum_crc32: fields.crc32,
                        checksum_crc32c: fields.crc32c,
                        checksum_crc64nvme: fields.crc64nvme,
                        checksum_sha1: fields.sha1,
                        checksum_sha256: fields.sha256,
                    }
                })
                .collect(),
        ),
        ..Default::default()
    }))
}

pub(crate) async fn list_multipart_uploads(
    s3: &CofferS3,
    req: S3Request<ListMultipartUploadsInput>,
) -> Result<S3Response<ListMultipartUploadsOutput>> {
    let input = req.input;
    let bucket = s3.bucket(&input.bucket).await?;
    let max_uploads = match input.max_uploads {
        Some(n) if n < 0 => {
            return Err(S3Fault::InvalidArgument(
                "max-uploads must be a non-negative integer".to_owned(),
            ));
        }
        Some(n) => n.min(MAX_LISTED),
        None => MAX_LISTED,
    };
    let prefix = input.prefix.as_deref().unwrap_or("");
    let mut uploads = s3
        .store
        .list_uploads(
            &bucket.name,
            prefix,
            input.key_marker.as_deref(),
            input.upload_id_marker.as_deref(),
            i64::from(max_uploads) + 1,
        )
        .await
        .map_err(S3Fault::from)?;
    let is_truncated = max_uploads > 0 && uploads.len() > max_uploads as usize;
    uploads.truncate(max_uploads as usize);
    let (next_key_marker, next_upload_id_marker) = match uploads.last() {
        Some(last) if is_truncated => (Some(last.key.clone()), Some(last.upload_id.clone())),
        _ => (None, None),
    };
    let named = uploads.iter().filter_map(|upload| upload.acl.owner.clone()).collect();
    let owners = s3.owners(&bucket, named).await?;
    Ok(S3Response::new(ListMultipartUploadsOutput {
        bucket: Some(bucket.name.clone()),
        prefix: input.prefix.clone(),
        key_marker: input.key_marker.clone(),
        upload_id_marker: input.upload_id_marker.clone(),
        max_uploads: Some(max_uploads),
        is_truncated: Some(is_truncated),
        next_key_marker,
        next_upload_id_marker,
        delimiter: input.delimiter.clone(),
        encoding_type: input.encoding_type.clone(),
        uploads: Some(
            uploads
                .into_iter()
                .map(|upload| MultipartUpload {
                    checksum_algorithm: upload.checksum_algorithm.map(ChecksumAlgorithm::from),
                    checksum_type: upload.checksum_type.map(ChecksumType::from),
                    initiated: Some(Timestamp::from(upload.initiated)),
                    initiator: Some(Initiator {
                        display_name: Some(upload.initiator_arn.clone()),
                        id: Some(upload.initiator_arn),
                    }),
                    key: Some(upload.key),
                    owner: owners.of(upload.acl.owner.as_ref()),
                    storage_class: Some(StorageClass::from(class_name(upload.storage_class))),
                    upload_id: Some(upload.upload_id),
                })
                .collect(),
        ),
        ..Default::default()
    }))
}
