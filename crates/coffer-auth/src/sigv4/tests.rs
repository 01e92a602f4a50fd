//! The verifier against `aws-sigv4`, the signer the AWS SDK for Rust uses, as an oracle: what
//! it signs we accept; any change to what it signed we reject.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings, UriPathNormalizationMode,
    sign,
};
use aws_sigv4::sign::v4;
use proptest::prelude::*;

use super::*;

const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

struct Signed {
    parts: Parts,
    body: Vec<u8>,
    time: OffsetDateTime,
}

fn signed(
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    location: SignatureLocation,
    region: &str,
    service: &str,
) -> Signed {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    let mut request = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(body.to_vec()).unwrap();
    let mut settings = SigningSettings::default();
    settings.signature_location = location;
    settings.percent_encoding_mode = PercentEncodingMode::Double;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Enabled;
    if location == SignatureLocation::QueryParams {
        settings.expires_in = Some(Duration::from_secs(300));
    }
    let identity = Credentials::new(KEY_ID, SECRET, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(at)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let header_pairs: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let signable = SignableRequest::new(
        method,
        uri,
        header_pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut request);
    let (parts, body) = request.into_parts();
    Signed {
        parts,
        body,
        time: OffsetDateTime::from(at),
    }
}

fn check(s: &Signed, secret: &str, now: OffsetDateTime) -> Result<(), SigError> {
    Signature::parse(&s.parts)?.verify(&s.parts, &s.body, secret, now)
}

fn form_post(body: &str) -> Signed {
    signed(
        "POST",
        "https://iam.amazonaws.com/",
        &[
            ("host", "iam.amazonaws.com"),
            ("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
        ],
        body.as_bytes(),
        SignatureLocation::Headers,
        "us-east-1",
        "iam",
    )
}

#[test]
fn a_request_signed_by_the_sdk_signer_is_accepted() {
    let s = form_post("Action=ListUsers&Version=2010-05-08");
    assert_eq!(check(&s, SECRET, s.time), Ok(()));
    let sig = Signature::parse(&s.parts).unwrap();
    assert_eq!(sig.access_key_id, KEY_ID);
    assert_eq!(sig.scope.service, "iam");
    assert_eq!(credential_scope(&s.parts.headers, &s.parts.uri).unwrap().service, "iam");
}

#[test]
fn any_region_in_the_scope_is_accepted() {
    let s = signed(
        "POST",
        "http://127.0.0.1:9000/",
        &[("host", "127.0.0.1:9000")],
        b"Action=GetCallerIdentity&Version=2011-06-15",
        SignatureLocation::Headers,
        "ap-southeast-1",
        "sts",
    );
    assert_eq!(check(&s, SECRET, s.time), Ok(()));
}

#[test]
fn the_wrong_secret_is_a_mismatch() {
    let s = form_post("Action=ListUsers&Version=2010-05-08");
    assert!(matches!(
        check(&s, "x".repeat(40).as_str(), s.time),
        Err(SigError::Mismatch(_))
    ));
}

#[test]
fn a_changed_body_is_a_mismatch() {
    let mut s = form_post("Action=ListUsers&Version=2010-05-08");
    s.body = b"Action=DeleteUser&UserName=root&Version=2010-05-08".to_vec();
    assert!(matches!(check(&s, SECRET, s.time), Err(SigError::Mismatch(_))));
}

#[test]
fn clock_skew_of_more_than_fifteen_minutes_is_refused_both_ways() {
    let s = form_post("Action=ListUsers&Version=2010-05-08");
    assert_eq!(check(&s, SECRET, s.time + time::Duration::minutes(14)), Ok(()));
    let late = check(&s, SECRET, s.time + time::Duration::minutes(16)).unwrap_err();
    assert!(late.to_string().starts_with("Signature expired"), "{late}");
    let early = check(&s, SECRET, s.time - time::Duration::minutes(16)).unwrap_err();
    assert!(early.to_string().starts_with("Signature not yet current"), "{early}");
}

#[test]
fn presigned_query_requests_are_accepted_until_they_expire() {
    let s = signed(
        "GET",
        "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
        &[("host", "sts.amazonaws.com")],
        b"",
        SignatureLocation::QueryParams,
        "us-east-1",
        "sts",
    );
    assert_eq!(credential_scope(&s.parts.headers, &s.parts.uri).unwrap().service, "sts");
    assert_eq!(check(&s, SECRET, s.time + time::Duration::seconds(299)), Ok(()));
    assert_eq!(
        check(&s, SECRET, s.time + time::Duration::seconds(301)),
        Err(SigError::Expired)
    );
}

#[test]
fn a_plus_rewritten_from_percent_2b_breaks_the_signature() {
    let s = signed(
        "GET",
        "http://127.0.0.1:9000/?Action=TagUser&Tags.member.1.Value=a%2Bb",
        &[("host", "127.0.0.1:9000")],
        b"",
        SignatureLocation::Headers,
        "us-east-1",
        "iam",
    );
    assert_eq!(check(&s, SECRET, s.time), Ok(()));
    let mut tampered = Signed {
        parts: s.parts.clone(),
        body: s.body.clone(),
        time: s.time,
    };
    tampered.parts.uri = "http://127.0.0.1:9000/?Action=TagUser&Tags.member.1.Value=a+b"
        .parse()
        .unwrap();
    assert!(check(&tampered, SECRET, s.time).is_err());
}

#[test]
fn unsigned_payloads_are_refused_for_query_apis() {
    let mut s = form_post("Action=ListUsers&Version=2010-05-08");
    s.parts
        .headers
        .insert("x-amz-content-sha256", "UNSIGNED-PAYLOAD".parse().unwrap());
    assert!(check(&s, SECRET, s.time).is_err());
}

#[test]
fn an_unreadable_amz_date_is_not_replaced_by_the_date_header() {
    let parts = http::Request::post("/")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=A/20260101/r/iam/aws4_request, SignedHeaders=host, Signature=ab",
        )
        .header("x-amz-date", "yesterday")
        .header("date", "Thu, 01 Jan 2026 00:00:00 GMT")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    assert!(matches!(Signature::parse(&parts), Err(SigError::Incomplete(_))));
}

#[test]
fn far_future_presigned_dates_do_not_overflow() {
    let parts = http::Request::get(
        "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=A%2F99991231%2Fr%2Fsts%2Faws4_request\
         &X-Amz-Date=99991231T235959Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
    )
    .header("host", "h")
    .body(())
    .unwrap()
    .into_parts()
    .0;
    let sig = Signature::parse(&parts).unwrap();
    assert!(matches!(
        sig.verify(&parts, b"", SECRET, OffsetDateTime::now_utc()),
        Err(SigError::Mismatch(_))
    ));
}

#[test]
fn an_unsigned_request_is_missing_its_token() {
    let parts = http::Request::post("/").body(()).unwrap().into_parts().0;
    assert_eq!(Signature::parse(&parts).unwrap_err(), SigError::Missing);
}

#[test]
fn malformed_authorization_headers_are_incomplete_signatures() {
    for header in [
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/iam/aws4_request",
        "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc",
        "AWS4-HMAC-SHA256 Credential=AKIA/bad, SignedHeaders=host, Signature=abc",
        "Basic dXNlcjpwYXNz",
        "AWS4-HMAC-SHA256",
        "",
    ] {
        let parts = http::Request::post("/")
            .header("authorization", header)
            .header("x-amz-date", "20260101T000000Z")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        assert!(
            matches!(Signature::parse(&parts), Err(SigError::Incomplete(_))),
            "{header}"
        );
    }
}

#[test]
fn a_missing_date_is_named_in_the_error() {
    let parts = http::Request::post("/")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=A/20260101/r/iam/aws4_request, SignedHeaders=host, Signature=ab",
        )
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let err = Signature::parse(&parts).unwrap_err().to_string();
    assert!(err.contains("'X-Amz-Date' or a 'Date' header"), "{err}");
}

