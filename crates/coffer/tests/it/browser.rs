//! The console in a real headless Chromium (Debian's `chromium` and `chromium-driver`, which
//! `scripts/test` installs), driven with fantoccini: the walkthrough from signing in as root to
//! using a key made in the console with the `aws` CLI, a bucket made in the wizard, uploads by
//! the file input and by a drop, a download compared byte for byte, and an IAM user's denied
//! page. Screenshots of the key pages go to `target/console-screenshots/`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET};

const ROOT_PASSWORD: &str = "Root-Pass-2026";

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (Debian: chromium-driver; scripts/test installs it)");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver { child, url }
}

async fn browser(driver: &Driver, downloads: &Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"],
            "prefs": {
                "download.default_directory": downloads.to_string_lossy(),
                "download.prompt_for_download": false,
            }
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

/// The element, waiting for it: a click that submits a form returns before the next page.
async fn find(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
}

async fn fill(client: &Client, css: &str, text: &str) {
    find(client, css).await.send_keys(text).await.unwrap();
}

async fn click(client: &Client, css: &str) {
    find(client, css).await.click().await.unwrap();
}

async fn text(client: &Client, css: &str) -> String {
    find(client, css).await.text().await.unwrap()
}

/// Waits until the page's path ends with `suffix` (a form's redirect may still be on its way).
async fn wait_path(client: &Client, suffix: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = client.current_url().await.unwrap();
        if url.path().ends_with(suffix) {
            return;
        }
        assert!(Instant::now() < deadline, "still at {url}, not …{suffix}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `path` exists and is complete (Chromium writes `.crdownload` first).
fn downloaded(path: &Path) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(bytes) = std::fs::read(path) {
            return bytes;
        }
        assert!(Instant::now() < deadline, "{} was not downloaded", path.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

async fn sign_in(client: &Client, coffer: &Coffer, account: &str, user: &str, password: &str) {
    client.goto(&format!("{}/signin", coffer.console)).await.unwrap();
    fill(client, "#account", account).await;
    if !user.is_empty() {
        fill(client, "#username", user).await;
    }
    fill(client, "#password", password).await;
    click(client, "button[type=submit].primary").await;
    // Signed in once the page has left the form.
    let deadline = Instant::now() + Duration::from_secs(15);
    while client.current_url().await.unwrap().path() == "/signin" {
        assert!(Instant::now() < deadline, "the sign-in did not go through");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

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

    // The bucket page fits the window, on a laptop and on a phone: no sideways scrolling.
    for (width, name) in [(1366, "10-laptop-width"), (390, "11-phone-width")] {
        client.set_window_size(width, 900).await.unwrap();
        client
            .goto(&format!("{}/s3/buckets/holiday-photos", coffer.console))
            .await
            .unwrap();
        find(&client, "#drop-zone").await;
        let widths = client
            .execute(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(widths[0], widths[1], "page width at a {width} px window: {widths}");
        // No inline styles: htmx's own would trip the page's Content-Security-Policy.
        let inline = client
            .execute("return document.querySelectorAll('style, [style]').length;", vec![])
            .await
            .unwrap();
        assert_eq!(inline, 0, "inline styles on the bucket page");
        shot(&client, name).await;
    }

    client.close().await.unwrap();
}
