//! What a signed S3 request must satisfy besides its signature. s3s 0.14 checks that the
//! signature matches what the client declared it signed; these checks close what that leaves
//! open, and run at the front door before s3s routes the request:
//!
//! - one way of signing, as S3 demands: a request with both an `Authorization` header and a
//!   signed query, or with an `Authorization` scheme S3 does not know, is refused (s3s would
//!   pick one by its own order and ignore the rest, which let a check here look at the other);
//! - every `x-amz-*` header is covered by a SigV4 signature (an unsigned `x-amz-copy-source`
//!   would turn a presigned PUT into a copy of something the signer never named);
//! - a SigV2 request is as fresh as a SigV4 one (a captured request cannot be replayed later),
//!   a SigV2 presigned URL expires at most 7 days ahead, and SigV2 is refused for the
//!   operations whose subresource SigV2 does not sign (a captured `PUT /bucket` could be
//!   replayed as `PUT /bucket?publicAccessBlock`);
//! - a session token is never ignored: [`crate::session::s3_session`] opens it, for the key
//!   that signed the request only.
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
    /// `InvalidToken`: an `x-amz-security-token` that names no session, or not the signer's.
    InvalidToken,
    /// `ExpiredToken`: a session token past its expiration.
    ExpiredToken,
    /// `InvalidArgument`: more than one of an `Authorization` header, a SigV2 `Signature` and a
    /// SigV4 `X-Amz-Algorithm`/`X-Amz-Signature` query (or two `Authorization` headers).
    MoreThanOneAuthMechanism,
    /// `InvalidArgument`: an `Authorization` header that is neither SigV4 nor SigV2.
    UnsupportedAuthorizationType,
    /// `InvalidRequest`: SigV2 for an operation whose subresource SigV2 does not sign.
    SigV4Required,
    /// `InvalidArgument`: a SigV2 request naming a query parameter twice.
    RepeatedQueryParameter,
}

/// The `x-amz-*` headers a client may leave unsigned: S3 accepts an unsigned payload hash.
const EXEMPT: &[&str] = &["x-amz-content-sha256"];
/// Also unsigned on presigned requests: aws-sigv4 (the Rust SDK) leaves `x-amz-checksum-mode`
/// out of a presigned URL's signature on purpose; it only asks for checksums in the answer.
const EXEMPT_PRESIGNED: &[&str] = &["x-amz-content-sha256", "x-amz-checksum-mode"];

/// Subresources that route to an operation but that s3s's SigV2 string to sign leaves out
/// (its list predates them); AWS serves these operations with SigV4 only.
const UNSIGNED_BY_SIGV2: &[&str] = &[
    "attributes",
    "encryption",
    "id",
    "intelligent-tiering",
    "legal-hold",
    "metadataTable",
    "ownershipControls",
    "policyStatus",
    "publicAccessBlock",
    "retention",
    "session",
];

