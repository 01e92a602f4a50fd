//! Put/Get/DeleteBucketLifecycleConfiguration: S3's lifecycle rules validated as S3 validates
//! them and kept in the store, whose lifecycle pass applies them; and `x-amz-expiration`, the
//! header that tells a writer or reader when a rule will expire an object.

use s3s::dto::*;
use s3s::{S3Request, S3Response};
use time::OffsetDateTime;

use crate::CofferS3;
use crate::error::{Result, S3Fault};
use coffer_store::{Bucket, Expiration, LifecycleFilter, LifecycleRule, NoncurrentExpiration};

/// S3's limits on a configuration.
const MAX_RULES: usize = 1000;
const MAX_ID_LEN: usize = 255;
const MAX_NEWER_NONCURRENT: i32 = 100;

fn invalid(message: &str) -> S3Fault {
    S3Fault::InvalidArgument(message.to_owned())
}

/// A positive number of days.
fn positive_days(days: i32, what: &str) -> Result<u32> {
    if days <= 0 {
        return Err(invalid(&format!(
            "'{what}' for Expiration action must be a positive integer"
        )));
    }
    Ok(days as u32)
}

fn filter_of(rule: &s3s::dto::LifecycleRule) -> Result<LifecycleFilter> {
    let size = |n: Option<i64>| -> Result<Option<u64>> {
        match n {
            Some(n) if n < 0 => Err(invalid("Object size filters must be non-negative")),
            other => Ok(other.map(|n| n as u64)),
        }
    };
    let tag = |tag: &Tag| -> Result<(String, String)> {
        match (&tag.key, &tag.value) {
            (Some(key), Some(value)) if !key.is_empty() => Ok((key.clone(), value.clone())),
            _ => Err(S3Fault::MalformedXML),
        }
    };
    let filter = match (&rule.prefix, &rule.filter) {
        (Some(_), Some(_)) => return Err(S3Fault::MalformedXML),
        (Some(prefix), None) => LifecycleFilter {
            prefix: Some(prefix.clone()),
            rule_prefix: true,
            ..Default::default()
        },
        (None, None) => LifecycleFilter::default(),
        (None, Some(filter)) => {
            let given = [
                filter.prefix.is_some(),
                filter.tag.is_some(),
                filter.object_size_greater_than.is_some(),
                filter.object_size_less_than.is_some(),
                filter.and.is_some(),
            ];
            if given.iter().filter(|g| **g).count() > 1 {
                // Several conditions go in an And.
                return Err(S3Fault::MalformedXML);
            }
            match &filter.and {
                Some(and) => LifecycleFilter {
                    prefix: and.prefix.clone(),
                    tags: and.tags.iter().flatten().map(tag).collect::<Result<_>>()?,
                    size_greater_than: size(and.object_size_greater_than)?,
                    size_less_than: size(and.object_size_less_than)?,
                    and: true,
                    ..Default::default()
                },
                None => LifecycleFilter {
                    prefix: filter.prefix.clone(),
                    tags: filter.tag.iter().map(tag).collect::<Result<_>>()?,
                    size_greater_than: size(filter.object_size_greater_than)?,
                    size_less_than: size(filter.object_size_less_than)?,
                    ..Default::default()
                },
            }
        }
    };
    if let (Some(min), Some(max)) = (filter.size_greater_than, filter.size_less_than)
        && min >= max
    {
        return Err(invalid("ObjectSizeGreaterThan must be less than ObjectSizeLessThan"));
    }
    Ok(filter)
}

