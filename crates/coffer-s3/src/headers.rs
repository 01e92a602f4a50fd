//! An object's HTTP headers between s3s's types and the store's, and S3's conditional
//! requests (`If-Match`, `If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since`).

use s3s::dto::{ETag, ETagCondition, Metadata, Timestamp, TimestampFormat};
use time::OffsetDateTime;

use crate::checksums::{Algorithm, COMPOSITE, FULL_OBJECT};
use crate::error::{Result, S3Fault};
use coffer_store::{ObjectChecksum, ObjectHeaders, ObjectMeta, WriteCondition};

/// `Content-Encoding` without `aws-chunked`, which only framed the upload; the other
/// codings are kept as the client wrote them.
pub fn stored_encoding(encoding: Option<String>) -> Option<String> {
    let encoding = encoding?;
    let kept: Vec<&str> = encoding
        .split(',')
        .filter(|token| !token.trim().is_empty() && !token.trim().eq_ignore_ascii_case("aws-chunked"))
        .collect();
    let kept = kept.join(",");
    let kept = kept.trim();
    (!kept.is_empty()).then(|| kept.to_owned())
}

pub fn http_date(timestamp: &Timestamp) -> Option<String> {
    let mut out = Vec::new();
    timestamp.format(TimestampFormat::HttpDate, &mut out).ok()?;
    String::from_utf8(out).ok()
}

pub fn parse_http_date(text: &str) -> Option<Timestamp> {
    Timestamp::parse(TimestampFormat::HttpDate, text).ok()
}

/// Builds the stored headers from a request's.
pub struct HeaderInput {
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
    pub content_language: Option<String>,
    pub expires: Option<Timestamp>,
    pub metadata: Option<Metadata>,
}

/// The type S3 gives an object written without a Content-Type.
pub const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// User metadata may hold at most 2 KiB: the UTF-8 bytes of every name and value.
const MAX_USER_METADATA: usize = 2 * 1024;

/// PutObjectInput, CopyObjectInput and CreateMultipartUploadInput name these headers alike.
macro_rules! header_input {
    ($input:expr) => {
        $crate::headers::HeaderInput {
            content_type: $input.content_type,
            cache_control: $input.cache_control,
            content_disposition: $input.content_disposition,
            content_encoding: $input.content_encoding,
            content_language: $input.content_language,
            expires: $input.expires,
            metadata: $input.metadata,
        }
    };
}
pub(crate) use header_input;

impl HeaderInput {
    pub fn into_headers(self) -> Result<ObjectHeaders> {
        let user_metadata: std::collections::BTreeMap<String, String> = self
            .metadata
            .unwrap_or_default()
            .into_iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value))
            .collect();
        let size: usize = user_metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
        if size > MAX_USER_METADATA {
            return Err(S3Fault::MetadataTooLarge);
        }
        Ok(ObjectHeaders {
            // S3 types an object its writer did not type (and clients such as boto3 rely on it).
            content_type: self.content_type.or_else(|| Some(DEFAULT_CONTENT_TYPE.to_owned())),
            cache_control: self.cache_control,
            content_disposition: self.content_disposition,
            content_encoding: stored_encoding(self.content_encoding),
            content_language: self.content_language,
            expires: self.expires.as_ref().and_then(http_date),
            user_metadata,
        })
    }
}

pub fn metadata(headers: &ObjectHeaders) -> Option<Metadata> {
    (!headers.user_metadata.is_empty()).then(|| {
        headers
            .user_metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    })
}

pub fn etag(value: &str) -> ETag {
    ETag::Strong(value.to_owned())
}

fn etag_matches(condition: &ETagCondition, current: &str) -> bool {
    match condition.as_etag() {
        None => condition.is_any(),
        Some(etag) => etag.value() == current,
    }
}

/// Whole seconds: HTTP dates carry no more, so comparisons use no more.
fn seconds(time: OffsetDateTime) -> i64 {
    time.unix_timestamp()
}

fn precondition_failed() -> S3Fault {
    S3Fault::PreconditionFailed
}

/// The read conditions of a GET, HEAD or copy source.
#[derive(Default)]
pub struct ReadConditions {
    pub if_match: Option<ETagCondition>,
    pub if_none_match: Option<ETagCondition>,
    pub if_modified_since: Option<Timestamp>,
    pub if_unmodified_since: Option<Timestamp>,
}

