//! S3 tagging: Put/Get/DeleteObjectTagging (by version too), Put/Get/DeleteBucketTagging, and
//! the `x-amz-tagging` header of PutObject, CopyObject and CreateMultipartUpload. Tags are
//! checked as S3 checks them before anything is stored.

use s3s::dto::*;
use s3s::{S3Request, S3Response};

use crate::CofferS3;
use crate::error::{Result, S3Fault};
use crate::versioning::{check_version_id, reported_version};
use coffer_auth::Caller;
use coffer_store::{Bucket, StoreError, Tag};

/// At most this many tags on an object, and on a bucket.
pub(crate) const MAX_OBJECT_TAGS: usize = 10;
const MAX_BUCKET_TAGS: usize = 50;
const MAX_KEY_CHARS: usize = 128;
const MAX_VALUE_CHARS: usize = 256;

/// Checks a tag set as S3 does: the count, each key's and value's length, no key twice, no
/// key in AWS's reserved `aws:` namespace.
pub(crate) fn check(tags: &[Tag], max: usize) -> Result<()> {
    if tags.len() > max {
        return Err(S3Fault::InvalidTag(format!("Tag count cannot be greater than {max}")));
    }
    for (i, tag) in tags.iter().enumerate() {
        if tag.key.is_empty() {
            return Err(S3Fault::InvalidTag(
                "The TagKey you have provided is invalid".to_owned(),
            ));
        }
        if tag.key.chars().count() > MAX_KEY_CHARS {
            return Err(S3Fault::InvalidTag(
                "The TagKey you have provided is too long, max 128".to_owned(),
            ));
        }
        if tag.value.chars().count() > MAX_VALUE_CHARS {
            return Err(S3Fault::InvalidTag(
                "The TagValue you have provided is too long, max 256".to_owned(),
            ));
        }
        if tag.key.to_ascii_lowercase().starts_with("aws:") {
            return Err(S3Fault::InvalidTag(
                "Your TagKey cannot be prefixed with aws:".to_owned(),
            ));
        }
        if tags[..i].iter().any(|t| t.key == tag.key) {
            return Err(S3Fault::InvalidTag(
                "Cannot provide multiple Tags with the same key".to_owned(),
            ));
        }
    }
    Ok(())
}

/// The tags of an `x-amz-tagging` header (URL query form: `k1=v1&k2=v2`), checked.
pub(crate) fn from_header(header: Option<&str>) -> Result<Vec<Tag>> {
    let Some(header) = header else { return Ok(Vec::new()) };
    let tags: Vec<Tag> = form_urlencoded::parse(header.as_bytes())
        .map(|(key, value)| Tag {
            key: key.into_owned(),
            value: value.into_owned(),
        })
        .collect();
    // Too many in the header is S3's BadRequest (in a body, InvalidTag).
    if tags.len() > MAX_OBJECT_TAGS {
        return Err(S3Fault::BadRequest("Object tags cannot be greater than 10".to_owned()));
    }
    check(&tags, MAX_OBJECT_TAGS)?;
    Ok(sorted(tags))
}

/// S3 keeps a tag set ordered by key.
fn sorted(mut tags: Vec<Tag>) -> Vec<Tag> {
    tags.sort_by(|a, b| a.key.cmp(&b.key));
    tags
}

/// Tagging with a write needs `s3:PutObjectTagging` besides `s3:PutObject`, as in S3, judged
/// with the tags asked for as `s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys`.
pub(crate) fn may_tag(caller: Option<&Caller>, bucket: &Bucket, key: &str, tags: &[Tag]) -> Result<()> {
    if tags.is_empty() {
        return Ok(());
    }
    let Some(caller) = caller else {
        return Err(S3Fault::AccessDenied("Access Denied".to_owned()));
    };
    let names: Vec<String> = tags.iter().map(|t| format!("s3:RequestObjectTag/{}", t.key)).collect();
    let keys = tags
        .iter()
        .zip(&names)
        .flat_map(|(tag, name)| {
            [
                ("s3:RequestObjectTagKeys", tag.key.clone()),
                (name.as_str(), tag.value.clone()),
            ]
        })
        .collect();
    caller
        .may_in_bucket_with("s3:PutObjectTagging", bucket, Some(key), keys)
        .map_err(S3Fault::from)
}

/// A tag set in the XML body, checked.
fn from_body(tagging: Tagging, max: usize) -> Result<Vec<Tag>> {
    let tags: Vec<Tag> = tagging
        .tag_set
        .into_iter()
        .map(|tag| match (tag.key, tag.value) {
            (Some(key), Some(value)) => Ok(Tag { key, value }),
            _ => Err(S3Fault::MalformedXML),
        })
        .collect::<Result<_>>()?;
    check(&tags, max)?;
    Ok(sorted(tags))
}

fn to_dto(tags: &[Tag]) -> TagSet {
    tags.iter()
        .map(|tag| s3s::dto::Tag {
            key: Some(tag.key.clone()),
            value: Some(tag.value.clone()),
        })
        .collect()
}

fn tag_fault(err: StoreError) -> S3Fault {
    match err {
        StoreError::MethodNotAllowed => S3Fault::MethodNotAllowed,
        other => other.into(),
    }
}

