//! IAM in the console: access keys in three steps, users with console access, groups,
//! policies and account settings.

use super::harness::{Browser, ROOT_PASSWORD, root_browser, start_with, unescape};
use crate::harness::code;

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
    let confirmed = browser
        .post(
            "/iam/users/alice/access-keys/new",
            &[("csrf", &csrf), ("use_case", "cli"), ("confirm", "yes")],
        )
        .await;
    // A redirect after the POST, so Back from a later step never resends the form.
    assert_eq!(confirmed.status, 303);
    let step2 = browser.get(confirmed.location.as_deref().unwrap()).await;
    assert!(step2.body.contains("Set description tag"));
    // A description IAM cannot hold as a tag is refused before any key exists, on the form,
    // with what was typed kept.
    let refused = browser
        .post(
            "/iam/users/alice/access-keys",
            &[
                ("csrf", &csrf),
                ("use_case", "cli"),
                ("description", "laptop [work] #1"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains(r#"role="alert""#), "{}", refused.body);
    assert!(refused.body.contains(r#"value="laptop [work] #1""#), "{}", refused.body);
    let keys = coffer
        .root_iam()
        .list_access_keys()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    assert!(keys.access_key_metadata().is_empty(), "no key was created");
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
    // The page after an action says what it did, once.
    let notice = format!(r#"<p class="notice" role="status">Access key {id} deactivated.</p>"#);
    assert!(browser.get("/iam/users/alice").await.body.contains(&notice));
    assert!(!browser.get("/iam/users/alice").await.body.contains(&notice));
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
    // A chosen password the policy refuses stops the whole create before its first step.
    let weak = browser
        .post(
            "/iam/users",
            &[
                ("csrf", &csrf),
                ("name", "frank"),
                ("console", "yes"),
                ("password_kind", "custom"),
                ("password", "short"),
                ("group", "readers"),
            ],
        )
        .await;
    assert_eq!(weak.status, 400);
    assert!(
        weak.body
            .contains("Console password: Password should have a minimum length of 8"),
        "{}",
        weak.body
    );
    let err = coffer
        .root_iam()
        .get_user()
        .user_name("frank")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity", "nothing was created");
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
    // The sign-in URL names the account, and opens the form with it filled in.
    let url = details
        .body
        .split(r#"id="sign-in-url">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .map(unescape)
        .unwrap();
    assert!(url.ends_with(&format!("/signin?account={account}")), "{url}");
    let mut fresh = Browser::new(&coffer);
    let form = fresh.get(&format!("/signin?account={account}")).await;
    assert!(
        form.body.contains(&format!(r#"name="account" value="{account}""#)),
        "{}",
        form.body
    );
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

#[tokio::test]
async fn the_sidebar_marks_the_current_section_and_the_console_has_an_icon() {
    let coffer = start_with(&[]);
    let (mut browser, _) = root_browser(&coffer).await;
    for (path, current) in [
        ("/iam/users", "/iam/users"),
        ("/iam/new-user", "/iam/users"),
        ("/iam/groups", "/iam/groups"),
        ("/iam/policies", "/iam/policies"),
        ("/s3/buckets", "/s3/buckets"),
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        let marked: Vec<&str> = page
            .body
            .split(r#"<a href=""#)
            .skip(1)
            .filter(|link| link.contains(r#"aria-current="page""#))
            .filter_map(|link| link.split('"').next())
            .collect();
        assert_eq!(marked, [current], "{path}");
        assert!(page.body.contains(r#"<link rel="icon" href="/assets/favicon.svg""#));
    }
    let icon = browser.get("/assets/favicon.svg").await;
    assert_eq!(icon.status, 200);
    assert_eq!(icon.headers["content-type"], "image/svg+xml");
}

#[tokio::test]
async fn a_failed_action_says_what_went_wrong_in_words_and_leads_back() {
    let coffer = start_with(&[]);
    coffer
        .root_iam()
        .create_group()
        .group_name("readers")
        .send()
        .await
        .unwrap();
    let (mut browser, _) = root_browser(&coffer).await;
    let group = browser.get("/iam/groups/readers").await;
    let csrf = Browser::csrf(&group);
    // A policy named without its ARN: IAM says InvalidInput.
    let request = browser
        .client
        .post(format!("{}/iam/groups/readers", browser.base))
        .header("referer", format!("{}/iam/groups/readers", browser.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("change", "attach-policy"),
            ("value", "AmazonS3ReadOnlyAccess"),
        ]);
    let failed = browser.send(request).await;
    assert_eq!(failed.status, 400);
    assert!(failed.body.contains("<h1>That did not work</h1>"), "{}", failed.body);
    assert!(
        failed.body.contains("Error code: <code>InvalidInput</code>"),
        "{}",
        failed.body
    );
    assert!(
        failed.body.contains(r#"<a href="/iam/groups/readers">Back</a>"#),
        "{}",
        failed.body
    );
}

#[tokio::test]
async fn a_group_is_deleted_once_it_is_empty_with_its_name_typed() {
    let coffer = start_with(&[]);
    let iam = coffer.root_iam();
    iam.create_group().group_name("temps").send().await.unwrap();
    iam.create_user().user_name("kim").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("temps")
        .user_name("kim")
        .send()
        .await
        .unwrap();
    let (mut browser, _) = root_browser(&coffer).await;
    let page = browser.get("/iam/groups/temps").await;
    assert!(page.body.contains("Delete group"));
    let csrf = Browser::csrf(&page);
    let delete = |confirm: &'static str| [("csrf", csrf.as_str()), ("change", "delete"), ("value", confirm)];
    let unconfirmed = browser.post("/iam/groups/temps", &delete("temp")).await;
    assert_eq!(unconfirmed.status, 400);
    // IAM refuses while the group has a member; the page says so in IAM's words.
    let conflict = browser.post("/iam/groups/temps", &delete("temps")).await;
    assert_eq!(conflict.status, 409);
    assert!(
        conflict.body.contains("Error code: <code>DeleteConflict</code>"),
        "{}",
        conflict.body
    );
    iam.remove_user_from_group()
        .group_name("temps")
        .user_name("kim")
        .send()
        .await
        .unwrap();
    let deleted = browser.post("/iam/groups/temps", &delete("temps")).await;
    assert_eq!(deleted.location.as_deref(), Some("/iam/groups"));
    assert!(
        browser
            .get("/iam/groups")
            .await
            .body
            .contains("User group temps deleted.")
    );
    let err = iam.get_group().group_name("temps").send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
}

#[tokio::test]
async fn a_user_is_deleted_once_its_keys_are_gone_with_its_name_typed() {
    let coffer = start_with(&[]);
    let (key_id, _) = coffer.user_with_key("lee").await;
    let (mut browser, _) = root_browser(&coffer).await;
    let page = browser.get("/iam/users/lee").await;
    assert!(page.body.contains("Delete user"));
    let csrf = Browser::csrf(&page);
    let delete = |confirm: &'static str| [("csrf", csrf.as_str()), ("confirm", confirm)];
    assert_eq!(browser.post("/iam/users/lee/delete", &delete("le")).await.status, 400);
    // IAM refuses while the user has an access key, and says so.
    let conflict = browser.post("/iam/users/lee/delete", &delete("lee")).await;
    assert_eq!(conflict.status, 409);
    assert!(
        conflict.body.contains("Error code: <code>DeleteConflict</code>"),
        "{}",
        conflict.body
    );
    let iam = coffer.root_iam();
    iam.delete_access_key()
        .user_name("lee")
        .access_key_id(key_id)
        .send()
        .await
        .unwrap();
    let deleted = browser.post("/iam/users/lee/delete", &delete("lee")).await;
    assert_eq!(deleted.location.as_deref(), Some("/iam/users"));
    assert!(browser.get("/iam/users").await.body.contains("User lee deleted."));
    let err = iam.get_user().user_name("lee").send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
}
