//! S3 server access logging: PutBucketLogging and GetBucketLogging, one record per request
//! in S3's access-log format for a bucket that has logging on, and their delivery, batched,
//! as objects into the target bucket, as S3 delivers them: best effort, after a roll time,
//! permitted by the target bucket's policy (the `logging.s3.amazonaws.com` service
//! principal) or its ACL (the LogDelivery group).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use coffer_store::{Bucket, BucketLogging, Grant, Grantee, LogKeyFormat, Permission};
use parking_lot::Mutex;
use s3s::dto::{
    GetBucketLoggingInput, GetBucketLoggingOutput, LoggingEnabled, PartitionDateSource, PartitionedPrefix,
    PutBucketLoggingInput, PutBucketLoggingOutput, SimplePrefix, TargetObjectKeyFormat,
};
use s3s::{S3Request, S3Response};
use time::OffsetDateTime;

use crate::CofferS3;
use crate::access::Logged;
use crate::error::{Result, S3Fault};

/// The service principal a target bucket's policy allows to deliver logs.
pub const LOGGING_SERVICE: &str = "logging.s3.amazonaws.com";

/// Bytes of records held for delivery at most; past it, new records are dropped (counted).
const MAX_BUFFERED: usize = 64 * 1024 * 1024;

pub(crate) async fn put_bucket_logging(
    s3: &CofferS3,
    req: S3Request<PutBucketLoggingInput>,
) -> Result<S3Response<PutBucketLoggingOutput>> {
    let caller = crate::caller(&req)?;
    let bucket = s3.bucket(&req.input.bucket).await?;
    // "To set the logging status of a bucket, you must be the bucket owner", whatever the
    // bucket policy says.
    if caller.principal().account_id != bucket.account_id {
        return Err(S3Fault::AccessDenied("Access Denied".to_owned()));
    }
    let logging = match req.input.bucket_logging_status.logging_enabled {
        None => None,
        Some(enabled) => Some(s3.logging_of(&bucket, enabled).await?),
    };
    s3.store
        .set_bucket_logging(&bucket.name, logging.as_ref())
        .await
        .map_err(S3Fault::from)?;
    Ok(S3Response::new(PutBucketLoggingOutput {}))
}

pub(crate) async fn get_bucket_logging(
    s3: &CofferS3,
    req: S3Request<GetBucketLoggingInput>,
) -> Result<S3Response<GetBucketLoggingOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    let logging_enabled = bucket.logging.map(|logging| LoggingEnabled {
        target_bucket: logging.target_bucket,
        target_prefix: logging.target_prefix,
        target_grants: (!logging.target_grants.is_empty())
            .then(|| logging.target_grants.iter().map(crate::acl::target_grant_dto).collect()),
        target_object_key_format: Some(match logging.key_format {
            LogKeyFormat::Simple => TargetObjectKeyFormat {
                simple_prefix: Some(SimplePrefix {}),
                partitioned_prefix: None,
            },
            LogKeyFormat::Partitioned { by_event_time } => TargetObjectKeyFormat {
                simple_prefix: None,
                partitioned_prefix: Some(PartitionedPrefix {
                    partition_date_source: Some(PartitionDateSource::from(
                        if by_event_time { "EventTime" } else { "DeliveryTime" }.to_owned(),
                    )),
                }),
            },
        }),
    });
    Ok(S3Response::new(GetBucketLoggingOutput { logging_enabled }))
}

