//! Every S3 error Coffer answers, and the one place that turns each into S3's code, HTTP
//! status and message (the list in S3's "Error responses" reference). Handlers return
//! [`S3Fault`]; store errors convert by meaning (a missing bucket is `NoSuchBucket`, never a
//! 500), a policy's denial converts to `AccessDenied`, and only what truly failed on the
//! server is an `InternalError`, logged in full and answered without detail. The front
//! door's refusals and the listener's limits are written by [`error_response`] in the same
//! shape.

use std::borrow::Cow;

use coffer_auth::Denied;
use coffer_auth::signed_request::Refusal;
use coffer_store::StoreError;
use http::StatusCode;
use s3s::{S3Error, S3ErrorCode};
use time::format_description::well_known::Rfc3339;

/// What handlers return.
pub type Result<T, E = S3Fault> = std::result::Result<T, E>;

/// An S3 error. A `String` carries a message that depends on the request; the others have
/// S3's fixed message.
#[derive(Debug)]
pub enum S3Fault {
    AccessControlListNotSupported,
    AccessDenied(String),
    AuthorizationQueryParametersError(String),
    BadDigest(String),
    BadRequest(String),
    /// A CORS request the bucket's rules do not allow (403).
    CORSResponse(String),
    /// Server access logging into a bucket of another Region.
    CrossLocationLoggingProhibited,
    /// A server access logging target that does not exist or is another account's.
    InvalidTargetBucketForLogging(String),
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    EntityTooLarge,
    EntityTooSmall,
    IllegalLocationConstraintException(String),
    IllegalVersioningConfigurationException(String),
    IncompleteBody,
    /// A server fault: the text is logged, never sent (it may name files or SQL).
    InternalError(String),
    /// The metadata database cannot be reached: retry later (the text is logged).
    ServiceUnavailable(String),
    InvalidAccessKeyId,
    InvalidArgument(String),
    InvalidBucketAclWithObjectOwnership,
    InvalidBucketName,
    InvalidBucketState(String),
    InvalidDigest,
    InvalidEncryptionAlgorithmError,
    InvalidLocationConstraint,
    InvalidPart,
    InvalidPartNumber,
    InvalidPartOrder,
    InvalidPolicyDocument(String),
    InvalidRange,
    InvalidRequest(String),
    InvalidRetentionPeriod(String),
    InvalidStorageClass,
    InvalidTag(String),
    InvalidToken,
    ExpiredToken,
    /// SSE-KMS's key is not there (S3 passes on KMS's error, 400).
    KmsNotFound(String),
    /// SSE-KMS's key is disabled.
    KmsDisabled(String),
    /// SSE-KMS's key is pending deletion.
    KmsInvalidState(String),
    MalformedACLError,
    MalformedPolicy(String),
    MalformedXML,
    /// A form upload whose body is not multipart/form-data.
    MalformedPOSTRequest,
    /// A form upload whose fields before the file pass S3's 20 KB.
    MaxPostPreDataLengthExceeded,
    MaxMessageLengthExceeded,
    MetadataTooLarge,
    MissingSecurityHeader,
    MethodNotAllowed,
    /// The version a GET or HEAD found is a delete marker: `NoSuchKey` for the key's latest
    /// version, `MethodNotAllowed` for one named by id; S3 says which marker in the headers.
    DeleteMarker {
        version_id: String,
        last_modified: time::OffsetDateTime,
        named: bool,
    },
    NoSuchBucket,
    NoSuchBucketPolicy,
    NoSuchConfiguration,
    NoSuchCORSConfiguration,
    NoSuchWebsiteConfiguration,
    ReplicationConfigurationNotFoundError,
    ServerSideEncryptionConfigurationNotFoundError,
    NoSuchKey,
    NoSuchObjectLockConfiguration,
    NoSuchLifecycleConfiguration,
    NoSuchTagSet,
    ObjectLockConfigurationNotFoundError,
    NoSuchPublicAccessBlockConfiguration,
    NoSuchUpload,
    OwnershipControlsNotFoundError,
    NoSuchVersion,
    NotImplemented(String),
    /// 304, with the headers that still name the representation the client has.
    NotModified(http::HeaderMap),
    PreconditionFailed,
    RequestHeaderSectionTooLarge,
    RequestTimeout,
    RequestTimeTooSkewed {
        request_time: time::OffsetDateTime,
        server_time: time::OffsetDateTime,
    },
    SignatureDoesNotMatch,
    UnresolvableGrantByEmailAddress,
    /// `AccessDenied` naming the `x-amz-*` headers a signature left out.
    UnsignedHeaders(Vec<String>),
    XAmzContentSHA256Mismatch,
    /// An error s3s made (it parsed or verified something for us), passed through as it is.
    S3s(S3Error),
}