/// Checks a request bound for S3 at time `now`. Unsigned (anonymous) requests pass: they
/// claim nothing. A SigV2 date or expiry too malformed to read passes too: s3s refuses it.
pub fn check_s3_request(parts: &Parts, now: OffsetDateTime) -> Result<(), Refusal> {
    let scheme = Scheme::of(parts)?;
    if scheme == Scheme::Anonymous {
        return Ok(());
    }
    if matches!(scheme, Scheme::SigV2Header | Scheme::SigV2Query) {
        let names: Vec<String> = query_names(parts).collect();
        if names.iter().any(|name| UNSIGNED_BY_SIGV2.contains(&name.as_str())) {
            return Err(Refusal::SigV4Required);
        }
        // s3s signs a subresource only when it appears once, but routes on it however often
        // it appears: `PUT /b?policy&policy` would replay a signed `PUT /b` as PutBucketPolicy.
        let mut sorted = names;
        sorted.sort();
        if sorted.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err(Refusal::RepeatedQueryParameter);
        }
    }
    match scheme {
        Scheme::SigV4Header | Scheme::SigV4Query => {
            let (signed, exempt) = match scheme {
                Scheme::SigV4Header => (header_signed_headers(parts), EXEMPT),
                _ => (query_value(parts, "X-Amz-SignedHeaders"), EXEMPT_PRESIGNED),
            };
            let signed: Vec<String> = signed
                .map(|list| list.split(';').map(str::to_owned).collect())
                .unwrap_or_default();
            let unsigned = unsigned_amz_headers(&parts.headers, &signed, exempt);
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

/// The access key id that signed the request (SigV4 or SigV2, header or query), if it is signed.
pub fn signing_key_id(parts: &Parts) -> Option<String> {
    match Scheme::of(parts).ok()? {
        Scheme::Anonymous => None,
        Scheme::SigV4Header => {
            let auth = parts.headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
            let credential = auth.split_once("Credential=")?.1;
            Some(credential.split('/').next()?.to_owned())
        }
        Scheme::SigV4Query => Some(query_value(parts, "X-Amz-Credential")?.split('/').next()?.to_owned()),
        Scheme::SigV2Header => {
            let auth = parts.headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
            Some(auth.strip_prefix("AWS ")?.rsplit_once(':')?.0.trim().to_owned())
        }
        Scheme::SigV2Query => query_value(parts, "AWSAccessKeyId"),
    }
}

/// SigV2 presigned URLs carry their session token as an `x-amz-security-token` query
/// parameter that clients sign as the header it stands for (botocore signs the header, then
/// moves every `x-amz-*` header into the query). s3s signs only headers, so the token is put
/// back where it was signed. Returns whether it moved one.
pub fn sigv2_query_token_as_header(parts: &mut Parts) -> bool {
    if !matches!(Scheme::of(parts), Ok(Scheme::SigV2Query)) || parts.headers.contains_key("x-amz-security-token") {
        return false;
    }
    let token = form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .find(|(name, _)| name == "x-amz-security-token")
        .map(|(_, value)| value.into_owned());
    match token.and_then(|t| http::HeaderValue::from_str(&t).ok()) {
        Some(value) => {
            parts.headers.insert("x-amz-security-token", value);
            true
        }
        None => false,
    }
}

/// Whether the request is signed with SigV2 (header or presigned URL), as s3s would see it.
pub fn is_sigv2(parts: &Parts) -> bool {
    matches!(Scheme::of(parts), Ok(Scheme::SigV2Header | Scheme::SigV2Query))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    Anonymous,
    SigV4Header,
    SigV4Query,
    SigV2Header,
    SigV2Query,
}

impl Scheme {
    /// The one way the request is signed. With exactly one mechanism present, s3s picks the
    /// same (its order: a SigV2 `Signature` query, a SigV2 header, a SigV4 `X-Amz-Signature`
    /// query, any other `Authorization` header); with more, S3 refuses and so does Coffer.
    fn of(parts: &Parts) -> Result<Scheme, Refusal> {
        let headers = parts.headers.get_all(http::header::AUTHORIZATION).iter().count();
        let v2_query = query_has(parts, "Signature");
        let v4_query = query_has(parts, "X-Amz-Signature") || query_has(parts, "X-Amz-Algorithm");
        if headers + usize::from(v2_query) + usize::from(v4_query) > 1 {
            return Err(Refusal::MoreThanOneAuthMechanism);
        }
        if v2_query {
            return Ok(Scheme::SigV2Query);
        }
        if v4_query {
            return Ok(Scheme::SigV4Query);
        }
        let Some(auth) = parts.headers.get(http::header::AUTHORIZATION) else {
            return Ok(Scheme::Anonymous);
        };
        let auth = auth.as_bytes();
        if auth.starts_with(b"AWS4-HMAC-SHA256 ") {
            Ok(Scheme::SigV4Header)
        } else if auth.starts_with(b"AWS ") && auth.contains(&b':') {
            Ok(Scheme::SigV2Header)
        } else {
            Err(Refusal::UnsupportedAuthorizationType)
        }
    }
}

fn query_names(parts: &Parts) -> impl Iterator<Item = String> + '_ {
    form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()).map(|(k, _)| k.into_owned())
}

fn query_has(parts: &Parts, name: &str) -> bool {
    query_value(parts, name).is_some()
}

