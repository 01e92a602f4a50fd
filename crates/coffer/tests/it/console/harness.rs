//! The console over plain HTTP as a browser without JavaScript sees it: a cookie jar of one
//! session, forms posted with their CSRF token, and pages read as text.

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET};

pub const ROOT_PASSWORD: &str = "Root-Pass-2026";

pub fn start_with(extra: &[(&str, &str)]) -> Coffer {
    let mut env = vec![
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ("COFFER_ROOT_PASSWORD", ROOT_PASSWORD),
    ];
    env.extend_from_slice(extra);
    Coffer::start_with(&env)
}

/// Text as it was before HTML escaping (named and numeric character references).
pub fn unescape(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let Some(end) = after.find(';') else {
            out.push_str(&rest[at..]);
            return out;
        };
        let entity = &after[..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&rest[at..at + end + 2]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A browser without a cookie jar of its own: it keeps the session cookie by hand (the
/// cookie is `Secure`, which a jar would not send over plain HTTP).
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
    pub cookie: Option<String>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookie: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Browser {
    pub fn new(coffer: &Coffer) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: coffer.console.clone(),
            cookie: None,
        }
    }

    pub async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = match &self.cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        };
        let response = request.send().await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let set_cookie = header("set-cookie");
        if let Some(cookie) = &set_cookie {
            let pair = cookie.split(';').next().unwrap_or("").to_owned();
            self.cookie = if pair.ends_with('=') { None } else { Some(pair) };
        }
        Page {
            status: response.status().as_u16(),
            location: header("location"),
            headers: response.headers().clone(),
            set_cookie,
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self.client.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }

    pub async fn sign_in(&mut self, account: &str, username: &str, password: &str) -> Page {
        self.post(
            "/signin",
            &[("account", account), ("username", username), ("password", password)],
        )
        .await
    }

    /// The CSRF token of the page's forms.
    pub fn csrf(page: &Page) -> String {
        page.body
            .split(r#"name="csrf" value=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a form with a CSRF token")
            .to_owned()
    }
}

/// Signs in as if from `address` (through a trusted proxy); returns the status.
pub async fn sign_in_from(coffer: &Coffer, address: &str, account: &str, username: &str, password: &str) -> u16 {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/signin", coffer.console))
        .header("x-forwarded-for", address)
        .form(&[("account", account), ("username", username), ("password", password)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A browser signed in as the root user; also the account id.
pub async fn root_browser(coffer: &Coffer) -> (Browser, String) {
    let account = coffer.account_id().await;
    let mut browser = Browser::new(coffer);
    browser.sign_in(&account, "", ROOT_PASSWORD).await;
    (browser, account)
}

/// Creates `bucket` holding `keys` (each with a one-byte body), as root.
pub async fn bucket_with(coffer: &Coffer, bucket: &str, keys: &[&str]) -> aws_sdk_s3::Client {
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    for key in keys {
        s3.put_object()
            .bucket(bucket)
            .key(*key)
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    s3
}
