//! S3 in the console: buckets and objects, uploads with and without JavaScript, share
//! links, and large buckets a page at a time.

use super::harness::{Browser, ROOT_PASSWORD, bucket_with, root_browser, start_with, unescape};

#[tokio::test]
async fn buckets_and_objects_are_created_browsed_uploaded_downloaded_and_deleted() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    coffer
        .root_s3()
        .create_bucket()
        .bucket("taken-name")
        .send()
        .await
        .unwrap();
    let mut browser = Browser::new(&coffer);
    browser.sign_in(&account, "", ROOT_PASSWORD).await;

    let form = browser.get("/s3/new-bucket").await;
    let csrf = Browser::csrf(&form);
    let bad = browser.post("/s3/new-bucket/check", &[("name", "Holiday")]).await;
    assert!(bad.body.contains("lowercase letters"));
    let taken = browser.post("/s3/new-bucket/check", &[("name", "taken-name")]).await;
    assert!(taken.body.contains("You already have a bucket with this name."));
    // Sent anyway, the form says so where the live check speaks, instead of opening it.
    let again = browser
        .post(
            "/s3/buckets",
            &[("csrf", &csrf), ("name", "taken-name"), ("region", "us-east-1")],
        )
        .await;
    assert_eq!(again.status, 409);
    assert!(
        again
            .body
            .contains(r#"<div id="name-verdict" aria-live="polite"><p class="error" role="alert">You already have"#),
        "{}",
        again.body
    );
    let free = browser
        .post("/s3/new-bucket/check", &[("name", "holiday-photos")])
        .await;
    assert!(free.body.contains("available"));
    let nowhere = browser
        .post(
            "/s3/buckets",
            &[("csrf", &csrf), ("name", "holiday-photos"), ("region", "x</a><b>")],
        )
        .await;
    assert_eq!(nowhere.status, 400, "regions come from the list");
    let created = browser
        .post(
            "/s3/buckets",
            &[("csrf", &csrf), ("name", "holiday-photos"), ("region", "eu-west-1")],
        )
        .await;
    assert_eq!(
        created.location.as_deref(),
        Some("/s3/buckets/holiday-photos"),
        "{}",
        created.body
    );
    let list = browser.get("/s3/buckets").await;
    assert!(list.body.contains("holiday-photos") && list.body.contains("eu-west-1"));

    // Uploads stream through the console with the session's token in a header.
    let photo: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let upload = |csrf: Option<&str>, key: &str, body: Vec<u8>| {
        let mut request = browser
            .client
            .put(format!("{}/s3/buckets/holiday-photos/upload?key={key}", browser.base))
            .header("cookie", browser.cookie.clone().unwrap())
            .header("content-type", "image/jpeg")
            .body(body);
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request.send()
    };
    let forged = upload(None, "beach.jpg", photo.clone()).await.unwrap();
    assert_eq!(forged.status(), 403);
    let put = upload(Some(&csrf), "2026%2Fbeach.jpg", photo.clone()).await.unwrap();
    assert_eq!(put.status(), 201);
    let root = browser.get("/s3/buckets/holiday-photos").await;
    assert!(
        root.body.contains("?prefix=2026/\">2026/</a>"),
        "a folder row: {}",
        root.body
    );
    let folder = browser.get("/s3/buckets/holiday-photos?prefix=2026%2F").await;
    assert!(folder.body.contains("beach.jpg") && folder.body.contains("293.0 KB"));
    let download = browser
        .get("/s3/buckets/holiday-photos/download?key=2026%2Fbeach.jpg")
        .await;
    assert_eq!(download.status, 200);
    assert!(
        download.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("beach.jpg")
    );
    let fetched = coffer
        .root_s3()
        .get_object()
        .bucket("holiday-photos")
        .key("2026/beach.jpg")
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert_eq!(fetched.as_ref(), photo.as_slice());
    let details = browser
        .get("/s3/buckets/holiday-photos/object?key=2026%2Fbeach.jpg")
        .await;
    assert!(details.body.contains("image/jpeg") && details.body.contains("CRC64NVME"));

    let made = browser
        .post(
            "/s3/buckets/holiday-photos/objects",
            &[
                ("csrf", &csrf),
                ("change", "folder"),
                ("prefix", ""),
                ("name", "albums"),
            ],
        )
        .await;
    assert_eq!(made.status, 303);
    assert!(
        browser
            .get("/s3/buckets/holiday-photos")
            .await
            .body
            .contains("?prefix=albums/\"")
    );
    let kept = browser
        .post(
            "/s3/buckets/holiday-photos/objects",
            &[
                ("csrf", &csrf),
                ("change", "delete"),
                ("key", "2026/beach.jpg"),
                ("prefix", "2026/"),
                ("confirm", "no"),
            ],
        )
        .await;
    assert_eq!(kept.status, 400);
    browser
        .post(
            "/s3/buckets/holiday-photos/objects",
            &[
                ("csrf", &csrf),
                ("change", "delete"),
                ("key", "2026/beach.jpg"),
                ("prefix", "2026/"),
                ("confirm", "permanently delete"),
            ],
        )
        .await;
    let err = coffer
        .root_s3()
        .head_object()
        .bucket("holiday-photos")
        .key("2026/beach.jpg")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 404);

    // The bucket policy editor: S3's own validation and Block Public Access apply.
    let malformed = browser
        .post(
            "/s3/buckets/holiday-photos/policy",
            &[("csrf", &csrf), ("document", "{nope")],
        )
        .await;
    assert!(malformed.body.contains("MalformedPolicy"));
    let public = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::holiday-photos/*"}}"#;
    let blocked = browser
        .post(
            "/s3/buckets/holiday-photos/policy",
            &[("csrf", &csrf), ("document", public)],
        )
        .await;
    assert!(blocked.body.contains("BlockPublicPolicy"));
}

#[tokio::test]
async fn an_iam_user_without_s3_permission_sees_the_denied_action() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    let iam = coffer.root_iam();
    iam.create_user().user_name("gus").send().await.unwrap();
    iam.create_login_profile()
        .user_name("gus")
        .password("Gus-Pass-2026")
        .send()
        .await
        .unwrap();
    let mut browser = Browser::new(&coffer);
    browser.sign_in(&account, "gus", "Gus-Pass-2026").await;
    let denied = browser.get("/s3/buckets").await;
    assert_eq!(denied.status, 403);
    assert!(denied.body.contains("<code>s3:ListAllMyBuckets</code>"));
}

#[tokio::test]
async fn uploads_work_without_javascript_and_in_parts() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    coffer.root_s3().create_bucket().bucket("docs").send().await.unwrap();
    let mut browser = Browser::new(&coffer);
    browser.sign_in(&account, "", ROOT_PASSWORD).await;
    let page = browser.get("/s3/buckets/docs").await;
    assert!(page.body.contains(r#"enctype="multipart/form-data""#));
    let csrf = Browser::csrf(&page);
    let cookie = browser.cookie.clone().unwrap();
    let url = |path: &str| format!("{}{path}", browser.base);

    // The plain form: two files in one post, spooled and streamed to PutObject.
    let form = |csrf: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.to_owned())
            .text("prefix", "reports/".to_owned())
            .part(
                "files",
                reqwest::multipart::Part::bytes(b"first report".to_vec()).file_name("a.txt"),
            )
            .part(
                "files",
                reqwest::multipart::Part::bytes(vec![7u8; 3_000_000]).file_name("b.bin"),
            )
    };
    // Refused as soon as the files start, so the client may not even finish sending.
    let forged = browser
        .client
        .post(url("/s3/buckets/docs/upload"))
        .header("cookie", &cookie)
        .multipart(form("forged"))
        .send()
        .await;
    assert!(forged.is_err() || forged.unwrap().status() == 403);
    let nothing = coffer.root_s3().list_objects_v2().bucket("docs").send().await.unwrap();
    assert_eq!(nothing.key_count(), Some(0), "a forged form stores nothing");
    let posted = browser
        .client
        .post(url("/s3/buckets/docs/upload"))
        .header("cookie", &cookie)
        .multipart(form(&csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 303);
    let s3 = coffer.root_s3();
    let listed = s3
        .list_objects_v2()
        .bucket("docs")
        .prefix("reports/")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["reports/a.txt", "reports/b.bin"]);

    // In parts, as the page's script sends files over 64 MiB.
    let started: serde_json::Value = browser
        .client
        .post(url("/s3/buckets/docs/multipart?key=big.bin"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let upload = started["uploadId"].as_str().unwrap().to_owned();
    let part1 = vec![1u8; 5 * 1024 * 1024];
    let part2 = vec![2u8; 1000];
    let mut parts = Vec::new();
    for (number, bytes) in [(1, &part1), (2, &part2)] {
        let answer: serde_json::Value = browser
            .client
            .put(url(&format!(
                "/s3/buckets/docs/multipart?key=big.bin&upload={upload}&part={number}"
            )))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .body(bytes.clone())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        parts.push(serde_json::json!({ "number": number, "etag": answer["etag"] }));
    }
    let completed = browser
        .client
        .post(url(&format!(
            "/s3/buckets/docs/multipart/complete?key=big.bin&upload={upload}"
        )))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({ "parts": parts }))
        .send()
        .await
        .unwrap();
    assert_eq!(completed.status(), 201);
    let object = s3.get_object().bucket("docs").key("big.bin").send().await.unwrap();
    assert!(object.e_tag().unwrap().ends_with("-2\""));
    let bytes = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(bytes.len(), part1.len() + part2.len());
    assert!(bytes[..part1.len()].iter().all(|b| *b == 1) && bytes[part1.len()..].iter().all(|b| *b == 2));
}

#[tokio::test]
async fn a_presigned_share_link_downloads_the_object_until_the_key_goes() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("shared").send().await.unwrap();
    s3.put_object()
        .bucket("shared")
        .key("trip/plan 1.txt")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"day one: beach"))
        .send()
        .await
        .unwrap();
    let share = |csrf: String| [("csrf", csrf), ("seconds", "3600".to_owned())];
    let object = "/s3/buckets/shared/object?key=trip%2Fplan%201.txt";
    // Never with the root user's key.
    let mut browser = Browser::new(&coffer);
    browser.sign_in(&account, "", ROOT_PASSWORD).await;
    let page = browser.get(object).await;
    assert!(page.body.contains("never signed with the root user"));
    assert!(!page.body.contains("Create presigned URL"));
    let csrf = Browser::csrf(&page);
    let request = browser
        .client
        .post(format!("{}{object}", browser.base))
        .form(&share(csrf));
    let refused = browser.send(request).await;
    assert!(
        refused.body.contains("never signed with the root user"),
        "{}",
        refused.body
    );
    assert!(!refused.body.contains(crate::harness::ROOT_KEY_ID));

    // A user without an access key is told why there is no link, and where to make one.
    let iam = coffer.root_iam();
    iam.create_user().user_name("hal").send().await.unwrap();
    iam.create_login_profile()
        .user_name("hal")
        .password("Hals-Pass-2026")
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("hal")
        .policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        .send()
        .await
        .unwrap();
    let mut hal = Browser::new(&coffer);
    hal.sign_in(&account, "hal", "Hals-Pass-2026").await;
    let csrf = Browser::csrf(&hal.get(object).await);
    let request = hal
        .client
        .post(format!("{}{object}", hal.base))
        .form(&share(csrf.clone()));
    let refused = hal.send(request).await;
    assert!(refused.body.contains("no active one"));
    assert!(refused.body.contains("My security credentials"), "{}", refused.body);

    // With a key, the link downloads the object until the key is deactivated.
    let key = iam.create_access_key().user_name("hal").send().await.unwrap();
    let key_id = key.access_key().unwrap().access_key_id().to_owned();
    let request = hal.client.post(format!("{}{object}", hal.base)).form(&share(csrf));
    let shared = hal.send(request).await;
    assert!(shared.body.contains("A link valid for 1 hour"), "{}", shared.body);
    let url = unescape(
        shared
            .body
            .split(r#"id="share-url">"#)
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .unwrap(),
    );
    assert!(url.starts_with(&coffer.endpoint) && url.contains("X-Amz-Expires=3600"));
    assert!(url.contains(&key_id));
    let fetched = reqwest::get(&url).await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), b"day one: beach");
    iam.update_access_key()
        .user_name("hal")
        .access_key_id(&key_id)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .unwrap();
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 403);
}

#[tokio::test]
async fn a_large_bucket_is_browsed_a_page_at_a_time() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("many").send().await.unwrap();
    for i in 0..120 {
        s3.put_object()
            .bucket("many")
            .key(format!("item-{i:03}"))
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let mut browser = Browser::new(&coffer);
    browser.sign_in(&account, "", ROOT_PASSWORD).await;
    let first = browser.get("/s3/buckets/many").await;
    let rows = |body: &str| body.matches("/s3/buckets/many/object?key=").count();
    assert_eq!(rows(&first.body), 100);
    let next = unescape(
        first
            .body
            .split(r#"<p class="pager"><a href=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a next page"),
    );
    let second = browser.get(&next).await;
    assert_eq!(rows(&second.body), 20);
    assert!(second.body.contains("item-119") && !second.body.contains("item-000<"));
    assert!(!second.body.contains(r#"class="pager""#));
    // Search by prefix narrows the listing.
    let found = browser.get("/s3/buckets/many?search=item-11").await;
    assert_eq!(rows(&found.body), 10);
}

#[tokio::test]
async fn a_bucket_is_deleted_once_it_is_empty_with_its_name_typed() {
    let coffer = start_with(&[]);
    let s3 = bucket_with(&coffer, "old-photos", &["x"]).await;
    let (mut browser, _) = root_browser(&coffer).await;
    let page = browser.get("/s3/buckets/old-photos").await;
    assert!(page.body.contains("Delete bucket"));
    let csrf = Browser::csrf(&page);
    let delete = |confirm: &'static str| [("csrf", csrf.as_str()), ("confirm", confirm)];
    let unconfirmed = browser.post("/s3/buckets/old-photos/delete", &delete("old")).await;
    assert_eq!(unconfirmed.status, 400);
    let not_empty = browser
        .post("/s3/buckets/old-photos/delete", &delete("old-photos"))
        .await;
    assert_eq!(not_empty.status, 409);
    assert!(not_empty.body.contains("BucketNotEmpty"), "{}", not_empty.body);
    s3.delete_object().bucket("old-photos").key("x").send().await.unwrap();
    let deleted = browser
        .post("/s3/buckets/old-photos/delete", &delete("old-photos"))
        .await;
    assert_eq!(deleted.location.as_deref(), Some("/s3/buckets"));
    assert!(
        browser
            .get("/s3/buckets")
            .await
            .body
            .contains("Bucket old-photos deleted.")
    );
    assert!(s3.head_bucket().bucket("old-photos").send().await.is_err());
}

#[tokio::test]
async fn a_key_xml_cannot_carry_is_listed_not_lost() {
    let coffer = start_with(&[]);
    bucket_with(
        &coffer,
        "odd-keys",
        &["plain.txt", "bell\u{7}ring.txt", "a b+c ü/inner.txt"],
    )
    .await;
    let (mut browser, _) = root_browser(&coffer).await;
    let page = browser.get("/s3/buckets/odd-keys").await;
    assert_eq!(page.status, 200);
    // Listed URL-encoded and decoded here: the key XML 1.0 cannot carry no longer empties
    // the page ("No objects.").
    assert!(page.body.contains("plain.txt"), "{}", page.body);
    assert!(page.body.contains("bell\u{7}ring.txt"), "{}", page.body);
    assert!(page.body.contains("a b+c ü/"), "{}", page.body);
}

/// Versioning in the console: enabled on the bucket page, "Show versions" lists every version
/// and delete marker, an old version is restored as the latest, and one is deleted for good.
#[tokio::test]
async fn versions_are_shown_restored_and_deleted() {
    let coffer = start_with(&[]);
    let s3 = bucket_with(&coffer, "drafts", &[]).await;
    let (mut browser, _) = root_browser(&coffer).await;
    let page = browser.get("/s3/buckets/drafts").await;
    assert!(page.body.contains("Versioning has never been enabled"), "{}", page.body);
    assert!(!page.body.contains("Show versions"));
    let csrf = Browser::csrf(&page);
    let enabled = browser
        .post(
            "/s3/buckets/drafts/objects",
            &[
                ("csrf", &csrf),
                ("change", "versioning"),
                ("status", "Enabled"),
                ("prefix", ""),
            ],
        )
        .await;
    assert_eq!(enabled.location.as_deref(), Some("/s3/buckets/drafts?prefix="));
    let state = s3.get_bucket_versioning().bucket("drafts").send().await.unwrap();
    assert_eq!(state.status().map(|s| s.as_str()), Some("Enabled"));

    let put = |body: &'static [u8]| {
        s3.put_object()
            .bucket("drafts")
            .key("notes/plan.txt")
            .body(aws_sdk_s3::primitives::ByteStream::from_static(body))
            .send()
    };
    let first = put(b"first").await.unwrap().version_id().unwrap().to_owned();
    let second = put(b"second").await.unwrap().version_id().unwrap().to_owned();
    let marker = s3
        .delete_object()
        .bucket("drafts")
        .key("notes/plan.txt")
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();

    let page = browser.get("/s3/buckets/drafts?prefix=notes%2F&versions=1").await;
    assert_eq!(page.status, 200, "{}", page.body);
    for id in [&first, &second, &marker] {
        assert!(page.body.contains(id.as_str()), "{id} not listed: {}", page.body);
    }
    assert!(page.body.contains("Delete marker") && page.body.contains("Hide versions"));
    // A version downloads as it was.
    let download = browser
        .get(&format!(
            "/s3/buckets/drafts/download?key=notes%2Fplan.txt&version={first}"
        ))
        .await;
    assert_eq!(download.body, "first");

    // Restoring the first version makes a new latest version with its bytes.
    let restored = browser
        .post(
            "/s3/buckets/drafts/objects",
            &[
                ("csrf", &csrf),
                ("change", "restore"),
                ("key", "notes/plan.txt"),
                ("version", &first),
                ("prefix", "notes/"),
                ("versions", "1"),
            ],
        )
        .await;
    assert_eq!(
        restored.location.as_deref(),
        Some("/s3/buckets/drafts?prefix=notes%2F&versions=1"),
        "{}",
        restored.body
    );
    let latest = s3
        .get_object()
        .bucket("drafts")
        .key("notes/plan.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(latest.body.collect().await.unwrap().into_bytes().as_ref(), b"first");

    // Deleting a version needs the words typed, and then removes exactly that version.
    let delete = |confirm: &'static str, version: String| {
        vec![
            ("csrf", csrf.clone()),
            ("change", "delete-version".to_owned()),
            ("key", "notes/plan.txt".to_owned()),
            ("version", version),
            ("prefix", "notes/".to_owned()),
            ("versions", "1".to_owned()),
            ("confirm", confirm.to_owned()),
        ]
    };
    let form = delete("yes", second.clone());
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(browser.post("/s3/buckets/drafts/objects", &form).await.status, 400);
    let form = delete("permanently delete", second.clone());
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let deleted = browser.post("/s3/buckets/drafts/objects", &form).await;
    assert!(deleted.location.is_some(), "{}", deleted.body);
    let versions = s3.list_object_versions().bucket("drafts").send().await.unwrap();
    let ids: Vec<&str> = versions.versions().iter().filter_map(|v| v.version_id()).collect();
    assert_eq!(ids.len(), 2);
    assert!(!ids.contains(&second.as_str()) && ids.contains(&first.as_str()));

    // Showing versions needs s3:ListBucketVersions, not s3:ListBucket.
    let iam = coffer.root_iam();
    iam.create_user().user_name("auditor").send().await.unwrap();
    iam.create_login_profile()
        .user_name("auditor")
        .password("Auditor-Pass-2026!")
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("auditor")
        .policy_name("versions-only")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
                "Action":["s3:ListBucketVersions","s3:GetBucketVersioning"],"Resource":"arn:aws:s3:::drafts"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let mut auditor = Browser::new(&coffer);
    auditor
        .sign_in(&coffer.account_id().await, "auditor", "Auditor-Pass-2026!")
        .await;
    let page = auditor.get("/s3/buckets/drafts?prefix=notes%2F&versions=1").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(first.as_str()));
}
