//! CreateBucket, HeadBucket, ListBuckets, DeleteBucket, GetBucketLocation.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use s3s::dto::*;
use s3s::{S3Request, S3Response};

use crate::error::{Result, S3Fault};
use crate::{CofferS3, caller, canonical_user_id};
use coffer_store::{NewBucket, StoreError};

/// The region a request without a location constraint creates its bucket in.
const DEFAULT_REGION: &str = "us-east-1";
const MAX_BUCKETS_PAGE: i32 = 10_000;

/// S3's bucket naming rules (general purpose buckets).
pub fn valid_bucket_name(name: &str) -> bool {
    const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
    const RESERVED_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
    s3s::path::check_bucket_name(name)
        // Each dot-separated label must start and end with a letter or digit.
        && !name.contains("-.")
        && !name.contains(".-")
        && !RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
        && !RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s))
}

pub(crate) async fn create_bucket(
    s3: &CofferS3,
    req: S3Request<CreateBucketInput>,
) -> Result<S3Response<CreateBucketOutput>> {
    let creator = caller(&req)?;
    let principal = creator.principal();
    let name = req.input.bucket.as_str();
    if !valid_bucket_name(name) {
        return Err(S3Fault::InvalidBucketName);
    }
    let constraint = req
        .input
        .create_bucket_configuration
        .as_ref()
        .and_then(|c| c.location_constraint.as_ref())
        .map(|c| c.as_str().to_owned());
    // The region of the endpoint the request was signed for. The console signs nothing:
    // it addresses the endpoint of the region it asks for.
    let in_process = req.extensions.get::<coffer_auth::InProcessCaller>().is_some();
    let endpoint_region = match (&req.region, &constraint) {
        (Some(region), _) => region.as_str().to_owned(),
        (None, Some(constraint)) if in_process => constraint.clone(),
        (None, _) => DEFAULT_REGION.to_owned(),
    };
    let region = match constraint {
        Some(constraint) if constraint == DEFAULT_REGION => {
            return Err(S3Fault::InvalidLocationConstraint);
        }
        Some(constraint) if constraint != endpoint_region => {
            return Err(S3Fault::IllegalLocationConstraintException(format!(
                "The {constraint} location constraint is incompatible for the region specific endpoint this request was sent to."
            )));
        }
        Some(constraint) => constraint,
        None if endpoint_region != DEFAULT_REGION => {
            return Err(S3Fault::IllegalLocationConstraintException("The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.".to_owned()));
        }
        None => DEFAULT_REGION.to_owned(),
    };
    let ownership = match &req.input.object_ownership {
        Some(asked) => Some(coffer_store::ObjectOwnership::parse(asked.as_str()).ok_or_else(|| {
            S3Fault::InvalidArgument(format!("Invalid x-amz-object-ownership header: {}", asked.as_str()))
        })?),
        None => s3.new_buckets.object_ownership,
    };
    let acl = crate::acl::new_bucket_acl(s3, &principal.account_id, &req.input, ownership).await?;
    // Enabling ACLs and setting one are permissions of their own, as in S3.
    let may = |action: &str| {
        let resource = format!("arn:aws:s3:::{name}");
        creator.may(&coffer_auth::Request {
            action,
            resource: &resource,
            resource_account: &principal.account_id,
            ..coffer_auth::Request::default()
        })
    };
    if req.input.object_ownership.is_some() && ownership != Some(coffer_store::ObjectOwnership::BucketOwnerEnforced) {
        may("s3:PutBucketOwnershipControls")?;
    }
    if acl
        .as_ref()
        .is_some_and(|grants| *grants != crate::acl::private(&principal.account_id))
    {
        may("s3:PutBucketAcl")?;
    }
    let new = NewBucket {
        object_lock: req.input.object_lock_enabled_for_bucket == Some(true),
        object_ownership: ownership,
        acl: acl.clone(),
        ..s3.new_buckets.clone()
    };
    match s3
        .store
        .create_bucket_with(&principal.account_id, name, &region, new)
        .await
    {
        Ok(_) => {}
        // In us-east-1, S3 answers 200 to an owner re-creating its bucket (legacy behaviour)
        // "and resets the bucket access control lists" to what the request asks.
        Err(StoreError::BucketExists { owned_by_caller: true }) if region == DEFAULT_REGION => {
            let existing = s3.bucket(name).await?;
            if existing.acls_enabled() {
                let grants = acl.unwrap_or_else(|| crate::acl::private(&principal.account_id));
                s3.store
                    .set_bucket_acl(name, &principal.account_id, &grants)
                    .await
                    .map_err(S3Fault::from)?;
            }
        }
        Err(StoreError::BucketExists { owned_by_caller: true }) => {
            return Err(S3Fault::BucketAlreadyOwnedByYou);
        }
        Err(StoreError::BucketExists { owned_by_caller: false }) => {
            return Err(S3Fault::BucketAlreadyExists);
        }
        Err(err) => return Err(err.into()),
    }
    Ok(S3Response::new(CreateBucketOutput {
        location: Some(format!("/{name}")),
    }))
}

