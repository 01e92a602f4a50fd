//! Bucket policies and Block Public Access: PutBucketPolicy, GetBucketPolicy,
//! DeleteBucketPolicy, GetBucketPolicyStatus, Put/Get/DeletePublicAccessBlock. A bucket policy
//! is a resource policy for the engine: it can grant other principals (and, when the bucket's
//! Block Public Access allows, anyone) and its Deny binds even the bucket owner's root user,
//! except for the three bucket policy operations themselves, so an owner cannot lock itself
//! out (see the access hook).

use coffer_policy::{Policy, PolicyKind};
use coffer_store::PublicAccessBlock;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use crate::{CofferS3, custom_error, internal};

/// Only the bucket owner's account manages its policy and Block Public Access, whatever a
/// bucket policy grants others (as S3).
fn owner_only<T>(req: &S3Request<T>, bucket: &coffer_store::Bucket) -> S3Result<()> {
    match crate::caller(req) {
        Ok(caller) if caller.account_id == bucket.account_id => Ok(()),
        _ => Err(s3_error!(AccessDenied, "Access Denied")),
    }
}

/// The bucket policy operations: a caller the policies allow who is not of the owner's account
/// gets `405 MethodNotAllowed`, as S3 documents for them.
fn policy_owner_only<T>(req: &S3Request<T>, bucket: &coffer_store::Bucket) -> S3Result<()> {
    owner_only(req, bucket).map_err(|_| {
        s3_error!(
            MethodNotAllowed,
            "The specified method is not allowed against this resource."
        )
    })
}

/// S3's limit on a bucket policy.
const MAX_BUCKET_POLICY: usize = 20 * 1024;

pub(crate) async fn put_bucket_policy(
    s3: &CofferS3,
    req: S3Request<PutBucketPolicyInput>,
) -> S3Result<S3Response<PutBucketPolicyOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    policy_owner_only(&req, &bucket)?;
    let input = req.input;
    if input.policy.len() > MAX_BUCKET_POLICY {
        return Err(s3_error!(InvalidPolicyDocument, "Policies must be less than 20 KB"));
    }
    let policy = Policy::parse(&input.policy, PolicyKind::Resource).map_err(|e| s3_error!(MalformedPolicy, "{e}"))?;
    let blocks_public = bucket.public_access_block.is_some_and(|b| b.block_public_policy);
    if blocks_public && policy.is_public() {
        return Err(s3_error!(
            AccessDenied,
            "User is not authorized to perform: s3:PutBucketPolicy because public policies are prevented by the BlockPublicPolicy setting in S3 Block Public Access."
        ));
    }
    s3.store
        .set_bucket_policy(&bucket.name, Some(&input.policy))
        .await
        .map_err(internal)?;
    let mut response = S3Response::new(PutBucketPolicyOutput::default());
    response.status = Some(http::StatusCode::NO_CONTENT);
    Ok(response)
}

pub(crate) async fn get_bucket_policy(
    s3: &CofferS3,
    req: S3Request<GetBucketPolicyInput>,
) -> S3Result<S3Response<GetBucketPolicyOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    policy_owner_only(&req, &bucket)?;
    let policy = bucket
        .policy
        .ok_or_else(|| s3_error!(NoSuchBucketPolicy, "The bucket policy does not exist"))?;
    Ok(S3Response::new(GetBucketPolicyOutput { policy: Some(policy) }))
}

pub(crate) async fn delete_bucket_policy(
    s3: &CofferS3,
    req: S3Request<DeleteBucketPolicyInput>,
) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    policy_owner_only(&req, &bucket)?;
    s3.store.set_bucket_policy(&bucket.name, None).await.map_err(internal)?;
    let mut response = S3Response::new(DeleteBucketPolicyOutput::default());
    response.status = Some(http::StatusCode::NO_CONTENT);
    Ok(response)
}

pub(crate) async fn get_bucket_policy_status(
    s3: &CofferS3,
    req: S3Request<GetBucketPolicyStatusInput>,
) -> S3Result<S3Response<GetBucketPolicyStatusOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    owner_only(&req, &bucket)?;
    let document = bucket
        .policy
        .ok_or_else(|| s3_error!(NoSuchBucketPolicy, "The bucket policy does not exist"))?;
    let is_public = Policy::parse(&document, PolicyKind::Resource).is_ok_and(|p| p.is_public());
    Ok(S3Response::new(GetBucketPolicyStatusOutput {
        policy_status: Some(PolicyStatus {
            is_public: Some(is_public),
        }),
    }))
}

pub(crate) async fn put_public_access_block(
    s3: &CofferS3,
    req: S3Request<PutPublicAccessBlockInput>,
) -> S3Result<S3Response<PutPublicAccessBlockOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    owner_only(&req, &bucket)?;
    let input = req.input;
    let c = input.public_access_block_configuration;
    let settings = PublicAccessBlock {
        block_public_acls: c.block_public_acls.unwrap_or(false),
        ignore_public_acls: c.ignore_public_acls.unwrap_or(false),
        block_public_policy: c.block_public_policy.unwrap_or(false),
        restrict_public_buckets: c.restrict_public_buckets.unwrap_or(false),
    };
    s3.store
        .set_public_access_block(&bucket.name, Some(settings))
        .await
        .map_err(internal)?;
    Ok(S3Response::new(PutPublicAccessBlockOutput::default()))
}

pub(crate) async fn get_public_access_block(
    s3: &CofferS3,
    req: S3Request<GetPublicAccessBlockInput>,
) -> S3Result<S3Response<GetPublicAccessBlockOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    owner_only(&req, &bucket)?;
    let settings = bucket.public_access_block.ok_or_else(|| {
        custom_error(
            "NoSuchPublicAccessBlockConfiguration",
            http::StatusCode::NOT_FOUND,
            "The public access block configuration was not found",
        )
    })?;
    Ok(S3Response::new(GetPublicAccessBlockOutput {
        public_access_block_configuration: Some(PublicAccessBlockConfiguration {
            block_public_acls: Some(settings.block_public_acls),
            ignore_public_acls: Some(settings.ignore_public_acls),
            block_public_policy: Some(settings.block_public_policy),
            restrict_public_buckets: Some(settings.restrict_public_buckets),
        }),
    }))
}

pub(crate) async fn delete_public_access_block(
    s3: &CofferS3,
    req: S3Request<DeletePublicAccessBlockInput>,
) -> S3Result<S3Response<DeletePublicAccessBlockOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    owner_only(&req, &bucket)?;
    s3.store
        .set_public_access_block(&bucket.name, None)
        .await
        .map_err(internal)?;
    let mut response = S3Response::new(DeletePublicAccessBlockOutput::default());
    response.status = Some(http::StatusCode::NO_CONTENT);
    Ok(response)
}