impl S3Fault {
    /// S3's code, HTTP status and message.
    pub fn code_status_message(&self) -> (&'static str, StatusCode, Cow<'_, str>) {
        use S3Fault::*;
        use StatusCode as S;
        let text = |s: &'static str| Cow::Borrowed(s);
        let own = |s: &String| Cow::Owned(s.clone());
        match self {
            AccessDenied(m) => ("AccessDenied", S::FORBIDDEN, own(m)),
            CrossLocationLoggingProhibited => (
                "CrossLocationLoggingProhibited",
                S::FORBIDDEN,
                text("Cross S3 location logging not allowed."),
            ),
            InvalidTargetBucketForLogging(m) => ("InvalidTargetBucketForLogging", S::BAD_REQUEST, own(m)),
            AccessControlListNotSupported => (
                "AccessControlListNotSupported",
                S::BAD_REQUEST,
                text("The bucket does not allow ACLs"),
            ),
            InvalidBucketAclWithObjectOwnership => (
                "InvalidBucketAclWithObjectOwnership",
                S::BAD_REQUEST,
                text("Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"),
            ),
            MalformedACLError => (
                "MalformedACLError",
                S::BAD_REQUEST,
                text("The XML you provided was not well-formed or did not validate against our published schema"),
            ),
            MissingSecurityHeader => (
                "MissingSecurityHeader",
                S::BAD_REQUEST,
                text("Your request was missing a required header"),
            ),
            CORSResponse(m) => ("CORSResponse", S::FORBIDDEN, own(m)),
            NoSuchCORSConfiguration => (
                "NoSuchCORSConfiguration",
                S::NOT_FOUND,
                text("The CORS configuration does not exist"),
            ),
            NoSuchConfiguration => (
                "NoSuchConfiguration",
                S::NOT_FOUND,
                text("The specified configuration does not exist."),
            ),
            NoSuchWebsiteConfiguration => (
                "NoSuchWebsiteConfiguration",
                S::NOT_FOUND,
                text("The specified bucket does not have a website configuration"),
            ),
            InvalidEncryptionAlgorithmError => (
                "InvalidEncryptionAlgorithmError",
                S::BAD_REQUEST,
                text("The encryption request you specified is not valid. The valid value is AES256."),
            ),
            ServerSideEncryptionConfigurationNotFoundError => (
                "ServerSideEncryptionConfigurationNotFoundError",
                S::NOT_FOUND,
                text("The server side encryption configuration was not found"),
            ),
            ReplicationConfigurationNotFoundError => (
                "ReplicationConfigurationNotFoundError",
                S::NOT_FOUND,
                text("The replication configuration was not found"),
            ),
            OwnershipControlsNotFoundError => (
                "OwnershipControlsNotFoundError",
                S::NOT_FOUND,
                text("The bucket ownership controls were not found"),
            ),
            UnresolvableGrantByEmailAddress => (
                "UnresolvableGrantByEmailAddress",
                S::BAD_REQUEST,
                text("The e-mail address you provided does not match any account on record."),
            ),
            AuthorizationQueryParametersError(m) => ("AuthorizationQueryParametersError", S::BAD_REQUEST, own(m)),
            BadDigest(m) => ("BadDigest", S::BAD_REQUEST, own(m)),
            BadRequest(m) => ("BadRequest", S::BAD_REQUEST, own(m)),
            InvalidTag(m) => ("InvalidTag", S::BAD_REQUEST, own(m)),
            NoSuchTagSet => ("NoSuchTagSet", S::NOT_FOUND, text("The TagSet does not exist")),
            BucketAlreadyExists => (
                "BucketAlreadyExists",
                S::CONFLICT,
                text(
                    "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
                ),
            ),
            BucketAlreadyOwnedByYou => (
                "BucketAlreadyOwnedByYou",
                S::CONFLICT,
                text("Your previous request to create the named bucket succeeded and you already own it."),
            ),
            BucketNotEmpty => (
                "BucketNotEmpty",
                S::CONFLICT,
                text("The bucket you tried to delete is not empty"),
            ),
            EntityTooLarge => (
                "EntityTooLarge",
                S::BAD_REQUEST,
                text("Your proposed upload exceeds the maximum allowed size"),
            ),
            EntityTooSmall => (
                "EntityTooSmall",
                S::BAD_REQUEST,
                text("Your proposed upload is smaller than the minimum allowed object size."),
            ),
            IllegalLocationConstraintException(m) => ("IllegalLocationConstraintException", S::BAD_REQUEST, own(m)),
            IllegalVersioningConfigurationException(m) => {
                ("IllegalVersioningConfigurationException", S::BAD_REQUEST, own(m))
            }
            IncompleteBody => (
                "IncompleteBody",
                S::BAD_REQUEST,
                text("You did not provide the number of bytes specified by the Content-Length HTTP header."),
            ),
            InternalError(_) => (
                "InternalError",
                S::INTERNAL_SERVER_ERROR,
                text("We encountered an internal error. Please try again."),
            ),
            ServiceUnavailable(_) => (
                "ServiceUnavailable",
                S::SERVICE_UNAVAILABLE,
                text("The service is unavailable. Please retry."),
            ),
            InvalidAccessKeyId => (
                "InvalidAccessKeyId",
                S::FORBIDDEN,
                text("The AWS Access Key Id you provided does not exist in our records."),
            ),
            InvalidArgument(m) => ("InvalidArgument", S::BAD_REQUEST, own(m)),
            InvalidBucketName => (
                "InvalidBucketName",
                S::BAD_REQUEST,
                text("The specified bucket is not valid."),
            ),
            InvalidBucketState(m) => ("InvalidBucketState", S::CONFLICT, own(m)),
            InvalidRetentionPeriod(m) => ("InvalidRetentionPeriod", S::BAD_REQUEST, own(m)),
            InvalidDigest => (
                "InvalidDigest",
                S::BAD_REQUEST,
                text("The Content-MD5 you specified was invalid."),
            ),
            InvalidLocationConstraint => (
                "InvalidLocationConstraint",
                S::BAD_REQUEST,
                text("The specified location-constraint is not valid"),
            ),
            InvalidPart => (
                "InvalidPart",
                S::BAD_REQUEST,
                text(
                    "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
                ),
            ),
            InvalidPartNumber => (
                "InvalidPartNumber",
                S::RANGE_NOT_SATISFIABLE,
                text("The requested partnumber is not satisfiable"),
            ),
            InvalidPartOrder => (
                "InvalidPartOrder",
                S::BAD_REQUEST,
                text("The list of parts was not in ascending order. Parts must be ordered by part number."),
            ),
            InvalidPolicyDocument(m) => ("InvalidPolicyDocument", S::BAD_REQUEST, own(m)),
            InvalidRange => (
                "InvalidRange",
                S::RANGE_NOT_SATISFIABLE,
                text("The requested range is not satisfiable"),
            ),
            InvalidRequest(m) => ("InvalidRequest", S::BAD_REQUEST, own(m)),
            InvalidStorageClass => (
                "InvalidStorageClass",
                S::BAD_REQUEST,
                text("The storage class you specified is not valid"),
            ),
            ExpiredToken => ("ExpiredToken", S::BAD_REQUEST, text("The provided token has expired.")),
            InvalidToken => (
                "InvalidToken",
                S::BAD_REQUEST,
                text("The provided token is malformed or otherwise invalid."),
            ),
            MalformedPolicy(m) => ("MalformedPolicy", S::BAD_REQUEST, own(m)),
            MalformedXML => (
                "MalformedXML",
                S::BAD_REQUEST,
                text("The XML you provided was not well-formed or did not validate against our published schema"),
            ),
            KmsNotFound(m) => ("KMS.NotFoundException", S::BAD_REQUEST, own(m)),
            KmsDisabled(m) => ("KMS.DisabledException", S::BAD_REQUEST, own(m)),
            KmsInvalidState(m) => ("KMS.KMSInvalidStateException", S::BAD_REQUEST, own(m)),
            MalformedPOSTRequest => (
                "MalformedPOSTRequest",
                S::BAD_REQUEST,
                text("The body of your POST request is not well-formed multipart/form-data."),
            ),
            MaxPostPreDataLengthExceeded => (
                "MaxPostPreDataLengthExceeded",
                S::BAD_REQUEST,
                text("Your POST request fields preceding the upload file were too large."),
            ),
            MaxMessageLengthExceeded => (
                "MaxMessageLengthExceeded",
                S::BAD_REQUEST,
                text("Your request was too big."),
            ),
            MetadataTooLarge => (
                "MetadataTooLarge",
                S::BAD_REQUEST,
                text("Your metadata headers exceed the maximum allowed metadata size."),
            ),
            MethodNotAllowed => (
                "MethodNotAllowed",
                S::METHOD_NOT_ALLOWED,
                text("The specified method is not allowed against this resource."),
            ),
            DeleteMarker { named: false, .. } => ("NoSuchKey", S::NOT_FOUND, text("The specified key does not exist.")),
            DeleteMarker { named: true, .. } => (
                "MethodNotAllowed",
                S::METHOD_NOT_ALLOWED,
                text("The specified method is not allowed against this resource."),
            ),
            NoSuchBucket => (
                "NoSuchBucket",
                S::NOT_FOUND,
                text("The specified bucket does not exist"),
            ),
            NoSuchBucketPolicy => (
                "NoSuchBucketPolicy",
                S::NOT_FOUND,
                text("The bucket policy does not exist"),
            ),
            NoSuchKey => ("NoSuchKey", S::NOT_FOUND, text("The specified key does not exist.")),
            NoSuchLifecycleConfiguration => (
                "NoSuchLifecycleConfiguration",
                S::NOT_FOUND,
                text("The lifecycle configuration does not exist"),
            ),
            NoSuchObjectLockConfiguration => (
                "NoSuchObjectLockConfiguration",
                S::NOT_FOUND,
                text("The specified object does not have a ObjectLock configuration"),
            ),
            ObjectLockConfigurationNotFoundError => (
                "ObjectLockConfigurationNotFoundError",
                S::NOT_FOUND,
                text("Object Lock configuration does not exist for this bucket"),
            ),
            NoSuchPublicAccessBlockConfiguration => (
                "NoSuchPublicAccessBlockConfiguration",
                S::NOT_FOUND,
                text("The public access block configuration was not found"),
            ),
            NoSuchUpload => (
                "NoSuchUpload",
                S::NOT_FOUND,
                text(
                    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
                ),
            ),
            NoSuchVersion => (
                "NoSuchVersion",
                S::NOT_FOUND,
                text("The specified version does not exist."),
            ),
            NotImplemented(m) => ("NotImplemented", S::NOT_IMPLEMENTED, own(m)),
            NotModified(_) => ("NotModified", S::NOT_MODIFIED, text("Not Modified")),
            PreconditionFailed => (
                "PreconditionFailed",
                S::PRECONDITION_FAILED,
                text("At least one of the pre-conditions you specified did not hold"),
            ),
            RequestHeaderSectionTooLarge => (
                "RequestHeaderSectionTooLarge",
                S::BAD_REQUEST,
                text("Your request header section exceeds the maximum allowed size."),
            ),
            RequestTimeout => (
                "RequestTimeout",
                S::BAD_REQUEST,
                text(
                    "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.",
                ),
            ),
            RequestTimeTooSkewed { .. } => (
                "RequestTimeTooSkewed",
                S::FORBIDDEN,
                text("The difference between the request time and the current time is too large."),
            ),
            SignatureDoesNotMatch => (
                "SignatureDoesNotMatch",
                S::FORBIDDEN,
                text(
                    "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
                ),
            ),
            UnsignedHeaders(_) => (
                "AccessDenied",
                S::FORBIDDEN,
                text("There were headers present in the request which were not signed"),
            ),
            XAmzContentSHA256Mismatch => (
                "XAmzContentSHA256Mismatch",
                S::BAD_REQUEST,
                text("The provided 'x-amz-content-sha256' header does not match what was computed."),
            ),
            S3s(err) => (
                "",
                err.status_code()
                    .or_else(|| err.code().status_code())
                    .unwrap_or(S::INTERNAL_SERVER_ERROR),
                Cow::Borrowed(err.message().unwrap_or_default()),
            ),
        }
    }

