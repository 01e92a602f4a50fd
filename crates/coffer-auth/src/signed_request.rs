//! What a signed S3 request must satisfy besides its signature. s3s 0.14 checks that the
//! signature matches what the client declared it signed; these checks close what that leaves
//! open, and run at the front door before s3s routes the request:
//!
//! - every `x-amz-*` header is covered by a SigV4 signature (an unsigned `x-amz-copy-source`
//!   would turn a presigned PUT into a copy of something the signer never named);
//! - a SigV2 request is as fresh as a SigV4 one (a captured request cannot be replayed later)
//!   and a SigV2 presigned URL lives at most as long as a SigV4 one;
//! - a session token is never ignored (Coffer issues none yet, so any token is invalid).
//!
//! SigV2 needs no header check: its string to sign holds every `x-amz-*` header.

use http::request::Parts;
use time::OffsetDateTime;

use crate::sigv4::{MAX_CLOCK_SKEW, MAX_PRESIGN_EXPIRES_SECS};

/// Why a signed request is refused before its operation runs; each is an S3 error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `AccessDenied`: `x-amz-*` headers the signature does not cover (lower case, sorted).
    HeadersNotSigned(Vec<String>),
    /// `RequestTimeTooSkewed`: a SigV2 `Date`/`x-amz-date` more than 15 minutes off.
    RequestTimeTooSkewed {
        request_time: OffsetDateTime,
        server_time: OffsetDateTime,
    },
    /// `AccessDenied`: a SigV2 header signature without a readable date.
    MissingDate,
    /// `AuthorizationQueryParametersError`: a SigV2 presigned `Expires` more than
    /// [`MAX_PRESIGN_EXPIRES_SECS`] ahead.
    ExpiresTooFar,
    /// `InvalidToken`: an `x-amz-security-token` that names no session.
    InvalidToken,
}

/// The `x-amz-*` headers a client may leave unsigned: S3 accepts an unsigned payload hash.
const EXEMPT: &[&str] = &["x-amz-content-sha256"];