impl CofferS3 {
    /// The logging configuration `enabled` asks for on `source`, checked as S3 checks it.
    async fn logging_of(&self, source: &Bucket, enabled: LoggingEnabled) -> Result<BucketLogging> {
        let key_format = match enabled.target_object_key_format {
            None
            | Some(TargetObjectKeyFormat {
                simple_prefix: Some(_),
                partitioned_prefix: None,
            }) => LogKeyFormat::Simple,
            Some(TargetObjectKeyFormat {
                simple_prefix: None,
                partitioned_prefix: Some(partitioned),
            }) => match partitioned.partition_date_source.as_ref().map(|s| s.as_str()) {
                Some("EventTime") => LogKeyFormat::Partitioned { by_event_time: true },
                Some("DeliveryTime") | None => LogKeyFormat::Partitioned { by_event_time: false },
                Some(_) => return Err(S3Fault::MalformedXML),
            },
            Some(_) => return Err(S3Fault::MalformedXML),
        };
        let target = self
            .store
            .bucket(&enabled.target_bucket)
            .await
            .map_err(S3Fault::from)?
            .ok_or_else(|| {
                S3Fault::InvalidTargetBucketForLogging("The target bucket for logging does not exist".to_owned())
            })?;
        if target.account_id != source.account_id {
            return Err(S3Fault::InvalidTargetBucketForLogging(
                "The owner for the bucket to be logged and the target bucket must be the same.".to_owned(),
            ));
        }
        if target.region != source.region {
            return Err(S3Fault::CrossLocationLoggingProhibited);
        }
        let grants = self.target_grants(enabled.target_grants.unwrap_or_default()).await?;
        // A target that takes no ACLs cannot give its log objects grants.
        if !grants.is_empty() && !target.acls_enabled() {
            return Err(S3Fault::AccessControlListNotSupported);
        }
        Ok(BucketLogging {
            target_bucket: target.name,
            target_prefix: enabled.target_prefix,
            key_format,
            target_grants: grants,
        })
    }
}

/// What a request's access-log record needs of it, taken before it is served.
#[derive(Clone, Debug)]
pub struct RequestLine {
    method: String,
    uri: String,
    host: Option<String>,
    user_agent: Option<String>,
    referer: Option<String>,
    remote_ip: Option<String>,
    signature: Option<(&'static str, &'static str)>,
    /// The body's length as stored: an aws-chunked body's decoded length.
    bytes_in: Option<u64>,
    started: Instant,
    received: OffsetDateTime,
}

impl RequestLine {
    pub fn of(parts: &http::request::Parts) -> RequestLine {
        let header =
            |name: http::header::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let facts = coffer_auth::RequestFacts::from_request(&parts.headers, &parts.extensions, None);
        RequestLine {
            method: parts.method.as_str().to_owned(),
            uri: parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned(),
            host: header(http::header::HOST),
            user_agent: facts.user_agent.clone(),
            referer: header(http::header::REFERER),
            remote_ip: facts.source_ip.map(|ip| ip.to_string()),
            signature: crate::audit::signature_of(parts),
            bytes_in: parts
                .headers
                .get("x-amz-decoded-content-length")
                .or_else(|| parts.headers.get(http::header::CONTENT_LENGTH))
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok()),
            started: Instant::now(),
            received: OffsetDateTime::now_utc(),
        }
    }
}

impl RequestLine {
    /// The bucket and key a path-style request names (a virtual-hosted one's bucket is in
    /// its host, which a request refused before authorization is not looked at for).
    pub fn bucket_and_key(&self) -> Option<(String, Option<String>)> {
        let path = self.uri.split('?').next().unwrap_or("/").trim_start_matches('/');
        let (bucket, key) = match path.split_once('/') {
            Some((bucket, key)) => (bucket, Some(key).filter(|k| !k.is_empty())),
            None => (path, None),
        };
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8()
                .ok()
                .map(|t| t.into_owned())
        };
        let bucket = decode(bucket).filter(|b| crate::valid_bucket_name(b))?;
        Some((bucket, key.and_then(decode)))
    }
}

/// How a request ended, for its access-log record.
pub struct Ending<'a> {
    pub status: u16,
    pub error_code: Option<&'a str>,
    pub bytes_sent: Option<u64>,
    /// The object's size as the answer gives it (its Content-Length, or a range's total).
    pub object_size: Option<u64>,
    pub version_id: Option<&'a str>,
    pub request_id: &'a str,
    pub host_id: &'a str,
}

