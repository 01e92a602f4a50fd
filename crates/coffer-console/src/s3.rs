//! The console's way into S3: a request built here goes to [`coffer_s3::S3Api::call_as`], the
//! same operation mapping, authorization, handlers and XML as a request from the network,
//! made as the signed-in principal instead of signed.

use axum::body::Body;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;

use crate::Console;
use crate::page::Signed;
use crate::results::Results;

/// An S3 answer: status, headers and the body, still streaming.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: coffer_s3::Body,
}

/// An S3 error as the console shows it.
pub struct Failure {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl Reply {
    /// The whole body as text (for XML answers, which are small).
    pub async fn text(self) -> String {
        match self.body.collect().await {
            Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
            Err(_) => String::new(),
        }
    }

    /// The whole body as XML.
    pub async fn results(self) -> Results {
        Results::document(self.text().await)
    }

    /// The reply, or its S3 error.
    pub async fn ok(self) -> Result<Reply, Failure> {
        if self.status.is_success() || self.status == StatusCode::NOT_MODIFIED {
            return Ok(self);
        }
        let status = self.status;
        let error = self.results().await;
        Err(Failure {
            status,
            code: error.text("Code").unwrap_or_else(|| status.as_u16().to_string()),
            message: error
                .text("Message")
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_owned()),
        })
    }
}

/// Percent-encodes a key or a query value (everything but unreserved characters, and `/`
/// kept in keys so they stay paths).
pub fn encode(text: &str, keep_slash: bool) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let encoded = percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string();
    if keep_slash {
        encoded.replace("%2F", "/")
    } else {
        encoded
    }
}

impl Console {
    /// Sends `method path_and_query` to S3 as the signed-in principal.
    pub async fn s3(
        &self,
        signed: &Signed,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, String)],
        body: coffer_s3::Body,
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(path_and_query)
            // An address, never a name: it cannot be read as `<bucket>.<--domain>`.
            .header(http::header::HOST, "127.0.0.1");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let Ok(request) = request.body(body) else {
            return failure_reply(StatusCode::BAD_REQUEST);
        };
        let response = self.s3.call_as(&signed.session.principal, signed.peer(), request).await;
        let (parts, body) = response.into_parts();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}

fn failure_reply(status: StatusCode) -> Reply {
    Reply {
        status,
        headers: HeaderMap::new(),
        body: coffer_s3::Body::empty(),
    }
}

/// An S3 body from an axum one (an upload, streamed through).
pub fn body_from(body: Body) -> coffer_s3::Body {
    coffer_s3::Body::http_body_unsync(body)
}
