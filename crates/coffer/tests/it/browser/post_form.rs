//! A browser POST upload as a web app makes one: a page from another origin (a server of the
//! test's own) holds a form signed for one key prefix, the user picks a file, and Chromium
//! posts it to Coffer, which stores it and sends the browser back to the app's page.

use axum::extract::Query;
use fantoccini::Locator;
use serde_json::json;

use super::{browser, driver};
use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET};
use crate::s3_post::signed_fields;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;")
}

/// Serves the app on `listener`: `/` the upload form posting to `action`, `/done` the page
/// Coffer sends the browser back to, which shows what it was told.
fn serve_app(listener: tokio::net::TcpListener, action: String, fields: Vec<(String, String)>) {
    let inputs: String = fields
        .iter()
        .map(|(name, value)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                escape(name),
                escape(value)
            )
        })
        .collect();
    let form = format!(
        r#"<!doctype html><title>upload</title>
        <form action="{action}" method="post" enctype="multipart/form-data">{inputs}
        <input type="file" name="file" id="file"><button type="submit" id="send">Upload</button></form>"#
    );
    let app = axum::Router::new()
        .route(
            "/",
            axum::routing::get(move || async move { axum::response::Html(form) }),
        )
        .route(
            "/done",
            axum::routing::get(|Query(told): Query<Vec<(String, String)>>| async move {
                let lines: String = told
                    .iter()
                    .map(|(name, value)| format!(r#"<p id="{name}">{}</p>"#, escape(value)))
                    .collect();
                axum::response::Html(format!("<!doctype html><title>done</title>{lines}"))
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
}

#[tokio::test]
async fn a_page_posts_a_picked_file_to_a_bucket_and_gets_the_user_back() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("avatars").send().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let done = format!("{origin}/done");
    let conditions = json!([
        {"bucket": "avatars"},
        ["starts-with", "$key", "users/ana/"],
        ["starts-with", "$Content-Type", "image/"],
        ["eq", "$success_action_redirect", done],
        ["content-length-range", 1, 1024 * 1024],
    ]);
    let mut fields = vec![
        ("key".to_owned(), "users/ana/${filename}".to_owned()),
        ("Content-Type".to_owned(), "image/png".to_owned()),
        ("success_action_redirect".to_owned(), done.clone()),
    ];
    fields.extend(signed_fields(ROOT_KEY_ID, ROOT_SECRET, conditions, 600));
    serve_app(listener, format!("{}/avatars", coffer.endpoint), fields);

    let driver = driver();
    let downloads = tempfile::tempdir().unwrap();
    let client = browser(&driver, downloads.path()).await;
    client.goto(&origin).await.unwrap();
    let picked = downloads.path().join("me.png");
    std::fs::write(&picked, b"\x89PNG a small picture").unwrap();
    let input = client.find(Locator::Id("file")).await.unwrap();
    input.send_keys(&picked.display().to_string()).await.unwrap();
    client.find(Locator::Id("send")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::Id("etag")).await.unwrap();

    let url = client.current_url().await.unwrap();
    assert!(url.as_str().starts_with(&done), "{url}");
    let shown = |id: &'static str| {
        let client = client.clone();
        async move { client.find(Locator::Id(id)).await.unwrap().text().await.unwrap() }
    };
    assert_eq!(shown("bucket").await, "avatars");
    assert_eq!(shown("key").await, "users/ana/me.png");
    let object = s3
        .get_object()
        .bucket("avatars")
        .key("users/ana/me.png")
        .send()
        .await
        .unwrap();
    assert_eq!(shown("etag").await, object.e_tag().unwrap());
    assert_eq!(object.content_type(), Some("image/png"));
    assert_eq!(
        object.body.collect().await.unwrap().into_bytes().as_ref(),
        b"\x89PNG a small picture"
    );
    client.close().await.unwrap();
}