pub(crate) async fn put_object_tagging(
    s3: &CofferS3,
    req: S3Request<PutObjectTaggingInput>,
) -> Result<S3Response<PutObjectTaggingOutput>> {
    let input = req.input;
    let version = check_version_id(input.version_id.as_deref())?;
    let bucket = s3.bucket(&input.bucket).await?;
    let tags = from_body(input.tagging, MAX_OBJECT_TAGS)?;
    let version_id = s3
        .store
        .set_object_tags(&bucket.name, &input.key, version, &tags)
        .await
        .map_err(tag_fault)?;
    Ok(S3Response::new(PutObjectTaggingOutput {
        version_id: reported_version(&bucket, &version_id),
    }))
}

pub(crate) async fn get_object_tagging(
    s3: &CofferS3,
    req: S3Request<GetObjectTaggingInput>,
) -> Result<S3Response<GetObjectTaggingOutput>> {
    let reader = crate::caller(&req).ok().cloned();
    let input = req.input;
    let found = match s3
        .object(reader.as_ref(), &input.bucket, &input.key, input.version_id.as_deref())
        .await
    {
        Err(S3Fault::DeleteMarker { .. }) => return Err(S3Fault::MethodNotAllowed),
        other => other?,
    };
    Ok(S3Response::new(GetObjectTaggingOutput {
        tag_set: to_dto(&found.object.tags),
        version_id: reported_version(&found.bucket, &found.object.version_id),
    }))
}

pub(crate) async fn delete_object_tagging(
    s3: &CofferS3,
    req: S3Request<DeleteObjectTaggingInput>,
) -> Result<S3Response<DeleteObjectTaggingOutput>> {
    let input = req.input;
    let version = check_version_id(input.version_id.as_deref())?;
    let bucket = s3.bucket(&input.bucket).await?;
    let version_id = s3
        .store
        .set_object_tags(&bucket.name, &input.key, version, &[])
        .await
        .map_err(tag_fault)?;
    let mut response = S3Response::new(DeleteObjectTaggingOutput {
        version_id: reported_version(&bucket, &version_id),
    });
    response.status = Some(http::StatusCode::NO_CONTENT);
    Ok(response)
}

pub(crate) async fn put_bucket_tagging(
    s3: &CofferS3,
    req: S3Request<PutBucketTaggingInput>,
) -> Result<S3Response<PutBucketTaggingOutput>> {
    let input = req.input;
    let bucket = s3.bucket(&input.bucket).await?;
    let tags = from_body(input.tagging, MAX_BUCKET_TAGS)?;
    s3.store
        .set_bucket_tags(&bucket.name, &tags)
        .await
        .map_err(S3Fault::from)?;
    let mut response = S3Response::new(PutBucketTaggingOutput::default());
    response.status = Some(http::StatusCode::NO_CONTENT);
    Ok(response)
}

pub(crate) async fn get_bucket_tagging(
    s3: &CofferS3,
    req: S3Request<GetBucketTaggingInput>,
) -> Result<S3Response<GetBucketTaggingOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    if bucket.tags.is_empty() {
        return Err(S3Fault::NoSuchTagSet);
    }
    Ok(S3Response::new(GetBucketTaggingOutput {
        tag_set: to_dto(&bucket.tags),
    }))
}

pub(crate) async fn delete_bucket_tagging(
    s3: &CofferS3,
    req: S3Request<DeleteBucketTaggingInput>,
) -> Result<S3Response<DeleteBucketTaggingOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    s3.store
        .set_bucket_tags(&bucket.name, &[])
        .await
        .map_err(S3Fault::from)?;
    let mut response = S3Response::new(DeleteBucketTaggingOutput::default());
    response.status = Some(http::StatusCode::NO_CONTENT);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(key: &str, value: &str) -> Tag {
        Tag {
            key: key.to_owned(),
            value: value.to_owned(),
        }
    }

    fn code(result: Result<Vec<Tag>>) -> &'static str {
        result.err().map(|e| e.code_status_message().0).unwrap_or("ok")
    }

    #[test]
    fn headers_and_sets_are_checked_as_s3_checks_them() {
        let tags = from_header(Some("project=blue&owner=a%20b&empty")).unwrap();
        assert_eq!(tags, [tag("empty", ""), tag("owner", "a b"), tag("project", "blue")]);
        assert_eq!(from_header(None).unwrap(), []);
        let eleven: String = (0..11).map(|i| format!("k{i}=v&")).collect();
        assert_eq!(code(from_header(Some(&eleven))), "BadRequest");
        assert_eq!(code(from_header(Some("a=1&a=2"))), "InvalidTag");
        assert_eq!(code(from_header(Some(&format!("{}=v", "k".repeat(129))))), "InvalidTag");
        assert_eq!(code(from_header(Some(&format!("k={}", "v".repeat(257))))), "InvalidTag");
        assert_eq!(code(from_header(Some("aws:x=1"))), "InvalidTag");
        assert!(
            check(
                &(0..50).map(|i| tag(&format!("k{i}"), "v")).collect::<Vec<_>>(),
                MAX_BUCKET_TAGS
            )
            .is_ok()
        );
    }
}
