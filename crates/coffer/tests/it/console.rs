//! The console over plain HTTP (the browser tests drive it in Chromium): sign-in and its
//! throttle, sessions and their idle expiry, CSRF, the denied page, and the walkthrough's
//! access key flow with its secret shown exactly once.

use std::time::Duration;

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET, code};

const ROOT_PASSWORD: &str = "Root-Pass-2026";

fn start_with(extra: &[(&str, &str)]) -> Coffer {
    let mut env = vec![
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ("COFFER_ROOT_PASSWORD", ROOT_PASSWORD),
    ];
    env.extend_from_slice(extra);
    Coffer::start_with(&env)
}

/// Text as it was before HTML escaping (named and numeric character references).
fn unescape(html: &str) -> String {
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
struct Browser {
    client: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

struct Page {
    status: u16,
    location: Option<String>,
    set_cookie: Option<String>,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Browser {
    fn new(coffer: &Coffer) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: coffer.console.clone(),
            cookie: None,
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
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

    async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self.client.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }

    async fn sign_in(&mut self, account: &str, username: &str, password: &str) -> Page {
        self.post(
            "/signin",
            &[("account", account), ("username", username), ("password", password)],
        )
        .await
    }

    /// The CSRF token of the page's forms.
    fn csrf(page: &Page) -> String {
        page.body
            .split(r#"name="csrf" value=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a form with a CSRF token")
            .to_owned()
    }
}

#[tokio::test]
async fn the_root_user_signs_in_sees_users_and_signs_out() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    coffer.root_iam().create_user().user_name("alice").send().await.unwrap();
    let mut browser = Browser::new(&coffer);
    let form = browser.get("/signin").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains(r#"name="password" type="password""#));
    assert_eq!(browser.get("/iam/users").await.location.as_deref(), Some("/signin"));

    let signed = browser.sign_in(&account, "", ROOT_PASSWORD).await;
    assert_eq!(signed.status, 303);
    let cookie = signed.set_cookie.unwrap();
    assert!(cookie.starts_with("__Host-coffer_session="), "{cookie}");
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let users = browser.get("/iam/users").await;
    assert_eq!(users.status, 200);
    assert!(users.body.contains("alice"));
    let csp = users.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
    assert_eq!(users.headers["cache-control"], "no-store");
    assert!(!users.body.contains(ROOT_PASSWORD));

    let csrf = Browser::csrf(&users);
    let out = browser.post("/signout", &[("csrf", &csrf)]).await;
    assert_eq!(out.location.as_deref(), Some("/signin"));
    assert_eq!(browser.get("/iam/users").await.location.as_deref(), Some("/signin"));
}

#[tokio::test]
async fn a_wrong_password_is_refused_alike_and_repeated_failures_pause_sign_in() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    let mut browser = Browser::new(&coffer);
    let wrong = browser.sign_in(&account, "", "Not-The-Pass-1").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Your authentication information is incorrect"));
    assert!(!wrong.body.contains("Not-The-Pass-1"));
    let no_such_user = browser.sign_in(&account, "ghost", "Not-The-Pass-1").await;
    assert_eq!(
        no_such_user.status, 401,
        "the same answer for a name that does not exist"
    );
    for _ in 0..3 {
        browser.sign_in(&account, "", "Not-The-Pass-1").await;
    }
    // The sixth attempt waits, even with the right password.
    let paused = browser.sign_in(&account, "", ROOT_PASSWORD).await;
    assert_eq!(paused.status, 429);
    assert!(paused.headers.contains_key("retry-after"));
    assert!(browser.cookie.is_none());
}

#[tokio::test]
async fn forms_without_the_sessions_token_are_refused() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    let mut browser = Browser::new(&coffer);
    browser.sign_in(&account, "", ROOT_PASSWORD).await;
    let forged = browser.post("/signout", &[("csrf", "forged")]).await;
    assert_eq!(forged.status, 403);
    assert!(forged.body.contains("This form has expired"));
    let missing = browser.post("/signout", &[]).await;
    assert!(missing.status >= 400, "{}", missing.status);
    assert_eq!(browser.get("/iam/users").await.status, 200, "still signed in");
    // A sign-in posted from another site is refused too.
    let cross_site = browser
        .send(
            browser
                .client
                .post(format!("{}/signin", browser.base))
                .header("origin", "https://evil.example")
                .form(&[
                    ("account", account.as_str()),
                    ("username", ""),
                    ("password", ROOT_PASSWORD),
                ]),
        )
        .await;
    assert_eq!(cross_site.status, 403);
}

#[tokio::test]
async fn an_idle_session_expires() {
    let coffer = start_with(&[("COFFER_CONSOLE_IDLE_TIMEOUT_SECS", "1")]);
    let account = coffer.account_id().await;
    let mut browser = Browser::new(&coffer);
    browser.sign_in(&account, "", ROOT_PASSWORD).await;
    assert_eq!(browser.get("/iam/users").await.status, 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(browser.get("/iam/users").await.location.as_deref(), Some("/signin"));
}

#[tokio::test]
async fn an_iam_user_without_permission_sees_which_action_was_denied() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    let iam = coffer.root_iam();
    iam.create_user().user_name("bob").send().await.unwrap();
    iam.create_login_profile()
        .user_name("bob")
        .password("Bobs-Pass-2026")
        .send()
        .await
        .unwrap();
    let mut browser = Browser::new(&coffer);
    assert_eq!(browser.sign_in(&account, "bob", "Bobs-Pass-2026").await.status, 303);
    let denied = browser.get("/iam/users").await;
    assert_eq!(denied.status, 403);
    assert!(
        denied
            .body
            .contains("You are not authorized to perform <code>iam:ListUsers</code>")
    );
    // Signing in is recorded as the password's last use.
    let bob = iam.get_user().user_name("bob").send().await.unwrap();
    assert!(bob.user().unwrap().password_last_used().is_some());
    // Taking the console password away ends the session at once.
    iam.delete_login_profile().user_name("bob").send().await.unwrap();
    assert_eq!(browser.get("/iam/users").await.location.as_deref(), Some("/signin"));
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_of_its_person() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    let iam = coffer.root_iam();
    iam.create_user().user_name("dan").send().await.unwrap();
    iam.create_login_profile()
        .user_name("dan")
        .password("Dans-Pass-2026")
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("dan")
        .policy_arn("arn:aws:iam::aws:policy/IAMUserChangePassword")
        .send()
        .await
        .unwrap();
    let mut laptop = Browser::new(&coffer);
    assert_eq!(laptop.sign_in(&account, "dan", "Dans-Pass-2026").await.status, 303);
    // An administrator's reset ends the session at its next request.
    iam.update_login_profile()
        .user_name("dan")
        .password("Reset-By-Admin-1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        laptop.get("/change-password").await.location.as_deref(),
        Some("/signin")
    );
    // The person's own change ends every other session, not the one it was made in.
    let mut phone = Browser::new(&coffer);
    assert_eq!(laptop.sign_in(&account, "dan", "Reset-By-Admin-1").await.status, 303);
    assert_eq!(phone.sign_in(&account, "dan", "Reset-By-Admin-1").await.status, 303);
    let form = laptop.get("/change-password").await;
    let changed = laptop
        .post(
            "/change-password",
            &[
                ("csrf", &Browser::csrf(&form)),
                ("old_password", "Reset-By-Admin-1"),
                ("new_password", "Dans-Own-Pass-2027"),
                ("confirm_password", "Dans-Own-Pass-2027"),
            ],
        )
        .await;
    assert_eq!(changed.location.as_deref(), Some("/"));
    assert_eq!(laptop.get("/change-password").await.status, 200);
    assert_eq!(phone.get("/change-password").await.location.as_deref(), Some("/signin"));
    // The root user's password set from the command line ends root sessions too.
    let mut root = Browser::new(&coffer);
    assert_eq!(root.sign_in(&account, "", ROOT_PASSWORD).await.status, 303);
    assert_eq!(root.get("/iam/users").await.status, 200);
    let mut set = std::process::Command::new(crate::harness::coffer_bin())
        .args(["account", "set-root-password", "--data-dir"])
        .arg(coffer.data_dir())
        .env("COFFER_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        set.stdin.take().unwrap().write_all(b"Root-New-Pass-2027\n").unwrap();
    }
    assert!(set.wait().unwrap().success());
    assert_eq!(root.get("/iam/users").await.location.as_deref(), Some("/signin"));
}

/// Signs in as if from `address` (through a trusted proxy); returns the status.
async fn sign_in_from(coffer: &Coffer, address: &str, account: &str, username: &str, password: &str) -> u16 {
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

#[tokio::test]
async fn guessing_from_elsewhere_never_locks_a_person_out_where_they_sign_in() {
    let coffer = start_with(&[("COFFER_TRUSTED_PROXIES", "127.0.0.1/32")]);
    let account = coffer.account_id().await;
    let sign_in = |address: &'static str, password: &'static str| {
        let (coffer, account) = (&coffer, account.clone());
        async move { sign_in_from(coffer, address, &account, "", password).await }
    };
    // The root user signs in from home once.
    assert_eq!(sign_in("192.0.2.10", ROOT_PASSWORD).await, 303);
    // Guessers from six addresses, one guess each, are refused alike.
    for address in [
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.3",
        "198.51.100.4",
        "198.51.100.5",
    ] {
        assert_eq!(sign_in(address, "Guess-Pass-1").await, 401);
    }
    // Now the name waits a little (from addresses it never signed in from)...
    assert_eq!(sign_in("198.51.100.6", "Guess-Pass-1").await, 429);
    assert_eq!(sign_in("203.0.113.7", ROOT_PASSWORD).await, 429);
    // ...but not at home.
    assert_eq!(sign_in("192.0.2.10", ROOT_PASSWORD).await, 303);
    // A delay, not a lock: after it the name can be tried again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(sign_in("203.0.113.7", ROOT_PASSWORD).await, 303);
    // One address guessing many names stops after five failures, that address only.
    for n in 0..5 {
        let status = sign_in_from(&coffer, "198.51.100.99", &account, &format!("ghost{n}"), "x").await;
        assert_eq!(status, 401);
    }
    assert_eq!(
        sign_in_from(&coffer, "198.51.100.99", &account, "ghost9", "x").await,
        429
    );
    assert_eq!(
        sign_in_from(&coffer, "198.51.100.98", &account, "ghost9", "x").await,
        401
    );
}

#[tokio::test]
async fn a_required_new_password_comes_first() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    let iam = coffer.root_iam();
    iam.create_user().user_name("cat").send().await.unwrap();
    iam.create_login_profile()
        .user_name("cat")
        .password("Cats-Pass-2026")
        .password_reset_required(true)
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("cat")
        .policy_arn("arn:aws:iam::aws:policy/IAMUserChangePassword")
        .send()
        .await
        .unwrap();
    let mut browser = Browser::new(&coffer);
    let signed = browser.sign_in(&account, "cat", "Cats-Pass-2026").await;
    assert_eq!(signed.location.as_deref(), Some("/change-password"));
    assert_eq!(
        browser.get("/iam/users").await.location.as_deref(),
        Some("/change-password")
    );
    let form = browser.get("/change-password").await;
    let csrf = Browser::csrf(&form);
    let changed = browser
        .post(
            "/change-password",
            &[
                ("csrf", &csrf),
                ("old_password", "Cats-Pass-2026"),
                ("new_password", "Cats-New-2027"),
                ("confirm_password", "Cats-New-2027"),
            ],
        )
        .await;
    assert_eq!(changed.location.as_deref(), Some("/"));
    assert_ne!(
        browser.get("/iam/users").await.location.as_deref(),
        Some("/change-password")
    );
    let mut again = Browser::new(&coffer);
    assert_eq!(
        again
            .sign_in(&account, "cat", "Cats-New-2027")
            .await
            .location
            .as_deref(),
        Some("/")
    );
}

#[tokio::test]
async fn an_access_key_is_created_in_three_steps_and_its_secret_shown_once() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    coffer.root_iam().create_user().user_name("alice").send().await.unwrap();
    let mut browser = Browser::new(&coffer);
    browser.sign_in(&account, "", ROOT_PASSWORD).await;

    let user = browser.get("/iam/users/alice").await;
    assert!(user.body.contains("/iam/users/alice/access-keys/new"));
    let step1 = browser.get("/iam/users/alice/access-keys/new").await;
    assert!(step1.body.contains("Command Line Interface (CLI)"));
    let csrf = Browser::csrf(&step1);
    let unconfirmed = browser
        .post(
            "/iam/users/alice/access-keys/new",
            &[("csrf", &csrf), ("use_case", "cli")],
        )
        .await;
    assert_eq!(unconfirmed.status, 400);
    let step2 = browser
        .post(
            "/iam/users/alice/access-keys/new",
            &[("csrf", &csrf), ("use_case", "cli"), ("confirm", "yes")],
        )
        .await;
    assert!(step2.body.contains("Set description tag"));
    let created = browser
        .post(
            "/iam/users/alice/access-keys",
            &[("csrf", &csrf), ("use_case", "cli"), ("description", "laptop CLI")],
        )
        .await;
    assert_eq!(created.status, 303);
    let location = created.location.unwrap();
    let step3 = browser.get(&location).await;
    assert_eq!(step3.status, 200);
    let id = step3
        .body
        .split(r#"id="access-key-id">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    let secret = step3
        .body
        .split(r#"id="secret-access-key">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    assert!(id.starts_with("AKIA") && secret.len() == 40);
    let csv = format!("Access key ID,Secret access key\r\n{id},{secret}\r\n");
    let encoded: String = percent_encoding::utf8_percent_encode(&csv, percent_encoding::NON_ALPHANUMERIC).to_string();
    assert!(step3.body.contains(&format!("data:text/csv;charset=utf-8,{encoded}")));
    assert!(step3.body.contains(r#"download="alice_accessKeys.csv""#));

    // Never again: not on reload, not on the user's page.
    let reload = browser.get(&location).await;
    assert!(!reload.body.contains(&secret));
    assert!(reload.body.contains("cannot be shown again"));
    let user = browser.get("/iam/users/alice").await;
    assert!(user.body.contains(&id) && user.body.contains("laptop CLI"));
    assert!(!user.body.contains(&secret));

    // The key works: the walkthrough's next step.
    let identity = coffer
        .sts(&id, &secret, "us-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert!(identity.arn().unwrap().ends_with(":user/alice"));

    // Deactivate, then delete only when the id is typed.
    let csrf = Browser::csrf(&user);
    browser
        .post(
            &format!("/iam/users/alice/access-keys/{id}/status"),
            &[("csrf", &csrf), ("status", "Inactive")],
        )
        .await;
    let err = coffer
        .sts(&id, &secret, "us-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidClientTokenId");
    let unconfirmed = browser
        .post(
            &format!("/iam/users/alice/access-keys/{id}/delete"),
            &[("csrf", &csrf), ("confirm", "nope")],
        )
        .await;
    assert_eq!(unconfirmed.status, 400);
    browser
        .post(
            &format!("/iam/users/alice/access-keys/{id}/delete"),
            &[("csrf", &csrf), ("confirm", &id)],
        )
        .await;
    let keys = coffer
        .root_iam()
        .list_access_keys()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    assert!(keys.access_key_metadata().is_empty());
}

#[tokio::test]
async fn a_user_created_with_console_access_signs_in_with_the_password_shown_once() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    coffer
        .root_iam()
        .create_group()
        .group_name("readers")
        .send()
        .await
        .unwrap();
    let mut browser = Browser::new(&coffer);
    browser.sign_in(&account, "", ROOT_PASSWORD).await;
    let form = browser.get("/iam/new-user").await;
    assert!(form.body.contains(r#"value="readers""#));
    assert!(form.body.contains("AmazonS3ReadOnlyAccess"));
    let csrf = Browser::csrf(&form);
    let taken = browser
        .post("/iam/users", &[("csrf", &csrf), ("name", "bad name!")])
        .await;
    assert_eq!(taken.status, 400, "IAM's validation, shown on the form");
    assert!(taken.body.contains("validation error"));
    let created = browser
        .post(
            "/iam/users",
            &[
                ("csrf", &csrf),
                ("name", "erin"),
                ("console", "yes"),
                ("password_kind", "generated"),
                ("reset", "yes"),
                ("group", "readers"),
                ("policy", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
            ],
        )
        .await;
    assert_eq!(created.location.as_deref(), Some("/iam/users/erin/created"));
    let details = browser.get("/iam/users/erin/created").await;
    let password = details
        .body
        .split(r#"id="console-password">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .map(unescape)
        .unwrap();
    assert_eq!(password.chars().count(), 20);
    assert!(details.body.contains(r#"download="erin_credentials.csv""#));
    assert!(
        !browser
            .get("/iam/users/erin/created")
            .await
            .body
            .contains("console-password")
    );

    let iam = coffer.root_iam();
    let groups = iam.list_groups_for_user().user_name("erin").send().await.unwrap();
    assert_eq!(groups.groups()[0].group_name(), "readers");
    let attached = iam
        .list_attached_user_policies()
        .user_name("erin")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    assert!(names.contains(&"AmazonS3ReadOnlyAccess") && names.contains(&"IAMUserChangePassword"));

    let mut erin = Browser::new(&coffer);
    let signed = erin.sign_in(&account, "erin", &password).await;
    assert_eq!(signed.location.as_deref(), Some("/change-password"));
    let form = erin.get("/change-password").await;
    let csrf = Browser::csrf(&form);
    let changed = erin
        .post(
            "/change-password",
            &[
                ("csrf", &csrf),
                ("old_password", &password),
                ("new_password", "Erins-Own-2026"),
                ("confirm_password", "Erins-Own-2026"),
            ],
        )
        .await;
    assert_eq!(changed.location.as_deref(), Some("/"));
}

#[tokio::test]
async fn groups_policies_and_account_settings_are_managed_in_the_console() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    let iam = coffer.root_iam();
    iam.create_user().user_name("finn").send().await.unwrap();
    let mut browser = Browser::new(&coffer);
    browser.sign_in(&account, "", ROOT_PASSWORD).await;

    // A group, a member and an AWS managed policy.
    let groups = browser.get("/iam/groups").await;
    let csrf = Browser::csrf(&groups);
    let created = browser
        .post("/iam/groups", &[("csrf", &csrf), ("name", "readers")])
        .await;
    assert_eq!(created.location.as_deref(), Some("/iam/groups/readers"));
    for (change, value) in [
        ("add-user", "finn"),
        ("attach-policy", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
    ] {
        let done = browser
            .post(
                "/iam/groups/readers",
                &[("csrf", &csrf), ("change", change), ("value", value)],
            )
            .await;
        assert_eq!(done.status, 303, "{change}");
    }
    let group = browser.get("/iam/groups/readers").await;
    assert!(group.body.contains("finn") && group.body.contains("AmazonS3ReadOnlyAccess"));
    let members = iam.get_group().group_name("readers").send().await.unwrap();
    assert_eq!(members.users()[0].user_name(), "finn");

    // The editor's live check is the engine's.
    let verdict = browser
        .post("/iam/policy/validate", &[("document", "{\"Statement\":[]}")])
        .await;
    assert!(verdict.body.contains(r#"class="error""#) && verdict.body.contains("Statement must not be empty"));
    let good = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}}"#;
    let verdict = browser.post("/iam/policy/validate", &[("document", good)]).await;
    assert!(verdict.body.contains("Valid policy: 1 statement."));
    let malformed = browser
        .post(
            "/iam/policy/edit",
            &[("csrf", &csrf), ("name", "lister"), ("document", "{nope")],
        )
        .await;
    assert_eq!(malformed.status, 400);
    assert!(malformed.body.contains("MalformedPolicyDocument"));
    let saved = browser
        .post(
            "/iam/policy/edit",
            &[("csrf", &csrf), ("name", "lister"), ("document", good)],
        )
        .await;
    let location = saved.location.unwrap();
    assert!(location.starts_with("/iam/policy?arn="));
    let arn = format!("arn:aws:iam::{account}:policy/lister");
    let edited = good.replace("s3:ListBucket", "s3:List*");
    browser
        .post(
            "/iam/policy/edit",
            &[("csrf", &csrf), ("arn", &arn), ("document", &edited)],
        )
        .await;
    let page = browser.get(&location).await;
    assert!(page.body.contains("v2"), "{}", page.body);
    assert!(page.body.contains("s3:List*"), "{}", page.body);
    let versions = iam.list_policy_versions().policy_arn(&arn).send().await.unwrap();
    assert_eq!(versions.versions().len(), 2);

    // Account settings: an alias to sign in with, and a password policy.
    let settings = browser.get("/iam/account").await;
    assert!(settings.body.contains("IAM's default"));
    browser
        .post(
            "/iam/account",
            &[("csrf", &csrf), ("change", "alias"), ("alias", "team-coffer")],
        )
        .await;
    browser
        .post(
            "/iam/account",
            &[
                ("csrf", &csrf),
                ("change", "policy"),
                ("minimum_length", "14"),
                ("symbols", "on"),
                ("allow_change", "on"),
            ],
        )
        .await;
    let policy = iam.get_account_password_policy().send().await.unwrap();
    let policy = policy.password_policy().unwrap();
    assert_eq!(policy.minimum_password_length(), Some(14));
    assert!(policy.require_symbols() && policy.allow_users_to_change_password());
    assert!(!policy.require_numbers());
    let too_short = browser
        .post(
            "/iam/account",
            &[("csrf", &csrf), ("change", "policy"), ("minimum_length", "3")],
        )
        .await;
    assert_eq!(too_short.status, 400);
    let mut by_alias = Browser::new(&coffer);
    assert_eq!(by_alias.sign_in("team-coffer", "", ROOT_PASSWORD).await.status, 303);
}

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
    assert!(taken.body.contains("already exists"));
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
    let mut browser = Browser::new(&coffer);
    browser.sign_in(&account, "", ROOT_PASSWORD).await;
    let details = browser.get("/s3/buckets/shared/object?key=trip%2Fplan%201.txt").await;
    let csrf = Browser::csrf(&details);
    let shared = browser
        .post(
            "/s3/buckets/shared/object?key=trip%2Fplan%201.txt",
            &[("csrf", &csrf), ("seconds", "3600")],
        )
        .await;
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
    let fetched = reqwest::get(&url).await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), b"day one: beach");

    // A user without an access key is told why there is no link.
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
    let page = hal.get("/s3/buckets/shared/object?key=trip%2Fplan%201.txt").await;
    let csrf = Browser::csrf(&page);
    let refused = hal
        .post(
            "/s3/buckets/shared/object?key=trip%2Fplan%201.txt",
            &[("csrf", &csrf), ("seconds", "3600")],
        )
        .await;
    assert!(refused.body.contains("no active one"));
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
async fn a_half_created_user_still_gets_its_password_shown() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    let mut browser = Browser::new(&coffer);
    browser.sign_in(&account, "", ROOT_PASSWORD).await;
    let form = browser.get("/iam/new-user").await;
    let csrf = Browser::csrf(&form);
    let created = browser
        .post(
            "/iam/users",
            &[
                ("csrf", &csrf),
                ("name", "ivy"),
                ("console", "yes"),
                ("password_kind", "generated"),
                ("group", "no-such-group"),
            ],
        )
        .await;
    assert_eq!(created.location.as_deref(), Some("/iam/users/ivy/created"));
    let details = browser.get("/iam/users/ivy/created").await;
    assert!(details.body.contains("not everything asked for was done"));
    assert!(details.body.contains("Group no-such-group"));
    assert!(details.body.contains(r#"id="console-password""#));
}

/// Ages every login profile's password by `days` (straight in the database, as time would).
fn age_passwords(coffer: &Coffer, days: i64) {
    let db = coffer.data_dir().join("meta.db");
    let script = format!(
        "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); \
         db.execute('UPDATE login_profiles SET password_changed_at = password_changed_at - {}'); db.commit()",
        days * 86_400_000
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn an_expired_password_must_be_changed_or_under_hard_expiry_cannot_be_used() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    let iam = coffer.root_iam();
    iam.create_user().user_name("jo").send().await.unwrap();
    iam.create_login_profile()
        .user_name("jo")
        .password("Jos-Pass-2026")
        .send()
        .await
        .unwrap();
    iam.update_account_password_policy()
        .max_password_age(30)
        .allow_users_to_change_password(true)
        .send()
        .await
        .unwrap();
    let mut browser = Browser::new(&coffer);
    assert_eq!(
        browser
            .sign_in(&account, "jo", "Jos-Pass-2026")
            .await
            .location
            .as_deref(),
        Some("/")
    );
    age_passwords(&coffer, 31);
    let mut again = Browser::new(&coffer);
    let expired = again.sign_in(&account, "jo", "Jos-Pass-2026").await;
    assert_eq!(expired.location.as_deref(), Some("/change-password"));
    iam.update_account_password_policy()
        .max_password_age(30)
        .hard_expiry(true)
        .send()
        .await
        .unwrap();
    let mut hard = Browser::new(&coffer);
    let refused = hard.sign_in(&account, "jo", "Jos-Pass-2026").await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("Your password has expired"));
    assert!(hard.cookie.is_none());
}