/// The query parameters that name a bucket's or an object's sub-resource.
const SUBRESOURCES: [&str; 27] = [
    "accelerate",
    "acl",
    "analytics",
    "attributes",
    "cors",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "tagging",
    "versioning",
    "website",
];

/// `object-lock` → `OBJECT_LOCK`, `publicAccessBlock` → `PUBLIC_ACCESS_BLOCK`.
fn screaming(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        match c {
            '-' => out.push('_'),
            c if c.is_ascii_uppercase() => {
                out.push('_');
                out.push(c);
            }
            c => out.push(c.to_ascii_uppercase()),
        }
    }
    out
}

/// S3's name of the operation in an access-log record: `REST.<method>.<resource>`.
pub fn operation_name(method: &str, operation: &str, on_object: bool, query: &str) -> String {
    let resource = match operation {
        "ListObjects" | "ListObjectsV2" | "CreateBucket" | "DeleteBucket" | "HeadBucket" => "BUCKET",
        "ListBuckets" => "SERVICE",
        "ListObjectVersions" => "BUCKETVERSIONS",
        "CopyObject" => "COPY",
        "CreateMultipartUpload" => "UPLOADS",
        "ListMultipartUploads" => "UPLOADS",
        "UploadPart" => "PART",
        "UploadPartCopy" => "COPY_PART",
        "CompleteMultipartUpload" | "AbortMultipartUpload" | "ListParts" => "UPLOAD",
        "DeleteObjects" => "MULTI_OBJECT_DELETE",
        "GetBucketPolicy" | "PutBucketPolicy" | "DeleteBucketPolicy" => "BUCKETPOLICY",
        "GetBucketLogging" | "PutBucketLogging" => "LOGGING_STATUS",
        "GetBucketLocation" => "LOCATION",
        "PostObject" => "OBJECT",
        _ => {
            // A sub-resource names itself: `?tagging` is TAGGING, `?object-lock` OBJECT_LOCK,
            // `?publicAccessBlock` PUBLIC_ACCESS_BLOCK.
            let subresource = query
                .split('&')
                .map(|pair| pair.split('=').next().unwrap_or(""))
                .find(|name| SUBRESOURCES.contains(name));
            return match (subresource, on_object) {
                (Some(name), _) => format!("REST.{method}.{}", screaming(name)),
                (None, true) => format!("REST.{method}.OBJECT"),
                (None, false) => format!("REST.{method}.BUCKET"),
            };
        }
    };
    match resource {
        "COPY" => "REST.COPY.OBJECT".to_owned(),
        "COPY_PART" => "REST.COPY.PART".to_owned(),
        _ => format!("REST.{method}.{resource}"),
    }
}

/// Query parameters whose values are secrets (a presigned request's signature and session
/// token, an SSE-C key moved into the query), compared without case.
const SECRET_QUERY: [&str; 6] = [
    "x-amz-signature",
    "signature",
    "x-amz-security-token",
    "x-amz-server-side-encryption-customer-key",
    "x-amz-copy-source-server-side-encryption-customer-key",
    "x-amz-credential",
];

