//! CORS through the AWS SDK for Rust (the configuration) and raw HTTP (preflights and the
//! headers on actual answers, which a browser reads). The browser's own verdict is in
//! `browser::cors`.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CorsConfiguration, CorsRule};

use crate::harness::{Coffer, assert_aws_error};

fn rule(methods: &[&str], origins: &[&str], headers: &[&str]) -> CorsRule {
    CorsRule::builder()
        .set_allowed_methods(Some(methods.iter().map(|s| s.to_string()).collect()))
        .set_allowed_origins(Some(origins.iter().map(|s| s.to_string()).collect()))
        .set_allowed_headers(Some(headers.iter().map(|s| s.to_string()).collect()))
        .expose_headers("ETag")
        .max_age_seconds(600)
        .build()
        .unwrap()
}

pub async fn put_cors(s3: &aws_sdk_s3::Client, bucket: &str, rules: Vec<CorsRule>) {
    s3.put_bucket_cors()
        .bucket(bucket)
        .cors_configuration(
            CorsConfiguration::builder()
                .set_cors_rules(Some(rules))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

async fn preflight(coffer: &Coffer, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().request(reqwest::Method::OPTIONS, format!("{}/{path}", coffer.endpoint));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn header<'r>(response: &'r reqwest::Response, name: &str) -> Option<&'r str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn cors_rules_are_kept_checked_and_answer_preflights() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("site").send().await.unwrap();
    let none = s3.get_bucket_cors().bucket("site").send().await.unwrap_err();
    assert_aws_error(&none, "NoSuchCORSConfiguration", 404);
    let refused = preflight(
        &coffer,
        "site/k",
        &[
            ("Origin", "https://app.example"),
            ("Access-Control-Request-Method", "GET"),
        ],
    )
    .await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("<Code>CORSResponse</Code>"));

    let bad = s3
        .put_bucket_cors()
        .bucket("site")
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(rule(&["PATCH"], &["*"], &[]))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&bad, "InvalidRequest", 400);
    put_cors(
        &s3,
        "site",
        vec![
            rule(&["GET", "HEAD"], &["https://*.example"], &[]),
            rule(&["PUT"], &["https://app.example"], &["content-type", "x-amz-*"]),
        ],
    )
    .await;
    let got = s3.get_bucket_cors().bucket("site").send().await.unwrap();
    assert_eq!(got.cors_rules().len(), 2);
    assert_eq!(got.cors_rules()[1].allowed_headers(), ["content-type", "x-amz-*"]);

    // The preflight: the first matching rule answers, headers and all.
    let allowed = preflight(
        &coffer,
        "site/k",
        &[
            ("Origin", "https://app.example"),
            ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", "Content-Type, X-Amz-Date"),
        ],
    )
    .await;
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(header(&allowed, "access-control-allow-methods"), Some("PUT"));
    assert_eq!(
        header(&allowed, "access-control-allow-headers"),
        Some("content-type, x-amz-date")
    );
    assert_eq!(header(&allowed, "access-control-max-age"), Some("600"));
    assert_eq!(header(&allowed, "access-control-allow-credentials"), Some("true"));
    for refused in [
        vec![
            ("Origin", "https://app.example"),
            ("Access-Control-Request-Method", "DELETE"),
        ],
        vec![
            ("Origin", "https://app.example"),
            ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", "authorization"),
        ],
        vec![("Origin", "http://evil.test"), ("Access-Control-Request-Method", "GET")],
    ] {
        let response = preflight(&coffer, "site/k", &refused).await;
        assert_eq!(response.status(), 403, "{refused:?}");
        assert_eq!(header(&response, "access-control-allow-origin"), None);
    }
    assert_eq!(preflight(&coffer, "site/k", &[]).await.status(), 400);
    assert_eq!(
        preflight(&coffer, "site/k", &[("Origin", "https://app.example")])
            .await
            .status(),
        400
    );
    assert_eq!(
        preflight(
            &coffer,
            "nope/k",
            &[
                ("Origin", "https://a.example"),
                ("Access-Control-Request-Method", "GET")
            ]
        )
        .await
        .status(),
        404
    );

    // Actual answers carry the headers, errors too; without Origin they carry none.
    s3.put_object()
        .bucket("site")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let denied = reqwest::Client::new()
        .get(format!("{}/site/k", coffer.endpoint))
        .header("Origin", "https://www.example")
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403, "anonymous, and the bucket is private");
    assert_eq!(
        header(&denied, "access-control-allow-origin"),
        Some("https://www.example")
    );
    assert_eq!(header(&denied, "access-control-expose-headers"), Some("ETag"));
    let plain = reqwest::get(format!("{}/site/k", coffer.endpoint)).await.unwrap();
    assert_eq!(header(&plain, "access-control-allow-origin"), None);

    s3.delete_bucket_cors().bucket("site").send().await.unwrap();
    let none = s3.get_bucket_cors().bucket("site").send().await.unwrap_err();
    assert_aws_error(&none, "NoSuchCORSConfiguration", 404);
}