/// What a failed read condition answers.
#[derive(Debug, PartialEq, Eq)]
pub enum ConditionFailure {
    /// 412 Precondition Failed.
    Precondition,
    /// 304 Not Modified (a copy source answers 412 instead).
    NotModified,
}

impl ReadConditions {
    /// S3's order: `If-Match` decides over `If-Unmodified-Since`, and `If-None-Match` over
    /// `If-Modified-Since`, as RFC 7232 says.
    pub fn evaluate(&self, object: &ObjectMeta) -> Result<(), ConditionFailure> {
        let modified = seconds(object.last_modified);
        match (&self.if_match, &self.if_unmodified_since) {
            (Some(condition), _) if !etag_matches(condition, &object.etag) => {
                return Err(ConditionFailure::Precondition);
            }
            (None, Some(since)) if modified > seconds(OffsetDateTime::from(since.clone())) => {
                return Err(ConditionFailure::Precondition);
            }
            _ => {}
        }
        match (&self.if_none_match, &self.if_modified_since) {
            (Some(condition), _) if etag_matches(condition, &object.etag) => Err(ConditionFailure::NotModified),
            (None, Some(since)) if modified <= seconds(OffsetDateTime::from(since.clone())) => {
                Err(ConditionFailure::NotModified)
            }
            _ => Ok(()),
        }
    }

    /// For GET and HEAD: 304 or 412.
    pub fn check(&self, object: &ObjectMeta) -> Result<()> {
        match self.evaluate(object) {
            Ok(()) => Ok(()),
            Err(ConditionFailure::Precondition) => Err(precondition_failed()),
            Err(ConditionFailure::NotModified) => {
                // A 304 still names the representation the client has (RFC 7232).
                let mut headers = http::HeaderMap::new();
                if let Ok(value) = http::HeaderValue::from_str(&format!("\"{}\"", object.etag)) {
                    headers.insert(http::header::ETAG, value);
                }
                if let Some(value) = http_date(&Timestamp::from(object.last_modified))
                    .and_then(|date| http::HeaderValue::from_str(&date).ok())
                {
                    headers.insert(http::header::LAST_MODIFIED, value);
                }
                Err(S3Fault::NotModified(headers))
            }
        }
    }

    /// For a copy source: every failure is 412.
    pub fn check_copy_source(&self, object: &ObjectMeta) -> Result<()> {
        self.evaluate(object).map_err(|_| precondition_failed())
    }
}

/// The write condition of a PUT or CompleteMultipartUpload.
pub fn write_condition(
    if_match: Option<ETagCondition>,
    if_none_match: Option<ETagCondition>,
) -> Result<WriteCondition> {
    match (if_match, if_none_match) {
        (Some(_), Some(_)) => Err(S3Fault::NotImplemented(
            "A header you provided implies functionality that is not implemented".to_owned(),
        )),
        (None, Some(condition)) => match condition.as_etag() {
            Some(etag) => Ok(WriteCondition::IfNoneMatch(etag.value().to_owned())),
            None => Ok(WriteCondition::IfAbsent),
        },
        (Some(condition), None) => match condition.as_etag() {
            Some(etag) => Ok(WriteCondition::IfMatch(etag.value().to_owned())),
            None => Ok(WriteCondition::IfMatch("*".to_owned())),
        },
        (None, None) => Ok(WriteCondition::Always),
    }
}

/// The `x-amz-checksum-*` values to return for a stored checksum.
#[derive(Clone, Default)]
pub struct ChecksumFields {
    pub crc32: Option<String>,
    pub crc32c: Option<String>,
    pub crc64nvme: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub checksum_type: Option<s3s::dto::ChecksumType>,
}