/// Checks a request bound for S3 at time `now`. Unsigned (anonymous) requests pass: they
/// claim nothing. A SigV2 date or expiry too malformed to read passes too: s3s refuses it.
pub fn check_s3_request(parts: &Parts, now: OffsetDateTime) -> Result<(), Refusal> {
    let scheme = Scheme::of(parts);
    if scheme == Scheme::Anonymous {
        return Ok(());
    }
    if parts.headers.contains_key("x-amz-security-token") || query_has(parts, "X-Amz-Security-Token") {
        return Err(Refusal::InvalidToken);
    }
    match scheme {
        Scheme::SigV4 => {
            let unsigned = unsigned_amz_headers(&parts.headers, &declared_signed_headers(parts));
            if unsigned.is_empty() {
                Ok(())
            } else {
                Err(Refusal::HeadersNotSigned(unsigned))
            }
        }
        Scheme::SigV2Header => check_sigv2_date(parts, now),
        Scheme::SigV2Query => check_sigv2_expires(parts, now),
        Scheme::Anonymous => Ok(()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    Anonymous,
    SigV4,
    SigV2Header,
    SigV2Query,
}

impl Scheme {
    /// The scheme as s3s picks it: an `Authorization` header first, then the query.
    fn of(parts: &Parts) -> Scheme {
        if let Some(auth) = parts.headers.get(http::header::AUTHORIZATION) {
            let auth = auth.as_bytes();
            return if auth.starts_with(b"AWS4-HMAC-SHA256") {
                Scheme::SigV4
            } else if auth.starts_with(b"AWS ") {
                Scheme::SigV2Header
            } else {
                // s3s refuses it; nothing here to check.
                Scheme::Anonymous
            };
        }
        if query_has(parts, "X-Amz-Signature") {
            Scheme::SigV4
        } else if query_has(parts, "Signature") && query_has(parts, "AWSAccessKeyId") {
            Scheme::SigV2Query
        } else {
            Scheme::Anonymous
        }
    }
}

fn query_has(parts: &Parts, name: &str) -> bool {
    query_value(parts, name).is_some()
}

fn query_value(parts: &Parts, name: &str) -> Option<String> {
    form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The headers a SigV4 request declares signed (`SignedHeaders` in the `Authorization`
/// header, else `X-Amz-SignedHeaders`), read apart from the rest of the signature so that no
/// leniency elsewhere can skip this check; none if it declares none.
fn declared_signed_headers(parts: &Parts) -> Vec<String> {
    let list = match parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        Some(auth) => auth
            .split([',', ' '])
            .find_map(|item| item.trim().strip_prefix("SignedHeaders="))
            .map(str::to_owned),
        None => query_value(parts, "X-Amz-SignedHeaders"),
    };
    list.map(|l| l.split(';').map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The request's `x-amz-*` headers that `signed` (a SigV4 `SignedHeaders` list) leaves out.
pub fn unsigned_amz_headers(headers: &http::HeaderMap, signed: &[String]) -> Vec<String> {
    let mut unsigned: Vec<String> = headers
        .keys()
        .map(http::HeaderName::as_str)
        .filter(|name| name.starts_with("x-amz-") && !EXEMPT.contains(name))
        .filter(|name| !signed.iter().any(|s| s.eq_ignore_ascii_case(name)))
        .map(str::to_owned)
        .collect();
    unsigned.sort();
    unsigned.dedup();
    unsigned
}

/// SigV2 header authentication signs `x-amz-date` if present, else `Date`; either must be
/// within 15 minutes of now, as for SigV4.
fn check_sigv2_date(parts: &Parts, now: OffsetDateTime) -> Result<(), Refusal> {
    let date = parts
        .headers
        .get("x-amz-date")
        .or_else(|| parts.headers.get(http::header::DATE))
        .and_then(|v| v.to_str().ok())
        .and_then(parse_http_date)
        .ok_or(Refusal::MissingDate)?;
    if (date - now).abs() > MAX_CLOCK_SKEW {
        return Err(Refusal::RequestTimeTooSkewed {
            request_time: date,
            server_time: now,
        });
    }
    Ok(())
}

/// A SigV2 presigned URL names its end (`Expires`, seconds since the epoch); s3s refuses it
/// after that, and here one that ends more than seven days ahead, SigV4's bound.
fn check_sigv2_expires(parts: &Parts, now: OffsetDateTime) -> Result<(), Refusal> {
    let Some(expires) = query_value(parts, "Expires").and_then(|e| e.parse::<i64>().ok()) else {
        // s3s refuses a missing or unreadable Expires.
        return Ok(());
    };
    if expires - now.unix_timestamp() > MAX_PRESIGN_EXPIRES_SECS {
        return Err(Refusal::ExpiresTooFar);
    }
    Ok(())
}

/// An HTTP date (RFC 1123, RFC 850 or asctime, as `Date` headers come), or RFC 2822 with a
/// numeric zone.
fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    if let Ok(time) = httpdate::parse_http_date(text) {
        return Some(OffsetDateTime::from(time));
    }
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc2822).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut request = http::Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    const SIGV4: &str = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/s3/aws4_request, \
         SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=00";

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap()
    }

    #[test]
    fn an_unsigned_copy_source_is_refused_by_name() {
        let p = parts(
            "PUT",
            "/b/k",
            &[
                ("authorization", SIGV4),
                ("x-amz-date", "20260101T000000Z"),
                ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
                ("x-amz-copy-source", "/b/secret"),
                ("x-amz-meta-a", "1"),
            ],
        );
        assert_eq!(
            check_s3_request(&p, now()),
            Err(Refusal::HeadersNotSigned(vec![
                "x-amz-copy-source".into(),
                "x-amz-meta-a".into()
            ]))
        );
    }

    #[test]
    fn the_check_does_not_depend_on_the_rest_of_the_signature_being_readable() {
        let p = parts(
            "PUT",
            "/b/k",
            &[
                (
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=odd,SignedHeaders=host,Signature=0",
                ),
                ("x-amz-copy-source", "/b/secret"),
            ],
        );
        assert_eq!(
            check_s3_request(&p, now()),
            Err(Refusal::HeadersNotSigned(vec!["x-amz-copy-source".into()]))
        );
    }

    #[test]
    fn signed_headers_are_matched_without_regard_to_case() {
        let auth = SIGV4.replace("x-amz-date", "X-Amz-Date;x-amz-meta-a");
        let p = parts(
            "PUT",
            "/b/k",
            &[
                ("authorization", &auth),
                ("x-amz-date", "20260101T000000Z"),
                ("x-amz-meta-a", "1"),
            ],
        );
        assert_eq!(check_s3_request(&p, now()), Ok(()));
    }

    #[test]
    fn a_presigned_url_signs_only_the_headers_it_names() {
        let uri = "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20260101T000000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=00";
        assert_eq!(check_s3_request(&parts("PUT", uri, &[]), now()), Ok(()));
        assert_eq!(
            check_s3_request(&parts("PUT", uri, &[("x-amz-tagging", "a=b")]), now()),
            Err(Refusal::HeadersNotSigned(vec!["x-amz-tagging".into()]))
        );
    }

    #[test]
    fn anonymous_requests_are_not_checked() {
        assert_eq!(
            check_s3_request(&parts("GET", "/b/k", &[("x-amz-meta-a", "1")]), now()),
            Ok(())
        );
    }

    #[test]
    fn sigv2_dates_must_be_within_fifteen_minutes_either_way() {
        let v2 = |date: &str| parts("DELETE", "/b/k", &[("authorization", "AWS AKIA:sig"), ("date", date)]);
        let at = |t: OffsetDateTime| httpdate::fmt_http_date(t.into());
        assert_eq!(check_s3_request(&v2(&at(now())), now()), Ok(()));
        assert_eq!(
            check_s3_request(&v2(&at(now() - time::Duration::minutes(14))), now()),
            Ok(())
        );
        for date in [
            "Mon, 01 Jan 2001 00:00:00 GMT".to_owned(),
            "Fri, 01 Jan 2038 00:00:00 GMT".to_owned(),
            at(now() + time::Duration::minutes(16)),
        ] {
            assert!(
                matches!(
                    check_s3_request(&v2(&date), now()),
                    Err(Refusal::RequestTimeTooSkewed { .. })
                ),
                "{date}"
            );
        }
        assert_eq!(check_s3_request(&v2("yesterday"), now()), Err(Refusal::MissingDate));
    }

    #[test]
    fn sigv2_x_amz_date_wins_over_date() {
        let p = parts(
            "DELETE",
            "/b/k",
            &[
                ("authorization", "AWS AKIA:sig"),
                ("date", &httpdate::fmt_http_date(now().into())),
                ("x-amz-date", "Mon, 01 Jan 2001 00:00:00 GMT"),
            ],
        );
        assert!(matches!(
            check_s3_request(&p, now()),
            Err(Refusal::RequestTimeTooSkewed { .. })
        ));
    }

    #[test]
    fn sigv2_presigned_urls_live_at_most_seven_days() {
        let url = |ahead: i64| {
            format!(
                "/b/k?AWSAccessKeyId=AKIA&Signature=x&Expires={}",
                now().unix_timestamp() + ahead
            )
        };
        assert_eq!(check_s3_request(&parts("GET", &url(604_800), &[]), now()), Ok(()));
        assert_eq!(
            check_s3_request(&parts("GET", &url(604_801), &[]), now()),
            Err(Refusal::ExpiresTooFar)
        );
    }

    #[test]
    fn a_session_token_with_any_signature_is_invalid() {
        let header = parts(
            "GET",
            "/b/k",
            &[
                ("authorization", SIGV4),
                ("x-amz-date", "20260101T000000Z"),
                ("x-amz-security-token", "junk"),
            ],
        );
        assert_eq!(check_s3_request(&header, now()), Err(Refusal::InvalidToken));
        let query = parts(
            "GET",
            "/b/k?AWSAccessKeyId=AKIA&Signature=x&Expires=1&X-Amz-Security-Token=junk",
            &[],
        );
        assert_eq!(check_s3_request(&query, now()), Err(Refusal::InvalidToken));
    }
}