    /// The elements S3 adds after the message for some codes.
    fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            S3Fault::UnsignedHeaders(names) => vec![("HeadersNotSigned", names.join(", "))],
            S3Fault::MaxPostPreDataLengthExceeded => vec![(
                "MaxPostPreDataLengthBytes",
                coffer_auth::post_form::MAX_FIELDS_BYTES.to_string(),
            )],
            S3Fault::RequestTimeTooSkewed {
                request_time,
                server_time,
            } => vec![
                ("RequestTime", request_time.format(&Rfc3339).unwrap_or_default()),
                ("ServerTime", server_time.format(&Rfc3339).unwrap_or_default()),
                ("MaxAllowedSkewMilliseconds", "900000".to_owned()),
            ],
            _ => Vec::new(),
        }
    }

    /// A server fault; its text is logged when it is answered.
    pub fn internal(err: impl std::fmt::Display) -> S3Fault {
        S3Fault::InternalError(err.to_string())
    }

    /// A request body s3s could not read whole (see [`crate::RequestLog::body_unread`]),
    /// answered as Coffer answers an upload that fails so: a signed payload whose hash
    /// differs is `XAmzContentSHA256Mismatch`, a streamed one `SignatureDoesNotMatch` (chunk
    /// signatures), anything else a malformed or short body.
    /// `payload`: the request's `x-amz-content-sha256`.
    pub fn unreadable_body(payload: Option<&http::HeaderValue>) -> S3Fault {
        let payload = payload.map(|v| v.as_bytes()).unwrap_or_default();
        if payload.len() == 64 && payload.iter().all(u8::is_ascii_hexdigit) {
            S3Fault::XAmzContentSHA256Mismatch
        } else if payload.starts_with(b"STREAMING-AWS4-HMAC-SHA256-PAYLOAD") {
            S3Fault::SignatureDoesNotMatch
        } else {
            S3Fault::InvalidRequest(
                "The request body could not be read: its aws-chunked framing is malformed, or it ended early."
                    .to_owned(),
            )
        }
    }
}

