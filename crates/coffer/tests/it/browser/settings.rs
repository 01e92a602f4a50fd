//! A bucket's Permissions and Properties tabs and an object's tags and encryption, driven in
//! Chromium as root; every change checked through the AWS SDK, so the console's forms are
//! known to send the S3 operations they say.

use std::time::{Duration, Instant};

use aws_sdk_s3::types::{ObjectOwnership, ServerSideEncryption};
use fantoccini::{Client, Locator};

use super::*;
use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET};

/// Clicks a form's save button and waits for the tab to come back saying `notice`.
async fn save(client: &Client, button: &str, notice: &str) {
    click(client, button).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    // The saved page comes back with the notice; an error stays with `#settings-error`.
    loop {
        let source = client.source().await.unwrap();
        if source.contains(notice) || source.contains("settings-error") {
            assert!(!source.contains("settings-error"), "{button}: {source}");
            return;
        }
        assert!(Instant::now() < deadline, "{button}: no answer");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn permissions_properties_and_object_settings_are_set_in_the_console() {
    let coffer = Coffer::start_with(&[
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ("COFFER_ROOT_PASSWORD", ROOT_PASSWORD),
    ]);
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("site").send().await.unwrap();
    let account = coffer.account_id().await;
    let downloads = tempfile::tempdir().unwrap();
    let driver = driver();
    let client = browser(&driver, downloads.path()).await;
    sign_in(&client, &coffer, &account, "", ROOT_PASSWORD).await;

    // Permissions: Block Public Access off, ACLs on, a public-read ACL, a CORS rule.
    client
        .goto(&format!("{}/s3/buckets/site", coffer.console))
        .await
        .unwrap();
    click(&client, "#bucket-permissions").await;
    wait_path(&client, "/s3/buckets/site/permissions").await;
    for name in [
        "BlockPublicAcls",
        "IgnorePublicAcls",
        "BlockPublicPolicy",
        "RestrictPublicBuckets",
    ] {
        let checkbox = find(&client, &format!("#{name}")).await;
        if checkbox.prop("checked").await.unwrap().as_deref() == Some("true") {
            checkbox.click().await.unwrap();
        }
    }
    save(&client, "#save-block", "Block Public Access saved.").await;
    click(&client, "#ownership-writer").await;
    save(&client, "#save-ownership", "Object Ownership saved.").await;
    find(&client, "#acl")
        .await
        .select_by_value("public-read")
        .await
        .unwrap();
    save(&client, "#save-acl", "Bucket ACL saved.").await;
    let grants = text(&client, "#grants").await;
    assert!(grants.contains("AllUsers") && grants.contains("READ"), "{grants}");
    fill(
        &client,
        "#cors",
        "<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
    )
    .await;
    save(&client, "#save-cors", "CORS rules saved.").await;
    shot(&client, "bucket-permissions-saved").await;

    let block = s3.get_public_access_block().bucket("site").send().await.unwrap();
    assert_eq!(
        block.public_access_block_configuration().unwrap().block_public_acls(),
        Some(false)
    );
    let ownership = s3.get_bucket_ownership_controls().bucket("site").send().await.unwrap();
    assert_eq!(
        ownership.ownership_controls().unwrap().rules()[0].object_ownership(),
        &ObjectOwnership::ObjectWriter
    );
    let acl = s3.get_bucket_acl().bucket("site").send().await.unwrap();
    assert!(acl.grants().iter().any(|g| {
        g.grantee()
            .and_then(|g| g.uri())
            .is_some_and(|u| u.ends_with("AllUsers"))
    }));
    let cors = s3.get_bucket_cors().bucket("site").send().await.unwrap();
    assert_eq!(cors.cors_rules()[0].allowed_origins(), ["https://app.example"]);

    // Properties: tags and default encryption.
    click(&client, "a[href='/s3/buckets/site/properties']").await;
    wait_path(&client, "/s3/buckets/site/properties").await;
    fill(&client, "#tags", "team=web\nstage=prod").await;
    save(&client, "#save-tags", "Bucket tags saved.").await;
    find(&client, "#algorithm")
        .await
        .select_by_value("aws:kms")
        .await
        .unwrap();
    save(&client, "#save-encryption", "Default encryption saved.").await;
    let tags = s3.get_bucket_tagging().bucket("site").send().await.unwrap();
    assert_eq!(tags.tag_set().len(), 2);
    let encryption = s3.get_bucket_encryption().bucket("site").send().await.unwrap();
    let default = encryption.server_side_encryption_configuration().unwrap().rules()[0]
        .apply_server_side_encryption_by_default()
        .unwrap()
        .clone();
    assert_eq!(default.sse_algorithm(), &ServerSideEncryption::AwsKms);

    // An upload with its own tags and SSE-S3 (not the bucket's SSE-KMS).
    client
        .goto(&format!("{}/s3/buckets/site", coffer.console))
        .await
        .unwrap();
    click(&client, ".upload-settings summary").await;
    fill(&client, "#upload-tags", "kind=page").await;
    find(&client, "#upload-encryption")
        .await
        .select_by_value("AES256")
        .await
        .unwrap();
    let file = downloads.path().join("index.html");
    std::fs::write(&file, b"<h1>hi</h1>").unwrap();
    find(&client, "#add-files")
        .await
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while s3.head_object().bucket("site").key("index.html").send().await.is_err() {
        assert!(Instant::now() < deadline, "the upload did not land");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let head = s3.head_object().bucket("site").key("index.html").send().await.unwrap();
    assert_eq!(head.server_side_encryption(), Some(&ServerSideEncryption::Aes256));
    let object_tags = s3
        .get_object_tagging()
        .bucket("site")
        .key("index.html")
        .send()
        .await
        .unwrap();
    assert_eq!(object_tags.tag_set()[0].key(), "kind");

    // The object's page shows both, and edits the tags.
    client
        .goto(&format!("{}/s3/buckets/site/object?key=index.html", coffer.console))
        .await
        .unwrap();
    let page = client.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(page.contains("SSE-S3 (AES256)"), "{page}");
    assert_eq!(
        find(&client, "#object-tags")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("kind=page")
    );
    find(&client, "#object-tags").await.clear().await.unwrap();
    fill(&client, "#object-tags", "kind=home").await;
    click(&client, "#save-object-tags").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let tags = s3
            .get_object_tagging()
            .bucket("site")
            .key("index.html")
            .send()
            .await
            .unwrap();
        if tags.tag_set()[0].value() == "home" {
            break;
        }
        if Instant::now() > deadline {
            panic!("the tags were not saved: {}", client.source().await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shot(&client, "object-settings").await;
    client.close().await.unwrap();
}
