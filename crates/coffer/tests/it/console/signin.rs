//! Signing in and staying signed in: the root user and IAM users, wrong passwords and the
//! throttle, CSRF, idle sessions, password changes and expiry.

use std::time::Duration;

use super::harness::{Browser, ROOT_PASSWORD, sign_in_from, start_with};
use crate::harness::Coffer;

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
async fn a_pause_outlives_a_restart_of_coffer() {
    let mut coffer = start_with(&[]);
    let account = coffer.account_id().await;
    let mut browser = Browser::new(&coffer);
    for _ in 0..5 {
        assert_eq!(browser.sign_in(&account, "", "Not-The-Pass-1").await.status, 401);
    }
    // The attempts are in the store: a killed and restarted Coffer (or another node) counts them.
    coffer.kill_and_restart();
    browser.base = coffer.console.clone();
    assert_eq!(browser.sign_in(&account, "", ROOT_PASSWORD).await.status, 429);
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
    let mut set = coffer
        .command(&["account", "set-root-password"])
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
    assert_eq!(signed.location.as_deref(), Some("/change-password?signed-in"));
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
        Some("/?signed-in")
    );
}

/// Ages `user`'s password by `days` through the store, as time would (the server reads the
/// same database, which a second process may open).
async fn age_password(coffer: &Coffer, account: &str, user: &str, days: i64) {
    let store = coffer.open_store().await;
    let user = store.user(account, user).await.unwrap();
    let profile = store.login_profile(&user.user_id).await.unwrap();
    store
        .set_password_changed_at(&user.user_id, profile.password_changed_at - time::Duration::days(days))
        .await
        .unwrap();
    store.close().await;
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
        Some("/?signed-in")
    );
    age_password(&coffer, &account, "jo", 31).await;
    let mut again = Browser::new(&coffer);
    let expired = again.sign_in(&account, "jo", "Jos-Pass-2026").await;
    assert_eq!(expired.location.as_deref(), Some("/change-password?signed-in"));
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

#[tokio::test]
async fn a_sign_in_cookie_the_browser_refuses_is_explained() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    let mut browser = Browser::new(&coffer);
    // Over plain HTTP at a real host name a browser drops the Secure cookie: the form says
    // so before anyone types a password.
    let request = browser
        .client
        .get(format!("{}/signin", browser.base))
        .header("host", "console.example.com:9001");
    let form = browser.send(request).await;
    assert!(
        form.body.contains("Browsers refuse its sign-in cookie there"),
        "{}",
        form.body
    );
    assert!(form.body.contains("<code>console.example.com:9001</code>"));
    for host in ["127.0.0.1:9001", "localhost:9001", "[::1]:9001", "app.localhost"] {
        let request = browser
            .client
            .get(format!("{}/signin", browser.base))
            .header("host", host);
        assert!(
            !browser.send(request).await.body.contains("refuse its sign-in cookie"),
            "{host}"
        );
    }
    let proxied = browser
        .client
        .get(format!("{}/signin", browser.base))
        .header("host", "console.example.com")
        .header("x-forwarded-proto", "https, http");
    assert!(!browser.send(proxied).await.body.contains("refuse its sign-in cookie"));

    // A sign-in lands on `/?signed-in`; arriving there without the cookie means it was refused.
    let signed = browser.sign_in(&account, "", ROOT_PASSWORD).await;
    assert_eq!(signed.location.as_deref(), Some("/?signed-in"));
    let cookieless = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/?signed-in", browser.base))
        .send()
        .await
        .unwrap();
    assert_eq!(cookieless.status(), 400);
    assert!(
        cookieless
            .text()
            .await
            .unwrap()
            .contains("your browser did not keep the sign-in cookie")
    );
    // With the cookie, the same address is the home page.
    // With the cookie, the marker is dropped from the address; a cookie naming an ended
    // session is not called refused.
    assert_eq!(browser.get("/?signed-in").await.location.as_deref(), Some("/"));
    assert!(browser.get("/").await.body.contains("Console home"));
    let stale = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/?signed-in", browser.base))
        .header("cookie", "__Host-coffer_session=ended")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.headers()["location"], "/signin");
    // Behind a TLS proxy that says so either way, no warning.
    let rfc7239 = browser
        .client
        .get(format!("{}/signin", browser.base))
        .header("host", "console.example.com")
        .header("forwarded", "for=192.0.2.1;proto=https");
    assert!(!browser.send(rfc7239).await.body.contains("refuse its sign-in cookie"));
}

#[tokio::test]
async fn a_console_session_outlives_a_restart_of_coffer() {
    let mut coffer = start_with(&[]);
    let account = coffer.account_id().await;
    let mut browser = Browser::new(&coffer);
    browser.sign_in(&account, "", ROOT_PASSWORD).await;
    assert_eq!(browser.get("/iam/users").await.status, 200);
    // Sessions live in the store: a killed and restarted Coffer (or another node) knows them.
    coffer.kill_and_restart();
    browser.base = coffer.console.clone();
    let after = browser.get("/iam/users").await;
    assert_eq!(after.status, 200, "{:?}", after.location);
    // Signing out ends it everywhere.
    let csrf = Browser::csrf(&after);
    browser.post("/signout", &[("csrf", &csrf)]).await;
    assert_eq!(browser.get("/iam/users").await.location.as_deref(), Some("/signin"));
}