impl From<S3Fault> for S3Error {
    fn from(fault: S3Fault) -> S3Error {
        if let S3Fault::S3s(err) = fault {
            return err;
        }
        if let S3Fault::InternalError(detail) | S3Fault::ServiceUnavailable(detail) = &fault {
            tracing::error!(err = %detail, "s3 request failed");
        }
        let (code, status, message) = fault.code_status_message();
        let code = S3ErrorCode::from_bytes(code.as_bytes()).unwrap_or_else(|| S3ErrorCode::Custom(code.into()));
        let mut err = S3Error::with_message(code, message.into_owned());
        err.set_status_code(status);
        match fault {
            S3Fault::NotModified(headers) => err.set_headers(headers),
            S3Fault::DeleteMarker {
                version_id,
                last_modified,
                named,
            } => {
                let mut headers = http::HeaderMap::new();
                headers.insert("x-amz-delete-marker", http::HeaderValue::from_static("true"));
                if let Ok(value) = http::HeaderValue::try_from(version_id) {
                    headers.insert("x-amz-version-id", value);
                }
                if named {
                    headers.insert(http::header::ALLOW, http::HeaderValue::from_static("DELETE"));
                    let date = crate::headers::http_date(&s3s::dto::Timestamp::from(last_modified));
                    if let Some(Ok(value)) = date.map(http::HeaderValue::try_from) {
                        headers.insert(http::header::LAST_MODIFIED, value);
                    }
                }
                err.set_headers(headers);
            }
            _ => {}
        }
        err
    }
}