fn header_value() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ,;:=/+_.-]{0,20}"
        .prop_map(|s| s.trim().to_owned())
        .prop_filter("non-empty", |s| !s.is_empty())
}

/// Raw query text as clients put it on the wire: encoded bytes, `+` for spaces included.
fn query_part() -> impl Strategy<Value = String> {
    "([a-zA-Z0-9_.~-]|\\+|%2B|%20|%2F){1,8}"
}

#[derive(Debug, Clone)]
enum Mutation {
    Method,
    Path,
    Query,
    SignedHeader,
    Body,
    Date,
    Secret,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Method),
        Just(Mutation::Path),
        Just(Mutation::Query),
        Just(Mutation::SignedHeader),
        Just(Mutation::Body),
        Just(Mutation::Date),
        Just(Mutation::Secret),
    ]
}

type Case = (bool, Vec<String>, Vec<(String, String)>, String, Vec<u8>, String);

fn request_case() -> impl Strategy<Value = Case> {
    (
        any::<bool>(),
        proptest::collection::vec("[a-zA-Z0-9_.~ -]{0,6}", 0..3),
        proptest::collection::vec((query_part(), query_part()), 0..4),
        header_value(),
        proptest::collection::vec(any::<u8>(), 0..64),
        "[a-z]{2}-[a-z]{4,9}-[1-3]",
    )
}