/// One rule, validated as S3 validates it.
fn rule_of(rule: &s3s::dto::LifecycleRule) -> Result<LifecycleRule> {
    let enabled = match rule.status.as_str() {
        ExpirationStatus::ENABLED => true,
        ExpirationStatus::DISABLED => false,
        _ => return Err(S3Fault::MalformedXML),
    };
    if rule.transitions.as_ref().is_some_and(|t| !t.is_empty())
        || rule
            .noncurrent_version_transitions
            .as_ref()
            .is_some_and(|t| !t.is_empty())
    {
        return Err(S3Fault::NotImplemented(
            "Coffer keeps every object in one storage class: Transition and NoncurrentVersionTransition are not supported"
                .to_owned(),
        ));
    }
    let id = match &rule.id {
        Some(id) if id.len() > MAX_ID_LEN => {
            return Err(invalid("ID length should not exceed allowed limit of 255"));
        }
        Some(id) if !id.is_empty() => id.clone(),
        // S3 names a rule sent without an id.
        _ => coffer_store::new_version_id(0),
    };
    let filter = filter_of(rule)?;
    let expiration = match &rule.expiration {
        None => None,
        Some(e) => {
            let marker = e.expired_object_delete_marker == Some(true);
            let date = match &e.date {
                None => None,
                Some(date) => {
                    let date = OffsetDateTime::from(date.clone()).to_offset(time::UtcOffset::UTC);
                    if (date.hour(), date.minute(), date.second(), date.nanosecond()) != (0, 0, 0, 0) {
                        return Err(invalid("'Date' must be at midnight GMT"));
                    }
                    Some(date.unix_timestamp() * 1000)
                }
            };
            let days = e.days.map(|d| positive_days(d, "Days")).transpose()?;
            let actions = [days.is_some(), date.is_some(), e.expired_object_delete_marker.is_some()];
            if actions.iter().filter(|a| **a).count() != 1 {
                return Err(S3Fault::MalformedXML);
            }
            if marker && !filter.tags.is_empty() {
                return Err(invalid(
                    "ExpiredObjectDeleteMarker cannot be specified with a tag-based filter",
                ));
            }
            Some(Expiration {
                days,
                date,
                expired_object_delete_marker: marker,
            })
        }
    };
    let noncurrent_expiration = match &rule.noncurrent_version_expiration {
        None => None,
        Some(n) => {
            let days = positive_days(n.noncurrent_days.ok_or(S3Fault::MalformedXML)?, "NoncurrentDays")?;
            let newer = match n.newer_noncurrent_versions {
                Some(n) if !(1..=MAX_NEWER_NONCURRENT).contains(&n) => {
                    return Err(invalid("NewerNoncurrentVersions must be between 1 and 100"));
                }
                other => other.map(|n| n as u32),
            };
            Some(NoncurrentExpiration {
                days,
                newer_noncurrent_versions: newer,
            })
        }
    };
    let abort_incomplete_upload_days = match &rule.abort_incomplete_multipart_upload {
        None => None,
        Some(abort) => {
            if !filter.tags.is_empty() {
                return Err(invalid("AbortIncompleteMultipartUpload cannot be specified with Tags."));
            }
            // An upload has no size yet: a size filter could not be honoured.
            if filter.size_greater_than.is_some() || filter.size_less_than.is_some() {
                return Err(invalid(
                    "AbortIncompleteMultipartUpload cannot be specified with an object size filter.",
                ));
            }
            let days = abort.days_after_initiation.ok_or(S3Fault::MalformedXML)?;
            Some(positive_days(days, "DaysAfterInitiation")?)
        }
    };
    if expiration.is_none() && noncurrent_expiration.is_none() && abort_incomplete_upload_days.is_none() {
        return Err(invalid("At least one action needs to be specified in a rule"));
    }
    Ok(LifecycleRule {
        id,
        enabled,
        filter,
        expiration,
        noncurrent_expiration,
        abort_incomplete_upload_days,
    })
}

/// A configuration's rules, validated as a whole.
pub(crate) fn rules_of(rules: &[s3s::dto::LifecycleRule]) -> Result<Vec<LifecycleRule>> {
    if rules.is_empty() || rules.len() > MAX_RULES {
        return Err(S3Fault::MalformedXML);
    }
    let rules: Vec<LifecycleRule> = rules.iter().map(rule_of).collect::<Result<_>>()?;
    let mut ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(invalid("Rule ID must be unique. Found same ID for more than one rule"));
    }
    Ok(rules)
}

