//! Prometheus metrics after a known workload: counts by service, operation and status match
//! what was sent, and the path answers only the bearer token.

use aws_sdk_s3::primitives::ByteStream;

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET};

/// The value of the sample `name{labels}` in Prometheus text.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or(0.0)
}

/// The metrics text, scraped with the test's bearer token.
async fn scrape(coffer: &Coffer) -> String {
    reqwest::Client::new()
        .get(format!("{}/_coffer/metrics", coffer.endpoint))
        .bearer_auth("scrape-me")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_known_workload_is_counted_by_service_operation_and_status() {
    let coffer = Coffer::start_with(&[
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ("COFFER_METRICS_TOKEN", "scrape-me"),
    ]);
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("counted").send().await.unwrap();
    for n in 0..3 {
        s3.put_object()
            .bucket("counted")
            .key(format!("k{n}"))
            .body(ByteStream::from(vec![b'x'; 1000]))
            .send()
            .await
            .unwrap();
    }
    for _ in 0..2 {
        s3.get_object().bucket("counted").key("k0").send().await.unwrap();
    }
    assert!(s3.get_object().bucket("counted").key("missing").send().await.is_err());
    coffer.root_iam().list_users().send().await.unwrap();

    let url = format!("{}/_coffer/metrics", coffer.endpoint);
    let client = reqwest::Client::new();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(
        client.get(&url).bearer_auth("wrong").send().await.unwrap().status(),
        401
    );
    let text = scrape(&coffer).await;
    let count = |series: &str| sample(&text, series);
    assert_eq!(
        count(r#"coffer_requests_total{service="s3",operation="PutObject",status="200"}"#),
        3.0,
        "{text}"
    );
    assert_eq!(
        count(r#"coffer_requests_total{service="s3",operation="GetObject",status="200"}"#),
        2.0,
        "{text}"
    );
    assert_eq!(
        count(r#"coffer_requests_total{service="s3",operation="GetObject",status="404"}"#),
        1.0,
        "{text}"
    );
    assert_eq!(
        count(r#"coffer_requests_total{service="iam",operation="ListUsers",status="200"}"#),
        1.0,
        "{text}"
    );
    assert!(
        count(r#"coffer_response_bytes_total{service="s3"}"#) >= 2000.0,
        "{text}"
    );
    assert!(
        count(r#"coffer_request_duration_seconds_count{service="s3"}"#) >= 7.0,
        "{text}"
    );
    // A made-up IAM action adds no label value.
    let junk = client
        .post(format!("{}/", coffer.endpoint))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=MadeUpAction12345&Version=2010-05-08")
        .send()
        .await
        .unwrap();
    assert!(junk.status().is_client_error());
    let text = scrape(&coffer).await;
    assert!(!text.contains("MadeUpAction12345"), "{text}");
}

#[tokio::test]
async fn refusals_commits_caches_and_buckets_are_measured() {
    let coffer = Coffer::start_with(&[
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ("COFFER_METRICS_TOKEN", "scrape-me"),
    ]);
    let s3 = coffer.root_s3();
    for bucket in ["small", "empty"] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    for (key, size) in [("a", 100), ("b", 250), ("a", 10)] {
        s3.put_object()
            .bucket("small")
            .key(key)
            .body(ByteStream::from(vec![b'x'; size]))
            .send()
            .await
            .unwrap();
    }
    s3.delete_object().bucket("small").key("b").send().await.unwrap();
    // Two bad signatures, an unknown key, and a user whose policies allow nothing.
    let forged = coffer.s3(ROOT_KEY_ID, "not-the-secret-not-the-secret-not-the-se");
    for _ in 0..2 {
        assert!(forged.list_buckets().send().await.is_err());
    }
    let unknown = coffer.iam("AKIAUNKNOWNUNKNOWN12", ROOT_SECRET);
    assert!(unknown.list_users().send().await.is_err());
    let (key, secret) = coffer.user_with_key("nobody").await;
    assert!(coffer.s3(&key, &secret).list_buckets().send().await.is_err());
    assert!(coffer.iam(&key, &secret).list_users().send().await.is_err());

    let text = scrape(&coffer).await;
    let count = |series: &str| sample(&text, series);
    assert_eq!(
        count(r#"coffer_authentication_failures_total{service="s3",reason="SignatureDoesNotMatch"}"#),
        2.0,
        "{text}"
    );
    assert_eq!(
        count(r#"coffer_authentication_failures_total{service="iam",reason="InvalidClientTokenId"}"#),
        1.0,
        "{text}"
    );
    assert_eq!(
        count(r#"coffer_access_denials_total{service="s3",reason="no_allow"}"#),
        1.0,
        "{text}"
    );
    assert_eq!(
        count(r#"coffer_access_denials_total{service="iam",reason="no_allow"}"#),
        1.0,
        "{text}"
    );
    // Objects and bytes per bucket: the overwrite replaced, the delete removed.
    assert_eq!(count(r#"coffer_bucket_objects{bucket="small"}"#), 1.0, "{text}");
    assert_eq!(count(r#"coffer_bucket_bytes{bucket="small"}"#), 10.0, "{text}");
    assert!(text.contains(r#"coffer_bucket_objects{bucket="empty"} 0"#), "{text}");
    // Four object writes went through group commits.
    assert_eq!(count("coffer_commit_batch_writes_sum"), 4.0, "{text}");
    assert!(count("coffer_commit_batch_writes_count") >= 1.0, "{text}");
    // None of them failed in a way only a redo could undo.
    assert_eq!(count("coffer_commit_batches_redone_total"), 0.0, "{text}");
    assert!(
        count(r#"coffer_cache_lookups_total{cache="credentials",result="hit"}"#) >= 5.0,
        "{text}"
    );
    assert!(
        count(r#"coffer_cache_lookups_total{cache="buckets",result="miss"}"#) >= 1.0,
        "{text}"
    );
}

#[tokio::test]
async fn without_a_token_there_are_no_metrics() {
    let coffer = Coffer::start();
    let answer = reqwest::get(format!("{}/_coffer/metrics", coffer.endpoint))
        .await
        .unwrap();
    assert_eq!(answer.status(), 404);
}
