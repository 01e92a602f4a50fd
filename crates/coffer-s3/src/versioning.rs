//! PutBucketVersioning and GetBucketVersioning, and the version-id rules every object
//! operation shares: which ids are well formed, and when `x-amz-version-id` is reported.

use s3s::dto::*;
use s3s::{S3Request, S3Response};

use crate::CofferS3;
use crate::error::{Result, S3Fault};
use coffer_store::{Bucket, Versioning, is_version_id};

/// A `versionId` as the request gave it: `None`, or a well-formed id (S3 answers a malformed
/// one 400 InvalidArgument before it looks for anything).
pub(crate) fn check_version_id(version_id: Option<&str>) -> Result<Option<&str>> {
    match version_id {
        Some(id) if !is_version_id(id) => Err(S3Fault::InvalidArgument("Invalid version id specified".to_owned())),
        other => Ok(other),
    }
}

/// The `x-amz-version-id` S3 reports for a version a write made: its id when versioning is
/// Enabled, none for the `null` version an unversioned or suspended bucket's write makes.
pub(crate) fn written_version(version_id: &str) -> Option<String> {
    (version_id != coffer_store::NULL_VERSION).then(|| version_id.to_owned())
}

/// The `x-amz-version-id` S3 reports for a version of an object in `bucket`: none while the
/// bucket never had versioning configured, the id (`null` included) once it has. A real id
/// is always reported: only versioning makes one, whatever a cached bucket still says.
pub(crate) fn reported_version(bucket: &Bucket, version_id: &str) -> Option<String> {
    if version_id != coffer_store::NULL_VERSION {
        return Some(version_id.to_owned());
    }
    bucket.versioning.status().map(|_| version_id.to_owned())
}

pub(crate) async fn put_bucket_versioning(
    s3: &CofferS3,
    req: S3Request<PutBucketVersioningInput>,
) -> Result<S3Response<PutBucketVersioningOutput>> {
    let input = req.input;
    let bucket = s3.bucket(&input.bucket).await?;
    let configuration = input.versioning_configuration;
    // Coffer has no MFA devices, so a request to turn MFA delete on is one without valid MFA
    // (S3 refuses those, and only the root user holding an MFA device may make them).
    if configuration
        .mfa_delete
        .as_ref()
        .is_some_and(|m| m.as_str() == MFADelete::ENABLED)
        || input.mfa.is_some()
    {
        return Err(S3Fault::AccessDenied(
            "Mfa Authentication must be used for this request".to_owned(),
        ));
    }
    if let Some(mfa_delete) = &configuration.mfa_delete
        && mfa_delete.as_str() != MFADelete::DISABLED
    {
        return Err(S3Fault::MalformedXML);
    }
    let versioning = match configuration.status.as_ref().map(|s| s.as_str()) {
        Some(BucketVersioningStatus::ENABLED) => Versioning::Enabled,
        Some(BucketVersioningStatus::SUSPENDED) => Versioning::Suspended,
        Some(_) => return Err(S3Fault::MalformedXML),
        None => {
            return Err(S3Fault::IllegalVersioningConfigurationException(
                "The Versioning element must be specified".to_owned(),
            ));
        }
    };
    s3.store
        .set_bucket_versioning(&bucket.name, versioning)
        .await
        .map_err(S3Fault::from)?;
    // (Object Lock keeps versioning Enabled: suspending it is InvalidBucketState, from the store.)
    Ok(S3Response::new(PutBucketVersioningOutput::default()))
}

pub(crate) async fn get_bucket_versioning(
    s3: &CofferS3,
    req: S3Request<GetBucketVersioningInput>,
) -> Result<S3Response<GetBucketVersioningOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    Ok(S3Response::new(GetBucketVersioningOutput {
        // A bucket that never had versioning configured answers an empty configuration.
        status: bucket.versioning.status().map(BucketVersioningStatus::from_static),
        mfa_delete: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_ids_are_checked_before_anything_is_read() {
        assert_eq!(check_version_id(None).unwrap(), None);
        assert_eq!(check_version_id(Some("null")).unwrap(), Some("null"));
        let id = coffer_store::new_version_id(-3);
        assert_eq!(check_version_id(Some(&id)).unwrap(), Some(id.as_str()));
        for bad in [
            "",
            "NULL",
            "abc",
            "../../etc/passwd",
            &format!("{id}x"),
            &id.replace(&id[..1], "+"),
        ] {
            assert!(check_version_id(Some(bad)).is_err(), "{bad}");
        }
    }
}
