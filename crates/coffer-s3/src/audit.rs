//! S3 calls in the audit trail, as CloudTrail records them: bucket-level calls are management
//! events, object-level calls (and object listings) data events. The front door and the
//! console's in-process calls both record through here.

use bytes::Bytes;
use coffer_audit::{Caller, Event, Source};
use http_body_util::{BodyExt, Limited};
use serde_json::{Map, Value, json};

use crate::access::Logged;

/// What the audit record needs of a request, taken before the request is handed on.
#[derive(Clone, Debug)]
pub struct CallSummary {
    facts: coffer_auth::RequestFacts,
    host: Option<String>,
    query: Vec<(String, String)>,
    /// `(SignatureVersion, AuthenticationMethod)`, for a signed request.
    signature: Option<(&'static str, &'static str)>,
    bytes_in: Option<u64>,
    region: Option<String>,
}

impl CallSummary {
    pub fn of(parts: &http::request::Parts) -> CallSummary {
        let headers = &parts.headers;
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let query: Vec<(String, String)> = form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
        let signature = signature_of(parts);
        CallSummary {
            facts: coffer_auth::RequestFacts::from_request(headers, &parts.extensions, None),
            host: header("host").map(str::to_owned),
            query,
            signature,
            bytes_in: header("content-length").and_then(|v| v.parse().ok()),
            region: coffer_auth::sigv4::credential_scope(headers, &parts.uri).map(|s| s.region),
        }
    }
}

/// How a request is signed, as S3 names it: (`SigV4` or `SigV2`, `AuthHeader` or
/// `QueryString`); `None` when it is not.
pub fn signature_of(parts: &http::request::Parts) -> Option<(&'static str, &'static str)> {
    let authorization = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let query = parts.uri.query().unwrap_or("");
    let has = |name: &str| form_urlencoded::parse(query.as_bytes()).any(|(n, _)| n == name);
    if authorization.starts_with("AWS4-HMAC-SHA256") {
        Some(("SigV4", "AuthHeader"))
    } else if authorization.starts_with("AWS ") {
        Some(("SigV2", "AuthHeader"))
    } else if has("X-Amz-Algorithm") {
        Some(("SigV4", "QueryString"))
    } else if has("Signature") {
        Some(("SigV2", "QueryString"))
    } else {
        None
    }
}

/// Whether `logged` is an object-level call: CloudTrail's S3 data events.
pub fn is_data_event(logged: &Logged) -> bool {
    logged.key.is_some()
        || matches!(
            logged.operation.as_str(),
            "ListObjects"
                | "ListObjectsV2"
                | "ListObjectVersions"
                | "ListMultipartUploads"
                | "DeleteObjects"
                | "PostObject"
        )
}

/// Query parameters that are a signature's or a presigned request's headers (which can hold
/// a session token or an SSE-C key), never a call's: compared without case, as they are read.
fn is_signature_parameter(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("x-amz-")
        || matches!(
            name.as_str(),
            "signature" | "awsaccesskeyid" | "expires" | "securitytoken"
        )
}

/// The record of one S3 call that got as far as authorization.
pub struct Outcome<'a> {
    pub status: u16,
    pub error: Option<(String, String)>,
    pub request_id: Option<&'a str>,
    pub host_id: Option<&'a str>,
    pub bytes_out: Option<u64>,
    /// Made by the console for its signed-in principal.
    pub console: bool,
}