impl From<S3Error> for S3Fault {
    fn from(err: S3Error) -> S3Fault {
        S3Fault::S3s(err)
    }
}

impl From<StoreError> for S3Fault {
    fn from(err: StoreError) -> S3Fault {
        match err {
            StoreError::NoSuchBucket => S3Fault::NoSuchBucket,
            StoreError::BucketExists { owned_by_caller: true } => S3Fault::BucketAlreadyOwnedByYou,
            StoreError::BucketExists { owned_by_caller: false } => S3Fault::BucketAlreadyExists,
            StoreError::BucketNotEmpty => S3Fault::BucketNotEmpty,
            StoreError::NoSuchKey => S3Fault::NoSuchKey,
            StoreError::NoSuchVersion => S3Fault::NoSuchVersion,
            StoreError::ObjectLocked => {
                S3Fault::AccessDenied("Access Denied because object protected by object lock.".to_owned())
            }
            StoreError::InvalidBucketState => S3Fault::InvalidBucketState(
                "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."
                    .to_owned(),
            ),
            StoreError::MethodNotAllowed => S3Fault::MethodNotAllowed,
            StoreError::AclWithEnforcedOwnership => S3Fault::AccessControlListNotSupported,
            StoreError::ObjectLockNotEnabled => {
                S3Fault::InvalidRequest("Bucket is missing Object Lock Configuration".to_owned())
            }
            StoreError::NoSuchUpload => S3Fault::NoSuchUpload,
            StoreError::InvalidPart => S3Fault::InvalidPart,
            StoreError::PreconditionFailed => S3Fault::PreconditionFailed,
            other if other.is_unavailable() => S3Fault::ServiceUnavailable(other.to_string()),
            // Everything else is no request's fault: IAM entities S3 never names, or the
            // database, the disk, the master key.
            other => S3Fault::internal(other),
        }
    }
}