impl ChecksumFields {
    pub fn of(checksum: Option<&ObjectChecksum>) -> ChecksumFields {
        let Some(checksum) = checksum else {
            return ChecksumFields::default();
        };
        let mut fields = ChecksumFields {
            checksum_type: Some(s3s::dto::ChecksumType::from(checksum.checksum_type.clone())),
            ..ChecksumFields::default()
        };
        let value = Some(checksum.value.clone());
        match Algorithm::parse(&checksum.algorithm) {
            Some(Algorithm::Crc32) => fields.crc32 = value,
            Some(Algorithm::Crc32c) => fields.crc32c = value,
            Some(Algorithm::Crc64Nvme) => fields.crc64nvme = value,
            Some(Algorithm::Sha1) => fields.sha1 = value,
            Some(Algorithm::Sha256) => fields.sha256 = value,
            None => {}
        }
        fields
    }
}

/// A full-object checksum.
pub fn full_object(algorithm: Algorithm, value: String) -> ObjectChecksum {
    ObjectChecksum {
        algorithm: algorithm.name().to_owned(),
        checksum_type: FULL_OBJECT.to_owned(),
        value,
    }
}

pub fn composite_checksum(algorithm: Algorithm, value: String) -> ObjectChecksum {
    ObjectChecksum {
        algorithm: algorithm.name().to_owned(),
        checksum_type: COMPOSITE.to_owned(),
        value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_store::ObjectData;

    fn object(etag: &str, modified: i64) -> ObjectMeta {
        ObjectMeta {
            bucket: "b".into(),
            key: "k".into(),
            version_id: "null".into(),
            size: 0,
            etag: etag.into(),
            last_modified: OffsetDateTime::from_unix_timestamp(modified).unwrap(),
            headers: ObjectHeaders::default(),
            checksum: None,
            data: ObjectData::Blob(String::new()),
            is_delete_marker: false,
            is_latest: true,
            lock: Default::default(),
            tags: Vec::new(),
            acl: Default::default(),
            storage_class: None,
            encryption: None,
        }
    }

    fn when(secs: i64) -> Option<Timestamp> {
        Some(Timestamp::from(OffsetDateTime::from_unix_timestamp(secs).unwrap()))
    }

    fn tag(value: &str) -> Option<ETagCondition> {
        Some(ETagCondition::ETag(ETag::Strong(value.into())))
    }

    #[test]
    fn if_match_wins_over_if_unmodified_since() {
        let conditions = ReadConditions {
            if_match: tag("e"),
            if_unmodified_since: when(10),
            ..Default::default()
        };
        assert_eq!(conditions.evaluate(&object("e", 100)), Ok(()));
        let conditions = ReadConditions {
            if_match: tag("x"),
            ..Default::default()
        };
        assert_eq!(
            conditions.evaluate(&object("e", 100)),
            Err(ConditionFailure::Precondition)
        );
        let conditions = ReadConditions {
            if_unmodified_since: when(10),
            ..Default::default()
        };
        assert_eq!(
            conditions.evaluate(&object("e", 100)),
            Err(ConditionFailure::Precondition)
        );
    }

    #[test]
    fn if_none_match_wins_over_if_modified_since() {
        let conditions = ReadConditions {
            if_none_match: tag("x"),
            if_modified_since: when(200),
            ..Default::default()
        };
        assert_eq!(conditions.evaluate(&object("e", 100)), Ok(()));
        let conditions = ReadConditions {
            if_none_match: tag("e"),
            ..Default::default()
        };
        assert_eq!(
            conditions.evaluate(&object("e", 100)),
            Err(ConditionFailure::NotModified)
        );
        let conditions = ReadConditions {
            if_modified_since: when(100),
            ..Default::default()
        };
        assert_eq!(
            conditions.evaluate(&object("e", 100)),
            Err(ConditionFailure::NotModified)
        );
        let conditions = ReadConditions {
            if_modified_since: when(99),
            ..Default::default()
        };
        assert_eq!(conditions.evaluate(&object("e", 100)), Ok(()));
    }

    #[test]
    fn aws_chunked_is_not_stored_as_an_encoding() {
        assert_eq!(stored_encoding(Some("aws-chunked".into())), None);
        assert_eq!(stored_encoding(Some("aws-chunked,gzip".into())), Some("gzip".into()));
        assert_eq!(stored_encoding(Some("gzip, aws-chunked".into())), Some("gzip".into()));
        assert_eq!(
            stored_encoding(Some("aws-chunked, deflate, gzip".into())),
            Some("deflate, gzip".into())
        );
        assert_eq!(stored_encoding(Some("br".into())), Some("br".into()));
    }
}
