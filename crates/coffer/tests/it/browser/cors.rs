//! CORS as a browser decides it: a page served from another origin (a server of the test's
//! own) fetches presigned URLs from Coffer in headless Chromium. Without a rule for its
//! origin the browser refuses the answers; with one it reads a GET's body and the exposed
//! ETag, and a PUT passes its preflight and lands.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::CorsRule;
use serde_json::{Value, json};

use super::{browser, driver};
use crate::harness::Coffer;
use crate::s3_cors::put_cors;

/// Serves one page on a port of its own: an origin other than Coffer's.
async fn page_origin() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|| async { axum::response::Html("<!doctype html><title>app</title><p>an app</p>") }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    origin
}

/// `fetch(url)` from the page: `{ok, status, body, etag}`, or `{ok: false, error}` when the
/// browser refused the answer.
async fn fetch(client: &fantoccini::Client, url: &str, method: &str, body: Option<&str>) -> Value {
    let script = r#"
        const [url, method, body, done] = arguments;
        // Not from the browser's cache: each fetch asks Coffer, and Coffer's rules decide.
        fetch(url, body === null ? { method, cache: 'no-store' } : { method, body, cache: 'no-store' })
            .then(async (r) => done({ ok: true, status: r.status, body: await r.text(), etag: r.headers.get('ETag') }))
            .catch((e) => done({ ok: false, error: String(e) }));
    "#;
    client
        .execute_async(script, vec![json!(url), json!(method), json!(body)])
        .await
        .expect("the script runs")
}

fn rule(origin: &str) -> CorsRule {
    CorsRule::builder()
        .allowed_methods("GET")
        .allowed_methods("PUT")
        .allowed_origins(origin)
        .allowed_headers("*")
        .expose_headers("ETag")
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_page_on_another_origin_uses_presigned_urls_as_the_buckets_cors_rules_allow() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("webapp").send().await.unwrap();
    s3.put_object()
        .bucket("webapp")
        .key("hello.txt")
        .body(ByteStream::from_static(b"hi from coffer"))
        .send()
        .await
        .unwrap();
    let presign = || PresigningConfig::expires_in(Duration::from_secs(600)).unwrap();
    let get_url = s3
        .get_object()
        .bucket("webapp")
        .key("hello.txt")
        .presigned(presign())
        .await
        .unwrap()
        .uri()
        .to_owned();
    let put_url = s3
        .put_object()
        .bucket("webapp")
        .key("from-browser.txt")
        .presigned(presign())
        .await
        .unwrap()
        .uri()
        .to_owned();
    let origin = page_origin().await;
    let driver = driver();
    let downloads = tempfile::tempdir().unwrap();
    let client = browser(&driver, downloads.path()).await;
    client.goto(&origin).await.unwrap();

    // No rules: the answer reaches the browser, which keeps it from the page.
    let refused = fetch(&client, &get_url, "GET", None).await;
    assert_eq!(refused["ok"], false, "{refused}");

    put_cors(&s3, "webapp", vec![rule(&origin)]).await;
    let got = fetch(&client, &get_url, "GET", None).await;
    assert_eq!(got["ok"], true, "{got}");
    assert_eq!(got["status"], 200);
    assert_eq!(got["body"], "hi from coffer");
    assert!(got["etag"].as_str().is_some_and(|etag| etag.starts_with('"')), "{got}");
    // A PUT is not a simple request: the browser sends a preflight first.
    let put = fetch(&client, &put_url, "PUT", Some("written by a page")).await;
    assert_eq!(put["ok"], true, "{put}");
    assert_eq!(put["status"], 200, "{put}");
    let stored = s3
        .get_object()
        .bucket("webapp")
        .key("from-browser.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        stored.body.collect().await.unwrap().into_bytes().as_ref(),
        b"written by a page"
    );

    // A rule for another origin only: refused again.
    put_cors(&s3, "webapp", vec![rule("https://elsewhere.example")]).await;
    let refused = fetch(&client, &get_url, "GET", None).await;
    assert_eq!(refused["ok"], false, "{refused}");
    client.close().await.unwrap();
}