pub fn event(logged: &Logged, summary: &CallSummary, outcome: Outcome<'_>) -> Event {
    let caller = match &logged.principal {
        Some(principal) => Caller::Principal {
            principal: principal.clone(),
            console: outcome.console,
        },
        None => Caller::Anonymous,
    };
    let mut event = Event::new(Source::S3, &logged.operation, caller).from_client(&summary.facts);
    event.management = !is_data_event(logged);
    event.region = coffer_audit::event::region_or_default(
        logged
            .owner
            .as_ref()
            .map(|(_, region)| region.clone())
            .or_else(|| summary.region.clone()),
    );
    event.recipient_account = logged.owner.as_ref().map(|(account, _)| account.clone());
    let mut parameters = Map::new();
    if let Some(bucket) = &logged.bucket {
        parameters.insert("bucketName".into(), bucket.clone().into());
    }
    if let Some(host) = &summary.host {
        parameters.insert("Host".into(), host.clone().into());
    }
    if let Some(key) = &logged.key {
        parameters.insert("key".into(), key.clone().into());
    }
    for (name, value) in summary.query.iter().filter(|(name, _)| !is_signature_parameter(name)) {
        parameters.insert(name.clone(), value.clone().into());
    }
    event.request_parameters = Value::Object(parameters);
    event.error = outcome.error.or_else(|| {
        (outcome.status >= 400).then(|| {
            let reason = http::StatusCode::from_u16(outcome.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Error");
            (reason.replace(' ', ""), String::new())
        })
    });
    event.request_id = outcome.request_id.map(str::to_owned);
    let mut additional = Map::new();
    if let Some((version, method)) = summary.signature {
        additional.insert("SignatureVersion".into(), version.into());
        additional.insert("AuthenticationMethod".into(), method.into());
    }
    additional.insert("bytesTransferredIn".into(), summary.bytes_in.unwrap_or(0).into());
    additional.insert("bytesTransferredOut".into(), outcome.bytes_out.unwrap_or(0).into());
    if let Some(host_id) = outcome.host_id {
        additional.insert("x-amz-id-2".into(), host_id.into());
    }
    event.additional = Some(Value::Object(additional));
    let owner = logged.owner.as_ref().map(|(account, _)| account.clone());
    let mut resources = Vec::new();
    if let (Some(bucket), Some(key)) = (&logged.bucket, &logged.key) {
        resources.push(json!({ "type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/{key}") }));
    }
    if let Some(bucket) = &logged.bucket {
        let mut resource = json!({ "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}") });
        if let Some(owner) = owner {
            resource["accountId"] = owner.into();
        }
        resources.push(resource);
    }
    if !resources.is_empty() {
        event.resources = Some(Value::Array(resources));
    }
    event
}

/// An error answer's S3 code and message, read from its XML body (small; rebuilt with
/// `rebuild`), for the audit record.
pub async fn read_error<B>(
    response: http::Response<B>,
    rebuild: impl FnOnce(Bytes) -> B,
) -> (http::Response<B>, Option<(String, String)>)
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if response.status().as_u16() < 400 {
        return (response, None);
    }
    let (parts, body) = response.into_parts();
    let Ok(collected) = Limited::new(body, 64 * 1024).collect().await else {
        return (http::Response::from_parts(parts, rebuild(Bytes::new())), None);
    };
    let bytes = collected.to_bytes();
    let text = String::from_utf8_lossy(&bytes);
    let field = |tag: &str| {
        text.split(&format!("<{tag}>"))
            .nth(1)
            .and_then(|rest| rest.split(&format!("</{tag}>")).next())
            .map(str::to_owned)
    };
    let error = field("Code").map(|code| (code, field("Message").unwrap_or_default()));
    (http::Response::from_parts(parts, rebuild(bytes)), error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> CallSummary {
        let request = http::Request::builder()
            .uri("/photos?policy=&X-Amz-Signature=abc")
            .header("host", "127.0.0.1:9000")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261206/eu-west-1/s3/aws4_request",
            )
            .body(())
            .unwrap();
        CallSummary::of(&request.into_parts().0)
    }

    #[test]
    fn a_bucket_call_is_a_management_event_of_the_owner() {
        let logged = Logged {
            principal: None,
            operation: "GetBucketPolicy".to_owned(),
            bucket: Some("photos".to_owned()),
            key: None,
            owner: Some(("111111111111".to_owned(), "eu-west-1".to_owned())),
            access_log: None,
            batch_deleted: Vec::new(),
        };
        let outcome = Outcome {
            status: 404,
            error: None,
            request_id: Some("0123456789ABCDEF"),
            host_id: None,
            bytes_out: None,
            console: false,
        };
        let record = event(&logged, &summary(), outcome).to_json();
        assert_eq!(record["managementEvent"], true);
        assert_eq!(record["recipientAccountId"], "111111111111");
        assert_eq!(record["awsRegion"], "eu-west-1");
        assert_eq!(record["requestParameters"]["bucketName"], "photos");
        assert_eq!(record["requestParameters"]["policy"], "");
        assert!(record["requestParameters"].get("X-Amz-Signature").is_none());
        assert_eq!(record["errorCode"], "NotFound");
        assert_eq!(record["additionalEventData"]["SignatureVersion"], "SigV4");
        assert_eq!(record["resources"][0]["ARN"], "arn:aws:s3:::photos");
        let object = Logged {
            key: Some("cat.jpg".to_owned()),
            operation: "GetObject".to_owned(),
            ..logged
        };
        assert!(is_data_event(&object));
    }
}