impl From<std::io::Error> for S3Fault {
    fn from(err: std::io::Error) -> S3Fault {
        S3Fault::internal(err)
    }
}

impl From<Denied> for S3Fault {
    fn from(denied: Denied) -> S3Fault {
        S3Fault::AccessDenied(denied.to_string())
    }
}

impl From<Refusal> for S3Fault {
    fn from(refusal: Refusal) -> S3Fault {
        match refusal {
            Refusal::HeadersNotSigned(names) => S3Fault::UnsignedHeaders(names),
            Refusal::RequestTimeTooSkewed {
                request_time,
                server_time,
            } => S3Fault::RequestTimeTooSkewed {
                request_time,
                server_time,
            },
            Refusal::MissingDate => {
                S3Fault::AccessDenied("AWS authentication requires a valid Date or x-amz-date header".to_owned())
            }
            Refusal::ExpiresTooFar => S3Fault::AuthorizationQueryParametersError(
                "Expires must be at most 604800 seconds (7 days) from now".to_owned(),
            ),
            Refusal::InvalidToken => S3Fault::InvalidToken,
            Refusal::ExpiredToken => S3Fault::ExpiredToken,
            Refusal::MoreThanOneAuthMechanism => S3Fault::InvalidArgument(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified".to_owned(),
            ),
            Refusal::UnsupportedAuthorizationType => {
                S3Fault::InvalidArgument("Unsupported Authorization Type".to_owned())
            }
            Refusal::RepeatedQueryParameter => {
                S3Fault::InvalidArgument("A query parameter may appear only once.".to_owned())
            }
            Refusal::SigV4Required => S3Fault::InvalidRequest(
                "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.".to_owned(),
            ),
        }
    }
}

/// The error response for `fault`, for answers made outside s3s (the front door's): the same
/// XML as s3s writes, `<Error><Code>…</Code><Message>…</Message>…</Error>`.
pub fn error_response(fault: impl Into<S3Fault>) -> http::Response<String> {
    let fault = fault.into();
    if let S3Fault::InternalError(detail) | S3Fault::ServiceUnavailable(detail) = &fault {
        tracing::error!(err = %detail, "s3 request failed");
    }
    let (code, status, message) = fault.code_status_message();
    let mut body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>",
        escape(code),
        escape(&message)
    );
    for (name, value) in fault.details() {
        body.push_str(&format!("<{name}>{}</{name}>", escape(&value)));
    }
    body.push_str("</Error>");
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/xml"),
    );
    response
}

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_follow_the_message_escaped() {
        let response = error_response(Refusal::HeadersNotSigned(vec!["x-amz-a".into(), "x-amz-<b>".into()]));
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(response.body().ends_with(
            "<Code>AccessDenied</Code><Message>There were headers present in the request which were not signed</Message>\
             <HeadersNotSigned>x-amz-a, x-amz-&lt;b&gt;</HeadersNotSigned></Error>"
        ));
    }

    #[test]
    fn store_errors_keep_their_meaning() {
        let code = |err| S3Error::from(S3Fault::from(err)).code().as_str().to_owned();
        assert_eq!(code(StoreError::NoSuchBucket), "NoSuchBucket");
        assert_eq!(code(StoreError::NoSuchKey), "NoSuchKey");
        assert_eq!(
            code(StoreError::BucketExists { owned_by_caller: true }),
            "BucketAlreadyOwnedByYou"
        );
        assert_eq!(code(StoreError::Corrupt("x")), "InternalError");
    }

    #[test]
    fn codes_s3s_does_not_name_keep_their_status() {
        let err = S3Error::from(S3Fault::InvalidPartNumber);
        assert_eq!(err.code().as_str(), "InvalidPartNumber");
        assert_eq!(err.status_code(), Some(StatusCode::RANGE_NOT_SATISFIABLE));
        let internal = S3Error::from(S3Fault::internal("/secret/path"));
        assert!(!internal.message().unwrap_or_default().contains("secret"));
    }
}
