//! S3's request ids: every S3 answer carries `x-amz-request-id` and `x-amz-id-2`, and every S3
//! error document its `RequestId`, `HostId` and `Resource`, as S3's do; the same id is in the
//! request's log line, so the id a user quotes from an error leads to the server's record of it.
//! (The Query and KMS APIs carry their own request ids already.)

use axum::body::Body;
use axum::response::Response;
use http::HeaderValue;
use http_body_util::{BodyExt, Limited};

/// The largest error document read back to add the ids (S3's are a few hundred bytes).
const MAX_ERROR_DOCUMENT: usize = 64 * 1024;

#[derive(Clone, Debug)]
pub struct S3RequestId {
    /// 16 upper-case hex digits, as S3 writes them.
    pub id: String,
    /// The "extended" id (`x-amz-id-2`): opaque; random, as clients only quote it back.
    pub host_id: String,
}

impl S3RequestId {
    pub fn new() -> S3RequestId {
        let random = coffer_store::ids::request_id().replace('-', "");
        let more = coffer_store::ids::request_id().replace('-', "");
        S3RequestId {
            id: random[..16].to_ascii_uppercase(),
            host_id: format!("{random}{more}"),
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `response` with the ids in its headers and, for an S3 error document (not a HEAD's, which
/// has no body), in the document with the `resource` (the request's path); and the
/// document's error code and message, when it has them.
pub async fn stamp(
    response: Response,
    ids: &S3RequestId,
    resource: &str,
    head: bool,
) -> (Response, Option<(String, String)>) {
    let (mut parts, body) = response.into_parts();
    if let Ok(id) = HeaderValue::from_str(&ids.id) {
        parts.headers.insert("x-amz-request-id", id);
    }
    if let Ok(host_id) = HeaderValue::from_str(&ids.host_id) {
        parts.headers.insert("x-amz-id-2", host_id);
    }
    let is_xml = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/xml"));
    if head || !is_xml || !(parts.status.is_client_error() || parts.status.is_server_error()) {
        return (Response::from_parts(parts, body), None);
    }
    // Only a document known to be small is read back; anything else passes untouched.
    if http_body::Body::size_hint(&body)
        .upper()
        .is_none_or(|upper| upper > MAX_ERROR_DOCUMENT as u64)
    {
        return (Response::from_parts(parts, body), None);
    }
    let Ok(collected) = Limited::new(body, MAX_ERROR_DOCUMENT).collect().await else {
        parts.headers.remove(http::header::CONTENT_LENGTH);
        return (Response::from_parts(parts, Body::empty()), None);
    };
    let document = String::from_utf8_lossy(&collected.to_bytes()).into_owned();
    let error = error_of(&document);
    let stamped = match document.rfind("</Error>") {
        Some(end) if !document.contains("<RequestId>") => {
            let mut added = String::new();
            if !document.contains("<Resource>") {
                added.push_str(&format!("<Resource>{}</Resource>", escape(resource)));
            }
            added.push_str(&format!(
                "<RequestId>{}</RequestId><HostId>{}</HostId>",
                ids.id, ids.host_id
            ));
            format!("{}{added}{}", &document[..end], &document[end..])
        }
        _ => document,
    };
    parts.headers.insert(http::header::CONTENT_LENGTH, stamped.len().into());
    (Response::from_parts(parts, Body::from(stamped)), error)
}

/// The `<Code>` and `<Message>` of an AWS XML error document (S3's, or the Query APIs').
pub fn error_of(document: &str) -> Option<(String, String)> {
    let field = |tag: &str| {
        document
            .split_once(&format!("<{tag}>"))
            .and_then(|(_, rest)| rest.split_once(&format!("</{tag}>")))
            .map(|(text, _)| text.to_owned())
    };
    Some((field("Code")?, field("Message").unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_error_document_gets_its_ids_and_resource() {
        let ids = S3RequestId::new();
        assert_eq!(ids.id.len(), 16);
        let error = http::Response::builder()
            .status(404)
            .header("content-type", "application/xml")
            .body(Body::from(
                "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>m</Message></Error>",
            ))
            .unwrap();
        let (stamped, error) = stamp(error, &ids, "/b/a&b", false).await;
        assert_eq!(error, Some(("NoSuchKey".to_owned(), "m".to_owned())));
        assert_eq!(stamped.headers()["x-amz-request-id"], ids.id.as_str());
        let body = stamped.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&body);
        assert!(
            body.contains(&format!(
                "<Resource>/b/a&amp;b</Resource><RequestId>{}</RequestId>",
                ids.id
            )),
            "{body}"
        );
        assert!(body.ends_with("</Error>"));
        // A success keeps its body untouched.
        let ok = http::Response::builder().status(200).body(Body::from("data")).unwrap();
        let (stamped, error) = stamp(ok, &ids, "/b/k", false).await;
        assert_eq!(error, None);
        assert_eq!(stamped.headers()["x-amz-id-2"], ids.host_id.as_str());
        assert_eq!(
            stamped.into_body().collect().await.unwrap().to_bytes().as_ref(),
            b"data"
        );
    }
}