fn build(case: &Case, location: SignatureLocation) -> Signed {
    let (post, segments, query, header, body, region) = case;
    let path: String = segments
        .iter()
        .map(|s| format!("/{}", utf8_percent_encode(s, STRICT)))
        .collect::<String>();
    let path = if path.is_empty() { "/".to_owned() } else { path };
    let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let uri = if query.is_empty() {
        format!("http://127.0.0.1:9000{path}")
    } else {
        format!("http://127.0.0.1:9000{path}?{}", query.join("&"))
    };
    signed(
        if *post { "POST" } else { "GET" },
        &uri,
        &[("host", "127.0.0.1:9000"), ("x-coffer-test", header)],
        body,
        location,
        region,
        "iam",
    )
}

fn mutate(s: &mut Signed, secret: &mut String, m: &Mutation) {
    match m {
        Mutation::Method => {
            s.parts.method = if s.parts.method == "GET" {
                http::Method::PUT
            } else {
                http::Method::GET
            }
        }
        Mutation::Path => {
            let (path, query) = (s.parts.uri.path(), s.parts.uri.query());
            let uri = match query {
                Some(q) => format!("{path}x?{q}"),
                None => format!("{path}x"),
            };
            s.parts.uri = uri.parse().unwrap();
        }
        Mutation::Query => {
            let uri = match s.parts.uri.query() {
                Some(q) => format!("{}?{q}&extra=1", s.parts.uri.path()),
                None => format!("{}?extra=1", s.parts.uri.path()),
            };
            s.parts.uri = uri.parse().unwrap();
        }
        Mutation::SignedHeader => {
            let old = s.parts.headers["x-coffer-test"].to_str().unwrap().to_owned();
            s.parts
                .headers
                .insert("x-coffer-test", format!("{old}!").parse().unwrap());
        }
        Mutation::Body => s.body.push(b'!'),
        Mutation::Date => {
            if s.parts.headers.contains_key("x-amz-date") {
                s.parts.headers.insert(
                    "x-amz-date",
                    format_amz_date(s.time + time::Duration::seconds(1)).parse().unwrap(),
                );
            } else {
                let moved = format_amz_date(s.time + time::Duration::seconds(1));
                let q = s.parts.uri.query().unwrap().replace(&format_amz_date(s.time), &moved);
                s.parts.uri = format!("{}?{q}", s.parts.uri.path()).parse().unwrap();
            }
        }
        Mutation::Secret => secret.push('x'),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn signed_random_requests_are_accepted(case in request_case(), presigned in any::<bool>()) {
        let location = if presigned { SignatureLocation::QueryParams } else { SignatureLocation::Headers };
        let s = build(&case, location);
        prop_assert_eq!(check(&s, SECRET, s.time), Ok(()));
    }

    #[test]
    fn any_change_to_a_signed_request_is_rejected(case in request_case(), presigned in any::<bool>(), m in mutation()) {
        let location = if presigned { SignatureLocation::QueryParams } else { SignatureLocation::Headers };
        let mut s = build(&case, location);
        let mut secret = SECRET.to_owned();
        // A presigned URL signs no body: only the body mutation is not a change to what was signed.
        prop_assume!(!(presigned && matches!(m, Mutation::Body)));
        mutate(&mut s, &mut secret, &m);
        prop_assert!(check(&s, &secret, s.time).is_err(), "{:?} was accepted", m);
    }

    /// What s3s does not check, the front door does: an `x-amz-*` header added to a signed
    /// request, by header or presigned, is refused by name.
    #[test]
    fn any_unsigned_amz_header_added_to_a_signed_request_is_refused(
        case in request_case(),
        presigned in any::<bool>(),
        suffix in "[a-z0-9-]{1,20}",
        value in header_value(),
    ) {
        let location = if presigned { SignatureLocation::QueryParams } else { SignatureLocation::Headers };
        let mut s = build(&case, location);
        prop_assert_eq!(crate::signed_request::check_s3_request(&s.parts, s.time), Ok(()));
        let name = format!("x-amz-{suffix}");
        prop_assume!(
            !s.parts.headers.contains_key(name.as_str()) && !["x-amz-content-sha256", "x-amz-security-token"].contains(&name.as_str())
        );
        s.parts.headers.insert(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        prop_assert_eq!(
            crate::signed_request::check_s3_request(&s.parts, s.time),
            Err(crate::signed_request::Refusal::HeadersNotSigned(vec![name]))
        );
    }
}

/// A credential is exactly five parts, the last `aws4_request`, with a key and an 8-digit date.
#[test]
fn credentials_are_five_parts_or_refused() {
    let (key, scope) = parse_credential("AKIA/20260101/eu-west-1/s3/aws4_request").unwrap();
    assert_eq!(
        (
            key.as_str(),
            scope.date.as_str(),
            scope.region.as_str(),
            scope.service.as_str()
        ),
        ("AKIA", "20260101", "eu-west-1", "s3")
    );
    for bad in [
        "AKIA/20260101/eu-west-1/s3/aws4_request/extra",
        "AKIA/20260101/eu-west-1/s3",
        "AKIA/20260101/eu-west-1/s3/aws4_other",
        "/20260101/eu-west-1/s3/aws4_request",
        "AKIA/2026011/eu-west-1/s3/aws4_request",
        "",
    ] {
        assert!(matches!(parse_credential(bad), Err(SigError::Incomplete(_))), "{bad}");
    }
    // The front door's reader takes the same rules, from the header or the presigned query.
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        "AWS4-HMAC-SHA256 Credential=AKIA/20260101/eu-west-1/s3/aws4_request, SignedHeaders=host, Signature=ab"
            .parse()
            .unwrap(),
    );
    let uri: http::Uri = "/b/k".parse().unwrap();
    assert_eq!(credential_scope(&headers, &uri).unwrap().region, "eu-west-1");
    let presigned: http::Uri = "/b/k?X-Amz-Credential=AKIA%2F20260101%2Fap-south-1%2Fs3%2Faws4_request/extra"
        .parse()
        .unwrap();
    assert!(credential_scope(&http::HeaderMap::new(), &presigned).is_none());
    let presigned: http::Uri = "/b/k?X-Amz-Credential=AKIA%2F20260101%2Fap-south-1%2Fs3%2Faws4_request"
        .parse()
        .unwrap();
    assert_eq!(
        credential_scope(&http::HeaderMap::new(), &presigned).unwrap().region,
        "ap-south-1"
    );
}
