//! DeleteObject and DeleteObjects: a key's latest version (a delete marker in a versioned
//! bucket) or a version named by id.

use s3s::dto::*;
use s3s::{S3Request, S3Response};

use crate::CofferS3;
use crate::error::{Result, S3Fault};
use crate::object_lock::bypasses_governance;
use crate::versioning::{check_version_id, reported_version};
use coffer_store::{StoreError, WriteCondition};

pub(crate) async fn delete_object(
    s3: &CofferS3,
    req: S3Request<DeleteObjectInput>,
) -> Result<S3Response<DeleteObjectOutput>> {
    let caller = crate::caller(&req).ok().cloned();
    let input = req.input;
    let version_id = check_version_id(input.version_id.as_deref())?;
    let bucket = s3.bucket(&input.bucket).await?;
    if input.if_match_last_modified_time.is_some() || input.if_match_size.is_some() {
        return Err(S3Fault::NotImplemented(DIRECTORY_BUCKET_CONDITIONS.to_owned()));
    }
    // Conditional delete: the object must exist with this ETag, checked in the commit.
    let condition = match input
        .if_match
        .as_ref()
        .map(|c| c.as_etag().map(|e| e.value().to_owned()))
    {
        Some(Some(etag)) => WriteCondition::IfMatch(etag),
        Some(None) => WriteCondition::IfMatch("*".to_owned()),
        None => WriteCondition::Always,
    };
    let bypass = bypasses_governance(
        caller.as_ref(),
        &bucket,
        &input.key,
        version_id,
        input.bypass_governance_retention,
    );
    let deleted = s3
        .store
        .delete_object(&input.bucket, &input.key, version_id, &condition, bypass)
        .await
        .map_err(S3Fault::from)?;
    let mut response = S3Response::new(DeleteObjectOutput {
        delete_marker: deleted.delete_marker.then_some(true),
        version_id: deleted.version_id.and_then(|id| reported_version(&bucket, &id)),
        ..Default::default()
    });
    response.status = Some(http::StatusCode::NO_CONTENT);
    Ok(response)
}

/// Why a delete conditional on size or modification time is refused: S3 honours those only
/// in directory buckets, and Coffer's buckets are all general purpose.
const DIRECTORY_BUCKET_CONDITIONS: &str =
    "Conditional deletes by size or last-modified time apply only to directory buckets, which Coffer does not have";

/// One key's outcome in a DeleteObjects answer.
type Outcome = std::result::Result<DeletedObject, (&'static str, &'static str)>;

pub(crate) async fn delete_objects(
    s3: &CofferS3,
    req: S3Request<DeleteObjectsInput>,
) -> Result<S3Response<DeleteObjectsOutput>> {
    let caller = crate::caller(&req)?.clone();
    let log = req.extensions.get::<crate::RequestLog>().cloned();
    let input = req.input;
    let objects = input.delete.objects;
    if objects.is_empty() || objects.len() > 1000 {
        return Err(S3Fault::MalformedXML);
    }
    let quiet = input.delete.quiet.unwrap_or(false);
    let asks_bypass = input.bypass_governance_retention;
    // Every key's delete is queued at once, so they share a few group commits instead of
    // waiting for a thousand in turn; the answers keep the request's order.
    let target = s3.bucket(&input.bucket).await?;
    let (caller, target) = (&caller, &target);
    let bucket = input.bucket.as_str();
    let outcomes = futures::future::join_all(objects.into_iter().map(|object| async move {
        let key = object.key;
        let version_id = object.version_id;
        let condition = match &object.e_tag {
            Some(etag) => WriteCondition::IfMatch(etag.value().to_owned()),
            None => WriteCondition::Always,
        };
        let conditional_on_other = object.last_modified_time.is_some() || object.size.is_some();
        let outcome: Outcome = async {
            if key.is_empty() || key.len() > 1024 {
                return Err(("KeyTooLongError", "Your key is too long"));
            }
            if conditional_on_other {
                return Err(("NotImplemented", DIRECTORY_BUCKET_CONDITIONS));
            }
            let version = check_version_id(version_id.as_deref())
                .map_err(|_| ("NoSuchVersion", "The specified version does not exist."))?;
            let action = match version {
                Some(_) => "s3:DeleteObjectVersion",
                None => "s3:DeleteObject",
            };
            let keys = version.map(|v| ("s3:VersionId", v.to_owned())).into_iter().collect();
            if caller.may_in_bucket_with(action, target, Some(&key), keys).is_err() {
                return Err(("AccessDenied", "Access Denied"));
            }
            let bypass = bypasses_governance(Some(caller), target, &key, version, asks_bypass);
            let deleted = s3
                .store
                .delete_object(bucket, &key, version, &condition, bypass)
                .await
                .map_err(|err| match err {
                    StoreError::PreconditionFailed => (
                        "PreconditionFailed",
                        "At least one of the pre-conditions you specified did not hold",
                    ),
                    StoreError::NoSuchKey => ("NoSuchKey", "The specified key does not exist."),
                    StoreError::ObjectLocked => {
                        ("AccessDenied", "Access Denied because object protected by object lock.")
                    }
                    err => {
                        tracing::error!(%err, "delete failed");
                        ("InternalError", "We encountered an internal error. Please try again.")
                    }
                })?;
            // A marker added says its id; a version removed by id is named as asked, and says
            // whether it was a marker.
            let marker_id = deleted.delete_marker.then(|| deleted.version_id.clone()).flatten();
            Ok(DeletedObject {
                key: Some(key.clone()),
                version_id: version.map(str::to_owned),
                delete_marker: deleted.delete_marker.then_some(true),
                delete_marker_version_id: marker_id.and_then(|id| reported_version(target, &id)),
            })
        }
        .await;
        (key, version_id, outcome)
    }))
    .await;
    let mut deleted = Vec::new();
    let mut errors = Vec::new();
    // The access log has a `BATCH.DELETE.OBJECT` line for each key deleted.
    if let Some(log) = &log {
        log.note_batch_deleted(
            outcomes
                .iter()
                .filter(|(_, _, o)| o.is_ok())
                .map(|(key, _, _)| key.clone()),
        );
    }
    for (key, version_id, outcome) in outcomes {
        match outcome {
            Ok(_) if quiet => {}
            Ok(object) => deleted.push(object),
            Err((code, message)) => errors.push(Error {
                code: Some(code.to_owned()),
                key: Some(key),
                message: Some(message.to_owned()),
                version_id,
            }),
        }
    }
    Ok(S3Response::new(DeleteObjectsOutput {
        deleted: Some(deleted),
        errors: Some(errors),
        ..Default::default()
    }))
}