pub(crate) async fn head_bucket(
    s3: &CofferS3,
    req: S3Request<HeadBucketInput>,
) -> Result<S3Response<HeadBucketOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    Ok(S3Response::new(HeadBucketOutput {
        bucket_region: Some(bucket.region),
        ..Default::default()
    }))
}

pub(crate) async fn get_bucket_location(
    s3: &CofferS3,
    req: S3Request<GetBucketLocationInput>,
) -> Result<S3Response<GetBucketLocationOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    // us-east-1 is reported as an empty LocationConstraint, as S3 does.
    let location = (bucket.region != DEFAULT_REGION).then(|| BucketLocationConstraint::from(bucket.region));
    Ok(S3Response::new(GetBucketLocationOutput {
        location_constraint: location,
    }))
}

pub(crate) async fn delete_bucket(
    s3: &CofferS3,
    req: S3Request<DeleteBucketInput>,
) -> Result<S3Response<DeleteBucketOutput>> {
    s3.bucket(&req.input.bucket).await?;
    s3.store.delete_bucket(&req.input.bucket).await.map_err(S3Fault::from)?;
    Ok(S3Response::new(DeleteBucketOutput {}))
}

pub(crate) async fn list_buckets(
    s3: &CofferS3,
    req: S3Request<ListBucketsInput>,
) -> Result<S3Response<ListBucketsOutput>> {
    let principal = caller(&req)?.principal();
    let input = &req.input;
    let limit = match input.max_buckets {
        Some(n) if !(1..=MAX_BUCKETS_PAGE).contains(&n) => {
            return Err(S3Fault::InvalidArgument(
                "Argument max-buckets must be an integer between 1 and 10000".to_owned(),
            ));
        }
        Some(n) => n,
        None => MAX_BUCKETS_PAGE,
    };
    let after = match &input.continuation_token {
        Some(token) => Some(
            URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| S3Fault::InvalidArgument("The continuation token provided is incorrect".to_owned()))?,
        ),
        None => None,
    };
    let prefix = input.prefix.as_deref().unwrap_or("");
    let mut buckets = s3
        .store
        .list_buckets(&principal.account_id, prefix, after.as_deref(), i64::from(limit) + 1)
        .await
        .map_err(S3Fault::from)?;
    let more = buckets.len() > limit as usize;
    buckets.truncate(limit as usize);
    let continuation_token = more
        .then(|| buckets.last().map(|b| URL_SAFE_NO_PAD.encode(&b.name)))
        .flatten();
    let account = s3.store.account(&principal.account_id).await.map_err(S3Fault::from)?;
    Ok(S3Response::new(ListBucketsOutput {
        buckets: Some(
            buckets
                .into_iter()
                .map(|bucket| Bucket {
                    bucket_region: Some(bucket.region),
                    creation_date: Some(Timestamp::from(bucket.created_at)),
                    name: Some(bucket.name),
                })
                .collect(),
        ),
        owner: Some(Owner {
            display_name: Some(account.alias.unwrap_or(account.name)),
            id: Some(canonical_user_id(&account.account_id)),
        }),
        continuation_token,
        prefix: input.prefix.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::valid_bucket_name;

    #[test]
    fn bucket_names_follow_the_s3_rules() {
        for good in ["abc", "holiday-photos", "a.b.c", "1bucket", &"a".repeat(63)] {
            assert!(valid_bucket_name(good), "{good}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "Holiday",
            "-start",
            "end-",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "sthree-x",
            "amzn-s3-demo-x",
            "x-s3alias",
            "x--ol-s3",
            "x.mrap",
            "x--x-s3",
            "x--table-s3",
            "under_score",
            "foo-.bar",
            "foo.-bar",
        ] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
    }
}