/// A stored rule as S3 writes it back.
fn dto_of(rule: &LifecycleRule) -> s3s::dto::LifecycleRule {
    let f = &rule.filter;
    let tag = |(key, value): &(String, String)| Tag {
        key: Some(key.clone()),
        value: Some(value.clone()),
    };
    let filter = (!f.rule_prefix).then(|| {
        if f.and {
            LifecycleRuleFilter {
                and: Some(LifecycleRuleAndOperator {
                    prefix: f.prefix.clone(),
                    tags: (!f.tags.is_empty()).then(|| f.tags.iter().map(tag).collect()),
                    object_size_greater_than: f.size_greater_than.map(|n| n as i64),
                    object_size_less_than: f.size_less_than.map(|n| n as i64),
                }),
                ..Default::default()
            }
        } else {
            LifecycleRuleFilter {
                prefix: f.prefix.clone(),
                tag: f.tags.first().map(tag),
                object_size_greater_than: f.size_greater_than.map(|n| n as i64),
                object_size_less_than: f.size_less_than.map(|n| n as i64),
                ..Default::default()
            }
        }
    });
    s3s::dto::LifecycleRule {
        id: Some(rule.id.clone()),
        status: ExpirationStatus::from_static(if rule.enabled {
            ExpirationStatus::ENABLED
        } else {
            ExpirationStatus::DISABLED
        }),
        prefix: f.rule_prefix.then(|| f.prefix.clone().unwrap_or_default()),
        filter,
        expiration: rule.expiration.as_ref().map(|e| LifecycleExpiration {
            days: e.days.map(|d| d as i32),
            date: e
                .date
                .and_then(|ms| OffsetDateTime::from_unix_timestamp(ms / 1000).ok())
                .map(Timestamp::from),
            expired_object_delete_marker: e.expired_object_delete_marker.then_some(true),
        }),
        noncurrent_version_expiration: rule.noncurrent_expiration.as_ref().map(|n| {
            s3s::dto::NoncurrentVersionExpiration {
                noncurrent_days: Some(n.days as i32),
                newer_noncurrent_versions: n.newer_noncurrent_versions.map(|n| n as i32),
            }
        }),
        abort_incomplete_multipart_upload: rule.abort_incomplete_upload_days.map(|days| {
            AbortIncompleteMultipartUpload {
                days_after_initiation: Some(days as i32),
            }
        }),
        noncurrent_version_transitions: None,
        transitions: None,
    }
}

pub(crate) async fn put_bucket_lifecycle_configuration(
    s3: &CofferS3,
    req: S3Request<PutBucketLifecycleConfigurationInput>,
) -> Result<S3Response<PutBucketLifecycleConfigurationOutput>> {
    let input = req.input;
    let bucket = s3.bucket(&input.bucket).await?;
    let configuration = input.lifecycle_configuration.ok_or(S3Fault::MalformedXML)?;
    let rules = rules_of(&configuration.rules)?;
    s3.store
        .set_bucket_lifecycle(&bucket.name, Some(&rules))
        .await
        .map_err(S3Fault::from)?;
    Ok(S3Response::new(PutBucketLifecycleConfigurationOutput::default()))
}

pub(crate) async fn get_bucket_lifecycle_configuration(
    s3: &CofferS3,
    req: S3Request<GetBucketLifecycleConfigurationInput>,
) -> Result<S3Response<GetBucketLifecycleConfigurationOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    let rules = bucket.lifecycle.as_ref().ok_or(S3Fault::NoSuchLifecycleConfiguration)?;
    Ok(S3Response::new(GetBucketLifecycleConfigurationOutput {
        rules: Some(rules.iter().map(dto_of).collect()),
        ..Default::default()
    }))
}

pub(crate) async fn delete_bucket_lifecycle(
    s3: &CofferS3,
    req: S3Request<DeleteBucketLifecycleInput>,
) -> Result<S3Response<DeleteBucketLifecycleOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    s3.store
        .set_bucket_lifecycle(&bucket.name, None)
        .await
        .map_err(S3Fault::from)?;
    let mut response = S3Response::new(DeleteBucketLifecycleOutput::default());
    response.status = Some(http::StatusCode::NO_CONTENT);
    Ok(response)
}

