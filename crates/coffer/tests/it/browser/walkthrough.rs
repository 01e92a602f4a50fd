//! The walkthrough in Chromium: signing in as root, a user and its key made in the console
//! and used with the `aws` CLI, a bucket made in the wizard, uploads by the file input and by a
//! drop, a download compared byte for byte, and an IAM user's denied page.

use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::Locator;

use super::*;
use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET};

#[tokio::test]
async fn the_walkthrough_in_chromium() {
    let coffer = Coffer::start_with(&[
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ("COFFER_ROOT_PASSWORD", ROOT_PASSWORD),
    ]);
    let account = coffer.account_id().await;
    let downloads = tempfile::tempdir().unwrap();
    let driver = driver();
    let client = browser(&driver, downloads.path()).await;

    // Sign in as root.
    client.goto(&format!("{}/signin", coffer.console)).await.unwrap();
    shot(&client, "01-sign-in").await;
    sign_in(&client, &coffer, &account, "", ROOT_PASSWORD).await;
    wait_path(&client, "/").await;

    // Create a user with console access and a custom password; attach S3 read-only.
    client.goto(&format!("{}/iam/new-user", coffer.console)).await.unwrap();
    fill(&client, "#name", "alice").await;
    click(&client, "input[name=console]").await;
    click(&client, "input[name=password_kind][value=custom]").await;
    fill(&client, "#password", "Alices-Pass-2026").await;
    click(&client, "input[name=reset]").await; // no reset: she signs in straight away below
    click(
        &client,
        "input[name=policy][value='arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']",
    )
    .await;
    shot(&client, "02-create-user").await;
    click(&client, "form[action='/iam/users'] button[type=submit]").await;
    wait_path(&client, "/iam/users/alice/created").await;
    shot(&client, "03-user-created").await;

    // Create its access key through the three steps.
    client
        .goto(&format!("{}/iam/users/alice", coffer.console))
        .await
        .unwrap();
    click(&client, "a[href='/iam/users/alice/access-keys/new']").await;
    click(&client, "input[name=use_case][value=cli]").await;
    click(&client, "input[name=confirm]").await;
    shot(&client, "04-key-use-case").await;
    click(&client, "button[type=submit].primary").await;
    fill(&client, "#description", "walkthrough CLI").await;
    shot(&client, "05-key-description").await;
    click(&client, "button[type=submit].primary").await;
    assert_eq!(text(&client, "details.secret summary").await, "Show");
    click(&client, "details.secret summary").await;
    assert_eq!(text(&client, "details.secret summary").await, "Hide");
    shot(&client, "06-key-retrieve").await;
    let key_id = text(&client, "#access-key-id").await;
    let secret = text(&client, "#secret-access-key").await;
    assert!(key_id.starts_with("AKIA") && secret.len() == 40);
    click(&client, "#download-csv").await;
    let csv = String::from_utf8(downloaded(&downloads.path().join("alice_accessKeys.csv"))).unwrap();
    assert_eq!(csv, format!("Access key ID,Secret access key\r\n{key_id},{secret}\r\n"));
    // The secret is gone on reload.
    client.refresh().await.unwrap();
    assert!(!client.source().await.unwrap().contains(&secret));

    // The key from the .csv works with the aws CLI.
    let cli = std::env::var("COFFER_TEST_AWS_CLI").unwrap_or_else(|_| "aws".to_owned());
    let who = Command::new(&cli)
        .args(["sts", "get-caller-identity", "--output", "json"])
        .env("AWS_ACCESS_KEY_ID", &key_id)
        .env("AWS_SECRET_ACCESS_KEY", &secret)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", &coffer.endpoint)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("the aws CLI (scripts/test installs it)");
    assert!(who.status.success(), "{}", String::from_utf8_lossy(&who.stderr));
    assert!(String::from_utf8_lossy(&who.stdout).contains(":user/alice"));

    // Create a bucket through the wizard.
    client.goto(&format!("{}/s3/new-bucket", coffer.console)).await.unwrap();
    fill(&client, "#bucket-name", "holiday-photos").await;
    client
        .wait()
        .for_element(Locator::Css("#name-verdict .valid"))
        .await
        .expect("the name is checked as it is typed");
    shot(&client, "07-create-bucket").await;
    click(&client, "form[action='/s3/buckets'] button[type=submit]").await;
    wait_path(&client, "/s3/buckets/holiday-photos").await;

    // Two files by the file input, one by a drop.
    let files = tempfile::tempdir().unwrap();
    let beach: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(files.path().join("beach.jpg"), &beach).unwrap();
    std::fs::write(files.path().join("notes.txt"), b"sun, sea, sand\n").unwrap();
    let input = find(&client, "#add-files").await;
    input
        .send_keys(&format!(
            "{}\n{}",
            files.path().join("beach.jpg").display(),
            files.path().join("notes.txt").display()
        ))
        .await
        .unwrap();
    client
        .execute(
            r#"const zone = document.getElementById("drop-zone");
               const data = new DataTransfer();
               data.items.add(new File(["dropped with care"], "dropped.txt", { type: "text/plain" }));
               zone.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));"#,
            vec![],
        )
        .await
        .unwrap();
    // The page reloads itself when every upload is done.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let source = client.source().await.unwrap();
        if ["beach.jpg", "notes.txt", "dropped.txt"]
            .iter()
            .all(|name| source.contains(&format!(">{name}</a>")))
        {
            break;
        }
        assert!(Instant::now() < deadline, "the uploads were not listed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shot(&client, "08-bucket-objects").await;

    // A file over 64 MiB goes up in parts (S3's multipart upload, driven by the page).
    let big = files.path().join("video.bin");
    std::fs::write(&big, vec![9u8; 70 * 1024 * 1024]).unwrap();
    let input = find(&client, "#add-files").await;
    input.send_keys(&big.display().to_string()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if client.source().await.unwrap().contains(">video.bin</a>") {
            break;
        }
        assert!(Instant::now() < deadline, "the large upload was not listed");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let head = coffer
        .root_s3()
        .head_object()
        .bucket("holiday-photos")
        .key("video.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(70 * 1024 * 1024));
    assert!(head.e_tag().unwrap().ends_with("-5\""), "five 16 MiB parts");

    // Download one and compare the bytes.
    click(&client, "a[href='/s3/buckets/holiday-photos/download?key=beach.jpg']").await;
    assert_eq!(downloaded(&downloads.path().join("beach.jpg")), beach);

    // Alice signs in; her policy allows reading S3 but not listing IAM users.
    client.goto(&format!("{}/", coffer.console)).await.unwrap();
    click(&client, "form[action='/signout'] button").await;
    wait_path(&client, "/signin").await;
    sign_in(&client, &coffer, &account, "alice", "Alices-Pass-2026").await;
    client.goto(&format!("{}/s3/buckets", coffer.console)).await.unwrap();
    assert!(client.source().await.unwrap().contains("holiday-photos"));
    client.goto(&format!("{}/iam/users", coffer.console)).await.unwrap();
    let denied = text(&client, "section.denied .lead").await;
    assert_eq!(denied, "You are not authorized to perform iam:ListUsers.");
    shot(&client, "09-denied").await;

    client.close().await.unwrap();
}