fn query_value(parts: &Parts, name: &str) -> Option<String> {
    form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The `SignedHeaders` of a SigV4 `Authorization` header, read as s3s reads them (the field
/// right after `Credential=…,` and optional blanks, up to the next `,`), apart from the rest
/// of the signature so that no leniency elsewhere can skip this check. `None` when the header
/// is not in that shape (s3s refuses it too; here every `x-amz-*` header is then unsigned).
fn header_signed_headers(parts: &Parts) -> Option<String> {
    let auth = parts.headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (_, after_credential) = auth.split_once(',')?;
    let list = after_credential
        .trim_start_matches(|c: char| c.is_ascii_whitespace())
        .strip_prefix("SignedHeaders=")?;
    Some(list.split(',').next().unwrap_or_default().to_owned())
}

/// The request's `x-amz-*` headers that `signed` (a SigV4 `SignedHeaders` list) leaves out,
/// but for the `exempt` ones. A name counts as signed only when listed exactly as s3s looks
/// it up (lower case, nothing around it): s3s skips a listed name it cannot find, so
/// `X-Amz-Copy-Source` or `x-amz-copy-source junk` added to a captured request's list signs
/// nothing.
pub fn unsigned_amz_headers(headers: &http::HeaderMap, signed: &[String], exempt: &[&str]) -> Vec<String> {
    let mut unsigned: Vec<String> = headers
        .keys()
        .map(http::HeaderName::as_str)
        .filter(|name| name.starts_with("x-amz-") && !exempt.contains(name))
        .filter(|name| !signed.iter().any(|s| s == name))
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

/// A SigV2 presigned URL names its end (`Expires`, seconds since the epoch), not when it was
/// made; s3s refuses it after that, and here one that ends more than seven days from now
/// (SigV4's bound on a URL's life; AWS documents none for SigV2).
fn check_sigv2_expires(parts: &Parts, now: OffsetDateTime) -> Result<(), Refusal> {
    let Some(expires) = query_value(parts, "Expires").and_then(|e| e.parse::<i64>().ok()) else {
        // s3s refuses a missing or unreadable Expires.
        return Ok(());
    };
    if expires.saturating_sub(now.unix_timestamp()) > MAX_PRESIGN_EXPIRES_SECS {
        return Err(Refusal::ExpiresTooFar);
    }
    Ok(())
}

/// An HTTP date (RFC 1123, RFC 850 or asctime, as `Date` headers come; RFC 1123 with `UTC`
/// too), or RFC 2822 with a numeric zone.
fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    if let Ok(time) = httpdate::parse_http_date(text) {
        return Some(OffsetDateTime::from(time));
    }
    // Go's time.RFC1123 (rclone, goamz) writes the zone as "UTC".
    if let Some(utc) = text.strip_suffix(" UTC")
        && let Ok(time) = httpdate::parse_http_date(&format!("{utc} GMT"))
    {
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
    fn a_signed_header_counts_only_when_listed_as_s3s_finds_it() {
        let signed = |list: &str| SIGV4.replace("host;x-amz-content-sha256;x-amz-date", list);
        let with = |auth: &str| {
            parts(
                "PUT",
                "/b/k",
                &[
                    ("authorization", auth),
                    ("x-amz-date", "20260101T000000Z"),
                    ("x-amz-meta-a", "1"),
                ],
            )
        };
        assert_eq!(
            check_s3_request(&with(&signed("host;x-amz-date;x-amz-meta-a")), now()),
            Ok(())
        );
        // s3s skips a listed name it cannot find: these sign nothing.
        for list in [
            "host;x-amz-date;X-Amz-Meta-A",
            "host;x-amz-date;x-amz-meta-a junk",
            "host;x-amz-date;x-amz-meta-a\t",
        ] {
            assert_eq!(
                check_s3_request(&with(&signed(list)), now()),
                Err(Refusal::HeadersNotSigned(vec!["x-amz-meta-a".into()])),
                "{list}"
            );
        }
        // Not in s3s's shape: nothing counts as signed.
        let odd =
            "AWS4-HMAC-SHA256 SignedHeaders=x-amz-meta-a, Credential=a/20260101/us-east-1/s3/aws4_request, Signature=0";
        assert!(check_s3_request(&with(odd), now()).is_err());
    }

    #[test]
    fn sigv2_refuses_a_query_parameter_named_twice() {
        let v2 = |path: &str| {
            parts(
                "PUT",
                path,
                &[
                    ("authorization", "AWS AKIA:sig"),
                    ("date", &httpdate::fmt_http_date(now().into())),
                ],
            )
        };
        assert_eq!(
            check_s3_request(&v2("/b?policy&policy"), now()),
            Err(Refusal::RepeatedQueryParameter)
        );
        assert_eq!(check_s3_request(&v2("/b?policy"), now()), Ok(()));
    }

    #[test]
    fn go_style_utc_dates_are_read() {
        let at = httpdate::fmt_http_date(now().into()).replace("GMT", "UTC");
        let p = parts("GET", "/b/k", &[("authorization", "AWS AKIA:sig"), ("date", &at)]);
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

    const PRESIGNED: &str = "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date=20260101T000000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=00";

    #[test]
    fn a_second_way_of_signing_is_refused_not_ignored() {
        // A presigned URL with any Authorization header besides (s3s would check the URL and
        // a check of the header would miss an unsigned copy source).
        for auth in [
            "Bearer x",
            "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-copy-source, Signature=0",
        ] {
            let p = parts(
                "PUT",
                PRESIGNED,
                &[("authorization", auth), ("x-amz-copy-source", "/b/secret")],
            );
            assert_eq!(
                check_s3_request(&p, now()),
                Err(Refusal::MoreThanOneAuthMechanism),
                "{auth}"
            );
        }
        // A SigV2 presigned URL with a SigV4 parameter added.
        let v2 = format!(
            "/b/k?AWSAccessKeyId=AKIA&Signature=x&Expires={}&X-Amz-Signature=1",
            i64::MAX
        );
        assert_eq!(
            check_s3_request(&parts("GET", &v2, &[]), now()),
            Err(Refusal::MoreThanOneAuthMechanism)
        );
        let two = parts("GET", "/b/k", &[("authorization", SIGV4), ("authorization", SIGV4)]);
        assert_eq!(check_s3_request(&two, now()), Err(Refusal::MoreThanOneAuthMechanism));
    }

    #[test]
    fn an_unknown_authorization_scheme_is_refused() {
        // s3s verifies any Authorization header as SigV4 without reading its first word.
        let renamed = SIGV4.replacen("AWS4-HMAC-SHA256", "X", 1);
        let p = parts(
            "PUT",
            "/b/k",
            &[("authorization", &renamed), ("x-amz-copy-source", "/b/s")],
        );
        assert_eq!(check_s3_request(&p, now()), Err(Refusal::UnsupportedAuthorizationType));
    }

    #[test]
    fn sigv2_is_refused_where_it_does_not_sign_the_subresource() {
        let v2 = |path: &str| {
            parts(
                "PUT",
                path,
                &[
                    ("authorization", "AWS AKIA:sig"),
                    ("date", &httpdate::fmt_http_date(now().into())),
                ],
            )
        };
        assert_eq!(check_s3_request(&v2("/b"), now()), Ok(()));
        assert_eq!(
            check_s3_request(&v2("/b?publicAccessBlock"), now()),
            Err(Refusal::SigV4Required)
        );
        assert_eq!(check_s3_request(&v2("/b?policy"), now()), Ok(()), "signed by SigV2");
    }

    #[test]
    fn a_presigned_get_may_ask_for_checksums_unsigned() {
        let p = parts("GET", PRESIGNED, &[("x-amz-checksum-mode", "ENABLED")]);
        assert_eq!(check_s3_request(&p, now()), Ok(()));
        let header = parts(
            "GET",
            "/b/k",
            &[
                ("authorization", SIGV4),
                ("x-amz-date", "20260101T000000Z"),
                ("x-amz-checksum-mode", "ENABLED"),
            ],
        );
        assert_eq!(
            check_s3_request(&header, now()),
            Err(Refusal::HeadersNotSigned(vec!["x-amz-checksum-mode".into()]))
        );
    }

    #[test]
    fn the_signing_key_is_read_from_every_scheme() {
        let header = parts(
            "GET",
            "/b/k",
            &[("authorization", SIGV4), ("x-amz-date", "20260101T000000Z")],
        );
        assert_eq!(signing_key_id(&header).as_deref(), Some("AKIAIOSFODNN7EXAMPLE"));
        assert_eq!(
            signing_key_id(&parts("GET", PRESIGNED, &[])).as_deref(),
            Some("AKIAIOSFODNN7EXAMPLE")
        );
        let v2 = parts(
            "GET",
            "/b/k",
            &[("authorization", "AWS ASIAEXAMPLE:c2ln"), ("date", "x")],
        );
        assert_eq!(signing_key_id(&v2).as_deref(), Some("ASIAEXAMPLE"));
        let v2_query = parts("GET", "/b/k?AWSAccessKeyId=ASIAQ&Signature=x&Expires=1", &[]);
        assert_eq!(signing_key_id(&v2_query).as_deref(), Some("ASIAQ"));
        assert_eq!(signing_key_id(&parts("GET", "/b/k", &[])), None);
    }

    #[test]
    fn a_sigv2_query_token_becomes_the_header_it_was_signed_as() {
        let mut p = parts(
            "GET",
            "/b/k?AWSAccessKeyId=ASIAQ&Signature=x&Expires=1&x-amz-security-token=tok%2Ben",
            &[],
        );
        assert!(sigv2_query_token_as_header(&mut p));
        assert_eq!(p.headers["x-amz-security-token"], "tok+en");
        // SigV4 signs its query as it is.
        let mut v4 = parts("GET", &format!("{PRESIGNED}&X-Amz-Security-Token=t"), &[]);
        assert!(!sigv2_query_token_as_header(&mut v4));
        assert!(!v4.headers.contains_key("x-amz-security-token"));
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
}