impl CofferS3 {
    /// `x-amz-expiration` for a current object: when the soonest rule expires it, and which.
    pub(crate) fn expiration_header(&self, bucket: &Bucket, object: &coffer_store::ObjectMeta) -> Option<String> {
        let rules = bucket.lifecycle.as_deref()?;
        let judged = coffer_store::Judged {
            key: &object.key,
            size: object.size,
            tags: &object.tags,
            last_modified: object.last_modified,
        };
        let (at, id) = coffer_store::expiration(rules, &judged, self.lifecycle_day)?;
        let date = crate::headers::http_date(&Timestamp::from(at))?;
        Some(format!("expiry-date=\"{date}\", rule-id=\"{id}\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: Option<&str>, status: &str) -> s3s::dto::LifecycleRule {
        s3s::dto::LifecycleRule {
            id: id.map(str::to_owned),
            status: ExpirationStatus::from(status.to_owned()),
            prefix: None,
            filter: Some(LifecycleRuleFilter {
                prefix: Some("logs/".to_owned()),
                ..Default::default()
            }),
            expiration: Some(LifecycleExpiration {
                days: Some(30),
                ..Default::default()
            }),
            noncurrent_version_expiration: None,
            abort_incomplete_multipart_upload: None,
            noncurrent_version_transitions: None,
            transitions: None,
        }
    }

    fn code(result: Result<Vec<LifecycleRule>>) -> &'static str {
        result.err().map(|e| e.code_status_message().0).unwrap_or("ok")
    }

    #[test]
    fn rules_are_validated_as_s3_validates_them() {
        assert_eq!(code(rules_of(&[rule(Some("a"), "Enabled")])), "ok");
        assert_eq!(code(rules_of(&[])), "MalformedXML");
        assert_eq!(code(rules_of(&[rule(Some("a"), "enabled")])), "MalformedXML");
        assert_eq!(
            code(rules_of(&[rule(Some(&"x".repeat(256)), "Enabled")])),
            "InvalidArgument"
        );
        assert_eq!(
            code(rules_of(&[rule(Some("a"), "Enabled"), rule(Some("a"), "Disabled")])),
            "InvalidArgument"
        );
        let mut zero = rule(Some("a"), "Enabled");
        zero.expiration = Some(LifecycleExpiration {
            days: Some(0),
            ..Default::default()
        });
        assert_eq!(code(rules_of(&[zero])), "InvalidArgument");
        let mut noon = rule(Some("a"), "Enabled");
        noon.expiration = Some(LifecycleExpiration {
            date: Some(Timestamp::from(OffsetDateTime::from_unix_timestamp(43_200).unwrap())),
            ..Default::default()
        });
        assert_eq!(code(rules_of(&[noon])), "InvalidArgument");
        let mut nothing = rule(Some("a"), "Enabled");
        nothing.expiration = None;
        assert_eq!(code(rules_of(&[nothing])), "InvalidArgument");
        let mut both = rule(Some("a"), "Enabled");
        both.prefix = Some("x".to_owned());
        assert_eq!(code(rules_of(&[both])), "MalformedXML");
        let mut transition = rule(Some("a"), "Enabled");
        transition.transitions = Some(vec![Transition::default()]);
        assert_eq!(code(rules_of(&[transition])), "NotImplemented");
        let many: Vec<_> = (0..1001).map(|i| rule(Some(&i.to_string()), "Enabled")).collect();
        assert_eq!(code(rules_of(&many)), "MalformedXML");
        // A rule without an id gets one, and a stored rule reads back as written.
        let named = rules_of(&[rule(None, "Enabled")]).unwrap();
        assert!(!named[0].id.is_empty());
        let back = dto_of(&named[0]);
        assert_eq!(back.filter.unwrap().prefix.as_deref(), Some("logs/"));
        assert_eq!(back.expiration.unwrap().days, Some(30));
    }
}
