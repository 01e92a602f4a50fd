//! The console in a real headless Chromium (Debian's `chromium` and `chromium-driver`, which
//! `scripts/test` installs), driven with fantoccini: the walkthrough from signing in as root to
//! using a key made in the console with the `aws` CLI ([`walkthrough`]), and every page at a
//! laptop's and a phone's width with the console's own guidance for deleting, picking and
//! failing ([`pages`]). Screenshots go to `target/console-screenshots/`.

mod cors;
mod pages;
mod post_form;
mod settings;
mod walkthrough;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::harness::Coffer;

pub const ROOT_PASSWORD: &str = "Root-Pass-2026";

/// chromedriver on a free port, stopped when dropped.
pub struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn driver() -> Driver {
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

pub async fn browser(driver: &Driver, downloads: &Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:loggingPrefs".to_owned(), json!({ "browser": "ALL" }));
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

pub fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn shot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

/// The element, waiting for it: a click that submits a form returns before the next page.
pub async fn find(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
}

pub async fn fill(client: &Client, css: &str, text: &str) {
    find(client, css).await.send_keys(text).await.unwrap();
}

pub async fn click(client: &Client, css: &str) {
    find(client, css).await.click().await.unwrap();
}

pub async fn text(client: &Client, css: &str) -> String {
    find(client, css).await.text().await.unwrap()
}

/// Waits until the page's path ends with `suffix` (a form's redirect may still be on its way).
pub async fn wait_path(client: &Client, suffix: &str) {
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
pub fn downloaded(path: &Path) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // Chromium may create the file before it writes it: wait for content that holds
        // still between two reads.
        if let Ok(bytes) = std::fs::read(path)
            && !bytes.is_empty()
        {
            std::thread::sleep(Duration::from_millis(100));
            if std::fs::read(path).is_ok_and(|again| again == bytes) {
                return bytes;
            }
        }
        assert!(Instant::now() < deadline, "{} was not downloaded", path.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub async fn sign_in(client: &Client, coffer: &Coffer, account: &str, user: &str, password: &str) {
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

/// Chromium's console messages since the last call (chromedriver's log endpoint).
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

/// The console messages Chromium logged since the last call.
pub async fn console_messages(client: &Client) -> Vec<String> {
    let entries = client.issue_cmd(BrowserLog).await.expect("chromedriver's browser log");
    entries
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| e["message"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
