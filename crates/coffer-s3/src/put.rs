//! PutObject: a body streamed into a blob, checked against every digest the client sent,
//! then committed as the current object.

use s3s::dto::*;
use s3s::{S3Request, S3Response};

use crate::CofferS3;
use crate::body::{self, ChecksumClaim, checksum_headers};
use crate::error::{Result, S3Fault};
use crate::headers::{self, ChecksumFields, header_input};
use coffer_store::{NewObject, ObjectMeta, WriteCondition};

/// The largest object a single PUT or copy may create: 5 GiB, as in S3.
pub const MAX_SINGLE_UPLOAD: u64 = 5 * 1024 * 1024 * 1024;

/// `x-amz-website-redirect-location` belongs to website hosting, which Coffer does not serve:
/// refused with S3's answer to a header it does not implement, never kept and ignored.
pub(crate) fn refuse_website_redirect(location: Option<&String>) -> Result<()> {
    match location {
        Some(_) => Err(S3Fault::NotImplemented(
            "A header you provided implies functionality that is not implemented".to_owned(),
        )),
        None => Ok(()),
    }
}

/// The storage class a write names, as kept (`None`: STANDARD). The classes whose objects
/// are read at once are kept as STANDARD's bytes and report the class they were given; those
/// that need a restore before a read (GLACIER, DEEP_ARCHIVE), or need hardware Coffer is not
/// (OUTPOSTS, SNOW, EXPRESS_ONEZONE), are refused.
pub(crate) fn stored_storage_class(class: Option<&StorageClass>) -> Result<Option<String>> {
    const KEPT: [&str; 5] = [
        "REDUCED_REDUNDANCY",
        "STANDARD_IA",
        "ONEZONE_IA",
        "INTELLIGENT_TIERING",
        "GLACIER_IR",
    ];
    match class.map(StorageClass::as_str) {
        None | Some("STANDARD") => Ok(None),
        Some(class) if KEPT.contains(&class) => Ok(Some(class.to_owned())),
        Some(_) => Err(S3Fault::InvalidStorageClass),
    }
}

impl CofferS3 {
    /// Makes a received body durable (a blob, or a small one's bytes in the row) and commits
    /// it as the current object, in a task of its own: a client that disconnects now cannot
    /// leave the blob durable but unnamed.
    pub(crate) async fn commit_received(
        &self,
        bucket: &str,
        object: NewObject,
        received: body::Received,
        condition: WriteCondition,
    ) -> Result<ObjectMeta> {
        let store = self.store.clone();
        let bucket = bucket.to_owned();
        tokio::spawn(async move {
            let bytes = received.finish_or_keep().await?;
            store
                .put_object(&bucket, object, bytes, &condition)
                .await
                .map_err(S3Fault::from)
        })
        .await
        .map_err(S3Fault::internal)?
    }
}

pub(crate) async fn put_object(s3: &CofferS3, req: S3Request<PutObjectInput>) -> Result<S3Response<PutObjectOutput>> {
    let req_caller = crate::caller(&req).ok().cloned();
    let S3Request {
        input,
        headers,
        trailing_headers,
        ..
    } = req;
    let bucket = s3.bucket(&input.bucket).await?;
    let storage_class = stored_storage_class(input.storage_class.as_ref())?;
    refuse_website_redirect(input.website_redirect_location.as_ref())?;
    let (canned, grant_headers) = crate::acl::object_acl_input!(input);
    let acl = s3.requested_acl(canned, grant_headers).await?;
    let writer = req_caller.as_ref().map(|c| c.principal().account_id.as_str());
    let acl = s3.new_object_acl(&bucket, writer, acl.as_ref())?;
    let secure = req_caller.as_ref().is_some_and(|c| c.facts().secure_transport);
    let asked = crate::encryption::asked!(input);
    let customer = asked.customer.clone();
    let encryption = s3
        .plan_encryption(req_caller.as_ref(), &bucket, &input.key, asked, secure)
        .await?;
    let lock = crate::object_lock::lock_input!(&bucket, input)?;
    crate::object_lock::may_lock(req_caller.as_ref(), &bucket, &input.key, &lock)?;
    let tags = crate::tagging::from_header(input.tagging.as_deref())?;
    crate::tagging::may_tag(req_caller.as_ref(), &bucket, &input.key, &tags)?;
    crate::object_lock::require_integrity(&bucket, &lock, &headers)?;
    let condition = headers::write_condition(input.if_match, input.if_none_match)?;
    let claim = ChecksumClaim::from_request(
        &headers,
        checksum_headers!(input),
        input.checksum_algorithm.as_ref().map(|a| a.as_str()),
        input.content_md5.as_ref(),
    )?;
    let algorithms = claim.algorithms(None);
    let received = body::receive(
        &s3.store,
        s3.idle_timeout,
        input.body,
        body::declared_length(input.content_length, &headers)?,
        MAX_SINGLE_UPLOAD,
        &algorithms,
        encryption.key.as_ref(),
    )
    .await?;
    claim.verify(&received.digests, trailing_headers.as_ref())?;
    let algorithm = algorithms[0];
    let checksum = headers::full_object(algorithm, received.digests.base64(algorithm).unwrap_or_default());
    let object = NewObject {
        key: input.key,
        size: received.size,
        etag: crate::encryption::etag_for(
            encryption.stored.as_ref(),
            encryption.key.as_ref(),
            received.digests.etag(),
        ),
        headers: header_input!(input).into_headers()?,
        checksum: Some(checksum),
        lock,
        tags,
        acl,
        storage_class,
        encryption: encryption.stored,
    };
    let stored = s3.commit_received(&input.bucket, object, received, condition).await?;
    let fields = ChecksumFields::of(stored.checksum.as_ref());
    let reported = crate::encryption::Reported::of(stored.encryption.as_ref(), customer.as_ref());
    Ok(S3Response::new(PutObjectOutput {
        server_side_encryption: reported.server_side_encryption,
        sse_customer_algorithm: reported.sse_customer_algorithm,
        sse_customer_key_md5: reported.sse_customer_key_md5,
        ssekms_key_id: reported.ssekms_key_id,
        bucket_key_enabled: reported.bucket_key_enabled,
        ssekms_encryption_context: reported.ssekms_encryption_context,
        e_tag: Some(headers::etag(&stored.etag)),
        checksum_crc32: fields.crc32,
        checksum_crc32c: fields.crc32c,
        checksum_crc64nvme: fields.crc64nvme,
        checksum_sha1: fields.sha1,
        checksum_sha256: fields.sha256,
        checksum_type: fields.checksum_type,
        version_id: crate::versioning::written_version(&stored.version_id),
        expiration: s3.expiration_header(&bucket, &stored),
        ..Default::default()
    }))
}
