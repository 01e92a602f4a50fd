//! S3 error answers made outside s3s's operations: the front door's refusals (before s3s
//! reads the request) and the listener's limits. Same XML shape as s3s's own errors, with the
//! extra elements S3 adds for some codes (`HeadersNotSigned`, `ServerTime`).

use coffer_auth::signed_request::Refusal;
use http::StatusCode;
use time::format_description::well_known::Rfc3339;

/// An S3 error response: `<Error><Code>…</Code><Message>…</Message>…details…</Error>`.
pub fn error_response(
    status: StatusCode,
    code: &str,
    message: &str,
    details: &[(&str, String)],
) -> http::Response<String> {
    let mut body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>",
        escape(code),
        escape(message)
    );
    for (name, value) in details {
        body.push_str(&format!("<{name}>{}</{name}>", escape(value)));
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

/// S3's answer to a signed request refused before its operation (see
/// [`coffer_auth::signed_request`]).
pub fn refused(refusal: &Refusal) -> http::Response<String> {
    match refusal {
        Refusal::HeadersNotSigned(names) => error_response(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "There were headers present in the request which were not signed",
            &[("HeadersNotSigned", names.join(", "))],
        ),
        Refusal::RequestTimeTooSkewed {
            request_time,
            server_time,
        } => error_response(
            StatusCode::FORBIDDEN,
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            &[
                ("RequestTime", request_time.format(&Rfc3339).unwrap_or_default()),
                ("ServerTime", server_time.format(&Rfc3339).unwrap_or_default()),
                ("MaxAllowedSkewMilliseconds", "900000".to_owned()),
            ],
        ),
        Refusal::MissingDate => error_response(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "AWS authentication requires a valid Date or x-amz-date header",
            &[],
        ),
        Refusal::ExpiresTooFar => error_response(
            StatusCode::BAD_REQUEST,
            "AuthorizationQueryParametersError",
            "Expires must be at most 604800 seconds (7 days) from now",
            &[],
        ),
        Refusal::InvalidToken => error_response(
            StatusCode::BAD_REQUEST,
            "InvalidToken",
            "The provided token is malformed or otherwise invalid.",
            &[],
        ),
    }
}

fn escape(text: &str) -> String {
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
        let response = refused(&Refusal::HeadersNotSigned(vec!["x-amz-a".into(), "x-amz-<b>".into()]));
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(response.body().ends_with(
            "<Code>AccessDenied</Code><Message>There were headers present in the request which were not signed</Message>\
             <HeadersNotSigned>x-amz-a, x-amz-&lt;b&gt;</HeadersNotSigned></Error>"
        ));
    }
}
