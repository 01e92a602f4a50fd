//! DeleteObject and DeleteObjects.

use s3s::dto::*;
use s3s::{S3Request, S3Response};

use crate::CofferS3;
use crate::error::{Result, S3Fault};
use crate::get::check_version;
use coffer_store::WriteCondition;

pub(crate) async fn delete_object(
    s3: &CofferS3,
    req: S3Request<DeleteObjectInput>,
) -> Result<S3Response<DeleteObjectOutput>> {
    let input = req.input;
    check_version(input.version_id.as_deref())?;
    s3.bucket(&input.bucket).await?;
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
    s3.store
        .delete_object(&input.bucket, &input.key, &condition)
        .await
        .map_err(S3Fault::from)?;
    let mut response = S3Response::new(DeleteObjectOutput::default());
    response.status = Some(http::StatusCode::NO_CONTENT);
    Ok(response)
}

pub(crate) async fn delete_objects(
    s3: &CofferS3,
    req: S3Request<DeleteObjectsInput>,
) -> Result<S3Response<DeleteObjectsOutput>> {
    let caller = crate::caller(&req)?.clone();
    let input = req.input;
    s3.bucket(&input.bucket).await?;
    let objects = input.delete.objects;
    if objects.is_empty() || objects.len() > 1000 {
        return Err(S3Fault::MalformedXML);
    }
    let quiet = input.delete.quiet.unwrap_or(false);
    let mut deleted = Vec::new();
    let mut errors = Vec::new();
    // Every key's delete is queued at once, so they share a few group commits instead of
    // waiting for a thousand in turn; the answers keep the request's order.
    let target = s3.bucket(&input.bucket).await?;
    let (caller, target) = (&caller, &target);
    let bucket = input.bucket.as_str();
    let outcomes = futures::future::join_all(objects.into_iter().map(|object| async move {
        let key = object.key;
        if key.is_empty() || key.len() > 1024 {
            return (key, Err(("KeyTooLongError", "Your key is too long")));
        }
        if object
            .version_id
            .as_deref()
            .is_some_and(|v| v != coffer_store::NULL_VERSION)
        {
            return (key, Err(("NoSuchVersion", "The specified version does not exist.")));
        }
        if caller.may_in_bucket("s3:DeleteObject", target, Some(&key)).is_err() {
            return (key, Err(("AccessDenied", "Access Denied")));
        }
        match s3.store.delete_object(bucket, &key, &WriteCondition::Always).await {
            Ok(_) => (key, Ok(())),
            Err(err) => {
                tracing::error!(%err, "delete failed");
                (
                    key,
                    Err(("InternalError", "We encountered an internal error. Please try again.")),
                )
            }
        }
    }))
    .await;
    for (key, outcome) in outcomes {
        match outcome {
            Ok(()) if quiet => {}
            Ok(()) => deleted.push(DeletedObject {
                key: Some(key),
                ..Default::default()
            }),
            Err((code, message)) => errors.push(Error {
                code: Some(code.to_owned()),
                key: Some(key),
                message: Some(message.to_owned()),
                version_id: None,
            }),
        }
    }
    Ok(S3Response::new(DeleteObjectsOutput {
        deleted: Some(deleted),
        errors: Some(errors),
        ..Default::default()
    }))
}
