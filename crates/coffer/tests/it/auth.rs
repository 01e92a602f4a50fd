//! Authentication and bad input over raw HTTP: each gets AWS's error, never a panic or a 500.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET};

/// Signs a form POST with the root key, sends it, returns (status, body).
pub async fn signed_query(coffer: &Coffer, service: &str, region: &str, form: &str) -> (u16, String) {
    signed_query_with(
        coffer,
        service,
        region,
        form.as_bytes(),
        ROOT_KEY_ID,
        ROOT_SECRET,
        SystemTime::now(),
    )
    .await
}

pub async fn signed_query_with(
    coffer: &Coffer,
    service: &str,
    region: &str,
    form: &[u8],
    key_id: &str,
    secret: &str,
    at: SystemTime,
) -> (u16, String) {
    let url = format!("{}/", coffer.endpoint);
    let host = url.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let mut request = http::Request::post(&url)
        .header("host", &host)
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
        .body(form.to_vec())
        .unwrap();
    let identity = Credentials::new(key_id, secret, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    let signable = SignableRequest::new(
        "POST",
        &url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(form),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut request);
    send(request).await
}

pub async fn send(request: http::Request<Vec<u8>>) -> (u16, String) {
    let client = reqwest::Client::new();
    let mut builder = client.request(request.method().clone(), request.uri().to_string());
    for (name, value) in request.headers() {
        if name != "host" {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
    }
    let response = builder.body(request.into_body()).send().await.expect("request sent");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn raw(coffer: &Coffer, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut request = http::Request::post(format!("{}/", coffer.endpoint))
        .header("content-type", "application/x-www-form-urlencoded");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    send(request.body(body.to_vec()).unwrap()).await
}

fn code_of(xml: &str) -> &str {
    xml.split("<Code>")
        .nth(1)
        .and_then(|r| r.split("</Code>").next())
        .unwrap_or("")
}

#[tokio::test]
async fn unsigned_requests_are_missing_authentication_token() {
    let coffer = Coffer::start();
    let (status, body) = raw(&coffer, &[], b"Action=ListUsers&Version=2010-05-08").await;
    assert_eq!((status, code_of(&body)), (403, "MissingAuthenticationToken"));
    assert!(
        body.contains(r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">"#),
        "{body}"
    );
    let (status, body) = raw(&coffer, &[], b"Action=GetCallerIdentity&Version=2011-06-15").await;
    assert_eq!((status, code_of(&body)), (403, "MissingAuthenticationToken"));
    assert!(body.contains("https://sts.amazonaws.com/doc/2011-06-15/"), "{body}");
}

#[tokio::test]
async fn malformed_authorization_headers_are_incomplete_signatures() {
    let coffer = Coffer::start();
    for header in [
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/iam/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/iam/aws4_request, SignedHeaders=host",
        "AWS4-HMAC-SHA256 Credential=garbage/iam, SignedHeaders=host, Signature=00",
    ] {
        let (status, body) = raw(
            &coffer,
            &[("authorization", header), ("x-amz-date", "20260101T000000Z")],
            b"Action=ListUsers",
        )
        .await;
        assert_eq!(
            (status, code_of(&body)),
            (400, "IncompleteSignature"),
            "{header}: {body}"
        );
    }
}

#[tokio::test]
async fn unknown_keys_and_wrong_secrets_are_refused() {
    let coffer = Coffer::start();
    let form = b"Action=ListUsers&Version=2010-05-08";
    let (status, body) = signed_query_with(
        &coffer,
        "iam",
        "us-east-1",
        form,
        "AKIAAAAAAAAAAAAAAAAA",
        ROOT_SECRET,
        SystemTime::now(),
    )
    .await;
    assert_eq!((status, code_of(&body)), (403, "InvalidClientTokenId"));
    let wrong = "x".repeat(40);
    let (status, body) = signed_query_with(
        &coffer,
        "iam",
        "us-east-1",
        form,
        ROOT_KEY_ID,
        &wrong,
        SystemTime::now(),
    )
    .await;
    assert_eq!((status, code_of(&body)), (403, "SignatureDoesNotMatch"));
}

#[tokio::test]
async fn requests_signed_too_long_ago_or_ahead_are_refused() {
    let coffer = Coffer::start();
    let form = b"Action=ListUsers&Version=2010-05-08";
    for at in [
        SystemTime::now() - Duration::from_secs(16 * 60),
        SystemTime::now() + Duration::from_secs(16 * 60),
    ] {
        let (status, body) = signed_query_with(&coffer, "iam", "us-east-1", form, ROOT_KEY_ID, ROOT_SECRET, at).await;
        assert_eq!((status, code_of(&body)), (403, "SignatureDoesNotMatch"), "{body}");
        assert!(
            body.contains("Signature expired") || body.contains("not yet current"),
            "{body}"
        );
    }
    let (status, _) = signed_query_with(
        &coffer,
        "iam",
        "us-east-1",
        form,
        ROOT_KEY_ID,
        ROOT_SECRET,
        SystemTime::now() - Duration::from_secs(600),
    )
    .await;
    assert_eq!(status, 200, "ten minutes of skew is accepted");
}

#[tokio::test]
async fn unknown_and_missing_actions_and_parameters() {
    let coffer = Coffer::start();
    let (status, body) = signed_query(&coffer, "iam", "us-east-1", "Action=MakeCoffee&Version=2010-05-08").await;
    assert_eq!((status, code_of(&body)), (400, "InvalidAction"));
    assert!(body.contains("Could not find operation MakeCoffee for version 2010-05-08"));
    let (status, body) = signed_query(&coffer, "iam", "us-east-1", "Version=2010-05-08").await;
    assert_eq!((status, code_of(&body)), (400, "MissingAction"));
    let (status, body) = signed_query(&coffer, "iam", "us-east-1", "Action=CreateUser&Version=2010-05-08").await;
    assert_eq!((status, code_of(&body)), (400, "ValidationError"));
    assert!(
        body.contains("Value null at &apos;userName&apos;") || body.contains("Value null at 'userName'"),
        "{body}"
    );
    let (status, body) = signed_query(&coffer, "sts", "us-east-1", "Action=ListUsers&Version=2011-06-15").await;
    assert_eq!(
        (status, code_of(&body)),
        (400, "InvalidAction"),
        "IAM actions are not STS actions"
    );
}

#[tokio::test]
async fn a_tag_without_a_value_and_a_huge_member_list_are_validation_errors() {
    let coffer = Coffer::start();
    signed_query(
        &coffer,
        "iam",
        "us-east-1",
        "Action=CreateUser&UserName=alice&Version=2010-05-08",
    )
    .await;
    let (status, body) = signed_query(
        &coffer,
        "iam",
        "us-east-1",
        "Action=TagUser&UserName=alice&Tags.member.1.Key=k&Version=2010-05-08",
    )
    .await;
    assert_eq!((status, code_of(&body)), (400, "ValidationError"), "{body}");
    let mut form = String::from("Action=UntagUser&UserName=alice&Version=2010-05-08");
    for i in 1..=30_000 {
        form.push_str(&format!("&TagKeys.member.{i}=k{i}"));
    }
    let (status, body) = signed_query(&coffer, "iam", "us-east-1", &form).await;
    assert_eq!((status, code_of(&body)), (400, "ValidationError"), "{body}");
}

#[tokio::test]
async fn non_utf8_parameters_are_malformed_not_mangled() {
    let coffer = Coffer::start();
    let (status, body) = signed_query(
        &coffer,
        "iam",
        "us-east-1",
        "Action=CreateUser&UserName=%FF%FE&Version=2010-05-08",
    )
    .await;
    assert_eq!((status, code_of(&body)), (404, "MalformedQueryString"));
    let (status, body) = signed_query_with(
        &coffer,
        "iam",
        "us-east-1",
        b"Action=CreateUser&UserName=\xff\xfe&Version=2010-05-08",
        ROOT_KEY_ID,
        ROOT_SECRET,
        SystemTime::now(),
    )
    .await;
    assert_eq!((status, code_of(&body)), (404, "MalformedQueryString"));
}

#[tokio::test]
async fn oversized_bodies_are_refused_without_reading_them_all() {
    let coffer = Coffer::start();
    let mut form = b"Action=ListUsers&Version=2010-05-08&Pad=".to_vec();
    form.resize(2 * 1024 * 1024, b'a');
    let (status, body) = signed_query_with(
        &coffer,
        "iam",
        "us-east-1",
        &form,
        ROOT_KEY_ID,
        ROOT_SECRET,
        SystemTime::now(),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(code_of(&body), "RequestEntityTooLarge");
    // The server is still fine.
    let (status, _) = signed_query(&coffer, "iam", "us-east-1", "Action=ListUsers&Version=2010-05-08").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_signature_scoped_to_another_service_is_refused() {
    let coffer = Coffer::start();
    let (status, body) = signed_query(&coffer, "ec2", "us-east-1", "Action=ListUsers&Version=2010-05-08").await;
    assert_eq!((status, code_of(&body)), (403, "SignatureDoesNotMatch"), "{body}");
    assert!(body.contains("scoped to correct service"), "{body}");
}

#[tokio::test]
async fn get_query_requests_and_any_region_work() {
    let coffer = Coffer::start();
    for region in ["us-east-1", "ap-southeast-1", "moon-base-1"] {
        let (status, body) = signed_query(&coffer, "sts", region, "Action=GetCallerIdentity&Version=2011-06-15").await;
        assert_eq!(status, 200, "{region}: {body}");
    }
}

#[tokio::test]
async fn presigned_get_caller_identity_works_until_it_expires() {
    let coffer = Coffer::start();
    let url = format!("{}/?Action=GetCallerIdentity&Version=2011-06-15", coffer.endpoint);
    let host = coffer.endpoint.trim_start_matches("http://").to_owned();
    let presign = |at: SystemTime| {
        let mut request = http::Request::get(&url).header("host", &host).body(Vec::new()).unwrap();
        let identity = Credentials::new(ROOT_KEY_ID, ROOT_SECRET, None, None, "test").into();
        let mut settings = SigningSettings::default();
        settings.signature_location = aws_sigv4::http_request::SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(60));
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("sts")
            .time(at)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let signable = SignableRequest::new(
            "GET",
            &url,
            [("host", host.as_str())].into_iter(),
            SignableBody::Bytes(b""),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut request);
        request
    };
    let (status, body) = send(presign(SystemTime::now())).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(":root</Arn>"));
    let (status, body) = send(presign(SystemTime::now() - Duration::from_secs(120))).await;
    assert_eq!((status, code_of(&body)), (400, "RequestExpired"), "{body}");
}

#[tokio::test]
async fn health_needs_no_authentication() {
    let coffer = Coffer::start();
    let response = reqwest::get(format!("{}/_coffer/health", coffer.endpoint))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
