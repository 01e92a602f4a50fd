//! Bucket policies and Block Public Access: PutBucketPolicy, GetBucketPolicy,
//! DeleteBucketPolicy, GetBucketPolicyStatus, Put/Get/DeletePublicAccessBlock. A bucket policy
//! is a resource policy for the engine: it can grant other principals (and, when the bucket's
//! Block Public Access allows, anyone) and its Deny binds even the bucket owner's root user,
//! except for the three bucket policy operations themselves, so an owner cannot lock itself
//! out (see the access hook).

use coffer_policy::{Policy, PolicyKind};
use coffer_store::PublicAccessBlock;
use s3s::dto::*;
use s3s::{S3Request, S3Response};

use crate::CofferS3;
use crate::error::{Result, S3Fault};

/// Only the bucket owner's account manages its policy and Block Public Access, whatever a
/// bucket policy grants others (as S3).
fn owner_only<T>(req: &S3Request<T>, bucket: &coffer_store::Bucket) -> Result<()> {
    match crate::caller(req) {
        Ok(caller) if caller.owns(&bucket.account_id) => Ok(()),
        _ => Err(S3Fault::AccessDenied("Access Denied".to_owned())),
    }
}

/// The bucket policy operations: a caller the policies allow who is not of the owner's account
/// gets `405 MethodNotAllowed`, as S3 documents for them.
fn policy_owner_only<T>(req: &S3Request<T>, bucket: &coffer_store::Bucket) -> Result<()> {
    owner_only(req, bucket).map_err(|_| S3Fault::MethodNotAllowed)
}

/// S3's limit on a bucket policy.
const MAX_BUCKET_POLICY: usize = 20 * 1024;

pub(crate) async fn put_bucket_policy(
    s3: &CofferS3,
    req: S3Request<PutBucketPolicyInput>,
) -> Result<S3Response<PutBucketPolicyOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    policy_owner_only(&req, &bucket)?;
    let input = req.input;
    if input.policy.len() > MAX_BUCKET_POLICY {
        return Err(S3Fault::InvalidPolicyDocument(
            "Policies must be less than 20 KB".to_owned(),
        ));
    }
    let policy =
        Policy::parse(&input.policy, PolicyKind::Resource).map_err(|e| S3Fault::MalformedPolicy(format!("{e}")))?;
    check_resources(&policy, &bucket.name)?;
    check_principals(&s3.store, &policy).await?;
    let blocks_public = bucket.public_access_block.is_some_and(|b| b.block_public_policy);
    if blocks_public && policy.is_public() {
        return Err(S3Fault::AccessDenied("User is not authorized to perform: s3:PutBucketPolicy because public policies are prevented by the BlockPublicPolicy setting in S3 Block Public Access.".to_owned()));
    }
    s3.store
        .set_bucket_policy(&bucket.name, Some(&input.policy))
        .await
        .map_err(S3Fault::from)?;
    let mut response = S3Response::new(PutBucketPolicyOutput::default());
    response.status = Some(http::StatusCode::NO_CONTENT);
    Ok(response)
}

/// S3 keeps a bucket policy only about its own bucket: every Resource (or NotResource) must
/// be able to name the bucket or one of its objects. Patterns with policy variables are
/// taken as written.
fn check_resources(policy: &Policy, bucket: &str) -> Result<()> {
    use coffer_policy::Match;
    use coffer_policy::pattern::{Pattern, Variables, Wildcards};
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    let object_arn = format!("arn:aws:s3:::{bucket}/");
    let names_this_bucket = |text: &str| {
        if text.contains("${") {
            return true;
        }
        let Some(pattern) = Pattern::new(text, Wildcards::Match, Variables::Literal, None) else {
            return true;
        };
        // An object pattern names the bucket if it matches some key: try the prefix it fixes.
        let fixed: String = text.chars().take_while(|c| *c != '*' && *c != '?').collect();
        pattern.matches(&bucket_arn, false)
            || pattern.matches(&format!("{object_arn}x"), false)
            || (fixed.starts_with(&object_arn) && pattern.matches(&format!("{fixed}x"), false))
            || (fixed.starts_with(&object_arn) && pattern.matches(&fixed, false))
    };
    for statement in &policy.statements {
        let (Some(Match::Is(list)) | Some(Match::Not(list))) = &statement.resources else {
            continue;
        };
        if let Some(foreign) = list.iter().find(|r| !names_this_bucket(r)) {
            return Err(S3Fault::MalformedPolicy(format!(
                "Policy has invalid resource: {foreign}"
            )));
        }
    }
    Ok(())
}

