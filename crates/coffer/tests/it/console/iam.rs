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
    assert_eq!(taken.status, 400, "the name checked first, on the form");
    assert!(taken.body.contains("may use only letters, digits"), "{}", taken.body);
    assert!(!taken.body.contains("regular expression"));
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
    assert_eq!(signed.location.as_deref(), Some("/change-password?signed-in"));
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
        ("add-users", "finn"),
        ("attach-policies", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
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
async fn a_failed_change_is_said_on_its_form_and_what_was_ticked_stays_ticked() {
    let coffer = start_with(&[]);
    let iam = coffer.root_iam();
    iam.create_group().group_name("readers").send().await.unwrap();
    let (mut browser, _) = root_browser(&coffer).await;
    let csrf = Browser::csrf(&browser.get("/iam/groups/readers").await);
    // A policy named without its ARN: IAM says InvalidInput, on the picker's form, which
    // stays open with the row still ticked; the valid one before it was attached.
    let failed = browser
        .post(
            "/iam/groups/readers",
            &[
                ("csrf", csrf.as_str()),
                ("change", "attach-policies"),
                ("value", "arn:aws:iam::aws:policy/IAMUserChangePassword"),
                ("value", "arn:aws:iam::aws:policy/NoSuchPolicyHere"),
            ],
        )
        .await;
    assert_eq!(failed.status, 404, "{}", failed.body);
    assert!(
        failed
            .body
            .contains("Attached IAMUserChangePassword. NoSuchPolicyHere was not:"),
        "{}",
        failed.body
    );
    assert!(
        failed.body.contains("Error code: <code>NoSuchEntity</code>"),
        "{}",
        failed.body
    );
    assert!(
        failed.body.contains(r#"<details class="confirm" open>"#),
        "{}",
        failed.body
    );
    assert!(!failed.body.contains("<h1>That did not work</h1>"));
    let attached = iam
        .list_attached_group_policies()
        .group_name("readers")
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies().len(), 1);
    // Nothing ticked is said on the form too, and nothing is called.
    let empty = browser
        .post(
            "/iam/groups/readers",
            &[("csrf", csrf.as_str()), ("change", "add-users")],
        )
        .await;
    assert_eq!(empty.status, 400);
    assert!(empty.body.contains("Nothing was changed: tick at least one user."));

    // A tag IAM refuses keeps what was typed.
    iam.create_user().user_name("tess").send().await.unwrap();
    let bad_tag = browser
        .post(
            "/iam/users/tess",
            &[
                ("csrf", csrf.as_str()),
                ("change", "add-tag"),
                ("tag_key", "team"),
                ("tag_value", "a#b"),
            ],
        )
        .await;
    assert_eq!(bad_tag.status, 400, "{}", bad_tag.body);
    assert!(
        bad_tag.body.contains(r#"name="tag_key" value="team""#),
        "{}",
        bad_tag.body
    );
    assert!(bad_tag.body.contains(r#"name="tag_value" value="a#b""#));
    assert!(bad_tag.body.contains("Error code: <code>"), "{}", bad_tag.body);
}

#[tokio::test]
async fn a_failed_page_action_says_what_went_wrong_in_words_and_leads_back() {
    let coffer = start_with(&[]);
    coffer.root_iam().create_user().user_name("una").send().await.unwrap();
    let (mut browser, _) = root_browser(&coffer).await;
    let csrf = Browser::csrf(&browser.get("/iam/users/una").await);
    // A key the user does not have: IAM's NoSuchEntity, in words, with the way back.
    let request = browser
        .client
        .post(format!(
            "{}/iam/users/una/access-keys/AKIAIOSFODNN7EXAMPLE/status",
            browser.base
        ))
        .header("referer", format!("{}/iam/users/una", browser.base))
        .form(&[("csrf", csrf.as_str()), ("status", "Inactive")]);
    let failed = browser.send(request).await;
    assert_eq!(failed.status, 404);
    assert!(failed.body.contains("<h1>That did not work</h1>"), "{}", failed.body);
    assert!(
        failed.body.contains("Error code: <code>NoSuchEntity</code>"),
        "{}",
        failed.body
    );
    assert!(
        failed.body.contains(r#"<a href="/iam/users/una">Back</a>"#),
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
    iam.put_group_policy()
        .group_name("temps")
        .policy_name("temp-access")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}}"#,
        )
        .send()
        .await
        .unwrap();
    let (mut browser, _) = root_browser(&coffer).await;
    let page = browser.get("/iam/groups/temps").await;
    assert!(page.body.contains("Delete group"));
    // Its inline policy is listed, and deleted from here.
    assert!(
        page.body.contains(r#"<span class="name">temp-access</span>"#),
        "{}",
        page.body
    );
    let csrf = Browser::csrf(&page);
    let inline_deleted = browser
        .post(
            "/iam/groups/temps",
            &[
                ("csrf", csrf.as_str()),
                ("change", "delete-inline"),
                ("value", "temp-access"),
            ],
        )
        .await;
    assert_eq!(inline_deleted.status, 303);
    assert!(
        iam.list_group_policies()
            .group_name("temps")
            .send()
            .await
            .unwrap()
            .policy_names()
            .is_empty()
    );
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
async fn a_user_is_deleted_with_everything_it_has_once_its_keys_are_inactive() {
    let coffer = start_with(&[]);
    let (key_id, _) = coffer.user_with_key("lee").await;
    let iam = coffer.root_iam();
    iam.create_login_profile()
        .user_name("lee")
        .password("Lee-Pass-2026!")
        .send()
        .await
        .unwrap();
    iam.create_group().group_name("staff").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("staff")
        .user_name("lee")
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("lee")
        .policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        .send()
        .await
        .unwrap();
    let (mut browser, _) = root_browser(&coffer).await;
    let page = browser.get("/iam/users/lee").await;
    // An active key: the page asks to deactivate it first, and offers no delete form.
    assert!(page.body.contains("Deactivate it first"), "{}", page.body);
    assert!(!page.body.contains(r#"action="/iam/users/lee/delete""#));
    let csrf = Browser::csrf(&page);
    let delete = |confirm: &'static str| [("csrf", csrf.as_str()), ("confirm", confirm)];
    let refused = browser.post("/iam/users/lee/delete", &delete("lee")).await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("deactivate its active access keys first"),
        "{}",
        refused.body
    );
    // An active key cannot be deleted on its own either.
    let key_delete = format!("/iam/users/lee/access-keys/{key_id}/delete");
    let active = browser
        .post(&key_delete, &[("csrf", csrf.as_str()), ("confirm", key_id.as_str())])
        .await;
    assert_eq!(active.status, 409);
    browser
        .post(
            &format!("/iam/users/lee/access-keys/{key_id}/status"),
            &[("csrf", csrf.as_str()), ("status", "Inactive")],
        )
        .await;
    let page = browser.get("/iam/users/lee").await;
    assert!(
        page.body.contains("also deletes its access keys, its console password"),
        "{}",
        page.body
    );
    assert_eq!(browser.post("/iam/users/lee/delete", &delete("le")).await.status, 400);
    let deleted = browser.post("/iam/users/lee/delete", &delete("lee")).await;
    assert_eq!(deleted.location.as_deref(), Some("/iam/users"), "{}", deleted.body);
    assert!(browser.get("/iam/users").await.body.contains("User lee deleted."));
    let err = iam.get_user().user_name("lee").send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let staff = iam.get_group().group_name("staff").send().await.unwrap();
    assert!(staff.users().is_empty());
}

#[tokio::test]
async fn a_users_console_access_groups_policies_and_tags_are_changed_on_its_page() {
    let coffer = start_with(&[]);
    let iam = coffer.root_iam();
    iam.create_user().user_name("nia").send().await.unwrap();
    iam.create_group().group_name("devs").send().await.unwrap();
    iam.put_user_policy()
        .user_name("nia")
        .policy_name("scratch")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}}"#,
        )
        .send()
        .await
        .unwrap();
    let (mut browser, account) = root_browser(&coffer).await;
    let page = browser.get("/iam/users/nia").await;
    assert!(page.body.contains("Enable console access"));
    // The pickers list what can still be chosen: the group, and AWS's policies with their type.
    assert!(page.body.contains(r#"name="value" value="devs""#), "{}", page.body);
    assert!(
        page.body
            .contains(r#"value="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess""#)
    );
    assert!(page.body.contains("<td class=\"nowrap\">AWS managed</td>"));
    let csrf = Browser::csrf(&page);
    // Console access: a custom password the policy refuses changes nothing and is kept.
    iam.update_account_password_policy()
        .minimum_password_length(14)
        .send()
        .await
        .unwrap();
    let short = change(
        &mut browser,
        &csrf,
        &[
            ("change", "console-enable"),
            ("password_kind", "custom"),
            ("password", "Short-1!"),
        ],
    )
    .await;
    assert_eq!(short.status, 400);
    assert!(short.body.contains("Console password:"), "{}", short.body);
    // The typed password is never sent back.
    assert!(!short.body.contains("Short-1!"));
    assert_eq!(
        code(&iam.get_login_profile().user_name("nia").send().await.unwrap_err()),
        "NoSuchEntity"
    );
    let enabled = change(
        &mut browser,
        &csrf,
        &[
            ("change", "console-enable"),
            ("password_kind", "custom"),
            ("password", "Nia-Console-2026!"),
            ("reset", "on"),
        ],
    )
    .await;
    assert_eq!(enabled.location.as_deref(), Some("/iam/users/nia/created"));
    assert!(
        browser
            .get("/iam/users/nia/created")
            .await
            .body
            .contains("Nia-Console-2026!")
    );
    let profile = iam.get_login_profile().user_name("nia").send().await.unwrap();
    assert!(profile.login_profile().unwrap().password_reset_required());
    // Reset to a new password without the reset requirement; the user signs in with it.
    let reset = change(
        &mut browser,
        &csrf,
        &[
            ("change", "console-reset"),
            ("password_kind", "custom"),
            ("password", "Nia-Second-2026!"),
        ],
    )
    .await;
    assert_eq!(reset.location.as_deref(), Some("/iam/users/nia/created"));
    let mut nia = Browser::new(&coffer);
    assert_eq!(nia.sign_in(&account, "nia", "Nia-Second-2026!").await.status, 303);
    // Only the requirement changes, the password stays.
    iam.detach_user_policy()
        .user_name("nia")
        .policy_arn("arn:aws:iam::aws:policy/IAMUserChangePassword")
        .send()
        .await
        .unwrap();
    let keep = change(
        &mut browser,
        &csrf,
        &[("change", "console-reset"), ("password_kind", "keep"), ("reset", "on")],
    )
    .await;
    assert_eq!(keep.status, 303);
    let profile = iam.get_login_profile().user_name("nia").send().await.unwrap();
    assert!(profile.login_profile().unwrap().password_reset_required());
    // Whoever must choose a new password may: IAMUserChangePassword comes with the requirement.
    let attached = iam.list_attached_user_policies().user_name("nia").send().await.unwrap();
    assert!(
        attached
            .attached_policies()
            .iter()
            .any(|p| p.policy_name() == Some("IAMUserChangePassword"))
    );
    assert!(
        browser
            .get("/iam/users/nia")
            .await
            .body
            .contains("Console access of nia updated.")
    );

    // Groups from the user's side, and policies through the picker.
    let added = change(&mut browser, &csrf, &[("change", "add-groups"), ("value", "devs")]).await;
    assert_eq!(added.status, 303);
    let attached = change(
        &mut browser,
        &csrf,
        &[
            ("change", "attach-policies"),
            ("value", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
        ],
    )
    .await;
    assert_eq!(attached.status, 303);
    let page = browser.get("/iam/users/nia").await;
    assert!(page.body.contains("Attached AmazonS3ReadOnlyAccess."));
    assert!(
        page.body
            .contains(r#"<a href="/iam/groups/devs" class="name">devs</a>"#),
        "{}",
        page.body
    );
    let groups = iam.list_groups_for_user().user_name("nia").send().await.unwrap();
    assert_eq!(groups.groups()[0].group_name(), "devs");
    let policies = iam.list_attached_user_policies().user_name("nia").send().await.unwrap();
    let arns: Vec<&str> = policies
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert!(
        arns.contains(&"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
        "{arns:?}"
    );
    for (kind, value) in [
        ("remove-group", "devs"),
        ("detach-policy", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
        ("delete-inline", "scratch"),
    ] {
        let done = change(&mut browser, &csrf, &[("change", kind), ("value", value)]).await;
        assert_eq!(done.status, 303, "{kind}: {}", done.body);
    }
    assert!(
        iam.list_groups_for_user()
            .user_name("nia")
            .send()
            .await
            .unwrap()
            .groups()
            .is_empty()
    );
    assert!(
        iam.list_user_policies()
            .user_name("nia")
            .send()
            .await
            .unwrap()
            .policy_names()
            .is_empty()
    );

    // Tags.
    let tagged = change(
        &mut browser,
        &csrf,
        &[("change", "add-tag"), ("tag_key", "team"), ("tag_value", "data")],
    )
    .await;
    assert_eq!(tagged.status, 303);
    let tags = iam.list_user_tags().user_name("nia").send().await.unwrap();
    assert_eq!((tags.tags()[0].key(), tags.tags()[0].value()), ("team", "data"));
    let untagged = change(&mut browser, &csrf, &[("change", "remove-tag"), ("value", "team")]).await;
    assert_eq!(untagged.status, 303);
    assert!(
        iam.list_user_tags()
            .user_name("nia")
            .send()
            .await
            .unwrap()
            .tags()
            .is_empty()
    );

    // Console access removed: nia's session ends, as a password change ends it.
    let removed = change(&mut browser, &csrf, &[("change", "console-remove")]).await;
    assert_eq!(removed.status, 303);
    assert_eq!(
        code(&iam.get_login_profile().user_name("nia").send().await.unwrap_err()),
        "NoSuchEntity"
    );
    assert_eq!(nia.get("/iam/users").await.location.as_deref(), Some("/signin"));
}

/// Sends one change from nia's page.
async fn change(browser: &mut Browser, csrf: &str, fields: &[(&str, &str)]) -> super::harness::Page {
    let mut form = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    browser.post("/iam/users/nia", &form).await
}

#[tokio::test]
async fn home_shows_what_the_principal_may_see_and_everyone_reaches_their_own_credentials() {
    let coffer = start_with(&[]);
    let iam = coffer.root_iam();
    let (key_id, _) = coffer.user_with_key("sam").await;
    iam.create_login_profile()
        .user_name("sam")
        .password("Sam-Pass-2026!")
        .send()
        .await
        .unwrap();
    // Sam may manage only his own keys, as AWS's self-management example policy allows.
    let own_keys = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["iam:ListAccessKeys","iam:UpdateAccessKey","iam:DeleteAccessKey","iam:CreateAccessKey"],"Resource":"arn:aws:iam::*:user/${aws:username}"}}"#;
    iam.put_user_policy()
        .user_name("sam")
        .policy_name("own-keys")
        .policy_document(own_keys)
        .send()
        .await
        .unwrap();
    let (mut root, account) = root_browser(&coffer).await;
    let home = root.get("/").await;
    assert!(home.body.contains("<dt>Users</dt><dd>1</dd>"), "{}", home.body);

    let mut sam = Browser::new(&coffer);
    sam.sign_in(&account, "sam", "Sam-Pass-2026!").await;
    let home = sam.get("/").await;
    assert_eq!(home.status, 200);
    assert!(
        home.body.contains("do not include <code>iam:GetAccountSummary</code>"),
        "{}",
        home.body
    );
    assert!(home.body.contains(r#"href="/iam/my-credentials""#));
    let mine = sam.get("/iam/my-credentials").await;
    assert!(mine.body.contains(&key_id), "{}", mine.body);
    let csrf = Browser::csrf(&mine);
    let deactivated = sam
        .post(
            &format!("/iam/users/sam/access-keys/{key_id}/status"),
            &[("csrf", csrf.as_str()), ("status", "Inactive"), ("from", "mine")],
        )
        .await;
    assert_eq!(deactivated.location.as_deref(), Some("/iam/my-credentials"));
    let mine = sam.get("/iam/my-credentials").await;
    assert!(mine.body.contains(&format!("Access key {key_id} deactivated.")));
    // Another user's keys stay out of reach.
    coffer.user_with_key("other").await;
    let theirs = sam.get("/iam/users/other").await;
    assert_eq!(theirs.status, 403);
}

#[tokio::test]
async fn controls_a_principal_may_not_use_are_disabled_with_the_reason() {
    let coffer = start_with(&[]);
    let iam = coffer.root_iam();
    iam.create_user().user_name("ivy").send().await.unwrap();
    iam.create_group().group_name("ops").send().await.unwrap();
    iam.create_user().user_name("rita").send().await.unwrap();
    iam.create_login_profile()
        .user_name("rita")
        .password("Rita-Pass-2026!")
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("rita")
        .policy_arn("arn:aws:iam::aws:policy/IAMReadOnlyAccess")
        .send()
        .await
        .unwrap();
    let (mut root, account) = root_browser(&coffer).await;
    let page = root.get("/iam/users/ivy").await;
    assert!(!page.body.contains(" disabled>"), "the root user may do everything");

    let mut rita = Browser::new(&coffer);
    rita.sign_in(&account, "rita", "Rita-Pass-2026!").await;
    let page = rita.get("/iam/users/ivy").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains(r#"<button type="submit" class="danger" disabled>Delete user</button>"#),
        "{}",
        page.body
    );
    assert!(page.body.contains("Your permissions do not allow iam:DeleteUser here."));
    assert!(
        page.body
            .contains("Your permissions do not allow iam:DeleteLoginProfile here.")
            || page
                .body
                .contains("Your permissions do not allow iam:CreateLoginProfile here.")
    );
    assert!(
        page.body
            .contains("Create access key: Your permissions do not allow iam:CreateAccessKey here.")
    );
    let group = rita.get("/iam/groups/ops").await;
    assert!(
        group
            .body
            .contains("Your permissions do not allow iam:DeleteGroup here."),
        "{}",
        group.body
    );
}

#[tokio::test]
async fn an_access_keys_description_is_changed_checked_first_and_removed() {
    let coffer = start_with(&[]);
    let (key_id, _) = coffer.user_with_key("dee").await;
    let (mut browser, _) = root_browser(&coffer).await;
    let csrf = Browser::csrf(&browser.get("/iam/users/dee").await);
    let (client, base) = (browser.client.clone(), browser.base.clone());
    let describe = |text: &'static str| {
        let form = [
            ("csrf", csrf.as_str()),
            ("change", "key-description"),
            ("value", key_id.as_str()),
            ("description", text),
        ];
        client.post(format!("{base}/iam/users/dee")).form(&form)
    };
    let saved = browser.send(describe("build server")).await;
    assert_eq!(saved.status, 303);
    let page = browser.get("/iam/users/dee").await;
    assert!(
        page.body
            .contains(&format!("Description of access key {key_id} saved."))
    );
    let tags = coffer
        .root_iam()
        .list_user_tags()
        .user_name("dee")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (tags.tags()[0].key(), tags.tags()[0].value()),
        (key_id.as_str(), "build server")
    );
    // IAM's tag rules are checked first: nothing changes, the text is kept in the key's form.
    let refused = browser.send(describe("build #2")).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("Description:"), "{}", refused.body);
    assert!(refused.body.contains(r#"value="build #2""#));
    let tags = coffer
        .root_iam()
        .list_user_tags()
        .user_name("dee")
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags()[0].value(), "build server");
    let cleared = browser.send(describe("")).await;
    assert_eq!(cleared.status, 303);
    let tags = coffer
        .root_iam()
        .list_user_tags()
        .user_name("dee")
        .send()
        .await
        .unwrap();
    assert!(tags.tags().is_empty());
}

#[tokio::test]
async fn a_user_deletion_the_caller_may_not_finish_removes_nothing() {
    let coffer = start_with(&[]);
    let iam = coffer.root_iam();
    iam.create_user().user_name("zed").send().await.unwrap();
    iam.create_login_profile()
        .user_name("zed")
        .password("Zeds-Pass-2026!")
        .send()
        .await
        .unwrap();
    iam.create_group().group_name("locked").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("locked")
        .user_name("zed")
        .send()
        .await
        .unwrap();
    // An administrator of users, not of groups.
    iam.create_user().user_name("uma").send().await.unwrap();
    iam.create_login_profile()
        .user_name("uma")
        .password("Umas-Pass-2026!")
        .send()
        .await
        .unwrap();
    let users_only = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::*:user/*"}}"#;
    iam.put_user_policy()
        .user_name("uma")
        .policy_name("users-only")
        .policy_document(users_only)
        .send()
        .await
        .unwrap();
    let account = coffer.account_id().await;
    let mut uma = Browser::new(&coffer);
    uma.sign_in(&account, "uma", "Umas-Pass-2026!").await;
    let csrf = Browser::csrf(&uma.get("/iam/users/zed").await);
    let refused = uma
        .post("/iam/users/zed/delete", &[("csrf", csrf.as_str()), ("confirm", "zed")])
        .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused
            .body
            .contains("nothing was removed: your permissions do not allow iam:RemoveUserFromGroup on group locked"),
        "{}",
        refused.body
    );
    // The password is still there: nothing irreversible happened.
    iam.get_login_profile().user_name("zed").send().await.unwrap();
}

#[tokio::test]
async fn identity_providers_are_added_listed_and_deleted_and_the_credential_report_downloads() {
    let coffer = start_with(&[]);
    let (mut browser, account) = root_browser(&coffer).await;
    let page = browser.get("/iam/identity-providers").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("No identity providers."));
    let csrf = Browser::csrf(&page);
    let added = browser
        .post(
            "/iam/identity-providers",
            &[
                ("csrf", &csrf),
                ("change", "add"),
                ("url", "https://ci.example.com"),
                ("audience", "sts.amazonaws.com"),
            ],
        )
        .await;
    assert_eq!(added.location.as_deref(), Some("/iam/identity-providers"));
    let page = browser.get("/iam/identity-providers").await;
    assert!(page.body.contains("ci.example.com") && page.body.contains("sts.amazonaws.com"));
    let listed = coffer.root_iam().list_open_id_connect_providers().send().await.unwrap();
    assert_eq!(listed.open_id_connect_provider_list().len(), 1);
    // IAM's own refusal is said on the form.
    let refused = browser
        .post(
            "/iam/identity-providers",
            &[
                ("csrf", &csrf),
                ("change", "add"),
                ("url", "http://plain.example.com"),
                ("audience", "x"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(unescape(&refused.body).contains("must begin with https://"));
    let arn = format!("arn:aws:iam::{account}:oidc-provider/ci.example.com");
    let deleted = browser
        .post(
            "/iam/identity-providers",
            &[("csrf", &csrf), ("change", "delete"), ("arn", &arn)],
        )
        .await;
    assert_eq!(deleted.status, 303);
    let listed = coffer.root_iam().list_open_id_connect_providers().send().await.unwrap();
    assert!(listed.open_id_connect_provider_list().is_empty());

    // The credential report, as a CSV download.
    let report = browser.post("/iam/credential-report", &[("csrf", &csrf)]).await;
    assert_eq!(report.status, 200);
    assert!(
        report.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("credential_report.csv")
    );
    assert!(report.body.starts_with("user,arn,user_creation_time,"));
    assert!(
        report
            .body
            .contains(&format!("<root_account>,arn:aws:iam::{account}:root,"))
    );
}

#[tokio::test]
async fn a_roles_permissions_and_trust_are_changed_on_its_page() {
    let coffer = start_with(&[]);
    let (mut browser, account) = root_browser(&coffer).await;
    let iam = coffer.root_iam();
    iam.create_open_id_connect_provider()
        .url("https://ci.example.com")
        .client_id_list("sts.amazonaws.com")
        .send()
        .await
        .unwrap();
    let page = browser.get("/iam/roles").await;
    let csrf = Browser::csrf(&page);
    // A role trusting a web identity provider, as the console writes it.
    let created = browser
        .post(
            "/iam/roles",
            &[
                ("csrf", &csrf),
                ("name", "ci"),
                ("entity", "web-identity"),
                ("trusted_account", ""),
                ("provider", "https://ci.example.com"),
                ("audience", "sts.amazonaws.com"),
                ("policy", ""),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let role = iam.get_role().role_name("ci").send().await.unwrap();
    let trust = role.role().unwrap().assume_role_policy_document().unwrap().to_owned();
    assert!(
        trust.contains("oidc-provider") && trust.contains("AssumeRoleWithWebIdentity"),
        "{trust}"
    );

    let page = browser.get("/iam/roles/ci").await;
    assert_eq!(page.status, 200);
    assert!(unescape(&page.body).contains(&format!("arn:aws:iam::{account}:oidc-provider/ci.example.com")));
    let arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
    let attached = browser
        .post(
            "/iam/roles/ci",
            &[("csrf", &csrf), ("change", "attach"), ("value", arn)],
        )
        .await;
    assert_eq!(attached.status, 303);
    let listed = iam.list_attached_role_policies().role_name("ci").send().await.unwrap();
    assert_eq!(listed.attached_policies()[0].policy_arn(), Some(arn));
    // A trust policy IAM refuses is said on the page; a good one is kept.
    let refused = browser
        .post(
            "/iam/roles/ci",
            &[("csrf", &csrf), ("change", "trust"), ("value", r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject"}}"#)],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(unescape(&refused.body).contains("AssumeRole policy may only specify STS AssumeRole actions"));
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}}}"#
    );
    let kept = browser
        .post(
            "/iam/roles/ci",
            &[("csrf", &csrf), ("change", "trust"), ("value", &trust)],
        )
        .await;
    assert_eq!(kept.status, 303);
    let role = iam.get_role().role_name("ci").send().await.unwrap();
    assert!(
        !role
            .role()
            .unwrap()
            .assume_role_policy_document()
            .unwrap()
            .contains("oidc")
    );
    // Deleting needs the policy detached first, as IAM says.
    let refused = browser
        .post("/iam/roles/ci", &[("csrf", &csrf), ("change", "delete")])
        .await;
    assert_eq!(refused.status, 400);
    assert!(unescape(&refused.body).contains("must detach all policies first"));
    browser
        .post(
            "/iam/roles/ci",
            &[("csrf", &csrf), ("change", "detach"), ("value", arn)],
        )
        .await;
    let deleted = browser
        .post("/iam/roles/ci", &[("csrf", &csrf), ("change", "delete")])
        .await;
    assert_eq!(deleted.location.as_deref(), Some("/iam/roles"));
    assert_eq!(
        code(&iam.get_role().role_name("ci").send().await.unwrap_err()),
        "NoSuchEntity"
    );
}