/// The request URI with every secret query value replaced by `REDACTED`: the log is read by
/// whoever the target bucket lets read it.
fn redacted(uri: &str) -> String {
    let Some((path, query)) = uri.split_once('?') else {
        return uri.to_owned();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if SECRET_QUERY.contains(&name.to_ascii_lowercase().as_str()) => format!("{name}=REDACTED"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

/// One access-log record (one line, no newline), in S3's field order.
pub fn record(logged: &Logged, owner: &str, line: &RequestLine, ending: &Ending<'_>) -> String {
    let now = line.received;
    let quoted = |text: Option<&str>| match text {
        Some(text) if !text.is_empty() => format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"")),
        _ => "\"-\"".to_owned(),
    };
    let dash = |text: Option<String>| text.filter(|t| !t.is_empty()).unwrap_or_else(|| "-".to_owned());
    let time = format!(
        "[{:02}/{}/{}:{:02}:{:02}:{:02} +0000]",
        now.day(),
        &format!("{:?}", now.month())[..3],
        now.year(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let key = logged
        .key
        .as_deref()
        .map(|key| percent_encoding::utf8_percent_encode(key, crate::access_log::KEY_ESCAPES).to_string());
    let query = line.uri.split_once('?').map_or("", |(_, q)| q);
    let operation = match logged.operation.as_str() {
        "BatchDeleteObject" => "BATCH.DELETE.OBJECT".to_owned(),
        other => operation_name(&line.method, other, logged.key.is_some(), query),
    };
    let millis = line.started.elapsed().as_millis().to_string();
    let object_size = match logged.operation.as_str() {
        "PutObject" | "UploadPart" | "PostObject" => line.bytes_in,
        "GetObject" | "HeadObject" => ending.object_size,
        _ => None,
    };
    let size = |bytes: Option<u64>| bytes.filter(|b| *b > 0).map(|b| b.to_string());
    let (signature, auth) = match line.signature {
        Some((version, method)) => (version.to_owned(), method.to_owned()),
        None => ("-".to_owned(), "-".to_owned()),
    };
    [
        owner.to_owned(),
        dash(logged.bucket.clone()),
        time,
        dash(line.remote_ip.clone()),
        logged.principal.as_ref().map_or_else(|| "-".to_owned(), |p| p.arn()),
        ending.request_id.to_owned(),
        operation,
        dash(key),
        quoted(Some(&format!("{} {} HTTP/1.1", line.method, redacted(&line.uri)))),
        ending.status.to_string(),
        dash(ending.error_code.map(str::to_owned)),
        dash(size(ending.bytes_sent)),
        dash(size(object_size)),
        millis.clone(),
        millis,
        quoted(line.referer.as_deref()),
        quoted(line.user_agent.as_deref()),
        dash(ending.version_id.map(str::to_owned)),
        ending.host_id.to_owned(),
        signature,
        "-".to_owned(),
        auth,
        dash(line.host.clone()),
        "-".to_owned(),
        "-".to_owned(),
        "-".to_owned(),
    ]
    .join(" ")
}

/// The line S3 adds for each key a DeleteObjects deleted: the request's record, as the
/// `BATCH.DELETE.OBJECT` of that key with status 204 and nothing sent.
pub fn batch_delete_record(logged: &Logged, owner: &str, line: &RequestLine, key: &str, ending: &Ending<'_>) -> String {
    let one = Logged {
        operation: "BatchDeleteObject".to_owned(),
        key: Some(key.to_owned()),
        batch_deleted: Vec::new(),
        ..logged.clone()
    };
    let deleted = Ending {
        status: 204,
        error_code: None,
        bytes_sent: None,
        object_size: None,
        version_id: None,
        request_id: ending.request_id,
        host_id: ending.host_id,
    };
    record(&one, owner, line, &deleted)
}

/// What a key escapes in a record (spaces and quotes would split its fields).
pub(crate) const KEY_ESCAPES: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The bucket a record is about, as it was when the request was made.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Source {
    pub bucket: String,
    pub account_id: String,
    pub region: String,
}

/// Records waiting for delivery, by source bucket, its owner and the logging configuration
/// in force when they were made: a batch goes where its requests' configuration said, and
/// only into a target its bucket's owner still owns. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AccessLogs {
    pending: Arc<Mutex<Pending>>,
    /// How long records wait before they are delivered (S3 delivers within hours; shorter
    /// here, and shorter still in tests).
    roll: Duration,
}

#[derive(Debug, Default)]
struct Pending {
    batches: HashMap<(Source, String, String), Batch>,
    bytes: usize,
    dropped: u64,
}

#[derive(Debug)]
struct Batch {
    logging: BucketLogging,
    since: Instant,
    first_event: OffsetDateTime,
    lines: Vec<String>,
}

/// Records of one source bucket, ready to deliver.
#[derive(Debug)]
pub struct DueBatch {
    pub source: Source,
    pub logging: BucketLogging,
    pub first_event: OffsetDateTime,
    pub lines: Vec<String>,
}

impl AccessLogs {
    pub fn new(roll: Duration) -> AccessLogs {
        AccessLogs {
            pending: Arc::new(Mutex::new(Pending::default())),
            roll,
        }
    }

    /// Holds `line`, a record of `source` made under `logging`, for its next delivery.
    pub fn add(&self, source: Source, logging: &BucketLogging, line: String) {
        let mut pending = self.pending.lock();
        if pending.bytes + line.len() > MAX_BUFFERED {
            pending.dropped += 1;
            if pending.dropped.is_power_of_two() {
                tracing::warn!(
                    dropped = pending.dropped,
                    "access-log records dropped: delivery is behind"
                );
            }
            return;
        }
        pending.bytes += line.len() + 1;
        let key = (source, logging.target_bucket.clone(), logging.target_prefix.clone());
        let batch = pending.batches.entry(key).or_insert_with(|| Batch {
            logging: logging.clone(),
            since: Instant::now(),
            first_event: OffsetDateTime::now_utc(),
            lines: Vec::new(),
        });
        batch.lines.push(line);
    }

    /// The batches that have waited their roll time (`all`: every batch, at shutdown).
    pub fn due(&self, all: bool) -> Vec<DueBatch> {
        let mut pending = self.pending.lock();
        let ready: Vec<(Source, String, String)> = pending
            .batches
            .iter()
            .filter(|(_, batch)| all || batch.since.elapsed() >= self.roll)
            .map(|(key, _)| key.clone())
            .collect();
        let mut due = Vec::with_capacity(ready.len());
        for key in ready {
            if let Some(batch) = pending.batches.remove(&key) {
                pending.bytes -= batch.lines.iter().map(|l| l.len() + 1).sum::<usize>();
                due.push(DueBatch {
                    source: key.0,
                    logging: batch.logging,
                    first_event: batch.first_event,
                    lines: batch.lines,
                });
            }
        }
        due
    }
}

/// The key a batch is delivered under.
pub fn log_key(logging: &BucketLogging, source: &Source, first_event: OffsetDateTime, now: OffsetDateTime) -> String {
    let stamp = |t: OffsetDateTime| {
        format!(
            "{:04}-{:02}-{:02}-{:02}-{:02}-{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    };
    let unique: String = (0..16)
        .map(|_| char::from(b"0123456789ABCDEF"[rand::random_range(0..16)]))
        .collect();
    let prefix = &logging.target_prefix;
    match logging.key_format {
        LogKeyFormat::Simple => format!("{prefix}{}-{unique}", stamp(now)),
        LogKeyFormat::Partitioned { by_event_time } => {
            let day = if by_event_time { first_event } else { now };
            format!(
                "{prefix}{}/{}/{}/{:04}/{:02}/{:02}/{}-{unique}",
                source.account_id,
                source.region,
                source.bucket,
                day.year(),
                u8::from(day.month()),
                day.day(),
                stamp(now)
            )
        }
    }
}

/// Whether `target`'s policy or ACL lets S3's log delivery put `key` for `source`: an Allow
/// for the `logging.s3.amazonaws.com` service (its conditions see `aws:SourceArn` and
/// `aws:SourceAccount`) and no Deny, or a WRITE grant to the LogDelivery group.
pub fn delivery_allowed(target: &Bucket, key: &str, source: &Source) -> bool {
    use coffer_policy::{Decision, Policies, Policy, PolicyKind, RequestContext, RequestPrincipal, decide};
    let service = RequestPrincipal {
        arn: LOGGING_SERVICE.to_owned(),
        service: true,
        ..RequestPrincipal::default()
    };
    let ctx = RequestContext::new(
        "s3:PutObject",
        &format!("arn:aws:s3:::{}/{key}", target.name),
        Some(service),
    )
    .with("aws:SourceArn", format!("arn:aws:s3:::{}", source.bucket))
    .with("aws:SourceAccount", source.account_id.clone());
    let policy = target
        .policy
        .as_deref()
        .and_then(|text| Policy::parse(text, PolicyKind::Resource).ok());
    let decision = policy.as_ref().map(|policy| {
        decide(
            &Policies {
                resource: Some(policy),
                resource_account: target.account_id.clone(),
                ..Policies::default()
            },
            &ctx,
        )
    });
    let acl_allows = target.acls_enabled()
        && target.acl.iter().flatten().any(|grant: &Grant| {
            grant.grantee == Grantee::LogDelivery
                && matches!(grant.permission, Permission::Write | Permission::FullControl)
        });
    match decision {
        Some(Decision::ExplicitDeny) => false,
        Some(Decision::Allow) => true,
        _ => acl_allows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_named_as_s3_names_them() {
        assert_eq!(operation_name("PUT", "PutObject", true, ""), "REST.PUT.OBJECT");
        assert_eq!(
            operation_name("GET", "ListObjectsV2", false, "list-type=2"),
            "REST.GET.BUCKET"
        );
        assert_eq!(operation_name("PUT", "CopyObject", true, ""), "REST.COPY.OBJECT");
        assert_eq!(
            operation_name("POST", "DeleteObjects", false, "delete"),
            "REST.POST.MULTI_OBJECT_DELETE"
        );
        assert_eq!(
            operation_name("GET", "GetObjectTagging", true, "tagging"),
            "REST.GET.TAGGING"
        );
        assert_eq!(
            operation_name("PUT", "PutObjectLockConfiguration", false, "object-lock"),
            "REST.PUT.OBJECT_LOCK"
        );
        assert_eq!(operation_name("HEAD", "HeadObject", true, ""), "REST.HEAD.OBJECT");
        assert_eq!(
            operation_name("GET", "GetObject", true, "x-id=GetObject"),
            "REST.GET.OBJECT"
        );
        assert_eq!(
            operation_name("PUT", "PutPublicAccessBlock", false, "publicAccessBlock="),
            "REST.PUT.PUBLIC_ACCESS_BLOCK"
        );
    }

    fn source(bucket: &str) -> Source {
        Source {
            bucket: bucket.to_owned(),
            account_id: "111111111111".to_owned(),
            region: "us-east-1".to_owned(),
        }
    }

    fn to(target: &str) -> BucketLogging {
        BucketLogging {
            target_bucket: target.to_owned(),
            target_prefix: "log/".to_owned(),
            key_format: LogKeyFormat::Simple,
            target_grants: Vec::new(),
        }
    }

    #[test]
    fn batches_wait_their_roll_time_and_keep_their_configuration() {
        let logs = AccessLogs::new(Duration::from_millis(50));
        logs.add(source("b"), &to("t1"), "one".to_owned());
        logs.add(source("b"), &to("t1"), "two".to_owned());
        // Pointed elsewhere: later records go there, earlier ones still where they were meant.
        logs.add(source("b"), &to("t2"), "three".to_owned());
        assert!(logs.due(false).is_empty());
        std::thread::sleep(Duration::from_millis(60));
        logs.add(source("c"), &to("t1"), "four".to_owned());
        let mut due = logs.due(false);
        due.sort_by(|a, b| a.logging.target_bucket.cmp(&b.logging.target_bucket));
        assert_eq!(due.len(), 2);
        assert_eq!(due[0].lines, ["one", "two"]);
        assert_eq!(due[1].lines, ["three"]);
        assert_eq!(logs.due(true)[0].source.bucket, "c");
        assert!(logs.due(true).is_empty());
    }

    #[test]
    fn secrets_in_the_query_are_redacted() {
        let uri = "/b/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc&x-amz-security-token=tok&versionId=1";
        assert_eq!(
            redacted(uri),
            "/b/k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&x-amz-security-token=REDACTED&versionId=1"
        );
        assert_eq!(redacted("/b/k"), "/b/k");
    }
}