/// S3 refuses a bucket policy naming an AWS principal that does not exist: an account, or a
/// user, role or role session of one, that Coffer does not know.
async fn check_principals(store: &coffer_store::Store, policy: &Policy) -> Result<()> {
    use coffer_policy::Match;
    use coffer_store::StoreError;
    for statement in &policy.statements {
        let (Some(Match::Is(principals)) | Some(Match::Not(principals))) = &statement.principals else {
            continue;
        };
        for name in &principals.aws {
            let invalid = || S3Fault::MalformedPolicy(format!("Invalid principal in policy: \"AWS\":\"{name}\""));
            // A CanonicalUser id (kept among AWS principals) is taken as written.
            if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue;
            }
            let (account, resource) = if name.len() == 12 && name.bytes().all(|b| b.is_ascii_digit()) {
                (name.as_str(), "root")
            } else {
                let rest = name
                    .strip_prefix("arn:aws:iam::")
                    .or_else(|| name.strip_prefix("arn:aws:sts::"))
                    .ok_or_else(invalid)?;
                rest.split_once(':').ok_or_else(invalid)?
            };
            let exists = |found: std::result::Result<bool, StoreError>| match found {
                Ok(same) => Ok(same),
                Err(StoreError::NoSuchUser | StoreError::NoSuchRole | StoreError::NoSuchAccount) => Ok(false),
                Err(err) => Err(S3Fault::from(err)),
            };
            let known = if resource == "root" {
                exists(store.account(account).await.map(|_| true))?
            } else if let Some(path_and_name) = resource.strip_prefix("user/") {
                let user_name = path_and_name.rsplit('/').next().unwrap_or_default();
                exists(store.user(account, user_name).await.map(|u| u.arn() == *name))?
            } else if let Some(path_and_name) = resource.strip_prefix("role/") {
                let role_name = path_and_name.rsplit('/').next().unwrap_or_default();
                exists(store.role(account, role_name).await.map(|r| r.arn() == *name))?
            } else if let Some(session) = resource.strip_prefix("assumed-role/") {
                // A session ARN names the role (without its path) and any session name.
                let role_name = session.split('/').next().unwrap_or_default();
                exists(store.role(account, role_name).await.map(|_| true))?
            } else {
                // Federated users and the rest are taken as written.
                exists(store.account(account).await.map(|_| true))?
            };
            if !known {
                return Err(invalid());
            }
        }
    }
    Ok(())
}

pub(crate) async fn get_bucket_policy(
    s3: &CofferS3,
    req: S3Request<GetBucketPolicyInput>,
) -> Result<S3Response<GetBucketPolicyOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    policy_owner_only(&req, &bucket)?;
    let policy = bucket.policy.ok_or_else(|| S3Fault::NoSuchBucketPolicy)?;
    Ok(S3Response::new(GetBucketPolicyOutput { policy: Some(policy) }))
}

pub(crate) async fn delete_bucket_policy(
    s3: &CofferS3,
    req: S3Request<DeleteBucketPolicyInput>,
) -> Result<S3Response<DeleteBucketPolicyOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    policy_owner_only(&req, &bucket)?;
    s3.store
        .set_bucket_policy(&bucket.name, None)
        .await
        .map_err(S3Fault::from)?;
    let mut response = S3Response::new(DeleteBucketPolicyOutput::default());
    response.status = Some(http::StatusCode::NO_CONTENT);
    Ok(response)
}

pub(crate) async fn get_bucket_policy_status(
    s3: &CofferS3,
    req: S3Request<GetBucketPolicyStatusInput>,
) -> Result<S3Response<GetBucketPolicyStatusOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    owner_only(&req, &bucket)?;
    let document = bucket.policy.ok_or_else(|| S3Fault::NoSuchBucketPolicy)?;
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
) -> Result<S3Response<PutPublicAccessBlockOutput>> {
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
        .map_err(S3Fault::from)?;
    Ok(S3Response::new(PutPublicAccessBlockOutput::default()))
}

pub(crate) async fn get_public_access_block(
    s3: &CofferS3,
    req: S3Request<GetPublicAccessBlockInput>,
) -> Result<S3Response<GetPublicAccessBlockOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    owner_only(&req, &bucket)?;
    let settings = bucket
        .public_access_block
        .ok_or(S3Fault::NoSuchPublicAccessBlockConfiguration)?;
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
) -> Result<S3Response<DeletePublicAccessBlockOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    owner_only(&req, &bucket)?;
    s3.store
        .set_public_access_block(&bucket.name, None)
        .await
        .map_err(S3Fault::from)?;
    let mut response = S3Response::new(DeletePublicAccessBlockOutput::default());
    response.status = Some(http::StatusCode::NO_CONTENT);
    Ok(response)
}
